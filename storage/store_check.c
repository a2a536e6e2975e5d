/*
 * store_check.c - `muster check`: every record and every index entry of a
 * store held against the invariants of storage/README.md, in one read
 * snapshot (store_check.h).
 *
 * Each fact is checked from one side only, so that one damage gives one
 * line: a record's own entries (ids, by_time, by_group, current, ev_start,
 * its tombstone if it is a delete) from the record's side; entries that point at
 * nothing, or at a record they do not describe, from the index's side.
 */
#include "store_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/textform.h"
#include "local.h"
#include "store_fp.h"
#include "store_held.h"
#include "store_keys.h"

struct check {
	struct mu_store *st;
	MDB_txn *txn;
	mu_store_problem_fn fn;
	void *ctx;
	struct mu_store_check_stats *stats;
	uint64_t last_seq; /* meta "seq": no body may be numbered above it */
};

static int problem(struct check *c, const char *db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
problem(struct check *c, const char *db, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	c->stats->problems++;
	return c->fn(c->ctx, db, text);
}

/* Looks key up in dbi: 1 found (*v set), 0 absent, or an error. */
static int
lookup(struct check *c, MDB_dbi dbi, const void *key, size_t klen, MDB_val *v)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_get(c->txn, dbi, &k, v);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : mu_store__err(c->st, rc, "checking the store", NULL);
}

#define LOADED  1
#define MISSING 0
#define DAMAGED 2 /* the records pass reports it: the entry is not at fault */

/* The stored record with id, parsed as the queries read it: LOADED (rec
 * set), MISSING, DAMAGED, or an error. */
static int
load(struct check *c, const uint8_t id[MU_ID_BYTES], struct mu_record *rec)
{
	int err = mu_store__load(c->st, c->txn, id, rec, NULL);

	if (err == MU_ENOTFOUND)
		return MISSING;
	if (err == MU_ECORRUPT)
		return DAMAGED;
	return err == 0 ? LOADED : err;
}

static void
hex(char out[MU_ID_TEXT_SIZE], const void *id)
{
	mu_id_to_text(out, id);
}

/* An entry of db that is not of the shape its database holds. */
static int
bad_form(struct check *c, const char *db, const MDB_val *k, const MDB_val *v,
         const char *shape)
{
	return problem(c, db, "an entry of %zu+%zu bytes, not %s", k->mv_size,
	               v->mv_size, shape);
}

/*
 * The start of every index entry's check: counts it, checks its form, and
 * loads the record that id names into rec (its hex into text). *go says
 * whether the caller goes on with rec; when not, the return value is the
 * walk's (a problem was reported, or the record is damaged and the records
 * pass says so).
 */
static int
entry_record(struct check *c, const char *db, bool form, const char *shape,
             const MDB_val *k, const MDB_val *v, const uint8_t *id,
             struct mu_record *rec, char text[MU_ID_TEXT_SIZE], bool *go)
{
	int found;

	*go = false;
	c->stats->entries++;
	if (!form)
		return bad_form(c, db, k, v, shape);
	hex(text, id);
	found = load(c, id, rec);
	if (found == MISSING)
		return problem(
		    c, db, "an entry points to record %s, which is not stored", text);
	*go = found == LOADED;
	return found < 0 ? found : 0;
}

/* --- the records and the entries each one must have --------------------- */

/* The tombstone entry a delete record makes; returns its length. */
static size_t
tomb_key_of(uint8_t tkey[MU_STORE__TOMB_KEY_MAX], const struct mu_record *del)
{
	if (del->c.del.by_addr)
		return mu_store__tomb_addr_key(tkey, &del->c.del.addr);
	return mu_store__tomb_id_key(tkey, del->c.del.id, del->group);
}

static int
check_tombstone_of(struct check *c, const struct mu_record *rec, const char *id)
{
	uint8_t tkey[MU_STORE__TOMB_KEY_MAX];
	size_t tlen;
	MDB_val v;
	int found;

	tlen = tomb_key_of(tkey, rec);
	found = lookup(c, c->st->tombstones, tkey, tlen, &v);
	if (found < 0)
		return found;
	if (found == 0)
		return problem(c, "tombstones",
		               "delete record %s has no tombstone entry", id);
	/* Of several deletes of one target the entry keeps the lowest id. */
	if (v.mv_size == MU_ID_BYTES && memcmp(v.mv_data, rec->id, MU_ID_BYTES) > 0)
		return problem(c, "tombstones",
		               "the tombstone entry of delete record %s names a "
		               "later delete",
		               id);
	return 0;
}

