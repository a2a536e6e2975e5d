/*
 * http_pages.c - the web pages (docs/API.md, "Pages"): the coalition
 * calendar at /, a page per event, cause and group, the causes and the
 * alliances.
 *
 * Plain HTML that reads well without JavaScript: times are written in UTC
 * inside <time datetime=...>, and /app.js turns them into the reader's zone.
 * Every record field goes through mu_html_text() (http_html.c). Names of
 * groups and titles of causes are loaded before the events are walked, so a
 * store visitor never reads the store again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/civil.h"
#include "../../protocol/textform.h"
#include "../acts.h"
#include "../calendar.h"
#include "http.h"
#include "../json_record.h"
#include "../recur_json.h"
#include "../signers.h"

#define SHORT_KEY     12 /* characters of a key shown for a group without a name */
#define LIST_READ_MAX 64 /* events one scan of a list reads at most */

/* What every page that lists events needs. */
struct page {
	const struct mu_http_req *rq;
	struct mu_buf *b;
	struct mu_http_groups groups;
	struct mu_http_causes causes;
	struct mu_node_signers signers; /* who edited: the event page */
	struct mu_cal_filter f;
	int64_t day; /* the day whose list is open, -1 none */
	size_t n;
	bool by_day;
	int err; /* the first failure of a visitor */

	struct mu_outside outside; /* groups outside the scope (http_outside.c) */
	bool hide_outside;         /* without ?all=1 */
	struct mu_buf acts;        /* the event page's "Going", made before */

	/* A page with a list of events is sent as a stream (page_next()):
	 * start, the page up to the list, and tail, what follows it, are
	 * written at the request; the list a slice at a time, from just after
	 * pos, each slice until deadline (uv_hrtime(), 0: none). The filter
	 * and rq point at the copies here, which outlive the request. */
	bool listing, full, listed, started;
	const char *none;
	struct mu_buf start, tail;
	struct mu_store_ev_pos pos;
	uint64_t deadline;
	struct mu_http_req rq_copy;
	uint8_t key[MU_KEY_BYTES];
	struct mu_addr cause;
	char cause_d[MU_D_MAX + 1];

	/* A page that is a list (mu_http_page_list()): its items read a
	 * record a call; streamed once the stream owns the page. */
	enum { LIST_NONE, LIST_CAUSES, LIST_ALLIANCES } list;
	/* The petitions and pledges after a list of events (acts_after()):
	 * written into the tail at acts_at, an entry a call. */
	bool with_acts, tail_started;
	size_t acts_at;
	/* A group's causes before its events (causes_before()): written into
	 * the start at causes_at, a cause a call, through cur. */
	bool with_causes, causes_any;
	size_t causes_at;
	struct mu_http_acts_walk walk;
	struct mu_http_cursor cur;
	struct mu_http_pairs pairs;
	bool streamed;
};

/* Records the first failure; true while there is none. */
static bool
ok(struct page *pg, int rc)
{
	if (pg->err == 0 && rc != 0)
		pg->err = rc;
	return pg->err == 0;
}

/* refs: load what pages with events show of causes and signers. */
static int
page_open(struct page *pg, const struct mu_http_req *rq, struct mu_http_reply *rp,
          bool refs)
{
	int rc;

	memset(pg, 0, sizeof(*pg));
	pg->rq = rq;
	pg->b = &rp->body;
	pg->day = -1;
	mu_cal_filter_all(&pg->f);
	if ((rc = mu_http_outside(rq, rp, &pg->outside, &pg->hide_outside)) != 0)
		return rc;
	if (pg->hide_outside)
		pg->f.outside = &pg->outside;
	rc = mu_http_groups_load(rq, &pg->groups);
	if (rc == 0 && refs)
		rc = mu_http_causes_load(rq, &pg->causes);
	if (rc == 0 && refs)
		rc = mu_node_signers_load(&pg->signers, rq->node->store);
	return rc;
}

static void
page_close(struct page *pg)
{
	mu_http_groups_free(&pg->groups);
	mu_http_causes_free(&pg->causes);
	mu_outside_free(&pg->outside);
	mu_node_signers_free(&pg->signers);
	mu_buf_free(&pg->acts);
	mu_buf_free(&pg->start);
	mu_buf_free(&pg->tail);
	mu_http_pairs_free(&pg->pairs);
}

/* Says that a record of a group outside the scope is no longer updated. */
static void
stale_note(struct page *pg, const uint8_t group[MU_KEY_BYTES])
{
	struct mu_civil c;
	int64_t since;

	if (!mu_outside_has(&pg->outside, group, &since))
		return;
	mu_civil_from_time(&c, since);
	ok(pg, mu_html_fmt(pg->b,
	                   "<div class=\"stale\">Not updated since %04lld-%02u-%02u: "
	                   "its group left this node's scope.</div>",
	                   (long long)c.y, c.mo, c.d));
}

/* A group's name linked to its page; the start of its key when unnamed. */
static void
group_link(struct page *pg, const uint8_t key[MU_KEY_BYTES])
{
	const struct mu_http_group *g = mu_http_group_find(&pg->groups, key);
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	ok(pg, mu_html_fmt(pg->b, "<a href=\"/groups/%s\">", text));
	if (g != NULL && g->name != NULL)
		ok(pg, mu_html_str(pg->b, g->name));
	else
		ok(pg, mu_html_fmt(pg->b, "%.*s…", SHORT_KEY, text));
	ok(pg, mu_html_raw(pg->b, "</a>"));
	if (g != NULL && g->hops >= 2) {
		ok(pg, mu_html_raw(pg->b, " <span class=\"via\">(ally of "));
		group_link(pg, g->via);
		ok(pg, mu_html_raw(pg->b, ")</span>"));
	}
}

