/*
 * cmd_init.c - `muster init`: a new node home, group key and profile, and
 * the node's time zone.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../protocol/shamir.h"
#include "cli.h"
#include "when.h"

#define STR_(x)       #x
#define STR(x)        STR_(x)
#define NAME_MAX_TEXT STR(MU_REQ_NAME_MAX)

static const char help[] =
    "Usage: muster init [--name NAME] [--tz ZONE] [--organizer NAME]\n"
    "       muster init --join GROUPKEY [--organizer NAME]\n"
    "       muster init --restore-key FILE | --shares SHARE...\n"
    "\n"
    "Creates this node: the home directory, a new group key (your group's\n"
    "identity: back it up with `muster key split`) and a profile with the\n"
    "group's name. Prints the group key, which you give to the groups you\n"
    "want to ally with.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the group's name (default: your user name, or the host\n"
    "                name when you are root); change it later with\n"
    "                `muster profile set --name`\n"
    "  --tz ZONE     this node's time zone, an IANA name such as\n"
    "                Europe/Berlin: events are read and listed in it. On a\n"
    "                terminal init asks, offering the machine's zone;\n"
    "                otherwise it takes the machine's and says so. Change it\n"
    "                later with `muster profile set --tz`\n"
    "  --organizer NAME\n"
    "                who organizes from this home, as the group's other\n"
    "                organizers see it (default: the host name)\n"
    "  --join GROUPKEY\n"
    "                make this home an organizer's of an existing group: no\n"
    "                root key here, a new organizer key, and a request code\n"
    "                (mureq1..., the name at most " NAME_MAX_TEXT " bytes) to give to\n"
    "                whoever holds the group's root key, who runs\n"
    "                `muster organizer add CODE`\n"
    "  --restore-key FILE\n"
    "                rebuild the home of an existing group from its saved\n"
    "                key file (a copy of group.key), with an empty store\n"
    "  --shares SHARE...\n"
    "                the same from shares of `muster key split` (texts or\n"
    "                files)\n"
    "\n"
    "A rebuilt home gets the group's records back from any node that keeps\n"
    "them (an ally's): `muster sync HOST:PORT`, or `muster peer add` and\n"
    "`muster serve`. It publishes nothing until then, not even a profile.\n"
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

/* Whether dir holds a home already (its key file), as mu_home_create()
 * would find. */
static bool
home_exists(const char *dir)
{
	char path[4096];

	return snprintf(path, sizeof(path), "%s/group.key", dir) < (int)sizeof(path) &&
	       access(path, F_OK) == 0;
}

/* Wrong answers before init gives up: a typo gets another chance, a
 * script feeding a terminal nonsense does not loop. */
#define ZONE_TRIES 3

/*
 * The node's zone: --tz, else asked on a terminal (an empty answer or the
 * end of input takes the machine's zone, shown), else the machine's. When
 * taken from the machine unasked, *said says so, for init to say once the
 * home exists (on stderr, so that stdout keeps the key alone); NULL when
 * the person chose it, with --tz or at the prompt.
 * Returns 0 with the zone in out, or prints why and returns the error.
 */
static int
pick_zone(const char *tz, char out[MU_CLI_ZONE_SIZE], const char **said)
{
	char machine[MU_CLI_ZONE_SIZE], line[256];
	struct mu_why why = {0};
	size_t len;
	int i, rc;

	if (tz != NULL) {
		if ((rc = mu_cli_zone_arg(tz, "--tz")) != 0)
			return rc;
		snprintf(out, MU_CLI_ZONE_SIZE, "%s", tz);
		*said = NULL;
		return 0;
	}
	if (mu_cli_machine_zone(machine) == NULL)
		return mu_cli_fail(MU_ENOTFOUND,
		                   "this machine has no time zone files (not even UTC "
		                   "in %s): install tzdata, or give --tz ZONE",
		                   getenv("TZDIR") != NULL ? getenv("TZDIR")
		                                           : "/usr/share/zoneinfo");
	if (!isatty(STDIN_FILENO)) {
		snprintf(out, MU_CLI_ZONE_SIZE, "%s", machine);
		*said = "this machine's";
		return 0;
	}
	*said = NULL;
	for (i = 0; i < ZONE_TRIES; i++) {
		fprintf(stderr,
		        "Time zone of this node (events are read and listed in it) "
		        "[%s]: ",
		        machine);
		fflush(stderr);
		if (fgets(line, sizeof(line), stdin) == NULL) {
			fputc('\n', stderr);
			line[0] = '\0';
		}
		len = strspn(line, " \t");
		memmove(line, line + len, strlen(line + len) + 1);
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0') {
			snprintf(out, MU_CLI_ZONE_SIZE, "%s", machine);
			return 0;
		}
		if (mu_cli_zone_check(line, &why) == 0) {
			snprintf(out, MU_CLI_ZONE_SIZE, "%.64s",
			         line); /* checked: at most 64 */
			return 0;
		}
		if (i + 1 < ZONE_TRIES)
			fprintf(stderr, "%s\n", why.text);
	}
	return mu_cli_fail(MU_EINVAL, "--tz: %s", why.text);
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
 * A home around the key of an existing group, from a key file or shares.
 * No profile: the group's own comes back from its peers, and a new one
 * would replace it there.
 */
