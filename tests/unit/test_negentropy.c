/*
 * Negentropy v1 between two of our own instances: the ids each side learns
 * must be exactly the set differences, whatever the sizes and frame limits;
 * malformed messages are refused without reading past their end.
 * (Interoperability with another implementation is tested end to end.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/negentropy.h"

struct idset {
	uint8_t (*ids)[32];
	size_t n, cap;
};

static int
collect(void *ctx, const uint8_t id[32])
{
	struct idset *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ids = realloc(s->ids, s->cap * 32);
		assert_non_null(s->ids);
	}
	memcpy(s->ids[s->n++], id, 32);
	return 0;
}

struct diff {
	struct idset have, need;
};

static int
on_have(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	return collect(&((struct diff *)ctx)->have, id);
}

static int
on_need(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	return collect(&((struct diff *)ctx)->need, id);
}

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Item i of the universe: clustered timestamps, so bounds need id prefixes. */
static void
make_item(struct mu_neg_item *it, uint32_t i)
{
	it->ts = 1700000000u + i / 3;
	crypto_generichash(it->id, 32, (const uint8_t *)&i, sizeof(i), NULL, 0);
}

/* Push mode with ranges (mu_neg_set_push_range): the items of every range
 * reported, with the ids given to have, are exactly what the initiator
 * lacks, each once; an initiator that holds nothing gets one range, the
 * whole set, and no id. */
struct ranged {
	const struct mu_neg_item *items;
	size_t n, nranges;
	struct diff *d;
	bool mine;   /* the initiator's ranges: its haves, not its needs */
	size_t nids; /* ids given to have one by one (mine) */
};

static int
item_less(const struct mu_neg_item *it, const struct mu_neg_item *bound)
{
	if (bound->ts == UINT64_MAX || it->ts != bound->ts)
		return bound->ts == UINT64_MAX || it->ts < bound->ts;
	return memcmp(it->id, bound->id, 32) < 0;
}

static int
on_range(void *ctx, const struct mu_neg_item *from, const struct mu_neg_item *to)
{
	struct ranged *g = ctx;

	g->nranges++;
	for (size_t i = 0; i < g->n; i++)
		if (!item_less(&g->items[i], from) && item_less(&g->items[i], to))
			collect(g->mine ? &g->d->have : &g->d->need, g->items[i].id);
	return 0;
}

static int
on_range_have(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	return collect(&((struct ranged *)ctx)->d->need, id);
}

static int
on_ranged_have(void *ctx, const uint8_t id[32], size_t index)
{
	((struct ranged *)ctx)->nids++;
	return on_have(((struct ranged *)ctx)->d, id, index);
}

static int
on_ranged_need(void *ctx, const uint8_t id[32], size_t index)
{
	return on_need(((struct ranged *)ctx)->d, id, index);
}

/* Runs a reconciliation; returns the number of round trips. In push mode
 * the ids the responder pushes count as the initiator's needs: each must be
 * reported once, by one side or the other; with g, the responder gives
 * ranges (mu_neg_set_push_range) and g collects their items; with gi, the
 * initiator gives its own (gi->mine) and gi counts what it reports. */
static int
reconcile_full(const struct mu_neg_item *a, size_t na, const struct mu_neg_item *b,
               size_t nb, size_t limit, struct diff *d, bool push, struct ranged *g,
               struct ranged *gi)
{
	struct mu_neg *ini, *res;
	struct mu_buf q = MU_BUF_INIT, r = MU_BUF_INIT;
	struct mu_why why;
	int trips = 0;

	assert_int_equal(mu_neg_new(&ini, a, na, limit), 0);
	assert_int_equal(mu_neg_new(&res, b, nb, limit), 0);
	mu_neg_set_push(res, push);
	if (g != NULL)
		mu_neg_set_push_range(res, on_range);
	if (gi != NULL)
		mu_neg_set_push_range(ini, on_range);
	assert_int_equal(mu_neg_initiate(ini, &q), 0);
	while (q.len > 0) {
		if (limit)
			assert_true(q.len <= limit);
		r.len = 0;
		assert_int_equal(mu_neg_reconcile(res, q.data, q.len, &r,
		                                  g      ? on_range_have
		                                  : push ? on_need
		                                         : NULL,
		                                  NULL, g ? (void *)g : (void *)d,
		                                  &why),
		                 0);
		if (limit)
			assert_true(r.len <= limit);
		trips++;
		assert_true(trips < 5000); /* it always terminates */
		q.len = 0;
		assert_int_equal(mu_neg_reconcile(ini, r.data, r.len, &q,
		                                  gi ? on_ranged_have : on_have,
		                                  gi ? on_ranged_need : on_need,
		                                  gi ? (void *)gi : (void *)d, &why),
		                 0);
	}
	mu_buf_free(&q);
	mu_buf_free(&r);
	mu_neg_free(ini);
	mu_neg_free(res);
	return trips;
}

