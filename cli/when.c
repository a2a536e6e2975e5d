/*
 * when.c - reading and writing times (when.h).
 *
 * Times with "Z" or an offset are converted with our own calendar
 * arithmetic, so they never depend on the machine's zone. Local times go
 * through mktime() in the requested zone, which is the only portable way to
 * apply the zone's rules; we then check with localtime_r() that the result
 * really is the wall-clock time asked for, which is how a time skipped by a
 * daylight-saving change is recognised.
 */
#include "when.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../node/json_record.h"
#include "../node/zone.h"
#include "../protocol/civil.h"
#include "../protocol/record.h"

#define FORMS                                                                          \
	"use ISO 8601 like 2026-12-05T18:00 (local time), 2026-12-05T18:00Z, "         \
	"2026-12-05T18:00+01:00 or a date 2026-12-05"

/* ---- calendar arithmetic (proleptic Gregorian, UTC) ------------------- */

static unsigned
month_days(int y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30,
	                                  31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

void
mu_cli_when_iso(char out[MU_CLI_ISO_SIZE], int64_t t)
{
	mu_node_time_iso(out, t);
}

void
mu_cli_when_ago(char out[MU_CLI_AGO_SIZE], int64_t t, int64_t now)
{
	char iso[MU_CLI_ISO_SIZE];
	int64_t d = now - t;

	if (t == 0) {
		snprintf(out, MU_CLI_AGO_SIZE, "never");
		return;
	}
	mu_cli_when_iso(iso, t);
	/* A clock set back, or the daemon's clock ahead of ours: no "ago". */
	if (d < 0)
		snprintf(out, MU_CLI_AGO_SIZE, "%s", iso);
	else if (d < 120)
		snprintf(out, MU_CLI_AGO_SIZE, "%s (%lld s ago)", iso, (long long)d);
	else if (d < 2 * 3600)
		snprintf(out, MU_CLI_AGO_SIZE, "%s (%lld min ago)", iso,
		         (long long)(d / 60));
	else if (d < 2 * 86400)
		snprintf(out, MU_CLI_AGO_SIZE, "%s (%lld h ago)", iso,
		         (long long)(d / 3600));
	else
		snprintf(out, MU_CLI_AGO_SIZE, "%s (%lld days ago)", iso,
		         (long long)(d / 86400));
}

/* ---- zones ------------------------------------------------------------ */

/* The form rule tz allows (docs/PROTOCOL.md), which also keeps the name from
 * climbing out of the zone directory. */
static bool
zone_form_ok(const char *zone)
{
	size_t len = strlen(zone), i;

	if (len == 0 || len > MU_CLI_ZONE_SIZE - 1 || zone[0] == '/' ||
	    strstr(zone, "..") != NULL)
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)zone[i]) && strchr("/_+-", zone[i]) == NULL)
			return false;
	}
	return true;
}

/* Whether the zone's file exists and is a compiled zone (magic "TZif"). */
static bool
zone_file_ok(const char *zone)
{
	char path[PATH_MAX], magic[4];
	struct stat sb;
	bool ok = false;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", mu_node_zone_dir(), zone) >=
	    (int)sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0)
		ok = true;
	close(fd);
	return ok;
}

int
mu_cli_zone_check(const char *zone, struct mu_why *why)
{
	if (!zone_form_ok(zone))
		return mu_fail(why, MU_EINVAL,
		               "'%.64s' is not a time zone name: use an IANA name such "
		               "as Europe/Berlin or America/New_York",
		               zone);
	if (!zone_file_ok(zone))
		return mu_fail(why, MU_ENOTFOUND,
		               "unknown time zone '%s' (not found in %s): use an IANA "
		               "name such as Europe/Berlin; `timedatectl "
		               "list-timezones` lists them",
		               zone, mu_node_zone_dir());
	return 0;
}

