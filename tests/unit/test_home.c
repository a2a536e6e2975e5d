/*
 * A node's home: the key file is created once and never overwritten, a key
 * file others can read is refused with the fix, and the secret loaded back
 * is the one whose public key the home reported. The noise key follows the
 * same rules; the serve lock admits one daemon per home, across processes.
 * A home rebuilt around a saved key gets that key, and never replaces
 * another key or a store.
 */
/* nftw(), to remove the test's directory. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/home.h"
#include "storage/store.h"

#include "rm_tree.h"

struct fx {
	char tmp[64];
	char home[128]; /* tmp/a/b/home: parents that do not exist yet */
	char key[160];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	strcpy(fx->tmp, "/tmp/mu-home-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	snprintf(fx->home, sizeof(fx->home), "%s/a/b/home", fx->tmp);
	snprintf(fx->key, sizeof(fx->key), "%s/group.key", fx->home);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	rm_tree(fx->tmp);
	free(fx);
	return 0;
}

static void
create(struct fx *fx, uint8_t group[MU_KEY_BYTES])
{
	struct mu_why why = {0};

	if (mu_home_create(fx->home, group, &why) != 0)
		fail_msg("create: %s", why.text);
}

static void
write_key(const char *path, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

static void
test_create_open(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES], zero[MU_KEY_BYTES] = {0}, pk[MU_KEY_BYTES];
	uint8_t sig[crypto_sign_BYTES];
	struct mu_home *home = NULL;
	struct mu_store *st = NULL;
	struct mu_why why = {0};
	struct stat sb;
	char *sdir;
	uint64_t n = 1;

	create(fx, group);
	assert_memory_not_equal(group, zero, MU_KEY_BYTES);

	assert_int_equal(stat(fx->home, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	assert_int_equal(stat(fx->key, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);

	assert_int_equal(mu_home_open(&home, fx->home, true, &why), 0);
	assert_string_equal(home->dir, fx->home);
	assert_memory_equal(home->group, group, MU_KEY_BYTES);
	assert_non_null(home->secret);
	/* The secret is the group's: it derives the same key and signs. */
	crypto_sign_ed25519_sk_to_pk(pk, home->secret);
	assert_memory_equal(pk, group, MU_KEY_BYTES);
	crypto_sign_detached(sig, NULL, (const uint8_t *)"hello", 5, home->secret);
	assert_int_equal(
	    crypto_sign_verify_detached(sig, (const uint8_t *)"hello", 5, group), 0);

	/* The store exists and is empty. */
	sdir = mu_home_store_dir(home);
	assert_non_null(sdir);
	assert_int_equal(strncmp(sdir, fx->home, strlen(fx->home)), 0);
	assert_string_equal(sdir + strlen(fx->home), "/store");
	assert_int_equal(mu_store_open(&st, sdir, NULL, &why), 0);
	assert_int_equal(mu_store_count(st, &n), 0);
	assert_int_equal(n, 0);
	mu_store_close(st);
	free(sdir);
	mu_home_close(home);

	/* Without the secret: same public key, nothing secret kept. */
	assert_int_equal(mu_home_open(&home, fx->home, false, &why), 0);
	assert_memory_equal(home->group, group, MU_KEY_BYTES);
	assert_null(home->secret);
	mu_home_close(home);
	mu_home_close(NULL);
}

static void
test_no_overwrite(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES], again[MU_KEY_BYTES] = {0},
	                             zero[MU_KEY_BYTES] = {0};
	struct mu_home *home = NULL;
	struct mu_why why = {0};

	create(fx, group);
	assert_int_equal(mu_home_create(fx->home, again, &why), MU_EEXIST);
	assert_non_null(strstr(why.text, "group.key"));
	assert_memory_equal(again, zero, MU_KEY_BYTES);
	/* The first key is still there, untouched. */
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), 0);
	assert_memory_equal(home->group, group, MU_KEY_BYTES);
	mu_home_close(home);
}

static void
test_mode(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES];
	struct mu_home *home = NULL;
	struct mu_why why = {0};
	char want[512];

	create(fx, group);
	assert_int_equal(chmod(fx->key, 0644), 0);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), MU_EPERM);
	assert_null(home);
	snprintf(want, sizeof(want),
	         "key file %s is readable by others (mode 0644): "
	         "run chmod 600 %s",
	         fx->key, fx->key);
	assert_string_equal(why.text, want);

	assert_int_equal(chmod(fx->key, 0620), 0);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), MU_EPERM);
	assert_non_null(strstr(why.text, "writable by others (mode 0620)"));
	assert_non_null(strstr(why.text, "chmod 600"));

	/* Only the public key is wanted: the mode does not matter (home.h). */
	assert_int_equal(mu_home_open(&home, fx->home, false, &why), 0);
	assert_memory_equal(home->group, group, MU_KEY_BYTES);
	mu_home_close(home);

	assert_int_equal(chmod(fx->key, 0600), 0);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), 0);
	mu_home_close(home);
}