/* A cause's title (NULL: not stored, the start of its address instead)
 * linked to its page. */
static void
cause_anchor(struct page *pg, const struct mu_addr *addr, const struct mu_str *title)
{
	char text[MU_ADDR_TEXT_SIZE];

	mu_addr_to_text(text, addr);
	ok(pg, mu_html_fmt(pg->b, "<a href=\"/causes/%s\">", text));
	ok(pg, title != NULL ? mu_html_text(pg->b, title->ptr, title->len)
	                     : mu_html_fmt(pg->b, "%.*s…", SHORT_KEY, text));
	ok(pg, mu_html_raw(pg->b, "</a>"));
}

static void
cause_link(struct page *pg, const struct mu_addr *addr)
{
	const char *title = mu_http_cause_title(&pg->causes, addr);
	struct mu_str t = {title, title != NULL ? strlen(title) : 0};

	cause_anchor(pg, addr, title != NULL ? &t : NULL);
}

static const char *const weekdays[] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                       "Monday",   "Tuesday", "Wednesday"};
static const char *const months[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

/* The day of t (UTC), counted from 1970-01-01, a Thursday. */
static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : (t - 86399) / 86400;
}

static const char *
weekday(int64_t day)
{
	return weekdays[((day % 7) + 7) % 7];
}

/* <time> for an instant (the script shows it in the reader's zone) or for
 * a date, each with its weekday; clock_only: the time of day alone. */
static void
time_tag(struct page *pg, int64_t t, bool date_only, bool clock_only)
{
	char iso[MU_NODE_ISO_SIZE];
	const char *wd = weekday(day_of(t));

	mu_node_time_iso(iso, t);
	if (clock_only)
		ok(pg,
		   mu_html_fmt(pg->b, "<time datetime=\"%s\" data-local>%.5s</time>",
		               iso, iso + 11));
	else if (date_only)
		ok(pg, mu_html_fmt(pg->b, "<time datetime=\"%.10s\">%.3s %.10s</time>",
		                   iso, wd, iso));
	else
		ok(pg, mu_html_fmt(pg->b,
		                   "<time datetime=\"%s\" data-local>%.3s %.10s "
		                   "%.5s</time>",
		                   iso, wd, iso, iso + 11));
}

/* The zone times are written in; the script names the reader's. */
static void
zone_tag(struct page *pg)
{
	ok(pg, mu_html_raw(pg->b, " <span class=\"zone\">UTC</span>"));
}

/* Start and end; a timed event without an end is shown with the end the
 * feeds give it (mu_cal_end()), then the zone the times are in. */
static void
when(struct page *pg, const struct mu_event *e)
{
	int64_t end = mu_cal_end(e);

	time_tag(pg, e->start, e->all_day, false);
	if (end != e->start && !(e->all_day && end - e->start <= 86400)) {
		ok(pg, mu_html_raw(pg->b, " – "));
		/* An all-day end is exclusive: the last day is the one before. */
		time_tag(pg, e->all_day ? end - 86400 : end, e->all_day,
		         !e->all_day && day_of(end) == day_of(e->start));
	}
	if (!e->all_day)
		zone_tag(pg);
}

/* A badge for what is not the usual: tentative and cancelled events. */
static void
status_badge(struct page *pg, const struct mu_event *e)
{
	if (e->status == MU_EVENT_CONFIRMED)
		return;
	ok(pg, mu_html_fmt(pg->b, " <span class=\"status %s\">%s</span>",
	                   mu_event_status_name(e->status),
	                   mu_event_status_name(e->status)));
}

/* The publishing group, then the other hosts. */
static void
hosts(struct page *pg, const struct mu_record *rec)
{
	const struct mu_event *e = &rec->c.event;
	size_t i;

	group_link(pg, rec->group);
	for (i = 0; i < e->nhosts; i++) {
		if (memcmp(e->hosts[i], rec->group, MU_KEY_BYTES) == 0)
			continue;
		ok(pg, mu_html_raw(pg->b, ", "));
		group_link(pg, e->hosts[i]);
	}
}

static void
place(struct page *pg, const struct mu_event *e)
{
	const struct mu_location *l = &e->location;
	size_t i;

	if (l->set) {
		ok(pg, mu_html_raw(pg->b, "<div class=\"place\">"));
		ok(pg, mu_html_text(pg->b, l->name.ptr, l->name.len));
		if (l->name.len > 0 && l->address.len > 0)
			ok(pg, mu_html_raw(pg->b, ", "));
		ok(pg, mu_html_text(pg->b, l->address.ptr, l->address.len));
		ok(pg, mu_html_raw(pg->b, "</div>"));
	}
	for (i = 0; i < e->nonline; i++) {
		ok(pg, mu_html_raw(pg->b, "<div class=\"online\">Online: "));
		ok(pg, mu_html_link(pg->b, e->online[i], e->online[i]));
		ok(pg, mu_html_raw(pg->b, "</div>"));
	}
}

