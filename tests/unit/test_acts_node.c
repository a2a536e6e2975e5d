/*
 * node/acts.c on a real store: a group's count published as a new revision
 * only when it changes, the coalition total of the groups in scope (the
 * target's group and its mutual allies) with its per-group parts, the
 * host's tally read back, and a pledge's state from the records held.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "node/acts.h"
#include "node/calendar.h"
#include "node/http/http.h"
#include "store_fixture.h"

/* A home made of fixture group g's key (no file: the functions only sign). */
static void
home_of(struct mu_home *h, struct grp *g)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->group, g->pk, MU_KEY_BYTES);
	h->secret = g->sk;
	h->has_root = true;
}

static void
target(struct mu_addr *a, const struct grp *g, enum mu_kind k, const char *d)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->group, g->pk, MU_KEY_BYTES);
	a->kind = k;
	a->d = S(d);
}

static void
publish(struct fx *fx, struct grp *g, enum mu_kind kind, const struct mu_addr *t,
        uint32_t count, bool as_group, int64_t at, bool want_changed)
{
	struct mu_acts_count c;
	struct mu_home h;
	struct mu_why why = {0};
	bool changed;

	home_of(&h, g);
	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.target = *t;
	c.count = count;
	c.as_group = as_group;
	if (mu_node_acts_publish(fx->st, &h, &c, at, &changed, &why) != 0)
		fail_msg("publish: %s", why.text);
	assert_int_equal(changed, want_changed);
}

/* Groups 0, 1, 2 allied both ways with 0; group 3 is not. */
static void
ally(struct fx *fx)
{
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[0], &fx->g[1], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[1], &fx->g[0], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[0], &fx->g[2], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[2], &fx->g[0], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
	/* Group 3 proposes only: not mutual. */
	assert_int_equal(
	    put1(fx->st, alliance(&fx->g[3], &fx->g[0], 0, MU_ALLIANCE_PROPOSED)),
	    MU_PUT_NEW);
}

static void
test_publish_and_total(void **state)
{
	struct fx *fx = *state;
	struct mu_acts_total t;
	struct mu_addr pet;

	ally(fx);
	target(&pet, &fx->g[0], MU_KIND_PETITION, "clean-air");
	publish(fx, &fx->g[1], MU_KIND_SIGNATURES, &pet, 10, false, NOW - 50, true);
	/* The same count again: no new revision. */
	publish(fx, &fx->g[1], MU_KIND_SIGNATURES, &pet, 10, false, NOW - 40, false);
	publish(fx, &fx->g[1], MU_KIND_SIGNATURES, &pet, 12, true, NOW - 30, true);
	publish(fx, &fx->g[2], MU_KIND_SIGNATURES, &pet, 5, false, NOW - 30, true);
	/* Out of scope: held, not counted. */
	publish(fx, &fx->g[3], MU_KIND_SIGNATURES, &pet, 10000, false, NOW - 30, true);
	assert_int_equal(mu_node_acts_total(fx->st, &pet, &t), 0);
	assert_int_equal(t.kind, MU_KIND_SIGNATURES);
	assert_int_equal(t.total, 17);
	assert_int_equal(t.as_groups, 1);
	assert_int_equal(t.n, 2);
	assert_true(t.parts[0].count == 12 || t.parts[1].count == 12);
	/* A group that deletes its signatures leaves the total. */
	{
		char d[MU_D_ADDR_LEN + 1];

		mu_rec_addr_d(&pet, d);
		assert_int_equal(
		    put1(fx->st, del_addr(&fx->g[2], MU_KIND_SIGNATURES, d, NOW - 20)),
		    MU_PUT_NEW);
	}
	assert_int_equal(mu_node_acts_total(fx->st, &pet, &t), 0);
	assert_int_equal(t.total, 12);
	assert_int_equal(t.n, 1);
	/* A count of sign-ups with keep_flags keeps the group's own signature. */
	{
		struct mu_acts_count c = {.kind = MU_KIND_SIGNATURES,
		                          .target = pet,
		                          .count = 13,
		                          .keep_flags = true};
		struct mu_home h;
		struct mu_why why = {0};

		home_of(&h, &fx->g[1]);
		assert_int_equal(mu_node_acts_publish(fx->st, &h, &c, NOW, NULL, &why),
		                 0);
	}
	assert_int_equal(mu_node_acts_total(fx->st, &pet, &t), 0);
	assert_int_equal(t.total, 13);
	assert_int_equal(t.as_groups, 1);
	/* An rsvp does not answer a petition. */
	{
		struct mu_acts_count c = {.kind = MU_KIND_RSVP, .target = pet};
		struct mu_home h;
		struct mu_why why = {0};

		home_of(&h, &fx->g[1]);
		assert_int_equal(mu_node_acts_publish(fx->st, &h, &c, NOW, NULL, &why),
		                 MU_EINVAL);
	}
}

