/*
 * The node's local state in the store (storage/local.h), on real LMDB files:
 * the log of stored records, the peers table and its encoding, the followed
 * groups, the scope walked over alliance records, the negentropy items, and
 * the upgrades of schema-1 and schema-2 stores, and the invites table (one
 * use taken at a time, expiry, revocation, `muster check` of its entries).
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
#include <msgpack.h>
#include <sodium.h>

#include "storage/local.h"
#include "storage/store_check.h"
#include "storage/store.h"
#include "storage/store_keys.h"

#include "old_time_index.h"
#include "store_fixture.h"

static const struct mu_record *
cause(const struct grp *g, const char *d, uint32_t rev, int64_t created)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_CAUSE;
	r.created_at = created;
	r.d = S(d);
	r.rev = rev;
	r.c.cause.title = S("Rent");
	r.c.cause.status = MU_CAUSE_ACTIVE;
	return finish(&r, g);
}

/* --- the log ------------------------------------------------------------- */

#define SEEN_MAX 64
struct seen {
	size_t n;
	size_t stop_after; /* 0: never */
	uint64_t seqs[SEEN_MAX];
	uint8_t ids[SEEN_MAX][MU_ID_BYTES];
};

static int
collect_log(void *ctx, uint64_t seq, const struct mu_record *rec)
{
	struct seen *s = ctx;

	assert_true(s->n < SEEN_MAX);
	s->seqs[s->n] = seq;
	memcpy(s->ids[s->n], rec->id, MU_ID_BYTES);
	s->n++;
	return s->stop_after != 0 && s->n == s->stop_after ? 9 : 0;
}

static struct seen
log_since(struct mu_store *st, uint64_t seq, size_t max)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_log_since(st, seq, max, collect_log, &s), 0);
	return s;
}

static uint64_t
log_last(struct mu_store *st)
{
	uint64_t seq = 99;

	assert_int_equal(mu_store_log_last(st, &seq), 0);
	return seq;
}

static void
test_log(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *a = cause(&fx->g[0], "rent", 1, NOW - 100);
	const struct mu_record *b1 = cause(&fx->g[1], "park", 1, NOW - 90);
	const struct mu_record *b2 = cause(&fx->g[1], "park", 2, NOW - 80);
	const struct mu_record *b0 = cause(&fx->g[1], "park", 0, NOW - 70);
	const struct mu_record *del = del_addr(&fx->g[0], MU_KIND_CAUSE, "rent", NOW);
	const struct mu_record *batch[2] = {b1, b2};
	enum mu_put_result res[2];
	struct mu_why why = {0};
	struct seen s;

	assert_int_equal(log_last(fx->st), 0);
	s = log_since(fx->st, 0, SIZE_MAX);
	assert_int_equal(s.n, 0);

	assert_int_equal(put1(fx->st, a), MU_PUT_NEW);
	assert_int_equal(log_last(fx->st), 1);
	/* Only records stored as new are logged. */
	assert_int_equal(put1(fx->st, a), MU_PUT_DUPLICATE);
	assert_int_equal(log_last(fx->st), 1);

	/* b1 is logged, then dropped within the same batch by b2. */
	assert_int_equal(mu_store_put(fx->st, batch, 2, res, &why), 0);
	assert_int_equal(res[0], MU_PUT_NEW);
	assert_int_equal(res[1], MU_PUT_NEW);
	assert_int_equal(log_last(fx->st), 3);
	assert_int_equal(put1(fx->st, b0), MU_PUT_SUPERSEDED);
	assert_int_equal(log_last(fx->st), 3);

	s = log_since(fx->st, 0, SIZE_MAX);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 1);
	assert_memory_equal(s.ids[0], a->id, MU_ID_BYTES);
	assert_int_equal(s.seqs[1], 3);
	assert_memory_equal(s.ids[1], b2->id, MU_ID_BYTES);

	/* The delete is logged; the record it deleted is skipped from now on. */
	assert_int_equal(put1(fx->st, del), MU_PUT_NEW);
	assert_int_equal(log_last(fx->st), 4);
	s = log_since(fx->st, 0, SIZE_MAX);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 3);
	assert_int_equal(s.seqs[1], 4);
	assert_memory_equal(s.ids[1], del->id, MU_ID_BYTES);

	/* From a position, and at most max calls (skipped entries are not
	 * calls). */
	s = log_since(fx->st, 3, SIZE_MAX);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.seqs[0], 4);
	s = log_since(fx->st, 0, 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.seqs[0], 3);
	s = log_since(fx->st, 4, SIZE_MAX);
	assert_int_equal(s.n, 0);
	s = log_since(fx->st, UINT64_MAX, SIZE_MAX);
	assert_int_equal(s.n, 0);
	s = log_since(fx->st, 0, 0);
	assert_int_equal(s.n, 0);

	/* A visitor's nonzero return stops the walk and is passed back. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(mu_store_log_since(fx->st, 0, SIZE_MAX, collect_log, &s), 9);
	assert_int_equal(s.n, 1);

	/* The log is in the store: another handle (another process) sees it. */
	reopen(fx, NULL);
	assert_int_equal(log_last(fx->st), 4);
	s = log_since(fx->st, 2, SIZE_MAX);
	assert_int_equal(s.n, 2);
}

/* --- schema upgrade -------------------------------------------------------- */

/*
 * Makes the store at dir look like one that muster wrote with schema ver
 * (1 or 2): records by id in "records" instead of bodies and ids, and no
 * by_group; schema 2 has the log of ids, schema 1 neither the log nor peers
 * nor follows.
 */
