/*
 * The content tables of docs/PROTOCOL.md, section 3. Keep each table in
 * ascending bytewise key order: it is the canonical order on the wire
 * (tests/unit/test_record.c checks it).
 */
#include "kind.h"
#include "recur.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(enum mu_cause_status) == sizeof(int) &&
                   sizeof(enum mu_event_status) == sizeof(int) &&
                   sizeof(enum mu_alliance_status) == sizeof(int) &&
                   sizeof(enum mu_organizer_status) == sizeof(int) &&
                   sizeof(enum mu_petition_status) == sizeof(int) &&
                   sizeof(enum mu_pledge_unit) == sizeof(int),
               "status enums are stored through int");

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Field initialisers. T is the content struct of the table. */
#define STR(T, key, ty, mx, fl)                                                        \
	{                                                                              \
		.name = #key, .type = ty, .flags = fl, .max = mx,                      \
		.off = offsetof(T, key), .count_off = MU_NO_OFF, .flag_off = MU_NO_OFF \
	}
#define STRLIST(T, key, ty, mx, lmx)                                                   \
	{                                                                              \
		.name = #key, .type = ty, .flags = MU_FF_LIST, .max = mx,              \
		.list_max = lmx, .off = offsetof(T, key),                              \
		.count_off = offsetof(T, n##key), .flag_off = MU_NO_OFF                \
	}
#define ENUM(T, key, nm)                                                               \
	{                                                                              \
		.name = #key, .type = MU_FT_ENUM, .flags = MU_FF_REQ, .names = nm,     \
		.off = offsetof(T, key), .count_off = MU_NO_OFF, .flag_off = MU_NO_OFF \
	}

/*
 * `replaces`, the one content field every replaceable kind has: it lives in
 * struct mu_record after the union (record.h), so its offset from the
 * content struct is the same for every kind. Put REPLACES in each
 * replaceable kind's table at its place in key order; test_kind_table.c
 * checks that none is left without it.
 */
#define MU_C_OFF(m) (offsetof(struct mu_record, m) - offsetof(struct mu_record, c))
#define REPLACES                                                                       \
	{                                                                              \
		.name = "replaces", .type = MU_FT_KEY, .view = MU_FV_ID,               \
		.off = MU_C_OFF(replaces), .count_off = MU_NO_OFF,                     \
		.flag_off = MU_C_OFF(has_replaces)                                     \
	}

static const char *const cause_status[] = {"active", "won", "closed", NULL};
static const char *const event_status[] = {"tentative", "confirmed", "cancelled", NULL};
static const char *const alliance_status[] = {"proposed", "ended", NULL};
static const char *const organizer_status[] = {"active", "revoked", NULL};
static const char *const petition_status[] = {"open", "closed", NULL};
static const char *const pledge_unit[] = {"people", "groups", NULL};
static const char *const repeat_freq[] = {"daily", "weekly", "monthly", NULL};

static const struct mu_field profile_f[] = {
    STR(struct mu_profile, about, MU_FT_TEXT, 2000, 0),
    STR(struct mu_profile, contact, MU_FT_LINE, 200, 0),
    STR(struct mu_profile, location, MU_FT_LINE, 200, 0),
    STR(struct mu_profile, name, MU_FT_LINE, 100, MU_FF_REQ),
    REPLACES,
    STR(struct mu_profile, website, MU_FT_URL, 512, 0),
};

static const struct mu_field cause_f[] = {
    STR(struct mu_cause, description, MU_FT_TEXT, 8000, 0),
    REPLACES,
    ENUM(struct mu_cause, status, cause_status),
    STR(struct mu_cause, summary, MU_FT_LINE, 500, 0),
    STRLIST(struct mu_cause, tags, MU_FT_LINE, 32, MU_LIST_MAX),
    STR(struct mu_cause, title, MU_FT_LINE, 200, MU_FF_REQ),
    STR(struct mu_cause, url, MU_FT_URL, 512, 0),
};

static const struct mu_field location_f[] = {
    STR(struct mu_location, address, MU_FT_LINE, 300, 0),
    {.name = "lat",
     .type = MU_FT_INT,
     .store = MU_FI_INT32,
     .lo = -900000000,
     .hi = 900000000,
     .range_rule = "geo-range",
     .view = MU_FV_DEGREES,
     .off = offsetof(struct mu_location, lat),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_location, has_geo)},
    {.name = "lon",
     .type = MU_FT_INT,
     .store = MU_FI_INT32,
     .lo = -1800000000,
     .hi = 1800000000,
     .range_rule = "geo-range",
     .view = MU_FV_DEGREES,
     .off = offsetof(struct mu_location, lon),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_location, has_geo)},
    STR(struct mu_location, name, MU_FT_LINE, 200, 0),
};

