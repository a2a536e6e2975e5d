/*
 * signers.h - who signed a record, by the name of their organizer record:
 * what the web page and `--json` show as "edited by".
 *
 * Read before a walk of the store (a visitor must not start another read),
 * then looked up while records are printed. Pure lookups after the load.
 *
 * Ownership: the struct is the caller's; mu_node_signers_free() releases
 * what mu_node_signers_load() filled, on every path.
 */
#ifndef MU_NODE_SIGNERS_H
#define MU_NODE_SIGNERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../protocol/record.h"
#include "../storage/store.h"

/* The longest organizer name (a line of at most 100 bytes) and its NUL. */
#define MU_NODE_SIGNER_NAME_SIZE 104

struct mu_node_signer {
	uint8_t group[MU_KEY_BYTES];
	uint8_t key[MU_KEY_BYTES];
	char name[MU_NODE_SIGNER_NAME_SIZE];
};

struct mu_node_signers {
	struct mu_node_signer *v;
	size_t n, cap;
};

/* Reads the current organizer records of every group. 0, or an MU_E* code
 * (the struct is then empty). */
int mu_node_signers_load(struct mu_node_signers *s, struct mu_store *st);

void mu_node_signers_free(struct mu_node_signers *s);

/*
 * The name of the organizer who signed rec, or NULL when the group's root
 * key signed it or no organizer record of that key is stored.
 */
const char *mu_node_signer_name(const struct mu_node_signers *s,
                                const struct mu_record *rec);

/* Sets "edited_by" in o, the JSON of rec (mu_node_json_record()) when rec
 * is an event: the organizer's name, or null. Returns o (NULL stays NULL;
 * a failure frees o and gives NULL). */
json_t *mu_node_json_edited_by(json_t *o, const struct mu_node_signers *s,
                               const struct mu_record *rec);

#endif
