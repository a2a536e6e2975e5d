/*
 * The worked example of docs/PROTOCOL.md, section 8, rebuilt from its inputs.
 * Every block of hex in that section (seed, key, annotated body, id, signed
 * message, signature, record) must appear in the file exactly as this test
 * writes it, as a whole fenced code block, or the test fails: the document
 * cannot drift from the code. Ed25519 signing is deterministic, so the blocks
 * are stable.
 *
 * `test_example --print` writes the blocks with their headings, for pasting
 * into the document after a deliberate format change.
 *
 * The annotation is produced by a small msgpack walker written here, not by
 * the parser under test; the test also checks that its bytes add up to the
 * body byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "protocol/record.h"

#define CREATED_AT 1767225600LL /* 2026-01-01T00:00:00Z */
#define HEX_LINE   64           /* hex digits per line */
#define ANN_BYTES  8            /* bytes per line of the annotated body */

struct text {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cap == 0) {
		t->cap = 256;
		t->p = malloc(t->cap);
		assert_non_null(t->p);
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = 2 * t->cap + (size_t)n + 64;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	t->len += (size_t)n;
}

/* Hex, HEX_LINE digits to a line, no newline after the last. */
static void
put_hex(struct text *t, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && (2 * i) % HEX_LINE == 0)
			put(t, "\n");
		put(t, "%02x", p[i]);
	}
}

/* --- the annotator ------------------------------------------------------ */

struct ann {
	const uint8_t *b;
	size_t n, pos;
	struct text *out;
	uint8_t check[MU_BODY_MAX]; /* the bytes the annotation lists */
	size_t nchecked;
};

/* Lines for bytes [start, a->pos): the meaning on the first. */
__attribute__((format(printf, 3, 4))) static void
emit(struct ann *a, size_t start, const char *fmt, ...)
{
	char meaning[200], hexcol[3 * ANN_BYTES];
	size_t i, k;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(meaning, sizeof(meaning), fmt, ap);
	va_end(ap);
	for (i = start; i < a->pos; i += ANN_BYTES) {
		hexcol[0] = '\0';
		for (k = i; k < a->pos && k < i + ANN_BYTES; k++)
			snprintf(hexcol + strlen(hexcol),
			         sizeof(hexcol) - strlen(hexcol),
			         k > i ? " %02x" : "%02x", a->b[k]);
		if (i == start)
			put(a->out, "%04zx  %-23s  %s\n", i, hexcol, meaning);
		else
			put(a->out, "%04zx  %s\n", i, hexcol);
	}
}

static uint64_t
be(struct ann *a, unsigned n)
{
	uint64_t v = 0;

	assert_true(a->pos + n <= a->n);
	while (n-- > 0)
		v = v << 8 | a->b[a->pos++];
	return v;
}

static void
date(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, " (%Y-%m-%dT%H:%M:%SZ)", &tm);
}

static void value(struct ann *a, int depth, const char *label);

/* A header (fixed form or tag + length) and what it says: kind, count. */
static uint64_t
header(struct ann *a, const char **form)
{
	uint8_t b = a->b[a->pos++];

	if (b <= 0x7f) {
		*form = "positive fixint";
		return b;
	}
	if (b >= 0xe0) {
		*form = "negative fixint";
		return (uint64_t)(int64_t)(int8_t)b;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		*form = "fixstr";
		return b & 0x1f;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*form = "fixarray";
		return b & 0x0f;
	}
	if (b >= 0x80 && b <= 0x8f) {
		*form = "fixmap";
		return b & 0x0f;
	}
	switch (b) {
	case 0xcc:
		*form = "uint8";
		return be(a, 1);
	case 0xcd:
		*form = "uint16";
		return be(a, 2);
	case 0xce:
		*form = "uint32";
		return be(a, 4);
	case 0xcf:
		*form = "uint64";
		return be(a, 8);
	case 0xd0:
		*form = "int8";
		return (uint64_t)(int64_t)(int8_t)be(a, 1);
	case 0xd1:
		*form = "int16";
		return (uint64_t)(int64_t)(int16_t)be(a, 2);
	case 0xd2:
		*form = "int32";
		return (uint64_t)(int64_t)(int32_t)be(a, 4);
	case 0xd9:
		*form = "str8";
		return be(a, 1);
	case 0xda:
		*form = "str16";
		return be(a, 2);
	case 0xc4:
		*form = "bin8";
		return be(a, 1);
	case 0xc5:
		*form = "bin16";
		return be(a, 2);
	case 0xdc:
		*form = "array16";
		return be(a, 2);
	case 0xde:
		*form = "map16";
		return be(a, 2);
	case 0xc3:
		*form = "true";
		return 1;
	}
	fail_msg("byte 0x%02x at %zu is not expected in the example", b, a->pos - 1);
	return 0;
}

static bool
is_time(const char *label)
{
	return strcmp(label, "created_at") == 0 || strcmp(label, "start") == 0 ||
	       strcmp(label, "end") == 0;
}

