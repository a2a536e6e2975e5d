/*
 * recur.c - event.repeat's rules and expansion (recur.h). docs/PROTOCOL.md
 * ("Recurrence") is the contract; the steps below follow it line by line,
 * since another node must find the same dates.
 */
#include "recur.h"

#include <string.h>

#include "civil.h"

#define DAY 86400

const char *const mu_recur_day_names[7] = {"mo", "tu", "we", "th", "fr", "sa", "su"};

bool
mu_recur_date_parse(const char *s, size_t len, int64_t *days)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
	                                 31, 31, 30, 31, 30, 31};
	unsigned y = 0, m, d, max;
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d > max)
		return false;
	*days = mu_civil_days(y, m, d);
	return true;
}

void
mu_recur_date_text(char out[MU_RECUR_DATE_SIZE], int64_t days)
{
	int64_t y;
	unsigned m, d;

	mu_civil_date(days, &y, &m, &d);
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

int
mu_recur_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3). */
	int64_t w = (days + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int
day_index(const struct mu_str *s)
{
	int i;

	for (i = 0; i < 7; i++)
		if (s->len == 2 && memcmp(s->ptr, mu_recur_day_names[i], 2) == 0)
			return i;
	return -1;
}

/* A list of dates: each a date, in strictly ascending order. */
static int
check_dates(const struct mu_str *list, size_t n, const char *name, struct mu_why *why)
{
	int64_t prev = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!mu_recur_date_parse(list[i].ptr, list[i].len, &d))
			return mu_fail(why, MU_ERECORD,
			               "repeat-date: event.repeat.%s[%zu] is not a "
			               "date YYYY-MM-DD",
			               name, i);
		if (i > 0 && d <= prev)
			return mu_fail(why, MU_ERECORD,
			               "repeat-date: event.repeat.%s[%zu] is not after "
			               "the date before it (dates ascend, each once)",
			               name, i);
		prev = d;
	}
	return 0;
}

int
mu_recur_check(const struct mu_event *ev, struct mu_why *why)
{
	const struct mu_repeat *r = &ev->repeat;
	int64_t start_day = ev->start / DAY, until;
	size_t i;
	int d, prev = -1;

	if (r->has_count == (r->until.len > 0))
		return mu_fail(why, MU_ERECORD,
		               "repeat-bound: event.repeat needs exactly one of until "
		               "and count, so that the series ends");
	if (r->nbyday > 0 && r->freq != MU_REPEAT_WEEKLY)
		return mu_fail(why, MU_ERECORD,
		               "repeat-byday: event.repeat.byday is for freq weekly "
		               "only");
	for (i = 0; i < r->nbyday; i++) {
		d = day_index(&r->byday[i]);
		if (d < 0)
			return mu_fail(why, MU_ERECORD,
			               "repeat-byday: event.repeat.byday[%zu] is not "
			               "one of mo tu we th fr sa su",
			               i);
		if (d <= prev)
			return mu_fail(why, MU_ERECORD,
			               "repeat-byday: event.repeat.byday[%zu] is not "
			               "after the day before it (mo ... su, each once)",
			               i);
		prev = d;
	}
	if (check_dates(r->skip, r->nskip, "skip", why) != 0 ||
	    check_dates(r->cancelled, r->ncancelled, "cancelled", why) != 0)
		return MU_ERECORD;
	if (r->until.len == 0)
		return 0;
	if (!mu_recur_date_parse(r->until.ptr, r->until.len, &until))
		return mu_fail(why, MU_ERECORD,
		               "repeat-date: event.repeat.until is not a date "
		               "YYYY-MM-DD");
	/* The zone may put the start's date one day either side of UTC's. */
	if (until < start_day - 1)
		return mu_fail(why, MU_ERECORD,
		               "repeat-span: event.repeat.until is before the date "
		               "of event.start");
	if (until > start_day + MU_REPEAT_SPAN_DAYS)
		return mu_fail(why, MU_ERECORD,
		               "repeat-span: event.repeat.until is more than %d days "
		               "after event.start",
		               MU_REPEAT_SPAN_DAYS);
	return 0;
}

static int64_t
duration(const struct mu_event *ev)
{
	if (ev->has_end)
		return ev->end - ev->start;
	return ev->all_day ? DAY : 0;
}

int64_t
mu_recur_end_bound(const struct mu_event *ev)
{
	int64_t end = ev->start + duration(ev);

	/* The last date is at most MU_REPEAT_SPAN_DAYS after the first local
	 * date, which is at most a day after the UTC one; a day more for the
	 * offset of its wall-clock time. */
	if (ev->repeat.set)
		end += (MU_REPEAT_SPAN_DAYS + 2) * (int64_t)DAY;
	return end;
}

static bool
in_list(const struct mu_str *list, size_t n, int64_t date)
{
	int64_t d;
	size_t i;

	for (i = 0; i < n; i++)
		if (mu_recur_date_parse(list[i].ptr, list[i].len, &d) && d == date)
			return true;
	return false;
}

struct expand {
	const struct mu_event *ev;
	const struct mu_recur_zone *z; /* NULL: UTC */
	int64_t from, to, dur;
	int32_t secs; /* the wall-clock time of every occurrence */
	int64_t first;
	bool stop;
};

