/*
 * record_fields.h - the content fields of each kind (docs/PROTOCOL.md,
 * section 3) as data, so that the parser, the builder and any printer walk
 * the same description and cannot disagree on a name, a type or a limit.
 *
 * Internal to muster (not part of the record API): the tables describe
 * struct mu_record's content structs by offset.
 *
 * Each table lists its fields in canonical key order (ascending bytewise),
 * which is the order the builder writes them and the order the parser
 * expects them. Offsets are from the start of the kind's content struct
 * (rec->c.event and so on); a sub-table's offsets are from the struct its
 * MU_FT_MAP field points at.
 */
#ifndef MU_RECORD_FIELDS_H
#define MU_RECORD_FIELDS_H

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
	MU_FT_INT,  /* int in lo..hi (else rule range_rule): int64, int32 or uint32 */
	MU_FT_TRUE, /* true, stored as bool (absent = false) */
	MU_FT_KEY,  /* bin of 32 bytes, uint8_t[32] */
	MU_FT_ADDR, /* [group, kind, d], struct mu_addr */
	MU_FT_MAP,  /* a map described by sub */
};

enum mu_fflag {
	MU_FF_REQ = 1 << 0,  /* rule required */
	MU_FF_LIST = 1 << 1, /* a list of the type: count at count_off */
	MU_FF_NEG = 1 << 2,  /* present when the bool at flag_off is false */
	MU_FF_UINT =
	    1 << 3, /* MU_FT_INT: must be a uint (a negative is a type error) */
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

/* The content table of a kind, or NULL for an unknown kind. */
const struct mu_fields *mu_rec_fields(enum mu_kind kind);

/* Bytes one item of a list of this type takes in its C array. */
size_t mu_field_stride(const struct mu_field *f);

/*
 * Whether the field is present in the content struct at base: a non-empty
 * string, a non-zero enum, a set flag, a true bool, a non-zero item count.
 * Fields that are always written (required keys, start) are present.
 */
bool mu_field_present(const struct mu_field *f, const void *base);

#endif
