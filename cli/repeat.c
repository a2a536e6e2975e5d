/*
 * repeat.c - recurring events on the command line (repeat.h). The rules and
 * the dates are protocol/recur.c's; this file reads the options, says in the
 * person's terms what is wrong, and prints the occurrences.
 */
#include "repeat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../node/recur_json.h"
#include "../node/zone.h"
#include "cli.h"
#include "when.h"

static const char *const freq_names[] = {NULL, "daily", "weekly", "monthly"};
static const char *const day_words[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};

bool
mu_cli_repeat_any(const struct mu_cli_repeat_opts *o)
{
	return o->repeat != NULL || o->every != NULL || o->on != NULL ||
	       o->until != NULL || o->count != NULL || o->skip != NULL;
}

static int
date_arg(const char *opt, const char *text, size_t len, int64_t *days)
{
	if (!mu_recur_date_parse(text, len, days))
		return mu_cli_fail(MU_EINVAL,
		                   "--%s: '%.*s' is not a date; give YYYY-MM-DD, like "
		                   "2030-06-30",
		                   opt, (int)len, text);
	return 0;
}

static int
number_arg(const char *opt, const char *text, unsigned max, uint32_t *out)
{
	unsigned long v = 0;
	const char *p;

	for (p = text; *p != '\0' && v <= max; p++) {
		if (*p < '0' || *p > '9')
			break;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (text[0] == '\0' || *p != '\0' || v < 1 || v > max)
		return mu_cli_fail(MU_EINVAL,
		                   "--%s '%s' must be a whole number from "
		                   "1 to %u",
		                   opt, text, max);
	*out = (uint32_t)v;
	return 0;
}

/* --on tue,thu (or tu,th, or tuesday): the days in week order. */
static int
apply_on(struct mu_repeat *r, const char *text)
{
	bool on[7] = {false};
	const char *p = text, *e;
	size_t len, i;
	char word[16];
	int d;

	if (text[0] == '\0') {
		r->nbyday = 0;
		return 0;
	}
	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < len && i < sizeof(word) - 1; i++)
			word[i] = (char)tolower((unsigned char)p[i]);
		word[i] = '\0';
		for (d = 0; d < 7; d++)
			if (len >= 2 && len < sizeof(word) &&
			    strncmp(day_words[d], word, len) == 0)
				break;
		if (d == 7)
			return mu_cli_fail(MU_EINVAL,
			                   "--on: '%.*s' is not a day; give days like "
			                   "tue,thu (mon tue wed thu fri sat sun)",
			                   (int)len, p);
		on[d] = true;
		p += len;
		if (*p == ',')
			p++;
	}
	r->nbyday = 0;
	for (d = 0; d < 7; d++)
		if (on[d])
			r->byday[r->nbyday++] = mu_cli_str(mu_recur_day_names[d]);
	return 0;
}

/* Copies n dates into b's slots and points list at them, ascending. */
static void
set_dates(struct mu_str *list, size_t *n, char slots[][MU_RECUR_DATE_SIZE],
          const int64_t *days, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		mu_recur_date_text(slots[i], days[i]);
		list[i].ptr = slots[i];
		list[i].len = MU_RECUR_DATE_SIZE - 1;
	}
	*n = count;
}

