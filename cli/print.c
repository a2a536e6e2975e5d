/*
 * print.c - records as text for people: the lists and `show`.
 *
 * Record strings are valid UTF-8 without control characters other than tab
 * and line feed (the protocol's rules), so they can go to a terminal as they
 * are; multi-line text is indented under its label.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "when.h"

/* Copies a record's zone name into a C string; NULL when absent. */
static const char *
zone_of(const struct mu_event *ev, char zone[MU_CLI_ZONE_SIZE])
{
	size_t len =
	    ev->tz.len < MU_CLI_ZONE_SIZE - 1 ? ev->tz.len : MU_CLI_ZONE_SIZE - 1;

	if (ev->tz.len == 0)
		return NULL;
	memcpy(zone, ev->tz.ptr, len);
	zone[len] = '\0';
	return zone;
}

void
mu_cli_event_when(char out[MU_CLI_WHEN_TEXT_SIZE], const struct mu_event *ev)
{
	char zone_buf[MU_CLI_ZONE_SIZE], a[48], b[48], da[16], db[16], za[16], zb[16];
	const char *zone = zone_of(ev, zone_buf);

	if (ev->all_day) {
		/* All-day dates are UTC midnights; the end is exclusive. */
		mu_cli_when_format(a, sizeof(a), ev->start, NULL, "%a %Y-%m-%d");
		if (ev->has_end && ev->end - ev->start > 86400) {
			mu_cli_when_format(b, sizeof(b), ev->end - 86400, NULL,
			                   "%a %Y-%m-%d");
			snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s - %s (all day)", a, b);
		} else {
			snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s (all day)", a);
		}
		return;
	}
	mu_cli_when_format(a, sizeof(a), ev->start, zone, "%a %Y-%m-%d %H:%M");
	mu_cli_when_format(za, sizeof(za), ev->start, zone, "%Z");
	if (!ev->has_end) {
		snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s %s", a, za);
		return;
	}
	mu_cli_when_format(da, sizeof(da), ev->start, zone, "%Y-%m-%d");
	mu_cli_when_format(db, sizeof(db), ev->end, zone, "%Y-%m-%d");
	mu_cli_when_format(zb, sizeof(zb), ev->end, zone, "%Z");
	if (strcmp(da, db) == 0) {
		mu_cli_when_format(b, sizeof(b), ev->end, zone, "%H:%M");
		if (strcmp(za, zb) == 0)
			snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s-%s %s", a, b, za);
		else
			snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s %s - %s %s", a, za, b,
			         zb);
	} else {
		mu_cli_when_format(b, sizeof(b), ev->end, zone, "%a %Y-%m-%d %H:%M");
		snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s %s - %s %s", a, za, b, zb);
	}
}

void
mu_cli_print_event(FILE *f, const struct mu_record *rec, const char *host_name)
{
	const struct mu_event *ev = &rec->c.event;
	const struct mu_location *loc = &ev->location;
	char when[MU_CLI_WHEN_TEXT_SIZE], addr_text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;

	mu_cli_event_when(when, ev);
	mu_rec_addr(rec, &addr);
	mu_addr_to_text(addr_text, &addr);
	fprintf(f, "%s%s  %.*s%s\n",
	        ev->status == MU_EVENT_CANCELLED ? "CANCELLED  " : "", when,
	        (int)ev->title.len, ev->title.ptr,
	        ev->status == MU_EVENT_TENTATIVE ? "  (tentative)" : "");
	fprintf(f, "    by %s", host_name);
	if (loc->set && loc->name.len > 0)
		fprintf(f, " · %.*s", (int)loc->name.len, loc->name.ptr);
	if (loc->set && loc->address.len > 0)
		fprintf(f, "%s%.*s", loc->name.len > 0 ? ", " : " · ",
		        (int)loc->address.len, loc->address.ptr);
	if (ev->nonline > 0)
		fprintf(f, " · online: %.*s", (int)ev->online[0].len,
		        ev->online[0].ptr);
	fprintf(f, "\n    %s\n", addr_text);
}

void
mu_cli_print_cause(FILE *f, const struct mu_record *rec, const char *group_name)
{
	const struct mu_cause *c = &rec->c.cause;
	char addr_text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;
	size_t i;

	mu_rec_addr(rec, &addr);
	mu_addr_to_text(addr_text, &addr);
	fprintf(f, "%.*s  [%s]\n    by %s", (int)c->title.len, c->title.ptr,
	        mu_cause_status_name(c->status), group_name);
	for (i = 0; i < c->ntags; i++)
		fprintf(f, "%s#%.*s", i == 0 ? " · " : " ", (int)c->tags[i].len,
		        c->tags[i].ptr);
	fprintf(f, "\n");
	if (c->summary.len > 0)
		fprintf(f, "    %.*s\n", (int)c->summary.len, c->summary.ptr);
	fprintf(f, "    %s\n", addr_text);
}

void
mu_cli_print_indented(FILE *f, const char *first, const char *indent, struct mu_str s)
{
	size_t i;

	fputs(first, f);
	for (i = 0; i < s.len; i++) {
		fputc(s.ptr[i], f);
		if (s.ptr[i] == '\n')
			fputs(indent, f);
	}
	fputc('\n', f);
}

/* ---- show -------------------------------------------------------------- */

#define LABEL "%-12s "

/* One field; lines after the first are indented under the value. */
static void
field(FILE *f, const char *label, const char *s, size_t len)
{
	struct mu_str v = {s, len};
	char first[32];

	snprintf(first, sizeof(first), LABEL, label);
	mu_cli_print_indented(f, first, "             ", v);
}

static void
field_str(FILE *f, const char *label, struct mu_str s)
{
	if (s.len > 0)
		field(f, label, s.ptr, s.len);
}

