#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int
mu_buf_reserve(struct mu_buf *b, size_t n)
{
	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX - b->len)
		return MU_ENOMEM;
	return mu_buf_grow_array(&b->data, &b->cap, b->len + n, 1, 256);
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

int
mu_buf_grow_array(void *arrayp, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t new_cap;
	void *v, *nv;

	if (n <= *cap)
		return 0;
	new_cap = *cap != 0 ? *cap : first != 0 ? first : 1;
	while (new_cap < n) {
		if (new_cap > SIZE_MAX / 2)
			return MU_ENOMEM;
		new_cap *= 2;
	}
	if (new_cap > SIZE_MAX / size)
		return MU_ENOMEM;
	/* arrayp points to a pointer of the caller's type, not to a void *:
	 * memcpy reads and writes it without an aliasing cast. */
	memcpy(&v, arrayp, sizeof(v));
	if ((nv = realloc(v, new_cap * size)) == NULL)
		return MU_ENOMEM;
	memcpy(arrayp, &nv, sizeof(nv));
	*cap = new_cap;
	return 0;
}
