/*
 * Time input and output of the command line (cli/when.c): ISO 8601 with Z
 * and offsets, local times across daylight-saving changes, dates, refusals
 * with a reason, formatting in a zone, and TZ left as it was found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cli/when.h"

/* 2026-12-05T00:00:00Z */
#define DEC5 1796428800LL

static int64_t
parse_ok(const char *text, const char *zone)
{
	struct mu_cli_when w;
	struct mu_why why = {0};
	int rc = mu_cli_when_parse(&w, text, zone, &why);

	if (rc != 0)
		fail_msg("'%s' in %s: %s", text, zone ? zone : "(system)", why.text);
	return w.t;
}

/* Asserts that text is refused and that the reason contains want. */
static void
parse_bad(const char *text, const char *zone, const char *want)
{
	struct mu_cli_when w;
	struct mu_why why = {0};

	assert_int_not_equal(mu_cli_when_parse(&w, text, zone, &why), 0);
	if (strstr(why.text, want) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", text, why.text, want);
	assert_null(strchr(why.text, '\n'));
}

static void
test_utc_and_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z", NULL), 0);
	assert_int_equal(parse_ok("2026-12-05T00:00:00Z", NULL), DEC5);
	assert_int_equal(parse_ok("2026-12-05T18:00Z", NULL), DEC5 + 18 * 3600);
	assert_int_equal(parse_ok("2026-12-05t18:00:30z", NULL), DEC5 + 18 * 3600 + 30);
	assert_int_equal(parse_ok("2026-12-05 18:00Z", NULL), DEC5 + 18 * 3600);
	assert_int_equal(parse_ok("2026-12-05T18:00+01:00", NULL), DEC5 + 17 * 3600);
	assert_int_equal(parse_ok("2026-12-05T18:00-0800", NULL), DEC5 + 26 * 3600);
	assert_int_equal(parse_ok("2026-12-05T18:00+05:30", NULL),
	                 DEC5 + 18 * 3600 - 5 * 3600 - 1800);
	assert_int_equal(parse_ok("2026-12-05T18:00+02", NULL), DEC5 + 16 * 3600);
	/* Fractions are dropped: records hold seconds. */
	assert_int_equal(parse_ok("2026-12-05T18:00:00.999Z", NULL), DEC5 + 18 * 3600);
	/* Leap day and the last representable second. */
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z", NULL), 1709164800LL);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z", NULL), 253402300799LL);
	/* An offset names the instant whatever the zone. */
	assert_int_equal(parse_ok("2026-12-05T18:00Z", "Asia/Tokyo"), DEC5 + 18 * 3600);
}

static void
test_local_berlin_across_dst(void **state)
{
	struct mu_cli_when w;
	struct mu_why why = {0};

	(void)state;
	/* Winter: CET, UTC+1. */
	assert_int_equal(parse_ok("2026-12-05T18:00", "Europe/Berlin"),
	                 DEC5 + 17 * 3600);
	/* Summer: CEST, UTC+2 (2026-07-01T00:00:00Z = 1782864000). */
	assert_int_equal(parse_ok("2026-07-01T12:00", "Europe/Berlin"),
	                 1782864000LL + 10 * 3600);
	/* 2026-03-29: 01:59 CET is followed by 03:00 CEST. */
	assert_int_equal(parse_ok("2026-03-29T01:59", "Europe/Berlin"),
	                 parse_ok("2026-03-29T00:59Z", NULL));
	assert_int_equal(parse_ok("2026-03-29T03:00", "Europe/Berlin"),
	                 parse_ok("2026-03-29T01:00Z", NULL));
	parse_bad("2026-03-29T02:30", "Europe/Berlin",
	          "does not exist in Europe/Berlin");
	/* 2026-10-25: 02:30 happens twice; which is meant is asked, naming
	 * both offsets, and either given one is taken. */
	parse_bad("2026-10-25T02:30", "Europe/Berlin",
	          "happens twice in Europe/Berlin");
	parse_bad("2026-10-25T02:30", "Europe/Berlin",
	          "add +02:00 (the first) or "
	          "+01:00 (the second)");
	parse_bad("2026-11-01T01:30", "America/New_York",
	          "add -04:00 (the first) "
	          "or -05:00 (the second)");
	assert_int_equal(parse_ok("2026-10-25T02:30+02:00", "Europe/Berlin"),
	                 parse_ok("2026-10-25T00:30Z", NULL));
	assert_int_equal(parse_ok("2026-10-25T02:30+01:00", "Europe/Berlin"),
	                 parse_ok("2026-10-25T01:30Z", NULL));
	/* The minutes on either side are not in doubt. */
	assert_int_equal(parse_ok("2026-10-25T01:59", "Europe/Berlin"),
	                 parse_ok("2026-10-24T23:59Z", NULL));
	assert_int_equal(parse_ok("2026-10-25T03:30", "Europe/Berlin"),
	                 parse_ok("2026-10-25T02:30Z", NULL));

	assert_int_equal(
	    mu_cli_when_parse(&w, "2026-12-05T18:00", "Europe/Berlin", &why), 0);
	assert_true(w.local);
	assert_false(w.date_only);
	assert_int_equal(
	    mu_cli_when_parse(&w, "2026-12-05T18:00Z", "Europe/Berlin", &why), 0);
	assert_false(w.local);
}

