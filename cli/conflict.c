/*
 * conflict.c - concurrent edits said to people (docs/PROTOCOL.md 5.2): who
 * made each edit, what was merged, and what was kept of a field both
 * changed. `muster show` prints the conflict of the record it shows,
 * `muster status` one line per conflict of our group.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../protocol/kind.h"
#include "../protocol/textform.h"
#include "../storage/conflict.h"
#include "cli.h"
#include "json_out.h"

#define WHO_SIZE (MU_KEY_TEXT_SIZE + MU_CLI_NAME_SIZE + 32)

/* The signer of rec as "KEY (NAME)", the name from its organizer record
 * when one is stored, "the group key KEY" when the group signed. */
static void
who(struct mu_cli *cli, const struct mu_record *rec, char out[WHO_SIZE])
{
	char key[MU_KEY_TEXT_SIZE], hex[2 * MU_KEY_BYTES + 1];
	struct mu_cli_rec o = {NULL, {0}};
	struct mu_addr a;

	mu_key_to_text(key, rec->signer);
	if (memcmp(rec->signer, rec->group, MU_KEY_BYTES) == 0) {
		snprintf(out, WHO_SIZE, "the group key %s", key);
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), rec->signer, MU_KEY_BYTES);
	memcpy(a.group, rec->group, MU_KEY_BYTES);
	a.kind = MU_KIND_ORGANIZER;
	a.d = mu_cli_str(hex);
	if (mu_cli_lookup(cli, &a, &o) == 0 && o.rec.c.organizer.name.len > 0)
		snprintf(out, WHO_SIZE, "%s (%.*s)", key,
		         (int)o.rec.c.organizer.name.len, o.rec.c.organizer.name.ptr);
	else
		snprintf(out, WHO_SIZE, "%s", key);
	mu_cli_rec_free(&o);
}

/* The names of the fields in mask, ", "-separated, or "nothing". */
static const char *
names(const struct mu_record *rec, uint32_t mask, char *out, size_t n)
{
	const struct mu_fields *t = mu_rec_fields(rec->kind);
	size_t i, k = 0;

	out[0] = '\0';
	for (i = 0; t != NULL && i < t->n && k < n; i++)
		if (mask & (1u << i))
			k += (size_t)snprintf(out + k, n - k, "%s%s", k ? ", " : "",
			                      t->f[i].name);
	if (k == 0)
		snprintf(out, n, "nothing");
	return out;
}

static const char *
state(const struct mu_store_conflict *c, char *out, size_t n)
{
	if (c->merged)
		snprintf(out, n, "resolved by rev %u", (unsigned)c->current.rev);
	else if (!c->has_base)
		snprintf(out, n,
		         "the revision both edited is not here: the winning edit is "
		         "kept whole");
	else if (c->m.whole)
		snprintf(out, n,
		         "the merged fields break a rule together: the winning edit "
		         "is kept whole");
	else if (!c->m.changed)
		snprintf(out, n, "nothing to merge: the winning edit holds all");
	else
		snprintf(out, n,
		         "not merged yet: the next organizer node publishes "
		         "the merge");
	return out;
}

/* Lines of `muster show`: each edit, what merged, what was kept. */
static void
print_kept(FILE *f, const struct mu_store_conflict *c, const char *wwho)
{
	const struct mu_fields *t = mu_rec_fields(c->current.kind);
	const struct mu_field *fd;
	const struct mu_str *kept, *lost;
	size_t i;

	for (i = 0; t != NULL && i < t->n; i++) {
		if (!(c->m.both & (1u << i)))
			continue;
		fd = &t->f[i];
		if (mu_ftype_is_str(fd->type) && !(fd->flags & MU_FF_LIST)) {
			kept = (const struct mu_str *)((const uint8_t *)&c->winner.c +
			                               fd->off);
			lost = (const struct mu_str *)((const uint8_t *)&c->loser.c +
			                               fd->off);
			fprintf(f,
			        "  kept:      %s \"%.*s\", of the edit by %s; \"%.*s\" "
			        "was not kept\n",
			        fd->name, (int)kept->len, kept->ptr, wwho,
			        (int)lost->len, lost->ptr);
		} else {
			fprintf(f, "  kept:      %s, of the edit by %s\n", fd->name,
			        wwho);
		}
	}
}

