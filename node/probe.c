/*
 * probe.c - why a dialed address closed without a word (internal.h,
 * "probing"): a web server that reads a muster handshake as a malformed
 * request often hangs up without an answer. One HTTP request on a new
 * connection tells such a port apart from a node that refused us, so that
 * `peer list` can say "an HTTP port" instead of the log's bare close.
 *
 * A probe owns its handles; node->probes lists the ones running so that a
 * stopping node closes them with their callbacks (and frees them).
 */
#include <stdlib.h>
#include <string.h>

#include "../storage/local.h"
#include "addr.h"
#include "internal.h"

#define PROBE_REQUEST "HEAD / HTTP/1.0\r\n\r\n"
#define PROBE_REPLY   "HTTP/"

struct mu_probe {
	struct mu_probe *next;
	struct mu_node *node;
	mu_probe_found_fn found;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	char addr[MU_PEER_ADDR_MAX];
	char got[sizeof(PROBE_REPLY) - 1];
	size_t ngot;
	unsigned open; /* handles not yet closed */
	bool done;
};

static void
on_closed(uv_handle_t *h)
{
	struct mu_probe *pr = h->data;

	if (--pr->open == 0)
		free(pr);
}

/* Ends the probe: off the list, handles closed (freed by the last). */
static void
finish(struct mu_probe *pr)
{
	struct mu_probe **pp;

	if (pr->done)
		return;
	pr->done = true;
	for (pp = &pr->node->probes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			break;
		}
	uv_close((uv_handle_t *)&pr->timer, on_closed);
	uv_close((uv_handle_t *)&pr->tcp, on_closed);
}

static void
on_timeout(uv_timer_t *t)
{
	finish(t->data);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct mu_probe *pr = h->data;

	(void)hint;
	buf->base = pr->got + pr->ngot;
	buf->len = sizeof(pr->got) - pr->ngot;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct mu_probe *pr = s->data;

	(void)buf;
	if (pr->done || n == 0)
		return;
	if (n < 0) {
		finish(pr);
		return;
	}
	pr->ngot += (size_t)n;
	if (pr->ngot < sizeof(pr->got))
		return;
	if (memcmp(pr->got, PROBE_REPLY, sizeof(pr->got)) == 0)
		pr->found(pr->node, pr->addr,
		          MU_PROBE_HTTP_REASON ": it answers HTTP, so it is a web "
		                               "server (the calendar's port?), not "
		                               "a muster node's port (7420 by "
		                               "default)");
	finish(pr);
}

static void
on_write(uv_write_t *w, int status)
{
	struct mu_probe *pr = w->data;

	if (pr->done)
		return;
	if (status != 0 ||
	    uv_read_start((uv_stream_t *)&pr->tcp, on_alloc, on_read) != 0)
		finish(pr);
}

static void
on_connect(uv_connect_t *req, int status)
{
	static char request[] = PROBE_REQUEST;
	struct mu_probe *pr = req->data;
	uv_buf_t b = uv_buf_init(request, sizeof(request) - 1);

	if (pr->done)
		return;
	pr->write.data = pr;
	if (status != 0 ||
	    uv_write(&pr->write, (uv_stream_t *)&pr->tcp, &b, 1, on_write) != 0)
		finish(pr);
}

void
mu_probe_http(struct mu_node *node, const char *addr, const char *ip,
              mu_probe_found_fn found)
{
	char host[MU_NODE_HOST_MAX];
	struct sockaddr_storage sa;
	struct mu_probe *pr;
	uint16_t port;

	if (node->stopping || ip == NULL || ip[0] == '\0' ||
	    mu_node_addr_split(addr, host, &port, NULL) != 0 ||
	    mu_node_addr_numeric(ip, port, &sa) != 0)
		return;
	for (pr = node->probes; pr != NULL; pr = pr->next)
		if (strcmp(pr->addr, addr) == 0)
			return; /* one at a time per address */
	pr = calloc(1, sizeof(*pr));
	if (pr == NULL)
		return;
	pr->node = node;
	pr->found = found;
	snprintf(pr->addr, sizeof(pr->addr), "%s", addr);
	uv_tcp_init(node->loop, &pr->tcp);
	uv_timer_init(node->loop, &pr->timer);
	pr->tcp.data = pr->timer.data = pr->connect.data = pr;
	pr->open = 2;
	pr->next = node->probes;
	node->probes = pr;
	uv_timer_start(&pr->timer, on_timeout, node->opts.limits.handshake_ms, 0);
	if (uv_tcp_connect(&pr->connect, &pr->tcp, (struct sockaddr *)&sa,
	                   on_connect) != 0)
		finish(pr);
}

void
mu_probe_stop(struct mu_node *node)
{
	while (node->probes != NULL)
		finish(node->probes);
}
