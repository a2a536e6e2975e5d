/*
 * calendar.c - the coalition calendar as an iCalendar feed (calendar.h).
 *
 * The events are copied out of the store first and written after, because
 * writing one needs more reads (the host groups' names, the cause's title)
 * and a store visitor must not start another read. Names are looked up once
 * per group and cause. docs/API.md ("iCalendar feeds") lists every property
 * and the record field it comes from; keep the two in step.
 */
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "../protocol/ical.h"
#include "../protocol/textform.h"
#include "acts.h"
#include "calendar_recur.h"

#define CAL_NAME_SIZE 256  /* a profile name (100) or a cause title (200) */
#define CAL_CLI_SLICE 1024 /* entries per slice of mu_cal_ics() */

/* An event copied out of the store: rec borrows buf. */
struct cal_event {
	uint8_t *buf;
	struct mu_record rec;
};

/* A looked-up display name: a group's profile name or a cause's title. */
struct cal_name {
	/* The profile's or the cause's address, held by value: the array of
	 * names moves as it grows, so nothing may point into an entry. */
	uint8_t group[MU_KEY_BYTES];
	enum mu_kind kind;
	char d[MU_D_MAX + 1];
	size_t dlen;
	bool found;
	char text[CAL_NAME_SIZE];
	size_t len;
};

struct cal {
	struct mu_store *st;
	const struct mu_cal_filter *f;
	struct cal_event *ev;
	size_t nev, cap_ev;
	struct cal_name *names;
	size_t nnames, cap_names;
	struct mu_buf scratch; /* DESCRIPTION and LOCATION text, unescaped */
	int err;               /* what a visitor failed with */
	/* The zones whose VTIMEZONE the feed holds already (a series' times
	 * are local); past the last slot one is written again, which parsers
	 * take as the same zone. */
	char zones[16][65];
	size_t nzones;
	/* The slice being read: events kept (at most want) and seen (at most
	 * seen_max); full when either is reached, or at deadline (a
	 * monotonic time in ns, 0: none). */
	size_t want, seen, seen_max;
	uint64_t deadline;
	bool full;
};

/* A feed being written a slice at a time: the filter's pointers point at
 * the copies here. */
struct mu_cal_stream {
	struct cal c;
	struct mu_cal_filter f;
	uint8_t group[MU_KEY_BYTES];
	struct mu_addr cause;
	char cause_d[MU_D_MAX + 1];
	char *name, *page_base;
	struct mu_store_ev_pos pos;
	size_t next_ev;         /* of c.ev, the first not written yet */
	bool scanned;           /* the events' scan has reached its end */
	struct mu_node_recs pl; /* the pledges, listed after the events */
	size_t next_pl;         /* of pl, the first not written yet */
	bool listed;            /* pl holds the pledges */
	bool started, done;
	struct mu_outside outside; /* read at the open */
};

/* Whether a slice with a deadline (0: none) has used its time. */
static bool
past(uint64_t deadline)
{
	return deadline != 0 && uv_hrtime() >= deadline;
}

void
mu_cal_filter_all(struct mu_cal_filter *f)
{
	f->from = 0;
	f->to = MU_TIME_MAX + 1;
	f->group = NULL;
	f->cause = NULL;
	f->page_base = NULL;
	f->outside = NULL;
	f->now = (int64_t)time(NULL);
}

static bool
addr_eq(const struct mu_addr *a, const struct mu_addr *b)
{
	return a->kind == b->kind && memcmp(a->group, b->group, MU_KEY_BYTES) == 0 &&
	       a->d.len == b->d.len && memcmp(a->d.ptr, b->d.ptr, a->d.len) == 0;
}

