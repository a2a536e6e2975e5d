/*
 * cmd_invite.c - invite codes: `muster invite` makes one, `invite list`
 * and `invite revoke` look after them, `muster join CODE` redeems one
 * (docs/PROTOCOL.md, "Invite codes" and 10.8).
 *
 * The code holds the secret; this node keeps only its public key
 * (storage/local.h), so the code is printed once and never again.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "../node/node.h"
#include "../protocol/buf.h"
#include "../protocol/invite.h"
#include "../protocol/utf8.h"
#include "../storage/local.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

#define USES_MAX        1000
#define DEFAULT_EXPIRES "7d"
#define ID_HEX          8 /* digits of the id `invite list` shows */

static const char invite_help[] =
    "Usage: muster invite [--uses N] [--expires D] [--ally] [--terms TEXT]\n"
    "                     [--address HOST:PORT]... [--network NAME]\n"
    "       muster invite list [--json]\n"
    "       muster invite revoke ID\n"
    "\n"
    "Prints an invite code (muinv1...) for another group. Paste it to them in\n"
    "a chat; they run `muster join CODE`. Their node dials this one, proves\n"
    "the code, and both nodes then know each other: they add this node as a\n"
    "peer and propose an alliance, which you accept with `muster ally add`\n"
    "(or at once, with --ally). The code is shown once: this node keeps only\n"
    "a key to check it, so a copy or backup of this home cannot make a code\n"
    "that this node accepts.\n"
    "\n"
    "The code lists the addresses to dial, in this order: those given with\n"
    "--address, this node's onion address (HOME/tor/hostname), the addresses\n"
    "`muster serve --announce` published, and the address the running\n"
    "daemon listens on (each of this machine's addresses when it listens on\n"
    "all of them). `muster serve` must run when they join.\n"
    "\n"
    "Options:\n"
    "  --uses N             how many groups may join with it (default 1, at\n"
    "                       most "
    "1000"
    ")\n"
    "  --expires D          how long it is valid: 30m, 12h, 7d... "
    "(default " DEFAULT_EXPIRES ")\n"
    "  --ally               accept the alliance at once when they join\n"
    "  --terms TEXT         the terms of that alliance (with --ally)\n"
    "  --address HOST:PORT  an address they can dial this node at; repeat\n"
    "  --network NAME       the network the node serves "
    "(default " MU_NODE_DEFAULT_NETWORK ")\n"
    "\n"
    "Example:\n"
    "  muster invite --expires 2d --ally\n";

static const char list_help[] =
    "Usage: muster invite list [--json]\n"
    "\n"
    "Lists the invites this node made: id, uses left, expiry, state (valid,\n"
    "expired, used up, revoked), and the last group that joined with it.\n"
    "\n"
    "Options:\n"
    "  --json   a JSON array of {\"id\", \"uses\", \"left\", \"created_at\",\n"
    "           \"expires\", \"state\", \"ally\", \"terms\", \"joined\", \"name\"}\n";

static const char revoke_help[] =
    "Usage: muster invite revoke ID\n"
    "\n"
    "Revokes an invite: its code no longer works. ID is the id that\n"
    "`muster invite list` shows (8 hex digits or more).\n"
    "\n"
    "Example:\n"
    "  muster invite revoke 1f2e3d4c\n";

static const char join_help[] =
    "Usage: muster join CODE [--name NAME] [--tor] [--log-level LEVEL]\n"
    "\n"
    "Joins the group that gave you an invite code (muinv1...): dials its\n"
    "node at the addresses in the code, in order, checks that it is that\n"
    "group, and proves the code. Then this node adds it as a peer, proposes\n"
    "an alliance with it and syncs both ways. Its node need not know yours\n"
    "beforehand, and yours need not be reachable.\n"
    "\n"
    "Options:\n"
    "  --name NAME        the name the inviter sees for this join (default:\n"
    "                     your group's name), at most 64 bytes\n"
    "  --tor              run tor for the join, to dial the .onion addresses\n"
    "                     of the code (Debian's tor package)\n"
    "  --log-level LEVEL  error, warn (default), info or debug\n"
    "\n"
    "Environment:\n"
    "  MUSTER_LIMITS      NAME=VALUE,... overrides limits, as for `muster sync`\n"
    "\n"
    "Example:\n"
    "  muster join muinv1qyqs...\n";

/* --- the addresses in a code --------------------------------------------- */

