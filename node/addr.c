/*
 * addr.c - HOST:PORT parsing and socket address names (addr.h).
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int
mu_node_addr_split(const char *addr, char host[MU_NODE_HOST_MAX], uint16_t *port,
                   struct mu_why *why)
{
	const char *colon, *h = addr, *p;
	size_t hlen;
	unsigned long v = 0;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			return mu_fail(
			    why, MU_EINVAL,
			    "address %s: an IPv6 host is written [ADDR]:PORT", addr);
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return mu_fail(why, MU_EINVAL,
			               "address %s: expected HOST:PORT, such as "
			               "node.example.org:%d",
			               addr, 7420);
		hlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hlen) != NULL)
			return mu_fail(why, MU_EINVAL,
			               "address %s: put an IPv6 host in brackets, "
			               "[ADDR]:PORT",
			               addr);
	}
	if (hlen == 0 || hlen >= MU_NODE_HOST_MAX)
		return mu_fail(why, MU_EINVAL,
		               "address %s: the host must be 1-%d bytes", addr,
		               MU_NODE_HOST_MAX - 1);
	for (size_t i = 0; i < hlen; i++)
		if (h[i] <= ' ' || h[i] > '~' || h[i] == '/' || h[i] == '[' ||
		    h[i] == ']')
			return mu_fail(why, MU_EINVAL,
			               "address %s: the host has a character that no "
			               "host name or IP address has",
			               addr);
	p = colon + 1;
	if (*p == '\0' || strlen(p) > 5)
		return mu_fail(why, MU_EINVAL, "address %s: the port must be 0-65535",
		               addr);
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return mu_fail(why, MU_EINVAL,
			               "address %s: the port must be a decimal number",
			               addr);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return mu_fail(why, MU_EINVAL, "address %s: the port must be 0-65535",
		               addr);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int
mu_node_addr_numeric(const char *host, uint16_t port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0)
		return 0;
	if (strchr(host, ':') != NULL &&
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0)
		return 0;
	return MU_ENOTFOUND;
}

int
mu_node_addr_resolve(uv_loop_t *loop, const char *addr, struct sockaddr_storage *sa,
                     struct mu_why *why)
{
	char host[MU_NODE_HOST_MAX], service[8];
	struct addrinfo hints;
	uv_getaddrinfo_t req;
	uint16_t port;
	int rc;

	rc = mu_node_addr_split(addr, host, &port, why);
	if (rc != 0 || mu_node_addr_numeric(host, port, sa) == 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	rc = uv_getaddrinfo(loop, &req, NULL, host, service, &hints);
	if (rc != 0)
		return mu_fail(why, MU_ENOTFOUND, "cannot resolve %s: %s", host,
		               uv_strerror(rc));
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
	uv_freeaddrinfo(req.addrinfo);
	return 0;
}

void
mu_node_addr_name(const struct sockaddr *sa, char *name, size_t cap,
                  char ip[MU_NODE_IP_MAX])
{
	char buf[MU_NODE_IP_MAX] = "?";
	unsigned port = 0;
	bool v6 = false;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		uv_ip4_name(in, buf, sizeof(buf));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, buf,
			          sizeof(buf));
		} else {
			uv_ip6_name(in6, buf, sizeof(buf));
			v6 = true;
		}
	}
	snprintf(name, cap, v6 ? "[%s]:%u" : "%s:%u", buf, port);
	if (ip != NULL)
		memcpy(ip, buf, sizeof(buf));
}

const char *
mu_node_addr_not_public(const char *ip)
{
	static const struct {
		uint32_t net, mask;
		const char *what;
	} ranges[] = {
	    {0x0A000000, 0xFF000000, "private (RFC 1918)"},
	    {0xAC100000, 0xFFF00000, "private (RFC 1918)"},
	    {0xC0A80000, 0xFFFF0000, "private (RFC 1918)"},
	    {0x64400000, 0xFFC00000, "carrier-grade NAT (100.64.0.0/10)"},
	    {0x7F000000, 0xFF000000, "loopback"},
	    {0xA9FE0000, 0xFFFF0000, "link-local"},
	    {0x00000000, 0xFF000000, "unspecified"},
	};
	struct in_addr a;
	uint32_t v;

	if (inet_pton(AF_INET, ip, &a) != 1)
		return NULL;
	v = ntohl(a.s_addr);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if ((v & ranges[i].mask) == ranges[i].net)
			return ranges[i].what;
	return NULL;
}