static int
restore(struct mu_cli *cli, const char *file, const char *const *shares, size_t nshares)
{
	char key[MU_KEY_TEXT_SIZE];
	uint8_t group[MU_KEY_BYTES], *seed;
	struct mu_why why = {0};
	int rc;

	seed = sodium_malloc(MU_HOME_SEED_BYTES);
	if (seed == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	if (file != NULL) {
		rc = mu_home_read_seed(file, seed, &why);
		if (rc != 0)
			rc = mu_cli_fail(rc, "--restore-key: %s%s", mu_why_or(&why, rc),
			                 rc == MU_ECORRUPT ? " (shares of `muster key "
			                                     "split` go with --shares)"
			                                   : "");
	} else {
		rc = mu_cli_join_shares(shares, nshares, seed, group);
	}
	if (rc == 0) {
		rc = mu_home_restore_key(cli->home_dir, seed, group, &why);
		if (rc != 0)
			rc = mu_cli_fail(rc, "cannot rebuild the home %s: %s",
			                 cli->home_dir, mu_why_or(&why, rc));
	}
	sodium_free(seed);
	if (rc != 0)
		return rc;
	mu_key_to_text(key, group);
	printf("%s\n", key);
	mu_cli_note("the home of group %s is rebuilt with an empty store: its "
	            "records come back with `muster sync HOST:PORT` from a node "
	            "that keeps them",
	            key);
	return 0;
}

/* Why the home was not made, said. */
static int
not_created(struct mu_cli *cli, int rc, const struct mu_why *why)
{
	if (rc == MU_EEXIST)
		return mu_cli_fail(rc,
		                   "a muster home already exists at %s (`muster id` "
		                   "prints its key); use --home DIR to create another",
		                   cli->home_dir);
	return mu_cli_fail(rc, "cannot create the home %s: %s", cli->home_dir,
	                   mu_why_or(why, rc));
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
	if (rc != 0)
		return not_created(cli, rc, &why);
	(void)mu_req_to_text(code, org, organizer, strlen(organizer));
	printf("%s\n", code);
	mu_cli_note("give this request code to whoever holds your group's root "
	            "key, who runs `muster organizer add CODE`; then `muster peer "
	            "add HOST:PORT GROUPKEY` for a node of your group and `muster "
	            "serve` (or `muster sync HOST:PORT`) here bring this home its "
	            "organizer record, and it can publish");
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}

int
mu_cli_cmd_init(struct mu_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *tz = NULL, *restore_key = NULL, *organizer = NULL,
	           *join_key = NULL, *args[MU_SHAMIR_MAX + 1];
	bool from_shares = false;
	const struct mu_cli_opt opts[] = {
	    {"name", MU_OPT_VALUE, &name},
	    {"tz", MU_OPT_VALUE, &tz},
	    {"organizer", MU_OPT_VALUE, &organizer},
	    {"join", MU_OPT_VALUE, &join_key},
	    {"restore-key", MU_OPT_VALUE, &restore_key},
	    {"shares", MU_OPT_FLAG, &from_shares},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"init", help, opts, "", 0, MU_SHAMIR_MAX + 1};
	char fallback[256], key[MU_KEY_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE],
	    zone[MU_CLI_ZONE_SIZE];
	const char *said = NULL;
	uint8_t group[MU_KEY_BYTES];
	struct mu_why why = {0};
	struct mu_record rec;
	size_t nargs = 0;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if (nargs > 0 && !from_shares)
		return mu_cli_usage("init takes no arguments: '%s' is not an option "
		                    "(shares go with --shares SHARE...)",
		                    args[0]);
	if ((restore_key != NULL || from_shares) && (name != NULL || tz != NULL))
		return mu_cli_usage("--name and --tz do not go with --restore-key or "
		                    "--shares: a rebuilt home gets its profile back "
		                    "from its peers");
	if (restore_key != NULL && from_shares)
		return mu_cli_usage("give --restore-key FILE or --shares SHARE..., "
		                    "not both");
	if ((restore_key != NULL || from_shares) &&
	    (join_key != NULL || organizer != NULL))
		return mu_cli_usage(
		    "--join and --organizer do not go with --restore-key "
		    "or --shares: a rebuilt home is the root's, and "
		    "gets its organizer records back from its peers");
	if (restore_key != NULL || from_shares)
		return restore(cli, restore_key, args, nargs);
	if (join_key != NULL && tz != NULL)
		return mu_cli_usage(
		    "init --join: --tz is set later with `muster profile "
		    "set --tz`, once the home has its organizer record");
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
	/* Asked before the home is made, so that an answer given up on leaves
	 * none; but not when there is one already, which init refuses. */
	if (!home_exists(cli->home_dir) && (rc = pick_zone(tz, zone, &said)) != 0)
		return rc;

	rc = mu_home_create(cli->home_dir, group, &why);
	if (rc == MU_EEXIST && !mu_home_has_store(cli->home_dir))
		return mu_cli_no_store(cli);
	if (rc != 0)
		return not_created(cli, rc, &why);
	/* The organizer record first (mu_cli_open()), so that the profile is
	 * signed by an organizer the store knows. */
	cli->organizer_name = organizer;
	rc = mu_cli_open(cli, MU_CLI_SECRET);
	if (rc != 0)
		return rc;

	rc = mu_cli_store_new(cli, &rec, "create the profile", addr);
	if (rc == 0)
		rc = mu_cli_zone_store(cli, zone);
	if (rc != 0)
		return rc;
	if (said != NULL)
		mu_cli_note("this node's time zone is %s, %s; change it with `muster "
		            "profile set --tz ZONE`",
		            zone, said);
	mu_key_to_text(key, cli->home->group);
	printf("%s\n", key);
	return 0;
}
