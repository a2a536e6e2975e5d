/*
 * kind.h - every record kind as data: its name, whether it is replaceable,
 * its d rule, its content fields (docs/PROTOCOL.md, section 3), the rules
 * across fields, and how people see it. The parser, the builder, the JSON and
 * text printers, the store's counts and the command line all walk this one
 * description, so that they cannot disagree on a kind, a name, a type or a
 * limit. protocol/kind_table.c holds the table; adding a kind is one entry
 * there (docs/CONTRIBUTING.md, "Adding a record kind").
 *
 * Internal to muster (not part of the record API): the tables describe
 * struct mu_record's content structs by offset. Everything here is static
 * data, never freed, and read by every layer above protocol/.
 *
 * Each field table lists its fields in canonical key order (ascending
 * bytewise), which is the order the builder writes them and the order the
 * parser expects them. Offsets are from the start of the kind's content
 * struct (rec->c.event and so on); a sub-table's offsets are from the struct
 * its MU_FT_MAP field points at.
 */
#ifndef MU_KIND_H
#define MU_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum mu_ftype {
	MU_FT_LINE,     /* str, struct mu_str: UTF-8, no control characters */
	MU_FT_TEXT,     /* as LINE, tab and line feed allowed */
	MU_FT_URL,      /* a LINE starting http:// or https://, no space */
	MU_FT_TZ,       /* str, struct mu_str: an IANA zone name */
	MU_FT_HOSTPORT, /* a LINE of the form HOST:PORT (rule node-addr) */
	MU_FT_ENUM,     /* str, stored as an int enum: names[i] is value i + 1 */
	MU_FT_INT,    /* int in lo..hi (else rule range_rule): int64, int32 or uint32 */
	MU_FT_TRUE,   /* true, stored as bool (absent = false) */
	MU_FT_KEY,    /* bin of 32 bytes, uint8_t[32] */
	MU_FT_ADDR,   /* [group, kind, d], struct mu_addr */
	MU_FT_MAP,    /* a map described by sub */
	MU_FT_IDLIST, /* a list of bin 32 (record ids), list_max items, struct
	               * mu_idlist: borrowed, not a MU_FF_LIST array */
};

enum mu_fflag {
	MU_FF_REQ = 1 << 0,  /* rule required */
	MU_FF_LIST = 1 << 1, /* a list of the type: count at count_off */
	MU_FF_NEG = 1 << 2,  /* present when the bool at flag_off is false */
	MU_FF_UINT = 1 << 3, /* MU_FT_INT: a uint (a negative is a type error) */
};

/* What a value means to people, for JSON and text output. */
enum mu_fview {
	MU_FV_PLAIN,   /* as its type says */
	MU_FV_TIME,    /* MU_FT_INT: Unix seconds, shown as a date and time */
	MU_FV_DEGREES, /* MU_FT_INT: 1e-7 degrees (MU_GEO_SCALE), shown as a real */
	MU_FV_ID,      /* MU_FT_KEY: a record id, shown in hex, not as a key */
};

/* How an MU_FT_INT value is stored. */
enum mu_fint {
	MU_FI_INT64,
	MU_FI_INT32,
	MU_FI_UINT32,
};

#define MU_NO_OFF ((size_t)-1)

struct mu_fields;

struct mu_field {
	const char *name; /* the map key */
	enum mu_ftype type;
	unsigned flags;              /* enum mu_fflag */
	unsigned max;                /* strings: most bytes (per item in a list) */
	unsigned list_max;           /* lists: most items */
	enum mu_fint store;          /* MU_FT_INT */
	int64_t lo, hi;              /* MU_FT_INT */
	const char *range_rule;      /* MU_FT_INT: the rule for a value out of lo..hi */
	enum mu_kind addr_kind;      /* MU_FT_ADDR: the kind it must name, or NONE */
	size_t off;                  /* the value (or first item of a list) */
	size_t count_off;            /* lists: a size_t item count */
	size_t flag_off;             /* a bool that says "present", or MU_NO_OFF */
	const char *const *names;    /* MU_FT_ENUM: NULL-terminated */
	const struct mu_fields *sub; /* MU_FT_MAP */
	enum mu_fview view;          /* how people see it */
};

