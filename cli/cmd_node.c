/*
 * cmd_node.c - the commands that run the node layer: `muster serve` (the
 * daemon) and `muster sync` (one sync with one node, then exit).
 *
 * Both hand the home directory to node/, which opens the home and the store
 * itself; so whatever this file opens to print or look up is closed before
 * the node starts (LMDB wants one open environment per process).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../node/node.h"
#include "../storage/local.h"
#include "cli.h"

#define HOPS_MAX       8
#define PUBLIC_URL_MAX 200 /* bytes of --public-url */

static const char serve_help[] =
    "Usage: muster serve [--listen HOST:PORT] [--announce HOST:PORT|auto]...\n"
    "                    [--map-port] [--http HOST:PORT|off] [--public-url URL]\n"
    "                    [--network NAME] [--hops N] [--log-level LEVEL]\n"
    "                    [--tor | --tor-only]\n"
    "                    [--keep-entries DAYS]\n"
    "\n"
    "Runs this node: accepts connections from other nodes, dials the peers\n"
    "you added (`muster peer add`), and keeps the records of your group, your\n"
    "allies and the groups you follow in sync with them. Records you create\n"
    "with other commands while it runs go out within a second. It prints the\n"
    "group key and the listen address, then logs one line per event on\n"
    "stderr, until Ctrl-C or SIGTERM stops it. One daemon runs per home.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT    where to accept connections "
    "(default " MU_NODE_DEFAULT_LISTEN ");\n"
    "                        [::]:7420 for IPv6\n"
    "  --announce HOST:PORT  an address other nodes can reach this one at\n"
    "                        (your public IP or host name and a forwarded\n"
    "                        port); published to your allies so that their\n"
    "                        nodes dial you. Repeat for more, up to 8;\n"
    "                        auto: the address --map-port got\n"
    "  --map-port            ask the home router (NAT-PMP, then UPnP-IGD) to\n"
    "                        forward the listen port, keep the mapping while\n"
    "                        the node runs and remove it at stop. Off by\n"
    "                        default: with --announce auto it publishes the\n"
    "                        home's address to every ally. Refused when the\n"
    "                        router's own address is private or carrier-grade\n"
    "                        NAT (use --tor then)\n"
    "  --http HOST:PORT|off  where to serve the coalition calendar: the web\n"
    "                        page, the iCalendar feed /calendar.ics and the\n"
    "                        JSON API, read-only (default " MU_NODE_DEFAULT_HTTP ",\n"
    "                        this machine only); off: no HTTP\n"
    "  --public-url URL      the http:// or https:// address members open the\n"
    "                        pages at (a reverse proxy's, say); each feed\n"
    "                        event then links to its page, and the pages'\n"
    "                        share and subscribe links use it\n"
    "  --network NAME        the network to join (default " MU_NODE_DEFAULT_NETWORK
    "); nodes\n"
    "                        on other networks cannot connect. For tests\n"
    "  --hops N              how far to follow alliances: 1 your allies, 2\n"
    "                        also the groups they ally with (default 2), 0\n"
    "                        only your group and the groups you follow\n"
    "  --log-level LEVEL     error, warn, info (default) or debug\n"
    "  --tor                 run Debian's tor (apt-get install tor) as a\n"
    "                        child, its files in HOME/tor/: publish this node\n"
    "                        as an onion service (the HTTP pages on its port\n"
    "                        80), announce NAME.onion:PORT first, and dial\n"
    "                        .onion peers through tor\n"
    "  --tor-only            --tor, and never dial or accept anything else;\n"
    "                        listens on 127.0.0.1:7420 unless --listen says\n"
    "                        another loopback address\n"
    "  --keep-entries DAYS   delete what people entered on the pages (RSVPs,\n"
    "                        signatures, pledges) DAYS after their event's end\n"
    "                        or deadline (default 30; 0: at the end)\n"
    "\n"
    "Environment:\n"
    "  MUSTER_LIMITS         NAME=VALUE,... overrides the node's limits, for\n"
    "                        tests and tuning: idle_ms (a session with nothing\n"
    "                        but hellos is closed after it, default 180000),\n"
    "                        reconcile_ms (60000), write_stall_ms (60000),\n"
    "                        handshake_ms (10000), admit_log_ms (10000),\n"
    "                        max_handshaking (16), max_handshaking_per_ip (4),\n"
    "                        max_conns (64), max_sessions_per_ip (16),\n"
    "                        max_sessions_per_key (4), out_high, out_low\n"
    "                        (bytes), outside_keep_s (seconds the records of\n"
    "                        a group outside the scope are kept, 2592000)\n"
    "                        and the others of node/node.h\n"
    "\n"
    "Example:\n"
    "  muster serve --listen 0.0.0.0:7420 --announce 203.0.113.5:7420\n";

