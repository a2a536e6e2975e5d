/*
 * fuzz_node.h - a node without sockets for the dispatcher target and its
 * seeds: a home in a temporary directory with the fixed node key, a real
 * LMDB store holding the fixed records of the node's and the peer's groups
 * (allies, so both are in scope), and sync started, as the daemon does it
 * before its first connection.
 *
 * Ownership: fz_node_open() fills the caller's struct; fz_node_close()
 * releases everything and removes the directory.
 */
#ifndef MU_FUZZ_NODE_H
#define MU_FUZZ_NODE_H

#include <uv.h>

#include "node/internal.h"

struct fz_node {
	struct mu_node node;
	uv_loop_t loop;
	char dir[64];
};

int fz_node_open(struct fz_node *f, struct mu_why *why);
void fz_node_close(struct fz_node *f);

#endif
