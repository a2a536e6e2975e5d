/*
 * baselines.c - the two baselines of the ingest benchmark, measured on the
 * same export stream that `muster import` ingests (docs/BENCHMARKS.md):
 *
 *   baselines verify FILE      a plain single-threaded loop of
 *                              crypto_sign_verify_detached() over every
 *                              record's signature: the physical limit
 *   baselines verify2 FILE     the same loop on two threads, each over half
 *                              of the records: what two cores of this
 *                              machine give, which on a virtual machine
 *                              can be less than twice one
 *   baselines lmdb FILE DIR    a plain LMDB batched insert of the same record
 *                              bytes, id -> record, BATCH records per
 *                              durable transaction, into a new store in DIR
 *   baselines store FILE DIR   muster's own store alone: mu_store_put() of
 *                              the records, parsed beforehand, in batches of
 *                              MU_INGEST_BATCH, into a new store in DIR; what
 *                              the storing thread of an import costs
 *
 * Both cut the stream with mu_rec_span() and prepare the signed messages (or
 * ids) before the clock starts, so they time only what they are named after.
 * They print figure lines (`name value unit`) on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>
#include <sodium.h>

#include "protocol/record.h"
#include "storage/ingest.h"
#include "storage/store.h"

#define BATCH 1000 /* records per transaction of the plain LMDB insert */

struct rec {
	const uint8_t *raw, *body, *sig, *signer;
	size_t raw_len, body_len;
	uint8_t msg[MU_SIG_CONTEXT_LEN + MU_ID_BYTES]; /* what the signature covers */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (*out = malloc((size_t)n + 1)) == NULL ||
	    fread(*out, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "baselines: cannot read %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

/*
 * Cuts the stream into records and finds body, signature and signer inside
 * each by their fixed layout (PROTOCOL.md 2.1: [bin body, bin8 sig], the
 * body an 8-array whose third and fourth items are bin8 keys).
 */
static int
load(const char *path, uint8_t **buf, struct rec **recs, size_t *n)
{
	struct mu_why why;
	size_t len, off = 16, cap = 0, hdr;
	const uint8_t *b;
	long span;

	if (read_file(path, buf, &len) != 0)
		return -1;
	*recs = NULL;
	*n = 0;
	for (; off < len; off += (size_t)span) {
		span = mu_rec_span(*buf + off, len - off, &why);
		if (span <= 0) {
			fprintf(stderr, "baselines: %s: record %zu: %s\n", path, *n,
			        why.text);
			return -1;
		}
		if (*n == cap) {
			cap = cap != 0 ? 2 * cap : 4096;
			if ((*recs = realloc(*recs, cap * sizeof(**recs))) == NULL)
				return -1;
		}
		b = *buf + off;
		struct rec *r = &(*recs)[(*n)++];
		r->raw = b;
		r->raw_len = (size_t)span;
		hdr = b[1] == 0xc4 ? 2 : b[1] == 0xc5 ? 3 : 5;
		r->body = b + 1 + hdr;
		r->body_len = (size_t)span - 1 - hdr - 2 - MU_SIG_BYTES;
		r->sig = b + span - MU_SIG_BYTES;
		/* [1, kind str, group bin8(32), signer bin8(32), ...] */
		r->signer = r->body + 1 + 1 + 1 + (r->body[2] & 0x1f) + 2 + 32 + 2;
		memcpy(r->msg, MU_SIG_CONTEXT, MU_SIG_CONTEXT_LEN);
		crypto_generichash(r->msg + MU_SIG_CONTEXT_LEN, MU_ID_BYTES, r->body,
		                   r->body_len, NULL, 0);
	}
	return 0;
}

static size_t
verify_all(const struct rec *recs, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		bad += crypto_sign_verify_detached(recs[i].sig, recs[i].msg,
		                                   sizeof(recs[i].msg),
		                                   recs[i].signer) != 0;
	return bad;
}

struct half {
	const struct rec *recs;
	size_t n, bad;
};

static void *
verify_half(void *arg)
{
	struct half *h = arg;

	h->bad = verify_all(h->recs, h->n);
	return NULL;
}

static int
bench_verify2(const struct rec *recs, size_t n)
{
	struct half h[2] = {{recs, n / 2, 0}, {recs + n / 2, n - n / 2, 0}};
	pthread_t tid;
	double t0 = now_s(), dt;

	if (pthread_create(&tid, NULL, verify_half, &h[1]) != 0) {
		fprintf(stderr, "baselines: cannot start a thread\n");
		return 1;
	}
	verify_half(&h[0]);
	pthread_join(tid, NULL);
	dt = now_s() - t0;
	if (h[0].bad + h[1].bad != 0) {
		fprintf(stderr, "baselines: %zu signatures do not verify\n",
		        h[0].bad + h[1].bad);
		return 1;
	}
	printf("verify_2thread_rate %.0f rec/s\n", (double)n / dt);
	return 0;
}

static int
bench_verify(const struct rec *recs, size_t n)
{
	size_t bad;
	double t0 = now_s(), c0 = cpu_s(), dt, dc;

	bad = verify_all(recs, n);
	dt = now_s() - t0;
	dc = cpu_s() - c0;
	if (bad != 0) {
		fprintf(stderr, "baselines: %zu signatures do not verify\n", bad);
		return 1;
	}
	printf("verify_baseline_rate %.0f rec/s\n", (double)n / dt);
	printf("verify_baseline_cpu_per_rec %.2f us/rec\n", dc * 1e6 / (double)n);
	return 0;
}

/*
 * Bytes this process has handed to write(2) and its kin (/proc/self/io
 * wchar). write_bytes would count whole page-cache folios, which on recent
 * kernels is several times what was written.
 */
static unsigned long long
written(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	unsigned long long v = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %llu", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

static int
bench_lmdb(const struct rec *recs, size_t n, const char *dir)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t i;
	unsigned long long w0;
	double t0, dt;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, (size_t)64 << 30)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	w0 = written();
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (txn == NULL &&
		    ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
		     (rc = mdb_dbi_open(txn, "records", MDB_CREATE, &dbi)) != 0))
			goto fail;
		k.mv_size = MU_ID_BYTES;
		k.mv_data = (void *)(recs[i].msg + MU_SIG_CONTEXT_LEN);
		v.mv_size = recs[i].raw_len;
		v.mv_data = (void *)recs[i].raw;
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			goto fail;
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			rc = mdb_txn_commit(txn);
			txn = NULL;
			if (rc != 0)
				goto fail;
		}
	}
	dt = now_s() - t0;
	printf("store_baseline_rate %.0f rec/s\n", (double)n / dt);
	printf("store_baseline_disk_per_rec %.0f B/rec\n",
	       (double)(written() - w0) / (double)n);
	mdb_env_close(env);
	return 0;
