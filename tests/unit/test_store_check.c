/*
 * mu_store_check() on a real LMDB store: clean after every kind of put, then
 * damaged on purpose with raw LMDB writes (bodies, each index, the
 * tombstones, the sequence number, the local tables), and each damage must be reported
 * in the database it concerns.
 */
/* nftw(), to remove the test's directory. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>

#include "storage/local.h"
#include "storage/store_check.h"
#include "storage/store_keys.h"

#include "store_fixture.h"

#define START 1950000000LL

/* The problems one check reported, as "db: text" lines. */
struct problems {
	size_t n;
	char line[32][400];
};

static int
note(void *ctx, const char *db, const char *text)
{
	struct problems *p = ctx;

	if (p->n < sizeof(p->line) / sizeof(p->line[0]))
		snprintf(p->line[p->n], sizeof(p->line[0]), "%s: %s", db, text);
	p->n++;
	return 0;
}

static struct mu_store_check_stats
check(struct fx *fx, struct problems *p)
{
	struct mu_store_check_stats stats;
	struct mu_why why = {0};

	memset(p, 0, sizeof(*p));
	if (mu_store_check(fx->st, note, p, &stats, &why) != 0)
		fail_msg("check: %s", why.text);
	assert_int_equal(stats.problems, p->n);
	return stats;
}

/* Fails unless a reported line starts with db and contains part. */
static void
assert_reported(const struct problems *p, const char *db, const char *part)
{
	size_t n = strlen(db);

	for (size_t i = 0; i < p->n && i < 32; i++)
		if (strncmp(p->line[i], db, n) == 0 && p->line[i][n] == ':' &&
		    strstr(p->line[i], part) != NULL)
			return;
	for (size_t i = 0; i < p->n && i < 32; i++)
		print_message("reported: %s\n", p->line[i]);
	fail_msg("no problem in %s saying \"%s\" (%zu reported)", db, part, p->n);
}

/* --- records ------------------------------------------------------------ */

static const struct mu_record *
a_cause(const struct grp *g, const char *d)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_CAUSE;
	r.created_at = NOW - 100;
	r.d = S(d);
	r.c.cause.title = S("Rent strike");
	r.c.cause.status = MU_CAUSE_ACTIVE;
	return finish(&r, g);
}

/* rev 0 unless an_event_rev; a later rev starts a day later. */
static const struct mu_record *
an_event_rev(const struct grp *g, const char *d, uint32_t rev)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	r.created_at = NOW - 90 + rev;
	r.d = S(d);
	r.rev = rev;
	r.c.event.title = S("Assembly");
	r.c.event.start = START + 86400 * (int64_t)rev;
	r.c.event.status = MU_EVENT_CONFIRMED;
	return finish(&r, g);
}

static const struct mu_record *
an_event(const struct grp *g, const char *d)
{
	return an_event_rev(g, d, 0);
}

static const struct mu_record *
a_delete_of(const struct grp *g, const uint8_t id[MU_ID_BYTES])
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_DELETE;
	r.created_at = NOW - 50;
	memcpy(r.c.del.id, id, MU_ID_BYTES);
	return finish(&r, g);
}

/* A store with one record of each situation: a cause, an event, an
 * alliance, a cause deleted by address, a cause deleted by id. */
struct sample {
	const struct mu_record *cause, *event, *ally, *del_addr, *del_id, *gone;
};

static struct sample
fill(struct fx *fx)
{
	struct sample s;

	s.cause = a_cause(&fx->g[0], "kept");
	s.event = an_event(&fx->g[0], "assembly");
	s.ally = alliance(&fx->g[0], &fx->g[1], 1, MU_ALLIANCE_PROPOSED);
	s.gone = a_cause(&fx->g[0], "gone");
	s.del_addr = del_addr(&fx->g[0], MU_KIND_CAUSE, "old", NOW - 40);
	s.del_id = a_delete_of(&fx->g[0], s.gone->id);
	assert_int_equal(put1(fx->st, s.cause), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, s.event), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, s.ally), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, s.gone), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, s.del_addr), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, s.del_id), MU_PUT_NEW);
	return s;
}

/* --- raw LMDB damage ---------------------------------------------------- */

