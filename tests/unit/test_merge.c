/*
 * protocol/merge.c and the `replaces` field: every replaceable kind has
 * it, old records without it stay valid, and two edits of one revision
 * merge field by field, the same way whichever side a node sees first.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/kind.h"
#include "protocol/merge.h"
#include "rec_util.h"

#define START 1922727600LL /* 2030-12-05T19:00:00Z */

static struct key G, O;

/* A built, parsed record and its bytes, freed by put(). */
struct built {
	struct mu_record rec;
	uint8_t *bytes;
	size_t len;
};

static void
build(struct built *out, const struct mu_record *in, const struct key *k)
{
	struct mu_record r = *in;
	struct mu_why why = {0};
	int rc;

	memcpy(r.group, G.pk, MU_KEY_BYTES);
	memcpy(r.signer, k->pk, MU_KEY_BYTES);
	rc = mu_rec_build_parsed(&r, k->sk, T0 + 100000, &out->bytes, &out->len,
	                         &out->rec, &why);
	if (rc != 0)
		fail_msg("build: %d %s", rc, why.text);
}

static void
put(struct built *b)
{
	free(b->bytes);
}

static void
base_event(struct mu_record *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = MU_KIND_EVENT;
	r->d = S("meeting");
	r->rev = 4;
	r->created_at = T0;
	r->c.event.title = S("Open meeting");
	r->c.event.description = S("All welcome");
	r->c.event.start = START;
	r->c.event.status = MU_EVENT_CONFIRMED;
	r->c.event.location.set = true;
	r->c.event.location.name = S("Town hall");
	r->c.event.tags[0] = S("housing");
	r->c.event.ntags = 1;
}

/* An edit of base as the CLI makes one (cli/publish.c, mu_cli_next_rev). */
static void
edit_of(struct mu_record *r, const struct built *base, int64_t at)
{
	*r = base->rec;
	r->rev = base->rec.rev + 1;
	r->created_at = at;
	r->has_replaces = true;
	memcpy(r->replaces, base->rec.id, MU_ID_BYTES);
}

static size_t
field_index(enum mu_kind kind, const char *name)
{
	const struct mu_fields *t = mu_rec_fields(kind);
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->f[i].name, name) == 0)
			return i;
	fail_msg("no field %s", name);
	return 0;
}

#define BIT(name) (1u << field_index(MU_KIND_EVENT, name))

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	key_from_byte(&G, 1);
	key_from_byte(&O, 2);
	return 0;
}

/* Every replaceable kind has `replaces` (bin 32, optional), and only they. */
static void
test_every_replaceable_kind(void **state)
{
	const struct mu_fields *t;
	size_t i;
	int k, found;

	(void)state;
	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		t = mu_rec_fields((enum mu_kind)k);
		found = 0;
		for (i = 0; i < t->n; i++) {
			if (strcmp(t->f[i].name, "replaces") != 0)
				continue;
			found = 1;
			assert_int_equal(t->f[i].type, MU_FT_KEY);
			assert_false(t->f[i].flags & MU_FF_REQ);
		}
		assert_int_equal(found, mu_kind_replaceable((enum mu_kind)k));
	}
}

/* Written and read back; a record without it, as before, stays valid. */
static void
test_replaces_round_trip(void **state)
{
	struct built base, edit, again;
	struct mu_record r;
	struct mu_why why = {0};

	(void)state;
	base_event(&r);
	build(&base, &r, &G);
	assert_false(base.rec.has_replaces);

	edit_of(&r, &base, T0 + 10);
	build(&edit, &r, &G);
	assert_true(edit.rec.has_replaces);
	assert_memory_equal(edit.rec.replaces, base.rec.id, MU_ID_BYTES);
	assert_int_equal(mu_rec_parse(&again.rec, edit.bytes, edit.len, T0, 0, &why),
	                 0);
	assert_true(again.rec.has_replaces);
	assert_memory_equal(again.rec.replaces, base.rec.id, MU_ID_BYTES);
	/* Its key is written, as bin 32, in the body. */
	assert_non_null(memmem(edit.bytes, edit.len, "\xa8replaces\xc4\x20", 11));
	assert_null(memmem(base.bytes, base.len, "replaces", 8));
	put(&base);
	put(&edit);
}

