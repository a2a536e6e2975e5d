/*
 * Records: every kind with every field survives build and parse unchanged;
 * each rule of docs/PROTOCOL.md section 4 rejects what it should, naming the
 * rule, and accepts its boundary values; the replacement order of section 5.
 * Encoding details (non-canonical forms) are in test_canonical.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>
#include <sodium.h>

#include "protocol/record.h"
#include "protocol/kind.h"
#include "rec_util.h"

static struct key G; /* our group */
static struct key H; /* another group */

static void
hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
base(struct mu_record *r, enum mu_kind kind, const char *d)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	memcpy(r->group, G.pk, MU_KEY_BYTES);
	memcpy(r->signer, G.pk, MU_KEY_BYTES);
	r->created_at = T0 - 100;
	r->d = S(d);
}

static void
minimal_event(struct mu_record *r)
{
	base(r, MU_KIND_EVENT, "e1");
	r->c.event.title = S("Picnic");
	r->c.event.start = T0 + 86400;
	r->c.event.status = MU_EVENT_CONFIRMED;
}

/* Builds r at T0; on success parses the bytes again into *out (if given). */
static int
build(const struct mu_record *r, struct mu_record *out, uint8_t **bytes, size_t *len,
      struct mu_why *why)
{
	uint8_t id[MU_ID_BYTES];
	struct mu_why pwhy;
	int rc;

	rc = mu_rec_build(r, G.sk, T0, bytes, len, id, why);
	if (rc != 0) {
		assert_null(*bytes);
		return rc;
	}
	assert_non_null(*bytes);
	assert_string_equal(why->text, "");
	if (out != NULL) {
		rc = mu_rec_parse(out, *bytes, *len, T0, 0, &pwhy);
		if (rc != 0)
			fail_msg("built record does not parse: %s", pwhy.text);
		assert_memory_equal(out->id, id, MU_ID_BYTES);
	}
	return 0;
}

/* Builds r and expects rule to reject it. */
#define assert_build_rule(r, code, rule)                                               \
	do {                                                                           \
		uint8_t *b_ = NULL;                                                    \
		size_t n_ = 0;                                                         \
		struct mu_why w_;                                                      \
		int rc_ = build((r), NULL, &b_, &n_, &w_);                             \
		free(b_);                                                              \
		assert_rule(rc_, (code), &w_, (rule));                                 \
	} while (0)

#define assert_build_ok(r)                                                             \
	do {                                                                           \
		uint8_t *b_ = NULL;                                                    \
		size_t n_ = 0;                                                         \
		struct mu_why w_;                                                      \
		struct mu_record p_;                                                   \
		int rc_ = build((r), &p_, &b_, &n_, &w_);                              \
		free(b_);                                                              \
		if (rc_ != 0)                                                          \
			fail_msg("build failed: %s", w_.text);                         \
	} while (0)

static void
assert_str(struct mu_str got, const char *want)
{
	if (want == NULL) {
		assert_int_equal(got.len, 0);
		return;
	}
	assert_int_equal(got.len, strlen(want));
	assert_memory_equal(got.ptr, want, got.len);
}

static void
assert_addr(const struct mu_addr *a, const uint8_t *group, enum mu_kind kind,
            const char *d)
{
	assert_memory_equal(a->group, group, MU_KEY_BYTES);
	assert_int_equal(a->kind, kind);
	assert_str(a->d, d);
}

/* The header fields and the bytes of a parsed record. */
static void
assert_header(const struct mu_record *p, const struct mu_record *r,
              const uint8_t *bytes, size_t len)
{
	uint8_t id[MU_ID_BYTES];

	assert_ptr_equal(p->raw, bytes);
	assert_int_equal(p->raw_len, len);
	assert_true(p->body > bytes &&
	            p->body + p->body_len + 2 + MU_SIG_BYTES == bytes + len);
	assert_ptr_equal(p->sig, bytes + len - MU_SIG_BYTES);
	crypto_generichash(id, sizeof(id), p->body, p->body_len, NULL, 0);
	assert_memory_equal(p->id, id, MU_ID_BYTES);
	assert_int_equal(p->version, 1);
	assert_int_equal(p->kind, r->kind);
	assert_memory_equal(p->group, r->group, MU_KEY_BYTES);
	assert_memory_equal(p->signer, r->signer, MU_KEY_BYTES);
	assert_int_equal(p->created_at, r->created_at);
	assert_int_equal(p->d.len, r->d.len);
	assert_memory_equal(p->d.ptr, r->d.ptr, r->d.len);
	assert_int_equal(p->rev, r->rev);
}

