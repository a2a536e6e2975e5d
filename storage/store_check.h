/*
 * store_check.h - verifying a whole store (`muster check`), and the copies
 * of it that `muster backup` writes and `muster restore` brings back.
 *
 * The check trusts nothing that was verified on the way in: every record is
 * parsed again with its signature (only the clock rule is off, since stored
 * records may be old), and every index, the tombstones and the sequence
 * numbers are held against the records (storage/README.md lists the
 * invariants).
 *
 * Ownership: the text handed to a problem callback is valid during the call
 * only.
 */
#ifndef MU_STORE_CHECK_H
#define MU_STORE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "../protocol/error.h"
#include "home.h"
#include "store.h"

struct mu_store_check_stats {
	uint64_t records;  /* records whose bytes are valid */
	uint64_t entries;  /* index, tombstone and local entries looked at */
	uint64_t problems; /* problems reported */
};

/* One problem: db names the sub-database it was found in ("bodies", "ids",
 * "by_time", "by_group", "current", "ev_start", "tombstones", "meta",
 * "follows", "signed", "held", "outside", "blocks", "invites", "peers"), text
 * says what
 * is wrong in one line. 0 goes
 * on; anything else stops the check and is returned by mu_store_check(). */
typedef int (*mu_store_problem_fn)(void *ctx, const char *db, const char *text);

/*
 * Checks the whole store in one read snapshot, calling fn once per problem.
 * Returns 0 when the walk finished (stats->problems says whether the store
 * is clean), what fn returned if it stopped the walk, or MU_EIO/MU_ENOMEM
 * when the store could not be read, with why.
 */
int mu_store_check(struct mu_store *st, mu_store_problem_fn fn, void *ctx,
                   struct mu_store_check_stats *stats, struct mu_why *why);

/*
 * Writes a consistent copy of the store to path with LMDB's compacting copy,
 * from one read snapshot, so a daemon may keep writing meanwhile. The copy
 * goes to a temporary file next to path (mode 0600), is fsync()ed and
 * renamed over path; an existing path is refused (MU_EEXIST) unless force.
 * Only the store is copied: no key file.
 */
int mu_store_backup(struct mu_store *st, const char *path, bool force,
                    struct mu_why *why);

/* What mu_home_restore() did. */
struct mu_restore_info {
	struct mu_store_check_stats stats; /* of the backup */
	char *previous; /* malloc()ed: where the replaced store now is */
};

/*
 * Replaces the store of home with the backup at path: refuses while a daemon
 * serves home (MU_EBUSY) and holds the serve lock meanwhile so that none
 * starts; copies the backup into a new directory next to the store, opens it
 * and checks it whole (MU_ECORRUPT when it has problems: why gives the
 * first); then swaps it with the store in one rename, and keeps the previous
 * store as HOME/store.prev-TIME (info->previous). The caller frees
 * info->previous. Unless other_group, a backup that holds records of other
 * groups but none of home's group is refused (MU_EINVAL; why names the
 * group with the most records in it): it is another group's.
 */
int mu_home_restore(const struct mu_home *home, const char *path, bool other_group,
                    struct mu_restore_info *info, struct mu_why *why);

#endif
