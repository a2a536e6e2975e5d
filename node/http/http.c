/*
 * http.c - the read-only HTTP server: libmicrohttpd on the node's loop,
 * limits, headers, methods and routing (http.h lists the other files).
 *
 * Threads: MHD does not get a thread of its own. It runs in "external
 * polling" mode with epoll: a uv_poll_t watches MHD's epoll descriptor and a
 * uv timer follows MHD_get_timeout(), and both call MHD_run() on the loop
 * thread. A polling thread of MHD's would read the store concurrently with
 * the loop, and that is unsound here: mu_store__begin() calls
 * mdb_env_set_mapsize() when another process grew the map, which LMDB allows
 * only while this process has no transaction open, and node->scope and the
 * peers change on the loop thread without locks.
 *
 * Peer traffic comes first. The HTTP work of one turn of the loop (from
 * one prepare phase to the next: the MHD_run() calls of its poll, timer and
 * idle phases together, as node/stalls.c times a turn) ends after TURN_NS:
 * a request or a feed's slice that finds the turn used up suspends its
 * connection, which is resumed at the end of the MHD_run() and so served in
 * a later turn, after the loop has polled every socket (peers included).
 * Every request is one function call with its own read transactions; lists
 * are capped at MU_HTTP_LIST_MAX. Feeds, /api/events and /api/groups are
 * streams (http.h), written a slice at a time as the client reads them,
 * each slice within what is left of TURN_NS, so that they hold the loop and
 * memory a slice at a time. Memory: at most STREAMS_MAX streams at a time,
 * and no new request is served while the bodies waiting to be sent hold
 * more than HELD_MAX; both answer 503 with Retry-After.
 *
 * Slow clients: MHD's timeout is reset by every byte, so a client sending a
 * byte every few seconds would hold its connection for ever. A connection
 * gets HEADER_DEADLINE_MS from its opening, or from the end of its last
 * reply, to complete a request's headers, whatever it sends meanwhile; a
 * timer sweeps the connections and shuts those past it down. A connection
 * is closed after KEEPALIVE_MAX requests, and past CONN_MAX connections a
 * new one closes the oldest still waiting for its request (evict_idle()).
 *
 * GET and HEAD read only (MHD leaves the body out of a HEAD reply and keeps
 * Content-Length). POST is taken only on the pages that carry a form
 * (http_entries.c), and writes only the personal entries table: per
 * address at most limits.posts_per_min a minute (POST_SLOTS addresses
 * tracked, the longest quiet one forgotten first), a body of at most
 * BODY_MAX bytes (a larger Content-Length is refused before the body is
 * read), urlencoded only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "../../protocol/utf8.h"
#include "../../storage/local.h"
#include "../../protocol/formtoken.h"
#include "../addr.h"
#include "http.h"

#define CONN_MAX           64          /* connections before the oldest idle is cut */
#define CONN_HARD_MAX      128         /* open HTTP connections at once */
#define CONN_PER_IP_MAX    16          /* of those, from one address */
#define CONN_TIMEOUT_S     10          /* an idle or slow connection is closed */
#define CONN_MEMORY        32 * 1024   /* request line and headers of one connection */
#define HEADER_DEADLINE_MS 5000        /* to complete a request's headers */
#define SWEEP_MS           500         /* how often the deadline is looked at */
#define KEEPALIVE_MAX      100         /* requests on one connection */
#define TURN_NS            2000000     /* HTTP work in one turn of the loop */
#define SLICE_MIN_NS       250000      /* a feed's slice may take at least */
#define STREAMS_MAX        8           /* streams being sent at once */
#define HELD_MAX           (16u << 20) /* bytes of bodies waiting to be sent */
#define BUSY_RETRY_S       "5"         /* Retry-After of a 503 */
#define BLOCK_SIZE         (16 * 1024)
#define BACKLOG            64
#define TIMER_MAX_MS       60000
#define LOG_TEXT_SIZE      256
#define BODY_MAX           8192 /* bytes of a posted form */
#define POST_SLOTS         1024 /* client addresses whose posts are counted */
#define FORM_TYPE          "application/x-www-form-urlencoded"

/* Every page: the scripts and styles are our own files, nothing else loads,
 * and no other site frames us. */