/* Bits: address 0, lat 1, lon 2, name 3. */
static const struct mu_fields location_t = {.name = "event.location",
                                            .f = location_f,
                                            .n = NFIELDS(location_f),
                                            .any_of = 1u << 0 | 1u << 3,
                                            .together = 1u << 1 | 1u << 2};

static const struct mu_field repeat_f[] = {
    STRLIST(struct mu_repeat, byday, MU_FT_LINE, 2, 7),
    STRLIST(struct mu_repeat, cancelled, MU_FT_LINE, 10, MU_REPEAT_DATES_MAX),
    {.name = "count",
     .type = MU_FT_INT,
     .flags = MU_FF_UINT,
     .store = MU_FI_UINT32,
     .lo = 1,
     .hi = MU_REPEAT_COUNT_MAX,
     .range_rule = "repeat-range",
     .off = offsetof(struct mu_repeat, count),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_repeat, has_count)},
    ENUM(struct mu_repeat, freq, repeat_freq),
    {.name = "interval",
     .type = MU_FT_INT,
     .flags = MU_FF_UINT,
     .store = MU_FI_UINT32,
     .lo = 1,
     .hi = 99,
     .range_rule = "repeat-range",
     .off = offsetof(struct mu_repeat, interval),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_repeat, has_interval)},
    STRLIST(struct mu_repeat, skip, MU_FT_LINE, 10, MU_REPEAT_DATES_MAX),
    STR(struct mu_repeat, until, MU_FT_LINE, 10, 0),
};

/* Bits: count 2, until 6: exactly one ends the series (rule repeat-bound,
 * checked by mu_recur_check() for its own message). */
static const struct mu_fields repeat_t = {
    .name = "event.repeat", .f = repeat_f, .n = NFIELDS(repeat_f)};

static const struct mu_field event_f[] = {
    {.name = "all_day",
     .type = MU_FT_TRUE,
     .off = offsetof(struct mu_event, all_day),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
    {.name = "capacity",
     .type = MU_FT_INT,
     .flags = MU_FF_UINT,
     .store = MU_FI_UINT32,
     .lo = 1,
     .hi = 10000000,
     .range_rule = "capacity",
     .off = offsetof(struct mu_event, capacity),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_event, has_capacity)},
    {.name = "cause",
     .type = MU_FT_ADDR,
     .addr_kind = MU_KIND_CAUSE,
     .off = offsetof(struct mu_event, cause),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_event, has_cause)},
    STR(struct mu_event, description, MU_FT_TEXT, 8000, 0),
    {.name = "end",
     .type = MU_FT_INT,
     .store = MU_FI_INT64,
     .lo = 0,
     .hi = MU_TIME_MAX,
     .range_rule = "time-range",
     .view = MU_FV_TIME,
     .off = offsetof(struct mu_event, end),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_event, has_end)},
    {.name = "hosts",
     .type = MU_FT_KEY,
     .flags = MU_FF_LIST,
     .list_max = MU_LIST_MAX,
     .off = offsetof(struct mu_event, hosts),
     .count_off = offsetof(struct mu_event, nhosts),
     .flag_off = MU_NO_OFF},
    {.name = "location",
     .type = MU_FT_MAP,
     .sub = &location_t,
     .off = offsetof(struct mu_event, location),
     .count_off = MU_NO_OFF,
     .flag_off =
         offsetof(struct mu_event, location) + offsetof(struct mu_location, set)},
    STRLIST(struct mu_event, online, MU_FT_URL, 512, MU_ONLINE_MAX),
    {.name = "repeat",
     .type = MU_FT_MAP,
     .sub = &repeat_t,
     .off = offsetof(struct mu_event, repeat),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_event, repeat) + offsetof(struct mu_repeat, set)},
    REPLACES,
    {.name = "start",
     .type = MU_FT_INT,
     .flags = MU_FF_REQ,
     .store = MU_FI_INT64,
     .lo = 0,
     .hi = MU_TIME_MAX,
     .range_rule = "time-range",
     .view = MU_FV_TIME,
     .off = offsetof(struct mu_event, start),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
    ENUM(struct mu_event, status, event_status),
    STRLIST(struct mu_event, tags, MU_FT_LINE, 32, MU_LIST_MAX),
    STR(struct mu_event, title, MU_FT_LINE, 200, MU_FF_REQ),
    STR(struct mu_event, tz, MU_FT_TZ, 64, 0),
};

