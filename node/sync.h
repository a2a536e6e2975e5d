/*
 * sync.h - what the sync files share (docs/PROTOCOL.md, "Sync"):
 *   peer.c    the node-wide state, a peer's life, sending, starting a
 *             reconciliation
 *   sync.c    a peer's session: hello, reconciliation, want and ack, the
 *             end of a one-shot sync, statistics
 *   gossip.c  what goes out: the outbox turned into frames under
 *             backpressure, live push from the store log, the scope
 *   verify.c  what comes in: records validated (large batches on the thread
 *             pool, several at once), filtered by scope
 *   commit.c  and stored in commits that gather the batches of every peer
 *
 * Everything runs on the loop thread except verify.c's pool work: the
 * workers that parse copies of the bytes they were given, and the commit,
 * which stores batches the loop then only reads (one commit at a time).
 *
 * Lifetime of a peer: created by mu_sync_on_ready(), detached from its
 * connection by mu_sync_on_close() (c becomes NULL), freed when nothing
 * holds it any more (refs: a handler on the stack, a batch on the pool).
 * Code that may close connections (any send) checks p->c afterwards.
 */
#ifndef MU_NODE_SYNC_H
#define MU_NODE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../protocol/buf.h"
#include "../protocol/negentropy.h"
#include "../protocol/wire.h"
#include "internal.h"

/* Wants a node keeps unanswered at once; a peer with more than
 * SYNC_WANTS_HOLD unanswered is not read until it has fewer, so that its
 * wants cannot pile up answers in memory: each queues up to 1,024 outbox
 * entries (48 KiB). A node of ours never has more than SYNC_WANTS_INFLIGHT
 * unanswered, so holding past that slows only a peer that asks for more. */
#define SYNC_WANTS_INFLIGHT 4
#define SYNC_WANTS_HOLD     SYNC_WANTS_INFLIGHT

/* Bounds on a peer's queues of ids, whatever it says: a dialer stops
 * answering the reconciliation (the next neg waits) while the ids to fetch
 * or to send pass them, and live pushes to a peer whose outbox is past
 * SYNC_OUT_MAX are dropped (its next reconciliation finds them). */
#define SYNC_NEED_MAX 65536 /* ids to ask for: 2 MiB */
#define SYNC_OUT_MAX  65536 /* outbox entries: 3 MiB */
/* recs messages with a req a peer may leave unacknowledged: past this, the
 * records we have for it wait (each such message is remembered). */
#define SYNC_RECS_UNACKED_MAX 1024

/* Ids of records a peer sent that were refused only for their date (rule
 * future) that a node remembers per peer, to ask for again once due; the
 * nearest first. 40 bytes each. */
#define SYNC_EARLY_MAX 256

struct mu_sync_early {
	uint8_t id[32];
	int64_t due; /* by mu_home_now(): created_at - MU_FUTURE_SLACK */
};

/* Batches of more records than this are verified on the thread pool. */
#define SYNC_VERIFY_INLINE_MAX 8
/* handle() (sync.c): the message must wait for batches being verified. */
#define SYNC_LATER 1
/* Batches of one peer verified at once; at this many its reading stops. */
#define SYNC_BATCHES_MAX 16
/* Batches a node keeps for reuse once their records are stored (commit.c),
 * up to this many bytes: each is about 250 KB and its copy of the records. */
#define SYNC_SPARE_BYTES ((size_t)4 << 20)
/* Verified records are stored in one transaction when SYNC_COMMIT_FIRST
 * wait, or SYNC_COMMIT_MS after the first of them arrived, whichever comes
 * first: one commit (and its fsync) per many messages. While more records
 * are being verified behind them (a bulk transfer), the wait goes on up to
 * SYNC_COMMIT_BULK_MS, and each commit taken so waits for twice as many
 * records as the last, up to SYNC_COMMIT_RECS: the first records of a
 * catch-up are stored and acknowledged soon, and larger commits then
 * rewrite fewer pages per record. Not larger than that: LMDB keeps a
 * commit's dirty pages allocated for the next (about 14 KiB a record in a
 * store of a million), and the pages it reads stay in the map until the
 * store gives them back. The commit runs on the thread pool, one at a
 * time, while the loop goes on reading and verifying; peers with records
 * waiting are not read while SYNC_COMMIT_HOLD records wait or are being
 * stored (each costs about 4.5 KB until stored: its parsed form and its
 * bytes): a commit's worth and what one peer may have in verification. */
