/*
 * The command line's shared pieces that need no home: the option parser
 * (cli/args.c) and the JSON form of records (cli/json_out.c), the latter on
 * real signed records built and parsed by protocol/.
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

#include <unistd.h>

#include "cli/cli.h"
#include "cli/json_out.h"
#include "protocol/kind.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

/* ---- args ---------------------------------------------------------------- */

struct parsed {
	const char *title, *end;
	bool json;
	struct mu_cli_list tags;
	const char *args[2];
	size_t nargs;
};

static int
parse(struct parsed *p, int argc, char **argv)
{
	const struct mu_cli_opt opts[] = {
	    {"title", MU_OPT_VALUE, &p->title},
	    {"end", MU_OPT_VALUE, &p->end},
	    {"json", MU_OPT_FLAG, &p->json},
	    {"tag", MU_OPT_LIST, &p->tags},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"test cmd", "help text\n", opts, "ADDR", 1, 2};

	memset(p, 0, sizeof(*p));
	return mu_cli_parse(&spec, argc, argv, p->args, &p->nargs);
}

static void
test_args_forms(void **state)
{
	char *argv[] = {
	    "cmd",   "--title", "-negative title", "ADDR1", "--tag=a", "--json",
	    "--tag", "b",       "--end=",          "--",    "--tag"};
	struct parsed p;

	(void)state;
	assert_int_equal(parse(&p, 11, argv), 0);
	/* A value is the next word even when it starts with a dash. */
	assert_string_equal(p.title, "-negative title");
	assert_true(p.json);
	/* Repeated list options accumulate, in order. */
	assert_int_equal(p.tags.n, 2);
	assert_string_equal(p.tags.v[0], "a");
	assert_string_equal(p.tags.v[1], "b");
	/* "--end=" gives an empty value, which is not "absent". */
	assert_non_null(p.end);
	assert_string_equal(p.end, "");
	/* After "--" an option-looking word is an argument. */
	assert_int_equal(p.nargs, 2);
	assert_string_equal(p.args[0], "ADDR1");
	assert_string_equal(p.args[1], "--tag");
}

static void
test_args_errors(void **state)
{
	char *unknown[] = {"cmd", "A", "--colour", "red"};
	char *twice[] = {"cmd", "A", "--title", "x", "--title", "y"};
	char *novalue[] = {"cmd", "A", "--title"};
	char *flagvalue[] = {"cmd", "A", "--json=yes"};
	char *short_opt[] = {"cmd", "A", "-t"};
	char *missing[] = {"cmd", "--json"};
	char *toomany[] = {"cmd", "A", "B", "C"};
	char *help[] = {"cmd", "A", "--help"};
	struct parsed p;

	(void)state;
	assert_int_equal(parse(&p, 4, unknown), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 6, twice), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 3, novalue), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 3, flagvalue), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 3, short_opt), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 2, missing), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 4, toomany), MU_CLI_EUSAGE);
	assert_int_equal(parse(&p, 3, help), MU_CLI_HELPED);
}

static void
test_strs_and_pick(void **state)
{
	static const char *const names[] = {NULL, "active", "won", "closed"};
	struct mu_cli_list l = {{NULL}, 0};
	struct mu_str out[MU_LIST_MAX] = {{"keep", 4}};
	size_t n = 1, i;

	(void)state;
	/* Not given: the field is kept. */
	assert_int_equal(mu_cli_strs_arg(&l, "tag", MU_LIST_MAX, out, &n), 0);
	assert_int_equal(n, 1);
	/* One empty value removes the list. */
	l.v[0] = "";
	l.n = 1;
	assert_int_equal(mu_cli_strs_arg(&l, "tag", MU_LIST_MAX, out, &n), 0);
	assert_int_equal(n, 0);
	/* More than the field holds is refused, naming the rule. */
	for (i = 0; i <= MU_LIST_MAX; i++)
		l.v[i] = "x";
	l.n = MU_LIST_MAX + 1;
	assert_int_equal(mu_cli_strs_arg(&l, "tag", MU_LIST_MAX, out, &n), MU_EINVAL);
	assert_int_equal(n, 0);

	assert_int_equal(mu_cli_pick("status", "won", names, 4), 2);
	assert_int_equal(mu_cli_pick("status", "lost", names, 4), MU_EINVAL);
}