static int
reconcile_mode(const struct mu_neg_item *a, size_t na, const struct mu_neg_item *b,
               size_t nb, size_t limit, struct diff *d, bool push)
{
	return reconcile_full(a, na, b, nb, limit, d, push, NULL, NULL);
}

static int
reconcile(const struct mu_neg_item *a, size_t na, const struct mu_neg_item *b,
          size_t nb, size_t limit, struct diff *d)
{
	return reconcile_mode(a, na, b, nb, limit, d, false);
}

/* a holds items [0, na) minus every k-th; b holds [0, nb) minus every m-th. */
static void
check_sets_mode(size_t universe, size_t ka, size_t kb, size_t limit, bool push)
{
	struct mu_neg_item *a = calloc(universe, sizeof(*a));
	struct mu_neg_item *b = calloc(universe, sizeof(*b));
	struct idset want_have = {0}, want_need = {0};
	struct diff d = {{0}, {0}};
	size_t na = 0, nb = 0;

	for (uint32_t i = 0; i < universe; i++) {
		bool in_a = ka == 0 || i % ka != 1, in_b = kb == 0 || i % kb != 2;
		struct mu_neg_item it;

		make_item(&it, i);
		if (in_a)
			a[na++] = it;
		if (in_b)
			b[nb++] = it;
		if (in_a && !in_b)
			collect(&want_have, it.id);
		if (in_b && !in_a)
			collect(&want_need, it.id);
	}
	mu_neg_sort(a, na);
	mu_neg_sort(b, nb);
	reconcile_mode(a, na, b, nb, limit, &d, push);

	assert_int_equal(d.have.n, want_have.n);
	assert_int_equal(d.need.n, want_need.n);
	if (d.have.n) {
		qsort(d.have.ids, d.have.n, 32, cmp32);
		qsort(want_have.ids, want_have.n, 32, cmp32);
		assert_memory_equal(d.have.ids, want_have.ids, d.have.n * 32);
	}
	if (d.need.n) {
		qsort(d.need.ids, d.need.n, 32, cmp32);
		qsort(want_need.ids, want_need.n, 32, cmp32);
		assert_memory_equal(d.need.ids, want_need.ids, d.need.n * 32);
	}
	free(d.have.ids);
	free(d.need.ids);
	free(want_have.ids);
	free(want_need.ids);
	free(a);
	free(b);
}

static void
check_sets(size_t universe, size_t ka, size_t kb, size_t limit)
{
	check_sets_mode(universe, ka, kb, limit, false);
}

static void
test_differences(void **state)
{
	(void)state;
	check_sets(0, 0, 0, 0);
	check_sets(1, 0, 0, 0);
	check_sets(5, 2, 0, 0);
	check_sets(100, 0, 7, 0);
	check_sets(1000, 10, 13, 0);
	check_sets(20000, 97, 0, 0);
	check_sets(20000, 5, 3, 0);
}

static void
test_frame_limit(void **state)
{
	(void)state;
	check_sets(20000, 4, 3, MU_NEG_FRAME_MIN);
	check_sets(50000, 0, 2, 60000);
}

static void
test_equal_sets_one_round_trip(void **state)
{
	struct mu_neg_item *a = calloc(100000, sizeof(*a));
	struct diff d = {{0}, {0}};

	(void)state;
	for (uint32_t i = 0; i < 100000; i++)
		make_item(&a[i], i);
	mu_neg_sort(a, 100000);
	assert_int_equal(reconcile(a, 100000, a, 100000, 60000, &d), 1);
	assert_int_equal(d.have.n + d.need.n, 0);
	free(a);
}

/* Push mode finds the same differences, each once; an initiator that holds
 * nothing learns everything in one round trip without a single id listed. */
