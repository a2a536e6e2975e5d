/*
 * fuzz_export - the export-stream reader that `muster import` uses
 * (protocol/export.h), and the parse of every record it cuts out.
 *
 * Invariants: the slices follow one another from the end of the magic with
 * nothing between them, each is exactly what mu_rec_span() measures, the
 * stream either ends where the input ends or breaks with MU_ETRUNC or
 * MU_ERECORD, and a broken stream stays broken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "protocol/export.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mu_export_reader r;
	struct mu_record rec;
	struct mu_why why;
	const uint8_t *p;
	size_t len, expect = MU_EXPORT_MAGIC_LEN, n = 0;
	int rc;

	if (mu_export_open(&r, data, size, &why) != 0) {
		fz_check(size < MU_EXPORT_MAGIC_LEN ||
		             memcmp(data, mu_export_magic, MU_EXPORT_MAGIC_LEN) != 0,
		         "a stream with the magic opens");
		return 0;
	}
	while ((rc = mu_export_next(&r, &p, &len, &why)) == 1) {
		fz_check(p == data + expect, "records follow one another");
		fz_check(len > 0 && len <= size - expect, "record inside the stream");
		fz_check(mu_rec_span(p, len, &why) == (long)len, "slice is one record");
		fz_check(len <= MU_RECORD_MAX, "record size bound");
		expect += len;
		fz_check(r.index == ++n, "index counts records");
		rc = mu_rec_parse(&rec, p, len, FZ_NOW, 0, &why);
		fz_check(rc == 0 || rc == MU_ERECORD || rc == MU_ESIG,
		         "parse error code");
	}
	if (rc == 0) {
		fz_check(expect == size, "the stream ends at the end of the input");
		fz_check(mu_export_next(&r, &p, &len, &why) == 0, "the end stays");
	} else {
		fz_check(rc == MU_ETRUNC || rc == MU_ERECORD, "stream error code");
		fz_check(r.index == n + 1, "the broken record is numbered");
		fz_check(mu_export_next(&r, &p, &len, &why) == rc,
		         "broken stays broken");
	}
	return 0;
}
