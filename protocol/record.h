/*
 * record.h - signed, content-addressed muster records.
 *
 * The byte format and every rule checked here are specified in
 * docs/PROTOCOL.md ("Records"); this header is its C face.
 *
 * Ownership: a parsed struct mu_record borrows. Every struct mu_str and the
 * raw/body/sig pointers point into the buffer given to mu_rec_parse(), which
 * must outlive the record. Nothing in a record is ever freed by these
 * functions. When the caller fills a record to build one, the strings are
 * the caller's and are only read.
 *
 * Pure code: no I/O, no clock, no globals. "now" is always an argument.
 */
#ifndef MU_RECORD_H
#define MU_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MU_KEY_BYTES      32    /* Ed25519 public key: a group or a signer */
#define MU_SECRET_BYTES   64    /* libsodium's Ed25519 secret key (seed || pk) */
#define MU_ID_BYTES       32    /* BLAKE2b-256 of the body */
#define MU_SIG_BYTES      64    /* Ed25519 signature */
#define MU_FORMAT_VERSION 1     /* header field 0 */
#define MU_BODY_MAX       16384 /* rule body-size */
#define MU_RECORD_MAX     (1 + 3 + MU_BODY_MAX + 2 + MU_SIG_BYTES) /* array, bin hdrs */
#define MU_D_MAX          64                                       /* rule d-form */
#define MU_FUTURE_SLACK   600            /* seconds; rule future */
#define MU_TIME_MAX       253402300799LL /* 9999-12-31T23:59:59Z */
#define MU_REV_MAX        2147483647u    /* fits iCalendar's SEQUENCE */
#define MU_EVENT_SPAN_MAX 31622400       /* 366 days; rule event-span */
#define MU_LIST_MAX       16             /* tags, hosts, causes */
#define MU_ONLINE_MAX     8              /* event.online */
#define MU_GEO_SCALE      10000000       /* lat/lon are in 1e-7 degrees */
#define MU_NODE_ADDRS_MAX 8              /* node.addrs */
#define MU_NODE_ADDR_MAX  261      /* one "HOST:PORT" of node.addrs; rule node-addr */
#define MU_KEEP_MAX       400      /* organizer.keep */
#define MU_COUNT_MAX      10000000 /* rsvp, signatures, pledged counts */
#define MU_TALLY_MAX      64       /* tally.groups and tally.counts */
#define MU_NAMES_MAX      128      /* signatures.names */
#define MU_NAME_MAX       64       /* one of signatures.names, in bytes */

/* A series of occurrences (event.repeat, protocol/recur.h). */
#define MU_REPEAT_DATES_MAX 64  /* event.repeat.skip, event.repeat.cancelled */
#define MU_REPEAT_COUNT_MAX 400 /* event.repeat.count; occurrences of a series */
#define MU_REPEAT_SPAN_DAYS 366 /* days from a series' first date to its last */

/* The domain separator that is signed before the id (16 ASCII bytes). */
#define MU_SIG_CONTEXT     "muster record v1"
#define MU_SIG_CONTEXT_LEN 16

enum mu_kind {
	MU_KIND_NONE = 0,
	MU_KIND_PROFILE,
	MU_KIND_CAUSE,
	MU_KIND_EVENT,
	MU_KIND_ALLIANCE,
	MU_KIND_DELETE,
	MU_KIND_NODE, /* the store keeps these values: append, never renumber */
	MU_KIND_ORGANIZER,
	MU_KIND_RSVP,       /* 8: a group's count of people going to an event */
	MU_KIND_TALLY,      /* 9: an event host's places per group */
	MU_KIND_PETITION,   /* 10 */
	MU_KIND_SIGNATURES, /* 11: a group's signatures of a petition */
	MU_KIND_PLEDGE,     /* 12 */
	MU_KIND_PLEDGED,    /* 13: a group's pledged count */
#ifdef MU_TEST_KIND
	MU_KIND_TEST_NOTE, /* only in tests/unit/test_kind_table.c's build */
#endif
	MU_KIND_COUNT
};

/* A borrowed UTF-8 string, not NUL-terminated. len == 0 means absent. */
struct mu_str {
	const char *ptr;
	size_t len;
};

