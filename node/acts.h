/*
 * acts.h - the acts kinds on a node (docs/PROTOCOL.md, "Acts"): publishing
 * this group's count for an event, petition or pledge, reading an event
 * host's tally, and the coalition totals with their per-group breakdown.
 *
 * These read and write the store only (no libuv): the daemon, the HTTP
 * pages and the command line all call them. Records handed to a visitor are
 * borrowed for the call.
 */
#ifndef MU_NODE_ACTS_H
#define MU_NODE_ACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/pledge.h"
#include "../protocol/record.h"
#include "../protocol/tally.h"
#include "../storage/home.h"
#include "../storage/store.h"

/* Groups in the scope of one record: its group and its mutual allies. */
#define MU_ACTS_SCOPE_MAX 256

/* A group's count, as mu_node_acts_publish() publishes it. */
struct mu_acts_count {
	enum mu_kind kind;     /* MU_KIND_RSVP, MU_KIND_SIGNATURES or MU_KIND_PLEDGED */
	struct mu_addr target; /* the event, petition or pledge (borrowed) */
	uint32_t count;        /* rsvp.going, signatures.count, pledged.count */
	bool has_waitlisted;   /* rsvp */
	uint32_t waitlisted;
	bool about;                 /* rsvp: an estimate stated by hand */
	bool as_group;              /* signatures, pledged */
	const struct mu_str *names; /* signatures: shown names (borrowed) */
	size_t nnames;
	/* Take about and as_group from the current record, not from above: a
	 * count of sign-ups keeps what organizers stated by hand. */
	bool keep_flags;
	/* The reverse: take the counts (and names) from the current record
	 * and change only the flags: a group signs or commits as a group. */
	bool only_flags;
};

/* The kind of the record that answers a target of kind k (rsvp for an
 * event, signatures for a petition, pledged for a pledge), or NONE. */
enum mu_kind mu_node_acts_answer_kind(enum mu_kind k);

/*
 * Publishes this home's count record for c->target: a new revision of the
 * current one (rev + 1, replaces = its id), or a first one; none when the
 * current one already says the same (*changed false, if not NULL). Signed
 * with the home's organizer key, or the root's when the home has no
 * organizer key; stored in st, from where a running daemon pushes it.
 * No debounce here: callers keep to one revision per limits.acts_debounce_ms.
 * 0, or a negative MU_E* with why (MU_EPERM: no key to sign with).
 */
int mu_node_acts_publish(struct mu_store *st, const struct mu_home *home,
                         const struct mu_acts_count *c, int64_t now, bool *changed,
                         struct mu_why *why);

/*
 * Signs rec (its kind, d and content set by the caller; group, signer and
 * created_at are set here) with the home's organizer key, or the root's
 * when it has none, and stores it. 0, or a negative MU_E* with why.
 */
int mu_node_acts_store(struct mu_store *st, const struct mu_home *home,
                       struct mu_record *rec, int64_t now, struct mu_why *why);

/* Makes rec the revision after the current one (rev, id): rev + 1 and
 * replaces. MU_ERECORD when rev is at its maximum. */
int mu_node_acts_next_rev(struct mu_record *rec, uint32_t rev,
                          const uint8_t id[MU_ID_BYTES], struct mu_why *why);

/* The host's current tally of event (the tally record of event's group):
 * 0, or MU_ENOTFOUND when none is held. *made_at (if not NULL) gets the
 * record's created_at. */
int mu_node_acts_tally(struct mu_store *st, const struct mu_addr *event,
                       struct mu_tally *out, int64_t *made_at);

/* The groups in scope of a record of group g: g first, then its mutual
 * allies in key order; at most max keys, *n of them. */
int mu_node_acts_scope(struct mu_store *st, const uint8_t g[MU_KEY_BYTES],
                       uint8_t (*keys)[MU_KEY_BYTES], size_t max, size_t *n);

/* Calls fn with each current answer record of kind (rsvp, signatures or
 * pledged) to target, from the groups in scope of target, in key order of
 * their group. fn returning non-zero stops the walk with that value. */
int mu_node_acts_each(struct mu_store *st, const struct mu_addr *target,
                      enum mu_kind kind, mu_store_visit_fn fn, void *ctx);

/* A group's part of a total (no names: read those with mu_node_acts_each). */
struct mu_acts_part {
	uint8_t group[MU_KEY_BYTES];
	uint32_t count;
	bool has_waitlisted;
	uint32_t waitlisted;
	bool about, as_group;
	int64_t created_at;
	uint32_t nnames; /* signatures: shown names */
};

#define MU_ACTS_PARTS_MAX 64

/* The coalition total for target: the answers of its kind from the groups
 * in scope. Groups past MU_ACTS_PARTS_MAX are summed but not listed
 * (truncated set). */
struct mu_acts_total {
	enum mu_kind kind;  /* the answers' kind */
	uint64_t total;     /* sum of the counts */
	uint32_t as_groups; /* groups with as_group */
	size_t n;
	bool truncated;
	struct mu_acts_part parts[MU_ACTS_PARTS_MAX];
};

int mu_node_acts_total(struct mu_store *st, const struct mu_addr *target,
                       struct mu_acts_total *out);

/* The state of pledge on this node (protocol/pledge.h): MU_ENOTFOUND when
 * the pledge itself is not held. */
int mu_node_acts_pledge(struct mu_store *st, const struct mu_addr *pledge,
                        struct mu_pledge_state *out);

/* Records copied out of the store, so that they outlive the read. */
struct mu_node_recs {
	struct mu_record *recs; /* each borrows bufs[i] */
	uint8_t **bufs;
	size_t n, cap;
	int err;
};

/* A store visitor that appends a copy of rec to the struct mu_node_recs at
 * ctx; 0 or MU_ENOMEM. */
int mu_node_recs_add(void *ctx, const struct mu_record *rec);

/* The current records of kind, of group (NULL: all), copied into *out
 * (zeroed first; free with mu_node_recs_free() on every path). */
int mu_node_recs_list(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
                      struct mu_node_recs *out);
void mu_node_recs_free(struct mu_node_recs *r);

#endif
