/*
 * calendar_recur.c - a series in the feed (calendar_recur.h). The dates are
 * mu_recur_expand()'s; the rule is written so that RFC 5545 expands it to
 * the same ones (docs/PROTOCOL.md, Recurrence, says why each step agrees).
 */
#include "calendar_recur.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "zone.h"

/* Every occurrence lasts as long as the first, whose DTEND the feed always
 * has (calendar.h, mu_cal_end()). */
static int64_t
length(const struct mu_event *ev)
{
	return mu_cal_end(ev) - ev->start;
}

/* Every date the rule gives, skipped and cancelled ones included. */
struct series {
	struct mu_recur_occ v[MU_REPEAT_COUNT_MAX];
	size_t n;
	struct mu_node_zone z;
	const struct mu_recur_zone *rules; /* NULL: UTC */
	const struct mu_event *ev;
};

static int
keep(void *ctx, const struct mu_recur_occ *o)
{
	struct series *s = ctx;

	if (s->n == MU_REPEAT_COUNT_MAX)
		return 1;
	s->v[s->n++] = *o;
	return 0;
}

/* Expands ev with its zone open; the caller closes it (series_close). */
static struct series *
series_open(const struct mu_event *ev)
{
	struct series *s = calloc(1, sizeof(*s));
	struct mu_event all = *ev;

	if (s == NULL)
		return NULL;
	s->ev = ev;
	if (mu_node_zone_open(&s->z, ev) == MU_ENOMEM) {
		free(s);
		return NULL;
	}
	s->rules = mu_node_zone_rules(&s->z);
	all.repeat.nskip = 0;
	mu_recur_expand(&all, s->rules, 0, MU_TIME_MAX + 1, keep, s);
	return s;
}

static void
series_close(struct series *s)
{
	mu_node_zone_close(&s->z);
	free(s);
}

/* Starts property name with the value t in the event's form: a DATE for an
 * all-day event, local time with TZID in a zone, else UTC. */
static void
put_when(struct mu_ical *w, const struct series *s, const char *name, int64_t t)
{
	const struct mu_event *ev = s->ev;
	int64_t days;
	int32_t secs;

	mu_ical_begin(w, name);
	if (ev->all_day) {
		mu_ical_param(w, "VALUE", "DATE", 4);
		mu_ical_date(w, t);
	} else if (s->rules != NULL) {
		mu_ical_param(w, "TZID", ev->tz.ptr, ev->tz.len);
		s->rules->to_local(s->rules->ctx, t, &days, &secs);
		mu_ical_local(w, days * 86400 + secs);
	} else {
		mu_ical_utc(w, t);
	}
}

static const struct mu_recur_occ *
on_date(const struct series *s, const struct mu_str *text)
{
	int64_t d;
	size_t i;

	if (!mu_recur_date_parse(text->ptr, text->len, &d))
		return NULL;
	for (i = 0; i < s->n; i++)
		if (s->v[i].date == d)
			return &s->v[i];
	return NULL;
}

static void
write_rrule(struct mu_ical *w, const struct series *s)
{
	static const char *const freq[] = {NULL, "DAILY", "WEEKLY", "MONTHLY"};
	const struct mu_repeat *r = &s->ev->repeat;
	const struct mu_recur_occ *last = &s->v[s->n - 1];
	char b[32];
	size_t i;
	int n;

	mu_ical_begin(w, "RRULE");
	mu_ical_raw(w, "FREQ=", 5);
	mu_ical_raw(w, freq[r->freq], strlen(freq[r->freq]));
	if (r->has_interval && r->interval > 1) {
		n = snprintf(b, sizeof(b), ";INTERVAL=%u", (unsigned)r->interval);
		mu_ical_raw(w, b, (size_t)n);
	}
	for (i = 0; i < r->nbyday; i++) {
		mu_ical_raw(w, i == 0 ? ";BYDAY=" : ",", i == 0 ? 7 : 1);
		b[0] = (char)(r->byday[i].ptr[0] - 'a' + 'A');
		b[1] = (char)(r->byday[i].ptr[1] - 'a' + 'A');
		mu_ical_raw(w, b, 2);
	}
	if (r->freq == MU_REPEAT_WEEKLY)
		mu_ical_raw(w, ";WKST=MO", 8);
	/* COUNT when the series has all its dates; else the caps of
	 * protocol/recur.c ended it, and UNTIL (in UTC, as RFC 5545 wants
	 * with a TZID) says where: half a day after the last start, as any
	 * instant before the next date (23 hours on at the least) gives the
	 * same dates, and parsers that move UNTIL into the zone with the
	 * wrong offset (pytz's first one) would drop a last start given
	 * exactly. */
	if (r->has_count && s->n == r->count) {
		n = snprintf(b, sizeof(b), ";COUNT=%u", (unsigned)r->count);
		mu_ical_raw(w, b, (size_t)n);
	} else {
		mu_ical_raw(w, ";UNTIL=", 7);
		if (s->ev->all_day)
			mu_ical_date(w, last->start);
		else
			mu_ical_utc(w, last->start + 12 * 3600);
	}
	mu_ical_end(w);
}

