/*
 * local_invites.c - the invites this node made (local.h): public key ->
 * a fixed layout, all integers big-endian:
 *
 *   version     1   1
 *   created_at  8   Unix seconds
 *   expires     8   Unix seconds
 *   uses        4
 *   left        4
 *   flags       1   1: ally, 2: revoked, 4: joined (joiner is set)
 *   joiner      32  the last group that joined, zeros when none
 *   name_len    1   and the name it gave (name_len bytes)
 *   terms_len   2   and the terms (terms_len bytes)
 *
 * Only the public key of a code's secret is kept: the code itself is never
 * stored, so this table, copied, makes no code the node accepts.
 */
#include "local.h"

#include <stdio.h>
#include <string.h>

#include "store_keys.h"

#define ROW_VERSION 1
#define FIXED       (1 + 8 + 8 + 4 + 4 + 1 + MU_KEY_BYTES + 1)
#define ROW_MAX     (FIXED + MU_INVITE_NAME_MAX + 2 + MU_INVITE_TERMS_MAX)

#define F_ALLY    1
#define F_REVOKED 2
#define F_JOINED  4

const char *
mu_invite_verdict_name(enum mu_invite_verdict v)
{
	switch (v) {
	case MU_INVITE_OK:
		return "ok";
	case MU_INVITE_UNKNOWN:
		return "unknown";
	case MU_INVITE_EXPIRED:
		return "expired";
	case MU_INVITE_USED:
		return "used";
	case MU_INVITE_REVOKED:
		return "revoked";
	}
	return "unknown";
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static size_t
encode(uint8_t out[ROW_MAX], const struct mu_invite_row *r)
{
	size_t nlen = strnlen(r->name, MU_INVITE_NAME_MAX);
	size_t tlen = strnlen(r->terms, MU_INVITE_TERMS_MAX);
	size_t n = 0;

	out[n++] = ROW_VERSION;
	put_be(out + n, (uint64_t)r->created_at, 8);
	n += 8;
	put_be(out + n, (uint64_t)r->expires, 8);
	n += 8;
	put_be(out + n, r->uses, 4);
	n += 4;
	put_be(out + n, r->left, 4);
	n += 4;
	out[n++] = (uint8_t)((r->ally ? F_ALLY : 0) | (r->revoked ? F_REVOKED : 0) |
	                     (r->has_joiner ? F_JOINED : 0));
	if (r->has_joiner)
		memcpy(out + n, r->joiner, MU_KEY_BYTES);
	else
		memset(out + n, 0, MU_KEY_BYTES);
	n += MU_KEY_BYTES;
	out[n++] = (uint8_t)nlen;
	memcpy(out + n, r->name, nlen);
	n += nlen;
	put_be(out + n, tlen, 2);
	n += 2;
	memcpy(out + n, r->terms, tlen);
	return n + tlen;
}

static int
decode(struct mu_invite_row *r, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	size_t n = v->mv_size, at = FIXED, nlen, tlen;

	if (k->mv_size != MU_KEY_BYTES || n < FIXED + 2 || p[0] != ROW_VERSION)
		return MU_ECORRUPT;
	memset(r, 0, sizeof(*r));
	memcpy(r->pub, k->mv_data, MU_KEY_BYTES);
	r->created_at = (int64_t)get_be(p + 1, 8);
	r->expires = (int64_t)get_be(p + 9, 8);
	r->uses = (uint32_t)get_be(p + 17, 4);
	r->left = (uint32_t)get_be(p + 21, 4);
	r->ally = (p[25] & F_ALLY) != 0;
	r->revoked = (p[25] & F_REVOKED) != 0;
	r->has_joiner = (p[25] & F_JOINED) != 0;
	memcpy(r->joiner, p + 26, MU_KEY_BYTES);
	nlen = p[FIXED - 1];
	if (nlen > MU_INVITE_NAME_MAX || at + nlen + 2 > n)
		return MU_ECORRUPT;
	memcpy(r->name, p + at, nlen);
	at += nlen;
	tlen = (size_t)get_be(p + at, 2);
	at += 2;
	if (tlen > MU_INVITE_TERMS_MAX || at + tlen != n || r->left > r->uses)
		return MU_ECORRUPT;
	memcpy(r->terms, p + at, tlen);
	return 0;
}

int
mu_store__invite_check(const MDB_val *k, const MDB_val *v)
{
	struct mu_invite_row r;

	return decode(&r, k, v);
}

static int
writable(struct mu_store *st, struct mu_why *why)
{
	if (st->read_only || !st->has_invites)
		return mu_fail(why, MU_EINVAL,
		               "the store was opened read-only: invites need it open "
		               "for writing");
	return 0;
}

int
mu_store_invite_add(struct mu_store *st, const struct mu_invite_row *row,
                    struct mu_why *why)
{
	uint8_t buf[ROW_MAX];
	MDB_val k = {MU_KEY_BYTES, (void *)row->pub}, v = {0, buf};
	MDB_txn *txn;
	int err, rc;

	if ((err = writable(st, why)) != 0)
		return err;
	v.mv_size = encode(buf, row);
	if ((err = mu_store__begin(st, true, &txn, why)) != 0)
		return err;
	rc = mdb_put(txn, st->invites, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		mdb_txn_abort(txn);
		return mu_fail(why, MU_EEXIST, "an invite with this key exists");
	}
	err = mu_store__err(st, rc, "storing the invite", why);
	return mu_store__commit(st, txn, err, why);
}

struct visit {
	mu_store_invite_fn fn;
	void *ctx;
};

static int
visit_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct visit *vi = ctx;
	struct mu_invite_row r;
	int rc;

	(void)txn;
	if ((rc = decode(&r, k, v)) != 0)
		return rc;
	return vi->fn(vi->ctx, &r);
}

