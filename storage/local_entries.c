/*
 * local_entries.c - the personal entries table (entries.h).
 *
 * entries  'e' || len (1) || target address key || pos (8)  -> entry value
 *          'r' || receipt hash (32)                         -> the 'e' key
 *
 * The length byte keeps one target's entries a prefix scan of their own: an
 * address key is followed by a d of any length, so without it the entries
 * of d "a" would be a prefix of those of d "ab".
 *
 * Entry value: version 1 (1) | type (1) | flags (1: bit 0 going, bit 1
 * show_name) | party (4) | created_at (8) | ends_at (8) | receipt hash (32)
 * | name, contact, comment: each a 2-byte length and its bytes. Integers
 * big-endian.
 *
 * Like outside and blocks, the table came without a new schema: no record
 * depends on it. The first write open makes it; a read-only open of an
 * older store reads it as empty (store.c).
 */
#include "entries.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_keys.h"

#define ENTRY_VERSION 1
#define HASH_BYTES    32 /* of a receipt secret */
#define HEAD_BYTES    (3 + 4 + 8 + 8 + HASH_BYTES)
#define KEY_MAX       (2 + MU_STORE__ADDR_KEY_MAX + 8)
#define RKEY_BYTES    (1 + HASH_BYTES)
#define FLAG_GOING    1u
#define FLAG_SHOW     2u
/* Domain separation: a receipt's hash is of no use anywhere else. */
#define RECEIPT_CTX "muster-receipt-v1"

void
mu_entry_fix(struct mu_entry *e)
{
	e->target.d.ptr = e->d;
	e->target.d.len = strlen(e->d);
}

void
mu_receipt_to_text(char out[MU_RECEIPT_TEXT_SIZE],
                   const uint8_t secret[MU_RECEIPT_BYTES])
{
	sodium_bin2hex(out, MU_RECEIPT_TEXT_SIZE, secret, MU_RECEIPT_BYTES);
}

int
mu_receipt_from_text(uint8_t secret[MU_RECEIPT_BYTES], const char *s)
{
	size_t n = 0;

	if (strlen(s) != 2 * MU_RECEIPT_BYTES ||
	    strspn(s, "0123456789abcdef") != 2 * MU_RECEIPT_BYTES)
		return MU_EINVAL;
	if (sodium_hex2bin(secret, MU_RECEIPT_BYTES, s, 2 * MU_RECEIPT_BYTES, NULL, &n,
	                   NULL) != 0 ||
	    n != MU_RECEIPT_BYTES)
		return MU_EINVAL;
	return 0;
}

static void
receipt_key(uint8_t out[RKEY_BYTES], const uint8_t secret[MU_RECEIPT_BYTES])
{
	out[0] = 'r';
	crypto_generichash(out + 1, HASH_BYTES, secret, MU_RECEIPT_BYTES,
	                   (const uint8_t *)RECEIPT_CTX, sizeof(RECEIPT_CTX) - 1);
}

/* 'e' || len || address key; returns its length. */
static size_t
target_prefix(uint8_t out[KEY_MAX], const struct mu_addr *target)
{
	size_t n = mu_store__addr_key(out + 2, target);

	out[0] = 'e';
	out[1] = (uint8_t)n;
	return 2 + n;
}

static bool
fields_ok(const struct mu_entry *e)
{
	if (e->type < MU_ENTRY_RSVP || e->type > MU_ENTRY_PLEDGE)
		return false;
	if (e->type == MU_ENTRY_RSVP && (e->party < 1 || e->party > MU_ENTRY_PARTY_MAX))
		return false;
	return strlen(e->name) <= MU_ENTRY_NAME_MAX &&
	       strlen(e->contact) <= MU_ENTRY_CONTACT_MAX &&
	       strlen(e->comment) <= MU_ENTRY_COMMENT_MAX && strlen(e->d) <= MU_D_MAX;
}

static size_t
put_text(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return 2 + n;
}

