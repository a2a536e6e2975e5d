/*
 * conn.c - one TCP connection to another node: the libuv side of a
 * protocol/session.h session (internal.h, "connections").
 *
 * A connection is born when a dial starts or an accept succeeds, lives in
 * node->conns until mu_conn_close(), and is freed when the last libuv handle
 * or request pointing at it has called back (refs), libuv style.
 *
 * Before the handshake is done a peer is a stranger: it gets a small read
 * buffer (one handshake message), a deadline, and a place among a few
 * handshaking connections per address. After it, frames are at most 64 KiB
 * by construction and the write queue is bounded by backpressure.
 *
 * Admission (connections others open; our own dials are never counted):
 * past a cap the newcomer is always let in and the weakest connection of
 * its kind is evicted, so that a full cap never shuts honest peers out. An
 * honest handshake takes about a millisecond: an attacker who wants to hold
 * the slots must keep opening connections faster than honest peers finish.
 *   - in the handshake: the one that has sent the least of its first
 *     message (an honest dialer sends it whole at once), the oldest first;
 *   - sessions: one that never sent more than a hello before one that did,
 *     then the one whose last useful message is oldest; past max_conns,
 *     from the address holding the most sessions.
 * A session with nothing but hellos for idle_ms is closed (mu_conn_sweep).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <sodium.h>

#include "../protocol/textform.h"
#include "../storage/local.h"
#include "addr.h"
#include "internal.h"
#include "socks.h"

/* One handshake message and its length: all a stranger can make us read at
 * once. */
#define HS_READ_MAX (MU_SESS_HANDSHAKE_MAX + 2)
/* One whole frame per read after the handshake. */
#define READ_MAX (MU_SESS_FRAME_MAX + 2)
/* The dialer's first handshake message, framed: an ephemeral key and an
 * empty payload (docs/PROTOCOL.md 9.1). */
#define HS_FIRST_LEN (2 + MU_NOISE_KEY_BYTES)

struct mu_conn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* handshake deadline, then write stalls and
	                     deferred closes */
	uv_getaddrinfo_t gai;
	uv_connect_t connect;
	struct mu_node *node;
	struct mu_conn *next, *prev; /* node->conns; next survives removal */
	struct mu_sess *sess;
	struct mu_sync_peer *sync;
	struct mu_buf out;          /* frames not yet handed to uv_write */
	size_t inflight;            /* bytes handed to uv_write, not yet written */
	uint64_t wire_out, wire_in; /* bytes written to and read from the socket */
	unsigned refs;              /* handles and requests that still call back */
	uint64_t handed;            /* bytes ever handed to uv_write */
	/* Loop times (ms): listed, handshake done, last message more than a
	 * hello (0: none yet), last write progress while stalling. */
	uint64_t born_ms, ready_ms, useful_ms, progress_ms;
	uint64_t stall_mark; /* conn_written() at progress_ms */
	bool listed;         /* in node->conns */
	bool accepted;       /* another node opened it: admission applies */
	bool dialer, connected, ready, closing;
	bool resolving, feeding;
	bool reading, throttled, held; /* reading = !throttled && !held */
	bool stalling; /* queue past out_low: the write-stall timer runs */
	bool has_expect;
	/* Accepted on the onion service's own listener: every such peer
	 * comes from 127.0.0.1, so it has no address of its own (ip is "")
	 * and the per-address caps and bans pass it by. */
	bool via_tor;
	/* Dialing a .onion address through tor's SocksPort: the SOCKS5
	 * exchange runs first, and the handshake waits for it (socks.h). */
	bool via_socks;
	struct mu_socks *socks;
	uint8_t expect[MU_KEY_BYTES];
	char name[MU_PEER_ADDR_MAX]; /* dialed address, or the peer's IP:PORT */
	char ip[MU_NODE_IP_MAX];
	char *dialed;             /* dialers: the address asked for */
	const char *deferred_why; /* a close waiting for the timer */
	/* Why it ended, for the peers table (mu_conn_reason): the first
	 * reason given wins. */
	char reason[MU_PEER_REASON_SIZE];
	struct mu_why why; /* why feeding failed */
	uint8_t hsbuf[HS_READ_MAX];
	uint8_t *rbuf; /* READ_MAX bytes, once ready */
};

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static int conn_update_reading(struct mu_conn *c);

struct write_req {
	uv_write_t req;
	struct mu_conn *c;
	uint8_t *data;
	size_t len;
};

static void
conn_free(struct mu_conn *c)
{
	mu_sess_free(c->sess);
	if (c->out.data != NULL)
		sodium_memzero(c->out.data, c->out.cap);
	mu_buf_free(&c->out);
	free(c->rbuf);
	free(c->dialed);
	free(c->socks);
	free(c);
}

static void
conn_unref(struct mu_conn *c)
{
	if (--c->refs == 0)
		conn_free(c);
}

static void
on_handle_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

