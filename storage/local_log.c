/*
 * local_log.c - the log of stored records (local.h): seq -> id, appended by
 * every put that stores a record as new, so that a daemon can push what
 * another process (the CLI) stored while it runs.
 *
 * The log only grows: an entry whose record was dropped later (superseded or
 * deleted) stays and is skipped on reading, so sequence numbers are never
 * reused and a reader's position stays valid.
 */
#include "local.h"

#include <stdint.h>
#include <string.h>

#include "store_keys.h"

#define SEQ_BYTES 8

/* The last sequence number through an open log cursor (0: empty). */
static int
last_seq(struct mu_store *st, MDB_cursor *cur, uint64_t *seq, struct mu_why *why)
{
	MDB_val k, v;
	int rc;

	*seq = 0;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mu_store__err(st, rc, "reading the store's log", why);
	if (k.mv_size != SEQ_BYTES)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a damaged log entry: restore it "
		               "from a backup or an export",
		               st->dir);
	*seq = mu_store__get_be64(k.mv_data);
	return 0;
}

static int
append(struct mu_store *st, MDB_cursor *cur, uint64_t seq,
       const uint8_t id[MU_ID_BYTES], struct mu_why *why)
{
	uint8_t key[SEQ_BYTES];
	MDB_val k = {sizeof(key), key}, v = {MU_ID_BYTES, (void *)id};

	mu_store__put_be64(key, seq);
	/* Sequence numbers only grow: MDB_APPEND skips the search. */
	return mu_store__err(st, mdb_cursor_put(cur, &k, &v, MDB_APPEND),
	                     "writing to the store's log", why);
}

int
mu_store__log_append(struct mu_store *st, MDB_txn *txn, const uint8_t id[MU_ID_BYTES],
                     struct mu_why *why)
{
	MDB_cursor *cur = NULL;
	uint64_t seq;
	int err, rc;

	rc = mdb_cursor_open(txn, st->log, &cur);
	if (rc != 0)
		return mu_store__err(st, rc, "opening the store's log", why);
	err = last_seq(st, cur, &seq, why);
	if (err == 0)
		err = append(st, cur, seq + 1, id, why);
	mdb_cursor_close(cur);
	return err;
}

int
mu_store__log_fill(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	MDB_cursor *log = NULL, *time = NULL;
	MDB_val k, v;
	uint64_t seq;
	int err, rc;

	rc = mdb_cursor_open(txn, st->log, &log);
	if (rc == 0)
		rc = mdb_cursor_open(txn, st->by_time, &time);
	if (rc != 0) {
		err = mu_store__err(st, rc, "upgrading the store", why);
		goto out;
	}
	err = last_seq(st, log, &seq, why);
	if (err != 0)
		goto out;
	for (rc = mdb_cursor_get(time, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(time, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MU_STORE__TIME_KEY_BYTES) {
			err = mu_fail(why, MU_ECORRUPT,
			              "the store at %s has a damaged time index: "
			              "restore it from a backup or an export",
			              st->dir);
			goto out;
		}
		err = append(st, log, ++seq, (const uint8_t *)k.mv_data + 8, why);
		if (err != 0)
			goto out;
	}
	if (rc != MDB_NOTFOUND)
		err = mu_store__err(st, rc, "upgrading the store", why);
out:
	if (time != NULL)
		mdb_cursor_close(time);
	if (log != NULL)
		mdb_cursor_close(log);
	return err;
}

int
mu_store_log_last(struct mu_store *st, uint64_t *seq)
{
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	int err, rc;

	*seq = 0;
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	rc = mdb_cursor_open(txn, st->log, &cur);
	if (rc != 0)
		err = mu_store__err(st, rc, "opening the store's log", NULL);
	else
		err = last_seq(st, cur, seq, NULL);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return err;
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
	int err;

	if (lv->calls == lv->max) {
		lv->full = true;
		return 1;
	}
	if (k->mv_size != SEQ_BYTES || v->mv_size != MU_ID_BYTES)
		return MU_ECORRUPT;
	err = mu_store__load(lv->st, txn, v->mv_data, &rec, NULL);
	if (err == MU_ENOTFOUND)
		return 0; /* dropped since: superseded or deleted */
	if (err == 0)
		err = lv->fn(lv->ctx, mu_store__get_be64(k->mv_data), &rec);
	if (err == 0)
		lv->calls++;
	return err;
}

int
mu_store_log_since(struct mu_store *st, uint64_t seq, size_t max, mu_store_log_fn fn,
                   void *ctx)
{
	struct log_visit lv = {st, fn, ctx, 0, max, false};
	uint8_t key[SEQ_BYTES];
	MDB_val k = {sizeof(key), key};
	int err;

	if (max == 0 || seq == UINT64_MAX)
		return 0;
	mu_store__put_be64(key, seq + 1);
	err = mu_store__read_scan(st, st->log, &k, 0, log_entry, &lv,
	                          "reading the store's log");
	return lv.full ? 0 : err;
}
