/*
 * cmd_show.c - `muster show ADDR|ID|KEY`: one record in full.
 */
#include <stdio.h>
#include <string.h>

#include "../protocol/kind.h"
#include "../storage/conflict.h"

#include "../node/signers.h"
#include "cli.h"
#include "json_out.h"
#include "list_out.h"

static const char help[] =
    "Usage: muster show ADDR|ID|KEY [--json]\n"
    "\n"
    "Prints one record with all its fields: the current version at an address\n"
    "(mug1…/event/…), the record with an id (64 hex digits, as `muster delete`\n"
    "prints), or the profile of the group with a key (mug1…).\n"
    "\n"
    "Options:\n"
    "  --json   print the record as a JSON object\n"
    "\n"
    "Example:\n"
    "  muster show mug1…/event/91c2d7e05b6a4f38\n";

static int
copy_one(void *ctx, const struct mu_record *rec)
{
	return mu_cli_rec_copy(ctx, rec);
}

static bool
looks_like_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return false;
	}
	return i == 2 * MU_ID_BYTES;
}

static bool
group_name(void *ctx, const uint8_t key[MU_KEY_BYTES], char out[MU_CLI_NAME_SIZE])
{
	return mu_cli_group_name(ctx, key, out);
}

/* What the record at addr is called here, into out: its title or name,
 * then its group's name ("Rent strike, by Harbour Tenants"), or "of
 * Harbour Tenants" when only the group is known. */
static bool
addr_name(void *ctx, const struct mu_addr *addr, char *out, size_t n)
{
	const struct mu_fields *t = mu_rec_fields(addr->kind);
	struct mu_cli_rec r = {NULL, {0}};
	const struct mu_field *fd = NULL;
	const struct mu_str *s = NULL;
	char group[MU_CLI_NAME_SIZE];
	struct mu_cli *cli = ctx;
	const void *owner;
	bool known;

	if (t != NULL && mu_cli_lookup(cli, addr, &r) == 0) {
		fd = mu_field_at(t, &r.rec.c, "title", &owner);
		if (fd == NULL)
			fd = mu_field_at(t, &r.rec.c, "name", &owner);
		if (fd != NULL && mu_ftype_is_str(fd->type))
			s = (const struct mu_str *)((const uint8_t *)owner + fd->off);
	}
	known = mu_cli_group_name(cli, addr->group, group);
	if (s != NULL && s->len > 0)
		snprintf(out, n, "%.*s%s%s", (int)s->len, s->ptr, known ? ", by " : "",
		         known ? group : "");
	else if (known)
		snprintf(out, n, "of %s", group);
	mu_cli_rec_free(&r);
	return (s != NULL && s->len > 0) || known;
}

/* The record, marked as not updated when its group left the scope, and
 * the conflict of concurrent edits at its address if it is the current
 * version there (docs/PROTOCOL.md 5.2). */
static int
show(struct mu_cli *cli, const struct mu_cli_names *names, const struct mu_record *rec,
     bool json)
{
	char name[MU_CLI_NAME_SIZE];
	struct mu_store_conflict c;
	struct mu_why why = {0};
	struct mu_outside out;
	struct mu_addr addr;
	int64_t since = 0;
	bool stale, found = false;
	json_t *v;
	int rc;

	if ((rc = mu_store_outside(cli->store, &out)) != 0)
		return mu_cli_fail(rc, "cannot read the groups outside the scope: %s",
		                   mu_strerror(rc));
	stale = mu_outside_has(&out, rec->group, &since);
	mu_outside_free(&out);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		rc = mu_store_conflict_get(cli->store, &addr, &c, &why);
		if (rc != 0 && rc != MU_ENOTFOUND)
			return mu_cli_fail(
			    rc, "cannot read the revisions of the record: %s",
			    mu_why_or(&why, rc));
		found = rc == 0 && memcmp(c.current.id, rec->id, MU_ID_BYTES) == 0;
		if (rc == 0 && !found)
			mu_store_conflict_free(&c);
	}
	if (json) {
		struct mu_node_signers signers;

		if ((rc = mu_node_signers_load(&signers, cli->store)) != 0)
			return mu_cli_fail(rc, "cannot read the organizers' names: %s",
			                   mu_strerror(rc));
		v = mu_node_json_edited_by(mu_node_json_record(rec), &signers, rec);
		mu_node_signers_free(&signers);
		if (v != NULL && stale && mu_cli_mark_stale(v, since) != 0)
			v = NULL;
		if (v != NULL && found)
			json_object_set_new(v, "conflict",
			                    mu_cli_conflict_json(cli, &c));
		rc = mu_cli_json_out(v);
	} else {
		mu_cli_print_record(stdout, names, rec);
		if (stale) {
			mu_cli_group_name(cli, rec->group, name);
			mu_cli_print_stale(since, name);
		}
		if (found)
			mu_cli_print_conflict(stdout, cli, &c);
		rc = 0;
	}
	if (found)
		mu_store_conflict_free(&c);
	return rc;
}

