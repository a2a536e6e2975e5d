/*
 * bech32m as BIP-350 specifies it: the BIP-173 BCH code over GF(32) with the
 * final constant 0x2bc830a3, which closes bech32's insertion weakness.
 */
#include "bech32.h"

#include <stdbool.h>
#include <string.h>

#define BECH32M_CONST 0x2bc830a3u
#define HRP_MAX       (MU_BECH32_MAX - 1 - MU_BECH32_CHECKSUM)

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau,
	                                0x3d4233ddu, 0x2a1462b3u};
	uint32_t b = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffffu) << 5) ^ v;
	/* Masks, not branches: the bits of b are random, so a branch on each
	 * is mispredicted half the time (keys are printed by the thousand). */
	for (i = 0; i < 5; i++)
		chk ^= gen[i] & (0u - ((b >> i) & 1u));
	return chk;
}

/* The checksum state after the expanded hrp; hrp must be lowercase. */
static uint32_t
polymod_hrp(const char *hrp, size_t len)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < len; i++)
		chk = polymod_step(chk, (uint8_t)hrp[i] >> 5);
	chk = polymod_step(chk, 0);
	for (i = 0; i < len; i++)
		chk = polymod_step(chk, (uint8_t)hrp[i] & 31);
	return chk;
}

/*
 * The character's value, or -1. Shares carry secret values in their text,
 * so this and the two below look at every entry and select with masks
 * instead of a search that stops early or an index into a table.
 */
static int
charset_index(char c)
{
	unsigned r = 0, found = 0, i, eq;

	for (i = 0; i < 32; i++) {
		/* eq is 1 when c is charset[i], else 0. */
		eq = ((((unsigned char)c ^ (unsigned char)charset[i]) - 1u) >> 8) & 1u;
		r |= i & (0u - eq);
		found |= eq;
	}
	return found ? (int)r : -1;
}

/* charset[v] for v < 32. */
static char
charset_char(unsigned v)
{
	unsigned r = 0, i, eq;

	for (i = 0; i < 32; i++) {
		eq = (((i ^ v) - 1u) >> 8) & 1u;
		r |= (unsigned char)charset[i] & (0u - eq);
	}
	return (char)r;
}

static char
lower(char c)
{
	unsigned u = (unsigned char)c;

	return (char)(u | (0x20u & (0u - ((u - 'A') < 26u))));
}

/* a is lowercase already; b may be in either case. */
static bool
same_hrp(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (*a != lower(*b))
			return false;
	return *a == *b;
}

static int
encode5(char *out, size_t out_size, const char *hrp, const uint8_t *values,
        size_t nvalues, size_t max)
{
	size_t hlen = strlen(hrp), total, i, n = 0;
	uint32_t chk;
	char lhrp[HRP_MAX + 1];

	total = hlen + 1 + nvalues + MU_BECH32_CHECKSUM;
	if (hlen == 0 || hlen > HRP_MAX || nvalues > max || total > max ||
	    out_size < total + 1)
		return MU_EINVAL;
	for (i = 0; i < hlen; i++) {
		if (hrp[i] < 33 || hrp[i] > 126)
			return MU_EINVAL;
		lhrp[i] = lower(hrp[i]);
	}
	chk = polymod_hrp(lhrp, hlen);
	memcpy(out, lhrp, hlen);
	n = hlen;
	out[n++] = '1';
	for (i = 0; i < nvalues; i++) {
		if (values[i] > 31)
			return MU_EINVAL;
		chk = polymod_step(chk, values[i]);
		out[n++] = charset_char(values[i]);
	}
	for (i = 0; i < MU_BECH32_CHECKSUM; i++)
		chk = polymod_step(chk, 0);
	chk ^= BECH32M_CONST;
	for (i = 0; i < MU_BECH32_CHECKSUM; i++)
		out[n++] = charset_char((chk >> (5 * (5 - i))) & 31);
	out[n] = '\0';
	return 0;
}

int
mu_bech32_encode5(char *out, size_t out_size, const char *hrp, const uint8_t *values,
                  size_t nvalues)
{
	return encode5(out, out_size, hrp, values, nvalues, MU_BECH32_MAX);
}