static void
downgrade(const char *dir, uint8_t ver)
{
	static const char *const gone[] = {"bodies", "ids", "by_group", "peers",
	                                   "follows"};
	uint8_t v4[4] = {0, 0, 0, ver};
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi ids, bodies, records, log, dbi;
	MDB_val k = {6, "schema"}, v = {4, v4}, id, seq, body;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_dbi_open(txn, "bodies", 0, &bodies), 0);
	assert_int_equal(mdb_dbi_open(txn, "records", MDB_CREATE, &records), 0);
	assert_int_equal(mdb_dbi_open(txn, "log", MDB_CREATE, &log), 0);
	assert_int_equal(mdb_cursor_open(txn, ids, &cur), 0);
	while (mdb_cursor_get(cur, &id, &seq, MDB_NEXT) == 0) {
		assert_int_equal(mdb_get(txn, bodies, &seq, &body), 0);
		assert_int_equal(mdb_put(txn, records, &id, &body, 0), 0);
		assert_int_equal(mdb_put(txn, log, &seq, &id, 0), 0);
	}
	mdb_cursor_close(cur);
	old_time_index(txn);
	if (ver == 1)
		assert_int_equal(mdb_drop(txn, log, 1), 0);
	for (size_t i = 0; i < (ver == 1 ? 5u : 3u); i++) {
		assert_int_equal(mdb_dbi_open(txn, gone[i], 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	k.mv_size = 3;
	k.mv_data = "seq";
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
set_schema(const char *dir, uint8_t ver)
{
	uint8_t b[4] = {0, 0, 0, ver};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, "schema"}, v = {4, b};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	/* Schema 5 added past: a schema-4 store has none; schema 6 negfp. */
	if (ver == 4) {
		assert_int_equal(mdb_dbi_open(txn, "past", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	if (ver <= 5) {
		assert_int_equal(mdb_dbi_open(txn, "negfp", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	/* Schema 7 grpcount. */
	if (ver <= 6) {
		assert_int_equal(mdb_dbi_open(txn, "grpcount", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	/* Schema 8 the sequence numbers in by_time. */
	if (ver <= 7)
		old_time_index(txn);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

struct order {
	size_t n;
	uint8_t ids[SEEN_MAX][MU_ID_BYTES];
};

static int
collect_each(void *ctx, const struct mu_record *rec)
{
	struct order *o = ctx;

	assert_true(o->n < SEEN_MAX);
	memcpy(o->ids[o->n++], rec->id, MU_ID_BYTES);
	return 0;
}

static int
no_problem(void *ctx, const char *db, const char *text)
{
	(void)ctx;
	fail_msg("%s: %s", db, text);
	return 1;
}

/* The negentropy items as the by_time walk (mu_store_each) gives them: the
 * records of the domain's groups in (created_at, id) order. */
struct ref_items {
	const struct mu_scope *dom;
	size_t n;
	struct mu_neg_item v[SEEN_MAX];
};

static int
collect_ref(void *ctx, const struct mu_record *rec)
{
	struct ref_items *r = ctx;

	if (!mu_scope_has(r->dom, rec->group))
		return 0;
	assert_true(r->n < SEEN_MAX);
	r->v[r->n].ts = (uint64_t)rec->created_at;
	memcpy(r->v[r->n].id, rec->id, MU_ID_BYTES);
	r->n++;
	return 0;
}

/* The sequence number the log gives the record with id. */
static uint64_t
seq_of(const struct seen *log, const uint8_t id[MU_ID_BYTES])
{
	for (size_t i = 0; i < log->n; i++)
		if (memcmp(log->ids[i], id, MU_ID_BYTES) == 0)
			return log->seqs[i];
	fail_msg("a record missing from the log");
	return 0;
}

static int
same_id(void *ctx, const uint8_t *raw, size_t len)
{
	struct mu_record rec;

	assert_int_equal(
	    mu_rec_parse(&rec, raw, len, 0, MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, NULL),
	    0);
	assert_memory_equal(rec.id, ctx, MU_ID_BYTES);
	return 0;
}

/* mu_store_neg_items over dom gives the n items of the by_time walk, each
 * with the sequence number the log has for it, where mu_store_read_raw()
 * finds it (and finds it by id from a wrong number too). */
static void
assert_neg_items(struct mu_store *st, const struct mu_scope *dom, size_t n)
{
	struct ref_items ref = {dom, 0, {{0, {0}}}};
	struct seen log = log_since(st, 0, SIZE_MAX);
	struct mu_neg_item *items = NULL;
	uint64_t *seqs = NULL;
	size_t got = 99;

	assert_int_equal(mu_store_each(st, collect_ref, &ref), 0);
	assert_int_equal(ref.n, n);
	assert_int_equal(mu_store_neg_items(st, dom, &items, &seqs, &got), 0);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(items[i].ts, ref.v[i].ts);
		assert_memory_equal(items[i].id, ref.v[i].id, MU_ID_BYTES);
		assert_int_equal(seqs[i], seq_of(&log, items[i].id));
		struct mu_store_ref at[2] = {{seqs[i], items[i].id},
		                             {seqs[i] + 1000, items[i].id}};
		size_t done = 0;

		assert_int_equal(
		    mu_store_read_raw(st, at, 2, same_id, NULL, items[i].id, &done), 0);
		assert_int_equal(done, 2);
	}
	free(seqs);
	free(items);
}

static void
test_schema_upgrade(void **state)
{
	struct fx *fx = *state;
	struct mu_store_opts ro = {.read_only = true};
	struct mu_scope *all = mu_scope_new();
	struct mu_store *st = NULL;
	struct mu_why why = {0};
	struct mu_store_check_stats stats;
	struct order each = {0};
	size_t changed = 0;
	struct seen s;

	assert_non_null(all);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(mu_scope_add(all, fx->g[i].pk), 0);
	/* Stored out of time order, so that log order and by_time differ:
	 * the upgrade numbers the records in by_time order. */
	put1(fx->st, cause(&fx->g[0], "c", 1, NOW - 10));
	put1(fx->st, cause(&fx->g[1], "a", 1, NOW - 300));
	put1(fx->st, cause(&fx->g[2], "b", 1, NOW - 200));
	put1(fx->st, alliance(&fx->g[0], &fx->g[1], 1, MU_ALLIANCE_PROPOSED));
	mu_store_close(fx->st);
	fx->st = NULL;
	downgrade(fx->dir, 2);

	/* A reader gets the store upgraded by a writer first, and opens it. */
	assert_int_equal(mu_store_open(&st, fx->dir, &ro, &why), 0);
	assert_int_equal(log_last(st), 4);
	assert_neg_items(st, all, 4);
	mu_store_close(st);
	/* A schema-1 store, upgraded by a writer this time. */
	downgrade(fx->dir, 1);
	reopen(fx, NULL);
	assert_int_equal(mu_store_each(fx->st, collect_each, &each), 0);
	assert_int_equal(each.n, 4);
	assert_int_equal(log_last(fx->st), 4);
	s = log_since(fx->st, 0, SIZE_MAX);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.seqs[i], i + 1);
		assert_memory_equal(s.ids[i], each.ids[i], MU_ID_BYTES);
	}
	assert_int_equal(mu_store_check(fx->st, no_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.records, 4);
	assert_neg_items(fx->st, all, 4);
	/* The new tables work, and new records go on from the filled log. */
	assert_int_equal(mu_store_follow(fx->st, fx->g[3].pk, true), 0);
	put1(fx->st, cause(&fx->g[3], "d", 1, NOW - 1000));
	assert_int_equal(log_last(fx->st), 5);

	/* Upgraded: a reader opens it as it is. */
	reopen(fx, &ro);
	assert_int_equal(log_last(fx->st), 5);

	/* Schema 2 lacks by_group only: the upgrade fills it from by_time and
	 * keeps the log and the follows. A reader gets it done first. */
	mu_store_close(fx->st);
	fx->st = NULL;
	downgrade(fx->dir, 2);
	reopen(fx, &ro);
	assert_int_equal(log_last(fx->st), 5);
	assert_neg_items(fx->st, all, 5);
	downgrade(fx->dir, 2);
	reopen(fx, NULL);
	assert_neg_items(fx->st, all, 5);
	assert_int_equal(mu_store_follow(fx->st, fx->g[3].pk, false), 0);
	put1(fx->st, cause(&fx->g[3], "e", 1, NOW - 1));
	assert_neg_items(fx->st, all, 6);

	/* A newer schema is refused. */
	mu_store_close(fx->st);
	fx->st = NULL;
	set_schema(fx->dir, 9);
	assert_int_equal(mu_store_open(&st, fx->dir, NULL, &why), MU_EVERSION);
	assert_non_null(strstr(why.text, "schema version 9"));
	/* Schema 4 lacks past and negfp: a reader gets them added first, negfp
	 * filled from by_time, as the check's recount finds. */
	set_schema(fx->dir, 4);
	reopen(fx, &ro);
	assert_int_equal(log_last(fx->st), 6);
	assert_int_equal(mu_store_check(fx->st, no_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.problems, 0);
	/* Schema 6 lacks grpcount: a writer fills it from by_time, with the
	 * held groups the scope's note reads from it. */
	mu_store_close(fx->st);
	fx->st = NULL;
	set_schema(fx->dir, 6);
	reopen(fx, NULL);
	assert_int_equal(mu_store_check(fx->st, no_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.problems, 0);
	assert_int_equal(mu_store_note_scope(fx->st, fx->g[0].pk, all, NOW, &changed),
	                 0);
	assert_int_equal(changed, 0);
	mu_scope_clear(all);
	assert_int_equal(mu_scope_add(all, fx->g[0].pk), 0);
	assert_int_equal(mu_store_note_scope(fx->st, fx->g[0].pk, all, NOW, &changed),
	                 0);
	assert_int_equal(changed, 3); /* the groups of g[1], g[2], g[3] */
	set_schema(fx->dir, 4);
	mu_scope_free(all);
}

/* --- peers --------------------------------------------------------------- */

struct peers {
	size_t n;
	struct mu_peer p[8];
};

static int
collect_peer(void *ctx, const struct mu_peer *p)
{
	struct peers *ps = ctx;

	assert_true(ps->n < 8);
	ps->p[ps->n++] = *p;
	return 0;
}

static struct peers
peers(struct mu_store *st)
{
	struct peers ps;

	memset(&ps, 0, sizeof(ps));
	assert_int_equal(mu_store_peers(st, collect_peer, &ps), 0);
	return ps;
}

static void
add_ok(struct mu_store *st, const char *addr, const uint8_t *key,
       enum mu_peer_source src, int64_t now)
{
	struct mu_why why = {0};

	if (mu_store_peer_add(st, addr, key, src, now, &why) != 0)
		fail_msg("peer add %s: %s", addr, why.text);
	assert_string_equal(why.text, "");
}

static bool
has_bytes(const uint8_t *p, size_t n, const char *want, size_t wn)
{
	for (size_t i = 0; i + wn <= n; i++)
		if (memcmp(p + i, want, wn) == 0)
			return true;
	return false;
}

/* Reads the raw value of a peer and checks it is a canonical map with
 * exactly the keys named, in that order. */
static void
assert_raw_keys(const char *dir, const char *addr, const char *const *keys, size_t n)
{
	msgpack_unpacked u;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(addr), (void *)addr}, v;
	size_t off = 0;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "peers", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, v.mv_data, v.mv_size, &off),
	                 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, v.mv_size);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
	assert_int_equal(u.data.via.map.size, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_object key = u.data.via.map.ptr[i].key;

		assert_int_equal(key.type, MSGPACK_OBJECT_STR);
		assert_int_equal(key.via.str.size, strlen(keys[i]));
		assert_memory_equal(key.via.str.ptr, keys[i], key.via.str.size);
	}
	/* The smallest forms: 7412 sent is a uint16 (cd 1c f4). */
	assert_true(has_bytes(v.mv_data, v.mv_size, "\xcd\x1c\xf4", 3));
	msgpack_unpacked_destroy(&u);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static void
test_peers(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {
	    "",       "host",   ":80",   "host:0",    "host:65536",    "host:",
	    "a b:80", "::1:80", "[::1]", "host:80/x", "http://host:80"};
	static const char *const all_keys[] = {"added_at",  "key",    "last_seen",
	                                       "last_sync", "reason", "received",
	                                       "sent",      "source", "state"};
	const uint8_t *k1 = fx->g[1].pk, *k2 = fx->g[2].pk;
	struct mu_why why = {0};
	char longer[400];
	struct peers ps;
	struct mu_peer up;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    mu_store_peer_add(fx->st, bad[i], NULL, MU_PEER_MANUAL, NOW, &why),
		    MU_EINVAL);
		assert_true(strlen(why.text) > 0);
		assert_int_equal(mu_peer_addr_check(bad[i], &why), MU_EINVAL);
	}
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer + 300, ":80", 4);
	assert_int_equal(mu_peer_addr_check(longer, &why), MU_EINVAL);
	assert_non_null(strstr(why.text, "longer than 261"));
	assert_int_equal(mu_peer_addr_check("[::1]:7412", &why), 0);
	assert_string_equal(why.text, "");
	assert_int_equal(peers(fx->st).n, 0);

	add_ok(fx->st, "node.example.org:7412", NULL, MU_PEER_MANUAL, NOW);
	add_ok(fx->st, "[::1]:7000", k1, MU_PEER_LEARNT, NOW + 1);
	ps = peers(fx->st);
	assert_int_equal(ps.n, 2);
	/* Address order: '[' sorts before 'n'. */
	assert_string_equal(ps.p[0].addr, "[::1]:7000");
	assert_true(ps.p[0].has_key);
	assert_memory_equal(ps.p[0].key, k1, MU_KEY_BYTES);
	assert_int_equal(ps.p[0].source, MU_PEER_LEARNT);
	assert_int_equal(ps.p[0].added_at, NOW + 1);
	assert_string_equal(ps.p[1].addr, "node.example.org:7412");
	assert_false(ps.p[1].has_key);
	assert_int_equal(ps.p[1].source, MU_PEER_MANUAL);
	assert_int_equal(ps.p[1].added_at, NOW);
	assert_int_equal(ps.p[1].last_seen, 0);
	assert_int_equal(ps.p[1].last_sync, 0);
	assert_int_equal(ps.p[1].sent, 0);
	assert_int_equal(ps.p[1].received, 0);
	assert_string_equal(ps.p[1].state, "");

	/* Adding again updates the key; the first time added stays. A NULL
	 * key keeps the one stored. */
	add_ok(fx->st, "node.example.org:7412", k2, MU_PEER_MANUAL, NOW + 50);
	add_ok(fx->st, "node.example.org:7412", NULL, MU_PEER_MANUAL, NOW + 60);
	ps = peers(fx->st);
	assert_true(ps.p[1].has_key);
	assert_memory_equal(ps.p[1].key, k2, MU_KEY_BYTES);
	assert_int_equal(ps.p[1].added_at, NOW);
	/* What an ally announces never overrides what the user set. */
	add_ok(fx->st, "node.example.org:7412", k1, MU_PEER_LEARNT, NOW + 70);
	ps = peers(fx->st);
	assert_memory_equal(ps.p[1].key, k2, MU_KEY_BYTES);
	assert_int_equal(ps.p[1].source, MU_PEER_MANUAL);
	/* ... but the user takes over a learnt peer. */
	add_ok(fx->st, "[::1]:7000", NULL, MU_PEER_MANUAL, NOW + 80);
	ps = peers(fx->st);
	assert_int_equal(ps.p[0].source, MU_PEER_MANUAL);
	assert_memory_equal(ps.p[0].key, k1, MU_KEY_BYTES);

	/* The daemon's statistics; the key and source are not its to change. */
	memset(&up, 0, sizeof(up));
	strcpy(up.addr, "node.example.org:7412");
	up.last_seen = NOW + 100;
	up.last_sync = NOW + 101;
	up.sent = 7412;
	up.received = 5000000000ULL;
	strcpy(up.state, "backoff");
	strcpy(up.reason, "proved another group than the key given");
	up.source = MU_PEER_LEARNT;
	assert_int_equal(mu_store_peer_update(fx->st, &up), 0);
	reopen(fx, NULL);
	ps = peers(fx->st);
	assert_int_equal(ps.n, 2);
	assert_int_equal(ps.p[1].last_seen, NOW + 100);
	assert_int_equal(ps.p[1].last_sync, NOW + 101);
	assert_int_equal(ps.p[1].sent, 7412);
	assert_int_equal(ps.p[1].received, 5000000000ULL);
	assert_string_equal(ps.p[1].state, "backoff");
	assert_string_equal(ps.p[1].reason, "proved another group than the key given");
	assert_int_equal(ps.p[1].source, MU_PEER_MANUAL);
	assert_true(ps.p[1].has_key);
	assert_int_equal(ps.p[1].added_at, NOW);
	mu_store_close(fx->st);
	fx->st = NULL;
	assert_raw_keys(fx->dir, "node.example.org:7412", all_keys, 9);
	reopen(fx, NULL);

	/* Removing, and updating a removed peer. */
	assert_int_equal(mu_store_peer_remove(fx->st, "node.example.org:7412"), 0);
	assert_int_equal(mu_store_peer_remove(fx->st, "node.example.org:7412"),
	                 MU_ENOTFOUND);
	assert_int_equal(mu_store_peer_update(fx->st, &up), MU_ENOTFOUND);
	assert_int_equal(mu_store_peer_remove(fx->st, ""), MU_ENOTFOUND);
	assert_int_equal(mu_store_peer_remove(fx->st, longer), MU_ENOTFOUND);
	ps = peers(fx->st);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.p[0].addr, "[::1]:7000");
}

/* --- follows --------------------------------------------------------------- */

struct keys {
	size_t n;
	uint8_t k[8][MU_KEY_BYTES];
};

static int
collect_key(void *ctx, const uint8_t key[MU_KEY_BYTES])
{
	struct keys *ks = ctx;

	assert_true(ks->n < 8);
	memcpy(ks->k[ks->n++], key, MU_KEY_BYTES);
	return 0;
}

static void
test_follows(void **state)
{
	struct fx *fx = *state;
	const uint8_t *lo, *hi;
	struct keys ks = {0};

	lo = memcmp(fx->g[1].pk, fx->g[2].pk, MU_KEY_BYTES) < 0 ? fx->g[1].pk
	                                                        : fx->g[2].pk;
	hi = lo == fx->g[1].pk ? fx->g[2].pk : fx->g[1].pk;
	assert_int_equal(mu_store_follows(fx->st, collect_key, &ks), 0);
	assert_int_equal(ks.n, 0);
	assert_int_equal(mu_store_follow(fx->st, hi, true), 0);
	assert_int_equal(mu_store_follow(fx->st, lo, true), 0);
	assert_int_equal(mu_store_follow(fx->st, lo, true), 0);
	assert_int_equal(mu_store_follows(fx->st, collect_key, &ks), 0);
	assert_int_equal(ks.n, 2);
	assert_memory_equal(ks.k[0], lo, MU_KEY_BYTES);
	assert_memory_equal(ks.k[1], hi, MU_KEY_BYTES);

	assert_int_equal(mu_store_follow(fx->st, lo, false), 0);
	assert_int_equal(mu_store_follow(fx->st, lo, false), MU_ENOTFOUND);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mu_store_follows(fx->st, collect_key, &ks), 0);
	assert_int_equal(ks.n, 1);
	assert_memory_equal(ks.k[0], hi, MU_KEY_BYTES);
}

/* --- settings ------------------------------------------------------------ */

/* The node's zone: absent until set, replaced by a second set, kept across a
 * reopen and readable read-only, and checked on the way in and out. */
static void
test_zone(void **state)
{
	struct fx *fx = *state;
	const struct mu_store_opts ro = {.read_only = true};
	char zone[MU_STORE_ZONE_SIZE], longest[MU_STORE_ZONE_SIZE + 1];
	struct mu_store_check_stats stats;
	struct mu_why why = {0};

	strcpy(zone, "x");
	assert_int_equal(mu_store_zone_get(fx->st, zone), MU_ENOTFOUND);
	assert_string_equal(zone, "");
	assert_int_equal(mu_store_zone_set(fx->st, "Europe/Berlin"), 0);
	assert_int_equal(mu_store_zone_set(fx->st, "America/New_York"), 0);
	assert_int_equal(mu_store_zone_get(fx->st, zone), 0);
	assert_string_equal(zone, "America/New_York");

	assert_int_equal(mu_store_zone_set(fx->st, ""), MU_EINVAL);
	memset(longest, 'a', MU_STORE_ZONE_SIZE);
	longest[MU_STORE_ZONE_SIZE] = '\0';
	assert_int_equal(mu_store_zone_set(fx->st, longest), MU_EINVAL);
	longest[MU_STORE_ZONE_SIZE - 1] = '\0';
	assert_int_equal(mu_store_zone_set(fx->st, longest), 0);
	assert_int_equal(mu_store_zone_get(fx->st, zone), 0);
	assert_string_equal(zone, longest);
	assert_int_equal(mu_store_zone_set(fx->st, "Asia/Tokyo"), 0);

	/* A setting is no record: `muster check` finds nothing wrong. */
	assert_int_equal(mu_store_check(fx->st, no_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.records, 0);
	reopen(fx, &ro);
	assert_int_equal(mu_store_zone_get(fx->st, zone), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	assert_int_equal(mu_store_zone_set(fx->st, "UTC"), MU_EINVAL);
}

/* --- scope --------------------------------------------------------------- */

/* Fails unless the scope is exactly the groups of fx->g named by idx. */
static void
assert_scope(struct fx *fx, int hops, const int *idx, size_t n)
{
	struct mu_scope *s = mu_scope_new();

	assert_non_null(s);
	memset(s->keys, 0xee, sizeof(s->keys[0])); /* stale content is replaced */
	s->n = 1;
	assert_int_equal(mu_store_scope(fx->st, fx->g[0].pk, hops, s), 0);
	if (s->n != n)
		fail_msg("hops %d: scope has %zu groups, expected %zu", hops, s->n, n);
	for (size_t i = 0; i < n; i++)
		if (!mu_scope_has(s, fx->g[idx[i]].pk))
			fail_msg("hops %d: group %d is not in the scope", hops, idx[i]);
	for (size_t i = 1; i < s->n; i++)
		assert_true(memcmp(s->keys[i - 1], s->keys[i], MU_KEY_BYTES) < 0);
	mu_scope_free(s);
}

#define SCOPE(fx, hops, ...)                                                           \
	assert_scope((fx), (hops), (const int[]){__VA_ARGS__},                         \
	             sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static void
mutual(struct fx *fx, int a, int b)
{
	put1(fx->st, alliance(&fx->g[a], &fx->g[b], 1, MU_ALLIANCE_PROPOSED));
	put1(fx->st, alliance(&fx->g[b], &fx->g[a], 1, MU_ALLIANCE_PROPOSED));
}

static void
test_scope(void **state)
{
	struct fx *fx = *state;
	/* Groups: 0 us (A), then B C D in a chain; 4 E, 5 F, 6 X. */
	enum { A, B, C, D, E, F, X };

	SCOPE(fx, 0, A);
	SCOPE(fx, 2, A);
	mutual(fx, A, B);
	mutual(fx, B, C);
	mutual(fx, C, D);
	SCOPE(fx, 0, A);
	SCOPE(fx, 1, A, B);
	SCOPE(fx, 2, A, B, C);
	SCOPE(fx, 3, A, B, C, D);
	SCOPE(fx, 9, A, B, C, D);
	SCOPE(fx, -1, A);

	/* One-sided proposals to us or by us make no ally. */
	put1(fx->st, alliance(&fx->g[A], &fx->g[E], 1, MU_ALLIANCE_PROPOSED));
	put1(fx->st, alliance(&fx->g[X], &fx->g[A], 1, MU_ALLIANCE_PROPOSED));
	SCOPE(fx, 3, A, B, C, D);
	/* Beyond step 1, a group's proposals are followed as they stand. */
	put1(fx->st, alliance(&fx->g[B], &fx->g[F], 1, MU_ALLIANCE_PROPOSED));
	SCOPE(fx, 1, A, B);
	SCOPE(fx, 2, A, B, C, F);

	/* Followed groups are in at every hop count, but not walked from. */
	assert_int_equal(mu_store_follow(fx->st, fx->g[X].pk, true), 0);
	SCOPE(fx, 0, A, X);
	SCOPE(fx, 1, A, B, X);
	/* A followed ally is still walked from. */
	assert_int_equal(mu_store_follow(fx->st, fx->g[B].pk, true), 0);
	SCOPE(fx, 2, A, B, C, F, X);
	assert_int_equal(mu_store_follow(fx->st, fx->g[B].pk, false), 0);
	assert_int_equal(mu_store_follow(fx->st, fx->g[X].pk, false), 0);

	/* C ends its alliance with D: the chain stops at C, although D's
	 * record still proposes. */
	put1(fx->st, alliance(&fx->g[C], &fx->g[D], 2, MU_ALLIANCE_ENDED));
	SCOPE(fx, 3, A, B, C, F);
	/* B's proposal to us ended: B is no ally, and nothing beyond it. */
	put1(fx->st, alliance(&fx->g[B], &fx->g[A], 2, MU_ALLIANCE_ENDED));
	SCOPE(fx, 3, A);
	/* Proposed again: back. */
	put1(fx->st, alliance(&fx->g[B], &fx->g[A], 3, MU_ALLIANCE_PROPOSED));
	SCOPE(fx, 3, A, B, C, F);
	/* Our own ended record ends it too. */
	put1(fx->st, alliance(&fx->g[A], &fx->g[B], 2, MU_ALLIANCE_ENDED));
	SCOPE(fx, 3, A);
}

static bool
pending_is(void *ctx, const uint8_t group[MU_KEY_BYTES])
{
	return memcmp(ctx, group, MU_KEY_BYTES) == 0;
}

/* The records of a group outside the scope that still concern a group
 * (PROTOCOL.md 10.3): alliances naming it, their deletes, their authors'
 * profiles. */
static void
test_scope_exception(void **state)
{
	struct fx *fx = *state;
	enum { A, B, C };
	char hex[2 * MU_KEY_BYTES + 1];
	const struct mu_record *to_a, *to_c, *del, *prof_b, *prof_c;

	to_a = alliance(&fx->g[B], &fx->g[A], 1, MU_ALLIANCE_PROPOSED);
	to_c = alliance(&fx->g[B], &fx->g[C], 1, MU_ALLIANCE_PROPOSED);
	sodium_bin2hex(hex, sizeof(hex), fx->g[A].pk, MU_KEY_BYTES);
	del = del_addr(&fx->g[B], MU_KIND_ALLIANCE, hex, NOW - 100);
	prof_b = profile(&fx->g[B], "B");
	prof_c = profile(&fx->g[C], "C");

	assert_int_equal(
	    mu_store_scope_exception(fx->st, to_a, fx->g[A].pk, NULL, NULL), 1);
	assert_int_equal(
	    mu_store_scope_exception(fx->st, to_c, fx->g[A].pk, NULL, NULL), 0);
	assert_int_equal(mu_store_scope_exception(fx->st, del, fx->g[A].pk, NULL, NULL),
	                 1);
	assert_int_equal(mu_store_scope_exception(fx->st, del, fx->g[C].pk, NULL, NULL),
	                 0);
	/* A profile: only once its group's proposal is stored, or on its way. */
	assert_int_equal(
	    mu_store_scope_exception(fx->st, prof_b, fx->g[A].pk, NULL, NULL), 0);
	assert_int_equal(mu_store_scope_exception(fx->st, prof_b, fx->g[A].pk,
	                                          pending_is, fx->g[B].pk),
	                 1);
	put1(fx->st, to_a);
	assert_int_equal(
	    mu_store_scope_exception(fx->st, prof_b, fx->g[A].pk, NULL, NULL), 1);
	assert_int_equal(
	    mu_store_scope_exception(fx->st, prof_c, fx->g[A].pk, NULL, NULL), 0);
	/* Other kinds never. */
	assert_int_equal(mu_store_scope_exception(fx->st,
	                                          cause(&fx->g[B], "c1", 1, NOW - 50),
	                                          fx->g[A].pk, NULL, NULL),
	                 0);
}

/* More groups than a scope holds: it stops at MU_SCOPE_MAX, us included. */
static void
test_scope_cap(void **state)
{
	struct fx *fx = *state;
	enum { N = MU_SCOPE_MAX + 40, BATCH = 64 };
	const struct mu_record *batch[BATCH];
	enum mu_put_result res[BATCH];
	struct mu_why why = {0};
	struct mu_scope *s = mu_scope_new();
	uint8_t with[MU_KEY_BYTES];
	size_t i, n = 0;

	assert_non_null(s);
	mutual(fx, 0, 1);
	for (i = 0; i < N; i++) {
		randombytes_buf(with, sizeof(with));
		batch[n++] = alliance_to(&fx->g[1], with, 1, MU_ALLIANCE_PROPOSED);
		if (n == BATCH || i == N - 1) {
			if (mu_store_put(fx->st, batch, n, res, &why) != 0)
				fail_msg("put: %s", why.text);
			n = 0;
		}
	}
	assert_int_equal(mu_store_scope(fx->st, fx->g[0].pk, 1, s), 0);
	assert_int_equal(s->n, 2);
	assert_int_equal(mu_store_scope(fx->st, fx->g[0].pk, 2, s), 0);
	assert_int_equal(s->n, MU_SCOPE_MAX);
	assert_true(mu_scope_has(s, fx->g[0].pk));
	assert_true(mu_scope_has(s, fx->g[1].pk));
	mu_scope_free(s);
}

/* --- negentropy items ------------------------------------------------------ */

static void
test_neg_items(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[9];
	struct mu_neg_item want[9], *items = NULL;
	struct mu_scope *dom = mu_scope_new();
	size_t n = 99, nw = 0;

	assert_non_null(dom);
	/* Times out of order, some equal, over three groups. */
	r[0] = cause(&fx->g[0], "a", 1, NOW - 10);
	r[1] = cause(&fx->g[1], "b", 1, NOW - 500);
	r[2] = cause(&fx->g[2], "c", 1, NOW - 20);
	r[3] = cause(&fx->g[0], "d", 1, NOW - 500);
	r[4] = cause(&fx->g[2], "e", 1, NOW - 500);
	r[5] = cause(&fx->g[0], "f", 1, 1000);
	r[6] = cause(&fx->g[2], "g", 1, NOW - 20);
	r[7] = cause(&fx->g[1], "h", 1, 5);
	r[8] = del_addr(&fx->g[0], MU_KIND_CAUSE, "gone", NOW - 1);
	for (size_t i = 0; i < 9; i++) {
		put1(fx->st, r[i]);
		if (memcmp(r[i]->group, fx->g[1].pk, MU_KEY_BYTES) == 0)
			continue;
		want[nw].ts = (uint64_t)r[i]->created_at;
		memcpy(want[nw].id, r[i]->id, MU_ID_BYTES);
		nw++;
	}
	mu_neg_sort(want, nw);

	/* An empty domain has no items. */
	assert_int_equal(mu_store_neg_items(fx->st, dom, &items, NULL, &n), 0);
	assert_null(items);
	assert_int_equal(n, 0);

	assert_int_equal(mu_scope_add(dom, fx->g[0].pk), 0);
	assert_int_equal(mu_scope_add(dom, fx->g[2].pk), 0);
	assert_int_equal(mu_scope_add(dom, fx->g[5].pk), 0);
	assert_int_equal(mu_store_neg_items(fx->st, dom, &items, NULL, &n), 0);
	assert_int_equal(n, nw);
	assert_int_equal(nw, 7);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(items[i].ts, want[i].ts);
		assert_memory_equal(items[i].id, want[i].id, MU_ID_BYTES);
	}
	free(items);
	assert_neg_items(fx->st, dom, 7);

	/* A replaced and a deleted record leave their groups' items: the new
	 * version and the delete take their places. */
	put1(fx->st, cause(&fx->g[0], "a", 2, NOW - 600));
	put1(fx->st, del_addr(&fx->g[2], MU_KIND_CAUSE, "c", NOW - 20));
	assert_neg_items(fx->st, dom, 7);

	/* Many groups interleaved in time, equal times across groups, and the
	 * first and last group keys of the domain. */
	for (size_t i = 0; i < 40; i++) {
		char d[8];

		snprintf(d, sizeof(d), "m%zu", i);
		put1(fx->st, cause(&fx->g[i % 8], d, 1, NOW - 1000 + (int64_t)(i % 7)));
	}
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(mu_scope_add(dom, fx->g[i].pk), 0);
	assert_neg_items(fx->st, dom, 9 + 40);
	mu_scope_clear(dom);
	assert_int_equal(mu_scope_add(dom, fx->g[7].pk), 0);
	assert_neg_items(fx->st, dom, 5);
	mu_scope_free(dom);
}

/* --- groups outside the scope, pruning, blocks --------------------------- */

static void
assert_clean(struct fx *fx)
{
	struct mu_store_check_stats stats;
	struct mu_why why = {0};

	assert_int_equal(mu_store_check(fx->st, no_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.problems, 0);
}

static uint64_t
records(struct fx *fx)
{
	uint64_t n = 0;

	assert_int_equal(mu_store_count(fx->st, &n), 0);
	return n;
}

static void
test_outside_prune_block(void **state)
{
	struct fx *fx = *state;
	enum { A, B, C };
	struct mu_scope *s = mu_scope_new();
	struct mu_outside o;
	uint64_t dropped;
	size_t changed;
	int64_t since = 0;

	assert_non_null(s);
	mutual(fx, A, C);
	put1(fx->st, profile(&fx->g[B], "Harbour"));
	put1(fx->st, cause(&fx->g[B], "c1", 1, NOW - 100));
	put1(fx->st, cause(&fx->g[B], "c2", 1, NOW - 99));
	put1(fx->st, del_addr(&fx->g[B], MU_KIND_CAUSE, "c2", NOW - 98));
	put1(fx->st,
	     del_id(&fx->g[B], cause(&fx->g[B], "c3", 1, NOW - 97)->id, NOW - 96));
	/* An exception to the scope: B's proposal to us, and so its profile. */
	put1(fx->st, alliance(&fx->g[B], &fx->g[A], 1, MU_ALLIANCE_PROPOSED));
	put1(fx->st, cause(&fx->g[C], "c", 1, NOW - 90));
	assert_int_equal(records(fx), 8);

	assert_int_equal(mu_store_scope(fx->st, fx->g[A].pk, 2, s), 0);
	assert_false(mu_scope_has(s, fx->g[B].pk));
	assert_int_equal(mu_store_note_scope(fx->st, fx->g[A].pk, s, 1000, &changed),
	                 0);
	assert_int_equal(changed, 1);
	assert_int_equal(mu_store_note_scope(fx->st, fx->g[A].pk, s, 2000, &changed),
	                 0);
	assert_int_equal(changed, 0);
	assert_int_equal(mu_store_outside(fx->st, &o), 0);
	assert_int_equal(o.n, 1);
	assert_true(mu_outside_has(&o, fx->g[B].pk, &since));
	assert_int_equal(since, 1000);
	assert_false(mu_outside_has(&o, fx->g[C].pk, NULL));
	mu_outside_free(&o);

	/* Not yet due; then due: all but the exceptions go, deletes and
	 * their tombstone entries included. */
	assert_int_equal(
	    mu_store_prune_outside(fx->st, fx->g[A].pk, 1099, 100, &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(
	    mu_store_prune_outside(fx->st, fx->g[A].pk, 1100, 100, &dropped), 0);
	assert_int_equal(dropped, 3);
	assert_int_equal(records(fx), 5);
	assert_clean(fx);

	/* Followed: back in the scope, out of the table. */
	assert_int_equal(mu_store_follow(fx->st, fx->g[B].pk, true), 0);
	assert_int_equal(mu_store_scope(fx->st, fx->g[A].pk, 2, s), 0);
	assert_true(mu_scope_has(s, fx->g[B].pk));
	assert_int_equal(mu_store_note_scope(fx->st, fx->g[A].pk, s, 3000, &changed),
	                 0);
	assert_int_equal(changed, 1);
	assert_int_equal(mu_store_outside(fx->st, &o), 0);
	assert_int_equal(o.n, 0);
	mu_outside_free(&o);

	/* Blocked: everything of B goes, exceptions too, and B leaves the
	 * scope although followed; unblocked, it comes back. */
	assert_int_equal(mu_store_block(fx->st, fx->g[B].pk, true, 4000, &dropped), 0);
	assert_int_equal(dropped, 2);
	assert_int_equal(records(fx), 3);
	assert_clean(fx);
	assert_int_equal(mu_store_blocked(fx->st, s), 0);
	assert_int_equal(s->n, 1);
	assert_true(mu_scope_has(s, fx->g[B].pk));
	SCOPE(fx, 2, A, C);
	assert_int_equal(mu_store_block(fx->st, fx->g[B].pk, false, 0, NULL), 0);
	assert_int_equal(mu_store_block(fx->st, fx->g[B].pk, false, 0, NULL),
	                 MU_ENOTFOUND);
	SCOPE(fx, 2, A, B, C);
	mu_scope_free(s);
}

/* --- invites ---------------------------------------------------------- */

static struct mu_invite_row
row_of(uint8_t fill, uint32_t uses, int64_t expires)
{
	struct mu_invite_row r;

	memset(&r, 0, sizeof(r));
	memset(r.pub, fill, sizeof(r.pub));
	r.created_at = NOW;
	r.expires = expires;
	r.uses = r.left = uses;
	snprintf(r.terms, sizeof(r.terms), "Mutual aid");
	return r;
}

static enum mu_invite_verdict
redeem(struct fx *fx, uint8_t fill, int64_t now, uint8_t joiner,
       struct mu_invite_row *out)
{
	uint8_t pub[MU_KEY_BYTES], j[MU_KEY_BYTES];
	enum mu_invite_verdict v;
	struct mu_why why = {0};

	memset(pub, fill, sizeof(pub));
	memset(j, joiner, sizeof(j));
	assert_int_equal(
	    mu_store_invite_redeem(fx->st, pub, now, j, "Beta", &v, out, &why), 0);
	return v;
}

static void
redeem_takes_one_use_at_a_time(void **state)
{
	struct fx *fx = *state;
	struct mu_invite_row r = row_of(1, 2, NOW + 60), got;
	struct mu_why why = {0};

	assert_int_equal(mu_store_invite_add(fx->st, &r, &why), 0);
	assert_int_equal(mu_store_invite_add(fx->st, &r, &why), MU_EEXIST);
	assert_int_equal(redeem(fx, 1, NOW, 7, &got), MU_INVITE_OK);
	assert_int_equal(got.left, 1);
	assert_true(got.has_joiner);
	assert_int_equal(got.joiner[0], 7);
	assert_string_equal(got.name, "Beta");
	assert_string_equal(got.terms, "Mutual aid");
	assert_int_equal(redeem(fx, 1, NOW, 8, &got), MU_INVITE_OK);
	assert_int_equal(got.left, 0);
	assert_int_equal(redeem(fx, 1, NOW, 9, &got), MU_INVITE_USED);
	assert_int_equal(got.joiner[0], 8); /* a refusal changes nothing */
	assert_int_equal(redeem(fx, 2, NOW, 9, &got), MU_INVITE_UNKNOWN);
}

static void
expired_and_revoked_are_refused(void **state)
{
	struct fx *fx = *state;
	struct mu_invite_row a = row_of(3, 1, NOW + 60), b = row_of(4, 1, NOW + 60),
	                     got;
	struct mu_why why = {0};

	assert_int_equal(mu_store_invite_add(fx->st, &a, &why), 0);
	assert_int_equal(mu_store_invite_add(fx->st, &b, &why), 0);
	assert_int_equal(redeem(fx, 3, NOW + 60, 7, &got), MU_INVITE_EXPIRED);
	assert_int_equal(got.left, 1);
	/* 04040404...: too short, unknown, then found by its start. */
	assert_int_equal(mu_store_invite_revoke(fx->st, "0404", NULL, &why), MU_EINVAL);
	assert_int_equal(mu_store_invite_revoke(fx->st, "05050505", NULL, &why),
	                 MU_ENOTFOUND);
	assert_int_equal(mu_store_invite_revoke(fx->st, "04040404", &got, &why), 0);
	assert_true(got.revoked);
	assert_int_equal(redeem(fx, 4, NOW, 7, &got), MU_INVITE_REVOKED);
	assert_string_equal(mu_invite_verdict_name(MU_INVITE_REVOKED), "revoked");
}

static int
invite_count(void *ctx, const struct mu_invite_row *r)
{
	(void)r;
	++*(int *)ctx;
	return 0;
}

/* Counts the problems `muster check` reports in one table. */
struct table_problems {
	const char *db;
	int n;
};

static int
table_note(void *ctx, const char *db, const char *text)
{
	struct table_problems *t = ctx;

	(void)text;
	if (strcmp(db, t->db) == 0)
		t->n++;
	return 0;
}

static void
check_reads_the_invites(void **state)
{
	struct fx *fx = *state;
	struct mu_invite_row r = row_of(5, 1, NOW + 60);
	struct mu_store_check_stats stats;
	struct mu_why why = {0};
	MDB_val k = {MU_KEY_BYTES, NULL}, v = {3, "bad"};
	uint8_t key[MU_KEY_BYTES];
	MDB_txn *txn;
	struct table_problems problems = {"invites", 0};
	int n = 0;

	assert_int_equal(mu_store_invite_add(fx->st, &r, &why), 0);
	assert_int_equal(mu_store_invites(fx->st, invite_count, &n), 0);
	assert_int_equal(n, 1);
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(mu_store_check(fx->st, table_note, &problems, &stats, &why),
	                 0);
	assert_int_equal(stats.problems, 0);
	memset(key, 6, sizeof(key));
	k.mv_data = key;
	assert_int_equal(mdb_txn_begin(fx->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, fx->st->invites, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(mu_store_check(fx->st, table_note, &problems, &stats, &why),
	                 0);
	assert_int_equal(problems.n, 1);
	assert_int_equal(mu_store_invites(fx->st, invite_count, &n), MU_ECORRUPT);
}

/* --- what peers' hellos said -------------------------------------------- */

/* An entry keeps its flags, digests and scope; a write without a scope
 * keeps the stored one of the same digest; past MU_HELLO_PEERS_MAX keys
 * the one written longest ago goes; removing a peer forgets its key. */
static void
test_hellos(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *sc = mu_scope_new(), *got = mu_scope_new();
	struct mu_hello_peer hp = {0}, r;
	uint8_t key[MU_KEY_BYTES], first[MU_KEY_BYTES];
	struct mu_why why;
	unsigned i;

	assert_non_null(sc);
	assert_non_null(got);
	memset(key, 7, sizeof(key));
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, got), MU_ENOTFOUND);
	assert_false(r.digests);
	assert_int_equal(mu_scope_add(sc, fx->g[1].pk), 0);
	assert_int_equal(mu_scope_add(sc, fx->g[2].pk), 0);
	hp.digests = hp.has_scope = true;
	memset(hp.digest, 0xd1, 32);
	assert_int_equal(mu_store_hello_put(fx->st, key, &hp, sc, NOW), 0);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, got), 0);
	assert_true(r.digests && r.has_scope && !r.has_sent);
	assert_memory_equal(r.digest, hp.digest, 32);
	assert_true(mu_scope_equal(got, sc));

	/* What we sent, with the scope kept. */
	hp.has_sent = true;
	memset(hp.sent, 0x5e, 32);
	assert_int_equal(mu_store_hello_put(fx->st, key, &hp, NULL, NOW + 1), 0);
	mu_scope_clear(got);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, got), 0);
	assert_true(r.has_sent && r.has_scope);
	assert_memory_equal(r.sent, hp.sent, 32);
	assert_true(mu_scope_equal(got, sc));
	/* Not kept under another digest. */
	memset(hp.digest, 0xd2, 32);
	assert_int_equal(mu_store_hello_put(fx->st, key, &hp, NULL, NOW + 2), 0);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, got), 0);
	assert_false(r.has_scope);
	assert_int_equal(got->n, 0);

	/* The bound: the oldest (key, written at NOW + 2) goes. */
	memcpy(first, key, sizeof(key));
	for (i = 1; i < MU_HELLO_PEERS_MAX; i++) {
		key[0] = (uint8_t)(i >> 8);
		key[1] = (uint8_t)i;
		key[2] = 0xaa;
		assert_int_equal(mu_store_hello_put(fx->st, key, &hp, sc, NOW + 10 + i),
		                 0);
	}
	assert_int_equal(mu_store_hello_get(fx->st, first, &r, NULL), 0);
	key[2] = 0xbb;
	assert_int_equal(mu_store_hello_put(fx->st, key, &hp, sc, NOW + 9999), 0);
	assert_int_equal(mu_store_hello_get(fx->st, first, &r, NULL), MU_ENOTFOUND);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, NULL), 0);

	/* A peer added with that key, removed: its entry goes with it. */
	assert_int_equal(
	    mu_store_peer_add(fx->st, "192.0.2.1:7420", key, MU_PEER_MANUAL, NOW, &why),
	    0);
	assert_int_equal(mu_store_peer_remove(fx->st, "192.0.2.1:7420"), 0);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, NULL), MU_ENOTFOUND);
	mu_scope_free(sc);
	mu_scope_free(got);
}

