/*
 * http_groups.c - the groups a request talks about, and the alliances
 * between any two of them (http.h).
 *
 * "Last seen" of a group is now while this node is connected to a node that
 * proved the group's key, whoever dialed; else the last time it was (the
 * newest of the peers table's last_seen over the group's peers and the
 * home's serve.seen, which counts connections the other side dialed too);
 * "last record" is the created_at of the
 * newest record of the group in the store, which says when the group last
 * published anything, whoever relayed it.
 */
#include <stdlib.h>
#include <string.h>

#include "../../storage/local.h"
#include "http.h"
#include "../json_record.h"

static int
cmp_key(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, MU_KEY_BYTES);
}

/* Where key is in g->v, or where it would go. */
static size_t
position(const struct mu_http_groups *g, const uint8_t key[MU_KEY_BYTES])
{
	size_t lo = 0, hi = g->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cmp_key(g->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mu_http_group *
mu_http_group_find(const struct mu_http_groups *g, const uint8_t key[MU_KEY_BYTES])
{
	size_t i = position(g, key);

	return i < g->n && cmp_key(g->v[i].key, key) == 0 ? &g->v[i] : NULL;
}

/* The entry for key, added (zeroed) when missing; NULL when out of memory. */
static struct mu_http_group *
group_at(struct mu_http_groups *g, const uint8_t key[MU_KEY_BYTES])
{
	size_t i = position(g, key);
	struct mu_http_group *v;

	if (i < g->n && cmp_key(g->v[i].key, key) == 0)
		return &g->v[i];
	if (mu_buf_grow_array(&g->v, &g->cap, g->n + 1, sizeof(*v), 32) != 0)
		return NULL;
	v = g->v;
	memmove(&v[i + 1], &v[i], (g->n - i) * sizeof(*v));
	g->n++;
	memset(&v[i], 0, sizeof(*v));
	memcpy(v[i].key, key, MU_KEY_BYTES);
	return &v[i];
}

static int
on_profile(void *ctx, const struct mu_record *rec)
{
	struct mu_http_group *e = group_at(ctx, rec->group);
	const struct mu_str *name = &rec->c.profile.name;

	if (e == NULL || (e->name = malloc(name->len + 1)) == NULL)
		return MU_ENOMEM;
	memcpy(e->name, name->ptr, name->len);
	e->name[name->len] = '\0';
	return 0;
}

static int
on_alliance(void *ctx, const struct mu_alliance_view *v)
{
	struct mu_http_group *e = group_at(ctx, v->other);

	if (e == NULL)
		return MU_ENOMEM;
	e->alliance = (int)v->state;
	if (v->ended != NULL) {
		e->ended_by_us = v->ended == v->ours;
		e->ended_at = v->ended->created_at;
	}
	return 0;
}

static void
seen_at(struct mu_http_group *e, int64_t t)
{
	if (t > e->last_seen)
		e->last_seen = t;
}

static int
on_peer(void *ctx, const struct mu_peer *p)
{
	struct mu_http_group *e;

	if (!p->has_key || p->last_seen == 0)
		return 0;
	if ((e = group_at(ctx, p->key)) == NULL)
		return MU_ENOMEM;
	seen_at(e, p->last_seen);
	return 0;
}

/* serve.seen, and the connections ready now. */
static int
add_seen(struct mu_node *node, struct mu_http_groups *g)
{
	struct mu_http_group *e;
	struct mu_home_seen *v;
	struct mu_conn *c;
	size_t n, i;
	int rc;

	if ((rc = mu_home_read_seen(node->home, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((e = group_at(g, v[i].key)) == NULL)
			rc = MU_ENOMEM;
		else
			seen_at(e, v[i].at);
	}
	free(v);
	for (c = node->conns; c != NULL && rc == 0; c = mu_conn_next(c)) {
		if (!mu_conn_is_ready(c))
			continue;
		if ((e = group_at(g, mu_conn_peer_group(c))) == NULL)
			rc = MU_ENOMEM;
		else
			seen_at(e, mu_home_now());
	}
	return rc;
}

/* Each group's path from us through the alliances (mu_store_scope_paths). */
static int
add_paths(struct mu_node *node, struct mu_http_groups *g)
{
	struct mu_scope *scope = mu_scope_new();
	struct mu_scope_paths *paths = malloc(sizeof(*paths));
	const struct mu_scope_path *p;
	size_t i;
	int rc;

	rc = scope == NULL || paths == NULL
	         ? MU_ENOMEM
	         : mu_store_scope_paths(node->store, node->home->group, node->opts.hops,
	                                scope, paths);
	for (i = 0; rc == 0 && i < g->n; i++) {
		p = mu_scope_path_of(paths, g->v[i].key);
		g->v[i].hops = p != NULL && !p->followed ? p->step : -1;
		if (p != NULL)
			memcpy(g->v[i].via, p->via, MU_KEY_BYTES);
	}
	mu_scope_free(scope);
	free(paths);
	return rc;
}

int
mu_http_group_last_record(struct mu_store *st, struct mu_http_group *e)
{
	return mu_store_group_newest(st, e->key, &e->last_record);
}

int
mu_http_groups_load(const struct mu_http_req *rq, struct mu_http_groups *g)
{
	struct mu_node *node = rq->node;
	struct mu_store *st = node->store;
	struct mu_http_group *e;
	size_t i;
	int rc;

	memset(g, 0, sizeof(*g));
	if ((e = group_at(g, node->home->group)) == NULL)
		return MU_ENOMEM;
	e->us = true;
	for (i = 0; node->scope != NULL && i < node->scope->n; i++)
		if (group_at(g, node->scope->keys[i]) == NULL)
			return MU_ENOMEM;
	rc = mu_store_list(st, MU_KIND_PROFILE, NULL, on_profile, g);
	if (rc == 0)
		rc = mu_store_alliances(st, node->home->group, on_alliance, g);
	if (rc == 0)
		rc = mu_store_peers(st, on_peer, g);
	if (rc == 0)
		rc = add_seen(node, g);
	if (rc == 0)
		rc = add_paths(node, g);
	for (i = 0; i < g->n; i++)
		g->v[i].in_scope =
		    node->scope != NULL && mu_scope_has(node->scope, g->v[i].key);
	return rc;
}

void
mu_http_groups_free(struct mu_http_groups *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->v[i].name);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

const char *
mu_http_alliance_name(int state)
{
	switch (state) {
	case MU_ALLY_MUTUAL:
		return "mutual";
	case MU_ALLY_BY_US:
		return "by_us";
	case MU_ALLY_TO_US:
		return "to_us";
	case MU_ALLY_ENDED:
		return "ended";
	}
	return NULL;
}

static int
on_cause(void *ctx, const struct mu_record *rec)
{
	struct mu_http_causes *c = ctx;
	const struct mu_str *t = &rec->c.cause.title;
	struct mu_http_cause *e;

	if (mu_buf_grow_array(&c->v, &c->cap, c->n + 1, sizeof(*e), 16) != 0)
		return MU_ENOMEM;
	e = &c->v[c->n];
	memcpy(e->group, rec->group, MU_KEY_BYTES);
	memcpy(e->d, rec->d.ptr, rec->d.len);
	e->d[rec->d.len] = '\0';
	if ((e->title = malloc(t->len + 1)) == NULL)
		return MU_ENOMEM;
	memcpy(e->title, t->ptr, t->len);
	e->title[t->len] = '\0';
	c->n++;
	return 0;
}

int
mu_http_causes_load(const struct mu_http_req *rq, struct mu_http_causes *c)
{
	memset(c, 0, sizeof(*c));
	return mu_store_list(rq->node->store, MU_KIND_CAUSE, NULL, on_cause, c);
}

void
mu_http_causes_free(struct mu_http_causes *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].title);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const char *
mu_http_cause_title(const struct mu_http_causes *c, const struct mu_addr *addr)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (cmp_key(c->v[i].group, addr->group) == 0 &&
		    strlen(c->v[i].d) == addr->d.len &&
		    memcmp(c->v[i].d, addr->d.ptr, addr->d.len) == 0)
			return c->v[i].title;
	return NULL;
}

static int
on_pair_record(void *ctx, const struct mu_record *rec)
{
	struct mu_http_pairs *p = ctx;
	const uint8_t *other = rec->c.alliance.with;
	bool first = cmp_key(rec->group, other) < 0;
	const uint8_t *a = first ? rec->group : other, *b = first ? other : rec->group;
	struct mu_http_pair *e = NULL;
	size_t i;

	for (i = 0; i < p->n && e == NULL; i++)
		if (cmp_key(p->v[i].a, a) == 0 && cmp_key(p->v[i].b, b) == 0)
			e = &p->v[i];
	if (e == NULL) {
		if (mu_buf_grow_array(&p->v, &p->cap, p->n + 1, sizeof(*e), 16) != 0)
			return MU_ENOMEM;
		e = &p->v[p->n];
		memset(e, 0, sizeof(*e));
		memcpy(e->a, a, MU_KEY_BYTES);
		memcpy(e->b, b, MU_KEY_BYTES);
		if ((e->records = json_array()) == NULL)
			return MU_ENOMEM;
		p->n++;
	}
	if (first) {
		e->a_status = (int)rec->c.alliance.status;
		e->a_at = rec->created_at;
	} else {
		e->b_status = (int)rec->c.alliance.status;
		e->b_at = rec->created_at;
	}
	if (json_array_append_new(e->records, mu_node_json_record(rec)) != 0)
		return MU_ENOMEM;
	return 0;
}

static int
cmp_pair(const void *x, const void *y)
{
	const struct mu_http_pair *a = x, *b = y;
	int c = cmp_key(a->a, b->a);

	return c != 0 ? c : cmp_key(a->b, b->b);
}

void
mu_http_pairs_open(struct mu_store *st, struct mu_http_pairs *p)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
}

/* Visitor of mu_store_list_after(): takes the next record and stops. */
static int
pair_one(void *ctx, const struct mu_record *rec)
{
	int rc = on_pair_record(ctx, rec);

	return rc != 0 ? rc : 1;
}

int
mu_http_pairs_next(struct mu_http_pairs *p, const struct mu_http_pair **e)
{
	size_t i;
	int rc;

	if (!p->listed) {
		rc = mu_store_list_after(p->st, MU_KIND_ALLIANCE, NULL, &p->pos,
		                         pair_one, p);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return MU_HTTP_SKIP;
		for (i = 0; i < p->n; i++)
			p->v[i].ended =
			    mu_alliance_ender(p->v[i].a_status, p->v[i].a_at,
			                      p->v[i].b_status, p->v[i].b_at);
		if (p->n > 1)
			qsort(p->v, p->n, sizeof(*p->v), cmp_pair);
		p->listed = true;
	}
	if (p->next == p->n)
		return MU_HTTP_END;
	*e = &p->v[p->next++];
	return MU_HTTP_ITEM;
}

void
mu_http_pairs_free(struct mu_http_pairs *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		json_decref(p->v[i].records);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

const char *
mu_http_pair_state(const struct mu_http_pair *p)
{
	bool a = p->a_status == MU_ALLIANCE_PROPOSED,
	     b = p->b_status == MU_ALLIANCE_PROPOSED;

	if (p->ended != MU_ENDED_NOT)
		return "ended";
	if (a && b)
		return "mutual";
	return a || b ? "proposed" : "ended";
}