/* Takes the zone name out of a path like /usr/share/zoneinfo/Europe/Berlin. */
static const char *
zone_from_path(const char *path)
{
	const char *p = strstr(path, "zoneinfo/");

	if (p == NULL)
		return NULL;
	p += strlen("zoneinfo/");
	/* Debian also ships the zones under posix/ and right/. */
	if (strncmp(p, "posix/", 6) == 0)
		p += 6;
	else if (strncmp(p, "right/", 6) == 0)
		p += 6;
	return p;
}

static int
zone_take(char out[MU_CLI_ZONE_SIZE], const char *name)
{
	/* zone_form_ok() also bounds the length to fit out. */
	if (name == NULL || !zone_form_ok(name) || !zone_file_ok(name))
		return MU_ENOTFOUND;
	memcpy(out, name, strlen(name) + 1);
	return 0;
}

int
mu_cli_system_zone(char out[MU_CLI_ZONE_SIZE])
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX], line[128];
	ssize_t n;
	FILE *f;

	if (tz != NULL) {
		/* TZ rules when set, even when it holds a POSIX rule string
		 * rather than a zone name: then there is no name to give. */
		if (tz[0] == ':')
			tz++;
		if (tz[0] == '/')
			tz = zone_from_path(tz);
		return zone_take(out, tz);
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (zone_take(out, zone_from_path(link)) == 0)
			return 0;
	}
	f = fopen("/etc/timezone", "r");
	if (f == NULL)
		return MU_ENOTFOUND;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return MU_ENOTFOUND;
	}
	fclose(f);
	line[strcspn(line, " \t\r\n")] = '\0';
	return zone_take(out, line);
}

/* ---- parsing ----------------------------------------------------------- */

/* Reads exactly n digits at *p. */
static bool
digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

struct fields {
	int y, mo, d, h, mi, s;
	bool has_time, has_offset;
	int offset; /* seconds east of UTC */
};

static int
lex(struct fields *f, const char *text, struct mu_why *why)
{
	const char *p = text;
	int oh, om = 0, sign;

	memset(f, 0, sizeof(*f));
	if (!digits(&p, 4, &f->y) || *p++ != '-' || !digits(&p, 2, &f->mo) ||
	    *p++ != '-' || !digits(&p, 2, &f->d))
		goto bad;
	if (*p == '\0')
		goto check;
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	f->has_time = true;
	if (!digits(&p, 2, &f->h) || *p++ != ':' || !digits(&p, 2, &f->mi))
		goto bad;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &f->s))
			goto bad;
		/* Fractions of a second are accepted and dropped: records
		 * hold whole seconds. */
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		f->has_offset = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (*p != '\0' && !digits(&p, 2, &om))
			goto bad;
		if (oh > 23 || om > 59)
			return mu_fail(
			    why, MU_EINVAL,
			    "'%.64s' has an offset out of range: offsets run "
			    "from -23:59 to +23:59",
			    text);
		f->has_offset = true;
		f->offset = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		goto bad;
check:
	if (f->mo < 1 || f->mo > 12)
		return mu_fail(why, MU_EINVAL,
		               "'%.64s' has month %02d: months are 01 to 12", text,
		               f->mo);
	if (f->d < 1 || (unsigned)f->d > month_days(f->y, (unsigned)f->mo))
		return mu_fail(why, MU_EINVAL,
		               "'%.64s': day %02d does not exist in %04d-%02d", text,
		               f->d, f->y, f->mo);
	if (f->h > 23 || f->mi > 59 || f->s > 59)
		return mu_fail(
		    why, MU_EINVAL,
		    "'%.64s' has a time out of range: use 00:00:00 to 23:59:59", text);
	return 0;
bad:
	return mu_fail(why, MU_EINVAL, "'%.64s' is not a time: " FORMS, text);
}

static bool
same_wall_clock(const struct tm *a, const struct fields *f)
{
	return a->tm_year == f->y - 1900 && a->tm_mon == f->mo - 1 &&
	       a->tm_mday == f->d && a->tm_hour == f->h && a->tm_min == f->mi &&
	       a->tm_sec == f->s;
}