static int
cmp_days(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts days and drops repeats; returns how many are left. */
static size_t
sort_days(int64_t *days, size_t n)
{
	size_t i, k = 0;

	qsort(days, n, sizeof(*days), cmp_days);
	for (i = 0; i < n; i++)
		if (k == 0 || days[k - 1] != days[i])
			days[k++] = days[i];
	return k;
}

/* A date of the series: the dates the rule gives, skipped ones included. */
struct find {
	int64_t date;
	bool found;
	int64_t start;         /* its start, when found */
	size_t before;         /* dates of the rule before it */
	bool first;            /* it starts at the record's start */
	bool want_first_after; /* find the first date >= date instead */
};

static int
find_one(void *ctx, const struct mu_recur_occ *o)
{
	struct find *f = ctx;

	if (f->want_first_after ? o->date >= f->date : o->date == f->date) {
		f->found = true;
		f->first = o->first;
		f->date = o->date;
		f->start = o->start;
		return 1;
	}
	f->before++;
	return 0;
}

static void
find_date(const struct mu_event *ev, int64_t date, bool first_after, struct find *f)
{
	struct mu_event all = *ev;

	memset(f, 0, sizeof(*f));
	f->date = date;
	f->want_first_after = first_after;
	all.repeat.nskip = 0;
	mu_node_zone_expand(&all, 0, MU_TIME_MAX + 1, find_one, f);
}

/* The rule's own checks, said in the options' terms. */
static int
check_rule(const struct mu_event *ev)
{
	struct mu_why why = {0};

	if (mu_recur_check(ev, &why) == 0)
		return 0;
	if (mu_why_rule_is(&why, "repeat-span"))
		return mu_cli_fail(MU_EINVAL,
		                   "--until %.*s is before --start or "
		                   "more than %d days after it; a series spans at "
		                   "most a year (publish the rest later with `event "
		                   "edit ADDR --from DATE`)",
		                   (int)ev->repeat.until.len, ev->repeat.until.ptr,
		                   MU_REPEAT_SPAN_DAYS);
	if (mu_why_rule_is(&why, "repeat-bound"))
		return mu_cli_fail(MU_EINVAL,
		                   "--repeat needs --until DATE or "
		                   "--count N (one of them), so that the series ends");
	if (mu_why_rule_is(&why, "repeat-byday"))
		return mu_cli_fail(MU_EINVAL, "--on is for --repeat "
		                              "weekly only");
	return mu_cli_fail(MU_EINVAL, "%s", why.text);
}

static int
apply_skip(struct mu_event *ev, const char *text, struct mu_cli_repeat_buf *b)
{
	int64_t days[MU_REPEAT_DATES_MAX];
	const char *p = text, *e;
	struct find f;
	size_t n = 0, len, i;
	int rc;

	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == MU_REPEAT_DATES_MAX)
			return mu_cli_fail(MU_EINVAL,
			                   "--skip names more than %d "
			                   "dates",
			                   MU_REPEAT_DATES_MAX);
		if ((rc = date_arg("skip", p, len, &days[n++])) != 0)
			return rc;
		p += len;
		if (*p == ',')
			p++;
	}
	n = sort_days(days, n);
	for (i = 0; i < n; i++) {
		find_date(ev, days[i], false, &f);
		if (!f.found) {
			mu_recur_date_text(b->skip[0], days[i]);
			return mu_cli_fail(MU_EINVAL,
			                   "--skip %s is not a date of the series; "
			                   "`muster event list` shows its dates",
			                   b->skip[0]);
		}
	}
	set_dates(ev->repeat.skip, &ev->repeat.nskip, b->skip, days, n);
	return 0;
}

int
mu_cli_repeat_apply(struct mu_event *ev, const struct mu_cli_repeat_opts *o,
                    struct mu_cli_repeat_buf *b)
{
	struct mu_repeat *r = &ev->repeat;
	struct find f;
	int64_t until;
	int freq, rc;

