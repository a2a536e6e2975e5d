/*
 * http_acts.c - petitions, pledges and an event's rsvps over HTTP
 * (docs/API.md, "Acts"): the JSON API (/api/petitions, /api/pledges,
 * /api/events/ADDR/rsvps), the pages (/petitions, /pledges and one page
 * each), the pledge feeds (/pledges/calendar.ics), and the sections the
 * event, group and coalition pages include. Every total is shown with
 * each group's part.
 *
 * The records are copied out of the store before anything is written, so
 * no store visitor reads the store again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/textform.h"
#include "../acts.h"
#include "../acts_json.h"
#include "../calendar.h"
#include "../json_record.h"
#include "http.h"

#define CAL_TYPE "text/calendar; charset=utf-8"

struct kind_path {
	enum mu_kind kind;
	const char *api, *page, *plural, *title;
};

static const struct kind_path paths[] = {
    {MU_KIND_PETITION, "/api/petitions", "/petitions", "petitions", "Petitions"},
    {MU_KIND_PLEDGE, "/api/pledges", "/pledges", "pledges", "Pledges"},
};

/* What a record's acts are read with: the store, and the time of the
 * request (a list's items are made after the request's handler returns). */
struct acts_at {
	struct mu_store *st;
	int64_t now;
};

static json_t *
with_acts(const struct acts_at *at, const struct mu_record *rec, int *err)
{
	json_t *o = mu_node_json_record(rec), *acts;
	struct mu_addr a;

	if (o == NULL) {
		*err = MU_ENOMEM;
		return NULL;
	}
	mu_rec_addr(rec, &a);
	acts = mu_node_acts_json(at->st, &a, at->now, err);
	if (acts == NULL || json_object_set_new(o, "acts", acts) != 0) {
		json_decref(o);
		if (*err == 0)
			*err = MU_ENOMEM;
		return NULL;
	}
	return o;
}

/* A list's item: the record with its acts. */
static json_t *
list_item(void *ctx, const struct mu_record *rec, int *err)
{
	return with_acts(ctx, rec, err);
}

static int
api_list(const struct mu_http_req *rq, struct mu_http_reply *rp,
         const struct kind_path *k)
{
	static const char *const names[] = {"group", NULL};
	uint8_t group[MU_KEY_BYTES];
	struct mu_http_list hl = {NULL, k->kind, NULL, list_item, free, NULL};
	struct acts_at *at;
	char more[32];
	const char *s;

	if (mu_http_args_only(rq, rp, names))
		return 0;
	if ((s = mu_http_arg(rq, "group")) != NULL) {
		if (mu_http_key(s, "group", group, rp))
			return 0;
		hl.group = group;
	}
	if ((hl.ctx = at = malloc(sizeof(*at))) == NULL)
		return MU_ENOMEM;
	*at = (struct acts_at){rq->node->store, rq->now};
	snprintf(more, sizeof(more), "\"%s\":[", k->plural);
	hl.head = mu_http_json_open(json_object(), more);
	return mu_http_list_stream(rq, rp, &hl);
}

static int
api_one(const struct mu_http_req *rq, struct mu_http_reply *rp, enum mu_kind kind,
        const char *text)
{
	struct mu_node_recs v = {0};
	struct mu_addr addr;
	char d[MU_D_MAX + 1];
	json_t *o;
	int rc, err = 0;

	if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
		return 0;
	if (mu_http_addr(text, mu_kind_name(kind), kind, &addr, d, rp))
		return 0;
	rc = mu_store_get_addr(rq->node->store, &addr, mu_node_recs_add, &v);
	if (rc == 0)
		rc = v.err;
	if (rc == MU_ENOTFOUND) {
		mu_node_recs_free(&v);
		return mu_http_fail(rp, 404, "no %s %s is stored here",
		                    mu_kind_name(kind), text);
	}
	o = rc == 0 ? with_acts(&(struct acts_at){rq->node->store, rq->now}, &v.recs[0],
	                        &err)
	            : NULL;
	mu_node_recs_free(&v);
	if (rc != 0 || o == NULL)
		return rc != 0 ? rc : err;
	return mu_http_json(rp, o);
}

