/*
 * store.h - the LMDB store of records and its indices.
 *
 * One LMDB environment per node home, shared by the daemon and the CLI
 * through LMDB's own locking. Sub-databases (docs/PROTOCOL.md has the rules
 * they enforce; storage/README.md the key layouts):
 *   bodies      seq -> record bytes, exactly as signed (also the log)
 *   ids         id -> seq
 *   by_time     created_at, id -> group, seq (export, `each` and push order)
 *   by_group    group, created_at, id -> seq (one group's records, that
 *               order: what reconciliation walks)
 *   current     address -> id of the current version
 *   ev_start    start, id -> ""             (current events, the calendar)
 *   tombstones  target -> id of the delete record
 *   meta        schema version, the last sequence number given
 *
 * Putting a record writes it and every index entry in one transaction, so a
 * crash leaves all of it or none. Puts are idempotent.
 *
 * Ownership: struct mu_store is opaque and owned by whoever opened it; close
 * it once. Records passed to visitor callbacks borrow LMDB's memory-mapped
 * pages and are valid only during the call: copy what must outlive it.
 */
#ifndef MU_STORE_H
#define MU_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/record.h"

struct mu_store;

struct mu_store_opts {
	/* LMDB map size in bytes; 0 picks the default (see mu_store_open). */
	size_t map_size;
	bool read_only;
};

/*
 * Opens (creating when missing) the store in directory dir, which must exist.
 * The default map size is 64 GiB on 64-bit systems and 1 GiB on 32-bit ones;
 * the MUSTER_MAP_SIZE environment variable (bytes) overrides the default.
 * Returns 0 and sets *out, or MU_EIO/MU_EVERSION/MU_ENOMEM with detail in why.
 */
int mu_store_open(struct mu_store **out, const char *dir,
                  const struct mu_store_opts *opts, struct mu_why *why);

/* Closes the store and frees it. NULL is allowed. */
void mu_store_close(struct mu_store *st);

/* What mu_store_put() did with one record. */
enum mu_put_result {
	MU_PUT_NEW = 1,    /* stored (and it is the current version, if replaceable) */
	MU_PUT_DUPLICATE,  /* this id is already stored */
	MU_PUT_SUPERSEDED, /* a newer version of its address is stored: not kept */
	MU_PUT_DELETED,    /* a tombstone covers it: not kept */
	/* Signed by an organizer key (docs/PROTOCOL.md 10.6): */
	MU_PUT_HELD,        /* its organizer record is not here: held until it is */
	MU_PUT_HELD_FULL,   /* the same, but the held table is full: not kept */
	MU_PUT_NOT_ALLOWED, /* its organizer may not publish its kind: not kept
	                       (rule organizer-kind) */
	MU_PUT_REVOKED,     /* its organizer key is revoked and keep does not
	                       name it: not kept (rule organizer-revoked) */
};

/* A short name for a put result ("new", "duplicate", ...). */
const char *mu_put_result_name(enum mu_put_result r);

/*
 * Stores n records, each already accepted by mu_rec_parse(), in one write
 * transaction, applying the replacement and deletion rules and those of
 * organizer keys (docs/PROTOCOL.md 10.6): a record signed by an organizer
 * key is held, stored or refused by its group's organizer record for that
 * key; an organizer record that becomes current puts again the records held
 * for its key and removes the stored ones it no longer accepts, in the same
 * transaction (they are not in results). results[i] says
 * what happened to recs[i]; records later in the batch see earlier ones.
 * Returns 0 when the transaction committed, or an error after which nothing
 * of the batch is stored: MU_EFULL when the map or the disk is full (why
 * says which and how to fix it), MU_EIO otherwise. A failed write leaves
 * data.mdb no larger than before it.
 */
int mu_store_put(struct mu_store *st, const struct mu_record *const *recs, size_t n,
                 enum mu_put_result *results, struct mu_why *why);

