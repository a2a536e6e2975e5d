/*
 * merge.h - the merge of two concurrent edits of one address
 * (docs/PROTOCOL.md, section 5.2).
 *
 * Two revisions of an address that name the same revision in `replaces`
 * are a conflict. Every node merges them with mu_rec_merge() and gets the
 * same content, so that whichever node publishes the merge first, the
 * others find nothing left to publish.
 *
 * Pure: no I/O, no clock. The merged record borrows every string and list
 * from the three records given, which must outlive it.
 */
#ifndef MU_MERGE_H
#define MU_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* What the merge took from where: masks over the kind's top-level content
 * fields (bit i is mu_rec_fields(kind)->f[i]). */
struct mu_merge {
	const struct mu_record *winner, *loser; /* a or b, by mu_rec_newer() */
	uint32_t from_winner;                   /* changed by the winner only */
	uint32_t from_loser; /* changed by the loser only: merged in */
	uint32_t both;       /* changed by both to different values: winner's kept */
	uint32_t same;       /* changed by both to the same value */
	bool whole;   /* the merged content broke a rule across fields: the winner's
	                 content is kept whole (from_loser then names what was lost) */
	bool changed; /* the merged content differs from the winner's */
};

/*
 * Merges a and b, two revisions of one address that both replace base
 * (a->replaces == b->replaces == base->id, a and b distinct). Fills *out:
 * the winner's header and content, with each field that only the loser
 * changed taken from the loser; rev = the higher rev + 1, created_at = the
 * later created_at + 1, replaces = the winner's id. The signer is left as
 * the winner's: the caller that publishes sets its own. *m says what came
 * from where.
 *
 * Returns 0, MU_EINVAL when a and b are not a conflict over base (another
 * address, another replaces, the same record, not replaceable), or
 * MU_ERECORD when the merged rev or created_at would pass its limit.
 */
int mu_rec_merge(const struct mu_record *base, const struct mu_record *a,
                 const struct mu_record *b, struct mu_record *out, struct mu_merge *m);

/* Whether a and b are two edits of the same revision: one address, both
 * with replaces, the same replaces, different ids. */
bool mu_rec_conflicting(const struct mu_record *a, const struct mu_record *b);

/* Whether a and b, of one kind, hold the same content (`replaces` aside). */
bool mu_rec_same_content(const struct mu_record *a, const struct mu_record *b);

#endif
