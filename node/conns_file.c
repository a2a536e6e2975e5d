/*
 * conns_file.c - tells `muster status` and `peer list` (other processes)
 * which peers the daemon is connected to, through the home's serve.conns
 * file, and when it was last connected to each group (serve.seen), whoever
 * dialed: the peers table only knows the nodes this one dials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/textform.h"
#include "../storage/local.h"
#include "internal.h"

/* Raises the time of every group connected now in serve.seen. */
static int
publish_seen(struct mu_node *node, struct mu_why *why)
{
	struct mu_home_seen *v = NULL;
	int64_t now = mu_home_now();
	struct mu_conn *c;
	size_t n = 0, cap, i;
	bool any = false;
	int rc;

	if ((rc = mu_home_read_seen(node->home, &v, &n)) != 0)
		return mu_fail(why, rc, "out of memory");
	cap = n;
	for (c = node->conns; c != NULL && rc == 0; c = mu_conn_next(c)) {
		if (!mu_conn_is_ready(c))
			continue;
		any = true;
		for (i = 0; i < n; i++)
			if (memcmp(v[i].key, mu_conn_peer_group(c), MU_KEY_BYTES) == 0)
				break;
		if (i == n &&
		    (rc = mu_buf_grow_array(&v, &cap, n + 1, sizeof(*v), 16)) == 0)
			memcpy(v[n++].key, mu_conn_peer_group(c), MU_KEY_BYTES);
		if (rc == 0)
			v[i].at = now;
	}
	if (rc != 0)
		rc = mu_fail(why, rc, "out of memory");
	else if (any)
		rc = mu_home_write_seen(node->home, v, n, why);
	free(v);
	return rc;
}

void
mu_node_publish_conns(struct mu_node *node)
{
	struct mu_buf text = MU_BUF_INIT;
	struct mu_why why = {0};
	struct mu_conn *c;
	uint64_t now;
	int rc = 0;

	if (node->once)
		return;
	for (c = node->conns; c != NULL && rc == 0; c = mu_conn_next(c)) {
		char key[MU_KEY_TEXT_SIZE],
		    line[MU_PEER_ADDR_MAX + MU_KEY_TEXT_SIZE + 16];
		int n;

		if (!mu_conn_is_ready(c))
			continue;
		mu_key_to_text(key, mu_conn_peer_group(c));
		n = snprintf(line, sizeof(line), "%s\t%s\t%s\n", mu_conn_name(c), key,
		             mu_conn_is_dialer(c) ? "dialed" : "accepted");
		rc = mu_buf_append(&text, line, (size_t)n);
	}
	if (rc == 0)
		rc = mu_buf_push(&text, '\0');
	/* Only status output depends on it: a failure is logged, not fatal.
	 * On a full disk writes fail and succeed by turns (an empty list
	 * needs no block), so a failure is said at most once every
	 * MU_NODE_FULL_LOG_MS, as for the store. */
	if (rc == 0)
		rc = mu_home_write_conns(node->home, (const char *)text.data, &why);
	if (rc == 0)
		rc = publish_seen(node, &why);
	now = uv_now(node->loop);
	if (rc == 0 && node->conns_failed) {
		node->conns_failed = false;
		mu_node_log(node, MU_LOG_INFO, "connections recorded for status again");
	} else if (rc != 0 && !node->conns_failed &&
	           (node->conns_failed_ms == 0 ||
	            now - node->conns_failed_ms >= MU_NODE_FULL_LOG_MS)) {
		node->conns_failed = true;
		node->conns_failed_ms = now != 0 ? now : 1;
		mu_node_log(node, MU_LOG_WARN,
		            "cannot record connections for status: %s; said once "
		            "until it works again",
		            why.text[0] ? why.text : mu_strerror(rc));
	} else if (rc != 0) {
		mu_node_log(node, MU_LOG_DEBUG,
		            "still cannot record connections for status");
	}
	mu_buf_free(&text);
}
