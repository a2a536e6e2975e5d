/*
 * Tiny messages that declare huge arrays, maps, strings and byte strings,
 * sent to every decoder entry point: the msgpack reader, records, export
 * streams, wire messages, negentropy messages and session frames. Each is
 * refused cleanly, with a reason, from the header alone: a declared count
 * or length is checked against the bytes that remain before anything is
 * read or allocated for it (issue 5; msgpack-c's unpacker would allocate
 * for the count first, and muster never uses it to decode). Nesting is
 * bounded too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/export.h"
#include "protocol/msgpack_read.h"
#include "protocol/negentropy.h"
#include "protocol/session.h"
#include "protocol/wire.h"
#include "rec_util.h"

/* Headers that claim 2^32-1 (or 2^16-1) elements or bytes. */
static const uint8_t ARRAY32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MAP32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
static const uint8_t STR32[] = {0xdb, 0xff, 0xff, 0xff, 0xff};
static const uint8_t BIN32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ARRAY16[] = {0xdc, 0xff, 0xff};
static const uint8_t MAP16[] = {0xde, 0xff, 0xff};

static const struct {
	const uint8_t *p;
	size_t n;
	const char *name;
} HUGE[] = {
    {ARRAY32, sizeof(ARRAY32), "array32"}, {MAP32, sizeof(MAP32), "map32"},
    {STR32, sizeof(STR32), "str32"},       {BIN32, sizeof(BIN32), "bin32"},
    {ARRAY16, sizeof(ARRAY16), "array16"}, {MAP16, sizeof(MAP16), "map16"},
};
#define NHUGE (sizeof(HUGE) / sizeof(HUGE[0]))

static struct key G;

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	key_from_byte(&G, 7);
	return 0;
}

/* --- the reader ------------------------------------------------------------ */

static void
test_reader(void **state)
{
	uint8_t buf[64];
	struct mu_mp r;
	const uint8_t *p;
	const char *s;
	size_t len;
	uint32_t n;

	(void)state;
	/* Even with bytes after the header, a count larger than them is
	 * truncation, found before any element is read. */
	memset(buf, 0x01, sizeof(buf));
	memcpy(buf, ARRAY32, sizeof(ARRAY32));
	mu_mp_init(&r, buf, sizeof(buf));
	assert_int_equal(mu_mp_read_array(&r, &n), MU_ETRUNC);
	memcpy(buf, MAP32, sizeof(MAP32));
	mu_mp_init(&r, buf, sizeof(buf));
	assert_int_equal(mu_mp_read_map(&r, &n), MU_ETRUNC);
	memcpy(buf, STR32, sizeof(STR32));
	mu_mp_init(&r, buf, sizeof(buf));
	assert_int_equal(mu_mp_read_str(&r, &s, &len), MU_ETRUNC);
	memcpy(buf, BIN32, sizeof(BIN32));
	mu_mp_init(&r, buf, sizeof(buf));
	assert_int_equal(mu_mp_read_bin(&r, &p, &len), MU_ETRUNC);
	memcpy(buf, ARRAY16, sizeof(ARRAY16));
	mu_mp_init(&r, buf, sizeof(buf));
	assert_int_equal(mu_mp_read_array(&r, &n), MU_ETRUNC);

	/* A map of k pairs needs 2k bytes: 40 bytes cannot hold 32 pairs. */
	buf[0] = 0xde;
	buf[1] = 0x00;
	buf[2] = 0x20;
	mu_mp_init(&r, buf, 3 + 40);
	assert_int_equal(mu_mp_read_map(&r, &n), MU_ETRUNC);
	mu_mp_init(&r, buf, 3 + 64 - 3);
	assert_int_equal(mu_mp_read_map(&r, &n), MU_ETRUNC);
	/* Exactly enough bytes is accepted. */
	buf[2] = 0x10;
	mu_mp_init(&r, buf, 3 + 32);
	assert_int_equal(mu_mp_read_map(&r, &n), 0);
	assert_int_equal(n, 16);
}

