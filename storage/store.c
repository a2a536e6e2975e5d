/*
 * store.c - opening and closing the LMDB environment, its sub-databases and
 * schema version, and the translation of LMDB's codes into ours.
 *
 * The write path is in store_put.c, the queries in store_query.c, the node's
 * local state in local_*.c and the key layouts in store_keys.c (described in
 * storage/README.md).
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../protocol/textform.h"
#include "store_defer.h"
#include "store_fp.h"
#include "store_keys.h"

#define SCHEMA_KEY "schema"
#define SEQ_KEY    "seq"
/* The sub-databases of store_keys.h, and the two an upgrade drops. */
#define MAX_DBS 24

/* The map is only address space: LMDB grows the file as data arrives, so a
 * large default costs nothing and keeps MDB_MAP_FULL away. */
static int
default_map_size(size_t *size, struct mu_why *why)
{
	const char *s = getenv("MUSTER_MAP_SIZE");
	unsigned long long v;
	char *end;

#if SIZE_MAX > 0xffffffffu
	*size = (size_t)64 << 30;
#else
	*size = (size_t)1 << 30;
#endif
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno == ERANGE || v == 0
#if ULLONG_MAX > SIZE_MAX
	    || v > SIZE_MAX
#endif
	)
		return mu_fail(why, MU_EINVAL,
		               "MUSTER_MAP_SIZE=%s is not a size in bytes: set it to a "
		               "whole number of bytes, such as 68719476736 for 64 GiB",
		               s);
	*size = (size_t)v;
	return 0;
}

/* Room below which a failed write is put down to a full disk or file. */
#define FULL_SLACK ((uint64_t)1 << 20)

/*
 * LMDB reports a short write as EIO, and a full disk or a store file at the
 * process's size limit (ulimit -f) shows up so: ENOSPC or EFBIG when one of
 * them holds now, else EIO (a real I/O error).
 */
static int
full_cause(struct mu_store *st)
{
	mdb_filehandle_t fd;
	struct statvfs vfs;
	struct rlimit rl;
	struct stat sb;

	if (st == NULL || st->env == NULL)
		return EIO;
	if (statvfs(st->dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < FULL_SLACK)
		return ENOSPC;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    mdb_env_get_fd(st->env, &fd) == 0 && fstat(fd, &sb) == 0 &&
	    (uint64_t)sb.st_size + FULL_SLACK > (uint64_t)rl.rlim_cur)
		return EFBIG;
	return EIO;
}

/* The bytes of data.mdb that committed data uses: its pages up to the last
 * one the newest commit names (me_last_pgno). */
static int
used_bytes(struct mu_store *st, uint64_t *used, off_t *size)
{
	mdb_filehandle_t fd;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
	    mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0)
		return MU_EIO;
	*used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	*size = sb.st_size;
	return 0;
}

/*
 * LMDB grows data.mdb by writing pages past its end: at the commit, and
 * earlier when a large transaction spills pages out of memory. It never
 * shrinks it. A write that fails, on a full disk above all, leaves the
 * pages it managed to write past the last committed one, taking the very
 * space whose lack made it fail; an aborted transaction leaves its spilled
 * pages. So the file is cut back to the committed pages after either.
 *
 * That is safe under the write lock, which the caller holds (txn is its
 * write transaction, to be aborted right after without another read of its
 * pages): only the lock's holder writes pages past me_last_pgno, every
 * reader's snapshot (of any process) ends at or below it, and the
 * committed pages are below it. The store never uses MDB_WRITEMAP, under
 * which LMDB would size the file to the map itself.
 */
static int
trim_in(struct mu_store *st)
{
	mdb_filehandle_t fd;
	unsigned flags = 0;
	uint64_t used;
	off_t size;

	if (mdb_env_get_flags(st->env, &flags) != 0 || (flags & MDB_WRITEMAP) != 0 ||
	    used_bytes(st, &used, &size) != 0 || mdb_env_get_fd(st->env, &fd) != 0)
		return MU_EIO;
	if ((uint64_t)size <= used)
		return 0;
	return ftruncate(fd, (off_t)used) == 0 ? 0 : MU_EIO;
}

int
mu_store__trim(struct mu_store *st, MDB_txn *txn)
{
	MDB_txn *own = NULL;
	int err;

	if (st == NULL || st->env == NULL || st->read_only)
		return MU_EINVAL;
	if (txn == NULL && mu_store__begin(st, true, &own, NULL) != 0)
		return MU_EIO;
	err = trim_in(st);
	if (own != NULL)
		mdb_txn_abort(own);
	return err;
}