static const struct mu_field alliance_f[] = {
    {.name = "causes",
     .type = MU_FT_ADDR,
     .flags = MU_FF_LIST,
     .list_max = MU_LIST_MAX,
     .addr_kind = MU_KIND_CAUSE,
     .off = offsetof(struct mu_alliance, causes),
     .count_off = offsetof(struct mu_alliance, ncauses),
     .flag_off = MU_NO_OFF},
    REPLACES,
    ENUM(struct mu_alliance, status, alliance_status),
    STR(struct mu_alliance, terms, MU_FT_TEXT, 8000, 0),
    {.name = "with",
     .type = MU_FT_KEY,
     .flags = MU_FF_REQ,
     .off = offsetof(struct mu_alliance, with),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
};

static const struct mu_field delete_f[] = {
    {.name = "addr",
     .type = MU_FT_ADDR,
     .off = offsetof(struct mu_delete, addr),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_delete, by_addr)},
    {.name = "id",
     .type = MU_FT_KEY,
     .flags = MU_FF_NEG,
     .view = MU_FV_ID,
     .off = offsetof(struct mu_delete, id),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_delete, by_addr)},
    STR(struct mu_delete, reason, MU_FT_LINE, 500, 0),
};

static const struct mu_field node_f[] = {
    {.name = "addrs",
     .type = MU_FT_HOSTPORT,
     .flags = MU_FF_LIST | MU_FF_REQ,
     .max = MU_NODE_ADDR_MAX,
     .list_max = MU_NODE_ADDRS_MAX,
     .off = offsetof(struct mu_node_rec, addrs),
     .count_off = offsetof(struct mu_node_rec, naddrs),
     .flag_off = MU_NO_OFF},
    REPLACES,
};