static void
test_push_mode(void **state)
{
	struct mu_neg_item *a = calloc(100000, sizeof(*a));
	struct diff d = {{0}, {0}};

	(void)state;
	check_sets_mode(0, 0, 0, 0, true);
	check_sets_mode(5, 2, 0, 0, true);
	check_sets_mode(1000, 10, 13, 0, true);
	check_sets_mode(20000, 5, 3, 0, true);
	check_sets_mode(20000, 4, 3, MU_NEG_FRAME_MIN, true);
	check_sets_mode(50000, 0, 2, 60000, true);
	for (uint32_t i = 0; i < 100000; i++)
		make_item(&a[i], i);
	mu_neg_sort(a, 100000);
	assert_int_equal(reconcile_mode(NULL, 0, a, 100000, 60000, &d, true), 1);
	assert_int_equal(d.have.n, 0);
	assert_int_equal(d.need.n, 100000);
	free(d.need.ids);
	free(a);
}

/* Plain v1 (the responder lists its ids), the initiator giving the ranges
 * of its own that the answers leave unmatched to push_range; returns the
 * number of those ranges, *nids the ids given to have one by one. */
static size_t
reconcile_ini_ranged(const struct mu_neg_item *a, size_t na,
                     const struct mu_neg_item *b, size_t nb, size_t limit,
                     struct diff *d, size_t *nids)
{
	struct ranged g = {a, na, 0, d, true, 0};

	reconcile_full(a, na, b, nb, limit, d, false, NULL, &g);
	*nids = g.nids;
	return g.nranges;
}

/* A part of the 20,000 items of all, into part (*npart of them): whole
 * stretches of the set and a few scattered items elsewhere; the ids of the
 * others into rest, sorted (*nrest). */
static void
take_part(const struct mu_neg_item *all, struct mu_neg_item *part, size_t *npart,
          uint8_t (*rest)[32], size_t *nrest)
{
	*npart = *nrest = 0;
	for (size_t i = 0; i < 20000; i++) {
		if ((i / 2000) % 2 == 0 || i % 97 == 0)
			part[(*npart)++] = all[i];
		else
			memcpy(rest[(*nrest)++], all[i].id, 32);
	}
	qsort(rest, *nrest, 32, cmp32);
}

/* The ids of s, sorted, are exactly the n of want. */
static void
check_ids(struct idset *s, uint8_t (*want)[32], size_t n)
{
	assert_int_equal(s->n, n);
	qsort(s->ids, s->n, 32, cmp32);
	assert_memory_equal(s->ids, want, n * 32);
}

/* An initiator that holds what the responder lacks (a node with a full
 * store dialing an empty one): the ranges it is given and the ids given to
 * have are together exactly its items the responder lacks, each once; with
 * the responder empty, ranges that cover the whole set, and no id. */
static void
test_initiator_push_range(void **state)
{
	struct mu_neg_item *a = calloc(20000, sizeof(*a)),
	                   *b = calloc(20000, sizeof(*b));
	uint8_t(*exp)[32] = calloc(20000, 32);
	struct diff d = {{0}, {0}};
	size_t nb, nexp, nids;

	(void)state;
	for (uint32_t i = 0; i < 20000; i++)
		make_item(&a[i], i);
	mu_neg_sort(a, 20000);
	assert_true(reconcile_ini_ranged(a, 20000, NULL, 0, 60000, &d, &nids) > 0);
	assert_int_equal(nids, 0);
	assert_int_equal(d.have.n, 20000);
	assert_int_equal(d.need.n, 0);
	free(d.have.ids);
	d.have = (struct idset){0};
	/* The responder holds a part, and one the initiator lacks. */
	take_part(a, b, &nb, exp, &nexp);
	make_item(&b[nb++], 20000);
	mu_neg_sort(b, nb);
	assert_true(reconcile_ini_ranged(a, 20000, b, nb, 60000, &d, &nids) > 0);
	assert_int_equal(d.need.n, 1);
	check_ids(&d.have, exp, nexp);
	free(d.have.ids);
	free(d.need.ids);
	free(exp);
	free(a);
	free(b);
}

/* reconcile_full() in push mode with ranges: the number of ranges given. */
static size_t
reconcile_ranged(const struct mu_neg_item *a, size_t na, const struct mu_neg_item *b,
                 size_t nb, struct diff *d)
{
	struct ranged g = {b, nb, 0, d, false, 0};

	reconcile_full(a, na, b, nb, 60000, d, true, &g, NULL);
	return g.nranges;
}

