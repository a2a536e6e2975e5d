/*
 * store_query.c - reads. Each query runs in one read transaction, so a
 * visitor sees one consistent snapshot even while another process writes;
 * the records it is handed borrow that transaction's pages.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../protocol/recur.h"
#include "../protocol/scope.h"
#include "store_keys.h"

/* An event that overlaps [from, to) starts at or after from -
 * MU_RECUR_LOOKBACK: it lasts at most MU_EVENT_SPAN_MAX, a series at most
 * that after its last date. */

int
mu_store_get(struct mu_store *st, const uint8_t id[MU_ID_BYTES], mu_store_visit_fn fn,
             void *ctx)
{
	struct mu_record rec;
	MDB_txn *txn;
	int err;

	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__load(st, txn, id, &rec, NULL);
	if (err == 0)
		err = fn(ctx, &rec);
	mdb_txn_abort(txn);
	return err;
}

/* The body stored under ref's sequence number, else under its id's. */
static int
raw_of(struct mu_store *st, MDB_txn *txn, const struct mu_store_ref *ref, MDB_val *v,
       struct mu_why *why)
{
	uint8_t key[MU_STORE__SEQ_BYTES];
	MDB_val k = {sizeof(key), key};
	uint64_t seq;
	int rc;

	if (ref->seq != 0) {
		mu_store__put_be64(key, ref->seq);
		if ((rc = mdb_get(txn, st->bodies, &k, v)) != MDB_NOTFOUND)
			return mu_store__err(st, rc, "reading a record", why);
	}
	return mu_store__body_of(st, txn, ref->id, &seq, v, why);
}

/*
 * Whether the bytes v read for ref are the record ref names (0), or what is
 * wrong with them in why: every rule a peer checks but the clock and the
 * signature, and that the body hashes to the id. The signature is left to
 * the peer: verifying it here cost 58 us a record on the loop and brought a
 * catch-up sync to half its speed (docs/BENCHMARKS.md), where the rest
 * costs 5 us; a changed body, by far the most of any damage, no longer
 * hashes to its id.
 */
static int
check_raw(const struct mu_store_ref *ref, const MDB_val *v, struct mu_why *why)
{
	struct mu_record rec;
	int rc;

	rc = mu_rec_parse(&rec, v->mv_data, v->mv_size, 0,
	                  MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, why);
	if (rc == 0 && memcmp(rec.id, ref->id, MU_ID_BYTES) != 0)
		rc = mu_fail(why, MU_ECORRUPT,
		             "its body does not hash to its id: it was altered");
	return rc;
}

int
mu_store_read_raw(struct mu_store *st, const struct mu_store_ref *refs, size_t n,
                  mu_store_raw_fn fn, mu_store_damaged_fn damaged, void *ctx,
                  size_t *done)
{
	struct mu_why why;
	MDB_txn *txn;
	MDB_val v;
	uintptr_t page = 0;
	size_t i;
	int err;

	*done = 0;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	for (i = 0; i < n; i++) {
		why.text[0] = '\0';
		err = raw_of(st, txn, &refs[i], &v, &why);
		/* Counted once read: a body on the page of the one before
		 * (a push in the order they were stored) maps nothing new. */
		if (err != 0 || mu_store__new_page(&page, v.mv_data))
			mu_store__map_read(st, 1);
		if (err == MU_ENOTFOUND) {
			err = 0;
			continue;
		}
		if (err == 0 && check_raw(&refs[i], &v, &why) != 0)
			err = MU_ECORRUPT;
		if (err == MU_ECORRUPT) {
			err = damaged != NULL ? damaged(ctx, refs[i].id, why.text) : 0;
			if (err != 0)
				break;
			continue;
		}
		if (err == 0)
			err = fn(ctx, v.mv_data, v.mv_size);
		if (err != 0)
			break;
	}
	*done = i;
	mdb_txn_abort(txn);
	return err == MU_STORE_STOP ? 0 : err;
}

