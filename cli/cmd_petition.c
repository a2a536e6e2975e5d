/*
 * cmd_petition.c - `muster petition add | edit | close | list | sign`.
 */
#include <string.h>

#include "cli.h"
#include "when.h"

static const char group_help[] =
    "Usage: muster petition add --title T --to WHOM --text TEXT [options]\n"
    "       muster petition edit ADDR [options]\n"
    "       muster petition close ADDR\n"
    "       muster petition list [--group KEY] [--json]\n"
    "       muster petition sign ADDR [--as-group | --not-as-group]\n"
    "\n"
    "A petition is a text addressed to someone. People sign it on the web\n"
    "page of their own group's node; each group publishes its count and the\n"
    "names its signers chose to show, and a group can sign as a group.\n"
    "`petition list` shows the coalition's total and each group's part.\n"
    "\n"
    "Example:\n"
    "  muster petition add --title \"Clean air now\" --to \"The city council\" \\\n"
    "      --text \"We ask the council to ...\" --goal 1000\n"
    "  muster petition list\n";

static const char add_help[] =
    "Usage: muster petition add --title T --to WHOM --text TEXT [--goal N]\n"
    "                           [--deadline WHEN] [--cause ADDR]\n"
    "\n"
    "Publishes a new petition of your group and prints its address.\n"
    "\n"
    "Options:\n"
    "  --title T        a short title ({petition:title:required}, up to "
    "{petition:title:max} bytes)\n"
    "  --to WHOM        whom it addresses (up to {petition:target:max} bytes)\n"
    "  --text TEXT      what it asks; line breaks allowed (up to "
    "{petition:text:max} bytes)\n"
    "  --goal N         the signatures it aims for, 1 to 10000000\n"
    "  --deadline WHEN  when collecting ends (2030-12-05T18:00 or 2030-12-05)\n"
    "  --cause ADDR     the cause it serves (mug1…/cause/…)\n"
    "\n"
    "Example:\n"
    "  muster petition add --title \"Clean air now\" --to \"The city council\" \\\n"
    "      --text \"We ask the council to ...\" --deadline 2030-12-31\n";

static const char edit_help[] =
    "Usage: muster petition edit ADDR [--title T] [--to WHOM] [--text TEXT]\n"
    "                             [--goal N] [--deadline WHEN] [--cause ADDR]\n"
    "                             [--status open|closed]\n"
    "\n"
    "Publishes a new revision of one of your petitions. Options you give\n"
    "replace the current value; an empty --goal, --deadline or --cause\n"
    "removes it.\n"
    "\n"
    "Example:\n"
    "  muster petition edit mug1…/petition/3f9a0c1d2e4b5a69 --goal 5000\n";

static const char close_help[] = "Usage: muster petition close ADDR\n"
                                 "\n"
                                 "Closes one of your petitions: it collects no more "
                                 "signatures.\n"
                                 "\n"
                                 "Example:\n"
                                 "  muster petition close 3f9a\n";

static const char list_help[] =
    "Usage: muster petition list [--group KEY] [--json]\n"
    "\n"
    "Lists the petitions this node holds, each with its total of signatures\n"
    "and the part of each group (the petition's group and its allies).\n"
    "\n"
    "Options:\n"
    "  --group KEY   only the petitions of this group\n"
    "  --json        print a JSON array (docs/API.md, \"Acts\")\n"
    "\n"
    "Example:\n"
    "  muster petition list --json\n";

static const char sign_help[] =
    "Usage: muster petition sign ADDR [--as-group | --not-as-group]\n"
    "\n"
    "Signs a petition (yours or an ally's) as your group: your group's\n"
    "signatures record says so, next to its count of people. --not-as-group\n"
    "takes the group's signature back; the count of people stays.\n"
    "\n"
    "Example:\n"
    "  muster petition sign mug1…/petition/3f9a0c1d2e4b5a69 --as-group\n";

static const char *const status_names[] = {NULL, "open", "closed"};

struct petition_opts {
	const char *title, *to, *text, *goal, *deadline, *cause, *status;
};

#define PETITION_OPTS(o)                                                               \
	{"title", MU_OPT_VALUE, &(o).title}, {"to", MU_OPT_VALUE, &(o).to},            \
	    {"text", MU_OPT_VALUE, &(o).text}, {"goal", MU_OPT_VALUE, &(o).goal},      \
	    {"deadline", MU_OPT_VALUE, &(o).deadline},                                 \
	{                                                                              \
		"cause", MU_OPT_VALUE, &(o).cause                                      \
	}

