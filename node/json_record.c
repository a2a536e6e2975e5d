/*
 * json_record.c - records as JSON objects (json_record.h).
 */
#include "json_record.h"

#include <stdio.h>

#include "../protocol/civil.h"
#include "../protocol/textform.h"

/* Adds v under key; remembers any failure (including v == NULL) in *ok. */
static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*ok = false;
}

static void
put_str(json_t *o, const char *key, struct mu_str s, bool *ok)
{
	if (s.len > 0)
		put(o, key, json_stringn(s.ptr, s.len), ok);
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

static void
put_strs(json_t *o, const char *key, const struct mu_str *v, size_t n, bool *ok)
{
	json_t *a;
	size_t i;

	if (n == 0)
		return;
	a = json_array();
	if (a == NULL) {
		*ok = false;
		return;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, json_stringn(v[i].ptr, v[i].len)) != 0)
			*ok = false;
	}
	put(o, key, a, ok);
}

static void
profile_json(json_t *c, const struct mu_profile *p, bool *ok)
{
	put_str(c, "about", p->about, ok);
	put_str(c, "contact", p->contact, ok);
	put_str(c, "location", p->location, ok);
	put_str(c, "name", p->name, ok);
	put_str(c, "website", p->website, ok);
}

static void
cause_json(json_t *c, const struct mu_cause *p, bool *ok)
{
	put_str(c, "description", p->description, ok);
	put(c, "status", json_string(mu_cause_status_name(p->status)), ok);
	put_str(c, "summary", p->summary, ok);
	put_strs(c, "tags", p->tags, p->ntags, ok);
	put_str(c, "title", p->title, ok);
	put_str(c, "url", p->url, ok);
}

static json_t *
location_json(const struct mu_location *l, bool *ok)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put_str(o, "address", l->address, ok);
	if (l->has_geo) {
		put(o, "lat", json_real((double)l->lat / MU_GEO_SCALE), ok);
		put(o, "lon", json_real((double)l->lon / MU_GEO_SCALE), ok);
	}
	put_str(o, "name", l->name, ok);
	return o;
}

static void
event_json(json_t *c, const struct mu_event *e, bool *ok)
{
	json_t *hosts;
	size_t i;

	if (e->all_day)
		put(c, "all_day", json_true(), ok);
	if (e->has_capacity)
		put(c, "capacity", json_integer(e->capacity), ok);
	if (e->has_cause)
		put(c, "cause", mu_node_json_addr(&e->cause), ok);
	put_str(c, "description", e->description, ok);
	if (e->has_end)
		put(c, "end", mu_node_json_time(e->end), ok);
	if (e->nhosts > 0) {
		hosts = json_array();
		for (i = 0; hosts != NULL && i < e->nhosts; i++) {
			if (json_array_append_new(hosts,
			                          mu_node_json_key(e->hosts[i])) != 0)
				*ok = false;
		}
		put(c, "hosts", hosts, ok);
	}
	if (e->location.set)
		put(c, "location", location_json(&e->location, ok), ok);
	put_strs(c, "online", e->online, e->nonline, ok);
	put(c, "start", mu_node_json_time(e->start), ok);
	put(c, "status", json_string(mu_event_status_name(e->status)), ok);
	put_strs(c, "tags", e->tags, e->ntags, ok);
	put_str(c, "title", e->title, ok);
	put_str(c, "tz", e->tz, ok);
}

static void
alliance_json(json_t *c, const struct mu_alliance *a, bool *ok)
{
	json_t *causes;
	size_t i;

	if (a->ncauses > 0) {
		causes = json_array();
		for (i = 0; causes != NULL && i < a->ncauses; i++) {
			if (json_array_append_new(
			        causes, mu_node_json_addr(&a->causes[i])) != 0)
				*ok = false;
		}
		put(c, "causes", causes, ok);
	}
	put(c, "status", json_string(mu_alliance_status_name(a->status)), ok);
	put_str(c, "terms", a->terms, ok);
	put(c, "with", mu_node_json_key(a->with), ok);
}

static void
delete_json(json_t *c, const struct mu_delete *d, bool *ok)
{
	if (d->by_addr)
		put(c, "addr", mu_node_json_addr(&d->addr), ok);
	else
		put(c, "id", hex_json(d->id, MU_ID_BYTES), ok);
	put_str(c, "reason", d->reason, ok);
}

json_t *
mu_node_json_record(const struct mu_record *rec)
{
	json_t *o = json_object(), *c = json_object();
	struct mu_addr addr;
	bool ok = o != NULL && c != NULL;

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
	switch (rec->kind) {
	case MU_KIND_PROFILE:
		profile_json(c, &rec->c.profile, &ok);
		break;
	case MU_KIND_CAUSE:
		cause_json(c, &rec->c.cause, &ok);
		break;
	case MU_KIND_EVENT:
		event_json(c, &rec->c.event, &ok);
		break;
	case MU_KIND_ALLIANCE:
		alliance_json(c, &rec->c.alliance, &ok);
		break;
	case MU_KIND_DELETE:
		delete_json(c, &rec->c.del, &ok);
		break;
	case MU_KIND_NODE:
		put_strs(c, "addrs", rec->c.node.addrs, rec->c.node.naddrs, &ok);
		break;
	default:
		ok = false;
		break;
	}
	put(o, "content", c, &ok);
	c = NULL;
	if (ok)
		return o;
fail:
	json_decref(c);
	json_decref(o);
	return NULL;
}
