/*
 * The acts kinds (rsvp, tally, petition, signatures, pledge, pledged):
 * their rules (docs/PROTOCOL.md 3.8-3.13), the tally queue
 * (protocol/tally.h) and the pledge trigger (protocol/pledge.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/kind.h"
#include "protocol/pledge.h"
#include "protocol/record.h"
#include "protocol/tally.h"
#include "rec_util.h"

static struct key G, A, B, C; /* the host, then three groups */

static void
base(struct mu_record *r, const struct key *k, enum mu_kind kind, const char *d)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	memcpy(r->group, k->pk, MU_KEY_BYTES);
	memcpy(r->signer, k->pk, MU_KEY_BYTES);
	r->created_at = T0 - 100;
	r->d = S(d);
}

static void
addr(struct mu_addr *a, const struct key *k, enum mu_kind kind, const char *d)
{
	memcpy(a->group, k->pk, MU_KEY_BYTES);
	a->kind = kind;
	a->d = S(d);
}

/* Builds r with k's key and parses it back into out (bytes kept in *raw). */
static int
build(const struct mu_record *r, const struct key *k, struct mu_record *out,
      uint8_t **raw, struct mu_why *why)
{
	size_t len;
	int rc;

	*raw = NULL;
	rc = mu_rec_build(r, k->sk, T0, raw, &len, NULL, why);
	if (rc == 0 && out != NULL)
		assert_int_equal(mu_rec_parse(out, *raw, len, T0, 0, why), 0);
	return rc;
}

static char dbuf[8][MU_D_ADDR_LEN + 1];

static void
rsvp(struct mu_record *r, const struct key *k, uint32_t going, int slot)
{
	base(r, k, MU_KIND_RSVP, "");
	addr(&r->c.rsvp.event, &G, MU_KIND_EVENT, "assembly");
	mu_rec_addr_d(&r->c.rsvp.event, dbuf[slot]);
	r->d = S(dbuf[slot]);
	r->c.rsvp.going = going;
}

static void
test_addr_d(void **state)
{
	struct mu_addr a;
	char d[MU_D_ADDR_LEN + 1], want[MU_D_ADDR_LEN + 1];
	uint8_t in[MU_KEY_BYTES + 8], h[16];

	(void)state;
	addr(&a, &G, MU_KIND_EVENT, "assembly");
	mu_rec_addr_d(&a, d);
	/* BLAKE2b with a 16-byte digest of group || d, in lowercase hex. */
	memcpy(in, G.pk, MU_KEY_BYTES);
	memcpy(in + MU_KEY_BYTES, "assembly", 8);
	crypto_generichash(h, sizeof(h), in, sizeof(in), NULL, 0);
	sodium_bin2hex(want, sizeof(want), h, sizeof(h));
	assert_string_equal(d, want);
	assert_int_equal(strlen(d), MU_D_ADDR_LEN);
}

static void
test_rsvp_rules(void **state)
{
	struct mu_record r, p;
	struct mu_why why = {0};
	uint8_t *raw;

	(void)state;
	rsvp(&r, &A, 40, 0);
	r.c.rsvp.about = true;
	assert_int_equal(build(&r, &A, &p, &raw, &why), 0);
	assert_int_equal(p.c.rsvp.going, 40);
	assert_true(p.c.rsvp.about);
	assert_false(p.c.rsvp.has_waitlisted);
	free(raw);

	r.c.rsvp.has_waitlisted = true;
	r.c.rsvp.waitlisted = 41;
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why,
	            "rsvp-waitlisted");
	r.c.rsvp.waitlisted = 40;
	assert_int_equal(build(&r, &A, NULL, &raw, &why), 0);
	free(raw);

	r.d = S("0123456789abcdef0123456789abcdef");
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "d-form");
	r.d = S("assembly");
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "d-form");

	rsvp(&r, &A, MU_COUNT_MAX + 1, 0);
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "count-range");
	rsvp(&r, &A, 1, 0);
	r.c.rsvp.event.kind = MU_KIND_CAUSE;
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "address");
}

