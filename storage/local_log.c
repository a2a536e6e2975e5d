/*
 * local_log.c - the log of stored records (local.h). Since schema 3 the log
 * is the bodies database itself: every record is stored under the next
 * sequence number, and a dropped record (superseded or deleted) leaves with
 * its body, so a reader finds what is stored now in the order it came.
 * Numbers come from meta "seq", never from the last body, so they are never
 * given twice and a reader's position stays valid.
 *
 * Also the upgrade of older stores to that layout, and of schema-7 ones to
 * by_time entries that carry the sequence number.
 */
#include "local.h"

#include <stdint.h>
#include <string.h>

#include "store_keys.h"

int
mu_store_log_last(struct mu_store *st, uint64_t *seq)
{
	MDB_txn *txn;
	int err;

	*seq = 0;
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__seq_read(st, txn, seq, NULL);
	mdb_txn_abort(txn);
	return err;
}

bool
mu_store_logged(const struct mu_store *st)
{
	return st != NULL && st->logged;
}

struct log_visit {
	struct mu_store *st;
	mu_store_log_fn fn;
	void *ctx;
	size_t calls, max;
	bool full; /* max records handed on, and another entry read */
};

static int
log_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct log_visit *lv = ctx;
	struct mu_record rec;
	uint64_t seq;
	int err;

	(void)txn;
	if (lv->calls == lv->max) {
		lv->full = true;
		return 1;
	}
	if (k->mv_size != MU_STORE__SEQ_BYTES)
		return MU_ECORRUPT;
	seq = mu_store__get_be64(k->mv_data);
	err = mu_store__parse_body(lv->st, seq, v, NULL, &rec, NULL);
	if (err == 0)
		err = lv->fn(lv->ctx, seq, &rec);
	if (err == 0)
		lv->calls++;
	return err;
}

int
mu_store_log_since(struct mu_store *st, uint64_t seq, size_t max, mu_store_log_fn fn,
                   void *ctx)
{
	struct log_visit lv = {st, fn, ctx, 0, max, false};
	uint8_t key[MU_STORE__SEQ_BYTES];
	MDB_val k = {sizeof(key), key};
	int err;

	if (max == 0 || seq == UINT64_MAX)
		return 0;
	mu_store__put_be64(key, seq + 1);
	err = mu_store__read_scan(st, st->bodies, &k, 0, log_entry, &lv,
	                          "reading the store's log");
	return lv.full ? 0 : err;
}

/* --- the upgrade of schemas 1 and 2 --------------------------------------- */

struct upgrade {
	struct mu_store *st;
	MDB_dbi old; /* id -> record bytes */
	uint64_t seq;
	struct mu_why *why;
};

static int
time_damaged(struct mu_store *st, struct mu_why *why)
{
	return mu_fail(why, MU_ECORRUPT,
	               "the store at %s has a damaged time index and cannot be "
	               "upgraded: restore it from a backup or an export",
	               st->dir);
}

static int
damaged(struct upgrade *u)
{
	return time_damaged(u->st, u->why);
}

/* One by_time entry: its record moves to the next sequence number, and
 * gets its by_group entry. */
static int
move_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *g)
{
	struct upgrade *u = ctx;
	uint8_t key[MU_STORE__SEQ_BYTES], gkey[MU_STORE__GROUP_KEY_BYTES];
	MDB_val id, body, sk = {sizeof(key), key}, gk = {sizeof(gkey), gkey};
	int rc;

	if (k->mv_size != MU_STORE__TIME_KEY_BYTES || g->mv_size != MU_KEY_BYTES)
		return damaged(u);
	memcpy(gkey, g->mv_data, MU_KEY_BYTES);
	memcpy(gkey + MU_KEY_BYTES, k->mv_data, MU_STORE__TIME_KEY_BYTES);
	id.mv_size = MU_ID_BYTES;
	id.mv_data = (uint8_t *)k->mv_data + 8;
	rc = mdb_get(txn, u->old, &id, &body);
	if (rc == MDB_NOTFOUND)
		return damaged(u);
	mu_store__put_be64(key, ++u->seq);
	/* The old pages are not written by these puts, so body stays valid. */
	if (rc == 0)
		rc = mdb_put(txn, u->st->bodies, &sk, &body, MDB_APPEND);
	if (rc == 0)
		rc = mdb_put(txn, u->st->ids, &id, &sk, 0);
	if (rc == 0)
		rc = mdb_put(txn, u->st->by_group, &gk, &sk, 0);
	return mu_store__err(u->st, rc, "upgrading the store", u->why);
}

