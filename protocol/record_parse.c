/*
 * Record parsing and validation: every rule of docs/PROTOCOL.md, section 4,
 * in one pass over the bytes, without allocating. The cheap structural rules
 * come first and the signature last, so that garbage costs no Ed25519
 * verification.
 *
 * Errors: MU_ETRUNC only when the buffer ends before the record does (as
 * mu_rec_span() says); a value cut off inside a complete body is a malformed
 * body (rule shape, MU_ERECORD). MU_ESIG for rule signature.
 */
#include "record.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "msgpack_read.h"
#include "kind.h"
#include "utf8.h"

/* Where the parser is, for error messages only. */
struct pctx {
	struct mu_mp r;
	struct mu_why *why;
	const struct mu_fields *t; /* the map being read, or NULL for the header */
	const char *key;           /* the field, or NULL while reading a key */
	long idx;                  /* the list item, or -1 */
	const char *part;          /* the part of an address, or NULL */
};

/* "event.tags[3]", "event.cause.d", "created_at". */
static void
path(const struct pctx *c, char *out, size_t n)
{
	int k;

	if (c->t == NULL) {
		snprintf(out, n, "%s", c->key);
		return;
	}
	if (c->key == NULL) {
		snprintf(out, n, "%s", c->t->name);
		return;
	}
	k = snprintf(out, n, "%s.%s", c->t->name, c->key);
	if (k > 0 && (size_t)k < n && c->idx >= 0)
		k += snprintf(out + k, n - (size_t)k, "[%ld]", c->idx);
	if (k > 0 && (size_t)k < n && c->part != NULL)
		snprintf(out + k, n - (size_t)k, ".%s", c->part);
}

/* "rule: path detail" into why; returns err. */
__attribute__((format(printf, 4, 5))) static int
efail(const struct pctx *c, int err, const char *rule, const char *fmt, ...)
{
	char where[96];
	va_list ap;
	int k;

	if (c->why == NULL)
		return err;
	path(c, where, sizeof(where));
	k = snprintf(c->why->text, sizeof(c->why->text), "%s: %s ", rule, where);
	c->why->rule_len = strlen(rule);
	if (k < 0 || (size_t)k >= sizeof(c->why->text))
		return err;
	va_start(ap, fmt);
	vsnprintf(c->why->text + k, sizeof(c->why->text) - (size_t)k, fmt, ap);
	va_end(ap);
	return err;
}

/* A reader error at the current path; want names the expected type. */
static int
rfail(const struct pctx *c, int rc, const char *want)
{
	if (rc == MU_ETRUNC)
		return efail(c, MU_ERECORD, "shape",
		             "is cut off by the end of the body");
	if (strcmp(c->r.rule, "type") == 0)
		return efail(c, MU_ERECORD, "type", "must be %s, not %s", want,
		             mu_mp_type_name(c->r.found));
	return efail(c, MU_ERECORD, c->r.rule, "%s", c->r.detail);
}

/* Untrusted bytes for a message: printable ASCII, '?' for others, capped. */
static const char *
quote(char *out, size_t n, const char *s, size_t len)
{
	size_t i, k = 0;

	for (i = 0; i < len && k + 4 < n; i++)
		out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < len)
		for (i = 0; i < 3; i++)
			out[k++] = '.';
	out[k] = '\0';
	return out;
}

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if (d != 0)
		return d;
	return alen < blen ? -1 : alen > blen;
}

static bool
tz_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '+' ||
	       ch == '-';
}

