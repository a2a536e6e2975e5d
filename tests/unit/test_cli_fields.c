/*
 * cli/fields.c: every field of every kind has the option a person sets it
 * with, and the protocol's refusals of real records come out in those
 * terms, without the rule's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cli/cli.h"
#include "protocol/kind.h"

#define NOW   1767225600LL /* 2026-01-01T00:00:00Z */
#define START 1922727600LL /* 2030-12-05T19:00:00Z */

static uint8_t pk[MU_KEY_BYTES], sk[MU_SECRET_BYTES];

/* Every field of t (and of its maps, as "location.name") has an option. */
static void
check_table(enum mu_kind kind, const struct mu_fields *t, const char *prefix)
{
	char path[96];
	size_t i;

	for (i = 0; i < t->n; i++) {
		snprintf(path, sizeof(path), "%s%s", prefix, t->f[i].name);
		if (mu_cli_field_option(kind, path) == NULL)
			fail_msg("%s.%s: no option in cli/fields.c", mu_kind_name(kind),
			         path);
		if (t->f[i].type == MU_FT_MAP) {
			snprintf(path, sizeof(path), "%s%s.", prefix, t->f[i].name);
			check_table(kind, t->f[i].sub, path);
		}
	}
}

static void
test_every_field_has_an_option(void **state)
{
	int k;

	(void)state;
	for (k = MU_KIND_NONE + 1; k < MU_KIND_COUNT; k++) {
		if (mu_rec_fields((enum mu_kind)k) != NULL)
			check_table((enum mu_kind)k, mu_rec_fields((enum mu_kind)k),
			            "");
	}
	assert_string_equal(mu_cli_field_option(MU_KIND_EVENT, "location.name"),
	                    "--where");
	assert_null(mu_cli_field_option(MU_KIND_EVENT, "no_such_field"));
}

static void
new_rec(struct mu_record *rec, enum mu_kind kind)
{
	memset(rec, 0, sizeof(*rec));
	rec->version = MU_FORMAT_VERSION;
	rec->kind = kind;
	rec->created_at = NOW;
	rec->d =
	    mu_cli_str(kind == MU_KIND_PROFILE || kind == MU_KIND_NODE ? "" : "a1");
	memcpy(rec->group, pk, MU_KEY_BYTES);
	memcpy(rec->signer, pk, MU_KEY_BYTES);
}

/* Builds rec, which the protocol must refuse by rule; returns what a
 * person reads. */
static const char *
said(const struct mu_record *rec, const char *rule)
{
	static char out[MU_WHY_MAX + 128];
	struct mu_record parsed;
	struct mu_why why = {0};
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_not_equal(
	    mu_rec_build_parsed(rec, sk, NOW, &buf, &len, &parsed, &why), 0);
	free(buf);
	if (!mu_why_rule_is(&why, rule))
		fail_msg("expected rule %s, got: %s", rule, why.text);
	mu_cli_why_say(out, sizeof(out), rec, &why);
	if (strncmp(out, rule, strlen(rule)) == 0 || strstr(out, "event.") != NULL ||
	    strstr(out, "cause.") != NULL || strstr(out, "profile.") != NULL)
		fail_msg("the rule's name is in the person's message: %s", out);
	return out;
}

static void
event(struct mu_record *rec)
{
	new_rec(rec, MU_KIND_EVENT);
	rec->c.event.title = mu_cli_str("Assembly");
	rec->c.event.start = START;
	rec->c.event.status = MU_EVENT_CONFIRMED;
	rec->c.event.tz = mu_cli_str("Europe/Berlin");
}

