/*
 * The ingest pipeline (storage/ingest.h): records verified on several
 * threads are checked and stored in input order, with the replacement and
 * deletion rules seeing earlier records, whatever the thread count and batch
 * size; invalid ones are reported in order and never stored.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "storage/ingest.h"
#include "store_fixture.h"

#define N 604 /* several chunks of 128, several batches */

struct seen {
	size_t next_check, next_stored, rejected;
	enum mu_put_result res[N];
	bool bad[N];
};

static bool
on_check(void *ctx, size_t index, int rc, const struct mu_record *rec,
         const struct mu_why *why)
{
	struct seen *s = ctx;

	assert_int_equal(index, s->next_check++);
	if (rc != 0) {
		assert_null(rec);
		assert_int_equal(rc, MU_ESIG);
		assert_non_null(strstr(why->text, "signature"));
		s->bad[index] = true;
		s->rejected++;
		return false;
	}
	assert_non_null(rec);
	return true;
}

static void
on_stored(void *ctx, size_t index, enum mu_put_result r)
{
	struct seen *s = ctx;

	assert_true(index >= s->next_stored);
	s->next_stored = index + 1;
	s->res[index] = r;
}

static const struct mu_record *
event(const struct grp *g, int d, uint32_t rev, int64_t created)
{
	char dtext[16];
	struct mu_record r;

	snprintf(dtext, sizeof(dtext), "e%d", d);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	r.created_at = created;
	r.d = S(dtext);
	r.rev = rev;
	r.c.event.title = S("Assembly");
	r.c.event.start = NOW + 86400 * d;
	r.c.event.status = MU_EVENT_CONFIRMED;
	return finish(&r, g);
}

/* A source over an array, as `muster import` cuts its stream: every
 * record is cut before the first is checked; fail_at, when below n, is cut
 * as an error. */
struct src {
	const struct mu_ingest_span *spans;
	size_t n, i, fail_at;
	const struct seen *seen;
};

static int
src_next(void *ctx, struct mu_ingest_span *span, struct mu_why *why)
{
	struct src *s = ctx;

	if (s->seen != NULL)
		assert_int_equal(s->seen->next_check, 0);
	if (s->i == s->fail_at)
		return mu_fail(why, MU_EIO, "cannot read record %zu", s->i);
	if (s->i == s->n)
		return 0;
	*span = s->spans[s->i++];
	return 1;
}

/*
 * Records 0-599: events of 3 groups at 200 addresses, revs 0, 1, 2 (each
 * replaces the one before), with 97 and 194 tampered; then a copy of record
 * 0 (superseded), of record 599 (duplicate), a delete of 599's address (new)
 * and a rev 3 there (deleted).
 */
