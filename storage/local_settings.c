/*
 * local_settings.c - the node's own settings (local.h), each a value in
 * meta under a key of its own beside "schema" and "seq".
 *
 * meta rather than a table of their own: a muster that does not know a
 * setting never reads its key, so adding one changes no layout and needs no
 * new schema, and a backup (a copy of the environment) keeps them.
 */
#include <string.h>

#include <sodium.h>

#include "local.h"
#include "store_keys.h"

#define ZONE_KEY "tz"

int
mu_store_zone_get(struct mu_store *st, char out[MU_STORE_ZONE_SIZE])
{
	MDB_val k = {sizeof(ZONE_KEY) - 1, (void *)ZONE_KEY}, v;
	MDB_txn *txn;
	int err;

	out[0] = '\0';
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->meta, &k, &v),
	                    "reading the node's time zone", NULL);
	/* Only mu_store_zone_set() writes it: another size, or a NUL inside,
	 * is damage. */
	if (err == 0 && (v.mv_size == 0 || v.mv_size >= MU_STORE_ZONE_SIZE ||
	                 memchr(v.mv_data, '\0', v.mv_size) != NULL))
		err = MU_ECORRUPT;
	if (err == 0) {
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = '\0';
	}
	mdb_txn_abort(txn);
	return err;
}

int
mu_store_zone_set(struct mu_store *st, const char *zone)
{
	MDB_val k = {sizeof(ZONE_KEY) - 1, (void *)ZONE_KEY},
	        v = {strlen(zone), (void *)zone};
	MDB_txn *txn;
	int err;

	if (st->read_only || v.mv_size == 0 || v.mv_size >= MU_STORE_ZONE_SIZE)
		return MU_EINVAL;
	err = mu_store__begin(st, true, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__err(st, mdb_put(txn, st->meta, &k, &v, 0),
	                    "setting the node's time zone", NULL);
	return mu_store__commit(st, txn, err, NULL);
}

#define FORM_KEY    "form_key"
#define MEMBERS_KEY "members_only"

int
mu_store_form_key(struct mu_store *st, uint8_t key[32], bool renew)
{
	MDB_val k = {sizeof(FORM_KEY) - 1, (void *)FORM_KEY}, v;
	MDB_txn *txn;
	int err;

	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->meta, &k, &v), "reading the form key",
	                    NULL);
	if (err == 0 && v.mv_size != 32)
		err = MU_ECORRUPT;
	if (err == 0)
		memcpy(key, v.mv_data, 32);
	mdb_txn_abort(txn);
	if ((err != MU_ENOTFOUND && !renew) || (err != 0 && err != MU_ENOTFOUND))
		return err;
	if (st->read_only)
		return MU_EINVAL;
	randombytes_buf(key, 32);
	v.mv_size = 32;
	v.mv_data = key;
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	/* Another process may have made one meanwhile: keep the first. */
	err = mdb_put(txn, st->meta, &k, &v, renew ? 0 : MDB_NOOVERWRITE);
	if (err == MDB_KEYEXIST && v.mv_size == 32) {
		memcpy(key, v.mv_data, 32); /* LMDB hands back the stored one */
		err = 0;
	}
	err = mu_store__err(st, err, "writing the form key", NULL);
	return mu_store__commit(st, txn, err, NULL);
}

int
mu_store_members_only(struct mu_store *st, bool *on)
{
	MDB_val k = {sizeof(MEMBERS_KEY) - 1, (void *)MEMBERS_KEY}, v;
	MDB_txn *txn;
	int err;

	*on = false;
	err = mu_store__begin(st, false, &txn, NULL);
	if (err != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->meta, &k, &v),
	                    "reading the members-only setting", NULL);
	if (err == 0)
		*on = v.mv_size == 1 && ((const uint8_t *)v.mv_data)[0] == 1;
	mdb_txn_abort(txn);
	return err == MU_ENOTFOUND ? 0 : err;
}

int
mu_store_members_only_set(struct mu_store *st, bool on)
{
	uint8_t one = 1;
	MDB_val k = {sizeof(MEMBERS_KEY) - 1, (void *)MEMBERS_KEY}, v = {1, &one};
	MDB_txn *txn;
	int err, rc;

	if (st->read_only)
		return MU_EINVAL;
	err = mu_store__begin(st, true, &txn, NULL);
	if (err != 0)
		return err;
	rc = on ? mdb_put(txn, st->meta, &k, &v, 0) : mdb_del(txn, st->meta, &k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	err = mu_store__err(st, rc, "setting members-only", NULL);
	return mu_store__commit(st, txn, err, NULL);
}
