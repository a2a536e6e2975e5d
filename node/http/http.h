/*
 * http.h - what the files of the node's read-only HTTP server share
 * (docs/API.md describes what it serves):
 *   http.c         libmicrohttpd driven from the node's libuv loop, limits,
 *                  headers, method checks and routing
 *   http_reply.c   replies: errors, JSON bodies and streams of items, query
 *                  arguments and the parsing of keys, addresses and times
 *   http_list.c    lists that grow with the store, read a record a call:
 *                  as JSON, or as the items of a page
 *   http_groups.c  the groups a request talks about: names, alliance state
 *                  with us, last seen; and the alliances between any two
 *   http_api.c     /api/... (JSON)
 *   http_feed.c    the iCalendar feeds (node/calendar.h formats them)
 *   http_html.c    the one HTML escaping function and the page frame
 *   http_pages.c   the pages: calendar, event, cause, group, alliances
 *   http_assets.c  the style sheet and the script, built in
 *   http_entries.c the forms by which people take part (RSVP, sign,
 *                  pledge), their posts, receipts and personal feeds
 *
 * Everything runs on the loop thread (http.c says why). Handlers read the
 * store, each call in its own read transaction; only the posts of
 * http_entries.c write, and only the personal entries table. Nothing above
 * node/ includes this.
 */
#ifndef MU_NODE_HTTP_H
#define MU_NODE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../../protocol/buf.h"
#include "../../protocol/record.h"
#include "../../storage/local.h"
#include "../internal.h"

#define MU_HTTP_ARGS_MAX  8    /* query arguments in one request */
#define MU_HTTP_LIST_MAX  1000 /* events in one list (API and pages) */
#define MU_HTTP_HOST_SIZE 262  /* a Host header we accept, NUL included */
#define MU_HTTP_ETAG_SIZE 48   /* an ETag we send, quotes and NUL included */

struct mu_http_arg {
	const char *key, *value; /* MHD's, valid during the request */
};

/* What a handler knows of one request. */
struct mu_http_req {
	struct mu_node *node;
	const char *path; /* decoded, NUL-terminated, starts with '/' */
	/* The Host header when it has the form HOST[:PORT] of safe characters,
	 * else the address the server listens on: for links to the feeds. */
	const char *host;
	struct mu_http_arg args[MU_HTTP_ARGS_MAX];
	size_t nargs;
	int64_t now;
	uint32_t boot;           /* random, drawn when the server starts: in ETags */
	const uint8_t *form_key; /* the forms' key (protocol/formtoken.h) */
	const char *origin;      /* the Origin header; NULL: none */
	const char *referer;     /* the Referer header; NULL: none */
	bool post;               /* a POST of a form whose body is below */
	const char *body;        /* urlencoded, not NUL-terminated */
	size_t body_len;
};

/* The body's form, which also decides how errors are written. */
enum mu_http_form { MU_HTTP_TEXT, MU_HTTP_JSON, MU_HTTP_HTML, MU_HTTP_ICS };

/* A body written a slice at a time, so that a long one (a feed) holds
 * neither the loop nor much memory: http.c asks for the next slice when
 * the client has read the last, at most one slice per connection in a turn
 * of the loop. */
struct mu_http_stream {
	/* Appends the next slice to out, taking about budget_ns (it may go
	 * over by one entry); sets *done after the last. Returns 0 or an MU_E*
	 * code (the connection is then cut). */
	int (*next)(void *ctx, uint64_t budget_ns, struct mu_buf *out, bool *done);
	void (*free)(void *ctx);
	void *ctx; /* owned by the stream: free() frees it */
};

/* What a handler answers; http.c adds the headers. */
struct mu_http_reply {
	unsigned status;
	enum mu_http_form form;
	const char *type; /* Content-Type; NULL: from form */
	bool asset;       /* a built-in file: may be cached */
	struct mu_buf body;
	/* When next is set, the body is this stream, not body. */
	struct mu_http_stream stream;
	/* A strong validator of the body ("" none): a request whose
	 * If-None-Match names it gets 304 without the body. */
	char etag[MU_HTTP_ETAG_SIZE];
};

/* --- the server (http.c), called by daemon.c ------------------------------ */

