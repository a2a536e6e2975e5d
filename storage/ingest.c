/*
 * ingest.c - the verify-in-parallel, store-in-order pipeline of ingest.h.
 *
 * Chunk c (records c*CHUNK ...) lives in ring slot c % nslots. Workers claim
 * chunks in order under the lock and may run ahead of the writer by at most
 * nslots chunks; the writer takes chunk c once done[slot] says c finished,
 * puts its records into the open write transaction, and frees the slot at
 * once, because the store copies what it is given. It commits every `batch`
 * records.
 *
 * So the ring does not depend on the batch: it only has to hold what the
 * workers verify while the writer commits (writing the pages and waiting
 * for the disk), RING_CHUNKS plus a few per worker. An earlier version kept
 * a whole batch in the ring until its commit, so the workers stalled behind
 * every commit and the import ended with a batch stored by one thread.
 *
 * The writer cuts the input (the source) before it stores anything, but the
 * workers start first and take each chunk as soon as it is cut: cutting
 * a hundred thousand records takes about 0.1 s, which the workers would
 * otherwise wait out with a core idle. The spans grow under the lock, and a
 * worker copies its chunk's spans out under it.
 */
#include "ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define CHUNK       128 /* records a worker claims at once */
#define RING_CHUNKS 128 /* about 0.4 s of verifying on two cores */
#define MAX_THREADS 64
/* The last batch holds at most this many chunks (write_all) */
#define TAIL_CHUNKS 64

struct chunk {
	struct mu_record recs[CHUNK];
	int rc[CHUNK];
	struct mu_why why[CHUNK];
};

struct ing {
	struct mu_ingest_span *spans; /* grown under mu by the writer */
	size_t cap;
	size_t n, nchunks, nslots; /* n, nchunks: those cut so far */
	const struct mu_ingest_opts *o;
	struct chunk *ring;
	size_t *done; /* per slot: 1 + the index of the chunk finished there */

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a slot was freed, or stop */
	pthread_cond_t done_cv; /* a chunk finished */
	size_t next;            /* the next chunk to claim */
	size_t released;        /* chunks below it are stored: their slots are free */
	bool cut_done;          /* n and nchunks are final */
	bool stop;
};

unsigned
mu_ingest_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* The number of records of chunk c, which is cut. */
static size_t
chunk_len(const struct ing *g, size_t c)
{
	size_t first = c * CHUNK;

	return g->n - first < CHUNK ? g->n - first : CHUNK;
}

static void
parse_chunk(struct ing *g, size_t c, const struct mu_ingest_span *spans, size_t n)
{
	struct chunk *ch = &g->ring[c % g->nslots];

	for (size_t i = 0; i < n; i++) {
		ch->why[i].text[0] = '\0';
		ch->rc[i] = mu_rec_parse(&ch->recs[i], spans[i].ptr, spans[i].len,
		                         g->o->now, g->o->parse_flags, &ch->why[i]);
	}
}

