/*
 * daemon.c - the node's loop: mu_node_serve() and mu_node_sync() (node.h).
 *
 * Both open the home, the identity and the store, run one libuv loop and
 * tear everything down on one path. Serving adds the serve lock, the
 * listener, the poll and reconcile timers and the dialer; a one-shot sync
 * dials one address and stops when sync.c sets node->stopping or the
 * connection ends.
 *
 * Stopping (a signal, or sync.c being done) closes the listener and every
 * connection and lets uv_run() finish what is in flight. Store writes
 * happen in one call each, on the loop thread or (the commits of records
 * from peers) on the thread pool, so a signal, which libuv delivers
 * through the loop, never lands inside a write transaction: the current
 * one always finishes. Thread-pool work still running is waited for by
 * uv_run() before the store closes.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../protocol/textform.h"
#include "../storage/local.h"
#include "addr.h"
#include "http/http.h"
#include "entries.h"
#include "internal.h"

/* A burst of connections (hundreds at once) waits in the kernel's queue
 * until accept() refuses what is over the caps, with a log line, rather than
 * overflowing it: an overflowing queue drops handshakes of honest peers
 * too, and they retry only seconds later. The kernel caps it at somaxconn. */
#define LISTEN_BACKLOG 1024
/* Connections accepted in one turn of the loop. libuv accepts for as long as
 * the kernel has one ready, and an attacker who reconnects as soon as a
 * connection is evicted (its socket closes at once) always has one ready:
 * without a bound, one turn would never end, so the evicted connections'
 * memory would never be freed (their handles close at the end of the turn)
 * and honest handshakes would never be read. */
#define ACCEPTS_PER_TURN 64

struct daemon {
	struct mu_node node;
	uv_loop_t loop;
	uv_tcp_t listener;
	/* With --tor: 127.0.0.1 at a port of its own, the onion service's
	 * only target, so that conn.c knows its peers came through tor. */
	uv_tcp_t onion;
	uv_timer_t poll, tick, watch;
	uv_poll_t wake; /* HOME/serve.wake (wake.c), bound as wake_fd */
	uv_signal_t sigint, sigterm;
	/* Notice node->stopping whichever phase of a loop turn set it: before
	 * the loop waits for I/O (prepare) and after it (check). */
	uv_prepare_t prepare;
	uv_check_t check;
	bool loop_ok, down;
	int lock_fd, wake_fd;
	unsigned accepts;      /* in this turn of the loop */
	const char *sync_addr; /* mu_node_sync(): whom to dial */
	const uint8_t *sync_expect;
	/* One waits for the next turn (on_check), on the listener or the
	 * onion listener. */
	bool accept_held, onion_held;
};

void
mu_node_limits_default(struct mu_node_limits *l)
{
	l->handshake_ms = 10000;
	l->max_handshaking = 16;
	l->max_handshaking_per_ip = 4;
	l->max_conns = 64;
	l->max_sessions_per_ip = 16;
	l->max_sessions_per_key = 4;
	l->idle_ms = 180000;
	l->admit_log_ms = 10000;
	l->max_recs_per_frame = 64;
	l->max_ids_per_want = 1024;
	l->send_turn_us = 4000;
	l->out_high = 1024 * 1024;
	l->out_low = 256 * 1024;
	l->write_stall_ms = 60000;
	l->max_invalid = 16;
	l->ban_ms = 600000;
	l->reconcile_ms = 60000;
	l->poll_ms = 200;
	l->dial_min_ms = 1000;
	l->dial_max_ms = 300000;
	l->outside_keep_s = 30 * 86400;
	l->map_lease_s = 3600;
	l->map_retry_s = 300;
	l->acts_debounce_ms = 60000;
	l->posts_per_min = 30;
	l->entries_sweep_ms = 600000;
}

#define UINT_LIMIT(name)                                                               \
	{                                                                              \
#name, offsetof(struct mu_node_limits, name), false                    \
	}
#define SIZE_LIMIT(name)                                                               \
	{                                                                              \
#name, offsetof(struct mu_node_limits, name), true                     \
	}