static void
test_push_range(void **state)
{
	struct mu_neg_item *b = calloc(20000, sizeof(*b)),
	                   *a = calloc(20000, sizeof(*a));
	struct diff d = {{0}, {0}};
	size_t na = 0, nexp = 0;
	uint8_t(*exp)[32] = calloc(20000, 32);

	(void)state;
	for (uint32_t i = 0; i < 20000; i++)
		make_item(&b[i], i);
	mu_neg_sort(b, 20000);
	assert_int_equal(reconcile_ranged(NULL, 0, b, 20000, &d), 1);
	assert_int_equal(d.need.n, 20000);
	assert_int_equal(d.have.n, 0);
	free(d.need.ids);
	d.need = (struct idset){0};
	/* The initiator holds a part. */
	take_part(b, a, &na, exp, &nexp);
	assert_true(reconcile_ranged(a, na, b, 20000, &d) > 0);
	assert_int_equal(d.have.n, 0);
	check_ids(&d.need, exp, nexp);
	free(d.need.ids);
	free(exp);
	free(a);
	free(b);
}

/* A source over an array that may grow between two messages, as the
 * store does while the records the responder pushes are stored; visits
 * counts the items its walks gave. */
struct growing {
	const struct mu_neg_item *items;
	size_t n, visits;
};

static int
g_size(void *ctx, size_t *n)
{
	*n = ((struct growing *)ctx)->n;
	return 0;
}

static int
g_seek_bound(void *ctx, uint64_t ts, const uint8_t id[32], struct mu_neg_pos *pos)
{
	struct growing *g = ctx;
	struct mu_neg_item b = {ts, {0}};
	size_t r = 0;

	memcpy(b.id, id, 32);
	while (r < g->n && item_less(&g->items[r], &b))
		r++;
	memset(pos, 0, sizeof(*pos));
	pos->rank = r;
	return 0;
}

static int
g_seek_rank(void *ctx, size_t rank, struct mu_neg_pos *pos, struct mu_neg_item *at,
            struct mu_neg_item *before)
{
	struct growing *g = ctx;

	memset(pos, 0, sizeof(*pos));
	pos->rank = rank;
	if (at != NULL && rank < g->n)
		*at = g->items[rank];
	if (before != NULL && rank > 0 && rank <= g->n)
		*before = g->items[rank - 1];
	return 0;
}

static int
g_range_sum(void *ctx, const struct mu_neg_pos *lo, const struct mu_neg_pos *hi,
            uint64_t sum[4])
{
	struct growing *g = ctx;

	memset(sum, 0, 4 * sizeof(*sum));
	for (size_t i = lo->rank; i < hi->rank; i++)
		mu_neg_sum_id(sum, g->items[i].id);
	return 0;
}

static int
g_each(void *ctx, size_t rank, mu_neg_item_fn fn, void *arg)
{
	struct growing *g = ctx;
	int rc = 0;

	for (size_t i = rank; rc == 0 && i < g->n; i++) {
		g->visits++;
		rc = fn(arg, &g->items[i], i);
	}
	return rc < 0 ? rc : 0;
}

/*
 * An initiator that holds few items (the first message lists them) gets the
 * answer after the responder pushed it everything, which its set then holds
 * (a catch-up): the answer is compared with the items it listed, not walked
 * over the grown set, and it has nothing to report but its own.
 */
static void
check_grown(const struct mu_neg_item *b, size_t nb, const struct mu_neg_item *own,
            size_t nown)
{
	struct growing g = {own, nown, 0};
	struct mu_neg_source src = {&g,          g_size,      g_seek_bound,
	                            g_seek_rank, g_range_sum, g_each};
	struct mu_neg_item *all = calloc(nb + nown, sizeof(*all));
	struct diff d = {{0}, {0}}, pushed = {{0}, {0}};
	struct ranged r = {b, nb, 0, &pushed, false, 0};
	struct mu_buf q = MU_BUF_INIT, a = MU_BUF_INIT;
	struct mu_neg *ini, *res;
	struct mu_why why;
	size_t n = 0;

	assert_int_equal(mu_neg_new_source(&ini, &src, 60000), 0);
	assert_int_equal(mu_neg_new(&res, b, nb, 60000), 0);
	mu_neg_set_push(res, true);
	mu_neg_set_push_range(res, on_range);
	assert_int_equal(mu_neg_initiate(ini, &q), 0);
	assert_int_equal(
	    mu_neg_reconcile(res, q.data, q.len, &a, on_range_have, NULL, &r, &why), 0);
	/* The pushed records are stored before the answer is read. */
	memcpy(all, b, nb * sizeof(*all));
	n = nb;
	for (size_t i = 0; i < nown; i++) {
		size_t j = 0;

		while (j < nb && memcmp(b[j].id, own[i].id, 32) != 0)
			j++;
		if (j == nb)
			all[n++] = own[i];
	}
	mu_neg_sort(all, n);
	g.items = all;
	g.n = n;
	g.visits = 0;
	q.len = 0;
	assert_int_equal(
	    mu_neg_reconcile(ini, a.data, a.len, &q, on_have, on_need, &d, &why), 0);
	assert_int_equal(q.len, 0); /* done */
	assert_int_equal(g.visits, 0);
	assert_int_equal(d.need.n, 0);
	assert_int_equal(d.have.n, n - nb); /* its own, which b lacks */
	assert_int_equal(pushed.need.n, n - nown);
	mu_buf_free(&q);
	mu_buf_free(&a);
	mu_neg_free(ini);
	mu_neg_free(res);
	free(d.have.ids);
	free(pushed.need.ids);
	free(all);
}

