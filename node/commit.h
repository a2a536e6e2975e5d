/*
 * commit.h - the commit pipeline (commit.c) and the batches it stores,
 * shared with verify.c, which fills them. Loop thread only, but for
 * commit.c's store work, which touches only the store and the batches of
 * the commit being stored (verify.c's keep() only reads them meanwhile).
 */
#ifndef MU_NODE_COMMIT_H
#define MU_NODE_COMMIT_H

#include "sync.h"

/* One recs message being taken in: verified (verify.c), then waiting for
 * the commit and stored (commit.c). */
struct mu_sync_batch {
	uv_work_t work;
	struct mu_sync_batch *next; /* the peer's batches, then the commit */
	struct mu_sync_peer *p;     /* held (mu_sync_hold) by the batch */
	uint64_t req;
	int64_t now;
	size_t n;
	bool verified;                        /* and back on the loop thread */
	const uint8_t *ptr[MU_WIRE_RECS_MAX]; /* into copy */
	size_t len[MU_WIRE_RECS_MAX];
	uint8_t *copy; /* the records' bytes, owned */
	size_t copy_cap;
	int rc[MU_WIRE_RECS_MAX];
	bool early[MU_WIRE_RECS_MAX]; /* rc: only dated too far ahead */
	struct mu_why why[MU_WIRE_RECS_MAX];
	struct mu_record recs[MU_WIRE_RECS_MAX];
	size_t nkeep; /* recs[keep[i]] are to be stored */
	uint8_t keep[MU_WIRE_RECS_MAX];
	/* Kept records the store refused as invalid (rule organizer-kind),
	 * counted on the storing thread, charged to p at the commit's end. */
	unsigned refused;
	size_t first_refused; /* index into recs of the first */
};

/* node->commit */
struct mu_sync_commit {
	/* Verified batches of every peer waiting for one commit, since
	 * commit_first (uv_now()); due: the timer fired meanwhile. */
	struct mu_sync_batch *commit, **commit_tail;
	size_t commit_recs;
	/* Records at which they are stored without waiting for the timer
	 * (SYNC_COMMIT_FIRST to SYNC_COMMIT_RECS, commit.c). */
	size_t goal;
	uint64_t commit_first;
	bool commit_due;
	uv_timer_t commit_timer;
	bool timer_ok;
	/* The commit being stored on the thread pool, and its outcome. */
	struct mu_sync_batch *storing;
	size_t storing_recs;
	uv_work_t store_work;
	struct mu_sync_fresh *fresh;
	size_t nfresh;
	int store_rc;
	struct mu_why store_why;
	/* Merges of concurrent edits the commit published (merge_rc: how
	 * publishing them went), logged on the loop. */
	size_t merged;
	int merge_rc;
	struct mu_why merge_why;
	/* Batches kept for reuse, nspare of them, of spare_bytes (their
	 * structs and copies; at most SYNC_SPARE_BYTES); batch_taken: one was
	 * taken since the last mu_sync_commit_tick(), which frees them if
	 * not. */
	struct mu_sync_batch *spare;
	unsigned nspare;
	size_t spare_bytes;
	bool batch_taken;
};

/* Allocates node->commit (0 or MU_ENOMEM); mu_sync_commit_close() frees it
 * and the batches kept for reuse, once the loop has run dry. */
int mu_sync_commit_open(struct mu_node *node);
void mu_sync_commit_close(struct mu_node *node);
/* Every limits.reconcile_ms: frees the batches kept for reuse unless one
 * was taken since the last call. */
void mu_sync_commit_tick(struct mu_node *node);
/* A batch for total bytes of records, spare or new; NULL when out of
 * memory. Only what mu_sync_on_recs() does not set is reset. */
struct mu_sync_batch *mu_sync_batch_new(struct mu_sync_commit *cm, size_t total);
/* Keeps b for reuse or frees it, and releases its peer. */
void mu_sync_batch_free(struct mu_sync_batch *b);
/* Adds a verified batch to the commit, and has it committed soon. */
void mu_sync_commit_join(struct mu_node *node, struct mu_sync_batch *b);

#endif
