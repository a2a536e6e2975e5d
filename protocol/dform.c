/*
 * Rule d-form (docs/PROTOCOL.md, section 3): the shape of a record's d tag
 * depends on its kind. Shared by the record parser and by addresses read from
 * text, so that both reject exactly the same d values.
 */
#include "record.h"

#include <stdbool.h>

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
check_tag(const char *a_kind, const char *kind, const struct mu_str *d,
          struct mu_why *why)
{
	size_t i;
	unsigned char c;

	if (d->len == 0)
		return mu_fail(why, MU_ERECORD,
		               "d-form: %s needs a d of 1-%d characters a-z 0-9 . _ -",
		               a_kind, MU_D_MAX);
	if (d->len > MU_D_MAX)
		return mu_fail(why, MU_ERECORD,
		               "d-form: the %s's d is %zu bytes long, at most %d are "
		               "allowed",
		               kind, d->len, MU_D_MAX);
	for (i = 0; i < d->len; i++) {
		c = (unsigned char)d->ptr[i];
		if (i == 0 && !tag_first(c))
			return mu_fail(why, MU_ERECORD,
			               "d-form: the %s's d must start with a-z or 0-9",
			               kind);
		if (tag_char(c))
			continue;
		if (c >= 32 && c < 127)
			return mu_fail(why, MU_ERECORD,
			               "d-form: the %s's d has '%c' at position %zu; "
			               "only a-z 0-9 . _ - are allowed (lowercase)",
			               kind, c, i + 1);
		return mu_fail(why, MU_ERECORD,
		               "d-form: the %s's d has byte 0x%02x at position %zu; "
		               "only a-z 0-9 . _ - are allowed",
		               kind, c, i + 1);
	}
	return 0;
}

static int
check_alliance(const struct mu_str *d, const uint8_t *with, struct mu_why *why)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned char c;

	if (d->len != 2 * MU_KEY_BYTES)
		return mu_fail(why, MU_ERECORD,
		               "d-form: an alliance's d must be the allied group's key "
		               "as %d lowercase hex digits, not %zu characters",
		               2 * MU_KEY_BYTES, d->len);
	for (i = 0; i < d->len; i++) {
		c = (unsigned char)d->ptr[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return mu_fail(why, MU_ERECORD,
			               "d-form: an alliance's d must be lowercase hex; "
			               "position %zu is not 0-9 or a-f",
			               i + 1);
	}
	if (with == NULL)
		return 0;
	for (i = 0; i < MU_KEY_BYTES; i++)
		if (d->ptr[2 * i] != hex[with[i] >> 4] ||
		    d->ptr[2 * i + 1] != hex[with[i] & 15])
			return mu_fail(
			    why, MU_ERECORD,
			    "d-form: an alliance's d must be its with key in "
			    "hex, but it names another key");
	return 0;
}

int
mu_rec_check_d(enum mu_kind kind, const struct mu_str *d, const uint8_t *with,
               struct mu_why *why)
{
	switch (kind) {
	case MU_KIND_PROFILE:
		if (d->len != 0)
			return mu_fail(
			    why, MU_ERECORD,
			    "d-form: a profile's d must be empty (a group has "
			    "one profile)");
		return 0;
	case MU_KIND_DELETE:
		if (d->len != 0)
			return mu_fail(why, MU_ERECORD,
			               "d-form: a delete's d must be empty");
		return 0;
	case MU_KIND_NODE:
		if (d->len != 0)
			return mu_fail(why, MU_ERECORD,
			               "d-form: a node record's d must be empty (a "
			               "group has one node record)");
		return 0;
	case MU_KIND_CAUSE:
		return check_tag("a cause", "cause", d, why);
	case MU_KIND_EVENT:
		return check_tag("an event", "event", d, why);
	case MU_KIND_ALLIANCE:
		return check_alliance(d, with, why);
	default:
		return mu_fail(why, MU_ERECORD, "unknown-kind: kind %d has no d rule",
		               (int)kind);
	}
}
