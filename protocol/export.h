/*
 * export.h - the export stream of docs/PROTOCOL.md section 7: the magic,
 * then records with nothing between them, cut apart without parsing them.
 *
 * Pure: the caller reads the file; the reader walks the bytes it is given.
 * Each record's length comes from mu_rec_span(), which reads only the outer
 * headers and checks every declared length against the bytes left, so a
 * stream of any shape is walked in one pass and never makes the reader
 * allocate or read past its end.
 *
 * Ownership: the reader borrows the stream; the record slices it returns
 * point into it.
 */
#ifndef MU_EXPORT_H
#define MU_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The msgpack str "muster-export/1": a fixstr header and 15 bytes. */
#define MU_EXPORT_MAGIC_LEN 16
extern const uint8_t mu_export_magic[MU_EXPORT_MAGIC_LEN];

struct mu_export_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;   /* where the next record starts */
	size_t index; /* records returned or refused so far, from 1 */
	int broken;   /* the error that stopped the stream, or 0 */
};

/*
 * Starts reading a stream of len bytes. MU_EFORMAT with why when it does not
 * start with the magic.
 */
int mu_export_open(struct mu_export_reader *r, const uint8_t *buf, size_t len,
                   struct mu_why *why);

/*
 * The next record's bytes, unparsed: 1 with *rec and *rec_len set (the slice
 * is exactly one record as mu_rec_span() measures it; mu_rec_parse() still
 * has to judge it), 0 at the end of the stream. A record whose outer headers
 * are broken ends the stream, since nothing tells where the next one starts:
 * MU_ETRUNC (cut short at the end: an interrupted copy) or MU_ERECORD, with
 * the rule in why; r->index is that record's number, and every later call
 * returns the same error.
 */
int mu_export_next(struct mu_export_reader *r, const uint8_t **rec, size_t *rec_len,
                   struct mu_why *why);

#endif
