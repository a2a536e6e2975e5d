/*
 * The pieces of the HTTP server that decide what reaches a client
 * (node/http/http_html.c, node/http/http_reply.c): HTML escaping of hostile text,
 * which URLs become links, the time and argument parsing of /api/events,
 * and error bodies in the form the client reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/http/http.h"

static char *
text_of(struct mu_buf *b)
{
	static char out[4096];

	assert_true(b->len < sizeof(out));
	memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	mu_buf_free(b);
	return out;
}

static void
test_escape(void **state)
{
	struct mu_buf b = MU_BUF_INIT;
	const char *hostile = "<script>alert('x')</script> & \"q\"";

	(void)state;
	assert_int_equal(mu_html_str(&b, hostile), 0);
	assert_string_equal(text_of(&b), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script"
	                                 "&gt; &amp; &quot;q&quot;");
	/* Bytes other than the five pass as they are: UTF-8 stays whole. */
	assert_int_equal(mu_html_str(&b, "Tenants’ ✊🏽 a=b;c"), 0);
	assert_string_equal(text_of(&b), "Tenants’ ✊🏽 a=b;c");
	assert_int_equal(mu_html_text(&b, "ab<", 2), 0);
	assert_string_equal(text_of(&b), "ab");
}

static struct mu_str
str(const char *s)
{
	struct mu_str v = {s, strlen(s)};

	return v;
}

static void
test_links(void **state)
{
	struct mu_buf b = MU_BUF_INIT;

	(void)state;
	assert_int_equal(
	    mu_html_link(&b, str("https://ex.org/a?b=1&c=\"2\""), str("<x>")), 0);
	assert_string_equal(text_of(&b),
	                    "<a href=\"https://ex.org/a?b=1&amp;c=&quot;2&quot;\" "
	                    "rel=\"nofollow noopener noreferrer\">&lt;x&gt;</a>");
	/* Any other scheme, or a URL with a space, is text only. */
	const char *bad[] = {"javascript:alert(1)", "JAVASCRIPT:x",
	                     "data:text/html,<b>",  "http://",
	                     "http://a b",          "//evil.example/",
	                     "webcal://x",          " https://x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mu_html_link(&b, str(bad[i]), str(bad[i])), 0);
		assert_null(strstr(text_of(&b), "href"));
	}
	assert_int_equal(mu_html_link(&b, str("javascript:x"), str("")), 0);
	assert_string_equal(text_of(&b), "javascript:x");
}

static int64_t
time_ok(const char *s)
{
	struct mu_http_reply rp = {.status = 200, .form = MU_HTTP_JSON};
	int64_t t = -1;

	if (mu_http_time(s, "from", &t, &rp) != 0)
		fail_msg("'%s' refused: %.*s", s, (int)rp.body.len,
		         (char *)rp.body.data);
	mu_buf_free(&rp.body);
	return t;
}

static void
test_times(void **state)
{
	static const char *const bad[] = {"",
	                                  "2026",
	                                  "2026-1-05",
	                                  "2026-13-01",
	                                  "2026-02-29",
	                                  "2024-02-30",
	                                  "2026-04-31",
	                                  "1969-12-31",
	                                  "2026-12-05T18:00",
	                                  "2026-12-05T24:00Z",
	                                  "2026-12-05T18:60Z",
	                                  "2026-12-05T18:00:60Z",
	                                  "2026-12-05 18:00Z",
	                                  "2026-12-05T18:00+01:00",
	                                  "2026-12-05T18Z",
	                                  "x026-12-05",
	                                  "2026-12-05Z",
	                                  "2026-12-05T18:00:00.5Z"};
	struct mu_http_reply rp = {.status = 200, .form = MU_HTTP_JSON};
	int64_t t;

	(void)state;
	assert_int_equal(time_ok("1970-01-01"), 0);
	assert_int_equal(time_ok("2026-12-05"), 1796428800LL);
	assert_int_equal(time_ok("2026-12-05T18:00Z"), 1796428800LL + 18 * 3600);
	assert_int_equal(time_ok("2026-12-05T18:00:59Z"),
	                 1796428800LL + 18 * 3600 + 59);
	assert_int_equal(time_ok("2024-02-29"), 1709164800LL);
	assert_int_equal(time_ok("9999-12-31T23:59:59Z"), MU_TIME_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mu_http_time(bad[i], "from", &t, &rp) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(rp.status, 400);
		assert_non_null(strstr(text_of(&rp.body), "\"error\""));
		rp.status = 200;
	}
}

