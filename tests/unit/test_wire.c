/*
 * The sync messages: every message survives a round trip byte for byte and
 * in canonical form; anything malformed (cut off, a count larger than the
 * bytes, a wrong type, a list over its limit, out of order, trailing bytes)
 * is refused; an unknown type is reported as such and not read further.
 * Hand-made messages come from rec_util.h's raw writer, not from the encoder
 * under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/wire.h"
#include "rec_util.h"

static void
fill_key(uint8_t key[32], unsigned i)
{
	/* Ascending in bytewise order as i grows. */
	memset(key, 0x5a, 32);
	key[0] = (uint8_t)(i >> 8);
	key[1] = (uint8_t)i;
}

static void
decode_ok(struct mu_wire_msg *m, const struct mu_buf *b, enum mu_wire_type t)
{
	struct mu_why why;
	int rc = mu_wire_decode(m, b->data, b->len, &why);

	if (rc != 0)
		fail_msg("decode: %d %s", rc, why.text);
	assert_int_equal(m->type, t);
}

static void
assert_refused(const uint8_t *p, size_t n, const char *words)
{
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_why why;

	assert_non_null(m);
	assert_int_equal(mu_wire_decode(m, p, n, &why), MU_EFORMAT);
	assert_true(strncmp(why.text, "wire: ", 6) == 0);
	if (words != NULL && strstr(why.text, words) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why.text, words);
	free(m);
}

/* Every proper prefix of a valid message is refused. */
static void
assert_prefixes_refused(const struct mu_buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		assert_refused(b->data, i, NULL);
}

static void
test_hello_roundtrip(void **state)
{
	static const size_t sizes[] = {0, 1, 3, 15, 16, 1024};
	struct mu_scope *s = mu_scope_new();
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	uint8_t key[32];
	size_t k, i;

	(void)state;
	assert_non_null(s);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		mu_scope_clear(s);
		for (i = 0; i < sizes[k]; i++) {
			fill_key(key,
			         (unsigned)(sizes[k] - i)); /* added out of order */
			assert_int_equal(mu_scope_add(s, key), 0);
		}
		b.len = 0;
		assert_int_equal(mu_wire_encode_hello(&b, "muster/0.1", 10, s), 0);
		decode_ok(&m, &b, MU_WIRE_HELLO);
		assert_int_equal(m.agent_len, 10);
		assert_memory_equal(m.agent, "muster/0.1", 10);
		assert_int_equal(m.keys.n, sizes[k]);
		for (i = 0; i < sizes[k]; i++)
			assert_memory_equal(mu_wire_key(&m.keys, i), s->keys[i], 32);
		if (sizes[k] <= 3)
			assert_prefixes_refused(&b);
	}
	/* The exact bytes for an empty scope and agent "a". */
	mu_scope_clear(s);
	b.len = 0;
	assert_int_equal(mu_wire_encode_hello(&b, "a", 1, s), 0);
	{
		static const uint8_t want[] = {
		    0x92, 0xa5, 'h',  'e', 'l',  'l', 'o', 0x82, 0xa5, 'a', 'g', 'e',
		    'n',  't',  0xa1, 'a', 0xa5, 's', 'c', 'o',  'p',  'e', 0x90};
		assert_int_equal(b.len, sizeof(want));
		assert_memory_equal(b.data, want, sizeof(want));
	}
	/* An agent with a control character or over 64 bytes is not sent. */
	assert_int_equal(mu_wire_encode_hello(&b, "a\n", 2, s), MU_EINVAL);
	assert_int_equal(mu_wire_encode_hello(&b,
	                                      "0123456789012345678901234567890123456789"
	                                      "01234567890123456789012345",
	                                      65, s),
	                 MU_EINVAL);
	mu_buf_free(&b);
	mu_scope_free(s);
}

