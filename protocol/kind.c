/*
 * Kinds and fields looked up in the kind table (kind.h), status names,
 * addresses and the replacement order (docs/PROTOCOL.md, sections 3 and 5).
 */
#include "kind.h"
#include "record.h"

#include <stdio.h>
#include <string.h>

const char *
mu_kind_name(enum mu_kind kind)
{
	const struct mu_kind_def *def = mu_kind_def(kind);

	return def != NULL ? def->name : NULL;
}

enum mu_kind
mu_kind_from_name(const char *name, size_t len)
{
	const struct mu_kind_def *def;
	int k;

	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		def = mu_kind_def((enum mu_kind)k);
		if (strlen(def->name) == len && memcmp(def->name, name, len) == 0)
			return (enum mu_kind)k;
	}
	return MU_KIND_NONE;
}

const char *
mu_kind_list(char *out, size_t n, bool replaceable, const char *last_sep)
{
	const char *names[MU_KIND_COUNT];
	size_t k = 0, i, used = 0;
	int w;

	for (i = MU_KIND_NONE + 1; i < MU_KIND_COUNT; i++)
		if (!replaceable || mu_kind_replaceable((enum mu_kind)i))
			names[k++] = mu_kind_name((enum mu_kind)i);
	out[0] = '\0';
	for (i = 0; i < k && used < n; i++) {
		w = snprintf(out + used, n - used, "%s%s",
		             i == 0       ? ""
		             : i + 1 == k ? last_sep
		                          : ", ",
		             names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return out;
}

bool
mu_kind_replaceable(enum mu_kind kind)
{
	const struct mu_kind_def *def = mu_kind_def(kind);

	return def != NULL && def->replaceable;
}

const struct mu_fields *
mu_rec_fields(enum mu_kind kind)
{
	const struct mu_kind_def *def = mu_kind_def(kind);

	return def != NULL ? def->fields : NULL;
}

const uint8_t *
mu_kind_d_key(const struct mu_record *rec)
{
	const struct mu_kind_def *def = mu_kind_def(rec->kind);
	const struct mu_field *f;
	const void *owner;

	if (def == NULL || def->d_rule != MU_D_KEY)
		return NULL;
	f = mu_field_at(def->fields, &rec->c, def->d_key, &owner);
	return f != NULL ? (const uint8_t *)owner + f->off : NULL;
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

const char *
mu_organizer_status_name(enum mu_organizer_status s)
{
	return status_name(MU_KIND_ORGANIZER, (int)s);
}

const char *
mu_petition_status_name(enum mu_petition_status s)
{
	return status_name(MU_KIND_PETITION, (int)s);
}

const char *
mu_pledge_unit_name(enum mu_pledge_unit u)
{
	return status_name(MU_KIND_PLEDGE, (int)u);
}

const uint8_t *
mu_idlist_at(const struct mu_idlist *l, size_t i)
{
	return l->ids + i * l->stride;
}

bool
mu_idlist_has(const struct mu_idlist *l, const uint8_t id[MU_ID_BYTES])
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (memcmp(mu_idlist_at(l, i), id, MU_ID_BYTES) == 0)
			return true;
	return false;
}

bool
mu_organizer_allows(const struct mu_record *o, enum mu_kind kind)
{
	const struct mu_organizer *org = &o->c.organizer;
	const char *name = mu_kind_name(kind);
	size_t i;

	if (o->kind != MU_KIND_ORGANIZER || org->status != MU_ORGANIZER_ACTIVE ||
	    name == NULL)
		return false;
	if (org->nkinds == 0)
		return kind != MU_KIND_ORGANIZER;
	for (i = 0; i < org->nkinds; i++)
		if (org->kinds[i].len == strlen(name) &&
		    memcmp(org->kinds[i].ptr, name, org->kinds[i].len) == 0)
			return true;
	return false;
}

bool
mu_organizer_accepts(const struct mu_record *o, const struct mu_record *rec)
{
	if (o->kind != MU_KIND_ORGANIZER)
		return false;
	if (o->c.organizer.status == MU_ORGANIZER_REVOKED)
		return mu_idlist_has(&o->c.organizer.keep, rec->id);
	return mu_organizer_allows(o, rec->kind);
}

bool
mu_ftype_is_str(enum mu_ftype type)
{
	return type == MU_FT_LINE || type == MU_FT_TEXT || type == MU_FT_URL ||
	       type == MU_FT_TZ || type == MU_FT_HOSTPORT;
}

const struct mu_field *
mu_field_at(const struct mu_fields *t, const void *base, const char *path,
            const void **owner)
{
	const char *dot = strchr(path, '.');
	size_t len = dot != NULL ? (size_t)(dot - path) : strlen(path), i;
	const struct mu_field *f;

	for (i = 0; i < t->n; i++) {
		f = &t->f[i];
		if (strlen(f->name) != len || memcmp(f->name, path, len) != 0)
			continue;
		if (dot == NULL) {
			*owner = base;
			return f;
		}
		if (f->type != MU_FT_MAP || (f->flags & MU_FF_LIST) ||
		    !mu_field_present(f, base))
			return NULL;
		return mu_field_at(f->sub, (const uint8_t *)base + f->off, dot + 1,
		                   owner);
	}
	return NULL;
}

int64_t
mu_field_int(const struct mu_field *f, const void *p)
{
	switch (f->store) {
	case MU_FI_INT32:
		return *(const int32_t *)p;
	case MU_FI_UINT32:
		return *(const uint32_t *)p;
	default:
		return *(const int64_t *)p;
	}
}

size_t
mu_field_stride(const struct mu_field *f)
{
	switch (f->type) {
	case MU_FT_KEY:
		return MU_KEY_BYTES;
	case MU_FT_ADDR:
		return sizeof(struct mu_addr);
	case MU_FT_INT:
		return f->store == MU_FI_INT64 ? sizeof(int64_t) : sizeof(int32_t);
	default:
		return sizeof(struct mu_str);
	}
}

bool
mu_field_present(const struct mu_field *f, const void *base)
{
	const uint8_t *b = base;
	bool flag;

	if (f->flags & MU_FF_LIST)
		return *(const size_t *)(b + f->count_off) != 0;
	if (f->flag_off != MU_NO_OFF) {
		flag = *(const bool *)(b + f->flag_off);
		return (f->flags & MU_FF_NEG) ? !flag : flag;
	}
	if (mu_ftype_is_str(f->type))
		return ((const struct mu_str *)(b + f->off))->len != 0;
	switch (f->type) {
	case MU_FT_ENUM:
		return *(const int *)(b + f->off) != 0;
	case MU_FT_IDLIST:
		return ((const struct mu_idlist *)(b + f->off))->n != 0;
	case MU_FT_TRUE:
		return *(const bool *)(b + f->off);
	default:
		return true;
	}
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
	enum mu_organizer_status sa, sb;
	int c;

	/* Revocation is final: no active version, whatever its rev, undoes it. */
	if (a->kind == MU_KIND_ORGANIZER && b->kind == MU_KIND_ORGANIZER) {
		sa = a->c.organizer.status;
		sb = b->c.organizer.status;
		if (sa != sb)
			return sa == MU_ORGANIZER_REVOKED ? 1 : -1;
	}
	if (a->rev != b->rev)
		return a->rev > b->rev ? 1 : -1;
	if (a->created_at != b->created_at)
		return a->created_at > b->created_at ? 1 : -1;
	/* The lower id wins. */
	c = memcmp(a->id, b->id, MU_ID_BYTES);
	return c < 0 ? 1 : c > 0 ? -1 : 0;
}
