/*
 * Canonical encoding (docs/PROTOCOL.md, section 2.2) and the rules that only
 * hand-made bytes can break: the canonical msgpack reader on its own, strict
 * UTF-8, and records whose bodies are written byte by byte (and properly
 * signed, so that each fails the rule it is about and not the signature).
 * Also mu_rec_span() on cut-off input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/error.h"
#include "protocol/msgpack_read.h"
#include "protocol/record.h"
#include "protocol/utf8.h"
#include "rec_util.h"

static struct key G, H;

/* A msgpack value as a string literal of raw bytes. */
#define RAW(lit) lit, sizeof(lit) - 1

/* --- the reader -------------------------------------------------------- */

static int
read_uint(const char *b, size_t n, uint64_t *v, struct mu_mp *r)
{
	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_uint(r, v);
}

static int
read_int(const char *b, size_t n, int64_t *v, struct mu_mp *r)
{
	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_int(r, v);
}

#define assert_uint(lit, want)                                                         \
	do {                                                                           \
		struct mu_mp r_;                                                       \
		uint64_t v_;                                                           \
		assert_int_equal(read_uint(RAW(lit), &v_, &r_), 0);                    \
		assert_true(v_ == (want));                                             \
		assert_int_equal(mu_mp_left(&r_), 0);                                  \
	} while (0)

#define assert_int(lit, want)                                                          \
	do {                                                                           \
		struct mu_mp r_;                                                       \
		int64_t v_;                                                            \
		assert_int_equal(read_int(RAW(lit), &v_, &r_), 0);                     \
		assert_true(v_ == (want));                                             \
		assert_int_equal(mu_mp_left(&r_), 0);                                  \
	} while (0)

/* The reader returns code, and for MU_ERECORD names rule. */
#define assert_read_fails(call, code, rule_)                                           \
	do {                                                                           \
		struct mu_mp r_;                                                       \
		int rc_ = call;                                                        \
		assert_int_equal(rc_, (code));                                         \
		if ((code) == MU_ERECORD)                                              \
			assert_string_equal(r_.rule, (rule_));                         \
	} while (0)

