/*
 * home_restore.c - `muster restore`: a backup (store_backup.c) becomes the
 * home's store (store_check.h).
 *
 * The backup is copied into a new directory next to the store and checked
 * whole there, so a damaged or foreign file never replaces a working store;
 * then one rename(2) with RENAME_EXCHANGE swaps the two directories, so the
 * home always has a complete store, the old one or the new one. The old one
 * is kept as HOME/store.prev-TIME until the user removes it.
 *
 * The copy is made under the serve lock, so a copy left by a restore that
 * was killed is removed by whoever takes that lock next (a restore or
 * `muster serve`): no restore can be running then.
 */
#define _GNU_SOURCE /* renameat2 */

#include "store_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../protocol/textform.h"
#include "home_file.h"

#define DATA_FILE "data.mdb" /* LMDB's file in an environment directory */
#define COPY_BUF  65536
#define COPY_DIR  "store.restore-" /* + mkdtemp's 6 characters */

/* Copies the backup at path into dir/data.mdb and syncs it. */
static int
copy_in(const char *path, const char *dir, struct mu_why *why)
{
	char *dst = mu_home__join(dir, DATA_FILE);
	char *buf = malloc(COPY_BUF);
	int in = -1, out = -1, err = 0;
	struct stat sb;
	ssize_t got;

	if (dst == NULL || buf == NULL) {
		err = mu_fail(why, MU_ENOMEM, "restoring: out of memory");
		goto out;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err = mu_fail(why, errno == ENOENT ? MU_ENOTFOUND : MU_EIO,
		              "cannot open the backup %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		err = mu_fail(why, MU_EFORMAT,
		              "%s is not a file: give the file `muster backup` wrote",
		              path);
		goto out;
	}
	if (sb.st_size == 0) {
		/* LMDB would take an empty file for a new store. */
		err = mu_fail(why, MU_EFORMAT, "%s is empty: it is not a muster backup",
		              path);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		err =
		    mu_fail(why, MU_EIO, "cannot create %s: %s", dst, strerror(errno));
		goto out;
	}
	while ((got = read(in, buf, COPY_BUF)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || mu_home__write_all(out, buf, (size_t)got) != 0) {
			err = mu_fail(why, errno == ENOSPC ? MU_EFULL : MU_EIO,
			              "cannot copy %s to %s: %s", path, dst,
			              strerror(errno));
			goto out;
		}
	}
	if (fsync(out) != 0)
		err = mu_fail(why, MU_EIO, "cannot write %s: %s", dst, strerror(errno));
out:
	if (out >= 0 && close(out) != 0 && err == 0)
		err = mu_fail(why, MU_EIO, "cannot write %s: %s", dst, strerror(errno));
	if (in >= 0)
		close(in);
	free(buf);
	free(dst);
	return err;
}

struct first_problem {
	char text[200];
};

static int
keep_first(void *ctx, const char *db, const char *text)
{
	struct first_problem *f = ctx;

	if (f->text[0] == '\0')
		snprintf(f->text, sizeof(f->text), "%s: %s", db, text);
	return 0;
}

/* Whose records a backup holds: ours, and the group with the most others. */
struct owners {
	const uint8_t *us;
	uint64_t ours, top_n;
	uint8_t top[MU_KEY_BYTES];
};

static int
count_group(void *ctx, const uint8_t group[MU_KEY_BYTES], uint64_t n)
{
	struct owners *o = ctx;

	if (memcmp(group, o->us, MU_KEY_BYTES) == 0)
		o->ours += n;
	else if (n > o->top_n) {
		o->top_n = n;
		memcpy(o->top, group, MU_KEY_BYTES);
	}
	return 0;
}

static int
copy_profile_name(void *ctx, const struct mu_record *rec)
{
	const struct mu_str *n = &rec->c.profile.name;
	char *out = ctx;
	size_t len = n->len < 63 ? n->len : 63;

	/* Printed in a one-line message: no control characters. */
	for (size_t i = 0; i < len; i++)
		out[i] = (unsigned char)n->ptr[i] < 0x20 ? '?' : n->ptr[i];
	out[len] = '\0';
	return 0;
}

