/*
 * Rule node-addr (docs/PROTOCOL.md, section 3, "node"): the form of a
 * reachable address "HOST:PORT". Shared by the record parser and by the
 * peers table (storage/local.h), so that an address a node announces is
 * always one a peer can be added with.
 *
 * The rule is a character-class check, not a resolver's parser: every
 * implementation must give the same answer, whatever its libc accepts.
 */
#include "record.h"

#include <stdbool.h>

#define HOST_MAX 253 /* a DNS name */
#define IPV6_MIN 2   /* "::" */
#define IPV6_MAX 45  /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */

static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool
ipv6_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* A byte for a message: itself when printable, else its hex value. */
static int
bad_char(struct mu_why *why, const char *where, unsigned char c, size_t pos)
{
	if (c > 32 && c < 127)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the %s has '%c' at byte %zu, which is not "
		               "allowed there",
		               where, c, pos + 1);
	return mu_fail(why, MU_ERECORD,
	               "node-addr: the %s has byte 0x%02x at byte %zu; write "
	               "HOST:PORT without spaces",
	               where, c, pos + 1);
}

static int
check_port(const char *s, size_t len, size_t at, struct mu_why *why)
{
	unsigned long port = 0;
	size_t i;

	if (at == len)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the port after ':' is missing; write "
		               "HOST:PORT");
	if (len - at > 5)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the port has %zu digits; it is 1-65535",
		               len - at);
	for (i = at; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < '0' || c > '9')
			return bad_char(why, "port", c, i);
		port = port * 10 + (c - '0');
	}
	if (s[at] == '0')
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the port is 0 or has a leading zero; it is "
		               "1-65535 in plain decimal");
	if (port > 65535)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the port is %lu; it is 1-65535", port);
	return 0;
}

static int
check_ipv6(const char *s, size_t len, struct mu_why *why)
{
	size_t i, close = 0;
	bool colon = false;

	for (i = 1; i < len && s[i] != ']'; i++) {
		if (!ipv6_char((unsigned char)s[i]))
			return bad_char(why, "IPv6 address", (unsigned char)s[i], i);
		colon |= s[i] == ':';
	}
	if (i == len)
		return mu_fail(
		    why, MU_ERECORD,
		    "node-addr: '[' is not closed by ']'; write [IPv6]:PORT");
	close = i;
	if (close - 1 < IPV6_MIN || close - 1 > IPV6_MAX || !colon)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: [%.*s] is not an IPv6 address",
		               (int)(close - 1 < 64 ? close - 1 : 64), s + 1);
	if (close + 1 == len || s[close + 1] != ':')
		return mu_fail(why, MU_ERECORD,
		               "node-addr: ':' and a port must follow ']'; write "
		               "[IPv6]:PORT");
	return check_port(s, len, close + 2, why);
}

int
mu_rec_check_node_addr(const char *s, size_t len, struct mu_why *why)
{
	size_t i;

	if (len > MU_NODE_ADDR_MAX)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the address is %zu bytes, at most %d", len,
		               MU_NODE_ADDR_MAX);
	if (len == 0)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the address is empty; write HOST:PORT");
	if (s[0] == '[')
		return check_ipv6(s, len, why);
	for (i = 0; i < len && s[i] != ':'; i++)
		if (!name_char((unsigned char)s[i]))
			return bad_char(why, "host", (unsigned char)s[i], i);
	if (i == len)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: no port; write HOST:PORT (an IPv6 address "
		               "in brackets)");
	if (i == 0)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the host before ':' is missing; write "
		               "HOST:PORT");
	if (i > HOST_MAX)
		return mu_fail(why, MU_ERECORD,
		               "node-addr: the host is %zu characters, at most %d", i,
		               HOST_MAX);
	for (size_t j = i + 1; j < len; j++)
		if (s[j] == ':')
			return mu_fail(why, MU_ERECORD,
			               "node-addr: more than one ':'; write an IPv6 "
			               "address in brackets, [IPv6]:PORT");
	return check_port(s, len, i + 1, why);
}
