/*
 * Transport sessions: two state machines wired back to back, fed in pieces of
 * every size, and the refusals a hostile or misconfigured peer must meet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/record.h"
#include "protocol/session.h"

struct node {
	struct mu_sess_identity id;
	uint8_t group_secret[64];
};

static void
make_node(struct node *n)
{
	uint8_t pub[32];

	memset(n, 0, sizeof(*n));
	crypto_sign_keypair(n->id.group, n->group_secret);
	randombytes_buf(n->id.noise_secret, 32);
	mu_noise_public(pub, n->id.noise_secret);
	mu_sess_sign_proof(n->id.proof, pub, n->group_secret);
}

struct inbox {
	int count;
	size_t total;
	uint8_t last[MU_SESS_MSG_MAX];
	size_t last_len;
};

static int
on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct inbox *in = ctx;

	in->count++;
	in->total += len;
	memcpy(in->last, msg, len);
	in->last_len = len;
	return 0;
}

struct link {
	struct mu_sess *a, *b; /* a dials b */
	struct mu_buf to_a, to_b;
	struct inbox in_a, in_b;
	int rc_a, rc_b;
	struct mu_why why_a, why_b;
};

/* Moves bytes both ways, chunk bytes at a time, until nothing moves or a
 * side fails. */
static void
pump(struct link *l, size_t chunk)
{
	while ((l->to_a.len || l->to_b.len) && l->rc_a == 0 && l->rc_b == 0) {
		struct mu_buf take = MU_BUF_INIT;

		if (l->to_b.len) {
			size_t n = l->to_b.len < chunk ? l->to_b.len : chunk;

			mu_buf_append(&take, l->to_b.data, n);
			memmove(l->to_b.data, l->to_b.data + n, l->to_b.len - n);
			l->to_b.len -= n;
			l->rc_b = mu_sess_feed(l->b, take.data, n, &l->to_a, on_msg,
			                       &l->in_b, &l->why_b);
		} else {
			size_t n = l->to_a.len < chunk ? l->to_a.len : chunk;

			mu_buf_append(&take, l->to_a.data, n);
			memmove(l->to_a.data, l->to_a.data + n, l->to_a.len - n);
			l->to_a.len -= n;
			l->rc_a = mu_sess_feed(l->a, take.data, n, &l->to_b, on_msg,
			                       &l->in_a, &l->why_a);
		}
		mu_buf_free(&take);
	}
}

static void
open_link(struct link *l, const struct node *a, const struct node *b, const char *net_a,
          const char *net_b, const uint8_t *a_expects)
{
	uint8_t ea[32], eb[32];
	struct mu_why why;

	memset(l, 0, sizeof(*l));
	randombytes_buf(ea, 32);
	randombytes_buf(eb, 32);
	assert_int_equal(
	    mu_sess_new(&l->a, true, net_a, &a->id, a_expects, ea, &l->to_b, &why), 0);
	assert_int_equal(
	    mu_sess_new(&l->b, false, net_b, &b->id, NULL, eb, &l->to_a, &why), 0);
}

static void
close_link(struct link *l)
{
	mu_sess_free(l->a);
	mu_sess_free(l->b);
	mu_buf_free(&l->to_a);
	mu_buf_free(&l->to_b);
}

static void
test_handshake_and_messages(void **state)
{
	static const size_t chunks[] = {1, 2, 3, 7, 100, 65536};
	struct node a, b;

	(void)state;
	make_node(&a);
	make_node(&b);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct link l;
		uint8_t *big = malloc(MU_SESS_MSG_MAX);

		open_link(&l, &a, &b, "test", "test", b.id.group);
		assert_false(mu_sess_ready(l.a));
		pump(&l, chunks[c]);
		assert_int_equal(l.rc_a, 0);
		assert_int_equal(l.rc_b, 0);
		assert_true(mu_sess_ready(l.a));
		assert_true(mu_sess_ready(l.b));
		assert_memory_equal(mu_sess_peer_group(l.a), b.id.group, 32);
		assert_memory_equal(mu_sess_peer_group(l.b), a.id.group, 32);

		assert_int_equal(mu_sess_send(l.a, (const uint8_t *)"hi", 2, &l.to_b),
		                 0);
		assert_int_equal(mu_sess_send(l.a, (const uint8_t *)"", 0, &l.to_b), 0);
		randombytes_buf(big, MU_SESS_MSG_MAX);
		assert_int_equal(mu_sess_send(l.b, big, MU_SESS_MSG_MAX, &l.to_a), 0);
		assert_int_equal(mu_sess_send(l.b, big, MU_SESS_MSG_MAX + 1, &l.to_a),
		                 MU_EINVAL);
		pump(&l, chunks[c]);
		assert_int_equal(l.in_b.count, 2);
		assert_int_equal(l.in_b.total, 2);
		assert_int_equal(l.in_a.count, 1);
		assert_int_equal(l.in_a.last_len, MU_SESS_MSG_MAX);
		assert_memory_equal(l.in_a.last, big, MU_SESS_MSG_MAX);
		assert_int_equal(mu_sess_pending(l.a), 0);
		free(big);
		close_link(&l);
	}
}

