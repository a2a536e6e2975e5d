/*
 * scope.h - a set of group keys: the groups a node wants (its scope), and
 * the intersection two nodes reconcile over.
 *
 * Ownership: plain memory, allocated by the caller (it is large: use
 * mu_scope_new()/free()). Keys are kept sorted so lookups are binary searches.
 */
#ifndef MU_SCOPE_H
#define MU_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MU_SCOPE_MAX 1024 /* groups in one scope; docs/PROTOCOL.md, "Scope" */

struct mu_scope {
	size_t n;
	uint8_t keys[MU_SCOPE_MAX][32];
};

/* A new empty scope, or NULL when out of memory. */
struct mu_scope *mu_scope_new(void);
void mu_scope_free(struct mu_scope *s);

void mu_scope_clear(struct mu_scope *s);

/* Adds key (a no-op when present). 0, or MU_EFULL past MU_SCOPE_MAX. */
int mu_scope_add(struct mu_scope *s, const uint8_t key[32]);

bool mu_scope_has(const struct mu_scope *s, const uint8_t key[32]);

/* out = a ∩ b (out may not alias a or b). */
void mu_scope_intersect(struct mu_scope *out, const struct mu_scope *a,
                        const struct mu_scope *b);

bool mu_scope_equal(const struct mu_scope *a, const struct mu_scope *b);

/*
 * The index of key among n elements of stride bytes at base that each begin
 * with a 32-byte key and are sorted by it, or where it would go (*found
 * false). For any table of groups kept in key order.
 */
size_t mu_key_position(const void *base, size_t n, size_t stride, const uint8_t key[32],
                       bool *found);

/*
 * How each group of a scope was reached (docs/PROTOCOL.md 10.3), for
 * labels: "ally of Harbour" for a group no one here vetted. Sorted by key.
 */
struct mu_scope_path {
	uint8_t key[32];
	uint8_t via[32]; /* step >= 2: the group of the step before that named it */
	int step;        /* 0 us or followed, 1 a mutual ally, n >= 2 as in 10.3 */
	bool followed;   /* step 0 by a follow (an ally's step 1 wins over it) */
};

struct mu_scope_paths {
	size_t n;
	struct mu_scope_path v[MU_SCOPE_MAX];
};

/* Records how key was reached, unless it was reached already (a followed
 * group that is also a mutual ally becomes step 1). 0, or MU_EFULL. */
int mu_scope_paths_set(struct mu_scope_paths *p, const uint8_t key[32],
                       const uint8_t via[32], int step, bool followed);

/* How key was reached, or NULL when it is not in the scope. */
const struct mu_scope_path *mu_scope_path_of(const struct mu_scope_paths *p,
                                             const uint8_t key[32]);

/*
 * Which of two groups ended the alliance between them (docs/PROTOCOL.md,
 * "alliance"), from each one's current alliance record naming the other:
 * its status (enum mu_alliance_status, 0 when it has none) and created_at.
 * A record with status ended ends the alliance unless the other group
 * proposed it again later; when both ended it, the earlier one did.
 * Returns MU_ENDED_BY_A, MU_ENDED_BY_B or MU_ENDED_NOT.
 */
enum mu_ended_by { MU_ENDED_NOT, MU_ENDED_BY_A, MU_ENDED_BY_B };

enum mu_ended_by mu_alliance_ender(int a_status, int64_t a_at, int b_status,
                                   int64_t b_at);

#endif
