/*
 * conflict.h - concurrent edits found in the store, and their merge
 * published (docs/PROTOCOL.md 5.2).
 *
 * A conflict is two revisions of one address that replace the same one.
 * The store keeps superseded revisions in its past table (store_past.h),
 * so the two sides and the revision both started from can be read back
 * after the losing side was superseded.
 *
 * Ownership: a struct mu_store_conflict owns copies of the records' bytes; its
 * records borrow them. Free it with mu_store_conflict_free(); never copy it (its
 * merge report points at its own members).
 */
#ifndef MU_CONFLICT_H
#define MU_CONFLICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/merge.h"
#include "store.h"

#define MU_CONFLICT_RECS 5 /* the current and up to 4 past revisions */

struct mu_store_conflict {
	struct mu_record current; /* the current version of the address */
	struct mu_record winner;  /* the two edits, by the replacement order */
	struct mu_record loser;
	bool has_base;          /* the revision both replace is known: */
	struct mu_record base;  /* it */
	struct mu_merge m;      /* when has_base: what the merge takes from where */
	struct mu_record merge; /* when has_base: the merged revision (signer
	                           the winner's) */
	bool merged;            /* current is a later revision made from the winner
	                           (its replaces), as the merge is: resolved */
	uint8_t *raw[MU_CONFLICT_RECS];
};

/*
 * The conflict at addr, if any: 0 with *c filled, MU_ENOTFOUND when there
 * is none (no current version, or no two edits of one revision among the
 * current version, the revision it replaces and the past ones), or an
 * error. Two edits with equal content are no conflict.
 */
int mu_store_conflict_get(struct mu_store *st, const struct mu_addr *addr,
                          struct mu_store_conflict *c, struct mu_why *why);

void mu_store_conflict_free(struct mu_store_conflict *c);

typedef int (*mu_store_conflict_fn)(void *ctx, const struct mu_store_conflict *c);

/*
 * Calls fn with each conflict of group's addresses (those with past
 * revisions), in key order; a non-zero return from fn ends the walk and is
 * returned.
 */
int mu_store_conflict_each(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                           mu_store_conflict_fn fn, void *ctx, struct mu_why *why);

/*
 * Publishes the merge of each unresolved conflict of group whose base is
 * known and whose merge differs from the winner, signed by signer with sk
 * (libsodium's 64-byte secret key): stored as any record is, so a running
 * daemon pushes it. Conflicts of organizer records are left to the
 * replacement order. *published counts the merges stored. 0 or an error.
 */
int mu_store_conflict_resolve(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                              const uint8_t signer[MU_KEY_BYTES],
                              const uint8_t sk[MU_SECRET_BYTES], int64_t now,
                              size_t *published, struct mu_why *why);

#endif
