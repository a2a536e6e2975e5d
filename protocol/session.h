/*
 * session.h - one authenticated, encrypted connection between two nodes, as
 * a state machine fed with bytes (docs/PROTOCOL.md, "Transport").
 *
 *   - Noise_XX_25519_ChaChaPoly_BLAKE2b; the prologue is "muster/1 " followed
 *     by the network name, so nodes on different networks never agree on a
 *     handshake.
 *   - The responder's second message and the initiator's third carry an
 *     identity: the group key and its Ed25519 signature over the Noise static
 *     key ("muster noise key" || static public key). The Noise static key is
 *     not the group key; the proof ties the two together. A node that holds
 *     an organizer key rather than the group's proves it with that key and
 *     sends the group's organizer record for it along, or, before it has
 *     that record, only the key, which the receiver must know an active
 *     record for (docs/PROTOCOL.md 9.1).
 *   - Every message on the stream, handshake or transport, is a 2-byte
 *     big-endian length and that many bytes. Before the handshake is done a
 *     message may not exceed MU_SESS_HANDSHAKE_MAX bytes.
 *
 * Pure: the caller reads and writes the socket, keeps the time limits and
 * supplies randomness (the ephemeral key).
 *
 * Ownership: struct mu_sess holds keys in sodium_malloc() memory; free it with
 * mu_sess_free(). Bytes to send are appended to the caller's mu_buf.
 * Messages passed to the callback are valid only during the call.
 */
#ifndef MU_SESSION_H
#define MU_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "noise.h"

#define MU_SESS_HANDSHAKE_MAX     1024  /* bytes in any one handshake message */
#define MU_SESS_ORGANIZER_MAX     768   /* bytes of an identity's organizer record */
#define MU_SESS_FRAME_MAX         65535 /* bytes of ciphertext in one frame */
#define MU_SESS_MSG_MAX           (MU_SESS_FRAME_MAX - MU_NOISE_TAG_BYTES)
#define MU_SESS_NETWORK_MAX       64
#define MU_SESS_PROOF_CONTEXT     "muster noise key"
#define MU_SESS_PROOF_CONTEXT_LEN 16
#define MU_SESS_HASH_MAX          64 /* the handshake hash (BLAKE2b) */

/* What a node proves about itself in the handshake. */
struct mu_sess_identity {
	uint8_t noise_secret[MU_NOISE_KEY_BYTES]; /* X25519 private key */
	uint8_t group[32];                        /* Ed25519 group key */
	/* The signature over the Noise public key: by the group's key, or by
	 * the organizer key of organizer (then organizer_len > 0). */
	uint8_t proof[64];
	/* The group's active organizer record for the key that made proof,
	 * its bytes as signed; organizer_len 0: proof is the group's. */
	uint8_t organizer[MU_SESS_ORGANIZER_MAX];
	size_t organizer_len;
	/* The key form: proof is by organizer_key, and no record goes along
	 * (a home that has not received its organizer record yet); the
	 * receiver must hold the record itself. Ignored when organizer_len > 0. */
	bool by_key;
	uint8_t organizer_key[32];
};

/* Signs the proof for a Noise static public key with the group's (or an
 * organizer's) secret key (libsodium's 64-byte form). */
void mu_sess_sign_proof(uint8_t proof[64], const uint8_t noise_public[32],
                        const uint8_t group_secret[64]);

struct mu_sess;

/*
 * Answers whether the receiver's store holds a current, active organizer
 * record of group for key, for the key form of the identity: 0 when it does;
 * else MU_EPERM with why saying what it holds (none, or revoked).
 */
typedef int (*mu_sess_vouch_fn)(void *ctx, const uint8_t group[32],
                                const uint8_t key[32], struct mu_why *why);

/* Receives one decrypted transport message. Nonzero stops mu_sess_feed(),
 * which returns that value. */
typedef int (*mu_sess_msg_fn)(void *ctx, const uint8_t *msg, size_t len);

/*
 * Starts a session. network is the network name (1-64 bytes of printable
 * ASCII). expect_group, when not NULL, is the group key the other side must
 * prove; any other is refused with MU_EPERM. e_secret is a fresh ephemeral
 * X25519 private key. id and e_secret are copied. An initiator's first
 * handshake message is appended to out at once.
 */
int mu_sess_new(struct mu_sess **out, bool initiator, const char *network,
                const struct mu_sess_identity *id, const uint8_t *expect_group,
                const uint8_t e_secret[MU_NOISE_KEY_BYTES], struct mu_buf *send,
                struct mu_why *why);

void mu_sess_free(struct mu_sess *s);

/* Sets how the key form of a peer's identity is checked; without it that
 * form is refused (MU_EPERM). Call before the first mu_sess_feed(). */
void mu_sess_set_vouch(struct mu_sess *s, mu_sess_vouch_fn fn, void *ctx);

/*
 * Feeds bytes read from the peer. Handshake replies and nothing else are
 * appended to send; decrypted transport messages go to on_msg. Partial
 * messages are kept for the next call. Returns 0, or an error after which
 * the session is dead and the connection must be closed: MU_EFORMAT (a length
 * over the limit), MU_ESIG (a message that does not authenticate or a bad
 * identity proof), MU_EPERM (the peer proved another group than expected),
 * MU_ENOMEM; why says which.
 */
int mu_sess_feed(struct mu_sess *s, const uint8_t *data, size_t len,
                 struct mu_buf *send, mu_sess_msg_fn on_msg, void *ctx,
                 struct mu_why *why);

/* Whether the handshake has completed and messages can be sent. */
bool mu_sess_ready(const struct mu_sess *s);

/* The group key the peer proved, once ready; else NULL. */
const uint8_t *mu_sess_peer_group(const struct mu_sess *s);

/* The handshake hash h, the same on both sides (channel binding), once
 * ready (*len bytes); else NULL. Valid as long as s. */
const uint8_t *mu_sess_handshake_hash(const struct mu_sess *s, size_t *len);

/* The group key whose proof the peer gave, once verified, even when it was
 * refused as not the expected one (for the log); else NULL. */
const uint8_t *mu_sess_proven_group(const struct mu_sess *s);

/* The organizer key the peer proved its group with, once ready (the
 * organizer variant or key form of the identity); NULL when it proved with the group's
 * own key. The node refuses a key whose organizer record it holds revoked. */
const uint8_t *mu_sess_peer_organizer(const struct mu_sess *s);

/* Encrypts one message (at most MU_SESS_MSG_MAX bytes) and appends its frame
 * to send. MU_EINVAL before the handshake is done or when too long. */
int mu_sess_send(struct mu_sess *s, const uint8_t *msg, size_t len,
                 struct mu_buf *send);

/* Bytes buffered from an incomplete incoming message: for memory limits. */
size_t mu_sess_pending(const struct mu_sess *s);

#endif
