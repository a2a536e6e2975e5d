/*
 * recur_json.h - the occurrences of a recurring event as JSON, for the API
 * and the web page (docs/API.md, "occurrences"): one object per occurrence
 * that overlaps a window, {"start", "end", "date", "cancelled"}, the times
 * as mu_node_json_time() writes them and date its local YYYY-MM-DD.
 */
#ifndef MU_NODE_RECUR_JSON_H
#define MU_NODE_RECUR_JSON_H

#include <jansson.h>

#include "../protocol/recur.h"

/*
 * The occurrences of ev (a series or not) that overlap [from, to), in
 * order, at most MU_REPEAT_COUNT_MAX + 1: *out is a malloc()ed array of *n
 * the caller frees. Returns 0 or MU_ENOMEM.
 */
int mu_node_occurrences(const struct mu_event *ev, int64_t from, int64_t to,
                        struct mu_recur_occ **out, size_t *n);

/*
 * The same occurrences as a new JSON array the caller owns; NULL when memory runs out.
 */
json_t *mu_node_json_occurrences(const struct mu_event *ev, int64_t from, int64_t to);

#endif
