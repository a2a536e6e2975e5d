/*
 * peer.c - what every sync file builds on (docs/PROTOCOL.md, "Sync"): the
 * node-wide sync state, a peer's life (hold, release, fail), sending a
 * message, hello and negentropy, request numbers, the queue of ids to ask
 * for, and starting a reconciliation. It calls only conn.c and the layers
 * below node/: gossip.c, commit.c, verify.c and sync.c are built on it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../storage/local.h"
#include "sync.h"

#define AGENT "muster"

static uint64_t
now_ms(struct mu_node *node)
{
	return uv_now(node->loop);
}

/* --- node-wide state ---------------------------------------------------- */

int
mu_sync_open(struct mu_node *node, struct mu_why *why)
{
	struct mu_sync_state *st;
	int rc;

	if (node->sync != NULL)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	if (node->scope == NULL && (node->scope = mu_scope_new()) == NULL) {
		free(st);
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	}
	/* From the scope's walk on; without /proc the pages stay mapped:
	 * memory, never data. Not for a one-shot sync, which ends anyway:
	 * catching up inserts all over the store's indexes, whose pages it
	 * would fault in again after every give-back (docs/BENCHMARKS.md,
	 * "Serve RSS"). */
	if (!node->once &&
	    mu_store_set_map_budget(node->store, MU_STORE_MAP_BUDGET) != 0)
		mu_node_log(node, MU_LOG_DEBUG,
		            "store: /proc/self/statm is unreadable; the map's pages "
		            "are not given back");
	rc = mu_store_scope(node->store, node->identity->group, node->opts.hops,
	                    node->scope);
	if (rc == 0) {
		mu_sync_note_outside(node);
		rc = mu_store_log_last(node->store, &node->log_seq);
	}
	if (rc != 0) {
		free(st);
		return mu_fail(why, rc,
		               "sync: cannot read the scope or the store log: %s",
		               mu_strerror(rc));
	}
	node->sync = st;
	st->progress_ms = now_ms(node); /* the first progress line after 1 s */
	mu_node_log(node, MU_LOG_INFO, "scope: %zu groups (hops %d)", node->scope->n,
	            node->opts.hops);
	return 0;
}

void
mu_sync_close(struct mu_node *node)
{
	struct mu_sync_state *st = node->sync;

	if (st != NULL) {
		free(st->asked);
		free(st->damaged);
		mu_buf_free(&st->msg);
		mu_buf_free(&st->recs);
		mu_buf_free(&st->neg);
		free(st);
		node->sync = NULL;
	}
	mu_scope_free(node->scope);
	node->scope = NULL;
}

struct mu_sync_state *
mu_sync_state(struct mu_node *node)
{
	return node->sync;
}

void
mu_sync_progress(struct mu_node *node)
{
	struct mu_sync_state *st = node->sync;
	uint64_t t = now_ms(node);

	if (!node->once || st == NULL)
		return;
	if (t - st->progress_ms < 1000)
		return;
	st->progress_ms = t;
	fprintf(stderr,
	        "sync: received %" PRIu64 " records (%" PRIu64 " new), sent %" PRIu64
	        "\n",
	        node->report.received, node->report.stored, node->report.sent);
}

/* --- a peer's life ------------------------------------------------------- */

void
mu_sync_neg_reset(struct mu_sync_peer *p)
{
	mu_neg_free(p->neg);
	mu_store_fp_view_free(p->fpv);
	p->fpv = NULL;
	free(p->items);
	free(p->seqs);
	p->neg = NULL;
	p->items = NULL;
	p->seqs = NULL;
	p->nitems = 0;
	p->reconciling = false;
}

static void
peer_free(struct mu_sync_peer *p)
{
	struct mu_sync_inmsg *m;

	mu_sync_neg_reset(p);
	if (p->neg_parked != NULL)
		free(p->neg_parked->m);
	free(p->neg_parked);
	mu_buf_free(&p->neg_reply);
	while ((m = p->inq) != NULL) {
		p->inq = m->next;
		free(m->m);
		free(m);
	}
	mu_scope_free(p->scope);
	mu_store_fp_view_free(p->rview);
	free(p->ranges);
	free(p->listed.v);
	free(p->need.v);
	free(p->early);
	free(p->out.v);
	free(p->pending);
	free(p);
}