#define RSVPS "/rsvps"

int
mu_http_api_acts(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	char text[MU_ADDR_TEXT_SIZE + 1], d[MU_D_MAX + 1];
	struct mu_addr addr;
	size_t n = strlen(p), i, len;
	json_t *o;
	int err = 0;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		len = strlen(paths[i].api);
		if (strcmp(p, paths[i].api) == 0)
			return api_list(rq, rp, &paths[i]);
		if (strncmp(p, paths[i].api, len) == 0 && p[len] == '/')
			return api_one(rq, rp, paths[i].kind, p + len + 1);
	}
	if (strncmp(p, "/api/events/", 12) == 0 && n > 12 + strlen(RSVPS) &&
	    strcmp(p + n - strlen(RSVPS), RSVPS) == 0) {
		if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
			return 0;
		if (n - 12 - strlen(RSVPS) >= sizeof(text))
			return mu_http_fail(rp, 400, "the event's address is too long");
		snprintf(text, sizeof(text), "%.*s", (int)(n - 12 - strlen(RSVPS)),
		         p + 12);
		if (mu_http_addr(text, "the event", MU_KIND_EVENT, &addr, d, rp))
			return 0;
		if ((o = mu_node_acts_json(rq->node->store, &addr, rq->now, &err)) ==
		    NULL)
			return err != 0 ? err : MU_ENOMEM;
		return mu_http_json(rp, o);
	}
	return 1;
}

/* --- pages ------------------------------------------------------------------ */

struct html {
	struct mu_buf *b;
	const struct mu_http_groups *groups;
	int err;
};

static void
put(struct html *h, int rc)
{
	if (h->err == 0)
		h->err = rc;
}

static void
group_name(struct html *h, const uint8_t key[MU_KEY_BYTES])
{
	const struct mu_http_group *g = mu_http_group_find(h->groups, key);
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	put(h, mu_html_fmt(h->b, "<a href=\"/groups/%s\">", text));
	put(h, g != NULL && g->name != NULL ? mu_html_str(h->b, g->name)
	                                    : mu_html_fmt(h->b, "%.12s…", text));
	put(h, mu_html_raw(h->b, "</a>"));
}

/* Each group's part of target's total, as a table. */
struct parts {
	struct html *h;
	const struct mu_tally *tally;
	bool names;
};

static int
part_row(void *ctx, const struct mu_record *rec)
{
	struct parts *x = ctx;
	struct html *h = x->h;
	struct mu_tally_share sh;
	uint32_t count = rec->kind == MU_KIND_RSVP         ? rec->c.rsvp.going
	                 : rec->kind == MU_KIND_SIGNATURES ? rec->c.signatures.count
	                                                   : rec->c.pledged.count;
	bool as_group =
	    (rec->kind == MU_KIND_SIGNATURES && rec->c.signatures.as_group) ||
	    (rec->kind == MU_KIND_PLEDGED && rec->c.pledged.as_group);
	size_t i;

	put(h, mu_html_raw(h->b, "<tr><td>"));
	group_name(h, rec->group);
	put(h,
	    mu_html_fmt(h->b, "</td><td class=\"count\">%s%u</td><td>",
	                rec->kind == MU_KIND_RSVP && rec->c.rsvp.about ? "about " : "",
	                count));
	if (as_group)
		put(h, mu_html_raw(h->b, rec->kind == MU_KIND_SIGNATURES
		                             ? "signs as a group"
		                             : "commits as a group"));
	if (x->tally != NULL) {
		mu_tally_share(x->tally, rec->group, &sh);
		put(h, mu_html_fmt(h->b, "%u placed, %u waitlisted", sh.placed,
		                   sh.waitlisted));
	}
	if (x->names && rec->kind == MU_KIND_SIGNATURES &&
	    rec->c.signatures.nnames > 0) {
		put(h, mu_html_raw(h->b, "<ul class=\"names\">"));
		for (i = 0; i < rec->c.signatures.nnames; i++) {
			put(h, mu_html_raw(h->b, "<li>"));
			put(h, mu_html_text(h->b, rec->c.signatures.names[i].ptr,
			                    rec->c.signatures.names[i].len));
			put(h, mu_html_raw(h->b, "</li>"));
		}
		put(h, mu_html_raw(h->b, "</ul>"));
	}
	put(h, mu_html_raw(h->b, "</td></tr>\n"));
	return h->err;
}

