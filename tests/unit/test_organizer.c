/*
 * The organizer kind (docs/PROTOCOL.md sections 3.7, 4 and 5): build and
 * parse round trip with every field, the keep list borrowed from the bytes,
 * each of its rules refused by name, its canonical key order, delegated
 * records of the other kinds, and the replacement order where a revoked
 * version beats an active one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/record.h"
#include "protocol/kind.h"
#include "rec_util.h"

static struct key G; /* the group's root key */
static struct key O; /* an organizer's key */

static char d_hex[2 * MU_KEY_BYTES + 1];

static void
hex(char *out, const uint8_t *p, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

static void
organizer(struct mu_record *r, enum mu_organizer_status status)
{
	memset(r, 0, sizeof(*r));
	r->kind = MU_KIND_ORGANIZER;
	memcpy(r->group, G.pk, MU_KEY_BYTES);
	memcpy(r->signer, G.pk, MU_KEY_BYTES);
	r->created_at = T0 - 100;
	hex(d_hex, O.pk, MU_KEY_BYTES);
	r->d = S(d_hex);
	r->rev = 1;
	memcpy(r->c.organizer.key, O.pk, MU_KEY_BYTES);
	r->c.organizer.name = S("Sam");
	r->c.organizer.status = status;
}

/* Builds r signed by sk at T0, expecting code (and rule unless 0). */
static void
expect(const struct mu_record *r, const uint8_t *sk, int code, const char *rule)
{
	struct mu_why why = {0};
	uint8_t *b = NULL;
	size_t n = 0;
	int rc = mu_rec_build(r, sk, T0, &b, &n, NULL, &why);

	free(b);
	if (code == 0) {
		if (rc != 0)
			fail_msg("build failed: %s", why.text);
		return;
	}
	assert_rule(rc, code, &why, rule);
}

static void
test_round_trip(void **state)
{
	uint8_t ids[3][MU_ID_BYTES], *bytes = NULL, *copy;
	struct mu_record in, out;
	struct mu_why why = {0};
	size_t len, i;

	(void)state;
	for (i = 0; i < 3; i++)
		memset(ids[i], 0x10 + (int)i, MU_ID_BYTES);
	organizer(&in, MU_ORGANIZER_REVOKED);
	in.c.organizer.kinds[0] = S("event");
	in.c.organizer.kinds[1] = S("cause");
	in.c.organizer.nkinds = 2;
	in.c.organizer.keep.ids = ids[0];
	in.c.organizer.keep.n = 3;
	in.c.organizer.keep.stride = MU_ID_BYTES;
	in.rev = 7;
	assert_int_equal(mu_rec_build(&in, G.sk, T0, &bytes, &len, NULL, &why), 0);
	assert_int_equal(mu_rec_parse(&out, bytes, len, T0, 0, &why), 0);
	assert_int_equal(out.kind, MU_KIND_ORGANIZER);
	assert_memory_equal(out.c.organizer.key, O.pk, MU_KEY_BYTES);
	assert_int_equal(out.c.organizer.status, MU_ORGANIZER_REVOKED);
	assert_int_equal(out.c.organizer.name.len, 3);
	assert_memory_equal(out.c.organizer.name.ptr, "Sam", 3);
	assert_int_equal(out.c.organizer.nkinds, 2);
	assert_memory_equal(out.c.organizer.kinds[1].ptr, "cause", 5);
	/* keep borrows the bytes: each item `c4 20 <id>`. */
	assert_int_equal(out.c.organizer.keep.n, 3);
	assert_int_equal(out.c.organizer.keep.stride, 2 + MU_ID_BYTES);
	assert_true(out.c.organizer.keep.ids > bytes &&
	            out.c.organizer.keep.ids < bytes + len);
	for (i = 0; i < 3; i++) {
		assert_memory_equal(mu_idlist_at(&out.c.organizer.keep, i), ids[i],
		                    MU_ID_BYTES);
		assert_int_equal(mu_idlist_at(&out.c.organizer.keep, i)[-2], 0xc4);
		assert_int_equal(mu_idlist_at(&out.c.organizer.keep, i)[-1], 32);
		assert_true(mu_idlist_has(&out.c.organizer.keep, ids[i]));
	}
	assert_false(mu_idlist_has(&out.c.organizer.keep, O.pk));
	assert_string_equal(mu_organizer_status_name(out.c.organizer.status),
	                    "revoked");

	/* Moved to a copy of its bytes, the list follows. */
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, bytes, len);
	mu_rec_move(&out, copy);
	memset(bytes, 0, len);
	assert_true(out.c.organizer.keep.ids > copy &&
	            out.c.organizer.keep.ids < copy + len);
	assert_memory_equal(mu_idlist_at(&out.c.organizer.keep, 2), ids[2],
	                    MU_ID_BYTES);
	free(copy);
	free(bytes);
}

