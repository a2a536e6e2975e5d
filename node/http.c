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
 * peers change on the loop thread without locks. On the loop every request
 * is one function call with its own read transactions, between two
 * callbacks of the sync code. Requests are short (memory-mapped reads,
 * lists capped at MU_HTTP_LIST_MAX), so they delay gossip by milliseconds at
 * most; the connection limits below keep a flood of them bounded.
 *
 * No request reaches the store's write path: handlers call only the store's
 * query functions. Only GET and HEAD are served (MHD leaves the body out of
 * a HEAD reply and keeps Content-Length).
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

#include "../protocol/utf8.h"
#include "../storage/local.h"
#include "addr.h"
#include "http.h"

#define CONN_MAX        64        /* open HTTP connections at once */
#define CONN_PER_IP_MAX 16        /* of those, from one address */
#define CONN_TIMEOUT_S  10        /* an idle or slow connection is closed */
#define CONN_MEMORY     32 * 1024 /* request line and headers of one connection */
#define BACKLOG         64
#define TIMER_MAX_MS    60000
#define LOG_TEXT_SIZE   256

/* Every page: the scripts and styles are our own files, nothing else loads,
 * and no other site frames us. */
#define CSP_PAGE                                                                       \
	"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "    \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define CSP_DATA "default-src 'none'; frame-ancestors 'none'; sandbox"

struct http {
	struct mu_node *node;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles; /* uv handles open: freed when the last closes */
	char name[MU_PEER_ADDR_MAX];
};

static void on_timer(uv_timer_t *t);

/* Lets MHD do what is ready, then waits for its next deadline. */
static void
pump(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (h->mhd == NULL)
		return;
	MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		uv_timer_start(&h->timer, on_timer,
		               ms < TIMER_MAX_MS ? ms : TIMER_MAX_MS, 0);
	else
		uv_timer_stop(&h->timer);
}

static void
on_timer(uv_timer_t *t)
{
	pump(t->data);
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
	return out;
}

/* libmicrohttpd's messages; fmt is its own printf format. */
static void __attribute__((format(printf, 2, 0)))
on_log(void *cls, const char *fmt, va_list ap)
{
	struct http *h = cls;
	char line[LOG_TEXT_SIZE], safe[LOG_TEXT_SIZE];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	mu_node_log(h->node, MU_LOG_DEBUG, "http: %s", log_text(safe, line));
}

/* --- one request ------------------------------------------------------------ */

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

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct mu_http_reply *rp)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	bool page = rp->form == MU_HTTP_HTML && rp->type == NULL;

	if (rp->body.data == NULL && mu_buf_reserve(&rp->body, 1) != 0)
		return MHD_NO;
	r = MHD_create_response_from_buffer_with_free_callback(rp->body.len,
	                                                       rp->body.data, free);
	if (r == NULL) {
		mu_buf_free(&rp->body);
		return MHD_NO;
	}
	rp->body.data = NULL; /* the response owns it now */
	ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rp));
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (ok == MHD_YES)
		ok = MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
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
	if (ok == MHD_YES && rp->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, rp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct http *h = cls;
	struct mu_http_req rq;
	struct mu_http_reply rp = {200, MU_HTTP_TEXT, NULL, false, MU_BUF_INIT};
	char path[LOG_TEXT_SIZE], verb[LOG_TEXT_SIZE];
	enum MHD_Result ok;
	int rc;

	(void)version;
	(void)upload;
	/* MHD calls once when the headers are in, and again when the body
	 * (none for GET and HEAD) is: answering in the second call keeps the
	 * connection open for the next request; answering in the first makes
	 * MHD close it. Other methods are answered at once (and closed), so
	 * that no body they send is read. */
	if (*state == NULL && (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	                       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)) {
		*state = h;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* a GET with a body: the body is ignored */
		return MHD_YES;
	}
	memset(&rq, 0, sizeof(rq));
	rq.node = h->node;
	rq.path = url;
	rq.now = (int64_t)time(NULL);
	rq.host = safe_host(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST));
	if (rq.host == NULL)
		rq.host = h->name;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		rc = mu_http_fail(&rp, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "only GET and HEAD are served here: this server is "
		                  "read-only");
	} else {
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg,
		                          &rq);
		rc = route(&rq, &rp);
	}
	if (rc < 0) {
		mu_node_log(h->node, MU_LOG_WARN, "http: %s %s failed: %s",
		            log_text(verb, method), log_text(path, url),
		            mu_strerror(rc));
		mu_buf_free(&rp.body);
		rp.type = NULL;
		rp.asset = false;
		if (mu_http_fail(&rp, rc == MU_EBUSY ? 503 : 500,
		                 "the node could not read its store (%s); see its log",
		                 mu_strerror(rc)) != 0)
			return MHD_NO;
	}
	mu_node_log(h->node, MU_LOG_DEBUG, "http: %s %s %u", log_text(verb, method),
	            log_text(path, url), rp.status);
	ok = send_reply(conn, &rp);
	mu_buf_free(&rp.body);
	return ok;
}

/* --- starting and stopping --------------------------------------------------- */

/* Binds the listening socket ourselves, so that a failure says why (MHD
 * only says that it could not start). */
static int
bind_socket(struct http *h, const char *addr, int *fd_out, struct mu_why *why)
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
	struct http *h = handle->data;

	if (--h->handles == 0)
		free(h);
}

int
mu_http_start(struct mu_node *node, struct mu_why *why)
{
	const union MHD_DaemonInfo *info;
	struct http *h;
	int fd = -1, rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	h->node = node;
	node->http = h;
	uv_timer_init(node->loop, &h->timer);
	h->timer.data = h;
	h->handles = 1;
	if ((rc = bind_socket(h, node->opts.http, &fd, why)) != 0)
		return rc;
	h->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, h, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
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
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	pump(h);
	mu_node_log(node, MU_LOG_INFO, "serving HTTP on http://%s/", h->name);
	return 0;
}

void
mu_http_stop(struct mu_node *node)
{
	struct http *h = node->http;

	if (h == NULL)
		return;
	node->http = NULL;
	/* libuv lets go of MHD's epoll descriptor before MHD closes it. */
	if (h->handles == 2)
		uv_close((uv_handle_t *)&h->poll, on_close);
	uv_close((uv_handle_t *)&h->timer, on_close);
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}