/* The content map's keys, in wire order, decoded by msgpack-c (not by us). */
static void
assert_keys(const struct mu_record *p, const char *const *want, size_t n)
{
	msgpack_unpacked u;
	msgpack_object content;
	size_t i, off = 0;

	msgpack_unpacked_init(&u);
	assert_int_equal(
	    msgpack_unpack_next(&u, (const char *)p->body, p->body_len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, p->body_len);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(u.data.via.array.size, 8);
	content = u.data.via.array.ptr[7];
	assert_int_equal(content.type, MSGPACK_OBJECT_MAP);
	assert_int_equal(content.via.map.size, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(content.via.map.ptr[i].key.type, MSGPACK_OBJECT_STR);
		assert_int_equal(content.via.map.ptr[i].key.via.str.size,
		                 strlen(want[i]));
		assert_memory_equal(content.via.map.ptr[i].key.via.str.ptr, want[i],
		                    strlen(want[i]));
	}
	msgpack_unpacked_destroy(&u);
}

/* --- roundtrips -------------------------------------------------------- */

static void
test_profile_roundtrip(void **state)
{
	static const char *const keys[] = {"about", "contact", "location", "name",
	                                   "website"};
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	base(&r, MU_KIND_PROFILE, "");
	r.rev = 7;
	r.c.profile.name = S("Tenants' Union of \xc3\x98rsted");
	r.c.profile.about = S("We organise.\n\tEvery week.");
	r.c.profile.website = S("https://tu.example.org/");
	r.c.profile.contact = S("tu@example.org");
	r.c.profile.location = S("Copenhagen");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_str(p.c.profile.name, "Tenants' Union of \xc3\x98rsted");
	assert_str(p.c.profile.about, "We organise.\n\tEvery week.");
	assert_str(p.c.profile.website, "https://tu.example.org/");
	assert_str(p.c.profile.contact, "tu@example.org");
	assert_str(p.c.profile.location, "Copenhagen");
	assert_keys(&p, keys, 5);
	free(bytes);

	/* Only the required field. */
	base(&r, MU_KIND_PROFILE, "");
	r.c.profile.name = S("N");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_str(p.c.profile.about, NULL);
	assert_str(p.c.profile.website, NULL);
	assert_keys(&p, keys + 3, 1);
	free(bytes);
}

static void
test_cause_roundtrip(void **state)
{
	static const char *const keys[] = {"description", "status", "summary",
	                                   "tags",        "title",  "url"};
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	base(&r, MU_KIND_CAUSE, "rent-strike.2026_a");
	r.rev = 2147483647u;
	r.c.cause.title = S("Rent strike");
	r.c.cause.summary = S("Withhold rent until repairs are made.");
	r.c.cause.description = S("Long text.\nWith lines.");
	r.c.cause.url = S("http://example.org/strike");
	r.c.cause.tags[0] = S("housing");
	r.c.cause.tags[1] = S("rent");
	r.c.cause.tags[2] = S("caf\xc3\xa9");
	r.c.cause.ntags = 3;
	r.c.cause.status = MU_CAUSE_WON;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_str(p.c.cause.title, "Rent strike");
	assert_str(p.c.cause.summary, "Withhold rent until repairs are made.");
	assert_str(p.c.cause.description, "Long text.\nWith lines.");
	assert_str(p.c.cause.url, "http://example.org/strike");
	assert_int_equal(p.c.cause.ntags, 3);
	assert_str(p.c.cause.tags[0], "housing");
	assert_str(p.c.cause.tags[1], "rent");
	assert_str(p.c.cause.tags[2], "caf\xc3\xa9");
	assert_int_equal(p.c.cause.status, MU_CAUSE_WON);
	assert_keys(&p, keys, 6);
	free(bytes);

	r.c.cause.status = MU_CAUSE_ACTIVE;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_int_equal(p.c.cause.status, MU_CAUSE_ACTIVE);
	free(bytes);
	r.c.cause.status = MU_CAUSE_CLOSED;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_int_equal(p.c.cause.status, MU_CAUSE_CLOSED);
	free(bytes);
}

static void
full_event(struct mu_record *r)
{
	struct mu_event *e = &r->c.event;

	base(r, MU_KIND_EVENT, "2026-climate-strike");
	r->rev = 3;
	e->title = S("Climate strike \xe2\x80\x94 day one");
	e->description = S("Bring water.\nMeet at the fountain.");
	e->start = 1780272000; /* 2026-06-01 */
	e->has_end = true;
	e->end = 1780272000 + 2 * 86400;
	e->tz = S("Europe/Copenhagen");
	e->all_day = true;
	e->location.set = true;
	e->location.name = S("R\xc3\xa5"
	                     "dhuspladsen");
	e->location.address = S("1550 K\xc3\xb8"
	                        "benhavn V");
	e->location.has_geo = true;
	e->location.lat = 556761000;
	e->location.lon = -125683000;
	e->online[0] = S("https://stream.example.org/live");
	e->online[1] = S("http://backup.example.org/");
	e->nonline = 2;
	e->has_cause = true;
	memcpy(e->cause.group, H.pk, MU_KEY_BYTES);
	e->cause.kind = MU_KIND_CAUSE;
	e->cause.d = S("climate");
	e->status = MU_EVENT_TENTATIVE;
	e->has_capacity = true;
	e->capacity = 10000000;
	e->tags[0] = S("climate");
	e->tags[1] = S("strike");
	e->ntags = 2;
	memcpy(e->hosts[0], H.pk, MU_KEY_BYTES);
	memcpy(e->hosts[1], G.pk, MU_KEY_BYTES);
	e->nhosts = 2;
}

static void
test_event_roundtrip(void **state)
{
	static const char *const keys[] = {
	    "all_day", "capacity", "cause",  "description", "end",
	    "hosts",   "location", "online", "start",       "status",
	    "tags",    "title",    "tz"};
	struct mu_record r, p;
	const struct mu_event *e = &p.c.event;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	full_event(&r);
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_str(e->title, "Climate strike \xe2\x80\x94 day one");
	assert_str(e->description, "Bring water.\nMeet at the fountain.");
	assert_int_equal(e->start, 1780272000);
	assert_true(e->has_end);
	assert_int_equal(e->end, 1780272000 + 2 * 86400);
	assert_str(e->tz, "Europe/Copenhagen");
	assert_true(e->all_day);
	assert_true(e->location.set);
	assert_str(e->location.name, "R\xc3\xa5"
	                             "dhuspladsen");
	assert_str(e->location.address, "1550 K\xc3\xb8"
	                                "benhavn V");
	assert_true(e->location.has_geo);
	assert_int_equal(e->location.lat, 556761000);
	assert_int_equal(e->location.lon, -125683000);
	assert_int_equal(e->nonline, 2);
	assert_str(e->online[0], "https://stream.example.org/live");
	assert_str(e->online[1], "http://backup.example.org/");
	assert_true(e->has_cause);
	assert_addr(&e->cause, H.pk, MU_KIND_CAUSE, "climate");
	assert_int_equal(e->status, MU_EVENT_TENTATIVE);
	assert_true(e->has_capacity);
	assert_int_equal(e->capacity, 10000000);
	assert_int_equal(e->ntags, 2);
	assert_str(e->tags[0], "climate");
	assert_str(e->tags[1], "strike");
	assert_int_equal(e->nhosts, 2);
	assert_memory_equal(e->hosts[0], H.pk, MU_KEY_BYTES);
	assert_memory_equal(e->hosts[1], G.pk, MU_KEY_BYTES);
	assert_keys(&p, keys, 13);
	free(bytes);

	/* Absent optional fields stay absent. */
	minimal_event(&r);
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_false(e->has_end || e->all_day || e->location.set || e->has_cause ||
	             e->has_capacity);
	assert_int_equal(e->nonline + e->ntags + e->nhosts, 0);
	assert_int_equal(e->status, MU_EVENT_CONFIRMED);
	free(bytes);

	/* A location with only an address, and no geo. */
	minimal_event(&r);
	r.c.event.location.set = true;
	r.c.event.location.address = S("Main St 1");
	r.c.event.status = MU_EVENT_CANCELLED;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_true(e->location.set);
	assert_false(e->location.has_geo);
	assert_str(e->location.address, "Main St 1");
	assert_str(e->location.name, NULL);
	assert_int_equal(e->status, MU_EVENT_CANCELLED);
	free(bytes);
}

static void
test_alliance_roundtrip(void **state)
{
	static const char *const keys[] = {"causes", "status", "terms", "with"};
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;
	char d[65];

	(void)state;
	hex(d, H.pk, MU_KEY_BYTES);
	base(&r, MU_KIND_ALLIANCE, d);
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	r.c.alliance.terms = S("We act non-violently.\nWe share resources.");
	memcpy(r.c.alliance.causes[0].group, H.pk, MU_KEY_BYTES);
	r.c.alliance.causes[0].kind = MU_KIND_CAUSE;
	r.c.alliance.causes[0].d = S("climate");
	memcpy(r.c.alliance.causes[1].group, G.pk, MU_KEY_BYTES);
	r.c.alliance.causes[1].kind = MU_KIND_CAUSE;
	r.c.alliance.causes[1].d = S("rent-strike");
	r.c.alliance.ncauses = 2;
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_memory_equal(p.c.alliance.with, H.pk, MU_KEY_BYTES);
	assert_str(p.c.alliance.terms, "We act non-violently.\nWe share resources.");
	assert_int_equal(p.c.alliance.ncauses, 2);
	assert_addr(&p.c.alliance.causes[0], H.pk, MU_KIND_CAUSE, "climate");
	assert_addr(&p.c.alliance.causes[1], G.pk, MU_KIND_CAUSE, "rent-strike");
	assert_int_equal(p.c.alliance.status, MU_ALLIANCE_PROPOSED);
	assert_keys(&p, keys, 4);
	free(bytes);

	r.c.alliance.status = MU_ALLIANCE_ENDED;
	r.c.alliance.ncauses = 0;
	r.c.alliance.terms = S("");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_int_equal(p.c.alliance.status, MU_ALLIANCE_ENDED);
	assert_keys(&p, (const char *const[]){"status", "with"}, 2);
	free(bytes);
}

static void
test_delete_roundtrip(void **state)
{
	static const char *const keys[] = {"addr", "id", "reason"};
	static const char *const id_keys[] = {"id", "reason"};
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	base(&r, MU_KIND_DELETE, "");
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, G.pk, MU_KEY_BYTES);
	r.c.del.addr.kind = MU_KIND_EVENT;
	r.c.del.addr.d = S("2026-climate-strike");
	r.c.del.reason = S("Called off");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_true(p.c.del.by_addr);
	assert_addr(&p.c.del.addr, G.pk, MU_KIND_EVENT, "2026-climate-strike");
	assert_str(p.c.del.reason, "Called off");
	assert_keys(&p, (const char *const[]){keys[0], keys[2]}, 2);
	free(bytes);

	/* The profile's address has an empty d. */
	r.c.del.addr.kind = MU_KIND_PROFILE;
	r.c.del.addr.d = S("");
	r.c.del.reason = S("");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_addr(&p.c.del.addr, G.pk, MU_KIND_PROFILE, "");
	free(bytes);

	base(&r, MU_KIND_DELETE, "");
	memset(r.c.del.id, 0xab, MU_ID_BYTES);
	r.c.del.reason = S("Duplicate");
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_false(p.c.del.by_addr);
	assert_memory_equal(p.c.del.id, r.c.del.id, MU_ID_BYTES);
	assert_str(p.c.del.reason, "Duplicate");
	assert_keys(&p, id_keys, 2);
	free(bytes);
}

