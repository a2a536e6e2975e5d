/*
 * The rule and the detail of a struct mu_why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/error.h"
#include "protocol/record.h"

static void
test_why_rule_and_detail(void **state)
{
	struct mu_why why = {0};

	(void)state;
	assert_int_equal(mu_fail(&why, MU_ERECORD, "node-addr: the port is %d", 0),
	                 MU_ERECORD);
	assert_string_equal(why.text, "node-addr: the port is 0");
	assert_int_equal(why.rule_len, 9);
	assert_string_equal(mu_why_detail(&why), "the port is 0");
	assert_true(mu_why_rule_is(&why, "node-addr"));
	assert_false(mu_why_rule_is(&why, "node"));
	assert_false(mu_why_rule_is(&why, "node-addr:"));

	/* A line that starts with something other than a rule name has none:
	 * its detail is the whole line. */
	mu_fail(&why, MU_EINVAL, "peer address \"x\": %s", "bad");
	assert_int_equal(why.rule_len, 0);
	assert_string_equal(mu_why_detail(&why), "peer address \"x\": bad");
	assert_false(mu_why_rule_is(&why, "peer"));
	mu_fail(&why, MU_EINVAL, "sync:no space");
	assert_string_equal(mu_why_detail(&why), "sync:no space");
	mu_fail(&why, MU_EINVAL, ": nothing before");
	assert_string_equal(mu_why_detail(&why), ": nothing before");

	/* Cleared the usual way, it has neither, whatever it held before. */
	mu_fail(&why, MU_EINVAL, "handshake: message too short");
	why.text[0] = '\0';
	assert_string_equal(mu_why_detail(&why), "");
	assert_false(mu_why_rule_is(&why, "handshake"));
	assert_string_equal(mu_why_or(&why, MU_ENOMEM), "out of memory");

	assert_int_equal(mu_fail(NULL, MU_EIO, "io: %s", "x"), MU_EIO);
}

/* A rule that fills the line leaves an empty detail, inside the array. */
static void
test_why_long_rule(void **state)
{
	struct mu_why why = {0};
	char rule[MU_WHY_MAX];

	(void)state;
	memset(rule, 'r', MU_WHY_MAX - 3);
	rule[MU_WHY_MAX - 3] = '\0';
	mu_fail(&why, MU_EINVAL, "%s: ", rule);
	assert_int_equal(why.rule_len, MU_WHY_MAX - 3);
	assert_string_equal(mu_why_detail(&why), "");
	/* Cut off before the ": ": no rule. */
	mu_fail(&why, MU_EINVAL, "%s%s: x", rule, "rr");
	assert_int_equal(why.rule_len, 0);
}

/* The parser words the rule of a nested check itself and keeps only its
 * detail, as it did when it stripped the prefix by hand. */
static void
test_why_nested_detail(void **state)
{
	struct mu_why why = {0};

	(void)state;
	assert_int_not_equal(mu_rec_check_node_addr("host", 4, &why), 0);
	assert_true(mu_why_rule_is(&why, "node-addr"));
	assert_string_equal(mu_why_detail(&why), why.text + strlen("node-addr: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_why_rule_and_detail),
	    cmocka_unit_test(test_why_long_rule),
	    cmocka_unit_test(test_why_nested_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