/* The address of a replaceable record: (group, kind, d). */
struct mu_addr {
	uint8_t group[MU_KEY_BYTES];
	enum mu_kind kind;
	struct mu_str d;
};

enum mu_cause_status { MU_CAUSE_ACTIVE = 1, MU_CAUSE_WON, MU_CAUSE_CLOSED };

enum mu_event_status { MU_EVENT_TENTATIVE = 1, MU_EVENT_CONFIRMED, MU_EVENT_CANCELLED };

enum mu_alliance_status { MU_ALLIANCE_PROPOSED = 1, MU_ALLIANCE_ENDED };

enum mu_organizer_status { MU_ORGANIZER_ACTIVE = 1, MU_ORGANIZER_REVOKED };

struct mu_profile {
	struct mu_str name; /* required */
	struct mu_str about, website, contact, location;
};

struct mu_cause {
	struct mu_str title; /* required */
	struct mu_str summary, description, url;
	struct mu_str tags[MU_LIST_MAX];
	size_t ntags;
	enum mu_cause_status status; /* required */
};

struct mu_location {
	bool set;
	struct mu_str name, address; /* at least one when set */
	bool has_geo;
	int32_t lat, lon; /* 1e-7 degrees */
};

enum mu_repeat_freq { MU_REPEAT_DAILY = 1, MU_REPEAT_WEEKLY, MU_REPEAT_MONTHLY };

/* A recurrence (docs/PROTOCOL.md, event.repeat; protocol/recur.h expands
 * it). Dates are "YYYY-MM-DD" in the event's zone. */
struct mu_repeat {
	bool set;
	struct mu_str byday[7]; /* "mo" ... "su", weekly only */
	size_t nbyday;
	struct mu_str cancelled[MU_REPEAT_DATES_MAX];
	size_t ncancelled;
	bool has_count;
	uint32_t count;
	enum mu_repeat_freq freq; /* required */
	bool has_interval;
	uint32_t interval;
	struct mu_str skip[MU_REPEAT_DATES_MAX];
	size_t nskip;
	struct mu_str until; /* or absent: then count */
};

struct mu_event {
	struct mu_str title; /* required */
	struct mu_str description;
	int64_t start; /* required; Unix seconds, UTC */
	bool has_end;
	int64_t end;
	struct mu_str tz; /* IANA zone name, or absent */
	bool all_day;
	struct mu_location location;
	struct mu_str online[MU_ONLINE_MAX];
	size_t nonline;
	struct mu_repeat repeat;
	bool has_cause;
	struct mu_addr cause;
	enum mu_event_status status; /* required */
	bool has_capacity;
	uint32_t capacity;
	struct mu_str tags[MU_LIST_MAX];
	size_t ntags;
	uint8_t hosts[MU_LIST_MAX][MU_KEY_BYTES];
	size_t nhosts;
};

struct mu_alliance {
	uint8_t with[MU_KEY_BYTES]; /* required */
	struct mu_str terms;
	struct mu_addr causes[MU_LIST_MAX];
	size_t ncauses;
	enum mu_alliance_status status; /* required */
};

/* A tombstone names exactly one target: an address or an id. */
struct mu_delete {
	bool by_addr;
	struct mu_addr addr;     /* when by_addr */
	uint8_t id[MU_ID_BYTES]; /* otherwise */
	struct mu_str reason;
};

/* Where a group's node can be reached, for its allies to dial. */
struct mu_node_rec {
	struct mu_str addrs[MU_NODE_ADDRS_MAX]; /* "HOST:PORT", rule node-addr */
	size_t naddrs;                          /* 1 .. MU_NODE_ADDRS_MAX */
};

/*
 * A list of record ids that is not copied into the record: up to
 * MU_KEEP_MAX ids would make every struct mu_record (and arrays of them)
 * 12 KiB larger. A parsed list borrows the record's bytes, where each item
 * is a canonical bin of 32 (`c4 20` and the id, stride 34); a list to build
 * from points at the caller's ids, usually packed (stride MU_ID_BYTES).
 * Read the items with mu_idlist_at().
 */
struct mu_idlist {
	const uint8_t *ids; /* the first id's bytes */
	size_t n;
	size_t stride; /* bytes from one id to the next */
};