#define CSP_PAGE                                                                       \
	"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "    \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define CSP_DATA "default-src 'none'; frame-ancestors 'none'; sandbox"

struct mu_http;

/* The posts of one client address: a bucket of limits.posts_per_min
 * tokens, refilled at that rate. */
struct post_slot {
	uint8_t ip[16]; /* IPv4 mapped into IPv6 */
	bool used;
	double tokens;
	uint64_t at; /* uv_now() of the last refill */
};

/* A POST's body as it comes in (the request's MHD state). */
struct post_body {
	struct mu_buf buf;
	bool too_big;
};

/* One client connection (MHD's socket context). */
struct http_conn {
	struct mu_http *h;
	struct MHD_Connection *mc;
	struct http_conn *prev, *next;
	uint64_t since;     /* uv_now() when opened or its last reply ended */
	bool in_request;    /* its headers are in and the reply not done */
	bool cut;           /* shut down at the header deadline */
	bool too_many_args; /* the request has more than MU_HTTP_ARGS_MAX */
	unsigned requests;  /* served on it */
};

/* A body being sent: a buffer, or a stream's slices. */
struct http_body {
	struct mu_http *h;
	struct MHD_Connection *mc;
	struct mu_http_stream stream; /* next == NULL: buf is the whole body */
	struct mu_buf buf;
	size_t off;  /* of buf, sent */
	size_t held; /* counted in h->held */
	bool done;   /* the stream wrote its last slice */
};

struct mu_http {
	struct mu_node *node;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer, sweep;
	uv_idle_t idle;
	uv_prepare_t mark; /* a new turn of the loop: its budget is whole */
	int handles;       /* uv handles open: freed when the last closes */
	bool poll_open;
	char name[MU_PEER_ADDR_MAX];
	uint32_t boot;
	struct http_conn *conns; /* open connections, newest first */
	size_t nconns;
	/* The turn of the loop in progress: the HTTP time of its earlier
	 * MHD_run() calls, when the current one began, what the turn served,
	 * and the connections the current call suspended (each at most once,
	 * so at most CONN_HARD_MAX). */
	uint64_t turn_used;
	uint64_t turn_start;
	unsigned turn_items;
	struct MHD_Connection *suspended[CONN_HARD_MAX];
	size_t nsuspended;
	size_t held;    /* bytes of bodies queued and not yet freed */
	size_t streams; /* streams (feeds, lists) being sent */
	uint8_t form_key[MU_FORM_KEY_BYTES]; /* protocol/formtoken.h */
	struct post_slot posts[POST_SLOTS];
};

static void on_timer(uv_timer_t *t);
static void on_idle(uv_idle_t *i);

/* Whether the turn has time for one more request or slice: the first
 * always, so that every turn moves on. */
static bool
turn_allows(struct mu_http *h)
{
	return h->turn_items == 0 ||
	       h->turn_used + (uv_hrtime() - h->turn_start) < TURN_NS;
}

/* What a feed's slice may take now: what is left of the turn, and not less
 * than SLICE_MIN_NS, which keeps a slice's bytes worth their call. */
static uint64_t
turn_left(struct mu_http *h)
{
	uint64_t used = h->turn_used + (uv_hrtime() - h->turn_start);

	return used + SLICE_MIN_NS < TURN_NS ? TURN_NS - used : SLICE_MIN_NS;
}

static void
on_mark(uv_prepare_t *p)
{
	struct mu_http *h = p->data;

	h->turn_used = 0;
	h->turn_items = 0;
}

/* Leaves the connection for a later turn (from MHD's callbacks only). */
static void
defer(struct mu_http *h, struct MHD_Connection *mc)
{
	if (h->nsuspended == CONN_HARD_MAX)
		return; /* cannot happen: each connection once per turn */
	MHD_suspend_connection(mc);
	h->suspended[h->nsuspended++] = mc;
}

/* One turn: lets MHD do what is ready, within TURN_NS; resumes what the
 * turn deferred, which MHD's descriptor then reports as ready to the loop's
 * next poll, and waits for MHD's next deadline. */