bool
mu_cal_passes(const struct mu_cal_filter *f, const struct mu_record *rec)
{
	const struct mu_event *ev = &rec->c.event;
	bool hosted;
	size_t i;

	if (f->cause != NULL && !(ev->has_cause && addr_eq(&ev->cause, f->cause)))
		return false;
	if (mu_outside_has(f->outside, rec->group, NULL))
		return false;
	if (f->group == NULL)
		return true;
	hosted = memcmp(rec->group, f->group, MU_KEY_BYTES) == 0;
	for (i = 0; i < ev->nhosts && !hosted; i++)
		hosted = memcmp(ev->hosts[i], f->group, MU_KEY_BYTES) == 0;
	return hosted;
}

/* Visitor of mu_store_events_after(): copies the events that pass the
 * filter, and stops the scan when the slice is full. */
static int
collect(void *ctx, const struct mu_record *rec)
{
	struct cal *c = ctx;
	struct cal_event *e;

	/* Records that fail the filter cost time too: the clock is read
	 * every 8th. */
	if (++c->seen == c->seen_max || (c->seen % 8 == 0 && past(c->deadline)))
		c->full = true;
	if (!mu_cal_passes(c->f, rec))
		return c->full ? 1 : 0;
	if (mu_buf_grow_array(&c->ev, &c->cap_ev, c->nev + 1, sizeof(*e), 64) != 0)
		return c->err = MU_ENOMEM;
	e = &c->ev[c->nev];
	e->buf = malloc(rec->raw_len);
	if (e->buf == NULL)
		return c->err = MU_ENOMEM;
	memcpy(e->buf, rec->raw, rec->raw_len);
	/* The store parsed these very bytes: no second parse. */
	e->rec = *rec;
	mu_rec_move(&e->rec, e->buf);
	c->nev++;
	if (c->nev == c->want)
		c->full = true;
	return c->full ? 1 : 0;
}

/* Visitor of the name lookups: the profile's name or the cause's title. */
static int
copy_name(void *ctx, const struct mu_record *rec)
{
	struct cal_name *n = ctx;
	const struct mu_str *s =
	    rec->kind == MU_KIND_PROFILE ? &rec->c.profile.name : &rec->c.cause.title;

	n->len = s->len < sizeof(n->text) ? s->len : sizeof(n->text) - 1;
	memcpy(n->text, s->ptr, n->len);
	n->found = n->len > 0;
	return 0;
}

/*
 * The display name of a group (kind profile, d "") or a cause, looked up
 * once. Unknown ones (no profile, a cause we do not hold) get the address
 * in text, so that the reader can still tell them apart. NULL when out of
 * memory. The entry is valid until the next call, which may move it.
 */
static const struct cal_name *
name_of(struct cal *c, const uint8_t group[MU_KEY_BYTES], enum mu_kind kind,
        const struct mu_str *d)
{
	struct mu_addr addr;
	struct cal_name *n;
	char text[MU_ADDR_TEXT_SIZE];
	size_t i;

	for (i = 0; i < c->nnames; i++) {
		n = &c->names[i];
		if (n->kind == kind && n->dlen == d->len &&
		    memcmp(n->group, group, MU_KEY_BYTES) == 0 &&
		    memcmp(n->d, d->ptr, d->len) == 0)
			return n;
	}
	if (mu_buf_grow_array(&c->names, &c->cap_names, c->nnames + 1, sizeof(*n),
	                      16) != 0)
		return NULL;
	n = &c->names[c->nnames];
	memset(n, 0, sizeof(*n));
	memcpy(n->group, group, MU_KEY_BYTES);
	n->kind = kind;
	memcpy(n->d, d->ptr, d->len);
	n->dlen = d->len;
	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, group, MU_KEY_BYTES);
	addr.kind = kind;
	addr.d = *d;
	/* Any failure to read leaves the name unknown, not the feed broken. */
	if (mu_store_get_addr(c->st, &addr, copy_name, n) != 0 || !n->found) {
		if (kind == MU_KIND_PROFILE)
			mu_key_to_text(text, group);
		else
			mu_addr_to_text(text, &addr);
		n->len = strlen(text);
		memcpy(n->text, text, n->len + 1);
	}
	c->nnames++;
	return n;
}

