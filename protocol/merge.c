/*
 * merge.c - the merge rule of docs/PROTOCOL.md, section 5.2: field by field
 * over the kind's table, a map (event.location) as one field.
 */
#include "merge.h"

#include <string.h>

#include "kind.h"

static bool
str_eq(const struct mu_str *a, const struct mu_str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static bool map_eq(const struct mu_fields *t, const uint8_t *a, const uint8_t *b);

static bool
item_eq(const struct mu_field *f, const uint8_t *a, const uint8_t *b)
{
	const struct mu_addr *x, *y;
	const struct mu_idlist *l, *k;
	size_t i;

	if (mu_ftype_is_str(f->type))
		return str_eq((const struct mu_str *)a, (const struct mu_str *)b);
	switch (f->type) {
	case MU_FT_ENUM:
		return *(const int *)a == *(const int *)b;
	case MU_FT_INT:
		return mu_field_int(f, a) == mu_field_int(f, b);
	case MU_FT_TRUE:
		return *(const bool *)a == *(const bool *)b;
	case MU_FT_KEY:
		return memcmp(a, b, MU_KEY_BYTES) == 0;
	case MU_FT_ADDR:
		x = (const struct mu_addr *)a;
		y = (const struct mu_addr *)b;
		return x->kind == y->kind &&
		       memcmp(x->group, y->group, MU_KEY_BYTES) == 0 &&
		       str_eq(&x->d, &y->d);
	case MU_FT_MAP:
		return map_eq(f->sub, a, b);
	case MU_FT_IDLIST:
		l = (const struct mu_idlist *)a;
		k = (const struct mu_idlist *)b;
		if (l->n != k->n)
			return false;
		for (i = 0; i < l->n; i++)
			if (memcmp(mu_idlist_at(l, i), mu_idlist_at(k, i),
			           MU_ID_BYTES) != 0)
				return false;
		return true;
	default:
		return false;
	}
}

/* Whether field f holds the same value in the content structs a and b. */
static bool
field_eq(const struct mu_field *f, const uint8_t *a, const uint8_t *b)
{
	bool pa = mu_field_present(f, a), pb = mu_field_present(f, b);
	size_t n, i, stride;

	if (pa != pb)
		return false;
	if (!pa)
		return true;
	if (!(f->flags & MU_FF_LIST))
		return item_eq(f, a + f->off, b + f->off);
	n = *(const size_t *)(a + f->count_off);
	if (n != *(const size_t *)(b + f->count_off))
		return false;
	stride = mu_field_stride(f);
	for (i = 0; i < n; i++)
		if (!item_eq(f, a + f->off + i * stride, b + f->off + i * stride))
			return false;
	return true;
}

static bool
map_eq(const struct mu_fields *t, const uint8_t *a, const uint8_t *b)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!field_eq(&t->f[i], a, b))
			return false;
	return true;
}

static size_t
item_size(const struct mu_field *f)
{
	if (mu_ftype_is_str(f->type))
		return sizeof(struct mu_str);
	switch (f->type) {
	case MU_FT_ENUM:
		return sizeof(int);
	case MU_FT_INT:
		return f->store == MU_FI_INT64 ? sizeof(int64_t) : sizeof(int32_t);
	case MU_FT_TRUE:
		return sizeof(bool);
	case MU_FT_KEY:
		return MU_KEY_BYTES;
	case MU_FT_ADDR:
		return sizeof(struct mu_addr);
	case MU_FT_IDLIST:
		return sizeof(struct mu_idlist);
	default:
		return 0; /* MU_FT_MAP: copied field by field */
	}
}