/* Opens the list of the day of t (UTC) when it is not the open one. */
static void
day_heading(struct page *pg, int64_t t)
{
	int64_t day = day_of(t), y;
	unsigned m, d;

	if (day == pg->day)
		return;
	if (pg->day >= 0)
		ok(pg, mu_html_raw(pg->b, "</ul></section>\n"));
	pg->day = day;
	mu_civil_date(day, &y, &m, &d);
	ok(pg, mu_html_fmt(pg->b,
	                   "<section class=\"day\"><h2><time datetime=\"%04lld-%02u-"
	                   "%02u\" data-day>%s %u %s %lld</time></h2>\n<ul "
	                   "class=\"events\">\n",
	                   (long long)y, m, d, weekday(day), d, months[m - 1],
	                   (long long)y));
}

/* A series' occurrences from now on, each a <time> the script shows in
 * the reader's zone; cancelled ones marked. Nothing for a single event. */
static void
occurrences(struct page *pg, const struct mu_event *e)
{
	struct mu_recur_occ *v;
	size_t i, n;

	if (!e->repeat.set)
		return;
	if (mu_node_occurrences(e, pg->rq->now, MU_TIME_MAX + 1, &v, &n) != 0) {
		ok(pg, MU_ENOMEM);
		return;
	}
	ok(pg, mu_html_raw(pg->b, "<ul class=\"occurrences\">"));
	for (i = 0; i < n; i++) {
		ok(pg, mu_html_raw(pg->b, v[i].cancelled ? "<li class=\"cancelled\">"
		                                         : "<li>"));
		time_tag(pg, v[i].start, e->all_day, false);
		if (v[i].cancelled)
			ok(pg, mu_html_raw(pg->b, " <span class=\"status cancelled\">"
			                          "cancelled</span>"));
		ok(pg, mu_html_raw(pg->b, "</li>"));
	}
	ok(pg, mu_html_raw(pg->b, "</ul>"));
	free(v);
}

/* Whether a series has an occurrence from now on (a single event: yes,
 * the store's query chose it). */
static bool
upcoming(struct page *pg, const struct mu_event *e)
{
	struct mu_recur_occ *v;
	size_t n = 1;

	if (!e->repeat.set)
		return true;
	if (mu_node_occurrences(e, pg->rq->now, MU_TIME_MAX + 1, &v, &n) != 0)
		return true;
	free(v);
	return n > 0;
}

/* One event of a list. */
static int
event_item(void *ctx, const struct mu_record *rec)
{
	struct page *pg = ctx;
	const struct mu_event *e = &rec->c.event;
	char addr[MU_ADDR_TEXT_SIZE];
	struct mu_addr a;
	bool cancelled = e->status == MU_EVENT_CANCELLED;

	if (!mu_cal_passes(&pg->f, rec) || !upcoming(pg, e))
		return pg->deadline != 0 && uv_hrtime() >= pg->deadline ? 1 : 0;
	if (pg->n == MU_HTTP_LIST_MAX) {
		pg->full = true;
		return 1;
	}
	pg->n++;
	if (pg->by_day)
		day_heading(pg, e->start);
	mu_rec_addr(rec, &a);
	mu_addr_to_text(addr, &a);
	ok(pg, mu_html_fmt(pg->b, "<li class=\"event%s\"><div class=\"when\">",
	                   cancelled ? " cancelled" : ""));
	when(pg, e);
	status_badge(pg, e);
	ok(pg, mu_html_raw(pg->b, "</div>"));
	ok(pg, mu_html_fmt(pg->b, "<a class=\"title\" href=\"/events/%s\">", addr));
	ok(pg, mu_html_text(pg->b, e->title.ptr, e->title.len));
	ok(pg, mu_html_raw(pg->b, "</a><div class=\"hosts\">By "));
	hosts(pg, rec);
	ok(pg, mu_html_raw(pg->b, "</div>"));
	if (e->has_cause) {
		ok(pg, mu_html_raw(pg->b, "<div class=\"cause\">For "));
		cause_link(pg, &e->cause);
		ok(pg, mu_html_raw(pg->b, "</div>"));
	}
	place(pg, e);
	occurrences(pg, e);
	stale_note(pg, rec->group);
	ok(pg, mu_html_raw(pg->b, "</li>\n"));
	if (pg->err != 0)
		return pg->err;
	return pg->deadline != 0 && uv_hrtime() >= pg->deadline ? 1 : 0;
}

/* The events that pass pg->f from now on, by day or as one list: opens the
 * list, and makes the page a stream whose list page_next() writes; what
 * the page writes after this goes after the list. */
static void
event_list(struct page *pg, bool by_day, const char *none)
{
	pg->by_day = by_day;
	pg->none = none;
	pg->n = 0;
	pg->day = -1;
	if (!by_day)
		ok(pg, mu_html_raw(pg->b, "<ul class=\"events\">\n"));
	pg->listing = true;
	pg->b = &pg->tail;
}

/* The petitions and pledges of group (NULL: all), after the list of
 * events (event_list() came first): written after it, an entry a call. */
static void
acts_after(struct page *pg, const uint8_t *group)
{
	pg->with_acts = true;
	pg->acts_at = pg->tail.len;
	mu_http_acts_walk_init(&pg->walk, pg->rq->node->store, &pg->groups, group,
	                       MU_KIND_NONE, pg->rq->now);
}