/* Applies the options given over rec; the strings borrow argv. */
static int
apply(struct mu_cli *cli, struct mu_record *rec, const void *opts,
      struct mu_addr *cause)
{
	const struct petition_opts *o = opts;
	struct mu_petition *p = &rec->c.petition;
	unsigned long v;
	int rc, s;

	if (o->title != NULL)
		p->title = mu_cli_str(o->title);
	if (o->to != NULL)
		p->target = mu_cli_str(o->to);
	if (o->text != NULL)
		p->text = mu_cli_str(o->text);
	p->has_goal = o->goal != NULL ? o->goal[0] != '\0' : p->has_goal;
	if (o->goal != NULL && o->goal[0] != '\0') {
		if ((rc = mu_cli_uint_opt("--goal", o->goal, 1, MU_COUNT_MAX, &v)) != 0)
			return rc;
		p->goal = (uint32_t)v;
	}
	if ((rc = mu_cli_acts_time_opt(cli, "deadline", o->deadline, &p->deadline,
	                               &p->has_deadline)) != 0 ||
	    (rc = mu_cli_acts_cause_opt(o->cause, cause, &p->cause, &p->has_cause)) !=
	        0)
		return rc;
	if (o->status != NULL) {
		s = mu_cli_pick("status", o->status, status_names, 3);
		if (s < 0)
			return s;
		p->status = (enum mu_petition_status)s;
	}
	return 0;
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	struct petition_opts o;
	const struct mu_cli_opt opts[] = {PETITION_OPTS(o), {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"petition add", add_help, opts, "", 0, 0};
	char d[MU_CLI_D_SIZE];
	struct mu_record rec;
	struct mu_addr cause;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = mu_cli_parse(&spec, argc, argv, NULL, NULL)) != 0)
		return rc;
	if (o.title == NULL || o.to == NULL || o.text == NULL)
		return mu_cli_usage(
		    "petition add: --title, --to and --text are required; "
		    "see `muster petition add --help`");
	mu_cli_new_rec(&rec, MU_KIND_PETITION, d);
	rec.c.petition.status = MU_PETITION_OPEN;
	if ((rc = apply(cli, &rec, &o, &cause)) != 0)
		return rc;
	return mu_cli_open_publish(cli, &rec, "create petition");
}

static int
edit(struct mu_cli *cli, int argc, char **argv)
{
	struct petition_opts o;
	const struct mu_cli_opt opts[] = {
	    PETITION_OPTS(o), {"status", MU_OPT_VALUE, &o.status}, {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"petition edit", edit_help, opts,
	                                 "ADDR",          1,         1};
	const char *args[1];
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	return mu_cli_acts_edit(cli, args[0], MU_KIND_PETITION, apply, &o,
	                        "edit petition");
}

static int
close_cmd(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"petition close", close_help, opts,
	                                 "ADDR",           1,          1};
	struct petition_opts o;
	const char *args[1];
	int rc;

	memset(&o, 0, sizeof(o));
	o.status = "closed";
	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	return mu_cli_acts_edit(cli, args[0], MU_KIND_PETITION, apply, &o,
	                        "close petition");
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_acts_cmd cmd = {
	    "petition list", list_help, MU_KIND_PETITION,
	    "No petitions. Publish one with `muster petition add`."};

	return mu_cli_acts_list(cli, argc, argv, &cmd);
}

static int
sign(struct mu_cli *cli, int argc, char **argv)
{
	bool as_group = false, not_as_group = false;
	const struct mu_cli_opt opts[] = {
	    {"as-group", MU_OPT_FLAG, &as_group},
	    {"not-as-group", MU_OPT_FLAG, &not_as_group},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"petition sign", sign_help, opts,
	                                 "ADDR",          1,         1};
	const char *args[1];
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	if (as_group == not_as_group)
		return mu_cli_usage("petition sign: give --as-group or --not-as-group");
	return mu_cli_acts_group_act(cli, args[0], MU_KIND_PETITION, as_group ? 1 : 0,
	                             NULL);
}

int
mu_cli_cmd_petition(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add},
	    {"edit", edit},
	    {"close", close_cmd},
	    {"list", list},
	    {"sign", sign},
	    /* cmd_entries.c */
	    {"signatures", mu_cli_petition_signatures},
	    {"remove", mu_cli_petition_remove},
	    {NULL, NULL}};

	return mu_cli_dispatch(cli, "petition", group_help, subs, argc, argv);
}