static const char sync_help[] =
    "Usage: muster sync HOST:PORT [KEY] [--network NAME] [--log-level LEVEL]\n"
    "                   [--tor]\n"
    "\n"
    "Connects to the node at HOST:PORT, syncs once (the records each side\n"
    "lacks, within what both want) and exits. Progress goes to stderr: records\n"
    "received and sent; the last line adds the negentropy round trips, the\n"
    "bytes of the reconciliation (negentropy messages and wants, both ways)\n"
    "and the bytes read from and written to the connection (handshake and\n"
    "framing included). Exits with status 0 only when the sync completed.\n"
    "The other node must run `muster serve`; this one need not.\n"
    "\n"
    "KEY is the group key the other node must prove (the mug1… text of its\n"
    "`muster id`); the connection is refused if it proves another. Without\n"
    "KEY, the key given with `muster peer add` for HOST:PORT is used, if any;\n"
    "otherwise any group is accepted.\n"
    "\n"
    "Options:\n"
    "  --network NAME     the network to use (default " MU_NODE_DEFAULT_NETWORK ")\n"
    "  --log-level LEVEL  error, warn, info (default) or debug\n"
    "  --tor              dial through a tor child (needed for a .onion\n"
    "                     HOST; Debian's tor: apt-get install tor)\n"
    "\n"
    "Environment:\n"
    "  MUSTER_LIMITS      NAME=VALUE,... overrides limits, as for `muster serve`\n"
    "\n"
    "Example:\n"
    "  muster sync 192.0.2.10:7420 mug1…\n";

/* The network name as the handshake's prologue takes it (docs/PROTOCOL.md,
 * 9.1): checked here so that a bad one is a usage error, not a log line. */
int
mu_cli_network_arg(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > 64)
		return mu_cli_usage("--network: a network name is 1 to 64 characters, "
		                    "not %zu",
		                    len);
	for (i = 0; i < len; i++) {
		if (name[i] <= 0x20 || name[i] >= 0x7f)
			return mu_cli_usage(
			    "--network: '%s' has a character other than "
			    "printable ASCII without spaces",
			    name);
	}
	return 0;
}

/*
 * --public-url: http:// or https://, a host, then an optional path, of
 * characters a URL holds as they are (the feeds write it unescaped), no
 * query or fragment (paths are appended to it). Copied into out without
 * its trailing '/'s.
 */
