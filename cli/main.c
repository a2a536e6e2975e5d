/*
 * main.c - the `muster` executable: global options, then one command.
 *
 *   muster [--home DIR] COMMAND [OPTIONS] [ARGS]
 *
 * The commands live in cli/cmd_*.c; this file only finds the node's home,
 * picks the command and turns what it returns into the exit status.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(struct mu_cli *cli, int argc, char **argv);
};

static const struct command commands[] = {
    {.name = "init", .run = mu_cli_cmd_init},
    {.name = "key", .run = mu_cli_cmd_key},
    {.name = "id", .run = mu_cli_cmd_id},
    {.name = "status", .run = mu_cli_cmd_status},
    {.name = "profile", .run = mu_cli_cmd_profile},
    {.name = "cause", .run = mu_cli_cmd_cause},
    {.name = "event", .run = mu_cli_cmd_event},
    {.name = "petition", .run = mu_cli_cmd_petition},
    {.name = "pledge", .run = mu_cli_cmd_pledge},
    {.name = "rsvp", .run = mu_cli_cmd_rsvp},
    {.name = "ally", .run = mu_cli_cmd_ally},
    {.name = "organizer", .run = mu_cli_cmd_organizer},
    {.name = "show", .run = mu_cli_cmd_show},
    {.name = "delete", .run = mu_cli_cmd_delete},
    {.name = "export", .run = mu_cli_cmd_export},
    {.name = "import", .run = mu_cli_cmd_import},
    {.name = "serve", .run = mu_cli_cmd_serve},
    {.name = "sync", .run = mu_cli_cmd_sync},
    {.name = "peer", .run = mu_cli_cmd_peer},
    {.name = "follow", .run = mu_cli_cmd_follow},
    {.name = "unfollow", .run = mu_cli_cmd_unfollow},
    {.name = "block", .run = mu_cli_cmd_block},
    {.name = "unblock", .run = mu_cli_cmd_unblock},
    {.name = "check", .run = mu_cli_cmd_check},
    {.name = "backup", .run = mu_cli_cmd_backup},
    {.name = "restore", .run = mu_cli_cmd_restore},
    {.name = "invite", .run = mu_cli_cmd_invite},
    {.name = "join", .run = mu_cli_cmd_join},
    {.name = "link", .run = mu_cli_cmd_link},
    {.name = NULL},
};

static const char help[] =
    "muster - a peer-to-peer organizing node. Your group publishes causes,\n"
    "events and alliances as signed records; allied groups share them.\n"
    "\n"
    "Usage: muster [--home DIR] COMMAND [OPTIONS] [--home DIR]\n"
    "\n"
    "Commands:\n"
    "  init [--name NAME]        create this node: its home, group key and profile\n"
    "  id                        print your group key (give it to allies)\n"
    "  status                    show the group, the daemon, peers and records\n"
    "  profile set               change your group's name, about text, website...,\n"
    "                            and this node's time zone\n"
    "  cause add | edit | list   publish causes and list everyone's\n"
    "  event add | edit | cancel | list\n"
    "                            publish events; list the shared calendar\n"
    "  petition add | edit | close | list | sign\n"
    "                            petitions and the coalition's signatures\n"
    "  pledge add | edit | list | commit\n"
    "                            \"we act if N others do\": threshold pledges\n"
    "  rsvp EVENT [--count N]    an event's count per group; state your group's\n"
    "  ally add | end | list     propose or end an alliance with another group\n"
    "  organizer add | list | revoke\n"
    "                            who may publish for the group, from which home\n"
    "  show ADDR|ID              print one record in full\n"
    "  delete ADDR               delete one of your records for good\n"
    "  export [FILE]             write every record to a file (for a USB stick)\n"
    "  import [FILE]             verify and store the records of such a file\n"
    "  check                     verify the whole store: signatures, indices\n"
    "  backup FILE               copy the store, also while `serve` runs\n"
    "  restore FILE              replace the store with such a copy\n"
    "  rsvp list|remove EVENT    the replies people gave on your pages\n"
    "  link [EVENT]              the member link; --require: posting needs it\n"
    "  key split | join          back the group key up as k-of-n shares\n"
    "  key offline FILE          move the group's root key out of this home\n"
    "\n"
    "Network:\n"
    "  serve                     run the node: sync with peers and allies\n"
    "                            until Ctrl-C (it listens on port 7420)\n"
    "  sync HOST:PORT [KEY]      sync once with one node, then exit\n"
    "  invite | invite list | invite revoke\n"
    "                            a code another group joins with\n"
    "  join CODE                 join the group that gave you an invite code\n"
    "  peer add | remove | list  the nodes `serve` dials\n"
    "  follow KEY | unfollow KEY also keep (or stop keeping) a group's records\n"
    "  block KEY | unblock KEY   drop a group's records and refuse them from\n"
    "                            then on; block --list lists the blocked\n"
    "  --network NAME            (serve, sync, invite) join another network than\n"
    "                            \"muster\"; for tests\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --home DIR   the node's home directory. Default: $MUSTER_HOME, else\n"
    "               $XDG_DATA_HOME/muster, else ~/.local/share/muster\n"
    "  --json       machine-readable output, for the commands that have it\n"
    "  --help       this text; `muster COMMAND --help` explains a command\n"
    "  --version    print the version\n"
    "\n"
    "Example:\n"
    "  muster init --name \"Riverside Tenants Union\"\n"
    "  muster event add --title \"Assembly\" --start 2030-12-05T18:00 \\\n"
    "      --tz Europe/Berlin --where \"Community hall\"\n"
    "  muster event list\n"
    "  muster peer add 192.0.2.10:7420 mug1…   # an ally's node\n"
    "  muster serve\n";

/* The default home, malloc()ed: $XDG_DATA_HOME/muster or ~/.local/share/muster. */
static char *
default_home(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *out;
	size_t n;

	/* The XDG spec says to ignore a relative XDG_DATA_HOME. */
	if (xdg != NULL && xdg[0] == '/') {
		n = strlen(xdg) + sizeof("/muster");
		if ((out = malloc(n)) != NULL)
			snprintf(out, n, "%s/muster", xdg);
		return out;
	}
	if (home == NULL || home[0] == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] == '\0')
		return NULL;
	n = strlen(home) + sizeof("/.local/share/muster");
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s/.local/share/muster", home);
	return out;
}