static int
decode5(char *hrp, size_t hrp_size, uint8_t *values, size_t cap, size_t *nvalues,
        const char *text, size_t len, size_t max, struct mu_why *why)
{
	bool has_lower = false, has_upper = false;
	size_t i, sep = len, hlen, ndata;
	uint32_t chk;
	char lhrp[MU_BECH32_BIG_MAX];
	int v;

	if (len == 0)
		return mu_fail(why, MU_EKEYTEXT, "is empty");
	if (len > max)
		return mu_fail(why, MU_EKEYTEXT,
		               "is %zu characters long, over the limit of %zu", len,
		               max);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 33 || c > 126)
			return mu_fail(
			    why, MU_EKEYTEXT,
			    "has byte 0x%02x at position %zu, which is not a "
			    "visible ASCII character",
			    c, i + 1);
		has_lower |= (unsigned)(c - 'a') < 26u;
		has_upper |= (unsigned)(c - 'A') < 26u;
		if (c == '1')
			sep = i;
	}
	if (has_lower && has_upper)
		return mu_fail(why, MU_EKEYTEXT,
		               "mixes upper and lower case: write it all in lowercase "
		               "(or all in uppercase)");
	if (sep == len)
		return mu_fail(why, MU_EKEYTEXT,
		               "has no separator '1' between the prefix and the data");
	if (sep == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "has no prefix before the separator '1'");
	hlen = sep;
	ndata = len - sep - 1;
	if (ndata < MU_BECH32_CHECKSUM)
		return mu_fail(why, MU_EKEYTEXT,
		               "is too short: fewer than %d characters follow the "
		               "separator '1', so the checksum is incomplete",
		               MU_BECH32_CHECKSUM);
	for (i = 0; i < hlen; i++)
		lhrp[i] = lower(text[i]);
	chk = polymod_hrp(lhrp, hlen);
	for (i = sep + 1; i < len; i++) {
		v = charset_index(lower(text[i]));
		if (v < 0)
			return mu_fail(
			    why, MU_EKEYTEXT,
			    "has '%c' at position %zu, which is not a bech32 "
			    "character (b, i, o and 1 never appear after the "
			    "prefix)",
			    text[i], i + 1);
		chk = polymod_step(chk, (uint8_t)v);
	}
	if (chk != BECH32M_CONST)
		return mu_fail(why, MU_EKEYTEXT,
		               "checksum does not match: it was mistyped or truncated");
	ndata -= MU_BECH32_CHECKSUM;
	if (hrp_size < hlen + 1 || cap < ndata)
		return mu_fail(why, MU_EINVAL, "is longer than the caller's buffer");
	memcpy(hrp, lhrp, hlen);
	hrp[hlen] = '\0';
	for (i = 0; i < ndata; i++)
		values[i] = (uint8_t)charset_index(lower(text[sep + 1 + i]));
	*nvalues = ndata;
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

int
mu_bech32_decode5(char *hrp, size_t hrp_size, uint8_t *values, size_t cap,
                  size_t *nvalues, const char *text, size_t len, struct mu_why *why)
{
	return decode5(hrp, hrp_size, values, cap, nvalues, text, len, MU_BECH32_MAX,
	               why);
}

static int
encode(char *out, size_t out_size, const char *hrp, const uint8_t *data, size_t len,
       size_t max)
{
	uint8_t values[MU_BECH32_BIG_MAX];
	size_t i, n = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len > max * 5 / 8)
		return MU_EINVAL;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			values[n++] = (acc >> bits) & 31;
		}
	}
	if (bits > 0)
		values[n++] = (acc << (5 - bits)) & 31;
	return encode5(out, out_size, hrp, values, n, max);
}

int
mu_bech32_encode(char *out, size_t out_size, const char *hrp, const uint8_t *data,
                 size_t len)
{
	return encode(out, out_size, hrp, data, len, MU_BECH32_MAX);
}

int
mu_bech32_encode_long(char *out, size_t out_size, const char *hrp, const uint8_t *data,
                      size_t len)
{
	return encode(out, out_size, hrp, data, len, MU_BECH32_LONG_MAX);
}

static int
decode(uint8_t *data, size_t cap, size_t *len, const char *want_hrp, const char *text,
       size_t text_len, size_t max, struct mu_why *why)
{
	char hrp[MU_BECH32_BIG_MAX + 1];
	uint8_t values[MU_BECH32_BIG_MAX];
	size_t nvalues, i, n = 0;
	uint32_t acc = 0;
	int bits = 0, err;

	err = decode5(hrp, sizeof(hrp), values, sizeof(values), &nvalues, text,
	              text_len, max, why);
	if (err < 0)
		return err;
	if (!same_hrp(hrp, want_hrp))
		return mu_fail(why, MU_EKEYTEXT, "starts with \"%s1\", not \"%s1\"",
		               hrp, want_hrp);
	for (i = 0; i < nvalues; i++) {
		acc = ((acc << 5) | values[i]) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return mu_fail(why, MU_EKEYTEXT,
				               "holds more than %zu bytes", cap);
			data[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5)
		return mu_fail(why, MU_EKEYTEXT,
		               "has a superfluous last character (%d padding bits)",
		               bits);
	if ((acc & ((1u << bits) - 1)) != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "has non-zero padding bits in its last data character");
	*len = n;
	return 0;
}

int
mu_bech32_decode(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                 const char *text, size_t text_len, struct mu_why *why)
{
	return decode(data, cap, len, want_hrp, text, text_len, MU_BECH32_MAX, why);
}

int
mu_bech32_decode_long(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                      const char *text, size_t text_len, struct mu_why *why)
{
	return decode(data, cap, len, want_hrp, text, text_len, MU_BECH32_LONG_MAX,
	              why);
}

int
mu_bech32_encode_big(char *out, size_t out_size, const char *hrp, const uint8_t *data,
                     size_t len)
{
	return encode(out, out_size, hrp, data, len, MU_BECH32_BIG_MAX);
}

int
mu_bech32_decode_big(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                     const char *text, size_t text_len, struct mu_why *why)
{
	return decode(data, cap, len, want_hrp, text, text_len, MU_BECH32_BIG_MAX, why);
}
