/*
 * A node's home: the key file is created once and never overwritten, a key
 * file others can read is refused with the fix, and the secret loaded back
 * is the one whose public key the home reported.
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
#include <unistd.h>

#include "storage/home.h"
#include "storage/store.h"

struct fx {
	char tmp[64];
	char home[128]; /* tmp/a/b/home: parents that do not exist yet */
	char key[160];
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

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

	nftw(fx->tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void
create(struct fx *fx, uint8_t group[MU_KEY_BYTES])
{
	struct mu_why why = {{0}};

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
	struct mu_why why = {{0}};
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
	struct mu_why why = {{0}};

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
	struct mu_why why = {{0}};
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
	struct mu_why why = {{0}};

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
	struct mu_why why = {{0}};
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

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(test_create_open), T_(test_no_overwrite), T_(test_mode),
	    T_(test_bad_key),     T_(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