	if (o->repeat != NULL && o->repeat[0] == '\0') {
		memset(r, 0, sizeof(*r));
		return 0;
	}
	if (o->repeat != NULL) {
		if ((freq = mu_cli_pick("repeat", o->repeat, freq_names, 4)) < 0)
			return freq;
		if (!r->set || r->freq != (enum mu_repeat_freq)freq)
			r->nbyday = 0;
		r->freq = (enum mu_repeat_freq)freq;
		r->set = true;
	} else if (!r->set && mu_cli_repeat_any(o)) {
		return mu_cli_fail(MU_EINVAL,
		                   "--every, --on, --until, --count and --skip need "
		                   "--repeat daily|weekly|monthly");
	}
	if (!r->set)
		return 0;
	if (o->until != NULL && o->count != NULL)
		return mu_cli_fail(MU_EINVAL, "give --until or --count, "
		                              "not both");
	if (o->every != NULL &&
	    (rc = number_arg("every", o->every, 99, &r->interval)) != 0)
		return rc;
	if (o->every != NULL)
		r->has_interval = r->interval != 1;
	if (o->on != NULL) {
		if (r->freq != MU_REPEAT_WEEKLY)
			return mu_cli_fail(MU_EINVAL, "--on is for "
			                              "--repeat weekly only");
		if ((rc = apply_on(r, o->on)) != 0)
			return rc;
	}
	if (o->until != NULL) {
		if ((rc = date_arg("until", o->until, strlen(o->until), &until)) != 0)
			return rc;
		mu_recur_date_text(b->until, until);
		r->until = mu_cli_str(b->until);
		r->has_count = false;
	}
	if (o->count != NULL) {
		if ((rc = number_arg("count", o->count, MU_REPEAT_COUNT_MAX,
		                     &r->count)) != 0)
			return rc;
		r->has_count = true;
		r->until = mu_cli_str(NULL);
	}
	if ((rc = check_rule(ev)) != 0)
		return rc;
	/* A start on none of the --on days would stand for a date that is
	 * not in the series. */
	find_date(ev, 0, true, &f);
	if (r->nbyday > 0 && !(f.found && f.first))
		return mu_cli_fail(MU_EINVAL,
		                   "--start is on none of the days of "
		                   "--on; start the series on its first date");
	if (o->skip != NULL && (rc = apply_skip(ev, o->skip, b)) != 0)
		return rc;
	return check_rule(ev);
}

/* Reads a list of dates of the record into days. */
static size_t
read_dates(const struct mu_str *list, size_t n, int64_t *days)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (mu_recur_date_parse(list[i].ptr, list[i].len, &days[k]))
			k++;
	return k;
}

int
mu_cli_repeat_cancel(struct mu_event *ev, const char *text, struct mu_cli_repeat_buf *b)
{
	struct mu_repeat *r = &ev->repeat;
	int64_t days[MU_REPEAT_DATES_MAX + 1], date;
	struct find f;
	size_t n, i;
	int rc;

	if (!r->set)
		return mu_cli_fail(MU_EINVAL,
		                   "--on: this event does not repeat; cancel it "
		                   "without --on");
	if ((rc = date_arg("on", text, strlen(text), &date)) != 0)
		return rc;
	find_date(ev, date, false, &f);
	if (!f.found)
		return mu_cli_fail(MU_EINVAL,
		                   "--on %s is not a date of the series; `muster event "
		                   "list` shows its dates",
		                   text);
	n = read_dates(r->skip, r->nskip, days);
	for (i = 0; i < n; i++)
		if (days[i] == date)
			return mu_cli_fail(MU_EINVAL,
			                   "--on %s is a skipped date: the series has "
			                   "no occurrence then",
			                   text);
	n = read_dates(r->cancelled, r->ncancelled, days);
	for (i = 0; i < n; i++)
		if (days[i] == date)
			return 1;
	if (n == MU_REPEAT_DATES_MAX)
		return mu_cli_fail(MU_EINVAL,
		                   "the series has %d cancelled dates "
		                   "already, the most it can hold; end it with `event "
		                   "edit ADDR --from DATE`",
		                   MU_REPEAT_DATES_MAX);
	days[n++] = date;
	n = sort_days(days, n);
	set_dates(r->cancelled, &r->ncancelled, b->cancelled, days, n);
	return 0;
}

/* Keeps the dates of list before (or from) date. */
static void
keep_dates(struct mu_str *list, size_t *n, char slots[][MU_RECUR_DATE_SIZE],
           int64_t date, bool before)
{
	int64_t days[MU_REPEAT_DATES_MAX];
	size_t k = 0, i, m;

	m = read_dates(list, *n, days);
	for (i = 0; i < m; i++)
		if ((days[i] < date) == before)
			days[k++] = days[i];
	set_dates(list, n, slots, days, k);
}