/* --- records ----------------------------------------------------------------- */

static void
assert_record_refused(const struct w *body, const char *rule)
{
	static struct w rec;
	struct mu_record out;
	struct mu_why why;
	int rc;

	w_record(&rec, body->b, body->n, G.sk);
	rc = mu_rec_parse(&out, rec.b, rec.n, T0, 0, &why);
	if (rc != MU_ERECORD || strncmp(why.text, rule, strlen(rule)) != 0)
		fail_msg("expected rule %s, got %d \"%s\"", rule, rc, why.text);
}

/* A body of kind whose content map has n fields, the first being key. */
static void
content(struct w *body, const char *kind, uint32_t n, const char *key)
{
	body->n = 0;
	w_header(body, kind, G.pk, G.pk, T0, kind[0] == 'c' ? "c" : "e", 0);
	w_map(body, n);
	w_str(body, key);
}

static void
test_record(void **state)
{
	static struct w body;
	uint8_t raw[16];
	struct mu_record out;
	struct mu_why why;
	size_t i;

	(void)state;
	/* The whole record, its body and its signature. */
	for (i = 0; i < NHUGE; i++) {
		assert_true(mu_rec_parse(&out, HUGE[i].p, HUGE[i].n, T0, 0, &why) < 0);
		assert_true(why.text[0] != '\0');
	}
	memcpy(raw, (const uint8_t[]){0x92, 0xc6, 0x7f, 0xff, 0xff, 0xff}, 6);
	assert_rule(mu_rec_parse(&out, raw, 6, T0, 0, &why), MU_ERECORD, &why,
	            "body-size");
	assert_true(mu_rec_span(raw, 6, &why) == MU_ERECORD);

	/* Inside a signed body: as the body, the content map, a list, a
	 * string and an address. */
	for (i = 0; i < NHUGE; i++) {
		body.n = 0;
		w_raw(&body, HUGE[i].p, HUGE[i].n);
		assert_record_refused(&body, "shape");
	}
	body.n = 0;
	w_header(&body, "cause", G.pk, G.pk, T0, "c", 0);
	w_raw(&body, MAP32, sizeof(MAP32));
	assert_record_refused(&body, "shape");

	content(&body, "cause", 3, "status");
	w_str(&body, "active");
	w_str(&body, "tags");
	w_raw(&body, ARRAY32, sizeof(ARRAY32));
	w_str(&body, "title");
	w_str(&body, "T");
	assert_record_refused(&body, "shape");

	content(&body, "cause", 2, "status");
	w_str(&body, "active");
	w_str(&body, "title");
	w_raw(&body, STR32, sizeof(STR32));
	assert_record_refused(&body, "shape");

	content(&body, "event", 1, "cause");
	w_raw(&body, ARRAY32, sizeof(ARRAY32));
	assert_record_refused(&body, "shape");

	/* A list over its limit is refused by its count alone. */
	content(&body, "cause", 1, "tags");
	w_arr(&body, MU_LIST_MAX + 1);
	for (i = 0; i <= MU_LIST_MAX; i++)
		w_str(&body, "t");
	assert_record_refused(&body, "field-length");
}

/* --- export streams ---------------------------------------------------------- */

