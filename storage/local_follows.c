/*
 * local_follows.c - the groups followed by hand (local.h): group key -> a
 * check of it (mu_store__follow_check). They join the scope whatever the
 * alliances say.
 */
#include <string.h>

#include <sodium.h>

#include "local.h"

#include "store_keys.h"

void
mu_store__follow_check(uint8_t out[MU_STORE__FOLLOW_CHECK_BYTES],
                       const uint8_t key[MU_KEY_BYTES])
{
	crypto_generichash(out, MU_STORE__FOLLOW_CHECK_BYTES, key, MU_KEY_BYTES, NULL,
	                   0);
}

bool
mu_store__follow_ok(const MDB_val *k, const MDB_val *v)
{
	uint8_t check[MU_STORE__FOLLOW_CHECK_BYTES];

	if (k->mv_size != MU_KEY_BYTES)
		return false;
	if (v->mv_size == 0)
		return true;
	if (v->mv_size != sizeof(check))
		return false;
	mu_store__follow_check(check, k->mv_data);
	return memcmp(check, v->mv_data, sizeof(check)) == 0;
}

int
mu_store_follow(struct mu_store *st, const uint8_t key[MU_KEY_BYTES], bool on)
{
	uint8_t check[MU_STORE__FOLLOW_CHECK_BYTES];
	MDB_val k = {MU_KEY_BYTES, (void *)key}, v = {sizeof(check), check};
	MDB_txn *txn;
	int err, rc;

	if (st->read_only)
		return MU_EINVAL;
	mu_store__follow_check(check, key);
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
	if (!mu_store__follow_ok(k, v))
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
