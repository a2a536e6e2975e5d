/*
 * The sync messages: encoding with msgpack-c's packer (which writes the
 * shortest forms), decoding with the canonical reader, so what we send is
 * exactly what we would accept.
 */
#include "wire.h"

#include <stddef.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "msgpack_read.h"
#include "utf8.h"

#define SKIP_DEPTH_MAX 8 /* nesting of an unknown hello field's value */

static const struct {
	enum mu_wire_type type;
	const char *name;
} types[] = {
    {MU_WIRE_HELLO, "hello"},       {MU_WIRE_NEG_OPEN, "neg-open"},
    {MU_WIRE_NEG, "neg"},           {MU_WIRE_WANT, "want"},
    {MU_WIRE_RECS, "recs"},         {MU_WIRE_ACK, "ack"},
    {MU_WIRE_ANNOUNCE, "announce"}, {MU_WIRE_INVITE, "invite"},
    {MU_WIRE_INVITED, "invited"},   {MU_WIRE_REHELLO, "rehello"},
};

#define DIGEST_DOMAIN "muster scope v1"

/* The digest of n keys of 32 bytes, stride bytes apart from first. */
static void
digest_keys(const uint8_t *first, size_t n, size_t stride,
            uint8_t out[MU_WIRE_DIGEST_BYTES])
{
	crypto_generichash_state h;
	size_t i;

	crypto_generichash_init(&h, NULL, 0, MU_WIRE_DIGEST_BYTES);
	crypto_generichash_update(&h, (const uint8_t *)DIGEST_DOMAIN,
	                          sizeof(DIGEST_DOMAIN) - 1);
	for (i = 0; i < n; i++)
		crypto_generichash_update(&h, first + i * stride, 32);
	crypto_generichash_final(&h, out, MU_WIRE_DIGEST_BYTES);
}

void
mu_wire_scope_digest(const struct mu_scope *scope, uint8_t out[MU_WIRE_DIGEST_BYTES])
{
	digest_keys(scope->keys[0], scope->n, 32, out);
}

const char *
mu_wire_type_name(enum mu_wire_type t)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return types[i].name;
	return "unknown";
}

/* --- encoding ---------------------------------------------------------- */

static int
buf_write(void *data, const char *p, size_t n)
{
	return mu_buf_append(data, p, n) == 0 ? 0 : -1;
}

struct enc {
	msgpack_packer pk;
	struct mu_buf *out;
	size_t start; /* out->len before, to undo a failed message */
	int bad;
};

static void
enc_begin(struct enc *e, struct mu_buf *out, enum mu_wire_type t, size_t nfields)
{
	const char *name = mu_wire_type_name(t);

	e->out = out;
	e->start = out->len;
	e->bad = 0;
	msgpack_packer_init(&e->pk, out, buf_write);
	e->bad |= msgpack_pack_array(&e->pk, 1 + nfields);
	e->bad |= msgpack_pack_str_with_body(&e->pk, name, strlen(name));
}

static int
enc_end(struct enc *e)
{
	if (!e->bad)
		return 0;
	e->out->len = e->start;
	return MU_ENOMEM;
}

static void
enc_bin(struct enc *e, const void *p, size_t n)
{
	e->bad |= msgpack_pack_bin_with_body(&e->pk, p, n);
}

/* A hello: digest (when not NULL) before the scope, the scope when full,
 * the time when not NULL (canonical key order). */
static int
encode_hello(struct mu_buf *out, const char *agent, size_t agent_len,
             const struct mu_scope *scope, const uint8_t *digest, bool full,
             const uint64_t *time)
{
	struct enc e;
	size_t i;

	if (agent_len > MU_WIRE_AGENT_MAX || scope->n > MU_WIRE_SCOPE_MAX ||
	    mu_utf8_check(agent, agent_len, MU_UTF8_LINE, NULL) != MU_UTF8_OK)
		return MU_EINVAL;
	for (i = 1; i < scope->n; i++)
		if (memcmp(scope->keys[i - 1], scope->keys[i], 32) >= 0)
			return MU_EINVAL;
	enc_begin(&e, out, MU_WIRE_HELLO, 1);
	e.bad |= msgpack_pack_map(&e.pk, 1 + (digest != NULL) + full + (time != NULL));
	e.bad |= msgpack_pack_str_with_body(&e.pk, "agent", 5);
	e.bad |= msgpack_pack_str_with_body(&e.pk, agent, agent_len);
	if (digest != NULL) {
		e.bad |= msgpack_pack_str_with_body(&e.pk, "digest", 6);
		enc_bin(&e, digest, MU_WIRE_DIGEST_BYTES);
	}
	if (full) {
		e.bad |= msgpack_pack_str_with_body(&e.pk, "scope", 5);
		e.bad |= msgpack_pack_array(&e.pk, scope->n);
		for (i = 0; i < scope->n; i++)
			enc_bin(&e, scope->keys[i], 32);
	}
	if (time != NULL) {
		e.bad |= msgpack_pack_str_with_body(&e.pk, "time", 4);
		e.bad |= msgpack_pack_uint64(&e.pk, *time);
	}
	return enc_end(&e);
}