/*
 * The instants at which the wall clock in the current TZ shows f. mktime()
 * is asked with each daylight-saving guess; the answers whose wall clock
 * matches are kept, earliest first, with their UTC offsets: two when the
 * clocks go back over f. Returns how many (0 to 2); with none, the time
 * was skipped and t[0] is mktime()'s own guess.
 */
static int
local_to_instant(const struct fields *f, int64_t t[2], long gmtoff[2])
{
	static const int guesses[3] = {-1, 0, 1};
	struct tm tm, back;
	time_t v;
	int i, j, n = 0;

	for (i = 0; i < 3; i++) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = f->y - 1900;
		tm.tm_mon = f->mo - 1;
		tm.tm_mday = f->d;
		tm.tm_hour = f->h;
		tm.tm_min = f->mi;
		tm.tm_sec = f->s;
		tm.tm_isdst = guesses[i];
		v = mktime(&tm);
		if (i == 0)
			t[0] = (int64_t)v;
		if (localtime_r(&v, &back) == NULL || !same_wall_clock(&back, f))
			continue;
		for (j = 0; j < n && t[j] != (int64_t)v; j++)
			;
		if (j < n || n == 2)
			continue;
		/* Keep them earliest first. */
		if (n == 1 && (int64_t)v < t[0]) {
			t[1] = t[0];
			gmtoff[1] = gmtoff[0];
			j = 0;
		}
		t[j] = (int64_t)v;
		gmtoff[j] = back.tm_gmtoff;
		n++;
	}
	return n;
}

/* "+02:00" for an offset in seconds east of UTC. */
static void
offset_text(char out[8], long off)
{
	long a = off < 0 ? -off : off;

	snprintf(out, 8, "%c%02ld:%02ld", off < 0 ? '-' : '+', (a / 3600) % 100,
	         (a / 60) % 60);
}

int
mu_cli_when_parse(struct mu_cli_when *out, const char *text, const char *zone,
                  struct mu_why *why)
{
	struct mu_node_tz saved = {NULL, false};
	struct fields f;
	char first[8], second[8];
	int64_t day, ts[2];
	long offs[2];
	bool exists;
	int n, rc;

	memset(out, 0, sizeof(*out));
	rc = lex(&f, text, why);
	if (rc != 0)
		return rc;
	if (f.y < 1970)
		return mu_fail(why, MU_EINVAL,
		               "'%.64s' is before 1970: records cannot hold it", text);
	if (zone != NULL && (rc = mu_cli_zone_check(zone, why)) != 0)
		return rc;
	day = mu_civil_days(f.y, (unsigned)f.mo, (unsigned)f.d);
	out->date_only = !f.has_time;
	out->day_utc = day * 86400;
	out->local = !f.has_offset;
	if (f.has_offset) {
		out->t = day * 86400 + f.h * 3600 + f.mi * 60 + f.s - f.offset;
	} else {
		if (zone != NULL) {
			if (mu_node_tz_push(&saved, zone) != 0)
				return mu_fail(why, MU_ENOMEM, "out of memory");
		} else {
			tzset();
		}
		memset(ts, 0, sizeof(ts));
		n = local_to_instant(&f, ts, offs);
		out->t = ts[0];
		exists = n > 0;
		mu_node_tz_pop(&saved);
		/* Clocks that go back show this time twice: which is meant is
		 * the person's to say, not a guess of ours. */
		if (n == 2 && f.has_time) {
			offset_text(first, offs[0]);
			offset_text(second, offs[1]);
			return mu_fail(
			    why, MU_EINVAL,
			    "'%.64s' happens twice in %s, as the clocks go "
			    "back for daylight saving: add %s (the first) or "
			    "%s (the second), as in %.16s%s",
			    text, zone != NULL ? zone : "the system's time zone", first,
			    second, text, first);
		}
		/* A date's midnight may be skipped (some zones change the clock
		 * at 00:00); the day then starts when the clock resumes. */
		if (!exists && f.has_time)
			return mu_fail(
			    why, MU_EINVAL,
			    "'%.64s' does not exist in %s: the clocks skip that "
			    "hour for daylight saving; pick another time or "
			    "give an offset like +01:00",
			    text, zone != NULL ? zone : "the system's time zone");
	}
	if (out->t < 0 || out->t > MU_TIME_MAX)
		return mu_fail(why, MU_EINVAL,
		               "'%.64s' is out of range: times run from 1970 to 9999",
		               text);
	return 0;
}