static const struct {
	const char *name;
	size_t off;
	bool is_size;
} limit_fields[] = {
    UINT_LIMIT(handshake_ms),
    UINT_LIMIT(max_handshaking),
    UINT_LIMIT(max_handshaking_per_ip),
    UINT_LIMIT(max_conns),
    UINT_LIMIT(max_sessions_per_ip),
    UINT_LIMIT(max_sessions_per_key),
    UINT_LIMIT(idle_ms),
    UINT_LIMIT(admit_log_ms),
    UINT_LIMIT(max_recs_per_frame),
    UINT_LIMIT(max_ids_per_want),
    UINT_LIMIT(send_turn_us),
    SIZE_LIMIT(out_high),
    SIZE_LIMIT(out_low),
    UINT_LIMIT(max_invalid),
    UINT_LIMIT(ban_ms),
    UINT_LIMIT(reconcile_ms),
    UINT_LIMIT(poll_ms),
    UINT_LIMIT(dial_min_ms),
    UINT_LIMIT(dial_max_ms),
    UINT_LIMIT(write_stall_ms),
    UINT_LIMIT(outside_keep_s),
    UINT_LIMIT(map_lease_s),
    UINT_LIMIT(map_retry_s),
    UINT_LIMIT(acts_debounce_ms),
    UINT_LIMIT(posts_per_min),
    UINT_LIMIT(entries_sweep_ms),
};

static int
set_limit(struct mu_node_limits *l, const char *item, size_t len, struct mu_why *why)
{
	const char *eq = memchr(item, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - item) : len;
	unsigned long long v = 0;
	const char *p;

	for (size_t i = 0; i < sizeof(limit_fields) / sizeof(limit_fields[0]); i++) {
		if (strlen(limit_fields[i].name) != nlen ||
		    memcmp(limit_fields[i].name, item, nlen) != 0)
			continue;
		if (eq == NULL || eq + 1 == item + len)
			return mu_fail(why, MU_EINVAL,
			               "%.*s has no value: write %.*s=NUMBER", (int)len,
			               item, (int)nlen, item);
		for (p = eq + 1; p < item + len; p++) {
			if (*p < '0' || *p > '9' || v > UINT32_MAX)
				return mu_fail(why, MU_EINVAL,
				               "%.*s: the value must be a whole number "
				               "below 2^32",
				               (int)len, item);
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > UINT32_MAX)
			return mu_fail(
			    why, MU_EINVAL,
			    "%.*s: the value must be a whole number below 2^32",
			    (int)len, item);
		if (limit_fields[i].is_size)
			*(size_t *)((char *)l + limit_fields[i].off) = (size_t)v;
		else
			*(unsigned *)((char *)l + limit_fields[i].off) = (unsigned)v;
		return 0;
	}
	return mu_fail(why, MU_EINVAL,
	               "no limit is named '%.*s' (the names are the fields of "
	               "struct mu_node_limits in node/node.h, such as idle_ms)",
	               (int)nlen, item);
}

int
mu_node_limits_parse(struct mu_node_limits *l, const char *text, struct mu_why *why)
{
	const char *item = text, *comma;
	int rc;

	while (*item != '\0') {
		comma = strchr(item, ',');
		if (comma == NULL)
			comma = item + strlen(item);
		if (comma > item &&
		    (rc = set_limit(l, item, (size_t)(comma - item), why)) != 0)
			return rc;
		item = *comma == ',' ? comma + 1 : comma;
	}
	return 0;
}

void
mu_node_opts_default(struct mu_node_opts *opts, const char *home)
{
	memset(opts, 0, sizeof(*opts));
	opts->home = home;
	opts->listen = MU_NODE_DEFAULT_LISTEN;
	opts->http = MU_NODE_DEFAULT_HTTP;
	opts->network = MU_NODE_DEFAULT_NETWORK;
	opts->hops = MU_NODE_DEFAULT_HOPS;
	opts->log_level = MU_LOG_INFO;
	opts->keep_entries_days = 30;
	mu_node_limits_default(&opts->limits);
}