/* A replaceable record must be current at its address (and, as an event,
 * in the calendar), and no delete by address may cover it. */
static int
check_current_of(struct check *c, const struct mu_record *rec, const char *id)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX], tkey[MU_STORE__TOMB_KEY_MAX];
	uint8_t skey[MU_STORE__TIME_KEY_BYTES];
	char atext[MU_ADDR_TEXT_SIZE], other[MU_ID_TEXT_SIZE];
	struct mu_addr addr;
	size_t alen, tlen;
	MDB_val v;
	int found, err;

	mu_rec_addr(rec, &addr);
	mu_addr_to_text(atext, &addr);
	alen = mu_store__addr_key(akey, &addr);
	found = lookup(c, c->st->current, akey, alen, &v);
	if (found < 0)
		return found;
	if (found == 0)
		err = problem(c, "current",
		              "record %s is stored but its address %s has no "
		              "current version",
		              id, atext);
	else if (v.mv_size != MU_ID_BYTES || memcmp(v.mv_data, rec->id, MU_ID_BYTES))
		err = problem(c, "current",
		              "record %s is stored but the current version of %s "
		              "is %s: one of them should be gone",
		              id, atext,
		              v.mv_size == MU_ID_BYTES ? (hex(other, v.mv_data), other)
		                                       : "not an id");
	else
		err = 0;
	if (err != 0)
		return err;
	if (rec->kind == MU_KIND_EVENT) {
		mu_store__start_key(skey, rec->c.event.start, rec->id);
		found = lookup(c, c->st->ev_start, skey, sizeof(skey), &v);
		if (found < 0)
			return found;
		if (found == 0 &&
		    (err = problem(c, "ev_start",
		                   "event %s is missing from the calendar index",
		                   id)) != 0)
			return err;
	}
	tlen = mu_store__tomb_addr_key(tkey, &addr);
	found = lookup(c, c->st->tombstones, tkey, tlen, &v);
	if (found <= 0)
		return found;
	return problem(c, "tombstones",
	               "record %s is stored though its address %s was deleted", id,
	               atext);
}

/* The current organizer record of signer for group into *o: LOADED,
 * MISSING, DAMAGED or an error. */
static int
organizer_of(struct check *c, const uint8_t group[MU_KEY_BYTES],
             const uint8_t signer[MU_KEY_BYTES], struct mu_record *o)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX];
	char d[2 * MU_KEY_BYTES];
	struct mu_addr addr;
	MDB_val v;
	int found;

	memcpy(addr.group, group, MU_KEY_BYTES);
	addr.kind = MU_KIND_ORGANIZER;
	mu_store__alliance_d(d, signer);
	addr.d.ptr = d;
	addr.d.len = sizeof(d);
	found = lookup(c, c->st->current, akey, mu_store__addr_key(akey, &addr), &v);
	if (found <= 0)
		return found;
	if (v.mv_size != MU_ID_BYTES)
		return DAMAGED; /* the current pass reports it */
	return load(c, v.mv_data, o);
}

/* A record signed by an organizer key: its signed index entry, and an
 * organizer record that accepts it (docs/PROTOCOL.md 10.6). */
static int
check_delegated(struct check *c, const struct mu_record *rec, const char *id)
{
	uint8_t skey[MU_STORE__SIGNER_KEY_BYTES];
	char key[MU_ID_TEXT_SIZE];
	struct mu_record o;
	MDB_val v;
	int found, err;

	mu_store__signer_key(skey, rec->group, rec->signer, rec->id);
	found = lookup(c, c->st->signed_by, skey, sizeof(skey), &v);
	if (found < 0)
		return found;
	if (found == 0 && (err = problem(c, "signed",
	                                 "record %s, signed by an organizer key, has "
	                                 "no signed index entry",
	                                 id)) != 0)
		return err;
	hex(key, rec->signer);
	found = organizer_of(c, rec->group, rec->signer, &o);
	if (found < 0 || found == DAMAGED)
		return found < 0 ? found : 0;
	if (found == MISSING)
		return problem(c, "current",
		               "record %s is signed by %s, which its group has not "
		               "made an organizer",
		               id, key);
	if (!mu_organizer_accepts(&o, rec))
		return problem(c, "current",
		               "record %s is signed by organizer %s, whose organizer "
		               "record does not accept it (%s)",
		               id, key,
		               o.c.organizer.status == MU_ORGANIZER_REVOKED
		                   ? "revoked"
		                   : "a kind it may not publish");
	return 0;
}

