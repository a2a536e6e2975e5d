/*
 * mu_buf_grow_array(): the capacity it gives, and what it leaves on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "protocol/buf.h"
#include "protocol/error.h"

static void
test_grow_array(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0, i;

	(void)state;
	assert_int_equal(mu_buf_grow_array(&v, &cap, 0, sizeof(*v), 4), 0);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_int_equal(mu_buf_grow_array(&v, &cap, 1, sizeof(*v), 4), 0);
	assert_non_null(v);
	assert_int_equal(cap, 4);
	for (i = 0; i < 4; i++)
		v[i] = (uint32_t)i;
	assert_int_equal(mu_buf_grow_array(&v, &cap, 4, sizeof(*v), 4), 0);
	assert_int_equal(cap, 4);
	assert_int_equal(mu_buf_grow_array(&v, &cap, 5, sizeof(*v), 4), 0);
	assert_int_equal(cap, 8);
	/* Doubling until it fits, the contents kept. */
	assert_int_equal(mu_buf_grow_array(&v, &cap, 33, sizeof(*v), 4), 0);
	assert_int_equal(cap, 64);
	for (i = 0; i < 4; i++)
		assert_int_equal(v[i], i);
	v[63] = 63;
	free(v);
}

static void
test_grow_array_overflow(void **state)
{
	uint64_t *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	/* More than fits in size_t bytes: refused, the array left as it was. */
	assert_int_equal(mu_buf_grow_array(&v, &cap, SIZE_MAX / 4, sizeof(*v), 8),
	                 MU_ENOMEM);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_int_equal(mu_buf_grow_array(&v, &cap, 3, sizeof(*v), 8), 0);
	before = v;
	assert_int_equal(mu_buf_grow_array(&v, &cap, SIZE_MAX, 1, 8), MU_ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 8);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_array),
	    cmocka_unit_test(test_grow_array_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