int
mu_cli_repeat_split(struct mu_event *old, struct mu_event *next, const char *text,
                    struct mu_cli_repeat_buf *old_b, struct mu_cli_repeat_buf *next_b)
{
	int64_t date;
	struct find f;
	int rc;

	if (!old->repeat.set)
		return mu_cli_fail(MU_EINVAL, "--from: this event does not repeat; "
		                              "edit it without --from");
	if ((rc = date_arg("from", text, strlen(text), &date)) != 0)
		return rc;
	find_date(old, date, true, &f);
	if (!f.found)
		return mu_cli_fail(MU_EINVAL,
		                   "--from %s is after the last date of the series; "
		                   "nothing is left to change",
		                   text);
	if (f.before == 0)
		return mu_cli_fail(MU_EINVAL,
		                   "--from %s is on or before the first date of the "
		                   "series; edit the whole series without --from",
		                   text);
	*next = *old;
	next->end = f.start + (old->has_end ? old->end - old->start : 0);
	next->start = f.start;
	if (old->repeat.has_count)
		next->repeat.count = old->repeat.count - (uint32_t)f.before;
	keep_dates(next->repeat.skip, &next->repeat.nskip, next_b->skip, f.date, false);
	keep_dates(next->repeat.cancelled, &next->repeat.ncancelled, next_b->cancelled,
	           f.date, false);
	keep_dates(old->repeat.skip, &old->repeat.nskip, old_b->skip, f.date, true);
	keep_dates(old->repeat.cancelled, &old->repeat.ncancelled, old_b->cancelled,
	           f.date, true);
	mu_recur_date_text(old_b->until, date - 1);
	old->repeat.until = mu_cli_str(old_b->until);
	old->repeat.has_count = false;
	return 0;
}

size_t
mu_cli_repeat_count_in(const struct mu_event *ev, int64_t from, int64_t to)
{
	struct mu_recur_occ *v;
	size_t n;

	if (mu_node_occurrences(ev, from, to, &v, &n) != 0)
		return 1; /* listed rather than lost */
	free(v);
	return n;
}

void
mu_cli_repeat_print(FILE *f, const struct mu_event *ev, int64_t from, int64_t to,
                    const char *view)
{
	const struct mu_repeat *r = &ev->repeat;
	char text[64];
	struct mu_recur_occ *v;
	size_t i, n;

	if (!r->set || mu_node_occurrences(ev, from, to, &v, &n) != 0)
		return;
	fprintf(f, "    repeats %s", freq_names[r->freq]);
	if (r->has_interval)
		fprintf(f, " every %u", (unsigned)r->interval);
	for (i = 0; i < r->nbyday; i++)
		fprintf(f, "%s%.*s", i == 0 ? " on " : ",", (int)r->byday[i].len,
		        r->byday[i].ptr);
	if (r->has_count)
		fprintf(f, ", %u times", (unsigned)r->count);
	else
		fprintf(f, " until %.*s", (int)r->until.len, r->until.ptr);
	for (i = 0; i < r->nskip; i++)
		fprintf(f, "%s%.*s", i == 0 ? "; skips " : ", ", (int)r->skip[i].len,
		        r->skip[i].ptr);
	fprintf(f, "\n");
	for (i = 0; i < n; i++) {
		if (ev->all_day)
			mu_cli_when_format(text, sizeof(text), v[i].start, NULL,
			                   "%a %Y-%m-%d");
		else
			mu_cli_when_format(text, sizeof(text), v[i].start, view,
			                   "%a %Y-%m-%d %H:%M %Z");
		fprintf(f, "    - %s%s\n", text, v[i].cancelled ? "  CANCELLED" : "");
	}
	free(v);
}

int
mu_cli_repeat_json(json_t *obj, const struct mu_event *ev, int64_t from, int64_t to)
{
	json_t *occ = mu_node_json_occurrences(ev, from, to);

	if (occ == NULL || obj == NULL ||
	    json_object_set_new(obj, "occurrences", occ) != 0)
		return MU_ENOMEM;
	return 0;
}
