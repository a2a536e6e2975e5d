/*
 * context.c - what every command needs from the layers below: the home and
 * its store, records copied out of the store, group names, and our own
 * records looked up for editing.
 *
 * Store visitors see records in LMDB's memory only during the call, and a
 * visitor must not start another read (a read begun inside another may have
 * to adopt a map that another process grew, which LMDB allows only while no
 * transaction is open). So a record that must outlive the visit is copied,
 * and lists read the names they print before the walk (list_out.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../protocol/buf.h"
#include "../protocol/kind.h"
#include "../storage/local.h"
#include "cli.h"

int
mu_cli_open_home(struct mu_cli *cli, unsigned flags)
{
	struct mu_why why = {0};
	int rc;

	rc =
	    mu_home_open(&cli->home, cli->home_dir, (flags & MU_CLI_SECRET) != 0, &why);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(
		    rc,
		    "no muster home at %s: create one with `muster init`, "
		    "or choose another with --home DIR",
		    cli->home_dir);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot open the home %s: %s", cli->home_dir,
		                   mu_why_or(&why, rc));
	return 0;
}

int
mu_cli_no_store(const struct mu_cli *cli)
{
	return mu_cli_fail(MU_ENOTFOUND,
	                   "%s holds a group key but no store: rebuild the home "
	                   "with `muster init --restore-key %s/group.key`, then "
	                   "sync from a peer (or `muster restore` a backup)",
	                   cli->home_dir, cli->home_dir);
}

int
mu_cli_open(struct mu_cli *cli, unsigned flags)
{
	struct mu_store_opts opts = {0, (flags & MU_CLI_READONLY) != 0};
	struct mu_why why = {0};
	char *dir = NULL;
	int rc;

	rc = mu_cli_open_home(cli, flags);
	if (rc != 0)
		return rc;
	if (!mu_home_has_store(cli->home_dir)) {
		rc = mu_cli_no_store(cli);
		goto fail;
	}
	dir = mu_home_store_dir(cli->home);
	if (dir == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto fail;
	}
	rc = mu_store_open(&cli->store, dir, &opts, &why);
	if (rc != 0) {
		rc = mu_cli_fail(rc, "cannot open the store in %s: %s", dir,
		                 mu_why_or(&why, rc));
		goto fail;
	}
	free(dir);
	dir = NULL;
	if ((flags & MU_CLI_SECRET) != 0 && (flags & MU_CLI_READONLY) == 0 &&
	    (rc = mu_cli_organizer_ensure(cli)) != 0)
		goto fail;
	if ((flags & MU_CLI_SECRET) != 0 && (flags & MU_CLI_READONLY) == 0)
		mu_cli_merge_conflicts(cli);
	return 0;
fail:
	free(dir);
	mu_cli_close(cli);
	return rc;
}

int
mu_cli_begin(struct mu_cli *cli, const struct mu_cli_spec *spec, int argc, char **argv,
             const char **args, size_t *nargs, unsigned flags)
{
	int rc = mu_cli_parse(spec, argc, argv, args, nargs);

	if (rc != 0)
		return rc;
	if ((flags & MU_CLI_HOME_ONLY) != 0)
		return mu_cli_open_home(cli, flags);
	return mu_cli_open(cli, flags);
}

void
mu_cli_close(struct mu_cli *cli)
{
	/* Every command's store closes here: one that stored records has the
	 * running daemon push them now, not at its next poll. */
	if (cli->home != NULL && mu_store_logged(cli->store))
		mu_home_wake(cli->home);
	mu_store_close(cli->store);
	cli->store = NULL;
	mu_home_close(cli->home);
	cli->home = NULL;
}

int
mu_cli_rec_copy(struct mu_cli_rec *out, const struct mu_record *rec)
{
	out->buf = malloc(rec->raw_len);
	if (out->buf == NULL)
		return MU_ENOMEM;
	memcpy(out->buf, rec->raw, rec->raw_len);
	/* The store parsed these very bytes: no second parse. */
	out->rec = *rec;
	mu_rec_move(&out->rec, out->buf);
	return 0;
}

void
mu_cli_rec_free(struct mu_cli_rec *r)
{
	free(r->buf);
	r->buf = NULL;
}

static int
copy_one(void *ctx, const struct mu_record *rec)
{
	return mu_cli_rec_copy(ctx, rec);
}

int
mu_cli_lookup(struct mu_cli *cli, const struct mu_addr *addr, struct mu_cli_rec *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mu_store_get_addr(cli->store, addr, copy_one, out);
	if (rc != 0)
		mu_cli_rec_free(out);
	return rc;
}