/* Building is deterministic, and the id is BLAKE2b-256 of the body. */
static void
test_build_deterministic(void **state)
{
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *a = NULL, *b = NULL, id[MU_ID_BYTES];
	size_t alen, blen;

	(void)state;
	full_event(&r);
	assert_int_equal(mu_rec_build(&r, G.sk, T0, &a, &alen, id, &why), 0);
	assert_int_equal(mu_rec_build(&r, G.sk, T0, &b, &blen, NULL, &why), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(mu_rec_parse(&p, a, alen, T0, 0, &why), 0);
	assert_memory_equal(p.id, id, MU_ID_BYTES);
	assert_string_equal(why.text, "");
	free(a);
	free(b);
}

/* --- the field tables -------------------------------------------------- */

static void
check_sorted(const struct mu_fields *t)
{
	size_t i;

	/* The parser keeps a bit per field of a table. */
	assert_true(t->n <= 32);
	for (i = 0; i + 1 < t->n; i++)
		if (strcmp(t->f[i].name, t->f[i + 1].name) >= 0)
			fail_msg("%s: \"%s\" before \"%s\"", t->name, t->f[i].name,
			         t->f[i + 1].name);
	for (i = 0; i < t->n; i++)
		if (t->f[i].type == MU_FT_MAP)
			check_sorted(t->f[i].sub);
}

static void
test_tables_sorted(void **state)
{
	int k;

	(void)state;
	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		assert_non_null(mu_rec_fields((enum mu_kind)k));
		assert_string_equal(mu_rec_fields((enum mu_kind)k)->name,
		                    mu_kind_name((enum mu_kind)k));
		check_sorted(mu_rec_fields((enum mu_kind)k));
	}
	assert_null(mu_rec_fields(MU_KIND_NONE));
	assert_null(mu_rec_fields(MU_KIND_COUNT));
}

static void
test_kind_names(void **state)
{
	static const char *const names[] = {
	    NULL,       "profile",    "cause",     "event",  "alliance",
	    "delete",   "node",       "organizer", "rsvp",   "tally",
	    "petition", "signatures", "pledge",    "pledged"};
	int k;

	(void)state;
	/* The store keeps kind values: they are appended, never renumbered. */
	assert_int_equal(MU_KIND_DELETE, 5);
	assert_int_equal(MU_KIND_NODE, 6);
	assert_int_equal(MU_KIND_ORGANIZER, 7);
	assert_int_equal(MU_KIND_RSVP, 8);
	assert_int_equal(MU_KIND_TALLY, 9);
	assert_int_equal(MU_KIND_PETITION, 10);
	assert_int_equal(MU_KIND_SIGNATURES, 11);
	assert_int_equal(MU_KIND_PLEDGE, 12);
	assert_int_equal(MU_KIND_PLEDGED, 13);
	assert_int_equal(MU_KIND_COUNT, sizeof(names) / sizeof(names[0]));
	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		assert_string_equal(mu_kind_name((enum mu_kind)k), names[k]);
		assert_int_equal(mu_kind_from_name(names[k], strlen(names[k])), k);
		assert_int_equal(mu_kind_replaceable((enum mu_kind)k),
		                 k != MU_KIND_DELETE);
	}
	assert_null(mu_kind_name(MU_KIND_NONE));
	assert_null(mu_kind_name(MU_KIND_COUNT));
	assert_int_equal(mu_kind_from_name("even", 4), MU_KIND_NONE);
	assert_int_equal(mu_kind_from_name("events", 6), MU_KIND_NONE);
	assert_int_equal(mu_kind_from_name("Event", 5), MU_KIND_NONE);
	assert_int_equal(mu_kind_from_name("", 0), MU_KIND_NONE);
	assert_false(mu_kind_replaceable(MU_KIND_NONE));

	assert_string_equal(mu_cause_status_name(MU_CAUSE_ACTIVE), "active");
	assert_string_equal(mu_cause_status_name(MU_CAUSE_WON), "won");
	assert_string_equal(mu_cause_status_name(MU_CAUSE_CLOSED), "closed");
	assert_null(mu_cause_status_name((enum mu_cause_status)0));
	assert_null(mu_cause_status_name((enum mu_cause_status)4));
	assert_string_equal(mu_event_status_name(MU_EVENT_TENTATIVE), "tentative");
	assert_string_equal(mu_event_status_name(MU_EVENT_CONFIRMED), "confirmed");
	assert_string_equal(mu_event_status_name(MU_EVENT_CANCELLED), "cancelled");
	assert_null(mu_event_status_name((enum mu_event_status)4));
	assert_string_equal(mu_alliance_status_name(MU_ALLIANCE_PROPOSED), "proposed");
	assert_string_equal(mu_alliance_status_name(MU_ALLIANCE_ENDED), "ended");
	assert_null(mu_alliance_status_name((enum mu_alliance_status)3));
	assert_string_equal(mu_petition_status_name(MU_PETITION_CLOSED), "closed");
	assert_string_equal(mu_pledge_unit_name(MU_PLEDGE_GROUPS), "groups");
}

/* mu_rec_build_parsed() hands back the record it checked, borrowing the
 * bytes it returns: the same as parsing them again. */
static void
test_build_parsed(void **state)
{
	struct mu_record r, built, again;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;
	size_t len = 0;

	(void)state;
	minimal_event(&r);
	r.c.event.tags[0] = S("garden");
	r.c.event.ntags = 1;
	assert_int_equal(mu_rec_build_parsed(&r, G.sk, T0, &bytes, &len, &built, &why),
	                 0);
	assert_int_equal(mu_rec_parse(&again, bytes, len, T0, 0, &why), 0);
	assert_ptr_equal(built.raw, bytes);
	assert_int_equal(built.raw_len, len);
	assert_memory_equal(built.id, again.id, MU_ID_BYTES);
	assert_ptr_equal(built.c.event.title.ptr, again.c.event.title.ptr);
	assert_ptr_equal(built.c.event.tags[0].ptr, again.c.event.tags[0].ptr);
	assert_ptr_equal(built.d.ptr, again.d.ptr);
	free(bytes);
	/* A record that breaks a rule is not built, nor handed back. */
	r.c.event.title = S("");
	assert_int_equal(mu_rec_build_parsed(&r, G.sk, T0, &bytes, &len, &built, &why),
	                 MU_ERECORD);
	assert_null(bytes);
}