/* Drops the old database name if the store has it. */
static int
drop_old(struct mu_store *st, MDB_txn *txn, const char *name, struct mu_why *why)
{
	MDB_dbi dbi;
	int rc = mdb_dbi_open(txn, name, 0, &dbi);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = mdb_drop(txn, dbi, 1);
	return mu_store__err(st, rc, "upgrading the store", why);
}

int
mu_store__upgrade_bodies(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	static const char *const old_name[] = {"records"};
	struct upgrade u = {st, 0, 0, why};
	MDB_dbi *const old_slot[] = {&u.old};
	MDB_stat ms;
	int rc, err;

	if ((err = mu_store__open_dbs(st, txn, old_name, old_slot, 1, 0, why)) != 0)
		return err;
	err = mu_store__scan(st, txn, st->by_time, NULL, 0, move_entry, &u,
	                     "upgrading the store");
	/* A record missing from by_time would be lost with the old table. */
	if (err == 0 && (rc = mdb_stat(txn, u.old, &ms)) != 0)
		err = mu_store__err(st, rc, "upgrading the store", why);
	if (err == 0 && ms.ms_entries != u.seq)
		err = damaged(&u);
	if (err == 0)
		err = mu_store__seq_write(st, txn, u.seq, why);
	if (err == 0)
		err = mu_store__err(st, mdb_drop(txn, u.old, 1), "upgrading the store",
		                    why);
	if (err == 0)
		err = drop_old(st, txn, "log", why);
	return err;
}

/* --- the upgrade to schema 8 ---------------------------------------------- */

int
mu_store__upgrade_time_seq(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	uint8_t key[MU_STORE__TIME_KEY_BYTES], val[MU_STORE__TIME_VAL_BYTES];
	MDB_cursor *c;
	MDB_val k, v, id, seq, nk = {sizeof(key), key}, nv = {sizeof(val), val};
	MDB_stat ms;
	size_t n = 0;
	bool bad = false;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->by_time, &c)) != 0)
		return mu_store__err(st, rc, "upgrading the store", why);
	/* Rewritten in place, in key order: each leaf of by_time is copied
	 * once, the entries that no longer fit split off as they come. */
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		n++;
		id.mv_size = MU_ID_BYTES;
		id.mv_data = (uint8_t *)k.mv_data + 8;
		if (k.mv_size != MU_STORE__TIME_KEY_BYTES ||
		    v.mv_size != MU_KEY_BYTES ||
		    (rc = mdb_get(txn, st->ids, &id, &seq)) == MDB_NOTFOUND ||
		    (rc == 0 && seq.mv_size != MU_STORE__SEQ_BYTES)) {
			bad = true;
			break;
		}
		if (rc != 0)
			break;
		/* The put moves the entry within its page: what it is given
		 * must not point there. */
		memcpy(key, k.mv_data, sizeof(key));
		mu_store__time_val(val, v.mv_data, mu_store__get_be64(seq.mv_data));
		if ((rc = mdb_cursor_put(c, &nk, &nv, MDB_CURRENT)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (!bad && rc == MDB_NOTFOUND) {
		if ((rc = mdb_stat(txn, st->by_time, &ms)) != 0)
			return mu_store__err(st, rc, "upgrading the store", why);
		/* Fewer entries walked than counted: a page LMDB skipped. */
		bad = ms.ms_entries != n;
		if (!bad)
			return 0;
	}
	if (bad)
		return time_damaged(st, why);
	return mu_store__err(st, rc, "upgrading the store", why);
}
