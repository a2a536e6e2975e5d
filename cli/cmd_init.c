/*
 * cmd_init.c - `muster init`: a new node home, group key and profile.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define STR_(x)       #x
#define STR(x)        STR_(x)
#define NAME_MAX_TEXT STR(MU_REQ_NAME_MAX)

static const char help[] =
    "Usage: muster init [--name NAME] [--organizer NAME]\n"
    "       muster init --join GROUPKEY [--organizer NAME]\n"
    "\n"
    "Creates this node: the home directory, a new group key (your group's\n"
    "identity: keep the home safe, the key cannot be recovered) and a profile\n"
    "with the group's name. Prints the group key, which you give to the groups\n"
    "you want to ally with.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the group's name (default: your user name, or the host\n"
    "                name when you are root); change it later with\n"
    "                `muster profile set --name`\n"
    "  --organizer NAME\n"
    "                who organizes from this home, as the group's other\n"
    "                organizers see it (default: the host name)\n"
    "  --join GROUPKEY\n"
    "                make this home an organizer's of an existing group: no\n"
    "                root key here, a new organizer key, and a request code\n"
    "                (mureq1..., the name at most " NAME_MAX_TEXT " bytes) to give to\n"
    "                whoever holds the group's root key, who runs\n"
    "                `muster organizer add CODE`\n"
    "\n"
    "The home is --home DIR, $MUSTER_HOME, $XDG_DATA_HOME/muster or\n"
    "~/.local/share/muster. An existing home is never overwritten.\n"
    "\n"
    "Examples:\n"
    "  muster init --name \"Riverside Tenants Union\" --organizer Ana\n"
    "  muster init --join mug1... --organizer Sam\n";

/* A name until the group picks one: who runs the node, or where. */
static void
default_name(char *out, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0' &&
	    strcmp(pw->pw_name, "root") != 0) {
		snprintf(out, size, "%s", pw->pw_name);
		return;
	}
	if (gethostname(out, size) == 0 && out[0] != '\0') {
		out[size - 1] = '\0';
		return;
	}
	snprintf(out, size, "muster node");
}

/*
 * Builds a record of init's with a throwaway key before the home exists, so
 * that a name the protocol refuses (too long, a control character) stops
 * init before it creates anything.
 */
static int
check_record(const struct mu_cli *cli, const struct mu_record *rec, const char *what)
{
	struct mu_record tmp = *rec;
	struct mu_why why = {0};
	uint8_t *sk, *out = NULL, id[MU_ID_BYTES];
	size_t len;
	int rc;

	sk = sodium_malloc(MU_SECRET_BYTES);
	if (sk == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	crypto_sign_keypair(tmp.group, sk);
	memcpy(tmp.signer, tmp.group, MU_KEY_BYTES);
	tmp.version = MU_FORMAT_VERSION;
	tmp.created_at = cli->now;
	rc = mu_rec_build(&tmp, sk, cli->now, &out, &len, id, &why);
	sodium_free(sk);
	free(out);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot %s: %s", what, mu_why_or(&why, rc));
	return 0;
}

/*
 * `init --join`: a home with the group's public key and a new organizer
 * key, no root key and no record of its own until the root holder adds the
 * organizer; its request code goes to stdout, what to do with it to stderr.
 */
static int
join(struct mu_cli *cli, const char *group_text, const char *organizer)
{
	char fallback[MU_REQ_NAME_SIZE], code[MU_REQ_TEXT_SIZE];
	uint8_t group[MU_KEY_BYTES], org[MU_KEY_BYTES];
	struct mu_why why = {0};
	int rc;

	rc = mu_key_from_text(group, group_text, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "--join: the %s", why.text);
	if (organizer == NULL) {
		mu_cli_host_name(fallback, sizeof(fallback));
		organizer = fallback;
	}
	/* Checked before the home exists, so a bad name creates nothing. */
	if (mu_req_to_text(code, group, organizer, strlen(organizer)) != 0)
		return mu_cli_fail(MU_EINVAL,
		                   "--organizer: the name in a request code is %d "
		                   "bytes at most, of text on one line; give a "
		                   "shorter one (the root key's holder can give a "
		                   "longer one with `muster organizer add --name`)",
		                   MU_REQ_NAME_MAX);
	rc = mu_home_join(cli->home_dir, group, org, &why);
	if (rc == MU_EEXIST)
		return mu_cli_fail(rc,
		                   "a muster home already exists at %s (`muster id` "
		                   "prints its key); use --home DIR to create another",
		                   cli->home_dir);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot create the home %s: %s", cli->home_dir,
		                   mu_why_or(&why, rc));
	(void)mu_req_to_text(code, org, organizer, strlen(organizer));
	printf("%s\n", code);
	mu_cli_note("give this request code to whoever holds your group's root "
	            "key, who runs `muster organizer add CODE`, then `muster "
	            "export FILE`; `muster import FILE` here brings this home "
	            "its organizer record, and it can publish and sync");
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}

int
mu_cli_cmd_init(struct mu_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *organizer = NULL, *join_key = NULL;
	const struct mu_cli_opt opts[] = {
	    {"name", MU_OPT_VALUE, &name},
	    {"organizer", MU_OPT_VALUE, &organizer},
	    {"join", MU_OPT_VALUE, &join_key},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"init", help, opts, "", 0, 0};
	char fallback[256], key[MU_KEY_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE];
	uint8_t group[MU_KEY_BYTES];
	struct mu_why why = {0};
	struct mu_record rec;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (join_key != NULL && name != NULL)
		return mu_cli_usage("init: --name names a new group; a home that "
		                    "joins one gets the group's profile from its "
		                    "other nodes: leave --name out");
	if (join_key != NULL)
		return join(cli, join_key, organizer);
	if (name == NULL) {
		default_name(fallback, sizeof(fallback));
		name = fallback;
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_PROFILE;
	rec.d = mu_cli_str("");
	rec.c.profile.name = mu_cli_str(name);
	rc = check_record(cli, &rec, "create the profile");
	if (rc != 0)
		return rc;
	if (organizer != NULL) {
		uint8_t someone[MU_KEY_BYTES];
		char hex[MU_CLI_KEY_HEX_SIZE];
		struct mu_record org;

		randombytes_buf(someone, sizeof(someone));
		mu_cli_organizer_rec(&org, someone, organizer, hex);
		rc = check_record(cli, &org, "publish this home's organizer record");
		if (rc != 0)
			return rc;
	}

	rc = mu_home_create(cli->home_dir, group, &why);
	if (rc == MU_EEXIST)
		return mu_cli_fail(rc,
		                   "a muster home already exists at %s (`muster id` "
		                   "prints its key); use --home DIR to create another",
		                   cli->home_dir);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot create the home %s: %s", cli->home_dir,
		                   mu_why_or(&why, rc));
	/* The organizer record first (mu_cli_open()), so that the profile is
	 * signed by an organizer the store knows. */
	cli->organizer_name = organizer;
	rc = mu_cli_open(cli, MU_CLI_SECRET);
	if (rc != 0)
		return rc;

	rc = mu_cli_store_new(cli, &rec, "create the profile", addr);
	if (rc != 0)
		return rc;
	mu_key_to_text(key, cli->home->group);
	printf("%s\n", key);
	return 0;
}
