/*
 * invite.c - invite codes on the wire (docs/PROTOCOL.md 10.8): the joiner
 * proves the code's secret on its session, the inviter takes one use of
 * the invite and answers.
 *
 *   - The proof signs the session's handshake hash and the joiner's group,
 *     so one seen on a session is worth nothing on another, or for another
 *     group.
 *   - The inviter answers every invite with a verdict and closes nothing:
 *     a refused joiner still syncs what its scope allows, as any peer.
 *   - An invite made with --ally makes the inviter's node propose the
 *     alliance back at once, signed with the home's organizer key, which
 *     is read from the home for that signature and wiped after it: the
 *     daemon holds no key between joins (docs/SECURITY.md).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../protocol/invite.h"
#include "../protocol/textform.h"
#include "../storage/local.h"
#include "acts.h"
#include "sync.h"

/* What the inviter's node has for the group joiner: its current alliance
 * record's rev and status, when it has one. */
struct current {
	bool found;
	uint32_t rev;
	enum mu_alliance_status status;
};

static int
copy_current(void *ctx, const struct mu_record *rec)
{
	struct current *cur = ctx;

	cur->found = true;
	cur->rev = rec->rev;
	cur->status = rec->c.alliance.status;
	return 0;
}

/* Proposes the alliance with joiner (--ally), as `muster ally add` would. */
static int
propose(struct mu_node *node, const uint8_t joiner[MU_KEY_BYTES], const char *terms,
        struct mu_why *why)
{
	char d[2 * MU_KEY_BYTES + 1];
	struct mu_record rec;
	struct mu_home *keys = NULL;
	struct current cur = {false, 0, 0};
	struct mu_addr a;
	int rc;

	sodium_bin2hex(d, sizeof(d), joiner, MU_KEY_BYTES);
	memset(&a, 0, sizeof(a));
	memcpy(a.group, node->home->group, MU_KEY_BYTES);
	a.kind = MU_KIND_ALLIANCE;
	a.d.ptr = d;
	a.d.len = 2 * MU_KEY_BYTES;
	rc = mu_store_get_addr(node->store, &a, copy_current, &cur);
	if (rc != 0 && rc != MU_ENOTFOUND)
		return mu_fail(why, rc, "cannot read our alliance records: %s",
		               mu_strerror(rc));
	if (cur.found && cur.status == MU_ALLIANCE_PROPOSED)
		return 0;
	if (cur.found && cur.rev >= MU_REV_MAX)
		return mu_fail(why, MU_ERECORD,
		               "our alliance record's rev is at its "
		               "maximum");
	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_ALLIANCE;
	rec.d = a.d;
	rec.rev = cur.found ? cur.rev + 1 : 0;
	memcpy(rec.c.alliance.with, joiner, MU_KEY_BYTES);
	rec.c.alliance.status = MU_ALLIANCE_PROPOSED;
	rec.c.alliance.terms.ptr = terms;
	rec.c.alliance.terms.len = strlen(terms);
	if ((rc = mu_home_open(&keys, node->opts.home, true, why)) != 0)
		return rc;
	rc = mu_node_acts_store(node->store, keys, &rec, mu_home_now(), why);
	mu_home_close(keys);
	return rc;
}

/* Copies a name from the wire, a line of UTF-8 already checked. */
static void
copy_name(char out[MU_INVITE_NAME_MAX + 1], const struct mu_wire_msg *m)
{
	size_t n = m->text_len > MU_INVITE_NAME_MAX ? MU_INVITE_NAME_MAX : m->text_len;

	memcpy(out, m->text, n);
	out[n] = '\0';
}

static int
answer(struct mu_sync_peer *p, const char *verdict, struct mu_why *why)
{
	struct mu_sync_state *st = p->node->sync;
	int rc;

	st->msg.len = 0;
	if ((rc = mu_wire_encode_invited(&st->msg, verdict)) != 0)
		return mu_fail(why, rc, "invite: cannot encode the answer");
	return mu_sync_send_msg(p, why);
}