/* ---- formatting -------------------------------------------------------- */

/*
 * Switching TZ costs a read of the zone's file, and a list formats several
 * times per event, so formatting does not switch per call. It remembers
 * spans: stretches of time over which a zone keeps one offset, abbreviation
 * and daylight-saving flag, found once with TZ switched, and then builds the
 * local time from the UTC one plus the offset, without touching TZ.
 *
 * A span is found by stepping a day at a time away from t (up to SPAN_DAYS
 * each way) until the zone's rule differs, then bisecting to the second. It
 * assumes a zone never changes its offset and changes it back within one
 * day, which no zone in the tz database does.
 */
#define SPAN_DAYS 400
#define SPANS_MAX 64

struct zone_span {
	char zone[MU_CLI_ZONE_SIZE];
	int64_t from, to; /* [from, to) */
	long gmtoff;
	int isdst;
	char abbr[16];
};

static struct zone_span spans[SPANS_MAX];
static size_t nspans, span_next; /* span_next: the slot reused when full */

static bool
same_rule(const struct tm *a, const struct tm *b)
{
	return a->tm_gmtoff == b->tm_gmtoff && a->tm_isdst == b->tm_isdst &&
	       strcmp(a->tm_zone != NULL ? a->tm_zone : "",
	              b->tm_zone != NULL ? b->tm_zone : "") == 0;
}

static bool
rule_at(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return localtime_r(&tt, tm) != NULL;
}

/* The end of the span from t in direction dir (+1: first second after it,
 * -1: its first second), in the zone TZ is switched to. */
static int64_t
span_edge(int64_t t, const struct tm *at, int dir)
{
	struct tm tm;
	int64_t in = t, out, mid;
	int d;

	for (d = 1; d <= SPAN_DAYS; d++) {
		out = t + dir * (int64_t)d * 86400;
		if (!rule_at(out, &tm) || !same_rule(&tm, at))
			break;
		in = out;
	}
	if (d > SPAN_DAYS)
		return dir > 0 ? in + 1 : in;
	/* in has t's rule, out does not: bisect to the second. */
	while ((dir > 0 ? out - in : in - out) > 1) {
		mid = in + (out - in) / 2;
		if (rule_at(mid, &tm) && same_rule(&tm, at))
			in = mid;
		else
			out = mid;
	}
	return dir > 0 ? out : in;
}

/* The span of zone that holds t, found or made. NULL when out of memory or
 * when the C library cannot convert t. */
static const struct zone_span *
span_of(const char *zone, int64_t t)
{
	struct zone_span *sp;
	struct mu_node_tz saved;
	struct tm tm;
	size_t i;

	for (i = 0; i < nspans; i++)
		if (spans[i].from <= t && t < spans[i].to &&
		    strcmp(spans[i].zone, zone) == 0)
			return &spans[i];
	if (mu_node_tz_push(&saved, zone) != 0)
		return NULL;
	if (!rule_at(t, &tm)) {
		mu_node_tz_pop(&saved);
		return NULL;
	}
	sp = &spans[nspans < SPANS_MAX ? nspans++ : span_next++ % SPANS_MAX];
	snprintf(sp->zone, sizeof(sp->zone), "%s", zone);
	snprintf(sp->abbr, sizeof(sp->abbr), "%s",
	         tm.tm_zone != NULL ? tm.tm_zone : "");
	sp->gmtoff = tm.tm_gmtoff;
	sp->isdst = tm.tm_isdst;
	sp->from = span_edge(t, &tm, -1);
	sp->to = span_edge(t, &tm, 1);
	mu_node_tz_pop(&saved);
	return sp;
}

