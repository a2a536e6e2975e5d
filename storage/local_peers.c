/*
 * local_peers.c - the peers table (local.h): "HOST:PORT" -> a canonical
 * msgpack map, written with msgpack-c's packer and read back with the
 * canonical reader of protocol/msgpack_read.h.
 *
 * The map's keys, in their bytewise order (absent ones are left out, as in
 * records; the counters and times are always written):
 *   added_at  int     when the peer was first added
 *   key       bin 32  the group it must prove; absent: any group
 *   last_seen int     last completed handshake, 0: never
 *   last_sync int     last completed reconciliation, 0: never
 *   reason    str     why the last dial failed; absent when empty
 *   received  uint    records received from it
 *   sent      uint    records sent to it
 *   source    str     "manual" or "learnt"
 *   state     str     the daemon's word for it; absent when empty
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "../protocol/msgpack_read.h"
#include "store_keys.h"

_Static_assert(MU_PEER_ADDR_MAX == MU_NODE_ADDR_MAX + 1,
               "every address a node record announces fits a peer");

#define STATE_MAX  (sizeof(((struct mu_peer *)0)->state) - 1)
#define REASON_MAX (MU_PEER_REASON_SIZE - 1)

static const char *
source_name(enum mu_peer_source s)
{
	return s == MU_PEER_MANUAL ? "manual" : "learnt";
}

int
mu_peer_addr_check(const char *addr, struct mu_why *why)
{
	size_t len = strnlen(addr, MU_PEER_ADDR_MAX);
	struct mu_why inner;

	if (why != NULL)
		why->text[0] = '\0';
	if (len == MU_PEER_ADDR_MAX)
		return mu_fail(why, MU_EINVAL,
		               "the peer address is longer than %d bytes: write "
		               "HOST:PORT",
		               MU_PEER_ADDR_MAX - 1);
	if (mu_rec_check_node_addr(addr, len, &inner) != 0)
		return mu_fail(why, MU_EINVAL, "peer address \"%.*s\": %s",
		               (int)(len < 80 ? len : 80), addr, mu_why_detail(&inner));
	return 0;
}

static int
pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	if (msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, s, len) != 0)
		return MU_ENOMEM;
	return 0;
}

/* Encodes p into sb (initialised by the caller). */
static int
encode(msgpack_sbuffer *sb, const struct mu_peer *p)
{
	char state[STATE_MAX + 1], reason[REASON_MAX + 1];
	msgpack_packer pk;
	bool fail;

	memcpy(state, p->state, STATE_MAX);
	state[STATE_MAX] = '\0';
	memcpy(reason, p->reason, REASON_MAX);
	reason[REASON_MAX] = '\0';
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	fail = msgpack_pack_map(&pk, 6 + p->has_key + (state[0] != '\0') +
	                                 (reason[0] != '\0')) != 0;
	fail = fail || pack_str(&pk, "added_at") != 0 ||
	       msgpack_pack_int64(&pk, p->added_at) != 0;
	if (p->has_key)
		fail = fail || pack_str(&pk, "key") != 0 ||
		       msgpack_pack_bin(&pk, MU_KEY_BYTES) != 0 ||
		       msgpack_pack_bin_body(&pk, p->key, MU_KEY_BYTES) != 0;
	fail = fail || pack_str(&pk, "last_seen") != 0 ||
	       msgpack_pack_int64(&pk, p->last_seen) != 0;
	fail = fail || pack_str(&pk, "last_sync") != 0 ||
	       msgpack_pack_int64(&pk, p->last_sync) != 0;
	if (reason[0] != '\0')
		fail =
		    fail || pack_str(&pk, "reason") != 0 || pack_str(&pk, reason) != 0;
	fail = fail || pack_str(&pk, "received") != 0 ||
	       msgpack_pack_uint64(&pk, p->received) != 0;
	fail = fail || pack_str(&pk, "sent") != 0 ||
	       msgpack_pack_uint64(&pk, p->sent) != 0;
	fail = fail || pack_str(&pk, "source") != 0 ||
	       pack_str(&pk, source_name(p->source)) != 0;
	if (state[0] != '\0')
		fail = fail || pack_str(&pk, "state") != 0 || pack_str(&pk, state) != 0;
	return fail ? MU_ENOMEM : 0;
}

