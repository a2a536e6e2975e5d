/*
 * pledge.h - whether a pledge has triggered (docs/PROTOCOL.md 3.12, rule of
 * the trigger), computed the same way on every node from the records it
 * holds: the pledge and the groups' pledged records.
 *
 * Pure code: borrows every record; nothing allocates.
 */
#ifndef MU_PLEDGE_H
#define MU_PLEDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct mu_pledge_state {
	uint64_t people;  /* sum of the counted groups' counts */
	uint32_t groups;  /* counted groups that commit as a group */
	uint32_t counted; /* groups with a counted pledged record */
	uint64_t total;   /* people or groups, as the pledge's unit says */
	bool reached;     /* total >= threshold */
	bool triggered;   /* reached, or the pledge records its trigger */
};

/*
 * Whether pledged record p counts towards pledge: a pledged record that
 * names the pledge's address, from a group in scope (nscope keys), created
 * at or before the pledge's deadline.
 */
bool mu_pledge_counts(const struct mu_record *pledge, const struct mu_record *p,
                      const uint8_t (*scope)[MU_KEY_BYTES], size_t nscope);

/*
 * The state of pledge from n pledged records (any groups, any order; those
 * that do not count are passed over). Of a group's counting records, the
 * newest by the replacement rule (mu_rec_newer) counts, once.
 */
void mu_pledge_eval(const struct mu_record *pledge,
                    const struct mu_record *const *pledged, size_t n,
                    const uint8_t (*scope)[MU_KEY_BYTES], size_t nscope,
                    struct mu_pledge_state *out);

#endif