/* Closes the list, after its last event. */
static void
list_end(struct page *pg)
{
	if (pg->by_day && pg->day >= 0)
		ok(pg, mu_html_raw(pg->b, "</ul></section>\n"));
	if (!pg->by_day)
		ok(pg, mu_html_raw(pg->b, "</ul>\n"));
	if (pg->n == 0)
		ok(pg, mu_html_fmt(pg->b, "<p class=\"none\">%s</p>\n", pg->none));
	if (pg->n == MU_HTTP_LIST_MAX)
		ok(pg, mu_html_fmt(pg->b,
		                   "<p class=\"none\">The first %d events are "
		                   "shown.</p>\n",
		                   MU_HTTP_LIST_MAX));
}

/* A cause of a list: nothing when it is of a group outside the scope that
 * the page leaves out. Its title is the record's (pg->causes need not be
 * loaded). */
static int
cause_item(void *ctx, const struct mu_record *rec)
{
	struct page *pg = ctx;
	struct mu_addr a;

	if (pg->hide_outside && mu_outside_has(&pg->outside, rec->group, NULL))
		return 0;
	mu_rec_addr(rec, &a);
	ok(pg, mu_html_raw(pg->b, "<li>"));
	cause_anchor(pg, &a, &rec->c.cause.title);
	ok(pg, mu_html_fmt(pg->b, " <span class=\"status\">%s</span> · ",
	                   mu_cause_status_name(rec->c.cause.status)));
	group_link(pg, rec->group);
	ok(pg, mu_html_raw(pg->b, "</li>\n"));
	return pg->err;
}

#define CAUSES_OPEN  "<ul class=\"causes\">\n"
#define CAUSES_CLOSE "</ul>\n"
#define CAUSES_NONE  "<p class=\"none\">No causes.</p>\n"

/* A group's causes where the page is (pg->b, before its list of events):
 * written there by page_next(), a cause a call (causes_next()). */
static void
causes_before(struct page *pg, const uint8_t group[MU_KEY_BYTES])
{
	pg->with_causes = true;
	pg->causes_at = pg->b->len;
	mu_http_cursor_init(&pg->cur, pg->rq->node->store, MU_KIND_CAUSE, group);
}

/* The next cause of causes_before() into pg->b (nothing when it is left
 * out), with the list's start before the first; MU_HTTP_END after the
 * list's end; or an error. */
static int
causes_next(struct page *pg)
{
	struct mu_node_recs one = {0};
	size_t before = pg->b->len, mark;
	int rc = mu_http_cursor_next(&pg->cur, &one);

	if (rc == MU_HTTP_END)
		ok(pg, mu_html_raw(pg->b, pg->causes_any ? CAUSES_CLOSE : CAUSES_NONE));
	if (rc != MU_HTTP_ITEM) {
		mu_node_recs_free(&one);
		return rc < 0 ? rc : pg->err != 0 ? pg->err : rc;
	}
	if (!pg->causes_any)
		ok(pg, mu_html_raw(pg->b, CAUSES_OPEN));
	mark = pg->b->len;
	rc = cause_item(pg, &one.recs[0]);
	mu_node_recs_free(&one);
	if (pg->b->len == mark)
		pg->b->len = before; /* left out */
	else
		pg->causes_any = true;
	return rc;
}

/* The next slice of a page with a list of events (struct page). */
static int
page_next(void *ctx, uint64_t budget_ns, struct mu_buf *out, bool *done)
{
	struct page *pg = ctx;
	int rc;

	pg->b = out;
	pg->err = 0;
	if (!pg->started) {
		pg->started = true;
		if (!pg->with_causes)
			pg->causes_at = pg->start.len;
		return mu_buf_append(out, pg->start.data, pg->causes_at);
	}
	pg->deadline = uv_hrtime() + budget_ns;
	while (pg->with_causes) {
		if ((rc = causes_next(pg)) < 0)
			return rc;
		if (rc == MU_HTTP_END) {
			pg->with_causes = false;
			rc = mu_buf_append(out, pg->start.data + pg->causes_at,
			                   pg->start.len - pg->causes_at);
			if (rc != 0)
				return rc;
		} else if (uv_hrtime() >= pg->deadline) {
			return 0;
		}
	}
	pg->pos.read_max = LIST_READ_MAX;
	while (!pg->listed) {
		rc = mu_store_events_after(pg->rq->node->store, pg->rq->now,
		                           MU_TIME_MAX + 1, &pg->pos, event_item, pg);
		if (rc < 0)
			return rc;
		if (pg->err != 0)
			return pg->err;
		if (rc == 0 || pg->full) {
			pg->listed = true;
			list_end(pg);
			if (pg->err != 0)
				return pg->err;
		} else if (uv_hrtime() >= pg->deadline) {
			return 0; /* the slice's time is used */
		}
	}
	if (!pg->tail_started) {
		pg->tail_started = true;
		if (!pg->with_acts)
			pg->acts_at = pg->tail.len;
		if ((rc = mu_buf_append(out, pg->tail.data, pg->acts_at)) != 0)
			return rc;
	}
	while (pg->with_acts) {
		if ((rc = mu_http_acts_walk_next(&pg->walk, out)) < 0)
			return rc;
		if (rc == MU_HTTP_END)
			pg->with_acts = false;
		else if (uv_hrtime() >= pg->deadline)
			return 0;
	}
	rc =
	    mu_buf_append(out, pg->tail.data + pg->acts_at, pg->tail.len - pg->acts_at);
	if (rc != 0)
		return rc;
	*done = true;
	return 0;
}

static void
page_free(void *ctx)
{
	page_close(ctx);
	free(ctx);
}