/* ---- json_out ------------------------------------------------------------ */

struct signed_rec {
	uint8_t *buf;
	struct mu_record rec;
};

static void
sign_and_parse(struct mu_record *in, struct signed_rec *out)
{
	uint8_t pk[MU_KEY_BYTES], sk[MU_SECRET_BYTES], seed[32], id[MU_ID_BYTES];
	struct mu_why why = {0};
	size_t len;

	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	in->version = MU_FORMAT_VERSION;
	memcpy(in->group, pk, MU_KEY_BYTES);
	memcpy(in->signer, pk, MU_KEY_BYTES);
	in->created_at = NOW;
	if (mu_rec_build(in, sk, NOW, &out->buf, &len, id, &why) != 0)
		fail_msg("build: %s", why.text);
	if (mu_rec_parse(&out->rec, out->buf, len, NOW, 0, &why) != 0)
		fail_msg("parse: %s", why.text);
}

static json_t *
to_json(const struct mu_record *rec)
{
	json_t *v = mu_node_json_record(rec);
	char *text;
	json_t *back;

	assert_non_null(v);
	/* Through text and back, as a script would read it. */
	text = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(v);
	assert_non_null(text);
	back = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(back);
	return back;
}

static const char *
str_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

static void
test_json_event(void **state)
{
	struct mu_record in;
	struct signed_rec s;
	struct mu_event *ev = &in.c.event;
	char key[MU_KEY_TEXT_SIZE], id[MU_ID_TEXT_SIZE];
	json_t *j, *c, *loc;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kind = MU_KIND_EVENT;
	in.d = mu_cli_str("ev-1");
	in.rev = 3;
	ev->title = mu_cli_str("Assembly \"quoted\" \\ \xe2\x9c\x8a");
	ev->description = mu_cli_str("line one\n\tline two");
	ev->start = NOW + 86400;
	ev->has_end = true;
	ev->end = NOW + 86400 + 7200;
	ev->tz = mu_cli_str("Europe/Berlin");
	ev->status = MU_EVENT_TENTATIVE;
	ev->location.set = true;
	ev->location.name = mu_cli_str("Hall");
	ev->location.has_geo = true;
	ev->location.lat = -338688197;
	ev->location.lon = 1512092955;
	ev->online[0] = mu_cli_str("https://meet.example/x");
	ev->nonline = 1;
	ev->has_capacity = true;
	ev->capacity = 120;
	sign_and_parse(&in, &s);

	j = to_json(&s.rec);
	mu_key_to_text(key, s.rec.group);
	mu_id_to_text(id, s.rec.id);
	assert_string_equal(str_at(j, "id"), id);
	assert_string_equal(str_at(j, "kind"), "event");
	assert_string_equal(str_at(j, "group"), key);
	assert_string_equal(str_at(j, "signer"), key);
	assert_string_equal(str_at(j, "created_at"), "2026-01-01T00:00:00Z");
	assert_string_equal(str_at(j, "d"), "ev-1");
	assert_int_equal(json_integer_value(json_object_get(j, "rev")), 3);
	assert_non_null(strstr(str_at(j, "address"), "/event/ev-1"));

	c = json_object_get(j, "content");
	assert_string_equal(str_at(c, "title"), "Assembly \"quoted\" \\ \xe2\x9c\x8a");
	assert_string_equal(str_at(c, "description"), "line one\n\tline two");
	assert_string_equal(str_at(c, "start"), "2026-01-02T00:00:00Z");
	assert_string_equal(str_at(c, "end"), "2026-01-02T02:00:00Z");
	assert_string_equal(str_at(c, "tz"), "Europe/Berlin");
	assert_string_equal(str_at(c, "status"), "tentative");
	assert_int_equal(json_integer_value(json_object_get(c, "capacity")), 120);
	assert_null(json_object_get(c, "all_day"));
	assert_null(json_object_get(c, "hosts"));
	assert_int_equal(json_array_size(json_object_get(c, "online")), 1);
	loc = json_object_get(c, "location");
	assert_string_equal(str_at(loc, "name"), "Hall");
	assert_null(json_object_get(loc, "address"));
	assert_true(json_is_real(json_object_get(loc, "lat")));
	assert_true(json_real_value(json_object_get(loc, "lat")) == -33.8688197);
	assert_true(json_real_value(json_object_get(loc, "lon")) == 151.2092955);
	json_decref(j);
	free(s.buf);
}

