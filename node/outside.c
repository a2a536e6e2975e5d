/*
 * outside.c - the groups held but outside the scope (internal.h): noted
 * with the time they left it, and their records pruned after a while.
 * Called by the scope's update (gossip.c) and at a sync's start (peer.c).
 */
#include <inttypes.h>

#include "../storage/local.h"
#include "internal.h"

/*
 * Notes which held groups are outside the scope now and since when, and
 * drops the records of those outside for longer than limits.outside_keep_s
 * (storage/local.h). The lists, pages and feeds read the table to leave
 * their records out; they are relayed to no peer anyway, as reconciliation
 * and live push only cover the scope. On the loop thread: both only read
 * unless something changed, so the write lock (which the commit on the
 * thread pool may hold) is waited for only when a group left or came back
 * or is due to be pruned.
 */
void
mu_sync_note_outside(struct mu_node *node)
{
	int64_t now = mu_home_now();
	uint64_t dropped = 0;
	size_t changed = 0;
	int rc;

	rc = mu_store_note_scope(node->store, node->identity->group, node->scope, now,
	                         &changed);
	if (rc == 0)
		rc = mu_store_prune_outside(node->store, node->identity->group, now,
		                            node->opts.limits.outside_keep_s, &dropped);
	if (rc != 0 && rc != MU_EINVAL)
		mu_node_log(node, MU_LOG_ERROR,
		            "cannot note the groups outside the scope: %s",
		            mu_strerror(rc));
	if (changed > 0)
		mu_node_log(node, MU_LOG_INFO,
		            "scope: %zu groups held went out of it or came back",
		            changed);
	if (dropped > 0)
		mu_node_log(node, MU_LOG_INFO,
		            "scope: %" PRIu64 " records of groups outside it for %u s "
		            "or more dropped",
		            dropped, node->opts.limits.outside_keep_s);
}