static int
public_url_arg(const char *text, char *out, size_t size)
{
	static const char bad[] = "\"<>\\^`{|}?#";
	size_t len = strlen(text), host, i;

	host = strncmp(text, "https://", 8) == 0  ? 8
	       : strncmp(text, "http://", 7) == 0 ? 7
	                                          : 0;
	if (host == 0 || len == host || text[host] == '/')
		return mu_cli_usage("--public-url: '%s' is not an http:// or https:// "
		                    "URL with a host; give the address members "
		                    "open, e.g. https://calendar.example.org",
		                    text);
	if (len > PUBLIC_URL_MAX || len >= size)
		return mu_cli_usage("--public-url: %zu bytes; at most %d", len,
		                    PUBLIC_URL_MAX);
	for (i = 0; i < len; i++)
		if (text[i] <= 0x20 || text[i] >= 0x7f || strchr(bad, text[i]) != NULL)
			return mu_cli_usage(
			    "--public-url: '%s' has a space, a non-ASCII "
			    "character or one of \" < > \\ ^ ` { | } ? #; "
			    "percent-encode it, and leave out any query",
			    text);
	while (len > host && text[len - 1] == '/')
		len--;
	memcpy(out, text, len);
	out[len] = '\0';
	return 0;
}

/* Whether HOST:PORT names an onion service. */
static bool
onion_addr(const char *addr)
{
	const char *colon = strrchr(addr, ':');

	return colon != NULL && colon - addr > 6 && memcmp(colon - 6, ".onion", 6) == 0;
}

/* "ADDRESS:PORT" that another node dials: the first announced address, the
 * listen address unless it is a wildcard, else a placeholder to fill in. */
static void
dial_hint(char *out, size_t size, const struct mu_node_opts *o, bool *placeholder)
{
	const char *port;

	*placeholder = false;
	if (o->nannounce > 0) {
		snprintf(out, size, "%s", o->announce[0]);
		return;
	}
	if (strncmp(o->listen, "0.0.0.0:", 8) != 0 &&
	    strncmp(o->listen, "[::]:", 5) != 0) {
		snprintf(out, size, "%s", o->listen);
		return;
	}
	port = strrchr(o->listen, ':');
	snprintf(out, size, "ADDRESS%s", port);
	*placeholder = true;
}

static int
log_level_arg(const char *text, enum mu_log_level *level)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	int pick;

	if (text == NULL)
		return 0;
	if ((pick = mu_cli_pick("log-level", text, levels, 4)) < 0)
		return MU_CLI_EUSAGE;
	*level = (enum mu_log_level)pick;
	return 0;
}

/* MUSTER_LIMITS, when set, over the defaults in l. */
static int
limits_env(struct mu_node_limits *l)
{
	const char *text = getenv("MUSTER_LIMITS");
	struct mu_why why = {0};

	if (text == NULL || mu_node_limits_parse(l, text, &why) == 0)
		return 0;
	return mu_cli_usage("MUSTER_LIMITS: %s", why.text);
}

/* The longest retention --keep-entries takes: ten years. */
#define KEEP_DAYS_MAX 3650

static int
parse_keep(const char *text, unsigned *days)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
	    v > KEEP_DAYS_MAX)
		return mu_cli_usage("--keep-entries: '%s' is not a number of days "
		                    "from 0 to %d",
		                    text, KEEP_DAYS_MAX);
	*days = (unsigned)v;
	return 0;
}

static int
parse_hops(const char *text, int *hops)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
	    v > HOPS_MAX)
		return mu_cli_usage("--hops: '%s' is not a whole number from 0 to %d",
		                    text, HOPS_MAX);
	*hops = (int)v;
	return 0;
}

/*
 * MUSTER_TEST_RECONCILE_MS, for tests only (docs/API.md): the period of
 * reconciliation, 60000 ms unless set, and so the time after which a
 * dialer gives up on an unanswered one (two periods), shortened so that a
 * test need not wait minutes.
 */
static int
test_knobs(struct mu_node_opts *o)
{
	const char *text = getenv("MUSTER_TEST_RECONCILE_MS");
	char *end;
	long v;

	if (text == NULL || text[0] == '\0')
		return 0;
	errno = 0;
	v = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v < 100 ||
	    v > 3600000)
		return mu_cli_usage("MUSTER_TEST_RECONCILE_MS: '%s' is not a whole "
		                    "number of milliseconds from 100 to 3600000; "
		                    "unset it outside tests",
		                    text);
	o->limits.reconcile_ms = (unsigned)v;
	return 0;
}

