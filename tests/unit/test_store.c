/*
 * The LMDB store on real files: the replacement and deletion rules of
 * docs/PROTOCOL.md section 5, atomicity when the map fills up, and every
 * query of storage/store.h.
 */
/* nftw(), to remove the test's directory. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>

#include "protocol/textform.h"
#include "storage/store.h"

#include "store_fixture.h"

#define T   1800000000LL /* event times */
#define DAY 86400LL

static const struct mu_record *
cause_desc(const struct grp *g, const char *d, uint32_t rev, int64_t created,
           const char *title, const char *desc)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_CAUSE;
	r.created_at = created;
	r.d = S(d);
	r.rev = rev;
	r.c.cause.title = S(title);
	if (desc != NULL)
		r.c.cause.description = S(desc);
	r.c.cause.status = MU_CAUSE_ACTIVE;
	return finish(&r, g);
}

static const struct mu_record *
cause(const struct grp *g, const char *d, uint32_t rev, int64_t created,
      const char *title)
{
	return cause_desc(g, d, rev, created, title, NULL);
}

/* end < 0: no end. */
static const struct mu_record *
event(const struct grp *g, const char *d, uint32_t rev, int64_t start, int64_t end,
      bool all_day, enum mu_event_status status)
{
	struct mu_record r;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	r.created_at = NOW - 1000 + rev;
	r.d = S(d);
	r.rev = rev;
	r.c.event.title = S("Assembly");
	r.c.event.start = start;
	r.c.event.has_end = end >= 0;
	r.c.event.end = end >= 0 ? end : 0;
	r.c.event.all_day = all_day;
	r.c.event.status = status;
	return finish(&r, g);
}

static struct mu_addr
addr_of(const struct grp *g, enum mu_kind kind, const char *d)
{
	struct mu_addr a;

	memset(&a, 0, sizeof(a));
	memcpy(a.group, g->pk, MU_KEY_BYTES);
	a.kind = kind;
	a.d = S(d);
	return a;
}

/* What visitors saw, in order. */
#define SEEN_MAX 64
struct seen {
	size_t n;
	int stop_after; /* 0: never */
	uint8_t ids[SEEN_MAX][MU_ID_BYTES];
	uint32_t revs[SEEN_MAX];
	int64_t created[SEEN_MAX];
	int64_t starts[SEEN_MAX];
	int status[SEEN_MAX];
	enum mu_kind kinds[SEEN_MAX];
	uint8_t raw[MU_RECORD_MAX];
	size_t raw_len;
};

static int
collect(void *ctx, const struct mu_record *r)
{
	struct seen *s = ctx;

	assert_true(s->n < SEEN_MAX);
	memcpy(s->ids[s->n], r->id, MU_ID_BYTES);
	s->revs[s->n] = r->rev;
	s->created[s->n] = r->created_at;
	s->kinds[s->n] = r->kind;
	if (r->kind == MU_KIND_EVENT) {
		s->starts[s->n] = r->c.event.start;
		s->status[s->n] = r->c.event.status;
	}
	memcpy(s->raw, r->raw, r->raw_len);
	s->raw_len = r->raw_len;
	s->n++;
	if (s->stop_after != 0 && (int)s->n == s->stop_after)
		return 7;
	return 0;
}

static uint64_t
count(struct mu_store *st)
{
	uint64_t n = 0;

	assert_int_equal(mu_store_count(st, &n), 0);
	return n;
}

static int
get_id(struct mu_store *st, const uint8_t id[MU_ID_BYTES], struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return mu_store_get(st, id, collect, s);
}

static int
get_addr(struct mu_store *st, const struct grp *g, enum mu_kind kind, const char *d,
         struct seen *s)
{
	struct mu_addr a = addr_of(g, kind, d);

	memset(s, 0, sizeof(*s));
	return mu_store_get_addr(st, &a, collect, s);
}

static void
test_put_get(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r =
	    cause(&fx->g[0], "rent", 1, NOW - 100, "Stop the hike");
	uint8_t other[MU_ID_BYTES] = {1};
	struct seen s;

	assert_int_equal(count(fx->st), 0);
	assert_int_equal(put1(fx->st, r), MU_PUT_NEW);
	assert_int_equal(count(fx->st), 1);

	assert_int_equal(get_id(fx->st, r->id, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.raw_len, r->raw_len);
	assert_memory_equal(s.raw, r->raw, r->raw_len);

	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "rent", &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0], r->id, MU_ID_BYTES);

	assert_int_equal(get_id(fx->st, other, &s), MU_ENOTFOUND);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "other", &s),
	                 MU_ENOTFOUND);
	assert_int_equal(get_addr(fx->st, &fx->g[1], MU_KIND_CAUSE, "rent", &s),
	                 MU_ENOTFOUND);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_EVENT, "rent", &s),
	                 MU_ENOTFOUND);

	/* A visitor's non-zero answer comes back. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(mu_store_get(fx->st, r->id, collect, &s), 7);

	/* Survives a reopen. */
	reopen(fx, NULL);
	assert_int_equal(get_id(fx->st, r->id, &s), 0);
	assert_memory_equal(s.raw, r->raw, r->raw_len);
}

/* What mu_store_read_raw() passed on, in order. */
struct raws {
	size_t n, stop_at; /* stop_at: MU_STORE_STOP at this record (1-based) */
	uint8_t raw[8][512];
	size_t len[8];
};

static int
keep_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct raws *r = ctx;

	if (r->stop_at != 0 && r->n + 1 == r->stop_at)
		return MU_STORE_STOP;
	assert_true(r->n < 8 && len <= sizeof(r->raw[0]));
	memcpy(r->raw[r->n], raw, len); /* raw is the store's until we return */
	r->len[r->n++] = len;
	return 0;
}

/* The bytes of records named by sequence number and id, as stored, for
 * passing on: a number whose record is gone falls back to the id, a record
 * gone altogether is skipped, and the visitor can stop before a record,
 * which then counts as not handled. */
static void
test_read_raw(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *a = cause(&fx->g[0], "a", 1, NOW - 100, "A");
	const struct mu_record *b = cause(&fx->g[0], "b", 1, NOW - 100, "B");
	const struct mu_record *c = cause(&fx->g[0], "c", 1, NOW - 100, "C");
	const struct mu_record *b2 = cause(&fx->g[0], "b", 2, NOW - 90, "B again");
	/* A fresh store numbers them 1, 2, 3 and 4; b2 replaces b. */
	const struct mu_store_ref refs[] = {
	    {1, a->id}, {2, b->id}, {0, c->id}, {2, b2->id}, {99, a->id}};
	struct raws got = {0};
	size_t done = 0;

	assert_int_equal(put1(fx->st, a), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, b), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, c), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, b2), MU_PUT_NEW);

	assert_int_equal(
	    mu_store_read_raw(fx->st, refs, 5, keep_raw, NULL, &got, &done), 0);
	assert_int_equal(done, 5);
	assert_int_equal(got.n, 4); /* b is gone */
	assert_int_equal(got.len[0], a->raw_len);
	assert_memory_equal(got.raw[0], a->raw, a->raw_len);
	assert_int_equal(got.len[1], c->raw_len);
	assert_memory_equal(got.raw[1], c->raw, c->raw_len);
	assert_int_equal(got.len[2], b2->raw_len);
	assert_memory_equal(got.raw[2], b2->raw, b2->raw_len);
	assert_int_equal(got.len[3], a->raw_len);
	assert_memory_equal(got.raw[3], a->raw, a->raw_len);

	memset(&got, 0, sizeof(got));
	got.stop_at = 2;
	assert_int_equal(
	    mu_store_read_raw(fx->st, refs, 5, keep_raw, NULL, &got, &done), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(done, 2); /* a passed on, b skipped; c not handled */
}

static void
test_duplicate(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r =
	    cause(&fx->g[0], "rent", 1, NOW - 100, "Stop the hike");
	const struct mu_record *d =
	    del_id(&fx->g[0], (uint8_t[MU_ID_BYTES]){9}, NOW - 50);
	const struct mu_record *batch[3] = {d, d, r};
	enum mu_put_result res[3];
	struct mu_why why;

	assert_int_equal(put1(fx->st, r), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, r), MU_PUT_DUPLICATE);
	/* Within one batch, the second sees the first. */
	assert_int_equal(mu_store_put(fx->st, batch, 3, res, &why), 0);
	assert_int_equal(res[0], MU_PUT_NEW);
	assert_int_equal(res[1], MU_PUT_DUPLICATE);
	assert_int_equal(res[2], MU_PUT_DUPLICATE);
	assert_int_equal(count(fx->st), 2);
	assert_string_equal(mu_put_result_name(MU_PUT_DUPLICATE), "duplicate");
	assert_string_equal(mu_put_result_name(MU_PUT_NEW), "new");
	assert_string_equal(mu_put_result_name(MU_PUT_SUPERSEDED), "superseded");
	assert_string_equal(mu_put_result_name(MU_PUT_DELETED), "deleted");
}

