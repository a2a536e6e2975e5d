/*
 * Invite codes (protocol/invite.h): the text round-trips; every mistyped
 * character, a cut and a wrong prefix are refused with what is wrong; the
 * bytes are those docs/PROTOCOL.md describes (the example there is
 * checked here); the proof is bound to the session and the joiner; the
 * wire messages that carry it round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/bech32.h"
#include "protocol/invite.h"
#include "protocol/wire.h"

#define CHARSET "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

/* The example of docs/PROTOCOL.md, "Invite codes". */
static const char example[] =
    "muinv1qyqqzqsrqszsvpcgpy9qkrqdpc83qygjzv2p29shrqv35xcur50p7qgpqyqszqgpqy"
    "qszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqqqqqqrtxmkgqpndw4ehgetjqg8rzwfj9c"
    "czuv3wxuarwdpjxqf9kv3sxqcn5erz8qar5v2a8gmngv3s3tuc2ms6xmqyk";

static void
assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void
example_invite(struct mu_invite *inv)
{
	memset(inv, 0, sizeof(*inv));
	for (int i = 0; i < MU_KEY_BYTES; i++)
		inv->group[i] = (uint8_t)i;
	memset(inv->seed, 1, sizeof(inv->seed));
	inv->expires = 1798761600; /* 2027-01-01T00:00:00Z */
	snprintf(inv->network, sizeof(inv->network), "muster");
	inv->naddrs = 2;
	snprintf(inv->addrs[0], sizeof(inv->addrs[0]), "192.0.2.7:7420");
	snprintf(inv->addrs[1], sizeof(inv->addrs[1]), "[2001:db8::1]:7420");
}

