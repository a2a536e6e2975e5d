/*
 * fuzz_negentropy - the reconciliation message parser and its answers
 * (protocol/negentropy.c), on either side.
 *
 * The first input byte: bit 0, the node initiates; bits 1-2, its frame
 * limit (none, 4096, 8192, 60000); bit 3, which fixed item set it holds.
 * The rest is a list of pieces (fz_next), each one message from the other
 * side.
 *
 * Invariants: an error is MU_EFORMAT, MU_EVERSION or MU_ENOMEM and leaves
 * the output as it was; an answer starts with the version byte, fits the
 * frame limit, and is itself a well-formed message (a fresh reconciliation
 * of the other role reads it without error); every id reported as one the
 * node has is one of its items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"

static struct mu_neg_item sets[2][FZ_NEG_ITEMS];
static size_t nsets[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	nsets[0] = fz_neg_items(sets[0], 0);
	nsets[1] = fz_neg_items(sets[1], 1);
	return 0;
}

struct ctx {
	const struct mu_neg_item *items;
	size_t n;
};

static int
have(void *arg, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	(void)index;
	const struct ctx *c = arg;

	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->items[i].id, id, MU_NEG_ID_BYTES) == 0)
			return 0;
	fz_check(0, "a have id is one of our items");
	return 0;
}

static int
need(void *arg, const uint8_t id[MU_NEG_ID_BYTES], size_t index)
{
	(void)index;
	(void)arg;
	(void)id;
	return 0;
}

/* Our answer must read as a well-formed message on the other side. */
static void
mirror(bool node_initiator, const uint8_t *msg, size_t len, int set)
{
	struct mu_buf scratch = MU_BUF_INIT, out = MU_BUF_INIT;
	struct ctx c = {sets[set], nsets[set]};
	struct mu_neg *other;
	struct mu_why why;
	int rc;

	fz_check(mu_neg_new(&other, sets[set], nsets[set], 0) == 0, "mirror");
	if (!node_initiator)
		fz_check(mu_neg_initiate(other, &scratch) == 0, "mirror initiates");
	rc = mu_neg_reconcile(other, msg, len, &out, have, need, &c, &why);
	if (rc != 0)
		fprintf(stderr, "fuzz_negentropy: our answer is refused: %s\n",
		        why.text);
	fz_check(rc == 0, "our answer is a well-formed message");
	mu_neg_free(other);
	mu_buf_free(&scratch);
	mu_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = {0, MU_NEG_FRAME_MIN, 8192, 60000};
	struct mu_buf out = MU_BUF_INIT;
	const uint8_t *piece;
	struct mu_neg *neg;
	struct mu_why why;
	size_t limit, len, before;
	bool initiator;
	int set, rc = 0;
	struct ctx c;

	if (size < 1)
		return 0;
	initiator = data[0] & 1;
	limit = limits[(data[0] >> 1) & 3];
	set = (data[0] >> 3) & 1;
	data++;
	size--;
	c.items = sets[set];
	c.n = nsets[set];
	fz_check(mu_neg_new(&neg, sets[set], nsets[set], limit) == 0, "new");
	if (initiator) {
		fz_check(mu_neg_initiate(neg, &out) == 0, "initiate");
		fz_check(limit == 0 || out.len <= limit, "the first message fits");
	}
	while (rc == 0 && fz_next(&data, &size, &piece, &len)) {
		out.len = 0;
		before = out.len;
		rc = mu_neg_reconcile(neg, piece, len, &out, have, need, &c, &why);
		if (rc != 0) {
			fz_check(rc == MU_EFORMAT || rc == MU_EVERSION ||
			             rc == MU_ENOMEM,
			         "error code");
			fz_check(out.len == before, "a failed read leaves the output");
			fz_check(why.text[0] != '\0', "why says why");
			break;
		}
		if (out.len == 0) {
			fz_check(initiator, "only an initiator ends with silence");
			continue;
		}
		fz_check(out.data[0] == MU_NEG_VERSION,
		         "answers start with our version");
		fz_check(limit == 0 || out.len <= limit, "the answer fits the frame");
		if (len > 0 && piece[0] == MU_NEG_VERSION)
			mirror(initiator, out.data, out.len, !set);
	}
	mu_neg_free(neg);
	mu_buf_free(&out);
	return 0;
}
