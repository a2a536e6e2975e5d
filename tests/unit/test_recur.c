/*
 * event.repeat: its rules (mu_recur_check(), and through mu_rec_build() the
 * kind table's entry) and its expansion (mu_recur_expand()) across DST
 * changes, skipped and cancelled dates, monthly on the 31st, count and until.
 *
 * The zone is Central European time written out here (EU rules since 1996:
 * +1, +2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
 * Sunday of October), so that the expected instants are worked out by hand,
 * not by the zone code under test elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "node/zone.h"
#include "protocol/civil.h"
#include "protocol/recur.h"
#include "rec_util.h"

#define DAY  86400
#define HOUR 3600

static int64_t
last_sunday(int64_t y, unsigned m)
{
	int64_t d = mu_civil_days(y, m, 31);

	return d - (mu_recur_weekday(d) + 1) % 7;
}

static int
cet_offset(int64_t t)
{
	struct mu_civil c;
	int64_t on, off;

	mu_civil_from_time(&c, t);
	on = last_sunday(c.y, 3) * DAY + HOUR;
	off = last_sunday(c.y, 10) * DAY + HOUR;
	return t >= on && t < off ? 2 * HOUR : HOUR;
}

static int
cet_to_local(void *ctx, int64_t t, int64_t *days, int32_t *secs)
{
	int64_t l = t + cet_offset(t);

	(void)ctx;
	*days = l / DAY;
	*secs = (int32_t)(l % DAY);
	return 0;
}

/* The offset before a change first: a skipped time moves forward, a time
 * shown twice is the first of the two. */
static int
cet_to_utc(void *ctx, int64_t days, int32_t secs, int64_t *t)
{
	int64_t l = days * DAY + secs, a = l - 2 * HOUR, b = l - HOUR;

	(void)ctx;
	/* a (summer) is the earlier of two; in the gap neither holds and the
	 * winter offset that held before it reads the time. */
	*t = cet_offset(a) == 2 * HOUR ? a : b;
	return 0;
}

static const struct mu_recur_zone cet = {cet_to_utc, cet_to_local, NULL};

struct got {
	int64_t start[500], end[500], date[500];
	bool cancelled[500];
	size_t n;
};

static int
collect(void *ctx, const struct mu_recur_occ *o)
{
	struct got *g = ctx;

	assert_true(g->n < 500);
	g->start[g->n] = o->start;
	g->end[g->n] = o->end;
	g->date[g->n] = o->date;
	g->cancelled[g->n] = o->cancelled;
	g->n++;
	return 0;
}

static int64_t
D(const char *s)
{
	int64_t d = 0;

	assert_true(mu_recur_date_parse(s, strlen(s), &d));
	return d;
}

/* Unix time of a UTC date and time. */
static int64_t
U(const char *date, int h, int mi)
{
	return D(date) * DAY + h * HOUR + mi * 60;
}

static void
base_event(struct mu_event *e, int64_t start)
{
	memset(e, 0, sizeof(*e));
	e->title = S("Food distribution");
	e->start = start;
	e->has_end = true;
	e->end = start + 2 * HOUR;
	e->tz = S("Europe/Berlin");
	e->status = MU_EVENT_CONFIRMED;
	e->repeat.set = true;
}

static void
expand_all(const struct mu_event *e, const struct mu_recur_zone *z, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(mu_recur_expand(e, z, 0, MU_TIME_MAX, collect, g), 0);
}

/* Weekly on Tuesday 18:00 Berlin across the change of 2027-03-28: 17:00
 * UTC before, 16:00 UTC after; a skipped Tuesday left out, a cancelled one
 * marked. */
static void
test_weekly_dst(void **state)
{
	static struct mu_str skip[] = {{"2027-03-23", 10}};
	static struct mu_str cancelled[] = {{"2027-04-06", 10}};
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-03-09", 17, 0));
	e.repeat.freq = MU_REPEAT_WEEKLY;
	e.repeat.until = S("2027-04-13");
	memcpy(e.repeat.skip, skip, sizeof(skip));
	e.repeat.nskip = 1;
	memcpy(e.repeat.cancelled, cancelled, sizeof(cancelled));
	e.repeat.ncancelled = 1;
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.start[0], U("2027-03-09", 17, 0));
	assert_int_equal(g.start[1], U("2027-03-16", 17, 0));
	assert_int_equal(g.start[2], U("2027-03-30", 16, 0));
	assert_int_equal(g.start[3], U("2027-04-06", 16, 0));
	assert_int_equal(g.start[4], U("2027-04-13", 16, 0));
	assert_int_equal(g.end[2] - g.start[2], 2 * HOUR);
	assert_int_equal(g.date[2], D("2027-03-30"));
	assert_false(g.cancelled[2]);
	assert_true(g.cancelled[3]);

	/* In UTC the same rule keeps 17:00 UTC. */
	expand_all(&e, NULL, &g);
	assert_int_equal(g.start[2], U("2027-03-30", 17, 0));
}