#define SYNC_COMMIT_FIRST   256
#define SYNC_COMMIT_RECS    2048
#define SYNC_COMMIT_MS      10
#define SYNC_COMMIT_BULK_MS 500
#define SYNC_COMMIT_HOLD    (SYNC_COMMIT_RECS + SYNC_BATCHES_MAX * MU_WIRE_RECS_MAX)
/* Announced ids we asked a peer for are not asked for again from another
 * for this long, unless stored meanwhile; a peer's announces are ignored
 * while this many of its ids wait to be asked for. */
#define SYNC_ASKED_MS       5000
#define SYNC_ANNOUNCE_QUEUE 4096
/* The pages of the store's map a serving node keeps resident: the store
 * gives them back when the process's file-backed resident memory (the map
 * and the program's own files) passes MU_STORE_MAP_BUDGET, looked at every
 * few reads (mu_store_set_map_budget). Giving them back means faulting them
 * in again, so only past a budget: a store that fits in it is never given
 * back, and one that does not stays near it. A one-shot sync keeps them. */

/* The bytes a message of len bytes takes on the wire: the frame's 2-byte
 * length and the Noise tag (docs/PROTOCOL.md 9.2), for the counts of
 * struct mu_sync_report. */
#define SYNC_FRAMED(len) ((uint64_t)(len) + 2 + MU_NOISE_TAG_BYTES)

enum mu_out_kind {
	MU_OUT_HAVE = 1, /* a record the peer lacks: recs with a req, acked */
	MU_OUT_SEND,     /* a want's answer or a live push: recs with req 0 */
	MU_OUT_ACK,      /* ["ack", req] once what was queued before it is sent */
	MU_OUT_NEG,      /* the responder's negentropy answer (neg_reply), after
	                    the records it pushes in place of listing their ids */
	MU_OUT_ANNOUNCE, /* the id of a record relayed live: announce, not push */
	MU_OUT_RANGE,    /* the next of p->ranges: HAVE records listed as sent */
};

/* Items of a push-mode range (mu_neg_set_push_range) listed at a time when
 * it is sent, so the records go out while the rest of the range is still
 * unlisted; fewer when the turn's send budget (limits.send_turn_us) ends
 * first (gossip.c, list_slice). Each slice costs a descent of the
 * fingerprint table to its place (about 4 ms of CPU at 100,000 records on a
 * loaded host: slices of 512 cost the serving node 38% more CPU than one
 * listing); an item is a by_time entry, which holds its sequence number
 * (local_fp.c). */
#define SYNC_RANGE_SLICE 2048

/* A range of our items the peer lacks whole: [from, to) by (ts, id), to.ts
 * UINT64_MAX the end; ranked: rank is the place of the next item to list
 * in the snapshot it is read in. Items stored past seq are pushed live,
 * not listed. */
struct mu_sync_range {
	struct mu_neg_item from, to;
	uint64_t seq;
	size_t rank;
	bool ranked, done;
};

struct mu_out_entry {
	/* MU_OUT_ACK: the request acked. MU_OUT_HAVE: where the store keeps
	 * the record (mu_store_read_raw()), 0 when not known. */
	uint64_t req;
	uint8_t kind;
	uint8_t id[32];
};

/* A queue of ids or entries: items [head, len) of v are pending. */
struct mu_sync_ids {
	uint8_t (*v)[32];
	size_t head, len, cap;
};

struct mu_sync_outq {
	struct mu_out_entry *v;
	size_t head, len, cap;
};

struct mu_sync_inmsg {
	struct mu_sync_inmsg *next;
	struct mu_wire_msg *m; /* data decoded (owned), NULL: not yet */
	size_t len;
	uint8_t data[];
};

struct mu_sync_batch; /* commit.h: one recs message being taken in */

/* An announced id asked for, until when it is not asked for again; of whom,
 * and who else announced it meanwhile (asked next if of closes first). */
#define SYNC_ASKED_ALT 2
struct mu_sync_asked {
	uint8_t id[32];
	uint64_t until;
	struct mu_sync_peer *of;
	struct mu_sync_peer *alt[SYNC_ASKED_ALT];
};

/* A record stored as new, and the peer it came from (NULL: not a peer).
 * rec is the record as parsed in its batch, valid until the batch is freed
 * after the commit's push (commit.c). */
struct mu_sync_fresh {
	uint8_t id[32];
	uint8_t kind; /* enum mu_kind */
	const struct mu_sync_peer *from;
	const struct mu_record *rec;
};

struct mu_sync_pending {
	uint64_t req;
	bool want; /* else a recs of HAVE records */
};

