/*
 * The personal entries table (storage/entries.h) on real LMDB files:
 * receipts, positions, change and withdrawal, removal, retention, and
 * `muster check` of the table.
 */
#define _GNU_SOURCE /* memmem(), and nftw() for the fixture */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>

#include "storage/entries.h"
#include "storage/store_check.h"
#include "storage/store.h"

#include "store_fixture.h"

/* The fixture's record builders, which these tests do not need. */
static void __attribute__((used)) fixture_unused(void)
{
	(void)put1;
	(void)del_addr;
	(void)alliance;
	(void)reopen;
}

static void
rsvp(struct mu_entry *e, const struct grp *g, const char *d, const char *name,
     uint32_t party, int64_t ends)
{
	memset(e, 0, sizeof(*e));
	e->type = MU_ENTRY_RSVP;
	e->target.kind = MU_KIND_EVENT;
	memcpy(e->target.group, g->pk, MU_KEY_BYTES);
	snprintf(e->d, sizeof(e->d), "%s", d);
	mu_entry_fix(e);
	e->going = true;
	e->party = party;
	e->created_at = NOW;
	e->ends_at = ends;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->contact, sizeof(e->contact), "%s@example.org", name);
}

struct got {
	size_t n;
	uint64_t pos[16];
	char names[16][MU_ENTRY_NAME_MAX + 1];
};

static int
collect(void *ctx, const struct mu_entry *e)
{
	struct got *g = ctx;

	assert_true(g->n < 16);
	g->pos[g->n] = e->pos;
	snprintf(g->names[g->n], sizeof(g->names[0]), "%s", e->name);
	g->n++;
	return 0;
}

static int
on_problem(void *ctx, const char *db, const char *text)
{
	(*(int *)ctx)++;
	print_message("problem: %s: %s\n", db, text);
	return 0;
}

static void
check_clean(struct mu_store *st)
{
	struct mu_store_check_stats stats;
	struct mu_why why = {0};
	int problems = 0;

	assert_int_equal(mu_store_check(st, on_problem, &problems, &stats, &why), 0);
	assert_int_equal(problems, 0);
}

/* Entries of one target come in order of signing up; a receipt finds its
 * entry, and a receipt text reads back to the same secret. */
static void
test_add_get(void **state)
{
	struct fx *fx = *state;
	uint8_t s1[MU_RECEIPT_BYTES], s2[MU_RECEIPT_BYTES], s3[MU_RECEIPT_BYTES],
	    back[MU_RECEIPT_BYTES];
	char text[MU_RECEIPT_TEXT_SIZE];
	struct mu_entry e, got;
	struct got g = {0};

	rsvp(&e, &fx->g[0], "assembly", "Ada", 2, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s1), 0);
	assert_int_equal(e.pos, 1);
	rsvp(&e, &fx->g[0], "assembly", "Bo", 1, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s2), 0);
	assert_int_equal(e.pos, 2);
	/* A d that starts with the other's is another target. */
	rsvp(&e, &fx->g[0], "assemblyx", "Cy", 1, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s3), 0);
	assert_int_equal(e.pos, 1);

	rsvp(&e, &fx->g[0], "assembly", "", 1, 0);
	assert_int_equal(mu_entries(fx->st, &e.target, collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "Ada");
	assert_string_equal(g.names[1], "Bo");

	assert_int_equal(mu_entry_get(fx->st, s2, &got), 0);
	assert_string_equal(got.name, "Bo");
	assert_string_equal(got.contact, "Bo@example.org");
	assert_string_equal(got.d, "assembly");
	assert_int_equal(got.party, 1);
	assert_true(got.going);

	mu_receipt_to_text(text, s1);
	assert_int_equal(strlen(text), 32);
	assert_int_equal(mu_receipt_from_text(back, text), 0);
	assert_memory_equal(back, s1, MU_RECEIPT_BYTES);
	assert_int_equal(mu_receipt_from_text(back, "zz"), MU_EINVAL);
	text[5] = 'G';
	assert_int_equal(mu_receipt_from_text(back, text), MU_EINVAL);

	/* A secret never given finds nothing. */
	memset(back, 7, sizeof(back));
	assert_int_equal(mu_entry_get(fx->st, back, &got), MU_ENOTFOUND);
	check_clean(fx->st);
}

