/*
 * node.h - the muster daemon and one-shot sync: what cli/ calls.
 *
 * docs/PROTOCOL.md ("Transport", "Sync") specifies the wire; this layer wires
 * protocol/ (sessions, negentropy, wire messages) and storage/ to libuv.
 */
#ifndef MU_NODE_H
#define MU_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/error.h"

#define MU_NODE_DEFAULT_PORT   7420
#define MU_NODE_DEFAULT_LISTEN "0.0.0.0:7420"
/* The calendar, its feeds and the JSON API (docs/API.md); this machine only
 * unless --http says otherwise. */
#define MU_NODE_DEFAULT_HTTP    "127.0.0.1:7421"
#define MU_NODE_DEFAULT_NETWORK "muster"
#define MU_NODE_DEFAULT_HOPS    2
#define MU_NODE_ANNOUNCE_MAX    8

enum mu_log_level { MU_LOG_ERROR = 0, MU_LOG_WARN, MU_LOG_INFO, MU_LOG_DEBUG };

/* Every limit the node enforces; mu_node_limits_default() fills them. */
struct mu_node_limits {
	unsigned handshake_ms; /* a handshake must finish in this time: 10000 */
	/* Connections others opened (our own dials are never counted, and
	 * never wait): past a cap, the newcomer is admitted and the weakest
	 * connection of its kind is evicted (docs/SECURITY.md, section 2). */
	unsigned max_handshaking;        /* still in the handshake: 16 */
	unsigned max_handshaking_per_ip; /* of those, from one address: 4 */
	unsigned max_conns;              /* authenticated sessions: 64 */
	unsigned max_sessions_per_ip;    /* of those, from one address: 16 */
	unsigned max_sessions_per_key;   /* of those, of one group key: 4 */
	/* A session over which no message but hellos came for this long is
	 * closed; the dialer's periodic reconciliation keeps an honest one
	 * open: 180000 (three reconcile_ms) */
	unsigned idle_ms;
	/* Refusals, evictions and idle closes: one info line per this time,
	 * the rest counted in the next one (and logged at debug): 10000 */
	unsigned admit_log_ms;
	unsigned max_recs_per_frame; /* records in one "recs" message: 64 */
	unsigned max_ids_per_want;   /* ids in one "want" message: 1024 */
	/* Time the sending of records (reading, checking, encrypting) may
	 * take in one turn of the loop, all peers together, before the rest
	 * waits for the next turn: other peers and requests are served
	 * between. At least one message per peer goes out; 0: no cap: 4000 */
	unsigned send_turn_us;
	size_t out_high;       /* stop reading a peer whose queue passes this: 1 MiB */
	size_t out_low;        /* and read again below this: 256 KiB */
	unsigned max_invalid;  /* invalid records before a peer is dropped: 16 */
	unsigned ban_ms;       /* how long such a peer is refused: 600000 */
	unsigned reconcile_ms; /* periodic reconciliation: 60000 */
	unsigned poll_ms;      /* checking the store for records of other
	                          processes (the CLI) that did not wake the
	                          daemon (node/wake.c): 200 */
	unsigned dial_min_ms;  /* first redial delay: 1000 */
	unsigned dial_max_ms;  /* redial delay cap: 300000 */

	/* Drop a peer whose write queue passed out_low and from which nothing
	 * was written for this long (it does not read); one that drains it,
	 * however slowly, stays: 60000 */
	unsigned write_stall_ms;

	/* The records of a group that left the scope (an alliance ended) are
	 * dropped this long after it left, unless it is followed:
	 * 2592000 (30 days) */
	unsigned outside_keep_s;

	/* serve --map-port: the lease asked of the router, renewed at half
	 * of it (or of what the router granted): 3600 */
	unsigned map_lease_s;
	/* A mapping that failed (no router answered, it refused) is asked
	 * for again after this: 300 */
	unsigned map_retry_s;
	/* The host's tally, and a group's counts: at most one revision of one
	 * record per this time, the first at once: 60000 */
	unsigned acts_debounce_ms;
	/* The pages' forms (node/http/http_entries.c): posts from one address
	 * in a minute: 30 */
	unsigned posts_per_min;
	/* How often expired personal entries are looked for: 600000 */
	unsigned entries_sweep_ms;
};

void mu_node_limits_default(struct mu_node_limits *l);

/*
 * Overrides limits from text, "NAME=VALUE,NAME=VALUE..." with the field
 * names above (handshake_ms=500,idle_ms=2000): what MUSTER_LIMITS holds
 * for `muster serve` and `muster sync`, for tests and tuning. 0, or
 * MU_EINVAL with why naming the bad part (l is then partly changed).
 */
int mu_node_limits_parse(struct mu_node_limits *l, const char *text,
                         struct mu_why *why);

