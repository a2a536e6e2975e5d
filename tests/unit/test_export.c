/*
 * The export stream reader (protocol/export.h): records come out one by
 * one, byte for byte, with nothing skipped; a stream without the magic is
 * refused; a record cut short at the end or with broken outer headers ends
 * the stream with the right error and number, and the stream stays broken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/export.h"
#include "rec_util.h"

static struct key G;
static struct w A, B; /* two signed records */
static uint8_t stream[2 * sizeof(A.b) + MU_EXPORT_MAGIC_LEN];
static size_t stream_len;

static void
make(struct w *out, const char *d)
{
	struct w body = {{0}, 0};

	w_header(&body, "cause", G.pk, G.pk, T0, d, 0);
	w_map(&body, 2);
	w_str(&body, "status");
	w_str(&body, "active");
	w_str(&body, "title");
	w_str(&body, "T");
	w_record(out, body.b, body.n, G.sk);
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	key_from_byte(&G, 9);
	make(&A, "a");
	make(&B, "b");
	memcpy(stream, mu_export_magic, MU_EXPORT_MAGIC_LEN);
	memcpy(stream + MU_EXPORT_MAGIC_LEN, A.b, A.n);
	memcpy(stream + MU_EXPORT_MAGIC_LEN + A.n, B.b, B.n);
	stream_len = MU_EXPORT_MAGIC_LEN + A.n + B.n;
	return 0;
}

static void
test_records(void **state)
{
	struct mu_export_reader r;
	struct mu_record rec;
	const uint8_t *p;
	struct mu_why why;
	size_t len;

	(void)state;
	assert_int_equal(mu_export_open(&r, stream, stream_len, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 1);
	assert_int_equal(len, A.n);
	assert_memory_equal(p, A.b, A.n);
	assert_int_equal(mu_rec_parse(&rec, p, len, T0, 0, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 1);
	assert_memory_equal(p, B.b, B.n);
	assert_int_equal(r.index, 2);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 0);

	/* The magic alone is an empty stream. */
	assert_int_equal(mu_export_open(&r, stream, MU_EXPORT_MAGIC_LEN, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 0);
}

static void
test_magic(void **state)
{
	struct mu_export_reader r;
	uint8_t bad[MU_EXPORT_MAGIC_LEN];
	struct mu_why why;

	(void)state;
	assert_int_equal(mu_export_open(&r, stream, MU_EXPORT_MAGIC_LEN - 1, &why),
	                 MU_EFORMAT);
	assert_non_null(strstr(why.text, "muster-export/1"));
	memcpy(bad, mu_export_magic, sizeof(bad));
	bad[15] = '2';
	assert_int_equal(mu_export_open(&r, bad, sizeof(bad), &why), MU_EFORMAT);
	assert_int_equal(mu_export_open(&r, A.b, A.n, &why), MU_EFORMAT);
}

static void
test_broken(void **state)
{
	struct mu_export_reader r;
	const uint8_t *p;
	struct mu_why why;
	size_t len;

	(void)state;
	/* Cut inside the second record: the first still comes out. */
	assert_int_equal(mu_export_open(&r, stream, stream_len - 1, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 1);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), MU_ETRUNC);
	assert_int_equal(r.index, 2);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), MU_ETRUNC);
	assert_int_equal(r.index, 2);

	/* A value that is no record: nothing after it can be found. */
	stream[MU_EXPORT_MAGIC_LEN + A.n] = 0x93;
	assert_int_equal(mu_export_open(&r, stream, stream_len, &why), 0);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), 1);
	assert_int_equal(mu_export_next(&r, &p, &len, &why), MU_ERECORD);
	assert_true(strncmp(why.text, "shape:", 6) == 0);
	stream[MU_EXPORT_MAGIC_LEN + A.n] = 0x92;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_magic),
	    cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