static void
test_neg_roundtrip(void **state)
{
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	uint8_t *big = malloc(MU_WIRE_NEG_MAX + 1);
	static const uint8_t exact[] = {0x92, 0xa3, 'n',  'e', 'g',
	                                0xc4, 0x02, 0x61, 0x00};

	(void)state;
	assert_non_null(big);
	memset(big, 0x61, MU_WIRE_NEG_MAX + 1);
	assert_int_equal(mu_wire_encode_neg(&b, false, exact + 7, 2), 0);
	assert_int_equal(b.len, sizeof(exact));
	assert_memory_equal(b.data, exact, sizeof(exact));
	assert_prefixes_refused(&b);

	b.len = 0;
	assert_int_equal(mu_wire_encode_neg(&b, true, big, MU_WIRE_NEG_MAX), 0);
	decode_ok(&m, &b, MU_WIRE_NEG_OPEN);
	assert_int_equal(m.neg.len, MU_WIRE_NEG_MAX);
	assert_ptr_equal(m.neg.ptr, b.data + b.len - MU_WIRE_NEG_MAX); /* borrowed */

	/* One byte over the frame limit: the encoder refuses, and so does the
	 * decoder for a hand-made one. */
	assert_int_equal(mu_wire_encode_neg(&b, true, big, MU_WIRE_NEG_MAX + 1),
	                 MU_EINVAL);
	b.len = 0;
	assert_int_equal(mu_buf_append(&b, "\x92\xa8neg-open\xc5\xea\x61", 13), 0);
	assert_int_equal(mu_buf_append(&b, big, MU_WIRE_NEG_MAX + 1), 0);
	assert_refused(b.data, b.len, "more than 60000");
	mu_buf_free(&b);
	free(big);
}

/* want (with a req) or announce: lists of 0 to 1024 ids in any order. */
static void
ids_roundtrip(enum mu_wire_type type)
{
	static const size_t sizes[] = {0, 1, 15, 16, 1024};
	static const uint8_t one[] = {0x92, 0xa8, 'a', 'n',  'n',  'o', 'u',
	                              'n',  'c',  'e', 0x91, 0xc4, 0x20};
	uint8_t(*ids)[32] = malloc(1025 * 32);
	bool want = type == MU_WIRE_WANT;
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	size_t k, i;

	assert_non_null(ids);
	for (i = 0; i < 1025; i++)
		fill_key(ids[i], (unsigned)(7919 * i % 1031)); /* any order */
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		b.len = 0;
		assert_int_equal(want ? mu_wire_encode_want(&b, 1000 + k, ids, sizes[k])
		                      : mu_wire_encode_announce(&b, ids, sizes[k]),
		                 0);
		decode_ok(&m, &b, type);
		if (want)
			assert_int_equal(m.req, 1000 + k);
		assert_int_equal(m.keys.n, sizes[k]);
		for (i = 0; i < sizes[k]; i++)
			assert_memory_equal(mu_wire_key(&m.keys, i), ids[i], 32);
		if (sizes[k] <= 1)
			assert_prefixes_refused(&b);
		if (!want && sizes[k] == 1) {
			/* The bytes PROTOCOL.md 10.1 gives for one id. */
			assert_int_equal(b.len, sizeof(one) + 32);
			assert_memory_equal(b.data, one, sizeof(one));
		}
	}
	assert_int_equal(want ? mu_wire_encode_want(&b, 1, ids, 1025)
	                      : mu_wire_encode_announce(&b, ids, 1025),
	                 MU_EINVAL);
	mu_buf_free(&b);
	free(ids);
}

static void
test_want_roundtrip(void **state)
{
	(void)state;
	ids_roundtrip(MU_WIRE_WANT);
}

static void
test_announce_roundtrip(void **state)
{
	(void)state;
	ids_roundtrip(MU_WIRE_ANNOUNCE);
}

