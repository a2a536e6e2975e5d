/*
 * gossip.c - what a node sends (docs/PROTOCOL.md, "Sync"): each peer's
 * outbox, a queue of ids turned into recs messages only while the
 * connection's write queue has room, so a large transfer never sits in
 * memory as frames; live push of every record stored as new, found through
 * the store log whoever stored it; and the scope, recomputed when alliances
 * or follows change.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../protocol/buf.h"
#include "../protocol/textform.h"
#include "../storage/local.h"
#include "sync.h"

#define LOG_BATCH         256  /* log entries read per call */
#define SCOPE_EVERY_MS    5000 /* follows change without a log entry */
#define GREET_AUTHORS_MAX 256  /* profiles pushed with the first alliances */
#define DAMAGED_MAX       4096 /* damaged records remembered, to log once */

/* --- the outbox ------------------------------------------------------------ */

size_t
mu_sync_out_pending(const struct mu_sync_peer *p)
{
	return p->out.len - p->out.head;
}

int
mu_sync_out_add_to(struct mu_sync_outq *q, enum mu_out_kind kind, const uint8_t *id,
                   uint64_t req)
{
	struct mu_out_entry *e;

	if (q->head > 0 && (q->head == q->len || q->len == q->cap)) {
		memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof(*e));
		q->len -= q->head;
		q->head = 0;
	}
	if (mu_buf_grow_array(&q->v, &q->cap, q->len + 1, sizeof(*e), 64) != 0)
		return MU_ENOMEM;
	e = &q->v[q->len++];
	e->kind = (uint8_t)kind;
	e->req = req;
	if (id != NULL)
		memcpy(e->id, id, 32);
	return 0;
}

int
mu_sync_out_add(struct mu_sync_peer *p, enum mu_out_kind kind, const uint8_t *id,
                uint64_t req)
{
	int rc = mu_sync_out_add_to(&p->out, kind, id, req);

	if (rc == 0 && kind == MU_OUT_ACK)
		p->acks_queued++;
	return rc;
}

/* How full the write queue may get with bulk messages (records, wants): a
 * frame below the mark at which conn.c stops reading, so our own sending
 * never stops us reading a peer that is itself waiting for us to read. */
static size_t
bulk_mark(const struct mu_node *node)
{
	size_t high = node->opts.limits.out_high;

	return high > 2 * MU_SESS_FRAME_MAX ? high - MU_SESS_FRAME_MAX : high / 2;
}

struct gather {
	struct mu_node *node;
	struct mu_buf *buf;
	size_t lens[MU_WIRE_RECS_MAX];
	size_t n, room;
};

static int
gather_one(void *ctx, const uint8_t *raw, size_t len)
{
	struct gather *g = ctx;

	if (len + MU_WIRE_BIN_HEAD_MAX > g->room && g->n > 0)
		return MU_STORE_STOP; /* the message is full */
	if (mu_buf_append(g->buf, raw, len) != 0)
		return MU_ENOMEM;
	g->lens[g->n++] = len;
	g->room -=
	    g->room > len + MU_WIRE_BIN_HEAD_MAX ? len + MU_WIRE_BIN_HEAD_MAX : g->room;
	return 0;
}

/*
 * A record of our store that failed its check when read to be sent
 * (mu_store_read_raw): it is not sent, as the peer would count it against
 * us, and it is logged once, at warn, with the way out. Past DAMAGED_MAX
 * distinct records one more line says so and the rest go unlogged.
 */
static int
on_damaged(void *ctx, const uint8_t id[MU_ID_BYTES], const char *why)
{
	struct gather *g = ctx;
	struct mu_sync_state *st = g->node->sync;
	char hex[MU_ID_TEXT_SIZE];
	size_t lo = 0, hi = st->ndamaged, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = memcmp(st->damaged[mid], id, 32)) == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (st->ndamaged == DAMAGED_MAX)
		return 0;
	if (mu_buf_grow_array(&st->damaged, &st->capdamaged, st->ndamaged + 1,
	                      sizeof(*st->damaged), 16) != 0)
		return MU_ENOMEM;
	memmove(st->damaged + lo + 1, st->damaged + lo,
	        (st->ndamaged - lo) * sizeof(*st->damaged));
	memcpy(st->damaged[lo], id, 32);
	st->ndamaged++;
	mu_id_to_text(hex, id);
	mu_node_log(g->node, MU_LOG_WARN,
	            "record %s of the store is damaged and was not sent: %s; run "
	            "`muster check`, then `muster restore` a backup",
	            hex, why);
	if (st->ndamaged == DAMAGED_MAX)
		mu_node_log(g->node, MU_LOG_WARN,
		            "%d damaged records found: further ones are not logged",
		            DAMAGED_MAX);
	return 0;
}

/*
 * The n records gathered at data (lens[i] bytes each) as blobs, organizer
 * records first and the others in their order: a record signed by an
 * organizer key that arrives before its organizer record is only held
 * (docs/PROTOCOL.md 10.6), so the record that makes it valid goes first.
 */
