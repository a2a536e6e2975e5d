/*
 * The commit pipeline's batches (node/commit.c): the ones kept for reuse
 * once their records are stored stay under SYNC_SPARE_BYTES, however many
 * a catch-up had in flight, and are taken again before new ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/commit.h"

/* As many batches as a catch-up may hold at once: the commit's hold, the
 * verifying ones and the old spare count. */
#define IN_FLIGHT (SYNC_COMMIT_HOLD / MU_WIRE_RECS_MAX + SYNC_BATCHES_MAX + 256)

static size_t
spare_bytes(const struct mu_sync_commit *st, unsigned *n)
{
	const struct mu_sync_batch *b;
	size_t bytes = 0;

	*n = 0;
	for (b = st->spare; b != NULL; b = b->next, (*n)++)
		bytes += sizeof(*b) + b->copy_cap;
	return bytes;
}

struct fixture {
	struct mu_node node;
	struct mu_sync_peer peer;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mu_sync_commit_open(&f->node), 0);
	f->peer.node = &f->node;
	/* The test's own reference: the peer is never freed by a batch. */
	f->peer.refs = 1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mu_sync_commit_close(&f->node);
	free(f);
	return 0;
}

static struct mu_sync_batch *
take(struct fixture *f, size_t total)
{
	struct mu_sync_batch *b = mu_sync_batch_new(f->node.commit, total);

	assert_non_null(b);
	assert_true(b->copy_cap >= total);
	b->p = &f->peer;
	mu_sync_hold(&f->peer);
	return b;
}

static void
test_spares_capped_in_bytes(void **state)
{
	struct fixture *f = *state;
	struct mu_sync_batch **all = calloc(IN_FLIGHT, sizeof(*all));
	unsigned i, n;
	size_t bytes;

	assert_non_null(all);
	/* A catch-up's batches of 64 records of about 900 bytes, all stored
	 * by one commit and freed together. */
	for (i = 0; i < IN_FLIGHT; i++)
		all[i] = take(f, 64 * 900);
	for (i = 0; i < IN_FLIGHT; i++)
		mu_sync_batch_free(all[i]);
	assert_int_equal(f->peer.refs, 1);
	bytes = spare_bytes(f->node.commit, &n);
	assert_true(bytes <= SYNC_SPARE_BYTES);
	assert_int_equal(n, f->node.commit->nspare);
	/* Enough are kept for the next commit's messages to reuse some. */
	assert_true(n >= 4);

	/* Those kept are taken first, without growing the pool past the
	 * cap when they come back with larger copies. */
	for (i = 0; i < n; i++) {
		all[i] = take(f, 64 * 4000);
		assert_int_equal(f->node.commit->nspare, n - i - 1);
	}
	for (i = 0; i < n; i++)
		mu_sync_batch_free(all[i]);
	assert_true(spare_bytes(f->node.commit, &i) <= SYNC_SPARE_BYTES);
	free(all);
}

/* A batch whose copy alone passes the cap (64 records of 64 KiB) is
 * freed, not kept. */
static void
test_huge_batch_not_kept(void **state)
{
	struct fixture *f = *state;
	struct mu_sync_batch *b = take(f, SYNC_SPARE_BYTES);
	unsigned n;

	mu_sync_batch_free(b);
	assert_int_equal(spare_bytes(f->node.commit, &n), 0);
	assert_int_equal(n, 0);
}

/* mu_sync_commit_tick() frees the spares once a tick passed without a
 * batch taken, and counts them out of the pool. */
static void
test_tick_frees_spares(void **state)
{
	struct fixture *f = *state;
	struct mu_sync_batch *b = take(f, 1000);
	unsigned n;

	mu_sync_batch_free(b);
	assert_int_equal(f->node.commit->nspare, 1);
	mu_sync_commit_tick(&f->node); /* a batch was taken since the last */
	assert_int_equal(f->node.commit->nspare, 1);
	mu_sync_commit_tick(&f->node);
	assert_int_equal(f->node.commit->nspare, 0);
	assert_int_equal(spare_bytes(f->node.commit, &n), 0);
	/* The pool starts again from nothing: as many as before fit. */
	b = take(f, 1000);
	mu_sync_batch_free(b);
	assert_int_equal(f->node.commit->nspare, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_spares_capped_in_bytes, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_huge_batch_not_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tick_frees_spares, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
