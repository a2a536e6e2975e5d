/*
 * fields.c - each field of each kind as the person sets it: the option that
 * fills it, and the rules the protocol checks, said in those terms.
 *
 * The protocol words a broken rule for developers, by field path and raw
 * value: "end-before-start: event.end (1922716800) is before event.start
 * (1922724000)". A person typed `--end 2030-12-05T17:00`, so the message
 * they read names that option and that value, as they wrote it. The one
 * table below is the only place that knows which option sets which field;
 * tests/unit/test_cli_fields.c checks that it covers every field of every
 * kind in protocol/kind_table.c.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../protocol/kind.h"
#include "cli.h"
#include "when.h"

struct field_opt {
	enum mu_kind kind;
	const char *path;    /* the field in the kind's table: "location.name" */
	const char *option;  /* what the person typed or gave: "--where" */
	const char *missing; /* the whole message for rule required, or NULL */
};

static const struct field_opt table[] = {
    {MU_KIND_PROFILE, "about", "--about", NULL},
    {MU_KIND_PROFILE, "contact", "--contact", NULL},
    {MU_KIND_PROFILE, "location", "--location", NULL},
    {MU_KIND_PROFILE, "name", "--name",
     "--name is missing: give the group a name with --name NAME"},
    {MU_KIND_PROFILE, "website", "--website", NULL},

    {MU_KIND_CAUSE, "description", "--description", NULL},
    {MU_KIND_CAUSE, "status", "--status", NULL},
    {MU_KIND_CAUSE, "summary", "--summary", NULL},
    {MU_KIND_CAUSE, "tags", "--tag", NULL},
    {MU_KIND_CAUSE, "title", "--title",
     "--title is missing: give the cause a title with --title TEXT"},
    {MU_KIND_CAUSE, "url", "--url", NULL},

    {MU_KIND_EVENT, "all_day", "--start", NULL},
    {MU_KIND_EVENT, "capacity", "--capacity", NULL},
    {MU_KIND_EVENT, "cause", "--cause", NULL},
    {MU_KIND_EVENT, "description", "--description", NULL},
    {MU_KIND_EVENT, "end", "--end", NULL},
    {MU_KIND_EVENT, "hosts", "--host", NULL},
    {MU_KIND_EVENT, "location", "--geo",
     "--geo needs --where or --address too: say what the place is called "
     "or where it is"},
    {MU_KIND_EVENT, "location.address", "--address", NULL},
    {MU_KIND_EVENT, "location.lat", "--geo", NULL},
    {MU_KIND_EVENT, "location.lon", "--geo", NULL},
    {MU_KIND_EVENT, "location.name", "--where", NULL},
    {MU_KIND_EVENT, "online", "--online", NULL},
    {MU_KIND_EVENT, "repeat", "--repeat", NULL},
    {MU_KIND_EVENT, "repeat.byday", "--on", NULL},
    {MU_KIND_EVENT, "repeat.cancelled", "event cancel --on", NULL},
    {MU_KIND_EVENT, "repeat.count", "--count", NULL},
    {MU_KIND_EVENT, "repeat.freq", "--repeat",
     "--repeat is missing: give daily, weekly or monthly"},
    {MU_KIND_EVENT, "repeat.interval", "--every", NULL},
    {MU_KIND_EVENT, "repeat.skip", "--skip", NULL},
    {MU_KIND_EVENT, "repeat.until", "--until", NULL},
    {MU_KIND_EVENT, "start", "--start",
     "--start is missing: say when the event starts with --start WHEN"},
    {MU_KIND_EVENT, "status", "--status", NULL},
    {MU_KIND_EVENT, "tags", "--tag", NULL},
    {MU_KIND_EVENT, "title", "--title",
     "--title is missing: give the event a title with --title TEXT"},
    {MU_KIND_EVENT, "tz", "--tz", NULL},

    {MU_KIND_ALLIANCE, "causes", "--cause", NULL},
    {MU_KIND_ALLIANCE, "status", "the alliance's status", NULL},
    {MU_KIND_ALLIANCE, "terms", "--terms", NULL},
    {MU_KIND_ALLIANCE, "with", "the group to ally with",
     "the group to ally with is missing: give its key, as `muster id` "
     "prints it there"},

    {MU_KIND_DELETE, "addr", "the address to delete", NULL},
    {MU_KIND_DELETE, "id", "the record to delete", NULL},
    {MU_KIND_DELETE, "reason", "--reason", NULL},

    {MU_KIND_NODE, "addrs", "--announce",
     "--announce is missing: give the HOST:PORT other nodes reach this one "
     "at"},

    {MU_KIND_ORGANIZER, "keep", "--keep-current", NULL},
    {MU_KIND_ORGANIZER, "key", "the organizer's key",
     "the organizer's key is missing: give the request code that "
     "`muster init --join` printed"},
    {MU_KIND_ORGANIZER, "kinds", "--kinds", NULL},
    {MU_KIND_ORGANIZER, "name", "--name",
     "--name is missing: give the organizer a name with --name NAME"},
    {MU_KIND_ORGANIZER, "status", "the organizer's status", NULL},

    {MU_KIND_RSVP, "about", "--about", NULL},
    {MU_KIND_RSVP, "event", "the event", NULL},
    {MU_KIND_RSVP, "going", "--count",
     "--count is missing: say how many of the group's people go with --count N"},
    {MU_KIND_RSVP, "waitlisted", "the host's tally", NULL},

    {MU_KIND_TALLY, "capacity", "the event's --capacity", NULL},
    {MU_KIND_TALLY, "counts", "the host's tally", NULL},
    {MU_KIND_TALLY, "event", "the event", NULL},
    {MU_KIND_TALLY, "groups", "the host's tally", NULL},

    {MU_KIND_PETITION, "cause", "--cause", NULL},
    {MU_KIND_PETITION, "deadline", "--deadline", NULL},
    {MU_KIND_PETITION, "goal", "--goal", NULL},
    {MU_KIND_PETITION, "status", "petition close", NULL},
    {MU_KIND_PETITION, "target", "--to",
     "--to is missing: say whom the petition addresses with --to TEXT"},
    {MU_KIND_PETITION, "text", "--text",
     "--text is missing: give the petition's text with --text TEXT"},
    {MU_KIND_PETITION, "title", "--title",
     "--title is missing: give the petition a title with --title TEXT"},

    {MU_KIND_SIGNATURES, "as_group", "--as-group", NULL},
    {MU_KIND_SIGNATURES, "count", "--count", NULL},
    {MU_KIND_SIGNATURES, "names", "the names signers chose to show", NULL},
    {MU_KIND_SIGNATURES, "petition", "the petition", NULL},

    {MU_KIND_PLEDGE, "cause", "--cause", NULL},
    {MU_KIND_PLEDGE, "deadline", "--deadline",
     "--deadline is missing: say by when the threshold must be reached with "
     "--deadline WHEN"},
    {MU_KIND_PLEDGE, "end", "--end", NULL},
    {MU_KIND_PLEDGE, "start", "--start", NULL},
    {MU_KIND_PLEDGE, "text", "--text", NULL},
    {MU_KIND_PLEDGE, "threshold", "--threshold",
     "--threshold is missing: say how many must pledge with --threshold N"},
    {MU_KIND_PLEDGE, "title", "--title",
     "--title is missing: give the pledge a title with --title TEXT"},
    {MU_KIND_PLEDGE, "triggered", "the host's node, once the pledge triggers", NULL},
    {MU_KIND_PLEDGE, "unit", "--unit", NULL},

    {MU_KIND_PLEDGED, "as_group", "--as-group", NULL},
    {MU_KIND_PLEDGED, "count", "--count", NULL},
    {MU_KIND_PLEDGED, "pledge", "the pledge", NULL},
};

