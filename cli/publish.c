/*
 * publish.c - turning a filled-in record into a stored, signed one.
 *
 * Every command that writes goes through mu_cli_publish(), so that every
 * record is built, checked, stored and reported the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../storage/conflict.h"
#include "cli.h"
#include "json_out.h"

void
mu_cli_random_d(char out[MU_CLI_D_SIZE])
{
	uint8_t b[(MU_CLI_D_SIZE - 1) / 2];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, MU_CLI_D_SIZE, b, sizeof(b));
}

void
mu_cli_new_rec(struct mu_record *rec, enum mu_kind kind, char d[MU_CLI_D_SIZE])
{
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	mu_cli_random_d(d);
	rec->d = mu_cli_str(d);
}

/*
 * Peers refuse a record dated more than MU_FUTURE_SLACK seconds ahead of
 * their clocks (rule future): when they said our clock is that far ahead
 * (storage/home_clock.c), a record signed now would be refused everywhere
 * for as long, so none is made until the clock is set right. It takes
 * MU_HOME_CLOCK_SURE peers: with one, its clock may be the wrong one.
 */
static int
check_clock(struct mu_cli *cli, const char *what)
{
	char how[MU_HOME_CLOCK_PHRASE_SIZE];
	int64_t offset;
	unsigned n;

	if (mu_home_read_clock(cli->home, cli->now, &offset, &n) != 0 ||
	    n < MU_HOME_CLOCK_SURE || offset >= -MU_FUTURE_SLACK)
		return 0;
	mu_home_clock_phrase(how, sizeof(how), offset);
	return mu_cli_fail(MU_EINVAL,
	                   "cannot %s: this computer's clock looks %s its peers' "
	                   "(as %u peer%s said), and they would refuse the record "
	                   "until their clocks catch up; set the clock right (enable "
	                   "NTP: `timedatectl set-ntp true`) and try again",
	                   what, how, n, n == 1 ? "" : "s");
}

/*
 * A record the protocol refused, said in the person's terms (fields.c);
 * with --json, also as {"error", "rule", "field", "detail"} on stdout, the
 * rule and the field path as docs/PROTOCOL.md names them, for developers.
 */
static int
refused(const struct mu_record *rec, const char *what, const struct mu_why *why, int rc)
{
	char said[MU_WHY_MAX + 128], field[96];
	json_t *o;

	if (why->text[0] == '\0')
		snprintf(said, sizeof(said), "%s", mu_strerror(rc));
	else
		mu_cli_why_say(said, sizeof(said), rec, why);
	rc = mu_cli_fail(rc, "cannot %s: %s", what, said);
	if (!mu_cli_json())
		return rc;
	mu_cli_why_field(rec, why, field, sizeof(field));
	o = json_pack("{s:s, s:s%, s:s, s:s}", "error", said, "rule", why->text,
	              why->text[0] != '\0' ? why->rule_len : 0, "field", field,
	              "detail", mu_why_detail(why));
	mu_cli_json_out(o);
	return rc;
}

/*
 * Whether this home's organizer record lets it publish kind: a record
 * every peer would refuse (or hold) is not made.
 */
static int
own_organizer(struct mu_cli *cli, enum mu_kind kind, const char *what)
{
	struct mu_cli_rec cur;
	int rc;

	rc = mu_cli_organizer_get(cli, cli->home->organizer, &cur);
	if (rc == MU_ENOTFOUND)
		return mu_cli_fail(rc,
		                   "cannot %s: this home's organizer key is not known "
		                   "here yet: once the root key's holder has run "
		                   "`muster organizer add` with this home's request "
		                   "code, sync from a node of the group",
		                   what);
	if (rc != 0)
		return mu_cli_fail(rc,
		                   "cannot %s: reading this home's organizer "
		                   "record: %s",
		                   what, mu_strerror(rc));
	if (cur.rec.c.organizer.status == MU_ORGANIZER_REVOKED)
		rc = mu_cli_fail(MU_EPERM,
		                 "cannot %s: this home's organizer key was revoked; "
		                 "make a new home with `muster init --join` and ask "
		                 "for a new `muster organizer add`",
		                 what);
	else if (!mu_organizer_allows(&cur.rec, kind))
		rc = mu_cli_fail(MU_EPERM,
		                 "cannot %s: this home's organizer may not publish "
		                 "records of kind %s (see `muster organizer list`)",
		                 what, mu_kind_name(kind));
	mu_cli_rec_free(&cur);
	return rc;
}

