/*
 * socks.h - the client side of a SOCKS5 CONNECT (RFC 1928) with a domain
 * name and no authentication: how a dial reaches a .onion address through
 * tor's SocksPort before the Noise handshake starts (conn.c).
 *
 * Bytes in, bytes out, no I/O: conn.c writes what lands in out and feeds
 * what it reads.
 */
#ifndef MU_NODE_SOCKS_H
#define MU_NODE_SOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "../protocol/buf.h"
#include "../protocol/error.h"

struct mu_socks {
	int step; /* 0: waiting for the method reply, 1: the CONNECT reply,
	             2: connected */
	uint16_t port;
	char host[256];
	uint8_t in[4 + 1 + 255 + 2]; /* the longest reply */
	size_t len;
};

/* Starts a CONNECT to host:port: the greeting is appended to out. MU_EINVAL
 * when host is empty or over 255 bytes, MU_ENOMEM. */
int mu_socks_start(struct mu_socks *s, const char *host, uint16_t port,
                   struct mu_buf *out);

/*
 * Feeds n bytes read from the proxy. Consumes at most what the replies
 * hold (*used says how much: bytes after the CONNECT reply are the peer's).
 * Returns 1 once connected, 0 when more must be read (a request may have
 * been appended to out), or MU_EIO with why: the proxy refused, saying why
 * in RFC 1928's words, or broke the protocol.
 */
int mu_socks_feed(struct mu_socks *s, const uint8_t *in, size_t n, size_t *used,
                  struct mu_buf *out, struct mu_why *why);

#endif
