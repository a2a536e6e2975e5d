/*
 * cmd_ally.c - `muster ally add | end | list`: alliances between groups.
 *
 * Our alliance record for another group lives at (us, alliance, hex of their
 * key), so proposing again or ending is always an edit of that address.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../protocol/buf.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

static const char group_help[] =
    "Usage: muster ally add KEY [--terms TEXT] [--cause ADDR]...\n"
    "       muster ally end KEY\n"
    "       muster ally list [--json]\n"
    "\n"
    "An alliance is mutual once both groups have proposed it to each other.\n"
    "`muster ally add --help` and the others explain each command.\n"
    "\n"
    "Example:\n"
    "  muster ally add mug1… --terms \"We act by the coalition's code of ethics\"\n"
    "  muster ally list\n";

static const char add_help[] =
    "Usage: muster ally add KEY [--terms TEXT] [--cause ADDR]...\n"
    "\n"
    "Proposes an alliance to the group with key KEY (the mug1… text that\n"
    "`muster id` prints on their node), or accepts theirs: the alliance is\n"
    "mutual when both groups have added each other. Adding again updates the\n"
    "terms and causes (or renews an ended alliance). Prints the address of\n"
    "your alliance record; share it with them through `muster export`.\n"
    "\n"
    "Options:\n"
    "  --terms TEXT   the code of ethics or agreement you act by (up to "
    "{alliance:terms:max}\n"
    "                 bytes); given again, it replaces the old terms\n"
    "  --cause ADDR   a cause you share (any group's cause address); repeat\n"
    "                 for more, {alliance:causes:list_max} at most; --cause \"\" "
    "removes them\n"
    "\n"
    "Example:\n"
    "  muster ally add mug1… --terms \"We act by the coalition's code of ethics\"\n";

static const char end_help[] =
    "Usage: muster ally end KEY\n"
    "\n"
    "Ends your alliance with the group with key KEY: a new revision of your\n"
    "alliance record with status ended. The alliance is no longer mutual; you\n"
    "can propose it again later with `muster ally add`.\n"
    "\n"
    "Example:\n"
    "  muster ally end mug1…\n";

static const char list_help[] =
    "Usage: muster ally list [--json]\n"
    "\n"
    "Lists the groups you have an alliance record with, either way:\n"
    "  mutual          both groups proposed it, neither ended it\n"
    "  proposed by us  you proposed it; they have not (yet)\n"
    "  proposed to us  they proposed it; accept with `muster ally add KEY`\n"
    "  ended           one group ended it (and has not proposed it again):\n"
    "                  \"ended by GROUP on DATE\" says which and when\n"
    "Each group's terms are shown under its own name.\n"
    "\n"
    "Options:\n"
    "  --json   a JSON array of {\"group\", \"state\" (mutual, proposed-by-us,\n"
    "           proposed-to-us or ended), \"name\", \"ours\", \"theirs\",\n"
    "           \"ended_by\", \"ended_at\"}, where ours and theirs are the\n"
    "           alliance records or null, ended_by the key of the group that\n"
    "           ended it and ended_at when (ISO time), or null\n"
    "\n"
    "Example:\n"
    "  muster ally list\n";

static void
alliance_addr(struct mu_cli *cli, const uint8_t with[MU_KEY_BYTES],
              char d[2 * MU_KEY_BYTES + 1], struct mu_addr *addr)
{
	sodium_bin2hex(d, 2 * MU_KEY_BYTES + 1, with, MU_KEY_BYTES);
	memset(addr, 0, sizeof(*addr));
	memcpy(addr->group, cli->home->group, MU_KEY_BYTES);
	addr->kind = MU_KIND_ALLIANCE;
	addr->d = mu_cli_str(d);
}

static int
apply_causes(struct mu_alliance *a, const struct mu_cli_list *l)
{
	struct mu_why why = {0};
	size_t i;

	if (l->n == 0)
		return 0;
	if (l->n == 1 && l->v[0][0] == '\0') {
		a->ncauses = 0;
		return 0;
	}
	if (l->n > MU_LIST_MAX)
		return mu_cli_fail(MU_EINVAL,
		                   "--cause given %zu times; an alliance "
		                   "names at most %d causes",
		                   l->n, MU_LIST_MAX);
	for (i = 0; i < l->n; i++) {
		if (mu_addr_from_text(&a->causes[i], l->v[i], &why) != 0)
			return mu_cli_fail(MU_EINVAL,
			                   "--cause: '%s' is not a cause address: %s",
			                   l->v[i], why.text);
		if (a->causes[i].kind != MU_KIND_CAUSE)
			return mu_cli_fail(MU_EINVAL,
			                   "--cause: %s is not the address of a cause",
			                   l->v[i]);
	}
	a->ncauses = l->n;
	return 0;
}

/* The start of add and end: the KEY argument, and the home opened to sign.
 * Returns 0, MU_CLI_HELPED or the exit status, as mu_cli_parse() does. */
