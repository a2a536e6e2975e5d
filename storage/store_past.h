/*
 * store_past.h - internals of the past table (store_past.c): superseded
 * revisions kept for a while, so that two edits of one revision can be
 * merged against the revision both started from (docs/PROTOCOL.md 5.2).
 * Keyed addr || id (storage/README.md). Used by store_put.c and
 * store_conflict.c only.
 */
#ifndef MU_STORE_PAST_H
#define MU_STORE_PAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_keys.h"

/* The bounds: revisions kept per address (the newest by the replacement
 * order), and in all (beyond it, no more are kept until some go). */
#define MU_PAST_PER_ADDR 4
#define MU_PAST_MAX      16384

#define MU_STORE__PAST_KEY_MAX (MU_STORE__ADDR_KEY_MAX + MU_ID_BYTES)

/*
 * Keeps rec (parsed, replaceable, its bytes anywhere but in txn's pages)
 * in the past table, the oldest revision of its address making room when
 * it has MU_PAST_PER_ADDR; rec is not kept when it would itself be that
 * oldest, or when the table is full. 0 or an error.
 */
int mu_store__past_keep(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
                        struct mu_why *why);

/* Removes the revisions kept for the address whose key is akey (alen
 * bytes): it was deleted. 0 or an error. */
int mu_store__past_drop(struct mu_store *st, MDB_txn *txn, const uint8_t *akey,
                        size_t alen, struct mu_why *why);

/* A failed scan of the past table (rc < 0) said in why; 0 otherwise. */
int mu_store__past_err(struct mu_store *st, int rc, struct mu_why *why);

/* The revisions kept for an address: malloc()ed copies of their bytes. */
struct mu_store__past {
	uint8_t *raw[MU_PAST_PER_ADDR];
	size_t len[MU_PAST_PER_ADDR];
	size_t n;
};

int mu_store__past_read(struct mu_store *st, MDB_txn *txn, const uint8_t *akey,
                        size_t alen, struct mu_store__past *out, struct mu_why *why);
void mu_store__past_free(struct mu_store__past *p);

#endif
