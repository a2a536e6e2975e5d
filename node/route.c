/*
 * route.c - how a dial goes: directly, or through tor's SocksPort for an
 * onion address (`serve --tor`). Apart from tor.c, which runs tor and
 * tells the dialer when the node's own address changes, so that the
 * connections (conn.c) depend on the route and not on the tor child.
 */
#include <string.h>

#include "addr.h"
#include "internal.h"

bool
mu_tor_is_onion(const char *host)
{
	size_t n = strlen(host);

	return n > 6 && strcmp(host + n - 6, ".onion") == 0;
}

int
mu_tor_route(struct mu_node *node, const char *host, struct sockaddr_storage *socks,
             struct mu_why *why)
{
	bool onion = mu_tor_is_onion(host);

	if (!onion && node->opts.tor_only)
		return mu_fail(why, MU_EINVAL,
		               "refusing to dial %s: --tor-only dials only .onion "
		               "addresses",
		               host);
	if (!onion)
		return 0;
	if (!node->opts.tor)
		return mu_fail(why, MU_EINVAL,
		               "%s is an onion address: dial it with --tor", host);
	if (node->tor_socks[0] == '\0')
		return mu_fail(why, MU_EIO, "cannot dial %s: tor is not up yet", host);
	return mu_node_addr_resolve(node->loop, node->tor_socks, socks, why) == 0
	           ? 1
	           : MU_EIO;
}
