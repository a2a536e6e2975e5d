/*
 * list_out.h - the output of a list command (`event list`, `cause list`),
 * written while the store is walked.
 *
 * The records are printed from inside the store's visitor, as it hands them
 * on, so that none is copied out of the store and parsed again. A visitor
 * must not start another read (context.c says why), so the names of the
 * groups are read before the walk: one walk of the stored profiles.
 *
 * Ownership: the struct is the caller's; mu_cli_lister_begin() fills it and
 * mu_cli_lister_end() releases what it holds, on every path.
 */
#ifndef MU_CLI_LIST_OUT_H
#define MU_CLI_LIST_OUT_H

#include <jansson.h>

#include "../storage/local.h"
#include "cli.h"

/* Prints one record as a paragraph of text, with its group's display name,
 * and its times in zone. */
typedef void (*mu_cli_print_fn)(FILE *f, const struct mu_record *rec,
                                const char *group_name, const char *zone);

struct mu_cli_lister {
	mu_cli_print_fn print;            /* text; NULL for --json */
	json_t *json;                     /* the array that --json prints at the end */
	struct mu_cli_lister_name *names; /* sorted by key */
	size_t nnames, cap_names;
	size_t n;         /* the records output so far */
	const char *zone; /* the zone times are shown in (NULL: UTC); borrowed */
	/* The groups outside the scope (storage/local.h): their records are
	 * not current, so left out (counted in hidden), or with all (set
	 * after begin, --all) output marked "not updated since". */
	struct mu_outside outside;
	bool all;
	size_t hidden;
};

/*
 * Starts a list: with json, an empty JSON array; else text printed by print,
 * for which the names of every group with a stored profile are read now.
 * cli's store must be open. Returns 0, or prints why and returns the error.
 */
int mu_cli_lister_begin(struct mu_cli_lister *l, struct mu_cli *cli, bool json,
                        mu_cli_print_fn print);

/* A visitor for mu_store_*(): outputs rec, a paragraph of text (a blank line
 * between two) or an element of the JSON array. Returns 0 or MU_ENOMEM. */
int mu_cli_lister_add(void *ctx, const struct mu_record *rec);

/*
 * A record of a group outside the scope since `since`: "not_updated_since"
 * set on its JSON v (0; on MU_ENOMEM v is freed), or the line under it in
 * a list or `show` (name: the group's).
 */
int mu_cli_mark_stale(json_t *v, int64_t since);
void mu_cli_print_stale(int64_t since, const char *name);

/* Ends the list: prints the JSON array when json (unless err, the walk's
 * failure), else how many records --all would add, and frees what l holds. Returns 0,
 * or prints why and returns the error. */
int mu_cli_lister_end(struct mu_cli_lister *l, int err);

#endif
