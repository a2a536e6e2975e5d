/*
 * The lists of node/http on a real store written as streams: the pages of
 * the petitions, the pledges, the causes and the alliances, the petitions
 * and pledges of the calendar and of a group's page, a group's causes, and
 * /api/alliances, a record a slice at the least budget (so that a long
 * list never holds the loop in one turn), the slices making the same body
 * as a slice that takes them all.
 */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "node/http/http.h"
#include "protocol/textform.h"
#include "store_fixture.h"

#define N          5              /* records of the kind listed */
#define AT_ONCE_NS 60000000000ULL /* a budget no slice uses up */

/* A node of fixture group 0 whose home is the fixture's directory. */
struct served {
	struct mu_node node;
	struct mu_home home;
};

static void
serve(struct served *s, struct fx *fx)
{
	memset(s, 0, sizeof(*s));
	s->home.dir = fx->dir;
	memcpy(s->home.group, fx->g[0].pk, MU_KEY_BYTES);
	s->node.home = &s->home;
	s->node.store = fx->st;
	s->node.opts.hops = 1;
}

/* The fixture's record builders, which these tests do not need. */
static void __attribute__((used)) fixture_unused(void)
{
	(void)del_addr;
	(void)reopen;
}

/* How many times needle is in the body from byte from on. */
static size_t
count_from(const struct mu_buf *body, size_t from, const char *needle)
{
	const char *p = (const char *)body->data + from;
	size_t k = 0;

	while ((p = strstr(p, needle)) != NULL) {
		k++;
		p++;
	}
	return k;
}

static size_t
count(const struct mu_buf *body, const char *needle)
{
	return count_from(body, 0, needle);
}

/* Answers path, and writes its stream into body (kept NUL-terminated): at
 * a budget of 0 (one call of its item a slice), or at once. Returns the
 * number of slices; with per_item, each holds one per_item at most. */
static size_t
get(struct served *s, const char *path, enum mu_http_form form, bool at_once,
    const char *per_item, struct mu_buf *body)
{
	struct mu_http_req rq;
	struct mu_http_reply rp;
	size_t slices, before;
	bool done = false;

	memset(&rq, 0, sizeof(rq));
	rq.node = &s->node;
	rq.path = path;
	rq.host = "127.0.0.1:1";
	rq.now = NOW;
	memset(&rp, 0, sizeof(rp));
	rp.status = 200; /* as http.c starts a reply */
	rp.form = form;
	assert_int_equal(
	    form == MU_HTTP_HTML ? mu_http_page(&rq, &rp) : mu_http_api(&rq, &rp), 0);
	assert_non_null(rp.stream.next); /* a stream, not a body made at once */
	assert_int_equal(rp.status, 200);
	assert_int_equal(rp.body.len, 0);
	for (slices = 0; !done && slices < 100; slices++) {
		before = body->len;
		assert_int_equal(rp.stream.next(rp.stream.ctx, at_once ? AT_ONCE_NS : 0,
		                                body, &done),
		                 0);
		assert_int_equal(mu_buf_push(body, '\0'), 0);
		body->len--;
		if (per_item != NULL)
			assert_true(count_from(body, before, per_item) <= 1);
	}
	assert_true(done);
	rp.stream.free(rp.stream.ctx);
	mu_buf_free(&rp.body);
	return slices;
}

/* The body at a slice a record equals the body in one slice; returns the
 * number of slices. */
static size_t
sliced_as_whole(struct served *s, const char *path, enum mu_http_form form,
                const char *per_item, struct mu_buf *body)
{
	struct mu_buf whole = MU_BUF_INIT;
	size_t slices;

	/* Two with a list of events: its first slice is the page's start. */
	assert_true(get(s, path, form, true, NULL, &whole) <= 2);
	slices = get(s, path, form, false, per_item, body);
	assert_int_equal(body->len, whole.len);
	assert_memory_equal(body->data, whole.data, whole.len);
	mu_buf_free(&whole);
	return slices;
}

/* A list page of an empty store: one slice, with the none line and no
 * item. */
static void
empty_page(struct served *s, const char *path, const char *none, const char *item)
{
	struct mu_buf body = MU_BUF_INIT;

	assert_int_equal(get(s, path, MU_HTTP_HTML, false, NULL, &body), 1);
	assert_int_equal(count(&body, none), 1);
	assert_int_equal(count(&body, item), 0);
	mu_buf_free(&body);
}

/* /petitions and /pledges: head and first entry, then an entry a slice,
 * then the end; empty, the "none" line. */
