/*
 * The acts kinds on a node (acts.h): publishing a group's count, reading
 * tallies, totals and pledge states from the store.
 */
#include "acts.h"

#include <stdlib.h>
#include <string.h>

enum mu_kind
mu_node_acts_answer_kind(enum mu_kind k)
{
	switch (k) {
	case MU_KIND_EVENT:
		return MU_KIND_RSVP;
	case MU_KIND_PETITION:
		return MU_KIND_SIGNATURES;
	case MU_KIND_PLEDGE:
		return MU_KIND_PLEDGED;
	default:
		return MU_KIND_NONE;
	}
}

/* The target address an answer record names. */
static const struct mu_addr *
answer_target(const struct mu_record *rec)
{
	switch (rec->kind) {
	case MU_KIND_RSVP:
		return &rec->c.rsvp.event;
	case MU_KIND_TALLY:
		return &rec->c.tally.event;
	case MU_KIND_SIGNATURES:
		return &rec->c.signatures.petition;
	case MU_KIND_PLEDGED:
		return &rec->c.pledged.pledge;
	default:
		return NULL;
	}
}

static bool
addr_eq(const struct mu_addr *a, const struct mu_addr *b)
{
	return a->kind == b->kind && memcmp(a->group, b->group, MU_KEY_BYTES) == 0 &&
	       a->d.len == b->d.len && memcmp(a->d.ptr, b->d.ptr, a->d.len) == 0;
}

/* --- publishing ------------------------------------------------------------ */

/* The current record at an address, copied out of the read. */
struct copy {
	bool found;
	uint8_t *buf;
	struct mu_record rec;
};

static int
copy_rec(void *ctx, const struct mu_record *rec)
{
	struct copy *c = ctx;

	if ((c->buf = malloc(rec->raw_len)) == NULL)
		return MU_ENOMEM;
	memcpy(c->buf, rec->raw, rec->raw_len);
	/* The store parsed these very bytes: no second parse. */
	c->rec = *rec;
	mu_rec_move(&c->rec, c->buf);
	c->found = true;
	return 0;
}

/* The content c asks for, given the current record (when found): in rec. */
static void
fill(struct mu_record *rec, const struct mu_acts_count *c, const struct copy *cur)
{
	const struct mu_record *o = cur->found ? &cur->rec : NULL;
	bool flags = c->keep_flags && o != NULL, counts = c->only_flags && o != NULL;
	size_t i;

	switch (c->kind) {
	case MU_KIND_RSVP:
		rec->c.rsvp.event = c->target;
		rec->c.rsvp.about = flags ? o->c.rsvp.about : c->about;
		rec->c.rsvp.going = counts ? o->c.rsvp.going : c->count;
		rec->c.rsvp.has_waitlisted =
		    counts ? o->c.rsvp.has_waitlisted : c->has_waitlisted;
		rec->c.rsvp.waitlisted = counts ? o->c.rsvp.waitlisted : c->waitlisted;
		break;
	case MU_KIND_SIGNATURES:
		rec->c.signatures.petition = c->target;
		rec->c.signatures.as_group =
		    flags ? o->c.signatures.as_group : c->as_group;
		rec->c.signatures.count = counts ? o->c.signatures.count : c->count;
		rec->c.signatures.nnames = counts ? o->c.signatures.nnames : c->nnames;
		for (i = 0; i < rec->c.signatures.nnames; i++)
			rec->c.signatures.names[i] =
			    counts ? o->c.signatures.names[i] : c->names[i];
		break;
	default:
		rec->c.pledged.pledge = c->target;
		rec->c.pledged.as_group = flags ? o->c.pledged.as_group : c->as_group;
		rec->c.pledged.count = counts ? o->c.pledged.count : c->count;
		break;
	}
}