static int
check_record(struct check *c, uint64_t seq, const struct mu_record *rec)
{
	uint8_t key[MU_STORE__TOMB_KEY_MAX], gkey[MU_STORE__GROUP_KEY_BYTES];
	char id[MU_ID_TEXT_SIZE];
	size_t tlen;
	MDB_val v;
	int found, err;

	hex(id, rec->id);
	found = lookup(c, c->st->ids, rec->id, MU_ID_BYTES, &v);
	if (found < 0)
		return found;
	if (found == 0)
		err = problem(c, "ids", "record %s has no id entry", id);
	else if (v.mv_size != MU_STORE__SEQ_BYTES)
		err = 0; /* the ids pass reports the entry's form */
	else if (mu_store__get_be64(v.mv_data) != seq)
		err = problem(c, "ids",
		              "record %s is stored at sequence number %llu but its id "
		              "entry says %llu: it is stored twice, or the entry is "
		              "wrong",
		              id, (unsigned long long)seq,
		              (unsigned long long)mu_store__get_be64(v.mv_data));
	else
		err = 0;
	if (err != 0)
		return err;
	mu_store__time_key(key, rec->created_at, rec->id);
	found = lookup(c, c->st->by_time, key, MU_STORE__TIME_KEY_BYTES, &v);
	if (found < 0)
		return found;
	if (found == 0)
		err = problem(c, "by_time", "record %s has no time index entry", id);
	else if (v.mv_size != MU_STORE__TIME_VAL_BYTES)
		err = 0; /* the by_time pass reports the entry's form */
	else if (memcmp(v.mv_data, rec->group, MU_KEY_BYTES))
		err = problem(c, "by_time",
		              "the time index entry of record %s names another group",
		              id);
	else if (mu_store__get_be64((const uint8_t *)v.mv_data + MU_KEY_BYTES) != seq)
		err = problem(c, "by_time",
		              "the time index entry of record %s gives sequence number "
		              "%llu, but it is stored at %llu",
		              id,
		              (unsigned long long)mu_store__get_be64(
		                  (const uint8_t *)v.mv_data + MU_KEY_BYTES),
		              (unsigned long long)seq);
	else
		err = 0;
	if (err != 0)
		return err;
	mu_store__group_key(gkey, rec->group, rec->created_at, rec->id);
	found = lookup(c, c->st->by_group, gkey, sizeof(gkey), &v);
	if (found < 0)
		return found;
	if (found == 0 &&
	    (err = problem(c, "by_group", "record %s has no group index entry", id)) !=
	        0)
		return err;
	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) != 0 &&
	    (err = check_delegated(c, rec, id)) != 0)
		return err;
	if (rec->kind == MU_KIND_DELETE)
		return check_tombstone_of(c, rec, id);
	tlen = mu_store__tomb_id_key(key, rec->id, rec->group);
	found = lookup(c, c->st->tombstones, key, tlen, &v);
	if (found < 0)
		return found;
	if (found == 1 && (err = problem(c, "tombstones",
	                                 "record %s is stored though a delete of "
	                                 "its group names it",
	                                 id)) != 0)
		return err;
	if (mu_kind_replaceable(rec->kind))
		return check_current_of(c, rec, id);
	return 0;
}

