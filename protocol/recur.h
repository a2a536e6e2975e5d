/*
 * recur.h - an event's recurrence (event.repeat, docs/PROTOCOL.md section 3,
 * "Recurrence"): its rules and its one expansion into occurrences.
 *
 * The expansion works on local dates and wall-clock times of the event's
 * zone, so that a weekly 18:00 stays 18:00 across a DST change. Zones are
 * not known here (pure code: no zone database, no I/O): the caller hands in
 * the two conversions as a struct mu_recur_zone, or NULL for UTC. All-day
 * events are always expanded in UTC, as their dates are stored.
 *
 * Ownership: everything is the caller's and only read. Pure code: no I/O,
 * no clock, no globals.
 */
#ifndef MU_RECUR_H
#define MU_RECUR_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "record.h"

/* "2027-01-05" and its NUL. */
#define MU_RECUR_DATE_SIZE 11

/*
 * A zone's rules. Dates are days since 1970-01-01, times of day seconds
 * since local midnight (0 ... 86399). Each returns 0 or a negative MU_E*.
 */
struct mu_recur_zone {
	/* The instant at which the wall clock shows (days, secs). A time the
	 * clocks skip is read with the offset before the change (02:30 becomes
	 * 03:30 when clocks go from 02:00 to 03:00); a time shown twice is the
	 * first of the two (RFC 5545 3.3.5). */
	int (*to_utc)(void *ctx, int64_t days, int32_t secs, int64_t *t);
	/* The local date and time of day of instant t. */
	int (*to_local)(void *ctx, int64_t t, int64_t *days, int32_t *secs);
	void *ctx;
};

/* One occurrence of a series. */
struct mu_recur_occ {
	int64_t start, end; /* instants; end - start is the event's length */
	int64_t date;       /* its local date (days since 1970-01-01) */
	bool cancelled;     /* its date is in repeat.cancelled */
	bool first;         /* it starts at the record's start */
};

/* Called for each occurrence, in order: 0 goes on, 1 stops (the expansion
 * then returns 0), a negative code stops and is returned. */
typedef int (*mu_recur_fn)(void *ctx, const struct mu_recur_occ *occ);

/*
 * The rules of event.repeat that need more than one field (repeat-bound,
 * repeat-date, repeat-byday, repeat-span): 0 or MU_ERECORD with
 * "rule: event.repeat... detail" in why. The record's check_event() calls it.
 */
int mu_recur_check(const struct mu_event *ev, struct mu_why *why);

/*
 * Calls fn for each occurrence of ev that overlaps [from, to) (a zero-length
 * one at t when from <= t < to), skipped dates left out, cancelled ones
 * marked. An event without repeat has its one occurrence. z is ev->tz's
 * rules, NULL for UTC. Returns 0, fn's negative code, or z's.
 */
int mu_recur_expand(const struct mu_event *ev, const struct mu_recur_zone *z,
                    int64_t from, int64_t to, mu_recur_fn fn, void *ctx);

/*
 * An instant at or after the end of ev's last occurrence, from the record
 * alone (no zone): for indexes that must find a series by its first start.
 */
int64_t mu_recur_end_bound(const struct mu_event *ev);

/* How far before a window a series that overlaps it may start, in seconds:
 * MU_EVENT_SPAN_MAX plus the longest series. */
#define MU_RECUR_LOOKBACK                                                              \
	((int64_t)MU_EVENT_SPAN_MAX + (MU_REPEAT_SPAN_DAYS + 2) * 86400LL)

/* Reads "YYYY-MM-DD" (a real date, year 1970-9999) into days since
 * 1970-01-01; false when s is not one. */
bool mu_recur_date_parse(const char *s, size_t len, int64_t *days);

/* Writes date (days since 1970-01-01) as "YYYY-MM-DD". */
void mu_recur_date_text(char out[MU_RECUR_DATE_SIZE], int64_t days);

/* The weekday of a date: 0 Monday ... 6 Sunday. */
int mu_recur_weekday(int64_t days);

/* "mo" ... "su" for 0 ... 6. */
extern const char *const mu_recur_day_names[7];

#endif