/* Group 0's pledge "strike": 40 people by deadline. */
static void
put_strike(struct fx *fx, int64_t deadline)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_PLEDGE;
	r.created_at = NOW - 100;
	r.d = S("strike");
	r.c.pledge.title = S("Strike");
	r.c.pledge.threshold = 40;
	r.c.pledge.unit = MU_PLEDGE_PEOPLE;
	r.c.pledge.deadline = deadline;
	assert_int_equal(put1(fx->st, finish(&r, &fx->g[0])), MU_PUT_NEW);
}

static void
test_pledge_state(void **state)
{
	struct fx *fx = *state;
	struct mu_pledge_state s;
	struct mu_addr pl;

	ally(fx);
	target(&pl, &fx->g[0], MU_KIND_PLEDGE, "strike");
	assert_int_equal(mu_node_acts_pledge(fx->st, &pl, &s), MU_ENOTFOUND);
	put_strike(fx, NOW - 10);
	publish(fx, &fx->g[0], MU_KIND_PLEDGED, &pl, 13, false, NOW - 60, true);
	publish(fx, &fx->g[1], MU_KIND_PLEDGED, &pl, 13, false, NOW - 60, true);
	publish(fx, &fx->g[2], MU_KIND_PLEDGED, &pl, 13, false, NOW - 60, true);
	publish(fx, &fx->g[3], MU_KIND_PLEDGED, &pl, 50, false, NOW - 60, true);
	assert_int_equal(mu_node_acts_pledge(fx->st, &pl, &s), 0);
	assert_int_equal(s.total, 39);
	assert_false(s.triggered);
	/* After the deadline, a 40th does not trigger it. */
	publish(fx, &fx->g[2], MU_KIND_PLEDGED, &pl, 14, false, NOW - 5, true);
	assert_int_equal(mu_node_acts_pledge(fx->st, &pl, &s), 0);
	assert_int_equal(s.total, 26);
	assert_false(s.triggered);
}

/* The feeds of events hold the pledges of the groups they cover. */
static void
test_pledge_in_calendar(void **state)
{
	struct fx *fx = *state;
	struct mu_cal_filter f;
	struct mu_buf out = {0};
	struct mu_why why = {0};
	struct mu_addr pl;

	ally(fx);
	target(&pl, &fx->g[0], MU_KIND_PLEDGE, "strike");
	put_strike(fx, NOW + 1000);
	publish(fx, &fx->g[1], MU_KIND_PLEDGED, &pl, 13, false, NOW - 60, true);

	mu_cal_filter_all(&f);
	f.now = NOW;
	assert_int_equal(mu_cal_ics(fx->st, &f, "all", &out, &why), 0);
	assert_int_equal(mu_buf_append(&out, "", 1), 0);
	assert_non_null(strstr((char *)out.data, "UID:strike.pledge@"));
	assert_non_null(strstr((char *)out.data, "STATUS:TENTATIVE"));
	assert_non_null(strstr((char *)out.data, "13 of 40 people pledged"));
	out.len = 0;
	/* Past its deadline untriggered: cancelled. */
	f.now = NOW + 1001;
	assert_int_equal(mu_cal_ics(fx->st, &f, "all", &out, &why), 0);
	assert_int_equal(mu_buf_append(&out, "", 1), 0);
	assert_non_null(strstr((char *)out.data, "STATUS:CANCELLED"));
	out.len = 0;
	/* Another group's feed does not hold it. */
	f.now = NOW;
	f.group = fx->g[1].pk;
	assert_int_equal(mu_cal_ics(fx->st, &f, "g1", &out, &why), 0);
	assert_int_equal(mu_buf_append(&out, "", 1), 0);
	assert_null(strstr((char *)out.data, "pledge@"));
	mu_buf_free(&out);
}

/* VEVENTs in the bytes a..a+n. */
static size_t
vevents(const uint8_t *a, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i + 12 <= n; i++)
		k += memcmp(a + i, "BEGIN:VEVENT", 12) == 0;
	return k;
}

/* A feed's pledges come a slice at a time like its events, not all in its
 * last slice, and the slices' bytes are the whole feed's. */