/* Looks up the id that current holds for an address key. */
static int
current_id(struct mu_store *st, MDB_txn *txn, const uint8_t *akey, size_t alen,
           uint8_t id[MU_ID_BYTES])
{
	MDB_val k = {alen, (void *)akey}, v;
	int rc = mdb_get(txn, st->current, &k, &v);

	if (rc != 0)
		return mu_store__err(st, rc, "reading the address index", NULL);
	if (v.mv_size != MU_ID_BYTES)
		return MU_ECORRUPT;
	memcpy(id, v.mv_data, MU_ID_BYTES);
	return 0;
}

int
mu_store_get_addr(struct mu_store *st, const struct mu_addr *addr, mu_store_visit_fn fn,
                  void *ctx)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], id[MU_ID_BYTES];
	MDB_val idv = {sizeof(id), id};
	size_t alen;
	struct mu_record rec;
	MDB_txn *txn;
	int err;

	if (!mu_kind_replaceable(addr->kind) || addr->d.len > MU_D_MAX)
		return MU_ENOTFOUND;
	alen = mu_store__addr_key(akey, addr);
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = current_id(st, txn, akey, alen, id);
	if (err == 0)
		err = mu_store__load_indexed(st, txn, &idv, &rec);
	if (err == 0)
		err = fn(ctx, &rec);
	mdb_txn_abort(txn);
	return err;
}

int
mu_store_deleted_addr(struct mu_store *st, const struct mu_addr *addr,
                      uint8_t tombstone[MU_ID_BYTES])
{
	uint8_t tkey[MU_STORE__TOMB_KEY_MAX];
	MDB_val k, v;
	MDB_txn *txn;
	int err, rc;

	if (addr->d.len > MU_D_MAX)
		return 0;
	k.mv_size = mu_store__tomb_addr_key(tkey, addr);
	k.mv_data = tkey;
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	rc = mdb_get(txn, st->tombstones, &k, &v);
	if (rc == 0 && v.mv_size != MU_ID_BYTES)
		err = MU_ECORRUPT;
	else if (rc == 0) {
		if (tombstone != NULL)
			memcpy(tombstone, v.mv_data, MU_ID_BYTES);
		err = 1;
	} else if (rc == MDB_NOTFOUND)
		err = 0;
	else
		err = mu_store__err(st, rc, "reading the tombstones", NULL);
	mdb_txn_abort(txn);
	return err;
}

/* What a scan of records hands on: the visitor of a query, and the range
 * of mu_store_events. */
struct visit {
	struct mu_store *st;
	mu_store_visit_fn fn;
	void *ctx;
	int64_t from, to;
	bool past_to; /* the calendar scan reached to */
};

/* An entry of current: address key -> id. */
static int
current_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct visit *vis = ctx;
	struct mu_record rec;
	int err;

	(void)k;
	err = mu_store__load_indexed(vis->st, txn, v, &rec);
	if (err == 0)
		err = vis->fn(vis->ctx, &rec);
	return err;
}

/* mu_store_list_after()'s scan: the entry it starts after is skipped, and
 * each entry read is noted in pos before the caller's visitor sees it. */
struct list_after {
	struct visit vis;
	struct mu_store_list_pos *pos;
	bool skip; /* the first entry may be pos itself */
};

static int
list_after_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct list_after *a = ctx;
	bool skip = a->skip;

	a->skip = false;
	if (skip && k->mv_size == a->pos->len &&
	    memcmp(k->mv_data, a->pos->key, a->pos->len) == 0)
		return 0;
	if (k->mv_size > sizeof(a->pos->key))
		return MU_ECORRUPT;
	memcpy(a->pos->key, k->mv_data, k->mv_size);
	a->pos->len = k->mv_size;
	return current_entry(&a->vis, txn, k, v);
}

int
mu_store_list_after(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
                    struct mu_store_list_pos *pos, mu_store_visit_fn fn, void *ctx)
{
	struct list_after a = {{st, fn, ctx, 0, 0, false}, pos, pos->len > 0};
	uint8_t from[sizeof(pos->key)];
	size_t plen;
	MDB_val k;

