/*
 * entries.c - places, published counts and retention of the personal
 * entries (entries.h).
 *
 * The counts: a change marks its target dirty; a flush publishes the
 * record of every dirty target and is run at once when the last flush is
 * limits.acts_debounce_ms or more ago, else by a timer when that time is
 * up. So each record gets at most one revision per debounce time, and a
 * burst of replies costs one revision, not one each.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../protocol/recur.h"
#include "../protocol/tally.h"
#include "acts.h"
#include "calendar.h"
#include "entries.h"
#include "internal.h"

#define DIRTY_MAX 64 /* targets waiting for their count; more: all of them */

struct mu_node_entries {
	struct mu_node *node;
	uv_timer_t flush, sweep;
	int handles;
	uint64_t last_flush; /* uv_now() of the last flush; 0: none yet */
	bool flushed;
	struct mu_entry dirty[DIRTY_MAX]; /* only type, target and d are used */
	size_t ndirty;
	bool all_dirty;
};

int64_t
mu_node_entry_end(const struct mu_record *rec)
{
	int64_t end, bound;

	switch (rec->kind) {
	case MU_KIND_EVENT:
		end = mu_cal_end(&rec->c.event);
		bound = mu_recur_end_bound(&rec->c.event);
		return bound > end ? bound : end;
	case MU_KIND_PETITION:
		if (rec->c.petition.has_deadline)
			return rec->c.petition.deadline;
		return rec->c.petition.status == MU_PETITION_CLOSED ? rec->created_at
		                                                    : INT64_MAX;
	case MU_KIND_PLEDGE:
		end = rec->c.pledge.deadline;
		if (rec->c.pledge.has_end && rec->c.pledge.end > end)
			end = rec->c.pledge.end;
		else if (rec->c.pledge.has_start && rec->c.pledge.start > end)
			end = rec->c.pledge.start;
		return end;
	default:
		return INT64_MIN;
	}
}

/* --- places ------------------------------------------------------------------- */

/* Our group's share of the host's tally of event: 0 with *found when the
 * tally counts us. */
static int
our_share(struct mu_node *node, const struct mu_addr *event, bool *found,
          struct mu_tally_share *share)
{
	struct mu_tally t;
	int64_t made_at;
	int err;

	memset(share, 0, sizeof(*share));
	*found = false;
	err = mu_node_acts_tally(node->store, event, &t, &made_at);
	if (err == MU_ENOTFOUND)
		return 0;
	if (err != 0)
		return err;
	mu_tally_share(&t, node->home->group, share);
	*found = share->going > 0;
	return 0;
}

struct walk_places {
	uint64_t pos;    /* the entry asked about */
	uint32_t placed; /* our share's places */
	uint64_t used;   /* places given so far */
	bool full;       /* one did not fit: all after it wait */
	enum mu_place_state state;
};

static int
walk_place(void *ctx, const struct mu_entry *e)
{
	struct walk_places *w = ctx;
	bool fits;

	if (!e->going)
		return 0;
	fits = !w->full && w->used + e->party <= w->placed;
	if (fits)
		w->used += e->party;
	else
		w->full = true;
	if (e->pos == w->pos) {
		w->state = fits ? MU_PLACE_CONFIRMED : MU_PLACE_WAITLISTED;
		return 1;
	}
	return 0;
}

int
mu_node_place_of(struct mu_node *node, const struct mu_entry *e, bool has_capacity,
                 struct mu_node_place *pl)
{
	struct mu_tally_share share;
	struct walk_places w;
	bool found;
	int err;

