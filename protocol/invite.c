/*
 * Invite codes: their bytes, their text and the proof that redeems one
 * (docs/PROTOCOL.md, "Invite codes").
 *
 * Codes travel through chats that wrap, trim or mangle text, so a reader
 * tells a mistyped code (checksum or own check) from a text that is no
 * code at all, and one written by a newer muster.
 */
#include "invite.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "bech32.h"

#define FIX "ask the inviter to send it again, and copy it whole"

/* version, group, seed, expires, network length */
#define HEAD_BYTES (1 + MU_KEY_BYTES + MU_INVITE_SEED_BYTES + 8 + 1)

static void
check_of(uint8_t out[MU_INVITE_CHECK_BYTES], const uint8_t *b, size_t n)
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), b, n, NULL, 0);
	memcpy(out, h, MU_INVITE_CHECK_BYTES);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool
printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] > 126)
			return false;
	return true;
}

int
mu_invite_to_text(char out[MU_INVITE_TEXT_SIZE], const struct mu_invite *inv)
{
	uint8_t b[MU_INVITE_BYTES_MAX];
	size_t n = 0, nlen = strnlen(inv->network, MU_INVITE_NETWORK_MAX + 1), alen;

	if (nlen == 0 || nlen > MU_INVITE_NETWORK_MAX ||
	    !printable(inv->network, nlen) || inv->naddrs > MU_INVITE_ADDRS_MAX ||
	    inv->expires < 0)
		return MU_EINVAL;
	b[n++] = MU_INVITE_VERSION;
	memcpy(b + n, inv->group, MU_KEY_BYTES);
	n += MU_KEY_BYTES;
	memcpy(b + n, inv->seed, MU_INVITE_SEED_BYTES);
	n += MU_INVITE_SEED_BYTES;
	put_be64(b + n, (uint64_t)inv->expires);
	n += 8;
	b[n++] = (uint8_t)nlen;
	memcpy(b + n, inv->network, nlen);
	n += nlen;
	b[n++] = (uint8_t)inv->naddrs;
	for (size_t i = 0; i < inv->naddrs; i++) {
		alen = strnlen(inv->addrs[i], MU_INVITE_ADDR_MAX + 1);
		if (alen == 0 || alen > MU_INVITE_ADDR_MAX ||
		    n + 1 + alen + MU_INVITE_CHECK_BYTES > sizeof(b))
			return MU_EINVAL;
		b[n++] = (uint8_t)alen;
		memcpy(b + n, inv->addrs[i], alen);
		n += alen;
	}
	check_of(b + n, b, n);
	n += MU_INVITE_CHECK_BYTES;
	return mu_bech32_encode_big(out, MU_INVITE_TEXT_SIZE, MU_INVITE_HRP, b, n);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Parses the bytes of a code whose checks passed. */
static int
parse(struct mu_invite *inv, const uint8_t *b, size_t n, struct mu_why *why)
{
	size_t at = HEAD_BYTES, nlen, alen;
	uint64_t exp;

	memset(inv, 0, sizeof(*inv));
	memcpy(inv->group, b + 1, MU_KEY_BYTES);
	memcpy(inv->seed, b + 1 + MU_KEY_BYTES, MU_INVITE_SEED_BYTES);
	exp = get_be64(b + 1 + MU_KEY_BYTES + MU_INVITE_SEED_BYTES);
	nlen = b[HEAD_BYTES - 1];
	if (exp > INT64_MAX || nlen == 0 || nlen > MU_INVITE_NETWORK_MAX ||
	    at + nlen + 1 > n || !printable((const char *)b + at, nlen))
		goto bad;
	inv->expires = (int64_t)exp;
	memcpy(inv->network, b + at, nlen);
	at += nlen;
	inv->naddrs = b[at++];
	if (inv->naddrs > MU_INVITE_ADDRS_MAX)
		goto bad;
	for (size_t i = 0; i < inv->naddrs; i++) {
		if (at >= n)
			goto bad;
		alen = b[at++];
		if (alen == 0 || at + alen > n ||
		    !printable((const char *)b + at, alen))
			goto bad;
		memcpy(inv->addrs[i], b + at, alen);
		at += alen;
	}
	if (at != n)
		goto bad;
	return 0;
bad:
	sodium_memzero(inv, sizeof(*inv));
	return mu_fail(why, MU_EKEYTEXT,
	               "the invite code's checksum matches but its content is not "
	               "valid: it was not made by muster; " FIX);
}

int
mu_invite_from_text(struct mu_invite *inv, const char *text, struct mu_why *why)
{
	static const char prefix[] = MU_INVITE_HRP "1";
	uint8_t b[MU_INVITE_BYTES_MAX], check[MU_INVITE_CHECK_BYTES];
	struct mu_why inner = {0};
	size_t len, n;
	int rc;

	while (is_space(*text))
		text++;
	len = strlen(text);
	while (len > 0 && is_space(text[len - 1]))
		len--;
	if (len == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "no invite code given: paste the code that `muster "
		               "invite` printed (muinv1...)");
	if (len >= 4 && strncasecmp(text, "mug1", 4) == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "that is a group key (mug1...), not an invite code "
		               "(muinv1...): to sync with a known group use `muster "
		               "peer add`; to join, ask for an invite code");
	if (len < sizeof(prefix) - 1 ||
	    strncasecmp(text, prefix, sizeof(prefix) - 1) != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "the invite code does not start with \"muinv1\", so it "
		               "is not an invite code; " FIX);
	rc = mu_bech32_decode_big(b, sizeof(b), &n, MU_INVITE_HRP, text, len, &inner);
	if (rc != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "the invite code is mistyped: it %s; " FIX, inner.text);
	if (n < HEAD_BYTES + 1 + MU_INVITE_CHECK_BYTES)
		return mu_fail(why, MU_EKEYTEXT,
		               "the invite code is mistyped: it holds %zu bytes, too "
		               "few; " FIX,
		               n);
	check_of(check, b, n - MU_INVITE_CHECK_BYTES);
	if (sodium_memcmp(check, b + n - MU_INVITE_CHECK_BYTES,
	                  MU_INVITE_CHECK_BYTES) != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "the invite code is mistyped: its checksum matches but "
		               "its own check does not; " FIX);
	if (b[0] != MU_INVITE_VERSION)
		return mu_fail(why, MU_EKEYTEXT,
		               "the invite code is of format %u, which this muster "
		               "does not read: use a newer muster",
		               b[0]);
	rc = parse(inv, b, n - MU_INVITE_CHECK_BYTES, why);
	sodium_memzero(b, sizeof(b));
	if (rc == 0 && why != NULL)
		why->text[0] = '\0';
	return rc;
}

void
mu_invite_public(uint8_t pub[MU_KEY_BYTES], const uint8_t seed[MU_INVITE_SEED_BYTES])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pub, sk, seed);
	sodium_memzero(sk, sizeof(sk));
}

