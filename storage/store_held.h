/*
 * store_held.h - internals of delegated records (store_held.c): the held
 * table and the signed index, both keyed group || signer || id
 * (storage/README.md). Used by store_put.c and store_check.c only.
 */
#ifndef MU_STORE_HELD_H
#define MU_STORE_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_keys.h"

/* group || signer || id */
#define MU_STORE__SIGNER_KEY_BYTES (2 * MU_KEY_BYTES + MU_ID_BYTES)

/* The held table's bounds (docs/PROTOCOL.md 10.7): records of one
 * organizer key of one group, and in all. */
#define MU_HELD_PER_SIGNER 256
#define MU_HELD_MAX        4096

/* The key of a held record or signed index entry; id NULL writes only the
 * 64-byte prefix of one organizer's entries. */
void mu_store__signer_key(uint8_t out[MU_STORE__SIGNER_KEY_BYTES],
                          const uint8_t group[MU_KEY_BYTES],
                          const uint8_t signer[MU_KEY_BYTES], const uint8_t *id);

/*
 * Puts rec (verified, delegated) into the held table unless a bound is
 * reached: *held says whether it was. 0 or an error.
 */
int mu_store__hold(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
                   bool *held, struct mu_why *why);

/* A held record taken out of the table: a malloc()ed copy of its bytes. */
struct mu_store__held_rec {
	uint8_t *raw;
	size_t len;
	uint8_t id[MU_ID_BYTES];
};

/*
 * Removes the held records of signer for group from the table and hands
 * them over (*out, *n; free with mu_store__held_free), to be put again now
 * that the organizer record is here.
 */
int mu_store__held_take(struct mu_store *st, MDB_txn *txn,
                        const uint8_t group[MU_KEY_BYTES],
                        const uint8_t signer[MU_KEY_BYTES],
                        struct mu_store__held_rec **out, size_t *n, struct mu_why *why);
void mu_store__held_free(struct mu_store__held_rec *recs, size_t n);

/* The ids of group's stored records signed by signer (the signed index),
 * malloc()ed into *ids (the caller frees), *n of them. */
int mu_store__signed_ids(struct mu_store *st, MDB_txn *txn,
                         const uint8_t group[MU_KEY_BYTES],
                         const uint8_t signer[MU_KEY_BYTES],
                         uint8_t (**ids)[MU_ID_BYTES], size_t *n, struct mu_why *why);

#endif