/* Fields changed by one side only merge, whichever side wins. */
static void
test_one_side_each(void **state)
{
	struct built base, a, b, out;
	struct mu_record r, m1, m2;
	struct mu_merge m;

	(void)state;
	base_event(&r);
	build(&base, &r, &G);
	edit_of(&r, &base, T0 + 10);
	r.c.event.title = S("Open meeting: rents");
	r.c.event.capacity = 80;
	r.c.event.has_capacity = true;
	build(&a, &r, &G);
	edit_of(&r, &base, T0 + 20);
	r.c.event.location.name = S("Library");
	r.c.event.location.address = S("1 Main St");
	r.c.event.tags[1] = S("rent");
	r.c.event.ntags = 2;
	r.c.event.description.len = 0; /* removed */
	build(&b, &r, &O);

	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &b.rec, &m1, &m), 0);
	assert_ptr_equal(m.winner, &b.rec); /* same rev, later created_at */
	assert_int_equal(m.from_loser, BIT("title") | BIT("capacity"));
	assert_int_equal(m.from_winner,
	                 BIT("location") | BIT("tags") | BIT("description"));
	assert_int_equal(m.both, 0);
	assert_true(m.changed);
	assert_false(m.whole);
	assert_int_equal(m1.rev, 6);
	assert_int_equal(m1.created_at, T0 + 21);
	assert_memory_equal(m1.replaces, b.rec.id, MU_ID_BYTES);
	assert_memory_equal(m1.signer, O.pk, MU_KEY_BYTES);
	assert_int_equal(m1.c.event.title.len, strlen("Open meeting: rents"));
	assert_memory_equal(m1.c.event.title.ptr, "Open meeting: rents", 19);
	assert_int_equal(m1.c.event.capacity, 80);
	assert_true(m1.c.event.has_capacity);
	assert_memory_equal(m1.c.event.location.name.ptr, "Library", 7);
	assert_memory_equal(m1.c.event.location.address.ptr, "1 Main St", 9);
	assert_int_equal(m1.c.event.ntags, 2);
	assert_int_equal(m1.c.event.description.len, 0);
	assert_int_equal(m1.c.event.start, START);

	/* The same from the other side, to the byte once signed alike. */
	assert_int_equal(mu_rec_merge(&base.rec, &b.rec, &a.rec, &m2, &m), 0);
	build(&out, &m1, &G);
	{
		struct built out2;

		build(&out2, &m2, &G);
		assert_int_equal(out.len, out2.len);
		assert_memory_equal(out.bytes, out2.bytes, out.len);
		put(&out2);
	}
	put(&out);
	put(&base);
	put(&a);
	put(&b);
}

/* A field both changed keeps the winner's value, and says so. */
static void
test_both_changed(void **state)
{
	struct built base, a, b;
	struct mu_record r, out;
	struct mu_merge m;

	(void)state;
	base_event(&r);
	build(&base, &r, &G);
	edit_of(&r, &base, T0 + 30);
	r.c.event.title = S("Title from A");
	r.c.event.status = MU_EVENT_CANCELLED;
	build(&a, &r, &G);
	edit_of(&r, &base, T0 + 30);
	r.c.event.title = S("Title from B");
	r.c.event.status = MU_EVENT_CANCELLED;
	r.c.event.all_day = false;
	r.c.event.end = START + 3600;
	r.c.event.has_end = true;
	build(&b, &r, &O);

	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &b.rec, &out, &m), 0);
	/* Same rev and created_at: the lower id wins. */
	assert_ptr_equal(m.winner,
	                 memcmp(a.rec.id, b.rec.id, MU_ID_BYTES) < 0 ? &a.rec : &b.rec);
	assert_int_equal(m.both, BIT("title"));
	assert_int_equal(m.same, BIT("status"));
	assert_memory_equal(out.c.event.title.ptr, m.winner->c.event.title.ptr, 12);
	assert_int_equal(out.c.event.status, MU_EVENT_CANCELLED);
	assert_true(out.c.event.has_end);
	assert_int_equal(out.c.event.end, START + 3600);
	assert_int_equal(out.created_at, T0 + 31);
	put(&base);
	put(&a);
	put(&b);
}

