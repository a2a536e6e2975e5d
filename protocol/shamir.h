/*
 * shamir.h - Shamir's secret sharing over GF(2^8) (docs/PROTOCOL.md, "Key
 * shares").
 *
 * Every byte of the secret is the constant term of its own polynomial of
 * degree k - 1 over GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1
 * (0x11b); share x is the value of each polynomial at x (1 to 255). Any k
 * shares give the secret back by Lagrange interpolation at 0; fewer tell
 * nothing about it.
 *
 * Constant time in the secret data: multiplication is shifts and masks and
 * inversion a fixed chain of them, with no table indexed by a secret and no
 * branch on one. Only the share numbers, which are public, steer loops.
 *
 * Pure: the random coefficients are the caller's (randombytes_buf() in real
 * use, fixed in tests), and so is every buffer. Callers keep secrets,
 * coefficients and shares in sodium_malloc() memory.
 */
#ifndef MU_SHAMIR_H
#define MU_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define MU_SHAMIR_MAX 255 /* shares of one split: x is 1 to 255 */

/* a * b in GF(2^8) mod 0x11b. */
uint8_t mu_gf256_mul(uint8_t a, uint8_t b);

/* The inverse of a in GF(2^8) (a^254); 0 for 0. */
uint8_t mu_gf256_inv(uint8_t a);

/*
 * Splits len bytes of secret into n shares of which k are needed
 * (2 <= k <= n <= MU_SHAMIR_MAX): share i (0-based) is the value at x = i + 1
 * and goes to ys + i * len. coeffs holds (k - 1) * len random bytes: the
 * coefficient of x^j of byte b is coeffs[(j - 1) * len + b].
 * Returns 0, or MU_EINVAL for k or n out of range.
 */
int mu_shamir_split(uint8_t *ys, const uint8_t *secret, size_t len, unsigned k,
                    unsigned n, const uint8_t *coeffs);

/*
 * The value at x = at of the polynomials through the k points (xs[i],
 * ys[i]), each ys[i] len bytes, into out (len bytes): at = 0 gives the
 * secret; at = a share's x tells whether that share lies on the same
 * polynomials. Returns 0, or MU_EINVAL when k is 0 or over MU_SHAMIR_MAX,
 * an x is 0 or two are equal.
 */
int mu_shamir_eval(uint8_t *out, size_t len, const uint8_t *xs,
                   const uint8_t *const *ys, unsigned k, uint8_t at);

#endif
