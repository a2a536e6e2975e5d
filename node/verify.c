/*
 * verify.c - records arriving from a peer (docs/PROTOCOL.md, "Sync"): each
 * is fully validated (mu_rec_parse() with the current time) before it is
 * stored or relayed. Batches of more than SYNC_VERIFY_INLINE_MAX go to the
 * libuv thread pool, up to SYNC_BATCHES_MAX of one peer at once, whose
 * workers only parse their own copy of the bytes; smaller ones are checked
 * on the spot. Back on the loop thread, in the order they arrived, batches
 * are filtered by scope and join the commit (commit.c), which stores the
 * verified batches of every peer together and only then acknowledges them.
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
#include "commit.h"

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

/* The batches a proposal may be in before the store has it. */
struct on_its_way {
	struct mu_node *node;
	const struct mu_sync_batch *b;
};

/* Whether group proposes to us in this batch or one waiting for the commit. */
static bool
proposes_on_its_way(void *ctx, const uint8_t group[MU_KEY_BYTES])
{
	const struct on_its_way *w = ctx;
	const uint8_t *us = w->node->identity->group;
	const struct mu_sync_batch *c;

	if (batch_proposes(w->b, w->b->n, group, us))
		return true;
	for (c = w->node->commit->commit; c != NULL; c = c->next)
		if (batch_proposes(c, c->n, group, us))
			return true;
	for (c = w->node->commit->storing; c != NULL; c = c->next)
		if (batch_proposes(c, c->n, group, us))
			return true;
	return false;
}

/* Whether a record is ours to keep: not of a blocked group (blocked, read
 * once per batch, as `muster block` may have run since the scope was), and
 * in our scope or one of its exceptions (storage/local.h,
 * mu_store_scope_exception). */
static bool
keep(struct mu_node *node, const struct mu_sync_batch *b, size_t i,
     const struct mu_scope *blocked)
{
	const struct mu_record *rec = &b->recs[i];
	struct on_its_way w = {node, b};

	if (mu_scope_has(blocked, rec->group))
		return false;
	if (mu_scope_has(node->scope, rec->group))
		return true;
	return mu_store_scope_exception(node->store, rec, node->identity->group,
	                                proposes_on_its_way, &w) == 1;
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
	struct mu_scope *blocked = mu_scope_new();
	int rc = blocked != NULL ? mu_store_blocked(node->store, blocked) : MU_ENOMEM;

	if (rc != 0) {
		mu_scope_free(blocked);
		return mu_fail(why, rc, "sync: cannot read the blocked groups: %s",
		               mu_strerror(rc));
	}
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
		/* Refused without penalty too: the peer relays what its
		 * own scope holds, and cannot know what we blocked. */
		if (!keep(node, b, i, blocked)) {
			outside++;
			continue;
		}
		b->keep[b->nkeep++] = (uint8_t)i;
	}
	mu_scope_free(blocked);
	if (p->invalid > lim->max_invalid) {
		mu_dial_ban(node, mu_conn_ip(p->c));
		if (mu_conn_ip(p->c)[0] == '\0') /* via tor: no address to ban */
			return mu_fail(why, MU_ERECORD,
			               "sync: %u invalid records from %s; dropped",
			               p->invalid, mu_conn_name(p->c));
		return mu_fail(why, MU_ERECORD,
		               "sync: %u invalid records from %s; refused for %u s",
		               p->invalid, mu_conn_name(p->c), lim->ban_ms / 1000);
	}
	if (outside > 0)
		mu_node_log(node, MU_LOG_DEBUG,
		            "peer %s: %zu records outside our scope or blocked",
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
		mu_sync_batch_free(b);
		return 0;
	}
	mu_sync_commit_join(node, b);
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
			mu_sync_batch_free(b);
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
		p->node->sync->resume(p);
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
		mu_sync_batch_free(b);
	}
	p->batches_tail = link;
	mu_sync_release(p);
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
	/* Records pushed with a req while our reconciliation runs are its
	 * answer coming (the responder's neg follows them): a catch-up that
	 * takes longer than mu_sync_watch()'s limit is not given up on while
	 * they arrive. */
	if (p->dialer && p->reconciling && m->req != 0)
		p->neg_started = uv_now(node->loop);
	for (i = 0; i < m->nrecs; i++)
		total += m->recs[i].len;
	if ((b = mu_sync_batch_new(node->commit, total)) == NULL)
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