static const struct mu_field organizer_f[] = {
    {.name = "keep",
     .type = MU_FT_IDLIST,
     .list_max = MU_KEEP_MAX,
     .view = MU_FV_ID,
     .off = offsetof(struct mu_organizer, keep),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
    {.name = "key",
     .type = MU_FT_KEY,
     .flags = MU_FF_REQ,
     .off = offsetof(struct mu_organizer, key),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
    STRLIST(struct mu_organizer, kinds, MU_FT_LINE, 16, MU_LIST_MAX),
    STR(struct mu_organizer, name, MU_FT_LINE, 100, MU_FF_REQ),
    REPLACES,
    ENUM(struct mu_organizer, status, organizer_status),
};

/* Initialisers of the fields the acts kinds (rsvp ... pledged) share. */
#define TRUEF(T, key)                                                                  \
	{                                                                              \
		.name = #key, .type = MU_FT_TRUE, .off = offsetof(T, key),             \
		.count_off = MU_NO_OFF, .flag_off = MU_NO_OFF                          \
	}
#define COUNT(T, key, l, fl, has)                                                      \
	{                                                                              \
		.name = #key, .type = MU_FT_INT, .flags = MU_FF_UINT | (fl),           \
		.store = MU_FI_UINT32, .lo = l, .hi = MU_COUNT_MAX,                    \
		.range_rule = "count-range", .off = offsetof(T, key),                  \
		.count_off = MU_NO_OFF, .flag_off = has                                \
	}
#define TIME(T, key, fl, has)                                                          \
	{                                                                              \
		.name = #key, .type = MU_FT_INT, .flags = fl, .store = MU_FI_INT64,    \
		.lo = 0, .hi = MU_TIME_MAX, .range_rule = "time-range",                \
		.view = MU_FV_TIME, .off = offsetof(T, key), .count_off = MU_NO_OFF,   \
		.flag_off = has                                                        \
	}
#define ADDRF(T, key, k, fl, has)                                                      \
	{                                                                              \
		.name = #key, .type = MU_FT_ADDR, .flags = fl, .addr_kind = k,         \
		.off = offsetof(T, key), .count_off = MU_NO_OFF, .flag_off = has       \
	}

static const struct mu_field rsvp_f[] = {
    TRUEF(struct mu_rsvp, about),
    ADDRF(struct mu_rsvp, event, MU_KIND_EVENT, MU_FF_REQ, MU_NO_OFF),
    COUNT(struct mu_rsvp, going, 0, MU_FF_REQ, MU_NO_OFF),
    REPLACES,
    COUNT(struct mu_rsvp, waitlisted, 0, 0, offsetof(struct mu_rsvp, has_waitlisted)),
};

static const struct mu_field tally_f[] = {
    COUNT(struct mu_tally_rec, capacity, 1, MU_FF_REQ, MU_NO_OFF),
    {.name = "counts",
     .type = MU_FT_INT,
     .flags = MU_FF_UINT | MU_FF_LIST,
     .list_max = MU_TALLY_MAX,
     .store = MU_FI_UINT32,
     .lo = 1,
     .hi = MU_COUNT_MAX,
     .range_rule = "count-range",
     .off = offsetof(struct mu_tally_rec, counts),
     .count_off = offsetof(struct mu_tally_rec, ncounts),
     .flag_off = MU_NO_OFF},
    ADDRF(struct mu_tally_rec, event, MU_KIND_EVENT, MU_FF_REQ, MU_NO_OFF),
    {.name = "groups",
     .type = MU_FT_KEY,
     .flags = MU_FF_LIST,
     .list_max = MU_TALLY_MAX,
     .off = offsetof(struct mu_tally_rec, groups),
     .count_off = offsetof(struct mu_tally_rec, ngroups),
     .flag_off = MU_NO_OFF},
    REPLACES,
};

static const struct mu_field petition_f[] = {
    ADDRF(struct mu_petition, cause, MU_KIND_CAUSE, 0,
          offsetof(struct mu_petition, has_cause)),
    TIME(struct mu_petition, deadline, 0, offsetof(struct mu_petition, has_deadline)),
    COUNT(struct mu_petition, goal, 1, 0, offsetof(struct mu_petition, has_goal)),
    REPLACES,
    ENUM(struct mu_petition, status, petition_status),
    STR(struct mu_petition, target, MU_FT_LINE, 200, MU_FF_REQ),
    STR(struct mu_petition, text, MU_FT_TEXT, 8000, MU_FF_REQ),
    STR(struct mu_petition, title, MU_FT_LINE, 200, MU_FF_REQ),
};

static const struct mu_field signatures_f[] = {
    TRUEF(struct mu_signatures, as_group),
    COUNT(struct mu_signatures, count, 0, MU_FF_REQ, MU_NO_OFF),
    STRLIST(struct mu_signatures, names, MU_FT_LINE, MU_NAME_MAX, MU_NAMES_MAX),
    ADDRF(struct mu_signatures, petition, MU_KIND_PETITION, MU_FF_REQ, MU_NO_OFF),
    REPLACES,
};

static const struct mu_field pledge_f[] = {
    ADDRF(struct mu_pledge, cause, MU_KIND_CAUSE, 0,
          offsetof(struct mu_pledge, has_cause)),
    TIME(struct mu_pledge, deadline, MU_FF_REQ, MU_NO_OFF),
    TIME(struct mu_pledge, end, 0, offsetof(struct mu_pledge, has_end)),
    REPLACES,
    TIME(struct mu_pledge, start, 0, offsetof(struct mu_pledge, has_start)),
    STR(struct mu_pledge, text, MU_FT_TEXT, 8000, 0),
    COUNT(struct mu_pledge, threshold, 1, MU_FF_REQ, MU_NO_OFF),
    STR(struct mu_pledge, title, MU_FT_LINE, 200, MU_FF_REQ),
    TIME(struct mu_pledge, triggered, 0, offsetof(struct mu_pledge, has_triggered)),
    ENUM(struct mu_pledge, unit, pledge_unit),
};

static const struct mu_field pledged_f[] = {
    TRUEF(struct mu_pledged, as_group),
    COUNT(struct mu_pledged, count, 0, MU_FF_REQ, MU_NO_OFF),
    ADDRF(struct mu_pledged, pledge, MU_KIND_PLEDGE, MU_FF_REQ, MU_NO_OFF),
    REPLACES,
};

#define FIELDS(nm, a)                                                                  \
	{                                                                              \
		.name = nm, .f = a, .n = NFIELDS(a)                                    \
	}

static const struct mu_fields profile_t = FIELDS("profile", profile_f);
static const struct mu_fields cause_t = FIELDS("cause", cause_f);
static const struct mu_fields event_t = FIELDS("event", event_f);
static const struct mu_fields alliance_t = FIELDS("alliance", alliance_f);
static const struct mu_fields node_t = FIELDS("node", node_f);
static const struct mu_fields organizer_t = FIELDS("organizer", organizer_f);
static const struct mu_fields rsvp_t = FIELDS("rsvp", rsvp_f);
static const struct mu_fields tally_t = FIELDS("tally", tally_f);
static const struct mu_fields petition_t = FIELDS("petition", petition_f);
static const struct mu_fields signatures_t = FIELDS("signatures", signatures_f);
static const struct mu_fields pledge_t = FIELDS("pledge", pledge_f);
static const struct mu_fields pledged_t = FIELDS("pledged", pledged_f);
/* Bits: addr 0, id 1. */
static const struct mu_fields delete_t = {.name = "delete",
                                          .f = delete_f,
                                          .n = NFIELDS(delete_f),
                                          .one_of = 1u << 0 | 1u << 1};

/* ---- rules across fields (docs/PROTOCOL.md, section 4) ----------------- */

#define DAY 86400

static int
check_event(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_event *e = &rec->c.event;
	static const char midnight[] = "is not a midnight UTC (a multiple of 86400), "
	                               "as all_day needs";

	if (e->has_end && e->end < e->start)
		return mu_fail(why, MU_ERECORD,
		               "end-before-start: event.end (%lld) is before "
		               "event.start (%lld)",
		               (long long)e->end, (long long)e->start);
	if (e->has_end && e->end - e->start > MU_EVENT_SPAN_MAX)
		return mu_fail(why, MU_ERECORD,
		               "event-span: event.end is %lld seconds after "
		               "event.start, at most %d (366 days)",
		               (long long)(e->end - e->start), MU_EVENT_SPAN_MAX);
	if (e->repeat.set && mu_recur_check(e, why) != 0)
		return MU_ERECORD;
	if (!e->all_day)
		return 0;
	if (e->start % DAY != 0)
		return mu_fail(why, MU_ERECORD, "all-day: event.start %s", midnight);
	if (e->has_end && e->end % DAY != 0)
		return mu_fail(why, MU_ERECORD, "all-day: event.end %s", midnight);
	if (e->has_end && e->end == e->start)
		return mu_fail(why, MU_ERECORD,
		               "all-day: event.end equals event.start; an all-day "
		               "event ends at the midnight after its last day");
	return 0;
}

static int
check_alliance(const struct mu_record *rec, struct mu_why *why)
{
	if (memcmp(rec->c.alliance.with, rec->group, MU_KEY_BYTES) == 0)
		return mu_fail(
		    why, MU_ERECORD,
		    "self-alliance: alliance.with is the record's own group");
	return 0;
}

static int
check_delete(const struct mu_record *rec, struct mu_why *why)
{
	if (rec->c.del.by_addr &&
	    memcmp(rec->c.del.addr.group, rec->group, MU_KEY_BYTES) != 0)
		return mu_fail(why, MU_ERECORD,
		               "delete-own: delete.addr names another group's "
		               "address; a group deletes only its own records");
	return 0;
}

static int
check_organizer(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_organizer *o = &rec->c.organizer;
	enum mu_kind k;
	size_t i, j;

	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) != 0)
		return mu_fail(why, MU_ERECORD,
		               "organizer-root: the signer is not the group; only "
		               "the group's own key names its organizers");
	if (memcmp(o->key, rec->group, MU_KEY_BYTES) == 0)
		return mu_fail(why, MU_ERECORD,
		               "organizer-self: organizer.key is the group's own key");
	for (i = 0; i < o->nkinds; i++) {
		k = mu_kind_from_name(o->kinds[i].ptr, o->kinds[i].len);
		if (k == MU_KIND_NONE || k == MU_KIND_ORGANIZER)
			return mu_fail(why, MU_ERECORD,
			               "organizer-kinds: organizer.kinds[%zu] is not "
			               "the name of a kind an organizer may publish",
			               i);
		for (j = 0; j < i; j++)
			if (o->kinds[j].len == o->kinds[i].len &&
			    memcmp(o->kinds[j].ptr, o->kinds[i].ptr, o->kinds[i].len) ==
			        0)
				return mu_fail(why, MU_ERECORD,
				               "organizer-kinds: organizer.kinds[%zu] "
				               "repeats organizer.kinds[%zu]",
				               i, j);
	}
	if (o->keep.n != 0 && o->status != MU_ORGANIZER_REVOKED)
		return mu_fail(why, MU_ERECORD,
		               "organizer-keep: organizer.keep is only for a revoked "
		               "organizer");
	return 0;
}

