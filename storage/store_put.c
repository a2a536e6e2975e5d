/*
 * store_put.c - the write path: one transaction per batch, applying the
 * replacement and deletion rules of docs/PROTOCOL.md section 5.
 *
 * Invariants every put keeps, so the queries can trust the indices:
 *   - bodies holds every stored record under its sequence number, ids maps
 *     its id to that number, and by_time and by_group have one entry per
 *     record;
 *   - a replaceable record is stored only while it is the current version of
 *     its address, and then current points at it (and ev_start, for events);
 *   - a tombstone is never removed, and nothing it covers is stored;
 *   - every record stored as new gets the next sequence number, so bodies
 *     is the log (local.h) by which a daemon learns what another process
 *     stored.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "store_defer.h"
#include "store_fp.h"
#include "store_held.h"
#include "store_keys.h"
#include "store_past.h"

struct put {
	struct mu_store *st;
	MDB_txn *txn;
	uint64_t seq; /* the last sequence number given */
	struct mu_why *why;
	struct mu_store__defer *defer; /* st's, while txn is open */
	MDB_cursor *cur; /* on current, opened by current_id; closed with txn */
};

/* What must be known about a stored record to remove it and its index
 * entries, copied out of LMDB's pages before they are changed. */
struct stored_ref {
	uint8_t id[MU_ID_BYTES];
	uint8_t group[MU_KEY_BYTES];
	uint8_t signer[MU_KEY_BYTES];
	int64_t created_at;
	bool is_event;
	bool delegated; /* has a signed index entry */
	int64_t start;
};

/* Whether rec is signed by an organizer key rather than its group's. */
static bool
delegated(const struct mu_record *rec)
{
	return memcmp(rec->signer, rec->group, MU_KEY_BYTES) != 0;
}

static void
ref_of(struct stored_ref *ref, const struct mu_record *rec)
{
	memcpy(ref->id, rec->id, MU_ID_BYTES);
	memcpy(ref->group, rec->group, MU_KEY_BYTES);
	memcpy(ref->signer, rec->signer, MU_KEY_BYTES);
	ref->created_at = rec->created_at;
	ref->is_event = rec->kind == MU_KIND_EVENT;
	ref->delegated = delegated(rec);
	ref->start = ref->is_event ? rec->c.event.start : 0;
}

static int
get(struct put *p, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = {klen, (void *)key};

	return mu_store__err(p->st, mdb_get(p->txn, dbi, &k, val), "reading the store",
	                     p->why);
}

/*
 * Claims rec's id for the next sequence number, which goes to seq: 1 when
 * the id is stored already, 0 when claimed, or an error. One search makes
 * both the duplicate check and the ids entry; a record refused after all
 * gives its claim back (refuse).
 */
