/*
 * home_keys.c - the home's keys beside the root's (home.h): this home's
 * organizer key, the group's public key for a home without its root key,
 * and the root key moved out of the home or brought back from a file.
 *
 * Every key file is created with O_EXCL on its final name, never renamed
 * into place, so that no path can replace an existing key; seeds and the
 * secret keys derived from them live only in sodium_malloc() memory.
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

#define ROOT_FILE      "group.key"
#define PUB_FILE       "group.pub"
#define ORGANIZER_FILE "organizer.key"
#define STORE_DIR      "store"
#define SEED_BYTES     32

int
mu_home__sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
mu_home__make_store(const char *sdir, struct mu_why *why)
{
	struct mu_store *st = NULL;
	int err;

	if (mkdir(sdir, 0700) != 0 && errno != EEXIST)
		return mu_fail(why, MU_EIO, "cannot create directory %s: %s", sdir,
		               strerror(errno));
	err = mu_store_open(&st, sdir, NULL, why);
	mu_store_close(st);
	return err;
}

int
mu_home__create_key_file(const char *path, uint8_t *buf, size_t n, struct mu_why *why)
{
	int err;

	randombytes_buf(buf, n);
	err = mu_home__create_key(path, buf, n, why);
	if (err != 0)
		sodium_memzero(buf, n);
	return err;
}

/* Reads a key file; owner_only as mu_home__check_key() takes it. */
static int
read_file(const char *path, uint8_t *buf, size_t n, bool owner_only, const char *what,
          struct mu_why *why)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return MU_ENOTFOUND;
	if (fd < 0)
		return mu_fail(why, errno == EACCES ? MU_EPERM : MU_EIO,
		               "cannot open the key file %s: %s", path,
		               strerror(errno));
	err = mu_home__check_key(fd, path, n, owner_only, what, why);
	if (err == 0)
		err = mu_home__read_key(fd, path, buf, n, why);
	close(fd);
	return err;
}

int
mu_home__read_key_file(const char *path, uint8_t *buf, size_t n, const char *what,
                       struct mu_why *why)
{
	return read_file(path, buf, n, true, what, why);
}

int
mu_home__key_file(const char *path, uint8_t *buf, size_t n, const char *what,
                  struct mu_why *why)
{
	int err = mu_home__read_key_file(path, buf, n, what, why);

	if (err == MU_ENOTFOUND) {
		err = mu_home__create_key_file(path, buf, n, why);
		/* Another process made it first: use that one. */
		if (err == MU_EEXIST)
			err = mu_home__read_key_file(path, buf, n, what, why);
		if (err == MU_ENOTFOUND)
			err = mu_fail(why, MU_EIO, "the key file %s vanished", path);
	}
	return err;
}

int
mu_home__read_pub(struct mu_home *home, struct mu_why *why)
{
	char *path = mu_home__join(home->dir, PUB_FILE);
	int err;

	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "opening the home: out of memory");
	/* Public: any mode will do. */
	err =
	    read_file(path, home->group, MU_KEY_BYTES, false, "group public key", why);
	free(path);
	return err;
}

int
mu_home__check_no_pub(const char *dir, struct mu_why *why)
{
	char *path = mu_home__join(dir, PUB_FILE);
	int err = 0;

	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "creating the home: out of memory");
	if (access(path, F_OK) == 0)
		err = mu_fail(why, MU_EEXIST,
		              "%s is the home of a group already (%s): choose "
		              "another home to start a new group",
		              dir, path);
	free(path);
	return err;
}

/*
 * Derives the key pair of seed: the public key into pub, and the secret
 * into a new sodium_malloc() block at *secret (read-only) when secret is
 * not NULL.
 */
static int
derive(const uint8_t *seed, uint8_t pub[MU_KEY_BYTES], uint8_t **secret,
       struct mu_why *why)
{
	uint8_t *sk = sodium_malloc(MU_SECRET_BYTES);

	if (sk == NULL)
		return mu_fail(why, MU_ENOMEM, "reading a key: out of memory");
	crypto_sign_seed_keypair(pub, sk, seed);
	if (secret == NULL) {
		sodium_free(sk);
		return 0;
	}
	/* Read-only until someone means to change it: a stray write through
	 * a bad pointer faults instead of corrupting the key. */
	sodium_mprotect_readonly(sk);
	*secret = sk;
	return 0;
}

/* Reads (create false) or creates the organizer key into home. */
static int
organizer_key(struct mu_home *home, bool create, bool load_secret, struct mu_why *why)
{
	char *path = mu_home__join(home->dir, ORGANIZER_FILE);
	uint8_t *seed = sodium_malloc(SEED_BYTES);
	int err;

	if (path == NULL || seed == NULL) {
		err =
		    mu_fail(why, MU_ENOMEM, "reading the organizer key: out of memory");
		goto out;
	}
	if (create)
		err = mu_home__create_key_file(path, seed, SEED_BYTES, why);
	else
		err = mu_home__read_key_file(path, seed, SEED_BYTES, "organizer key",
		                             why);
	if (err == 0 && create)
		err = mu_home__sync_dir(home->dir) == 0
		          ? 0
		          : mu_fail(why, MU_EIO, "cannot sync %s: %s", home->dir,
		                    strerror(errno));
	if (err == 0)
		err = derive(seed, home->organizer,
		             load_secret ? &home->org_secret : NULL, why);
	home->has_organizer = err == 0;
out:
	sodium_free(seed);
	free(path);
	return err;
}

