/*
 * cmd_pledge.c - `muster pledge add | edit | list | commit`.
 */
#include <string.h>

#include "cli.h"
#include "when.h"

static const char group_help[] =
    "Usage: muster pledge add --title T --threshold N --deadline WHEN [options]\n"
    "       muster pledge edit ADDR [options]\n"
    "       muster pledge list [--group KEY] [--json]\n"
    "       muster pledge commit ADDR [--as-group | --not-as-group] [--count N]\n"
    "\n"
    "A pledge is \"we act if enough others do\": it triggers when the groups'\n"
    "pledged counts reach its threshold (of people, or of groups that commit\n"
    "as a group) by its deadline. Calendars show it as tentative until then.\n"
    "\n"
    "Example:\n"
    "  muster pledge add --title \"Rent strike\" --threshold 500 \\\n"
    "      --deadline 2030-11-30 --start 2030-12-01\n"
    "  muster pledge list\n";

static const char add_help[] =
    "Usage: muster pledge add --title T --threshold N --deadline WHEN\n"
    "                         [--unit people|groups] [--start WHEN] [--end WHEN]\n"
    "                         [--text TEXT] [--cause ADDR]\n"
    "\n"
    "Publishes a new pledge of your group and prints its address.\n"
    "\n"
    "Options:\n"
    "  --title T          what is pledged ({pledge:title:required}, up to "
    "{pledge:title:max} bytes)\n"
    "  --threshold N      how many must pledge, 1 to 10000000\n"
    "  --unit U           people (the default) or groups: \"we strike if 5\n"
    "                     allied groups do\" counts groups that commit as a group\n"
    "  --deadline WHEN    by when the threshold must be reached\n"
    "  --start WHEN       when the action happens (its calendar entry)\n"
    "  --end WHEN         when it ends (needs --start)\n"
    "  --text TEXT        more about it (up to {pledge:text:max} bytes)\n"
    "  --cause ADDR       the cause it serves (mug1…/cause/…)\n"
    "\n"
    "Example:\n"
    "  muster pledge add --title \"General strike\" --threshold 5 --unit groups \\\n"
    "      --deadline 2030-11-30 --start 2030-12-01\n";

static const char edit_help[] =
    "Usage: muster pledge edit ADDR [--title T] [--threshold N] [--unit U]\n"
    "                           [--deadline WHEN] [--start WHEN] [--end WHEN]\n"
    "                           [--text TEXT] [--cause ADDR]\n"
    "\n"
    "Publishes a new revision of one of your pledges. Options you give\n"
    "replace the current value; an empty --start, --end, --text or --cause\n"
    "removes it.\n"
    "\n"
    "Example:\n"
    "  muster pledge edit 3f9a --deadline 2030-12-15\n";

static const char list_help[] =
    "Usage: muster pledge list [--group KEY] [--json]\n"
    "\n"
    "Lists the pledges this node holds: how many pledged of how many needed,\n"
    "whether each triggered (or failed at its deadline), and each group's\n"
    "part (the pledge's group and its allies).\n"
    "\n"
    "Options:\n"
    "  --group KEY   only the pledges of this group\n"
    "  --json        print a JSON array (docs/API.md, \"Acts\")\n"
    "\n"
    "Example:\n"
    "  muster pledge list\n";

static const char commit_help[] =
    "Usage: muster pledge commit ADDR [--as-group | --not-as-group] [--count N]\n"
    "\n"
    "Commits your group to a pledge (yours or an ally's) as a group, or takes\n"
    "that back, and/or states the group's count of people by hand (--count).\n"
    "Once the pledge has triggered, do not lower what you committed.\n"
    "\n"
    "Example:\n"
    "  muster pledge commit mug1…/pledge/3f9a0c1d2e4b5a69 --as-group\n";

static const char *const unit_names[] = {NULL, "people", "groups"};

struct pledge_opts {
	const char *title, *threshold, *unit, *deadline, *start, *end, *text, *cause;
};

#define PLEDGE_OPTS(o)                                                                 \
	{"title", MU_OPT_VALUE, &(o).title},                                           \
	    {"threshold", MU_OPT_VALUE, &(o).threshold},                               \
	    {"unit", MU_OPT_VALUE, &(o).unit},                                         \
	    {"deadline", MU_OPT_VALUE, &(o).deadline},                                 \
	    {"start", MU_OPT_VALUE, &(o).start}, {"end", MU_OPT_VALUE, &(o).end},      \
	    {"text", MU_OPT_VALUE, &(o).text}, {"cause", MU_OPT_VALUE, &(o).cause},    \
	{                                                                              \
		NULL, 0, NULL                                                          \
	}