static void
test_recs_roundtrip(void **state)
{
	static const size_t lens[] = {1, 200, 255, 256, 16454, 70000};
	struct mu_wire_blob blobs[MU_WIRE_RECS_MAX + 1];
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_buf b = MU_BUF_INIT;
	uint8_t *data = malloc(70000 + 8); /* blob i starts at i */
	size_t i;

	(void)state;
	assert_non_null(m);
	assert_non_null(data);
	for (i = 0; i < 70000 + 8; i++)
		data[i] = (uint8_t)(i * 31);
	for (i = 0; i < 6; i++) {
		blobs[i].ptr = data + i;
		blobs[i].len = lens[i];
	}
	assert_int_equal(mu_wire_encode_recs(&b, 7, blobs, 6), 0);
	decode_ok(m, &b, MU_WIRE_RECS);
	assert_int_equal(m->req, 7);
	assert_int_equal(m->nrecs, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(m->recs[i].len, lens[i]);
		assert_memory_equal(m->recs[i].ptr, data + i, lens[i]);
	}
	/* The headers stay within what a sender budgets for. */
	{
		size_t body = 0;

		for (i = 0; i < 6; i++)
			body += lens[i];
		assert_true(b.len <=
		            MU_WIRE_RECS_HEAD_MAX + body + 6 * MU_WIRE_BIN_HEAD_MAX);
	}

	/* Exactly the limit, then one more. */
	for (i = 0; i <= MU_WIRE_RECS_MAX; i++) {
		blobs[i].ptr = data + i;
		blobs[i].len = 3;
	}
	b.len = 0;
	assert_int_equal(mu_wire_encode_recs(&b, UINT64_MAX, blobs, MU_WIRE_RECS_MAX),
	                 0);
	decode_ok(m, &b, MU_WIRE_RECS);
	assert_int_equal(m->req, UINT64_MAX);
	assert_int_equal(m->nrecs, MU_WIRE_RECS_MAX);
	assert_int_equal(mu_wire_encode_recs(&b, 1, blobs, MU_WIRE_RECS_MAX + 1),
	                 MU_EINVAL);

	/* Live push: req 0, no records at all is still a message. */
	b.len = 0;
	assert_int_equal(mu_wire_encode_recs(&b, 0, blobs, 0), 0);
	decode_ok(m, &b, MU_WIRE_RECS);
	assert_int_equal(m->req, 0);
	assert_int_equal(m->nrecs, 0);
	assert_prefixes_refused(&b);
	mu_buf_free(&b);
	free(data);
	free(m);
}

static void
test_ack_roundtrip(void **state)
{
	static const uint64_t reqs[] = {0,   1,     127,        128,       255,
	                                256, 65536, 1ull << 32, UINT64_MAX};
	static const uint8_t exact[] = {0x92, 0xa3, 'a', 'c', 'k', 0xcd, 0x01, 0x00};
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		b.len = 0;
		assert_int_equal(mu_wire_encode_ack(&b, reqs[i]), 0);
		decode_ok(&m, &b, MU_WIRE_ACK);
		assert_true(m.req == reqs[i]);
		assert_prefixes_refused(&b);
	}
	b.len = 0;
	assert_int_equal(mu_wire_encode_ack(&b, 256), 0);
	assert_int_equal(b.len, sizeof(exact));
	assert_memory_equal(b.data, exact, sizeof(exact));
	mu_buf_free(&b);
}