static void
order_blobs(struct mu_wire_blob *blobs, const uint8_t *data, const size_t *lens,
            size_t n)
{
	size_t i, k = 0, off, pass;
	bool org;

	for (pass = 0; pass < 2; pass++)
		for (i = 0, off = 0; i < n; off += lens[i], i++) {
			org =
			    mu_rec_raw_is_kind(data + off, lens[i], MU_KIND_ORGANIZER);
			if (org != (pass == 0))
				continue;
			blobs[k].ptr = data + off;
			blobs[k++].len = lens[i];
		}
}

/* One recs message from the entries of one kind at the head of q (the
 * outbox, or the slice of a range listed). */
static int
send_recs(struct mu_sync_peer *p, struct mu_sync_outq *q, struct mu_why *why)
{
	struct mu_node *node = p->node;
	struct mu_sync_state *st = node->sync;
	struct mu_wire_blob blobs[MU_WIRE_RECS_MAX];
	struct mu_store_ref refs[MU_WIRE_RECS_MAX];
	struct gather g = {
	    node, &st->recs, {0}, 0, MU_SESS_MSG_MAX - MU_WIRE_RECS_HEAD_MAX};
	unsigned max = node->opts.limits.max_recs_per_frame;
	uint8_t kind = q->v[q->head].kind;
	uint64_t req = 0;
	size_t i, n;
	int rc;

	if (max == 0 || max > MU_WIRE_RECS_MAX)
		max = MU_WIRE_RECS_MAX;
	/* Records go on as stored, each checked first as the peer will. */
	for (n = 0; q->head + n < q->len && q->v[q->head + n].kind == kind && n < max;
	     n++) {
		const struct mu_out_entry *e = &q->v[q->head + n];

		refs[n].seq = kind == MU_OUT_HAVE ? e->req : 0;
		refs[n].id = e->id;
	}
	st->recs.len = 0;
	rc = mu_store_read_raw(node->store, refs, n, gather_one, on_damaged, &g, &i);
	q->head += i;
	if (rc == MU_ENOMEM)
		return mu_fail(why, rc, "sync: out of memory");
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot read a record to send: %s",
		               mu_strerror(rc));
	if (g.n == 0)
		return 0;
	order_blobs(blobs, st->recs.data, g.lens, g.n);
	if (kind == MU_OUT_HAVE && (req = mu_sync_req(p, false)) == 0)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	st->msg.len = 0;
	if ((rc = mu_wire_encode_recs(&st->msg, req, blobs, g.n)) != 0)
		return mu_fail(why, rc, "sync: cannot encode records: %s",
		               mu_strerror(rc));
	if ((rc = mu_sync_send_msg(p, why)) != 0)
		return rc;
	p->sent += g.n;
	node->report.sent += g.n;
	return 0;
}

/* One announce of the ids at the head of the outbox. */
static int
send_announce(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	struct mu_sync_outq *q = &p->out;
	uint8_t(*ids)[32] = (uint8_t(*)[32])st->recs.data;
	size_t n = 0;
	int rc;

	st->recs.len = 0;
	while (q->head < q->len && q->v[q->head].kind == MU_OUT_ANNOUNCE &&
	       n < MU_WIRE_IDS_MAX) {
		if (mu_buf_append(&st->recs, q->v[q->head].id, 32) != 0)
			return mu_fail(why, MU_ENOMEM, "sync: out of memory");
		ids = (uint8_t(*)[32])st->recs.data;
		q->head++;
		n++;
	}
	st->msg.len = 0;
	if ((rc = mu_wire_encode_announce(&st->msg, (const uint8_t(*)[32])ids, n)) != 0)
		return mu_fail(why, rc, "sync: cannot encode an announce: %s",
		               mu_strerror(rc));
	return mu_sync_send_msg(p, why);
}

static int
send_want(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	struct mu_sync_ids *q = &p->need;
	size_t n = q->len - q->head, max = p->node->opts.limits.max_ids_per_want;
	uint64_t req;
	int rc;

	if (max == 0 || max > MU_WIRE_IDS_MAX)
		max = MU_WIRE_IDS_MAX;
	if (n > max)
		n = max;
	if ((req = mu_sync_req(p, true)) == 0)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	st->msg.len = 0;
	if ((rc = mu_wire_encode_want(&st->msg, req, q->v + q->head, n)) != 0)
		return mu_fail(why, rc, "sync: cannot encode a want: %s",
		               mu_strerror(rc));
	q->head += n;
	if (q->head == q->len)
		q->head = q->len = 0;
	if ((rc = mu_sync_send_msg(p, why)) == 0)
		p->node->report.want_bytes += SYNC_FRAMED(st->msg.len);
	return rc;
}

/* --- ranges pushed as they are listed --------------------------------------- */