/*
 * Rules across a table's fields, as masks of field indexes (bit i is f[i]):
 * at least one of any_of must be present (rule required), the fields of
 * together all or none (rule geo-pair), exactly one of one_of (rule
 * delete-target). A zero mask checks nothing.
 */
struct mu_fields {
	const char *name; /* "event", "event.location": for messages */
	const struct mu_field *f;
	size_t n;
	uint32_t any_of, together, one_of;
};

/* Rule d-form: the shape of a record's d tag. */
enum mu_drule {
	MU_D_EMPTY, /* d is "": one record of the kind per group */
	MU_D_TAG,   /* 1-64 of a-z 0-9 . _ -, starting a-z or 0-9 */
	MU_D_KEY,   /* a key field of the content (d_key) in lowercase hex */
	MU_D_ADDR,  /* mu_rec_addr_d() of the address field d_key: the record
	             * answers that record, once per group */
};

/* How `muster show` prints a line of a record's content. */
enum mu_show_as {
	MU_SHOW_VALUE,  /* the field's value; each item of a list on a line */
	MU_SHOW_JOINED, /* a list on one line, joined by ", " */
	MU_SHOW_LOCAL,  /* a time, also in the content's tz unless all_day */
	MU_SHOW_PAIR,   /* field and the next field of its table: "a,b" */
	MU_SHOW_WHEN,   /* an event's dates in words (cli/print.c) */
};

/* One line of `muster show`: label, then the field at path ("location.name";
 * NULL for MU_SHOW_WHEN). Nothing is printed for an absent field. */
struct mu_show {
	const char *label;
	const char *path;
	enum mu_show_as as;
};

struct mu_kind_def {
	const char *name;    /* the wire name: "event" */
	const char *article; /* "an event": for messages */
	bool replaceable;    /* has an address (group, kind, d) and revisions */
	enum mu_drule d_rule;
	const char *d_why; /* what d must be, for the message, or NULL */
	const char *d_key; /* MU_D_KEY: the content's MU_FT_KEY field d spells;
	                    * MU_D_ADDR: the MU_FT_ADDR field d digests */
	const struct mu_fields *fields;
	/*
	 * Rules across the record's fields, after each field passed its own:
	 * 0, or MU_ERECORD with "rule: path detail" in why. NULL: none.
	 */
	int (*check)(const struct mu_record *rec, struct mu_why *why);
	const struct mu_show *show; /* NULL-label-terminated */
	const char *counted_as;     /* `muster status`'s label, NULL: not listed */
	const char *cli_list;       /* the command that lists it ("ally"), or NULL */
};

/* The kind's description, or NULL for MU_KIND_NONE and unknown values. */
const struct mu_kind_def *mu_kind_def(enum mu_kind kind);

/*
 * The names of the kinds, replaceable ones only or all, in enum order,
 * separated by ", " and last_sep before the last: "profile, cause or node".
 * Returns out.
 */
#define MU_KIND_LIST_SIZE 240
const char *mu_kind_list(char *out, size_t n, bool replaceable, const char *last_sep);

/* The key that d must spell (MU_D_KEY) in rec's content, else NULL. */
const uint8_t *mu_kind_d_key(const struct mu_record *rec);

/* The content table of a kind, or NULL for an unknown kind. */
const struct mu_fields *mu_rec_fields(enum mu_kind kind);

/* Whether values of this type are strings (struct mu_str). */
bool mu_ftype_is_str(enum mu_ftype type);

/*
 * The field at path ("title", "location.name") of table t, for the content
 * struct at base: the field, with *owner set to the struct that holds it
 * (base, or a map's struct inside it). NULL when t has no such field or a
 * map on the way is absent.
 */
const struct mu_field *mu_field_at(const struct mu_fields *t, const void *base,
                                   const char *path, const void **owner);

/* The value of an MU_FT_INT field stored at p, as its store says. */
int64_t mu_field_int(const struct mu_field *f, const void *p);

/* Bytes one item of a list of this type takes in its C array. */
size_t mu_field_stride(const struct mu_field *f);

/*
 * Whether the field is present in the content struct at base: a non-empty
 * string, a non-zero enum, a set flag, a true bool, a non-zero item count.
 * Fields that are always written (required keys, start) are present.
 */
bool mu_field_present(const struct mu_field *f, const void *base);

#endif
