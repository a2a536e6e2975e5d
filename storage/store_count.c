/*
 * store_count.c - how many records the store holds, of each kind and of
 * each group (store.h, mu_store_counts), counted from the indexes' entry
 * counts and keys: no record is read, so that `muster status` stays instant
 * on a store of millions; this walks the keys of by_group and of the few
 * addresses that are no events.
 *
 * The counts rest on invariants that every put keeps (README.md) and
 * `muster check` verifies, and on nothing the write path does for them:
 *   - ids has one entry per stored record;
 *   - every kind but delete is replaceable and a replaceable record is
 *     stored only as the current version of its address, so current has one
 *     entry per stored record that is no delete, under a key that starts
 *     with its kind, and the deletes are the rest;
 *   - ev_start has one entry per current event, so its entry count stands
 *     in for a walk over the events' addresses, the bulk of most stores;
 *   - by_group has one entry per record under a key that starts with its
 *     group, so each group's records are one run of keys;
 *   - grpcount has one entry per group with records, its number of them.
 * The counts are given only when the tables agree: the kinds' counts add
 * up to current's entries, and by_group and grpcount agree on every group.
 * A damaged key would otherwise move a record to another kind, or show as
 * a group of its own.
 * A change to these indexes in store_put.c is to be mirrored here.
 */
#include "store.h"

#include <string.h>

#include "store_keys.h"

struct walk {
	struct mu_store *st;
	MDB_txn *txn;
	uint64_t n;    /* in the current run: of a kind, or of group */
	uint64_t runs; /* groups handed over so far */
	uint8_t group[MU_KEY_BYTES];
	mu_store_group_count_fn fn;
	void *ctx;
};

static int
count_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = ctx;

	(void)txn;
	(void)k;
	(void)v;
	w->n++;
	return 0;
}

/* The number of entries of current under one kind. */
static int
count_kind(struct walk *w, MDB_txn *txn, enum mu_kind kind, uint64_t *n)
{
	uint8_t prefix[1 + MU_KEY_BYTES];
	MDB_val k;
	int err;

	k.mv_size = mu_store__addr_prefix(prefix, kind, NULL);
	k.mv_data = prefix;
	w->n = 0;
	err = mu_store__scan(w->st, txn, w->st->current, &k, k.mv_size, count_entry, w,
	                     "counting the records");
	*n = w->n;
	return err;
}

/* A run of by_group's keys, one group's, held against grpcount before
 * it is handed over. */
static int
end_run(struct walk *w)
{
	MDB_val k = {MU_KEY_BYTES, w->group}, v;
	int rc = mdb_get(w->txn, w->st->grpcount, &k, &v);

	if (rc == MDB_NOTFOUND ||
	    (rc == 0 && (v.mv_size != 8 || mu_store__get_be64(v.mv_data) != w->n)))
		return MU_ECORRUPT;
	if (rc != 0)
		return mu_store__err(w->st, rc, "counting the records", NULL);
	w->runs++;
	return w->fn(w->ctx, w->group, w->n);
}

/* An entry of by_group: a run of one group's keys ends where another's
 * begins. */
static int
group_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = ctx;
	int err;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_STORE__GROUP_KEY_BYTES)
		return MU_ECORRUPT;
	if (w->n > 0 && memcmp(w->group, k->mv_data, MU_KEY_BYTES) != 0) {
		if ((err = end_run(w)) != 0)
			return err;
		w->n = 0;
	}
	if (w->n++ == 0)
		memcpy(w->group, k->mv_data, MU_KEY_BYTES);
	return 0;
}

static int
entries(struct mu_store *st, MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
	MDB_stat ms;
	int rc = mdb_stat(txn, dbi, &ms);

	if (rc == 0)
		*n = ms.ms_entries;
	return mu_store__err(st, rc, "counting the records", NULL);
}

int
mu_store_counts(struct mu_store *st, struct mu_store_counts *out,
                mu_store_group_count_fn fn, void *ctx)
{
	struct walk w = {st, NULL, 0, 0, {0}, fn, ctx};
	uint64_t stored_current = 0, counted, groups = 0;
	MDB_txn *txn;
	int err;

	memset(out, 0, sizeof(*out));
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	if ((err = entries(st, txn, st->ids, &out->records)) != 0 ||
	    (err = entries(st, txn, st->current, &stored_current)) != 0 ||
	    (err = entries(st, txn, st->ev_start, &out->kinds[MU_KIND_EVENT])) != 0)
		goto out;
	if (stored_current > out->records) {
		err = MU_ECORRUPT;
		goto out;
	}
	out->kinds[MU_KIND_DELETE] = out->records - stored_current;
	counted = out->kinds[MU_KIND_EVENT];
	for (int kind = MU_KIND_NONE + 1; kind < MU_KIND_COUNT; kind++) {
		if (kind == MU_KIND_EVENT || !mu_kind_replaceable(kind))
			continue;
		if ((err = count_kind(&w, txn, kind, &out->kinds[kind])) != 0)
			goto out;
		counted += out->kinds[kind];
	}
	/* A key of current whose kind was damaged would move a record from
	 * one kind's count to another's, or out of them all. */
	if (counted != stored_current) {
		err = MU_ECORRUPT;
		goto out;
	}
	if (fn != NULL) {
		w.txn = txn;
		w.n = 0;
		err = mu_store__scan(st, txn, st->by_group, NULL, 0, group_entry, &w,
		                     "counting the records");
		if (err == 0 && w.n > 0)
			err = end_run(&w);
		if (err == 0 && (err = entries(st, txn, st->grpcount, &groups)) == 0 &&
		    groups != w.runs)
			err = MU_ECORRUPT;
	}
out:
	(void)mu_store__release_map_in(st);
	mdb_txn_abort(txn);
	return err;
}

int
mu_store_group_newest(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                      int64_t *newest)
{
	uint8_t next[MU_KEY_BYTES];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = {sizeof(next), next}, v;
	int err, rc, i;

	*newest = 0;
	/* The key after every key of group: the next group, as a 256-bit
	 * number; none when group is the last there can be. */
	memcpy(next, group, sizeof(next));
	for (i = MU_KEY_BYTES - 1; i >= 0 && ++next[i] == 0; i--)
		;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	if ((rc = mdb_cursor_open(txn, st->by_group, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mu_store__err(st, rc, "reading the group index", NULL);
	}
	rc = i < 0 ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size != MU_STORE__GROUP_KEY_BYTES)
		err = MU_ECORRUPT;
	else if (rc == 0 && memcmp(k.mv_data, group, MU_KEY_BYTES) == 0)
		*newest = (int64_t)mu_store__get_be64((const uint8_t *)k.mv_data +
		                                      MU_KEY_BYTES);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		err = mu_store__err(st, rc, "reading the group index", NULL);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return err;
}