/* The zones that passed the checks, so that each is checked once. */
static bool
zone_known(const char *zone)
{
	size_t i;

	for (i = 0; i < nspans; i++)
		if (strcmp(spans[i].zone, zone) == 0)
			return true;
	return zone_form_ok(zone) && zone_file_ok(zone);
}

int
mu_cli_when_format(char *out, size_t size, int64_t t, const char *zone, const char *fmt)
{
	const struct zone_span *sp = NULL;
	struct tm tm;
	time_t local;
	int rc = 0;

	if (size == 0)
		return MU_EINVAL;
	out[0] = '\0';
	if (zone != NULL && !zone_known(zone)) {
		zone = NULL;
		rc = MU_ENOTFOUND;
	}
	if (zone != NULL && (sp = span_of(zone, t)) == NULL)
		return MU_ENOMEM;
	local = (time_t)(t + (sp != NULL ? sp->gmtoff : 0));
	if (gmtime_r(&local, &tm) == NULL)
		return rc;
	tm.tm_isdst = sp != NULL ? sp->isdst : 0;
	tm.tm_gmtoff = sp != NULL ? sp->gmtoff : 0;
	tm.tm_zone = sp != NULL ? sp->abbr : "UTC";
	/* fmt is checked at every call site through the format attribute in
	 * when.h; GCC still flags passing it on. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(out, size, fmt, &tm) == 0)
		out[0] = '\0';
#pragma GCC diagnostic pop
	return rc;
}

/* ---- durations ---------------------------------------------------------- */

#define DURATION_FORMS "give hours and minutes like 90m, 2h or 1h30m"

int
mu_cli_duration_parse(const char *text, int64_t *secs, struct mu_why *why)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}};
	const char *p = text;
	int64_t total = 0, v;
	size_t next = 0, i;
	int ndigits;

	*secs = 0;
	if (*p == '\0')
		return mu_fail(why, MU_EINVAL,
		               "the duration is empty: " DURATION_FORMS);
	while (*p != '\0') {
		for (v = 0, ndigits = 0; isdigit((unsigned char)*p); p++, ndigits++) {
			if (ndigits == 6)
				goto range;
			v = v * 10 + (*p - '0');
		}
		/* Units in falling order, each once: "1h30m", never "30m1h". */
		for (i = next; i < 3 && units[i].unit != tolower((unsigned char)*p);
		     i++)
			;
		if (ndigits == 0 || i == 3)
			return mu_fail(why, MU_EINVAL,
			               "'%.32s' is not a duration: " DURATION_FORMS
			               " (d for days)",
			               text);
		total += v * units[i].secs;
		if (total > MU_EVENT_SPAN_MAX)
			goto range;
		next = i + 1;
		p++;
	}
	if (total == 0)
		return mu_fail(why, MU_EINVAL,
		               "the duration '%.32s' is zero: an event lasts at least "
		               "a minute; " DURATION_FORMS,
		               text);
	*secs = total;
	return 0;
range:
	return mu_fail(why, MU_EINVAL,
	               "the duration '%.32s' is too long: an event lasts at most 366 "
	               "days",
	               text);
}

void
mu_cli_duration_text(char out[MU_CLI_DURATION_SIZE], int64_t secs)
{
	int64_t h = secs / 3600, m = secs / 60 % 60;

	if (h > 0 && m > 0)
		snprintf(out, MU_CLI_DURATION_SIZE, "%lld h %lld min", (long long)h,
		         (long long)m);
	else if (h > 0)
		snprintf(out, MU_CLI_DURATION_SIZE, "%lld hour%s", (long long)h,
		         h == 1 ? "" : "s");
	else
		snprintf(out, MU_CLI_DURATION_SIZE, "%lld min", (long long)m);
}

/* ---- in words ----------------------------------------------------------- */