int
mu_wire_encode_hello(struct mu_buf *out, const char *agent, size_t agent_len,
                     const struct mu_scope *scope)
{
	return encode_hello(out, agent, agent_len, scope, NULL, true, NULL);
}

int
mu_wire_encode_hello_time(struct mu_buf *out, const char *agent, size_t agent_len,
                          const struct mu_scope *scope, uint64_t now)
{
	return encode_hello(out, agent, agent_len, scope, NULL, true, &now);
}

int
mu_wire_encode_hello_digest(struct mu_buf *out, const char *agent, size_t agent_len,
                            const struct mu_scope *scope, bool full, uint64_t now)
{
	uint8_t digest[MU_WIRE_DIGEST_BYTES];

	mu_wire_scope_digest(scope, digest);
	return encode_hello(out, agent, agent_len, scope, digest, full, &now);
}

int
mu_wire_encode_rehello(struct mu_buf *out)
{
	struct enc e;

	enc_begin(&e, out, MU_WIRE_REHELLO, 0);
	return enc_end(&e);
}

int
mu_wire_encode_neg(struct mu_buf *out, bool open, const uint8_t *neg, size_t len)
{
	struct enc e;

	if (len > MU_WIRE_NEG_MAX)
		return MU_EINVAL;
	enc_begin(&e, out, open ? MU_WIRE_NEG_OPEN : MU_WIRE_NEG, 1);
	enc_bin(&e, neg, len);
	return enc_end(&e);
}

/* want (with its req) or announce: a message ending in a list of ids. */
static int
encode_ids(struct mu_buf *out, enum mu_wire_type type, const uint64_t *req,
           const uint8_t (*ids)[32], size_t n)
{
	struct enc e;
	size_t i;

	if (n > MU_WIRE_IDS_MAX)
		return MU_EINVAL;
	enc_begin(&e, out, type, req != NULL ? 2 : 1);
	if (req != NULL)
		e.bad |= msgpack_pack_uint64(&e.pk, *req);
	e.bad |= msgpack_pack_array(&e.pk, n);
	for (i = 0; i < n; i++)
		enc_bin(&e, ids[i], 32);
	return enc_end(&e);
}

int
mu_wire_encode_want(struct mu_buf *out, uint64_t req, const uint8_t (*ids)[32],
                    size_t n)
{
	return encode_ids(out, MU_WIRE_WANT, &req, ids, n);
}

int
mu_wire_encode_announce(struct mu_buf *out, const uint8_t (*ids)[32], size_t n)
{
	return encode_ids(out, MU_WIRE_ANNOUNCE, NULL, ids, n);
}

int
mu_wire_encode_recs(struct mu_buf *out, uint64_t req, const struct mu_wire_blob *recs,
                    size_t n)
{
	struct enc e;
	size_t i;

	if (n > MU_WIRE_RECS_MAX)
		return MU_EINVAL;
	for (i = 0; i < n; i++)
		if (recs[i].len == 0)
			return MU_EINVAL;
	enc_begin(&e, out, MU_WIRE_RECS, 2);
	e.bad |= msgpack_pack_uint64(&e.pk, req);
	e.bad |= msgpack_pack_array(&e.pk, n);
	for (i = 0; i < n; i++)
		enc_bin(&e, recs[i].ptr, recs[i].len);
	return enc_end(&e);
}