static void
test_other_network_refused(void **state)
{
	struct node a, b;
	struct link l;

	(void)state;
	make_node(&a);
	make_node(&b);
	open_link(&l, &a, &b, "test", "prod", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	assert_non_null(strstr(l.why_a.text, "network"));
	assert_false(mu_sess_ready(l.a));
	close_link(&l);
}

static void
test_wrong_group_refused(void **state)
{
	struct node a, b, c;
	struct link l;

	(void)state;
	make_node(&a);
	make_node(&b);
	make_node(&c);
	open_link(&l, &a, &b, "test", "test", c.id.group); /* a expects c */
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_EPERM);
	assert_non_null(strstr(l.why_a.text, "different group"));
	/* a refused before sending its own identity: b never got message 3. */
	assert_false(mu_sess_ready(l.b));
	close_link(&l);
}

static void
test_stolen_proof_refused(void **state)
{
	struct node a, b, thief;
	struct link l;

	(void)state;
	make_node(&a);
	make_node(&b);
	make_node(&thief);
	/* The thief replays b's group key and proof with its own Noise key. */
	memcpy(thief.id.group, b.id.group, 32);
	memcpy(thief.id.proof, b.id.proof, 64);
	open_link(&l, &a, &thief, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	assert_non_null(strstr(l.why_a.text, "did not sign"));
	close_link(&l);
}

/* A raw Noise XX side of the "test" network, for peers that leave out
 * their identity. */
static struct mu_noise_hs *
raw_side(bool initiator)
{
	static const char prologue[] = "muster/1 test";
	struct mu_noise_hs *hs = NULL;
	uint8_t s[32], e[32];

	randombytes_buf(s, 32);
	randombytes_buf(e, 32);
	assert_int_equal(mu_noise_hs_new(&hs, MU_NOISE_XX, MU_NOISE_BLAKE2B, initiator,
	                                 (const uint8_t *)prologue,
	                                 sizeof(prologue) - 1, s, e),
	                 0);
	return hs;
}

/* Reads the one framed handshake message in buf into hs, emptying buf. */
static void
raw_read(struct mu_noise_hs *hs, struct mu_buf *buf)
{
	uint8_t payload[MU_SESS_HANDSHAKE_MAX];
	size_t plen;

	assert_true(buf->len >= 2);
	assert_int_equal(buf->len, 2 + ((size_t)buf->data[0] << 8 | buf->data[1]));
	assert_int_equal(mu_noise_read(hs, buf->data + 2, buf->len - 2, payload,
	                               sizeof(payload), &plen),
	                 0);
	buf->len = 0;
}

/* Writes hs's next handshake message, framed, with an empty payload. */
static void
raw_write_empty(struct mu_noise_hs *hs, struct mu_buf *out)
{
	uint8_t msg[MU_SESS_HANDSHAKE_MAX];
	size_t len;

	assert_int_equal(mu_noise_write(hs, NULL, 0, msg, sizeof(msg), &len), 0);
	out->len = 0;
	assert_int_equal(
	    mu_buf_append(out, (uint8_t[]){(uint8_t)(len >> 8), (uint8_t)len}, 2), 0);
	assert_int_equal(mu_buf_append(out, msg, len), 0);
}

/* The second and third handshake messages must carry an identity (9.1):
 * a peer that sends none is refused, whichever side it is. */
static void
test_missing_identity_refused(void **state)
{
	struct mu_buf to_a = MU_BUF_INIT, to_b = MU_BUF_INIT;
	struct mu_noise_hs *hs;
	struct mu_sess *s;
	struct node a, b;
	uint8_t e[32];
	struct mu_why why;
	struct inbox in = {0};

	(void)state;
	make_node(&a);
	make_node(&b);

	/* A responder that sends no identity: the dialer, expecting b, must
	 * not go on, and must not reveal its own identity. */
	randombytes_buf(e, 32);
	assert_int_equal(
	    mu_sess_new(&s, true, "test", &a.id, b.id.group, e, &to_b, &why), 0);
	hs = raw_side(false);
	raw_read(hs, &to_b);
	raw_write_empty(hs, &to_a);
	assert_int_not_equal(
	    mu_sess_feed(s, to_a.data, to_a.len, &to_b, on_msg, &in, &why), 0);
	assert_int_equal(to_b.len, 0);
	assert_false(mu_sess_ready(s));
	assert_null(mu_sess_proven_group(s));
	mu_sess_free(s);
	mu_noise_hs_free(hs);

	/* An initiator that sends no identity in the third message. */
	to_a.len = to_b.len = 0;
	randombytes_buf(e, 32);
	assert_int_equal(mu_sess_new(&s, false, "test", &b.id, NULL, e, &to_a, &why),
	                 0);
	hs = raw_side(true);
	raw_write_empty(hs, &to_b);
	assert_int_equal(mu_sess_feed(s, to_b.data, to_b.len, &to_a, on_msg, &in, &why),
	                 0);
	raw_read(hs, &to_a);
	raw_write_empty(hs, &to_b);
	assert_int_not_equal(
	    mu_sess_feed(s, to_b.data, to_b.len, &to_a, on_msg, &in, &why), 0);
	assert_false(mu_sess_ready(s));
	assert_null(mu_sess_proven_group(s));
	mu_sess_free(s);
	mu_noise_hs_free(hs);
	mu_buf_free(&to_a);
	mu_buf_free(&to_b);
}

/* Makes n claim group and sign its Noise key with sk. */
static void
prove_group(struct node *n, const uint8_t group[32], const uint8_t sk[64])
{
	uint8_t pub[32];

	memcpy(n->id.group, group, 32);
	mu_noise_public(pub, n->id.noise_secret);
	mu_sess_sign_proof(n->id.proof, pub, sk);
}

/*
 * Makes n prove root's group with organizer key org (libsodium secret
 * keys), carrying root's organizer record for it with that status.
 */
static void
make_organizer_node(struct node *n, const uint8_t root_pk[32],
                    const uint8_t root_sk[64], const uint8_t org_pk[32],
                    const uint8_t org_sk[64], enum mu_organizer_status status)
{
	char d[65];
	struct mu_record r;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;
	size_t len;

	make_node(n);
	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_ORGANIZER;
	memcpy(r.group, root_pk, 32);
	memcpy(r.signer, root_pk, 32);
	r.created_at = 1767225600;
	sodium_bin2hex(d, sizeof(d), org_pk, 32);
	r.d.ptr = d;
	r.d.len = 64;
	memcpy(r.c.organizer.key, org_pk, 32);
	r.c.organizer.name.ptr = "Sam";
	r.c.organizer.name.len = 3;
	r.c.organizer.status = status;
	assert_int_equal(
	    mu_rec_build(&r, root_sk, r.created_at, &bytes, &len, NULL, &why), 0);
	assert_true(len <= MU_SESS_ORGANIZER_MAX);
	memcpy(n->id.organizer, bytes, len);
	n->id.organizer_len = len;
	free(bytes);
	prove_group(n, root_pk, org_sk);
}

/* The organizer variant of the identity (PROTOCOL.md 9.1). */
static void
test_organizer_identity(void **state)
{
	uint8_t root_pk[32], root_sk[64], org_pk[32], org_sk[64];
	uint8_t other_pk[32], other_sk[64];
	struct node a, b;
	struct link l;

	(void)state;
	crypto_sign_keypair(root_pk, root_sk);
	crypto_sign_keypair(org_pk, org_sk);
	crypto_sign_keypair(other_pk, other_sk);
	make_node(&a);

	/* Both ways: b dialed, and b dialing; in pieces of every size. */
	make_organizer_node(&b, root_pk, root_sk, org_pk, org_sk, MU_ORGANIZER_ACTIVE);
	open_link(&l, &a, &b, "test", "test", root_pk);
	pump(&l, 7);
	assert_int_equal(l.rc_a, 0);
	assert_int_equal(l.rc_b, 0);
	assert_memory_equal(mu_sess_peer_group(l.a), root_pk, 32);
	assert_memory_equal(mu_sess_peer_organizer(l.a), org_pk, 32);
	assert_null(mu_sess_peer_organizer(l.b)); /* a proved with its group key */
	close_link(&l);
	open_link(&l, &b, &a, "test", "test", a.id.group);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, 0);
	assert_int_equal(l.rc_b, 0);
	assert_memory_equal(mu_sess_peer_group(l.b), root_pk, 32);
	assert_memory_equal(mu_sess_peer_organizer(l.b), org_pk, 32);
	close_link(&l);

	/* A revoked organizer record proves nothing. */
	make_organizer_node(&b, root_pk, root_sk, org_pk, org_sk, MU_ORGANIZER_REVOKED);
	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	assert_non_null(strstr(l.why_a.text, "not an active organizer record"));
	close_link(&l);

	/* The proof by another key than the record names. */
	make_organizer_node(&b, root_pk, root_sk, org_pk, other_sk,
	                    MU_ORGANIZER_ACTIVE);
	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	assert_non_null(strstr(l.why_a.text, "organizer key did not sign"));
	close_link(&l);

	/* A record of another group than the one claimed. */
	make_organizer_node(&b, root_pk, root_sk, org_pk, org_sk, MU_ORGANIZER_ACTIVE);
	memcpy(b.id.group, other_pk, 32);
	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	close_link(&l);

	/* A record altered after its group signed it. */
	make_organizer_node(&b, root_pk, root_sk, org_pk, org_sk, MU_ORGANIZER_ACTIVE);
	b.id.organizer[b.id.organizer_len - 1] ^= 1;
	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, MU_ESIG);
	assert_non_null(strstr(l.why_a.text, "not valid"));
	close_link(&l);
}