static void
test_reader_uint(void **state)
{
	uint64_t v;

	(void)state;
	assert_uint("\x00", 0);
	assert_uint("\x7f", 127);
	assert_uint("\xcc\x80", 128);
	assert_uint("\xcc\xff", 255);
	assert_uint("\xcd\x01\x00", 256);
	assert_uint("\xcd\xff\xff", 65535);
	assert_uint("\xce\x00\x01\x00\x00", 65536);
	assert_uint("\xce\xff\xff\xff\xff", 4294967295u);
	assert_uint("\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 4294967296ull);
	assert_uint("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", UINT64_MAX);

	/* Not the shortest form. */
	assert_read_fails(read_uint(RAW("\xcc\x7f"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_uint(RAW("\xcc\x00"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_uint(RAW("\xcd\x00\xff"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(read_uint(RAW("\xce\x00\x00\xff\xff"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(
	    read_uint(RAW("\xcf\x00\x00\x00\x00\xff\xff\xff\xff"), &v, &r_), MU_ERECORD,
	    "canonical");
	/* A value >= 0 in a signed form is non-canonical, whatever is asked. */
	assert_read_fails(read_uint(RAW("\xd0\x05"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_uint(RAW("\xd2\x00\x00\x00\x00"), &v, &r_), MU_ERECORD,
	                  "canonical");
	/* Negative, in canonical and non-canonical forms. */
	assert_read_fails(read_uint(RAW("\xff"), &v, &r_), MU_ERECORD, "type");
	assert_read_fails(read_uint(RAW("\xd0\xdf"), &v, &r_), MU_ERECORD, "type");
	assert_read_fails(read_uint(RAW("\xd0\xff"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_uint(RAW("\xd0"), &v, &r_), MU_ETRUNC, "");
	/* Cut off. */
	assert_read_fails(read_uint("", 0, &v, &r_), MU_ETRUNC, "");
	assert_read_fails(read_uint(RAW("\xcc"), &v, &r_), MU_ETRUNC, "");
	assert_read_fails(read_uint(RAW("\xcd\x01"), &v, &r_), MU_ETRUNC, "");
	assert_read_fails(read_uint(RAW("\xce\x01\x00\x00"), &v, &r_), MU_ETRUNC, "");
	assert_read_fails(read_uint(RAW("\xcf\x01\x00\x00\x00\x00\x00\x00"), &v, &r_),
	                  MU_ETRUNC, "");
}

static void
test_reader_int(void **state)
{
	int64_t v;

	(void)state;
	assert_int("\x00", 0);
	assert_int("\xcd\x01\x00", 256);
	assert_int("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", INT64_MAX); /* saturates */
	assert_int("\xff", -1);
	assert_int("\xe0", -32);
	assert_int("\xd0\xdf", -33);
	assert_int("\xd0\x80", -128);
	assert_int("\xd1\xff\x7f", -129);
	assert_int("\xd1\x80\x00", -32768);
	assert_int("\xd2\xff\xff\x7f\xff", -32769);
	assert_int("\xd2\x80\x00\x00\x00", -2147483648LL);
	assert_int("\xd3\xff\xff\xff\xff\x7f\xff\xff\xff", -2147483649LL);
	assert_int("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", INT64_MIN);

	/* Negative values not in the shortest form. */
	assert_read_fails(read_int(RAW("\xd0\xe0"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_int(RAW("\xd0\xff"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_int(RAW("\xd1\xff\x80"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(read_int(RAW("\xd2\xff\xff\x80\x00"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(
	    read_int(RAW("\xd3\xff\xff\xff\xff\x80\x00\x00\x00"), &v, &r_), MU_ERECORD,
	    "canonical");
	/* Values >= 0 in signed forms. */
	assert_read_fails(read_int(RAW("\xd0\x00"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_int(RAW("\xd0\x7f"), &v, &r_), MU_ERECORD, "canonical");
	assert_read_fails(read_int(RAW("\xd1\x01\x00"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(read_int(RAW("\xd2\x00\x01\x00\x00"), &v, &r_), MU_ERECORD,
	                  "canonical");
	assert_read_fails(
	    read_int(RAW("\xd3\x00\x00\x00\x00\x00\x00\x00\x01"), &v, &r_), MU_ERECORD,
	    "canonical");
	assert_read_fails(read_int(RAW("\xd1\xff"), &v, &r_), MU_ETRUNC, "");
	assert_read_fails(read_int(RAW("\xa1x"), &v, &r_), MU_ERECORD, "type");
}

static int
read_str(const char *b, size_t n, struct mu_mp *r, size_t *len)
{
	const char *p;

	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_str(r, &p, len);
}

static int
read_bin(const char *b, size_t n, struct mu_mp *r, size_t *len)
{
	const uint8_t *p;

	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_bin(r, &p, len);
}

static void
test_reader_str_bin(void **state)
{
	char buf[70000];
	struct mu_mp r;
	size_t len;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	buf[0] = (char)0xa0;
	assert_int_equal(read_str(buf, 1, &r, &len), 0);
	assert_int_equal(len, 0);
	buf[0] = (char)0xbf;
	assert_int_equal(read_str(buf, 32, &r, &len), 0);
	assert_int_equal(len, 31);
	memcpy(buf, "\xd9\x20", 2);
	assert_int_equal(read_str(buf, 34, &r, &len), 0);
	assert_int_equal(len, 32);
	memcpy(buf, "\xda\x01\x00", 3);
	assert_int_equal(read_str(buf, 3 + 256, &r, &len), 0);
	assert_int_equal(len, 256);
	memcpy(buf, "\xdb\x00\x01\x00\x00", 5);
	assert_int_equal(read_str(buf, 5 + 65536, &r, &len), 0);
	assert_int_equal(len, 65536);
	assert_int_equal(mu_mp_left(&r), 0);

	/* Longer headers than the length needs. */
	memcpy(buf, "\xd9\x1f", 2);
	assert_read_fails(read_str(buf, 2 + 31, &r_, &len), MU_ERECORD, "canonical");
	memcpy(buf, "\xda\x00\xff", 3);
	assert_read_fails(read_str(buf, 3 + 255, &r_, &len), MU_ERECORD, "canonical");
	memcpy(buf, "\xdb\x00\x00\xff\xff", 5);
	assert_read_fails(read_str(buf, 5 + 65535, &r_, &len), MU_ERECORD, "canonical");
	/* A length past the end of the input. */
	assert_read_fails(read_str(RAW("\xa5"
	                               "abcd"),
	                           &r_, &len),
	                  MU_ETRUNC, "");
	assert_read_fails(read_str(RAW("\xdb\xff\xff\xff\xff"
	                               "ab"),
	                           &r_, &len),
	                  MU_ETRUNC, "");
	assert_read_fails(read_str(RAW("\xd9"), &r_, &len), MU_ETRUNC, "");
	assert_read_fails(read_str(RAW("\xc4\x00"), &r_, &len), MU_ERECORD, "type");

	memcpy(buf, "\xc4\x00", 2);
	assert_int_equal(read_bin(buf, 2, &r, &len), 0);
	assert_int_equal(len, 0);
	memcpy(buf, "\xc4\xff", 2);
	assert_int_equal(read_bin(buf, 2 + 255, &r, &len), 0);
	memcpy(buf, "\xc5\x01\x00", 3);
	assert_int_equal(read_bin(buf, 3 + 256, &r, &len), 0);
	memcpy(buf, "\xc6\x00\x01\x00\x00", 5);
	assert_int_equal(read_bin(buf, 5 + 65536, &r, &len), 0);
	memcpy(buf, "\xc5\x00\x20", 3);
	assert_read_fails(read_bin(buf, 3 + 32, &r_, &len), MU_ERECORD, "canonical");
	memcpy(buf, "\xc6\x00\x00\xff\xff", 5);
	assert_read_fails(read_bin(buf, 5 + 65535, &r_, &len), MU_ERECORD, "canonical");
	assert_read_fails(read_bin(RAW("\xc4\x05"
	                               "ab"),
	                           &r_, &len),
	                  MU_ETRUNC, "");
	assert_read_fails(read_bin(RAW("\xc6\xff\xff\xff\xff"), &r_, &len), MU_ETRUNC,
	                  "");
	assert_read_fails(read_bin(RAW("\xa0"), &r_, &len), MU_ERECORD, "type");
}

static int
read_array(const char *b, size_t n, struct mu_mp *r, uint32_t *count)
{
	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_array(r, count);
}

static int
read_map(const char *b, size_t n, struct mu_mp *r, uint32_t *count)
{
	mu_mp_init(r, (const uint8_t *)b, n);
	return mu_mp_read_map(r, count);
}

static void
test_reader_array_map(void **state)
{
	char buf[200];
	struct mu_mp r;
	uint32_t n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = (char)0x9f;
	assert_int_equal(read_array(buf, 16, &r, &n), 0);
	assert_int_equal(n, 15);
	memcpy(buf, "\xdc\x00\x10", 3);
	assert_int_equal(read_array(buf, 3 + 16, &r, &n), 0);
	assert_int_equal(n, 16);
	memcpy(buf, "\xdc\x00\x0f", 3);
	assert_read_fails(read_array(buf, 3 + 15, &r_, &n), MU_ERECORD, "canonical");
	memcpy(buf, "\xdd\x00\x00\x00\x02", 5);
	assert_read_fails(read_array(buf, 5 + 2, &r_, &n), MU_ERECORD, "canonical");
	/* Counts are never trusted: each element takes a byte at least. */
	assert_read_fails(read_array(RAW("\x93\x01\x02"), &r_, &n), MU_ETRUNC, "");
	assert_read_fails(read_array(RAW("\xdd\xff\xff\xff\xff\x01"), &r_, &n),
	                  MU_ETRUNC, "");
	assert_read_fails(read_array(RAW("\xdc\xff\xff"), &r_, &n), MU_ETRUNC, "");
	assert_read_fails(read_array(RAW("\xdc\x00"), &r_, &n), MU_ETRUNC, "");
	assert_read_fails(read_array(RAW("\x80"), &r_, &n), MU_ERECORD, "type");

	buf[0] = (char)0x8f;
	assert_int_equal(read_map(buf, 31, &r, &n), 0);
	assert_int_equal(n, 15);
	assert_read_fails(read_map(buf, 30, &r_, &n), MU_ETRUNC, "");
	memcpy(buf, "\xde\x00\x10", 3);
	assert_int_equal(read_map(buf, 3 + 32, &r, &n), 0);
	assert_int_equal(n, 16);
	memcpy(buf, "\xde\x00\x01", 3);
	assert_read_fails(read_map(buf, 3 + 2, &r_, &n), MU_ERECORD, "canonical");
	memcpy(buf, "\xdf\x00\x00\xff\xff", 5);
	assert_read_fails(read_map(buf, 5 + 2, &r_, &n), MU_ERECORD, "canonical");
	assert_read_fails(read_map(RAW("\xdf\x80\x00\x00\x00"
	                               "abc"),
	                           &r_, &n),
	                  MU_ETRUNC, "");
}

static void
test_reader_forbidden_types(void **state)
{
	static const char *const bad[] = {
	    "\xc0",                 /* nil */
	    "\xc2",                 /* false */
	    "\xc1",                 /* never used */
	    "\xca\x00\x00\x00\x00", /* float32 */
	    "\xcb\x00\x00\x00\x00\x00\x00\x00\x00",
	    "\xd4\x01\x00", /* fixext1 */
	    "\xc7\x00\x01", /* ext8 */
	};
	static const size_t len[] = {1, 1, 1, 5, 9, 3, 3};
	struct mu_mp r;
	size_t i;
	uint64_t v;
	const char *s;
	size_t n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mu_mp_init(&r, (const uint8_t *)bad[i], len[i]);
		assert_int_equal(mu_mp_read_uint(&r, &v), MU_ERECORD);
		assert_string_equal(r.rule, "canonical");
		mu_mp_init(&r, (const uint8_t *)bad[i], len[i]);
		assert_int_equal(mu_mp_read_str(&r, &s, &n), MU_ERECORD);
		assert_string_equal(r.rule, "canonical");
		mu_mp_init(&r, (const uint8_t *)bad[i], len[i]);
		assert_int_equal(mu_mp_read_true(&r), MU_ERECORD);
		assert_string_equal(r.rule, "canonical");
	}
	mu_mp_init(&r, (const uint8_t *)"\xc3", 1);
	assert_int_equal(mu_mp_read_true(&r), 0);
	mu_mp_init(&r, (const uint8_t *)"\x01", 1);
	assert_int_equal(mu_mp_read_true(&r), MU_ERECORD);
	assert_string_equal(r.rule, "type");
	assert_int_equal(r.found, MU_MP_UINT);
	mu_mp_init(&r, (const uint8_t *)"", 0);
	assert_int_equal(mu_mp_peek(&r), MU_MP_END);
	assert_int_equal(mu_mp_read_true(&r), MU_ETRUNC);
}

/* --- UTF-8 ------------------------------------------------------------- */

static void
test_utf8_check(void **state)
{
	struct mu_utf8_err e;

	(void)state;
	assert_int_equal(mu_utf8_check("", 0, MU_UTF8_LINE, &e), MU_UTF8_OK);
	assert_int_equal(
	    mu_utf8_check(RAW("plain \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	                  MU_UTF8_LINE, &e),
	    MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("ab\xc0\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(e.off, 2);
	assert_int_equal(mu_utf8_check(RAW("ab\xc1\xbf"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("\xe0\x9f\xbf"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("\xe0\xa0\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("\xf0\x8f\xbf\xbf"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("\xf0\x90\x80\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("x\xed\xa0\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(e.off, 1);
	assert_non_null(strstr(e.detail, "surrogate"));
	assert_int_equal(mu_utf8_check(RAW("\xf4\x90\x80\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_non_null(strstr(e.detail, "U+10FFFF"));
	assert_int_equal(mu_utf8_check(RAW("\xf8\x88\x80\x80\x80"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("\xf0\x9f\x98"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_non_null(strstr(e.detail, "cut off"));
	assert_int_equal(mu_utf8_check(RAW("\xf0\x9f\x98x"), MU_UTF8_ANY, &e),
	                 MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("\xc3"), MU_UTF8_ANY, &e), MU_UTF8_EBAD);
	assert_int_equal(mu_utf8_check(RAW("a\xbf"), MU_UTF8_ANY, &e), MU_UTF8_EBAD);
	assert_int_equal(e.off, 1);

	/* Control characters, by mode. */
	assert_int_equal(mu_utf8_check(RAW("a\tb"), MU_UTF8_ANY, &e), MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("a\tb"), MU_UTF8_TEXT, &e), MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("a\nb"), MU_UTF8_TEXT, &e), MU_UTF8_OK);
	assert_int_equal(mu_utf8_check(RAW("a\tb"), MU_UTF8_LINE, &e),
	                 MU_UTF8_ECONTROL);
	assert_int_equal(e.off, 1);
	assert_int_equal(mu_utf8_check(RAW("a\rb"), MU_UTF8_TEXT, &e),
	                 MU_UTF8_ECONTROL);
	assert_int_equal(mu_utf8_check(RAW("\x7f"), MU_UTF8_TEXT, &e),
	                 MU_UTF8_ECONTROL);
	assert_int_equal(mu_utf8_check("\0", 1, MU_UTF8_TEXT, &e), MU_UTF8_ECONTROL);
	/* C1 controls (U+0080-U+009F) are not forbidden by the protocol. */
	assert_int_equal(mu_utf8_check(RAW("\xc2\x85"), MU_UTF8_LINE, &e), MU_UTF8_OK);
}

/*
 * Every byte value at every position of printable ASCII text, in each mode:
 * the checker reads such text a word at a time, so a bad byte must be found
 * wherever it falls in or across words, at its own offset.
 */
static void
test_utf8_words(void **state)
{
	static const enum mu_utf8_mode modes[] = {MU_UTF8_ANY, MU_UTF8_LINE,
	                                          MU_UTF8_TEXT};
	char s[24];
	struct mu_utf8_err e;
	size_t m, pos;
	int b, want;

	(void)state;
	for (m = 0; m < 3; m++) {
		for (pos = 0; pos < sizeof(s); pos++) {
			for (b = 0; b < 256; b++) {
				memcpy(s, "abcdefghijklmnopqrstuvwx", sizeof(s));
				s[pos] = (char)b;
				if (b >= 0x80)
					want = MU_UTF8_EBAD; /* alone among ASCII */
				else if (b >= 0x20 && b != 0x7f)
					want = MU_UTF8_OK;
				else if (modes[m] == MU_UTF8_ANY ||
				         (modes[m] == MU_UTF8_TEXT &&
				          (b == '\t' || b == '\n')))
					want = MU_UTF8_OK;
				else
					want = MU_UTF8_ECONTROL;
				e.off = 999;
				assert_int_equal(
				    mu_utf8_check(s, sizeof(s), modes[m], &e), want);
				if (want != MU_UTF8_OK)
					assert_int_equal(e.off, pos);
			}
		}
	}
}

/* --- hand-made records ------------------------------------------------- */

struct kv {
	const char *key;
	const char *raw; /* the value, as msgpack bytes */
	size_t len;
};

static int
kvcmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/*
 * The content map of a valid event (start, status, title) with extra fields
 * merged in key order; an extra with a default's key replaces it, and one
 * with a NULL raw value removes it.
 */
static void
w_event_content(struct w *w, const struct kv *extra, size_t n)
{
	struct kv all[32] = {
	    {"start", RAW("\xce\x69\x57\x0a\x80")}, /* T0 + 1 day */
	    {"status", RAW("\xa9"
	                   "confirmed")},
	    {"title", RAW("\xa6"
	                  "Picnic")},
	};
	size_t m = 3, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < m; j++)
			if (strcmp(all[j].key, extra[i].key) == 0)
				break;
		all[j] = extra[i];
		if (j == m)
			m++;
	}
	qsort(all, m, sizeof(all[0]), kvcmp);
	for (i = j = 0; i < m; i++)
		j += all[i].raw != NULL;
	w_map(w, (uint32_t)j);
	for (i = 0; i < m; i++) {
		if (all[i].raw == NULL)
			continue;
		w_str(w, all[i].key);
		w_raw(w, all[i].raw, all[i].len);
	}
}

/* Parses an event of group G with the extra fields, signed by G. */
static int
event_with(const struct kv *extra, size_t n, struct mu_why *why)
{
	struct w body = {.n = 0};
	struct mu_record rec;

	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, extra, n);
	return w_parse(&body, G.sk, &rec, why);
}

#define EVENT_RULE(code, rule, ...)                                                    \
	do {                                                                           \
		const struct kv x_[] = {__VA_ARGS__};                                  \
		struct mu_why w_;                                                      \
		assert_rule(event_with(x_, sizeof(x_) / sizeof(x_[0]), &w_), (code),   \
		            &w_, (rule));                                              \
	} while (0)

#define EVENT_OK(...)                                                                  \
	do {                                                                           \
		const struct kv x_[] = {__VA_ARGS__};                                  \
		struct mu_why w_;                                                      \
		int rc_ = event_with(x_, sizeof(x_) / sizeof(x_[0]), &w_);             \
		if (rc_ != 0)                                                          \
			fail_msg("rejected: %s", w_.text);                             \
	} while (0)

static void
test_hand_valid(void **state)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	struct mu_why why;

	(void)state;
	/* The hand-made baseline is valid, so the tests below fail for their rule. */
	EVENT_OK({"tz", RAW("\xa3UTC")});
	EVENT_OK({"capacity", RAW("\xcc\x80")});
	EVENT_OK({"capacity", RAW("\x7f")});
	EVENT_OK({"location", RAW("\x83\xa3lat\xd0\xdf\xa3lon\xe0\xa4name\xa1x")});
	EVENT_OK({"all_day", RAW("\xc3")}, {"start", RAW("\xce\x69\x57\x0a\x80")});

	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_int_equal(w_parse(&body, G.sk, &rec, &why), 0);
	assert_int_equal(rec.c.event.start, T0 + 86400);
	assert_string_equal(why.text, "");
}

static void
test_canonical_ints(void **state)
{
	(void)state;
	/* Not the shortest form. */
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"start", RAW("\xcf\x00\x00\x00\x00\x69\x57\x0a\x80")});
	EVENT_RULE(MU_ERECORD, "canonical", {"capacity", RAW("\xcc\x05")});
	EVENT_RULE(MU_ERECORD, "canonical", {"capacity", RAW("\xcd\x00\x80")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"location", RAW("\x83\xa3lat\xd0\xfb\xa3lon\x00\xa4name\xa1x")});
	EVENT_RULE(
	    MU_ERECORD, "canonical",
	    {"location", RAW("\x83\xa3lat\x00\xa3lon\xd1\xff\xc0\xa4name\xa1x")});
	/* Values >= 0 in signed forms. */
	EVENT_RULE(MU_ERECORD, "canonical", {"capacity", RAW("\xd0\x05")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"location",
	            RAW("\x83\xa3lat\xd2\x00\x00\x00\x05\xa3lon\x00\xa4name\xa1x")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"start", RAW("\xd3\x00\x00\x00\x00\x69\x57\x0a\x80")});
}

static void
test_canonical_lengths(void **state)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	struct mu_why why;
	uint8_t key[MU_KEY_BYTES];

	(void)state;
	/* str8 for a short string. */
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xd9\x05hello")});
	EVENT_RULE(MU_ERECORD, "canonical", {"tags", RAW("\x91\xd9\x01x")});
	/* array16 and map16 for small ones. */
	EVENT_RULE(MU_ERECORD, "canonical", {"tags", RAW("\xdc\x00\x01\xa1x")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"location", RAW("\xde\x00\x01\xa4name\xa1x")});

	/* bin16 for a 32-byte key (a host). */
	memset(key, 7, sizeof(key));
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_map(&body, 4);
	w_str(&body, "hosts");
	w_arr(&body, 1);
	w_raw(&body, "\xc5\x00\x20", 3);
	w_raw(&body, key, sizeof(key));
	w_str(&body, "start");
	w_uint(&body, T0);
	w_str(&body, "status");
	w_str(&body, "confirmed");
	w_str(&body, "title");
	w_str(&body, "x");
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");

	/* bin16 for the group in the header. */
	body.n = 0;
	w_arr(&body, 8);
	w_uint(&body, 1);
	w_str(&body, "event");
	w_raw(&body, "\xc5\x00\x20", 3);
	w_raw(&body, G.pk, MU_KEY_BYTES);
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_uint(&body, T0);
	w_str(&body, "e1");
	w_uint(&body, 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");

	/* array16 for the body's array of 8. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	memmove(body.b + 3, body.b + 1, body.n - 1);
	memcpy(body.b, "\xdc\x00\x08", 3);
	body.n += 2;
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");

	/* map16 for the content. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_raw(&body, "\xde\x00\x03", 3);
	w_str(&body, "start");
	w_uint(&body, T0);
	w_str(&body, "status");
	w_str(&body, "confirmed");
	w_str(&body, "title");
	w_str(&body, "x");
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");
}

/* An event's content with keys written in the given order (raw values). */
static int
event_keys(const struct kv *kv, size_t n, struct mu_why *why)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	size_t i;

	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_map(&body, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (kv[i].key != NULL)
			w_str(&body, kv[i].key);
		else
			w_uint(&body, 1); /* a key that is not a string */
		w_raw(&body, kv[i].raw, kv[i].len);
	}
	return w_parse(&body, G.sk, &rec, why);
}

static void
test_canonical_keys(void **state)
{
	const struct kv unsorted[] = {{"start", RAW("\x01")},
	                              {"title", RAW("\xa1x")},
	                              {"status", RAW("\xa9"
	                                             "confirmed")}};
	const struct kv dup[] = {{"start", RAW("\x01")},
	                         {"status", RAW("\xa9"
	                                        "confirmed")},
	                         {"status", RAW("\xa9"
	                                        "confirmed")},
	                         {"title", RAW("\xa1x")}};
	const struct kv nonstr[] = {{NULL, RAW("\x01")},
	                            {"start", RAW("\x01")},
	                            {"status", RAW("\xa9"
	                                           "confirmed")},
	                            {"title", RAW("\xa1x")}};
	const struct kv sorted[] = {{"start", RAW("\x01")},
	                            {"status", RAW("\xa9"
	                                           "confirmed")},
	                            {"title", RAW("\xa1x")}};
	struct mu_why why;

	(void)state;
	assert_int_equal(event_keys(sorted, 3, &why), 0);
	assert_rule(event_keys(unsorted, 3, &why), MU_ERECORD, &why, "canonical");
	assert_rule(event_keys(dup, 4, &why), MU_ERECORD, &why, "canonical");
	assert_rule(event_keys(nonstr, 4, &why), MU_ERECORD, &why, "canonical");
	/* Inside the location map too: lon before lat. */
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"location", RAW("\x83\xa3lon\x00\xa3lat\x00\xa4name\xa1x")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"location", RAW("\x82\xa4name\xa1x\xa4name\xa1y")});
}

static void
test_canonical_types(void **state)
{
	(void)state;
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xc0")});
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xc2")});
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xca\x3f\x80\x00\x00")});
	EVENT_RULE(MU_ERECORD, "canonical",
	           {"start", RAW("\xcb\x41\xda\x5a\x9e\x60\x00\x00\x00")});
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xd4\x01\x00")});
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xc7\x01\x05x")});
	EVENT_RULE(MU_ERECORD, "canonical", {"title", RAW("\xc1")});
	EVENT_RULE(MU_ERECORD, "canonical", {"all_day", RAW("\xc0")});
	/* false where a bool may be: the field must be left out instead. */
	EVENT_RULE(MU_ERECORD, "empty", {"all_day", RAW("\xc2")});
}

static void
test_trailing(void **state)
{
	struct w body = {.n = 0}, rec_bytes;
	struct mu_record rec;
	struct mu_why why;
	uint8_t buf[sizeof(rec_bytes.b) + 1];

	(void)state;
	/* After the body's array, inside the body. */
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	w_byte(&body, 0x00);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "canonical");

	/* After the record. */
	body.n--;
	w_record(&rec_bytes, body.b, body.n, G.sk);
	memcpy(buf, rec_bytes.b, rec_bytes.n);
	buf[rec_bytes.n] = 0x00;
	assert_int_equal(mu_rec_parse(&rec, buf, rec_bytes.n, T0, 0, &why), 0);
	assert_rule(mu_rec_parse(&rec, buf, rec_bytes.n + 1, T0, 0, &why), MU_ERECORD,
	            &why, "canonical");
}

/* The outer [body, sig] with forms a test picks. */
static void
test_record_shape(void **state)
{
	struct w body = {.n = 0}, rec_bytes, out;
	struct mu_record rec;
	struct mu_why why;
	size_t hdr;

	(void)state;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_true(body.n < 256);
	w_record(&rec_bytes, body.b, body.n, G.sk);
	hdr = 3; /* 92 c4 len */

	/* array16 for the record's array of 2. */
	out.n = 0;
	w_raw(&out, "\xdc\x00\x02", 3);
	w_raw(&out, rec_bytes.b + 1, rec_bytes.n - 1);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "canonical");
	/* Three elements. */
	out.n = 0;
	w_byte(&out, 0x93);
	w_raw(&out, rec_bytes.b + 1, rec_bytes.n - 1);
	w_byte(&out, 0x00);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "shape");
	/* Not an array at all. */
	assert_rule(
	    mu_rec_parse(&rec, (const uint8_t *)"\x81\xa1x\x00", 4, T0, 0, &why),
	    MU_ERECORD, &why, "shape");
	/* bin16 for a short body. */
	out.n = 0;
	w_raw(&out, "\x92\xc5", 2);
	w_be(&out, body.n, 2);
	w_raw(&out, rec_bytes.b + hdr, rec_bytes.n - hdr);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "canonical");
	/* bin32 for a short body. */
	out.n = 0;
	w_raw(&out, "\x92\xc6", 2);
	w_be(&out, body.n, 4);
	w_raw(&out, rec_bytes.b + hdr, rec_bytes.n - hdr);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "canonical");
	/* The body as a str. */
	out.n = 0;
	w_raw(&out, "\x92\xd9", 2);
	w_be(&out, body.n, 1);
	w_raw(&out, rec_bytes.b + hdr, rec_bytes.n - hdr);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "shape");
	/* A 63-byte signature. */
	out.n = 0;
	w_raw(&out, rec_bytes.b, hdr + body.n);
	w_raw(&out, "\xc4\x3f", 2);
	w_raw(&out, rec_bytes.b + rec_bytes.n - 64, 63);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "shape");
	/* bin16 for the signature. */
	out.n = 0;
	w_raw(&out, rec_bytes.b, hdr + body.n);
	w_raw(&out, "\xc5\x00\x40", 3);
	w_raw(&out, rec_bytes.b + rec_bytes.n - 64, 64);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "canonical");
	/* The signature as a str. */
	out.n = 0;
	w_raw(&out, rec_bytes.b, hdr + body.n);
	w_raw(&out, "\xd9\x40", 2);
	w_raw(&out, rec_bytes.b + rec_bytes.n - 64, 64);
	assert_rule(mu_rec_parse(&rec, out.b, out.n, T0, 0, &why), MU_ERECORD, &why,
	            "shape");
}

static void
test_body_shape(void **state)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	struct mu_why why;

	(void)state;
	/* An array of 7. */
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	body.b[0] = 0x97;
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "shape");
	/* A map for a body. */
	body.n = 0;
	w_map(&body, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "shape");
	/* An empty body. */
	body.n = 0;
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "shape");
	/* Content that declares more than the body holds: the body is cut off. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	body.n -= 2;
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "shape");
	/* Declared counts are not trusted. */
	EVENT_RULE(MU_ERECORD, "shape", {"tags", RAW("\xdd\xff\xff\xff\xff\xa1x")});
	EVENT_RULE(MU_ERECORD, "shape", {"location", RAW("\xdf\x7f\xff\xff\xff")});
	EVENT_RULE(MU_ERECORD, "shape", {"description", RAW("\xdb\xff\xff\xff\xff")});
}

static void
test_body_size(void **state)
{
	static struct w body;
	static char title[MU_BODY_MAX + 10];
	struct mu_record rec;
	struct mu_why why;
	size_t fixed;

	(void)state;
	memset(title, 'a', sizeof(title));
	/* Exactly 16384 bytes passes body-size (and fails field-length). */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_map(&body, 3);
	w_str(&body, "start");
	w_uint(&body, T0);
	w_str(&body, "status");
	w_str(&body, "confirmed");
	w_str(&body, "title");
	fixed = body.n + 3; /* str16 header */
	w_strn(&body, title, MU_BODY_MAX - fixed);
	assert_int_equal(body.n, MU_BODY_MAX);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "field-length");
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_map(&body, 3);
	w_str(&body, "start");
	w_uint(&body, T0);
	w_str(&body, "status");
	w_str(&body, "confirmed");
	w_str(&body, "title");
	w_strn(&body, title, MU_BODY_MAX - fixed + 1);
	assert_int_equal(body.n, MU_BODY_MAX + 1);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "body-size");
}

static void
test_header_rules(void **state)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	struct mu_why why;
	uint8_t short_key[31];

	(void)state;
	memset(short_key, 1, sizeof(short_key));
	/* version */
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	body.b[1] = 2;
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "version");
	body.b[1] = 0;
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "version");
	body.b[1] = 0xa1; /* a str "e": wrong type */
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");

	/* unknown-kind */
	body.n = 0;
	w_header(&body, "motion", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "unknown-kind");
	body.n = 0;
	w_header(&body, "Event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "unknown-kind");

	/* A record of group G signed (validly) by H is well formed: whether H
	 * may publish for G is the store's question (PROTOCOL.md 10.6). */
	body.n = 0;
	w_header(&body, "event", G.pk, H.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_int_equal(w_parse(&body, H.sk, &rec, &why), 0);
	assert_memory_equal(rec.signer, H.pk, MU_KEY_BYTES);
	/* ... and one that claims G as signer but is signed by H. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, H.sk, &rec, &why), MU_ESIG, &why, "signature");

	/* type of header fields */
	body.n = 0;
	w_arr(&body, 8);
	w_uint(&body, 1);
	w_str(&body, "event");
	w_bin(&body, short_key, sizeof(short_key));
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_uint(&body, T0);
	w_str(&body, "e1");
	w_uint(&body, 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");
	body.n = 0;
	w_arr(&body, 8);
	w_uint(&body, 1);
	w_str(&body, "event");
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_int(&body, -1); /* created_at */
	w_str(&body, "e1");
	w_uint(&body, 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");
	body.n = 0;
	w_arr(&body, 8);
	w_uint(&body, 1);
	w_str(&body, "event");
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_uint(&body, T0);
	w_bin(&body, G.pk, 2); /* d */
	w_uint(&body, 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");
	/* The content must be a map. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_arr(&body, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");

	/* rev-range, beyond 32 bits */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 1ull << 32);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "rev-range");

	/* time-range of created_at: far future is time-range, not future. */
	body.n = 0;
	w_header(&body, "event", G.pk, G.pk, (uint64_t)MU_TIME_MAX + 1, "e1", 0);
	w_event_content(&body, NULL, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "time-range");
}

static void
test_content_types(void **state)
{
	(void)state;
	EVENT_RULE(MU_ERECORD, "type", {"title", RAW("\x05")});
	EVENT_RULE(MU_ERECORD, "type", {"title", RAW("\xc4\x01x")});
	EVENT_RULE(MU_ERECORD, "type",
	           {"start", RAW("\xa1"
	                         "1")});
	EVENT_RULE(MU_ERECORD, "type", {"all_day", RAW("\x01")});
	EVENT_RULE(MU_ERECORD, "type", {"capacity", RAW("\xff")}); /* negative */
	EVENT_RULE(MU_ERECORD, "type", {"tags", RAW("\xa1x")});
	EVENT_RULE(MU_ERECORD, "type", {"tags", RAW("\x91\x01")});
	EVENT_RULE(MU_ERECORD, "type", {"location", RAW("\x91\xa1x")});
	EVENT_RULE(MU_ERECORD, "type", {"location", RAW("\x81\xa4name\x01")});
	EVENT_RULE(MU_ERECORD, "type", {"status", RAW("\x01")});
	EVENT_RULE(MU_ERECORD, "type",
	           {"hosts", RAW("\x91\xc4\x1f"
	                         "0123456789012345678901234567890")});
	EVENT_RULE(MU_ERECORD, "type", {"hosts", RAW("\x91\xa2xy")});
	/* An address that is not [group, kind, d]. */
	EVENT_RULE(MU_ERECORD, "type",
	           {"cause", RAW("\x92\xa5"
	                         "cause\xa1x")});
	EVENT_RULE(MU_ERECORD, "type",
	           {"cause", RAW("\xa5"
	                         "cause")});
}

static void
test_content_rules(void **state)
{
	char online[1 + 9 * 10];
	size_t i;

	(void)state;
	EVENT_RULE(MU_ERECORD, "unknown-field", {"color", RAW("\xa3red")});
	EVENT_RULE(MU_ERECORD, "unknown-field", {"Title", RAW("\xa1x")});
	EVENT_RULE(MU_ERECORD, "unknown-field", {"zzz", RAW("\xa1x")});
	EVENT_RULE(MU_ERECORD, "unknown-field", {"", RAW("\xa1x")});
	EVENT_RULE(MU_ERECORD, "unknown-field",
	           {"location", RAW("\x82\xa3"
	                            "alt\x01\xa4name\xa1x")});
	EVENT_RULE(MU_ERECORD, "required", {"title", NULL, 0});
	EVENT_RULE(MU_ERECORD, "required", {"start", NULL, 0});
	EVENT_RULE(MU_ERECORD, "required", {"status", NULL, 0});
	EVENT_RULE(MU_ERECORD, "required", {"location", RAW("\x80")});
	EVENT_RULE(MU_ERECORD, "enum",
	           {"status", RAW("\xa4"
	                          "done")});
	EVENT_RULE(MU_ERECORD, "enum",
	           {"status", RAW("\xa9"
	                          "Confirmed")});
	EVENT_RULE(MU_ERECORD, "enum",
	           {"status", RAW("\xa6"
	                          "active")});
	EVENT_RULE(MU_ERECORD, "empty", {"title", RAW("\xa0")});
	EVENT_RULE(MU_ERECORD, "empty", {"status", RAW("\xa0")});
	EVENT_RULE(MU_ERECORD, "empty", {"tags", RAW("\x90")});
	EVENT_RULE(MU_ERECORD, "empty", {"hosts", RAW("\x90")});
	EVENT_RULE(MU_ERECORD, "empty", {"online", RAW("\x90")});
	EVENT_RULE(MU_ERECORD, "empty", {"tz", RAW("\xa0")});
	EVENT_RULE(MU_ERECORD, "empty", {"location", RAW("\x81\xa4name\xa0")});
	EVENT_RULE(MU_ERECORD, "geo-pair",
	           {"location", RAW("\x82\xa3lat\x00\xa4name\xa1x")});
	EVENT_RULE(MU_ERECORD, "geo-pair",
	           {"location", RAW("\x82\xa3lon\x00\xa4name\xa1x")});
	EVENT_RULE(MU_ERECORD, "time-range",
	           {"start", RAW("\xcf\x00\x00\x00\x3b\x00\x00\x00\x00")});
	EVENT_RULE(MU_ERECORD, "time-range", {"start", RAW("\xff")});
	EVENT_RULE(MU_ERECORD, "capacity", {"capacity", RAW("\x00")});
	EVENT_RULE(MU_ERECORD, "capacity",
	           {"capacity", RAW("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")});
	EVENT_RULE(MU_ERECORD, "address",
	           {"cause", RAW("\x93\xc4\x20"
	                         "01234567890123456789012345678901"
	                         "\xa5"
	                         "event\xa1x")});
	EVENT_RULE(MU_ERECORD, "address",
	           {"cause", RAW("\x93\xc4\x20"
	                         "01234567890123456789012345678901"
	                         "\xa4"
	                         "nope\xa1x")});
	EVENT_OK({"cause", RAW("\x93\xc4\x20"
	                       "01234567890123456789012345678901"
	                       "\xa5"
	                       "cause\xa1x")});

	/* Nine online links, one more than allowed: rejected by count. */
	online[0] = (char)0x99;
	for (i = 0; i < 9; i++)
		memcpy(online + 1 + 10 * i, "\xa9http://a/", 10);
	EVENT_RULE(MU_ERECORD, "field-length", {"online", online, 1 + 10 * 9});
	online[0] = (char)0x98;
	EVENT_OK({"online", online, 1 + 10 * 8});
}

static void
test_delete_target(void **state)
{
	struct w body = {.n = 0};
	struct mu_record rec;
	struct mu_why why;
	uint8_t id[MU_ID_BYTES];

	(void)state;
	memset(id, 9, sizeof(id));
	/* Neither addr nor id. */
	w_header(&body, "delete", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "reason");
	w_str(&body, "x");
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why,
	            "delete-target");
	/* Empty content. */
	body.n = 0;
	w_header(&body, "delete", G.pk, G.pk, T0, "", 0);
	w_map(&body, 0);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why,
	            "delete-target");
	/* Both. */
	body.n = 0;
	w_header(&body, "delete", G.pk, G.pk, T0, "", 0);
	w_map(&body, 2);
	w_str(&body, "addr");
	w_arr(&body, 3);
	w_bin(&body, G.pk, MU_KEY_BYTES);
	w_str(&body, "event");
	w_str(&body, "e1");
	w_str(&body, "id");
	w_bin(&body, id, sizeof(id));
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why,
	            "delete-target");
	/* Only the id: valid. */
	body.n = 0;
	w_header(&body, "delete", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "id");
	w_bin(&body, id, sizeof(id));
	assert_int_equal(w_parse(&body, G.sk, &rec, &why), 0);
	assert_false(rec.c.del.by_addr);
	assert_memory_equal(rec.c.del.id, id, sizeof(id));
	/* An id of the wrong size. */
	body.n = 0;
	w_header(&body, "delete", G.pk, G.pk, T0, "", 0);
	w_map(&body, 1);
	w_str(&body, "id");
	w_bin(&body, id, 31);
	assert_rule(w_parse(&body, G.sk, &rec, &why), MU_ERECORD, &why, "type");
}

/* --- mu_rec_span ------------------------------------------------------- */

static void
test_span(void **state)
{
	struct w body = {.n = 0}, rec_bytes;
	static uint8_t buf[MU_RECORD_MAX + 100];
	char desc[3 + 300];
	struct mu_record rec;
	struct mu_why why;
	size_t i;
	long span;

	(void)state;
	/* A body over 255 bytes, so its header is bin16. */
	memcpy(desc, "\xda\x01\x2c", 3);
	memset(desc + 3, 'a', 300);
	w_header(&body, "event", G.pk, G.pk, T0, "e1", 0);
	w_event_content(&body, (const struct kv[]){{"description", desc, sizeof(desc)}},
	                1);
	assert_true(body.n > 255);
	w_record(&rec_bytes, body.b, body.n, G.sk);
	assert_int_equal(rec_bytes.b[1], 0xc5);
	assert_int_equal(mu_rec_parse(&rec, rec_bytes.b, rec_bytes.n, T0, 0, &why), 0);

	memcpy(buf, rec_bytes.b, rec_bytes.n);
	memset(buf + rec_bytes.n, 0x92, 50);
	assert_int_equal(mu_rec_span(buf, rec_bytes.n, &why), (long)rec_bytes.n);
	assert_string_equal(why.text, "");
	assert_int_equal(mu_rec_span(buf, rec_bytes.n + 50, &why), (long)rec_bytes.n);
	for (i = 0; i < rec_bytes.n; i++) {
		span = mu_rec_span(buf, i, &why);
		if (span != MU_ETRUNC)
			fail_msg("prefix of %zu bytes: %ld (%s)", i, span, why.text);
		assert_int_equal(mu_rec_parse(&rec, buf, i, T0, 0, &why), MU_ETRUNC);
	}

	/* A body over the limit is refused from its header alone. */
	assert_int_equal(mu_rec_span((const uint8_t *)"\x92\xc5\x40\x01", 4, &why),
	                 MU_ERECORD);
	assert_rule(MU_ERECORD, MU_ERECORD, &why, "body-size");
	assert_int_equal(mu_rec_span((const uint8_t *)"\x92\xc5\x40\x00", 4, &why),
	                 MU_ETRUNC);
	assert_int_equal(
	    mu_rec_span((const uint8_t *)"\x92\xc6\x00\x01\x00\x00", 6, &why),
	    MU_ERECORD);
	assert_rule(MU_ERECORD, MU_ERECORD, &why, "body-size");
	/* Things that cannot start a record. */
	assert_int_equal(mu_rec_span((const uint8_t *)"\x91", 1, &why), MU_ERECORD);
	assert_rule(MU_ERECORD, MU_ERECORD, &why, "shape");
	assert_int_equal(mu_rec_span((const uint8_t *)"\xaf", 1, &why), MU_ERECORD);
	assert_int_equal(mu_rec_span((const uint8_t *)"\x92\xa1", 2, &why), MU_ERECORD);
	assert_int_equal(mu_rec_span((const uint8_t *)"\xdc\x00", 2, &why), MU_ETRUNC);
	assert_int_equal(mu_rec_span((const uint8_t *)"\xdc\x00\x02", 3, &why),
	                 MU_ERECORD);
	assert_rule(MU_ERECORD, MU_ERECORD, &why, "canonical");
	/* The largest record there can be. */
	buf[0] = 0x92;
	buf[1] = 0xc5;
	buf[2] = MU_BODY_MAX >> 8;
	buf[3] = MU_BODY_MAX & 0xff;
	buf[4 + MU_BODY_MAX] = 0xc4;
	buf[5 + MU_BODY_MAX] = 64;
	assert_int_equal(mu_rec_span(buf, MU_RECORD_MAX, &why), MU_RECORD_MAX);
	assert_int_equal(mu_rec_span(buf, MU_RECORD_MAX - 1, &why), MU_ETRUNC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_uint),
	    cmocka_unit_test(test_reader_int),
	    cmocka_unit_test(test_reader_str_bin),
	    cmocka_unit_test(test_reader_array_map),
	    cmocka_unit_test(test_reader_forbidden_types),
	    cmocka_unit_test(test_utf8_check),
	    cmocka_unit_test(test_utf8_words),
	    cmocka_unit_test(test_hand_valid),
	    cmocka_unit_test(test_canonical_ints),
	    cmocka_unit_test(test_canonical_lengths),
	    cmocka_unit_test(test_canonical_keys),
	    cmocka_unit_test(test_canonical_types),
	    cmocka_unit_test(test_trailing),
	    cmocka_unit_test(test_record_shape),
	    cmocka_unit_test(test_body_shape),
	    cmocka_unit_test(test_body_size),
	    cmocka_unit_test(test_header_rules),
	    cmocka_unit_test(test_content_types),
	    cmocka_unit_test(test_content_rules),
	    cmocka_unit_test(test_delete_target),
	    cmocka_unit_test(test_span),
	};

	if (sodium_init() < 0)
		return 1;
	key_from_byte(&G, 1);
	key_from_byte(&H, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
