/*
 * fuzz_common.c - fixed keys, records, item sets and an in-memory handshake
 * for the fuzz targets and gen_corpus (fuzz_common.h).
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/noise.h"

void
fz_init(void)
{
	if (sodium_init() < 0)
		abort();
}

void
fz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz: invariant broken: %s\n", what);
		abort();
	}
}

static struct mu_str
str(const char *s)
{
	struct mu_str m = {s, strlen(s)};

	return m;
}

void
fz_key(struct fz_key *k, enum fz_who who)
{
	memset(k->seed, 0x11 * (who + 1), sizeof(k->seed));
	crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
}

void
fz_identity(struct mu_sess_identity *id, enum fz_who who)
{
	uint8_t pub[MU_NOISE_KEY_BYTES];
	struct fz_key k;

	fz_key(&k, who);
	id->organizer_len = 0;
	id->by_key = false;
	memset(id->noise_secret, 0x40 + who, sizeof(id->noise_secret));
	mu_noise_public(pub, id->noise_secret);
	memcpy(id->group, k.pk, MU_KEY_BYTES);
	mu_sess_sign_proof(id->proof, pub, k.sk);
	sodium_memzero(&k, sizeof(k));
}

int
fz_sess_new(struct mu_sess **s, enum fz_who who, bool initiator, const uint8_t *expect,
            struct mu_buf *send)
{
	struct mu_sess_identity id;
	uint8_t e[MU_NOISE_KEY_BYTES];
	struct mu_why why;
	int rc;

	fz_identity(&id, who);
	memset(e, 0x60 + 2 * who + initiator, sizeof(e));
	rc = mu_sess_new(s, initiator, FZ_NETWORK, &id, expect, e, send, &why);
	sodium_memzero(&id, sizeof(id));
	return rc;
}

static int
ignore(void *ctx, const uint8_t *msg, size_t len)
{
	(void)ctx;
	(void)msg;
	(void)len;
	return 0;
}

int
fz_handshake(bool node_initiates, struct mu_sess **node, struct mu_sess **peer,
             struct mu_buf sent[3])
{
	struct mu_buf b[3] = {MU_BUF_INIT, MU_BUF_INIT, MU_BUF_INIT};
	struct mu_sess *init = NULL, *resp = NULL;
	struct mu_why why;
	int rc;

	*node = *peer = NULL;
	rc = fz_sess_new(&init, node_initiates ? FZ_NODE : FZ_PEER, true, NULL, &b[0]);
	if (rc == 0)
		rc = fz_sess_new(&resp, node_initiates ? FZ_PEER : FZ_NODE, false, NULL,
		                 &b[1]);
	if (rc == 0)
		rc = mu_sess_feed(resp, b[0].data, b[0].len, &b[1], ignore, NULL, &why);
	if (rc == 0)
		rc = mu_sess_feed(init, b[1].data, b[1].len, &b[2], ignore, NULL, &why);
	if (rc == 0)
		rc = mu_sess_feed(resp, b[2].data, b[2].len, &b[1], ignore, NULL, &why);
	if (rc == 0 && (!mu_sess_ready(init) || !mu_sess_ready(resp)))
		rc = MU_EINVAL;
	for (int i = 0; i < 3; i++) {
		if (rc == 0 && sent != NULL)
			rc = mu_buf_append(&sent[i], b[i].data, b[i].len);
		mu_buf_free(&b[i]);
	}
	if (rc != 0) {
		mu_sess_free(init);
		mu_sess_free(resp);
		return rc;
	}
	*node = node_initiates ? init : resp;
	*peer = node_initiates ? resp : init;
	return 0;
}

/* --- records ------------------------------------------------------------ */

static void
tmpl(struct mu_record *r, enum mu_kind kind, const struct fz_key *k, int64_t at,
     const char *d)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	memcpy(r->group, k->pk, MU_KEY_BYTES);
	memcpy(r->signer, k->pk, MU_KEY_BYTES);
	r->created_at = at;
	r->d = str(d);
}

