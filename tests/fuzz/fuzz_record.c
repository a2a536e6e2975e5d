/*
 * fuzz_record - the record decoder and validator, mu_rec_parse().
 *
 * Every input is parsed as a record three ways: as from a peer (signature
 * and clock checked), and trusted (no signature check, so mutated records
 * reach the field rules). For what is accepted, the invariants hold:
 *   - mu_rec_span() measures exactly the input, and the slices the record
 *     borrows lie inside it;
 *   - the id is the BLAKE2b-256 of the body;
 *   - re-encoding: building the parsed content again (re-signed by the fuzz
 *     key in place of the group) gives the same body, byte for byte, but
 *     for the keys: the canonical form has exactly one encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "protocol/kind.h"
#include "protocol/record.h"

static struct fz_key K;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	fz_key(&K, FZ_STRANGER);
	return 0;
}

static bool
inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	return n == 0 || (p >= data && p + n <= data + size);
}

static void
swap_key(uint8_t *key, const uint8_t *from)
{
	if (memcmp(key, from, MU_KEY_BYTES) == 0)
		memcpy(key, K.pk, MU_KEY_BYTES);
}

/* Every key of the record equal to its group becomes the fuzz key. */
static void
swap_keys(struct mu_record *r, const uint8_t *group)
{
	size_t i;

	swap_key(r->signer, group);
	switch (r->kind) {
	case MU_KIND_EVENT:
		swap_key(r->c.event.cause.group, group);
		for (i = 0; i < r->c.event.nhosts; i++)
			swap_key(r->c.event.hosts[i], group);
		break;
	case MU_KIND_ALLIANCE:
		for (i = 0; i < r->c.alliance.ncauses; i++)
			swap_key(r->c.alliance.causes[i].group, group);
		break;
	case MU_KIND_DELETE:
		swap_key(r->c.del.addr.group, group);
		swap_key(r->c.del.id, group);
		break;
	case MU_KIND_RSVP:
		swap_key(r->c.rsvp.event.group, group);
		break;
	case MU_KIND_TALLY:
		swap_key(r->c.tally.event.group, group);
		for (i = 0; i < r->c.tally.ngroups; i++)
			swap_key(r->c.tally.groups[i], group);
		break;
	case MU_KIND_PETITION:
		swap_key(r->c.petition.cause.group, group);
		break;
	case MU_KIND_SIGNATURES:
		swap_key(r->c.signatures.petition.group, group);
		break;
	case MU_KIND_PLEDGE:
		swap_key(r->c.pledge.cause.group, group);
		break;
	case MU_KIND_PLEDGED:
		swap_key(r->c.pledged.pledge.group, group);
		break;
	default:
		break;
	}
	swap_key(r->group, group);
}

/* A swapped key in the answered address changes its digest, the d: the
 * new d replaces the old in the header's bytes too (a str 8 of 32). */
static void
swap_d(uint8_t *body, size_t len, const struct mu_str *from, const char *to)
{
	for (size_t i = 0; i + 2 + MU_D_ADDR_LEN <= len; i++)
		if (body[i] == 0xd9 && body[i + 1] == MU_D_ADDR_LEN &&
		    memcmp(body + i + 2, from->ptr, MU_D_ADDR_LEN) == 0) {
			memcpy(body + i + 2, to, MU_D_ADDR_LEN);
			return;
		}
}

/* The same swap in encoded bytes: every bin 32 holding the group. A c4 20
 * never occurs inside a str (it is not UTF-8), and a bin 32 holding the
 * group is a key or id in the content, swapped above too. */
static void
swap_bytes(uint8_t *body, size_t len, const uint8_t *group)
{
	for (size_t i = 0; i + 2 + MU_KEY_BYTES <= len; i++)
		if (body[i] == 0xc4 && body[i + 1] == MU_KEY_BYTES &&
		    memcmp(body + i + 2, group, MU_KEY_BYTES) == 0) {
			memcpy(body + i + 2, K.pk, MU_KEY_BYTES);
			i += 1 + MU_KEY_BYTES;
		}
}