/* What a receiver's store holds: one organizer record's group, key and
 * status (0: none). */
struct fake_store {
	uint8_t group[32], key[32];
	int status;
	int asked;
};

static int
fake_vouch(void *ctx, const uint8_t group[32], const uint8_t key[32],
           struct mu_why *why)
{
	struct fake_store *st = ctx;

	st->asked++;
	if (st->status == 0 || memcmp(st->group, group, 32) != 0 ||
	    memcmp(st->key, key, 32) != 0)
		return mu_fail(why, MU_EPERM, "handshake: no record here");
	if (st->status != MU_ORGANIZER_ACTIVE)
		return mu_fail(why, MU_EPERM, "handshake: revoked here");
	return 0;
}

/* Makes n prove group root_pk with organizer key org alone (key form). */
static void
make_key_node(struct node *n, const uint8_t root_pk[32], const uint8_t org_pk[32],
              const uint8_t sign_sk[64])
{

	make_node(n);
	n->id.by_key = true;
	memcpy(n->id.organizer_key, org_pk, 32);
	prove_group(n, root_pk, sign_sk);
}

/* b, dialed by a whose store is st (NULL: no lookup), is refused with rc
 * and a reason holding text; a refused key still shows the group proven. */
static void
expect_refused(const struct node *a, const struct node *b, struct fake_store *st,
               int rc, const char *text)
{
	struct link l;

	open_link(&l, a, b, "test", "test", NULL);
	if (st != NULL)
		mu_sess_set_vouch(l.a, fake_vouch, st);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, rc);
	assert_non_null(strstr(l.why_a.text, text));
	assert_false(mu_sess_ready(l.a));
	if (rc == MU_EPERM)
		assert_memory_equal(mu_sess_proven_group(l.a), b->id.group, 32);
	close_link(&l);
}

