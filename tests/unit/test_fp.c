/*
 * The negentropy fingerprint table (storage/store_fp.c) and the
 * reconciliation that reads it (storage/local_fp.c), on a real LMDB store:
 * after puts, replacements and deletes, in order and at random, the table
 * matches a recount (muster check), and a reconciliation over it writes the
 * same bytes as one over the listed items, whatever the domain.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "protocol/negentropy.h"
#include "storage/local.h"
#include "storage/store_check.h"

#include "old_time_index.h"
#include "store_fixture.h"

static const struct mu_record *
cause_at(const struct grp *g, const char *d, uint32_t rev, int64_t at)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_CAUSE;
	r.created_at = at;
	r.d = S(d);
	r.rev = rev;
	r.c.cause.title = S("Rent strike");
	r.c.cause.status = MU_CAUSE_ACTIVE;
	return finish(&r, g);
}

static int
report(void *ctx, const char *db, const char *text)
{
	(void)ctx;
	print_message("%s: %s\n", db, text);
	return 0;
}

/* The table matches a recount of by_time. */
static void
assert_recount(struct mu_store *st)
{
	struct mu_store_check_stats stats;
	struct mu_why why = {0};

	if (mu_store_check(st, report, NULL, &stats, &why) != 0)
		fail_msg("check: %s", why.text);
	assert_int_equal(stats.problems, 0);
}

static struct mu_scope *
scope_of(struct fx *fx, unsigned mask)
{
	struct mu_scope *s = mu_scope_new();

	assert_non_null(s);
	for (int i = 0; i < 8; i++)
		if (mask & (1u << i))
			assert_int_equal(mu_scope_add(s, fx->g[i].pk), 0);
	return s;
}

/* An initiator's first message over the listed items and over the table
 * must be the same bytes, and so must a responder's answer to a message
 * made from other items (their: n_their items); returns the set's size. */
static size_t
assert_same(struct fx *fx, const struct mu_scope *dom, const struct mu_neg_item *their,
            size_t n_their)
{
	struct mu_neg_item *items = NULL;
	struct mu_store_fp_view *view = NULL;
	struct mu_neg_source src;
	struct mu_neg *a, *b, *t;
	struct mu_buf qa = MU_BUF_INIT, qb = MU_BUF_INIT, q = MU_BUF_INIT;
	struct mu_buf ra = MU_BUF_INIT, rb = MU_BUF_INIT;
	struct mu_why why = {0};
	size_t n = 0;

	assert_int_equal(mu_store_neg_items(fx->st, dom, &items, NULL, &n), 0);
	assert_int_equal(mu_neg_new(&a, items, n, MU_NEG_FRAME_MIN), 0);
	assert_int_equal(mu_store_fp_view_new(fx->st, dom, &view), 0);
	assert_int_equal(mu_store_fp_view_begin(view), 0);
	mu_store_fp_view_source(view, &src);
	assert_int_equal(mu_neg_new_source(&b, &src, MU_NEG_FRAME_MIN), 0);
	assert_int_equal(mu_neg_initiate(a, &qa), 0);
	assert_int_equal(mu_neg_initiate(b, &qb), 0);
	assert_int_equal(qa.len, qb.len);
	assert_memory_equal(qa.data, qb.data, qa.len);

	mu_neg_free(a);
	mu_neg_free(b);
	assert_int_equal(mu_neg_new(&a, items, n, MU_NEG_FRAME_MIN), 0);
	assert_int_equal(mu_neg_new_source(&b, &src, MU_NEG_FRAME_MIN), 0);
	mu_neg_set_push(b, false);
	assert_int_equal(mu_neg_new(&t, their, n_their, MU_NEG_FRAME_MIN), 0);
	assert_int_equal(mu_neg_initiate(t, &q), 0);
	/* Each answer, read back by the initiator, and answered again, while
	 * the initiator has something to say. */
	for (int round = 0; round < 8 && q.len > 0; round++) {
		ra.len = rb.len = 0;
		if (mu_neg_reconcile(a, q.data, q.len, &ra, NULL, NULL, NULL, &why) !=
		    0)
			fail_msg("listed: %s", why.text);
		if (mu_neg_reconcile(b, q.data, q.len, &rb, NULL, NULL, NULL, &why) !=
		    0)
			fail_msg("table: %s", why.text);
		assert_int_equal(ra.len, rb.len);
		assert_memory_equal(ra.data, rb.data, ra.len);
		q.len = 0;
		if (mu_neg_reconcile(t, ra.data, ra.len, &q, NULL, NULL, NULL, &why) !=
		    0)
			fail_msg("theirs: %s", why.text);
	}
	mu_neg_free(a);
	mu_neg_free(b);
	mu_neg_free(t);
	mu_store_fp_view_free(view);
	mu_buf_free(&qa);
	mu_buf_free(&qb);
	mu_buf_free(&q);
	mu_buf_free(&ra);
	mu_buf_free(&rb);
	free(items);
	return n;
}

