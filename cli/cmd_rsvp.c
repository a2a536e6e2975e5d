/*
 * cmd_rsvp.c - `muster rsvp EVENT [--count N [--about]]`: an event's rsvp
 * counts per group, and the group-level count an organizer states by hand.
 * Words that are not an event (subcommands such as `rsvp list`) go to the
 * subs table.
 */
#include <string.h>

#include "../node/acts.h"
#include "../protocol/textform.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

static const char help[] =
    "Usage: muster rsvp EVENT [--count N [--about]] [--json]\n"
    "\n"
    "Shows how many people each group brings to EVENT (an address, or the\n"
    "start of the d of one of your events), the coalition's total and, for\n"
    "an event with a capacity, the places the host's tally gives each group.\n"
    "\n"
    "With --count, first states your group's count by hand: \"we bring about\n"
    "40\" is `--count 40 --about`. The people who RSVP on your group's page\n"
    "are counted by the node itself; --count is for a count known otherwise.\n"
    "\n"
    "Options:\n"
    "  --count N   your group's people going, 0 to 10000000\n"
    "  --about     the count is an estimate\n"
    "  --json      print the event with its counts as JSON (docs/API.md)\n"
    "\n"
    "Example:\n"
    "  muster rsvp mug1…/event/3f9a0c1d2e4b5a69 --count 40 --about\n";

/* Subcommands of `muster rsvp` other than EVENT. */
static const struct mu_cli_sub subs[] = {
    {"list", mu_cli_rsvp_list},     /* cmd_entries.c */
    {"remove", mu_cli_rsvp_remove}, /* cmd_entries.c */
    {NULL, NULL},
};

static int
event_arg(struct mu_cli *cli, const char *text, struct mu_addr *ev)
{
	struct mu_why why = {0};

	if (strchr(text, '/') == NULL)
		return mu_cli_own_addr(cli, text, MU_KIND_EVENT, ev);
	if (mu_addr_from_text(ev, text, &why) != 0 || ev->kind != MU_KIND_EVENT)
		return mu_cli_fail(MU_EINVAL,
		                   "'%s' is not the address of an event "
		                   "(mug1…/event/…; `muster event list` shows them)",
		                   text);
	return 0;
}

static int
show(struct mu_cli *cli, const struct mu_addr *ev, bool json)
{
	struct mu_cli_rec cur = {NULL, {0}};
	char zone_buf[MU_CLI_ZONE_SIZE];
	const char *zone = NULL;
	json_t *o;
	int rc;

	if ((rc = mu_cli_get_current(cli, ev, &cur)) != 0)
		return rc;
	if (json) {
		o = mu_cli_acts_json(cli, &cur.rec);
		rc = o != NULL ? mu_cli_json_out(o)
		               : mu_cli_fail(MU_ENOMEM, "out of memory");
	} else if ((rc = mu_cli_node_zone(cli, zone_buf, &zone)) == 0)
		rc = mu_cli_acts_print(cli, stdout, &cur.rec, zone);
	mu_cli_rec_free(&cur);
	return rc;
}

static int
rsvp(struct mu_cli *cli, int argc, char **argv)
{
	const char *count = NULL;
	bool about = false, json = false, changed = false;
	const struct mu_cli_opt opts[] = {
	    {"count", MU_OPT_VALUE, &count},
	    {"about", MU_OPT_FLAG, &about},
	    {"json", MU_OPT_FLAG, &json},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"rsvp", help, opts, "EVENT", 1, 1};
	struct mu_acts_count c;
	struct mu_why why = {0};
	const char *args[1];
	unsigned long v = 0;
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, args, NULL)) != 0)
		return rc;
	if (about && count == NULL)
		return mu_cli_usage("rsvp: --about goes with --count N: the count that "
		                    "is an estimate");
	if (count != NULL &&
	    (rc = mu_cli_uint_opt("--count", count, 0, MU_COUNT_MAX, &v)) != 0)
		return rc;
	if ((rc = mu_cli_open(cli, count != NULL ? MU_CLI_SECRET : MU_CLI_READONLY)) !=
	    0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.kind = MU_KIND_RSVP;
	if ((rc = event_arg(cli, args[0], &c.target)) != 0)
		return rc;
	if (count != NULL) {
		c.count = (uint32_t)v;
		c.about = about;
		rc = mu_node_acts_publish(cli->store, cli->home, &c, cli->now, &changed,
		                          &why);
		if (rc != 0)
			return mu_cli_fail(rc, "cannot publish the group's rsvp: %s",
			                   why.text);
		if (!json)
			printf("%s\n\n", changed
			                     ? "published your group's count"
			                     : "unchanged: your group's count says so "
			                       "already");
	}
	return show(cli, &c.target, json);
}

int
mu_cli_cmd_rsvp(struct mu_cli *cli, int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && subs[i].name != NULL; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	return rsvp(cli, argc, argv);
}
