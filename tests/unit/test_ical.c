/*
 * The iCalendar writer at the byte level: CRLF after every line and nowhere
 * else, no physical line over 75 octets, folds that never split a UTF-8
 * character or an escape, TEXT escaping, parameter quoting, UTC DATE-TIME
 * and DATE values, and the calendar arithmetic under them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/civil.h"
#include "protocol/error.h"
#include "protocol/ical.h"
#include "protocol/record.h"
#include "protocol/utf8.h"

#include "ical_lines.h"

/* Writes one TEXT property and checks its lines and its unfolded form. */
static void
assert_text_prop(const char *name, const char *value, size_t len, const char *want)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_ical w;
	char *logical;

	mu_ical_init(&w, &out);
	assert_int_equal(mu_ical_prop_text(&w, name, value, len), 0);
	assert_int_equal(mu_ical_finish(&w), 0);
	check_lines(&out);
	logical = unfold(&out);
	assert_string_equal(logical, want);
	free(logical);
	mu_buf_free(&out);
}

static void
test_text_escaping(void **state)
{
	static const char in[] = "a\\b;c,d\ne\r\nf\rg\th\x01i\x7fj:\"k";

	(void)state;
	assert_text_prop("SUMMARY", in, sizeof(in) - 1,
	                 "SUMMARY:a\\\\b\\;c\\,d\\ne\\nf\\ng\thij:\"k\r\n");
	assert_text_prop("SUMMARY", "", 0, "SUMMARY:\r\n");
	assert_text_prop("DESCRIPTION", "\n\n", 2, "DESCRIPTION:\\n\\n\r\n");
	/* A trailing lone CR is a line break too. */
	assert_text_prop("X", "a\r", 2, "X:a\\n\r\n");
}

static void
test_fold_lengths(void **state)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_ical w;
	char value[600], *logical;
	size_t n;

	(void)state;
	memset(value, 'x', sizeof(value));
	/* "SUMMARY:" is 8 octets: 67 more fill the first line exactly. */
	mu_ical_init(&w, &out);
	mu_ical_prop_text(&w, "SUMMARY", value, 67);
	assert_int_equal(check_lines(&out), 1);
	assert_int_equal(out.len, 75 + 2);
	out.len = 0;
	mu_ical_prop_text(&w, "SUMMARY", value, 68);
	assert_int_equal(check_lines(&out), 2);
	assert_memory_equal(out.data + 75, "\r\n x\r\n", 6);
	out.len = 0;
	/* 8 + 600 octets: 75 on the first line, then 1 + 74 on each other. */
	mu_ical_prop_text(&w, "SUMMARY", value, sizeof(value));
	n = check_lines(&out);
	assert_int_equal(n, 1 + (608 - 75 + 73) / 74);
	logical = unfold(&out);
	assert_int_equal(strlen(logical), 608 + 2);
	free(logical);
	assert_int_equal(mu_ical_finish(&w), 0);
	mu_buf_free(&out);
}

/* Every alignment of 2-, 3- and 4-byte characters against the fold. */
static void
test_fold_utf8(void **state)
{
	static const char *const chars[] = {"\xc3\xb6", "\xe2\x82\xac",
	                                    "\xf0\x9f\x8c\x8d"};
	char value[400], want[500];
	size_t c, pad, len, n;

	(void)state;
	for (c = 0; c < 3; c++) {
		for (pad = 0; pad < 5; pad++) {
			len = 0;
			memset(value, 'a', pad);
			len = pad;
			while (len + 4 < 300) {
				n = strlen(chars[c]);
				memcpy(value + len, chars[c], n);
				len += n;
			}
			snprintf(want, sizeof(want), "SUMMARY:%.*s\r\n", (int)len,
			         value);
			assert_text_prop("SUMMARY", value, len, want);
		}
	}
}

/* Escapes at every alignment: a fold never separates '\' from its char. */
static void
test_fold_escapes(void **state)
{
	char value[200], want[600];
	size_t pad, i, k;

	(void)state;
	for (pad = 0; pad < 3; pad++) {
		memset(value, 'b', pad);
		for (i = pad; i < sizeof(value); i++)
			value[i] = ",;\\\n"[i % 4];
		k = (size_t)snprintf(want, sizeof(want), "D:%.*s", (int)pad, value);
		for (i = pad; i < sizeof(value); i++) {
			want[k++] = '\\';
			want[k++] = value[i] == '\n' ? 'n' : value[i];
		}
		memcpy(want + k, "\r\n", 3);
		assert_text_prop("D", value, sizeof(value), want);
	}
}

static void
assert_param(const char *value, const char *want)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_ical w;

	mu_ical_init(&w, &out);
	mu_ical_begin(&w, "ORGANIZER");
	mu_ical_param(&w, "CN", value, strlen(value));
	mu_ical_raw(&w, "urn:x", 5);
	assert_int_equal(mu_ical_end(&w), 0);
	assert_int_equal(mu_ical_finish(&w), 0);
	check_lines(&out);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	mu_buf_free(&out);
}