static void
raw_put(struct fx *fx, MDB_dbi dbi, const void *key, size_t klen, const void *val,
        size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(fx->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

static void
raw_del(struct fx *fx, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(fx->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

static void
time_key(uint8_t key[MU_STORE__TIME_KEY_BYTES], const struct mu_record *r)
{
	mu_store__time_key(key, r->created_at, r->id);
}

/* The bodies key of the record stored n-th by fill(). */
static const uint8_t *
seq_key(uint8_t key[MU_STORE__SEQ_BYTES], uint64_t n)
{
	mu_store__put_be64(key, n);
	return key;
}

static size_t
addr_key(uint8_t key[MU_STORE__ADDR_KEY_MAX], const struct mu_record *r)
{
	struct mu_addr a;

	mu_rec_addr(r, &a);
	return mu_store__addr_key(key, &a);
}

/* --- tests -------------------------------------------------------------- */

static void
clean_store_has_no_problem(void **state)
{
	struct fx *fx = *state;
	const struct mu_store_opts ro = {0, true};
	struct mu_store_check_stats stats;
	struct problems p;

	stats = check(fx, &p);
	assert_int_equal(stats.records, 0);
	fill(fx);
	assert_int_equal(mu_store_follow(fx->st, fx->g[2].pk, true), 0);
	stats = check(fx, &p);
	assert_int_equal(p.n, 0);
	/* cause, event, alliance and the two deletes; "gone" is gone. */
	assert_int_equal(stats.records, 5);
	/* ids 5, by_time 5, by_group 5, current 3, ev_start 1, tombstones 2,
	 * follows 1. */
	assert_int_equal(stats.entries, 22);
	/* `muster check` opens the store read-only. */
	reopen(fx, &ro);
	stats = check(fx, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.records, 5);
}

/*
 * A batch defers its by_time, by_group and ev_start entries to the commit
 * (storage/store_defer.h). Records it stores and then replaces or deletes
 * must leave none behind, records of an earlier batch it drops must lose
 * theirs, and an aborted batch must leave nothing.
 */
static void
batch_dropping_its_own_records_is_clean(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *v1 = an_event_rev(&fx->g[0], "a", 1);
	const struct mu_record *v2 = an_event_rev(&fx->g[0], "a", 2);
	const struct mu_record *v3 = an_event_rev(&fx->g[0], "a", 3);
	const struct mu_record *v4 = an_event_rev(&fx->g[0], "a", 4);
	const struct mu_record *b = an_event(&fx->g[1], "b");
	const struct mu_record *c = a_cause(&fx->g[2], "c");
	const struct mu_record *one[] = {v1, b, c, v2, a_delete_of(&fx->g[1], b->id)};
	const struct mu_record *two[] = {v3}, *three[] = {v4};
	enum mu_put_result res[5];
	struct mu_store_check_stats stats;
	struct mu_store_batch *batch;
	struct mu_why why = {0};
	struct problems p;

	assert_int_equal(mu_store_put(fx->st, one, 5, res, &why), 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(res[i], MU_PUT_NEW);
	stats = check(fx, &p);
	assert_int_equal(p.n, 0);
	/* v2, c and the delete: ids, by_time, by_group 3 each, current 2,
	 * ev_start 1, tombstones 1. */
	assert_int_equal(stats.records, 3);
	assert_int_equal(stats.entries, 13);

	/* v3 replaces v2, stored by the batch before. */
	assert_int_equal(mu_store_put(fx->st, two, 1, res, &why), 0);
	assert_int_equal(res[0], MU_PUT_NEW);
	stats = check(fx, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.records, 3);

	assert_int_equal(mu_store_batch_begin(fx->st, &batch, &why), 0);
	assert_int_equal(mu_store_batch_put(batch, three, 1, res, &why), 0);
	mu_store_batch_abort(batch);
	stats = check(fx, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.records, 3);
	assert_int_equal(stats.entries, 13);
}

static void
tampered_body_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t raw[MU_RECORD_MAX], seq[MU_STORE__SEQ_BYTES];
	struct problems p;
	size_t i;

	memcpy(raw, s.cause->raw, s.cause->raw_len);
	for (i = 0; i + 4 <= s.cause->raw_len && memcmp(raw + i, "Rent", 4); i++)
		;
	assert_true(i + 4 <= s.cause->raw_len);
	raw[i] = 'T';
	raw_put(fx, fx->st->bodies, seq_key(seq, 1), sizeof(seq), raw,
	        s.cause->raw_len);
	check(fx, &p);
	assert_reported(&p, "bodies", "is invalid");
	/* The cause's id entry now points at no record of that id: one damage,
	 * one line. */
	assert_int_equal(p.n, 1);
}

static void
bodies_and_ids_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t seq[MU_STORE__SEQ_BYTES], bad[3] = {0};
	struct problems p;

	/* The cause a second time, where "gone" was (sequence number 4). */
	raw_put(fx, fx->st->bodies, seq_key(seq, 4), sizeof(seq), s.cause->raw,
	        s.cause->raw_len);
	raw_put(fx, fx->st->bodies, bad, sizeof(bad), "x", 1);
	/* The event's id entry points at the alliance, the alliance's at an
	 * empty number. */
	raw_put(fx, fx->st->ids, s.event->id, MU_ID_BYTES, seq_key(seq, 3),
	        sizeof(seq));
	raw_put(fx, fx->st->ids, s.ally->id, MU_ID_BYTES, seq_key(seq, 9), sizeof(seq));
	raw_put(fx, fx->st->ids, bad, sizeof(bad), seq, sizeof(seq));
	check(fx, &p);
	assert_reported(&p, "ids", "it is stored twice");
	assert_reported(&p, "bodies", "key of 3 bytes");
	assert_reported(&p, "ids", "which holds another record");
	assert_reported(&p, "ids", "which holds no record");
	assert_reported(&p, "ids", "not an id and a sequence number");
}

static void
number_beyond_the_counter_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t seq[MU_STORE__SEQ_BYTES], gkey[MU_STORE__GROUP_KEY_BYTES];
	struct problems p;

	raw_del(fx, fx->st->bodies, seq_key(seq, 1), sizeof(seq));
	raw_put(fx, fx->st->bodies, seq_key(seq, 7), sizeof(seq), s.cause->raw,
	        s.cause->raw_len);
	raw_put(fx, fx->st->ids, s.cause->id, MU_ID_BYTES, seq, sizeof(seq));
	mu_store__group_key(gkey, s.cause->group, s.cause->created_at, s.cause->id);
	raw_put(fx, fx->st->by_group, gkey, sizeof(gkey), seq, sizeof(seq));
	check(fx, &p);
	assert_reported(&p, "bodies", "outside the store's 1 to 6");
	assert_int_equal(p.n, 1);
}

static void
time_index_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__TIME_KEY_BYTES], missing[MU_ID_BYTES];
	uint8_t val[MU_STORE__TIME_VAL_BYTES];
	struct problems p;

	time_key(key, s.cause);
	raw_del(fx, fx->st->by_time, key, sizeof(key));
	randombytes_buf(missing, sizeof(missing));
	mu_store__time_key(key, NOW, missing);
	mu_store__time_val(val, fx->g[0].pk, 1);
	raw_put(fx, fx->st->by_time, key, sizeof(key), val, sizeof(val));
	mu_store__time_key(key, NOW + 7, s.event->id);
	raw_put(fx, fx->st->by_time, key, sizeof(key), val, sizeof(val));
	time_key(key, s.ally);
	mu_store__time_val(val, fx->g[3].pk, 1);
	raw_put(fx, fx->st->by_time, key, sizeof(key), val, sizeof(val));
	/* The event's own entry, with a number its body is not at. */
	time_key(key, s.event);
	mu_store__time_val(val, fx->g[0].pk, 99);
	raw_put(fx, fx->st->by_time, key, sizeof(key), val, sizeof(val));
	/* An entry of the old form (schema 7), the group alone. */
	time_key(key, s.del_addr);
	raw_put(fx, fx->st->by_time, key, sizeof(key), fx->g[0].pk, MU_KEY_BYTES);
	check(fx, &p);
	assert_reported(&p, "by_time", "has no time index entry");
	assert_reported(&p, "by_time", "which is not stored");
	assert_reported(&p, "by_time", "not at its created_at");
	assert_reported(&p, "by_time", "names another group");
	assert_reported(&p, "by_time", "gives sequence number 99");
	assert_reported(&p, "by_time", "a group and a sequence number");
	assert_int_equal(p.n, 6);
}