static void
pump(struct mu_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	bool deferred;
	size_t i;

	if (h->mhd == NULL)
		return;
	h->turn_start = uv_hrtime();
	MHD_run(h->mhd);
	h->turn_used += uv_hrtime() - h->turn_start;
	deferred = h->nsuspended > 0;
	for (i = 0; i < h->nsuspended; i++)
		MHD_resume_connection(h->suspended[i]);
	h->nsuspended = 0;
	/* Work left now goes to the idle phase, which runs once a turn of the
	 * loop, after the loop has polled: a timer of 0 ms started from a timer
	 * callback runs again in the same phase (libuv 1.44), so that a busy
	 * server would never let the loop poll its peers. Resumed connections
	 * are work left: MHD takes them up in its next run, and its descriptor
	 * does not always say so. */
	if (deferred || (MHD_get_timeout(h->mhd, &ms) == MHD_YES && ms == 0)) {
		uv_timer_stop(&h->timer);
		uv_idle_start(&h->idle, on_idle);
	} else if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
		uv_idle_stop(&h->idle);
		uv_timer_stop(&h->timer);
	} else {
		uv_idle_stop(&h->idle);
		uv_timer_start(&h->timer, on_timer,
		               ms < TIMER_MAX_MS ? ms : TIMER_MAX_MS, 0);
	}
}

static void
on_timer(uv_timer_t *t)
{
	pump(t->data);
}

static void
on_idle(uv_idle_t *i)
{
	pump(i->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	pump(p->data);
}

/* Text the client chose (a method, a path MHD has decoded %0A in), for a
 * log line: control characters become '?' and it is cut short, so that a
 * log line always stays one line of ours. */
static const char *
log_text(char out[LOG_TEXT_SIZE], const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0' && i < LOG_TEXT_SIZE - 1; i++)
		out[i] =
		    (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
	out[i] = '\0';
	mu_http_redact(out);
	return out;
}

/* libmicrohttpd's messages; fmt is its own printf format. */
static void __attribute__((format(printf, 2, 0)))
on_log(void *cls, const char *fmt, va_list ap)
{
	struct mu_http *h = cls;
	char line[LOG_TEXT_SIZE], safe[LOG_TEXT_SIZE];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	mu_node_log(h->node, MU_LOG_DEBUG, "http: %s", log_text(safe, line));
}

/* --- posts ------------------------------------------------------------------ */

/* Whether the client may post now (a token is taken), by the bucket of its
 * address; a client whose address is unknown shares one bucket. */
static bool
post_allowed(struct mu_http *h, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	double rate = h->node->opts.limits.posts_per_min;
	uint64_t now = uv_now(h->node->loop);
	uint8_t ip[16] = {0};
	struct post_slot *s, *oldest = &h->posts[0];
	size_t i;

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET) {
			ip[10] = ip[11] = 0xff;
			memcpy(ip + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		} else if (sa->sa_family == AF_INET6) {
			memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		}
	}
	for (i = 0, s = NULL; i < POST_SLOTS; i++) {
		struct post_slot *p = &h->posts[i];

		if (p->used && memcmp(p->ip, ip, 16) == 0) {
			s = p;
			break;
		}
		if (!p->used || (oldest->used && p->at < oldest->at))
			oldest = p;
	}
	if (s == NULL) {
		s = oldest;
		memcpy(s->ip, ip, 16);
		s->used = true;
		s->tokens = rate;
		s->at = now;
	}
	s->tokens += (double)(now - s->at) * rate / 60000.0;
	if (s->tokens > rate)
		s->tokens = rate;
	s->at = now;
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}

/* Whether a POST's path is one that takes a form. */
static bool
post_path(const char *url)
{
	return strncmp(url, "/events/", 8) == 0 ||
	       strncmp(url, "/petitions/", 11) == 0 ||
	       strncmp(url, "/pledges/", 9) == 0 || strncmp(url, "/r/", 3) == 0;
}

/* --- one request ------------------------------------------------------------ */

static struct http_conn *
conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * Called with the request line's raw URI before MHD splits its query. MHD
 * keeps every argument in the connection's 32 KiB and, when they do not
 * fit (about 600), fails without answering until the timeout. So the query
 * is counted here, and when it has more arguments than any route takes,
 * it is cut off where MHD would read it (the URI is MHD's own buffer, which
 * it then splits in place) and the request is answered 400.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http_conn *c = conn_of(mc);
	char *q = strchr(uri, '?');
	size_t n;

	(void)cls;
	if (c == NULL)
		return NULL;
	c->too_many_args = false;
	if (q == NULL || q[1] == '\0')
		return NULL;
	for (n = 1; *q != '\0'; q++)
		n += *q == '&';
	if (n > MU_HTTP_ARGS_MAX) {
		c->too_many_args = true;
		strchr(uri, '?')[1] = '\0';
	}
	return NULL;
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct mu_http_req *rq = cls;

	(void)kind;
	if (rq->nargs == MU_HTTP_ARGS_MAX) {
		rq->nargs++; /* too many: the request is refused */
		return MHD_NO;
	}
	rq->args[rq->nargs].key = key;
	rq->args[rq->nargs].value = value != NULL ? value : "";
	rq->nargs++;
	return MHD_YES;
}