void
mu_sync_hold(struct mu_sync_peer *p)
{
	p->refs++;
}

void
mu_sync_release(struct mu_sync_peer *p)
{
	if (--p->refs == 0 && p->c == NULL)
		peer_free(p);
}

void
mu_sync_fail(struct mu_sync_peer *p, const char *why)
{
	if (p->c != NULL)
		mu_conn_close(p->c, why);
}

/* --- sending -------------------------------------------------------------- */

int
mu_sync_send_msg(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	int rc;

	if (p->c == NULL)
		return mu_fail(why, MU_EIO, "sync: the connection is closed");
	if ((rc = mu_conn_send(p->c, st->msg.data, st->msg.len)) != 0)
		return mu_fail(why, rc, "sync: cannot send to %s: %s",
		               mu_conn_name(p->c), mu_strerror(rc));
	return 0;
}

int
mu_sync_send_hello(struct mu_sync_peer *p, bool full, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	const uint8_t *group = mu_conn_peer_group(p->c);
	uint8_t digest[MU_WIRE_DIGEST_BYTES];
	struct mu_hello_peer hp;
	int rc;

	mu_wire_scope_digest(p->node->scope, digest);
	/* Unreadable is unknown: the full scope is always understood. */
	if (group == NULL || mu_store_hello_get(p->node->store, group, &hp, NULL) != 0)
		memset(&hp, 0, sizeof(hp));
	if (!hp.digests || !hp.has_sent || memcmp(hp.sent, digest, sizeof(digest)))
		full = true;
	st->msg.len = 0;
	rc = mu_wire_encode_hello_digest(&st->msg, AGENT, strlen(AGENT), p->node->scope,
	                                 full, (uint64_t)mu_home_now());
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot encode hello: %s",
		               mu_strerror(rc));
	if ((rc = mu_sync_send_msg(p, why)) != 0)
		return rc;
	p->sent_short = !full;
	if (!full)
		return 0;
	p->sent_full = true;
	memcpy(p->sent_digest, digest, sizeof(digest));
	if (hp.digests && (!hp.has_sent || memcmp(hp.sent, digest, sizeof(digest)))) {
		hp.has_sent = true;
		memcpy(hp.sent, digest, sizeof(digest));
		mu_sync_hello_note(p, &hp, NULL);
	}
	return 0;
}

void
mu_sync_hello_note(struct mu_sync_peer *p, const struct mu_hello_peer *hp,
                   const struct mu_scope *scope)
{
	const uint8_t *group = mu_conn_peer_group(p->c);

	/* Best effort: what is not remembered costs a full hello. */
	if (group != NULL &&
	    mu_store_hello_put(p->node->store, group, hp, scope, mu_home_now()) != 0)
		mu_node_log(p->node, MU_LOG_DEBUG,
		            "peer %s: what its hello said is not saved",
		            mu_conn_name(p->c));
}

uint64_t
mu_sync_req(struct mu_sync_peer *p, bool want)
{
	if (mu_buf_grow_array(&p->pending, &p->cappending, p->npending + 1,
	                      sizeof(*p->pending), 16) != 0)
		return 0;
	p->pending[p->npending].req = p->next_req;
	p->pending[p->npending].want = want;
	p->npending++;
	if (want)
		p->wants_pending++;
	return p->next_req++;
}

/* --- reconciliation ------------------------------------------------------ */

/* Items over our scope ∩ the peer's: both sides compute the same set. */
int
mu_sync_neg_prepare(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_scope *both;
	int rc;

	mu_sync_neg_reset(p);
	if ((both = mu_scope_new()) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	mu_scope_intersect(both, p->node->scope, p->scope);
	/* The fingerprint table, unless the store holds many records of
	 * groups outside the set: then listing the set costs less.
	 * MUSTER_NEG_LISTED lists them always: the benchmarks' baseline. */
	rc = getenv("MUSTER_NEG_LISTED") != NULL
	         ? 1
	         : mu_store_fp_view_new(p->node->store, both, &p->fpv);
	if (rc == 0 && p->fpv != NULL)
		rc = mu_store_log_last(p->node->store, &p->neg_seq);
	if (rc == 0 && p->fpv != NULL && (rc = mu_store_fp_view_begin(p->fpv)) == 0) {
		struct mu_neg_source src;

		mu_scope_free(both);
		mu_store_fp_view_source(p->fpv, &src);
		rc = mu_neg_new_source(&p->neg, &src, MU_WIRE_NEG_MAX);
		if (rc != 0)
			return mu_fail(why, rc, "sync: cannot start reconciliation: %s",
			               mu_strerror(rc));
		return 0;
	}
	mu_store_fp_view_free(p->fpv);
	p->fpv = NULL;
	if (rc == 1)
		rc = mu_store_neg_items(p->node->store, both, &p->items, &p->seqs,
		                        &p->nitems);
	mu_scope_free(both);
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot list records to reconcile: %s",
		               mu_strerror(rc));
	rc = mu_neg_new(&p->neg, p->items, p->nitems, MU_WIRE_NEG_MAX);
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot start reconciliation: %s",
		               mu_strerror(rc));
	return 0;
}

