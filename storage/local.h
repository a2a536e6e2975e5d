/*
 * local.h - the node's own state, kept in the store's LMDB environment but
 * never synced: the log of stored records, the peers table, the followed
 * groups, and the scope computed from them and from the alliances.
 *
 * Sub-databases (storage/README.md has the layouts):
 *   bodies   seq (8, big-endian) -> record   the log: every stored record
 *                                            by the number it was stored at
 *   peers    "HOST:PORT" -> msgpack map      peers the user added or the
 *                                            daemon learnt, with statistics
 *   follows  group key -> ""                 groups followed by hand
 *   outside  group key -> since (8)          held groups outside the scope
 *   blocks   group key -> blocked_at (8)     groups blocked by hand
 *   meta     "tz" -> zone name               the node's default time zone
 *   invites  public key -> invite            invites this node made
 *                                            (local_invites.c)
 *   hellos   peer group key -> entry         what peers' hellos said,
 *                                            for hellos by digest
 *                                            (local_hellos.c)
 *
 * Ownership as in store.h: values passed to callbacks are valid during the
 * call only.
 */
#ifndef MU_STORE_LOCAL_H
#define MU_STORE_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/negentropy.h"
#include "../protocol/scope.h"
#include "store.h"

/* --- the log of stored records ------------------------------------------ */

/*
 * mu_store_put() gives every record it stores as MU_PUT_NEW the next
 * sequence number (from 1, never given twice), in the same transaction. A
 * daemon reads the log to push records that another process (the CLI)
 * stored.
 */

/* The last sequence number given (0 when none yet). */
int mu_store_log_last(struct mu_store *st, uint64_t *seq);

typedef int (*mu_store_log_fn)(void *ctx, uint64_t seq, const struct mu_record *rec);

/* Calls fn for the records stored after seq, in order, at most max of
 * them; records dropped since (superseded or deleted) are not in the log. */
int mu_store_log_since(struct mu_store *st, uint64_t seq, size_t max,
                       mu_store_log_fn fn, void *ctx);

/* Whether a commit through st has added records to the log since it was
 * opened: a command that did wakes the daemon (mu_home_wake). */
bool mu_store_logged(const struct mu_store *st);

/* --- peers ------------------------------------------------------------------- */

#define MU_PEER_ADDR_MAX    262 /* "[IPv6]:port" or "hostname:port", NUL included */
#define MU_PEER_REASON_SIZE 200 /* mu_peer.reason, NUL included */

enum mu_peer_source {
	MU_PEER_MANUAL = 1, /* muster peer add */
	MU_PEER_LEARNT,     /* from an ally's node record */
};

struct mu_peer {
	char addr[MU_PEER_ADDR_MAX];
	bool has_key;
	uint8_t key[MU_KEY_BYTES]; /* the group it must prove */
	enum mu_peer_source source;
	int64_t added_at;
	int64_t last_seen; /* last completed handshake, 0: never */
	int64_t last_sync; /* last completed reconciliation, 0: never */
	uint64_t sent;     /* records sent to it */
	uint64_t received; /* records received from it */
	char state[16];    /* "connected", "backoff", "idle", "refused"... */
	/* Why the last dial failed (a wrong key, another network, an HTTP
	 * port...), as the daemon said it; "" once a dial succeeds. */
	char reason[MU_PEER_REASON_SIZE];
};

/* Checks HOST:PORT (port 1-65535, host non-empty, IPv6 in brackets). */
int mu_peer_addr_check(const char *addr, struct mu_why *why);

/* Adds or updates (key, source) a peer. */
int mu_store_peer_add(struct mu_store *st, const char *addr, const uint8_t *key,
                      enum mu_peer_source source, int64_t now, struct mu_why *why);

/* MU_ENOTFOUND when no such peer. */
int mu_store_peer_remove(struct mu_store *st, const char *addr);

/* Stores a peer's statistics, state and failure reason as the daemon sees them; a peer
 * removed meanwhile stays removed (MU_ENOTFOUND). */
int mu_store_peer_update(struct mu_store *st, const struct mu_peer *p);

typedef int (*mu_store_peer_fn)(void *ctx, const struct mu_peer *p);

int mu_store_peers(struct mu_store *st, mu_store_peer_fn fn, void *ctx);

/* --- what peers' hellos said (local_hellos.c) -------------------------------- */

/* Peers remembered; writing one more forgets the one written longest ago. */
#define MU_HELLO_PEERS_MAX 256

/* What this node knows of the hellos of the peers that proved one group
 * key (docs/PROTOCOL.md 10.2). */
