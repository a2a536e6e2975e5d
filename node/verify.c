/*
 * verify.c - records arriving from a peer (docs/PROTOCOL.md, "Sync"): each
 * is fully validated (mu_rec_parse() with the current time) before it is
 * stored or relayed. Batches of more than SYNC_VERIFY_INLINE_MAX go to the
 * libuv thread pool, up to SYNC_BATCHES_MAX of one peer at once, whose
 * workers only parse their own copy of the bytes; smaller ones are checked
 * on the spot. Back on the loop thread, in the order they arrived, batches
 * are filtered by scope and join the commit: the verified batches of every
 * peer, stored in one write transaction when SYNC_COMMIT_RECS records wait
 * or SYNC_COMMIT_MS after the first (longer during a bulk transfer), so
 * that a large sync pays for one commit per thousands of records rather
 * than one per message. The commit runs on the pool too, while the loop
 * goes on reading and verifying. Only once it is done are the records
 * pushed on and the recs acknowledged: an ack promises the records are
 * stored.
 *
 * A peer's messages other than recs wait (sync.c) until its batches before
 * them are verified, so an ack that follows records is never handled
 * before them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../storage/local.h"
#include "sync.h"

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
};

/*
 * A batch is about 100 KB, and every recs message takes one (and a copy of
 * its records) until they are stored, a few hundred at once during a
 * catch-up. Given back to malloc as each commit ends, they made the heap
 * shrink and grow again by megabytes, a page fault for each 4 KiB it grew
 * by: 8-16 us apiece on the virtual machines of docs/BENCHMARKS.md. So the
 * node keeps them for the next messages, and frees them once a tick of the
 * daemon passed without a batch taken (mu_sync_tick).
 */
static void
batch_free(struct mu_sync_batch *b)
{
	struct mu_sync_peer *p = b->p;
	struct mu_sync_state *st = p->node->sync;

	if (st != NULL && st->nspare < SYNC_SPARE_MAX) {
		b->next = st->spare;
		st->spare = b;
		st->nspare++;
	} else {
		free(b->copy);
		free(b);
	}
	mu_sync_release(p);
}

/* A batch for total bytes of records, spare or new; NULL when out of
 * memory. Only what on_recs does not set is reset. */
static struct mu_sync_batch *
batch_new(struct mu_sync_state *st, size_t total)
{
	struct mu_sync_batch *b;
	uint8_t *copy;

	if (st != NULL && st->spare != NULL) {
		b = st->spare;
		st->spare = b->next;
		st->nspare--;
		b->next = NULL;
		b->verified = false;
		b->nkeep = 0;
	} else if ((b = calloc(1, sizeof(*b))) == NULL) {
		return NULL;
	}
	if (total > b->copy_cap) {
		if ((copy = realloc(b->copy, total)) == NULL) {
			free(b->copy);
			free(b);
			return NULL;
		}
		b->copy = copy;
		b->copy_cap = total;
	}
	if (st != NULL)
		st->batch_taken = true;
	return b;
}

void
mu_sync_free_spares(struct mu_sync_state *st)
{
	struct mu_sync_batch *b;

	while ((b = st->spare) != NULL) {
		st->spare = b->next;
		free(b->copy);
		free(b);
	}
	st->nspare = 0;
}

/* Pure: runs on a pool thread for large batches. Every rule but the clock
 * first, so that a record refused only for its date is one that will pass
 * once its time comes, and a forged one with a date ahead counts as the
 * forgery it is. */
static void
verify(struct mu_sync_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->rc[i] = mu_rec_parse(&b->recs[i], b->ptr[i], b->len[i], b->now,
		                        MU_PARSE_NOCLOCK, &b->why[i]);
		b->early[i] = b->rc[i] == 0 &&
		              mu_rec_check_future(&b->recs[i], b->now, &b->why[i]) != 0;
		if (b->early[i])
			b->rc[i] = MU_ERECORD;
	}
}

static void
verify_work(uv_work_t *w)
{
	verify(w->data);
}

/* Whether b holds an alliance of group naming us that passed (j < upto). */
static bool
batch_proposes(const struct mu_sync_batch *b, size_t upto, const uint8_t *group,
               const uint8_t *us)
{
	size_t j;

	for (j = 0; j < upto; j++)
		if (b->rc[j] == 0 && b->recs[j].kind == MU_KIND_ALLIANCE &&
		    memcmp(b->recs[j].group, group, 32) == 0 &&
		    memcmp(b->recs[j].c.alliance.with, us, 32) == 0)
			return true;
	return false;
}

