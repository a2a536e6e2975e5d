/*
 * internal.h - what the node's files share: the daemon state, connections
 * (conn.c, transport) and the sync hooks (sync.c, what flows over them).
 *
 * Nothing above node/ includes this. Internal names use the mu_node_,
 * mu_conn_ and mu_sync_ prefixes and are not part of the node API.
 *
 * Threads: everything here runs on the node's one libuv loop, except the
 * signature checks that sync.c sends to the libuv thread pool, which touch
 * only the bytes they were given, and the commits of records from peers
 * (node/verify.c), which touch only the store and the records they store.
 */
#ifndef MU_NODE_INTERNAL_H
#define MU_NODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../protocol/scope.h"
#include "../protocol/session.h"
#include "../storage/home.h"
#include "../storage/store.h"
#include "node.h"

struct mu_conn;
struct mu_node;
struct mu_sync_peer;   /* sync.c's per-connection state */
struct mu_sync_commit; /* commit.c's pipeline */
struct mu_sync_state;  /* peer.c's node-wide state */
struct mu_dial;        /* dial.c's peers to dial and bans */
struct mu_http;        /* http/http.c's server */
struct mu_probe;       /* probe.c's HTTP probes */
struct mu_portmap;     /* portmap.c's router mapping */
struct mu_tor;         /* tor.c's child process and control connection */
struct mu_stalls;      /* stalls.c's turn timer */

/*
 * What the transport (conn.c) tells its users, as a libuv stream knows only
 * the callbacks handed to uv_read_start(): conn.c calls nothing above it.
 * daemon.c's table (mu_node_conn_cbs) hands them to dial.c, sync.c and
 * conns_file.c. Every callback runs on the loop thread.
 */
struct mu_conn_cbs {
	/* The handshake completed: the peer's group is known. */
	void (*ready)(struct mu_node *node, struct mu_conn *c);
	/* One decrypted message. Nonzero: close the connection (why is
	 * logged). */
	int (*message)(struct mu_node *node, struct mu_conn *c, const uint8_t *msg,
	               size_t len, struct mu_why *why);
	/* The write queue fell below limits.out_low: more can be sent. */
	void (*writable)(struct mu_node *node, struct mu_conn *c);
	/* A listed connection ends, after a session (was_ready) or not: it
	 * is already off node->conns, its handles are still open. */
	void (*closed)(struct mu_node *node, struct mu_conn *c, bool was_ready);
	/* Whether ip is refused at accept (a ban). */
	bool (*banned)(struct mu_node *node, const char *ip);
};

/* The callbacks of a node: sync.c's session, dial.c's redials and
 * serve.conns (daemon.c). */
extern const struct mu_conn_cbs mu_node_conn_cbs;

/* A kind of log line that comes in floods (connections refused or evicted
 * under attack): mu_node_log_limited(). */
struct mu_node_ratelog {
	uint64_t last_ms;    /* uv_now() of the last line at info, 0: never */
	unsigned suppressed; /* lines since then, logged at debug only */
};

