/*
 * The pledge trigger (pledge.h; docs/PROTOCOL.md 3.12).
 */
#include "pledge.h"

#include <string.h>

static bool
in_scope(const uint8_t group[MU_KEY_BYTES], const uint8_t (*scope)[MU_KEY_BYTES],
         size_t nscope)
{
	size_t i;

	for (i = 0; i < nscope; i++)
		if (memcmp(scope[i], group, MU_KEY_BYTES) == 0)
			return true;
	return false;
}

bool
mu_pledge_counts(const struct mu_record *pledge, const struct mu_record *p,
                 const uint8_t (*scope)[MU_KEY_BYTES], size_t nscope)
{
	const struct mu_addr *a = &p->c.pledged.pledge;

	return pledge->kind == MU_KIND_PLEDGE && p->kind == MU_KIND_PLEDGED &&
	       a->kind == MU_KIND_PLEDGE &&
	       memcmp(a->group, pledge->group, MU_KEY_BYTES) == 0 &&
	       a->d.len == pledge->d.len &&
	       memcmp(a->d.ptr, pledge->d.ptr, a->d.len) == 0 &&
	       p->created_at <= pledge->c.pledge.deadline &&
	       in_scope(p->group, scope, nscope);
}

void
mu_pledge_eval(const struct mu_record *pledge, const struct mu_record *const *pledged,
               size_t n, const uint8_t (*scope)[MU_KEY_BYTES], size_t nscope,
               struct mu_pledge_state *out)
{
	const struct mu_record *p, *q;
	size_t i, j;
	bool newest;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		p = pledged[i];
		if (!mu_pledge_counts(pledge, p, scope, nscope))
			continue;
		/* One record per group: the newest of its counting ones. */
		newest = true;
		for (j = 0; j < n && newest; j++) {
			q = pledged[j];
			if (j == i || memcmp(q->group, p->group, MU_KEY_BYTES) != 0 ||
			    !mu_pledge_counts(pledge, q, scope, nscope))
				continue;
			newest = mu_rec_newer(p, q) > 0 ||
			         (mu_rec_newer(p, q) == 0 && i < j);
		}
		if (!newest)
			continue;
		out->counted++;
		out->people += p->c.pledged.count;
		out->groups += p->c.pledged.as_group ? 1 : 0;
	}
	out->total =
	    pledge->c.pledge.unit == MU_PLEDGE_GROUPS ? out->groups : out->people;
	out->reached = out->total >= pledge->c.pledge.threshold;
	/* Once the host has published the trigger, it holds, whatever the
	 * counts say after. */
	out->triggered = out->reached || pledge->c.pledge.has_triggered;
}