static int
bodies_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	struct mu_why why = {0};
	struct mu_record rec;
	uint64_t seq;
	int rc;

	(void)txn;
	if (k->mv_size != MU_STORE__SEQ_BYTES)
		return problem(
		    c, "bodies",
		    "an entry with a key of %zu bytes, not a sequence number",
		    k->mv_size);
	seq = mu_store__get_be64(k->mv_data);
	/* The signature too: the bytes may have changed since they were
	 * verified. Only the clock rule is off, as old records are fine. */
	rc = mu_rec_parse(&rec, v->mv_data, v->mv_size, 0, MU_PARSE_NOCLOCK, &why);
	if (rc != 0)
		return problem(c, "bodies",
		               "the record at sequence number %llu is "
		               "invalid: %s",
		               (unsigned long long)seq, why.text);
	c->stats->records++;
	if (seq == 0 || seq > c->last_seq) {
		char id[MU_ID_TEXT_SIZE];

		hex(id, rec.id);
		return problem(c, "bodies",
		               "record %s has sequence number %llu, outside the "
		               "store's 1 to %llu: a running daemon would not push it",
		               id, (unsigned long long)seq,
		               (unsigned long long)c->last_seq);
	}
	return check_record(c, seq, &rec);
}

/* --- the indices, each entry against the record it names ---------------- */

/* An ids entry must point at a body of that very record; a body that does
 * not parse is the bodies pass's to report. */
static int
ids_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	struct mu_record rec;
	char id[MU_ID_TEXT_SIZE];
	MDB_val body;
	int found;

	(void)txn;
	c->stats->entries++;
	if (k->mv_size != MU_ID_BYTES || v->mv_size != MU_STORE__SEQ_BYTES)
		return bad_form(c, "ids", k, v, "an id and a sequence number");
	hex(id, k->mv_data);
	found = lookup(c, c->st->bodies, v->mv_data, v->mv_size, &body);
	if (found < 0)
		return found;
	if (found == 0)
		return problem(c, "ids",
		               "an entry puts record %s at sequence number %llu, "
		               "which holds no record",
		               id, (unsigned long long)mu_store__get_be64(v->mv_data));
	if (mu_store__parse_body(c->st, 0, &body, NULL, &rec, NULL) != 0 ||
	    memcmp(rec.id, k->mv_data, MU_ID_BYTES) == 0)
		return 0;
	/* A body changed in place is the bodies pass's finding, not ours. */
	if (mu_rec_parse(&rec, body.mv_data, body.mv_size, 0, MU_PARSE_NOCLOCK, NULL) !=
	    0)
		return 0;
	return problem(c, "ids",
	               "an entry puts record %s at sequence number %llu, which "
	               "holds another record",
	               id, (unsigned long long)mu_store__get_be64(v->mv_data));
}

/*
 * An entry of by_time or by_group, whose key holds a time (8 bytes at when)
 * then the id of the record it indexes: the record must be stored, made at
 * that time and, for by_group (group not NULL), of that group. by_time's
 * group and sequence number are its value, checked from the record's side.
 */
static int
timed_entry(struct check *c, const char *db, bool form, const char *shape,
            const MDB_val *k, const MDB_val *v, const uint8_t *group,
            const uint8_t *when)
{
	struct mu_record rec;
	char id[MU_ID_TEXT_SIZE];
	bool go;
	int err;

	err = entry_record(c, db, form, shape, k, v, when + 8, &rec, id, &go);
	if (!go)
		return err;
	if (group != NULL && memcmp(rec.group, group, MU_KEY_BYTES) != 0)
		return problem(c, db, "an entry puts record %s in a group it is not of",
		               id);
	if ((uint64_t)rec.created_at == mu_store__get_be64(when))
		return 0;
	return problem(c, db,
	               "an entry puts record %s at time %llu, not at its "
	               "created_at",
	               id, (unsigned long long)mu_store__get_be64(when));
}

static int
time_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	(void)txn;
	return timed_entry(ctx, "by_time",
	                   k->mv_size == MU_STORE__TIME_KEY_BYTES &&
	                       v->mv_size == MU_STORE__TIME_VAL_BYTES,
	                   "a time, an id, a group and a sequence number", k, v, NULL,
	                   k->mv_data);
}

/* A by_group entry also carries the sequence number of the record's body,
 * which must be the one its ids entry names. */