uint64_t
mu_store__room(struct mu_store *st)
{
	struct statvfs vfs;
	uint64_t used;
	off_t size;

	if (statvfs(st->dir, &vfs) != 0)
		return UINT64_MAX;
	/* Pages past the committed ones are written over before the file
	 * grows. */
	if (used_bytes(st, &used, &size) != 0 || (uint64_t)size < used)
		used = (uint64_t)size;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize + ((uint64_t)size - used);
}

int
mu_store__err(struct mu_store *st, int rc, const char *what, struct mu_why *why)
{

	const char *dir = st != NULL && st->dir != NULL ? st->dir : "?";
	MDB_envinfo info;

	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return MU_ENOTFOUND;
	case MDB_MAP_FULL:
		info.me_mapsize = 0;
		if (st != NULL && st->env != NULL)
			mdb_env_info(st->env, &info);
		return mu_fail(why, MU_EFULL,
		               "the store is full (map size %zu bytes): raise "
		               "MUSTER_MAP_SIZE or free disk space",
		               info.me_mapsize);
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return mu_fail(why, MU_EFULL,
		               "the disk holding the store at %s is full (%s): free "
		               "disk space",
		               dir, mdb_strerror(rc));
	case EFBIG:
		return mu_fail(why, MU_EFULL,
		               "the store's file at %s reached the size limit of "
		               "this process (ulimit -f): raise the limit",
		               dir);
	case EIO:
		rc = full_cause(st);
		if (rc != EIO)
			return mu_store__err(st, rc, what, why);
		break;
	case ENOMEM:
		return mu_fail(why, MU_ENOMEM, "%s: out of memory", what);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	/* A transaction that met one of those fails every later call so. */
	case MDB_BAD_TXN:
	/* What LMDB says of a database record or a node that changed under
	 * it: our calls never give it cause otherwise. */
	case MDB_BAD_VALSIZE:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_DBI:
		return mu_fail(why, MU_ECORRUPT,
		               "%s: the store at %s is damaged (%s): run `muster "
		               "check`, then `muster restore FILE` with a backup",
		               what, dir, mdb_strerror(rc));
	case MDB_INVALID:
		/* Both meta pages failed LMDB's checks: data.mdb is ours, so
		 * it is damaged rather than some other file. */
		return mu_fail(why, MU_ECORRUPT,
		               "%s: the store at %s is damaged (%s): restore a "
		               "backup with `muster restore FILE`",
		               what, dir, mdb_strerror(rc));
	case MDB_VERSION_MISMATCH:
		return mu_fail(why, MU_EVERSION,
		               "%s: the store at %s was written by an incompatible "
		               "LMDB (%s)",
		               what, dir, mdb_strerror(rc));
	case MDB_READERS_FULL:
		return mu_fail(why, MU_EBUSY,
		               "%s: too many readers of the store at %s at once: "
		               "stop some muster processes and retry",
		               what, dir);
	case MDB_TXN_FULL:
		return mu_fail(why, MU_EIO,
		               "%s: too many changes for one transaction: store "
		               "fewer records per batch",
		               what);
	}
	return mu_fail(why, MU_EIO, "%s at %s: %s", what, dir, mdb_strerror(rc));
}

int
mu_store__begin(struct mu_store *st, bool write, MDB_txn **txn, struct mu_why *why)
{
	unsigned flags = write ? 0 : MDB_RDONLY;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map; 0 adopts the size it chose,
		 * and the map may move. */
		pthread_mutex_lock(&st->map_mu);
		st->map_base = NULL;
		st->remaps++;
		pthread_mutex_unlock(&st->map_mu);
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc != 0) {
		*txn = NULL;
		return mu_store__err(st, rc,
		                     write ? "starting a write to the store"
		                           : "starting a read of the store",
		                     why);
	}
	mu_store__map_read(st, 1);
	return 0;
}

uint64_t
mu_store__remaps(struct mu_store *st)
{
	uint64_t n;

	pthread_mutex_lock(&st->map_mu);
	n = st->remaps;
	pthread_mutex_unlock(&st->map_mu);
	return n;
}