struct mu_sync_peer {
	struct mu_node *node;
	struct mu_conn *c; /* NULL once the connection closed */
	unsigned refs;
	bool dialer;

	/* The peer's hello. */
	bool hello;
	bool pump_cut;      /* the send budget stopped its pump (gossip.c) */
	uint64_t pump_sent; /* the turn (pump_turn) of its last pump step */
	struct mu_scope *scope;
	/* Its last hello gave a digest of a scope we do not hold: we asked
	 * for the scope (rehello); until it comes, scope is empty, we do not
	 * reconcile and a neg-open waits in neg_parked. */
	bool scope_unknown;
	/* Our hellos: the last had no scope; the digest of the scope of the
	 * last full one (sent_full). */
	bool sent_short, sent_full;
	uint8_t sent_digest[MU_WIRE_DIGEST_BYTES];
	bool has_clock;     /* it said its time: */
	int64_t clock_base; /* its clock minus mu_home_boot_clock() (clock.c) */
	uint64_t ready_ms;  /* uv_now() when the session began */

	/* Reconciliation: the items it borrows live as long as it does. */
	struct mu_neg *neg;
	struct mu_store_fp_view *fpv; /* the source of neg, or NULL: items */
	uint64_t neg_seq;             /* fpv: the store's last seq at the start */
	struct mu_neg_item *items;
	uint64_t *seqs; /* beside items: where the store keeps each */
	size_t nitems;
	bool reconciling;     /* we initiated and it is not finished */
	bool again;           /* and another is due when it is */
	uint64_t neg_started; /* uv_now() at the last step of the run */
	/* Responder: the run went idle and was forgotten (mu_sync_tick); its
	 * next neg begins a fresh one, as a neg-open would. */
	bool neg_forgotten;
	unsigned reconciled; /* finished reconciliations (as initiator) */
	uint64_t neg_have, neg_need;
	uint64_t neg_rounds, neg_bytes;   /* of the run, for its log line */
	struct mu_sync_inmsg *neg_parked; /* a neg waiting for the queues */
	struct mu_buf neg_reply;          /* responder: an answer waiting in out */
	/* Responder: ranges queued in out (MU_OUT_RANGE), [rhead, nranges)
	 * pending, read through rview (over the domain of the run that gave
	 * them); listed: the HAVE entries of the slice being sent. */
	struct mu_sync_range *ranges;
	size_t rhead, nranges, capranges;
	struct mu_store_fp_view *rview;
	bool rview_open; /* its snapshot begun (gossip.c, list_slice) */
	struct mu_sync_outq listed;

	/* What goes out. */
	struct mu_sync_ids need; /* ids to ask for in wants */
	struct mu_sync_outq out; /* records and acks to send, in order */
	size_t acks_queued;      /* MU_OUT_ACK in out: unanswered wants */
	uint64_t next_req;
	struct mu_sync_pending *pending; /* our wants and recs not acked yet */
	size_t npending, cappending;
	size_t wants_pending;

	/* What comes in: recs messages are verified in order, in batches
	 * (verify.c); other messages wait in inq until the batches before
	 * them are done, so an ack is never handled before records that
	 * preceded it. */
	struct mu_sync_batch *batches, **batches_tail; /* being verified */
	unsigned nbatches;
	unsigned uncommitted;                  /* batches waiting for the commit */
	bool held;                             /* we asked conn.c to stop reading */
	struct mu_sync_inmsg *inq, **inq_tail; /* messages read meanwhile */
	unsigned invalid;
	struct mu_sync_early *early; /* SYNC_EARLY_MAX, allocated when needed */
	size_t nearly;

	/* Statistics not yet written to the peers table. */
	uint64_t sent, received;
	bool done;    /* once-mode: the sync completed */
	bool invited; /* an invite was sent (dialer) or received (accepter) */
};