static void
test_tally_rules(void **state)
{
	struct mu_record r, p;
	struct mu_why why = {0};
	uint8_t *raw;

	(void)state;
	base(&r, &G, MU_KIND_TALLY, "");
	addr(&r.c.tally.event, &G, MU_KIND_EVENT, "assembly");
	mu_rec_addr_d(&r.c.tally.event, dbuf[0]);
	r.d = S(dbuf[0]);
	r.c.tally.capacity = 30;
	memcpy(r.c.tally.groups[0], A.pk, MU_KEY_BYTES);
	memcpy(r.c.tally.groups[1], B.pk, MU_KEY_BYTES);
	r.c.tally.counts[0] = 20;
	r.c.tally.counts[1] = 15;
	r.c.tally.ngroups = r.c.tally.ncounts = 2;
	assert_int_equal(build(&r, &G, &p, &raw, &why), 0);
	assert_int_equal(p.c.tally.ncounts, 2);
	assert_int_equal(p.c.tally.counts[1], 15);
	assert_memory_equal(p.c.tally.groups[1], B.pk, MU_KEY_BYTES);
	free(raw);

	r.c.tally.ncounts = 1;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "tally-runs");
	r.c.tally.ncounts = 2;
	memcpy(r.c.tally.groups[1], A.pk, MU_KEY_BYTES);
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "tally-runs");
	memcpy(r.c.tally.groups[1], B.pk, MU_KEY_BYTES);
	r.c.tally.counts[1] = 0;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "count-range");
	r.c.tally.counts[1] = 15;
	/* Only the event's own group tallies it. */
	memcpy(r.group, A.pk, MU_KEY_BYTES);
	memcpy(r.signer, A.pk, MU_KEY_BYTES);
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "tally-own");
}

static void
test_petition_signatures_rules(void **state)
{
	struct mu_record r, p;
	struct mu_why why = {0};
	uint8_t *raw;
	const char *names[] = {"Ana", "Bo"};

	(void)state;
	base(&r, &G, MU_KIND_PETITION, "clean-air");
	r.c.petition.title = S("Clean air");
	r.c.petition.text = S("We ask for\tclean air.\nNow.");
	r.c.petition.target = S("The city council");
	r.c.petition.status = MU_PETITION_OPEN;
	r.c.petition.has_goal = true;
	r.c.petition.goal = 1000;
	assert_int_equal(build(&r, &G, &p, &raw, &why), 0);
	assert_int_equal(p.c.petition.goal, 1000);
	free(raw);
	r.c.petition.target.len = 0;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "required");

	base(&r, &A, MU_KIND_SIGNATURES, "");
	addr(&r.c.signatures.petition, &G, MU_KIND_PETITION, "clean-air");
	mu_rec_addr_d(&r.c.signatures.petition, dbuf[0]);
	r.d = S(dbuf[0]);
	r.c.signatures.count = 2;
	r.c.signatures.as_group = true;
	r.c.signatures.names[0] = S(names[0]);
	r.c.signatures.names[1] = S(names[1]);
	r.c.signatures.nnames = 2;
	assert_int_equal(build(&r, &A, &p, &raw, &why), 0);
	assert_true(p.c.signatures.as_group);
	assert_int_equal(p.c.signatures.nnames, 2);
	free(raw);
	r.c.signatures.count = 1;
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why,
	            "signatures-names");
	r.c.signatures.count = 2;
	r.c.signatures.names[1] = S("a name far too long for the sixty-four bytes "
	                            "a shown name may take up");
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "field-length");
}

static void
pledge(struct mu_record *r, uint32_t threshold, enum mu_pledge_unit unit)
{
	base(r, &G, MU_KIND_PLEDGE, "strike");
	r->c.pledge.title = S("General strike");
	r->c.pledge.threshold = threshold;
	r->c.pledge.unit = unit;
	r->c.pledge.deadline = T0 + 1000;
}

static void
test_pledge_rules(void **state)
{
	struct mu_record r, p;
	struct mu_why why = {0};
	uint8_t *raw;

	(void)state;
	pledge(&r, 40, MU_PLEDGE_PEOPLE);
	r.c.pledge.has_start = true;
	r.c.pledge.start = T0 + 5000;
	assert_int_equal(build(&r, &G, &p, &raw, &why), 0);
	assert_int_equal(p.c.pledge.unit, MU_PLEDGE_PEOPLE);
	free(raw);
	r.c.pledge.has_end = true;
	r.c.pledge.end = T0 + 4000;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why,
	            "end-before-start");
	r.c.pledge.has_start = false;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "pledge-when");
	pledge(&r, 0, MU_PLEDGE_GROUPS);
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why, "count-range");

	/* The trigger's time is at the deadline at the latest. */
	pledge(&r, 40, MU_PLEDGE_PEOPLE);
	r.c.pledge.has_triggered = true;
	r.c.pledge.triggered = r.c.pledge.deadline;
	assert_int_equal(build(&r, &G, &p, &raw, &why), 0);
	assert_true(p.c.pledge.has_triggered);
	assert_int_equal(p.c.pledge.triggered, r.c.pledge.deadline);
	free(raw);
	r.c.pledge.triggered = r.c.pledge.deadline + 1;
	assert_rule(build(&r, &G, NULL, &raw, &why), MU_ERECORD, &why,
	            "pledge-triggered");
}