static void
test_export(void **state)
{
	struct mu_export_reader r;
	uint8_t buf[MU_EXPORT_MAGIC_LEN + 16];
	const uint8_t *rec;
	struct mu_why why;
	size_t len, i;

	(void)state;
	memcpy(buf, mu_export_magic, MU_EXPORT_MAGIC_LEN);
	for (i = 0; i < NHUGE; i++) {
		memcpy(buf + MU_EXPORT_MAGIC_LEN, HUGE[i].p, HUGE[i].n);
		assert_int_equal(
		    mu_export_open(&r, buf, MU_EXPORT_MAGIC_LEN + HUGE[i].n, &why), 0);
		assert_int_equal(mu_export_next(&r, &rec, &len, &why), MU_ERECORD);
		assert_true(strncmp(why.text, "shape", 5) == 0);
	}
	/* A record whose body claims 2 GiB, and one cut off after 64 KiB
	 * were declared. */
	memcpy(buf + MU_EXPORT_MAGIC_LEN,
	       (const uint8_t[]){0x92, 0xc6, 0x7f, 0xff, 0xff, 0xff}, 6);
	assert_int_equal(mu_export_open(&r, buf, MU_EXPORT_MAGIC_LEN + 6, &why), 0);
	assert_int_equal(mu_export_next(&r, &rec, &len, &why), MU_ERECORD);
	assert_true(strncmp(why.text, "body-size", 9) == 0);
	memcpy(buf + MU_EXPORT_MAGIC_LEN, (const uint8_t[]){0x92, 0xc5, 0x3f, 0xff}, 4);
	assert_int_equal(mu_export_open(&r, buf, MU_EXPORT_MAGIC_LEN + 4, &why), 0);
	assert_int_equal(mu_export_next(&r, &rec, &len, &why), MU_ETRUNC);
	/* Broken stays broken. */
	assert_int_equal(mu_export_next(&r, &rec, &len, &why), MU_ETRUNC);
	assert_int_equal(r.index, 1);
}

/* --- wire messages ------------------------------------------------------------- */

static void
assert_wire_refused(const struct w *m, const char *words)
{
	struct mu_wire_msg *msg = malloc(sizeof(*msg));
	struct mu_why why;

	assert_non_null(msg);
	assert_int_equal(mu_wire_decode(msg, m->b, m->n, &why), MU_EFORMAT);
	if (strstr(why.text, words) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why.text, words);
	free(msg);
}

/* Starts a message of type with n elements in all. */
static void
head(struct w *m, const char *type, uint32_t n)
{
	m->n = 0;
	w_arr(m, n);
	w_str(m, type);
}

/* A hello whose only field is an unknown one, about to get its value. */
static void
hello_unknown(struct w *m)
{
	head(m, "hello", 2);
	w_map(m, 1);
	w_str(m, "future");
}

static void
test_wire(void **state)
{
	static struct w m;
	size_t i;

	(void)state;
	for (i = 0; i < NHUGE; i++) {
		m.n = 0;
		w_raw(&m, HUGE[i].p, HUGE[i].n);
		assert_wire_refused(&m, "wire: ");
	}
	head(&m, "hello", 2);
	w_raw(&m, MAP32, sizeof(MAP32));
	assert_wire_refused(&m, "hello is cut off");

	head(&m, "hello", 2);
	w_map(&m, 2);
	w_str(&m, "agent");
	w_raw(&m, STR32, sizeof(STR32));
	assert_wire_refused(&m, "cut off");

	head(&m, "hello", 2);
	w_map(&m, 2);
	w_str(&m, "agent");
	w_str(&m, "x");
	w_str(&m, "scope");
	w_raw(&m, ARRAY32, sizeof(ARRAY32));
	assert_wire_refused(&m, "hello scope is cut off");

	head(&m, "want", 3);
	w_uint(&m, 1);
	w_raw(&m, ARRAY32, sizeof(ARRAY32));
	assert_wire_refused(&m, "want ids is cut off");

	head(&m, "recs", 3);
	w_uint(&m, 1);
	w_raw(&m, ARRAY32, sizeof(ARRAY32));
	assert_wire_refused(&m, "recs is cut off");

	head(&m, "recs", 3);
	w_uint(&m, 1);
	w_arr(&m, 1);
	w_raw(&m, BIN32, sizeof(BIN32));
	assert_wire_refused(&m, "recs record is cut off");

	head(&m, "neg", 2);
	w_raw(&m, BIN32, sizeof(BIN32));
	assert_wire_refused(&m, "negentropy message is cut off");

	/* Counts within the bytes but over a limit: refused by the count. */
	head(&m, "recs", 3);
	w_uint(&m, 1);
	w_arr(&m, MU_WIRE_RECS_MAX + 1);
	for (i = 0; i <= MU_WIRE_RECS_MAX; i++)
		w_bin(&m, (const uint8_t *)"r", 1);
	assert_wire_refused(&m, "more than");

	/* An unknown hello field nested deeper than anyone needs, in a few
	 * hundred bytes: arrays in arrays, maps in maps. */
	for (int maps = 0; maps < 2; maps++) {
		hello_unknown(&m);
		for (i = 0; i < 300; i++) {
			if (maps) {
				w_map(&m, 1);
				w_str(&m, "k");
			} else {
				w_arr(&m, 1);
			}
		}
		w_uint(&m, 1);
		assert_wire_refused(&m, "nests too deep");
	}
}

