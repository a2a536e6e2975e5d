/*
 * recur_json.c - a series' occurrences as JSON (recur_json.h).
 */
#include "recur_json.h"

#include <stdlib.h>

#include "json_record.h"
#include "zone.h"

/* Occurrences are gathered before anything else is done with them: TZ is
 * the event's while the expansion runs, and nothing else should read it. */
struct occs {
	struct mu_recur_occ *v;
	size_t n, cap;
};

static int
keep(void *ctx, const struct mu_recur_occ *o)
{
	struct occs *c = ctx;

	if (c->n == c->cap)
		return 1;
	c->v[c->n++] = *o;
	return 0;
}

int
mu_node_occurrences(const struct mu_event *ev, int64_t from, int64_t to,
                    struct mu_recur_occ **out, size_t *n)
{
	struct occs c = {NULL, 0, MU_REPEAT_COUNT_MAX + 1};

	*out = NULL;
	*n = 0;
	if ((c.v = calloc(c.cap, sizeof(*c.v))) == NULL)
		return MU_ENOMEM;
	if (mu_node_zone_expand(ev, from, to, keep, &c) == MU_ENOMEM) {
		free(c.v);
		return MU_ENOMEM;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

json_t *
mu_node_json_occurrences(const struct mu_event *ev, int64_t from, int64_t to)
{
	char date[MU_RECUR_DATE_SIZE];
	struct mu_recur_occ *v = NULL;
	json_t *arr = json_array(), *o;
	size_t i, n = 0;

	if (arr == NULL || mu_node_occurrences(ev, from, to, &v, &n) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		mu_recur_date_text(date, v[i].date);
		o = json_pack("{s:o, s:o, s:s, s:b}", "start",
		              mu_node_json_time(v[i].start), "end",
		              mu_node_json_time(v[i].end), "date", date, "cancelled",
		              v[i].cancelled);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto fail;
	}
	free(v);
	return arr;
fail:
	free(v);
	json_decref(arr);
	return NULL;
}
