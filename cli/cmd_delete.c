/*
 * cmd_delete.c - `muster delete ADDR`: a tombstone for one of our records.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
    "Usage: muster delete ADDR [--reason TEXT] [--yes]\n"
    "\n"
    "Deletes one of your group's causes or events for good: publishes a\n"
    "delete record (a tombstone) for its address, and every node that gets\n"
    "the tombstone drops the record and refuses it from then on. The address\n"
    "can never be used again. Prints the id of the delete record. On a\n"
    "terminal it asks first; scripts say --yes.\n"
    "\n"
    "To call an event off but keep it visible, use `muster event cancel`; to\n"
    "end an alliance, `muster ally end`; to change the profile, `muster\n"
    "profile set`.\n"
    "\n"
    "Options:\n"
    "  --reason TEXT   why it was deleted (up to {delete:reason:max} bytes), "
    "shown to others\n"
    "  --yes           do not ask: delete (needed when stdin is not a terminal)\n"
    "\n"
    "Example:\n"
    "  muster delete mug1…/event/91c2d7e05b6a4f38 --reason \"posted twice\"\n";

/*
 * A delete cannot be undone, and an address is easily mistyped or pasted
 * from the wrong line: on a terminal the person says yes to the record named
 * by its title; without a terminal nobody can answer, so --yes must have
 * been given. Returns 0 to go on, or prints why not and returns the error.
 */
static int
confirm(const struct mu_cli_rec *cur, const char *addr_text, bool yes)
{
	const struct mu_str *title = NULL;
	char answer[16];

	if (yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return mu_cli_usage("delete: stdin is not a terminal to ask on; add "
		                    "--yes to delete %s for good",
		                    addr_text);
	if (cur->rec.kind == MU_KIND_EVENT)
		title = &cur->rec.c.event.title;
	else if (cur->rec.kind == MU_KIND_CAUSE)
		title = &cur->rec.c.cause.title;
	fflush(stdout);
	fprintf(stderr,
	        "Delete %s \"%.*s\" (%s) for good? Its address can never "
	        "be used again. [y/N] ",
	        mu_kind_name(cur->rec.kind), title != NULL ? (int)title->len : 0,
	        title != NULL ? title->ptr : "", addr_text);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL ||
	    (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0))
		return mu_cli_fail(MU_EINVAL, "nothing deleted: answer y to delete");
	return 0;
}

int
mu_cli_cmd_delete(struct mu_cli *cli, int argc, char **argv)
{
	const char *reason = NULL;
	bool yes = false;
	const struct mu_cli_opt opts[] = {{"reason", MU_OPT_VALUE, &reason},
	                                  {"yes", MU_OPT_FLAG, &yes},
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
	rc = confirm(&cur, args[0], yes);
	mu_cli_rec_free(&cur);
	if (rc != 0)
		return rc;

	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_DELETE;
	rec.c.del.by_addr = true;
	rec.c.del.addr = addr;
	rec.c.del.reason = mu_cli_str(reason);
	return mu_cli_publish(cli, &rec, "delete");
}
