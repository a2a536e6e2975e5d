/*
 * sync.c - one peer's sync session (docs/PROTOCOL.md, "Sync"): hellos,
 * negentropy reconciliation (the dialer initiates), wants and acks, and the
 * end of a one-shot sync. What goes out is in gossip.c, what comes in is
 * validated in verify.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../storage/local.h"
#include "commit.h"
#include "sync.h"

static void resume(struct mu_sync_peer *p);

/* --- node-wide state ---------------------------------------------------- */

int
mu_sync_start(struct mu_node *node, struct mu_why *why)
{
	int rc;

	if (node->sync != NULL)
		return 0;
	if ((rc = mu_sync_open(node, why)) != 0)
		return rc;
	if ((rc = mu_sync_commit_open(node)) != 0) {
		mu_sync_close(node);
		return mu_fail(why, rc, "sync: out of memory");
	}
	node->sync->resume = resume;
	return 0;
}

void
mu_sync_stop(struct mu_node *node)
{
	/* What was verified before the stop is stored (nobody is acked). */
	mu_sync_commit(node);
	mu_sync_commit_close(node);
	mu_sync_close(node);
}

/* --- the peers table (best effort: a failure costs only statistics) ------ */

struct peer_find {
	const char *addr;
	struct mu_peer *out;
	bool found;
};

static int
find_peer(void *ctx, const struct mu_peer *peer)
{
	struct peer_find *f = ctx;

	if (strcmp(peer->addr, f->addr) != 0)
		return 0;
	*f->out = *peer;
	f->found = true;
	return 1;
}

/* Adds the counters since the last call; ready and synced stamp the times. */
static void
flush_stats(struct mu_sync_peer *p, bool ready, bool synced)
{
	struct mu_peer peer;
	struct peer_find f = {NULL, &peer, false};
	int64_t now = time(NULL);

	if (p->c == NULL || (f.addr = mu_conn_dialed_addr(p->c)) == NULL)
		return;
	if (!ready && !synced && p->sent == 0 && p->received == 0)
		return;
	mu_store_peers(p->node->store, find_peer, &f);
	if (!f.found)
		return;
	peer.sent += p->sent;
	peer.received += p->received;
	p->sent = p->received = 0;
	if (ready) {
		peer.last_seen = now;
		snprintf(peer.state, sizeof(peer.state), "connected");
	}
	if (synced)
		peer.last_sync = now;
	if (mu_store_peer_update(p->node->store, &peer) != 0)
		mu_node_log(p->node, MU_LOG_DEBUG, "peer %s: statistics not saved",
		            peer.addr);
}

void
mu_sync_on_ready(struct mu_node *node, struct mu_conn *c)
{
	struct mu_sync_peer *p;
	struct mu_why why;

	if (mu_sync_state(node) == NULL) {
		mu_conn_close(c, "sync: not started");
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->scope = mu_scope_new()) == NULL) {
		free(p);
		mu_conn_close(c, "sync: out of memory");
		return;
	}
	p->node = node;
	p->c = c;
	p->refs = 1; /* the connection's */
	p->dialer = mu_conn_is_dialer(c);
	p->ready_ms = uv_now(node->loop);
	p->next_req = 1;
	p->inq_tail = &p->inq;
	p->batches_tail = &p->batches;
	mu_conn_set_sync(c, p);
	flush_stats(p, true, false);
	if (mu_sync_send_hello(p, false, &why) != 0)
		mu_sync_fail(p, why.text);
}

void
mu_sync_on_close(struct mu_node *node, struct mu_conn *c)
{
	struct mu_sync_peer *p = mu_conn_sync(c);

	if (p == NULL)
		return;
	flush_stats(p, false, false);
	mu_sync_asked_gone(p);
	if (node->once && p->dialer && !p->done) {
		if (node->why.text[0] == '\0')
			mu_fail(&node->why, MU_EIO,
			        "sync: the connection to %s ended before the sync "
			        "completed",
			        mu_conn_name(c));
		if (node->exit_code == 0)
			node->exit_code = MU_EIO;
		node->stopping = true;
	}
	mu_conn_set_sync(c, NULL);
	p->c = NULL;
	mu_sync_drop_batches(p);
	mu_sync_release(p);
}

