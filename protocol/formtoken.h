/*
 * formtoken.h - the tokens of the forms on a node's pages (docs/SECURITY.md,
 * "The writable pages"): HMAC-SHA-256 under the node's form key, cut to 128
 * bits and written as 32 lowercase hex digits.
 *
 *   form token    of ("form", the page's path, the day): put in the form
 *                 when the page is served and checked when it is posted, so
 *                 that a form posted from another site, which cannot read
 *                 our pages, is refused; good for the day and the next
 *   member token  of ("member"): the `m` of the member link that organizers
 *                 share (`muster link`); a new form key changes both
 *
 * Pure: no I/O, the key is the caller's.
 */
#ifndef MU_PROTOCOL_FORMTOKEN_H
#define MU_PROTOCOL_FORMTOKEN_H

#include <stdbool.h>
#include <stdint.h>

#define MU_FORM_KEY_BYTES  32
#define MU_TOKEN_TEXT_SIZE 33 /* 32 hex digits and NUL */

/* The form token of page (a path such as "/events/ADDR") for the UTC day
 * of now. */
void mu_form_token(const uint8_t key[MU_FORM_KEY_BYTES], const char *page, int64_t now,
                   char out[MU_TOKEN_TEXT_SIZE]);

/* Whether token is page's form token of now's day or the day before. */
bool mu_form_token_ok(const uint8_t key[MU_FORM_KEY_BYTES], const char *page,
                      int64_t now, const char *token);

void mu_member_token(const uint8_t key[MU_FORM_KEY_BYTES],
                     char out[MU_TOKEN_TEXT_SIZE]);

/* Whether token (may be NULL) is the member token. */
bool mu_member_token_ok(const uint8_t key[MU_FORM_KEY_BYTES], const char *token);

#endif
