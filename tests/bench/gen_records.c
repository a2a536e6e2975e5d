/*
 * gen_records.c - writes N signed records of G groups as a muster export
 * stream (docs/PROTOCOL.md section 7), for the benchmarks.
 *
 * Usage:
 *   gen_records [--records N] [--groups G] [--seed S] [--threads T]
 *               [--events-only] [--base UNIX] [--span S] [--first I]
 *               [--keys FILE] OUT
 *
 *   --records N    records to write (default 100000)
 *   --groups G     groups that sign them (default 1000); record i is signed
 *                  by group i % G
 *   --seed S       everything follows from it: keys, kinds, texts, times
 *                  (default 1). The same arguments give the same bytes.
 *   --threads T    signing threads (default: all cores); does not change
 *                  the output
 *   --events-only  every record is a new event (for `muster event list`)
 *   --base UNIX    created_at runs over the span before it, event starts
 *                  over the year after it (default 1735689600, 2025-01-01)
 *   --span S       that span in seconds (default 15552000, 180 days); the
 *                  records' created_at are spread evenly over it
 *   --first I      writes records I to I+N-1 of the stream instead of 0 to
 *                  N-1 (default 0): other records of the same groups, with
 *                  their own d tags, for data one node holds and another
 *                  lacks (tests/bench/net_reconnect.py)
 *   --keys FILE    also writes each group's 32-byte Ed25519 seed as one line
 *                  of 64 hex digits, group 0 first
 *   OUT            the stream file; "-" is stdout
 *
 * The mix per group follows how groups use muster: slot 0 of a group is its
 * profile, slots 1-3 causes, slots 4-6 alliances (with the next and the
 * previous group, which makes those mutual, and one one-sided proposal),
 * then events with descriptions, places, tags, co-hosts, links and causes,
 * about 8% edits (rev 1 of the event three slots back) and 2% deletes (of
 * the event five slots back). created_at rises with the record's index, so
 * the stream is in muster's export order and edits come after their events.
 *
 * Each record is built with mu_rec_build_flags(), so it passes every rule;
 * its signature is made but not re-verified, which halves the time to
 * generate (importing verifies it).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/record.h"

#define DAY   86400
#define BLOCK 4096 /* records built between two writes */

static const uint8_t magic[16] = {0xaf, 'm', 'u', 's', 't', 'e', 'r', '-',
                                  'e',  'x', 'p', 'o', 'r', 't', '/', '1'};

static const char *const words[] = {
    "community",  "assembly", "tenants",    "climate", "strike",  "river",
    "workers",    "union",    "garden",     "school",  "housing", "march",
    "meeting",    "training", "bike",       "repair",  "kitchen", "library",
    "solidarity", "rent",     "transit",    "forest",  "water",   "energy",
    "youth",      "elders",   "neighbours", "vigil",   "picnic",  "festival",
    "coalition",  "petition", "council",    "hall",    "square",  "park",
    "the",        "and",      "for",        "with",    "our",     "all",
    "bring",      "friends",  "free",       "open",    "to",      "everyone",
    "Zürich",     "café",     "señora",     "Łódź",    "straße",  "naïve"};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const zones[] = {
    "Europe/Berlin", "Europe/London",  "America/New_York", "America/Sao_Paulo",
    "Asia/Kolkata",  "Africa/Nairobi", "Australia/Sydney", "UTC"};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

struct group {
	uint8_t pk[MU_KEY_BYTES];
	uint8_t sk[MU_SECRET_BYTES];
	uint8_t seed[32];
};

struct gen {
	uint64_t seed, nrecords, ngroups, first;
	int64_t base, span;
	bool events_only;
	struct group *groups;
};

/* Everything one record's strings live in while it is built. */
struct scratch {
	char text[24000];
	size_t used;
	char d[8][MU_D_MAX + 1];
};

struct job {
	const struct gen *g;
	uint64_t first, n;
	uint8_t **out;
	size_t *len;
	int rc;
};

