/*
 * Shamir's secret sharing over GF(2^8), in constant time.
 *
 * Table-driven GF(2^8) arithmetic (log/exp tables) leaks the secret through
 * the cache, so every operation here is computed: eight shift-and-mask
 * steps per product, a fixed exponentiation per inverse.
 */
#include "shamir.h"

#include "error.h"

uint8_t
mu_gf256_mul(uint8_t a, uint8_t b)
{
	unsigned r = 0, x = a, y = b;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= x & (0u - (y & 1u));
		y >>= 1;
		/* Reduce by 0x11b when bit 7 moves out, without a branch. */
		x = ((x << 1) ^ (0x11bu & (0u - (x >> 7)))) & 0xffu;
	}
	return (uint8_t)r;
}

uint8_t
mu_gf256_inv(uint8_t a)
{
	/* a^254 = a^-1, with 254 = 0b11111110: square then multiply, over
	 * an exponent that is public and the same for every a. */
	uint8_t r = 1, p = a;
	int i;

	for (i = 1; i < 8; i++) {
		p = mu_gf256_mul(p, p); /* a^(2^i) */
		r = mu_gf256_mul(r, p);
	}
	return r;
}

int
mu_shamir_split(uint8_t *ys, const uint8_t *secret, size_t len, unsigned k, unsigned n,
                const uint8_t *coeffs)
{
	unsigned i, j;
	size_t b;

	if (k < 2 || n < k || n > MU_SHAMIR_MAX)
		return MU_EINVAL;
	for (i = 0; i < n; i++) {
		uint8_t x = (uint8_t)(i + 1);

		for (b = 0; b < len; b++) {
			/* Horner, from the top coefficient down to the secret. */
			uint8_t y = coeffs[(k - 2) * len + b];

			for (j = k - 2; j > 0; j--)
				y = mu_gf256_mul(y, x) ^ coeffs[(j - 1) * len + b];
			ys[i * len + b] = mu_gf256_mul(y, x) ^ secret[b];
		}
	}
	return 0;
}

int
mu_shamir_eval(uint8_t *out, size_t len, const uint8_t *xs, const uint8_t *const *ys,
               unsigned k, uint8_t at)
{
	unsigned i, j;
	size_t b;

	if (k == 0 || k > MU_SHAMIR_MAX)
		return MU_EINVAL;
	for (i = 0; i < k; i++) {
		if (xs[i] == 0)
			return MU_EINVAL;
		for (j = 0; j < i; j++)
			if (xs[i] == xs[j])
				return MU_EINVAL;
	}
	for (b = 0; b < len; b++)
		out[b] = 0;
	for (i = 0; i < k; i++) {
		/* Lagrange basis at `at`: prod (at - x_j) / (x_i - x_j), where
		 * minus is xor. It depends on the public x's alone. */
		uint8_t num = 1, den = 1, l;

		for (j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = mu_gf256_mul(num, at ^ xs[j]);
			den = mu_gf256_mul(den, xs[i] ^ xs[j]);
		}
		l = mu_gf256_mul(num, mu_gf256_inv(den));
		for (b = 0; b < len; b++)
			out[b] ^= mu_gf256_mul(l, ys[i][b]);
	}
	return 0;
}