/* --- rules ------------------------------------------------------------- */

static void
test_signature(void **state)
{
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL, *title;
	size_t len;

	(void)state;
	minimal_event(&r);
	assert_int_equal(build(&r, NULL, &bytes, &len, &why), 0);

	/* Each bit of the signature matters. */
	bytes[len - 1] ^= 0x01;
	assert_rule(mu_rec_parse(&p, bytes, len, T0, 0, &why), MU_ESIG, &why,
	            "signature");
	/* A trusted parse skips the check (bytes from our own store). */
	assert_int_equal(mu_rec_parse(&p, bytes, len, T0, MU_PARSE_TRUSTED, &why), 0);
	bytes[len - 1] ^= 0x01;
	bytes[len - 40] ^= 0x80;
	assert_rule(mu_rec_parse(&p, bytes, len, T0, 0, &why), MU_ESIG, &why,
	            "signature");
	bytes[len - 40] ^= 0x80;
	assert_int_equal(mu_rec_parse(&p, bytes, len, T0, 0, &why), 0);

	/* A changed body has another id, which the signature does not cover. */
	for (title = bytes; memcmp(title, "Picnic", 6) != 0; title++)
		assert_true(title + 6 < bytes + len);
	title[0] = 'Q';
	assert_rule(mu_rec_parse(&p, bytes, len, T0, 0, &why), MU_ESIG, &why,
	            "signature");
	free(bytes);

	/* A key that is not the signer's is refused by the builder. */
	minimal_event(&r);
	assert_rule(mu_rec_build(&r, H.sk, T0, &bytes, &len, NULL, &why), MU_ESIG, &why,
	            "signature");
	assert_null(bytes);
}

static void
test_future(void **state)
{
	struct mu_record r, p;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	minimal_event(&r);
	r.created_at = T0 + 600;
	assert_build_ok(&r);
	r.created_at = T0 + 601;
	assert_build_rule(&r, MU_ERECORD, "future");

	/* Accepted later, or when re-read without the clock. */
	assert_int_equal(mu_rec_build(&r, G.sk, T0 + 1, &bytes, &len, NULL, &why), 0);
	assert_rule(mu_rec_parse(&p, bytes, len, T0, 0, &why), MU_ERECORD, &why,
	            "future");
	assert_int_equal(mu_rec_parse(&p, bytes, len, T0, MU_PARSE_NOCLOCK, &why), 0);
	assert_int_equal(mu_rec_parse(&p, bytes, len, T0 + 1, 0, &why), 0);
	free(bytes);

	r.created_at = 0;
	assert_build_ok(&r);
}

static void
test_time_range(void **state)
{
	struct mu_record r;

	(void)state;
	minimal_event(&r);
	r.c.event.start = MU_TIME_MAX;
	assert_build_ok(&r);
	r.c.event.start = MU_TIME_MAX + 1;
	assert_build_rule(&r, MU_ERECORD, "time-range");
	r.c.event.start = -1;
	assert_build_rule(&r, MU_ERECORD, "time-range");
	r.c.event.start = 0;
	assert_build_ok(&r);
	r.c.event.has_end = true;
	r.c.event.end = -5;
	assert_build_rule(&r, MU_ERECORD, "time-range");

	minimal_event(&r);
	r.created_at = MU_TIME_MAX + 1;
	assert_build_rule(&r, MU_ERECORD, "time-range");
	/* A negative created_at is not a uint. */
	r.created_at = -1;
	assert_build_rule(&r, MU_ERECORD, "type");
}

static void
test_required(void **state)
{
	struct mu_record r;
	char d[65];

	(void)state;
	minimal_event(&r);
	r.c.event.title = S("");
	assert_build_rule(&r, MU_ERECORD, "required");
	minimal_event(&r);
	r.c.event.status = 0;
	assert_build_rule(&r, MU_ERECORD, "required");

	base(&r, MU_KIND_PROFILE, "");
	assert_build_rule(&r, MU_ERECORD, "required");
	r.c.profile.about = S("no name");
	assert_build_rule(&r, MU_ERECORD, "required");

	base(&r, MU_KIND_CAUSE, "c");
	r.c.cause.status = MU_CAUSE_ACTIVE;
	assert_build_rule(&r, MU_ERECORD, "required");
	r.c.cause.title = S("t");
	assert_build_ok(&r);
	r.c.cause.status = 0;
	assert_build_rule(&r, MU_ERECORD, "required");

	hex(d, H.pk, MU_KEY_BYTES);
	base(&r, MU_KIND_ALLIANCE, d);
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	assert_build_rule(&r, MU_ERECORD, "required");

	/* A location needs a name or an address. */
	minimal_event(&r);
	r.c.event.location.set = true;
	assert_build_rule(&r, MU_ERECORD, "required");
	r.c.event.location.has_geo = true;
	assert_build_rule(&r, MU_ERECORD, "required");
	r.c.event.location.name = S("Park");
	assert_build_ok(&r);
}

static void
test_field_length(void **state)
{
	static char big[9000];
	struct mu_record r;
	char d[65];
	int i;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);

	minimal_event(&r);
	r.c.event.title = (struct mu_str){big, 200};
	assert_build_ok(&r);
	r.c.event.title.len = 201;
	assert_build_rule(&r, MU_ERECORD, "field-length");

	minimal_event(&r);
	r.c.event.description = (struct mu_str){big, 8000};
	assert_build_ok(&r);
	r.c.event.description.len = 8001;
	assert_build_rule(&r, MU_ERECORD, "field-length");

	minimal_event(&r);
	for (i = 0; i < MU_LIST_MAX; i++)
		r.c.event.tags[i] = (struct mu_str){big, 32};
	r.c.event.ntags = MU_LIST_MAX;
	assert_build_ok(&r);
	r.c.event.tags[5].len = 33;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	r.c.event.tags[5].len = 32;
	r.c.event.ntags = MU_LIST_MAX + 1; /* more than the array holds */
	assert_build_rule(&r, MU_ERECORD, "field-length");

	minimal_event(&r);
	r.c.event.nonline = MU_ONLINE_MAX + 1;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	minimal_event(&r);
	memcpy(big, "https://", 8);
	r.c.event.online[0] = (struct mu_str){big, 512};
	r.c.event.nonline = 1;
	assert_build_ok(&r);
	r.c.event.online[0].len = 513;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	memset(big, 'a', 8);

	minimal_event(&r);
	r.c.event.location.set = true;
	r.c.event.location.address = (struct mu_str){big, 300};
	assert_build_ok(&r);
	r.c.event.location.address.len = 301;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	r.c.event.location.address.len = 300;
	r.c.event.location.name = (struct mu_str){big, 201};
	assert_build_rule(&r, MU_ERECORD, "field-length");

	base(&r, MU_KIND_PROFILE, "");
	r.c.profile.name = (struct mu_str){big, 100};
	assert_build_ok(&r);
	r.c.profile.name.len = 101;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	r.c.profile.name.len = 100;
	r.c.profile.about = (struct mu_str){big, 2001};
	assert_build_rule(&r, MU_ERECORD, "field-length");

	hex(d, H.pk, MU_KEY_BYTES);
	base(&r, MU_KIND_ALLIANCE, d);
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	r.c.alliance.ncauses = MU_LIST_MAX + 1;
	assert_build_rule(&r, MU_ERECORD, "field-length");

	base(&r, MU_KIND_DELETE, "");
	r.c.del.reason = (struct mu_str){big, 501};
	assert_build_rule(&r, MU_ERECORD, "field-length");
}

