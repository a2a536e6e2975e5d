/*
 * Helpers shared by the record tests: fixed test keys, a raw msgpack writer
 * for hand-made (and deliberately non-canonical) bodies, and signing of such
 * bodies, so that a test's record fails the rule it is about and not the
 * signature.
 *
 * The writer here is the one place in muster that emits msgpack by hand; it
 * exists so that tests do not depend on the encoder they check.
 */
#ifndef MU_TEST_REC_UTIL_H
#define MU_TEST_REC_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "protocol/record.h"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z: "now" in the tests */

struct key {
	uint8_t pk[MU_KEY_BYTES];
	uint8_t sk[MU_SECRET_BYTES];
};

/* A key from a seed of 32 equal bytes: stable across runs. */
static inline void
key_from_byte(struct key *k, uint8_t b)
{
	uint8_t seed[32];

	memset(seed, b, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static inline struct mu_str
S(const char *s) {
	struct mu_str m = {s, strlen(s)};

	return m;
}

/* Fails unless rc is code and why names the rule ("rule: ..."). */
#define assert_rule(rc, code, why, rule)                                               \
	assert_rule_at((rc), (code), (why), (rule), __FILE__, __LINE__)

static inline void
assert_rule_at(int rc, int code, const struct mu_why *why, const char *rule,
               const char *file, int line)
{
	size_t n = strlen(rule);

	if (rc != code || strncmp(why->text, rule, n) != 0 || why->text[n] != ':')
		fail_msg("%s:%d: expected %d with rule \"%s\", got %d: \"%s\"", file,
		         line, code, rule, rc, why->text);
}

/* --- a raw msgpack writer ---------------------------------------------- */

struct w {
	uint8_t b[40000];
	size_t n;
};

static inline void
w_raw(struct w *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static inline void
w_byte(struct w *w, uint8_t x)
{
	w_raw(w, &x, 1);
}

/* A big-endian number of the given width. */
static inline void
w_be(struct w *w, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		w_byte(w, (uint8_t)(v >> (8 * bytes)));
}

static inline void
w_uint(struct w *w, uint64_t v)
{
	if (v < 128) {
		w_byte(w, (uint8_t)v);
	} else if (v < 256) {
		w_byte(w, 0xcc);
		w_be(w, v, 1);
	} else if (v < 65536) {
		w_byte(w, 0xcd);
		w_be(w, v, 2);
	} else if (v < (1ull << 32)) {
		w_byte(w, 0xce);
		w_be(w, v, 4);
	} else {
		w_byte(w, 0xcf);
		w_be(w, v, 8);
	}
}

static inline void
w_int(struct w *w, int64_t v)
{
	if (v >= 0) {
		w_uint(w, (uint64_t)v);
	} else if (v >= -32) {
		w_byte(w, (uint8_t)v);
	} else if (v >= -128) {
		w_byte(w, 0xd0);
		w_be(w, (uint64_t)v, 1);
	} else if (v >= -32768) {
		w_byte(w, 0xd1);
		w_be(w, (uint64_t)v, 2);
	} else if (v >= -2147483648LL) {
		w_byte(w, 0xd2);
		w_be(w, (uint64_t)v, 4);
	} else {
		w_byte(w, 0xd3);
		w_be(w, (uint64_t)v, 8);
	}
}

static inline void
w_strn(struct w *w, const char *s, size_t n)
{
	if (n < 32) {
		w_byte(w, (uint8_t)(0xa0 | n));
	} else if (n < 256) {
		w_byte(w, 0xd9);
		w_be(w, n, 1);
	} else if (n < 65536) {
		w_byte(w, 0xda);
		w_be(w, n, 2);
	} else {
		w_byte(w, 0xdb);
		w_be(w, n, 4);
	}
	w_raw(w, s, n);
}

static inline void
w_str(struct w *w, const char *s)
{
	w_strn(w, s, strlen(s));
}

static inline void
w_bin(struct w *w, const uint8_t *p, size_t n)
{
	if (n < 256) {
		w_byte(w, 0xc4);
		w_be(w, n, 1);
	} else if (n < 65536) {
		w_byte(w, 0xc5);
		w_be(w, n, 2);
	} else {
		w_byte(w, 0xc6);
		w_be(w, n, 4);
	}
	w_raw(w, p, n);
}

static inline void
w_arr(struct w *w, uint32_t n)
{
	if (n < 16) {
		w_byte(w, (uint8_t)(0x90 | n));
	} else if (n < 65536) {
		w_byte(w, 0xdc);
		w_be(w, n, 2);
	} else {
		w_byte(w, 0xdd);
		w_be(w, n, 4);
	}
}

static inline void
w_map(struct w *w, uint32_t n)
{
	if (n < 16) {
		w_byte(w, (uint8_t)(0x80 | n));
	} else if (n < 65536) {
		w_byte(w, 0xde);
		w_be(w, n, 2);
	} else {
		w_byte(w, 0xdf);
		w_be(w, n, 4);
	}
}

/* The body's array and its first seven fields; the content map follows. */
static inline void
w_header(struct w *w, const char *kind, const uint8_t *group, const uint8_t *signer,
         uint64_t created_at, const char *d, uint64_t rev)
{
	w_arr(w, 8);
	w_uint(w, 1);
	w_str(w, kind);
	w_bin(w, group, MU_KEY_BYTES);
	w_bin(w, signer, MU_KEY_BYTES);
	w_uint(w, created_at);
	w_str(w, d);
	w_uint(w, rev);
}

/* Wraps a body into a record [bin body, bin sig], signed as section 2.3 says. */
static inline void
w_record(struct w *out, const uint8_t *body, size_t len, const uint8_t *sk)
{
	uint8_t msg[MU_SIG_CONTEXT_LEN + MU_ID_BYTES], sig[MU_SIG_BYTES];

	memcpy(msg, MU_SIG_CONTEXT, MU_SIG_CONTEXT_LEN);
	crypto_generichash(msg + MU_SIG_CONTEXT_LEN, MU_ID_BYTES, body, len, NULL, 0);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	out->n = 0;
	w_arr(out, 2);
	w_bin(out, body, len);
	w_bin(out, sig, sizeof(sig));
}

/* Signs the body in w with sk and parses it at T0. */
static inline int
w_parse(const struct w *body, const uint8_t *sk, struct mu_record *rec,
        struct mu_why *why)
{
	static struct w rec_bytes;

	w_record(&rec_bytes, body->b, body->n, sk);
	return mu_rec_parse(rec, rec_bytes.b, rec_bytes.n, T0, 0, why);
}

#endif