static void
test_replace_rev(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *v1 = cause(&fx->g[0], "rent", 1, NOW - 100, "One");
	/* An edit wins by rev even with a clock behind. */
	const struct mu_record *v2 = cause(&fx->g[0], "rent", 2, NOW - 200, "Two");
	struct seen s;

	assert_int_equal(put1(fx->st, v1), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, v2), MU_PUT_NEW);
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "rent", &s), 0);
	assert_memory_equal(s.ids[0], v2->id, MU_ID_BYTES);
	assert_int_equal(get_id(fx->st, v1->id, &s), MU_ENOTFOUND);

	/* The old version arriving again is superseded and not kept. */
	assert_int_equal(put1(fx->st, v1), MU_PUT_SUPERSEDED);
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(get_id(fx->st, v1->id, &s), MU_ENOTFOUND);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_each(fx->st, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0], v2->id, MU_ID_BYTES);
}

static void
test_replace_ties(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *early = cause(&fx->g[0], "x", 3, NOW - 100, "Early");
	const struct mu_record *late = cause(&fx->g[0], "x", 3, NOW - 99, "Late");
	const struct mu_record *p = cause(&fx->g[0], "y", 3, NOW - 100, "One");
	const struct mu_record *q = cause(&fx->g[0], "y", 3, NOW - 100, "Two");
	const struct mu_record *low, *high;
	struct seen s;

	/* Equal rev: the later created_at wins, in either order of arrival. */
	assert_int_equal(put1(fx->st, late), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, early), MU_PUT_SUPERSEDED);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "x", &s), 0);
	assert_memory_equal(s.ids[0], late->id, MU_ID_BYTES);

	/* Equal rev and created_at: the lower id wins. */
	low = memcmp(p->id, q->id, MU_ID_BYTES) < 0 ? p : q;
	high = low == p ? q : p;
	assert_int_equal(put1(fx->st, high), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, low), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, high), MU_PUT_SUPERSEDED);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "y", &s), 0);
	assert_memory_equal(s.ids[0], low->id, MU_ID_BYTES);
	assert_int_equal(get_id(fx->st, high->id, &s), MU_ENOTFOUND);
	assert_int_equal(count(fx->st), 2);

	/* The same address in another group is another address. */
	assert_int_equal(put1(fx->st, cause(&fx->g[1], "x", 1, NOW - 100, "B")),
	                 MU_PUT_NEW);
	assert_int_equal(count(fx->st), 3);
}

static void
test_delete_addr(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *ev =
	    event(&fx->g[0], "strike", 1, T, T + 3600, false, MU_EVENT_CONFIRMED);
	const struct mu_record *del =
	    del_addr(&fx->g[0], MU_KIND_EVENT, "strike", NOW - 10);
	const struct mu_record *again =
	    event(&fx->g[0], "strike", 9, T, T + 3600, false, MU_EVENT_CONFIRMED);
	struct mu_addr a = addr_of(&fx->g[0], MU_KIND_EVENT, "strike");
	uint8_t tomb[MU_ID_BYTES];
	struct seen s;

	assert_int_equal(mu_store_deleted_addr(fx->st, &a, tomb), 0);
	assert_int_equal(put1(fx->st, ev), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, del), MU_PUT_NEW);

	assert_int_equal(get_id(fx->st, ev->id, &s), MU_ENOTFOUND);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_EVENT, "strike", &s),
	                 MU_ENOTFOUND);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_events(fx->st, T - DAY, T + DAY, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(mu_store_list(fx->st, MU_KIND_EVENT, NULL, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(mu_store_deleted_addr(fx->st, &a, tomb), 1);
	assert_memory_equal(tomb, del->id, MU_ID_BYTES);
	assert_int_equal(mu_store_deleted_addr(fx->st, &a, NULL), 1);

	/* The tombstone stays, and nothing else. */
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(mu_store_each(fx->st, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0], del->id, MU_ID_BYTES);

	/* The address is gone for good, whatever the rev. */
	assert_int_equal(put1(fx->st, ev), MU_PUT_DELETED);
	assert_int_equal(put1(fx->st, again), MU_PUT_DELETED);
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(put1(fx->st, del), MU_PUT_DUPLICATE);
}

static void
test_tombstone_first(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *c = cause(&fx->g[0], "rent", 1, NOW - 100, "Rent");
	const struct mu_record *by_addr =
	    del_addr(&fx->g[0], MU_KIND_CAUSE, "rent", NOW - 5);
	const struct mu_record *plain =
	    del_id(&fx->g[0], (uint8_t[MU_ID_BYTES]){3}, NOW - 9);
	const struct mu_record *by_id_of_del;
	const struct mu_record *batch[2];
	enum mu_put_result res[2];
	struct mu_why why;
	struct seen s;

	assert_int_equal(put1(fx->st, by_addr), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, c), MU_PUT_DELETED);
	assert_int_equal(count(fx->st), 1);

	/* By id, arriving first, in the same batch as its target. */
	const struct mu_record *e = cause(&fx->g[0], "other", 1, NOW - 100, "Other");
	batch[0] = del_id(&fx->g[0], e->id, NOW - 4);
	batch[1] = e;
	assert_int_equal(mu_store_put(fx->st, batch, 2, res, &why), 0);
	assert_int_equal(res[0], MU_PUT_NEW);
	assert_int_equal(res[1], MU_PUT_DELETED);
	assert_int_equal(get_id(fx->st, e->id, &s), MU_ENOTFOUND);
	assert_int_equal(count(fx->st), 2);

	/* A tombstone is never itself deleted, before or after it arrives. */
	assert_int_equal(put1(fx->st, plain), MU_PUT_NEW);
	by_id_of_del = del_id(&fx->g[0], plain->id, NOW - 3);
	assert_int_equal(put1(fx->st, by_id_of_del), MU_PUT_NEW);
	assert_int_equal(get_id(fx->st, plain->id, &s), 0);
	const struct mu_record *late_del =
	    del_id(&fx->g[0], (uint8_t[MU_ID_BYTES]){4}, 1);
	assert_int_equal(put1(fx->st, del_id(&fx->g[0], late_del->id, NOW - 2)),
	                 MU_PUT_NEW);
	assert_int_equal(put1(fx->st, late_del), MU_PUT_NEW);
	assert_int_equal(count(fx->st), 6);
}

static void
test_delete_id(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *theirs = cause(&fx->g[0], "rent", 1, NOW - 100, "A's");
	const struct mu_record *foreign = del_id(&fx->g[1], theirs->id, NOW - 50);
	const struct mu_record *v1 = cause(&fx->g[0], "park", 1, NOW - 100, "Park 1");
	const struct mu_record *v2 = cause(&fx->g[0], "park", 2, NOW - 90, "Park 2");
	const struct mu_record *own = del_id(&fx->g[0], v2->id, NOW - 40);
	struct seen s;

	/* Another group's delete by id has no power over A's record. */
	assert_int_equal(put1(fx->st, theirs), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, foreign), MU_PUT_NEW);
	assert_int_equal(get_id(fx->st, theirs->id, &s), 0);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "rent", &s), 0);
	/* Nor later, arriving before it on another node. */
	reopen(fx, NULL);
	assert_int_equal(put1(fx->st, theirs), MU_PUT_DUPLICATE);

	/* The group's own delete by id removes that version only. */
	assert_int_equal(put1(fx->st, v2), MU_PUT_NEW);
	assert_int_equal(put1(fx->st, own), MU_PUT_NEW);
	assert_int_equal(get_id(fx->st, v2->id, &s), MU_ENOTFOUND);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "park", &s),
	                 MU_ENOTFOUND);
	assert_int_equal(put1(fx->st, v2), MU_PUT_DELETED);
	/* ...so an older version may become current again. */
	assert_int_equal(put1(fx->st, v1), MU_PUT_NEW);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "park", &s), 0);
	assert_memory_equal(s.ids[0], v1->id, MU_ID_BYTES);
	assert_int_equal(count(fx->st), 4);
}

