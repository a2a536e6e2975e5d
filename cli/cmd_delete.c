/*
 * cmd_delete.c - `muster delete ADDR`: a tombstone for one of our records.
 */
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: muster delete ADDR [--reason TEXT]\n"
    "\n"
    "Deletes one of your group's causes or events for good: publishes a\n"
    "delete record (a tombstone) for its address, and every node that gets\n"
    "the tombstone drops the record and refuses it from then on. The address\n"
    "can never be used again. Prints the id of the delete record.\n"
    "\n"
    "To call an event off but keep it visible, use `muster event cancel`; to\n"
    "end an alliance, `muster ally end`; to change the profile, `muster\n"
    "profile set`.\n"
    "\n"
    "Options:\n"
    "  --reason TEXT   why it was deleted (up to {delete:reason:max} bytes), "
    "shown to others\n"
    "\n"
    "Example:\n"
    "  muster delete mug1…/event/91c2d7e05b6a4f38 --reason \"posted twice\"\n";

int
mu_cli_cmd_delete(struct mu_cli *cli, int argc, char **argv)
{
	const char *reason = NULL;
	const struct mu_cli_opt opts[] = {{"reason", MU_OPT_VALUE, &reason},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"delete", help, opts, "ADDR", 1, 1};
	struct mu_cli_rec cur = {NULL, {0}};
	const char *args[1];
	struct mu_record rec;
	struct mu_addr addr;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	rc = mu_cli_open_own(cli, args[0], MU_KIND_NONE, &addr);
	if (rc != 0)
		return rc;
	/* These addresses are fixed by the protocol (the profile's d is "", an
	 * alliance's is the other group's key), so a tombstone there would block
	 * the group from ever having a profile or that alliance again. */
	if (addr.kind == MU_KIND_PROFILE)
		return mu_cli_fail(MU_EINVAL,
		                   "refusing to delete your profile: your group could "
		                   "never publish one again; change it with `muster "
		                   "profile set` instead");
	if (addr.kind == MU_KIND_ALLIANCE)
		return mu_cli_fail(
		    MU_EINVAL, "refusing to delete an alliance: you could never ally "
		               "with that group again; use `muster ally end KEY` "
		               "instead");
	/* A typo in d would otherwise make a tombstone for nothing. */
	if ((rc = mu_cli_get_current(cli, &addr, &cur)) != 0)
		return rc;
	mu_cli_rec_free(&cur);

	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_DELETE;
	rec.c.del.by_addr = true;
	rec.c.del.addr = addr;
	rec.c.del.reason = mu_cli_str(reason);
	return mu_cli_publish(cli, &rec, "delete");
}
