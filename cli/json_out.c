/*
 * json_out.c - JSON output of the commands (json_out.h); records are turned
 * into JSON by node/json_record.c, which the HTTP API shares.
 */
#include "json_out.h"

#include "../protocol/textform.h"
#include "cli.h"
#include "when.h"

int
mu_cli_json_print(FILE *f, json_t *v)
{
	int rc;

	if (v == NULL)
		return MU_ENOMEM;
	/* Straight to f: a long list would otherwise be one string first,
	 * grown (and copied) many times over. */
	rc = json_dumpf(v, f, JSON_INDENT(2) | MU_NODE_JSON_REAL);
	json_decref(v);
	if (rc != 0 || fputc('\n', f) == EOF)
		return MU_EIO;
	return 0;
}

void
mu_cli_json_push(json_t **arr, json_t *o)
{
	if (*arr == NULL) {
		json_decref(o);
		return;
	}
	if (json_array_append_new(*arr, o) != 0) {
		json_decref(*arr);
		*arr = NULL;
	}
}

json_t *
mu_cli_json_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES])
{
	char name[MU_CLI_NAME_SIZE];

	return mu_cli_group_name(cli, key, name) ? json_string(name) : json_null();
}

int
mu_cli_json_out(json_t *v)
{
	if (mu_cli_json_print(stdout, v) != 0)
		return mu_cli_fail(MU_EIO, "cannot write the JSON output");
	return 0;
}
