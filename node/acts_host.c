/*
 * The host's tallies and pledge triggers (internal.h, mu_acts_host_*;
 * docs/PROTOCOL.md, tally and pledge).
 *
 * For each event of ours with a capacity that has rsvp records, the queue
 * of places lives in memory while the daemon runs, fed in the order the
 * records are stored, and is published as our tally record: at once the
 * first time, then at most once per limits.acts_debounce_ms. Before each
 * publication the queue is checked against the current rsvp records (a
 * deleted one, one stored while the daemon was down), so the published
 * tally always matches what the node holds.
 *
 * For each pledge of ours, the first time the node finds its total at the
 * threshold it publishes a revision of the pledge with `triggered`, so
 * that the trigger holds on every node whatever the counts do after.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acts.h"
#include "internal.h"

struct host_ev {
	struct host_ev *next;
	char d[MU_D_MAX + 1];
	struct mu_tally t;
	bool dirty;
	bool published; /* by this run: the debounce's first one is at once */
	uint64_t last_ms;
};

struct mu_acts_host {
	struct mu_node *node;
	uv_timer_t timer;
	struct host_ev *evs;
};

static void
event_addr(const struct mu_node *node, const struct host_ev *e, struct mu_addr *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->group, node->home->group, MU_KEY_BYTES);
	a->kind = MU_KIND_EVENT;
	a->d.ptr = e->d;
	a->d.len = strlen(e->d);
}

static int
get_capacity(void *ctx, const struct mu_record *rec)
{
	uint32_t *cap = ctx;

	*cap = rec->c.event.has_capacity ? rec->c.event.capacity : 0;
	return 0;
}

/* An rsvp in scope, for the check against the queue. */
struct want {
	uint8_t group[MU_KEY_BYTES];
	uint32_t going;
	int64_t created_at;
	uint8_t id[MU_ID_BYTES];
};

struct wants {
	struct want w[MU_ACTS_SCOPE_MAX];
	size_t n;
};

static int
add_want(void *ctx, const struct mu_record *rec)
{
	struct wants *ws = ctx;

	if (ws->n == MU_ACTS_SCOPE_MAX)
		return 0;
	memcpy(ws->w[ws->n].group, rec->group, MU_KEY_BYTES);
	ws->w[ws->n].going = rec->c.rsvp.going;
	ws->w[ws->n].created_at = rec->created_at;
	memcpy(ws->w[ws->n].id, rec->id, MU_ID_BYTES);
	ws->n++;
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return memcmp(x->id, y->id, MU_ID_BYTES);
}

/*
 * Brings the queue in line with the current rsvp records: those the queue
 * does not reflect join in order of their created_at; groups whose rsvp is
 * gone (deleted, or no longer in scope) leave it.
 */
static int
check_queue(struct mu_node *node, struct host_ev *e)
{
	struct wants *ws = malloc(sizeof(*ws));
	struct mu_tally_share sh;
	struct mu_addr ev;
	size_t i, j;
	bool found;
	int rc;

	if (ws == NULL)
		return MU_ENOMEM;
	ws->n = 0;
	event_addr(node, e, &ev);
	rc = mu_node_acts_each(node->store, &ev, MU_KIND_RSVP, add_want, ws);
	if (rc != 0)
		goto out;
	qsort(ws->w, ws->n, sizeof(ws->w[0]), by_time);
	for (i = 0; i < ws->n; i++) {
		mu_tally_share(&e->t, ws->w[i].group, &sh);
		if (sh.going != ws->w[i].going &&
		    mu_tally_set(&e->t, ws->w[i].group, ws->w[i].going) != 0)
			mu_node_log(node, MU_LOG_WARN,
			            "the tally of event %s is full (%d runs): a "
			            "group waits for room",
			            e->d, MU_TALLY_MAX);
	}
	for (i = e->t.nruns; i-- > 0;) {
		if (i >= e->t.nruns)
			continue;
		for (j = 0, found = false; j < ws->n && !found; j++)
			found = memcmp(ws->w[j].group, e->t.runs[i].group,
			               MU_KEY_BYTES) == 0;
		if (!found) {
			uint8_t g[MU_KEY_BYTES];

			memcpy(g, e->t.runs[i].group, MU_KEY_BYTES);
			mu_tally_set(&e->t, g, 0);
		}
	}
out:
	free(ws);
	return rc;
}

