/*
 * session.c - the transport session state machine (session.h).
 */
#include "session.h"

#include <string.h>

#include <sodium.h>

#include "record.h"

#define PROLOGUE_PREFIX "muster/1 "
/* The identity payload: msgpack [bin 32 group, bin 64 proof], fixed layout,
 * or [group, proof, bin organizer record], or [group, proof, bin 32
 * organizer key] (docs/PROTOCOL.md 9.1). */
#define IDENTITY_LEN     (1 + 2 + 32 + 2 + 64)
#define IDENTITY_KEY_LEN (IDENTITY_LEN + 2 + 32)
#define IDENTITY_ORG_MAX (IDENTITY_LEN + 3 + MU_SESS_ORGANIZER_MAX)

struct mu_sess {
	struct mu_noise_hs *hs;
	struct mu_noise_cipher *tx, *rx;
	bool initiator;
	bool dead;
	bool has_expect;
	bool has_peer_group;
	bool has_peer_organizer;
	uint8_t expect[32];
	uint8_t peer_group[32];
	uint8_t peer_organizer[32];
	mu_sess_vouch_fn vouch;
	void *vouch_ctx;
	struct mu_buf in; /* bytes of incomplete incoming messages */
	uint8_t identity[IDENTITY_ORG_MAX];
	size_t identity_len;
	uint8_t hash[MU_SESS_HASH_MAX]; /* the handshake hash, once ready */
	size_t hash_len;
};

void
mu_sess_sign_proof(uint8_t proof[64], const uint8_t noise_public[32],
                   const uint8_t group_secret[64])
{
	uint8_t msg[MU_SESS_PROOF_CONTEXT_LEN + 32];

	memcpy(msg, MU_SESS_PROOF_CONTEXT, MU_SESS_PROOF_CONTEXT_LEN);
	memcpy(msg + MU_SESS_PROOF_CONTEXT_LEN, noise_public, 32);
	crypto_sign_detached(proof, NULL, msg, sizeof(msg), group_secret);
}

/* Its length; 0 when the organizer record does not fit. */
static size_t
encode_identity(uint8_t out[IDENTITY_ORG_MAX], const struct mu_sess_identity *id)
{
	size_t n = id->organizer_len, k = IDENTITY_LEN;

	if (n > MU_SESS_ORGANIZER_MAX)
		return 0;
	out[0] = n > 0 || id->by_key ? 0x93 : 0x92;
	out[1] = 0xc4;
	out[2] = 32;
	memcpy(out + 3, id->group, 32);
	out[35] = 0xc4;
	out[36] = 64;
	memcpy(out + 37, id->proof, 64);
	if (n == 0 && id->by_key) {
		out[k++] = 0xc4;
		out[k++] = 32;
		memcpy(out + k, id->organizer_key, 32);
		return IDENTITY_KEY_LEN;
	}
	if (n == 0)
		return k;
	/* Canonical bin header: bin 8 below 256 bytes, else bin 16. */
	if (n < 256) {
		out[k++] = 0xc4;
	} else {
		out[k++] = 0xc5;
		out[k++] = (uint8_t)(n >> 8);
	}
	out[k++] = (uint8_t)n;
	memcpy(out + k, id->organizer, n);
	return k + n;
}

/*
 * The organizer variant's record, after [group, proof]: a valid organizer
 * record of that group, active; its key into *key. The clock is not
 * checked (pure code; the record was valid when its group made it).
 */
static int
check_organizer(const uint8_t *p, size_t len, const uint8_t group[32], uint8_t key[32],
                struct mu_why *why)
{
	struct mu_record rec;
	struct mu_why rwhy = {0};
	size_t hdr = 0, n = 0;

	if (len >= 2 && p[0] == 0xc4) {
		hdr = 2;
		n = p[1];
	} else if (len >= 3 && p[0] == 0xc5 && p[1] != 0) {
		hdr = 3;
		n = (size_t)p[1] << 8 | p[2];
	}
	if (hdr == 0 || hdr + n != len)
		return mu_fail(why, MU_EFORMAT,
		               "handshake: the peer's identity is not [group, proof, "
		               "organizer record]");
	if (mu_rec_parse(&rec, p + hdr, n, 0, MU_PARSE_NOCLOCK, &rwhy) != 0)
		return mu_fail(why, MU_ESIG,
		               "handshake: the peer's organizer record is not valid: "
		               "%s",
		               rwhy.text);
	if (rec.kind != MU_KIND_ORGANIZER || memcmp(rec.group, group, 32) != 0 ||
	    rec.c.organizer.status != MU_ORGANIZER_ACTIVE)
		return mu_fail(why, MU_ESIG,
		               "handshake: the peer's organizer record is not an "
		               "active organizer record of the group it claims");
	memcpy(key, rec.c.organizer.key, 32);
	return 0;
}