/* Insert, replace, delete: the table follows, in the same transaction. */
static void
test_put_replace_delete(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *all = scope_of(fx, 0xff);
	const struct mu_record *c1, *c2;

	assert_int_equal(assert_same(fx, all, NULL, 0), 0);
	c1 = cause_at(&fx->g[0], "c", 1, NOW - 1000);
	assert_int_equal(put1(fx->st, c1), MU_PUT_NEW);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 1);
	/* A newer revision replaces it: one record, at another time. */
	c2 = cause_at(&fx->g[0], "c", 2, NOW - 10);
	assert_int_equal(put1(fx->st, c2), MU_PUT_NEW);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 1);
	/* Deleted: the delete record stays. */
	assert_int_equal(put1(fx->st, del_id(&fx->g[0], c2->id, NOW - 5)), MU_PUT_NEW);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 1);
	/* An alliance, then a delete of its address: two deletes left. */
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[2], &fx->g[3], 1, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	assert_int_equal(assert_same(fx, all, NULL, 0), 2);
	char hex[2 * MU_KEY_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), fx->g[3].pk, MU_KEY_BYTES);
	assert_int_equal(
	    put1(fx->st, del_addr(&fx->g[2], MU_KIND_ALLIANCE, hex, NOW - 4)),
	    MU_PUT_NEW);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 2);
	mu_scope_free(all);
}

/* Closes the fixture's store and opens it with LMDB alone, to change it
 * behind the store's back: a write transaction. */
