/*
 * store_past.c - the past table (store_past.h): superseded revisions of
 * replaceable records, a few per address, for the merge of concurrent
 * edits. Entries are the records' bytes as signed, verified when they
 * arrived; nothing else points at them, so dropping one loses only the
 * chance to merge against it.
 */
#include <stdlib.h>
#include <string.h>

#include "store_past.h"

/* The entries of one address. Its key is a prefix of a longer address's
 * keys too ("rent" of "rents"): only keys of exactly alen + id count. */
struct scan {
	size_t alen;
	size_t n;
	/* the oldest so far, by the replacement order */
	struct mu_record oldest;
	uint8_t oldest_key[MU_STORE__PAST_KEY_MAX];
	size_t oldest_klen;
	bool have_oldest;
	struct mu_store__past *copy; /* mu_store__past_read: copies */
	bool mine;                   /* keep_one: the new record is there already */
	const uint8_t *id;
};

static int
scan_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct scan *s = ctx;
	struct mu_record rec;
	struct mu_why why = {0};
	size_t i;

	(void)txn;
	if (k->mv_size != s->alen + MU_ID_BYTES)
		return 0;
	if (s->id != NULL &&
	    memcmp((const uint8_t *)k->mv_data + s->alen, s->id, MU_ID_BYTES) == 0)
		s->mine = true;
	if (s->copy != NULL) {
		if ((i = s->copy->n) >= MU_PAST_PER_ADDR)
			return 0;
		if ((s->copy->raw[i] = malloc(v->mv_size)) == NULL)
			return MU_ENOMEM;
		memcpy(s->copy->raw[i], v->mv_data, v->mv_size);
		s->copy->len[i] = v->mv_size;
		s->copy->n++;
		return 0;
	}
	s->n++;
	/* Verified when it was kept. */
	if (mu_rec_parse(&rec, v->mv_data, v->mv_size, 0,
	                 MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK, &why) != 0)
		return MU_ECORRUPT;
	if (!s->have_oldest || mu_rec_newer(&rec, &s->oldest) < 0) {
		s->oldest = rec;
		memcpy(s->oldest_key, k->mv_data, k->mv_size);
		s->oldest_klen = k->mv_size;
		s->have_oldest = true;
	}
	return 0;
}

int
mu_store__past_err(struct mu_store *st, int rc, struct mu_why *why)
{
	if (rc == MU_ENOMEM)
		return mu_fail(why, rc, "reading the store: out of memory");
	if (rc < 0)
		return mu_fail(why, rc,
		               "the past revisions in the store at %s are damaged: "
		               "run `muster check`",
		               st->dir);
	return 0;
}

static int
scan(struct mu_store *st, MDB_txn *txn, const uint8_t *akey, size_t alen,
     struct scan *s, struct mu_why *why)
{
	MDB_val k = {alen, (void *)akey};

	s->alen = alen;
	return mu_store__past_err(st,
	                          mu_store__scan(st, txn, st->past, &k, alen,
	                                         scan_entry, s,
	                                         "reading the past revisions"),
	                          why);
}

int
mu_store__past_keep(struct mu_store *st, MDB_txn *txn, const struct mu_record *rec,
                    struct mu_why *why)
{
	uint8_t key[MU_STORE__PAST_KEY_MAX];
	struct scan s;
	struct mu_addr addr;
	MDB_stat ms;
	MDB_val k, v = {rec->raw_len, (void *)rec->raw};
	size_t alen;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = mdb_stat(txn, st->past, &ms);
	if (rc != 0)
		return mu_store__err(st, rc, "reading the past revisions", why);
	if (ms.ms_entries >= MU_PAST_MAX)
		return 0;
	mu_rec_addr(rec, &addr);
	alen = mu_store__addr_key(key, &addr);
	s.id = rec->id;
	if ((rc = scan(st, txn, key, alen, &s, why)) != 0)
		return rc;
	if (s.mine)
		return 0;
	if (s.n >= MU_PAST_PER_ADDR) {
		if (mu_rec_newer(rec, &s.oldest) < 0)
			return 0;
		k.mv_size = s.oldest_klen;
		k.mv_data = s.oldest_key;
		rc = mdb_del(txn, st->past, &k, NULL);
		if (rc != 0)
			return mu_store__err(st, rc, "removing a past revision", why);
	}
	memcpy(key + alen, rec->id, MU_ID_BYTES);
	k.mv_size = alen + MU_ID_BYTES;
	k.mv_data = key;
	rc = mdb_put(txn, st->past, &k, &v, 0);
	return rc != 0 ? mu_store__err(st, rc, "writing a past revision", why) : 0;
}

/* Collects the keys of one address to delete after the scan. */
struct drop {
	size_t alen, n;
	uint8_t keys[2 * MU_PAST_PER_ADDR][MU_STORE__PAST_KEY_MAX];
};

static int
drop_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct drop *d = ctx;

	(void)txn;
	(void)v;
	if (k->mv_size != d->alen + MU_ID_BYTES)
		return 0;
	if (d->n >= sizeof(d->keys) / sizeof(d->keys[0]))
		return 1;
	memcpy(d->keys[d->n++], k->mv_data, k->mv_size);
	return 0;
}

int
mu_store__past_drop(struct mu_store *st, MDB_txn *txn, const uint8_t *akey, size_t alen,
                    struct mu_why *why)
{
	struct drop d;
	MDB_val k = {alen, (void *)akey};
	size_t i;
	int rc;

	d.alen = alen;
	d.n = 0;
	rc = mu_store__scan(st, txn, st->past, &k, alen, drop_entry, &d,
	                    "reading the past revisions");
	if (rc < 0)
		return mu_fail(why, rc, "reading the past revisions of the store at %s",
		               st->dir);
	for (i = 0; i < d.n; i++) {
		k.mv_size = alen + MU_ID_BYTES;
		k.mv_data = d.keys[i];
		rc = mdb_del(txn, st->past, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mu_store__err(st, rc, "removing a past revision", why);
	}
	return 0;
}

int
mu_store__past_read(struct mu_store *st, MDB_txn *txn, const uint8_t *akey, size_t alen,
                    struct mu_store__past *out, struct mu_why *why)
{
	struct scan s;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	s.copy = out;
	rc = scan(st, txn, akey, alen, &s, why);
	if (rc != 0)
		mu_store__past_free(out);
	return rc;
}

void
mu_store__past_free(struct mu_store__past *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->raw[i]);
	p->n = 0;
}
