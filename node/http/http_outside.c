/*
 * http_outside.c - the records of groups outside the scope in the API's and
 * the pages' lists (http.h): left out, or with ?all=1 marked as no longer
 * updated (docs/API.md, "Records no longer current").
 */
#include <string.h>

#include "../json_record.h"
#include "http.h"

int
mu_http_outside(const struct mu_http_req *rq, struct mu_http_reply *rp,
                struct mu_outside *o, bool *hide)
{
	const char *s = mu_http_arg(rq, "all");

	memset(o, 0, sizeof(*o));
	if (s != NULL && strcmp(s, "1") != 0 && strcmp(s, "0") != 0) {
		mu_http_fail(rp, 400,
		             "all must be 1 (also the records of groups outside "
		             "this node's scope) or 0");
		return 1;
	}
	*hide = s == NULL || strcmp(s, "0") == 0;
	return mu_store_outside(rq->node->store, o);
}

int
mu_http_mark_outside(json_t *v, const struct mu_outside *o,
                     const uint8_t group[MU_KEY_BYTES])
{
	int64_t since;

	if (v == NULL || !mu_outside_has(o, group, &since))
		return v != NULL ? 0 : MU_ENOMEM;
	return json_object_set_new(v, "not_updated_since", mu_node_json_time(since)) ==
	               0
	           ? 0
	           : MU_ENOMEM;
}