static const struct cal_name *
group_name(struct cal *c, const uint8_t group[MU_KEY_BYTES])
{
	static const struct mu_str none = {"", 0};

	return name_of(c, group, MU_KIND_PROFILE, &none);
}

static void
scratch_add(struct cal *c, const char *s, size_t len)
{
	if (c->err == 0)
		c->err = mu_buf_append(&c->scratch, s, len);
}

static void
scratch_str(struct cal *c, const char *s)
{
	scratch_add(c, s, strlen(s));
}

/* A line of the DESCRIPTION's footer: a blank line before the first. */
static void
footer_line(struct cal *c, bool *first, const char *label)
{
	if (*first && c->scratch.len > 0)
		scratch_str(c, "\n");
	if (c->scratch.len > 0)
		scratch_str(c, "\n");
	scratch_str(c, label);
	*first = false;
}

/*
 * DESCRIPTION: the event's description, then a footer with what calendar
 * apps have no property of their own for, or do not show: the host groups,
 * the cause, every online link and the capacity.
 */
static int
write_description(struct cal *c, struct mu_ical *w, const struct mu_record *rec)
{
	const struct mu_event *ev = &rec->c.event;
	const struct cal_name *n;
	bool first = true;
	char num[32];
	size_t i;

	c->scratch.len = 0;
	scratch_add(c, ev->description.ptr, ev->description.len);
	footer_line(c, &first, "Hosted by: ");
	if ((n = group_name(c, rec->group)) == NULL)
		return MU_ENOMEM;
	scratch_add(c, n->text, n->len);
	for (i = 0; i < ev->nhosts; i++) {
		if (memcmp(ev->hosts[i], rec->group, MU_KEY_BYTES) == 0)
			continue;
		if ((n = group_name(c, ev->hosts[i])) == NULL)
			return MU_ENOMEM;
		scratch_str(c, ", ");
		scratch_add(c, n->text, n->len);
	}
	if (ev->has_cause) {
		n = name_of(c, ev->cause.group, MU_KIND_CAUSE, &ev->cause.d);
		if (n == NULL)
			return MU_ENOMEM;
		footer_line(c, &first, "Cause: ");
		scratch_add(c, n->text, n->len);
	}
	for (i = 0; i < ev->nonline; i++) {
		footer_line(c, &first, "Online: ");
		scratch_add(c, ev->online[i].ptr, ev->online[i].len);
	}
	if (ev->has_capacity) {
		snprintf(num, sizeof(num), "Capacity: %u", (unsigned)ev->capacity);
		footer_line(c, &first, num);
	}
	if (c->err != 0)
		return c->err;
	return mu_ical_prop_text(w, "DESCRIPTION", (const char *)c->scratch.data,
	                         c->scratch.len);
}

/* LOCATION "name, address" and GEO "lat;lon" in exact decimal degrees. */
static int
write_location(struct cal *c, struct mu_ical *w, const struct mu_location *loc)
{
	int32_t v[2] = {loc->lat, loc->lon};
	char num[2][24];
	uint32_t a;
	int i;

	if (loc->name.len > 0 || loc->address.len > 0) {
		c->scratch.len = 0;
		scratch_add(c, loc->name.ptr, loc->name.len);
		if (loc->name.len > 0 && loc->address.len > 0)
			scratch_str(c, ", ");
		scratch_add(c, loc->address.ptr, loc->address.len);
		if (c->err != 0)
			return c->err;
		mu_ical_prop_text(w, "LOCATION", (const char *)c->scratch.data,
		                  c->scratch.len);
	}
	if (!loc->has_geo)
		return w->err;
	for (i = 0; i < 2; i++) {
		a = v[i] < 0 ? (uint32_t) - (int64_t)v[i] : (uint32_t)v[i];
		snprintf(num[i], sizeof(num[i]), "%s%u.%07u", v[i] < 0 ? "-" : "",
		         a / MU_GEO_SCALE, a % MU_GEO_SCALE);
	}
	mu_ical_begin(w, "GEO");
	mu_ical_raw(w, num[0], strlen(num[0]));
	mu_ical_raw(w, ";", 1);
	mu_ical_raw(w, num[1], strlen(num[1]));
	return mu_ical_end(w);
}

