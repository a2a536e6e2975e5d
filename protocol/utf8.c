/*
 * Strict UTF-8 per RFC 3629, table 3-7 of the Unicode standard: the second
 * byte's range depends on the first, which is what excludes overlong forms,
 * surrogates and code points above U+10FFFF.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define BYTES(b) (0x0101010101010101ull * (b)) /* b in each byte of a word */

static int
bad(struct mu_utf8_err *err, int code, size_t off, const char *detail)
{
	if (err != NULL) {
		err->off = off;
		err->detail = detail;
	}
	return code;
}

static int
control(unsigned char c, enum mu_utf8_mode mode)
{
	if (mode == MU_UTF8_ANY)
		return 0;
	if (c == 0x7f)
		return 1;
	if (c >= 0x20)
		return 0;
	return !(mode == MU_UTF8_TEXT && (c == '\t' || c == '\n'));
}

/*
 * Whether the 8 bytes at s are all printable ASCII (0x20 to 0x7e), which
 * every mode accepts: most record text is, and a word at a time is several
 * times faster than a byte. A word with a byte below n has a borrow into
 * that byte's top bit in w - BYTES(n) where the byte's own top bit is clear
 * (exact for n <= 128 once top bits are excluded); 0x7f is the zero byte of
 * w ^ BYTES(0x7f).
 */
static int
printable8(const unsigned char *s)
{
	const uint64_t top = BYTES(0x80);
	uint64_t w, d;

	memcpy(&w, s, sizeof(w));
	d = w ^ BYTES(0x7f);
	return ((w & top) | ((w - BYTES(0x20)) & ~w & top) |
	        ((d - BYTES(0x01)) & ~d & top)) == 0;
}

int
mu_utf8_check(const char *str, size_t len, enum mu_utf8_mode mode,
              struct mu_utf8_err *err)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c, lo, hi;
	size_t i = 0, n, k;

	while (i < len) {
		if (len - i >= 8 && printable8(s + i)) {
			i += 8;
			continue;
		}
		c = s[i];
		if (c < 0x80) {
			if (control(c, mode))
				return bad(err, MU_UTF8_ECONTROL, i,
				           "a control character");
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c < 0xc2) {
			return bad(err, MU_UTF8_EBAD, i,
			           c < 0xc0 ? "a continuation byte without a lead "
			                      "byte"
			                    : "an overlong (non-shortest) sequence");
		} else if (c < 0xe0) {
			n = 1;
		} else if (c < 0xf0) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0; /* below: overlong */
			else if (c == 0xed)
				hi = 0x9f; /* above: surrogates */
		} else if (c < 0xf5) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90; /* below: overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above: past U+10FFFF */
		} else {
			return bad(err, MU_UTF8_EBAD, i,
			           c < 0xf8 ? "a code point above U+10FFFF"
			                    : "a byte that never appears in UTF-8");
		}
		for (k = 1; k <= n && i + k < len; k++) {
			c = s[i + k];
			if ((c & 0xc0) != 0x80)
				return bad(err, MU_UTF8_EBAD, i,
				           "an incomplete sequence");
			if (k == 1 && (c < lo || c > hi)) {
				if (c < lo)
					return bad(err, MU_UTF8_EBAD, i,
					           "an overlong (non-shortest) "
					           "sequence");
				return bad(err, MU_UTF8_EBAD, i,
				           s[i] == 0xed
				               ? "a surrogate (U+D800-U+DFFF)"
				               : "a code point above U+10FFFF");
			}
		}
		if (len - i <= n)
			return bad(err, MU_UTF8_EBAD, i,
			           "a sequence cut off by the end");
		i += n + 1;
	}
	return MU_UTF8_OK;
}