static void
test_acts_pages_sliced(void **state)
{
	static const struct {
		enum mu_kind kind;
		const char *path, *section, *none, *item;
	} v[] = {
	    {MU_KIND_PETITION, "/petitions", "<section class=\"petitions\">",
	     "<p class=\"none\">No petitions.</p>", "<li class=\"petition\">"},
	    {MU_KIND_PLEDGE, "/pledges", "<section class=\"pledges\">",
	     "<p class=\"none\">No pledges.</p>", "<li class=\"pledge\">"},
	};
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;
	size_t i;

	serve(&s, fx);
	assert_int_equal(put1(fx->st, profile(&fx->g[0], "Tenants")), MU_PUT_NEW);
	for (i = 0; i < 2; i++) {
		empty_page(&s, v[i].path, v[i].none, v[i].item);
		put_records(fx, v[i].kind, N, 2);
		assert_int_equal(
		    sliced_as_whole(&s, v[i].path, MU_HTTP_HTML, v[i].item, &body),
		    N + 1);
		assert_int_equal(count(&body, v[i].item), N);
		assert_int_equal(count(&body, v[i].section), 1);
		assert_int_equal(count(&body, "</ul></section>\n"), 1);
		assert_int_equal(count(&body, v[i].none), 0);
		assert_int_equal(count(&body, ">Tenants</a>"), (N + 1) / 2);
		assert_int_equal(count(&body, "</html>"), 1);
		mu_buf_free(&body);
	}
}

#define CAUSE_ITEM "<li><a href=\"/causes/"

/* /causes: a cause a slice, each linked by its escaped title. */
static void
test_causes_page_sliced(void **state)
{
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;

	serve(&s, fx);
	empty_page(&s, "/causes", "<p class=\"none\">No causes.</p>", CAUSE_ITEM);
	put_records(fx, MU_KIND_CAUSE, N, 2);
	assert_int_equal(
	    sliced_as_whole(&s, "/causes", MU_HTTP_HTML, CAUSE_ITEM, &body), N + 1);
	assert_int_equal(count(&body, "<ul class=\"causes\">\n<li>"), 1);
	assert_int_equal(count(&body, ">Rent &lt;cap&gt;</a>"), N);
	assert_int_equal(count(&body, "No causes."), 0);
	mu_buf_free(&body);
}

#define PATH_SIZE (8 + MU_KEY_TEXT_SIZE)

/* The path of g's page. */
static void
group_path(char out[PATH_SIZE], const struct grp *g)
{
	char key[MU_KEY_TEXT_SIZE];

	mu_key_to_text(key, g->pk);
	snprintf(out, PATH_SIZE, "/groups/%s", key);
}

/* A group's page: its causes, before its events, a cause a slice. */
static void
test_group_causes_sliced(void **state)
{
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;
	char path[PATH_SIZE];

	serve(&s, fx);
	group_path(path, &fx->g[0]);
	sliced_as_whole(&s, path, MU_HTTP_HTML, CAUSE_ITEM, &body);
	assert_int_equal(count(&body, "<h2>Causes</h2>\n<p class=\"none\">No "
	                              "causes.</p>\n<h2>Upcoming events</h2>"),
	                 1);
	mu_buf_free(&body);
	put_records(fx, MU_KIND_CAUSE, N, 2);
	sliced_as_whole(&s, path, MU_HTTP_HTML, CAUSE_ITEM, &body);
	assert_int_equal(count(&body, CAUSE_ITEM), (N + 1) / 2);
	assert_int_equal(count(&body, "<h2>Causes</h2>\n<ul class=\"causes\">\n<li>"),
	                 1);
	assert_int_equal(count(&body, "</li>\n</ul>\n<h2>Upcoming events</h2>"), 1);
	mu_buf_free(&body);
}

#define ACT_ITEM "<li class=\"p" /* a petition's or a pledge's */

/* The calendar and a group's page: after their events, the petitions and
 * pledges an entry a slice, in a section each. */
static void
test_calendar_acts_sliced(void **state)
{
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;
	char path[PATH_SIZE];

	serve(&s, fx);
	put_records(fx, MU_KIND_PETITION, N, 2);
	put_records(fx, MU_KIND_PLEDGE, N, 2);
	sliced_as_whole(&s, "/", MU_HTTP_HTML, ACT_ITEM, &body);
	assert_int_equal(count(&body, ACT_ITEM), 2 * N);
	assert_int_equal(count(&body, "<section class=\"petitions\">"), 1);
	assert_int_equal(count(&body, "<section class=\"pledges\">"), 1);
	assert_int_equal(count(&body, "</ul></section>\n"), 2);
	assert_int_equal(count(&body, "</html>"), 1);
	mu_buf_free(&body);
	group_path(path, &fx->g[0]);
	sliced_as_whole(&s, path, MU_HTTP_HTML, ACT_ITEM, &body);
	assert_int_equal(count(&body, ACT_ITEM), 2 * ((N + 1) / 2));
	mu_buf_free(&body);
}

