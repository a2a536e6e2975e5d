/*
 * acts_json.h - the coalition total of an event, petition or pledge as
 * JSON: the one shape `--json` of the command line and the HTTP API print
 * (docs/API.md, "Acts").
 */
#ifndef MU_NODE_ACTS_JSON_H
#define MU_NODE_ACTS_JSON_H

#include <jansson.h>

#include "../protocol/record.h"
#include "../storage/store.h"

/*
 * For target (an event, petition or pledge address), a new JSON object:
 *   {"kind": "rsvp"|"signatures"|"pledged", "total": n, "as_groups": n,
 *    "truncated": bool, "groups": [{"group", "count", "created_at",
 *    "about"?, "as_group"?, "waitlisted"?, "names"? (signatures),
 *    "placed"?, "tally_waitlisted"? (an event with a tally)}...],
 *    "tally"?: {"capacity", "placed", "waitlisted", "made_at"},
 *    "pledge"?: {"total", "threshold", "unit", "deadline", "triggered",
 *                "state": "open"|"triggered"|"failed"}}
 * now decides a pledge's "failed" (deadline passed, not triggered).
 * NULL when out of memory or the store cannot be read (*err says which).
 */
json_t *mu_node_acts_json(struct mu_store *st, const struct mu_addr *target,
                          int64_t now, int *err);

/* A pledge's state as a word: "triggered", "failed" or "open". */
const char *mu_node_pledge_word(bool triggered, int64_t deadline, int64_t now);

#endif
