/* The wake socket, HOME/serve.wake: bound, woken, drained, left by a killed
 * daemon, replaced, removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/home.h"

struct tmp {
	char dir[32];
	char path[64];
	struct mu_home home;
};

static void
tmp_make(struct tmp *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/muster-wake-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/serve.wake", t->dir);
	t->home.dir = t->dir;
}

static void
test_wakes_counted_once(void **state)
{
	struct mu_why why = {0};
	struct stat st;
	struct tmp t;
	int fd;

	(void)state;
	tmp_make(&t);
	mu_home_wake(&t.home); /* no daemon: nothing happens */
	assert_int_equal(mu_home_wake_bind(&t.home, &fd, &why), 0);
	assert_int_equal(lstat(t.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(mu_home_wake_drain(fd), 0);
	mu_home_wake(&t.home);
	mu_home_wake(&t.home);
	mu_home_wake(&t.home);
	assert_int_equal(mu_home_wake_drain(fd), 3);
	assert_int_equal(mu_home_wake_drain(fd), 0);
	mu_home_wake_close(&t.home, fd);
	assert_int_not_equal(access(t.path, F_OK), 0);
	rmdir(t.dir);
}

static void
test_killed_daemons_socket_replaced(void **state)
{
	struct mu_why why = {0};
	struct tmp t;
	int fd;

	(void)state;
	tmp_make(&t);
	assert_int_equal(mu_home_wake_bind(&t.home, &fd, &why), 0);
	close(fd); /* killed: the file stays, nobody reads it */
	assert_int_equal(access(t.path, F_OK), 0);
	mu_home_wake(&t.home); /* refused at once, quietly */

	assert_int_equal(mu_home_wake_bind(&t.home, &fd, &why), 0);
	mu_home_wake(&t.home);
	assert_int_equal(mu_home_wake_drain(fd), 1);
	mu_home_wake_close(&t.home, fd);
	assert_int_not_equal(access(t.path, F_OK), 0);
	rmdir(t.dir);
}

static void
test_long_home_path(void **state)
{
	char deep[320], sub[256];
	struct mu_why why = {0};
	struct tmp t;
	int fd;

	(void)state;
	tmp_make(&t);
	snprintf(sub, sizeof(sub), "%s/%0100d", t.dir, 0);
	snprintf(deep, sizeof(deep), "%s/home", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(deep, 0700), 0);
	t.home.dir = deep;
	assert_true(strlen(deep) + sizeof("/serve.wake") > 108); /* sun_path */
	assert_int_equal(mu_home_wake_bind(&t.home, &fd, &why), 0);
	mu_home_wake(&t.home);
	assert_int_equal(mu_home_wake_drain(fd), 1);
	mu_home_wake_close(&t.home, fd);
	assert_int_equal(rmdir(deep), 0); /* empty: the socket went */
	rmdir(sub);
	rmdir(t.dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wakes_counted_once),
	    cmocka_unit_test(test_killed_daemons_socket_replaced),
	    cmocka_unit_test(test_long_home_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