/* "N UNIT from G groups" and the table of parts. */
static int
breakdown(struct html *h, struct mu_store *st, const struct mu_addr *target,
          const char *unit, bool names)
{
	struct mu_acts_total t;
	struct mu_tally tally;
	struct parts x = {h, NULL, names};
	uint64_t placed, all;
	int rc;

	if ((rc = mu_node_acts_total(st, target, &t)) != 0)
		return rc;
	if (target->kind == MU_KIND_EVENT &&
	    mu_node_acts_tally(st, target, &tally, NULL) == 0)
		x.tally = &tally;
	put(h,
	    mu_html_fmt(h->b,
	                "<p class=\"total\"><strong>%llu</strong> %s from %zu "
	                "group%s",
	                (unsigned long long)t.total, unit, t.n, t.n == 1 ? "" : "s"));
	if (t.as_groups > 0)
		put(h, mu_html_fmt(h->b, "; %u group%s as a group", t.as_groups,
		                   t.as_groups == 1 ? "" : "s"));
	if (x.tally != NULL) {
		all = mu_tally_total(&tally, &placed);
		put(h, mu_html_fmt(h->b, "; %llu of %u places given, %llu waitlisted",
		                   (unsigned long long)placed, tally.capacity,
		                   (unsigned long long)(all - placed)));
	}
	put(h, mu_html_raw(h->b, "</p>\n"));
	if (t.n == 0)
		return h->err;
	put(h, mu_html_raw(h->b, "<table class=\"parts\"><tr><th>Group</th>"
	                         "<th>Count</th><th></th></tr>\n"));
	if ((rc = mu_node_acts_each(st, target, t.kind, part_row, &x)) != 0)
		return rc;
	put(h, mu_html_raw(h->b, "</table>\n"));
	return h->err;
}

int
mu_http_acts_event_html(const struct mu_http_req *rq,
                        const struct mu_http_groups *groups,
                        const struct mu_addr *event, struct mu_buf *out)
{
	struct html h = {out, groups, 0};
	int rc;

	put(&h, mu_html_raw(out, "<section class=\"acts\"><h2>Going</h2>\n"));
	if ((rc = breakdown(&h, rq->node->store, event, "going", false)) != 0)
		return rc;
	put(&h, mu_html_raw(out, "</section>\n"));
	return h.err;
}

/* The state line of a pledge, or the target line of a petition. */
static int
summary(struct html *h, struct mu_store *st, const struct mu_record *rec, int64_t now)
{
	struct mu_pledge_state s;
	struct mu_addr a;
	int rc;

	if (rec->kind == MU_KIND_PETITION) {
		put(h, mu_html_fmt(h->b, "<span class=\"state %s\">%s</span> to ",
		                   mu_petition_status_name(rec->c.petition.status),
		                   mu_petition_status_name(rec->c.petition.status)));
		put(h, mu_html_text(h->b, rec->c.petition.target.ptr,
		                    rec->c.petition.target.len));
		return h->err;
	}
	mu_rec_addr(rec, &a);
	if ((rc = mu_node_acts_pledge(st, &a, &s)) != 0)
		return rc;
	const char *word =
	    mu_node_pledge_word(s.triggered, rec->c.pledge.deadline, now);
	put(h,
	    mu_html_fmt(h->b, "<span class=\"state %s\">%s</span> %llu of %u %s", word,
	                word, (unsigned long long)s.total, rec->c.pledge.threshold,
	                mu_pledge_unit_name(rec->c.pledge.unit)));
	return h->err;
}

static const struct kind_path *
path_of(enum mu_kind kind)
{
	return kind == MU_KIND_PETITION ? &paths[0] : &paths[1];
}

