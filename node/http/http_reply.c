/*
 * http_reply.c - replies and the reading of requests (http.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/civil.h"
#include "../../protocol/textform.h"
#include "http.h"
#include "../json_record.h"

int
mu_http_fail(struct mu_http_reply *rp, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *v;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mu_buf_free(&rp->body);
	rp->status = status;
	switch (rp->form) {
	case MU_HTTP_JSON:
		v = json_pack("{ss}", "error", msg);
		rc = mu_http_json(rp, v);
		rp->status = status;
		return rc;
	case MU_HTTP_HTML:
		if (mu_html_head(&rp->body, msg, strlen(msg)) != 0 ||
		    mu_html_raw(&rp->body, "<h1>") != 0 ||
		    mu_html_fmt(&rp->body, "%u ", status) != 0 ||
		    mu_html_str(&rp->body, msg) != 0 ||
		    mu_html_raw(&rp->body,
		                "</h1>\n<p><a href=\"/\">The calendar</a></p>\n") !=
		        0 ||
		    mu_html_foot(&rp->body) != 0)
			return MU_ENOMEM;
		return 0;
	case MU_HTTP_TEXT:
	case MU_HTTP_ICS:
		break;
	}
	rp->type = NULL;
	if (mu_buf_append(&rp->body, msg, strlen(msg)) != 0 ||
	    mu_buf_push(&rp->body, '\n') != 0)
		return MU_ENOMEM;
	return 0;
}

/* v as the API writes it (takes the reference); NULL when out of memory. */
static char *
dump(json_t *v)
{
	char *text;

	if (v == NULL)
		return NULL;
	text = json_dumps(v, JSON_COMPACT | MU_NODE_JSON_REAL);
	json_decref(v);
	return text;
}

/* Appends before, then v's text (takes the reference), then after. */
static int
append_json(struct mu_buf *out, const char *before, json_t *v, const char *after)
{
	char *text = dump(v);
	int rc;

	if (text == NULL)
		return MU_ENOMEM;
	rc = mu_buf_append(out, before, strlen(before));
	if (rc == 0)
		rc = mu_buf_append(out, text, strlen(text));
	if (rc == 0)
		rc = mu_buf_append(out, after, strlen(after));
	free(text);
	return rc;
}

int
mu_http_json(struct mu_http_reply *rp, json_t *v)
{
	mu_buf_free(&rp->body);
	rp->status = 200;
	rp->form = MU_HTTP_JSON;
	return append_json(&rp->body, "", v, "\n");
}

char *
mu_http_json_open(json_t *v, const char *more)
{
	char *text = dump(v), *head = NULL;
	size_t n;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	if (n > 0 && (head = malloc(n + strlen(more))) != NULL) {
		memcpy(head, text, n - 1);
		strcpy(head + n - 1, more);
	}
	free(text);
	return head;
}

int
mu_http_json_item(struct mu_buf *out, json_t *v, bool first)
{
	return append_json(out, first ? "" : ",", v, "");
}

int
mu_http_json_close(void *ctx, struct mu_buf *out)
{
	(void)ctx;
	return mu_buf_append(out, "]}", 2);
}

/* A stream of mu_http_items_stream(). */
struct items_stream {
	struct mu_http_items it;
	bool started;
};

static int
items_next(void *ctx, uint64_t budget_ns, struct mu_buf *out, bool *done)
{
	struct items_stream *s = ctx;
	uint64_t start = uv_hrtime();
	bool called = false;
	int rc;

	if (!s->started) {
		if ((rc = mu_buf_append(out, s->it.head.data, s->it.head.len)) != 0)
			return rc;
		s->started = true;
	}
	while (!called || uv_hrtime() - start < budget_ns) {
		called = true;
		if ((rc = s->it.item(s->it.ctx, out)) < 0)
			return rc;
		if (rc == MU_HTTP_END) {
			if ((rc = s->it.tail(s->it.ctx, out)) != 0)
				return rc;
			*done = true;
			return 0;
		}
	}
	return 0;
}

static void
items_free(void *ctx)
{
	struct items_stream *s = ctx;

	s->it.free(s->it.ctx);
	mu_buf_free(&s->it.head);
	free(s);
}

int
mu_http_items_stream(struct mu_http_reply *rp, enum mu_http_form form,
                     struct mu_http_items *it)
{
	struct items_stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		it->free(it->ctx);
		mu_buf_free(&it->head);
		return MU_ENOMEM;
	}
	s->it = *it;
	it->head = (struct mu_buf)MU_BUF_INIT;
	mu_buf_free(&rp->body);
	rp->status = 200;
	rp->form = form;
	rp->stream = (struct mu_http_stream){items_next, items_free, s};
	return 0;
}

/* The items of mu_http_json_stream(): its JSON values, comma-separated. */
struct json_items {
	struct mu_http_json_stream js;
	bool first;
};

static int
json_items_item(void *ctx, struct mu_buf *out)
{
	struct json_items *s = ctx;
	json_t *v = NULL;
	int rc;

	if ((rc = s->js.item(s->js.ctx, &v)) != 0)
		return rc; /* an error, or MU_HTTP_SKIP */
	if (v == NULL)
		return MU_HTTP_END;
	rc = mu_http_json_item(out, v, s->first);
	s->first = false;
	return rc;
}

