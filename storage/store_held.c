/*
 * store_held.c - delegated records (docs/PROTOCOL.md 10.6): the held table
 * of records whose organizer record is not here yet, and the signed index
 * of stored records signed by an organizer key, by which a revocation finds
 * them. Both are keyed group || signer || id, so one organizer's records
 * are a prefix scan.
 *
 * Called by the put path (store_put.c) inside its write transaction; the
 * decisions (hold, store, refuse, remove) are made there.
 */
#include <stdlib.h>
#include <string.h>

#include "store_held.h"

void
mu_store__signer_key(uint8_t out[MU_STORE__SIGNER_KEY_BYTES],
                     const uint8_t group[MU_KEY_BYTES],
                     const uint8_t signer[MU_KEY_BYTES], const uint8_t *id)
{
	memcpy(out, group, MU_KEY_BYTES);
	memcpy(out + MU_KEY_BYTES, signer, MU_KEY_BYTES);
	if (id != NULL)
		memcpy(out + 2 * MU_KEY_BYTES, id, MU_ID_BYTES);
}

/* Hands fn the entries of dbi (held or signed) of one group and signer;
 * a failure of the scan is said in why, naming what (the table). */
static int
scan_signer(struct mu_store *st, MDB_txn *txn, MDB_dbi dbi,
            const uint8_t group[MU_KEY_BYTES], const uint8_t signer[MU_KEY_BYTES],
            mu_store__entry_fn fn, void *ctx, const char *what, struct mu_why *why)
{
	uint8_t key[MU_STORE__SIGNER_KEY_BYTES];
	MDB_val k = {2 * MU_KEY_BYTES, key};
	int rc;

	mu_store__signer_key(key, group, signer, NULL);
	rc = mu_store__scan(st, txn, dbi, &k, k.mv_size, fn, ctx, what);
	if (rc == MU_ENOMEM)
		return mu_fail(why, MU_ENOMEM, "storing records: out of memory");
	if (rc < 0)
		return mu_fail(why, rc,
		               "the %s of the store at %s are damaged: run `muster "
		               "check`",
		               what, st->dir);
	return rc;
}

/* Entries under one prefix, up to max (then 1 for "more"). */
struct count {
	size_t n, max;
};

static int
count_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct count *c = ctx;

	(void)txn;
	(void)k;
	(void)v;
	return ++c->n >= c->max ? 1 : 0;
}

int
mu_store__hold(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
               bool *held, struct mu_why *why)
{
	uint8_t key[MU_STORE__SIGNER_KEY_BYTES];
	MDB_val k = {sizeof(key), key}, v = {rec->raw_len, (void *)rec->raw};
	struct count c = {0, MU_HELD_PER_SIGNER};
	MDB_stat ms;
	int rc;

	*held = false;
	rc = mdb_stat(txn, st->held, &ms);
	if (rc != 0)
		return mu_store__err(st, rc, "reading the held records", why);
	if (ms.ms_entries >= MU_HELD_MAX)
		return 0;
	rc = scan_signer(st, txn, st->held, rec->group, rec->signer, count_entry, &c,
	                 "held records", why);
	if (rc < 0)
		return rc;
	if (c.n >= MU_HELD_PER_SIGNER)
		return 0;
	mu_store__signer_key(key, rec->group, rec->signer, rec->id);
	rc = mdb_put(txn, st->held, &k, &v, 0);
	if (rc != 0)
		return mu_store__err(st, rc, "writing a held record", why);
	*held = true;
	return 0;
}

/* The copies taken so far. */
struct take {
	struct mu_store__held_rec *recs;
	size_t n;
	int err;
};

static int
take_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct take *t = ctx;
	struct mu_store__held_rec *r;

	(void)txn;
	if (k->mv_size != MU_STORE__SIGNER_KEY_BYTES || t->n >= MU_HELD_PER_SIGNER)
		return MU_ECORRUPT;
	r = &t->recs[t->n];
	if ((r->raw = malloc(v->mv_size)) == NULL)
		return MU_ENOMEM;
	memcpy(r->raw, v->mv_data, v->mv_size);
	r->len = v->mv_size;
	memcpy(r->id, (const uint8_t *)k->mv_data + 2 * MU_KEY_BYTES, MU_ID_BYTES);
	t->n++;
	return 0;
}

void
mu_store__held_free(struct mu_store__held_rec *recs, size_t n)
{
	size_t i;

	for (i = 0; recs != NULL && i < n; i++)
		free(recs[i].raw);
	free(recs);
}

int
mu_store__held_take(struct mu_store *st, MDB_txn *txn,
                    const uint8_t group[MU_KEY_BYTES],
                    const uint8_t signer[MU_KEY_BYTES], struct mu_store__held_rec **out,
                    size_t *n, struct mu_why *why)
{
	uint8_t key[MU_STORE__SIGNER_KEY_BYTES];
	MDB_val k = {sizeof(key), key};
	struct take t = {NULL, 0, 0};
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((t.recs = calloc(MU_HELD_PER_SIGNER, sizeof(*t.recs))) == NULL)
		return mu_fail(why, MU_ENOMEM, "storing records: out of memory");
	rc = scan_signer(st, txn, st->held, group, signer, take_entry, &t,
	                 "held records", why);
	for (i = 0; rc == 0 && i < t.n; i++) {
		mu_store__signer_key(key, group, signer, t.recs[i].id);
		rc = mdb_del(txn, st->held, &k, NULL);
		rc = mu_store__err(st, rc, "removing a held record", why);
	}
	if (rc != 0) {
		mu_store__held_free(t.recs, t.n);
		return rc;
	}
	*out = t.recs;
	*n = t.n;
	return 0;
}

/* The ids of one organizer's stored records, growing as found. */
struct ids {
	uint8_t (*ids)[MU_ID_BYTES];
	size_t n, cap;
};

static int
id_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct ids *s = ctx;
	void *grown;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_STORE__SIGNER_KEY_BYTES)
		return MU_ECORRUPT;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if ((grown = realloc(s->ids, s->cap * MU_ID_BYTES)) == NULL)
			return MU_ENOMEM;
		s->ids = grown;
	}
	memcpy(s->ids[s->n++], (const uint8_t *)k->mv_data + 2 * MU_KEY_BYTES,
	       MU_ID_BYTES);
	return 0;
}

int
mu_store__signed_ids(struct mu_store *st, MDB_txn *txn,
                     const uint8_t group[MU_KEY_BYTES],
                     const uint8_t signer[MU_KEY_BYTES], uint8_t (**ids)[MU_ID_BYTES],
                     size_t *n, struct mu_why *why)
{
	struct ids s = {NULL, 0, 0};
	int rc;

	rc = scan_signer(st, txn, st->signed_by, group, signer, id_entry, &s,
	                 "signed index entries", why);
	if (rc != 0) {
		free(s.ids);
		return rc;
	}
	*ids = s.ids;
	*n = s.n;
	return 0;
}