static void
group_index_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__GROUP_KEY_BYTES], missing[MU_ID_BYTES];
	uint8_t seq[MU_STORE__SEQ_BYTES];
	struct problems p;

	/* The cause has no entry; one names a record not stored; the event
	 * is also listed at a time it does not have, the alliance in a group
	 * it is not of; an entry is no group key at all; and the event's own
	 * entry gives it the alliance's sequence number (3, fill's order). */
	mu_store__group_key(key, s.cause->group, s.cause->created_at, s.cause->id);
	raw_del(fx, fx->st->by_group, key, sizeof(key));
	randombytes_buf(missing, sizeof(missing));
	mu_store__group_key(key, fx->g[0].pk, NOW, missing);
	raw_put(fx, fx->st->by_group, key, sizeof(key), seq_key(seq, 1), sizeof(seq));
	mu_store__group_key(key, s.event->group, NOW + 7, s.event->id);
	raw_put(fx, fx->st->by_group, key, sizeof(key), seq_key(seq, 2), sizeof(seq));
	mu_store__group_key(key, fx->g[3].pk, s.ally->created_at, s.ally->id);
	raw_put(fx, fx->st->by_group, key, sizeof(key), seq_key(seq, 3), sizeof(seq));
	raw_put(fx, fx->st->by_group, key, MU_STORE__TIME_KEY_BYTES, seq, sizeof(seq));
	mu_store__group_key(key, s.event->group, s.event->created_at, s.event->id);
	raw_put(fx, fx->st->by_group, key, sizeof(key), seq_key(seq, 3), sizeof(seq));
	check(fx, &p);
	assert_reported(&p, "by_group", "has no group index entry");
	assert_reported(&p, "by_group", "which is not stored");
	assert_reported(&p, "by_group", "not at its created_at");
	assert_reported(&p, "by_group", "in a group it is not of");
	assert_reported(&p, "by_group", "not a group, a time and an id");
	assert_reported(&p, "by_group", "sequence number 3, but it is stored at 2");
	assert_int_equal(p.n, 6);
}