static MDB_txn *
raw_open(struct fx *fx, MDB_env **env)
{
	MDB_txn *txn;

	mu_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 24), 0);
	assert_int_equal(mdb_env_open(*env, fx->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	return txn;
}

/* A schema-5 store, which has no negfp, gets it filled at the upgrade. */
static void
test_upgrade(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *all = scope_of(fx, 0xff);
	uint8_t five[4] = {0, 0, 0, 5};
	MDB_val k = {6, "schema"}, v = {4, five};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	for (int i = 0; i < 40; i++) {
		char d[8];

		snprintf(d, sizeof(d), "u%d", i);
		put1(fx->st, cause_at(&fx->g[i % 3], d, 1, NOW - 100000 * i));
	}
	txn = raw_open(fx, &env);
	assert_int_equal(old_time_index(txn), 40);
	assert_int_equal(mdb_dbi_open(txn, "negfp", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	reopen(fx, NULL);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 40);
	mu_scope_free(all);
}

/* Random records over a few groups, some sharing a second, some replaced,
 * some deleted; after each round the table matches a recount, and the
 * reconciliation over it the listed one, for the whole store and for a
 * domain that leaves groups out. */
static void
test_random_ops(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *all = scope_of(fx, 0xff), *part = scope_of(fx, 0x2d);
	struct mu_neg_item their[300];
	size_t n_their = 0;
	uint32_t seed = 19;
	char d[16];

	for (int round = 0; round < 6; round++) {
		const struct mu_record *recs[120];
		enum mu_put_result res[120];
		int gi[120];
		struct mu_why why = {0};
		size_t n = 0;

		for (int i = 0; i < 120; i++) {
			seed = seed * 1103515245u + 12345u;
			int g = (int)(seed >> 8) % 6;
			int64_t at = (seed >> 4) % 3 == 0
			                 ? NOW - 400000 + (int64_t)((seed >> 12) % 4)
			                 : NOW - (int64_t)((seed >> 10) % 5000000);

			snprintf(d, sizeof(d), "c%u", (seed >> 16) % 90);
			gi[n] = g;
			recs[n++] = cause_at(&fx->g[g], d,
			                     (uint32_t)(round * 1000 + i + 1), at);
		}
		if (mu_store_put(fx->st, recs, n, res, &why) != 0)
			fail_msg("put: %s", why.text);
		/* Deletes of some records just stored. */
		for (size_t i = 0; i < n; i += 7)
			if (res[i] == MU_PUT_NEW)
				put1(fx->st,
				     del_id(&fx->g[gi[i]], recs[i]->id, NOW - 1));
		assert_recount(fx->st);
		/* Their set: every other item of ours and some of their own. */
		struct mu_neg_item *items = NULL;
		size_t ni = 0;

		assert_int_equal(mu_store_neg_items(fx->st, all, &items, NULL, &ni), 0);
		n_their = 0;
		for (size_t i = 0; i < ni && n_their < 250; i += 2)
			their[n_their++] = items[i];
		for (int i = 0; i < 20; i++) {
			their[n_their].ts = NOW - 1000 * (uint64_t)i - 3;
			randombytes_buf(their[n_their].id, MU_NEG_ID_BYTES);
			n_their++;
		}
		mu_neg_sort(their, n_their);
		free(items);
		assert_same(fx, all, their, n_their);
		assert_same(fx, part, their, n_their);
	}
	mu_scope_free(all);
	mu_scope_free(part);
}

/* A batch's changes to the table are in its transaction: a reader sees
 * none of them before the commit, and an aborted batch leaves none. */
static void
test_same_transaction(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *all = scope_of(fx, 0xff);
	const struct mu_record *r = cause_at(&fx->g[1], "x", 1, NOW - 77);
	struct mu_store_fp_view *view = NULL;
	struct mu_store_batch *b = NULL;
	struct mu_neg_source src;
	enum mu_put_result res;
	struct mu_why why = {0};
	size_t n = 9;

	assert_int_equal(mu_store_fp_view_new(fx->st, all, &view), 0);
	mu_store_fp_view_source(view, &src);
	assert_int_equal(mu_store_batch_begin(fx->st, &b, &why), 0);
	assert_int_equal(mu_store_batch_put(b, &r, 1, &res, &why), 0);
	assert_int_equal(res, MU_PUT_NEW);
	assert_int_equal(mu_store_fp_view_begin(view), 0);
	assert_int_equal(src.size(src.ctx, &n), 0);
	assert_int_equal(n, 0);
	mu_store_fp_view_end(view);
	mu_store_batch_abort(b);
	assert_recount(fx->st);
	assert_int_equal(assert_same(fx, all, NULL, 0), 0);

	assert_int_equal(mu_store_batch_begin(fx->st, &b, &why), 0);
	assert_int_equal(mu_store_batch_put(b, &r, 1, &res, &why), 0);
	assert_int_equal(mu_store_batch_commit(b, &why), 0);
	assert_int_equal(mu_store_fp_view_begin(view), 0);
	assert_int_equal(src.size(src.ctx, &n), 0);
	assert_int_equal(n, 1);
	mu_store_fp_view_end(view);
	assert_recount(fx->st);
	mu_store_fp_view_free(view);
	mu_scope_free(all);
}

/* More records outside the domain than a view takes off: it says so. */
static void
test_too_many_outside(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *one = scope_of(fx, 0x01);
	struct mu_store_fp_view *view = NULL;
	const struct mu_record *recs[512];
	enum mu_put_result res[512];
	struct mu_why why = {0};
	char d[16];

	for (int round = 0; round * 512 <= MU_STORE_FP_OUTSIDE_MAX; round++) {
		for (int i = 0; i < 512; i++) {
			snprintf(d, sizeof(d), "o%d", round * 512 + i);
			recs[i] = cause_at(&fx->g[1], d, 1, NOW - round * 512 - i);
		}
		if (mu_store_put(fx->st, recs, 512, res, &why) != 0)
			fail_msg("put: %s", why.text);
	}
	assert_int_equal(mu_store_fp_view_new(fx->st, one, &view), 0);
	assert_int_equal(mu_store_fp_view_begin(view), 1);
	mu_store_fp_view_free(view);
	mu_scope_free(one);
}

struct problems {
	int grpcount, other;
};

static int
count_problem(void *ctx, const char *db, const char *text)
{
	struct problems *p = ctx;

	print_message("%s: %s\n", db, text);
	if (strcmp(db, "grpcount") == 0)
		p->grpcount++;
	else
		p->other++;
	return 0;
}

/* The groups' counts follow puts and deletes, and muster check finds a
 * count that is wrong, missing, or for a group with nothing stored. */
static void
test_group_counts_checked(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *c = cause_at(&fx->g[1], "gc", 1, NOW - 50);
	struct mu_store_check_stats stats;
	struct problems p = {0, 0};
	struct mu_why why = {0};
	uint8_t three[8] = {0, 0, 0, 0, 0, 0, 0, 3}, one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;

	put1(fx->st, cause_at(&fx->g[0], "a", 1, NOW - 100));
	put1(fx->st, cause_at(&fx->g[0], "b", 1, NOW - 90));
	put1(fx->st, c);
	/* Deleted: the delete of group 1 stays, its target goes. */
	put1(fx->st, del_id(&fx->g[1], c->id, NOW - 5));
	assert_recount(fx->st);
	txn = raw_open(fx, &env);
	assert_int_equal(mdb_dbi_open(txn, "grpcount", 0, &dbi), 0);
	k = (MDB_val){MU_KEY_BYTES, fx->g[0].pk};
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 8);
	assert_memory_equal(v.mv_data, ((uint8_t[8]){0, 0, 0, 0, 0, 0, 0, 2}), 8);
	k = (MDB_val){MU_KEY_BYTES, fx->g[1].pk};
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_memory_equal(v.mv_data, one, 8);
	/* Damage: a wrong count, a missing one, one for a group with none. */
	k = (MDB_val){MU_KEY_BYTES, fx->g[0].pk};
	v = (MDB_val){8, three};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	k = (MDB_val){MU_KEY_BYTES, fx->g[1].pk};
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	k = (MDB_val){MU_KEY_BYTES, fx->g[2].pk};
	v = (MDB_val){8, one};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	reopen(fx, NULL);
	if (mu_store_check(fx->st, count_problem, &p, &stats, &why) != 0)
		fail_msg("check: %s", why.text);
	assert_int_equal(p.grpcount, 3);
	assert_int_equal(p.other, 0);
}

/* A view read again after the store changed reads the new snapshot, not
 * what its earlier descents kept. */
static void
test_view_again(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *part = scope_of(fx, 0x05);
	struct mu_store_fp_view *view = NULL;
	struct mu_neg_source src;
	char d[16];

	assert_int_equal(mu_store_fp_view_new(fx->st, part, &view), 0);
	mu_store_fp_view_source(view, &src);
	for (int round = 0; round < 4; round++) {
		struct mu_neg_item *items = NULL;
		struct mu_neg *a, *b;
		struct mu_buf qa = MU_BUF_INIT, qb = MU_BUF_INIT;
		size_t n = 0;

		for (int i = 0; i < 300; i++) {
			snprintf(d, sizeof(d), "r%d-%d", round, i);
			put1(fx->st, cause_at(&fx->g[i % 4], d, 1,
			                      NOW - 7 * i - 100000 * round));
		}
		assert_int_equal(mu_store_neg_items(fx->st, part, &items, NULL, &n), 0);
		assert_int_equal(mu_neg_new(&a, items, n, MU_NEG_FRAME_MIN), 0);
		assert_int_equal(mu_store_fp_view_begin(view), 0);
		assert_int_equal(mu_neg_new_source(&b, &src, MU_NEG_FRAME_MIN), 0);
		assert_int_equal(mu_neg_initiate(a, &qa), 0);
		assert_int_equal(mu_neg_initiate(b, &qb), 0);
		assert_int_equal(qa.len, qb.len);
		assert_memory_equal(qa.data, qb.data, qa.len);
		mu_store_fp_view_end(view);
		mu_neg_free(a);
		mu_neg_free(b);
		mu_buf_free(&qa);
		mu_buf_free(&qb);
		free(items);
	}
	mu_store_fp_view_free(view);
	mu_scope_free(part);
}

struct seq_walk {
	struct mu_store_fp_view *view;
	const struct mu_neg_item *items;
	const uint64_t *seqs;
	size_t n, seen;
};

static int
seq_item(void *ctx, const struct mu_neg_item *it, size_t rank)
{
	struct seq_walk *w = ctx;

	assert_true(rank < w->n);
	assert_memory_equal(it->id, w->items[rank].id, MU_NEG_ID_BYTES);
	assert_int_equal(mu_store_fp_view_seq(w->view), w->seqs[rank]);
	w->seen++;
	return 0;
}

/* A walk of the view over part gives each item's sequence number when
 * asked, the one its listing gives. */
static void
assert_view_seqs(struct fx *fx, const struct mu_scope *part)
{
	struct mu_neg_item *items = NULL;
	uint64_t *seqs = NULL;
	struct seq_walk w = {NULL, NULL, NULL, 0, 0};
	struct mu_neg_source src;

	assert_int_equal(mu_store_neg_items(fx->st, part, &items, &seqs, &w.n), 0);
	w.items = items;
	w.seqs = seqs;
	assert_int_equal(mu_store_fp_view_new(fx->st, part, &w.view), 0);
	assert_int_equal(mu_store_fp_view_begin(w.view), 0);
	mu_store_fp_view_source(w.view, &src);
	assert_int_equal(src.each(src.ctx, 0, seq_item, &w), 0);
	assert_int_equal(w.seen, w.n);
	mu_store_fp_view_free(w.view);
	free(items);
	free(seqs);
}

/* For groups in and out of the domain. */
static void
test_view_seq(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *part = scope_of(fx, 0x05);
	char d[16];

	for (int i = 0; i < 200; i++) {
		snprintf(d, sizeof(d), "s%d", i);
		put1(fx->st, cause_at(&fx->g[i % 3], d, 1, NOW - 13 * i));
	}
	assert_view_seqs(fx, part);
	mu_scope_free(part);
}

struct slice_walk {
	const struct mu_neg_item *items;
	size_t n, next, left; /* next: the rank expected; left: in this slice */
};

static int
slice_item(void *ctx, const struct mu_neg_item *it, size_t rank)
{
	struct slice_walk *w = ctx;

	if (w->left == 0)
		return 1;
	assert_int_equal(rank, w->next);
	assert_true(rank < w->n);
	assert_int_equal(it->ts, w->items[rank].ts);
	assert_memory_equal(it->id, w->items[rank].id, MU_NEG_ID_BYTES);
	w->next++;
	w->left--;
	return 0;
}

/* A push walks a range in slices, each from the rank the last one stopped
 * at, which goes on from the cursor the last left: the same items as one
 * listing, also when a seek moved the cursor in between, and through 400
 * records made in one second, a single leaf bucket of the table. */
static void
test_view_slices(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *part = scope_of(fx, 0x05);
	struct mu_neg_item *items = NULL;
	struct mu_store_fp_view *view = NULL;
	struct slice_walk w = {NULL, 0, 0, 0};
	struct mu_neg_source src;
	struct mu_neg_pos pos;
	char d[16];

	for (int i = 0; i < 600; i++) {
		snprintf(d, sizeof(d), "c%d", i);
		put1(fx->st,
		     cause_at(&fx->g[i % 4], d, 1, i < 400 ? NOW : NOW - 97 * i));
	}
	assert_int_equal(mu_store_neg_items(fx->st, part, &items, NULL, &w.n), 0);
	w.items = items;
	assert_int_equal(mu_store_fp_view_new(fx->st, part, &view), 0);
	assert_int_equal(mu_store_fp_view_begin(view), 0);
	mu_store_fp_view_source(view, &src);
	for (unsigned k = 0; w.next < w.n; k++) {
		if (k % 5 == 4) {
			/* Elsewhere, and back to the same rank. */
			assert_int_equal(src.seek_bound(src.ctx, items[k % w.n].ts,
			                                items[k % w.n].id, &pos),
			                 0);
			assert_int_equal(pos.rank, k % w.n);
		}
		w.left = 1 + k % 7;
		assert_int_equal(src.each(src.ctx, w.next, slice_item, &w), 0);
	}
	assert_int_equal(w.next, w.n);
	assert_true(w.n > 250);
	mu_store_fp_view_free(view);
	mu_scope_free(part);
	free(items);
}

/* Sets the schema version of the store behind the fixture (closed). */
static void
set_version(struct fx *fx, uint8_t ver)
{
	uint8_t b[4] = {0, 0, 0, ver};
	MDB_val k = {6, "schema"}, v = {4, b};
	MDB_env *env;
	MDB_txn *txn = raw_open(fx, &env);
	MDB_dbi dbi;

	if (ver <= 7)
		old_time_index(txn);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Each by_time entry holds its record's group and sequence number, the one
 * ids gives; returns how many there are. */
static size_t
assert_time_seqs(struct fx *fx)
{
	MDB_env *env;
	MDB_txn *txn = raw_open(fx, &env);
	MDB_dbi by_time, ids;
	MDB_cursor *cur;
	MDB_val k, v, id, seq;
	size_t n = 0;

	assert_int_equal(mdb_dbi_open(txn, "by_time", 0, &by_time), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_cursor_open(txn, by_time, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		id.mv_size = MU_ID_BYTES;
		id.mv_data = (uint8_t *)k.mv_data + 8;
		assert_int_equal(mdb_get(txn, ids, &id, &seq), 0);
		assert_int_equal(v.mv_size, MU_KEY_BYTES + 8);
		assert_memory_equal((uint8_t *)v.mv_data + MU_KEY_BYTES, seq.mv_data,
		                    8);
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	reopen(fx, NULL);
	return n;
}

/* A schema-7 store, whose by_time entries hold the group alone, gets each
 * record's sequence number after it at the upgrade: enough records that
 * the rewritten leaves split, stored out of time order and some replaced,
 * so that by_time order is not the order of the numbers. A walk of the
 * view gives them, and the check holds them against ids. An entry naming
 * no stored record leaves the store at schema 7, refused. */
static void
test_upgrade_seq(void **state)
{
	struct fx *fx = *state;
	struct mu_scope *part = scope_of(fx, 0x05);
	struct mu_why why = {0};
	uint8_t key[8 + MU_ID_BYTES];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {sizeof(key), key}, v = {MU_KEY_BYTES, fx->g[0].pk};
	char d[16];

	for (int i = 0; i < 600; i++) {
		snprintf(d, sizeof(d), "q%d", i % 500);
		put1(fx->st, cause_at(&fx->g[i % 500 % 3], d, 1 + i / 500,
		                      NOW - 11 * (i % 500) + i / 500));
	}
	set_version(fx, 7);
	reopen(fx, NULL);
	assert_recount(fx->st);
	assert_int_equal(assert_time_seqs(fx), 500);
	assert_view_seqs(fx, part);

	set_version(fx, 7);
	txn = raw_open(fx, &env);
	assert_int_equal(mdb_dbi_open(txn, "by_time", 0, &dbi), 0);
	memset(key, 0x5a, sizeof(key));
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(mu_store_open(&fx->st, fx->dir, NULL, &why), MU_ECORRUPT);
	assert_non_null(strstr(why.text, "damaged time index"));
	txn = raw_open(fx, &env);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	k = (MDB_val){6, "schema"};
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	assert_memory_equal(v.mv_data, "\0\0\0\7", 4);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	mu_scope_free(part);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_replace_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_counts_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_view_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_view_seq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_view_slices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upgrade_seq, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