static void
test_utf8(void **state)
{
	static const char *const bad[] = {
	    "\xc0\xaf",         /* overlong '/' */
	    "\xe0\x80\xaf",     /* overlong, 3 bytes */
	    "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
	    "\xed\xa0\x80",     /* U+D800, a surrogate */
	    "\xed\xbf\xbf",     /* U+DFFF */
	    "\xf4\x90\x80\x80", /* U+110000 */
	    "\xf5\x80\x80\x80", /* past U+10FFFF */
	    "abc\xe2\x82",      /* cut off */
	    "\xe2\x82 x",       /* cut off inside */
	    "\x80",             /* a lone continuation byte */
	    "\xff",             /* never in UTF-8 */
	};
	static const char *const good[] = {
	    "\xe2\x82\xac",     /* U+20AC */
	    "\xf0\x9d\x84\x9e", /* U+1D11E */
	    "\xef\xbf\xbf",     /* U+FFFF */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
	    "\xed\x9f\xbf",     /* U+D7FF */
	    "\xc2\x80",         /* U+0080 */
	};
	struct mu_record r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		minimal_event(&r);
		r.c.event.title = S(bad[i]);
		assert_build_rule(&r, MU_ERECORD, "utf8");
		minimal_event(&r);
		r.c.event.description = S(bad[i]);
		assert_build_rule(&r, MU_ERECORD, "utf8");
		minimal_event(&r);
		r.c.event.tags[0] = S(bad[i]);
		r.c.event.ntags = 1;
		assert_build_rule(&r, MU_ERECORD, "utf8");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		minimal_event(&r);
		r.c.event.title = S(good[i]);
		assert_build_ok(&r);
	}
}

static void
test_control_char(void **state)
{
	struct mu_record r;
	char c[2] = {0, 0};
	int ch;

	(void)state;
	for (ch = 1; ch < 0x20; ch++) {
		c[0] = (char)ch;
		minimal_event(&r);
		r.c.event.title = S(c);
		assert_build_rule(&r, MU_ERECORD, "control-char");
		minimal_event(&r);
		r.c.event.description = S(c);
		if (ch == '\t' || ch == '\n')
			assert_build_ok(&r);
		else
			assert_build_rule(&r, MU_ERECORD, "control-char");
	}
	/* U+0000 is a control character too. */
	minimal_event(&r);
	r.c.event.title = (struct mu_str){"a\0b", 3};
	assert_build_rule(&r, MU_ERECORD, "control-char");
	minimal_event(&r);
	r.c.event.description = S("a\x7f");
	assert_build_rule(&r, MU_ERECORD, "control-char");
	minimal_event(&r);
	r.c.event.description = S("a\r\nb");
	assert_build_rule(&r, MU_ERECORD, "control-char");
	base(&r, MU_KIND_PROFILE, "");
	r.c.profile.name = S("x");
	r.c.profile.website = S("https://a.example/\t");
	assert_build_rule(&r, MU_ERECORD, "control-char");
}

static void
test_url_tz_enum(void **state)
{
	static char big[70];
	struct mu_record r;

	(void)state;
	base(&r, MU_KIND_PROFILE, "");
	r.c.profile.name = S("x");
	r.c.profile.website = S("ftp://example.org");
	assert_build_rule(&r, MU_ERECORD, "url");
	r.c.profile.website = S("https://exa mple.org");
	assert_build_rule(&r, MU_ERECORD, "url");
	r.c.profile.website = S("HTTPS://example.org");
	assert_build_rule(&r, MU_ERECORD, "url");
	r.c.profile.website = S("https:/");
	assert_build_rule(&r, MU_ERECORD, "url");
	r.c.profile.website = S("http://");
	assert_build_ok(&r);
	minimal_event(&r);
	r.c.event.online[0] = S("https://ok.example");
	r.c.event.online[1] = S("mailto:x@example.org");
	r.c.event.nonline = 2;
	assert_build_rule(&r, MU_ERECORD, "url");

	minimal_event(&r);
	r.c.event.tz = S("America/Argentina/Buenos_Aires");
	assert_build_ok(&r);
	r.c.event.tz = S("Etc/GMT+5");
	assert_build_ok(&r);
	r.c.event.tz = S("UTC");
	assert_build_ok(&r);
	r.c.event.tz = S("/etc/localtime");
	assert_build_rule(&r, MU_ERECORD, "tz");
	r.c.event.tz = S("Europe/../Paris");
	assert_build_rule(&r, MU_ERECORD, "tz");
	r.c.event.tz = S("Europe/Par is");
	assert_build_rule(&r, MU_ERECORD, "tz");
	memset(big, 'A', sizeof(big) - 1);
	r.c.event.tz = (struct mu_str){big, 64};
	assert_build_ok(&r);
	r.c.event.tz.len = 65;
	assert_build_rule(&r, MU_ERECORD, "field-length");

	minimal_event(&r);
	r.c.event.status = (enum mu_event_status)4;
	assert_build_rule(&r, MU_ERECORD, "enum");
}

static void
test_empty(void **state)
{
	struct mu_record r;

	(void)state;
	minimal_event(&r);
	r.c.event.tags[0] = S("ok");
	r.c.event.tags[1] = S("");
	r.c.event.ntags = 2;
	assert_build_rule(&r, MU_ERECORD, "empty");
	minimal_event(&r);
	r.c.event.online[0] = S("");
	r.c.event.nonline = 1;
	assert_build_rule(&r, MU_ERECORD, "empty");
}

static void
test_d_form(void **state)
{
	struct mu_record r;
	char d[65];

	(void)state;
	minimal_event(&r);
	r.d = S("Bad D");
	assert_build_rule(&r, MU_ERECORD, "d-form");
	r.d = S("");
	assert_build_rule(&r, MU_ERECORD, "d-form");
	r.d = S("-leading");
	assert_build_rule(&r, MU_ERECORD, "d-form");
	r.d = S("0123456789012345678901234567890123456789012345678901234567890123");
	assert_build_ok(&r);
	r.d = S("01234567890123456789012345678901234567890123456789012345678901234");
	assert_build_rule(&r, MU_ERECORD, "d-form");

	base(&r, MU_KIND_PROFILE, "me");
	r.c.profile.name = S("x");
	assert_build_rule(&r, MU_ERECORD, "d-form");

	base(&r, MU_KIND_CAUSE, "");
	r.c.cause.title = S("t");
	r.c.cause.status = MU_CAUSE_ACTIVE;
	assert_build_rule(&r, MU_ERECORD, "d-form");

	base(&r, MU_KIND_DELETE, "x");
	assert_build_rule(&r, MU_ERECORD, "d-form");

	/* An alliance's d is its with key in lowercase hex, and nothing else. */
	hex(d, H.pk, MU_KEY_BYTES);
	base(&r, MU_KIND_ALLIANCE, d);
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	assert_build_ok(&r);
	memcpy(r.c.alliance.with, G.pk, MU_KEY_BYTES);
	r.c.alliance.with[0] ^= 1;
	assert_build_rule(&r, MU_ERECORD, "d-form");
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	d[0] = 'A'; /* uppercase */
	r.d = S(d);
	assert_build_rule(&r, MU_ERECORD, "d-form");
	d[0] = 'g';
	assert_build_rule(&r, MU_ERECORD, "d-form");
}

