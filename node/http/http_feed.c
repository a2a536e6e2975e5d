/*
 * http_feed.c - the iCalendar feeds (docs/API.md, "iCalendar feeds"):
 * /calendar.ics, /groups/KEY/calendar.ics and /causes/ADDR/calendar.ics,
 * and one event's calendar, /events/ADDR/calendar.ics. node/calendar.c
 * writes them, as it does for `muster event list --ics`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../../protocol/textform.h"
#include "../../storage/local.h"
#include "../calendar.h"
#include "http.h"

#define FEED       "/calendar.ics"
#define FEED_LEN   (sizeof(FEED) - 1)
#define NAME_SIZE  256
#define CAL_TYPE   "text/calendar; charset=utf-8"
#define PART_SIZE  (MU_ADDR_TEXT_SIZE + 1)
#define FEED_SLICE 32 /* entries per slice at most: 20-40 KiB */

bool
mu_http_is_feed(const char *path)
{
	size_t n = strlen(path);

	return n >= FEED_LEN && strcmp(path + n - FEED_LEN, FEED) == 0;
}

struct title {
	char text[NAME_SIZE];
	bool found;
};

static int
copy_title(void *ctx, const struct mu_record *rec)
{
	struct title *t = ctx;
	const struct mu_str *s =
	    rec->kind == MU_KIND_PROFILE ? &rec->c.profile.name : &rec->c.cause.title;

	snprintf(t->text, sizeof(t->text), "%.*s", (int)s->len, s->ptr);
	t->found = true;
	return 0;
}

/* The profile name of group, or its key when it has none stored. */
static int
group_title(const struct mu_http_req *rq, const uint8_t group[MU_KEY_BYTES],
            struct title *t)
{
	struct mu_addr profile;
	int rc;

	memset(&profile, 0, sizeof(profile));
	memcpy(profile.group, group, MU_KEY_BYTES);
	profile.kind = MU_KIND_PROFILE;
	rc = mu_store_get_addr(rq->node->store, &profile, copy_title, t);
	if (rc == MU_ENOTFOUND) {
		mu_key_to_text(t->text, group);
		rc = 0;
	}
	return rc;
}

static int
feed_next(void *ctx, uint64_t budget_ns, struct mu_buf *out, bool *done)
{
	return mu_cal_stream_next(ctx, FEED_SLICE, budget_ns, out, done, NULL);
}

static void
feed_free(void *ctx)
{
	mu_cal_stream_free(ctx);
}

/* The feed as a stream, read a slice at a time as the client reads it. */
static int
write_feed(const struct mu_http_req *rq, struct mu_http_reply *rp,
           const struct mu_cal_filter *f, const char *name)
{
	struct mu_cal_stream *s;
	int rc;

	if ((rc = mu_cal_stream_open(rq->node->store, f, name, &s)) != 0)
		return rc;
	rp->status = 200;
	rp->type = CAL_TYPE;
	rp->stream = (struct mu_http_stream){feed_next, feed_free, s};
	return 0;
}

/*
 * The feed's ETag, from what it is written from: the store's last sequence
 * number, read before anything else (a record stored meanwhile, by this
 * node or by the CLI, then makes the next ETag differ, never this one
 * name a newer feed), the path (the feed asked for), the server's start
 * (a restored store may reuse a number) and how many pledges' deadlines
 * have passed at now (a pledge that failed changes with the clock alone).
 * Costs two reads, not the feed.
 */
static int
feed_etag(const struct mu_http_req *rq, int64_t now, char etag[MU_HTTP_ETAG_SIZE])
{
	uint32_t path = 2166136261u; /* FNV-1a */
	uint64_t seq, passed;
	const char *p;
	int rc;

	if ((rc = mu_store_log_last(rq->node->store, &seq)) != 0 ||
	    (rc = mu_cal_pledges_passed(rq->node->store, now, &passed)) != 0)
		return rc;
	for (p = rq->path; *p != '\0'; p++)
		path = (path ^ (uint8_t)*p) * 16777619u;
	path = (path ^ (uint32_t)passed) * 16777619u;
	snprintf(etag, MU_HTTP_ETAG_SIZE,
	         "\"%016" PRIx64 "-%08" PRIx32 "-%08" PRIx32 "\"", seq, path, rq->boot);
	return 0;
}

