/*
 * record_move.c - mu_rec_move(): a parsed record made to borrow a copy of
 * its bytes, walking the field tables (record_fields.h) for every string.
 */
#include <stdint.h>

#include "record.h"
#include "kind.h"

/* Where the bytes moved: from [from, from + len) to to. */
struct move {
	uintptr_t from;
	size_t len;
	const uint8_t *to;
};

/* Pointers outside the old bytes (an absent string's NULL) stay as they are. */
static const void *
moved(const struct move *m, const void *p)
{
	uintptr_t v = (uintptr_t)p;

	if (v >= m->from && v - m->from <= m->len)
		return m->to + (v - m->from);
	return p;
}

static void
move_str(const struct move *m, struct mu_str *s)
{
	s->ptr = moved(m, s->ptr);
}

static void
move_map(const struct move *m, const struct mu_fields *t, uint8_t *base)
{
	const struct mu_field *f;
	size_t i, j, n;
	uint8_t *item;

	for (i = 0; i < t->n; i++) {
		f = &t->f[i];
		n = f->flags & MU_FF_LIST ? *(size_t *)(base + f->count_off) : 1;
		for (j = 0; j < n; j++) {
			item = base + f->off + j * mu_field_stride(f);
			if (mu_ftype_is_str(f->type))
				move_str(m, (struct mu_str *)item);
			switch (f->type) {
			case MU_FT_ADDR:
				move_str(m, &((struct mu_addr *)item)->d);
				break;
			case MU_FT_MAP:
				move_map(m, f->sub, item);
				break;
			case MU_FT_IDLIST:
				((struct mu_idlist *)item)->ids =
				    moved(m, ((struct mu_idlist *)item)->ids);
				break;
			default:
				break;
			}
		}
	}
}

void
mu_rec_move(struct mu_record *rec, const uint8_t *raw)
{
	struct move m = {(uintptr_t)rec->raw, rec->raw_len, raw};
	const struct mu_fields *t = mu_rec_fields(rec->kind);

	rec->body = raw + (rec->body - rec->raw);
	rec->sig = raw + (rec->sig - rec->raw);
	move_str(&m, &rec->d);
	if (t != NULL)
		move_map(&m, t, (uint8_t *)&rec->c);
	rec->raw = raw;
}