int
mu_sync_push_range(void *ctx, const struct mu_neg_item *from,
                   const struct mu_neg_item *to)
{
	struct mu_sync_peer *p = ctx;
	struct mu_sync_range *r;
	struct mu_scope *both;
	int rc;

	if (p->rview == NULL) {
		/* The run's domain, which the ranges of later runs share: a
		 * change of scope drops them (mu_sync_ranges_drop). */
		if ((both = mu_scope_new()) == NULL)
			return MU_ENOMEM;
		mu_scope_intersect(both, p->node->scope, p->scope);
		rc = mu_store_fp_view_new(p->node->store, both, &p->rview);
		mu_scope_free(both);
		if (rc != 0)
			return rc;
	}
	if (p->rhead > 0 && p->rhead == p->nranges)
		p->rhead = p->nranges = 0;
	if (mu_buf_grow_array(&p->ranges, &p->capranges, p->nranges + 1,
	                      sizeof(*p->ranges), 4) != 0)
		return MU_ENOMEM;
	r = &p->ranges[p->nranges];
	r->from = *from;
	r->to = *to;
	r->seq = p->neg_seq;
	r->ranked = r->done = false;
	if ((rc = mu_sync_out_add(p, MU_OUT_RANGE, NULL, 0)) != 0)
		return rc;
	p->nranges++;
	mu_node_log(p->node, MU_LOG_DEBUG,
	            "peer %s: a range it lacks whole, pushed as it is listed",
	            mu_conn_name(p->c));
	return 0;
}

void
mu_sync_ranges_drop(struct mu_sync_peer *p)
{
	size_t i;

	for (i = p->rhead; i < p->nranges; i++)
		p->ranges[i].done = true;
	p->listed.head = p->listed.len = 0;
	mu_store_fp_view_free(p->rview);
	p->rview = NULL;
	p->rview_open = false;
}

static int
item_cmp(const struct mu_neg_item *a, const struct mu_neg_item *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(a->id, b->id, MU_NEG_ID_BYTES);
}

struct slice {
	struct mu_sync_peer *p;
	struct mu_sync_range *r;
	size_t n;
	uint64_t *start; /* the pump's, for the send budget */
	bool cut;        /* the slice ended before the range */
};

static bool budget_spent(struct mu_node *node, uint64_t *start);

static int
slice_one(void *arg, const struct mu_neg_item *it, size_t rank)
{
	struct slice *s = arg;
	struct mu_sync_range *r = s->r;
	uint64_t seq = mu_store_fp_view_seq(s->p->rview);

	(void)rank;
	if (r->to.ts != UINT64_MAX && item_cmp(it, &r->to) >= 0) {
		r->done = true;
		return 1;
	}
	/* A slice ends with the turn's sending time too: it costs 1-12 us an
	 * item. Cut there, it holds at least a message's worth of records. */
	if (s->n == SYNC_RANGE_SLICE || (s->n > 0 && s->n % MU_WIRE_RECS_MAX == 0 &&
	                                 budget_spent(s->p->node, s->start))) {
		s->cut = true;
		return 1;
	}
	r->rank++;
	s->n++;
	if (seq > r->seq)
		return 0; /* stored since the run began: pushed live if new */
	return mu_sync_out_add_to(&s->p->listed, MU_OUT_HAVE, it->id, seq);
}

/* Lists the next slice of the range at the head of p's ranges into
 * p->listed, from the rank after the last item listed. The ranges are
 * read in one snapshot of the store, in which ranks stay put, begun at their first
 * slice and ended with the last range (mu_sync_ranges_drop, range_next): a begin costs
 * a walk over every stored group (local_fp.c), which a slice must not. A push of a
 * million records holds it for a minute or so, and the store's file may grow meanwhile
 * by what is written then; a record deleted meanwhile is skipped when read
 * (mu_store_read_raw). Marks the range done at its end. A slice ends after
 * SYNC_RANGE_SLICE items, or after a multiple of MU_WIRE_RECS_MAX once the
 * turn's send budget is spent. */
static int
list_slice(struct mu_sync_peer *p, uint64_t *start, struct mu_why *why)
{
	struct mu_sync_range *r = &p->ranges[p->rhead];
	struct slice s = {p, r, 0, start, false};
	struct mu_neg_source src;
	struct mu_neg_pos pos;
	int rc;

	p->listed.head = p->listed.len = 0;
	if (r->done)
		return 0;
	if (!p->rview_open && (rc = mu_sync_view_begin(p->rview, why)) != 0)
		return rc;
	p->rview_open = true;
	mu_store_fp_view_source(p->rview, &src);
	rc = 0;
	if (!r->ranked &&
	    (rc = src.seek_bound(src.ctx, r->from.ts, r->from.id, &pos)) == 0) {
		r->rank = pos.rank;
		r->ranked = true;
	}
	if (rc == 0)
		rc = src.each(src.ctx, r->rank, slice_one, &s);
	if (rc == MU_ENOMEM)
		return mu_fail(why, rc, "sync: out of memory");
	if (rc != 0)
		return mu_fail(why, rc, "sync: cannot list records to send: %s",
		               mu_strerror(rc));
	if (!s.cut)
		r->done = true; /* the walk reached the end of the set */
	return 0;
}

