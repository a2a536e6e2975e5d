/*
 * print.c - records as text for people: the lists and `show`.
 *
 * Record strings are valid UTF-8 without control characters other than tab
 * and line feed (the protocol's rules), so they can go to a terminal as they
 * are; multi-line text is indented under its label.
 */
#include <stdlib.h>
#include <string.h>

#include "../protocol/kind.h"
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

/* The event's own times in its zone, for a list shown in another:
 * "18:00-20:00 Europe/London", with a weekday where the date differs from
 * the one shown before it. */
static void
own_times(char *out, size_t size, const struct mu_event *ev, const char *own,
          const char *view)
{
	char a[16], b[16];

	mu_cli_when_format(a, sizeof(a), ev->start, own,
	                   mu_cli_when_day(ev->start, own) ==
	                           mu_cli_when_day(ev->start, view)
	                       ? "%H:%M"
	                       : "%a %H:%M");
	if (!ev->has_end) {
		snprintf(out, size, "%s %s", a, own);
		return;
	}
	mu_cli_when_format(b, sizeof(b), ev->end, own,
	                   mu_cli_when_day(ev->start, own) ==
	                           mu_cli_when_day(ev->end, own)
	                       ? "%H:%M"
	                       : "%a %H:%M");
	snprintf(out, size, "%s-%s %s", a, b, own);
}

/* Whether the event's times read the same on the clocks of both zones
 * (Europe/Paris and Europe/Berlin): then its own zone adds nothing. */
static bool
same_clock(const struct mu_event *ev, const char *own, const char *view)
{
	char a[24], b[24];
	int i;

	if (view != NULL && strcmp(own, view) == 0)
		return true;
	for (i = 0; i < (ev->has_end ? 2 : 1); i++) {
		mu_cli_when_format(a, sizeof(a), i == 0 ? ev->start : ev->end, own,
		                   "%Y-%m-%d %H:%M");
		mu_cli_when_format(b, sizeof(b), i == 0 ? ev->start : ev->end, view,
		                   "%Y-%m-%d %H:%M");
		if (strcmp(a, b) != 0)
			return false;
	}
	return true;
}

void
mu_cli_event_when_in(char out[MU_CLI_WHEN_TEXT_SIZE], const struct mu_event *ev,
                     const char *view)
{
	char zone_buf[MU_CLI_ZONE_SIZE], a[48], b[48], note[112];
	const char *own = zone_of(ev, zone_buf);

	if (ev->all_day) {
		mu_cli_event_when(out, ev);
		return;
	}
	mu_cli_when_format(a, sizeof(a), ev->start, view, "%a %Y-%m-%d %H:%M");
	b[0] = '\0';
	if (ev->has_end)
		mu_cli_when_format(b, sizeof(b), ev->end, view,
		                   mu_cli_when_day(ev->start, view) ==
		                           mu_cli_when_day(ev->end, view)
		                       ? "-%H:%M"
		                       : " - %a %Y-%m-%d %H:%M");
	note[0] = '\0';
	if (own != NULL && !same_clock(ev, own, view)) {
		own_times(note + 2, sizeof(note) - 3, ev, own, view);
		note[0] = ' ';
		note[1] = '(';
		strcat(note, ")");
	}
	snprintf(out, MU_CLI_WHEN_TEXT_SIZE, "%s%s%s", a, b, note);
}

