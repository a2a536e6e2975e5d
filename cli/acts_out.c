/*
 * acts_out.c - petitions, pledges and an event's rsvps as the command line
 * shows them: the record, the coalition total and each group's part, so
 * that a group claiming 10,000 is seen as that group's claim.
 */
#include <stdlib.h>
#include <string.h>

#include "../node/acts.h"
#include "../node/acts_json.h"
#include "../protocol/textform.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

static void
time_text(char *out, size_t size, int64_t t, const char *zone)
{
	if (mu_cli_when_format(out, size, t, zone, "%Y-%m-%d %H:%M %Z") != 0)
		mu_cli_when_format(out, size, t, NULL, "%Y-%m-%d %H:%M %Z");
}

/* "12 (Riverside Tenants), 5 (Eastside, signs as a group)" and the total. */
static int
print_parts(struct mu_cli *cli, FILE *f, const struct mu_addr *target, const char *unit)
{
	struct mu_acts_total *t = malloc(sizeof(*t));
	struct mu_tally tally;
	struct mu_tally_share sh;
	char name[MU_CLI_NAME_SIZE];
	bool has_tally;
	size_t i;
	int rc;

	if (t == NULL)
		return MU_ENOMEM;
	if ((rc = mu_node_acts_total(cli->store, target, t)) != 0) {
		free(t);
		return mu_cli_fail(rc, "cannot read the counts: %s", mu_strerror(rc));
	}
	has_tally = target->kind == MU_KIND_EVENT &&
	            mu_node_acts_tally(cli->store, target, &tally, NULL) == 0;
	fprintf(f, "    %llu %s from %zu group%s", (unsigned long long)t->total, unit,
	        t->n, t->n == 1 ? "" : "s");
	if (t->as_groups > 0)
		fprintf(f, "; %u group%s as a group", t->as_groups,
		        t->as_groups == 1 ? "" : "s");
	if (has_tally) {
		uint64_t placed, all = mu_tally_total(&tally, &placed);

		fprintf(f, "; capacity %u: %llu placed, %llu waitlisted",
		        tally.capacity, (unsigned long long)placed,
		        (unsigned long long)(all - placed));
	}
	fprintf(f, "\n");
	for (i = 0; i < t->n; i++) {
		mu_cli_group_name(cli, t->parts[i].group, name);
		fprintf(f, "      %s: %s%u", name, t->parts[i].about ? "about " : "",
		        t->parts[i].count);
		if (t->parts[i].as_group)
			fprintf(f, ", %s as a group",
			        target->kind == MU_KIND_PETITION ? "signs" : "commits");
		if (has_tally) {
			mu_tally_share(&tally, t->parts[i].group, &sh);
			fprintf(f, ", %u placed, %u waitlisted", sh.placed,
			        sh.waitlisted);
		}
		fprintf(f, "\n");
	}
	if (t->truncated)
		fprintf(f, "      (more groups, counted in the total)\n");
	free(t);
	return 0;
}

