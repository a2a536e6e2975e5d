/*
 * Record building: canonical encoding with msgpack-c's packer (its integer,
 * str, bin, array and map headers are the shortest forms), then the id and
 * the signature of docs/PROTOCOL.md, section 2.3. The result is put through
 * mu_rec_parse() before it is returned, so the builder can never emit a
 * record that a node would reject: the parser is the single judge of the
 * rules, and the builder only refuses what it cannot encode at all.
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "kind.h"

struct bctx {
	msgpack_packer pk;
	struct mu_why *why;
	const struct mu_fields *t;
};

static int
pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	if (msgpack_pack_str(pk, len) != 0)
		return MU_ENOMEM;
	if (len > 0 && msgpack_pack_str_body(pk, s, len) != 0)
		return MU_ENOMEM;
	return 0;
}

static int
pack_bin(msgpack_packer *pk, const uint8_t *p, size_t len)
{
	if (msgpack_pack_bin(pk, len) != 0 || msgpack_pack_bin_body(pk, p, len) != 0)
		return MU_ENOMEM;
	return 0;
}

static int
pack_addr(struct bctx *b, const struct mu_field *f, const struct mu_addr *a)
{
	const char *kind = mu_kind_name(a->kind);
	int rc;

	if (kind == NULL)
		return mu_fail(b->why, MU_ERECORD,
		               "address: %s.%s names kind %d, which does not exist",
		               b->t->name, f->name, (int)a->kind);
	if (msgpack_pack_array(&b->pk, 3) != 0)
		return MU_ENOMEM;
	if ((rc = pack_bin(&b->pk, a->group, MU_KEY_BYTES)) != 0)
		return rc;
	if ((rc = pack_str(&b->pk, kind, strlen(kind))) != 0)
		return rc;
	return pack_str(&b->pk, a->d.ptr, a->d.len);
}

static int
pack_idlist(struct bctx *b, const struct mu_field *f, const struct mu_idlist *l)
{
	size_t i;
	int rc;

	/* The C side has no array of list_max to overrun, but the rule holds. */
	if (l->n > f->list_max)
		return mu_fail(b->why, MU_ERECORD,
		               "field-length: %s.%s has %zu items, at most %u",
		               b->t->name, f->name, l->n, f->list_max);
	if (msgpack_pack_array(&b->pk, l->n) != 0)
		return MU_ENOMEM;
	for (i = 0; i < l->n; i++)
		if ((rc = pack_bin(&b->pk, mu_idlist_at(l, i), MU_ID_BYTES)) != 0)
			return rc;
	return 0;
}

static int pack_map(struct bctx *b, const struct mu_fields *t, const uint8_t *base);

static int
pack_item(struct bctx *b, const struct mu_field *f, const uint8_t *p)
{
	const struct mu_str *s;
	int i, e;

	if (mu_ftype_is_str(f->type)) {
		s = (const struct mu_str *)p;
		return pack_str(&b->pk, s->ptr, s->len);
	}
	switch (f->type) {
	case MU_FT_ENUM:
		e = *(const int *)p;
		for (i = 0; f->names[i] != NULL; i++)
			if (i + 1 == e)
				return pack_str(&b->pk, f->names[i],
				                strlen(f->names[i]));
		return mu_fail(b->why, MU_ERECORD,
		               "enum: %s.%s is %d, not a known value", b->t->name,
		               f->name, e);
	case MU_FT_INT:
		return msgpack_pack_int64(&b->pk, mu_field_int(f, p)) != 0 ? MU_ENOMEM
		                                                           : 0;
	case MU_FT_TRUE:
		return msgpack_pack_true(&b->pk) != 0 ? MU_ENOMEM : 0;
	case MU_FT_KEY:
		return pack_bin(&b->pk, p, MU_KEY_BYTES);
	case MU_FT_ADDR:
		return pack_addr(b, f, (const struct mu_addr *)p);
	case MU_FT_MAP:
		return pack_map(b, f->sub, p);
	case MU_FT_IDLIST:
		return pack_idlist(b, f, (const struct mu_idlist *)p);
	default:
		break;
	}
	return MU_EINVAL;
}

static int
pack_map(struct bctx *b, const struct mu_fields *t, const uint8_t *base)
{
	const struct mu_fields *outer = b->t;
	const struct mu_field *f;
	size_t i, j, n = 0, stride;
	int rc;

	b->t = t;
	for (i = 0; i < t->n; i++)
		n += mu_field_present(&t->f[i], base);
	if (msgpack_pack_map(&b->pk, n) != 0)
		return MU_ENOMEM;
	for (i = 0; i < t->n; i++) {
		f = &t->f[i];
		if (!mu_field_present(f, base))
			continue;
		if ((rc = pack_str(&b->pk, f->name, strlen(f->name))) != 0)
			return rc;
		if (!(f->flags & MU_FF_LIST)) {
			if ((rc = pack_item(b, f, base + f->off)) != 0)
				return rc;
			continue;
		}
		/* list_max is also the size of the C array: never read past it. */
		n = *(const size_t *)(base + f->count_off);
		if (n > f->list_max)
			return mu_fail(b->why, MU_ERECORD,
			               "field-length: %s.%s has %zu items, at most %u",
			               t->name, f->name, n, f->list_max);
		if (msgpack_pack_array(&b->pk, n) != 0)
			return MU_ENOMEM;
		stride = mu_field_stride(f);
		for (j = 0; j < n; j++)
			if ((rc = pack_item(b, f, base + f->off + j * stride)) != 0)
				return rc;
	}
	b->t = outer;
	return 0;
}