/* Rule d-form for MU_D_ADDR: d is the digest of the address it answers. */
static int
check_d_addr(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_kind_def *def = mu_kind_def(rec->kind);
	char d[MU_D_ADDR_LEN + 1];

	mu_rec_addr_d(mu_kind_d_addr(rec), d);
	if (rec->d.len != MU_D_ADDR_LEN || memcmp(rec->d.ptr, d, MU_D_ADDR_LEN) != 0)
		return mu_fail(why, MU_ERECORD,
		               "d-form: %s's d must be the digest of its %s "
		               "address (%s), not another",
		               def->article, def->d_key, d);
	return 0;
}

static int
check_rsvp(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_rsvp *r = &rec->c.rsvp;

	if (r->has_waitlisted && r->waitlisted > r->going)
		return mu_fail(why, MU_ERECORD,
		               "rsvp-waitlisted: rsvp.waitlisted (%u) is more than "
		               "rsvp.going (%u)",
		               r->waitlisted, r->going);
	return check_d_addr(rec, why);
}

static int
check_tally(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_tally_rec *t = &rec->c.tally;
	size_t i;

	if (memcmp(t->event.group, rec->group, MU_KEY_BYTES) != 0)
		return mu_fail(why, MU_ERECORD,
		               "tally-own: tally.event names another group's event; "
		               "only an event's own group tallies it");
	if (t->ncounts != t->ngroups)
		return mu_fail(why, MU_ERECORD,
		               "tally-runs: tally.groups has %zu items and "
		               "tally.counts %zu; they must pair up",
		               t->ngroups, t->ncounts);
	for (i = 1; i < t->ngroups; i++)
		if (memcmp(t->groups[i], t->groups[i - 1], MU_KEY_BYTES) == 0)
			return mu_fail(why, MU_ERECORD,
			               "tally-runs: tally.groups[%zu] repeats the "
			               "group before it; one run per group there",
			               i);
	return check_d_addr(rec, why);
}