#define CTX_LEN 16

static size_t
message(uint8_t *m, const uint8_t *binding, size_t blen,
        const uint8_t joiner[MU_KEY_BYTES])
{
	if (blen > MU_INVITE_BINDING_MAX)
		blen = MU_INVITE_BINDING_MAX;
	memcpy(m, MU_INVITE_PROOF_CONTEXT, CTX_LEN);
	memcpy(m + CTX_LEN, binding, blen);
	memcpy(m + CTX_LEN + blen, joiner, MU_KEY_BYTES);
	return CTX_LEN + blen + MU_KEY_BYTES;
}

void
mu_invite_sign(uint8_t sig[64], const uint8_t seed[MU_INVITE_SEED_BYTES],
               const uint8_t *binding, size_t blen, const uint8_t joiner[MU_KEY_BYTES])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t m[CTX_LEN + MU_INVITE_BINDING_MAX + MU_KEY_BYTES];
	size_t mlen = message(m, binding, blen, joiner);

	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, m, mlen, sk);
	sodium_memzero(sk, sizeof(sk));
}

int
mu_invite_verify(const uint8_t sig[64], const uint8_t pub[MU_KEY_BYTES],
                 const uint8_t *binding, size_t blen,
                 const uint8_t joiner[MU_KEY_BYTES])
{
	uint8_t m[CTX_LEN + MU_INVITE_BINDING_MAX + MU_KEY_BYTES];
	size_t mlen = message(m, binding, blen, joiner);

	return crypto_sign_verify_detached(sig, m, mlen, pub) == 0 ? 0 : MU_ESIG;
}
