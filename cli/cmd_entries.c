/*
 * cmd_entries.c - what people entered on this node's pages, for its
 * organizers (storage/entries.h): `muster rsvp list|remove` and the member
 * link, `muster link`. The entries never leave the node; these commands
 * only read them out to the organizer at the terminal, or remove one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../node/node.h"
#include "../protocol/formtoken.h"
#include "../protocol/textform.h"
#include "../storage/entries.h"
#include "../storage/local.h"
#include "cli.h"
#include "json_out.h"
#include "when.h"

#define LINK_URL_MAX 200 /* bytes of --url */

static const char rsvp_list_help[] =
    "Usage: muster rsvp list EVENT [--csv | --json]\n"
    "\n"
    "Lists the replies people gave to EVENT on this node's pages, in the order\n"
    "they signed up: position, going or not, number of people, name and\n"
    "contact (both optional), and when. EVENT is the event's address, or a\n"
    "start of the d of one of your own events. Only this node holds them:\n"
    "other groups see counts only.\n"
    "\n"
    "Options:\n"
    "  --csv    comma-separated values with a header line\n"
    "  --json   a JSON array of objects\n";

static const char rsvp_remove_help[] =
    "Usage: muster rsvp remove EVENT POSITION\n"
    "\n"
    "Removes the reply at POSITION (the first column of `muster rsvp list`)\n"
    "from EVENT, with its receipt link. The node's published count follows\n"
    "within a minute while `muster serve` runs.\n";

static const char signatures_help[] =
    "Usage: muster petition signatures PETITION [--csv | --json]\n"
    "\n"
    "Lists the signatures people gave to PETITION on this node's pages, in\n"
    "order: position, name, whether they chose to show it publicly, contact\n"
    "and comment (all optional), and when. Only the names shown leave the\n"
    "node, in your group's signatures record.\n"
    "\n"
    "Options:\n"
    "  --csv    comma-separated values with a header line\n"
    "  --json   a JSON array of objects\n";

static const char pledge_list_help[] =
    "Usage: muster pledge list PLEDGE [--csv | --json]\n"
    "\n"
    "Lists the people who pledged to PLEDGE on this node's pages, in order:\n"
    "position, name and contact (both optional), and when. Without PLEDGE,\n"
    "`muster pledge list` lists the pledges.\n"
    "\n"
    "Options:\n"
    "  --csv    comma-separated values with a header line\n"
    "  --json   a JSON array of objects\n";

static const char petition_remove_help[] =
    "Usage: muster petition remove PETITION POSITION\n"
    "\n"
    "Removes the signature at POSITION (`muster petition signatures`) with its\n"
    "receipt link.\n";

static const char pledge_remove_help[] =
    "Usage: muster pledge remove PLEDGE POSITION\n"
    "\n"
    "Removes the pledge at POSITION (`muster pledge list PLEDGE`) with its\n"
    "receipt link.\n";

static const char link_help[] =
    "Usage: muster link [EVENT] [--url URL] [--require | --open] [--renew]\n"
    "\n"
    "Prints the member link: the address of the calendar page (or of EVENT's\n"
    "page) with the group's member token, to share in your own channels.\n"
    "Pages opened through it show the forms by which people reply even when\n"
    "posting is for members only.\n"
    "\n"
    "Options:\n"
    "  --url URL    where members open the pages (default http://" MU_NODE_DEFAULT_HTTP
    ",\n"
    "               give the `serve --public-url` address)\n"
    "  --require    from now on, only pages opened through the member link\n"
    "               show the forms, and posts without it are refused\n"
    "  --open       anyone who opens the pages may reply again (the default)\n"
    "  --renew      make a new token: the old member link, and every form\n"
    "               open in a browser, stop working\n";

/* --- the entries' target -------------------------------------------------------- */

/* Reads the target: an address of kind, or a start of the d of one of
 * our records of that kind. */
static int
target_arg(struct mu_cli *cli, const char *text, enum mu_kind kind, struct mu_addr *a)
{
	struct mu_why why = {0};

	if (strchr(text, '/') != NULL) {
		if (mu_addr_from_text(a, text, &why) != 0)
			return mu_cli_usage("'%s' is not a %s address: %s", text,
			                    mu_kind_name(kind), why.text);
		if (a->kind != kind)
			return mu_cli_usage("'%s' is a %s, not a %s", text,
			                    mu_kind_name(a->kind), mu_kind_name(kind));
		return 0;
	}
	return mu_cli_own_addr(cli, text, kind, a);
}

/* --- list ------------------------------------------------------------------------ */

enum out_form { OUT_TEXT, OUT_CSV, OUT_JSON };

struct list {
	enum out_form form;
	json_t *arr;
	size_t n;
};

/* A CSV field, quoted when it holds a comma, quote or line break; a field
 * that a spreadsheet would read as a formula gets a leading quote mark. */