/*
 * libuv's thread pool verifies received records and runs the store's
 * commits; it has four threads unless UV_THREADPOOL_SIZE (read at its
 * first use) says otherwise. One thread more than the cores: the thread
 * that stores must not wait for a verify slot during a catch-up sync
 * (docs/BENCHMARKS.md, catch-up sync). Process-wide, so the program's to
 * set; a user's own setting is kept.
 */
static void
size_thread_pool(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char n[24];

	snprintf(n, sizeof(n), "%ld", cores > 0 ? cores + 1 : 4);
	setenv("UV_THREADPOOL_SIZE", n, 0);
}

/*
 * Takes the global option at argv[i] ("--home DIR", "--home=DIR") into
 * *home. Returns how many words it used (0: argv[i] is no global option),
 * or MU_CLI_EUSAGE after saying what is wrong.
 */
static int
global_opt(int argc, char **argv, int i, const char **home)
{
	int used;

	if (strcmp(argv[i], "--home") == 0) {
		if (i + 1 == argc)
			return mu_cli_usage("--home needs a directory: muster "
			                    "--home DIR COMMAND");
		*home = argv[i + 1];
		used = 2;
	} else if (strncmp(argv[i], "--home=", 7) == 0) {
		*home = argv[i] + 7;
		used = 1;
	} else {
		return 0;
	}
	if ((*home)[0] == '\0')
		return mu_cli_usage("--home needs a directory, not an empty "
		                    "string");
	return used;
}