static bool
same_content(const struct mu_record *a, const struct mu_record *b)
{
	size_t i;

	switch (a->kind) {
	case MU_KIND_RSVP:
		return a->c.rsvp.going == b->c.rsvp.going &&
		       a->c.rsvp.about == b->c.rsvp.about &&
		       a->c.rsvp.has_waitlisted == b->c.rsvp.has_waitlisted &&
		       (!a->c.rsvp.has_waitlisted ||
		        a->c.rsvp.waitlisted == b->c.rsvp.waitlisted);
	case MU_KIND_SIGNATURES:
		if (a->c.signatures.count != b->c.signatures.count ||
		    a->c.signatures.as_group != b->c.signatures.as_group ||
		    a->c.signatures.nnames != b->c.signatures.nnames)
			return false;
		for (i = 0; i < a->c.signatures.nnames; i++)
			if (a->c.signatures.names[i].len !=
			        b->c.signatures.names[i].len ||
			    memcmp(a->c.signatures.names[i].ptr,
			           b->c.signatures.names[i].ptr,
			           a->c.signatures.names[i].len) != 0)
				return false;
		return true;
	default:
		return a->c.pledged.count == b->c.pledged.count &&
		       a->c.pledged.as_group == b->c.pledged.as_group;
	}
}

int
mu_node_acts_store(struct mu_store *st, const struct mu_home *home,
                   struct mu_record *rec, int64_t now, struct mu_why *why)
{
	const uint8_t *sk = home->org_secret != NULL ? home->org_secret : home->secret;
	const struct mu_record *one[1];
	struct mu_record built;
	enum mu_put_result res;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (sk == NULL)
		return mu_fail(why, MU_EPERM,
		               "this home holds no key to sign the %s with",
		               mu_kind_name(rec->kind));
	memcpy(rec->group, home->group, MU_KEY_BYTES);
	memcpy(rec->signer, sk == home->org_secret ? home->organizer : home->group,
	       MU_KEY_BYTES);
	rec->created_at = now;
	if ((rc = mu_rec_build_parsed(rec, sk, now, &buf, &len, &built, why)) != 0)
		return rc;
	one[0] = &built;
	rc = mu_store_put(st, one, 1, &res, why);
	if (rc == 0 && res != MU_PUT_NEW && res != MU_PUT_DUPLICATE)
		rc = mu_fail(why, MU_ERECORD, "the store answered %s for the %s",
		             mu_put_result_name(res), mu_kind_name(rec->kind));
	free(buf);
	return rc;
}

int
mu_node_acts_publish(struct mu_store *st, const struct mu_home *home,
                     const struct mu_acts_count *c, int64_t now, bool *changed,
                     struct mu_why *why)
{
	char d[MU_D_ADDR_LEN + 1];
	struct copy cur = {false, NULL, {0}};
	struct mu_record *rec = NULL;
	struct mu_addr a;
	int rc;

	if (changed != NULL)
		*changed = false;
	if (mu_node_acts_answer_kind(c->target.kind) != c->kind)
		return mu_fail(
		    why, MU_EINVAL, "a %s does not answer a %s",
		    mu_kind_name(c->kind) ? mu_kind_name(c->kind) : "?",
		    mu_kind_name(c->target.kind) ? mu_kind_name(c->target.kind) : "?");
	if (c->nnames > MU_NAMES_MAX)
		return mu_fail(why, MU_EINVAL, "%zu shown names, at most %d", c->nnames,
		               MU_NAMES_MAX);
	mu_rec_addr_d(&c->target, d);
	memset(&a, 0, sizeof(a));
	memcpy(a.group, home->group, MU_KEY_BYTES);
	a.kind = c->kind;
	a.d.ptr = d;
	a.d.len = MU_D_ADDR_LEN;
	rc = mu_store_get_addr(st, &a, copy_rec, &cur);
	if (rc == MU_ENOTFOUND)
		rc = 0;
	if (rc != 0) {
		rc = mu_fail(why, rc, "cannot read the group's current %s: %s",
		             mu_kind_name(c->kind), mu_strerror(rc));
		goto out;
	}
	if ((rec = calloc(1, sizeof(*rec))) == NULL) {
		rc = mu_fail(why, MU_ENOMEM, "out of memory");
		goto out;
	}
	rec->kind = c->kind;
	rec->d = a.d;
	fill(rec, c, &cur);
	if (cur.found && same_content(rec, &cur.rec))
		goto out;
	if (cur.found &&
	    (rc = mu_node_acts_next_rev(rec, cur.rec.rev, cur.rec.id, why)) != 0)
		goto out;
	rc = mu_node_acts_store(st, home, rec, now, why);
	if (rc == 0 && changed != NULL)
		*changed = true;
out:
	free(rec);
	free(cur.buf);
	return rc;
}

