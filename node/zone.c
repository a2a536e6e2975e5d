/*
 * zone.c - a zone's rules through the C library (zone.h).
 */
#include "zone.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400

const char *
mu_node_zone_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir != NULL && dir[0] != '\0' ? dir : "/usr/share/zoneinfo";
}

int
mu_node_tz_push(struct mu_node_tz *s, const char *zone)
{
	const char *old = getenv("TZ");
	char value[PATH_MAX + 2];

	s->active = false;
	s->saved = NULL;
	if (old != NULL && (s->saved = strdup(old)) == NULL)
		return MU_ENOMEM;
	if (zone == NULL)
		snprintf(value, sizeof(value), "UTC0");
	else if (snprintf(value, sizeof(value), ":%s/%s", mu_node_zone_dir(), zone) >=
	         (int)sizeof(value))
		goto fail;
	if (setenv("TZ", value, 1) != 0)
		goto fail;
	tzset();
	s->active = true;
	return 0;
fail:
	free(s->saved);
	s->saved = NULL;
	return MU_ENOMEM;
}

void
mu_node_tz_pop(struct mu_node_tz *s)
{
	if (!s->active)
		return;
	if (s->saved != NULL)
		setenv("TZ", s->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(s->saved);
	s->saved = NULL;
	s->active = false;
}

/* The zone's offset east of UTC at t, in seconds. */
static int64_t
offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

static int
to_local(void *ctx, int64_t t, int64_t *days, int32_t *secs)
{
	int64_t l = t + offset_at(t);

	(void)ctx;
	*days = l / DAY;
	*secs = (int32_t)(l % DAY);
	if (*secs < 0) {
		*secs += DAY;
		(*days)--;
	}
	return 0;
}

/*
 * The offsets a day before and after are those on either side of any change
 * near the time (zones change at most once in two days): each that reads
 * back as the wall-clock time is an answer, the earlier one when both do; in
 * a gap neither does and the offset before the change reads it.
 */
static int
to_utc(void *ctx, int64_t days, int32_t secs, int64_t *t)
{
	int64_t l = days * DAY + secs, a, b;

	(void)ctx;
	a = l - offset_at(l - DAY);
	b = l - offset_at(l + DAY);
	if (a + offset_at(a) == l && (b + offset_at(b) != l || a <= b))
		*t = a;
	else if (b + offset_at(b) == l)
		*t = b;
	else
		*t = a;
	return 0;
}

int
mu_node_zone_open(struct mu_node_zone *z, const struct mu_event *ev)
{
	char path[PATH_MAX + 1], zone[64 + 1]; /* rule tz: at most 64 bytes */
	int n;

	memset(z, 0, sizeof(*z));
	z->rules.to_utc = to_utc;
	z->rules.to_local = to_local;
	if (ev->all_day || ev->tz.len == 0)
		return 0;
	n = snprintf(zone, sizeof(zone), "%.*s", (int)ev->tz.len, ev->tz.ptr);
	if (n < 0 || (size_t)n >= sizeof(zone))
		return MU_ENOTFOUND;
	n = snprintf(path, sizeof(path), "%s/%s", mu_node_zone_dir(), zone);
	if (n < 0 || (size_t)n >= sizeof(path) || access(path, R_OK) != 0)
		return MU_ENOTFOUND;
	return mu_node_tz_push(&z->tz, zone);
}

const struct mu_recur_zone *
mu_node_zone_rules(const struct mu_node_zone *z)
{
	return z->tz.active ? &z->rules : NULL;
}

void
mu_node_zone_close(struct mu_node_zone *z)
{
	mu_node_tz_pop(&z->tz);
}

int
mu_node_zone_expand(const struct mu_event *ev, int64_t from, int64_t to, mu_recur_fn fn,
                    void *ctx)
{
	struct mu_node_zone z;
	int rc;

	rc = mu_node_zone_open(&z, ev);
	if (rc == MU_ENOMEM)
		return rc;
	rc = mu_recur_expand(ev, mu_node_zone_rules(&z), from, to, fn, ctx);
	mu_node_zone_close(&z);
	return rc;
}