static void
test_local_in_system_zone(void **state)
{
	(void)state;
	setenv("TZ", "America/New_York", 1);
	/* EST, UTC-5. */
	assert_int_equal(parse_ok("2026-12-05T18:00", NULL), DEC5 + 23 * 3600);
	unsetenv("TZ");
}

static void
test_date_only(void **state)
{
	struct mu_cli_when w;
	struct mu_why why = {0};

	(void)state;
	assert_int_equal(mu_cli_when_parse(&w, "2026-12-05", "Europe/Berlin", &why), 0);
	assert_true(w.date_only);
	assert_int_equal(w.day_utc, DEC5);
	/* The instant is the local midnight in the zone. */
	assert_int_equal(w.t, DEC5 - 3600);
	assert_int_equal(mu_cli_when_parse(&w, "2026-12-05", "Asia/Tokyo", &why), 0);
	assert_int_equal(w.day_utc, DEC5);
	assert_int_equal(w.t, DEC5 - 9 * 3600);
}

static void
test_garbage_rejected(void **state)
{
	(void)state;
	parse_bad("tomorrow", NULL, "is not a time: use ISO 8601");
	parse_bad("", NULL, "is not a time");
	parse_bad("2026-12-5", NULL, "is not a time");
	parse_bad("26-12-05", NULL, "is not a time");
	parse_bad("2026-12-05T18", NULL, "is not a time");
	parse_bad("2026-12-05T18:00Zjunk", NULL, "is not a time");
	parse_bad("2026-12-05T18:00+1", NULL, "is not a time");
	parse_bad("2026-12-05T18:00:00.Z", NULL, "is not a time");
	parse_bad("2026-13-05", NULL, "month 13");
	parse_bad("2026-00-05", NULL, "month 00");
	parse_bad("2026-02-29", NULL, "day 29 does not exist in 2026-02");
	parse_bad("2026-04-31T10:00Z", NULL, "day 31");
	parse_bad("2026-12-05T24:00Z", NULL, "out of range");
	parse_bad("2026-12-05T18:60Z", NULL, "out of range");
	parse_bad("2026-12-05T18:00+24:00", NULL, "offset out of range");
	parse_bad("1969-12-31T23:59:59Z", NULL, "before 1970");
	parse_bad("1970-01-01T00:30+01:00", NULL, "out of range");
	parse_bad("2026-12-05T18:00", "Mars/Olympus",
	          "unknown time zone 'Mars/Olympus'");
	parse_bad("2026-12-05T18:00", "../etc/passwd", "is not a time zone name");
}

static void
test_zone_check(void **state)
{
	struct mu_why why = {0};

	(void)state;
	assert_int_equal(mu_cli_zone_check("Europe/Berlin", &why), 0);
	assert_int_equal(mu_cli_zone_check("UTC", &why), 0);
	assert_int_equal(mu_cli_zone_check("Europe/Berln", &why), MU_ENOTFOUND);
	assert_non_null(strstr(why.text, "Europe/Berlin"));
	/* A directory is no zone. */
	assert_int_not_equal(mu_cli_zone_check("Europe", &why), 0);
	assert_int_equal(mu_cli_zone_check("/etc/passwd", &why), MU_EINVAL);
	assert_int_equal(mu_cli_zone_check("Europe/Berlin;rm", &why), MU_EINVAL);
}

