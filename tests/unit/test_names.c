/* The short forms of the command line (cli/names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static void
known(struct mu_cli_known *k, uint8_t fill, const char *name)
{
	memset(k->key, fill, MU_KEY_BYTES);
	snprintf(k->name, sizeof(k->name), "%s", name);
}

static void
test_groups_by_name(void **state)
{
	struct mu_cli_known v[3];
	size_t hits[3];

	(void)state;
	known(&v[0], 0x11, "Riverside");
	known(&v[1], 0x22, "Harbour");
	known(&v[2], 0x33, "harbour");
	assert_int_equal(mu_cli_match_groups(v, 3, "riverSIDE", hits, 3), 1);
	assert_int_equal(hits[0], 0);
	assert_int_equal(mu_cli_match_groups(v, 3, "Harbour", hits, 3), 2);
	assert_int_equal(hits[0], 1);
	assert_int_equal(hits[1], 2);
	/* Only the first max are written; the count is all of them. */
	assert_int_equal(mu_cli_match_groups(v, 3, "HARBOUR", hits, 1), 2);
	assert_int_equal(mu_cli_match_groups(v, 3, "River", hits, 3), 0);
	assert_int_equal(mu_cli_match_groups(v, 3, "", hits, 3), 0);
}

static void
test_groups_by_key_start(void **state)
{
	struct mu_cli_known v[2];
	char key[MU_KEY_TEXT_SIZE], start[MU_KEY_TEXT_SIZE];
	size_t hits[2];

	(void)state;
	known(&v[0], 0x11, "");
	known(&v[1], 0x12, "Other");
	mu_key_to_text(key, v[0].key);
	snprintf(start, sizeof(start), "%.*s", MU_CLI_KEY_PREFIX_MIN, key);
	assert_int_equal(mu_cli_match_groups(v, 2, start, hits, 2), 1);
	assert_int_equal(hits[0], 0);
	/* Too short a start is no start. */
	start[MU_CLI_KEY_PREFIX_MIN - 1] = '\0';
	assert_int_equal(mu_cli_match_groups(v, 2, start, hits, 2), 0);
	/* "mug1" and nothing that tells them apart fits both. */
	v[1].key[31] = 0x99;
	memset(v[1].key, 0x11, 30);
	snprintf(start, sizeof(start), "%.20s", key);
	assert_int_equal(mu_cli_match_groups(v, 2, start, hits, 2), 2);
}

static void
test_d_prefix(void **state)
{
	(void)state;
	assert_true(mu_cli_d_prefix("91c2"));
	assert_true(mu_cli_d_prefix("3f9a0c1d2e4b5a69"));
	assert_false(mu_cli_d_prefix("91c"));
	assert_false(mu_cli_d_prefix("mug1abc/event/91c2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups_by_name),
	    cmocka_unit_test(test_groups_by_key_start),
	    cmocka_unit_test(test_d_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
