/*
 * tally.h - the places of an event with a capacity, across groups
 * (docs/PROTOCOL.md 3.9, "tally").
 *
 * The host keeps one queue of people for the event, as runs of one group's
 * people in order of arrival: each time a group's rsvp record arrives with a
 * larger `going`, the difference joins the end of the queue; with a smaller
 * one, that group's last people in the queue leave it (its waiting ones
 * first). The first `capacity` people of the queue have places, the rest
 * wait; so when a group's count falls, the people waiting behind move up,
 * whichever group they came through.
 *
 * Pure code: the caller owns every struct; nothing allocates.
 */
#ifndef MU_TALLY_H
#define MU_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct mu_tally_run {
	uint8_t group[MU_KEY_BYTES];
	uint32_t n; /* >= 1 */
};

struct mu_tally {
	uint32_t capacity;
	struct mu_tally_run runs[MU_TALLY_MAX];
	size_t nruns; /* no two neighbouring runs of one group */
};

/* A group's share of the queue. */
struct mu_tally_share {
	uint32_t going;      /* the group's people in the queue */
	uint32_t placed;     /* of them, those with a place */
	uint32_t waitlisted; /* going - placed */
};

/* An empty queue for an event of that capacity. */
void mu_tally_init(struct mu_tally *t, uint32_t capacity);

/*
 * Makes group's people in the queue number going, as its rsvp record that
 * just arrived says: more join the end, fewer leave from the group's end.
 * A queue of MU_TALLY_MAX runs that needs one more is first compacted: the
 * runs wholly within capacity become one run per group, in order of each
 * group's first run (nobody's place changes). If it is still full, the new
 * people join the group's last run where it stands; a group with no run in
 * a full queue gets MU_EFULL and the queue is unchanged. 0 on success.
 */
int mu_tally_set(struct mu_tally *t, const uint8_t group[MU_KEY_BYTES], uint32_t going);

/* The share of group (all zero for a group not in the queue). */
void mu_tally_share(const struct mu_tally *t, const uint8_t group[MU_KEY_BYTES],
                    struct mu_tally_share *out);

/* Total people in the queue, and of them those with places. */
uint64_t mu_tally_total(const struct mu_tally *t, uint64_t *placed);

/*
 * The queue a tally record (kind tally, parsed) describes, and back: fills
 * the record's capacity, groups and counts (its event, d and header are the
 * caller's). mu_tally_from_rec returns MU_ERECORD (with why) when the record
 * is not a tally.
 */
int mu_tally_from_rec(struct mu_tally *t, const struct mu_record *rec,
                      struct mu_why *why);
void mu_tally_to_rec(const struct mu_tally *t, struct mu_tally_rec *out);

#endif