static void
test_system_zone(void **state)
{
	char zone[MU_CLI_ZONE_SIZE];

	(void)state;
	setenv("TZ", "Europe/Berlin", 1);
	assert_int_equal(mu_cli_system_zone(zone), 0);
	assert_string_equal(zone, "Europe/Berlin");
	setenv("TZ", ":/usr/share/zoneinfo/Asia/Tokyo", 1);
	assert_int_equal(mu_cli_system_zone(zone), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	/* A POSIX rule string is in force but names no zone. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	assert_int_equal(mu_cli_system_zone(zone), MU_ENOTFOUND);
	unsetenv("TZ");
}

static void
test_format(void **state)
{
	char out[64], iso[MU_CLI_ISO_SIZE];

	(void)state;
	mu_cli_when_iso(iso, 0);
	assert_string_equal(iso, "1970-01-01T00:00:00Z");
	mu_cli_when_iso(iso, DEC5 + 17 * 3600 + 5 * 60 + 9);
	assert_string_equal(iso, "2026-12-05T17:05:09Z");
	mu_cli_when_iso(iso, 253402300799LL);
	assert_string_equal(iso, "9999-12-31T23:59:59Z");

	assert_int_equal(mu_cli_when_format(out, sizeof(out), DEC5 + 17 * 3600,
	                                    "Europe/Berlin", "%a %Y-%m-%d %H:%M %Z"),
	                 0);
	assert_string_equal(out, "Sat 2026-12-05 18:00 CET");
	assert_int_equal(mu_cli_when_format(out, sizeof(out), 1782864000LL + 10 * 3600,
	                                    "Europe/Berlin", "%H:%M %Z"),
	                 0);
	assert_string_equal(out, "12:00 CEST");
	assert_int_equal(mu_cli_when_format(out, sizeof(out), DEC5, NULL, "%H:%M %Z"),
	                 0);
	assert_string_equal(out, "00:00 UTC");
	/* An unknown zone falls back to UTC and says so. */
	assert_int_equal(
	    mu_cli_when_format(out, sizeof(out), DEC5, "Mars/Olympus", "%H:%M %Z"),
	    MU_ENOTFOUND);
	assert_string_equal(out, "00:00 UTC");
}

/* The reference: the C library, with TZ switched to the zone beforehand. */
static void
libc_format(char out[64], int64_t t, bool full)
{
	time_t tt = (time_t)t;
	struct tm tm;

	assert_non_null(localtime_r(&tt, &tm));
	assert_int_not_equal(
	    strftime(out, 64, full ? "%a %Y-%m-%d %H:%M:%S %Z %z" : "%Z %z", &tm), 0);
}

struct sample {
	int64_t t;
	char want[64];
};

/* Samples every 6 hours from start to end, plus the seconds around every
 * change of offset in between; the C library's answers in zone. */
static struct sample *
reference(const char *zone, int64_t start, int64_t end, size_t *n)
{
	size_t cap = (size_t)((end - start) / (6 * 3600)) + 4096;
	struct sample *v = calloc(cap, sizeof(*v));
	char tz[256], prev[64], rule[64];
	int64_t t, lo, hi, mid;

	assert_non_null(v);
	snprintf(tz, sizeof(tz), ":/usr/share/zoneinfo/%s", zone);
	setenv("TZ", tz, 1);
	tzset();
	*n = 0;
	prev[0] = '\0';
	for (t = start; t < end; t += 6 * 3600) {
		libc_format(rule, t, false);
		if (prev[0] != '\0' && strcmp(prev, rule) != 0) {
			lo = t - 6 * 3600;
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				libc_format(rule, mid, false);
				if (strcmp(rule, prev) == 0)
					lo = mid;
				else
					hi = mid;
			}
			for (mid = hi - 2; mid <= hi + 1 && *n < cap; mid++) {
				v[*n].t = mid;
				libc_format(v[(*n)++].want, mid, true);
			}
			libc_format(rule, t, false);
		}
		memcpy(prev, rule, sizeof(prev));
		assert_true(*n < cap);
		v[*n].t = t;
		libc_format(v[(*n)++].want, t, true);
	}
	unsetenv("TZ");
	tzset();
	return v;
}

/*
 * Formatting remembers each zone's offsets over spans of time instead of
 * switching TZ per call; it must print exactly what the C library prints.
 * Every 6 hours over 50 years and the seconds around every change, in zones
 * with and without daylight saving, half-hour and odd offsets, a zone that
 * skipped a day (Pacific/Apia, 2011) and one that changed its rules often
 * (Europe/Moscow); then all of them interleaved, as in an event list.
 */