struct addrs {
	struct mu_invite *inv;
	bool full; /* one was left out: MU_INVITE_ADDRS_MAX */
};

static void
add_addr(struct addrs *a, const char *addr)
{
	struct mu_invite *inv = a->inv;

	if (strlen(addr) > MU_INVITE_ADDR_MAX)
		return;
	for (size_t i = 0; i < inv->naddrs; i++)
		if (strcmp(inv->addrs[i], addr) == 0)
			return;
	if (inv->naddrs == MU_INVITE_ADDRS_MAX) {
		a->full = true;
		return;
	}
	snprintf(inv->addrs[inv->naddrs++], MU_INVITE_ADDR_MAX + 1, "%s", addr);
}

/* HOME/tor/hostname, as tor writes it: "NAME.onion\n". */
static void
add_onion(struct mu_cli *cli, struct addrs *a, const char *port)
{
	char path[4096], line[128], addr[160];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tor/hostname", cli->home_dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len > 6 && strcmp(line + len - 6, ".onion") == 0) {
			snprintf(addr, sizeof(addr), "%s:%s", line, port);
			if (mu_peer_addr_check(addr, NULL) == 0)
				add_addr(a, addr);
		}
	}
	fclose(f);
}

struct node_rec {
	struct addrs *a;
};

static int
announced(struct mu_cli *cli, struct addrs *a)
{
	struct mu_cli_rec cur = {NULL, {0}};
	struct mu_addr addr;
	char one[MU_NODE_ADDR_MAX + 1];
	int rc;

	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, cli->home->group, MU_KEY_BYTES);
	addr.kind = MU_KIND_NODE;
	addr.d = mu_cli_str("");
	rc = mu_cli_lookup(cli, &addr, &cur);
	if (rc == MU_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < cur.rec.c.node.naddrs; i++) {
		const struct mu_str *s = &cur.rec.c.node.addrs[i];

		snprintf(one, sizeof(one), "%.*s", (int)s->len, s->ptr);
		add_addr(a, one);
	}
	mu_cli_rec_free(&cur);
	return 0;
}

/* The machine's addresses, for a daemon listening on all of them: IPv4
 * (0.0.0.0) or IPv6 ([::], which takes IPv4 too on Linux), loopback and
 * link-local left out. */
static void
lan_addrs(struct addrs *a, bool v6, const char *port)
{
	struct ifaddrs *ifs, *i;
	char host[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN + 16];

	if (getifaddrs(&ifs) != 0)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (i = ifs; i != NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			if (pass == 0 && i->ifa_addr->sa_family == AF_INET) {
				const struct sockaddr_in *s = (void *)i->ifa_addr;

				inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
				snprintf(addr, sizeof(addr), "%s:%s", host, port);
				add_addr(a, addr);
			} else if (pass == 1 && v6 &&
			           i->ifa_addr->sa_family == AF_INET6) {
				const struct sockaddr_in6 *s = (void *)i->ifa_addr;

				if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr))
					continue;
				inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
				snprintf(addr, sizeof(addr), "[%s]:%s", host, port);
				add_addr(a, addr);
			}
		}
	}
	freeifaddrs(ifs);
}

static int
gather_addrs(struct mu_cli *cli, struct addrs *a, const struct mu_cli_list *given)
{
	char listen[MU_PEER_ADDR_MAX + 64], port[8] = "7420";
	const char *colon;
	int running, rc;

	for (size_t i = 0; i < given->n; i++)
		add_addr(a, given->v[i]);
	if ((running = mu_cli_daemon(cli, listen, sizeof(listen))) < 0)
		return running;
	colon = running == 1 ? strrchr(listen, ':') : NULL;
	if (colon != NULL)
		snprintf(port, sizeof(port), "%s", colon + 1);
	add_onion(cli, a, port);
	if ((rc = announced(cli, a)) != 0)
		return mu_cli_fail(rc, "cannot read this node's node record: %s",
		                   mu_strerror(rc));
	if (running != 1 || listen[0] == '\0')
		return 0;
	if (strncmp(listen, "0.0.0.0:", 8) == 0 || strncmp(listen, "[::]:", 5) == 0)
		lan_addrs(a, listen[0] == '[', port);
	else
		add_addr(a, listen);
	return 0;
}

/* --- muster invite ------------------------------------------------------- */