static void
test_map_full(void **state)
{
	struct fx *fx = *state;
	struct mu_store_opts small = {.map_size = 256 * 1024};
	const struct mu_record *batch[41];
	enum mu_put_result res[41];
	const struct mu_record *keep, *plain;
	char *desc = malloc(7001);
	char d[16];
	struct mu_why why = {0};
	struct seen s;

	assert_non_null(desc);
	memset(desc, 'x', 7000);
	desc[7000] = '\0';
	reopen(fx, &small);
	keep = cause(&fx->g[0], "keep", 1, NOW - 100, "Keep");
	plain = cause(&fx->g[0], "plain", 1, NOW - 100, "Plain");
	assert_int_equal(put1(fx->st, keep), MU_PUT_NEW);

	/* The batch deletes a stored record first, then overflows the map. */
	batch[0] = del_addr(&fx->g[0], MU_KIND_CAUSE, "keep", NOW - 10);
	for (int i = 1; i < 41; i++) {
		snprintf(d, sizeof(d), "big-%d", i);
		batch[i] = cause_desc(&fx->g[0], d, 1, NOW - 100, "Big", desc);
	}
	assert_int_equal(mu_store_put(fx->st, batch, 41, res, &why), MU_EFULL);
	assert_non_null(strstr(why.text, "the store is full (map size 262144 bytes)"));
	assert_non_null(strstr(why.text, "MUSTER_MAP_SIZE"));

	/* Nothing of the batch stayed; the store still reads and writes. */
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(get_id(fx->st, keep->id, &s), 0);
	assert_int_equal(get_id(fx->st, batch[0]->id, &s), MU_ENOTFOUND);
	assert_int_equal(get_id(fx->st, batch[1]->id, &s), MU_ENOTFOUND);
	assert_int_equal(put1(fx->st, plain), MU_PUT_NEW);
	reopen(fx, &small);
	assert_int_equal(count(fx->st), 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_each(fx->st, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "keep", &s), 0);
	free(desc);
}

static void
test_map_size_env(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *batch[40];
	enum mu_put_result res[40];
	struct mu_store *st = NULL;
	char *desc = malloc(7001);
	char d[16];
	struct mu_why why = {0};

	assert_non_null(desc);
	memset(desc, 'y', 7000);
	desc[7000] = '\0';
	mu_store_close(fx->st);
	fx->st = NULL;

	setenv("MUSTER_MAP_SIZE", "12x", 1);
	assert_int_equal(mu_store_open(&st, fx->dir, NULL, &why), MU_EINVAL);
	assert_null(st);
	assert_non_null(strstr(why.text, "MUSTER_MAP_SIZE=12x"));

	setenv("MUSTER_MAP_SIZE", "262144", 1);
	assert_int_equal(mu_store_open(&fx->st, fx->dir, NULL, &why), 0);
	unsetenv("MUSTER_MAP_SIZE");
	for (int i = 0; i < 40; i++) {
		snprintf(d, sizeof(d), "big-%d", i);
		batch[i] = cause_desc(&fx->g[0], d, 1, NOW - 100, "Big", desc);
	}
	assert_int_equal(mu_store_put(fx->st, batch, 40, res, &why), MU_EFULL);
	assert_non_null(strstr(why.text, "262144"));
	assert_int_equal(count(fx->st), 0);

	/* The default is far larger: the same batch fits. */
	reopen(fx, NULL);
	assert_int_equal(mu_store_put(fx->st, batch, 40, res, &why), 0);
	assert_int_equal(count(fx->st), 40);
	free(desc);
}