/* The value of e with receipt hash h into out; returns its length. */
static size_t
encode(uint8_t *out, const struct mu_entry *e, const uint8_t *h)
{
	uint32_t party = e->party;
	size_t n;

	out[0] = ENTRY_VERSION;
	out[1] = (uint8_t)e->type;
	out[2] =
	    (uint8_t)((e->going ? FLAG_GOING : 0) | (e->show_name ? FLAG_SHOW : 0));
	out[3] = (uint8_t)(party >> 24);
	out[4] = (uint8_t)(party >> 16);
	out[5] = (uint8_t)(party >> 8);
	out[6] = (uint8_t)party;
	mu_store__put_be64(out + 7, (uint64_t)e->created_at);
	mu_store__put_be64(out + 15, (uint64_t)e->ends_at);
	memcpy(out + 23, h, HASH_BYTES);
	n = HEAD_BYTES;
	n += put_text(out + n, e->name);
	n += put_text(out + n, e->contact);
	n += put_text(out + n, e->comment);
	return n;
}

static int
get_text(const uint8_t *p, size_t len, size_t *off, char *out, size_t max)
{
	size_t n;

	if (len - *off < 2)
		return MU_ECORRUPT;
	n = (size_t)p[*off] << 8 | p[*off + 1];
	if (n > max || len - *off - 2 < n || memchr(p + *off + 2, '\0', n) != NULL)
		return MU_ECORRUPT;
	memcpy(out, p + *off + 2, n);
	out[n] = '\0';
	*off += 2 + n;
	return 0;
}

/* Reads an 'e' entry into e and its receipt hash into h (may be NULL). */
static int
decode(const MDB_val *k, const MDB_val *v, struct mu_entry *e, uint8_t *h)
{
	const uint8_t *kp = k->mv_data, *p = v->mv_data;
	size_t alen, off = HEAD_BYTES;
	int err;

	memset(e, 0, sizeof(*e));
	if (k->mv_size < 2 || kp[0] != 'e')
		return MU_ECORRUPT;
	alen = kp[1];
	if (alen < 1 + MU_KEY_BYTES || alen > MU_STORE__ADDR_KEY_MAX ||
	    k->mv_size != 2 + alen + 8 || v->mv_size < HEAD_BYTES ||
	    p[0] != ENTRY_VERSION || p[1] < MU_ENTRY_RSVP || p[1] > MU_ENTRY_PLEDGE)
		return MU_ECORRUPT;
	e->target.kind = (enum mu_kind)kp[2];
	memcpy(e->target.group, kp + 3, MU_KEY_BYTES);
	memcpy(e->d, kp + 3 + MU_KEY_BYTES, alen - 1 - MU_KEY_BYTES);
	if (memchr(e->d, '\0', alen - 1 - MU_KEY_BYTES) != NULL)
		return MU_ECORRUPT;
	mu_entry_fix(e);
	e->pos = mu_store__get_be64(kp + 2 + alen);
	e->type = (enum mu_entry_type)p[1];
	e->going = (p[2] & FLAG_GOING) != 0;
	e->show_name = (p[2] & FLAG_SHOW) != 0;
	e->party =
	    (uint32_t)p[3] << 24 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
	e->created_at = (int64_t)mu_store__get_be64(p + 7);
	e->ends_at = (int64_t)mu_store__get_be64(p + 15);
	if (h != NULL)
		memcpy(h, p + 23, HASH_BYTES);
	if ((err = get_text(p, v->mv_size, &off, e->name, MU_ENTRY_NAME_MAX)) != 0 ||
	    (err = get_text(p, v->mv_size, &off, e->contact, MU_ENTRY_CONTACT_MAX)) !=
	        0 ||
	    (err = get_text(p, v->mv_size, &off, e->comment, MU_ENTRY_COMMENT_MAX)) !=
	        0)
		return err;
	return off == v->mv_size ? 0 : MU_ECORRUPT;
}

static int
need_table(struct mu_store *st, bool write)
{
	if (write && st->read_only)
		return MU_EINVAL;
	return st->has_entries ? 0 : MU_ENOTFOUND;
}