int
mu_node_acts_next_rev(struct mu_record *rec, uint32_t rev,
                      const uint8_t id[MU_ID_BYTES], struct mu_why *why)
{
	if (rev >= MU_REV_MAX)
		return mu_fail(why, MU_ERECORD, "the %s's rev reached the maximum",
		               mu_kind_name(rec->kind));
	rec->rev = rev + 1;
	rec->has_replaces = true;
	memcpy(rec->replaces, id, MU_ID_BYTES);
	return 0;
}

/* --- reading ------------------------------------------------------------- */

static int
copy_tally(void *ctx, const struct mu_record *rec)
{
	struct mu_why why = {0};
	struct {
		struct mu_tally *t;
		int64_t made_at;
	} *x = ctx;

	x->made_at = rec->created_at;
	return mu_tally_from_rec(x->t, rec, &why);
}

int
mu_node_acts_tally(struct mu_store *st, const struct mu_addr *event,
                   struct mu_tally *out, int64_t *made_at)
{
	char d[MU_D_ADDR_LEN + 1];
	struct mu_addr a;
	struct {
		struct mu_tally *t;
		int64_t made_at;
	} x = {out, 0};
	int rc;

	mu_rec_addr_d(event, d);
	memset(&a, 0, sizeof(a));
	memcpy(a.group, event->group, MU_KEY_BYTES);
	a.kind = MU_KIND_TALLY;
	a.d.ptr = d;
	a.d.len = MU_D_ADDR_LEN;
	rc = mu_store_get_addr(st, &a, copy_tally, &x);
	if (rc == 0 && made_at != NULL)
		*made_at = x.made_at;
	return rc;
}

struct scope_walk {
	uint8_t (*keys)[MU_KEY_BYTES];
	size_t max, n;
};

static int
add_ally(void *ctx, const struct mu_alliance_view *v)
{
	struct scope_walk *w = ctx;

	if (v->state == MU_ALLY_MUTUAL && w->n < w->max)
		memcpy(w->keys[w->n++], v->other, MU_KEY_BYTES);
	return 0;
}

int
mu_node_acts_scope(struct mu_store *st, const uint8_t g[MU_KEY_BYTES],
                   uint8_t (*keys)[MU_KEY_BYTES], size_t max, size_t *n)
{
	struct scope_walk w = {keys, max, 0};
	int rc;

	*n = 0;
	if (max == 0)
		return 0;
	memcpy(keys[w.n++], g, MU_KEY_BYTES);
	rc = mu_store_alliances(st, g, add_ally, &w);
	*n = w.n;
	return rc;
}

struct each {
	const struct mu_addr *target;
	char d[MU_D_ADDR_LEN + 1];
	uint8_t scope[MU_ACTS_SCOPE_MAX][MU_KEY_BYTES];
	size_t nscope;
	mu_store_visit_fn fn;
	void *ctx;
};

static bool
in(const uint8_t (*keys)[MU_KEY_BYTES], size_t n, const uint8_t *k)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(keys[i], k, MU_KEY_BYTES) == 0)
			return true;
	return false;
}

static int
each_one(void *ctx, const struct mu_record *rec)
{
	struct each *e = ctx;
	const struct mu_addr *t = answer_target(rec);

	if (rec->d.len != MU_D_ADDR_LEN ||
	    memcmp(rec->d.ptr, e->d, MU_D_ADDR_LEN) != 0 || t == NULL ||
	    !addr_eq(t, e->target) ||
	    !in((const uint8_t(*)[MU_KEY_BYTES])e->scope, e->nscope, rec->group))
		return 0;
	return e->fn(e->ctx, rec);
}

int
mu_node_acts_each(struct mu_store *st, const struct mu_addr *target, enum mu_kind kind,
                  mu_store_visit_fn fn, void *ctx)
{
	struct each *e = malloc(sizeof(*e));
	int rc;

	if (e == NULL)
		return MU_ENOMEM;
	e->target = target;
	e->fn = fn;
	e->ctx = ctx;
	mu_rec_addr_d(target, e->d);
	rc = mu_node_acts_scope(st, target->group, e->scope, MU_ACTS_SCOPE_MAX,
	                        &e->nscope);
	if (rc == 0)
		rc = mu_store_list(st, kind, NULL, each_one, e);
	free(e);
	return rc;
}

