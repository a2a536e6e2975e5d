/*
 * local_settings.c - the node's own settings (local.h), each a value in
 * meta under a key of its own beside "schema" and "seq".
 *
 * meta rather than a table of their own: a muster that does not know a
 * setting never reads its key, so adding one changes no layout and needs no
 * new schema, and a backup (a copy of the environment) keeps them.
 */
#include <string.h>

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