/*
 * A store holds its own group's records (its profile from `muster init` on)
 * beside those of allies and followed groups. A backup with none of ours but
 * with others' is another group's: restored here, it would drop this home's
 * profile and events. Names the group with the most records in it, which
 * is the one that made it unless an ally published more.
 */
static int
check_owner(struct mu_store *st, const char *path, const uint8_t us[MU_KEY_BYTES],
            struct mu_why *why)
{
	struct owners o = {us, 0, 0, {0}};
	struct mu_store_counts counts;
	char key[MU_KEY_TEXT_SIZE], name[64] = "", who[MU_KEY_TEXT_SIZE + 80];
	struct mu_addr addr;
	int err;

	err = mu_store_counts(st, &counts, count_group, &o);
	if (err != 0)
		return mu_fail(why, err, "reading the backup %s: %s", path,
		               mu_strerror(err));
	if (o.ours > 0 || o.top_n == 0)
		return 0;
	mu_key_to_text(key, o.top);
	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, o.top, MU_KEY_BYTES);
	addr.kind = MU_KIND_PROFILE;
	addr.d.ptr = "";
	(void)mu_store_get_addr(st, &addr, copy_profile_name, name);
	if (name[0] != '\0')
		snprintf(who, sizeof(who), "%s (%s)", name, key);
	else
		snprintf(who, sizeof(who), "%s", key);
	return mu_fail(why, MU_EINVAL,
	               "%s is another group's backup: none of its records are "
	               "this group's, most are %s's; --other-group restores it, "
	               "and this home loses its own",
	               path, who);
}

/* Opens the copy in dir and checks it whole, and unless other_group that it
 * is a backup of the group us. */
static int
check_copy(const char *path, const char *dir, const uint8_t us[MU_KEY_BYTES],
           bool other_group, struct mu_store_check_stats *stats, struct mu_why *why)
{
	const struct mu_store_opts ro = {0, true};
	struct first_problem first = {""};
	struct mu_store *st = NULL;
	struct mu_why ow = {0};
	int err;

	/* Read-only: a writer would make an empty muster store out of any
	 * LMDB file, which would then pass the check. */
	err = mu_store_open(&st, dir, &ro, &ow);
	if (err == MU_EVERSION)
		return mu_fail(why, err,
		               "%s is not a muster backup this version can read: %s",
		               path, ow.text);
	/* A backup copied only in part is a muster backup all the same. */
	if (err != 0 && strstr(ow.text, "cut short") != NULL)
		return mu_fail(why, MU_ECORRUPT,
		               "%s is cut short: it is only the first part of a "
		               "backup; copy the whole file again",
		               path);
	/* Why LMDB refused the file (and the name of the temp copy) means
	 * nothing to the person, who gave the wrong file. */
	if (err != 0)
		return mu_fail(why, MU_EFORMAT,
		               "%s is not a muster backup; give a file that "
		               "`muster backup` wrote",
		               path);
	err = mu_store_check(st, keep_first, &first, stats, why);
	if (err == 0 && stats->problems == 0 && !other_group)
		err = check_owner(st, path, us, why);
	mu_store_close(st);
	if (err == 0 && stats->problems > 0)
		err = mu_fail(why, MU_ECORRUPT,
		              "the backup %s has %llu problems (first: %s): nothing "
		              "was restored",
		              path, (unsigned long long)stats->problems, first.text);
	return err;
}

static void
remove_tree(const char *dir)
{
	static const char *const files[] = {DATA_FILE, "lock.mdb"};
	char *p;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((p = mu_home__join(dir, files[i])) != NULL)
			unlink(p);
		free(p);
	}
	rmdir(dir);
}

