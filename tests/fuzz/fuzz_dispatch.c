/*
 * fuzz_dispatch - the message dispatcher after the handshake (node/sync.c,
 * mu_sync_on_message(), and what it calls: hello, negentropy, want, recs
 * with verification on the thread pool and storage, ack), with a fake
 * authenticated peer and a real LMDB store.
 *
 * A node without sockets (fuzz_node.h) lives for the whole run. For each
 * input the node and the peer complete a handshake in memory and the
 * node's session becomes a connection without a socket (mu_conn_adopt).
 * The first input byte: bit 0, the node dialed (it then initiates the
 * reconciliation). The rest is a list of pieces (fz_next), each one
 * decrypted message from the peer. After each message the loop runs until
 * the thread pool's work is done, as the daemon's would. When a message is
 * refused the connection is closed, as conn.c does, and the input ends.
 *
 * The peer reads everything the node sends: after each message the node's
 * write queue is taken (mu_conn_take_output), decrypted by the peer's
 * session, and the node is told it drained, so that it goes on sending.
 *
 * Invariants: the node never stores a record it should not: the set of
 * stored records may only grow by records whose bytes were in the input
 * and that verify. What it sends is what it would accept: every frame
 * authenticates, every message decodes, every record it sends verifies.
 * It never crashes, leaks or reads out of bounds (the sanitizers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "fuzz_node.h"
#include "protocol/wire.h"
#include "storage/store.h"

static struct fz_node F;

static void
cleanup(void)
{
	fz_node_close(&F);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mu_why why = {0};

	(void)argc;
	(void)argv;
	fz_init();
	if (fz_node_open(&F, &why) != 0) {
		fprintf(stderr, "fuzz_dispatch: cannot set up the node: %s\n",
		        why.text);
		abort();
	}
	atexit(cleanup);
	return 0;
}

/* Whether c is still one of the node's connections (c may be freed). */
static bool
listed(const struct mu_conn *c)
{
	for (struct mu_conn *x = F.node.conns; x != NULL; x = mu_conn_next(x))
		if (x == c)
			return true;
	return false;
}

/* One message the node sent, as the peer reads it. */
static int
on_sent(void *ctx, const uint8_t *msg, size_t len)
{
	struct mu_wire_msg *m = ctx;
	struct mu_record rec;
	struct mu_why why;

	if (mu_wire_decode(m, msg, len, &why) != 0) {
		fprintf(stderr, "fuzz_dispatch: the node sent a bad message: %s\n",
		        why.text);
		fz_check(false, "every message the node sends decodes");
	}
	fz_check(m->type != MU_WIRE_UNKNOWN, "the node sends known messages");
	for (size_t i = 0; m->type == MU_WIRE_RECS && i < m->nrecs; i++)
		fz_check(mu_rec_parse(&rec, m->recs[i].ptr, m->recs[i].len, FZ_NOW,
		                      MU_PARSE_NOCLOCK, &why) == 0,
		         "every record the node sends verifies");
	return 0;
}

/* The peer reads what the node queued; the node may then send more. */
static void
drain(struct mu_conn *c, struct mu_sess *peer, struct mu_buf *wire,
      struct mu_wire_msg *m)
{
	struct mu_buf back = MU_BUF_INIT;
	struct mu_why why;

	wire->len = 0;
	fz_check(mu_conn_take_output(c, wire) == 0, "memory");
	fz_check(mu_sess_feed(peer, wire->data, wire->len, &back, on_sent, m, &why) ==
	             0,
	         "every frame the node sends authenticates");
	fz_check(back.len == 0, "no handshake after the handshake");
	mu_buf_free(&back);
}

struct audit {
	const uint8_t *data;
	size_t size;
	bool bad;
};

/* A stored record is one of the fixed ones or came in the input, and it
 * verifies. */
static int
audit_one(void *ctx, const struct mu_record *rec)
{
	struct audit *a = ctx;
	struct mu_record again;
	struct mu_why why;
	bool found = false;

	if (mu_rec_parse(&again, rec->raw, rec->raw_len, FZ_NOW, MU_PARSE_NOCLOCK,
	                 &why) != 0) {
		fprintf(stderr, "fuzz_dispatch: stored record does not verify: %s\n",
		        why.text);
		a->bad = true;
	}
	for (size_t i = 0; !found && i + rec->raw_len <= a->size; i++)
		found = memcmp(a->data + i, rec->raw, rec->raw_len) == 0;
	if (!found) {
		struct fz_records fr;

		fz_check(fz_records(&fr) == 0, "records");
		for (size_t i = 0; !found && i < fr.n; i++)
			found = fr.len[i] == rec->raw_len &&
			        memcmp(fr.bytes[i], rec->raw, rec->raw_len) == 0;
		fz_records_free(&fr);
	}
	if (!found) {
		fprintf(stderr, "fuzz_dispatch: a record the peer never sent was "
		                "stored\n");
		a->bad = true;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mu_node *node = &F.node;
	struct mu_buf wire = MU_BUF_INIT;
	struct mu_sess *ns, *ps;
	struct mu_wire_msg *m;
	struct mu_conn *c;
	const uint8_t *piece, *all = data;
	struct mu_why why;
	uint64_t before, after;
	size_t len, all_size = size;
	bool dialer;
	int rc;

	if (size < 1)
		return 0;
	dialer = data[0] & 1;
	data++;
	size--;
	fz_check(mu_store_count(node->store, &before) == 0, "count");
	fz_check((m = malloc(sizeof(*m))) != NULL, "memory");
	fz_check(fz_handshake(dialer, &ns, &ps, NULL) == 0, "handshake");
	rc = mu_conn_adopt(node, ns, dialer, "192.0.2.1:7420", &c);
	fz_check(rc == 0, "adopt");
	while (mu_conn_is_ready(c) && fz_next(&data, &size, &piece, &len)) {
		if (len > MU_SESS_MSG_MAX)
			len = MU_SESS_MSG_MAX;
		why.text[0] = '\0';
		rc = mu_sync_on_message(node, c, piece, len, &why);
		if (rc != 0) {
			fz_check(why.text[0] != '\0', "a refusal says why");
			mu_conn_close(c, why.text);
		}
		uv_run(node->loop, UV_RUN_DEFAULT);
		if (!listed(c))
			break;
		drain(c, ps, &wire, m);
		if (mu_conn_is_ready(c))
			mu_sync_on_writable(node, c);
	}
	if (listed(c)) {
		mu_sync_tick(node);
		if (listed(c) && mu_conn_is_ready(c))
			mu_conn_close(c, NULL);
	}
	uv_run(node->loop, UV_RUN_DEFAULT);
	fz_check(node->conns == NULL, "the connection is gone");
	mu_sess_free(ps);
	mu_buf_free(&wire);
	free(m);

	fz_check(mu_store_count(node->store, &after) == 0, "count");
	if (after != before) {
		struct audit a = {all, all_size, false};

		fz_check(mu_store_each(node->store, audit_one, &a) == 0, "each");
		fz_check(!a.bad, "only valid records that were sent are stored");
	}
	return 0;
}
