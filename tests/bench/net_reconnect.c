/*
 * net_reconnect.c - issue 6, item 3: two nodes that hold the same N records
 * reconnect; what does finding the differences cost?
 *
 * Usage: net_reconnect [--quick] [--plain]
 *   --quick  N = 100,000 instead of 1,000,000
 *   --plain  the responder in plain v1 (lists every id), as before push mode
 *
 * Both sides run the node's own code for the job: mu_neg (negentropy v1,
 * the responder in push mode as node/sync.c runs it) with the node's frame
 * limit, every message wrapped by mu_wire_encode_neg() and, for the ids the
 * dialer must ask for, mu_wire_encode_want() in wants of 1024 ids. Each
 * message is counted as on the wire: the encoded message, the 16-byte
 * Poly1305 tag and the 2-byte frame length (PROTOCOL.md 9.2). Not counted:
 * the handshake and the hellos, which do not depend on N (see
 * docs/BENCHMARKS.md), and the records themselves.
 *
 * The items are N (created_at, id) pairs, created_at spread over 180 days
 * like tests/bench/gen_records, ids random: the same items
 * mu_store_neg_items() would list from two stores holding those records,
 * made in memory because importing 1,000,000 signed records into two real
 * stores would take most of the benchmark budget.
 *
 * The accepting side holds all N; the dialer lacks d of them:
 *   none       d = 0
 *   one        d = 1, the newest
 *   recent     d = 1000, the newest 1000 (a node that was off for a while)
 *   scattered  d = 1000, spread evenly over the whole history
 * Figures: reconnect_<case>_round_trips, reconnect_<case>_bytes, and
 * reconnect_<case>_ms (CPU time of both sides, in this one process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "protocol/negentropy.h"
#include "protocol/wire.h"

#define FRAME_OVERHEAD 18 /* 2-byte length, 16-byte tag */
#define BASE_TS        1735689600u
#define SPAN_S         (180u * 86400u)

struct diff {
	uint8_t (*need)[32];
	size_t nneed, pushed;
};

static int
on_push(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	(void)index;
	(void)id;
	((struct diff *)ctx)->pushed++;
	return 0;
}

static int
on_need(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	(void)index;
	struct diff *d = ctx;

	memcpy(d->need[d->nneed++], id, 32);
	return 0;
}

static int
on_have(void *ctx, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	(void)index;
	(void)ctx;
	(void)id;
	fprintf(stderr, "net_reconnect: the dialer holds an id the other lacks\n");
	return MU_EINVAL;
}

static bool plain;

static double
cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void
die(const char *what)
{
	fprintf(stderr, "net_reconnect: %s\n", what);
	exit(1);
}

/* Bytes of one message as framed on the wire. */
static size_t
framed(size_t msg_len)
{
	return msg_len + FRAME_OVERHEAD;
}

static void
run(const char *name, const struct mu_neg_item *all, size_t n, const bool *lacks,
    size_t d)
{
	struct mu_neg_item *mine = malloc((n ? n : 1) * sizeof(*mine));
	struct diff df = {malloc((d ? d : 1) * 32), 0, 0};
	struct mu_buf q = MU_BUF_INIT, r = MU_BUF_INIT, msg = MU_BUF_INIT;
	struct mu_neg *ini, *res;
	struct mu_why why;
	size_t nmine = 0, bytes = 0, i, trips = 0;
	double t0;

	if (mine == NULL || df.need == NULL)
		die("out of memory");
	for (i = 0; i < n; i++)
		if (!lacks[i])
			mine[nmine++] = all[i];
	t0 = cpu_ms();
	if (mu_neg_new(&ini, mine, nmine, MU_WIRE_NEG_MAX) != 0 ||
	    mu_neg_new(&res, all, n, MU_WIRE_NEG_MAX) != 0)
		die("mu_neg_new failed");
	mu_neg_set_push(res, !plain);
	if (mu_neg_initiate(ini, &q) != 0)
		die("mu_neg_initiate failed");
	for (bool open = true; q.len > 0; open = false) {
		msg.len = 0;
		if (mu_wire_encode_neg(&msg, open, q.data, q.len) != 0)
			die("cannot encode neg");
		bytes += framed(msg.len);
		r.len = 0;
		if (mu_neg_reconcile(res, q.data, q.len, &r, on_push, NULL, &df, &why))
			die(why.text);
		msg.len = 0;
		if (mu_wire_encode_neg(&msg, false, r.data, r.len) != 0)
			die("cannot encode neg");
		bytes += framed(msg.len);
		trips++;
		q.len = 0;
		if (mu_neg_reconcile(ini, r.data, r.len, &q, on_have, on_need, &df,
		                     &why))
			die(why.text);
	}
	/* Wants for what the dialer learnt it needs (sent while reconciling). */
	for (i = 0; i < df.nneed; i += MU_WIRE_IDS_MAX) {
		size_t k =
		    df.nneed - i < MU_WIRE_IDS_MAX ? df.nneed - i : MU_WIRE_IDS_MAX;

		msg.len = 0;
		if (mu_wire_encode_want(&msg, 1 + i, (const uint8_t(*)[32])df.need[i],
		                        k))
			die("cannot encode want");
		bytes += framed(msg.len);
	}
	if (df.nneed + df.pushed != d)
		die("the differences found are not the differences made");
	fprintf(stderr, "%s: %zu of %zu missing: %zu pushed, %zu wanted\n", name, d, n,
	        df.pushed, df.nneed);
	printf("reconnect_%s_round_trips %zu trips\n", name, trips);
	printf("reconnect_%s_bytes %zu bytes\n", name, bytes);
	printf("reconnect_%s_ms %.1f ms\n", name, cpu_ms() - t0);
	fflush(stdout);
	mu_neg_free(ini);
	mu_neg_free(res);
	mu_buf_free(&q);
	mu_buf_free(&r);
	mu_buf_free(&msg);
	free(df.need);
	free(mine);
}

int
main(int argc, char **argv)
{
	bool quick = false;
	size_t n, i;
	struct mu_neg_item *all;
	bool *lacks;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[a], "--plain") == 0) {
			plain = true;
		} else {
			fprintf(stderr, "usage: net_reconnect [--quick] [--plain]\n");
			return 2;
		}
	}
	n = quick ? 100000 : 1000000;
	if (sodium_init() < 0)
		die("libsodium failed to start");
	all = malloc(n * sizeof(*all));
	lacks = calloc(n, 1);
	if (all == NULL || lacks == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		all[i].ts = BASE_TS - SPAN_S + (uint64_t)(i * (double)SPAN_S / n);
		randombytes_buf(all[i].id, 32);
	}
	mu_neg_sort(all, n);
	fprintf(stderr, "net_reconnect: %zu records on both sides%s\n", n,
	        quick ? " (quick mode: fewer records than the 1,000,000 of a full run)"
	              : "");
	run("none", all, n, lacks, 0);
	lacks[n - 1] = true;
	run("one", all, n, lacks, 1);
	for (i = n - 1000; i < n; i++)
		lacks[i] = true;
	run("recent", all, n, lacks, 1000);
	memset(lacks, 0, n);
	for (i = 0; i < 1000; i++)
		lacks[i * (n / 1000) + n / 2000] = true;
	run("scattered", all, n, lacks, 1000);
	free(all);
	free(lacks);
	return 0;
}