static void *
worker(void *arg)
{
	struct ing *g = arg;
	struct mu_ingest_span spans[CHUNK];
	size_t c, n;

#ifdef __linux__
	/* Named, so that top and perf tell verification from storing. */
	prctl(PR_SET_NAME, "mu-verify", 0, 0, 0);
#endif
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop &&
		       (g->next < g->nchunks ? g->next >= g->released + g->nslots
		                             : !g->cut_done))
			pthread_cond_wait(&g->work_cv, &g->mu);
		if (g->stop || g->next >= g->nchunks)
			break;
		c = g->next++;
		n = chunk_len(g, c);
		memcpy(spans, g->spans + c * CHUNK, n * sizeof(*spans));
		pthread_mutex_unlock(&g->mu);
		parse_chunk(g, c, spans, n);
		pthread_mutex_lock(&g->mu);
		g->done[c % g->nslots] = c + 1;
		pthread_cond_signal(&g->done_cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/*
 * The ring is written whole within the first second of a large import, so
 * each slot is populated when the first chunk for it is cut (slot_populate),
 * before a worker can write it: one call instead of a page fault for each
 * of its 4 KiB pages, which virtual machines make dear (docs/BENCHMARKS.md,
 * the machine). Slots that no chunk reaches are never touched.
 */
static struct chunk *
ring_alloc(size_t nslots)
{
	void *p = mmap(NULL, nslots * sizeof(struct chunk), PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? p : NULL;
}

static void
slot_populate(struct ing *g, size_t slot)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = (uintptr_t)&g->ring[slot], to = (uintptr_t)&g->ring[slot + 1];

	if (page == 0 || (page & (page - 1)) != 0)
		return;
	/* Rounded out: the pages shared with a neighbour slot are the ring's. */
	from &= ~(page - 1);
	to = (to + page - 1) & ~(page - 1);
	madvise((void *)from, to - from, MADV_POPULATE_WRITE);
}

static void
ring_free(struct chunk *ring, size_t nslots)
{
	if (ring != NULL)
		munmap(ring, nslots * sizeof(struct chunk));
}

/*
 * LMDB gives every page a write transaction changes a malloc()ed copy, and
 * keeps the copies for the next transaction. So the first batch grows the
 * heap by about three times its records' bytes, a page fault on each new
 * 4 KiB. Grown here at once, populated in one call per block and freed,
 * with glibc told to keep it (by the program: ingest.h,
 * MU_INGEST_MMAP_THRESHOLD), the same memory costs far less, and the copies
 * come from it. It runs on the
 * calling thread, whose heap (arena) the copies come from. Where any of
 * that is missing, it only costs what it saves.
 */
#define HEAP_BLOCK       (MU_INGEST_MMAP_THRESHOLD / 2)
#define HEAP_RESERVE_MAX (MU_INGEST_TRIM_THRESHOLD / 2)

static void
heap_reserve(const struct mu_ingest_span *spans, size_t n, size_t batch)
{
	void *blocks[HEAP_RESERVE_MAX / HEAP_BLOCK];
	size_t bytes = 0, i, nblocks;
	long page = sysconf(_SC_PAGESIZE);

	for (i = 0; i < n && i < batch; i++)
		bytes += 3 * spans[i].len;
	if (bytes > HEAP_RESERVE_MAX)
		bytes = HEAP_RESERVE_MAX;
	nblocks = bytes / HEAP_BLOCK;
	if (nblocks == 0 || page <= 0)
		return;
	for (i = 0; i < nblocks; i++) {
		uintptr_t from, to;

		if ((blocks[i] = malloc(HEAP_BLOCK)) == NULL)
			break;
		from = ((uintptr_t)blocks[i] + (uintptr_t)page - 1) &
		       ~((uintptr_t)page - 1);
		to = ((uintptr_t)blocks[i] + HEAP_BLOCK) & ~((uintptr_t)page - 1);
		madvise((void *)from, to - from, MADV_POPULATE_WRITE);
	}
	while (i > 0)
		free(blocks[--i]);
}

/* The results of records put since the last commit, reported after it. */
struct pending {
	size_t *index;
	enum mu_put_result *res;
	size_t n;
};

/* The slots of the chunks below upto may be verified into again. */
static void
release(struct ing *g, size_t upto)
{
	pthread_mutex_lock(&g->mu);
	g->released = upto;
	pthread_cond_broadcast(&g->work_cv);
	pthread_mutex_unlock(&g->mu);
}

static int
commit(struct ing *g, struct mu_store_batch **b, struct pending *p, struct mu_why *why)
{
	const struct mu_ingest_opts *o = g->o;
	int rc = 0;

	if (*b == NULL)
		return 0;
	rc = mu_store_batch_commit(*b, why);
	*b = NULL;
	if (rc == 0 && o->stored != NULL)
		for (size_t i = 0; i < p->n; i++)
			o->stored(o->ctx, p->index[i], p->res[i]);
	p->n = 0;
	return rc;
}

/* Takes chunk c when it is verified, filters it and puts it into *b. */
static int
put_chunk(struct ing *g, struct mu_store *st, struct mu_store_batch **b,
          struct pending *p, size_t c, struct mu_why *why)
{
	const struct mu_ingest_opts *o = g->o;
	struct chunk *ch = &g->ring[c % g->nslots];
	const struct mu_record *recs[CHUNK];
	size_t i, first = c * CHUNK, n = chunk_len(g, c);
	size_t k = 0;
	int rc;

	pthread_mutex_lock(&g->mu);
	while (g->done[c % g->nslots] != c + 1)
		pthread_cond_wait(&g->done_cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	for (i = 0; i < n; i++) {
		bool ok = ch->rc[i] == 0;

		if (o->check != NULL)
			ok = o->check(o->ctx, first + i, ch->rc[i],
			              ok ? &ch->recs[i] : NULL, &ch->why[i]) &&
			     ok;
		if (!ok)
			continue;
		recs[k] = &ch->recs[i];
		p->index[p->n + k++] = first + i;
	}
	if (k == 0)
		return 0;
	if (*b == NULL && (rc = mu_store_batch_begin(st, b, why)) != 0)
		return rc;
	if ((rc = mu_store_batch_put(*b, recs, k, &p->res[p->n], why)) != 0)
		return rc;
	p->n += k;
	return 0;
}

/*
 * The caller's side: chunks in order, filtered, stored in batches. Nothing
 * overlaps the last commit, as the workers are done by then, so the last
 * batch is kept short: a commit starts TAIL_CHUNKS before the end, while
 * the workers still verify those, and the last holds only them.
 */
static int
write_all(struct ing *g, struct mu_store *st, struct pending *p, size_t batch,
          struct mu_why *why)
{
	struct mu_store_batch *b = NULL;
	size_t c, tail = g->nchunks > TAIL_CHUNKS ? g->nchunks - TAIL_CHUNKS : 0;
	int rc = 0;

	for (c = 0; rc == 0 && c < g->nchunks; c++) {
		rc = put_chunk(g, st, &b, p, c, why);
		if (rc == 0)
			release(g, c + 1);
		if (rc == 0 && (p->n >= batch || c + 1 == tail || c + 1 == g->nchunks))
			rc = commit(g, &b, p, why);
	}
	/* On an error the caller stops the workers. */
	mu_store_batch_abort(b);
	return rc;
}

/* Makes what the writer cut so far up to n visible to the workers: whole
 * chunks, and at the end (done) the last, partial one. */
static void
publish(struct ing *g, size_t n, bool done)
{
	pthread_mutex_lock(&g->mu);
	g->n = n;
	g->nchunks = done ? (n + CHUNK - 1) / CHUNK : n / CHUNK;
	g->cut_done = done;
	pthread_cond_broadcast(&g->work_cv);
	pthread_mutex_unlock(&g->mu);
}

/*
 * The writer's first part: the whole input cut into g->spans, each chunk
 * handed to the workers as soon as it is cut, its ring slot populated first
 * when it is the slot's first. 0 or the source's error, or MU_ENOMEM.
 */
static int
cut_all(struct ing *g, mu_ingest_next_fn next, void *src, struct mu_why *why)
{
	struct mu_ingest_span span;
	size_t n = 0;
	int rc;

	for (;;) {
		if ((rc = next(src, &span, why)) <= 0)
			break;
		if (n == g->cap) {
			struct mu_ingest_span *grown;
			size_t cap = g->cap != 0 ? 2 * g->cap : 16 * CHUNK;

			pthread_mutex_lock(&g->mu);
			grown = realloc(g->spans, cap * sizeof(*grown));
			if (grown != NULL) {
				g->spans = grown;
				g->cap = cap;
			}
			pthread_mutex_unlock(&g->mu);
			if (grown == NULL) {
				rc = mu_fail(why, MU_ENOMEM,
				             "storing records: out of memory");
				break;
			}
		}
		/* Above the published n: no worker reads it yet. */
		g->spans[n++] = span;
		if (n % CHUNK == 0) {
			if (n / CHUNK <= g->nslots)
				slot_populate(g, n / CHUNK - 1);
			publish(g, n, false);
		}
	}
	if (n % CHUNK != 0 && n / CHUNK < g->nslots)
		slot_populate(g, n / CHUNK);
	publish(g, n, true);
	return rc < 0 ? rc : 0;
}

int
mu_ingest_source(struct mu_store *st, mu_ingest_next_fn next, void *src,
                 const struct mu_ingest_opts *opts, struct mu_why *why)
{
	struct ing g;
	struct pending p = {NULL, NULL, 0};
	pthread_t tids[MAX_THREADS];
	size_t batch = opts->batch != 0 ? opts->batch : MU_INGEST_BATCH;
	unsigned nthreads =
	    opts->threads != 0 ? opts->threads : mu_ingest_default_threads();
	unsigned started = 0, t;
	int rc = 0;

	if (why != NULL)
		why->text[0] = '\0';
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	memset(&g, 0, sizeof(g));
	g.o = opts;
	g.nslots = RING_CHUNKS + 4 * nthreads;
	g.ring = ring_alloc(g.nslots);
	g.done = calloc(g.nslots, sizeof(*g.done));
	/* A batch may run past `batch` by up to one chunk. */
	p.index = malloc((batch + CHUNK) * sizeof(*p.index));
	p.res = malloc((batch + CHUNK) * sizeof(*p.res));
	if (g.ring == NULL || g.done == NULL || p.index == NULL || p.res == NULL) {
		rc = mu_fail(why, MU_ENOMEM, "storing records: out of memory");
		goto out;
	}
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.work_cv, NULL);
	pthread_cond_init(&g.done_cv, NULL);
	for (t = 0; t < nthreads; t++) {
		if (pthread_create(&tids[t], NULL, worker, &g) != 0)
			break;
		started++;
	}
	if (started == 0)
		rc = mu_fail(why, MU_ENOMEM, "storing records: cannot start a thread");
	/* While the workers verify the first chunks. */
	if (rc == 0)
		rc = cut_all(&g, next, src, why);
	if (rc == 0 && g.n > 0) {
		heap_reserve(g.spans, g.n, batch);
		rc = write_all(&g, st, &p, batch, why);
	}
	pthread_mutex_lock(&g.mu);
	g.stop = true;
	pthread_cond_broadcast(&g.work_cv);
	pthread_mutex_unlock(&g.mu);
	for (t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	pthread_cond_destroy(&g.done_cv);
	pthread_cond_destroy(&g.work_cv);
	pthread_mutex_destroy(&g.mu);
out:
	free(p.res);
	free(p.index);
	free(g.done);
	free(g.spans);
	ring_free(g.ring, g.nslots);
	return rc;
}

/* A source over an array of spans. */
struct array_src {
	const struct mu_ingest_span *spans;
	size_t n, i;
};

static int
array_next(void *ctx, struct mu_ingest_span *span, struct mu_why *why)
{
	struct array_src *a = ctx;

	(void)why;
	if (a->i == a->n)
		return 0;
	*span = a->spans[a->i++];
	return 1;
}

int
mu_ingest(struct mu_store *st, const struct mu_ingest_span *spans, size_t n,
          const struct mu_ingest_opts *opts, struct mu_why *why)
{
	struct array_src a = {spans, n, 0};

	if (why != NULL)
		why->text[0] = '\0';
	if (n == 0)
		return 0;
	return mu_ingest_source(st, array_next, &a, opts, why);
}
