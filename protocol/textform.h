/*
 * textform.h - the text forms people copy and paste: group keys, record ids
 * and record addresses (docs/PROTOCOL.md, "Text forms").
 *
 * A group key is bech32m (BIP-350) with the human-readable part "mug", so a
 * mistyped or truncated key fails its checksum instead of naming another
 * group. Ids are 64 lowercase hex digits. An address is
 * KEY/KIND/D, or KEY/KIND when d is empty.
 *
 * Output buffers are the caller's; the sizes below include the NUL.
 */
#ifndef MU_TEXTFORM_H
#define MU_TEXTFORM_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define MU_KEY_HRP        "mug"
#define MU_KEY_TEXT_LEN   62 /* "mug1" + 52 data + 6 checksum characters */
#define MU_KEY_TEXT_SIZE  (MU_KEY_TEXT_LEN + 1)
#define MU_ID_TEXT_SIZE   (2 * MU_ID_BYTES + 1)
#define MU_ADDR_TEXT_SIZE (MU_KEY_TEXT_LEN + 1 + 16 + 1 + MU_D_MAX + 1)

/* Writes the text form of a group key into out. */
void mu_key_to_text(char out[MU_KEY_TEXT_SIZE], const uint8_t key[MU_KEY_BYTES]);

/*
 * Reads a group key from NUL-terminated text (surrounding white space is
 * ignored; all-uppercase is accepted). Returns 0, or MU_EKEYTEXT with what
 * is wrong in why (bad prefix, character, length or checksum).
 */
int mu_key_from_text(uint8_t key[MU_KEY_BYTES], const char *text, struct mu_why *why);

void mu_id_to_text(char out[MU_ID_TEXT_SIZE], const uint8_t id[MU_ID_BYTES]);
int mu_id_from_text(uint8_t id[MU_ID_BYTES], const char *text, struct mu_why *why);

/*
 * An organizer's request code, which `muster init --join` prints and
 * `muster organizer add` reads: bech32m with the human-readable part
 * "mureq" over the organizer's public key followed by its name (0 to
 * MU_REQ_NAME_MAX bytes of UTF-8 without control characters), so that the
 * whole text stays within the 90 characters over which the checksum
 * catches every error of up to four characters.
 */
#define MU_REQ_HRP       "mureq"
#define MU_REQ_NAME_MAX  16
#define MU_REQ_TEXT_SIZE 91
#define MU_REQ_NAME_SIZE (MU_REQ_NAME_MAX + 1)

/* Writes the request code of key and name (name_len bytes). MU_EINVAL when
 * the name is longer than MU_REQ_NAME_MAX or not a line of UTF-8. */
int mu_req_to_text(char out[MU_REQ_TEXT_SIZE], const uint8_t key[MU_KEY_BYTES],
                   const char *name, size_t name_len);

/*
 * Reads a request code (surrounding white space ignored): the key, and the
 * name NUL-terminated. Returns 0, or MU_EKEYTEXT with what is wrong in why.
 */
int mu_req_from_text(uint8_t key[MU_KEY_BYTES], char name[MU_REQ_NAME_SIZE],
                     const char *text, struct mu_why *why);

/* Writes KEY/KIND[/D]. */
void mu_addr_to_text(char out[MU_ADDR_TEXT_SIZE], const struct mu_addr *addr);

/*
 * Reads KEY/KIND[/D]. addr->d borrows from text, which must outlive it.
 * Checks the key's checksum, that KIND is a replaceable kind and that d has
 * the form rule d-form requires for that kind.
 */
int mu_addr_from_text(struct mu_addr *addr, const char *text, struct mu_why *why);

#endif
