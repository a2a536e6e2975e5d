/*
 * cmd_key.c - `muster key`: what is done with the group's root key.
 */
#include "cli.h"

static const char group_help[] =
    "Usage: muster key offline FILE\n"
    "\n"
    "  offline FILE   move the root key out of this home into FILE\n";

int
mu_cli_cmd_key(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {{"offline", mu_cli_cmd_key_offline},
	                                         {NULL, NULL}};

	return mu_cli_dispatch(cli, "key", group_help, subs, argc, argv);
}
