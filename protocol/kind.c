/*
 * Kind and status names, addresses and the replacement order
 * (docs/PROTOCOL.md, sections 3 and 5).
 */
#include "record.h"
#include "record_fields.h"

#include <string.h>

static const char *const kind_names[MU_KIND_COUNT] = {
    [MU_KIND_PROFILE] = "profile", [MU_KIND_CAUSE] = "cause",
    [MU_KIND_EVENT] = "event",     [MU_KIND_ALLIANCE] = "alliance",
    [MU_KIND_DELETE] = "delete",   [MU_KIND_NODE] = "node",
};

const char *
mu_kind_name(enum mu_kind kind)
{
	if (kind <= MU_KIND_NONE || kind >= MU_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

enum mu_kind
mu_kind_from_name(const char *name, size_t len)
{
	int k;

	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++)
		if (strlen(kind_names[k]) == len &&
		    memcmp(kind_names[k], name, len) == 0)
			return (enum mu_kind)k;
	return MU_KIND_NONE;
}

bool
mu_kind_replaceable(enum mu_kind kind)
{
	return kind == MU_KIND_PROFILE || kind == MU_KIND_CAUSE ||
	       kind == MU_KIND_EVENT || kind == MU_KIND_ALLIANCE ||
	       kind == MU_KIND_NODE;
}

/* Status names live in the field tables, next to the parser's use of them. */
static const char *
status_name(enum mu_kind kind, int s)
{
	const struct mu_fields *t = mu_rec_fields(kind);
	size_t i;
	int n;

	for (i = 0; i < t->n; i++) {
		if (t->f[i].type != MU_FT_ENUM)
			continue;
		for (n = 0; t->f[i].names[n] != NULL; n++)
			if (n + 1 == s)
				return t->f[i].names[n];
	}
	return NULL;
}

const char *
mu_cause_status_name(enum mu_cause_status s)
{
	return status_name(MU_KIND_CAUSE, (int)s);
}

const char *
mu_event_status_name(enum mu_event_status s)
{
	return status_name(MU_KIND_EVENT, (int)s);
}

const char *
mu_alliance_status_name(enum mu_alliance_status s)
{
	return status_name(MU_KIND_ALLIANCE, (int)s);
}

void
mu_rec_addr(const struct mu_record *rec, struct mu_addr *addr)
{
	memcpy(addr->group, rec->group, MU_KEY_BYTES);
	addr->kind = rec->kind;
	addr->d = rec->d;
}

int
mu_rec_newer(const struct mu_record *a, const struct mu_record *b)
{
	int c;

	if (a->rev != b->rev)
		return a->rev > b->rev ? 1 : -1;
	if (a->created_at != b->created_at)
		return a->created_at > b->created_at ? 1 : -1;
	/* The lower id wins. */
	c = memcmp(a->id, b->id, MU_ID_BYTES);
	return c < 0 ? 1 : c > 0 ? -1 : 0;
}