/* Whether p (len bytes) is the key form: [group, proof, bin 32 key]. No
 * organizer record is 32 bytes long, so the forms never overlap. */
static bool
is_key_form(const uint8_t *p, size_t len)
{
	return len == IDENTITY_KEY_LEN && p[0] == 0x93 && p[IDENTITY_LEN] == 0xc4 &&
	       p[IDENTITY_LEN + 1] == 32;
}

/* Checks the peer's identity payload against the static key it used. */
static int
check_identity(struct mu_sess *s, const uint8_t *p, size_t len, struct mu_why *why)
{
	const uint8_t *rs = mu_noise_remote_static(s->hs);
	uint8_t msg[MU_SESS_PROOF_CONTEXT_LEN + 32];
	const uint8_t *signer = p + 3;
	bool by_key = is_key_form(p, len);
	int rc;

	if (len < IDENTITY_LEN || (p[0] != 0x92 && p[0] != 0x93) || p[1] != 0xc4 ||
	    p[2] != 32 || p[35] != 0xc4 || p[36] != 64 ||
	    (p[0] == 0x92 && len != IDENTITY_LEN))
		return mu_fail(why, MU_EFORMAT,
		               "handshake: the peer's identity is not [group, proof]");
	if (by_key) {
		memcpy(s->peer_organizer, p + IDENTITY_LEN + 2, 32);
		signer = s->peer_organizer;
	} else if (p[0] == 0x93) {
		rc = check_organizer(p + IDENTITY_LEN, len - IDENTITY_LEN, p + 3,
		                     s->peer_organizer, why);
		if (rc != 0)
			return rc;
		signer = s->peer_organizer;
	}
	memcpy(msg, MU_SESS_PROOF_CONTEXT, MU_SESS_PROOF_CONTEXT_LEN);
	memcpy(msg + MU_SESS_PROOF_CONTEXT_LEN, rs, 32);
	if (crypto_sign_verify_detached(p + 37, msg, sizeof(msg), signer) != 0)
		return mu_fail(why, MU_ESIG,
		               p[0] == 0x93 ? "handshake: the peer's organizer key did "
		                              "not sign its connection key"
		                            : "handshake: the peer's group key did not "
		                              "sign its connection key");
	s->has_peer_organizer = p[0] == 0x93;
	memcpy(s->peer_group, p + 3, 32);
	s->has_peer_group = true;
	if (s->has_expect && sodium_memcmp(s->peer_group, s->expect, 32) != 0)
		return mu_fail(why, MU_EPERM,
		               "handshake: the peer proved a different group key "
		               "than the one expected for it");
	if (!by_key)
		return 0;
	/* No record came along: only our own store can say the key speaks
	 * for the group. */
	if (s->vouch == NULL)
		return mu_fail(why, MU_EPERM,
		               "handshake: the peer proved its group with an "
		               "organizer key alone, and this node cannot look "
		               "organizer records up");
	return s->vouch(s->vouch_ctx, s->peer_group, s->peer_organizer, why);
}

static int
put_frame_header(struct mu_buf *send, size_t len)
{
	uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	return mu_buf_append(send, hdr, 2);
}

/* Writes our next handshake message, framed, to send. */
static int
write_handshake(struct mu_sess *s, const uint8_t *payload, size_t plen,
                struct mu_buf *send)
{
	uint8_t msg[MU_SESS_HANDSHAKE_MAX];
	size_t len;
	int rc;

	rc = mu_noise_write(s->hs, payload, plen, msg, sizeof(msg), &len);
	if (rc == 0)
		rc = put_frame_header(send, len);
	if (rc == 0)
		rc = mu_buf_append(send, msg, len);
	return rc;
}

