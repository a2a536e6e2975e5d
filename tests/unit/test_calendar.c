/*
 * mu_cal_ics() over a real LMDB store: which events each filter lets
 * through (publisher, co-host, cause, time; deleted events and other kinds
 * never), the names it looks up (17 groups, more than the name cache first
 * holds; unknown groups and causes by their text forms), that it appends to
 * what the buffer holds, works on a read-only store and gives the same bytes
 * twice, and read a slice at a time (mu_cal_stream_next()) as well.
 */
#define _XOPEN_SOURCE 700 /* nftw() in store_fixture.h */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ical_lines.h"
#include "node/calendar.h"
#include "protocol/textform.h"
#include "store_fixture.h"

#define START  1900086400LL /* an hour and a day after NOW */
#define NHOSTS MU_LIST_MAX

struct world {
	struct grp hosts[NHOSTS]; /* co-hosts of the big event, with profiles */
	struct grp stranger;      /* a co-host whose profile we never saw */
	const struct mu_record *cause;
	struct mu_addr cause_addr, lost_cause;
};

static void
event(const struct grp *g, const char *d, const char *title, int64_t start,
      const struct grp *const *hosts, size_t nhosts, const struct mu_addr *cause)
{
	struct mu_record r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	r.created_at = NOW - 100;
	r.d = S(d);
	r.c.event.title = S(title);
	r.c.event.start = start;
	r.c.event.status = MU_EVENT_CONFIRMED;
	for (i = 0; i < nhosts; i++)
		memcpy(r.c.event.hosts[i], hosts[i]->pk, MU_KEY_BYTES);
	r.c.event.nhosts = nhosts;
	if (cause != NULL) {
		r.c.event.has_cause = true;
		r.c.event.cause = *cause;
	}
	put1(cur_fx->st, finish(&r, g));
}

/*
 * g[0] publishes "lonely" (co-hosted by a group without profile, for a
 * cause nobody holds) and an hour later "big" (co-hosted by 16 groups, for
 * g[1]'s cause), so that the name cache grows after it holds a cause;
 * g[1] publishes "late" a week later; g[2] published "gone" and
 * deleted it. An alliance record is there too.
 */
static void
build(struct world *w)
{
	const struct grp *hosts[NHOSTS];
	struct fx *fx = cur_fx;
	struct mu_record c;
	char name[32];
	size_t i;

	put1(fx->st, profile(&fx->g[0], "Publisher; \"zero\""));
	put1(fx->st, profile(&fx->g[1], "Cause owner, one"));
	for (i = 0; i < NHOSTS; i++) {
		grp_init(&w->hosts[i]);
		snprintf(name, sizeof(name), "Host %02zu", i);
		put1(fx->st, profile(&w->hosts[i], name));
		hosts[i] = &w->hosts[i];
	}
	grp_init(&w->stranger);
	memset(&c, 0, sizeof(c));
	c.kind = MU_KIND_CAUSE;
	c.created_at = NOW - 800;
	c.d = S("rent");
	c.c.cause.title = S("Fair rent, now");
	c.c.cause.status = MU_CAUSE_ACTIVE;
	w->cause = finish(&c, &fx->g[1]);
	put1(fx->st, w->cause);
	mu_rec_addr(w->cause, &w->cause_addr);
	w->lost_cause = w->cause_addr;
	w->lost_cause.d = S("lost");

	event(&fx->g[0], "big", "Big march", START, hosts, NHOSTS, &w->cause_addr);
	hosts[0] = &w->stranger;
	event(&fx->g[0], "lonely", "Lonely vigil", START - 3600, hosts, 1,
	      &w->lost_cause);
	event(&fx->g[1], "late", "Late meeting", START + 7 * 86400, NULL, 0, NULL);
	event(&fx->g[2], "gone", "Deleted event", START, NULL, 0, NULL);
	put1(fx->st, del_addr(&fx->g[2], MU_KIND_EVENT, "gone", NOW - 50));
	put1(fx->st, alliance(&fx->g[0], &fx->g[1], 0, MU_ALLIANCE_PROPOSED));
}

/* The feed for f, checked line by line, unfolded. */
static char *
feed(const struct mu_cal_filter *f)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_why why = {.text = "stale"};
	char *text;

	if (mu_cal_ics(cur_fx->st, f, "Test", &out, &why) != 0)
		fail_msg("mu_cal_ics: %s", why.text);
	assert_string_equal(why.text, "");
	check_lines(&out);
	text = unfold(&out);
	mu_buf_free(&out);
	return text;
}

