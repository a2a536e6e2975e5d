/*
 * noise.c - Noise handshake and transport state machines (noise.h).
 *
 * Follows the Noise specification, revision 34, sections 5 (processing
 * rules) and 7 (handshake patterns), without PSKs or pre-messages: neither
 * XX nor NN has any.
 */
#include "noise.h"

#include <string.h>

#include <sodium.h>

enum token { T_E, T_S, T_EE, T_ES, T_SE, T_END };

/* Message patterns, one row per handshake message, initiator first. */
static const enum token xx_msgs[3][5] = {
    {T_E, T_END},
    {T_E, T_EE, T_S, T_ES, T_END},
    {T_S, T_SE, T_END},
};
static const enum token nn_msgs[2][5] = {
    {T_E, T_END},
    {T_E, T_EE, T_END},
};

struct mu_noise_cipher {
	uint8_t k[MU_NOISE_KEY_BYTES];
	uint64_t n;
	bool has_key;
};

struct mu_noise_hs {
	enum mu_noise_pattern pattern;
	enum mu_noise_hash hash;
	bool initiator;
	bool failed;
	int next; /* index of the next handshake message */
	size_t hashlen;
	uint8_t ck[MU_NOISE_HASH_MAX];
	uint8_t h[MU_NOISE_HASH_MAX];
	struct mu_noise_cipher cs;
	bool has_s, has_rs, has_re;
	uint8_t s_priv[MU_NOISE_KEY_BYTES], s_pub[MU_NOISE_KEY_BYTES];
	uint8_t e_priv[MU_NOISE_KEY_BYTES], e_pub[MU_NOISE_KEY_BYTES];
	uint8_t rs[MU_NOISE_KEY_BYTES], re[MU_NOISE_KEY_BYTES];
};

/* --- HASH and HMAC-HASH over either hash function ------------------------ */

struct hash_ctx {
	enum mu_noise_hash alg;
	union {
		crypto_generichash_blake2b_state b2;
		crypto_hash_sha256_state sha;
	} u;
};

static size_t
hash_len(enum mu_noise_hash alg)
{
	return alg == MU_NOISE_BLAKE2B ? 64 : 32;
}

static size_t
hash_block_len(enum mu_noise_hash alg)
{
	return alg == MU_NOISE_BLAKE2B ? 128 : 64;
}

static void
hash_init(struct hash_ctx *c, enum mu_noise_hash alg)
{
	c->alg = alg;
	if (alg == MU_NOISE_BLAKE2B)
		crypto_generichash_blake2b_init(&c->u.b2, NULL, 0, 64);
	else
		crypto_hash_sha256_init(&c->u.sha);
}

static void
hash_update(struct hash_ctx *c, const uint8_t *data, size_t len)
{
	if (c->alg == MU_NOISE_BLAKE2B)
		crypto_generichash_blake2b_update(&c->u.b2, data, len);
	else
		crypto_hash_sha256_update(&c->u.sha, data, len);
}

static void
hash_final(struct hash_ctx *c, uint8_t *out)
{
	if (c->alg == MU_NOISE_BLAKE2B)
		crypto_generichash_blake2b_final(&c->u.b2, out, 64);
	else
		crypto_hash_sha256_final(&c->u.sha, out);
	sodium_memzero(c, sizeof(*c));
}