static void
rebuild(const struct mu_record *rec, const uint8_t *data, size_t size)
{
	struct mu_record copy = *rec, again;
	uint8_t group[MU_KEY_BYTES], *out = NULL, *body;
	char new_d[MU_D_ADDR_LEN + 1];
	struct mu_why why;
	size_t out_len;
	int rc;

	/* The swap below re-signs as the group: a record an organizer key
	 * signed has no secret here to sign it again. */
	if (memcmp(rec->group, rec->signer, MU_KEY_BYTES) != 0)
		return;
	/* The fuzz key's own bytes in the input would make the swap
	 * ambiguous (an alliance with it would become one with itself). */
	for (size_t i = 0; i + MU_KEY_BYTES <= size; i++)
		if (memcmp(data + i, K.pk, MU_KEY_BYTES) == 0)
			return;
	memcpy(group, rec->group, MU_KEY_BYTES);
	swap_keys(&copy, group);
	if (mu_kind_d_addr(&copy) != NULL) {
		mu_rec_addr_d(mu_kind_d_addr(&copy), new_d);
		copy.d.ptr = new_d;
		copy.d.len = MU_D_ADDR_LEN;
	}
	rc = mu_rec_build(&copy, K.sk, MU_TIME_MAX, &out, &out_len, NULL, &why);
	if (rc != 0) {
		fprintf(stderr, "fuzz_record: accepted, but not rebuilt: %s\n",
		        why.text);
		abort();
	}
	fz_check(mu_rec_parse(&again, out, out_len, MU_TIME_MAX, 0, &why) == 0,
	         "the rebuilt record parses");
	body = malloc(rec->body_len);
	fz_check(body != NULL, "memory");
	memcpy(body, rec->body, rec->body_len);
	swap_bytes(body, rec->body_len, group);
	if (mu_kind_d_addr(&copy) != NULL)
		swap_d(body, rec->body_len, &rec->d, new_d);
	fz_check(again.body_len == rec->body_len &&
	             memcmp(again.body, body, rec->body_len) == 0,
	         "the rebuilt body equals the parsed one (one canonical encoding)");
	free(body);
	free(out);
}

static void
accepted(const struct mu_record *rec, const uint8_t *data, size_t size)
{
	uint8_t id[MU_ID_BYTES];
	struct mu_why why;

	fz_check(mu_rec_span(data, size, &why) == (long)size,
	         "span is the whole input");
	fz_check(rec->raw == data && rec->raw_len == size, "raw is the input");
	fz_check(inside(rec->body, rec->body_len, data, size), "body inside");
	fz_check(inside(rec->sig, MU_SIG_BYTES, data, size), "sig inside");
	fz_check(inside((const uint8_t *)rec->d.ptr, rec->d.len, data, size),
	         "d inside");
	fz_check(rec->d.len <= MU_D_MAX, "d length");
	fz_check(rec->kind > MU_KIND_NONE && rec->kind < MU_KIND_COUNT, "kind");
	fz_check(mu_kind_name(rec->kind) != NULL, "kind name");
	fz_check(rec->created_at >= 0 && rec->created_at <= MU_TIME_MAX, "created_at");
	/* Any key may sign (an organizer's, judged by the store); only the
	 * group's own signs its organizer records (rule organizer-root). */
	fz_check(rec->kind != MU_KIND_ORGANIZER ||
	             memcmp(rec->group, rec->signer, MU_KEY_BYTES) == 0,
	         "signer");
	crypto_generichash(id, sizeof(id), rec->body, rec->body_len, NULL, 0);
	fz_check(memcmp(id, rec->id, MU_ID_BYTES) == 0, "id is the body's hash");
	fz_check(
	    mu_rec_check_d(rec->kind, &rec->d,
	                   rec->kind == MU_KIND_ALLIANCE ? rec->c.alliance.with : NULL,
	                   &why) == 0,
	    "d-form");
	rebuild(rec, data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mu_record rec;
	struct mu_why why;
	long span;
	int rc;

	span = mu_rec_span(data, size, &why);
	fz_check(span != 0 && span <= (long)size, "span range");
	fz_check(span > 0 || span == MU_ETRUNC || span == MU_ERECORD, "span error");

	rc = mu_rec_parse(&rec, data, size, FZ_NOW, 0, &why);
	fz_check(rc == 0 || rc == MU_ERECORD || rc == MU_ESIG || rc == MU_ETRUNC,
	         "parse error code");
	fz_check(rc != 0 || why.text[0] == '\0', "why empty on success");
	fz_check(rc == 0 || why.text[0] != '\0', "why says why");
	if (rc == 0)
		accepted(&rec, data, size);

	rc = mu_rec_parse(&rec, data, size, FZ_NOW, MU_PARSE_TRUSTED | MU_PARSE_NOCLOCK,
	                  &why);
	fz_check(rc == 0 || rc == MU_ERECORD || rc == MU_ETRUNC, "trusted error code");
	if (rc == 0)
		accepted(&rec, data, size);
	return 0;
}