struct mu_hello_peer {
	bool digests;       /* its last hello carried a digest: it reads them */
	bool has_sent;      /* sent is the digest of the scope we last sent it */
	uint8_t sent[32];   /* in full */
	bool has_scope;     /* its scope, as its last full hello with a digest */
	uint8_t digest[32]; /* said, and that scope's digest */
};

/* key's entry into *hp, and its scope into scope (when not NULL) when
 * hp->has_scope. MU_ENOTFOUND when there is none (zeroes *hp),
 * MU_ECORRUPT when it is damaged. */
int mu_store_hello_get(struct mu_store *st, const uint8_t key[MU_KEY_BYTES],
                       struct mu_hello_peer *hp, struct mu_scope *scope);

/* Writes key's entry; scope (read only when hp->has_scope) is the keys
 * whose digest is hp->digest, or NULL to keep the scope stored when its
 * digest is hp->digest (else none is kept). MU_EINVAL when the store is
 * read-only. */
int mu_store_hello_put(struct mu_store *st, const uint8_t key[MU_KEY_BYTES],
                       const struct mu_hello_peer *hp, const struct mu_scope *scope,
                       int64_t now);

/* --- follows ----------------------------------------------------------------- */

/* Follows (on) or unfollows a group. Unfollowing one not followed is
 * MU_ENOTFOUND. */
int mu_store_follow(struct mu_store *st, const uint8_t key[MU_KEY_BYTES], bool on);

typedef int (*mu_store_key_fn)(void *ctx, const uint8_t key[MU_KEY_BYTES]);

int mu_store_follows(struct mu_store *st, mu_store_key_fn fn, void *ctx);

/* --- settings -------------------------------------------------------------- */

/* The node's default time zone: an IANA name such as "Europe/Berlin", at
 * most 64 bytes (rule tz), and its NUL. */
#define MU_STORE_ZONE_SIZE 65

/* Reads the node's zone into out: 0, MU_ENOTFOUND when none was set (out is
 * then ""), MU_ECORRUPT when the stored value is not a name. The store only
 * keeps the name: whether the zone exists is the caller's to check. */
int mu_store_zone_get(struct mu_store *st, char out[MU_STORE_ZONE_SIZE]);

/* Sets it; MU_EINVAL for an empty name or one of 65 bytes or more. */
int mu_store_zone_set(struct mu_store *st, const char *zone);

/* --- invites (local_invites.c) ------------------------------------------- */

/*
 * An invite this node made (`muster invite`): only the public key of the
 * code's secret, so that a copy of the store cannot make a code that the
 * node accepts (docs/SECURITY.md).
 */
#define MU_INVITE_TERMS_MAX 1000 /* bytes of --terms */
#define MU_INVITE_NAME_MAX  64   /* bytes of the name a joiner gave */

struct mu_invite_row {
	uint8_t pub[MU_KEY_BYTES];
	int64_t created_at, expires; /* Unix seconds */
	uint32_t uses;               /* how many joins it allows */
	uint32_t left;               /* of those, not used yet */
	bool ally;                   /* accept the alliance at once */
	bool revoked;
	bool has_joiner;                   /* used at least once: */
	uint8_t joiner[MU_KEY_BYTES];      /* the last group that joined */
	char name[MU_INVITE_NAME_MAX + 1]; /* and the name it gave */
	char terms[MU_INVITE_TERMS_MAX + 1];
};

/* Why an invite is refused, or MU_INVITE_OK. */
enum mu_invite_verdict {
	MU_INVITE_OK = 0,
	MU_INVITE_UNKNOWN, /* no invite has that key */
	MU_INVITE_EXPIRED,
	MU_INVITE_USED, /* no use left */
	MU_INVITE_REVOKED,
};

/* The word the wire and the messages use for v ("ok", "expired"...). */
const char *mu_invite_verdict_name(enum mu_invite_verdict v);

/* Stores a new invite. MU_EEXIST when its key is taken (never, with a
 * random secret). */
int mu_store_invite_add(struct mu_store *st, const struct mu_invite_row *row,
                        struct mu_why *why);

typedef int (*mu_store_invite_fn)(void *ctx, const struct mu_invite_row *row);

/* Every invite, in key order. */
int mu_store_invites(struct mu_store *st, mu_store_invite_fn fn, void *ctx);

/*
 * Revokes the invites whose key, in hex, starts with id (at least 8 hex
 * digits, what `muster invite list` shows). MU_ENOTFOUND when none does,
 * MU_EINVAL when several do (*row gets the first) or id is too short;
 * *row (may be NULL) gets the invite revoked.
 */
