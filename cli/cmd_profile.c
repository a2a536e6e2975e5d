/*
 * cmd_profile.c - `muster profile set`: the group's own description, and
 * the node's time zone.
 *
 * A group has one profile (d ""), so setting it is always an edit of that
 * address, or its first version when there is none yet. The zone is a
 * setting of this node (storage/local.h), not part of the record.
 */
#include <string.h>

#include "cli.h"

static const char group_help[] =
    "Usage: muster profile set [--name N] [--about A] [--website U]\n"
    "                          [--contact C] [--location L] [--tz ZONE]\n"
    "\n"
    "Your group's profile: the name other groups see next to your events,\n"
    "causes and alliances. See `muster profile set --help`.\n"
    "\n"
    "Example:\n"
    "  muster profile set --name \"Riverside Tenants Union\"\n";

static const char set_help[] =
    "Usage: muster profile set [--name N] [--about A] [--website U]\n"
    "                          [--contact C] [--location L] [--tz ZONE]\n"
    "\n"
    "Changes your group's profile. Fields you do not give keep their value;\n"
    "an empty value (--about \"\") removes a field. Prints the profile's\n"
    "address.\n"
    "\n"
    "Options:\n"
    "  --name N       the group's name (up to {profile:name:max} bytes; "
    "{profile:name:required})\n"
    "  --about A      what the group is and does (up to {profile:about:max} "
    "bytes)\n"
    "  --website U    a http:// or https:// address\n"
    "  --contact C    how to reach you: an e-mail address, a phone, a handle\n"
    "  --location L   where the group is based: a town or neighbourhood\n"
    "  --tz ZONE      this node's time zone, an IANA name such as\n"
    "                 Europe/Berlin: `event add` and `edit` read times\n"
    "                 without --tz in it, and `event list` shows times in\n"
    "                 it. A setting of this node, not published: prints\n"
    "                 \"time zone: ZONE\"\n"
    "\n"
    "Example:\n"
    "  muster profile set --about \"Tenants organizing in Riverside since 2019\" \\\n"
    "      --website https://riverside-tenants.example\n";

static void
apply(struct mu_str *field, const char *value)
{
	if (value != NULL)
		*field = mu_cli_str(value);
}

/* Stores the zone and says so, before the profile's address. */
static int
set_zone(struct mu_cli *cli, const char *zone)
{
	int rc = mu_cli_zone_store(cli, zone);

	if (rc != 0)
		return rc;
	printf("time zone: %s\n", zone);
	return 0;
}

static int
set(struct mu_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *about = NULL, *website = NULL, *contact = NULL,
	           *location = NULL, *tz = NULL;
	const struct mu_cli_opt opts[] = {
	    {"name", MU_OPT_VALUE, &name},
	    {"about", MU_OPT_VALUE, &about},
	    {"website", MU_OPT_VALUE, &website},
	    {"contact", MU_OPT_VALUE, &contact},
	    {"location", MU_OPT_VALUE, &location},
	    {"tz", MU_OPT_VALUE, &tz},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"profile set", set_help, opts, "", 0, 0};
	struct mu_cli_rec cur = {NULL, {0}};
	struct mu_record rec;
	struct mu_addr addr;
	bool fields;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	fields = name != NULL || about != NULL || website != NULL || contact != NULL ||
	         location != NULL;
	if (!fields && tz == NULL)
		return mu_cli_usage("profile set: nothing to change; give at least one "
		                    "of --name, --about, --website, --contact, "
		                    "--location, --tz");
	if (tz != NULL && (rc = mu_cli_zone_arg(tz, "--tz")) != 0)
		return rc;
	rc = mu_cli_open(cli, fields ? MU_CLI_SECRET : 0);
	if (rc != 0)
		return rc;
	if (tz != NULL && (rc = set_zone(cli, tz)) != 0)
		return rc;
	if (!fields)
		return 0;

	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, cli->home->group, MU_KEY_BYTES);
	addr.kind = MU_KIND_PROFILE;
	addr.d = mu_cli_str("");
	if ((rc = mu_cli_edit_or_new(cli, &addr, &cur, &rec, "profile")) != 0)
		return rc;
	apply(&rec.c.profile.name, name);
	apply(&rec.c.profile.about, about);
	apply(&rec.c.profile.website, website);
	apply(&rec.c.profile.contact, contact);
	apply(&rec.c.profile.location, location);
	rc = mu_cli_publish(cli, &rec, "set the profile");
	mu_cli_rec_free(&cur);
	return rc;
}

int
mu_cli_cmd_profile(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {{"set", set}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "profile", group_help, subs, argc, argv);
}
