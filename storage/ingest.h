/*
 * ingest.h - storing many records from an untrusted source, fast: worker
 * threads parse and verify (mu_rec_parse, the signature being most of the
 * cost), and the calling thread stores the valid records in their input
 * order, many per write transaction.
 *
 *   input:   n record spans (already cut, e.g. with mu_rec_span), or a
 *            source that cuts them while the workers start (below)
 *   workers: claim chunks of CHUNK records in order, parse and verify each
 *            into a slot of a bounded ring
 *   caller:  takes the chunks in order as they finish, filters, puts them
 *            into one write transaction (mu_store_batch_put), and commits
 *            every mu_ingest_opts.batch records
 *
 * So records are stored exactly as a one-by-one loop of mu_rec_parse() and
 * mu_store_put() would store them (later records see earlier ones), while
 * verification of the next records goes on during each commit.
 *
 * Ownership: the spans' bytes are the caller's and must outlive the call;
 * the struct mu_record given to check borrows them and the ring, and is
 * valid only during the callback. Memory: the ring holds (128 + 4 * threads)
 * * 128 parsed records (about 1.5 KiB each with their reasons), mapped at
 * once and populated as the input reaches it, whatever the batch; the spans
 * 16 bytes a record; the open transaction holds the pages
 * it has changed until it commits. The process's heap is grown by about
 * three times the first batch's bytes (up to 128 MiB), for those pages; the
 * heap keeps that memory only where the program told glibc to (below).
 */
#ifndef MU_INGEST_H
#define MU_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * glibc's settings under which the heap that mu_ingest() grows is kept for
 * LMDB's page copies: blocks of 16 MiB from the heap, not mmap
 * (M_MMAP_THRESHOLD), and up to 128 MiB free at its top not trimmed
 * (M_TRIM_THRESHOLD). They are process-wide, so they are the program's to
 * set with mallopt() before calling, not this library's (muster import
 * sets them); without them the import is correct, only slower.
 */
#define MU_INGEST_MMAP_THRESHOLD (32u << 20)
#define MU_INGEST_TRIM_THRESHOLD (256u << 20)

/* One record's bytes, borrowed. */
struct mu_ingest_span {
	const uint8_t *ptr;
	size_t len;
};

/*
 * Called on the calling thread, in input order. index is the record's
 * position in the input (0-based). rc is 0 for a valid record (rec set),
 * else what mu_rec_parse() returned (why says which rule; rec is NULL).
 * Return true to store a valid record, false to drop it (a scope filter, for
 * example). NULL keeps every valid record.
 */
typedef bool (*mu_ingest_check_fn)(void *ctx, size_t index, int rc,
                                   const struct mu_record *rec,
                                   const struct mu_why *why);

/* Called after each commit for every record it holds, in input order, with
 * what the store did with it (the record itself is gone by then). */
typedef void (*mu_ingest_stored_fn)(void *ctx, size_t index, enum mu_put_result result);

struct mu_ingest_opts {
	unsigned threads; /* verifying threads; 0: one per online core */
	size_t batch;     /* records per write transaction; 0: MU_INGEST_BATCH */
	int64_t now;      /* for rule future */
	int parse_flags;  /* for mu_rec_parse(); 0 verifies everything */
	mu_ingest_check_fn check;
	mu_ingest_stored_fn stored;
	void *ctx;
};

/* Each commit writes again every index page its records touched, and index
 * keys are random: 8,192 records a commit wrote 3.4 KiB a record at 100,000
 * records, 32,768 write 2.1 KiB. The open transaction keeps its changed
 * pages in memory, about 70 MiB at this size. */
#define MU_INGEST_BATCH 32768

/* The number of verifying threads that threads = 0 stands for. */
unsigned mu_ingest_default_threads(void);

/*
 * Verifies and stores the n records of spans as described above. Returns 0
 * when every batch committed (invalid records are not an error: check sees
 * them), or the error of the first failed commit (MU_EFULL, MU_EIO, with why)
 * after which nothing more is stored; batches committed before it stay.
 * MU_ENOMEM when the threads or the ring cannot be set up.
 */
int mu_ingest(struct mu_store *st, const struct mu_ingest_span *spans, size_t n,
              const struct mu_ingest_opts *opts, struct mu_why *why);

/*
 * The next record of an input, cut on the calling thread: 1 with *span set
 * (its bytes borrowed, as spans' are above, until mu_ingest_source returns),
 * 0 at the end of the input (a source that cannot go on ends there, telling
 * its caller why its own way), or a negative MU_E* code (with why), which
 * stops the import before anything is stored.
 */
typedef int (*mu_ingest_next_fn)(void *src, struct mu_ingest_span *span,
                                 struct mu_why *why);

/*
 * mu_ingest() over records that next cuts from src one by one: the workers
 * verify each chunk as soon as it is cut, while the rest is being cut. The
 * whole input is cut before the first record is checked or stored, so the
 * source's own messages come before check's. Returns as mu_ingest() does, or
 * the source's error.
 */
int mu_ingest_source(struct mu_store *st, mu_ingest_next_fn next, void *src,
                     const struct mu_ingest_opts *opts, struct mu_why *why);

#endif
