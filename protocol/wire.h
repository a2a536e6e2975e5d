/*
 * wire.h - the sync messages that travel inside session frames
 * (docs/PROTOCOL.md, "Sync"). Each message is one canonical msgpack array
 * whose first element names its type:
 *
 *   ["hello", {"agent": str, "digest": bin32, "scope": [bin32, ...],
 *              "time": uint}]  ("digest", "time" optional; "scope" optional
 *                              when "digest" is there)
 *   ["rehello"]                (send your hello again with "scope")
 *   ["neg-open", bin]          ["neg", bin]
 *   ["want", req: uint, [bin32, ...]]
 *   ["recs", req: uint, [bin, ...]]
 *   ["ack", req: uint]
 *   ["announce", [bin32, ...]]
 *
 * Pure: bytes in, bytes out. Encoders append to a mu_buf; the decoder reads
 * with the canonical reader (msgpack_read.h), which checks every declared
 * count and length against the bytes left before anything is read for it,
 * and then against the limits below, so a small message can never make a
 * receiver walk or allocate much.
 *
 * Ownership: a decoded struct mu_wire_msg borrows from the message bytes,
 * which must outlive it; decoding never allocates.
 */
#ifndef MU_WIRE_H
#define MU_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "scope.h"

#define MU_WIRE_AGENT_MAX 64           /* bytes of the hello's agent string */
#define MU_WIRE_SCOPE_MAX MU_SCOPE_MAX /* keys in a hello's scope: 1024 */
#define MU_WIRE_IDS_MAX   1024         /* ids in one want */
#define MU_WIRE_RECS_MAX  64           /* records in one recs */
#define MU_WIRE_NEG_MAX   60000        /* bytes of one negentropy message */

/* A key or id in a decoded list is a canonical bin 32: c4 20 and 32 bytes,
 * so the list is a run of entries of this size. */
#define MU_WIRE_KEY_STRIDE 34

#define MU_WIRE_DIGEST_BYTES 32 /* a scope's digest (mu_wire_scope_digest) */

/* Upper bounds on what a recs message adds to its records, for filling a
 * frame: the message's own headers, and each record's bin header. */
#define MU_WIRE_RECS_HEAD_MAX 18 /* array, "recs", uint64 req, array16 */
#define MU_WIRE_BIN_HEAD_MAX  5  /* bin32 */

enum mu_wire_type {
	MU_WIRE_UNKNOWN = 0, /* a type this version does not know: ignore it */
	MU_WIRE_HELLO,
	MU_WIRE_NEG_OPEN,
	MU_WIRE_NEG,
	MU_WIRE_WANT,
	MU_WIRE_RECS,
	MU_WIRE_ACK,
	MU_WIRE_ANNOUNCE,
	MU_WIRE_INVITE,  /* a joiner redeems an invite code (PROTOCOL.md 10.8) */
	MU_WIRE_INVITED, /* the inviter's answer */
	MU_WIRE_REHELLO, /* asks for a hello with the full scope (10.1) */
};

#define MU_WIRE_INVITE_NAME_MAX 64 /* bytes of the name in an invite */
#define MU_WIRE_VERDICT_MAX     16 /* bytes of an invited's verdict */

/* A list of 32-byte keys or ids, borrowed from the message. */
struct mu_wire_keys {
	const uint8_t *at; /* first entry's bin header */
	size_t n;
};

/* The 32 bytes of entry i (i < keys->n). */
static inline const uint8_t *
mu_wire_key(const struct mu_wire_keys *keys, size_t i)
{
	return keys->at + i * MU_WIRE_KEY_STRIDE + 2;
}

struct mu_wire_blob {
	const uint8_t *ptr;
	size_t len;
};

