/*
 * calendar_end.c - the end of an event as the feeds and pages show it
 * (calendar.h), apart from calendar.c so that the writer of a series'
 * times (calendar_recur.c), which calendar.c calls, can use it too.
 */
#include "calendar.h"

int64_t
mu_cal_end(const struct mu_event *ev)
{
	if (ev->has_end)
		return ev->end;
	return ev->start + (ev->all_day ? 86400 : MU_CAL_DEFAULT_LENGTH);
}