/* Which of the events a feed holds, by their UIDs' d, in feed order. */
static void
assert_events(const char *text, const char *want)
{
	char got[128] = "";
	const char *p = text;

	while ((p = strstr(p, "\r\nUID:")) != NULL) {
		p += 6;
		if (got[0] != '\0')
			strcat(got, " ");
		strncat(got, p, strcspn(p, "@"));
	}
	assert_string_equal(got, want);
}

static void
test_filters(void **state)
{
	struct fx *fx = *state;
	struct mu_cal_filter f;
	struct world w;
	char *text;

	build(&w);
	mu_cal_filter_all(&f);
	text = feed(&f);
	assert_events(text, "lonely big late");
	assert_null(strstr(text, "Deleted event"));
	free(text);

	f.group = fx->g[0].pk; /* the publisher */
	text = feed(&f);
	assert_events(text, "lonely big");
	free(text);
	f.group = w.hosts[7].pk; /* a co-host */
	text = feed(&f);
	assert_events(text, "big");
	free(text);
	f.group = fx->g[1].pk; /* owns the cause, publishes "late" only */
	text = feed(&f);
	assert_events(text, "late");
	free(text);
	f.group = fx->g[5].pk;
	text = feed(&f);
	assert_events(text, "");
	assert_non_null(strstr(text, "END:VCALENDAR\r\n"));
	free(text);

	mu_cal_filter_all(&f);
	f.cause = &w.cause_addr;
	text = feed(&f);
	assert_events(text, "big");
	free(text);
	f.cause = &w.lost_cause;
	f.group = w.stranger.pk;
	text = feed(&f);
	assert_events(text, "lonely");
	free(text);

	/* Times: events overlapping [from, to). */
	mu_cal_filter_all(&f);
	f.from = START - 1800;
	f.to = START + 86400;
	text = feed(&f);
	assert_events(text, "big");
	free(text);
	f.from = START + 86400;
	f.to = MU_TIME_MAX + 1;
	text = feed(&f);
	assert_events(text, "late");
	free(text);
}

static void
test_names(void **state)
{
	struct fx *fx = *state;
	char key[MU_KEY_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE], want[1400];
	struct mu_cal_filter f;
	struct world w;
	char *text;
	size_t i, n;

	build(&w);
	mu_cal_filter_all(&f);
	text = feed(&f);
	n = (size_t)snprintf(want, sizeof(want),
	                     "DESCRIPTION:Hosted by: Publisher\\; \"zero\"");
	for (i = 0; i < NHOSTS; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "\\, Host %02zu", i);
	snprintf(want + n, sizeof(want) - n, "\\nCause: Fair rent\\, now\r\n");
	assert_non_null(strstr(text, want));
	assert_non_null(
	    strstr(text, "ORGANIZER;CN=\"Publisher; ^'zero^'\":urn:muster:"));
	assert_non_null(strstr(text, "ORGANIZER;CN=\"Cause owner, one\":urn:muster:"));

	/* No profile: the key. No cause record: its address. */
	mu_key_to_text(key, w.stranger.pk);
	mu_addr_to_text(addr, &w.lost_cause);
	snprintf(want, sizeof(want),
	         "Hosted by: Publisher\\; \"zero\"\\, %s\\nCause: %s\r\n", key, addr);
	assert_non_null(strstr(text, want));
	mu_key_to_text(key, fx->g[0].pk);
	snprintf(want, sizeof(want), "\r\nUID:big@%s\r\n", key);
	assert_non_null(strstr(text, want));
	free(text);
}

static void
test_appends_and_repeats(void **state)
{
	struct fx *fx = *state;
	struct mu_buf a = MU_BUF_INIT, b = MU_BUF_INIT;
	struct mu_store_opts ro = {0, true};
	struct mu_cal_filter f;
	struct mu_why why;
	struct world w;

	build(&w);
	/* The CLI and the HTTP server read a store opened read-only. */
	reopen(fx, &ro);
	mu_cal_filter_all(&f);
	assert_int_equal(mu_buf_append(&a, "prefix", 6), 0);
	assert_int_equal(mu_cal_ics(fx->st, &f, "Test", &a, &why), 0);
	assert_int_equal(mu_cal_ics(fx->st, &f, "Test", &b, &why), 0);
	assert_int_equal(a.len, b.len + 6);
	assert_memory_equal(a.data, "prefix", 6);
	assert_memory_equal(a.data + 6, b.data, b.len);
	assert_memory_equal(b.data, "BEGIN:VCALENDAR\r\n", 17);
	assert_memory_equal(b.data + b.len - 15, "END:VCALENDAR\r\n", 15);
	mu_buf_free(&a);
	mu_buf_free(&b);
}