static off_t
data_size(const struct fx *fx)
{
	char path[96];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* The store's file may grow by room bytes only, as on a disk with that much
 * free: writes past it fail (a short write, then EFBIG), as ENOSPC does.
 * 0 lifts the limit again. */
static void
limit_file(const struct fx *fx, off_t room)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = room > 0 ? (rlim_t)(data_size(fx) + room) : rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

#define FULL_RECS 64

/* A write that fails on a full disk gives back the space it took, and
 * mu_store_put_fit stores what fits in smaller commits. */
static void
test_file_full(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *batch[FULL_RECS], *keep;
	enum mu_put_result res[FULL_RECS];
	struct mu_store_batch *b;
	struct mu_why why = {0};
	char *desc = malloc(7001);
	size_t stored = 0, more = 0;
	char d[16];
	off_t before;
	struct seen s;

	assert_non_null(desc);
	memset(desc, 'z', 7000);
	desc[7000] = '\0';
	keep = cause(&fx->g[0], "keep", 1, NOW - 100, "Keep");
	assert_int_equal(put1(fx->st, keep), MU_PUT_NEW);
	for (int i = 0; i < FULL_RECS; i++) {
		snprintf(d, sizeof(d), "big-%d", i);
		batch[i] = cause_desc(&fx->g[0], d, 1, NOW - 100, "Big", desc);
	}
	signal(SIGXFSZ, SIG_IGN);

	/* About 8 KiB a record: the batch needs 512 KiB, 128 KiB are left. */
	before = data_size(fx);
	limit_file(fx, 128 * 1024);
	assert_int_equal(mu_store_put(fx->st, batch, FULL_RECS, res, &why), MU_EFULL);
	assert_non_null(strstr(why.text, "ulimit -f"));
	assert_int_equal(data_size(fx), before);

	/* The same in a batch kept open, as import does. */
	assert_int_equal(mu_store_batch_begin(fx->st, &b, &why), 0);
	assert_int_equal(mu_store_batch_put(b, batch, FULL_RECS, res, &why), 0);
	assert_int_equal(mu_store_batch_commit(b, &why), MU_EFULL);
	assert_int_equal(data_size(fx), before);
	assert_int_equal(count(fx->st), 1);

	/* In parts, what fits is stored. */
	assert_int_equal(mu_store_put_fit(fx->st, batch, FULL_RECS, res, &stored, &why),
	                 MU_EFULL);
	assert_true(stored >= 4 && stored < FULL_RECS);
	assert_int_equal(count(fx->st), 1 + stored);
	for (size_t i = 0; i < stored; i++) {
		assert_int_equal(res[i], MU_PUT_NEW);
		assert_int_equal(get_id(fx->st, batch[i]->id, &s), 0);
	}
	assert_int_equal(get_id(fx->st, batch[stored]->id, &s), MU_ENOTFOUND);
	assert_true(data_size(fx) <= before + 128 * 1024);

	/* With room again, the rest goes in. */
	limit_file(fx, 0);
	assert_int_equal(mu_store_put_fit(fx->st, batch + stored, FULL_RECS - stored,
	                                  res, &more, &why),
	                 0);
	assert_int_equal(more, FULL_RECS - stored);
	assert_int_equal(count(fx->st), 1 + FULL_RECS);
	reopen(fx, NULL);
	assert_int_equal(count(fx->st), 1 + FULL_RECS);
	signal(SIGXFSZ, SIG_DFL);
	free(desc);
}

/* Events of test_events, by name, to compare visits with. */
struct evs {
	const struct mu_record *a, *b, *c, *d, *e, *f;
};

static void
expect_events(struct fx *fx, int64_t from, int64_t to, size_t n, ...)
{
	struct seen s;
	va_list ap;

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_events(fx->st, from, to, collect, &s), 0);
	if (s.n != n)
		fail_msg("window [T%+lld, T%+lld): %zu events, expected %zu",
		         (long long)(from - T), (long long)(to - T), s.n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const struct mu_record *want = va_arg(ap, const struct mu_record *);

		if (memcmp(s.ids[i], want->id, MU_ID_BYTES) != 0)
			fail_msg("window [T%+lld, T%+lld): event %zu is not the one "
			         "expected",
			         (long long)(from - T), (long long)(to - T), i);
	}
	va_end(ap);
	/* Read one index entry a call, from just after the last: the same
	 * events, whether the calls read one that is out of the window or not. */
	struct seen sliced;
	struct mu_store_ev_pos pos = {false, 0, {0}, 1};
	size_t calls = 0;
	int rc;

	memset(&sliced, 0, sizeof(sliced));
	do {
		rc = mu_store_events_after(fx->st, from, to, &pos, collect, &sliced);
		assert_true(rc == 0 || rc == 1);
	} while (rc == 1 && ++calls < 100);
	assert_int_equal(rc, 0);
	assert_int_equal(sliced.n, s.n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(sliced.ids[i], s.ids[i], MU_ID_BYTES);
}

static void
test_events(void **state)
{
	struct fx *fx = *state;
	const int64_t c0 = 20840 * DAY; /* a midnight, T + 576000 */
	struct evs v;
	const struct mu_record *first, *second, *a2, *a3;
	struct seen s;

	assert_int_equal(c0, T + 576000);
	v.a = event(&fx->g[0], "a", 1, T + 100, T + 200, false, MU_EVENT_CONFIRMED);
	v.b = event(&fx->g[0], "b", 1, T + 300, -1, false, MU_EVENT_TENTATIVE);
	v.c = event(&fx->g[1], "c", 1, c0, -1, true, MU_EVENT_CONFIRMED);
	v.d = event(&fx->g[1], "d", 1, T + 50, T + 1000, false, MU_EVENT_CONFIRMED);
	v.e =
	    event(&fx->g[0], "e", 1, T - 300 * DAY, T + 10, false, MU_EVENT_CONFIRMED);
	v.f = event(&fx->g[2], "f", 1, T + 100, -1, false, MU_EVENT_CONFIRMED);
	const struct mu_record *all[] = {v.a, v.b, v.c, v.d, v.e, v.f};
	enum mu_put_result res[6];
	struct mu_why why;

	assert_int_equal(mu_store_put(fx->st, all, 6, res, &why), 0);
	first = memcmp(v.a->id, v.f->id, MU_ID_BYTES) < 0 ? v.a : v.f;
	second = first == v.a ? v.f : v.a;

	expect_events(fx, T + 150, T + 300, 2, v.d, v.a);
	/* Equal starts go by id. */
	expect_events(fx, T + 100, T + 101, 3, v.d, first, second);
	/* A zero-length event at t is in [from, to) iff from <= t < to. */
	expect_events(fx, T + 300, T + 301, 2, v.d, v.b);
	expect_events(fx, T + 299, T + 300, 1, v.d);
	/* Ends are exclusive. */
	expect_events(fx, T + 200, T + 300, 1, v.d);
	expect_events(fx, T + 1000, T + 2000, 0);
	/* An event that started long before the window still overlaps it. */
	expect_events(fx, T, T + 11, 1, v.e);
	expect_events(fx, T + 10, T + 11, 0);
	expect_events(fx, T - 400 * DAY, T - 299 * DAY, 1, v.e);
	/* All-day without an end: the one day. */
	expect_events(fx, c0 + DAY - 1, c0 + DAY, 1, v.c);
	expect_events(fx, c0 + DAY, c0 + 2 * DAY, 0);
	expect_events(fx, c0 - 1, c0, 0);
	/* Empty and reversed windows hold nothing. */
	expect_events(fx, T + 100, T + 100, 0);
	expect_events(fx, T + 500, T + 100, 0);
	/* Everything, by start. */
	expect_events(fx, 0, MU_TIME_MAX, 6, v.e, v.d, first, second, v.b, v.c);

	/* A new version moves the event; the old one leaves the calendar. */
	a2 = event(&fx->g[0], "a", 2, T + 5000, T + 5100, false, MU_EVENT_CONFIRMED);
	assert_int_equal(put1(fx->st, a2), MU_PUT_NEW);
	expect_events(fx, T + 150, T + 300, 1, v.d);
	expect_events(fx, T + 5000, T + 5001, 1, a2);
	/* A cancelled event stays listed, marked cancelled. */
	a3 = event(&fx->g[0], "a", 3, T + 5000, T + 5100, false, MU_EVENT_CANCELLED);
	assert_int_equal(put1(fx->st, a3), MU_PUT_NEW);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_events(fx->st, T + 5000, T + 5001, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0], a3->id, MU_ID_BYTES);
	assert_int_equal(s.status[0], MU_EVENT_CANCELLED);
	assert_int_equal(s.revs[0], 3);
	/* A superseded version does not come back. */
	assert_int_equal(put1(fx->st, v.a), MU_PUT_SUPERSEDED);
	expect_events(fx, T + 150, T + 300, 1, v.d);

	/* A visitor can stop the walk. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(mu_store_events(fx->st, 0, MU_TIME_MAX, collect, &s), 7);
	assert_int_equal(s.n, 2);
}

static int
addr_cmp(const struct mu_record *x, const struct mu_record *y)
{
	int c = memcmp(x->group, y->group, MU_KEY_BYTES);

	if (c != 0)
		return c;
	c = memcmp(x->d.ptr, y->d.ptr, x->d.len < y->d.len ? x->d.len : y->d.len);
	return c != 0 ? c : (int)x->d.len - (int)y->d.len;
}

static void
test_list(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *a1 = cause(&fx->g[0], "zeta", 1, NOW - 10, "A zeta");
	const struct mu_record *a2 = cause(&fx->g[0], "alpha", 1, NOW - 20, "A alpha");
	const struct mu_record *a2b =
	    cause(&fx->g[0], "alpha", 2, NOW - 5, "A alpha 2");
	const struct mu_record *b1 = cause(&fx->g[1], "mid", 1, NOW - 30, "B mid");
	const struct mu_record *ev =
	    event(&fx->g[0], "meet", 1, T, -1, false, MU_EVENT_CONFIRMED);
	const struct mu_record *all[] = {a1, a2, b1, ev, a2b};
	const struct mu_record *sorted[3] = {a1, a2b, b1}, *tmp;
	enum mu_put_result res[5];
	struct mu_why why;
	struct seen s;

	assert_int_equal(mu_store_put(fx->st, all, 5, res, &why), 0);
	/* Address order: kind, group, d. */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (addr_cmp(sorted[j], sorted[i]) < 0) {
				tmp = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = tmp;
			}

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_CAUSE, NULL, collect, &s), 0);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(s.ids[i], sorted[i]->id, MU_ID_BYTES);

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_CAUSE, fx->g[0].pk, collect, &s),
	                 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.ids[0], a2b->id, MU_ID_BYTES); /* "alpha" < "zeta" */
	assert_memory_equal(s.ids[1], a1->id, MU_ID_BYTES);

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_CAUSE, fx->g[2].pk, collect, &s),
	                 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(mu_store_list(fx->st, MU_KIND_EVENT, NULL, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kinds[0], MU_KIND_EVENT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_PROFILE, NULL, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(mu_store_list(fx->st, MU_KIND_DELETE, NULL, collect, &s),
	                 MU_EINVAL);
}

/* Stops the scan after each record. */
static int
collect_one(void *ctx, const struct mu_record *r)
{
	int rc = collect(ctx, r);

	return rc != 0 ? rc : 1;
}

/* mu_store_list_after() goes on after the last record handed on, one call
 * per record here, to the same list as one mu_store_list(); a place in
 * another list starts over. */
static void
test_list_after(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[] = {
	    cause(&fx->g[0], "zeta", 1, NOW - 10, "A zeta"),
	    cause(&fx->g[0], "alpha", 1, NOW - 20, "A alpha"),
	    cause(&fx->g[1], "mid", 1, NOW - 30, "B mid"),
	    cause(&fx->g[1], "mid2", 1, NOW - 30, "B mid 2"),
	    event(&fx->g[0], "meet", 1, T, -1, false, MU_EVENT_CONFIRMED)};
	enum mu_put_result res[5];
	struct mu_store_list_pos pos = {0, {0}}, events = {0, {0}};
	struct mu_why why;
	struct seen whole, one;
	size_t calls = 0;
	int rc;

	assert_int_equal(mu_store_put(fx->st, r, 5, res, &why), 0);
	memset(&whole, 0, sizeof(whole));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_CAUSE, NULL, collect, &whole),
	                 0);
	assert_int_equal(whole.n, 4);
	memset(&one, 0, sizeof(one));
	while ((rc = mu_store_list_after(fx->st, MU_KIND_CAUSE, NULL, &pos, collect_one,
	                                 &one)) == 1)
		assert_int_equal(one.n, ++calls);
	assert_int_equal(rc, 0);
	assert_int_equal(calls, 4);
	assert_memory_equal(one.ids, whole.ids, 4 * MU_ID_BYTES);
	/* At the end it stays at the end. */
	assert_int_equal(
	    mu_store_list_after(fx->st, MU_KIND_CAUSE, NULL, &pos, collect_one, &one),
	    0);

	/* One group's list, from a place in it. */
	memset(&pos, 0, sizeof(pos));
	memset(&one, 0, sizeof(one));
	assert_int_equal(mu_store_list_after(fx->st, MU_KIND_CAUSE, fx->g[1].pk, &pos,
	                                     collect_one, &one),
	                 1);
	assert_int_equal(mu_store_list_after(fx->st, MU_KIND_CAUSE, fx->g[1].pk, &pos,
	                                     collect_one, &one),
	                 1);
	assert_int_equal(mu_store_list_after(fx->st, MU_KIND_CAUSE, fx->g[1].pk, &pos,
	                                     collect_one, &one),
	                 0);
	assert_int_equal(one.n, 2);
	assert_memory_equal(one.ids[0], r[2]->id, MU_ID_BYTES);
	assert_memory_equal(one.ids[1], r[3]->id, MU_ID_BYTES);

	/* A place in the events starts the causes over. */
	memset(&one, 0, sizeof(one));
	assert_int_equal(mu_store_list_after(fx->st, MU_KIND_EVENT, NULL, &events,
	                                     collect_one, &one),
	                 1);
	assert_int_equal(mu_store_list_after(fx->st, MU_KIND_CAUSE, NULL, &events,
	                                     collect_one, &one),
	                 1);
	assert_memory_equal(one.ids[1], whole.ids[0], MU_ID_BYTES);
}

