/*
 * json_record.h - records as JSON objects: the one shape that `--json` on
 * the command line and the HTTP API (/api/...) both print.
 *
 * The shape is a contract that scripts, the end-to-end tests and API clients
 * rely on (docs/API.md, "Records"):
 *   {"id": hex, "address": "KEY/KIND/D" (not for delete), "kind": name,
 *    "group": key text, "signer": key text, "created_at": ISO time, "d": d,
 *    "rev": int, "content": {...}}
 * content uses the wire field names; keys and addresses are in their text
 * forms, start and end are "YYYY-MM-DDTHH:MM:SSZ", lat/lon decimal degrees,
 * all_day true when set, a delete's id hex. Absent optional fields are left
 * out, as they are on the wire. Everything is built with Jansson, so
 * escaping is never done by hand.
 */
#ifndef MU_NODE_JSON_RECORD_H
#define MU_NODE_JSON_RECORD_H

#include <stdint.h>

#include <jansson.h>

#include "../protocol/record.h"

/* "2026-12-05T18:00:00Z" and its NUL. */
#define MU_NODE_ISO_SIZE 21

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (t within 0 ... year 9999). */
void mu_node_time_iso(char out[MU_NODE_ISO_SIZE], int64_t t);

/* A new JSON object for rec (a new reference), or NULL when out of memory. */
json_t *mu_node_json_record(const struct mu_record *rec);

/* JSON strings (new references, NULL when out of memory) of a group key's
 * text form, an address's text form and an ISO time. */
json_t *mu_node_json_key(const uint8_t key[MU_KEY_BYTES]);
json_t *mu_node_json_addr(const struct mu_addr *addr);
json_t *mu_node_json_time(int64_t t);

/* The dump options every JSON output uses: ten significant digits print
 * lat/lon (7 decimals) exactly, where the default 17 would show the binary
 * rounding (52.520000000000003). */
#define MU_NODE_JSON_REAL JSON_REAL_PRECISION(10)

#endif
