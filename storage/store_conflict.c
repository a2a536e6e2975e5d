/*
 * store_conflict.c - concurrent edits in the store (conflict.h): found from
 * the current version and the past table, merged by protocol/merge.c, and
 * the merge published as any record is.
 */
#include "conflict.h"

#include <stdlib.h>
#include <string.h>

#include "store_keys.h"
#include "store_past.h"

void
mu_store_conflict_free(struct mu_store_conflict *c)
{
	size_t i;

	for (i = 0; i < MU_CONFLICT_RECS; i++) {
		free(c->raw[i]);
		c->raw[i] = NULL;
	}
}

/*
 * Whether rec, a kept revision, is still one its signer could publish: a
 * revision of a key revoked since then must not come back through a merge
 * (docs/PROTOCOL.md 10.6). The group's own signature always is.
 */
static bool
accepted(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX];
	char hex[2 * MU_KEY_BYTES];
	struct mu_record o;
	struct mu_addr a;
	MDB_val k, v;

	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) == 0)
		return true;
	mu_store__alliance_d(hex, rec->signer);
	memcpy(a.group, rec->group, MU_KEY_BYTES);
	a.kind = MU_KIND_ORGANIZER;
	a.d.ptr = hex;
	a.d.len = sizeof(hex);
	k.mv_size = mu_store__addr_key(akey, &a);
	k.mv_data = akey;
	return mdb_get(txn, st->current, &k, &v) == 0 &&
	       mu_store__load_indexed(st, txn, &v, &o) == 0 &&
	       mu_organizer_accepts(&o, rec);
}

/* Reads the current version (pr[0]) and the past revisions (pr[1..]) of
 * the address, copies owned by c->raw. */
static int
read_revisions(struct mu_store *st, const struct mu_addr *addr,
               struct mu_store_conflict *c, struct mu_record *pr, size_t *n,
               struct mu_why *why)
{
	uint8_t akey[MU_STORE__ADDR_KEY_MAX];
	struct mu_store__past past;
	struct mu_why pw = {0};
	MDB_val k, v;
	MDB_txn *txn;
	size_t alen, i;
	int err, rc;

	*n = 0;
	alen = mu_store__addr_key(akey, addr);
	if ((err = mu_store__begin(st, false, &txn, why)) != 0)
		return err;
	k.mv_size = alen;
	k.mv_data = akey;
	rc = mdb_get(txn, st->current, &k, &v);
	if (rc != 0) {
		err = mu_store__err(st, rc, "reading the address index", why);
	} else if (v.mv_size != MU_ID_BYTES) {
		err = mu_fail(why, MU_ECORRUPT,
		              "the store at %s is damaged: run "
		              "`muster check`",
		              st->dir);
	} else {
		err = mu_store__load_indexed(st, txn, &v, &pr[0]);
		if (err == 0 && (c->raw[0] = malloc(pr[0].raw_len)) == NULL)
			err =
			    mu_fail(why, MU_ENOMEM, "reading the store: out of memory");
		if (err == 0) {
			memcpy(c->raw[0], pr[0].raw, pr[0].raw_len);
			mu_rec_move(&pr[0], c->raw[0]);
			err = mu_store__past_read(st, txn, akey, alen, &past, why);
		}
	}
	if (err != 0) {
		mdb_txn_abort(txn);
		return err;
	}
	*n = 1;
	for (i = 0; i < past.n; i++) {
		c->raw[1 + i] = past.raw[i];
		if (mu_rec_parse(&pr[*n], past.raw[i], past.len[i], 0,
		                 MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, &pw) == 0 &&
		    accepted(st, txn, &pr[*n]))
			(*n)++;
	}
	mdb_txn_abort(txn);
	return 0;
}

static const struct mu_record *
by_id(const struct mu_record *pr, size_t n, const uint8_t id[MU_ID_BYTES])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(pr[i].id, id, MU_ID_BYTES) == 0)
			return &pr[i];
	return NULL;
}

/* The newest revision that edits what top edits, with other content. */
static const struct mu_record *
other_side(const struct mu_record *top, const struct mu_record *pr, size_t n)
{
	const struct mu_record *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (mu_rec_conflicting(top, &pr[i]) &&
		    !mu_rec_same_content(top, &pr[i]) &&
		    (best == NULL || mu_rec_newer(&pr[i], best) > 0))
			best = &pr[i];
	return best;
}

int
mu_store_conflict_get(struct mu_store *st, const struct mu_addr *addr,
                      struct mu_store_conflict *c, struct mu_why *why)
{
	struct mu_record pr[MU_CONFLICT_RECS];
	const struct mu_record *top, *other = NULL, *base;
	size_t n;
	int err;

	memset(c, 0, sizeof(*c));
	if (!mu_kind_replaceable(addr->kind) || addr->d.len > MU_D_MAX)
		return MU_ENOTFOUND;
	err = read_revisions(st, addr, c, pr, &n, why);
	if (err != 0)
		goto fail;
	top = &pr[0];
	if ((other = other_side(top, pr, n)) == NULL && top->has_replaces &&
	    (top = by_id(pr, n, pr[0].replaces)) != NULL) {
		other = other_side(top, pr, n);
		c->merged = true;
	}
	if (other == NULL) {
		err = MU_ENOTFOUND;
		goto fail;
	}
	c->current = pr[0];
	if (mu_rec_newer(top, other) > 0) {
		c->winner = *top;
		c->loser = *other;
	} else {
		c->winner = *other;
		c->loser = *top;
	}
	if ((base = by_id(pr, n, c->winner.replaces)) != NULL) {
		c->base = *base;
		c->has_base = mu_rec_merge(&c->base, &c->winner, &c->loser, &c->merge,
		                           &c->m) == 0;
	}
	return 0;
fail:
	mu_store_conflict_free(c);
	return err;
}