struct mu_node {
	uv_loop_t *loop;
	struct mu_node_opts opts;
	struct mu_home *home;
	struct mu_store *store;
	struct mu_sess_identity *identity;  /* sodium_malloc()ed */
	struct mu_scope *scope;             /* the groups we want; recomputed
	                                       when alliances or follows change */
	struct mu_conn *conns;              /* every open connection, a list */
	const struct mu_conn_cbs *conn_cbs; /* what conn.c calls */
	struct mu_node_ratelog admit_log;   /* refusals, evictions, idle closes */
	uint64_t log_seq;                   /* last store log entry pushed */
	bool once;                          /* mu_node_sync(): stop when done */
	bool stopping;
	int exit_code;
	struct mu_sync_report report;    /* totals, for mu_node_sync() */
	struct mu_why why;               /* mu_node_sync(): why it stopped short */
	struct mu_dial *dial;            /* dial.c's (mu_dial_start) */
	struct mu_sync_state *sync;      /* peer.c's (mu_sync_start) */
	struct mu_sync_commit *commit;   /* commit.c's (mu_sync_start) */
	struct mu_http *http;            /* http/http.c's (mu_http_start) */
	struct mu_probe *probes;         /* probe.c's, running */
	struct mu_portmap *portmap;      /* portmap.c's (mu_portmap_start) */
	struct mu_acts_host *acts;       /* acts_host.c's (mu_acts_host_start) */
	struct mu_node_entries *entries; /* entries.c's (mu_node_entries_start) */
	struct mu_tor *tor;              /* tor.c's (mu_tor_start), with opts.tor */
	/* tor's SocksPort "HOST:PORT" once tor.c learnt it, "" while tor is
	 * down: what route.c dials onion addresses through. */
	char tor_socks[MU_NODE_ADDR_MAX + 1];
	/* tor.c calls it once tor has bootstrapped (mu_node_sync dials). */
	void (*tor_ready)(struct mu_node *node);
	struct mu_stalls *stalls; /* stalls.c's (opts.stall_log) */
	/* log.c: the "store is full" line was logged and no write succeeded
	 * since; when that line was logged (uv_now(), 0: never). */
	bool store_full;
	uint64_t store_full_ms;
	/* conns_file.c: a failure to write serve.conns was logged and no
	 * write succeeded since; when it was logged (uv_now(), 0: never). */
	bool conns_failed;
	uint64_t conns_failed_ms;
	/* clock.c: the "clock is off" line was logged, and the clock has not
	 * come back within MU_HOME_CLOCK_OFF of the peers' since. */
	bool clock_off;
};

/* --- the host's tallies (acts_host.c) ------------------------------------- */

/*
 * Keeps the tally of each of our events with a capacity current as rsvp
 * records arrive (docs/PROTOCOL.md, tally): at most one revision per event
 * per limits.acts_debounce_ms, the first at once. start checks every such
 * event once (records stored while the daemon was down); note is called
 * with each record newly stored, in the order they were stored.
 */
void mu_acts_host_start(struct mu_node *node);
void mu_acts_host_stop(struct mu_node *node);
void mu_acts_host_note(struct mu_node *node, const struct mu_record *rec);
/* --- the loop's longest turns (stalls.c) --------------------------------- */

/* Times each turn of node->loop and appends the longest of each second to
 * path (stalls.c says how). Call before the loop runs. */
int mu_node_stalls_start(struct mu_node *node, const char *path, struct mu_why *why);

/* Writes the last period's line and closes; a no-op when not started. */
void mu_node_stalls_stop(struct mu_node *node);

/* --- logging (log.c) ------------------------------------------------------ */

/* One line to stderr, "2026-11-25T21:00:00.123Z LEVEL message", if level is
 * enabled. Never pass secret bytes. */