/* One item of a list of petitions or pledges. */
static int
entry(struct html *h, struct mu_store *st, const struct mu_record *rec, int64_t now)
{
	const struct mu_str *title = rec->kind == MU_KIND_PETITION
	                                 ? &rec->c.petition.title
	                                 : &rec->c.pledge.title;
	char addr[MU_ADDR_TEXT_SIZE];
	struct mu_acts_total t;
	struct mu_addr a;
	int rc;

	mu_rec_addr(rec, &a);
	mu_addr_to_text(addr, &a);
	put(h, mu_html_fmt(h->b, "<li class=\"%s\"><a href=\"%s/%s\">",
	                   mu_kind_name(rec->kind), path_of(rec->kind)->page, addr));
	put(h, mu_html_text(h->b, title->ptr, title->len));
	put(h, mu_html_raw(h->b, "</a> by "));
	group_name(h, rec->group);
	put(h, mu_html_raw(h->b, ": "));
	if ((rc = summary(h, st, rec, now)) != 0)
		return rc;
	if (rec->kind == MU_KIND_PETITION) {
		if ((rc = mu_node_acts_total(st, &a, &t)) != 0)
			return rc;
		put(h,
		    mu_html_fmt(h->b, ", %llu signatures from %zu group%s",
		                (unsigned long long)t.total, t.n, t.n == 1 ? "" : "s"));
	}
	put(h, mu_html_raw(h->b, "</li>\n"));
	return h->err;
}

#define SECTION_SIZE  160
#define SECTION_CLOSE "</ul></section>\n"

/* The start of the section of a kind's list, up to its first item. */
static void
section_open(char out[SECTION_SIZE], const struct kind_path *k)
{
	snprintf(out, SECTION_SIZE,
	         "<section class=\"%s\"><h2><a href=\"%s\">%s</a></h2>\n<ul>\n",
	         k->plural, k->page, k->title);
}

void
mu_http_acts_walk_init(struct mu_http_acts_walk *w, struct mu_store *st,
                       const struct mu_http_groups *groups, const uint8_t *group,
                       enum mu_kind only, int64_t now)
{
	memset(w, 0, sizeof(*w));
	w->groups = groups;
	w->st = st;
	w->now = now;
	w->only = only;
	if ((w->has_group = group != NULL))
		memcpy(w->group, group, MU_KEY_BYTES);
}

int
mu_http_acts_walk_next(struct mu_http_acts_walk *w, struct mu_buf *out)
{
	const size_t nkinds = sizeof(paths) / sizeof(paths[0]);
	struct html h = {out, w->groups, 0};
	struct mu_node_recs one = {0};
	char open[SECTION_SIZE];
	int rc;

	for (; w->k < nkinds; w->k++, w->started = w->open = false) {
		if (w->only != MU_KIND_NONE && paths[w->k].kind != w->only)
			continue;
		if (!w->started)
			mu_http_cursor_init(&w->cur, w->st, paths[w->k].kind,
			                    w->has_group ? w->group : NULL);
		w->started = true;
		if ((rc = mu_http_cursor_next(&w->cur, &one)) < 0) {
			mu_node_recs_free(&one);
			return rc;
		}
		if (rc == MU_HTTP_END) {
			if (w->open && (rc = mu_html_raw(out, SECTION_CLOSE)) != 0)
				return rc;
			continue;
		}
		if (!w->open) {
			section_open(open, &paths[w->k]);
			put(&h, mu_html_raw(out, open));
		}
		w->open = true;
		rc = entry(&h, w->st, &one.recs[0], w->now);
		mu_node_recs_free(&one);
		return rc != 0 ? rc : h.err;
	}
	return MU_HTTP_END;
}

/* The page of every petition or every pledge, an entry a call (the walk
 * writes the section's start and end). */
struct list_page {
	struct mu_http_groups groups;
	struct mu_http_acts_walk walk;
	char none[64];
};

static int
list_page_item(void *ctx, struct mu_buf *out)
{
	struct list_page *lp = ctx;

	return mu_http_acts_walk_next(&lp->walk, out);
}