/* --- negentropy ------------------------------------------------------------------ */

static void
assert_neg_refused(bool initiator, const uint8_t *msg, size_t len, const char *words)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_neg *neg;
	struct mu_why why;

	assert_int_equal(mu_neg_new(&neg, NULL, 0, 0), 0);
	if (initiator)
		assert_int_equal(mu_neg_initiate(neg, &out), 0);
	out.len = 0;
	assert_int_equal(mu_neg_reconcile(neg, msg, len, &out, NULL, NULL, NULL, &why),
	                 MU_EFORMAT);
	assert_int_equal(out.len, 0);
	if (strstr(why.text, words) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why.text, words);
	mu_neg_free(neg);
	mu_buf_free(&out);
}

static void
test_negentropy(void **state)
{
	/* version, bound (ts 0 = infinity, id length 0), mode 2 (id list),
	 * then a count of 2^63 ids in no bytes. */
	static const uint8_t idlist[] = {0x61, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
	/* A bound whose id prefix claims 2^28 bytes. */
	static const uint8_t idlen[] = {0x61, 0x00, 0xff, 0xff, 0xff, 0x7f};
	/* A varint longer than 64 bits. */
	static const uint8_t varint[] = {0x61, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	/* An id list of 3 ids in 64 bytes. */
	uint8_t three[4 + 64] = {0x61, 0x00, 0x00, 0x02, 0x03};

	(void)state;
	for (int init = 0; init < 2; init++) {
		assert_neg_refused(init, idlist, sizeof(idlist), "id list of");
		assert_neg_refused(init, idlen, sizeof(idlen), "at most 32");
		assert_neg_refused(init, varint, sizeof(varint), "64 bits");
		assert_neg_refused(init, three, 5 + 64, "id list of 3 ids");
	}
}

/* --- session frames ----------------------------------------------------------------
 */

static int
no_msg(void *ctx, const uint8_t *msg, size_t len)
{
	(void)ctx;
	(void)msg;
	(void)len;
	return MU_EINVAL;
}

static void
test_frames(void **state)
{
	static const uint8_t huge[] = {0xff, 0xff, 0x00};
	struct mu_sess_identity id;
	struct mu_buf send = MU_BUF_INIT;
	struct mu_sess *s;
	struct mu_why why;
	uint8_t e[32];

	(void)state;
	memset(&id, 0, sizeof(id));
	memset(id.noise_secret, 3, sizeof(id.noise_secret));
	memset(e, 4, sizeof(e));
	/* A stranger's 65535-byte frame is refused from its length, before
	 * it is buffered. */
	assert_int_equal(mu_sess_new(&s, false, "test", &id, NULL, e, &send, &why), 0);
	assert_int_equal(mu_sess_feed(s, huge, sizeof(huge), &send, no_msg, NULL, &why),
	                 MU_EFORMAT);
	assert_non_null(strstr(why.text, "at most"));
	assert_true(mu_sess_pending(s) <= sizeof(huge));
	mu_sess_free(s);
	mu_buf_free(&send);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader),     cmocka_unit_test(test_record),
	    cmocka_unit_test(test_export),     cmocka_unit_test(test_wire),
	    cmocka_unit_test(test_negentropy), cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
