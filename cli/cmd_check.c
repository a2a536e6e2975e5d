/*
 * cmd_check.c - `muster check`: verifies the whole store (store_check.h) and
 * prints one line per problem.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../storage/store_check.h"
#include "cli.h"
#include "json_out.h"

static const char help[] =
    "Usage: muster check [--json]\n"
    "\n"
    "Verifies the whole store: every record's signature and every rule of\n"
    "the protocol, and every index against the records (the time order, the\n"
    "current version of each address, the calendar, the tombstones: a\n"
    "deleted record must be gone), and the log of stored records. Prints one\n"
    "line per problem, then a summary. Exits with status 0 when the store is\n"
    "clean and 1 when anything is wrong; then restore a backup (`muster\n"
    "restore`) or import an export into a new home. It only reads, so it can\n"
    "run while `muster serve` does.\n"
    "\n"
    "Options:\n"
    "  --json   print {\"records\", \"entries\", \"problems\": [{\"db\",\n"
    "           \"problem\"}]} instead\n"
    "\n"
    "Example:\n"
    "  muster check\n";

struct out {
	bool json;
	json_t *problems; /* with --json */
};

static int
on_problem(void *ctx, const char *db, const char *text)
{
	struct out *o = ctx;

	if (!o->json) {
		printf("%s: %s\n", db, text);
		return 0;
	}
	mu_cli_json_push(&o->problems,
	                 json_pack("{s:s, s:s}", "db", db, "problem", text));
	return o->problems != NULL ? 0 : MU_ENOMEM;
}

static int check(struct mu_cli *cli, int argc, char **argv);

/*
 * LMDB trusts its pages, and `muster check` is what is run on a store
 * suspected of damage: the walk runs in a child process, which opens the
 * store itself (an LMDB environment is not to be used across fork()), so
 * that a fault inside LMDB ends the child and the parent says what it
 * means. The child prints as it goes, line-buffered, so the problems found
 * before a fault are shown.
 */
int
mu_cli_cmd_check(struct mu_cli *cli, int argc, char **argv)
{
	int status, sig;
	pid_t pid;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return check(cli, argc, argv);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return check(cli, argc, argv);
	if (pid == 0) {
		mu_cli_crash_default();
		setvbuf(stdout, NULL, _IOLBF, 0);
		status = check(cli, argc, argv);
		fflush(stdout);
		/* The code itself goes to the parent, which returns it: the
		 * exit status is main.c's to choose. Codes are > -256. */
		_exit(-status & 0xff);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return mu_cli_fail(MU_EIO, "cannot wait for the check: %s",
			                   strerror(errno));
	if (WIFEXITED(status))
		return -WEXITSTATUS(status);
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return mu_cli_fail(MU_ECORRUPT,
	                   "the store of %s is damaged: reading it crashed (%s): "
	                   "restore a backup with `muster restore FILE`, or "
	                   "import an export into a new home",
	                   cli->home_dir, sig > 0 ? strsignal(sig) : "stopped");
}

static int
check(struct mu_cli *cli, int argc, char **argv)
{
	struct out o = {false, NULL};
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &o.json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"check", help, opts, "", 0, 0};
	struct mu_store_check_stats stats;
	struct mu_why why = {0};
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	if (o.json && (o.problems = json_array()) == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	rc = mu_store_check(cli->store, on_problem, &o, &stats, &why);
	if (rc != 0) {
		json_decref(o.problems);
		return mu_cli_fail(rc, "cannot check the store: %s",
		                   mu_why_or(&why, rc));
	}
	if (o.json) {
		rc = mu_cli_json_out(json_pack(
		    "{s:I, s:I, s:o}", "records", (json_int_t)stats.records, "entries",
		    (json_int_t)stats.entries, "problems", o.problems));
		if (rc != 0)
			return rc;
	} else {
		printf("%llu records and %llu other entries checked: %llu problems\n",
		       (unsigned long long)stats.records,
		       (unsigned long long)stats.entries,
		       (unsigned long long)stats.problems);
	}
	if (stats.problems > 0)
		return mu_cli_fail(MU_EINVAL,
		                   "the store of %s has %llu problems: restore a "
		                   "backup with `muster restore FILE`, or import an "
		                   "export into a new home",
		                   cli->home_dir, (unsigned long long)stats.problems);
	return 0;
}