static void
test_rev_range(void **state)
{
	struct mu_record r;

	(void)state;
	minimal_event(&r);
	r.rev = MU_REV_MAX;
	assert_build_ok(&r);
	r.rev = MU_REV_MAX + 1u;
	assert_build_rule(&r, MU_ERECORD, "rev-range");

	base(&r, MU_KIND_DELETE, "");
	r.rev = 1;
	assert_build_rule(&r, MU_ERECORD, "rev-range");
}

static void
test_event_times(void **state)
{
	struct mu_record r;
	struct mu_event *e = &r.c.event;

	(void)state;
	minimal_event(&r);
	e->has_end = true;
	e->end = e->start;
	assert_build_ok(&r);
	e->end = e->start - 1;
	assert_build_rule(&r, MU_ERECORD, "end-before-start");
	e->end = e->start + MU_EVENT_SPAN_MAX;
	assert_build_ok(&r);
	e->end = e->start + MU_EVENT_SPAN_MAX + 1;
	assert_build_rule(&r, MU_ERECORD, "event-span");

	/* all_day: midnights UTC; end names the day after the last. */
	minimal_event(&r);
	e->all_day = true;
	e->start = 1780272000;
	assert_build_ok(&r);
	e->start += 3600;
	assert_build_rule(&r, MU_ERECORD, "all-day");
	e->start -= 3600;
	e->has_end = true;
	e->end = e->start + 86400;
	assert_build_ok(&r);
	e->end += 1;
	assert_build_rule(&r, MU_ERECORD, "all-day");
	e->end = e->start;
	assert_build_rule(&r, MU_ERECORD, "all-day");
	e->end = e->start + 366 * 86400;
	assert_build_ok(&r);
}

static void
test_geo(void **state)
{
	struct mu_record r;
	struct mu_location *l = &r.c.event.location;
	static const int32_t lat_ok[] = {-900000000, 0, 900000000};
	static const int32_t lon_ok[] = {-1800000000, 0, 1800000000};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		minimal_event(&r);
		l->set = true;
		l->name = S("Somewhere");
		l->has_geo = true;
		l->lat = lat_ok[i];
		l->lon = lon_ok[i];
		assert_build_ok(&r);
	}
	l->lat = 900000001;
	assert_build_rule(&r, MU_ERECORD, "geo-range");
	l->lat = -900000001;
	assert_build_rule(&r, MU_ERECORD, "geo-range");
	l->lat = 0;
	l->lon = 1800000001;
	assert_build_rule(&r, MU_ERECORD, "geo-range");
	l->lon = -1800000001;
	assert_build_rule(&r, MU_ERECORD, "geo-range");
	l->lon = INT32_MIN;
	assert_build_rule(&r, MU_ERECORD, "geo-range");
}

static void
test_capacity(void **state)
{
	struct mu_record r;

	(void)state;
	minimal_event(&r);
	r.c.event.has_capacity = true;
	r.c.event.capacity = 1;
	assert_build_ok(&r);
	r.c.event.capacity = 10000000;
	assert_build_ok(&r);
	r.c.event.capacity = 0;
	assert_build_rule(&r, MU_ERECORD, "capacity");
	r.c.event.capacity = 10000001;
	assert_build_rule(&r, MU_ERECORD, "capacity");
	r.c.event.capacity = UINT32_MAX;
	assert_build_rule(&r, MU_ERECORD, "capacity");
}

static void
test_address(void **state)
{
	struct mu_record r;
	struct mu_addr *a = &r.c.event.cause;

	(void)state;
	minimal_event(&r);
	r.c.event.has_cause = true;
	memcpy(a->group, H.pk, MU_KEY_BYTES);
	a->kind = MU_KIND_CAUSE;
	a->d = S("ok");
	assert_build_ok(&r);
	a->kind = MU_KIND_EVENT;
	assert_build_rule(&r, MU_ERECORD, "address");
	a->kind = MU_KIND_DELETE;
	assert_build_rule(&r, MU_ERECORD, "address");
	a->kind = MU_KIND_CAUSE;
	a->d = S("Not OK");
	assert_build_rule(&r, MU_ERECORD, "address");
	a->d = S("");
	assert_build_rule(&r, MU_ERECORD, "address");
	a->kind = (enum mu_kind)42;
	assert_build_rule(&r, MU_ERECORD, "address");

	/* A delete may name any replaceable kind of its own group. */
	base(&r, MU_KIND_DELETE, "");
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, G.pk, MU_KEY_BYTES);
	r.c.del.addr.kind = MU_KIND_PROFILE;
	r.c.del.addr.d = S("x");
	assert_build_rule(&r, MU_ERECORD, "address");
	r.c.del.addr.kind = MU_KIND_ALLIANCE;
	r.c.del.addr.d = S("abc");
	assert_build_rule(&r, MU_ERECORD, "address");
	r.c.del.addr.d =
	    S("0000000000000000000000000000000000000000000000000000000000000000");
	assert_build_ok(&r);
	r.c.del.addr.kind = MU_KIND_DELETE;
	r.c.del.addr.d = S("");
	assert_build_rule(&r, MU_ERECORD, "address");
}

static void
test_self_alliance(void **state)
{
	struct mu_record r;
	char d[65];

	(void)state;
	hex(d, G.pk, MU_KEY_BYTES);
	base(&r, MU_KIND_ALLIANCE, d);
	memcpy(r.c.alliance.with, G.pk, MU_KEY_BYTES);
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	assert_build_rule(&r, MU_ERECORD, "self-alliance");
}

static void
test_delete_own(void **state)
{
	struct mu_record r;

	(void)state;
	base(&r, MU_KIND_DELETE, "");
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, H.pk, MU_KEY_BYTES);
	r.c.del.addr.kind = MU_KIND_EVENT;
	r.c.del.addr.d = S("theirs");
	assert_build_rule(&r, MU_ERECORD, "delete-own");
	memcpy(r.c.del.addr.group, G.pk, MU_KEY_BYTES);
	assert_build_ok(&r);
}

static void
test_unknown_kind_build(void **state)
{
	struct mu_record r;

	(void)state;
	minimal_event(&r);
	r.kind = MU_KIND_NONE;
	assert_build_rule(&r, MU_ERECORD, "unknown-kind");
	r.kind = (enum mu_kind)17;
	assert_build_rule(&r, MU_ERECORD, "unknown-kind");
}

/* --- node records ---------------------------------------------------------- */

static void
node_rec(struct mu_record *r, const char *const *addrs, size_t n)
{
	size_t i;

	base(r, MU_KIND_NODE, "");
	for (i = 0; i < n; i++)
		r->c.node.addrs[i] = S(addrs[i]);
	r->c.node.naddrs = n;
}