static void
test_pledges_sliced(void **state)
{
	struct fx *fx = *state;
	struct mu_cal_filter f;
	struct mu_cal_stream *s;
	struct mu_buf whole = {0}, sliced = {0};
	struct mu_why why = {0};
	size_t before, slices;
	bool done = false;

	put_records(fx, MU_KIND_PLEDGE, 5, 1);
	mu_cal_filter_all(&f);
	f.now = NOW;
	assert_int_equal(mu_cal_ics(fx->st, &f, "all", &whole, &why), 0);
	assert_int_equal(vevents(whole.data, whole.len), 5);
	assert_int_equal(mu_cal_stream_open(fx->st, &f, "all", &s), 0);
	for (slices = 0; !done && slices < 20; slices++) {
		before = sliced.len;
		assert_int_equal(mu_cal_stream_next(s, 1, 0, &sliced, &done, &why), 0);
		assert_true(vevents(sliced.data + before, sliced.len - before) <= 1);
	}
	assert_true(done);
	mu_cal_stream_free(s);
	assert_int_equal(sliced.len, whole.len);
	assert_memory_equal(sliced.data, whole.data, whole.len);
	mu_buf_free(&whole);
	mu_buf_free(&sliced);
}

/* /api/pledges is a stream of one record a slice at the least budget, and
 * the slices make the whole list, in address order, each with its acts. */
static void
test_api_pledges_sliced(void **state)
{
	struct fx *fx = *state;
	struct mu_node node;
	struct mu_http_req rq;
	struct mu_http_reply rp;
	struct mu_buf body = {0};
	json_t *doc, *list;
	json_error_t jerr;
	char d[8];
	size_t i, slices;
	bool done = false;

	put_records(fx, MU_KIND_PLEDGE, 5, 1);
	memset(&node, 0, sizeof(node));
	node.store = fx->st;
	memset(&rq, 0, sizeof(rq));
	rq.node = &node;
	rq.path = "/api/pledges";
	rq.now = NOW;
	memset(&rp, 0, sizeof(rp));
	assert_int_equal(mu_http_api_acts(&rq, &rp), 0);
	assert_int_equal(rp.status, 200);
	assert_non_null(rp.stream.next);
	for (slices = 0; !done && slices < 20; slices++) {
		assert_int_equal(rp.stream.next(rp.stream.ctx, 0, &body, &done), 0);
	}
	assert_true(done);
	assert_int_equal(slices, 6); /* one a record, and the one that ends it */
	rp.stream.free(rp.stream.ctx);
	doc = json_loadb((const char *)body.data, body.len, 0, &jerr);
	assert_non_null(doc);
	list = json_object_get(doc, "pledges");
	assert_int_equal(json_array_size(list), 5);
	for (i = 0; i < 5; i++) {
		snprintf(d, sizeof(d), "p%zu", i);
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(list, i), "d")),
		    d);
		assert_non_null(json_object_get(json_array_get(list, i), "acts"));
	}
	json_decref(doc);
	mu_buf_free(&body);
	mu_buf_free(&rp.body);
}

static void
test_tally_read(void **state)
{
	struct fx *fx = *state;
	struct mu_tally t, back;
	struct mu_tally_share sh;
	struct mu_record r;
	struct mu_addr ev;
	char d[MU_D_ADDR_LEN + 1];
	int64_t made;

	target(&ev, &fx->g[0], MU_KIND_EVENT, "assembly");
	assert_int_equal(mu_node_acts_tally(fx->st, &ev, &back, NULL), MU_ENOTFOUND);
	mu_tally_init(&t, 30);
	mu_tally_set(&t, fx->g[1].pk, 20);
	mu_tally_set(&t, fx->g[2].pk, 20);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_TALLY;
	r.created_at = NOW - 7;
	mu_rec_addr_d(&ev, d);
	r.d = S(d);
	r.c.tally.event = ev;
	mu_tally_to_rec(&t, &r.c.tally);
	assert_int_equal(put1(fx->st, finish(&r, &fx->g[0])), MU_PUT_NEW);
	reopen(fx, NULL);
	assert_int_equal(mu_node_acts_tally(fx->st, &ev, &back, &made), 0);
	assert_int_equal(made, NOW - 7);
	mu_tally_share(&back, fx->g[2].pk, &sh);
	assert_int_equal(sh.placed, 10);
	assert_int_equal(sh.waitlisted, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_publish_and_total, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pledge_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pledge_in_calendar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pledges_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_pledges_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tally_read, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