/* The Host header when it is HOST[:PORT] of characters a URL can hold as
 * they are, so that it can be written into links; else NULL. */
static const char *
safe_host(const char *host)
{
	size_t n;

	if (host == NULL || (n = strlen(host)) == 0 || n >= MU_HTTP_HOST_SIZE)
		return NULL;
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789.-_:[]") != n)
		return NULL;
	return host;
}

static bool
valid_text(const char *s)
{
	return mu_utf8_check(s, strlen(s), MU_UTF8_LINE, NULL) == MU_UTF8_OK;
}

static int
route(struct mu_http_req *rq, struct mu_http_reply *rp)
{
	const char *p = rq->path;
	bool api = strcmp(p, "/api") == 0 || strncmp(p, "/api/", 5) == 0;
	size_t i;
	int rc;

	/* The form first, so that errors come in the form the client reads. */
	rp->form = api ? MU_HTTP_JSON : mu_http_is_feed(p) ? MU_HTTP_ICS : MU_HTTP_HTML;
	if (rq->nargs > MU_HTTP_ARGS_MAX)
		return mu_http_fail(rp, 400, "more than %d query arguments",
		                    MU_HTTP_ARGS_MAX);
	for (i = 0; i < rq->nargs; i++)
		if (!valid_text(rq->args[i].key) || !valid_text(rq->args[i].value))
			return mu_http_fail(rp, 400,
			                    "a query argument is not UTF-8 text "
			                    "without control characters");
	if (p[0] != '/')
		return mu_http_fail(rp, 400, "the path must start with /");
	if (!valid_text(p))
		return mu_http_fail(rp, 400,
		                    "the path is not UTF-8 text without control "
		                    "characters");
	if (strncmp(p, "/r/", 3) == 0 || rq->post)
		return mu_http_entries(rq, rp);
	if (rp->form == MU_HTTP_JSON)
		return mu_http_api(rq, rp);
	if (rp->form == MU_HTTP_ICS)
		return mu_http_feed(rq, rp);
	if ((rc = mu_http_asset(p, rp)) != 0)
		return rc < 0 ? rc : 0;
	return mu_http_page(rq, rp);
}

static const char *
content_type(const struct mu_http_reply *rp)
{
	if (rp->type != NULL)
		return rp->type;
	switch (rp->form) {
	case MU_HTTP_JSON:
		return "application/json; charset=utf-8";
	case MU_HTTP_HTML:
		return "text/html; charset=utf-8";
	case MU_HTTP_ICS:
		/* Errors of a feed are text; a feed sets its own type. */
	case MU_HTTP_TEXT:
		break;
	}
	return "text/plain; charset=utf-8";
}

/* MHD's reader of a body: the buffer, or a stream's slices, one at a time
 * and only while the turn allows (else the connection waits a turn). */
