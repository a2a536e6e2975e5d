/*
 * http_list.c - lists that grow with the store, written as streams
 * (http.h): the current versions of a kind read a record a call, as a JSON
 * list or as the items of a page, so that such a list holds the loop a
 * slice at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "../acts.h"
#include "http.h"

void
mu_http_cursor_init(struct mu_http_cursor *c, struct mu_store *st, enum mu_kind kind,
                    const uint8_t *group)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->kind = kind;
	if ((c->has_group = group != NULL))
		memcpy(c->group, group, MU_KEY_BYTES);
}

/* Visitor of mu_store_list_after(): copies the next record and stops. */
static int
take_one(void *ctx, const struct mu_record *rec)
{
	int rc = mu_node_recs_add(ctx, rec);

	return rc != 0 ? rc : 1;
}

int
mu_http_cursor_next(struct mu_http_cursor *c, struct mu_node_recs *one)
{
	int rc;

	if (c->ended)
		return MU_HTTP_END;
	rc = mu_store_list_after(c->st, c->kind, c->has_group ? c->group : NULL,
	                         &c->pos, take_one, one);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		c->ended = true;
		return MU_HTTP_END;
	}
	return MU_HTTP_ITEM;
}

/* --- a JSON list ----------------------------------------------------------- */

struct list {
	struct mu_http_list l;
	struct mu_http_cursor cur;
};

static int
list_item(void *ctx, json_t **v)
{
	struct list *s = ctx;
	struct mu_node_recs one = {0};
	int rc, err = 0;

	if ((rc = mu_http_cursor_next(&s->cur, &one)) != MU_HTTP_ITEM) {
		mu_node_recs_free(&one);
		return rc == MU_HTTP_END ? 0 : rc;
	}
	*v = s->l.item(s->l.ctx, &one.recs[0], &err);
	mu_node_recs_free(&one);
	if (*v == NULL && err != 0)
		return err;
	return *v == NULL ? MU_HTTP_SKIP : 0;
}

static void
list_free(void *ctx)
{
	struct list *s = ctx;

	if (s->l.free != NULL)
		s->l.free(s->l.ctx);
	free(s);
}

int
mu_http_list_stream(const struct mu_http_req *rq, struct mu_http_reply *rp,
                    const struct mu_http_list *l)
{
	struct mu_http_json_stream js = {l->head, list_item, mu_http_json_close,
	                                 list_free, NULL};
	struct list *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		if (l->free != NULL)
			l->free(l->ctx);
		free(l->head);
		return MU_ENOMEM;
	}
	s->l = *l;
	s->l.head = NULL; /* the stream owns it */
	mu_http_cursor_init(&s->cur, rq->node->store, l->kind, l->group);
	s->l.group = NULL;
	js.ctx = s;
	return mu_http_json_stream(rp, &js);
}

/* --- a page that is a list -------------------------------------------------- */

struct page_list {
	struct mu_http_page_list l;
	struct mu_buf one; /* the item being made: open goes before the first */
	bool any;
};

static int
page_item(void *ctx, struct mu_buf *out)
{
	struct page_list *s = ctx;
	int rc;

	s->one.len = 0;
	if ((rc = s->l.item(s->l.ctx, &s->one)) < 0)
		return rc;
	if (rc == MU_HTTP_ITEM && !s->any) {
		s->any = true;
		if ((rc = mu_html_raw(out, s->l.open)) != 0)
			return rc;
		rc = MU_HTTP_ITEM;
	}
	return mu_buf_append(out, s->one.data, s->one.len) != 0 ? MU_ENOMEM : rc;
}

static int
page_tail(void *ctx, struct mu_buf *out)
{
	struct page_list *s = ctx;
	int rc = mu_html_raw(out, s->any ? s->l.close : s->l.none);

	return rc != 0 ? rc : mu_html_foot(out);
}

static void
page_free(void *ctx)
{
	struct page_list *s = ctx;

	s->l.free(s->l.ctx);
	mu_buf_free(&s->one);
	free(s);
}

int
mu_http_page_list(struct mu_http_reply *rp, const struct mu_http_page_list *l)
{
	struct mu_http_items it = {rp->body, page_item, page_tail, page_free, NULL};
	struct page_list *s;

	rp->body = (struct mu_buf)MU_BUF_INIT; /* the stream's head now */
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		l->free(l->ctx);
		mu_buf_free(&it.head);
		return MU_ENOMEM;
	}
	s->l = *l;
	it.ctx = s;
	return mu_http_items_stream(rp, MU_HTTP_HTML, &it);
}
