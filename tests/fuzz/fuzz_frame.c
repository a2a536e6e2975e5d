/*
 * fuzz_frame - the frame decoder after the handshake (protocol/session.c):
 * 2-byte lengths, buffering of partial frames, decryption in place.
 *
 * The node and the peer complete a handshake in memory with fixed keys.
 * The first input byte picks who initiated; the rest is a list of pieces
 * (fz_next). A piece's first byte is an op:
 *   even: the peer encrypts the rest as one message, and its frame is fed
 *         to the node in two reads, cut where op >> 1 says;
 *   odd:  the rest is fed to the node as raw bytes.
 * Invariants: until raw bytes are fed, every message arrives once, in
 * order, byte for byte; what is buffered never exceeds one frame; a
 * session that failed stays dead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	return 0;
}

/* Messages the peer sent that have not arrived yet. */
struct expect {
	struct mu_buf sent; /* fz_put() pieces */
	size_t at;          /* the next one to arrive */
	bool raw;           /* raw bytes were fed: no more promises */
};

static int
on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct expect *e = ctx;
	const uint8_t *p = e->sent.data + e->at, *want;
	size_t left = e->sent.len - e->at, wlen;

	if (e->raw)
		return 0;
	fz_check(fz_next(&p, &left, &want, &wlen), "a message that was sent arrives");
	fz_check(wlen == len && memcmp(want, msg, len) == 0, "it arrives intact");
	e->at = e->sent.len - left;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mu_buf frame = MU_BUF_INIT, out = MU_BUF_INIT;
	struct expect e = {MU_BUF_INIT, 0, false};
	struct mu_sess *node, *peer;
	const uint8_t *piece;
	struct mu_why why;
	size_t len, cut;
	int rc = 0;

	if (size < 1)
		return 0;
	fz_check(fz_handshake(data[0] & 1, &node, &peer, NULL) == 0, "handshake");
	data++;
	size--;
	while (rc == 0 && fz_next(&data, &size, &piece, &len)) {
		if (len == 0)
			continue;
		if (piece[0] & 1) {
			e.raw = true;
			rc = mu_sess_feed(node, piece + 1, len - 1, &out, on_msg, &e,
			                  &why);
		} else {
			if (--len > MU_SESS_MSG_MAX)
				len = MU_SESS_MSG_MAX;
			frame.len = 0;
			fz_check(mu_sess_send(peer, piece + 1, len, &frame) == 0,
			         "the peer can send");
			fz_check(fz_put(&e.sent, piece + 1, len) == 0, "memory");
			cut = (size_t)(piece[0] >> 1) % (frame.len + 1);
			rc =
			    mu_sess_feed(node, frame.data, cut, &out, on_msg, &e, &why);
			if (rc == 0)
				rc = mu_sess_feed(node, frame.data + cut,
				                  frame.len - cut, &out, on_msg, &e,
				                  &why);
			fz_check(e.raw || rc == 0, "a genuine frame is accepted");
		}
		fz_check(out.len == 0, "nothing is sent back after the handshake");
		fz_check(mu_sess_pending(node) <= 2 + MU_SESS_FRAME_MAX,
		         "buffer bound");
	}
	if (rc != 0) {
		fz_check(rc == MU_EFORMAT || rc == MU_ESIG || rc == MU_ENOMEM,
		         "feed error code");
		fz_check(mu_sess_feed(node, (const uint8_t *)"", 0, &out, on_msg, &e,
		                      &why) != 0,
		         "a failed session stays dead");
		fz_check(!mu_sess_ready(node), "a failed session is not ready");
	} else if (!e.raw) {
		fz_check(e.at == e.sent.len, "every message arrived");
	}
	mu_sess_free(node);
	mu_sess_free(peer);
	mu_buf_free(&frame);
	mu_buf_free(&out);
	mu_buf_free(&e.sent);
	return 0;
}