/*
 * The same in as many transactions as a full disk needs. Each commit is
 * sized so that what it can add to the file fits the room left on the
 * store's file system (a bound that errs high; one record is always tried);
 * after MU_EFULL the records not yet stored are tried again in commits of
 * half as many, down to one. The size that fitted is kept for the next call
 * and doubles after each commit that succeeds. A failed commit gives back
 * what it wrote to the file (mu_store_put). *stored gets the number of
 * records stored, recs[0..*stored), whose results are set; the rest were
 * not stored. Returns 0 when all were, else the error that stopped it
 * (MU_EFULL when even one record did not fit). Calls on one store must not
 * overlap.
 */
int mu_store_put_fit(struct mu_store *st, const struct mu_record *const *recs, size_t n,
                     enum mu_put_result *results, size_t *stored, struct mu_why *why);

/*
 * The same, with the transaction kept open across calls, for a long stream
 * stored in few commits (import): begin, put any number of times, commit.
 * The records given to mu_store_batch_put() are copied into the store's
 * pages and may be freed when it returns; results[i] is final only once
 * the commit succeeds. After a failed put only abort is allowed. Commit and
 * abort free the batch; abort takes NULL. A failed commit, or an abort,
 * leaves data.mdb no larger than before the batch (a large batch writes
 * pages to it before its commit). A batch holds the store's write
 * lock until it ends: other writers, such as a running daemon, wait.
 */
struct mu_store_batch;

int mu_store_batch_begin(struct mu_store *st, struct mu_store_batch **out,
                         struct mu_why *why);
int mu_store_batch_put(struct mu_store_batch *b, const struct mu_record *const *recs,
                       size_t n, enum mu_put_result *results, struct mu_why *why);
int mu_store_batch_commit(struct mu_store_batch *b, struct mu_why *why);
void mu_store_batch_abort(struct mu_store_batch *b);

/* Visitor: return 0 to go on, anything else to stop (it is passed back). */
typedef int (*mu_store_visit_fn)(void *ctx, const struct mu_record *rec);

/* Calls fn with the record of that id, or returns MU_ENOTFOUND. */
int mu_store_get(struct mu_store *st, const uint8_t id[MU_ID_BYTES],
                 mu_store_visit_fn fn, void *ctx);

/* A stored record named by its id and, when known, its sequence number
 * (mu_store_neg_items(), the log), else 0. */
struct mu_store_ref {
	uint64_t seq;
	const uint8_t *id; /* MU_ID_BYTES, the caller's */
};

/* A record's bytes for mu_store_read_raw(), borrowed from the store until
 * it returns: 0 goes on, MU_STORE_STOP stops before this record, anything
 * else stops and is returned. */
#define MU_STORE_STOP 1
typedef int (*mu_store_raw_fn)(void *ctx, const uint8_t *raw, size_t len);

/* A record mu_store_read_raw() found damaged and did not pass on: the id it
 * was asked for, and what is wrong (one line). 0 goes on; anything else
 * stops and is returned. */
typedef int (*mu_store_damaged_fn)(void *ctx, const uint8_t id[MU_ID_BYTES],
                                   const char *why);

/*
 * The stored bytes of the records refs names, in that order and in one
 * snapshot, to pass on to a peer. A ref with a sequence number is read from
 * bodies by that number: where the id lookups of many records would touch
 * pages all over the store, their bodies lie in the order they were stored;
 * and as a number is never given twice, the body there is that record or
 * none. Without one, or with a number whose record is gone, the id is
 * looked up; a record gone altogether is skipped.
 *
 * Every record is checked before it is handed to fn: every rule a peer
 * checks but the clock and the signature (their cost: store_query.c), and
 * that its body hashes to the id asked for. LMDB keeps no checksums, so a
 * byte changed on disk would otherwise go out, and the peer that receives
 * it counts it against us. A record that fails is skipped and handed to
 * damaged (may be NULL).
 * *done gets the number of refs handled (passed to fn or skipped) before fn
 * stopped.
 */
