/*
 * calendar_recur.h - a recurring event in the iCalendar feed (RFC 5545):
 * DTSTART and DTEND of its first occurrence with TZID, RRULE, EXDATE for
 * skipped dates, and one VEVENT with RECURRENCE-ID and STATUS:CANCELLED per
 * cancelled date. Internal to node/calendar.c.
 */
#ifndef MU_NODE_CALENDAR_RECUR_H
#define MU_NODE_CALENDAR_RECUR_H

#include "../protocol/ical.h"
#include "../protocol/record.h"

/* Writes the first lines of a VEVENT (BEGIN, UID, ...) for rec. */
typedef int (*mu_cal_head_fn)(void *ctx, struct mu_ical *w,
                              const struct mu_record *rec);

/*
 * Writes DTSTART, DTEND (mu_cal_end()'s length on), RRULE and EXDATE of
 * series ev. Returns the writer's error, or 0.
 */
int mu_cal_series_times(struct mu_ical *w, const struct mu_event *ev);

/*
 * Writes the VTIMEZONE of ev's zone (nothing for UTC or all-day events):
 * every change of offset from 2020 to 2044, so that parsers place the
 * local times of DTSTART, EXDATE and RECURRENCE-ID without a zone database.
 */
int mu_cal_vtimezone(struct mu_ical *w, const struct mu_event *ev);

/*
 * Writes one VEVENT per cancelled occurrence of series rec: head's lines,
 * then RECURRENCE-ID, DTSTART, DTEND, STATUS:CANCELLED and END.
 */
int mu_cal_series_cancelled(struct mu_ical *w, const struct mu_record *rec,
                            mu_cal_head_fn head, void *ctx);

#endif
