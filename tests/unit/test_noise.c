/*
 * Noise handshake and transport against the cacophony vectors, byte for byte,
 * plus the failures a hostile peer can provoke.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "protocol/noise.h"

#define VECTORS MUSTER_SOURCE_DIR "/tests/vectors/noise-cacophony.json"

static size_t
unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len;

	assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &len, NULL),
	                 0);
	return len;
}

static void
field_bytes(json_t *v, const char *key, uint8_t *out, size_t want)
{
	json_t *f = json_object_get(v, key);

	assert_non_null(f);
	assert_int_equal(unhex(out, want, json_string_value(f)), want);
}

/* Runs one vector: both sides fed the vector's keys must produce every
 * ciphertext, and each side must read the other's messages back. */
static void
run_vector(json_t *v)
{
	const char *pattern = json_string_value(json_object_get(v, "pattern"));
	const char *hash = json_string_value(json_object_get(v, "hash"));
	bool xx = strcmp(pattern, "XX") == 0;
	enum mu_noise_hash alg =
	    strcmp(hash, "BLAKE2b") == 0 ? MU_NOISE_BLAKE2B : MU_NOISE_SHA256;
	uint8_t prologue[256], ie[32], re[32], is[32], rs[32];
	size_t plen;
	struct mu_noise_hs *ini, *res;
	struct mu_noise_cipher *isend = NULL, *irecv = NULL, *rsend = NULL,
	                       *rrecv = NULL;
	json_t *msgs = json_object_get(v, "messages");
	size_t i;

	assert_true(strcmp(hash, "BLAKE2b") == 0 || strcmp(hash, "SHA256") == 0);
	plen = unhex(prologue, sizeof(prologue),
	             json_string_value(json_object_get(v, "init_prologue")));
	field_bytes(v, "init_ephemeral", ie, 32);
	field_bytes(v, "resp_ephemeral", re, 32);
	if (xx) {
		field_bytes(v, "init_static", is, 32);
		field_bytes(v, "resp_static", rs, 32);
	}
	assert_int_equal(mu_noise_hs_new(&ini, xx ? MU_NOISE_XX : MU_NOISE_NN, alg,
	                                 true, prologue, plen, xx ? is : NULL, ie),
	                 0);
	assert_int_equal(mu_noise_hs_new(&res, xx ? MU_NOISE_XX : MU_NOISE_NN, alg,
	                                 false, prologue, plen, xx ? rs : NULL, re),
	                 0);

	for (i = 0; i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		uint8_t payload[1024], want[1024], got[1024], back[1024];
		size_t pl, wl, gl, bl;
		bool from_ini = i % 2 == 0;

		pl = unhex(payload, sizeof(payload),
		           json_string_value(json_object_get(m, "payload")));
		wl = unhex(want, sizeof(want),
		           json_string_value(json_object_get(m, "ciphertext")));
		if (!mu_noise_hs_done(ini)) {
			struct mu_noise_hs *w = from_ini ? ini : res;
			struct mu_noise_hs *r = from_ini ? res : ini;

			assert_true(mu_noise_hs_our_turn(w));
			assert_false(mu_noise_hs_our_turn(r));
			assert_int_equal(
			    mu_noise_write(w, payload, pl, got, sizeof(got), &gl), 0);
			assert_int_equal(gl, wl);
			assert_memory_equal(got, want, wl);
			assert_int_equal(
			    mu_noise_read(r, got, gl, back, sizeof(back), &bl), 0);
			assert_int_equal(bl, pl);
			assert_memory_equal(back, payload, pl);
			if (mu_noise_hs_done(ini)) {
				assert_true(mu_noise_hs_done(res));
				assert_int_equal(mu_noise_split(ini, &isend, &irecv),
				                 0);
				assert_int_equal(mu_noise_split(res, &rsend, &rrecv),
				                 0);
				if (xx) {
					uint8_t pub[32];

					mu_noise_public(pub, rs);
					assert_memory_equal(mu_noise_remote_static(ini),
					                    pub, 32);
					mu_noise_public(pub, is);
					assert_memory_equal(mu_noise_remote_static(res),
					                    pub, 32);
				}
			}
			continue;
		}
		assert_int_equal(
		    mu_noise_encrypt(from_ini ? isend : rsend, payload, pl, got), 0);
		assert_int_equal(pl + 16, wl);
		assert_memory_equal(got, want, wl);
		assert_int_equal(
		    mu_noise_decrypt(from_ini ? rrecv : irecv, got, wl, back), 0);
		assert_memory_equal(back, payload, pl);
	}
	assert_non_null(isend);
	mu_noise_cipher_free(isend);
	mu_noise_cipher_free(irecv);
	mu_noise_cipher_free(rsend);
	mu_noise_cipher_free(rrecv);
	mu_noise_hs_free(ini);
	mu_noise_hs_free(res);
}