static bool
is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* One map entry's value into p; MU_ECORRUPT for what we never write. */
static int
decode_field(struct mu_mp *r, const char *name, size_t nlen, struct mu_peer *p)
{
	const uint8_t *bin;
	const char *s;
	size_t len;
	int64_t *at = is(name, nlen, "added_at")    ? &p->added_at
	              : is(name, nlen, "last_seen") ? &p->last_seen
	              : is(name, nlen, "last_sync") ? &p->last_sync
	                                            : NULL;
	uint64_t *count = is(name, nlen, "received") ? &p->received
	                  : is(name, nlen, "sent")   ? &p->sent
	                                             : NULL;

	if (at != NULL)
		return mu_mp_read_int(r, at) != 0 ? MU_ECORRUPT : 0;
	if (count != NULL)
		return mu_mp_read_uint(r, count) != 0 ? MU_ECORRUPT : 0;
	if (is(name, nlen, "key")) {
		if (mu_mp_read_bin(r, &bin, &len) != 0 || len != MU_KEY_BYTES)
			return MU_ECORRUPT;
		memcpy(p->key, bin, MU_KEY_BYTES);
		p->has_key = true;
		return 0;
	}
	if (mu_mp_read_str(r, &s, &len) != 0)
		return MU_ECORRUPT;
	if (is(name, nlen, "source")) {
		if (is(s, len, "manual"))
			p->source = MU_PEER_MANUAL;
		else if (is(s, len, "learnt"))
			p->source = MU_PEER_LEARNT;
		else
			return MU_ECORRUPT;
		return 0;
	}
	if (is(name, nlen, "state") && len <= STATE_MAX) {
		memcpy(p->state, s, len);
		p->state[len] = '\0';
		return 0;
	}
	if (is(name, nlen, "reason") && len <= REASON_MAX) {
		memcpy(p->reason, s, len);
		p->reason[len] = '\0';
		return 0;
	}
	return MU_ECORRUPT;
}

static int
decode(const MDB_val *k, const MDB_val *v, struct mu_peer *p)
{
	struct mu_mp r;
	const char *name;
	size_t nlen;
	uint32_t n;
	int err;

	memset(p, 0, sizeof(*p));
	if (k->mv_size == 0 || k->mv_size >= MU_PEER_ADDR_MAX)
		return MU_ECORRUPT;
	memcpy(p->addr, k->mv_data, k->mv_size);
	p->addr[k->mv_size] = '\0';
	mu_mp_init(&r, v->mv_data, v->mv_size);
	if (mu_mp_read_map(&r, &n) != 0)
		return MU_ECORRUPT;
	while (n-- > 0) {
		if (mu_mp_read_str(&r, &name, &nlen) != 0)
			return MU_ECORRUPT;
		err = decode_field(&r, name, nlen, p);
		if (err != 0)
			return err;
	}
	if (mu_mp_left(&r) != 0 || p->source == 0)
		return MU_ECORRUPT;
	return 0;
}

/* Reads the peer at addr within txn: 0, MU_ENOTFOUND or an error. */
static int
get_peer(struct mu_store *st, MDB_txn *txn, const char *addr, struct mu_peer *p,
         struct mu_why *why)
{
	MDB_val k = {strlen(addr), (void *)addr}, v;
	int rc = mdb_get(txn, st->peers, &k, &v);

	if (rc != 0)
		return mu_store__err(st, rc, "reading the peers", why);
	if (decode(&k, &v, p) != 0)
		return mu_fail(why, MU_ECORRUPT,
		               "the store at %s has a damaged entry for peer %s: "
		               "remove the peer and add it again",
		               st->dir, addr);
	return 0;
}

static int
put_peer(struct mu_store *st, MDB_txn *txn, const struct mu_peer *p, struct mu_why *why)
{
	msgpack_sbuffer sb;
	MDB_val k = {strlen(p->addr), (void *)p->addr}, v;
	int err;

	msgpack_sbuffer_init(&sb);
	err = encode(&sb, p);
	if (err != 0) {
		err = mu_fail(why, err, "storing peer %s: out of memory", p->addr);
	} else {
		v.mv_size = sb.size;
		v.mv_data = sb.data;
		err = mu_store__err(st, mdb_put(txn, st->peers, &k, &v, 0),
		                    "writing the peers", why);
	}
	msgpack_sbuffer_destroy(&sb);
	return err;
}