static ssize_t
read_body(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_body *b = cls;
	size_t n;
	int rc;

	(void)pos;
	if (b->off == b->buf.len) {
		if (b->stream.next == NULL || b->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!turn_allows(b->h)) {
			defer(b->h, b->mc);
			return 0;
		}
		b->h->turn_items++;
		b->buf.len = 0;
		b->off = 0;
		rc = b->stream.next(b->stream.ctx, turn_left(b->h), &b->buf, &b->done);
		if (rc != 0) {
			mu_node_log(b->h->node, MU_LOG_WARN,
			            "http: a feed stopped half-way: %s",
			            mu_strerror(rc));
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (b->buf.len == 0)
			return b->done ? MHD_CONTENT_READER_END_OF_STREAM : 0;
	}
	n = b->buf.len - b->off < max ? b->buf.len - b->off : max;
	memcpy(out, b->buf.data + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static void
free_body(void *cls)
{
	struct http_body *b = cls;

	if (b->stream.next != NULL) {
		b->stream.free(b->stream.ctx);
		b->h->streams--;
	}
	b->h->held -= b->held;
	mu_buf_free(&b->buf);
	free(b);
}

static void
drop_stream(struct mu_http_reply *rp)
{
	if (rp->stream.next != NULL)
		rp->stream.free(rp->stream.ctx);
	rp->stream.next = NULL;
}

/* Whether an If-None-Match header names etag (or is "*"). */
static bool
etag_matches(const char *inm, const char *etag)
{
	const char *p;
	size_t n = strlen(etag);

	if (inm == NULL)
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	for (p = inm; (p = strstr(p, etag)) != NULL; p += n)
		if (p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/')
			return true;
	return false;
}

static enum MHD_Result
send_reply(struct mu_http *h, struct MHD_Connection *conn, struct mu_http_reply *rp,
           bool last)
{
	struct MHD_Response *r;
	struct http_body *b;
	enum MHD_Result ok;
	bool page = rp->form == MU_HTTP_HTML && rp->type == NULL;
	bool stream = rp->stream.next != NULL;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		drop_stream(rp);
		return MHD_NO;
	}
	b->h = h;
	b->mc = conn;
	b->stream = rp->stream;
	rp->stream.next = NULL;
	if (stream) {
		h->streams++;
	} else {
		b->buf = rp->body; /* the body is the reply's now */
		rp->body = (struct mu_buf)MU_BUF_INIT;
		b->held = b->buf.cap;
		h->held += b->held;
	}
	r = MHD_create_response_from_callback(stream ? MHD_SIZE_UNKNOWN : b->buf.len,
	                                      BLOCK_SIZE, read_body, b, free_body);
	if (r == NULL) {
		free_body(b);
		return MHD_NO;
	}
	ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rp));
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* same-origin, not no-referrer: under no-referrer a browser sends
	 * "Origin: null" with the pages' own forms, and the same-origin check
	 * of a post (http_entries.c) could not tell them from another site's.
	 * Other sites still get no Referer. */
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "Content-Security-Policy",
		                             page ? CSP_PAGE : CSP_DATA);
	/* Records change at any time: revalidate, except the built-in files. */
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		                             rp->asset ? "public, max-age=3600"
		                                       : "no-cache");
	if (ok == MHD_YES && rp->etag[0] != '\0')
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rp->etag);
	if (ok == MHD_YES && rp->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (ok == MHD_YES && rp->status == MHD_HTTP_SERVICE_UNAVAILABLE)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		                             BUSY_RETRY_S);
	if (ok == MHD_YES && last)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, rp->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Replaces the reply with a 503 saying what is busy. */
static int
busy(struct mu_http_reply *rp, const char *what)
{
	drop_stream(rp);
	rp->type = NULL;
	rp->asset = false;
	rp->etag[0] = '\0';
	return mu_http_fail(
	    rp, MHD_HTTP_SERVICE_UNAVAILABLE,
	    "the node is busy serving %s; try again in " BUSY_RETRY_S " seconds", what);
}

