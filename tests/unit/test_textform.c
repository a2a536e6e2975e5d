/*
 * Text forms: bech32m against the BIP-350 vectors, group keys (every single
 * substitution, transposition and truncation of a key text is rejected),
 * record ids and addresses with rule d-form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/bech32.h"
#include "protocol/textform.h"

#define KEY_CHARSET "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

static void
assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* --- bech32m: BIP-350 test vectors ------------------------------------- */

static const char *const valid_bech32m[] = {
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioa"
    "ndnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll"
    "llllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

struct invalid {
	const char *text;
	const char *why; /* a part of the reason the decoder must give */
};

static const struct invalid invalid_bech32m[] = {
    {"\x20"
     "1xj0phk",
     "visible ASCII"},
    {"\x7f"
     "1g6xzxy",
     "visible ASCII"},
    {"\x80"
     "1vctc34",
     "visible ASCII"},
    {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbio"
     "andnumber11d6pts4",
     "over the limit of 90"},
    {"qyrz8wqd2c9m", "no separator"},
    {"1qyrz8wqd2c9m", "no prefix"},
    {"y1b0jsk6g", "not a bech32 character"},
    {"lt1igcx5c0", "not a bech32 character"},
    {"in1muywd", "too short"},
    {"mm1crxm3i", "not a bech32 character"},
    {"au1s5cgom", "not a bech32 character"},
    {"M1VUXWEZ", "checksum does not match"},
    {"16plkw9", "no prefix"},
    {"1p2gdwpf", "no prefix"},
    /* From the segwit part of BIP-350: the failures of the text layer. */
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
     "checksum does not match"}, /* bech32, not bech32m */
    {"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
     "checksum does not match"},
    {"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
     "checksum does not match"},
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "checksum does not match"},
    {"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
     "not a bech32 character"},
    {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
     "mixes upper and lower case"},
};

/* Valid segwit addresses v1+ (bech32m) with their scriptPubKey. */
struct segwit {
	const char *text, *spk;
};

