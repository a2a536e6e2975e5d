/*
 * store_backup.c - `muster backup`: a hot copy of the store with LMDB's
 * compacting copy (store_check.h).
 *
 * mdb_env_copyfd2() copies from one read transaction, so the copy is one
 * consistent snapshot while a daemon keeps writing; MDB_CP_COMPACT leaves
 * out free pages and renumbers the rest, so the copy is as small as the data.
 * It is written next to its final name and renamed into place only once it
 * is on disk, so a crash or a full disk never leaves half a backup under the
 * name the user gave.
 *
 * A backup killed midway leaves its temp file, PATH.tmp-XXXXXX. The next
 * backup to PATH removes such files, but not the file of a backup to PATH
 * that runs now in another process: each backup holds an flock on its temp
 * file until it ends (the kernel drops it when the process dies), and only
 * an unlocked one is removed.
 */
#define _GNU_SOURCE /* mkostemp */

#include "store_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "place.h"
#include "store_keys.h"

static int
disk_err(int e, const char *path, const char *what, struct mu_why *why)
{
	if (e == ENOSPC
#ifdef EDQUOT
	    || e == EDQUOT
#endif
	)
		return mu_fail(why, MU_EFULL,
		               "the disk holding %s is full: free space there or "
		               "back up to another disk",
		               path);
	return mu_fail(why, MU_EIO, "%s %s: %s", what, path, strerror(e));
}

#define TMP_SUFFIX ".tmp-XXXXXX"

/* Whether name is base followed by a temp suffix. */
static bool
is_tmp_of(const char *name, const char *base, size_t blen)
{
	return strncmp(name, base, blen) == 0 &&
	       strncmp(name + blen, TMP_SUFFIX, 5) == 0 &&
	       strlen(name + blen) == sizeof(TMP_SUFFIX) - 1;
}

/* Removes the temp files that killed backups to path left: those that no
 * process holds locked. */
static void
clean_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	size_t dlen = slash != NULL ? (size_t)(slash - path) : 0;
	char *dir = slash == NULL ? strdup(".") : strndup(path, dlen > 0 ? dlen : 1);
	struct stat held, named;
	struct dirent *e;
	int dfd = -1, fd;
	DIR *d = NULL;

	if (dir == NULL || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dfd)) == NULL)
		goto out;
	dfd = -1;
	while ((e = readdir(d)) != NULL) {
		if (!is_tmp_of(e->d_name, base, strlen(base)))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* Locked: a backup is writing it. Unlocked but renamed or
		 * replaced meanwhile: not ours to judge. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
		    fstatat(dirfd(d), e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev)
			unlinkat(dirfd(d), e->d_name, 0);
		close(fd);
	}
out:
	if (d != NULL)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	free(dir);
}

/* Makes the temp file tmp (a mkstemp template), locked for as long as it is
 * open: a file that another backup's clean_stale() removed between its
 * creation and the lock is made again. */
static int
make_tmp(char *tmp, struct mu_why *why)
{
	size_t len = strlen(tmp);
	struct stat held, named;
	int fd;

	for (int i = 0; i < 8; i++) {
		memcpy(tmp + len - 6, "XXXXXX", 6);
		/* mkstemp() makes the file 0600: the records are not secret,
		 * but the peers table says whom this node talks to. */
		if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
			return disk_err(errno, tmp, "cannot create", why);
		if (flock(fd, LOCK_EX) == 0 && fstat(fd, &held) == 0 &&
		    stat(tmp, &named) == 0 && held.st_ino == named.st_ino &&
		    held.st_dev == named.st_dev)
			return fd;
		close(fd);
	}
	return mu_fail(why, MU_EIO,
	               "cannot create a temp file next to %s: it is "
	               "removed as soon as it is made",
	               tmp);
}

int
mu_store_backup(struct mu_store *st, const char *path, bool force, struct mu_why *why)
{
	char *tmp = NULL;
	int fd = -1, hold, err = 0, rc;
	size_t n;

	if (why != NULL)
		why->text[0] = '\0';
	if ((err = mu_store_place_free(path, force, why)) != 0)
		return err;
	n = strlen(path) + sizeof(TMP_SUFFIX);
	if ((tmp = malloc(n)) == NULL)
		return mu_fail(why, MU_ENOMEM, "backing up the store: out of memory");
	snprintf(tmp, n, "%s" TMP_SUFFIX, path);
	clean_stale(path);
	fd = make_tmp(tmp, why);
	if (fd < 0) {
		free(tmp);
		return fd;
	}
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	if (rc == ENOSPC || rc == EIO)
		err = disk_err(rc, path, "cannot write", why);
	else if (rc != 0)
		err = mu_store__err(st, rc, "copying the store", why);
	else if (fsync(fd) != 0)
		err = disk_err(errno, tmp, "cannot write", why);
	/* The lock stays, through hold, until the file has its name. */
	hold = dup(fd);
	if (close(fd) != 0 && err == 0)
		err = disk_err(errno, tmp, "cannot write", why);
	if (err == 0)
		err = mu_store_place(tmp, path, force, why);
	if (err != 0)
		unlink(tmp);
	if (hold >= 0)
		close(hold);
	free(tmp);
	return err;
}
