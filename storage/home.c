/*
 * home.c - a node's home directory: the group key file and the store
 * (the other keys: home_keys.c).
 *
 * The key file holds the raw 32-byte Ed25519 seed. It is created with
 * O_EXCL on its final name, never renamed into place, so that no path can
 * replace an existing key; the seed and the secret key derived from it live
 * only in sodium_malloc() memory, which sodium_free() wipes.
 *
 * Both entry points call sodium_init(), which is idempotent, so callers
 * need not.
 */
#include "home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "home_file.h"
#include "store.h"

#define KEY_FILE   "group.key"
#define STORE_DIR  "store"
#define SEED_BYTES 32

_Static_assert(SEED_BYTES == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(SEED_BYTES == MU_HOME_SEED_BYTES, "seed size");
_Static_assert(MU_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "secret key size");
_Static_assert(MU_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "public key size");

char *
mu_home__join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int
mu_home__make_dirs(const char *dir, struct mu_why *why)
{
	struct stat sb;
	char *path = strdup(dir);
	int err = 0;

	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "creating %s: out of memory", dir);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/' || p[1] == '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			err = mu_fail(why, MU_EIO, "cannot create directory %s: %s",
			              path, strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		err = mu_fail(why, MU_EIO, "cannot create directory %s: %s", dir,
		              strerror(errno));
	else if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		err = mu_fail(why, MU_EIO,
		              "%s exists and is not a directory: choose "
		              "another home",
		              dir);
out:
	free(path);
	return err;
}

int
mu_home__write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
mu_home__read_from_start(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
mu_home__check_key(int fd, const char *path, size_t size, bool owner_only,
                   const char *what, struct mu_why *why)
{
	struct stat sb;
	unsigned mode;

	if (fstat(fd, &sb) != 0)
		return mu_fail(why, MU_EIO, "cannot stat the key file %s: %s", path,
		               strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return mu_fail(why, MU_EFORMAT, "the key file %s is not a regular file",
		               path);
	mode = (unsigned)sb.st_mode & 07777;
	if (owner_only && (mode & 077) != 0)
		return mu_fail(
		    why, MU_EPERM,
		    "key file %s is %s by others (mode %04o): run chmod 600 %s", path,
		    (mode & 044) != 0 ? "readable" : "writable", mode, path);
	if (sb.st_size != (off_t)size)
		return mu_fail(
		    why, MU_ECORRUPT,
		    "key file %s is %lld bytes, not %zu: it is not a muster %s", path,
		    (long long)sb.st_size, size, what);
	return 0;
}

int
mu_home__read_key(int fd, const char *path, uint8_t *buf, size_t n, struct mu_why *why)
{
	ssize_t got = mu_home__read_from_start(fd, buf, n);
	int err = 0;

	if (got < 0)
		err = mu_fail(why, MU_EIO, "cannot read the key file %s: %s", path,
		              strerror(errno));
	else if ((size_t)got != n)
		err =
		    mu_fail(why, MU_ECORRUPT,
		            "cannot read the key file %s: it is shorter than %zu bytes",
		            path, n);
	if (err != 0)
		sodium_memzero(buf, n);
	return err;
}

bool
mu_home_has_store(const char *dir)
{
	char *path = mu_home__join(dir, STORE_DIR "/data.mdb");
	struct stat sb;
	bool has;

	/* Out of memory: say there is one, which only makes a caller refuse. */
	if (path == NULL)
		return true;
	has = stat(path, &sb) == 0;
	free(path);
	return has;
}

/*
 * The key file holds the key we restore already (a home whose store was
 * lost): 1 when it does, 0 when it holds another key, or an error.
 */
static int
holds_key(const char *kpath, const uint8_t *want, struct mu_why *why)
{
	uint8_t *seed = sodium_malloc(SEED_BYTES);
	int err;

	if (seed == NULL)
		return mu_fail(why, MU_ENOMEM, "reading the group key: out of memory");
	err = mu_home__read_key_file(kpath, seed, SEED_BYTES, "group key", why);
	if (err == 0)
		err = sodium_memcmp(seed, want, SEED_BYTES) == 0 ? 1 : 0;
	sodium_free(seed);
	return err;
}

int
mu_home__create_key(const char *path, const uint8_t *buf, size_t n, struct mu_why *why)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), err = 0;

	if (fd < 0 && errno == EEXIST)
		return MU_EEXIST;
	if (fd < 0)
		return mu_fail(why, MU_EIO, "cannot create the key file %s: %s", path,
		               strerror(errno));
	if (mu_home__write_all(fd, buf, n) != 0 || fsync(fd) != 0)
		err =
		    mu_fail(why, errno == ENOSPC ? MU_EFULL : MU_EIO,
		            "cannot write the key file %s: %s", path, strerror(errno));
	if (close(fd) != 0 && err == 0)
		err = mu_fail(why, MU_EIO, "cannot write the key file %s: %s", path,
		              strerror(errno));
	if (err != 0)
		unlink(path);
	return err;
}

int
mu_home_write_seed(const char *path, const uint8_t *seed, struct mu_why *why)
{
	char *dir, *slash;
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	err = mu_home__create_key(path, seed, SEED_BYTES, why);
	if (err == MU_EEXIST)
		return mu_fail(why, MU_EEXIST,
		               "%s exists already: a key file is never replaced; "
		               "choose another name",
		               path);
	if (err != 0)
		return err;
	dir = strdup(path);
	if (dir == NULL)
		return 0; /* written and synced; only the directory entry waits */
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	(void)mu_home__sync_dir(slash != NULL ? dir : ".");
	free(dir);
	return 0;
}

static int
create(const char *dir, const uint8_t *restore, uint8_t group[MU_KEY_BYTES],
       struct mu_why *why)
{
	char *kpath = NULL, *sdir = NULL;
	uint8_t *seed = NULL, *sk = NULL;
	uint8_t pk[MU_KEY_BYTES];
	bool created = false;
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	if (sodium_init() < 0)
		return mu_fail(why, MU_EIO, "libsodium could not be initialised");
	kpath = mu_home__join(dir, KEY_FILE);
	sdir = mu_home__join(dir, STORE_DIR);
	seed = sodium_malloc(SEED_BYTES);
	sk = sodium_malloc(MU_SECRET_BYTES);
	if (kpath == NULL || sdir == NULL || seed == NULL || sk == NULL) {
		err = mu_fail(why, MU_ENOMEM, "creating the home: out of memory");
		goto out;
	}
	err = mu_home__make_dirs(dir, why);
	if (err != 0)
		goto out;
	err = mu_home__check_no_pub(dir, why);
	if (err != 0)
		goto out;
	if (restore != NULL && mu_home_has_store(dir)) {
		err = mu_fail(why, MU_EEXIST,
		              "%s is a home with a store already: restore the key "
		              "into another home (--home DIR)",
		              dir);
		goto out;
	}
	if (restore != NULL)
		memcpy(seed, restore, SEED_BYTES);
	else
		randombytes_buf(seed, SEED_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);

	err = mu_home__create_key(kpath, seed, SEED_BYTES, why);
	if (err == 0) {
		created = true;
		if (mu_home__sync_dir(dir) != 0)
			err = mu_fail(why, MU_EIO, "cannot sync %s: %s", dir,
			              strerror(errno));
	} else if (err == MU_EEXIST && restore != NULL) {
		/* The home's own key, its store lost: keep the file as it is. */
		err = holds_key(kpath, seed, why);
		if (err == 0)
			err = mu_fail(why, MU_EEXIST,
			              "%s holds another group key (%s): it is never "
			              "replaced; restore into another home (--home "
			              "DIR)",
			              dir, kpath);
		else if (err == 1)
			err = 0;
	} else if (err == MU_EEXIST) {
		err = mu_fail(why, MU_EEXIST,
		              "%s already holds a group key (%s): it is never "
		              "replaced; choose another home to start a new group",
		              dir, kpath);
	}
	if (err != 0)
		goto out;
	err = mu_home__make_store(sdir, why);
	if (err != 0)
		goto out;
	memcpy(group, pk, MU_KEY_BYTES);
out:
	/* A home that is not complete is no home: drop the key we wrote, so
	 * a retry can create one (nothing was ever signed with a new key, and
	 * a restored one is still where it came from). */
	if (err != 0 && created)
		unlink(kpath);
	sodium_free(seed);
	sodium_free(sk);
	free(kpath);
	free(sdir);
	return err;
}

int
mu_home_read_seed(const char *path, uint8_t *seed, struct mu_why *why)
{
	int fd, err;

	if (why != NULL)
		why->text[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mu_fail(why, errno == ENOENT ? MU_ENOTFOUND : MU_EIO,
		               "cannot open the key file %s: %s", path,
		               strerror(errno));
	/* Any mode: a copy kept on a stick may have the file system's. The
	 * home's own key file is written 0600 whatever it came from. */
	err = mu_home__check_key(fd, path, SEED_BYTES, false, "group key", why);
	if (err == 0)
		err = mu_home__read_key(fd, path, seed, SEED_BYTES, why);
	close(fd);
	return err;
}

int
mu_home_create(const char *dir, uint8_t group[MU_KEY_BYTES], struct mu_why *why)
{
	return create(dir, NULL, group, why);
}

int
mu_home_restore_key(const char *dir, const uint8_t *seed, uint8_t group[MU_KEY_BYTES],
                    struct mu_why *why)
{
	return create(dir, seed, group, why);
}

int
mu_home_open(struct mu_home **out, const char *dir, bool load_secret,
             struct mu_why *why)
{
	struct mu_home *home = NULL;
	uint8_t *seed = NULL, *sk = NULL;
	char *kpath = NULL;
	int fd = -1, err = 0;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if (sodium_init() < 0)
		return mu_fail(why, MU_EIO, "libsodium could not be initialised");
	kpath = mu_home__join(dir, KEY_FILE);
	home = calloc(1, sizeof(*home));
	if (kpath == NULL || home == NULL || (home->dir = strdup(dir)) == NULL) {
		err = mu_fail(why, MU_ENOMEM, "opening the home: out of memory");
		goto out;
	}

	fd = open(kpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* A home whose root key is elsewhere. */
		err = mu_home__read_pub(home, why);
		if (err == 0)
			goto organizer;
		if (err != MU_ENOTFOUND)
			goto out;
		errno = ENOENT;
	}
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		err = mu_fail(why, MU_ENOTFOUND,
		              "no muster home at %s (no %s): create one with "
		              "`muster init`",
		              dir, KEY_FILE);
		goto out;
	}
	if (fd < 0) {
		err =
		    mu_fail(why, errno == EACCES ? MU_EPERM : MU_EIO,
		            "cannot open the key file %s: %s", kpath, strerror(errno));
		goto out;
	}
	err = mu_home__check_key(fd, kpath, SEED_BYTES, load_secret, "group key", why);
	if (err != 0)
		goto out;

	seed = sodium_malloc(SEED_BYTES);
	sk = sodium_malloc(MU_SECRET_BYTES);
	if (seed == NULL || sk == NULL) {
		err = mu_fail(why, MU_ENOMEM, "reading the group key: out of memory");
		goto out;
	}
	err = mu_home__read_key(fd, kpath, seed, SEED_BYTES, why);
	if (err != 0)
		goto out;
	crypto_sign_seed_keypair(home->group, sk, seed);
	if (load_secret) {
		/* Read-only until someone means to change it: a stray write
		 * through a bad pointer faults instead of corrupting the key. */
		sodium_mprotect_readonly(sk);
		home->secret = sk;
		sk = NULL;
	}
	home->has_root = true;
organizer:
	err = mu_home__load_organizer(home, load_secret, why);
	if (err != 0)
		goto out;
	*out = home;
	home = NULL;
out:
	if (fd >= 0)
		close(fd);
	sodium_free(seed);
	sodium_free(sk);
	free(kpath);
	mu_home_close(home);
	return err;
}

void
mu_home_close(struct mu_home *home)
{
	if (home == NULL)
		return;
	/* sodium_free() makes the pages writable, zeroes and unmaps them. */
	sodium_free(home->secret);
	sodium_free(home->org_secret);
	free(home->dir);
	free(home);
}

void
mu_home_forget_secret(struct mu_home *home)
{
	sodium_free(home->secret);
	home->secret = NULL;
	sodium_free(home->org_secret);
	home->org_secret = NULL;
}

char *
mu_home_store_dir(const struct mu_home *home)
{
	return mu_home__join(home->dir, STORE_DIR);
}
