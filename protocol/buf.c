#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int
mu_buf_reserve(struct mu_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return MU_ENOMEM;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return MU_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
mu_buf_append(struct mu_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	rc = mu_buf_reserve(b, n);
	if (rc != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
mu_buf_push(struct mu_buf *b, uint8_t byte)
{
	return mu_buf_append(b, &byte, 1);
}

void
mu_buf_free(struct mu_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void *
mu_buf_grow_array(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t new_cap;
	void *nv;

	if (n < *cap)
		return v;
	new_cap = *cap != 0 ? 2 * *cap : first;
	if (new_cap > SIZE_MAX / size)
		return NULL;
	nv = realloc(v, new_cap * size);
	if (nv != NULL)
		*cap = new_cap;
	return nv;
}