static int
create(struct mu_cli *cli, int argc, char **argv)
{
	const char *uses_text = NULL, *expires = NULL, *terms = NULL;
	const char *network = NULL;
	struct mu_cli_list given = {{NULL}, 0};
	bool ally = false;
	const struct mu_cli_opt opts[] = {
	    {"uses", MU_OPT_VALUE, &uses_text},
	    {"expires", MU_OPT_VALUE, &expires},
	    {"ally", MU_OPT_FLAG, &ally},
	    {"terms", MU_OPT_VALUE, &terms},
	    {"address", MU_OPT_LIST, &given},
	    {"network", MU_OPT_VALUE, &network},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"invite", invite_help, opts, "", 0, 0};
	struct mu_invite *inv = NULL;
	struct mu_invite_row row;
	struct addrs a;
	char text[MU_INVITE_TEXT_SIZE], id[2 * MU_KEY_BYTES + 1], at[MU_CLI_ISO_SIZE];
	unsigned long uses = 1;
	struct mu_why why = {0};
	int64_t secs;
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, NULL, NULL)) != 0)
		return rc;
	if (uses_text != NULL &&
	    (rc = mu_cli_uint_opt("uses", uses_text, 1, USES_MAX, &uses)) != 0)
		return rc;
	if (mu_cli_duration_parse(expires != NULL ? expires : DEFAULT_EXPIRES, &secs,
	                          &why) != 0)
		return mu_cli_usage("--expires: %s", why.text);
	if (terms != NULL && !ally)
		return mu_cli_usage(
		    "--terms are the terms of the alliance that --ally "
		    "accepts: give --ally too, or propose terms with "
		    "`muster ally add KEY --terms TEXT` once they join");
	if (terms != NULL &&
	    (strlen(terms) > MU_INVITE_TERMS_MAX ||
	     mu_utf8_check(terms, strlen(terms), MU_UTF8_TEXT, NULL) != MU_UTF8_OK))
		return mu_cli_usage("--terms: at most %d bytes of UTF-8 text",
		                    MU_INVITE_TERMS_MAX);
	for (size_t i = 0; i < given.n; i++)
		if ((rc = mu_cli_addr_arg(given.v[i], "--address")) != 0)
			return rc;
	if (network != NULL && (rc = mu_cli_network_arg(network)) != 0)
		return rc;
	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	if ((inv = sodium_malloc(sizeof(*inv))) == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto out;
	}
	memset(inv, 0, sizeof(*inv));
	a.inv = inv;
	a.full = false;
	if ((rc = gather_addrs(cli, &a, &given)) != 0)
		goto out;
	if (inv->naddrs == 0) {
		rc = mu_cli_fail(
		    MU_EINVAL, "no address to put in the invite: start `muster serve` "
		               "first (its listen address and --announce addresses go "
		               "in the code), or give --address HOST:PORT");
		goto out;
	}
	memcpy(inv->group, cli->home->group, MU_KEY_BYTES);
	randombytes_buf(inv->seed, sizeof(inv->seed));
	inv->expires = cli->now + secs;
	snprintf(inv->network, sizeof(inv->network), "%s",
	         network != NULL ? network : MU_NODE_DEFAULT_NETWORK);
	while ((rc = mu_invite_to_text(text, inv)) == MU_EINVAL && inv->naddrs > 1) {
		inv->naddrs--; /* the longest lists end with LAN addresses */
		a.full = true;
	}
	if (rc != 0) {
		rc = mu_cli_fail(rc, "the invite's address is too long for a code");
		goto out;
	}
	memset(&row, 0, sizeof(row));
	mu_invite_public(row.pub, inv->seed);
	row.created_at = cli->now;
	row.expires = inv->expires;
	row.uses = row.left = (uint32_t)uses;
	row.ally = ally;
	snprintf(row.terms, sizeof(row.terms), "%s", terms != NULL ? terms : "");
	if ((rc = mu_store_invite_add(cli->store, &row, &why)) != 0) {
		rc =
		    mu_cli_fail(rc, "cannot store the invite: %s", mu_why_or(&why, rc));
		goto out;
	}
	printf("%s\n", text);
	sodium_bin2hex(id, sizeof(id), row.pub, MU_KEY_BYTES);
	mu_cli_when_iso(at, row.expires);
	fflush(stdout);
	fprintf(stderr, "invite %.8s: %lu use%s, valid until %s%s; dials ", id, uses,
	        uses == 1 ? "" : "s", at, ally ? ", accepts the alliance at once" : "");
	for (size_t i = 0; i < inv->naddrs; i++)
		fprintf(stderr, "%s%s", i > 0 ? ", " : "", inv->addrs[i]);
	fprintf(stderr,
	        "%s.\nThey run: muster join CODE. Keep `muster serve` "
	        "running until they have.\n",
	        a.full ? " (more addresses did not fit)" : "");
	rc = ferror(stdout) ? mu_cli_fail(MU_EIO, "cannot write to stdout") : 0;