static void
test_bad_key(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES], bytes[33] = {0};
	struct mu_home *home = NULL;
	struct mu_why why = {0};

	create(fx, group);
	write_key(fx->key, bytes, 31);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), MU_ECORRUPT);
	assert_non_null(strstr(why.text, "31 bytes, not 32"));
	assert_null(home);
	write_key(fx->key, bytes, 33);
	assert_int_equal(mu_home_open(&home, fx->home, false, &why), MU_ECORRUPT);
	write_key(fx->key, bytes, 0);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), MU_ECORRUPT);

	/* A different seed is a different group. */
	bytes[0] = 1;
	write_key(fx->key, bytes, 32);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), 0);
	assert_memory_not_equal(home->group, group, MU_KEY_BYTES);
	mu_home_close(home);
}

static void
test_missing(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES];
	struct mu_home *home = NULL;
	struct mu_why why = {0};
	char file[160];
	FILE *f;

	assert_int_equal(mu_home_open(&home, fx->home, true, &why), MU_ENOTFOUND);
	assert_null(home);
	assert_int_equal(mu_home_open(&home, fx->tmp, false, &why), MU_ENOTFOUND);
	assert_non_null(strstr(why.text, "no muster home"));

	/* A file where the home should be. */
	snprintf(file, sizeof(file), "%s/file", fx->tmp);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(mu_home_create(file, group, &why), MU_EIO);
	assert_non_null(strstr(why.text, "not a directory"));

	/* An existing empty directory is fine. */
	assert_int_equal(mu_home_create(fx->tmp, group, &why), 0);
}

static void
test_noise_key(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES], seed[32];
	uint8_t *a = sodium_malloc(32), *b = sodium_malloc(32);
	struct mu_home *home = NULL;
	struct mu_why why = {0};
	char path[192];
	struct stat sb;
	FILE *f;

	assert_non_null(a);
	assert_non_null(b);
	create(fx, group);
	assert_int_equal(mu_home_open(&home, fx->home, false, &why), 0);
	snprintf(path, sizeof(path), "%s/noise.key", fx->home);
	assert_int_equal(stat(path, &sb), -1);

	/* Made on first use, 0600, then read back the same. */
	assert_int_equal(mu_home_noise_key(home, a, &why), 0);
	assert_string_equal(why.text, "");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, 32);
	assert_int_equal(mu_home_noise_key(home, b, &why), 0);
	assert_memory_equal(a, b, 32);
	/* It is not the group key's seed. */
	f = fopen(fx->key, "rb");
	assert_non_null(f);
	assert_int_equal(fread(seed, 1, sizeof(seed), f), sizeof(seed));
	fclose(f);
	assert_memory_not_equal(a, seed, 32);

	/* Readable by others: refused with the fix, like group.key. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(mu_home_noise_key(home, b, &why), MU_EPERM);
	assert_non_null(strstr(why.text, "readable by others (mode 0640)"));
	assert_non_null(strstr(why.text, "chmod 600"));
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(mu_home_noise_key(home, b, &why), MU_EPERM);
	assert_non_null(strstr(why.text, "writable by others"));
	assert_int_equal(chmod(path, 0600), 0);

	write_key(path, seed, 31);
	assert_int_equal(mu_home_noise_key(home, b, &why), MU_ECORRUPT);
	assert_non_null(strstr(why.text, "31 bytes, not 32"));
	/* Never replaced: a damaged key file stays until the user acts. */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 31);

	mu_home_close(home);
	sodium_free(a);
	sodium_free(b);
}

/* Takes the serve lock in a child process, which holds it until told to
 * exit (without unlocking, as a crash would). */
static pid_t
child_lock(struct fx *fx, int *release)
{
	int up[2], down[2];
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mu_home *home = NULL;
		struct mu_why why = {0};
		int fd = -1;

		close(up[0]);
		close(down[1]);
		if (mu_home_open(&home, fx->home, false, &why) != 0 ||
		    mu_home_lock_serve(home, "[::1]:9999", &fd, &why) != 0)
			_exit(1);
		c = 'L';
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		if (read(down[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(c, 'L');
	close(up[0]);
	*release = down[1];
	return pid;
}

static void
test_serve_lock(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES];
	struct mu_home *home = NULL;
	struct mu_why why = {0};
	char info[64], small[6];
	int fd = -1, fd2 = -1, release, status;
	pid_t pid;

	create(fx, group);
	assert_int_equal(mu_home_open(&home, fx->home, false, &why), 0);
	strcpy(info, "stale");
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 0);
	assert_string_equal(info, "");

	assert_int_equal(mu_home_lock_serve(home, "127.0.0.1:7412", &fd, &why), 0);
	assert_true(fd >= 0);
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 1);
	assert_string_equal(info, "127.0.0.1:7412");
	assert_int_equal(mu_home_serve_running(home, small, sizeof(small)), 1);
	assert_string_equal(small, "127.0");
	assert_int_equal(mu_home_serve_running(home, NULL, 0), 1);
	/* flock belongs to the open file: a second open conflicts even in
	 * this process. */
	assert_int_equal(mu_home_lock_serve(home, "127.0.0.1:7413", &fd2, &why),
	                 MU_EBUSY);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(why.text, "already runs"));
	assert_non_null(strstr(why.text, "listening on 127.0.0.1:7412"));
	/* The refused attempt did not touch the holder's line. */
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 1);
	assert_string_equal(info, "127.0.0.1:7412");

	mu_home_unlock_serve(home, fd);
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 0);
	assert_string_equal(info, "");

	/* Another process holds it. */
	pid = child_lock(fx, &release);
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 1);
	assert_string_equal(info, "[::1]:9999");
	assert_int_equal(mu_home_lock_serve(home, "127.0.0.1:7412", &fd, &why),
	                 MU_EBUSY);
	assert_non_null(strstr(why.text, "[::1]:9999"));
	/* It dies without unlocking: the kernel drops the lock with it. */
	close(release);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 0);
	assert_int_equal(mu_home_lock_serve(home, "127.0.0.1:7412", &fd, &why), 0);
	assert_int_equal(mu_home_serve_running(home, info, sizeof(info)), 1);
	assert_string_equal(info, "127.0.0.1:7412");
	mu_home_unlock_serve(home, fd);
	mu_home_unlock_serve(home, -1);
	mu_home_close(home);
}