static void
test_each_order(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[6];
	enum mu_put_result res[6];
	struct mu_why why;
	struct seen s;

	r[0] = cause(&fx->g[0], "c3", 1, NOW - 10, "Three");
	r[1] = cause(&fx->g[1], "c1", 1, NOW - 30, "One");
	r[2] = del_id(&fx->g[0], (uint8_t[MU_ID_BYTES]){7}, NOW - 20);
	r[3] = cause(&fx->g[2], "c0", 1, 5, "Early");
	r[4] = cause(&fx->g[0], "t1", 1, NOW - 20, "Tie one");
	r[5] = cause(&fx->g[1], "t2", 1, NOW - 20, "Tie two");
	assert_int_equal(mu_store_put(fx->st, r, 6, res, &why), 0);
	assert_int_equal(count(fx->st), 6);

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_each(fx->st, collect, &s), 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 1; i < s.n; i++) {
		assert_true(s.created[i - 1] <= s.created[i]);
		if (s.created[i - 1] == s.created[i])
			assert_true(memcmp(s.ids[i - 1], s.ids[i], MU_ID_BYTES) < 0);
	}
	assert_int_equal(s.created[0], 5);
	assert_int_equal(s.created[5], NOW - 10);
	/* The tombstone is among them. */
	bool saw_delete = false;
	for (size_t i = 0; i < s.n; i++)
		saw_delete |= s.kinds[i] == MU_KIND_DELETE;
	assert_true(saw_delete);

	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_int_equal(mu_store_each(fx->st, collect, &s), 7);
	assert_int_equal(s.n, 3);
}

struct ally_seen {
	size_t n;
	uint8_t other[16][MU_KEY_BYTES];
	enum mu_alliance_state state[16];
	bool ours[16], theirs[16];
	int ended[16]; /* 0: not ended; 1: by our record; 2: by theirs */
};

static int
collect_ally(void *ctx, const struct mu_alliance_view *v)
{
	struct ally_seen *s = ctx;

	assert_true(s->n < 16);
	memcpy(s->other[s->n], v->other, MU_KEY_BYTES);
	s->state[s->n] = v->state;
	s->ours[s->n] = v->ours != NULL;
	s->theirs[s->n] = v->theirs != NULL;
	s->ended[s->n] = v->ended == NULL ? 0 : v->ended == v->ours ? 1 : 2;
	assert_int_equal(v->ended != NULL, v->state == MU_ALLY_ENDED);
	if (v->ours != NULL)
		assert_memory_equal(v->ours->c.alliance.with, v->other, MU_KEY_BYTES);
	if (v->theirs != NULL)
		assert_memory_equal(v->theirs->group, v->other, MU_KEY_BYTES);
	s->n++;
	return 0;
}

static void
expect_ally(const struct ally_seen *s, const struct grp *g,
            enum mu_alliance_state state, bool ours, bool theirs)
{
	for (size_t i = 0; i < s->n; i++) {
		if (memcmp(s->other[i], g->pk, MU_KEY_BYTES) != 0)
			continue;
		assert_int_equal(s->state[i], state);
		assert_int_equal(s->ours[i], ours);
		assert_int_equal(s->theirs[i], theirs);
		return;
	}
	fail_msg("group not listed among the alliances");
}

/* Which record ended the alliance with g: 0 none, 1 ours, 2 theirs. */
static int
ended_by(const struct ally_seen *s, const struct grp *g)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->other[i], g->pk, MU_KEY_BYTES) == 0)
			return s->ended[i];
	fail_msg("group not listed among the alliances");
	return -1;
}

static void
test_alliances(void **state)
{
	struct fx *fx = *state;
	struct grp g[9]; /* g[0] is us */
	struct ally_seen s;
	const struct mu_record *r[16];
	enum mu_put_result res[16];
	struct mu_why why;
	size_t n = 0;

	for (int i = 0; i < 9; i++)
		grp_init(&g[i]);
	/* 1: mutual, ours after an earlier ended version */
	r[n++] = alliance(&g[0], &g[1], 1, MU_ALLIANCE_ENDED);
	r[n++] = alliance(&g[0], &g[1], 2, MU_ALLIANCE_PROPOSED);
	r[n++] = alliance(&g[1], &g[0], 1, MU_ALLIANCE_PROPOSED);
	/* 2: proposed by us, theirs missing */
	r[n++] = alliance(&g[0], &g[2], 1, MU_ALLIANCE_PROPOSED);
	/* 3: proposed by us again after theirs ended */
	r[n++] = alliance(&g[0], &g[3], 2, MU_ALLIANCE_PROPOSED);
	r[n++] = alliance(&g[3], &g[0], 1, MU_ALLIANCE_ENDED);
	/* 4: proposed to us, ours missing */
	r[n++] = alliance(&g[4], &g[0], 1, MU_ALLIANCE_PROPOSED);
	/* 5: proposed to us again after ours ended */
	r[n++] = alliance(&g[0], &g[5], 1, MU_ALLIANCE_ENDED);
	r[n++] = alliance(&g[5], &g[0], 2, MU_ALLIANCE_PROPOSED);
	/* 6: ended by us, theirs missing */
	r[n++] = alliance(&g[0], &g[6], 1, MU_ALLIANCE_ENDED);
	/* 7: both ended */
	r[n++] = alliance(&g[0], &g[7], 1, MU_ALLIANCE_ENDED);
	r[n++] = alliance(&g[7], &g[0], 3, MU_ALLIANCE_ENDED);
	/* 8: ended by them after we proposed */
	r[n++] = alliance(&g[0], &g[8], 1, MU_ALLIANCE_PROPOSED);
	r[n++] = alliance(&g[8], &g[0], 2, MU_ALLIANCE_ENDED);
	/* Alliances between others are none of ours. */
	r[n++] = alliance(&g[1], &g[2], 1, MU_ALLIANCE_PROPOSED);
	r[n++] = alliance(&g[2], &g[1], 1, MU_ALLIANCE_PROPOSED);
	assert_int_equal(mu_store_put(fx->st, r, n, res, &why), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_alliances(fx->st, g[0].pk, collect_ally, &s), 0);
	assert_int_equal(s.n, 8);
	expect_ally(&s, &g[1], MU_ALLY_MUTUAL, true, true);
	expect_ally(&s, &g[2], MU_ALLY_BY_US, true, false);
	expect_ally(&s, &g[3], MU_ALLY_BY_US, true, true);
	expect_ally(&s, &g[4], MU_ALLY_TO_US, false, true);
	expect_ally(&s, &g[5], MU_ALLY_TO_US, true, true);
	expect_ally(&s, &g[6], MU_ALLY_ENDED, true, false);
	expect_ally(&s, &g[7], MU_ALLY_ENDED, true, true);
	expect_ally(&s, &g[8], MU_ALLY_ENDED, true, true);
	/* The earlier of two ends; theirs when only theirs stands. */
	assert_int_equal(ended_by(&s, &g[6]), 1);
	assert_int_equal(ended_by(&s, &g[7]), 1);
	assert_int_equal(ended_by(&s, &g[8]), 2);
	assert_int_equal(ended_by(&s, &g[1]), 0);
	/* Each group once, in key order. */
	for (size_t i = 1; i < s.n; i++)
		assert_true(memcmp(s.other[i - 1], s.other[i], MU_KEY_BYTES) < 0);

	/* Seen from group 2: B's proposal to us is not mutual yet... */
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_alliances(fx->st, g[2].pk, collect_ally, &s), 0);
	assert_int_equal(s.n, 2);
	expect_ally(&s, &g[0], MU_ALLY_TO_US, false, true);
	expect_ally(&s, &g[1], MU_ALLY_MUTUAL, true, true);

	/* ...and ending ours ends the mutual one. */
	assert_int_equal(put1(fx->st, alliance(&g[0], &g[1], 3, MU_ALLIANCE_ENDED)),
	                 MU_PUT_NEW);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_alliances(fx->st, g[0].pk, collect_ally, &s), 0);
	expect_ally(&s, &g[1], MU_ALLY_ENDED, true, true);
	assert_int_equal(ended_by(&s, &g[1]), 1);

	/* A group with no alliances sees none. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_alliances(fx->st, fx->g[2].pk, collect_ally, &s), 0);
	assert_int_equal(s.n, 0);
	assert_string_equal(mu_alliance_state_name(MU_ALLY_MUTUAL), "mutual");
}

/* Opens the store's environment behind the store's back, to damage it. */
static void
raw_put(const char *dir, const char *db, const void *key, size_t klen, const void *val,
        size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_corrupt(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r = cause(&fx->g[0], "rent", 1, NOW - 100, "Rent");
	uint8_t id[MU_ID_BYTES], tkey[8 + MU_ID_BYTES] = {0}, seq[8] = {0};
	uint8_t akey[1 + MU_KEY_BYTES + 4], tval[MU_KEY_BYTES + 8] = {0};
	const struct mu_record *batch[2];
	enum mu_put_result res[2];
	struct mu_why why = {0};
	struct seen s;

	assert_int_equal(put1(fx->st, r), MU_PUT_NEW);
	mu_store_close(fx->st);
	fx->st = NULL;
	memset(id, 0x42, sizeof(id));
	memcpy(tkey + 8, id, MU_ID_BYTES);
	seq[7] = 100;
	raw_put(fx->dir, "meta", "seq", 3, seq, sizeof(seq));
	raw_put(fx->dir, "bodies", seq, sizeof(seq), "\x92\xc4\x01", 3);
	raw_put(fx->dir, "ids", id, MU_ID_BYTES, seq, sizeof(seq));
	/* by_time's value: group, then the sequence number. */
	memcpy(tval, fx->g[0].pk, MU_KEY_BYTES);
	tval[MU_KEY_BYTES + 7] = 100;
	raw_put(fx->dir, "by_time", tkey, sizeof(tkey), tval, sizeof(tval));
	/* The address "park" now points at the damaged record (storage/README.md
	 * has the address key layout). */
	akey[0] = MU_KIND_CAUSE;
	memcpy(akey + 1, fx->g[0].pk, MU_KEY_BYTES);
	memcpy(akey + 1 + MU_KEY_BYTES, "park", 4);
	raw_put(fx->dir, "current", akey, sizeof(akey), id, MU_ID_BYTES);
	reopen(fx, NULL);
	assert_int_equal(get_id(fx->st, id, &s), MU_ECORRUPT);
	assert_int_equal(get_id(fx->st, r->id, &s), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_each(fx->st, collect, &s), MU_ECORRUPT);
	assert_int_equal(get_addr(fx->st, &fx->g[0], MU_KIND_CAUSE, "park", &s),
	                 MU_ECORRUPT);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mu_store_list(fx->st, MU_KIND_CAUSE, NULL, collect, &s),
	                 MU_ECORRUPT);

	/* A batch that meets the damage half-way leaves nothing behind. */
	batch[0] = cause(&fx->g[0], "fresh", 1, NOW - 100, "Fresh");
	batch[1] = cause(&fx->g[0], "park", 2, NOW - 100, "Park");
	assert_int_equal(mu_store_put(fx->st, batch, 2, res, &why), MU_ECORRUPT);
	assert_non_null(strstr(why.text, "is damaged"));
	assert_int_equal(get_id(fx->st, batch[0]->id, &s), MU_ENOTFOUND);
	assert_int_equal(count(fx->st), 2);

	/* Bytes that parse but under another id are damage too. (LMDB must
	 * not be opened twice in one process: close ours first.) */
	mu_store_close(fx->st);
	fx->st = NULL;
	raw_put(fx->dir, "bodies", seq, sizeof(seq), r->raw, r->raw_len);
	reopen(fx, NULL);
	assert_int_equal(get_id(fx->st, id, &s), MU_ECORRUPT);
}

