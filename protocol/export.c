/*
 * export.c - cutting an export stream into records (export.h).
 */
#include "export.h"

#include <string.h>

#include "record.h"

const uint8_t mu_export_magic[MU_EXPORT_MAGIC_LEN] = {
    0xaf, 'm', 'u', 's', 't', 'e', 'r', '-', 'e', 'x', 'p', 'o', 'r', 't', '/', '1'};

int
mu_export_open(struct mu_export_reader *r, const uint8_t *buf, size_t len,
               struct mu_why *why)
{
	memset(r, 0, sizeof(*r));
	if (len < MU_EXPORT_MAGIC_LEN ||
	    memcmp(buf, mu_export_magic, MU_EXPORT_MAGIC_LEN) != 0)
		return mu_fail(why, MU_EFORMAT,
		               "magic: not a muster export stream: it must start with "
		               "the msgpack string \"muster-export/1\"");
	r->buf = buf;
	r->len = len;
	r->off = MU_EXPORT_MAGIC_LEN;
	return 0;
}

int
mu_export_next(struct mu_export_reader *r, const uint8_t **rec, size_t *rec_len,
               struct mu_why *why)
{
	long span;

	if (r->broken != 0)
		return mu_fail(why, r->broken, "shape: the stream broke at record %zu",
		               r->index);
	if (r->off >= r->len)
		return 0;
	r->index++;
	span = mu_rec_span(r->buf + r->off, r->len - r->off, why);
	if (span <= 0) {
		r->broken = span < 0 ? (int)span : MU_ERECORD;
		return r->broken;
	}
	*rec = r->buf + r->off;
	*rec_len = (size_t)span;
	r->off += (size_t)span;
	return 1;
}