static int
claim_id(struct put *p, const struct mu_record *rec, uint8_t seq[MU_STORE__SEQ_BYTES])
{
	MDB_val k = {MU_ID_BYTES, (void *)rec->id}, v = {MU_STORE__SEQ_BYTES, seq};
	int rc;

	mu_store__put_be64(seq, p->seq + 1);
	rc = mdb_put(p->txn, p->st->ids, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 1;
	return mu_store__err(p->st, rc, "writing to the store", p->why);
}

/* Stores rec's bytes under the number claim_id() gave it. */
static int
put_body(struct put *p, const struct mu_record *rec, uint8_t seq[MU_STORE__SEQ_BYTES])
{
	MDB_val k = {MU_STORE__SEQ_BYTES, seq}, v = {rec->raw_len, (void *)rec->raw};
	int rc;

	p->seq++;
	/* Numbers only grow, so MDB_APPEND fills the last page of bodies
	 * without a search; it refuses a number not above every stored one. */
	rc = mdb_put(p->txn, p->st->bodies, &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		return mu_fail(p->why, MU_ECORRUPT,
		               "the store at %s holds records numbered beyond its "
		               "sequence number: run `muster check`, then restore it",
		               p->st->dir);
	return mu_store__err(p->st, rc, "writing to the store", p->why);
}

static int
put(struct put *p, MDB_dbi dbi, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	return mu_store__err(p->st, mdb_put(p->txn, dbi, &k, &v, 0),
	                     "writing to the store", p->why);
}

/* Deleting an entry that is already gone is not an error: the goal holds. */
static int
del(struct put *p, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(p->txn, dbi, &k, NULL);

	if (rc == MDB_NOTFOUND)
		return 0;
	return mu_store__err(p->st, rc, "writing to the store", p->why);
}

/* A record not stored after all: its claim on an id goes. check is what
 * decided (an error, or 1 for the result). */
static int
refuse(struct put *p, const struct mu_record *rec, int check,
       enum mu_put_result why_not, enum mu_put_result *result)
{
	if (check < 0)
		return check;
	*result = why_not;
	return del(p, p->st->ids, rec->id, MU_ID_BYTES);
}

/* Removes a record's body, its ids, by_time and by_group entries and, for an
 * event, its ev_start entry, or withdraws those three when they are still
 * deferred. The current entry is the caller's business. */
static int
drop(struct put *p, const struct stored_ref *ref)
{
	uint8_t key[MU_STORE__TIME_KEY_BYTES], seq[MU_STORE__SEQ_BYTES];
	uint8_t gkey[MU_STORE__GROUP_KEY_BYTES], skey[MU_STORE__SIGNER_KEY_BYTES];
	uint64_t number;
	MDB_val v;
	int err;

	err = get(p, p->st->ids, ref->id, MU_ID_BYTES, &v);
	if (err == 0 && v.mv_size != sizeof(seq))
		err =
		    mu_fail(p->why, MU_ECORRUPT,
		            "the store at %s has a damaged id index entry", p->st->dir);
	if (err == 0) {
		/* Copied out: the page v points into may change below. */
		memcpy(seq, v.mv_data, sizeof(seq));
		err = del(p, p->st->bodies, seq, sizeof(seq));
	}
	if (err == 0)
		err = del(p, p->st->ids, ref->id, MU_ID_BYTES);
	if (err == 0 && ref->delegated) {
		mu_store__signer_key(skey, ref->group, ref->signer, ref->id);
		err = del(p, p->st->signed_by, skey, sizeof(skey));
	}
	if (err != 0)
		return err;
	/* A record this batch stored has its other entries still deferred. */
	number = mu_store__get_be64(seq);
	if (number > p->defer->first)
		return mu_store__defer_drop(p->defer, number, p->why);
	mu_store__time_key(key, ref->created_at, ref->id);
	err = del(p, p->st->by_time, key, sizeof(key));
	if (err == 0) {
		struct mu_store__fp_run run;

		mu_store__fp_run_init(&run);
		err =
		    mu_store__fp_run_add(p->st, p->txn, &run, (uint64_t)ref->created_at,
		                         ref->id, ref->group, true, p->why);
		if (err == 0)
			err = mu_store__fp_run_flush(p->st, p->txn, &run, p->why);
		mu_store__fp_run_free(&run);
	}
	mu_store__group_key(gkey, ref->group, ref->created_at, ref->id);
	if (err == 0)
		err = del(p, p->st->by_group, gkey, sizeof(gkey));
	if (err != 0 || !ref->is_event)
		return err;
	mu_store__start_key(key, ref->start, ref->id);
	return del(p, p->st->ev_start, key, sizeof(key));
}

/* Reads the id that current holds for an address key: 0, MU_ENOTFOUND, or
 * an error. Through p's cursor on current, which stays on the entry found
 * (or where it would go) for put_current(): one search for both. */
static int
current_id(struct put *p, const uint8_t *akey, size_t alen, uint8_t id[MU_ID_BYTES])
{
	MDB_val k = {alen, (void *)akey}, v;
	int rc;

	if (p->cur == NULL &&
	    (rc = mdb_cursor_open(p->txn, p->st->current, &p->cur)) != 0)
		return mu_store__err(p->st, rc, "reading the store", p->why);
	rc = mdb_cursor_get(p->cur, &k, &v, MDB_SET);
	if (rc != 0)
		return mu_store__err(p->st, rc, "reading the store", p->why);
	if (v.mv_size != MU_ID_BYTES)
		return mu_fail(p->why, MU_ECORRUPT,
		               "the store at %s has a damaged address index entry",
		               p->st->dir);
	memcpy(id, v.mv_data, MU_ID_BYTES);
	return 0;
}

/* Points akey at id in current, through the cursor current_id() left on
 * akey's entry (replaced is true: it was there) or near where it goes.
 * Nothing writes to current between the two. */
static int
put_current(struct put *p, const uint8_t *akey, size_t alen,
            const uint8_t id[MU_ID_BYTES], bool replaced)
{
	MDB_val k = {alen, (void *)akey}, v = {MU_ID_BYTES, (void *)id};

	return mu_store__err(p->st,
	                     mdb_cursor_put(p->cur, &k, &v, replaced ? MDB_CURRENT : 0),
	                     "writing to the store", p->why);
}

/* Loads a record an index points at; its absence means the indices and the
 * records disagree. */
static int
load_indexed(struct put *p, const uint8_t id[MU_ID_BYTES], struct mu_record *rec)
{
	int err = mu_store__load(p->st, p->txn, id, rec, p->why);

	if (err == MU_ENOTFOUND)
		return mu_fail(p->why, MU_ECORRUPT,
		               "the store at %s indexes a record it does not hold",
		               p->st->dir);
	return err;
}

/* Whether a tombstone key exists: 1, 0 or an error. */
static int
tombstoned(struct put *p, const uint8_t *tkey, size_t tlen)
{
	MDB_val v;
	int err = get(p, p->st->tombstones, tkey, tlen, &v);

	if (err == MU_ENOTFOUND)
		return 0;
	return err == 0 ? 1 : err;
}

/* When several deletes name one target, the lowest id is kept, so every
 * node names the same one whatever order they arrived in. */
static int
put_tombstone(struct put *p, const uint8_t *tkey, size_t tlen,
              const uint8_t id[MU_ID_BYTES])
{
	MDB_val v;
	int err = get(p, p->st->tombstones, tkey, tlen, &v);

	if (err == 0 && v.mv_size == MU_ID_BYTES &&
	    memcmp(v.mv_data, id, MU_ID_BYTES) <= 0)
		return 0;
	if (err != 0 && err != MU_ENOTFOUND)
		return err;
	return put(p, p->st->tombstones, tkey, tlen, id, MU_ID_BYTES);
}

static int
delete_by_addr(struct put *p, const struct mu_record *rec)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], tkey[MU_STORE__TOMB_KEY_MAX];
	uint8_t id[MU_ID_BYTES];
	size_t alen = mu_store__addr_key(akey, &rec->c.del.addr);
	size_t tlen = mu_store__tomb_addr_key(tkey, &rec->c.del.addr);
	struct stored_ref ref;
	struct mu_record target;
	int err;

	/* Rule delete-own (checked by mu_rec_parse) makes the address ours. */
	err = current_id(p, akey, alen, id);
	if (err == 0) {
		err = load_indexed(p, id, &target);
		if (err != 0)
			return err;
		ref_of(&ref, &target);
		err = drop(p, &ref);
		if (err == 0)
			err = del(p, p->st->current, akey, alen);
	}
	if (err == 0 || err == MU_ENOTFOUND)
		err = mu_store__past_drop(p->st, p->txn, akey, alen, p->why);
	if (err != 0)
		return err;
	return put_tombstone(p, tkey, tlen, rec->id);
}