/* The day number of t's date in zone (NULL: UTC), counted from 1970. */
static int64_t
local_day(int64_t t, const char *zone)
{
	const struct zone_span *sp = NULL;
	int64_t local;

	if (zone != NULL && zone_known(zone))
		sp = span_of(zone, t);
	local = t + (sp != NULL ? sp->gmtoff : 0);
	return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

/* "Saturday 5 December 2030": the day of the month without its zero. */
static void
long_date(char out[48], int64_t t, const char *zone)
{
	char *p;

	mu_cli_when_format(out, 48, t, zone, "%A %d %B %Y");
	p = strchr(out, ' ');
	if (p != NULL && p[1] == '0')
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
}

/* How far from now a date is, by calendar days in zone; months of 30
 * days past two months, years of 365 past two years. */
static void
days_phrase(char out[MU_CLI_RELATIVE_SIZE], int64_t days)
{
	int64_t a = days < 0 ? -days : days;

	if (days == 0)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "today");
	else if (days == 1)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "tomorrow");
	else if (days == -1)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "yesterday");
	else
		snprintf(out, MU_CLI_RELATIVE_SIZE, "%s%lld %s%s",
		         days > 0 ? "in " : "",
		         (long long)(a < 60    ? a
		                     : a < 730 ? a / 30
		                               : a / 365),
		         a < 60    ? "days"
		         : a < 730 ? "months"
		                   : "years",
		         days > 0 ? "" : " ago");
}

void
mu_cli_when_relative(char out[MU_CLI_RELATIVE_SIZE], int64_t t, bool all_day,
                     const char *zone, int64_t now)
{
	int64_t d = t - now, a = d < 0 ? -d : d;
	const char *ago = d < 0 ? " ago" : "", *in = d < 0 ? "" : "in ";

	/* An all-day event's t is the UTC midnight of its date. */
	if (all_day) {
		days_phrase(out, t / 86400 - local_day(now, zone));
		return;
	}
	if (a < 60)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "now");
	else if (a < 3600)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "%s%lld min%s", in,
		         (long long)(a / 60), ago);
	else if (a < 2 * 86400)
		snprintf(out, MU_CLI_RELATIVE_SIZE, "%s%lld hour%s%s", in,
		         (long long)(a / 3600), a < 2 * 3600 ? "" : "s", ago);
	else
		days_phrase(out, local_day(t, zone) - local_day(now, zone));
}

void
mu_cli_when_words(char out[MU_CLI_WORDS_SIZE], const struct mu_event *ev,
                  const char *zone, int64_t now)
{
	char a[48], b[48], ta[8], tb[8], rel[MU_CLI_RELATIVE_SIZE];
	const char *name = zone != NULL ? zone : "UTC";

	mu_cli_when_relative(rel, ev->start, ev->all_day, zone, now);
	if (ev->all_day) {
		long_date(a, ev->start, NULL);
		if (ev->has_end && ev->end - ev->start > 86400) {
			long_date(b, ev->end - 86400, NULL);
			snprintf(out, MU_CLI_WORDS_SIZE, "%s – %s, all day (%s)", a, b,
			         rel);
		} else {
			snprintf(out, MU_CLI_WORDS_SIZE, "%s, all day (%s)", a, rel);
		}
		return;
	}
	long_date(a, ev->start, zone);
	mu_cli_when_format(ta, sizeof(ta), ev->start, zone, "%H:%M");
	if (!ev->has_end) {
		snprintf(out, MU_CLI_WORDS_SIZE, "%s, %s %s (%s)", a, ta, name, rel);
		return;
	}
	long_date(b, ev->end, zone);
	mu_cli_when_format(tb, sizeof(tb), ev->end, zone, "%H:%M");
	if (strcmp(a, b) == 0)
		snprintf(out, MU_CLI_WORDS_SIZE, "%s, %s–%s %s (%s)", a, ta, tb, name,
		         rel);
	else
		snprintf(out, MU_CLI_WORDS_SIZE, "%s, %s – %s, %s %s (%s)", a, ta, b,
		         tb, name, rel);
}

int64_t
mu_cli_when_day(int64_t t, const char *zone)
{
	return local_day(t, zone);
}