static void
current_index_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__ADDR_KEY_MAX], missing[MU_ID_BYTES];
	const struct mu_record *other = a_cause(&fx->g[4], "elsewhere");
	struct problems p;
	size_t n;

	n = addr_key(key, s.cause);
	raw_del(fx, fx->st->current, key, n);
	n = addr_key(key, s.ally);
	randombytes_buf(missing, sizeof(missing));
	raw_put(fx, fx->st->current, key, n, missing, sizeof(missing));
	n = addr_key(key, other);
	raw_put(fx, fx->st->current, key, n, s.event->id, MU_ID_BYTES);
	check(fx, &p);
	assert_reported(&p, "current", "has no current version");
	/* The alliance is not current, and its address names nothing. */
	assert_reported(&p, "current", "one of them should be gone");
	assert_reported(&p, "current", "which is not stored");
	assert_reported(&p, "current", "which has another address");
}

static void
calendar_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__TIME_KEY_BYTES];
	struct problems p;

	mu_store__start_key(key, START, s.event->id);
	raw_del(fx, fx->st->ev_start, key, sizeof(key));
	mu_store__start_key(key, START, s.cause->id);
	raw_put(fx, fx->st->ev_start, key, sizeof(key), NULL, 0);
	mu_store__start_key(key, START, s.gone->id);
	raw_put(fx, fx->st->ev_start, key, sizeof(key), NULL, 0);
	check(fx, &p);
	assert_reported(&p, "ev_start", "missing from the calendar index");
	assert_reported(&p, "ev_start", "at a start it does not have");
	assert_reported(&p, "ev_start", "which is not stored");
	assert_int_equal(p.n, 3);
}