struct cur_tally {
	bool found;
	uint32_t rev;
	uint8_t id[MU_ID_BYTES];
	struct mu_tally t;
};

static int
get_tally(void *ctx, const struct mu_record *rec)
{
	struct cur_tally *c = ctx;
	struct mu_why why = {0};

	c->found = true;
	c->rev = rec->rev;
	memcpy(c->id, rec->id, MU_ID_BYTES);
	return mu_tally_from_rec(&c->t, rec, &why);
}

static bool
same_queue(const struct mu_tally *a, const struct mu_tally *b)
{
	return a->capacity == b->capacity && a->nruns == b->nruns &&
	       memcmp(a->runs, b->runs, a->nruns * sizeof(a->runs[0])) == 0;
}

/* Signs rec with the home's organizer key and stores it: the daemon forgot
 * the keys after its start (daemon.c), so they are read from the home for
 * the moment it signs, wiped with the home they are read into. */
static int
sign_store(struct mu_node *node, struct mu_record *rec, struct mu_why *why)
{
	struct mu_home *keys = NULL;
	int rc;

	if ((rc = mu_home_open(&keys, node->opts.home, true, why)) == 0)
		rc = mu_node_acts_store(node->store, keys, rec, (int64_t)time(NULL),
		                        why);
	mu_home_close(keys);
	return rc;
}

/* Publishes our pledge at a with `triggered` if its total has reached the
 * threshold and its current revision does not say so yet. */
static void
note_pledge(struct mu_node *node, const struct mu_addr *a)
{
	struct mu_node_recs pl = {0};
	struct mu_pledge_state s;
	struct mu_why why = {0};
	struct mu_record *rec;
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = mu_store_get_addr(node->store, a, mu_node_recs_add, &pl);
	if (rc == 0 && pl.err != 0)
		rc = pl.err;
	if (rc == MU_ENOTFOUND || (rc == 0 && pl.recs[0].c.pledge.has_triggered))
		goto done;
	if (rc != 0 || (rc = mu_node_acts_pledge(node->store, a, &s)) != 0)
		goto fail;
	if (!s.reached)
		goto done;
	rec = &pl.recs[0];
	rec->c.pledge.has_triggered = true;
	rec->c.pledge.triggered =
	    now < rec->c.pledge.deadline ? now : rec->c.pledge.deadline;
	if ((rc = mu_node_acts_next_rev(rec, rec->rev, rec->id, &why)) != 0 ||
	    (rc = sign_store(node, rec, &why)) != 0)
		goto fail;
	mu_node_log(node, MU_LOG_INFO,
	            "published pledge %.*s, rev %u: triggered at %llu of %u",
	            (int)a->d.len, a->d.ptr, (unsigned)rec->rev,
	            (unsigned long long)s.total, rec->c.pledge.threshold);
	goto done;
fail:
	mu_node_log(node, MU_LOG_WARN, "cannot publish the trigger of pledge %.*s: %s",
	            (int)a->d.len, a->d.ptr, mu_why_or(&why, rc));
done:
	mu_node_recs_free(&pl);
}

