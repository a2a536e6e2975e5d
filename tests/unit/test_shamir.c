/*
 * Key shares: GF(2^8) arithmetic and the split against vectors computed
 * independently (Python, with log/exp tables and its own bech32m), every
 * k-subset restoring the secret, k - 1 shares telling nothing about it
 * (exhaustively, byte by byte), the share text and every way a join is
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/shamir.h"
#include "protocol/share.h"
#include "protocol/textform.h"

#define CHARSET "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

static void
hex(uint8_t *out, const char *text, size_t n)
{
	size_t i;

	assert_int_equal(strlen(text), 2 * n);
	for (i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(text + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* --- GF(2^8) ------------------------------------------------------------ */

static void
test_gf256(void **state)
{
	unsigned a, b;

	(void)state;
	/* FIPS-197 section 4.2 and the inverse of its S-box example. */
	assert_int_equal(mu_gf256_mul(0x57, 0x83), 0xc1);
	assert_int_equal(mu_gf256_mul(0x57, 0x13), 0xfe);
	assert_int_equal(mu_gf256_inv(0x53), 0xca);
	assert_int_equal(mu_gf256_inv(0), 0);
	for (a = 0; a < 256; a++) {
		if (a != 0)
			assert_int_equal(
			    mu_gf256_mul((uint8_t)a, mu_gf256_inv((uint8_t)a)), 1);
		for (b = 0; b < 256; b++)
			assert_int_equal(mu_gf256_mul((uint8_t)a, (uint8_t)b),
			                 mu_gf256_mul((uint8_t)b, (uint8_t)a));
	}
}

/* --- the split ---------------------------------------------------------- */

/* secret 00..1f, coefficient of x^j of byte b = 37j + 11b + 5, k = 3. */
static const char *const kat_y[5] = {
    "656e273829e2fbec2d362f60716a233435fef7c839324b7c7d463f30c1faf3c4",
    "73180d4e5fe9acafbdf6e35b2a3114776ee8bd7eb4ef31723bf025469ac1a447",
    "16772875720e514498c9c6305756394c4b0758a599c86c195eaf006d4726499c",
    "34021375b6227ec3a8de79851d9021c73c08b4e48a1c1a27d797ab8d979a8656",
    "516d364e9bc583288de15cee60f70cfc19e7513fa73b474cb2c88ea64a7d6b8d",
};

static void
kat_inputs(uint8_t secret[32], uint8_t coeffs[64])
{
	unsigned j, b;

	for (b = 0; b < 32; b++)
		secret[b] = (uint8_t)b;
	for (j = 1; j <= 2; j++)
		for (b = 0; b < 32; b++)
			coeffs[(j - 1) * 32 + b] = (uint8_t)(j * 37 + b * 11 + 5);
}

static void
test_split_vector(void **state)
{
	uint8_t secret[32], coeffs[64], ys[5 * 32], want[32];
	unsigned i;

	(void)state;
	kat_inputs(secret, coeffs);
	assert_int_equal(mu_shamir_split(ys, secret, 32, 3, 5, coeffs), 0);
	for (i = 0; i < 5; i++) {
		hex(want, kat_y[i], 32);
		assert_memory_equal(ys + i * 32, want, 32);
	}
	assert_int_equal(mu_shamir_split(ys, secret, 32, 1, 5, coeffs), MU_EINVAL);
	assert_int_equal(mu_shamir_split(ys, secret, 32, 3, 2, coeffs), MU_EINVAL);
	assert_int_equal(mu_shamir_split(ys, secret, 32, 3, 256, coeffs), MU_EINVAL);
}

