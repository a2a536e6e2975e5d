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
 */
#define _GNU_SOURCE /* renameat2 */

#include "store_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_keys.h"

/* The directory part of path, for fsync()ing the rename; "." when none. */
static int
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

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

/* Renames tmp to path; without force only when path does not exist. */
static int
put_in_place(const char *tmp, const char *path, bool force, struct mu_why *why)
{
	int rc = force ? rename(tmp, path)
	               : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);

	if (rc != 0 && !force && (errno == EINVAL || errno == ENOSYS)) {
		/* A file system without RENAME_NOREPLACE: link() refuses an
		 * existing name too. */
		rc = link(tmp, path);
		if (rc == 0)
			unlink(tmp);
	}
	if (rc != 0 && errno == EEXIST)
		return mu_fail(why, MU_EEXIST,
		               "%s already exists: choose another name, or add "
		               "--force to replace it",
		               path);
	if (rc != 0)
		return disk_err(errno, path, "cannot rename the backup to", why);
	return 0;
}

int
mu_store_backup(struct mu_store *st, const char *path, bool force, struct mu_why *why)
{
	struct stat sb;
	char *tmp = NULL;
	int fd = -1, err = 0, rc;
	size_t n;

	if (why != NULL)
		why->text[0] = '\0';
	if (!force && lstat(path, &sb) == 0)
		return mu_fail(why, MU_EEXIST,
		               "%s already exists: choose another name, or add "
		               "--force to replace it",
		               path);
	n = strlen(path) + sizeof(".tmp-XXXXXX");
	if ((tmp = malloc(n)) == NULL)
		return mu_fail(why, MU_ENOMEM, "backing up the store: out of memory");
	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	/* mkstemp() makes the file 0600: the records are not secret, but the
	 * peers table says whom this node talks to. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = disk_err(errno, tmp, "cannot create", why);
		free(tmp);
		return err;
	}
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	if (rc == ENOSPC || rc == EIO)
		err = disk_err(rc, path, "cannot write", why);
	else if (rc != 0)
		err = mu_store__err(st, rc, "copying the store", why);
	else if (fsync(fd) != 0)
		err = disk_err(errno, tmp, "cannot write", why);
	if (close(fd) != 0 && err == 0)
		err = disk_err(errno, tmp, "cannot write", why);
	if (err == 0)
		err = put_in_place(tmp, path, force, why);
	if (err == 0 && sync_parent(path) != 0)
		err = disk_err(errno, path, "cannot sync the directory of", why);
	if (err != 0)
		unlink(tmp);
	free(tmp);
	return err;
}