int
mu_store__commit(struct mu_store *st, MDB_txn *txn, int err, struct mu_why *why)
{
	if (err != 0) {
		if (err == MU_EFULL)
			mu_store__trim(st, txn);
		mdb_txn_abort(txn);
		return err;
	}
	err = mu_store__err(st, mdb_txn_commit(txn), "committing to the store", why);
	if (err != 0)
		mu_store__trim(st, NULL);
	return err;
}

int
mu_store__load_indexed(struct mu_store *st, MDB_txn *txn, const MDB_val *id,
                       struct mu_record *rec)
{
	int err;

	if (id->mv_size != MU_ID_BYTES)
		return MU_ECORRUPT;
	err = mu_store__load(st, txn, id->mv_data, rec, NULL);
	return err == MU_ENOTFOUND ? MU_ECORRUPT : err;
}

/* Whether key a sorts strictly before key b, as LMDB's default order has
 * them: bytewise, a prefix first. */
static bool
key_before(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int c = memcmp(a->mv_data, b->mv_data, n);

	return c < 0 || (c == 0 && a->mv_size < b->mv_size);
}

/*
 * LMDB keeps no checksums and trusts its pages: a damaged one gives keys
 * out of order, or a cursor that skips entries. So every scan checks that
 * the keys rise, one that reads a whole table checks that it saw as many
 * entries as the table says it holds, and one that ran off the end of a
 * range checks that it met the table's last key; each is damage
 * (MU_ECORRUPT), never a shorter or wrong answer.
 */
/*
 * A range scan that ran off the end of its table must have met the table's
 * last key: reached from the root by the rightmost path, it is another way
 * down than the cursor's walk, which a damaged branch page can end early.
 * last is the last key the scan saw (NULL: none, when the last key must be
 * before from).
 */
static bool
ended_at_last(MDB_cursor *cur, const MDB_val *last, const MDB_val *from)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);

	if (rc == MDB_NOTFOUND)
		return last == NULL;
	if (rc != 0)
		return false;
	if (last != NULL)
		return !key_before(last, &k);
	return key_before(&k, from);
}

int
mu_store__scan(struct mu_store *st, MDB_txn *txn, MDB_dbi dbi, const MDB_val *from,
               size_t plen, mu_store__entry_fn fn, void *ctx, const char *what)
{
	MDB_cursor *cur = NULL;
	MDB_val k = {0, NULL}, v, prev = {0, NULL};
	MDB_stat ms;
	uint64_t seen = 0;
	int err = 0, rc;

	if (from != NULL)
		k = *from;
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v,
		                    from != NULL ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		mu_store__map_read(st, 1);
		if (seen++ > 0 && !key_before(&prev, &k)) {
			err = MU_ECORRUPT;
			break;
		}
		prev = k;
		if (plen > 0 &&
		    (k.mv_size < plen || memcmp(k.mv_data, from->mv_data, plen) != 0))
			break;
		err = fn(ctx, txn, &k, &v);
		if (err != 0)
			break;
	}
	/* A visitor that stopped at a key whose bytes were changed upwards
	 * (a start far in the future) would end the answer early: the key
	 * after it must still rise. */
	if (err > 0 && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0 &&
	    !key_before(&prev, &k))
		err = MU_ECORRUPT;
	if (rc != 0 && rc != MDB_NOTFOUND)
		err = mu_store__err(st, rc, what, NULL);
	else if (rc == MDB_NOTFOUND && err == 0 && from == NULL &&
	         (mdb_stat(txn, dbi, &ms) != 0 || ms.ms_entries != seen))
		err = MU_ECORRUPT;
	else if (rc == MDB_NOTFOUND && err == 0 && from != NULL &&
	         !ended_at_last(cur, seen > 0 ? &prev : NULL, from))
		err = MU_ECORRUPT;
	if (cur != NULL)
		mdb_cursor_close(cur);
	return err;
}

int
mu_store__read_scan(struct mu_store *st, MDB_dbi dbi, const MDB_val *from, size_t plen,
                    mu_store__entry_fn fn, void *ctx, const char *what)
{
	MDB_txn *txn;
	int err;

	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__scan(st, txn, dbi, from, plen, fn, ctx, what);
	mdb_txn_abort(txn);
	return err;
}

