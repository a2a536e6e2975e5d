/*
 * noise.h - the Noise protocol framework (revision 34), as muster's transport
 * uses it: patterns XX and NN, DH 25519, cipher ChaChaPoly, hash BLAKE2b or
 * SHA256, all from libsodium. muster speaks Noise_XX_25519_ChaChaPoly_BLAKE2b;
 * the other combinations exist so that every published cacophony vector can
 * be checked byte for byte (tests/unit/test_noise.c).
 *
 * Pure: no I/O and no randomness. The caller supplies the ephemeral private
 * key (fresh from randombytes_buf() in real use, fixed in tests), the
 * prologue and the static key, and moves the bytes.
 *
 * Ownership: a handshake state and cipher states hold secrets. Allocate them
 * with mu_noise_hs_new() / mu_noise_cipher_new(), which use sodium_malloc(),
 * and release them with the matching _free(), which wipes them.
 */
#ifndef MU_NOISE_H
#define MU_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MU_NOISE_KEY_BYTES 32
#define MU_NOISE_TAG_BYTES 16
#define MU_NOISE_MSG_MAX   65535 /* Noise's limit on any message */
#define MU_NOISE_HASH_MAX  64

enum mu_noise_pattern { MU_NOISE_NN, MU_NOISE_XX };
enum mu_noise_hash { MU_NOISE_BLAKE2B, MU_NOISE_SHA256 };

struct mu_noise_hs;
struct mu_noise_cipher;

/*
 * Starts a handshake. s_priv is our static X25519 private key (XX only;
 * NULL for NN), e_priv our ephemeral private key. Both are copied. Returns 0
 * and sets *out, or MU_ENOMEM / MU_EINVAL.
 */
int mu_noise_hs_new(struct mu_noise_hs **out, enum mu_noise_pattern pattern,
                    enum mu_noise_hash hash, bool initiator, const uint8_t *prologue,
                    size_t prologue_len, const uint8_t *s_priv, const uint8_t *e_priv);

/* Wipes and frees a handshake state. NULL is allowed. */
void mu_noise_hs_free(struct mu_noise_hs *hs);

/* Whether it is our turn to write the next handshake message. */
bool mu_noise_hs_our_turn(const struct mu_noise_hs *hs);

/* Whether all handshake messages have been written and read. */
bool mu_noise_hs_done(const struct mu_noise_hs *hs);

/*
 * Writes the next handshake message carrying payload into out (cap bytes).
 * Returns 0 and sets *out_len, MU_EINVAL when it is not our turn or out is
 * too small, MU_ESIG when a DH result is all zeros (a hostile key).
 */
int mu_noise_write(struct mu_noise_hs *hs, const uint8_t *payload, size_t payload_len,
                   uint8_t *out, size_t cap, size_t *out_len);

/*
 * Reads the next handshake message from the other side. The decrypted
 * payload goes to payload (cap bytes). Returns 0, MU_ETRUNC for a message too
 * short for its pattern, MU_ESIG when it does not authenticate (or a DH
 * result is all zeros), MU_EINVAL when it is not their turn or cap is short.
 * After a failure the handshake is dead: free it.
 */
int mu_noise_read(struct mu_noise_hs *hs, const uint8_t *msg, size_t msg_len,
                  uint8_t *payload, size_t cap, size_t *payload_len);

/* The remote static public key once it has been read (XX), else NULL. */
const uint8_t *mu_noise_remote_static(const struct mu_noise_hs *hs);

/* The handshake hash h (channel binding), hash-length bytes. */
const uint8_t *mu_noise_handshake_hash(const struct mu_noise_hs *hs, size_t *len);

/*
 * After the handshake: derives the two transport cipher states. send is the
 * one we encrypt with. The caller frees both with mu_noise_cipher_free().
 */
int mu_noise_split(struct mu_noise_hs *hs, struct mu_noise_cipher **send,
                   struct mu_noise_cipher **recv);

void mu_noise_cipher_free(struct mu_noise_cipher *c);

/* Encrypts len bytes (out gets len + 16 bytes). MU_EINVAL when the nonce
 * space is exhausted. */
int mu_noise_encrypt(struct mu_noise_cipher *c, const uint8_t *pt, size_t len,
                     uint8_t *out);

/* Decrypts len bytes (out gets len - 16). MU_ESIG when it does not
 * authenticate; MU_ETRUNC when len < 16. */
int mu_noise_decrypt(struct mu_noise_cipher *c, const uint8_t *ct, size_t len,
                     uint8_t *out);

/* The public key of an X25519 private key. */
void mu_noise_public(uint8_t pub[MU_NOISE_KEY_BYTES],
                     const uint8_t priv[MU_NOISE_KEY_BYTES]);

#endif