/* splitmix64: a small, well-mixed generator, deterministic from its state. */
static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
pick(uint64_t *s, uint64_t n)
{
	return next(s) % n;
}

/* Words from the list, separated by spaces, about len bytes (at least one
 * word, never more than max). nl puts a line break between some sentences. */
static struct mu_str
words_of(struct scratch *sc, uint64_t *s, size_t len, size_t max, bool nl)
{
	char *p = sc->text + sc->used;
	size_t n = 0;

	while (n == 0 || n < len) {
		const char *w = words[pick(s, NWORDS)];
		size_t wl = strlen(w);

		if (n + wl + 1 > max || sc->used + n + wl + 2 > sizeof(sc->text))
			break;
		if (n > 0)
			p[n++] = nl && pick(s, 12) == 0 ? '\n' : ' ';
		memcpy(p + n, w, wl);
		n += wl;
	}
	sc->used += n;
	return (struct mu_str){p, n};
}

static struct mu_str fmt(struct scratch *sc, const char *f, ...)
    __attribute__((format(printf, 2, 3)));

static struct mu_str
fmt(struct scratch *sc, const char *f, ...)
{
	char *p = sc->text + sc->used;
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(p, sizeof(sc->text) - sc->used, f, ap);
	va_end(ap);
	sc->used += (size_t)n;
	return (struct mu_str){p, (size_t)n};
}

static struct mu_str
d_of(struct scratch *sc, int slot, const char *prefix, uint64_t n)
{
	int len = snprintf(sc->d[slot], sizeof(sc->d[slot]), "%s-%" PRIu64, prefix, n);

	return (struct mu_str){sc->d[slot], (size_t)len};
}

static void
fill_profile(struct mu_record *r, struct scratch *sc, uint64_t *s, uint64_t g)
{
	struct mu_profile *p = &r->c.profile;

	p->name = words_of(sc, s, 10 + pick(s, 30), 100, false);
	p->about = words_of(sc, s, 150 + pick(s, 600), 2000, true);
	p->website =
	    fmt(sc, "https://group%" PRIu64 ".example.org/%" PRIu64, g, pick(s, 100));
	if (pick(s, 2) == 0)
		p->contact =
		    fmt(sc, "contact%" PRIu64 "@group%" PRIu64 ".example.org", g, g);
	p->location = words_of(sc, s, 10, 200, false);
}

static void
fill_cause(struct mu_record *r, struct scratch *sc, uint64_t *s, uint64_t slot)
{
	struct mu_cause *c = &r->c.cause;
	size_t i;

	r->d = d_of(sc, 0, "cause", slot);
	c->title = words_of(sc, s, 15 + pick(s, 50), 200, false);
	c->summary = words_of(sc, s, 60 + pick(s, 200), 500, false);
	c->description = words_of(sc, s, 400 + pick(s, 2500), 8000, true);
	c->status = MU_CAUSE_ACTIVE + (int)(pick(s, 10) == 0);
	c->ntags = pick(s, 5);
	for (i = 0; i < c->ntags; i++)
		c->tags[i] = words_of(sc, s, 1, 32, false);
	if (pick(s, 2) == 0)
		c->url = fmt(sc, "https://causes.example.org/%" PRIu64 "/%" PRIu64,
		             slot, pick(s, 1000));
}

static void
cause_addr(struct mu_addr *a, struct scratch *sc, const struct gen *gen, uint64_t g,
           uint64_t *s, int dslot)
{
	memcpy(a->group, gen->groups[g].pk, MU_KEY_BYTES);
	a->kind = MU_KIND_CAUSE;
	a->d = d_of(sc, dslot, "cause", 1 + pick(s, 3));
}