/* DTSTART and DTEND: dates for all-day events (DTEND is the day after the
 * last, as in the record), UTC times otherwise; always a DTEND. */
static void
write_times(struct mu_ical *w, const struct mu_event *ev)
{
	if (ev->repeat.set) {
		mu_cal_series_times(w, ev);
		return;
	}
	if (ev->all_day) {
		mu_ical_begin(w, "DTSTART");
		mu_ical_param(w, "VALUE", "DATE", 4);
		mu_ical_date(w, ev->start);
		mu_ical_end(w);
		mu_ical_begin(w, "DTEND");
		mu_ical_param(w, "VALUE", "DATE", 4);
		mu_ical_date(w, mu_cal_end(ev));
		mu_ical_end(w);
		return;
	}
	mu_ical_prop_utc(w, "DTSTART", ev->start);
	mu_ical_prop_utc(w, "DTEND", mu_cal_end(ev));
}

/* URL: the event's page when the node knows where its pages are, else
 * the first online link (RFC 5545 allows one URL). */
static void
write_url(struct cal *c, struct mu_ical *w, const struct mu_record *rec)
{
	const struct mu_event *ev = &rec->c.event;
	char addr[MU_ADDR_TEXT_SIZE];
	struct mu_addr a;

	if (c->f->page_base != NULL) {
		mu_rec_addr(rec, &a);
		mu_addr_to_text(addr, &a);
		mu_ical_begin(w, "URL");
		mu_ical_raw(w, c->f->page_base, strlen(c->f->page_base));
		mu_ical_raw(w, "/events/", 8);
		mu_ical_raw(w, addr, strlen(addr));
		mu_ical_end(w);
	} else if (ev->nonline > 0) {
		mu_ical_begin(w, "URL");
		mu_ical_raw(w, ev->online[0].ptr, ev->online[0].len);
		mu_ical_end(w);
	}
}

/* BEGIN, UID, DTSTAMP, LAST-MODIFIED and SEQUENCE of rec's VEVENT. */
static int
write_head(void *ctx, struct mu_ical *w, const struct mu_record *rec)
{
	char key[MU_KEY_TEXT_SIZE], num[16];

	(void)ctx;
	mu_key_to_text(key, rec->group);
	mu_ical_prop_raw(w, "BEGIN", "VEVENT");
	/* d is unique within the group, the group key among groups; no '/',
	 * which some servers dislike in a UID since it names a file there. */
	mu_ical_begin(w, "UID");
	mu_ical_raw(w, rec->d.ptr, rec->d.len);
	mu_ical_raw(w, "@", 1);
	mu_ical_raw(w, key, strlen(key));
	mu_ical_end(w);
	mu_ical_prop_utc(w, "DTSTAMP", rec->created_at);
	mu_ical_prop_utc(w, "LAST-MODIFIED", rec->created_at);
	snprintf(num, sizeof(num), "%u", (unsigned)rec->rev);
	return mu_ical_prop_raw(w, "SEQUENCE", num);
}

/* The head of a cancelled occurrence's VEVENT: as the series', and its
 * title. */
static int
write_occ_head(void *ctx, struct mu_ical *w, const struct mu_record *rec)
{
	write_head(ctx, w, rec);
	return mu_ical_prop_text(w, "SUMMARY", rec->c.event.title.ptr,
	                         rec->c.event.title.len);
}