static void
test_roundtrip(void **state)
{
	struct mu_invite a, b;
	char text[MU_INVITE_TEXT_SIZE];
	struct mu_why why = {0};

	(void)state;
	example_invite(&a);
	snprintf(a.addrs[1], sizeof(a.addrs[1]), "%.56s.onion:7420",
	         "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx");
	assert_int_equal(mu_invite_to_text(text, &a), 0);
	assert_int_equal(strncmp(text, "muinv1", 6), 0);
	assert_int_equal(mu_invite_from_text(&b, text, &why), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Surrounding white space and all-uppercase are read too. */
	for (char *p = text; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	{
		char padded[MU_INVITE_TEXT_SIZE + 4];

		snprintf(padded, sizeof(padded), "  %s\n", text);
		assert_int_equal(mu_invite_from_text(&b, padded, &why), 0);
	}
	assert_memory_equal(&a, &b, sizeof(a));
}

/* The bytes are those of docs/PROTOCOL.md: the example there is this. */
static void
test_example(void **state)
{
	struct mu_invite a, b;
	char text[MU_INVITE_TEXT_SIZE];
	struct mu_why why = {0};

	(void)state;
	example_invite(&a);
	assert_int_equal(mu_invite_to_text(text, &a), 0);
	if (getenv("INVITE_PRINT") != NULL)
		printf("%s\n", text);
	assert_string_equal(text, example);
	assert_int_equal(mu_invite_from_text(&b, example, &why), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_mistyped(void **state)
{
	struct mu_invite a, b;
	char text[MU_INVITE_TEXT_SIZE], bad[MU_INVITE_TEXT_SIZE];
	struct mu_why why = {0};
	size_t len, i, c, refused = 0;

	(void)state;
	example_invite(&a);
	assert_int_equal(mu_invite_to_text(text, &a), 0);
	len = strlen(text);
	/* Every substitution of one data character is refused as mistyped. */
	for (i = 6; i < len; i++) {
		for (c = 0; c < 32; c++) {
			if (CHARSET[c] == text[i])
				continue;
			memcpy(bad, text, len + 1);
			bad[i] = CHARSET[c];
			assert_int_equal(mu_invite_from_text(&b, bad, &why),
			                 MU_EKEYTEXT);
			assert_contains(why.text, "mistyped");
			refused++;
		}
	}
	assert_int_equal(refused, (len - 6) * 31);
	/* Cut short, or a character dropped. */
	memcpy(bad, text, len + 1);
	bad[len - 10] = '\0';
	assert_int_equal(mu_invite_from_text(&b, bad, &why), MU_EKEYTEXT);
	assert_contains(why.text, "mistyped");
	memcpy(bad, text, len + 1);
	memmove(bad + 20, bad + 21, len - 20);
	assert_int_equal(mu_invite_from_text(&b, bad, &why), MU_EKEYTEXT);
	assert_contains(why.text, "mistyped");
}

static void
test_not_a_code(void **state)
{
	struct mu_invite b;
	struct mu_why why = {0};
	uint8_t data[80] = {0};
	char text[MU_INVITE_TEXT_SIZE];

	(void)state;
	assert_int_equal(mu_invite_from_text(&b, "  ", &why), MU_EKEYTEXT);
	assert_contains(why.text, "no invite code given");
	assert_int_equal(
	    mu_invite_from_text(
	        &b, "mug1qwss00lnecgtu8tsm5vwwj7qn9n7f43snwjs6hcamjrxgyj4xxuqwda7yr",
	        &why),
	    MU_EKEYTEXT);
	assert_contains(why.text, "group key");
	assert_int_equal(mu_invite_from_text(&b, "hello world", &why), MU_EKEYTEXT);
	assert_contains(why.text, "does not start with \"muinv1\"");
	/* A valid bech32m text whose bytes fail their own check. */
	assert_int_equal(mu_bech32_encode_big(text, sizeof(text), "muinv", data, 80),
	                 0);
	assert_int_equal(mu_invite_from_text(&b, text, &why), MU_EKEYTEXT);
	assert_contains(why.text, "own check");
}

/* The text of n bytes b with their own check appended (b has room). */
static void
raw_code(char text[MU_INVITE_TEXT_SIZE], uint8_t *b, size_t n)
{
	uint8_t h[32];

	crypto_generichash(h, 32, b, n, NULL, 0);
	memcpy(b + n, h, 4);
	assert_int_equal(
	    mu_bech32_encode_big(text, MU_INVITE_TEXT_SIZE, "muinv", b, n + 4), 0);
}

/* Bytes with a good check but another format, or content that is not
 * what the format says. */
static void
test_format(void **state)
{
	uint8_t b[200];
	char text[MU_INVITE_TEXT_SIZE];
	struct mu_invite inv;
	struct mu_why why = {0};
	size_t n = 0;

	(void)state;
	memset(b, 0, sizeof(b));
	b[n++] = 2;
	n += 32 + 32 + 8;
	b[n++] = 1;
	b[n++] = 'x';
	b[n++] = 0;
	raw_code(text, b, n);
	assert_int_equal(mu_invite_from_text(&inv, text, &why), MU_EKEYTEXT);
	assert_contains(why.text, "format 2");
	/* Version 1, but an address runs past the end. */
	b[0] = 1;
	b[n - 1] = 1;
	raw_code(text, b, n);
	assert_int_equal(mu_invite_from_text(&inv, text, &why), MU_EKEYTEXT);
	assert_contains(why.text, "not valid");
}

static void
test_encode_limits(void **state)
{
	struct mu_invite a;
	char text[MU_INVITE_TEXT_SIZE];

	(void)state;
	example_invite(&a);
	a.network[0] = '\0';
	assert_int_equal(mu_invite_to_text(text, &a), MU_EINVAL);
	example_invite(&a);
	a.naddrs = MU_INVITE_ADDRS_MAX + 1;
	assert_int_equal(mu_invite_to_text(text, &a), MU_EINVAL);
	/* Eight addresses of 60 bytes fit in the text. */
	example_invite(&a);
	a.naddrs = MU_INVITE_ADDRS_MAX;
	for (size_t i = 0; i < a.naddrs; i++)
		snprintf(a.addrs[i], sizeof(a.addrs[i]), "%055zu:7420", i);
	assert_int_equal(mu_invite_to_text(text, &a), 0);
	assert_true(strlen(text) < MU_INVITE_TEXT_SIZE);
}

static void
test_proof(void **state)
{
	uint8_t seed[32], other[32], pub[32], opub[32], h[64], joiner[32], sig[64];

	(void)state;
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf(other, sizeof(other));
	randombytes_buf(h, sizeof(h));
	randombytes_buf(joiner, sizeof(joiner));
	mu_invite_public(pub, seed);
	mu_invite_public(opub, other);
	mu_invite_sign(sig, seed, h, sizeof(h), joiner);
	assert_int_equal(mu_invite_verify(sig, pub, h, sizeof(h), joiner), 0);
	assert_int_equal(mu_invite_verify(sig, opub, h, sizeof(h), joiner), MU_ESIG);
	joiner[0] ^= 1;
	assert_int_equal(mu_invite_verify(sig, pub, h, sizeof(h), joiner), MU_ESIG);
	joiner[0] ^= 1;
	h[63] ^= 1; /* another session */
	assert_int_equal(mu_invite_verify(sig, pub, h, sizeof(h), joiner), MU_ESIG);
}

static void
test_wire(void **state)
{
	struct mu_buf out = {0};
	struct mu_wire_msg m;
	struct mu_why why = {0};
	uint8_t pub[32], proof[64];

	(void)state;
	memset(pub, 7, sizeof(pub));
	memset(proof, 9, sizeof(proof));
	assert_int_equal(mu_wire_encode_invite(&out, pub, proof, "Harbour", 7), 0);
	assert_int_equal(mu_wire_decode(&m, out.data, out.len, &why), 0);
	assert_int_equal(m.type, MU_WIRE_INVITE);
	assert_memory_equal(m.pub, pub, 32);
	assert_memory_equal(m.proof, proof, 64);
	assert_int_equal(m.text_len, 7);
	assert_memory_equal(m.text, "Harbour", 7);
	/* 94 a6 "invite" c4 20 ... c4 40 ... a7 "Harbour" */
	assert_int_equal(out.len, 1 + 7 + 34 + 66 + 8);
	assert_int_equal(out.data[0], 0x94);
	out.len = 0;
	assert_int_equal(mu_wire_encode_invited(&out, "expired"), 0);
	assert_int_equal(mu_wire_decode(&m, out.data, out.len, &why), 0);
	assert_int_equal(m.type, MU_WIRE_INVITED);
	assert_int_equal(m.text_len, 7);
	/* A name with a control character is refused both ways. */
	out.len = 0;
	assert_int_equal(mu_wire_encode_invite(&out, pub, proof, "a\nb", 3), MU_EINVAL);
	mu_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_example),
	    cmocka_unit_test(test_mistyped),  cmocka_unit_test(test_not_a_code),
	    cmocka_unit_test(test_format),    cmocka_unit_test(test_encode_limits),
	    cmocka_unit_test(test_proof),     cmocka_unit_test(test_wire),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