static void
tombstone_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__TOMB_KEY_MAX], zero[MU_ID_BYTES] = {0};
	struct mu_addr a;
	struct problems p;
	size_t n;

	/* The by-id delete loses its tombstone entry. */
	n = mu_store__tomb_id_key(key, s.gone->id, fx->g[0].pk);
	raw_del(fx, fx->st->tombstones, key, n);
	/* A tombstone covers the stored cause, naming a delete not stored. */
	n = mu_store__tomb_id_key(key, s.cause->id, fx->g[0].pk);
	raw_put(fx, fx->st->tombstones, key, n, zero, sizeof(zero));
	/* A tombstone by address covers the event, naming the event itself. */
	mu_rec_addr(s.event, &a);
	n = mu_store__tomb_addr_key(key, &a);
	raw_put(fx, fx->st->tombstones, key, n, s.event->id, MU_ID_BYTES);
	/* A tombstone names a delete that deletes something else. */
	n = mu_store__tomb_id_key(key, s.ally->id, fx->g[0].pk);
	raw_put(fx, fx->st->tombstones, key, n, s.del_addr->id, MU_ID_BYTES);
	raw_put(fx, fx->st->tombstones, "z", 1, zero, sizeof(zero));
	check(fx, &p);
	assert_reported(&p, "tombstones", "has no tombstone entry");
	assert_reported(&p, "tombstones", "stored though a delete of its group");
	assert_reported(&p, "tombstones", "which is not stored");
	assert_reported(&p, "tombstones", "was deleted");
	assert_reported(&p, "tombstones", "which is not a delete");
	assert_reported(&p, "tombstones", "deletes something else");
	assert_reported(&p, "tombstones", "not a tombstone");
}

static void
deleted_body_left_behind_is_reported(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__TIME_KEY_BYTES], seq[MU_STORE__SEQ_BYTES];
	uint8_t val[MU_STORE__TIME_VAL_BYTES];
	struct problems p;

	/* As if a crash had kept the body of a record a delete removed. */
	raw_put(fx, fx->st->bodies, seq_key(seq, 4), sizeof(seq), s.gone->raw,
	        s.gone->raw_len);
	raw_put(fx, fx->st->ids, s.gone->id, MU_ID_BYTES, seq, sizeof(seq));
	time_key(key, s.gone);
	mu_store__time_val(val, fx->g[0].pk, 4);
	raw_put(fx, fx->st->by_time, key, sizeof(key), val, sizeof(val));
	check(fx, &p);
	assert_reported(&p, "tombstones", "stored though a delete of its group");
	assert_reported(&p, "current", "has no current version");
}

static void
counter_and_local_damage_is_reported(void **state)
{
	struct fx *fx = *state;
	uint8_t key[3] = {1, 2, 3};
	struct problems p;
	uint64_t last;

	fill(fx);
	assert_int_equal(mu_store_log_last(fx->st, &last), 0);
	assert_int_equal(last, 6);
	raw_put(fx, fx->st->meta, "seq", 3, key, sizeof(key));
	raw_put(fx, fx->st->follows, key, sizeof(key), NULL, 0);
	raw_put(fx, fx->st->peers, "h:1", 3, "\xc1", 1);
	check(fx, &p);
	assert_reported(&p, "meta", "sequence number is damaged");
	assert_reported(&p, "follows", "not a group key");
	assert_reported(&p, "peers", "damaged entry");
	assert_int_equal(p.n, 3);
}

static int
count_key(void *ctx, const uint8_t key[MU_KEY_BYTES])
{
	(void)key;
	(*(int *)ctx)++;
	return 0;
}

/* A follows entry whose key lost a byte: without its check value it
 * would read as a follow of some other group, shown and synced as true. */
