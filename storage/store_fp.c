/*
 * store_fp.c - keeping the negentropy fingerprint table (store_fp.h). The
 * reads that use it are in local_fp.c.
 */
#include "store_fp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../protocol/negentropy.h"
#include "../protocol/scope.h"

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

/* Adds d to the bucket's entry; an entry whose count falls to 0 goes. The
 * run's cursor finds the entry and then changes it where it found it, one
 * search for both; a run's buckets come in key order, mostly on the page
 * the cursor is on already, where LMDB looks first. */
static int
apply(struct mu_store *st, MDB_txn *txn, struct mu_store__fp_run *run, int level,
      uint64_t bucket, const struct mu_store__fp_sum *d, struct mu_why *why)
{
	uint8_t key[MU_STORE__FP_KEY_BYTES], val[MU_STORE__FP_VAL_BYTES];
	MDB_val k = {sizeof(key), key}, v;
	struct mu_store__fp_sum s = {0, {0, 0, 0, 0}};
	unsigned flags = MDB_CURRENT;
	int rc;

	if (sum_zero(d))
		return 0;
	if (run->c == NULL && (rc = mdb_cursor_open(txn, st->negfp, &run->c)) != 0)
		return mu_store__err(st, rc, "writing to the store", why);
	key[0] = (uint8_t)level;
	mu_store__put_be64(key + 1, bucket);
	rc = mdb_cursor_get(run->c, &k, &v, MDB_SET);
	if (rc == 0 && mu_store__fp_value(&v, &s) != 0)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a damaged fingerprint entry: run "
		               "muster check",
		               st->dir);
	if (rc == MDB_NOTFOUND)
		flags = 0;
	else if (rc != 0)
		return mu_store__err(st, rc, "writing to the store", why);
	mu_store__fp_sum_add(&s, d);
	if (s.count == 0) {
		if (!sum_zero(&s) || flags == 0)
			return mu_fail(why, MU_ECORRUPT,
			               "the store at %s has fingerprints out of step "
			               "with its records: run muster check",
			               st->dir);
		rc = mdb_cursor_del(run->c, 0);
		return mu_store__err(st, rc, "writing to the store", why);
	}
	mu_store__put_be64(val, s.count);
	for (int l = 0; l < 4; l++)
		put_le64(val + 8 + 8 * l, s.w[l]);
	k = (MDB_val){sizeof(key), key};
	v = (MDB_val){sizeof(val), val};
	rc = mdb_cursor_put(run->c, &k, &v, flags);
	return mu_store__err(st, rc, "writing to the store", why);
}

/* Adds d to the group's count; an entry whose count falls to 0 goes. */
static int
apply_group(struct mu_store *st, MDB_txn *txn, const struct mu_store__fp_group *g,
            struct mu_why *why)
{
	uint8_t val[8];
	MDB_val k = {MU_KEY_BYTES, (void *)g->key}, v;
	uint64_t n = 0;
	int rc;

	if (g->d == 0)
		return 0;
	rc = mdb_get(txn, st->grpcount, &k, &v);
	if (rc == 0 && v.mv_size != sizeof(val))
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a damaged group count: run "
		               "muster check",
		               st->dir);
	if (rc == 0)
		n = mu_store__get_be64(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		return mu_store__err(st, rc, "writing to the store", why);
	if (g->d < 0 && n < (uint64_t)-g->d)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has group counts out of step with "
		               "its records: run muster check",
		               st->dir);
	n += (uint64_t)g->d;
	if (n == 0)
		return mu_store__err(st, mdb_del(txn, st->grpcount, &k, NULL),
		                     "writing to the store", why);
	mu_store__put_be64(val, n);
	v = (MDB_val){sizeof(val), val};
	return mu_store__err(st, mdb_put(txn, st->grpcount, &k, &v, 0),
	                     "writing to the store", why);
}

void
mu_store__fp_run_init(struct mu_store__fp_run *run)
{
	memset(run, 0, sizeof(*run));
}

void
mu_store__fp_run_free(struct mu_store__fp_run *run)
{
	if (run->c != NULL)
		mdb_cursor_close(run->c);
	free(run->g);
	mu_store__fp_run_init(run);
}

/* The entry of group g in a sorted array of *n, made when it has none;
 * NULL: no memory. */
static struct mu_store__fp_group *
group_slot(struct mu_store__fp_group **v, size_t *n, size_t *cap,
           const uint8_t g[MU_KEY_BYTES])
{
	bool found = false;
	size_t i = *n == 0 ? 0 : mu_key_position(*v, *n, sizeof(**v), g, &found);

	if (found)
		return &(*v)[i];
	if (mu_buf_grow_array(v, cap, *n + 1, sizeof(**v), 64) != 0)
		return NULL;
	memmove(&(*v)[i + 1], &(*v)[i], (*n - i) * sizeof(**v));
	memcpy((*v)[i].key, g, MU_KEY_BYTES);
	(*v)[i].d = 0;
	(*n)++;
	return &(*v)[i];
}

