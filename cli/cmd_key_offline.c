/*
 * cmd_key_offline.c - `muster key offline FILE`: the group's root key moves
 * out of the home, which goes on publishing with its organizer key.
 */
#include <stdio.h>

#include "cli.h"

static const char help[] =
    "Usage: muster key offline FILE\n"
    "\n"
    "Moves the group's root key out of this home: writes it to FILE (a new\n"
    "file, mode 600; an existing one is never replaced) and removes it from\n"
    "the home. The home goes on publishing with its own organizer key; only\n"
    "adding or revoking organizers needs the root key, which those commands\n"
    "then read from the file: `muster organizer add CODE --root-key FILE`.\n"
    "Keep FILE on a USB stick in a drawer, not on this computer.\n"
    "\n"
    "Example:\n"
    "  muster key offline /media/usb/riverside-root.key\n";

int
mu_cli_cmd_key_offline(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"key offline", help, opts, "FILE", 1, 1};
	const char *args[1];
	struct mu_why why = {0};
	size_t n = 0;
	int rc;

	/* With the store: an older home gets its organizer key and record
	 * first, so that it can go on publishing without the root key. */
	rc = mu_cli_begin(cli, &spec, argc, argv, args, &n, MU_CLI_SECRET);
	if (rc != 0)
		return rc;
	if (!cli->home->has_root)
		return mu_cli_fail(MU_ENOTFOUND,
		                   "this home has no root key to move: it is offline "
		                   "already, or this home joined its group");
	rc = mu_home_key_offline(cli->home, args[0], &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot move the root key out: %s",
		                   mu_why_or(&why, rc));
	mu_cli_note("the root key is in %s and no longer in %s; keep the file "
	            "away from this computer. This home goes on publishing with "
	            "its organizer key; `muster organizer add` and `revoke` need "
	            "--root-key %s",
	            args[0], cli->home_dir, args[0]);
	return 0;
}
