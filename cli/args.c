/*
 * args.c - the option parser every command shares, subcommand dispatch, and
 * help texts, whose field limits are read from the kind table.
 *
 * Long options only ("--title T" or "--title=T"), plus -h for help, the way
 * getopt_long reads them: a value is the next word even when it starts with
 * a dash, so "--geo -33.9,151.2" works. Options and arguments may be mixed;
 * "--" ends the options.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/buf.h"
#include "../protocol/kind.h"
#include "cli.h"

/* The characters of each part of a help placeholder: kind, path, what. */
#define HELP_NAME "abcdefghijklmnopqrstuvwxyz_"
#define HELP_PATH HELP_NAME "."
#define HELP_SPEC 64 /* the longest placeholder, braces excluded */

/* The field at path ("title", "location.name") of table t, or NULL. */
static const struct mu_field *
help_field(const struct mu_fields *t, const char *path)
{
	const struct mu_field *f;
	size_t i, len;

	for (;;) {
		len = strcspn(path, ".");
		for (i = 0, f = NULL; t != NULL && i < t->n && f == NULL; i++) {
			if (strlen(t->f[i].name) == len &&
			    memcmp(t->f[i].name, path, len) == 0)
				f = &t->f[i];
		}
		if (f == NULL || path[len] == '\0')
			return f;
		t = f->type == MU_FT_MAP ? f->sub : NULL;
		path += len + 1;
	}
}

/*
 * What the placeholder spec ("event:title:max", NUL-terminated) stands for,
 * into out: a field's max (most bytes of a string) or list_max (most items
 * of a list) as a number, or the word "required" for a field the record
 * must have. MU_EINVAL for one that names nothing of the table.
 */
static int
help_value(char *spec, char out[24])
{
	char *path = strchr(spec, ':'), *what = strrchr(spec, ':');
	const struct mu_field *f;

	*path++ = '\0';
	*what++ = '\0';
	f = help_field(mu_rec_fields(mu_kind_from_name(spec, strlen(spec))), path);
	if (f == NULL)
		return MU_EINVAL;
	if (strcmp(what, "max") == 0 && f->max > 0)
		snprintf(out, 24, "%u", f->max);
	else if (strcmp(what, "list_max") == 0 && (f->flags & MU_FF_LIST) != 0)
		snprintf(out, 24, "%u", f->list_max);
	else if (strcmp(what, "required") == 0 && (f->flags & MU_FF_REQ) != 0)
		snprintf(out, 24, "required");
	else
		return MU_EINVAL;
	return 0;
}

int
mu_cli_help(FILE *f, const char *text)
{
	struct mu_buf out = MU_BUF_INIT;
	char spec[HELP_SPEC + 1], value[24];
	const char *p = text, *open;
	size_t a, b, c, n;
	int rc = 0, failed = 0;

	while ((open = strchr(p, '{')) != NULL) {
		/* "{KIND:PATH:WHAT}", n bytes; any other brace is text. */
		a = strspn(open + 1, HELP_NAME);
		b = open[1 + a] == ':' ? strspn(open + 2 + a, HELP_PATH) : 0;
		c = b > 0 && open[2 + a + b] == ':'
		        ? strspn(open + 3 + a + b, HELP_NAME)
		        : 0;
		n = 4 + a + b + c;
		if (a == 0 || c == 0 || open[n - 1] != '}') {
			failed |= mu_buf_append(&out, p, (size_t)(open + 1 - p));
			p = open + 1;
			continue;
		}
		rc = MU_EINVAL;
		if (n - 2 <= HELP_SPEC) {
			memcpy(spec, open + 1, n - 2);
			spec[n - 2] = '\0';
			rc = help_value(spec, value);
		}
		if (rc != 0) {
			rc = mu_cli_fail(rc,
			                 "the help's %.*s names nothing the kind "
			                 "table (protocol/kind_table.c) has",
			                 (int)n, open);
			goto out;
		}
		failed |= mu_buf_append(&out, p, (size_t)(open - p));
		failed |= mu_buf_append(&out, value, strlen(value));
		p = open + n;
	}
	failed |= mu_buf_append(&out, p, strlen(p));
	if (failed != 0)
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
	else if (fwrite(out.data, 1, out.len, f) != out.len)
		rc = mu_cli_fail(MU_EIO, "cannot write the help");
out:
	mu_buf_free(&out);
	return rc;
}

static const struct mu_cli_opt *
find_opt(const struct mu_cli_opt *opts, const char *name, size_t len)
{
	for (; opts != NULL && opts->name != NULL; opts++) {
		if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
			return opts;
	}
	return NULL;
}