/* Group 0 allied both ways with 1 and 2; 3 proposes to 0; 0 proposes to 4;
 * 5 and 6 end theirs with each other after both proposed. */
static void
put_alliances(struct fx *fx)
{
	static const struct {
		int from, to;
		uint32_t rev;
		enum mu_alliance_status st;
	} v[] = {
	    {0, 1, 0, MU_ALLIANCE_PROPOSED}, {1, 0, 0, MU_ALLIANCE_PROPOSED},
	    {0, 2, 0, MU_ALLIANCE_PROPOSED}, {2, 0, 0, MU_ALLIANCE_PROPOSED},
	    {3, 0, 0, MU_ALLIANCE_PROPOSED}, {0, 4, 0, MU_ALLIANCE_PROPOSED},
	    {5, 6, 0, MU_ALLIANCE_PROPOSED}, {6, 5, 1, MU_ALLIANCE_ENDED},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(
		    put1(fx->st, alliance(&fx->g[v[i].from], &fx->g[v[i].to], v[i].rev,
		                          v[i].st)),
		    MU_PUT_NEW);
}

#define RECORDS       8 /* of put_alliances() */
#define ALLIANCE_ITEM "<li class=\"alliance "
#define PAIRS         5

/* /alliances: the records read a slice each, then a pair a slice. */
static void
test_alliances_page_sliced(void **state)
{
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;

	serve(&s, fx);
	empty_page(&s, "/alliances", "<p class=\"none\">No alliances.</p>",
	           ALLIANCE_ITEM);
	put_alliances(fx);
	/* A slice a record, one that finds the end of the records and hands
	 * out the first pair, one for each other pair, and the end. */
	assert_int_equal(sliced_as_whole(&s, "/alliances", MU_HTTP_HTML,
	                                 "<li class=\"alliance ", &body),
	                 RECORDS + PAIRS + 1);
	assert_int_equal(count(&body, ALLIANCE_ITEM), PAIRS);
	assert_int_equal(count(&body, "<li class=\"alliance mutual\">"), 2);
	assert_int_equal(count(&body, "<li class=\"alliance proposed\">"), 2);
	assert_int_equal(count(&body, "<li class=\"alliance ended\">"), 1);
	assert_int_equal(count(&body, "<ul class=\"alliances\">"), 1);
	assert_int_equal(count(&body, "No alliances."), 0);
	mu_buf_free(&body);
}

/* /api/alliances: the same slices, the pairs in key order with their
 * records. */
static void
test_api_alliances_sliced(void **state)
{
	struct fx *fx = *state;
	struct served s;
	struct mu_buf body = MU_BUF_INIT;
	json_t *doc, *list, *e;
	json_error_t jerr;
	uint8_t a[MU_KEY_BYTES], b[MU_KEY_BYTES], last[2 * MU_KEY_BYTES] = {0};
	size_t i, records = 0;

	serve(&s, fx);
	put_alliances(fx);
	assert_int_equal(
	    sliced_as_whole(&s, "/api/alliances", MU_HTTP_JSON, "{\"groups\"", &body),
	    RECORDS + PAIRS + 1);
	doc = json_loadb((const char *)body.data, body.len, 0, &jerr);
	assert_non_null(doc);
	assert_non_null(json_string_value(json_object_get(doc, "us")));
	list = json_object_get(doc, "alliances");
	assert_int_equal(json_array_size(list), PAIRS);
	json_array_foreach(list, i, e)
	{
		assert_int_equal(mu_key_from_text(a,
		                                  json_string_value(json_array_get(
		                                      json_object_get(e, "groups"), 0)),
		                                  NULL),
		                 0);
		assert_int_equal(mu_key_from_text(b,
		                                  json_string_value(json_array_get(
		                                      json_object_get(e, "groups"), 1)),
		                                  NULL),
		                 0);
		assert_true(memcmp(a, b, MU_KEY_BYTES) < 0);
		/* In key order: (a, b) after the last pair. */
		assert_true(memcmp(last, a, MU_KEY_BYTES) < 0 ||
		            (memcmp(last, a, MU_KEY_BYTES) == 0 &&
		             memcmp(last + MU_KEY_BYTES, b, MU_KEY_BYTES) < 0));
		memcpy(last, a, MU_KEY_BYTES);
		memcpy(last + MU_KEY_BYTES, b, MU_KEY_BYTES);
		records += json_array_size(json_object_get(e, "records"));
	}
	assert_int_equal(records, RECORDS);
	json_decref(doc);
	mu_buf_free(&body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_acts_pages_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_causes_page_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_causes_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_calendar_acts_sliced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alliances_page_sliced, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_api_alliances_sliced, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
