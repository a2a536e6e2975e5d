/*
 * calendar_head.c - the head every feed of this node starts with
 * (calendar.h, mu_cal_write_header): the events' feeds (calendar.c) and
 * the pledges' (calendar_pledge.c), which the events' feeds also end with.
 */
#include "calendar.h"

#include <string.h>

#include "../protocol/ical.h"

#define CAL_PRODID  "-//muster//muster calendar//EN"
#define CAL_REFRESH "PT1H" /* how often subscribers should fetch again */

void
mu_cal_write_header(struct mu_ical *w, const char *name)
{
	mu_ical_prop_raw(w, "BEGIN", "VCALENDAR");
	mu_ical_prop_raw(w, "VERSION", "2.0");
	mu_ical_prop_raw(w, "PRODID", CAL_PRODID);
	mu_ical_prop_raw(w, "CALSCALE", "GREGORIAN");
	mu_ical_prop_raw(w, "METHOD", "PUBLISH");
	mu_ical_prop_text(w, "NAME", name, strlen(name));
	mu_ical_prop_text(w, "X-WR-CALNAME", name, strlen(name));
	mu_ical_begin(w, "REFRESH-INTERVAL");
	mu_ical_param(w, "VALUE", "DURATION", 8);
	mu_ical_raw(w, CAL_REFRESH, strlen(CAL_REFRESH));
	mu_ical_end(w);
	mu_ical_prop_raw(w, "X-PUBLISHED-TTL", CAL_REFRESH);
}