out:
	if (inv != NULL)
		sodium_free(inv);
	return rc;
}

/* --- muster invite list -------------------------------------------------- */

struct rows {
	struct mu_invite_row *v;
	size_t n, cap;
};

static int
collect(void *ctx, const struct mu_invite_row *row)
{
	struct rows *l = ctx;

	if (mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 8) != 0)
		return MU_ENOMEM;
	l->v[l->n++] = *row;
	return 0;
}

static const char *
state(const struct mu_invite_row *r, int64_t now)
{
	if (r->revoked)
		return "revoked";
	if (now >= r->expires)
		return "expired";
	if (r->left == 0)
		return "used";
	return "valid";
}

static int
print_json(const struct rows *l, int64_t now)
{
	char id[2 * MU_KEY_BYTES + 1], key[MU_KEY_TEXT_SIZE], c[MU_CLI_ISO_SIZE],
	    e[MU_CLI_ISO_SIZE];
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < l->n; i++) {
		const struct mu_invite_row *r = &l->v[i];

		sodium_bin2hex(id, sizeof(id), r->pub, MU_KEY_BYTES);
		mu_key_to_text(key, r->joiner);
		mu_cli_when_iso(c, r->created_at);
		mu_cli_when_iso(e, r->expires);
		if (json_array_append_new(
		        arr,
		        json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:s, s:s?, "
		                  "s:s?}",
		                  "id", id, "uses", (json_int_t)r->uses, "left",
		                  (json_int_t)r->left, "created_at", c, "expires", e,
		                  "state", state(r, now), "ally", r->ally, "terms",
		                  r->terms, "joined", r->has_joiner ? key : NULL,
		                  "name", r->has_joiner ? r->name : NULL)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return mu_cli_json_out(arr);
}

static void
print_text(const struct rows *l, int64_t now)
{
	char id[2 * MU_KEY_BYTES + 1], key[MU_KEY_TEXT_SIZE], e[MU_CLI_ISO_SIZE];

	if (l->n == 0) {
		printf("No invites. Make one with `muster invite`.\n");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct mu_invite_row *r = &l->v[i];

		sodium_bin2hex(id, sizeof(id), r->pub, MU_KEY_BYTES);
		mu_cli_when_iso(e, r->expires);
		printf("%.8s  %-7s  %u of %u uses left  until %s%s\n", id,
		       state(r, now), r->left, r->uses, e, r->ally ? "  --ally" : "");
		if (r->has_joiner) {
			mu_key_to_text(key, r->joiner);
			printf("          last joined by %s%s%s\n", r->name,
			       r->name[0] != '\0' ? " " : "", key);
		}
	}
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"invite list", list_help, opts, "", 0, 0};
	struct rows l = {NULL, 0, 0};
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	if ((rc = mu_store_invites(cli->store, collect, &l)) != 0) {
		rc = mu_cli_fail(rc, "cannot list the invites: %s", mu_strerror(rc));
	} else if (json) {
		rc = print_json(&l, cli->now);
	} else {
		print_text(&l, cli->now);
	}
	free(l.v);
	return rc;
}

/* --- muster invite revoke ------------------------------------------------ */

static int
revoke(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {
	    "invite revoke", revoke_help, opts, "ID", 1, 1};
	struct mu_invite_row row;
	struct mu_why why = {0};
	const char *args[1];
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, NULL, 0);
	if (rc != 0)
		return rc;
	rc = mu_store_invite_revoke(cli->store, args[0], &row, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "invite revoke: %s", mu_why_or(&why, rc));
	printf("revoked invite %s: its code no longer works (%u of %u uses were "
	       "left)\n",
	       args[0], row.left, row.uses);
	return 0;
}

int
mu_cli_cmd_invite(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"list", list}, {"revoke", revoke}, {NULL, NULL}};

	if (argc >= 2 &&
	    (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "revoke") == 0))
		return mu_cli_dispatch(cli, "invite", invite_help, subs, argc, argv);
	return create(cli, argc, argv);
}