/* The feed read one event a slice, or cut by a budget of time that every
 * slice finds used up after its first entry, gives the bytes of the feed
 * read at once, for every filter: the HTTP feeds and `event list --ics`
 * agree. */
static void
test_slices(void **state)
{
	struct fx *fx = *state;
	struct mu_cal_filter f[3];
	struct mu_cal_stream *s;
	struct mu_buf whole, sliced;
	struct mu_why why;
	struct world w;
	size_t i, slices, way, max;
	uint64_t budget;
	bool done;

	build(&w);
	for (i = 0; i < 3; i++)
		mu_cal_filter_all(&f[i]);
	f[1].group = fx->g[0].pk;
	f[2].cause = &w.cause_addr;
	for (way = 0; way < 2; way++) {
		max = way == 0 ? 1 : 1000;
		budget = way == 0 ? 0 : 1;
		for (i = 0; i < 3; i++) {
			whole = (struct mu_buf)MU_BUF_INIT;
			sliced = (struct mu_buf)MU_BUF_INIT;
			assert_int_equal(
			    mu_cal_ics(fx->st, &f[i], "Test", &whole, &why), 0);
			assert_int_equal(mu_cal_stream_open(fx->st, &f[i], "Test", &s),
			                 0);
			done = false;
			for (slices = 0; !done && slices < 100; slices++)
				assert_int_equal(mu_cal_stream_next(s, max, budget,
				                                    &sliced, &done,
				                                    &why),
				                 0);
			assert_true(done);
			/* One slice per event kept, and one that finds the end. */
			assert_true(slices >= 2);
			assert_int_equal(
			    mu_cal_stream_next(s, max, budget, &sliced, &done, &why),
			    0);
			assert_true(done);
			mu_cal_stream_free(s);
			assert_int_equal(sliced.len, whole.len);
			assert_memory_equal(sliced.data, whole.data, whole.len);
			mu_buf_free(&whole);
			mu_buf_free(&sliced);
		}
	}
}

/* One event alone (/events/ADDR/calendar.ics): its VEVENT as in the whole
 * feed, a DTEND two hours after a start without end, the URL of its page
 * under page_base; a deleted or unknown event is MU_ENOTFOUND. */
static void
test_one_event(void **state)
{
	struct fx *fx = *state;
	struct mu_cal_filter f;
	struct mu_buf one = MU_BUF_INIT;
	struct mu_why why = {0};
	struct mu_addr addr;
	char key[MU_KEY_TEXT_SIZE], want[256], *text, *all;
	struct world w;

	build(&w);
	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, fx->g[1].pk, MU_KEY_BYTES);
	addr.kind = MU_KIND_EVENT;
	addr.d = S("late");
	assert_int_equal(
	    mu_cal_event_ics(fx->st, &addr, "https://x.example/m", &one, &why), 0);
	check_lines(&one);
	text = unfold(&one);
	assert_events(text, "late");
	assert_non_null(strstr(text, "\r\nX-WR-CALNAME:Late meeting\r\n"));
	assert_non_null(strstr(text, "\r\nDTSTART:20300325T174640Z\r\n"
	                             "DTEND:20300325T194640Z\r\n"));
	mu_key_to_text(key, fx->g[1].pk);
	snprintf(want, sizeof(want),
	         "\r\nURL:https://x.example/m/events/%s/event/late\r\n", key);
	assert_non_null(strstr(text, want));
	/* The whole feed with the same page_base has the same VEVENT. */
	mu_cal_filter_all(&f);
	f.page_base = "https://x.example/m";
	all = feed(&f);
	*strstr(text, "END:VEVENT\r\n") = '\0';
	assert_non_null(strstr(all, strstr(text, "BEGIN:VEVENT\r\n")));
	free(all);
	free(text);
	mu_buf_free(&one);

	addr.d = S("nosuch");
	assert_int_equal(mu_cal_event_ics(fx->st, &addr, NULL, &one, &why),
	                 MU_ENOTFOUND);
	memcpy(addr.group, fx->g[2].pk, MU_KEY_BYTES);
	addr.d = S("gone");
	assert_int_equal(mu_cal_event_ics(fx->st, &addr, NULL, &one, &why),
	                 MU_ENOTFOUND);
	assert_int_equal(one.len, 0);
	mu_buf_free(&one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_appends_and_repeats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