/* The range at the head of the outbox: 1 when p->listed holds records of
 * it to send, 2 when a slice listed none (all stored since the run began),
 * 0 when it is done (and taken off), or an error. One slice a call, so
 * that the pump looks at the send budget between slices. */
static int
range_next(struct mu_sync_peer *p, uint64_t *start, struct mu_why *why)
{
	int rc;

	if (p->listed.head < p->listed.len)
		return 1;
	if (!p->ranges[p->rhead].done) {
		if ((rc = list_slice(p, start, why)) != 0)
			return rc;
		return p->listed.head < p->listed.len ? 1 : 2;
	}
	p->out.head++;
	if (++p->rhead == p->nranges) {
		p->rhead = p->nranges = 0;
		mu_store_fp_view_free(p->rview);
		p->rview = NULL;
		p->rview_open = false;
	}
	return 0;
}

/* Whether the sending time of this turn is spent (limits.send_turn_us),
 * adding the time since *start to it. */
static bool
budget_spent(struct mu_node *node, uint64_t *start)
{
	struct mu_sync_state *st = node->sync;
	unsigned budget = node->opts.limits.send_turn_us;
	uint64_t now = uv_hrtime();

	st->pump_ns += now - *start;
	*start = now;
	return budget > 0 && st->pump_ns >= (uint64_t)budget * 1000;
}

/* Whether p sends no more in this turn: the budget is spent and p had its
 * message of the turn, which keeps one peer's sending from starving the
 * others' (their writable callbacks come after its own). */
static bool
turn_spent(struct mu_sync_peer *p, uint64_t *start)
{
	return budget_spent(p->node, start) && p->pump_sent == p->node->sync->pump_turn;
}

/* Pumps p, failing it on an error; whether the send budget cut it (read
 * before the release, which may free p). */
static bool
pump_held(struct mu_sync_peer *p)
{
	struct mu_why why;
	bool cut;

	mu_sync_hold(p);
	if (mu_sync_pump(p, &why) != 0)
		mu_sync_fail(p, why.text);
	cut = p->pump_cut;
	mu_sync_release(p);
	return cut;
}

/* A new turn: the peers the budget cut in the last one send again, within
 * what is left of this turn's budget (the I/O callbacks of the turn may
 * have spent it: then on the next). */
static void
on_pump_idle(uv_idle_t *h)
{
	struct mu_node *node = h->data;
	struct mu_sync_peer *p;
	struct mu_conn *c;
	bool more = false;

	for (c = node->conns; c != NULL && !node->stopping; c = mu_conn_next(c)) {
		if ((p = mu_conn_sync(c)) == NULL || !p->pump_cut)
			continue;
		p->pump_cut = false;
		more |= pump_held(p);
	}
	if (!more || node->stopping)
		uv_idle_stop(h);
}

static void
pump_later(struct mu_sync_peer *p)
{
	p->pump_cut = true;
	uv_idle_start(&p->node->sync->pump_idle, on_pump_idle);
}

/* A new turn of the loop: its sending time is whole. The turn is the one
 * node/stalls.c times and http.c budgets, from one prepare phase to the
 * next: the I/O callbacks of one poll, then the timers and idle callbacks
 * before the next, all on one budget. */
static void
on_pump_mark(uv_prepare_t *h)
{
	struct mu_node *node = h->data;

	node->sync->pump_ns = 0;
	node->sync->pump_turn++;
}

/* The budget's handles, at the first pump; closed with the loop's other
 * handles when the node stops (daemon.c). */
static void
pump_handles(struct mu_node *node)
{
	struct mu_sync_state *st = node->sync;

	if (st->pump_handles)
		return;
	uv_idle_init(node->loop, &st->pump_idle);
	st->pump_idle.data = node;
	uv_prepare_init(node->loop, &st->pump_mark);
	st->pump_mark.data = node;
	uv_prepare_start(&st->pump_mark, on_pump_mark);
	uv_unref((uv_handle_t *)&st->pump_mark); /* keeps no loop alive */
	st->pump_turn = 1;                       /* past every peer's pump_sent */
	st->pump_handles = true;
}