static int
open_with(struct mu_cli *cli, const struct mu_cli_spec *spec, int argc, char **argv,
          const char *args[1], uint8_t with[MU_KEY_BYTES])
{
	int rc;

	rc = mu_cli_parse(spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_key_arg(cli, with, args[0], spec->name)) != 0)
		return rc;
	return mu_cli_open(cli, MU_CLI_SECRET);
}

static int
add(struct mu_cli *cli, int argc, char **argv)
{
	const char *terms = NULL, *args[1];
	struct mu_cli_list causes = {{NULL}, 0};
	const struct mu_cli_opt opts[] = {
	    {"terms", MU_OPT_VALUE, &terms},
	    {"cause", MU_OPT_LIST, &causes},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"ally add", add_help, opts, "KEY", 1, 1};
	struct mu_cli_rec cur = {NULL, {0}};
	char d[2 * MU_KEY_BYTES + 1];
	uint8_t with[MU_KEY_BYTES];
	struct mu_record rec;
	struct mu_addr addr;
	int rc;

	rc = open_with(cli, &spec, argc, argv, args, with);
	if (rc != 0)
		return rc;
	if (memcmp(with, cli->home->group, MU_KEY_BYTES) == 0)
		return mu_cli_fail(MU_EINVAL,
		                   "%s is your own group's key; give the "
		                   "key of the group to ally with",
		                   args[0]);
	alliance_addr(cli, with, d, &addr);
	if ((rc = mu_cli_edit_or_new(cli, &addr, &cur, &rec, "alliance")) != 0)
		return rc;
	if (cur.buf == NULL)
		memcpy(rec.c.alliance.with, with, MU_KEY_BYTES);
	rec.c.alliance.status = MU_ALLIANCE_PROPOSED;
	if (terms != NULL)
		rec.c.alliance.terms = mu_cli_str(terms);
	if ((rc = apply_causes(&rec.c.alliance, &causes)) != 0)
		goto out;
	rc = mu_cli_publish(cli, &rec, "propose the alliance");
out:
	mu_cli_rec_free(&cur);
	return rc;
}

int
mu_cli_ally_propose(struct mu_cli *cli, const uint8_t with[MU_KEY_BYTES],
                    const char *terms, bool *proposed)
{
	struct mu_cli_rec cur = {NULL, {0}};
	char d[2 * MU_KEY_BYTES + 1], text[MU_ADDR_TEXT_SIZE];
	struct mu_record rec;
	struct mu_addr addr;
	int rc;

	*proposed = false;
	alliance_addr(cli, with, d, &addr);
	if ((rc = mu_cli_edit_or_new(cli, &addr, &cur, &rec, "alliance")) != 0)
		return rc;
	if (cur.buf != NULL && cur.rec.c.alliance.status == MU_ALLIANCE_PROPOSED)
		goto out;
	if (cur.buf == NULL)
		memcpy(rec.c.alliance.with, with, MU_KEY_BYTES);
	rec.c.alliance.status = MU_ALLIANCE_PROPOSED;
	if (terms != NULL)
		rec.c.alliance.terms = mu_cli_str(terms);
	rc = mu_cli_store_new(cli, &rec, "propose the alliance", text);
	*proposed = rc == 0;
out:
	mu_cli_rec_free(&cur);
	return rc;
}

