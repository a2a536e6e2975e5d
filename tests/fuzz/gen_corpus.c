/*
 * gen_corpus - writes the seed corpus of every fuzz target:
 *
 *   gen_corpus DIR    writes DIR/<target>/<name> for each seed
 *
 * Every seed is a valid input: real records, streams, frames, handshakes,
 * reconciliations and sync sessions made by muster's own code with the
 * fixed keys of fuzz_common, so that the targets (which use the same keys)
 * get far with them. `make fuzz-corpus` runs it into tests/fuzz/corpus;
 * the output is the same on every run, and it is checked in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "fuzz_node.h"
#include "protocol/export.h"
#include "protocol/wire.h"
#include "storage/local.h"

static const char *root;
static struct fz_records R;

static void
die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void
ok(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", what, mu_strerror(rc));
		exit(1);
	}
}

static void
save(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("cannot make a directory");
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0)
		die("cannot write a seed");
}

static void
save_buf(const char *target, const char *name, const struct mu_buf *b)
{
	save(target, name, b->data, b->len);
}

/* --- record and export ----------------------------------------------------- */

static void
records(void)
{
	static const char *const names[] = {
	    "profile-node",   "profile-peer", "cause",  "event-full",  "event-allday",
	    "alliance-1",     "alliance-2",   "node",   "delete-addr", "delete-id",
	    "cause-stranger", "petition",     "pledge", "rsvp",        "tally",
	    "signatures",     "pledged",
	};

	for (size_t i = 0; i < R.n && i < sizeof(names) / sizeof(names[0]); i++)
		save("record", names[i], R.bytes[i], R.len[i]);
}

static void
exports(void)
{
	struct mu_buf s = MU_BUF_INIT;

	ok(mu_buf_append(&s, mu_export_magic, MU_EXPORT_MAGIC_LEN), "export");
	save_buf("export", "empty", &s);
	ok(mu_buf_append(&s, R.bytes[2], R.len[2]), "export");
	save_buf("export", "one", &s);
	for (size_t i = 0; i < R.n; i++)
		if (i != 2)
			ok(mu_buf_append(&s, R.bytes[i], R.len[i]), "export");
	save_buf("export", "all", &s);
	s.len -= 7;
	save_buf("export", "truncated", &s);
	mu_buf_free(&s);
}

/* --- frames and handshakes ------------------------------------------------- */

static void
hello(struct mu_buf *out, bool both)
{
	struct mu_scope *sc = mu_scope_new();
	struct fz_key k;

	if (sc == NULL)
		die("memory");
	fz_key(&k, FZ_NODE);
	ok(mu_scope_add(sc, k.pk), "scope");
	if (both) {
		fz_key(&k, FZ_PEER);
		ok(mu_scope_add(sc, k.pk), "scope");
	}
	ok(mu_wire_encode_hello(out, "fuzz-peer/1", 11, sc), "hello");
	mu_scope_free(sc);
}

/* One fuzz_frame op: encrypt (op even) or raw (op odd). */
static void
frame_op(struct mu_buf *in, uint8_t op, const uint8_t *p, size_t n)
{
	struct mu_buf piece = MU_BUF_INIT;

	ok(mu_buf_push(&piece, op), "frame");
	ok(mu_buf_append(&piece, p, n), "frame");
	ok(fz_put(in, piece.data, piece.len), "frame");
	mu_buf_free(&piece);
}

static void
frames(void)
{
	struct mu_buf in = MU_BUF_INIT, msg = MU_BUF_INIT;

	hello(&msg, true);
	for (int role = 0; role < 2; role++) {
		in.len = 0;
		ok(mu_buf_push(&in, (uint8_t)role), "frame");
		frame_op(&in, 0, msg.data, msg.len);
		frame_op(&in, 2 * 7, R.bytes[3], R.len[3]);
		frame_op(&in, 2 * 100, (const uint8_t *)"", 0);
		save_buf("frame", role ? "initiator" : "responder", &in);
	}
	/* Then bytes no peer could authenticate. */
	frame_op(&in, 1, (const uint8_t *)"\x00\x20garbage", 9);
	save_buf("frame", "initiator-raw", &in);
	mu_buf_free(&in);
	mu_buf_free(&msg);
}