static void
altered_follow_is_reported(void **state)
{
	struct fx *fx = *state;
	uint8_t other[MU_KEY_BYTES];
	MDB_val k = {MU_KEY_BYTES, fx->g[2].pk}, v;
	MDB_txn *txn;
	struct problems p;
	int n = 0;

	assert_int_equal(mu_store_follow(fx->st, fx->g[2].pk, true), 0);
	assert_int_equal(mdb_txn_begin(fx->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_get(txn, fx->st->follows, &k, &v), 0);
	assert_int_equal(v.mv_size, MU_STORE__FOLLOW_CHECK_BYTES);
	mdb_txn_abort(txn);
	/* An entry made before the check: still read. */
	memcpy(other, fx->g[1].pk, MU_KEY_BYTES);
	raw_put(fx, fx->st->follows, other, MU_KEY_BYTES, NULL, 0);
	assert_int_equal(mu_store_follows(fx->st, count_key, &n), 0);
	assert_int_equal(n, 2);
	check(fx, &p);
	assert_int_equal(p.n, 0);
	/* The first group's key with one byte changed, under its check. */
	raw_del(fx, fx->st->follows, fx->g[1].pk, MU_KEY_BYTES);
	memcpy(other, fx->g[2].pk, MU_KEY_BYTES);
	other[7] ^= 0x10;
	raw_del(fx, fx->st->follows, fx->g[2].pk, MU_KEY_BYTES);
	{
		uint8_t check_of_old[MU_STORE__FOLLOW_CHECK_BYTES];

		mu_store__follow_check(check_of_old, fx->g[2].pk);
		raw_put(fx, fx->st->follows, other, MU_KEY_BYTES, check_of_old,
		        sizeof(check_of_old));
	}
	n = 0;
	assert_int_equal(mu_store_follows(fx->st, count_key, &n), MU_ECORRUPT);
	check(fx, &p);
	assert_reported(&p, "follows", "not a group key");
	assert_int_equal(p.n, 1);
}

static int
stop_at_first(void *ctx, const char *db, const char *text)
{
	(void)db;
	(void)text;
	(*(int *)ctx)++;
	return 42;
}

static void
callback_can_stop_the_check(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__TIME_KEY_BYTES];
	struct mu_store_check_stats stats;
	int calls = 0;

	time_key(key, s.cause);
	raw_del(fx, fx->st->by_time, key, sizeof(key));
	time_key(key, s.event);
	raw_del(fx, fx->st->by_time, key, sizeof(key));
	assert_int_equal(mu_store_check(fx->st, stop_at_first, &calls, &stats, NULL),
	                 42);
	assert_int_equal(calls, 1);
}

/* --- reading records to send ------------------------------------------- */

struct sent {
	size_t n, damaged;
	uint8_t damaged_id[4][MU_ID_BYTES];
	char why[4][MU_WHY_MAX];
	uint8_t raw[4][1024];
	size_t len[4];
};

static int
keep_sent(void *ctx, const uint8_t *raw, size_t len)
{
	struct sent *s = ctx;

	assert_true(s->n < 4 && len <= sizeof(s->raw[0]));
	memcpy(s->raw[s->n], raw, len);
	s->len[s->n++] = len;
	return 0;
}

static int
keep_damaged(void *ctx, const uint8_t id[MU_ID_BYTES], const char *why)
{
	struct sent *s = ctx;

	assert_true(s->damaged < 4);
	memcpy(s->damaged_id[s->damaged], id, MU_ID_BYTES);
	snprintf(s->why[s->damaged++], MU_WHY_MAX, "%s", why);
	return 0;
}

/*
 * Bytes changed in the store after a record was verified are not passed on
 * to a peer, which would count them against us: a body that no longer
 * hashes to the id the indexes name, and bytes that no longer parse. Each
 * is handed to the damage callback.
 */
static void
altered_records_are_not_read_to_send(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t key[MU_STORE__SEQ_BYTES], bad[1024];
	const struct mu_store_ref refs[] = {
	    {1, s.cause->id}, {2, s.event->id}, {3, s.ally->id}};
	struct sent got = {0};
	size_t done = 0;

	/* fill() stored cause, event, alliance as 1, 2, 3. */
	memcpy(bad, s.cause->raw, s.cause->raw_len);
	bad[s.cause->raw_len - MU_SIG_BYTES - 3] = 0xc1; /* never valid msgpack */
	raw_put(fx, fx->st->bodies, seq_key(key, 1), MU_STORE__SEQ_BYTES, bad,
	        s.cause->raw_len);
	memcpy(bad, s.event->raw, s.event->raw_len);
	/* A byte of the title "Assembly": still a valid body, another id. */
	for (size_t i = 0; i + 8 <= s.event->raw_len; i++)
		if (memcmp(bad + i, "Assembly", 8) == 0) {
			bad[i] = 'a';
			break;
		}
	raw_put(fx, fx->st->bodies, seq_key(key, 2), MU_STORE__SEQ_BYTES, bad,
	        s.event->raw_len);

	assert_int_equal(
	    mu_store_read_raw(fx->st, refs, 3, keep_sent, keep_damaged, &got, &done),
	    0);
	assert_int_equal(done, 3);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.len[0], s.ally->raw_len);
	assert_memory_equal(got.raw[0], s.ally->raw, s.ally->raw_len);
	assert_int_equal(got.damaged, 2);
	assert_memory_equal(got.damaged_id[0], s.cause->id, MU_ID_BYTES);
	assert_memory_equal(got.damaged_id[1], s.event->id, MU_ID_BYTES);
	assert_non_null(strstr(got.why[1], "hash"));
}

