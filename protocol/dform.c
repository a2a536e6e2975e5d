/*
 * Rule d-form (docs/PROTOCOL.md, section 3): the shape of a record's d tag
 * depends on its kind. Shared by the record parser and by addresses read from
 * text, so that both reject exactly the same d values.
 */
#include "kind.h"
#include "record.h"

#include <stdbool.h>

#include <sodium.h>

static bool
tag_first(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
tag_char(unsigned char c)
{
	return tag_first(c) || c == '.' || c == '_' || c == '-';
}

static int
check_tag(const struct mu_kind_def *def, const struct mu_str *d, struct mu_why *why)
{
	size_t i;
	unsigned char c;

	if (d->len == 0)
		return mu_fail(why, MU_ERECORD,
		               "d-form: %s needs a d of 1-%d characters a-z 0-9 . _ -",
		               def->article, MU_D_MAX);
	if (d->len > MU_D_MAX)
		return mu_fail(why, MU_ERECORD,
		               "d-form: the %s's d is %zu bytes long, at most %d are "
		               "allowed",
		               def->name, d->len, MU_D_MAX);
	for (i = 0; i < d->len; i++) {
		c = (unsigned char)d->ptr[i];
		if (i == 0 && !tag_first(c))
			return mu_fail(why, MU_ERECORD,
			               "d-form: the %s's d must start with a-z or 0-9",
			               def->name);
		if (tag_char(c))
			continue;
		if (c >= 32 && c < 127)
			return mu_fail(why, MU_ERECORD,
			               "d-form: the %s's d has '%c' at position %zu; "
			               "only a-z 0-9 . _ - are allowed (lowercase)",
			               def->name, c, i + 1);
		return mu_fail(why, MU_ERECORD,
		               "d-form: the %s's d has byte 0x%02x at position %zu; "
		               "only a-z 0-9 . _ - are allowed",
		               def->name, c, i + 1);
	}
	return 0;
}

static int
check_hex(const struct mu_kind_def *def, const struct mu_str *d, size_t len,
          struct mu_why *why)
{
	size_t i;
	unsigned char c;

	if (d->len != len)
		return mu_fail(why, MU_ERECORD,
		               "d-form: %s's d must be %s as %zu lowercase hex digits, "
		               "not %zu characters",
		               def->article, def->d_why, len, d->len);
	for (i = 0; i < d->len; i++) {
		c = (unsigned char)d->ptr[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return mu_fail(why, MU_ERECORD,
			               "d-form: %s's d must be lowercase hex; "
			               "position %zu is not 0-9 or a-f",
			               def->article, i + 1);
	}
	return 0;
}

static int
check_key(const struct mu_kind_def *def, const struct mu_str *d, const uint8_t *key,
          struct mu_why *why)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int rc;

	if ((rc = check_hex(def, d, 2 * MU_KEY_BYTES, why)) != 0)
		return rc;
	if (key == NULL)
		return 0;
	for (i = 0; i < MU_KEY_BYTES; i++)
		if (d->ptr[2 * i] != hex[key[i] >> 4] ||
		    d->ptr[2 * i + 1] != hex[key[i] & 15])
			return mu_fail(why, MU_ERECORD,
			               "d-form: %s's d must be its %s key in hex, but "
			               "it names another key",
			               def->article, def->d_key);
	return 0;
}

int
mu_rec_check_d(enum mu_kind kind, const struct mu_str *d, const uint8_t *key,
               struct mu_why *why)
{
	const struct mu_kind_def *def = mu_kind_def(kind);

	if (def == NULL)
		return mu_fail(why, MU_ERECORD, "unknown-kind: kind %d has no d rule",
		               (int)kind);
	switch (def->d_rule) {
	case MU_D_EMPTY:
		if (d->len == 0)
			return 0;
		return mu_fail(why, MU_ERECORD, "d-form: %s's d must be empty%s%s%s",
		               def->article, def->d_why != NULL ? " (" : "",
		               def->d_why != NULL ? def->d_why : "",
		               def->d_why != NULL ? ")" : "");
	case MU_D_TAG:
		return check_tag(def, d, why);
	case MU_D_KEY:
		return check_key(def, d, key, why);
	case MU_D_ADDR:
		/* Which digest it must be is the kind's check hook's (kind_table.c):
		 * an address read from text names no content. */
		return check_hex(def, d, MU_D_ADDR_LEN, why);
	}
	return mu_fail(why, MU_ERECORD, "unknown-kind: kind %d has no d rule",
	               (int)kind);
}

void
mu_rec_addr_d(const struct mu_addr *addr, char out[MU_D_ADDR_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[MU_D_ADDR_LEN / 2];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, addr->group, MU_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)addr->d.ptr, addr->d.len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, MU_D_ADDR_LEN + 1, h, sizeof(h));
}