int
mu_cli_cmd_show(struct mu_cli *cli, int argc, char **argv)
{
	const struct mu_cli_names names = {group_name, addr_name, cli};
	bool json = false;
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"show", help, opts, "ADDR, ID or KEY", 1, 1};
	struct mu_cli_rec r = {NULL, {0}};
	struct mu_why why = {0}, kwhy = {0};
	uint8_t id[MU_ID_BYTES];
	const char *args[1];
	struct mu_addr addr;
	bool bad;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, NULL);
	if (rc != 0)
		return rc;
	memset(&addr, 0, sizeof(addr));
	if (looks_like_id(args[0])) {
		if (mu_id_from_text(id, args[0], &why) != 0)
			return mu_cli_fail(MU_EINVAL, "'%s' is not a record id: %s",
			                   args[0], why.text);
		if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
			return rc;
		rc = mu_store_get(cli->store, id, copy_one, &r);
		if (rc == MU_ENOTFOUND)
			return mu_cli_fail(rc, "no record with id %s is stored here",
			                   args[0]);
		if (rc != 0)
			return mu_cli_fail(rc, "cannot read %s: %s", args[0],
			                   mu_strerror(rc));
	} else {
		if (strchr(args[0], '/') == NULL &&
		    mu_key_from_text(addr.group, args[0], &kwhy) == 0) {
			/* A bare group key: show that group's profile. */
			addr.kind = MU_KIND_PROFILE;
			addr.d = mu_cli_str("");
		} else if ((bad = mu_addr_from_text(&addr, args[0], &why) != 0) &&
		           mu_cli_d_prefix(args[0])) {
			/* One of our own records by a start of its d. */
			if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
				return rc;
			rc = mu_cli_own_d(cli, args[0], MU_KIND_NONE, &addr);
			if (rc == MU_ENOTFOUND)
				return mu_cli_fail(
				    rc,
				    "'%s' is not a record address, id or group key, "
				    "and no record of ours has an address ending "
				    "/%s…; addresses look like mug1…/event/…, ids "
				    "are 64 hex digits",
				    args[0], args[0]);
			if (rc != 0)
				return rc;
		} else if (bad) {
			return mu_cli_fail(
			    MU_EINVAL,
			    "'%s' is not a record address, id or group key: "
			    "%s; addresses look like mug1…/event/…, ids are "
			    "64 hex digits",
			    args[0],
			    strchr(args[0], '/') != NULL ? why.text : kwhy.text);
		}
		if (cli->store == NULL && (rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
			return rc;
		/* No command lists profiles: name the one that lists the
		 * groups this node holds records of. */
		if (addr.kind == MU_KIND_PROFILE &&
		    (rc = mu_cli_lookup(cli, &addr, &r)) == MU_ENOTFOUND)
			return mu_cli_fail(rc,
			                   "no profile of the group %s is stored here; "
			                   "`muster status` lists the groups whose "
			                   "records this node holds",
			                   args[0]);
		if (addr.kind != MU_KIND_PROFILE &&
		    (rc = mu_cli_get_current(cli, &addr, &r)) != 0)
			return rc;
		if (rc != 0)
			return mu_cli_fail(rc, "cannot read %s: %s", args[0],
			                   mu_strerror(rc));
	}
	rc = show(cli, &names, &r.rec, json);
	mu_cli_rec_free(&r);
	return rc;
}
