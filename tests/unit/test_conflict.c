/*
 * storage/store_conflict.c and the past table: two edits of one revision
 * are found whichever arrives first, merged against the revision both
 * started from, and the merge is the same record on every node.
 */
#define _XOPEN_SOURCE 700 /* nftw, for the fixture's rm_tree */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/kind.h"
#include "storage/conflict.h"
#include "storage/store.h"
#include "store_fixture.h"

/* A profile of g: rev, made at NOW - 800 + at, an edit of base (or none). */
static const struct mu_record *
prof(const struct grp *g, uint32_t rev, int at, const struct mu_record *base,
     const char *name, const char *about, const char *website)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_PROFILE;
	r.rev = rev;
	r.created_at = NOW - 800 + at;
	r.d = S("");
	r.c.profile.name = S(name);
	r.c.profile.about = S(about);
	r.c.profile.website = S(website);
	if (base != NULL) {
		r.has_replaces = true;
		memcpy(r.replaces, base->id, MU_ID_BYTES);
	}
	return finish(&r, g);
}

static struct mu_addr
addr_of(const struct grp *g)
{
	struct mu_addr a;

	memset(&a, 0, sizeof(a));
	memcpy(a.group, g->pk, MU_KEY_BYTES);
	a.kind = MU_KIND_PROFILE;
	a.d = S("");
	return a;
}

static size_t
resolve(struct mu_store *st, const struct grp *g)
{
	struct mu_why why = {0};
	size_t n = 0;

	if (mu_store_conflict_resolve(st, g->pk, g->pk, g->sk, NOW, &n, &why) != 0)
		fail_msg("resolve: %s", why.text);
	return n;
}

/* The current version's bytes, copied. */
struct copy {
	uint8_t raw[MU_RECORD_MAX];
	size_t len;
	struct mu_record rec;
};

static int
copy_rec(void *ctx, const struct mu_record *rec)
{
	struct copy *c = ctx;

	memcpy(c->raw, rec->raw, rec->raw_len);
	c->len = rec->raw_len;
	c->rec = *rec;
	mu_rec_move(&c->rec, c->raw);
	return 0;
}

static void
current(struct mu_store *st, const struct grp *g, struct copy *c)
{
	struct mu_addr a = addr_of(g);

	assert_int_equal(mu_store_get_addr(st, &a, copy_rec, c), 0);
}

static void
assert_str(struct mu_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.ptr, want, s.len);
}

/* Each side's field merges; the merge is published once, then resolved. */
static void
test_merge_published(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[0];
	const struct mu_record *base, *a, *b;
	struct mu_store_conflict c;
	struct mu_addr addr = addr_of(g);
	struct mu_why why = {0};
	struct copy cur;

	base = prof(g, 4, 0, NULL, "Tenants", "We organize", "https://a.example");
	a = prof(g, 5, 10, base, "Tenants United", "We organize", "https://a.example");
	b = prof(g, 5, 20, base, "Tenants", "We organize", "https://b.example");
	assert_int_equal(put1(fx->st, base), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, a), MU_PUT_NEW);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), MU_ENOTFOUND);
	assert_int_equal(put1(fx->st, b), MU_PUT_NEW); /* later: wins */
	reopen(fx, NULL);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_false(c.merged);
	assert_true(c.has_base);
	assert_memory_equal(c.winner.id, b->id, MU_ID_BYTES);
	assert_memory_equal(c.loser.id, a->id, MU_ID_BYTES);
	assert_memory_equal(c.base.id, base->id, MU_ID_BYTES);
	assert_true(c.m.changed);
	mu_store_conflict_free(&c);

	assert_int_equal(resolve(fx->st, g), 1);
	current(fx->st, g, &cur);
	assert_int_equal(cur.rec.rev, 6);
	assert_int_equal(cur.rec.created_at, NOW - 800 + 21);
	assert_str(cur.rec.c.profile.name, "Tenants United");
	assert_str(cur.rec.c.profile.website, "https://b.example");
	assert_memory_equal(cur.rec.replaces, b->id, MU_ID_BYTES);

	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_true(c.merged);
	assert_memory_equal(c.current.id, cur.rec.id, MU_ID_BYTES);
	mu_store_conflict_free(&c);
	assert_int_equal(resolve(fx->st, g), 0);
}