static void
fill_alliance(struct mu_record *r, struct scratch *sc, uint64_t *s,
              const struct gen *gen, uint64_t g, uint64_t slot)
{
	struct mu_alliance *a = &r->c.alliance;
	uint64_t other, G = gen->ngroups;
	static const char hex[] = "0123456789abcdef";
	size_t i;

	other = slot == 4 ? (g + 1) % G : slot == 5 ? (g + G - 1) % G : (g + 37) % G;
	if (other == g)
		other = (g + 1) % G;
	memcpy(a->with, gen->groups[other].pk, MU_KEY_BYTES);
	for (i = 0; i < MU_KEY_BYTES; i++) {
		sc->d[0][2 * i] = hex[a->with[i] >> 4];
		sc->d[0][2 * i + 1] = hex[a->with[i] & 15];
	}
	r->d = (struct mu_str){sc->d[0], 2 * MU_KEY_BYTES};
	a->status = MU_ALLIANCE_PROPOSED;
	if (pick(s, 2) == 0)
		a->terms = words_of(sc, s, 50 + pick(s, 400), 8000, true);
	a->ncauses = pick(s, 3);
	for (i = 0; i < a->ncauses; i++)
		cause_addr(&a->causes[i], sc, gen, g, s, 1 + (int)i);
}

static void
fill_event(struct mu_record *r, struct scratch *sc, uint64_t *s, const struct gen *gen,
           uint64_t g)
{
	struct mu_event *e = &r->c.event;
	size_t i;

	e->title = words_of(sc, s, 15 + pick(s, 60), 200, false);
	if (pick(s, 10) < 8)
		e->description = words_of(sc, s, 100 + pick(s, 900), 8000, true);
	e->status = pick(s, 5) == 0 ? MU_EVENT_TENTATIVE : MU_EVENT_CONFIRMED;
	if (pick(s, 20) == 0) {
		e->all_day = true;
		e->start = (gen->base / DAY + 1 + (int64_t)pick(s, 365)) * DAY;
		if (pick(s, 2) == 0) {
			e->has_end = true;
			e->end = e->start + DAY * (1 + (int64_t)pick(s, 3));
		}
	} else {
		e->start = gen->base + 3600 * (int64_t)pick(s, 365 * 24);
		if (pick(s, 5) != 0) {
			e->has_end = true;
			e->end = e->start + 1800 * (1 + (int64_t)pick(s, 8));
		}
		if (pick(s, 5) < 3) {
			const char *z = zones[pick(s, NZONES)];

			e->tz = (struct mu_str){z, strlen(z)};
		}
	}
	if (pick(s, 10) < 7) {
		e->location.set = true;
		e->location.name = words_of(sc, s, 10 + pick(s, 30), 200, false);
		if (pick(s, 2) == 0)
			e->location.address =
			    words_of(sc, s, 20 + pick(s, 40), 300, false);
		if (pick(s, 2) == 0) {
			e->location.has_geo = true;
			e->location.lat = (int32_t)pick(s, 1800000000) - 900000000;
			e->location.lon =
			    (int32_t)((int64_t)pick(s, 3600000000u) - 1800000000);
		}
	}
	if (pick(s, 5) == 0) {
		e->nonline = 1;
		e->online[0] = fmt(sc, "https://meet.example.org/%" PRIu64 "-%" PRIu64,
		                   g, pick(s, 1000000));
	}
	e->ntags = pick(s, 5);
	for (i = 0; i < e->ntags; i++)
		e->tags[i] = words_of(sc, s, 1, 32, false);
	e->nhosts = pick(s, 4) == 0 ? 1 + pick(s, 2) : 0;
	for (i = 0; i < e->nhosts; i++)
		memcpy(e->hosts[i], gen->groups[(g + 1 + i) % gen->ngroups].pk,
		       MU_KEY_BYTES);
	if (!gen->events_only && pick(s, 2) == 0) {
		e->has_cause = true;
		cause_addr(&e->cause, sc, gen, (g + pick(s, 2)) % gen->ngroups, s, 1);
	}
	if (pick(s, 10) < 3) {
		e->has_capacity = true;
		e->capacity = 10 + (uint32_t)pick(s, 500);
	}
}