/* A connection with both handles initialised, not yet in node->conns. */
static struct mu_conn *
conn_alloc(struct mu_node *node)
{
	struct mu_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->node = node;
	if (uv_tcp_init(node->loop, &c->tcp) != 0) {
		free(c);
		return NULL;
	}
	/* uv_timer_init cannot fail on an initialised loop. */
	uv_timer_init(node->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->refs = 2;
	return c;
}

/* Closes the handles of a connection that never joined node->conns. */
static void
conn_discard(struct mu_conn *c)
{
	c->closing = true;
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_timer(uv_timer_t *t);

static void
conn_attach(struct mu_conn *c)
{
	struct mu_node *node = c->node;

	c->listed = true;
	c->next = node->conns;
	if (node->conns != NULL)
		node->conns->prev = c;
	node->conns = c;
	c->born_ms = uv_now(node->loop);
	uv_timer_start(&c->timer, on_timer, node->opts.limits.handshake_ms, 0);
}

static void
conn_detach(struct mu_conn *c)
{
	struct mu_node *node = c->node;

	if (!c->listed)
		return;
	c->listed = false;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		node->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
}

/*
 * The one way a listed connection ends. line, when not NULL, is logged at
 * level and, for mu_node_sync(), becomes the reason it failed.
 */
static void
conn_end(struct mu_conn *c, enum mu_log_level level, const char *line)
{
	struct mu_node *node = c->node;

	if (c->closing)
		return;
	c->closing = true;
	/* The reason peer list shows: the line's start is enough. */
	if (line != NULL && c->reason[0] == '\0')
		snprintf(c->reason, sizeof(c->reason), "%.*s",
		         (int)sizeof(c->reason) - 1, line);
	if (line != NULL)
		mu_node_log(node, level, "%s", line);
	mu_node_log(node, MU_LOG_DEBUG,
	            "%s: %" PRIu64 " bytes written, %" PRIu64 " read", c->name,
	            c->wire_out, c->wire_in);
	conn_detach(c);
	/* Ending before sync.c said it was done is a failed sync; our reason
	 * is the precise one, so it goes first. */
	if (node->once && !node->stopping) {
		node->stopping = true;
		node->exit_code = MU_EIO;
		mu_fail(&node->why, MU_EIO, "%s",
		        line != NULL ? line : "the connection closed");
	}
	node->conn_cbs->closed(node, c, c->ready);
	c->sync = NULL;
	if (c->resolving)
		uv_cancel((uv_req_t *)&c->gai);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

void
mu_conn_close(struct mu_conn *c, const char *why)
{
	char line[MU_PEER_ADDR_MAX + MU_WHY_MAX + 32];

	if (why == NULL) {
		conn_end(c, MU_LOG_DEBUG, NULL);
		return;
	}
	if (c->reason[0] == '\0')
		snprintf(c->reason, sizeof(c->reason), "%s", why);
	snprintf(line, sizeof(line), "closed %s: %s", c->name, why);
	conn_end(c, MU_LOG_INFO, line);
}

/* Closes from the loop rather than from inside a caller that still uses the
 * connection (a send from sync.c). why must be a static string. */
static void
conn_defer_close(struct mu_conn *c, const char *why)
{
	if (c->closing || c->deferred_why != NULL)
		return;
	c->deferred_why = why;
	uv_timer_start(&c->timer, on_timer, 0, 0);
}

/* Bytes written to the socket so far, partial writes included: libuv's
 * write queue size drops as each part of a write goes out. */
static uint64_t
conn_written(const struct mu_conn *c)
{
	if (!c->connected)
		return 0;
	return c->handed - uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

/* A stalling connection is looked at four times per write_stall_ms: any byte
 * written since the last look is progress, and only write_stall_ms without
 * any drops it, so that a slow link finishes however long it takes. */
static unsigned
stall_tick_ms(const struct mu_node_limits *lim)
{
	return lim->write_stall_ms >= 4 ? lim->write_stall_ms / 4 : 1;
}

static void
check_stall(struct mu_conn *c)
{
	const struct mu_node_limits *lim = &c->node->opts.limits;
	uint64_t now = uv_now(c->node->loop), written = conn_written(c);
	char why[128];

	if (written != c->stall_mark) {
		c->stall_mark = written;
		c->progress_ms = now;
		return;
	}
	if (now - c->progress_ms < lim->write_stall_ms)
		return;
	snprintf(why, sizeof(why),
	         "the peer stopped reading: %zu bytes queued, none written for %.1f s",
	         mu_conn_queued(c), (double)(now - c->progress_ms) / 1000);
	mu_conn_close(c, why);
}

static void
on_timer(uv_timer_t *t)
{
	struct mu_conn *c = t->data;

	if (c->deferred_why != NULL) {
		mu_conn_close(c, c->deferred_why);
	} else if (c->stalling) {
		check_stall(c);
	} else if (!c->connected)
		mu_conn_close(c, "connect timed out");
	else if (c->via_socks)
		mu_conn_close(c, "tor did not reach the onion service in time");
	else
		mu_conn_close(c, "handshake timed out");
}

/* --- writing ------------------------------------------------------------- */

size_t
mu_conn_queued(const struct mu_conn *c)
{
	return c->out.len + c->inflight;
}

static void
on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct mu_conn *c = w->c;
	const struct mu_node_limits *lim = &c->node->opts.limits;
	size_t before = mu_conn_queued(c), after;

	c->inflight -= w->len;
	if (status == 0) {
		c->wire_out += w->len;
		c->node->report.wire_sent += w->len;
	}
	free(w->data);
	free(w);
	after = mu_conn_queued(c);
	if (c->closing) {
		/* Cancelled by uv_close; nothing more to do. */
	} else if (status < 0) {
		mu_conn_close(c, uv_strerror(status));
	} else if (after < lim->out_low) {
		if (c->stalling) {
			c->stalling = false;
			if (c->deferred_why == NULL)
				uv_timer_stop(&c->timer);
		}
		if (c->throttled) {
			c->throttled = false;
			mu_node_log(c->node, MU_LOG_DEBUG,
			            "%s: write queue drained, reading again", c->name);
			if (conn_update_reading(c) != 0)
				mu_conn_close(c, "cannot read");
		}
		/* Falling below out_low is the signal; an empty queue too,
		 * so a sender that stops short of out_low is never stuck. */
		if ((before >= lim->out_low || after == 0) && c->ready && !c->closing)
			c->node->conn_cbs->writable(c->node, c);
	}
	conn_unref(c);
}

/* Hands everything in buf (c->out, or the SOCKS requests) to libuv as one
 * write; buf is left empty. */
static int
conn_write_buf(struct mu_conn *c, struct mu_buf *buf)
{
	struct write_req *w;
	uv_buf_t b;
	int rc;

	w = malloc(sizeof(*w));
	if (w == NULL) {
		conn_defer_close(c, "out of memory");
		return MU_ENOMEM;
	}
	w->c = c;
	w->data = buf->data;
	w->len = buf->len;
	buf->data = NULL;
	buf->len = buf->cap = 0;
	b = uv_buf_init((char *)w->data, (unsigned)w->len);
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
	if (rc != 0) {
		free(w->data);
		free(w);
		conn_defer_close(c, "write failed");
		return MU_EIO;
	}
	c->inflight += w->len;
	c->handed += w->len;
	c->refs++;
	return 0;
}

/* Hands everything in c->out to libuv as one write. */
static int
conn_flush(struct mu_conn *c)
{
	if (!c->connected || c->closing || c->out.len == 0 || c->via_socks)
		return 0;
	return conn_write_buf(c, &c->out);
}

/* Starts or stops reading as backpressure and holds ask. */
static int
conn_update_reading(struct mu_conn *c)
{
	bool want = c->connected && !c->closing && !c->throttled && !c->held;
	int rc = 0;

	if (want == c->reading)
		return 0;
	if (want)
		rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	else
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = want && rc == 0;
	return rc;
}

static void
conn_check_high(struct mu_conn *c)
{
	const struct mu_node_limits *lim = &c->node->opts.limits;
	size_t queued = mu_conn_queued(c);

	/* A peer that never reads would hold its queue and its place for
	 * ever: once its queue passes out_low, it must go on reading; after
	 * write_stall_ms without a byte written it is dropped (check_stall).
	 * The sender tops the queue up only to just under out_high, so
	 * waiting for out_high would never start the clock. The handshake is
	 * over (only ready connections queue messages), so the timer is
	 * free. */
	if (!c->stalling && queued > lim->out_low && c->deferred_why == NULL &&
	    lim->write_stall_ms > 0) {
		c->stalling = true;
		c->stall_mark = conn_written(c);
		c->progress_ms = uv_now(c->node->loop);
		mu_node_log(c->node, MU_LOG_DEBUG,
		            "%s: %zu bytes queued for writing, dropped after %u s "
		            "without any written",
		            c->name, queued, lim->write_stall_ms / 1000);
		uv_timer_start(&c->timer, on_timer, stall_tick_ms(lim),
		               stall_tick_ms(lim));
	}
	if (c->throttled || queued <= lim->out_high)
		return;
	c->throttled = true;
	mu_node_log(c->node, MU_LOG_DEBUG,
	            "%s: %zu bytes queued for writing, not reading until it drains",
	            c->name, queued);
	conn_update_reading(c);
}

void
mu_conn_hold(struct mu_conn *c, bool hold)
{
	if (c->closing || c->held == hold)
		return;
	c->held = hold;
	if (conn_update_reading(c) != 0)
		conn_defer_close(c, "cannot read");
}

int
mu_conn_send(struct mu_conn *c, const uint8_t *msg, size_t len)
{
	int rc;

	if (c->closing || !c->ready)
		return MU_EINVAL;
	rc = mu_sess_send(c->sess, msg, len, &c->out);
	if (rc != 0)
		return rc;
	conn_check_high(c);
	/* While a read is being fed, replies are gathered into one write. */
	return c->feeding ? 0 : conn_flush(c);
}

/* --- reading ------------------------------------------------------------- */

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct mu_conn *c = h->data;

	(void)hint;
	if (!c->ready) {
		*buf = uv_buf_init((char *)c->hsbuf, sizeof(c->hsbuf));
		return;
	}
	if (c->rbuf == NULL)
		c->rbuf = malloc(READ_MAX);
	/* A NULL buffer makes libuv report UV_ENOBUFS to on_read. */
	*buf = uv_buf_init((char *)c->rbuf, c->rbuf != NULL ? READ_MAX : 0);
}

static void admit_session(struct mu_conn *c);

/* The status of the current organizer record at ctx's address, or -1. */
static int
organizer_status(void *ctx, const struct mu_record *rec)
{
	*(int *)ctx =
	    rec->kind == MU_KIND_ORGANIZER ? (int)rec->c.organizer.status : -1;
	return 0;
}

/* The status of our store's current organizer record of group for key;
 * -1 when there is none. */
static int
stored_organizer(struct mu_conn *c, const uint8_t *group, const uint8_t *key)
{
	char d[2 * MU_KEY_BYTES + 1];
	struct mu_addr addr;
	int status = -1;

	memcpy(addr.group, group, MU_KEY_BYTES);
	addr.kind = MU_KIND_ORGANIZER;
	sodium_bin2hex(d, sizeof(d), key, MU_KEY_BYTES);
	addr.d.ptr = d;
	addr.d.len = 2 * MU_KEY_BYTES;
	if (mu_store_get_addr(c->node->store, &addr, organizer_status, &status) != 0)
		return -1;
	return status;
}

/* The key form of the identity (PROTOCOL.md 9.1): the peer showed no
 * organizer record, so ours must say the key is active. */
static int
vouch_organizer(void *ctx, const uint8_t group[32], const uint8_t key[32],
                struct mu_why *why)
{
	struct mu_conn *c = ctx;
	char k[MU_KEY_TEXT_SIZE];
	int status = stored_organizer(c, group, key);

	if (status == MU_ORGANIZER_ACTIVE)
		return 0;
	mu_key_to_text(k, key);
	if (status == MU_ORGANIZER_REVOKED)
		return mu_fail(why, MU_EPERM,
		               "handshake: the peer proved its group with organizer "
		               "key %s, which the group revoked",
		               k);
	return mu_fail(why, MU_EPERM,
	               "handshake: the peer proved its group with organizer key %s "
	               "alone, and no organizer record for it is here (`muster "
	               "organizer add` makes one)",
	               k);
}

/* Whether the peer proved its group with an organizer key (PROTOCOL.md
 * 9.1) that our store holds revoked: the organizer record it showed is an
 * old one, and whoever holds the key no longer speaks for the group. */
static bool
organizer_revoked(struct mu_conn *c)
{
	const uint8_t *org = mu_sess_peer_organizer(c->sess);
	char line[MU_PEER_ADDR_MAX + 2 * MU_KEY_TEXT_SIZE + 96];
	char group[MU_KEY_TEXT_SIZE], key[MU_KEY_TEXT_SIZE];

	if (org == NULL || stored_organizer(c, mu_sess_peer_group(c->sess), org) !=
	                       MU_ORGANIZER_REVOKED)
		return false;
	mu_key_to_text(group, mu_sess_peer_group(c->sess));
	mu_key_to_text(key, org);
	snprintf(line, sizeof(line),
	         "peer %s proved group %s with organizer key %s, which the group "
	         "revoked; dropping",
	         c->name, group, key);
	conn_end(c, MU_LOG_WARN, line);
	return true;
}

static void
handshake_done(struct mu_conn *c)
{
	struct mu_node *node = c->node;
	char key[MU_KEY_TEXT_SIZE];

	if (organizer_revoked(c))
		return;
	c->ready = true;
	c->ready_ms = uv_now(node->loop);
	uv_timer_stop(&c->timer);
	mu_key_to_text(key, mu_sess_peer_group(c->sess));
	mu_node_log(node, MU_LOG_INFO, "%s %s: handshake done, group %s",
	            c->dialer ? "connected to" : "connection from", c->name, key);
	if (c->accepted) {
		admit_session(c);
		if (c->closing)
			return;
	}
	node->conn_cbs->ready(node, c);
}

static int
on_message(void *ctx, const uint8_t *msg, size_t len)
{
	struct mu_conn *c = ctx;

	/* The responder can get the last handshake message and the first frame
	 * in one read: the session is ready before the feed returns. */
	if (!c->ready && !c->closing)
		handshake_done(c);
	if (c->closing)
		return MU_EINVAL;
	return c->node->conn_cbs->message(c->node, c, msg, len, &c->why);
}

/* Strips the "handshake: " that session.c puts before its reasons, since the
 * log line says it already. */
static const char *
bare_reason(const struct mu_why *why, int rc)
{
	if (why->text[0] == '\0')
		return mu_strerror(rc);
	return mu_why_rule_is(why, "handshake") ? mu_why_detail(why) : why->text;
}

static void
feed_failed(struct mu_conn *c, int rc)
{
	char line[MU_PEER_ADDR_MAX + MU_WHY_MAX + 2 * MU_KEY_TEXT_SIZE + 64];
	char got[MU_KEY_TEXT_SIZE], want[MU_KEY_TEXT_SIZE];
	const uint8_t *proven;

	if (c->ready) {
		mu_conn_close(c, bare_reason(&c->why, rc));
		return;
	}
	proven = mu_sess_proven_group(c->sess);
	if (rc == MU_EPERM && c->has_expect && proven != NULL &&
	    memcmp(proven, c->expect, MU_KEY_BYTES) != 0) {
		mu_key_to_text(got, proven);
		mu_key_to_text(want, c->expect);
		snprintf(c->reason, sizeof(c->reason),
		         "wrong key: it proved group %s, not the key given", got);
		snprintf(line, sizeof(line),
		         "peer %s proved group %s but %s was expected; dropping",
		         c->name, got, want);
		conn_end(c, MU_LOG_WARN, line);
		return;
	}
	if (rc == MU_ESIG && strstr(c->why.text, "does not authenticate") != NULL)
		snprintf(c->reason, sizeof(c->reason),
		         "wrong network: the handshake does not authenticate (it "
		         "runs another --network, or is not a muster node)");
	snprintf(line, sizeof(line), "handshake with %s failed: %s", c->name,
	         bare_reason(&c->why, rc));
	/* Failures of our own dials matter to the operator; strangers that
	 * fail are only noise at the default level, but a peer that proved
	 * the group yet was refused its organizer key is no stranger. */
	conn_end(c,
	         c->dialer || (rc == MU_EPERM && proven != NULL) ? MU_LOG_WARN
	                                                         : MU_LOG_INFO,
	         line);
}

/* A dial that reached a web server (the calendar's port given instead of
 * the node's, or a reverse proxy) gets an HTTP answer to its first
 * handshake message: said as such, rather than as a malformed message. */
static bool
answers_http(struct mu_conn *c, const char *data, size_t len)
{
	static const char http[] = "HTTP/";

	if (!c->dialer || c->ready || c->wire_in != 0 || len < sizeof(http) - 1 ||
	    memcmp(data, http, sizeof(http) - 1) != 0)
		return false;
	snprintf(c->reason, sizeof(c->reason),
	         MU_PROBE_HTTP_REASON
	         ": it answered in HTTP, so it is a web server (the "
	         "calendar's port?), not a muster node's port (7420 by default)");
	mu_conn_close(c, c->reason);
	return true;
}

/* What tor's SocksPort answered a dial to an onion address. The onion
 * service speaks only after our first handshake message, so nothing may
 * follow the CONNECT reply. */
static void
socks_read(struct mu_conn *c, const uint8_t *in, size_t n)
{
	struct mu_buf req = MU_BUF_INIT;
	size_t used = 0;
	int rc;

	rc = mu_socks_feed(c->socks, in, n, &used, &req, &c->why);
	if (rc >= 0 && req.len > 0)
		conn_write_buf(c, &req);
	mu_buf_free(&req);
	if (rc < 0) {
		mu_conn_close(c, mu_why_or(&c->why, rc));
		return;
	}
	if (rc == 0)
		return;
	if (used < n) {
		mu_conn_close(c, "the onion service spoke before our handshake");
		return;
	}
	c->via_socks = false;
	mu_node_log(c->node, MU_LOG_DEBUG, "%s: tor reached the onion service",
	            c->name);
	uv_timer_start(&c->timer, on_timer, c->node->opts.limits.handshake_ms, 0);
	conn_flush(c); /* our first handshake message */
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mu_conn *c = s->data;
	int rc;

	if (c->closing || nread == 0)
		return;
	if (nread < 0) {
		if (nread == UV_EOF && !c->ready && c->wire_in == 0)
			mu_conn_close(c, "the peer closed during the handshake "
			                 "without answering it");
		else if (nread == UV_EOF)
			mu_conn_close(c, c->ready
			                     ? "closed by the peer"
			                     : "the peer closed during the handshake");
		else
			mu_conn_close(c, uv_strerror((int)nread));
		return;
	}
	if (answers_http(c, buf->base, (size_t)nread))
		return;
	c->wire_in += (size_t)nread;
	c->node->report.wire_received += (size_t)nread;
	c->why.text[0] = '\0';
	if (c->via_socks) {
		socks_read(c, (const uint8_t *)buf->base, (size_t)nread);
		return;
	}
	c->feeding = true;
	rc = mu_sess_feed(c->sess, (const uint8_t *)buf->base, (size_t)nread, &c->out,
	                  on_message, c, &c->why);
	c->feeding = false;
	if (c->closing)
		return;
	if (rc != 0) {
		feed_failed(c, rc);
		return;
	}
	if (!c->ready && mu_sess_ready(c->sess))
		handshake_done(c);
	if (!c->closing)
		conn_flush(c);
}

/* --- admission ---------------------------------------------------------- */

/* Ends c to make room for newcomer (why says which cap), with a line that
 * the admission log rate-limits. */
static void
evict(struct mu_conn *c, const struct mu_conn *newcomer, const char *why)
{
	struct mu_node *node = c->node;

	mu_node_log_limited(node, &node->admit_log,
	                    "evicted %s after %.1f s: %s; %s gets its place", c->name,
	                    (double)(uv_now(node->loop) - c->born_ms) / 1000, why,
	                    newcomer->name);
	conn_end(c, MU_LOG_DEBUG, NULL);
}

/* Whether c is a handshake another node opened, from ip if not NULL. */
static bool
pending_in(const struct mu_conn *c, const char *ip)
{
	return c->accepted && !c->ready && !c->closing &&
	       (ip == NULL || strcmp(c->ip, ip) == 0);
}

static unsigned
count_pending(const struct mu_node *node, const char *ip)
{
	unsigned n = 0;

	for (const struct mu_conn *c = node->conns; c != NULL; c = c->next)
		n += pending_in(c, ip);
	return n;
}

/* How much of its first handshake message a stranger has sent: what was
 * read, and what waits in the socket (so that one accepted in the same
 * burst as the newcomer, whose bytes are not read yet, counts them). */
static size_t
first_msg_progress(const struct mu_conn *c)
{
	size_t got = c->wire_in;
	uv_os_fd_t fd;
	int waiting = 0;

	if (got < HS_FIRST_LEN && uv_fileno((const uv_handle_t *)&c->tcp, &fd) == 0 &&
	    ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0)
		got += (size_t)waiting;
	return got < HS_FIRST_LEN ? got : HS_FIRST_LEN;
}

/* The handshake to give up for a newcomer, among those from ip (all when
 * NULL): the one furthest from sending its first message, the oldest of
 * those. Whole first messages tie, so an honest dialer that has sent its
 * own is evicted only after every older one. */
static struct mu_conn *
pending_victim(const struct mu_node *node, const char *ip)
{
	struct mu_conn *best = NULL;
	size_t best_got = 0, got;

	for (struct mu_conn *c = node->conns; c != NULL; c = c->next) {
		if (!pending_in(c, ip))
			continue;
		got = first_msg_progress(c);
		if (best == NULL || got < best_got ||
		    (got == best_got && c->born_ms <= best->born_ms)) {
			best = c;
			best_got = got;
		}
	}
	return best;
}

/* Makes room among the handshakes for c (not listed yet): false when a cap
 * of 0 leaves none. */
static bool
room_for_handshake(struct mu_conn *c)
{
	const struct mu_node *node = c->node;
	const struct mu_node_limits *lim = &node->opts.limits;
	struct mu_conn *victim;

	if (!c->via_tor && count_pending(node, c->ip) >= lim->max_handshaking_per_ip) {
		victim = pending_victim(node, c->ip);
		if (victim == NULL)
			return false;
		evict(victim, c,
		      "too many connections in the handshake from this address");
	}
	if (count_pending(node, NULL) >= lim->max_handshaking) {
		victim = pending_victim(node, NULL);
		if (victim == NULL)
			return false;
		evict(victim, c, "too many connections in the handshake");
	}
	return true;
}

/* Whether c is a session another node opened, other than except, of key
 * and from ip (either NULL: any). */
static bool
session_in(const struct mu_conn *c, const struct mu_conn *except, const uint8_t *key,
           const char *ip)
{
	return c != except && c->accepted && c->ready && !c->closing &&
	       (ip == NULL || strcmp(c->ip, ip) == 0) &&
	       (key == NULL ||
	        memcmp(mu_sess_peer_group(c->sess), key, MU_KEY_BYTES) == 0);
}

static unsigned
count_sessions(const struct mu_node *node, const uint8_t *key, const char *ip)
{
	unsigned n = 0;

	for (const struct mu_conn *c = node->conns; c != NULL; c = c->next)
		n += session_in(c, NULL, key, ip);
	return n;
}

/* Whether session a is a better one to evict than b: one that never sent
 * more than a hello before one that did, then the longer quiet. */
static bool
weaker(const struct mu_conn *a, const struct mu_conn *b)
{
	if ((a->useful_ms == 0) != (b->useful_ms == 0))
		return a->useful_ms == 0;
	if (a->useful_ms == 0)
		return a->ready_ms < b->ready_ms;
	return a->useful_ms < b->useful_ms;
}

/* The session to end for newcomer among those of key and from ip (either
 * NULL: any); by_address first narrows them to the address that holds the
 * most. */
static struct mu_conn *
session_victim(const struct mu_node *node, const struct mu_conn *newcomer,
               const uint8_t *key, const char *ip, bool by_address)
{
	struct mu_conn *best = NULL;
	unsigned best_n = 0, n;

	for (struct mu_conn *c = node->conns; c != NULL; c = c->next) {
		if (!session_in(c, newcomer, key, ip))
			continue;
		/* Each onion peer is an address of its own. */
		n = !by_address  ? 0
		    : c->via_tor ? 1
		                 : count_sessions(node, NULL, c->ip);
		if (best == NULL || n > best_n || (n == best_n && weaker(c, best))) {
			best = c;
			best_n = n;
		}
	}
	return best;
}

/* c has just become ready: past a cap, another session goes (or c itself,
 * when a cap of 0 leaves no other). */
static void
admit_session(struct mu_conn *c)
{
	const struct mu_node *node = c->node;
	const struct mu_node_limits *lim = &node->opts.limits;
	const uint8_t *key = mu_sess_peer_group(c->sess);
	struct mu_conn *victim;

	if (count_sessions(node, key, NULL) > lim->max_sessions_per_key) {
		victim = session_victim(node, c, key, NULL, false);
		evict(victim != NULL ? victim : c, c,
		      "too many sessions of this group key");
	}
	if (!c->closing && !c->via_tor &&
	    count_sessions(node, NULL, c->ip) > lim->max_sessions_per_ip) {
		victim = session_victim(node, c, NULL, c->ip, false);
		evict(victim != NULL ? victim : c, c,
		      "too many sessions from this address");
	}
	if (!c->closing && count_sessions(node, NULL, NULL) > lim->max_conns) {
		victim = session_victim(node, c, NULL, NULL, true);
		evict(victim != NULL ? victim : c, c, "too many sessions");
	}
}

void
mu_conn_useful(struct mu_conn *c)
{
	c->useful_ms = uv_now(c->node->loop);
}

void
mu_conn_sweep(struct mu_node *node)
{
	const struct mu_node_limits *lim = &node->opts.limits;
	uint64_t now = uv_now(node->loop), last;
	struct mu_conn *c, *next;

	for (c = node->conns; c != NULL && lim->idle_ms > 0; c = next) {
		next = c->next;
		/* Not while we hold its messages back or it drains our queue:
		 * the write-stall rule judges that. */
		if (!c->ready || c->closing || !c->connected || c->held ||
		    c->throttled || c->stalling)
			continue;
		last = c->useful_ms > c->ready_ms ? c->useful_ms : c->ready_ms;
		if (now - last < lim->idle_ms)
			continue;
		mu_node_log_limited(node, &node->admit_log,
		                    "closed %s: idle, no message but hellos for %.1f s",
		                    c->name, (double)(now - last) / 1000);
		conn_end(c, MU_LOG_DEBUG, NULL);
	}
	mu_node_log_limited_flush(node, &node->admit_log);
}

/* --- accepting ----------------------------------------------------------- */

static void
set_socket_options(struct mu_conn *c)
{
	/* Small messages (hello, acks) should not wait for Nagle; keepalive
	 * finds peers that vanished without closing. Both are best effort. */
	uv_tcp_nodelay(&c->tcp, 1);
	uv_tcp_keepalive(&c->tcp, 1, 60);
}

static int
new_session(struct mu_conn *c, struct mu_why *why)
{
	uint8_t e[MU_NOISE_KEY_BYTES];
	int rc;

	randombytes_buf(e, sizeof(e));
	rc = mu_sess_new(&c->sess, c->dialer, c->node->opts.network, c->node->identity,
	                 c->has_expect ? c->expect : NULL, e, &c->out, why);
	sodium_memzero(e, sizeof(e));
	if (rc == 0)
		mu_sess_set_vouch(c->sess, vouch_organizer, c);
	return rc;
}

/* An onion peer's name: "via tor #PORT", the port tor dialed us from
 * (unique while it is connected), instead of 127.0.0.1:PORT. */
static void
name_via_tor(struct mu_conn *c)
{
	const char *colon = strrchr(c->name, ':');
	unsigned port = colon != NULL ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;

	snprintf(c->name, sizeof(c->name), "via tor #%u", port);
	c->ip[0] = '\0';
}

int
mu_conn_accept(struct mu_node *node, uv_stream_t *server, bool via_tor)
{
	struct sockaddr_storage sa;
	struct mu_why why = {0};
	struct mu_conn *c;
	const char *no;
	int len = sizeof(sa), rc;

	c = conn_alloc(node);
	if (c == NULL) {
		mu_node_log(node, MU_LOG_ERROR, "cannot accept a connection: %s",
		            mu_strerror(MU_ENOMEM));
		return MU_ENOMEM;
	}
	rc = uv_accept(server, (uv_stream_t *)&c->tcp);
	if (rc == 0)
		rc = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len);
	if (rc != 0) {
		mu_node_log(node, MU_LOG_DEBUG, "accept failed: %s", uv_strerror(rc));
		conn_discard(c);
		return MU_EIO;
	}
	mu_node_addr_name((struct sockaddr *)&sa, c->name, sizeof(c->name), c->ip);
	c->accepted = true;
	c->via_tor = via_tor;
	if (via_tor)
		name_via_tor(c);
	if (node->stopping)
		no = "stopping";
	else if (!via_tor && node->conn_cbs->banned(node, c->ip))
		no = "banned";
	else if (!via_tor && node->opts.tor_only && strcmp(c->ip, "127.0.0.1") != 0 &&
	         strcmp(c->ip, "::1") != 0)
		no = "--tor-only accepts only what tor forwards (loopback)";
	else if (!room_for_handshake(c))
		no = "no connections in the handshake are allowed";
	else
		no = NULL;
	if (no != NULL) {
		/* Accepted only to be closed at once: a listener that stops
		 * accepting would stall every later peer. */
		mu_node_log_limited(node, &node->admit_log, "refused %s: %s", c->name,
		                    no);
		conn_discard(c);
		return 0;
	}
	c->connected = true;
	rc = new_session(c, &why);
	if (rc != 0) {
		mu_node_log(node, MU_LOG_ERROR, "cannot start a session with %s: %s",
		            c->name, mu_why_or(&why, rc));
		conn_discard(c);
		return rc;
	}
	conn_attach(c);
	set_socket_options(c);
	mu_node_log(node, MU_LOG_DEBUG, "accepted %s", c->name);
	rc = conn_update_reading(c);
	if (rc != 0)
		mu_conn_close(c, uv_strerror(rc));
	return 0;
}

/* --- dialing ------------------------------------------------------------- */

static void
socks_begin(struct mu_conn *c)
{
	struct mu_buf req = MU_BUF_INIT;
	char host[MU_NODE_HOST_MAX];
	uint16_t port;
	int rc;

	rc = mu_node_addr_split(c->dialed, host, &port, NULL);
	if (rc == 0)
		rc = mu_socks_start(c->socks, host, port, &req);
	if (rc == 0)
		rc = conn_write_buf(c, &req);
	mu_buf_free(&req);
	if (rc != 0)
		mu_conn_close(c, "cannot ask tor for the onion service");
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct mu_conn *c = req->data;
	struct sockaddr_storage sa;
	int len = sizeof(sa), rc;
	char line[MU_PEER_ADDR_MAX + 64];

	if (c->closing)
		goto out;
	if (status < 0) {
		snprintf(line, sizeof(line), "cannot connect to %s: %s", c->name,
		         uv_strerror(status));
		conn_end(c, MU_LOG_INFO, line);
		goto out;
	}
	c->connected = true;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) == 0) {
		mu_node_addr_name((struct sockaddr *)&sa, line, sizeof(line), c->ip);
		mu_node_log(c->node, MU_LOG_DEBUG, "dialed %s: connected to %s",
		            c->name, line);
	}
	set_socket_options(c);
	rc = conn_update_reading(c);
	if (rc != 0) {
		mu_conn_close(c, uv_strerror(rc));
		goto out;
	}
	if (c->via_socks)
		socks_begin(c);
	conn_flush(c); /* our first handshake message, unless SOCKS goes first */