static int
delete_by_id(struct put *p, const struct mu_record *rec)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], tkey[MU_STORE__TOMB_KEY_MAX];
	uint8_t cur[MU_ID_BYTES];
	size_t alen = 0;
	size_t tlen = mu_store__tomb_id_key(tkey, rec->c.del.id, rec->group);
	struct stored_ref ref;
	struct mu_record target;
	struct mu_addr addr;
	bool replaceable;
	int err;

	err = mu_store__load(p->st, p->txn, rec->c.del.id, &target, p->why);
	if (err == MU_ENOTFOUND)
		return put_tombstone(p, tkey, tlen, rec->id);
	if (err != 0)
		return err;
	/* Another group's delete has no power over the record, and a tombstone
	 * is never itself deleted. */
	if (memcmp(target.group, rec->group, MU_KEY_BYTES) != 0 ||
	    target.kind == MU_KIND_DELETE)
		return put_tombstone(p, tkey, tlen, rec->id);

	replaceable = mu_kind_replaceable(target.kind);
	if (replaceable) {
		mu_rec_addr(&target, &addr);
		alen = mu_store__addr_key(akey, &addr);
	}
	ref_of(&ref, &target);
	err = drop(p, &ref);
	if (err != 0)
		return err;
	if (replaceable) {
		err = current_id(p, akey, alen, cur);
		if (err == 0 && memcmp(cur, ref.id, MU_ID_BYTES) == 0)
			err = del(p, p->st->current, akey, alen);
		if (err != 0 && err != MU_ENOTFOUND)
			return err;
	}
	return put_tombstone(p, tkey, tlen, rec->id);
}