static void
test_node_roundtrip(void **state)
{
	static const char *const addrs[] = {"node.example.org:7412",
	                                    "[2001:db8::1]:7412",
	                                    "192.0.2.7:1",
	                                    "a:65535",
	                                    "[::ffff:192.0.2.1]:80",
	                                    "h_1-x.y:9",
	                                    "[::]:443",
	                                    "LOCALHOST:7412"};
	struct mu_record r, p;
	struct mu_addr addr;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len, i;

	(void)state;
	assert_true(mu_kind_replaceable(MU_KIND_NODE));
	node_rec(&r, addrs, 2);
	r.rev = 3;
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_header(&p, &r, bytes, len);
	assert_int_equal(p.kind, MU_KIND_NODE);
	assert_int_equal(p.rev, 3);
	assert_int_equal(p.c.node.naddrs, 2);
	assert_str(p.c.node.addrs[0], addrs[0]);
	assert_str(p.c.node.addrs[1], addrs[1]);
	assert_keys(&p, (const char *const[]){"addrs"}, 1);
	/* One node record per group: its address has an empty d. */
	mu_rec_addr(&p, &addr);
	assert_int_equal(addr.kind, MU_KIND_NODE);
	assert_int_equal(addr.d.len, 0);
	free(bytes);

	node_rec(&r, addrs, MU_NODE_ADDRS_MAX);
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	assert_int_equal(p.c.node.naddrs, MU_NODE_ADDRS_MAX);
	for (i = 0; i < MU_NODE_ADDRS_MAX; i++)
		assert_str(p.c.node.addrs[i], addrs[i]);
	free(bytes);
}

/* Rule node-addr, through the builder (which parses what it built). */
static void
test_node_addr_rule(void **state)
{
	static const char *const bad[] = {
	    "host",         ":80",         "host:",        "host:0",   "host:080",
	    "host:65536",   "host:123456", "host:8a",      "ho st:80", "host:80 ",
	    "host:-1",      "::1:80",      "fe80::1",      "[::1]",    "[::1]80",
	    "[::1:80",      "[]:80",       "[1.2.3.4]:80", "[::g]:80", "[::1]:",
	    "h\xc3\xa9:80", "host:80:81",  "a/b:80",       "[::1]:0",
	};
	char host[300];
	struct mu_record r;
	struct mu_why why;
	const char *one[1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = bad[i];
		node_rec(&r, one, 1);
		assert_build_rule(&r, MU_ERECORD, "node-addr");
		assert_rule(mu_rec_check_node_addr(bad[i], strlen(bad[i]), &why),
		            MU_ERECORD, &why, "node-addr");
	}
	/* Control characters are caught as in every line. */
	one[0] = "host\x01:80";
	node_rec(&r, one, 1);
	assert_build_rule(&r, MU_ERECORD, "control-char");

	/* The longest host name, 253 characters: 259 bytes with the port. */
	memset(host, 'a', 253);
	memcpy(host + 253, ":65535", 7);
	one[0] = host;
	node_rec(&r, one, 1);
	assert_build_ok(&r);
	memset(host, 'a', 254);
	memcpy(host + 254, ":65535", 7);
	node_rec(&r, one, 1);
	assert_build_rule(&r, MU_ERECORD, "node-addr");
	/* Over MU_NODE_ADDR_MAX bytes is a field-length error. */
	memset(host, 'a', 256);
	memcpy(host + 256, ":65535", 7);
	assert_int_equal(strlen(host), MU_NODE_ADDR_MAX + 1);
	node_rec(&r, one, 1);
	assert_build_rule(&r, MU_ERECORD, "field-length");
	assert_rule(mu_rec_check_node_addr(host, strlen(host), &why), MU_ERECORD, &why,
	            "node-addr");

	assert_int_equal(mu_rec_check_node_addr("a:1", 3, &why), 0);
	assert_int_equal(mu_rec_check_node_addr("[::]:65535", 10, &why), 0);
	/* Only len bytes count: what follows is not part of the address. */
	assert_int_equal(mu_rec_check_node_addr("a:12 junk", 4, &why), 0);
	assert_rule(mu_rec_check_node_addr("", 0, &why), MU_ERECORD, &why, "node-addr");
}

static void
test_node_rules(void **state)
{
	static const char *const nine[] = {"a:1", "a:2", "a:3", "a:4", "a:5",
	                                   "a:6", "a:7", "a:8", "a:9"};
	struct mu_record r, p;
	struct w body;
	struct mu_why why;

	(void)state;
	node_rec(&r, nine, 8);
	assert_build_ok(&r);
	/* The builder never reads past the C array: 9 is refused by count.
	 * A hand-made body of 9 is refused by the parser, below. */
	r.c.node.naddrs = 9;
	assert_build_rule(&r, MU_ERECORD, "field-length");
	node_rec(&r, nine, 0);
	assert_build_rule(&r, MU_ERECORD, "required");
	node_rec(&r, nine, 1);
	r.d = S("home");
	assert_build_rule(&r, MU_ERECORD, "d-form");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "addrs");
	w_arr(&body, 9);
	for (size_t i = 0; i < 9; i++)
		w_str(&body, nine[i]);
	assert_rule(w_parse(&body, G.sk, &p, &why), MU_ERECORD, &why, "field-length");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "addrs");
	w_arr(&body, 0);
	assert_rule(w_parse(&body, G.sk, &p, &why), MU_ERECORD, &why, "empty");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "addrs");
	w_str(&body, "a:1");
	assert_rule(w_parse(&body, G.sk, &p, &why), MU_ERECORD, &why, "type");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 2);
	w_str(&body, "addrs");
	w_arr(&body, 1);
	w_str(&body, "a:1");
	w_str(&body, "port");
	w_uint(&body, 7412);
	assert_rule(w_parse(&body, G.sk, &p, &why), MU_ERECORD, &why, "unknown-field");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 0);
	assert_rule(w_parse(&body, G.sk, &p, &why), MU_ERECORD, &why, "required");

	memset(&body, 0, sizeof(body));
	w_header(&body, "node", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "addrs");
	w_arr(&body, 2);
	w_str(&body, "a:1");
	w_str(&body, "[2001:db8::7]:7412");
	assert_int_equal(w_parse(&body, G.sk, &p, &why), 0);
	assert_int_equal(p.c.node.naddrs, 2);
	assert_str(p.c.node.addrs[1], "[2001:db8::7]:7412");

	/* The message names the item and the fix. */
	node_rec(&r, (const char *const[]){"a:1", "b:080"}, 2);
	{
		uint8_t *b = NULL;
		size_t n = 0;

		assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
		assert_string_equal(why.text,
		                    "node-addr: node.addrs[1] is not HOST:PORT: the "
		                    "port is 0 or has a leading zero; it is 1-65535 in "
		                    "plain decimal");
	}
}

/* --- replacement order and addresses ----------------------------------- */

static void
test_newer(void **state)
{
	struct mu_record a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.rev = 2;
	a.created_at = 100;
	memset(a.id, 0x80, MU_ID_BYTES);
	b = a;
	assert_int_equal(mu_rec_newer(&a, &b), 0);

	/* rev decides first, even against the clock. */
	b.rev = 3;
	b.created_at = 50;
	memset(b.id, 0xff, MU_ID_BYTES);
	assert_true(mu_rec_newer(&b, &a) > 0);
	assert_true(mu_rec_newer(&a, &b) < 0);

	/* Then the later created_at. */
	b.rev = 2;
	b.created_at = 101;
	assert_true(mu_rec_newer(&b, &a) > 0);
	assert_true(mu_rec_newer(&a, &b) < 0);

	/* Then the lower id, bytewise. */
	b.created_at = 100;
	memcpy(b.id, a.id, MU_ID_BYTES);
	b.id[MU_ID_BYTES - 1] = 0x7f;
	assert_true(mu_rec_newer(&b, &a) > 0);
	assert_true(mu_rec_newer(&a, &b) < 0);
	b.id[0] = 0x81;
	assert_true(mu_rec_newer(&b, &a) < 0);
	assert_true(mu_rec_newer(&a, &b) > 0);

	/* rev is unsigned: the largest rev wins. */
	a.rev = MU_REV_MAX;
	b.rev = 0;
	assert_true(mu_rec_newer(&a, &b) > 0);
}

