/*
 * cmd_status.c - who this node is: `muster status` and `muster id`.
 */
#include <string.h>

#include "cli.h"

static const char status_help[] =
    "Usage: muster status\n"
    "\n"
    "Shows this node's home directory, its group key and name, and how many\n"
    "records of each kind it stores (current versions; deletes are the\n"
    "tombstones kept so that deleted records stay deleted). Exits with status\n"
    "1 when there is no home yet: create one with `muster init`.\n"
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

static int
count_one(void *ctx, const struct mu_record *rec)
{
	(void)rec;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int
count_deletes(void *ctx, const struct mu_record *rec)
{
	if (rec->kind == MU_KIND_DELETE)
		(*(uint64_t *)ctx)++;
	return 0;
}

int
mu_cli_cmd_status(struct mu_cli *cli, int argc, char **argv)
{
	static const enum mu_kind kinds[] = {MU_KIND_PROFILE, MU_KIND_CAUSE,
	                                     MU_KIND_EVENT, MU_KIND_ALLIANCE};
	static const char *const labels[] = {"profiles", "causes", "events",
	                                     "alliances"};
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"status", status_help, opts, "", 0, 0};
	char key[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE];
	uint64_t n, total = 0;
	size_t nargs, i;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, &nargs);
	if (rc != 0)
		return MU_CLI_EXIT(rc);
	rc = mu_cli_open(cli, MU_CLI_READONLY);
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
	if ((rc = mu_store_count(cli->store, &total)) != 0)
		return mu_cli_fail("cannot count the records: %s", mu_strerror(rc));
	printf("records:   %llu\n", (unsigned long long)total);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = 0;
		rc = mu_store_list(cli->store, kinds[i], NULL, count_one, &n);
		if (rc != 0)
			return mu_cli_fail("cannot list the %s: %s", labels[i],
			                   mu_strerror(rc));
		printf("  %-9s %llu\n", labels[i], (unsigned long long)n);
	}
	n = 0;
	rc = mu_store_each(cli->store, count_deletes, &n);
	if (rc != 0)
		return mu_cli_fail("cannot read the records: %s", mu_strerror(rc));
	printf("  %-9s %llu\n", "deletes", (unsigned long long)n);
	return MU_CLI_OK;
}

int
mu_cli_cmd_id(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"id", id_help, opts, "", 0, 0};
	char key[MU_KEY_TEXT_SIZE];
	struct mu_why why = {""};
	size_t nargs;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, &nargs);
	if (rc != 0)
		return MU_CLI_EXIT(rc);
	/* The public key is all we need: neither the secret nor the store. */
	rc = mu_home_open(&cli->home, cli->home_dir, false, &why);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(
		    "no muster home at %s: create one with `muster init`, "
		    "or choose another with --home DIR",
		    cli->home_dir);
	if (rc != 0)
		return mu_cli_fail("cannot open the home %s: %s", cli->home_dir,
		                   why.text[0] != '\0' ? why.text : mu_strerror(rc));
	mu_key_to_text(key, cli->home->group);
	printf("%s\n", key);
	return MU_CLI_OK;
}
