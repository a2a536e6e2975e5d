/*
 * A canonical msgpack pull reader. Each read checks, in this order: that a
 * first byte is there, that the type is allowed and the one asked for, that
 * the header bytes are there, that the form is the shortest for its value,
 * and that the declared length fits in what is left.
 */
#include "msgpack_read.h"

#include "error.h"

static const char NONCANON_INT[] =
    "is an integer in a longer form than its value needs";
static const char SIGNED_POS[] = "is an integer >= 0 in a signed form";
static const char NONCANON_LEN[] = "has a longer length header than its length needs";

enum mu_mp_type
mu_mp_peek(const struct mu_mp *r)
{
	uint8_t b;

	if (r->p >= r->end)
		return MU_MP_END;
	b = *r->p;
	if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
		return MU_MP_UINT;
	if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
		return MU_MP_NINT;
	if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
		return MU_MP_STR;
	if (b >= 0x90 && b <= 0x9f)
		return MU_MP_ARRAY;
	if (b >= 0x80 && b <= 0x8f)
		return MU_MP_MAP;
	switch (b) {
	case 0xc4:
	case 0xc5:
	case 0xc6:
		return MU_MP_BIN;
	case 0xdc:
	case 0xdd:
		return MU_MP_ARRAY;
	case 0xde:
	case 0xdf:
		return MU_MP_MAP;
	case 0xc3:
		return MU_MP_TRUE;
	case 0xc2:
		return MU_MP_FALSE;
	default: /* 0xc0 nil, 0xc1, 0xc7-0xc9 ext, 0xca-0xcb float, 0xd4-0xd8 */
		return MU_MP_FORBIDDEN;
	}
}

const char *
mu_mp_type_name(enum mu_mp_type t)
{
	switch (t) {
	case MU_MP_END:
		return "nothing";
	case MU_MP_UINT:
		return "a uint";
	case MU_MP_NINT:
		return "a negative int";
	case MU_MP_STR:
		return "a str";
	case MU_MP_BIN:
		return "a bin";
	case MU_MP_ARRAY:
		return "an array";
	case MU_MP_MAP:
		return "a map";
	case MU_MP_TRUE:
		return "true";
	case MU_MP_FALSE:
		return "false";
	case MU_MP_FORBIDDEN:
		break;
	}
	return "a nil, float or ext";
}

static int
fail(struct mu_mp *r, const char *rule, const char *detail)
{
	r->rule = rule;
	r->detail = detail;
	return MU_ERECORD;
}

/* Checks that the next value has type want (or reports why not). */
static int
expect(struct mu_mp *r, enum mu_mp_type want)
{
	enum mu_mp_type t = mu_mp_peek(r);

	if (t == want)
		return 0;
	r->found = t;
	switch (t) {
	case MU_MP_END:
		return MU_ETRUNC;
	case MU_MP_FALSE:
		return fail(r, "canonical", "is false, which never appears");
	case MU_MP_FORBIDDEN:
		switch (*r->p) {
		case 0xc0:
			return fail(r, "canonical", "is nil, which never appears");
		case 0xca:
		case 0xcb:
			return fail(r, "canonical", "is a float, which never appears");
		case 0xc1:
			return fail(r, "canonical",
			            "is byte 0xc1, which msgpack never uses");
		default:
			return fail(r, "canonical",
			            "is an ext value, which never appears");
		}
	default:
		return fail(r, "type", "has the wrong type");
	}
}

static uint64_t
be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Reads the length that follows a one-byte tag of a length-prefixed form:
 * width is 1, 2 or 4 bytes; min is the smallest length that needs it.
 */
static int
sized(struct mu_mp *r, unsigned width, uint64_t min, uint64_t *len)
{
	if (mu_mp_left(r) < 1 + (size_t)width)
		return MU_ETRUNC;
	*len = be(r->p + 1, width);
	if (*len < min)
		return fail(r, "canonical", NONCANON_LEN);
	r->p += 1 + width;
	return 0;
}

static int
container(struct mu_mp *r, enum mu_mp_type want, uint8_t fixbase, uint8_t tag16,
          unsigned per, uint32_t *n)
{
	uint64_t count;
	uint8_t b;
	int rc;

	if ((rc = expect(r, want)) != 0)
		return rc;
	b = *r->p;
	if (b >= fixbase && b <= fixbase + 15) {
		count = b - fixbase;
		r->p++;
	} else if (b == tag16) {
		rc = sized(r, 2, 16, &count);
	} else {
		rc = sized(r, 4, 65536, &count);
	}
	if (rc != 0)
		return rc;
	/* Every element takes at least one byte. */
	if (count > mu_mp_left(r) / per)
		return MU_ETRUNC;
	*n = (uint32_t)count;
	return 0;
}

