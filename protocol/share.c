/*
 * Key shares: the split and join of the group's seed, and the share's text
 * (docs/PROTOCOL.md, "Key shares").
 *
 * People type shares back from paper, so every way a share can be wrong
 * gets its own answer that names it: mistyped (the checksum or the share's
 * own check), another group's or another split's, given twice, or not on
 * the others' polynomials. A join never hands back a seed that does not
 * derive the group's public key.
 */
#include "share.h"

#include <string.h>

#include <sodium.h>

#include "bech32.h"
#include "shamir.h"

#define OFF_SET   3
#define OFF_GROUP (OFF_SET + MU_SHARE_SET_BYTES)
#define OFF_Y     (OFF_GROUP + MU_KEY_BYTES)
#define OFF_CHECK (OFF_Y + MU_SHARE_SEED_BYTES)

_Static_assert(OFF_CHECK + MU_SHARE_CHECK_BYTES == MU_SHARE_BYTES, "share layout");
_Static_assert(sizeof(MU_SHARE_HRP) + (MU_SHARE_BYTES * 8 + 4) / 5 +
                       MU_BECH32_CHECKSUM ==
                   MU_SHARE_TEXT_LEN,
               "share text length");
_Static_assert(MU_SHARE_TEXT_LEN <= MU_BECH32_LONG_MAX, "share text fits");

int
mu_share_split(struct mu_share *out, unsigned n, unsigned need,
               const uint8_t seed[MU_SHARE_SEED_BYTES],
               const uint8_t group[MU_KEY_BYTES], const uint8_t set[MU_SHARE_SET_BYTES],
               const uint8_t *coeffs)
{
	uint8_t *ys;
	unsigned i;
	int err;

	if (need < 2 || n < need || n > MU_SHAMIR_MAX)
		return MU_EINVAL;
	ys = sodium_malloc((size_t)n * MU_SHARE_SEED_BYTES);
	if (ys == NULL)
		return MU_ENOMEM;
	err = mu_shamir_split(ys, seed, MU_SHARE_SEED_BYTES, need, n, coeffs);
	for (i = 0; err == 0 && i < n; i++) {
		out[i].need = (uint8_t)need;
		out[i].x = (uint8_t)(i + 1);
		memcpy(out[i].set, set, MU_SHARE_SET_BYTES);
		memcpy(out[i].group, group, MU_KEY_BYTES);
		memcpy(out[i].y, ys + (size_t)i * MU_SHARE_SEED_BYTES,
		       MU_SHARE_SEED_BYTES);
	}
	sodium_free(ys);
	return err;
}

/* The share's own check: the first bytes of BLAKE2b-256 of what precedes. */
static void
share_check(uint8_t out[MU_SHARE_CHECK_BYTES], const uint8_t *bytes)
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), bytes, OFF_CHECK, NULL, 0);
	memcpy(out, h, MU_SHARE_CHECK_BYTES);
}

void
mu_share_to_text(char out[MU_SHARE_TEXT_SIZE], const struct mu_share *s)
{
	uint8_t b[MU_SHARE_BYTES];

	b[0] = MU_SHARE_VERSION;
	b[1] = s->need;
	b[2] = s->x;
	memcpy(b + OFF_SET, s->set, MU_SHARE_SET_BYTES);
	memcpy(b + OFF_GROUP, s->group, MU_KEY_BYTES);
	memcpy(b + OFF_Y, s->y, MU_SHARE_SEED_BYTES);
	share_check(b + OFF_CHECK, b);
	/* Cannot fail: the hrp and the size are fixed and valid. */
	(void)mu_bech32_encode_long(out, MU_SHARE_TEXT_SIZE, MU_SHARE_HRP, b,
	                            sizeof(b));
	sodium_memzero(b, sizeof(b));
}