/* A key that may publish for a group (docs/PROTOCOL.md, section 3.7). */
struct mu_organizer {
	struct mu_idlist keep;            /* only when revoked (rule organizer-keep) */
	uint8_t key[MU_KEY_BYTES];        /* required; d is its hex */
	struct mu_str kinds[MU_LIST_MAX]; /* kind names; none: all but organizer */
	size_t nkinds;
	struct mu_str name;              /* required */
	enum mu_organizer_status status; /* required */
};

/*
 * A group's count of its people going to an event (docs/PROTOCOL.md 3.8).
 * d is the event's address digest (rule d-form, MU_D_ADDR).
 */
struct mu_rsvp {
	bool about;           /* the count is an estimate stated by hand */
	struct mu_addr event; /* required */
	uint32_t going;       /* required; people asking for a place */
	bool has_waitlisted;
	uint32_t waitlisted; /* of going, those the host's tally left without */
};

/*
 * The host's places of an event, per group: a queue of runs (groups[i],
 * counts[i]) in order of arrival; the first capacity people of the queue
 * have places, the rest wait (protocol/tally.h).
 */
struct mu_tally_rec {
	uint32_t capacity; /* required */
	uint32_t counts[MU_TALLY_MAX];
	size_t ncounts;
	struct mu_addr event; /* required; of the record's own group */
	uint8_t groups[MU_TALLY_MAX][MU_KEY_BYTES];
	size_t ngroups;
};

enum mu_petition_status { MU_PETITION_OPEN = 1, MU_PETITION_CLOSED };

struct mu_petition {
	bool has_cause;
	struct mu_addr cause;
	bool has_deadline;
	int64_t deadline;
	bool has_goal;
	uint32_t goal;
	enum mu_petition_status status; /* required */
	struct mu_str target;           /* required: whom it addresses */
	struct mu_str text;             /* required */
	struct mu_str title;            /* required */
};

/* A group's signatures of a petition; d is the petition's address digest. */
struct mu_signatures {
	bool as_group;  /* the group itself signs */
	uint32_t count; /* required; people who signed through this group */
	struct mu_str names[MU_NAMES_MAX]; /* the names their signers chose to show */
	size_t nnames;
	struct mu_addr petition; /* required */
};

enum mu_pledge_unit { MU_PLEDGE_PEOPLE = 1, MU_PLEDGE_GROUPS };

struct mu_pledge {
	bool has_cause;
	struct mu_addr cause;
	int64_t deadline; /* required */
	bool has_end;
	int64_t end;
	bool has_start;
	int64_t start; /* when the pledged action happens */
	struct mu_str text;
	uint32_t threshold;  /* required */
	struct mu_str title; /* required */
	bool has_triggered;
	int64_t triggered;        /* when the host found it triggered */
	enum mu_pledge_unit unit; /* required */
};

/* A group's pledged count; d is the pledge's address digest. */
struct mu_pledged {
	bool as_group;         /* the group itself commits */
	uint32_t count;        /* required; people who pledged through this group */
	struct mu_addr pledge; /* required */
};

#ifdef MU_TEST_KIND
/* A kind that exists only in the build of tests/unit/test_kind_table.c,
 * which shows that a kind is added through its table entry alone. */
struct mu_test_note {
	struct mu_str text; /* required */
	bool has_due;
	int64_t due;
	bool pinned;
	bool has_about;
	struct mu_addr about; /* an event */
	struct mu_str tags[MU_LIST_MAX];
	size_t ntags;
};
#endif

struct mu_record {
	/* Set by mu_rec_parse() and mu_rec_build(); borrowed from the buffer. */
	const uint8_t *raw; /* the whole record: [body, sig] */
	size_t raw_len;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *sig;
	uint8_t id[MU_ID_BYTES];

	/* Header, in body order. */
	uint32_t version;
	enum mu_kind kind;
	uint8_t group[MU_KEY_BYTES];
	uint8_t signer[MU_KEY_BYTES];
	int64_t created_at;
	struct mu_str d;
	uint32_t rev;