static int
end(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"ally end", end_help, opts, "KEY", 1, 1};
	struct mu_cli_rec cur = {NULL, {0}};
	char d[2 * MU_KEY_BYTES + 1];
	uint8_t with[MU_KEY_BYTES];
	const char *args[1];
	struct mu_record rec;
	struct mu_addr addr;
	int rc;

	rc = open_with(cli, &spec, argc, argv, args, with);
	if (rc != 0)
		return rc;
	alliance_addr(cli, with, d, &addr);
	rc = mu_cli_lookup(cli, &addr, &cur);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc,
		                   "you have no alliance with %s to end; `muster ally "
		                   "list` shows your alliances",
		                   args[0]);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot read the alliance: %s", mu_strerror(rc));
	if (cur.rec.c.alliance.status == MU_ALLIANCE_ENDED)
		rc = mu_cli_unchanged(&cur.rec, "ended");
	else if ((rc = mu_cli_next_rev(&cur, &rec)) == 0) {
		rec.c.alliance.status = MU_ALLIANCE_ENDED;
		rc = mu_cli_publish(cli, &rec, "end the alliance");
	}
	mu_cli_rec_free(&cur);
	return rc;
}

/* One alliance view, copied out of the store visit. */
struct ally {
	uint8_t other[MU_KEY_BYTES];
	enum mu_alliance_state state;
	struct mu_cli_rec ours, theirs;  /* buf NULL when absent */
	bool ended_by_us, ended_by_them; /* which record ended it, if one did */
};

/* The record that ended the alliance, or NULL. */
static const struct mu_record *
ender(const struct ally *a)
{
	return a->ended_by_us ? &a->ours.rec : a->ended_by_them ? &a->theirs.rec : NULL;
}

struct allies {
	struct ally *v;
	size_t n, cap;
};

static int
collect(void *ctx, const struct mu_alliance_view *view)
{
	struct allies *l = ctx;
	struct ally *a;
	int rc;

	if ((rc = mu_buf_grow_array(&l->v, &l->cap, l->n + 1, sizeof(*a), 8)) != 0)
		return rc;
	a = &l->v[l->n];
	memset(a, 0, sizeof(*a));
	memcpy(a->other, view->other, MU_KEY_BYTES);
	a->state = view->state;
	if (view->ours != NULL && (rc = mu_cli_rec_copy(&a->ours, view->ours)) != 0)
		return rc;
	if (view->theirs != NULL &&
	    (rc = mu_cli_rec_copy(&a->theirs, view->theirs)) != 0) {
		mu_cli_rec_free(&a->ours);
		return rc;
	}
	a->ended_by_us = view->ended != NULL && view->ended == view->ours;
	a->ended_by_them = view->ended != NULL && view->ended == view->theirs;
	l->n++;
	return 0;
}

static void
allies_free(struct allies *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		mu_cli_rec_free(&l->v[i].ours);
		mu_cli_rec_free(&l->v[i].theirs);
	}
	free(l->v);
}

static const char *
state_key(enum mu_alliance_state s)
{
	switch (s) {
	case MU_ALLY_MUTUAL:
		return "mutual";
	case MU_ALLY_BY_US:
		return "proposed-by-us";
	case MU_ALLY_TO_US:
		return "proposed-to-us";
	case MU_ALLY_ENDED:
		return "ended";
	}
	return "unknown";
}

static json_t *
rec_or_null(const struct mu_cli_rec *r)
{
	return r->buf != NULL ? mu_node_json_record(&r->rec) : json_null();
}