/* Where readers reach this server, escaped, no trailing '/': the public
 * URL when one is set (`serve --public-url`), else http:// and the Host
 * the request named. With_scheme false leaves out "http://" or "https://". */
static void
base_url(struct page *pg, bool with_scheme)
{
	const char *pub = pg->rq->node->opts.public_url;

	if (pub != NULL) {
		ok(pg, mu_html_str(pg->b, with_scheme ? pub : strstr(pub, "//") + 2));
		return;
	}
	if (with_scheme)
		ok(pg, mu_html_raw(pg->b, "http://"));
	ok(pg, mu_html_str(pg->b, pg->rq->host));
}

/* A link to path on this server, its absolute URL as its text. path is
 * trusted (a key's or an address's text form). */
static void
own_link(struct page *pg, const char *cls, const char *path)
{
	ok(pg, mu_html_fmt(pg->b, "<a class=\"%s\" href=\"", cls));
	base_url(pg, true);
	ok(pg, mu_html_str(pg->b, path));
	ok(pg, mu_html_raw(pg->b, "\">"));
	base_url(pg, true);
	ok(pg, mu_html_str(pg->b, path));
	ok(pg, mu_html_raw(pg->b, "</a>"));
}

/* The links that subscribe to a feed: webcal:// opens the calendar app of
 * a phone; the http(s):// one can be pasted into any calendar. */
static void
subscribe(struct page *pg, const char *feed)
{
	ok(pg, mu_html_raw(pg->b, "<p class=\"subscribe\">Subscribe: <a "
	                          "class=\"webcal\" href=\"webcal://"));
	base_url(pg, false);
	ok(pg, mu_html_fmt(pg->b, "%s\">in your calendar app</a> · ", feed));
	own_link(pg, "feed", feed);
	ok(pg, mu_html_raw(pg->b, "</p>\n"));
}

static void
field(struct page *pg, const char *label, struct mu_str v)
{
	if (v.len == 0)
		return;
	ok(pg, mu_html_fmt(pg->b, "<dt>%s</dt><dd>", label));
	ok(pg, mu_html_text(pg->b, v.ptr, v.len));
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
}

/* A link field; only http:// and https:// URLs become links. */
static void
link_field(struct page *pg, const char *label, struct mu_str url)
{
	if (url.len == 0)
		return;
	ok(pg, mu_html_fmt(pg->b, "<dt>%s</dt><dd>", label));
	ok(pg, mu_html_link(pg->b, url, url));
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
}

/* A block of text in an element of class cls, line breaks kept (CSS). */
static void
text_block(struct page *pg, const char *tag, const char *cls, struct mu_str v)
{
	if (v.len == 0)
		return;
	ok(pg, mu_html_fmt(pg->b, "<%s class=\"%s\">", tag, cls));
	ok(pg, mu_html_text(pg->b, v.ptr, v.len));
	ok(pg, mu_html_fmt(pg->b, "</%s>\n", tag));
}

static void
tags(struct page *pg, const struct mu_str *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	ok(pg, mu_html_raw(pg->b, "<dt>Tags</dt><dd class=\"tags\">"));
	for (i = 0; i < n; i++) {
		ok(pg, mu_html_raw(pg->b, "<span class=\"tag\">"));
		ok(pg, mu_html_text(pg->b, v[i].ptr, v[i].len));
		ok(pg, mu_html_raw(pg->b, "</span> "));
	}
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
}

static void
head(struct page *pg, const char *title, size_t len)
{
	ok(pg, mu_html_head(pg->b, title, len));
}

/* --- the pages -------------------------------------------------------------- */

static int
page_calendar(struct page *pg)
{
	const struct mu_http_group *us =
	    mu_http_group_find(&pg->groups, pg->rq->node->home->group);
	const char *name = us != NULL && us->name != NULL ? us->name : "This node";

	head(pg, "Coalition calendar", strlen("Coalition calendar"));
	ok(pg, mu_html_raw(pg->b, "<h1>Coalition calendar</h1>\n<p class=\"lead\">"
	                          "Upcoming events of "));
	ok(pg, mu_html_str(pg->b, name));
	ok(pg, mu_html_raw(pg->b, " and its allies.</p>\n"));
	subscribe(pg, "/calendar.ics");
	event_list(pg, true, "No upcoming events.");
	acts_after(pg, NULL);
	ok(pg, mu_html_foot(pg->b));
	return pg->err;
}