static int
check_signatures(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_signatures *s = &rec->c.signatures;

	if (s->nnames > s->count)
		return mu_fail(why, MU_ERECORD,
		               "signatures-names: signatures.names has %zu names but "
		               "signatures.count is %u",
		               s->nnames, s->count);
	return check_d_addr(rec, why);
}

static int
check_pledge(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_pledge *p = &rec->c.pledge;

	if (p->has_end && !p->has_start)
		return mu_fail(why, MU_ERECORD,
		               "pledge-when: pledge.end needs pledge.start");
	if (p->has_end && p->end < p->start)
		return mu_fail(why, MU_ERECORD,
		               "end-before-start: pledge.end (%lld) is before "
		               "pledge.start (%lld)",
		               (long long)p->end, (long long)p->start);
	if (p->has_triggered && p->triggered > p->deadline)
		return mu_fail(why, MU_ERECORD,
		               "pledge-triggered: pledge.triggered (%lld) is after "
		               "pledge.deadline (%lld)",
		               (long long)p->triggered, (long long)p->deadline);
	return 0;
}

static int
check_pledged(const struct mu_record *rec, struct mu_why *why)
{
	return check_d_addr(rec, why);
}

/* ---- how `muster show` prints each kind --------------------------------- */

static const struct mu_show profile_show[] = {
    {"name:", "name", MU_SHOW_VALUE},         {"about:", "about", MU_SHOW_VALUE},
    {"website:", "website", MU_SHOW_VALUE},   {"contact:", "contact", MU_SHOW_VALUE},
    {"location:", "location", MU_SHOW_VALUE}, {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show cause_show[] = {
    {"title:", "title", MU_SHOW_VALUE},
    {"status:", "status", MU_SHOW_VALUE},
    {"summary:", "summary", MU_SHOW_VALUE},
    {"tags:", "tags", MU_SHOW_JOINED},
    {"url:", "url", MU_SHOW_VALUE},
    {"description:", "description", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show event_show[] = {
    {"title:", "title", MU_SHOW_VALUE},
    {"status:", "status", MU_SHOW_VALUE},
    {"when:", NULL, MU_SHOW_WHEN},
    {"start:", "start", MU_SHOW_LOCAL},
    {"end:", "end", MU_SHOW_LOCAL},
    {"tz:", "tz", MU_SHOW_VALUE},
    {"all_day:", "all_day", MU_SHOW_VALUE},
    {"where:", "location.name", MU_SHOW_VALUE},
    {"street:", "location.address", MU_SHOW_VALUE},
    {"geo:", "location.lat", MU_SHOW_PAIR},
    {"online:", "online", MU_SHOW_VALUE},
    {"repeats:", "repeat.freq", MU_SHOW_VALUE},
    {"every:", "repeat.interval", MU_SHOW_VALUE},
    {"on:", "repeat.byday", MU_SHOW_JOINED},
    {"until:", "repeat.until", MU_SHOW_VALUE},
    {"count:", "repeat.count", MU_SHOW_VALUE},
    {"skips:", "repeat.skip", MU_SHOW_JOINED},
    {"cancelled on:", "repeat.cancelled", MU_SHOW_JOINED},
    {"cause:", "cause", MU_SHOW_VALUE},
    {"capacity:", "capacity", MU_SHOW_VALUE},
    {"tags:", "tags", MU_SHOW_JOINED},
    {"host:", "hosts", MU_SHOW_VALUE},
    {"description:", "description", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show alliance_show[] = {
    {"with:", "with", MU_SHOW_VALUE},    {"status:", "status", MU_SHOW_VALUE},
    {"cause:", "causes", MU_SHOW_VALUE}, {"terms:", "terms", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

/* One of addr and id is present (rule delete-target). */
static const struct mu_show delete_show[] = {
    {"deletes:", "addr", MU_SHOW_VALUE},
    {"deletes:", "id", MU_SHOW_VALUE},
    {"reason:", "reason", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show node_show[] = {
    {"addrs:", "addrs", MU_SHOW_JOINED},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show organizer_show[] = {
    {"name:", "name", MU_SHOW_VALUE},     {"key:", "key", MU_SHOW_VALUE},
    {"status:", "status", MU_SHOW_VALUE}, {"kinds:", "kinds", MU_SHOW_JOINED},
    {"keep:", "keep", MU_SHOW_VALUE},     {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show rsvp_show[] = {
    {"event:", "event", MU_SHOW_VALUE},
    {"going:", "going", MU_SHOW_VALUE},
    {"waitlisted:", "waitlisted", MU_SHOW_VALUE},
    {"estimate:", "about", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show tally_show[] = {
    {"event:", "event", MU_SHOW_VALUE},   {"capacity:", "capacity", MU_SHOW_VALUE},
    {"groups:", "groups", MU_SHOW_VALUE}, {"counts:", "counts", MU_SHOW_JOINED},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show petition_show[] = {
    {"title:", "title", MU_SHOW_VALUE},       {"status:", "status", MU_SHOW_VALUE},
    {"to:", "target", MU_SHOW_VALUE},         {"goal:", "goal", MU_SHOW_VALUE},
    {"deadline:", "deadline", MU_SHOW_VALUE}, {"cause:", "cause", MU_SHOW_VALUE},
    {"text:", "text", MU_SHOW_VALUE},         {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show signatures_show[] = {
    {"petition:", "petition", MU_SHOW_VALUE},
    {"count:", "count", MU_SHOW_VALUE},
    {"as a group:", "as_group", MU_SHOW_VALUE},
    {"names:", "names", MU_SHOW_JOINED},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show pledge_show[] = {
    {"title:", "title", MU_SHOW_VALUE},
    {"threshold:", "threshold", MU_SHOW_VALUE},
    {"unit:", "unit", MU_SHOW_VALUE},
    {"deadline:", "deadline", MU_SHOW_VALUE},
    {"start:", "start", MU_SHOW_VALUE},
    {"end:", "end", MU_SHOW_VALUE},
    {"cause:", "cause", MU_SHOW_VALUE},
    {"text:", "text", MU_SHOW_VALUE},
    {"triggered:", "triggered", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

static const struct mu_show pledged_show[] = {
    {"pledge:", "pledge", MU_SHOW_VALUE},
    {"count:", "count", MU_SHOW_VALUE},
    {"as a group:", "as_group", MU_SHOW_VALUE},
    {NULL, NULL, MU_SHOW_VALUE},
};

#ifdef MU_TEST_KIND
static const struct mu_field note_f[] = {
    {.name = "about",
     .type = MU_FT_ADDR,
     .addr_kind = MU_KIND_EVENT,
     .off = offsetof(struct mu_test_note, about),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_test_note, has_about)},
    {.name = "due",
     .type = MU_FT_INT,
     .store = MU_FI_INT64,
     .lo = 0,
     .hi = MU_TIME_MAX,
     .range_rule = "time-range",
     .view = MU_FV_TIME,
     .off = offsetof(struct mu_test_note, due),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_test_note, has_due)},
    {.name = "pinned",
     .type = MU_FT_TRUE,
     .off = offsetof(struct mu_test_note, pinned),
     .count_off = MU_NO_OFF,
     .flag_off = MU_NO_OFF},
    REPLACES,
    STRLIST(struct mu_test_note, tags, MU_FT_LINE, 32, MU_LIST_MAX),
    STR(struct mu_test_note, text, MU_FT_TEXT, 1000, MU_FF_REQ),
};

static const struct mu_fields note_t = FIELDS("note", note_f);

static int
check_note(const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_test_note *n = &rec->c.note;

	if (n->has_due && n->due < rec->created_at)
		return mu_fail(why, MU_ERECORD,
		               "note-due: note.due (%lld) is before created_at",
		               (long long)n->due);
	return 0;
}

static const struct mu_show note_show[] = {
    {"text:", "text", MU_SHOW_VALUE},     {"due:", "due", MU_SHOW_VALUE},
    {"pinned:", "pinned", MU_SHOW_VALUE}, {"about:", "about", MU_SHOW_VALUE},
    {"tags:", "tags", MU_SHOW_JOINED},    {NULL, NULL, MU_SHOW_VALUE},
};
#endif

/* ---- the kinds ----------------------------------------------------------- */

/* Indexed by enum mu_kind, whose values the store keeps. */
static const struct mu_kind_def kinds[MU_KIND_COUNT] = {
    [MU_KIND_PROFILE] = {.name = "profile",
                         .article = "a profile",
                         .replaceable = true,
                         .d_rule = MU_D_EMPTY,
                         .d_why = "a group has one profile",
                         .fields = &profile_t,
                         .show = profile_show,
                         .counted_as = "profiles"},
    [MU_KIND_CAUSE] = {.name = "cause",
                       .article = "a cause",
                       .replaceable = true,
                       .d_rule = MU_D_TAG,
                       .fields = &cause_t,
                       .show = cause_show,
                       .counted_as = "causes",
                       .cli_list = "cause"},
    [MU_KIND_EVENT] = {.name = "event",
                       .article = "an event",
                       .replaceable = true,
                       .d_rule = MU_D_TAG,
                       .fields = &event_t,
                       .check = check_event,
                       .show = event_show,
                       .counted_as = "events",
                       .cli_list = "event"},
    [MU_KIND_ALLIANCE] = {.name = "alliance",
                          .article = "an alliance",
                          .replaceable = true,
                          .d_rule = MU_D_KEY,
                          .d_why = "the allied group's key",
                          .d_key = "with",
                          .fields = &alliance_t,
                          .check = check_alliance,
                          .show = alliance_show,
                          .counted_as = "alliances",
                          .cli_list = "ally"},
    [MU_KIND_DELETE] = {.name = "delete",
                        .article = "a delete",
                        .d_rule = MU_D_EMPTY,
                        .d_why = NULL,
                        .fields = &delete_t,
                        .check = check_delete,
                        .show = delete_show,
                        .counted_as = "deletes"},
    [MU_KIND_NODE] = {.name = "node",
                      .article = "a node record",
                      .replaceable = true,
                      .d_rule = MU_D_EMPTY,
                      .d_why = "a group has one node record",
                      .fields = &node_t,
                      .show = node_show},
    [MU_KIND_ORGANIZER] = {.name = "organizer",
                           .article = "an organizer record",
                           .replaceable = true,
                           .d_rule = MU_D_KEY,
                           .d_why = "the organizer's key",
                           .d_key = "key",
                           .fields = &organizer_t,
                           .check = check_organizer,
                           .show = organizer_show},
    [MU_KIND_RSVP] = {.name = "rsvp",
                      .article = "an rsvp",
                      .replaceable = true,
                      .d_rule = MU_D_ADDR,
                      .d_why = "the digest of the event's address",
                      .d_key = "event",
                      .fields = &rsvp_t,
                      .check = check_rsvp,
                      .show = rsvp_show,
                      .counted_as = "rsvps",
                      .cli_list = "rsvp"},
    [MU_KIND_TALLY] = {.name = "tally",
                       .article = "a tally",
                       .replaceable = true,
                       .d_rule = MU_D_ADDR,
                       .d_why = "the digest of the event's address",
                       .d_key = "event",
                       .fields = &tally_t,
                       .check = check_tally,
                       .show = tally_show,
                       .counted_as = "tallies"},
    [MU_KIND_PETITION] = {.name = "petition",
                          .article = "a petition",
                          .replaceable = true,
                          .d_rule = MU_D_TAG,
                          .fields = &petition_t,
                          .show = petition_show,
                          .counted_as = "petitions",
                          .cli_list = "petition"},
    [MU_KIND_SIGNATURES] = {.name = "signatures",
                            .article = "a signatures record",
                            .replaceable = true,
                            .d_rule = MU_D_ADDR,
                            .d_why = "the digest of the petition's address",
                            .d_key = "petition",
                            .fields = &signatures_t,
                            .check = check_signatures,
                            .show = signatures_show,
                            .counted_as = "signature counts"},
    [MU_KIND_PLEDGE] = {.name = "pledge",
                        .article = "a pledge",
                        .replaceable = true,
                        .d_rule = MU_D_TAG,
                        .fields = &pledge_t,
                        .check = check_pledge,
                        .show = pledge_show,
                        .counted_as = "pledges",
                        .cli_list = "pledge"},
    [MU_KIND_PLEDGED] = {.name = "pledged",
                         .article = "a pledged count",
                         .replaceable = true,
                         .d_rule = MU_D_ADDR,
                         .d_why = "the digest of the pledge's address",
                         .d_key = "pledge",
                         .fields = &pledged_t,
                         .check = check_pledged,
                         .show = pledged_show,
                         .counted_as = "pledged counts"},
#ifdef MU_TEST_KIND
    [MU_KIND_TEST_NOTE] = {.name = "note",
                           .article = "a note",
                           .replaceable = true,
                           .d_rule = MU_D_TAG,
                           .fields = &note_t,
                           .check = check_note,
                           .show = note_show,
                           .counted_as = "notes"},
#endif
};

const struct mu_kind_def *
mu_kind_def(enum mu_kind kind)
{
	if (kind <= MU_KIND_NONE || kind >= MU_KIND_COUNT)
		return NULL;
	return &kinds[kind];
}