	pl->state = MU_PLACE_NOT_GOING;
	if (e->type != MU_ENTRY_RSVP || !e->going)
		return 0;
	pl->state = MU_PLACE_CONFIRMED;
	if (!has_capacity)
		return 0;
	if ((err = our_share(node, &e->target, &found, &share)) != 0)
		return err;
	pl->state = MU_PLACE_PENDING;
	if (!found)
		return 0;
	memset(&w, 0, sizeof(w));
	w.pos = e->pos;
	w.placed = share.placed;
	w.state = MU_PLACE_PENDING;
	err = mu_entries(node->store, &e->target, walk_place, &w);
	if (err < 0)
		return err;
	pl->state = w.state;
	return 0;
}

/* --- the counts --------------------------------------------------------------- */

struct count {
	uint64_t going; /* people: rsvp going (party sizes), signers, pledgers */
	/* Signatures: the names shown, each cut to MU_NAME_MAX bytes on a
	 * character boundary, the first MU_NAMES_MAX in order of signing. */
	char names[MU_NAMES_MAX][MU_NAME_MAX + 1];
	struct mu_str strs[MU_NAMES_MAX];
	size_t nnames;
};

static int
count_entry(void *ctx, const struct mu_entry *e)
{
	struct count *c = ctx;
	size_t n;

	if (e->type == MU_ENTRY_RSVP && !e->going)
		return 0;
	c->going += e->type == MU_ENTRY_RSVP ? e->party : 1;
	if (e->type != MU_ENTRY_SIGNATURE || !e->show_name || e->name[0] == '\0' ||
	    c->nnames == MU_NAMES_MAX)
		return 0;
	n = strlen(e->name);
	if (n > MU_NAME_MAX) {
		n = MU_NAME_MAX;
		while (n > 0 && ((unsigned char)e->name[n] & 0xc0) == 0x80)
			n--; /* not inside a character */
	}
	memcpy(c->names[c->nnames], e->name, n);
	c->names[c->nnames][n] = '\0';
	c->strs[c->nnames].ptr = c->names[c->nnames];
	c->strs[c->nnames].len = n;
	c->nnames++;
	return 0;
}

struct pledge_rec {
	bool found;
	int64_t deadline;
};

static int
copy_pledge(void *ctx, const struct mu_record *rec)
{
	struct pledge_rec *p = ctx;

	p->found = rec->kind == MU_KIND_PLEDGE;
	p->deadline = rec->c.pledge.deadline;
	return 0;
}

static int
copy_pledged(void *ctx, const struct mu_record *rec)
{
	if (rec->kind == MU_KIND_PLEDGED)
		*(uint32_t *)ctx = rec->c.pledged.count;
	return 0;
}

/* Our group's current pledged count of pledge (0: none). */
static uint32_t
own_pledged(struct mu_node *node, const struct mu_addr *pledge)
{
	char d[MU_D_ADDR_LEN + 1];
	struct mu_addr a;
	uint32_t n = 0;

	a.kind = MU_KIND_PLEDGED;
	memcpy(a.group, node->home->group, MU_KEY_BYTES);
	mu_rec_addr_d(pledge, d);
	a.d.ptr = d;
	a.d.len = strlen(d);
	(void)mu_store_get_addr(node->store, &a, copy_pledged, &n);
	return n;
}

int
mu_node_publish_count(struct mu_node *node, const struct mu_addr *target,
                      struct mu_why *why)
{
	struct mu_tally_share share;
	struct mu_pledge_state ps;
	struct pledge_rec pr = {0};
	struct mu_acts_count ac;
	struct mu_home *home = NULL;
	struct count *c;
	bool found = false, changed = false;
	int64_t now = mu_home_now();
	int err;

