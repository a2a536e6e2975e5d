/*
 * The forms' tokens (protocol/formtoken.h): bound to the page and the key,
 * good on their day and the next only, and the member token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/formtoken.h"

#define DAY  86400
#define NOON (20000LL * DAY + DAY / 2)

static void
test_form_token(void **state)
{
	uint8_t key[MU_FORM_KEY_BYTES], other[MU_FORM_KEY_BYTES];
	char t[MU_TOKEN_TEXT_SIZE], u[MU_TOKEN_TEXT_SIZE];

	(void)state;
	memset(key, 1, sizeof(key));
	memset(other, 2, sizeof(other));
	mu_form_token(key, "/events/a", NOON, t);
	assert_int_equal(strlen(t), 32);
	assert_true(strspn(t, "0123456789abcdef") == 32);
	assert_true(mu_form_token_ok(key, "/events/a", NOON, t));
	/* The same day, and the next: taken. */
	assert_true(mu_form_token_ok(key, "/events/a", NOON + DAY / 2 - 1, t));
	assert_true(mu_form_token_ok(key, "/events/a", NOON + DAY, t));
	/* Two days on, the day before, another page, another key: not. */
	assert_false(mu_form_token_ok(key, "/events/a", NOON + 2 * DAY, t));
	assert_false(mu_form_token_ok(key, "/events/a", NOON - DAY, t));
	assert_false(mu_form_token_ok(key, "/events/ab", NOON, t));
	assert_false(mu_form_token_ok(other, "/events/a", NOON, t));
	assert_false(mu_form_token_ok(key, "/events/a", NOON, NULL));
	assert_false(mu_form_token_ok(key, "/events/a", NOON, ""));
	memcpy(u, t, sizeof(u));
	u[31] = u[31] == '0' ? '1' : '0';
	assert_false(mu_form_token_ok(key, "/events/a", NOON, u));
	/* A page's token is no member token, and the other way round. */
	mu_member_token(key, u);
	assert_true(mu_member_token_ok(key, u));
	assert_false(mu_member_token_ok(other, u));
	assert_false(mu_member_token_ok(key, t));
	assert_false(mu_member_token_ok(key, NULL));
	assert_false(mu_form_token_ok(key, "", 0, u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_form_token)};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