/* The refusal of a post before its body is read, or NULL. */
static const char *
post_refusal(struct mu_http *h, struct MHD_Connection *mc, unsigned *status)
{
	const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);

	if (!post_allowed(h, mc)) {
		*status = 429;
		return "Too many forms were sent from your address in the last "
		       "minute. Wait a minute, then go back and send the form again.";
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > BODY_MAX) {
		*status = 413;
		return "The form is too large: a name, a contact and a comment of "
		       "a few lines fit. Go back, shorten what you wrote, and send "
		       "it again.";
	}
	if (ct == NULL || strncmp(ct, FORM_TYPE, strlen(FORM_TYPE)) != 0) {
		*status = 415;
		return "This address takes only the page's own form "
		       "(" FORM_TYPE "). Open the page and use its form.";
	}
	return NULL;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct mu_http *h = cls;
	struct http_conn *c = conn_of(conn);
	struct mu_http_req rq;
	struct mu_http_reply rp = {.status = 200, .form = MU_HTTP_TEXT};
	char path[LOG_TEXT_SIZE], verb[LOG_TEXT_SIZE];
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	           strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0 && post_path(url);
	struct post_body *pb = NULL;
	const char *refusal = NULL;
	unsigned refusal_status = 0;
	enum MHD_Result ok;
	int rc;

	(void)version;
	if (c != NULL)
		c->in_request = true; /* the headers are in: no header deadline */
	/* MHD calls once when the headers are in, and again when the body
	 * (none for GET and HEAD) is: answering in the second call keeps the
	 * connection open for the next request; answering in the first makes
	 * MHD close it. Other methods are answered at once (and closed), so
	 * that no body they send is read; so is a post refused before its
	 * body. */
	if (*state == NULL && get) {
		*state = h;
		return MHD_YES;
	}
	if (*state == NULL && post) {
		refusal = post_refusal(h, conn, &refusal_status);
		if (refusal == NULL) {
			if ((pb = calloc(1, sizeof(*pb))) == NULL)
				return MHD_NO;
			*state = pb;
			return MHD_YES;
		}
	} else if (post && *state != NULL && *state != h) {
		pb = *state;
		if (*upload_size != 0) {
			if (!pb->too_big && pb->buf.len + *upload_size <= BODY_MAX) {
				if (mu_buf_append(&pb->buf, upload, *upload_size) != 0)
					return MHD_NO;
			} else {
				pb->too_big = true;
				mu_buf_free(&pb->buf);
			}
			*upload_size = 0;
			return MHD_YES;
		}
	} else if (*upload_size != 0) {
		*upload_size = 0; /* a GET with a body: the body is ignored */
		return MHD_YES;
	}
	/* MHD calls again for a deferred request once it is resumed. */
	if (!turn_allows(h)) {
		defer(h, conn);
		return MHD_YES;
	}
	h->turn_items++;
	memset(&rq, 0, sizeof(rq));
	rq.node = h->node;
	rq.path = url;
	rq.now = (int64_t)time(NULL);
	rq.boot = h->boot;
	/* Read again each time: `muster link --renew` takes effect at once. */
	if (mu_store_form_key(h->node->store, h->form_key, false) != 0)
		mu_node_log(h->node, MU_LOG_WARN, "http: cannot read the form key");
	rq.form_key = h->form_key;
	rq.host = safe_host(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST));
	if (rq.host == NULL)
		rq.host = h->name;
	rq.origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	rq.referer =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
	if (pb != NULL && pb->too_big) {
		refusal_status = 413;
		refusal = "The form is too large: a name, a contact and a comment of "
		          "a few lines fit. Go back, shorten what you wrote, and send "
		          "it again.";
	} else if (pb != NULL) {
		rq.post = true;
		rq.body = pb->buf.len > 0 ? (const char *)pb->buf.data : "";
		rq.body_len = pb->buf.len;
	}
	if (refusal != NULL) {
		rp.form = MU_HTTP_HTML;
		rc = mu_http_refuse(&rp, refusal_status, "%s", refusal);
	} else if (!get && !post) {
		rc = mu_http_fail(&rp, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "only GET and HEAD are served here, and POST only "
		                  "by the forms of the event, petition, pledge and "
		                  "receipt pages");
	} else if (h->held > HELD_MAX) {
		rp.form = strncmp(url, "/api/", 5) == 0 ? MU_HTTP_JSON : MU_HTTP_TEXT;
		rc = busy(&rp, "other replies");
	} else {
		if (c != NULL && c->too_many_args)
			rq.nargs = MU_HTTP_ARGS_MAX + 1;
		else
			MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND,
			                          collect_arg, &rq);
		rc = route(&rq, &rp);
	}
	if (rc < 0) {
		mu_node_log(h->node, MU_LOG_WARN, "http: %s %s failed: %s",
		            log_text(verb, method), log_text(path, url),
		            mu_strerror(rc));
		drop_stream(&rp);
		mu_buf_free(&rp.body);
		rp.type = NULL;
		rp.asset = false;
		rp.etag[0] = '\0';
		if (mu_http_fail(&rp, rc == MU_EBUSY ? 503 : 500,
		                 "the node could not read its store (%s); see its log",
		                 mu_strerror(rc)) != 0)
			return MHD_NO;
	}
	if (rp.status != 200)
		rp.etag[0] = '\0';
	if (rp.etag[0] != '\0' &&
	    etag_matches(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_IF_NONE_MATCH),
	                 rp.etag)) {
		/* Unchanged: what the feed would be is not even read. */
		drop_stream(&rp);
		mu_buf_free(&rp.body);
		rp.status = MHD_HTTP_NOT_MODIFIED;
	} else if (rp.stream.next != NULL && h->streams >= STREAMS_MAX &&
	           busy(&rp, "other feeds and lists") != 0) {
		return MHD_NO;
	}
	mu_node_log(h->node, MU_LOG_DEBUG, "http: %s %s %u", log_text(verb, method),
	            log_text(path, url), rp.status);
	if (c != NULL)
		c->requests++;
	ok = send_reply(h, conn, &rp, c != NULL && c->requests >= KEEPALIVE_MAX);
	mu_buf_free(&rp.body);
	return ok;
}

