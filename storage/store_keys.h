/*
 * store_keys.h - store internals shared by storage/store*.c: the key layout
 * of every sub-database (storage/README.md describes them), the handle, and
 * the helpers that translate LMDB's codes and parse stored records.
 *
 * Nothing here is public: names carry the mu_store__ prefix and no layer
 * above storage/ includes this file.
 */
#ifndef MU_STORE_KEYS_H
#define MU_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <pthread.h>

#include "../protocol/record.h"

/* Bumped whenever a key layout or a stored value changes meaning. */
#define MU_STORE__SCHEMA 8u

/* A sequence number: the key of bodies, the value of ids (big-endian). */
#define MU_STORE__SEQ_BYTES 8

/* kind (1) || group || d */
#define MU_STORE__ADDR_KEY_MAX (1 + MU_KEY_BYTES + MU_D_MAX)
/* created_at or start (8, big-endian) || id */
#define MU_STORE__TIME_KEY_BYTES (8 + MU_ID_BYTES)
/* by_time's value: group || seq (8, big-endian) of the record's body */
#define MU_STORE__TIME_VAL_BYTES (MU_KEY_BYTES + MU_STORE__SEQ_BYTES)
/* group || created_at (8, big-endian) || id */
#define MU_STORE__GROUP_KEY_BYTES (MU_KEY_BYTES + MU_STORE__TIME_KEY_BYTES)
/* 'a' || address key, or 'i' || id || group */
#define MU_STORE__TOMB_KEY_MAX (1 + MU_STORE__ADDR_KEY_MAX)
#define MU_STORE__TOMB_ADDR    'a'
#define MU_STORE__TOMB_ID      'i'

struct mu_store__defer;

struct mu_store {
	MDB_env *env;
	MDB_dbi bodies;     /* seq -> record bytes; since schema 3 */
	MDB_dbi ids;        /* id -> seq; since schema 3 */
	MDB_dbi by_time;    /* created_at || id -> group || seq; seq since 8 */
	MDB_dbi current;    /* address key -> id */
	MDB_dbi ev_start;   /* start' || id -> "" */
	MDB_dbi tombstones; /* tombstone key -> id of the delete */
	MDB_dbi meta;       /* "schema" -> uint32, "seq" -> uint64, big-endian */
	MDB_dbi peers;      /* "HOST:PORT" -> msgpack map; since schema 2 */
	MDB_dbi follows;    /* group key -> ""; since schema 2 */
	MDB_dbi by_group;   /* group || created_at || id -> seq; since schema 3 */
	MDB_dbi held;       /* group || signer || id -> record bytes; schema 4 */
	MDB_dbi signed_by;  /* group || signer || id -> ""; since schema 4 */
	MDB_dbi past;       /* addr || id -> record bytes; since schema 5 */
	MDB_dbi outside;    /* group -> since (8): held, outside the scope */
	MDB_dbi blocks;     /* group -> blocked_at (8) */
	MDB_dbi negfp;      /* level || bucket -> count || sum; schema 6 */
	MDB_dbi grpcount;   /* group -> count of its records (8); schema 7 */
	bool has_frozen;    /* outside and blocks exist (local_frozen.c) */
	MDB_dbi invites;    /* public key -> invite (local_invites.c) */
	bool has_invites;   /* invites exists */
	MDB_dbi hellos;     /* peer key -> hello entry (local_hellos.c) */
	bool has_hellos;    /* hellos exists */
	MDB_dbi entries;    /* personal entries and receipts (entries.h) */
	bool has_entries;   /* entries exists (local_entries.c) */
	void *map_base;     /* where the map is, once looked up: store_map.c */
	size_t map_len;     /* its length then */
	struct mu_store__defer *defer; /* store_defer.h; NULL until a batch */
	bool read_only;
	bool needs_upgrade; /* opened read-only, an older schema: mu_store_open */
	char *dir;          /* owned, for messages */
	size_t fit_cap;     /* mu_store_put_fit's records per commit; 0: all */
	bool logged;        /* a commit of this handle added to the log */