int
mu_sync_pump(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_node *node = p->node;
	struct mu_sync_state *st = node->sync;
	struct mu_sync_outq *q = &p->out;
	size_t mark = bulk_mark(node);
	struct mu_out_entry *e;
	uint64_t start = uv_hrtime();
	int rc;

	if (!p->hello || p->c == NULL)
		return 0; /* until the peer's hello, it gets nothing but ours */
	pump_handles(node);
	p->pump_cut = false;
	while (p->c != NULL && mu_conn_queued(p->c) < mark) {
		if (turn_spent(p, &start)) {
			pump_later(p);
			break;
		}
		p->pump_sent = st->pump_turn;
		if (p->need.head < p->need.len &&
		    p->wants_pending < SYNC_WANTS_INFLIGHT) {
			if ((rc = send_want(p, why)) != 0)
				return rc;
			continue;
		}
		if (q->head == q->len)
			break;
		e = &q->v[q->head];
		if ((e->kind == MU_OUT_HAVE || e->kind == MU_OUT_RANGE) &&
		    p->npending - p->wants_pending >= SYNC_RECS_UNACKED_MAX)
			break;
		if (e->kind == MU_OUT_RANGE) {
			if ((rc = range_next(p, &start, why)) < 0)
				return rc;
			if (rc == 1 && (rc = send_recs(p, &p->listed, why)) != 0)
				return rc;
			continue;
		}
		if (e->kind == MU_OUT_NEG) {
			q->head++;
			rc = mu_sync_send_neg(p, false, &p->neg_reply, why);
			p->neg_reply.len = 0;
			if (rc != 0)
				return rc;
			continue;
		}
		if (e->kind == MU_OUT_ANNOUNCE) {
			if ((rc = send_announce(p, why)) != 0)
				return rc;
			continue;
		}
		if (e->kind != MU_OUT_ACK) {
			if ((rc = send_recs(p, q, why)) != 0)
				return rc;
			continue;
		}
		st->msg.len = 0;
		if ((rc = mu_wire_encode_ack(&st->msg, e->req)) != 0)
			return mu_fail(why, rc, "sync: out of memory");
		q->head++;
		p->acks_queued--;
		if ((rc = mu_sync_send_msg(p, why)) != 0)
			return rc;
	}
	st->pump_ns += uv_hrtime() - start;
	if (q->head == q->len)
		q->head = q->len = 0;
	return 0;
}

/* --- what a peer wants ------------------------------------------------------ */

bool
mu_sync_peer_wants(struct mu_sync_peer *p, const struct mu_record *rec)
{
	const uint8_t *peer;

	if (!p->hello || p->c == NULL)
		return false;
	if (mu_scope_has(p->scope, rec->group))
		return true;
	peer = mu_conn_peer_group(p->c);
	return mu_store_scope_exception(p->node->store, rec, peer, NULL, NULL) == 1;
}

/* --- the first push of a session ------------------------------------------ */

/* Calls fn with the current organizer record of signer in group, when an
 * organizer (not the group's root) signed: 0 when there is none. */
static int
organizer_of(struct mu_store *st, const uint8_t *group, const uint8_t *signer,
             mu_store_visit_fn fn, void *ctx)
{
	char hex[2 * MU_KEY_BYTES + 1];
	struct mu_addr a;
	int rc;

	if (memcmp(signer, group, MU_KEY_BYTES) == 0)
		return 0;
	sodium_bin2hex(hex, sizeof(hex), signer, MU_KEY_BYTES);
	memcpy(a.group, group, MU_KEY_BYTES);
	a.kind = MU_KIND_ORGANIZER;
	a.d.ptr = hex;
	a.d.len = 2 * MU_KEY_BYTES;
	rc = mu_store_get_addr(st, &a, fn, ctx);
	return rc == MU_ENOTFOUND ? 0 : rc;
}

struct greet {
	struct mu_sync_peer *p;
	const uint8_t *peer;
	uint8_t authors[GREET_AUTHORS_MAX][32];
	/* who signed each author's alliance record and profile: an organizer
	 * record goes with what an organizer signed */
	uint8_t signers[GREET_AUTHORS_MAX][2][32];
	size_t nauthors, at;
	int rc;
	struct mu_outside outside; /* their records are not passed on */
};

/* A group with an alliance record naming the peer (seen from the peer's
 * side, that record is "theirs"). */
static int
greet_alliance(void *ctx, const struct mu_alliance_view *v)
{
	struct greet *g = ctx;
	const struct mu_record *rec = v->theirs;

	/* A proposal of a group outside our scope may have been ended
	 * since: ours is no longer current (10.3). */
	if (rec == NULL || mu_outside_has(&g->outside, rec->group, NULL))
		return 0;
	if ((g->rc = mu_sync_out_add(g->p, MU_OUT_HAVE, rec->id, 0)) != 0)
		return 1;
	if (g->nauthors < GREET_AUTHORS_MAX) {
		memcpy(g->authors[g->nauthors], rec->group, 32);
		memcpy(g->signers[g->nauthors][0], rec->signer, 32);
		/* the profile's, until it is read */
		memcpy(g->signers[g->nauthors++][1], rec->group, 32);
	}
	return 0;
}

static int
greet_profile(void *ctx, const struct mu_record *rec)
{
	struct greet *g = ctx;

	memcpy(g->signers[g->at][1], rec->signer, 32);
	g->rc = mu_sync_out_add(g->p, MU_OUT_HAVE, rec->id, 0);
	return g->rc != 0;
}

