/*
 * log.c - the daemon's log: one line per significant event, to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
mu_node_log(const struct mu_node *node, enum mu_log_level level, const char *fmt, ...)
{
	char stamp[32], line[1024];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > node->opts.log_level)
		return;
	/* Milliseconds: the propagation benchmark times arrivals from them. */
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of concurrent writers do not interleave. */
	fprintf(stderr, "%s.%03ldZ %s %s\n", stamp, now.tv_nsec / 1000000,
	        level_names[level], line);
}