static int
finish_handshake(struct mu_sess *s)
{
	const uint8_t *h = mu_noise_handshake_hash(s->hs, &s->hash_len);
	int rc;

	if (s->hash_len > sizeof(s->hash))
		s->hash_len = sizeof(s->hash);
	memcpy(s->hash, h, s->hash_len);
	rc = mu_noise_split(s->hs, &s->tx, &s->rx);
	if (rc == 0) {
		mu_noise_hs_free(s->hs);
		s->hs = NULL;
	}
	return rc;
}

int
mu_sess_new(struct mu_sess **out, bool initiator, const char *network,
            const struct mu_sess_identity *id, const uint8_t *expect_group,
            const uint8_t e_secret[MU_NOISE_KEY_BYTES], struct mu_buf *send,
            struct mu_why *why)
{
	uint8_t prologue[sizeof(PROLOGUE_PREFIX) + MU_SESS_NETWORK_MAX];
	size_t nlen = strlen(network), plen;
	struct mu_sess *s;
	int rc;

	*out = NULL;
	if (nlen == 0 || nlen > MU_SESS_NETWORK_MAX)
		return mu_fail(why, MU_EINVAL, "network name must be 1-%d bytes",
		               MU_SESS_NETWORK_MAX);
	for (size_t i = 0; i < nlen; i++)
		if (network[i] <= ' ' || network[i] > '~')
			return mu_fail(why, MU_EINVAL,
			               "network name may hold only printable ASCII "
			               "without spaces");
	plen = strlen(PROLOGUE_PREFIX);
	memcpy(prologue, PROLOGUE_PREFIX, plen);
	memcpy(prologue + plen, network, nlen);
	plen += nlen;