int
mu_store__parse_body(struct mu_store *st, uint64_t seq, const MDB_val *v,
                     const uint8_t *expect, struct mu_record *rec, struct mu_why *why)
{
	char hex[MU_ID_TEXT_SIZE];
	struct mu_why pw = {0};
	int rc;

	/* Stored bytes were verified on the way in: no signature or clock
	 * check, but every structural rule still guards what we hand out. */
	rc = mu_rec_parse(rec, v->mv_data, v->mv_size, 0,
	                  MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, &pw);
	if (rc == 0 && expect != NULL && memcmp(rec->id, expect, MU_ID_BYTES) != 0)
		snprintf(pw.text, sizeof(pw.text), "its id does not match its body");
	else if (rc == 0)
		return 0;
	if (expect != NULL) {
		mu_id_to_text(hex, expect);
		return mu_fail(why, MU_ECORRUPT,
		               "stored record %s is damaged (%s): the store at %s "
		               "needs restoring",
		               hex, pw.text, st->dir);
	}
	return mu_fail(why, MU_ECORRUPT,
	               "the stored record with sequence number %llu is damaged "
	               "(%s): the store at %s needs restoring",
	               (unsigned long long)seq, pw.text, st->dir);
}

int
mu_store__body_of(struct mu_store *st, MDB_txn *txn, const uint8_t id[MU_ID_BYTES],
                  uint64_t *seq, MDB_val *v, struct mu_why *why)
{
	MDB_val k = {MU_ID_BYTES, (void *)id};
	char hex[MU_ID_TEXT_SIZE];
	int rc;

	*seq = 0; /* defined on failure: gcc -O3 cannot see that errors are < 0 */
	rc = mdb_get(txn, st->ids, &k, v);
	if (rc != 0)
		return mu_store__err(st, rc, "reading a record", why);
	if (v->mv_size == MU_STORE__SEQ_BYTES) {
		*seq = mu_store__get_be64(v->mv_data);
		k = *v;
		rc = mdb_get(txn, st->bodies, &k, v);
		if (rc == 0)
			return 0;
		if (rc != MDB_NOTFOUND)
			return mu_store__err(st, rc, "reading a record", why);
	}
	mu_id_to_text(hex, id);
	return mu_fail(why, MU_ECORRUPT,
	               "stored record %s is damaged (its id entry points at no "
	               "record): the store at %s needs restoring",
	               hex, st->dir);
}

int
mu_store__load(struct mu_store *st, MDB_txn *txn, const uint8_t id[MU_ID_BYTES],
               struct mu_record *rec, struct mu_why *why)
{
	uint64_t seq;
	MDB_val v;
	int err = mu_store__body_of(st, txn, id, &seq, &v, why);

	return err != 0 ? err : mu_store__parse_body(st, seq, &v, id, rec, why);
}

int
mu_store__seq_read(struct mu_store *st, MDB_txn *txn, uint64_t *seq, struct mu_why *why)
{
	MDB_val k = {sizeof(SEQ_KEY) - 1, (void *)SEQ_KEY}, v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mu_store__err(st, rc, "reading the store's sequence number",
		                     why);
	if (v.mv_size != MU_STORE__SEQ_BYTES)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a sequence number of %zu bytes, "
		               "not 8: it is damaged; run `muster check`, then "
		               "`muster restore FILE` with a backup",
		               st->dir, v.mv_size);
	*seq = mu_store__get_be64(v.mv_data);
	return 0;
}

int
mu_store__seq_write(struct mu_store *st, MDB_txn *txn, uint64_t seq, struct mu_why *why)
{
	uint8_t buf[MU_STORE__SEQ_BYTES];
	MDB_val k = {sizeof(SEQ_KEY) - 1, (void *)SEQ_KEY}, v = {sizeof(buf), buf};

	mu_store__put_be64(buf, seq);
	return mu_store__err(st, mdb_put(txn, st->meta, &k, &v, 0),
	                     "writing the store's sequence number", why);
}

static int
write_schema(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	MDB_val k = {sizeof(SCHEMA_KEY) - 1, (void *)SCHEMA_KEY}, v;
	uint8_t buf[4];

	buf[0] = (uint8_t)(MU_STORE__SCHEMA >> 24);
	buf[1] = (uint8_t)(MU_STORE__SCHEMA >> 16);
	buf[2] = (uint8_t)(MU_STORE__SCHEMA >> 8);
	buf[3] = (uint8_t)MU_STORE__SCHEMA;
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mu_store__err(st, mdb_put(txn, st->meta, &k, &v, 0),
	                     "writing the store's schema version", why);
}

/* Reads the schema version into *ver; a new store (no version yet) gets the
 * current one. */