static void
close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Stops everything; uv_run() returns once the closes have called back. */
static void
stop_all(struct daemon *d)
{
	struct mu_node *node = &d->node;

	if (d->down)
		return;
	d->down = true;
	node->stopping = true;
	mu_dial_stop(node);
	mu_portmap_stop(node);
	mu_probe_stop(node);
	mu_acts_host_stop(node);
	mu_http_stop(node);
	mu_tor_stop(node);
	mu_node_entries_stop(node);
	mu_node_stalls_stop(node);
	while (node->conns != NULL)
		mu_conn_close(node->conns, "the node is stopping");
	/* What is left is the daemon's own: listener, timers, signals. */
	uv_walk(&d->loop, close_handle, NULL);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct mu_node *node = &d->node;

	mu_node_log(node, MU_LOG_INFO, "%s received: stopping",
	            signum == SIGINT ? "SIGINT" : "SIGTERM");
	if (node->once && !node->stopping) {
		node->exit_code = MU_EIO;
		mu_fail(&node->why, MU_EIO, "interrupted before the sync completed");
	}
	stop_all(d);
}

static void
on_check(uv_check_t *h)
{
	struct daemon *d = h->data;

	d->accepts = 0;
	if (d->node.stopping) {
		stop_all(d);
	} else {
		/* uv_accept() takes the one libuv kept and watches again. */
		if (d->accept_held) {
			d->accept_held = false;
			d->accepts++;
			mu_conn_accept(&d->node, (uv_stream_t *)&d->listener, false);
		}
		if (d->onion_held) {
			d->onion_held = false;
			d->accepts++;
			mu_conn_accept(&d->node, (uv_stream_t *)&d->onion, true);
		}
	}
}

static void
on_prepare(uv_prepare_t *h)
{
	struct daemon *d = h->data;

	if (d->node.stopping)
		stop_all(d);
}

static void
on_poll(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->node.stopping) {
		mu_sync_poll(&d->node);
		mu_conn_sweep(&d->node);
	}
}

static void
on_tick(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->node.stopping)
		mu_sync_tick(&d->node);
}

static void
on_watch(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->node.stopping)
		mu_sync_watch(&d->node);
}

/* The watch over unanswered peers, a twentieth of the period that
 * decides when they have been silent too long, and at least every
 * MU_SYNC_WATCH_MS: a give-up comes at most that late. */
static void
start_watch(struct daemon *d)
{
	unsigned ms = d->node.opts.limits.reconcile_ms / 20;

	if (ms > MU_SYNC_WATCH_MS)
		ms = MU_SYNC_WATCH_MS;
	if (ms == 0)
		ms = 1;
	uv_timer_init(&d->loop, &d->watch);
	d->watch.data = d;
	uv_timer_start(&d->watch, on_watch, ms, ms);
	/* It never keeps the loop alive on its own: a one-shot sync ends
	 * when its connection does. */
	uv_unref((uv_handle_t *)&d->watch);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;
	bool via_tor = server == (uv_stream_t *)&d->onion;

	if (status < 0) {
		mu_node_log(&d->node, MU_LOG_WARN, "accepting failed: %s",
		            uv_strerror(status));
		return;
	}
	if (d->accepts >= ACCEPTS_PER_TURN) {
		/* Not accepted: libuv keeps it and stops watching the
		 * listener until on_check() accepts it. */
		*(via_tor ? &d->onion_held : &d->accept_held) = true;
		return;
	}
	d->accepts++;
	mu_conn_accept(&d->node, server, via_tor);
}

static int
check_network(const char *network, struct mu_why *why)
{
	size_t n = network != NULL ? strlen(network) : 0;

	if (n == 0 || n > MU_SESS_NETWORK_MAX)
		return mu_fail(why, MU_EINVAL, "the network name must be 1-%d bytes",
		               MU_SESS_NETWORK_MAX);
	for (size_t i = 0; i < n; i++)
		if (network[i] <= ' ' || network[i] > '~')
			return mu_fail(why, MU_EINVAL,
			               "network name %s: only printable ASCII without "
			               "spaces",
			               network);
	return 0;
}