static void
csv_field(const char *s)
{
	bool formula = strchr("=+-@", s[0]) != NULL && s[0] != '\0';

	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	if (formula)
		putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* A signature or a pledge. */
static int
act_entry(struct list *l, const struct mu_entry *e, const char *when)
{
	bool sig = e->type == MU_ENTRY_SIGNATURE;

	switch (l->form) {
	case OUT_JSON:
		mu_cli_json_push(
		    &l->arr,
		    sig ? json_pack("{sIsssbssssss}", "position", (json_int_t)e->pos,
		                    "name", e->name, "shown", e->show_name, "contact",
		                    e->contact, "comment", e->comment, "created_at",
		                    when)
		        : json_pack("{sIssssss}", "position", (json_int_t)e->pos,
		                    "name", e->name, "contact", e->contact,
		                    "created_at", when));
		break;
	case OUT_CSV:
		printf("%" PRIu64 ",", e->pos);
		csv_field(e->name);
		if (sig)
			printf(",%s", e->show_name ? "yes" : "no");
		putchar(',');
		csv_field(e->contact);
		if (sig) {
			putchar(',');
			csv_field(e->comment);
		}
		printf(",%s\n", when);
		break;
	case OUT_TEXT:
		printf("%4" PRIu64 "  %-24s %s%-28s %s\n", e->pos,
		       e->name[0] != '\0' ? e->name : "-",
		       sig ? (e->show_name ? "shown   " : "hidden  ") : "",
		       e->contact[0] != '\0' ? e->contact : "-", when);
		break;
	}
	return 0;
}

static int
list_entry(void *ctx, const struct mu_entry *e)
{
	struct list *l = ctx;
	char when[MU_CLI_ISO_SIZE];

	mu_cli_when_iso(when, e->created_at);
	l->n++;
	if (e->type != MU_ENTRY_RSVP)
		return act_entry(l, e, when);
	switch (l->form) {
	case OUT_JSON:
		mu_cli_json_push(
		    &l->arr,
		    json_pack("{sIsbsIssssss}", "position", (json_int_t)e->pos, "going",
		              e->going, "party", (json_int_t)e->party, "name", e->name,
		              "contact", e->contact, "created_at", when));
		break;
	case OUT_CSV:
		printf("%" PRIu64 ",%s,%u,", e->pos, e->going ? "yes" : "no",
		       (unsigned)e->party);
		csv_field(e->name);
		putchar(',');
		csv_field(e->contact);
		printf(",%s\n", when);
		break;
	case OUT_TEXT:
		printf("%4" PRIu64 "  %-9s %3u  %-24s %-28s %s\n", e->pos,
		       e->going ? "going" : "not going", (unsigned)e->party,
		       e->name[0] != '\0' ? e->name : "-",
		       e->contact[0] != '\0' ? e->contact : "-", when);
		break;
	}
	return 0;
}

static int
entries_list(struct mu_cli *cli, int argc, char **argv, enum mu_kind kind,
             const char *name, const char *help, const char *header)
{
	bool csv = false, json = false;
	const struct mu_cli_opt opts[] = {
	    {"csv", MU_OPT_FLAG, &csv},
	    {"json", MU_OPT_FLAG, &json},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {name, help, opts, "ADDR", 1, 1};
	const char *args[1];
	size_t nargs = 0;
	struct list l = {OUT_TEXT, NULL, 0};
	struct mu_addr a;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, &nargs, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	if (csv && json)
		return mu_cli_usage("%s: give --csv or --json, not both", name);
	l.form = json ? OUT_JSON : csv ? OUT_CSV : OUT_TEXT;
	if ((rc = target_arg(cli, args[0], kind, &a)) != 0)
		return rc;
	if (l.form == OUT_JSON && (l.arr = json_array()) == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	if (l.form == OUT_CSV)
		printf("%s\n", header);
	rc = mu_entries(cli->store, &a, list_entry, &l);
	if (rc != 0) {
		json_decref(l.arr);
		return mu_cli_fail(rc, "cannot read the entries: %s", mu_strerror(rc));
	}
	if (l.form == OUT_JSON)
		return mu_cli_json_out(l.arr);
	if (l.form == OUT_TEXT && l.n == 0)
		mu_cli_note("nobody took part in this %s on this node",
		            mu_kind_name(kind));
	return 0;
}

int
mu_cli_rsvp_list(struct mu_cli *cli, int argc, char **argv)
{
	return entries_list(cli, argc, argv, MU_KIND_EVENT, "rsvp list", rsvp_list_help,
	                    "position,going,party,name,contact,created_at");
}

int
mu_cli_petition_signatures(struct mu_cli *cli, int argc, char **argv)
{
	return entries_list(cli, argc, argv, MU_KIND_PETITION, "petition signatures",
	                    signatures_help,
	                    "position,name,shown,contact,comment,created_at");
}

int
mu_cli_pledge_entries(struct mu_cli *cli, int argc, char **argv)
{
	return entries_list(cli, argc, argv, MU_KIND_PLEDGE, "pledge list",
	                    pledge_list_help, "position,name,contact,created_at");
}

static int
entries_remove(struct mu_cli *cli, int argc, char **argv, enum mu_kind kind,
               const char *name, const char *help)
{
	const struct mu_cli_opt opts[] = {{NULL, 0, NULL}};
	const struct mu_cli_spec spec = {name, help, opts, "ADDR POSITION", 2, 2};
	const char *args[2];
	size_t nargs = 0;
	unsigned long pos;
	struct mu_addr a;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, &nargs, 0);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_uint_opt("POSITION", args[1], 1, UINT32_MAX, &pos)) != 0)
		return rc;
	if ((rc = target_arg(cli, args[0], kind, &a)) != 0)
		return rc;
	rc = mu_entry_remove(cli->store, &a, pos);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc,
		                   "no entry at position %lu of this %s; see `muster "
		                   "%s %s`",
		                   pos, mu_kind_name(kind),
		                   kind == MU_KIND_EVENT      ? "rsvp list"
		                   : kind == MU_KIND_PETITION ? "petition signatures"
		                                              : "pledge list",
		                   args[0]);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot remove the entry: %s", mu_strerror(rc));
	printf("removed the entry at position %lu\n", pos);
	return 0;
}