static int
read_schema(struct mu_store *st, MDB_txn *txn, uint32_t *ver, struct mu_why *why)
{
	MDB_val k = {sizeof(SCHEMA_KEY) - 1, (void *)SCHEMA_KEY}, v;
	uint64_t seq;
	int rc;

	rc = mdb_get(txn, st->meta, &k, &v);
	/* Every store has the sequence number beside its schema version from
	 * its first record on: one without the other is damage. */
	if (rc == MDB_NOTFOUND && mu_store__seq_read(st, txn, &seq, NULL) == 0 &&
	    seq > 0)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s is damaged: its schema version is "
		               "missing; run `muster check`, then `muster restore "
		               "FILE` with a backup",
		               st->dir);
	if (rc == MDB_NOTFOUND && !st->read_only) {
		*ver = MU_STORE__SCHEMA;
		return write_schema(st, txn, why);
	}
	if (rc == MDB_NOTFOUND)
		return mu_fail(why, MU_EVERSION,
		               "the store at %s has no schema version: it was not "
		               "made by muster",
		               st->dir);
	if (rc != 0)
		return mu_store__err(st, rc, "reading the store's schema version", why);
	if (v.mv_size != 4)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a schema version of %zu bytes, "
		               "not 4: it is damaged; run `muster check`, then "
		               "`muster restore FILE` with a backup",
		               st->dir, v.mv_size);
	const uint8_t *p = v.mv_data;
	*ver = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
mu_store__open_dbs(struct mu_store *st, MDB_txn *txn, const char *const *names,
                   MDB_dbi *const *slots, size_t n, unsigned flags, struct mu_why *why)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = mdb_dbi_open(txn, names[i], flags, slots[i]);
		/* Every version made them together: one missing after another
		 * was found is a damaged main database, not another version. */
		if (rc == MDB_NOTFOUND && i > 0)
			return mu_fail(why, MU_ECORRUPT,
			               "the store at %s is damaged: its '%s' database "
			               "is missing; run `muster check`, then `muster "
			               "restore FILE` with a backup",
			               st->dir, names[i]);
		if (rc == MDB_NOTFOUND)
			return mu_fail(why, MU_EVERSION,
			               "the store at %s has no '%s' database: it was "
			               "not made by this version of muster",
			               st->dir, names[i]);
		if (rc != 0)
			return mu_store__err(st, rc, "opening the store's databases",
			                     why);
	}
	return 0;
}

/*
 * outside and blocks, local tables that no record depends on, came without
 * a new schema: the first write open makes them, and a read-only open of a
 * store made before them reads them as empty (has_frozen false).
 */
static int
open_optional(struct mu_store *st, MDB_txn *txn, const char *const *names,
              MDB_dbi *const *slots, size_t n, bool *has, struct mu_why *why)
{
	int rc;

	if (st->read_only) {
		rc = mdb_dbi_open(txn, names[0], 0, slots[0]);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return mu_store__err(st, rc, "opening the store's databases",
			                     why);
	}
	rc = mu_store__open_dbs(st, txn, names, slots, n,
	                        st->read_only ? 0 : MDB_CREATE, why);
	*has = rc == 0;
	return rc;
}

static int
open_frozen(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const names[] = {"outside", "blocks"};
	MDB_dbi *const slots[] = {&st->outside, &st->blocks};

	return open_optional(st, txn, names, slots, 2, &st->has_frozen, why);
}

/* The invites table (local_invites.c), made on the first write in the
 * same way. */
static int
open_invites(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const names[] = {"invites"};
	MDB_dbi *const slots[] = {&st->invites};

	return open_optional(st, txn, names, slots, 1, &st->has_invites, why);
}

/* The hellos table (local_hellos.c), made on the first write in the
 * same way. */
static int
open_hellos(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const names[] = {"hellos"};
	MDB_dbi *const slots[] = {&st->hellos};

	return open_optional(st, txn, names, slots, 1, &st->has_hellos, why);
}

/* The entries table (local_entries.c), made on the first write in the
 * same way. */
static int
open_entries(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const names[] = {"entries"};
	MDB_dbi *const slots[] = {&st->entries};

	return open_optional(st, txn, names, slots, 1, &st->has_entries, why);
}

