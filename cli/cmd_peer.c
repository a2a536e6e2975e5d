/*
 * cmd_peer.c - who this node talks to and what it wants beyond its allies:
 * `muster peer add | remove | list`, `muster follow` and `muster unfollow`.
 *
 * The peers table and the follows live in the store (storage/local.h); a
 * running daemon keeps each peer's state and statistics there, which is what
 * `peer list` and `muster status` show.
 */
#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../storage/local.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

static const char group_help[] =
    "Usage: muster peer add HOST:PORT [KEY]\n"
    "       muster peer remove HOST:PORT\n"
    "       muster peer list [--json]\n"
    "\n"
    "Peers are the nodes `muster serve` dials. It also accepts nodes that dial\n"
    "it, and learns the addresses your allies announce. `muster peer add\n"
    "--help` and the others explain each command.\n"
    "\n"
    "Example:\n"
    "  muster peer add 192.0.2.10:7420 mug1…\n"
    "  muster peer list\n";

static const char add_help[] =
    "Usage: muster peer add HOST:PORT [KEY]\n"
    "\n"
    "Adds the node at HOST:PORT (an IP address or host name; IPv6 in\n"
    "brackets: [2001:db8::1]:7420) to the nodes `muster serve` dials. KEY is\n"
    "the group key that node must prove, the mug1… text its `muster serve`\n"
    "or `muster id` prints: a node that proves another key is refused. Without\n"
    "KEY any group is accepted there. Adding a peer again updates its key.\n"
    "\n"
    "Example:\n"
    "  muster peer add 192.0.2.10:7420 mug1…\n";

static const char remove_help[] = "Usage: muster peer remove HOST:PORT\n"
                                  "\n"
                                  "Removes a peer: `muster serve` no longer dials it.\n"
                                  "\n"
                                  "Example:\n"
                                  "  muster peer remove 192.0.2.10:7420\n";

static const char list_help[] =
    "Usage: muster peer list [--json]\n"
    "\n"
    "Lists the peers with their state as the daemon last saw it (connected,\n"
    "backoff, refused, idle...), when they were last seen (a completed\n"
    "handshake) and last synced, how many records went each way, and why\n"
    "the last dial failed (the wrong key, another network, an HTTP port, a\n"
    "refused connection...) until one succeeds. While `muster serve` runs,\n"
    "the nodes that dialed it are listed too, marked inbound, with the group\n"
    "they proved. The first line says how other nodes reach this one.\n"
    "\n"
    "Options:\n"
    "  --json   a JSON array of {\"address\", \"key\" (or null), \"name\" (or\n"
    "           null), \"source\" (manual, learnt or inbound), \"state\",\n"
    "           \"added_at\", \"last_seen\", \"last_sync\" (ISO times or null),\n"
    "           \"sent\", \"received\", \"reason\" (why the last dial\n"
    "           failed, or null)}; for inbound ones added_at, last_sync,\n"
    "           sent, received and reason are null\n"
    "\n"
    "Example:\n"
    "  muster peer list\n";

static const char follow_help[] =
    "Usage: muster follow KEY...\n"
    "\n"
    "Follows the group with key KEY without an alliance: this node then keeps\n"
    "and relays that group's records (its causes, events and alliances), and\n"
    "`muster event list` shows its events. Undo with `muster unfollow KEY`.\n"
    "Several keys (up to 1024) follow several groups at once.\n"
    "\n"
    "Example:\n"
    "  muster follow mug1…\n";

static const char unfollow_help[] =
    "Usage: muster unfollow KEY...\n"
    "\n"
    "Stops following the group with key KEY (or each of several keys).\n"
    "Records of it already stored are kept; new ones come only if it is in\n"
    "your scope some other way (an alliance).\n"
    "\n"
    "Example:\n"
    "  muster unfollow mug1…\n";

static int
collect(void *ctx, const struct mu_peer *p)
{
	struct mu_cli_peers *l = ctx;

	if (mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 8) != 0)
		return MU_ENOMEM;
	l->v[l->n++] = *p;
	return 0;
}