static int
group_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	const uint8_t *key = k->mv_data;
	bool form = k->mv_size == MU_STORE__GROUP_KEY_BYTES &&
	            v->mv_size == MU_STORE__SEQ_BYTES;
	uint64_t problems = c->stats->problems;
	char id[MU_ID_TEXT_SIZE];
	MDB_val seq;
	int err, found;

	(void)txn;
	err = timed_entry(ctx, "by_group", form,
	                  "a group, a time and an id, and a sequence number", k, v, key,
	                  key + MU_KEY_BYTES);
	if (err != 0 || !form || c->stats->problems != problems)
		return err;
	found = lookup(c, c->st->ids, key + MU_KEY_BYTES + 8, MU_ID_BYTES, &seq);
	if (found <= 0 || seq.mv_size != MU_STORE__SEQ_BYTES ||
	    memcmp(seq.mv_data, v->mv_data, MU_STORE__SEQ_BYTES) == 0)
		return found < 0 ? found : 0;
	hex(id, key + MU_KEY_BYTES + 8);
	return problem(c, "by_group",
	               "an entry gives record %s sequence number %llu, but it is "
	               "stored at %llu",
	               id, (unsigned long long)mu_store__get_be64(v->mv_data),
	               (unsigned long long)mu_store__get_be64(seq.mv_data));
}

static int
current_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	uint8_t akey[MU_STORE__ADDR_KEY_MAX];
	const uint8_t *key = k->mv_data;
	struct mu_record rec;
	struct mu_addr addr;
	char id[MU_ID_TEXT_SIZE];
	bool go;
	int err;

	(void)txn;
	err = entry_record(c, "current",
	                   k->mv_size >= 1 + MU_KEY_BYTES &&
	                       k->mv_size <= MU_STORE__ADDR_KEY_MAX &&
	                       key[0] < MU_KIND_COUNT && mu_kind_replaceable(key[0]) &&
	                       v->mv_size == MU_ID_BYTES,
	                   "an address and an id", k, v, v->mv_data, &rec, id, &go);
	if (!go)
		return err;
	mu_rec_addr(&rec, &addr);
	if (mu_store__addr_key(akey, &addr) != k->mv_size ||
	    memcmp(akey, key, k->mv_size) != 0)
		return problem(c, "current",
		               "an address points to record %s, which has another "
		               "address",
		               id);
	return 0;
}

static int
start_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_record rec;
	char id[MU_ID_TEXT_SIZE];
	bool go;
	int err;

	(void)txn;
	err = entry_record(c, "ev_start",
	                   k->mv_size == MU_STORE__TIME_KEY_BYTES && v->mv_size == 0,
	                   "a start time and an id", k, v, key + 8, &rec, id, &go);
	if (!go)
		return err;
	if (rec.kind != MU_KIND_EVENT || rec.c.event.start != mu_store__start_of(key))
		return problem(c, "ev_start",
		               "the calendar lists record %s at a start it does not "
		               "have",
		               id);
	return 0;
}

/* A tombstone entry must name a stored delete record that makes that very
 * entry; what it covers being gone is checked from the records' side. */
static int
tomb_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	uint8_t tkey[MU_STORE__TOMB_KEY_MAX];
	const uint8_t *key = k->mv_data;
	struct mu_record rec;
	char id[MU_ID_TEXT_SIZE];
	size_t tlen;
	bool form, go;
	int err;

	(void)txn;
	form = k->mv_size > 0 && v->mv_size == MU_ID_BYTES &&
	       ((key[0] == MU_STORE__TOMB_ADDR && k->mv_size >= 2 + MU_KEY_BYTES &&
	         k->mv_size <= MU_STORE__TOMB_KEY_MAX) ||
	        (key[0] == MU_STORE__TOMB_ID &&
	         k->mv_size == 1 + MU_ID_BYTES + MU_KEY_BYTES));
	err = entry_record(c, "tombstones", form, "a tombstone", k, v, v->mv_data, &rec,
	                   id, &go);
	if (!go)
		return err;
	if (rec.kind != MU_KIND_DELETE)
		return problem(c, "tombstones",
		               "a tombstone names record %s, which is not a delete",
		               id);
	tlen = tomb_key_of(tkey, &rec);
	if (tlen != k->mv_size || memcmp(tkey, key, tlen) != 0)
		return problem(c, "tombstones",
		               "a tombstone names delete record %s, which deletes "
		               "something else",
		               id);
	return 0;
}