fail:
	fprintf(stderr, "baselines: lmdb in %s: %s\n", dir, mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return 1;
}

static int
bench_store(const struct rec *recs, size_t n, const char *dir)
{
	const int flags = MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK;
	struct mu_record *parsed = calloc(n, sizeof(*parsed));
	const struct mu_record **batch = calloc(MU_INGEST_BATCH, sizeof(*batch));
	enum mu_put_result *res = calloc(MU_INGEST_BATCH, sizeof(*res));
	struct mu_store *st = NULL;
	struct mu_why why = {0};
	unsigned long long w0;
	double t0, c0;
	size_t i, k, m;
	int rc = 1;

	if (parsed == NULL || batch == NULL || res == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (mu_rec_parse(&parsed[i], recs[i].raw, recs[i].raw_len, 0, flags,
		                 &why) != 0)
			goto out;
	if (mu_store_open(&st, dir, &(struct mu_store_opts){0}, &why) != 0)
		goto out;
	w0 = written();
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i += m) {
		m = n - i < MU_INGEST_BATCH ? n - i : MU_INGEST_BATCH;
		for (k = 0; k < m; k++)
			batch[k] = &parsed[i + k];
		if (mu_store_put(st, batch, m, res, &why) != 0)
			goto out;
	}
	printf("store_put_rate %.0f rec/s\n", (double)n / (now_s() - t0));
	printf("store_put_cpu_per_rec %.2f us/rec\n", (cpu_s() - c0) * 1e6 / (double)n);
	printf("store_put_disk_per_rec %.0f B/rec\n",
	       (double)(written() - w0) / (double)n);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "baselines: store in %s: %s\n", dir,
		        why.text[0] != '\0' ? why.text : "out of memory");
	mu_store_close(st);
	free(res);
	free(batch);
	free(parsed);
	return rc;
}

int
main(int argc, char **argv)
{
	struct rec *recs = NULL;
	uint8_t *buf = NULL;
	size_t n;
	int rc;

	bool with_dir = argc == 4 &&
	                (strcmp(argv[1], "lmdb") == 0 || strcmp(argv[1], "store") == 0);

	if (!with_dir && (argc != 3 || (strcmp(argv[1], "verify") != 0 &&
	                                strcmp(argv[1], "verify2") != 0))) {
		fprintf(stderr,
		        "usage: baselines verify FILE | baselines verify2 FILE | "
		        "baselines lmdb FILE DIR | baselines store FILE DIR\n");
		return 2;
	}
	if (sodium_init() < 0 || load(argv[2], &buf, &recs, &n) != 0)
		return 1;
	if (strcmp(argv[1], "verify") == 0)
		rc = bench_verify(recs, n);
	else if (strcmp(argv[1], "verify2") == 0)
		rc = bench_verify2(recs, n);
	else if (strcmp(argv[1], "lmdb") == 0)
		rc = bench_lmdb(recs, n, argv[3]);
	else
		rc = bench_store(recs, n, argv[3]);
	free(recs);
	free(buf);
	return rc;
}