int
mu_cli_peers_load(struct mu_cli *cli, struct mu_cli_peers *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mu_store_peers(cli->store, collect, out);
	if (rc != 0) {
		mu_cli_peers_free(out);
		return mu_cli_fail(rc, "cannot read the peers: %s", mu_strerror(rc));
	}
	return 0;
}

void
mu_cli_peers_free(struct mu_cli_peers *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
mu_cli_daemon(struct mu_cli *cli, char *info, size_t cap)
{
	int rc = mu_home_serve_running(cli->home, info, cap);

	if (rc < 0)
		mu_cli_fail(rc, "cannot tell whether a daemon runs for %s: %s",
		            cli->home_dir, mu_strerror(rc));
	return rc;
}

int
mu_cli_addr_arg(const char *addr, const char *what)
{
	struct mu_why why = {0};
	size_t len = strlen(addr);

	if (mu_peer_addr_check(addr, &why) == 0)
		return 0;
	/* The address's own fault, without the store's "peer address" words:
	 * --http and --listen take no peer. */
	if (len < MU_PEER_ADDR_MAX && mu_rec_check_node_addr(addr, len, &why) != 0)
		return mu_cli_usage(
		    "%s needs HOST:PORT, such as %s; '%s' is not: %s", what,
		    strcmp(what, "--http") == 0 ? "127.0.0.1:7421" : "127.0.0.1:7420",
		    addr, mu_why_detail(&why));
	return mu_cli_usage("%s: %s", what, why.text);
}

int
mu_cli_peer_args(struct mu_cli *cli, const char **args, size_t nargs, const char *what,
                 uint8_t key[MU_KEY_BYTES], const uint8_t **expect)
{
	int rc;

	*expect = NULL;
	if ((rc = mu_cli_addr_arg(args[0], what)) != 0)
		return rc;
	if (nargs == 2) {
		if ((rc = mu_cli_key_arg(cli, key, args[1], what)) != 0)
			return rc;
		*expect = key;
	}
	return 0;
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	const char *args[2];
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"peer add",        add_help, opts,
	                                 "HOST:PORT [KEY]", 1,        2};
	uint8_t key[MU_KEY_BYTES];
	const uint8_t *expect;
	struct mu_why why = {0};
	size_t nargs;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_peer_args(cli, args, nargs, "peer add", key, &expect)) != 0)
		return rc;
	if ((rc = mu_cli_open(cli, 0)) != 0)
		return rc;
	rc = mu_store_peer_add(cli->store, args[0], expect, MU_PEER_MANUAL, cli->now,
	                       &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot add the peer %s: %s", args[0],
		                   mu_why_or(&why, rc));
	if (expect != NULL)
		printf("added peer %s; it must prove the group key %s\n", args[0],
		       args[1]);
	else
		printf("added peer %s; any group is accepted there (give its KEY to "
		       "make sure it is the node you mean)\n",
		       args[0]);
	return 0;
}

static int
remove_peer(struct mu_cli *cli, int argc, char **argv)
{
	const char *args[1];
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"peer remove", remove_help, opts,
	                                 "HOST:PORT",   1,           1};
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, NULL, 0);
	if (rc != 0)
		return rc;
	rc = mu_store_peer_remove(cli->store, args[0]);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc, "no peer %s; `muster peer list` shows the peers",
		                   args[0]);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot remove the peer %s: %s", args[0],
		                   mu_strerror(rc));
	printf("removed peer %s\n", args[0]);
	return 0;
}

static const char *
source_name(enum mu_peer_source s)
{
	return s == MU_PEER_LEARNT ? "learnt" : "manual";
}

static json_t *
time_or_null(int64_t t)
{
	char iso[MU_CLI_ISO_SIZE];

	if (t == 0)
		return json_null();
	mu_cli_when_iso(iso, t);
	return json_string(iso);
}

/* The connections the other side dialed, from the running daemon. */
struct inbound {
	struct inbound_conn {
		char addr[MU_PEER_ADDR_MAX];
		uint8_t key[MU_KEY_BYTES];
		int64_t seen;
	} * v;
	size_t n, cap;
};

