/*
 * socks.c - SOCKS5 CONNECT by domain name (socks.h).
 */
#include <string.h>

#include "socks.h"

/* RFC 1928 section 6, and tor's extended codes for onion services
 * (tor's socks-extensions.txt): what REP says. */
static const char *
reply_text(uint8_t rep)
{
	switch (rep) {
	case 0x01:
		return "general SOCKS server failure";
	case 0x02:
		return "connection not allowed by ruleset";
	case 0x03:
		return "network unreachable";
	case 0x04:
		return "host unreachable (tor: no route to the onion service)";
	case 0x05:
		return "connection refused";
	case 0x06:
		return "TTL expired (tor: the onion service did not answer in time)";
	case 0x07:
		return "command not supported";
	case 0x08:
		return "address type not supported";
	case 0xF0:
		return "onion service descriptor not found (is the peer's tor "
		       "running?)";
	case 0xF1:
		return "onion service descriptor is invalid";
	case 0xF2:
		return "onion service introduction failed";
	case 0xF3:
		return "onion service rendezvous failed";
	case 0xF4:
		return "onion service needs client authorization";
	case 0xF5:
		return "onion service client authorization is wrong";
	case 0xF6:
		return "onion address is invalid (a typo?)";
	case 0xF7:
		return "onion service introduction timed out";
	default:
		return "unknown SOCKS reply";
	}
}

int
mu_socks_start(struct mu_socks *s, const char *host, uint16_t port, struct mu_buf *out)
{
	static const uint8_t greeting[3] = {5, 1, 0}; /* one method: none */
	size_t n = strlen(host);

	if (n == 0 || n > 255)
		return MU_EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->host, host, n + 1);
	s->port = port;
	return mu_buf_append(out, greeting, sizeof(greeting));
}

static int
connect_request(struct mu_socks *s, struct mu_buf *out)
{
	uint8_t req[4 + 1 + 255 + 2];
	size_t n = strlen(s->host);

	req[0] = 5; /* version */
	req[1] = 1; /* CONNECT */
	req[2] = 0;
	req[3] = 3; /* a domain name: tor resolves it, never us */
	req[4] = (uint8_t)n;
	memcpy(req + 5, s->host, n);
	req[5 + n] = (uint8_t)(s->port >> 8);
	req[6 + n] = (uint8_t)s->port;
	return mu_buf_append(out, req, 7 + n);
}

/* Length of the whole CONNECT reply once its header is in, else 0. */
static size_t
reply_len(const struct mu_socks *s)
{
	if (s->len < 5)
		return 0;
	switch (s->in[3]) {
	case 1:
		return 4 + 4 + 2;
	case 4:
		return 4 + 16 + 2;
	case 3:
		return 4 + 1 + (size_t)s->in[4] + 2;
	default:
		return 0;
	}
}

int
mu_socks_feed(struct mu_socks *s, const uint8_t *in, size_t n, size_t *used,
              struct mu_buf *out, struct mu_why *why)
{
	size_t want, take;
	int rc;

	*used = 0;
	while (s->step < 2 && *used < n) {
		if (s->step == 0)
			want = 2;
		else if (s->len >= 4 && s->in[1] == 0 && s->in[3] != 1 &&
		         s->in[3] != 3 && s->in[3] != 4)
			return mu_fail(why, MU_EIO,
			               "the SOCKS proxy answered with address type %u",
			               s->in[3]);
		else if ((want = reply_len(s)) == 0)
			want = s->len < 4 ? 4 : 5;
		take = want - s->len;
		if (take > n - *used)
			take = n - *used;
		memcpy(s->in + s->len, in + *used, take);
		s->len += take;
		*used += take;
		if (s->len < want)
			continue;
		if (s->in[0] != 5)
			return mu_fail(why, MU_EIO,
			               "the proxy does not speak SOCKS5 (is the tor "
			               "SocksPort right?)");
		if (s->step == 0) {
			if (s->in[1] != 0)
				return mu_fail(why, MU_EIO,
				               "the SOCKS proxy wants authentication");
			s->step = 1;
			s->len = 0;
			if ((rc = connect_request(s, out)) != 0)
				return rc;
			continue;
		}
		if (s->len == 4 && s->in[1] != 0)
			return mu_fail(why, MU_EIO, "tor could not reach %s: %s",
			               s->host, reply_text(s->in[1]));
		if (s->len >= 5 && reply_len(s) == s->len)
			s->step = 2;
	}
	return s->step == 2 ? 1 : 0;
}