int
mu_sync_neg_begin(struct mu_sync_peer *p, struct mu_why *why)
{
	return p->fpv == NULL ? 0 : mu_sync_view_begin(p->fpv, why);
}

int
mu_sync_view_begin(struct mu_store_fp_view *v, struct mu_why *why)
{
	int rc;

	if ((rc = mu_store_fp_view_begin(v)) == 1)
		return mu_fail(why, MU_EBUSY,
		               "sync: more than %d records of groups outside the "
		               "reconciliation arrived during it",
		               MU_STORE_FP_OUTSIDE_MAX);
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot read records to reconcile: %s",
		               mu_strerror(rc));
	return 0;
}

void
mu_sync_neg_end(struct mu_sync_peer *p)
{
	mu_store_fp_view_end(p->fpv);
}

/* A negentropy message of len bytes went out or came in; answer: it is the
 * answer to one of ours, which ends a round trip. */
void
mu_sync_count_neg(struct mu_sync_peer *p, size_t len, bool answer)
{
	struct mu_sync_report *r = &p->node->report;

	p->neg_bytes += SYNC_FRAMED(len);
	r->neg_bytes += SYNC_FRAMED(len);
	if (answer) {
		p->neg_rounds++;
		r->neg_rounds++;
	}
}

int
mu_sync_send_neg(struct mu_sync_peer *p, bool open, const struct mu_buf *neg,
                 struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	int rc;

	st->msg.len = 0;
	rc = mu_wire_encode_neg(&st->msg, open, neg->data, neg->len);
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot encode a negentropy message: %s",
		               mu_strerror(rc));
	if ((rc = mu_sync_send_msg(p, why)) == 0)
		mu_sync_count_neg(p, st->msg.len, false);
	return rc;
}

int
mu_sync_reconcile(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	int rc;

	if (!p->dialer || !p->hello || p->scope_unknown || p->c == NULL)
		return 0;
	/* Negentropy messages carry no run number: with one run in flight at
	 * a time, every answer belongs to the run we hold. */
	if (p->reconciling) {
		p->again = true;
		return 0;
	}
	p->again = false;
	if ((rc = mu_sync_neg_prepare(p, why)) != 0)
		return rc;
	st->neg.len = 0;
	rc = mu_neg_initiate(p->neg, &st->neg);
	mu_sync_neg_end(p);
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot start reconciliation: %s",
		               mu_strerror(rc));
	p->reconciling = true;
	p->neg_started = now_ms(p->node);
	p->neg_have = p->neg_need = 0;
	p->neg_rounds = p->neg_bytes = 0;
	mu_node_log(p->node, MU_LOG_DEBUG, "peer %s: reconciling %s",
	            mu_conn_name(p->c),
	            p->fpv != NULL ? "from the fingerprint table" : "listed records");
	return mu_sync_send_neg(p, true, &st->neg, why);
}

int
mu_sync_need(struct mu_sync_peer *p, const uint8_t *id)
{
	struct mu_sync_ids *q = &p->need;

	if (q->head > 0 && q->len == q->cap) {
		memmove(q->v, q->v + q->head, (q->len - q->head) * 32);
		q->len -= q->head;
		q->head = 0;
	}
	if (mu_buf_grow_array(&q->v, &q->cap, q->len + 1, 32, 256) != 0)
		return MU_ENOMEM;
	memcpy(q->v[q->len++], id, 32);
	return 0;
}
