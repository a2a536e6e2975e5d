/*
 * The content tables of docs/PROTOCOL.md, section 3. Keep each table in
 * ascending bytewise key order: it is the canonical order on the wire
 * (tests/unit/test_record.c checks it).
 */
#include "record_fields.h"

#include <string.h>

_Static_assert(sizeof(enum mu_cause_status) == sizeof(int) &&
                   sizeof(enum mu_event_status) == sizeof(int) &&
                   sizeof(enum mu_alliance_status) == sizeof(int),
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

static const char *const cause_status[] = {"active", "won", "closed", NULL};
static const char *const event_status[] = {"tentative", "confirmed", "cancelled", NULL};
static const char *const alliance_status[] = {"proposed", "ended", NULL};

static const struct mu_field profile_f[] = {
    STR(struct mu_profile, about, MU_FT_TEXT, 2000, 0),
    STR(struct mu_profile, contact, MU_FT_LINE, 200, 0),
    STR(struct mu_profile, location, MU_FT_LINE, 200, 0),
    STR(struct mu_profile, name, MU_FT_LINE, 100, MU_FF_REQ),
    STR(struct mu_profile, website, MU_FT_URL, 512, 0),
};

static const struct mu_field cause_f[] = {
    STR(struct mu_cause, description, MU_FT_TEXT, 8000, 0),
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
     .off = offsetof(struct mu_location, lat),
     .count_off = MU_NO_OFF,
     .flag_off = offsetof(struct mu_location, has_geo)},
    {.name = "lon",
     .type = MU_FT_INT,
     .store = MU_FI_INT32,
     .lo = -1800000000,
     .hi = 1800000000,
     .range_rule = "geo-range",
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
    {.name = "start",
     .type = MU_FT_INT,
     .flags = MU_FF_REQ,
     .store = MU_FI_INT64,
     .lo = 0,
     .hi = MU_TIME_MAX,
     .range_rule = "time-range",
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
};

static const struct mu_fields tables[MU_KIND_COUNT] = {
    [MU_KIND_PROFILE] = {.name = "profile", .f = profile_f, .n = NFIELDS(profile_f)},
    [MU_KIND_CAUSE] = {.name = "cause", .f = cause_f, .n = NFIELDS(cause_f)},
    [MU_KIND_EVENT] = {.name = "event", .f = event_f, .n = NFIELDS(event_f)},
    [MU_KIND_ALLIANCE] = {.name = "alliance",
                          .f = alliance_f,
                          .n = NFIELDS(alliance_f)},
    /* Bits: addr 0, id 1. */
    [MU_KIND_DELETE] = {.name = "delete",
                        .f = delete_f,
                        .n = NFIELDS(delete_f),
                        .one_of = 1u << 0 | 1u << 1},
    [MU_KIND_NODE] = {.name = "node", .f = node_f, .n = NFIELDS(node_f)},
};

const struct mu_fields *
mu_rec_fields(enum mu_kind kind)
{
	if (kind <= MU_KIND_NONE || kind >= MU_KIND_COUNT)
		return NULL;
	return &tables[kind];
}

size_t
mu_field_stride(const struct mu_field *f)
{
	switch (f->type) {
	case MU_FT_KEY:
		return MU_KEY_BYTES;
	case MU_FT_ADDR:
		return sizeof(struct mu_addr);
	default:
		return sizeof(struct mu_str);
	}
}

bool
mu_field_present(const struct mu_field *f, const void *base)
{
	const uint8_t *b = base;
	bool flag;

	if (f->flags & MU_FF_LIST)
		return *(const size_t *)(b + f->count_off) != 0;
	if (f->flag_off != MU_NO_OFF) {
		flag = *(const bool *)(b + f->flag_off);
		return (f->flags & MU_FF_NEG) ? !flag : flag;
	}
	switch (f->type) {
	case MU_FT_LINE:
	case MU_FT_TEXT:
	case MU_FT_URL:
	case MU_FT_TZ:
	case MU_FT_HOSTPORT:
		return ((const struct mu_str *)(b + f->off))->len != 0;
	case MU_FT_ENUM:
		return *(const int *)(b + f->off) != 0;
	case MU_FT_TRUE:
		return *(const bool *)(b + f->off);
	default:
		return true;
	}
}