/* Whether a record outside our scope is still ours to keep: an alliance
 * naming us, its tombstone, or the profile of a group that proposes to us
 * (in our store, in this batch, or in one waiting for the commit). */
static bool
keep(struct mu_node *node, const struct mu_sync_batch *b, size_t i)
{
	const struct mu_record *rec = &b->recs[i];
	const uint8_t *us = node->identity->group;
	const struct mu_sync_batch *c;

	if (mu_scope_has(node->scope, rec->group))
		return true;
	switch (rec->kind) {
	case MU_KIND_ALLIANCE:
		return memcmp(rec->c.alliance.with, us, 32) == 0;
	case MU_KIND_DELETE:
		return mu_sync_unproposes(rec, us);
	case MU_KIND_PROFILE:
		if (batch_proposes(b, b->n, rec->group, us))
			return true;
		for (c = mu_sync_state(node)->commit; c != NULL; c = c->next)
			if (batch_proposes(c, c->n, rec->group, us))
				return true;
		for (c = mu_sync_state(node)->storing; c != NULL; c = c->next)
			if (batch_proposes(c, c->n, rec->group, us))
				return true;
		return mu_sync_proposes(node, rec->group, us);
	default:
		return false;
	}
}

static void commit_start(struct mu_node *node);

/* Whether records of some peer are still being verified: more follow. */
static bool
more_coming(struct mu_node *node)
{
	struct mu_sync_peer *p;
	struct mu_conn *c;

	for (c = node->conns; c != NULL; c = mu_conn_next(c))
		if ((p = mu_conn_sync(c)) != NULL && p->nbatches > 0)
			return true;
	return false;
}

static void
on_commit_timer(uv_timer_t *t)
{
	struct mu_node *node = t->data;
	struct mu_sync_state *st = node->sync;

	if (st->commit == NULL)
		return;
	/* A bulk transfer: wait for more, for larger commits. */
	if (st->commit_recs < SYNC_COMMIT_RECS && more_coming(node) &&
	    uv_now(node->loop) - st->commit_first < SYNC_COMMIT_BULK_MS) {
		uv_timer_start(&st->commit_timer, on_commit_timer, SYNC_COMMIT_MS, 0);
		return;
	}
	commit_start(node);
}

bool
mu_sync_commit_full(const struct mu_sync_peer *p)
{
	const struct mu_sync_state *st = p->node->sync;

	return p->uncommitted > 0 && st != NULL &&
	       st->commit_recs + st->storing_recs >= SYNC_COMMIT_HOLD;
}

/* Adds a verified batch to the commit, and has it committed soon. */
static void
join_commit(struct mu_node *node, struct mu_sync_batch *b)
{
	struct mu_sync_state *st = node->sync;

	b->next = NULL;
	if (st->commit == NULL) {
		st->commit_tail = &st->commit;
		st->commit_first = uv_now(node->loop);
		if (!st->timer_ok) {
			uv_timer_init(node->loop, &st->commit_timer);
			st->commit_timer.data = node;
			st->timer_ok = true;
		}
		uv_timer_start(&st->commit_timer, on_commit_timer, SYNC_COMMIT_MS, 0);
	}
	*st->commit_tail = b;
	st->commit_tail = &b->next;
	st->commit_recs += b->nkeep;
	b->p->uncommitted++;
	/* From the loop, not from here: a commit handles the peers' waiting
	 * messages, and one of them may be the caller. */
	if (st->commit_recs >= SYNC_COMMIT_RECS &&
	    st->commit_recs - b->nkeep < SYNC_COMMIT_RECS)
		uv_timer_start(&st->commit_timer, on_commit_timer, 0, 0);
}

/* Remembers the id of a record p sent that is refused only for its date,
 * to ask p for it again once due: in the list, or in place of the one due
 * last when that one is due later. */
static void
remember_early(struct mu_sync_peer *p, const struct mu_record *rec)
{
	int64_t due = rec->created_at - MU_FUTURE_SLACK;
	size_t i, last = 0;

	if (p->early == NULL &&
	    (p->early = malloc(SYNC_EARLY_MAX * sizeof(*p->early))) == NULL)
		return; /* the next reconciliation brings it */
	for (i = 0; i < p->nearly; i++) {
		if (memcmp(p->early[i].id, rec->id, 32) == 0)
			return;
		if (p->early[i].due > p->early[last].due)
			last = i;
	}
	if (p->nearly < SYNC_EARLY_MAX)
		i = p->nearly++;
	else if (due < p->early[last].due)
		i = last;
	else
		return;
	memcpy(p->early[i].id, rec->id, 32);
	p->early[i].due = due;
}

