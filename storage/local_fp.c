/*
 * local_fp.c - the negentropy items of a set of groups read from the
 * fingerprint table (local.h, mu_store_fp_view; store_fp.h keeps it).
 *
 * negfp sums every record of by_time. The records of the stored groups
 * outside the domain (a peer that wants fewer groups, proposals of groups
 * outside the scope) are listed in memory with their running sums and taken
 * off; which groups those are, and how many records they hold, is read from
 * grpcount (store_fp.h), one entry per group: a view is refused when there are more
 * than MU_STORE_FP_OUTSIDE_MAX of them, and the caller lists the domain's items instead
 * (mu_store_neg_items), which is then the cheaper way.
 *
 * A place in the set, by bound or by rank, is found by a descent: at each
 * level from the coarsest, the entries of the parent bucket before the one
 * that holds it (at most 255), then the by_time entries of its 256-second
 * bucket.
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "store_fp.h"
#include "store_keys.h"

#define TOP (MU_STORE__FP_LEVELS - 1)

struct mu_store_fp_view {
	struct mu_store *st;
	struct mu_scope *domain; /* owned copy */
	MDB_txn *txn;            /* between begin and end */
	MDB_cursor *fp, *time;
	/* The records of the groups outside the domain, sorted, and ex_sum[i]
	 * the sum of the first i. */
	struct mu_neg_item *ex;
	struct mu_store__fp_sum *ex_sum;
	size_t nex, cap_ex, cap_sum;
	struct mu_store__fp_sum total; /* of the domain's records */
	/* The sequence number of the item a walk (src_each) is at, from its
	 * by_time entry, for mu_store_fp_view_seq(); 0 outside a walk. */
	uint64_t at_seq;
	/* A walk stopped by its function leaves the time cursor on the item
	 * of rank stop_rank: a walk from that rank goes on from there, without
	 * a descent, unless the cursor has moved since (stopped false) or the
	 * map has (stop_remaps). A push lists a range in slices so. */
	bool stopped;
	uint64_t stop_rank, stop_remaps;
	uintptr_t page; /* of the last by_time entry read (mu_store__new_page) */
	/* Per level, the entries of the last parent bucket read, less the
	 * outside records: a negentropy message seeks ranks and bounds in
	 * order, so the descents that follow one another read the same
	 * parents, from here instead of the map. */
	struct level {
		bool valid;
		uint64_t parent;
		struct level_entry {
			uint64_t bucket;
			struct mu_store__fp_sum s;
		} * e;
		size_t n, cap;
	} lv[MU_STORE__FP_LEVELS];
};

int
mu_store_fp_view_new(struct mu_store *st, const struct mu_scope *domain,
                     struct mu_store_fp_view **out)
{
	struct mu_store_fp_view *v;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->domain = mu_scope_new()) == NULL) {
		free(v);
		return MU_ENOMEM;
	}
	v->st = st;
	*v->domain = *domain;
	*out = v;
	return 0;
}

void
mu_store_fp_view_end(struct mu_store_fp_view *v)
{
	if (v == NULL || v->txn == NULL)
		return;
	v->stopped = false;
	mdb_cursor_close(v->fp);
	mdb_cursor_close(v->time);
	mdb_txn_abort(v->txn);
	v->txn = NULL;
}

void
mu_store_fp_view_free(struct mu_store_fp_view *v)
{
	if (v == NULL)
		return;
	mu_store_fp_view_end(v);
	mu_scope_free(v->domain);
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++)
		free(v->lv[l].e);
	free(v->ex);
	free(v->ex_sum);
	free(v);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct mu_neg_item *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return memcmp(x->id, y->id, MU_NEG_ID_BYTES);
}

/* The groups held outside the domain, from grpcount, and how many records
 * they have. */
struct outside_groups {
	const struct mu_scope *domain;
	struct mu_scope *out;
	uint64_t count;
};

static int
outside_group(void *ctx, const uint8_t g[MU_KEY_BYTES], uint64_t count)
{
	struct outside_groups *o = ctx;

	if (mu_scope_has(o->domain, g))
		return 0;
	o->count += count;
	/* More groups than a scope holds have more records than the most. */
	if (o->count > MU_STORE_FP_OUTSIDE_MAX || mu_scope_add(o->out, g) != 0)
		return 1;
	return 0;
}

