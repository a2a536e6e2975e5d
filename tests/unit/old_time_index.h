/*
 * old_time_index.h - makes a store's by_time entries look as a muster of
 * schema 7 or older wrote them (the group alone, without the sequence
 * number that schema 8 keeps after it), for the tests of the upgrades.
 */
#ifndef MU_TEST_OLD_TIME_INDEX_H
#define MU_TEST_OLD_TIME_INDEX_H

#include <lmdb.h>
#include <string.h>

#include "protocol/record.h"

/* Inside txn, a write transaction of the store's environment; returns the
 * number of entries cut. */
static inline size_t
old_time_index(MDB_txn *txn)
{
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;

	assert_int_equal(mdb_dbi_open(txn, "by_time", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		uint8_t key[8 + MU_ID_BYTES], group[MU_KEY_BYTES];
		MDB_val nk = {sizeof(key), key}, g = {sizeof(group), group};

		/* Copied: the put moves the entry within its page. */
		assert_int_equal(k.mv_size, sizeof(key));
		assert_int_equal(v.mv_size, MU_KEY_BYTES + 8);
		memcpy(key, k.mv_data, sizeof(key));
		memcpy(group, v.mv_data, sizeof(group));
		assert_int_equal(mdb_cursor_put(cur, &nk, &g, MDB_CURRENT), 0);
		n++;
	}
	mdb_cursor_close(cur);
	return n;
}

#endif