static void
handshakes(void)
{
	struct mu_buf sent[3] = {MU_BUF_INIT, MU_BUF_INIT, MU_BUF_INIT};
	struct mu_buf in = MU_BUF_INIT, msg = MU_BUF_INIT;
	struct mu_sess *node, *peer;
	static const uint8_t modes[] = {0x00, 0x02, 0x04 * 5, 0x04 * 63 + 2};
	char name[64];

	hello(&msg, true);
	for (int init = 0; init < 2; init++) {
		for (int i = 0; i < 3; i++)
			sent[i].len = 0;
		ok(fz_handshake(init, &node, &peer, sent), "handshake");
		for (size_t m = 0; m < sizeof(modes); m++) {
			in.len = 0;
			ok(mu_buf_push(&in, (uint8_t)(modes[m] | init)), "hs");
			/* What the peer sent: messages 1 and 3 to a responder,
			 * message 2 to an initiator. */
			if (init) {
				ok(mu_buf_append(&in, sent[1].data, sent[1].len), "hs");
			} else {
				ok(mu_buf_append(&in, sent[0].data, sent[0].len), "hs");
				ok(mu_buf_append(&in, sent[2].data, sent[2].len), "hs");
			}
			if (m == 0) {
				snprintf(name, sizeof(name), "%s-only",
				         init ? "initiator" : "responder");
				save_buf("handshake", name, &in);
			}
			ok(mu_sess_send(peer, msg.data, msg.len, &in), "hs");
			snprintf(name, sizeof(name), "%s-mode%02x",
			         init ? "initiator" : "responder", modes[m]);
			save_buf("handshake", name, &in);
		}
		mu_sess_free(node);
		mu_sess_free(peer);
	}
	for (int i = 0; i < 3; i++)
		mu_buf_free(&sent[i]);
	mu_buf_free(&in);
	mu_buf_free(&msg);
}

/* --- negentropy -------------------------------------------------------------- */

/* A full reconciliation between the node (holding set `set`, with frame
 * limit index lim) and a peer holding the other set: the peer's messages,
 * as fuzz_negentropy reads them. */
static void
reconciliation(bool node_init, int lim, int set, const char *name)
{
	static const size_t limits[4] = {0, MU_NEG_FRAME_MIN, 8192, 60000};
	static struct mu_neg_item a[FZ_NEG_ITEMS], b[FZ_NEG_ITEMS];
	struct mu_buf in = MU_BUF_INIT, m1 = MU_BUF_INIT, m2 = MU_BUF_INIT;
	struct mu_neg *node, *peer, *init, *resp;
	struct mu_why why;
	size_t na = fz_neg_items(a, set), nb = fz_neg_items(b, !set);
	int rounds = 0;

	ok(mu_buf_push(&in, (uint8_t)(node_init | lim << 1 | set << 3)), "neg");
	ok(mu_neg_new(&node, a, na, limits[lim]), "neg");
	ok(mu_neg_new(&peer, b, nb, MU_NEG_FRAME_MIN), "neg");
	init = node_init ? node : peer;
	resp = node_init ? peer : node;
	ok(mu_neg_initiate(init, &m1), "neg");
	while (m1.len > 0 && rounds++ < 20) {
		if (!node_init)
			ok(fz_put(&in, m1.data, m1.len), "neg");
		m2.len = 0;
		ok(mu_neg_reconcile(resp, m1.data, m1.len, &m2, NULL, NULL, NULL, &why),
		   "neg");
		if (node_init)
			ok(fz_put(&in, m2.data, m2.len), "neg");
		m1.len = 0;
		ok(mu_neg_reconcile(init, m2.data, m2.len, &m1, NULL, NULL, NULL, &why),
		   "neg");
	}
	save_buf("negentropy", name, &in);
	mu_neg_free(node);
	mu_neg_free(peer);
	mu_buf_free(&in);
	mu_buf_free(&m1);
	mu_buf_free(&m2);
}

static void
negentropy(void)
{
	reconciliation(true, 0, 0, "initiator");
	reconciliation(true, 1, 1, "initiator-4096");
	reconciliation(false, 0, 0, "responder");
	reconciliation(false, 1, 0, "responder-4096");
	reconciliation(false, 3, 1, "responder-60000");
}

/* --- dispatch ------------------------------------------------------------------ */

static void
put_msg(struct mu_buf *in, struct mu_buf *msg)
{
	ok(fz_put(in, msg->data, msg->len), "dispatch");
	msg->len = 0;
}

