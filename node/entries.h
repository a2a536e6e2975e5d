/*
 * entries.h - the node side of the personal entries (storage/entries.h):
 * the places its own people have, from the host's tally; the group's
 * counts published as records, debounced; and the deletion of entries
 * past their retention. On the loop thread, like the HTTP server that
 * calls it.
 */
#ifndef MU_NODE_ENTRIES_H
#define MU_NODE_ENTRIES_H

#include <stdbool.h>
#include <stdint.h>

#include "../protocol/record.h"
#include "../storage/entries.h"

struct mu_node;

enum mu_place_state {
	MU_PLACE_NOT_GOING = 0,
	MU_PLACE_CONFIRMED,  /* a place: no capacity, or within our share */
	MU_PLACE_WAITLISTED, /* past our share of the host's tally */
	MU_PLACE_PENDING,    /* the host's tally does not count us yet */
};

struct mu_node_place {
	enum mu_place_state state;
};

/* The time after which a record takes no more entries and its entries'
 * retention starts: an event's end of its last occurrence; a petition's
 * deadline, else (open) never, else (closed) when it was closed; a
 * pledge's deadline, or the end of its action when later. */
int64_t mu_node_entry_end(const struct mu_record *rec);

/*
 * Where RSVP e stands. Our people get the places of our group's share in
 * the host's tally (protocol/tally.h) in order of position; a party that
 * does not fit waits, and so does everyone after it. has_capacity: the
 * event's. 0 or an error reading the store.
 */
int mu_node_place_of(struct mu_node *node, const struct mu_entry *e, bool has_capacity,
                     struct mu_node_place *pl);

/* An entry of target was added, changed or removed: its count is
 * published, at once when none was in the last limits.acts_debounce_ms,
 * else when that time is up. */
void mu_node_entries_changed(struct mu_node *node, const struct mu_addr *target);

/* Starts the debounce timer and the retention sweep (one sweep at once);
 * stops them. */
int mu_node_entries_start(struct mu_node *node);
void mu_node_entries_stop(struct mu_node *node);

/*
 * Publishes our group's current count record for target now (what the
 * debounce calls), from the entries: rsvp for an event, signatures (with
 * the names their signers chose to show) for a petition, pledged for a
 * pledge (never lowered once it triggered, none after its deadline).
 * No contact, comment, hidden name or receipt goes into any. 0, or an
 * error (logged by the caller).
 */
int mu_node_publish_count(struct mu_node *node, const struct mu_addr *target,
                          struct mu_why *why);

#endif
