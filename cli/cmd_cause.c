/*
 * cmd_cause.c - `muster cause add | edit | list`.
 */
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "list_out.h"

static const char group_help[] =
    "Usage: muster cause add --title T [options]\n"
    "       muster cause edit ADDR [options]\n"
    "       muster cause list [--group KEY] [--all] [--json]\n"
    "\n"
    "A cause is what a group campaigns for; events can name the cause they\n"
    "serve, and allies can list causes they share. `muster cause add --help`\n"
    "and the others explain each command. `cause list` leaves out the causes\n"
    "of groups that left this node's scope (no longer updated); --all shows\n"
    "them, marked \"not updated since DATE\".\n"
    "\n"
    "Example:\n"
    "  muster cause add --title \"Stop the rent hike\" --tag housing\n"
    "  muster cause list\n";

static const char add_help[] =
    "Usage: muster cause add --title T [--summary S] [--description D]\n"
    "                        [--tag X]... [--url U] [--status S]\n"
    "\n"
    "Publishes a new cause of your group and prints its address\n"
    "(mug1…/cause/…), which events and alliances use to refer to it.\n"
    "\n"
    "Options:\n"
    "  --title T         a short title ({cause:title:required}, up to "
    "{cause:title:max} bytes)\n"
    "  --summary S       one or two sentences (up to {cause:summary:max} bytes)\n"
    "  --description D   the full text; line breaks allowed (up to "
    "{cause:description:max})\n"
    "  --tag X           a tag (up to {cause:tags:max} bytes); repeat for more, "
    "{cause:tags:list_max} at most\n"
    "  --url U           a web page about it (http:// or https://)\n"
    "  --status S        active (the default), won or closed\n"
    "\n"
    "Example:\n"
    "  muster cause add --title \"Stop the rent hike\" --tag housing --tag rent\n";

static const char edit_help[] =
    "Usage: muster cause edit ADDR [--title T] [--summary S] [--description D]\n"
    "                         [--tag X]... [--url U] [--status S]\n"
    "\n"
    "Publishes a new revision of one of your causes, at the same address.\n"
    "Options you give replace the current value; the others stay. An empty\n"
    "value removes a field (--url \"\"); any --tag replaces all the tags, and\n"
    "a single --tag \"\" removes them. The options are those of `cause add`.\n"
    "\n"
    "Example:\n"
    "  muster cause edit mug1…/cause/3f9a0c1d2e4b5a69 --status won\n";

static const char list_help[] =
    "Usage: muster cause list [--group KEY] [--json]\n"
    "\n"
    "Lists the causes this node holds: your group's and those of the groups\n"
    "whose records you imported, with their status and address.\n"
    "\n"
    "Options:\n"
    "  --group KEY   only the causes of the group with this key (mug1…)\n"
    "  --json        print a JSON array of records instead of text\n"
    "\n"
    "Example:\n"
    "  muster cause list --group $(muster id)\n";

static const char *const status_names[] = {NULL, "active", "won", "closed"};

struct cause_opts {
	const char *title, *summary, *description, *url, *status;
	struct mu_cli_list tags;
};

#define CAUSE_OPTS(o)                                                                  \
	{"title", MU_OPT_VALUE, &(o).title}, {"summary", MU_OPT_VALUE, &(o).summary},  \
	    {"description", MU_OPT_VALUE, &(o).description},                           \
	    {"url", MU_OPT_VALUE, &(o).url}, {"status", MU_OPT_VALUE, &(o).status},    \
	    {"tag", MU_OPT_LIST, &(o).tags},                                           \
	{                                                                              \
		NULL, 0, NULL                                                          \
	}

/* Applies the options given over *c; the strings borrow argv. */
static int
apply(struct mu_cause *c, const struct cause_opts *o)
{
	int s;

	if (o->title != NULL)
		c->title = mu_cli_str(o->title);
	if (o->summary != NULL)
		c->summary = mu_cli_str(o->summary);
	if (o->description != NULL)
		c->description = mu_cli_str(o->description);
	if (o->url != NULL)
		c->url = mu_cli_str(o->url);
	if (o->status != NULL) {
		s = mu_cli_pick("status", o->status, status_names, 4);
		if (s < 0)
			return s;
		c->status = (enum mu_cause_status)s;
	}
	return mu_cli_strs_arg(&o->tags, "tag", MU_LIST_MAX, c->tags, &c->ntags);
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	struct cause_opts o;
	const struct mu_cli_opt opts[] = {CAUSE_OPTS(o)};
	const struct mu_cli_spec spec = {"cause add", add_help, opts, "", 0, 0};
	char d[MU_CLI_D_SIZE];
	struct mu_record rec;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (o.title == NULL)
		return mu_cli_usage("cause add: --title is required; see `muster cause "
		                    "add --help`");
	mu_cli_new_rec(&rec, MU_KIND_CAUSE, d);
	rec.c.cause.status = MU_CAUSE_ACTIVE;
	rc = apply(&rec.c.cause, &o);
	if (rc != 0)
		return rc;
	return mu_cli_open_publish(cli, &rec, "create cause");
}

static int
edit(struct mu_cli *cli, int argc, char **argv)
{
	struct cause_opts o;
	const struct mu_cli_opt opts[] = {CAUSE_OPTS(o)};
	const struct mu_cli_spec spec = {"cause edit", edit_help, opts, "ADDR", 1, 1};
	struct mu_cli_rec cur = {NULL, {0}};
	const char *args[1];
	struct mu_record rec;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = mu_cli_parse(&spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	rc = mu_cli_edit_own(cli, args[0], MU_KIND_CAUSE, &cur, &rec);
	if (rc != 0)
		return rc;
	rc = apply(&rec.c.cause, &o);
	if (rc == 0)
		rc = mu_cli_publish(cli, &rec, "edit cause");
	mu_cli_rec_free(&cur);
	return rc;
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	const char *group_text = NULL;
	bool json = false, all = false;
	const struct mu_cli_opt opts[] = {
	    {"group", MU_OPT_VALUE, &group_text},
	    {"json", MU_OPT_FLAG, &json},
	    {"all", MU_OPT_FLAG, &all},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"cause list", list_help, opts, "", 0, 0};
	struct mu_cli_lister out;
	uint8_t group[MU_KEY_BYTES];
	int rc, end;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (group_text != NULL &&
	    (rc = mu_cli_key_arg(cli, group, group_text, "--group")) != 0)
		return rc;
	rc = mu_cli_open(cli, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	rc = mu_cli_lister_begin(&out, cli, json, mu_cli_print_cause);
	if (rc != 0)
		return rc;
	out.all = all;
	rc = mu_store_list(cli->store, MU_KIND_CAUSE, group_text != NULL ? group : NULL,
	                   mu_cli_lister_add, &out);
	if (rc == 0 && !json && out.n == 0)
		printf("No causes. Publish one with `muster cause add --title T`.\n");
	if ((end = mu_cli_lister_end(&out, rc)) != 0)
		return end;
	if (rc != 0)
		return mu_cli_fail(rc, "cannot list the causes: %s", mu_strerror(rc));
	return 0;
}

int
mu_cli_cmd_cause(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add}, {"edit", edit}, {"list", list}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "cause", group_help, subs, argc, argv);
}