static const struct segwit valid_segwit[] = {
    {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a3"
     "23f1433bd6"},
    {"BC1SW50QGDZ25J", "6002751e"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
    {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
     "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
};

static void
lowercase(char *out, const char *in)
{
	for (; *in != '\0'; in++, out++)
		*out = (*in >= 'A' && *in <= 'Z') ? (char)(*in - 'A' + 'a') : *in;
	*out = '\0';
}

static void
test_bip350_valid(void **state)
{
	char hrp[MU_BECH32_MAX + 1], again[MU_BECH32_MAX + 1], low[MU_BECH32_MAX + 1];
	uint8_t values[MU_BECH32_MAX];
	size_t i, n;
	struct mu_why why;

	(void)state;
	for (i = 0; i < sizeof(valid_bech32m) / sizeof(valid_bech32m[0]); i++) {
		const char *t = valid_bech32m[i];

		assert_int_equal(mu_bech32_decode5(hrp, sizeof(hrp), values,
		                                   sizeof(values), &n, t, strlen(t),
		                                   &why),
		                 0);
		assert_string_equal(why.text, "");
		/* Encoding the decoded parts gives the text back, in lowercase. */
		assert_int_equal(
		    mu_bech32_encode5(again, sizeof(again), hrp, values, n), 0);
		lowercase(low, t);
		assert_string_equal(again, low);
	}
}

static void
test_bip350_invalid(void **state)
{
	char hrp[MU_BECH32_MAX + 1];
	uint8_t values[MU_BECH32_MAX];
	size_t i, n;
	struct mu_why why;

	(void)state;
	for (i = 0; i < sizeof(invalid_bech32m) / sizeof(invalid_bech32m[0]); i++) {
		const char *t = invalid_bech32m[i].text;

		why.text[0] = '\0';
		assert_int_equal(mu_bech32_decode5(hrp, sizeof(hrp), values,
		                                   sizeof(values), &n, t, strlen(t),
		                                   &why),
		                 MU_EKEYTEXT);
		assert_contains(why.text, invalid_bech32m[i].why);
	}
}

/* Regroups 5-bit values into bytes, as BIP-173's convertbits(5, 8). */
static size_t
regroup(uint8_t *out, const uint8_t *values, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 5) | values[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	return len;
}

/* The data values of the segwit vectors decode to their witness programs. */
static void
test_bip350_segwit(void **state)
{
	char hrp[MU_BECH32_MAX + 1];
	uint8_t values[MU_BECH32_MAX], prog[64], spk[64];
	size_t i, n, plen, slen;

	(void)state;
	for (i = 0; i < sizeof(valid_segwit) / sizeof(valid_segwit[0]); i++) {
		const char *t = valid_segwit[i].text;

		assert_int_equal(mu_bech32_decode5(hrp, sizeof(hrp), values,
		                                   sizeof(values), &n, t, strlen(t),
		                                   NULL),
		                 0);
		assert_int_equal(sodium_hex2bin(spk, sizeof(spk), valid_segwit[i].spk,
		                                strlen(valid_segwit[i].spk), NULL,
		                                &slen, NULL),
		                 0);
		plen = regroup(prog, values + 1, n - 1);
		/* scriptPubKey = OP_n (0x50 + version), push length, program */
		assert_int_equal(spk[0], 0x50 + values[0]);
		assert_int_equal(spk[1], plen);
		assert_int_equal(slen, plen + 2);
		assert_memory_equal(spk + 2, prog, plen);
	}
}

static void
test_bech32_bytes(void **state)
{
	uint8_t data[40], back[40];
	char text[MU_BECH32_MAX + 1];
	size_t len, n;
	struct mu_why why;

	(void)state;
	for (len = 0; len <= sizeof(data); len++) {
		randombytes_buf(data, len);
		assert_int_equal(mu_bech32_encode(text, sizeof(text), "xyz", data, len),
		                 0);
		assert_int_equal(mu_bech32_decode(back, sizeof(back), &n, "xyz", text,
		                                  strlen(text), &why),
		                 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, data, len);
		/* The hrp must be the expected one. */
		assert_int_equal(mu_bech32_decode(back, sizeof(back), &n, "xy", text,
		                                  strlen(text), &why),
		                 MU_EKEYTEXT);
		assert_contains(why.text, "not \"xy1\"");
		/* The caller's buffer is a limit, not an overflow. */
		if (len > 0) {
			assert_int_equal(mu_bech32_decode(back, len - 1, &n, "xyz",
			                                  text, strlen(text), &why),
			                 MU_EKEYTEXT);
		}
	}
	/* Too long to encode, and a bad hrp. */
	assert_int_equal(mu_bech32_encode(text, sizeof(text), "a", data, 60),
	                 MU_EINVAL);
	assert_int_equal(mu_bech32_encode(text, sizeof(text), "", data, 1), MU_EINVAL);
	assert_int_equal(mu_bech32_encode(text, sizeof(text), "a b", data, 1),
	                 MU_EINVAL);
	assert_int_equal(mu_bech32_encode(text, 8, "abc", data, 4), MU_EINVAL);
}

static void
test_bech32_padding(void **state)
{
	uint8_t values[MU_BECH32_MAX], back[64];
	char text[MU_BECH32_MAX + 1];
	size_t n;
	struct mu_why why;
	int v;

	(void)state;
	/* 2 values = 10 bits = 1 byte and 2 padding bits, which must be zero. */
	values[0] = 3;
	for (v = 0; v < 32; v++) {
		values[1] = (uint8_t)v;
		assert_int_equal(mu_bech32_encode5(text, sizeof(text), "p", values, 2),
		                 0);
		if ((v & 3) == 0) {
			assert_int_equal(mu_bech32_decode(back, sizeof(back), &n, "p",
			                                  text, strlen(text), &why),
			                 0);
			assert_int_equal(n, 1);
			assert_int_equal(back[0], (3 << 3) | (v >> 2));
		} else {
			assert_int_equal(mu_bech32_decode(back, sizeof(back), &n, "p",
			                                  text, strlen(text), &why),
			                 MU_EKEYTEXT);
			assert_contains(why.text, "non-zero padding");
		}
	}
	/* 3 values = 15 bits: 7 padding bits, a whole superfluous value. */
	memset(values, 0, 3);
	assert_int_equal(mu_bech32_encode5(text, sizeof(text), "p", values, 3), 0);
	assert_int_equal(
	    mu_bech32_decode(back, sizeof(back), &n, "p", text, strlen(text), &why),
	    MU_EKEYTEXT);
	assert_contains(why.text, "superfluous");
	/* Values over 31 cannot be encoded. */
	values[0] = 32;
	assert_int_equal(mu_bech32_encode5(text, sizeof(text), "p", values, 1),
	                 MU_EINVAL);
}

/* --- group keys ------------------------------------------------------ */

static void
random_key(uint8_t key[MU_KEY_BYTES], char text[MU_KEY_TEXT_SIZE])
{
	randombytes_buf(key, MU_KEY_BYTES);
	mu_key_to_text(text, key);
}

static void
test_key_roundtrip(void **state)
{
	uint8_t key[MU_KEY_BYTES], back[MU_KEY_BYTES];
	char text[MU_KEY_TEXT_SIZE], upper[MU_KEY_TEXT_SIZE], padded[128];
	struct mu_why why;
	int round;
	size_t i;

	(void)state;
	for (round = 0; round < 1000; round++) {
		random_key(key, text);
		assert_int_equal(strlen(text), MU_KEY_TEXT_LEN);
		assert_memory_equal(text, "mug1", 4);
		for (i = 4; i < MU_KEY_TEXT_LEN; i++)
			assert_non_null(strchr(KEY_CHARSET, text[i]));
		memset(back, 0, sizeof(back));
		assert_int_equal(mu_key_from_text(back, text, &why), 0);
		assert_string_equal(why.text, "");
		assert_memory_equal(back, key, MU_KEY_BYTES);

		/* All-uppercase is the same key. */
		for (i = 0; i <= MU_KEY_TEXT_LEN; i++)
			upper[i] = (text[i] >= 'a' && text[i] <= 'z')
			               ? (char)(text[i] - 'a' + 'A')
			               : text[i];
		memset(back, 0, sizeof(back));
		assert_int_equal(mu_key_from_text(back, upper, &why), 0);
		assert_memory_equal(back, key, MU_KEY_BYTES);

		/* Surrounding white space, as pasted from a message, is ignored. */
		snprintf(padded, sizeof(padded), " \t%s\r\n ", text);
		memset(back, 0, sizeof(back));
		assert_int_equal(mu_key_from_text(back, padded, &why), 0);
		assert_memory_equal(back, key, MU_KEY_BYTES);
	}
	/* The all-zero and all-ones keys. */
	memset(key, 0, sizeof(key));
	mu_key_to_text(text, key);
	assert_int_equal(mu_key_from_text(back, text, NULL), 0);
	assert_memory_equal(back, key, MU_KEY_BYTES);
	memset(key, 0xff, sizeof(key));
	mu_key_to_text(text, key);
	assert_int_equal(mu_key_from_text(back, text, NULL), 0);
	assert_memory_equal(back, key, MU_KEY_BYTES);
}

/* Rejected, with a reason that says how to fix it, and key left untouched. */
static void
assert_key_rejected(const char *text, const char *part)
{
	uint8_t key[MU_KEY_BYTES], zero[MU_KEY_BYTES] = {0};
	struct mu_why why;

	memset(key, 0, sizeof(key));
	why.text[0] = '\0';
	if (mu_key_from_text(key, text, &why) != MU_EKEYTEXT)
		fail_msg("key text \"%s\" was accepted", text);
	assert_memory_equal(key, zero, sizeof(key));
	assert_contains(why.text, "group key");
	assert_contains(why.text, "muster id");
	assert_null(strchr(why.text, '\n'));
	if (part != NULL)
		assert_contains(why.text, part);
}

/* Every character at every position replaced by every other byte. */
static void
test_key_substitutions(void **state)
{
	uint8_t key[MU_KEY_BYTES];
	char text[MU_KEY_TEXT_SIZE], bad[MU_KEY_TEXT_SIZE];
	int round, c;
	size_t pos;

	(void)state;
	for (round = 0; round < 8; round++) {
		random_key(key, text);
		for (pos = 0; pos < MU_KEY_TEXT_LEN; pos++) {
			for (c = 1; c < 256; c++) {
				if (c == (unsigned char)text[pos])
					continue;
				memcpy(bad, text, sizeof(bad));
				bad[pos] = (char)c;
				/* A substitution inside the data part by another
				 * character of the alphabet is what only the
				 * checksum can catch. */
				assert_key_rejected(bad, pos >= 4 && c < 128 &&
				                                 strchr(KEY_CHARSET, c)
				                             ? "checksum does not match"
				                             : NULL);
			}
		}
	}
}

static void
test_key_transpositions(void **state)
{
	uint8_t key[MU_KEY_BYTES];
	char text[MU_KEY_TEXT_SIZE], bad[MU_KEY_TEXT_SIZE];
	int round;
	size_t i, j;

	(void)state;
	for (round = 0; round < 8; round++) {
		random_key(key, text);
		for (i = 0; i < MU_KEY_TEXT_LEN; i++) {
			for (j = i + 1; j < MU_KEY_TEXT_LEN; j++) {
				if (text[i] == text[j])
					continue;
				memcpy(bad, text, sizeof(bad));
				bad[i] = text[j];
				bad[j] = text[i];
				assert_key_rejected(bad, NULL);
			}
		}
	}
}

static void
test_key_truncated_and_extended(void **state)
{
	uint8_t key[MU_KEY_BYTES];
	char text[MU_KEY_TEXT_SIZE], bad[MU_KEY_TEXT_SIZE + 8];
	size_t len, pos;

	(void)state;
	random_key(key, text);
	/* Every prefix, down to nothing. */
	for (len = 0; len < MU_KEY_TEXT_LEN; len++) {
		memcpy(bad, text, len);
		bad[len] = '\0';
		assert_key_rejected(bad, len == 0 ? "no group key" : NULL);
		if (len >= 4)
			assert_key_rejected(bad, "truncated");
	}
	/* One character left out anywhere. */
	for (pos = 0; pos < MU_KEY_TEXT_LEN; pos++) {
		memcpy(bad, text, pos);
		memcpy(bad + pos, text + pos + 1, MU_KEY_TEXT_LEN - pos);
		assert_key_rejected(bad, NULL);
	}
	/* One character too many anywhere. */
	for (pos = 4; pos <= MU_KEY_TEXT_LEN; pos++) {
		memcpy(bad, text, pos);
		bad[pos] = 'q';
		memcpy(bad + pos + 1, text + pos, MU_KEY_TEXT_LEN - pos + 1);
		assert_key_rejected(bad, "extra characters");
	}
	/* White space inside is not trimmed. */
	memcpy(bad, text, 30);
	bad[30] = ' ';
	memcpy(bad + 31, text + 30, MU_KEY_TEXT_LEN - 30 + 1);
	assert_key_rejected(bad, NULL);
	assert_key_rejected("   ", "no group key");
}

static void
test_key_case_prefix_padding(void **state)
{
	uint8_t key[MU_KEY_BYTES], values[52];
	char text[MU_KEY_TEXT_SIZE], bad[MU_KEY_TEXT_SIZE + 8];
	size_t i;

	(void)state;
	random_key(key, text);
	/* Mixed case: an uppercase prefix with lowercase data, and one letter. */
	memcpy(bad, text, sizeof(text));
	memcpy(bad, "MUG1", 4);
	assert_key_rejected(bad, "mixes upper and lower case");
	memcpy(bad, text, sizeof(text));
	for (i = 4; i < MU_KEY_TEXT_LEN; i++)
		if (bad[i] >= 'a' && bad[i] <= 'z')
			break;
	assert_true(i < MU_KEY_TEXT_LEN);
	bad[i] = (char)(bad[i] - 'a' + 'A');
	assert_key_rejected(bad, "mixes upper and lower case");

	/* Another prefix, even with a valid checksum of its own. */
	assert_int_equal(mu_bech32_encode(bad, sizeof(bad), "mux", key, 32), 0);
	assert_key_rejected(bad, "does not start with \"mug1\"");
	assert_int_equal(mu_bech32_encode(bad, sizeof(bad), "mu", key, 32), 0);
	assert_key_rejected(bad, "does not start with \"mug1\"");
	assert_key_rejected("npub1xyz", "does not start with \"mug1\"");

	/* 52 values whose last 4 padding bits are not zero, correctly
	 * checksummed: only a forger writes this, and it must not name a key. */
	for (i = 0; i < 52; i++)
		values[i] = (uint8_t)(i % 32);
	values[51] = 0x11;
	assert_int_equal(mu_bech32_encode5(bad, sizeof(bad), "mug", values, 52), 0);
	assert_int_equal(strlen(bad), MU_KEY_TEXT_LEN);
	assert_key_rejected(bad, "padding");
	values[51] = 0x10;
	assert_int_equal(mu_bech32_encode5(bad, sizeof(bad), "mug", values, 52), 0);
	assert_int_equal(mu_key_from_text(key, bad, NULL), 0);

	/* A character outside the alphabet is named as such. */
	memcpy(bad, text, sizeof(text));
	bad[20] = 'b';
	assert_key_rejected(bad, "'b' at position 21");
	bad[20] = '\x01';
	assert_key_rejected(bad, "byte 0x01 at position 21");
}

/* --- ids ------------------------------------------------------------- */

static void
test_id(void **state)
{
	uint8_t id[MU_ID_BYTES], back[MU_ID_BYTES];
	char text[MU_ID_TEXT_SIZE], bad[MU_ID_TEXT_SIZE + 4];
	struct mu_why why;
	size_t i;

	(void)state;
	randombytes_buf(id, sizeof(id));
	mu_id_to_text(text, id);
	assert_int_equal(strlen(text), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", text[i]));
	assert_int_equal(mu_id_from_text(back, text, &why), 0);
	assert_memory_equal(back, id, sizeof(id));

	for (i = 0; i < 64; i++)
		bad[i] =
		    (text[i] >= 'a' && text[i] <= 'f') ? (char)(text[i] - 32) : text[i];
	bad[64] = '\0';
	memset(back, 0, sizeof(back));
	assert_int_equal(mu_id_from_text(back, bad, &why), 0);
	assert_memory_equal(back, id, sizeof(id));

	snprintf(bad, sizeof(bad), " %s\n", text);
	assert_int_equal(mu_id_from_text(back, bad, &why), 0);

	memcpy(bad, text, 63);
	bad[63] = '\0';
	assert_int_equal(mu_id_from_text(back, bad, &why), MU_EKEYTEXT);
	assert_contains(why.text, "63 characters long, not 64");
	memcpy(bad, text, 65);
	bad[10] = 'g';
	assert_int_equal(mu_id_from_text(back, bad, &why), MU_EKEYTEXT);
	assert_contains(why.text, "'g' at position 11");
	assert_int_equal(mu_id_from_text(back, "", &why), MU_EKEYTEXT);
}

/* --- addresses ------------------------------------------------------- */

static void
assert_addr_roundtrip(const char *text, enum mu_kind kind, const uint8_t *group,
                      const char *d)
{
	struct mu_addr addr;
	struct mu_why why;
	char again[MU_ADDR_TEXT_SIZE];

	memset(&addr, 0, sizeof(addr));
	if (mu_addr_from_text(&addr, text, &why) != 0)
		fail_msg("address \"%s\" rejected: %s", text, why.text);
	assert_string_equal(why.text, "");
	assert_int_equal(addr.kind, kind);
	assert_memory_equal(addr.group, group, MU_KEY_BYTES);
	assert_int_equal(addr.d.len, strlen(d));
	if (addr.d.len > 0) {
		assert_memory_equal(addr.d.ptr, d, addr.d.len);
		/* d borrows from the text. */
		assert_true(addr.d.ptr >= text && addr.d.ptr < text + strlen(text));
	}
	mu_addr_to_text(again, &addr);
	assert_string_equal(again, text);
}

static void
assert_addr_rejected(const char *text, const char *part)
{
	struct mu_addr addr;
	struct mu_why why;

	why.text[0] = '\0';
	if (mu_addr_from_text(&addr, text, &why) != MU_EKEYTEXT)
		fail_msg("address \"%s\" was accepted", text);
	assert_null(strchr(why.text, '\n'));
	assert_contains(why.text, part);
}

static void
test_addr_kinds(void **state)
{
	uint8_t group[MU_KEY_BYTES], other[MU_KEY_BYTES];
	char key[MU_KEY_TEXT_SIZE], okey[MU_KEY_TEXT_SIZE], hex[65];
	char text[MU_ADDR_TEXT_SIZE + 8], d64[MU_D_MAX + 1];
	struct mu_addr addr;
	size_t i;

	(void)state;
	random_key(group, key);
	random_key(other, okey);
	sodium_bin2hex(hex, sizeof(hex), other, sizeof(other));

	snprintf(text, sizeof(text), "%s/profile", key);
	assert_addr_roundtrip(text, MU_KIND_PROFILE, group, "");
	snprintf(text, sizeof(text), "%s/cause/stop-the-rent-hike", key);
	assert_addr_roundtrip(text, MU_KIND_CAUSE, group, "stop-the-rent-hike");
	snprintf(text, sizeof(text), "%s/event/2026-climate.strike_1", key);
	assert_addr_roundtrip(text, MU_KIND_EVENT, group, "2026-climate.strike_1");
	snprintf(text, sizeof(text), "%s/alliance/%s", key, hex);
	assert_addr_roundtrip(text, MU_KIND_ALLIANCE, group, hex);

	/* The longest d fills the buffer exactly. */
	for (i = 0; i < MU_D_MAX; i++)
		d64[i] = "abcdefghij"[i % 10];
	d64[MU_D_MAX] = '\0';
	snprintf(text, sizeof(text), "%s/event/%s", key, d64);
	assert_true(strlen(text) < MU_ADDR_TEXT_SIZE);
	assert_addr_roundtrip(text, MU_KIND_EVENT, group, d64);

	/* Uppercase key and surrounding white space are accepted. */
	for (i = 0; i < MU_KEY_TEXT_LEN; i++)
		text[i] =
		    (key[i] >= 'a' && key[i] <= 'z') ? (char)(key[i] - 32) : key[i];
	snprintf(text + MU_KEY_TEXT_LEN, sizeof(text) - MU_KEY_TEXT_LEN, "/event/x1");
	assert_int_equal(mu_addr_from_text(&addr, text, NULL), 0);
	assert_memory_equal(addr.group, group, MU_KEY_BYTES);
	snprintf(text, sizeof(text), "  %s/cause/a \n", key);
	assert_int_equal(mu_addr_from_text(&addr, text, NULL), 0);
	assert_int_equal(addr.kind, MU_KIND_CAUSE);
	assert_int_equal(addr.d.len, 1);
	assert_int_equal(addr.d.ptr[0], 'a');
}

static void
test_addr_rejects(void **state)
{
	uint8_t group[MU_KEY_BYTES], other[MU_KEY_BYTES];
	char key[MU_KEY_TEXT_SIZE], okey[MU_KEY_TEXT_SIZE], hex[65];
	char text[MU_ADDR_TEXT_SIZE + 80], d65[MU_D_MAX + 2];
	size_t i;

	(void)state;
	random_key(group, key);
	random_key(other, okey);
	sodium_bin2hex(hex, sizeof(hex), other, sizeof(other));

	assert_addr_rejected("", "no address given");
	assert_addr_rejected(key, "has no '/'");
	snprintf(text, sizeof(text), "%s//x", key);
	assert_addr_rejected(text, "no kind");
	snprintf(text, sizeof(text), "%s/", key);
	assert_addr_rejected(text, "no kind");

	/* Bad kinds. */
	snprintf(text, sizeof(text), "%s/meeting/x", key);
	assert_addr_rejected(text, "unknown kind \"meeting\"");
	snprintf(text, sizeof(text), "%s/Event/x", key);
	assert_addr_rejected(text, "unknown kind \"Event\"");
	snprintf(text, sizeof(text), "%s/delete", key);
	assert_addr_rejected(text, "has no address");
	snprintf(text, sizeof(text), "%s/ev\x01nt/x", key);
	assert_addr_rejected(text, "unknown kind");

	/* The key part is checked like any key. */
	snprintf(text, sizeof(text), "%s/event/x", key);
	text[10] = text[10] == 'q' ? 'p' : 'q';
	assert_addr_rejected(text, "checksum does not match");
	snprintf(text, sizeof(text), "%.*s/event/x", MU_KEY_TEXT_LEN - 1, key);
	assert_addr_rejected(text, "truncated");

	/* d-form, kind by kind. */
	snprintf(text, sizeof(text), "%s/profile/x", key);
	assert_addr_rejected(text, "d-form: a profile's d must be empty");
	snprintf(text, sizeof(text), "%s/profile/", key);
	assert_addr_rejected(text, "ends with '/'");
	snprintf(text, sizeof(text), "%s/event/", key);
	assert_addr_rejected(text, "ends with '/'");
	snprintf(text, sizeof(text), "%s/cause", key);
	assert_addr_rejected(text, "d-form: a cause needs a d");
	snprintf(text, sizeof(text), "%s/event", key);
	assert_addr_rejected(text, "d-form: an event needs a d");
	snprintf(text, sizeof(text), "%s/event/Climate", key);
	assert_addr_rejected(text, "must start with a-z or 0-9");
	snprintf(text, sizeof(text), "%s/event/-x", key);
	assert_addr_rejected(text, "must start with a-z or 0-9");
	snprintf(text, sizeof(text), "%s/event/climate strike", key);
	assert_addr_rejected(text, "' ' at position 8");
	snprintf(text, sizeof(text), "%s/cause/a/b", key);
	assert_addr_rejected(text, "'/' at position 2");
	snprintf(text, sizeof(text), "%s/cause/caf\xc3\xa9", key);
	assert_addr_rejected(text, "byte 0xc3 at position 4");
	for (i = 0; i <= MU_D_MAX; i++)
		d65[i] = 'a';
	d65[MU_D_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "%s/cause/%s", key, d65);
	assert_addr_rejected(text, "65 bytes long, at most 64");

	/* Alliance d: the other key in 64 lowercase hex digits. */
	snprintf(text, sizeof(text), "%s/alliance/%.63s", key, hex);
	assert_addr_rejected(text, "64 lowercase hex digits, not 63");
	snprintf(text, sizeof(text), "%s/alliance", key);
	assert_addr_rejected(text, "64 lowercase hex digits, not 0");
	snprintf(text, sizeof(text), "%s/alliance/%s", key, okey);
	assert_addr_rejected(text, "64 lowercase hex digits");
	snprintf(text, sizeof(text), "%s/alliance/%s", key, hex);
	for (i = MU_KEY_TEXT_LEN + 10; text[i] != '\0'; i++)
		if (text[i] >= 'a' && text[i] <= 'f')
			break;
	assert_true(text[i] != '\0');
	text[i] = (char)(text[i] - 32);
	assert_addr_rejected(text, "lowercase hex");
}

/* rule d-form with the with key known, as the record parser checks it. */
static void
test_check_d_alliance_with(void **state)
{
	uint8_t with[MU_KEY_BYTES], other[MU_KEY_BYTES];
	char hex[65];
	struct mu_str d = {hex, 64}, empty = {"", 0}, some = {"x", 1};
	struct mu_why why;

	(void)state;
	randombytes_buf(with, sizeof(with));
	memcpy(other, with, sizeof(other));
	other[31] ^= 1;
	sodium_bin2hex(hex, sizeof(hex), with, sizeof(with));
	assert_int_equal(mu_rec_check_d(MU_KIND_ALLIANCE, &d, with, &why), 0);
	assert_int_equal(mu_rec_check_d(MU_KIND_ALLIANCE, &d, NULL, &why), 0);
	assert_int_equal(mu_rec_check_d(MU_KIND_ALLIANCE, &d, other, &why), MU_ERECORD);
	assert_contains(why.text, "d-form");
	assert_contains(why.text, "another key");
	assert_int_equal(mu_rec_check_d(MU_KIND_DELETE, &empty, NULL, &why), 0);
	assert_int_equal(mu_rec_check_d(MU_KIND_DELETE, &some, NULL, &why), MU_ERECORD);
	assert_contains(why.text, "d-form: a delete's d must be empty");
	assert_int_equal(mu_rec_check_d(MU_KIND_PROFILE, &empty, NULL, &why), 0);
	assert_int_equal(mu_rec_check_d(MU_KIND_NONE, &empty, NULL, &why), MU_ERECORD);
	assert_int_equal(mu_rec_check_d(MU_KIND_EVENT, &some, NULL, &why), 0);
}

/* Request codes: key and name back as written; every single substitution
 * of the longest code is caught; other prefixes, lengths and names are
 * refused by name. */
static void
test_req(void **state)
{
	uint8_t key[MU_KEY_BYTES], back[MU_KEY_BYTES];
	char text[MU_REQ_TEXT_SIZE], bad[MU_REQ_TEXT_SIZE], name[MU_REQ_NAME_SIZE];
	char key_text[MU_KEY_TEXT_SIZE];
	struct mu_why why = {0};
	size_t len, i, j;

	(void)state;
	randombytes_buf(key, sizeof(key));
	assert_int_equal(mu_req_to_text(text, key, "Sam", 3), 0);
	assert_int_equal(strncmp(text, "mureq1", 6), 0);
	assert_int_equal(mu_req_from_text(back, name, text, &why), 0);
	assert_memory_equal(back, key, MU_KEY_BYTES);
	assert_string_equal(name, "Sam");

	/* The longest name: the code stays within bech32m's 90 characters. */
	assert_int_equal(mu_req_to_text(text, key, "Ana María Lópe", 16), 0);
	len = strlen(text);
	assert_true(len <= 90);
	assert_int_equal(mu_req_from_text(back, name, text, &why), 0);
	assert_string_equal(name, "Ana María Lópe");
	for (i = 6; i < len; i++) {
		for (j = 0; j < 32; j++) {
			if (KEY_CHARSET[j] == text[i])
				continue;
			memcpy(bad, text, len + 1);
			bad[i] = KEY_CHARSET[j];
			assert_int_equal(mu_req_from_text(back, name, bad, &why),
			                 MU_EKEYTEXT);
		}
	}
	assert_int_equal(mu_req_to_text(text, key, "Ana María López", 17), MU_EINVAL);
	assert_int_equal(mu_req_to_text(text, key, "a\nb", 3), MU_EINVAL);

	mu_key_to_text(key_text, key);
	assert_int_equal(mu_req_from_text(back, name, key_text, &why), MU_EKEYTEXT);
	assert_contains(why.text, "does not start with \"mureq1\"");
	assert_int_equal(mu_req_from_text(back, name, "  ", &why), MU_EKEYTEXT);
	assert_contains(why.text, "no request code given");
	/* Too short to hold a key. */
	assert_int_equal(mu_bech32_encode(bad, sizeof(bad), "mureq", key, 20), 0);
	assert_int_equal(mu_req_from_text(back, name, bad, &why), MU_EKEYTEXT);
	assert_contains(why.text, "holds 20 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bip350_valid),
	    cmocka_unit_test(test_bip350_invalid),
	    cmocka_unit_test(test_bip350_segwit),
	    cmocka_unit_test(test_bech32_bytes),
	    cmocka_unit_test(test_bech32_padding),
	    cmocka_unit_test(test_key_roundtrip),
	    cmocka_unit_test(test_key_substitutions),
	    cmocka_unit_test(test_key_transpositions),
	    cmocka_unit_test(test_key_truncated_and_extended),
	    cmocka_unit_test(test_key_case_prefix_padding),
	    cmocka_unit_test(test_id),
	    cmocka_unit_test(test_addr_kinds),
	    cmocka_unit_test(test_addr_rejects),
	    cmocka_unit_test(test_check_d_alliance_with),
	    cmocka_unit_test(test_req),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