/* Another node that saw the other side first makes the same record. */
static void
test_same_on_every_node(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[1];
	const struct mu_record *base, *a, *b;
	struct mu_store *other = NULL;
	struct mu_why why = {0};
	struct copy c1, c2;
	char dir[64];

	strcpy(dir, "/tmp/mu-conflict-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (mu_store_open(&other, dir, NULL, &why) != 0)
		fail_msg("open: %s", why.text);
	base = prof(g, 1, 0, NULL, "Group", "About", "https://x.example");
	a = prof(g, 2, 50, base, "Group", "New about", "https://x.example");
	b = prof(g, 2, 30, base, "Renamed", "About", "https://x.example");
	put1(fx->st, base);
	put1(fx->st, a);
	assert_int_equal(put1(fx->st, b), MU_PUT_SUPERSEDED);
	put1(other, base);
	put1(other, b);
	assert_int_equal(put1(other, a), MU_PUT_NEW);
	assert_int_equal(resolve(fx->st, g), 1);
	assert_int_equal(resolve(other, g), 1);
	current(fx->st, g, &c1);
	current(other, g, &c2);
	assert_int_equal(c1.len, c2.len);
	assert_memory_equal(c1.raw, c2.raw, c1.len);
	assert_str(c1.rec.c.profile.name, "Renamed");
	assert_str(c1.rec.c.profile.about, "New about");
	mu_store_close(other);
	rm_tree(dir);
}

/* Both changed one field: the winner's value, nothing to publish, and the
 * conflict still there to report. */
static void
test_both_changed(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[2];
	const struct mu_record *base, *a, *b;
	struct mu_store_conflict c;
	struct mu_addr addr = addr_of(g);
	struct mu_why why = {0};

	base = prof(g, 1, 0, NULL, "Group", "About", "https://x.example");
	a = prof(g, 2, 10, base, "Name A", "About", "https://x.example");
	b = prof(g, 2, 20, base, "Name B", "About", "https://x.example");
	put1(fx->st, base);
	put1(fx->st, b);
	put1(fx->st, a);
	assert_int_equal(resolve(fx->st, g), 0);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_false(c.merged);
	assert_false(c.m.changed);
	assert_int_equal(c.m.both, 1u << 3); /* name: about, contact, location, name */
	assert_str(c.current.c.profile.name, "Name B");
	mu_store_conflict_free(&c);
}

/* Without the base: reported, never merged. */
static void
test_without_base(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[3];
	const struct mu_record *base, *a, *b;
	struct mu_store_conflict c;
	struct mu_addr addr = addr_of(g);
	struct mu_why why = {0};

	base = prof(g, 1, 0, NULL, "Group", "About", "https://x.example");
	a = prof(g, 2, 10, base, "Name A", "About", "https://x.example");
	b = prof(g, 2, 20, base, "Group", "About B", "https://x.example");
	put1(fx->st, a);
	put1(fx->st, b);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_false(c.has_base);
	mu_store_conflict_free(&c);
	assert_int_equal(resolve(fx->st, g), 0);
}

/* A deleted address keeps no past revision; a store keeps at most
 * MU_PAST_PER_ADDR of one address (the newest). */
static void
test_bounds_and_delete(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[4];
	const struct mu_record *r[8], *b;
	struct mu_store_conflict c;
	struct mu_addr addr = addr_of(g);
	struct mu_why why = {0};
	uint32_t i;

	r[0] = prof(g, 1, 0, NULL, "G", "About", "https://x.example");
	put1(fx->st, r[0]);
	for (i = 1; i < 8; i++) {
		r[i] = prof(g, i + 1, (int)i, r[i - 1], "G", i % 2 ? "One" : "Two",
		            "https://x.example");
		put1(fx->st, r[i]);
	}
	/* An edit of r[1], seven revisions ago: its base is gone. */
	b = prof(g, 8, 100, r[6], "Other", "Two", "https://x.example");
	put1(fx->st, b);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_true(c.has_base);
	mu_store_conflict_free(&c);
	b = prof(g, 3, 100, r[1], "Other", "Two", "https://x.example");
	assert_int_equal(put1(fx->st, b), MU_PUT_SUPERSEDED);
	/* An edit of r[1] now is older than the 4 kept: not kept, no conflict
	 * to find. Deleting the address leaves nothing to merge. */
	assert_int_equal(put1(fx->st, del_addr(g, MU_KIND_PROFILE, "", NOW - 10)),
	                 MU_PUT_NEW);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), MU_ENOTFOUND);
}