/* Record i: its kind and content follow from (seed, i) alone. */
static int
build(const struct gen *gen, uint64_t i, uint8_t **out, size_t *len)
{
	struct scratch *sc;
	struct mu_record r;
	struct mu_why why;
	uint64_t g = i % gen->ngroups, slot = i / gen->ngroups, roll;
	uint64_t s = gen->seed * 0x2545f4914f6cdd1dULL ^ i;
	int64_t span = gen->span;
	int rc;

	if ((sc = malloc(sizeof(*sc))) == NULL)
		return MU_ENOMEM;
	sc->used = 0;
	memset(&r, 0, sizeof(r));
	next(&s);
	memcpy(r.group, gen->groups[g].pk, MU_KEY_BYTES);
	memcpy(r.signer, gen->groups[g].pk, MU_KEY_BYTES);
	r.created_at = gen->base - span +
	               (int64_t)((__int128)span * (i - gen->first) / gen->nrecords);
	roll = pick(&s, 100);
	if (gen->events_only) {
		r.kind = MU_KIND_EVENT;
		r.d = d_of(sc, 0, "ev", slot);
		fill_event(&r, sc, &s, gen, g);
	} else if (slot == 0) {
		r.kind = MU_KIND_PROFILE;
		r.d = (struct mu_str){"", 0};
		fill_profile(&r, sc, &s, g);
	} else if (slot <= 3) {
		r.kind = MU_KIND_CAUSE;
		fill_cause(&r, sc, &s, slot);
	} else if (slot <= 6) {
		r.kind = MU_KIND_ALLIANCE;
		fill_alliance(&r, sc, &s, gen, g, slot);
	} else if (roll < 2 && slot >= 12) {
		r.kind = MU_KIND_DELETE;
		r.d = (struct mu_str){"", 0};
		r.c.del.by_addr = true;
		memcpy(r.c.del.addr.group, r.group, MU_KEY_BYTES);
		r.c.del.addr.kind = MU_KIND_EVENT;
		r.c.del.addr.d = d_of(sc, 1, "ev", slot - 5);
		if (pick(&s, 2) == 0)
			r.c.del.reason =
			    words_of(sc, &s, 20 + pick(&s, 60), 500, false);
	} else {
		r.kind = MU_KIND_EVENT;
		if (roll < 10 && slot >= 10) {
			r.rev = 1;
			r.d = d_of(sc, 0, "ev", slot - 3);
		} else {
			r.d = d_of(sc, 0, "ev", slot);
		}
		fill_event(&r, sc, &s, gen, g);
	}
	/* Checked against every rule but not re-verified: whoever reads the
	 * stream verifies every signature anyway. */
	rc = mu_rec_build_flags(&r, gen->groups[g].sk, gen->base, MU_PARSE_TRUSTED, out,
	                        len, NULL, &why);
	if (rc != 0)
		fprintf(stderr, "gen_records: record %" PRIu64 ": %s\n", i, why.text);
	free(sc);
	return rc;
}

static void *
run_job(void *arg)
{
	struct job *j = arg;
	uint64_t k;

	for (k = 0; k < j->n && j->rc == 0; k++)
		j->rc = build(j->g, j->first + k, &j->out[k], &j->len[k]);
	return NULL;
}

static void
make_groups(struct gen *gen)
{
	uint8_t in[16];
	uint64_t g;

	for (g = 0; g < gen->ngroups; g++) {
		memcpy(in, &gen->seed, 8);
		memcpy(in + 8, &g, 8);
		crypto_generichash(gen->groups[g].seed, 32, in, sizeof(in), NULL, 0);
		crypto_sign_seed_keypair(gen->groups[g].pk, gen->groups[g].sk,
		                         gen->groups[g].seed);
	}
}