/*
 * The command's words, argv[cmd..argc), into out (room for argc + 1), with
 * the global options that follow the command taken out, so that `muster
 * event list --home DIR` is `muster --home DIR event list`; a --json given
 * before the command joins the command's own options. Words after "--" are
 * the command's. The command's parser reads an option's value even when it
 * starts with a dash, so a value "--home" must be written --title=--home.
 * Returns the number of words, or MU_CLI_EUSAGE after saying why.
 */
static int
command_words(int argc, char **argv, int cmd, bool json, const char **home, char **out)
{
	bool options = true;
	int i, n = 0, used;

	for (i = cmd; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			if (json)
				out[n++] = "--json";
			json = false;
			options = false;
		} else if (options && i > cmd) {
			used = global_opt(argc, argv, i, home);
			if (used < 0)
				return used;
			if (used > 0) {
				i += used - 1;
				continue;
			}
		}
		out[n++] = argv[i];
	}
	if (json)
		out[n++] = "--json";
	out[n] = NULL;
	return n;
}

static int
run(int argc, char **argv)
{
	struct mu_cli cli = {NULL, NULL, NULL, 0, "", NULL};
	const struct command *c;
	const char *home_opt = NULL, *env;
	char *home_dir = NULL, **words = NULL;
	bool json = false, missing = false;
	int i, n, rc, used;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(help, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("muster %s\n", MUSTER_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		used = global_opt(argc, argv, i, &home_opt);
		if (used < 0)
			return used;
		if (used == 0)
			return mu_cli_usage("unknown option '%s' before the command; "
			                    "command options go after it (muster "
			                    "COMMAND %s); see `muster --help`",
			                    argv[i], argv[i]);
		i += used - 1;
	}
	if (i == argc)
		return mu_cli_usage("missing command; `muster --help` lists them");
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 == argc) {
			fputs(help, stdout);
			return 0;
		}
		/* `muster help event` is `muster event --help`. */
		argv[i] = argv[i + 1];
		argv[i + 1] = "--help";
	}
	for (c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[i]) == 0)
			break;
	}
	if (c->name == NULL)
		return mu_cli_usage("unknown command '%s'; `muster --help` lists them",
		                    argv[i]);
	if ((words = calloc((size_t)argc + 1, sizeof(*words))) == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	n = command_words(argc, argv, i, json, &home_opt, words);
	if (n < 0) {
		free(words);
		return n;
	}

	env = getenv("MUSTER_HOME");
	if (home_opt != NULL)
		home_dir = strdup(home_opt);
	else if (env != NULL && env[0] != '\0')
		home_dir = strdup(env);
	else if ((home_dir = default_home()) == NULL)
		missing = true;
	if (home_dir == NULL) {
		free(words);
		if (missing)
			return mu_cli_fail(MU_ENOTFOUND,
			                   "cannot find a home directory: set HOME or "
			                   "MUSTER_HOME, or give --home DIR");
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	}
	cli.home_dir = home_dir;
	mu_cli_crash_handler(home_dir);
	cli.now = mu_home_now(); /* with the tests' skew (storage/home.h) */
	rc = c->run(&cli, n, words);
	mu_cli_close(&cli);
	free(home_dir);
	free(words);
	return rc;
}

/*
 * The one place where a code from cli/ becomes the process's exit status:
 * 0 on success (help printed is one), 2 for a usage error, 1 for any other
 * failure, which was reported where it was found.
 */
static int
exit_status(int rc)
{
	if (rc == 0 || rc == MU_CLI_HELPED)
		return 0;
	return rc == MU_CLI_EUSAGE ? 2 : 1;
}

int
main(int argc, char **argv)
{
	int rc;

	if (sodium_init() < 0)
		return exit_status(mu_cli_fail(MU_EIO, "cannot initialise libsodium "
		                                       "(is /dev/urandom readable?)"));
	size_thread_pool();
	rc = exit_status(run(argc, argv));
	if (fflush(stdout) != 0 && rc == 0)
		rc = exit_status(mu_cli_fail(MU_EIO, "cannot write the output (disk "
		                                     "full or closed pipe?)"));
	return rc;
}