	if (target->kind != MU_KIND_EVENT && target->kind != MU_KIND_PETITION &&
	    target->kind != MU_KIND_PLEDGE)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MU_ENOMEM;
	memset(&ac, 0, sizeof(ac));
	ac.target = *target;
	ac.kind = mu_node_acts_answer_kind(target->kind);
	ac.keep_flags = true;
	if ((err = mu_entries(node->store, target, count_entry, c)) != 0)
		goto out;
	if (c->going > MU_COUNT_MAX)
		c->going = MU_COUNT_MAX;
	ac.count = (uint32_t)c->going;
	if (target->kind == MU_KIND_EVENT) {
		if ((err = our_share(node, target, &found, &share)) != 0)
			goto out;
		/* Our waiting people as the tally stands; it counts us once
		 * our record arrived. */
		if (found && share.placed <= c->going) {
			ac.has_waitlisted = true;
			ac.waitlisted = (uint32_t)c->going - share.placed;
		}
	} else if (target->kind == MU_KIND_PETITION) {
		ac.names = c->strs;
		ac.nnames = c->nnames;
	} else {
		/* docs/PROTOCOL.md: no pledged revision after the deadline,
		 * and none lower once the pledge triggered. */
		err = mu_store_get_addr(node->store, target, copy_pledge, &pr);
		if (err != 0 && err != MU_ENOTFOUND)
			goto out;
		err = 0;
		if (pr.found && now > pr.deadline)
			goto out;
		err = mu_node_acts_pledge(node->store, target, &ps);
		if (err != 0 && err != MU_ENOTFOUND)
			goto out;
		err = 0;
		if (ps.triggered && own_pledged(node, target) > ac.count)
			goto out;
	}
	/* The daemon forgot its keys after its start (daemon.c): read them
	 * for this signature only, as the merge of edits does (commit.c). */
	if ((err = mu_home_open(&home, node->opts.home, true, why)) != 0)
		goto out;
	err = mu_node_acts_publish(node->store, home, &ac, now, &changed, why);
	mu_home_close(home);
	if (err == 0 && changed)
		mu_node_log(node, MU_LOG_INFO, "published our %s count: %" PRIu64,
		            mu_kind_name(ac.kind), c->going);
out:
	free(c);
	return err;
}

/* --- the debounce ------------------------------------------------------------- */

static int
mark_target(void *ctx, const struct mu_entry *first)
{
	mu_node_entries_changed(ctx, &first->target);
	return 0;
}

static void
flush(struct mu_node_entries *x)
{
	struct mu_node *node = x->node;
	struct mu_entry dirty[DIRTY_MAX];
	size_t n = x->ndirty;
	bool all = x->all_dirty;
	struct mu_why why = {0};
	int err;

	memcpy(dirty, x->dirty, n * sizeof(dirty[0]));
	x->ndirty = 0;
	x->all_dirty = false;
	x->last_flush = uv_now(node->loop);
	x->flushed = true;
	if (all) {
		/* Too many at once: every target with entries, from the table. */
		if ((err = mu_entries_targets(node->store, mark_target, node)) != 0)
			mu_node_log(node, MU_LOG_WARN, "cannot read the entries: %s",
			            mu_strerror(err));
		memcpy(dirty + 0, x->dirty, x->ndirty * sizeof(dirty[0]));
		n = x->ndirty;
		x->ndirty = 0;
		x->all_dirty = false;
	}
	for (size_t i = 0; i < n; i++) {
		mu_entry_fix(&dirty[i]);
		memset(&why, 0, sizeof(why));
		err = mu_node_publish_count(node, &dirty[i].target, &why);
		if (err != 0)
			mu_node_log(node, MU_LOG_WARN, "cannot publish our count: %s",
			            mu_why_or(&why, err));
	}
}

static void
on_flush(uv_timer_t *t)
{
	flush(t->data);
}