static void
test_initiator_grown(void **state)
{
	struct mu_neg_item *b = calloc(20000, sizeof(*b)), own[5];

	(void)state;
	for (uint32_t i = 0; i < 20000; i++)
		make_item(&b[i], i);
	mu_neg_sort(b, 20000);
	check_grown(b, 20000, NULL, 0);
	/* Three of its own the responder holds, two it lacks. */
	own[0] = b[7];
	own[1] = b[9000];
	own[2] = b[19999];
	make_item(&own[3], 30000);
	make_item(&own[4], 30001);
	mu_neg_sort(own, 5);
	check_grown(b, 20000, own, 5);
	free(b);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *what;
		const uint8_t msg[8];
		size_t len;
	} bad[] = {
	    {"empty", {0}, 0},
	    {"not a version", {0x41}, 1},
	    {"cut varint", {0x61, 0x80}, 2},
	    {"long prefix", {0x61, 0x00, 0x21}, 3},
	    {"cut prefix", {0x61, 0x00, 0x05, 1, 2}, 5},
	    {"bad mode", {0x61, 0x00, 0x00, 0x07}, 4},
	    {"cut fingerprint", {0x61, 0x00, 0x00, 0x01, 1, 2, 3}, 7},
	    /* a tiny message that declares 2^62 ids */
	    {"huge id list", {0x61, 0x00, 0x00, 0x02, 0xc0, 0x80, 0x80, 0x00}, 8},
	    {"varint overflow", {0x61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
	};
	struct mu_neg_item it;
	struct mu_neg *res;
	struct mu_buf out = MU_BUF_INIT;
	struct mu_why why;

	(void)state;
	make_item(&it, 1);
	assert_int_equal(mu_neg_new(&res, &it, 1, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Copy to an exact-size heap block so ASan sees any over-read. */
		uint8_t *m = malloc(bad[i].len ? bad[i].len : 1);

		memcpy(m, bad[i].msg, bad[i].len);
		why.text[0] = 0;
		out.len = 0;
		assert_int_equal(
		    mu_neg_reconcile(res, m, bad[i].len, &out, NULL, NULL, NULL, &why),
		    MU_EFORMAT);
		assert_int_equal(out.len, 0);
		assert_non_null(strstr(why.text, "negentropy"));
		free(m);
	}
	/* Another version: the responder answers with its own version byte. */
	uint8_t v2 = 0x62;

	assert_int_equal(mu_neg_reconcile(res, &v2, 1, &out, NULL, NULL, NULL, &why),
	                 0);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 0x61);
	mu_buf_free(&out);
	mu_neg_free(res);
}

static void
test_unsorted_input_refused(void **state)
{
	struct mu_neg_item it[2];
	struct mu_neg *neg;

	(void)state;
	make_item(&it[0], 1);
	make_item(&it[1], 1);
	assert_int_equal(mu_neg_new(&neg, it, 2, 0), MU_EINVAL); /* duplicate */
	make_item(&it[1], 9);
	it[1].ts = it[0].ts - 1;
	assert_int_equal(mu_neg_new(&neg, it, 2, 0), MU_EINVAL);
	assert_int_equal(mu_neg_new(&neg, it, 1, 100), MU_EINVAL); /* limit too small */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_differences),
	    cmocka_unit_test(test_frame_limit),
	    cmocka_unit_test(test_equal_sets_one_round_trip),
	    cmocka_unit_test(test_push_mode),
	    cmocka_unit_test(test_push_range),
	    cmocka_unit_test(test_initiator_push_range),
	    cmocka_unit_test(test_initiator_grown),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_unsorted_input_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