static int
json_items_tail(void *ctx, struct mu_buf *out)
{
	struct json_items *s = ctx;
	int rc = s->js.tail(s->js.ctx, out);

	return rc != 0 ? rc : mu_buf_push(out, '\n');
}

static void
json_items_free(void *ctx)
{
	struct json_items *s = ctx;

	s->js.free(s->js.ctx);
	free(s);
}

int
mu_http_json_stream(struct mu_http_reply *rp, const struct mu_http_json_stream *js)
{
	struct mu_http_items it = {MU_BUF_INIT, json_items_item, json_items_tail,
	                           json_items_free, NULL};
	struct json_items *s = NULL;

	if (js->head == NULL ||
	    mu_buf_append(&it.head, js->head, strlen(js->head)) != 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		js->free(js->ctx);
		free(js->head);
		mu_buf_free(&it.head);
		return MU_ENOMEM;
	}
	free(js->head);
	s->js = *js;
	s->js.head = NULL;
	s->first = true;
	it.ctx = s;
	return mu_http_items_stream(rp, MU_HTTP_JSON, &it);
}

const char *
mu_http_arg(const struct mu_http_req *rq, const char *key)
{
	size_t i;

	for (i = 0; i < rq->nargs; i++)
		if (strcmp(rq->args[i].key, key) == 0)
			return rq->args[i].value;
	return NULL;
}

int
mu_http_args_only(const struct mu_http_req *rq, struct mu_http_reply *rp,
                  const char *const *names)
{
	size_t i, j, k;

	for (i = 0; i < rq->nargs; i++) {
		for (k = 0; names[k] != NULL; k++)
			if (strcmp(rq->args[i].key, names[k]) == 0)
				break;
		if (names[k] == NULL) {
			mu_http_fail(rp, 400, "unknown query argument '%.64s'",
			             rq->args[i].key);
			return 1;
		}
		/* A second value would be ignored silently: refuse it. */
		for (j = 0; j < i; j++)
			if (strcmp(rq->args[i].key, rq->args[j].key) == 0) {
				mu_http_fail(rp, 400, "'%.64s' is given twice",
				             rq->args[i].key);
				return 1;
			}
	}
	return 0;
}

int
mu_http_key(const char *s, const char *what, uint8_t key[MU_KEY_BYTES],
            struct mu_http_reply *rp)
{
	struct mu_why why;

	if (mu_key_from_text(key, s, &why) == 0)
		return 0;
	mu_http_fail(rp, 400, "%s: '%.80s' is not a group key (mug1...): %s", what, s,
	             why.text);
	return 1;
}

int
mu_http_addr(const char *s, const char *what, enum mu_kind kind, struct mu_addr *addr,
             char *dbuf, struct mu_http_reply *rp)
{
	struct mu_why why;

	if (mu_addr_from_text(addr, s, &why) != 0) {
		mu_http_fail(rp, 400, "%s: '%.160s' is not an address KEY/%s/NAME: %s",
		             what, s, mu_kind_name(kind), why.text);
		return 1;
	}
	if (addr->kind != kind) {
		mu_http_fail(rp, 400,
		             "%s: '%.160s' is the address of a %s, not of a %s", what,
		             s, mu_kind_name(addr->kind), mu_kind_name(kind));
		return 1;
	}
	/* The text may be a temporary copy: d must not borrow from it. */
	memcpy(dbuf, addr->d.ptr, addr->d.len);
	dbuf[addr->d.len] = '\0';
	addr->d.ptr = dbuf;
	return 0;
}

/* Reads n decimal digits; -1 when one is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
mu_http_time(const char *s, const char *what, int64_t *t, struct mu_http_reply *rp)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	size_t n = strlen(s);
	bool ok;

	ok = n >= 10 && s[4] == '-' && s[7] == '-';
	y = digits(s, 4);
	mo = ok ? digits(s + 5, 2) : -1;
	d = ok ? digits(s + 8, 2) : -1;
	if (ok && n > 10) {
		/* THH:MMZ or THH:MM:SSZ */
		ok = (n == 17 || n == 20) && s[10] == 'T' && s[13] == ':' &&
		     s[n - 1] == 'Z' && (n == 17 || s[16] == ':');
		h = ok ? digits(s + 11, 2) : -1;
		mi = ok ? digits(s + 14, 2) : -1;
		sec = ok && n == 20 ? digits(s + 17, 2) : 0;
	}
	ok = ok && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h <= 23 &&
	     mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59;
	if (ok) {
		int64_t first = mu_civil_days(y, (unsigned)mo, 1);
		int64_t next = mo == 12 ? mu_civil_days(y + 1, 1, 1)
		                        : mu_civil_days(y, (unsigned)mo + 1, 1);

		/* 2026-02-30 is refused, not rolled over into March. */
		ok = d <= next - first;
		*t = (first + d - 1) * 86400 + h * 3600 + mi * 60 + sec;
	}
	if (ok)
		return 0;
	mu_http_fail(rp, 400,
	             "%s: '%.40s' is not a date YYYY-MM-DD or a UTC time "
	             "YYYY-MM-DDTHH:MM[:SS]Z from 1970 on",
	             what, s);
	return 1;
}