/* Every subset of k of the n shares gives the secret back. */
static void
check_subsets(unsigned k, unsigned n)
{
	uint8_t secret[32], out[32], *coeffs, *ys, xs[16];
	const uint8_t *pts[16];
	unsigned mask, i, m, seen = 0;

	coeffs = malloc((k - 1) * 32);
	ys = malloc(n * 32);
	assert_non_null(coeffs);
	assert_non_null(ys);
	randombytes_buf(secret, sizeof(secret));
	randombytes_buf(coeffs, (k - 1) * 32);
	assert_int_equal(mu_shamir_split(ys, secret, 32, k, n, coeffs), 0);
	for (mask = 0; mask < (1u << n); mask++) {
		if ((unsigned)__builtin_popcount(mask) != k)
			continue;
		for (i = 0, m = 0; i < n; i++)
			if (mask & (1u << i)) {
				xs[m] = (uint8_t)(i + 1);
				pts[m++] = ys + i * 32;
			}
		assert_int_equal(mu_shamir_eval(out, 32, xs, pts, k, 0), 0);
		assert_memory_equal(out, secret, 32);
		/* And at each share's x, the share itself. */
		for (i = 0; i < n; i++) {
			assert_int_equal(
			    mu_shamir_eval(out, 32, xs, pts, k, (uint8_t)(i + 1)), 0);
			assert_memory_equal(out, ys + i * 32, 32);
		}
		/* k - 1 of them interpolate to another value. */
		assert_int_equal(mu_shamir_eval(out, 32, xs, pts, k - 1, 0), 0);
		assert_memory_not_equal(out, secret, 32);
		seen++;
	}
	assert_true(seen > 0);
	free(coeffs);
	free(ys);
}

static void
test_every_subset(void **state)
{
	(void)state;
	check_subsets(2, 2);
	check_subsets(2, 3);
	check_subsets(3, 5);
	check_subsets(4, 7);
	check_subsets(7, 7);
}

/*
 * k - 1 shares tell nothing: over every choice of the random coefficients,
 * each combination of k - 1 share values occurs exactly as often whatever
 * the secret is (once for k = 2 and k = 3 here).
 */
static void
test_fewer_tell_nothing(void **state)
{
	static const uint8_t secrets[] = {0x00, 0x5a, 0xff};
	static unsigned count[65536];
	uint8_t coeffs[2], ys[5], s;
	unsigned c, i, x1, x2;

	(void)state;
	for (i = 0; i < sizeof(secrets); i++) {
		s = secrets[i];
		for (x1 = 0; x1 < 3; x1++) {
			memset(count, 0, 256 * sizeof(count[0]));
			for (c = 0; c < 256; c++) {
				coeffs[0] = (uint8_t)c;
				assert_int_equal(
				    mu_shamir_split(ys, &s, 1, 2, 3, coeffs), 0);
				count[ys[x1]]++;
			}
			for (c = 0; c < 256; c++)
				assert_int_equal(count[c], 1);
		}
		for (x1 = 0; x1 < 5; x1++)
			for (x2 = x1 + 1; x2 < 5; x2++) {
				memset(count, 0, sizeof(count));
				for (c = 0; c < 65536; c++) {
					coeffs[0] = (uint8_t)c;
					coeffs[1] = (uint8_t)(c >> 8);
					assert_int_equal(
					    mu_shamir_split(ys, &s, 1, 3, 5, coeffs),
					    0);
					count[ys[x1] << 8 | ys[x2]]++;
				}
				for (c = 0; c < 65536; c++)
					assert_int_equal(count[c], 1);
			}
	}
}

static void
test_eval_rejects(void **state)
{
	uint8_t out[1], y[1] = {7}, xs[2] = {1, 1}, zero[1] = {0};
	const uint8_t *pts[2] = {y, y};

	(void)state;
	assert_int_equal(mu_shamir_eval(out, 1, xs, pts, 2, 0), MU_EINVAL);
	assert_int_equal(mu_shamir_eval(out, 1, zero, pts, 1, 0), MU_EINVAL);
	assert_int_equal(mu_shamir_eval(out, 1, xs, pts, 0, 0), MU_EINVAL);
}

/* --- shares of a group key ---------------------------------------------- */

/* The seed 00..1f split with the vector's coefficients, k = 3, id
 * a1b2c3d4: shares 1 and 2 as text, from the Python reference. */
static const char kat_text1[] =
    "mushare1qypsrgdjc02q8gg8hleuuy97r4cd6x88f0qfjely6ccfhfgdtuwaepnyzf2nrwr9dc"
    "nns20zl0kz6d30vpck5ge5xhl00jpexf9hcl2x8ucvr7hnc3tz9uqrk2rrq3";