static void
value(struct ann *a, int depth, const char *label)
{
	static const char *const body_labels[8] = {
	    "version", "kind", "group", "signer", "created_at", "d", "rev", "content"};
	char key[64], when[40] = "";
	size_t start = a->pos, len;
	const char *form = "";
	uint64_t v, i;
	uint8_t tag = a->b[a->pos];
	int ind = 2 * depth;

	v = header(a, &form);
	if (tag <= 0x7f || (tag >= 0xcc && tag <= 0xcf)) {
		if (is_time(label))
			date(when, sizeof(when), (int64_t)v);
		emit(a, start, "%*s%s: %s %llu%s", ind, "", label, form,
		     (unsigned long long)v, when);
	} else if (tag >= 0xe0 || (tag >= 0xd0 && tag <= 0xd3)) {
		emit(a, start, "%*s%s: %s %lld", ind, "", label, form, (long long)v);
	} else if (tag == 0xc3) {
		emit(a, start, "%*s%s: true", ind, "", label);
	} else if ((tag >= 0xa0 && tag <= 0xbf) || tag == 0xd9 || tag == 0xda) {
		len = (size_t)v;
		assert_true(a->pos + len <= a->n);
		a->pos += len;
		emit(a, start, "%*s%s: %s of %zu, \"%.*s\"", ind, "", label, form, len,
		     (int)len, (const char *)a->b + a->pos - len);
	} else if (tag == 0xc4 || tag == 0xc5) {
		len = (size_t)v;
		assert_true(a->pos + len <= a->n);
		a->pos += len;
		emit(a, start, "%*s%s: %s of %zu", ind, "", label, form, len);
	} else if ((tag >= 0x90 && tag <= 0x9f) || tag == 0xdc) {
		emit(a, start, "%*s%s: %s of %llu", ind, "", label, form,
		     (unsigned long long)v);
		for (i = 0; i < v; i++) {
			if (depth == 0) {
				assert_true(i < 8);
				value(a, depth + 1, body_labels[i]);
			} else {
				snprintf(key, sizeof(key), "%s[%llu]", label,
				         (unsigned long long)i);
				value(a, depth + 1, key);
			}
		}
	} else {
		emit(a, start, "%*s%s: %s of %llu", ind, "", label, form,
		     (unsigned long long)v);
		for (i = 0; i < v; i++) {
			/* A key: a str whose text names the value's line. */
			start = a->pos;
			tag = a->b[a->pos];
			assert_true(tag >= 0xa0 && tag <= 0xbf);
			len = tag & 0x1f;
			a->pos += 1 + len;
			assert_true(len < sizeof(key));
			memcpy(key, a->b + start + 1, len);
			key[len] = '\0';
			emit(a, start, "%*skey: fixstr of %zu, \"%s\"", ind + 2, "",
			     len, key);
			value(a, depth + 1, key);
		}
	}
}

/* The annotation lines' hex, read back and joined, must be the body. */
static void
check_annotation(const char *text, const uint8_t *body, size_t len)
{
	uint8_t *got = malloc(len + 64);
	const char *line = text, *p;
	size_t n = 0, off;
	unsigned x;
	int used;

	assert_non_null(got);
	while (*line != '\0') {
		assert_int_equal(sscanf(line, "%4zx", &off), 1);
		assert_int_equal(off, n);
		p = line + 6;
		while (sscanf(p, "%2x%n", &x, &used) == 1 && used == 2 &&
		       (p[2] == ' ' || p[2] == '\n' || p[2] == '\0')) {
			assert_true(n < len + 64);
			got[n++] = (uint8_t)x;
			p += 2;
			if (p[0] != ' ' || p[1] == ' ')
				break;
			p++;
		}
		if ((line = strchr(line, '\n')) == NULL)
			break;
		line++;
	}
	assert_int_equal(n, len);
	assert_memory_equal(got, body, len);
	free(got);
}

/* --- the example ------------------------------------------------------- */

struct example {
	uint8_t seed[32], pk[MU_KEY_BYTES], sk[MU_SECRET_BYTES];
	uint8_t *raw;
	size_t raw_len;
	struct mu_record rec;
	uint8_t msg[MU_SIG_CONTEXT_LEN + MU_ID_BYTES];
};

static struct mu_str
S(const char *s) {
	struct mu_str m = {s, strlen(s)};

	return m;
}