static void
test_huge_counts(void **state)
{
	struct w w;

	(void)state;
	/* A want of 4 billion ids in 14 bytes. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "want");
	w_uint(&w, 1);
	w_byte(&w, 0xdd);
	w_be(&w, 0xffffffffu, 4);
	assert_refused(w.b, w.n, "cut off");

	/* A recs array declaring 65535 records with 2 present. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "recs");
	w_uint(&w, 1);
	w_byte(&w, 0xdc);
	w_be(&w, 65535, 2);
	w_bin(&w, (const uint8_t *)"x", 1);
	w_bin(&w, (const uint8_t *)"y", 1);
	assert_refused(w.b, w.n, "cut off");

	/* A hello map of a billion pairs, and a scope of a billion keys. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_byte(&w, 0xdf);
	w_be(&w, 1u << 30, 4);
	assert_refused(w.b, w.n, "cut off");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 2);
	w_str(&w, "agent");
	w_str(&w, "x");
	w_str(&w, "scope");
	w_byte(&w, 0xdd);
	w_be(&w, 1u << 30, 4);
	assert_refused(w.b, w.n, "cut off");

	/* A record declaring 4 GiB, and an outer array of 65535 elements. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "recs");
	w_uint(&w, 0);
	w_arr(&w, 1);
	w_byte(&w, 0xc6);
	w_be(&w, 0xffffffffu, 4);
	w_raw(&w, "abc", 3);
	assert_refused(w.b, w.n, "cut off");
	w.n = 0;
	w_byte(&w, 0xdc);
	w_be(&w, 65535, 2);
	w_str(&w, "ack");
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "cut off");
}

static void
test_too_many(void **state)
{
	struct w *w = malloc(sizeof(*w));
	uint8_t key[32];
	unsigned i;

	(void)state;
	assert_non_null(w);
	w->n = 0;
	w_arr(w, 3);
	w_str(w, "want");
	w_uint(w, 1);
	w_arr(w, MU_WIRE_IDS_MAX + 1);
	for (i = 0; i <= MU_WIRE_IDS_MAX; i++) {
		fill_key(key, i);
		w_bin(w, key, 32);
	}
	assert_refused(w->b, w->n, "more than 1024");

	w->n = 0;
	w_arr(w, 3);
	w_str(w, "recs");
	w_uint(w, 1);
	w_arr(w, MU_WIRE_RECS_MAX + 1);
	for (i = 0; i <= MU_WIRE_RECS_MAX; i++)
		w_bin(w, key, 1);
	assert_refused(w->b, w->n, "more than 64");

	w->n = 0;
	w_arr(w, 2);
	w_str(w, "hello");
	w_map(w, 2);
	w_str(w, "agent");
	w_str(w, "x");
	w_str(w, "scope");
	w_arr(w, MU_WIRE_SCOPE_MAX + 1);
	for (i = 0; i <= MU_WIRE_SCOPE_MAX; i++) {
		fill_key(key, i);
		w_bin(w, key, 32);
	}
	assert_refused(w->b, w->n, "more than 1024");
	free(w);
}

/* ["hello", {"agent": "x", "scope": [k1, k2]}] with keys chosen by i, j. */
static void
hello_two(struct w *w, unsigned i, unsigned j)
{
	uint8_t key[32];

	w->n = 0;
	w_arr(w, 2);
	w_str(w, "hello");
	w_map(w, 2);
	w_str(w, "agent");
	w_str(w, "x");
	w_str(w, "scope");
	w_arr(w, 2);
	fill_key(key, i);
	w_bin(w, key, 32);
	fill_key(key, j);
	w_bin(w, key, 32);
}

static void
test_wrong_types(void **state)
{
	struct mu_wire_msg m;
	struct mu_why why;
	uint8_t key[32];
	struct w w;

	(void)state;
	fill_key(key, 1);
	/* Not an array; an empty array; a type that is not a str. */
	w.n = 0;
	w_map(&w, 0);
	assert_refused(w.b, w.n, "message");
	w.n = 0;
	w_arr(&w, 0);
	assert_refused(w.b, w.n, "empty");
	w.n = 0;
	w_arr(&w, 2);
	w_uint(&w, 1);
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "message type");
	w.n = 0;
	w_arr(&w, 2);
	w_bin(&w, (const uint8_t *)"ack", 3);
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "message type");

	/* ack: a str, a negative number, a non-shortest uint, nil, one too many. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ack");
	w_str(&w, "1");
	assert_refused(w.b, w.n, "req is a str");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ack");
	w_int(&w, -1);
	assert_refused(w.b, w.n, "req");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ack");
	w_byte(&w, 0xcc);
	w_byte(&w, 5);
	assert_refused(w.b, w.n, "longer form");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ack");
	w_byte(&w, 0xc0);
	assert_refused(w.b, w.n, "nil");
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "ack");
	w_uint(&w, 1);
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "3 elements");
	/* Bytes after a complete message. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ack");
	w_uint(&w, 1);
	w_byte(&w, 0x00);
	assert_refused(w.b, w.n, "follow");

	/* want: an id of 31 bytes, an id that is a str. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "want");
	w_uint(&w, 1);
	w_arr(&w, 1);
	w_bin(&w, key, 31);
	assert_refused(w.b, w.n, "not 32");
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "want");
	w_uint(&w, 1);
	w_arr(&w, 1);
	w_strn(&w, (const char *)key, 32);
	assert_refused(w.b, w.n, "want ids");

	/* recs: a record that is an array instead of a bin, an empty one. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "recs");
	w_uint(&w, 0);
	w_arr(&w, 1);
	w_arr(&w, 2);
	w_bin(&w, key, 1);
	w_bin(&w, key, 1);
	assert_refused(w.b, w.n, "recs record");
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "recs");
	w_uint(&w, 0);
	w_arr(&w, 1);
	w_bin(&w, key, 0);
	assert_refused(w.b, w.n, "empty");

	/* neg: a str instead of a bin. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "neg");
	w_str(&w, "a");
	assert_refused(w.b, w.n, "negentropy");

	/* hello: keys in order pass; a scope out of order or repeated fails. */
	hello_two(&w, 1, 2);
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.keys.n, 2);
	hello_two(&w, 2, 1);
	assert_refused(w.b, w.n, "not sorted");
	hello_two(&w, 2, 2);
	assert_refused(w.b, w.n, "not sorted");

	/* hello: map keys out of order, missing fields, a bad agent. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 2);
	w_str(&w, "scope");
	w_arr(&w, 0);
	w_str(&w, "agent");
	w_str(&w, "x");
	assert_refused(w.b, w.n, "not sorted");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 1);
	w_str(&w, "agent");
	w_str(&w, "x");
	assert_refused(w.b, w.n, "lacks \"scope\"");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 2);
	w_str(&w, "agent");
	w_str(&w, "a\x01");
	w_str(&w, "scope");
	w_arr(&w, 0);
	assert_refused(w.b, w.n, "agent");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_arr(&w, 0);
	assert_refused(w.b, w.n, "hello is an array");

	/* hello: an unknown field is skipped when canonical, refused if not. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 3);
	w_str(&w, "addrs");
	w_arr(&w, 2);
	w_map(&w, 1);
	w_str(&w, "k");
	w_int(&w, -5);
	w_byte(&w, 0xc3);
	w_str(&w, "agent");
	w_str(&w, "x");
	w_str(&w, "scope");
	w_arr(&w, 0);
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.type, MU_WIRE_HELLO);
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 3);
	w_str(&w, "addrs");
	w_byte(&w, 0xc0);
	w_str(&w, "agent");
	w_str(&w, "x");
	w_str(&w, "scope");
	w_arr(&w, 0);
	assert_refused(w.b, w.n, "nil");
}

/* ["x", v] where v is an array nested depth levels deep around a 1. */
static void
unknown_nested(struct w *w, int depth)
{
	int i;

	w->n = 0;
	w_arr(w, 2);
	w_str(w, "x");
	for (i = 0; i < depth; i++)
		w_arr(w, 1);
	w_uint(w, 1);
}

