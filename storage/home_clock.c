/*
 * home_clock.c - the node's clock: the one every created_at and the future
 * rule read (with the tests' skew), and what the daemon learnt of it from
 * its peers, kept in HOME/serve.clock for the commands.
 *
 * What peers say is kept against the boot clock, which is never set: an
 * offset learnt an hour ago stays right after NTP, or the user, sets the
 * wall clock meanwhile, and is dropped with a reboot (/proc's boot id).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "home.h"

#define CLOCK_FILE  "serve.clock"
#define BOOT_ID     "/proc/sys/kernel/random/boot_id"
#define BOOT_ID_MAX 64

int64_t
mu_home_now(void)
{
	const char *skew = getenv("MUSTER_TEST_CLOCK_SKEW");
	int64_t now = (int64_t)time(NULL);
	long long v;
	char *end;

	if (skew == NULL || skew[0] == '\0')
		return now;
	errno = 0;
	v = strtoll(skew, &end, 10);
	if (errno != 0 || *end != '\0' || v < -1000000000LL || v > 1000000000LL)
		return now;
	return now + v;
}

int64_t
mu_home_boot_clock(void)
{
	struct timespec ts;

#ifdef CLOCK_BOOTTIME
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		return (int64_t)ts.tv_sec;
#endif
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		return (int64_t)ts.tv_sec;
	return 0;
}

/* This boot's id, "-" when the system does not say. */
static void
boot_id(char out[BOOT_ID_MAX])
{
	FILE *f = fopen(BOOT_ID, "re");
	size_t n = 0;

	if (f != NULL) {
		n = fread(out, 1, BOOT_ID_MAX - 1, f);
		fclose(f);
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

int
mu_home_write_clock(const struct mu_home *home, int64_t base, unsigned npeers,
                    struct mu_why *why)
{
	char id[BOOT_ID_MAX], text[64 + 3 * 24 + BOOT_ID_MAX];

	boot_id(id);
	snprintf(text, sizeof(text),
	         "base %" PRId64 "\npeers %u\nboot %s\nsince %" PRId64 "\n", base,
	         npeers, id, mu_home_boot_clock());
	return mu_home_write_state(home, CLOCK_FILE, text, why);
}

int
mu_home_read_clock(const struct mu_home *home, int64_t now, int64_t *offset,
                   unsigned *npeers)
{
	char *text = mu_home_read_state(home, CLOCK_FILE);
	char id[BOOT_ID_MAX], was[BOOT_ID_MAX];
	long long base, since;
	unsigned n;
	int rc = MU_ENOTFOUND;

	if (text == NULL)
		return MU_ENOTFOUND;
	boot_id(id);
	/* A boot id is 36 characters; was holds up to 63 of them. */
	if (sscanf(text, "base %lld\npeers %u\nboot %63s\nsince %lld", &base, &n, was,
	           &since) == 4 &&
	    n > 0 && strcmp(was, id) == 0 && since <= mu_home_boot_clock()) {
		*offset = (int64_t)base + mu_home_boot_clock() - now;
		*npeers = n;
		rc = 0;
	}
	free(text);
	return rc;
}

void
mu_home_clock_phrase(char *out, size_t size, int64_t offset)
{
	uint64_t d = offset < 0 ? (uint64_t)0 - (uint64_t)offset : (uint64_t)offset;
	const char *dir = offset < 0 ? "ahead of" : "behind";

	if (d < 120)
		snprintf(out, size, "%" PRIu64 " seconds %s", d, dir);
	else if (d < 2 * 3600)
		snprintf(out, size, "%" PRIu64 " minutes %s", (d + 30) / 60, dir);
	else if (d < 2 * 86400)
		snprintf(out, size, "%" PRIu64 " hours %s", (d + 1800) / 3600, dir);
	else
		snprintf(out, size, "%" PRIu64 " days %s", (d + 43200) / 86400, dir);
}