static void
list_page_free(void *ctx)
{
	struct list_page *lp = ctx;

	mu_http_groups_free(&lp->groups);
	free(lp);
}

/* Takes groups (emptied). */
static int
list_page(const struct mu_http_req *rq, struct mu_http_reply *rp,
          struct mu_http_groups *groups, const struct kind_path *k)
{
	struct mu_http_page_list pl = {"",  "", NULL, list_page_item, list_page_free,
	                               NULL};
	struct list_page *lp;
	int rc;

	if ((lp = calloc(1, sizeof(*lp))) == NULL)
		return MU_ENOMEM;
	lp->groups = *groups;
	memset(groups, 0, sizeof(*groups));
	mu_http_acts_walk_init(&lp->walk, rq->node->store, &lp->groups, NULL, k->kind,
	                       rq->now);
	snprintf(lp->none, sizeof(lp->none), "<p class=\"none\">No %s.</p>\n",
	         k->plural);
	pl.none = lp->none;
	pl.ctx = lp;
	if ((rc = mu_html_head(&rp->body, k->title, strlen(k->title))) != 0 ||
	    (rc = mu_html_fmt(&rp->body, "<h1>%s</h1>\n", k->title)) != 0) {
		list_page_free(lp);
		return rc;
	}
	return mu_http_page_list(rp, &pl);
}

static void
time_line(struct html *h, const char *label, int64_t t)
{
	char iso[MU_NODE_ISO_SIZE];

	mu_node_time_iso(iso, t);
	put(h,
	    mu_html_fmt(h->b, "<dt>%s</dt><dd><time datetime=\"%s\">%s</time></dd>\n",
	                label, iso, iso));
}

static int
one_page(const struct mu_http_req *rq, struct mu_http_reply *rp,
         const struct mu_http_groups *groups, const struct mu_record *rec)
{
	struct html h = {&rp->body, groups, 0};
	char addr[MU_ADDR_TEXT_SIZE];
	struct mu_addr a;
	const struct mu_str *title, *text;
	int rc;

	mu_rec_addr(rec, &a);
	mu_addr_to_text(addr, &a);
	title = rec->kind == MU_KIND_PETITION ? &rec->c.petition.title
	                                      : &rec->c.pledge.title;
	text =
	    rec->kind == MU_KIND_PETITION ? &rec->c.petition.text : &rec->c.pledge.text;
	put(&h, mu_html_head(h.b, title->ptr, title->len));
	put(&h, mu_html_fmt(h.b, "<article class=\"%s\">\n<h1 class=\"title\">",
	                    mu_kind_name(rec->kind)));
	put(&h, mu_html_text(h.b, title->ptr, title->len));
	put(&h, mu_html_raw(h.b, "</h1>\n<p class=\"lead\">"));
	if ((rc = summary(&h, rq->node->store, rec, rq->now)) != 0)
		return rc;
	put(&h, mu_html_raw(h.b, "</p>\n<dl>\n<dt>By</dt><dd>"));
	group_name(&h, rec->group);
	put(&h, mu_html_raw(h.b, "</dd>\n"));
	if (rec->kind == MU_KIND_PETITION) {
		if (rec->c.petition.has_goal)
			put(&h,
			    mu_html_fmt(h.b, "<dt>Goal</dt><dd>%u signatures</dd>\n",
			                rec->c.petition.goal));
		if (rec->c.petition.has_deadline)
			time_line(&h, "Deadline", rec->c.petition.deadline);
	} else {
		time_line(&h, "Deadline", rec->c.pledge.deadline);
		if (rec->c.pledge.has_start)
			time_line(&h, "The action", rec->c.pledge.start);
	}
	put(&h, mu_html_raw(h.b, "</dl>\n"));
	if (text->len > 0) {
		put(&h, mu_html_raw(h.b, "<div class=\"description\">"));
		put(&h, mu_html_text(h.b, text->ptr, text->len));
		put(&h, mu_html_raw(h.b, "</div>\n"));
	}
	put(&h, mu_html_raw(h.b, "<section class=\"acts\"><h2>Who takes part</h2>\n"));
	rc = breakdown(&h, rq->node->store, &a,
	               rec->kind == MU_KIND_PETITION ? "signatures" : "pledged",
	               rec->kind == MU_KIND_PETITION);
	if (rc != 0)
		return rc;
	put(&h, mu_html_raw(h.b, "</section>\n"));
	put(&h, mu_http_act_form(rq, h.b, rec)); /* http_entries.c */
	if (rec->kind == MU_KIND_PLEDGE)
		put(&h,
		    mu_html_fmt(h.b,
		                "<p class=\"actions\"><a class=\"ics\" "
		                "href=\"/pledges/%s/calendar.ics\" download>Add to my "
		                "calendar</a></p>\n",
		                addr));
	put(&h,
	    mu_html_fmt(h.b,
	                "<details class=\"record\"><summary>Record</summary><p>"
	                "Revision %u · <a href=\"%s/%s\">As JSON</a></p></details>\n"
	                "</article>\n",
	                (unsigned)rec->rev, path_of(rec->kind)->api, addr));
	put(&h, mu_html_foot(h.b));
	return h.err;
}

