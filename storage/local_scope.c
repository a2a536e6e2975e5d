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

#include "store_keys.h"

struct walk {
	struct mu_store *st;
	MDB_txn *txn;
	struct mu_scope *out;      /* the scope being built */
	struct mu_scope *seen;     /* groups whose distance is known */
	struct mu_scope *frontier; /* groups reached at the last step */
	struct mu_scope *next;     /* groups reached at this step */
};

/* Adds key to the scope and to the next step's groups. 1 when the scope is
 * full (the walk stops there), else 0 or an error. */
static int
reach(struct walk *w, const uint8_t key[MU_KEY_BYTES])
{
	if (mu_scope_has(w->seen, key))
		return 0;
	if (mu_scope_add(w->out, key) != 0)
		return 1;
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
	return reach(x->w, rec.c.alliance.with);
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
	(void)v;
	if (k->mv_size != MU_KEY_BYTES)
		return MU_ECORRUPT;
	return mu_scope_add(w->out, k->mv_data) != 0 ? 1 : 0;
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
	if ((err = add_follows(w)) != 0 || hops < 1)
		return err;
	mu_scope_add(w->seen, us);
	if ((err = expand(w, us, true)) != 0)
		return err;
	for (int step = 2; step <= hops && w->next->n > 0; step++) {
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
	struct walk w = {st, NULL, out, NULL, NULL, NULL};
	int err;

	mu_scope_clear(out);
	w.seen = mu_scope_new();
	w.frontier = mu_scope_new();
	w.next = mu_scope_new();
	if (w.seen == NULL || w.frontier == NULL || w.next == NULL) {
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
	if (err != 0)
		mu_scope_clear(out);
	mu_scope_free(w.seen);
	mu_scope_free(w.frontier);
	mu_scope_free(w.next);
	return err;
}

/*
 * The negentropy items are merged from by_group, one cursor per group of the
 * domain, so that reconciliation reads the entries of those groups only
 * rather than the whole by_time index. Each group's entries are in
 * (created_at, id) order; a heap of the cursors, keyed by their current
 * entry's time key, yields the union in that order, as mu_neg_new() wants.
 * The times are never negative (rule time-range), so their big-endian bytes
 * sort as the unsigned timestamps do.
 */
struct run {
	MDB_cursor *cur;
	const uint8_t *group; /* in the domain */
	const uint8_t *key;   /* the current entry: group || created_at || id */
	const uint8_t *seq;   /* and its value, the body's sequence number */
};

struct neg_items {
	struct mu_neg_item *v;
	uint64_t *seqs; /* beside v, when asked for */
	bool want_seqs;
	size_t len, cap;
};

static bool
run_before(const struct run *a, const struct run *b)
{
	return memcmp(a->key + MU_KEY_BYTES, b->key + MU_KEY_BYTES,
	              MU_STORE__TIME_KEY_BYTES) < 0;
}

static void
sift_down(struct run *h, size_t n, size_t i)
{
	struct run t;
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < n && run_before(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && run_before(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Moves a run to the first (MDB_SET_RANGE) or next (MDB_NEXT) entry of its
 * group: 1 when there is one, 0 past the group's last, or an error. */
static int
run_step(struct mu_store *st, struct run *r, MDB_cursor_op op)
{
	MDB_val k = {MU_KEY_BYTES, (void *)r->group}, v;
	int rc = mdb_cursor_get(r->cur, &k, &v, op);

	mu_store__map_read(st, 1);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mu_store__err(st, rc, "reading the group index", NULL);
	if (k.mv_size < MU_KEY_BYTES || memcmp(k.mv_data, r->group, MU_KEY_BYTES))
		return 0;
	if (k.mv_size != MU_STORE__GROUP_KEY_BYTES || v.mv_size != MU_STORE__SEQ_BYTES)
		return MU_ECORRUPT;
	r->key = k.mv_data;
	r->seq = v.mv_data;
	return 1;
}

static int
neg_append(struct neg_items *ni, const struct run *r)
{
	const uint8_t *time_key = r->key + MU_KEY_BYTES;
	struct mu_neg_item *nv;
	uint64_t *ns;

	if (ni->len == ni->cap) {
		ni->cap = ni->cap != 0 ? 2 * ni->cap : 256;
		nv = realloc(ni->v, ni->cap * sizeof(*nv));
		if (nv == NULL)
			return MU_ENOMEM;
		ni->v = nv;
		if (ni->want_seqs) {
			ns = realloc(ni->seqs, ni->cap * sizeof(*ns));
			if (ns == NULL)
				return MU_ENOMEM;
			ni->seqs = ns;
		}
	}
	ni->v[ni->len].ts = mu_store__get_be64(time_key);
	memcpy(ni->v[ni->len].id, time_key + 8, MU_ID_BYTES);
	if (ni->want_seqs)
		ni->seqs[ni->len] = mu_store__get_be64(r->seq);
	ni->len++;
	return 0;
}

/* Opens a run per group of the domain that has entries into heap (nh of
 * them open on return, also on error) and orders them. */
static int
runs_open(struct mu_store *st, MDB_txn *txn, const struct mu_scope *domain,
          struct run *heap, size_t *nh)
{
	int rc;

	*nh = 0;
	for (size_t i = 0; i < domain->n; i++) {
		heap[*nh].group = domain->keys[i];
		rc = mdb_cursor_open(txn, st->by_group, &heap[*nh].cur);
		if (rc != 0)
			return mu_store__err(st, rc, "reading the group index", NULL);
		rc = run_step(st, &heap[*nh], MDB_SET_RANGE);
		if (rc == 1)
			(*nh)++;
		else
			mdb_cursor_close(heap[*nh].cur);
		if (rc < 0)
			return rc;
	}
	for (size_t i = *nh / 2; i-- > 0;)
		sift_down(heap, *nh, i);
	return 0;
}

int
mu_store_neg_items(struct mu_store *st, const struct mu_scope *domain,
                   struct mu_neg_item **items, uint64_t **seqs, size_t *n)
{
	struct neg_items ni = {NULL, NULL, seqs != NULL, 0, 0};
	struct run *heap = NULL;
	MDB_txn *txn = NULL;
	size_t nh = 0;
	int err;

	*items = NULL;
	if (seqs != NULL)
		*seqs = NULL;
	*n = 0;
	if (domain->n == 0)
		return 0;
	if ((heap = malloc(domain->n * sizeof(*heap))) == NULL)
		return MU_ENOMEM;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		goto out;
	err = runs_open(st, txn, domain, heap, &nh);
	while (err == 0 && nh > 0) {
		err = neg_append(&ni, &heap[0]);
		if (err == 0)
			err = run_step(st, &heap[0], MDB_NEXT);
		if (err == 0) {
			mdb_cursor_close(heap[0].cur);
			heap[0] = heap[--nh];
		}
		if (err >= 0) {
			err = 0;
			sift_down(heap, nh, 0);
		}
	}
out:
	while (nh > 0)
		mdb_cursor_close(heap[--nh].cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(heap);
	if (err != 0 || ni.len == 0) {
		free(ni.v);
		free(ni.seqs);
		return err;
	}
	*items = ni.v;
	if (seqs != NULL)
		*seqs = ni.seqs;
	*n = ni.len;
	return 0;
}