out:
	conn_unref(c);
}

static void
conn_connect(struct mu_conn *c, const struct sockaddr *sa)
{
	char line[MU_PEER_ADDR_MAX + 64];
	int rc;

	c->connect.data = c;
	rc = uv_tcp_connect(&c->connect, &c->tcp, sa, on_connect);
	if (rc != 0) {
		snprintf(line, sizeof(line), "cannot connect to %s: %s", c->name,
		         uv_strerror(rc));
		conn_end(c, MU_LOG_INFO, line);
		return;
	}
	c->refs++;
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct mu_conn *c = req->data;
	char line[MU_PEER_ADDR_MAX + 64];

	c->resolving = false;
	if (c->closing) {
		/* cancelled, or too late */
	} else if (status < 0 || res == NULL) {
		snprintf(line, sizeof(line), "cannot resolve %s: %s", c->name,
		         uv_strerror(status));
		conn_end(c, MU_LOG_INFO, line);
	} else {
		conn_connect(c, res->ai_addr);
	}
	uv_freeaddrinfo(res);
	conn_unref(c);
}

int
mu_conn_dial(struct mu_node *node, const char *addr, const uint8_t *expect_group,
             struct mu_why *why)
{
	char host[MU_NODE_HOST_MAX], service[8];
	struct sockaddr_storage sa;
	struct addrinfo hints;
	struct mu_conn *c;
	uint16_t port;
	int rc, route;