/* A home rebuilt around a saved key: new, in place of a lost store, and
 * never over another key or a store. */
static void
test_restore_key(void **state)
{
	struct fx *fx = *state;
	uint8_t group[MU_KEY_BYTES], got[MU_KEY_BYTES], *seed, *other;
	char saved[200], sdir[200], data[220];
	struct mu_home *home = NULL;
	struct mu_why why = {0};
	struct stat sb;

	seed = sodium_malloc(MU_HOME_SEED_BYTES);
	other = sodium_malloc(MU_HOME_SEED_BYTES);
	assert_non_null(seed);
	assert_non_null(other);
	create(fx, group);
	assert_true(mu_home_has_store(fx->home));

	/* Saved elsewhere (mode 0644 is fine to read), read back. */
	snprintf(saved, sizeof(saved), "%s/saved.key", fx->tmp);
	assert_int_equal(mu_home_open(&home, fx->home, true, &why), 0);
	assert_int_equal(mu_home_write_seed(saved, home->secret, &why), 0);
	mu_home_close(home);
	assert_int_equal(stat(saved, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(mu_home_write_seed(saved, seed, &why), MU_EEXIST);
	assert_int_equal(chmod(saved, 0644), 0);
	assert_int_equal(mu_home_read_seed(saved, seed, &why), 0);

	/* A home with a store is never rebuilt. */
	assert_int_equal(mu_home_restore_key(fx->home, seed, got, &why), MU_EEXIST);
	assert_non_null(strstr(why.text, "store"));

	/* Its store lost: rebuilt in place, the key file kept. */
	snprintf(sdir, sizeof(sdir), "%s/store", fx->home);
	snprintf(data, sizeof(data), "%s/data.mdb", sdir);
	rm_tree(sdir);
	assert_false(mu_home_has_store(fx->home));
	assert_int_equal(mu_home_restore_key(fx->home, seed, got, &why), 0);
	assert_memory_equal(got, group, MU_KEY_BYTES);
	assert_true(mu_home_has_store(fx->home));
	assert_int_equal(stat(data, &sb), 0);

	/* Into a new home: the same group. */
	snprintf(sdir, sizeof(sdir), "%s/new", fx->tmp);
	memset(got, 0, sizeof(got));
	assert_int_equal(mu_home_restore_key(sdir, seed, got, &why), 0);
	assert_memory_equal(got, group, MU_KEY_BYTES);
	assert_int_equal(mu_home_open(&home, sdir, true, &why), 0);
	assert_memory_equal(home->secret, seed, MU_HOME_SEED_BYTES);
	mu_home_close(home);

	/* A key-only home of another group keeps its key. */
	rm_tree(fx->home);
	randombytes_buf(other, MU_HOME_SEED_BYTES);
	assert_int_equal(mkdir(fx->home, 0700), 0);
	assert_int_equal(mu_home_write_seed(fx->key, other, &why), 0);
	assert_int_equal(mu_home_restore_key(fx->home, seed, got, &why), MU_EEXIST);
	assert_non_null(strstr(why.text, "another group key"));
	assert_false(mu_home_has_store(fx->home));
	assert_int_equal(mu_home_read_seed(fx->key, seed, &why), 0);
	assert_memory_equal(seed, other, MU_HOME_SEED_BYTES);

	/* Not a key file. */
	snprintf(data, sizeof(data), "%s/store/data.mdb", sdir);
	assert_int_equal(mu_home_read_seed(data, seed, &why), MU_ECORRUPT);
	assert_int_equal(mu_home_read_seed("/nonexistent/key", seed, &why),
	                 MU_ENOTFOUND);
	sodium_free(seed);
	sodium_free(other);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(test_create_open), T_(test_no_overwrite), T_(test_mode),
	    T_(test_bad_key),     T_(test_missing),      T_(test_noise_key),
	    T_(test_serve_lock),  T_(test_restore_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