int
mu_home__load_organizer(struct mu_home *home, bool load_secret, struct mu_why *why)
{
	int err = organizer_key(home, false, load_secret, why);

	return err == MU_ENOTFOUND ? 0 : err;
}

int
mu_home_organizer_create(struct mu_home *home, struct mu_why *why)
{
	if (why != NULL)
		why->text[0] = '\0';
	if (home->has_organizer)
		return mu_fail(why, MU_EEXIST, "%s has an organizer key already",
		               home->dir);
	return organizer_key(home, true, true, why);
}

int
mu_home_join(const char *dir, const uint8_t group[MU_KEY_BYTES],
             uint8_t organizer[MU_KEY_BYTES], struct mu_why *why)
{
	struct mu_home home;
	char *root = NULL, *pub = NULL, *sdir = NULL;
	bool made_pub = false;
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	if (sodium_init() < 0)
		return mu_fail(why, MU_EIO, "libsodium could not be initialised");
	memset(&home, 0, sizeof(home));
	home.dir = (char *)dir;
	root = mu_home__join(dir, ROOT_FILE);
	pub = mu_home__join(dir, PUB_FILE);
	sdir = mu_home__join(dir, STORE_DIR);
	if (root == NULL || pub == NULL || sdir == NULL) {
		err = mu_fail(why, MU_ENOMEM, "creating the home: out of memory");
		goto out;
	}
	err = mu_home__make_dirs(dir, why);
	if (err != 0)
		goto out;
	if (access(root, F_OK) == 0) {
		err = mu_fail(why, MU_EEXIST, "%s holds a group key already (%s)", dir,
		              root);
		goto out;
	}
	err = mu_home__create_key(pub, group, MU_KEY_BYTES, why);
	if (err == MU_EEXIST)
		err = mu_fail(why, MU_EEXIST, "%s is the home of a group already (%s)",
		              dir, pub);
	if (err != 0)
		goto out;
	made_pub = true;
	err = organizer_key(&home, true, false, why);
	if (err == MU_EEXIST)
		err = mu_fail(why, MU_EEXIST, "%s holds an organizer key already", dir);
	if (err != 0)
		goto out;
	err = mu_home__make_store(sdir, why);
	if (err != 0)
		goto out;
	memcpy(organizer, home.organizer, MU_KEY_BYTES);
out:
	/* A home that is not complete is no home: a retry starts afresh
	 * (nothing was signed with the new organizer key). */
	if (err != 0 && made_pub) {
		char *org = mu_home__join(dir, ORGANIZER_FILE);

		if (home.has_organizer && org != NULL)
			unlink(org);
		unlink(pub);
		free(org);
	}
	free(root);
	free(pub);
	free(sdir);
	return err;
}

int
mu_home_load_root(struct mu_home *home, const char *path, struct mu_why *why)
{
	uint8_t *seed = sodium_malloc(SEED_BYTES), *sk = NULL;
	uint8_t pub[MU_KEY_BYTES];
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	if (seed == NULL)
		return mu_fail(why, MU_ENOMEM, "reading the root key: out of memory");
	/* Any mode: a copy kept on a stick may have the file system's. */
	err = read_file(path, seed, SEED_BYTES, false, "group key", why);
	if (err == MU_ENOTFOUND)
		err = mu_fail(why, MU_ENOTFOUND, "there is no file %s", path);
	if (err == 0)
		err = derive(seed, pub, &sk, why);
	if (err == 0 && memcmp(pub, home->group, MU_KEY_BYTES) != 0)
		err =
		    mu_fail(why, MU_EINVAL,
		            "%s holds the key of another group, not this home's", path);
	if (err == 0) {
		sodium_free(home->secret);
		home->secret = sk;
		sk = NULL;
	}
	sodium_free(sk);
	sodium_free(seed);
	return err;
}

int
mu_home_key_offline(struct mu_home *home, const char *path, struct mu_why *why)
{
	char *root = mu_home__join(home->dir, ROOT_FILE);
	char *pub = mu_home__join(home->dir, PUB_FILE);
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	if (root == NULL || pub == NULL) {
		err = mu_fail(why, MU_ENOMEM, "out of memory");
		goto out;
	}
	if (home->secret == NULL || !home->has_root) {
		err = mu_fail(why, MU_ENOTFOUND, "%s holds no root key", home->dir);
		goto out;
	}
	/* The seed is the first half of libsodium's secret key. */
	sodium_mprotect_readwrite(home->secret);
	err = mu_home__create_key(path, home->secret, SEED_BYTES, why);
	sodium_mprotect_readonly(home->secret);
	if (err == MU_EEXIST)
		err = mu_fail(why, MU_EEXIST,
		              "%s exists already: a key file is never replaced; "
		              "choose another name",
		              path);
	if (err != 0)
		goto out;
	err = mu_home__create_key(pub, home->group, MU_KEY_BYTES, why);
	if (err == MU_EEXIST) /* a home that was offline before */
		err = 0;
	if (err != 0)
		goto out;
	/* Only once both are written may the home's own copy go. */
	if (unlink(root) != 0 || mu_home__sync_dir(home->dir) != 0) {
		err =
		    mu_fail(why, MU_EIO, "cannot remove %s: %s", root, strerror(errno));
		goto out;
	}
	home->has_root = false;
out:
	free(root);
	free(pub);
	return err;
}