	rc = mu_node_addr_split(addr, host, &port, why);
	if (rc != 0)
		return rc;
	if (port == 0)
		return mu_fail(why, MU_EINVAL, "address %s: port 0 cannot be dialed",
		               addr);
	if (strlen(addr) >= MU_PEER_ADDR_MAX)
		return mu_fail(why, MU_EINVAL, "address %s is too long", addr);
	route = mu_tor_route(node, host, &sa, why);
	if (route < 0)
		return route;
	c = conn_alloc(node);
	if (c == NULL || (c->dialed = strdup(addr)) == NULL) {
		if (c != NULL)
			conn_discard(c);
		return mu_fail(why, MU_ENOMEM, "out of memory");
	}
	c->dialer = true;
	snprintf(c->name, sizeof(c->name), "%s", addr);
	if (expect_group != NULL) {
		c->has_expect = true;
		memcpy(c->expect, expect_group, MU_KEY_BYTES);
	}
	rc = new_session(c, why);
	if (rc != 0) {
		conn_discard(c);
		return rc;
	}
	conn_attach(c);
	mu_node_log(node, MU_LOG_DEBUG, "dialing %s", addr);

	if (route == 1) {
		/* Through tor: reaching an onion service takes seconds. */
		c->via_socks = true;
		c->socks = calloc(1, sizeof(*c->socks));
		if (c->socks == NULL) {
			conn_end(c, MU_LOG_ERROR, "out of memory");
			return 0;
		}
		uv_timer_start(&c->timer, on_timer, MU_TOR_DIAL_MS, 0);
		conn_connect(c, (struct sockaddr *)&sa);
		return 0;
	}
	if (mu_node_addr_numeric(host, port, &sa) == 0) {
		conn_connect(c, (struct sockaddr *)&sa);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	c->gai.data = c;
	rc = uv_getaddrinfo(node->loop, &c->gai, on_resolved, host, service, &hints);
	if (rc != 0) {
		char line[MU_PEER_ADDR_MAX + 64];

		snprintf(line, sizeof(line), "cannot resolve %s: %s", addr,
		         uv_strerror(rc));
		conn_end(c, MU_LOG_INFO, line);
		return 0;
	}
	c->resolving = true;
	c->refs++;
	return 0;
}

/* --- without a socket ---------------------------------------------------- */

int
mu_conn_adopt(struct mu_node *node, struct mu_sess *sess, bool dialer, const char *name,
              struct mu_conn **out)
{
	struct mu_conn *c;

