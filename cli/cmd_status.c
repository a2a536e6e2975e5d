/*
 * cmd_status.c - who this node is: `muster status` and `muster id`.
 */
#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../protocol/kind.h"
#include "../protocol/textform.h"
#include "../storage/conflict.h"
#include "../storage/local.h"
#include "cli.h"
#include "when.h"

static const char status_help[] =
    "Usage: muster status\n"
    "\n"
    "Shows this node's home directory, its group key and name, whether\n"
    "`muster serve` runs for it (and where it listens), how other nodes\n"
    "reach it (an onion service, a port the router maps, the addresses its\n"
    "node record announces, or dial-out only), its peers with their\n"
    "state and last sync, how far this computer's clock is from theirs (as\n"
    "they said when they last connected), the groups it follows, and how\n"
    "many records it stores: of each kind (current versions; deletes are the\n"
    "tombstones kept so that deleted records stay deleted) and of each group.\n"
    "Exits with status 1 when there is no home yet: create one with\n"
    "`muster init`.\n"
    "\n"
    "Example:\n"
    "  muster status\n";

static const char id_help[] =
    "Usage: muster id\n"
    "\n"
    "Prints your group key in its text form (mug1…). Give it to groups that\n"
    "want to ally with you; it has a checksum, so a mistyped key is refused\n"
    "rather than taken for another group.\n"
    "\n"
    "Example:\n"
    "  muster id\n";

/* Records per group, handed over in key order by mu_store_counts(). */
struct group_count {
	uint8_t key[MU_KEY_BYTES];
	uint64_t n;
};

struct group_counts {
	struct group_count *v;
	size_t n, cap;
};

static int
add_group(void *ctx, const uint8_t group[MU_KEY_BYTES], uint64_t n)
{
	struct group_counts *l = ctx;

	if (mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 16) != 0)
		return MU_ENOMEM;
	memcpy(l->v[l->n].key, group, MU_KEY_BYTES);
	l->v[l->n++].n = n;
	return 0;
}

/* Most records first; equal counts in key order. */
static int
by_count(const void *a, const void *b)
{
	const struct group_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return memcmp(x->key, y->key, MU_KEY_BYTES);
}

static void
print_groups(struct mu_cli *cli, struct group_counts *l)
{
	char name[MU_CLI_NAME_SIZE];
	size_t i;

	if (l->n > 1) /* an empty store has no array: qsort must not see NULL */
		qsort(l->v, l->n, sizeof(*l->v), by_count);
	printf("by group:  %zu\n", l->n);
	for (i = 0; i < l->n; i++) {
		mu_cli_group_name(cli, l->v[i].key, name);
		printf("  %s%s  %llu\n", name,
		       memcmp(l->v[i].key, cli->home->group, MU_KEY_BYTES) == 0
		           ? " (this group)"
		           : "",
		       (unsigned long long)l->v[i].n);
	}
}

/* The records of each kind, then of each group: counted from the store's
 * indexes, so that status stays instant on a store of millions. */
static int
print_records(struct mu_cli *cli)
{
	const struct mu_kind_def *def;
	struct group_counts l = {NULL, 0, 0};
	struct mu_store_counts c;
	int rc, k;

	/* The walk over by_group and then each group's name read pages all
	 * over the file, each fault mapping many around them: without a
	 * budget, status on a large store would keep most of it mapped.
	 * Without /proc nothing is given back, which costs memory only. */
	(void)mu_store_set_map_budget(cli->store, MU_STORE_MAP_BUDGET);
	rc = mu_store_counts(cli->store, &c, add_group, &l);
	if (rc != 0) {
		free(l.v);
		return mu_cli_fail(rc, "cannot count the records: %s", mu_strerror(rc));
	}
	printf("records:   %llu\n", (unsigned long long)c.records);
	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		def = mu_kind_def((enum mu_kind)k);
		/* Kinds a group may never use (petitions, pledges...) are
		 * left out until it holds one. */
		if (def->counted_as != NULL && c.kinds[k] > 0)
			printf("  %-9s %llu\n", def->counted_as,
			       (unsigned long long)c.kinds[k]);
	}
	/* After the walk: a name is a read of its own. */
	print_groups(cli, &l);
	free(l.v);
	return 0;
}