/* Weekly on tue,thu every 2 weeks, by count: a start on a Wednesday gives
 * that week's Thursday first; skipped dates still count. */
static void
test_weekly_byday_count(void **state)
{
	static struct mu_str byday[] = {{"tu", 2}, {"th", 2}};
	static struct mu_str skip[] = {{"2027-01-19", 10}};
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-01-06", 17, 0)); /* Wednesday */
	e.repeat.freq = MU_REPEAT_WEEKLY;
	e.repeat.has_interval = true;
	e.repeat.interval = 2;
	memcpy(e.repeat.byday, byday, sizeof(byday));
	e.repeat.nbyday = 2;
	e.repeat.has_count = true;
	e.repeat.count = 4;
	memcpy(e.repeat.skip, skip, sizeof(skip));
	e.repeat.nskip = 1;
	expand_all(&e, &cet, &g);
	/* Thu 7, Tue 19 (skipped), Thu 21, Tue Feb 2. */
	assert_int_equal(g.n, 3);
	assert_int_equal(g.date[0], D("2027-01-07"));
	assert_int_equal(g.date[1], D("2027-01-21"));
	assert_int_equal(g.date[2], D("2027-02-02"));
}

/* Monthly on the 31st: months without one have no occurrence, and do not
 * count. */
static void
test_monthly_31st(void **state)
{
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-01-31", 9, 0));
	e.repeat.freq = MU_REPEAT_MONTHLY;
	e.repeat.has_count = true;
	e.repeat.count = 4;
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.date[0], D("2027-01-31"));
	assert_int_equal(g.date[1], D("2027-03-31"));
	assert_int_equal(g.date[2], D("2027-05-31"));
	assert_int_equal(g.date[3], D("2027-07-31"));
	/* 10:00 in Berlin: 09:00 UTC in winter, 08:00 in summer. */
	assert_int_equal(g.start[1], U("2027-03-31", 8, 0));
	assert_int_equal(g.start[3], U("2027-07-31", 8, 0));

	e.repeat.has_count = false;
	e.repeat.until = S("2027-12-31");
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, 7); /* Jan Mar May Jul Aug Oct Dec */
	assert_int_equal(g.date[6], D("2027-12-31"));
}

/* Daily every 3 days until a date, and the window: only occurrences that
 * overlap [from, to), and the one running at from. */
static void
test_daily_until_window(void **state)
{
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-06-01", 8, 0));
	e.repeat.freq = MU_REPEAT_DAILY;
	e.repeat.has_interval = true;
	e.repeat.interval = 3;
	e.repeat.until = S("2027-06-30");
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, 10); /* 1, 4, ... 28 */
	assert_int_equal(g.date[9], D("2027-06-28"));

	memset(&g, 0, sizeof(g));
	assert_int_equal(mu_recur_expand(&e, &cet, U("2027-06-07", 9, 0),
	                                 U("2027-06-13", 8, 0), collect, &g),
	                 0);
	assert_int_equal(g.n, 2); /* the 7th (running at from) and the 10th */
	assert_int_equal(g.date[0], D("2027-06-07"));
	assert_int_equal(g.date[1], D("2027-06-10"));
}

/* A wall-clock time that the spring change skips moves forward an hour. */
static void
test_daily_gap(void **state)
{
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-03-27", 1, 30)); /* 02:30 +1 */
	e.repeat.freq = MU_REPEAT_DAILY;
	e.repeat.has_count = true;
	e.repeat.count = 3;
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, 3);
	/* 28th: 02:30 does not exist; read with +1 it is 01:30 UTC (03:30). */
	assert_int_equal(g.start[1], U("2027-03-28", 1, 30));
	assert_int_equal(g.start[2], U("2027-03-29", 0, 30));
}

/* The limits: no end, both ends, past the span, bad dates and days. */
static void
test_check(void **state)
{
	static struct mu_str bad_days[] = {{"th", 2}, {"tu", 2}};
	static struct mu_str bad_dates[] = {{"2027-02-30", 10}};
	static struct mu_str unsorted[] = {{"2027-03-02", 10}, {"2027-03-01", 10}};
	struct mu_why why = {0};
	struct mu_event e;

	(void)state;
	base_event(&e, U("2027-01-05", 17, 0));
	e.repeat.freq = MU_REPEAT_WEEKLY;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-bound");
	e.repeat.until = S("2027-06-30");
	e.repeat.has_count = true;
	e.repeat.count = 3;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-bound");
	e.repeat.has_count = false;
	assert_int_equal(mu_recur_check(&e, &why), 0);
	e.repeat.until = S("2028-01-06");
	assert_int_equal(mu_recur_check(&e, &why), 0);
	e.repeat.until = S("2028-01-07");
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-span");
	e.repeat.until = S("2027-01-03");
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-span");
	e.repeat.until = S("2027-1-30");
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-date");
	e.repeat.until = S("2027-06-30");
	memcpy(e.repeat.byday, bad_days, sizeof(bad_days));
	e.repeat.nbyday = 2;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-byday");
	e.repeat.nbyday = 1;
	e.repeat.freq = MU_REPEAT_DAILY;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-byday");
	e.repeat.nbyday = 0;
	memcpy(e.repeat.skip, bad_dates, sizeof(bad_dates));
	e.repeat.nskip = 1;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-date");
	memcpy(e.repeat.cancelled, unsorted, sizeof(unsorted));
	e.repeat.nskip = 0;
	e.repeat.ncancelled = 2;
	assert_rule(mu_recur_check(&e, &why), MU_ERECORD, &why, "repeat-date");
}