static void
test_schema(void **state)
{
	struct fx *fx = *state;
	struct mu_store *st = NULL;
	struct mu_why why = {0};

	mu_store_close(fx->st);
	fx->st = NULL;
	raw_put(fx->dir, "meta", "schema", 6, "\0\0\0\11", 4);
	assert_int_equal(mu_store_open(&st, fx->dir, NULL, &why), MU_EVERSION);
	assert_null(st);
	assert_non_null(strstr(why.text, "schema version 9"));
	/* An old version whose tables are not there is refused, not guessed. */
	raw_put(fx->dir, "meta", "schema", 6, "\0\0\0\2", 4);
	assert_int_equal(mu_store_open(&st, fx->dir, NULL, &why), MU_EVERSION);
	assert_non_null(strstr(why.text, "no 'records' database"));
	raw_put(fx->dir, "meta", "schema", 6, "\0\0\0\3", 4);
	assert_int_equal(mu_store_open(&fx->st, fx->dir, NULL, &why), 0);
}

static void
test_read_only(void **state)
{
	struct fx *fx = *state;
	struct mu_store_opts ro = {.read_only = true};
	const struct mu_record *r = cause(&fx->g[0], "rent", 1, NOW - 100, "Rent");
	enum mu_put_result res;
	struct mu_store *st = NULL;
	struct mu_why why = {0};
	char missing[96];
	struct seen s;

	assert_int_equal(put1(fx->st, r), MU_PUT_NEW);
	reopen(fx, &ro);
	assert_int_equal(get_id(fx->st, r->id, &s), 0);
	assert_int_equal(count(fx->st), 1);
	assert_int_equal(mu_store_put(fx->st, &r, 1, &res, &why), MU_EINVAL);
	assert_non_null(strstr(why.text, "read-only"));

	snprintf(missing, sizeof(missing), "%s/nowhere", fx->dir);
	assert_int_equal(mu_store_open(&st, missing, NULL, &why), MU_EIO);
	assert_null(st);
	assert_non_null(strstr(why.text, "no store at"));
}

/* KiB of data.mdb in dir that this process has mapped (its Rss in smaps). */
static long
map_rss_kib(const char *dir)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[4096], path[128];
	bool in = false;
	long total = 0, kib;

	assert_non_null(f);
	snprintf(path, sizeof(path), "%s/data.mdb\n", dir);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line), pn = strlen(path);

		/* Mapping lines start with an address range; fields with a
		 * capital letter. */
		if ((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f'))
			in = n >= pn && strcmp(line + n - pn, path) == 0;
		else if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
			total += kib;
	}
	fclose(f);
	return total;
}