/* Rules across fields whose protocol wording counts seconds: said in
 * words instead, as "<first field> mid <second field> tail". */
static const struct {
	const char *rule, *mid, *tail;
} phrases[] = {
    {"event-span", " is more than 366 days after ",
     "; an event lasts at most 366 days, so split a longer one into several"},
};

/* Every replaceable kind's `replaces`, which the tool sets on an edit. */
static const struct field_opt replaces = {MU_KIND_NONE, "replaces",
                                          "the revision edited", NULL};

static const struct field_opt *
find(enum mu_kind kind, const char *path, size_t len)
{
	size_t i;

	if (mu_kind_replaceable(kind) && len == strlen(replaces.path) &&
	    memcmp(path, replaces.path, len) == 0)
		return &replaces;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].kind == kind && strlen(table[i].path) == len &&
		    memcmp(table[i].path, path, len) == 0)
			return &table[i];
	}
	return NULL;
}

const char *
mu_cli_field_option(enum mu_kind kind, const char *path)
{
	const struct field_opt *o = find(kind, path, strlen(path));

	return o != NULL ? o->option : NULL;
}

/* The longest value quoted back; a longer one is cut with "…". */
#define QUOTE_MAX 40

/* s, cut to QUOTE_MAX bytes on a character boundary, with '?' for a
 * control character (as fail.c prints it), so that the message in JSON
 * is the line the person read. */