static void
test_format_matches_libc(void **state)
{
	static const char *const zones[] = {
	    "Europe/Berlin", "America/New_York",  "Australia/Lord_Howe",
	    "Asia/Kolkata",  "America/Sao_Paulo", "Pacific/Apia",
	    "Europe/Moscow", "Asia/Kathmandu",    "UTC"};
	enum { NZ = sizeof(zones) / sizeof(zones[0]) };
	struct sample *ref[NZ];
	size_t n[NZ], z, i, most = 0;
	char got[64];

	(void)state;
	for (z = 0; z < NZ; z++) {
		/* 1990 - 2040 */
		ref[z] = reference(zones[z], 631152000LL, 2208988800LL, &n[z]);
		for (i = 0; i < n[z]; i++) {
			assert_int_equal(
			    mu_cli_when_format(got, sizeof(got), ref[z][i].t, zones[z],
			                       "%a %Y-%m-%d %H:%M:%S %Z %z"),
			    0);
			if (strcmp(got, ref[z][i].want) != 0)
				fail_msg("%s at %lld: got '%s', want '%s'", zones[z],
				         (long long)ref[z][i].t, got, ref[z][i].want);
		}
		most = n[z] > most ? n[z] : most;
	}
	for (i = 0; i < most; i += 7) {
		for (z = 0; z < NZ; z++) {
			if (i >= n[z])
				continue;
			mu_cli_when_format(got, sizeof(got), ref[z][i].t, zones[z],
			                   "%a %Y-%m-%d %H:%M:%S %Z %z");
			if (strcmp(got, ref[z][i].want) != 0)
				fail_msg("%s at %lld: got '%s', want '%s'", zones[z],
				         (long long)ref[z][i].t, got, ref[z][i].want);
		}
	}
	for (z = 0; z < NZ; z++)
		free(ref[z]);
}

/* Every conversion puts TZ back as it found it, set or unset. */
static void
test_tz_restored(void **state)
{
	char out[64];

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	parse_ok("2026-12-05T18:00", "Europe/Berlin");
	mu_cli_when_format(out, sizeof(out), DEC5, "America/New_York", "%H");
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	/* and the C library follows it again: Tokyo is UTC+9 */
	assert_int_equal(parse_ok("2026-12-05T09:00", NULL), DEC5);

	unsetenv("TZ");
	parse_ok("2026-12-05T18:00", "Europe/Berlin");
	mu_cli_when_format(out, sizeof(out), DEC5, "Europe/Berlin", "%H");
	assert_null(getenv("TZ"));
}

/* Durations as `event add --duration` takes them. */
static void
test_duration(void **state)
{
	static const struct {
		const char *text;
		int64_t secs;
	} good[] = {{"90m", 5400},      {"2h", 7200},  {"1h30m", 5400},
	            {"1H30M", 5400},    {"1d", 86400}, {"1d2h", 93600},
	            {"366d", 31622400}, {"45m", 2700}, {"0h15m", 900}};
	static const char *const bad[] = {
	    "",    "90", "h",    "30m1h", "1h1h",     "1.5h", "1h 30m", "2 hours",
	    "-1h", "0m", "0h0m", "367d",  "9999999h", "1w",   "1h30"};
	struct mu_why why;
	int64_t secs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&why, 0, sizeof(why));
		if (mu_cli_duration_parse(good[i].text, &secs, &why) != 0)
			fail_msg("'%s': %s", good[i].text, why.text);
		assert_int_equal(secs, good[i].secs);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&why, 0, sizeof(why));
		secs = 1;
		if (mu_cli_duration_parse(bad[i], &secs, &why) != MU_EINVAL)
			fail_msg("'%s' was taken as %lld s", bad[i], (long long)secs);
		assert_int_equal(secs, 0);
		assert_true(why.text[0] != '\0');
		assert_null(strchr(why.text, '\n'));
	}
	memset(&why, 0, sizeof(why));
	mu_cli_duration_parse("1h1h", &secs, &why);
	assert_non_null(strstr(why.text, "1h30m"));
	mu_cli_duration_parse("367d", &secs, &why);
	assert_non_null(strstr(why.text, "366 days"));
}

static void
words(const char *want, int64_t start, int64_t end, bool all_day, const char *zone,
      int64_t now)
{
	struct mu_event ev;
	char out[MU_CLI_WORDS_SIZE];

	memset(&ev, 0, sizeof(ev));
	ev.start = start;
	ev.end = end;
	ev.has_end = end != 0;
	ev.all_day = all_day;
	mu_cli_when_words(out, &ev, zone, now);
	assert_string_equal(out, want);
}

