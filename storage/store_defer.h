/*
 * store_defer.h - the by_time, by_group and ev_start entries of a write
 * batch, put at its commit in key order (store_put.c).
 *
 * The put path writes these three tables but never reads them, so a batch
 * need not put their entries as it goes. Put one by one, the entries of a
 * batch's records land on pages all over by_group and ev_start, each put
 * searching from the root; sorted and put through one cursor per table,
 * each lands on the page of the one before or near it, which LMDB finds
 * without a search (mdb_cursor_put checks the cursor's page first), and a
 * page is copied once per batch.
 *
 * Nothing here is public: internal to storage/, like store_keys.h.
 */
#ifndef MU_STORE_DEFER_H
#define MU_STORE_DEFER_H

#include <stddef.h>
#include <stdint.h>

#include "store_keys.h"

enum mu_store__deferred_table {
	MU_STORE__DEFER_TIME,  /* by_time: created_at || id -> group || seq */
	MU_STORE__DEFER_GROUP, /* by_group: group || created_at || id -> seq */
	MU_STORE__DEFER_START, /* ev_start: start' || id -> "" */
	MU_STORE__DEFER_TABLES
};

struct mu_store__deferred_entry;

/* One table's entries, in the order they were added until the flush. */
struct mu_store__deferred_list {
	struct mu_store__deferred_entry *e; /* owned */
	size_t n, cap;
};

/*
 * A batch's deferred entries. The records stored in the batch have the
 * sequence numbers above first; dropped has a bit for each, set when the
 * record is dropped again before the commit (replaced or deleted), whose
 * entries are then left out.
 */
struct mu_store__defer {
	struct mu_store__deferred_list t[MU_STORE__DEFER_TABLES];
	uint64_t first;
	uint64_t *dropped; /* owned; bit i: sequence number first + 1 + i */
	size_t dropped_words;
};

/* Empties d for a batch whose records are numbered after first. d starts
 * zeroed; what it holds is kept from batch to batch, so that a store's
 * batches reuse the same memory. */
void mu_store__defer_init(struct mu_store__defer *d, uint64_t first);

/*
 * Adds the entry key -> val of the record numbered seq to table t. The key
 * is MU_STORE__GROUP_KEY_BYTES long for by_group and MU_STORE__TIME_KEY_BYTES
 * for the others; val is the group (MU_KEY_BYTES) for by_time, whose value
 * is that group and seq, and nothing for the others (by_group's value is
 * seq itself). Both are copied.
 * MU_ENOMEM (with why) or 0.
 */
int mu_store__defer_add(struct mu_store__defer *d, enum mu_store__deferred_table t,
                        const uint8_t *key, const uint8_t *val, uint64_t seq,
                        struct mu_why *why);

/* The record numbered seq was removed: its entries, when this batch added
 * them, are not put. A number of an earlier batch is ignored (its entries
 * are in the tables, where the caller deletes them). MU_ENOMEM or 0. */
int mu_store__defer_drop(struct mu_store__defer *d, uint64_t seq, struct mu_why *why);

/* Puts every entry not dropped into its table inside txn, in key order.
 * An MU_E* code with why on failure, after which the transaction must be
 * aborted. */
int mu_store__defer_flush(struct mu_store__defer *d, struct mu_store *st, MDB_txn *txn,
                          struct mu_why *why);

/* Frees what d holds (d itself is the caller's). */
void mu_store__defer_free(struct mu_store__defer *d);

#endif