/*
 * Opens the databases of the store's schema, upgrading an older one when
 * opened for writing. Schema 1 lacked peers and follows; schema 2 kept the
 * records by id, with a log of ids, where schema 3 keeps them in bodies by
 * sequence number, with ids to find them: a batch of new records then
 * appends to one end of bodies instead of touching a random page of the
 * largest table per record. Schema 3 also added by_group, so that
 * reconciliation reads only the groups it needs; schema 4 the held records
 * and the signed index of delegated records (store_held.h); schema 5 the
 * past revisions kept for merging concurrent edits (store_past.h); schema 6
 * the negentropy fingerprints of by_time (store_fp.h), filled from it;
 * schema 7 the count of each group's records (grpcount, store_fp.h), filled
 * with them, so that the groups held are a small table's keys, not a walk
 * of by_group; schema 8 the sequence number of each record in its by_time
 * entry, after the group, so that a push walking by_time reads each body
 * without a by_group search per record. The upgrade and the version bump are one
 * transaction, so a crash leaves the old store to upgrade again.
 */
static int
open_schema(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const names[] = {"by_time", "current", "ev_start",
	                                    "tombstones", "meta"};
	static const char *const added[] = {"bodies",   "ids",     "peers",  "follows",
	                                    "by_group", "held",    "signed", "past",
	                                    "negfp",    "grpcount"};
	MDB_dbi *const slots[] = {&st->by_time, &st->current, &st->ev_start,
	                          &st->tombstones, &st->meta};
	MDB_dbi *const added_slots[] = {
	    &st->bodies, &st->ids,       &st->peers, &st->follows, &st->by_group,
	    &st->held,   &st->signed_by, &st->past,  &st->negfp,   &st->grpcount};
	unsigned create = st->read_only ? 0 : MDB_CREATE;
	uint32_t ver = 0;
	int err;

	err = mu_store__open_dbs(st, txn, names, slots, 5, create, why);
	if (err == 0)
		err = read_schema(st, txn, &ver, why);
	if (err != 0)
		return err;
	if (ver < 1 || ver > MU_STORE__SCHEMA)
		return mu_fail(why, MU_EVERSION,
		               "the store at %s has schema version %u but this "
		               "muster reads version %u: use the muster that wrote it",
		               st->dir, (unsigned)ver, MU_STORE__SCHEMA);
	if (ver < MU_STORE__SCHEMA && st->read_only) {
		st->needs_upgrade = true;
		return mu_fail(why, MU_EVERSION,
		               "the store at %s has schema version %u and was opened "
		               "read-only: open it once for writing (any muster "
		               "command that changes it) to upgrade it to version %u",
		               st->dir, (unsigned)ver, MU_STORE__SCHEMA);
	}
	err = mu_store__open_dbs(st, txn, added, added_slots, 10, create, why);
	if (err == 0)
		err = open_frozen(st, txn, why);
	if (err == 0)
		err = open_invites(st, txn, why);
	if (err == 0)
		err = open_entries(st, txn, why);
	if (err == 0)
		err = open_hellos(st, txn, why);
	if (err != 0 || ver == MU_STORE__SCHEMA)
		return err;
	/* Schema 4 only added held and signed, empty in an older store: no
	 * record of one is signed by any key but its group's. Schema 5 only
	 * added past, empty until a revision is superseded. */
	if (ver < 3)
		err = mu_store__upgrade_bodies(st, txn, why);
	if (err == 0 && ver < 8)
		err = mu_store__upgrade_time_seq(st, txn, why);
	if (err == 0 && ver < 7)
		err = mu_store__fp_rebuild(st, txn, why);
	if (err == 0)
		err = write_schema(st, txn, why);
	return err;
}

/* LMDB maps the file, so a page past its end would be a SIGBUS rather than
 * an error: a file cut short (a partial copy, a damaged disk) is refused
 * before any page is read. The meta pages it reads here are checked by
 * mdb_env_open(). */
static int
check_length(struct mu_store *st, struct mu_why *why)
{
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	struct stat sb;
	uint64_t need;

	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0 ||
	    mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0)
		return mu_fail(why, MU_EIO, "cannot read the size of the store at %s",
		               st->dir);
	need = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if ((uint64_t)sb.st_size < need)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s is cut short (%lld bytes where its "
		               "data needs %llu): restore it from a backup or an "
		               "export",
		               st->dir, (long long)sb.st_size,
		               (unsigned long long)need);
	return 0;
}

