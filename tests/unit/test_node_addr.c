/*
 * test_node_addr.c - which router addresses a port mapping refuses
 * (mu_node_addr_not_public, node/addr.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/addr.h"

static void
test_not_public(void **state)
{
	static const struct {
		const char *ip, *what;
	} cases[] = {
	    {"10.0.0.1", "private (RFC 1918)"},
	    {"10.255.255.255", "private (RFC 1918)"},
	    {"172.16.0.1", "private (RFC 1918)"},
	    {"172.31.255.254", "private (RFC 1918)"},
	    {"192.168.1.1", "private (RFC 1918)"},
	    {"100.64.0.1", "carrier-grade NAT (100.64.0.0/10)"},
	    {"100.127.255.254", "carrier-grade NAT (100.64.0.0/10)"},
	    {"127.0.0.1", "loopback"},
	    {"169.254.10.20", "link-local"},
	    {"0.0.0.0", "unspecified"},
	    /* Just outside each range: public. */
	    {"9.255.255.255", NULL},
	    {"11.0.0.0", NULL},
	    {"172.15.255.255", NULL},
	    {"172.32.0.0", NULL},
	    {"192.167.255.255", NULL},
	    {"192.169.0.0", NULL},
	    {"100.63.255.255", NULL},
	    {"100.128.0.0", NULL},
	    {"169.253.255.255", NULL},
	    {"198.51.100.7", NULL},
	    {"203.0.113.9", NULL},
	    /* Not IPv4 text: not judged. */
	    {"", NULL},
	    {"node.example.org", NULL},
	    {"10.0.0.1:7420", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = mu_node_addr_not_public(cases[i].ip);

		if (cases[i].what == NULL && got != NULL)
			fail_msg("%s: expected public, got %s", cases[i].ip, got);
		if (cases[i].what != NULL)
			assert_string_equal(got != NULL ? got : "(public)",
			                    cases[i].what);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_public),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
