/*
 * dial.c - keeping connections to known peers (internal.h, "dialing").
 *
 *   - The peers to dial are the store's peers table: those added with
 *     `muster peer add`, and those learnt from the node records of our
 *     mutual allies, which the table follows (added when an ally announces
 *     an address, removed when it no longer does or is no longer an ally).
 *     The table is re-read every few seconds, so the CLI's changes reach a
 *     running daemon.
 *   - A peer that failed is dialed again after an exponential backoff with
 *     jitter, from limits.dial_min_ms up to limits.dial_max_ms; a session
 *     that got ready resets it. A banned peer waits limits.ban_ms.
 *   - A peer whose session ended after lasting LASTED_MS most likely
 *     restarts (an upgrade, a reboot): for FAST_WINDOW_MS it is dialed
 *     again at an eighth of the time since the session ended, at least
 *     every dial_min_ms / 4, so that it is back within about an eighth of
 *     its time down rather than up to a whole backoff step later. The
 *     regular backoff starts after the window.
 *   - The timer wakes at the next dial due (or the next refresh), not on a
 *     fixed tick: a due dial never waits.
 *   - A peer whose group is already connected, either way, is not dialed
 *     twice. The caps on connections others open (conn.c) never delay
 *     our dials: an attacker who fills them must not cut us off from the
 *     peers we chose.
 *   - With --announce, our own node record is published at start, with
 *     rev + 1 only when the address list changed.
 *   - Bans: IP addresses refused at accept (and whose dials wait) for
 *     limits.ban_ms.
 *
 * The state lives in node->dial; everything runs on the loop thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../protocol/buf.h"
#include "../protocol/textform.h"
#include "../storage/local.h"
#include "addr.h"
#include "internal.h"

#define REFRESH_MS 2000 /* re-reading the peers table and allies' records */
/* The longest sleep (or dial_min_ms when shorter): due peers that were not
 * dialed (connected the other way) are looked at again this often. */
#define TICK_MS_MAX           1000
#define BACKOFF_DOUBLINGS_MAX 30
#define FAST_WINDOW_MS        30000 /* redialing soon after a session ended */
#define FAST_FRACTION         8     /* the delay: this fraction of the time down */
#define LASTED_MS             1000  /* a session shorter than this did not last */

struct dial_peer {
	struct dial_peer *next;
	char addr[MU_PEER_ADDR_MAX];
	bool has_key;
	uint8_t key[MU_KEY_BYTES];
	unsigned failures;                /* dials in a row that never got ready */
	uint64_t due;                     /* loop time (ms) of the next dial */
	uint64_t ready_at;                /* loop time our dial got ready */
	uint64_t lost;                    /* loop time a lasting session ended;
	                                     0: not in the fast window */
	bool active;                      /* a connection is open or being opened */
	bool listed;                      /* in the peers table at the last refresh */
	char state[16];                   /* as last written to the peers table */
	char reason[MU_PEER_REASON_SIZE]; /* why the last dial failed */
};

struct ban {
	struct ban *next;
	char ip[MU_NODE_IP_MAX];
	uint64_t until; /* loop time (ms) */
};

struct mu_dial {
	struct mu_node *node;
	uv_timer_t timer;
	struct dial_peer *peers;
	struct ban *bans;
	uint64_t refreshed; /* loop time of the last refresh */
};

/* Bans may be asked about before the dialer starts (or in a one-shot sync,
 * where there is none): no state, no bans. */
static struct mu_dial *
state(const struct mu_node *node)
{
	return node->dial;
}

/* --- reading the peers table ------------------------------------------- */

struct peer_list {
	struct mu_peer *v;
	size_t n, cap;
};

static int
collect_peer(void *ctx, const struct mu_peer *p)
{
	struct peer_list *l = ctx;

	if (mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 16) != 0)
		return MU_ENOMEM;
	l->v[l->n++] = *p;
	return 0;
}

static int
read_peers(struct mu_store *st, struct peer_list *l)
{
	l->n = 0;
	return mu_store_peers(st, collect_peer, l);
}

static struct mu_peer *
peer_in(struct peer_list *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].addr, addr) == 0)
			return &l->v[i];
	return NULL;
}