int
mu_mp_read_array(struct mu_mp *r, uint32_t *n)
{
	return container(r, MU_MP_ARRAY, 0x90, 0xdc, 1, n);
}

int
mu_mp_read_map(struct mu_mp *r, uint32_t *n)
{
	return container(r, MU_MP_MAP, 0x80, 0xde, 2, n);
}

int
mu_mp_read_uint(struct mu_mp *r, uint64_t *v)
{
	static const uint64_t min[4] = {128, 256, 65536, 1ull << 32};
	struct mu_mp copy;
	unsigned k, width;
	int64_t s;
	uint8_t b;
	int rc;

	if (mu_mp_peek(r) == MU_MP_NINT) {
		/* A value >= 0 in a signed form is a canonical error, not a type one.
		 */
		copy = *r;
		if ((rc = mu_mp_read_int(&copy, &s)) != 0) {
			*r = copy;
			return rc;
		}
		r->found = MU_MP_NINT;
		return fail(r, "type", "has the wrong type");
	}
	if ((rc = expect(r, MU_MP_UINT)) != 0)
		return rc;
	b = *r->p;
	if (b <= 0x7f) {
		*v = b;
		r->p++;
		return 0;
	}
	k = b - 0xcc;
	width = 1u << k;
	if (mu_mp_left(r) < 1 + (size_t)width)
		return MU_ETRUNC;
	*v = be(r->p + 1, width);
	if (*v < min[k])
		return fail(r, "canonical", NONCANON_INT);
	r->p += 1 + width;
	return 0;
}

int
mu_mp_read_int(struct mu_mp *r, int64_t *v)
{
	/* Below these, the next smaller signed form would not do. */
	static const int64_t lim[4] = {-32, -128, -32768, -2147483648LL};
	enum mu_mp_type t = mu_mp_peek(r);
	unsigned k, width;
	uint64_t u;
	int64_t s;
	uint8_t b;
	int rc;

	if (t == MU_MP_UINT) {
		if ((rc = mu_mp_read_uint(r, &u)) != 0)
			return rc;
		*v = u > INT64_MAX ? INT64_MAX : (int64_t)u;
		return 0;
	}
	if ((rc = expect(r, MU_MP_NINT)) != 0)
		return rc;
	b = *r->p;
	if (b >= 0xe0) {
		*v = (int8_t)b;
		r->p++;
		return 0;
	}
	k = b - 0xd0;
	width = 1u << k;
	if (mu_mp_left(r) < 1 + (size_t)width)
		return MU_ETRUNC;
	u = be(r->p + 1, width);
	switch (width) {
	case 1:
		s = (int8_t)u;
		break;
	case 2:
		s = (int16_t)u;
		break;
	case 4:
		s = (int32_t)u;
		break;
	default:
		s = (int64_t)u;
		break;
	}
	if (s >= 0)
		return fail(r, "canonical", SIGNED_POS);
	if (s >= lim[k])
		return fail(r, "canonical", NONCANON_INT);
	*v = s;
	r->p += 1 + width;
	return 0;
}

static int
bytes(struct mu_mp *r, enum mu_mp_type want, const uint8_t **ptr, size_t *len)
{
	/* The shortest length each of the 8-, 16- and 32-bit forms is for. */
	static const uint64_t strmin[3] = {32, 256, 65536};
	static const uint64_t binmin[3] = {0, 256, 65536};
	uint64_t n;
	unsigned k;
	uint8_t b;
	int rc = 0;

	if ((rc = expect(r, want)) != 0)
		return rc;
	b = *r->p;
	if (b >= 0xa0 && b <= 0xbf) {
		n = b - 0xa0;
		r->p++;
	} else {
		k = want == MU_MP_STR ? b - 0xd9u : b - 0xc4u;
		rc = sized(r, 1u << k, want == MU_MP_STR ? strmin[k] : binmin[k], &n);
	}
	if (rc != 0)
		return rc;
	if (n > mu_mp_left(r))
		return MU_ETRUNC;
	*ptr = r->p;
	*len = (size_t)n;
	r->p += n;
	return 0;
}

int
mu_mp_read_str(struct mu_mp *r, const char **ptr, size_t *len)
{
	const uint8_t *p;
	int rc;

	if ((rc = bytes(r, MU_MP_STR, &p, len)) != 0)
		return rc;
	*ptr = (const char *)p;
	return 0;
}

int
mu_mp_read_bin(struct mu_mp *r, const uint8_t **ptr, size_t *len)
{
	return bytes(r, MU_MP_BIN, ptr, len);
}

int
mu_mp_read_true(struct mu_mp *r)
{
	int rc;

	if ((rc = expect(r, MU_MP_TRUE)) != 0)
		return rc;
	r->p++;
	return 0;
}