/* Changes that break a rule across fields together: the winner whole. */
static void
test_rule_across_fields(void **state)
{
	struct built base, a, b;
	struct mu_record r, out;
	struct mu_merge m;

	(void)state;
	base_event(&r);
	r.c.event.end = START + 7200;
	r.c.event.has_end = true;
	build(&base, &r, &G);
	edit_of(&r, &base, T0 + 10);
	r.c.event.start = START + 10800; /* moved later, end kept */
	r.c.event.end = START + 14400;
	build(&a, &r, &G);
	edit_of(&r, &base, T0 + 20);
	r.c.event.end = START + 3600; /* shortened */
	r.c.event.title = S("Short meeting");
	build(&b, &r, &G);

	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &b.rec, &out, &m), 0);
	assert_ptr_equal(m.winner, &b.rec);
	assert_int_equal(m.both, BIT("end"));
	assert_int_equal(m.from_loser, BIT("start"));
	assert_true(m.whole);
	assert_false(m.changed);
	assert_int_equal(out.c.event.start, START);
	assert_int_equal(out.c.event.end, START + 3600);
	assert_int_equal(out.rev, 6);
	put(&base);
	put(&a);
	put(&b);
}

/* Two nodes that published the same merge: nothing more to publish. */
static void
test_equal_merges(void **state)
{
	struct built base, a, b, w, m1, m2;
	struct mu_record r, out;
	struct mu_merge m;

	(void)state;
	base_event(&r);
	build(&base, &r, &G);
	edit_of(&r, &base, T0 + 10);
	r.c.event.title = S("New title");
	build(&a, &r, &G);
	edit_of(&r, &base, T0 + 20);
	r.c.event.tz = S("Europe/Berlin");
	build(&b, &r, &O);
	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &b.rec, &out, &m), 0);
	build(&m1, &out, &G);
	build(&m2, &out, &O);
	assert_int_not_equal(memcmp(m1.rec.id, m2.rec.id, MU_ID_BYTES), 0);
	assert_true(mu_rec_conflicting(&m1.rec, &m2.rec));
	w = mu_rec_newer(&a.rec, &b.rec) > 0 ? a : b;
	assert_int_equal(mu_rec_merge(&w.rec, &m1.rec, &m2.rec, &out, &m), 0);
	assert_false(m.changed);
	assert_int_equal(m.from_loser | m.from_winner | m.both, 0);
	put(&base);
	put(&a);
	put(&b);
	put(&m1);
	put(&m2);
}

/* Not a conflict: refused. */
static void
test_not_a_conflict(void **state)
{
	struct built base, a, b, c;
	struct mu_record r, out;
	struct mu_merge m;

	(void)state;
	base_event(&r);
	build(&base, &r, &G);
	edit_of(&r, &base, T0 + 10);
	build(&a, &r, &G);
	edit_of(&r, &a, T0 + 20); /* replaces a, not base */
	build(&b, &r, &G);
	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &b.rec, &out, &m), MU_EINVAL);
	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &a.rec, &out, &m), MU_EINVAL);
	edit_of(&r, &base, T0 + 20);
	r.d = S("other");
	build(&c, &r, &G);
	assert_int_equal(mu_rec_merge(&base.rec, &a.rec, &c.rec, &out, &m), MU_EINVAL);
	assert_int_equal(mu_rec_merge(&a.rec, &a.rec, &c.rec, &out, &m), MU_EINVAL);
	put(&base);
	put(&a);
	put(&b);
	put(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_replaceable_kind),
	    cmocka_unit_test(test_replaces_round_trip),
	    cmocka_unit_test(test_one_side_each),
	    cmocka_unit_test(test_both_changed),
	    cmocka_unit_test(test_rule_across_fields),
	    cmocka_unit_test(test_equal_merges),
	    cmocka_unit_test(test_not_a_conflict),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