/* Starts serving on node->opts.http, after the store is open. A bind that
 * fails is an error naming the address and the option that changes it. */
int mu_http_start(struct mu_node *node, struct mu_why *why);

/* Stops serving and frees the state; a no-op when not started. Called when
 * the node stops, before its loop runs dry. */
void mu_http_stop(struct mu_node *node);

/* --- replies (http_reply.c) ----------------------------------------------- */

/* Sets status and a one-line message as the body, in the reply's form:
 * {"error": message} for JSON, a small page for HTML, text otherwise.
 * Returns 0, or MU_ENOMEM. */
int mu_http_fail(struct mu_http_reply *rp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a 200 reply with v dumped as the body; takes the reference (v may be
 * NULL: out of memory). Returns 0 or MU_ENOMEM. */
int mu_http_json(struct mu_http_reply *rp, json_t *v);

/* What the item function of a list written as a stream answers (or an
 * MU_E* code). */
enum {
	MU_HTTP_ITEM = 0, /* it appended the next item */
	MU_HTTP_SKIP = 1, /* it appended none: a record left out, or a part of
	                     the work done; it is called again */
	MU_HTTP_END = 2,  /* there is no more */
};

/*
 * A body of items written as a stream: head, the items as item(ctx, out)
 * appends them, then tail(ctx, out) after the last. Each slice holds the
 * items made within its budget (one call at least, the head with the
 * first), so that a list that grows with the store holds the loop a slice
 * at a time.
 */
struct mu_http_items {
	struct mu_buf head; /* owned by the stream */
	int (*item)(void *ctx, struct mu_buf *out);
	int (*tail)(void *ctx, struct mu_buf *out);
	void (*free)(void *ctx);
	void *ctx;
};

/* Sets a 200 reply of the given form that is it as a stream; takes what it
 * owns (freed here on failure, it->head emptied). 0 or MU_ENOMEM. */
int mu_http_items_stream(struct mu_http_reply *rp, enum mu_http_form form,
                         struct mu_http_items *it);

/*
 * A JSON body written as a stream (mu_http_items_stream()): head (the text before the
 * array's first item), the items, each made by item(ctx, &v): 0 with v the next item (a
 * new reference), 0 with v NULL after the last, 1 with v NULL when the call used its
 * time without finding one (it is called again), or an MU_E* code; then tail(ctx, out)
 * appends the text after the array. Each slice holds the items made within its budget
 * (one call at least), so that a list that grows with the store holds the loop a slice
 * at a time.
 */
struct mu_http_json_stream {
	char *head; /* malloc()ed; owned by the stream */
	int (*item)(void *ctx, json_t **v);
	int (*tail)(void *ctx, struct mu_buf *out);
	void (*free)(void *ctx);
	void *ctx;
};

/* A tail of a JSON stream whose head opened an object and an array: "]}". */
int mu_http_json_close(void *ctx, struct mu_buf *out);

/* Sets a 200 JSON reply that is js as a stream; takes what js owns (freed
 * here on failure). 0 or MU_ENOMEM. */
int mu_http_json_stream(struct mu_http_reply *rp, const struct mu_http_json_stream *js);

/* The text mu_http_json() writes for v up to its last character (an object's
 * closing brace), then more: the head of a stream that adds members after
 * what v holds. Takes the reference; NULL when out of memory. */
char *mu_http_json_open(json_t *v, const char *more);

/* Appends an item's text as mu_http_json() writes it, after a comma unless
 * it is the first. Takes the reference; 0 or MU_ENOMEM. */
int mu_http_json_item(struct mu_buf *out, json_t *v, bool first);

/*
 * The current versions of a replaceable kind (of group, or of all groups
 * when group is NULL), one at a time in address order, each read in a read
 * transaction of its own and copied out, so that whoever looks at it may
 * read the store.
 */
struct mu_http_cursor {
	struct mu_store *st;
	enum mu_kind kind;
	bool has_group;
	uint8_t group[MU_KEY_BYTES];
	struct mu_store_list_pos pos;
	bool ended;
};

struct mu_node_recs; /* node/acts.h */

/* group (NULL: all) is copied. */
void mu_http_cursor_init(struct mu_http_cursor *c, struct mu_store *st,
                         enum mu_kind kind, const uint8_t *group);

/* MU_HTTP_ITEM with the next record copied into one (which starts empty;
 * the caller frees it with mu_node_recs_free()), MU_HTTP_END after the
 * last, or an error. */
int mu_http_cursor_next(struct mu_http_cursor *c, struct mu_node_recs *one);

/*
 * The current versions of a replaceable kind (of group, or of all groups
 * when group is NULL) as a JSON stream (mu_http_cursor): head, then item(ctx, rec,
 * &err) of each record in address order, then "]}". Each record is read in a read
 * transaction of its own and copied out before item sees it, so item may
 * read the store. item returns the record's JSON (a new reference), or
 * NULL: with err 0 the record is left out, else err is the failure.
 */
struct mu_http_list {
	char *head; /* malloc()ed; owned by the list */
	enum mu_kind kind;
	const uint8_t *group; /* copied */
	json_t *(*item)(void *ctx, const struct mu_record *rec, int *err);
	void (*free)(void *ctx); /* frees ctx with the list; may be NULL */
	void *ctx;
};

/* Sets a 200 JSON reply that is l as a stream; takes what l owns (freed
 * here on failure). 0 or MU_ENOMEM. */
int mu_http_list_stream(const struct mu_http_req *rq, struct mu_http_reply *rp,
                        const struct mu_http_list *l);

/*
 * A page that is a list, written as a stream: what the handler wrote of the
 * page (rp->body) first, then open, the items as item(ctx, out) appends
 * them (as mu_http_items' item; what it appends as it answers MU_HTTP_END
 * goes in too), close after the last, or none in their place when there is
 * no item; then the page's foot (mu_html_foot()). The three texts are
 * markup that lives as long as ctx.
 */
struct mu_http_page_list {
	const char *open, *close, *none;
	int (*item)(void *ctx, struct mu_buf *out);
	void (*free)(void *ctx); /* frees ctx with the list */
	void *ctx;
};

/* Sets rp to l as a stream; takes ctx (freed here on failure). 0 or
 * MU_ENOMEM. */
int mu_http_page_list(struct mu_http_reply *rp, const struct mu_http_page_list *l);

/* The value of query argument key, or NULL when it is not given. */
const char *mu_http_arg(const struct mu_http_req *rq, const char *key);

/* 0 when every query argument is one of the NULL-terminated names, else a
 * 400 reply naming the first other one (return value 1). */
int mu_http_args_only(const struct mu_http_req *rq, struct mu_http_reply *rp,
                      const char *const *names);

/* Reads a group key (text form) from s; 1 with a 400 reply when it is not
 * one (what names the parameter or path part), else 0. */
int mu_http_key(const char *s, const char *what, uint8_t key[MU_KEY_BYTES],
                struct mu_http_reply *rp);

/*
 * Reads an address of the given kind from s into *addr, whose d is copied
 * into dbuf (MU_D_MAX + 1 bytes); 1 with a 400 reply when s is not one.
 */
int mu_http_addr(const char *s, const char *what, enum mu_kind kind,
                 struct mu_addr *addr, char *dbuf, struct mu_http_reply *rp);

/* Reads a time: "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS]Z";
 * 1 with a 400 reply when s is neither. */
int mu_http_time(const char *s, const char *what, int64_t *t, struct mu_http_reply *rp);

/* --- records no longer current (http_outside.c) ------------------------ */

/*
 * The groups outside the scope (storage/local.h) for a list, as its `all`
 * argument asks: without it (*hide true) their records are left out; with
 * all=1 they are listed, marked "not updated since". Reads the table into
 * o (freed by the caller with mu_outside_free(), on every path). 1 with a
 * 400 reply when all is neither 1 nor 0, else 0 or an error.
 */
int mu_http_outside(const struct mu_http_req *rq, struct mu_http_reply *rp,
                    struct mu_outside *o, bool *hide);

/* Sets "not_updated_since" on record v of group when o holds the group.
 * 0, or MU_ENOMEM. */
int mu_http_mark_outside(json_t *v, const struct mu_outside *o,
                         const uint8_t group[MU_KEY_BYTES]);

/* --- groups and alliances (http_groups.c) --------------------------------- */

enum { MU_HTTP_NO_ALLIANCE = 0 }; /* else an enum mu_alliance_state */

struct mu_http_group {
	uint8_t key[MU_KEY_BYTES];
	char *name;                /* from its profile, malloc()ed; NULL: none stored */
	bool us, in_scope;         /* our group; a group this node syncs */
	int alliance;              /* its alliance state with us */
	bool ended_by_us;          /* alliance ended: by our record, else theirs */
	int64_t ended_at;          /* when it ended (created_at of the end); 0: not */
	int hops;                  /* its step in the scope's walk (10.3); -1: none */
	uint8_t via[MU_KEY_BYTES]; /* hops >= 2: the ally of ours' ally... that
	                              named it (mu_store_scope_paths()) */
	int64_t last_seen;         /* last handshake with a node proving it; 0 never */
	int64_t last_record;       /* created_at of its newest stored record; 0 none */
};

struct mu_http_groups {
	struct mu_http_group *v; /* sorted by key */
	size_t n, cap;
};

/* Every group the node knows: us, the scope, groups with a stored profile
 * and groups with an alliance record with us; last_record stays 0 (see
 * mu_http_group_last_record()). Free with _free(). */
int mu_http_groups_load(const struct mu_http_req *rq, struct mu_http_groups *g);

/* Fills e->last_record: a seek in the store's group index. 0 or an error
 * reading the store. */
int mu_http_group_last_record(struct mu_store *st, struct mu_http_group *e);
void mu_http_groups_free(struct mu_http_groups *g);

/* The entry for key, or NULL. */
const struct mu_http_group *mu_http_group_find(const struct mu_http_groups *g,
                                               const uint8_t key[MU_KEY_BYTES]);

/* "mutual", "by_us", "to_us", "ended", or NULL for MU_HTTP_NO_ALLIANCE. */
const char *mu_http_alliance_name(int state);

/* The current causes' titles, for showing an event's cause by name. */
struct mu_http_cause {
	uint8_t group[MU_KEY_BYTES];
	char d[MU_D_MAX + 1];
	char *title; /* malloc()ed */
};

struct mu_http_causes {
	struct mu_http_cause *v;
	size_t n, cap;
};

int mu_http_causes_load(const struct mu_http_req *rq, struct mu_http_causes *c);
void mu_http_causes_free(struct mu_http_causes *c);
/* The title of the cause at addr, or NULL when it is not stored. */
const char *mu_http_cause_title(const struct mu_http_causes *c,
                                const struct mu_addr *addr);

/* Two groups and the current alliance records between them. */
struct mu_http_pair {
	uint8_t a[MU_KEY_BYTES], b[MU_KEY_BYTES]; /* a < b */
	int a_status, b_status; /* enum mu_alliance_status of each side's
	                           record naming the other; 0: none */
	int64_t a_at, b_at;     /* those records' created_at */
	enum mu_ended_by ended; /* which side ended the alliance, if one did */
	json_t *records;        /* array of those records as JSON */
};

/* Every pair of groups with at least one current alliance record between
 * them, read a record a call (mu_store_list_after()), then handed out in
 * key order. */
struct mu_http_pairs {
	struct mu_http_pair *v;
	size_t n, cap;
	struct mu_store *st;
	struct mu_store_list_pos pos;
	bool listed; /* every record read, v sorted */
	size_t next; /* the pair handed out next */
};

void mu_http_pairs_open(struct mu_store *st, struct mu_http_pairs *p);
/* MU_HTTP_SKIP after reading one more record while there are some to
 * read, then MU_HTTP_ITEM with *e the next pair (valid until _free()),
 * MU_HTTP_END after the last, or an error. */
int mu_http_pairs_next(struct mu_http_pairs *p, const struct mu_http_pair **e);
void mu_http_pairs_free(struct mu_http_pairs *p);

/* "mutual" (both proposed), "proposed" (one side), or "ended" (p->ended
 * says by whom; mu_alliance_ender()). */
const char *mu_http_pair_state(const struct mu_http_pair *p);

/* --- the routes (http_api.c, http_feed.c, http_pages.c, http_assets.c) --- */

/* Each answers a GET for its path family (path starts with its prefix).
 * 0 with the reply filled (errors included: 400, 404), or MU_ENOMEM/MU_EIO
 * for a 500. */
int mu_http_api(const struct mu_http_req *rq, struct mu_http_reply *rp);

/* http_acts.c: petitions, pledges, rsvps. The first three answer a request
 * of theirs (0, or an error) and return 1 for a path that is not theirs. */
int mu_http_api_acts(const struct mu_http_req *rq, struct mu_http_reply *rp);
int mu_http_page_acts(const struct mu_http_req *rq, struct mu_http_reply *rp);
int mu_http_feed_acts(const struct mu_http_req *rq, struct mu_http_reply *rp);
/* The "Going" section of an event's page, into out. */
int mu_http_acts_event_html(const struct mu_http_req *rq,
                            const struct mu_http_groups *groups,
                            const struct mu_addr *event, struct mu_buf *out);
/* The petitions and pledges (only one kind unless only is NONE) of group
 * (NULL: all), a section each when there are some, written an entry a
 * call (mu_http_cursor). */
struct mu_http_acts_walk {
	const struct mu_http_groups *groups; /* the names; outlives the walk */
	struct mu_store *st;
	int64_t now;
	enum mu_kind only;
	bool has_group;
	uint8_t group[MU_KEY_BYTES];
	size_t k;           /* the kind being listed (http_acts.c) */
	bool started, open; /* its cursor set; its section written */
	struct mu_http_cursor cur;
};

void mu_http_acts_walk_init(struct mu_http_acts_walk *w, struct mu_store *st,
                            const struct mu_http_groups *groups, const uint8_t *group,
                            enum mu_kind only, int64_t now);
/* Appends the next entry (with the start or end of its section): 0, an
 * error, or MU_HTTP_END after the last section's end. */
int mu_http_acts_walk_next(struct mu_http_acts_walk *w, struct mu_buf *out);
int mu_http_feed(const struct mu_http_req *rq, struct mu_http_reply *rp);
int mu_http_page(const struct mu_http_req *rq, struct mu_http_reply *rp);
/* 1 when path is a built-in file (reply filled), else 0; or MU_ENOMEM. */
int mu_http_asset(const char *path, struct mu_http_reply *rp);

/* Whether path is a feed: "/calendar.ics" or ".../calendar.ics". */
bool mu_http_is_feed(const char *path);

/* --- taking part (http_entries.c) ---------------------------------------- */

/* A post of a form, and every GET under /r/ (receipts and their feeds). */
int mu_http_entries(const struct mu_http_req *rq, struct mu_http_reply *rp);

/* Appends the RSVP form of event rec to a page (nothing when posting needs
 * the member link and the request has none; a note instead). */
int mu_http_rsvp_form(const struct mu_http_req *rq, struct mu_buf *b,
                      const struct mu_record *rec);

/* Appends the form of a petition or pledge page (rec): sign, or pledge;
 * nothing when it is closed or past its deadline, a note when posting
 * needs the member link and the request has none. */
int mu_http_act_form(const struct mu_http_req *rq, struct mu_buf *b,
                     const struct mu_record *rec);

/* A refusal: an HTML page with status, a title saying what happened, and
 * the message (what to do). 0 or MU_ENOMEM. */
int mu_http_refuse(struct mu_http_reply *rp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces a receipt secret in a path (for a log line) with "…". */
void mu_http_redact(char *path);

/* --- HTML (http_html.c) ---------------------------------------------------- */

/* Appends n bytes of untrusted text, HTML-escaped (& < > " '): the one way
 * record fields reach a page, in text and in attribute values alike. */
int mu_html_text(struct mu_buf *b, const char *s, size_t n);
/* Appends a NUL-terminated string, escaped. */
int mu_html_str(struct mu_buf *b, const char *s);
/* Appends trusted markup as it is. */
int mu_html_raw(struct mu_buf *b, const char *s);
/* Appends printf output as trusted markup (the arguments must be safe:
 * numbers, key and address text forms). */
int mu_html_fmt(struct mu_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a link to url with text as its label when url is http:// or
 * https:// (rule url), else only the escaped text. */
int mu_html_link(struct mu_buf *b, struct mu_str url, struct mu_str text);
/* The start of a page up to <main> (title escaped) and its end. */
int mu_html_head(struct mu_buf *b, const char *title, size_t title_len);
int mu_html_foot(struct mu_buf *b);

#endif
