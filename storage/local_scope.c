/*
 * local_scope.c - the groups this node wants (local.h, mu_store_scope) and
 * the negentropy items of the records it holds for a set of groups.
 *
 * Both read one snapshot (one read transaction), so a scope never mixes
 * alliance records from before and after a concurrent write.
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "store_fp.h"
#include "store_keys.h"

struct walk {
	struct mu_store *st;
	MDB_txn *txn;
	struct mu_scope *out;         /* the scope being built */
	struct mu_scope *seen;        /* groups whose distance is known */
	struct mu_scope *frontier;    /* groups reached at the last step */
	struct mu_scope *next;        /* groups reached at this step */
	struct mu_scope_paths *paths; /* how each was reached; may be NULL */
	int step;
	struct mu_scope *blocked; /* never reached (local_frozen.c) */
};

/* Adds key to the scope and to the next step's groups. 1 when the scope is
 * full (the walk stops there), else 0 or an error. */
static int
reach(struct walk *w, const uint8_t key[MU_KEY_BYTES], const uint8_t via[MU_KEY_BYTES])
{
	if (mu_scope_has(w->seen, key) || mu_scope_has(w->blocked, key))
		return 0;
	if (mu_scope_add(w->out, key) != 0)
		return 1;
	if (w->paths != NULL)
		mu_scope_paths_set(w->paths, key, via, w->step, false);
	/* seen and next hold no more groups than out: they cannot fill. */
	mu_scope_add(w->seen, key);
	mu_scope_add(w->next, key);
	return 0;
}

/* Loads the alliance record that a current entry points at. */
static int
load_current(struct walk *w, const MDB_val *id, struct mu_record *rec)
{
	int err = mu_store__load_indexed(w->st, w->txn, id, rec);

	if (err == 0 && rec->kind != MU_KIND_ALLIANCE)
		return MU_ECORRUPT;
	return err;
}

/* Whether other's current alliance record names us as proposed: 1, 0 or an
 * error. */
static int
proposes_to(struct walk *w, const uint8_t other[MU_KEY_BYTES],
            const uint8_t us[MU_KEY_BYTES])
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX];
	char d[2 * MU_KEY_BYTES];
	struct mu_record rec;
	struct mu_addr addr;
	MDB_val k, v;
	int err, rc;

	mu_store__alliance_d(d, us);
	memcpy(addr.group, other, MU_KEY_BYTES);
	addr.kind = MU_KIND_ALLIANCE;
	addr.d.ptr = d;
	addr.d.len = sizeof(d);
	k.mv_size = mu_store__addr_key(akey, &addr);
	k.mv_data = akey;
	rc = mdb_get(w->txn, w->st->current, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mu_store__err(w->st, rc, "reading the alliances", NULL);
	err = load_current(w, &v, &rec);
	if (err != 0)
		return err;
	return rec.c.alliance.status == MU_ALLIANCE_PROPOSED &&
	       memcmp(rec.c.alliance.with, us, MU_KEY_BYTES) == 0;
}

static int
found(void *ctx, const struct mu_record *rec)
{
	(void)ctx;
	(void)rec;
	return 0;
}

int
mu_store_scope_exception(struct mu_store *st, const struct mu_record *rec,
                         const uint8_t key[MU_KEY_BYTES], mu_store_pending_fn pending,
                         void *ctx)
{
	const struct mu_addr *a = &rec->c.del.addr;
	char d[2 * MU_KEY_BYTES];
	struct mu_addr addr;
	int rc;

	switch (rec->kind) {
	case MU_KIND_ALLIANCE:
		return memcmp(rec->c.alliance.with, key, MU_KEY_BYTES) == 0;
	case MU_KIND_DELETE:
		if (!rec->c.del.by_addr || a->kind != MU_KIND_ALLIANCE ||
		    a->d.len != sizeof(d) ||
		    memcmp(a->group, rec->group, MU_KEY_BYTES) != 0)
			return 0;
		mu_store__alliance_d(d, key);
		return memcmp(a->d.ptr, d, sizeof(d)) == 0;
	case MU_KIND_PROFILE:
	case MU_KIND_ORGANIZER: /* what makes the proposal and profile valid */
		if (pending != NULL && pending(ctx, rec->group))
			return 1;
		mu_store__alliance_d(d, key);
		memcpy(addr.group, rec->group, MU_KEY_BYTES);
		addr.kind = MU_KIND_ALLIANCE;
		addr.d.ptr = d;
		addr.d.len = sizeof(d);
		rc = mu_store_get_addr(st, &addr, found, NULL);
		return rc == 0 ? 1 : rc == MU_ENOTFOUND ? 0 : rc;
	default:
		return 0;
	}
}

struct expansion {
	struct walk *w;
	const uint8_t *g;
	bool mutual;
};