	if (!mu_kind_replaceable(kind))
		return MU_EINVAL;
	plen = mu_store__addr_prefix(from, kind, group);
	/* A place outside this list's prefix starts it over. */
	if (pos->len >= plen && pos->len <= sizeof(from) &&
	    memcmp(pos->key, from, plen) == 0) {
		memcpy(from, pos->key, pos->len);
	} else {
		a.skip = false;
		pos->len = 0;
	}
	k.mv_size = pos->len > 0 ? pos->len : plen;
	k.mv_data = from;
	return mu_store__read_scan(st, st->current, &k, plen, list_after_entry, &a,
	                           "listing the store");
}

int
mu_store_list(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
              mu_store_visit_fn fn, void *ctx)
{
	struct mu_store_list_pos pos = {0, {0}};

	return mu_store_list_after(st, kind, group, &pos, fn, ctx);
}

/* Where an event ends, for the overlap test: an event without an end lasts
 * until its start, an all-day one without an end the whole day; a series
 * is held until its last occurrence can have ended, and whoever expands it
 * keeps the occurrences that overlap. */
static int64_t
event_end(const struct mu_event *ev)
{
	return mu_recur_end_bound(ev);
}

/* An event [s, e) overlaps [from, to) when they share an instant; an event
 * of no length at t overlaps when from <= t < to. */
static bool
overlaps(int64_t s, int64_t e, int64_t from, int64_t to)
{
	if (s >= to)
		return false;
	return e > s ? e > from : s >= from;
}

/* Loads the record whose id ends a by_time or an ev_start key. */
static int
load_time_keyed(struct mu_store *st, MDB_txn *txn, const MDB_val *k,
                struct mu_record *rec)
{
	MDB_val id;

	if (k->mv_size != MU_STORE__TIME_KEY_BYTES)
		return MU_ECORRUPT;
	id.mv_size = MU_ID_BYTES;
	id.mv_data = (uint8_t *)k->mv_data + 8;
	return mu_store__load_indexed(st, txn, &id, rec);
}

/* An entry of ev_start: start' || id -> "". Ends the scan at vis->to. */
static int
ev_start_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct visit *vis = ctx;
	struct mu_record rec;
	int64_t s;
	int err;

	(void)v;
	if (k->mv_size != MU_STORE__TIME_KEY_BYTES)
		return MU_ECORRUPT;
	s = mu_store__start_of(k->mv_data);
	if (s >= vis->to) {
		vis->past_to = true;
		return 1;
	}
	err = load_time_keyed(vis->st, txn, k, &rec);
	if (err == 0 && (rec.kind != MU_KIND_EVENT || rec.c.event.start != s))
		err = MU_ECORRUPT;
	if (err == 0 && overlaps(s, event_end(&rec.c.event), vis->from, vis->to))
		err = vis->fn(vis->ctx, &rec);
	return err;
}

/* mu_store_events_after()'s scan: the entry it starts after is skipped, and
 * each entry read is noted in pos before the caller's visitor sees it. */
struct ev_after {
	struct visit vis;
	const uint8_t *skip; /* the key of pos when set, else NULL */
	struct mu_store_ev_pos *pos;
	unsigned read; /* entries read by this call */
};

static int
ev_after_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct ev_after *a = ctx;

	if (k->mv_size != MU_STORE__TIME_KEY_BYTES)
		return MU_ECORRUPT;
	if (a->skip != NULL &&
	    memcmp(k->mv_data, a->skip, MU_STORE__TIME_KEY_BYTES) == 0)
		return 0;
	if (a->pos->read_max != 0 && a->read == a->pos->read_max)
		return 1;
	/* Past this entry before fn sees it, whether it does or not (the key
	 * holds the record's start and id: ev_start_entry() checks them). */
	a->read++;
	a->pos->set = true;
	a->pos->start = mu_store__start_of(k->mv_data);
	memcpy(a->pos->id, (const uint8_t *)k->mv_data + 8, MU_ID_BYTES);
	return ev_start_entry(&a->vis, txn, k, v);
}