/* The str types: line, text, url, tz. */
static int
parse_string(struct pctx *c, const struct mu_field *f, struct mu_str *s)
{
	struct mu_why hwhy;
	struct mu_utf8_err ue;
	size_t i;
	int rc;

	if ((rc = mu_mp_read_str(&c->r, &s->ptr, &s->len)) != 0)
		return rfail(c, rc, "a str");
	if (s->len == 0)
		return efail(c, MU_ERECORD, "empty",
		             "is an empty string; leave the field out instead");
	if (s->len > f->max)
		return efail(c, MU_ERECORD, "field-length", "is %zu bytes, at most %u",
		             s->len, f->max);
	if (f->type == MU_FT_TZ) {
		for (i = 0; i < s->len; i++)
			if (!tz_char((unsigned char)s->ptr[i]))
				return efail(c, MU_ERECORD, "tz",
				             "has a character at byte %zu that is not "
				             "A-Z a-z 0-9 / _ + -",
				             i);
		if (s->ptr[0] == '/')
			return efail(c, MU_ERECORD, "tz",
			             "starts with '/'; write a zone name like "
			             "Europe/Paris");
		return 0;
	}
	switch (mu_utf8_check(
	    s->ptr, s->len, f->type == MU_FT_TEXT ? MU_UTF8_TEXT : MU_UTF8_LINE, &ue)) {
	case MU_UTF8_EBAD:
		return efail(c, MU_ERECORD, "utf8",
		             "is not valid UTF-8: %s at byte %zu", ue.detail, ue.off);
	case MU_UTF8_ECONTROL:
		return efail(c, MU_ERECORD, "control-char",
		             "has control character 0x%02x at byte %zu%s",
		             (unsigned char)s->ptr[ue.off], ue.off,
		             f->type == MU_FT_TEXT ? " (only tab and line feed are "
		                                     "allowed)"
		                                   : "");
	}
	if (f->type == MU_FT_URL) {
		if (!(s->len >= 7 && memcmp(s->ptr, "http://", 7) == 0) &&
		    !(s->len >= 8 && memcmp(s->ptr, "https://", 8) == 0))
			return efail(c, MU_ERECORD, "url",
			             "must start with http:// or https://");
		if (memchr(s->ptr, ' ', s->len) != NULL)
			return efail(c, MU_ERECORD, "url",
			             "contains a space; write it as %%20");
	}
	if (f->type == MU_FT_HOSTPORT &&
	    mu_rec_check_node_addr(s->ptr, s->len, &hwhy) != 0)
		return efail(c, MU_ERECORD, "node-addr", "is not HOST:PORT: %s",
		             mu_why_detail(&hwhy));
	return 0;
}

static int
parse_enum(struct pctx *c, const struct mu_field *f, int *v)
{
	char list[64], q[40];
	const char *s;
	size_t len, i, k = 0;
	int rc;

	if ((rc = mu_mp_read_str(&c->r, &s, &len)) != 0)
		return rfail(c, rc, "a str");
	if (len == 0)
		return efail(c, MU_ERECORD, "empty", "is an empty string");
	for (i = 0; f->names[i] != NULL; i++) {
		if (strlen(f->names[i]) == len && memcmp(f->names[i], s, len) == 0) {
			*v = (int)i + 1;
			return 0;
		}
	}
	list[0] = '\0';
	for (i = 0; f->names[i] != NULL && k < sizeof(list); i++)
		k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s", i ? ", " : "",
		                      f->names[i]);
	return efail(c, MU_ERECORD, "enum", "is \"%s\", not one of %s",
	             quote(q, sizeof(q), s, len), list);
}

static int
parse_int(struct pctx *c, const struct mu_field *f, void *dst)
{
	uint64_t u;
	int64_t v;
	int rc;

	if (f->flags & MU_FF_UINT) {
		if ((rc = mu_mp_read_uint(&c->r, &u)) != 0)
			return rfail(c, rc, "a uint");
		v = u > INT64_MAX ? INT64_MAX : (int64_t)u;
	} else if ((rc = mu_mp_read_int(&c->r, &v)) != 0) {
		return rfail(c, rc, "an int");
	}
	if (v < f->lo || v > f->hi)
		return efail(c, MU_ERECORD, f->range_rule,
		             "is %lld, must be in %lld ... %lld", (long long)v,
		             (long long)f->lo, (long long)f->hi);
	switch (f->store) {
	case MU_FI_INT64:
		*(int64_t *)dst = v;
		break;
	case MU_FI_INT32:
		*(int32_t *)dst = (int32_t)v;
		break;
	case MU_FI_UINT32:
		*(uint32_t *)dst = (uint32_t)v;
		break;
	}
	return 0;
}

