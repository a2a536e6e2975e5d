/*
 * Text forms of keys, ids and addresses (docs/PROTOCOL.md, section 6).
 *
 * People paste these from chat messages and e-mails, so readers ignore
 * surrounding white space, and every rejection says what is wrong with the
 * text and where to get a good copy.
 */
#include "textform.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bech32.h"
#include "utf8.h"

#define KEY_FIX "copy it again from `muster id` on the group's node"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Sets *start and returns the length of text without surrounding white space. */
static size_t
trim(const char *text, const char **start)
{
	size_t len;

	while (is_space(*text))
		text++;
	len = strlen(text);
	while (len > 0 && is_space(text[len - 1]))
		len--;
	*start = text;
	return len;
}

void
mu_key_to_text(char out[MU_KEY_TEXT_SIZE], const uint8_t key[MU_KEY_BYTES])
{
	/* Cannot fail: the hrp and the size are fixed and valid. */
	(void)mu_bech32_encode(out, MU_KEY_TEXT_SIZE, MU_KEY_HRP, key, MU_KEY_BYTES);
}

static int
key_from_span(uint8_t key[MU_KEY_BYTES], const char *text, size_t len,
              struct mu_why *why)
{
	static const char prefix[] = MU_KEY_HRP "1";
	uint8_t out[MU_KEY_BYTES + 1];
	struct mu_why inner;
	size_t i, n;
	int err;

	if (len == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "no group key given: paste the key that `muster id` "
		               "prints (mug1...)");
	for (i = 0; i < sizeof(prefix) - 1; i++) {
		char c = i < len ? text[i] : '\0';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			break;
	}
	if (i < sizeof(prefix) - 1)
		return mu_fail(why, MU_EKEYTEXT,
		               "group key does not start with \"mug1\", so it is not a "
		               "muster group key; " KEY_FIX);
	if (len != MU_KEY_TEXT_LEN)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "group key is %zu characters long, not %d: it was %s; " KEY_FIX,
		    len, MU_KEY_TEXT_LEN,
		    len < MU_KEY_TEXT_LEN ? "truncated"
		                          : "pasted with extra characters");
	err = mu_bech32_decode(out, sizeof(out), &n, MU_KEY_HRP, text, len, &inner);
	if (err == 0 && n != MU_KEY_BYTES)
		return mu_fail(why, MU_EKEYTEXT,
		               "group key holds %zu bytes, not %d; " KEY_FIX, n,
		               MU_KEY_BYTES);
	if (err < 0)
		return mu_fail(why, MU_EKEYTEXT, "group key %s; " KEY_FIX, inner.text);
	memcpy(key, out, MU_KEY_BYTES);
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

int
mu_key_from_text(uint8_t key[MU_KEY_BYTES], const char *text, struct mu_why *why)
{
	const char *start;
	size_t len = trim(text, &start);

	return key_from_span(key, start, len, why);
}

#define REQ_FIX "copy the whole code again from `muster init --join`"

int
mu_req_to_text(char out[MU_REQ_TEXT_SIZE], const uint8_t key[MU_KEY_BYTES],
               const char *name, size_t name_len)
{
	uint8_t data[MU_KEY_BYTES + MU_REQ_NAME_MAX];

	if (name_len > MU_REQ_NAME_MAX ||
	    mu_utf8_check(name, name_len, MU_UTF8_LINE, NULL) != MU_UTF8_OK)
		return MU_EINVAL;
	memcpy(data, key, MU_KEY_BYTES);
	memcpy(data + MU_KEY_BYTES, name, name_len);
	return mu_bech32_encode(out, MU_REQ_TEXT_SIZE, MU_REQ_HRP, data,
	                        MU_KEY_BYTES + name_len);
}

int
mu_req_from_text(uint8_t key[MU_KEY_BYTES], char name[MU_REQ_NAME_SIZE],
                 const char *text, struct mu_why *why)
{
	static const char prefix[] = MU_REQ_HRP "1";
	uint8_t data[MU_KEY_BYTES + MU_REQ_NAME_MAX + 1];
	struct mu_why inner = {0};
	const char *s;
	size_t len = trim(text, &s), n;

	if (len == 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "no request code given: paste the code that `muster "
		               "init --join` printed (mureq1...)");
	if (len < sizeof(prefix) - 1 || strncasecmp(s, prefix, sizeof(prefix) - 1) != 0)
		return mu_fail(why, MU_EKEYTEXT,
		               "the request code does not start with \"mureq1\", so it "
		               "is not an organizer's request code; " REQ_FIX);
	if (mu_bech32_decode(data, sizeof(data), &n, MU_REQ_HRP, s, len, &inner) != 0)
		return mu_fail(why, MU_EKEYTEXT, "the request code %s; " REQ_FIX,
		               inner.text);
	if (n < MU_KEY_BYTES || n > MU_KEY_BYTES + MU_REQ_NAME_MAX)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "the request code holds %zu bytes, not %d to %d; " REQ_FIX, n,
		    MU_KEY_BYTES, MU_KEY_BYTES + MU_REQ_NAME_MAX);
	if (mu_utf8_check((const char *)data + MU_KEY_BYTES, n - MU_KEY_BYTES,
	                  MU_UTF8_LINE, NULL) != MU_UTF8_OK)
		return mu_fail(why, MU_EKEYTEXT,
		               "the request code's name is not a line of UTF-8 text; "
		               "it was not made by muster");
	memcpy(key, data, MU_KEY_BYTES);
	memcpy(name, data + MU_KEY_BYTES, n - MU_KEY_BYTES);
	name[n - MU_KEY_BYTES] = '\0';
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