int
mu_wire_encode_invite(struct mu_buf *out, const uint8_t pub[32],
                      const uint8_t proof[64], const char *name, size_t name_len)
{
	struct enc e;

	if (name_len > MU_WIRE_INVITE_NAME_MAX ||
	    mu_utf8_check(name, name_len, MU_UTF8_LINE, NULL) != MU_UTF8_OK)
		return MU_EINVAL;
	enc_begin(&e, out, MU_WIRE_INVITE, 3);
	enc_bin(&e, pub, 32);
	enc_bin(&e, proof, 64);
	e.bad |= msgpack_pack_str_with_body(&e.pk, name, name_len);
	return enc_end(&e);
}

int
mu_wire_encode_invited(struct mu_buf *out, const char *verdict)
{
	size_t len = strlen(verdict);
	struct enc e;

	if (len > MU_WIRE_VERDICT_MAX)
		return MU_EINVAL;
	enc_begin(&e, out, MU_WIRE_INVITED, 1);
	e.bad |= msgpack_pack_str_with_body(&e.pk, verdict, len);
	return enc_end(&e);
}

int
mu_wire_encode_ack(struct mu_buf *out, uint64_t req)
{
	struct enc e;

	enc_begin(&e, out, MU_WIRE_ACK, 1);
	e.bad |= msgpack_pack_uint64(&e.pk, req);
	return enc_end(&e);
}

/* --- decoding ---------------------------------------------------------- */

/* Turns a reader error into the message's one-line reason. */
static int
bad(struct mu_why *why, const struct mu_mp *r, int rc, const char *what)
{
	if (rc == MU_ETRUNC)
		return mu_fail(why, MU_EFORMAT, "wire: %s is cut off", what);
	if (r->rule != NULL && strcmp(r->rule, "type") == 0)
		return mu_fail(why, MU_EFORMAT, "wire: %s is %s, not the expected type",
		               what, mu_mp_type_name(r->found));
	return mu_fail(why, MU_EFORMAT, "wire: %s %s", what,
	               r->detail ? r->detail : "is not canonical msgpack");
}

/* A list of canonical bin 32 entries, at most max; strictly ascending when
 * sorted is set. */
static int
read_keys(struct mu_mp *r, struct mu_wire_keys *keys, size_t max, bool sorted,
          const char *what, struct mu_why *why)
{
	const uint8_t *p, *prev = NULL;
	uint32_t n, i;
	size_t len;
	int rc;

	if ((rc = mu_mp_read_array(r, &n)) != 0)
		return bad(why, r, rc, what);
	if (n > max)
		return mu_fail(why, MU_EFORMAT,
		               "wire: %s has %u entries, more than %zu", what,
		               (unsigned)n, max);
	keys->at = r->p;
	keys->n = n;
	for (i = 0; i < n; i++) {
		if ((rc = mu_mp_read_bin(r, &p, &len)) != 0)
			return bad(why, r, rc, what);
		if (len != 32)
			return mu_fail(why, MU_EFORMAT,
			               "wire: %s entry %u has %zu bytes, not 32", what,
			               (unsigned)i, len);
		if (sorted && prev != NULL && memcmp(prev, p, 32) >= 0)
			return mu_fail(why, MU_EFORMAT,
			               "wire: %s is not sorted and unique at entry %u",
			               what, (unsigned)i);
		prev = p;
	}
	return 0;
}

static int
read_req(struct mu_mp *r, uint64_t *req, struct mu_why *why)
{
	int rc;

	if ((rc = mu_mp_read_uint(r, req)) != 0)
		return bad(why, r, rc, "req");
	return 0;
}

/* Whether map key k (kl bytes) may follow prev (pl bytes): ascending
 * bytewise order, no repeats (docs/PROTOCOL.md 2.2, item 5). */
static bool
key_follows(const char *prev, size_t pl, const char *k, size_t kl)
{
	int c;

	if (prev == NULL)
		return true;
	c = memcmp(prev, k, pl < kl ? pl : kl);
	return c < 0 || (c == 0 && pl < kl);
}

/*
 * Steps over one value this version does not read: a field of hello it does
 * not know, or an element of a message of unknown type. The value must still
 * be canonical (section 2.2: shortest forms, allowed types, map keys str in
 * ascending order), and no value in it deeper than SKIP_DEPTH_MAX (the top
 * value is at depth 0, the elements of a container at depth d at d + 1).
 */