static int put_one(struct put *p, const struct mu_record *rec,
                   enum mu_put_result *result);

/* The current organizer record of rec's signer for rec's group into *o:
 * 0, MU_ENOTFOUND or an error. */
static int
organizer_of(struct put *p, const struct mu_record *rec, struct mu_record *o)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], id[MU_ID_BYTES];
	char d[2 * MU_KEY_BYTES];
	struct mu_addr addr;
	int err;

	memcpy(addr.group, rec->group, MU_KEY_BYTES);
	addr.kind = MU_KIND_ORGANIZER;
	mu_store__alliance_d(d, rec->signer);
	addr.d.ptr = d;
	addr.d.len = sizeof(d);
	err = current_id(p, akey, mu_store__addr_key(akey, &addr), id);
	if (err != 0)
		return err;
	return load_indexed(p, id, o);
}

/*
 * A delegated record whose organizer record is not here is held; one that
 * the organizer record does not accept is refused. 0 lets rec be stored,
 * 1 sets *result (rec's claim on its id given back), or an error.
 */
static int
judge_delegated(struct put *p, const struct mu_record *rec, enum mu_put_result *result)
{
	struct mu_record o;
	bool held;
	int err = organizer_of(p, rec, &o);

	if (err == 0 && mu_organizer_accepts(&o, rec))
		return 0;
	if (err != 0 && err != MU_ENOTFOUND)
		return err;
	if (err == 0) {
		err = refuse(p, rec, 1,
		             o.c.organizer.status == MU_ORGANIZER_REVOKED
		                 ? MU_PUT_REVOKED
		                 : MU_PUT_NOT_ALLOWED,
		             result);
		return err != 0 ? err : 1;
	}
	if ((err = refuse(p, rec, 1, MU_PUT_HELD, result)) != 0)
		return err;
	if ((err = mu_store__hold(p->st, p->txn, rec, &held, p->why)) != 0)
		return err;
	if (!held)
		*result = MU_PUT_HELD_FULL;
	return 1;
}

/* Removes a stored record with every entry that names it: its body, ids,
 * by_time, by_group, ev_start and signed entries, its current entry, and,
 * for a delete, the tombstone entry that names it. rec may borrow txn's
 * pages: what is needed of it is copied before anything changes. */
static int
remove_record(struct put *p, const struct mu_record *rec)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], tkey[MU_STORE__TOMB_KEY_MAX];
	uint8_t cur[MU_ID_BYTES];
	struct stored_ref ref;
	struct mu_addr addr;
	size_t alen, tlen;
	MDB_val v;
	int err;

	ref_of(&ref, rec);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		alen = mu_store__addr_key(akey, &addr);
		err = current_id(p, akey, alen, cur);
		if (err == 0 && memcmp(cur, rec->id, MU_ID_BYTES) == 0)
			err = del(p, p->st->current, akey, alen);
		if (err != 0 && err != MU_ENOTFOUND)
			return err;
	} else if (rec->kind == MU_KIND_DELETE) {
		tlen = rec->c.del.by_addr
		           ? mu_store__tomb_addr_key(tkey, &rec->c.del.addr)
		           : mu_store__tomb_id_key(tkey, rec->c.del.id, rec->group);
		err = get(p, p->st->tombstones, tkey, tlen, &v);
		if (err == 0 && v.mv_size == MU_ID_BYTES &&
		    memcmp(v.mv_data, rec->id, MU_ID_BYTES) == 0)
			err = del(p, p->st->tombstones, tkey, tlen);
		if (err != 0 && err != MU_ENOTFOUND)
			return err;
	}
	return drop(p, &ref);
}

/*
 * o became the current organizer record of its key: the stored records of
 * that key it does not accept go (a revocation keeps only its keep), and
 * the records held for the key are put again, now to be judged by o.
 */