static int
begin_write(struct mu_store *st, MDB_txn **txn, struct mu_why *why)
{
	if (st->read_only)
		return mu_fail(why, MU_EINVAL,
		               "the store at %s was opened read-only: open it for "
		               "writing to change the peers",
		               st->dir);
	return mu_store__begin(st, true, txn, why);
}

int
mu_store_peer_add(struct mu_store *st, const char *addr, const uint8_t *key,
                  enum mu_peer_source source, int64_t now, struct mu_why *why)
{
	struct mu_peer p;
	MDB_txn *txn;
	int err;

	if ((err = mu_peer_addr_check(addr, why)) != 0)
		return err;
	if (source != MU_PEER_MANUAL && source != MU_PEER_LEARNT)
		return mu_fail(why, MU_EINVAL, "peer %s: unknown source %d", addr,
		               (int)source);
	if ((err = begin_write(st, &txn, why)) != 0)
		return err;
	err = get_peer(st, txn, addr, &p, why);
	if (err == MU_ENOTFOUND) {
		memset(&p, 0, sizeof(p));
		strcpy(p.addr, addr);
		p.source = source;
		p.added_at = now;
		err = 0;
	} else if (err == 0 && source == MU_PEER_LEARNT && p.source == MU_PEER_MANUAL) {
		/* What the user set is never overridden by what an ally says. */
		return mu_store__commit(st, txn, 0, why);
	}
	if (err == 0) {
		if (source == MU_PEER_MANUAL)
			p.source = MU_PEER_MANUAL;
		if (key != NULL) {
			p.has_key = true;
			memcpy(p.key, key, MU_KEY_BYTES);
		}
		err = put_peer(st, txn, &p, why);
	}
	return mu_store__commit(st, txn, err, why);
}

/* Begins a change of a known peer; MU_ENOTFOUND when addr cannot name one. */
static int
begin_change(struct mu_store *st, const char *addr, MDB_txn **txn)
{
	size_t len = strnlen(addr, MU_PEER_ADDR_MAX);

	if (len == 0 || len == MU_PEER_ADDR_MAX)
		return MU_ENOTFOUND;
	return begin_write(st, txn, NULL);
}

int
mu_store_peer_remove(struct mu_store *st, const char *addr)
{
	struct mu_peer q;
	MDB_txn *txn;
	MDB_val k;
	int err;

	if ((err = begin_change(st, addr, &txn)) != 0)
		return err;
	k.mv_size = strlen(addr);
	k.mv_data = (void *)addr;
	/* What its hellos said goes with it (local_hellos.c). */
	err = get_peer(st, txn, addr, &q, NULL);
	if (err == 0 && q.has_key)
		err = mu_store__hello_forget(st, txn, q.key);
	if (err == 0)
		err = mu_store__err(st, mdb_del(txn, st->peers, &k, NULL),
		                    "removing a peer", NULL);
	return mu_store__commit(st, txn, err, NULL);
}

int
mu_store_peer_update(struct mu_store *st, const struct mu_peer *p)
{
	struct mu_peer q;
	MDB_txn *txn;
	int err;

	if ((err = begin_change(st, p->addr, &txn)) != 0)
		return err;
	/* Only what the daemon observes is its to write: the key and the
	 * source stay as the user (or the learning) left them. */
	err = get_peer(st, txn, p->addr, &q, NULL);
	if (err == 0) {
		q.last_seen = p->last_seen;
		q.last_sync = p->last_sync;
		q.sent = p->sent;
		q.received = p->received;
		memcpy(q.state, p->state, STATE_MAX);
		q.state[STATE_MAX] = '\0';
		memcpy(q.reason, p->reason, REASON_MAX);
		q.reason[REASON_MAX] = '\0';
		err = put_peer(st, txn, &q, NULL);
	}
	return mu_store__commit(st, txn, err, NULL);
}

struct peers_visit {
	mu_store_peer_fn fn;
	void *ctx;
};

static int
peers_entry(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	struct peers_visit *pv = ctx;
	struct mu_peer p;
	int err;

	(void)txn;
	err = decode(k, v, &p);
	if (err == 0)
		err = pv->fn(pv->ctx, &p);
	return err;
}

int
mu_store_peers(struct mu_store *st, mu_store_peer_fn fn, void *ctx)
{
	struct peers_visit pv = {fn, ctx};

	return mu_store__read_scan(st, st->peers, NULL, 0, peers_entry, &pv,
	                           "reading the peers");
}