/* The store holds no receipt secret: only its hash. */
static void
test_secret_not_stored(void **state)
{
	struct fx *fx = *state;
	uint8_t s[MU_RECEIPT_BYTES];
	char text[MU_RECEIPT_TEXT_SIZE], path[128];
	struct mu_entry e;
	FILE *f;
	size_t n;
	char *data;

	rsvp(&e, &fx->g[0], "assembly", "Ada", 1, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s), 0);
	mu_receipt_to_text(text, s);
	mu_store_close(fx->st);
	fx->st = NULL;
	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	data = malloc(64 << 20);
	assert_non_null(data);
	n = fread(data, 1, 64 << 20, f);
	fclose(f);
	assert_true(n > 0);
	assert_null(memmem(data, n, s, sizeof(s)));
	assert_null(memmem(data, n, text, strlen(text)));
	/* The name is there: it is what the organizers see. */
	assert_non_null(memmem(data, n, "Ada", 3));
	free(data);
	struct mu_why why = {0};
	assert_int_equal(mu_store_open(&fx->st, fx->dir, NULL, &why), 0);
}

/* A change keeps the place in line; turning to going again takes the end
 * of it; a withdrawal deletes entry and receipt. */
static void
test_change_withdraw(void **state)
{
	struct fx *fx = *state;
	uint8_t s1[MU_RECEIPT_BYTES], s2[MU_RECEIPT_BYTES];
	struct mu_entry e, got;
	struct got g = {0};

	rsvp(&e, &fx->g[1], "m", "Ada", 1, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s1), 0);
	rsvp(&e, &fx->g[1], "m", "Bo", 1, NOW + 3600);
	assert_int_equal(mu_entry_add(fx->st, &e, s2), 0);

	assert_int_equal(mu_entry_get(fx->st, s1, &got), 0);
	got.party = 3;
	assert_int_equal(mu_entry_change(fx->st, s1, &got), 0);
	assert_int_equal(got.pos, 1);
	got.going = false;
	assert_int_equal(mu_entry_change(fx->st, s1, &got), 0);
	assert_int_equal(got.pos, 1);
	got.going = true;
	assert_int_equal(mu_entry_change(fx->st, s1, &got), 0);
	assert_int_equal(got.pos, 3);
	assert_int_equal(mu_entry_get(fx->st, s1, &got), 0);
	assert_int_equal(got.pos, 3);
	assert_int_equal(got.party, 3);
	got.party = MU_ENTRY_PARTY_MAX + 1;
	assert_int_equal(mu_entry_change(fx->st, s1, &got), MU_EINVAL);

	assert_int_equal(mu_entries(fx->st, &e.target, collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "Bo");
	assert_string_equal(g.names[1], "Ada");

	assert_int_equal(mu_entry_withdraw(fx->st, s2), 0);
	assert_int_equal(mu_entry_get(fx->st, s2, &got), MU_ENOTFOUND);
	assert_int_equal(mu_entry_withdraw(fx->st, s2), MU_ENOTFOUND);
	/* The organizer's removal, by position. */
	assert_int_equal(mu_entry_remove(fx->st, &e.target, 3), 0);
	assert_int_equal(mu_entry_get(fx->st, s1, &got), MU_ENOTFOUND);
	assert_int_equal(mu_entry_remove(fx->st, &e.target, 3), MU_ENOTFOUND);
	check_clean(fx->st);
}

/* Out-of-bounds fields are refused, nothing stored. */
static void
test_bounds(void **state)
{
	struct fx *fx = *state;
	uint8_t s[MU_RECEIPT_BYTES];
	struct mu_entry e;
	struct got g = {0};

	rsvp(&e, &fx->g[2], "x", "Ada", 0, NOW);
	assert_int_equal(mu_entry_add(fx->st, &e, s), MU_EINVAL);
	rsvp(&e, &fx->g[2], "x", "Ada", MU_ENTRY_PARTY_MAX + 1, NOW);
	assert_int_equal(mu_entry_add(fx->st, &e, s), MU_EINVAL);
	rsvp(&e, &fx->g[2], "x", "Ada", 1, NOW);
	e.type = (enum mu_entry_type)9;
	assert_int_equal(mu_entry_add(fx->st, &e, s), MU_EINVAL);
	assert_int_equal(mu_entries(fx->st, &e.target, collect, &g), 0);
	assert_int_equal(g.n, 0);
}

/* Entries go keep_s after their target's end, by the stored end or by the
 * end the caller gives for a target moved since; check stays clean. */