/* Node-wide state (node->sync; peer.c). */
struct mu_sync_state {
	struct mu_buf msg;  /* a message being encoded */
	struct mu_buf recs; /* record bytes gathered for a recs message */
	struct mu_buf neg;  /* a negentropy message */
	unsigned polls;     /* since the scope was last recomputed */
	uint64_t progress_ms;
	/* commit.c's: a commit is on the pool. Its records are in the store
	 * log before its end pushes them on, knowing whom each came from:
	 * the poll leaves the log to that push, or it would send them whole
	 * to every peer, their senders included. */
	bool committing;
	/* Announced ids asked for and not stored yet (gossip.c). */
	struct mu_sync_asked *asked;
	size_t nasked, capasked;
	/* Records of our store found damaged when read to be sent (gossip.c),
	 * sorted, so each is logged once; at most SYNC_DAMAGED_MAX. */
	uint8_t (*damaged)[32];
	size_t ndamaged, capdamaged;
	/* The pumps' sending time in this turn of the loop (limits.send_turn_us),
	 * from one prepare phase to the next, as node/stalls.c times a turn:
	 * pump_mark zeroes it and counts the turns. */
	uint64_t pump_ns, pump_turn;
	uv_prepare_t pump_mark;
	/* Pumps the peers whose sending the budget cut (mu_sync_peer's
	 * pump_cut) on the next turn: a peer that does not read brings no
	 * writable callback, and would wait for the next poll. */
	uv_idle_t pump_idle;
	bool pump_handles; /* pump_mark and pump_idle initialized */
	/* sync.c's: batches of p finished or committed (verify.c, commit.c):
	 * handles what was read meanwhile, sends what can be sent, sees
	 * whether a one-shot sync is done. A callback, as verify.c and
	 * commit.c are below sync.c. */
	void (*resume)(struct mu_sync_peer *p);
};

/*
 * The files of the sync and what each may call: every one calls conn.c;
 *   peer.c    nothing else of node/
 *   gossip.c  peer.c
 *   commit.c  peer.c, gossip.c (commit.h)
 *   verify.c  peer.c, gossip.c, commit.c, dial.c (bans)
 *   sync.c    all of them, and clock.c
 * .ci/check-node-cycles checks that no two files of node/ call each other.
 */

/* peer.c */
/* Allocates node->sync and computes node->scope (allocating it when NULL;
 * the sync owns it from then on); sets node->log_seq to the end of the
 * store log. mu_sync_close() frees both. */
int mu_sync_open(struct mu_node *node, struct mu_why *why);
void mu_sync_close(struct mu_node *node);
struct mu_sync_state *mu_sync_state(struct mu_node *node);
void mu_sync_hold(struct mu_sync_peer *p);
void mu_sync_release(struct mu_sync_peer *p);
/* Closes p's connection with a reason (a no-op when already closed). */
void mu_sync_fail(struct mu_sync_peer *p, const char *why);
/* Sends node's msg buffer to p. */
int mu_sync_send_msg(struct mu_sync_peer *p, struct mu_why *why);
/* Sends our hello: without the scope, only its digest, when the peer
 * reads digests and was last sent this scope in full (docs/PROTOCOL.md
 * 10.2), unless full. */
int mu_sync_send_hello(struct mu_sync_peer *p, bool full, struct mu_why *why);
struct mu_hello_peer;
/* Remembers hp (and scope, when hp->has_scope) for p's group key, best
 * effort (local_hellos.c). */
void mu_sync_hello_note(struct mu_sync_peer *p, const struct mu_hello_peer *hp,
                        const struct mu_scope *scope);
/* Sends neg (a negentropy message) as neg-open when open, else neg. */
int mu_sync_send_neg(struct mu_sync_peer *p, bool open, const struct mu_buf *neg,
                     struct mu_why *why);
/* A negentropy message of len bytes went out or came in; answer: it is the
 * answer to one of ours, which ends a round trip. */
void mu_sync_count_neg(struct mu_sync_peer *p, size_t len, bool answer);
/* Items over our scope and the peer's: both sides compute the same set. */
int mu_sync_neg_prepare(struct mu_sync_peer *p, struct mu_why *why);
/* A snapshot of the store for one message of the reconciliation, and its
 * end (no-ops over listed items). */
int mu_sync_neg_begin(struct mu_sync_peer *p, struct mu_why *why);
void mu_sync_neg_end(struct mu_sync_peer *p);
/* mu_store_fp_view_begin() with the reasons of its failures in why. */
int mu_sync_view_begin(struct mu_store_fp_view *v, struct mu_why *why);
/* Frees the reconciliation's state and items. */
void mu_sync_neg_reset(struct mu_sync_peer *p);
/* Dialers: starts a reconciliation, or another once this one ends. */
int mu_sync_reconcile(struct mu_sync_peer *p, struct mu_why *why);
uint64_t mu_sync_req(struct mu_sync_peer *p, bool want);
/* Queues id in p's wants. */
int mu_sync_need(struct mu_sync_peer *p, const uint8_t *id);
/* In once-mode, at most once a second: prints "sync: received N records
 * (M new), sent K". The CLI prints the final figures itself. */