	s = sodium_malloc(sizeof(*s));
	if (s == NULL)
		return MU_ENOMEM;
	memset(s, 0, sizeof(*s));
	s->initiator = initiator;
	if (expect_group != NULL) {
		s->has_expect = true;
		memcpy(s->expect, expect_group, 32);
	}
	if ((s->identity_len = encode_identity(s->identity, id)) == 0) {
		rc = mu_fail(why, MU_EINVAL,
		             "the organizer record of this node's identity is %zu "
		             "bytes, at most %d",
		             id->organizer_len, MU_SESS_ORGANIZER_MAX);
		goto fail;
	}
	rc = mu_noise_hs_new(&s->hs, MU_NOISE_XX, MU_NOISE_BLAKE2B, initiator, prologue,
	                     plen, id->noise_secret, e_secret);
	if (rc != 0)
		goto fail;
	/* The first message carries nothing: identities travel encrypted. */
	if (initiator && (rc = write_handshake(s, NULL, 0, send)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	mu_sess_free(s);
	return rc;
}

void
mu_sess_free(struct mu_sess *s)
{
	if (s == NULL)
		return;
	mu_noise_hs_free(s->hs);
	mu_noise_cipher_free(s->tx);
	mu_noise_cipher_free(s->rx);
	if (s->in.data != NULL)
		sodium_memzero(s->in.data, s->in.cap);
	mu_buf_free(&s->in);
	sodium_free(s);
}

void
mu_sess_set_vouch(struct mu_sess *s, mu_sess_vouch_fn fn, void *ctx)
{
	s->vouch = fn;
	s->vouch_ctx = ctx;
}

bool
mu_sess_ready(const struct mu_sess *s)
{
	return s->tx != NULL && !s->dead;
}

const uint8_t *
mu_sess_peer_group(const struct mu_sess *s)
{
	return mu_sess_ready(s) ? s->peer_group : NULL;
}

const uint8_t *
mu_sess_handshake_hash(const struct mu_sess *s, size_t *len)
{
	*len = mu_sess_ready(s) ? s->hash_len : 0;
	return mu_sess_ready(s) ? s->hash : NULL;
}

const uint8_t *
mu_sess_proven_group(const struct mu_sess *s)
{
	return s->has_peer_group ? s->peer_group : NULL;
}

const uint8_t *
mu_sess_peer_organizer(const struct mu_sess *s)
{
	return mu_sess_ready(s) && s->has_peer_organizer ? s->peer_organizer : NULL;
}

size_t
mu_sess_pending(const struct mu_sess *s)
{
	return s->in.len;
}

/* One complete handshake message from the peer. */
static int
on_handshake(struct mu_sess *s, const uint8_t *msg, size_t len, struct mu_buf *send,
             struct mu_why *why)
{
	uint8_t payload[MU_SESS_HANDSHAKE_MAX];
	size_t plen;
	int rc;

	rc = mu_noise_read(s->hs, msg, len, payload, sizeof(payload), &plen);
	if (rc != 0)
		return mu_fail(why, rc == MU_ETRUNC ? MU_EFORMAT : MU_ESIG,
		               "handshake: message %s",
		               rc == MU_ETRUNC ? "too short"
		                               : "does not authenticate "
		                                 "(another network?)");
	/* The messages that carry a static key carry the identity too: one
	 * without it would leave the peer's group unproven. */
	if (mu_noise_remote_static(s->hs) != NULL) {
		rc = check_identity(s, payload, plen, why);
		if (rc != 0)
			return rc;
	} else if (plen != 0) {
		return mu_fail(why, MU_EFORMAT, "handshake: unexpected payload");
	}
	if (mu_noise_hs_our_turn(s->hs)) {
		rc = write_handshake(s, s->identity, s->identity_len, send);
		if (rc != 0)
			return rc;
	}
	if (mu_noise_hs_done(s->hs)) {
		if (mu_noise_remote_static(s->hs) == NULL)
			return mu_fail(why, MU_EFORMAT, "handshake: no identity");
		return finish_handshake(s);
	}
	return 0;
}

int
mu_sess_feed(struct mu_sess *s, const uint8_t *data, size_t len, struct mu_buf *send,
             mu_sess_msg_fn on_msg, void *ctx, struct mu_why *why)
{
	size_t pos = 0;
	int rc = 0;

	if (s->dead)
		return mu_fail(why, MU_EINVAL, "session is closed");
	if ((rc = mu_buf_append(&s->in, data, len)) != 0)
		goto fail;

	while (s->in.len - pos >= 2) {
		const uint8_t *p = s->in.data + pos;
		size_t mlen = (size_t)p[0] << 8 | p[1];
		bool handshaking = s->hs != NULL;

		/* Before authentication only small messages are accepted, so
		 * an unauthenticated peer cannot make us buffer much. */
		if (handshaking && mlen > MU_SESS_HANDSHAKE_MAX) {
			rc = mu_fail(why, MU_EFORMAT,
			             "handshake: message of %zu bytes, at most %d",
			             mlen, MU_SESS_HANDSHAKE_MAX);
			goto fail;
		}
		if (!handshaking && mlen < MU_NOISE_TAG_BYTES) {
			rc = mu_fail(why, MU_EFORMAT, "frame of %zu bytes is too short",
			             mlen);
			goto fail;
		}
		if (s->in.len - pos - 2 < mlen)
			break;
		p += 2;
		pos += 2 + mlen;
		if (handshaking) {
			rc = on_handshake(s, p, mlen, send, why);
		} else {
			uint8_t *plain = (uint8_t *)p; /* decrypt in place */

			rc = mu_noise_decrypt(s->rx, p, mlen, plain);
			if (rc != 0) {
				rc = mu_fail(why, MU_ESIG,
				             "frame does not authenticate: the stream "
				             "was altered");
				goto fail;
			}
			rc = on_msg(ctx, plain, mlen - MU_NOISE_TAG_BYTES);
		}
		if (rc != 0)
			goto fail;
	}
	if (pos > 0) {
		memmove(s->in.data, s->in.data + pos, s->in.len - pos);
		s->in.len -= pos;
	}
	return 0;
fail:
	s->dead = true;
	return rc;
}

int
mu_sess_send(struct mu_sess *s, const uint8_t *msg, size_t len, struct mu_buf *send)
{
	size_t start = send->len;
	int rc;

	if (!mu_sess_ready(s) || len > MU_SESS_MSG_MAX)
		return MU_EINVAL;
	if ((rc = put_frame_header(send, len + MU_NOISE_TAG_BYTES)) != 0 ||
	    (rc = mu_buf_reserve(send, len + MU_NOISE_TAG_BYTES)) != 0)
		goto fail;
	rc = mu_noise_encrypt(s->tx, msg, len, send->data + send->len);
	if (rc != 0)
		goto fail;
	send->len += len + MU_NOISE_TAG_BYTES;
	return 0;
fail:
	send->len = start;
	return rc;
}
