/*
 * store_fp.c - keeping the negentropy fingerprint table (store_fp.h). The
 * reads that use it are in local_fp.c.
 */
#include "store_fp.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../protocol/negentropy.h"

void
mu_store__fp_sum_add(struct mu_store__fp_sum *acc, const struct mu_store__fp_sum *x)
{
	acc->count += x->count;
	mu_neg_sum_add(acc->w, x->w);
}

void
mu_store__fp_sum_sub(struct mu_store__fp_sum *acc, const struct mu_store__fp_sum *x)
{
	uint64_t borrow = 0;

	acc->count -= x->count;
	for (int l = 0; l < 4; l++) {
		uint64_t a = acc->w[l], d = a - x->w[l];
		uint64_t b = a < x->w[l];

		b |= d < borrow;
		d -= borrow;
		acc->w[l] = d;
		borrow = b;
	}
}

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
mu_store__fp_sum_id(struct mu_store__fp_sum *acc, const uint8_t id[MU_ID_BYTES])
{
	acc->count++;
	mu_neg_sum_id(acc->w, id);
}

unsigned
mu_store__fp_shift(int level)
{
	return 8u * (unsigned)(level + 1);
}

int
mu_store__fp_value(const MDB_val *v, struct mu_store__fp_sum *out)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != MU_STORE__FP_VAL_BYTES)
		return MU_ECORRUPT;
	out->count = mu_store__get_be64(p);
	for (int l = 0; l < 4; l++)
		out->w[l] = le64(p + 8 + 8 * l);
	return 0;
}

static bool
sum_zero(const struct mu_store__fp_sum *s)
{
	return s->count == 0 && (s->w[0] | s->w[1] | s->w[2] | s->w[3]) == 0;
}

/* Adds d to the bucket's entry; an entry whose count falls to 0 goes. */
static int
apply(struct mu_store *st, MDB_txn *txn, int level, uint64_t bucket,
      const struct mu_store__fp_sum *d, struct mu_why *why)
{
	uint8_t key[MU_STORE__FP_KEY_BYTES], val[MU_STORE__FP_VAL_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	struct mu_store__fp_sum s = {0, {0, 0, 0, 0}};
	int rc;

	if (sum_zero(d))
		return 0;
	key[0] = (uint8_t)level;
	mu_store__put_be64(key + 1, bucket);
	rc = mdb_get(txn, st->negfp, &k, &v);
	if (rc == 0 && mu_store__fp_value(&v, &s) != 0)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a damaged fingerprint entry: run "
		               "muster check",
		               st->dir);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mu_store__err(st, rc, "writing to the store", why);
	mu_store__fp_sum_add(&s, d);
	if (s.count == 0) {
		if (!sum_zero(&s))
			return mu_fail(why, MU_ECORRUPT,
			               "the store at %s has fingerprints out of step "
			               "with its records: run muster check",
			               st->dir);
		rc = mdb_del(txn, st->negfp, &k, NULL);
		return mu_store__err(st, rc, "writing to the store", why);
	}
	mu_store__put_be64(val, s.count);
	for (int l = 0; l < 4; l++)
		put_le64(val + 8 + 8 * l, s.w[l]);
	v = (MDB_val){sizeof(val), val};
	rc = mdb_put(txn, st->negfp, &k, &v, 0);
	return mu_store__err(st, rc, "writing to the store", why);
}

void
mu_store__fp_run_init(struct mu_store__fp_run *run)
{
	memset(run, 0, sizeof(*run));
}

int
mu_store__fp_run_add(struct mu_store *st, MDB_txn *txn, struct mu_store__fp_run *run,
                     uint64_t ts, const uint8_t id[MU_ID_BYTES], bool remove,
                     struct mu_why *why)
{
	struct mu_store__fp_sum one = {0, {0, 0, 0, 0}};
	int err;

	mu_store__fp_sum_id(&one, id);
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++) {
		uint64_t b = ts >> mu_store__fp_shift(l);

		if (run->used[l] && run->bucket[l] != b) {
			err = apply(st, txn, l, run->bucket[l], &run->d[l], why);
			if (err != 0)
				return err;
			run->used[l] = false;
		}
		if (!run->used[l]) {
			run->used[l] = true;
			run->bucket[l] = b;
			memset(&run->d[l], 0, sizeof(run->d[l]));
		}
		if (remove)
			mu_store__fp_sum_sub(&run->d[l], &one);
		else
			mu_store__fp_sum_add(&run->d[l], &one);
	}
	return 0;
}

int
mu_store__fp_run_flush(struct mu_store *st, MDB_txn *txn, struct mu_store__fp_run *run,
                       struct mu_why *why)
{
	int err = 0;