/* Applies the options given over rec; the strings borrow argv. */
static int
apply(struct mu_cli *cli, struct mu_record *rec, const void *opts,
      struct mu_addr *cause)
{
	const struct pledge_opts *o = opts;
	struct mu_pledge *p = &rec->c.pledge;
	unsigned long v;
	int rc, s;

	if (o->title != NULL)
		p->title = mu_cli_str(o->title);
	if (o->text != NULL)
		p->text = mu_cli_str(o->text);
	if (o->threshold != NULL) {
		if ((rc = mu_cli_uint_opt("--threshold", o->threshold, 1, MU_COUNT_MAX,
		                          &v)) != 0)
			return rc;
		p->threshold = (uint32_t)v;
	}
	if (o->unit != NULL) {
		if ((s = mu_cli_pick("unit", o->unit, unit_names, 3)) < 0)
			return s;
		p->unit = (enum mu_pledge_unit)s;
	}
	if ((rc = mu_cli_acts_time_opt(cli, "deadline", o->deadline, &p->deadline,
	                               NULL)) != 0 ||
	    (rc = mu_cli_acts_time_opt(cli, "start", o->start, &p->start,
	                               &p->has_start)) != 0 ||
	    (rc = mu_cli_acts_time_opt(cli, "end", o->end, &p->end, &p->has_end)) != 0)
		return rc;
	return mu_cli_acts_cause_opt(o->cause, cause, &p->cause, &p->has_cause);
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	struct pledge_opts o;
	const struct mu_cli_opt opts[] = {PLEDGE_OPTS(o)};
	const struct mu_cli_spec spec = {"pledge add", add_help, opts, "", 0, 0};
	char d[MU_CLI_D_SIZE];
	struct mu_record rec;
	struct mu_addr cause;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = mu_cli_parse(&spec, argc, argv, NULL, NULL)) != 0)
		return rc;
	if (o.title == NULL || o.threshold == NULL || o.deadline == NULL)
		return mu_cli_usage(
		    "pledge add: --title, --threshold and --deadline are "
		    "required; see `muster pledge add --help`");
	mu_cli_new_rec(&rec, MU_KIND_PLEDGE, d);
	rec.c.pledge.unit = MU_PLEDGE_PEOPLE;
	if ((rc = apply(cli, &rec, &o, &cause)) != 0)
		return rc;
	return mu_cli_open_publish(cli, &rec, "create pledge");
}

static int
edit(struct mu_cli *cli, int argc, char **argv)
{
	struct pledge_opts o;
	const struct mu_cli_opt opts[] = {PLEDGE_OPTS(o)};
	const struct mu_cli_spec spec = {"pledge edit", edit_help, opts, "ADDR", 1, 1};
	const char *args[1];
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	return mu_cli_acts_edit(cli, args[0], MU_KIND_PLEDGE, apply, &o, "edit pledge");
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_acts_cmd cmd = {
	    "pledge list", list_help, MU_KIND_PLEDGE,
	    "No pledges. Publish one with `muster pledge add`."};

	/* `pledge list PLEDGE`: the people who pledged here (cmd_entries.c). */
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-' && strcmp(argv[i - 1], "--group") != 0)
			return mu_cli_pledge_entries(cli, argc, argv);
	return mu_cli_acts_list(cli, argc, argv, &cmd);
}

static int
commit(struct mu_cli *cli, int argc, char **argv)
{
	bool as_group = false, not_as_group = false;
	const char *count = NULL;
	const struct mu_cli_opt opts[] = {
	    {"as-group", MU_OPT_FLAG, &as_group},
	    {"not-as-group", MU_OPT_FLAG, &not_as_group},
	    {"count", MU_OPT_VALUE, &count},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"pledge commit", commit_help, opts,
	                                 "ADDR",          1,           1};
	const char *args[1];
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	if (as_group && not_as_group)
		return mu_cli_usage("pledge commit: give --as-group or --not-as-group, "
		                    "not both");
	if (!as_group && !not_as_group && count == NULL)
		return mu_cli_usage("pledge commit: give --as-group, --not-as-group or "
		                    "--count N");
	return mu_cli_acts_group_act(cli, args[0], MU_KIND_PLEDGE,
	                             as_group       ? 1
	                             : not_as_group ? 0
	                                            : -1,
	                             count);
}

int
mu_cli_cmd_pledge(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add},       {"edit", edit},
	    {"list", list},     {"remove", mu_cli_pledge_remove},
	    {"commit", commit}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "pledge", group_help, subs, argc, argv);
}
