/*
 * mu_store_backup() and mu_home_restore() on real files: the copy is a
 * whole store with mode 0600 and does not replace a file unless forced; a
 * restore swaps it in and keeps the previous store; a damaged backup (made
 * so with raw LMDB writes), an LMDB file muster did not write, and a running
 * daemon each leave the home as it was.
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
#include <dirent.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <sys/stat.h>

#include "storage/home.h"
#include "storage/store_check.h"

#include "store_fixture.h"

#define PATH_SIZE 128

struct homefx {
	char dir[PATH_SIZE], backup[PATH_SIZE];
	struct mu_home *home;
};

/* A home next to the fixture's store, and a backup of that store holding
 * an alliance record and a tombstone. */
static void
make(struct fx *fx, struct homefx *h)
{
	struct mu_why why = {0};
	uint8_t group[MU_KEY_BYTES];

	snprintf(h->dir, sizeof(h->dir), "%s/home", fx->dir);
	snprintf(h->backup, sizeof(h->backup), "%s/backup.mdb", fx->dir);
	if (mu_home_create(h->dir, group, &why) != 0)
		fail_msg("home: %s", why.text);
	if (mu_home_open(&h->home, h->dir, false, &why) != 0)
		fail_msg("open home: %s", why.text);
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[0], &fx->g[1], 1, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	assert_int_equal(put1(fx->st, del_addr(&fx->g[0], MU_KIND_CAUSE, "c", NOW)),
	                 MU_PUT_NEW);
	if (mu_store_backup(fx->st, h->backup, false, &why) != 0)
		fail_msg("backup: %s", why.text);
}

static uint64_t
home_records(struct homefx *h)
{
	char *dir = mu_home_store_dir(h->home);
	struct mu_store *st = NULL;
	uint64_t n = 0;

	assert_non_null(dir);
	assert_int_equal(mu_store_open(&st, dir, NULL, NULL), 0);
	assert_int_equal(mu_store_count(st, &n), 0);
	mu_store_close(st);
	free(dir);
	return n;
}

/* How many entries of the home's directory start with prefix. */
static int
entries(struct homefx *h, const char *prefix)
{
	DIR *d = opendir(h->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void
unchanged(struct homefx *h)
{
	assert_int_equal(home_records(h), 0);
	assert_int_equal(entries(h, "store.prev-"), 0);
	assert_int_equal(entries(h, "store.restore-"), 0);
}

static void
backup_and_restore(void **state)
{
	struct fx *fx = *state;
	const struct mu_store_opts ro = {0, true};
	struct mu_restore_info info;
	struct mu_why why = {0};
	struct homefx h = {"", "", NULL};
	struct stat sb;

	make(fx, &h);
	/* `muster backup` opens the store read-only. */
	reopen(fx, &ro);
	assert_int_equal(stat(h.backup, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(mu_store_backup(fx->st, h.backup, false, &why), MU_EEXIST);
	assert_non_null(strstr(why.text, "--force"));
	assert_int_equal(mu_store_backup(fx->st, h.backup, true, &why), 0);

	assert_int_equal(home_records(&h), 0);
	/* The records are another group's than the home's. */
	assert_int_equal(mu_home_restore(h.home, h.backup, false, &info, &why),
	                 MU_EINVAL);
	assert_non_null(strstr(why.text, "another group's backup"));
	assert_null(info.previous);
	assert_int_equal(home_records(&h), 0);
	if (mu_home_restore(h.home, h.backup, true, &info, &why) != 0)
		fail_msg("restore: %s", why.text);
	assert_int_equal(info.stats.records, 2);
	assert_int_equal(info.stats.problems, 0);
	assert_non_null(info.previous);
	assert_int_equal(stat(info.previous, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(home_records(&h), 2);
	assert_int_equal(entries(&h, "store.prev-"), 1);
	assert_int_equal(entries(&h, "store.restore-"), 0);
	free(info.previous);
	mu_home_close(h.home);
}

static void
damaged_backup_is_refused(void **state)
{
	struct fx *fx = *state;
	struct mu_restore_info info;
	struct mu_why why = {0};
	struct homefx h = {"", "", NULL};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;

	make(fx, &h);
	/* The record stays, its time index entry goes. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, h.backup, MDB_NOSUBDIR, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "by_time", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	assert_int_equal(mdb_cursor_del(cur, 0), 0);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(mu_home_restore(h.home, h.backup, false, &info, &why),
	                 MU_ECORRUPT);
	assert_non_null(strstr(why.text, "by_time"));
	assert_null(info.previous);
	unchanged(&h);
	mu_home_close(h.home);
}

static void
foreign_lmdb_file_is_refused(void **state)
{
	struct fx *fx = *state;
	struct mu_restore_info info;
	struct mu_why why = {0};
	struct homefx h = {"", "", NULL};
	char path[PATH_SIZE];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {3, "key"}, v = {5, "value"};

	make(fx, &h);
	snprintf(path, sizeof(path), "%s/foreign.mdb", fx->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_not_equal(mu_home_restore(h.home, path, false, &info, &why), 0);
	assert_non_null(strstr(why.text, "not a muster backup"));
	unchanged(&h);
	mu_home_close(h.home);
}

static void
running_daemon_is_refused(void **state)
{
	struct fx *fx = *state;
	struct mu_restore_info info;
	struct mu_why why = {0};
	struct homefx h = {"", "", NULL};
	int lock;

	make(fx, &h);
	assert_int_equal(mu_home_lock_serve(h.home, "127.0.0.1:7420", &lock, &why), 0);
	assert_int_equal(mu_home_restore(h.home, h.backup, false, &info, &why),
	                 MU_EBUSY);
	assert_non_null(strstr(why.text, "stop it first"));
	mu_home_unlock_serve(h.home, lock);
	unchanged(&h);
	mu_home_close(h.home);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(backup_and_restore),
	    T_(damaged_backup_is_refused),
	    T_(foreign_lmdb_file_is_refused),
	    T_(running_daemon_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
