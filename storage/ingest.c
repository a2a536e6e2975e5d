/*
 * ingest.c - the verify-in-parallel, store-in-order pipeline of ingest.h.
 *
 * Chunk c (records c*CHUNK ...) lives in ring slot c % nslots. Workers claim
 * chunks in order under the lock and may run ahead of the writer by at most
 * nslots chunks; the writer takes chunk c once done[slot] says c finished,
 * and frees the slots of a batch only after committing it, because the
 * records handed to mu_store_put() point into the slots. A batch is also
 * committed early when it holds every slot, so the ring cannot deadlock.
 *
 * The ring holds two batches: while the writer stores one, the workers
 * verify the next. With room for one batch only, the workers stalled for as
 * long as each mu_store_put() ran, and one verifying thread spent a third of
 * the import waiting.
 */
#include "ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define CHUNK       128 /* records a worker claims at once */
#define MAX_THREADS 64

struct chunk {
	struct mu_record recs[CHUNK];
	int rc[CHUNK];
	struct mu_why why[CHUNK];
};

struct ing {
	const struct mu_ingest_span *spans;
	size_t n, nchunks, nslots;
	const struct mu_ingest_opts *o;
	struct chunk *ring;
	size_t *done; /* per slot: 1 + the index of the chunk finished there */

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a slot was freed, or stop */
	pthread_cond_t done_cv; /* a chunk finished */
	size_t next;            /* the next chunk to claim */
	size_t released;        /* chunks below it are stored: their slots are free */
	bool stop;
};

unsigned
mu_ingest_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static void
parse_chunk(struct ing *g, size_t c)
{
	struct chunk *ch = &g->ring[c % g->nslots];
	size_t first = c * CHUNK, i, n = g->n - first < CHUNK ? g->n - first : CHUNK;

	for (i = 0; i < n; i++) {
		ch->why[i].text[0] = '\0';
		ch->rc[i] = mu_rec_parse(&ch->recs[i], g->spans[first + i].ptr,
		                         g->spans[first + i].len, g->o->now,
		                         g->o->parse_flags, &ch->why[i]);
	}
}

static void *
worker(void *arg)
{
	struct ing *g = arg;
	size_t c;

#ifdef __linux__
	/* Named, so that top and perf tell verification from storing. */
	prctl(PR_SET_NAME, "mu-verify", 0, 0, 0);
#endif
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop && g->next < g->nchunks &&
		       g->next >= g->released + g->nslots)
			pthread_cond_wait(&g->work_cv, &g->mu);
		if (g->stop || g->next >= g->nchunks)
			break;
		c = g->next++;
		pthread_mutex_unlock(&g->mu);
		parse_chunk(g, c);
		pthread_mutex_lock(&g->mu);
		g->done[c % g->nslots] = c + 1;
		pthread_cond_signal(&g->done_cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct pending {
	const struct mu_record **recs;
	size_t *index;
	enum mu_put_result *res;
	size_t n;
};

static int
commit(struct ing *g, struct mu_store *st, struct pending *p, size_t upto,
       struct mu_why *why)
{
	const struct mu_ingest_opts *o = g->o;
	size_t i;
	int rc = 0;

	if (p->n > 0)
		rc = mu_store_put(st, p->recs, p->n, p->res, why);
	if (rc == 0 && o->stored != NULL)
		for (i = 0; i < p->n; i++)
			o->stored(o->ctx, p->index[i], p->recs[i], p->res[i]);
	p->n = 0;
	pthread_mutex_lock(&g->mu);
	g->released = upto;
	if (rc != 0)
		g->stop = true;
	pthread_cond_broadcast(&g->work_cv);
	pthread_mutex_unlock(&g->mu);
	return rc;
}

/* The caller's side: chunks in order, filtered, stored in batches. */
static int
write_all(struct ing *g, struct mu_store *st, struct pending *p, size_t batch,
          struct mu_why *why)
{
	const struct mu_ingest_opts *o = g->o;
	size_t c, i, first, n;
	int rc;

	for (c = 0; c < g->nchunks; c++) {
		struct chunk *ch = &g->ring[c % g->nslots];

		pthread_mutex_lock(&g->mu);
		while (g->done[c % g->nslots] != c + 1)
			pthread_cond_wait(&g->done_cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
		first = c * CHUNK;
		n = g->n - first < CHUNK ? g->n - first : CHUNK;
		for (i = 0; i < n; i++) {
			bool ok = ch->rc[i] == 0;

			if (o->check != NULL)
				ok = o->check(o->ctx, first + i, ch->rc[i],
				              ok ? &ch->recs[i] : NULL, &ch->why[i]) &&
				     ok;
			if (!ok)
				continue;
			p->recs[p->n] = &ch->recs[i];
			p->index[p->n++] = first + i;
		}
		if (p->n >= batch || c + 1 == g->nchunks ||
		    c + 1 - g->released == g->nslots)
			if ((rc = commit(g, st, p, c + 1, why)) != 0)
				return rc;
	}
	return 0;
}

int
mu_ingest(struct mu_store *st, const struct mu_ingest_span *spans, size_t n,
          const struct mu_ingest_opts *opts, struct mu_why *why)
{
	struct ing g;
	struct pending p = {NULL, NULL, NULL, 0};
	pthread_t tids[MAX_THREADS];
	size_t batch = opts->batch != 0 ? opts->batch : MU_INGEST_BATCH;
	unsigned nthreads =
	    opts->threads != 0 ? opts->threads : mu_ingest_default_threads();
	unsigned started = 0, t;
	int rc = 0;

	if (why != NULL)
		why->text[0] = '\0';
	if (n == 0)
		return 0;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	memset(&g, 0, sizeof(g));
	g.spans = spans;
	g.n = n;
	g.o = opts;
	g.nchunks = (n + CHUNK - 1) / CHUNK;
	g.nslots = 2 * ((batch + CHUNK - 1) / CHUNK) + 4 * nthreads;
	if (g.nslots > g.nchunks)
		g.nslots = g.nchunks;
	g.ring = malloc(g.nslots * sizeof(*g.ring));
	g.done = calloc(g.nslots, sizeof(*g.done));
	/* A batch may run past `batch` by up to one chunk. */
	p.recs = malloc((batch + CHUNK) * sizeof(*p.recs));
	p.index = malloc((batch + CHUNK) * sizeof(*p.index));
	p.res = malloc((batch + CHUNK) * sizeof(*p.res));
	if (g.ring == NULL || g.done == NULL || p.recs == NULL || p.index == NULL ||
	    p.res == NULL) {
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
	else
		rc = write_all(&g, st, &p, batch, why);
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
	free(p.recs);
	free(g.done);
	free(g.ring);
	return rc;
}