/* A reply is done (sent or not): the next request's deadline starts. */
static void
on_completed(void *cls, struct MHD_Connection *mc, void **state,
             enum MHD_RequestTerminationCode toe)
{
	struct mu_http *h = cls;
	struct http_conn *c = conn_of(mc);

	(void)toe;
	if (*state != NULL && *state != h) {
		struct post_body *pb = *state;

		/* The form may hold what a person typed: wiped, not only freed. */
		if (pb->buf.data != NULL)
			sodium_memzero(pb->buf.data, pb->buf.cap);
		mu_buf_free(&pb->buf);
		free(pb);
		*state = NULL;
	}
	if (c != NULL) {
		c->in_request = false;
		c->since = uv_now(h->node->loop);
	}
}

/* Shuts a connection down; MHD then reads its end and closes it. */
static bool
cut_conn(struct http_conn *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (ci == NULL)
		return false;
	shutdown(ci->connect_fd, SHUT_RDWR);
	c->cut = true;
	return true;
}

/* Shuts down the connections past their header deadline. */
static void
on_sweep(uv_timer_t *t)
{
	struct mu_http *h = t->data;
	uint64_t now = uv_now(h->node->loop);
	struct http_conn *c;
	unsigned cut = 0;

	for (c = h->conns; c != NULL; c = c->next)
		if (!c->in_request && !c->cut && now - c->since >= HEADER_DEADLINE_MS)
			cut += cut_conn(c);
	if (cut > 0) {
		mu_node_log(h->node, MU_LOG_DEBUG,
		            "http: closed %u connections that sent no complete "
		            "request within %d ms",
		            cut, HEADER_DEADLINE_MS);
		pump(h);
	}
}

/*
 * Past CONN_MAX connections, a new one cuts the oldest that has not sent a
 * whole request yet: MHD would stop accepting at its limit, and clients
 * that trickle headers would then keep the listen backlog full and honest
 * clients out. An honest request's headers come in one packet, so it is
 * never the one cut; trickling ones must keep reconnecting, and newcomers
 * get in meanwhile.
 */