static int
write_keys(const struct gen *gen, const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t g;
	size_t i;

	if (f == NULL)
		return -1;
	for (g = 0; g < gen->ngroups; g++) {
		for (i = 0; i < 32; i++)
			fprintf(f, "%02x", gen->groups[g].seed[i]);
		fputc('\n', f);
	}
	return fclose(f);
}

static int
usage(void)
{
	fprintf(stderr, "usage: gen_records [--records N] [--groups G] [--seed S] "
	                "[--threads T] [--events-only] [--base UNIX] [--span S] "
	                "[--first I] [--keys FILE] OUT\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct gen gen = {1, 100000, 1000, 0, 1735689600, 180LL * DAY, false, NULL};
	const char *outpath = NULL, *keys = NULL;
	uint8_t *out[BLOCK];
	size_t len[BLOCK];
	struct job jobs[64];
	pthread_t tids[64];
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t first, n, per, k, bytes = 0;
	FILE *f;
	long t;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--events-only") == 0) {
			gen.events_only = true;
			continue;
		}
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			outpath = a;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--records") == 0)
			gen.nrecords = strtoull(v, NULL, 10);
		else if (strcmp(a, "--groups") == 0)
			gen.ngroups = strtoull(v, NULL, 10);
		else if (strcmp(a, "--seed") == 0)
			gen.seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--threads") == 0)
			nthreads = strtol(v, NULL, 10);
		else if (strcmp(a, "--base") == 0)
			gen.base = strtoll(v, NULL, 10);
		else if (strcmp(a, "--span") == 0)
			gen.span = strtoll(v, NULL, 10);
		else if (strcmp(a, "--first") == 0)
			gen.first = strtoull(v, NULL, 10);
		else if (strcmp(a, "--keys") == 0)
			keys = v;
		else
			return usage();
	}
	if (outpath == NULL || gen.ngroups < 2 || gen.nrecords == 0 || nthreads < 1 ||
	    gen.span < 0)
		return usage();
	if (nthreads > 64)
		nthreads = 64;
	if (sodium_init() < 0 ||
	    (gen.groups = calloc(gen.ngroups, sizeof(*gen.groups))) == NULL)
		return 1;
	make_groups(&gen);
	if (keys != NULL && write_keys(&gen, keys) != 0) {
		perror(keys);
		return 1;
	}
	f = strcmp(outpath, "-") == 0 ? stdout : fopen(outpath, "wb");
	if (f == NULL) {
		perror(outpath);
		return 1;
	}
	fwrite(magic, 1, sizeof(magic), f);
	for (first = 0; first < gen.nrecords; first += n) {
		n = gen.nrecords - first < BLOCK ? gen.nrecords - first : BLOCK;
		per = (n + (uint64_t)nthreads - 1) / (uint64_t)nthreads;
		for (t = 0; t < nthreads; t++) {
			uint64_t lo = (uint64_t)t * per < n ? (uint64_t)t * per : n;
			uint64_t hi = lo + per < n ? lo + per : n;

			jobs[t] = (struct job){&gen,     gen.first + first + lo,
			                       hi - lo,  out + lo,
			                       len + lo, 0};
			if (pthread_create(&tids[t], NULL, run_job, &jobs[t]) != 0)
				return 1;
		}
		for (t = 0; t < nthreads; t++) {
			pthread_join(tids[t], NULL);
			if (jobs[t].rc != 0)
				return 1;
		}
		for (k = 0; k < n; k++) {
			fwrite(out[k], 1, len[k], f);
			bytes += len[k];
			free(out[k]);
		}
	}
	if (fflush(f) != 0 || (f != stdout && fclose(f) != 0)) {
		perror(outpath);
		return 1;
	}
	fprintf(stderr,
	        "gen_records: %" PRIu64 " records of %" PRIu64 " groups, %" PRIu64
	        " bytes of records\n",
	        gen.nrecords, gen.ngroups, bytes);
	free(gen.groups);
	return 0;
}
