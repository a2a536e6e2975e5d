/*
 * bech32.h - bech32m (BIP-350), the checksummed base-32 text form that group
 * keys are written in (docs/PROTOCOL.md, "Text forms").
 *
 * Generic over the human-readable part (hrp) and the data, so that the
 * published BIP-350 vectors can be checked as they are. Two levels:
 * - mu_bech32_encode5() / mu_bech32_decode5() work on 5-bit values, exactly
 *   as BIP-350 defines the format;
 * - mu_bech32_encode() / mu_bech32_decode() regroup bytes into 5-bit values
 *   (the last one padded with zero bits) and back.
 *
 * Decoding is strict: mixed case, characters outside the alphabet, a missing
 * or empty hrp, a data part shorter than the checksum, text over 90
 * characters, non-zero padding bits and a wrong checksum are all rejected,
 * and why says which, as a phrase the caller can put after its own subject
 * ("the key: ...").
 *
 * Pure: no I/O, no allocation. Buffers are the caller's.
 */
#ifndef MU_BECH32_H
#define MU_BECH32_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MU_BECH32_MAX      90 /* longest text, as in BIP-173 */
#define MU_BECH32_CHECKSUM 6  /* checksum characters */
/* The longest text of the _long variants, for data that cannot fit in 90
 * characters (key shares): past 89 characters the checksum no longer
 * guarantees to catch every error of up to 4 characters, so such data
 * carries a check of its own as well. */
#define MU_BECH32_LONG_MAX 160
/* The longest text of the _big variants: invite codes, which carry a
 * variable list of addresses and a check of their own. */
#define MU_BECH32_BIG_MAX 1000

/*
 * Encodes hrp (1 to 83 ASCII characters 33-126; stored in lowercase) and
 * nvalues 5-bit values with the bech32m checksum into out (out_size bytes,
 * NUL included). Returns 0, or MU_EINVAL when the hrp is bad, a value is
 * over 31, the text would exceed MU_BECH32_MAX or out is too small.
 */
int mu_bech32_encode5(char *out, size_t out_size, const char *hrp,
                      const uint8_t *values, size_t nvalues);

/*
 * Decodes len bytes of text (no surrounding white space; the caller trims).
 * The hrp goes to hrp (hrp_size bytes, NUL included, lowercase), the 5-bit
 * data values without the checksum to values (cap entries), their number to
 * *nvalues. Returns 0, or MU_EKEYTEXT with what is wrong in why; MU_EINVAL
 * when hrp_size or cap is too small for a text that is otherwise valid.
 */
int mu_bech32_decode5(char *hrp, size_t hrp_size, uint8_t *values, size_t cap,
                      size_t *nvalues, const char *text, size_t len,
                      struct mu_why *why);

/*
 * Encodes len bytes of data under hrp: the bytes are regrouped into 5-bit
 * values, the last padded with zero bits. Errors as mu_bech32_encode5().
 */
int mu_bech32_encode(char *out, size_t out_size, const char *hrp, const uint8_t *data,
                     size_t len);

/*
 * Decodes text whose hrp must be want_hrp (compared without case) and whose
 * data regroups into whole bytes with zero padding (fewer than 5 padding
 * bits, all zero). The bytes go to data (cap bytes), their number to *len.
 * Returns 0, or MU_EKEYTEXT with what is wrong in why.
 */
int mu_bech32_decode(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                     const char *text, size_t text_len, struct mu_why *why);

/* mu_bech32_encode() and mu_bech32_decode() for texts of up to
 * MU_BECH32_LONG_MAX characters. */
int mu_bech32_encode_long(char *out, size_t out_size, const char *hrp,
                          const uint8_t *data, size_t len);
int mu_bech32_decode_long(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                          const char *text, size_t text_len, struct mu_why *why);

/* mu_bech32_encode() and mu_bech32_decode() for texts of up to
 * MU_BECH32_BIG_MAX characters. */
int mu_bech32_encode_big(char *out, size_t out_size, const char *hrp,
                         const uint8_t *data, size_t len);
int mu_bech32_decode_big(uint8_t *data, size_t cap, size_t *len, const char *want_hrp,
                         const char *text, size_t text_len, struct mu_why *why);

#endif