int
mu_cal_series_times(struct mu_ical *w, const struct mu_event *ev)
{
	const struct mu_recur_occ *o;
	struct series *s;
	size_t i;

	if ((s = series_open(ev)) == NULL)
		return w->err = MU_ENOMEM;
	if (s->n == 0) {
		/* No date (a weekly rule whose days never come before until):
		 * the record's own start stands alone. */
		put_when(w, s, "DTSTART", ev->start);
		mu_ical_end(w);
		series_close(s);
		return w->err;
	}
	put_when(w, s, "DTSTART", s->v[0].start);
	mu_ical_end(w);
	put_when(w, s, "DTEND", s->v[0].start + length(ev));
	mu_ical_end(w);
	write_rrule(w, s);
	for (i = 0; i < ev->repeat.nskip; i++) {
		if ((o = on_date(s, &ev->repeat.skip[i])) == NULL)
			continue;
		put_when(w, s, "EXDATE", o->start);
		mu_ical_end(w);
	}
	series_close(s);
	return w->err;
}

/* The years whose changes a VTIMEZONE lists: a feed holds each zone once,
 * whatever its events' dates, so the window is fixed. */
#define TZ_FROM 1577836800LL /* 2020-01-01T00:00:00Z */
#define TZ_TO   2366841600LL /* 2045-01-01T00:00:00Z */

/* The offset and abbreviation of the open zone at t. */
static int64_t
zone_at(int64_t t, char name[16], bool *dst)
{
	time_t tt = (time_t)t;
	struct tm tm;

	*dst = false;
	name[0] = '\0';
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	snprintf(name, 16, "%s", tm.tm_zone != NULL ? tm.tm_zone : "");
	*dst = tm.tm_isdst > 0;
	return tm.tm_gmtoff;
}

static void
put_offset(struct mu_ical *w, const char *name, int64_t off)
{
	char b[16];
	int64_t a = off < 0 ? -off : off;

	snprintf(b, sizeof(b), "%c%02d%02d", off < 0 ? '-' : '+', (int)(a / 3600),
	         (int)(a / 60 % 60));
	mu_ical_prop_raw(w, name, b);
}

/* One observance: from t (local time from + the instant), offset from -> to. */
static void
put_observance(struct mu_ical *w, int64_t t, int64_t from, int64_t to, const char *name,
               bool dst)
{
	const char *kind = dst ? "DAYLIGHT" : "STANDARD";

	mu_ical_prop_raw(w, "BEGIN", kind);
	mu_ical_begin(w, "DTSTART");
	mu_ical_local(w, t + from);
	mu_ical_end(w);
	put_offset(w, "TZOFFSETFROM", from);
	put_offset(w, "TZOFFSETTO", to);
	if (name[0] != '\0')
		mu_ical_prop_text(w, "TZNAME", name, strlen(name));
	mu_ical_prop_raw(w, "END", kind);
}

int
mu_cal_vtimezone(struct mu_ical *w, const struct mu_event *ev)
{
	struct mu_node_zone z;
	char name[16], next_name[16];
	int64_t t, lo, hi, mid, off, next;
	bool dst, next_dst, mid_dst;
	int rc;

	if (ev->all_day || ev->tz.len == 0)
		return 0;
	rc = mu_node_zone_open(&z, ev);
	if (rc == MU_ENOMEM)
		return w->err = rc;
	if (mu_node_zone_rules(&z) == NULL)
		return 0;
	mu_ical_prop_raw(w, "BEGIN", "VTIMEZONE");
	mu_ical_begin(w, "TZID");
	mu_ical_raw(w, ev->tz.ptr, ev->tz.len);
	mu_ical_end(w);
	off = zone_at(TZ_FROM, name, &dst);
	put_observance(w, TZ_FROM, off, off, name, dst);
	/* Zones change at most once a day: a day's step finds each change,
	 * and halving finds its second. */
	for (t = TZ_FROM; t < TZ_TO; t += 86400) {
		next = zone_at(t + 86400, next_name, &next_dst);
		if (next == off && next_dst == dst)
			continue;
		lo = t;
		hi = t + 86400;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (zone_at(mid, name, &mid_dst) == off && mid_dst == dst)
				lo = mid;
			else
				hi = mid;
		}
		put_observance(w, hi, off, next, next_name, next_dst);
		off = next;
		dst = next_dst;
	}
	mu_node_zone_close(&z);
	return mu_ical_prop_raw(w, "END", "VTIMEZONE");
}

int
mu_cal_series_cancelled(struct mu_ical *w, const struct mu_record *rec,
                        mu_cal_head_fn head, void *ctx)
{
	const struct mu_event *ev = &rec->c.event;
	const struct mu_recur_occ *o;
	struct series *s;
	size_t i;
	int rc = 0;

	if (ev->repeat.ncancelled == 0)
		return 0;
	if ((s = series_open(ev)) == NULL)
		return MU_ENOMEM;
	for (i = 0; i < ev->repeat.ncancelled && rc == 0; i++) {
		if ((o = on_date(s, &ev->repeat.cancelled[i])) == NULL)
			continue;
		if ((rc = head(ctx, w, rec)) != 0)
			break;
		put_when(w, s, "RECURRENCE-ID", o->start);
		mu_ical_end(w);
		put_when(w, s, "DTSTART", o->start);
		mu_ical_end(w);
		put_when(w, s, "DTEND", o->start + length(ev));
		mu_ical_end(w);
		mu_ical_prop_raw(w, "STATUS", "CANCELLED");
		rc = mu_ical_prop_raw(w, "END", "VEVENT");
	}
	series_close(s);
	return rc != 0 ? rc : w->err;
}