/* The records of each group, summed. */
static int
sum_group(void *ctx, const uint8_t group[MU_KEY_BYTES], uint64_t n)
{
	(void)group;
	*(uint64_t *)ctx += n;
	return 0;
}

static int
count_groups(struct fx *fx, uint64_t *n)
{
	struct mu_store_counts c;

	*n = 0;
	return mu_store_counts(fx->st, &c, sum_group, n);
}

/* `muster status` counts each group from by_group's keys and each kind
 * from current's: a damaged key would show as a group of its own or move a
 * record to another kind, so counts that grpcount, or current's entries,
 * do not agree with are refused as damage, not printed. */
static void
group_counts_against_grpcount(void **state)
{
	struct fx *fx = *state;
	struct sample s = fill(fx);
	uint8_t gkey[MU_STORE__GROUP_KEY_BYTES], seq[MU_STORE__SEQ_BYTES], n8[8];
	uint8_t other[MU_KEY_BYTES];
	struct mu_store_counts c;
	uint64_t n;

	assert_int_equal(count_groups(fx, &n), 0);
	assert_int_equal(n, 5);

	/* One key of by_group under a group that holds nothing. */
	mu_store__group_key(gkey, s.cause->group, s.cause->created_at, s.cause->id);
	raw_del(fx, fx->st->by_group, gkey, sizeof(gkey));
	gkey[5] ^= 0x40;
	raw_put(fx, fx->st->by_group, gkey, sizeof(gkey), seq_key(seq, 1), sizeof(seq));
	assert_int_equal(count_groups(fx, &n), MU_ECORRUPT);
	/* The kinds alone are no walk of by_group. */
	assert_int_equal(mu_store_counts(fx->st, &c, NULL, NULL), 0);
	raw_del(fx, fx->st->by_group, gkey, sizeof(gkey));
	gkey[5] ^= 0x40;
	raw_put(fx, fx->st->by_group, gkey, sizeof(gkey), seq_key(seq, 1), sizeof(seq));
	assert_int_equal(count_groups(fx, &n), 0);

	/* A count that is not the group's run of keys. */
	mu_store__put_be64(n8, 7);
	raw_put(fx, fx->st->grpcount, s.cause->group, MU_KEY_BYTES, n8, sizeof(n8));
	assert_int_equal(count_groups(fx, &n), MU_ECORRUPT);
	mu_store__put_be64(n8, 5);
	raw_put(fx, fx->st->grpcount, s.cause->group, MU_KEY_BYTES, n8, sizeof(n8));
	assert_int_equal(count_groups(fx, &n), 0);

	/* A group counted that has no keys. */
	memset(other, 0xee, sizeof(other));
	raw_put(fx, fx->st->grpcount, other, sizeof(other), n8, sizeof(n8));
	assert_int_equal(count_groups(fx, &n), MU_ECORRUPT);
	raw_del(fx, fx->st->grpcount, other, sizeof(other));
	assert_int_equal(count_groups(fx, &n), 0);

	/* A key of current of no kind: a record would drop out of the kinds'
	 * counts, which no longer add up to current's entries. */
	raw_put(fx, fx->st->current, other, sizeof(other), seq, sizeof(seq));
	assert_int_equal(mu_store_counts(fx->st, &c, NULL, NULL), MU_ECORRUPT);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(clean_store_has_no_problem),
	    T_(batch_dropping_its_own_records_is_clean),
	    T_(tampered_body_is_reported),
	    T_(bodies_and_ids_damage_is_reported),
	    T_(number_beyond_the_counter_is_reported),
	    T_(time_index_damage_is_reported),
	    T_(group_index_damage_is_reported),
	    T_(current_index_damage_is_reported),
	    T_(calendar_damage_is_reported),
	    T_(tombstone_damage_is_reported),
	    T_(deleted_body_left_behind_is_reported),
	    T_(counter_and_local_damage_is_reported),
	    T_(altered_follow_is_reported),
	    T_(callback_can_stop_the_check),
	    T_(altered_records_are_not_read_to_send),
	    T_(group_counts_against_grpcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