static void
test_unknown_type(void **state)
{
	struct mu_wire_msg m;
	struct mu_why why;
	struct w w;

	(void)state;
	/* A canonical message of an unknown type is ignored whole, whatever
	 * its elements. */
	w.n = 0;
	w_arr(&w, 4);
	w_str(&w, "gossip");
	w_uint(&w, 300);
	w_map(&w, 2);
	w_str(&w, "a");
	w_int(&w, -1);
	w_str(&w, "b");
	w_byte(&w, 0xc3);
	w_bin(&w, (const uint8_t *)"xy", 2);
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.type, MU_WIRE_UNKNOWN);
	/* A known name with another case is another type. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "ACK");
	w_uint(&w, 1);
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.type, MU_WIRE_UNKNOWN);
	/* A prefix of a known name too. */
	w.n = 0;
	w_arr(&w, 1);
	w_str(&w, "ne");
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.type, MU_WIRE_UNKNOWN);
	assert_string_equal(mu_wire_type_name(MU_WIRE_NEG_OPEN), "neg-open");
	assert_string_equal(mu_wire_type_name(MU_WIRE_UNKNOWN), "unknown");

	/* But it must be a message (docs/PROTOCOL.md 10.1): a type that may
	 * not appear, a non-shortest form, map keys out of order or not
	 * strings, a count past the end, bytes after it are malformed. */
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "gossip");
	w_byte(&w, 0xc0);
	w_byte(&w, 0xc1);
	assert_refused(w.b, w.n, "unknown type");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "gossip");
	w_byte(&w, 0xcc);
	w_byte(&w, 5);
	assert_refused(w.b, w.n, "unknown type");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "gossip");
	w_map(&w, 2);
	w_str(&w, "b");
	w_uint(&w, 1);
	w_str(&w, "a");
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "out of order");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "gossip");
	w_map(&w, 2);
	w_str(&w, "a");
	w_uint(&w, 1);
	w_str(&w, "a");
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "repeated");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "gossip");
	w_map(&w, 1);
	w_uint(&w, 1);
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "unknown type");
	w.n = 0;
	w_arr(&w, 3);
	w_str(&w, "gossip");
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "cut off");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "gossip");
	w_uint(&w, 1);
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "follow");
	/* Nesting: a value at depth 8 passes, at depth 9 it does not. */
	unknown_nested(&w, 8);
	assert_int_equal(mu_wire_decode(&m, w.b, w.n, &why), 0);
	assert_int_equal(m.type, MU_WIRE_UNKNOWN);
	unknown_nested(&w, 9);
	assert_refused(w.b, w.n, "too deep");
}