static void
test_error_forms(void **state)
{
	struct mu_http_reply rp = {.status = 200, .form = MU_HTTP_JSON};

	(void)state;
	assert_int_equal(mu_http_fail(&rp, 404, "no <event> \"%s\"", "x"), 0);
	assert_int_equal(rp.status, 404);
	assert_string_equal(text_of(&rp.body),
	                    "{\"error\":\"no <event> \\\"x\\\"\"}\n");
	rp.form = MU_HTTP_HTML;
	assert_int_equal(mu_http_fail(&rp, 400, "bad <b>%s</b>", "'"), 0);
	assert_int_equal(rp.status, 400);
	{
		const char *page = text_of(&rp.body);

		assert_non_null(
		    strstr(page, "<h1>400 bad &lt;b&gt;&#39;&lt;/b&gt;</h1>"));
		assert_null(strstr(page, "<b>"));
	}
	rp.form = MU_HTTP_ICS;
	assert_int_equal(mu_http_fail(&rp, 404, "no feed"), 0);
	assert_string_equal(text_of(&rp.body), "no feed\n");
}

static void
test_args(void **state)
{
	static const char *const names[] = {"from", "to", NULL};
	struct mu_http_reply rp = {.status = 200, .form = MU_HTTP_JSON};
	struct mu_http_req rq;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	rq.args[0] = (struct mu_http_arg){"from", "2026-01-01"};
	rq.args[1] = (struct mu_http_arg){"to", ""};
	rq.nargs = 2;
	assert_int_equal(mu_http_args_only(&rq, &rp, names), 0);
	assert_string_equal(mu_http_arg(&rq, "from"), "2026-01-01");
	assert_string_equal(mu_http_arg(&rq, "to"), "");
	assert_null(mu_http_arg(&rq, "group"));
	rq.args[2] = (struct mu_http_arg){"from", "2027-01-01"};
	rq.nargs = 3;
	assert_int_equal(mu_http_args_only(&rq, &rp, names), 1);
	assert_non_null(strstr(text_of(&rp.body), "twice"));
	rq.args[2] = (struct mu_http_arg){"group", "x"};
	assert_int_equal(mu_http_args_only(&rq, &rp, names), 1);
	assert_non_null(strstr(text_of(&rp.body), "'group'"));
}

/* Items of a stream: every other call finds none (1), as a scan that used
 * its time does. */
struct items {
	size_t calls, made, n;
};

static json_t *
item_json(size_t i)
{
	return json_pack("{s:i, s:s, s:n}", "i", (int)i, "s", "a \"quoted\" caf\u00e9",
	                 "z");
}

static int
next_item(void *ctx, json_t **v)
{
	struct items *it = ctx;

	if (it->calls++ % 2 == 1)
		return 1;
	if (it->made == it->n)
		return 0;
	*v = item_json(it->made++);
	return 0;
}

static int
items_tail(void *ctx, struct mu_buf *out)
{
	(void)ctx;
	return mu_buf_append(out, "],\"truncated\":false}", 20);
}

static void
free_nothing(void *ctx)
{
	(void)ctx;
}

/* A JSON body written as a stream, one call of item a slice (a budget of
 * 0), is byte for byte what mu_http_json() writes for the whole, with
 * members before and after the list, empty lists included. */
static void
test_json_stream(void **state)
{
	struct mu_http_reply whole, rp;
	struct mu_http_json_stream js;
	struct items it;
	struct mu_buf sliced;
	json_t *arr;
	size_t n, i, slices;
	bool done;

	(void)state;
	for (n = 0; n < 6; n += 5) {
		memset(&whole, 0, sizeof(whole));
		memset(&rp, 0, sizeof(rp));
		memset(&it, 0, sizeof(it));
		it.n = n;
		sliced = (struct mu_buf)MU_BUF_INIT;
		arr = json_array();
		for (i = 0; i < n; i++)
			assert_int_equal(json_array_append_new(arr, item_json(i)), 0);
		assert_int_equal(
		    mu_http_json(&whole, json_pack("{s:s, s:o, s:b}", "from", "x",
		                                   "events", arr, "truncated", 0)),
		    0);
		js = (struct mu_http_json_stream){
		    mu_http_json_open(json_pack("{s:s}", "from", "x"), ",\"events\":["),
		    next_item, items_tail, free_nothing, &it};
		assert_int_equal(mu_http_json_stream(&rp, &js), 0);
		assert_int_equal(rp.status, 200);
		assert_non_null(rp.stream.next);
		done = false;
		for (slices = 0; !done && slices < 40; slices++)
			assert_int_equal(
			    rp.stream.next(rp.stream.ctx, 0, &sliced, &done), 0);
		assert_true(done);
		/* One call a slice: n items, as many calls finding none, the end. */
		assert_int_equal(slices, 2 * n + 1);
		rp.stream.free(rp.stream.ctx);
		assert_int_equal(sliced.len, whole.body.len);
		assert_memory_equal(sliced.data, whole.body.data, whole.body.len);
		mu_buf_free(&sliced);
		mu_buf_free(&whole.body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape), cmocka_unit_test(test_links),
	    cmocka_unit_test(test_times),  cmocka_unit_test(test_error_forms),
	    cmocka_unit_test(test_args),   cmocka_unit_test(test_json_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