int
mu_store_events_after(struct mu_store *st, int64_t from, int64_t to,
                      struct mu_store_ev_pos *pos, mu_store_visit_fn fn, void *ctx)
{
	struct ev_after a = {{st, fn, ctx, from, to, false}, NULL, pos, 0};
	uint8_t key[MU_STORE__TIME_KEY_BYTES], zero[MU_ID_BYTES] = {0};
	MDB_val k = {sizeof(key), key};
	int64_t lo;
	int err;

	if (from >= to)
		return 0;
	lo = from >= INT64_MIN + MU_RECUR_LOOKBACK ? from - MU_RECUR_LOOKBACK
	                                           : INT64_MIN;
	if (pos->set) {
		mu_store__start_key(key, pos->start, pos->id);
		a.skip = key;
	} else {
		mu_store__start_key(key, lo, zero);
	}
	err = mu_store__read_scan(st, st->ev_start, &k, 0, ev_after_entry, &a,
	                          "reading the calendar");
	return a.vis.past_to && err > 0 ? 0 : err;
}

int
mu_store_events(struct mu_store *st, int64_t from, int64_t to, mu_store_visit_fn fn,
                void *ctx)
{
	struct mu_store_ev_pos pos = {false, 0, {0}, 0};

	return mu_store_events_after(st, from, to, &pos, fn, ctx);
}

/* An entry of by_time: created_at || id -> group. */
static int
by_time_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct visit *vis = ctx;
	struct mu_record rec;
	int err;

	(void)v;
	err = load_time_keyed(vis->st, txn, k, &rec);
	if (err == 0)
		err = vis->fn(vis->ctx, &rec);
	return err;
}

int
mu_store_each(struct mu_store *st, mu_store_visit_fn fn, void *ctx)
{
	struct visit vis = {st, fn, ctx, 0, 0, false};

	return mu_store__read_scan(st, st->by_time, NULL, 0, by_time_entry, &vis,
	                           "reading the store");
}

int
mu_store_count(struct mu_store *st, uint64_t *count)
{
	MDB_stat stat;
	MDB_txn *txn;
	int err, rc;

	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	rc = mdb_stat(txn, st->ids, &stat);
	if (rc == 0)
		*count = stat.ms_entries;
	mdb_txn_abort(txn);
	return mu_store__err(st, rc, "counting records", NULL);
}

/* A growable array of parsed alliance records, borrowing the read
 * transaction's pages. */
struct recs {
	struct mu_record *v;
	size_t n, cap;
};

static int
recs_push(struct recs *r, const struct mu_record *rec)
{
	if (mu_buf_grow_array(&r->v, &r->cap, r->n + 1, sizeof(*r->v), 8) != 0)
		return MU_ENOMEM;
	r->v[r->n++] = *rec;
	return 0;
}

static int
cmp_ours(const void *a, const void *b)
{
	const struct mu_record *x = a, *y = b;

	return memcmp(x->c.alliance.with, y->c.alliance.with, MU_KEY_BYTES);
}

static int
cmp_theirs(const void *a, const void *b)
{
	const struct mu_record *x = a, *y = b;

	return memcmp(x->group, y->group, MU_KEY_BYTES);
}

static bool
proposed(const struct mu_record *rec)
{
	return rec != NULL && rec->c.alliance.status == MU_ALLIANCE_PROPOSED;
}

static int
status_of(const struct mu_record *rec)
{
	return rec != NULL ? (int)rec->c.alliance.status : 0;
}

