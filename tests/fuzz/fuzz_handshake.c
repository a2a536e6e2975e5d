/*
 * fuzz_handshake - both sides of the handshake (protocol/session.c), fed
 * what a peer sends.
 *
 * The first input byte: bit 0, the node initiates (else it responds); bit 1,
 * the node expects the peer's group key; bits 2-7, the size of the reads
 * the rest is fed in (0: all at once). The rest is the peer's side of the
 * stream: handshake messages, then frames. The node has the fixed keys of
 * fuzz_common, so a recorded peer stream (gen_corpus) completes.
 *
 * Invariants: the node only ever writes framed handshake messages of at
 * most MU_SESS_HANDSHAKE_MAX bytes; it is ready only with a peer that
 * proved a group key, which is the one expected when one is; it buffers no
 * more than one handshake message before it is ready; a failed session
 * stays dead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"

static struct fz_key peer_key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	fz_key(&peer_key, FZ_PEER);
	return 0;
}

static int
on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	(void)msg;
	fz_check(len <= MU_SESS_MSG_MAX, "message size");
	(*(size_t *)ctx)++;
	return 0;
}

/* Everything the node wrote is handshake messages, framed. */
static void
check_sent(const struct mu_buf *out, size_t *at, int *nsent)
{
	while (*at < out->len) {
		size_t len;

		fz_check(out->len - *at >= 2, "a whole frame header");
		len = (size_t)out->data[*at] << 8 | out->data[*at + 1];
		fz_check(len <= MU_SESS_HANDSHAKE_MAX, "handshake message size");
		fz_check(out->len - *at - 2 >= len, "a whole handshake message");
		*at += 2 + len;
		(*nsent)++;
	}
	fz_check(*nsent <= 2, "at most two handshake messages from one side");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mu_buf out = MU_BUF_INIT;
	struct mu_sess *node;
	struct mu_why why;
	bool initiator, expect;
	size_t chunk, n, at = 0, msgs = 0;
	int rc = 0, nsent = 0;
	const uint8_t *group;

	if (size < 1)
		return 0;
	initiator = data[0] & 1;
	expect = data[0] & 2;
	chunk = data[0] >> 2;
	data++;
	size--;
	fz_check(fz_sess_new(&node, FZ_NODE, initiator, expect ? peer_key.pk : NULL,
	                     &out) == 0,
	         "session");
	check_sent(&out, &at, &nsent);
	while (rc == 0 && size > 0) {
		n = chunk == 0 || chunk > size ? size : chunk;
		rc = mu_sess_feed(node, data, n, &out, on_msg, &msgs, &why);
		data += n;
		size -= n;
		check_sent(&out, &at, &nsent);
		if (rc == 0 && !mu_sess_ready(node))
			fz_check(mu_sess_pending(node) <= 2 + MU_SESS_HANDSHAKE_MAX,
			         "a stranger makes us buffer one message at most");
	}
	if (rc != 0) {
		fz_check(rc == MU_EFORMAT || rc == MU_ESIG || rc == MU_EPERM ||
		             rc == MU_ENOMEM,
		         "feed error code");
		fz_check(!mu_sess_ready(node) && mu_sess_peer_group(node) == NULL,
		         "a failed session is not ready");
		fz_check(mu_sess_feed(node, data, 0, &out, on_msg, &msgs, &why) != 0,
		         "a failed session stays dead");
		fz_check(rc != MU_EPERM || expect,
		         "MU_EPERM only with an expected key");
	} else if (mu_sess_ready(node)) {
		group = mu_sess_peer_group(node);
		fz_check(group != NULL, "a ready session knows the peer's group");
		fz_check(memcmp(group, peer_key.pk, MU_KEY_BYTES) == 0,
		         "the only group a peer can prove is one whose key signed");
		fz_check(nsent == (initiator ? 2 : 1), "the node's share of messages");
	} else {
		fz_check(msgs == 0, "no message before the handshake is done");
	}
	mu_sess_free(node);
	mu_buf_free(&out);
	return 0;
}