/* The next position of the target whose prefix is pre (plen bytes), and
 * MU_EFULL when the target or the table is full. */
static int
next_pos(struct mu_store *st, MDB_txn *txn, const uint8_t *pre, size_t plen,
         uint64_t *pos)
{
	uint8_t key[KEY_MAX];
	MDB_cursor *cur;
	MDB_val k = {plen + 8, key}, v;
	MDB_stat ms;
	uint64_t n = 0;
	int rc;

	if ((rc = mdb_stat(txn, st->entries, &ms)) != 0)
		return mu_store__err(st, rc, "counting the entries", NULL);
	if (ms.ms_entries / 2 >= MU_ENTRIES_MAX)
		return MU_EFULL;
	memcpy(key, pre, plen);
	memset(key + plen, 0xff, 8);
	if ((rc = mdb_cursor_open(txn, st->entries, &cur)) != 0)
		return mu_store__err(st, rc, "reading the entries", NULL);
	*pos = 1;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
	                        : mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (rc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, pre, plen) == 0)
		*pos = mu_store__get_be64((const uint8_t *)k.mv_data + plen) + 1;
	/* A target's entries have distinct positions from 1, so the last one
	 * bounds their count: only a target that reached the cap is counted. */
	if (*pos > MU_ENTRIES_PER_TARGET) {
		k.mv_size = plen;
		k.mv_data = (void *)pre;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == 0 && k.mv_size == plen + 8 &&
		       memcmp(k.mv_data, pre, plen) == 0 && n < MU_ENTRIES_PER_TARGET) {
			n++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mu_store__err(st, rc, "reading the entries", NULL);
	return n >= MU_ENTRIES_PER_TARGET ? MU_EFULL : 0;
}

/* Puts e (e->pos set) with receipt hash h under both keys. */
static int
put_both(struct mu_store *st, MDB_txn *txn, const struct mu_entry *e, const uint8_t *h)
{
	uint8_t key[KEY_MAX], rkey[RKEY_BYTES],
	    val[HEAD_BYTES + 6 + MU_ENTRY_NAME_MAX + MU_ENTRY_CONTACT_MAX +
	        MU_ENTRY_COMMENT_MAX];
	size_t plen = target_prefix(key, &e->target);
	MDB_val k = {plen + 8, key}, v = {0, val}, rk = {RKEY_BYTES, rkey};
	int rc;

	mu_store__put_be64(key + plen, e->pos);
	v.mv_size = encode(val, e, h);
	rc = mdb_put(txn, st->entries, &k, &v, 0);
	rkey[0] = 'r';
	memcpy(rkey + 1, h, HASH_BYTES);
	if (rc == 0)
		rc = mdb_put(txn, st->entries, &rk, &k, 0);
	return mu_store__err(st, rc, "writing an entry", NULL);
}

int
mu_entry_add(struct mu_store *st, struct mu_entry *e, uint8_t secret[MU_RECEIPT_BYTES])
{
	uint8_t pre[KEY_MAX], rkey[RKEY_BYTES];
	MDB_txn *txn;
	size_t plen;
	int err;

	if ((err = need_table(st, true)) != 0)
		return err;
	mu_entry_fix(e);
	if (!fields_ok(e))
		return MU_EINVAL;
	randombytes_buf(secret, MU_RECEIPT_BYTES);
	receipt_key(rkey, secret);
	plen = target_prefix(pre, &e->target);
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	err = next_pos(st, txn, pre, plen, &e->pos);
	if (err == 0)
		err = put_both(st, txn, e, rkey + 1);
	return mu_store__commit(st, txn, err, NULL);
}