static bool
starts_with(const char *s, size_t len, const char *prefix)
{
	size_t i;

	for (i = 0; prefix[i] != '\0'; i++) {
		char c = i < len ? s[i] : '\0';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			return false;
	}
	return true;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int
from_span(struct mu_share *s, uint8_t *b, const char *text, size_t len,
          struct mu_why *why)
{
	uint8_t check[MU_SHARE_CHECK_BYTES];
	struct mu_why inner;
	size_t n;
	int err;

	if (len == 0)
		return mu_fail(why, MU_EKEYTEXT, "is empty");
	if (starts_with(text, len, "mug1"))
		return mu_fail(why, MU_EKEYTEXT,
		               "is a group key (mug1...), not a key share "
		               "(mushare1...)");
	if (!starts_with(text, len, MU_SHARE_HRP "1"))
		return mu_fail(why, MU_EKEYTEXT,
		               "is not a key share: it does not start with "
		               "\"" MU_SHARE_HRP "1\"");
	if (len != MU_SHARE_TEXT_LEN)
		return mu_fail(why, MU_EKEYTEXT,
		               "is mistyped: it is %zu characters long, not %d "
		               "(%s)",
		               len, MU_SHARE_TEXT_LEN,
		               len < MU_SHARE_TEXT_LEN ? "cut short"
		                                       : "extra characters");
	err = mu_bech32_decode_long(b, MU_SHARE_BYTES, &n, MU_SHARE_HRP, text, len,
	                            &inner);
	if (err < 0)
		return mu_fail(why, MU_EKEYTEXT, "is mistyped: the text %s",
		               inner.text);
	if (n != MU_SHARE_BYTES)
		return mu_fail(why, MU_EKEYTEXT,
		               "is mistyped: it holds %zu bytes, not %d", n,
		               MU_SHARE_BYTES);
	share_check(check, b);
	if (sodium_memcmp(check, b + OFF_CHECK, MU_SHARE_CHECK_BYTES) != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "is mistyped: its checksum matches but its own check "
		               "does not");
	if (b[0] != MU_SHARE_VERSION)
		return mu_fail(why, MU_EKEYTEXT,
		               "is of share format %u, which this muster does not "
		               "read: use a newer muster",
		               b[0]);
	if (b[1] < 2 || b[2] == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "is not a valid share: it says %u shares are needed "
		               "and it is number %u",
		               b[1], b[2]);
	s->need = b[1];
	s->x = b[2];
	memcpy(s->set, b + OFF_SET, MU_SHARE_SET_BYTES);
	memcpy(s->group, b + OFF_GROUP, MU_KEY_BYTES);
	memcpy(s->y, b + OFF_Y, MU_SHARE_SEED_BYTES);
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

int
mu_share_from_text(struct mu_share *s, const char *text, struct mu_why *why)
{
	uint8_t b[MU_SHARE_BYTES];
	size_t len;
	int err;

	while (is_space(*text))
		text++;
	len = strlen(text);
	while (len > 0 && is_space(text[len - 1]))
		len--;
	err = from_span(s, b, text, len, why);
	sodium_memzero(b, sizeof(b));
	return err;
}

static int
fault(struct mu_share_fault *f, enum mu_share_fault_kind kind, size_t a, size_t b)
{
	f->kind = kind;
	f->a = a;
	f->b = b;
	return MU_EKEYTEXT;
}

int
mu_share_join(uint8_t seed[MU_SHARE_SEED_BYTES], const struct mu_share *v, size_t n,
              struct mu_share_fault *f)
{
	uint8_t xs[MU_SHAMIR_MAX], pk[MU_KEY_BYTES];
	const uint8_t *ys[MU_SHAMIR_MAX];
	size_t pick[MU_SHAMIR_MAX], i, j, k = 0;
	uint8_t *sk = NULL, *at = NULL;
	int err = 0;

	memset(f, 0, sizeof(*f));
	sodium_memzero(seed, MU_SHARE_SEED_BYTES);
	for (i = 0; i < n; i++) {
		bool repeat = false;

		if (i > 0 && memcmp(v[i].group, v[0].group, MU_KEY_BYTES) != 0)
			return fault(f, MU_SHARE_OTHER_GROUP, i, 0);
		if (i > 0 && (memcmp(v[i].set, v[0].set, MU_SHARE_SET_BYTES) != 0 ||
		              v[i].need != v[0].need))
			return fault(f, MU_SHARE_OTHER_SPLIT, i, 0);
		for (j = 0; j < i; j++) {
			if (v[j].x != v[i].x)
				continue;
			if (sodium_memcmp(v[j].y, v[i].y, MU_SHARE_SEED_BYTES) != 0)
				return fault(f, MU_SHARE_CLASH, i, j);
			repeat = true;
			break;
		}
		if (repeat) {
			/* Given twice is harmless, but said: it is not a second
			 * share, and the count below must not take it for one. */
			return fault(f, MU_SHARE_REPEATED, i, j);
		}
		if (k < v[0].need) {
			pick[k] = i;
			xs[k] = v[i].x;
			ys[k] = v[i].y;
			k++;
		}
	}
	if (n == 0 || k < v[0].need) {
		f->kind = MU_SHARE_TOO_FEW;
		f->have = (unsigned)k;
		f->need = n == 0 ? 2 : v[0].need;
		return MU_EKEYTEXT;
	}
	sk = sodium_malloc(MU_SECRET_BYTES);
	at = sodium_malloc(MU_SHARE_SEED_BYTES);
	if (sk == NULL || at == NULL) {
		err = MU_ENOMEM;
		goto out;
	}
	err = mu_shamir_eval(seed, MU_SHARE_SEED_BYTES, xs, ys, (unsigned)k, 0);
	if (err != 0)
		goto out;
	crypto_sign_seed_keypair(pk, sk, seed);
	if (sodium_memcmp(pk, v[0].group, MU_KEY_BYTES) != 0) {
		err = fault(f, MU_SHARE_WRONG_KEY, 0, 0);
		goto out;
	}
	/* The seed is right, so a share off its polynomials is the wrong one. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < k && pick[j] != i; j++)
			;
		if (j < k)
			continue;
		err = mu_shamir_eval(at, MU_SHARE_SEED_BYTES, xs, ys, (unsigned)k,
		                     v[i].x);
		if (err == 0 && sodium_memcmp(at, v[i].y, MU_SHARE_SEED_BYTES) != 0)
			err = fault(f, MU_SHARE_NOT_FITTING, i, 0);
		if (err != 0)
			goto out;
	}
out:
	if (err != 0)
		sodium_memzero(seed, MU_SHARE_SEED_BYTES);
	sodium_free(sk);
	sodium_free(at);
	return err;
}