void
mu_cli_print_conflict(FILE *f, struct mu_cli *cli, const struct mu_store_conflict *c)
{
	char w[WHO_SIZE], l[WHO_SIZE], a[256], b[256], s[160];
	const struct mu_merge *m = &c->m;

	who(cli, &c->winner, w);
	who(cli, &c->loser, l);
	fprintf(f, "conflict:    two edits of rev %u made apart; %s\n",
	        (unsigned)(c->has_base ? c->base.rev : c->winner.rev - 1),
	        state(c, s, sizeof(s)));
	if (!c->has_base) {
		fprintf(f, "  edit:      rev %u by %s (kept)\n",
		        (unsigned)c->winner.rev, w);
		fprintf(f, "  edit:      rev %u by %s\n", (unsigned)c->loser.rev, l);
		return;
	}
	fprintf(f, "  edit:      rev %u by %s (won), changed %s\n",
	        (unsigned)c->winner.rev, w,
	        names(&c->winner, m->from_winner | m->both | m->same, a, sizeof(a)));
	fprintf(f, "  edit:      rev %u by %s, changed %s\n", (unsigned)c->loser.rev, l,
	        names(&c->loser, m->from_loser | m->both | m->same, b, sizeof(b)));
	if (m->from_loser != 0 && !m->whole)
		fprintf(f, "  merged:    %s, from the edit by %s\n",
		        names(&c->loser, m->from_loser, a, sizeof(a)), l);
	print_kept(f, c, w);
}

void
mu_cli_print_conflict_line(FILE *f, struct mu_cli *cli,
                           const struct mu_store_conflict *c)
{
	char text[MU_ADDR_TEXT_SIZE], w[WHO_SIZE], l[WHO_SIZE], a[256], s[160];
	struct mu_addr addr;

	mu_rec_addr(&c->current, &addr);
	mu_addr_to_text(text, &addr);
	who(cli, &c->winner, w);
	who(cli, &c->loser, l);
	fprintf(f, "  %s  edits by %s and %s", text, w, l);
	if (c->has_base && c->m.both != 0)
		fprintf(f, "; both changed %s, kept %s's",
		        names(&c->winner, c->m.both, a, sizeof(a)), w);
	if (c->has_base && c->m.from_loser != 0 && !c->m.whole)
		fprintf(f, "; merged %s",
		        names(&c->loser, c->m.from_loser, a, sizeof(a)));
	fprintf(f, "; %s\n", state(c, s, sizeof(s)));
}

/* The names of the fields in mask, as a JSON array. */
static json_t *
names_json(const struct mu_record *rec, uint32_t mask)
{
	const struct mu_fields *t = mu_rec_fields(rec->kind);
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && t != NULL && i < t->n; i++)
		if (mask & (1u << i))
			json_array_append_new(a, json_string(t->f[i].name));
	return a;
}

static json_t *
edit_json(struct mu_cli *cli, const struct mu_record *rec, uint32_t changed,
          bool has_base)
{
	char key[MU_KEY_TEXT_SIZE], w[WHO_SIZE], id[2 * MU_ID_BYTES + 1];

	mu_key_to_text(key, rec->signer);
	who(cli, rec, w);
	sodium_bin2hex(id, sizeof(id), rec->id, MU_ID_BYTES);
	return json_pack("{s:I, s:s, s:s, s:s, s:o}", "rev", (json_int_t)rec->rev, "id",
	                 id, "signer", key, "by", w, "changed",
	                 has_base ? names_json(rec, changed) : json_null());
}

json_t *
mu_cli_conflict_json(struct mu_cli *cli, const struct mu_store_conflict *c)
{
	const struct mu_merge *m = &c->m;
	char s[160];

	return json_pack(
	    "{s:o, s:o, s:b, s:b, s:o, s:o, s:s}", "winner",
	    edit_json(cli, &c->winner, m->from_winner | m->both | m->same, c->has_base),
	    "loser",
	    edit_json(cli, &c->loser, m->from_loser | m->both | m->same, c->has_base),
	    "has_base", c->has_base, "resolved", c->merged, "merged",
	    names_json(&c->loser, c->has_base && !m->whole ? m->from_loser : 0), "kept",
	    names_json(&c->winner, c->has_base ? m->both : 0), "state",
	    state(c, s, sizeof(s)));
}