/* Writes a peer's state and failure reason (and last_seen when seen, which
 * clears the reason) to the peers table, keeping the statistics others
 * wrote there. */
static void
set_state(struct mu_dial *d, struct dial_peer *p, const char *st, bool seen)
{
	struct mu_node *node = d->node;
	struct peer_list l = {NULL, 0, 0};
	struct mu_peer *row;
	int rc;

	if (!seen && strcmp(p->state, st) == 0)
		return;
	snprintf(p->state, sizeof(p->state), "%s", st);
	if (seen)
		p->reason[0] = '\0';
	rc = read_peers(node->store, &l);
	row = rc == 0 ? peer_in(&l, p->addr) : NULL;
	if (row != NULL) {
		snprintf(row->state, sizeof(row->state), "%s", st);
		snprintf(row->reason, sizeof(row->reason), "%s", p->reason);
		if (seen)
			row->last_seen = (int64_t)time(NULL);
		rc = mu_store_peer_update(node->store, row);
	}
	if (rc == MU_EFULL)
		mu_node_store_full(node, "the state of a peer", NULL);
	else if (rc != 0 && rc != MU_ENOTFOUND)
		mu_node_log(node, MU_LOG_WARN, "cannot record the state of peer %s: %s",
		            p->addr, mu_strerror(rc));
	free(l.v);
}

/* --- learning addresses from allies' node records ------------------------ */

struct learnt {
	char addr[MU_PEER_ADDR_MAX];
	uint8_t key[MU_KEY_BYTES];
};

struct learn_ctx {
	struct mu_node *node;
	uint8_t (*allies)[MU_KEY_BYTES];
	size_t nallies, cap;
	struct learnt *v;
	size_t n, vcap;
	int err;
};

static int
collect_ally(void *ctx, const struct mu_alliance_view *v)
{
	struct learn_ctx *lc = ctx;

	if (v->state != MU_ALLY_MUTUAL)
		return 0;
	if (mu_buf_grow_array(&lc->allies, &lc->cap, lc->nallies + 1,
	                      sizeof(*lc->allies), 16) != 0)
		return MU_ENOMEM;
	memcpy(lc->allies[lc->nallies++], v->other, MU_KEY_BYTES);
	return 0;
}

static bool
is_ours(const struct mu_node *node, const char *addr)
{
	for (size_t i = 0; i < node->opts.nannounce; i++)
		if (strcmp(node->opts.announce[i], addr) == 0)
			return true;
	return false;
}

static int
collect_addrs(void *ctx, const struct mu_record *rec)
{
	struct learn_ctx *lc = ctx;
	const struct mu_node_rec *nr = &rec->c.node;

	for (size_t i = 0; i < nr->naddrs; i++) {
		struct learnt *l;

		if (nr->addrs[i].len >= MU_PEER_ADDR_MAX)
			continue;
		if (mu_buf_grow_array(&lc->v, &lc->vcap, lc->n + 1, sizeof(*lc->v),
		                      16) != 0)
			return MU_ENOMEM;
		l = &lc->v[lc->n];
		memcpy(l->addr, nr->addrs[i].ptr, nr->addrs[i].len);
		l->addr[nr->addrs[i].len] = '\0';
		memcpy(l->key, rec->group, MU_KEY_BYTES);
		if (!is_ours(lc->node, l->addr))
			lc->n++;
	}
	return 0;
}

static bool
learnt_has(const struct learn_ctx *lc, const char *addr)
{
	for (size_t i = 0; i < lc->n; i++)
		if (strcmp(lc->v[i].addr, addr) == 0)
			return true;
	return false;
}

/* Brings the learnt rows of the peers table in line with our allies' node
 * records. tab is the table as read; it is not updated. */