static void
test_json_delete_and_all_day(void **state)
{
	struct mu_record in;
	struct signed_rec s;
	json_t *j, *c;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kind = MU_KIND_DELETE;
	in.d = mu_cli_str("");
	in.c.del.by_addr = false;
	memset(in.c.del.id, 0xab, MU_ID_BYTES);
	sign_and_parse(&in, &s);
	j = to_json(&s.rec);
	/* A delete has no address. */
	assert_null(json_object_get(j, "address"));
	c = json_object_get(j, "content");
	assert_string_equal(
	    str_at(c, "id"),
	    "abababababababababababababababababababababababababababababababab");
	json_decref(j);
	free(s.buf);

	memset(&in, 0, sizeof(in));
	in.kind = MU_KIND_EVENT;
	in.d = mu_cli_str("fair");
	in.c.event.title = mu_cli_str("Fair");
	in.c.event.start = NOW;
	in.c.event.all_day = true;
	in.c.event.status = MU_EVENT_CONFIRMED;
	sign_and_parse(&in, &s);
	j = to_json(&s.rec);
	c = json_object_get(j, "content");
	assert_true(json_is_true(json_object_get(c, "all_day")));
	assert_null(json_object_get(c, "end"));
	json_decref(j);
	free(s.buf);
}

/* ---- help ---------------------------------------------------------------- */

/* The table's field of a kind, by name: the value the help must state. */
static const struct mu_field *
table_field(enum mu_kind kind, const char *name)
{
	const struct mu_fields *t = mu_rec_fields(kind);
	size_t i;

	for (i = 0; t != NULL && i < t->n; i++) {
		if (strcmp(t->f[i].name, name) == 0)
			return &t->f[i];
	}
	fail_msg("no field %s in the table of kind %d", name, (int)kind);
	return NULL;
}

/* What fn (a command, or help() below) writes on stdout, malloc()ed. */
static char *
stdout_of(int (*fn)(struct mu_cli *, int, char **), int argc, char **argv, int *rc)
{
	struct mu_cli cli = {NULL, NULL, NULL, NOW, "", NULL};
	FILE *tmp = tmpfile();
	char *out;
	long len;
	int saved;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	*rc = fn(&cli, argc, argv);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	len = (long)lseek(fileno(tmp), 0, SEEK_END);
	assert_true(len >= 0);
	out = calloc(1, (size_t)len + 1);
	assert_non_null(out);
	assert_int_equal(pread(fileno(tmp), out, (size_t)len, 0), len);
	fclose(tmp);
	return out;
}

/* argv[1] through mu_cli_help(), as a command would print its help. */
static int
help(struct mu_cli *cli, int argc, char **argv)
{
	(void)cli;
	assert_int_equal(argc, 2);
	return mu_cli_help(stdout, argv[1]);
}

static void
assert_contains(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("the help lacks \"%s\"; it is:\n%s", line, text);
}

static void
test_help_placeholders(void **state)
{
	char text[] =
	    "a {event:title:max} b {event:location.name:max} "
	    "{event:tags:list_max} {event:start:required} {\"json\": 1} {x}\n";
	char unknown[] = "{event:colour:max}\n", not_req[] = "{event:tz:required}\n",
	     not_list[] = "{cause:title:list_max}\n", no_kind[] = "{party:title:max}\n";
	char *argv[] = {"help", text}, expect[160], *out;
	const struct mu_field *loc = table_field(MU_KIND_EVENT, "location");
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < loc->sub->n && strcmp(loc->sub->f[i].name, "name") != 0; i++)
		;
	assert_true(i < loc->sub->n);
	snprintf(expect, sizeof(expect), "a %u b %u %u required {\"json\": 1} {x}\n",
	         table_field(MU_KIND_EVENT, "title")->max, loc->sub->f[i].max,
	         table_field(MU_KIND_EVENT, "tags")->list_max);
	out = stdout_of(help, 2, argv, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, expect);
	free(out);

	/* A placeholder the table cannot fill is an error, and none of the
	 * help is printed. */
	argv[1] = unknown;
	out = stdout_of(help, 2, argv, &rc);
	assert_int_equal(rc, MU_EINVAL);
	assert_string_equal(out, "");
	free(out);
	argv[1] = not_req;
	free(stdout_of(help, 2, argv, &rc));
	assert_int_equal(rc, MU_EINVAL);
	argv[1] = not_list;
	free(stdout_of(help, 2, argv, &rc));
	assert_int_equal(rc, MU_EINVAL);
	argv[1] = no_kind;
	free(stdout_of(help, 2, argv, &rc));
	assert_int_equal(rc, MU_EINVAL);
}

