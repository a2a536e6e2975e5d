/*
 * json_out.c - records as JSON objects (json_out.h).
 *
 * Absent optional fields are left out, as they are on the wire.
 */
#include "json_out.h"

#include <stdlib.h>

#include "../protocol/textform.h"
#include "cli.h"
#include "when.h"

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

static json_t *
key_json(const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	return json_string(text);
}

static json_t *
addr_json(const struct mu_addr *addr)
{
	char text[MU_ADDR_TEXT_SIZE];

	mu_addr_to_text(text, addr);
	return json_string(text);
}

static json_t *
time_json(int64_t t)
{
	char iso[MU_CLI_ISO_SIZE];

	mu_cli_when_iso(iso, t);
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
		put(c, "cause", addr_json(&e->cause), ok);
	put_str(c, "description", e->description, ok);
	if (e->has_end)
		put(c, "end", time_json(e->end), ok);
	if (e->nhosts > 0) {
		hosts = json_array();
		for (i = 0; hosts != NULL && i < e->nhosts; i++) {
			if (json_array_append_new(hosts, key_json(e->hosts[i])) != 0)
				*ok = false;
		}
		put(c, "hosts", hosts, ok);
	}
	if (e->location.set)
		put(c, "location", location_json(&e->location, ok), ok);
	put_strs(c, "online", e->online, e->nonline, ok);
	put(c, "start", time_json(e->start), ok);
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
			if (json_array_append_new(causes, addr_json(&a->causes[i])) !=
			    0)
				*ok = false;
		}
		put(c, "causes", causes, ok);
	}
	put(c, "status", json_string(mu_alliance_status_name(a->status)), ok);
	put_str(c, "terms", a->terms, ok);
	put(c, "with", key_json(a->with), ok);
}

static void
delete_json(json_t *c, const struct mu_delete *d, bool *ok)
{
	if (d->by_addr)
		put(c, "addr", addr_json(&d->addr), ok);
	else
		put(c, "id", hex_json(d->id, MU_ID_BYTES), ok);
	put_str(c, "reason", d->reason, ok);
}

json_t *
mu_cli_json_record(const struct mu_record *rec)
{
	json_t *o = json_object(), *c = json_object();
	struct mu_addr addr;
	bool ok = o != NULL && c != NULL;

	if (!ok)
		goto fail;
	put(o, "id", hex_json(rec->id, MU_ID_BYTES), &ok);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		put(o, "address", addr_json(&addr), &ok);
	}
	put(o, "kind", json_string(mu_kind_name(rec->kind)), &ok);
	put(o, "group", key_json(rec->group), &ok);
	put(o, "signer", key_json(rec->signer), &ok);
	put(o, "created_at", time_json(rec->created_at), &ok);
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

int
mu_cli_json_print(FILE *f, json_t *v)
{
	char *text;
	int rc = 0;

	if (v == NULL)
		return MU_ENOMEM;
	/* Ten significant digits print lat/lon (7 decimals) exactly, where
	 * the default 17 would show the binary rounding: 52.520000000000003. */
	text = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(v);
	if (text == NULL)
		return MU_ENOMEM;
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
		rc = MU_EIO;
	free(text);
	return rc;
}

json_t *
mu_cli_json_recs(const struct mu_cli_recs *l)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < l->n; i++)
		mu_cli_json_push(&arr, mu_cli_json_record(&l->v[i].rec));
	return arr;
}

void
mu_cli_json_push(json_t **arr, json_t *o)
{
	if (*arr == NULL) {
		json_decref(o);
		return;
	}
	if (json_array_append_new(*arr, o) != 0) {
		json_decref(*arr);
		*arr = NULL;
	}
}

json_t *
mu_cli_json_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES])
{
	char name[MU_CLI_NAME_SIZE];

	return mu_cli_group_name(cli, key, name) ? json_string(name) : json_null();
}

int
mu_cli_json_out(json_t *v)
{
	if (mu_cli_json_print(stdout, v) != 0)
		return mu_cli_fail("cannot write the JSON output");
	return 0;
}