static void
learn(struct mu_dial *d, struct peer_list *tab)
{
	struct mu_node *node = d->node;
	struct learn_ctx lc;
	struct mu_why why = {0};
	struct mu_addr a;
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&lc, 0, sizeof(lc));
	lc.node = node;
	/* With hops 0 allies are out of the scope: nothing to dial them for. */
	rc = node->opts.hops < 1 ? 0
	                         : mu_store_alliances(node->store, node->home->group,
	                                              collect_ally, &lc);
	for (size_t i = 0; rc == 0 && i < lc.nallies; i++) {
		memset(&a, 0, sizeof(a));
		memcpy(a.group, lc.allies[i], MU_KEY_BYTES);
		a.kind = MU_KIND_NODE;
		a.d.ptr = "";
		rc = mu_store_get_addr(node->store, &a, collect_addrs, &lc);
		if (rc == MU_ENOTFOUND)
			rc = 0;
	}
	if (rc != 0) {
		/* Half a list would drop the rest: change nothing. */
		mu_node_log(node, MU_LOG_WARN, "cannot read our allies' addresses: %s",
		            mu_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < lc.n; i++) {
		struct mu_peer *row = peer_in(tab, lc.v[i].addr);
		char key[MU_KEY_TEXT_SIZE];

		if (row != NULL && (row->source == MU_PEER_MANUAL ||
		                    (row->has_key &&
		                     memcmp(row->key, lc.v[i].key, MU_KEY_BYTES) == 0)))
			continue;
		rc = mu_store_peer_add(node->store, lc.v[i].addr, lc.v[i].key,
		                       MU_PEER_LEARNT, now, &why);
		mu_key_to_text(key, lc.v[i].key);
		if (rc == 0)
			mu_node_log(node, MU_LOG_INFO, "learnt address %s of ally %s",
			            lc.v[i].addr, key);
		else
			mu_node_log(node, MU_LOG_WARN, "cannot add peer %s: %s",
			            lc.v[i].addr, mu_why_or(&why, rc));
	}
	for (size_t i = 0; i < tab->n; i++) {
		if (tab->v[i].source != MU_PEER_LEARNT ||
		    learnt_has(&lc, tab->v[i].addr))
			continue;
		rc = mu_store_peer_remove(node->store, tab->v[i].addr);
		if (rc == 0)
			mu_node_log(node, MU_LOG_INFO,
			            "forgot address %s: no ally announces it any more",
			            tab->v[i].addr);
	}
out:
	free(lc.allies);
	free(lc.v);
}

/* --- the dial list ------------------------------------------------------- */

static struct dial_peer *
find_peer(struct mu_dial *d, const char *addr)
{
	for (struct dial_peer *p = d->peers; p != NULL; p = p->next)
		if (strcmp(p->addr, addr) == 0)
			return p;
	return NULL;
}