/* Revisions that name none, as every record before `replaces`: never a
 * conflict, whatever order they come in. */
static void
test_old_records(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[5];
	struct mu_store_conflict c;
	struct mu_addr addr;
	struct mu_why why = {0};
	char hex[2 * MU_KEY_BYTES + 1];

	assert_int_equal(put1(fx->st, alliance(g, &fx->g[6], 2, MU_ALLIANCE_PROPOSED)),
	                 MU_PUT_NEW);
	assert_int_equal(put1(fx->st, alliance(g, &fx->g[6], 1, MU_ALLIANCE_ENDED)),
	                 MU_PUT_SUPERSEDED);
	assert_int_equal(put1(fx->st, alliance(g, &fx->g[6], 3, MU_ALLIANCE_ENDED)),
	                 MU_PUT_NEW);
	sodium_bin2hex(hex, sizeof(hex), fx->g[6].pk, MU_KEY_BYTES);
	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, g->pk, MU_KEY_BYTES);
	addr.kind = MU_KIND_ALLIANCE;
	addr.d = S(hex);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), MU_ENOTFOUND);
	assert_int_equal(resolve(fx->st, g), 0);
}

/* tmpl signed by signer for g's group. */
static const struct mu_record *
signed_by(struct mu_record *tmpl, const struct grp *g, const struct grp *signer)
{
	struct built *b = calloc(1, sizeof(*b));
	struct mu_why why = {0};

	assert_non_null(b);
	memcpy(tmpl->group, g->pk, MU_KEY_BYTES);
	memcpy(tmpl->signer, signer->pk, MU_KEY_BYTES);
	if (mu_rec_build_parsed(tmpl, signer->sk, NOW, &b->buf, &b->len, &b->rec,
	                        &why) != 0)
		fail_msg("build: %s", why.text);
	b->next = cur_fx->built;
	cur_fx->built = b;
	return &b->rec;
}

static const struct mu_record *
organizer(const struct grp *g, const struct grp *o, uint32_t rev,
          enum mu_organizer_status status)
{
	char hex[2 * MU_KEY_BYTES + 1];
	struct mu_record r;

	sodium_bin2hex(hex, sizeof(hex), o->pk, MU_KEY_BYTES);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_ORGANIZER;
	r.rev = rev;
	r.created_at = NOW - 900 + rev;
	r.d = S(hex);
	memcpy(r.c.organizer.key, o->pk, MU_KEY_BYTES);
	r.c.organizer.name = S("Sam");
	r.c.organizer.status = status;
	return signed_by(&r, g, g);
}

/* An edit by an organizer key revoked since is not merged back: kept as
 * the losing side, it stays out of any conflict once the key is revoked. */
static void
test_revoked_side(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = &fx->g[6], *o = &fx->g[7];
	const struct mu_record *base, *a;
	struct mu_store_conflict c;
	struct mu_addr addr = addr_of(g);
	struct mu_why why = {0};
	struct mu_record r;

	assert_int_equal(put1(fx->st, organizer(g, o, 0, MU_ORGANIZER_ACTIVE)),
	                 MU_PUT_NEW);
	base = prof(g, 1, 0, NULL, "Group", "About", "https://x.example");
	a = prof(g, 2, 10, base, "Renamed", "About", "https://x.example");
	put1(fx->st, base);
	put1(fx->st, a);
	r = *base;
	r.rev = 2;
	r.created_at = a->created_at - 5; /* loses to a */
	r.c.profile.about = S("About, by Sam");
	r.has_replaces = true;
	memcpy(r.replaces, base->id, MU_ID_BYTES);
	assert_int_equal(put1(fx->st, signed_by(&r, g, o)), MU_PUT_SUPERSEDED);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), 0);
	assert_memory_equal(c.loser.signer, o->pk, MU_KEY_BYTES);
	assert_true(c.m.changed);
	mu_store_conflict_free(&c);

	assert_int_equal(put1(fx->st, organizer(g, o, 1, MU_ORGANIZER_REVOKED)),
	                 MU_PUT_NEW);
	assert_int_equal(mu_store_conflict_get(fx->st, &addr, &c, &why), MU_ENOTFOUND);
	assert_int_equal(resolve(fx->st, g), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_merge_published, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_on_every_node, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_both_changed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_without_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounds_and_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_old_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoked_side, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