/* ---- the tally queue ---------------------------------------------------- */

static void
share(const struct mu_tally *t, const struct key *k, uint32_t placed, uint32_t wait)
{
	struct mu_tally_share s;

	mu_tally_share(t, k->pk, &s);
	assert_int_equal(s.placed, placed);
	assert_int_equal(s.waitlisted, wait);
	assert_int_equal(s.going, placed + wait);
}

static void
test_tally_order(void **state)
{
	struct mu_tally t;
	uint64_t placed;

	(void)state;
	mu_tally_init(&t, 30);
	/* Arrival: A 12, B 10, C 8 (30: all placed), then A 20, C 15. */
	assert_int_equal(mu_tally_set(&t, A.pk, 12), 0);
	assert_int_equal(mu_tally_set(&t, B.pk, 10), 0);
	assert_int_equal(mu_tally_set(&t, C.pk, 8), 0);
	share(&t, &A, 12, 0);
	share(&t, &C, 8, 0);
	assert_int_equal(mu_tally_set(&t, A.pk, 20), 0);
	assert_int_equal(mu_tally_set(&t, C.pk, 15), 0);
	share(&t, &A, 12, 8);
	share(&t, &B, 10, 0);
	share(&t, &C, 8, 7);
	assert_int_equal(mu_tally_total(&t, &placed), 45);
	assert_int_equal(placed, 30);
	assert_int_equal(t.nruns, 5);

	/* B withdraws 3: A's waiting people were first in the queue. */
	assert_int_equal(mu_tally_set(&t, B.pk, 7), 0);
	share(&t, &A, 15, 5);
	share(&t, &B, 7, 0);
	share(&t, &C, 8, 7);
	/* A lowers by 6: its waiting ones leave first, then one placed place
	 * goes to C, next in line. */
	assert_int_equal(mu_tally_set(&t, A.pk, 14), 0);
	share(&t, &A, 14, 0);
	share(&t, &C, 9, 6);
	/* A group that goes to zero leaves the queue; runs that then meet
	 * merge when they are of one group. */
	assert_int_equal(mu_tally_set(&t, B.pk, 0), 0);
	share(&t, &B, 0, 0);
	share(&t, &C, 15, 0);
	assert_int_equal(t.nruns, 4); /* A 12, C 8, A 2, C 7 */
	assert_int_equal(mu_tally_set(&t, A.pk, 12), 0);
	assert_int_equal(t.nruns, 2);
	assert_memory_equal(t.runs[0].group, A.pk, MU_KEY_BYTES);
	assert_memory_equal(t.runs[1].group, C.pk, MU_KEY_BYTES);
	assert_int_equal(t.runs[1].n, 15);
}

static void
test_tally_full(void **state)
{
	struct mu_tally t;
	struct key k;
	size_t i;

	(void)state;
	mu_tally_init(&t, 10);
	/* Alternating A and B past capacity makes many runs. */
	for (i = 0; i < MU_TALLY_MAX; i++)
		assert_int_equal(
		    mu_tally_set(&t, (i % 2 ? B : A).pk, (uint32_t)(i / 2 + 1)), 0);
	assert_int_equal(t.nruns, MU_TALLY_MAX);
	share(&t, &A, 5, 27);
	share(&t, &B, 5, 27);
	/* The first 10 runs are all placed: compacted into one run per group. */
	assert_int_equal(mu_tally_set(&t, C.pk, 1), 0);
	assert_true(t.nruns <= MU_TALLY_MAX);
	share(&t, &A, 5, 27);
	share(&t, &B, 5, 27);
	share(&t, &C, 0, 1);
	/* Fill again until no compaction helps: a new group is refused. */
	for (i = 0; t.nruns < MU_TALLY_MAX; i++)
		assert_int_equal(mu_tally_set(&t, (i % 2 ? B : A).pk, 28 + (uint32_t)i),
		                 0);
	key_from_byte(&k, 99);
	assert_int_equal(mu_tally_set(&t, k.pk, 1), MU_EFULL);
	/* A group with a run gets its new people on its last run. */
	assert_int_equal(mu_tally_set(&t, C.pk, 3), 0);
	share(&t, &C, 0, 3);
	assert_int_equal(t.nruns, MU_TALLY_MAX);
}