static int
organizer_changed(struct put *p, const struct mu_record *o)
{
	const struct mu_organizer *org = &o->c.organizer;
	struct mu_store__held_rec *held = NULL;
	uint8_t(*ids)[MU_ID_BYTES] = NULL;
	enum mu_put_result res;
	struct mu_record rec;
	struct mu_why pw;
	size_t n = 0, i;
	int err;

	err = mu_store__signed_ids(p->st, p->txn, o->group, org->key, &ids, &n, p->why);
	for (i = 0; err == 0 && i < n; i++) {
		err = load_indexed(p, ids[i], &rec);
		if (err == 0 && !mu_organizer_accepts(o, &rec))
			err = remove_record(p, &rec);
	}
	free(ids);
	if (err != 0)
		return err;
	err = mu_store__held_take(p->st, p->txn, o->group, org->key, &held, &n, p->why);
	for (i = 0; err == 0 && i < n; i++) {
		/* Verified when they were held. */
		if (mu_rec_parse(&rec, held[i].raw, held[i].len, 0,
		                 MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, &pw) != 0)
			continue;
		err = put_one(p, &rec, &res);
	}
	mu_store__held_free(held, n);
	return err;
}

/*
 * An edit older than the current version is not stored, but kept in the
 * past table: it may be the other side of a conflict (docs/PROTOCOL.md
 * 5.2). A revision that names none is no edit of a known one: not kept.
 */
static int
superseded(struct put *p, const struct mu_record *rec, enum mu_put_result *result)
{
	int err;

	if (rec->has_replaces &&
	    (err = mu_store__past_keep(p->st, p->txn, rec, p->why)) != 0)
		return err;
	return refuse(p, rec, 1, MU_PUT_SUPERSEDED, result);
}

/* old, the current version, goes: into the past table, as the base or a
 * side of a merge to come. Its bytes are copied out of the pages that
 * dropping it changes. */
static int
keep_displaced(struct put *p, const struct mu_record *old)
{
	struct stored_ref ref;
	struct mu_record copy = *old;
	uint8_t *raw;
	int err;

	if ((raw = malloc(old->raw_len)) == NULL)
		return mu_fail(p->why, MU_ENOMEM, "storing records: out of memory");
	memcpy(raw, old->raw, old->raw_len);
	mu_rec_move(&copy, raw);
	ref_of(&ref, old);
	err = drop(p, &ref);
	if (err == 0)
		err = mu_store__past_keep(p->st, p->txn, &copy, p->why);
	free(raw);
	return err;
}

static int
put_one(struct put *p, const struct mu_record *rec, enum mu_put_result *result)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], tkey[MU_STORE__TOMB_KEY_MAX];
	uint8_t key[MU_STORE__TIME_KEY_BYTES], old_id[MU_ID_BYTES];
	uint8_t seq[MU_STORE__SEQ_BYTES], gkey[MU_STORE__GROUP_KEY_BYTES];
	uint8_t skey[MU_STORE__SIGNER_KEY_BYTES];
	bool replaceable = mu_kind_replaceable(rec->kind), replaced = false;
	struct mu_record old;
	struct mu_addr addr;
	size_t alen = 0, tlen;
	int err, cmp;

	err = claim_id(p, rec, seq);
	if (err != 0) {
		*result = MU_PUT_DUPLICATE;
		return err < 0 ? err : 0;
	}
	if (delegated(rec) && (err = judge_delegated(p, rec, result)) != 0)
		return err < 0 ? err : 0;

	if (rec->kind != MU_KIND_DELETE) {
		tlen = mu_store__tomb_id_key(tkey, rec->id, rec->group);
		err = tombstoned(p, tkey, tlen);
		if (err != 0)
			return refuse(p, rec, err, MU_PUT_DELETED, result);
	}

	if (replaceable) {
		mu_rec_addr(rec, &addr);
		alen = mu_store__addr_key(akey, &addr);
		tlen = mu_store__tomb_addr_key(tkey, &addr);
		err = tombstoned(p, tkey, tlen);
		if (err != 0)
			return refuse(p, rec, err, MU_PUT_DELETED, result);
		err = current_id(p, akey, alen, old_id);
		if (err == 0) {
			replaced = true;
			err = load_indexed(p, old_id, &old);
			if (err != 0)
				return err;
			cmp = mu_rec_newer(rec, &old);
			if (cmp < 0)
				return superseded(p, rec, result);
			err = keep_displaced(p, &old);
		}
		if (err != 0 && err != MU_ENOTFOUND)
			return err;
	}

	err = put_body(p, rec, seq);
	if (err != 0)
		return err;
	mu_store__time_key(key, rec->created_at, rec->id);
	err = mu_store__defer_add(p->defer, MU_STORE__DEFER_TIME, key, rec->group,
	                          p->seq, p->why);
	mu_store__group_key(gkey, rec->group, rec->created_at, rec->id);
	if (err == 0)
		err = mu_store__defer_add(p->defer, MU_STORE__DEFER_GROUP, gkey, NULL,
		                          p->seq, p->why);
	if (err != 0)
		return err;
	if (err == 0 && delegated(rec)) {
		mu_store__signer_key(skey, rec->group, rec->signer, rec->id);
		err = put(p, p->st->signed_by, skey, sizeof(skey), "", 0);
	}
	if (err != 0)
		return err;
	if (replaceable) {
		err = put_current(p, akey, alen, rec->id, replaced);
		if (err == 0 && rec->kind == MU_KIND_ORGANIZER)
			err = organizer_changed(p, rec);
		if (err == 0 && rec->kind == MU_KIND_EVENT) {
			mu_store__start_key(key, rec->c.event.start, rec->id);
			err = mu_store__defer_add(p->defer, MU_STORE__DEFER_START, key,
			                          NULL, p->seq, p->why);
		}
	} else if (rec->kind == MU_KIND_DELETE) {
		err =
		    rec->c.del.by_addr ? delete_by_addr(p, rec) : delete_by_id(p, rec);
	}
	if (err != 0)
		return err;
	*result = MU_PUT_NEW;
	return 0;
}