int
mu_cli_rsvp_remove(struct mu_cli *cli, int argc, char **argv)
{
	return entries_remove(cli, argc, argv, MU_KIND_EVENT, "rsvp remove",
	                      rsvp_remove_help);
}

int
mu_cli_petition_remove(struct mu_cli *cli, int argc, char **argv)
{
	return entries_remove(cli, argc, argv, MU_KIND_PETITION, "petition remove",
	                      petition_remove_help);
}

int
mu_cli_pledge_remove(struct mu_cli *cli, int argc, char **argv)
{
	return entries_remove(cli, argc, argv, MU_KIND_PLEDGE, "pledge remove",
	                      pledge_remove_help);
}

/* --- link ------------------------------------------------------------------------ */

int
mu_cli_cmd_link(struct mu_cli *cli, int argc, char **argv)
{
	const char *url = NULL;
	bool require = false, open = false, renew = false;
	const struct mu_cli_opt opts[] = {
	    {"url", MU_OPT_VALUE, &url},
	    {"require", MU_OPT_FLAG, &require},
	    {"open", MU_OPT_FLAG, &open},
	    {"renew", MU_OPT_FLAG, &renew},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"link", link_help, opts, "[EVENT]", 0, 1};
	const char *args[1];
	size_t nargs = 0, n;
	char token[MU_TOKEN_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE] = "";
	uint8_t key[MU_FORM_KEY_BYTES];
	struct mu_addr a;
	bool only = false;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, &nargs, 0);
	if (rc != 0)
		return rc;
	if (require && open)
		return mu_cli_usage("link: give --require or --open, not both");
	if (url == NULL)
		url = "http://" MU_NODE_DEFAULT_HTTP;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n > LINK_URL_MAX ||
	    !((n > 7 && strncmp(url, "http://", 7) == 0) ||
	      (n > 8 && strncmp(url, "https://", 8) == 0)) ||
	    strpbrk(url, " ?#\"<>") != NULL)
		return mu_cli_usage("--url: '%s' is not an http:// or https:// address "
		                    "of at most %d bytes without ?, # or spaces",
		                    url, LINK_URL_MAX);
	if (nargs == 1) {
		if ((rc = target_arg(cli, args[0], MU_KIND_EVENT, &a)) != 0)
			return rc;
		mu_addr_to_text(addr, &a);
	}
	if ((require || open) &&
	    (rc = mu_store_members_only_set(cli->store, require)) != 0)
		return mu_cli_fail(rc, "cannot change who may post: %s",
		                   mu_strerror(rc));
	if ((rc = mu_store_form_key(cli->store, key, renew)) != 0 ||
	    (rc = mu_store_members_only(cli->store, &only)) != 0)
		return mu_cli_fail(rc, "cannot read the member token: %s",
		                   mu_strerror(rc));
	mu_member_token(key, token);
	sodium_memzero(key, sizeof(key));
	printf("%.*s%s%s?m=%s\n", (int)n, url, addr[0] != '\0' ? "/events/" : "/", addr,
	       token);
	mu_cli_note(only ? "posting needs this link: pages opened without it show "
	                   "no form (`muster link --open` to change)"
	                 : "posting is open to anyone who opens the pages "
	                   "(`muster link --require` to need this link)");
	if (renew)
		mu_cli_note(
		    "a new token: the old member link no longer works, and "
		    "a running `muster serve` takes the new one at its restart");
	return 0;
}