	/* The map's budget (store_map.c), and map_base and map_len above:
	 * under map_mu, as reads run on several threads. */
	pthread_mutex_t map_mu;
	size_t map_budget; /* mu_store_set_map_budget; 0: never given back */
	size_t map_left;   /* reads before the next look at the resident size */
	size_t map_floor;  /* the resident size after the last give-back */
	int statm_fd;      /* /proc/self/statm, or -1 */
	uint64_t remaps;   /* times the map moved (mu_store__begin) */
};

/* The value of a follows entry (local_follows.c): 16 bytes of BLAKE2b of
 * its key, so that a byte changed in the key shows as damage rather than
 * as a follow of another group. Entries made before it have "". */
#define MU_STORE__FOLLOW_CHECK_BYTES 16
void mu_store__follow_check(uint8_t out[MU_STORE__FOLLOW_CHECK_BYTES],
                            const uint8_t key[MU_KEY_BYTES]);
/* Whether v is key's follows value ("" or its check). */
bool mu_store__follow_ok(const MDB_val *k, const MDB_val *v);

void mu_store__put_be64(uint8_t out[8], uint64_t v);
uint64_t mu_store__get_be64(const uint8_t in[8]);

/* The address key of addr; returns its length. The kind byte is the value
 * of enum mu_kind, so renumbering that enum needs a new schema. */
size_t mu_store__addr_key(uint8_t out[MU_STORE__ADDR_KEY_MAX],
                          const struct mu_addr *addr);

/* The d of an alliance with key: its 64 lowercase hex digits (no NUL). */
void mu_store__alliance_d(char out[2 * MU_KEY_BYTES], const uint8_t key[MU_KEY_BYTES]);

/* The address key prefix of a kind, or of a kind and one group (group may
 * be NULL); returns its length. */
size_t mu_store__addr_prefix(uint8_t out[1 + MU_KEY_BYTES], enum mu_kind kind,
                             const uint8_t *group);

/* by_time key: created_at, big-endian, then id. */
void mu_store__time_key(uint8_t out[MU_STORE__TIME_KEY_BYTES], int64_t created_at,
                        const uint8_t id[MU_ID_BYTES]);

/* by_time value: the record's group, then the sequence number of its body,
 * so that a walk of by_time (a push, local_fp.c) reads each body without a
 * lookup. */
void mu_store__time_val(uint8_t out[MU_STORE__TIME_VAL_BYTES],
                        const uint8_t group[MU_KEY_BYTES], uint64_t seq);

/* by_group key: group, then the by_time key, so that one group's records
 * are a prefix scan in the order reconciliation walks. */
void mu_store__group_key(uint8_t out[MU_STORE__GROUP_KEY_BYTES],
                         const uint8_t group[MU_KEY_BYTES], int64_t created_at,
                         const uint8_t id[MU_ID_BYTES]);

/* ev_start key: start with its sign bit flipped, big-endian, so negative
 * times would sort before positive ones; then id. */
void mu_store__start_key(uint8_t out[MU_STORE__TIME_KEY_BYTES], int64_t start,
                         const uint8_t id[MU_ID_BYTES]);
int64_t mu_store__start_of(const uint8_t key[MU_STORE__TIME_KEY_BYTES]);

/* Tombstone key of a delete by address: 'a' || address key. */
size_t mu_store__tomb_addr_key(uint8_t out[MU_STORE__TOMB_KEY_MAX],
                               const struct mu_addr *addr);

/* Tombstone key of a delete by id: 'i' || id || the delete's group, since
 * only a delete of the target's own group counts. */
size_t mu_store__tomb_id_key(uint8_t out[MU_STORE__TOMB_KEY_MAX],
                             const uint8_t id[MU_ID_BYTES],
                             const uint8_t group[MU_KEY_BYTES]);

/*
 * Translates an LMDB (or errno) code into an MU_E* code, with a reason in
 * why (may be NULL) naming what was being done. MDB_NOTFOUND becomes
 * MU_ENOTFOUND without a reason.
 */
int mu_store__err(struct mu_store *st, int rc, const char *what, struct mu_why *why);

/* Begins a transaction, following a map that another process grew. Counts
 * as one read of the map (mu_store__map_read). */
int mu_store__begin(struct mu_store *st, bool write, MDB_txn **txn, struct mu_why *why);

/* Sets up the map's budget of a store being opened (none yet), and frees
 * what it holds at the close (store_map.c). */
