/*
 * http_api.c - the JSON API under /api/ (docs/API.md, "JSON API").
 *
 * Records appear exactly as `muster show --json` prints them
 * (mu_node_json_record()), so a script can switch between the two. Lists
 * are built inside the store's visitor: nothing else is read meanwhile.
 */
#include <string.h>

#include "../../storage/local.h"
#include "../calendar.h"
#include "http.h"
#include "../json_record.h"
#include "../recur_json.h"
#include "../signers.h"

#define EVENTS_READ_MAX 64 /* events one scan of /api/events reads at most */

/* /api/events as a stream: an item is the next event that passes f, read
 * from just after pos. The filter's pointers point into this. */
struct event_list {
	struct mu_cal_filter f;
	uint8_t group[MU_KEY_BYTES];
	struct mu_addr cause;
	char cause_d[MU_D_MAX + 1];
	struct mu_store *st;
	struct mu_store_ev_pos pos;
	json_t *found; /* the item the last scan stopped at */
	size_t n;      /* items made */
	bool truncated, ended;
	struct mu_outside o;
	const struct mu_outside *outside; /* marked (?all=1): &o, or NULL */
	struct mu_node_signers signers;   /* who edited each event */
};

/* A record as JSON, marked when its group is outside the scope. */
static json_t *
record_json(const struct mu_record *rec, const struct mu_outside *outside)
{
	json_t *v = mu_node_json_record(rec);

	if (v != NULL && mu_http_mark_outside(v, outside, rec->group) != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Visitor of mu_store_events_after(): stops at the next event that passes
 * (its JSON in l->found), or at the list's cap. */
static int
on_event(void *ctx, const struct mu_record *rec)
{
	struct event_list *l = ctx;
	json_t *v, *occ = NULL;

	if (!mu_cal_passes(&l->f, rec))
		return 0;
	/* A series is listed when an occurrence falls in the window, with
	 * those occurrences. */
	if (rec->c.event.repeat.set) {
		occ = mu_node_json_occurrences(&rec->c.event, l->f.from, l->f.to);
		if (occ == NULL)
			return MU_ENOMEM;
		if (json_array_size(occ) == 0) {
			json_decref(occ);
			return 0;
		}
	}
	if (l->n == MU_HTTP_LIST_MAX) {
		json_decref(occ);
		l->truncated = true;
		return 1; /* stop: the list is full */
	}
	v = mu_node_json_edited_by(record_json(rec, l->outside), &l->signers, rec);
	if (v == NULL)
		json_decref(occ);
	else if (occ != NULL && json_object_set_new(v, "occurrences", occ) != 0) {
		json_decref(v);
		v = NULL;
	}
	if (v == NULL)
		return MU_ENOMEM;
	l->found = v;
	return 1;
}

static int
event_item(void *ctx, json_t **v)
{
	struct event_list *l = ctx;
	int rc;

	if (l->truncated || l->ended)
		return 0;
	l->found = NULL;
	rc = mu_store_events_after(l->st, l->f.from, l->f.to, &l->pos, on_event, l);
	if (rc < 0) {
		json_decref(l->found);
		return rc;
	}
	l->ended = rc == 0;
	if ((*v = l->found) != NULL) {
		l->n++;
		return 0;
	}
	return l->truncated || l->ended ? 0 : 1;
}

static int
event_tail(void *ctx, struct mu_buf *out)
{
	struct event_list *l = ctx;
	const char *t =
	    l->truncated ? "],\"truncated\":true}" : "],\"truncated\":false}";

	return mu_buf_append(out, t, strlen(t));
}

static void
event_list_free(void *ctx)
{
	struct event_list *l = ctx;

	mu_node_signers_free(&l->signers);
	mu_outside_free(&l->o);
	free(l);
}

/* Reads from, to, group and cause into f; 1 with a 400 reply when one is
 * wrong. from defaults to now (upcoming events), to to the end of time. */
static int
event_filter(const struct mu_http_req *rq, struct mu_http_reply *rp,
             struct mu_cal_filter *f, uint8_t *group, struct mu_addr *cause,
             char *cause_d)
{
	static const char *const names[] = {"from",  "to",  "group",
	                                    "cause", "all", NULL};
	const char *s;

	mu_cal_filter_all(f);
	f->from = rq->now;
	if (mu_http_args_only(rq, rp, names))
		return 1;
	if ((s = mu_http_arg(rq, "from")) != NULL &&
	    mu_http_time(s, "from", &f->from, rp))
		return 1;
	if ((s = mu_http_arg(rq, "to")) != NULL && mu_http_time(s, "to", &f->to, rp))
		return 1;
	if (f->to <= f->from) {
		mu_http_fail(rp, 400, "to must be after from");
		return 1;
	}
	if ((s = mu_http_arg(rq, "group")) != NULL) {
		if (mu_http_key(s, "group", group, rp))
			return 1;
		f->group = group;
	}
	if ((s = mu_http_arg(rq, "cause")) != NULL) {
		if (mu_http_addr(s, "cause", MU_KIND_CAUSE, cause, cause_d, rp))
			return 1;
		f->cause = cause;
	}
	return 0;
}

static int
api_events(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	struct event_list *l = calloc(1, sizeof(*l));
	struct mu_http_json_stream js = {NULL, event_item, event_tail, event_list_free,
	                                 l};
	bool hide;
	int rc;

	if (l == NULL)
		return MU_ENOMEM;
	l->st = rq->node->store;
	l->pos.read_max = EVENTS_READ_MAX;
	if (event_filter(rq, rp, &l->f, l->group, &l->cause, l->cause_d)) {
		event_list_free(l);
		return 0;
	}
	if ((rc = mu_http_outside(rq, rp, &l->o, &hide)) != 0) {
		event_list_free(l);
		return rc == 1 ? 0 : rc;
	}
	if (hide)
		l->f.outside = &l->o;
	else
		l->outside = &l->o;
	if ((rc = mu_node_signers_load(&l->signers, rq->node->store)) != 0) {
		event_list_free(l);
		return rc;
	}
	js.head = mu_http_json_open(
	    json_pack("{s:o, s:o}", "from", mu_node_json_time(l->f.from), "to",
	              l->f.to > MU_TIME_MAX ? json_null() : mu_node_json_time(l->f.to)),
	    ",\"events\":[");
	return mu_http_json_stream(rp, &js);
}

static int
one_record(void *ctx, const struct mu_record *rec)
{
	json_t **v = ctx;

	*v = mu_node_json_record(rec);
	return *v != NULL ? 0 : MU_ENOMEM;
}

/* An event as JSON, marked when its group is outside the scope, and its
 * header: who signed it is looked up after the read (a visitor must not
 * start another). */
struct one_event {
	json_t *v;
	struct mu_record rec; /* group and signer only */
	struct mu_outside o;
};

static int
one_event(void *ctx, const struct mu_record *rec)
{
	struct one_event *one = ctx;

	memset(&one->rec, 0, sizeof(one->rec));
	one->rec.kind = rec->kind;
	memcpy(one->rec.group, rec->group, MU_KEY_BYTES);
	memcpy(one->rec.signer, rec->signer, MU_KEY_BYTES);
	one->v = record_json(rec, &one->o);
	return one->v != NULL ? 0 : MU_ENOMEM;
}

static int
api_event(const struct mu_http_req *rq, struct mu_http_reply *rp, const char *text)
{
	struct one_event one = {NULL, {0}, {0}};
	struct mu_node_signers signers;
	struct mu_addr addr;
	char d[MU_D_MAX + 1];
	int rc;

	if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
		return 0;
	if (mu_http_addr(text, "the event", MU_KIND_EVENT, &addr, d, rp))
		return 0;
	/* Asked for by its address: shown, but never as if current. */
	rc = mu_store_outside(rq->node->store, &one.o);
	if (rc == 0)
		rc = mu_store_get_addr(rq->node->store, &addr, one_event, &one);
	mu_outside_free(&one.o);
	if (rc == MU_ENOTFOUND)
		return mu_http_fail(rp, 404, "no event %s is stored here", text);
	if (rc < 0)
		return rc;
	if ((rc = mu_node_signers_load(&signers, rq->node->store)) != 0) {
		json_decref(one.v);
		return rc;
	}
	one.v = mu_node_json_edited_by(one.v, &signers, &one.rec);
	mu_node_signers_free(&signers);
	return mu_http_json(rp, one.v);
}

/* The causes listed, and the groups outside the scope: left out (hide)
 * or marked. */
struct cause_list {
	struct mu_outside o;
	bool hide;
};

static json_t *
cause_item(void *ctx, const struct mu_record *rec, int *err)
{
	struct cause_list *l = ctx;
	json_t *v;

	if (l->hide && mu_outside_has(&l->o, rec->group, NULL))
		return NULL;
	if ((v = record_json(rec, &l->o)) == NULL)
		*err = MU_ENOMEM;
	return v;
}

static void
cause_list_free(void *ctx)
{
	struct cause_list *l = ctx;

	mu_outside_free(&l->o);
	free(l);
}

static int
api_causes(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	static const char *const names[] = {"group", "all", NULL};
	uint8_t group[MU_KEY_BYTES];
	struct mu_http_list hl = {NULL,       MU_KIND_CAUSE,   NULL,
	                          cause_item, cause_list_free, NULL};
	struct cause_list *l;
	const char *s;
	int rc;

	if (mu_http_args_only(rq, rp, names))
		return 0;
	if ((s = mu_http_arg(rq, "group")) != NULL) {
		if (mu_http_key(s, "group", group, rp))
			return 0;
		hl.group = group;
	}
	if ((hl.ctx = l = calloc(1, sizeof(*l))) == NULL)
		return MU_ENOMEM;
	if ((rc = mu_http_outside(rq, rp, &l->o, &l->hide)) != 0) {
		cause_list_free(l);
		return rc == 1 ? 0 : rc;
	}
	hl.head = mu_http_json_open(json_object(), "\"causes\":[");
	return mu_http_list_stream(rq, rp, &hl);
}

static json_t *
time_or_null(int64_t t)
{
	return t != 0 ? mu_node_json_time(t) : json_null();
}

static json_t *
name_or_null(const char *name)
{
	return name != NULL ? json_string(name) : json_null();
}

/* /api/groups as a stream: the groups are listed at the request, and each
 * one's profile and newest record are read when its item is written. */
struct groups_list {
	struct mu_node *node;
	struct mu_http_groups g;
	size_t next;
};

static void
groups_list_free(void *ctx)
{
	struct groups_list *l = ctx;

	mu_http_groups_free(&l->g);
	free(l);
}

static int
group_item(void *ctx, json_t **out)
{
	struct groups_list *l = ctx;
	struct mu_http_group *e = &l->g.v[l->next];
	struct mu_store *st = l->node->store;
	struct mu_addr profile;
	const char *state;
	json_t *prof = NULL;
	int rc;

	if (l->next == l->g.n)
		return 0;
	l->next++;
	memset(&profile, 0, sizeof(profile));
	profile.kind = MU_KIND_PROFILE;
	memcpy(profile.group, e->key, MU_KEY_BYTES);
	if ((rc = mu_http_group_last_record(st, e)) != 0)
		return rc;
	rc = mu_store_get_addr(st, &profile, one_record, &prof);
	if (rc == MU_ENOTFOUND) {
		rc = 0;
		prof = json_null();
	}
	if (rc != 0)
		return rc;
	state = mu_http_alliance_name(e->alliance);
	*out = json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "via", e->hops >= 2 ? mu_node_json_key(e->via) : json_null(),
	                 "hops", e->hops >= 0 ? json_integer(e->hops) : json_null(),
	                 "key", mu_node_json_key(e->key), "name", name_or_null(e->name),
	                 "us", e->us, "in_scope", e->in_scope, "alliance",
	                 state != NULL ? json_string(state) : json_null(), "ended_by",
	                 e->ended_at == 0 ? json_null()
	                 : e->ended_by_us ? mu_node_json_key(l->node->home->group)
	                                  : mu_node_json_key(e->key),
	                 "ended_at", time_or_null(e->ended_at), "last_seen",
	                 time_or_null(e->last_seen), "last_record",
	                 time_or_null(e->last_record), "profile", prof);
	return *out != NULL ? 0 : MU_ENOMEM;
}

static int
api_groups(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	struct groups_list *l;
	struct mu_http_json_stream js = {NULL, group_item, mu_http_json_close,
	                                 groups_list_free, NULL};
	int rc;

	if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
		return 0;
	if ((js.ctx = l = calloc(1, sizeof(*l))) == NULL)
		return MU_ENOMEM;
	l->node = rq->node;
	if ((rc = mu_http_groups_load(rq, &l->g)) != 0) {
		groups_list_free(l);
		return rc;
	}
	js.head = mu_http_json_open(json_object(), "\"groups\":[");
	return mu_http_json_stream(rp, &js);
}

/* An entry of /api/alliances. */
static json_t *
pair_json(const struct mu_http_pair *e)
{
	json_t *by = json_array();

	if (by != NULL && e->a_status == MU_ALLIANCE_PROPOSED)
		json_array_append_new(by, mu_node_json_key(e->a));
	if (by != NULL && e->b_status == MU_ALLIANCE_PROPOSED)
		json_array_append_new(by, mu_node_json_key(e->b));
	return json_pack("{s:[o,o], s:s, s:o, s:o, s:o, s:O}", "groups",
	                 mu_node_json_key(e->a), mu_node_json_key(e->b), "state",
	                 mu_http_pair_state(e), "proposed_by", by, "ended_by",
	                 e->ended == MU_ENDED_NOT    ? json_null()
	                 : e->ended == MU_ENDED_BY_A ? mu_node_json_key(e->a)
	                                             : mu_node_json_key(e->b),
	                 "ended_at",
	                 time_or_null(e->ended == MU_ENDED_NOT    ? 0
	                              : e->ended == MU_ENDED_BY_A ? e->a_at
	                                                          : e->b_at),
	                 "records", e->records);
}

static int
alliance_item(void *ctx, json_t **v)
{
	const struct mu_http_pair *e;
	int rc = mu_http_pairs_next(ctx, &e);

	if (rc == MU_HTTP_END)
		return 0;
	if (rc != MU_HTTP_ITEM)
		return rc;
	return (*v = pair_json(e)) != NULL ? 0 : MU_ENOMEM;
}

static void
alliances_free(void *ctx)
{
	mu_http_pairs_free(ctx);
	free(ctx);
}

static int
api_alliances(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	struct mu_http_json_stream js = {NULL, alliance_item, mu_http_json_close,
	                                 alliances_free, NULL};
	struct mu_http_pairs *p;

	if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
		return 0;
	if ((js.ctx = p = malloc(sizeof(*p))) == NULL)
		return MU_ENOMEM;
	mu_http_pairs_open(rq->node->store, p);
	js.head = mu_http_json_open(
	    json_pack("{s:o}", "us", mu_node_json_key(rq->node->home->group)),
	    ",\"alliances\":[");
	return mu_http_json_stream(rp, &js);
}

int
mu_http_api(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	int rc;

	if ((rc = mu_http_api_acts(rq, rp)) != 1)
		return rc;
	if (strcmp(p, "/api/events") == 0)
		return api_events(rq, rp);
	if (strncmp(p, "/api/events/", 12) == 0)
		return api_event(rq, rp, p + 12);
	if (strcmp(p, "/api/causes") == 0)
		return api_causes(rq, rp);
	if (strcmp(p, "/api/groups") == 0)
		return api_groups(rq, rp);
	if (strcmp(p, "/api/alliances") == 0)
		return api_alliances(rq, rp);
	return mu_http_fail(rp, 404,
	                    "no such API endpoint: %.100s (see /api/events, "
	                    "/api/causes, /api/groups, /api/alliances, "
	                    "/api/petitions, /api/pledges)",
	                    p);
}
