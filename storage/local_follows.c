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
	if (rc != 0) {
		mdb_txn_abort(txn);
		return mu_store__err(st, rc, "changing the followed groups", NULL);
	}
	return mu_store__err(st, mdb_txn_commit(txn), "committing to the store", NULL);
}

int
mu_store_follows(struct mu_store *st, mu_store_key_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int err, rc;

	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	rc = mdb_cursor_open(txn, st->follows, &cur);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MU_KEY_BYTES) {
			err = MU_ECORRUPT;
			goto out;
		}
		err = fn(ctx, k.mv_data);
		if (err != 0)
			goto out;
	}
	if (rc != MDB_NOTFOUND)
		err = mu_store__err(st, rc, "reading the followed groups", NULL);
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return err;
}