static void
test_release_map(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[32];
	char desc[3001], d[8];
	struct seen s;

	memset(desc, 'x', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	for (size_t i = 0; i < 32; i++) {
		snprintf(d, sizeof(d), "c%zu", i);
		r[i] = cause_desc(&fx->g[i % 8], d, 1, NOW - 100, "Rent", desc);
		assert_int_equal(put1(fx->st, r[i]), MU_PUT_NEW);
	}
	reopen(fx, NULL);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(get_id(fx->st, r[i]->id, &s), 0);
	assert_true(map_rss_kib(fx->dir) >= 32 * 3);

	/* Given back: none of the file is mapped, and every record reads
	 * back byte for byte, mapping its pages again. */
	assert_int_equal(mu_store_release_map(fx->st), 0);
	assert_int_equal(map_rss_kib(fx->dir), 0);
	for (size_t i = 0; i < 32; i++) {
		assert_int_equal(get_id(fx->st, r[i]->id, &s), 0);
		assert_int_equal(s.raw_len, r[i]->raw_len);
		assert_memory_equal(s.raw, r[i]->raw, r[i]->raw_len);
	}
	assert_true(map_rss_kib(fx->dir) > 0);
	/* Writes go on as before. */
	assert_int_equal(mu_store_release_map(fx->st), 0);
	assert_int_equal(put1(fx->st, cause(&fx->g[0], "after", 1, NOW, "Rent")),
	                 MU_PUT_NEW);
	assert_int_equal(count(fx->st), 33);
}

/* Counts of kinds and of the fixture's groups: from the parsed records of
 * mu_store_each, or from mu_store_counts. */
struct tally {
	uint64_t kinds[MU_KIND_COUNT];
	uint64_t groups[8];
	size_t ngroups, stop_at; /* stop_at: return 7 at that group (from 1) */
	uint8_t last[MU_KEY_BYTES];
	const struct fx *fx;
};

static size_t
group_index(const struct fx *fx, const uint8_t group[MU_KEY_BYTES])
{
	for (size_t i = 0; i < 8; i++)
		if (memcmp(fx->g[i].pk, group, MU_KEY_BYTES) == 0)
			return i;
	fail_msg("a group that is none of the fixture's");
	return 0;
}

static int
tally_record(void *ctx, const struct mu_record *r)
{
	struct tally *t = ctx;

	t->kinds[r->kind]++;
	t->groups[group_index(t->fx, r->group)]++;
	return 0;
}

static int
tally_group(void *ctx, const uint8_t group[MU_KEY_BYTES], uint64_t n)
{
	struct tally *t = ctx;

	/* Each group once, in key order, only with records. */
	if (t->ngroups > 0)
		assert_true(memcmp(t->last, group, MU_KEY_BYTES) < 0);
	memcpy(t->last, group, MU_KEY_BYTES);
	assert_true(n > 0);
	t->groups[group_index(t->fx, group)] = n;
	return ++t->ngroups == t->stop_at ? 7 : 0;
}

static void
test_counts(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = fx->g;
	const struct mu_record *rent1 = cause(&g[0], "rent", 1, NOW - 100, "Rent");
	const struct mu_record *rent2 = cause(&g[0], "rent", 2, NOW - 90, "Rent 2");
	const struct mu_record *park = cause(&g[0], "park", 1, NOW - 100, "Park");
	const struct mu_record *b1 =
	    event(&g[0], "b", 1, T, -1, false, MU_EVENT_CONFIRMED);
	const struct mu_record *b2 =
	    event(&g[0], "b", 2, T + DAY, -1, false, MU_EVENT_CONFIRMED);
	const struct mu_record *recs[] = {
	    profile(&g[0], "Alpha"),
	    rent1,
	    rent2,
	    rent1, /* superseded: not stored */
	    park,
	    event(&g[0], "a", 1, T, -1, false, MU_EVENT_CONFIRMED),
	    b1,
	    b2,
	    del_addr(&g[0], MU_KIND_EVENT, "a", NOW - 50),
	    del_id(&g[0], park->id, NOW - 40),
	    park, /* deleted: not stored */
	    alliance(&g[0], &g[1], 1, MU_ALLIANCE_PROPOSED),
	    cause(&g[1], "x", 1, NOW - 80, "X"),
	    del_id(&g[1], rent2->id, NOW - 30), /* another group's: inert */
	    alliance(&g[1], &g[0], 1, MU_ALLIANCE_PROPOSED),
	    alliance(&g[1], &g[0], 2, MU_ALLIANCE_ENDED),
	    del_id(&g[2], (uint8_t[MU_ID_BYTES]){9}, NOW - 20), /* target unknown */
	    event(&g[3], "c", 1, T, T + 3600, false, MU_EVENT_CANCELLED),
	};
	struct tally want = {.fx = fx}, got = {.fx = fx};
	struct mu_store_counts c;

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		put1(fx->st, recs[i]);
	assert_int_equal(mu_store_each(fx->st, tally_record, &want), 0);
	assert_int_equal(mu_store_counts(fx->st, &c, tally_group, &got), 0);
	/* The walk gave back the pages it read. */
	assert_int_equal(map_rss_kib(fx->dir), 0);

	/* What the parsed records say, and what the rules make of the puts. */
	assert_int_equal(c.records, count(fx->st));
	assert_memory_equal(c.kinds, want.kinds, sizeof(c.kinds));
	assert_memory_equal(got.groups, want.groups, sizeof(got.groups));
	assert_int_equal(c.records, 11);
	assert_int_equal(c.kinds[MU_KIND_PROFILE], 1);
	assert_int_equal(c.kinds[MU_KIND_CAUSE], 2);
	assert_int_equal(c.kinds[MU_KIND_EVENT], 2);
	assert_int_equal(c.kinds[MU_KIND_ALLIANCE], 2);
	assert_int_equal(c.kinds[MU_KIND_DELETE], 4);
	assert_int_equal(got.ngroups, 4);
	assert_int_equal(got.groups[0], 6);
	assert_int_equal(got.groups[1], 3);
	assert_int_equal(got.groups[2], 1);
	assert_int_equal(got.groups[3], 1);

	/* The visitor's non-zero return stops the walk and comes back. */
	memset(&got, 0, sizeof(got));
	got.fx = fx;
	got.stop_at = 2;
	assert_int_equal(mu_store_counts(fx->st, &c, tally_group, &got), 7);
	assert_int_equal(got.ngroups, 2);
	/* Without a visitor, the kinds alone; a read-only store counts too. */
	reopen(fx, &(struct mu_store_opts){0, true});
	assert_int_equal(mu_store_counts(fx->st, &c, NULL, NULL), 0);
	assert_memory_equal(c.kinds, want.kinds, sizeof(c.kinds));

	/* An empty store has nothing of anything. */
	teardown(state);
	setup(state);
	fx = *state;
	got = (struct tally){.fx = fx};
	assert_int_equal(mu_store_counts(fx->st, &c, tally_group, &got), 0);
	assert_int_equal(c.records, 0);
	for (int k = 0; k < MU_KIND_COUNT; k++)
		assert_int_equal(c.kinds[k], 0);
	assert_int_equal(got.ngroups, 0);
}

/* The newest created_at of each fixture group, from the parsed records. */
struct newest {
	int64_t at[8];
	const struct fx *fx;
};

static int
newest_record(void *ctx, const struct mu_record *r)
{
	struct newest *n = ctx;
	size_t i = group_index(n->fx, r->group);

	if (r->created_at > n->at[i])
		n->at[i] = r->created_at;
	return 0;
}

/* mu_store_group_newest() is what a walk over every record says, for
 * groups with records, groups without (between two with records, before
 * and after all of them) and the first and last keys there can be. */
static void
test_group_newest(void **state)
{
	struct fx *fx = *state;
	const struct grp *g = fx->g;
	const struct mu_record *recs[] = {
	    profile(&g[0], "Alpha"),
	    cause(&g[0], "rent", 1, NOW - 100, "Rent"),
	    cause(&g[0], "park", 1, NOW - 300, "Park"),
	    event(&g[1], "b", 1, T, -1, false, MU_EVENT_CONFIRMED),
	    del_id(&g[1], (uint8_t[MU_ID_BYTES]){9}, NOW - 20), /* the newest */
	    cause(&g[3], "c", 1, NOW - 5000, "Old"),
	    alliance(&g[5], &g[0], 1, MU_ALLIANCE_PROPOSED),
	};
	uint8_t edge[MU_KEY_BYTES];
	struct newest want = {.fx = fx};
	int64_t at;

	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(mu_store_group_newest(fx->st, g[i].pk, &at), 0);
		assert_int_equal(at, 0);
	}
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		put1(fx->st, recs[i]);
	assert_int_equal(mu_store_each(fx->st, newest_record, &want), 0);
	assert_int_equal(want.at[1], NOW - 20);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(mu_store_group_newest(fx->st, g[i].pk, &at), 0);
		assert_int_equal(at, want.at[i]);
	}
	memset(edge, 0, sizeof(edge));
	assert_int_equal(mu_store_group_newest(fx->st, edge, &at), 0);
	assert_int_equal(at, 0);
	memset(edge, 0xff, sizeof(edge));
	assert_int_equal(mu_store_group_newest(fx->st, edge, &at), 0);
	assert_int_equal(at, 0);
}

/* /proc/self/statm in KiB: the resident pages, and of them the "shared"
 * ones (file-backed: what the budget counts). */
static void
statm_kib(long *resident, long *shared)
{
	unsigned long size, res, sh;
	FILE *f = fopen("/proc/self/statm", "re");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu %lu", &size, &res, &sh), 3);
	fclose(f);
	*resident = (long)res * (sysconf(_SC_PAGESIZE) / 1024);
	*shared = (long)sh * (sysconf(_SC_PAGESIZE) / 1024);
}

static long
file_resident_kib(void)
{
	long res, shared;

	statm_kib(&res, &shared);
	return shared;
}

#define BUDGET_RECS  4000
#define BUDGET_BATCH 200

struct budget_walk {
	const char *dir;
	size_t n;
	long peak_kib;
};

static int
budget_visit(void *ctx, const struct mu_record *rec)
{
	struct budget_walk *w = ctx;
	long kib;

	(void)rec;
	if (++w->n % 16 == 0 && (kib = map_rss_kib(w->dir)) > w->peak_kib)
		w->peak_kib = kib;
	return 0;
}

/* Reads every record, by id and then in one scan: the peak of the store's
 * mapped pages, in KiB. */