/* Fills the page of one event, from inside the store's visitor. */
static int
event_page(void *ctx, const struct mu_record *rec)
{
	struct page *pg = ctx;
	const struct mu_event *e = &rec->c.event;
	const struct mu_location *l = &e->location;
	char addr[MU_ADDR_TEXT_SIZE], path[MU_ADDR_TEXT_SIZE + 8];
	const char *editor;
	struct mu_addr a;

	mu_rec_addr(rec, &a);
	mu_addr_to_text(addr, &a);
	snprintf(path, sizeof(path), "/events/%s", addr);
	head(pg, e->title.ptr, e->title.len);
	ok(pg, mu_html_fmt(pg->b, "<article class=\"event%s\">\n<h1 class=\"title\">",
	                   e->status == MU_EVENT_CANCELLED ? " cancelled" : ""));
	ok(pg, mu_html_text(pg->b, e->title.ptr, e->title.len));
	ok(pg, mu_html_raw(pg->b, "</h1>\n<dl>\n<dt>When</dt><dd class=\"when\">"));
	when(pg, e);
	stale_note(pg, rec->group);
	if (e->tz.len > 0) {
		ok(pg, mu_html_raw(pg->b, " (planned in "));
		ok(pg, mu_html_text(pg->b, e->tz.ptr, e->tz.len));
		ok(pg, mu_html_raw(pg->b, ")"));
	}
	occurrences(pg, e);
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	if (e->status != MU_EVENT_CONFIRMED) {
		ok(pg, mu_html_raw(pg->b, "<dt>Status</dt><dd>"));
		status_badge(pg, e);
		ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	}
	ok(pg, mu_html_raw(pg->b, "<dt>Hosts</dt><dd>"));
	hosts(pg, rec);
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	editor = mu_node_signer_name(&pg->signers, rec);
	if (editor != NULL) {
		ok(pg,
		   mu_html_raw(pg->b, "<dt>Last edited by</dt><dd class=\"editor\">"));
		ok(pg, mu_html_str(pg->b, editor));
		ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	}
	if (e->has_cause) {
		ok(pg, mu_html_raw(pg->b, "<dt>Cause</dt><dd>"));
		cause_link(pg, &e->cause);
		ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	}
	if (l->set || e->nonline > 0) {
		ok(pg, mu_html_raw(pg->b, "<dt>Where</dt><dd>"));
		place(pg, e);
		if (l->has_geo)
			ok(pg,
			   mu_html_fmt(pg->b,
			               "<div><a href=\"https://www.openstreetmap.org/"
			               "?mlat=%.7f&amp;mlon=%.7f\" rel=\"nofollow "
			               "noopener noreferrer\">Map</a></div>",
			               (double)l->lat / MU_GEO_SCALE,
			               (double)l->lon / MU_GEO_SCALE));
		ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	}
	if (e->has_capacity)
		ok(pg, mu_html_fmt(pg->b, "<dt>Capacity</dt><dd>%u people</dd>\n",
		                   (unsigned)e->capacity));
	tags(pg, e->tags, e->ntags);
	ok(pg, mu_html_raw(pg->b, "</dl>\n"));
	text_block(pg, "div", "description", e->description);
	if (pg->acts.len > 0)
		ok(pg, mu_buf_append(pg->b, pg->acts.data, pg->acts.len));
	ok(pg, mu_http_rsvp_form(pg->rq, pg->b, rec));
	ok(pg, mu_html_fmt(pg->b,
	                   "<p class=\"actions\"><a class=\"ics\" "
	                   "href=\"%s/calendar.ics\" download>Add to my "
	                   "calendar</a></p>\n<p class=\"share\">Share: ",
	                   path));
	own_link(pg, "share", path);
	ok(pg, mu_html_raw(pg->b, "</p>\n"));
	/* For the curious, out of the way: the record behind the page. */
	ok(pg, mu_html_fmt(pg->b,
	                   "<details class=\"record\"><summary>Record</summary>"
	                   "<p>Revision %u, of ",
	                   (unsigned)rec->rev));
	time_tag(pg, rec->created_at, false, false);
	zone_tag(pg);
	ok(pg, mu_html_fmt(pg->b,
	                   " · <a href=\"/api/events/%s\">As JSON</a></p>"
	                   "</details>\n</article>\n",
	                   addr));
	ok(pg, mu_html_foot(pg->b));
	return pg->err;
}

static int
cause_page(void *ctx, const struct mu_record *rec)
{
	struct page *pg = ctx;
	const struct mu_cause *c = &rec->c.cause;

	head(pg, c->title.ptr, c->title.len);
	ok(pg, mu_html_raw(pg->b, "<article class=\"cause\">\n<h1>"));
	ok(pg, mu_html_text(pg->b, c->title.ptr, c->title.len));
	ok(pg, mu_html_raw(pg->b, "</h1>\n"));
	text_block(pg, "p", "lead", c->summary);
	ok(pg,
	   mu_html_fmt(pg->b, "<dl>\n<dt>Status</dt><dd>%s</dd>\n<dt>Group</dt><dd>",
	               mu_cause_status_name(c->status)));
	group_link(pg, rec->group);
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
	link_field(pg, "Web", c->url);
	tags(pg, c->tags, c->ntags);
	ok(pg, mu_html_raw(pg->b, "</dl>\n"));
	text_block(pg, "div", "description", c->description);
	ok(pg, mu_html_raw(pg->b, "</article>\n"));
	return pg->err;
}

static int
page_cause(struct page *pg, struct mu_http_reply *rp, const char *text)
{
	struct mu_addr addr;
	char d[MU_D_MAX + 1], feed[MU_ADDR_TEXT_SIZE + 32];
	int rc;

	if (mu_http_addr(text, "the cause", MU_KIND_CAUSE, &addr, d, rp))
		return 0;
	rc = mu_store_get_addr(pg->rq->node->store, &addr, cause_page, pg);
	if (rc == MU_ENOTFOUND)
		return mu_http_fail(rp, 404, "no cause %s is stored here", text);
	if (rc != 0)
		return rc;
	ok(pg, mu_html_raw(pg->b, "<h2>Upcoming events</h2>\n"));
	snprintf(feed, sizeof(feed), "/causes/%s/calendar.ics", text);
	subscribe(pg, feed);
	pg->cause = addr;
	memcpy(pg->cause_d, addr.d.ptr, addr.d.len);
	pg->cause.d.ptr = pg->cause_d;
	pg->f.cause = &pg->cause;
	event_list(pg, false, "No upcoming events for this cause.");
	ok(pg, mu_html_foot(pg->b));
	return pg->err;
}

