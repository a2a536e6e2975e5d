/*
 * local_hellos.c - what this node knows of its peers' hellos (local.h), so
 * that a hello can carry the digest of a scope instead of the scope
 * (docs/PROTOCOL.md 10.1, 10.2): peer group key -> entry, never synced,
 * never exported.
 *
 * An entry, big-endian:
 *   changed_at 8   when it was last written (Unix seconds): the oldest goes
 *                  when MU_HELLO_PEERS_MAX are kept
 *   flags      1   HAS_DIGESTS, HAS_SENT, HAS_SCOPE
 *   sent       32  digest of our scope last sent to it in full
 *   digest     32  digest of its scope below
 *   scope      32n its scope as its last full hello said (HAS_SCOPE only)
 * Fields whose flag is clear are zero.
 */
#include <stdlib.h>
#include <string.h>

#include "local.h"

#include "store_keys.h"

#define HAS_DIGESTS 0x01
#define HAS_SENT    0x02
#define HAS_SCOPE   0x04
#define HEAD        (8 + 1 + 32 + 32)

int
mu_store__hello_check(const MDB_val *k, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	if (k->mv_size != MU_KEY_BYTES || v->mv_size < HEAD ||
	    (v->mv_size - HEAD) % 32 != 0 || (v->mv_size - HEAD) / 32 > MU_SCOPE_MAX ||
	    (p[8] & ~0x07) != 0 || (!(p[8] & HAS_SCOPE) && v->mv_size != HEAD))
		return MU_ECORRUPT;
	return 0;
}

static int
writable(struct mu_store *st)
{
	return st->read_only || !st->has_hellos ? MU_EINVAL : 0;
}

int
mu_store_hello_get(struct mu_store *st, const uint8_t key[MU_KEY_BYTES],
                   struct mu_hello_peer *hp, struct mu_scope *scope)
{
	MDB_val k = {MU_KEY_BYTES, (void *)key}, v;
	const uint8_t *p;
	MDB_txn *txn;
	int err;

	memset(hp, 0, sizeof(*hp));
	if (!st->has_hellos)
		return MU_ENOTFOUND;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->hellos, &k, &v), "reading a hello",
	                    NULL);
	if (err == 0 && mu_store__hello_check(&k, &v) != 0)
		err = MU_ECORRUPT;
	if (err == 0) {
		p = v.mv_data;
		hp->digests = (p[8] & HAS_DIGESTS) != 0;
		hp->has_sent = (p[8] & HAS_SENT) != 0;
		hp->has_scope = (p[8] & HAS_SCOPE) != 0;
		memcpy(hp->sent, p + 9, 32);
		memcpy(hp->digest, p + 41, 32);
		if (scope != NULL) {
			scope->n = (v.mv_size - HEAD) / 32;
			memcpy(scope->keys, p + HEAD, v.mv_size - HEAD);
		}
	}
	mdb_txn_abort(txn);
	return err;
}

struct oldest {
	uint8_t key[MU_KEY_BYTES];
	uint64_t at;
	size_t n;
};

static int
visit_oldest(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct oldest *o = ctx;
	const uint8_t *p = v->mv_data;
	uint64_t at = 0;
	int i;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES)
		return MU_ECORRUPT;
	/* A damaged entry goes first (at 0). */
	for (i = 0; mu_store__hello_check(k, v) == 0 && i < 8; i++)
		at = at << 8 | p[i];
	if (o->n++ == 0 || at < o->at) {
		o->at = at;
		memcpy(o->key, k->mv_data, MU_KEY_BYTES);
	}
	return 0;
}

/* Makes room for one more entry in txn: the one written longest ago goes
 * when MU_HELLO_PEERS_MAX are kept. */
static int
make_room(struct mu_store *st, MDB_txn *txn)
{
	struct oldest o = {{0}, 0, 0};
	MDB_val k = {MU_KEY_BYTES, o.key};
	int err;

	err = mu_store__scan(st, txn, st->hellos, NULL, 0, visit_oldest, &o,
	                     "reading the hellos");
	if (err != 0 || o.n < MU_HELLO_PEERS_MAX)
		return err;
	return mu_store__err(st, mdb_del(txn, st->hellos, &k, NULL),
	                     "forgetting a hello", NULL);
}

int
mu_store_hello_put(struct mu_store *st, const uint8_t key[MU_KEY_BYTES],
                   const struct mu_hello_peer *hp, const struct mu_scope *scope,
                   int64_t now)
{
	uint8_t head[HEAD];
	MDB_val k = {MU_KEY_BYTES, (void *)key}, v, old = {0, NULL};
	const uint8_t *keys = NULL;
	size_t n = 0;
	bool with = false; /* the entry keeps a scope */
	MDB_txn *txn;
	int err, i;

	if ((err = writable(st)) != 0)
		return err;
	memset(head, 0, sizeof(head));
	for (i = 0; i < 8; i++)
		head[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
	if (hp->has_sent)
		memcpy(head + 9, hp->sent, 32);
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->hellos, &k, &old), "reading a hello",
	                    NULL);
	if (err == MU_ENOTFOUND)
		err = make_room(st, txn);
	else if (err == 0 && mu_store__hello_check(&k, &old) != 0)
		old.mv_size = 0; /* damaged: written anew */
	if (err == 0 && hp->has_scope && scope != NULL) {
		keys = scope->keys[0];
		n = scope->n;
		with = true;
	} else if (err == 0 && hp->has_scope && old.mv_size >= HEAD &&
	           ((const uint8_t *)old.mv_data)[8] & HAS_SCOPE &&
	           memcmp((const uint8_t *)old.mv_data + 41, hp->digest, 32) == 0) {
		/* The scope kept as it is: copied before the put moves it. */
		n = (old.mv_size - HEAD) / 32;
		with = true;
	}
	if (with)
		memcpy(head + 41, hp->digest, 32);
	head[8] = (hp->digests ? HAS_DIGESTS : 0) | (hp->has_sent ? HAS_SENT : 0) |
	          (with ? HAS_SCOPE : 0);
	if (err == 0 && keys == NULL && n > 0) {
		if ((keys = malloc(32 * n)) == NULL)
			err = MU_ENOMEM;
		else
			memcpy((void *)keys, (const uint8_t *)old.mv_data + HEAD,
			       32 * n);
	}
	v.mv_size = HEAD + 32 * n;
	if (err == 0)
		err = mu_store__err(st, mdb_put(txn, st->hellos, &k, &v, MDB_RESERVE),
		                    "storing a hello", NULL);
	if (err == 0) {
		memcpy(v.mv_data, head, HEAD);
		if (n > 0)
			memcpy((uint8_t *)v.mv_data + HEAD, keys, 32 * n);
	}
	if (scope == NULL || !hp->has_scope)
		free((void *)keys);
	return mu_store__commit(st, txn, err, NULL);
}

int
mu_store__hello_forget(struct mu_store *st, MDB_txn *txn,
                       const uint8_t key[MU_KEY_BYTES])
{
	MDB_val k = {MU_KEY_BYTES, (void *)key};
	int rc;

	if (!st->has_hellos)
		return 0;
	rc = mdb_del(txn, st->hellos, &k, NULL);
	return rc == MDB_NOTFOUND ? 0
	                          : mu_store__err(st, rc, "forgetting a hello", NULL);
}
