/*
 * test_socks.c - the SOCKS5 client bytes (node/socks.h) against RFC 1928:
 * the greeting, the CONNECT by domain name, replies split anywhere, and
 * tor's refusals named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/socks.h"

static const char HOST[] =
    "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion";

static void
greeting_then_connect_request(void **state)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_socks s;
	struct mu_why why = {0};
	const uint8_t method[2] = {5, 0};
	size_t used, n = strlen(HOST);

	(void)state;
	assert_int_equal(mu_socks_start(&s, HOST, 7420, &out), 0);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.data, "\x05\x01\x00", 3);
	out.len = 0;
	assert_int_equal(mu_socks_feed(&s, method, 2, &used, &out, &why), 0);
	assert_int_equal(used, 2);
	assert_int_equal(out.len, 7 + n);
	assert_memory_equal(out.data, "\x05\x01\x00\x03", 4);
	assert_int_equal(out.data[4], n);
	assert_memory_equal(out.data + 5, HOST, n);
	assert_int_equal(out.data[5 + n], 7420 >> 8);
	assert_int_equal(out.data[6 + n], 7420 & 0xff);
	mu_buf_free(&out);
}

/* The CONNECT reply one byte at a time, then the peer's first bytes: only
 * the reply is consumed. */
static void
reply_split_anywhere(void **state)
{
	const uint8_t in[] = {5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x1c, 0xfe, 0xAA, 0xBB};
	struct mu_buf out = MU_BUF_INIT;
	struct mu_socks s;
	struct mu_why why = {0};
	size_t used, i;
	int rc = 0;

	(void)state;
	assert_int_equal(mu_socks_start(&s, HOST, 80, &out), 0);
	for (i = 0; i < 12; i++) {
		rc = mu_socks_feed(&s, in + i, 1, &used, &out, &why);
		assert_int_equal(used, 1);
		assert_int_equal(rc, i == 11 ? 1 : 0);
	}
	/* All at once: 12 used of 14. */
	assert_int_equal(mu_socks_start(&s, HOST, 80, &out), 0);
	assert_int_equal(mu_socks_feed(&s, in, sizeof(in), &used, &out, &why), 1);
	assert_int_equal(used, 12);
	mu_buf_free(&out);
}

static void
refusals_are_named(void **state)
{
	const uint8_t onion_gone[] = {5, 0, 5, 0xF0, 0, 1, 0, 0, 0, 0, 0, 0};
	const uint8_t wants_auth[] = {5, 2};
	const uint8_t not_socks[] = {'H', 'T'};
	struct mu_buf out = MU_BUF_INIT;
	struct mu_socks s;
	struct mu_why why = {0};
	size_t used;

	(void)state;
	mu_socks_start(&s, HOST, 80, &out);
	assert_int_equal(
	    mu_socks_feed(&s, onion_gone, sizeof(onion_gone), &used, &out, &why),
	    MU_EIO);
	assert_non_null(strstr(why.text, "descriptor not found"));
	assert_non_null(strstr(why.text, HOST));
	mu_socks_start(&s, HOST, 80, &out);
	assert_int_equal(mu_socks_feed(&s, wants_auth, 2, &used, &out, &why), MU_EIO);
	assert_non_null(strstr(why.text, "authentication"));
	mu_socks_start(&s, HOST, 80, &out);
	assert_int_equal(mu_socks_feed(&s, not_socks, 2, &used, &out, &why), MU_EIO);
	assert_non_null(strstr(why.text, "SOCKS5"));
	/* A host name SOCKS cannot carry. */
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mu_socks_start(&s, longname, 80, &out), MU_EINVAL);
	mu_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(greeting_then_connect_request),
	    cmocka_unit_test(reply_split_anywhere),
	    cmocka_unit_test(refusals_are_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
