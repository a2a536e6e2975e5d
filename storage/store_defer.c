/*
 * store_defer.c - a write batch's by_time, by_group and ev_start entries,
 * put at its commit in key order (store_defer.h says why). by_group gains
 * the most: records of many groups put one after the other land on as many
 * different pages, where sorted they fill one page after another.
 */
#include "store_defer.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "store_fp.h"

struct mu_store__deferred_entry {
	uint8_t key[MU_STORE__GROUP_KEY_BYTES]; /* the longest of the three */
	uint8_t val[MU_KEY_BYTES];
	uint64_t seq;
};

static const size_t key_len[MU_STORE__DEFER_TABLES] = {
    MU_STORE__TIME_KEY_BYTES, MU_STORE__GROUP_KEY_BYTES, MU_STORE__TIME_KEY_BYTES};

void
mu_store__defer_init(struct mu_store__defer *d, uint64_t first)
{
	for (int t = 0; t < MU_STORE__DEFER_TABLES; t++)
		d->t[t].n = 0;
	if (d->dropped != NULL)
		memset(d->dropped, 0, d->dropped_words * sizeof(*d->dropped));
	d->first = first;
}

int
mu_store__defer_add(struct mu_store__defer *d, enum mu_store__deferred_table t,
                    const uint8_t *key, const uint8_t *val, uint64_t seq,
                    struct mu_why *why)
{
	struct mu_store__deferred_list *l = &d->t[t];
	struct mu_store__deferred_entry *e;

	if (mu_buf_grow_array(&l->e, &l->cap, l->n + 1, sizeof(*e), 64) != 0)
		return mu_fail(why, MU_ENOMEM, "storing records: out of memory");
	e = &l->e[l->n++];
	memcpy(e->key, key, key_len[t]);
	if (t == MU_STORE__DEFER_TIME)
		memcpy(e->val, val, MU_KEY_BYTES);
	e->seq = seq;
	return 0;
}

int
mu_store__defer_drop(struct mu_store__defer *d, uint64_t seq, struct mu_why *why)
{
	uint64_t i;
	size_t old = d->dropped_words;

	if (seq <= d->first)
		return 0;
	i = seq - d->first - 1;
	if (i / 64 >= old) {
		if (i / 64 >= SIZE_MAX ||
		    mu_buf_grow_array(&d->dropped, &d->dropped_words, i / 64 + 1,
		                      sizeof(*d->dropped), 64) != 0)
			return mu_fail(why, MU_ENOMEM,
			               "storing records: out of memory");
		memset(d->dropped + old, 0,
		       (d->dropped_words - old) * sizeof(*d->dropped));
	}
	d->dropped[i / 64] |= UINT64_C(1) << (i % 64);
	return 0;
}

static bool
dropped(const struct mu_store__defer *d, uint64_t seq)
{
	uint64_t i = seq - d->first - 1;

	return seq > d->first && i / 64 < d->dropped_words &&
	       (d->dropped[i / 64] >> (i % 64) & 1) != 0;
}

static int
cmp_time_key(const void *a, const void *b)
{
	return memcmp(((const struct mu_store__deferred_entry *)a)->key,
	              ((const struct mu_store__deferred_entry *)b)->key,
	              MU_STORE__TIME_KEY_BYTES);
}

static int
cmp_group_key(const void *a, const void *b)
{
	return memcmp(((const struct mu_store__deferred_entry *)a)->key,
	              ((const struct mu_store__deferred_entry *)b)->key,
	              MU_STORE__GROUP_KEY_BYTES);
}

/* Records that come in created_at order (an import of an export, a
 * catch-up) add their by_time entries in key order already: one look
 * spares the sort. */
static bool
sorted(const struct mu_store__deferred_list *l, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < l->n; i++)
		if (cmp(&l->e[i - 1], &l->e[i]) > 0)
			return false;
	return true;
}

static int
flush_table(struct mu_store__defer *d, enum mu_store__deferred_table t,
            struct mu_store *st, MDB_txn *txn, MDB_dbi dbi, struct mu_why *why)
{
	struct mu_store__deferred_list *l = &d->t[t];
	uint8_t seq[MU_STORE__SEQ_BYTES], tval[MU_STORE__TIME_VAL_BYTES];
	struct mu_store__fp_run run;
	MDB_cursor *c;
	MDB_val k, v;
	int (*cmp)(const void *, const void *) =
	    t == MU_STORE__DEFER_GROUP ? cmp_group_key : cmp_time_key;
	int rc, err = 0;

	if (l->n == 0)
		return 0;
	if (!sorted(l, cmp))
		qsort(l->e, l->n, sizeof(*l->e), cmp);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return mu_store__err(st, rc, "writing to the store", why);
	mu_store__fp_run_init(&run);
	for (size_t i = 0; rc == 0 && err == 0 && i < l->n; i++) {
		const struct mu_store__deferred_entry *e = &l->e[i];

		if (dropped(d, e->seq))
			continue;
		/* A read of the map for its budget, as each put is. */
		mu_store__map_write(st, 1);
		k = (MDB_val){key_len[t], (void *)e->key};
		if (t == MU_STORE__DEFER_TIME) {
			/* The fingerprints change with by_time, in the same
			 * transaction. */
			mu_store__time_val(tval, e->val, e->seq);
			v = (MDB_val){sizeof(tval), tval};
			err = mu_store__fp_run_add(st, txn, &run,
			                           mu_store__get_be64(e->key),
			                           e->key + 8, e->val, false, why);
		} else if (t == MU_STORE__DEFER_GROUP) {
			mu_store__put_be64(seq, e->seq);
			v = (MDB_val){sizeof(seq), seq};
		} else {
			v = (MDB_val){0, NULL};
		}
		rc = mdb_cursor_put(c, &k, &v, 0);
	}
	mdb_cursor_close(c);
	l->n = 0;
	if (err == 0 && rc == 0)
		err = mu_store__fp_run_flush(st, txn, &run, why);
	mu_store__fp_run_free(&run);
	return err != 0 ? err : mu_store__err(st, rc, "writing to the store", why);
}

int
mu_store__defer_flush(struct mu_store__defer *d, struct mu_store *st, MDB_txn *txn,
                      struct mu_why *why)
{
	const MDB_dbi dbi[MU_STORE__DEFER_TABLES] = {st->by_time, st->by_group,
	                                             st->ev_start};
	int err = 0;

	for (int t = 0; err == 0 && t < MU_STORE__DEFER_TABLES; t++)
		err = flush_table(d, t, st, txn, dbi[t], why);
	return err;
}

void
mu_store__defer_free(struct mu_store__defer *d)
{
	for (int t = 0; t < MU_STORE__DEFER_TABLES; t++)
		free(d->t[t].e);
	free(d->dropped);
	memset(d, 0, sizeof(*d));
}