/* The records of stored groups outside the domain: the groups from the
 * small grpcount table, their records from by_group. 1 when there are more
 * than MU_STORE_FP_OUTSIDE_MAX. */
static int
list_outside(struct mu_store_fp_view *v)
{
	struct outside_groups o = {v->domain, NULL, 0};
	int err;

	free(v->ex);
	v->ex = NULL;
	v->nex = v->cap_ex = 0;
	if ((o.out = mu_scope_new()) == NULL)
		return MU_ENOMEM;
	err = mu_store__fp_groups(v->st, v->txn, outside_group, &o);
	if (err == 0 && o.out->n > 0)
		err =
		    mu_store__neg_items_in(v->st, v->txn, o.out, &v->ex, NULL, &v->nex);
	mu_scope_free(o.out);
	if (err != 0)
		return err;
	v->cap_ex = v->nex;
	if (mu_buf_grow_array(&v->ex_sum, &v->cap_sum, v->nex + 1, sizeof(*v->ex_sum),
	                      64) != 0)
		return MU_ENOMEM;
	memset(&v->ex_sum[0], 0, sizeof(v->ex_sum[0]));
	for (size_t i = 0; i < v->nex; i++) {
		v->ex_sum[i + 1] = v->ex_sum[i];
		mu_store__fp_sum_id(&v->ex_sum[i + 1], v->ex[i].id);
	}
	return 0;
}