/* Publishes e's queue as our tally, if it says something new. */
static void
publish(struct mu_acts_host *h, struct host_ev *e)
{
	struct mu_node *node = h->node;
	struct cur_tally *cur = calloc(1, sizeof(*cur));
	struct mu_record *rec = calloc(1, sizeof(*rec));
	char d[MU_D_ADDR_LEN + 1];
	struct mu_why why = {0};
	struct mu_addr ev, ta;
	uint32_t cap = 0;
	uint64_t placed, total;
	int rc;

	e->dirty = false;
	if (cur == NULL || rec == NULL) {
		rc = MU_ENOMEM;
		goto fail;
	}
	event_addr(node, e, &ev);
	rc = mu_store_get_addr(node->store, &ev, get_capacity, &cap);
	if (rc == MU_ENOTFOUND || (rc == 0 && cap == 0))
		goto done; /* no capacity (any more): nothing to allot */
	if (rc != 0)
		goto fail;
	e->t.capacity = cap;
	if ((rc = check_queue(node, e)) != 0)
		goto fail;
	mu_rec_addr_d(&ev, d);
	ta = ev;
	ta.kind = MU_KIND_TALLY;
	ta.d.ptr = d;
	ta.d.len = MU_D_ADDR_LEN;
	rc = mu_store_get_addr(node->store, &ta, get_tally, cur);
	if (rc != 0 && rc != MU_ENOTFOUND)
		goto fail;
	/* Unchanged, or no rsvp yet and no tally to empty. */
	if ((cur->found && same_queue(&cur->t, &e->t)) ||
	    (!cur->found && e->t.nruns == 0))
		goto done;
	rec->kind = MU_KIND_TALLY;
	rec->d = ta.d;
	rec->c.tally.event = ev;
	mu_tally_to_rec(&e->t, &rec->c.tally);
	if (cur->found &&
	    (rc = mu_node_acts_next_rev(rec, cur->rev, cur->id, &why)) != 0)
		goto fail;
	if ((rc = sign_store(node, rec, &why)) != 0)
		goto fail;
	e->published = true;
	e->last_ms = uv_now(node->loop);
	total = mu_tally_total(&e->t, &placed);
	mu_node_log(node, MU_LOG_INFO,
	            "published the tally of event %s, rev %u: %llu of %u places "
	            "given, %llu waiting",
	            e->d, (unsigned)rec->rev, (unsigned long long)placed, cap,
	            (unsigned long long)(total - placed));
	goto done;
fail:
	mu_node_log(node, MU_LOG_WARN, "cannot publish the tally of event %s: %s", e->d,
	            mu_why_or(&why, rc));
done:
	free(cur);
	free(rec);
}

static void arm(struct mu_acts_host *h);

/* Publishes every dirty event whose debounce has run out. */
static void
run(struct mu_acts_host *h)
{
	uint64_t now = uv_now(h->node->loop),
	         every = h->node->opts.limits.acts_debounce_ms;

	for (struct host_ev *e = h->evs; e != NULL; e = e->next)
		if (e->dirty && (!e->published || now - e->last_ms >= every))
			publish(h, e);
	arm(h);
}

static void
on_timer(uv_timer_t *t)
{
	run(t->data);
}

/* The timer for the next dirty event's turn, if any. */
static void
arm(struct mu_acts_host *h)
{
	uint64_t now = uv_now(h->node->loop),
	         every = h->node->opts.limits.acts_debounce_ms;
	uint64_t next = UINT64_MAX, due;

	for (struct host_ev *e = h->evs; e != NULL; e = e->next) {
		if (!e->dirty)
			continue;
		due = e->last_ms + every;
		due = due > now ? due - now : 0;
		if (due < next)
			next = due;
	}
	if (next == UINT64_MAX)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timer, next, 0);
}

/* The event of ours named d, found or added (its queue read from our last
 * tally record). NULL when out of memory. */
static struct host_ev *
event_of(struct mu_acts_host *h, const struct mu_str *d)
{
	struct host_ev *e;
	struct mu_addr ev;

	if (d->len > MU_D_MAX)
		return NULL;
	for (e = h->evs; e != NULL; e = e->next)
		if (strlen(e->d) == d->len && memcmp(e->d, d->ptr, d->len) == 0)
			return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->d, d->ptr, d->len);
	event_addr(h->node, e, &ev);
	if (mu_node_acts_tally(h->node->store, &ev, &e->t, NULL) != 0)
		mu_tally_init(&e->t, 0);
	e->next = h->evs;
	h->evs = e;
	return e;
}