/* The table entry: a record with repeat is built, parsed back the same,
 * and one without an end, or with a count over the most, is refused. */
static void
test_record(void **state)
{
	static struct mu_str skip[] = {{"2027-01-12", 10}};
	struct mu_record rec, back;
	struct mu_why why = {0};
	struct key k;
	uint8_t *out = NULL;
	size_t len;

	(void)state;
	key_from_byte(&k, 7);
	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_EVENT;
	memcpy(rec.group, k.pk, MU_KEY_BYTES);
	memcpy(rec.signer, k.pk, MU_KEY_BYTES);
	rec.created_at = T0;
	rec.d = S("food");
	rec.rev = 1;
	base_event(&rec.c.event, U("2027-01-05", 17, 0));
	rec.c.event.repeat.freq = MU_REPEAT_WEEKLY;
	rec.c.event.repeat.until = S("2027-06-29");
	memcpy(rec.c.event.repeat.skip, skip, sizeof(skip));
	rec.c.event.repeat.nskip = 1;
	assert_int_equal(mu_rec_build(&rec, k.sk, T0, &out, &len, NULL, &why), 0);
	assert_int_equal(mu_rec_parse(&back, out, len, T0, 0, &why), 0);
	assert_true(back.c.event.repeat.set);
	assert_int_equal(back.c.event.repeat.freq, MU_REPEAT_WEEKLY);
	assert_int_equal(back.c.event.repeat.nskip, 1);
	assert_memory_equal(back.c.event.repeat.until.ptr, "2027-06-29", 10);
	free(out);

	rec.c.event.repeat.until = S("");
	assert_rule(mu_rec_build(&rec, k.sk, T0, &out, &len, NULL, &why), MU_ERECORD,
	            &why, "repeat-bound");
	rec.c.event.repeat.has_count = true;
	rec.c.event.repeat.count = MU_REPEAT_COUNT_MAX + 1;
	assert_rule(mu_rec_build(&rec, k.sk, T0, &out, &len, NULL, &why), MU_ERECORD,
	            &why, "repeat-range");
}

/* The zone database through node/zone.c finds the same instants as the
 * rules written out here, over a year of daily 02:30s (both changes, the
 * gap) and weekly 18:00s; and TZ is put back after. */
static void
test_tzdata_agrees(void **state)
{
	struct mu_event e;
	struct got *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	size_t i;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	setenv("TZ", "UTC0", 1);
	base_event(&e, U("2027-01-01", 1, 30));
	e.repeat.freq = MU_REPEAT_DAILY;
	e.repeat.until = S("2027-12-31");
	expand_all(&e, &cet, a);
	memset(b, 0, sizeof(*b));
	assert_int_equal(mu_node_zone_expand(&e, 0, MU_TIME_MAX, collect, b), 0);
	assert_int_equal(a->n, 365);
	assert_int_equal(b->n, a->n);
	for (i = 0; i < a->n; i++)
		assert_int_equal(a->start[i], b->start[i]);
	assert_string_equal(getenv("TZ"), "UTC0");
	free(a);
	free(b);
}

/* The caps: a daily series of the most count stops 366 days on. */
static void
test_caps(void **state)
{
	struct mu_event e;
	struct got g;

	(void)state;
	base_event(&e, U("2027-01-01", 8, 0));
	e.repeat.freq = MU_REPEAT_DAILY;
	e.repeat.has_count = true;
	e.repeat.count = MU_REPEAT_COUNT_MAX;
	expand_all(&e, &cet, &g);
	assert_int_equal(g.n, MU_REPEAT_SPAN_DAYS + 1);
	assert_int_equal(g.date[g.n - 1], D("2027-01-01") + MU_REPEAT_SPAN_DAYS);
	assert_true(mu_recur_end_bound(&e) >= g.end[g.n - 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_weekly_dst),
	    cmocka_unit_test(test_weekly_byday_count),
	    cmocka_unit_test(test_monthly_31st),
	    cmocka_unit_test(test_daily_until_window),
	    cmocka_unit_test(test_daily_gap),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_tzdata_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