static int
skip(struct mu_mp *r, int depth)
{
	const char *s, *prev;
	const uint8_t *p;
	size_t len, plen;
	uint64_t u;
	int64_t v;
	uint32_t n, i;
	int rc;

	if (depth > SKIP_DEPTH_MAX) {
		r->rule = "canonical";
		r->detail = "nests too deep (more than 8 levels)";
		return MU_ERECORD;
	}
	switch (mu_mp_peek(r)) {
	case MU_MP_UINT:
		return mu_mp_read_uint(r, &u);
	case MU_MP_NINT:
		return mu_mp_read_int(r, &v);
	case MU_MP_STR:
		return mu_mp_read_str(r, &s, &len);
	case MU_MP_BIN:
		return mu_mp_read_bin(r, &p, &len);
	case MU_MP_TRUE:
		return mu_mp_read_true(r);
	case MU_MP_ARRAY:
		if ((rc = mu_mp_read_array(r, &n)) != 0)
			return rc;
		for (i = 0; i < n; i++)
			if ((rc = skip(r, depth + 1)) != 0)
				return rc;
		return 0;
	case MU_MP_MAP:
		if ((rc = mu_mp_read_map(r, &n)) != 0)
			return rc;
		for (i = 0, prev = NULL, plen = 0; i < n; i++) {
			if (depth + 1 > SKIP_DEPTH_MAX)
				return skip(r, depth + 1);
			if ((rc = mu_mp_read_str(r, &s, &len)) != 0)
				return rc;
			if (!key_follows(prev, plen, s, len)) {
				r->rule = "canonical";
				r->detail = "has map keys out of order or repeated";
				return MU_ERECORD;
			}
			prev = s;
			plen = len;
			if ((rc = skip(r, depth + 1)) != 0)
				return rc;
		}
		return 0;
	default:
		/* Let the reader name the forbidden type or the end. */
		return mu_mp_read_true(r);
	}
}

static int
read_hello(struct mu_mp *r, struct mu_wire_msg *m, struct mu_why *why)
{
	const char *key, *prev = NULL;
	size_t klen, plen = 0;
	uint8_t digest[MU_WIRE_DIGEST_BYTES];
	bool agent = false;
	struct mu_utf8_err uerr;
	size_t dlen;
	uint32_t n, i;
	int rc;

	if ((rc = mu_mp_read_map(r, &n)) != 0)
		return bad(why, r, rc, "hello");
	for (i = 0; i < n; i++) {
		if ((rc = mu_mp_read_str(r, &key, &klen)) != 0)
			return bad(why, r, rc, "hello key");
		if (!key_follows(prev, plen, key, klen))
			return mu_fail(why, MU_EFORMAT,
			               "wire: hello keys are not sorted and unique at "
			               "\"%.*s\"",
			               (int)(klen > 32 ? 32 : klen), key);
		prev = key;
		plen = klen;
		if (klen == 5 && memcmp(key, "agent", 5) == 0) {
			if ((rc = mu_mp_read_str(r, &m->agent, &m->agent_len)) != 0)
				return bad(why, r, rc, "hello agent");
			if (m->agent_len > MU_WIRE_AGENT_MAX)
				return mu_fail(why, MU_EFORMAT,
				               "wire: hello agent has %zu bytes, more "
				               "than %d",
				               m->agent_len, MU_WIRE_AGENT_MAX);
			if (mu_utf8_check(m->agent, m->agent_len, MU_UTF8_LINE,
			                  &uerr) != MU_UTF8_OK)
				return mu_fail(why, MU_EFORMAT,
				               "wire: hello agent %s at byte %zu",
				               uerr.detail, uerr.off);
			agent = true;
		} else if (klen == 6 && memcmp(key, "digest", 6) == 0) {
			if ((rc = mu_mp_read_bin(r, &m->digest, &dlen)) != 0)
				return bad(why, r, rc, "hello digest");
			if (dlen != MU_WIRE_DIGEST_BYTES)
				return mu_fail(why, MU_EFORMAT,
				               "wire: hello digest has %zu bytes, "
				               "not %d",
				               dlen, MU_WIRE_DIGEST_BYTES);
		} else if (klen == 5 && memcmp(key, "scope", 5) == 0) {
			if ((rc = read_keys(r, &m->keys, MU_WIRE_SCOPE_MAX, true,
			                    "hello scope", why)) != 0)
				return rc;
			m->has_scope = true;
		} else if (klen == 4 && memcmp(key, "time", 4) == 0) {
			if ((rc = mu_mp_read_uint(r, &m->time)) != 0)
				return bad(why, r, rc, "hello time");
			m->has_time = true;
		} else if ((rc = skip(r, 0)) != 0) {
			return bad(why, r, rc, "hello field");
		}
	}
	if (!agent || (!m->has_scope && m->digest == NULL))
		return mu_fail(why, MU_EFORMAT, "wire: hello lacks \"%s\"",
		               agent ? "scope" : "agent");
	if (m->has_scope && m->digest != NULL) {
		digest_keys(m->keys.at + 2, m->keys.n, MU_WIRE_KEY_STRIDE, digest);
		if (memcmp(digest, m->digest, MU_WIRE_DIGEST_BYTES) != 0)
			return mu_fail(why, MU_EFORMAT,
			               "wire: hello digest is not that of its scope");
	}
	return 0;
}

