/*
 * local_frozen.c - records that are no longer current (local.h): the groups
 * held but outside the scope, since when, and their pruning; and the groups
 * blocked by hand, whose records are dropped and refused.
 *
 * outside  group key -> since, 8 bytes big-endian (Unix seconds)
 * blocks   group key -> blocked_at, likewise
 *
 * A store made before these tables gets them at its first write open; until
 * then a read-only open reads them as empty (store.c, open_frozen).
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "store_fp.h"
#include "store_keys.h"

/* --- reading ----------------------------------------------------------------- */

static int
outside_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct mu_outside *o = ctx;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return MU_ECORRUPT;
	if (mu_buf_grow_array(&o->v, &o->cap, o->n + 1, sizeof(*o->v), 16) != 0)
		return MU_ENOMEM;
	memcpy(o->v[o->n].key, k->mv_data, MU_KEY_BYTES);
	o->v[o->n++].since = (int64_t)mu_store__get_be64(v->mv_data);
	return 0;
}

int
mu_store_outside(struct mu_store *st, struct mu_outside *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	if (!st->has_frozen)
		return 0;
	err = mu_store__read_scan(st, st->outside, NULL, 0, outside_entry, out,
	                          "reading the groups outside the scope");
	if (err != 0)
		mu_outside_free(out);
	return err;
}

int
mu_outside_copy(struct mu_outside *dst, const struct mu_outside *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src == NULL || src->n == 0)
		return 0;
	if ((dst->v = malloc(src->n * sizeof(*dst->v))) == NULL)
		return MU_ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

void
mu_outside_free(struct mu_outside *o)
{
	free(o->v);
	memset(o, 0, sizeof(*o));
}

bool
mu_outside_has(const struct mu_outside *o, const uint8_t key[MU_KEY_BYTES],
               int64_t *since)
{
	bool found = false;
	size_t i;

	if (o == NULL || o->n == 0)
		return false;
	i = mu_key_position(o->v, o->n, sizeof(*o->v), key, &found);
	if (found && since != NULL)
		*since = o->v[i].since;
	return found;
}

static int
block_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	const struct {
		mu_store_block_fn fn;
		void *ctx;
	} *b = ctx;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return MU_ECORRUPT;
	return b->fn(b->ctx, k->mv_data, (int64_t)mu_store__get_be64(v->mv_data));
}

int
mu_store_blocks(struct mu_store *st, mu_store_block_fn fn, void *ctx)
{
	struct {
		mu_store_block_fn fn;
		void *ctx;
	} b = {fn, ctx};

	if (!st->has_frozen)
		return 0;
	return mu_store__read_scan(st, st->blocks, NULL, 0, block_entry, &b,
	                           "reading the blocked groups");
}

static int
add_blocked(void *ctx, const uint8_t key[MU_KEY_BYTES], int64_t since)
{
	(void)since;
	return mu_scope_add(ctx, key) != 0 ? MU_ECORRUPT : 0;
}

int
mu_store_blocked(struct mu_store *st, struct mu_scope *out)
{
	mu_scope_clear(out);
	return mu_store_blocks(st, add_blocked, out);
}

/* --- noting the scope ---------------------------------------------------------- */

/* Calls fn for each group that has stored records, in key order: the keys
 * of grpcount (store_fp.h), one entry per group. */
struct held_walk {
	int (*fn)(void *ctx, const uint8_t g[MU_KEY_BYTES]);
	void *ctx;
};

static int
held_entry(void *ctx, const uint8_t g[MU_KEY_BYTES], uint64_t count)
{
	const struct held_walk *w = ctx;

	(void)count;
	return w->fn(w->ctx, g);
}

static int
each_held_group(struct mu_store *st, MDB_txn *txn,
                int (*fn)(void *ctx, const uint8_t g[MU_KEY_BYTES]), void *ctx)
{
	struct held_walk w = {fn, ctx};

	return mu_store__fp_groups(st, txn, held_entry, &w);
}

struct note {
	struct mu_store *st;
	MDB_txn *txn;
	bool write; /* else only count what would change */
	const uint8_t *us;
	const struct mu_scope *scope;
	uint8_t since[8];
	struct mu_scope *back; /* entries to take out: back in scope */
	size_t changed;
};

static int
note_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct note *n = ctx;

	(void)txn;
	if (k->mv_size != MU_KEY_BYTES || v->mv_size != 8)
		return MU_ECORRUPT;
	if (memcmp(k->mv_data, n->us, MU_KEY_BYTES) != 0 &&
	    !mu_scope_has(n->scope, k->mv_data))
		return 0;
	return mu_scope_add(n->back, k->mv_data) != 0 ? MU_ENOMEM : 0;
}

static int
note_held(void *ctx, const uint8_t g[MU_KEY_BYTES])
{
	struct note *n = ctx;
	MDB_val k = {MU_KEY_BYTES, (void *)g}, v = {8, n->since};
	int rc;

	if (memcmp(g, n->us, MU_KEY_BYTES) == 0 || mu_scope_has(n->scope, g))
		return 0;
	rc = n->write ? mdb_put(n->txn, n->st->outside, &k, &v, MDB_NOOVERWRITE)
	              : mdb_get(n->txn, n->st->outside, &k, &v);
	if (rc == (n->write ? MDB_KEYEXIST : 0))
		return 0;
	n->changed++;
	if (!n->write && rc == MDB_NOTFOUND)
		return 0;
	return mu_store__err(n->st, rc, "noting the groups outside the scope", NULL);
}