/*
 * Who signs rec, into rec->signer and *secret: the group's root key for an
 * organizer record (only the root names organizers), else this home's
 * organizer key, so that the root key can stay out of reach. A home with
 * no organizer key signs with the root, as every home did before
 * organizers (mu_cli_organizer_ensure() makes one on first use).
 */
static int
signing_key(struct mu_cli *cli, struct mu_record *rec, const char *what,
            const uint8_t **secret)
{
	const struct mu_home *h = cli->home;

	if (rec->kind != MU_KIND_ORGANIZER && h->org_secret != NULL) {
		memcpy(rec->signer, h->organizer, MU_KEY_BYTES);
		*secret = h->org_secret;
		return own_organizer(cli, rec->kind, what);
	}
	if (h->secret == NULL)
		return mu_cli_fail(MU_EPERM, "cannot %s: " MU_CLI_NO_ROOT, what);
	memcpy(rec->signer, h->group, MU_KEY_BYTES);
	*secret = h->secret;
	return 0;
}

void
mu_cli_merge_conflicts(struct mu_cli *cli)
{
	const struct mu_home *h = cli->home;
	struct mu_why why = {0};
	size_t n = 0;
	int rc;

	/* Signed as this home signs its edits: by its organizer key, else
	 * (a home from before organizers) by the root. */
	if (h->org_secret != NULL)
		rc = mu_store_conflict_resolve(cli->store, h->group, h->organizer,
		                               h->org_secret, cli->now, &n, &why);
	else if (h->secret != NULL)
		rc = mu_store_conflict_resolve(cli->store, h->group, h->group,
		                               h->secret, cli->now, &n, &why);
	else
		return;
	if (rc != 0)
		mu_cli_note("could not merge concurrent edits: %s; `muster status` "
		            "lists them",
		            mu_why_or(&why, rc));
	else if (n > 0)
		mu_cli_note("merged the concurrent edits of %zu record%s; `muster "
		            "status` lists them",
		            n, n == 1 ? "" : "s");
}

int
mu_cli_store_new(struct mu_cli *cli, struct mu_record *rec, const char *what,
                 char text[MU_ADDR_TEXT_SIZE])
{
	const struct mu_record *one[1];
	const uint8_t *secret = NULL;
	struct mu_record built;
	enum mu_put_result res;
	struct mu_why why = {0};
	struct mu_addr addr;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = check_clock(cli, what)) != 0)
		return rc;
	if ((rc = signing_key(cli, rec, what, &secret)) != 0)
		return rc;
	rec->version = MU_FORMAT_VERSION;
	memcpy(rec->group, cli->home->group, MU_KEY_BYTES);
	if (rec->created_at < cli->now)
		rec->created_at = cli->now;
	if (rec->d.ptr == NULL)
		rec->d = mu_cli_str("");

	/* Built, signed, and checked once, as parsed records that borrow
	 * their bytes, which is what the store takes. */
	rc = mu_rec_build_parsed(rec, secret, cli->now, &buf, &len, &built, &why);
	if (rc != 0) {
		rc = refused(rec, what, &why, rc);
		goto out;
	}
	one[0] = &built;
	rc = mu_store_put(cli->store, one, 1, &res, &why);
	if (rc != 0) {
		rc = mu_cli_fail(rc, "cannot %s: storing it failed: %s", what,
		                 mu_why_or(&why, rc));
		goto out;
	}
	if (mu_kind_replaceable(built.kind)) {
		mu_rec_addr(&built, &addr);
		mu_addr_to_text(text, &addr);
	} else {
		mu_id_to_text(text, built.id);
	}
	switch (res) {
	case MU_PUT_NEW:
	case MU_PUT_DUPLICATE: /* the same record again: it is there, all is well */
		rc = 0;
		break;
	case MU_PUT_SUPERSEDED:
		rc = mu_cli_fail(MU_EINVAL,
		                 "cannot %s: a newer version of %s is already stored "
		                 "(is the system clock wrong?)",
		                 what, text);
		break;
	case MU_PUT_DELETED:
		rc = mu_cli_fail(MU_EINVAL,
		                 "cannot %s: %s was deleted and cannot be used again",
		                 what, text);
		break;
	default:
		rc = mu_cli_fail(MU_EINVAL,
		                 "cannot %s: the store gave an unknown answer", what);
		break;
	}