int mu_store_invite_revoke(struct mu_store *st, const char *id,
                           struct mu_invite_row *row, struct mu_why *why);

/*
 * Redeems the invite of pub at now for group joiner, which gave name (a
 * NUL-terminated line, cut to MU_INVITE_NAME_MAX bytes): in one write
 * transaction, checks that it exists, is not revoked, has not expired and
 * has a use left, and then takes one use and notes the joiner. *verdict
 * says which; *row gets the invite as stored after (when it exists).
 */
int mu_store_invite_redeem(struct mu_store *st, const uint8_t pub[MU_KEY_BYTES],
                           int64_t now, const uint8_t joiner[MU_KEY_BYTES],
                           const char *name, enum mu_invite_verdict *verdict,
                           struct mu_invite_row *row, struct mu_why *why);
/* The key of the pages' form and member tokens (protocol/formtoken.h), 32
 * bytes in meta "form_key": read, made on first use, or (renew) replaced,
 * which makes every member link and open form void. */
int mu_store_form_key(struct mu_store *st, uint8_t key[32], bool renew);

/* Whether taking part on the pages needs the member link (meta
 * "members_only"; absent: no). */
int mu_store_members_only(struct mu_store *st, bool *on);
int mu_store_members_only_set(struct mu_store *st, bool on);

/* --- scope ------------------------------------------------------------------- */

/*
 * The groups this node wants (docs/PROTOCOL.md, "Scope"): us, the groups we
 * follow, and our mutual allies (step 1); then, for each further step up to
 * hops, every group that a group of the previous step names in its current
 * alliance record with status proposed. hops 0 leaves out allies; hops 1
 * stops at the mutual allies. Stops silently at MU_SCOPE_MAX groups.
 */
int mu_store_scope(struct mu_store *st, const uint8_t us[MU_KEY_BYTES], int hops,
                   struct mu_scope *out);

/* The same, and (paths not NULL) how each group was reached, for labels
 * such as "ally of Harbour". */
int mu_store_scope_paths(struct mu_store *st, const uint8_t us[MU_KEY_BYTES], int hops,
                         struct mu_scope *out, struct mu_scope_paths *paths);

/*
 * The exceptions to the scope (docs/PROTOCOL.md 10.3), so that a proposal
 * reaches the group it names before any alliance makes the two groups each
 * other's scope: whether rec, a record of a group outside a scope, still
 * concerns the group key. It does when it is an alliance record naming key
 * in with; a delete, by its own group, of the alliance address whose d is
 * key; or the profile of a group that has a current alliance record naming
 * key, stored, or on its way when pending (may be NULL) says so for that
 * group. Returns 1, 0, or a negative error (reading the store).
 */
typedef bool (*mu_store_pending_fn)(void *ctx, const uint8_t group[MU_KEY_BYTES]);

int mu_store_scope_exception(struct mu_store *st, const struct mu_record *rec,
                             const uint8_t key[MU_KEY_BYTES],
                             mu_store_pending_fn pending, void *ctx);

/*
 * The negentropy items (created_at, id) of every stored record whose group is
 * in domain, sorted as mu_neg_new() wants, and (seqs not NULL) beside each
 * the sequence number it is stored at, for mu_store_read_raw(). *items and
 * *seqs are malloc()ed (NULL when n is 0); the caller frees them.
 */
int mu_store_neg_items(struct mu_store *st, const struct mu_scope *domain,
                       struct mu_neg_item **items, uint64_t **seqs, size_t *n);

/* --- negentropy over the fingerprint table (local_fp.c) ------------------- */

/*
 * The items of mu_store_neg_items() as a negentropy source
 * (protocol/negentropy.h) that reads the store's fingerprint table instead
 * of listing them: a range's sum, a place by bound or by rank cost a
 * descent of the table (hundreds of entries read), whatever the size of the
 * set. Reads happen between mu_store_fp_view_begin() (one read snapshot,
 * which also lists the records of stored groups outside domain) and
 * mu_store_fp_view_end(); a reconciliation begins one per message.
 */
struct mu_store_fp_view;

/* Records of groups outside the domain that a view takes off the table's
 * sums; with more, or with more such groups than a scope holds
 * (MU_SCOPE_MAX), mu_store_fp_view_begin() returns 1. */
#define MU_STORE_FP_OUTSIDE_MAX 4096