/* One pass over the outside table and the held groups, in n->txn. */
static int
note_pass(struct note *n)
{
	MDB_val k;
	int err;

	mu_scope_clear(n->back);
	n->changed = 0;
	err = mu_store__scan(n->st, n->txn, n->st->outside, NULL, 0, note_entry, n,
	                     "reading the groups outside the scope");
	for (size_t i = 0; err == 0 && i < n->back->n; i++, n->changed++) {
		k.mv_size = MU_KEY_BYTES;
		k.mv_data = n->back->keys[i];
		if (n->write)
			err = mu_store__err(
			    n->st, mdb_del(n->txn, n->st->outside, &k, NULL),
			    "noting the groups outside the scope", NULL);
	}
	if (err == 0)
		err = each_held_group(n->st, n->txn, note_held, n);
	return err;
}

int
mu_store_note_scope(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
                    const struct mu_scope *scope, int64_t now, size_t *changed)
{
	struct note n = {st, NULL, false, us, scope, {0}, NULL, 0};
	int err;

	if (changed != NULL)
		*changed = 0;
	if (st->read_only || !st->has_frozen)
		return MU_EINVAL;
	if ((n.back = mu_scope_new()) == NULL)
		return MU_ENOMEM;
	mu_store__put_be64(n.since, (uint64_t)now);
	/* A read first: the daemon notes every few seconds, and most times
	 * nothing changed, which must not take the write lock. */
	if ((err = mu_store__begin(st, false, &n.txn, NULL)) != 0)
		goto out;
	err = note_pass(&n);
	mdb_txn_abort(n.txn);
	if (err != 0 || n.changed == 0)
		goto out;
	n.write = true;
	if ((err = mu_store__begin(st, true, &n.txn, NULL)) != 0)
		goto out;
	err = note_pass(&n);
	err = mu_store__commit(st, n.txn, err, NULL);
	if (err == 0 && changed != NULL)
		*changed = n.changed;
out:
	mu_scope_free(n.back);
	return err;
}

/* --- dropping a group's records ------------------------------------------------ */

/* The ids of one group's records, from by_group. */
struct ids {
	uint8_t (*v)[MU_ID_BYTES];
	size_t n, cap;
};

static int
id_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct ids *ids = ctx;

	(void)txn;
	(void)v;
	if (k->mv_size != MU_STORE__GROUP_KEY_BYTES)
		return MU_ECORRUPT;
	if (mu_buf_grow_array(&ids->v, &ids->cap, ids->n + 1, sizeof(*ids->v), 64) != 0)
		return MU_ENOMEM;
	memcpy(ids->v[ids->n++], (const uint8_t *)k->mv_data + MU_KEY_BYTES + 8,
	       MU_ID_BYTES);
	return 0;
}

static int
group_ids(struct mu_store *st, MDB_txn *txn, const uint8_t g[MU_KEY_BYTES],
          struct ids *ids)
{
	MDB_val k = {MU_KEY_BYTES, (void *)g};

	return mu_store__scan(st, txn, st->by_group, &k, MU_KEY_BYTES, id_entry, ids,
	                      "reading the group index");
}

/* Drops the records of ids still stored, inside txn. */
static int
drop_ids(struct mu_store *st, MDB_txn *txn, const struct ids *ids, uint64_t *dropped)
{
	struct mu_record rec;
	uint8_t *copy;
	int err = 0;

	for (size_t i = 0; err == 0 && i < ids->n; i++) {
		err = mu_store__load(st, txn, ids->v[i], &rec, NULL);
		if (err == MU_ENOTFOUND) {
			err = 0; /* dropped meanwhile (a delete, a new version) */
			continue;
		}
		if (err != 0)
			break;
		/* The drop changes the pages rec borrows. */
		if ((copy = malloc(rec.raw_len)) == NULL)
			return MU_ENOMEM;
		memcpy(copy, rec.raw, rec.raw_len);
		mu_rec_move(&rec, copy);
		err = mu_store__drop_held(st, txn, &rec, NULL);
		free(copy);
		if (err == 0)
			(*dropped)++;
	}
	return err;
}

static int
del_key(struct mu_store *st, MDB_txn *txn, MDB_dbi dbi, const uint8_t key[MU_KEY_BYTES])
{
	MDB_val k = {MU_KEY_BYTES, (void *)key};
	int rc = mdb_del(txn, dbi, &k, NULL);

	return rc == MDB_NOTFOUND ? 0
	                          : mu_store__err(st, rc, "writing to the store", NULL);
}

/* --- pruning --------------------------------------------------------------------- */

struct keep_check {
	struct mu_store *st;
	const uint8_t *us;
	int rc;
};

