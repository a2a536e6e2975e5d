/*
 * utf8.h - the string checks of docs/PROTOCOL.md: rule utf8 (strict UTF-8:
 * shortest forms, no surrogates, nothing above U+10FFFF, no cut-off
 * sequences) and rule control-char (no U+0000-U+001F or U+007F; the text type
 * allows tab and line feed).
 */
#ifndef MU_UTF8_H
#define MU_UTF8_H

#include <stddef.h>

enum mu_utf8_mode {
	MU_UTF8_ANY,  /* rule utf8 only */
	MU_UTF8_LINE, /* no control characters at all */
	MU_UTF8_TEXT, /* no control characters but tab and line feed */
};

enum {
	MU_UTF8_OK = 0,
	MU_UTF8_EBAD = 1,     /* rule utf8 */
	MU_UTF8_ECONTROL = 2, /* rule control-char */
};

/* Where and why a string failed; detail is a static phrase. */
struct mu_utf8_err {
	size_t off;
	const char *detail;
};

/*
 * Checks len bytes at s. Returns MU_UTF8_OK, or MU_UTF8_EBAD/ECONTROL with
 * the first bad byte's offset and a phrase in *err (which may be NULL).
 */
int mu_utf8_check(const char *s, size_t len, enum mu_utf8_mode mode,
                  struct mu_utf8_err *err);

#endif