/* The sender's clock in hello: optional, a uint, after "scope". */
static void
test_hello_time(void **state)
{
	struct mu_scope *s = mu_scope_new();
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	struct w w;
	static const uint8_t want[] = {
	    0x92, 0xa5, 'h', 'e',  'l', 'l',  'o',  0x83, 0xa5, 'a',  'g',
	    'e',  'n',  't', 0xa1, 'a', 0xa5, 's',  'c',  'o',  'p',  'e',
	    0x90, 0xa4, 't', 'i',  'm', 'e',  0xce, 0x6a, 0x00, 0x00, 0x00};

	(void)state;
	assert_non_null(s);
	assert_int_equal(mu_wire_encode_hello_time(&b, "a", 1, s, 0x6a000000), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	decode_ok(&m, &b, MU_WIRE_HELLO);
	assert_true(m.has_time);
	assert_int_equal(m.time, 0x6a000000);
	assert_prefixes_refused(&b);
	b.len = 0;
	assert_int_equal(mu_wire_encode_hello(&b, "a", 1, s), 0);
	decode_ok(&m, &b, MU_WIRE_HELLO);
	assert_false(m.has_time);
	/* A time that is not a uint, or before "scope", is malformed. */
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 3);
	w_str(&w, "agent");
	w_str(&w, "a");
	w_str(&w, "scope");
	w_arr(&w, 0);
	w_str(&w, "time");
	w_int(&w, -5);
	assert_refused(w.b, w.n, "hello time");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "hello");
	w_map(&w, 3);
	w_str(&w, "agent");
	w_str(&w, "a");
	w_str(&w, "time");
	w_uint(&w, 5);
	w_str(&w, "scope");
	w_arr(&w, 0);
	assert_refused(w.b, w.n, "not sorted");
	mu_buf_free(&b);
	mu_scope_free(s);
}

/* Hellos by digest (docs/PROTOCOL.md 10.1): the digest of the examples, a
 * hello of constant size without the scope, a full one whose digest must
 * be its scope's, and rehello. */
/* Starts ["hello", {"agent": "a", ...}] of nfields fields in all. */
static void
hello_agent(struct w *w, uint32_t nfields)
{
	w->n = 0;
	w_arr(w, 2);
	w_str(w, "hello");
	w_map(w, nfields);
	w_str(w, "agent");
	w_str(w, "a");
}