static int
expand_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct expansion *x = ctx;
	struct mu_record rec;
	int err;

	(void)txn;
	(void)k;
	err = load_current(x->w, v, &rec);
	if (err != 0 || rec.c.alliance.status != MU_ALLIANCE_PROPOSED)
		return err;
	if (x->mutual) {
		err = proposes_to(x->w, rec.c.alliance.with, x->g);
		if (err <= 0)
			return err; /* an error, or not mutual: not reached */
	}
	return reach(x->w, rec.c.alliance.with, x->g);
}

/*
 * Walks the current alliance records of group g and reaches the groups they
 * propose. With mutual (step 1, g is us) only those whose own current record
 * proposes back are reached. 1 when the scope is full.
 */
static int
expand(struct walk *w, const uint8_t g[MU_KEY_BYTES], bool mutual)
{
	struct expansion x = {w, g, mutual};
	uint8_t prefix[1 + MU_KEY_BYTES];
	MDB_val k = {mu_store__addr_prefix(prefix, MU_KIND_ALLIANCE, g), prefix};

	return mu_store__scan(w->st, w->txn, w->st->current, &k, k.mv_size,
	                      expand_entry, &x, "reading the alliances");
}

static int
follows_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = ctx;

	(void)txn;
	if (!mu_store__follow_ok(k, v))
		return MU_ECORRUPT;
	if (mu_scope_has(w->blocked, k->mv_data))
		return 0;
	if (mu_scope_add(w->out, k->mv_data) != 0)
		return 1;
	if (w->paths != NULL)
		mu_scope_paths_set(w->paths, k->mv_data, NULL, 0, true);
	return 0;
}

static int
blocks_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = ctx;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_KEY_BYTES)
		return MU_ECORRUPT;
	return mu_scope_add(w->blocked, k->mv_data) != 0 ? MU_ECORRUPT : 0;
}

/* The blocked groups, read in the walk's snapshot. */
static int
read_blocks(struct walk *w)
{
	if (!w->st->has_frozen)
		return 0;
	return mu_store__scan(w->st, w->txn, w->st->blocks, NULL, 0, blocks_entry, w,
	                      "reading the blocked groups");
}

static int
add_follows(struct walk *w)
{
	return mu_store__scan(w->st, w->txn, w->st->follows, NULL, 0, follows_entry, w,
	                      "reading the followed groups");
}

/* The steps of the walk; 1 when the scope filled up. */
static int
walk_steps(struct walk *w, const uint8_t us[MU_KEY_BYTES], int hops)
{
	struct mu_scope *t;
	int err;

	if ((err = mu_scope_add(w->out, us)) != 0)
		return err;
	if (w->paths != NULL)
		mu_scope_paths_set(w->paths, us, NULL, 0, false);
	if ((err = read_blocks(w)) != 0 || (err = add_follows(w)) != 0 || hops < 1)
		return err;
	mu_scope_add(w->seen, us);
	w->step = 1;
	if ((err = expand(w, us, true)) != 0)
		return err;
	for (int step = 2; step <= hops && w->next->n > 0; step++) {
		w->step = step;
		t = w->frontier;
		w->frontier = w->next;
		w->next = t;
		mu_scope_clear(w->next);
		for (size_t i = 0; i < w->frontier->n; i++)
			if ((err = expand(w, w->frontier->keys[i], false)) != 0)
				return err;
	}
	return 0;
}

int
mu_store_scope(struct mu_store *st, const uint8_t us[MU_KEY_BYTES], int hops,
               struct mu_scope *out)
{
	return mu_store_scope_paths(st, us, hops, out, NULL);
}

int
mu_store_scope_paths(struct mu_store *st, const uint8_t us[MU_KEY_BYTES], int hops,
                     struct mu_scope *out, struct mu_scope_paths *paths)
{
	struct walk w = {st, NULL, out, NULL, NULL, NULL, paths, 0, NULL};
	int err;

	mu_scope_clear(out);
	if (paths != NULL)
		paths->n = 0;
	w.seen = mu_scope_new();
	w.frontier = mu_scope_new();
	w.next = mu_scope_new();
	w.blocked = mu_scope_new();
	if (w.seen == NULL || w.frontier == NULL || w.next == NULL ||
	    w.blocked == NULL) {
		err = MU_ENOMEM;
		goto out;
	}
	err = mu_store__begin(st, false, &w.txn, NULL);
	if (err != 0)
		goto out;
	err = walk_steps(&w, us, hops);
	if (err == 1)
		err = 0; /* MU_SCOPE_MAX reached: the scope stops there */
	mdb_txn_abort(w.txn);
out:
	if (err != 0) {
		mu_scope_clear(out);
		if (paths != NULL)
			paths->n = 0;
	}
	mu_scope_free(w.seen);
	mu_scope_free(w.frontier);
	mu_scope_free(w.next);
	mu_scope_free(w.blocked);
	return err;
}

