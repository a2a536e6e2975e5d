/*
 * Records signed by organizer keys in a real store (docs/PROTOCOL.md 10.6):
 * held until their organizer record arrives, then stored; refused for a
 * kind the organizer may not publish; refused and removed once the key is
 * revoked, except keep, whatever their created_at; the held table's
 * bounds; and `muster check` clean after each of these.
 */
#define _XOPEN_SOURCE 700 /* nftw, for the fixture's rm_tree */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "storage/store_check.h"
#include "store_fixture.h"

static const struct mu_record *
org_event(const struct grp *g, const struct grp *o, const char *d, int64_t created)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	r.created_at = created;
	r.d = S(d);
	r.rev = 1;
	r.c.event.title = S("Picnic");
	r.c.event.start = NOW + 86400;
	r.c.event.status = MU_EVENT_CONFIRMED;
	return finish_as(&r, g, o);
}

static char hexes[8][2 * MU_KEY_BYTES + 1];

/* The organizer record of g for o, with keep (n ids) when revoked. */
static const struct mu_record *
org_rec(const struct grp *g, const struct grp *o, uint32_t rev,
        enum mu_organizer_status status, const char *kind, const uint8_t *keep,
        size_t n)
{
	static int slot;
	struct mu_record r;
	char *hex = hexes[slot++ % 8];

	sodium_bin2hex(hex, 2 * MU_KEY_BYTES + 1, o->pk, MU_KEY_BYTES);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_ORGANIZER;
	r.created_at = NOW - 1000 + rev;
	r.d = S(hex);
	r.rev = rev;
	memcpy(r.c.organizer.key, o->pk, MU_KEY_BYTES);
	r.c.organizer.name = S("Sam");
	r.c.organizer.status = status;
	if (kind != NULL) {
		r.c.organizer.kinds[0] = S(kind);
		r.c.organizer.nkinds = 1;
	}
	r.c.organizer.keep.ids = keep;
	r.c.organizer.keep.n = n;
	r.c.organizer.keep.stride = MU_ID_BYTES;
	return finish(&r, g);
}

static int
visit_nothing(void *ctx, const struct mu_record *rec)
{
	(void)ctx;
	(void)rec;
	return 0;
}

static bool
stored(struct fx *fx, const struct mu_record *r)
{
	return mu_store_get(fx->st, r->id, visit_nothing, NULL) == 0;
}

static int
print_problem(void *ctx, const char *db, const char *text)
{
	(void)ctx;
	fprintf(stderr, "check: %s: %s\n", db, text);
	return 0;
}

static void
assert_clean(struct fx *fx)
{
	struct mu_store_check_stats stats;
	struct mu_why why = {0};

	assert_int_equal(mu_store_check(fx->st, print_problem, NULL, &stats, &why), 0);
	assert_int_equal(stats.problems, 0);
}

/* Held first, stored when the organizer record comes; the address is then
 * current. */
static void
test_held_then_accepted(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0], *o = &fx->g[1];
	const struct mu_record *ev = org_event(g, o, "e1", NOW - 10);
	struct mu_addr addr;

	assert_int_equal(put1(fx->st, ev), MU_PUT_HELD);
	assert_false(stored(fx, ev));
	/* Held again: nothing changes. Held records outlive the process. */
	assert_int_equal(put1(fx->st, ev), MU_PUT_HELD);
	reopen(fx, NULL);
	assert_clean(fx);
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 1, MU_ORGANIZER_ACTIVE, NULL, NULL, 0)),
	    MU_PUT_NEW);
	assert_true(stored(fx, ev));
	mu_rec_addr(ev, &addr);
	assert_int_equal(mu_store_get_addr(fx->st, &addr, visit_nothing, NULL), 0);
	assert_int_equal(put1(fx->st, ev), MU_PUT_DUPLICATE);
	/* Now straight in. */
	assert_int_equal(put1(fx->st, org_event(g, o, "e2", NOW - 5)), MU_PUT_NEW);
	assert_clean(fx);
	/* The root deletes what an organizer published, as any record. */
	assert_int_equal(put1(fx->st, del_addr(g, MU_KIND_EVENT, "e2", NOW - 1)),
	                 MU_PUT_NEW);
	/* Root-signed records go on as before. */
	assert_int_equal(put1(fx->st, alliance(g, &fx->g[3], 1, MU_ALLIANCE_PROPOSED)),
	                 MU_PUT_NEW);
	assert_clean(fx);
}

/* Delivered before a revocation: dropped, never stored. */
static void
test_held_then_revoked(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0], *o = &fx->g[1];
	const struct mu_record *ev = org_event(g, o, "e1", NOW - 10);
	const struct mu_record *kept = org_event(g, o, "e2", NOW - 10);

	assert_int_equal(put1(fx->st, ev), MU_PUT_HELD);
	assert_int_equal(put1(fx->st, kept), MU_PUT_HELD);
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 1, MU_ORGANIZER_REVOKED, NULL, kept->id, 1)),
	    MU_PUT_NEW);
	assert_false(stored(fx, ev));
	assert_true(stored(fx, kept));
	assert_int_equal(put1(fx->st, ev), MU_PUT_REVOKED);
	assert_clean(fx);
}

