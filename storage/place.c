/*
 * place.c - the no-replace rename shared by backup and export (place.h).
 */
#define _GNU_SOURCE /* renameat2 */

#include "place.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
exists(const char *path, struct mu_why *why)
{
	return mu_fail(why, MU_EEXIST,
	               "%s already exists: choose another name, or add "
	               "--force to replace it",
	               path);
}

int
mu_store_place_free(const char *path, bool force, struct mu_why *why)
{
	struct stat sb;

	if (!force && lstat(path, &sb) == 0)
		return exists(path, why);
	return 0;
}

int
mu_store_place(const char *tmp, const char *path, bool force, struct mu_why *why)
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
		return exists(path, why);
	if (rc != 0)
		return mu_fail(why, MU_EIO, "cannot rename %s to %s: %s", tmp, path,
		               strerror(errno));
	if (sync_parent(path) != 0)
		return mu_fail(why, MU_EIO, "cannot sync the directory of %s: %s", path,
		               strerror(errno));
	return 0;
}
