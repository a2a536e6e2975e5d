/*
 * json_out.c - JSON output of the commands (json_out.h); records are turned
 * into JSON by node/json_record.c, which the HTTP API shares.
 */
#include "json_out.h"

#include <stdlib.h>

#include "../protocol/textform.h"
#include "cli.h"
#include "when.h"

int
mu_cli_json_print(FILE *f, json_t *v)
{
	char *text;
	int rc = 0;

	if (v == NULL)
		return MU_ENOMEM;
	text = json_dumps(v, JSON_INDENT(2) | MU_NODE_JSON_REAL);
	json_decref(v);
	if (text == NULL)
		return MU_ENOMEM;
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
		rc = MU_EIO;
	free(text);
	return rc;
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
		return mu_cli_fail("cannot write the JSON output");
	return 0;
}