/* One event as a calendar of its own, for "add to my calendar". */
static int
event_feed(const struct mu_http_req *rq, struct mu_http_reply *rp, const char *text)
{
	struct mu_addr addr;
	char d[MU_D_MAX + 1];
	int rc;

	if (mu_http_addr(text, "the event", MU_KIND_EVENT, &addr, d, rp))
		return 0;
	rc = mu_cal_event_ics(rq->node->store, &addr, rq->node->opts.public_url,
	                      &rp->body, NULL);
	if (rc == MU_ENOTFOUND)
		return mu_http_fail(rp, 404, "no event %s is stored here", text);
	if (rc != 0)
		return rc;
	rp->status = 200;
	rp->type = CAL_TYPE;
	return 0;
}

int
mu_http_feed(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	size_t n = strlen(p) - FEED_LEN;
	char part[PART_SIZE], name[NAME_SIZE + 32], d[MU_D_MAX + 1];
	struct mu_cal_filter f;
	struct mu_http_groups g;
	uint8_t key[MU_KEY_BYTES];
	struct mu_addr cause;
	struct title t = {"", false};
	bool known;
	int rc;

	if (mu_http_args_only(rq, rp, (const char *const[]){NULL}))
		return 0;
	/* No ETag: whether a pledge failed changes with the clock alone. */
	if ((rc = mu_http_feed_acts(rq, rp)) != 1)
		return rc;
	mu_cal_filter_all(&f);
	if ((rc = feed_etag(rq, f.now, rp->etag)) != 0)
		return rc;
	f.page_base = rq->node->opts.public_url;
	if (n == 0) {
		if ((rc = group_title(rq, rq->node->home->group, &t)) != 0)
			return rc;
		snprintf(name, sizeof(name), "%s: coalition calendar", t.text);
		return write_feed(rq, rp, &f, name);
	}
	if (strncmp(p, "/groups/", 8) == 0 && n - 8 < sizeof(part)) {
		snprintf(part, sizeof(part), "%.*s", (int)(n - 8), p + 8);
		if (mu_http_key(part, "the group", key, rp))
			return 0;
		if ((rc = mu_http_groups_load(rq, &g)) != 0)
			return rc;
		known = mu_http_group_find(&g, key) != NULL;
		mu_http_groups_free(&g);
		if (!known)
			return mu_http_fail(rp, 404, "the group %s is not known here",
			                    part);
		if ((rc = group_title(rq, key, &t)) != 0)
			return rc;
		f.group = key;
		return write_feed(rq, rp, &f, t.text);
	}
	if (strncmp(p, "/events/", 8) == 0 && n - 8 < sizeof(part)) {
		snprintf(part, sizeof(part), "%.*s", (int)(n - 8), p + 8);
		return event_feed(rq, rp, part);
	}
	if (strncmp(p, "/causes/", 8) == 0 && n - 8 < sizeof(part)) {
		snprintf(part, sizeof(part), "%.*s", (int)(n - 8), p + 8);
		if (mu_http_addr(part, "the cause", MU_KIND_CAUSE, &cause, d, rp))
			return 0;
		rc = mu_store_get_addr(rq->node->store, &cause, copy_title, &t);
		if (rc == MU_ENOTFOUND)
			return mu_http_fail(rp, 404, "no cause %s is stored here",
			                    part);
		if (rc != 0)
			return rc;
		f.cause = &cause;
		return write_feed(rq, rp, &f, t.text);
	}
	return mu_http_fail(rp, 404, "no such feed: %.100s (see /calendar.ics)", p);
}