static int
exception_of(void *ctx, const struct mu_record *rec)
{
	struct keep_check *k = ctx;

	k->rc = mu_store_scope_exception(k->st, rec, k->us, NULL, NULL);
	return k->rc < 0 ? k->rc : 0;
}

/* Whether g is followed: 1, 0 or an error. */
static int
followed(struct mu_store *st, MDB_txn *txn, const uint8_t g[MU_KEY_BYTES])
{
	MDB_val k = {MU_KEY_BYTES, (void *)g}, v;
	int rc = mdb_get(txn, st->follows, &k, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : mu_store__err(st, rc, "reading the followed groups", NULL);
}

/*
 * Prunes one group: reads its ids and leaves out the exceptions (a read
 * each, as mu_store_scope_exception reads the store itself), then drops the
 * rest in one write transaction, which also takes the group out of the
 * table when nothing of it stays.
 */
static int
prune_group(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
            const uint8_t g[MU_KEY_BYTES], uint64_t *dropped)
{
	struct ids all = {0}, gone = {0};
	struct keep_check kc = {st, us, 0};
	MDB_txn *txn = NULL;
	int err;

	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = followed(st, txn, g);
	if (err == 0)
		err = group_ids(st, txn, g, &all);
	mdb_txn_abort(txn);
	if (err != 0)
		goto out; /* an error, or followed (1): nothing goes */
	for (size_t i = 0; err == 0 && i < all.n; i++) {
		kc.rc = 0;
		err = mu_store_get(st, all.v[i], exception_of, &kc);
		if (err == MU_ENOTFOUND)
			err = 0;
		else if (err == 0 && kc.rc == 0 &&
		         mu_buf_grow_array(&gone.v, &gone.cap, gone.n + 1,
		                           sizeof(*gone.v), 64) == 0)
			memcpy(gone.v[gone.n++], all.v[i], MU_ID_BYTES);
		else if (err == 0 && kc.rc == 0)
			err = MU_ENOMEM;
	}
	/* Only exceptions left (a pending proposal): nothing to write, and
	 * the write lock is not taken every time the daemon looks. */
	if (err != 0 || (gone.n == 0 && all.n > 0))
		goto out;
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		goto out;
	err = drop_ids(st, txn, &gone, dropped);
	if (err == 0 && gone.n == all.n)
		err = del_key(st, txn, st->outside, g);
	err = mu_store__commit(st, txn, err, NULL);
out:
	free(all.v);
	free(gone.v);
	return err == 1 ? 0 : err;
}

int
mu_store_prune_outside(struct mu_store *st, const uint8_t us[MU_KEY_BYTES], int64_t now,
                       int64_t keep_s, uint64_t *dropped)
{
	struct mu_outside o;
	uint64_t none;
	int err;

	if (dropped == NULL)
		dropped = &none;
	*dropped = 0;
	if (st->read_only || !st->has_frozen)
		return MU_EINVAL;
	if ((err = mu_store_outside(st, &o)) != 0)
		return err;
	for (size_t i = 0; err == 0 && i < o.n; i++)
		if (o.v[i].since <= now - keep_s &&
		    memcmp(o.v[i].key, us, MU_KEY_BYTES) != 0)
			err = prune_group(st, us, o.v[i].key, dropped);
	mu_outside_free(&o);
	return err;
}

/* --- blocking -------------------------------------------------------------------- */

int
mu_store_block(struct mu_store *st, const uint8_t key[MU_KEY_BYTES], bool on,
               int64_t now, uint64_t *dropped)
{
	uint8_t at[8];
	MDB_val k = {MU_KEY_BYTES, (void *)key}, v = {sizeof(at), at};
	struct ids ids = {0};
	MDB_stat ms;
	MDB_txn *txn;
	uint64_t none;
	int err, rc;

	if (dropped == NULL)
		dropped = &none;
	*dropped = 0;
	if (st->read_only || !st->has_frozen)
		return MU_EINVAL;
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	if (!on) {
		rc = mdb_del(txn, st->blocks, &k, NULL);
		err = mu_store__err(st, rc, "changing the blocked groups", NULL);
		return mu_store__commit(st, txn, err, NULL);
	}
	rc = mdb_stat(txn, st->blocks, &ms);
	if (rc == 0 && ms.ms_entries >= MU_BLOCKS_MAX &&
	    mdb_get(txn, st->blocks, &k, &v) != 0)
		err = MU_EFULL;
	else
		err = mu_store__err(st, rc, "reading the blocked groups", NULL);
	mu_store__put_be64(at, (uint64_t)now);
	v.mv_size = sizeof(at);
	v.mv_data = at;
	if (err == 0)
		err = mu_store__err(st, mdb_put(txn, st->blocks, &k, &v, 0),
		                    "changing the blocked groups", NULL);
	if (err == 0)
		err = del_key(st, txn, st->outside, key);
	if (err == 0)
		err = group_ids(st, txn, key, &ids);
	if (err == 0)
		err = drop_ids(st, txn, &ids, dropped);
	free(ids.v);
	err = mu_store__commit(st, txn, err, NULL);
	if (err != 0)
		*dropped = 0;
	return err;
}