int
mu_sync_early_due(struct mu_sync_peer *p, int64_t now)
{
	size_t i = 0;
	int found = 0;

	while (i < p->nearly) {
		if (p->early[i].due > now) {
			i++;
			continue;
		}
		if (mu_sync_need(p, p->early[i].id) != 0)
			return MU_ENOMEM;
		p->early[i] = p->early[--p->nearly];
		found = 1;
	}
	return found;
}

/* A batch, verified, on the loop thread: counts, bans, scope; then it
 * joins the commit (or is done, when it holds nothing to store or ack). */
static int
finish(struct mu_sync_peer *p, struct mu_sync_batch *b, struct mu_why *why)
{
	struct mu_node *node = p->node;
	const struct mu_node_limits *lim = &node->opts.limits;
	size_t i, outside = 0, early = 0, first = 0;

	p->received += b->n;
	node->report.received += b->n;
	for (i = 0; i < b->n; i++) {
		if (b->early[i]) {
			/* Refused without penalty: the sender's clock, or ours,
			 * is off, or the record was relayed near the limit. */
			if (early++ == 0)
				first = i;
			remember_early(p, &b->recs[i]);
			continue;
		}
		if (b->rc[i] != 0) {
			p->invalid++;
			node->report.rejected++;
			mu_node_log(node, MU_LOG_WARN,
			            "peer %s: invalid record refused: %s",
			            mu_conn_name(p->c), b->why[i].text);
			continue;
		}
		if (!keep(node, b, i)) {
			outside++;
			continue;
		}
		b->keep[b->nkeep++] = (uint8_t)i;
	}
	if (p->invalid > lim->max_invalid) {
		mu_dial_ban(node, mu_conn_ip(p->c));
		return mu_fail(why, MU_ERECORD,
		               "sync: %u invalid records from %s; refused for %u s",
		               p->invalid, mu_conn_name(p->c), lim->ban_ms / 1000);
	}
	if (outside > 0)
		mu_node_log(node, MU_LOG_DEBUG,
		            "peer %s: %zu records outside our scope",
		            mu_conn_name(p->c), outside);
	if (early > 0) {
		node->report.early += early;
		mu_node_log(node, MU_LOG_INFO,
		            "peer %s: %zu records dated ahead refused until their "
		            "time comes (not counted as invalid; they are asked "
		            "for again then): %s",
		            mu_conn_name(p->c), early, b->why[first].text);
	}
	mu_sync_progress(node);
	if (b->nkeep == 0 && b->req == 0) {
		batch_free(b);
		return 0;
	}
	join_commit(node, b);
	return 0;
}

/* Finishes p's verified batches at the head of its queue, in order. */
static int
drain(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_batch *b;
	int rc;

	while ((b = p->batches) != NULL && b->verified && p->c != NULL) {
		if ((p->batches = b->next) == NULL)
			p->batches_tail = &p->batches;
		p->nbatches--;
		if ((rc = finish(p, b, why)) != 0) {
			batch_free(b);
			return rc;
		}
	}
	return 0;
}

static void
verify_done(uv_work_t *w, int status)
{
	struct mu_sync_batch *b = w->data;
	struct mu_sync_peer *p = b->p;
	struct mu_why why;

	/* Set here, on the loop thread, so that drain() never takes a batch
	 * whose callback is still to come. */
	b->verified = true;
	if (status != 0) {
		/* Cancelled: the loop is stopping; nothing is stored. */
		b->n = 0;
		b->req = 0;
	}
	if (p->c == NULL) {
		mu_sync_drop_batches(p); /* b among them */
		return;
	}
	mu_sync_hold(p);
	if (drain(p, &why) != 0)
		mu_sync_fail(p, why.text);
	else
		mu_sync_resume(p);
	mu_sync_release(p);
}

void
mu_sync_drop_batches(struct mu_sync_peer *p)
{
	struct mu_sync_batch *b, **link = &p->batches;

	mu_sync_hold(p);
	/* Batches still on the pool are freed when they come back. */
	while ((b = *link) != NULL) {
		if (!b->verified) {
			link = &b->next;
			continue;
		}
		*link = b->next;
		p->nbatches--;
		batch_free(b);
	}
	p->batches_tail = link;
	mu_sync_release(p);
}

static int
fresh_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mu_sync_fresh *)a)->id,
	              ((const struct mu_sync_fresh *)b)->id, 32);
}

/* Stores the records of list, in one transaction unless the disk is full
 * (mu_store_put_fit); fills fresh with those stored as new. MU_EFULL when
 * some did not fit: fresh then has those that did. */
