/*
 * msgpack_read.h - a pull reader for CANONICAL msgpack (docs/PROTOCOL.md,
 * section 2.2), used to decode record bodies.
 *
 * msgpack-c's unpacker is not used for decoding: it allocates for the counts
 * a message declares, and it cannot tell a non-canonical encoding from a
 * canonical one. This reader never allocates and never trusts a declared
 * count or length: a header that claims more than the bytes left is
 * reported as truncation before anything is read for it.
 *
 * Every reader function returns 0, MU_ETRUNC (the bytes end inside the value,
 * or a declared length or count exceeds what is left) or MU_ERECORD. On
 * MU_ERECORD, r->rule is "canonical" (a non-shortest form or a type that may
 * never appear: nil, false, float, ext, 0xc1) or "type" (an allowed value of
 * another type than the one asked for; r->found says which), and r->detail is
 * a static phrase for the error message. On any error r->p is unspecified.
 *
 * Ownership: the reader borrows the bytes; strings and byte strings it returns
 * point into them.
 */
#ifndef MU_MSGPACK_READ_H
#define MU_MSGPACK_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the next value is, from its first byte alone. */
enum mu_mp_type {
	MU_MP_END = 0, /* no bytes left */
	MU_MP_UINT,    /* positive fixint, uint8..uint64 */
	MU_MP_NINT,    /* negative fixint, int8..int64 (maybe non-canonical) */
	MU_MP_STR,
	MU_MP_BIN,
	MU_MP_ARRAY,
	MU_MP_MAP,
	MU_MP_TRUE,
	MU_MP_FALSE,     /* never canonical, but named for better errors */
	MU_MP_FORBIDDEN, /* nil, float, ext, 0xc1 */
};

struct mu_mp {
	const uint8_t *p;   /* next byte */
	const uint8_t *end; /* one past the last byte */
	/* Set on MU_ERECORD; see above. */
	const char *rule;
	const char *detail;
	enum mu_mp_type found;
};

static inline void
mu_mp_init(struct mu_mp *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->rule = NULL;
	r->detail = NULL;
	r->found = MU_MP_END;
}

static inline size_t
mu_mp_left(const struct mu_mp *r)
{
	return (size_t)(r->end - r->p);
}

/* The type of the next value; MU_MP_END when nothing is left. */
enum mu_mp_type mu_mp_peek(const struct mu_mp *r);

/* A name for a type with its article ("a uint", "an array"), for messages. */
const char *mu_mp_type_name(enum mu_mp_type t);

/*
 * Array and map headers. *n is the element (pair) count; it is checked
 * against the bytes left (one byte per element at least), never allocated.
 */
int mu_mp_read_array(struct mu_mp *r, uint32_t *n);
int mu_mp_read_map(struct mu_mp *r, uint32_t *n);

/* A non-negative integer; a negative one is a type error. */
int mu_mp_read_uint(struct mu_mp *r, uint64_t *v);

/*
 * Any integer. Values above INT64_MAX read as INT64_MAX: every integer field
 * of the protocol has a far smaller range, which callers check.
 */
int mu_mp_read_int(struct mu_mp *r, int64_t *v);

/* A str or a bin: *ptr points into the reader's bytes, *len bytes long. */
int mu_mp_read_str(struct mu_mp *r, const char **ptr, size_t *len);
int mu_mp_read_bin(struct mu_mp *r, const uint8_t **ptr, size_t *len);

/* The value true (the only boolean that may appear). */
int mu_mp_read_true(struct mu_mp *r);

#endif