static void
test_tally_record(void **state)
{
	struct mu_tally t, u;
	struct mu_record r, p;
	struct mu_why why = {0};
	uint8_t *raw;

	(void)state;
	mu_tally_init(&t, 30);
	mu_tally_set(&t, A.pk, 20);
	mu_tally_set(&t, B.pk, 20);
	base(&r, &G, MU_KIND_TALLY, "");
	addr(&r.c.tally.event, &G, MU_KIND_EVENT, "assembly");
	mu_rec_addr_d(&r.c.tally.event, dbuf[0]);
	r.d = S(dbuf[0]);
	mu_tally_to_rec(&t, &r.c.tally);
	assert_int_equal(build(&r, &G, &p, &raw, &why), 0);
	assert_int_equal(mu_tally_from_rec(&u, &p, &why), 0);
	assert_int_equal(u.capacity, 30);
	share(&u, &A, 20, 0);
	share(&u, &B, 10, 10);
	free(raw);
	rsvp(&r, &A, 1, 1);
	assert_int_equal(mu_tally_from_rec(&u, &r, &why), MU_ERECORD);
}

/* ---- the pledge trigger -------------------------------------------------- */

static void
pledged(struct mu_record *r, const struct key *k, const struct mu_record *pl,
        uint32_t count, bool as_group, int slot)
{
	base(r, k, MU_KIND_PLEDGED, "");
	mu_rec_addr(pl, &r->c.pledged.pledge);
	mu_rec_addr_d(&r->c.pledged.pledge, dbuf[slot]);
	r->d = S(dbuf[slot]);
	r->c.pledged.count = count;
	r->c.pledged.as_group = as_group;
}

/* The scope of G's pledges: G and its allies A and B. */
static void
scope_gab(uint8_t scope[3][MU_KEY_BYTES])
{
	memcpy(scope[0], G.pk, MU_KEY_BYTES);
	memcpy(scope[1], A.pk, MU_KEY_BYTES);
	memcpy(scope[2], B.pk, MU_KEY_BYTES);
}

static void
test_pledge_trigger(void **state)
{
	struct mu_record pl, r[4];
	const struct mu_record *v[4] = {&r[0], &r[1], &r[2], &r[3]};
	uint8_t scope[3][MU_KEY_BYTES];
	struct mu_pledge_state st;

	(void)state;
	pledge(&pl, 40, MU_PLEDGE_PEOPLE);
	scope_gab(scope);
	pledged(&r[0], &G, &pl, 13, false, 0);
	pledged(&r[1], &A, &pl, 13, false, 1);
	pledged(&r[2], &B, &pl, 13, false, 2);
	mu_pledge_eval(&pl, v, 3, scope, 3, &st);
	assert_int_equal(st.people, 39);
	assert_int_equal(st.counted, 3);
	assert_false(st.triggered);

	/* B's newer revision replaces its count; it is not added to it. */
	pledged(&r[3], &B, &pl, 14, false, 3);
	r[3].rev = 1;
	mu_pledge_eval(&pl, v, 4, scope, 3, &st);
	assert_int_equal(st.people, 40);
	assert_int_equal(st.counted, 3);
	assert_true(st.triggered);

	/* Made after the deadline, it does not count: the older one does. */
	r[3].created_at = pl.c.pledge.deadline + 1;
	mu_pledge_eval(&pl, v, 4, scope, 3, &st);
	assert_int_equal(st.people, 39);
	assert_false(st.triggered);
	/* At the deadline exactly, it counts. */
	r[3].created_at = pl.c.pledge.deadline;
	mu_pledge_eval(&pl, v, 4, scope, 3, &st);
	assert_true(st.triggered);

	/* A group out of scope counts for nothing. */
	mu_pledge_eval(&pl, v, 4, scope, 2, &st);
	assert_int_equal(st.people, 26);
	/* A record for another pledge counts for nothing. */
	r[0].c.pledged.pledge.d = S("other");
	mu_pledge_eval(&pl, v, 4, scope, 3, &st);
	assert_int_equal(st.people, 27);
}

