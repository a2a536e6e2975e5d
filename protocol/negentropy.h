/*
 * negentropy.h - range-based set reconciliation, negentropy protocol v1
 * (hoytech/negentropy, docs/negentropy-protocol-v1.md), over items
 * (timestamp, 32-byte id). Both sides find which ids the other lacks in one
 * round trip when their sets agree, and in a few more when they differ.
 *
 * Pure: messages are bytes in and bytes out; the caller moves them.
 *
 * The items come from an array (mu_neg_new) or from a source that computes
 * ranks, sums and items on demand (mu_neg_new_source), such as the store's
 * fingerprint table, so that a message costs what its ranges cost rather
 * than a pass over the set.
 *
 * Ownership: the item array passed to mu_neg_new() is borrowed, must be
 * sorted by (ts, id) with no duplicates, and must not change while the
 * reconciliation runs; a source's ctx is borrowed likewise. Ids reported to
 * the callbacks point into the item array, the source's memory or the
 * message being read: copy them to keep them.
 */
#ifndef MU_NEGENTROPY_H
#define MU_NEGENTROPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define MU_NEG_VERSION   0x61
#define MU_NEG_ID_BYTES  32
#define MU_NEG_FRAME_MIN 4096 /* the smallest frame limit the protocol allows */

struct mu_neg_item {
	uint64_t ts;
	uint8_t id[MU_NEG_ID_BYTES];
};

struct mu_neg;

/* The index a need callback gets: the id is the other side's, not one of
 * our items. */
#define MU_NEG_THEIRS SIZE_MAX

/* A place in the sorted set: the rank of the first item at or after it,
 * and (sources that keep sums) the sum mod 2^256 of the ids below it, as
 * little-endian 64-bit words. */
struct mu_neg_pos {
	size_t rank;
	uint64_t sum[4];
};

/* One item of a walk and its rank: 0 goes on, 1 stops, a negative MU_E*
 * code stops with it. */
typedef int (*mu_neg_item_fn)(void *arg, const struct mu_neg_item *it, size_t rank);

/*
 * A sorted set of items, read on demand. Every function returns 0 or a
 * negative MU_E* code. Between two calls of mu_neg_initiate() or
 * mu_neg_reconcile() the set may change; during one it must not.
 */
struct mu_neg_source {
	void *ctx;
	int (*size)(void *ctx, size_t *n);
	/* *pos: the first item not below (ts, id); id is zero-padded. */
	int (*seek_bound)(void *ctx, uint64_t ts, const uint8_t id[MU_NEG_ID_BYTES],
	                  struct mu_neg_pos *pos);
	/* *pos at rank (at most the size); at and before (may be NULL) get
	 * the items at rank and rank - 1 when there are. */
	int (*seek_rank)(void *ctx, size_t rank, struct mu_neg_pos *pos,
	                 struct mu_neg_item *at, struct mu_neg_item *before);
	/* The sum of the ids of the items in [lo, hi). */
	int (*range_sum)(void *ctx, const struct mu_neg_pos *lo,
	                 const struct mu_neg_pos *hi, uint64_t sum[4]);
	/* fn for each item from rank on, in order, until it stops. */
	int (*each)(void *ctx, size_t rank, mu_neg_item_fn fn, void *arg);
};

/* Receives one id the initiator has and the other side lacks (have) or the
 * other side has and the initiator lacks (need). index is the id's rank in
 * our set (have: its position in the items given to mu_neg_new(), so that a
 * caller can keep more about each item beside them), or MU_NEG_THEIRS
 * (need). Nonzero stops with
 * that value returned from mu_neg_reconcile(). */
typedef int (*mu_neg_id_fn)(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index);

/*
 * Creates a reconciliation over n sorted items. frame_limit caps the size of
 * every message this side writes (0: no cap; otherwise at least
 * MU_NEG_FRAME_MIN), so that a message always fits a transport frame.
 */
int mu_neg_new(struct mu_neg **out, const struct mu_neg_item *items, size_t n,
               size_t frame_limit);

/* The same over a source (copied; its ctx is borrowed). */
int mu_neg_new_source(struct mu_neg **out, const struct mu_neg_source *src,
                      size_t frame_limit);

void mu_neg_free(struct mu_neg *neg);

/* Initiator: writes the first message into out (appended). */
int mu_neg_initiate(struct mu_neg *neg, struct mu_buf *out);

/*
 * Reads the other side's message and appends our answer to out.
 * Responder: the answer is always to be sent back; in push mode have is
 * called for the ids it holds that the initiator lacks (see
 * mu_neg_set_push), and need is never called.
 * Initiator: have and need are called for the differences found; when the
 * answer is empty (out gains nothing) the reconciliation is complete and
 * nothing is sent. Returns 0, or MU_EFORMAT with the reason in why for a
 * malformed message, MU_ENOMEM. A message in a version we do not speak is
 * answered by a responder with our version byte alone, as the protocol asks;
 * an initiator gets MU_EVERSION.
 */
int mu_neg_reconcile(struct mu_neg *neg, const uint8_t *msg, size_t len,
                     struct mu_buf *out, mu_neg_id_fn have, mu_neg_id_fn need,
                     void *ctx, struct mu_why *why);

/*
 * Push mode, for a responder (off by default, which is plain v1): it answers
 * a range for which the initiator listed its ids with only the ids both
 * sides hold, and reports each id it holds that the list lacks to have
 * (mu_neg_reconcile()) instead of listing it. The initiator then finds
 * nothing to need in that range, and the caller sends those records to it
 * unasked (docs/PROTOCOL.md 10.4). The messages stay valid v1.
 */
void mu_neg_set_push(struct mu_neg *neg, bool push);

/*
 * A range of ours of which the other side listed no id, [from, to) by (ts,
 * id) (to.ts UINT64_MAX: the end of the set; ids zero-padded bounds, not
 * items), given whole to fn instead of item by item to have, so that a
 * caller can walk it while it sends: a responder's in push mode, where the
 * initiator listed its ids; an initiator's, where the answer's list is
 * empty and the range is not one we listed. ctx is mu_neg_reconcile()'s;
 * nonzero stops with that value returned. NULL (the default): have.
 */
typedef int (*mu_neg_range_fn)(void *ctx, const struct mu_neg_item *from,
                               const struct mu_neg_item *to);
void mu_neg_set_push_range(struct mu_neg *neg, mu_neg_range_fn fn);

/* Whether this side initiated. */
bool mu_neg_is_initiator(const struct mu_neg *neg);

/* The fingerprint of count items whose ids sum to sum: SHA-256 of the sum
 * (32 bytes, little-endian) and varint(count), cut to 16 bytes. */
#define MU_NEG_FP_BYTES 16
void mu_neg_fingerprint(const uint64_t sum[4], uint64_t count,
                        uint8_t out[MU_NEG_FP_BYTES]);

/* acc += x, and acc += the id read as a little-endian number: sums of ids
 * mod 2^256 in little-endian 64-bit words, as fingerprints take them. */
void mu_neg_sum_add(uint64_t acc[4], const uint64_t x[4]);
void mu_neg_sum_id(uint64_t acc[4], const uint8_t id[MU_NEG_ID_BYTES]);

/* Sorts items by (ts, id) in place, as mu_neg_new() requires. */
void mu_neg_sort(struct mu_neg_item *items, size_t n);

#endif