static void
test_event_said(void **state)
{
	struct mu_record rec;
	char long_title[202];

	(void)state;
	event(&rec);
	rec.c.event.has_end = true;
	rec.c.event.end = START - 7200;
	assert_string_equal(
	    said(&rec, "end-before-start"),
	    "--end 2030-12-05 18:00 is before --start 2030-12-05 20:00");
	rec.c.event.end = START + 400 * 86400LL;
	assert_string_equal(said(&rec, "event-span"),
	                    "--end 2032-01-09 20:00 is more than 366 days after "
	                    "--start 2030-12-05 20:00; an event lasts at most 366 "
	                    "days, so split a longer one into several");
	/* Without a zone the times are UTC, and say so. */
	rec.c.event.tz = mu_cli_str("");
	rec.c.event.end = START - 60;
	assert_string_equal(said(&rec, "end-before-start"),
	                    "--end 2030-12-05 18:59 UTC is before --start 2030-12-05 "
	                    "19:00 UTC");
	/* All day: dates, and the end is the last day the person gave. */
	event(&rec);
	rec.c.event.all_day = true;
	rec.c.event.start = START - 19 * 3600;
	rec.c.event.has_end = true;
	rec.c.event.end = rec.c.event.start - 86400;
	assert_string_equal(said(&rec, "end-before-start"),
	                    "--end 2030-12-03 is before --start 2030-12-05");

	event(&rec);
	rec.c.event.online[0] = mu_cli_str("https://x.example");
	rec.c.event.online[1] = mu_cli_str("ftp://x");
	rec.c.event.nonline = 2;
	assert_string_equal(said(&rec, "url"),
	                    "--online ftp://x must start with http:// or https://");

	event(&rec);
	rec.c.event.title = mu_cli_str("");
	assert_string_equal(said(&rec, "required"),
	                    "--title is missing: give the event a title with --title "
	                    "TEXT");

	event(&rec);
	memset(long_title, 'x', 201);
	long_title[201] = '\0';
	rec.c.event.title = mu_cli_str(long_title);
	assert_string_equal(said(&rec, "field-length"),
	                    "--title xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… is 201 "
	                    "bytes, at most 200");

	event(&rec);
	rec.c.event.location.set = true;
	rec.c.event.location.has_geo = true;
	rec.c.event.location.lat = 10;
	assert_non_null(
	    strstr(said(&rec, "required"), "--geo needs --where or --address"));

	event(&rec);
	rec.c.event.location.set = true;
	rec.c.event.location.name = mu_cli_str("Hall\x01");
	assert_string_equal(said(&rec, "control-char"),
	                    "--where Hall? has control character 0x01 at byte 4");

	event(&rec);
	rec.c.event.has_capacity = true;
	rec.c.event.capacity = 0;
	assert_string_equal(said(&rec, "capacity"),
	                    "--capacity 0 must be in 1 ... 10000000");
}

static void
test_other_kinds_said(void **state)
{
	struct mu_record rec;

	(void)state;
	new_rec(&rec, MU_KIND_CAUSE);
	rec.c.cause.title = mu_cli_str("Rent");
	rec.c.cause.status = MU_CAUSE_ACTIVE;
	rec.c.cause.url = mu_cli_str("ftp://x");
	assert_string_equal(said(&rec, "url"),
	                    "--url ftp://x must start with http:// or https://");
	rec.c.cause.url = mu_cli_str("");
	rec.c.cause.tags[0] = mu_cli_str("a-tag-that-is-far-too-long-for-a-tag");
	rec.c.cause.ntags = 1;
	assert_string_equal(said(&rec, "field-length"),
	                    "--tag a-tag-that-is-far-too-long-for-a-tag is 36 bytes, "
	                    "at most 32");
	rec.c.cause.ntags = 0;
	rec.c.cause.title = mu_cli_str("");
	assert_string_equal(said(&rec, "required"),
	                    "--title is missing: give the cause a title with --title "
	                    "TEXT");

	new_rec(&rec, MU_KIND_PROFILE);
	rec.c.profile.name = mu_cli_str("Riverside");
	rec.c.profile.website = mu_cli_str("riverside.example");
	assert_string_equal(said(&rec, "url"), "--website riverside.example must start "
	                                       "with http:// or https://");
	rec.c.profile.website = mu_cli_str("");
	rec.c.profile.name = mu_cli_str("");
	assert_string_equal(
	    said(&rec, "required"),
	    "--name is missing: give the group a name with --name NAME");

	new_rec(&rec, MU_KIND_NODE);
	assert_non_null(strstr(said(&rec, "required"), "--announce is missing"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_field_has_an_option),
	    cmocka_unit_test(test_event_said),
	    cmocka_unit_test(test_other_kinds_said),
	};

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