int
mu_cli_acts_print(struct mu_cli *cli, FILE *f, const struct mu_record *rec,
                  const char *zone)
{
	char addr_text[MU_ADDR_TEXT_SIZE], name[MU_CLI_NAME_SIZE], when[64];
	struct mu_pledge_state ps;
	struct mu_addr addr;
	int rc;

	mu_rec_addr(rec, &addr);
	mu_addr_to_text(addr_text, &addr);
	mu_cli_group_name(cli, rec->group, name);
	switch (rec->kind) {
	case MU_KIND_PETITION: {
		const struct mu_petition *p = &rec->c.petition;

		fprintf(f, "%.*s  [%s]\n    by %s, to %.*s\n", (int)p->title.len,
		        p->title.ptr, mu_petition_status_name(p->status), name,
		        (int)p->target.len, p->target.ptr);
		if (p->has_goal)
			fprintf(f, "    goal: %u signatures\n", p->goal);
		if (p->has_deadline) {
			time_text(when, sizeof(when), p->deadline, zone);
			fprintf(f, "    deadline: %s\n", when);
		}
		rc = print_parts(cli, f, &addr, "signatures");
		break;
	}
	case MU_KIND_PLEDGE: {
		const struct mu_pledge *p = &rec->c.pledge;

		if ((rc = mu_node_acts_pledge(cli->store, &addr, &ps)) != 0)
			return mu_cli_fail(rc, "cannot read the pledge's counts: %s",
			                   mu_strerror(rc));
		time_text(when, sizeof(when), p->deadline, zone);
		fprintf(f, "%.*s  [%s]\n    by %s: %llu of %u %s by %s\n",
		        (int)p->title.len, p->title.ptr,
		        mu_node_pledge_word(ps.triggered, p->deadline, cli->now), name,
		        (unsigned long long)ps.total, p->threshold,
		        mu_pledge_unit_name(p->unit), when);
		if (p->has_start) {
			time_text(when, sizeof(when), p->start, zone);
			fprintf(f, "    the action: %s\n", when);
		}
		rc = print_parts(cli, f, &addr, "pledged");
		break;
	}
	default:
		fprintf(f, "%.*s\n    by %s\n", (int)rec->c.event.title.len,
		        rec->c.event.title.ptr, name);
		rc = print_parts(cli, f, &addr, "going");
		break;
	}
	fprintf(f, "    %s\n", addr_text);
	return rc;
}

