/*
 * list_out.c - the output of a list command, written during the store's
 * walk (list_out.h).
 */
#include "list_out.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../node/node.h"
#include "../protocol/scope.h"
#include "../node/json_record.h"
#include "../storage/local.h"
#include "json_out.h"
#include "when.h"

/* A group's display name: its profile's name, else its short key. */
struct mu_cli_lister_name {
	uint8_t key[MU_KEY_BYTES];
	char name[MU_CLI_NAME_SIZE];
};

/* The index of key in l's names, or where it would go; the key is the
 * first member, as mu_key_position() wants. */
static size_t
name_pos(const struct mu_cli_lister *l, const uint8_t key[MU_KEY_BYTES], bool *found)
{
	return mu_key_position(l->names, l->nnames, sizeof(*l->names), key, found);
}

/* Inserts key's entry at its place; NULL when out of memory. */
static struct mu_cli_lister_name *
name_insert(struct mu_cli_lister *l, const uint8_t key[MU_KEY_BYTES])
{
	struct mu_cli_lister_name *v;
	bool found;
	size_t i = name_pos(l, key, &found);

	if (found)
		return &l->names[i];
	if (mu_buf_grow_array(&l->names, &l->cap_names, l->nnames + 1, sizeof(*v),
	                      64) != 0)
		return NULL;
	v = l->names;
	memmove(&v[i + 1], &v[i], (l->nnames - i) * sizeof(*v));
	l->nnames++;
	memcpy(v[i].key, key, MU_KEY_BYTES);
	mu_cli_short_key(v[i].name, key);
	return &v[i];
}

/* Visitor of the profiles: keeps each group's name, as mu_cli_group_name()
 * reads it. */
static int
load_name(void *ctx, const struct mu_record *rec)
{
	struct mu_cli_lister_name *n = name_insert(ctx, rec->group);
	char name[MU_CLI_NAME_SIZE];

	if (n == NULL)
		return MU_ENOMEM;
	mu_cli_profile_name(name, rec);
	if (name[0] != '\0')
		memcpy(n->name, name, sizeof(name));
	return 0;
}

/* Labels each group reached through an ally's alliance, which no one here
 * vetted: "Name (ally of Harbour)". The walk goes as far as a node with
 * the default --hops does. */
static int
label_paths(struct mu_cli_lister *l, struct mu_cli *cli)
{
	struct mu_scope *scope = mu_scope_new();
	struct mu_scope_paths *paths = malloc(sizeof(*paths));
	struct mu_cli_lister_name *n;
	char via[MU_CLI_NAME_SIZE], name[MU_CLI_NAME_SIZE];
	size_t i;
	int rc;

	rc = scope == NULL || paths == NULL
	         ? MU_ENOMEM
	         : mu_store_scope_paths(cli->store, cli->home->group,
	                                MU_NODE_DEFAULT_HOPS, scope, paths);
	for (i = 0; rc == 0 && i < paths->n; i++) {
		if (paths->v[i].step < 2 || paths->v[i].followed)
			continue;
		if ((n = name_insert(l, paths->v[i].via)) == NULL) {
			rc = MU_ENOMEM;
			break;
		}
		snprintf(via, sizeof(via), "%s", n->name);
		if ((n = name_insert(l, paths->v[i].key)) == NULL) {
			rc = MU_ENOMEM;
			break;
		}
		snprintf(name, sizeof(name), "%s", n->name);
		snprintf(n->name, sizeof(n->name), "%.55s (ally of %.55s)", name, via);
	}
	mu_scope_free(scope);
	free(paths);
	return rc;
}

int
mu_cli_lister_begin(struct mu_cli_lister *l, struct mu_cli *cli, bool json,
                    mu_cli_print_fn print)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = mu_store_outside(cli->store, &l->outside)) != 0)
		return mu_cli_fail(rc, "cannot read the groups outside the scope: %s",
		                   mu_strerror(rc));
	if (json) {
		l->json = json_array();
		if (l->json == NULL)
			mu_cli_lister_end(l, MU_ENOMEM);
		return l->json != NULL ? 0 : mu_cli_fail(MU_ENOMEM, "out of memory");
	}
	l->print = print;
	rc = mu_store_list(cli->store, MU_KIND_PROFILE, NULL, load_name, l);
	if (rc == 0)
		rc = label_paths(l, cli);
	if (rc != 0) {
		mu_cli_lister_end(l, rc);
		return mu_cli_fail(rc, "cannot read the groups' names: %s",
		                   mu_strerror(rc));
	}
	return 0;
}

int
mu_cli_mark_stale(json_t *v, int64_t since)
{
	if (json_object_set_new(v, "not_updated_since", mu_node_json_time(since)) == 0)
		return 0;
	json_decref(v);
	return MU_ENOMEM;
}

void
mu_cli_print_stale(int64_t since, const char *name)
{
	char day[MU_CLI_ISO_SIZE];

	mu_cli_when_iso(day, since);
	day[10] = '\0';
	printf("    not updated since %s: %s left this node's scope\n", day, name);
}

int
mu_cli_lister_add(void *ctx, const struct mu_record *rec)
{
	struct mu_cli_lister *l = ctx;
	const struct mu_cli_lister_name *n;
	int64_t since = 0;
	bool stale = mu_outside_has(&l->outside, rec->group, &since);
	json_t *v;

	if (stale && !l->all) {
		l->hidden++;
		return 0;
	}
	if (l->print == NULL) {
		v = mu_node_json_record(rec);
		if (v != NULL && stale && mu_cli_mark_stale(v, since) != 0)
			return MU_ENOMEM;
		mu_cli_json_push(&l->json, v);
		if (l->json == NULL)
			return MU_ENOMEM;
	} else {
		/* A group without a profile gets an entry too, for its next
		 * record: most lists name few groups many times. */
		if ((n = name_insert(l, rec->group)) == NULL)
			return MU_ENOMEM;
		if (l->n > 0)
			putchar('\n');
		l->print(stdout, rec, n->name, l->zone);
		if (stale)
			mu_cli_print_stale(since, n->name);
	}
	l->n++;
	return 0;
}

int
mu_cli_lister_end(struct mu_cli_lister *l, int err)
{
	int rc = 0;

	if (l->print == NULL && err == 0)
		rc = mu_cli_json_out(l->json);
	else
		json_decref(l->json);
	if (l->print != NULL && err == 0 && l->hidden > 0)
		printf("%zu record%s of groups outside this node's scope not shown: "
		       "no longer updated; `--all` shows %s.\n",
		       l->hidden, l->hidden == 1 ? "" : "s",
		       l->hidden == 1 ? "it" : "them");
	mu_outside_free(&l->outside);
	l->hidden = 0;
	l->json = NULL;
	free(l->names);
	l->names = NULL;
	l->nnames = l->cap_names = 0;
	return rc;
}