/* A revocation removes what the key signed, but keep; the key's next
 * record and a backdated one are refused; an older active version of the
 * organizer record cannot undo it. */
static void
test_revocation(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0], *o = &fx->g[1], *o2 = &fx->g[2];
	const struct mu_record *a, *b, *c, *other, *root, *del;
	struct mu_record dt;

	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 1, MU_ORGANIZER_ACTIVE, NULL, NULL, 0)),
	    MU_PUT_NEW);
	assert_int_equal(
	    put1(fx->st, org_rec(g, o2, 1, MU_ORGANIZER_ACTIVE, NULL, NULL, 0)),
	    MU_PUT_NEW);
	a = org_event(g, o, "a", NOW - 50);
	b = org_event(g, o, "b", NOW - 40);
	c = org_event(g, o, "c", NOW - 30);
	other = org_event(g, o2, "d", NOW - 30);
	root = profile(g, "Group");
	/* A delete the key signed: its tombstone goes with it. */
	memset(&dt, 0, sizeof(dt));
	dt.kind = MU_KIND_DELETE;
	dt.created_at = NOW - 20;
	dt.c.del.by_addr = true;
	memcpy(dt.c.del.addr.group, g->pk, MU_KEY_BYTES);
	dt.c.del.addr.kind = MU_KIND_EVENT;
	dt.c.del.addr.d = S("gone");
	del = finish_as(&dt, g, o);
	assert_int_equal(put1(fx->st, a), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, b), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, c), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, other), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, root), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, del), MU_PUT_NEW);
	assert_clean(fx);

	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 2, MU_ORGANIZER_REVOKED, NULL, b->id, 1)),
	    MU_PUT_NEW);
	assert_false(stored(fx, a));
	assert_true(stored(fx, b));
	assert_false(stored(fx, c));
	assert_false(stored(fx, del));
	assert_true(stored(fx, other));
	assert_true(stored(fx, root));
	assert_clean(fx);
	/* The event del would have deleted may come now. */
	assert_int_equal(put1(fx->st, org_event(g, o2, "gone", NOW - 5)), MU_PUT_NEW);

	/* Its next record, and one dated long before the revocation. */
	assert_int_equal(put1(fx->st, org_event(g, o, "e", NOW - 1)), MU_PUT_REVOKED);
	assert_int_equal(put1(fx->st, org_event(g, o, "f", NOW - 100000)),
	                 MU_PUT_REVOKED);
	assert_int_equal(put1(fx->st, a), MU_PUT_REVOKED);
	/* An active version with a higher rev does not bring the key back. */
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 9, MU_ORGANIZER_ACTIVE, NULL, NULL, 0)),
	    MU_PUT_SUPERSEDED);
	assert_int_equal(put1(fx->st, org_event(g, o, "g", NOW - 1)), MU_PUT_REVOKED);
	assert_clean(fx);
}

/* An organizer limited to causes publishes no event; a new version that
 * narrows the kinds removes what it no longer allows. */
static void
test_kinds(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0], *o = &fx->g[1];
	const struct mu_record *ev = org_event(g, o, "e1", NOW - 10);

	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 1, MU_ORGANIZER_ACTIVE, "cause", NULL, 0)),
	    MU_PUT_NEW);
	assert_int_equal(put1(fx->st, ev), MU_PUT_NOT_ALLOWED);
	assert_false(stored(fx, ev));
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 2, MU_ORGANIZER_ACTIVE, "event", NULL, 0)),
	    MU_PUT_NEW);
	assert_int_equal(put1(fx->st, ev), MU_PUT_NEW);
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 3, MU_ORGANIZER_ACTIVE, "cause", NULL, 0)),
	    MU_PUT_NEW);
	assert_false(stored(fx, ev));
	assert_clean(fx);
}

/* The held table keeps at most 256 records of one key, and they go with
 * the organizer record in one transaction. */
static void
test_held_bounds(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0], *o = &fx->g[1];
	const struct mu_record *recs[257];
	enum mu_put_result res[257];
	struct mu_why why = {0};
	char d[16];
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < 257; i++) {
		snprintf(d, sizeof(d), "e%zu", i);
		recs[i] = org_event(g, o, d, NOW - 1000 + (int64_t)i);
	}
	assert_int_equal(mu_store_put(fx->st, recs, 257, res, &why), 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(res[i], MU_PUT_HELD);
	assert_int_equal(res[256], MU_PUT_HELD_FULL);
	assert_int_equal(mu_store_count(fx->st, &n), 0);
	assert_int_equal(n, 0);
	/* Another key still has room. */
	assert_int_equal(put1(fx->st, org_event(g, &fx->g[2], "x", NOW - 1)),
	                 MU_PUT_HELD);
	assert_clean(fx);
	assert_int_equal(
	    put1(fx->st, org_rec(g, o, 1, MU_ORGANIZER_ACTIVE, NULL, NULL, 0)),
	    MU_PUT_NEW);
	assert_int_equal(mu_store_count(fx->st, &n), 0);
	assert_int_equal(n, 257); /* 256 events and the organizer record */
	assert_clean(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_held_then_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_then_revoked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