/* Stores one option's value; returns 0 or MU_CLI_EUSAGE after saying why. */
static int
take(const struct mu_cli_spec *spec, const struct mu_cli_opt *o, const char *value)
{
	struct mu_cli_list *list;

	switch (o->type) {
	case MU_OPT_FLAG:
		*(bool *)o->dest = true;
		return 0;
	case MU_OPT_VALUE:
		if (*(const char **)o->dest != NULL)
			return mu_cli_usage("%s: --%s given twice; give it once",
			                    spec->name, o->name);
		*(const char **)o->dest = value;
		return 0;
	case MU_OPT_LIST:
		list = o->dest;
		if (list->n == MU_CLI_LIST_MAX)
			return mu_cli_usage("%s: --%s given more than %d times",
			                    spec->name, o->name, MU_CLI_LIST_MAX);
		list->v[list->n++] = value;
		return 0;
	}
	return mu_cli_usage("%s: bad option table", spec->name);
}

int
mu_cli_parse(const struct mu_cli_spec *spec, int argc, char **argv, const char **args,
             size_t *nargs)
{
	const struct mu_cli_opt *o;
	bool options = true;
	const char *a, *eq, *value;
	size_t len, n;
	int i, rc;

	if (nargs == NULL)
		nargs = &n;
	*nargs = 0;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (options && strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (options && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			rc = mu_cli_help(stdout, spec->help);
			return rc != 0 ? rc : MU_CLI_HELPED;
		}
		if (!options || a[0] != '-' || a[1] == '\0') {
			if (*nargs == spec->max_args) {
				if (spec->max_args == 0)
					return mu_cli_usage(
					    "%s: unexpected argument '%s'; see `muster "
					    "%s --help`",
					    spec->name, a, spec->name);
				return mu_cli_usage(
				    "%s: too many arguments at '%s' (it "
				    "takes %s); see `muster %s --help`",
				    spec->name, a, spec->args, spec->name);
			}
			args[(*nargs)++] = a;
			continue;
		}
		if (a[1] != '-')
			return mu_cli_usage(
			    "%s: unknown option '%s' (options are long, "
			    "like --title); see `muster %s --help`",
			    spec->name, a, spec->name);
		eq = strchr(a + 2, '=');
		len = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		o = find_opt(spec->opts, a + 2, len);
		if (o == NULL && eq == NULL && strcmp(a, "--json") == 0) {
			/* A command with no JSON output of its own: its
			 * published address and its refusals (publish.c). */
			mu_cli_set_json(true);
			continue;
		}
		if (o == NULL)
			return mu_cli_usage(
			    "%s: unknown option '--%.*s'; see `muster %s "
			    "--help`",
			    spec->name, (int)len, a + 2, spec->name);
		if (o->type == MU_OPT_FLAG) {
			if (eq != NULL)
				return mu_cli_usage("%s: --%s takes no value",
				                    spec->name, o->name);
			value = NULL;
		} else if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			return mu_cli_usage("%s: --%s needs a value; see `muster %s "
			                    "--help`",
			                    spec->name, o->name, spec->name);
		}
		rc = take(spec, o, value);
		if (rc != 0)
			return rc;
	}
	if (*nargs < spec->min_args)
		return mu_cli_usage("%s: missing %s; see `muster %s --help`",
		                    spec->name, spec->args, spec->name);
	return 0;
}

int
mu_cli_dispatch(struct mu_cli *cli, const char *group, const char *help,
                const struct mu_cli_sub *subs, int argc, char **argv)
{
	const struct mu_cli_sub *s;
	char names[128] = "";

	if (argc < 2) {
		for (s = subs; s->name != NULL; s++) {
			if (s != subs)
				strncat(names, ", ", sizeof(names) - strlen(names) - 1);
			strncat(names, s->name, sizeof(names) - strlen(names) - 1);
		}
		return mu_cli_usage(
		    "%s: missing subcommand (%s); see `muster %s --help`", group, names,
		    group);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return mu_cli_help(stdout, help);
	for (s = subs; s->name != NULL; s++) {
		if (strcmp(s->name, argv[1]) == 0)
			return s->run(cli, argc - 1, argv + 1);
	}
	return mu_cli_usage("unknown command '%s %s'; see `muster %s --help`", group,
	                    argv[1], group);
}

int
mu_cli_pick(const char *opt, const char *value, const char *const *names, size_t n)
{
	char list[160] = "";
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], value) == 0)
			return (int)i;
	}
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		if (list[0] != '\0')
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	return mu_cli_fail(MU_EINVAL, "--%s: '%s' is not one of %s", opt, value, list);
}

int
mu_cli_strs_arg(const struct mu_cli_list *l, const char *opt, size_t max,
                struct mu_str *out, size_t *n)
{
	size_t i;

	if (l->n == 0)
		return 0;
	if (l->n == 1 && l->v[0][0] == '\0') {
		*n = 0;
		return 0;
	}
	if (l->n > max)
		return mu_cli_fail(MU_EINVAL,
		                   "--%s given %zu times; a record holds at "
		                   "most %zu",
		                   opt, l->n, max);
	for (i = 0; i < l->n; i++)
		out[i] = mu_cli_str(l->v[i]);
	*n = l->n;
	return 0;
}

int
mu_cli_uint_opt(const char *opt, const char *text, unsigned long min, unsigned long max,
                unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		return mu_cli_usage("--%s: '%s' is not a whole number from %lu to %lu",
		                    opt, text, min, max);
	*out = v;
	return 0;
}