static void
run(struct fx *fx, unsigned threads, size_t batch, bool source)
{
	struct mu_ingest_span spans[N];
	uint8_t *tampered[2];
	const struct mu_record *r;
	struct mu_ingest_opts o = {threads, batch, NOW, 0, on_check, on_stored, NULL};
	struct seen *s = calloc(1, sizeof(*s));
	struct mu_why why = {0};
	uint64_t count;
	size_t i, t = 0;

	assert_non_null(s);
	for (i = 0; i < 600; i++) {
		r = event(&fx->g[i % 200 % 3], (int)(i % 200), (uint32_t)(i / 200),
		          NOW - 1000 + (int64_t)i);
		spans[i] = (struct mu_ingest_span){r->raw, r->raw_len};
		if (i == 97 || i == 194) {
			assert_non_null(tampered[t] = malloc(r->raw_len));
			memcpy(tampered[t], r->raw, r->raw_len);
			tampered[t][r->raw_len - 1] ^=
			    1; /* the signature's last byte */
			spans[i].ptr = tampered[t++];
		}
	}
	spans[600] = spans[0];
	spans[601] = spans[599];
	r = del_addr(&fx->g[199 % 3], MU_KIND_EVENT, "e199", NOW - 100);
	spans[602] = (struct mu_ingest_span){r->raw, r->raw_len};
	r = event(&fx->g[199 % 3], 199, 3, NOW - 50);
	spans[603] = (struct mu_ingest_span){r->raw, r->raw_len};

	o.ctx = s;
	if (source) {
		struct src a = {spans, N, 0, SIZE_MAX, s};

		if (mu_ingest_source(fx->st, src_next, &a, &o, &why) != 0)
			fail_msg("ingest: %s", why.text);
	} else if (mu_ingest(fx->st, spans, N, &o, &why) != 0) {
		fail_msg("ingest: %s", why.text);
	}
	assert_int_equal(s->next_check, N);
	assert_int_equal(s->rejected, 2);
	for (i = 0; i < 600; i++) {
		assert_int_equal(s->bad[i], i == 97 || i == 194);
		if (!s->bad[i] && s->res[i] != MU_PUT_NEW)
			fail_msg("record %zu: %s", i, mu_put_result_name(s->res[i]));
	}
	assert_int_equal(s->res[600], MU_PUT_SUPERSEDED);
	assert_int_equal(s->res[601], MU_PUT_DUPLICATE);
	assert_int_equal(s->res[602], MU_PUT_NEW);
	assert_int_equal(s->res[603], MU_PUT_DELETED);
	/* Committed: after reopening, 200 current events, one of them
	 * deleted, and the delete record; and the store takes more. */
	reopen(fx, NULL);
	assert_int_equal(mu_store_count(fx->st, &count), 0);
	assert_int_equal(count, 200);
	assert_int_equal(put1(fx->st, r), MU_PUT_DELETED);
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[0], &fx->g[1], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	free(tampered[0]);
	free(tampered[1]);
	free(s);
}

static void
test_many_threads_small_batches(void **state)
{
	run(*state, 3, 50, false);
}

static void
test_source_many_threads_small_batches(void **state)
{
	run(*state, 3, 50, true);
}

static void
test_source_one_thread(void **state)
{
	run(*state, 1, 0, true);
}

/* A source that fails stops the import before anything is stored, with
 * its error, however many chunks were cut and verified before it. */
static void
test_source_error(void **state)
{
	struct fx *fx = *state;
	struct mu_ingest_span spans[400];
	struct mu_ingest_opts o = {2, 50, NOW, 0, NULL, NULL, NULL};
	struct src a = {spans, 400, 0, 300, NULL};
	struct mu_why why = {0};
	const struct mu_record *r;
	uint64_t count;

	for (size_t i = 0; i < 400; i++) {
		r = event(&fx->g[i % 3], (int)i, 0, NOW - 1000 + (int64_t)i);
		spans[i] = (struct mu_ingest_span){r->raw, r->raw_len};
	}
	assert_int_equal(mu_ingest_source(fx->st, src_next, &a, &o, &why), MU_EIO);
	assert_non_null(strstr(why.text, "record 300"));
	assert_int_equal(mu_store_count(fx->st, &count), 0);
	assert_int_equal(count, 0);
	/* And one that ends early stores what it gave. */
	a = (struct src){spans, 130, 0, SIZE_MAX, NULL};
	assert_int_equal(mu_ingest_source(fx->st, src_next, &a, &o, &why), 0);
	assert_int_equal(mu_store_count(fx->st, &count), 0);
	assert_int_equal(count, 130);
	a = (struct src){spans, 0, 0, SIZE_MAX, NULL};
	assert_int_equal(mu_ingest_source(fx->st, src_next, &a, &o, &why), 0);
}

static void
test_one_thread_default_batch(void **state)
{
	run(*state, 1, 0, false);
}

static void
test_all_cores_batch_of_one(void **state)
{
	run(*state, 0, 1, false);
}

static void
test_nothing(void **state)
{
	struct fx *fx = *state;
	struct mu_ingest_opts o = {2, 0, NOW, 0, NULL, NULL, NULL};
	struct mu_why why = {0};

	assert_int_equal(mu_ingest(fx->st, NULL, 0, &o, &why), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_many_threads_small_batches, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_one_thread_default_batch, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_all_cores_batch_of_one, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_many_threads_small_batches,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_one_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