static void
test_hello_digest(void **state)
{
	static const uint8_t empty_digest[32] = {
	    0x96, 0x55, 0xbc, 0x43, 0x4c, 0xab, 0x30, 0xb0, 0x6f, 0x91, 0xf5,
	    0xf4, 0xcf, 0x63, 0xa0, 0x4b, 0xcf, 0x5f, 0x9c, 0xe2, 0x58, 0x83,
	    0x6b, 0x86, 0xd9, 0x50, 0xc3, 0x0a, 0xbe, 0xf7, 0xd1, 0x05};
	static const uint8_t two_digest[32] = {
	    0xf6, 0xa8, 0x02, 0x1e, 0x8d, 0xa4, 0xa9, 0x69, 0x17, 0x06, 0xaf,
	    0x8f, 0x5f, 0xdc, 0xec, 0x9b, 0x7e, 0xa8, 0x6b, 0x11, 0x5c, 0x09,
	    0x0f, 0x9a, 0x42, 0x0f, 0x03, 0x3a, 0xc5, 0x8d, 0x28, 0x4e};
	static const uint8_t head[] = {0x92, 0xa5, 'h', 'e', 'l', 'l',  'o', 0x82, 0xa5,
	                               'a',  'g',  'e', 'n', 't', 0xa1, 'a', 0xa6, 'd',
	                               'i',  'g',  'e', 's', 't', 0xc4, 0x20};
	static const uint8_t rehello[] = {0x91, 0xa7, 'r', 'e', 'h',
	                                  'e',  'l',  'l', 'o'};
	struct mu_scope *s = mu_scope_new();
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	uint8_t d[32], key[32];
	size_t small, i;
	struct w w;

	(void)state;
	assert_non_null(s);
	mu_wire_scope_digest(s, d);
	assert_memory_equal(d, empty_digest, 32);
	memset(key, 0, 32);
	assert_int_equal(mu_scope_add(s, key), 0);
	memset(key, 1, 32);
	assert_int_equal(mu_scope_add(s, key), 0);
	mu_wire_scope_digest(s, d);
	assert_memory_equal(d, two_digest, 32);

	/* By digest: PROTOCOL.md's 57 bytes for the empty scope. */
	mu_scope_clear(s);
	assert_int_equal(mu_wire_encode_hello_digest(&b, "a", 1, s, false, 0), 0);
	/* time 0 is the positive fixint 00 after "time" */
	assert_int_equal(b.len, 57 + 6);
	b.data[7] = 0x82; /* drop "time" to compare with the example */
	assert_memory_equal(b.data, head, sizeof(head));
	assert_memory_equal(b.data + sizeof(head), empty_digest, 32);
	b.len = 57;
	decode_ok(&m, &b, MU_WIRE_HELLO);
	assert_false(m.has_scope);
	assert_int_equal(m.keys.n, 0);
	assert_non_null(m.digest);
	assert_memory_equal(m.digest, empty_digest, 32);
	assert_prefixes_refused(&b);

	/* Its size does not grow with the scope; the full one's does. */
	for (i = 0; i < 1024; i++) {
		fill_key(key, (unsigned)i);
		assert_int_equal(mu_scope_add(s, key), 0);
	}
	b.len = 0;
	assert_int_equal(mu_wire_encode_hello_digest(&b, "a", 1, s, false, 7), 0);
	small = b.len;
	assert_int_equal(small, 57 + 6);
	decode_ok(&m, &b, MU_WIRE_HELLO);
	mu_wire_scope_digest(s, d);
	assert_memory_equal(m.digest, d, 32);
	assert_true(m.has_time);
	b.len = 0;
	assert_int_equal(mu_wire_encode_hello_digest(&b, "a", 1, s, true, 7), 0);
	assert_int_equal(b.len, small + 6 + 3 + 1024 * 34);
	decode_ok(&m, &b, MU_WIRE_HELLO);
	assert_true(m.has_scope);
	assert_int_equal(m.keys.n, 1024);
	assert_memory_equal(m.digest, d, 32);
	/* A full hello whose digest is not its scope's is malformed. */
	b.data[sizeof(head) + 5] ^= 1;
	assert_refused(b.data, b.len, "digest is not that of its scope");

	/* A digest of another size; neither scope nor digest. */
	hello_agent(&w, 2);
	w_str(&w, "digest");
	w_bin(&w, key, 31);
	assert_refused(w.b, w.n, "digest has 31 bytes");
	hello_agent(&w, 1);
	assert_refused(w.b, w.n, "lacks \"scope\"");
	/* "digest" after "scope" is out of canonical order. */
	hello_agent(&w, 3);
	w_str(&w, "scope");
	w_arr(&w, 0);
	w_str(&w, "digest");
	w_bin(&w, empty_digest, 32);
	assert_refused(w.b, w.n, "not sorted");

	/* rehello: no field; one is malformed. */
	b.len = 0;
	assert_int_equal(mu_wire_encode_rehello(&b), 0);
	assert_int_equal(b.len, sizeof(rehello));
	assert_memory_equal(b.data, rehello, sizeof(rehello));
	decode_ok(&m, &b, MU_WIRE_REHELLO);
	assert_string_equal(mu_wire_type_name(MU_WIRE_REHELLO), "rehello");
	w.n = 0;
	w_arr(&w, 2);
	w_str(&w, "rehello");
	w_uint(&w, 1);
	assert_refused(w.b, w.n, "rehello has 2 elements");
	mu_buf_free(&b);
	mu_scope_free(s);
}