/* A signed index entry names a stored record of that group and signer. */
static int
signed_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_record rec;
	char id[MU_ID_TEXT_SIZE];
	bool go;
	int err;

	(void)txn;
	err = entry_record(
	    c, "signed", k->mv_size == MU_STORE__SIGNER_KEY_BYTES && v->mv_size == 0,
	    "a group, a signer and an id", k, v, key + 2 * MU_KEY_BYTES, &rec, id, &go);
	if (!go)
		return err;
	if (memcmp(rec.group, key, MU_KEY_BYTES) != 0 ||
	    memcmp(rec.signer, key + MU_KEY_BYTES, MU_KEY_BYTES) != 0)
		return problem(c, "signed",
		               "an entry names record %s under another group or "
		               "signer than its own",
		               id);
	return 0;
}

/* A held record is a valid record of its key's group and signer, signed
 * by a key that has no organizer record yet (else it is no longer held). */
static int
held_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;
	const uint8_t *key = k->mv_data;
	struct mu_record rec, o;
	struct mu_why why = {0};
	char id[MU_ID_TEXT_SIZE];
	int found;

	(void)txn;
	c->stats->entries++;
	if (k->mv_size != MU_STORE__SIGNER_KEY_BYTES)
		return bad_form(c, "held", k, v, "a group, a signer and an id");
	hex(id, key + 2 * MU_KEY_BYTES);
	if (mu_rec_parse(&rec, v->mv_data, v->mv_size, 0, MU_PARSE_NOCLOCK, &why) != 0)
		return problem(c, "held", "held record %s is damaged: %s", id,
		               why.text);
	if (memcmp(rec.group, key, MU_KEY_BYTES) != 0 ||
	    memcmp(rec.signer, key + MU_KEY_BYTES, MU_KEY_BYTES) != 0 ||
	    memcmp(rec.id, key + 2 * MU_KEY_BYTES, MU_ID_BYTES) != 0)
		return problem(c, "held",
		               "held record %s is filed under another group, signer "
		               "or id than its own",
		               id);
	found = organizer_of(c, rec.group, rec.signer, &o);
	if (found < 0)
		return found;
	if (found == LOADED)
		return problem(c, "held",
		               "record %s is still held though its organizer record "
		               "is stored",
		               id);
	return 0;
}

static int
follow_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;

	(void)txn;
	c->stats->entries++;
	if (!mu_store__follow_ok(k, v))
		return bad_form(c, "follows", k, v, "a group key and its check");
	return 0;
}

/* outside and blocks: group key -> a time (local_frozen.c). */
static int
key_time_entry(struct check *c, const char *db, const MDB_val *k, const MDB_val *v)
{
	c->stats->entries++;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return bad_form(c, db, k, v, "a group key and a time");
	return 0;
}

static int
outside_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	(void)txn;
	return key_time_entry(ctx, "outside", k, v);
}

static int
block_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	(void)txn;
	return key_time_entry(ctx, "blocks", k, v);
}

/* invites: a public key -> an invite's fixed layout (local_invites.c). */
static int
invite_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;

	(void)txn;
	c->stats->entries++;
	if (mu_store__invite_check(k, v) != 0)
		return bad_form(c, "invites", k, v, "an invite");
	return 0;
}

/* hellos: a peer key -> what its hellos said (local_hellos.c). */
static int
hello_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct check *c = ctx;

	(void)txn;
	c->stats->entries++;
	if (mu_store__hello_check(k, v) != 0)
		return bad_form(c, "hellos", k, v, "a peer's hellos");
	return 0;
}

static int
entries_problem(void *ctx, const char *text)
{
	return problem(ctx, "entries", "%s", text);
}

static int
count_peer(void *ctx, const struct mu_peer *p)
{
	(void)p;
	((struct check *)ctx)->stats->entries++;
	return 0;
}

/* A bucket of negfp that a recount of by_time does not give. */
static int
fp_bad(void *ctx, int level, uint64_t bucket, const char *what)
{
	if (level == MU_STORE__FP_GROUPS)
		return problem(ctx, "grpcount", "%s", what);
	if (level < 0)
		return problem(ctx, "negfp", "%s", what);
	return problem(ctx, "negfp",
	               "the fingerprint of the %llu-second bucket %llu is %s "
	               "(the records are not at fault: an export of them "
	               "imported into a new home rebuilds it)",
	               1ull << mu_store__fp_shift(level), (unsigned long long)bucket,
	               what);
}

