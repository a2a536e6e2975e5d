/*
 * ical_lines.h - checks of iCalendar output shared by the unit tests:
 * every physical line well-formed, and the output unfolded for comparing.
 * Include after cmocka.h.
 */
#ifndef MU_TEST_ICAL_LINES_H
#define MU_TEST_ICAL_LINES_H

#include <stdlib.h>
#include <string.h>

#include "protocol/buf.h"
#include "protocol/ical.h"
#include "protocol/utf8.h"

/*
 * Checks every physical line of out: it ends in CRLF, holds no other CR or
 * LF, has at most 75 octets, is valid UTF-8 on its own (so no character was
 * split by a fold) and does not end in the middle of a backslash escape.
 * Lines after the first of a content line start with one space. Returns the
 * number of physical lines.
 */
static size_t
check_lines(const struct mu_buf *out)
{
	const char *p = (const char *)out->data, *end = p + out->len, *eol;
	struct mu_utf8_err uerr;
	size_t n = 0, len, bs;

	assert_true(out->len >= 2);
	while (p < end) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
			fail_msg("line %zu does not end in CRLF", n + 1);
		len = (size_t)(eol - p);
		if (memchr(p, '\n', len) != NULL)
			fail_msg("line %zu holds a bare LF", n + 1);
		if (len > MU_ICAL_FOLD)
			fail_msg("line %zu has %zu octets: \"%.*s\"", n + 1, len,
			         (int)len, p);
		if (mu_utf8_check(p, len, MU_UTF8_ANY, &uerr) != 0)
			fail_msg(
			    "line %zu is not UTF-8 on its own (a split character): "
			    "\"%.*s\"",
			    n + 1, (int)len, p);
		for (bs = 0; bs < len && p[len - 1 - bs] == '\\'; bs++)
			;
		if (bs % 2 == 1 && eol + 2 < end && eol[2] == ' ')
			fail_msg("line %zu is folded inside an escape", n + 1);
		p = eol + 2;
		n++;
	}
	return n;
}

/* Undoes the folding of out into a NUL-terminated, malloc()ed string. */
static char *
unfold(const struct mu_buf *out)
{
	char *s = malloc(out->len + 1);
	size_t i, j = 0;

	assert_non_null(s);
	for (i = 0; i < out->len; i++) {
		if (i + 2 < out->len && memcmp(out->data + i, "\r\n ", 3) == 0) {
			i += 2;
			continue;
		}
		s[j++] = (char)out->data[i];
	}
	s[j] = '\0';
	return s;
}

#endif
