/*
 * verify.c - records arriving from a peer (docs/PROTOCOL.md, "Sync"): each
 * is fully validated (mu_rec_parse() with the current time) before it is
 * stored or relayed; batches of more than SYNC_VERIFY_INLINE_MAX go to the
 * libuv thread pool, whose worker only parses its own copy of the bytes.
 * Back on the loop thread the batch is filtered by scope, stored in one
 * write transaction, pushed on to the other peers, and acknowledged.
 *
 * While a batch is on the pool the peer is not read (mu_conn_hold) and what
 * was already read waits in order (sync.c), so an ack that follows records
 * is never handled before them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../storage/local.h"
#include "sync.h"

struct batch {
	uv_work_t work;
	struct mu_sync_peer *p;
	uint64_t req;
	int64_t now;
	size_t n;
	const uint8_t *ptr[MU_WIRE_RECS_MAX]; /* into the message or into copy */
	size_t len[MU_WIRE_RECS_MAX];
	uint8_t *copy; /* pool batches: the records' bytes, owned */
	int rc[MU_WIRE_RECS_MAX];
	struct mu_why why[MU_WIRE_RECS_MAX];
	struct mu_record recs[MU_WIRE_RECS_MAX];
};

static void
batch_free(struct batch *b)
{
	free(b->copy);
	free(b);
}

/* Pure: runs on a pool thread for large batches. */
static void
verify(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		b->rc[i] = mu_rec_parse(&b->recs[i], b->ptr[i], b->len[i], b->now, 0,
		                        &b->why[i]);
}

static void
verify_work(uv_work_t *w)
{
	verify(w->data);
}

/* Whether a record outside our scope is still ours to keep: an alliance
 * naming us, its tombstone, or the profile of a group that proposes to us
 * (in our store or in this batch). */
static bool
keep(struct mu_node *node, const struct batch *b, size_t i)
{
	const struct mu_record *rec = &b->recs[i];
	const uint8_t *us = node->identity->group;
	size_t j;

	if (mu_scope_has(node->scope, rec->group))
		return true;
	switch (rec->kind) {
	case MU_KIND_ALLIANCE:
		return memcmp(rec->c.alliance.with, us, 32) == 0;
	case MU_KIND_DELETE:
		return mu_sync_unproposes(rec, us);
	case MU_KIND_PROFILE:
		for (j = 0; j < b->n; j++)
			if (b->rc[j] == 0 && b->recs[j].kind == MU_KIND_ALLIANCE &&
			    memcmp(b->recs[j].group, rec->group, 32) == 0 &&
			    memcmp(b->recs[j].c.alliance.with, us, 32) == 0)
				return true;
		return mu_sync_proposes(node, rec->group, us);
	default:
		return false;
	}
}

/* The rest of a batch, on the loop thread, after verification. */
static int
finish(struct mu_sync_peer *p, struct batch *b, struct mu_why *why)
{
	struct mu_node *node = p->node;
	const struct mu_node_limits *lim = &node->opts.limits;
	const struct mu_record *keep_recs[MU_WIRE_RECS_MAX];
	enum mu_put_result results[MU_WIRE_RECS_MAX];
	uint8_t fresh[MU_WIRE_RECS_MAX][32];
	size_t i, nkeep = 0, nfresh = 0, outside = 0;
	struct mu_sync_state *st = node->sync;
	char what[128];
	int rc;

	p->received += b->n;
	node->report.received += b->n;
	for (i = 0; i < b->n; i++) {
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
		keep_recs[nkeep++] = &b->recs[i];
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
	if (nkeep > 0) {
		/* mu_store_put() returns once the commit is on disk (LMDB
		 * syncs every commit: the store sets neither MDB_NOSYNC nor
		 * MDB_NOMETASYNC), so the ack below never precedes it. */
		rc = mu_store_put(node->store, keep_recs, nkeep, results, why);
		if (rc == MU_EFULL) {
			/* Refused, not lost: the sender still has them and
			 * offers them again at its next reconciliation. */
			snprintf(what, sizeof(what), "%zu records from peer %s", nkeep,
			         mu_conn_name(p->c));
			mu_node_store_full(node, what, why->text);
			nkeep = 0;
		} else if (rc != 0) {
			return rc; /* why says what is wrong with the store */
		} else {
			mu_node_store_ok(node);
		}
		for (i = 0; i < nkeep; i++) {
			if (results[i] != MU_PUT_NEW)
				continue;
			memcpy(fresh[nfresh++], keep_recs[i]->id, 32);
		}
		node->report.stored += nfresh;
	}
	if (nfresh > 0) {
		mu_node_log(node, MU_LOG_DEBUG, "peer %s: %zu new records of %zu",
		            mu_conn_name(p->c), nfresh, b->n);
		mu_sync_push_log(node, p, (const uint8_t(*)[32])fresh, nfresh);
	}
	mu_sync_progress(node);
	if (b->req != 0 && p->c != NULL) {
		st->msg.len = 0;
		if ((rc = mu_wire_encode_ack(&st->msg, b->req)) != 0)
			return mu_fail(why, rc, "sync: out of memory");
		return mu_sync_send_msg(p, why);
	}
	return 0;
}

static void
verify_done(uv_work_t *w, int status)
{
	struct batch *b = w->data;
	struct mu_sync_peer *p = b->p;
	struct mu_why why;
	int rc = 0;

	p->busy = false;
	if (p->c != NULL) {
		if (status != 0)
			rc = mu_fail(&why, MU_EIO, "sync: record check cancelled");
		else
			rc = finish(p, b, &why);
		if (rc != 0)
			mu_sync_fail(p, why.text);
		else
			mu_sync_resume(p);
	}
	batch_free(b);
	mu_sync_release(p); /* the batch's hold */
}

int
mu_sync_on_recs(struct mu_sync_peer *p, const struct mu_wire_msg *m, struct mu_why *why)
{
	struct mu_node *node = p->node;
	unsigned max = node->opts.limits.max_recs_per_frame;
	struct batch *b;
	size_t i, total = 0, off = 0;
	int rc;

	if (m->nrecs > max)
		return mu_fail(why, MU_EFORMAT,
		               "sync: recs of %zu records, more than %u", m->nrecs,
		               max);
	if (m->nrecs == 0 && m->req == 0)
		return 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	b->p = p;
	b->req = m->req;
	b->now = time(NULL);
	b->n = m->nrecs;
	if (b->n <= SYNC_VERIFY_INLINE_MAX) {
		for (i = 0; i < b->n; i++) {
			b->ptr[i] = m->recs[i].ptr;
			b->len[i] = m->recs[i].len;
		}
		verify(b);
		rc = finish(p, b, why);
		batch_free(b);
		return rc;
	}
	for (i = 0; i < b->n; i++)
		total += m->recs[i].len;
	if ((b->copy = malloc(total)) == NULL) {
		batch_free(b);
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	}
	for (i = 0; i < b->n; off += m->recs[i].len, i++) {
		memcpy(b->copy + off, m->recs[i].ptr, m->recs[i].len);
		b->ptr[i] = b->copy + off;
		b->len[i] = m->recs[i].len;
	}
	b->work.data = b;
	if ((rc = uv_queue_work(node->loop, &b->work, verify_work, verify_done)) != 0) {
		batch_free(b);
		return mu_fail(why, MU_ENOMEM, "sync: cannot queue record checks: %s",
		               uv_strerror(rc));
	}
	p->busy = true;
	mu_sync_hold(p);
	mu_sync_update_hold(p);
	return 0;
}
