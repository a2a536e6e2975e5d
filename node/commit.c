/*
 * commit.c - the commit pipeline (docs/PROTOCOL.md, "Sync"): batches of
 * records verified by verify.c, of every peer, wait here to be stored in
 * one write transaction when the commit's goal of records wait (from
 * SYNC_COMMIT_FIRST, doubling while a bulk transfer goes on, up to
 * SYNC_COMMIT_RECS) or SYNC_COMMIT_MS after the first (up to
 * SYNC_COMMIT_BULK_MS while more are being verified), so that a large sync
 * pays for one commit per thousands of records, and yet its first records
 * are stored and acknowledged soon. The commit runs on the thread pool,
 * one at a time, while the loop goes on reading and verifying. Only once
 * it is done are the records pushed on (gossip.c) and the recs
 * acknowledged: an ack promises the records are stored. Then each peer's
 * waiting messages are handled again through node->sync->resume (sync.c).
 * Batches are kept for reuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../storage/conflict.h"
#include "commit.h"

/*
 * A batch is about 100 KB, and every recs message takes one (and a copy of
 * its records) until they are stored, a few hundred at once during a
 * catch-up. Given back to malloc as each commit ends, they made the heap
 * shrink and grow again by megabytes, a page fault for each 4 KiB it grew
 * by, which virtual machines make dear (docs/BENCHMARKS.md, the machine).
 * So the node keeps them for the next messages, up to SYNC_SPARE_BYTES (not
 * all of a catch-up's: a hundred of them would stay with the process), and
 * frees them once a tick of the daemon passed without a batch taken
 * (mu_sync_commit_tick).
 */
static size_t
batch_bytes(const struct mu_sync_batch *b)
{
	return sizeof(*b) + b->copy_cap;
}

void
mu_sync_batch_free(struct mu_sync_batch *b)
{
	struct mu_sync_peer *p = b->p;
	struct mu_sync_commit *st = p->node->commit;

	if (st != NULL && st->spare_bytes + batch_bytes(b) <= SYNC_SPARE_BYTES) {
		b->next = st->spare;
		st->spare = b;
		st->nspare++;
		st->spare_bytes += batch_bytes(b);
	} else {
		free(b->copy);
		free(b);
	}
	mu_sync_release(p);
}

/* A batch for total bytes of records, spare or new; NULL when out of
 * memory. Only what on_recs does not set is reset. */
