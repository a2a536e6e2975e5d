#include "scope.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

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