static const char kat_text2[] =
    "mushare1qyps9gdjc02q8gg8hleuuy97r4cd6x88f0qfjely6ccfhfgdtuwaepnyzf2nrwrnrq"
    "x5uhlf4jhmmahrtv4rz9rhdm5t6l45auchywlsy4rf4sdygaw497ajhundq6";
static const char kat_group[] =
    "mug1qwss00lnecgtu8tsm5vwwj7qn9n7f43snwjs6hcamjrxgyj4xxuqwda7yr";

struct fixture {
	uint8_t seed[32], group[32], set[4];
	struct mu_share v[5];
};

static void
make_split(struct fixture *fx, unsigned need, unsigned n, bool random)
{
	uint8_t coeffs[64 * 4], sk[64];

	if (random) {
		randombytes_buf(fx->seed, 32);
		randombytes_buf(fx->set, 4);
		randombytes_buf(coeffs, sizeof(coeffs));
	} else {
		kat_inputs(fx->seed, coeffs);
		hex(fx->set, "a1b2c3d4", 4);
	}
	crypto_sign_seed_keypair(fx->group, sk, fx->seed);
	assert_int_equal(
	    mu_share_split(fx->v, n, need, fx->seed, fx->group, fx->set, coeffs), 0);
}

static void
test_share_text_vector(void **state)
{
	struct fixture fx;
	struct mu_share s;
	char text[MU_SHARE_TEXT_SIZE], key[MU_KEY_TEXT_SIZE];
	char text2[MU_SHARE_TEXT_SIZE + 8];
	struct mu_why why = {0};

	(void)state;
	make_split(&fx, 3, 5, false);
	mu_key_to_text(key, fx.group);
	assert_string_equal(key, kat_group);
	mu_share_to_text(text, &fx.v[0]);
	assert_string_equal(text, kat_text1);
	assert_int_equal(strlen(text), MU_SHARE_TEXT_LEN);
	mu_share_to_text(text, &fx.v[1]);
	assert_string_equal(text, kat_text2);

	snprintf(text2, sizeof(text2), "  \n%s\r\n", kat_text2);
	assert_int_equal(mu_share_from_text(&s, text2, &why), 0);
	assert_memory_equal(&s, &fx.v[1], sizeof(s));
	assert_int_equal(s.need, 3);
	assert_int_equal(s.x, 2);
}

static void
test_share_text_rejects(void **state)
{
	static const char charset[] = CHARSET;
	struct mu_why why = {0};
	struct mu_share s;
	char text[MU_SHARE_TEXT_SIZE + 8];
	size_t i, c;

	(void)state;
	/* Every single substitution after the prefix is caught. */
	for (i = 8; i < MU_SHARE_TEXT_LEN; i++) {
		for (c = 0; c < 32; c++) {
			memcpy(text, kat_text1, sizeof(kat_text1));
			if (text[i] == charset[c])
				continue;
			text[i] = charset[c];
			assert_int_equal(mu_share_from_text(&s, text, &why),
			                 MU_EKEYTEXT);
			assert_contains(why.text, "is mistyped");
		}
	}
	/* Two neighbours swapped, and cut short. */
	for (i = 8; i + 1 < MU_SHARE_TEXT_LEN; i++) {
		memcpy(text, kat_text1, sizeof(kat_text1));
		if (text[i] == text[i + 1])
			continue;
		text[i] = kat_text1[i + 1];
		text[i + 1] = kat_text1[i];
		assert_int_equal(mu_share_from_text(&s, text, &why), MU_EKEYTEXT);
	}
	memcpy(text, kat_text1, sizeof(kat_text1));
	text[100] = '\0';
	assert_int_equal(mu_share_from_text(&s, text, &why), MU_EKEYTEXT);
	assert_contains(why.text, "cut short");

	assert_int_equal(mu_share_from_text(&s, kat_group, &why), MU_EKEYTEXT);
	assert_contains(why.text, "is a group key");
	assert_int_equal(mu_share_from_text(&s, "hello", &why), MU_EKEYTEXT);
	assert_contains(why.text, "is not a key share");
	assert_int_equal(mu_share_from_text(&s, "", &why), MU_EKEYTEXT);
	assert_contains(why.text, "is empty");
}

