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
	struct tm tm;
	time_t now;
	va_list ap;

	if (level > node->opts.log_level)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of concurrent writers do not interleave. */
	fprintf(stderr, "%s %s %s\n", stamp, level_names[level], line);
}