static int
to_utc(const struct expand *x, int64_t date, int64_t *t)
{
	if (x->z == NULL) {
		*t = date * DAY + x->secs;
		return 0;
	}
	return x->z->to_utc(x->z->ctx, date, x->secs, t);
}

/* One date the rule gives: skipped, or handed to fn when in the window. */
static int
emit(struct expand *x, int64_t date, mu_recur_fn fn, void *ctx)
{
	const struct mu_repeat *r = &x->ev->repeat;
	struct mu_recur_occ o;
	int rc;

	if (in_list(r->skip, r->nskip, date))
		return 0;
	o.date = date;
	o.first = date == x->first;
	/* The first keeps the record's own start, even where the zone's rules
	 * would read its wall-clock time otherwise (a DST overlap). */
	if (o.first)
		o.start = x->ev->start;
	else if ((rc = to_utc(x, date, &o.start)) != 0)
		return rc;
	o.end = o.start + x->dur;
	o.cancelled = in_list(r->cancelled, r->ncancelled, date);
	if (o.start >= x->to) {
		x->stop = true;
		return 0;
	}
	if (o.end > o.start ? o.end <= x->from : o.start < x->from)
		return 0;
	rc = fn(ctx, &o);
	if (rc == 1)
		x->stop = true;
	return rc < 0 ? rc : 0;
}

/* The n-th month after the month of date, on day d: false when that
 * month has no day d. */
static bool
month_date(int64_t date, uint64_t n, unsigned d, int64_t *out)
{
	int64_t y, days;
	unsigned m, dd, m0;

	mu_civil_date(date, &y, &m, &dd);
	m0 = m - 1 + (unsigned)(n % 12);
	y += (int64_t)(n / 12) + m0 / 12;
	m = m0 % 12 + 1;
	days = mu_civil_days(y, m, d);
	mu_civil_date(days, &y, &m0, &dd);
	if (m0 != m)
		return false;
	*out = days;
	return true;
}

int
mu_recur_expand(const struct mu_event *ev, const struct mu_recur_zone *z, int64_t from,
                int64_t to, mu_recur_fn fn, void *ctx)
{
	const struct mu_repeat *r = &ev->repeat;
	struct expand x = {ev,   ev->all_day ? NULL : z, from, to, duration(ev), 0, 0,
	                   false};
	int64_t last, date, week0, until = 0;
	uint64_t interval, k, given = 0, count;
	unsigned mday;
	int32_t secs;
	int rc, wd, i, days[7], ndays = 0;
	int64_t y;
	unsigned mo;

	if (from >= to)
		return 0;
	if (x.z != NULL) {
		if ((rc = x.z->to_local(x.z->ctx, ev->start, &x.first, &secs)) != 0)
			return rc;
		x.secs = secs;
	} else {
		x.first = ev->start / DAY;
		x.secs = (int32_t)(ev->start % DAY);
		if (x.secs < 0) {
			x.secs += DAY;
			x.first--;
		}
	}
	if (!r->set) {
		rc = emit(&x, x.first, fn, ctx);
		return rc;
	}
	interval = r->has_interval ? r->interval : 1;
	count = r->has_count ? r->count : MU_REPEAT_COUNT_MAX;
	if (count > MU_REPEAT_COUNT_MAX)
		count = MU_REPEAT_COUNT_MAX;
	last = x.first + MU_REPEAT_SPAN_DAYS;
	if (r->until.len > 0 &&
	    mu_recur_date_parse(r->until.ptr, r->until.len, &until) && until < last)
		last = until;
	mu_civil_date(x.first, &y, &mo, &mday);
	wd = mu_recur_weekday(x.first);
	for (i = 0; i < (int)r->nbyday; i++)
		if ((days[ndays] = day_index(&r->byday[i])) >= 0)
			ndays++;
	if (ndays == 0)
		days[ndays++] = wd;
	week0 = x.first - wd;
	for (k = 0; !x.stop && given < count; k++) {
		if (r->freq == MU_REPEAT_DAILY) {
			date = x.first + (int64_t)(k * interval);
		} else if (r->freq == MU_REPEAT_WEEKLY) {
			date = week0 + (int64_t)(k * interval * 7);
		} else {
			if (!month_date(x.first, k * interval, mday, &date)) {
				/* Past the last month the series may reach. */
				if (mu_civil_days(y, mo, 1) +
				        28 * (int64_t)(k * interval) >
				    last)
					break;
				continue;
			}
		}
		if (date > last)
			break;
		if (r->freq != MU_REPEAT_WEEKLY) {
			given++;
			if ((rc = emit(&x, date, fn, ctx)) != 0)
				return rc;
			continue;
		}
		for (i = 0; i < ndays && !x.stop && given < count; i++) {
			if (date + days[i] < x.first)
				continue;
			if (date + days[i] > last) {
				x.stop = true;
				break;
			}
			given++;
			if ((rc = emit(&x, date + days[i], fn, ctx)) != 0)
				return rc;
		}
	}
	return 0;
}