static void
field_copy(const struct mu_field *f, uint8_t *dst, const uint8_t *src)
{
	size_t i;

	if (f->flag_off != MU_NO_OFF)
		*(bool *)(dst + f->flag_off) = *(const bool *)(src + f->flag_off);
	if (f->flags & MU_FF_LIST) {
		memcpy(dst + f->off, src + f->off, f->list_max * mu_field_stride(f));
		*(size_t *)(dst + f->count_off) = *(const size_t *)(src + f->count_off);
		return;
	}
	if (f->type == MU_FT_MAP) {
		for (i = 0; i < f->sub->n; i++)
			field_copy(&f->sub->f[i], dst + f->off, src + f->off);
		return;
	}
	memcpy(dst + f->off, src + f->off, item_size(f));
}

bool
mu_rec_same_content(const struct mu_record *a, const struct mu_record *b)
{
	const struct mu_fields *t = mu_rec_fields(a->kind);
	size_t i;

	if (t == NULL || a->kind != b->kind)
		return false;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->f[i].name, "replaces") != 0 &&
		    !field_eq(&t->f[i], (const uint8_t *)&a->c, (const uint8_t *)&b->c))
			return false;
	return true;
}

bool
mu_rec_conflicting(const struct mu_record *a, const struct mu_record *b)
{
	return a->kind == b->kind && mu_kind_replaceable(a->kind) && a->has_replaces &&
	       b->has_replaces && memcmp(a->replaces, b->replaces, MU_ID_BYTES) == 0 &&
	       memcmp(a->id, b->id, MU_ID_BYTES) != 0 &&
	       memcmp(a->group, b->group, MU_KEY_BYTES) == 0 && str_eq(&a->d, &b->d);
}

int
mu_rec_merge(const struct mu_record *base, const struct mu_record *a,
             const struct mu_record *b, struct mu_record *out, struct mu_merge *m)
{
	const struct mu_kind_def *def = mu_kind_def(a->kind);
	const struct mu_record *w, *l;
	const uint8_t *pb, *pw, *pl;
	const struct mu_field *f;
	struct mu_why why = {0};
	uint32_t rev;
	int64_t at;
	bool cw, cl;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (def == NULL || !mu_rec_conflicting(a, b) || base->kind != a->kind ||
	    memcmp(base->id, a->replaces, MU_ID_BYTES) != 0)
		return MU_EINVAL;
	w = mu_rec_newer(a, b) > 0 ? a : b;
	l = w == a ? b : a;
	rev = a->rev > b->rev ? a->rev : b->rev;
	at = a->created_at > b->created_at ? a->created_at : b->created_at;
	if (rev >= MU_REV_MAX || at >= MU_TIME_MAX)
		return MU_ERECORD;
	m->winner = w;
	m->loser = l;

	*out = *w;
	pb = (const uint8_t *)&base->c;
	pw = (const uint8_t *)&w->c;
	pl = (const uint8_t *)&l->c;
	for (i = 0; i < def->fields->n; i++) {
		f = &def->fields->f[i];
		if (strcmp(f->name, "replaces") == 0)
			continue;
		cw = !field_eq(f, pb, pw);
		cl = !field_eq(f, pb, pl);
		if (cw && cl)
			*(field_eq(f, pw, pl) ? &m->same : &m->both) |= 1u << i;
		else if (cw)
			m->from_winner |= 1u << i;
		else if (cl) {
			m->from_loser |= 1u << i;
			field_copy(f, (uint8_t *)&out->c, pl);
		}
	}
	/* Each field passed its own rules in its own record; what two sides
	 * changed apart may break one across fields (an end before a start). */
	if (m->from_loser != 0 && def->check != NULL && def->check(out, &why) != 0) {
		out->c = w->c;
		m->whole = true;
	}
	m->changed = m->from_loser != 0 && !m->whole;

	out->raw = NULL;
	out->raw_len = 0;
	out->body = NULL;
	out->body_len = 0;
	out->sig = NULL;
	memset(out->id, 0, MU_ID_BYTES);
	out->rev = (a->rev > b->rev ? a->rev : b->rev) + 1;
	out->created_at =
	    (a->created_at > b->created_at ? a->created_at : b->created_at) + 1;
	out->has_replaces = true;
	memcpy(out->replaces, w->id, MU_ID_BYTES);
	return 0;
}
