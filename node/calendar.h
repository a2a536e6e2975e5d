/*
 * calendar.h - the coalition calendar as an iCalendar feed (RFC 5545).
 *
 * One function serves `muster event list --ics` and the HTTP feeds
 * (/calendar.ics, /groups/KEY/calendar.ics, /causes/ADDR/calendar.ics), so
 * that both print the same bytes for the same store. docs/API.md describes
 * the feed: one VEVENT per current event, cancelled ones included (so that
 * calendar apps remove them), UID from the event's address, SEQUENCE = rev.
 *
 * Ownership: the filter and its pointers are the caller's and only read.
 * out is the caller's buffer; the feed is appended to it.
 */
#ifndef MU_NODE_CALENDAR_H
#define MU_NODE_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "../protocol/buf.h"
#include "../protocol/record.h"
#include "../storage/local.h"
#include "../storage/store.h"

/* How long a timed event without an end lasts in the feeds and on the
 * pages: calendar apps show an event without DTEND as lasting no time. */
#define MU_CAL_DEFAULT_LENGTH (2 * 3600)

struct mu_cal_filter {
	int64_t from, to;            /* events overlapping [from, to) */
	const uint8_t *group;        /* published or hosted by this group; NULL: any */
	const struct mu_addr *cause; /* of this cause; NULL: any */
	/* Not a filter but where the event pages are (`serve --public-url`,
	 * no trailing '/'): each VEVENT gets URL:<page_base>/events/ADDR.
	 * NULL: none known. */
	const char *page_base;
	/* Not of these groups, outside the scope and so no longer current
	 * (storage/local.h); NULL: any. A feed always leaves them out. */
	const struct mu_outside *outside;
	/* Not a filter but the clock the pledges' states are read at (a
	 * pledge whose deadline passed untriggered is CANCELLED). */
	int64_t now;
};

/* The end of event ev as the feeds and pages show it: its end, else a
 * day after an all-day start, else MU_CAL_DEFAULT_LENGTH after start. */
int64_t mu_cal_end(const struct mu_event *ev);

/* A filter that lets every stored event through. */
void mu_cal_filter_all(struct mu_cal_filter *f);

/* Whether event rec passes f's group, cause and outside tests (not its times, which
 * the store's calendar query applies). */
bool mu_cal_passes(const struct mu_cal_filter *f, const struct mu_record *rec);

/*
 * The same feed a slice at a time, for a reader that must not hold the
 * loop (the HTTP feeds): each slice reads the store in a transaction of its
 * own, from where the last one stopped (mu_store_events_after()), and holds
 * only its own events. open copies f and name, and reads the groups
 * outside the scope, whose events it leaves out. Returns 0, or MU_ENOMEM
 * or an error reading the store.
 */
struct mu_cal_stream;
int mu_cal_stream_open(struct mu_store *st, const struct mu_cal_filter *f,
                       const char *name, struct mu_cal_stream **out);

/*
 * Appends the next slice to out: the header first, then at most max
 * entries (events, then the pledges; for each event kept at most 8 are
 * read), the end last, where *done becomes true. With budget_ns > 0 the
 * slice also ends once it has taken that long (at least one entry is
 * written), so that a slice's time does not grow with the entries' size or
 * the filter. The slices' bytes together are those of the whole feed,
 * whatever max and budget_ns. Returns 0, or MU_ENOMEM / MU_EIO with why.
 */
int mu_cal_stream_next(struct mu_cal_stream *s, size_t max, uint64_t budget_ns,
                       struct mu_buf *out, bool *done, struct mu_why *why);
void mu_cal_stream_free(struct mu_cal_stream *s);

/*
 * Appends the VCALENDAR of the events in st that pass f to out. name is the
 * calendar's display name (X-WR-CALNAME), UTF-8. Returns 0, or MU_ENOMEM /
 * MU_EIO with why; on error out holds what was appended before it.
 */
int mu_cal_ics(struct mu_store *st, const struct mu_cal_filter *f, const char *name,
               struct mu_buf *out, struct mu_why *why);

/*
 * Appends a VCALENDAR holding only the event at addr to out, named after
 * its title ("add to my calendar"); page_base as in the filter (NULL:
 * none). Returns 0, MU_ENOTFOUND when no such event is stored, or
 * MU_ENOMEM / MU_EIO with why.
 */
int mu_cal_event_ics(struct mu_store *st, const struct mu_addr *addr,
                     const char *page_base, struct mu_buf *out, struct mu_why *why);

struct mu_ical;

/* BEGIN:VCALENDAR and the calendar's properties, named name. */
void mu_cal_write_header(struct mu_ical *w, const char *name);

/*
 * The pledges as a calendar named name (calendar_pledge.c): the one at
 * one, or all current pledges when one is NULL; each TENTATIVE until it
 * triggers, CONFIRMED after, CANCELLED when its deadline passed first.
 * page_base (or NULL) makes each entry's URL. Appends to out; 0,
 * MU_ENOTFOUND (one is not held) or another error.
 */
/*
 * Writes the VEVENT of the current pledge rec to w when it passes f (its
 * group, its cause, not outside, its time overlapping [from, to)), as
 * mu_cal_pledges_ics() does: the feeds of events carry the pledges too.
 * *written says whether it did. 0 or an error reading the store.
 */
int mu_cal_write_pledge(struct mu_store *st, struct mu_ical *w,
                        const struct mu_cal_filter *f, const struct mu_record *rec,
                        bool *written);

/* How many pledges held have their deadline before now: what, beside the
 * records held, a feed with pledges changes with (its ETag). */
int mu_cal_pledges_passed(struct mu_store *st, int64_t now, uint64_t *n);

int mu_cal_pledges_ics(struct mu_store *st, const struct mu_addr *one, const char *name,
                       const char *page_base, int64_t now, struct mu_buf *out);

#endif