static void
ago(struct page *pg, const char *label, int64_t t)
{
	ok(pg, mu_html_fmt(pg->b, "<dt>%s</dt><dd>", label));
	if (t == 0)
		ok(pg, mu_html_raw(pg->b, "never"));
	else
		time_tag(pg, t, false, false);
	if (t != 0)
		zone_tag(pg);
	ok(pg, mu_html_raw(pg->b, "</dd>\n"));
}

static int
profile_fields(void *ctx, const struct mu_record *rec)
{
	struct page *pg = ctx;
	const struct mu_profile *p = &rec->c.profile;

	field(pg, "About", p->about);
	link_field(pg, "Web", p->website);
	field(pg, "Contact", p->contact);
	field(pg, "Location", p->location);
	return pg->err;
}

static const char *
alliance_words(int state)
{
	switch (state) {
	case MU_ALLY_MUTUAL:
		return "allied with us";
	case MU_ALLY_BY_US:
		return "we proposed an alliance; no answer yet";
	case MU_ALLY_TO_US:
		return "proposes an alliance to us";
	case MU_ALLY_ENDED:
		return "our alliance has ended";
	}
	return "no alliance with us";
}

static int
page_group(struct page *pg, struct mu_http_reply *rp, const char *text)
{
	const struct mu_http_group *g;
	struct mu_addr profile;
	uint8_t key[MU_KEY_BYTES];
	char feed[MU_KEY_TEXT_SIZE + 32], ktext[MU_KEY_TEXT_SIZE];
	int rc;

	if (mu_http_key(text, "the group", key, rp))
		return 0;
	if ((g = mu_http_group_find(&pg->groups, key)) == NULL)
		return mu_http_fail(rp, 404, "the group %s is not known here", text);
	mu_key_to_text(ktext, key);
	if (g->name != NULL)
		head(pg, g->name, strlen(g->name));
	else
		head(pg, ktext, strlen(ktext));
	ok(pg, mu_html_raw(pg->b, "<article class=\"group\">\n<h1>"));
	ok(pg, mu_html_str(pg->b, g->name != NULL ? g->name : ktext));
	ok(pg, mu_html_fmt(pg->b, "</h1>\n<p class=\"lead\">%s</p>\n<dl>\n",
	                   g->us ? "This node's group." : alliance_words(g->alliance)));
	memset(&profile, 0, sizeof(profile));
	memcpy(profile.group, key, MU_KEY_BYTES);
	profile.kind = MU_KIND_PROFILE;
	rc = mu_store_get_addr(pg->rq->node->store, &profile, profile_fields, pg);
	if (rc < 0 && rc != MU_ENOTFOUND)
		ok(pg, rc);
	if (!g->us)
		ago(pg, "Last seen", g->last_seen);
	/* The key last: the name is what people know a group by. */
	ok(pg, mu_html_fmt(pg->b, "<dt>Key</dt><dd class=\"key\">%s</dd>\n", ktext));
	ok(pg, mu_html_raw(pg->b, "</dl>\n</article>\n<h2>Causes</h2>\n"));
	causes_before(pg, key);
	ok(pg, mu_html_raw(pg->b, "<h2>Upcoming events</h2>\n"));
	snprintf(feed, sizeof(feed), "/groups/%s/calendar.ics", ktext);
	subscribe(pg, feed);
	memcpy(pg->key, key, MU_KEY_BYTES);
	pg->f.group = pg->key;
	event_list(pg, false, "No upcoming events of this group.");
	acts_after(pg, key);
	ok(pg, mu_html_foot(pg->b));
	return pg->err;
}

/* "ended by NAME on DATE" (UTC) of a pair, closing its item. */
static void
ended_by(struct page *pg, const struct mu_http_pair *p)
{
	bool a = p->ended == MU_ENDED_BY_A;
	const uint8_t *key = a ? p->a : p->b;
	const struct mu_http_group *g = mu_http_group_find(&pg->groups, key);
	time_t t = (time_t)(a ? p->a_at : p->b_at);
	char text[MU_KEY_TEXT_SIZE], day[16];
	struct tm tm;

	mu_key_to_text(text, key);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
		snprintf(day, sizeof(day), "?");
	ok(pg, mu_html_raw(pg->b, " <span class=\"state\">ended by "));
	if (g != NULL && g->name != NULL)
		ok(pg, mu_html_str(pg->b, g->name));
	else
		ok(pg, mu_html_fmt(pg->b, "%.*s…", SHORT_KEY, text));
	ok(pg, mu_html_fmt(pg->b, " on %s</span></li>\n", day));
}

/* A pair of groups and the state of their alliance. */
static void
alliance_item(struct page *pg, const struct mu_http_pair *e)
{
	const char *state = mu_http_pair_state(e);

	ok(pg, mu_html_fmt(pg->b, "<li class=\"alliance %s\">", state));
	group_link(pg, e->a);
	if (strcmp(state, "mutual") == 0)
		ok(pg, mu_html_raw(pg->b, " ⇄ "));
	else if (strcmp(state, "ended") == 0)
		ok(pg, mu_html_raw(pg->b, " ✕ "));
	else
		ok(pg, mu_html_raw(pg->b, e->a_status == MU_ALLIANCE_PROPOSED ? " → "
		                                                              : " ← "));
	group_link(pg, e->b);
	if (e->ended != MU_ENDED_NOT)
		ended_by(pg, e);
	else
		ok(pg, mu_html_fmt(pg->b, " <span class=\"state\">%s</span></li>\n",
		                   state));
}