static void
test_cacophony_vectors(void **state)
{
	json_error_t err;
	json_t *root = json_load_file(VECTORS, 0, &err);
	json_t *vectors;
	size_t i, xx = 0;

	(void)state;
	assert_non_null(root);
	vectors = json_object_get(root, "vectors");
	assert_true(json_array_size(vectors) >= 4);
	for (i = 0; i < json_array_size(vectors); i++) {
		json_t *v = json_array_get(vectors, i);

		run_vector(v);
		if (strcmp(json_string_value(json_object_get(v, "name")),
		           "Noise_XX_25519_ChaChaPoly_BLAKE2b") == 0)
			xx++;
	}
	assert_int_equal(xx, 1); /* the suite muster speaks was among them */
	json_decref(root);
}

struct pair {
	struct mu_noise_hs *ini, *res;
};

static void
new_pair(struct pair *p, const char *iprol, const char *rprol)
{
	uint8_t is[32], rs[32], ie[32], re[32];

	randombytes_buf(is, 32);
	randombytes_buf(rs, 32);
	randombytes_buf(ie, 32);
	randombytes_buf(re, 32);
	assert_int_equal(mu_noise_hs_new(&p->ini, MU_NOISE_XX, MU_NOISE_BLAKE2B, true,
	                                 (const uint8_t *)iprol, strlen(iprol), is, ie),
	                 0);
	assert_int_equal(mu_noise_hs_new(&p->res, MU_NOISE_XX, MU_NOISE_BLAKE2B, false,
	                                 (const uint8_t *)rprol, strlen(rprol), rs, re),
	                 0);
}

static void
free_pair(struct pair *p)
{
	mu_noise_hs_free(p->ini);
	mu_noise_hs_free(p->res);
}

static void
test_prologue_mismatch_fails(void **state)
{
	struct pair p;
	uint8_t m[256], pl[256];
	size_t ml, pll;

	(void)state;
	new_pair(&p, "muster/1 net=test", "muster/1 net=prod");
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), 0);
	/* The second message is the first one authenticated under h. */
	assert_int_equal(mu_noise_read(p.ini, m, ml, pl, sizeof(pl), &pll), MU_ESIG);
	/* A failed handshake stays dead. */
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), MU_EINVAL);
	free_pair(&p);
}

static void
test_tampered_and_truncated_messages(void **state)
{
	struct pair p;
	uint8_t m[256], pl[256];
	size_t ml, pll, cut;

	(void)state;
	for (cut = 0; cut < 96; cut += 7) {
		new_pair(&p, "x", "x");
		assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
		assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
		assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), 0);
		assert_int_equal(ml, 32 + 48 + 16);
		if (cut < ml) {
			int rc = mu_noise_read(p.ini, m, cut, pl, sizeof(pl), &pll);

			assert_true(rc == MU_ETRUNC || rc == MU_ESIG);
		}
		free_pair(&p);
	}

	new_pair(&p, "x", "x");
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), 0);
	m[40] ^= 1; /* inside the encrypted static key */
	assert_int_equal(mu_noise_read(p.ini, m, ml, pl, sizeof(pl), &pll), MU_ESIG);
	free_pair(&p);
}

static void
test_low_order_key_refused(void **state)
{
	struct pair p;
	uint8_t m[256], pl[256];
	size_t ml, pll;

	(void)state;
	new_pair(&p, "x", "x");
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), 0);
	memset(m, 0, 32); /* the all-zero point: DH gives zero */
	assert_int_equal(mu_noise_read(p.ini, m, ml, pl, sizeof(pl), &pll), MU_ESIG);
	free_pair(&p);
}

static void
test_out_of_turn_and_replay(void **state)
{
	struct pair p;
	struct mu_noise_cipher *is, *ir, *rs, *rr;
	uint8_t m[256], pl[256], ct[64], out[64];
	size_t ml, pll;

	(void)state;
	new_pair(&p, "x", "x");
	assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), MU_EINVAL);
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_write(p.res, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.ini, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_write(p.ini, NULL, 0, m, sizeof(m), &ml), 0);
	assert_int_equal(mu_noise_read(p.res, m, ml, pl, sizeof(pl), &pll), 0);
	assert_int_equal(mu_noise_split(p.ini, &is, &ir), 0);
	assert_int_equal(mu_noise_split(p.res, &rs, &rr), 0);

	assert_int_equal(mu_noise_encrypt(is, (const uint8_t *)"hello", 5, ct), 0);
	assert_int_equal(mu_noise_decrypt(rr, ct, 21, out), 0);
	assert_memory_equal(out, "hello", 5);
	/* The same frame again is out of sequence: a replay fails. */
	assert_int_equal(mu_noise_decrypt(rr, ct, 21, out), MU_ESIG);
	assert_int_equal(mu_noise_decrypt(rr, ct, 15, out), MU_ETRUNC);

	mu_noise_cipher_free(is);
	mu_noise_cipher_free(ir);
	mu_noise_cipher_free(rs);
	mu_noise_cipher_free(rr);
	free_pair(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cacophony_vectors),
	    cmocka_unit_test(test_prologue_mismatch_fails),
	    cmocka_unit_test(test_tampered_and_truncated_messages),
	    cmocka_unit_test(test_low_order_key_refused),
	    cmocka_unit_test(test_out_of_turn_and_replay),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
