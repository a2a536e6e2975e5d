/*
 * formtoken.c - the forms' tokens (formtoken.h).
 */
#include "formtoken.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define DAY 86400

static void
mac(const uint8_t key[MU_FORM_KEY_BYTES], const char *what, const char *page,
    int64_t day, char out[MU_TOKEN_TEXT_SIZE])
{
	crypto_auth_hmacsha256_state st;
	uint8_t h[crypto_auth_hmacsha256_BYTES];
	char d[24];

	snprintf(d, sizeof(d), "%lld", (long long)day);
	crypto_auth_hmacsha256_init(&st, key, MU_FORM_KEY_BYTES);
	/* Each part with its NUL, so that no two inputs run together. */
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)what, strlen(what) + 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)page, strlen(page) + 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)d, strlen(d) + 1);
	crypto_auth_hmacsha256_final(&st, h);
	sodium_bin2hex(out, MU_TOKEN_TEXT_SIZE, h, 16);
}

static int64_t
day_of(int64_t now)
{
	return now >= 0 ? now / DAY : (now - DAY + 1) / DAY;
}

static bool
same(const char *a, const char *b)
{
	return strlen(b) == MU_TOKEN_TEXT_SIZE - 1 &&
	       sodium_memcmp(a, b, MU_TOKEN_TEXT_SIZE - 1) == 0;
}

void
mu_form_token(const uint8_t key[MU_FORM_KEY_BYTES], const char *page, int64_t now,
              char out[MU_TOKEN_TEXT_SIZE])
{
	mac(key, "form", page, day_of(now), out);
}

bool
mu_form_token_ok(const uint8_t key[MU_FORM_KEY_BYTES], const char *page, int64_t now,
                 const char *token)
{
	char want[MU_TOKEN_TEXT_SIZE];

	if (token == NULL)
		return false;
	for (int64_t d = 0; d < 2; d++) {
		mac(key, "form", page, day_of(now) - d, want);
		if (same(want, token))
			return true;
	}
	return false;
}

void
mu_member_token(const uint8_t key[MU_FORM_KEY_BYTES], char out[MU_TOKEN_TEXT_SIZE])
{
	mac(key, "member", "", 0, out);
}

bool
mu_member_token_ok(const uint8_t key[MU_FORM_KEY_BYTES], const char *token)
{
	char want[MU_TOKEN_TEXT_SIZE];

	if (token == NULL)
		return false;
	mu_member_token(key, want);
	return same(want, token);
}