/* Finds the entry of a receipt in txn: its 'e' key into key (KEY_MAX). */
static int
find(struct mu_store *st, MDB_txn *txn, const uint8_t secret[MU_RECEIPT_BYTES],
     uint8_t key[KEY_MAX], MDB_val *k, MDB_val *v, struct mu_entry *e)
{
	uint8_t rkey[RKEY_BYTES], h[HASH_BYTES];
	MDB_val rk = {RKEY_BYTES, rkey}, ek;
	int err;

	receipt_key(rkey, secret);
	err = mu_store__err(st, mdb_get(txn, st->entries, &rk, &ek), "reading an entry",
	                    NULL);
	if (err != 0)
		return err;
	if (ek.mv_size > KEY_MAX)
		return MU_ECORRUPT;
	memcpy(key, ek.mv_data, ek.mv_size);
	k->mv_size = ek.mv_size;
	k->mv_data = key;
	err = mu_store__err(st, mdb_get(txn, st->entries, k, v), "reading an entry",
	                    NULL);
	if (err == MU_ENOTFOUND)
		return MU_ECORRUPT; /* a receipt naming no entry */
	if (err == 0)
		err = decode(k, v, e, h);
	if (err == 0 && memcmp(h, rkey + 1, sizeof(h)) != 0)
		err = MU_ECORRUPT;
	return err;
}

int
mu_entry_get(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES],
             struct mu_entry *e)
{
	uint8_t key[KEY_MAX];
	MDB_val k, v;
	MDB_txn *txn;
	int err;

	if ((err = need_table(st, false)) != 0)
		return err;
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = find(st, txn, secret, key, &k, &v, e);
	mdb_txn_abort(txn);
	return err;
}

int
mu_entry_change(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES],
                struct mu_entry *e)
{
	uint8_t key[KEY_MAX], pre[KEY_MAX], rkey[RKEY_BYTES];
	struct mu_entry old;
	MDB_val k, v;
	MDB_txn *txn;
	size_t plen;
	int err;

	if ((err = need_table(st, true)) != 0)
		return err;
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	err = find(st, txn, secret, key, &k, &v, &old);
	if (err == 0) {
		e->type = old.type;
		e->target = old.target;
		memcpy(e->d, old.d, sizeof(e->d));
		mu_entry_fix(e);
		e->pos = old.pos;
		e->created_at = old.created_at;
		if (!fields_ok(e))
			err = MU_EINVAL;
	}
	if (err == 0 && e->type == MU_ENTRY_RSVP && e->going && !old.going) {
		err = mu_store__err(st, mdb_del(txn, st->entries, &k, NULL),
		                    "moving an entry", NULL);
		plen = target_prefix(pre, &e->target);
		if (err == 0)
			err = next_pos(st, txn, pre, plen, &e->pos);
	}
	if (err == 0) {
		receipt_key(rkey, secret);
		err = put_both(st, txn, e, rkey + 1);
	}
	return mu_store__commit(st, txn, err, NULL);
}

/* Deletes the entry at k, value v, and its receipt. */
static int
del_both(struct mu_store *st, MDB_txn *txn, MDB_val *k, const MDB_val *v)
{
	uint8_t rkey[RKEY_BYTES];
	MDB_val rk = {RKEY_BYTES, rkey};
	int rc;

	if (v->mv_size < HEAD_BYTES)
		return MU_ECORRUPT;
	rkey[0] = 'r';
	memcpy(rkey + 1, (const uint8_t *)v->mv_data + 23, HASH_BYTES);
	rc = mdb_del(txn, st->entries, &rk, NULL);
	if (rc == 0)
		rc = mdb_del(txn, st->entries, k, NULL);
	return mu_store__err(st, rc, "deleting an entry", NULL);
}

int
mu_entry_withdraw(struct mu_store *st, const uint8_t secret[MU_RECEIPT_BYTES])
{
	uint8_t key[KEY_MAX];
	struct mu_entry e;
	MDB_val k, v;
	MDB_txn *txn;
	int err;

	if ((err = need_table(st, true)) != 0)
		return err;
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	err = find(st, txn, secret, key, &k, &v, &e);
	if (err == 0)
		err = del_both(st, txn, &k, &v);
	return mu_store__commit(st, txn, err, NULL);
}