/*
 * A join (`muster join`): the invite a one-shot sync redeems on its session
 * (docs/PROTOCOL.md 10.8). The caller owns it; the sync writes verdict.
 */
struct mu_node_join {
	const uint8_t *seed; /* the code's secret, 32 bytes (sodium_malloc()ed) */
	const char *name;    /* the name the joiner gives, a line of at most
	                        64 bytes; "" for none */
	char verdict[17];    /* out: the inviter's answer ("ok", "expired",
	                        "used", "revoked", "unknown", "bad-proof"), or
	                        "" when none came */
};

struct mu_node_opts {
	const char *home;   /* the node's home directory */
	const char *listen; /* HOST:PORT to accept on; NULL: no listening */
	const char *http;   /* HOST:PORT to serve HTTP on; NULL: no HTTP
	                       (mu_node_serve only) */
	/* Where the HTTP pages are reached from outside (`serve --public-url`):
	 * http:// or https://, no trailing '/'; for links in the feeds and the
	 * pages. NULL: the request's Host. */
	const char *public_url;
	const char *announce[MU_NODE_ANNOUNCE_MAX]; /* HOST:PORT others can dial */
	size_t nannounce;
	/* serve --map-port: ask the router (NAT-PMP, then UPnP-IGD) to forward
	 * the listen port, renew the lease, remove the mapping at stop. It
	 * tells the router's external address to whoever reads the node
	 * record only with announce_auto (--announce auto), which adds the
	 * mapped address after the others; then nannounce <
	 * MU_NODE_ANNOUNCE_MAX. */
	bool map_port;
	bool announce_auto;
	const char *network;         /* network name bound in the handshake */
	int hops;                    /* allies of allies up to this distance */
	enum mu_log_level log_level; /* lines at or below this go to stderr */
	/* Personal entries are deleted this many days after their event's
	 * end or their deadline (`serve --keep-entries`): 30 */
	unsigned keep_entries_days;
	struct mu_node_limits limits;
	/* Run Debian's tor as a child (node/tor.c): dial .onion addresses
	 * through it and, serving, publish the listen port (and the HTTP
	 * one as port 80) as a v3 onion service whose address is announced
	 * first. tor_only (implies tor): never dial or accept anything else;
	 * listen must then be a loopback address. */
	bool tor, tor_only;
	/* mu_node_sync only: redeem this invite on the session. NULL: none. */
	struct mu_node_join *join;
	/* mu_node_serve only: called once the listening and HTTP sockets are
	 * bound, before the loop runs, so that what says "listening on" is
	 * never printed for a node that could not bind. NULL: none. It must
	 * not open the store (this process holds it open). */
	void (*ready)(void *ctx);
	void *ready_ctx;
	/* mu_node_serve only: a file the loop's longest turn of each second
	 * is appended to (node/stalls.c; MUSTER_STALL_LOG). NULL: not timed. */
	const char *stall_log;
};

/* Fills opts with the defaults for home. */
void mu_node_opts_default(struct mu_node_opts *opts, const char *home);

/*
 * Runs the daemon until SIGINT or SIGTERM: listens, dials known peers,
 * reconciles and gossips. Returns 0 after a clean shutdown, or an error
 * (another daemon holds this home, the address is in use...) with why.
 */
int mu_node_serve(const struct mu_node_opts *opts, struct mu_why *why);

struct mu_sync_report {
	uint64_t received; /* records received */
	uint64_t stored;   /* of those, new to us */
	uint64_t rejected; /* of those, invalid */
	uint64_t early;    /* of those, refused only for a date ahead (rule
	                      future); not invalid: they come again */
	uint64_t sent;     /* records sent */
	/* Bytes written to and read from the sockets, everything: the
	 * handshake, and each frame with its length and tag. */
	uint64_t wire_sent, wire_received;
	/* Of those, finding the differences: the negentropy round trips we
	 * initiated (a neg-open or neg sent and its answer), the bytes of
	 * every neg-open and neg both ways, and of every want both ways
	 * (the reconciliation's, and a daemon's answers to announces), each
	 * counted as framed on the wire. */
	uint64_t neg_rounds, neg_bytes, want_bytes;
};

/*
 * One sync with the node at addr (HOST:PORT), then return: handshake (the
 * peer must prove expect_group when it is not NULL), hello, reconciliation,
 * and the transfer both ways, until every record asked for has arrived and
 * every record sent has been acknowledged. Progress lines go to stderr.
 * Returns 0 only when the sync completed.
 */
int mu_node_sync(const struct mu_node_opts *opts, const char *addr,
                 const uint8_t *expect_group, struct mu_sync_report *report,
                 struct mu_why *why);

#endif