	*out = NULL;
	if (!mu_sess_ready(sess) || strlen(name) >= MU_PEER_ADDR_MAX)
		return MU_EINVAL;
	if ((c = conn_alloc(node)) == NULL)
		return MU_ENOMEM;
	c->dialer = dialer;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (dialer && (c->dialed = strdup(name)) == NULL) {
		conn_discard(c);
		return MU_ENOMEM;
	}
	/* Never connected: conn_flush() keeps what is sent in c->out and
	 * conn_update_reading() never starts reading. */
	c->sess = sess;
	conn_attach(c);
	handshake_done(c);
	*out = c;
	return 0;
}

int
mu_conn_take_output(struct mu_conn *c, struct mu_buf *out)
{
	int rc = mu_buf_append(out, c->out.data, c->out.len);

	if (rc == 0 && c->out.data != NULL) {
		sodium_memzero(c->out.data, c->out.len);
		c->out.len = 0;
	}
	return rc;
}

/* --- accessors ----------------------------------------------------------- */

const uint8_t *
mu_conn_peer_group(const struct mu_conn *c)
{
	return c->ready ? mu_sess_peer_group(c->sess) : NULL;
}

const uint8_t *
mu_conn_binding(const struct mu_conn *c, size_t *len)
{
	*len = 0;
	return c->ready ? mu_sess_handshake_hash(c->sess, len) : NULL;
}

const char *
mu_conn_name(const struct mu_conn *c)
{
	return c->name;
}

const char *
mu_conn_ip(const struct mu_conn *c)
{
	return c->ip;
}

bool
mu_conn_is_dialer(const struct mu_conn *c)
{
	return c->dialer;
}

bool
mu_conn_is_ready(const struct mu_conn *c)
{
	return c->ready && !c->closing;
}

struct mu_conn *
mu_conn_next(const struct mu_conn *c)
{
	struct mu_conn *n = c->next;

	/* A connection closed during a walk keeps its next pointer until it is
	 * freed (never during the walk), so skip over the closed ones. */
	while (n != NULL && n->closing)
		n = n->next;
	return n;
}

struct mu_sync_peer *
mu_conn_sync(const struct mu_conn *c)
{
	return c->sync;
}

void
mu_conn_set_sync(struct mu_conn *c, struct mu_sync_peer *s)
{
	c->sync = s;
}

bool
mu_conn_unanswered(const struct mu_conn *c)
{
	return c->dialer && c->connected && !c->ready && c->wire_in == 0 &&
	       strstr(c->reason, "without answering") != NULL;
}

const char *
mu_conn_reason(const struct mu_conn *c)
{
	return c->reason;
}

const char *
mu_conn_dialed_addr(const struct mu_conn *c)
{
	return c->dialer ? c->dialed : NULL;
}
