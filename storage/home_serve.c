/*
 * home_serve.c - what a running daemon keeps in its home (home.h): the
 * Noise static key, HOME/noise.key, and the serve lock, HOME/serve.lock.
 *
 * The lock is flock(2) on the file, which the kernel drops when the daemon's
 * descriptor closes, so a crashed daemon never leaves a stale lock behind;
 * the file's content (one line) only says where the daemon listens.
 */
#include "home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "home_file.h"

#define NOISE_FILE      "noise.key"
#define LOCK_FILE       "serve.lock"
#define NOISE_KEY_BYTES 32
#define INFO_MAX        512

/* How often, and how far apart, taking the lock is retried: a process that
 * asks mu_home_serve_running() holds a shared lock for an instant, which
 * must not read as a running daemon. */
#define LOCK_TRIES    20
#define LOCK_RETRY_NS 10000000L

/* A new key file: never one in place of another. */
static int
create_noise_key(const char *path, uint8_t *secret, struct mu_why *why)
{
	int err;

	randombytes_buf(secret, NOISE_KEY_BYTES);
	err = mu_home__create_key(path, secret, NOISE_KEY_BYTES, why);
	if (err != 0)
		sodium_memzero(secret, NOISE_KEY_BYTES);
	return err;
}

static int
read_noise_key(const char *path, uint8_t *secret, struct mu_why *why)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return MU_ENOTFOUND;
	if (fd < 0)
		return mu_fail(why, errno == EACCES ? MU_EPERM : MU_EIO,
		               "cannot open the key file %s: %s", path,
		               strerror(errno));
	err = mu_home__check_key(fd, path, NOISE_KEY_BYTES, true,
	                         "noise key; remove it to make a new one", why);
	if (err == 0)
		err = mu_home__read_key(fd, path, secret, NOISE_KEY_BYTES, why);
	close(fd);
	return err;
}

int
mu_home_noise_key(const struct mu_home *home, uint8_t *secret, struct mu_why *why)
{
	char *path = mu_home__join(home->dir, NOISE_FILE);
	int err;

	if (why != NULL)
		why->text[0] = '\0';
	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "reading the noise key: out of memory");
	if (sodium_init() < 0) {
		free(path);
		return mu_fail(why, MU_EIO, "libsodium could not be initialised");
	}
	err = read_noise_key(path, secret, why);
	if (err == MU_ENOTFOUND) {
		err = create_noise_key(path, secret, why);
		/* Another process made it first: use that one. */
		if (err == MU_EEXIST)
			err = read_noise_key(path, secret, why);
		if (err == MU_ENOTFOUND)
			err = mu_fail(why, MU_EIO, "the key file %s vanished", path);
	}
	free(path);
	return err;
}

/* The first line of the lock file into info (may be NULL). */
static void
read_info(int fd, char *info, size_t cap)
{
	char buf[INFO_MAX];
	ssize_t got;
	size_t n;

	if (info == NULL || cap == 0)
		return;
	info[0] = '\0';
	got = mu_home__read_from_start(fd, buf, sizeof(buf) - 1);
	if (got <= 0)
		return;
	buf[got] = '\0';
	n = strcspn(buf, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(info, buf, n);
	info[n] = '\0';
}

static int
lock_nb(int fd, int op)
{
	int rc;

	while ((rc = flock(fd, op | LOCK_NB)) != 0 && errno == EINTR)
		;
	return rc;
}

int
mu_home_lock_serve(const struct mu_home *home, const char *info, int *fd,
                   struct mu_why *why)
{
	struct timespec pause = {0, LOCK_RETRY_NS};
	char *path = mu_home__join(home->dir, LOCK_FILE);
	char other[INFO_MAX];
	int lfd = -1, err = 0, rc = -1;

	*fd = -1;
	if (why != NULL)
		why->text[0] = '\0';
	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "taking the serve lock: out of memory");
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0) {
		err =
		    mu_fail(why, errno == EACCES ? MU_EPERM : MU_EIO,
		            "cannot open the lock file %s: %s", path, strerror(errno));
		goto out;
	}
	for (int i = 0; i < LOCK_TRIES; i++) {
		rc = lock_nb(lfd, LOCK_EX);
		if (rc == 0 || errno != EWOULDBLOCK)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc != 0 && errno == EWOULDBLOCK) {
		read_info(lfd, other, sizeof(other));
		err = mu_fail(why, MU_EBUSY,
		              "muster serve already runs on the home %s%s%s: stop it "
		              "first, or use another home",
		              home->dir, other[0] != '\0' ? ", listening on " : "",
		              other);
		goto out;
	}
	if (rc != 0) {
		err = mu_fail(why, MU_EIO, "cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (ftruncate(lfd, 0) != 0 ||
	    (info != NULL && (mu_home__write_all(lfd, info, strlen(info)) != 0 ||
	                      mu_home__write_all(lfd, "\n", 1) != 0))) {
		err = mu_fail(why, MU_EIO, "cannot write the lock file %s: %s", path,
		              strerror(errno));
		goto out;
	}
	*fd = lfd;
	lfd = -1;
	mu_home__clean_restores(home->dir);
out:
	if (lfd >= 0)
		close(lfd);
	free(path);
	return err;
}

void
mu_home_unlock_serve(const struct mu_home *home, int fd)
{
	(void)home;
	if (fd < 0)
		return;
	/* Emptied while still held, so no reader sees a stale address. */
	if (ftruncate(fd, 0) != 0) {
		/* Nothing to do: the lock goes with the descriptor anyway. */
	}
	close(fd);
}

int
mu_home_serve_running(const struct mu_home *home, char *info, size_t cap)
{
	char *path = mu_home__join(home->dir, LOCK_FILE);
	int fd, running;

	if (info != NULL && cap > 0)
		info[0] = '\0';
	if (path == NULL)
		return MU_ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : MU_EIO;
	/* A shared lock is refused only while a daemon holds the exclusive
	 * one; when granted it is dropped at once. */
	if (lock_nb(fd, LOCK_SH) == 0) {
		running = 0;
	} else if (errno == EWOULDBLOCK) {
		running = 1;
		read_info(fd, info, cap);
	} else {
		running = MU_EIO;
	}
	close(fd);
	return running;
}
