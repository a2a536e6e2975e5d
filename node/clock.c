/*
 * clock.c - what the node learns of its own clock from the time its peers
 * put in their hellos (docs/PROTOCOL.md 10.1, 10.6): said once in the log
 * when it is far off, and kept in the home for `muster status` and for the
 * commands that sign records (storage/home_clock.c).
 *
 * One peer with a wrong clock must not make a right one look wrong: the
 * node takes the median of the peers connected, and between two middle
 * ones the one nearer to its own clock.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "../storage/local.h"
#include "sync.h"

static int
base_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* The peers' clock minus the boot clock, of the connected peers that said
 * it; 0 peers when none did. */
static int
median_base(struct mu_node *node, int64_t boot_minus_now, int64_t *base,
            unsigned *npeers)
{
	struct mu_sync_peer *p;
	struct mu_conn *c;
	int64_t *v;
	size_t n = 0, cap = 0;

	for (c = node->conns; c != NULL; c = mu_conn_next(c))
		cap++;
	*npeers = 0;
	if (cap == 0)
		return 0;
	if ((v = malloc(cap * sizeof(*v))) == NULL)
		return MU_ENOMEM;
	for (c = node->conns; c != NULL && n < cap; c = mu_conn_next(c))
		if ((p = mu_conn_sync(c)) != NULL && p->has_clock)
			v[n++] = p->clock_base;
	if (n > 0) {
		qsort(v, n, sizeof(*v), base_cmp);
		*base = v[n / 2];
		if (n % 2 == 0 && abs64(v[n / 2 - 1] + boot_minus_now) <
		                      abs64(*base + boot_minus_now))
			*base = v[n / 2 - 1];
	}
	*npeers = (unsigned)n;
	free(v);
	return 0;
}

void
mu_node_clock_heard(struct mu_node *node)
{
	int64_t now = mu_home_now(), boot = mu_home_boot_clock(), base = 0, offset;
	char how[MU_HOME_CLOCK_PHRASE_SIZE];
	struct mu_why why = {0};
	unsigned n;

	if (median_base(node, boot - now, &base, &n) != 0 || n == 0)
		return;
	offset = base + boot - now;
	if (mu_home_write_clock(node->home, base, n, &why) != 0)
		mu_node_log(node, MU_LOG_DEBUG,
		            "cannot record the clock for status: %s", why.text);
	mu_home_clock_phrase(how, sizeof(how), offset);
	if (abs64(offset) >= MU_HOME_CLOCK_OFF && !node->clock_off) {
		node->clock_off = true;
		mu_node_log(node, MU_LOG_WARN,
		            "this computer's clock is %s its peers' (%u peer%s): %s; "
		            "%s (enable NTP: `timedatectl set-ntp true`)",
		            how, n, n == 1 ? "" : "s",
		            offset < 0 ? "they refuse the records signed here while "
		                         "it is more than 10 minutes ahead"
		                       : "records signed more than 10 minutes ahead of "
		                         "it are refused here (without penalty) until "
		                         "it reaches their time",
		            n >= MU_HOME_CLOCK_SURE
		                ? "set it right"
		                : "with one peer either clock may be wrong: check "
		                  "this one");
	} else if (abs64(offset) < MU_HOME_CLOCK_OFF && node->clock_off) {
		node->clock_off = false;
		mu_node_log(node, MU_LOG_INFO,
		            "this computer's clock agrees with its peers' again (%s)",
		            how);
	}
}