/* The key form of the identity (PROTOCOL.md 9.1): accepted only when the
 * receiver's store holds the key's active organizer record. */
static void
test_organizer_key_identity(void **state)
{
	uint8_t root_pk[32], root_sk[64], org_pk[32], org_sk[64];
	uint8_t other_pk[32], other_sk[64];
	struct fake_store st;
	struct node a, b;
	struct link l;

	(void)state;
	crypto_sign_keypair(root_pk, root_sk);
	crypto_sign_keypair(org_pk, org_sk);
	crypto_sign_keypair(other_pk, other_sk);
	make_node(&a);
	memset(&st, 0, sizeof(st));
	memcpy(st.group, root_pk, 32);
	memcpy(st.key, org_pk, 32);
	st.status = MU_ORGANIZER_ACTIVE;

	/* b dialed and b dialing, in pieces of every size. */
	make_key_node(&b, root_pk, org_pk, org_sk);
	open_link(&l, &a, &b, "test", "test", root_pk);
	mu_sess_set_vouch(l.a, fake_vouch, &st);
	pump(&l, 7);
	assert_int_equal(l.rc_a, 0);
	assert_int_equal(l.rc_b, 0);
	assert_int_equal(st.asked, 1);
	assert_memory_equal(mu_sess_peer_group(l.a), root_pk, 32);
	assert_memory_equal(mu_sess_peer_organizer(l.a), org_pk, 32);
	close_link(&l);
	open_link(&l, &b, &a, "test", "test", a.id.group);
	mu_sess_set_vouch(l.b, fake_vouch, &st);
	pump(&l, 1000);
	assert_int_equal(l.rc_a, 0);
	assert_int_equal(l.rc_b, 0);
	assert_int_equal(st.asked, 2);
	assert_memory_equal(mu_sess_peer_organizer(l.b), org_pk, 32);
	close_link(&l);

	/* A receiver that cannot look records up refuses the form. */
	expect_refused(&a, &b, NULL, MU_EPERM, "cannot look organizer records up");
	/* So does a store without the key's record, or with it revoked. */
	st.status = 0;
	expect_refused(&a, &b, &st, MU_EPERM, "no record");
	st.status = MU_ORGANIZER_REVOKED;
	expect_refused(&a, &b, &st, MU_EPERM, "revoked");

	/* The proof by another key than the one named; the store is not
	 * asked. */
	st.status = MU_ORGANIZER_ACTIVE;
	st.asked = 0;
	make_key_node(&b, root_pk, org_pk, other_sk);
	expect_refused(&a, &b, &st, MU_ESIG, "organizer key did not sign");
	assert_int_equal(st.asked, 0);

	/* Another key of the group than the store's active one. */
	make_key_node(&b, root_pk, other_pk, other_sk);
	expect_refused(&a, &b, &st, MU_EPERM, "no record");
}