/* A pledge whose record holds `triggered` stays triggered when the counts
 * drop below its threshold; without it, it does not. */
static void
test_pledge_triggered_holds(void **state)
{
	struct mu_record pl, r[2];
	const struct mu_record *v[2] = {&r[0], &r[1]};
	uint8_t scope[3][MU_KEY_BYTES];
	struct mu_pledge_state st;

	(void)state;
	pledge(&pl, 40, MU_PLEDGE_PEOPLE);
	scope_gab(scope);
	pledged(&r[0], &G, &pl, 20, false, 0);
	pledged(&r[1], &A, &pl, 20, false, 1);
	mu_pledge_eval(&pl, v, 2, scope, 2, &st);
	assert_true(st.reached);
	assert_true(st.triggered);
	/* A lowers its count after the trigger. */
	r[1].c.pledged.count = 5;
	mu_pledge_eval(&pl, v, 2, scope, 2, &st);
	assert_false(st.triggered);
	pl.c.pledge.has_triggered = true;
	pl.c.pledge.triggered = T0 + 10;
	mu_pledge_eval(&pl, v, 2, scope, 2, &st);
	assert_int_equal(st.total, 25);
	assert_false(st.reached);
	assert_true(st.triggered);
	/* Even with no pledged record at all. */
	mu_pledge_eval(&pl, v, 0, scope, 2, &st);
	assert_true(st.triggered);
}

static void
test_pledge_groups(void **state)
{
	struct mu_record pl, r[3];
	const struct mu_record *v[3] = {&r[0], &r[1], &r[2]};
	uint8_t scope[3][MU_KEY_BYTES];
	struct mu_pledge_state st;

	(void)state;
	/* "We strike if 3 allied groups do." */
	pledge(&pl, 3, MU_PLEDGE_GROUPS);
	scope_gab(scope);
	pledged(&r[0], &G, &pl, 0, true, 0);
	pledged(&r[1], &A, &pl, 500, false, 1);
	pledged(&r[2], &B, &pl, 2, true, 2);
	mu_pledge_eval(&pl, v, 3, scope, 3, &st);
	assert_int_equal(st.groups, 2);
	assert_int_equal(st.total, 2);
	assert_false(st.triggered);
	r[1].c.pledged.as_group = true;
	mu_pledge_eval(&pl, v, 3, scope, 3, &st);
	assert_int_equal(st.total, 3);
	assert_int_equal(st.people, 502);
	assert_true(st.triggered);
}

static void
test_pledged_record(void **state)
{
	struct mu_record pl, r, p;
	struct mu_why why = {0};
	uint8_t *raw;

	(void)state;
	pledge(&pl, 40, MU_PLEDGE_PEOPLE);
	pledged(&r, &A, &pl, 12, true, 0);
	assert_int_equal(build(&r, &A, &p, &raw, &why), 0);
	assert_int_equal(p.c.pledged.count, 12);
	assert_true(p.c.pledged.as_group);
	free(raw);
	r.d = S(dbuf[5]);
	mu_rec_addr_d(&r.c.rsvp.event, dbuf[5]); /* some other digest */
	dbuf[5][0] = dbuf[0][0] == 'a' ? 'b' : 'a';
	assert_rule(build(&r, &A, NULL, &raw, &why), MU_ERECORD, &why, "d-form");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_d),
	    cmocka_unit_test(test_rsvp_rules),
	    cmocka_unit_test(test_tally_rules),
	    cmocka_unit_test(test_petition_signatures_rules),
	    cmocka_unit_test(test_pledge_rules),
	    cmocka_unit_test(test_tally_order),
	    cmocka_unit_test(test_tally_full),
	    cmocka_unit_test(test_tally_record),
	    cmocka_unit_test(test_pledge_trigger),
	    cmocka_unit_test(test_pledge_triggered_holds),
	    cmocka_unit_test(test_pledge_groups),
	    cmocka_unit_test(test_pledged_record),
	};

	if (sodium_init() < 0)
		return 1;
	key_from_byte(&G, 1);
	key_from_byte(&A, 2);
	key_from_byte(&B, 3);
	key_from_byte(&C, 4);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