/* The daemon's live connections (HOME/serve.conns), which include nodes
 * that dialed us and are in no peers table. */
struct conns {
	struct mu_cli *cli;
	size_t n, inbound;
};

static int
print_conn(void *ctx, const char *addr, const uint8_t key[MU_KEY_BYTES], bool dialed)
{
	struct conns *x = ctx;
	char name[MU_CLI_NAME_SIZE], text[MU_KEY_TEXT_SIZE];
	const char *how = dialed ? "dialed" : "inbound (it dialed this node)";

	if (x->n++ == 0)
		printf("connected:\n");
	x->inbound += !dialed;
	mu_key_to_text(text, key);
	if (mu_cli_group_name(x->cli, key, name))
		printf("  %s  %s (%s), %s\n", addr, name, text, how);
	else
		printf("  %s  %s, %s\n", addr, text, how);
	return 0;
}

/* Returns how many connections the other side dialed. */
static size_t
print_connections(struct mu_cli *cli)
{
	struct conns x = {cli, 0, 0};

	mu_home_conns_each(cli->home, print_conn, &x);
	if (x.n == 0)
		printf("connected: none\n");
	return x.inbound;
}

/* What the daemon learnt of this computer's clock from its peers' hellos
 * (storage/home_clock.c), with what it costs when it is off. */
static void
print_clock(struct mu_cli *cli)
{
	char how[MU_HOME_CLOCK_PHRASE_SIZE];
	int64_t offset;
	unsigned n;

	if (mu_home_read_clock(cli->home, cli->now, &offset, &n) != 0) {
		printf("clock:     not compared with peers yet (the daemon does when "
		       "they connect)\n");
		return;
	}
	mu_home_clock_phrase(how, sizeof(how), offset);
	if (offset > -MU_HOME_CLOCK_OFF && offset < MU_HOME_CLOCK_OFF)
		printf("clock:     agrees with its peers' (%s, %u peer%s)\n", how, n,
		       n == 1 ? "" : "s");
	else
		printf("clock:     OFF, %s its peers' (%u peer%s): %s; %s (enable "
		       "NTP: `timedatectl set-ntp true`)\n",
		       how, n, n == 1 ? "" : "s",
		       offset < -MU_FUTURE_SLACK && n >= MU_HOME_CLOCK_SURE
		           ? "they refuse the records signed here, so no new "
		             "record is made until it is set right"
		       : offset < -MU_FUTURE_SLACK
		           ? "it refuses the records signed here for now"
		       : offset < 0 ? "records signed here look up to 10 minutes "
		                      "ahead to them"
		                    : "records they sign are refused here until "
		                      "this clock reaches their time",
		       n >= MU_HOME_CLOCK_SURE
		           ? "set it right"
		           : "with one peer either clock may be wrong: check this one");
}

/* The onion address (HOME/tor/hostname, kept between runs) and, while the
 * daemon runs, where its tor stands (HOME/tor/state). */
static void
print_tor(struct mu_cli *cli, bool running)
{
	char *host = mu_home_read_state(cli->home, MU_HOME_TOR_HOSTNAME);
	char *state = running ? mu_home_read_state(cli->home, MU_HOME_TOR_STATE) : NULL;
	const char *st =
	    state != NULL && strncmp(state, "state=", 6) == 0 ? state + 6 : NULL;

	if (host != NULL)
		printf("onion:     %.*s\n", (int)strcspn(host, "\n"), host);
	if (st != NULL)
		printf("tor:       %.*s\n", (int)strcspn(st, "\n"), st);
	else if (host != NULL)
		printf("tor:       not running (`muster serve --tor` starts it)\n");
	free(host);
	free(state);
}