/* A view over the records of domain's groups (copied). 0 or MU_ENOMEM. */
int mu_store_fp_view_new(struct mu_store *st, const struct mu_scope *domain,
                         struct mu_store_fp_view **out);
void mu_store_fp_view_free(struct mu_store_fp_view *v);
/* 0; 1 when more than MU_STORE_FP_OUTSIDE_MAX records (or MU_SCOPE_MAX
 * groups) of other groups are stored (then list the items instead); or an
 * error. */
int mu_store_fp_view_begin(struct mu_store_fp_view *v);
void mu_store_fp_view_end(struct mu_store_fp_view *v);
/* Inside the function a walk of the source (each) calls: the sequence
 * number of the record it is at, for mu_store_read_raw(). */
uint64_t mu_store_fp_view_seq(const struct mu_store_fp_view *v);
/* The source reading v; valid while v lives, usable between begin and end.
 * A walk (each) from the rank at which the last one was stopped goes on
 * from where that one left the cursor, without a descent: a push lists a
 * range in slices, each costing its items only. */
void mu_store_fp_view_source(struct mu_store_fp_view *v, struct mu_neg_source *src);

/* --- groups outside the scope, and blocked groups (local_frozen.c) ------- */

/*
 * A group whose records this node holds but that is outside its scope (an
 * alliance ended, a follow dropped): its records are no longer brought up
 * to date, so they are shown as "not updated since" the time this node
 * first found it outside (since), relayed to no peer, and dropped after a
 * while unless the group is followed (mu_store_prune_outside).
 */
struct mu_outside_group {
	uint8_t key[MU_KEY_BYTES];
	int64_t since; /* Unix seconds */
};

/* The outside table read at one time, sorted by key. */
struct mu_outside {
	struct mu_outside_group *v; /* owned; NULL when n is 0 */
	size_t n, cap;
};

/* Reads the outside table into *out (zeroed first); the caller frees it
 * with mu_outside_free(), on every path. */
int mu_store_outside(struct mu_store *st, struct mu_outside *out);

/* A copy of src into *dst (zeroed first): 0 or MU_ENOMEM. */
int mu_outside_copy(struct mu_outside *dst, const struct mu_outside *src);

void mu_outside_free(struct mu_outside *o);

/* Whether key is outside (o may be NULL: none is); *since (may be NULL)
 * gets when it was first found so. */
bool mu_outside_has(const struct mu_outside *o, const uint8_t key[MU_KEY_BYTES],
                    int64_t *since);

/*
 * Brings the outside table in line with scope, the scope just computed
 * (mu_store_scope): every group that has stored records, is not us and not
 * in scope, and is not in the table yet, joins it with since = now; every
 * group in scope leaves it. One write transaction, committed only when
 * something changed; *changed (may be NULL) gets how many entries did.
 */
int mu_store_note_scope(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
                        const struct mu_scope *scope, int64_t now, size_t *changed);

/*
 * Drops the records of every group outside the scope since keep_s seconds
 * or more before now, unless it is followed, is us, or the record is an
 * exception to the scope for us (mu_store_scope_exception: a pending
 * proposal and its author's profile stay). The records of one group go in
 * one write transaction with all their index entries, so the counts and
 * `muster check` stay right; a group left with nothing leaves the table.
 * *dropped (may be NULL) gets how many records went.
 */
int mu_store_prune_outside(struct mu_store *st, const uint8_t us[MU_KEY_BYTES],
                           int64_t now, int64_t keep_s, uint64_t *dropped);

#define MU_BLOCKS_MAX MU_SCOPE_MAX /* blocked groups, at most */

/*
 * Blocks group key (on) at now: in one write transaction, notes it and
 * drops every record of it held, index entries and all (*dropped, may be
 * NULL, gets how many). A blocked group leaves the scope and its records
 * are refused wherever they come from. Unblocks it (off): MU_ENOTFOUND when
 * it was not blocked. MU_EFULL past MU_BLOCKS_MAX.
 */
int mu_store_block(struct mu_store *st, const uint8_t key[MU_KEY_BYTES], bool on,
                   int64_t now, uint64_t *dropped);

typedef int (*mu_store_block_fn)(void *ctx, const uint8_t key[MU_KEY_BYTES],
                                 int64_t since);

/* The blocked groups, in key order, with when each was blocked. */
int mu_store_blocks(struct mu_store *st, mu_store_block_fn fn, void *ctx);

/* The blocked groups into out (a scope: at most MU_BLOCKS_MAX of them). */
int mu_store_blocked(struct mu_store *st, struct mu_scope *out);

#endif
