/*
 * buf.h - a growable byte buffer for building messages, and the growth of
 * any array of fixed-size elements, which the buffer uses too.
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
 * Grows a malloc()ed array of *cap elements of size bytes each so that it
 * holds at least n: the capacity starts at first (when *cap is 0) and
 * doubles until it does. arrayp is the address of the caller's pointer to
 * the array (NULL when it has none yet), as in mu_buf_grow_array(&l->v,
 * &l->cap, l->n + 1, sizeof(*l->v), 16).
 *
 * Returns 0, the pointer and *cap updated (the array may have moved;
 * elements past the old capacity are uninitialised), or MU_ENOMEM when
 * memory or size_t runs out, both left as they were. Either way the array
 * stays the caller's to free().
 */
int mu_buf_grow_array(void *arrayp, size_t *cap, size_t n, size_t size, size_t first);

#endif