static int
copy_organizer(void *ctx, const struct mu_record *rec)
{
	struct mu_sess_identity *id = ctx;

	if (rec->c.organizer.status != MU_ORGANIZER_ACTIVE ||
	    rec->raw_len > sizeof(id->organizer))
		return MU_EPERM;
	memcpy(id->organizer, rec->raw, rec->raw_len);
	id->organizer_len = rec->raw_len;
	return 0;
}

/* This home's active organizer record into id, for the organizer variant
 * of the identity proof, or, when the store has none yet, its organizer
 * key for the key form (docs/PROTOCOL.md 9.1). */
static int
own_organizer_record(struct mu_node *node, struct mu_sess_identity *id,
                     struct mu_why *why)
{
	char hex[2 * MU_KEY_BYTES + 1];
	struct mu_addr a;
	int rc;

	if (!node->home->has_organizer || node->home->org_secret == NULL)
		return mu_fail(why, MU_ENOTFOUND,
		               "this home holds no key to prove its group");
	sodium_bin2hex(hex, sizeof(hex), node->home->organizer, MU_KEY_BYTES);
	memcpy(a.group, node->home->group, MU_KEY_BYTES);
	a.kind = MU_KIND_ORGANIZER;
	a.d.ptr = hex;
	a.d.len = 2 * MU_KEY_BYTES;
	rc = mu_store_get_addr(node->store, &a, copy_organizer, id);
	if (rc == MU_ENOTFOUND) {
		/* Not received yet (a home that joined its group): the key
		 * form, which a peer holding the record accepts; sync then
		 * brings the record here. */
		id->by_key = true;
		memcpy(id->organizer_key, node->home->organizer, MU_KEY_BYTES);
		return 0;
	}
	if (rc == MU_EPERM)
		return mu_fail(why, rc, "this home's organizer key was revoked");
	if (rc != 0)
		return mu_fail(why, rc, "cannot read this home's organizer record: %s",
		               mu_strerror(rc));
	return 0;
}