/* An item of a page that is a list (struct page, pg->list says which). */
static int
list_item(void *ctx, struct mu_buf *out)
{
	struct page *pg = ctx;
	struct mu_node_recs one = {0};
	const struct mu_http_pair *e;
	int rc;

	pg->b = out;
	pg->err = 0;
	if (pg->list == LIST_ALLIANCES) {
		if ((rc = mu_http_pairs_next(&pg->pairs, &e)) == MU_HTTP_ITEM)
			alliance_item(pg, e);
		return pg->err != 0 ? pg->err : rc;
	}
	if ((rc = mu_http_cursor_next(&pg->cur, &one)) == MU_HTTP_ITEM) {
		rc = cause_item(pg, &one.recs[0]);
		if (rc == 0 && out->len == 0)
			rc = MU_HTTP_SKIP; /* left out */
	}
	mu_node_recs_free(&one);
	return rc;
}

/* Makes the page (its head written) the list pg->list as a stream. */
static int
page_list(struct page *pg, struct mu_http_reply *rp, const char *open,
          const char *close, const char *none)
{
	struct mu_http_page_list pl = {open, close, none, list_item, page_free, pg};

	if (pg->err != 0)
		return pg->err;
	pg->rq_copy = (struct mu_http_req){.node = pg->rq->node, .now = pg->rq->now};
	pg->rq = &pg->rq_copy;
	pg->streamed = true;
	return mu_http_page_list(rp, &pl);
}

static int
page_causes(struct page *pg, struct mu_http_reply *rp)
{
	head(pg, "Causes", strlen("Causes"));
	ok(pg, mu_html_raw(pg->b, "<h1>Causes</h1>\n"));
	pg->list = LIST_CAUSES;
	mu_http_cursor_init(&pg->cur, pg->rq->node->store, MU_KIND_CAUSE, NULL);
	return page_list(pg, rp, CAUSES_OPEN, CAUSES_CLOSE, CAUSES_NONE);
}

static int
page_alliances(struct page *pg, struct mu_http_reply *rp)
{
	head(pg, "Alliances", strlen("Alliances"));
	ok(pg, mu_html_raw(pg->b, "<h1>Alliances</h1>\n<p class=\"lead\">Who is allied "
	                          "with whom, as their records say.</p>\n"));
	pg->list = LIST_ALLIANCES;
	mu_http_pairs_open(pg->rq->node->store, &pg->pairs);
	return page_list(pg, rp, "<ul class=\"alliances\">\n", "</ul>\n",
	                 "<p class=\"none\">No alliances.</p>\n");
}

int
mu_http_page(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	struct mu_addr addr;
	char d[MU_D_MAX + 1];
	struct page *pg;
	int rc;

	/* m: the member token of a member link (http_entries.c). */
	if (mu_http_args_only(rq, rp, (const char *const[]){"all", "m", NULL}))
		return 0;
	if ((rc = mu_http_page_acts(rq, rp)) != 1)
		return rc;
	if ((pg = malloc(sizeof(*pg))) == NULL)
		return MU_ENOMEM;
	if ((rc = page_open(pg, rq, rp,
	                    strcmp(p, "/causes") != 0 &&
	                        strcmp(p, "/alliances") != 0)) != 0) {
		rc = rc == 1 ? 0 : rc; /* a bad ?all, answered */
		goto out;
	}
	if (strcmp(p, "/") == 0) {
		rc = page_calendar(pg);
	} else if (strncmp(p, "/events/", 8) == 0) {
		if (mu_http_addr(p + 8, "the event", MU_KIND_EVENT, &addr, d, rp))
			goto out;
		if ((rc = mu_http_acts_event_html(rq, &pg->groups, &addr, &pg->acts)) !=
		    0)
			goto out;
		rc = mu_store_get_addr(rq->node->store, &addr, event_page, pg);
		if (rc == MU_ENOTFOUND)
			rc = mu_http_fail(rp, 404, "no event %s is stored here", p + 8);
	} else if (strcmp(p, "/causes") == 0) {
		rc = page_causes(pg, rp);
	} else if (strncmp(p, "/causes/", 8) == 0) {
		rc = page_cause(pg, rp, p + 8);
	} else if (strncmp(p, "/groups/", 8) == 0) {
		rc = page_group(pg, rp, p + 8);
	} else if (strcmp(p, "/alliances") == 0) {
		rc = page_alliances(pg, rp);
	} else {
		rc = mu_http_fail(rp, 404, "no page at %.100s", p);
	}
	if (pg->streamed)
		return rc; /* the stream owns pg, or freed it */
	if (rc == 0 && pg->listing && pg->err == 0) {
		/* What the list reads of the request; its texts are the
		 * connection's and are not kept. */
		pg->rq_copy = (struct mu_http_req){.node = rq->node,
		                                   .now = rq->now,
		                                   .boot = rq->boot,
		                                   .form_key = rq->form_key};
		pg->rq = &pg->rq_copy;
		pg->start = rp->body;
		rp->body = (struct mu_buf)MU_BUF_INIT;
		rp->stream = (struct mu_http_stream){page_next, page_free, pg};
		return 0;
	}
out:
	page_close(pg);
	free(pg);
	return rc;
}