static void
test_addr(void **state)
{
	struct mu_record r, p;
	struct mu_addr addr;
	struct mu_why why;
	uint8_t *bytes = NULL;
	size_t len;

	(void)state;
	minimal_event(&r);
	assert_int_equal(build(&r, &p, &bytes, &len, &why), 0);
	mu_rec_addr(&p, &addr);
	assert_addr(&addr, G.pk, MU_KIND_EVENT, "e1");
	assert_ptr_equal(addr.d.ptr, p.d.ptr);
	free(bytes);
}

/* The reason names the rule, the field and the limit, in one line. */
static void
test_messages(void **state)
{
	static char big[300];
	struct mu_record r;
	uint8_t *b = NULL;
	size_t n;
	struct mu_why why;

	(void)state;
	memset(big, 'a', sizeof(big));
	minimal_event(&r);
	r.c.event.title = (struct mu_str){big, 250};
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text,
	                    "field-length: event.title is 250 bytes, at most 200");

	minimal_event(&r);
	r.c.event.tags[0] = S("ok");
	r.c.event.tags[1] = S("bad\x01");
	r.c.event.ntags = 2;
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text,
	                    "control-char: event.tags[1] has control character 0x01 at "
	                    "byte 3");

	minimal_event(&r);
	r.c.event.location.set = true;
	r.c.event.location.name = S("\xed\xa0\x80");
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text, "utf8: event.location.name is not valid UTF-8: a "
	                              "surrogate (U+D800-U+DFFF) at byte 0");

	minimal_event(&r);
	r.c.event.has_cause = true;
	memcpy(r.c.event.cause.group, H.pk, MU_KEY_BYTES);
	r.c.event.cause.kind = MU_KIND_EVENT;
	r.c.event.cause.d = S("x");
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text,
	                    "address: event.cause.kind is event, must be cause");

	minimal_event(&r);
	r.c.event.title = S("");
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text, "required: event.title is missing");

	minimal_event(&r);
	r.created_at = T0 + 601;
	assert_int_equal(build(&r, NULL, &b, &n, &why), MU_ERECORD);
	assert_string_equal(why.text,
	                    "future: created_at is 1767226201, more than 600 "
	                    "seconds ahead of this node's clock (1767225600)");
	assert_null(b);
}

/* --- moving a parsed record to a copy of its bytes ------------------------- */

/*
 * Builds r, moves its parse to a copy of the bytes (the original wiped and
 * freed), and compares the result with a parse of the copy: every pointer,
 * the content's included, must have moved, and nothing else changed.
 */
static void
check_move(const struct mu_record *r)
{
	struct mu_record p, moved, again;
	struct mu_why why;
	uint8_t *bytes = NULL, *copy;
	size_t len;

	assert_int_equal(build(r, &p, &bytes, &len, &why), 0);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, bytes, len);
	memcpy(&moved, &p, sizeof(moved)); /* padding too, for the comparison */
	mu_rec_move(&moved, copy);
	memset(bytes, 0xee, len);
	free(bytes);
	assert_int_equal(mu_rec_parse(&again, copy, len, T0, 0, &why), 0);
	assert_memory_equal(&moved, &again, sizeof(again));
	free(copy);
}

static void
test_move(void **state)
{
	static const char *const addrs[] = {"node.example.org:7412", "[::]:443"};
	char d[2 * MU_KEY_BYTES + 1];
	struct mu_record r;

	(void)state;
	base(&r, MU_KIND_PROFILE, "");
	r.c.profile.name = S("Tenants' Union");
	r.c.profile.about = S("We organise.");
	r.c.profile.website = S("https://tu.example.org/");
	r.c.profile.contact = S("tu@example.org");
	r.c.profile.location = S("Copenhagen");
	check_move(&r);

	base(&r, MU_KIND_CAUSE, "rent-strike");
	r.c.cause.title = S("Rent strike");
	r.c.cause.summary = S("Withhold rent.");
	r.c.cause.description = S("Long text.\nWith lines.");
	r.c.cause.url = S("http://example.org/strike");
	r.c.cause.tags[0] = S("housing");
	r.c.cause.tags[1] = S("rent");
	r.c.cause.ntags = 2;
	r.c.cause.status = MU_CAUSE_ACTIVE;
	check_move(&r);

	full_event(&r); /* a location map, an address, lists of strings */
	check_move(&r);
	minimal_event(&r);
	check_move(&r);

	base(&r, MU_KIND_ALLIANCE, "");
	memcpy(r.c.alliance.with, H.pk, MU_KEY_BYTES);
	r.c.alliance.terms = S("We share resources.");
	memcpy(r.c.alliance.causes[0].group, H.pk, MU_KEY_BYTES);
	r.c.alliance.causes[0].kind = MU_KIND_CAUSE;
	r.c.alliance.causes[0].d = S("climate");
	memcpy(r.c.alliance.causes[1].group, G.pk, MU_KEY_BYTES);
	r.c.alliance.causes[1].kind = MU_KIND_CAUSE;
	r.c.alliance.causes[1].d = S("rent-strike");
	r.c.alliance.ncauses = 2;
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	hex(d, H.pk, MU_KEY_BYTES);
	r.d = S(d);
	check_move(&r);

	base(&r, MU_KIND_DELETE, "");
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, G.pk, MU_KEY_BYTES);
	r.c.del.addr.kind = MU_KIND_EVENT;
	r.c.del.addr.d = S("e1");
	r.c.del.reason = S("Called off");
	check_move(&r);

	node_rec(&r, addrs, 2);
	check_move(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_roundtrip),
	    cmocka_unit_test(test_cause_roundtrip),
	    cmocka_unit_test(test_event_roundtrip),
	    cmocka_unit_test(test_alliance_roundtrip),
	    cmocka_unit_test(test_delete_roundtrip),
	    cmocka_unit_test(test_build_deterministic),
	    cmocka_unit_test(test_tables_sorted),
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_build_parsed),
	    cmocka_unit_test(test_signature),
	    cmocka_unit_test(test_future),
	    cmocka_unit_test(test_time_range),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_field_length),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_control_char),
	    cmocka_unit_test(test_url_tz_enum),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_d_form),
	    cmocka_unit_test(test_rev_range),
	    cmocka_unit_test(test_event_times),
	    cmocka_unit_test(test_geo),
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_address),
	    cmocka_unit_test(test_self_alliance),
	    cmocka_unit_test(test_delete_own),
	    cmocka_unit_test(test_unknown_kind_build),
	    cmocka_unit_test(test_newer),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_node_roundtrip),
	    cmocka_unit_test(test_node_addr_rule),
	    cmocka_unit_test(test_node_rules),
	    cmocka_unit_test(test_move),
	};

	if (sodium_init() < 0)
		return 1;
	key_from_byte(&G, 1);
	key_from_byte(&H, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
