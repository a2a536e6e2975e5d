/*
 * cmd_block.c - `muster block` and `muster unblock`: groups whose records
 * this node never stores or relays (storage/local.h, mu_store_block).
 */
#include <stdlib.h>
#include <string.h>

#include "../protocol/textform.h"
#include "../storage/local.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

static const char block_help[] =
    "Usage: muster block KEY...\n"
    "       muster block --list [--json]\n"
    "\n"
    "Blocks a group: every record of it this node holds is dropped (in one\n"
    "step), and its records are refused from then on, whoever relays them\n"
    "(a peer that relays them is not held to blame), so this node never\n"
    "stores or passes them on again. A blocked group leaves the scope even\n"
    "when allied or followed. KEY is a group key, the name of a group known\n"
    "here, or a unique start of a known key. --list prints the blocked\n"
    "groups and when each was blocked. `muster unblock KEY` undoes it.\n"
    "\n"
    "Example:\n"
    "  muster block \"Spam Collective\"\n"
    "  muster block --list\n";

static const char unblock_help[] =
    "Usage: muster unblock KEY...\n"
    "\n"
    "Stops blocking a group (see `muster block`). Its records are stored\n"
    "again when it is in the scope (an ally, an ally's ally, followed); what\n"
    "was dropped comes back at the next sync with a node that holds it.\n"
    "\n"
    "Example:\n"
    "  muster unblock mug1qpzry9x8gf2tvdw0s3jn54khce6mua7l\n";

static int
block_one(struct mu_cli *cli, const char *text, bool on)
{
	char name[MU_CLI_NAME_SIZE];
	uint8_t key[MU_KEY_BYTES];
	uint64_t dropped = 0;
	int rc;

	if ((rc = mu_cli_key_arg(cli, key, text, "KEY")) != 0)
		return rc;
	if (memcmp(key, cli->home->group, MU_KEY_BYTES) == 0)
		return mu_cli_fail(MU_EINVAL,
		                   "block: %s is your own group; give another "
		                   "group's key or name",
		                   text);
	/* The whole key when no name is known: the text to unblock it by. */
	if (!mu_cli_group_name(cli, key, name))
		mu_key_to_text(name, key);
	rc = mu_store_block(cli->store, key, on, cli->now, &dropped);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc,
		                   "unblock: %s is not blocked; `muster block --list` "
		                   "lists the blocked groups",
		                   text);
	if (rc == MU_EFULL)
		return mu_cli_fail(rc,
		                   "block: %d groups are blocked already, the most a "
		                   "node keeps; unblock one first",
		                   MU_BLOCKS_MAX);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot %s %s: %s", on ? "block" : "unblock",
		                   text, mu_strerror(rc));
	if (on)
		printf("blocked %s: %llu record%s dropped; its records are refused "
		       "from now on\n",
		       name, (unsigned long long)dropped, dropped == 1 ? "" : "s");
	else
		printf("no longer blocking %s\n", name);
	return 0;
}

/* The blocked groups, read before any name is looked up: names are not
 * read from inside a store visitor. */
struct block_list {
	size_t n;
	struct {
		uint8_t key[MU_KEY_BYTES];
		int64_t since;
	} v[MU_BLOCKS_MAX];
};

static int
collect(void *ctx, const uint8_t key[MU_KEY_BYTES], int64_t since)
{
	struct block_list *l = ctx;

	memcpy(l->v[l->n].key, key, MU_KEY_BYTES);
	l->v[l->n++].since = since;
	return l->n < MU_BLOCKS_MAX ? 0 : 1;
}

static void
print_list(struct mu_cli *cli, const struct block_list *l)
{
	char name[MU_CLI_NAME_SIZE], ktext[MU_KEY_TEXT_SIZE], day[MU_CLI_ISO_SIZE];

	if (l->n == 0)
		printf("No group is blocked.\n");
	for (size_t i = 0; i < l->n; i++) {
		mu_key_to_text(ktext, l->v[i].key);
		if (!mu_cli_group_name(cli, l->v[i].key, name))
			name[0] = '\0';
		mu_cli_when_iso(day, l->v[i].since);
		day[10] = '\0';
		printf("%s  blocked %s%s%s\n", ktext, day, name[0] ? "  " : "", name);
	}
}

static int
list(struct mu_cli *cli, bool json)
{
	struct block_list *l = calloc(1, sizeof(*l));
	json_t *arr = NULL;
	int rc;

	if (l == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	rc = mu_store_blocks(cli->store, collect, l);
	if (rc < 0) {
		free(l);
		return mu_cli_fail(rc, "cannot read the blocked groups: %s",
		                   mu_strerror(rc));
	}
	rc = 0;
	if (!json) {
		print_list(cli, l);
	} else {
		arr = json_array();
		for (size_t i = 0; arr != NULL && i < l->n; i++)
			mu_cli_json_push(
			    &arr,
			    json_pack("{s:o, s:o, s:o}", "key",
			              mu_node_json_key(l->v[i].key), "name",
			              mu_cli_json_group_name(cli, l->v[i].key),
			              "blocked_at", mu_node_json_time(l->v[i].since)));
		rc = mu_cli_json_out(arr);
	}
	free(l);
	return rc;
}

static int
block(struct mu_cli *cli, int argc, char **argv, bool on)
{
	const char *args[MU_BLOCKS_MAX];
	bool show = false, json = false;
	const struct mu_cli_opt opts[] = {{"list", MU_OPT_FLAG, &show},
	                                  {"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_opt none[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {on ? "block" : "unblock",
	                                 on ? block_help : unblock_help,
	                                 on ? opts : none,
	                                 "KEY...",
	                                 0,
	                                 MU_BLOCKS_MAX};
	size_t nargs, i;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if (show && nargs > 0)
		return mu_cli_usage("block: give --list or keys to block, not both");
	if (!show && json)
		return mu_cli_usage("block: --json goes with --list");
	if (!show && nargs == 0)
		return mu_cli_usage("%s: give the KEY (or name) of the group to %s",
		                    spec.name, spec.name);
	if ((rc = mu_cli_open(cli, show ? MU_CLI_READONLY : 0)) != 0)
		return rc;
	if (show)
		return list(cli, json);
	for (i = 0; i < nargs; i++)
		if ((rc = block_one(cli, args[i], on)) != 0)
			return rc;
	return 0;
}

int
mu_cli_cmd_block(struct mu_cli *cli, int argc, char **argv)
{
	return block(cli, argc, argv, true);
}

int
mu_cli_cmd_unblock(struct mu_cli *cli, int argc, char **argv)
{
	return block(cli, argc, argv, false);
}