int
mu_entry_remove(struct mu_store *st, const struct mu_addr *target, uint64_t pos)
{
	uint8_t key[KEY_MAX];
	size_t plen = target_prefix(key, target);
	MDB_val k = {plen + 8, key}, v;
	MDB_txn *txn;
	int err;

	if ((err = need_table(st, true)) != 0)
		return err;
	mu_store__put_be64(key + plen, pos);
	if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
		return err;
	err = mu_store__err(st, mdb_get(txn, st->entries, &k, &v), "reading an entry",
	                    NULL);
	if (err == 0)
		err = del_both(st, txn, &k, &v);
	return mu_store__commit(st, txn, err, NULL);
}

struct visit {
	mu_entry_fn fn;
	void *ctx;
};

static int
visit_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct visit *vi = ctx;
	struct mu_entry e;
	int err;

	(void)txn;
	if ((err = decode(k, v, &e, NULL)) != 0)
		return err;
	return vi->fn(vi->ctx, &e);
}

int
mu_entries(struct mu_store *st, const struct mu_addr *target, mu_entry_fn fn, void *ctx)
{
	uint8_t pre[KEY_MAX];
	struct visit vi = {fn, ctx};
	MDB_val from = {target_prefix(pre, target), pre};

	if (!st->has_entries)
		return 0;
	return mu_store__read_scan(st, st->entries, &from, from.mv_size, visit_entry,
	                           &vi, "reading the entries");
}

/* One round of the expiry: up to EXPIRE_ROUND keys found first, then
 * deleted, so that no cursor walks a table being changed under it. */
#define EXPIRE_ROUND 256

struct expire {
	int64_t now, keep_s, end; /* end: INT64_MIN, each entry's own */
	uint8_t keys[EXPIRE_ROUND][KEY_MAX];
	size_t lens[EXPIRE_ROUND];
	uint8_t hashes[EXPIRE_ROUND][HASH_BYTES];
	size_t n;
};

static int
expire_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct expire *x = ctx;
	struct mu_entry e;
	int64_t end;
	int err;

	(void)txn;
	if ((err = decode(k, v, &e, x->hashes[x->n])) != 0)
		return err;
	end = x->end != INT64_MIN ? x->end : e.ends_at;
	if (end > x->now - x->keep_s)
		return 0;
	memcpy(x->keys[x->n], k->mv_data, k->mv_size);
	x->lens[x->n++] = k->mv_size;
	return x->n == EXPIRE_ROUND ? 1 : 0;
}

int
mu_entries_expire(struct mu_store *st, const struct mu_addr *target, int64_t end,
                  int64_t now, int64_t keep_s, uint64_t *removed)
{
	struct expire *xp; /* large: not on the stack */
	uint8_t pre[KEY_MAX] = {'e'};
	MDB_val from = {target != NULL ? target_prefix(pre, target) : 1, pre};
	MDB_txn *txn;
	uint64_t total = 0;
	int err;

	if (removed != NULL)
		*removed = 0;
	if ((err = need_table(st, true)) != 0)
		return err == MU_ENOTFOUND ? 0 : err;
	if ((xp = malloc(sizeof(*xp))) == NULL)
		return MU_ENOMEM;
	do {
		memset(xp, 0, sizeof(*xp));
		xp->now = now;
		xp->keep_s = keep_s;
		xp->end = target != NULL ? end : INT64_MIN;
		if ((err = mu_store__begin(st, true, &txn, NULL)) != 0)
			break;
		err = mu_store__scan(st, txn, st->entries, &from, from.mv_size,
		                     expire_entry, xp, "reading the entries");
		if (err == 1)
			err = 0;
		for (size_t i = 0; err == 0 && i < xp->n; i++) {
			uint8_t rkey[RKEY_BYTES];
			MDB_val rk = {RKEY_BYTES, rkey}, k = {xp->lens[i], xp->keys[i]};

			rkey[0] = 'r';
			memcpy(rkey + 1, xp->hashes[i], HASH_BYTES);
			err = mu_store__err(st, mdb_del(txn, st->entries, &rk, NULL),
			                    "deleting an expired entry", NULL);
			if (err == 0)
				err = mu_store__err(st,
				                    mdb_del(txn, st->entries, &k, NULL),
				                    "deleting an expired entry", NULL);
		}
		if (err == 0 && xp->n == 0) {
			mdb_txn_abort(txn);
			break;
		}
		if ((err = mu_store__commit(st, txn, err, NULL)) != 0)
			break;
		total += xp->n;
	} while (xp->n == EXPIRE_ROUND);
	free(xp);
	if (removed != NULL)
		*removed = total;
	return err;
}