/* store.h's table, with the record that ended the alliance, if one did. */
static enum mu_alliance_state
alliance_state(const struct mu_record *ours, const struct mu_record *theirs,
               const struct mu_record **ended)
{
	enum mu_ended_by by = mu_alliance_ender(
	    status_of(ours), ours != NULL ? ours->created_at : 0, status_of(theirs),
	    theirs != NULL ? theirs->created_at : 0);

	*ended = by == MU_ENDED_BY_A ? ours : by == MU_ENDED_BY_B ? theirs : NULL;
	if (*ended != NULL)
		return MU_ALLY_ENDED;
	if (proposed(ours))
		return proposed(theirs) ? MU_ALLY_MUTUAL : MU_ALLY_BY_US;
	return proposed(theirs) ? MU_ALLY_TO_US : MU_ALLY_ENDED;
}

/* The alliance records of a scan: ours, and those of others naming us. */
struct alliances {
	struct mu_store *st;
	const uint8_t *us;
	char us_d[2 * MU_KEY_BYTES]; /* the d of an alliance with us */
	struct recs ours, theirs;
};

static int
alliance_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct alliances *a = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_record rec;
	int err;

	/* The key (kind, group, d = the other group in hex) tells whether the
	 * record is ours or names us: only those are read, so a node holding
	 * many groups' alliances does not page in all of their records. */
	if (k->mv_size == 1 + MU_KEY_BYTES + sizeof(a->us_d) &&
	    memcmp(key + 1, a->us, MU_KEY_BYTES) != 0 &&
	    memcmp(key + 1 + MU_KEY_BYTES, a->us_d, sizeof(a->us_d)) != 0)
		return 0;
	err = mu_store__load_indexed(a->st, txn, v, &rec);
	if (err == 0 && rec.kind != MU_KIND_ALLIANCE)
		err = MU_ECORRUPT;
	if (err == 0 && memcmp(rec.group, a->us, MU_KEY_BYTES) == 0)
		err = recs_push(&a->ours, &rec);
	else if (err == 0 && memcmp(rec.c.alliance.with, a->us, MU_KEY_BYTES) == 0)
		err = recs_push(&a->theirs, &rec);
	return err;
}

int
mu_store_alliances(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
                   mu_store_alliance_fn fn, void *ctx)
{
	struct alliances a = {st, us, {0}, {NULL, 0, 0}, {NULL, 0, 0}};
	struct recs *ours = &a.ours, *theirs = &a.theirs;
	struct mu_alliance_view view;
	uint8_t prefix[1 + MU_KEY_BYTES];
	MDB_txn *txn;
	MDB_val k;
	size_t i = 0, j = 0;
	int err, c;

	mu_store__alliance_d(a.us_d, us);
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	/* One scan of the keys of every alliance (the prefix is the kind
	 * alone) finds both our records and the records of others that name
	 * us. */
	k.mv_size = mu_store__addr_prefix(prefix, MU_KIND_ALLIANCE, NULL);
	k.mv_data = prefix;
	err = mu_store__scan(st, txn, st->current, &k, k.mv_size, alliance_entry, &a,
	                     "reading the alliances");
	if (err != 0)
		goto out;

	if (ours->n > 1)
		qsort(ours->v, ours->n, sizeof(*ours->v), cmp_ours);
	if (theirs->n > 1)
		qsort(theirs->v, theirs->n, sizeof(*theirs->v), cmp_theirs);
	while (err == 0 && (i < ours->n || j < theirs->n)) {
		if (i == ours->n)
			c = 1;
		else if (j == theirs->n)
			c = -1;
		else
			c = memcmp(ours->v[i].c.alliance.with, theirs->v[j].group,
			           MU_KEY_BYTES);
		view.ours = c <= 0 ? &ours->v[i++] : NULL;
		view.theirs = c >= 0 ? &theirs->v[j++] : NULL;
		memcpy(view.other,
		       view.ours != NULL ? view.ours->c.alliance.with
		                         : view.theirs->group,
		       MU_KEY_BYTES);
		view.state = alliance_state(view.ours, view.theirs, &view.ended);
		err = fn(ctx, &view);
	}
out:
	free(ours->v);
	free(theirs->v);
	mdb_txn_abort(txn);
	return err;
}