/* HMAC (RFC 2104) over the Noise hash: keys here are never over a block. */
static void
hmac(enum mu_noise_hash alg, const uint8_t *key, size_t key_len, const uint8_t *data1,
     size_t len1, const uint8_t *data2, size_t len2, uint8_t *out)
{
	uint8_t pad[128], inner[MU_NOISE_HASH_MAX];
	size_t block = hash_block_len(alg);
	struct hash_ctx c;
	size_t i;

	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, key_len);
	for (i = 0; i < block; i++)
		pad[i] ^= 0x36;
	hash_init(&c, alg);
	hash_update(&c, pad, block);
	hash_update(&c, data1, len1);
	hash_update(&c, data2, len2);
	hash_final(&c, inner);

	for (i = 0; i < block; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hash_init(&c, alg);
	hash_update(&c, pad, block);
	hash_update(&c, inner, hash_len(alg));
	hash_final(&c, out);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/* HKDF as Noise defines it, producing two outputs. */
static void
hkdf2(enum mu_noise_hash alg, const uint8_t *ck, const uint8_t *ikm, size_t ikm_len,
      uint8_t *out1, uint8_t *out2)
{
	size_t hl = hash_len(alg);
	uint8_t temp[MU_NOISE_HASH_MAX];
	uint8_t one = 0x01, two = 0x02;

	hmac(alg, ck, hl, ikm, ikm_len, NULL, 0, temp);
	hmac(alg, temp, hl, &one, 1, NULL, 0, out1);
	hmac(alg, temp, hl, out1, hl, &two, 1, out2);
	sodium_memzero(temp, sizeof(temp));
}

/* --- CipherState ---------------------------------------------------------- */

static void
nonce_bytes(uint8_t nonce[12], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static int
cipher_encrypt(struct mu_noise_cipher *c, const uint8_t *ad, size_t ad_len,
               const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (!c->has_key) {
		if (len > 0)
			memmove(out, pt, len);
		return 0;
	}
	/* 2^64-1 is reserved; Noise forbids reusing or reaching it. */
	if (c->n == UINT64_MAX)
		return MU_EINVAL;
	nonce_bytes(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, ad, ad_len, NULL,
	                                          nonce, c->k);
	c->n++;
	return 0;
}

static int
cipher_decrypt(struct mu_noise_cipher *c, const uint8_t *ad, size_t ad_len,
               const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (!c->has_key) {
		if (len > 0)
			memmove(out, ct, len);
		return 0;
	}
	if (len < MU_NOISE_TAG_BYTES)
		return MU_ETRUNC;
	if (c->n == UINT64_MAX)
		return MU_EINVAL;
	nonce_bytes(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len, ad,
	                                              ad_len, nonce, c->k) != 0)
		return MU_ESIG;
	c->n++;
	return 0;
}

/* --- SymmetricState ------------------------------------------------------- */

static void
mix_hash(struct mu_noise_hs *hs, const uint8_t *data, size_t len)
{
	struct hash_ctx c;

	hash_init(&c, hs->hash);
	hash_update(&c, hs->h, hs->hashlen);
	hash_update(&c, data, len);
	hash_final(&c, hs->h);
}

static void
mix_key(struct mu_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[MU_NOISE_HASH_MAX];

	hkdf2(hs->hash, hs->ck, ikm, len, hs->ck, temp_k);
	/* A 64-byte hash output is truncated to the 32-byte cipher key. */
	memcpy(hs->cs.k, temp_k, MU_NOISE_KEY_BYTES);
	hs->cs.n = 0;
	hs->cs.has_key = true;
	sodium_memzero(temp_k, sizeof(temp_k));
}

static int
encrypt_and_hash(struct mu_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out,
                 size_t *out_len)
{
	size_t n = len + (hs->cs.has_key ? MU_NOISE_TAG_BYTES : 0);
	int rc;

	rc = cipher_encrypt(&hs->cs, hs->h, hs->hashlen, pt, len, out);
	if (rc != 0)
		return rc;
	mix_hash(hs, out, n);
	*out_len = n;
	return 0;
}

static int
decrypt_and_hash(struct mu_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t h[MU_NOISE_HASH_MAX];
	int rc;

	/* h must be the one before ct is mixed in, and out may alias nothing. */
	memcpy(h, hs->h, hs->hashlen);
	mix_hash(hs, ct, len);
	rc = cipher_decrypt(&hs->cs, h, hs->hashlen, ct, len, out);
	return rc;
}

static int
dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	/* libsodium refuses an all-zero result, which only a low-order
	 * (hostile or broken) public key produces. */
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : MU_ESIG;
}