static int
make_identity(struct mu_node *node, struct mu_why *why)
{
	uint8_t pub[MU_NOISE_KEY_BYTES];
	struct mu_sess_identity *id;
	int rc;

	id = sodium_malloc(sizeof(*id));
	if (id == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory for the node's keys");
	node->identity = id;
	rc = mu_home_noise_key(node->home, id->noise_secret, why);
	if (rc != 0)
		return rc;
	mu_noise_public(pub, id->noise_secret);
	memcpy(id->group, node->home->group, MU_KEY_BYTES);
	id->organizer_len = 0; /* proven by the group's own key */
	id->by_key = false;
	if (node->home->secret != NULL) {
		mu_sess_sign_proof(id->proof, pub, node->home->secret);
		return 0;
	}
	/* No root key here (it went offline, or the home joined its group):
	 * the organizer variant, with this home's organizer record, or the
	 * key form while that record has not arrived. */
	rc = own_organizer_record(node, id, why);
	if (rc == 0)
		mu_sess_sign_proof(id->proof, pub, node->home->org_secret);
	return rc;
}

static int
open_store(struct mu_node *node, struct mu_why *why)
{
	struct mu_store_opts so;
	char *dir;
	int rc;

	memset(&so, 0, sizeof(so));
	dir = mu_home_store_dir(node->home);
	if (dir == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	rc = mu_store_open(&node->store, dir, &so, why);
	free(dir);
	return rc;
}

static void
conn_ready(struct mu_node *node, struct mu_conn *c)
{
	if (!node->once)
		mu_dial_ready(node, c);
	mu_sync_on_ready(node, c);
	mu_node_publish_conns(node);
}

static void
conn_closed(struct mu_node *node, struct mu_conn *c, bool was_ready)
{
	const char *ip = mu_conn_ip(c);
	bool banned;

	if (was_ready) {
		mu_node_publish_conns(node);
		mu_sync_on_close(node, c);
	}
	if (!node->once && mu_conn_is_dialer(c)) {
		banned = ip[0] != '\0' && mu_dial_banned(node, ip);
		mu_dial_closed(node, c, was_ready, banned);
	}
}

const struct mu_conn_cbs mu_node_conn_cbs = {
    .ready = conn_ready,
    .message = mu_sync_on_message,
    .writable = mu_sync_on_writable,
    .closed = conn_closed,
    .banned = mu_dial_banned,
};

/* Everything serving and syncing share, up to a loop ready to run. */
static int
daemon_open(struct daemon *d, const struct mu_node_opts *opts, struct mu_why *why)
{
	struct mu_node *node = &d->node;
	int rc;

	d->lock_fd = -1;
	node->opts = *opts;
	node->conn_cbs = &mu_node_conn_cbs;
	rc = check_network(opts->network, why);
	if (rc != 0)
		return rc;
	rc = uv_loop_init(&d->loop);
	if (rc != 0)
		return mu_fail(why, MU_EIO, "cannot start the event loop: %s",
		               uv_strerror(rc));
	d->loop_ok = true;
	node->loop = &d->loop;
	/* A peer that goes away while we write must be an error, not death. */
	signal(SIGPIPE, SIG_IGN);
	/* So must a store file at the size limit (ulimit -f): the write fails
	 * with EFBIG and the node logs that its store is full. */
	signal(SIGXFSZ, SIG_IGN);

	rc = mu_home_open(&node->home, opts->home, true, why);
	/* The store first: without the root key, the identity proof needs
	 * this home's organizer record. */
	if (rc == 0)
		rc = open_store(node, why);
	if (rc == 0)
		rc = make_identity(node, why);
	if (rc != 0)
		return rc;
	/* The scope, and the store log position live push starts from. */
	rc = mu_sync_start(node, why);
	if (rc != 0)
		return rc;

	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_prepare_init(&d->loop, &d->prepare);
	uv_check_init(&d->loop, &d->check);
	d->sigint.data = d->sigterm.data = d->prepare.data = d->check.data = d;
	if ((rc = uv_signal_start(&d->sigint, on_signal, SIGINT)) != 0 ||
	    (rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) != 0)
		return mu_fail(why, MU_EIO, "cannot catch signals: %s",
		               uv_strerror(rc));
	uv_prepare_start(&d->prepare, on_prepare);
	uv_check_start(&d->check, on_check);
	/* None of these keeps the loop alive on its own. */
	uv_unref((uv_handle_t *)&d->sigint);
	uv_unref((uv_handle_t *)&d->sigterm);
	uv_unref((uv_handle_t *)&d->prepare);
	uv_unref((uv_handle_t *)&d->check);
	return 0;
}

static void
daemon_close(struct daemon *d)
{
	struct mu_node *node = &d->node;

	if (d->loop_ok) {
		stop_all(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		while (uv_loop_close(&d->loop) == UV_EBUSY) {
			uv_walk(&d->loop, close_handle, NULL);
			uv_run(&d->loop, UV_RUN_DEFAULT);
		}
	}
	/* The loop has run dry: no connection or pool work refers to sync.c's
	 * state any more. */
	mu_sync_stop(node);
	mu_tor_free(node);
	mu_home_wake_close(node->home, d->wake_fd);
	if (d->lock_fd >= 0) {
		mu_node_publish_conns(node);
		mu_home_unlock_serve(node->home, d->lock_fd);
	}
	/* `muster sync` next to a running daemon: as a command's (cli/). */
	if (node->once && mu_store_logged(node->store))
		mu_home_wake(node->home);
	mu_store_close(node->store);
	if (node->identity != NULL)
		sodium_free(node->identity);
	mu_home_close(node->home);
	free(d);
}

static int
start_listen(struct daemon *d, char name[MU_PEER_ADDR_MAX], struct mu_why *why)
{
	const char *addr = d->node.opts.listen;
	struct sockaddr_storage sa;
	int len = sizeof(sa), rc;

	rc = mu_node_addr_resolve(&d->loop, addr, &sa, why);
	if (rc != 0)
		return rc;
	uv_tcp_init(&d->loop, &d->listener);
	d->listener.data = d;
	rc = uv_tcp_bind(&d->listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&d->listener, LISTEN_BACKLOG,
		               on_connection);
	if (rc == UV_EADDRINUSE)
		return mu_fail(why, MU_EIO,
		               "cannot listen on %s: the address is in use; is another "
		               "node running? (choose another with --listen HOST:PORT)",
		               addr);
	if (rc != 0)
		return mu_fail(why, MU_EIO, "cannot listen on %s: %s", addr,
		               uv_strerror(rc));
	rc = uv_tcp_getsockname(&d->listener, (struct sockaddr *)&sa, &len);
	if (rc == 0)
		mu_node_addr_name((struct sockaddr *)&sa, name, MU_PEER_ADDR_MAX, NULL);
	else
		snprintf(name, MU_PEER_ADDR_MAX, "%s", addr);
	return 0;
}

/* The onion listener: 127.0.0.1 at a free port, its "HOST:PORT" in name. */
static int
start_onion_listen(struct daemon *d, char name[MU_PEER_ADDR_MAX], struct mu_why *why)
{
	struct sockaddr_in sa;
	int len = sizeof(sa), rc;

	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_init(&d->loop, &d->onion);
	d->onion.data = d;
	rc = uv_tcp_bind(&d->onion, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&d->onion, LISTEN_BACKLOG, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&d->onion, (struct sockaddr *)&sa, &len);
	if (rc != 0)
		return mu_fail(why, MU_EIO, "cannot listen on 127.0.0.1 for tor: %s",
		               uv_strerror(rc));
	mu_node_addr_name((struct sockaddr *)&sa, name, MU_PEER_ADDR_MAX, NULL);
	mu_node_log(&d->node, MU_LOG_INFO, "listening for tor on %s", name);
	return 0;
}

static int
check_announce(const struct mu_node_opts *opts, struct mu_why *why)
{
	struct mu_why w;

	if (opts->nannounce > MU_NODE_ANNOUNCE_MAX)
		return mu_fail(why, MU_EINVAL, "at most %d addresses can be announced",
		               MU_NODE_ANNOUNCE_MAX);
	for (size_t i = 0; i < opts->nannounce; i++)
		if (mu_rec_check_node_addr(opts->announce[i], strlen(opts->announce[i]),
		                           &w) != 0)
			return mu_fail(why, MU_EINVAL, "cannot announce %s: %s",
			               opts->announce[i], w.text);
	return 0;
}

/* Before anything is logged: a missing tor is the one line that says so. */
static int
check_tor(const struct mu_node_opts *opts, struct mu_why *why)
{
	char bin[512];

	return opts->tor ? mu_tor_find(bin, sizeof(bin), why) : 0;
}

static unsigned
at_least_1(unsigned ms)
{
	return ms > 0 ? ms : 1;
}

int
mu_node_serve(const struct mu_node_opts *opts, struct mu_why *why)
{
	char name[MU_PEER_ADDR_MAX] = "", onion[MU_PEER_ADDR_MAX] = "",
	     key[MU_KEY_TEXT_SIZE];
	struct mu_node *node;
	struct daemon *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	node = &d->node;
	d->lock_fd = d->wake_fd = -1; /* daemon_close() after a failed check */
	rc = check_announce(opts, why);
	if (rc == 0)
		rc = check_tor(opts, why);
	if (rc == 0)
		rc = daemon_open(d, opts, why);
	if (rc != 0)
		goto out;
	rc = mu_home_lock_serve(node->home, opts->listen != NULL ? opts->listen : "",
	                        &d->lock_fd, why);
	if (rc != 0)
		goto out;
	mu_node_publish_conns(node); /* none yet: clears a crashed run's list */
	if (opts->listen != NULL && (rc = start_listen(d, name, why)) != 0)
		goto out;
	if (opts->http != NULL && (rc = mu_http_start(node, why)) != 0)
		goto out;
	if (opts->tor && opts->listen != NULL &&
	    (rc = start_onion_listen(d, onion, why)) != 0)
		goto out;
	if (opts->tor && (rc = mu_tor_start(node, opts->listen != NULL ? name : NULL,
	                                    opts->listen != NULL ? onion : NULL,
	                                    opts->http, why)) != 0)
		goto out;
	if (opts->stall_log != NULL &&
	    (rc = mu_node_stalls_start(node, opts->stall_log, why)) != 0)
		goto out;

	uv_timer_init(&d->loop, &d->poll);
	uv_timer_init(&d->loop, &d->tick);
	d->poll.data = d->tick.data = d;
	uv_timer_start(&d->poll, on_poll, at_least_1(opts->limits.poll_ms),
	               at_least_1(opts->limits.poll_ms));
	uv_timer_start(&d->tick, on_tick, at_least_1(opts->limits.reconcile_ms),
	               at_least_1(opts->limits.reconcile_ms));
	mu_node_wake_start(node, &d->wake, &d->wake_fd);
	start_watch(d);
	if (opts->ready != NULL)
		opts->ready(opts->ready_ctx);
	mu_key_to_text(key, node->home->group);
	if (opts->listen != NULL)
		mu_node_log(node, MU_LOG_INFO, "serving group %s on %s (network %s)",
		            key, name, opts->network);
	else
		mu_node_log(node, MU_LOG_INFO,
		            "serving group %s, not listening (network %s)", key,
		            opts->network);
	if ((rc = mu_node_entries_start(node)) != 0) {
		rc = mu_fail(why, rc, "out of memory");
		goto out;
	}
	rc = mu_dial_start(node);
	if (rc != 0) {
		rc =
		    mu_fail(why, rc, "cannot start dialing peers: %s", mu_strerror(rc));
		goto out;
	}
	rc = mu_portmap_start(node, why);
	if (rc != 0)
		goto out;
	mu_acts_host_start(node);
	/* The group key signed our identity proof and node record: a
	 * daemon that runs for months holds no copy of it from now on. With
	 * --tor, the node record waits for the onion address: tor.c forgets
	 * it once that record is signed, seconds from now. */
	if (!opts->tor)
		mu_home_forget_secret(node->home);

	uv_run(&d->loop, UV_RUN_DEFAULT);
	mu_node_log(node, MU_LOG_INFO, "stopped");
	rc = 0;
out:
	daemon_close(d);
	return rc;
}

/* tor bootstrapped: the one-shot sync dials through it. */
static void
sync_dial_tor(struct mu_node *node)
{
	struct daemon *d = (struct daemon *)node; /* node is d's first member */
	struct mu_why why = {0};
	int rc;

	rc = mu_conn_dial(node, d->sync_addr, d->sync_expect, &why);
	if (rc != 0) {
		node->exit_code = rc;
		mu_fail(&node->why, rc, "%s", mu_why_or(&why, rc));
		node->stopping = true;
	}
}

int
mu_node_sync(const struct mu_node_opts *opts, const char *addr,
             const uint8_t *expect_group, struct mu_sync_report *report,
             struct mu_why *why)
{
	struct mu_node *node;
	struct daemon *d;
	int rc;

	if (report != NULL)
		memset(report, 0, sizeof(*report));
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	node = &d->node;
	d->lock_fd = d->wake_fd = -1;
	node->once = true;
	rc = check_tor(opts, why);
	if (rc == 0)
		rc = daemon_open(d, opts, why);
	if (rc != 0)
		goto out;
	mu_home_forget_secret(node->home); /* the identity proof is signed */
	d->sync_addr = addr;
	d->sync_expect = expect_group;
	if (opts->tor) {
		/* The dial waits for tor to bootstrap (tor_ready). */
		node->tor_ready = sync_dial_tor;
		rc = mu_tor_start(node, NULL, NULL, NULL, why);
	} else
		rc = mu_conn_dial(node, addr, expect_group, why);
	if (rc != 0)
		goto out;
	start_watch(d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	rc = node->exit_code;
	if (rc != 0) {
		if (node->why.text[0] != '\0')
			mu_fail(why, rc, "%s", node->why.text);
		else
			mu_fail(why, rc, "the sync with %s did not complete", addr);
	}
	if (report != NULL)
		*report = node->report;
out:
	daemon_close(d);
	return rc;
}