struct mu_sync_batch *
mu_sync_batch_new(struct mu_sync_commit *st, size_t total)
{
	struct mu_sync_batch *b;
	uint8_t *copy;

	if (st != NULL && st->spare != NULL) {
		b = st->spare;
		st->spare = b->next;
		st->nspare--;
		st->spare_bytes -= batch_bytes(b);
		b->next = NULL;
		b->verified = false;
		b->nkeep = 0;
		b->refused = 0;
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

static void
free_spares(struct mu_sync_commit *st)
{
	struct mu_sync_batch *b;

	while ((b = st->spare) != NULL) {
		st->spare = b->next;
		free(b->copy);
		free(b);
	}
	st->nspare = 0;
	st->spare_bytes = 0;
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
	struct mu_sync_commit *st = node->commit;

	if (st->commit == NULL)
		return;
	/* A bulk transfer: wait for more, for larger commits. */
	if (st->commit_recs < st->goal && more_coming(node) &&
	    uv_now(node->loop) - st->commit_first < SYNC_COMMIT_BULK_MS) {
		uv_timer_start(&st->commit_timer, on_commit_timer, SYNC_COMMIT_MS, 0);
		return;
	}
	commit_start(node);
}

bool
mu_sync_commit_full(const struct mu_sync_peer *p)
{
	const struct mu_sync_commit *st = p->node->commit;

	return p->uncommitted > 0 && st != NULL &&
	       st->commit_recs + st->storing_recs >= SYNC_COMMIT_HOLD;
}

/* Adds a verified batch to the commit, and has it committed soon. */
void
mu_sync_commit_join(struct mu_node *node, struct mu_sync_batch *b)
{
	struct mu_sync_commit *st = node->commit;

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
	if (st->commit_recs >= st->goal && st->commit_recs - b->nkeep < st->goal)
		uv_timer_start(&st->commit_timer, on_commit_timer, 0, 0);
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
			/* Held and revoked records are no fault of an honest
			 * sender (PROTOCOL.md 10.6); a kind its organizer may
			 * not publish is. */
			if (n < stored && results[n] == MU_PUT_NOT_ALLOWED &&
			    b->refused++ == 0)
				b->first_refused = b->keep[k];
			if (n >= stored || results[n] != MU_PUT_NEW)
				continue;
			memcpy(fresh[*nfresh].id, recs[n]->id, 32);
			fresh[*nfresh].kind = (uint8_t)recs[n]->kind;
			fresh[*nfresh].rec = recs[n];
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

/* Moves what waits to st->storing, to be stored. While more records are
 * being verified behind these, the next commit may wait for twice as many;
 * once none are, a transfer that starts again begins with small ones. */
static void
commit_take(struct mu_node *node, struct mu_sync_commit *st)
{
	if (!more_coming(node))
		st->goal = SYNC_COMMIT_FIRST;
	else if (st->goal < SYNC_COMMIT_RECS)
		st->goal =
		    2 * st->goal < SYNC_COMMIT_RECS ? 2 * st->goal : SYNC_COMMIT_RECS;
	st->storing = st->commit;
	st->storing_recs = st->commit_recs;
	st->commit = NULL;
	st->commit_tail = &st->commit;
	st->commit_recs = 0;
	st->commit_due = false;
	st->nfresh = 0;
	st->store_rc = 0;
	st->merged = 0;
	st->merge_rc = 0;
	st->fresh = NULL;
	if (st->timer_ok)
		uv_timer_stop(&st->commit_timer);
}

/*
 * Whether list keeps an edit of one of our group's records (new or
 * superseded alike: either may make a conflict): then a merge may be ours
 * to publish (docs/PROTOCOL.md 5.2).
 */
static bool
edits_ours(const struct mu_node *node, const struct mu_sync_batch *list)
{
	const struct mu_record *r;
	size_t k;

	if (node->home == NULL)
		return false;
	for (; list != NULL; list = list->next)
		for (k = 0; k < list->nkeep; k++) {
			r = &list->recs[list->keep[k]];
			if (r->has_replaces &&
			    memcmp(r->group, node->home->group, MU_KEY_BYTES) == 0)
				return true;
		}
	return false;
}

/*
 * Publishes the merges of our group's concurrent edits. The daemon forgot
 * the group key after its start (daemon.c): it is read from the home for
 * the moment it signs, and wiped again with the home it was read into.
 */
static int
merge_edits(struct mu_node *node, struct mu_sync_commit *st)
{
	struct mu_home *home = NULL;
	int rc;

	rc = mu_home_open(&home, node->opts.home, true, &st->merge_why);
	/* Signed as the home signs its edits: its organizer key, else (a home
	 * from before organizers) the root. */
	if (rc == 0 && home->org_secret != NULL)
		rc = mu_store_conflict_resolve(
		    node->store, home->group, home->organizer, home->org_secret,
		    (int64_t)time(NULL), &st->merged, &st->merge_why);
	else if (rc == 0 && home->secret != NULL)
		rc = mu_store_conflict_resolve(node->store, home->group, home->group,
		                               home->secret, (int64_t)time(NULL),
		                               &st->merged, &st->merge_why);
	mu_home_close(home);
	return rc;
}

/* Stores st->storing: on a pool thread, or on the loop for the stop. It
 * touches only the store and the batches being stored, which the loop
 * leaves alone meanwhile (it only reads them, in keep()). */
static void
commit_store(struct mu_node *node, struct mu_sync_commit *st)
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
	if (st->store_rc == 0 && edits_ours(node, st->storing))
		st->merge_rc = merge_edits(node, st);
}

static void
store_work(uv_work_t *w)
{
	struct mu_node *node = w->data;

	commit_store(node, node->commit);
}

/* Counts the records of b that the store found invalid against p, as
 * verify.c counts those that fail to parse: 1 when p is dropped for it. */
static int
charge_refused(struct mu_node *node, struct mu_sync_peer *p,
               const struct mu_sync_batch *b)
{
	const struct mu_node_limits *lim = &node->opts.limits;
	char hex[65];

	p->invalid += b->refused;
	node->report.rejected += b->refused;
	sodium_bin2hex(hex, sizeof(hex), b->recs[b->first_refused].signer, 32);
	mu_node_log(node, MU_LOG_WARN,
	            "peer %s: %u invalid records refused: organizer-kind: "
	            "organizer %s may not publish %s",
	            mu_conn_name(p->c), b->refused, hex,
	            mu_kind_name(b->recs[b->first_refused].kind));
	if (p->invalid <= lim->max_invalid)
		return 0;
	mu_dial_ban(node, mu_conn_ip(p->c));
	snprintf(hex, sizeof(hex), "sync: %u invalid records", p->invalid);
	mu_sync_fail(p, hex);
	return 1;
}

/* Back on the loop thread: logs, acks, pushes on, and frees st->storing. */
static void
commit_end(struct mu_node *node, struct mu_sync_commit *st)
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
	if (st->merge_rc != 0)
		mu_node_log(node, MU_LOG_WARN, "cannot merge concurrent edits: %s",
		            mu_why_or(&st->merge_why, st->merge_rc));
	else if (st->merged > 0)
		mu_node_log(node, MU_LOG_INFO,
		            "published the merge of concurrent edits of %zu record%s",
		            st->merged, st->merged == 1 ? "" : "s");
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
		if (b->refused > 0 && charge_refused(node, p, b) != 0)
			continue;
		if (b->req == 0)
			continue;
		node->sync->msg.len = 0;
		if (mu_wire_encode_ack(&node->sync->msg, b->req) != 0 ||
		    mu_sync_send_msg(p, &why) != 0)
			mu_sync_fail(p, "sync: cannot send an ack");
	}
	st->storing = NULL;
	st->storing_recs = 0;
	st->fresh = NULL;
	node->sync->committing = false;
	mu_sync_push_log(node, fresh, nfresh);
	free(fresh);
	while ((b = list) != NULL) {
		list = b->next;
		if (b->p->c != NULL && (list == NULL || list->p != b->p))
			node->sync->resume(b->p);
		mu_sync_batch_free(b);
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
	struct mu_sync_commit *st = node->commit;

	if (status != 0 && st->store_rc == 0)
		st->store_rc =
		    mu_fail(&st->store_why, MU_EIO, "sync: the commit was cancelled");
	commit_end(node, st);
	/* What arrived meanwhile: stored now if it was due. */
	if (st->commit != NULL && !node->stopping &&
	    (st->commit_due || st->commit_recs >= st->goal))
		commit_start(node);
}

/* Starts storing what waits, unless a commit is being stored: then it
 * starts when that one ends. */
static void
commit_start(struct mu_node *node)
{
	struct mu_sync_commit *st = node->commit;

	if (st->storing != NULL || st->commit == NULL) {
		st->commit_due = st->commit != NULL;
		return;
	}
	commit_take(node, st);
	st->store_work.data = node;
	if (st->storing_recs > 0 &&
	    uv_queue_work(node->loop, &st->store_work, store_work, store_done) == 0) {
		node->sync->committing = true;
		return;
	}
	/* Nothing to store (acks only), or no pool: here and now. */
	commit_store(node, st);
	store_done(&st->store_work, 0);
}

void
mu_sync_commit(struct mu_node *node)
{
	struct mu_sync_commit *st = node->commit;

	if (st == NULL || st->commit == NULL || st->storing != NULL)
		return;
	commit_take(node, st);
	commit_store(node, st);
	commit_end(node, st);
}

int
mu_sync_commit_open(struct mu_node *node)
{
	if (node->commit == NULL &&
	    (node->commit = calloc(1, sizeof(*node->commit))) == NULL)
		return MU_ENOMEM;
	node->commit->commit_tail = &node->commit->commit;
	node->commit->goal = SYNC_COMMIT_FIRST;
	return 0;
}

void
mu_sync_commit_close(struct mu_node *node)
{
	if (node->commit == NULL)
		return;
	free_spares(node->commit);
	free(node->commit);
	node->commit = NULL;
}

void
mu_sync_commit_tick(struct mu_node *node)
{
	struct mu_sync_commit *st = node->commit;

	if (st == NULL)
		return;
	if (!st->batch_taken)
		free_spares(st);
	st->batch_taken = false;
}

void
mu_sync_update_hold(struct mu_sync_peer *p)
{
	bool hold = p->nbatches >= SYNC_BATCHES_MAX || p->inq != NULL ||
	            p->acks_queued > SYNC_WANTS_HOLD || mu_sync_commit_full(p);

	if (p->c != NULL && hold != p->held) {
		p->held = hold;
		mu_conn_hold(p->c, hold);
	}
}