int
mu_http_page_acts(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	const struct kind_path *k = NULL;
	struct mu_http_groups groups;
	struct mu_node_recs v = {0};
	struct mu_addr addr;
	char d[MU_D_MAX + 1];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]) && k == NULL; i++) {
		len = strlen(paths[i].page);
		if (strncmp(p, paths[i].page, len) == 0 &&
		    (p[len] == '\0' || p[len] == '/'))
			k = &paths[i];
	}
	if (k == NULL)
		return 1;
	if ((rc = mu_http_groups_load(rq, &groups)) != 0)
		return rc;
	len = strlen(k->page);
	if (p[len] == '\0') {
		rc = list_page(rq, rp, &groups, k);
		goto out;
	}
	if (mu_http_addr(p + len + 1, mu_kind_name(k->kind), k->kind, &addr, d, rp)) {
		rc = 0;
		goto out;
	}
	rc = mu_store_get_addr(rq->node->store, &addr, mu_node_recs_add, &v);
	if (rc == 0)
		rc = v.err;
	if (rc == MU_ENOTFOUND)
		rc = mu_http_fail(rp, 404, "no %s %s is stored here",
		                  mu_kind_name(k->kind), p + len + 1);
	else if (rc == 0)
		rc = one_page(rq, rp, &groups, &v.recs[0]);
out:
	mu_node_recs_free(&v);
	mu_http_groups_free(&groups);
	return rc;
}

/* --- feeds ------------------------------------------------------------------- */

#define FEED "/calendar.ics"

int
mu_http_feed_acts(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	size_t n = strlen(p), flen = strlen(FEED);
	char text[MU_ADDR_TEXT_SIZE + 1], d[MU_D_MAX + 1];
	struct mu_addr addr;
	int rc;

	if (strcmp(p, "/pledges" FEED) == 0) {
		rc = mu_cal_pledges_ics(rq->node->store, NULL, "Pledges",
		                        rq->node->opts.public_url, rq->now, &rp->body);
	} else if (strncmp(p, "/pledges/", 9) == 0 && n > 9 + flen) {
		if (n - 9 - flen >= sizeof(text))
			return mu_http_fail(rp, 400,
			                    "the pledge's address is too long");
		snprintf(text, sizeof(text), "%.*s", (int)(n - 9 - flen), p + 9);
		if (mu_http_addr(text, "the pledge", MU_KIND_PLEDGE, &addr, d, rp))
			return 0;
		rc = mu_cal_pledges_ics(rq->node->store, &addr, "Pledge",
		                        rq->node->opts.public_url, rq->now, &rp->body);
		if (rc == MU_ENOTFOUND)
			return mu_http_fail(rp, 404, "no pledge %s is stored here",
			                    text);
	} else {
		return 1;
	}
	if (rc != 0)
		return rc;
	rp->status = 200;
	rp->type = CAL_TYPE;
	return 0;
}
