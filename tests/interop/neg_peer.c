/*
 * neg_peer - our negentropy implementation as a line-oriented process, so an
 * independent implementation can talk to it (tests/interop/negentropy.mjs).
 *
 *   neg_peer initiator|responder ITEMS_FILE [FRAME_LIMIT]
 *
 * ITEMS_FILE holds one item a line: "TIMESTAMP HEX_ID". Messages go both ways
 * as lines "msg HEX". The initiator starts with its first message, and after
 * each reply prints "have HEX" / "need HEX" lines, then the next "msg HEX" or
 * "done". The responder answers every "msg HEX" line with one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/negentropy.h"

static int
print_id(const char *what, const uint8_t id[32])
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), id, 32);
	printf("%s %s\n", what, hex);
	return 0;
}

static int
on_have(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	(void)ctx;
	return print_id("have", id);
}

static int
on_need(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	(void)ctx;
	return print_id("need", id);
}

static void
print_msg(const struct mu_buf *b)
{
	char *hex = malloc(2 * b->len + 1);

	if (hex == NULL)
		exit(2);
	sodium_bin2hex(hex, 2 * b->len + 1, b->data, b->len);
	printf("msg %s\n", hex);
	free(hex);
}

static size_t
read_items(const char *path, struct mu_neg_item **out)
{
	FILE *f = fopen(path, "r");
	struct mu_neg_item *v = NULL;
	size_t n = 0, cap = 0;
	unsigned long long ts;
	char hex[65];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fscanf(f, "%llu %64s", &ts, hex) == 2) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				exit(2);
		}
		v[n].ts = ts;
		if (sodium_hex2bin(v[n].id, 32, hex, 64, NULL, NULL, NULL) != 0)
			exit(2);
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

int
main(int argc, char **argv)
{
	struct mu_neg_item *items = NULL;
	struct mu_buf out = MU_BUF_INIT;
	struct mu_neg *neg;
	struct mu_why why = {0};
	size_t n, limit;
	bool initiator;
	char *line = NULL;
	size_t linecap = 0;
	uint8_t *msg = NULL;

	if (argc < 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: neg_peer initiator|responder ITEMS [LIMIT]\n");
		return 2;
	}
	initiator = strcmp(argv[1], "initiator") == 0;
	limit = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	n = read_items(argv[2], &items);
	mu_neg_sort(items, n);
	if (mu_neg_new(&neg, items, n, limit) != 0) {
		fprintf(stderr, "neg_peer: bad items\n");
		return 2;
	}
	if (initiator) {
		if (mu_neg_initiate(neg, &out) != 0)
			return 2;
		print_msg(&out);
	}
	fflush(stdout);
	while (getline(&line, &linecap, stdin) > 0) {
		size_t len = strcspn(line, "\r\n"), mlen;

		if (strncmp(line, "msg ", 4) != 0)
			return 2;
		msg = realloc(msg, len / 2 + 1);
		if (msg == NULL || sodium_hex2bin(msg, len / 2 + 1, line + 4, len - 4,
		                                  NULL, &mlen, NULL) != 0)
			return 2;
		out.len = 0;
		if (mu_neg_reconcile(neg, msg, mlen, &out, on_have, on_need, NULL,
		                     &why) != 0) {
			fprintf(stderr, "neg_peer: %s\n", why.text);
			return 1;
		}
		if (initiator && out.len == 0) {
			printf("done\n");
			fflush(stdout);
			break;
		}
		print_msg(&out);
		fflush(stdout);
	}
	free(line);
	free(msg);
	free(items);
	mu_buf_free(&out);
	mu_neg_free(neg);
	return 0;
}
