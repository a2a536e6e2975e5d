/*
 * signers.c - organizers' names by their keys (signers.h).
 */
#include "signers.h"

#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"

static int
load_one(void *ctx, const struct mu_record *rec)
{
	struct mu_node_signers *s = ctx;
	const struct mu_organizer *o = &rec->c.organizer;
	struct mu_node_signer *v;
	size_t len = o->name.len;

	if (mu_buf_grow_array(&s->v, &s->cap, s->n + 1, sizeof(*v), 16) != 0)
		return MU_ENOMEM;
	v = &s->v[s->n++];
	memcpy(v->group, rec->group, MU_KEY_BYTES);
	memcpy(v->key, o->key, MU_KEY_BYTES);
	if (len > MU_NODE_SIGNER_NAME_SIZE - 1)
		len = MU_NODE_SIGNER_NAME_SIZE - 1;
	memcpy(v->name, o->name.ptr, len);
	v->name[len] = '\0';
	return 0;
}

int
mu_node_signers_load(struct mu_node_signers *s, struct mu_store *st)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = mu_store_list(st, MU_KIND_ORGANIZER, NULL, load_one, s);
	if (rc == MU_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		mu_node_signers_free(s);
	return rc;
}

void
mu_node_signers_free(struct mu_node_signers *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const char *
mu_node_signer_name(const struct mu_node_signers *s, const struct mu_record *rec)
{
	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) == 0)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i].key, rec->signer, MU_KEY_BYTES) == 0 &&
		    memcmp(s->v[i].group, rec->group, MU_KEY_BYTES) == 0)
			return s->v[i].name;
	return NULL;
}

json_t *
mu_node_json_edited_by(json_t *o, const struct mu_node_signers *s,
                       const struct mu_record *rec)
{
	const char *name = mu_node_signer_name(s, rec);

	if (rec->kind != MU_KIND_EVENT)
		return o;
	if (o != NULL &&
	    json_object_set_new(o, "edited_by",
	                        name != NULL ? json_string(name) : json_null()) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}