/* The keys in the order the table says are the canonical order. */
static void
test_canonical_order(void **state)
{
	static const char *const order[] = {"keep", "key",      "kinds",
	                                    "name", "replaces", "status"};
	const struct mu_fields *t = mu_rec_fields(MU_KIND_ORGANIZER);
	struct mu_record rec;
	struct mu_why why = {0};
	uint8_t id[MU_ID_BYTES];
	struct w body;
	size_t i;

	(void)state;
	assert_int_equal(t->n, 6);
	for (i = 0; i < t->n; i++)
		assert_string_equal(t->f[i].name, order[i]);

	/* By hand, in order: parses. Out of order: rule canonical. */
	memset(id, 0x44, sizeof(id));
	hex(d_hex, O.pk, MU_KEY_BYTES);
	body.n = 0;
	w_header(&body, "organizer", G.pk, G.pk, T0, d_hex, 1);
	w_map(&body, 4);
	w_str(&body, "keep");
	w_arr(&body, 1);
	w_bin(&body, id, sizeof(id));
	w_str(&body, "key");
	w_bin(&body, O.pk, MU_KEY_BYTES);
	w_str(&body, "name");
	w_str(&body, "Sam");
	w_str(&body, "status");
	w_str(&body, "revoked");
	assert_int_equal(w_parse(&body, G.sk, &rec, &why), 0);
	assert_true(mu_idlist_has(&rec.c.organizer.keep, id));

	body.n = 0;
	w_header(&body, "organizer", G.pk, G.pk, T0, d_hex, 1);
	w_map(&body, 3);
	w_str(&body, "key");
	w_bin(&body, O.pk, MU_KEY_BYTES);
	w_str(&body, "status");
	w_str(&body, "active");
	w_str(&body, "name");
	w_str(&body, "Sam");
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");

	/* A keep item that is not a bin of 32. */
	body.n = 0;
	w_header(&body, "organizer", G.pk, G.pk, T0, d_hex, 1);
	w_map(&body, 4);
	w_str(&body, "keep");
	w_arr(&body, 1);
	w_bin(&body, id, 31);
	w_str(&body, "key");
	w_bin(&body, O.pk, MU_KEY_BYTES);
	w_str(&body, "name");
	w_str(&body, "Sam");
	w_str(&body, "status");
	w_str(&body, "revoked");
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");
}

static void
test_rules(void **state)
{
	static uint8_t many[MU_KEEP_MAX + 1][MU_ID_BYTES];
	struct mu_record r;

	(void)state;
	organizer(&r, MU_ORGANIZER_ACTIVE);
	expect(&r, G.sk, 0, NULL);

	/* organizer-root: an organizer cannot name organizers. */
	memcpy(r.signer, O.pk, MU_KEY_BYTES);
	expect(&r, O.sk, MU_ERECORD, "organizer-root");

	/* organizer-self: the root key is no organizer of its own group. */
	organizer(&r, MU_ORGANIZER_ACTIVE);
	memcpy(r.c.organizer.key, G.pk, MU_KEY_BYTES);
	hex(d_hex, G.pk, MU_KEY_BYTES);
	expect(&r, G.sk, MU_ERECORD, "organizer-self");

	/* d-form: d spells key. */
	organizer(&r, MU_ORGANIZER_ACTIVE);
	r.d = S("sam");
	expect(&r, G.sk, MU_ERECORD, "d-form");

	/* organizer-kinds: a kind that exists, never organizer, once. */
	organizer(&r, MU_ORGANIZER_ACTIVE);
	r.c.organizer.kinds[0] = S("organizer");
	r.c.organizer.nkinds = 1;
	expect(&r, G.sk, MU_ERECORD, "organizer-kinds");
	r.c.organizer.kinds[0] = S("motion");
	expect(&r, G.sk, MU_ERECORD, "organizer-kinds");
	r.c.organizer.kinds[0] = S("event");
	r.c.organizer.kinds[1] = S("event");
	r.c.organizer.nkinds = 2;
	expect(&r, G.sk, MU_ERECORD, "organizer-kinds");
	r.c.organizer.nkinds = 1;
	expect(&r, G.sk, 0, NULL);

	/* organizer-keep: only a revocation keeps anything. */
	organizer(&r, MU_ORGANIZER_ACTIVE);
	r.c.organizer.keep.ids = many[0];
	r.c.organizer.keep.n = 1;
	r.c.organizer.keep.stride = MU_ID_BYTES;
	expect(&r, G.sk, MU_ERECORD, "organizer-keep");
	r.c.organizer.status = MU_ORGANIZER_REVOKED;
	expect(&r, G.sk, 0, NULL);
	r.c.organizer.keep.n = MU_KEEP_MAX;
	expect(&r, G.sk, 0, NULL);
	r.c.organizer.keep.n = MU_KEEP_MAX + 1;
	expect(&r, G.sk, MU_ERECORD, "field-length");

	/* required */
	organizer(&r, MU_ORGANIZER_ACTIVE);
	r.c.organizer.name = S("");
	expect(&r, G.sk, MU_ERECORD, "required");
	organizer(&r, (enum mu_organizer_status)0);
	expect(&r, G.sk, MU_ERECORD, "required");
}