out:
	free(buf);
	return rc;
}

int
mu_cli_publish(struct mu_cli *cli, struct mu_record *rec, const char *what)
{
	char text[MU_ADDR_TEXT_SIZE];
	int rc;

	rc = mu_cli_store_new(cli, rec, what, text);
	if (rc != 0)
		return rc;
	if (mu_cli_json())
		return mu_cli_json_out(json_pack(
		    "{s:s}", mu_kind_replaceable(rec->kind) ? "address" : "id", text));
	printf("%s\n", text);
	return fflush(stdout) == 0 ? 0 : mu_cli_fail(MU_EIO, "cannot write to stdout");
}

int
mu_cli_open_publish(struct mu_cli *cli, struct mu_record *rec, const char *what)
{
	int rc;

	rc = mu_cli_open(cli, MU_CLI_SECRET);
	if (rc != 0)
		return rc;
	return mu_cli_publish(cli, rec, what);
}

int
mu_cli_next_rev(const struct mu_cli_rec *cur, struct mu_record *rec)
{
	char text[MU_ADDR_TEXT_SIZE];
	struct mu_addr addr;

	if (cur->rec.rev >= MU_REV_MAX) {
		mu_rec_addr(&cur->rec, &addr);
		mu_addr_to_text(text, &addr);
		return mu_cli_fail(
		    MU_EINVAL,
		    "%s has reached the highest revision and "
		    "cannot be edited again; publish a new record instead",
		    text);
	}
	*rec = cur->rec;
	rec->rev = cur->rec.rev + 1;
	/* Names the revision edited, so that an edit of the same one made
	 * elsewhere at the same time is seen as a conflict and merged
	 * (docs/PROTOCOL.md, section 5). */
	rec->has_replaces = true;
	memcpy(rec->replaces, cur->rec.id, MU_ID_BYTES);
	return 0;
}

int
mu_cli_edit_begin(struct mu_cli *cli, const struct mu_addr *addr,
                  struct mu_cli_rec *cur, struct mu_record *rec)
{
	int rc;

	if ((rc = mu_cli_get_current(cli, addr, cur)) != 0)
		return rc;
	if ((rc = mu_cli_next_rev(cur, rec)) != 0)
		mu_cli_rec_free(cur);
	return rc;
}

int
mu_cli_edit_own(struct mu_cli *cli, const char *text, enum mu_kind kind,
                struct mu_cli_rec *cur, struct mu_record *rec)
{
	struct mu_addr addr;
	int rc;

	rc = mu_cli_open_own(cli, text, kind, &addr);
	if (rc != 0)
		return rc;
	return mu_cli_edit_begin(cli, &addr, cur, rec);
}

int
mu_cli_edit_or_new(struct mu_cli *cli, const struct mu_addr *addr,
                   struct mu_cli_rec *cur, struct mu_record *rec, const char *what)
{
	int rc;

	rc = mu_cli_lookup(cli, addr, cur);
	if (rc == 0) {
		if ((rc = mu_cli_next_rev(cur, rec)) != 0)
			mu_cli_rec_free(cur);
		return rc;
	}
	if (rc != MU_ENOTFOUND)
		return mu_cli_fail(rc, "cannot read the %s: %s", what, mu_strerror(rc));
	memset(rec, 0, sizeof(*rec));
	rec->kind = addr->kind;
	rec->d = addr->d;
	return 0;
}