static int
add(struct fz_records *out, const struct mu_record *r, const struct fz_key *k)
{
	struct mu_why why;
	int rc;

	if (out->n == sizeof(out->bytes) / sizeof(out->bytes[0]))
		return MU_EFULL;
	rc = mu_rec_build(r, k->sk, FZ_NOW, &out->bytes[out->n], &out->len[out->n],
	                  NULL, &why);
	if (rc == 0)
		out->n++;
	return rc;
}

static int
alliance(struct fz_records *out, const struct fz_key *k, const uint8_t *with,
         int64_t at)
{
	struct mu_record r;
	char d[2 * MU_KEY_BYTES + 1];

	sodium_bin2hex(d, sizeof(d), with, MU_KEY_BYTES);
	tmpl(&r, MU_KIND_ALLIANCE, k, at, d);
	memcpy(r.c.alliance.with, with, MU_KEY_BYTES);
	r.c.alliance.terms = str("Share the calendar.");
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	return add(out, &r, k);
}

/* One record of each acts kind: the peer answers the node's event,
 * petition and pledge; the node tallies its event. */
static int
acts(struct fz_records *out, const struct fz_key *node, const struct fz_key *peer)
{
	char d[4][MU_D_ADDR_LEN + 1];
	struct mu_addr ev = {{0}, MU_KIND_EVENT, {"march-1", 7}};
	struct mu_addr pet = {{0}, MU_KIND_PETITION, {"clean-air", 9}};
	struct mu_addr pl = {{0}, MU_KIND_PLEDGE, {"strike", 6}};
	struct mu_record r;
	int rc = 0;

	memcpy(ev.group, node->pk, MU_KEY_BYTES);
	memcpy(pet.group, node->pk, MU_KEY_BYTES);
	memcpy(pl.group, node->pk, MU_KEY_BYTES);
	mu_rec_addr_d(&ev, d[0]);
	mu_rec_addr_d(&pet, d[1]);
	mu_rec_addr_d(&pl, d[2]);

	tmpl(&r, MU_KIND_PETITION, node, FZ_T0 + 11, "clean-air");
	r.c.petition.title = str("Clean air");
	r.c.petition.target = str("The council");
	r.c.petition.text = str("We ask for\nclean air.");
	r.c.petition.status = MU_PETITION_OPEN;
	r.c.petition.has_goal = true;
	r.c.petition.goal = 1000;
	rc = rc ? rc : add(out, &r, node);

	tmpl(&r, MU_KIND_PLEDGE, node, FZ_T0 + 12, "strike");
	r.c.pledge.title = str("Strike");
	r.c.pledge.threshold = 5;
	r.c.pledge.unit = MU_PLEDGE_GROUPS;
	r.c.pledge.deadline = FZ_T0 + 86400;
	r.c.pledge.has_start = true;
	r.c.pledge.start = FZ_T0 + 2 * 86400;
	r.c.pledge.has_triggered = true; /* the host's triggered revision */
	r.c.pledge.triggered = FZ_T0 + 3600;
	rc = rc ? rc : add(out, &r, node);

	tmpl(&r, MU_KIND_RSVP, peer, FZ_T0 + 13, d[0]);
	r.c.rsvp.event = ev;
	r.c.rsvp.going = 40;
	r.c.rsvp.about = true;
	r.c.rsvp.has_waitlisted = true;
	r.c.rsvp.waitlisted = 10;
	rc = rc ? rc : add(out, &r, peer);

	tmpl(&r, MU_KIND_TALLY, node, FZ_T0 + 14, d[0]);
	r.c.tally.event = ev;
	r.c.tally.capacity = 30;
	memcpy(r.c.tally.groups[0], peer->pk, MU_KEY_BYTES);
	memcpy(r.c.tally.groups[1], node->pk, MU_KEY_BYTES);
	r.c.tally.counts[0] = 40;
	r.c.tally.counts[1] = 2;
	r.c.tally.ngroups = r.c.tally.ncounts = 2;
	rc = rc ? rc : add(out, &r, node);

	tmpl(&r, MU_KIND_SIGNATURES, peer, FZ_T0 + 15, d[1]);
	r.c.signatures.petition = pet;
	r.c.signatures.count = 7;
	r.c.signatures.as_group = true;
	r.c.signatures.names[0] = str("Ana");
	r.c.signatures.nnames = 1;
	rc = rc ? rc : add(out, &r, peer);

	tmpl(&r, MU_KIND_PLEDGED, peer, FZ_T0 + 16, d[2]);
	r.c.pledged.pledge = pl;
	r.c.pledged.count = 12;
	r.c.pledged.as_group = true;
	return rc ? rc : add(out, &r, peer);
}

