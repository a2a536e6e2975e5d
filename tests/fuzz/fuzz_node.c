/*
 * fuzz_node.c - a node without sockets (fuzz_node.h).
 */
/* nftw() */
#define _XOPEN_SOURCE 700

#include "fuzz_node.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "storage/home.h"
#include "storage/store.h"
#include "tests/unit/rm_tree.h"

/* A home whose key file holds the fixed node key (home.h: the 32-byte
 * seed, raw, mode 0600). */
static int
make_home(const char *home, struct mu_why *why)
{
	uint8_t group[MU_KEY_BYTES];
	char path[128];
	struct fz_key k;
	int fd, rc;

	if ((rc = mu_home_create(home, group, why)) != 0)
		return rc;
	fz_key(&k, FZ_NODE);
	snprintf(path, sizeof(path), "%s/group.key", home);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	rc = fd >= 0 && write(fd, k.seed, sizeof(k.seed)) == (ssize_t)sizeof(k.seed)
	         ? 0
	         : mu_fail(why, MU_EIO, "cannot write %s", path);
	if (fd >= 0 && close(fd) != 0)
		rc = mu_fail(why, MU_EIO, "cannot write %s", path);
	sodium_memzero(&k, sizeof(k));
	return rc;
}

/* The fixed records of the node's and the peer's groups. */
static int
fill_store(struct mu_store *st, struct mu_why *why)
{
	const struct mu_record *ptrs[32];
	struct mu_record recs[32];
	enum mu_put_result res[32];
	struct fz_records fr;
	struct fz_key stranger;
	size_t n = 0;
	int rc;

	if ((rc = fz_records(&fr)) != 0)
		return mu_fail(why, rc, "cannot build the fixed records");
	fz_key(&stranger, FZ_STRANGER);
	for (size_t i = 0; i < fr.n && rc == 0; i++) {
		rc = mu_rec_parse(&recs[n], fr.bytes[i], fr.len[i], FZ_NOW, 0, why);
		if (rc == 0 && memcmp(recs[n].group, stranger.pk, MU_KEY_BYTES) != 0) {
			ptrs[n] = &recs[n];
			n++;
		}
	}
	if (rc == 0)
		rc = mu_store_put(st, ptrs, n, res, why);
	fz_records_free(&fr);
	return rc;
}

int
fz_node_open(struct fz_node *f, struct mu_why *why)
{
	struct mu_node *node = &f->node;
	struct mu_store_opts so;
	char home[96], *dir;
	int rc;

	memset(f, 0, sizeof(*f));
	/* In memory where there is a tmpfs: LMDB's fsync per commit would
	 * otherwise dominate every run. */
	snprintf(f->dir, sizeof(f->dir), "%s/muster-fuzz-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return mu_fail(why, MU_EIO, "cannot make a temporary directory");
	snprintf(home, sizeof(home), "%s/home", f->dir);
	if (uv_loop_init(&f->loop) != 0)
		return mu_fail(why, MU_EIO, "cannot start a loop");
	node->loop = &f->loop;
	node->conn_cbs = &mu_node_conn_cbs;
	mu_node_opts_default(&node->opts, NULL);
	node->opts.listen = NULL;
	node->opts.network = FZ_NETWORK;
	node->opts.log_level =
	    getenv("MUSTER_FUZZ_LOG") != NULL ? MU_LOG_DEBUG : MU_LOG_ERROR;
	if ((rc = make_home(home, why)) != 0 ||
	    (rc = mu_home_open(&node->home, home, true, why)) != 0)
		return rc;
	if ((node->identity = sodium_malloc(sizeof(*node->identity))) == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	fz_identity(node->identity, FZ_NODE);
	memset(&so, 0, sizeof(so));
	if ((dir = mu_home_store_dir(node->home)) == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	rc = mu_store_open(&node->store, dir, &so, why);
	free(dir);
	if (rc == 0)
		rc = fill_store(node->store, why);
	if (rc == 0)
		rc = mu_sync_start(node, why);
	return rc;
}

static void
close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
fz_node_close(struct fz_node *f)
{
	struct mu_node *node = &f->node;

	if (node->loop != NULL) {
		/* As the daemon stops: the sync's commit timer is closed with
		 * every other handle, so that the loop closes and frees all. */
		uv_run(node->loop, UV_RUN_DEFAULT);
		uv_walk(node->loop, close_handle, NULL);
		uv_run(node->loop, UV_RUN_DEFAULT);
		uv_loop_close(node->loop);
	}
	mu_sync_stop(node);
	mu_store_close(node->store);
	if (node->identity != NULL)
		sodium_free(node->identity);
	mu_home_close(node->home);
	if (f->dir[0] != '\0')
		rm_tree(f->dir);
	memset(f, 0, sizeof(*f));
}