static int
greet_organizer(void *ctx, const struct mu_record *rec)
{
	struct greet *g = ctx;

	g->rc = mu_sync_out_add(g->p, MU_OUT_HAVE, rec->id, 0);
	return g->rc != 0;
}

/* HAVE rather than req 0: a one-shot sync waits for these to be taken. */
int
mu_sync_greet(struct mu_sync_peer *p, struct mu_why *why)
{
	struct greet *g = malloc(sizeof(*g));
	struct mu_addr a;
	size_t i;
	int rc;

	if (g == NULL)
		return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	g->p = p;
	g->peer = mu_conn_peer_group(p->c);
	g->nauthors = 0;
	g->rc = 0;
	/* From the alliances' keys: only the records naming the peer load. */
	rc = mu_store_outside(p->node->store, &g->outside);
	if (rc == 0)
		rc = mu_store_alliances(p->node->store, g->peer, greet_alliance, g);
	a.kind = MU_KIND_PROFILE;
	a.d.ptr = "";
	a.d.len = 0;
	for (i = 0; rc == 0 && g->rc == 0 && i < g->nauthors; i++) {
		memcpy(a.group, g->authors[i], 32);
		g->at = i;
		rc = mu_store_get_addr(p->node->store, &a, greet_profile, g);
		if (rc == MU_ENOTFOUND)
			rc = 0;
	}
	for (i = 0; rc == 0 && g->rc == 0 && i < 2 * g->nauthors; i++)
		rc = organizer_of(p->node->store, g->authors[i / 2],
		                  g->signers[i / 2][i % 2], greet_organizer, g);
	if (g->rc != 0)
		rc = g->rc;
	mu_outside_free(&g->outside);
	free(g);
	if (rc != 0 && rc != 1)
		return mu_fail(why, rc, "sync: cannot list alliances: %s",
		               mu_strerror(rc));
	return 0;
}

/* --- live push ---------------------------------------------------------------- */

struct push {
	struct mu_node *node;
	const struct mu_sync_fresh *fresh; /* sorted by id */
	size_t n;
	size_t seen;
	size_t dropped; /* pushes to peers whose outbox is full */
	bool rescope;
};

static int
fresh_find(const void *id, const void *f)
{
	return memcmp(id, ((const struct mu_sync_fresh *)f)->id, 32);
}

/* The peer a record came from, NULL if none (another process stored it). */
static const struct mu_sync_peer *
origin_of(const struct push *x, const uint8_t *id)
{
	const struct mu_sync_fresh *f =
	    x->n ? bsearch(id, x->fresh, x->n, sizeof(*x->fresh), fresh_find) : NULL;

	return f != NULL ? f->from : NULL;
}

static int
push_profile(void *ctx, const struct mu_record *rec)
{
	return mu_sync_out_add(ctx, MU_OUT_SEND, rec->id, 0);
}

/* The organizer record that makes a record of group signed by signer
 * valid, when an organizer signed it, goes with it to p, which may have no
 * other way to get it (recs messages put it first). */
static void
push_organizer(struct mu_store *st, struct mu_sync_peer *p, const uint8_t *group,
               const uint8_t *signer)
{
	(void)organizer_of(st, group, signer, push_profile, p);
}

/* A proposal's author's profile, and who signed it (read after the visit:
 * a visitor starts no other read). */
struct author {
	struct mu_sync_peer *p;
	uint8_t signer[MU_KEY_BYTES];
	bool found;
};

static int
push_author(void *ctx, const struct mu_record *rec)
{
	struct author *au = ctx;

	memcpy(au->signer, rec->signer, MU_KEY_BYTES);
	au->found = true;
	return push_profile(au->p, rec);
}

static int
push_entry(void *ctx, uint64_t seq, const struct mu_record *rec)
{
	struct push *x = ctx;
	struct mu_sync_peer *p;
	struct mu_addr a;
	struct mu_conn *c;
	const struct mu_sync_peer *origin = origin_of(x, rec->id);
	enum mu_out_kind kind;

	x->seen++;
	x->node->log_seq = seq;
	if (rec->kind == MU_KIND_ALLIANCE || rec->kind == MU_KIND_DELETE)
		x->rescope = true;
	mu_acts_host_note(x->node, rec);
	for (c = x->node->conns; c != NULL; c = mu_conn_next(c)) {
		if ((p = mu_conn_sync(c)) == NULL || p == origin ||
		    !mu_sync_peer_wants(p, rec))
			continue;
		/* A peer that does not take what it gets (it does not read)
		 * cannot make us hold every new record for it. */
		if (mu_sync_out_pending(p) >= SYNC_OUT_MAX) {
			x->dropped++;
			continue;
		}
		/* A record from a peer may reach p from several sides: p gets
		 * its id and asks for it once. One made here goes whole. */
		kind = origin != NULL && mu_scope_has(p->scope, rec->group)
		           ? MU_OUT_ANNOUNCE
		           : MU_OUT_SEND;
		if (mu_sync_out_add(p, kind, rec->id, 0) != 0)
			return MU_ENOMEM;
		/* A proposal travels with its author's profile (section
		 * "Scope"), and both with the organizer records that make
		 * them valid. */
		if (rec->kind == MU_KIND_ALLIANCE &&
		    !mu_scope_has(p->scope, rec->group)) {
			struct author au = {p, {0}, false};

			push_organizer(x->node->store, p, rec->group, rec->signer);
			memcpy(a.group, rec->group, 32);
			a.kind = MU_KIND_PROFILE;
			a.d.ptr = "";
			a.d.len = 0;
			mu_store_get_addr(x->node->store, &a, push_author, &au);
			if (au.found)
				push_organizer(x->node->store, p, rec->group,
				               au.signer);
		}
	}
	return 0;
}