/* The passes, in one snapshot: the tables every store has, then those
 * made on a first write, which a read-only open of an older store lacks
 * (store.c, open_optional). */
static int
walk(struct check *c)
{
	struct mu_store *st = c->st;
	const struct {
		const char *name;
		MDB_dbi dbi;
		mu_store__entry_fn fn;
		bool present;
	} tables[] = {
	    {"bodies", st->bodies, bodies_entry, true},
	    {"ids", st->ids, ids_entry, true},
	    {"by_time", st->by_time, time_entry, true},
	    {"by_group", st->by_group, group_entry, true},
	    {"current", st->current, current_entry, true},
	    {"ev_start", st->ev_start, start_entry, true},
	    {"tombstones", st->tombstones, tomb_entry, true},
	    {"follows", st->follows, follow_entry, true},
	    {"signed", st->signed_by, signed_entry, true},
	    {"held", st->held, held_entry, true},
	    {"outside", st->outside, outside_entry, st->has_frozen},
	    {"blocks", st->blocks, block_entry, st->has_frozen},
	    {"invites", st->invites, invite_entry, st->has_invites},
	    {"hellos", st->hellos, hello_entry, st->has_hellos},
	};
	bool time_bad = false;
	int err;

	err = mu_store__seq_read(st, c->txn, &c->last_seq, NULL);
	if (err == MU_ECORRUPT) {
		c->last_seq = UINT64_MAX; /* then no body is blamed for it */
		err = problem(c, "meta", "the store's sequence number is damaged");
	}
	for (size_t i = 0; err == 0 && i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint64_t before = c->stats->problems;

		if (!tables[i].present)
			continue;
		err = mu_store__scan(st, c->txn, tables[i].dbi, NULL, 0, tables[i].fn,
		                     c, "checking the store");
		if (tables[i].dbi == st->by_time && c->stats->problems != before)
			time_bad = true;
		/* LMDB found a damaged page, or the scan's own check of the
		 * pages did (mu_store__scan). LMDB fails every later read of
		 * a transaction that met a damaged page: the next table is
		 * read in a new one. */
		/* LMDB reads through its map: an error it returns while
		 * reading is about the pages, not the disk. */
		if (err != MU_ECORRUPT && err != MU_EIO)
			continue;
		err = problem(c, tables[i].name,
		              "the table's pages are damaged: a page is missing or "
		              "malformed, its keys are out of order, or it holds "
		              "other entries than it counts");
		mdb_txn_abort(c->txn);
		if (err == 0)
			err = mu_store__begin(st, false, &c->txn, NULL);
		if (err != 0)
			c->txn = NULL;
	}
	/* negfp sums by_time: one damage of by_time is one problem, there. */
	if (err == 0 && c->txn != NULL && !time_bad) {
		err = mu_store__fp_verify(c->st, c->txn, fp_bad, c);
		if (err == MU_ECORRUPT || err == MU_EIO)
			err = problem(c, "negfp",
			              "the table's pages are damaged, or by_time's");
	}
	return err;
}

int
mu_store_check(struct mu_store *st, mu_store_problem_fn fn, void *ctx,
               struct mu_store_check_stats *stats, struct mu_why *why)
{
	struct check c = {st, NULL, fn, ctx, stats, 0};
	int err;

	memset(stats, 0, sizeof(*stats));
	if (why != NULL)
		why->text[0] = '\0';
	err = mu_store__begin(st, false, &c.txn, why);
	if (err != 0)
		return err;
	err = walk(&c);
	if (err == 0 && c.txn != NULL)
		err = mu_store__entries_check(st, c.txn, entries_problem, &c,
		                              &stats->entries);
	if (c.txn != NULL)
		mdb_txn_abort(c.txn);
	if (err < 0 && (why == NULL || why->text[0] == '\0'))
		return mu_fail(why, err, "checking the store at %s: %s", st->dir,
		               mu_strerror(err));
	if (err != 0)
		return err;
	/* The peers' values are msgpack that only their reader knows. */
	err = mu_store_peers(st, count_peer, &c);
	if (err == MU_ECORRUPT)
		return problem(&c, "peers", "the peers table has a damaged entry");
	if (err != 0)
		return mu_fail(why, err, "checking the peers of the store at %s: %s",
		               st->dir, mu_strerror(err));
	return 0;
}
