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

void
mu_node_store_full(struct mu_node *node, const char *what, const char *detail)
{
	uint64_t now = uv_now(node->loop);

	if (detail == NULL || detail[0] == '\0')
		detail = mu_strerror(MU_EFULL);
	if (node->store_full_ms != 0 &&
	    now - node->store_full_ms < MU_NODE_FULL_LOG_MS) {
		mu_node_log(node, MU_LOG_DEBUG, "store still full: %s not stored",
		            what);
		return;
	}
	node->store_full = true;
	node->store_full_ms = now != 0 ? now : 1;
	mu_node_log(node, MU_LOG_ERROR,
	            "%s; until there is room, new records are refused (their "
	            "senders keep them and offer them again) and the stored ones "
	            "are still served",
	            detail);
}

void
mu_node_store_ok(struct mu_node *node)
{
	if (!node->store_full)
		return;
	node->store_full = false;
	mu_node_log(node, MU_LOG_INFO, "the store takes records again");
}

static void
say_suppressed(struct mu_node *node, struct mu_node_ratelog *rl, const char *line)
{
	unsigned n = rl->suppressed;

	rl->suppressed = 0;
	if (line == NULL)
		mu_node_log(node, MU_LOG_INFO,
		            "%u more connection%s refused, evicted or closed as idle "
		            "(logged at debug level)",
		            n, n == 1 ? "" : "s");
	else if (n == 0)
		mu_node_log(node, MU_LOG_INFO, "%s", line);
	else
		mu_node_log(node, MU_LOG_INFO,
		            "%s (and %u more refused, evicted or closed as idle since "
		            "the last such line, logged at debug level)",
		            line, n);
}

void
mu_node_log_limited(struct mu_node *node, struct mu_node_ratelog *rl, const char *fmt,
                    ...)
{
	uint64_t now = uv_now(node->loop);
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->last_ms != 0 && now - rl->last_ms < node->opts.limits.admit_log_ms) {
		rl->suppressed++;
		mu_node_log(node, MU_LOG_DEBUG, "%s", line);
		return;
	}
	rl->last_ms = now != 0 ? now : 1;
	say_suppressed(node, rl, line);
}

void
mu_node_log_limited_flush(struct mu_node *node, struct mu_node_ratelog *rl)
{
	uint64_t now = uv_now(node->loop);

	if (rl->suppressed == 0 || now - rl->last_ms < node->opts.limits.admit_log_ms)
		return;
	rl->last_ms = now != 0 ? now : 1;
	say_suppressed(node, rl, NULL);
}