/* A line of a command's --help and the table's value it states. */
struct help_line {
	int (*cmd)(struct mu_cli *, int, char **);
	char *sub; /* the subcommand, or NULL */
	enum mu_kind kind;
	const char *field;
	bool list_max;   /* the field's list_max, else its max */
	const char *fmt; /* the line, with "%u" for the value */
};

static const struct help_line help_lines[] = {
    {mu_cli_cmd_event, "add", MU_KIND_EVENT, "title", false,
     "  --title T         what it is (required, up to %u bytes)\n"},
    {mu_cli_cmd_event, "add", MU_KIND_EVENT, "online", true,
     "a link to join online; repeat for more (%u at most)\n"},
    {mu_cli_cmd_event, "add", MU_KIND_EVENT, "tags", true,
     "  --tag X           a tag; repeat for more (%u at most)\n"},
    {mu_cli_cmd_cause, "add", MU_KIND_CAUSE, "title", false,
     "  --title T         a short title (required, up to %u bytes)\n"},
    {mu_cli_cmd_cause, "add", MU_KIND_CAUSE, "tags", false, "a tag (up to %u bytes); "},
    {mu_cli_cmd_cause, "add", MU_KIND_CAUSE, "tags", true,
     "repeat for more, %u at most\n"},
    {mu_cli_cmd_profile, "set", MU_KIND_PROFILE, "name", false,
     "the group's name (up to %u bytes; required)\n"},
    {mu_cli_cmd_ally, "add", MU_KIND_ALLIANCE, "terms", false, "act by (up to %u\n"},
    {mu_cli_cmd_ally, "add", MU_KIND_ALLIANCE, "causes", true, "for more, %u at most;"},
    {mu_cli_cmd_delete, NULL, MU_KIND_DELETE, "reason", false,
     "why it was deleted (up to %u bytes)"},
};

/* The commands' --help states the limits the table (and so the parser)
 * has. */
static void
test_help_follows_table(void **state)
{
	const struct help_line *h;
	const struct mu_field *f;
	char *argv[3], line[160], *out;
	const char *at;
	int argc, rc;

	(void)state;
	for (h = help_lines; h < help_lines + sizeof(help_lines) / sizeof(*help_lines);
	     h++) {
		argc = 0;
		argv[argc++] = "cmd";
		if (h->sub != NULL)
			argv[argc++] = h->sub;
		argv[argc++] = "--help";
		out = stdout_of(h->cmd, argc, argv, &rc);
		assert_int_equal(rc, MU_CLI_HELPED);
		f = table_field(h->kind, h->field);
		at = strstr(h->fmt, "%u");
		assert_non_null(at);
		snprintf(line, sizeof(line), "%.*s%u%s", (int)(at - h->fmt), h->fmt,
		         h->list_max ? f->list_max : f->max, at + 2);
		assert_contains(out, line);
		free(out);
	}
	/* "required" in them is the table's too. */
	assert_true(table_field(MU_KIND_EVENT, "title")->flags & MU_FF_REQ);
	assert_true(table_field(MU_KIND_EVENT, "start")->flags & MU_FF_REQ);
	assert_true(table_field(MU_KIND_CAUSE, "title")->flags & MU_FF_REQ);
	assert_true(table_field(MU_KIND_PROFILE, "name")->flags & MU_FF_REQ);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args_forms),
	    cmocka_unit_test(test_args_errors),
	    cmocka_unit_test(test_strs_and_pick),
	    cmocka_unit_test(test_help_placeholders),
	    cmocka_unit_test(test_help_follows_table),
	    cmocka_unit_test(test_json_event),
	    cmocka_unit_test(test_json_delete_and_all_day),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