static void
drop_unlisted(struct mu_dial *d)
{
	struct dial_peer **pp = &d->peers, *p;

	while ((p = *pp) != NULL) {
		if (!p->listed && !p->active) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static void
refresh(struct mu_dial *d)
{
	struct mu_node *node = d->node;
	struct peer_list tab = {NULL, 0, 0};
	struct dial_peer *p;
	int rc;

	d->refreshed = uv_now(node->loop);
	rc = read_peers(node->store, &tab);
	if (rc == 0) {
		learn(d, &tab);
		rc = read_peers(node->store, &tab);
	}
	if (rc != 0) {
		mu_node_log(node, MU_LOG_WARN, "cannot read the peers table: %s",
		            mu_strerror(rc));
		goto out;
	}
	for (p = d->peers; p != NULL; p = p->next)
		p->listed = false;
	for (size_t i = 0; i < tab.n; i++) {
		const struct mu_peer *row = &tab.v[i];

		p = find_peer(d, row->addr);
		if (p == NULL) {
			p = calloc(1, sizeof(*p));
			if (p == NULL)
				break;
			snprintf(p->addr, sizeof(p->addr), "%s", row->addr);
			snprintf(p->state, sizeof(p->state), "%s", row->state);
			snprintf(p->reason, sizeof(p->reason), "%s", row->reason);
			p->due = uv_now(node->loop);
			p->next = d->peers;
			d->peers = p;
		}
		p->listed = true;
		p->has_key = row->has_key;
		memcpy(p->key, row->key, MU_KEY_BYTES);
	}
	drop_unlisted(d);
out:
	free(tab.v);
}

static bool
group_connected(const struct mu_node *node, const uint8_t key[MU_KEY_BYTES])
{
	for (const struct mu_conn *c = node->conns; c != NULL; c = mu_conn_next(c))
		if (mu_conn_is_ready(c) &&
		    memcmp(mu_conn_peer_group(c), key, MU_KEY_BYTES) == 0)
			return true;
	return false;
}

/* The delay before dialing again after failures failed dials in a row:
 * the doubled minimum, capped, then "equal jitter" (half of it random), so
 * that peers that failed together do not come back together. */
static uint64_t
backoff_ms(const struct mu_node_limits *lim, unsigned failures)
{
	uint64_t base = lim->dial_min_ms > 0 ? lim->dial_min_ms : 1, delay;

	for (unsigned i = 0; i < failures && base < lim->dial_max_ms; i++)
		base *= 2;
	if (base > lim->dial_max_ms)
		base = lim->dial_max_ms;
	delay = base / 2 + randombytes_uniform((uint32_t)(base / 2 + 1));
	return delay < lim->dial_min_ms ? lim->dial_min_ms : delay;
}

/* The delay before the next dial within the fast window after a lasting
 * session ended (lost), or 0 once the window is over. */
static uint64_t
fast_ms(const struct mu_node_limits *lim, uint64_t lost, uint64_t now)
{
	uint64_t least = lim->dial_min_ms / 4 > 0 ? lim->dial_min_ms / 4 : 1;
	uint64_t delay = (now - lost) / FAST_FRACTION;

	if (now - lost >= FAST_WINDOW_MS)
		return 0;
	return delay > least ? delay : least;
}

/* reason, when not NULL or "", says why a dial failed. */
static void
reschedule(struct mu_dial *d, struct dial_peer *p, bool was_ready, bool banned,
           const char *reason)
{
	struct mu_node *node = d->node;
	const struct mu_node_limits *lim = &node->opts.limits;
	uint64_t now = uv_now(node->loop), delay, fast = 0;

	/* A session that ended right after its handshake (a peer at its
	 * caps) gets the regular backoff, not the fast window. */
	if (was_ready && p->ready_at != 0 && now - p->ready_at >= LASTED_MS)
		p->lost = now;
	else if (was_ready)
		p->lost = 0;
	if (p->lost != 0 && !banned)
		fast = fast_ms(lim, p->lost, now);
	if (fast == 0)
		p->lost = 0;
	if (was_ready)
		p->failures = 0;
	else if (fast == 0 && p->failures < BACKOFF_DOUBLINGS_MAX)
		p->failures++;
	if (!was_ready && reason != NULL && reason[0] != '\0' && reason != p->reason &&
	    strcmp(p->reason, reason) != 0) {
		snprintf(p->reason, sizeof(p->reason), "%s", reason);
		p->state[0] = '\0'; /* written again, with the reason */
	}
	delay = banned ? lim->ban_ms : fast != 0 ? fast : backoff_ms(lim, p->failures);
	p->due = now + delay;
	mu_node_log(node, MU_LOG_DEBUG, "%s: dialing again in %llu ms", p->addr,
	            (unsigned long long)delay);
	set_state(d, p, banned ? "banned" : "backoff", false);
}

static void
dial_due(struct mu_dial *d)
{
	struct mu_node *node = d->node;
	uint64_t now = uv_now(node->loop);
	struct mu_why why;
	int rc;

	for (struct dial_peer *p = d->peers; p != NULL; p = p->next) {
		if (!p->listed || p->active || p->due > now || is_ours(node, p->addr))
			continue;
		if (p->has_key && group_connected(node, p->key)) {
			set_state(d, p, "connected", false);
			continue;
		}
		p->active = true;
		p->ready_at = 0;
		set_state(d, p, "dialing", false);
		why.text[0] = '\0';
		rc = mu_conn_dial(node, p->addr, p->has_key ? p->key : NULL, &why);
		if (rc != 0) {
			p->active = false;
			mu_node_log(node, MU_LOG_WARN, "cannot dial %s: %s", p->addr,
			            mu_why_or(&why, rc));
			reschedule(d, p, false, false, mu_why_or(&why, rc));
		}
	}
}

static void
expire_bans(struct mu_dial *d)
{
	uint64_t now = uv_now(d->node->loop);
	struct ban **bp = &d->bans, *b;

	while ((b = *bp) != NULL) {
		if (b->until <= now) {
			mu_node_log(d->node, MU_LOG_INFO, "ban of %s expired", b->ip);
			*bp = b->next;
			free(b);
		} else {
			bp = &b->next;
		}
	}
}

static void on_tick(uv_timer_t *t);

/* Sets the timer for the next dial due, the next refresh or TICK_MS_MAX,
 * whichever comes first. */
static void
arm(struct mu_dial *d)
{
	const struct mu_node_limits *lim = &d->node->opts.limits;
	uint64_t now = uv_now(d->node->loop), next = d->refreshed + REFRESH_MS;
	uint64_t tick = lim->dial_min_ms < TICK_MS_MAX ? lim->dial_min_ms : TICK_MS_MAX;

	if (tick < 10)
		tick = 10;
	if (next > now + tick)
		next = now + tick;
	for (const struct dial_peer *p = d->peers; p != NULL; p = p->next)
		if (p->listed && !p->active && p->due > now && p->due < next)
			next = p->due;
	uv_timer_start(&d->timer, on_tick, next > now ? next - now : 0, 0);
}

static void
on_tick(uv_timer_t *t)
{
	struct mu_dial *d = t->data;

	if (d->node->stopping)
		return;
	if (uv_now(d->node->loop) - d->refreshed >= REFRESH_MS)
		refresh(d);
	expire_bans(d);
	dial_due(d);
	arm(d);
}

/* --- announcing our node record ------------------------------------------ */

struct current {
	bool found;
	uint32_t rev;
	size_t n;
	char addrs[MU_NODE_ADDRS_MAX][MU_NODE_ADDR_MAX + 1];
};

static int
copy_current(void *ctx, const struct mu_record *rec)
{
	struct current *cur = ctx;

	cur->found = true;
	cur->rev = rec->rev;
	cur->n = rec->c.node.naddrs;
	for (size_t i = 0; i < cur->n; i++) {
		size_t len = rec->c.node.addrs[i].len;

		if (len > MU_NODE_ADDR_MAX)
			len = MU_NODE_ADDR_MAX;
		memcpy(cur->addrs[i], rec->c.node.addrs[i].ptr, len);
		cur->addrs[i][len] = '\0';
	}
	return 0;
}

static bool
same_addrs(const struct current *cur, const struct mu_node_opts *opts)
{
	if (!cur->found || cur->n != opts->nannounce)
		return false;
	for (size_t i = 0; i < cur->n; i++)
		if (strcmp(cur->addrs[i], opts->announce[i]) != 0)
			return false;
	return true;
}

/* Publishes our node record when the announced addresses changed. The poll
 * pushes it to peers like any new record. */
static void
announce(struct mu_dial *d)
{
	struct mu_node *node = d->node;
	const struct mu_node_opts *opts = &node->opts;
	const struct mu_record *one[1];
	struct mu_record rec, built;
	enum mu_put_result res;
	struct mu_why why = {0};
	struct current cur;
	struct mu_addr a;
	uint8_t *buf = NULL;
	struct mu_home *keys = NULL;
	const struct mu_home *h = node->home;
	const uint8_t *sk;
	size_t len;
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (opts->nannounce == 0)
		return;
	memset(&cur, 0, sizeof(cur));
	memset(&a, 0, sizeof(a));
	memcpy(a.group, node->home->group, MU_KEY_BYTES);
	a.kind = MU_KIND_NODE;
	a.d.ptr = "";
	rc = mu_store_get_addr(node->store, &a, copy_current, &cur);
	if (rc != 0 && rc != MU_ENOTFOUND)
		goto fail;
	if (same_addrs(&cur, opts)) {
		mu_node_log(node, MU_LOG_DEBUG, "our node record is up to date");
		return;
	}
	/* After the start the daemon holds no signing key (daemon.c): a
	 * later address (a port mapping's) is signed with the key read from
	 * the home for the moment, and wiped with it, as merges are. */
	if (h->org_secret == NULL && h->secret == NULL) {
		rc = mu_home_open(&keys, opts->home, true, &why);
		if (rc != 0)
			goto fail;
		h = keys;
	}
	sk = h->org_secret != NULL ? h->org_secret : h->secret;
	if (sk == NULL) {
		rc = mu_fail(&why, MU_ENOTFOUND, "this home holds no key to sign it");
		goto fail;
	}
	if (cur.found && cur.rev >= MU_REV_MAX) {
		rc = mu_fail(&why, MU_ERECORD, "its rev reached the maximum");
		goto fail;
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_NODE;
	memcpy(rec.group, node->home->group, MU_KEY_BYTES);
	/* The home's organizer key signs; a home without one (made by an
	 * older version and not yet used by the CLI) signs with the root. */
	memcpy(rec.signer, sk == h->org_secret ? h->organizer : h->group, MU_KEY_BYTES);
	rec.created_at = now;
	rec.d.ptr = "";
	rec.rev = cur.found ? cur.rev + 1 : 0;
	rec.c.node.naddrs = opts->nannounce;
	for (size_t i = 0; i < opts->nannounce; i++) {
		rec.c.node.addrs[i].ptr = opts->announce[i];
		rec.c.node.addrs[i].len = strlen(opts->announce[i]);
	}
	rc = mu_rec_build(&rec, sk, now, &buf, &len, NULL, &why);
	mu_home_close(keys);
	keys = NULL;
	if (rc == 0)
		rc = mu_rec_parse(&built, buf, len, now, 0, &why);
	one[0] = &built;
	if (rc == 0)
		rc = mu_store_put(node->store, one, 1, &res, &why);
	if (rc == 0 && res != MU_PUT_NEW && res != MU_PUT_DUPLICATE)
		rc = mu_fail(&why, MU_ERECORD, "the store answered %s",
		             mu_put_result_name(res));
	free(buf);
	if (rc != 0)
		goto fail;
	mu_node_log(node, MU_LOG_INFO,
	            "published our node record, rev %u, with %zu "
	            "address%s",
	            (unsigned)rec.rev, opts->nannounce,
	            opts->nannounce == 1 ? "" : "es");
	return;
fail:
	mu_home_close(keys);
	mu_node_log(node, MU_LOG_WARN, "cannot publish our node record: %s",
	            mu_why_or(&why, rc));
}

/* A later finding about the last failed dial of addr (probe.c): replaces
 * its reason in the peers table. */
static void
note_reason(struct mu_node *node, const char *addr, const char *reason)
{
	struct mu_dial *d = state(node);
	struct dial_peer *p;
	char st[sizeof(p->state)];

	if (d == NULL || (p = find_peer(d, addr)) == NULL || !p->listed ||
	    strcmp(p->state, "connected") == 0)
		return;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	memcpy(st, p->state, sizeof(st));
	p->state[0] = '\0'; /* written again, with the reason */
	set_state(d, p, st, false);
}

/* --- the dial API -------------------------------------------------------- */

void
mu_dial_announce(struct mu_node *node)
{
	struct mu_dial *d = state(node);

	if (d != NULL)
		announce(d);
}

int
mu_dial_start(struct mu_node *node)
{
	struct mu_dial *d;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return MU_ENOMEM;
	d->node = node;
	uv_timer_init(node->loop, &d->timer);
	d->timer.data = d;
	node->dial = d;
	announce(d);
	refresh(d);
	dial_due(d);
	arm(d);
	return 0;
}

static void
on_dial_closed(uv_handle_t *h)
{
	struct mu_dial *d = h->data;

	while (d->peers != NULL) {
		struct dial_peer *p = d->peers;

		d->peers = p->next;
		free(p);
	}
	while (d->bans != NULL) {
		struct ban *b = d->bans;

		d->bans = b->next;
		free(b);
	}
	free(d);
}

void
mu_dial_stop(struct mu_node *node)
{
	struct mu_dial *d = state(node);

	if (d == NULL)
		return;
	/* Connections close right after this: say so in the table now, since
	 * their closes no longer reach us. */
	for (struct dial_peer *p = d->peers; p != NULL; p = p->next)
		if (p->listed && strcmp(p->state, "idle") != 0 && p->state[0] != '\0')
			set_state(d, p, "idle", false);
	node->dial = NULL;
	uv_close((uv_handle_t *)&d->timer, on_dial_closed);
}

void
mu_dial_ready(struct mu_node *node, struct mu_conn *c)
{
	struct mu_dial *d = state(node);
	const char *addr = mu_conn_dialed_addr(c);
	const uint8_t *group = mu_conn_peer_group(c);
	struct dial_peer *p;

	if (d == NULL || group == NULL)
		return;
	if (addr != NULL) {
		p = find_peer(d, addr);
		if (p != NULL) {
			p->ready_at = uv_now(node->loop);
			set_state(d, p, "connected", true);
		}
		return;
	}
	/* A peer we know that dialed us: it is connected too. */
	for (p = d->peers; p != NULL; p = p->next)
		if (p->listed && !p->active && p->has_key &&
		    memcmp(p->key, group, MU_KEY_BYTES) == 0)
			set_state(d, p, "connected", true);
}

void
mu_dial_closed(struct mu_node *node, const struct mu_conn *c, bool was_ready,
               bool banned)
{
	struct mu_dial *d = state(node);
	const char *addr = mu_conn_dialed_addr(c), *reason = mu_conn_reason(c);
	struct dial_peer *p;
	bool probe;

	if (d == NULL || addr == NULL || (p = find_peer(d, addr)) == NULL)
		return;
	p->active = false;
	if (!p->listed) {
		drop_unlisted(d);
		return;
	}
	/* A silent hang-up is probed once per run of them; what the probe
	 * found stays until something else happens. */
	probe = !was_ready && mu_conn_unanswered(c);
	if (probe &&
	    strncmp(p->reason, MU_PROBE_HTTP_REASON, strlen(MU_PROBE_HTTP_REASON)) == 0)
		reason = p->reason;
	else if (probe && strcmp(p->reason, reason) == 0)
		probe = false;
	else if (probe)
		mu_probe_http(node, addr, mu_conn_ip(c), note_reason);
	reschedule(d, p, was_ready, banned, reason);
	arm(d);
}

bool
mu_dial_banned(struct mu_node *node, const char *ip)
{
	struct mu_dial *d = state(node);
	uint64_t now;

	if (d == NULL || ip == NULL || ip[0] == '\0')
		return false;
	now = uv_now(node->loop);
	for (struct ban *b = d->bans; b != NULL; b = b->next)
		if (b->until > now && strcmp(b->ip, ip) == 0)
			return true;
	return false;
}

/* The IP in what a caller passed: an IP, a connection's name ("HOST:PORT")
 * or a HOST:PORT whose host is an IP. */
static void
ban_key(const struct mu_node *node, const char *what, char ip[MU_NODE_IP_MAX])
{
	char host[MU_NODE_HOST_MAX];
	struct sockaddr_storage sa;
	uint16_t port;

	for (const struct mu_conn *c = node->conns; c != NULL; c = mu_conn_next(c))
		if (strcmp(mu_conn_name(c), what) == 0 && mu_conn_ip(c)[0] != '\0') {
			snprintf(ip, MU_NODE_IP_MAX, "%s", mu_conn_ip(c));
			return;
		}
	if (mu_node_addr_split(what, host, &port, NULL) == 0 &&
	    mu_node_addr_numeric(host, port, &sa) == 0) {
		mu_node_addr_name((struct sockaddr *)&sa, host, sizeof(host), ip);
		return;
	}
	snprintf(ip, MU_NODE_IP_MAX, "%s", what);
}

void
mu_dial_ban(struct mu_node *node, const char *ip)
{
	struct mu_dial *d = state(node);
	uint64_t until;
	struct ban *b;
	char key[MU_NODE_IP_MAX];

	if (d == NULL || ip == NULL || ip[0] == '\0')
		return;
	ban_key(node, ip, key);
	until = uv_now(node->loop) + node->opts.limits.ban_ms;
	for (b = d->bans; b != NULL; b = b->next)
		if (strcmp(b->ip, key) == 0)
			break;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return;
		snprintf(b->ip, sizeof(b->ip), "%s", key);
		b->next = d->bans;
		d->bans = b;
	}
	b->until = until;
	mu_node_log(node, MU_LOG_INFO, "banned %s for %u s", key,
	            node->opts.limits.ban_ms / 1000);
}