void mu_store__map_init(struct mu_store *st);
void mu_store__map_fini(struct mu_store *st);

/*
 * n reads of the map (a transaction begun, an entry scanned, a record put)
 * inside an open transaction of this process. Every few of them the
 * resident size is looked at, and the map's pages are given back when it is
 * past the budget: every read of the map passes here, so none can grow it
 * far past the budget unseen. Free without a budget.
 */
void mu_store__map_read(struct mu_store *st, size_t n);

/* mu_store__map_read() for n reads of a write transaction, whose pages
 * LMDB copies before it changes them: those are given back past a few MiB
 * over the resident size after the last give-back, not the whole budget
 * (store_map.c says why). */
void mu_store__map_write(struct mu_store *st, size_t n);

/* Whether p, borrowed from the map, lies on another page than the one
 * *last holds, which it then holds. A walk in key order reads many entries
 * of one leaf, and sending records in the order they were stored many
 * bodies of one page: only the first read of a page can fault, so only it
 * counts as a read of the map. Pages of LMDB are at least 4 KiB; with
 * larger ones a page counts more than once, which only looks more often. */
static inline bool
mu_store__new_page(uintptr_t *last, const void *p)
{
	uintptr_t page = (uintptr_t)p >> 12;

	if (page == *last)
		return false;
	*last = page;
	return true;
}

/* One entry of a scan; k and v borrow txn's pages. 0 goes on, anything else
 * ends the scan and is what mu_store__scan returns. */
typedef int (*mu_store__entry_fn)(void *ctx, MDB_txn *txn, const MDB_val *k,
                                  const MDB_val *v);

/*
 * Hands fn the entries of dbi in key order, inside txn: from the first, or
 * from the first key >= *from (from may be NULL), and only while the key
 * starts with the first plen bytes of *from (plen 0: to the end). A cursor
 * failure becomes an MU_E* code naming what was being done.
 */
int mu_store__scan(struct mu_store *st, MDB_txn *txn, MDB_dbi dbi, const MDB_val *from,
                   size_t plen, mu_store__entry_fn fn, void *ctx, const char *what);

/* How many times the map has moved since the store was opened: a cursor
 * held from one read to the next is on pages of the map as it was. */
uint64_t mu_store__remaps(struct mu_store *st);

/* mu_store__scan in a read transaction of its own, one snapshot. */
int mu_store__read_scan(struct mu_store *st, MDB_dbi dbi, const MDB_val *from,
                        size_t plen, mu_store__entry_fn fn, void *ctx,
                        const char *what);

/*
 * The stored bytes of the record with that id, into *v (borrowing txn's
 * pages), and its sequence number: 0, MU_ENOTFOUND when the id is not
 * stored, MU_ECORRUPT when its id entry is damaged or points at no body.
 */
int mu_store__body_of(struct mu_store *st, MDB_txn *txn, const uint8_t id[MU_ID_BYTES],
                      uint64_t *seq, MDB_val *v, struct mu_why *why);

/*
 * Parses the stored record with that id into rec, which then borrows the
 * transaction's pages. MU_ENOTFOUND when there is none, MU_ECORRUPT when the
 * bytes do not parse.
 */
int mu_store__load(struct mu_store *st, MDB_txn *txn, const uint8_t id[MU_ID_BYTES],
                   struct mu_record *rec, struct mu_why *why);

/* Ends a write transaction: aborts it when err is not 0 (and returns err),
 * else commits it. A full store (MU_EFULL) or a failed commit gives back
 * the file's pages past the committed ones (mu_store__trim). */
int mu_store__commit(struct mu_store *st, MDB_txn *txn, int err, struct mu_why *why);

/* Forgets what key's hellos said, in txn (a peer removed): 0 when there
 * was nothing to forget. */
int mu_store__hello_forget(struct mu_store *st, MDB_txn *txn,
                           const uint8_t key[MU_KEY_BYTES]);

/* Whether an entry of hellos has the form local_hellos.c writes: 0 or
 * MU_ECORRUPT (store_check.c). */
int mu_store__hello_check(const MDB_val *k, const MDB_val *v);

/* Whether an entry of invites has the form local_invites.c writes: 0 or
 * MU_ECORRUPT (store_check.c). */