int mu_store_read_raw(struct mu_store *st, const struct mu_store_ref *refs, size_t n,
                      mu_store_raw_fn fn, mu_store_damaged_fn damaged, void *ctx,
                      size_t *done);

/* Calls fn with the current version at addr, or returns MU_ENOTFOUND. */
int mu_store_get_addr(struct mu_store *st, const struct mu_addr *addr,
                      mu_store_visit_fn fn, void *ctx);

/*
 * Whether a tombstone covers addr: 1 yes, 0 no, or a negative error. When
 * tombstone is not NULL it receives the delete record's id.
 */
int mu_store_deleted_addr(struct mu_store *st, const struct mu_addr *addr,
                          uint8_t tombstone[MU_ID_BYTES]);

/* The current versions of a replaceable kind, of one group or of all groups
 * (group == NULL), in address order. */
int mu_store_list(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
                  mu_store_visit_fn fn, void *ctx);

/* A place in mu_store_list()'s order: the address key of the last record
 * read; len 0 is before the first. */
struct mu_store_list_pos {
	size_t len;
	uint8_t key[1 + MU_KEY_BYTES + MU_D_MAX];
};

/*
 * mu_store_list() from just after *pos, in a read transaction of this call:
 * a long list read a slice at a time. *pos follows each record before fn
 * sees it, so that when fn stops the scan (returns 1, which is returned)
 * the next call goes on after that record; 0 at the end of the list. A
 * record changed between two calls may be seen in either version, and one
 * added or deleted meanwhile may be missed.
 */
int mu_store_list_after(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
                        struct mu_store_list_pos *pos, mu_store_visit_fn fn, void *ctx);

/*
 * Current events that overlap [from, to), ordered by start then id. An event
 * without an end lasts until its start (all-day: one day).
 */
int mu_store_events(struct mu_store *st, int64_t from, int64_t to, mu_store_visit_fn fn,
                    void *ctx);

/* A place in mu_store_events()'s order: the start and id of the last event
 * read. set false: before the first. read_max, when not 0, is how many
 * index entries one call reads at most. */
struct mu_store_ev_pos {
	bool set;
	int64_t start;
	uint8_t id[MU_ID_BYTES];
	unsigned read_max;
};

/*
 * mu_store_events() from just after *pos, each event in a read transaction
 * of its own call: a long list read a slice at a time. *pos follows each
 * event read, handed on or not, before fn sees it, so that when fn stops
 * the scan (returns 1, which is returned) the next call goes on after that
 * event. With pos->read_max set, a call also returns 1 after reading that
 * many: a window with few events among many read before it (the series
 * that may reach into it) is read a bounded slice at a time too. An event
 * changed between two calls may be seen twice or not at all.
 */
int mu_store_events_after(struct mu_store *st, int64_t from, int64_t to,
                          struct mu_store_ev_pos *pos, mu_store_visit_fn fn, void *ctx);

/* Every stored record (tombstones included) in (created_at, id) order. */
int mu_store_each(struct mu_store *st, mu_store_visit_fn fn, void *ctx);

/* Number of stored records. */
int mu_store_count(struct mu_store *st, uint64_t *count);

/* How many records the store holds, as mu_store_counts() reads them. */
struct mu_store_counts {
	uint64_t records;              /* every stored record */
	uint64_t kinds[MU_KIND_COUNT]; /* of each kind: for a replaceable kind,
	                                  its current versions */
};

/* One group that has stored records, and how many. */
typedef int (*mu_store_group_count_fn)(void *ctx, const uint8_t group[MU_KEY_BYTES],
                                       uint64_t n);