int
fz_records(struct fz_records *out)
{
	struct fz_key node, peer, stranger;
	struct mu_record r;
	struct mu_event *e = &r.c.event;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	fz_key(&node, FZ_NODE);
	fz_key(&peer, FZ_PEER);
	fz_key(&stranger, FZ_STRANGER);

	tmpl(&r, MU_KIND_PROFILE, &node, FZ_T0, "");
	r.c.profile.name = str("Riverside Tenants");
	r.c.profile.about = str("We organise the river quarter.");
	r.c.profile.website = str("https://riverside.example.org/");
	rc = rc ? rc : add(out, &r, &node);

	tmpl(&r, MU_KIND_PROFILE, &peer, FZ_T0 + 1, "");
	r.c.profile.name = str("Hill Street Union \xe2\x9c\x8a");
	r.c.profile.contact = str("union@example.org");
	r.c.profile.location = str("Hill St");
	rc = rc ? rc : add(out, &r, &peer);

	tmpl(&r, MU_KIND_CAUSE, &node, FZ_T0 + 2, "rent-freeze");
	r.c.cause.title = str("Freeze the rents");
	r.c.cause.summary = str("A two-year freeze.");
	r.c.cause.description = str("Rents rose 30%.\nWe ask for a freeze.");
	r.c.cause.url = str("https://riverside.example.org/freeze");
	r.c.cause.tags[0] = str("housing");
	r.c.cause.tags[1] = str("rent");
	r.c.cause.ntags = 2;
	r.c.cause.status = MU_CAUSE_ACTIVE;
	rc = rc ? rc : add(out, &r, &node);

	tmpl(&r, MU_KIND_EVENT, &node, FZ_T0 + 3, "march-1");
	r.rev = 2;
	e->title =
	    str("March for the freeze; bring \"signs\", friends \xf0\x9f\x93\xa2");
	e->description = str("Meet at the fountain.\nWe walk to city hall.");
	e->start = FZ_T0 + 7 * 86400;
	e->has_end = true;
	e->end = e->start + 3 * 3600;
	e->tz = str("Europe/Copenhagen");
	e->location.set = true;
	e->location.name = str("R\xc3\xa5"
	                       "dhuspladsen");
	e->location.address = str("1550 K\xc3\xb8"
	                          "benhavn V");
	e->location.has_geo = true;
	e->location.lat = 556761000;
	e->location.lon = -125683000;
	e->online[0] = str("https://stream.example.org/live");
	e->nonline = 1;
	e->has_cause = true;
	memcpy(e->cause.group, node.pk, MU_KEY_BYTES);
	e->cause.kind = MU_KIND_CAUSE;
	e->cause.d = str("rent-freeze");
	e->status = MU_EVENT_CONFIRMED;
	e->has_capacity = true;
	e->capacity = 5000;
	e->tags[0] = str("march");
	e->ntags = 1;
	memcpy(e->hosts[0], node.pk, MU_KEY_BYTES);
	memcpy(e->hosts[1], peer.pk, MU_KEY_BYTES);
	e->nhosts = 2;
	rc = rc ? rc : add(out, &r, &node);

	tmpl(&r, MU_KIND_EVENT, &peer, FZ_T0 + 4, "assembly");
	e->title = str("Open assembly");
	e->start = FZ_T0 + 86400 * 10;
	e->has_end = true;
	e->end = e->start + 86400;
	e->all_day = true;
	e->status = MU_EVENT_TENTATIVE;
	rc = rc ? rc : add(out, &r, &peer);

	rc = rc ? rc : alliance(out, &node, peer.pk, FZ_T0 + 5);
	rc = rc ? rc : alliance(out, &peer, node.pk, FZ_T0 + 6);

	tmpl(&r, MU_KIND_NODE, &peer, FZ_T0 + 7, "");
	r.c.node.addrs[0] = str("hill.example.org:7420");
	r.c.node.addrs[1] = str("[2001:db8::1]:7420");
	r.c.node.naddrs = 2;
	rc = rc ? rc : add(out, &r, &peer);

	tmpl(&r, MU_KIND_DELETE, &peer, FZ_T0 + 8, "");
	r.c.del.by_addr = true;
	memcpy(r.c.del.addr.group, peer.pk, MU_KEY_BYTES);
	r.c.del.addr.kind = MU_KIND_EVENT;
	r.c.del.addr.d = str("picnic");
	r.c.del.reason = str("Rained off");
	rc = rc ? rc : add(out, &r, &peer);

	tmpl(&r, MU_KIND_DELETE, &node, FZ_T0 + 9, "");
	memset(r.c.del.id, 0xab, MU_ID_BYTES);
	rc = rc ? rc : add(out, &r, &node);

	tmpl(&r, MU_KIND_CAUSE, &stranger, FZ_T0 + 10, "elsewhere");
	r.c.cause.title = str("Not in scope");
	r.c.cause.status = MU_CAUSE_WON;
	rc = rc ? rc : add(out, &r, &stranger);

	rc = rc ? rc : acts(out, &node, &peer);

	sodium_memzero(&node, sizeof(node));
	sodium_memzero(&peer, sizeof(peer));
	sodium_memzero(&stranger, sizeof(stranger));
	if (rc != 0)
		fz_records_free(out);
	return rc;
}

