/*
 * json_out.h - JSON output for `--json`.
 *
 * Records become JSON through mu_node_json_record() (node/json_record.h has
 * the shape), the same function the HTTP API uses, so that both print one
 * shape. Everything is built with Jansson, so escaping is never done by hand.
 */
#ifndef MU_CLI_JSON_OUT_H
#define MU_CLI_JSON_OUT_H

#include <stdio.h>

#include <jansson.h>

#include "../node/json_record.h"
#include "../protocol/record.h"

/* Prints v indented by two, and a newline; takes the reference. Returns 0,
 * or MU_ENOMEM/MU_EIO. v may be NULL (out of memory upstream). */
int mu_cli_json_print(FILE *f, json_t *v);

struct mu_cli;

/* Appends o to *arr, taking the reference. When that fails, *arr is freed
 * and set to NULL, so that a loop building an array can stop at NULL and
 * mu_cli_json_out() reports the lack of memory. */
void mu_cli_json_push(json_t **arr, json_t *o);

/* The group's name from its profile as a JSON string, or null when it has
 * none (see mu_cli_group_name()). */
json_t *mu_cli_json_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES]);

/* A petition, pledge or event as the record's JSON object with "acts", its
 * coalition total (node/acts_json.h); NULL when out of memory. */
json_t *mu_cli_acts_json(struct mu_cli *cli, const struct mu_record *rec);

/* The --json output of a command: prints v on stdout as mu_cli_json_print()
 * does (taking the reference). Returns 0, or prints why and returns
 * the error. */
int mu_cli_json_out(json_t *v);

#endif