static void
test_limits_before_and_after_handshake(void **state)
{
	struct node a, b;
	struct link l;
	uint8_t hdr[2] = {0x04, 0x01}; /* 1025 bytes declared */
	uint8_t junk[64];
	struct mu_why why;
	struct mu_buf out = MU_BUF_INIT;

	(void)state;
	make_node(&a);
	make_node(&b);
	open_link(&l, &a, &b, "test", "test", NULL);
	/* Before the handshake, a long message is refused from its header. */
	assert_int_equal(mu_sess_feed(l.b, hdr, 2, &out, on_msg, &l.in_b, &why),
	                 MU_EFORMAT);
	assert_non_null(strstr(why.text, "at most 1024"));
	assert_int_equal(mu_sess_feed(l.b, hdr, 2, &out, on_msg, &l.in_b, &why),
	                 MU_EINVAL); /* dead stays dead */
	close_link(&l);

	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_true(mu_sess_ready(l.b));
	/* After it, a forged frame fails authentication. */
	memset(junk, 0x55, sizeof(junk));
	junk[0] = 0;
	junk[1] = 40;
	assert_int_equal(mu_sess_feed(l.b, junk, 42, &out, on_msg, &l.in_b, &why),
	                 MU_ESIG);
	close_link(&l);

	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	junk[0] = 0;
	junk[1] = 3; /* shorter than a tag */
	assert_int_equal(mu_sess_feed(l.b, junk, 2, &out, on_msg, &l.in_b, &why),
	                 MU_EFORMAT);
	close_link(&l);
	mu_buf_free(&out);
}

static void
test_tampered_frame_refused(void **state)
{
	struct node a, b;
	struct link l;

	(void)state;
	make_node(&a);
	make_node(&b);
	open_link(&l, &a, &b, "test", "test", NULL);
	pump(&l, 1000);
	assert_int_equal(mu_sess_send(l.a, (const uint8_t *)"record", 6, &l.to_b), 0);
	l.to_b.data[4] ^= 0x80;
	pump(&l, 1000);
	assert_int_equal(l.rc_b, MU_ESIG);
	assert_int_equal(l.in_b.count, 0);
	close_link(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_and_messages),
	    cmocka_unit_test(test_other_network_refused),
	    cmocka_unit_test(test_wrong_group_refused),
	    cmocka_unit_test(test_stolen_proof_refused),
	    cmocka_unit_test(test_missing_identity_refused),
	    cmocka_unit_test(test_organizer_identity),
	    cmocka_unit_test(test_organizer_key_identity),
	    cmocka_unit_test(test_limits_before_and_after_handshake),
	    cmocka_unit_test(test_tampered_frame_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
