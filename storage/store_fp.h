/*
 * store_fp.h - the negentropy fingerprint table `negfp` (storage/README.md):
 * the count and the sum of the ids (mod 2^256) of the records of by_time,
 * in buckets of 2^8, 2^16, 2^24 and 2^32 seconds of created_at, so that
 * the sum over any range of (created_at, id) reads at most 255 entries of
 * each level and the records of two 256-second buckets, not the range.
 *
 * With it, grpcount: the number of by_time records of each group that has
 * any (group key -> count, 8 bytes big-endian; no entry for none), so that
 * the groups held are the keys of a table of one entry per group, not a
 * search of by_group per group (local_fp.c, local_frozen.c).
 *
 * Both are kept by whoever changes by_time, in the same write transaction: the put
 * path's commit (store_defer.c) and its removals (store_put.c), the schema
 * upgrade (store.c). Checked against a recount by muster check.
 *
 * Nothing here is public: internal to storage/, like store_keys.h.
 */
#ifndef MU_STORE_FP_H
#define MU_STORE_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_keys.h"

#define MU_STORE__FP_LEVELS    4
#define MU_STORE__FP_KEY_BYTES 9  /* level (1) || bucket (8, big-endian) */
#define MU_STORE__FP_VAL_BYTES 40 /* count (8, big-endian) || sum (32, LE) */

/* A count and a sum of ids, both modular: a removal adds their negation. */
struct mu_store__fp_sum {
	uint64_t count;
	uint64_t w[4]; /* little-endian 64-bit words of the 256-bit sum */
};

void mu_store__fp_sum_add(struct mu_store__fp_sum *acc,
                          const struct mu_store__fp_sum *x);
void mu_store__fp_sum_sub(struct mu_store__fp_sum *acc,
                          const struct mu_store__fp_sum *x);
/* acc += the id, counted once. */
void mu_store__fp_sum_id(struct mu_store__fp_sum *acc, const uint8_t id[MU_ID_BYTES]);

/* How many seconds of created_at a bucket of level l (0..3) spans: 2^shift. */
unsigned mu_store__fp_shift(int level);

/* A group's change of count in a run. */
struct mu_store__fp_group {
	uint8_t key[MU_KEY_BYTES];
	int64_t d;
};

/*
 * Changes not yet written, one bucket per level: consecutive changes in
 * created_at order (a sorted batch, a scan of by_time) fall in the same
 * buckets and are written once for all of them. The groups' counts change
 * once per group at the flush, whatever the order (g: sorted by key, owned
 * by the run). The run must be flushed or freed before its transaction
 * ends: it holds a cursor of it.
 */
struct mu_store__fp_run {
	bool used[MU_STORE__FP_LEVELS];
	uint64_t bucket[MU_STORE__FP_LEVELS];
	struct mu_store__fp_sum d[MU_STORE__FP_LEVELS];
	struct mu_store__fp_group *g;
	size_t ng, capg;
	MDB_cursor *c; /* on negfp, opened at the first write; the run's */
};

void mu_store__fp_run_init(struct mu_store__fp_run *run);

/* A record (created_at ts, id) of group entered by_time (remove false) or
 * left it. Writes the buckets of the run that it leaves behind. */
int mu_store__fp_run_add(struct mu_store *st, MDB_txn *txn,
                         struct mu_store__fp_run *run, uint64_t ts,
                         const uint8_t id[MU_ID_BYTES],
                         const uint8_t group[MU_KEY_BYTES], bool remove,
                         struct mu_why *why);

/* Writes what the run holds; it is empty after. */
int mu_store__fp_run_flush(struct mu_store *st, MDB_txn *txn,
                           struct mu_store__fp_run *run, struct mu_why *why);

/* Frees what the run holds without writing it: after an error (after a
 * flush it holds nothing; either is harmless). */
void mu_store__fp_run_free(struct mu_store__fp_run *run);

/* Empties negfp and grpcount and fills them from by_time (the upgrades to
 * schema 6 and 7). */
int mu_store__fp_rebuild(struct mu_store *st, MDB_txn *txn, struct mu_why *why);

/* Calls fn with each group that has records in by_time and their count,
 * in key order, inside txn; what fn returns other than 0 stops it and is
 * returned. */
typedef int (*mu_store__group_fn)(void *ctx, const uint8_t g[MU_KEY_BYTES],
                                  uint64_t count);
int mu_store__fp_groups(struct mu_store *st, MDB_txn *txn, mu_store__group_fn fn,
                        void *ctx);

/* Holds negfp and grpcount against a recount of by_time inside txn: bad
 * gets each bucket that differs (level -1: an entry of the wrong shape;
 * MU_STORE__FP_GROUPS: an entry of grpcount, what saying which) and what is
 * wrong with it; what it returns other than 0 stops the check. */
#define MU_STORE__FP_GROUPS (-2)
typedef int (*mu_store__fp_bad_fn)(void *ctx, int level, uint64_t bucket,
                                   const char *what);
int mu_store__fp_verify(struct mu_store *st, MDB_txn *txn, mu_store__fp_bad_fn bad,
                        void *ctx);

/* mu_store_neg_items (local.h) inside txn: the items of the domain's
 * groups, read from by_group, sorted; local_scope.c. */
struct mu_scope;
struct mu_neg_item;
int mu_store__neg_items_in(struct mu_store *st, MDB_txn *txn,
                           const struct mu_scope *domain, struct mu_neg_item **items,
                           uint64_t **seqs, size_t *n);

/* Decodes a negfp value; MU_ECORRUPT for one of the wrong size. */
int mu_store__fp_value(const MDB_val *v, struct mu_store__fp_sum *out);

#endif