/* What `event add` says it understood, in the event's zone. */
static void
test_words(void **state)
{
	const int64_t at19 = DEC5 + 18 * 3600; /* 19:00 in Berlin */

	(void)state;
	words("Saturday 5 December 2026, 19:00–21:00 Europe/Berlin (in 3 days)", at19,
	      at19 + 7200, false, "Europe/Berlin", at19 - 3 * 86400 - 3600);
	words("Saturday 5 December 2026, 13:00–15:00 America/New_York (in 5 hours)",
	      at19, at19 + 7200, false, "America/New_York", at19 - 5 * 3600 - 60);
	words("Saturday 5 December 2026, 18:00 UTC (in 1 hour)", at19, 0, false, NULL,
	      at19 - 3600);
	words("Saturday 5 December 2026, 19:00 Europe/Berlin (in 45 min)", at19, 0,
	      false, "Europe/Berlin", at19 - 45 * 60);
	/* Past midnight: both days named. */
	words("Saturday 5 December 2026, 19:00 – Sunday 6 December 2026, 02:00 "
	      "Europe/Berlin (2 days ago)",
	      at19, at19 + 7 * 3600, false, "Europe/Berlin", at19 + 2 * 86400 + 60);
	words("Saturday 5 December 2026, all day (tomorrow)", DEC5, DEC5 + 86400, true,
	      "Europe/Berlin", DEC5 - 2 * 3600);
	words("Saturday 5 December 2026 – Monday 7 December 2026, all day (today)",
	      DEC5, DEC5 + 3 * 86400, true, "Europe/Berlin", DEC5 + 3600);
	/* 23:30 UTC on the 4th is already the 5th in Berlin. */
	words("Saturday 5 December 2026, all day (today)", DEC5, 0, true,
	      "Europe/Berlin", DEC5 - 1800);
	words("Saturday 5 December 2026, all day (tomorrow)", DEC5, 0, true,
	      "America/New_York", DEC5 - 1800);
	/* A one-digit day loses its zero, a two-digit one keeps both. */
	words("Thursday 10 December 2026, 18:00 UTC (in 5 days)",
	      DEC5 + 5 * 86400 + 18 * 3600, 0, false, NULL, at19 - 3600);
}

static void
test_relative(void **state)
{
	char out[MU_CLI_RELATIVE_SIZE];

	(void)state;
	mu_cli_when_relative(out, DEC5, false, NULL, DEC5 - 30);
	assert_string_equal(out, "now");
	mu_cli_when_relative(out, DEC5, false, NULL, DEC5 + 600);
	assert_string_equal(out, "10 min ago");
	mu_cli_when_relative(out, DEC5, false, NULL, DEC5 + 3 * 3600);
	assert_string_equal(out, "3 hours ago");
	mu_cli_when_relative(out, DEC5, false, NULL, DEC5 + 86400 * 2);
	assert_string_equal(out, "2 days ago");
	/* Calendar days in the zone, not periods of 24 hours. */
	mu_cli_when_relative(out, DEC5 + 22 * 3600, false, "UTC", DEC5 - 40 * 3600);
	assert_string_equal(out, "in 2 days");
	mu_cli_when_relative(out, DEC5 + 86400, true, "Asia/Tokyo", DEC5 - 10 * 3600);
	assert_string_equal(out, "in 2 days");
	mu_cli_when_relative(out, DEC5 + 59 * 86400, false, NULL, DEC5);
	assert_string_equal(out, "in 59 days");
	mu_cli_when_relative(out, DEC5 + 60 * 86400, false, NULL, DEC5);
	assert_string_equal(out, "in 2 months");
	mu_cli_when_relative(out, DEC5 + 729 * 86400, true, NULL, DEC5);
	assert_string_equal(out, "in 24 months");
	mu_cli_when_relative(out, DEC5 + 1460 * 86400, false, NULL, DEC5);
	assert_string_equal(out, "in 4 years");
	mu_cli_when_relative(out, DEC5 - 400 * 86400, false, NULL, DEC5);
	assert_string_equal(out, "13 months ago");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utc_and_offsets),
	    cmocka_unit_test(test_local_berlin_across_dst),
	    cmocka_unit_test(test_local_in_system_zone),
	    cmocka_unit_test(test_date_only),
	    cmocka_unit_test(test_garbage_rejected),
	    cmocka_unit_test(test_zone_check),
	    cmocka_unit_test(test_system_zone),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_matches_libc),
	    cmocka_unit_test(test_tz_restored),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_relative),
	};

	/* The tests name their zones; TZDIR must be the system's. */
	unsetenv("TZDIR");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