void
mu_node_entries_changed(struct mu_node *node, const struct mu_addr *target)
{
	struct mu_node_entries *x = node->entries;
	uint64_t now, wait = node->opts.limits.acts_debounce_ms;
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->ndirty; i++)
		if (x->dirty[i].target.kind == target->kind &&
		    memcmp(x->dirty[i].target.group, target->group, MU_KEY_BYTES) ==
		        0 &&
		    strlen(x->dirty[i].d) == target->d.len &&
		    memcmp(x->dirty[i].d, target->d.ptr, target->d.len) == 0)
			break;
	if (i == x->ndirty && x->ndirty < DIRTY_MAX) {
		struct mu_entry *e = &x->dirty[x->ndirty++];

		memset(e, 0, sizeof(*e));
		e->target = *target;
		memcpy(e->d, target->d.ptr, target->d.len);
		mu_entry_fix(e);
	} else if (i == x->ndirty) {
		x->all_dirty = true;
	}
	if (uv_is_active((uv_handle_t *)&x->flush))
		return;
	now = uv_now(node->loop);
	wait =
	    x->flushed && now - x->last_flush < wait ? wait - (now - x->last_flush) : 0;
	uv_timer_start(&x->flush, on_flush, wait, 0);
}

/* --- retention ------------------------------------------------------------------ */

struct target_list {
	struct mu_entry *v;
	size_t n, cap;
};

static int
collect_target(void *ctx, const struct mu_entry *first)
{
	struct target_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct mu_entry *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return MU_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *first;
	return 0;
}

static int
copy_end(void *ctx, const struct mu_record *rec)
{
	*(int64_t *)ctx = mu_node_entry_end(rec);
	return 0;
}

static void
sweep(struct mu_node_entries *x)
{
	struct mu_node *node = x->node;
	struct target_list l = {0};
	int64_t now = mu_home_now(),
	        keep = (int64_t)node->opts.keep_entries_days * 86400;
	uint64_t removed, total = 0;
	int err;

	err = mu_entries_targets(node->store, collect_target, &l);
	for (size_t i = 0; err == 0 && i < l.n; i++) {
		int64_t end = INT64_MIN;

		mu_entry_fix(&l.v[i]);
		/* The record's end now, for an event moved since; a record
		 * gone leaves the end stored with the entries. */
		err = mu_store_get_addr(node->store, &l.v[i].target, copy_end, &end);
		if (err == MU_ENOTFOUND)
			err = 0;
		if (err == 0)
			err = mu_entries_expire(node->store, &l.v[i].target, end, now,
			                        keep, &removed);
		total += removed;
		/* Also when nothing went: an event's waitlisted count follows
		 * the host's tally, which changes without our entries
		 * changing. An unchanged count publishes no revision. */
		if (err == 0 && (removed > 0 || l.v[i].target.kind == MU_KIND_EVENT))
			mu_node_entries_changed(node, &l.v[i].target);
	}
	free(l.v);
	if (err != 0)
		mu_node_log(node, MU_LOG_WARN, "cannot delete expired entries: %s",
		            mu_strerror(err));
	else if (total > 0)
		mu_node_log(node, MU_LOG_INFO,
		            "deleted %" PRIu64 " personal entries %u days past their "
		            "event",
		            total, node->opts.keep_entries_days);
}

static void
on_sweep(uv_timer_t *t)
{
	sweep(t->data);
}

int
mu_node_entries_start(struct mu_node *node)
{
	struct mu_node_entries *x = calloc(1, sizeof(*x));
	unsigned every = node->opts.limits.entries_sweep_ms;

	if (x == NULL)
		return MU_ENOMEM;
	x->node = node;
	uv_timer_init(node->loop, &x->flush);
	uv_timer_init(node->loop, &x->sweep);
	x->flush.data = x->sweep.data = x;
	x->handles = 2;
	node->entries = x;
	sweep(x);
	uv_timer_start(&x->sweep, on_sweep, every, every > 0 ? every : 1000);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct mu_node_entries *x = h->data;

	if (--x->handles == 0)
		free(x);
}

void
mu_node_entries_stop(struct mu_node *node)
{
	struct mu_node_entries *x = node->entries;

	if (x == NULL)
		return;
	node->entries = NULL;
	uv_close((uv_handle_t *)&x->flush, on_closed);
	uv_close((uv_handle_t *)&x->sweep, on_closed);
}