static int
collect_inbound(void *ctx, const char *addr, const uint8_t key[MU_KEY_BYTES],
                bool dialed)
{
	struct inbound *in = ctx;
	struct inbound_conn *e;

	if (dialed)
		return 0;
	if (mu_buf_grow_array(&in->v, &in->cap, in->n + 1, sizeof(*e), 8) != 0)
		return MU_ENOMEM;
	e = &in->v[in->n++];
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	memcpy(e->key, key, MU_KEY_BYTES);
	e->seen = 0;
	return 0;
}

/* The inbound connections with when each group was last seen. */
static int
load_inbound(struct mu_cli *cli, struct inbound *in)
{
	struct mu_home_seen *seen;
	size_t n, i, j;
	int rc;

	if ((rc = mu_home_conns_each(cli->home, collect_inbound, in)) != 0 ||
	    (rc = mu_home_read_seen(cli->home, &seen, &n)) != 0)
		return mu_cli_fail(rc, "cannot read the connections: %s",
		                   mu_strerror(rc));
	for (i = 0; i < in->n; i++)
		for (j = 0; j < n; j++)
			if (memcmp(seen[j].key, in->v[i].key, MU_KEY_BYTES) == 0)
				in->v[i].seen = seen[j].at;
	free(seen);
	return 0;
}

static int
print_json(struct mu_cli *cli, const struct mu_cli_peers *l, const struct inbound *in)
{
	char key[MU_KEY_TEXT_SIZE];
	json_t *arr = json_array();
	const struct mu_peer *p;
	size_t i;

	for (i = 0; arr != NULL && i < l->n; i++) {
		p = &l->v[i];
		if (p->has_key)
			mu_key_to_text(key, p->key);
		mu_cli_json_push(
		    &arr,
		    json_pack(
		        "{s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:o}",
		        "address", p->addr, "key",
		        p->has_key ? json_string(key) : json_null(), "name",
		        p->has_key ? mu_cli_json_group_name(cli, p->key) : json_null(),
		        "source", source_name(p->source), "state", p->state, "added_at",
		        time_or_null(p->added_at), "last_seen",
		        time_or_null(p->last_seen), "last_sync",
		        time_or_null(p->last_sync), "sent", (json_int_t)p->sent,
		        "received", (json_int_t)p->received, "reason",
		        p->reason[0] != '\0' ? json_string(p->reason) : json_null()));
	}
	for (i = 0; arr != NULL && i < in->n; i++) {
		mu_key_to_text(key, in->v[i].key);
		mu_cli_json_push(
		    &arr,
		    json_pack("{s:s, s:s, s:o, s:s, s:s, s:n, s:o, s:n, s:n, s:n, s:n}",
		              "address", in->v[i].addr, "key", key, "name",
		              mu_cli_json_group_name(cli, in->v[i].key), "source",
		              "inbound", "state", "connected", "added_at", "last_seen",
		              time_or_null(in->v[i].seen), "last_sync", "sent",
		              "received", "reason"));
	}
	return mu_cli_json_out(arr);
}

static void
print_group(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE];

	mu_key_to_text(text, key);
	if (mu_cli_group_name(cli, key, name))
		printf("    group      %s\n               %s\n", name, text);
	else
		printf("    group      %s\n", text);
}