static int
read_recs(struct mu_mp *r, struct mu_wire_msg *m, struct mu_why *why)
{
	uint32_t n, i;
	int rc;

	if ((rc = read_req(r, &m->req, why)) != 0)
		return rc;
	if ((rc = mu_mp_read_array(r, &n)) != 0)
		return bad(why, r, rc, "recs");
	if (n > MU_WIRE_RECS_MAX)
		return mu_fail(why, MU_EFORMAT,
		               "wire: recs has %u records, more than %d", (unsigned)n,
		               MU_WIRE_RECS_MAX);
	for (i = 0; i < n; i++) {
		if ((rc = mu_mp_read_bin(r, &m->recs[i].ptr, &m->recs[i].len)) != 0)
			return bad(why, r, rc, "recs record");
		if (m->recs[i].len == 0)
			return mu_fail(why, MU_EFORMAT, "wire: recs record %u is empty",
			               (unsigned)i);
	}
	m->nrecs = n;
	return 0;
}

/* A str that is a line of UTF-8 of at most max bytes, into m->text. */
static int
read_line(struct mu_mp *r, struct mu_wire_msg *m, size_t max, const char *what,
          struct mu_why *why)
{
	struct mu_utf8_err uerr;
	int rc;

	if ((rc = mu_mp_read_str(r, &m->text, &m->text_len)) != 0)
		return bad(why, r, rc, what);
	if (m->text_len > max)
		return mu_fail(why, MU_EFORMAT, "wire: %s has %zu bytes, more than %zu",
		               what, m->text_len, max);
	if (mu_utf8_check(m->text, m->text_len, MU_UTF8_LINE, &uerr) != MU_UTF8_OK)
		return mu_fail(why, MU_EFORMAT, "wire: %s %s at byte %zu", what,
		               uerr.detail, uerr.off);
	return 0;
}

static int
read_invite(struct mu_mp *r, struct mu_wire_msg *m, struct mu_why *why)
{
	size_t len;
	int rc;

	if ((rc = mu_mp_read_bin(r, &m->pub, &len)) != 0)
		return bad(why, r, rc, "invite key");
	if (len != 32)
		return mu_fail(why, MU_EFORMAT,
		               "wire: invite key has %zu bytes, not 32", len);
	if ((rc = mu_mp_read_bin(r, &m->proof, &len)) != 0)
		return bad(why, r, rc, "invite proof");
	if (len != 64)
		return mu_fail(why, MU_EFORMAT,
		               "wire: invite proof has %zu bytes, not 64", len);
	return read_line(r, m, MU_WIRE_INVITE_NAME_MAX, "invite name", why);
}

int
mu_wire_decode(struct mu_wire_msg *m, const uint8_t *msg, size_t len,
               struct mu_why *why)
{
	static const uint32_t fields[] = {
	    [MU_WIRE_HELLO] = 1,    [MU_WIRE_NEG_OPEN] = 1, [MU_WIRE_NEG] = 1,
	    [MU_WIRE_WANT] = 2,     [MU_WIRE_RECS] = 2,     [MU_WIRE_ACK] = 1,
	    [MU_WIRE_ANNOUNCE] = 1, [MU_WIRE_INVITE] = 3,   [MU_WIRE_INVITED] = 1,
	    [MU_WIRE_REHELLO] = 0,
	};
	struct mu_mp r;
	const char *name;
	size_t nlen, i;
	uint32_t n;
	int rc;