static void
dispatch(void)
{
	struct mu_buf in = MU_BUF_INIT, msg = MU_BUF_INIT, neg = MU_BUF_INIT;
	struct mu_wire_blob blobs[MU_WIRE_RECS_MAX];
	struct mu_neg_item *items = NULL;
	struct mu_scope *both;
	struct mu_neg *ng;
	struct fz_node f;
	struct mu_why why;
	uint8_t ids[4][32];
	size_t nitems, i;

	ok(fz_node_open(&f, &why), why.text);
	both = mu_scope_new();
	if (both == NULL)
		die("memory");
	mu_scope_intersect(both, f.node.scope, f.node.scope);
	ok(mu_store_neg_items(f.node.store, both, &items, NULL, &nitems), "items");

	/* The node accepted: the peer says hello, opens a reconciliation
	 * over all but two of the node's records, asks for two and sends
	 * its records (the stranger's too, outside the scope). */
	ok(mu_buf_push(&in, 0), "dispatch");
	hello(&msg, true);
	put_msg(&in, &msg);
	save_buf("dispatch", "hello", &in);
	ok(mu_neg_new(&ng, items + 2, nitems - 2, MU_WIRE_NEG_MAX), "neg");
	ok(mu_neg_initiate(ng, &neg), "neg");
	ok(mu_wire_encode_neg(&msg, true, neg.data, neg.len), "neg");
	put_msg(&in, &msg);
	mu_neg_free(ng);
	memcpy(ids[0], items[0].id, 32);
	memcpy(ids[1], items[1].id, 32);
	memset(ids[2], 0xee, 32);
	ok(mu_wire_encode_want(&msg, 7, (const uint8_t(*)[32])ids, 3), "want");
	put_msg(&in, &msg);
	for (i = 0; i < R.n && i < MU_WIRE_RECS_MAX; i++) {
		blobs[i].ptr = R.bytes[i];
		blobs[i].len = R.len[i];
	}
	ok(mu_wire_encode_recs(&msg, 0, blobs, i), "recs");
	put_msg(&in, &msg);
	ok(mu_wire_encode_ack(&msg, 1), "ack");
	put_msg(&in, &msg);
	save_buf("dispatch", "accepted-session", &in);

	/* A few records, verified inline, and one that is altered. */
	in.len = 1;
	hello(&msg, false);
	put_msg(&in, &msg);
	ok(mu_wire_encode_recs(&msg, 3, blobs + 2, 3), "recs");
	put_msg(&in, &msg);
	neg.len = 0;
	ok(mu_buf_append(&neg, R.bytes[3], R.len[3]), "tamper");
	neg.data[neg.len / 2] ^= 1;
	blobs[0].ptr = neg.data;
	blobs[0].len = neg.len;
	ok(mu_wire_encode_recs(&msg, 4, blobs, 1), "recs");
	put_msg(&in, &msg);
	save_buf("dispatch", "records-and-tampered", &in);

	/* The node accepted; the peer's hello gives only the digest of a
	 * scope the node never had: a neg-open waits for the full hello
	 * that follows, and the peer asks for the node's with rehello. */
	in.len = 1;
	{
		struct mu_scope *sc = mu_scope_new();

		if (sc == NULL)
			die("memory");
		mu_scope_intersect(sc, f.node.scope, f.node.scope);
		ok(mu_wire_encode_hello_digest(&msg, "fuzz-peer/1", 11, sc, false, 0),
		   "hello");
		put_msg(&in, &msg);
		ok(mu_neg_new(&ng, items, nitems, MU_WIRE_NEG_MAX), "neg");
		neg.len = 0;
		ok(mu_neg_initiate(ng, &neg), "neg");
		mu_neg_free(ng);
		ok(mu_wire_encode_neg(&msg, true, neg.data, neg.len), "neg");
		put_msg(&in, &msg);
		ok(mu_wire_encode_hello_digest(&msg, "fuzz-peer/1", 11, sc, true, 0),
		   "hello");
		put_msg(&in, &msg);
		ok(mu_wire_encode_rehello(&msg), "rehello");
		put_msg(&in, &msg);
		mu_scope_free(sc);
	}
	save_buf("dispatch", "hello-by-digest", &in);

	/* The node dialed: after the hello it initiates; the peer, holding
	 * all but two of the records, answers. */
	in.len = 0;
	ok(mu_buf_push(&in, 1), "dispatch");
	hello(&msg, true);
	put_msg(&in, &msg);
	{
		struct mu_buf first = MU_BUF_INIT;
		struct mu_neg *node_side, *peer_side;

		ok(mu_neg_new(&node_side, items, nitems, MU_WIRE_NEG_MAX), "neg");
		ok(mu_neg_new(&peer_side, items + 2, nitems - 2, MU_WIRE_NEG_MAX),
		   "neg");
		ok(mu_neg_initiate(node_side, &first), "neg");
		neg.len = 0;
		ok(mu_neg_reconcile(peer_side, first.data, first.len, &neg, NULL, NULL,
		                    NULL, &why),
		   "neg");
		ok(mu_wire_encode_neg(&msg, false, neg.data, neg.len), "neg");
		put_msg(&in, &msg);
		mu_neg_free(node_side);
		mu_neg_free(peer_side);
		mu_buf_free(&first);
	}
	ok(mu_wire_encode_ack(&msg, 1), "ack");
	put_msg(&in, &msg);
	ok(mu_wire_encode_ack(&msg, 2), "ack");
	put_msg(&in, &msg);
	save_buf("dispatch", "dialed-session", &in);

	/* Unknown messages are ignored; one before hello is refused. */
	in.len = 1;
	ok(mu_buf_append(&msg, "\x92\xa6gossip\xc3", 9), "unknown");
	put_msg(&in, &msg);
	ok(mu_wire_encode_ack(&msg, 9), "ack");
	put_msg(&in, &msg);
	save_buf("dispatch", "unknown-then-ack", &in);

	free(items);
	mu_scope_free(both);
	mu_buf_free(&in);
	mu_buf_free(&msg);
	mu_buf_free(&neg);
	fz_node_close(&f);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		die("libsodium");
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		die("cannot make the corpus directory");
	ok(fz_records(&R), "records");
	records();
	exports();
	frames();
	handshakes();
	negentropy();
	dispatch();
	fz_records_free(&R);
	return 0;
}
