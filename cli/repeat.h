/*
 * repeat.h - the command line's side of recurring events: the --repeat
 * options of `event add | edit`, `event cancel --on`, `event edit --from`,
 * and the occurrences `event list` prints (docs/PROTOCOL.md, Recurrence).
 *
 * Ownership: a record filled here borrows its dates and days from the
 * struct mu_cli_repeat_buf the caller holds, which must outlive it.
 */
#ifndef MU_CLI_REPEAT_H
#define MU_CLI_REPEAT_H

#include <stdio.h>

#include <jansson.h>

#include "../protocol/recur.h"

struct mu_cli_repeat_opts {
	const char *repeat, *every, *on, *until, *count, *skip;
};

#define MU_CLI_REPEAT_OPTS(o)                                                          \
	{"repeat", MU_OPT_VALUE, &(o).repeat}, {"every", MU_OPT_VALUE, &(o).every},    \
	    {"on", MU_OPT_VALUE, &(o).on}, {"until", MU_OPT_VALUE, &(o).until},        \
	    {"count", MU_OPT_VALUE, &(o).count},                                       \
	{                                                                              \
		"skip", MU_OPT_VALUE, &(o).skip                                        \
	}

/* Dates a record borrows: skip, then cancelled, then until. */
struct mu_cli_repeat_buf {
	char skip[MU_REPEAT_DATES_MAX][MU_RECUR_DATE_SIZE];
	char cancelled[MU_REPEAT_DATES_MAX][MU_RECUR_DATE_SIZE];
	char until[MU_RECUR_DATE_SIZE];
};

/* Whether any --repeat option was given. */
bool mu_cli_repeat_any(const struct mu_cli_repeat_opts *o);

/*
 * Applies the options over ev->repeat (add: over none; edit: over the
 * current rule; --repeat "" removes it). Each date in --skip must be one
 * the rule gives. Returns 0, or prints why and returns MU_EINVAL.
 */
int mu_cli_repeat_apply(struct mu_event *ev, const struct mu_cli_repeat_opts *o,
                        struct mu_cli_repeat_buf *b);

/*
 * Marks the occurrence on date text (YYYY-MM-DD) of series ev cancelled.
 * Returns 0, 1 when it already is (nothing changed), or prints why and
 * returns MU_EINVAL.
 */
int mu_cli_repeat_cancel(struct mu_event *ev, const char *text,
                         struct mu_cli_repeat_buf *b);

/*
 * Splits series old at date text: *old ends the day before (until), and
 * *next, a copy with the d the caller gave it, starts at the first
 * occurrence on or after that date, keeping the rest of the series (its
 * skipped and cancelled dates, its until or the count left). Returns 0, or
 * prints why and returns MU_EINVAL.
 */
int mu_cli_repeat_split(struct mu_event *old, struct mu_event *next, const char *text,
                        struct mu_cli_repeat_buf *old_b,
                        struct mu_cli_repeat_buf *next_b);

/* How many occurrences of ev overlap [from, to) (1 for a single event). */
size_t mu_cli_repeat_count_in(const struct mu_event *ev, int64_t from, int64_t to);

/* Adds "occurrences" (as /api/events has them) to the JSON record obj of
 * series ev. Returns 0 or MU_ENOMEM. */
int mu_cli_repeat_json(json_t *obj, const struct mu_event *ev, int64_t from,
                       int64_t to);

/* Prints the rule and each occurrence that overlaps [from, to), one line
 * each in zone view (NULL: UTC), as the list shows its times, indented under
 * an event's paragraph. Nothing for a single event. */
void mu_cli_repeat_print(FILE *f, const struct mu_event *ev, int64_t from, int64_t to,
                         const char *view);

#endif
