/*
 * json_record.c - records as JSON objects (json_record.h).
 */
#include "json_record.h"

#include <stdio.h>

#include "../protocol/civil.h"
#include "../protocol/kind.h"
#include "../protocol/textform.h"

/* Adds v under key; remembers any failure (including v == NULL) in *ok. */
static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*ok = false;
}

void
mu_node_time_iso(char out[MU_NODE_ISO_SIZE], int64_t t)
{
	struct mu_civil c;

	mu_civil_from_time(&c, t);
	snprintf(out, MU_NODE_ISO_SIZE, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
	         (long long)c.y, c.mo, c.d, c.h, c.mi, c.s);
}

json_t *
mu_node_json_key(const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	return json_string(text);
}

json_t *
mu_node_json_addr(const struct mu_addr *addr)
{
	char text[MU_ADDR_TEXT_SIZE];

	mu_addr_to_text(text, addr);
	return json_string(text);
}

json_t *
mu_node_json_time(int64_t t)
{
	char iso[MU_NODE_ISO_SIZE];

	mu_node_time_iso(iso, t);
	return json_string(iso);
}

static json_t *
hex_json(const uint8_t *bytes, size_t n)
{
	char hex[2 * MU_ID_BYTES + 1];

	if (n > MU_ID_BYTES)
		return NULL;
	mu_id_to_text(hex, bytes);
	return json_string(hex);
}

static json_t *map_json(const struct mu_fields *t, const uint8_t *base, bool *ok);

static json_t *
idlist_json(const struct mu_idlist *l, bool *ok)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(
		        a, hex_json(mu_idlist_at(l, i), MU_ID_BYTES)) != 0)
			*ok = false;
	return a;
}

/* One value (or list item) of field f at p, as its view says. */
static json_t *
value_json(const struct mu_field *f, const uint8_t *p, bool *ok)
{
	const struct mu_str *s = (const struct mu_str *)p;
	int64_t v = 0;

	if (mu_ftype_is_str(f->type))
		return json_stringn(s->ptr, s->len);
	switch (f->type) {
	case MU_FT_ENUM:
		return json_string(f->names[*(const int *)p - 1]);
	case MU_FT_INT:
		v = mu_field_int(f, p);
		if (f->view == MU_FV_TIME)
			return mu_node_json_time(v);
		if (f->view == MU_FV_DEGREES)
			return json_real((double)v / MU_GEO_SCALE);
		return json_integer(v);
	case MU_FT_TRUE:
		return json_true();
	case MU_FT_KEY:
		return f->view == MU_FV_ID ? hex_json(p, MU_ID_BYTES)
		                           : mu_node_json_key(p);
	case MU_FT_ADDR:
		return mu_node_json_addr((const struct mu_addr *)p);
	case MU_FT_MAP:
		return map_json(f->sub, p, ok);
	case MU_FT_IDLIST:
		return idlist_json((const struct mu_idlist *)p, ok);
	default:
		return NULL;
	}
}

/* The present fields of table t over the struct at base, in wire order. */
static json_t *
map_json(const struct mu_fields *t, const uint8_t *base, bool *ok)
{
	const struct mu_field *f;
	json_t *o = json_object(), *a;
	size_t i, j, n;

	if (o == NULL)
		return NULL;
	for (i = 0; i < t->n; i++) {
		f = &t->f[i];
		if (!mu_field_present(f, base))
			continue;
		if (!(f->flags & MU_FF_LIST)) {
			put(o, f->name, value_json(f, base + f->off, ok), ok);
			continue;
		}
		n = *(const size_t *)(base + f->count_off);
		a = json_array();
		for (j = 0; a != NULL && j < n; j++) {
			if (json_array_append_new(
			        a, value_json(f, base + f->off + j * mu_field_stride(f),
			                      ok)) != 0)
				*ok = false;
		}
		put(o, f->name, a, ok);
	}
	return o;
}

json_t *
mu_node_json_record(const struct mu_record *rec)
{
	const struct mu_fields *t = mu_rec_fields(rec->kind);
	json_t *o = json_object(), *c = NULL;
	struct mu_addr addr;
	bool ok = o != NULL && t != NULL;

	if (!ok)
		goto fail;
	put(o, "id", hex_json(rec->id, MU_ID_BYTES), &ok);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		put(o, "address", mu_node_json_addr(&addr), &ok);
	}
	put(o, "kind", json_string(mu_kind_name(rec->kind)), &ok);
	put(o, "group", mu_node_json_key(rec->group), &ok);
	put(o, "signer", mu_node_json_key(rec->signer), &ok);
	put(o, "created_at", mu_node_json_time(rec->created_at), &ok);
	put(o, "d", json_stringn(rec->d.ptr != NULL ? rec->d.ptr : "", rec->d.len),
	    &ok);
	put(o, "rev", json_integer(rec->rev), &ok);
	if (ok)
		c = map_json(t, (const uint8_t *)&rec->c, &ok);
	put(o, "content", c, &ok);
	c = NULL;
	if (ok)
		return o;
fail:
	json_decref(c);
	json_decref(o);
	return NULL;
}