static void
make(struct example *x)
{
	struct mu_record r;
	struct mu_why why;
	uint8_t id[MU_ID_BYTES];
	int i;

	for (i = 0; i < 32; i++)
		x->seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(x->pk, x->sk, x->seed);

	memset(&r, 0, sizeof(r));
	r.kind = MU_KIND_EVENT;
	memcpy(r.group, x->pk, MU_KEY_BYTES);
	memcpy(r.signer, x->pk, MU_KEY_BYTES);
	r.created_at = CREATED_AT;
	r.d = S("climate-march");
	r.rev = 0;
	r.c.event.title = S("Klimastreik K\xc3\xb6ln");
	r.c.event.start = 1774015200; /* 2026-03-20T14:00:00Z */
	r.c.event.has_end = true;
	r.c.event.end = 1774026000; /* 17:00 */
	r.c.event.tz = S("Europe/Berlin");
	r.c.event.location.set = true;
	r.c.event.location.name = S("Roncalliplatz");
	r.c.event.location.has_geo = true;
	r.c.event.location.lat = 509413000;
	r.c.event.location.lon = 69583000;
	r.c.event.status = MU_EVENT_CONFIRMED;

	if (mu_rec_build(&r, x->sk, CREATED_AT, &x->raw, &x->raw_len, id, &why) != 0)
		fail_msg("example does not build: %s", why.text);
	if (mu_rec_parse(&x->rec, x->raw, x->raw_len, CREATED_AT, 0, &why) != 0)
		fail_msg("example does not parse: %s", why.text);
	memcpy(x->msg, MU_SIG_CONTEXT, MU_SIG_CONTEXT_LEN);
	memcpy(x->msg + MU_SIG_CONTEXT_LEN, id, MU_ID_BYTES);
}

enum { B_SEED, B_PK, B_BODY, B_ID, B_MSG, B_SIG, B_RECORD, B_COUNT };

static const char *const headings[B_COUNT] = {
    "Seed",           "Public key", "Body, annotated", "Id",
    "Signed message", "Signature",  "Record"};

/* The text of each block, without the fences. */
static void
blocks(const struct example *x, struct text out[B_COUNT])
{
	struct ann *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	memset(out, 0, B_COUNT * sizeof(out[0]));
	put_hex(&out[B_SEED], x->seed, sizeof(x->seed));
	put_hex(&out[B_PK], x->pk, sizeof(x->pk));
	a->b = x->rec.body;
	a->n = x->rec.body_len;
	a->out = &out[B_BODY];
	value(a, 0, "body");
	assert_int_equal(a->pos, a->n);
	out[B_BODY].p[--out[B_BODY].len] = '\0'; /* the last newline */
	check_annotation(out[B_BODY].p, x->rec.body, x->rec.body_len);
	put_hex(&out[B_ID], x->rec.id, MU_ID_BYTES);
	put_hex(&out[B_MSG], x->msg, sizeof(x->msg));
	put_hex(&out[B_SIG], x->rec.sig, MU_SIG_BYTES);
	put_hex(&out[B_RECORD], x->raw, x->raw_len);
	free(a);
}

static char *
read_doc(void)
{
	const char *path = MUSTER_SOURCE_DIR "/docs/PROTOCOL.md";
	FILE *f = fopen(path, "rb");
	char *doc;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	doc = malloc((size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	doc[n] = '\0';
	fclose(f);
	return doc;
}

static void
test_example_in_doc(void **state)
{
	struct example x;
	struct text b[B_COUNT], fenced = {NULL, 0, 0};
	char *doc = read_doc(), *section;
	int i;

	(void)state;
	make(&x);
	blocks(&x, b);
	section = strstr(doc, "\n## 8. Worked example\n");
	assert_non_null(section);
	for (i = 0; i < B_COUNT; i++) {
		fenced.len = 0;
		put(&fenced, "\n```\n%s\n```\n", b[i].p);
		if (strstr(section, fenced.p) == NULL)
			fail_msg("docs/PROTOCOL.md section 8 lacks this block (%s); "
			         "run test_example --print:\n%s",
			         headings[i], fenced.p);
		free(b[i].p);
	}
	free(fenced.p);
	free(doc);
	free(x.raw);
}

/* The example verifies as a record, and by hand as section 2.3 says. */
static void
test_example_verifies(void **state)
{
	struct example x;
	uint8_t id[MU_ID_BYTES];

	(void)state;
	make(&x);
	crypto_generichash(id, sizeof(id), x.rec.body, x.rec.body_len, NULL, 0);
	assert_memory_equal(id, x.rec.id, MU_ID_BYTES);
	assert_int_equal(sizeof(x.msg), 48);
	assert_int_equal(
	    crypto_sign_verify_detached(x.rec.sig, x.msg, sizeof(x.msg), x.pk), 0);
	/* The record is [bin8 body, bin8 sig]: 92 c4 <len> body c4 40 sig. */
	assert_int_equal(x.raw[0], 0x92);
	assert_int_equal(x.raw[1], 0xc4);
	assert_int_equal(x.raw[2], x.rec.body_len);
	assert_int_equal(x.raw_len, 3 + x.rec.body_len + 2 + MU_SIG_BYTES);
	free(x.raw);
}

static void
print_blocks(void)
{
	struct example x;
	struct text b[B_COUNT];
	int i;

	make(&x);
	blocks(&x, b);
	for (i = 0; i < B_COUNT; i++) {
		printf("%s:\n\n```\n%s\n```\n\n", headings[i], b[i].p);
		free(b[i].p);
	}
	printf("(record: %zu bytes, body: %zu bytes)\n", x.raw_len, x.rec.body_len);
	free(x.raw);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_in_doc),
	    cmocka_unit_test(test_example_verifies),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		print_blocks();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
