/*
 * negentropy.c - negentropy protocol v1 (negentropy.h).
 *
 * The control flow mirrors the reference implementation (hoytech/negentropy,
 * cpp/negentropy.h) step for step, because interoperability depends on
 * splitting ranges exactly as it does; the parsing is ours and distrusts
 * every length it reads.
 */
#include "negentropy.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define FP_BYTES 16
#define BUCKETS  16
#define INF      UINT64_MAX

enum mode { MODE_SKIP = 0, MODE_FINGERPRINT = 1, MODE_IDLIST = 2 };

struct bound {
	uint64_t ts;
	uint8_t id[MU_NEG_ID_BYTES]; /* zero-padded past idlen */
	size_t idlen;
};

/* Initiator: the items of the IdList ranges of one message it wrote, and
 * those ranges (wire bounds), with each item's rank then. */
struct listed_item {
	struct mu_neg_item it;
	size_t rank;
};

struct listed_range {
	struct bound lo, hi;
	size_t first, n; /* items [first, first + n) */
};

struct listed {
	struct listed_item *items;
	struct listed_range *ranges;
	size_t n, cap, nranges, capranges;
};

struct mu_neg {
	struct mu_neg_source src;
	const struct mu_neg_item *items; /* mu_neg_new()'s, for its source */
	size_t n;                        /* its size; the source's per message */
	size_t frame_limit;
	bool initiator;
	bool push; /* responder: list only common ids, report the rest */
	mu_neg_range_fn push_range; /* ranges they hold nothing of */
	uint64_t last_in, last_out;
	struct bound out_bound; /* the last bound written in this message */
	/* Initiator: what the message the answer replies to listed (sent),
	 * and what the one being written lists. An IdList range of the
	 * answer within one we listed is compared with the items we listed,
	 * not with the set as it is now: between the two messages a source
	 * may gain every record the responder pushed before answering (a
	 * catch-up: a million), which a walk of the range would visit one by
	 * one, in one call, to report none of them. */
	struct listed sent, writing;
};

struct reader {
	const uint8_t *p;
	size_t left;
	struct mu_why *why;
};

/* --- encoding ------------------------------------------------------------- */

/* varint(v) at the end of tmp; returns where it starts. */
static int
varint(uint8_t tmp[10], uint64_t v)
{
	int i = 10;

	do {
		tmp[--i] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v != 0);
	for (int j = i; j < 9; j++)
		tmp[j] |= 0x80;
	return i;
}

static int
put_varint(struct mu_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int i = varint(tmp, v);

	return mu_buf_append(b, tmp + i, (size_t)(10 - i));
}

static int
put_bound(struct mu_neg *neg, struct mu_buf *b, const struct bound *bd)
{
	int rc;

	neg->out_bound = *bd;
	if (bd->ts == INF) {
		neg->last_out = INF;
		rc = put_varint(b, 0);
	} else {
		rc = put_varint(b, bd->ts - neg->last_out + 1);
		neg->last_out = bd->ts;
	}
	if (rc == 0)
		rc = put_varint(b, bd->idlen);
	if (rc == 0)
		rc = mu_buf_append(b, bd->id, bd->idlen);
	return rc;
}

/* --- decoding ------------------------------------------------------------- */

static int
get_varint(struct reader *r, uint64_t *out)
{
	uint64_t v = 0;

	/* Defined on failure too: gcc -O3 cannot see that mu_fail() never
	 * returns 0, and warns in every caller. */
	*out = 0;
	for (;;) {
		uint8_t byte;

		if (r->left == 0)
			return mu_fail(r->why, MU_EFORMAT,
			               "negentropy: message ends inside a varint");
		if (v >> 57)
			return mu_fail(r->why, MU_EFORMAT,
			               "negentropy: varint does not fit 64 bits");
		byte = *r->p++;
		r->left--;
		v = (v << 7) | (byte & 0x7f);
		if (!(byte & 0x80))
			break;
	}
	*out = v;
	return 0;
}