/* A series' zone, once per feed, before its first VEVENT. */
static int
write_zone(struct cal *c, struct mu_ical *w, const struct mu_event *ev)
{
	size_t i;

	if (!ev->repeat.set || ev->all_day || ev->tz.len == 0 ||
	    ev->tz.len >= sizeof(c->zones[0]))
		return 0;
	for (i = 0; i < c->nzones; i++)
		if (strlen(c->zones[i]) == ev->tz.len &&
		    memcmp(c->zones[i], ev->tz.ptr, ev->tz.len) == 0)
			return 0;
	if (c->nzones < sizeof(c->zones) / sizeof(c->zones[0])) {
		memcpy(c->zones[c->nzones], ev->tz.ptr, ev->tz.len);
		c->zones[c->nzones++][ev->tz.len] = '\0';
	}
	return mu_cal_vtimezone(w, ev);
}

static int
write_event(struct cal *c, struct mu_ical *w, const struct mu_record *rec)
{
	static const char *const status[] = {NULL, "TENTATIVE", "CONFIRMED",
	                                     "CANCELLED"};
	const struct mu_event *ev = &rec->c.event;
	const struct cal_name *org;
	char key[MU_KEY_TEXT_SIZE];
	size_t i;
	int rc;

	if ((rc = write_zone(c, w, ev)) != 0)
		return rc;
	mu_key_to_text(key, rec->group);
	write_head(c, w, rec);
	write_times(w, ev);
	mu_ical_prop_text(w, "SUMMARY", ev->title.ptr, ev->title.len);
	if ((rc = write_description(c, w, rec)) != 0)
		return rc;
	if (ev->location.set && (rc = write_location(c, w, &ev->location)) != 0)
		return rc;
	write_url(c, w, rec);
	for (i = 0; i < ev->nonline; i++) {
		mu_ical_begin(w, "CONFERENCE");
		mu_ical_param(w, "VALUE", "URI", 3);
		mu_ical_raw(w, ev->online[i].ptr, ev->online[i].len);
		mu_ical_end(w);
	}
	if (ev->status >= MU_EVENT_TENTATIVE && ev->status <= MU_EVENT_CANCELLED)
		mu_ical_prop_raw(w, "STATUS", status[ev->status]);
	if ((org = group_name(c, rec->group)) == NULL)
		return MU_ENOMEM;
	mu_ical_begin(w, "ORGANIZER");
	mu_ical_param(w, "CN", org->text, org->len);
	mu_ical_raw(w, "urn:muster:", 11);
	mu_ical_raw(w, key, strlen(key));
	mu_ical_end(w);
	if (ev->ntags > 0) {
		mu_ical_begin(w, "CATEGORIES");
		for (i = 0; i < ev->ntags; i++) {
			if (i > 0)
				mu_ical_raw(w, ",", 1);
			mu_ical_text(w, ev->tags[i].ptr, ev->tags[i].len);
		}
		mu_ical_end(w);
	}
	if ((rc = mu_ical_prop_raw(w, "END", "VEVENT")) != 0)
		return rc;
	return ev->repeat.set ? mu_cal_series_cancelled(w, rec, write_occ_head, c) : 0;
}

int
mu_cal_stream_open(struct mu_store *st, const struct mu_cal_filter *f, const char *name,
                   struct mu_cal_stream **out)
{
	struct mu_cal_stream *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->name = strdup(name)) == NULL) {
		free(s);
		return MU_ENOMEM;
	}
	s->f = *f;
	if (f->page_base != NULL) {
		if ((s->page_base = strdup(f->page_base)) == NULL) {
			mu_cal_stream_free(s);
			return MU_ENOMEM;
		}
		s->f.page_base = s->page_base;
	}
	if (f->group != NULL) {
		memcpy(s->group, f->group, MU_KEY_BYTES);
		s->f.group = s->group;
	}
	if (f->cause != NULL) {
		s->cause = *f->cause;
		memcpy(s->cause_d, f->cause->d.ptr, f->cause->d.len);
		s->cause.d.ptr = s->cause_d;
		s->f.cause = &s->cause;
	}
	if ((rc = mu_store_outside(st, &s->outside)) != 0) {
		mu_cal_stream_free(s);
		return rc;
	}
	s->f.outside = &s->outside;
	s->c.st = st;
	s->c.f = &s->f;
	*out = s;
	return 0;
}