	for (int l = 0; err == 0 && l < MU_STORE__FP_LEVELS; l++)
		if (run->used[l])
			err = apply(st, txn, l, run->bucket[l], &run->d[l], why);
	mu_store__fp_run_init(run);
	return err;
}

struct rebuild {
	struct mu_store *st;
	struct mu_store__fp_run run;
	struct mu_why *why;
};

static int
rebuild_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct rebuild *r = ctx;
	const uint8_t *key = k->mv_data;

	(void)v;
	if (k->mv_size != MU_STORE__TIME_KEY_BYTES)
		return MU_ECORRUPT;
	return mu_store__fp_run_add(r->st, txn, &r->run, mu_store__get_be64(key),
	                            key + 8, false, r->why);
}

int
mu_store__fp_rebuild(struct mu_store *st, MDB_txn *txn, struct mu_why *why)
{
	struct rebuild r;
	int err;

	r.st = st;
	r.why = why;
	mu_store__fp_run_init(&r.run);
	err =
	    mu_store__err(st, mdb_drop(txn, st->negfp, 0), "upgrading the store", why);
	if (err == 0)
		err = mu_store__scan(st, txn, st->by_time, NULL, 0, rebuild_entry, &r,
		                     "upgrading the store");
	if (err == 0)
		err = mu_store__fp_run_flush(st, txn, &r.run, why);
	return err;
}

/* --- the recount (muster check) -------------------------------------------- */

struct fp_entry {
	uint64_t bucket;
	struct mu_store__fp_sum s;
};

struct recount {
	struct fp_entry *v[MU_STORE__FP_LEVELS];
	size_t n[MU_STORE__FP_LEVELS], cap[MU_STORE__FP_LEVELS];
	size_t next[MU_STORE__FP_LEVELS]; /* the comparison's place */
	mu_store__fp_bad_fn bad;
	void *ctx;
};

static int
recount_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct recount *r = ctx;
	const uint8_t *key = k->mv_data;
	uint64_t ts;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_STORE__TIME_KEY_BYTES)
		return 0; /* the by_time pass reports it */
	ts = mu_store__get_be64(key);
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++) {
		uint64_t b = ts >> mu_store__fp_shift(l);
		struct fp_entry *e;

		if (r->n[l] == 0 || r->v[l][r->n[l] - 1].bucket != b) {
			if (mu_buf_grow_array(&r->v[l], &r->cap[l], r->n[l] + 1,
			                      sizeof(*r->v[l]), 256) != 0)
				return MU_ENOMEM;
			e = &r->v[l][r->n[l]++];
			memset(e, 0, sizeof(*e));
			e->bucket = b;
		}
		mu_store__fp_sum_id(&r->v[l][r->n[l] - 1].s, key + 8);
	}
	return 0;
}

static int
compare_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct recount *r = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_store__fp_sum s;
	struct fp_entry *e;
	uint64_t b;
	int l, err;

	(void)txn;
	if (k->mv_size != MU_STORE__FP_KEY_BYTES || key[0] >= MU_STORE__FP_LEVELS ||
	    mu_store__fp_value(v, &s) != 0)
		return r->bad(r->ctx, -1, 0, "an entry of the wrong size");
	l = key[0];
	b = mu_store__get_be64(key + 1);
	while (r->next[l] < r->n[l] && r->v[l][r->next[l]].bucket < b) {
		e = &r->v[l][r->next[l]++];
		if ((err = r->bad(r->ctx, l, e->bucket, "missing")) != 0)
			return err;
	}
	if (r->next[l] == r->n[l] || r->v[l][r->next[l]].bucket != b)
		return r->bad(r->ctx, l, b, "for records that are not stored");
	e = &r->v[l][r->next[l]++];
	if (memcmp(&e->s, &s, sizeof(s)) != 0)
		return r->bad(r->ctx, l, b, "with another count or sum");
	return 0;
}

int
mu_store__fp_verify(struct mu_store *st, MDB_txn *txn, mu_store__fp_bad_fn bad,
                    void *ctx)
{
	struct recount r;
	int err;

	memset(&r, 0, sizeof(r));
	r.bad = bad;
	r.ctx = ctx;
	err = mu_store__scan(st, txn, st->by_time, NULL, 0, recount_entry, &r,
	                     "checking the store");
	if (err == 0)
		err = mu_store__scan(st, txn, st->negfp, NULL, 0, compare_entry, &r,
		                     "checking the store");
	for (int l = 0; err == 0 && l < MU_STORE__FP_LEVELS; l++)
		while (err == 0 && r.next[l] < r.n[l])
			err = bad(ctx, l, r.v[l][r.next[l]++].bucket, "missing");
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++)
		free(r.v[l]);
	return err;
}
