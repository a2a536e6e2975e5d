#include "scope.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "record.h"

struct mu_scope *
mu_scope_new(void)
{
	return calloc(1, sizeof(struct mu_scope));
}

void
mu_scope_free(struct mu_scope *s)
{
	free(s);
}

void
mu_scope_clear(struct mu_scope *s)
{
	s->n = 0;
}

size_t
mu_key_position(const void *base, size_t n, size_t stride, const uint8_t key[32],
                bool *found)
{
	const uint8_t *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(b + mid * stride, key, 32);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* The index where key is or would go. */
static size_t
position(const struct mu_scope *s, const uint8_t key[32], bool *found)
{
	return mu_key_position(s->keys, s->n, sizeof(s->keys[0]), key, found);
}

int
mu_scope_add(struct mu_scope *s, const uint8_t key[32])
{
	bool found;
	size_t at = position(s, key, &found);

	if (found)
		return 0;
	if (s->n == MU_SCOPE_MAX)
		return MU_EFULL;
	memmove(s->keys[at + 1], s->keys[at], (s->n - at) * 32);
	memcpy(s->keys[at], key, 32);
	s->n++;
	return 0;
}

bool
mu_scope_has(const struct mu_scope *s, const uint8_t key[32])
{
	bool found;

	position(s, key, &found);
	return found;
}

void
mu_scope_intersect(struct mu_scope *out, const struct mu_scope *a,
                   const struct mu_scope *b)
{
	size_t i = 0, j = 0;

	out->n = 0;
	while (i < a->n && j < b->n) {
		int c = memcmp(a->keys[i], b->keys[j], 32);

		if (c == 0) {
			memcpy(out->keys[out->n++], a->keys[i], 32);
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
}

bool
mu_scope_equal(const struct mu_scope *a, const struct mu_scope *b)
{
	return a->n == b->n && memcmp(a->keys, b->keys, a->n * 32) == 0;
}

/* Whether x's end stands against y's record: y did not propose it again
 * after x ended it. */
static bool
end_stands(int64_t x_at, int y_status, int64_t y_at)
{
	return y_status != MU_ALLIANCE_PROPOSED || y_at <= x_at;
}

enum mu_ended_by
mu_alliance_ender(int a_status, int64_t a_at, int b_status, int64_t b_at)
{
	bool a_ended = a_status == MU_ALLIANCE_ENDED,
	     b_ended = b_status == MU_ALLIANCE_ENDED;

	if (a_ended && b_ended)
		return a_at <= b_at ? MU_ENDED_BY_A : MU_ENDED_BY_B;
	if (a_ended && end_stands(a_at, b_status, b_at))
		return MU_ENDED_BY_A;
	if (b_ended && end_stands(b_at, a_status, a_at))
		return MU_ENDED_BY_B;
	return MU_ENDED_NOT;
}

int
mu_scope_paths_set(struct mu_scope_paths *p, const uint8_t key[32],
                   const uint8_t via[32], int step, bool followed)
{
	bool found;
	size_t at = mu_key_position(p->v, p->n, sizeof(p->v[0]), key, &found);
	struct mu_scope_path *e = &p->v[at];

	if (found) {
		if (e->followed && step == 1) {
			e->step = 1;
			e->followed = false;
		}
		return 0;
	}
	if (p->n == MU_SCOPE_MAX)
		return MU_EFULL;
	memmove(e + 1, e, (p->n - at) * sizeof(*e));
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, 32);
	if (via != NULL)
		memcpy(e->via, via, 32);
	e->step = step;
	e->followed = followed;
	p->n++;
	return 0;
}

const struct mu_scope_path *
mu_scope_path_of(const struct mu_scope_paths *p, const uint8_t key[32])
{
	bool found;
	size_t at = mu_key_position(p->v, p->n, sizeof(p->v[0]), key, &found);

	return found ? &p->v[at] : NULL;
}