static void
test_params(void **state)
{
	(void)state;
	assert_param("Plain name", "ORGANIZER;CN=Plain name:urn:x\r\n");
	assert_param("K\xc3\xb6ln", "ORGANIZER;CN=K\xc3\xb6ln:urn:x\r\n");
	assert_param("a;b", "ORGANIZER;CN=\"a;b\":urn:x\r\n");
	assert_param("a:b", "ORGANIZER;CN=\"a:b\":urn:x\r\n");
	assert_param("a,b", "ORGANIZER;CN=\"a,b\":urn:x\r\n");
	/* RFC 6868: DQUOTE, caret and line feed cannot appear as they are. */
	assert_param("say \"hi\"", "ORGANIZER;CN=say ^'hi^':urn:x\r\n");
	assert_param("a^b\nc\x01", "ORGANIZER;CN=a^^b^nc:urn:x\r\n");
	assert_param("", "ORGANIZER;CN=:urn:x\r\n");
}

static void
assert_time(int64_t t, const char *utc, const char *date)
{
	struct mu_buf out = MU_BUF_INIT;
	char want[64];
	struct mu_ical w;

	mu_ical_init(&w, &out);
	mu_ical_prop_utc(&w, "DTSTAMP", t);
	mu_ical_begin(&w, "DTSTART");
	mu_ical_param(&w, "VALUE", "DATE", 4);
	mu_ical_date(&w, t);
	mu_ical_end(&w);
	assert_int_equal(mu_ical_finish(&w), 0);
	snprintf(want, sizeof(want), "DTSTAMP:%s\r\nDTSTART;VALUE=DATE:%s\r\n", utc,
	         date);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	mu_buf_free(&out);
}

static void
test_dates(void **state)
{
	(void)state;
	assert_time(0, "19700101T000000Z", "19700101");
	assert_time(1774015200, "20260320T140000Z", "20260320");
	assert_time(951782400, "20000229T000000Z", "20000229");
	assert_time(1709164800 + 86399, "20240229T235959Z", "20240229");
	assert_time(MU_TIME_MAX, "99991231T235959Z", "99991231");
	assert_time(-1, "19691231T235959Z", "19691231");
}

/* days -> date -> days is the identity, and dates advance one by one. */
static void
test_civil(void **state)
{
	int64_t z, y, py = 1969;
	unsigned m, d, pm = 12, pd = 31;

	(void)state;
	for (z = 0; z <= 2932896; z++) { /* 1970-01-01 .. 9999-12-31 */
		mu_civil_date(z, &y, &m, &d);
		if (mu_civil_days(y, m, d) != z)
			fail_msg("day %lld round-trips wrong", (long long)z);
		if (!(d == pd + 1 && m == pm && y == py) &&
		    !(d == 1 && ((m == pm + 1 && y == py) ||
		                 (m == 1 && pm == 12 && y == py + 1))))
			fail_msg("day %lld: %lld-%u-%u does not follow %lld-%u-%u",
			         (long long)z, (long long)y, m, d, (long long)py, pm,
			         pd);
		py = y;
		pm = m;
		pd = d;
	}
	assert_int_equal(y, 9999);
	assert_int_equal(mu_civil_days(2000, 3, 1) - mu_civil_days(2000, 2, 28), 2);
	assert_int_equal(mu_civil_days(1900, 3, 1) - mu_civil_days(1900, 2, 28), 1);
}

/* A whole component, byte for byte, with the one-call helpers. */
static void
test_component(void **state)
{
	static const char want[] = "BEGIN:VEVENT\r\n"
	                           "UID:abc@example\r\n"
	                           "SEQUENCE:3\r\n"
	                           "CATEGORIES:a\\,b,c\r\n"
	                           "GEO:50.9413000;-6.9583000\r\n"
	                           "END:VEVENT\r\n";
	struct mu_buf out = MU_BUF_INIT;
	struct mu_ical w;

	(void)state;
	mu_ical_init(&w, &out);
	mu_ical_prop_raw(&w, "BEGIN", "VEVENT");
	mu_ical_prop_raw(&w, "UID", "abc@example");
	mu_ical_prop_raw(&w, "SEQUENCE", "3");
	mu_ical_begin(&w, "CATEGORIES");
	mu_ical_text(&w, "a,b", 3);
	mu_ical_raw(&w, ",", 1);
	mu_ical_text(&w, "c", 1);
	mu_ical_end(&w);
	mu_ical_prop_raw(&w, "GEO", "50.9413000;-6.9583000");
	mu_ical_prop_raw(&w, "END", "VEVENT");
	assert_int_equal(mu_ical_finish(&w), 0);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	mu_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_escaping), cmocka_unit_test(test_fold_lengths),
	    cmocka_unit_test(test_fold_utf8),     cmocka_unit_test(test_fold_escapes),
	    cmocka_unit_test(test_params),        cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_civil),         cmocka_unit_test(test_component),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
