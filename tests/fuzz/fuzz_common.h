/*
 * fuzz_common.h - what the fuzz targets and the seed generator share: fixed
 * keys, fixed records, fixed negentropy item sets and an in-memory
 * handshake. Everything is derived from constants, so a seed that
 * gen_corpus writes meets exactly the same keys and items in a target, run
 * after run.
 *
 * Ownership: records from fz_records() are malloc()ed and freed with
 * fz_records_free(); sessions from fz_sess_new()/fz_handshake() belong to
 * the caller (mu_sess_free()).
 */
#ifndef MU_FUZZ_COMMON_H
#define MU_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/negentropy.h"
#include "protocol/record.h"
#include "protocol/session.h"

#define FZ_NETWORK "fuzz"
#define FZ_T0      1767225600LL    /* created_at of the fixed records */
#define FZ_NOW     (FZ_T0 + 86400) /* "now" of the targets */

/* libFuzzer's entry points, which each target defines (replay.c calls them
 * without libFuzzer). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sodium_init(), or abort. */
void fz_init(void);

/* Aborts with "invariant broken: what" unless ok, so that libFuzzer reports
 * the input that broke it. */
void fz_check(bool ok, const char *what);

/* The parties: the node under test, the peer it talks to, and a group
 * outside both scopes. */
enum fz_who { FZ_NODE = 0, FZ_PEER = 1, FZ_STRANGER = 2 };

struct fz_key {
	uint8_t seed[32];
	uint8_t pk[MU_KEY_BYTES];
	uint8_t sk[MU_SECRET_BYTES];
};

/* The group key of a party. */
void fz_key(struct fz_key *k, enum fz_who who);

/* A party's handshake identity: its Noise static key and group proof. */
void fz_identity(struct mu_sess_identity *id, enum fz_who who);

/* A session with fixed keys (the ephemeral one too); an initiator's first
 * message is appended to send. expect, when not NULL, must be proven. */
int fz_sess_new(struct mu_sess **s, enum fz_who who, bool initiator,
                const uint8_t *expect, struct mu_buf *send);

/*
 * A complete handshake in memory between the node (initiator when
 * node_initiates) and the peer. The framed handshake messages are appended
 * to sent[0..2] in order (NULL: not kept). 0, or the error of the step that
 * failed.
 */
int fz_handshake(bool node_initiates, struct mu_sess **node, struct mu_sess **peer,
                 struct mu_buf sent[3]);

/* A fixed set of valid records of every kind, signed by the node's, the
 * peer's and the stranger's groups; alliances make node and peer allies. */
struct fz_records {
	uint8_t *bytes[32];
	size_t len[32];
	size_t n;
};
int fz_records(struct fz_records *r);
void fz_records_free(struct fz_records *r);

/* Fixed negentropy item sets: set 0 and set 1 share most items. */
#define FZ_NEG_ITEMS 300
size_t fz_neg_items(struct mu_neg_item *items, int set);

/* Takes the next length-prefixed piece of a fuzz input: 2 bytes big-endian
 * length, then that many bytes (fewer at the end). false when none left. */
bool fz_next(const uint8_t **data, size_t *size, const uint8_t **piece, size_t *len);

/* Appends a piece in the form fz_next() reads. */
int fz_put(struct mu_buf *out, const uint8_t *piece, size_t len);

#endif