/* What the banner says, read from the store before the daemon opens it. */
struct banner {
	const struct mu_node_opts *o;
	char key[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE];
	bool failed; /* stdout could not be written */
};

static int
banner_read(struct mu_cli *cli, const struct mu_node_opts *o, struct banner *b)
{
	int rc;

	b->o = o;
	b->failed = false;
	if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
		return rc;
	mu_key_to_text(b->key, cli->home->group);
	mu_cli_group_name(cli, cli->home->group, b->name);
	mu_cli_close(cli);
	return 0;
}

/* Prints who this node is and how to reach it, once its sockets are
 * bound (mu_node_opts.ready), before the log starts. */
static void
banner_print(void *ctx)
{
	struct banner *b = ctx;
	const struct mu_node_opts *o = b->o;
	char hint[MU_PEER_ADDR_MAX + 8];
	bool placeholder;
	size_t i;

	dial_hint(hint, sizeof(hint), o, &placeholder);
	printf("group:    %s\n", b->name);
	printf("key:      %s\n", b->key);
	printf("listen:   %s\n", o->listen);
	printf("network:  %s\n", o->network);
	if (o->http != NULL)
		printf("http:     http://%s/ (calendar feed: "
		       "http://%s/calendar.ics)\n",
		       o->http, o->http);
	if (o->public_url != NULL)
		printf("public:   %s/\n", o->public_url);
	for (i = 0; i < o->nannounce; i++)
		printf("announce: %s\n", o->announce[i]);
	if (o->map_port)
		printf("map-port: asking the router to forward port %s%s\n",
		       strrchr(o->listen, ':') + 1,
		       o->announce_auto ? " (announced once mapped)" : "");
	printf("To add this node as a peer, on another node run:\n");
	printf("  muster peer add %s %s\n", hint, b->key);
	if (placeholder)
		printf("  (ADDRESS: this machine's IP address or host name as the "
		       "other node reaches it)\n");
	printf("Stop with Ctrl-C or SIGTERM; the log follows on stderr.\n");
	/* The lines must be out before the daemon runs for hours. */
	b->failed = fflush(stdout) != 0;
}