static void
field_key(FILE *f, const char *label, const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	fprintf(f, LABEL "%s\n", label, text);
}

static void
field_addr(FILE *f, const char *label, const struct mu_addr *addr)
{
	char text[MU_ADDR_TEXT_SIZE];

	mu_addr_to_text(text, addr);
	fprintf(f, LABEL "%s\n", label, text);
}

static void
field_time(FILE *f, const char *label, int64_t t, const char *zone)
{
	char iso[MU_CLI_ISO_SIZE], local[64];

	mu_cli_when_iso(iso, t);
	if (zone == NULL) {
		fprintf(f, LABEL "%s\n", label, iso);
		return;
	}
	mu_cli_when_format(local, sizeof(local), t, zone, "%a %Y-%m-%d %H:%M %Z");
	fprintf(f, LABEL "%s (%s)\n", label, iso, local);
}

static void
field_list(FILE *f, const char *label, const struct mu_str *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	fprintf(f, LABEL, label);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.*s", i > 0 ? ", " : "", (int)v[i].len, v[i].ptr);
	fputc('\n', f);
}

static void
show_event(FILE *f, const struct mu_event *ev)
{
	char zone_buf[MU_CLI_ZONE_SIZE], when[MU_CLI_WHEN_TEXT_SIZE];
	const char *zone = zone_of(ev, zone_buf);
	size_t i;

	field_str(f, "title:", ev->title);
	fprintf(f, LABEL "%s\n", "status:", mu_event_status_name(ev->status));
	mu_cli_event_when(when, ev);
	fprintf(f, LABEL "%s\n", "when:", when);
	field_time(f, "start:", ev->start, ev->all_day ? NULL : zone);
	if (ev->has_end)
		field_time(f, "end:", ev->end, ev->all_day ? NULL : zone);
	field_str(f, "tz:", ev->tz);
	if (ev->all_day)
		fprintf(f, LABEL "true\n", "all_day:");
	if (ev->location.set) {
		field_str(f, "where:", ev->location.name);
		field_str(f, "address:", ev->location.address);
		if (ev->location.has_geo)
			fprintf(f, LABEL "%.7f,%.7f\n",
			        "geo:", (double)ev->location.lat / MU_GEO_SCALE,
			        (double)ev->location.lon / MU_GEO_SCALE);
	}
	for (i = 0; i < ev->nonline; i++)
		field_str(f, "online:", ev->online[i]);
	if (ev->has_cause)
		field_addr(f, "cause:", &ev->cause);
	if (ev->has_capacity)
		fprintf(f, LABEL "%u\n", "capacity:", (unsigned)ev->capacity);
	field_list(f, "tags:", ev->tags, ev->ntags);
	for (i = 0; i < ev->nhosts; i++)
		field_key(f, "host:", ev->hosts[i]);
	field_str(f, "description:", ev->description);
}

static void
show_content(FILE *f, const struct mu_record *rec)
{
	char id[MU_ID_TEXT_SIZE];
	size_t i;

	switch (rec->kind) {
	case MU_KIND_PROFILE:
		field_str(f, "name:", rec->c.profile.name);
		field_str(f, "about:", rec->c.profile.about);
		field_str(f, "website:", rec->c.profile.website);
		field_str(f, "contact:", rec->c.profile.contact);
		field_str(f, "location:", rec->c.profile.location);
		break;
	case MU_KIND_CAUSE:
		field_str(f, "title:", rec->c.cause.title);
		fprintf(f, LABEL "%s\n",
		        "status:", mu_cause_status_name(rec->c.cause.status));
		field_str(f, "summary:", rec->c.cause.summary);
		field_list(f, "tags:", rec->c.cause.tags, rec->c.cause.ntags);
		field_str(f, "url:", rec->c.cause.url);
		field_str(f, "description:", rec->c.cause.description);
		break;
	case MU_KIND_EVENT:
		show_event(f, &rec->c.event);
		break;
	case MU_KIND_ALLIANCE:
		field_key(f, "with:", rec->c.alliance.with);
		fprintf(f, LABEL "%s\n",
		        "status:", mu_alliance_status_name(rec->c.alliance.status));
		for (i = 0; i < rec->c.alliance.ncauses; i++)
			field_addr(f, "cause:", &rec->c.alliance.causes[i]);
		field_str(f, "terms:", rec->c.alliance.terms);
		break;
	case MU_KIND_DELETE:
		if (rec->c.del.by_addr) {
			field_addr(f, "deletes:", &rec->c.del.addr);
		} else {
			mu_id_to_text(id, rec->c.del.id);
			fprintf(f, LABEL "%s\n", "deletes:", id);
		}
		field_str(f, "reason:", rec->c.del.reason);
		break;
	case MU_KIND_NODE:
		field_list(f, "addrs:", rec->c.node.addrs, rec->c.node.naddrs);
		break;
	default:
		break;
	}
}

void
mu_cli_print_record(FILE *f, const struct mu_record *rec)
{
	char id[MU_ID_TEXT_SIZE], iso[MU_CLI_ISO_SIZE];
	struct mu_addr addr;

	mu_id_to_text(id, rec->id);
	fprintf(f, LABEL "%s\n", "id:", id);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		field_addr(f, "address:", &addr);
	}
	fprintf(f, LABEL "%s\n", "kind:", mu_kind_name(rec->kind));
	field_key(f, "group:", rec->group);
	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) != 0)
		field_key(f, "signer:", rec->signer);
	mu_cli_when_iso(iso, rec->created_at);
	fprintf(f, LABEL "%s\n", "created_at:", iso);
	if (mu_kind_replaceable(rec->kind))
		fprintf(f, LABEL "%u\n", "rev:", (unsigned)rec->rev);
	show_content(f, rec);
}