static void
evict_idle(struct mu_http *h)
{
	struct http_conn *c, *oldest = NULL;

	for (c = h->conns->next; c != NULL; c = c->next)
		if (!c->in_request && !c->cut)
			oldest = c; /* the list is newest first */
	if (oldest != NULL && cut_conn(oldest))
		mu_node_log(h->node, MU_LOG_DEBUG,
		            "http: %zu connections: closed the oldest waiting for "
		            "its request",
		            h->nconns);
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
	struct mu_http *h = cls;
	struct http_conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Without memory the connection is served, only not swept. */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return;
		c->h = h;
		c->mc = mc;
		c->since = uv_now(h->node->loop);
		c->next = h->conns;
		if (h->conns != NULL)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
		*socket_context = c;
		if (!uv_is_active((uv_handle_t *)&h->sweep))
			uv_timer_start(&h->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
		if (h->nconns > CONN_MAX)
			evict_idle(h);
		return;
	}
	if (c == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	h->nconns--;
	*socket_context = NULL;
	if (h->conns == NULL)
		uv_timer_stop(&h->sweep);
}

/* --- starting and stopping --------------------------------------------------- */

/* Binds the listening socket ourselves, so that a failure says why (MHD
 * only says that it could not start). */
static int
bind_socket(struct mu_http *h, const char *addr, int *fd_out, struct mu_why *why)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1, err;

	if (mu_node_addr_resolve(h->node->loop, addr, &sa, why) != 0)
		return mu_fail(why, MU_EINVAL,
		               "cannot serve HTTP on %s: %s (give --http HOST:PORT, "
		               "or --http off)",
		               addr, why->text);
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mu_fail(why, MU_EIO, "cannot serve HTTP on %s: %s", addr,
		               strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa,
	         sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                  : sizeof(struct sockaddr_in)) != 0 ||
	    listen(fd, BACKLOG) != 0) {
		err = errno;
		close(fd);
		if (err == EADDRINUSE)
			return mu_fail(why, MU_EIO,
			               "cannot serve HTTP on %s: the address is in use "
			               "(another node?); choose another with --http "
			               "HOST:PORT, or turn HTTP off with --http off",
			               addr);
		return mu_fail(why, MU_EIO,
		               "cannot serve HTTP on %s: %s; choose another address "
		               "with --http HOST:PORT, or --http off",
		               addr, strerror(err));
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		mu_node_addr_name((struct sockaddr *)&sa, h->name, sizeof(h->name),
		                  NULL);
	else
		snprintf(h->name, sizeof(h->name), "%s", addr);
	*fd_out = fd;
	return 0;
}

static void
on_close(uv_handle_t *handle)
{
	struct mu_http *h = handle->data;

	if (--h->handles == 0)
		free(h);
}

int
mu_http_start(struct mu_node *node, struct mu_why *why)
{
	const union MHD_DaemonInfo *info;
	struct mu_http *h;
	int fd = -1, rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	h->node = node;
	node->http = h;
	randombytes_buf(&h->boot, sizeof(h->boot));
	uv_timer_init(node->loop, &h->timer);
	h->timer.data = h;
	uv_timer_init(node->loop, &h->sweep);
	h->sweep.data = h;
	uv_idle_init(node->loop, &h->idle);
	h->idle.data = h;
	uv_prepare_init(node->loop, &h->mark);
	h->mark.data = h;
	h->handles = 4;
	uv_prepare_start(&h->mark, on_mark);
	uv_unref((uv_handle_t *)&h->mark); /* does not keep the loop alive */
	if ((rc = mu_store_form_key(node->store, h->form_key, false)) != 0)
		return mu_fail(why, rc,
		               "cannot read or make the key of the pages' "
		               "forms: %s",
		               mu_strerror(rc));
	if ((rc = bind_socket(h, node->opts.http, &fd, why)) != 0)
		return rc;
	h->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
	    on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
	    h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_HARD_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CONN_PER_IP_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(fd);
		return mu_fail(why, MU_EIO,
		               "cannot serve HTTP on %s: libmicrohttpd did not start "
		               "(out of memory or descriptors?); --http off turns it "
		               "off",
		               h->name);
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL ||
	    (rc = uv_poll_init(node->loop, &h->poll, info->epoll_fd)) != 0)
		return mu_fail(why, MU_EIO,
		               "cannot serve HTTP on %s: cannot watch "
		               "its sockets",
		               h->name);
	h->poll.data = h;
	h->handles++;
	h->poll_open = true;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	pump(h);
	mu_node_log(node, MU_LOG_INFO, "serving HTTP on http://%s/", h->name);
	return 0;
}

void
mu_http_stop(struct mu_node *node)
{
	struct mu_http *h = node->http;

	if (h == NULL)
		return;
	node->http = NULL;
	/* libuv lets go of MHD's epoll descriptor before MHD closes it. */
	if (h->poll_open)
		uv_close((uv_handle_t *)&h->poll, on_close);
	uv_close((uv_handle_t *)&h->timer, on_close);
	uv_close((uv_handle_t *)&h->sweep, on_close);
	uv_close((uv_handle_t *)&h->idle, on_close);
	uv_close((uv_handle_t *)&h->mark, on_close);
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}