/*
 * Counts the stored records of each kind into *out and hands fn (may be
 * NULL) each group that has any, in key order, with its number: one
 * snapshot, read from the indexes' entry counts and keys without reading
 * a record, so it stays quick on a store of millions. The walk's map pages
 * are given back at its end, and along the way when the store has a map
 * budget (mu_store_set_map_budget), which a caller that counts a big store
 * wants: the keys of by_group lie all over the file. fn runs inside the
 * read and must not
 * start another. Returns 0, MU_ECORRUPT when the indexes disagree, an
 * error, or what fn returned to stop.
 */
int mu_store_counts(struct mu_store *st, struct mu_store_counts *out,
                    mu_store_group_count_fn fn, void *ctx);

/*
 * The created_at of the newest stored record of group (tombstones
 * included), 0 when it has none: the last of its keys in the group index,
 * one seek and no record read, so that it costs the same whatever the
 * store holds.
 */
int mu_store_group_newest(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                          int64_t *newest);

/*
 * Gives back the pages of the store's memory map that this process touched,
 * so that its resident size counts what it holds rather than what it read.
 * Pages read stay mapped, and counted in RSS, until then; and one read can
 * map up to 2 MiB of them (store_map.c says why). mu_store_set_map_budget()
 * has the store call it itself, when needed.
 *
 * Safe at any time, with read transactions and records borrowed from the map
 * still in use: the store maps its file read-only and shared (it never opens
 * it with MDB_WRITEMAP; writes go through write(2)), so MADV_DONTNEED drops
 * this process's page table entries only. The pages stay in the page cache,
 * and the next read of one is a minor fault that maps the same bytes again
 * (LMDB never rewrites a page that an open transaction can reach). Nothing
 * is lost or changed. Returns 0, or MU_EINVAL/MU_EIO when nothing was given
 * back.
 */
int mu_store_release_map(struct mu_store *st);

/*
 * Keeps this process's file-backed resident memory (the store's map and the
 * program's own files, the "shared" field of /proc/self/statm) near bytes:
 * every read of the store counts (a transaction begun, an entry scanned, a
 * record put), every few reads the resident size is looked at, and past
 * bytes the map's pages are given back (mu_store_release_map), whichever
 * thread reads. Pages given back are faulted in again when read, so a
 * store whose reads fit in the budget costs a look now and then and nothing
 * more. Two kinds of reads keep less (store_map.c says why): those of a
 * write, 8 MiB over what was resident after the last give-back; and those
 * beside a heap that with the budget passes 80 MiB, what is left of the
 * 80 MiB, but no less than a write. 0, the default, never gives them back.
 * Call it before the store is shared between threads. Returns 0, or MU_EIO
 * when /proc/self/statm cannot be read (then nothing is given back).
 */
int mu_store_set_map_budget(struct mu_store *st, size_t bytes);

/* The budget muster's own processes set: what a serving node keeps of the
 * map resident, and what a walk of a big store (`muster status`) stays
 * near. */
#define MU_STORE_MAP_BUDGET ((size_t)32 << 20)

enum mu_alliance_state {
	MU_ALLY_MUTUAL = 1, /* both current records name each other, not ended */
	MU_ALLY_BY_US,      /* ours is proposed, theirs is missing, or ended
	                       before ours was proposed again */
	MU_ALLY_TO_US,      /* theirs is proposed, ours is missing, or ended
	                       before theirs was proposed again */
	MU_ALLY_ENDED,      /* one side ended it (mu_alliance_ender()) */
};

const char *mu_alliance_state_name(enum mu_alliance_state s);

struct mu_alliance_view {
	uint8_t other[MU_KEY_BYTES];
	enum mu_alliance_state state;
	const struct mu_record *ours;   /* NULL when we have none */
	const struct mu_record *theirs; /* NULL when they have none naming us */
	const struct mu_record *ended;  /* ours or theirs: the record that ended
	                                   it; NULL unless the state is ENDED */
};

typedef int (*mu_store_alliance_fn)(void *ctx, const struct mu_alliance_view *v);

/* Calls fn once per group that has an alliance record with us, either way. */
int mu_store_alliances(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
                       mu_store_alliance_fn fn, void *ctx);

#endif