/* Before p's transaction ends. */
static void
close_cursor(struct put *p)
{
	if (p->cur != NULL)
		mdb_cursor_close(p->cur);
	p->cur = NULL;
}

int
mu_store__drop_held(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
                    struct mu_why *why)
{
	/* No batch: every entry is in its table, none deferred. */
	struct mu_store__defer none = {.first = UINT64_MAX};
	struct put p = {st, txn, 0, why, &none, NULL};
	int err = remove_record(&p, rec);

	close_cursor(&p);
	return err;
}

/* The batch's first sequence number is its deferred entries' (defer->first). */
struct mu_store_batch {
	struct put p;
};

int
mu_store_batch_begin(struct mu_store *st, struct mu_store_batch **out,
                     struct mu_why *why)
{
	struct mu_store_batch *b;
	int err;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if (st->read_only)
		return mu_fail(why, MU_EINVAL,
		               "the store at %s was opened read-only: open it for "
		               "writing to store records",
		               st->dir);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return mu_fail(why, MU_ENOMEM, "storing records: out of memory");
	b->p.st = st;
	b->p.why = why;
	err = mu_store__begin(st, true, &b->p.txn, why);
	if (err == 0)
		err = mu_store__seq_read(st, b->p.txn, &b->p.seq, why);
	if (err != 0) {
		mu_store_batch_abort(b);
		return err;
	}
	/* The store's buffers, kept from batch to batch: only the holder of
	 * the write transaction uses them. */
	if (st->defer == NULL && (st->defer = calloc(1, sizeof(*st->defer))) == NULL) {
		mu_store_batch_abort(b);
		return mu_fail(why, MU_ENOMEM, "storing records: out of memory");
	}
	b->p.defer = st->defer;
	mu_store__defer_init(b->p.defer, b->p.seq);
	*out = b;
	return 0;
}

/* The map's pages one put reads, for the map budget (store_map.c): the
 * leaves and branches of the indexes it looks up and writes, not one read,
 * or a commit of thousands of records runs the map far past its budget
 * between two looks at the resident size. */
#define PUT_MAP_READS 8

int
mu_store_batch_put(struct mu_store_batch *b, const struct mu_record *const *recs,
                   size_t n, enum mu_put_result *results, struct mu_why *why)
{
	int err = 0;

	b->p.why = why;
	if (why != NULL)
		why->text[0] = '\0';
	for (size_t i = 0; err == 0 && i < n; i++) {
		mu_store__map_write(b->p.st, PUT_MAP_READS);
		err = put_one(&b->p, recs[i], &results[i]);
	}
	return err;
}