static void
assert_fault(const struct mu_share *v, size_t n, enum mu_share_fault_kind kind,
             size_t a, size_t b)
{
	uint8_t seed[32];
	struct mu_share_fault f;

	memset(seed, 0xee, sizeof(seed));
	assert_int_equal(mu_share_join(seed, v, n, &f), MU_EKEYTEXT);
	assert_int_equal(f.kind, kind);
	assert_int_equal(f.a, a);
	assert_int_equal(f.b, b);
	/* Nothing of a failed join is left behind. */
	for (size_t i = 0; i < sizeof(seed); i++)
		assert_int_equal(seed[i], 0);
}

static void
test_join_pairs(void **state)
{
	struct fixture fx;
	struct mu_share v[3];
	struct mu_share_fault f;
	uint8_t seed[32];
	unsigned i, j;

	(void)state;
	make_split(&fx, 2, 3, true);
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			if (i == j)
				continue;
			v[0] = fx.v[i];
			v[1] = fx.v[j];
			assert_int_equal(mu_share_join(seed, v, 2, &f), 0);
			assert_memory_equal(seed, fx.seed, 32);
		}
	assert_int_equal(mu_share_join(seed, fx.v, 3, &f), 0);
	assert_memory_equal(seed, fx.seed, 32);

	/* k - 1 shares are too few. */
	assert_int_equal(mu_share_join(seed, fx.v, 1, &f), MU_EKEYTEXT);
	assert_int_equal(f.kind, MU_SHARE_TOO_FEW);
	assert_int_equal(f.have, 1);
	assert_int_equal(f.need, 2);
}

static void
test_join_faults(void **state)
{
	struct fixture fx, other, again;
	struct mu_share v[3];

	(void)state;
	make_split(&fx, 2, 3, true);
	make_split(&other, 2, 3, true);

	/* A share of another group. */
	v[0] = fx.v[0];
	v[1] = other.v[1];
	assert_fault(v, 2, MU_SHARE_OTHER_GROUP, 1, 0);

	/* A share of another split of the same key. */
	again = fx;
	randombytes_buf(again.set, 4);
	{
		uint8_t coeffs[32];

		randombytes_buf(coeffs, sizeof(coeffs));
		assert_int_equal(
		    mu_share_split(again.v, 3, 2, fx.seed, fx.group, again.set, coeffs),
		    0);
	}
	v[0] = fx.v[0];
	v[1] = again.v[1];
	assert_fault(v, 2, MU_SHARE_OTHER_SPLIT, 1, 0);

	/* The same share twice, and two different shares numbered alike. */
	v[0] = fx.v[1];
	v[1] = fx.v[1];
	assert_fault(v, 2, MU_SHARE_REPEATED, 1, 0);
	v[1].y[5] ^= 1;
	assert_fault(v, 2, MU_SHARE_CLASH, 1, 0);

	/* A wrong value that passes every check of its own: caught by the
	 * group key. */
	v[0] = fx.v[0];
	v[1] = fx.v[2];
	v[1].y[31] ^= 0x80;
	assert_fault(v, 2, MU_SHARE_WRONG_KEY, 0, 0);

	/* One more share than needed, and that one wrong: named. */
	v[0] = fx.v[0];
	v[1] = fx.v[1];
	v[2] = fx.v[2];
	v[2].y[0] ^= 1;
	assert_fault(v, 3, MU_SHARE_NOT_FITTING, 2, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gf256),
	    cmocka_unit_test(test_split_vector),
	    cmocka_unit_test(test_every_subset),
	    cmocka_unit_test(test_fewer_tell_nothing),
	    cmocka_unit_test(test_eval_rejects),
	    cmocka_unit_test(test_share_text_vector),
	    cmocka_unit_test(test_share_text_rejects),
	    cmocka_unit_test(test_join_pairs),
	    cmocka_unit_test(test_join_faults),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