void mu_node_log(const struct mu_node *node, enum mu_log_level level, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/*
 * A write to the store failed with MU_EFULL; what names it ("records from
 * peer X"), detail (may be NULL) says why and how to fix it. Logged as an
 * error at most once every MU_NODE_FULL_LOG_MS, so that a full disk gives one
 * line and not one per message, even while writes near the limit alternately
 * fail and succeed; the rest go to the debug level.
 */
#define MU_NODE_FULL_LOG_MS (10 * 60 * 1000)
void mu_node_store_full(struct mu_node *node, const char *what, const char *detail);

/* A write to the store succeeded: after the "full" line, one line says
 * that the store has room again. */
void mu_node_store_ok(struct mu_node *node);

/*
 * One line of a kind that can come in floods: at info level at most once
 * every limits.admit_log_ms, with the count of the lines held back since
 * the last; the others at debug level only. mu_node_log_limited_flush()
 * says the count once that time has passed without a new line.
 */
void mu_node_log_limited(struct mu_node *node, struct mu_node_ratelog *rl,
                         const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mu_node_log_limited_flush(struct mu_node *node, struct mu_node_ratelog *rl);

/* --- the node's clock (clock.c) ------------------------------------------ */

/* A peer said its time (its hello): works out how far off our clock is
 * from the peers connected, records it for status and the commands, and
 * says so in the log once when it is far off. */
void mu_node_clock_heard(struct mu_node *node);

/* --- status (conns_file.c) ------------------------------------------------ */

/* Writes the ready connections to the home's serve.conns for `muster status`
 * (serve mode only); called when one becomes ready or ends, and at stop. */
void mu_node_publish_conns(struct mu_node *node);

/* --- connections (conn.c) ---------------------------------------------- */

/* Accepts or dials; the connection belongs to the node until it closes.
 * via_tor: server is the onion service's own listener (daemon.c), whose
 * peers all come from 127.0.0.1: they are named "via tor #PORT", have no
 * IP (mu_conn_ip() is ""), and neither the per-address caps nor bans
 * apply to them; the global caps and the per-key cap do. */
int mu_conn_accept(struct mu_node *node, uv_stream_t *server, bool via_tor);

/* Dials addr (HOST:PORT). expect_group, when not NULL, must be proven. */
int mu_conn_dial(struct mu_node *node, const char *addr, const uint8_t *expect_group,
                 struct mu_why *why);

/*
 * A connection without a socket, for driving sync.c with no network (the
 * dispatcher fuzz target, tests/fuzz): sess must have finished its handshake
 * and is taken over on success. The connection is listed and ready at once
 * (node->conn_cbs->ready has run: with mu_node_conn_cbs, mu_sync_on_ready(),
 * so its hello is queued); name is its address
 * for log lines and, for a dialer, the address it was "dialed" to. What it
 * sends stays in its write queue (mu_conn_queued()); messages are given to
 * mu_sync_on_message() by the caller; mu_conn_close() ends it as any other,
 * and the loop frees it. 0 even when sync.c closed it at once: check
 * mu_conn_is_ready(). MU_EINVAL when sess is not ready, MU_ENOMEM.
 */
int mu_conn_adopt(struct mu_node *node, struct mu_sess *sess, bool dialer,
                  const char *name, struct mu_conn **out);

/* For a connection without a socket: moves what it queued for writing to
 * the end of out (what the peer would read), as if it had been written.
 * 0 or MU_ENOMEM (the queue is then kept). */
int mu_conn_take_output(struct mu_conn *c, struct mu_buf *out);

/* Encrypts, frames and queues one message (at most MU_SESS_MSG_MAX bytes). */
int mu_conn_send(struct mu_conn *c, const uint8_t *msg, size_t len);

/* Bytes queued for writing and not yet written. */
size_t mu_conn_queued(const struct mu_conn *c);

/* The peer sent a message that is more than a hello (sync.c): the session
 * carries useful traffic, so it is not idle (limits.idle_ms), and it is the
 * last of its address or key to be evicted for a newcomer. */
void mu_conn_useful(struct mu_conn *c);

/* Every limits.poll_ms (serve mode): closes idle sessions, and logs what
 * the admission log held back. */
void mu_conn_sweep(struct mu_node *node);

/* Closes the connection after a log line saying why (NULL: quietly). The
 * struct is freed later by libuv's close callback; do not use it after. */
void mu_conn_close(struct mu_conn *c, const char *why);

/* The group the peer proved (ready connections only). */
const uint8_t *mu_conn_peer_group(const struct mu_conn *c);

/* The session's handshake hash (ready connections only; else NULL, *len
 * 0): both ends hold the same, so a signature over it is bound to this
 * session (invites, node/invite.c). */
const uint8_t *mu_conn_binding(const struct mu_conn *c, size_t *len);

/* "HOST:PORT" of the other end, for log lines. */
const char *mu_conn_name(const struct mu_conn *c);

/* The other end's IP address (no port), for bans; "" while a dial is still
 * resolving, and for a peer accepted via tor (a ban of "" does nothing:
 * the peer is only dropped). */
const char *mu_conn_ip(const struct mu_conn *c);

bool mu_conn_is_dialer(const struct mu_conn *c);
bool mu_conn_is_ready(const struct mu_conn *c);
struct mu_conn *mu_conn_next(const struct mu_conn *c); /* walks node->conns */

/*
 * Holds (hold true) or resumes reading from c, apart from backpressure:
 * sync.c holds a peer while a batch of its records is being verified on the
 * thread pool, so that its messages are handled in order without piling up.
 * Reading resumes when neither a hold nor backpressure stops it; messages
 * already read go on arriving at the message callback (sync.c queues them).
 */
void mu_conn_hold(struct mu_conn *c, bool hold);

/* The sync state attached to a connection (NULL until mu_sync_on_ready). */
struct mu_sync_peer *mu_conn_sync(const struct mu_conn *c);
void mu_conn_set_sync(struct mu_conn *c, struct mu_sync_peer *s);

/* Why the connection ended, for the peers table: "" while it has not, or
 * when it closed quietly. */
const char *mu_conn_reason(const struct mu_conn *c);

/* A dial whose peer closed during the handshake without sending a byte:
 * worth an HTTP probe (probe.c). */
bool mu_conn_unanswered(const struct mu_conn *c);

/* The address this connection was dialed to (dialers only), else NULL. */
const char *mu_conn_dialed_addr(const struct mu_conn *c);

/* --- sync (sync.c), called through mu_node_conn_cbs and by the daemon --- */

/* Once, after the store is open and before any connection: computes
 * node->scope (allocating it when NULL; sync.c owns it from then on) and
 * sets node->log_seq to the end of the store log, so only records stored
 * from now on are pushed live (older ones are the reconciliation's). */
int mu_sync_start(struct mu_node *node, struct mu_why *why);

/* After the loop has run dry (no connections, no work pending): frees what
 * mu_sync_start() allocated, node->scope included (set to NULL). */
void mu_sync_stop(struct mu_node *node);

/* The handshake completed: the peer's group is known. */
void mu_sync_on_ready(struct mu_node *node, struct mu_conn *c);

/* One decrypted message. Nonzero: close the connection (why is logged). */
int mu_sync_on_message(struct mu_node *node, struct mu_conn *c, const uint8_t *msg,
                       size_t len, struct mu_why *why);

/* The write queue fell below limits.out_low: more can be sent. */
void mu_sync_on_writable(struct mu_node *node, struct mu_conn *c);

/* The connection is closing: free the sync state. */
void mu_sync_on_close(struct mu_node *node, struct mu_conn *c);

/* Every limits.poll_ms: push records stored since the last call (by this
 * process or another) to the peers that want them. */
void mu_sync_poll(struct mu_node *node);

/* A command stored records (node/wake.c): push them now, as the poll would. */
void mu_sync_wake(struct mu_node *node);

/*
 * Binds HOME/serve.wake (storage/home.h) and watches it with h, on the
 * node's loop: each wake from a command calls mu_sync_wake(). Serve mode,
 * under the serve lock. When the socket cannot be made the poll alone
 * picks records up, with a warning logged. *fd is the caller's to give to
 * mu_home_wake_close() once h is closed (-1: none); h is closed with the
 * loop's other handles.
 */
void mu_node_wake_start(struct mu_node *node, uv_poll_t *h, int *fd);

/* Every limits.reconcile_ms: dialers start a new reconciliation. */
void mu_sync_tick(struct mu_node *node);

/* Often (every MU_SYNC_WATCH_MS at most), serving or syncing once: a dialer
 * gives up on a peer that has left its reconciliation or its invite
 * (node/invite.c) unanswered, or not sent its hello, for two periods
 * (2 * limits.reconcile_ms). */
#define MU_SYNC_WATCH_MS 1000
void mu_sync_watch(struct mu_node *node);

/* Recomputes node->scope from the store; tells peers when it changed.
 * Either way notes the groups outside it (mu_sync_note_outside). */
int mu_sync_update_scope(struct mu_node *node);

/* Notes in the store which held groups are outside node->scope and since
 * when, and prunes those outside for limits.outside_keep_s (gossip.c). */
void mu_sync_note_outside(struct mu_node *node);

/* --- dialing (dial.c) ---------------------------------------------------- */

int mu_dial_start(struct mu_node *node);
void mu_dial_stop(struct mu_node *node);

/* A connection completed its handshake: the peer it was dialed to, or for
 * an accepted one the known peers of the group it proved, are connected. */
void mu_dial_ready(struct mu_node *node, struct mu_conn *c);

/* A dial (c) ended: after a session, or without one. Reschedules it with
 * backoff; banned asks for the long ban delay (an abusive peer). Why a
 * dial failed (mu_conn_reason) goes to the peers table; a peer that hung
 * up without a word is probed once for HTTP (probe.c). */
void mu_dial_closed(struct mu_node *node, const struct mu_conn *c, bool was_ready,
                    bool banned);

/* Publishes our node record again when node->opts.announce changed (a port
 * mapping was made: portmap.c; tor learnt our onion address: tor.c). */
void mu_dial_announce(struct mu_node *node);

/* Whether addr (an IP) is banned for now: accept() refuses it. */
bool mu_dial_banned(struct mu_node *node, const char *ip);

/* Remembers that ip misbehaved: refused for limits.ban_ms. */
void mu_dial_ban(struct mu_node *node, const char *ip);

/* --- port mapping (portmap.c) --------------------------------------------- */

/* With opts.map_port: asks the router for a mapping of the listen port
 * (the loop then keeps it, and announces it with opts.announce_auto).
 * 0, or MU_EINVAL when there is no listen port to map. */
int mu_portmap_start(struct mu_node *node, struct mu_why *why);

/* Removes the mapping (the loop runs until the router answered). */
void mu_portmap_stop(struct mu_node *node);

/* --- probing (probe.c) ---------------------------------------------------- */

/* How the reason of a dial that reached a web server begins. */
#define MU_PROBE_HTTP_REASON "an HTTP port"

/* What a probe found of addr: reason replaces the reason of its failed
 * dial. */
typedef void (*mu_probe_found_fn)(struct mu_node *node, const char *addr,
                                  const char *reason);

/* Sends one HTTP request to ip at addr's port; an HTTP answer is given to
 * found (dial.c: the peers table's reason). At most one probe per address
 * runs; each gives up after limits.handshake_ms. */
void mu_probe_http(struct mu_node *node, const char *addr, const char *ip,
                   mu_probe_found_fn found);

/* Closes the probes still running (the node is stopping). */
void mu_probe_stop(struct mu_node *node);
/* --- Tor (tor.c) --------------------------------------------------------- */

/* A dial to an onion address waits this long for tor to reach it (descriptor
 * fetch, introduction, rendezvous) before the handshake deadline starts. */
#define MU_TOR_DIAL_MS 90000

/*
 * Starts tor as a child with its data in HOME/tor/ (opts.tor): the
 * control connection, the onion service for listen (the bound address
 * "HOST:PORT", NULL in mu_node_sync; its port is the onion's) forwarded to
 * target ("HOST:PORT", the daemon's onion listener; NULL: listen itself)
 * and http (NULL: none), then progress
 * lines until it has bootstrapped. A tor that exits is restarted with
 * backoff. MU_ENOTFOUND with why when tor is not installed.
 */
int mu_tor_start(struct mu_node *node, const char *listen, const char *target,
                 const char *http, struct mu_why *why);

/* Stops tor (its files stay); the loop closes its handles. */
void mu_tor_stop(struct mu_node *node);

/* After the loop has run dry: frees what mu_tor_start() allocated. */
void mu_tor_free(struct mu_node *node);

/* The tor binary to run into out: MUSTER_TOR (tests), /usr/sbin/tor, or
 * tor on PATH. MU_ENOTFOUND with why (saying to install it) when none. */
int mu_tor_find(char *out, size_t cap, struct mu_why *why);

/* --- the way a dial goes (route.c) ---------------------------------------- */

/* Whether host (no port) is an onion address, "NAME.onion". */
bool mu_tor_is_onion(const char *host);

/*
 * How a dial to host goes: 0 directly, 1 through tor's SocksPort (*socks is
 * its address), or MU_EINVAL/MU_EIO with why: an onion address without
 * --tor or before tor is up, or any other address with --tor-only.
 */
int mu_tor_route(struct mu_node *node, const char *host, struct sockaddr_storage *socks,
                 struct mu_why *why);

#endif
