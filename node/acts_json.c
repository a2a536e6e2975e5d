/*
 * Coalition totals as JSON (acts_json.h).
 */
#include "acts_json.h"

#include <stdlib.h>
#include <string.h>

#include "acts.h"
#include "json_record.h"

const char *
mu_node_pledge_word(bool triggered, int64_t deadline, int64_t now)
{
	if (triggered)
		return "triggered";
	return now > deadline ? "failed" : "open";
}

struct walk {
	json_t *groups;
	const struct mu_tally *tally; /* or NULL */
	int err;
};

static int
set_new(json_t *o, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(o, key, v) != 0 ? MU_ENOMEM : 0;
}

static int
add_group(void *ctx, const struct mu_record *rec)
{
	struct walk *w = ctx;
	struct mu_tally_share sh;
	json_t *o = json_object(), *names;
	int rc = 0;
	size_t i;

	if (o == NULL || json_array_append_new(w->groups, o) != 0)
		return w->err = MU_ENOMEM;
	rc |= set_new(o, "group", mu_node_json_key(rec->group));
	rc |= set_new(o, "created_at", mu_node_json_time(rec->created_at));
	switch (rec->kind) {
	case MU_KIND_RSVP:
		rc |= set_new(o, "count", json_integer(rec->c.rsvp.going));
		if (rec->c.rsvp.about)
			rc |= set_new(o, "about", json_true());
		if (rec->c.rsvp.has_waitlisted)
			rc |= set_new(o, "waitlisted",
			              json_integer(rec->c.rsvp.waitlisted));
		if (w->tally != NULL) {
			mu_tally_share(w->tally, rec->group, &sh);
			rc |= set_new(o, "placed", json_integer(sh.placed));
			rc |=
			    set_new(o, "tally_waitlisted", json_integer(sh.waitlisted));
		}
		break;
	case MU_KIND_SIGNATURES:
		rc |= set_new(o, "count", json_integer(rec->c.signatures.count));
		if (rec->c.signatures.as_group)
			rc |= set_new(o, "as_group", json_true());
		names = json_array();
		rc |= set_new(o, "names", names);
		for (i = 0; rc == 0 && i < rec->c.signatures.nnames; i++)
			rc |= json_array_append_new(
			          names,
			          json_stringn(rec->c.signatures.names[i].ptr,
			                       rec->c.signatures.names[i].len)) != 0
			          ? MU_ENOMEM
			          : 0;
		break;
	default:
		rc |= set_new(o, "count", json_integer(rec->c.pledged.count));
		if (rec->c.pledged.as_group)
			rc |= set_new(o, "as_group", json_true());
		break;
	}
	return rc != 0 ? (w->err = MU_ENOMEM) : 0;
}

struct pledge_rec {
	bool found;
	uint32_t threshold;
	enum mu_pledge_unit unit;
	int64_t deadline;
};

static int
get_pledge(void *ctx, const struct mu_record *rec)
{
	struct pledge_rec *p = ctx;

	p->found = true;
	p->threshold = rec->c.pledge.threshold;
	p->unit = rec->c.pledge.unit;
	p->deadline = rec->c.pledge.deadline;
	return 0;
}

static int
add_pledge(struct mu_store *st, const struct mu_addr *target, int64_t now, json_t *out)
{
	struct pledge_rec p = {0};
	struct mu_pledge_state s;
	json_t *o;
	int rc;

	rc = mu_store_get_addr(st, target, get_pledge, &p);
	if (rc == MU_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = mu_node_acts_pledge(st, target, &s);
	if (rc != 0)
		return rc;
	if ((o = json_object()) == NULL || json_object_set_new(out, "pledge", o) != 0)
		return MU_ENOMEM;
	rc |= set_new(o, "total", json_integer((json_int_t)s.total));
	rc |= set_new(o, "people", json_integer((json_int_t)s.people));
	rc |= set_new(o, "groups", json_integer(s.groups));
	rc |= set_new(o, "threshold", json_integer(p.threshold));
	rc |= set_new(o, "unit", json_string(mu_pledge_unit_name(p.unit)));
	rc |= set_new(o, "deadline", mu_node_json_time(p.deadline));
	rc |= set_new(o, "triggered", json_boolean(s.triggered));
	rc |= set_new(o, "state",
	              json_string(mu_node_pledge_word(s.triggered, p.deadline, now)));
	return rc != 0 ? MU_ENOMEM : 0;
}

json_t *
mu_node_acts_json(struct mu_store *st, const struct mu_addr *target, int64_t now,
                  int *err)
{
	struct mu_acts_total *t = malloc(sizeof(*t));
	struct mu_tally *tally = malloc(sizeof(*tally));
	struct walk w = {NULL, NULL, 0};
	json_t *out = json_object(), *o;
	uint64_t placed, total;
	int64_t made = 0;
	int rc = 0;

	if (t == NULL || tally == NULL || out == NULL) {
		rc = MU_ENOMEM;
		goto fail;
	}
	if ((rc = mu_node_acts_total(st, target, t)) != 0)
		goto fail;
	rc |= set_new(out, "kind", json_string(mu_kind_name(t->kind)));
	rc |= set_new(out, "total", json_integer((json_int_t)t->total));
	rc |= set_new(out, "as_groups", json_integer(t->as_groups));
	rc |= set_new(out, "truncated", json_boolean(t->truncated));
	if (target->kind == MU_KIND_EVENT &&
	    mu_node_acts_tally(st, target, tally, &made) == 0) {
		w.tally = tally;
		total = mu_tally_total(tally, &placed);
		if ((o = json_object()) == NULL ||
		    json_object_set_new(out, "tally", o) != 0) {
			rc = MU_ENOMEM;
			goto fail;
		}
		rc |= set_new(o, "capacity", json_integer(tally->capacity));
		rc |= set_new(o, "placed", json_integer((json_int_t)placed));
		rc |= set_new(o, "waitlisted",
		              json_integer((json_int_t)(total - placed)));
		rc |= set_new(o, "made_at", mu_node_json_time(made));
	}
	w.groups = json_array();
	rc |= set_new(out, "groups", w.groups);
	if (rc != 0) {
		rc = MU_ENOMEM;
		goto fail;
	}
	rc = mu_node_acts_each(st, target, t->kind, add_group, &w);
	if (rc == 0)
		rc = w.err;
	if (rc == 0 && target->kind == MU_KIND_PLEDGE)
		rc = add_pledge(st, target, now, out);
	if (rc != 0)
		goto fail;
	free(t);
	free(tally);
	return out;
fail:
	if (err != NULL)
		*err = rc;
	json_decref(out);
	free(t);
	free(tally);
	return NULL;
}
