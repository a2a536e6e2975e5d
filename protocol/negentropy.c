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

struct mu_neg {
	const struct mu_neg_item *items;
	size_t n;
	size_t frame_limit;
	bool initiator;
	bool push; /* responder: list only common ids, report the rest */
	uint64_t last_in, last_out;
};

struct reader {
	const uint8_t *p;
	size_t left;
	struct mu_why *why;
};

/* --- encoding ------------------------------------------------------------- */

static int
put_varint(struct mu_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int i = 10;

	do {
		tmp[--i] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v != 0);
	for (int j = i; j < 9; j++)
		tmp[j] |= 0x80;
	return mu_buf_append(b, tmp + i, (size_t)(10 - i));
}

static int
put_bound(struct mu_neg *neg, struct mu_buf *b, const struct bound *bd)
{
	int rc;

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

/* --- the item set --------------------------------------------------------- */

static int
item_cmp_bound(const struct mu_neg_item *it, const struct bound *bd)
{
	if (it->ts != bd->ts)
		return it->ts < bd->ts ? -1 : 1;
	return memcmp(it->id, bd->id, MU_NEG_ID_BYTES);
}

/* The first index in [lo, hi) whose item is not below bd. */
static size_t
lower_bound(const struct mu_neg *neg, size_t lo, size_t hi, const struct bound *bd)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (item_cmp_bound(&neg->items[mid], bd) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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

/* SHA-256 of (sum of ids mod 2^256, little-endian) || varint(count), cut
 * to 16 bytes. */
static int
fingerprint(const struct mu_neg *neg, size_t lo, size_t hi, uint8_t out[FP_BYTES])
{
	uint64_t acc[4] = {0, 0, 0, 0};
	uint8_t hash[crypto_hash_sha256_BYTES];
	struct mu_buf in = MU_BUF_INIT;
	int rc;

	for (size_t i = lo; i < hi; i++) {
		uint64_t carry = 0;

		for (int l = 0; l < 4; l++) {
			uint64_t x = load_le64(neg->items[i].id + 8 * l);
			uint64_t s = acc[l] + x;
			uint64_t c = s < x;

			s += carry;
			c |= s < carry;
			acc[l] = s;
			carry = c;
		}
	}
	rc = mu_buf_reserve(&in, 32 + 10);
	if (rc != 0)
		return rc;
	for (int l = 0; l < 4; l++)
		store_le64(in.data + 8 * l, acc[l]);
	in.len = 32;
	rc = put_varint(&in, hi - lo);
	if (rc == 0) {
		crypto_hash_sha256(hash, in.data, in.len);
		memcpy(out, hash, FP_BYTES);
	}
	mu_buf_free(&in);
	return rc;
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

static int
split_range(struct mu_neg *neg, struct mu_buf *o, size_t lo, size_t hi,
            const struct bound *upper)
{
	size_t count = hi - lo;
	int rc;

	if (count < BUCKETS * 2) {
		if ((rc = put_bound(neg, o, upper)) != 0 ||
		    (rc = put_varint(o, MODE_IDLIST)) != 0 ||
		    (rc = put_varint(o, count)) != 0)
			return rc;
		for (size_t i = lo; i < hi; i++)
			if ((rc = mu_buf_append(o, neg->items[i].id,
			                        MU_NEG_ID_BYTES)) != 0)
				return rc;
		return 0;
	}

	size_t per = count / BUCKETS, extra = count % BUCKETS, cur = lo;

	for (size_t b = 0; b < BUCKETS; b++) {
		size_t size = per + (b < extra ? 1 : 0);
		uint8_t fp[FP_BYTES];
		struct bound next;

		if ((rc = fingerprint(neg, cur, cur + size, fp)) != 0)
			return rc;
		cur += size;
		if (cur == hi)
			next = *upper;
		else
			minimal_bound(&neg->items[cur - 1], &neg->items[cur], &next);
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

/* Initiator side of an IdList range: report what differs. */
static int
diff_ids(const struct mu_neg *neg, size_t lo, size_t hi, const uint8_t *theirs,
         size_t count, mu_neg_id_fn have, mu_neg_id_fn need, void *ctx)
{
	uint8_t *sorted = NULL;
	uint8_t *seen = NULL;
	size_t uniq = 0;
	int rc;

	if ((rc = sorted_ids(theirs, count, &sorted, &uniq)) != 0)
		return rc;
	if (uniq > 0 && (seen = calloc(uniq, 1)) == NULL) {
		rc = MU_ENOMEM;
		goto out;
	}
	for (size_t i = lo; i < hi; i++) {
		const uint8_t *hit = find_id(sorted, uniq, neg->items[i].id);

		if (hit != NULL)
			seen[(size_t)(hit - sorted) / MU_NEG_ID_BYTES] = 1;
		else if (have != NULL && (rc = have(ctx, neg->items[i].id, i)) != 0)
			goto out;
	}
	for (size_t i = 0; i < uniq; i++)
		if (!seen[i] && need != NULL &&
		    (rc = need(ctx, sorted + i * MU_NEG_ID_BYTES, MU_NEG_THEIRS)) != 0)
			goto out;
out:
	free(sorted);
	free(seen);
	return rc;
}

int
mu_neg_new(struct mu_neg **out, const struct mu_neg_item *items, size_t n,
           size_t frame_limit)
{
	struct mu_neg *neg;

	*out = NULL;
	if (frame_limit != 0 && frame_limit < MU_NEG_FRAME_MIN)
		return MU_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (items[i].ts == INF ||
		    (i > 0 && item_cmp(&items[i - 1], &items[i]) >= 0))
			return MU_EINVAL;
	neg = calloc(1, sizeof(*neg));
	if (neg == NULL)
		return MU_ENOMEM;
	neg->items = items;
	neg->n = n;
	neg->frame_limit = frame_limit;
	*out = neg;
	return 0;
}

void
mu_neg_free(struct mu_neg *neg)
{
	free(neg);
}

void
mu_neg_set_push(struct mu_neg *neg, bool push)
{
	neg->push = push;
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
	int rc;

	if (neg->initiator)
		return MU_EINVAL;
	neg->initiator = true;
	neg->last_out = 0;
	if ((rc = mu_buf_push(out, MU_NEG_VERSION)) != 0)
		return rc;
	return split_range(neg, out, 0, neg->n, &inf);
}

/*
 * Responder side of an IdList range [lo, *hi) that ended at curr: our ids
 * in the range (in push mode only those the list also holds, and each of
 * ours that it lacks goes to have), up to where the frame fills, in which
 * case *hi becomes the first item left out. used: bytes already in the
 * answer.
 */
static int
answer_ids(struct mu_neg *neg, struct mu_buf *o, size_t used, const struct bound *prev,
           const struct bound *curr, bool *skip, size_t lo, size_t *hi,
           const uint8_t *theirs, size_t count, mu_neg_id_fn have, void *ctx)
{
	struct bound end = *curr;
	struct mu_buf idbuf = MU_BUF_INIT;
	uint8_t *sorted = NULL;
	size_t nids = 0, uniq = 0;
	int rc;

	if (neg->push && (rc = sorted_ids(theirs, count, &sorted, &uniq)) != 0)
		return rc;
	if (*skip) {
		*skip = false;
		if ((rc = put_bound(neg, o, prev)) != 0 ||
		    (rc = put_varint(o, MODE_SKIP)) != 0)
			goto out;
	}
	/* The bound comes first on the wire but depends on where the frame
	 * fills up: collect the ids first. */
	for (size_t i = lo; i < *hi; i++) {
		if (over_limit(neg, used + idbuf.len)) {
			item_bound(&neg->items[i], &end);
			*hi = i;
			break;
		}
		if (neg->push && find_id(sorted, uniq, neg->items[i].id) == NULL) {
			if (have != NULL && (rc = have(ctx, neg->items[i].id, i)) != 0)
				goto out;
			continue;
		}
		if ((rc = mu_buf_append(&idbuf, neg->items[i].id, MU_NEG_ID_BYTES)) !=
		    0)
			goto out;
		nids++;
	}
	if ((rc = put_bound(neg, o, &end)) != 0 ||
	    (rc = put_varint(o, MODE_IDLIST)) != 0 || (rc = put_varint(o, nids)) != 0)
		goto out;
	rc = mu_buf_append(o, idbuf.data, idbuf.len);
out:
	mu_buf_free(&idbuf);
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
	size_t start = out->len, prev_index = 0;
	bool skip = false;
	uint8_t version;
	int rc;

	neg->last_in = neg->last_out = 0;
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

	while (r.left > 0) {
		uint64_t mode;
		size_t lo, hi;

		o.len = 0;
		if ((rc = get_bound(neg, &r, &curr)) != 0 ||
		    (rc = get_varint(&r, &mode)) != 0)
			goto fail;
		lo = prev_index;
		hi = lower_bound(neg, prev_index, neg->n, &curr);

		if (mode == MODE_SKIP) {
			skip = true;
		} else if (mode == MODE_FINGERPRINT) {
			const uint8_t *theirs = NULL;
			uint8_t ours[FP_BYTES];

			if ((rc = get_bytes(&r, FP_BYTES, &theirs)) != 0 ||
			    (rc = fingerprint(neg, lo, hi, ours)) != 0)
				goto fail;
			if (memcmp(theirs, ours, FP_BYTES) != 0) {
				if (skip) {
					skip = false;
					if ((rc = put_bound(neg, &o, &prev)) != 0 ||
					    (rc = put_varint(&o, MODE_SKIP)) != 0)
						goto fail;
				}
				if ((rc = split_range(neg, &o, lo, hi, &curr)) != 0)
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
				rc = diff_ids(neg, lo, hi, ids, count, have, need, ctx);
				if (rc != 0)
					goto fail;
			} else if ((rc = answer_ids(neg, &o, out->len - start, &prev,
			                            &curr, &skip, lo, &hi, ids, count,
			                            have, ctx)) != 0) {
				goto fail;
			} else {
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
			uint8_t fp[FP_BYTES];

			if ((rc = fingerprint(neg, hi, neg->n, fp)) != 0 ||
			    (rc = put_bound(neg, out, &inf)) != 0 ||
			    (rc = put_varint(out, MODE_FINGERPRINT)) != 0 ||
			    (rc = mu_buf_append(out, fp, FP_BYTES)) != 0)
				goto fail;
			break;
		}
		if ((rc = mu_buf_append(out, o.data, o.len)) != 0)
			goto fail;
		prev_index = hi;
		prev = curr;
	}

	/* An initiator with nothing left to ask is done: send nothing. */
	if (neg->initiator && out->len - start == 1)
		out->len = start;
	mu_buf_free(&o);
	return 0;
fail:
	out->len = start;
	mu_buf_free(&o);
	return rc;
}