static void
test_expire(void **state)
{
	struct fx *fx = *state;
	uint8_t s[4][MU_RECEIPT_BYTES];
	struct mu_entry e, got;
	uint64_t removed = 0;
	int64_t day = 86400;

	rsvp(&e, &fx->g[3], "old", "Ada", 1, NOW - 31 * day);
	assert_int_equal(mu_entry_add(fx->st, &e, s[0]), 0);
	rsvp(&e, &fx->g[3], "recent", "Bo", 1, NOW - 29 * day);
	assert_int_equal(mu_entry_add(fx->st, &e, s[1]), 0);
	rsvp(&e, &fx->g[3], "moved", "Cy", 1, NOW - 40 * day);
	assert_int_equal(mu_entry_add(fx->st, &e, s[2]), 0);
	rsvp(&e, &fx->g[3], "future", "Di", 1, NOW + day);
	assert_int_equal(mu_entry_add(fx->st, &e, s[3]), 0);

	/* The moved event ends tomorrow now: its entry stays. */
	assert_int_equal(
	    mu_entries_expire(fx->st, &e.target, NOW + day, NOW, 30 * day, &removed),
	    0);
	rsvp(&e, &fx->g[3], "moved", "", 1, 0);
	assert_int_equal(
	    mu_entries_expire(fx->st, &e.target, NOW + day, NOW, 30 * day, &removed),
	    0);
	assert_int_equal(removed, 0);
	assert_int_equal(mu_entry_get(fx->st, s[2], &got), 0);

	assert_int_equal(mu_entries_expire(fx->st, NULL, 0, NOW, 30 * day, &removed),
	                 0);
	assert_int_equal(removed, 2); /* old, and moved by its stored end */
	assert_int_equal(mu_entry_get(fx->st, s[0], &got), MU_ENOTFOUND);
	assert_int_equal(mu_entry_get(fx->st, s[1], &got), 0);
	assert_int_equal(mu_entry_get(fx->st, s[2], &got), MU_ENOTFOUND);
	assert_int_equal(mu_entry_get(fx->st, s[3], &got), 0);
	check_clean(fx->st);

	/* Retention 0: gone as soon as the event ended. */
	assert_int_equal(mu_entries_expire(fx->st, NULL, 0, NOW, 0, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(mu_entry_get(fx->st, s[3], &got), 0);
	check_clean(fx->st);
}

/* Many expired entries go over several transactions. */
static void
test_expire_many(void **state)
{
	struct fx *fx = *state;
	uint8_t s[MU_RECEIPT_BYTES];
	struct mu_entry e;
	struct got g = {0};
	uint64_t removed = 0;

	for (int i = 0; i < 600; i++) {
		rsvp(&e, &fx->g[4], "big", "P", 1, NOW - 10);
		assert_int_equal(mu_entry_add(fx->st, &e, s), 0);
	}
	assert_int_equal(mu_entries_expire(fx->st, NULL, 0, NOW, 0, &removed), 0);
	assert_int_equal(removed, 600);
	assert_int_equal(mu_entries(fx->st, &e.target, collect, &g), 0);
	assert_int_equal(g.n, 0);
	check_clean(fx->st);
}

/* `muster check` finds an entry without its receipt. */
static void
test_check_finds_damage(void **state)
{
	struct fx *fx = *state;
	uint8_t s[MU_RECEIPT_BYTES];
	struct mu_store_check_stats stats;
	struct mu_why why = {0};
	struct mu_entry e;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int problems = 0;

	rsvp(&e, &fx->g[5], "x", "Ada", 1, NOW);
	assert_int_equal(mu_entry_add(fx->st, &e, s), 0);
	mu_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->dir, MDB_NOTLS, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0); /* the 'r' */
	assert_int_equal(((char *)k.mv_data)[0], 'r');
	assert_int_equal(mdb_cursor_del(cur, 0), 0);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(mu_store_open(&fx->st, fx->dir, NULL, &why), 0);
	assert_int_equal(mu_store_check(fx->st, on_problem, &problems, &stats, &why),
	                 0);
	assert_int_equal(problems, 1);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(test_add_get),
	    T_(test_secret_not_stored),
	    T_(test_change_withdraw),
	    T_(test_bounds),
	    T_(test_expire),
	    T_(test_expire_many),
	    T_(test_check_finds_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