	/* Content; the member matching kind is valid. */
	union {
		struct mu_profile profile;
		struct mu_cause cause;
		struct mu_event event;
		struct mu_alliance alliance;
		struct mu_delete del;
		struct mu_node_rec node;
		struct mu_organizer organizer;
		struct mu_rsvp rsvp;
		struct mu_tally_rec tally;
		struct mu_petition petition;
		struct mu_signatures signatures;
		struct mu_pledge pledge;
		struct mu_pledged pledged;
#ifdef MU_TEST_KIND
		struct mu_test_note note;
#endif
	} c;

	/*
	 * The content field `replaces` of every replaceable kind: the id of the
	 * revision its publisher edited (docs/PROTOCOL.md, section 5). Kept out
	 * of the union so that one field describes it for every kind; the kind
	 * tables reach it by its offset from c (REPLACES in kind_table.c).
	 */
	bool has_replaces;
	uint8_t replaces[MU_ID_BYTES];
};

/* mu_rec_parse() flags. */
enum {
	/* Skip the signature check. Only for bytes that were verified before
	 * they were stored, such as records read back from our own store. */
	MU_PARSE_TRUSTED = 1 << 0,
	/* Skip the clock check (rule future): re-reading stored records. */
	MU_PARSE_NOCLOCK = 1 << 1,
};

/*
 * Parses len bytes at buf as one record and checks every rule of
 * docs/PROTOCOL.md: canonical encoding, sizes, types, UTF-8, the kind's
 * fields, the id and the signature. The record must be exactly len bytes.
 *
 * now is the current Unix time, for rule future. On success fills *rec
 * (borrowing from buf) and returns 0. On failure returns MU_ERECORD,
 * MU_ESIG (rule signature) or MU_ETRUNC (buf ends before the record does,
 * as mu_rec_span() says) with the broken rule in why; *rec is then
 * undefined. Does not allocate.
 */
int mu_rec_parse(struct mu_record *rec, const uint8_t *buf, size_t len, int64_t now,
                 int flags, struct mu_why *why);

/*
 * Rule future alone, on a parsed record: 0 when created_at is at most
 * MU_FUTURE_SLACK seconds after now, else MU_ERECORD with why. The one
 * rule whose answer changes with time: a record that passes every other
 * rule and fails only this one will pass once the clock reaches it.
 */
int mu_rec_check_future(const struct mu_record *rec, int64_t now, struct mu_why *why);

/*
 * Makes *rec, which mu_rec_parse() filled and which
 * borrows rec->raw, borrow raw instead: a copy of those rec->raw_len bytes
 * (the caller's, and it must outlive rec). A record copied out of a buffer
 * that goes away (a store's read) so needs no second parse.
 */
void mu_rec_move(struct mu_record *rec, const uint8_t *raw);

/*
 * Returns how many bytes the record that starts at buf occupies, reading only
 * its outer headers, so that a stream of records can be cut without parsing
 * them: > 0 on success (never more than len), MU_ETRUNC when more bytes are
 * needed, MU_ERECORD when the prefix cannot start a record (why says which
 * rule; a body over the size limit is refused from its header alone).
 */
long mu_rec_span(const uint8_t *buf, size_t len, struct mu_why *why);

/*
 * Whether the len bytes at buf, a record as mu_rec_span() cuts it, are of
 * that kind, from its first bytes alone (a canonical body starts with its
 * array, its version and its kind). For ordering records to send, not for
 * trusting them: the receiver parses each.
 */
bool mu_rec_raw_is_kind(const uint8_t *buf, size_t len, enum mu_kind kind);

/*
 * Encodes the header and content of *rec canonically, signs it with sk
 * (libsodium's 64-byte Ed25519 secret key for rec->signer) and checks the
 * result with mu_rec_parse(now). raw, body, sig, id and version of *rec are
 * ignored (the version written is MU_FORMAT_VERSION).
 *
 * On success *out is a malloc()ed buffer of *out_len bytes that the caller
 * frees, and id (if not NULL) holds the new id. A record that would break a
 * rule is not built: MU_ERECORD with the rule in why (MU_ESIG when sk is not
 * the signer's key, MU_ENOMEM when memory runs out); *out is then NULL.
 */
int mu_rec_build(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
                 int64_t now, uint8_t **out, size_t *out_len, uint8_t id[MU_ID_BYTES],
                 struct mu_why *why);

