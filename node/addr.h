/*
 * addr.h - "HOST:PORT" addresses for the node: parsing, numeric addresses,
 * and the names of socket addresses in log lines.
 *
 * HOST is an IPv4 address, a host name, or an IPv6 address in brackets
 * ("[::1]:7420"). Buffers are the caller's.
 */
#ifndef MU_NODE_ADDR_H
#define MU_NODE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../protocol/error.h"

#define MU_NODE_HOST_MAX 254 /* a host name of 253 bytes, NUL included */
#define MU_NODE_IP_MAX   46  /* INET6_ADDRSTRLEN */

/* Splits addr into host (brackets removed) and port (1-65535). MU_EINVAL
 * with why when it is not HOST:PORT. */
int mu_node_addr_split(const char *addr, char host[MU_NODE_HOST_MAX], uint16_t *port,
                       struct mu_why *why);

/* Fills *sa when host is an IPv4 or IPv6 address: 0; MU_ENOTFOUND when it is
 * a name that must be resolved. */
int mu_node_addr_numeric(const char *host, uint16_t port, struct sockaddr_storage *sa);

/*
 * Resolves addr on the calling thread (uv_getaddrinfo without a callback):
 * for the listen address at start-up, before the loop runs. The first
 * address found wins.
 */
int mu_node_addr_resolve(uv_loop_t *loop, const char *addr, struct sockaddr_storage *sa,
                         struct mu_why *why);

/*
 * Writes "IP:PORT" ("[IP]:PORT" for IPv6) of sa into name, and the bare IP
 * into ip when it is not NULL. IPv4 peers seen through a dual-stack IPv6
 * socket (::ffff:a.b.c.d) are written as IPv4, so bans and logs name one
 * address per peer.
 */
void mu_node_addr_name(const struct sockaddr *sa, char *name, size_t cap,
                       char ip[MU_NODE_IP_MAX]);

/*
 * Why an IPv4 address (dotted text) cannot be reached from the internet:
 * "private (RFC 1918)", "carrier-grade NAT (100.64.0.0/10)", "loopback",
 * "link-local" or "unspecified"; NULL when it is public, or is not IPv4
 * text. A router's external address in those ranges means a port mapped
 * there serves no one outside (portmap.c).
 */
const char *mu_node_addr_not_public(const char *ip);

#endif