void mu_sync_progress(struct mu_node *node);

/* gossip.c */
/* Queues an entry in q; req is the entry's number (struct mu_out_entry). */
int mu_sync_out_add_to(struct mu_sync_outq *q, enum mu_out_kind kind, const uint8_t *id,
                       uint64_t req);
/* The same in p's outbox. */
int mu_sync_out_add(struct mu_sync_peer *p, enum mu_out_kind kind, const uint8_t *id,
                    uint64_t req);
/* Sends what p's outbox holds while the write queue has room, for at most
 * limits.send_turn_us of this turn of the loop (all peers together) and
 * at least one message to each peer a turn: what is left goes on in the
 * next turn (an idle callback), or from the writable callback that the
 * queue's draining brings. */
int mu_sync_pump(struct mu_sync_peer *p, struct mu_why *why);
/* Queues the range [from, to) of our items, all of which the peer lacks,
 * listed only as it is sent (ctx: the peer; mu_neg_set_push_range). */
int mu_sync_push_range(void *ctx, const struct mu_neg_item *from,
                       const struct mu_neg_item *to);
/* Forgets the ranges not sent yet (the scope changed: the peer's next
 * reconciliation finds what it still lacks), and frees their view. */
void mu_sync_ranges_drop(struct mu_sync_peer *p);
/* The session's first push: alliance records naming the peer, and their
 * authors' profiles. */
int mu_sync_greet(struct mu_sync_peer *p, struct mu_why *why);
/* Pushes what the store log holds past node->log_seq to the peers that want
 * it, then sends what every peer has waiting; a record of fresh[0..n)
 * (sorted by id) does not go back to the peer it came from. */
void mu_sync_push_log(struct mu_node *node, const struct mu_sync_fresh *fresh,
                      size_t n);
/* An announce from p: asks p for the ids we neither hold nor asked for. */
int mu_sync_on_announce(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                        struct mu_why *why);
/* p's session ends: what was asked of p is asked of another peer that
 * announced it, or no longer counts as asked (the next announce asks). */
void mu_sync_asked_gone(struct mu_sync_peer *p);
/* Those records are stored: their ids are no longer being asked for. */
void mu_sync_asked_done(struct mu_node *node, const struct mu_sync_fresh *fresh,
                        size_t n);
/* Whether rec is one p wants: its group is in p's scope, or it is one of
 * the scope's exceptions for p's group (mu_store_scope_exception). */
bool mu_sync_peer_wants(struct mu_sync_peer *p, const struct mu_record *rec);
/* Entries waiting in p's outbox. */
size_t mu_sync_out_pending(const struct mu_sync_peer *p);

/* commit.c: see commit.h. Whether records of p wait for a commit while too
 * many do (SYNC_COMMIT_HOLD): then p is not read. */
bool mu_sync_commit_full(const struct mu_sync_peer *p);
/* Asks conn.c to read p or not, from its batches, its messages waiting,
 * its unanswered wants and the commit. */
void mu_sync_update_hold(struct mu_sync_peer *p);
/* Stores what waits for a commit now, on the loop thread, then acks and
 * pushes it on: for the stop, once the loop has run dry (no commit is on
 * the pool then). */
void mu_sync_commit(struct mu_node *node);

/* verify.c */
/* Takes in one recs message (the caller checked p->nbatches is below
 * SYNC_BATCHES_MAX): verified inline or on the pool, then committed. */
int mu_sync_on_recs(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                    struct mu_why *why);
/* Asks p again (wants) for the records it sent too early that are due at
 * now; 1 when some were, 0 when none, MU_ENOMEM. */
int mu_sync_early_due(struct mu_sync_peer *p, int64_t now);
/* Frees p's batches (p is closing); their records are not stored. */
void mu_sync_drop_batches(struct mu_sync_peer *p);

/* invite.c: invite codes on the session (docs/PROTOCOL.md 10.8) */
/* The accepting side: checks and redeems the invite m, answers it. */
int mu_invite_on_invite(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                        struct mu_why *why);
/* The dialer of a join (opts.join): sends its invite, once, after the
 * peer's first hello. */
int mu_invite_send(struct mu_sync_peer *p, struct mu_why *why);
/* The dialer: the inviter's answer. A refusal ends the session (nonzero). */
int mu_invite_on_invited(struct mu_sync_peer *p, const struct mu_wire_msg *m,
                         struct mu_why *why);
/* Whether a join's dialer still waits for the answer: the sync is not done. */
bool mu_invite_waiting(const struct mu_sync_peer *p);

#endif
