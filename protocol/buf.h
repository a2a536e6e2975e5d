/*
 * buf.h - a growable byte buffer for building messages.
 *
 * Ownership: the buffer owns data (malloc()ed); mu_buf_free() releases it
 * and leaves an empty buffer that can be used again. A failed append leaves
 * the contents as they were.
 */
#ifndef MU_BUF_H
#define MU_BUF_H

#include <stddef.h>
#include <stdint.h>

struct mu_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define MU_BUF_INIT                                                                    \
	{                                                                              \
		NULL, 0, 0                                                             \
	}

/* Makes room for n more bytes. 0 or MU_ENOMEM. */
int mu_buf_reserve(struct mu_buf *b, size_t n);

/* Appends n bytes. 0 or MU_ENOMEM. */
int mu_buf_append(struct mu_buf *b, const void *p, size_t n);

/* Appends one byte. 0 or MU_ENOMEM. */
int mu_buf_push(struct mu_buf *b, uint8_t byte);

void mu_buf_free(struct mu_buf *b);

/*
 * Makes room for element n of a growable array v of *cap elements of size
 * bytes, doubling it (first: the first capacity). Returns the array, moved
 * or not, or NULL when out of memory (v is then still the caller's).
 */
void *mu_buf_grow_array(void *v, size_t n, size_t *cap, size_t size, size_t first);

#endif