static int
open_store(struct mu_store **out, const char *dir, const struct mu_store_opts *opts,
           bool *needs_upgrade, struct mu_why *why)
{
	struct mu_store *st = NULL;
	MDB_txn *txn = NULL;
	size_t map_size;
	unsigned flags;
	int rc, err;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if (opts != NULL && opts->map_size != 0)
		map_size = opts->map_size;
	else if ((err = default_map_size(&map_size, why)) != 0)
		return err;

	st = calloc(1, sizeof(*st));
	if (st != NULL)
		mu_store__map_init(st);
	if (st == NULL || (st->dir = strdup(dir)) == NULL) {
		err = mu_fail(why, MU_ENOMEM, "opening the store: out of memory");
		goto out;
	}
	st->read_only = opts != NULL && opts->read_only;

	rc = mdb_env_create(&st->env);
	if (rc != 0) {
		st->env = NULL;
		err = mu_store__err(st, rc, "creating the store's environment", why);
		goto out;
	}
	rc = mdb_env_set_maxdbs(st->env, MAX_DBS);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env, map_size);
	if (rc != 0) {
		err = mu_store__err(st, rc, "configuring the store", why);
		goto out;
	}
	/* MDB_NOTLS: read transactions belong to the caller, not the thread,
	 * so a thread pool can share the environment. */
	flags = MDB_NOTLS | (st->read_only ? MDB_RDONLY : 0);
	rc = mdb_env_open(st->env, dir, flags, 0600);
	if (rc == ENOENT) {
		err = mu_fail(why, MU_EIO, "no store at %s: the directory%s is missing",
		              dir, st->read_only ? " or its data.mdb" : "");
		goto out;
	}
	if (rc != 0) {
		err = mu_store__err(st, rc, "opening the store", why);
		goto out;
	}
	/* A process that died inside a read leaves its reader slot behind,
	 * which pins old pages until the map fills: clear such slots. */
	mdb_reader_check(st->env, NULL);
	if ((err = check_length(st, why)) != 0)
		goto out;

	err = mu_store__begin(st, !st->read_only, &txn, why);
	if (err != 0)
		goto out;
	err = open_schema(st, txn, why);
	if (err != 0)
		goto out;
	/* Committing (a read too) keeps the database handles for later
	 * transactions. */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		err = mu_store__err(st, rc, "creating the store", why);
		goto out;
	}
	*out = st;
	st = NULL;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	*needs_upgrade = st != NULL && st->needs_upgrade;
	mu_store_close(st);
	return err;
}

int
mu_store_open(struct mu_store **out, const char *dir, const struct mu_store_opts *opts,
              struct mu_why *why)
{
	struct mu_store_opts wopts = {0, false};
	struct mu_store *st = NULL;
	bool upgrade = false;
	int err;

	err = open_store(out, dir, opts, &upgrade, why);
	if (!upgrade)
		return err;
	/* An old store opened for reading: a writer upgrades it, then the
	 * reader opens it again. The first environment is closed by now, as
	 * LMDB wants one per process. Without write access the reader's
	 * message (open it for writing once) stands. */
	wopts.map_size = opts != NULL ? opts->map_size : 0;
	if (open_store(&st, dir, &wopts, &upgrade, NULL) != 0)
		return err;
	mu_store_close(st);
	return open_store(out, dir, opts, &upgrade, why);
}

void
mu_store_close(struct mu_store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	mu_store__map_fini(st);
	if (st->defer != NULL)
		mu_store__defer_free(st->defer);
	free(st->defer);
	free(st->dir);
	free(st);
}

const char *
mu_put_result_name(enum mu_put_result r)
{
	switch (r) {
	case MU_PUT_NEW:
		return "new";
	case MU_PUT_DUPLICATE:
		return "duplicate";
	case MU_PUT_SUPERSEDED:
		return "superseded";
	case MU_PUT_DELETED:
		return "deleted";
	case MU_PUT_HELD:
		return "held";
	case MU_PUT_HELD_FULL:
		return "held-full";
	case MU_PUT_NOT_ALLOWED:
		return "organizer-kind";
	case MU_PUT_REVOKED:
		return "organizer-revoked";
	}
	return "unknown";
}

const char *
mu_alliance_state_name(enum mu_alliance_state s)
{
	switch (s) {
	case MU_ALLY_MUTUAL:
		return "mutual";
	case MU_ALLY_BY_US:
		return "proposed by us";
	case MU_ALLY_TO_US:
		return "proposed to us";
	case MU_ALLY_ENDED:
		return "ended";
	}
	return "unknown";
}