/*
 * Whether the log past node->log_seq holds only the records of this commit
 * (fresh): then they are pushed as parsed in their batches, not read back
 * from the store and parsed again. The log numbers its entries one by one,
 * and the commit logged each record it stored as new: n entries past
 * log_seq are exactly these n, unless another process stored records
 * meanwhile, and then the log is read. 1 when pushed, 0 when not, or an
 * error.
 */
static int
push_own(struct push *x)
{
	uint64_t last;
	size_t i;
	int rc;

	if (x->n == 0 || mu_store_log_last(x->node->store, &last) != 0 ||
	    last - x->node->log_seq != x->n)
		return 0;
	for (i = 0; i < x->n; i++)
		if ((rc = push_entry(x, last, x->fresh[i].rec)) != 0)
			return rc;
	return 1;
}

void
mu_sync_push_log(struct mu_node *node, const struct mu_sync_fresh *fresh, size_t n)
{
	struct push x = {node, fresh, n, 0, 0, false};
	struct mu_sync_peer *p;
	struct mu_conn *c;
	int rc = 0;

	if (node->store == NULL)
		return;
	if ((rc = push_own(&x)) != 0)
		goto pushed;
	do {
		x.seen = 0;
		rc = mu_store_log_since(node->store, node->log_seq, LOG_BATCH,
		                        push_entry, &x);
	} while (rc == 0 && x.seen == LOG_BATCH); /* fewer: the log's end */
pushed:
	if (rc < 0)
		mu_node_log(node, MU_LOG_ERROR, "cannot push the new records: %s",
		            mu_strerror(rc));
	if (x.dropped > 0)
		mu_node_log(node, MU_LOG_DEBUG,
		            "%zu live pushes dropped: outboxes full (the next "
		            "reconciliation sends them)",
		            x.dropped);
	for (c = node->conns; c != NULL; c = mu_conn_next(c)) {
		if ((p = mu_conn_sync(c)) == NULL || p->out.head == p->out.len)
			continue;
		(void)pump_held(p);
	}
	if (x.rescope)
		mu_sync_update_scope(node);
}

void
mu_sync_wake(struct mu_node *node)
{
	struct mu_sync_state *st = mu_sync_state(node);

	/* A commit under way pushes what the log holds when it ends. */
	if (st != NULL && !node->stopping && !st->committing)
		mu_sync_push_log(node, NULL, 0);
}

void
mu_sync_poll(struct mu_node *node)
{
	struct mu_sync_state *st = mu_sync_state(node);
	unsigned every;

	if (st == NULL || node->stopping)
		return;
	mu_sync_wake(node);
	every =
	    node->opts.limits.poll_ms ? SCOPE_EVERY_MS / node->opts.limits.poll_ms : 1;
	if (++st->polls >= every) {
		st->polls = 0;
		mu_sync_update_scope(node);
	}
}

/* --- announces --------------------------------------------------------------- */

static int
found(void *ctx, const struct mu_record *rec)
{
	(void)ctx;
	(void)rec;
	return 0;
}

static bool
held(struct mu_node *node, const uint8_t *id)
{
	return mu_store_get(node->store, id, found, NULL) == 0;
}

/* The entry of id if it is being asked for, else NULL; drops the entries
 * that expired (only entries after the one returned move). */
static struct mu_sync_asked *
asked(struct mu_sync_state *st, const uint8_t *id, uint64_t now)
{
	struct mu_sync_asked *hit = NULL;
	size_t i = 0;

	while (i < st->nasked) {
		if (st->asked[i].until <= now) {
			st->asked[i] = st->asked[--st->nasked];
			continue;
		}
		if (memcmp(st->asked[i].id, id, 32) == 0)
			hit = &st->asked[i];
		i++;
	}
	return hit;
}

/* p announced an id already asked of another peer: p is asked if that
 * one's session ends before the record came. */
