/*
 * http_html.c - HTML output (http.h): the escaping of every record field,
 * links, and the frame of every page.
 *
 * Records come from other groups, so every field is hostile: it reaches a
 * page only through mu_html_text(), which escapes the five characters that
 * can end a text node or a quoted attribute value. Attributes are always
 * double-quoted, so the same escaping serves both.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

int
mu_html_text(struct mu_buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		if (mu_buf_append(b, s + start, i - start) != 0 ||
		    mu_buf_append(b, rep, strlen(rep)) != 0)
			return MU_ENOMEM;
		start = i + 1;
	}
	return mu_buf_append(b, s + start, n - start);
}

int
mu_html_str(struct mu_buf *b, const char *s)
{
	return mu_html_text(b, s, strlen(s));
}

int
mu_html_raw(struct mu_buf *b, const char *s)
{
	return mu_buf_append(b, s, strlen(s));
}

int
mu_html_fmt(struct mu_buf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return MU_ENOMEM;
	return mu_buf_append(b, line, (size_t)n);
}

/* Rule url already holds for stored records; checked again because a link
 * with another scheme (javascript:, data:) would run in our origin. */
static bool
web_url(struct mu_str u)
{
	size_t i;

	if (!((u.len > 7 && memcmp(u.ptr, "http://", 7) == 0) ||
	      (u.len > 8 && memcmp(u.ptr, "https://", 8) == 0)))
		return false;
	for (i = 0; i < u.len; i++)
		if ((unsigned char)u.ptr[i] <= ' ' || u.ptr[i] == 0x7f)
			return false;
	return true;
}

int
mu_html_link(struct mu_buf *b, struct mu_str url, struct mu_str text)
{
	if (text.len == 0)
		text = url;
	if (!web_url(url))
		return mu_html_text(b, text.ptr, text.len);
	if (mu_html_raw(b, "<a href=\"") != 0 ||
	    mu_html_text(b, url.ptr, url.len) != 0 ||
	    mu_html_raw(b, "\" rel=\"nofollow noopener noreferrer\">") != 0 ||
	    mu_html_text(b, text.ptr, text.len) != 0 || mu_html_raw(b, "</a>") != 0)
		return MU_ENOMEM;
	return 0;
}

int
mu_html_head(struct mu_buf *b, const char *title, size_t title_len)
{
	if (mu_html_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	                   "<meta charset=\"utf-8\">\n"
	                   "<meta name=\"viewport\" content=\"width=device-width, "
	                   "initial-scale=1\">\n<title>") != 0 ||
	    mu_html_text(b, title, title_len) != 0 ||
	    mu_html_raw(b, " · muster</title>\n"
	                   "<link rel=\"icon\" href=\"/icon.svg\">\n"
	                   "<link rel=\"stylesheet\" href=\"/style.css\">\n"
	                   "<script src=\"/app.js\" defer></script>\n"
	                   "</head>\n<body>\n<header><nav>"
	                   "<a href=\"/\">Calendar</a> "
	                   "<a href=\"/causes\">Causes</a> "
	                   "<a href=\"/alliances\">Alliances</a>"
	                   "</nav></header>\n<main>\n") != 0)
		return MU_ENOMEM;
	return 0;
}

int
mu_html_foot(struct mu_buf *b)
{
	return mu_html_raw(b, "</main>\n<footer>Served read-only by a "
	                      "muster node. "
	                      "Times are shown in your time zone when JavaScript "
	                      "runs, else in UTC.</footer>\n</body>\n</html>\n");
}