static int
store_list(struct mu_node *node, struct mu_sync_batch *list, size_t total,
           struct mu_sync_fresh *fresh, size_t *nfresh, struct mu_why *why)
{
	const struct mu_record **recs = calloc(total, sizeof(*recs));
	enum mu_put_result *results = malloc(total * sizeof(*results));
	struct mu_sync_batch *b;
	size_t n = 0, k, stored = 0;
	int rc;

	if (recs == NULL || results == NULL) {
		rc = mu_fail(why, MU_ENOMEM, "sync: out of memory");
		goto out;
	}
	for (b = list; b != NULL; b = b->next)
		for (k = 0; k < b->nkeep; k++)
			recs[n++] = &b->recs[b->keep[k]];
	rc = mu_store_put_fit(node->store, recs, n, results, &stored, why);
	if (rc != 0 && rc != MU_EFULL)
		goto out;
	n = 0;
	for (b = list; b != NULL; b = b->next)
		for (k = 0; k < b->nkeep; k++, n++) {
			if (n >= stored || results[n] != MU_PUT_NEW)
				continue;
			memcpy(fresh[*nfresh].id, recs[n]->id, 32);
			fresh[*nfresh].kind = (uint8_t)recs[n]->kind;
			fresh[(*nfresh)++].from = b->p;
		}
	qsort(fresh, *nfresh, sizeof(*fresh), fresh_cmp);
out:
	free(recs);
	free(results);
	return rc;
}

/* At debug level, one line per new record: when it arrived, and whence. */
static void
log_fresh(struct mu_node *node, const struct mu_sync_fresh *fresh, size_t n)
{
	char hex[65];
	size_t i;

	for (i = 0; i < n; i++) {
		sodium_bin2hex(hex, sizeof(hex), fresh[i].id, 32);
		mu_node_log(node, MU_LOG_DEBUG, "new record %s from %s", hex,
		            fresh[i].from->c != NULL ? mu_conn_name(fresh[i].from->c)
		                                     : "a closed connection");
	}
}

/* Moves what waits to st->storing, to be stored. */
static void
commit_take(struct mu_sync_state *st)
{
	st->storing = st->commit;
	st->storing_recs = st->commit_recs;
	st->commit = NULL;
	st->commit_tail = &st->commit;
	st->commit_recs = 0;
	st->commit_due = false;
	st->nfresh = 0;
	st->store_rc = 0;
	st->fresh = NULL;
	if (st->timer_ok)
		uv_timer_stop(&st->commit_timer);
}

/* Stores st->storing: on a pool thread, or on the loop for the stop. It
 * touches only the store and the batches being stored, which the loop
 * leaves alone meanwhile (it only reads them, in keep()). */
static void
commit_store(struct mu_node *node, struct mu_sync_state *st)
{
	size_t total = st->storing_recs;

	if (total == 0)
		return;
	if ((st->fresh = malloc(total * sizeof(*st->fresh))) == NULL)
		st->store_rc =
		    mu_fail(&st->store_why, MU_ENOMEM, "sync: out of memory");
	else
		st->store_rc = store_list(node, st->storing, total, st->fresh,
		                          &st->nfresh, &st->store_why);
}

static void
store_work(uv_work_t *w)
{
	struct mu_node *node = w->data;

	commit_store(node, node->sync);
}