/* The first of the outside records at or after (ts, id). */
static size_t
ex_lower(const struct mu_store_fp_view *v, uint64_t ts, const uint8_t *id)
{
	struct mu_neg_item key;
	size_t lo = 0, hi = v->nex;

	key.ts = ts;
	memcpy(key.id, id, MU_ID_BYTES);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (item_cmp(&v->ex[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const uint8_t zero_id[MU_ID_BYTES];

/* The outside records in [from, to) seconds (to 0: no end). */
static void
ex_between(const struct mu_store_fp_view *v, uint64_t from, uint64_t to,
           struct mu_store__fp_sum *out)
{
	size_t a = ex_lower(v, from, zero_id);
	size_t b = to == 0 ? v->nex : ex_lower(v, to, zero_id);

	*out = v->ex_sum[b];
	mu_store__fp_sum_sub(out, &v->ex_sum[a]);
}

/* The first entry of a level at or after bucket: 0, MU_ENOTFOUND (none on
 * that level), or an error. */
static int
fp_seek(struct mu_store_fp_view *v, int level, uint64_t bucket, uint64_t *at,
        struct mu_store__fp_sum *s, MDB_cursor_op op)
{
	uint8_t key[MU_STORE__FP_KEY_BYTES];
	MDB_val k = {sizeof(key), key}, val;
	int rc;

	key[0] = (uint8_t)level;
	mu_store__put_be64(key + 1, bucket);
	rc = mdb_cursor_get(v->fp, &k, &val, op);
	mu_store__map_read(v->st, 1);
	if (rc == MDB_NOTFOUND)
		return MU_ENOTFOUND;
	if (rc != 0)
		return mu_store__err(v->st, rc, "reading the store", NULL);
	if (k.mv_size != MU_STORE__FP_KEY_BYTES || mu_store__fp_value(&val, s) != 0)
		return MU_ECORRUPT;
	if (((const uint8_t *)k.mv_data)[0] != level)
		return MU_ENOTFOUND;
	*at = mu_store__get_be64((const uint8_t *)k.mv_data + 1);
	return 0;
}

/* The end of a level-l bucket in seconds; 0 when past 2^64. */
static uint64_t
bucket_end(int level, uint64_t b)
{
	unsigned sh = mu_store__fp_shift(level);

	return b + 1 > (UINT64_MAX >> sh) ? 0 : (b + 1) << sh;
}

/* The entries of level l under parent (at the top level: all), less the
 * outside records in each, into v->lv[l]. */
static int
read_level(struct mu_store_fp_view *v, int l, uint64_t parent)
{
	struct level *lv = &v->lv[l];
	struct mu_store__fp_sum s, ex;
	MDB_cursor_op op = MDB_SET_RANGE;
	uint64_t b;
	int err;

	if (lv->valid && lv->parent == parent)
		return 0;
	lv->valid = false;
	lv->n = 0;
	while ((err = fp_seek(v, l, l == TOP ? 0 : parent << 8, &b, &s, op)) == 0) {
		op = MDB_NEXT;
		if (l != TOP && (b >> 8) != parent)
			break;
		if (v->nex > 0) {
			ex_between(v, b << mu_store__fp_shift(l), bucket_end(l, b),
			           &ex);
			mu_store__fp_sum_sub(&s, &ex);
		}
		if (mu_buf_grow_array(&lv->e, &lv->cap, lv->n + 1, sizeof(*lv->e),
		                      256) != 0)
			return MU_ENOMEM;
		lv->e[lv->n].bucket = b;
		lv->e[lv->n++].s = s;
	}
	if (err != 0 && err != MU_ENOTFOUND)
		return err;
	lv->valid = true;
	lv->parent = parent;
	return 0;
}

/* Reads a by_time entry at the time cursor: its item and whether its group
 * is in the domain. */
static int
time_item(struct mu_store_fp_view *v, const MDB_val *k, const MDB_val *val,
          struct mu_neg_item *it, bool *in)
{
	if (k->mv_size != MU_STORE__TIME_KEY_BYTES ||
	    val->mv_size != MU_STORE__TIME_VAL_BYTES)
		return MU_ECORRUPT;
	it->ts = mu_store__get_be64(k->mv_data);
	memcpy(it->id, (const uint8_t *)k->mv_data + 8, MU_ID_BYTES);
	*in = mu_scope_has(v->domain, val->mv_data);
	if (mu_store__new_page(&v->page, k->mv_data))
		mu_store__map_read(v->st, 1);
	return 0;
}

static int
time_get(struct mu_store_fp_view *v, MDB_val *k, MDB_val *val, MDB_cursor_op op,
         struct mu_neg_item *it, bool *in)
{
	int rc;

	v->stopped = false;
	rc = mdb_cursor_get(v->time, k, val, op);

	if (rc == MDB_NOTFOUND)
		return MU_ENOTFOUND;
	if (rc != 0)
		return mu_store__err(v->st, rc, "reading the store", NULL);
	return time_item(v, k, val, it, in);
}

int
mu_store_fp_view_begin(struct mu_store_fp_view *v)
{
	struct mu_store__fp_sum s;
	uint64_t b;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc, err;

	mu_store_fp_view_end(v);
	for (int l = 0; l < MU_STORE__FP_LEVELS; l++)
		v->lv[l].valid = false; /* of another snapshot */
	if ((err = mu_store__begin(v->st, false, &v->txn, NULL)) != 0)
		return err;
	if ((rc = mdb_cursor_open(v->txn, v->st->negfp, &v->fp)) != 0) {
		mdb_txn_abort(v->txn);
		v->txn = NULL;
		return mu_store__err(v->st, rc, "reading the store", NULL);
	}
	if ((rc = mdb_cursor_open(v->txn, v->st->by_time, &v->time)) != 0) {
		mdb_cursor_close(v->fp);
		mdb_txn_abort(v->txn);
		v->txn = NULL;
		return mu_store__err(v->st, rc, "reading the store", NULL);
	}
	err = list_outside(v);
	memset(&v->total, 0, sizeof(v->total));
	while (err == 0 && (err = fp_seek(v, TOP, 0, &b, &s, op)) == 0) {
		mu_store__fp_sum_add(&v->total, &s);
		op = MDB_NEXT;
	}
	if (err == MU_ENOTFOUND)
		err = 0;
	if (err == 0) {
		mu_store__fp_sum_sub(&v->total, &v->ex_sum[v->nex]);
		/* The outside records must be among the counted ones. */
		if (v->total.count > SIZE_MAX / 2)
			err = MU_ECORRUPT;
	}
	if (err != 0)
		mu_store_fp_view_end(v);
	return err;
}

/* --- the negentropy source ------------------------------------------------- */

static void
set_pos(struct mu_neg_pos *pos, uint64_t rank, const struct mu_store__fp_sum *s)
{
	pos->rank = (size_t)rank;
	memcpy(pos->sum, s->w, sizeof(pos->sum));
}

static int
src_size(void *ctx, size_t *n)
{
	*n = (size_t)((struct mu_store_fp_view *)ctx)->total.count;
	return 0;
}

static int
src_seek_bound(void *ctx, uint64_t ts, const uint8_t id[MU_NEG_ID_BYTES],
               struct mu_neg_pos *pos)
{
	struct mu_store_fp_view *v = ctx;
	struct mu_store__fp_sum acc = {0, {0, 0, 0, 0}};
	uint8_t bound[MU_STORE__TIME_KEY_BYTES], from[MU_STORE__TIME_KEY_BYTES];
	MDB_val k = {sizeof(from), from}, val;
	struct mu_neg_item it;
	uint64_t base;
	bool in;
	int err;

	if (ts == UINT64_MAX) {
		set_pos(pos, v->total.count, &v->total);
		return 0;
	}
	/* At each level, the buckets before ts's under its parent. */
	for (int l = TOP; l >= 0; l--) {
		unsigned sh = mu_store__fp_shift(l);
		const struct level *lv = &v->lv[l];

		if ((err = read_level(v, l, l == TOP ? 0 : ts >> (sh + 8))) != 0)
			return err;
		for (size_t i = 0; i < lv->n && lv->e[i].bucket < ts >> sh; i++)
			mu_store__fp_sum_add(&acc, &lv->e[i].s);
	}
	base = (ts >> 8) << 8;
	mu_store__put_be64(bound, ts);
	memcpy(bound + 8, id, MU_ID_BYTES);
	mu_store__put_be64(from, base);
	memset(from + 8, 0, MU_ID_BYTES);
	err = time_get(v, &k, &val, MDB_SET_RANGE, &it, &in);
	while (err == 0 && memcmp(k.mv_data, bound, sizeof(bound)) < 0) {
		if (in)
			mu_store__fp_sum_id(&acc, it.id);
		err = time_get(v, &k, &val, MDB_NEXT, &it, &in);
	}
	if (err != 0 && err != MU_ENOTFOUND)
		return err;
	set_pos(pos, acc.count, &acc);
	return 0;
}

/* The domain's item before the time cursor's place (at: whether the
 * cursor is on an entry; else it is past the last). */
static int
item_before(struct mu_store_fp_view *v, bool at, struct mu_neg_item *out)
{
	MDB_val k, val;
	bool in = false;
	int err;

	err = time_get(v, &k, &val, at ? MDB_PREV : MDB_LAST, out, &in);
	while (err == 0 && !in)
		err = time_get(v, &k, &val, MDB_PREV, out, &in);
	return err == MU_ENOTFOUND ? MU_ECORRUPT : err;
}

/* Leaves the time cursor on the item of that rank (rank < size). */
static int
descend(struct mu_store_fp_view *v, uint64_t rank, struct mu_store__fp_sum *acc,
        struct mu_neg_item *at)
{
	uint64_t left = rank, parent = 0;
	uint8_t from[MU_STORE__TIME_KEY_BYTES];
	MDB_val k = {sizeof(from), from}, val;
	bool in;
	int err;

	memset(acc, 0, sizeof(*acc));
	for (int l = TOP; l >= 0; l--) {
		const struct level *lv = &v->lv[l];
		size_t i = 0;

		if ((err = read_level(v, l, parent)) != 0)
			return err;
		for (; i < lv->n && lv->e[i].s.count <= left; i++) {
			left -= lv->e[i].s.count;
			mu_store__fp_sum_add(acc, &lv->e[i].s);
		}
		if (i == lv->n)
			return MU_ECORRUPT; /* the levels disagree */
		parent = lv->e[i].bucket;
	}
	mu_store__put_be64(from, parent << 8);
	memset(from + 8, 0, MU_ID_BYTES);
	err = time_get(v, &k, &val, MDB_SET_RANGE, at, &in);
	for (; err == 0; err = time_get(v, &k, &val, MDB_NEXT, at, &in)) {
		if (!in)
			continue;
		if (left == 0)
			return 0;
		left--;
		mu_store__fp_sum_id(acc, at->id);
	}
	return err == MU_ENOTFOUND ? MU_ECORRUPT : err;
}

static int
src_seek_rank(void *ctx, size_t rank, struct mu_neg_pos *pos, struct mu_neg_item *at,
              struct mu_neg_item *before)
{
	struct mu_store_fp_view *v = ctx;
	struct mu_store__fp_sum acc;
	struct mu_neg_item here;
	int err;

	if (rank >= v->total.count) {
		set_pos(pos, v->total.count, &v->total);
		if (before != NULL && v->total.count > 0)
			return item_before(v, false, before);
		return 0;
	}
	if (rank == 0 && before == NULL && at == NULL) {
		memset(pos, 0, sizeof(*pos));
		return 0;
	}
	if ((err = descend(v, rank, &acc, &here)) != 0)
		return err;
	set_pos(pos, rank, &acc);
	if (at != NULL)
		*at = here;
	if (before != NULL && rank > 0)
		return item_before(v, true, before);
	return 0;
}

static int
src_range_sum(void *ctx, const struct mu_neg_pos *lo, const struct mu_neg_pos *hi,
              uint64_t sum[4])
{
	struct mu_store__fp_sum a = {0, {0, 0, 0, 0}}, b = {0, {0, 0, 0, 0}};

	(void)ctx;
	memcpy(a.w, hi->sum, sizeof(a.w));
	memcpy(b.w, lo->sum, sizeof(b.w));
	mu_store__fp_sum_sub(&a, &b);
	memcpy(sum, a.w, sizeof(a.w));
	return 0;
}

/* The sequence number of the item a walk is at: by_time's entry holds it,
 * read with the item, so a push reads each body without a lookup (a
 * by_group search per record, random pages of the largest index, was most
 * of a serving node's CPU). 0 outside a walk. */
uint64_t
mu_store_fp_view_seq(const struct mu_store_fp_view *v)
{
	return v->txn == NULL ? 0 : v->at_seq;
}

static int
src_each(void *ctx, size_t rank, mu_neg_item_fn fn, void *arg)
{
	struct mu_store_fp_view *v = ctx;
	struct mu_store__fp_sum acc;
	struct mu_neg_item it;
	MDB_val k, val;
	bool in = true;
	uint64_t remaps;
	int err, rc = 0;

	if (rank >= v->total.count)
		return 0;
	remaps = mu_store__remaps(v->st);
	if (!(v->stopped && v->stop_rank == rank && v->stop_remaps == remaps) &&
	    (err = descend(v, rank, &acc, &it)) != 0)
		return err;
	/* The cursor is on the first item: k and val are read again. */
	if ((err = time_get(v, &k, &val, MDB_GET_CURRENT, &it, &in)) != 0)
		return err;
	for (; err == 0; err = time_get(v, &k, &val, MDB_NEXT, &it, &in)) {
		if (!in)
			continue;
		v->at_seq =
		    mu_store__get_be64((const uint8_t *)val.mv_data + MU_KEY_BYTES);
		/* Kept unless fn moves the cursor. */
		v->stopped = true;
		v->stop_rank = rank;
		v->stop_remaps = remaps;
		rc = fn(arg, &it, rank++);
		v->at_seq = 0;
		if (rc != 0) {
			v->stopped = v->stopped && rc > 0;
			return rc < 0 ? rc : 0;
		}
	}
	return err == MU_ENOTFOUND ? 0 : err;
}

void
mu_store_fp_view_source(struct mu_store_fp_view *v, struct mu_neg_source *src)
{
	src->ctx = v;
	src->size = src_size;
	src->seek_bound = src_seek_bound;
	src->seek_rank = src_seek_rank;
	src->range_sum = src_range_sum;
	src->each = src_each;
}
