/*
 * local_follows.c - the groups followed by hand (local.h): group key -> "".
 * They join the scope whatever the alliances say.
 */
#include "local.h"

#include "store_keys.h"

int
mu_store_follow(struct mu_store *st, const uint8_t key[MU_KEY_BYTES], bool on)
{
	MDB_val k = {MU_KEY_BYTES, (void *)key}, v = {0, NULL};
	MDB_txn *txn;
	int err, rc;

	if (st->read_only)
		return MU_EINVAL;
	err = mu_store__begin(st, true, &txn, NULL);
	if (err != 0)
		return err;
	rc = on ? mdb_put(txn, st->follows, &k, &v, 0)
	        : mdb_del(txn, st->follows, &k, NULL);
	err = mu_store__err(st, rc, "changing the followed groups", NULL);
	return mu_store__commit(st, txn, err, NULL);
}

struct follows_visit {
	mu_store_key_fn fn;
	void *ctx;
};

static int
follows_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct follows_visit *f = ctx;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_KEY_BYTES)
		return MU_ECORRUPT;
	return f->fn(f->ctx, k->mv_data);
}

int
mu_store_follows(struct mu_store *st, mu_store_key_fn fn, void *ctx)
{
	struct follows_visit f = {fn, ctx};

	return mu_store__read_scan(st, st->follows, NULL, 0, follows_entry, &f,
	                           "reading the followed groups");
}