static void
quote_str(char *out, size_t n, struct mu_str s)
{
	size_t len = s.len;
	char *p;

	if (len > QUOTE_MAX) {
		len = QUOTE_MAX;
		while (len > 0 && ((unsigned char)s.ptr[len] & 0xc0) == 0x80)
			len--;
	}
	snprintf(out, n, "%.*s%s", (int)len, s.ptr, len < s.len ? "…" : "");
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

/* A time field of an event as the person typed it: in the event's zone,
 * or a date for an all-day event, whose stored end is the midnight after
 * the last day typed. */
static void
quote_time(char *out, size_t n, const struct mu_record *rec, const char *path,
           int64_t t)
{
	const struct mu_event *ev = &rec->c.event;
	char zone[MU_CLI_ZONE_SIZE];
	size_t len;

	if (rec->kind != MU_KIND_EVENT || ev->tz.len == 0) {
		mu_cli_when_format(out, n, t, NULL, "%Y-%m-%d %H:%M UTC");
		return;
	}
	if (ev->all_day) {
		if (strcmp(path, "end") == 0)
			t -= 86400;
		mu_cli_when_format(out, n, t, NULL, "%Y-%m-%d");
		return;
	}
	len = ev->tz.len < sizeof(zone) - 1 ? ev->tz.len : sizeof(zone) - 1;
	memcpy(zone, ev->tz.ptr, len);
	zone[len] = '\0';
	mu_cli_when_format(out, n, t, zone, "%Y-%m-%d %H:%M");
}

/*
 * The value of the field at path (item idx of a list, or -1) in rec, as the
 * person gave it, into out; empty when there is none worth quoting (absent,
 * a multi-line text, a flag).
 */
static void
quote_value(char *out, size_t n, const struct mu_record *rec, const char *path,
            long idx)
{
	const struct mu_fields *t = mu_rec_fields(rec->kind);
	const struct mu_field *f;
	const uint8_t *owner, *p;
	char key[MU_KEY_TEXT_SIZE];
	size_t count;

	out[0] = '\0';
	if (t == NULL ||
	    (f = mu_field_at(t, &rec->c, path, (const void **)&owner)) == NULL)
		return;
	p = owner + f->off;
	if (f->flags & MU_FF_LIST) {
		count = *(const size_t *)(owner + f->count_off);
		if (idx < 0 || (size_t)idx >= count)
			return;
		p += (size_t)idx * mu_field_stride(f);
	} else if (!mu_field_present(f, owner)) {
		return;
	}
	if (f->type == MU_FT_TEXT)
		return;
	if (mu_ftype_is_str(f->type)) {
		quote_str(out, n, *(const struct mu_str *)p);
		return;
	}
	switch (f->type) {
	case MU_FT_INT:
		if (f->view == MU_FV_TIME)
			quote_time(out, n, rec, path, mu_field_int(f, p));
		else if (f->view == MU_FV_DEGREES)
			snprintf(out, n, "%.7g",
			         (double)mu_field_int(f, p) / MU_GEO_SCALE);
		else
			snprintf(out, n, "%lld", (long long)mu_field_int(f, p));
		break;
	case MU_FT_ENUM:
		if (*(const int *)p > 0)
			snprintf(out, n, "%s", f->names[*(const int *)p - 1]);
		break;
	case MU_FT_KEY:
		if (f->view != MU_FV_ID) {
			mu_key_to_text(key, p);
			snprintf(out, n, "%s", key);
		}
		break;
	case MU_FT_ADDR:
		if (n >= MU_ADDR_TEXT_SIZE)
			mu_addr_to_text(out, (const struct mu_addr *)p);
		break;
	default:
		break;
	}
}

/* A field path as the protocol writes it, at s: "event.online[1]",
 * "event.location.name", "event.cause.d". */
struct path_tok {
	size_t len;     /* of the whole token in the text */
	char path[64];  /* in the kind's table: "online", "location.name" */
	long idx;       /* a list item, or -1 */
	bool has_value; /* followed by " (N)": the raw value, now quoted */
	size_t value_len;
};

/* Whether s starts a path of rec's kind; fills tok. */
static bool
read_path(const char *s, const char *kind, struct path_tok *tok)
{
	size_t k = strlen(kind), i = 0, p = 0;
	const char *q;

	if (strncmp(s, kind, k) != 0 || s[k] != '.' ||
	    !(s[k + 1] >= 'a' && s[k + 1] <= 'z'))
		return false;
	/* A field, a map's field ("location.name") or an address's part
	 * ("cause.d", cut off by find_path()); then perhaps a list index and
	 * the part of the address at that index ("causes[2].d"). */
	for (i = k + 1; (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || s[i] == '.';
	     i++) {
		if (p + 1 < sizeof(tok->path))
			tok->path[p++] = s[i];
	}
	while (p > 0 && tok->path[p - 1] == '.')
		p--, i--;
	tok->path[p] = '\0';
	tok->idx = -1;
	if (s[i] == '[') {
		tok->idx = strtol(s + i + 1, NULL, 10);
		q = strchr(s + i, ']');
		i = q != NULL ? (size_t)(q - s) + 1 : i + 1;
		while (s[i] == '.' || (s[i] >= 'a' && s[i] <= 'z'))
			i++; /* ".d" of an address in a list */
	}
	tok->len = i;
	tok->has_value = false;
	if (s[i] == ' ' && s[i + 1] == '(' && s[i + 2] >= '0' && s[i + 2] <= '9') {
		q = strchr(s + i, ')');
		if (q != NULL) {
			tok->has_value = true;
			tok->value_len = (size_t)(q - (s + i)) + 1;
		}
	}
	return true;
}

/* The path may run into an address's part ("cause.d"): cut back to the
 * longest start the table knows. */
static const struct field_opt *
find_path(enum mu_kind kind, struct path_tok *tok)
{
	const struct field_opt *o;
	char *dot;

	while ((o = find(kind, tok->path, strlen(tok->path))) == NULL) {
		if ((dot = strrchr(tok->path, '.')) == NULL)
			return NULL;
		*dot = '\0';
	}
	return o;
}

/* The length of " is VALUE," at d, which repeats the value just quoted
 * ("--capacity 0 is 0, must be ..."), else 0. */
static size_t
restated(const char *d, const char *value)
{
	size_t n = strlen(value);

	if (n > 0 && strncmp(d, " is ", 4) == 0 && strncmp(d + 4, value, n) == 0 &&
	    d[4 + n] == ',')
		return 4 + n + 1;
	return 0;
}

size_t
mu_cli_why_field(const struct mu_record *rec, const struct mu_why *why, char *path,
                 size_t n)
{
	const char *kind = mu_kind_name(rec->kind), *d = mu_why_detail(why);
	struct path_tok tok;

	if (kind == NULL || !read_path(d, kind, &tok)) {
		if (n > 0)
			path[0] = '\0';
		return 0;
	}
	snprintf(path, n, "%.*s", (int)tok.len, d);
	return tok.len;
}

void
mu_cli_why_say(char *out, size_t n, const struct mu_record *rec,
               const struct mu_why *why)
{
	const char *kind = mu_kind_name(rec->kind), *d = mu_why_detail(why);
	char said[2][MU_ADDR_TEXT_SIZE + 48], value[MU_ADDR_TEXT_SIZE];
	const struct field_opt *o;
	struct path_tok tok;
	size_t k = 0, nsaid = 0, i;
	bool any = false;
	int w;

	if (n == 0)
		return;
	out[0] = '\0';
	for (; *d != '\0' && k + 1 < n;) {
		if (kind != NULL && (d == mu_why_detail(why) || d[-1] == ' ') &&
		    read_path(d, kind, &tok) &&
		    (o = find_path(rec->kind, &tok)) != NULL) {
			if (mu_why_rule_is(why, "required") && o->missing != NULL) {
				snprintf(out, n, "%s", o->missing);
				return;
			}
			quote_value(value, sizeof(value), rec, o->path, tok.idx);
			w = snprintf(out + k, n - k, "%s%s%s", o->option,
			             value[0] != '\0' ? " " : "", value);
			if (nsaid < 2)
				snprintf(said[nsaid++], sizeof(said[0]), "%s", out + k);
			k += w > 0 ? (size_t)w : 0;
			if (k >= n)
				k = n - 1;
			d += tok.len + (tok.has_value ? tok.value_len : 0);
			d += restated(d, value);
			any = true;
			continue;
		}
		out[k++] = *d++;
		out[k] = '\0';
	}
	if (!any) {
		snprintf(out, n, "%s", why->text[0] != '\0' ? why->text : "");
		return;
	}
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
		if (nsaid == 2 && mu_why_rule_is(why, phrases[i].rule)) {
			snprintf(out, n, "%s%s%s%s", said[0], phrases[i].mid, said[1],
			         phrases[i].tail);
			return;
		}
	}
}