void
mu_acts_host_note(struct mu_node *node, const struct mu_record *rec)
{
	struct mu_acts_host *h = node->acts;
	const struct mu_addr *ev;
	struct mu_addr pa;
	struct host_ev *e;
	uint8_t *scope;
	size_t n, i;

	if (h == NULL)
		return;
	if (rec->kind == MU_KIND_DELETE) {
		/* Its target cannot be told from a digest: check every queue. */
		for (e = h->evs; e != NULL; e = e->next)
			e->dirty = true;
		run(h);
		return;
	}
	if (rec->kind == MU_KIND_EVENT &&
	    memcmp(rec->group, node->home->group, MU_KEY_BYTES) == 0 &&
	    rec->c.event.has_capacity) {
		if ((e = event_of(h, &rec->d)) != NULL) {
			e->dirty = true;
			run(h);
		}
		return;
	}
	if (rec->kind == MU_KIND_PLEDGE &&
	    memcmp(rec->group, node->home->group, MU_KEY_BYTES) == 0) {
		mu_rec_addr(rec, &pa);
		note_pledge(node, &pa);
		return;
	}
	if (rec->kind == MU_KIND_PLEDGED &&
	    memcmp(rec->c.pledged.pledge.group, node->home->group, MU_KEY_BYTES) == 0) {
		note_pledge(node, &rec->c.pledged.pledge);
		return;
	}
	if (rec->kind != MU_KIND_RSVP)
		return;
	ev = &rec->c.rsvp.event;
	if (memcmp(ev->group, node->home->group, MU_KEY_BYTES) != 0 ||
	    (e = event_of(h, &ev->d)) == NULL)
		return;
	/* In order of arrival: this one now, before any check of the queue. */
	scope = malloc(MU_ACTS_SCOPE_MAX * MU_KEY_BYTES);
	if (scope != NULL && mu_node_acts_scope(node->store, node->home->group,
	                                        (uint8_t(*)[MU_KEY_BYTES])scope,
	                                        MU_ACTS_SCOPE_MAX, &n) == 0)
		for (i = 0; i < n; i++)
			if (memcmp(scope + i * MU_KEY_BYTES, rec->group,
			           MU_KEY_BYTES) == 0) {
				(void)mu_tally_set(&e->t, rec->group,
				                   rec->c.rsvp.going);
				break;
			}
	free(scope);
	e->dirty = true;
	run(h);
}

static int
note_event(void *ctx, const struct mu_record *rec)
{
	struct mu_acts_host *h = ctx;
	struct host_ev *e;

	if (rec->c.event.has_capacity && (e = event_of(h, &rec->d)) != NULL)
		e->dirty = true;
	return 0;
}

void
mu_acts_host_start(struct mu_node *node)
{
	struct mu_acts_host *h = calloc(1, sizeof(*h));
	struct mu_node_recs pl = {0};
	struct mu_addr a;

	if (h == NULL) {
		mu_node_log(node, MU_LOG_WARN, "cannot keep tallies: out of memory");
		return;
	}
	h->node = node;
	uv_timer_init(node->loop, &h->timer);
	h->timer.data = h;
	node->acts = h;
	(void)mu_store_list(node->store, MU_KIND_EVENT, node->home->group, note_event,
	                    h);
	run(h);
	/* Pledges that reached their threshold while the daemon was down. */
	if (mu_node_recs_list(node->store, MU_KIND_PLEDGE, node->home->group, &pl) == 0)
		for (size_t i = 0; i < pl.n; i++) {
			mu_rec_addr(&pl.recs[i], &a);
			note_pledge(node, &a);
		}
	mu_node_recs_free(&pl);
}

static void
on_closed(uv_handle_t *t)
{
	struct mu_acts_host *h = t->data;

	while (h->evs != NULL) {
		struct host_ev *e = h->evs;

		h->evs = e->next;
		free(e);
	}
	free(h);
}

void
mu_acts_host_stop(struct mu_node *node)
{
	struct mu_acts_host *h = node->acts;

	if (h == NULL)
		return;
	node->acts = NULL;
	uv_close((uv_handle_t *)&h->timer, on_closed);
}