int mu_store__invite_check(const MDB_val *k, const MDB_val *v);

/*
 * Cuts data.mdb back to the pages the last commit uses, giving back to the
 * disk what a failed write or an aborted transaction wrote past them. txn
 * is the caller's write transaction, which it aborts right after without
 * reading through it again; NULL: one is begun (waiting for the write lock)
 * and aborted. 0, or MU_EIO/MU_EINVAL with the file left as it was (space,
 * never data, is what a failure costs, so callers go on without it).
 */
int mu_store__trim(struct mu_store *st, MDB_txn *txn);

/*
 * The bytes the store's file can still grow into: the free space of its
 * file system (for this user), plus what the file holds past its committed
 * pages, which LMDB writes over first. UINT64_MAX when unknown.
 */
uint64_t mu_store__room(struct mu_store *st);

/*
 * mu_store__load of the id an index entry holds (id is the entry's value or
 * part of its key): MU_ECORRUPT when it is not an id or names no stored
 * record, since then the index and the records disagree.
 */
int mu_store__load_indexed(struct mu_store *st, MDB_txn *txn, const MDB_val *id,
                           struct mu_record *rec);

/*
 * The last sequence number given to a stored record (meta "seq"; 0 for none
 * yet), and its update: mu_store_put() reads it once per transaction and
 * writes it back before the commit. Kept apart from the bodies so that a
 * number is never given twice, even after the newest record is dropped.
 */
int mu_store__seq_read(struct mu_store *st, MDB_txn *txn, uint64_t *seq,
                       struct mu_why *why);
int mu_store__seq_write(struct mu_store *st, MDB_txn *txn, uint64_t seq,
                        struct mu_why *why);

/*
 * Parses the bodies entry v stored at sequence number seq into rec, which
 * then borrows the transaction's pages, and checks it is the record that
 * expect names (NULL: any). MU_ECORRUPT with a reason when the bytes do not
 * parse or name another record.
 */
int mu_store__parse_body(struct mu_store *st, uint64_t seq, const MDB_val *v,
                         const uint8_t *expect, struct mu_record *rec,
                         struct mu_why *why);

/* Opens the n named databases into slots (mdb_dbi_open flags); a missing
 * one is MU_EVERSION: a store not made by this version of muster. */
int mu_store__open_dbs(struct mu_store *st, MDB_txn *txn, const char *const *names,
                       MDB_dbi *const *slots, size_t n, unsigned flags,
                       struct mu_why *why);

/* mu_store_release_map() for a caller that holds a read transaction of
 * its own already (so the map cannot move meanwhile): a long walk gives
 * back the pages it has read as it goes. */
int mu_store__release_map_in(struct mu_store *st);

/*
 * Removes a stored record, read from txn, with every index entry that names
 * it: its body, ids, by_time, by_group, ev_start and signed entries, its current
 * entry, and, for a delete, the tombstone entry that names it (its peers
 * under that key are of its group, so they go with it; local_frozen.c).
 * rec must not borrow txn's pages. Outside a batch only.
 */
int mu_store__drop_held(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
                        struct mu_why *why);

/* Upgrades a schema-1 or schema-2 store, inside txn: moves every record of
 * the old id-keyed "records" database into bodies and ids, in by_time order,
 * fills by_group, and drops the old "records" and "log" databases. */
int mu_store__upgrade_bodies(struct mu_store *st, MDB_txn *txn, struct mu_why *why);

/* Upgrades a schema-7 or older store, inside txn, after the bodies
 * (mu_store__upgrade_bodies): every by_time entry gets its record's
 * sequence number after the group, from ids. MU_ECORRUPT when an entry is
 * damaged or names a record not stored. */
int mu_store__upgrade_time_seq(struct mu_store *st, MDB_txn *txn, struct mu_why *why);

/*
 * `muster check` of the entries table (local_entries.c), in txn: every
 * entry decodes and its receipt names it, every receipt names an entry
 * holding its hash. Each problem goes to fn as one line; *count grows by
 * the keys looked at.
 */
typedef int (*mu_store__problem_text_fn)(void *ctx, const char *text);

int mu_store__entries_check(struct mu_store *st, MDB_txn *txn,
                            mu_store__problem_text_fn fn, void *ctx, uint64_t *count);

#endif