/* The item's sequence number goes with it, so that sending it reads its
 * body straight away: in a catch-up, bodies in the order they were stored
 * rather than an id lookup per record all over the store's pages. */
static int
on_have(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	struct mu_sync_peer *p = ctx;
	uint64_t seq;

	if (p->fpv == NULL)
		seq = index < p->nitems ? p->seqs[index] : 0;
	else if ((seq = mu_store_fp_view_seq(p->fpv)) > p->neg_seq)
		return 0; /* stored since the run began: pushed live if new */
	p->neg_have++;
	return mu_sync_out_add(p, MU_OUT_HAVE, id, seq);
}

static int
on_need(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	struct mu_sync_peer *p = ctx;

	(void)index;
	p->neg_need++;
	return mu_sync_need(p, id);
}

/* A neg-open or neg of len bytes on the wire (less the framing). */
static int
on_neg(struct mu_sync_peer *p, const struct mu_wire_msg *m, size_t len, bool open,
       struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	bool fresh;
	int rc;

	mu_sync_count_neg(p, len, p->dialer);
	if (open && p->dialer)
		return mu_fail(why, MU_EFORMAT,
		               "sync: neg-open from the side that accepted; the "
		               "dialer initiates");
	if (!open && p->neg == NULL && (p->dialer || !p->neg_forgotten))
		return mu_fail(why, MU_EFORMAT, "sync: neg without a reconciliation");
	/* A run forgotten while the initiator was busy with what it had
	 * learnt (its queues full, a slow link) goes on afresh: a responder
	 * answers each message from its own set alone. */
	fresh = open || p->neg == NULL;
	if (fresh) {
		if (!open)
			mu_node_log(p->node, MU_LOG_INFO,
			            "peer %s: its reconciliation went idle and was "
			            "forgotten; going on afresh",
			            mu_conn_name(p->c));
		if ((rc = mu_sync_neg_prepare(p, why)) != 0)
			return rc;
		mu_neg_set_push(p->neg, true);
		p->neg_forgotten = false;
	}
	/* Over the fingerprint table, a range the peer lacks whole is listed
	 * as it is sent, slice by slice (gossip.c), on either side: its first
	 * records go out while the rest is still in the store, and the turn
	 * that learns of it does not walk it. */
	if (p->fpv != NULL)
		mu_neg_set_push_range(p->neg, mu_sync_push_range);
	if (p->neg_reply.len > 0) {
		mu_sync_neg_end(p);
		return mu_fail(why, MU_EFORMAT,
		               "sync: a negentropy message before our answer to the "
		               "last one");
	}
	/* The prepare began the snapshot. */
	if (!fresh && (rc = mu_sync_neg_begin(p, why)) != 0)
		return rc;
	p->neg_started = uv_now(p->node->loop);
	st->neg.len = 0;
	rc = mu_neg_reconcile(p->neg, m->neg.ptr, m->neg.len, &st->neg, on_have,
	                      on_need, p, why);
	mu_sync_neg_end(p);
	if (rc != 0) {
		if (rc == MU_ENOMEM)
			return mu_fail(why, rc, "sync: out of memory");
		return rc; /* why names the malformed message */
	}
	if (!mu_neg_is_initiator(p->neg) && p->out.head < p->out.len) {
		/* Our answer follows the records queued before it, those it
		 * pushes among them: when it arrives, they have. */
		if (mu_buf_append(&p->neg_reply, st->neg.data, st->neg.len) != 0 ||
		    mu_sync_out_add(p, MU_OUT_NEG, NULL, 0) != 0)
			return mu_fail(why, MU_ENOMEM, "sync: out of memory");
		return 0;
	}
	if (!mu_neg_is_initiator(p->neg) || st->neg.len > 0)
		return mu_sync_send_neg(p, false, &st->neg, why);
	/* The initiator has nothing more to say: the difference is known. */
	mu_sync_neg_reset(p);
	p->reconciled++;
	mu_node_log(p->node, MU_LOG_INFO,
	            "peer %s: reconciled, %" PRIu64 " records to send, %" PRIu64
	            " to fetch; %" PRIu64 " round trips, %" PRIu64 " bytes",
	            mu_conn_name(p->c), p->neg_have, p->neg_need, p->neg_rounds,
	            p->neg_bytes);
	flush_stats(p, false, true);
	return p->again ? mu_sync_reconcile(p, why) : 0;
}