/* Decodes a into m, then moves m to a copy of a's bytes (returned, to
 * free) and overwrites a. */
static uint8_t *
decode_moved(struct mu_wire_msg *m, struct mu_buf *a)
{
	struct mu_why why;
	uint8_t *copy = malloc(a->len);

	assert_non_null(copy);
	assert_int_equal(mu_wire_decode(m, a->data, a->len, &why), 0);
	memcpy(copy, a->data, a->len);
	mu_wire_msg_move(m, a->data, a->len, copy);
	memset(a->data, 0xee, a->len);
	return copy;
}

/* A message kept for later (node/sync.c) is decoded once: moved with its
 * bytes, it reads the copy, and nothing of the first buffer. */
static void
test_msg_move(void **state)
{
	struct mu_buf a = MU_BUF_INIT;
	struct mu_wire_blob recs[2] = {{(const uint8_t *)"first", 5},
	                               {(const uint8_t *)"second", 6}};
	struct mu_wire_msg *m = malloc(sizeof(*m));
	uint8_t *copy;
	uint8_t ids[2][32];

	(void)state;
	assert_non_null(m);
	assert_int_equal(mu_wire_encode_recs(&a, 7, recs, 2), 0);
	copy = decode_moved(m, &a);
	assert_int_equal(m->nrecs, 2);
	assert_true(m->recs[0].ptr >= copy && m->recs[0].ptr < copy + a.len);
	assert_memory_equal(m->recs[0].ptr, "first", 5);
	assert_memory_equal(m->recs[1].ptr, "second", 6);
	free(copy);

	memset(ids, 0x5a, sizeof(ids));
	ids[1][0] = 1;
	a.len = 0;
	assert_int_equal(mu_wire_encode_want(&a, 9, (const uint8_t(*)[32])ids, 2), 0);
	copy = decode_moved(m, &a);
	assert_int_equal(m->keys.n, 2);
	assert_memory_equal(mu_wire_key(&m->keys, 0), ids[0], 32);
	assert_memory_equal(mu_wire_key(&m->keys, 1), ids[1], 32);
	free(copy);

	a.len = 0;
	assert_int_equal(mu_wire_encode_neg(&a, true, (const uint8_t *)"\x61xyz", 4),
	                 0);
	copy = decode_moved(m, &a);
	assert_int_equal(m->neg.len, 4);
	assert_memory_equal(m->neg.ptr, "\x61xyz", 4);
	free(copy);
	free(m);
	mu_buf_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_roundtrip),
	    cmocka_unit_test(test_hello_time),
	    cmocka_unit_test(test_neg_roundtrip),
	    cmocka_unit_test(test_want_roundtrip),
	    cmocka_unit_test(test_announce_roundtrip),
	    cmocka_unit_test(test_recs_roundtrip),
	    cmocka_unit_test(test_ack_roundtrip),
	    cmocka_unit_test(test_huge_counts),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_msg_move),
	    cmocka_unit_test(test_hello_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