static int
pack_body(struct bctx *b, const struct mu_record *rec)
{
	const char *kind = mu_kind_name(rec->kind);
	char kinds[MU_KIND_LIST_SIZE];
	int rc;

	if (kind == NULL)
		return mu_fail(b->why, MU_ERECORD,
		               "unknown-kind: kind %d is not one of %s", (int)rec->kind,
		               mu_kind_list(kinds, sizeof(kinds), false, ", "));
	if (msgpack_pack_array(&b->pk, 8) != 0 ||
	    msgpack_pack_uint32(&b->pk, MU_FORMAT_VERSION) != 0)
		return MU_ENOMEM;
	if ((rc = pack_str(&b->pk, kind, strlen(kind))) != 0 ||
	    (rc = pack_bin(&b->pk, rec->group, MU_KEY_BYTES)) != 0 ||
	    (rc = pack_bin(&b->pk, rec->signer, MU_KEY_BYTES)) != 0)
		return rc;
	if (msgpack_pack_int64(&b->pk, rec->created_at) != 0)
		return MU_ENOMEM;
	if ((rc = pack_str(&b->pk, rec->d.ptr, rec->d.len)) != 0)
		return rc;
	if (msgpack_pack_uint32(&b->pk, rec->rev) != 0)
		return MU_ENOMEM;
	return pack_map(b, mu_rec_fields(rec->kind), (const uint8_t *)&rec->c);
}

int
mu_rec_build(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
             int64_t now, uint8_t **out, size_t *out_len, uint8_t id[MU_ID_BYTES],
             struct mu_why *why)
{
	return mu_rec_build_flags(rec, sk, now, 0, out, out_len, id, why);
}

/* mu_rec_build_flags(), and *parsed (when not NULL) as the result was
 * checked, made to borrow *out: a caller that stores the record needs no
 * second parse. */
static int
build(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES], int64_t now,
      int parse_flags, uint8_t **out, size_t *out_len, uint8_t id[MU_ID_BYTES],
      struct mu_record *parsed, struct mu_why *why)
{
	uint8_t msg[MU_SIG_CONTEXT_LEN + MU_ID_BYTES], sig[MU_SIG_BYTES];
	msgpack_sbuffer body, whole;
	struct mu_record check;
	struct bctx b;
	uint8_t *shrunk;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (why != NULL)
		why->text[0] = '\0';
	msgpack_sbuffer_init(&body);
	msgpack_sbuffer_init(&whole);
	msgpack_packer_init(&b.pk, &body, msgpack_sbuffer_write);
	b.why = why;
	b.t = NULL;
	if ((rc = pack_body(&b, rec)) != 0)
		goto out;

	/* libsodium's secret key ends with its public key. */
	if (memcmp(sk + MU_SECRET_BYTES - MU_KEY_BYTES, rec->signer, MU_KEY_BYTES) !=
	    0) {
		rc = mu_fail(why, MU_ESIG,
		             "signature: the secret key given is not the signer's key");
		goto out;
	}
	memcpy(msg, MU_SIG_CONTEXT, MU_SIG_CONTEXT_LEN);
	crypto_generichash(msg + MU_SIG_CONTEXT_LEN, MU_ID_BYTES,
	                   (const uint8_t *)body.data, body.size, NULL, 0);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);

	msgpack_packer_init(&b.pk, &whole, msgpack_sbuffer_write);
	if (msgpack_pack_array(&b.pk, 2) != 0 ||
	    (rc = pack_bin(&b.pk, (const uint8_t *)body.data, body.size)) != 0 ||
	    (rc = pack_bin(&b.pk, sig, sizeof(sig))) != 0) {
		rc = MU_ENOMEM;
		goto out;
	}
	if ((rc = mu_rec_parse(&check, (const uint8_t *)whole.data, whole.size, now,
	                       parse_flags, why)) != 0)
		goto out;
	if (id != NULL)
		memcpy(id, check.id, MU_ID_BYTES);
	*out_len = whole.size;
	*out = (uint8_t *)msgpack_sbuffer_release(&whole);
	/* The packer grows in steps of 8 KiB and more; callers may keep many. */
	if ((shrunk = realloc(*out, *out_len)) != NULL)
		*out = shrunk;
	if (parsed != NULL) {
		mu_rec_move(&check, *out);
		*parsed = check;
	}
out:
	msgpack_sbuffer_destroy(&body);
	msgpack_sbuffer_destroy(&whole);
	return rc;
}

int
mu_rec_build_flags(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
                   int64_t now, int parse_flags, uint8_t **out, size_t *out_len,
                   uint8_t id[MU_ID_BYTES], struct mu_why *why)
{
	return build(rec, sk, now, parse_flags, out, out_len, id, NULL, why);
}

int
mu_rec_build_parsed(const struct mu_record *rec, const uint8_t sk[MU_SECRET_BYTES],
                    int64_t now, uint8_t **out, size_t *out_len,
                    struct mu_record *parsed, struct mu_why *why)
{
	return build(rec, sk, now, 0, out, out_len, NULL, parsed, why);
}