/*
 * The negentropy items are read from by_group, one group of the domain
 * after the other, so that reconciliation reads the entries of those groups
 * only rather than the whole by_time index, and each group's pages once, in
 * order: the store may give its map back midway (mu_store__map_read), which
 * costs nothing then, where a merge of the groups' cursors would keep a
 * page of every group in use, fault them all in again, and with many
 * groups never fit a budget. Each group's entries are in (created_at, id)
 * order; the union is sorted in that order afterwards, as mu_neg_new()
 * wants. The times are never negative (rule time-range), so their
 * big-endian bytes sort as the unsigned timestamps do.
 */
struct neg_items {
	struct mu_neg_item *v;
	uint64_t *seqs; /* beside v, when asked for */
	bool want_seqs;
	bool sorted; /* so far */
	size_t len, cap, cap_seqs;
};

/* Whether item i sorts before item j: (ts, id). */
static bool
item_before(const struct neg_items *ni, size_t i, size_t j)
{
	const struct mu_neg_item *a = &ni->v[i], *b = &ni->v[j];

	if (a->ts != b->ts)
		return a->ts < b->ts;
	return memcmp(a->id, b->id, MU_NEG_ID_BYTES) < 0;
}

static void
item_swap(struct neg_items *ni, size_t i, size_t j)
{
	struct mu_neg_item t = ni->v[i];
	uint64_t s;

	ni->v[i] = ni->v[j];
	ni->v[j] = t;
	if (ni->want_seqs) {
		s = ni->seqs[i];
		ni->seqs[i] = ni->seqs[j];
		ni->seqs[j] = s;
	}
}

static void
item_sift(struct neg_items *ni, size_t n, size_t i)
{
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < n && item_before(ni, m, l))
			m = l;
		if (l + 1 < n && item_before(ni, m, l + 1))
			m = l + 1;
		if (m == i)
			return;
		item_swap(ni, i, m);
		i = m;
	}
}

/* A heapsort: in place, items and their sequence numbers together (a
 * million items are 48 MB, not to be copied). */
static void
items_sort(struct neg_items *ni)
{
	size_t n = ni->len;

	for (size_t i = n / 2; i-- > 0;)
		item_sift(ni, n, i);
	while (n > 1) {
		item_swap(ni, 0, --n);
		item_sift(ni, n, 0);
	}
}

/* One by_group entry: group || created_at || id -> seq. */
static int
neg_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct neg_items *ni = ctx;
	const uint8_t *time_key = (const uint8_t *)k->mv_data + MU_KEY_BYTES;

	(void)txn;
	if (k->mv_size != MU_STORE__GROUP_KEY_BYTES ||
	    v->mv_size != MU_STORE__SEQ_BYTES)
		return MU_ECORRUPT;
	if (mu_buf_grow_array(&ni->v, &ni->cap, ni->len + 1, sizeof(*ni->v), 256) != 0)
		return MU_ENOMEM;
	if (ni->want_seqs && mu_buf_grow_array(&ni->seqs, &ni->cap_seqs, ni->len + 1,
	                                       sizeof(*ni->seqs), 256) != 0)
		return MU_ENOMEM;
	ni->v[ni->len].ts = mu_store__get_be64(time_key);
	memcpy(ni->v[ni->len].id, time_key + 8, MU_ID_BYTES);
	if (ni->want_seqs)
		ni->seqs[ni->len] = mu_store__get_be64(v->mv_data);
	if (ni->len > 0 && ni->sorted && !item_before(ni, ni->len - 1, ni->len))
		ni->sorted = false;
	ni->len++;
	return 0;
}

int
mu_store__neg_items_in(struct mu_store *st, MDB_txn *txn, const struct mu_scope *domain,
                       struct mu_neg_item **items, uint64_t **seqs, size_t *n)
{
	struct neg_items ni = {NULL, NULL, seqs != NULL, true, 0, 0, 0};
	MDB_val k;
	int err = 0;

	*items = NULL;
	if (seqs != NULL)
		*seqs = NULL;
	*n = 0;
	for (size_t i = 0; err == 0 && i < domain->n; i++) {
		k.mv_size = MU_KEY_BYTES;
		k.mv_data = (void *)domain->keys[i];
		err = mu_store__scan(st, txn, st->by_group, &k, MU_KEY_BYTES, neg_entry,
		                     &ni, "reading the group index");
	}
	if (err != 0 || ni.len == 0) {
		free(ni.v);
		free(ni.seqs);
		return err;
	}
	if (!ni.sorted)
		items_sort(&ni);
	*items = ni.v;
	if (seqs != NULL)
		*seqs = ni.seqs;
	*n = ni.len;
	return 0;
}

int
mu_store_neg_items(struct mu_store *st, const struct mu_scope *domain,
                   struct mu_neg_item **items, uint64_t **seqs, size_t *n)
{
	MDB_txn *txn = NULL;
	int err;

	*items = NULL;
	if (seqs != NULL)
		*seqs = NULL;
	*n = 0;
	if (domain->n == 0)
		return 0;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = mu_store__neg_items_in(st, txn, domain, items, seqs, n);
	mdb_txn_abort(txn);
	return err;
}