json_t *
mu_cli_acts_json(struct mu_cli *cli, const struct mu_record *rec)
{
	json_t *o = mu_node_json_record(rec), *acts;
	struct mu_addr addr;
	int err = 0;

	if (o == NULL)
		return NULL;
	mu_rec_addr(rec, &addr);
	acts = mu_node_acts_json(cli->store, &addr, cli->now, &err);
	if (acts == NULL || json_object_set_new(o, "acts", acts) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
list_recs(struct mu_cli *cli, enum mu_kind kind, const uint8_t *group, bool json,
          const char *none)
{
	struct mu_node_recs v;
	char zone_buf[MU_CLI_ZONE_SIZE];
	const char *zone = NULL;
	json_t *arr = NULL, *o;
	size_t n, i;
	int rc;

	if ((rc = mu_node_recs_list(cli->store, kind, group, &v)) != 0) {
		mu_node_recs_free(&v);
		return mu_cli_fail(rc, "cannot read the %ss: %s", mu_kind_name(kind),
		                   mu_strerror(rc));
	}
	n = v.n;
	if (json && (arr = json_array()) == NULL)
		rc = MU_ENOMEM;
	if (!json && (rc = mu_cli_node_zone(cli, zone_buf, &zone)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < n; i++) {
		if (json) {
			if ((o = mu_cli_acts_json(cli, &v.recs[i])) == NULL)
				rc = MU_ENOMEM;
			else
				mu_cli_json_push(&arr, o);
			continue;
		}
		if (i > 0)
			printf("\n");
		rc = mu_cli_acts_print(cli, stdout, &v.recs[i], zone);
	}
	if (rc == 0 && json && arr == NULL)
		rc = MU_ENOMEM;
	if (rc == MU_ENOMEM)
		rc = mu_cli_fail(rc, "out of memory");
	else if (rc == 0 && json) {
		rc = mu_cli_json_out(arr);
		arr = NULL;
	} else if (rc == 0 && n == 0)
		printf("%s\n", none);
out:
	json_decref(arr);
	mu_node_recs_free(&v);
	return rc;
}

int
mu_cli_acts_list(struct mu_cli *cli, int argc, char **argv,
                 const struct mu_cli_acts_cmd *cmd)
{
	const char *group_text = NULL;
	bool json = false;
	const struct mu_cli_opt opts[] = {
	    {"group", MU_OPT_VALUE, &group_text},
	    {"json", MU_OPT_FLAG, &json},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {cmd->name, cmd->help, opts, "", 0, 0};
	uint8_t group[MU_KEY_BYTES];
	int rc;

	if ((rc = mu_cli_parse(&spec, argc, argv, NULL, NULL)) != 0)
		return rc;
	if (group_text != NULL &&
	    (rc = mu_cli_key_arg(cli, group, group_text, "--group")) != 0)
		return rc;
	if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
		return rc;
	return list_recs(cli, cmd->kind, group_text ? group : NULL, json, cmd->none);
}

int
mu_cli_acts_edit(struct mu_cli *cli, const char *text, enum mu_kind kind,
                 mu_cli_acts_apply_fn apply, const void *opts, const char *what)
{
	struct mu_cli_rec cur = {NULL, {0}};
	struct mu_record rec;
	struct mu_addr cause;
	int rc;

	if ((rc = mu_cli_edit_own(cli, text, kind, &cur, &rec)) != 0)
		return rc;
	rc = apply(cli, &rec, opts, &cause);
	if (rc == 0)
		rc = mu_cli_publish(cli, &rec, what);
	mu_cli_rec_free(&cur);
	return rc;
}

/*
 * Sets (or clears) the group's own act on target (`petition sign`, `pledge
 * commit`): the group's record keeps its count of people and its names,
 * unless count_text gives a new count.
 */
int
mu_cli_acts_group_act(struct mu_cli *cli, const char *text, enum mu_kind target_kind,
                      int as_group, const char *count_text)
{
	struct mu_acts_count c;
	struct mu_why why = {0};
	unsigned long v = 0;
	bool changed;
	int rc;

	memset(&c, 0, sizeof(c));
	c.kind = mu_node_acts_answer_kind(target_kind);
	if (mu_addr_from_text(&c.target, text, &why) != 0 ||
	    c.target.kind != target_kind)
		return mu_cli_fail(MU_EINVAL,
		                   "'%s' is not the address of a %s (mug1…/%s/…; "
		                   "`muster %s list` shows them)",
		                   text, mu_kind_name(target_kind),
		                   mu_kind_name(target_kind),
		                   mu_kind_name(target_kind));
	if (count_text != NULL &&
	    (rc = mu_cli_uint_opt("--count", count_text, 0, MU_COUNT_MAX, &v)) != 0)
		return rc;
	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	c.count = (uint32_t)v;
	c.only_flags = count_text == NULL;
	c.keep_flags = as_group < 0;
	c.as_group = as_group > 0;
	rc = mu_node_acts_publish(cli->store, cli->home, &c, cli->now, &changed, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot publish the group's %s: %s",
		                   mu_kind_name(c.kind), why.text);
	printf("%s\n", changed ? "published"
	                       : "unchanged: the group's record says so "
	                         "already");
	return 0;
}

int
mu_cli_acts_time_opt(struct mu_cli *cli, const char *opt, const char *text, int64_t *t,
                     bool *has)
{
	char zone_buf[MU_CLI_ZONE_SIZE];
	const char *zone = NULL;
	struct mu_cli_when w;
	struct mu_why why = {0};
	int rc;

	if (text == NULL)
		return 0;
	if (text[0] == '\0' && has != NULL) {
		*has = false;
		return 0;
	}
	if ((rc = mu_cli_node_zone(cli, zone_buf, &zone)) != 0)
		return rc;
	if (mu_cli_when_parse(&w, text, zone, &why) != 0)
		return mu_cli_fail(MU_EINVAL, "--%s: %s", opt, why.text);
	*t = w.t;
	if (has != NULL)
		*has = true;
	return 0;
}

int
mu_cli_acts_cause_opt(const char *text, struct mu_addr *buf, struct mu_addr *cause,
                      bool *has)
{
	struct mu_why why = {0};

	if (text == NULL)
		return 0;
	if (text[0] == '\0') {
		*has = false;
		return 0;
	}
	if (mu_addr_from_text(buf, text, &why) != 0 || buf->kind != MU_KIND_CAUSE)
		return mu_cli_fail(MU_EINVAL,
		                   "--cause '%s' is not the address of a cause "
		                   "(mug1…/cause/…; `muster cause list` shows them)",
		                   text);
	*cause = *buf;
	*has = true;
	return 0;
}
