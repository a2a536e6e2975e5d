/*
 * A kind added through the kind table alone (protocol/kind.h).
 *
 * This program is built with MU_TEST_KIND, which adds the kind "note" in
 * the two places docs/CONTRIBUTING.md names for a new kind: its enum value
 * and content struct (protocol/record.h) and its table entry
 * (protocol/kind_table.c). Nothing else knows it, and yet a note is built,
 * parsed, checked by its own rules, printed as JSON (node/json_record.c)
 * and as text (`muster show`, cli/print.c) like any other kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "node/json_record.h"
#include "protocol/kind.h"
#include "protocol/record.h"
#include "protocol/textform.h"
#include "rec_util.h"

#ifndef MU_TEST_KIND
#error "test_kind_table is built with MU_TEST_KIND (tests/CMakeLists.txt)"
#endif

static struct key G;

static void
note(struct mu_record *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = MU_KIND_TEST_NOTE;
	memcpy(r->group, G.pk, MU_KEY_BYTES);
	memcpy(r->signer, G.pk, MU_KEY_BYTES);
	r->created_at = T0 - 100;
	r->d = S("groceries");
	r->rev = 2;
	r->c.note.text = S("Bring bread\nand tea");
	r->c.note.has_due = true;
	r->c.note.due = T0 + 3600;
	r->c.note.pinned = true;
	r->c.note.has_about = true;
	memcpy(r->c.note.about.group, G.pk, MU_KEY_BYTES);
	r->c.note.about.kind = MU_KIND_EVENT;
	r->c.note.about.d = S("picnic");
	r->c.note.tags[0] = S("food");
	r->c.note.tags[1] = S("weekly");
	r->c.note.ntags = 2;
}

static int
build_parse(const struct mu_record *in, struct mu_record *out, uint8_t **bytes,
            struct mu_why *why)
{
	size_t len;
	int rc;

	rc = mu_rec_build(in, G.sk, T0, bytes, &len, NULL, why);
	if (rc != 0)
		return rc;
	return mu_rec_parse(out, *bytes, len, T0, 0, why);
}

static void
test_names(void **state)
{
	char list[MU_KIND_LIST_SIZE];

	(void)state;
	assert_int_equal(mu_kind_from_name("note", 4), MU_KIND_TEST_NOTE);
	assert_string_equal(mu_kind_name(MU_KIND_TEST_NOTE), "note");
	assert_true(mu_kind_replaceable(MU_KIND_TEST_NOTE));
	assert_string_equal(
	    mu_kind_list(list, sizeof(list), false, ", "),
	    "profile, cause, event, alliance, delete, node, organizer, rsvp, "
	    "tally, petition, signatures, pledge, pledged, note");
}

static void
test_round_trip(void **state)
{
	struct mu_record in, out;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;

	(void)state;
	note(&in);
	assert_int_equal(build_parse(&in, &out, &bytes, &why), 0);
	assert_int_equal(out.kind, MU_KIND_TEST_NOTE);
	assert_int_equal(out.rev, 2);
	assert_int_equal(out.c.note.text.len, strlen("Bring bread\nand tea"));
	assert_memory_equal(out.c.note.text.ptr, "Bring bread\nand tea",
	                    out.c.note.text.len);
	assert_true(out.c.note.has_due);
	assert_int_equal(out.c.note.due, T0 + 3600);
	assert_true(out.c.note.pinned);
	assert_true(out.c.note.has_about);
	assert_int_equal(out.c.note.about.kind, MU_KIND_EVENT);
	assert_int_equal(out.c.note.ntags, 2);
	assert_memory_equal(out.c.note.tags[1].ptr, "weekly", 6);
	free(bytes);
}

/* The table's own rules: required, d-form, address kind, the check hook. */
static void
test_rules(void **state)
{
	struct mu_record in, out;
	struct mu_why why = {0};
	uint8_t *bytes = NULL;

	(void)state;
	note(&in);
	in.c.note.text = S("");
	assert_rule(build_parse(&in, &out, &bytes, &why), MU_ERECORD, &why, "required");
	note(&in);
	in.d = S("Groceries");
	assert_rule(build_parse(&in, &out, &bytes, &why), MU_ERECORD, &why, "d-form");
	assert_non_null(strstr(why.text, "the note's d"));
	note(&in);
	in.c.note.about.kind = MU_KIND_CAUSE;
	assert_rule(build_parse(&in, &out, &bytes, &why), MU_ERECORD, &why, "address");
	note(&in);
	in.c.note.due = T0 - 200;
	assert_rule(build_parse(&in, &out, &bytes, &why), MU_ERECORD, &why, "note-due");
	assert_null(bytes);
}

static void
test_json(void **state)
{
	struct mu_record in, out;
	struct mu_why why = {0};
	char key[MU_KEY_TEXT_SIZE], id[MU_ID_TEXT_SIZE], want[1024];
	uint8_t *bytes = NULL;
	json_t *j;
	char *text;

	(void)state;
	note(&in);
	assert_int_equal(build_parse(&in, &out, &bytes, &why), 0);
	j = mu_node_json_record(&out);
	assert_non_null(j);
	text = json_dumps(json_object_get(j, "content"), JSON_COMPACT);
	mu_key_to_text(key, G.pk);
	snprintf(want, sizeof(want),
	         "{\"about\":\"%s/event/picnic\",\"due\":\"2026-01-01T01:00:00Z\","
	         "\"pinned\":true,\"tags\":[\"food\",\"weekly\"],"
	         "\"text\":\"Bring bread\\nand tea\"}",
	         key);
	assert_string_equal(text, want);
	free(text);
	mu_id_to_text(id, out.id);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "note");
	assert_string_equal(json_string_value(json_object_get(j, "id")), id);
	snprintf(want, sizeof(want), "%s/note/groceries", key);
	assert_string_equal(json_string_value(json_object_get(j, "address")), want);
	json_decref(j);
	free(bytes);
}

static void
test_text(void **state)
{
	struct mu_record in, out;
	struct mu_why why = {0};
	char key[MU_KEY_TEXT_SIZE], *text = NULL, want[2048];
	const char *content;
	uint8_t *bytes = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	note(&in);
	assert_int_equal(build_parse(&in, &out, &bytes, &why), 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	mu_cli_print_record(f, NULL, &out);
	fclose(f);
	mu_key_to_text(key, G.pk);
	snprintf(want, sizeof(want),
	         "text:        Bring bread\n"
	         "             and tea\n"
	         "due:         2026-01-01T01:00:00Z\n"
	         "pinned:      true\n"
	         "about:       %s/event/picnic\n"
	         "tags:        food, weekly\n",
	         key);
	content = strstr(text, "text:");
	assert_non_null(content);
	assert_string_equal(content, want);
	assert_non_null(strstr(text, "kind:        note\n"));
	assert_non_null(strstr(text, "rev:         2\n"));
	free(text);
	free(bytes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names), cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_rules), cmocka_unit_test(test_json),
	    cmocka_unit_test(test_text),
	};

	if (sodium_init() < 0)
		return 1;
	key_from_byte(&G, 7);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