static void
print_text(struct mu_cli *cli, const struct mu_cli_peers *l, const struct inbound *in,
           bool running)
{
	char seen[MU_CLI_AGO_SIZE], synced[MU_CLI_AGO_SIZE];
	const struct mu_peer *p;
	size_t i;

	if (l->n == 0 && in->n == 0) {
		printf("No peers. Add one with `muster peer add HOST:PORT KEY`.\n");
		return;
	}
	if (!running && l->n > 0)
		printf("(muster serve is not running: states are as it last saw "
		       "them)\n");
	for (i = 0; i < l->n; i++) {
		p = &l->v[i];
		mu_cli_when_ago(seen, p->last_seen, cli->now);
		mu_cli_when_ago(synced, p->last_sync, cli->now);
		printf("%s%s  %s%s\n", i > 0 || !running ? "\n" : "", p->addr, p->state,
		       p->source == MU_PEER_LEARNT ? "  (learnt from an ally)" : "");
		if (p->has_key)
			print_group(cli, p->key);
		else
			printf("    group      any (no key given)\n");
		printf("    last seen  %s\n", seen);
		printf("    last sync  %s\n", synced);
		printf("    records    %llu sent, %llu received\n",
		       (unsigned long long)p->sent, (unsigned long long)p->received);
		if (p->reason[0] != '\0')
			printf("    last dial failed: %s\n", p->reason);
	}
	for (i = 0; i < in->n; i++) {
		mu_cli_when_ago(seen, in->v[i].seen, cli->now);
		printf("%s%s  connected  (inbound: it dialed this node)\n",
		       i > 0 || l->n > 0 ? "\n" : "", in->v[i].addr);
		print_group(cli, in->v[i].key);
		printf("    last seen  %s\n", seen);
	}
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"peer list", list_help, opts, "", 0, 0};
	struct inbound in = {NULL, 0, 0};
	struct mu_cli_peers l;
	char info[MU_PEER_ADDR_MAX + 64];
	int rc, running;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	if ((running = mu_cli_daemon(cli, info, sizeof(info))) < 0)
		return running;
	if (running == 1 && (rc = load_inbound(cli, &in)) != 0)
		goto out;
	if ((rc = mu_cli_peers_load(cli, &l)) != 0)
		goto out;
	if (json) {
		rc = print_json(cli, &l, &in);
	} else if ((rc = mu_cli_print_reach(cli, running == 1)) == 0) {
		printf("\n");
		print_text(cli, &l, &in, running == 1);
	}
	mu_cli_peers_free(&l);
out:
	free(in.v);
	return rc;
}

int
mu_cli_cmd_peer(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add}, {"remove", remove_peer}, {"list", list}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "peer", group_help, subs, argc, argv);
}

/* One key of follow or unfollow. */
static int
follow_one(struct mu_cli *cli, const char *name, const char *text, bool on)
{
	char gname[MU_CLI_NAME_SIZE];
	uint8_t key[MU_KEY_BYTES];
	int rc;

	if ((rc = mu_cli_key_arg(cli, key, text, name)) != 0)
		return rc;
	if (on && memcmp(key, cli->home->group, MU_KEY_BYTES) == 0)
		return mu_cli_fail(MU_EINVAL,
		                   "follow: %s is your own group's key; its records "
		                   "are always kept",
		                   text);
	rc = mu_store_follow(cli->store, key, on);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc,
		                   "unfollow: you do not follow %s; `muster status` "
		                   "lists the groups you follow",
		                   text);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot %s %s: %s", name, text, mu_strerror(rc));
	if (mu_cli_group_name(cli, key, gname))
		printf("%s %s (%s)\n", on ? "following" : "no longer following", gname,
		       text);
	else
		printf("%s %s\n", on ? "following" : "no longer following", text);
	return 0;
}

/* follow and unfollow: the same but for on. Several keys are handled in
 * order; the first that fails stops the command. */
static int
follow(struct mu_cli *cli, int argc, char **argv, bool on)
{
	const char *args[MU_SCOPE_MAX];
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {on ? "follow" : "unfollow",
	                                 on ? follow_help : unfollow_help,
	                                 opts,
	                                 "KEY...",
	                                 1,
	                                 MU_SCOPE_MAX};
	size_t nargs, i;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, &nargs, 0);
	if (rc != 0)
		return rc;
	for (i = 0; i < nargs; i++)
		if ((rc = follow_one(cli, spec.name, args[i], on)) != 0)
			return rc;
	return 0;
}

int
mu_cli_cmd_follow(struct mu_cli *cli, int argc, char **argv)
{
	return follow(cli, argc, argv, true);
}

int
mu_cli_cmd_unfollow(struct mu_cli *cli, int argc, char **argv)
{
	return follow(cli, argc, argv, false);
}