void
mu_id_to_text(char out[MU_ID_TEXT_SIZE], const uint8_t id[MU_ID_BYTES])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < MU_ID_BYTES; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * MU_ID_BYTES] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mu_id_from_text(uint8_t id[MU_ID_BYTES], const char *text, struct mu_why *why)
{
	const char *s;
	size_t len = trim(text, &s), i;
	uint8_t out[MU_ID_BYTES];
	int hi, lo;

	if (len != 2 * MU_ID_BYTES)
		return mu_fail(why, MU_EKEYTEXT,
		               "record id is %zu characters long, not %d hex digits: "
		               "copy the whole id from `muster show --json` or a list",
		               len, 2 * MU_ID_BYTES);
	for (i = 0; i < len; i++) {
		if (hex_value(s[i]) >= 0)
			continue;
		if ((unsigned char)s[i] > 32 && (unsigned char)s[i] < 127)
			return mu_fail(
			    why, MU_EKEYTEXT,
			    "record id has '%c' at position %zu, which is not "
			    "a hex digit (0-9, a-f): copy the id again",
			    s[i], i + 1);
		return mu_fail(why, MU_EKEYTEXT,
		               "record id has byte 0x%02x at position %zu, which is "
		               "not a hex digit (0-9, a-f): copy the id again",
		               (unsigned char)s[i], i + 1);
	}
	for (i = 0; i < MU_ID_BYTES; i++) {
		hi = hex_value(s[2 * i]);
		lo = hex_value(s[2 * i + 1]);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(id, out, MU_ID_BYTES);
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}

void
mu_addr_to_text(char out[MU_ADDR_TEXT_SIZE], const struct mu_addr *addr)
{
	char key[MU_KEY_TEXT_SIZE];
	const char *kind = mu_kind_name(addr->kind);
	size_t dlen = addr->d.len > MU_D_MAX ? MU_D_MAX : addr->d.len;

	mu_key_to_text(key, addr->group);
	if (kind == NULL)
		kind = "unknown";
	if (dlen == 0)
		snprintf(out, MU_ADDR_TEXT_SIZE, "%s/%s", key, kind);
	else
		snprintf(out, MU_ADDR_TEXT_SIZE, "%s/%s/%.*s", key, kind, (int)dlen,
		         addr->d.ptr);
}

/* Whether a piece of text can be quoted in a one-line message as it is. */
static bool
printable(const char *s, size_t len)
{
	size_t i;

	if (len > 32)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
			return false;
	return true;
}

int
mu_addr_from_text(struct mu_addr *addr, const char *text, struct mu_why *why)
{
	const char *s, *slash, *kind, *d;
	size_t len = trim(text, &s), klen;
	struct mu_addr out;
	struct mu_why inner;
	int err;

	if (len == 0)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "no address given: write KEY/KIND/D as muster prints it, "
		    "e.g. mug1.../event/assembly");
	slash = memchr(s, '/', len);
	if (slash == NULL)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "address has no '/': write KEY/KIND/D as muster prints it "
		    "(KEY/profile for a profile)");
	err = key_from_span(out.group, s, (size_t)(slash - s), &inner);
	if (err < 0)
		return mu_fail(why, err, "address: %s", inner.text);
	kind = slash + 1;
	slash = memchr(kind, '/', len - (size_t)(kind - s));
	klen = slash == NULL ? len - (size_t)(kind - s) : (size_t)(slash - kind);
	if (klen == 0)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "address has no kind after the key: write KEY/KIND/D with "
		    "KIND one of profile, cause, event, alliance, node");
	out.kind = mu_kind_from_name(kind, klen);
	if (out.kind == MU_KIND_NONE && printable(kind, klen))
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "address names unknown kind \"%.*s\": use profile, cause, "
		    "event, alliance or node",
		    (int)klen, kind);
	if (out.kind == MU_KIND_NONE)
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "address names an unknown kind: use profile, cause, event, "
		    "alliance or node");
	if (!mu_kind_replaceable(out.kind))
		return mu_fail(
		    why, MU_EKEYTEXT,
		    "address names kind %s, which has no address: only "
		    "profile, cause, event, alliance and node records do; name "
		    "the record by its id instead",
		    mu_kind_name(out.kind));
	if (slash == NULL) {
		d = s + len;
		out.d.ptr = d;
		out.d.len = 0;
	} else {
		d = slash + 1;
		out.d.ptr = d;
		out.d.len = len - (size_t)(d - s);
		if (out.d.len == 0)
			return mu_fail(why, MU_EKEYTEXT,
			               "address ends with '/': when d is empty write "
			               "KEY/%s without the last '/'",
			               mu_kind_name(out.kind));
	}
	err = mu_rec_check_d(out.kind, &out.d, NULL, &inner);
	if (err < 0)
		return mu_fail(why, MU_EKEYTEXT, "address: %s", inner.text);
	*addr = out;
	if (why != NULL)
		why->text[0] = '\0';
	return 0;
}
