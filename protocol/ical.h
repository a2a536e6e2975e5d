/*
 * ical.h - an iCalendar (RFC 5545) content-line writer.
 *
 * A content line is built in pieces: mu_ical_begin() names the property,
 * mu_ical_param() adds parameters, the value functions append to the value
 * (the first one writes the ':'), and mu_ical_end() folds the line and
 * appends it to the output with its CRLF. Folding keeps every physical line
 * within MU_ICAL_FOLD octets, CRLF excluded, and never splits a UTF-8
 * character or a backslash escape. Nothing else is checked: the caller
 * writes property names and raw values that RFC 5545 allows.
 *
 * Errors are sticky: after the first failure (MU_ENOMEM) every call does
 * nothing, and mu_ical_end() and mu_ical_finish() return that error, so a
 * long run of writes needs one check. On error the output holds the lines
 * completed before it.
 *
 * Ownership: out is the caller's and must outlive the writer; the writer
 * owns its line buffer, released by mu_ical_finish().
 *
 * Pure code: no I/O, no clock, no globals.
 */
#ifndef MU_ICAL_H
#define MU_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MU_ICAL_FOLD 75 /* octets per physical line, CRLF excluded */

struct mu_ical {
	struct mu_buf *out; /* the caller's: finished lines are appended */
	struct mu_buf line; /* owned: the content line being built, unfolded */
	bool in_value;      /* the ':' was written */
	int err;            /* the first error, or 0 */
};

/* Starts a writer that appends to out. */
void mu_ical_init(struct mu_ical *w, struct mu_buf *out);

/* Frees the line buffer; returns the first error of the writer, or 0. */
int mu_ical_finish(struct mu_ical *w);

/* Starts a content line with the property name (ASCII, as given). */
void mu_ical_begin(struct mu_ical *w, const char *name);

/*
 * Adds ";NAME=value". The value is quoted when it holds ':', ';' or ',';
 * double quotes, carets and line feeds are encoded as RFC 6868 says (^', ^^,
 * ^n), and other control characters dropped, since no parameter value may
 * hold them.
 */
void mu_ical_param(struct mu_ical *w, const char *name, const char *v, size_t len);

/* Appends len bytes to the value as they are (URIs, numbers, keywords). */
void mu_ical_raw(struct mu_ical *w, const char *s, size_t len);

/*
 * Appends len bytes of UTF-8 to the value as TEXT (RFC 5545 3.3.11): '\',
 * ';' and ',' get a backslash, a line feed (or CR LF, or a lone CR) becomes
 * "\n", and other control characters but tab are dropped.
 */
void mu_ical_text(struct mu_ical *w, const char *s, size_t len);

/* Appends Unix time t as a UTC DATE-TIME: 20261205T170000Z. */
void mu_ical_utc(struct mu_ical *w, int64_t t);

/* Appends a wall-clock time, given as seconds since 1970-01-01T00:00 of that
 * clock, as a local DATE-TIME (for a TZID parameter): 20261205T180000. */
void mu_ical_local(struct mu_ical *w, int64_t t);

/* Appends the UTC date of Unix time t as a DATE: 20261205. */
void mu_ical_date(struct mu_ical *w, int64_t t);

/* Folds the line, appends it with CRLF to the output; 0 or the error. */
int mu_ical_end(struct mu_ical *w);

/* One-call lines: NAME:value with the value raw, as TEXT, or as UTC. */
int mu_ical_prop_raw(struct mu_ical *w, const char *name, const char *value);
int mu_ical_prop_text(struct mu_ical *w, const char *name, const char *s, size_t len);
int mu_ical_prop_utc(struct mu_ical *w, const char *name, int64_t t);

#endif
