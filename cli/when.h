/*
 * when.h - times as people type and read them.
 *
 * Input (WHEN) is ISO 8601: a date and a time with "Z" or an offset
 * ("2026-12-05T18:00Z", "2026-12-05T18:00:00+01:00"), which names an instant
 * by itself; a date and a time without one ("2026-12-05T18:00"), read as
 * local time in a zone; or a date alone ("2026-12-05"). Zones are IANA names
 * that must exist under $TZDIR or /usr/share/zoneinfo.
 *
 * Conversions go through the C library (setenv("TZ") + tzset() + mktime()
 * or localtime_r()), and TZ is put back as it was before each function
 * returns. That touches the process environment, so these functions are not
 * thread-safe; the command line has one thread. Formatting switches TZ only
 * the first time it meets a zone's offset: it remembers over which span of
 * time each zone keeps an offset (a small static cache), so that a list of
 * thousands of events reads each zone's file a few times, not per event.
 */
#ifndef MU_CLI_WHEN_H
#define MU_CLI_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/error.h"
#include "../protocol/record.h"

/* "2026-12-05T18:00:00Z" and its NUL. */
#define MU_CLI_ISO_SIZE 21
/* The longest zone name rule tz allows, and its NUL. */
#define MU_CLI_ZONE_SIZE 65

struct mu_cli_when {
	/* The instant. For a date alone: the midnight that starts that date in
	 * the zone (or the first instant of the date if midnight is skipped). */
	int64_t t;
	bool date_only;
	/* For a date alone: the midnight UTC that starts it, as all-day events
	 * store dates (docs/PROTOCOL.md, event). */
	int64_t day_utc;
	/* No "Z" or offset was given: the zone decided the instant. */
	bool local;
};

/*
 * Checks that zone has the form of rule tz and that the zone exists here.
 * Returns 0, or MU_ENOTFOUND / MU_EINVAL with what is wrong and how to find
 * a valid name in why.
 */
int mu_cli_zone_check(const char *zone, struct mu_why *why);

/*
 * Reads WHEN from text. A local time is read in zone, or in the system's
 * zone when zone is NULL. Times before 1970 or after 9999 are refused, as are
 * local times that do not exist in the zone (the hour skipped when clocks go
 * forward); a local time that happens twice (clocks go back) is the first.
 * Returns 0, or MU_EINVAL with the reason and the accepted forms in why.
 */
int mu_cli_when_parse(struct mu_cli_when *out, const char *text, const char *zone,
                      struct mu_why *why);

/*
 * The system's zone as an IANA name: from $TZ when it is set (and names a
 * zone), else from where /etc/localtime points, else from /etc/timezone.
 * Returns 0, or MU_ENOTFOUND when none names an existing zone.
 */
int mu_cli_system_zone(char out[MU_CLI_ZONE_SIZE]);

/*
 * Formats instant t with strftime() format fmt as local time in zone (NULL:
 * UTC; %Z then gives "UTC"). Returns 0, or MU_ENOTFOUND when zone does not
 * exist here and UTC was used instead; out is filled either way.
 */
int mu_cli_when_format(char *out, size_t size, int64_t t, const char *zone,
                       const char *fmt) __attribute__((format(strftime, 5, 0)));

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (t within 0 ... year 9999). */
void mu_cli_when_iso(char out[MU_CLI_ISO_SIZE], int64_t t);

/* "never" when t is 0, else t as mu_cli_when_iso() writes it and how long
 * before now it was: "2026-11-25T21:00:00Z (3 min ago)". For the last-seen
 * and last-sync times of peers. */
#define MU_CLI_AGO_SIZE 64
void mu_cli_when_ago(char out[MU_CLI_AGO_SIZE], int64_t t, int64_t now);

/*
 * Reads a duration typed as "90m", "2h", "1h30m" (or "1d", days): numbers
 * each followed by its unit, d, h and m in that order, each at most once.
 * Returns 0 with *secs above 0 and at most an event's longest span (366
 * days), or MU_EINVAL with the reason and the accepted forms in why.
 */
int mu_cli_duration_parse(const char *text, int64_t *secs, struct mu_why *why);

/* A whole number of minutes for people: "2 hours", "1 h 30 min", "45 min". */
#define MU_CLI_DURATION_SIZE 48
void mu_cli_duration_text(char out[MU_CLI_DURATION_SIZE], int64_t secs);

/*
 * How far instant t is from now, as people say it: "in 45 min", "in 5
 * hours", "in 3 days" (calendar days in zone, NULL: UTC), "tomorrow",
 * "2 days ago", "in 5 months", "in 4 years". With all_day, t is the UTC midnight of a
 * date (as all-day events store it), compared with today's date in zone.
 */
#define MU_CLI_RELATIVE_SIZE 32
void mu_cli_when_relative(char out[MU_CLI_RELATIVE_SIZE], int64_t t, bool all_day,
                          const char *zone, int64_t now);

/* The date of instant t in zone (NULL: UTC), as days since 1970-01-01:
 * two instants fall on one date there when their days are equal. */
int64_t mu_cli_when_day(int64_t t, const char *zone);

/*
 * An event's time in words, in zone (NULL: UTC), as `event add` and `event
 * edit` say what they understood: "Saturday 5 December 2030, 19:00–21:00
 * Europe/Berlin (in 3 days)". All-day events give their dates: "Saturday 5
 * December 2030, all day (tomorrow)".
 */
#define MU_CLI_WORDS_SIZE 200
void mu_cli_when_words(char out[MU_CLI_WORDS_SIZE], const struct mu_event *ev,
                       const char *zone, int64_t now);

#endif
