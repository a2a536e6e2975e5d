/*
 * cmd_organizer.c - `muster organizer add | list | revoke`: the keys that
 * may publish for the group, each on an organizer's home, named by
 * organizer records that only the group's root key signs
 * (docs/PROTOCOL.md, section 3). Also this home's own organizer record,
 * made on its first use by a home that has the root key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "json_out.h"

static const char group_help[] =
    "Usage: muster organizer add CODE [--name NAME] [--root-key FILE]\n"
    "       muster organizer list [--json]\n"
    "       muster organizer revoke KEY [--keep-current] [--root-key FILE]\n"
    "\n"
    "Each organizer publishes for the group from their own home with their\n"
    "own key. The group's root key, which only adds and revokes organizers,\n"
    "can then stay out of reach (`muster key offline`).\n"
    "\n"
    "  add CODE     let the home that printed CODE (`muster init --join`)\n"
    "               publish for the group\n"
    "  list         the organizers, their keys and what each may publish\n"
    "  revoke KEY   cut a key off: its records disappear everywhere\n";

static const char add_help[] =
    "Usage: muster organizer add CODE [--name NAME] [--root-key FILE]\n"
    "\n"
    "Lets a new organizer publish for the group: CODE is the request code\n"
    "(mureq1...) that `muster init --join` printed on their home. Publishes\n"
    "their organizer record, signed by the group's root key; their home can\n"
    "publish once it has synced it from any node of the group.\n"
    "\n"
    "Options:\n"
    "  --name NAME       the organizer's name as the group sees it (default:\n"
    "                    the name in CODE), at most {organizer:name:max} bytes\n"
    "  --root-key FILE   the root key file, when it is not in this home\n"
    "                    (`muster key offline`)\n"
    "\n"
    "Example:\n"
    "  muster organizer add mureq1... --name \"Sam Okafor\"\n";

static const char list_help[] =
    "Usage: muster organizer list [--json]\n"
    "\n"
    "Lists the group's organizers: name, key (the start of it names it in\n"
    "`organizer revoke`), active or revoked, and the kinds of record each\n"
    "may publish. Marks this home's own.\n";

static const char revoke_help[] =
    "Usage: muster organizer revoke KEY [--keep-current] [--root-key FILE]\n"
    "\n"
    "Cuts an organizer's key off for good: every node refuses what it signs\n"
    "from now on and removes what it signed, even records dated earlier (a\n"
    "stolen key can backdate). KEY is the organizer's name, or the start of\n"
    "their key: mug1... as `muster organizer list` prints it, or the hex of\n"
    "the organizer record's d (8 digits or more).\n"
    "\n"
    "Options:\n"
    "  --keep-current    keep the key's current records (an organizer who\n"
    "                    leaves on good terms); the default keeps nothing (a\n"
    "                    lost or stolen laptop)\n"
    "  --root-key FILE   the root key file, when it is not in this home\n"
    "\n"
    "Example:\n"
    "  muster organizer revoke Sam\n";

/* The shortest start of an organizer key taken for the key. */
#define KEY_PREFIX_MIN 8
#define KEY_HEX_SIZE   MU_CLI_KEY_HEX_SIZE

