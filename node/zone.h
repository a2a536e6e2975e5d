/*
 * zone.h - an IANA zone's rules for protocol/recur.c's expansion, read
 * through the C library (setenv("TZ"), tzset(), localtime_r()).
 *
 * mu_node_zone_open() makes the zone the process's local time until
 * mu_node_zone_close() puts TZ back as it was: the conversions in between
 * read it without switching again. That touches the environment, so use it
 * on one thread (the loop's, or the command line's), and close it before
 * anything else formats local times.
 *
 * Ownership: the struct is the caller's; open copies what it needs.
 */
#ifndef MU_NODE_ZONE_H
#define MU_NODE_ZONE_H

#include <stdbool.h>

#include "../protocol/recur.h"

/* The TZ a switch replaced, to put back. */
struct mu_node_tz {
	char *saved; /* malloc()ed copy of TZ before the switch, or NULL if unset */
	bool active; /* TZ was switched and must be put back */
};

struct mu_node_zone {
	struct mu_node_tz tz;
	struct mu_recur_zone rules;
};

/* Where the zone files are: $TZDIR, else /usr/share/zoneinfo. */
const char *mu_node_zone_dir(void);

/*
 * Makes the C library's local time that of zone (an IANA name, checked by
 * the caller; NULL: UTC) until mu_node_tz_pop(). The zone is given by its
 * file's path, so that glibc never reads a name as a POSIX rule. Returns 0,
 * or MU_ENOMEM (nothing switched).
 */
int mu_node_tz_push(struct mu_node_tz *s, const char *zone);

/* Puts TZ back as it was before the push. Safe after any push. */
void mu_node_tz_pop(struct mu_node_tz *s);

/*
 * Switches to the event's zone: ev->tz, or UTC when it has none or is all
 * day. A zone not installed here is read as UTC and MU_ENOTFOUND returned
 * (the rules are then UTC's); else 0. MU_ENOMEM when memory runs out.
 */
int mu_node_zone_open(struct mu_node_zone *z, const struct mu_event *ev);

/* The rules for mu_recur_expand(), or NULL for UTC. */
const struct mu_recur_zone *mu_node_zone_rules(const struct mu_node_zone *z);

/* Puts TZ back. Safe to call once after any open. */
void mu_node_zone_close(struct mu_node_zone *z);

/*
 * mu_recur_expand() of ev in its own zone: open, expand, close. fn must
 * not format local times (TZ is the event's while it runs).
 */
int mu_node_zone_expand(const struct mu_event *ev, int64_t from, int64_t to,
                        mu_recur_fn fn, void *ctx);

#endif