static int
print_json(struct mu_cli *cli, const struct allies *l)
{
	char key[MU_KEY_TEXT_SIZE], by[MU_KEY_TEXT_SIZE], at[MU_CLI_ISO_SIZE];
	const struct mu_record *end;
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < l->n; i++) {
		mu_key_to_text(key, l->v[i].other);
		end = ender(&l->v[i]);
		if (end != NULL) {
			mu_key_to_text(by, end->group);
			mu_cli_when_iso(at, end->created_at);
		}
		mu_cli_json_push(
		    &arr,
		    json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "group", key,
		              "state", state_key(l->v[i].state), "name",
		              mu_cli_json_group_name(cli, l->v[i].other), "ours",
		              rec_or_null(&l->v[i].ours), "theirs",
		              rec_or_null(&l->v[i].theirs), "ended_by",
		              end != NULL ? json_string(by) : json_null(), "ended_at",
		              end != NULL ? json_string(at) : json_null()));
	}
	return mu_cli_json_out(arr);
}

/* A group as the list names it: its name, else its key. */
static void
group_label(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
            char out[MU_CLI_NAME_SIZE])
{
	char text[MU_KEY_TEXT_SIZE];

	if (!mu_cli_group_name(cli, key, out)) {
		mu_key_to_text(text, key);
		snprintf(out, MU_CLI_NAME_SIZE, "%s", text);
	}
}

/* A record's terms, under its author's name: "    Riverside's terms: ...". */
static void
print_terms(struct mu_cli *cli, const struct mu_cli_rec *r)
{
	char who[MU_CLI_NAME_SIZE], first[MU_CLI_NAME_SIZE + 32],
	    indent[MU_CLI_NAME_SIZE + 32];
	int n;

	if (r->buf == NULL || r->rec.c.alliance.terms.len == 0)
		return;
	group_label(cli, r->rec.group, who);
	n = snprintf(first, sizeof(first), "    %s's terms: ", who);
	if (n < 0 || (size_t)n >= sizeof(first))
		n = (int)sizeof(first) - 1;
	memset(indent, ' ', (size_t)n);
	indent[n] = '\0';
	mu_cli_print_indented(stdout, first, indent, r->rec.c.alliance.terms);
}

static void
print_text(struct mu_cli *cli, const struct allies *l)
{
	static const struct {
		enum mu_alliance_state state;
		const char *title;
	} sections[] = {
	    {MU_ALLY_MUTUAL, "Mutual alliances"},
	    {MU_ALLY_BY_US, "Proposed by us (waiting for them to add us)"},
	    {MU_ALLY_TO_US, "Proposed to us (accept with `muster ally add KEY`)"},
	    {MU_ALLY_ENDED, "Ended"},
	};
	char key[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE], at[MU_CLI_ISO_SIZE];
	const struct ally *a;
	size_t s, i;
	bool first = true, any;

	if (l->n == 0) {
		printf("No alliances. Propose one with `muster ally add KEY`.\n");
		return;
	}
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		any = false;
		for (i = 0; i < l->n; i++) {
			if (l->v[i].state != sections[s].state)
				continue;
			if (!any)
				printf("%s%s:\n", first ? "" : "\n", sections[s].title);
			any = true;
			first = false;
			a = &l->v[i];
			mu_key_to_text(key, a->other);
			if (mu_cli_group_name(cli, a->other, name))
				printf("  %s\n    %s\n", name, key);
			else
				printf("  %s\n", key);
			if (ender(a) != NULL) {
				group_label(cli, ender(a)->group, name);
				mu_cli_when_iso(at, ender(a)->created_at);
				printf("    ended by %s on %.10s\n", name, at);
			}
			print_terms(cli, &a->ours);
			print_terms(cli, &a->theirs);
		}
	}
}

static int
list(struct mu_cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"ally list", list_help, opts, "", 0, 0};
	struct allies l = {NULL, 0, 0};
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	rc = mu_store_alliances(cli->store, cli->home->group, collect, &l);
	if (rc != 0) {
		rc = mu_cli_fail(rc, "cannot list the alliances: %s", mu_strerror(rc));
		goto out;
	}
	if (json)
		rc = print_json(cli, &l);
	else
		print_text(cli, &l);
out:
	allies_free(&l);
	return rc;
}

int
mu_cli_cmd_ally(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add}, {"end", end}, {"list", list}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "ally", group_help, subs, argc, argv);
}