int
mu_cli_get_current(struct mu_cli *cli, const struct mu_addr *addr,
                   struct mu_cli_rec *out)
{
	const struct mu_kind_def *def = mu_kind_def(addr->kind);
	char text[MU_ADDR_TEXT_SIZE], id[MU_ID_TEXT_SIZE];
	uint8_t tomb[MU_ID_BYTES];
	int rc;

	mu_addr_to_text(text, addr);
	rc = mu_cli_lookup(cli, addr, out);
	if (rc == 0)
		return 0;
	if (rc != MU_ENOTFOUND) {
		mu_cli_fail(rc, "cannot read %s: %s", text, mu_strerror(rc));
		return rc;
	}
	if (mu_store_deleted_addr(cli->store, addr, tomb) == 1) {
		mu_id_to_text(id, tomb);
		mu_cli_fail(MU_EINVAL,
		            "%s was deleted (delete record %s); a deleted address "
		            "cannot be used again",
		            text, id);
	} else if (def != NULL && def->cli_list != NULL) {
		mu_cli_fail(MU_EINVAL,
		            "nothing is stored at %s; check the address with `muster "
		            "%s list`",
		            text, def->cli_list);
	} else {
		mu_cli_fail(MU_EINVAL, "nothing is stored at %s; check the address",
		            text);
	}
	return MU_ENOTFOUND;
}

/* The records of ours whose d starts with text, the first few kept. */
#define MU_CLI_D_SHOWN 5
struct d_hits {
	const char *text;
	size_t len, n;
	enum mu_kind kind[MU_CLI_D_SHOWN];
	char d[MU_CLI_D_SHOWN][MU_D_MAX + 1];
};

static int
d_hit(void *ctx, const struct mu_record *rec)
{
	struct d_hits *h = ctx;

	if (rec->d.len < h->len || memcmp(rec->d.ptr, h->text, h->len) != 0)
		return 0;
	if (h->n < MU_CLI_D_SHOWN) {
		h->kind[h->n] = rec->kind;
		memcpy(h->d[h->n], rec->d.ptr, rec->d.len);
		h->d[h->n][rec->d.len] = '\0';
	}
	h->n++;
	return 0;
}

int
mu_cli_own_d(struct mu_cli *cli, const char *text, enum mu_kind kind,
             struct mu_addr *addr)
{
	const struct mu_kind_def *def;
	struct d_hits h;
	char list[512] = "", one[MU_D_MAX + 32];
	int k, rc = 0;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.text = text;
	h.len = strlen(text);
	for (k = 1; k < MU_KIND_COUNT && rc == 0; k++) {
		def = mu_kind_def((enum mu_kind)k);
		if (def == NULL || !def->replaceable ||
		    (kind != MU_KIND_NONE && (enum mu_kind)k != kind))
			continue;
		rc = mu_store_list(cli->store, (enum mu_kind)k, cli->home->group, d_hit,
		                   &h);
	}
	if (rc != 0)
		return mu_cli_fail(rc, "cannot read our records: %s", mu_strerror(rc));
	if (h.n == 0)
		return MU_ENOTFOUND;
	if (h.n > 1) {
		for (i = 0; i < h.n && i < MU_CLI_D_SHOWN; i++) {
			snprintf(one, sizeof(one), "%s%s/%s", i > 0 ? ", " : "",
			         mu_kind_name(h.kind[i]), h.d[i]);
			strncat(list, one, sizeof(list) - strlen(list) - 1);
		}
		return mu_cli_fail(MU_EINVAL,
		                   "'%s' starts %zu of our records: %s%s; give more of "
		                   "it, or the whole address",
		                   text, h.n, list, h.n > MU_CLI_D_SHOWN ? ", …" : "");
	}
	memset(addr, 0, sizeof(*addr));
	memcpy(addr->group, cli->home->group, MU_KEY_BYTES);
	addr->kind = h.kind[0];
	memcpy(cli->d, h.d[0], sizeof(cli->d));
	addr->d = mu_cli_str(cli->d);
	return 0;
}

int
mu_cli_own_addr(struct mu_cli *cli, const char *text, enum mu_kind kind,
                struct mu_addr *addr)
{
	struct mu_why why = {0};
	char name[MU_CLI_NAME_SIZE];
	int rc;