/* --- muster join --------------------------------------------------------- */

/* The inviter's answer, as one line for people. */
static int
refused(const char *verdict)
{
	static const struct {
		const char *verdict, *text;
	} says[] = {
	    {"expired", "the invite code has expired"},
	    {"used", "the invite code was already used as many times as it allows"},
	    {"revoked", "the inviter revoked this invite code"},
	    {"unknown", "the inviter's node does not know this invite code (a code "
	                "made on a copy or backup of its home does not work)"},
	};

	for (size_t i = 0; i < sizeof(says) / sizeof(says[0]); i++)
		if (strcmp(verdict, says[i].verdict) == 0)
			return mu_cli_fail(MU_EPERM,
			                   "join: %s; ask whoever gave it to you for a "
			                   "new one (`muster invite`)",
			                   says[i].text);
	return mu_cli_fail(MU_EPERM,
	                   "join: the inviter's node refused the invite (%s); ask "
	                   "whoever gave it to you for a new code",
	                   verdict);
}

/* One sync with the inviter at addr; join (may be NULL) redeems the code. */
static int
sync_once(struct mu_cli *cli, const struct mu_invite *inv, const char *addr,
          const char *level, bool tor, struct mu_node_join *join,
          struct mu_sync_report *report, struct mu_why *why)
{
	struct mu_node_opts o;
	int rc;

	if ((rc = mu_cli_sync_opts(cli, &o, inv->network, level)) != 0)
		return rc;
	o.tor = tor;
	o.join = join;
	return mu_node_sync(&o, addr, inv->group, report, why);
}

/* Whether the inviter's alliance record names us as proposed. */
static int
inviter_allied(struct mu_cli *cli, const uint8_t group[MU_KEY_BYTES], bool *yes)
{
	struct mu_cli_rec cur = {NULL, {0}};
	char d[2 * MU_KEY_BYTES + 1];
	struct mu_addr addr;
	int rc;

	*yes = false;
	sodium_bin2hex(d, sizeof(d), cli->home->group, MU_KEY_BYTES);
	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, group, MU_KEY_BYTES);
	addr.kind = MU_KIND_ALLIANCE;
	addr.d = mu_cli_str(d);
	rc = mu_cli_lookup(cli, &addr, &cur);
	if (rc == MU_ENOTFOUND)
		return 0;
	if (rc == 0)
		*yes = cur.rec.c.alliance.status == MU_ALLIANCE_PROPOSED;
	mu_cli_rec_free(&cur);
	return rc;
}

/* After the code was accepted at addr: the peer, the proposal, the syncs
 * that carry it there and bring the inviter's records back. */
static int
after_join(struct mu_cli *cli, const struct mu_invite *inv, const char *addr,
           const char *level, bool tor, const char *key)
{
	struct mu_sync_report report = {0};
	char name[MU_CLI_NAME_SIZE];
	struct mu_why why = {0};
	bool proposed, allied = false;
	int rc;

	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	rc = mu_store_peer_add(cli->store, addr, inv->group, MU_PEER_MANUAL, cli->now,
	                       &why);
	if (rc != 0)
		rc = mu_cli_fail(rc, "join: cannot add %s as a peer: %s", addr,
		                 mu_why_or(&why, rc));
	if (rc == 0)
		rc = mu_cli_ally_propose(cli, inv->group, NULL, &proposed);
	mu_cli_close(cli);
	if (rc != 0)
		return rc;
	/* Two syncs at most: the first carries the proposal over and brings
	 * the inviter's own back when --ally accepted it; once both exist,
	 * each group is in the other's scope and the second carries their
	 * records. */
	for (int i = 0; i < 2; i++) {
		if ((rc = sync_once(cli, inv, addr, level, tor, NULL, &report, &why)) !=
		    0)
			return mu_cli_fail(rc,
			                   "join: the code was accepted, but the sync "
			                   "with %s stopped: %s; `muster serve` will "
			                   "sync again",
			                   addr, mu_why_or(&why, rc));
		if (allied)
			break;
		if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
			return rc;
		rc = inviter_allied(cli, inv->group, &allied);
		mu_cli_close(cli);
		if (rc != 0)
			return mu_cli_fail(rc, "join: cannot read the alliances: %s",
			                   mu_strerror(rc));
		if (!allied)
			break;
	}
	if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
		return rc;
	if (mu_cli_group_name(cli, inv->group, name))
		printf("joined %s (%s) at %s\n", name, key, addr);
	else
		printf("joined %s at %s\n", key, addr);
	mu_cli_close(cli);
	printf(allied ? "alliance: mutual (the inviter accepted at once)\n"
	              : "alliance: proposed; they accept it with `muster ally add`\n");
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}