void
fz_records_free(struct fz_records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->bytes[i]);
	r->n = 0;
}

/* --- negentropy items ------------------------------------------------------ */

size_t
fz_neg_items(struct mu_neg_item *items, int set)
{
	size_t n = 0;

	for (uint32_t i = 0; i < FZ_NEG_ITEMS; i++) {
		uint8_t seed[5] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16),
		                   (uint8_t)(i >> 8), (uint8_t)i, 0};

		/* Each set lacks every 13th (set 0) or 17th (set 1) item and
		 * has a few of its own. */
		if (i % (set ? 17 : 13) == 5)
			seed[4] = (uint8_t)(1 + set);
		items[n].ts = FZ_T0 + i / 3;
		crypto_generichash(items[n].id, MU_NEG_ID_BYTES, seed, sizeof(seed),
		                   NULL, 0);
		n++;
	}
	mu_neg_sort(items, n);
	return n;
}

/* --- splitting inputs ------------------------------------------------------ */

bool
fz_next(const uint8_t **data, size_t *size, const uint8_t **piece, size_t *len)
{
	size_t n;

	if (*size < 2)
		return false;
	n = (size_t)(*data)[0] << 8 | (*data)[1];
	*data += 2;
	*size -= 2;
	if (n > *size)
		n = *size;
	*piece = *data;
	*len = n;
	*data += n;
	*size -= n;
	return true;
}

int
fz_put(struct mu_buf *out, const uint8_t *piece, size_t len)
{
	uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	int rc = mu_buf_append(out, hdr, 2);

	return rc == 0 ? mu_buf_append(out, piece, len) : rc;
}
