/*
 * http_list.c - a list of the current versions of a kind as a JSON stream
 * (http.h): a record a call, so that a list that grows with the store holds
 * the loop a slice at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "../acts.h"
#include "http.h"

struct list {
	struct mu_http_list l;
	struct mu_store *st;
	bool has_group;
	uint8_t group[MU_KEY_BYTES];
	struct mu_store_list_pos pos;
	bool ended;
};

/* Visitor of mu_store_list_after(): copies the next record and stops. */
static int
take_one(void *ctx, const struct mu_record *rec)
{
	int rc = mu_node_recs_add(ctx, rec);

	return rc != 0 ? rc : 1;
}

static int
list_item(void *ctx, json_t **v)
{
	struct list *s = ctx;
	struct mu_node_recs one = {0};
	int rc, err = 0;

	if (s->ended)
		return 0;
	rc = mu_store_list_after(s->st, s->l.kind, s->has_group ? s->group : NULL,
	                         &s->pos, take_one, &one);
	if (rc <= 0) {
		mu_node_recs_free(&one);
		s->ended = rc == 0;
		return rc;
	}
	*v = s->l.item(s->l.ctx, &one.recs[0], &err);
	mu_node_recs_free(&one);
	if (*v == NULL && err != 0)
		return err;
	return *v == NULL ? 1 : 0; /* left out: the next call goes on */
}

static int
list_tail(void *ctx, struct mu_buf *out)
{
	(void)ctx;
	return mu_buf_append(out, "]}", 2);
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
	struct mu_http_json_stream js = {l->head, list_item, list_tail, list_free,
	                                 NULL};
	struct list *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		if (l->free != NULL)
			l->free(l->ctx);
		free(l->head);
		return MU_ENOMEM;
	}
	s->l = *l;
	s->l.head = NULL; /* the stream owns it */
	s->st = rq->node->store;
	if ((s->has_group = l->group != NULL))
		memcpy(s->group, l->group, MU_KEY_BYTES);
	s->l.group = NULL;
	js.ctx = s;
	return mu_http_json_stream(rp, &js);
}