/* Any other kind may be signed by a key that is not the group's: the
 * store decides whether that key speaks for the group. */
static void
test_delegated_parse(void **state)
{
	struct mu_record r, out;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	memcpy(r.group, G.pk, MU_KEY_BYTES);
	memcpy(r.signer, O.pk, MU_KEY_BYTES);
	r.created_at = T0;
	r.d = S("e1");
	r.c.event.title = S("Picnic");
	r.c.event.start = T0 + 86400;
	r.c.event.status = MU_EVENT_CONFIRMED;
	assert_int_equal(mu_rec_build(&r, O.sk, T0, &bytes, &len, NULL, &why), 0);
	assert_int_equal(mu_rec_parse(&out, bytes, len, T0, 0, &why), 0);
	assert_memory_equal(out.signer, O.pk, MU_KEY_BYTES);
	free(bytes);
	/* ... and signed by the root while naming the organizer: no. */
	assert_int_equal(mu_rec_build(&r, G.sk, T0, &bytes, &len, NULL, &why), MU_ESIG);
}

static void
test_allows(void **state)
{
	struct mu_record o;

	(void)state;
	organizer(&o, MU_ORGANIZER_ACTIVE);
	assert_true(mu_organizer_allows(&o, MU_KIND_EVENT));
	assert_true(mu_organizer_allows(&o, MU_KIND_DELETE));
	assert_false(mu_organizer_allows(&o, MU_KIND_ORGANIZER));
	o.c.organizer.kinds[0] = S("cause");
	o.c.organizer.nkinds = 1;
	assert_true(mu_organizer_allows(&o, MU_KIND_CAUSE));
	assert_false(mu_organizer_allows(&o, MU_KIND_EVENT));
	o.c.organizer.nkinds = 0;
	o.c.organizer.status = MU_ORGANIZER_REVOKED;
	assert_false(mu_organizer_allows(&o, MU_KIND_EVENT));
}

/* Revocation is final: a revoked version wins whatever the revs. */
static void
test_newer(void **state)
{
	struct mu_record a, r;

	(void)state;
	organizer(&a, MU_ORGANIZER_ACTIVE);
	organizer(&r, MU_ORGANIZER_REVOKED);
	a.rev = 9;
	r.rev = 2;
	memset(a.id, 1, MU_ID_BYTES);
	memset(r.id, 2, MU_ID_BYTES);
	assert_true(mu_rec_newer(&r, &a) > 0);
	assert_true(mu_rec_newer(&a, &r) < 0);
	/* Same status: the usual order. */
	r.c.organizer.status = MU_ORGANIZER_ACTIVE;
	assert_true(mu_rec_newer(&a, &r) > 0);
}

/* Senders put organizer records first by their first bytes alone. */
static void
test_raw_is_kind(void **state)
{
	struct mu_record r;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	organizer(&r, MU_ORGANIZER_ACTIVE);
	assert_int_equal(mu_rec_build(&r, G.sk, T0, &bytes, &len, NULL, &why), 0);
	assert_true(mu_rec_raw_is_kind(bytes, len, MU_KIND_ORGANIZER));
	assert_false(mu_rec_raw_is_kind(bytes, len, MU_KIND_EVENT));
	assert_false(mu_rec_raw_is_kind(bytes, 8, MU_KIND_ORGANIZER));
	assert_false(mu_rec_raw_is_kind(bytes, len, MU_KIND_NONE));
	free(bytes);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_PROFILE;
	memcpy(r.group, G.pk, MU_KEY_BYTES);
	memcpy(r.signer, G.pk, MU_KEY_BYTES);
	r.created_at = T0;
	r.c.profile.name = S("A group with a long enough name");
	assert_int_equal(mu_rec_build(&r, G.sk, T0, &bytes, &len, NULL, &why), 0);
	assert_true(mu_rec_raw_is_kind(bytes, len, MU_KIND_PROFILE));
	assert_false(mu_rec_raw_is_kind(bytes, len, MU_KIND_ORGANIZER));
	free(bytes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_canonical_order),
	    cmocka_unit_test(test_rules),       cmocka_unit_test(test_delegated_parse),
	    cmocka_unit_test(test_allows),      cmocka_unit_test(test_newer),
	    cmocka_unit_test(test_raw_is_kind),
	};

	if (sodium_init() < 0)
		return 1;
	key_from_byte(&G, 1);
	key_from_byte(&O, 3);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