int
mu_store_batch_commit(struct mu_store_batch *b, struct mu_why *why)
{
	int err = 0, rc;

	b->p.why = why;
	if (why != NULL)
		why->text[0] = '\0';
	err = mu_store__defer_flush(b->p.defer, b->p.st, b->p.txn, why);
	if (err == 0 && b->p.seq != b->p.defer->first)
		err = mu_store__seq_write(b->p.st, b->p.txn, b->p.seq, why);
	close_cursor(&b->p);
	if (err == 0) {
		rc = mdb_txn_commit(b->p.txn);
		b->p.txn = NULL;
		err = mu_store__err(b->p.st, rc, "committing to the store", why);
		if (err != 0)
			mu_store__trim(b->p.st, NULL);
		else if (b->p.seq != b->p.defer->first)
			b->p.st->logged = true;
	}
	mu_store_batch_abort(b);
	return err;
}

void
mu_store_batch_abort(struct mu_store_batch *b)
{
	if (b == NULL)
		return;
	/* A large batch spills pages to the file before its commit: the
	 * space they took goes back with it. */
	close_cursor(&b->p);
	if (b->p.txn != NULL) {
		mu_store__trim(b->p.st, b->p.txn);
		mdb_txn_abort(b->p.txn);
	}
	free(b);
}

int
mu_store_put(struct mu_store *st, const struct mu_record *const *recs, size_t n,
             enum mu_put_result *results, struct mu_why *why)
{
	struct mu_store_batch *b;
	int err;

	if (n == 0 && !st->read_only) {
		if (why != NULL)
			why->text[0] = '\0';
		return 0;
	}
	if ((err = mu_store_batch_begin(st, &b, why)) != 0)
		return err;
	if ((err = mu_store_batch_put(b, recs, n, results, why)) != 0) {
		mu_store_batch_abort(b);
		return err;
	}
	return mu_store_batch_commit(b, why);
}

/* What a commit may add to the file, per record and once: LMDB copies every
 * page a write touches, so a record costs its own bytes and a leaf of each
 * index it enters (bodies, ids, by_time, by_group, current, ev_start), the
 * commit the branch pages above them and the free list's pages. A bound
 * that errs high: on a full disk a commit sized by it fits. */
#define FIT_PAGES_PER_RECORD 6
#define FIT_PAGES_PER_COMMIT 64
/* Past this many records per commit, mu_store_put_fit stops counting and
 * puts whole batches again. */
#define FIT_CAP_MAX 65536

/* How many of the n records a commit can take while its growth fits the
 * room the store's file has; at least one, which is then tried anyway. */
static size_t
fit_room(struct mu_store *st, const struct mu_record *const *recs, size_t n)
{
	uint64_t room = mu_store__room(st), page, need;
	MDB_stat ms;
	size_t k;

	if (room == UINT64_MAX || mdb_env_stat(st->env, &ms) != 0)
		return n;
	page = ms.ms_psize;
	need = FIT_PAGES_PER_COMMIT * page;
	for (k = 0; k < n; k++) {
		need += (recs[k]->raw_len + page - 1) / page * page +
		        FIT_PAGES_PER_RECORD * page;
		if (need > room)
			break;
	}
	return k > 0 ? k : 1;
}

int
mu_store_put_fit(struct mu_store *st, const struct mu_record *const *recs, size_t n,
                 enum mu_put_result *results, size_t *stored, struct mu_why *why)
{
	size_t done = 0, k, room;
	int err = 0;

	while (done < n) {
		k = n - done;
		if (st->fit_cap != 0 && st->fit_cap < k)
			k = st->fit_cap;
		room = fit_room(st, recs + done, k);
		if (room < k)
			k = room;
		err = mu_store_put(st, recs + done, k, results + done, why);
		if (err == 0) {
			done += k;
			/* Back up to whole batches once commits fit again. */
			if (st->fit_cap != 0)
				st->fit_cap =
				    st->fit_cap < FIT_CAP_MAX ? 2 * st->fit_cap : 0;
			continue;
		}
		if (err != MU_EFULL)
			break;
		st->fit_cap = k > 1 ? k / 2 : 1;
		if (k == 1)
			break;
	}
	*stored = done;
	return err;
}