struct targets {
	mu_entry_target_fn fn;
	void *ctx;
	uint8_t last[KEY_MAX];
	size_t last_len;
};

static int
target_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct targets *t = ctx;
	struct mu_entry e;
	int err;

	(void)txn;
	if ((err = decode(k, v, &e, NULL)) != 0)
		return err;
	if (t->last_len == k->mv_size - 8 &&
	    memcmp(t->last, k->mv_data, t->last_len) == 0)
		return 0;
	t->last_len = k->mv_size - 8;
	memcpy(t->last, k->mv_data, t->last_len);
	return t->fn(t->ctx, &e);
}

int
mu_entries_targets(struct mu_store *st, mu_entry_target_fn fn, void *ctx)
{
	struct targets t = {.fn = fn, .ctx = ctx};
	MDB_val from = {1, (void *)"e"};

	if (!st->has_entries)
		return 0;
	return mu_store__read_scan(st, st->entries, &from, 1, target_entry, &t,
	                           "reading the entries");
}

struct echeck {
	struct mu_store *st;
	mu_store__problem_text_fn fn;
	void *ctx;
	uint64_t *count;
};

static int
check_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct echeck *c = ctx;
	const uint8_t *kp = k->mv_data;
	uint8_t h[HASH_BYTES], rkey[RKEY_BYTES];
	struct mu_entry e;
	MDB_val rk = {RKEY_BYTES, rkey}, back;
	int rc;

	(*c->count)++;
	if (k->mv_size > 0 && kp[0] == 'r') {
		if (k->mv_size != RKEY_BYTES)
			return c->fn(c->ctx, "a receipt key of the wrong size");
		rc = mdb_get(txn, c->st->entries, (MDB_val *)v, &back);
		if (rc == MDB_NOTFOUND)
			return c->fn(c->ctx, "a receipt names no entry");
		if (rc != 0)
			return mu_store__err(c->st, rc, "checking the entries", NULL);
		if (back.mv_size < HEAD_BYTES ||
		    memcmp((const uint8_t *)back.mv_data + 23, kp + 1, HASH_BYTES) != 0)
			return c->fn(c->ctx,
			             "a receipt names an entry of another receipt");
		return 0;
	}
	if (decode(k, v, &e, h) != 0)
		return c->fn(c->ctx, "an entry is malformed");
	rkey[0] = 'r';
	memcpy(rkey + 1, h, HASH_BYTES);
	rc = mdb_get(txn, c->st->entries, &rk, &back);
	if (rc == MDB_NOTFOUND)
		return c->fn(c->ctx, "an entry has no receipt");
	if (rc != 0)
		return mu_store__err(c->st, rc, "checking the entries", NULL);
	if (back.mv_size != k->mv_size ||
	    memcmp(back.mv_data, k->mv_data, k->mv_size) != 0)
		return c->fn(c->ctx, "an entry's receipt names another entry");
	return 0;
}

int
mu_store__entries_check(struct mu_store *st, MDB_txn *txn, mu_store__problem_text_fn fn,
                        void *ctx, uint64_t *count)
{
	struct echeck c = {st, fn, ctx, count};

	if (!st->has_entries)
		return 0;
	return mu_store__scan(st, txn, st->entries, NULL, 0, check_entry, &c,
	                      "checking the entries");
}
