/*
 * share.h - shares of a group's secret key and their text form
 * (docs/PROTOCOL.md, "Key shares").
 *
 * A share is one point of the Shamir split (shamir.h) of the group key's
 * 32-byte Ed25519 seed, with what a join needs to check it: how many shares
 * the split needs, the share's number, the split's random id and the
 * group's public key. Its text is bech32m with the prefix "mushare", so it
 * is never taken for a group key, and carries a check of its own besides
 * the checksum. A join gives back the seed only when it derives the group's
 * public key; otherwise it names the share at fault.
 *
 * A share's y is secret material: callers keep struct mu_share in
 * sodium_malloc() memory. Pure: randomness is the caller's.
 */
#ifndef MU_SHARE_H
#define MU_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "record.h"

#define MU_SHARE_HRP         "mushare"
#define MU_SHARE_VERSION     1
#define MU_SHARE_SEED_BYTES  32 /* the Ed25519 seed, as in group.key */
#define MU_SHARE_SET_BYTES   4
#define MU_SHARE_CHECK_BYTES 4
#define MU_SHARE_BYTES                                                                 \
	(3 + MU_SHARE_SET_BYTES + MU_KEY_BYTES + MU_SHARE_SEED_BYTES +                 \
	 MU_SHARE_CHECK_BYTES)
#define MU_SHARE_TEXT_LEN  134 /* "mushare1" + 120 data + 6 checksum characters */
#define MU_SHARE_TEXT_SIZE (MU_SHARE_TEXT_LEN + 1)

struct mu_share {
	uint8_t need;                    /* k: shares the split needs, 2-255 */
	uint8_t x;                       /* this share's number, 1-255 */
	uint8_t set[MU_SHARE_SET_BYTES]; /* the split's random id */
	uint8_t group[MU_KEY_BYTES];     /* the group's public key */
	uint8_t y[MU_SHARE_SEED_BYTES];  /* the share's value */
};

/*
 * Splits seed (the secret key of group) into n shares (out[0..n)) of which
 * need are needed, numbered 1 to n, under the split id set. coeffs holds
 * (need - 1) * MU_SHARE_SEED_BYTES random bytes. Returns 0, or MU_EINVAL
 * when 2 <= need <= n <= 255 does not hold.
 */
int mu_share_split(struct mu_share *out, unsigned n, unsigned need,
                   const uint8_t seed[MU_SHARE_SEED_BYTES],
                   const uint8_t group[MU_KEY_BYTES],
                   const uint8_t set[MU_SHARE_SET_BYTES], const uint8_t *coeffs);

void mu_share_to_text(char out[MU_SHARE_TEXT_SIZE], const struct mu_share *s);

/*
 * Reads a share from NUL-terminated text (surrounding white space ignored).
 * Returns 0, or MU_EKEYTEXT with a phrase in why that follows the share's
 * name: "is mistyped: ...", "is not a key share: ...". A text that reads
 * but whose own check fails is mistyped too.
 */
int mu_share_from_text(struct mu_share *s, const char *text, struct mu_why *why);

enum mu_share_fault_kind {
	MU_SHARE_OTHER_GROUP, /* shares a and b are of different groups */
	MU_SHARE_OTHER_SPLIT, /* shares a and b are of different splits */
	MU_SHARE_REPEATED,    /* a is b again (same number, same value) */
	MU_SHARE_CLASH,       /* a and b have one number and different values */
	MU_SHARE_TOO_FEW,     /* have distinct shares, need needed */
	MU_SHARE_NOT_FITTING, /* the first need shares give the group key and
	                         a does not lie on their polynomial */
	MU_SHARE_WRONG_KEY,   /* the shares give another key: one is wrong */
};

struct mu_share_fault {
	enum mu_share_fault_kind kind;
	size_t a, b;         /* indexes into the shares given */
	unsigned have, need; /* for MU_SHARE_TOO_FEW */
};

/*
 * Joins n shares: all of one group and one split, at least `need` distinct
 * numbers among them. The first `need` distinct ones give the seed, which
 * must derive the group's public key, and every other share given must lie
 * on the same polynomials. On success the seed goes to seed (the caller's
 * sodium_malloc() memory) and 0 is returned; otherwise seed is wiped, what
 * is wrong goes to *fault and MU_EKEYTEXT is returned (MU_ENOMEM when
 * secure memory ran out).
 */
int mu_share_join(uint8_t seed[MU_SHARE_SEED_BYTES], const struct mu_share *v, size_t n,
                  struct mu_share_fault *fault);

#endif