struct mu_wire_msg {
	enum mu_wire_type type;
	uint64_t req; /* want, recs, ack */
	/* hello */
	const char *agent; /* UTF-8 without control characters, not NUL-ended */
	size_t agent_len;
	struct mu_wire_keys keys; /* hello: the scope (sorted, unique); want,
	                             announce: ids */
	bool has_scope;           /* hello: "scope" was there (else keys.n 0) */
	const uint8_t *digest;    /* hello: "digest", 32 bytes, or NULL; with
	                             a scope, the decoder checked it is its */
	bool has_time;            /* hello: the sender's clock was given */
	uint64_t time;            /* hello: the sender's clock (Unix seconds) */
	struct mu_wire_blob neg;  /* neg-open, neg: the negentropy message */
	const uint8_t *pub;       /* invite: the code's public key, 32 bytes */
	const uint8_t *proof;     /* invite: the signature, 64 bytes */
	const char *text;         /* invite: the name; invited: the verdict; */
	size_t text_len;          /* UTF-8 without control characters */
	size_t nrecs;             /* recs: the records, each as signed */
	struct mu_wire_blob recs[MU_WIRE_RECS_MAX];
};

/*
 * Decodes one message of len bytes. Returns 0 and fills *m, whose type is
 * MU_WIRE_UNKNOWN for an array that starts with a type name this version
 * does not know (its other elements are checked to be canonical and nested
 * at most 8 deep, and not read); or MU_EFORMAT, with the reason in why, for
 * anything malformed: not canonical msgpack, a wrong type or element count,
 * a list over its limit, bytes after the message, a scope out of order.
 * Unknown keys in the hello map are skipped the same way, so later versions
 * can add fields there.
 */
int mu_wire_decode(struct mu_wire_msg *m, const uint8_t *msg, size_t len,
                   struct mu_why *why);

/*
 * The len bytes m was decoded from were copied from `from` to `to`: points
 * m at the copy, so that a message kept for later is not decoded again.
 */
void mu_wire_msg_move(struct mu_wire_msg *m, const uint8_t *from, size_t len,
                      const uint8_t *to);

/*
 * Encoders: each appends one message to out and returns 0, MU_ENOMEM (out
 * is then as before), or MU_EINVAL when the message would break a limit
 * above (the decoder would refuse it).
 */
int mu_wire_encode_hello(struct mu_buf *out, const char *agent, size_t agent_len,
                         const struct mu_scope *scope);

/* A hello that also tells the sender's clock, now (Unix seconds), so that
 * the receiver can tell how far its own clock is off. */
int mu_wire_encode_hello_time(struct mu_buf *out, const char *agent, size_t agent_len,
                              const struct mu_scope *scope, uint64_t now);

/* The digest of a scope (docs/PROTOCOL.md 10.1): BLAKE2b-256, unkeyed,
 * of the 15 ASCII bytes "muster scope v1" followed by its keys in
 * ascending order, 32 bytes each. */
void mu_wire_scope_digest(const struct mu_scope *scope,
                          uint8_t out[MU_WIRE_DIGEST_BYTES]);

/*
 * The hello of a node that reads digests: "agent", the scope's "digest",
 * the scope itself when full, and "time" = now. A hello without the
 * scope goes only to a peer that has shown it reads digests (10.2).
 */
int mu_wire_encode_hello_digest(struct mu_buf *out, const char *agent, size_t agent_len,
                                const struct mu_scope *scope, bool full, uint64_t now);

/* ["rehello"] */
int mu_wire_encode_rehello(struct mu_buf *out);

/* ["invite", pub, proof, name]: name is name_len bytes (at most
 * MU_WIRE_INVITE_NAME_MAX, a line of UTF-8). */
int mu_wire_encode_invite(struct mu_buf *out, const uint8_t pub[32],
                          const uint8_t proof[64], const char *name, size_t name_len);

/* ["invited", verdict]: verdict at most MU_WIRE_VERDICT_MAX bytes. */
int mu_wire_encode_invited(struct mu_buf *out, const char *verdict);

/* neg-open when open, else neg. */
int mu_wire_encode_neg(struct mu_buf *out, bool open, const uint8_t *neg, size_t len);

int mu_wire_encode_want(struct mu_buf *out, uint64_t req, const uint8_t (*ids)[32],
                        size_t n);

/* Records are written as given; the encoder does not parse them. */
int mu_wire_encode_recs(struct mu_buf *out, uint64_t req,
                        const struct mu_wire_blob *recs, size_t n);

int mu_wire_encode_ack(struct mu_buf *out, uint64_t req);

int mu_wire_encode_announce(struct mu_buf *out, const uint8_t (*ids)[32], size_t n);

/* The name of a type as on the wire ("neg-open"), "unknown" for the rest. */
const char *mu_wire_type_name(enum mu_wire_type t);

#endif