int
mu_cli_cmd_join(struct mu_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *level = NULL, *args[1];
	bool tor = false;
	const struct mu_cli_opt opts[] = {
	    {"name", MU_OPT_VALUE, &name},
	    {"log-level", MU_OPT_VALUE, &level},
	    {"tor", MU_OPT_FLAG, &tor},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"join", join_help, opts, "CODE", 1, 1};
	char key[MU_KEY_TEXT_SIZE], at[MU_CLI_ISO_SIZE], gname[MU_CLI_NAME_SIZE];
	char tried[2048] = "";
	struct mu_sync_report report = {0};
	struct mu_invite *inv = NULL;
	struct mu_node_join *join = NULL;
	struct mu_why why = {0};
	size_t used = 0;
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	if (level == NULL)
		level = "warn"; /* the syncs' progress is not news here */
	if (name != NULL &&
	    (strlen(name) > MU_INVITE_NAME_MAX ||
	     mu_utf8_check(name, strlen(name), MU_UTF8_LINE, NULL) != MU_UTF8_OK))
		return mu_cli_usage("--name: at most %d bytes of UTF-8 on one line",
		                    MU_INVITE_NAME_MAX);
	inv = sodium_malloc(sizeof(*inv));
	join = sodium_malloc(sizeof(*join));
	if (inv == NULL || join == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto out;
	}
	memset(join, 0, sizeof(*join));
	if (mu_invite_from_text(inv, args[0], &why) != 0) {
		rc = mu_cli_fail(MU_EKEYTEXT, "join: %s", why.text);
		goto out;
	}
	mu_key_to_text(key, inv->group);
	if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
		goto out;
	if (memcmp(inv->group, cli->home->group, MU_KEY_BYTES) == 0) {
		mu_cli_close(cli);
		rc = mu_cli_fail(MU_EINVAL,
		                 "join: this invite code is your own group's; "
		                 "give it to the group you invite");
		goto out;
	}
	if (name == NULL && mu_cli_group_name(cli, cli->home->group, gname))
		name = gname;
	mu_cli_close(cli);
	if (cli->now >= inv->expires) {
		mu_cli_when_iso(at, inv->expires);
		rc = mu_cli_fail(MU_EPERM,
		                 "join: the invite code expired at %s; ask the group "
		                 "that gave it (%s) for a new one",
		                 at, key);
		goto out;
	}
	if (inv->naddrs == 0) {
		rc = mu_cli_fail(MU_EINVAL, "join: the invite code lists no address to "
		                            "dial; ask for a new one");
		goto out;
	}
	join->seed = inv->seed;
	join->name = name != NULL ? name : "";
	for (size_t i = 0; i < inv->naddrs; i++) {
		join->verdict[0] = '\0';
		rc =
		    sync_once(cli, inv, inv->addrs[i], level, tor, join, &report, &why);
		if (rc == MU_CLI_EUSAGE)
			goto out;
		if (join->verdict[0] != '\0' && strcmp(join->verdict, "ok") != 0) {
			rc = refused(join->verdict);
			goto out;
		}
		if (join->verdict[0] != '\0') {
			/* Accepted: a sync that stopped after it still joined. */
			rc = after_join(cli, inv, inv->addrs[i], level, tor, key);
			goto out;
		}
		used += (size_t)snprintf(tried + used, sizeof(tried) - used,
		                         "%s%s (%s)", i > 0 ? "; " : "", inv->addrs[i],
		                         mu_why_or(&why, rc));
		if (used >= sizeof(tried))
			used = sizeof(tried) - 1;
	}
	rc = mu_cli_fail(MU_EIO,
	                 "join: cannot reach the inviter's node; tried %s. Check "
	                 "that its `muster serve` runs, or ask for a code with an "
	                 "address you can reach",
	                 tried);
out:
	if (inv != NULL)
		sodium_free(inv);
	if (join != NULL)
		sodium_free(join);
	return rc;
}
