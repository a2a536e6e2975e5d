/*
 * store_fixture.h - the fixture of the store tests: a store in a fresh
 * temporary directory, eight group key pairs, and records built, signed and
 * parsed as a peer would hand them over. Each test gets its own (setup /
 * teardown, for cmocka_unit_test_setup_teardown); built records live until
 * teardown.
 */
#ifndef MU_TEST_STORE_FIXTURE_H
#define MU_TEST_STORE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/record.h"
#include "storage/store.h"

#include "rm_tree.h"

#define NOW 1900000000LL

struct grp {
	uint8_t pk[MU_KEY_BYTES];
	uint8_t sk[MU_SECRET_BYTES];
};

/* Built records: each parsed record borrows its own buffer. */
struct built {
	struct built *next;
	uint8_t *buf;
	size_t len;
	struct mu_record rec;
};

struct fx {
	char dir[64];
	struct mu_store *st;
	struct built *built;
	struct grp g[8];
};

static struct fx *cur_fx; /* the running test's, for the builders */

static void
grp_init(struct grp *g)
{
	crypto_sign_keypair(g->pk, g->sk);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct mu_why why = {0};

	assert_non_null(fx);
	assert_true(sodium_init() >= 0);
	strcpy(fx->dir, "/tmp/mu-store-test-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (size_t i = 0; i < sizeof(fx->g) / sizeof(fx->g[0]); i++)
		grp_init(&fx->g[i]);
	if (mu_store_open(&fx->st, fx->dir, NULL, &why) != 0)
		fail_msg("open: %s", why.text);
	cur_fx = fx;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	struct built *b, *next;

	mu_store_close(fx->st);
	for (b = fx->built; b != NULL; b = next) {
		next = b->next;
		free(b->buf);
		free(b);
	}
	rm_tree(fx->dir);
	free(fx);
	cur_fx = NULL;
	return 0;
}

static void
reopen(struct fx *fx, const struct mu_store_opts *opts)
{
	struct mu_why why = {0};

	mu_store_close(fx->st);
	fx->st = NULL;
	if (mu_store_open(&fx->st, fx->dir, opts, &why) != 0)
		fail_msg("reopen: %s", why.text);
}

static struct mu_str
S(const char *s) {
	return (struct mu_str){s, strlen(s)};
}

/* Signs tmpl, a record of group g, with signer's key (an organizer key, or
 * g itself) and returns it parsed, as a peer would hand it over. */
static inline const struct mu_record *
finish_as(struct mu_record *tmpl, const struct grp *g, const struct grp *signer)
{
	struct built *b = calloc(1, sizeof(*b));
	struct mu_why why = {0};
	uint8_t id[MU_ID_BYTES];

	assert_non_null(b);
	tmpl->version = MU_FORMAT_VERSION;
	memcpy(tmpl->group, g->pk, MU_KEY_BYTES);
	memcpy(tmpl->signer, signer->pk, MU_KEY_BYTES);
	if (mu_rec_build(tmpl, signer->sk, NOW, &b->buf, &b->len, id, &why) != 0)
		fail_msg("build: %s", why.text);
	if (mu_rec_parse(&b->rec, b->buf, b->len, NOW, 0, &why) != 0)
		fail_msg("parse: %s", why.text);
	assert_memory_equal(b->rec.id, id, MU_ID_BYTES);
	b->next = cur_fx->built;
	cur_fx->built = b;
	return &b->rec;
}

/* Signs tmpl as g, its group. */
static const struct mu_record *
finish(struct mu_record *tmpl, const struct grp *g)
{
	return finish_as(tmpl, g, g);
}

/* An alliance record of g naming with, made at NOW - 500 + rev. */
static const struct mu_record *
alliance_to(const struct grp *g, const uint8_t with[MU_KEY_BYTES], uint32_t rev,
            enum mu_alliance_status status)
{
	char hex[2 * MU_KEY_BYTES + 1];
	struct mu_record r;

	sodium_bin2hex(hex, sizeof(hex), with, MU_KEY_BYTES);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_ALLIANCE;
	r.created_at = NOW - 500 + rev;
	r.d = S(hex);
	r.rev = rev;
	memcpy(r.c.alliance.with, with, MU_KEY_BYTES);
	r.c.alliance.status = status;
	return finish(&r, g);
}

static const struct mu_record *
alliance(const struct grp *g, const struct grp *with, uint32_t rev,
         enum mu_alliance_status status)
{
	return alliance_to(g, with->pk, rev, status);
}

/* A profile of g named name, made at NOW - 900. Inline: not every test
 * that includes this file makes one. */
static inline const struct mu_record *
profile(const struct grp *g, const char *name)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_PROFILE;
	r.created_at = NOW - 900;
	r.d = S("");
	r.c.profile.name = S(name);
	return finish(&r, g);
}

static const struct mu_record *
del_addr(const struct grp *g, enum mu_kind kind, const char *d, int64_t created)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_DELETE;
	r.created_at = created;
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, g->pk, MU_KEY_BYTES);
	r.c.del.addr.kind = kind;
	r.c.del.addr.d = S(d);
	return finish(&r, g);
}

/* A delete by id of g. Inline: not every test that includes this file
 * makes one. */
static inline const struct mu_record *
del_id(const struct grp *g, const uint8_t id[MU_ID_BYTES], int64_t created)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_DELETE;
	r.created_at = created;
	memcpy(r.c.del.id, id, MU_ID_BYTES);
	return finish(&r, g);
}

static enum mu_put_result
put1(struct mu_store *st, const struct mu_record *r)
{
	enum mu_put_result res = 0;
	struct mu_why why = {0};

	if (mu_store_put(st, &r, 1, &res, &why) != 0)
		fail_msg("put: %s", why.text);
	return res;
}

/* n records of kind (petition, pledge or cause), "p0" to "p<n-1>", made at
 * NOW - 100, of groups 0 to ngroups - 1 in turn. Inline: not every test
 * that includes this file makes them. */
static inline void
put_records(struct fx *fx, enum mu_kind kind, size_t n, size_t ngroups)
{
	struct mu_record r;
	char d[24];
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = kind;
		r.created_at = NOW - 100;
		snprintf(d, sizeof(d), "p%zu", i);
		r.d = (struct mu_str){d, strlen(d)};
		if (kind == MU_KIND_PLEDGE) {
			r.c.pledge.title = S("Strike");
			r.c.pledge.threshold = 40;
			r.c.pledge.unit = MU_PLEDGE_PEOPLE;
			r.c.pledge.deadline = NOW + 1000;
		} else if (kind == MU_KIND_CAUSE) {
			r.c.cause.title = S("Rent <cap>");
			r.c.cause.status = MU_CAUSE_ACTIVE;
		} else {
			r.c.petition.title = S("Clean air");
			r.c.petition.text = S("Now.");
			r.c.petition.target = S("The council");
			r.c.petition.status = MU_PETITION_OPEN;
		}
		if (put1(fx->st, finish(&r, &fx->g[i % ngroups])) != MU_PUT_NEW)
			fail_msg("put_records: %s %zu not stored", mu_kind_name(kind),
			         i);
	}
}

#endif