static long
read_all(struct fx *fx, const struct mu_record *const *r)
{
	struct budget_walk w = {fx->dir, 0, 0};
	struct seen s;

	assert_int_equal(mu_store_release_map(fx->st), 0);
	/* A stride through the ids, so that reads land all over the file. */
	for (size_t i = 0, j = 0; i < BUDGET_RECS; i++, j = (j + 997) % BUDGET_RECS) {
		assert_int_equal(get_id(fx->st, r[j]->id, &s), 0);
		assert_int_equal(s.raw_len, r[j]->raw_len);
		assert_memory_equal(s.raw, r[j]->raw, r[j]->raw_len);
		assert_int_equal(budget_visit(&w, r[j]), 0);
	}
	assert_int_equal(mu_store_each(fx->st, budget_visit, &w), 0);
	assert_int_equal(w.n, BUDGET_RECS + count(fx->st));
	return w.peak_kib;
}

/* Stores BUDGET_RECS records of 3 KB into r, and reopens the store so that
 * none of it is mapped. */
static void
put_budget_recs(struct fx *fx, const struct mu_record **r)
{
	enum mu_put_result res[BUDGET_BATCH];
	struct mu_why why = {0};
	char desc[3001], d[16];

	memset(desc, 'x', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	for (size_t i = 0; i < BUDGET_RECS; i++) {
		snprintf(d, sizeof(d), "c%zu", i);
		r[i] = cause_desc(&fx->g[i % 8], d, 1, NOW - 100, "Rent", desc);
	}
	for (size_t i = 0; i < BUDGET_RECS; i += BUDGET_BATCH)
		if (mu_store_put(fx->st, r + i, BUDGET_BATCH, res, &why) != 0)
			fail_msg("put: %s", why.text);
	reopen(fx, NULL);
}

/* With a budget, the store gives its map back by itself: reading 16 MB of
 * records (a page each) keeps a few MiB of it mapped, where without one all
 * of it stays. The budget leaves 2 MiB of room over what the process had
 * mapped before; reads between two looks add at most a few pages of
 * LMDB-written folios (up to 256 KiB each), hence the 8 MiB bound. */
static void
test_map_budget(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[BUDGET_RECS];
	long without, with;

	put_budget_recs(fx, r);

	without = read_all(fx, r);
	assert_true(without >= 14 * 1024);

	assert_int_equal(mu_store_release_map(fx->st), 0);
	assert_int_equal(
	    mu_store_set_map_budget(fx->st, (size_t)(file_resident_kib() + 2048) << 10),
	    0);
	with = read_all(fx, r);
	if (with > 8 * 1024)
		fail_msg("%ld KiB of the store mapped with a budget (%ld without)",
		         with, without);
	/* Writes go on under the budget, and 0 turns it off again. */
	assert_int_equal(put1(fx->st, cause(&fx->g[0], "after", 1, NOW, "Rent")),
	                 MU_PUT_NEW);
	assert_int_equal(count(fx->st), BUDGET_RECS + 1);
	assert_int_equal(mu_store_set_map_budget(fx->st, 0), 0);
	assert_true(read_all(fx, r) >= 14 * 1024);
}

/* Beside a large heap the map keeps less than its budget: with 96 MiB of
 * heap in use and a budget 64 MiB over the resident size, reading 16 MB of
 * records keeps about 8 MiB of the map (MAP_WRITE_ROOM), not all of it. */
static void
test_map_budget_heap(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[BUDGET_RECS];
	size_t heap = (size_t)96 << 20;
	unsigned char *h;
	long with, after, res, shared, room, want;

	put_budget_recs(fx, r);

	/* Mapped, not malloc()ed: unmapped, it leaves at once, where a
	 * sanitizer would keep freed memory in quarantine. */
	h = mmap(NULL, heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	         0);
	assert_true(h != MAP_FAILED);
	memset(h, 1, heap);
	assert_int_equal(mu_store_release_map(fx->st), 0);
	assert_int_equal(mu_store_set_map_budget(
	                     fx->st, (size_t)(file_resident_kib() + 65536) << 10),
	                 0);
	with = read_all(fx, r);
	assert_int_equal(h[heap / 2], 1);
	assert_int_equal(munmap(h, heap), 0);
	if (with > 10 * 1024)
		fail_msg("%ld KiB of the store mapped beside a heap of 96 MiB", with);
	/* The heap gone, the map has what MAP_WITH_HEAP (80 MiB) leaves beside
	 * the rest of the process's own memory (a sanitizer's is large), up
	 * to all it read: the whole budget in a plain build. */
	statm_kib(&res, &shared);
	room = 80 * 1024 - (res - shared) - 2048;
	want = room < 7 * 1024 ? 7 * 1024 : room < 14 * 1024 ? room : 14 * 1024;
	after = read_all(fx, r);
	if (after < want)
		fail_msg("only %ld KiB of the store mapped without the heap (%ld "
		         "wanted)",
		         after, want);
}

#define WRITE_BASE  30000
#define WRITE_BATCH 4000

/* Puts WRITE_BATCH new records in one write transaction, tag their names,
 * and returns the peak of the store's mapped pages meanwhile, in KiB. */
static long
write_batch(struct fx *fx, const char *tag)
{
	const struct mu_record *r;
	enum mu_put_result res;
	struct mu_store_batch *b;
	struct mu_why why = {0};
	char d[32];
	long kib, peak = 0;

	assert_int_equal(mu_store_batch_begin(fx->st, &b, &why), 0);
	for (size_t i = 0; i < WRITE_BATCH; i++) {
		snprintf(d, sizeof(d), "%s%zu", tag, i);
		r = cause(&fx->g[i % 8], d, 1,
		          NOW - 1000 - (int64_t)(i * 7919 % 100000), "Rent");
		if (mu_store_batch_put(b, &r, 1, &res, &why) != 0)
			fail_msg("put: %s", why.text);
		assert_int_equal(res, MU_PUT_NEW);
		if (i % 64 == 0 && (kib = map_rss_kib(fx->dir)) > peak)
			peak = kib;
	}
	if (mu_store_batch_commit(b, &why) != 0)
		fail_msg("commit: %s", why.text);
	return peak;
}

/* A write transaction's map pages are given back past 8 MiB over what was
 * resident, even with a budget far larger: LMDB has copied the pages it
 * changes, so the map's would only add to its heap. Without a budget a
 * batch into a store of 30,000 records maps 13-14 MiB of it. */
static void
test_map_budget_write(void **state)
{
	struct fx *fx = *state;
	const struct mu_record *r[1000];
	enum mu_put_result res[1000];
	struct mu_why why = {0};
	char d[32];
	long without, with;

	for (size_t i = 0; i < WRITE_BASE; i += 1000) {
		for (size_t j = 0; j < 1000; j++) {
			snprintf(d, sizeof(d), "b%zu", i + j);
			r[j] = cause(&fx->g[j % 8], d, 1,
			             NOW - 1000 - (int64_t)((i + j) * 104729 % 100000),
			             "Rent");
		}
		if (mu_store_put(fx->st, r, 1000, res, &why) != 0)
			fail_msg("put: %s", why.text);
	}
	reopen(fx, NULL);

	assert_int_equal(mu_store_release_map(fx->st), 0);
	without = write_batch(fx, "w");
	if (without < 12 * 1024)
		fail_msg("a batch mapped only %ld KiB of the store", without);

	assert_int_equal(mu_store_release_map(fx->st), 0);
	assert_int_equal(mu_store_set_map_budget(
	                     fx->st, (size_t)(file_resident_kib() + 65536) << 10),
	                 0);
	with = write_batch(fx, "x");
	if (with > 10 * 1024)
		fail_msg("%ld KiB of the store mapped by a write under a budget (%ld "
		         "without)",
		         with, without);
	assert_int_equal(count(fx->st), WRITE_BASE + 2 * WRITE_BATCH);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(test_put_get),
	    T_(test_read_raw),
	    T_(test_duplicate),
	    T_(test_replace_rev),
	    T_(test_replace_ties),
	    T_(test_delete_addr),
	    T_(test_tombstone_first),
	    T_(test_delete_id),
	    T_(test_map_full),
	    T_(test_map_size_env),
	    T_(test_file_full),
	    T_(test_events),
	    T_(test_list),
	    T_(test_list_after),
	    T_(test_each_order),
	    T_(test_alliances),
	    T_(test_corrupt),
	    T_(test_schema),
	    T_(test_release_map),
	    T_(test_read_only),
	    T_(test_counts),
	    T_(test_group_newest),
	    T_(test_map_budget),
	    T_(test_map_budget_write),
	    T_(test_map_budget_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