/* Frees the events of the last slice. */
static void
drop_events(struct cal *c)
{
	size_t i;

	for (i = 0; i < c->nev; i++)
		free(c->ev[i].buf);
	c->nev = 0;
}

/* Reads the next events of the scan into c->ev, at most want; the scan
 * has ended when they do not fill it. */
static int
read_events(struct mu_cal_stream *s, size_t want)
{
	struct cal *c = &s->c;
	int rc;

	drop_events(c);
	s->next_ev = 0;
	c->want = want;
	c->seen = 0;
	c->seen_max = 8 * want;
	c->full = false;
	c->err = 0;
	rc = mu_store_events_after(c->st, s->f.from, s->f.to, &s->pos, collect, c);
	if (rc >= 0 && c->err == 0)
		s->scanned = !c->full;
	return c->err != 0 ? c->err : rc < 0 ? rc : 0;
}

/* Writes the events read and not yet written, then the pledges, while
 * *n < max and the deadline allows (one entry at least), then the end. */
static int
write_slice(struct mu_cal_stream *s, struct mu_ical *w, size_t max, size_t *n,
            struct mu_why *why)
{
	struct cal *c = &s->c;
	bool written;
	int rc;

	for (;;) {
		while (s->next_ev < c->nev && *n < max &&
		       !(*n > 0 && past(c->deadline))) {
			if ((rc = write_event(c, w, &c->ev[s->next_ev].rec)) != 0)
				return mu_fail(why, MU_ENOMEM,
				               "writing the calendar: out of memory");
			s->next_ev++;
			++*n;
		}
		if (s->next_ev < c->nev || *n >= max || (*n > 0 && past(c->deadline)))
			return 0;
		if (s->scanned)
			break;
		if ((rc = read_events(s, max - *n)) != 0)
			return mu_fail(why, rc == MU_ENOMEM ? MU_ENOMEM : MU_EIO,
			               "reading the calendar: %s", mu_strerror(rc));
		if (c->nev == 0 && !s->scanned)
			return 0; /* the time went on records the filter left out */
	}
	/* The pledges after the events. */
	if (!s->listed) {
		if ((rc = mu_node_recs_list(c->st, MU_KIND_PLEDGE, s->f.group,
		                            &s->pl)) != 0)
			return mu_fail(why, rc == MU_ENOMEM ? MU_ENOMEM : MU_EIO,
			               "reading the pledges: %s", mu_strerror(rc));
		s->listed = true;
	}
	while (s->next_pl < s->pl.n && *n < max && !(*n > 0 && past(c->deadline))) {
		rc = mu_cal_write_pledge(c->st, w, &s->f, &s->pl.recs[s->next_pl],
		                         &written);
		if (rc != 0)
			return mu_fail(why, rc == MU_ENOMEM ? MU_ENOMEM : MU_EIO,
			               "reading the pledges: %s", mu_strerror(rc));
		s->next_pl++;
		*n += written;
	}
	if (s->next_pl < s->pl.n)
		return 0;
	if (mu_ical_prop_raw(w, "END", "VCALENDAR") != 0)
		return mu_fail(why, MU_ENOMEM, "writing the calendar: out of memory");
	s->done = true;
	return 0;
}

int
mu_cal_stream_next(struct mu_cal_stream *s, size_t max, uint64_t budget_ns,
                   struct mu_buf *out, bool *done, struct mu_why *why)
{
	struct mu_ical w;
	size_t n = 0;
	int rc = 0;

