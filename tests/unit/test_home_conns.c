/* The daemon's connection list file: written whole, read back, replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/home.h"

static void
test_write_read_replace(void **state)
{
	char dir[] = "/tmp/muster-conns-XXXXXX", path[64];
	struct mu_home home = {0};
	struct mu_why why;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(dir));
	home.dir = dir;
	assert_null(mu_home_read_conns(&home)); /* no daemon ever ran */

	assert_int_equal(
	    mu_home_write_conns(&home, "127.0.0.1:1\tmug1x\tdialed\n", &why), 0);
	text = mu_home_read_conns(&home);
	assert_string_equal(text, "127.0.0.1:1\tmug1x\tdialed\n");
	free(text);

	assert_int_equal(mu_home_write_conns(&home, "", &why), 0);
	text = mu_home_read_conns(&home);
	assert_string_equal(text, "");
	free(text);

	/* No temporary file is left behind. */
	snprintf(path, sizeof(path), "%s/serve.conns.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/serve.conns", dir);
	unlink(path);
	rmdir(dir);

	home.dir = "/nonexistent-dir/for/muster";
	assert_int_equal(mu_home_write_conns(&home, "x", &why), MU_EIO);
	assert_non_null(strstr(why.text, "serve.conns"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_write_read_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