/* The addresses of a group with past revisions, collected in one snapshot
 * before any is read again (a walk must not hold a read while a merge is
 * put). */
struct addrs {
	size_t n, cap;
	uint8_t (*keys)[MU_STORE__ADDR_KEY_MAX];
	size_t *lens;
};

static int
addr_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct addrs *a = ctx;
	size_t alen = k->mv_size - MU_ID_BYTES;
	void *p, *q;

	(void)txn;
	(void)v;
	if (k->mv_size < 1 + MU_KEY_BYTES + MU_ID_BYTES ||
	    alen > MU_STORE__ADDR_KEY_MAX)
		return MU_ECORRUPT;
	if (a->n > 0 && a->lens[a->n - 1] == alen &&
	    memcmp(a->keys[a->n - 1], k->mv_data, alen) == 0)
		return 0;
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		p = realloc(a->keys, a->cap * sizeof(*a->keys));
		if (p != NULL)
			a->keys = p;
		q = realloc(a->lens, a->cap * sizeof(*a->lens));
		if (q != NULL)
			a->lens = q;
		if (p == NULL || q == NULL)
			return MU_ENOMEM;
	}
	memcpy(a->keys[a->n], k->mv_data, alen);
	a->lens[a->n++] = alen;
	return 0;
}

static int
group_addrs(struct mu_store *st, const uint8_t group[MU_KEY_BYTES], struct addrs *a,
            struct mu_why *why)
{
	uint8_t prefix[1 + MU_KEY_BYTES];
	MDB_val k = {sizeof(prefix), prefix};
	MDB_txn *txn;
	int kind, err = 0;

	memset(a, 0, sizeof(*a));
	memcpy(prefix + 1, group, MU_KEY_BYTES);
	if ((err = mu_store__begin(st, false, &txn, why)) != 0)
		return err;
	for (kind = MU_KIND_NONE + 1; err == 0 && kind < MU_KIND_COUNT; kind++) {
		if (!mu_kind_replaceable((enum mu_kind)kind))
			continue;
		prefix[0] = (uint8_t)kind;
		err = mu_store__scan(st, txn, st->past, &k, sizeof(prefix), addr_entry,
		                     a, "reading the past revisions");
	}
	mdb_txn_abort(txn);
	return mu_store__past_err(st, err, why);
}

static void
addr_of(struct mu_addr *addr, const uint8_t *key, size_t len)
{
	addr->kind = (enum mu_kind)key[0];
	memcpy(addr->group, key + 1, MU_KEY_BYTES);
	addr->d.ptr = (const char *)key + 1 + MU_KEY_BYTES;
	addr->d.len = len - 1 - MU_KEY_BYTES;
}

int
mu_store_conflict_each(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                       mu_store_conflict_fn fn, void *ctx, struct mu_why *why)
{
	struct mu_store_conflict c;
	struct mu_addr addr;
	struct addrs a;
	size_t i;
	int err;

	err = group_addrs(st, group, &a, why);
	for (i = 0; err == 0 && i < a.n; i++) {
		addr_of(&addr, a.keys[i], a.lens[i]);
		err = mu_store_conflict_get(st, &addr, &c, why);
		if (err == MU_ENOTFOUND) {
			err = 0;
			continue;
		}
		if (err == 0) {
			err = fn(ctx, &c);
			mu_store_conflict_free(&c);
		}
	}
	free(a.keys);
	free(a.lens);
	return err;
}

struct resolve {
	struct mu_store *st;
	const uint8_t *signer, *sk;
	int64_t now;
	size_t published;
	struct mu_why *why;
};

static int
resolve_one(void *ctx, const struct mu_store_conflict *c)
{
	struct resolve *r = ctx;
	const struct mu_record *one[1];
	struct mu_record rec = c->merge, built;
	enum mu_put_result res;
	uint8_t *buf = NULL;
	size_t len;
	int err;

	if (c->merged || !c->has_base || !c->m.changed ||
	    c->current.kind == MU_KIND_ORGANIZER)
		return 0;
	memcpy(rec.signer, r->signer, MU_KEY_BYTES);
	err = mu_rec_build_parsed(&rec, r->sk, r->now, &buf, &len, &built, r->why);
	if (err == 0) {
		one[0] = &built;
		err = mu_store_put(r->st, one, 1, &res, r->why);
		if (err == 0 && res == MU_PUT_NEW)
			r->published++;
	}
	free(buf);
	return err;
}

int
mu_store_conflict_resolve(struct mu_store *st, const uint8_t group[MU_KEY_BYTES],
                          const uint8_t signer[MU_KEY_BYTES],
                          const uint8_t sk[MU_SECRET_BYTES], int64_t now,
                          size_t *published, struct mu_why *why)
{
	struct resolve r = {st, signer, sk, now, 0, why};
	int err;

	err = mu_store_conflict_each(st, group, resolve_one, &r, why);
	*published = r.published;
	return err;
}