/*
 * As mu_rec_build(), with parse_flags for the check of the result:
 * MU_PARSE_TRUSTED skips verifying the signature just made (every other
 * rule is still checked). For bulk generators whose records are verified
 * wherever they are read, such as the benchmarks' tests/bench/gen_records.
 */
int mu_rec_build_flags(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
                       int64_t now, int parse_flags, uint8_t **out, size_t *out_len,
                       uint8_t id[MU_ID_BYTES], struct mu_why *why);

/*
 * As mu_rec_build(), and fills *parsed with the new record as it was checked,
 * borrowing *out (which must outlive it): what the caller stores needs no
 * second parse and verification.
 */
int mu_rec_build_parsed(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
                        int64_t now, uint8_t **out, size_t *out_len,
                        struct mu_record *parsed, struct mu_why *why);

/* Whether records of this kind are replaceable (have an address). */
bool mu_kind_replaceable(enum mu_kind kind);

/* The kind's wire name ("event"), or NULL for an unknown kind. */
const char *mu_kind_name(enum mu_kind kind);

/* The kind with that wire name, or MU_KIND_NONE. */
enum mu_kind mu_kind_from_name(const char *name, size_t len);

/*
 * Checks rule d-form for a kind; 0 or MU_ERECORD with why. For a kind whose
 * d spells a key of its content (an alliance's with), key is that key
 * (mu_kind_d_key() in kind.h); NULL when it is not known (an address read
 * from text), and then only the form is checked.
 */
int mu_rec_check_d(enum mu_kind kind, const struct mu_str *d, const uint8_t *key,
                   struct mu_why *why);

/*
 * Checks rule node-addr for len bytes at s: "HOST:PORT" with PORT 1-65535 in
 * decimal without leading zeros, and HOST either 1-253 characters of
 * a-z A-Z 0-9 . - _ or an IPv6 address in brackets (2-45 characters of
 * 0-9 a-f A-F : . with at least one ':'). 0 or MU_ERECORD with why.
 */
int mu_rec_check_node_addr(const char *s, size_t len, struct mu_why *why);

/* The address of a replaceable record. */
void mu_rec_addr(const struct mu_record *rec, struct mu_addr *addr);

/*
 * Compares two versions of the same address by the replacement rule:
 * > 0 when a is newer (wins), < 0 when b is, 0 only when they are the same
 * record. Higher rev wins, then later created_at, then the lower id;
 * for organizer records, a revoked version wins over any active one first.
 */
int mu_rec_newer(const struct mu_record *a, const struct mu_record *b);

/* Status names as they appear on the wire ("cancelled"), or NULL. */
const char *mu_cause_status_name(enum mu_cause_status s);
const char *mu_event_status_name(enum mu_event_status s);
const char *mu_alliance_status_name(enum mu_alliance_status s);
const char *mu_organizer_status_name(enum mu_organizer_status s);
const char *mu_petition_status_name(enum mu_petition_status s);
const char *mu_pledge_unit_name(enum mu_pledge_unit u);

/*
 * The d of a record that answers the record at addr (rsvp and tally an
 * event, signatures a petition, pledged a pledge; rule d-form, MU_D_ADDR):
 * the lowercase hex of BLAKE2b with a 16-byte digest of addr's group (32
 * bytes) followed by addr's d. out gets 32 digits and a NUL.
 */
#define MU_D_ADDR_LEN 32
void mu_rec_addr_d(const struct mu_addr *addr, char out[MU_D_ADDR_LEN + 1]);

/* The i-th id of l (i < l->n). */
const uint8_t *mu_idlist_at(const struct mu_idlist *l, size_t i);

/* Whether id is one of l's. */
bool mu_idlist_has(const struct mu_idlist *l, const uint8_t id[MU_ID_BYTES]);

/*
 * Whether organizer record o (parsed, kind organizer) lets its key publish
 * records of kind: o is active and kind is in o's kinds (every kind but
 * organizer when o names none).
 */
bool mu_organizer_allows(const struct mu_record *o, enum mu_kind kind);

/*
 * Whether organizer record o accepts rec, signed by o's key for o's group:
 * an active o when it allows rec's kind, a revoked o when its keep names
 * rec's id (docs/PROTOCOL.md 10.6).
 */
bool mu_organizer_accepts(const struct mu_record *o, const struct mu_record *rec);

#endif