static int
print_peers(struct mu_cli *cli)
{
	char info[MU_PEER_ADDR_MAX + 64], synced[MU_CLI_AGO_SIZE];
	struct mu_cli_peers l;
	size_t i, inbound = 0;
	int running, rc;

	if ((running = mu_cli_daemon(cli, info, sizeof(info))) < 0)
		return running;
	if (running == 1) {
		printf("daemon:    running, listening on %s\n", info);
		inbound = print_connections(cli);
	} else
		printf("daemon:    not running (start it with `muster serve`)\n");
	print_tor(cli, running == 1);
	if ((rc = mu_cli_print_reach(cli, running == 1)) != 0)
		return rc;
	if ((rc = mu_cli_peers_load(cli, &l)) != 0)
		return rc;
	if (inbound > 0)
		printf("peers:     %zu dialed by this node, %zu inbound (connected "
		       "above)\n",
		       l.n, inbound);
	else
		printf("peers:     %zu%s\n", l.n,
		       l.n == 0 ? " (add one with `muster peer add HOST:PORT KEY`)"
		                : "");
	for (i = 0; i < l.n; i++) {
		mu_cli_when_ago(synced, l.v[i].last_sync, cli->now);
		printf("  %s  %s%s, last sync %s\n", l.v[i].addr, l.v[i].state,
		       running == 1 ? "" : " (when the daemon last ran)", synced);
	}
	mu_cli_peers_free(&l);
	print_clock(cli);
	return 0;
}

struct keys {
	uint8_t (*v)[MU_KEY_BYTES];
	size_t n, cap;
};

static int
collect_key(void *ctx, const uint8_t key[MU_KEY_BYTES])
{
	struct keys *l = ctx;

	if (mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 8) != 0)
		return MU_ENOMEM;
	memcpy(l->v[l->n++], key, MU_KEY_BYTES);
	return 0;
}

static int
print_follows(struct mu_cli *cli)
{
	struct keys l = {NULL, 0, 0};
	char name[MU_CLI_NAME_SIZE], key[MU_KEY_TEXT_SIZE];
	size_t i;
	int rc;

	rc = mu_store_follows(cli->store, collect_key, &l);
	if (rc != 0) {
		free(l.v);
		return mu_cli_fail(rc, "cannot read the followed groups: %s",
		                   mu_strerror(rc));
	}
	printf("follows:   %zu\n", l.n);
	for (i = 0; i < l.n; i++) {
		mu_key_to_text(key, l.v[i]);
		if (mu_cli_group_name(cli, l.v[i], name))
			printf("  %s (%s)\n", name, key);
		else
			printf("  %s\n", key);
	}
	free(l.v);
	return 0;
}

/* The concurrent edits of our records, one line each; nothing when none. */
struct conflicts {
	struct mu_cli *cli;
	size_t n;
};

static int
print_conflict(void *ctx, const struct mu_store_conflict *c)
{
	struct conflicts *x = ctx;

	if (x->n++ == 0)
		printf("conflicts: concurrent edits (`muster show ADDR` says more)\n");
	mu_cli_print_conflict_line(stdout, x->cli, c);
	return 0;
}

static int
print_conflicts(struct mu_cli *cli)
{
	struct conflicts x = {cli, 0};
	struct mu_why why = {0};
	int rc;

	rc = mu_store_conflict_each(cli->store, cli->home->group, print_conflict, &x,
	                            &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot read the concurrent edits: %s",
		                   mu_why_or(&why, rc));
	return 0;
}

int
mu_cli_cmd_status(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"status", status_help, opts, "", 0, 0};
	char key[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE], zone_buf[MU_CLI_ZONE_SIZE];
	const char *zone;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	mu_key_to_text(key, cli->home->group);
	if (!mu_cli_group_name(cli, cli->home->group, name))
		snprintf(name, sizeof(name),
		         "(no profile: set one with `muster profile "
		         "set --name NAME`)");
	printf("home:      %s\n", cli->home_dir);
	printf("group:     %s\n", key);
	printf("name:      %s\n", name);
	if ((rc = mu_cli_node_zone(cli, zone_buf, &zone)) != 0)
		return rc;
	printf("zone:      %s\n", zone != NULL ? zone : "UTC");
	if ((rc = print_peers(cli)) != 0 || (rc = print_follows(cli)) != 0 ||
	    (rc = print_records(cli)) != 0)
		return rc;
	return print_conflicts(cli);
}

int
mu_cli_cmd_id(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"id", id_help, opts, "", 0, 0};
	char key[MU_KEY_TEXT_SIZE];
	int rc;

	/* The public key is all we need: neither the secret nor the store. */
	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_HOME_ONLY);
	if (rc != 0)
		return rc;
	mu_key_to_text(key, cli->home->group);
	printf("%s\n", key);
	return 0;
}