/* Whether the queues of ids to fetch or to send are full: a dialer then
 * leaves the peer's next neg unanswered until they drain, so that no peer
 * can grow them without bound however many ids it claims. */
static bool
queues_full(const struct mu_sync_peer *p)
{
	return p->need.len - p->need.head >= SYNC_NEED_MAX ||
	       mu_sync_out_pending(p) >= SYNC_OUT_MAX;
}

static int
park_neg(struct mu_sync_peer *p, const uint8_t *msg, size_t len, struct mu_why *why)
{
	struct mu_sync_inmsg *q;

	/* An honest responder sends one neg per neg of ours. */
	if (p->neg_parked != NULL)
		return mu_fail(why, MU_EFORMAT,
		               "sync: neg before we answered the last");
	if ((q = malloc(sizeof(*q) + len)) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	q->next = NULL;
	q->m = NULL;
	q->len = len;
	memcpy(q->data, msg, len);
	p->neg_parked = q;
	mu_node_log(p->node, MU_LOG_DEBUG,
	            "peer %s: %zu ids to fetch, %zu to send: reconciliation waits",
	            mu_conn_name(p->c), p->need.len - p->need.head,
	            mu_sync_out_pending(p));
	return 0;
}

/* --- hello, want, ack ---------------------------------------------------- */

/*
 * The scope of m, a hello that gave one, into p->scope; *changed when it
 * differs from what p->scope held. With a digest, the peer reads digests:
 * what it said, and the scope we sent it in full on this session, are
 * remembered for its next hellos (docs/PROTOCOL.md 10.2).
 */
static void
hello_scope(struct mu_sync_peer *p, const struct mu_wire_msg *m,
            struct mu_hello_peer *hp, bool *changed)
{
	bool note;
	size_t i;

	if (m->keys.n != p->scope->n)
		*changed = true;
	for (i = 0; i < m->keys.n; i++) {
		if (!*changed &&
		    memcmp(p->scope->keys[i], mu_wire_key(&m->keys, i), 32))
			*changed = true;
		memcpy(p->scope->keys[i], mu_wire_key(&m->keys, i), 32);
	}
	p->scope->n = m->keys.n; /* the decoder checked order and size */
	if (m->digest == NULL) {
		/* A node of an earlier version (again): full hellos only. */
		if (hp->digests) {
			memset(hp, 0, sizeof(*hp));
			mu_sync_hello_note(p, hp, NULL);
		}
		return;
	}
	note = !hp->digests || !hp->has_scope ||
	       memcmp(hp->digest, m->digest, MU_WIRE_DIGEST_BYTES) != 0;
	hp->digests = hp->has_scope = true;
	memcpy(hp->digest, m->digest, MU_WIRE_DIGEST_BYTES);
	if (p->sent_full && (!hp->has_sent || memcmp(hp->sent, p->sent_digest,
	                                             MU_WIRE_DIGEST_BYTES) != 0)) {
		hp->has_sent = true;
		memcpy(hp->sent, p->sent_digest, MU_WIRE_DIGEST_BYTES);
		note = true;
	}
	if (note)
		mu_sync_hello_note(p, hp, p->scope);
}

/*
 * m gave only the digest of its scope: the scope the peer's key last gave
 * in full with that digest, into p->scope (*changed as above). Returns 1,
 * 0 when we hold no such scope for the key, or MU_ENOMEM.
 */
static int
hello_digest(struct mu_sync_peer *p, const struct mu_wire_msg *m,
             struct mu_hello_peer *hp, bool *changed)
{
	const uint8_t *group = mu_conn_peer_group(p->c);
	struct mu_scope *known;
	int found;

	if (!hp->has_scope || memcmp(hp->digest, m->digest, MU_WIRE_DIGEST_BYTES) != 0)
		return 0;
	if ((known = mu_scope_new()) == NULL)
		return MU_ENOMEM;
	found = mu_store_hello_get(p->node->store, group, hp, known) == 0 &&
	        hp->has_scope &&
	        memcmp(hp->digest, m->digest, MU_WIRE_DIGEST_BYTES) == 0;
	if (found) {
		if (!mu_scope_equal(known, p->scope))
			*changed = true;
		memcpy(p->scope, known, sizeof(*known));
	}
	mu_scope_free(known);
	return found;
}

static int
on_hello(struct mu_sync_peer *p, const struct mu_wire_msg *m, struct mu_why *why)
{
	bool first = !p->hello, changed = first || p->scope_unknown;
	const uint8_t *group = mu_conn_peer_group(p->c);
	struct mu_hello_peer hp;
	int rc;

	if (group == NULL || mu_store_hello_get(p->node->store, group, &hp, NULL) != 0)
		memset(&hp, 0, sizeof(hp));
	if (m->has_scope) {
		hello_scope(p, m, &hp, &changed);
		p->scope_unknown = false;
	} else if ((rc = hello_digest(p, m, &hp, &changed)) != 0) {
		if (rc < 0)
			return mu_fail(why, rc, "sync: out of memory");
		p->scope_unknown = false;
	} else {
		/* We lost or never had the scope of that digest: ask for it.
		 * The session goes on, without reconciling, until it comes. */
		p->scope_unknown = true;
		p->scope->n = 0;
		p->node->sync->msg.len = 0;
		if ((rc = mu_wire_encode_rehello(&p->node->sync->msg)) != 0 ||
		    (rc = mu_sync_send_msg(p, why)) != 0)
			return rc == MU_ENOMEM ? mu_fail(why, rc, "sync: out of memory")
			                       : rc;
		mu_node_log(p->node, MU_LOG_INFO,
		            "peer %s (agent %.*s): scope by a digest we do not hold: "
		            "asked for it",
		            mu_conn_name(p->c), (int)m->agent_len, m->agent);
	}
	p->hello = true;
	if (changed || p->scope_unknown)
		mu_sync_ranges_drop(p);
	if (!p->scope_unknown)
		mu_node_log(p->node, MU_LOG_INFO,
		            "peer %s (agent %.*s): %zu groups in scope%s",
		            mu_conn_name(p->c), (int)m->agent_len, m->agent,
		            p->scope->n, m->has_scope ? "" : " (by digest)");
	if (m->has_time && m->time <= INT64_MAX / 2) {
		p->clock_base = (int64_t)m->time - mu_home_boot_clock();
		p->has_clock = true;
		mu_node_clock_heard(p->node);
	}
	if (first && (rc = mu_invite_send(p, why)) != 0)
		return rc;
	if (first && (rc = mu_sync_greet(p, why)) != 0)
		return rc;
	if (changed && !p->scope_unknown)
		return mu_sync_reconcile(p, why);
	return 0;
}

/* The peer asks for our scope: answered only after a hello without it, so
 * that each of our short hellos costs at most one full one. */
static int
on_rehello(struct mu_sync_peer *p, struct mu_why *why)
{
	if (!p->sent_short) {
		mu_node_log(p->node, MU_LOG_DEBUG,
		            "peer %s: rehello after a full hello ignored",
		            mu_conn_name(p->c));
		return 0;
	}
	return mu_sync_send_hello(p, true, why);
}

static int
on_want(struct mu_sync_peer *p, const struct mu_wire_msg *m, struct mu_why *why)
{
	size_t i;
	int rc;

	if (m->keys.n > p->node->opts.limits.max_ids_per_want)
		return mu_fail(why, MU_EFORMAT, "sync: want of %zu ids, more than %u",
		               m->keys.n, p->node->opts.limits.max_ids_per_want);
	for (i = 0; i < m->keys.n; i++)
		if ((rc = mu_sync_out_add(p, MU_OUT_SEND, mu_wire_key(&m->keys, i), 0)))
			return mu_fail(why, rc, "sync: out of memory");
	if ((rc = mu_sync_out_add(p, MU_OUT_ACK, NULL, m->req)) != 0)
		return mu_fail(why, rc, "sync: out of memory");
	mu_sync_update_hold(p);
	return 0;
}

static void
on_ack(struct mu_sync_peer *p, uint64_t req)
{
	size_t i;

	for (i = 0; i < p->npending; i++) {
		if (p->pending[i].req != req)
			continue;
		if (p->pending[i].want)
			p->wants_pending--;
		p->pending[i] = p->pending[--p->npending];
		/* Progress: a reconciliation waiting for its queues is not
		 * an unanswered one. */
		p->neg_started = uv_now(p->node->loop);
		return;
	}
	mu_node_log(p->node, MU_LOG_DEBUG, "peer %s: ack %" PRIu64 " for nothing",
	            mu_conn_name(p->c), req);
}

/* One message as it came, in a struct mu_wire_msg of its own (*out, to
 * free). */
static int
decode(const uint8_t *msg, size_t len, struct mu_wire_msg **out, struct mu_why *why)
{
	struct mu_wire_msg *m;
	int rc;

	if ((m = malloc(sizeof(*m))) == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	if ((rc = mu_wire_decode(m, msg, len, why)) != 0) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Handles m, decoded from msg; SYNC_LATER: it must wait (the caller keeps
 * m and msg for then). */
static int
handle(struct mu_sync_peer *p, const struct mu_wire_msg *m, const uint8_t *msg,
       size_t len, struct mu_why *why)
{
	int rc = 0;

	if (m->type == MU_WIRE_UNKNOWN) {
		mu_node_log(p->node, MU_LOG_DEBUG, "peer %s: unknown message ignored",
		            mu_conn_name(p->c));
		return 0;
	}
	if (m->type != MU_WIRE_HELLO && m->type != MU_WIRE_REHELLO)
		mu_conn_useful(p->c);
	if (!p->hello && m->type != MU_WIRE_HELLO)
		return mu_fail(why, MU_EFORMAT, "sync: %s before hello",
		               mu_wire_type_name(m->type));
	/* Records wait for a place among the batches being verified, other
	 * messages until the records before them are stored: a want that
	 * follows records is answered with them, an ack never overtakes them. */
	if (m->type == MU_WIRE_RECS ? p->nbatches >= SYNC_BATCHES_MAX
	                            : p->nbatches > 0 || p->uncommitted > 0)
		return SYNC_LATER;
	switch (m->type) {
	case MU_WIRE_HELLO:
		rc = on_hello(p, m, why);
		break;
	case MU_WIRE_NEG_OPEN:
	case MU_WIRE_NEG:
		if ((m->type == MU_WIRE_NEG && p->dialer && queues_full(p)) ||
		    p->scope_unknown)
			rc = park_neg(p, msg, len, why);
		else
			rc = on_neg(p, m, len, m->type == MU_WIRE_NEG_OPEN, why);
		break;
	case MU_WIRE_WANT:
		p->node->report.want_bytes += SYNC_FRAMED(len);
		rc = on_want(p, m, why);
		break;
	case MU_WIRE_RECS:
		rc = mu_sync_on_recs(p, m, why);
		break;
	case MU_WIRE_ACK:
		on_ack(p, m->req);
		break;
	case MU_WIRE_ANNOUNCE:
		rc = mu_sync_on_announce(p, m, why);
		break;
	case MU_WIRE_INVITE:
		rc = mu_invite_on_invite(p, m, why);
		break;
	case MU_WIRE_INVITED:
		rc = mu_invite_on_invited(p, m, why);
		break;
	case MU_WIRE_REHELLO:
		rc = on_rehello(p, why);
		break;
	default:
		break;
	}
	return rc;
}

/* --- the end of a one-shot sync -------------------------------------------- */

/* In once-mode the dialer is done when a reconciliation finished, every
 * want was answered and every record it sent was acknowledged. */
static void
check_done(struct mu_sync_peer *p)
{
	struct mu_node *node = p->node;

	if (!node->once || !p->dialer || p->done || p->c == NULL)
		return;
	if (p->reconciled == 0 || p->reconciling || p->again || p->nbatches > 0 ||
	    p->uncommitted > 0 || p->inq != NULL || p->neg_parked != NULL ||
	    p->need.head < p->need.len || p->out.head < p->out.len || p->npending > 0 ||
	    mu_invite_waiting(p))
		return;
	p->done = true;
	flush_stats(p, false, false);
	mu_node_log(node, MU_LOG_INFO, "peer %s: sync complete", mu_conn_name(p->c));
	node->exit_code = 0;
	node->why.text[0] = '\0';
	node->stopping = true;
	mu_conn_close(p->c, NULL);
}

/* Handles q, a message kept for later, decoded the first time only;
 * SYNC_LATER: it must wait again. */
static int
handle_kept(struct mu_sync_peer *p, struct mu_sync_inmsg *q, struct mu_why *why)
{
	int rc;

	if (q->m == NULL && (rc = decode(q->data, q->len, &q->m, why)) != 0)
		return rc;
	if ((rc = handle(p, q->m, q->data, q->len, why)) != SYNC_LATER) {
		free(q->m);
		q->m = NULL;
	}
	return rc;
}

/* Sends what can be sent, then sees whether a one-shot sync is done. */
static int
after(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_inmsg *q;
	int rc;

	if (p->c == NULL)
		return 0;
	if ((rc = mu_sync_pump(p, why)) != 0)
		return rc;
	if (p->neg_parked != NULL && !queues_full(p) && !p->scope_unknown) {
		q = p->neg_parked;
		p->neg_parked = NULL;
		if ((rc = handle_kept(p, q, why)) == SYNC_LATER) {
			/* Records before it are still being stored. */
			p->neg_parked = q;
			rc = 0;
		} else {
			free(q);
		}
		if (rc == 0 && p->c != NULL)
			rc = mu_sync_pump(p, why);
		if (rc != 0 || p->c == NULL)
			return rc;
	}
	mu_sync_update_hold(p);
	check_done(p);
	return 0;
}

/* Whether p's write queue is past out_high. Then its messages wait (conn.c
 * has stopped reading it): each could add a reply of up to 64 KiB, and one
 * read holds up to 64 KiB of small messages. */
static bool
over_high(const struct mu_sync_peer *p)
{
	return p->c != NULL && mu_conn_queued(p->c) > p->node->opts.limits.out_high;
}

/* Keeps a copy of a message to handle once the batches before it are done;
 * m, when not NULL, is its decoded form, taken over (freed on failure). */
static int
defer(struct mu_sync_peer *p, const uint8_t *msg, size_t len, struct mu_wire_msg *m,
      struct mu_why *why)
{
	struct mu_sync_inmsg *q;

	if ((q = malloc(sizeof(*q) + len)) == NULL) {
		free(m);
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	}
	q->next = NULL;
	q->len = len;
	memcpy(q->data, msg, len);
	if ((q->m = m) != NULL)
		mu_wire_msg_move(m, msg, len, q->data);
	*p->inq_tail = q;
	p->inq_tail = &q->next;
	mu_sync_update_hold(p);
	return 0;
}

int
mu_sync_on_message(struct mu_node *node, struct mu_conn *c, const uint8_t *msg,
                   size_t len, struct mu_why *why)
{
	struct mu_sync_peer *p = mu_conn_sync(c);
	struct mu_wire_msg *m = NULL;
	int rc;

	(void)node;
	if (p == NULL)
		return mu_fail(why, MU_EINVAL, "sync: a message before the session");
	if (p->inq != NULL || over_high(p)) {
		/* Messages are handled in order, and wait while the write
		 * queue is past out_high. */
		return defer(p, msg, len, NULL, why);
	}
	if ((rc = decode(msg, len, &m, why)) != 0)
		return rc;
	mu_sync_hold(p);
	rc = handle(p, m, msg, len, why);
	if (rc == SYNC_LATER)
		rc = defer(p, msg, len, m, why); /* which takes m */
	else
		free(m);
	if (rc == 0)
		rc = after(p, why);
	if (p->c == NULL)
		rc = 0; /* closed on the way: nothing more to say */
	mu_sync_release(p);
	return rc;
}

/* Batches finished or committed (node->sync->resume, called by verify.c
 * and commit.c), or the write queue drained: handles what was read
 * meanwhile, sends what can be sent, sees whether a one-shot sync is done. */
static void
resume(struct mu_sync_peer *p)
{
	struct mu_sync_inmsg *q;
	struct mu_why why;
	int rc = 0;

	mu_sync_hold(p);
	while (rc == 0 && p->c != NULL && !over_high(p) && (q = p->inq) != NULL) {
		if ((rc = handle_kept(p, q, &why)) == SYNC_LATER) {
			rc = 0;
			break;
		}
		if ((p->inq = q->next) == NULL)
			p->inq_tail = &p->inq;
		free(q);
	}
	if (rc == 0)
		rc = after(p, &why);
	if (rc != 0)
		mu_sync_fail(p, why.text);
	mu_sync_release(p);
}

void
mu_sync_on_writable(struct mu_node *node, struct mu_conn *c)
{
	struct mu_sync_peer *p = mu_conn_sync(c);

	(void)node;
	if (p != NULL)
		resume(p); /* what waited for the queue to drain, then more */
}

void
mu_sync_tick(struct mu_node *node)
{
	struct mu_sync_peer *p;
	struct mu_conn *c;
	struct mu_why why;

	if (node->stopping || node->sync == NULL)
		return;
	mu_sync_commit_tick(node);
	for (c = node->conns; c != NULL; c = mu_conn_next(c)) {
		if ((p = mu_conn_sync(c)) == NULL)
			continue;
		mu_sync_hold(p);
		flush_stats(p, false, false);
		/* A responder cannot tell the last message of a run: its items
		 * (a copy of every record's key) go when the run is idle. */
		if (!p->dialer && p->neg != NULL &&
		    uv_now(node->loop) - p->neg_started >
		        node->opts.limits.reconcile_ms / 2) {
			mu_sync_neg_reset(p);
			p->neg_forgotten = true;
		}
		if (mu_sync_reconcile(p, &why) != 0 || after(p, &why) != 0)
			mu_sync_fail(p, why.text);
		mu_sync_release(p);
	}
}

/* Gives up on p, which has not answered for limit ms (for a one-shot sync,
 * conn.c makes the reason the sync's). */
static void
give_up(struct mu_sync_peer *p, const char *what, uint64_t limit)
{
	struct mu_why why;

	mu_fail(&why, MU_EIO,
	        "sync: the peer did not answer %s within %" PRIu64 " s; is it a "
	        "muster node on this network? try again later",
	        what, limit / 1000);
	mu_sync_fail(p, why.text);
}

void
mu_sync_watch(struct mu_node *node)
{
	uint64_t limit = 2 * (uint64_t)node->opts.limits.reconcile_ms, t;
	int64_t now = mu_home_now();
	struct mu_sync_peer *p;
	struct mu_conn *c, *next;
	struct mu_why why;
	int rc;

	if (node->stopping || node->sync == NULL)
		return;
	t = uv_now(node->loop);
	for (c = node->conns; c != NULL; c = next) {
		next = mu_conn_next(c);
		if ((p = mu_conn_sync(c)) == NULL)
			continue;
		if (p->dialer && p->reconciling && t - p->neg_started >= limit) {
			give_up(p, "our reconciliation", limit);
			continue;
		}
		if (p->dialer && (!p->hello || p->scope_unknown) &&
		    t - p->ready_ms >= limit) {
			give_up(p, "with its hello", limit);
			continue;
		}
		if (p->invited && mu_invite_waiting(p) && t - p->ready_ms >= limit) {
			give_up(p, "our invite (a node of an older muster ignores it)",
			        limit);
			continue;
		}
		if (p->nearly == 0)
			continue;
		mu_sync_hold(p);
		if ((rc = mu_sync_early_due(p, now)) < 0)
			mu_sync_fail(p, "sync: out of memory");
		else if (rc > 0 && after(p, &why) != 0)
			mu_sync_fail(p, why.text);
		mu_sync_release(p);
	}
}