static int
parse_key(struct pctx *c, uint8_t *dst)
{
	const uint8_t *p;
	size_t len;
	int rc;

	if ((rc = mu_mp_read_bin(&c->r, &p, &len)) != 0)
		return rfail(c, rc, "a bin of 32 bytes");
	if (len != MU_KEY_BYTES)
		return efail(c, MU_ERECORD, "type", "is a bin of %zu bytes, must be %d",
		             len, MU_KEY_BYTES);
	memcpy(dst, p, MU_KEY_BYTES);
	return 0;
}

static int
parse_addr(struct pctx *c, const struct mu_field *f, struct mu_addr *a)
{
	struct mu_why dwhy;
	const char *name;
	char q[40], kinds[MU_KIND_LIST_SIZE];
	size_t len;
	uint32_t n;
	int rc;

	if ((rc = mu_mp_read_array(&c->r, &n)) != 0)
		return rfail(c, rc, "an array [group, kind, d]");
	if (n != 3)
		return efail(c, MU_ERECORD, "type",
		             "is an array of %u, must be [group, kind, d]", n);
	c->part = "group";
	if ((rc = parse_key(c, a->group)) != 0)
		return rc;
	c->part = "kind";
	if ((rc = mu_mp_read_str(&c->r, &name, &len)) != 0)
		return rfail(c, rc, "a str");
	a->kind = mu_kind_from_name(name, len);
	if (!mu_kind_replaceable(a->kind))
		return efail(c, MU_ERECORD, "address", "is \"%s\"; an address names %s",
		             quote(q, sizeof(q), name, len),
		             mu_kind_list(kinds, sizeof(kinds), true, " or "));
	if (f->addr_kind != MU_KIND_NONE && a->kind != f->addr_kind)
		return efail(c, MU_ERECORD, "address", "is %s, must be %s",
		             mu_kind_name(a->kind), mu_kind_name(f->addr_kind));
	c->part = "d";
	if ((rc = mu_mp_read_str(&c->r, &a->d.ptr, &a->d.len)) != 0)
		return rfail(c, rc, "a str");
	if (mu_rec_check_d(a->kind, &a->d, NULL, &dwhy) != 0)
		return efail(c, MU_ERECORD, "address", "does not fit: %s",
		             mu_why_detail(&dwhy));
	c->part = NULL;
	return 0;
}

/* Canonical bins of 32 lie back to back, each `c4 20` and the id: the list
 * borrows the first id and steps over the others. */
#define IDLIST_STRIDE (2 + MU_ID_BYTES)

/* A list's array header: 1 to list_max items, into *n. */
static int
parse_list_head(struct pctx *c, const struct mu_field *f, uint32_t *n)
{
	int rc;

	if ((rc = mu_mp_read_array(&c->r, n)) != 0)
		return rfail(c, rc, "an array");
	if (*n == 0)
		return efail(c, MU_ERECORD, "empty",
		             "is an empty list; leave the field out instead");
	if (*n > f->list_max)
		return efail(c, MU_ERECORD, "field-length", "has %u items, at most %u",
		             *n, f->list_max);
	return 0;
}