	memset(m, 0, offsetof(struct mu_wire_msg, recs));
	mu_mp_init(&r, msg, len);
	if ((rc = mu_mp_read_array(&r, &n)) != 0)
		return bad(why, &r, rc, "message");
	if (n == 0)
		return mu_fail(why, MU_EFORMAT, "wire: message is an empty array");
	if ((rc = mu_mp_read_str(&r, &name, &nlen)) != 0)
		return bad(why, &r, rc, "message type");
	m->type = MU_WIRE_UNKNOWN;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == nlen &&
		    memcmp(types[i].name, name, nlen) == 0)
			m->type = types[i].type;
	if (m->type == MU_WIRE_UNKNOWN) {
		/* Ignored, but only once it is a message: canonical, within the
		 * nesting limit, nothing after it. */
		for (i = 1; i < n; i++)
			if ((rc = skip(&r, 0)) != 0)
				return bad(why, &r, rc, "message of unknown type");
		if (mu_mp_left(&r) != 0)
			return mu_fail(why, MU_EFORMAT,
			               "wire: %zu bytes follow the message of unknown "
			               "type",
			               mu_mp_left(&r));
		if (why != NULL)
			why->text[0] = '\0';
		return 0;
	}
	if (n != 1 + fields[m->type])
		return mu_fail(why, MU_EFORMAT, "wire: %s has %u elements, not %u",
		               mu_wire_type_name(m->type), (unsigned)n,
		               (unsigned)(1 + fields[m->type]));
	switch (m->type) {
	case MU_WIRE_HELLO:
		rc = read_hello(&r, m, why);
		break;
	case MU_WIRE_NEG_OPEN:
	case MU_WIRE_NEG:
		if ((rc = mu_mp_read_bin(&r, &m->neg.ptr, &m->neg.len)) != 0)
			return bad(why, &r, rc, "negentropy message");
		if (m->neg.len > MU_WIRE_NEG_MAX)
			return mu_fail(why, MU_EFORMAT,
			               "wire: negentropy message has %zu bytes, more "
			               "than %d",
			               m->neg.len, MU_WIRE_NEG_MAX);
		break;
	case MU_WIRE_WANT:
		if ((rc = read_req(&r, &m->req, why)) != 0)
			return rc;
		rc = read_keys(&r, &m->keys, MU_WIRE_IDS_MAX, false, "want ids", why);
		break;
	case MU_WIRE_ANNOUNCE:
		rc = read_keys(&r, &m->keys, MU_WIRE_IDS_MAX, false, "announce ids",
		               why);
		break;
	case MU_WIRE_RECS:
		rc = read_recs(&r, m, why);
		break;
	case MU_WIRE_ACK:
		rc = read_req(&r, &m->req, why);
		break;
	case MU_WIRE_INVITE:
		rc = read_invite(&r, m, why);
		break;
	case MU_WIRE_INVITED:
		rc = read_line(&r, m, MU_WIRE_VERDICT_MAX, "invited verdict", why);
		break;
	default:
		break;
	}
	if (rc != 0)
		return rc;
	if (mu_mp_left(&r) != 0)
		return mu_fail(why, MU_EFORMAT, "wire: %zu bytes follow the %s message",
		               mu_mp_left(&r), mu_wire_type_name(m->type));
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

static const uint8_t *
moved(const uint8_t *ptr, const uint8_t *from, size_t len, const uint8_t *to)
{
	if (ptr == NULL || ptr < from || ptr > from + len)
		return ptr;
	return to + (ptr - from);
}

void
mu_wire_msg_move(struct mu_wire_msg *m, const uint8_t *from, size_t len,
                 const uint8_t *to)
{
	size_t i;

	m->agent = (const char *)moved((const uint8_t *)m->agent, from, len, to);
	m->keys.at = moved(m->keys.at, from, len, to);
	m->digest = moved(m->digest, from, len, to);
	m->neg.ptr = moved(m->neg.ptr, from, len, to);
	m->pub = moved(m->pub, from, len, to);
	m->proof = moved(m->proof, from, len, to);
	m->text = (const char *)moved((const uint8_t *)m->text, from, len, to);
	for (i = 0; i < m->nrecs; i++)
		m->recs[i].ptr = moved(m->recs[i].ptr, from, len, to);
}