	if (why != NULL)
		why->text[0] = '\0';
	*done = s->done;
	if (s->done)
		return 0;
	s->c.deadline = budget_ns > 0 ? uv_hrtime() + budget_ns : 0;
	mu_ical_init(&w, out);
	if (!s->started) {
		mu_cal_write_header(&w, s->name);
		s->started = true;
		if (w.err != 0)
			rc = mu_fail(why, MU_ENOMEM,
			             "writing the calendar: out of memory");
	}
	if (rc == 0)
		rc = write_slice(s, &w, max > 0 ? max : 1, &n, why);
	if (mu_ical_finish(&w) != 0 && rc == 0)
		rc = mu_fail(why, MU_ENOMEM, "writing the calendar: out of memory");
	*done = s->done;
	return rc;
}

void
mu_cal_stream_free(struct mu_cal_stream *s)
{
	if (s == NULL)
		return;
	drop_events(&s->c);
	mu_node_recs_free(&s->pl);
	free(s->c.ev);
	free(s->c.names);
	mu_buf_free(&s->c.scratch);
	mu_outside_free(&s->outside);
	free(s->name);
	free(s->page_base);
	free(s);
}

int
mu_cal_ics(struct mu_store *st, const struct mu_cal_filter *f, const char *name,
           struct mu_buf *out, struct mu_why *why)
{
	struct mu_cal_stream *s;
	bool done = false;
	int rc;

	if ((rc = mu_cal_stream_open(st, f, name, &s)) != 0)
		return mu_fail(why, rc, "writing the calendar: out of memory");
	while (rc == 0 && !done)
		rc = mu_cal_stream_next(s, CAL_CLI_SLICE, 0, out, &done, why);
	mu_cal_stream_free(s);
	return rc;
}

/* Visitor of mu_cal_event_ics(): keeps the one event. */
static int
collect_one(void *ctx, const struct mu_record *rec)
{
	struct cal *c = ctx;

	c->want = 1;
	c->seen_max = 0;
	return collect(c, rec) < 0 ? c->err : 0;
}

int
mu_cal_event_ics(struct mu_store *st, const struct mu_addr *addr, const char *page_base,
                 struct mu_buf *out, struct mu_why *why)
{
	struct mu_cal_filter f;
	struct cal c;
	struct mu_ical w;
	const struct mu_str *title;
	char *name = NULL;
	int rc;

	mu_cal_filter_all(&f);
	f.page_base = page_base;
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.f = &f;
	rc = mu_store_get_addr(st, addr, collect_one, &c);
	if (rc == MU_ENOTFOUND || (rc == 0 && c.nev == 0)) {
		rc = MU_ENOTFOUND;
		goto out;
	}
	if (rc != 0 || c.err != 0) {
		rc = c.err != 0 ? c.err : rc;
		rc = mu_fail(why, rc == MU_ENOMEM ? MU_ENOMEM : MU_EIO,
		             "reading the event: %s", mu_strerror(rc));
		goto out;
	}
	title = &c.ev[0].rec.c.event.title;
	if ((name = strndup(title->ptr, title->len)) == NULL) {
		rc = mu_fail(why, MU_ENOMEM, "writing the event: out of memory");
		goto out;
	}
	mu_ical_init(&w, out);
	mu_cal_write_header(&w, name);
	rc = w.err;
	if (rc == 0)
		rc = write_event(&c, &w, &c.ev[0].rec);
	if (rc == 0)
		rc = mu_ical_prop_raw(&w, "END", "VCALENDAR");
	mu_ical_finish(&w);
	if (rc != 0)
		rc = mu_fail(why, MU_ENOMEM, "writing the event: out of memory");
out:
	free(name);
	drop_events(&c);
	free(c.ev);
	free(c.names);
	mu_buf_free(&c.scratch);
	return rc;
}