	if (cli->store != NULL && mu_cli_d_prefix(text) &&
	    mu_addr_from_text(addr, text, &why) != 0) {
		rc = mu_cli_own_d(cli, text, kind, addr);
		if (rc != MU_ENOTFOUND)
			return rc;
		return mu_cli_fail(
		    MU_EINVAL,
		    "no %s of ours has an address ending /%s…; "
		    "`muster %s list` shows them",
		    kind != MU_KIND_NONE ? mu_kind_name(kind) : "record", text,
		    kind != MU_KIND_NONE && mu_kind_def(kind)->cli_list != NULL
		        ? mu_kind_def(kind)->cli_list
		        : "event");
	}
	if (mu_addr_from_text(addr, text, &why) != 0)
		return mu_cli_fail(
		    MU_EINVAL,
		    "'%s' is not a record address: %s; addresses look "
		    "like mug1…/event/3f9a0c1d2e4b5a69 (see `muster event "
		    "list`)",
		    text, why.text);
	if (kind != MU_KIND_NONE && addr->kind != kind)
		return mu_cli_fail(MU_EINVAL,
		                   "%s has kind %s; this command needs the address "
		                   "of a record of kind %s",
		                   text, mu_kind_name(addr->kind), mu_kind_name(kind));
	if (memcmp(addr->group, cli->home->group, MU_KEY_BYTES) != 0) {
		mu_cli_group_name(cli, addr->group, name);
		return mu_cli_fail(MU_EINVAL,
		                   "%s belongs to another group (%s): only a group can "
		                   "change or delete its own records",
		                   text, name);
	}
	return 0;
}

int
mu_cli_open_own(struct mu_cli *cli, const char *text, enum mu_kind kind,
                struct mu_addr *addr)
{
	int rc;

	rc = mu_cli_open(cli, MU_CLI_SECRET);
	if (rc != 0)
		return rc;
	return mu_cli_own_addr(cli, text, kind, addr);
}

void
mu_cli_short_key(char out[MU_CLI_SHORT_KEY_SIZE], const uint8_t key[MU_KEY_BYTES])
{
	char text[MU_KEY_TEXT_SIZE];

	mu_key_to_text(text, key);
	snprintf(out, MU_CLI_SHORT_KEY_SIZE, "%.12s…%s", text,
	         text + MU_KEY_TEXT_LEN - 4);
}