int
mu_store_invites(struct mu_store *st, mu_store_invite_fn fn, void *ctx)
{
	struct visit vi = {fn, ctx};

	if (!st->has_invites)
		return 0;
	return mu_store__read_scan(st, st->invites, NULL, 0, visit_entry, &vi,
	                           "reading the invites");
}

static bool
hex_prefix(const uint8_t key[MU_KEY_BYTES], const char *id)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; id[i] != '\0'; i++) {
		char c =
		    id[i] >= 'A' && id[i] <= 'F' ? (char)(id[i] - 'A' + 'a') : id[i];
		uint8_t b = key[i / 2];

		if (i >= 2 * MU_KEY_BYTES || c != hex[i % 2 == 0 ? b >> 4 : b & 15])
			return false;
	}
	return true;
}

struct find {
	const char *id;
	struct mu_invite_row row;
	uint8_t key[MU_KEY_BYTES];
	unsigned found;
};

static int
find_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct find *f = ctx;
	int rc;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || !hex_prefix(k->mv_data, f->id))
		return 0;
	if (f->found++ > 0)
		return 0;
	if ((rc = decode(&f->row, k, v)) != 0)
		return rc;
	memcpy(f->key, k->mv_data, MU_KEY_BYTES);
	return 0;
}

int
mu_store_invite_revoke(struct mu_store *st, const char *id, struct mu_invite_row *row,
                       struct mu_why *why)
{
	struct find f;
	uint8_t buf[ROW_MAX];
	MDB_val k = {MU_KEY_BYTES, f.key}, v = {0, buf};
	MDB_txn *txn;
	int err;

	memset(&f, 0, sizeof(f));
	f.id = id;
	if ((err = writable(st, why)) != 0)
		return err;
	if (strlen(id) < 8 || strlen(id) > 2 * MU_KEY_BYTES)
		return mu_fail(why, MU_EINVAL,
		               "invite id \"%.64s\" is not 8 to 64 hex digits: copy it "
		               "from `muster invite list`",
		               id);
	if ((err = mu_store__begin(st, true, &txn, why)) != 0)
		return err;
	err = mu_store__scan(st, txn, st->invites, NULL, 0, find_entry, &f,
	                     "reading the invites");
	if (err == 0 && f.found == 0)
		err = mu_fail(why, MU_ENOTFOUND,
		              "no invite has id %s: see `muster invite list`", id);
	else if (err == 0 && f.found > 1)
		err = mu_fail(why, MU_EINVAL,
		              "%u invites have ids starting with %s: give more of the "
		              "id",
		              f.found, id);
	if (err == 0) {
		f.row.revoked = true;
		v.mv_size = encode(buf, &f.row);
		err = mu_store__err(st, mdb_put(txn, st->invites, &k, &v, 0),
		                    "revoking the invite", why);
	}
	if (err == 0 && row != NULL)
		*row = f.row;
	return mu_store__commit(st, txn, err, why);
}

int
mu_store_invite_redeem(struct mu_store *st, const uint8_t pub[MU_KEY_BYTES],
                       int64_t now, const uint8_t joiner[MU_KEY_BYTES],
                       const char *name, enum mu_invite_verdict *verdict,
                       struct mu_invite_row *row, struct mu_why *why)
{
	MDB_val k = {MU_KEY_BYTES, (void *)pub}, v;
	struct mu_invite_row r;
	uint8_t buf[ROW_MAX];
	MDB_txn *txn;
	int err, rc;

	*verdict = MU_INVITE_UNKNOWN;
	if ((err = writable(st, why)) != 0)
		return err;
	if ((err = mu_store__begin(st, true, &txn, why)) != 0)
		return err;
	rc = mdb_get(txn, st->invites, &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return 0;
	}
	err = mu_store__err(st, rc, "reading the invites", why);
	if (err == 0 && decode(&r, &k, &v) != 0)
		err = mu_fail(why, MU_ECORRUPT, "an invite in the store is damaged");
	if (err == 0) {
		if (r.revoked)
			*verdict = MU_INVITE_REVOKED;
		else if (now >= r.expires)
			*verdict = MU_INVITE_EXPIRED;
		else if (r.left == 0)
			*verdict = MU_INVITE_USED;
		else
			*verdict = MU_INVITE_OK;
	}
	if (err == 0 && *verdict == MU_INVITE_OK) {
		r.left--;
		r.has_joiner = true;
		memcpy(r.joiner, joiner, MU_KEY_BYTES);
		snprintf(r.name, sizeof(r.name), "%s", name);
		v.mv_data = buf;
		v.mv_size = encode(buf, &r);
		err = mu_store__err(st, mdb_put(txn, st->invites, &k, &v, 0),
		                    "taking a use of the invite", why);
	}
	if (err == 0 && row != NULL)
		*row = r;
	if (err == 0 && *verdict != MU_INVITE_OK) {
		mdb_txn_abort(txn); /* nothing written */
		return 0;
	}
	return mu_store__commit(st, txn, err, why);
}