void
mu_cli_host_name(char *out, size_t size)
{
	char host[256];
	size_t len;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "organizer");
	host[sizeof(host) - 1] = '\0';
	len = strlen(host);
	if (len > size - 1) {
		/* Cut on a UTF-8 character boundary. */
		len = size - 1;
		while (len > 0 && ((unsigned char)host[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, host, len);
	out[len] = '\0';
}

void
mu_cli_organizer_rec(struct mu_record *rec, const uint8_t key[MU_KEY_BYTES],
                     const char *name, char hex[MU_CLI_KEY_HEX_SIZE])
{
	sodium_bin2hex(hex, KEY_HEX_SIZE, key, MU_KEY_BYTES);
	memset(rec, 0, sizeof(*rec));
	rec->kind = MU_KIND_ORGANIZER;
	rec->d = mu_cli_str(hex);
	memcpy(rec->c.organizer.key, key, MU_KEY_BYTES);
	rec->c.organizer.name = mu_cli_str(name);
	rec->c.organizer.status = MU_ORGANIZER_ACTIVE;
}

int
mu_cli_organizer_ensure(struct mu_cli *cli)
{
	char name[MU_CLI_NAME_SIZE], hex[KEY_HEX_SIZE], addr[MU_ADDR_TEXT_SIZE];
	struct mu_why why = {0};
	struct mu_record rec;
	int64_t now;
	int rc;

	if (cli->home->has_organizer || cli->home->secret == NULL)
		return 0;
	if (cli->organizer_name != NULL)
		snprintf(name, sizeof(name), "%s", cli->organizer_name);
	else
		mu_cli_host_name(name, sizeof(name));
	rc = mu_home_organizer_create(cli->home, &why);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot create this home's organizer key: %s",
		                   mu_why_or(&why, rc));
	mu_cli_organizer_rec(&rec, cli->home->organizer, name, hex);
	/* A second before the records it makes valid, which this run signs
	 * next: whatever walks the store by time (an export, a peer's sync)
	 * then meets it first, and none of them waits in a held table. */
	now = cli->now;
	cli->now = now - 1;
	rc = mu_cli_store_new(cli, &rec, "publish this home's organizer record", addr);
	cli->now = now;
	return rc;
}

int
mu_cli_need_root(struct mu_cli *cli, const char *root_file)
{
	struct mu_why why = {0};
	int rc;

	if (root_file != NULL) {
		rc = mu_home_load_root(cli->home, root_file, &why);
		if (rc != 0)
			return mu_cli_fail(rc, "--root-key: %s", mu_why_or(&why, rc));
		return 0;
	}
	if (cli->home->secret == NULL)
		return mu_cli_fail(MU_EPERM, MU_CLI_NO_ROOT);
	return 0;
}

int
mu_cli_organizer_get(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
                     struct mu_cli_rec *cur)
{
	char hex[KEY_HEX_SIZE];
	struct mu_addr a;

	sodium_bin2hex(hex, sizeof(hex), key, MU_KEY_BYTES);
	memset(&a, 0, sizeof(a));
	memcpy(a.group, cli->home->group, MU_KEY_BYTES);
	a.kind = MU_KIND_ORGANIZER;
	a.d = mu_cli_str(hex);
	return mu_cli_lookup(cli, &a, cur);
}

static int
add_cmd(struct mu_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *root_file = NULL, *args[1];
	const struct mu_cli_opt opts[] = {
	    {"name", MU_OPT_VALUE, &name},
	    {"root-key", MU_OPT_VALUE, &root_file},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {"organizer add", add_help, opts, "CODE", 1, 1};
	char code_name[MU_REQ_NAME_SIZE], hex[KEY_HEX_SIZE];
	uint8_t key[MU_KEY_BYTES];
	struct mu_cli_rec cur = {0};
	struct mu_why why = {0};
	struct mu_record rec;
	size_t n = 0;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &n);
	if (rc != 0)
		return rc;
	rc = mu_req_from_text(key, code_name, args[0], &why);
	if (rc != 0)
		return mu_cli_fail(rc, "%s", why.text);
	if (name == NULL)
		name = code_name;
	if (name[0] == '\0')
		return mu_cli_usage("organizer add: the request code names no one: "
		                    "give the organizer's name with --name NAME");
	if ((rc = mu_cli_open(cli, MU_CLI_SECRET)) != 0)
		return rc;
	if ((rc = mu_cli_need_root(cli, root_file)) != 0)
		return rc;
	if (memcmp(key, cli->home->group, MU_KEY_BYTES) == 0)
		return mu_cli_fail(MU_EINVAL, "that code holds the group's root key, "
		                              "which is no organizer's");
	rc = mu_cli_organizer_get(cli, key, &cur);
	if (rc == 0 && cur.rec.c.organizer.status == MU_ORGANIZER_REVOKED) {
		mu_cli_rec_free(&cur);
		return mu_cli_fail(MU_EINVAL,
		                   "that key was revoked and can never publish "
		                   "again: the organizer makes a new request code "
		                   "with `muster init --join` on a new home");
	}
	if (rc != 0 && rc != MU_ENOTFOUND)
		return mu_cli_fail(rc, "cannot read the organizers: %s",
		                   mu_strerror(rc));
	mu_cli_organizer_rec(&rec, key, name, hex);
	if (rc == 0) {
		/* Known: a new name, and what it may publish stays. */
		rec = cur.rec;
		rec.rev = cur.rec.rev + 1;
		rec.c.organizer.name = mu_cli_str(name);
	}
	rc = mu_cli_publish(cli, &rec, "add the organizer");
	mu_cli_rec_free(&cur);
	return rc;
}

/* The group's organizer records, copied out of the store. */
struct organizers {
	struct mu_cli_rec *v;
	size_t n, cap;
	int err;
};

static int
collect(void *ctx, const struct mu_record *rec)
{
	struct organizers *o = ctx;
	struct mu_cli_rec *v;

	if (o->n == o->cap) {
		size_t cap = o->cap == 0 ? 8 : 2 * o->cap;

		v = realloc(o->v, cap * sizeof(*v));
		if (v == NULL)
			return o->err = MU_ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	if (mu_cli_rec_copy(&o->v[o->n], rec) != 0)
		return o->err = MU_ENOMEM;
	o->n++;
	return 0;
}

static void
organizers_free(struct organizers *o)
{
	for (size_t i = 0; i < o->n; i++)
		mu_cli_rec_free(&o->v[i]);
	free(o->v);
}

static int
read_organizers(struct mu_cli *cli, struct organizers *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = mu_store_list(cli->store, MU_KIND_ORGANIZER, cli->home->group, collect, o);
	if (rc == 0 || rc == MU_ENOTFOUND)
		return 0;
	organizers_free(o);
	return mu_cli_fail(rc, "cannot read the organizers: %s", mu_strerror(rc));
}

/* What an organizer may publish, in words: "every kind but organizer" or
 * "event, cause". */
static void
kinds_text(char *out, size_t size, const struct mu_organizer *o)
{
	size_t used = 0;

	if (o->nkinds == 0) {
		snprintf(out, size, "every kind but organizer");
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < o->nkinds && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%.*s",
		                         i > 0 ? ", " : "", (int)o->kinds[i].len,
		                         o->kinds[i].ptr);
}

static json_t *
organizer_json(const struct mu_cli *cli, const struct mu_record *rec)
{
	const struct mu_organizer *o = &rec->c.organizer;
	char hex[MU_KEY_TEXT_SIZE];
	json_t *kinds = json_array(), *j;

	mu_key_to_text(hex, o->key);
	for (size_t i = 0; i < o->nkinds; i++)
		json_array_append_new(kinds,
		                      json_stringn(o->kinds[i].ptr, o->kinds[i].len));
	j = json_pack("{s:s%, s:s, s:s, s:o, s:i, s:b}", "name", o->name.ptr,
	              o->name.len, "key", hex, "status",
	              mu_organizer_status_name(o->status), "kinds",
	              o->nkinds > 0 ? kinds : json_null(), "kept",
	              (json_int_t)o->keep.n, "this_home",
	              cli->home->has_organizer &&
	                  memcmp(o->key, cli->home->organizer, MU_KEY_BYTES) == 0);
	if (o->nkinds == 0)
		json_decref(kinds);
	return j;
}

static int
list_cmd(struct mu_cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct mu_cli_opt opts[] = {{"json", MU_OPT_FLAG, &json},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"organizer list", list_help, opts, "", 0, 0};
	char key[MU_CLI_SHORT_KEY_SIZE], kinds[256];
	struct organizers o;
	json_t *arr;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, NULL, NULL, MU_CLI_READONLY);
	if (rc != 0)
		return rc;
	if ((rc = read_organizers(cli, &o)) != 0)
		return rc;
	if (json) {
		arr = json_array();
		for (size_t i = 0; i < o.n && arr != NULL; i++)
			mu_cli_json_push(&arr, organizer_json(cli, &o.v[i].rec));
		organizers_free(&o);
		return mu_cli_json_out(json_pack("{s:o, s:b}", "organizers",
		                                 arr != NULL ? arr : json_null(),
		                                 "root_key_here", cli->home->has_root));
	}
	printf("Root key: %s\n", cli->home->has_root
	                             ? "in this home"
	                             : "not in this home (`--root-key FILE` where "
	                               "a command needs it)");
	if (o.n == 0)
		printf(
		    "No organizers yet. Add one with `muster organizer add CODE`.\n");
	for (size_t i = 0; i < o.n; i++) {
		const struct mu_organizer *g = &o.v[i].rec.c.organizer;
		bool mine = cli->home->has_organizer &&
		            memcmp(g->key, cli->home->organizer, MU_KEY_BYTES) == 0;

		mu_cli_short_key(key, g->key);
		kinds_text(kinds, sizeof(kinds), g);
		printf("%-20.*s  %s  %-7s  ", (int)g->name.len, g->name.ptr, key,
		       mu_organizer_status_name(g->status));
		if (g->status == MU_ORGANIZER_REVOKED)
			printf("kept %zu record%s", g->keep.n,
			       g->keep.n == 1 ? "" : "s");
		else
			printf("may publish: %s", kinds);
		printf("%s\n", mine ? "  (this home)" : "");
	}
	organizers_free(&o);
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}

/* The organizer text names: by name, else by a start of its key's hex. */
static int
find_organizer(const struct organizers *o, const char *text, size_t *at)
{
	struct mu_cli_known *v = calloc(o->n + 1, sizeof(*v));
	char hex[KEY_HEX_SIZE];
	size_t hits[2], found, len = strlen(text), i;

	if (v == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	for (i = 0; i < o->n; i++) {
		const struct mu_str *name = &o->v[i].rec.c.organizer.name;

		memcpy(v[i].key, o->v[i].rec.c.organizer.key, MU_KEY_BYTES);
		snprintf(v[i].name, sizeof(v[i].name), "%.*s", (int)name->len,
		         name->ptr);
	}
	found = mu_cli_match_groups(v, o->n, text, hits, 2);
	if (found == 0 && len >= KEY_PREFIX_MIN && len < KEY_HEX_SIZE) {
		for (i = 0; i < o->n; i++) {
			sodium_bin2hex(hex, sizeof(hex), v[i].key, MU_KEY_BYTES);
			if (strncasecmp(hex, text, len) != 0)
				continue;
			if (found < 2)
				hits[found] = i;
			found++;
		}
	}
	free(v);
	if (found == 1) {
		*at = hits[0];
		return 0;
	}
	if (found > 1)
		return mu_cli_fail(MU_EINVAL,
		                   "%s names %zu organizers: give more of the key, as "
		                   "`muster organizer list` prints it",
		                   text, found);
	return mu_cli_fail(MU_ENOTFOUND,
	                   "no organizer of this group is named %s or has a key "
	                   "starting so: see `muster organizer list`",
	                   text);
}

/* The ids of key's records that are current in the store (--keep-current). */
struct keep {
	const uint8_t *group, *key;
	uint8_t *ids; /* MU_KEEP_MAX ids, packed */
	size_t n, total;
};

static int
keep_one(void *ctx, const struct mu_record *rec)
{
	struct keep *k = ctx;

	if (memcmp(rec->signer, k->key, MU_KEY_BYTES) != 0 ||
	    memcmp(rec->group, k->group, MU_KEY_BYTES) != 0)
		return 0;
	if (k->n < MU_KEEP_MAX)
		memcpy(k->ids + k->n++ * MU_ID_BYTES, rec->id, MU_ID_BYTES);
	k->total++;
	return 0;
}

/* Records of a kind that replaces nothing are current while stored. */
static int
keep_unreplaceable(void *ctx, const struct mu_record *rec)
{
	return mu_kind_replaceable(rec->kind) ? 0 : keep_one(ctx, rec);
}

static int
collect_keep(struct mu_cli *cli, struct keep *k)
{
	int rc = 0;

	for (int kind = MU_KIND_NONE + 1; kind < MU_KIND_COUNT && rc == 0; kind++)
		if (mu_kind_replaceable((enum mu_kind)kind))
			rc = mu_store_list(cli->store, (enum mu_kind)kind,
			                   cli->home->group, keep_one, k);
	if (rc == 0 || rc == MU_ENOTFOUND)
		rc = mu_store_each(cli->store, keep_unreplaceable, k);
	if (rc != 0 && rc != MU_ENOTFOUND)
		return mu_cli_fail(rc, "cannot read the records to keep: %s",
		                   mu_strerror(rc));
	if (k->total > MU_KEEP_MAX)
		return mu_cli_fail(MU_EINVAL,
		                   "that key signed %zu current records, more than the "
		                   "%d a revocation can keep: revoke without "
		                   "--keep-current and publish what matters again",
		                   k->total, MU_KEEP_MAX);
	return 0;
}

static int
revoke_cmd(struct mu_cli *cli, int argc, char **argv)
{
	const char *root_file = NULL, *args[1];
	bool keep_current = false;
	const struct mu_cli_opt opts[] = {
	    {"keep-current", MU_OPT_FLAG, &keep_current},
	    {"root-key", MU_OPT_VALUE, &root_file},
	    {NULL, 0, NULL},
	};
	const struct mu_cli_spec spec = {
	    "organizer revoke", revoke_help, opts, "KEY", 1, 1};
	struct keep k = {0};
	struct organizers o = {0};
	struct mu_record rec;
	size_t n = 0, at = 0;
	int rc;

	rc = mu_cli_begin(cli, &spec, argc, argv, args, &n, MU_CLI_SECRET);
	if (rc != 0)
		return rc;
	if ((rc = mu_cli_need_root(cli, root_file)) != 0)
		return rc;
	if ((rc = read_organizers(cli, &o)) != 0)
		return rc;
	if ((rc = find_organizer(&o, args[0], &at)) != 0)
		goto out;
	if (o.v[at].rec.c.organizer.status == MU_ORGANIZER_REVOKED) {
		rc = mu_cli_unchanged(&o.v[at].rec, "revoked");
		goto out;
	}
	if ((rc = mu_cli_next_rev(&o.v[at], &rec)) != 0)
		goto out;
	if (keep_current) {
		k.group = cli->home->group;
		k.key = o.v[at].rec.c.organizer.key;
		k.ids = malloc(MU_KEEP_MAX * MU_ID_BYTES);
		if (k.ids == NULL) {
			rc = mu_cli_fail(MU_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = collect_keep(cli, &k)) != 0)
			goto out;
	}
	rec.c.organizer.status = MU_ORGANIZER_REVOKED;
	rec.c.organizer.keep.ids = k.ids;
	rec.c.organizer.keep.n = k.n;
	rec.c.organizer.keep.stride = MU_ID_BYTES;
	rc = mu_cli_publish(cli, &rec, "revoke the organizer");
out:
	free(k.ids);
	organizers_free(&o);
	return rc;
}

int
mu_cli_cmd_organizer(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"add", add_cmd}, {"list", list_cmd}, {"revoke", revoke_cmd}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "organizer", group_help, subs, argc, argv);
}