static int
add_part(void *ctx, const struct mu_record *rec)
{
	struct mu_acts_total *t = ctx;
	struct mu_acts_part p;

	memset(&p, 0, sizeof(p));
	memcpy(p.group, rec->group, MU_KEY_BYTES);
	p.created_at = rec->created_at;
	switch (rec->kind) {
	case MU_KIND_RSVP:
		p.count = rec->c.rsvp.going;
		p.about = rec->c.rsvp.about;
		p.has_waitlisted = rec->c.rsvp.has_waitlisted;
		p.waitlisted = rec->c.rsvp.waitlisted;
		break;
	case MU_KIND_SIGNATURES:
		p.count = rec->c.signatures.count;
		p.as_group = rec->c.signatures.as_group;
		p.nnames = (uint32_t)rec->c.signatures.nnames;
		break;
	default:
		p.count = rec->c.pledged.count;
		p.as_group = rec->c.pledged.as_group;
		break;
	}
	t->total += p.count;
	t->as_groups += p.as_group ? 1 : 0;
	if (t->n < MU_ACTS_PARTS_MAX)
		t->parts[t->n++] = p;
	else
		t->truncated = true;
	return 0;
}

int
mu_node_acts_total(struct mu_store *st, const struct mu_addr *target,
                   struct mu_acts_total *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = mu_node_acts_answer_kind(target->kind);
	if (out->kind == MU_KIND_NONE)
		return MU_EINVAL;
	return mu_node_acts_each(st, target, out->kind, add_part, out);
}

int
mu_node_recs_add(void *ctx, const struct mu_record *rec)
{
	struct mu_node_recs *h = ctx;
	void *p;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;

		if ((p = realloc(h->recs, cap * sizeof(*h->recs))) == NULL)
			return h->err = MU_ENOMEM;
		h->recs = p;
		if ((p = realloc(h->bufs, cap * sizeof(*h->bufs))) == NULL)
			return h->err = MU_ENOMEM;
		h->bufs = p;
		h->cap = cap;
	}
	if ((h->bufs[h->n] = malloc(rec->raw_len)) == NULL)
		return h->err = MU_ENOMEM;
	memcpy(h->bufs[h->n], rec->raw, rec->raw_len);
	/* The store parsed these very bytes: no second parse. */
	h->recs[h->n] = *rec;
	mu_rec_move(&h->recs[h->n], h->bufs[h->n]);
	h->n++;
	return 0;
}

int
mu_node_recs_list(struct mu_store *st, enum mu_kind kind, const uint8_t *group,
                  struct mu_node_recs *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mu_store_list(st, kind, group, mu_node_recs_add, out);
	return rc != 0 ? rc : out->err;
}

void
mu_node_recs_free(struct mu_node_recs *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->bufs[i]);
	free(h->bufs);
	free(h->recs);
	memset(h, 0, sizeof(*h));
}

int
mu_node_acts_pledge(struct mu_store *st, const struct mu_addr *pledge,
                    struct mu_pledge_state *out)
{
	struct mu_node_recs pl = {0}, ans = {0};
	const struct mu_record **v = NULL;
	uint8_t(*scope)[MU_KEY_BYTES] = NULL;
	size_t nscope = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mu_store_get_addr(st, pledge, mu_node_recs_add, &pl);
	if (rc == 0 && pl.err != 0)
		rc = pl.err;
	if (rc != 0)
		goto done;
	if ((scope = malloc(MU_ACTS_SCOPE_MAX * sizeof(*scope))) == NULL) {
		rc = MU_ENOMEM;
		goto done;
	}
	if ((rc = mu_node_acts_scope(st, pledge->group, scope, MU_ACTS_SCOPE_MAX,
	                             &nscope)) != 0)
		goto done;
	rc = mu_node_acts_each(st, pledge, MU_KIND_PLEDGED, mu_node_recs_add, &ans);
	if (rc == 0 && ans.err != 0)
		rc = ans.err;
	if (rc != 0)
		goto done;
	if ((v = malloc((ans.n + 1) * sizeof(*v))) == NULL) {
		rc = MU_ENOMEM;
		goto done;
	}
	for (i = 0; i < ans.n; i++)
		v[i] = &ans.recs[i];
	mu_pledge_eval(&pl.recs[0], v, ans.n, (const uint8_t(*)[MU_KEY_BYTES])scope,
	               nscope, out);
done:
	free(v);
	free(scope);
	mu_node_recs_free(&pl);
	mu_node_recs_free(&ans);
	return rc;
}