/* Back on the loop thread: logs, acks, pushes on, and frees st->storing. */
static void
commit_end(struct mu_node *node, struct mu_sync_state *st)
{
	struct mu_sync_batch *list = st->storing, *b;
	size_t total = st->storing_recs, nfresh = st->nfresh;
	struct mu_sync_fresh *fresh = st->fresh;
	int rc = st->store_rc;
	struct mu_sync_peer *p;
	struct mu_conn *c;
	struct mu_why why;
	char what[64];

	if (rc == MU_EFULL) {
		/* Refused, not lost: the senders still have them and offer
		 * them again at their next reconciliation. The peers stay, to
		 * be served what is stored. */
		snprintf(what, sizeof(what), "%zu records from peers", total);
		mu_node_store_full(node, what, st->store_why.text);
		rc = 0;
	} else if (rc != 0) {
		mu_node_log(node, MU_LOG_ERROR, "cannot store %zu records: %s", total,
		            st->store_why.text);
	} else if (total > 0) {
		mu_node_store_ok(node);
	}
	node->report.stored += nfresh;
	if (nfresh > 0)
		mu_node_log(node, MU_LOG_DEBUG, "stored %zu new records of %zu", nfresh,
		            total);
	if (node->opts.log_level >= MU_LOG_DEBUG)
		log_fresh(node, fresh, nfresh);
	mu_sync_asked_done(node, fresh, nfresh);
	/* Acks only once what is kept is stored (mu_store_put() returns once
	 * the commit is on disk: the store sets neither MDB_NOSYNC nor
	 * MDB_NOMETASYNC), or refused for a full store; a peer whose records
	 * could not be stored otherwise is dropped, and sends them again when
	 * it comes back. */
	for (b = list; b != NULL; b = b->next) {
		p = b->p;
		p->uncommitted--;
		if (p->c == NULL)
			continue;
		if (rc != 0) {
			mu_sync_fail(p, "sync: cannot store its records");
			continue;
		}
		if (b->req == 0)
			continue;
		st->msg.len = 0;
		if (mu_wire_encode_ack(&st->msg, b->req) != 0 ||
		    mu_sync_send_msg(p, &why) != 0)
			mu_sync_fail(p, "sync: cannot send an ack");
	}
	st->storing = NULL;
	st->storing_recs = 0;
	st->fresh = NULL;
	mu_sync_push_log(node, fresh, nfresh);
	free(fresh);
	while ((b = list) != NULL) {
		list = b->next;
		if (b->p->c != NULL && (list == NULL || list->p != b->p))
			mu_sync_resume(b->p);
		batch_free(b);
	}
	/* Peers held for the records waiting may be read again. */
	for (c = node->conns; c != NULL; c = mu_conn_next(c))
		if ((p = mu_conn_sync(c)) != NULL && p->held)
			mu_sync_update_hold(p);
}

static void
store_done(uv_work_t *w, int status)
{
	struct mu_node *node = w->data;
	struct mu_sync_state *st = node->sync;

	if (status != 0 && st->store_rc == 0)
		st->store_rc =
		    mu_fail(&st->store_why, MU_EIO, "sync: the commit was cancelled");
	commit_end(node, st);
	/* What arrived meanwhile: stored now if it was due. */
	if (st->commit != NULL && !node->stopping &&
	    (st->commit_due || st->commit_recs >= SYNC_COMMIT_RECS))
		commit_start(node);
}

/* Starts storing what waits, unless a commit is being stored: then it
 * starts when that one ends. */
static void
commit_start(struct mu_node *node)
{
	struct mu_sync_state *st = node->sync;

	if (st->storing != NULL || st->commit == NULL) {
		st->commit_due = st->commit != NULL;
		return;
	}
	commit_take(st);
	st->store_work.data = node;
	if (st->storing_recs > 0 &&
	    uv_queue_work(node->loop, &st->store_work, store_work, store_done) == 0)
		return;
	/* Nothing to store (acks only), or no pool: here and now. */
	commit_store(node, st);
	store_done(&st->store_work, 0);
}

void
mu_sync_commit(struct mu_node *node)
{
	struct mu_sync_state *st = node->sync;

	if (st == NULL || st->commit == NULL || st->storing != NULL)
		return;
	commit_take(st);
	commit_store(node, st);
	commit_end(node, st);
}

int
mu_sync_on_recs(struct mu_sync_peer *p, const struct mu_wire_msg *m, struct mu_why *why)
{
	struct mu_node *node = p->node;
	unsigned max = node->opts.limits.max_recs_per_frame;
	struct mu_sync_batch *b;
	size_t i, total = 0, off = 0;
	int rc;

	if (m->nrecs > max)
		return mu_fail(why, MU_EFORMAT,
		               "sync: recs of %zu records, more than %u", m->nrecs,
		               max);
	if (m->nrecs == 0 && m->req == 0)
		return 0;
	for (i = 0; i < m->nrecs; i++)
		total += m->recs[i].len;
	if ((b = batch_new(node->sync, total)) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	b->p = p;
	mu_sync_hold(p);
	b->req = m->req;
	b->now = mu_home_now();
	b->n = m->nrecs;
	for (i = 0; i < b->n; off += m->recs[i].len, i++) {
		memcpy(b->copy + off, m->recs[i].ptr, m->recs[i].len);
		b->ptr[i] = b->copy + off;
		b->len[i] = m->recs[i].len;
	}
	*p->batches_tail = b;
	p->batches_tail = &b->next;
	p->nbatches++;
	if (b->n <= SYNC_VERIFY_INLINE_MAX) {
		verify(b);
		b->verified = true;
		return drain(p, why);
	}
	b->work.data = b;
	if ((rc = uv_queue_work(node->loop, &b->work, verify_work, verify_done)) != 0) {
		b->verified = true; /* never queued: dropped with the connection */
		return mu_fail(why, MU_ENOMEM, "sync: cannot queue record checks: %s",
		               uv_strerror(rc));
	}
	mu_sync_update_hold(p);
	return 0;
}