int
mu_store__fp_run_add(struct mu_store *st, MDB_txn *txn, struct mu_store__fp_run *run,
                     uint64_t ts, const uint8_t id[MU_ID_BYTES],
                     const uint8_t group[MU_KEY_BYTES], bool remove, struct mu_why *why)
{
	struct mu_store__fp_sum one = {0, {0, 0, 0, 0}};
	struct mu_store__fp_group *g;
	int err;

	/* Consecutive records of one group (a scan of by_group, one
	 * group's batch) find it without a search. */
	if (run->ng > 0 && memcmp(run->g[run->ng - 1].key, group, MU_KEY_BYTES) == 0)
		g = &run->g[run->ng - 1];
	else if ((g = group_slot(&run->g, &run->ng, &run->capg, group)) == NULL)
		return mu_fail(why, MU_ENOMEM, "writing to the store: out of memory");
	g->d += remove ? -1 : 1;

	mu_store__fp_sum_id(&one, id);
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++) {
		uint64_t b = ts >> mu_store__fp_shift(l);

		if (run->used[l] && run->bucket[l] != b) {
			err = apply(st, txn, run, l, run->bucket[l], &run->d[l], why);
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
			err = apply(st, txn, run, l, run->bucket[l], &run->d[l], why);
	for (size_t i = 0; err == 0 && i < run->ng; i++)
		err = apply_group(st, txn, &run->g[i], why);
	mu_store__fp_run_free(run);
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

	if (k->mv_size != MU_STORE__TIME_KEY_BYTES ||
	    v->mv_size != MU_STORE__TIME_VAL_BYTES)
		return MU_ECORRUPT;
	return mu_store__fp_run_add(r->st, txn, &r->run, mu_store__get_be64(key),
	                            key + 8, v->mv_data, false, r->why);
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
		err = mu_store__err(st, mdb_drop(txn, st->grpcount, 0),
		                    "upgrading the store", why);
	if (err == 0)
		err = mu_store__scan(st, txn, st->by_time, NULL, 0, rebuild_entry, &r,
		                     "upgrading the store");
	if (err == 0)
		err = mu_store__fp_run_flush(st, txn, &r.run, why);
	mu_store__fp_run_free(&r.run);
	return err;
}

struct groups {
	mu_store__group_fn fn;
	void *ctx;
};

static int
group_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct groups *g = ctx;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return MU_ECORRUPT;
	return g->fn(g->ctx, k->mv_data, mu_store__get_be64(v->mv_data));
}

int
mu_store__fp_groups(struct mu_store *st, MDB_txn *txn, mu_store__group_fn fn, void *ctx)
{
	struct groups g = {fn, ctx};

	return mu_store__scan(st, txn, st->grpcount, NULL, 0, group_entry, &g,
	                      "reading the groups held");
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
	struct mu_store__fp_group *g;     /* the groups' counts */
	size_t ng, capg, gnext;
	mu_store__fp_bad_fn bad;
	void *ctx;
};

static int
recount_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct recount *r = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_store__fp_group *g;
	uint64_t ts;

	(void)txn;
	if (k->mv_size != MU_STORE__TIME_KEY_BYTES ||
	    v->mv_size != MU_STORE__TIME_VAL_BYTES)
		return 0; /* the by_time pass reports it */
	if ((g = group_slot(&r->g, &r->ng, &r->capg, v->mv_data)) == NULL)
		return MU_ENOMEM;
	g->d++;
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

/* A grpcount entry that the recount does not give. */
static int
group_bad(struct recount *r, const uint8_t *g, const char *what)
{
	char text[256];

	snprintf(text, sizeof(text),
	         "the count of the records of group %02x%02x%02x%02x... is %s "
	         "(the records are not at fault: an export of them imported into "
	         "a new home rebuilds it)",
	         g[0], g[1], g[2], g[3], what);
	return r->bad(r->ctx, MU_STORE__FP_GROUPS, 0, text);
}

static int
compare_group(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct recount *r = ctx;
	const struct mu_store__fp_group *e;
	int err;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return r->bad(r->ctx, MU_STORE__FP_GROUPS, 0,
		              "an entry of grpcount of the wrong size");
	while (r->gnext < r->ng &&
	       memcmp(r->g[r->gnext].key, k->mv_data, MU_KEY_BYTES) < 0)
		if ((err = group_bad(r, r->g[r->gnext++].key, "missing")) != 0)
			return err;
	if (r->gnext == r->ng ||
	    memcmp(r->g[r->gnext].key, k->mv_data, MU_KEY_BYTES) != 0)
		return group_bad(r, k->mv_data, "there, for a group with none stored");
	e = &r->g[r->gnext++];
	if ((uint64_t)e->d != mu_store__get_be64(v->mv_data))
		return group_bad(r, k->mv_data, "wrong");
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
	if (err == 0)
		err = mu_store__scan(st, txn, st->grpcount, NULL, 0, compare_group, &r,
		                     "checking the store");
	while (err == 0 && r.gnext < r.ng)
		err = group_bad(&r, r.g[r.gnext++].key, "missing");
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++)
		free(r.v[l]);
	free(r.g);
	return err;
}