void
mu_home__clean_restores(const char *home)
{
	const size_t plen = sizeof(COPY_DIR) - 1;
	struct dirent *e;
	char *p;
	DIR *d;

	if ((d = opendir(home)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, COPY_DIR, plen) != 0 ||
		    strlen(e->d_name) != plen + 6)
			continue;
		if ((p = mu_home__join(home, e->d_name)) != NULL)
			remove_tree(p);
		free(p);
	}
	closedir(d);
}

/* The name the replaced store gets: HOME/store.prev-20261126T021500Z, with
 * -2, -3... when a restore in the same second was there first. */
static int
set_aside(const char *from, const char *home, char **prev, struct mu_why *why)
{
	char stamp[32], name[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "store.prev-%s", stamp);
		else
			snprintf(name, sizeof(name), "store.prev-%s-%d", stamp, i);
		if ((*prev = mu_home__join(home, name)) == NULL)
			return mu_fail(why, MU_ENOMEM, "restoring: out of memory");
		if (renameat2(AT_FDCWD, from, AT_FDCWD, *prev, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			break;
		free(*prev);
		*prev = NULL;
	}
	free(*prev);
	*prev = NULL;
	return mu_fail(why, MU_EIO, "cannot set the previous store %s aside: %s", from,
	               strerror(errno));
}

/* Puts the checked copy in place of the store; *moved says when copy no
 * longer names the copy (and must not be removed). */
static int
swap_in(const char *copy, const char *store, const char *home, char **prev, bool *moved,
        struct mu_why *why)
{
	struct stat sb;
	int fd;

	if (stat(store, &sb) != 0 && errno == ENOENT) {
		if (rename(copy, store) != 0)
			return mu_fail(why, MU_EIO, "cannot move %s to %s: %s", copy,
			               store, strerror(errno));
		*moved = true;
	} else if (renameat2(AT_FDCWD, copy, AT_FDCWD, store, RENAME_EXCHANGE) == 0) {
		/* copy now names the previous store. */
		*moved = true;
		if (set_aside(copy, home, prev, why) != 0)
			return MU_EIO;
	} else if (errno == EINVAL || errno == ENOSYS) {
		/* No atomic exchange on this file system: two renames, the
		 * store missing for an instant in between. */
		if (set_aside(store, home, prev, why) != 0)
			return MU_EIO;
		if (rename(copy, store) != 0)
			return mu_fail(why, MU_EIO,
			               "cannot move %s to %s: %s (the previous store "
			               "is in %s)",
			               copy, store, strerror(errno), *prev);
		*moved = true;
	} else {
		return mu_fail(why, MU_EIO, "cannot swap %s and %s: %s", copy, store,
		               strerror(errno));
	}
	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int
mu_home_restore(const struct mu_home *home, const char *path, bool other_group,
                struct mu_restore_info *info, struct mu_why *why)
{
	char *store = mu_home_store_dir(home), *copy = NULL;
	bool moved = false;
	int lock = -1, err;

	memset(info, 0, sizeof(*info));
	if (why != NULL)
		why->text[0] = '\0';
	if (store == NULL ||
	    (copy = mu_home__join(home->dir, COPY_DIR "XXXXXX")) == NULL) {
		err = mu_fail(why, MU_ENOMEM, "restoring: out of memory");
		goto out;
	}
	/* Holding the serve lock keeps a daemon from starting meanwhile. */
	err = mu_home_lock_serve(home, "(muster restore)", &lock, why);
	if (err != 0)
		goto out;
	if (mkdtemp(copy) == NULL) {
		err =
		    mu_fail(why, MU_EIO, "cannot create %s: %s", copy, strerror(errno));
		copy[0] = '\0';
		goto out;
	}
	err = copy_in(path, copy, why);
	if (err == 0)
		err =
		    check_copy(path, copy, home->group, other_group, &info->stats, why);
	if (err == 0)
		err = swap_in(copy, store, home->dir, &info->previous, &moved, why);
out:
	if (copy != NULL && copy[0] != '\0' && !moved)
		remove_tree(copy);
	if (lock >= 0)
		mu_home_unlock_serve(home, lock);
	free(copy);
	free(store);
	return err;
}
