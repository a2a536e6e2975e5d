/*
 * invite.h - invite codes and the proof that redeems one
 * (docs/PROTOCOL.md, "Invite codes" and 10.8).
 *
 * A code is what one group pastes in a chat so that another joins it: the
 * inviter's group key, the network name, the addresses to dial, an expiry
 * and a one-time secret, a 32-byte seed. The inviter keeps only the
 * Ed25519 public key of the seed, so a copy of its home cannot make a code
 * its node accepts. The joiner proves the seed by signing the session's
 * handshake hash with it: the proof is worth nothing on another session.
 *
 * The text is bech32m with the prefix "muinv", past the 90 characters over
 * which the checksum catches every error of up to four characters, so the
 * bytes carry a check of their own as well (as key shares do).
 *
 * Pure: randomness and the clock are the caller's. The seed is secret: the
 * caller keeps struct mu_invite in sodium_malloc() memory.
 */
#ifndef MU_INVITE_H
#define MU_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "record.h"

#define MU_INVITE_HRP           "muinv"
#define MU_INVITE_VERSION       1
#define MU_INVITE_SEED_BYTES    32
#define MU_INVITE_CHECK_BYTES   4
#define MU_INVITE_ADDRS_MAX     8
#define MU_INVITE_ADDR_MAX      255 /* bytes of one "HOST:PORT" */
#define MU_INVITE_NETWORK_MAX   64
#define MU_INVITE_BYTES_MAX     600
#define MU_INVITE_TEXT_SIZE     (1000 + 1)         /* MU_BECH32_BIG_MAX and the NUL */
#define MU_INVITE_PROOF_CONTEXT "muster invite v1" /* 16 ASCII bytes */
#define MU_INVITE_BINDING_MAX   64                 /* handshake hash bytes */

struct mu_invite {
	uint8_t group[MU_KEY_BYTES];             /* the inviter's group key */
	uint8_t seed[MU_INVITE_SEED_BYTES];      /* the one-time secret */
	int64_t expires;                         /* Unix seconds */
	char network[MU_INVITE_NETWORK_MAX + 1]; /* NUL-terminated */
	size_t naddrs;
	char addrs[MU_INVITE_ADDRS_MAX][MU_INVITE_ADDR_MAX + 1];
};

/*
 * Writes the code of inv into out. MU_EINVAL when a field is out of its
 * range (an empty or long network, an address of 0 or more than
 * MU_INVITE_ADDR_MAX bytes, too many addresses) or the code would pass
 * MU_INVITE_BYTES_MAX bytes.
 */
int mu_invite_to_text(char out[MU_INVITE_TEXT_SIZE], const struct mu_invite *inv);

/*
 * Reads a code (surrounding white space ignored). 0, or MU_EKEYTEXT with a
 * sentence in why saying what is wrong (not a code, mistyped, another
 * format) and how to get a good copy.
 */
int mu_invite_from_text(struct mu_invite *inv, const char *text, struct mu_why *why);

/* The public key the inviter keeps for seed. */
void mu_invite_public(uint8_t pub[MU_KEY_BYTES],
                      const uint8_t seed[MU_INVITE_SEED_BYTES]);

/*
 * The joiner's proof: Ed25519 by the key of seed over
 * MU_INVITE_PROOF_CONTEXT || binding || joiner, where binding is the
 * session's handshake hash (blen bytes) and joiner the joiner's group key.
 */
void mu_invite_sign(uint8_t sig[64], const uint8_t seed[MU_INVITE_SEED_BYTES],
                    const uint8_t *binding, size_t blen,
                    const uint8_t joiner[MU_KEY_BYTES]);

/* 0 when sig is pub's proof for that session and joiner, else MU_ESIG. */
int mu_invite_verify(const uint8_t sig[64], const uint8_t pub[MU_KEY_BYTES],
                     const uint8_t *binding, size_t blen,
                     const uint8_t joiner[MU_KEY_BYTES]);

#endif