void
mu_cli_profile_name(char out[MU_CLI_NAME_SIZE], const struct mu_record *rec)
{
	const struct mu_str *n = &rec->c.profile.name;
	size_t len = n->len;

	if (len > MU_CLI_NAME_SIZE - 1) {
		/* Cut on a UTF-8 character boundary. */
		len = MU_CLI_NAME_SIZE - 1;
		while (len > 0 && ((unsigned char)n->ptr[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, n->ptr, len);
	out[len] = '\0';
}

static int
copy_name(void *ctx, const struct mu_record *rec)
{
	mu_cli_profile_name(ctx, rec);
	return 0;
}

bool
mu_cli_group_name(struct mu_cli *cli, const uint8_t key[MU_KEY_BYTES],
                  char out[MU_CLI_NAME_SIZE])
{
	struct mu_addr addr;
	int rc;

	memset(&addr, 0, sizeof(addr));
	memcpy(addr.group, key, MU_KEY_BYTES);
	addr.kind = MU_KIND_PROFILE;
	addr.d.ptr = "";
	rc = cli->store != NULL ? mu_store_get_addr(cli->store, &addr, copy_name, out)
	                        : MU_ENOTFOUND;
	/* A name is a detail of many outputs, and none of them may go on
	 * with a key in its place because the store is damaged: the one exit
	 * outside main.c, as no caller could do anything but stop. */
	if (rc == MU_ECORRUPT) {
		mu_cli_fail(rc, "cannot read the name of a group: %s", mu_strerror(rc));
		exit(EXIT_FAILURE);
	}
	if (rc == 0 && out[0] != '\0')
		return true;
	mu_cli_short_key(out, key);
	return false;
}

/* The groups known here: every group with stored records, and its name. */
struct known {
	struct mu_cli_known *v;
	size_t n, cap;
};

static int
add_known(void *ctx, const uint8_t group[MU_KEY_BYTES], uint64_t n)
{
	struct known *k = ctx;
	struct mu_cli_known *v;

	(void)n;
	if (mu_buf_grow_array(&k->v, &k->cap, k->n + 1, sizeof(*k->v), 16) != 0)
		return MU_ENOMEM;
	v = k->v;
	memcpy(v[k->n].key, group, MU_KEY_BYTES);
	v[k->n++].name[0] = '\0';
	return 0;
}

static int
by_key(const void *a, const void *b)
{
	return memcmp(a, ((const struct mu_cli_known *)b)->key, MU_KEY_BYTES);
}

static int
name_known(void *ctx, const struct mu_record *rec)
{
	struct known *k = ctx;
	struct mu_cli_known *g;

	/* Both walks go in key order: the counts' groups are sorted. */
	g = bsearch(rec->group, k->v, k->n, sizeof(*k->v), by_key);
	if (g != NULL)
		mu_cli_profile_name(g->name, rec);
	return 0;
}

/* Reads the known groups into *k (k->v is the caller's to free). */
static int
load_known(struct mu_cli *cli, struct known *k)
{
	struct mu_store_counts counts;
	int rc;

	rc = mu_store_counts(cli->store, &counts, add_known, k);
	if (rc == 0)
		rc = mu_store_list(cli->store, MU_KIND_PROFILE, NULL, name_known, k);
	if (rc != 0)
		return mu_cli_fail(rc, "cannot read the groups known here: %s",
		                   mu_strerror(rc));
	return 0;
}

/* Prints that text fits several groups, naming up to hits_n of them. */
static int
ambiguous_group(const struct known *k, const size_t *hits, size_t n, size_t shown,
                const char *text, const char *what)
{
	char list[512] = "", one[MU_CLI_NAME_SIZE + MU_KEY_TEXT_SIZE + 8];
	char key[MU_KEY_TEXT_SIZE];
	size_t i;

	for (i = 0; i < shown; i++) {
		mu_key_to_text(key, k->v[hits[i]].key);
		snprintf(one, sizeof(one), "%s%s (%.16s…)", i > 0 ? "; " : "",
		         k->v[hits[i]].name[0] != '\0' ? k->v[hits[i]].name : "no name",
		         key);
		strncat(list, one, sizeof(list) - strlen(list) - 1);
	}
	return mu_cli_fail(MU_EINVAL,
	                   "%s: '%s' fits %zu groups: %s%s; give more of the key, or "
	                   "the whole key (`muster ally list` shows them)",
	                   what, text, n, list, n > shown ? "; …" : "");
}

#define MU_CLI_HITS_SHOWN 5

int
mu_cli_key_arg(struct mu_cli *cli, uint8_t key[MU_KEY_BYTES], const char *text,
               const char *what)
{
	struct mu_why why = {0};
	struct known k = {NULL, 0, 0};
	size_t hits[MU_CLI_HITS_SHOWN], n = 0;
	bool opened = false;
	int rc;

	if (mu_key_from_text(key, text, &why) == 0)
		return 0;
	/* A whole key with a typo: the checksum's word is the useful one. */
	if (strlen(text) == MU_KEY_TEXT_LEN)
		goto not_key;
	if (cli->store == NULL) {
		if (cli->home != NULL)
			goto not_key; /* the command opened the home alone */
		if ((rc = mu_cli_open(cli, MU_CLI_READONLY)) != 0)
			return rc;
		opened = true;
	}
	rc = load_known(cli, &k);
	if (rc == 0)
		n = mu_cli_match_groups(k.v, k.n, text, hits, MU_CLI_HITS_SHOWN);
	if (rc == 0 && n == 1)
		memcpy(key, k.v[hits[0]].key, MU_KEY_BYTES);
	else if (rc == 0 && n > 1)
		rc = ambiguous_group(&k, hits, n,
		                     MU_CLI_HITS_SHOWN < n ? MU_CLI_HITS_SHOWN : n,
		                     text, what);
	free(k.v);
	if (opened)
		mu_cli_close(cli);
	if (rc != 0 || n == 1)
		return rc;
	if (strncasecmp(text, "mug1", 4) != 0)
		return mu_cli_fail(MU_EINVAL,
		                   "%s: no group known here is named '%s'; give its "
		                   "name as `muster ally list` shows it, or its key "
		                   "(the mug1… text that `muster id` prints)",
		                   what, text);
	if (strlen(text) >= MU_CLI_KEY_PREFIX_MIN)
		return mu_cli_fail(MU_EINVAL,
		                   "%s: '%s' is not a group key: %s, and no group "
		                   "known here has a key that starts so; give the "
		                   "whole key (the 62-character mug1… text that "
		                   "`muster id` prints)",
		                   what, text, why.text);
not_key:
	return mu_cli_fail(MU_EINVAL,
	                   "%s: '%s' is not a group key: %s; a key is the "
	                   "62-character mug1… text that `muster id` prints",
	                   what, text, why.text);
}

struct mu_str
mu_cli_str(const char *s)
{
	struct mu_str out = {s, s != NULL ? strlen(s) : 0};

	return out;
}