int
mu_cli_cmd_serve(struct mu_cli *cli, int argc, char **argv)
{
	const char *listen = NULL, *network = NULL, *hops = NULL, *level = NULL;
	const char *http = NULL, *public_url = NULL, *keep = NULL;
	bool tor = false, tor_only = false;
	char public_buf[PUBLIC_URL_MAX + 1];
	struct mu_cli_list announce = {{NULL}, 0};
	bool map_port = false;
	const struct mu_cli_opt opts[] = {
	    {"listen", MU_OPT_VALUE, &listen},
	    {"announce", MU_OPT_LIST, &announce},
	    {"map-port", MU_OPT_FLAG, &map_port},
	    {"http", MU_OPT_VALUE, &http},
	    {"public-url", MU_OPT_VALUE, &public_url},
	    {"network", MU_OPT_VALUE, &network},
	    {"hops", MU_OPT_VALUE, &hops},
	    {"log-level", MU_OPT_VALUE, &level},
	    {"tor", MU_OPT_FLAG, &tor},
	    {"tor-only", MU_OPT_FLAG, &tor_only},
	    {"keep-entries", MU_OPT_VALUE, &keep},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"serve", serve_help, opts, "", 0, 0};
	char running[MU_PEER_ADDR_MAX + 64];
	struct banner banner;
	struct mu_node_opts o;
	struct mu_why why = {0};
	size_t i;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	mu_node_opts_default(&o, cli->home_dir);
	o.tor = tor || tor_only;
	o.tor_only = tor_only;
	if (tor_only)
		o.listen = "127.0.0.1:7420";
	if (listen != NULL) {
		if ((rc = mu_cli_addr_arg(listen, "--listen")) != 0)
			return rc;
		if (tor_only && strncmp(listen, "127.", 4) != 0 &&
		    strncmp(listen, "[::1]:", 6) != 0)
			return mu_cli_usage(
			    "--listen %s: with --tor-only the node "
			    "listens on loopback only (127.0.0.1:PORT), "
			    "where tor forwards the onion service",
			    listen);
		o.listen = listen;
	}
	if (http != NULL && strcmp(http, "off") == 0) {
		o.http = NULL;
	} else if (http != NULL) {
		if ((rc = mu_cli_addr_arg(http, "--http")) != 0)
			return rc;
		o.http = http;
	}
	if (public_url != NULL) {
		if (o.http == NULL)
			return mu_cli_usage("--public-url is where the HTTP pages are "
			                    "reached; it does not go with --http off");
		rc = public_url_arg(public_url, public_buf, sizeof(public_buf));
		if (rc != 0)
			return rc;
		o.public_url = public_buf;
	}
	if (announce.n > MU_NODE_ANNOUNCE_MAX)
		return mu_cli_usage("--announce given %zu times; at most %d addresses",
		                    announce.n, MU_NODE_ANNOUNCE_MAX);
	for (i = 0; i < announce.n; i++) {
		if (strcmp(announce.v[i], "auto") == 0) {
			if (!map_port)
				return mu_cli_usage("--announce auto announces the "
				                    "address --map-port gets: add "
				                    "--map-port, or give HOST:PORT");
			o.announce_auto = true;
			continue;
		}
		if ((rc = mu_cli_addr_arg(announce.v[i], "--announce")) != 0)
			return rc;
		if (tor_only && !onion_addr(announce.v[i]))
			return mu_cli_usage(
			    "--announce %s: with --tor-only only .onion "
			    "addresses are announced (the node's own "
			    "is, by itself)",
			    announce.v[i]);
		o.announce[o.nannounce++] = announce.v[i];
	}
	if (map_port && tor_only)
		return mu_cli_usage("--map-port opens the home's address to everyone, "
		                    "--tor-only reaches only through Tor: choose one");
	o.map_port = map_port;
	if (network != NULL) {
		if ((rc = mu_cli_network_arg(network)) != 0)
			return rc;
		o.network = network;
	}
	if (hops != NULL && (rc = parse_hops(hops, &o.hops)) != 0)
		return rc;
	if (keep != NULL && (rc = parse_keep(keep, &o.keep_entries_days)) != 0)
		return rc;
	if ((rc = log_level_arg(level, &o.log_level)) != 0 ||
	    (rc = test_knobs(&o)) != 0)
		return rc;
	if ((rc = limits_env(&o.limits)) != 0)
		return rc;
	/* The benchmarks' (docs/BENCHMARKS.md, "Loop stalls"). */
	o.stall_log = getenv("MUSTER_STALL_LOG");
	if (o.stall_log != NULL && o.stall_log[0] == '\0')
		o.stall_log = NULL;

	/* Say so before printing a banner for a daemon that cannot start;
	 * mu_node_serve() takes the lock, which is what really decides. With
	 * the secret keys, so that an older home gets its organizer key (and
	 * record) before the daemon signs with it. */
	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	if (!mu_home_has_store(cli->home_dir)) {
		mu_cli_close(cli);
		return mu_cli_no_store(cli);
	}
	rc = mu_home_serve_running(cli->home, running, sizeof(running));
	mu_cli_close(cli);
	if (rc == 1)
		return mu_cli_fail(MU_EINVAL,
		                   "a muster serve already runs for the home %s "
		                   "(listening on %s); stop it first",
		                   cli->home_dir, running);
	if ((rc = banner_read(cli, &o, &banner)) != 0)
		return rc;
	o.ready = banner_print;
	o.ready_ctx = &banner;

	rc = mu_node_serve(&o, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "serve: %s", mu_why_or(&why, rc));
	if (banner.failed)
		return mu_cli_fail(MU_EIO, "cannot write the output (disk full or "
		                           "closed pipe?)");
	return 0;
}