/* `muster check` reads the hellos: a well-formed entry passes, an entry
 * of another length is one problem, reported under hellos. */
static void
check_reads_the_hellos(void **state)
{
	struct fx *fx = *state;
	struct mu_hello_peer hp = {0}, r;
	struct mu_store_check_stats stats;
	struct mu_why why = {0};
	uint8_t key[MU_KEY_BYTES], bad[40] = {0};
	MDB_val k = {MU_KEY_BYTES, key}, v = {sizeof(bad), bad};
	MDB_txn *txn;
	struct table_problems problems = {"hellos", 0};

	memset(key, 9, sizeof(key));
	hp.digests = true;
	assert_int_equal(mu_store_hello_put(fx->st, key, &hp, NULL, NOW), 0);
	assert_int_equal(mu_store_check(fx->st, table_note, &problems, &stats, &why),
	                 0);
	assert_int_equal(stats.problems, 0);
	assert_int_equal(problems.n, 0);
	key[0] = 1;
	assert_int_equal(mdb_txn_begin(fx->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, fx->st->hellos, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mu_store_check(fx->st, table_note, &problems, &stats, &why),
	                 0);
	assert_int_equal(stats.problems, 1);
	assert_int_equal(problems.n, 1);
	assert_int_equal(mu_store_hello_get(fx->st, key, &r, NULL), MU_ECORRUPT);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(test_log),
	    T_(test_schema_upgrade),
	    T_(test_peers),
	    T_(test_follows),
	    T_(test_hellos),
	    T_(test_scope),
	    T_(test_scope_cap),
	    T_(test_neg_items),
	    T_(test_scope_exception),
	    T_(test_zone),
	    T_(test_outside_prune_block),
	    T_(redeem_takes_one_use_at_a_time),
	    T_(expired_and_revoked_are_refused),
	    T_(check_reads_the_invites),
	    T_(check_reads_the_hellos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
