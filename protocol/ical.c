/*
 * ical.c - the iCalendar content-line writer (ical.h).
 *
 * Lines are built unfolded and folded when they end, because only then is
 * it known where escapes and UTF-8 characters start: a fold goes before a
 * whole unit (a character, or a backslash and the character it escapes),
 * never inside one, so that naive unfolders and strict UTF-8 decoders that
 * work line by line both get the text back.
 */
#include "ical.h"

#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "error.h"

void
mu_ical_init(struct mu_ical *w, struct mu_buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

int
mu_ical_finish(struct mu_ical *w)
{
	mu_buf_free(&w->line);
	return w->err;
}

static void
put(struct mu_ical *w, const void *p, size_t n)
{
	if (w->err == 0)
		w->err = mu_buf_append(&w->line, p, n);
}

static void
put_byte(struct mu_ical *w, char c)
{
	put(w, &c, 1);
}

void
mu_ical_begin(struct mu_ical *w, const char *name)
{
	w->line.len = 0;
	w->in_value = false;
	put(w, name, strlen(name));
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

void
mu_ical_param(struct mu_ical *w, const char *name, const char *v, size_t len)
{
	bool quote = false;
	size_t i;

	for (i = 0; i < len; i++)
		quote = quote || v[i] == ':' || v[i] == ';' || v[i] == ',';
	put_byte(w, ';');
	put(w, name, strlen(name));
	put_byte(w, '=');
	if (quote)
		put_byte(w, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '"')
			put(w, "^'", 2);
		else if (c == '^')
			put(w, "^^", 2);
		else if (c == '\n' || (c == '\r' && (i + 1 == len || v[i + 1] != '\n')))
			put(w, "^n", 2);
		else if (c == '\t' || !is_control(c))
			put_byte(w, (char)c);
	}
	if (quote)
		put_byte(w, '"');
}

static void
value_start(struct mu_ical *w)
{
	if (!w->in_value) {
		put_byte(w, ':');
		w->in_value = true;
	}
}

void
mu_ical_raw(struct mu_ical *w, const char *s, size_t len)
{
	value_start(w);
	put(w, s, len);
}

void
mu_ical_text(struct mu_ical *w, const char *s, size_t len)
{
	size_t i, run = 0;

	value_start(w);
	/* Plain runs are copied whole; only the bytes that need care stop. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '\\' && c != ';' && c != ',' && (c == '\t' || !is_control(c)))
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		if (c == '\\' || c == ';' || c == ',') {
			put_byte(w, '\\');
			put_byte(w, (char)c);
		} else if (c == '\n' ||
		           (c == '\r' && (i + 1 == len || s[i + 1] != '\n'))) {
			put(w, "\\n", 2);
		}
	}
	put(w, s + run, len - run);
}

/* A UTC DATE-TIME (or with zulu false, the same fields as a local one), or
 * with date_only its DATE. */
static void
put_time(struct mu_ical *w, int64_t t, bool date_only, bool zulu)
{
	struct mu_civil c;
	char b[32];
	int n;

	mu_civil_from_time(&c, t);
	n = snprintf(b, sizeof(b), "%04lld%02u%02u", (long long)c.y, c.mo, c.d);
	if (!date_only)
		n += snprintf(b + n, sizeof(b) - (size_t)n, "T%02u%02u%02u%s", c.h,
		              c.mi, c.s, zulu ? "Z" : "");
	mu_ical_raw(w, b, (size_t)n);
}

void
mu_ical_utc(struct mu_ical *w, int64_t t)
{
	put_time(w, t, false, true);
}

void
mu_ical_local(struct mu_ical *w, int64_t t)
{
	put_time(w, t, false, false);
}

void
mu_ical_date(struct mu_ical *w, int64_t t)
{
	put_time(w, t, true, true);
}

/* How many bytes from p on must stay on one physical line. */
static size_t
unit_len(const uint8_t *p, size_t left)
{
	size_t n = 1;

	if (p[0] == '\\' && left > 1 && p[1] < 0x80)
		return 2;
	if (p[0] >= 0xc0)
		while (n < left && n < 4 && (p[n] & 0xc0) == 0x80)
			n++;
	return n;
}

int
mu_ical_end(struct mu_ical *w)
{
	struct mu_buf *out = w->out;
	size_t len, i = 0, col = 0, u, n;
	const uint8_t *p;

	value_start(w);
	if (w->err != 0)
		return w->err;
	p = w->line.data;
	len = w->line.len;
	/* At worst a fold (3 bytes) every 71 bytes (74 less a 4-byte unit). */
	w->err = mu_buf_reserve(out, len + (len / 71 + 1) * 3 + 2);
	if (w->err != 0)
		return w->err;
	while (i < len) {
		/* A run of plain ASCII is a unit per byte: copied at once, up
		 * to the fold, since most text is. */
		n = 0;
		while (col + n < MU_ICAL_FOLD && i + n < len && p[i + n] < 0x80 &&
		       p[i + n] != '\\')
			n++;
		if (n > 0) {
			memcpy(out->data + out->len, p + i, n);
			out->len += n;
			col += n;
			i += n;
			continue;
		}
		u = unit_len(p + i, len - i);
		if (col + u > MU_ICAL_FOLD) {
			memcpy(out->data + out->len, "\r\n ", 3);
			out->len += 3;
			col = 1;
		}
		memcpy(out->data + out->len, p + i, u);
		out->len += u;
		col += u;
		i += u;
	}
	memcpy(out->data + out->len, "\r\n", 2);
	out->len += 2;
	w->line.len = 0;
	w->in_value = false;
	return 0;
}

int
mu_ical_prop_raw(struct mu_ical *w, const char *name, const char *value)
{
	mu_ical_begin(w, name);
	mu_ical_raw(w, value, strlen(value));
	return mu_ical_end(w);
}

int
mu_ical_prop_text(struct mu_ical *w, const char *name, const char *s, size_t len)
{
	mu_ical_begin(w, name);
	mu_ical_text(w, s, len);
	return mu_ical_end(w);
}

int
mu_ical_prop_utc(struct mu_ical *w, const char *name, int64_t t)
{
	mu_ical_begin(w, name);
	mu_ical_utc(w, t);
	return mu_ical_end(w);
}
