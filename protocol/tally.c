/*
 * The host's queue of places (tally.h; docs/PROTOCOL.md 3.9).
 */
#include "tally.h"

#include <string.h>

void
mu_tally_init(struct mu_tally *t, uint32_t capacity)
{
	memset(t, 0, sizeof(*t));
	t->capacity = capacity;
}

static bool
same(const uint8_t a[MU_KEY_BYTES], const uint8_t b[MU_KEY_BYTES])
{
	return memcmp(a, b, MU_KEY_BYTES) == 0;
}

/* Merges neighbouring runs of one group and drops empty runs. */
static void
normalize(struct mu_tally *t)
{
	size_t i, k = 0;

	for (i = 0; i < t->nruns; i++) {
		if (t->runs[i].n == 0)
			continue;
		if (k > 0 && same(t->runs[k - 1].group, t->runs[i].group)) {
			t->runs[k - 1].n += t->runs[i].n;
			continue;
		}
		t->runs[k++] = t->runs[i];
	}
	t->nruns = k;
}

/* Runs wholly within capacity become one run per group, in order of each
 * group's first run. Places do not change: they are all inside. */
static void
compact(struct mu_tally *t)
{
	struct mu_tally_run out[MU_TALLY_MAX];
	size_t i, j, nout = 0, inside = 0;
	uint64_t at = 0;

	while (inside < t->nruns && at + t->runs[inside].n <= t->capacity)
		at += t->runs[inside++].n;
	for (i = 0; i < inside; i++) {
		for (j = 0; j < nout && !same(out[j].group, t->runs[i].group); j++)
			;
		if (j == nout)
			out[nout++] = t->runs[i];
		else
			out[j].n += t->runs[i].n;
	}
	for (i = inside; i < t->nruns; i++)
		out[nout++] = t->runs[i];
	memcpy(t->runs, out, nout * sizeof(out[0]));
	t->nruns = nout;
	normalize(t);
}

static uint32_t
going_of(const struct mu_tally *t, const uint8_t group[MU_KEY_BYTES], size_t *last)
{
	uint32_t n = 0;
	size_t i;

	*last = t->nruns;
	for (i = 0; i < t->nruns; i++)
		if (same(t->runs[i].group, group)) {
			n += t->runs[i].n;
			*last = i;
		}
	return n;
}

int
mu_tally_set(struct mu_tally *t, const uint8_t group[MU_KEY_BYTES], uint32_t going)
{
	size_t last, i;
	uint32_t now = going_of(t, group, &last), drop, d;

	if (going < now) {
		drop = now - going;
		for (i = t->nruns; i-- > 0 && drop > 0;) {
			if (!same(t->runs[i].group, group))
				continue;
			d = t->runs[i].n < drop ? t->runs[i].n : drop;
			t->runs[i].n -= d;
			drop -= d;
		}
		normalize(t);
		return 0;
	}
	if (going == now)
		return 0;
	if (t->nruns > 0 && same(t->runs[t->nruns - 1].group, group)) {
		t->runs[t->nruns - 1].n += going - now;
		return 0;
	}
	if (t->nruns == MU_TALLY_MAX) {
		compact(t);
		going_of(t, group, &last);
	}
	if (t->nruns < MU_TALLY_MAX) {
		memcpy(t->runs[t->nruns].group, group, MU_KEY_BYTES);
		t->runs[t->nruns++].n = going - now;
		return 0;
	}
	if (last == t->nruns)
		return MU_EFULL;
	t->runs[last].n += going - now;
	return 0;
}

void
mu_tally_share(const struct mu_tally *t, const uint8_t group[MU_KEY_BYTES],
               struct mu_tally_share *out)
{
	uint64_t at = 0, in;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < t->nruns; i++) {
		if (same(t->runs[i].group, group)) {
			in = at >= t->capacity ? 0 : t->capacity - at;
			out->going += t->runs[i].n;
			out->placed +=
			    (uint32_t)(in < t->runs[i].n ? in : t->runs[i].n);
		}
		at += t->runs[i].n;
	}
	out->waitlisted = out->going - out->placed;
}

uint64_t
mu_tally_total(const struct mu_tally *t, uint64_t *placed)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < t->nruns; i++)
		n += t->runs[i].n;
	if (placed != NULL)
		*placed = n < t->capacity ? n : t->capacity;
	return n;
}

int
mu_tally_from_rec(struct mu_tally *t, const struct mu_record *rec, struct mu_why *why)
{
	const struct mu_tally_rec *r = &rec->c.tally;
	size_t i;

	if (rec->kind != MU_KIND_TALLY)
		return mu_fail(why, MU_ERECORD, "unknown-kind: not a tally record");
	mu_tally_init(t, r->capacity);
	for (i = 0; i < r->ngroups && i < r->ncounts; i++) {
		memcpy(t->runs[i].group, r->groups[i], MU_KEY_BYTES);
		t->runs[i].n = r->counts[i];
	}
	t->nruns = i;
	return 0;
}

void
mu_tally_to_rec(const struct mu_tally *t, struct mu_tally_rec *out)
{
	size_t i;

	out->capacity = t->capacity;
	for (i = 0; i < t->nruns; i++) {
		memcpy(out->groups[i], t->runs[i].group, MU_KEY_BYTES);
		out->counts[i] = t->runs[i].n;
	}
	out->ngroups = out->ncounts = t->nruns;
}
