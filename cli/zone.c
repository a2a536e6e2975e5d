/*
 * zone.c - the node's time zone: the zone its people type and read times
 * in, kept in the store (storage/local.h) by `muster init` and `muster
 * profile set --tz`.
 */
#include <string.h>

#include "../storage/local.h"
#include "cli.h"
#include "when.h"

_Static_assert(MU_CLI_ZONE_SIZE == MU_STORE_ZONE_SIZE,
               "a zone name the store keeps fits the CLI's buffers");

const char *
mu_cli_machine_zone(char *out)
{
	struct mu_why why = {0};

	if (mu_cli_system_zone(out) == 0)
		return out;
	snprintf(out, MU_CLI_ZONE_SIZE, "UTC");
	return mu_cli_zone_check(out, &why) == 0 ? out : NULL;
}

int
mu_cli_node_zone(struct mu_cli *cli, char *out, const char **zone)
{
	struct mu_why why = {0};
	bool opened = false;
	int rc;

	*zone = NULL;
	/* A command that opened the home alone has no store to ask. */
	if (cli->home != NULL && cli->store == NULL) {
		*zone = mu_cli_machine_zone(out);
		return 0;
	}
	if (cli->store == NULL) {
		if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
			return rc;
		opened = true;
	}
	rc = mu_store_zone_get(cli->store, out);
	if (opened)
		mu_cli_close(cli);
	if (rc == 0 && mu_cli_zone_check(out, &why) == 0) {
		*zone = out;
		return 0;
	}
	/* Homes made before nodes had a zone have none: they go on with the
	 * machine's, as they did. */
	if (rc == 0)
		mu_cli_note("this node's time zone %s is unknown on this machine (%s); "
		            "using the machine's; set another with `muster profile "
		            "set --tz ZONE`",
		            out, why.text);
	else if (rc != MU_ENOTFOUND)
		mu_cli_note("cannot read this node's time zone (%s); using the "
		            "machine's",
		            mu_strerror(rc));
	*zone = mu_cli_machine_zone(out);
	return 0;
}

int
mu_cli_zone_store(struct mu_cli *cli, const char *zone)
{
	int rc = mu_store_zone_set(cli->store, zone);

	if (rc != 0)
		return mu_cli_fail(rc, "cannot set this node's time zone: %s",
		                   mu_strerror(rc));
	return 0;
}

int
mu_cli_zone_arg(const char *zone, const char *what)
{
	struct mu_why why = {0};

	if (mu_cli_zone_check(zone, &why) != 0)
		return mu_cli_fail(MU_EINVAL, "%s: %s", what, why.text);
	return 0;
}