void
mu_cli_print_event(FILE *f, const struct mu_record *rec, const char *host_name,
                   const char *zone)
{
	const struct mu_event *ev = &rec->c.event;
	const struct mu_location *loc = &ev->location;
	char when[MU_CLI_WHEN_TEXT_SIZE], addr_text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;

	mu_cli_event_when_in(when, ev, zone);
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
mu_cli_print_cause(FILE *f, const struct mu_record *rec, const char *group_name,
                   const char *zone)
{
	const struct mu_cause *c = &rec->c.cause;
	char addr_text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;
	size_t i;

	(void)zone; /* a cause has no time to show */
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

/* A group's key, and its name when its profile is stored here. */
static void
field_key(FILE *f, const struct mu_cli_names *names, const char *label,
          const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE], name[MU_CLI_NAME_SIZE];

	mu_key_to_text(text, key);
	if (names != NULL && names->group(names->ctx, key, name))
		fprintf(f, LABEL "%s (%s)\n", label, text, name);
	else
		fprintf(f, LABEL "%s\n", label, text);
}

static void
field_addr(FILE *f, const struct mu_cli_names *names, const char *label,
           const struct mu_addr *addr)
{
	char text[MU_ADDR_TEXT_SIZE], name[2 * MU_CLI_NAME_SIZE];

	mu_addr_to_text(text, addr);
	if (names != NULL && names->addr(names->ctx, addr, name, sizeof(name)))
		fprintf(f, LABEL "%s (%s)\n", label, text, name);
	else
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

/* The time t of content at base, also in its tz unless all_day. */
static void
field_local(FILE *f, const char *label, int64_t t, const struct mu_fields *fields,
            const void *base)
{
	char zone[MU_CLI_ZONE_SIZE];
	const struct mu_field *tz, *all_day;
	const struct mu_str *z;
	const void *owner;
	size_t len;

	tz = mu_field_at(fields, base, "tz", &owner);
	all_day = mu_field_at(fields, base, "all_day", &owner);
	if (tz == NULL || !mu_field_present(tz, base) ||
	    (all_day != NULL && mu_field_present(all_day, base))) {
		field_time(f, label, t, NULL);
		return;
	}
	z = (const struct mu_str *)((const uint8_t *)base + tz->off);
	len = z->len < sizeof(zone) - 1 ? z->len : sizeof(zone) - 1;
	memcpy(zone, z->ptr, len);
	zone[len] = '\0';
	field_time(f, label, t, zone);
}

/* One value (or list item) of field fd at p on a line of its own. */
static void
field_value(FILE *f, const struct mu_cli_names *names, const char *label,
            const struct mu_field *fd, const uint8_t *p)
{
	char id[MU_ID_TEXT_SIZE];
	size_t j;

	if (mu_ftype_is_str(fd->type)) {
		field_str(f, label, *(const struct mu_str *)p);
		return;
	}
	switch (fd->type) {
	case MU_FT_ENUM:
		fprintf(f, LABEL "%s\n", label, fd->names[*(const int *)p - 1]);
		break;
	case MU_FT_INT:
		if (fd->view == MU_FV_TIME)
			field_time(f, label, mu_field_int(fd, p), NULL);
		else if (fd->view == MU_FV_DEGREES)
			fprintf(f, LABEL "%.7f\n", label,
			        (double)mu_field_int(fd, p) / MU_GEO_SCALE);
		else
			fprintf(f, LABEL "%lld\n", label,
			        (long long)mu_field_int(fd, p));
		break;
	case MU_FT_TRUE:
		fprintf(f, LABEL "true\n", label);
		break;
	case MU_FT_KEY:
		if (fd->view == MU_FV_ID) {
			mu_id_to_text(id, p);
			fprintf(f, LABEL "%s\n", label, id);
		} else {
			field_key(f, names, label, p);
		}
		break;
	case MU_FT_ADDR:
		field_addr(f, names, label, (const struct mu_addr *)p);
		break;
	case MU_FT_IDLIST:
		for (j = 0; j < ((const struct mu_idlist *)p)->n; j++) {
			mu_id_to_text(id, mu_idlist_at((const struct mu_idlist *)p, j));
			fprintf(f, LABEL "%s\n", label, id);
		}
		break;
	default:
		break;
	}
}

/* A list of strings on one line. */
static void
field_joined(FILE *f, const char *label, const struct mu_str *v, size_t n)
{
	size_t i;

	fprintf(f, LABEL, label);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.*s", i > 0 ? ", " : "", (int)v[i].len, v[i].ptr);
	fputc('\n', f);
}

/* The content, line by line as the kind's show table says (kind.h). */
static void
show_content(FILE *f, const struct mu_cli_names *names, const struct mu_record *rec)
{
	const struct mu_kind_def *def = mu_kind_def(rec->kind);
	const struct mu_show *sh;
	const struct mu_field *fd;
	char when[MU_CLI_WHEN_TEXT_SIZE];
	const uint8_t *owner, *p;
	size_t j, n;

	for (sh = def != NULL ? def->show : NULL; sh != NULL && sh->label != NULL;
	     sh++) {
		if (sh->as == MU_SHOW_WHEN) {
			mu_cli_event_when(when, &rec->c.event);
			fprintf(f, LABEL "%s\n", sh->label, when);
			continue;
		}
		fd = mu_field_at(def->fields, &rec->c, sh->path, (const void **)&owner);
		if (fd == NULL || !mu_field_present(fd, owner))
			continue;
		p = owner + fd->off;
		n = fd->flags & MU_FF_LIST ? *(const size_t *)(owner + fd->count_off)
		                           : 1;
		switch (sh->as) {
		case MU_SHOW_JOINED:
			field_joined(f, sh->label, (const struct mu_str *)p, n);
			break;
		case MU_SHOW_LOCAL:
			field_local(f, sh->label, mu_field_int(fd, p), def->fields,
			            &rec->c);
			break;
		case MU_SHOW_PAIR:
			fprintf(f, LABEL "%.7f,%.7f\n", sh->label,
			        (double)mu_field_int(fd, p) / MU_GEO_SCALE,
			        (double)mu_field_int(fd + 1, owner + fd[1].off) /
			            MU_GEO_SCALE);
			break;
		default:
			for (j = 0; j < n; j++)
				field_value(f, names, sh->label, fd,
				            p + j * mu_field_stride(fd));
			break;
		}
	}
}

void
mu_cli_print_record(FILE *f, const struct mu_cli_names *names,
                    const struct mu_record *rec)
{
	char id[MU_ID_TEXT_SIZE], iso[MU_CLI_ISO_SIZE];
	struct mu_addr addr;

	mu_id_to_text(id, rec->id);
	fprintf(f, LABEL "%s\n", "id:", id);
	if (mu_kind_replaceable(rec->kind)) {
		mu_rec_addr(rec, &addr);
		field_addr(f, NULL, "address:", &addr); /* its own title follows */
	}
	fprintf(f, LABEL "%s\n", "kind:", mu_kind_name(rec->kind));
	field_key(f, names, "group:", rec->group);
	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) != 0)
		field_key(f, names, "signer:", rec->signer);
	mu_cli_when_iso(iso, rec->created_at);
	fprintf(f, LABEL "%s\n", "created_at:", iso);
	if (mu_kind_replaceable(rec->kind))
		fprintf(f, LABEL "%u\n", "rev:", (unsigned)rec->rev);
	show_content(f, names, rec);
}