static int
parse_idlist(struct pctx *c, const struct mu_field *f, struct mu_idlist *l)
{
	const uint8_t *p;
	size_t len;
	uint32_t n, i;
	int rc;

	if ((rc = parse_list_head(c, f, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		c->idx = (long)i;
		if ((rc = mu_mp_read_bin(&c->r, &p, &len)) != 0)
			return rfail(c, rc, "a bin of 32 bytes");
		if (len != MU_ID_BYTES)
			return efail(c, MU_ERECORD, "type",
			             "is a bin of %zu bytes, must be %d", len,
			             MU_ID_BYTES);
		if (i == 0)
			l->ids = p;
	}
	c->idx = -1;
	l->n = n;
	l->stride = IDLIST_STRIDE;
	return 0;
}

static int parse_map(struct pctx *c, const struct mu_fields *t, uint8_t *base);

/* One value (or list item) of field f, stored at dst. */
static int
parse_item(struct pctx *c, const struct mu_field *f, uint8_t *dst)
{
	int rc;

	if (mu_ftype_is_str(f->type))
		return parse_string(c, f, (struct mu_str *)dst);
	switch (f->type) {
	case MU_FT_ENUM:
		return parse_enum(c, f, (int *)dst);
	case MU_FT_INT:
		return parse_int(c, f, dst);
	case MU_FT_TRUE:
		if (mu_mp_peek(&c->r) == MU_MP_FALSE)
			return efail(c, MU_ERECORD, "empty",
			             "is false; leave the field out instead");
		if ((rc = mu_mp_read_true(&c->r)) != 0)
			return rfail(c, rc, "true");
		*(bool *)dst = true;
		return 0;
	case MU_FT_KEY:
		return parse_key(c, dst);
	case MU_FT_ADDR:
		return parse_addr(c, f, (struct mu_addr *)dst);
	case MU_FT_MAP:
		return parse_map(c, f->sub, dst);
	case MU_FT_IDLIST:
		return parse_idlist(c, f, (struct mu_idlist *)dst);
	default:
		break;
	}
	return efail(c, MU_ERECORD, "type", "has no known type");
}

static int
parse_value(struct pctx *c, const struct mu_field *f, uint8_t *base)
{
	size_t stride;
	uint32_t n, i;
	int rc;

	if (!(f->flags & MU_FF_LIST)) {
		if ((rc = parse_item(c, f, base + f->off)) != 0)
			return rc;
		/* A NEG flag (delete.id) is already false when the field is read. */
		if (f->flag_off != MU_NO_OFF && !(f->flags & MU_FF_NEG))
			*(bool *)(base + f->flag_off) = true;
		return 0;
	}
	if ((rc = parse_list_head(c, f, &n)) != 0)
		return rc;
	stride = mu_field_stride(f);
	for (i = 0; i < n; i++) {
		c->idx = (long)i;
		if ((rc = parse_item(c, f, base + f->off + i * stride)) != 0)
			return rc;
	}
	c->idx = -1;
	*(size_t *)(base + f->count_off) = n;
	return 0;
}

static const char *
mask_names(const struct mu_fields *t, uint32_t mask, char *out, size_t n)
{
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; i < t->n && k < n; i++)
		if (mask & (1u << i))
			k += (size_t)snprintf(out + k, n - k, "%s%s", k ? " and " : "",
			                      t->f[i].name);
	return out;
}

/* The map at the reader, described by t, into the struct at base. */
static int
parse_map(struct pctx *c, const struct mu_fields *t, uint8_t *base)
{
	const struct mu_fields *outer_t = c->t;
	const char *outer_key = c->key;
	const char *key, *prev = NULL;
	size_t klen, plen = 0, ti = 0, i;
	uint32_t n, present = 0, both;
	char q[40], q2[40], names[64];
	int rc, d;

	if ((rc = mu_mp_read_map(&c->r, &n)) != 0)
		return rfail(c, rc, "a map");
	c->t = t;
	c->key = NULL;
	for (; n > 0; n--) {
		if (mu_mp_peek(&c->r) != MU_MP_STR && mu_mp_peek(&c->r) != MU_MP_END)
			return efail(c, MU_ERECORD, "canonical",
			             "has a key that is a %s; keys are strings",
			             mu_mp_type_name(mu_mp_peek(&c->r)));
		if ((rc = mu_mp_read_str(&c->r, &key, &klen)) != 0)
			return rfail(c, rc, "a str");
		if (prev != NULL && (d = keycmp(prev, plen, key, klen)) >= 0) {
			if (d == 0)
				return efail(c, MU_ERECORD, "canonical",
				             "has the key \"%s\" twice",
				             quote(q, sizeof(q), key, klen));
			return efail(c, MU_ERECORD, "canonical",
			             "has its keys out of bytewise order: \"%s\" "
			             "after \"%s\"",
			             quote(q, sizeof(q), key, klen),
			             quote(q2, sizeof(q2), prev, plen));
		}
		prev = key;
		plen = klen;
		/* Keys arrive sorted, and so is the table: walk both at once. */
		while (ti < t->n && (d = keycmp(t->f[ti].name, strlen(t->f[ti].name),
		                                key, klen)) < 0)
			ti++;
		if (ti == t->n || d != 0)
			return efail(c, MU_ERECORD, "unknown-field",
			             "has no field \"%s\"",
			             quote(q, sizeof(q), key, klen));
		c->key = t->f[ti].name;
		if ((rc = parse_value(c, &t->f[ti], base)) != 0)
			return rc;
		c->key = NULL;
		present |= 1u << ti;
		ti++;
	}
	for (i = 0; i < t->n; i++) {
		if ((t->f[i].flags & MU_FF_REQ) && !(present & (1u << i))) {
			c->key = t->f[i].name;
			return efail(c, MU_ERECORD, "required", "is missing");
		}
	}
	if (t->any_of && !(present & t->any_of))
		return efail(c, MU_ERECORD, "required", "needs at least one of %s",
		             mask_names(t, t->any_of, names, sizeof(names)));
	both = present & t->together;
	if (both != 0 && both != t->together)
		return efail(c, MU_ERECORD, "geo-pair", "needs %s together, or neither",
		             mask_names(t, t->together, names, sizeof(names)));
	both = present & t->one_of;
	if (t->one_of && (both == 0 || (both & (both - 1)) != 0))
		return efail(c, MU_ERECORD, "delete-target",
		             "must name exactly one of %s",
		             mask_names(t, t->one_of, names, sizeof(names)));
	c->t = outer_t;
	c->key = outer_key;
	return 0;
}

static int
parse_header(struct pctx *c, struct mu_record *rec)
{
	const char *s;
	char q[40], kinds[MU_KIND_LIST_SIZE];
	size_t len;
	uint64_t v;
	uint32_t n;
	int rc;

	c->key = "body";
	if ((rc = mu_mp_read_array(&c->r, &n)) != 0) {
		if (rc == MU_ERECORD && strcmp(c->r.rule, "type") == 0)
			return efail(c, MU_ERECORD, "shape",
			             "must be an array of 8, not %s",
			             mu_mp_type_name(c->r.found));
		return rfail(c, rc, "an array");
	}
	if (n != 8)
		return efail(c, MU_ERECORD, "shape", "is an array of %u, must be 8", n);

	c->key = "version";
	if ((rc = mu_mp_read_uint(&c->r, &v)) != 0)
		return rfail(c, rc, "a uint");
	if (v != MU_FORMAT_VERSION)
		return efail(c, MU_ERECORD, "version",
		             "is %llu; this node reads version %d",
		             (unsigned long long)v, MU_FORMAT_VERSION);
	rec->version = (uint32_t)v;

	c->key = "kind";
	if ((rc = mu_mp_read_str(&c->r, &s, &len)) != 0)
		return rfail(c, rc, "a str");
	rec->kind = mu_kind_from_name(s, len);
	if (rec->kind == MU_KIND_NONE)
		return efail(c, MU_ERECORD, "unknown-kind", "is \"%s\", not one of %s",
		             quote(q, sizeof(q), s, len),
		             mu_kind_list(kinds, sizeof(kinds), false, ", "));

	c->key = "group";
	if ((rc = parse_key(c, rec->group)) != 0)
		return rc;
	c->key = "signer";
	if ((rc = parse_key(c, rec->signer)) != 0)
		return rc;

	c->key = "created_at";
	if ((rc = mu_mp_read_uint(&c->r, &v)) != 0)
		return rfail(c, rc, "a uint");
	if (v > (uint64_t)MU_TIME_MAX)
		return efail(c, MU_ERECORD, "time-range", "is %llu, after year 9999",
		             (unsigned long long)v);
	rec->created_at = (int64_t)v;

	c->key = "d";
	if ((rc = mu_mp_read_str(&c->r, &rec->d.ptr, &rec->d.len)) != 0)
		return rfail(c, rc, "a str");

	c->key = "rev";
	if ((rc = mu_mp_read_uint(&c->r, &v)) != 0)
		return rfail(c, rc, "a uint");
	if (v > MU_REV_MAX)
		return efail(c, MU_ERECORD, "rev-range", "is %llu, at most %u",
		             (unsigned long long)v, MU_REV_MAX);
	if (rec->kind == MU_KIND_DELETE && v != 0)
		return efail(c, MU_ERECORD, "rev-range",
		             "is %llu, must be 0 for a delete", (unsigned long long)v);
	rec->rev = (uint32_t)v;

	c->key = "content";
	return 0;
}

long
mu_rec_span(const uint8_t *buf, size_t len, struct mu_why *why)
{
	struct mu_mp r;
	size_t hdr, blen, pos, total, n;

	if (why != NULL)
		why->text[0] = '\0';
	if (len < 1)
		return mu_fail(why, MU_ETRUNC,
		               "shape: the record is cut off at its start");
	if (buf[0] != 0x92) {
		if (buf[0] == 0xdc || buf[0] == 0xdd) {
			hdr = buf[0] == 0xdc ? 3 : 5;
			if (len < hdr)
				return mu_fail(why, MU_ETRUNC,
				               "shape: the record is cut off in its "
				               "array header");
			n = buf[0] == 0xdc
			        ? (size_t)buf[1] << 8 | buf[2]
			        : (size_t)buf[1] << 24 | (size_t)buf[2] << 16 |
			              (size_t)buf[3] << 8 | buf[4];
			if (n == 2)
				return mu_fail(
				    why, MU_ERECORD,
				    "canonical: the record's array header is "
				    "longer than its length needs");
			return mu_fail(why, MU_ERECORD,
			               "shape: the record is an array of %zu, must be "
			               "[body, sig]",
			               n);
		}
		if (buf[0] >= 0x90 && buf[0] <= 0x9f)
			return mu_fail(why, MU_ERECORD,
			               "shape: the record is an array of %d, must be "
			               "[body, sig]",
			               buf[0] - 0x90);
		mu_mp_init(&r, buf, len);
		return mu_fail(why, MU_ERECORD,
		               "shape: the record must be an array [body, sig], not %s",
		               mu_mp_type_name(mu_mp_peek(&r)));
	}
	if (len < 2)
		return mu_fail(why, MU_ETRUNC,
		               "shape: the record is cut off before its body");
	switch (buf[1]) {
	case 0xc4:
		hdr = 3;
		break;
	case 0xc5:
		hdr = 4;
		break;
	case 0xc6:
		hdr = 6;
		break;
	default:
		mu_mp_init(&r, buf + 1, len - 1);
		return mu_fail(why, MU_ERECORD,
		               "shape: the record's body must be a bin, not %s",
		               mu_mp_type_name(mu_mp_peek(&r)));
	}
	if (len < hdr)
		return mu_fail(why, MU_ETRUNC,
		               "shape: the record is cut off in its body's header");
	blen = 0;
	for (pos = 2; pos < hdr; pos++)
		blen = blen << 8 | buf[pos];
	if ((hdr == 4 && blen < 256) || (hdr == 6 && blen < 65536))
		return mu_fail(why, MU_ERECORD,
		               "canonical: the body's bin header is longer than its "
		               "length (%zu) needs",
		               blen);
	if (blen > MU_BODY_MAX)
		return mu_fail(why, MU_ERECORD,
		               "body-size: the body is %zu bytes, at most %d", blen,
		               MU_BODY_MAX);
	pos = hdr + blen;
	if (len < pos + 2)
		return mu_fail(
		    why, MU_ETRUNC,
		    "shape: the record is cut off after %zu bytes, before its "
		    "signature",
		    len);
	if (buf[pos] != 0xc4 || buf[pos + 1] != MU_SIG_BYTES) {
		mu_mp_init(&r, buf + pos, len - pos);
		if (buf[pos] == 0xc4)
			return mu_fail(why, MU_ERECORD,
			               "shape: sig is %d bytes, must be %d",
			               buf[pos + 1], MU_SIG_BYTES);
		if (buf[pos] == 0xc5 || buf[pos] == 0xc6)
			return mu_fail(why, MU_ERECORD,
			               "canonical: sig has a longer bin header than a "
			               "64-byte signature needs (or is not 64 bytes)");
		return mu_fail(why, MU_ERECORD, "shape: sig must be a bin, not %s",
		               mu_mp_type_name(mu_mp_peek(&r)));
	}
	total = pos + 2 + MU_SIG_BYTES;
	if (len < total)
		return mu_fail(
		    why, MU_ETRUNC,
		    "shape: the record is cut off after %zu of its %zu bytes", len,
		    total);
	return (long)total;
}

bool
mu_rec_raw_is_kind(const uint8_t *buf, size_t len, enum mu_kind kind)
{
	const char *name = mu_kind_name(kind);
	size_t hdr, n;

	if (name == NULL || len < 2 || buf[0] != 0x92)
		return false;
	hdr = buf[1] == 0xc4 ? 3 : buf[1] == 0xc5 ? 4 : buf[1] == 0xc6 ? 6 : 0;
	n = strlen(name); /* kind names are short: a fixstr */
	if (hdr == 0 || len < hdr + 3 + n)
		return false;
	return buf[hdr] == 0x98 && buf[hdr + 1] == MU_FORMAT_VERSION &&
	       buf[hdr + 2] == (0xa0 | n) && memcmp(buf + hdr + 3, name, n) == 0;
}

int
mu_rec_check_future(const struct mu_record *rec, int64_t now, struct mu_why *why)
{
	if (now <= INT64_MAX - MU_FUTURE_SLACK &&
	    rec->created_at > now + MU_FUTURE_SLACK)
		return mu_fail(why, MU_ERECORD,
		               "future: created_at is %lld, more than %d seconds ahead "
		               "of this node's clock (%lld)",
		               (long long)rec->created_at, MU_FUTURE_SLACK,
		               (long long)now);
	return 0;
}

int
mu_rec_parse(struct mu_record *rec, const uint8_t *buf, size_t len, int64_t now,
             int flags, struct mu_why *why)
{
	uint8_t msg[MU_SIG_CONTEXT_LEN + MU_ID_BYTES];
	const struct mu_kind_def *def;
	struct pctx c;
	long span;
	size_t hdr;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if ((span = mu_rec_span(buf, len, why)) < 0)
		return (int)span;
	if ((size_t)span != len)
		return mu_fail(why, MU_ERECORD,
		               "canonical: %zu bytes follow the record; a record is "
		               "exactly one value",
		               len - (size_t)span);
	hdr = buf[1] == 0xc4 ? 3 : buf[1] == 0xc5 ? 4 : 6;
	rec->raw = buf;
	rec->raw_len = len;
	rec->body = buf + hdr;
	rec->body_len = len - hdr - 2 - MU_SIG_BYTES;
	rec->sig = buf + len - MU_SIG_BYTES;

	mu_mp_init(&c.r, rec->body, rec->body_len);
	c.why = why;
	c.t = NULL;
	c.key = NULL;
	c.idx = -1;
	c.part = NULL;
	if ((rc = parse_header(&c, rec)) != 0)
		return rc;
	if ((rc = parse_map(&c, mu_rec_fields(rec->kind), (uint8_t *)&rec->c)) != 0)
		return rc;
	if (mu_mp_left(&c.r) != 0)
		return mu_fail(
		    why, MU_ERECORD,
		    "canonical: %zu bytes follow the body's array; the body is "
		    "exactly one value",
		    mu_mp_left(&c.r));
	if ((rc = mu_rec_check_d(rec->kind, &rec->d, mu_kind_d_key(rec), why)) != 0)
		return rc;
	if (!(flags & MU_PARSE_NOCLOCK) &&
	    (rc = mu_rec_check_future(rec, now, why)) != 0)
		return rc;
	def = mu_kind_def(rec->kind);
	if (def->check != NULL && (rc = def->check(rec, why)) != 0)
		return rc;

	crypto_generichash(rec->id, MU_ID_BYTES, rec->body, rec->body_len, NULL, 0);
	if (!(flags & MU_PARSE_TRUSTED)) {
		memcpy(msg, MU_SIG_CONTEXT, MU_SIG_CONTEXT_LEN);
		memcpy(msg + MU_SIG_CONTEXT_LEN, rec->id, MU_ID_BYTES);
		if (crypto_sign_verify_detached(rec->sig, msg, sizeof(msg),
		                                rec->signer) != 0)
			return mu_fail(
			    why, MU_ESIG,
			    "signature: sig does not verify under the signer's "
			    "key; the record was altered or signed with "
			    "another key");
	}
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}