static int
get_bytes(struct reader *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return mu_fail(r->why, MU_EFORMAT,
		               "negentropy: message ends %zu bytes early", n - r->left);
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
get_bound(struct mu_neg *neg, struct reader *r, struct bound *bd)
{
	uint64_t ts, len;
	const uint8_t *id = NULL;
	int rc;

	if ((rc = get_varint(r, &ts)) != 0)
		return rc;
	ts = ts == 0 ? INF : ts - 1;
	ts += neg->last_in;
	if (ts < neg->last_in) /* saturate, as the reference does */
		ts = INF;
	neg->last_in = ts;
	if ((rc = get_varint(r, &len)) != 0)
		return rc;
	if (len > MU_NEG_ID_BYTES)
		return mu_fail(r->why, MU_EFORMAT,
		               "negentropy: bound id prefix of %llu bytes, at most 32",
		               (unsigned long long)len);
	if ((rc = get_bytes(r, len, &id)) != 0)
		return rc;
	bd->ts = ts;
	memset(bd->id, 0, sizeof(bd->id));
	memcpy(bd->id, id, len);
	bd->idlen = len;
	return 0;
}

/* --- the item set ------------------------------------------------------- */

static int
item_cmp_bound(const struct mu_neg_item *it, uint64_t ts,
               const uint8_t id[MU_NEG_ID_BYTES])
{
	if (it->ts != ts)
		return it->ts < ts ? -1 : 1;
	return memcmp(it->id, id, MU_NEG_ID_BYTES);
}

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
mu_neg_sum_add(uint64_t acc[4], const uint64_t x[4])
{
	uint64_t carry = 0;

	for (int l = 0; l < 4; l++) {
		uint64_t s = acc[l] + x[l];
		uint64_t c = s < x[l];

		s += carry;
		c |= s < carry;
		acc[l] = s;
		carry = c;
	}
}

void
mu_neg_sum_id(uint64_t acc[4], const uint8_t id[MU_NEG_ID_BYTES])
{
	const uint64_t x[4] = {load_le64(id), load_le64(id + 8), load_le64(id + 16),
	                       load_le64(id + 24)};

	mu_neg_sum_add(acc, x);
}

/* The source of mu_neg_new(): the array, summed range by range. */
static int
array_size(void *ctx, size_t *n)
{
	*n = ((struct mu_neg *)ctx)->n;
	return 0;
}

static int
array_seek_bound(void *ctx, uint64_t ts, const uint8_t id[MU_NEG_ID_BYTES],
                 struct mu_neg_pos *pos)
{
	const struct mu_neg *neg = ctx;
	size_t lo = 0, hi = neg->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (item_cmp_bound(&neg->items[mid], ts, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memset(pos, 0, sizeof(*pos));
	pos->rank = lo;
	return 0;
}

static int
array_seek_rank(void *ctx, size_t rank, struct mu_neg_pos *pos, struct mu_neg_item *at,
                struct mu_neg_item *before)
{
	const struct mu_neg *neg = ctx;

	memset(pos, 0, sizeof(*pos));
	pos->rank = rank;
	if (at != NULL && rank < neg->n)
		*at = neg->items[rank];
	if (before != NULL && rank > 0 && rank <= neg->n)
		*before = neg->items[rank - 1];
	return 0;
}

static int
array_range_sum(void *ctx, const struct mu_neg_pos *lo, const struct mu_neg_pos *hi,
                uint64_t sum[4])
{
	const struct mu_neg *neg = ctx;

	memset(sum, 0, 4 * sizeof(*sum));
	for (size_t i = lo->rank; i < hi->rank; i++)
		mu_neg_sum_id(sum, neg->items[i].id);
	return 0;
}

static int
array_each(void *ctx, size_t rank, mu_neg_item_fn fn, void *arg)
{
	const struct mu_neg *neg = ctx;
	int rc = 0;

	for (size_t i = rank; rc == 0 && i < neg->n; i++)
		rc = fn(arg, &neg->items[i], i);
	return rc < 0 ? rc : 0;
}

void
mu_neg_fingerprint(const uint64_t sum[4], uint64_t count, uint8_t out[MU_NEG_FP_BYTES])
{
	uint8_t in[32 + 10], hash[crypto_hash_sha256_BYTES];
	size_t len = 32;
	uint8_t tmp[10];
	int i = varint(tmp, count);

	for (int l = 0; l < 4; l++)
		store_le64(in + 8 * l, sum[l]);
	memcpy(in + len, tmp + i, (size_t)(10 - i));
	len += (size_t)(10 - i);
	crypto_hash_sha256(hash, in, len);
	memcpy(out, hash, MU_NEG_FP_BYTES);
}

/* SHA-256 of (sum of ids mod 2^256, little-endian) || varint(count), cut
 * to 16 bytes. */
static int
fingerprint(const struct mu_neg *neg, const struct mu_neg_pos *lo,
            const struct mu_neg_pos *hi, uint8_t out[FP_BYTES])
{
	uint64_t sum[4];
	int rc;

	if ((rc = neg->src.range_sum(neg->src.ctx, lo, hi, sum)) != 0)
		return rc;
	mu_neg_fingerprint(sum, hi->rank - lo->rank, out);
	return 0;
}

/* The shortest bound that separates prev from curr. */
static void
minimal_bound(const struct mu_neg_item *prev, const struct mu_neg_item *curr,
              struct bound *bd)
{
	size_t shared = 0;

	memset(bd, 0, sizeof(*bd));
	bd->ts = curr->ts;
	if (curr->ts != prev->ts)
		return;
	while (shared < MU_NEG_ID_BYTES && curr->id[shared] == prev->id[shared])
		shared++;
	bd->idlen = shared + 1;
	memcpy(bd->id, curr->id, bd->idlen);
}

static void
item_bound(const struct mu_neg_item *it, struct bound *bd)
{
	bd->ts = it->ts;
	memcpy(bd->id, it->id, MU_NEG_ID_BYTES);
	bd->idlen = MU_NEG_ID_BYTES;
}

/* A walk over the ids of [rank, end): appends each to out, and to listed
 * when not NULL. */
struct id_walk {
	struct mu_buf *out;
	size_t end;
	struct listed *listed;
};

static int
append_id(void *arg, const struct mu_neg_item *it, size_t rank)
{
	struct id_walk *w = arg;
	struct listed *l = w->listed;

	if (rank >= w->end)
		return 1;
	if (l != NULL) {
		if (mu_buf_grow_array(&l->items, &l->cap, l->n + 1, sizeof(*l->items),
		                      64) != 0)
			return MU_ENOMEM;
		l->items[l->n].it = *it;
		l->items[l->n++].rank = rank;
	}
	return mu_buf_append(w->out, it->id, MU_NEG_ID_BYTES);
}

static int
bound_cmp(const struct bound *a, const struct bound *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(a->id, b->id, MU_NEG_ID_BYTES);
}

/* An initiator's IdList range [lo, hi) whose items start at first in
 * neg->writing. */
static int
listed_add(struct mu_neg *neg, const struct bound *lo, const struct bound *hi,
           size_t first)
{
	struct listed *l = &neg->writing;

	if (mu_buf_grow_array(&l->ranges, &l->capranges, l->nranges + 1,
	                      sizeof(*l->ranges), 16) != 0)
		return MU_ENOMEM;
	l->ranges[l->nranges].lo = *lo;
	l->ranges[l->nranges].hi = *hi;
	l->ranges[l->nranges].first = first;
	l->ranges[l->nranges++].n = l->n - first;
	return 0;
}

/* The range of neg->sent that holds [lo, hi), or NULL. Its ranges are in
 * the order of the message: the last that starts at or before lo. */
static const struct listed_range *
listed_cover(const struct mu_neg *neg, const struct bound *lo, const struct bound *hi)
{
	const struct listed *l = &neg->sent;
	size_t a = 0, b = l->nranges;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (bound_cmp(&l->ranges[mid].lo, lo) <= 0)
			a = mid + 1;
		else
			b = mid;
	}
	if (a == 0 || bound_cmp(hi, &l->ranges[a - 1].hi) > 0)
		return NULL;
	return &l->ranges[a - 1];
}

/* A message begins: nothing listed in it yet. */
static void
message_begin(struct mu_neg *neg)
{
	neg->last_out = 0;
	memset(&neg->out_bound, 0, sizeof(neg->out_bound));
	neg->writing.n = neg->writing.nranges = 0;
}

/* The initiator's message is written: its listing is what the answer's
 * ranges are compared with. */
static void
message_sent(struct mu_neg *neg)
{
	struct listed t = neg->sent;

	neg->sent = neg->writing;
	neg->writing = t;
	neg->writing.n = neg->writing.nranges = 0;
}

static int
split_range(struct mu_neg *neg, struct mu_buf *o, const struct mu_neg_pos *lo,
            const struct mu_neg_pos *hi, const struct bound *upper)
{
	size_t count = hi->rank - lo->rank;
	int rc;

	if (count < BUCKETS * 2) {
		struct id_walk w = {o, hi->rank, neg->initiator ? &neg->writing : NULL};
		struct bound lower = neg->out_bound;
		size_t before, first = neg->writing.n;

		if ((rc = put_bound(neg, o, upper)) != 0 ||
		    (rc = put_varint(o, MODE_IDLIST)) != 0 ||
		    (rc = put_varint(o, count)) != 0)
			return rc;
		before = o->len;
		if (count > 0 &&
		    (rc = neg->src.each(neg->src.ctx, lo->rank, append_id, &w)) != 0)
			return rc;
		/* A source that ended early gave fewer ids than it counted. */
		if (o->len - before != count * MU_NEG_ID_BYTES)
			return MU_ECORRUPT;
		return neg->initiator ? listed_add(neg, &lower, upper, first) : 0;
	}

	size_t per = count / BUCKETS, extra = count % BUCKETS;
	struct mu_neg_pos cur = *lo, next_pos;

	for (size_t b = 0; b < BUCKETS; b++) {
		size_t size = per + (b < extra ? 1 : 0);
		uint8_t fp[FP_BYTES];
		struct bound next;

		if (cur.rank + size == hi->rank) {
			next_pos = *hi;
			next = *upper;
		} else {
			struct mu_neg_item at, before;

			if ((rc = neg->src.seek_rank(neg->src.ctx, cur.rank + size,
			                             &next_pos, &at, &before)) != 0)
				return rc;
			minimal_bound(&before, &at, &next);
		}
		if ((rc = fingerprint(neg, &cur, &next_pos, fp)) != 0)
			return rc;
		cur = next_pos;
		if ((rc = put_bound(neg, o, &next)) != 0 ||
		    (rc = put_varint(o, MODE_FINGERPRINT)) != 0 ||
		    (rc = mu_buf_append(o, fp, FP_BYTES)) != 0)
			return rc;
	}
	return 0;
}

static bool
over_limit(const struct mu_neg *neg, size_t n)
{
	return neg->frame_limit != 0 && n > neg->frame_limit - 200;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MU_NEG_ID_BYTES);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct mu_neg_item *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return memcmp(x->id, y->id, MU_NEG_ID_BYTES);
}

void
mu_neg_sort(struct mu_neg_item *items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
}

/* Their ids of an IdList range, sorted and without repeats (a repeated id
 * is one id, as in the reference's set): *out is malloc()ed (NULL for none),
 * *uniq its count. */
static int
sorted_ids(const uint8_t *theirs, size_t count, uint8_t **out, size_t *uniq)
{
	uint8_t *sorted;

	*out = NULL;
	*uniq = 0;
	if (count == 0)
		return 0;
	if ((sorted = malloc(count * MU_NEG_ID_BYTES)) == NULL)
		return MU_ENOMEM;
	memcpy(sorted, theirs, count * MU_NEG_ID_BYTES);
	qsort(sorted, count, MU_NEG_ID_BYTES, id_cmp);
	for (size_t i = 0; i < count; i++)
		if (*uniq == 0 ||
		    memcmp(sorted + (*uniq - 1) * MU_NEG_ID_BYTES,
		           sorted + i * MU_NEG_ID_BYTES, MU_NEG_ID_BYTES) != 0)
			memmove(sorted + (*uniq)++ * MU_NEG_ID_BYTES,
			        sorted + i * MU_NEG_ID_BYTES, MU_NEG_ID_BYTES);
	*out = sorted;
	return 0;
}

static const uint8_t *
find_id(const uint8_t *sorted, size_t uniq, const uint8_t *id)
{
	return uniq ? bsearch(id, sorted, uniq, MU_NEG_ID_BYTES, id_cmp) : NULL;
}

/* Our items between the bounds from and to, of which the other side listed
 * none, given whole to push_range: the caller walks the range itself when
 * it sends, rather than being given every item now. */
static int
push_whole(const struct mu_neg *neg, const struct bound *from, const struct bound *to,
           void *ctx)
{
	struct mu_neg_item a = {from->ts, {0}}, b = {to->ts, {0}};

	memcpy(a.id, from->id, MU_NEG_ID_BYTES);
	memcpy(b.id, to->id, MU_NEG_ID_BYTES);
	return neg->push_range(ctx, &a, &b);
}

/* Initiator side of an IdList range: report what differs. */
struct diff_walk {
	const uint8_t *sorted;
	uint8_t *seen;
	size_t uniq, end;
	mu_neg_id_fn have;
	void *ctx;
};

static int
diff_one(void *arg, const struct mu_neg_item *it, size_t rank)
{
	struct diff_walk *w = arg;
	const uint8_t *hit;

	if (rank >= w->end)
		return 1;
	hit = find_id(w->sorted, w->uniq, it->id);
	if (hit != NULL)
		w->seen[(size_t)(hit - w->sorted) / MU_NEG_ID_BYTES] = 1;
	else if (w->have != NULL)
		return w->have(w->ctx, it->id, rank);
	return 0;
}

/* The initiator's side of the answer's IdList range [lo, hi) (ranks) that
 * lies between the bounds from and to: our items there are those we listed
 * when lr holds the range, else the source's; with none of theirs listed,
 * the source's go whole to push_range when there is one. */
static int
diff_ids(const struct mu_neg *neg, size_t lo, size_t hi, const struct listed_range *lr,
         const struct bound *from, const struct bound *to, const uint8_t *theirs,
         size_t count, mu_neg_id_fn have, mu_neg_id_fn need, void *ctx)
{
	struct diff_walk w = {NULL, NULL, 0, hi, have, ctx};
	uint8_t *sorted = NULL;
	size_t uniq = 0;
	int rc;

	if (count == 0 && lr == NULL && lo < hi && neg->push_range != NULL)
		return push_whole(neg, from, to, ctx);
	if ((rc = sorted_ids(theirs, count, &sorted, &uniq)) != 0)
		return rc;
	if (uniq > 0 && (w.seen = calloc(uniq, 1)) == NULL) {
		rc = MU_ENOMEM;
		goto out;
	}
	w.sorted = sorted;
	w.uniq = uniq;
	/* A callback's nonzero value stops the walk and is returned. */
	if (lr != NULL) {
		w.end = SIZE_MAX;
		for (size_t i = lr->first; i < lr->first + lr->n; i++) {
			const struct listed_item *li = &neg->sent.items[i];

			if (item_cmp_bound(&li->it, from->ts, from->id) < 0 ||
			    item_cmp_bound(&li->it, to->ts, to->id) >= 0)
				continue;
			if ((rc = diff_one(&w, &li->it, li->rank)) != 0)
				goto out;
		}
	} else if (lo < hi &&
	           (rc = neg->src.each(neg->src.ctx, lo, diff_one, &w)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < uniq; i++)
		if (!w.seen[i] && need != NULL &&
		    (rc = need(ctx, sorted + i * MU_NEG_ID_BYTES, MU_NEG_THEIRS)) != 0)
			goto out;
out:
	free(sorted);
	free(w.seen);
	return rc;
}

int
mu_neg_new(struct mu_neg **out, const struct mu_neg_item *items, size_t n,
           size_t frame_limit)
{
	struct mu_neg_source src = {
	    NULL,      array_size, array_seek_bound, array_seek_rank, array_range_sum,
	    array_each};
	int rc;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if (items[i].ts == INF ||
		    (i > 0 && item_cmp(&items[i - 1], &items[i]) >= 0))
			return MU_EINVAL;
	if ((rc = mu_neg_new_source(out, &src, frame_limit)) != 0)
		return rc;
	(*out)->src.ctx = *out;
	(*out)->items = items;
	(*out)->n = n;
	return 0;
}

int
mu_neg_new_source(struct mu_neg **out, const struct mu_neg_source *src,
                  size_t frame_limit)
{
	struct mu_neg *neg;

	*out = NULL;
	if (frame_limit != 0 && frame_limit < MU_NEG_FRAME_MIN)
		return MU_EINVAL;
	neg = calloc(1, sizeof(*neg));
	if (neg == NULL)
		return MU_ENOMEM;
	neg->src = *src;
	neg->frame_limit = frame_limit;
	*out = neg;
	return 0;
}

void
mu_neg_free(struct mu_neg *neg)
{
	if (neg == NULL)
		return;
	free(neg->sent.items);
	free(neg->sent.ranges);
	free(neg->writing.items);
	free(neg->writing.ranges);
	free(neg);
}

void
mu_neg_set_push(struct mu_neg *neg, bool push)
{
	neg->push = push;
}

void
mu_neg_set_push_range(struct mu_neg *neg, mu_neg_range_fn fn)
{
	neg->push_range = fn;
}

bool
mu_neg_is_initiator(const struct mu_neg *neg)
{
	return neg->initiator;
}

int
mu_neg_initiate(struct mu_neg *neg, struct mu_buf *out)
{
	struct bound inf = {INF, {0}, 0};
	struct mu_neg_pos lo, hi;
	size_t start = out->len, n;
	int rc;

	if (neg->initiator)
		return MU_EINVAL;
	if ((rc = neg->src.size(neg->src.ctx, &n)) != 0 ||
	    (rc = neg->src.seek_rank(neg->src.ctx, 0, &lo, NULL, NULL)) != 0 ||
	    (rc = neg->src.seek_rank(neg->src.ctx, n, &hi, NULL, NULL)) != 0)
		return rc;
	neg->initiator = true;
	message_begin(neg);
	if ((rc = mu_buf_push(out, MU_NEG_VERSION)) == 0)
		rc = split_range(neg, out, &lo, &hi, &inf);
	if (rc != 0) {
		neg->initiator = false;
		out->len = start;
		return rc;
	}
	message_sent(neg);
	return 0;
}

/*
 * Responder side of an IdList range [lo, *hi) that ended at curr: our ids
 * in the range (in push mode only those the list also holds, and each of
 * ours that it lacks goes to have), up to where the frame fills, in which
 * case *hi becomes the rank of the first item left out. used: bytes
 * already in the answer.
 */
struct answer_walk {
	struct mu_neg *neg;
	size_t used, end, nids;
	struct mu_buf idbuf;
	const uint8_t *sorted;
	size_t uniq;
	struct bound *bound_end;
	size_t *hi;
	mu_neg_id_fn have;
	void *ctx;
};

static int
answer_one(void *arg, const struct mu_neg_item *it, size_t rank)
{
	struct answer_walk *w = arg;

	if (rank >= w->end)
		return 1;
	if (over_limit(w->neg, w->used + w->idbuf.len)) {
		item_bound(it, w->bound_end);
		*w->hi = rank;
		return 1;
	}
	if (w->neg->push && find_id(w->sorted, w->uniq, it->id) == NULL)
		return w->have != NULL ? w->have(w->ctx, it->id, rank) : 0;
	w->nids++;
	return mu_buf_append(&w->idbuf, it->id, MU_NEG_ID_BYTES);
}

static int
answer_ids(struct mu_neg *neg, struct mu_buf *o, size_t used, const struct bound *prev,
           const struct bound *curr, bool *skip, size_t lo, size_t *hi,
           const uint8_t *theirs, size_t count, mu_neg_id_fn have, void *ctx)
{
	struct bound end = *curr;
	struct answer_walk w = {neg, used, *hi, 0,    MU_BUF_INIT, NULL,
	                        0,   &end, hi,  have, ctx};
	uint8_t *sorted = NULL;
	int rc;

	if (neg->push && count == 0 && neg->push_range != NULL && lo < *hi) {
		if ((rc = push_whole(neg, prev, curr, ctx)) != 0)
			return rc;
		lo = *hi;
	}
	if (neg->push && (rc = sorted_ids(theirs, count, &sorted, &w.uniq)) != 0)
		return rc;
	w.sorted = sorted;
	if (*skip) {
		*skip = false;
		if ((rc = put_bound(neg, o, prev)) != 0 ||
		    (rc = put_varint(o, MODE_SKIP)) != 0)
			goto out;
	}
	/* The bound comes first on the wire but depends on where the frame
	 * fills up: collect the ids first. */
	if (lo < *hi && (rc = neg->src.each(neg->src.ctx, lo, answer_one, &w)) != 0)
		goto out;
	if ((rc = put_bound(neg, o, &end)) != 0 ||
	    (rc = put_varint(o, MODE_IDLIST)) != 0 || (rc = put_varint(o, w.nids)) != 0)
		goto out;
	rc = mu_buf_append(o, w.idbuf.data, w.idbuf.len);
out:
	mu_buf_free(&w.idbuf);
	free(sorted);
	return rc;
}

int
mu_neg_reconcile(struct mu_neg *neg, const uint8_t *msg, size_t len, struct mu_buf *out,
                 mu_neg_id_fn have, mu_neg_id_fn need, void *ctx, struct mu_why *why)
{
	struct reader r = {msg, len, why};
	struct mu_buf o = MU_BUF_INIT;
	struct bound prev = {0, {0}, 0}, curr;
	struct mu_neg_pos lo, hi;
	size_t start = out->len, n;
	bool skip = false;
	uint8_t version;
	int rc;

	neg->last_in = 0;
	message_begin(neg);
	if (len == 0)
		return mu_fail(why, MU_EFORMAT, "negentropy: empty message");
	version = msg[0];
	r.p++;
	r.left--;
	if (version < 0x60 || version > 0x6f)
		return mu_fail(why, MU_EFORMAT,
		               "negentropy: 0x%02x is not a version byte", version);
	if ((rc = mu_buf_push(out, MU_NEG_VERSION)) != 0)
		return rc;
	if (version != MU_NEG_VERSION) {
		if (neg->initiator) {
			out->len = start;
			return mu_fail(why, MU_EVERSION,
			               "negentropy: peer speaks only version 0x%02x",
			               version);
		}
		return 0; /* our version byte alone tells them what we speak */
	}
	if ((rc = neg->src.size(neg->src.ctx, &n)) != 0 ||
	    (rc = neg->src.seek_rank(neg->src.ctx, 0, &lo, NULL, NULL)) != 0)
		goto fail;

	while (r.left > 0) {
		uint64_t mode;

		o.len = 0;
		if ((rc = get_bound(neg, &r, &curr)) != 0 ||
		    (rc = get_varint(&r, &mode)) != 0)
			goto fail;
		if ((rc = neg->src.seek_bound(neg->src.ctx, curr.ts, curr.id, &hi)) !=
		    0)
			goto fail;
		/* Bounds that go back cover nothing. */
		if (hi.rank < lo.rank)
			hi = lo;

		if (mode == MODE_SKIP) {
			skip = true;
		} else if (mode == MODE_FINGERPRINT) {
			const uint8_t *theirs = NULL;
			uint8_t ours[FP_BYTES];

			if ((rc = get_bytes(&r, FP_BYTES, &theirs)) != 0 ||
			    (rc = fingerprint(neg, &lo, &hi, ours)) != 0)
				goto fail;
			if (memcmp(theirs, ours, FP_BYTES) != 0) {
				if (skip) {
					skip = false;
					if ((rc = put_bound(neg, &o, &prev)) != 0 ||
					    (rc = put_varint(&o, MODE_SKIP)) != 0)
						goto fail;
				}
				if ((rc = split_range(neg, &o, &lo, &hi, &curr)) != 0)
					goto fail;
			} else {
				skip = true;
			}
		} else if (mode == MODE_IDLIST) {
			uint64_t count;
			const uint8_t *ids = NULL;

			if ((rc = get_varint(&r, &count)) != 0)
				goto fail;
			/* Check the count against the bytes before using it. */
			if (count > r.left / MU_NEG_ID_BYTES) {
				rc = mu_fail(
				    why, MU_EFORMAT,
				    "negentropy: id list of %llu ids in %zu bytes",
				    (unsigned long long)count, r.left);
				goto fail;
			}
			if ((rc = get_bytes(&r, count * MU_NEG_ID_BYTES, &ids)) != 0)
				goto fail;
			if (neg->initiator) {
				skip = true;
				rc = diff_ids(neg, lo.rank, hi.rank,
				              listed_cover(neg, &prev, &curr), &prev,
				              &curr, ids, count, have, need, ctx);
				if (rc != 0)
					goto fail;
			} else {
				size_t cut = hi.rank;

				if ((rc = answer_ids(neg, &o, out->len - start, &prev,
				                     &curr, &skip, lo.rank, &cut, ids,
				                     count, have, ctx)) != 0)
					goto fail;
				if (cut != hi.rank &&
				    (rc = neg->src.seek_rank(neg->src.ctx, cut, &hi,
				                             NULL, NULL)) != 0)
					goto fail;
				if ((rc = mu_buf_append(out, o.data, o.len)) != 0)
					goto fail;
				o.len = 0;
			}
		} else {
			rc = mu_fail(why, MU_EFORMAT,
			             "negentropy: unknown range mode %llu",
			             (unsigned long long)mode);
			goto fail;
		}

		if (over_limit(neg, out->len - start + o.len)) {
			struct bound inf = {INF, {0}, 0};
			struct mu_neg_pos end;
			uint8_t fp[FP_BYTES];

			if ((rc = neg->src.seek_rank(neg->src.ctx, n, &end, NULL,
			                             NULL)) != 0 ||
			    (rc = fingerprint(neg, &hi, &end, fp)) != 0 ||
			    (rc = put_bound(neg, out, &inf)) != 0 ||
			    (rc = put_varint(out, MODE_FINGERPRINT)) != 0 ||
			    (rc = mu_buf_append(out, fp, FP_BYTES)) != 0)
				goto fail;
			break;
		}
		if ((rc = mu_buf_append(out, o.data, o.len)) != 0)
			goto fail;
		lo = hi;
		prev = curr;
	}

	/* An initiator with nothing left to ask is done: send nothing. */
	if (neg->initiator && out->len - start == 1)
		out->len = start;
	if (neg->initiator)
		message_sent(neg);
	mu_buf_free(&o);
	return 0;
fail:
	out->len = start;
	mu_buf_free(&o);
	return rc;
}