int
mu_invite_on_invite(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                    struct mu_why *why)
{
	struct mu_node *node = p->node;
	enum mu_invite_verdict v = MU_INVITE_UNKNOWN;
	const char *word = "bad-proof";
	struct mu_invite_row row;
	char key[MU_KEY_TEXT_SIZE], id[9], name[MU_INVITE_NAME_MAX + 1];
	struct mu_why w = {0};
	const uint8_t *binding, *joiner = mu_conn_peer_group(p->c);
	size_t blen;
	int rc;

	if (p->dialer)
		return mu_fail(why, MU_EFORMAT, "invite: sent by the node we dialed");
	if (p->invited)
		return mu_fail(why, MU_EFORMAT, "invite: a second one on the session");
	p->invited = true;
	binding = mu_conn_binding(p->c, &blen);
	mu_key_to_text(key, joiner);
	sodium_bin2hex(id, sizeof(id), m->pub, 4);
	copy_name(name, m);
	if (binding != NULL &&
	    mu_invite_verify(m->proof, m->pub, binding, blen, joiner) == 0) {
		rc = mu_store_invite_redeem(node->store, m->pub, mu_home_now(), joiner,
		                            name, &v, &row, &w);
		if (rc != 0) {
			mu_node_log(node, MU_LOG_WARN, "invite %s from %s: %s", id, key,
			            mu_why_or(&w, rc));
			v = MU_INVITE_UNKNOWN;
		}
		word = mu_invite_verdict_name(v);
	}
	mu_node_log(node, MU_LOG_INFO, "invite %s from %s (%s): %s", id, key,
	            mu_conn_name(p->c), word);
	if (v == MU_INVITE_OK && row.ally &&
	    (rc = propose(node, joiner, row.terms, &w)) != 0)
		mu_node_log(node, MU_LOG_WARN,
		            "invite %s: cannot propose the alliance with %s: %s; "
		            "propose it with `muster ally add %s`",
		            id, key, mu_why_or(&w, rc), key);
	return answer(p, word, why);
}

int
mu_invite_send(struct mu_sync_peer *p, struct mu_why *why)
{
	struct mu_node_join *j = p->node->opts.join;
	struct mu_sync_state *st = p->node->sync;
	const uint8_t *binding;
	uint8_t pub[MU_KEY_BYTES], proof[64];
	size_t blen;
	int rc;

	if (j == NULL || !p->dialer || p->invited)
		return 0;
	p->invited = true;
	if ((binding = mu_conn_binding(p->c, &blen)) == NULL)
		return mu_fail(why, MU_EINVAL, "invite: the session is not ready");
	mu_invite_public(pub, j->seed);
	mu_invite_sign(proof, j->seed, binding, blen, p->node->home->group);
	st->msg.len = 0;
	rc = mu_wire_encode_invite(&st->msg, pub, proof, j->name, strlen(j->name));
	if (rc != 0)
		return mu_fail(why, rc, "invite: cannot encode the name given");
	mu_node_log(p->node, MU_LOG_INFO, "peer %s: redeeming the invite",
	            mu_conn_name(p->c));
	return mu_sync_send_msg(p, why);
}

int
mu_invite_on_invited(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                     struct mu_why *why)
{
	struct mu_node_join *j = p->node->opts.join;
	size_t n;

	if (j == NULL || !p->dialer || !p->invited || j->verdict[0] != '\0')
		return mu_fail(why, MU_EFORMAT, "invited: answers no invite of ours");
	n = m->text_len < sizeof(j->verdict) - 1 ? m->text_len : sizeof(j->verdict) - 1;
	memcpy(j->verdict, m->text, n);
	j->verdict[n] = '\0';
	if (n == 0)
		snprintf(j->verdict, sizeof(j->verdict), "unknown");
	mu_node_log(p->node, MU_LOG_INFO, "peer %s: invite %s", mu_conn_name(p->c),
	            j->verdict);
	if (strcmp(j->verdict, "ok") != 0)
		return mu_fail(why, MU_EPERM, "the inviter refused the invite: %s",
		               j->verdict);
	return 0;
}

bool
mu_invite_waiting(const struct mu_sync_peer *p)
{
	const struct mu_node_join *j = p->node->opts.join;

	return j != NULL && p->dialer && j->verdict[0] == '\0';
}