static int
mix_dh(struct mu_noise_hs *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t shared[32];
	int rc;

	rc = dh(shared, priv, pub);
	if (rc == 0)
		mix_key(hs, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

/* --- HandshakeState ------------------------------------------------------- */

static const char *
protocol_name(enum mu_noise_pattern p, enum mu_noise_hash hash)
{
	if (p == MU_NOISE_XX)
		return hash == MU_NOISE_BLAKE2B ? "Noise_XX_25519_ChaChaPoly_BLAKE2b"
		                                : "Noise_XX_25519_ChaChaPoly_SHA256";
	return hash == MU_NOISE_BLAKE2B ? "Noise_NN_25519_ChaChaPoly_BLAKE2b"
	                                : "Noise_NN_25519_ChaChaPoly_SHA256";
}

static int
message_count(const struct mu_noise_hs *hs)
{
	return hs->pattern == MU_NOISE_XX ? 3 : 2;
}

static const enum token *
message_tokens(const struct mu_noise_hs *hs, int index)
{
	return hs->pattern == MU_NOISE_XX ? xx_msgs[index] : nn_msgs[index];
}

void
mu_noise_public(uint8_t pub[MU_NOISE_KEY_BYTES], const uint8_t priv[MU_NOISE_KEY_BYTES])
{
	crypto_scalarmult_base(pub, priv);
}

int
mu_noise_hs_new(struct mu_noise_hs **out, enum mu_noise_pattern pattern,
                enum mu_noise_hash hash, bool initiator, const uint8_t *prologue,
                size_t prologue_len, const uint8_t *s_priv, const uint8_t *e_priv)
{
	struct mu_noise_hs *hs;
	const char *name;
	size_t name_len;

	*out = NULL;
	if (e_priv == NULL || (pattern == MU_NOISE_XX) != (s_priv != NULL))
		return MU_EINVAL;
	hs = sodium_malloc(sizeof(*hs));
	if (hs == NULL)
		return MU_ENOMEM;
	memset(hs, 0, sizeof(*hs));
	hs->pattern = pattern;
	hs->hash = hash;
	hs->initiator = initiator;
	hs->hashlen = hash_len(hash);

	name = protocol_name(pattern, hash);
	name_len = strlen(name);
	if (name_len <= hs->hashlen) {
		memcpy(hs->h, name, name_len);
	} else {
		struct hash_ctx c;

		hash_init(&c, hash);
		hash_update(&c, (const uint8_t *)name, name_len);
		hash_final(&c, hs->h);
	}
	memcpy(hs->ck, hs->h, hs->hashlen);
	mix_hash(hs, prologue, prologue_len);

	if (s_priv != NULL) {
		memcpy(hs->s_priv, s_priv, MU_NOISE_KEY_BYTES);
		mu_noise_public(hs->s_pub, s_priv);
		hs->has_s = true;
	}
	memcpy(hs->e_priv, e_priv, MU_NOISE_KEY_BYTES);
	mu_noise_public(hs->e_pub, e_priv);
	*out = hs;
	return 0;
}

void
mu_noise_hs_free(struct mu_noise_hs *hs)
{
	sodium_free(hs); /* wipes */
}

bool
mu_noise_hs_our_turn(const struct mu_noise_hs *hs)
{
	return !mu_noise_hs_done(hs) && ((hs->next % 2 == 0) == hs->initiator);
}

bool
mu_noise_hs_done(const struct mu_noise_hs *hs)
{
	return hs->next >= message_count(hs);
}

/* The DH a token calls for, from our side. */
static int
token_dh(struct mu_noise_hs *hs, enum token t)
{
	switch (t) {
	case T_EE:
		return mix_dh(hs, hs->e_priv, hs->re);
	case T_ES: /* initiator's e with responder's s */
		return hs->initiator ? mix_dh(hs, hs->e_priv, hs->rs)
		                     : mix_dh(hs, hs->s_priv, hs->re);
	case T_SE: /* initiator's s with responder's e */
		return hs->initiator ? mix_dh(hs, hs->s_priv, hs->re)
		                     : mix_dh(hs, hs->e_priv, hs->rs);
	default:
		return MU_EINVAL;
	}
}

int
mu_noise_write(struct mu_noise_hs *hs, const uint8_t *payload, size_t payload_len,
               uint8_t *out, size_t cap, size_t *out_len)
{
	const enum token *t;
	size_t pos = 0, n;
	int rc;

	if (hs->failed || !mu_noise_hs_our_turn(hs))
		return MU_EINVAL;
	/* Worst case: e (32) + encrypted s (48) + payload + tag. */
	if (cap < 32 + 48 + payload_len + MU_NOISE_TAG_BYTES ||
	    32 + 48 + payload_len + MU_NOISE_TAG_BYTES > MU_NOISE_MSG_MAX)
		return MU_EINVAL;

	for (t = message_tokens(hs, hs->next); *t != T_END; t++) {
		switch (*t) {
		case T_E:
			memcpy(out + pos, hs->e_pub, 32);
			mix_hash(hs, hs->e_pub, 32);
			pos += 32;
			break;
		case T_S:
			rc = encrypt_and_hash(hs, hs->s_pub, 32, out + pos, &n);
			if (rc != 0)
				goto fail;
			pos += n;
			break;
		default:
			rc = token_dh(hs, *t);
			if (rc != 0)
				goto fail;
		}
	}
	rc = encrypt_and_hash(hs, payload, payload_len, out + pos, &n);
	if (rc != 0)
		goto fail;
	*out_len = pos + n;
	hs->next++;
	return 0;
fail:
	hs->failed = true;
	return rc;
}

int
mu_noise_read(struct mu_noise_hs *hs, const uint8_t *msg, size_t msg_len,
              uint8_t *payload, size_t cap, size_t *payload_len)
{
	const enum token *t;
	size_t pos = 0, n, tag;
	int rc;

	if (hs->failed || mu_noise_hs_done(hs) || mu_noise_hs_our_turn(hs))
		return MU_EINVAL;
	if (msg_len > MU_NOISE_MSG_MAX)
		return MU_EINVAL;

	for (t = message_tokens(hs, hs->next); *t != T_END; t++) {
		switch (*t) {
		case T_E:
			if (msg_len - pos < 32) {
				rc = MU_ETRUNC;
				goto fail;
			}
			memcpy(hs->re, msg + pos, 32);
			hs->has_re = true;
			mix_hash(hs, hs->re, 32);
			pos += 32;
			break;
		case T_S:
			n = 32 + (hs->cs.has_key ? MU_NOISE_TAG_BYTES : 0);
			if (msg_len - pos < n) {
				rc = MU_ETRUNC;
				goto fail;
			}
			rc = decrypt_and_hash(hs, msg + pos, n, hs->rs);
			if (rc != 0)
				goto fail;
			hs->has_rs = true;
			pos += n;
			break;
		default:
			rc = token_dh(hs, *t);
			if (rc != 0)
				goto fail;
		}
	}
	tag = hs->cs.has_key ? MU_NOISE_TAG_BYTES : 0;
	if (msg_len - pos < tag) {
		rc = MU_ETRUNC;
		goto fail;
	}
	if (msg_len - pos - tag > cap) {
		rc = MU_EINVAL;
		goto fail;
	}
	rc = decrypt_and_hash(hs, msg + pos, msg_len - pos, payload);
	if (rc != 0)
		goto fail;
	*payload_len = msg_len - pos - tag;
	hs->next++;
	return 0;
fail:
	hs->failed = true;
	return rc;
}

const uint8_t *
mu_noise_remote_static(const struct mu_noise_hs *hs)
{
	return hs->has_rs ? hs->rs : NULL;
}

const uint8_t *
mu_noise_handshake_hash(const struct mu_noise_hs *hs, size_t *len)
{
	*len = hs->hashlen;
	return hs->h;
}

static struct mu_noise_cipher *
cipher_new(const uint8_t *key)
{
	struct mu_noise_cipher *c = sodium_malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	memcpy(c->k, key, MU_NOISE_KEY_BYTES);
	c->n = 0;
	c->has_key = true;
	return c;
}

int
mu_noise_split(struct mu_noise_hs *hs, struct mu_noise_cipher **send,
               struct mu_noise_cipher **recv)
{
	uint8_t k1[MU_NOISE_HASH_MAX], k2[MU_NOISE_HASH_MAX];
	struct mu_noise_cipher *c1, *c2;
	int rc = 0;

	*send = *recv = NULL;
	if (hs->failed || !mu_noise_hs_done(hs))
		return MU_EINVAL;
	hkdf2(hs->hash, hs->ck, NULL, 0, k1, k2);
	c1 = cipher_new(k1);
	c2 = cipher_new(k2);
	if (c1 == NULL || c2 == NULL) {
		mu_noise_cipher_free(c1);
		mu_noise_cipher_free(c2);
		rc = MU_ENOMEM;
		goto out;
	}
	/* The initiator sends with the first key, the responder with the second. */
	*send = hs->initiator ? c1 : c2;
	*recv = hs->initiator ? c2 : c1;
out:
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	return rc;
}

void
mu_noise_cipher_free(struct mu_noise_cipher *c)
{
	sodium_free(c);
}

int
mu_noise_encrypt(struct mu_noise_cipher *c, const uint8_t *pt, size_t len, uint8_t *out)
{
	return cipher_encrypt(c, NULL, 0, pt, len, out);
}

int
mu_noise_decrypt(struct mu_noise_cipher *c, const uint8_t *ct, size_t len, uint8_t *out)
{
	if (len < MU_NOISE_TAG_BYTES)
		return MU_ETRUNC;
	return cipher_decrypt(c, NULL, 0, ct, len, out);
}