int
mu_cli_sync_opts(struct mu_cli *cli, struct mu_node_opts *o, const char *network,
                 const char *level)
{
	int rc;

	mu_node_opts_default(o, cli->home_dir);
	o->listen = NULL;
	o->http = NULL;
	if (network != NULL)
		o->network = network;
	if ((rc = log_level_arg(level, &o->log_level)) != 0 ||
	    (rc = test_knobs(o)) != 0)
		return rc;
	return limits_env(&o->limits);
}

struct find_peer {
	const char *addr;
	bool found, has_key;
	uint8_t key[MU_KEY_BYTES];
};

static int
find_peer(void *ctx, const struct mu_peer *p)
{
	struct find_peer *f = ctx;

	if (strcmp(p->addr, f->addr) != 0)
		return 0;
	f->found = true;
	f->has_key = p->has_key;
	memcpy(f->key, p->key, MU_KEY_BYTES);
	return 0;
}

int
mu_cli_cmd_sync(struct mu_cli *cli, int argc, char **argv)
{
	const char *network = NULL, *level = NULL, *args[2];
	bool tor = false;
	const struct mu_cli_opt opts[] = {
	    {"network", MU_OPT_VALUE, &network},
	    {"log-level", MU_OPT_VALUE, &level},
	    {"tor", MU_OPT_FLAG, &tor},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"sync", sync_help, opts, "HOST:PORT [KEY]",
	                                 1,      2};
	struct find_peer peer = {NULL, false, false, {0}};
	struct mu_sync_report report = {0};
	uint8_t key[MU_KEY_BYTES];
	const uint8_t *expect;
	struct mu_node_opts o;
	struct mu_why why = {0};
	size_t nargs;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_peer_args(cli, args, nargs, "sync", key, &expect)) != 0)
		return rc;
	if (network != NULL && (rc = mu_cli_network_arg(network)) != 0)
		return rc;

	if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
		return rc;
	if (expect == NULL) {
		peer.addr = args[0];
		rc = mu_store_peers(cli->store, find_peer, &peer);
		if (rc != 0) {
			mu_cli_close(cli);
			return mu_cli_fail(rc, "cannot read the peers: %s",
			                   mu_strerror(rc));
		}
		if (peer.found && peer.has_key)
			expect = peer.key;
	}
	mu_cli_close(cli);

	if ((rc = mu_cli_sync_opts(cli, &o, network, level)) != 0)
		return rc;
	o.tor = tor;
	rc = mu_node_sync(&o, args[0], expect, &report, &why);
	if (rc != 0)
		return mu_cli_fail(rc,
		                   "sync with %s did not complete (%llu records "
		                   "received, %llu sent before it stopped): %s",
		                   args[0], (unsigned long long)report.received,
		                   (unsigned long long)report.sent,
		                   mu_why_or(&why, rc));
	fflush(stdout);
	fprintf(stderr,
	        "sync with %s done: %llu records received (%llu new, %llu "
	        "rejected), %llu sent; reconciled in %llu round trips, %llu "
	        "bytes of negentropy and %llu of wants; %llu bytes read, %llu "
	        "written%s\n",
	        args[0], (unsigned long long)report.received,
	        (unsigned long long)report.stored, (unsigned long long)report.rejected,
	        (unsigned long long)report.sent, (unsigned long long)report.neg_rounds,
	        (unsigned long long)report.neg_bytes,
	        (unsigned long long)report.want_bytes,
	        (unsigned long long)report.wire_received,
	        (unsigned long long)report.wire_sent,
	        report.early > 0 ? "; some records are dated more than 10 minutes "
	                           "ahead of this computer's clock: they come with "
	                           "a later sync, once their time comes"
	                         : "");
	return 0;
}
