/*
 * entries.h - the personal entries of the people who took part through this
 * node's pages: RSVPs, petition signatures and pledges (docs/SECURITY.md,
 * "Personal data"). Local to the node like the peers table: never synced,
 * never in a record, an export or a log line. Only counts leave the node
 * (and the names a signer chose to show).
 *
 * Sub-database `entries` (storage/README.md has the layout):
 *   'e' || len || target address key || position (8)  -> the entry
 *   'r' || hash of the receipt secret (32)             -> the 'e' key
 * Both sides are written in one transaction; `muster check` checks that
 * each receipt names an entry and each entry's receipt names it back.
 *
 * A receipt secret (MU_RECEIPT_BYTES random bytes) is given to the person
 * once, in their receipt link, and only its hash is stored: a copy of the
 * store (a backup) gives no working receipt link.
 *
 * Ownership: entries passed to callbacks are copies on the caller's stack,
 * valid during the call.
 */
#ifndef MU_STORE_ENTRIES_H
#define MU_STORE_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/record.h"
#include "store.h"

#define MU_RECEIPT_BYTES     16   /* 128 bits */
#define MU_RECEIPT_TEXT_SIZE 33   /* 32 lowercase hex digits and NUL */
#define MU_ENTRY_NAME_MAX    100  /* bytes of a name */
#define MU_ENTRY_CONTACT_MAX 200  /* bytes of a contact */
#define MU_ENTRY_COMMENT_MAX 1000 /* bytes of a comment */
#define MU_ENTRY_PARTY_MAX   20   /* people in one RSVP */
/* Entries per target, and in all: a full table refuses new ones
 * (MU_EFULL) rather than grow without end under a flood. */
#define MU_ENTRIES_PER_TARGET 20000
#define MU_ENTRIES_MAX        200000

enum mu_entry_type {
	MU_ENTRY_RSVP = 1,  /* target: an event */
	MU_ENTRY_SIGNATURE, /* target: a petition */
	MU_ENTRY_PLEDGE,    /* target: a pledge */
};

struct mu_entry {
	enum mu_entry_type type;
	/* The record acted on; target.d points into d. */
	struct mu_addr target;
	char d[MU_D_MAX + 1];
	uint64_t pos;       /* order of signing up in the target, from 1 */
	bool going;         /* RSVP: going (else not going) */
	bool show_name;     /* signature: the name may be shown publicly */
	uint32_t party;     /* RSVP: people, 1..MU_ENTRY_PARTY_MAX */
	int64_t created_at; /* Unix seconds */
	int64_t ends_at;    /* the event's end, the deadline: kept past it
	                       for the retention time, then deleted */
	char name[MU_ENTRY_NAME_MAX + 1];
	char contact[MU_ENTRY_CONTACT_MAX + 1];
	char comment[MU_ENTRY_COMMENT_MAX + 1];
};

/* Points e->target.d at e->d (after copying an entry). */
void mu_entry_fix(struct mu_entry *e);

/* Writes the receipt secret as 32 lowercase hex digits. */
void mu_receipt_to_text(char out[MU_RECEIPT_TEXT_SIZE],
                        const uint8_t secret[MU_RECEIPT_BYTES]);
/* Reads one: 0, or MU_EINVAL when s is not 32 hex digits. */
int mu_receipt_from_text(uint8_t secret[MU_RECEIPT_BYTES], const char *s);

/*
 * Adds e: draws its receipt secret into secret, gives it the next position
 * of its target (e->pos is set). MU_EINVAL for a field out of its bounds,
 * MU_EFULL past MU_ENTRIES_PER_TARGET or MU_ENTRIES_MAX.
 */
int mu_entry_add(struct mu_store *st, struct mu_entry *e,
                 uint8_t secret[MU_RECEIPT_BYTES]);

/* The entry of a receipt: 0, or MU_ENOTFOUND (withdrawn, removed, expired,
 * or never given). */
int mu_entry_get(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES],
                 struct mu_entry *e);

/*
 * Changes the entry of a receipt to e's fields (its type and target stay).
 * An RSVP that turns from not going to going goes to the end of the line:
 * it takes the target's next position (e->pos is set). MU_ENOTFOUND, or
 * MU_EINVAL as for _add.
 */
int mu_entry_change(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES],
                    struct mu_entry *e);

/* Withdraws (deletes) the entry of a receipt; MU_ENOTFOUND when none. */
int mu_entry_withdraw(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES]);

/* Removes the entry at pos of a target (an organizer's removal), with its
 * receipt; MU_ENOTFOUND when none. */
int mu_entry_remove(struct mu_store *st, const struct mu_addr *target, uint64_t pos);

typedef int (*mu_entry_fn)(void *ctx, const struct mu_entry *e);

/* The entries of a target in order of position, one snapshot. */
int mu_entries(struct mu_store *st, const struct mu_addr *target, mu_entry_fn fn,
               void *ctx);

/* Each target that has entries once, with its first entry (e->target and
 * e->ends_at say what the expiry needs); fn must not use the store. */
typedef int (*mu_entry_target_fn)(void *ctx, const struct mu_entry *first);

int mu_entries_targets(struct mu_store *st, mu_entry_target_fn fn, void *ctx);

/*
 * Deletes the entries whose target ended keep_s seconds or more before now,
 * each with its receipt, a few hundred to a transaction. target NULL: every
 * entry, by the end stored with it (ends_at). Else only target's, by end
 * (its record's current end, for an event moved since) unless end is
 * INT64_MIN. *removed (may be NULL) gets how many went.
 */
int mu_entries_expire(struct mu_store *st, const struct mu_addr *target, int64_t end,
                      int64_t now, int64_t keep_s, uint64_t *removed);

#endif