static void
note_alt(struct mu_sync_asked *a, struct mu_sync_peer *p)
{
	if (a->of == p)
		return;
	for (size_t k = 0; k < SYNC_ASKED_ALT; k++)
		if (a->alt[k] == p)
			return;
	for (size_t k = 0; k < SYNC_ASKED_ALT; k++)
		if (a->alt[k] == NULL) {
			a->alt[k] = p;
			return;
		}
}

int
mu_sync_on_announce(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                    struct mu_why *why)
{
	struct mu_node *node = p->node;
	struct mu_sync_state *st = node->sync;
	uint64_t now = uv_now(node->loop);
	struct mu_sync_asked *a;
	const uint8_t *id;
	size_t i;

	for (i = 0; i < m->keys.n; i++) {
		/* Announces are hints, reconciliation the guarantee: a peer
		 * that announces faster than it answers is not followed. */
		if (p->need.len - p->need.head >= SYNC_ANNOUNCE_QUEUE)
			break;
		id = mu_wire_key(&m->keys, i);
		if ((a = asked(st, id, now)) != NULL) {
			note_alt(a, p);
			continue;
		}
		if (held(node, id))
			continue;
		if (mu_buf_grow_array(&st->asked, &st->capasked, st->nasked + 1,
		                      sizeof(*st->asked), 64) != 0)
			return mu_fail(why, MU_ENOMEM, "sync: out of memory");
		a = &st->asked[st->nasked++];
		memset(a, 0, sizeof(*a));
		memcpy(a->id, id, 32);
		a->until = now + SYNC_ASKED_MS;
		a->of = p;
		if (mu_sync_need(p, id) != 0)
			return mu_fail(why, MU_ENOMEM, "sync: out of memory");
	}
	return 0;
}

void
mu_sync_asked_gone(struct mu_sync_peer *p)
{
	struct mu_node *node = p->node;
	struct mu_sync_state *st = node->sync;
	struct mu_sync_peer *next;
	struct mu_sync_asked *a;
	size_t i = 0;

	while (st != NULL && i < st->nasked) {
		a = &st->asked[i];
		next = NULL;
		for (size_t k = 0; k < SYNC_ASKED_ALT; k++) {
			if (a->alt[k] == p)
				a->alt[k] = NULL;
			if (a->of == p && next == NULL && a->alt[k] != NULL) {
				next = a->alt[k];
				a->alt[k] = NULL;
			}
		}
		if (a->of != p) {
			i++;
			continue;
		}
		/* Left as it is, the entry would keep the others' announces
		 * of this id unanswered until it expires. */
		if (next == NULL || held(node, a->id) ||
		    mu_sync_need(next, a->id) != 0) {
			st->asked[i] = st->asked[--st->nasked];
			continue;
		}
		a->of = next;
		a->until = uv_now(node->loop) + SYNC_ASKED_MS;
		/* Its want goes in the next turn, not from inside a close. */
		pump_later(next);
		i++;
	}
}

void
mu_sync_asked_done(struct mu_node *node, const struct mu_sync_fresh *fresh, size_t n)
{
	struct mu_sync_state *st = node->sync;
	size_t i = 0;

	while (st != NULL && i < st->nasked) {
		if (n > 0 &&
		    bsearch(st->asked[i].id, fresh, n, sizeof(*fresh), fresh_find))
			st->asked[i] = st->asked[--st->nasked];
		else
			i++;
	}
}

/* --- the scope ----------------------------------------------------------------- */

int
mu_sync_update_scope(struct mu_node *node)
{
	struct mu_sync_state *st = mu_sync_state(node);
	struct mu_scope *fresh;
	struct mu_sync_peer *p;
	struct mu_conn *c;
	struct mu_why why;
	int rc;

	if (st == NULL)
		return MU_ENOMEM;
	st->polls = 0;
	if ((fresh = mu_scope_new()) == NULL)
		return MU_ENOMEM;
	rc = mu_store_scope(node->store, node->identity->group, node->opts.hops, fresh);
	if (rc != 0 || mu_scope_equal(fresh, node->scope)) {
		mu_scope_free(fresh);
		if (rc != 0)
			mu_node_log(node, MU_LOG_ERROR, "cannot compute the scope: %s",
			            mu_strerror(rc));
		else
			mu_sync_note_outside(node);
		return rc;
	}
	mu_scope_free(node->scope);
	node->scope = fresh;
	mu_sync_note_outside(node);
	mu_node_log(node, MU_LOG_INFO, "scope: now %zu groups", fresh->n);
	for (c = node->conns; c != NULL; c = mu_conn_next(c)) {
		if ((p = mu_conn_sync(c)) == NULL)
			continue;
		mu_sync_ranges_drop(p);
		mu_sync_hold(p);
		if (mu_sync_send_hello(p, false, &why) != 0 ||
		    mu_sync_reconcile(p, &why) != 0)
			mu_sync_fail(p, why.text);
		mu_sync_release(p);
	}
	return 0;
}
