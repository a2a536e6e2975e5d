/*
 * cmd_backup.c - `muster backup FILE` and `muster restore FILE`: a hot copy
 * of the store, and bringing it back (store_check.h). The group key is not
 * in the copy: README.md says why, and how to keep it.
 */
#include <stdlib.h>

#include "../storage/store_check.h"
#include "cli.h"

static const char backup_help[] =
    "Usage: muster backup FILE [--force]\n"
    "\n"
    "Writes a consistent copy of the store (every record, the peers, the\n"
    "groups you follow) to FILE, compacted, while `muster serve` keeps\n"
    "running. FILE is written in full or not at all, with mode 0600. The\n"
    "group key is NOT in it: keep a copy of HOME/group.key somewhere safe\n"
    "once (it never changes); anyone who has it can sign as your group.\n"
    "\n"
    "Options:\n"
    "  --force   replace FILE if it exists\n"
    "\n"
    "Example:\n"
    "  muster backup /media/usb/muster-2026-11-26.mdb\n";

static const char restore_help[] =
    "Usage: muster restore [--other-group] FILE\n"
    "\n"
    "Replaces this home's store with a backup made by `muster backup`. The\n"
    "backup is checked whole first (as `muster check` does); a damaged file\n"
    "changes nothing. Stop `muster serve` first. The previous store is kept\n"
    "as HOME/store.prev-TIME (printed); remove it once you are satisfied.\n"
    "The home must exist: on a new machine, copy your saved group.key into\n"
    "an empty home directory (mode 0600), or run `muster init` for a new\n"
    "group, then restore.\n"
    "\n"
    "A backup that holds none of this group's records but other groups' is\n"
    "another group's, and is refused: this home would lose its own profile\n"
    "and events. --other-group restores it all the same.\n"
    "\n"
    "Example:\n"
    "  muster restore /media/usb/muster-2026-11-26.mdb\n";

int
mu_cli_cmd_backup(struct mu_cli *cli, int argc, char **argv)
{
	bool force = false;
	const struct mu_cli_opt opts[] = {{"force", MU_OPT_FLAG, &force},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"backup", backup_help, opts, "FILE", 1, 1};
	struct mu_why why = {0};
	const char *args[1];
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	rc = mu_store_backup(cli->store, args[0], force, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot back up the store: %s",
		                   mu_why_or(&why, rc));
	return 0;
}

int
mu_cli_cmd_restore(struct mu_cli *cli, int argc, char **argv)
{
	bool other_group = false;
	const struct mu_cli_opt opts[] = {{"other-group", MU_OPT_FLAG, &other_group},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"restore", restore_help, opts, "FILE", 1, 1};
	struct mu_restore_info info;
	struct mu_why why = {0};
	const char *args[1];
	int rc;

	/* The home alone: the restore swaps the store under it. */
	rc = mu_cli_begin(cli, &spec, argc, argv, args, NULL, MU_CLI_HOME_ONLY);
	if (rc != 0)
		return rc;
	rc = mu_home_restore(cli->home, args[0], other_group, &info, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot restore %s: %s", args[0],
		                   mu_why_or(&why, rc));
	printf("restored %llu records from %s\n",
	       (unsigned long long)info.stats.records, args[0]);
	if (info.previous != NULL)
		printf("the previous store is in %s\n", info.previous);
	free(info.previous);
	return 0;
}
