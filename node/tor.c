/*
 * tor.c - Debian's tor as the node's child (internal.h, "Tor").
 *
 * tor runs with its own data directory in HOME/tor/data, a ControlPort and
 * a SocksPort on loopback ports it picks itself ("auto": never taken), and
 * writes the control port to a file we poll for. Over the control port
 * (tor's control-spec.txt) we authenticate with the cookie, take ownership
 * (tor exits when our control connection closes, and __OwningControllerProcess
 * makes it exit when we die), learn the SocksPort, add the onion service and
 * poll the bootstrap phase. A tor that exits is restarted with exponential
 * backoff. HOME/tor/state tells `muster status` where tor stands.
 *
 * For tests only: MUSTER_TOR_EXTRA_CONFIG names a torrc fragment included
 * at the end (the private network's DirAuthority lines), MUSTER_TOR the tor
 * binary to run.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../storage/home.h"
#include "../storage/local.h"
#include "addr.h"
#include "internal.h"

#define TOR_BIN        "/usr/sbin/tor"
#define POLL_MS        100    /* the control port file */
#define BOOT_POLL_MS   500    /* the bootstrap phase */
#define RESTART_MIN_MS 1000   /* first restart delay, doubled each time */
#define RESTART_MAX_MS 60000  /* up to this */
#define BOOT_MAX_MS    180000 /* a one-shot sync gives up on tor after this */
#define LINE_MAX_TOR   4096
#define REPLY_MAX      16384

enum step {
	S_SPAWNED, /* waiting for the control port file */
	S_CONNECT, /* connecting to the control port */
	S_PROTOINFO,
	S_AUTH,
	S_OWN,
	S_SOCKS,
	S_ONION,
	S_BOOT, /* polling status/bootstrap-phase */
	S_READY,
	S_DOWN, /* tor exited; a restart waits */
};

struct ctl_write {
	uv_write_t req;
	size_t len;
	char data[];
};

struct mu_tor {
	struct mu_node *node;
	uv_process_t proc;
	uv_pipe_t out; /* tor's stdout: its log */
	uv_tcp_t ctl;
	uv_connect_t conn_req;
	uv_timer_t timer;
	bool proc_open, out_open, ctl_open, stopping;
	enum step step;
	char *dir;      /* HOME/tor */
	char *listen;   /* onion port target, NULL: none */
	char *http;     /* virtual port 80 target, NULL: none */
	uint16_t vport; /* the onion service's node port */
	unsigned restart_ms;
	uint64_t started_ms;
	int progress;
	bool ever_ready;
	char summary[128];
	char onion[MU_PEER_ADDR_MAX]; /* NAME.onion:PORT once known */
	char last_err[256];           /* tor's last warning or error */
	char logbuf[LINE_MAX_TOR];
	size_t loglen;
	char rbuf[REPLY_MAX]; /* control lines not yet complete */
	size_t rlen;
	char reply[REPLY_MAX]; /* the lines of the reply so far */
	size_t replylen;
};

static void spawn_tor(struct mu_tor *t);
static void on_timer(uv_timer_t *h);

static char *
path_in(const struct mu_tor *t, const char *name)
{
	size_t n = strlen(t->dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", t->dir, name);
	return p;
}

static void write_state(struct mu_tor *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* HOME/tor/state: "state=..." and, once known, "onion=NAME.onion:PORT". */
static void
write_state(struct mu_tor *t, const char *fmt, ...)
{
	char state[256], text[640];
	struct mu_why why = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "state=%s\n%s%s%s", state,
	         t->onion[0] != '\0' ? "onion=" : "", t->onion,
	         t->onion[0] != '\0' ? "\n" : "");
	if (t->node->once)
		return;
	if (mu_home_write_state(t->node->home, MU_HOME_TOR_STATE, text, &why) != 0)
		mu_node_log(t->node, MU_LOG_WARN, "tor: %s", why.text);
}

/* --- the control connection ---------------------------------------------- */

static void
on_ctl_write(uv_write_t *req, int status)
{
	struct ctl_write *w = (struct ctl_write *)req;

	(void)status;
	sodium_memzero(w->data, w->len); /* ADD_ONION carries the key */
	free(w);
}

static void
ctl_send(struct mu_tor *t, const char *cmd)
{
	size_t n = strlen(cmd);
	struct ctl_write *w = malloc(sizeof(*w) + n);
	uv_buf_t b;

	if (w == NULL)
		return;
	memcpy(w->data, cmd, n);
	w->len = n;
	b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&t->ctl, &b, 1, on_ctl_write) != 0) {
		sodium_memzero(w->data, n);
		free(w);
	}
}

static void
ctl_closed(uv_handle_t *h)
{
	struct mu_tor *t = h->data;

	t->ctl_open = false;
}

static void
ctl_close(struct mu_tor *t)
{
	if (t->ctl_open && !uv_is_closing((uv_handle_t *)&t->ctl))
		uv_close((uv_handle_t *)&t->ctl, ctl_closed);
	sodium_memzero(t->reply, sizeof(t->reply));
	sodium_memzero(t->rbuf, sizeof(t->rbuf));
	t->rlen = t->replylen = 0;
}

static void
ctl_fail(struct mu_tor *t, const char *what)
{
	mu_node_log(t->node, MU_LOG_ERROR, "tor: %s", what);
	write_state(t, "error: %s", what);
	/* tor exits (closing the owning connection would do it too): the
	 * restart with backoff tries again. */
	ctl_close(t);
	if (t->proc_open)
		uv_process_kill(&t->proc, SIGTERM);
}

static const char *
find_value(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p != NULL ? p + strlen(key) : NULL;
}

static void
add_onion(struct mu_tor *t)
{
	uint8_t *key = sodium_malloc(MU_HOME_ONION_KEY_BYTES);
	char *cmd = sodium_malloc(1024);
	char b64[sodium_base64_ENCODED_LEN(MU_HOME_ONION_KEY_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];
	struct mu_why why = {0};
	size_t n;
	int rc;

	if (key == NULL || cmd == NULL) {
		ctl_fail(t, "out of memory");
		goto out;
	}
	rc = mu_home_read_onion_key(t->node->home, key, &why);
	if (rc != 0 && rc != MU_ENOTFOUND) {
		ctl_fail(t, why.text);
		goto out;
	}
	if (rc == 0) {
		sodium_bin2base64(b64, sizeof(b64), key, MU_HOME_ONION_KEY_BYTES,
		                  sodium_base64_VARIANT_ORIGINAL);
		n = (size_t)snprintf(cmd, 1024, "ADD_ONION ED25519-V3:%s", b64);
		sodium_memzero(b64, sizeof(b64));
	} else
		n = (size_t)snprintf(cmd, 1024, "ADD_ONION NEW:ED25519-V3");
	n += (size_t)snprintf(cmd + n, 1024 - n, " Port=%u,%s", (unsigned)t->vport,
	                      t->listen);
	if (t->http != NULL)
		n += (size_t)snprintf(cmd + n, 1024 - n, " Port=80,%s", t->http);
	snprintf(cmd + n, 1024 - n, "\r\n");
	t->step = S_ONION;
	ctl_send(t, cmd);
out:
	if (key != NULL)
		sodium_free(key);
	if (cmd != NULL)
		sodium_free(cmd);
}

/* ADD_ONION answered: keep a new key, write the host name, announce it. */
static void
onion_added(struct mu_tor *t)
{
	const char *id = find_value(t->reply, "ServiceID="), *pk;
	struct mu_node_opts *o = &t->node->opts;
	uint8_t *key = NULL;
	char host[128];
	struct mu_why why = {0};
	size_t n = 0, klen;

	if (id != NULL)
		n = strspn(id, "abcdefghijklmnopqrstuvwxyz234567");
	if (id == NULL || n < 16 || n > 100) {
		ctl_fail(t, "tor's ADD_ONION answer has no ServiceID");
		return;
	}
	snprintf(host, sizeof(host), "%.*s.onion", (int)n, id);
	pk = find_value(t->reply, "PrivateKey=ED25519-V3:");
	if (pk != NULL) {
		key = sodium_malloc(MU_HOME_ONION_KEY_BYTES);
		if (key == NULL ||
		    sodium_base642bin(key, MU_HOME_ONION_KEY_BYTES, pk,
		                      strcspn(pk, "=\r\n"), NULL, &klen, NULL,
		                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
		    klen != MU_HOME_ONION_KEY_BYTES ||
		    mu_home_write_onion_key(t->node->home, key, &why) != 0) {
			if (key != NULL)
				sodium_free(key);
			ctl_fail(t, why.text[0] != '\0'
			                ? why.text
			                : "cannot keep the new onion service key");
			return;
		}
		sodium_free(key);
		mu_node_log(t->node, MU_LOG_INFO,
		            "tor: new onion service %s, its key kept in %s/onion_key",
		            host, t->dir);
	}
	snprintf(t->onion, sizeof(t->onion), "%s:%u", host, (unsigned)t->vport);
	{
		char line[160];

		snprintf(line, sizeof(line), "%s\n", host);
		if (mu_home_write_state(t->node->home, MU_HOME_TOR_HOSTNAME, line,
		                        &why) != 0)
			mu_node_log(t->node, MU_LOG_WARN, "tor: %s", why.text);
	}
	/* Announced first, in place of any IP address. */
	if (o->nannounce == 0 || strcmp(o->announce[0], t->onion) != 0) {
		if (o->nannounce == MU_NODE_ANNOUNCE_MAX)
			o->nannounce--;
		memmove(&o->announce[1], &o->announce[0],
		        o->nannounce * sizeof(o->announce[0]));
		o->announce[0] = t->onion;
		o->nannounce++;
	}
	mu_node_log(t->node, MU_LOG_INFO, "tor: this node is reachable at %s",
	            t->onion);
	mu_dial_announce(t->node);
	/* The node record is signed: the daemon keeps no secret key. */
	mu_home_forget_secret(t->node->home);
}

static void
boot_phase(struct mu_tor *t)
{
	const char *p = find_value(t->reply, "PROGRESS="), *s;
	int progress = p != NULL ? atoi(p) : -1;
	char summary[128] = "";

	s = find_value(t->reply, "SUMMARY=\"");
	if (s != NULL)
		snprintf(summary, sizeof(summary), "%.*s", (int)strcspn(s, "\"\n"), s);
	if (progress < 0)
		return;
	if (progress != t->progress || strcmp(summary, t->summary) != 0) {
		t->progress = progress;
		snprintf(t->summary, sizeof(t->summary), "%s", summary);
		mu_node_log(t->node, MU_LOG_INFO, "tor: bootstrapped %d%%: %s",
		            progress, summary);
	}
	if (progress < 100) {
		write_state(t, "bootstrapping %d%% (%s)", progress, summary);
		return;
	}
	t->step = S_READY;
	t->restart_ms = RESTART_MIN_MS;
	write_state(t, "ready");
	uv_timer_stop(&t->timer);
	if (!t->ever_ready && t->node->tor_ready != NULL) {
		t->ever_ready = true;
		t->node->tor_ready(t->node);
	}
	t->ever_ready = true;
}

static void
send_auth(struct mu_tor *t)
{
	char *path = path_in(t, "data/control_auth_cookie");
	uint8_t cookie[32];
	char cmd[32 + 2 * sizeof(cookie) + 4];
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	size_t n = f != NULL ? fread(cookie, 1, sizeof(cookie), f) : 0;

	if (f != NULL)
		fclose(f);
	free(path);
	if (n != sizeof(cookie)) {
		ctl_fail(t, "cannot read tor's control cookie");
		return;
	}
	memcpy(cmd, "AUTHENTICATE ", 13);
	sodium_bin2hex(cmd + 13, sizeof(cmd) - 13, cookie, sizeof(cookie));
	strcat(cmd, "\r\n");
	sodium_memzero(cookie, sizeof(cookie));
	t->step = S_AUTH;
	ctl_send(t, cmd);
	sodium_memzero(cmd, sizeof(cmd));
}

static void
start_boot(struct mu_tor *t)
{
	t->step = S_BOOT;
	ctl_send(t, "GETINFO status/bootstrap-phase\r\n");
	uv_timer_start(&t->timer, on_timer, BOOT_POLL_MS, BOOT_POLL_MS);
}

/* One whole reply (its lines in t->reply): the next command. */
static void
on_reply(struct mu_tor *t, int code)
{
	char line[160];
	const char *v;

	if (code != 250) {
		snprintf(line, sizeof(line),
		         "the control port refused a command: %.100s", t->reply);
		ctl_fail(t, line);
		return;
	}
	switch (t->step) {
	case S_PROTOINFO:
		if (strstr(t->reply, "COOKIE") == NULL) {
			ctl_fail(t, "tor offers no cookie authentication");
			return;
		}
		send_auth(t);
		break;
	case S_AUTH:
		t->step = S_OWN;
		ctl_send(t, "TAKEOWNERSHIP\r\n");
		break;
	case S_OWN:
		t->step = S_SOCKS;
		ctl_send(t, "GETINFO net/listeners/socks\r\n");
		break;
	case S_SOCKS:
		v = find_value(t->reply, "net/listeners/socks=\"");
		if (v == NULL) {
			ctl_fail(t, "tor has no SocksPort");
			return;
		}
		snprintf(t->node->tor_socks, sizeof(t->node->tor_socks), "%.*s",
		         (int)strcspn(v, "\" \n"), v);
		mu_node_log(t->node, MU_LOG_DEBUG, "tor: SocksPort %s",
		            t->node->tor_socks);
		if (t->listen != NULL)
			add_onion(t); /* none in a one-shot sync */
		else
			start_boot(t);
		break;
	case S_ONION:
		onion_added(t);
		if (t->ctl_open && !uv_is_closing((uv_handle_t *)&t->ctl))
			start_boot(t);
		break;
	case S_BOOT:
		boot_phase(t);
		break;
	default:
		break;
	}
}

static void
on_ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct mu_tor *t = h->data;

	(void)hint;
	*buf = uv_buf_init(t->rbuf + t->rlen, (unsigned)(sizeof(t->rbuf) - t->rlen));
}

static void
on_ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mu_tor *t = s->data;
	char *nl;
	size_t len;

	(void)buf;
	if (nread < 0) {
		if (!t->stopping)
			mu_node_log(t->node, MU_LOG_DEBUG,
			            "tor: the control connection closed: %s",
			            uv_strerror((int)nread));
		ctl_close(t);
		return;
	}
	t->rlen += (size_t)nread;
	while ((nl = memchr(t->rbuf, '\n', t->rlen)) != NULL) {
		len = (size_t)(nl - t->rbuf) + 1;
		if (len >= 4 && t->rbuf[0] != '6' &&
		    t->replylen + len < sizeof(t->reply)) {
			memcpy(t->reply + t->replylen, t->rbuf + 4, len - 4);
			t->replylen += len - 4;
			t->reply[t->replylen] = '\0';
		}
		if (len >= 4 && t->rbuf[0] != '6' && t->rbuf[3] == ' ') {
			int code = atoi(t->rbuf);

			memmove(t->rbuf, t->rbuf + len, t->rlen - len);
			t->rlen -= len;
			on_reply(t, code);
			if (!t->ctl_open || uv_is_closing((uv_handle_t *)&t->ctl))
				return;
			sodium_memzero(t->reply, t->replylen);
			t->replylen = 0;
			continue;
		}
		memmove(t->rbuf, t->rbuf + len, t->rlen - len);
		t->rlen -= len;
	}
	if (t->rlen == sizeof(t->rbuf)) {
		ctl_fail(t, "tor sent a control line that is too long");
	}
}

static void
on_ctl_connect(uv_connect_t *req, int status)
{
	struct mu_tor *t = req->data;

	if (t->stopping || !t->ctl_open)
		return;
	if (status < 0) {
		ctl_fail(t, "cannot connect to tor's control port");
		return;
	}
	uv_read_start((uv_stream_t *)&t->ctl, on_ctl_alloc, on_ctl_read);
	t->step = S_PROTOINFO;
	ctl_send(t, "PROTOCOLINFO 1\r\n");
}

/* The control port file tor writes once it listens: "PORT=HOST:PORT". */
static void
try_control(struct mu_tor *t)
{
	char *path = path_in(t, "data/control_port"), text[128] = "";
	struct sockaddr_storage sa;
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	struct mu_why why = {0};

	if (f != NULL) {
		if (fgets(text, sizeof(text), f) == NULL)
			text[0] = '\0';
		fclose(f);
	}
	free(path);
	text[strcspn(text, "\r\n")] = '\0';
	if (strncmp(text, "PORT=", 5) != 0)
		return;
	if (mu_node_addr_resolve(t->node->loop, text + 5, &sa, &why) != 0) {
		ctl_fail(t, why.text);
		return;
	}
	uv_tcp_init(t->node->loop, &t->ctl);
	t->ctl.data = t;
	t->ctl_open = true;
	t->step = S_CONNECT;
	t->conn_req.data = t;
	if (uv_tcp_connect(&t->conn_req, &t->ctl, (struct sockaddr *)&sa,
	                   on_ctl_connect) != 0)
		ctl_fail(t, "cannot connect to tor's control port");
}

static void
on_timer(uv_timer_t *h)
{
	struct mu_tor *t = h->data;
	struct mu_node *node = t->node;

	if (t->stopping)
		return;
	if (node->once && !t->ever_ready &&
	    uv_now(node->loop) - t->started_ms > BOOT_MAX_MS) {
		node->exit_code = MU_EIO;
		mu_fail(&node->why, MU_EIO,
		        "tor did not bootstrap in %d s (it reached %d%%: %s)%s%s",
		        BOOT_MAX_MS / 1000, t->progress, t->summary,
		        t->last_err[0] != '\0' ? "; tor said: " : "", t->last_err);
		node->stopping = true;
		return;
	}
	switch (t->step) {
	case S_SPAWNED:
		try_control(t);
		break;
	case S_BOOT:
		ctl_send(t, "GETINFO status/bootstrap-phase\r\n");
		break;
	case S_DOWN:
		spawn_tor(t);
		break;
	default:
		break;
	}
}

/* --- the process ---------------------------------------------------------- */

/* One line of tor's log: kept at debug, its warnings remembered. */
static void
tor_line(struct mu_tor *t, char *line)
{
	char *msg = strstr(line, "] ");
	bool bad = strstr(line, "[warn]") != NULL || strstr(line, "[err]") != NULL;

	msg = msg != NULL ? msg + 2 : line;
	/* Not a reason tor stops: the node may well run as root in a
	 * container. */
	if (strstr(msg, "running Tor as root") != NULL)
		bad = false;
	if (bad)
		snprintf(t->last_err, sizeof(t->last_err), "%.200s", msg);
	mu_node_log(t->node, MU_LOG_DEBUG, "tor: %s", msg);
}

static void
on_out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct mu_tor *t = h->data;

	(void)hint;
	if (t->loglen == sizeof(t->logbuf) - 1)
		t->loglen = 0; /* a line too long for us: dropped */
	*buf = uv_buf_init(t->logbuf + t->loglen,
	                   (unsigned)(sizeof(t->logbuf) - 1 - t->loglen));
}

static void
on_out_closed(uv_handle_t *h)
{
	struct mu_tor *t = h->data;

	t->out_open = false;
}

static void
on_out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mu_tor *t = s->data;
	char *nl;
	size_t len;

	(void)buf;
	if (nread < 0) {
		if (!uv_is_closing((uv_handle_t *)&t->out))
			uv_close((uv_handle_t *)&t->out, on_out_closed);
		return;
	}
	t->loglen += (size_t)nread;
	while ((nl = memchr(t->logbuf, '\n', t->loglen)) != NULL) {
		*nl = '\0';
		len = (size_t)(nl - t->logbuf) + 1;
		tor_line(t, t->logbuf);
		memmove(t->logbuf, t->logbuf + len, t->loglen - len);
		t->loglen -= len;
	}
}

static void
on_proc_closed(uv_handle_t *h)
{
	struct mu_tor *t = h->data;

	t->proc_open = false;
}

static void
tor_exited(uv_process_t *p, int64_t status, int sig)
{
	struct mu_tor *t = p->data;
	struct mu_node *node = t->node;

	uv_close((uv_handle_t *)&t->proc, on_proc_closed);
	ctl_close(t);
	node->tor_socks[0] = '\0';
	if (t->stopping)
		return;
	t->step = S_DOWN;
	if (node->once && !t->ever_ready) {
		node->exit_code = MU_EIO;
		mu_fail(&node->why, MU_EIO, "tor exited (%s %d)%s%s",
		        sig != 0 ? "signal" : "status", sig != 0 ? sig : (int)status,
		        t->last_err[0] != '\0' ? ": " : "", t->last_err);
		node->stopping = true;
		return;
	}
	mu_node_log(node, MU_LOG_WARN, "tor exited (%s %d)%s%s; restarting in %u s",
	            sig != 0 ? "signal" : "status", sig != 0 ? sig : (int)status,
	            t->last_err[0] != '\0' ? ": " : "", t->last_err,
	            t->restart_ms / 1000);
	write_state(t, "restarting in %u s (tor exited: %s)", t->restart_ms / 1000,
	            t->last_err[0] != '\0' ? t->last_err : "no reason given");
	uv_timer_start(&t->timer, on_timer, t->restart_ms, 0);
	t->restart_ms =
	    t->restart_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : t->restart_ms * 2;
}

/* Appends "Name "VALUE"\n" with VALUE quoted as torrc reads it. */
static void
conf_path(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s \"", name);
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\')
			fputc('\\', f);
		fputc(*value, f);
	}
	fputs("\"\n", f);
}

static int
write_torrc(struct mu_tor *t, struct mu_why *why)
{
	char *torrc = path_in(t, "torrc"), *data = path_in(t, "data");
	char *cport = path_in(t, "data/control_port");
	const char *extra = getenv("MUSTER_TOR_EXTRA_CONFIG");
	FILE *f = NULL;
	int rc = 0;

	if (torrc == NULL || data == NULL || cport == NULL) {
		rc = mu_fail(why, MU_ENOMEM, "out of memory");
		goto out;
	}
	unlink(cport); /* a stale one from the last run */
	f = fopen(torrc, "w");
	if (f == NULL) {
		rc =
		    mu_fail(why, MU_EIO, "cannot write %s: %s", torrc, strerror(errno));
		goto out;
	}
	/* Made anew at every start: what is in it is ours. */
	fputs("# Written by muster serve --tor at every start; edits are lost.\n", f);
	conf_path(f, "DataDirectory", data);
	fputs("ControlPort 127.0.0.1:auto\n", f);
	conf_path(f, "ControlPortWriteToFile", cport);
	fputs("CookieAuthentication 1\nSocksPort 127.0.0.1:auto\n", f);
	fputs("Log notice stdout\nRunAsDaemon 0\n", f);
	fprintf(f, "__OwningControllerProcess %ld\n", (long)getpid());
	if (extra != NULL && extra[0] != '\0')
		conf_path(f, "%include", extra);
	if (fclose(f) != 0)
		rc =
		    mu_fail(why, MU_EIO, "cannot write %s: %s", torrc, strerror(errno));
out:
	free(torrc);
	free(data);
	free(cport);
	return rc;
}

int
mu_tor_find(char *out, size_t cap, struct mu_why *why)
{
	const char *env = getenv("MUSTER_TOR"), *path = getenv("PATH"), *end;
	size_t n;

	if (env != NULL && env[0] != '\0') {
		snprintf(out, cap, "%s", env);
		if (access(out, X_OK) == 0)
			goto found;
		goto missing;
	}
	/* Debian puts it in /usr/sbin, which a user's PATH often lacks. */
	snprintf(out, cap, "%s", TOR_BIN);
	if (access(out, X_OK) == 0)
		goto found;
	for (; path != NULL && *path != '\0'; path = *end != '\0' ? end + 1 : end) {
		end = strchr(path, ':');
		if (end == NULL)
			end = path + strlen(path);
		n = (size_t)(end - path);
		if (n == 0 ||
		    (size_t)snprintf(out, cap, "%.*s/tor", (int)n, path) >= cap)
			continue;
		if (access(out, X_OK) == 0)
			goto found;
	}
	snprintf(out, cap, "%s", TOR_BIN);
missing:
	return mu_fail(why, MU_ENOTFOUND,
	               "tor is not installed (%s not found): install it with "
	               "`apt-get install tor`",
	               out);
found:
	return 0;
}

static int
spawn(struct mu_tor *t, struct mu_why *why)
{
	char bin[512];
	char *torrc = path_in(t, "torrc");
	char *args[6];
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	int rc;

	if (torrc == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	if ((rc = mu_tor_find(bin, sizeof(bin), why)) != 0) {
		free(torrc);
		return rc;
	}
	if (torrc == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	rc = write_torrc(t, why);
	if (rc != 0) {
		free(torrc);
		return rc;
	}
	args[0] = bin;
	args[1] = "-f";
	args[2] = torrc;
	args[3] = "--defaults-torrc";
	args[4] = "/dev/null";
	args[5] = NULL;
	memset(&po, 0, sizeof(po));
	uv_pipe_init(t->node->loop, &t->out, 0);
	t->out.data = t;
	t->out_open = true;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&t->out;
	stdio[2].flags = UV_IGNORE;
	po.file = bin;
	po.args = args;
	po.exit_cb = tor_exited;
	po.stdio = stdio;
	po.stdio_count = 3;
	t->proc.data = t;
	rc = uv_spawn(t->node->loop, &t->proc, &po);
	free(torrc);
	if (rc != 0) {
		uv_close((uv_handle_t *)&t->out, on_out_closed);
		if (rc != UV_ENOENT && rc != UV_EACCES)
			return mu_fail(why, MU_EIO, "cannot start tor (%s): %s", bin,
			               uv_strerror(rc));
		return mu_fail(why, MU_ENOTFOUND,
		               "tor is not installed (%s not found): install it with "
		               "`apt-get install tor`",
		               bin);
	}
	t->proc_open = true;
	uv_read_start((uv_stream_t *)&t->out, on_out_alloc, on_out_read);
	t->step = S_SPAWNED;
	t->progress = -1;
	t->summary[0] = '\0';
	t->last_err[0] = '\0';
	t->loglen = 0;
	write_state(t, "starting");
	mu_node_log(t->node, MU_LOG_INFO, "tor: started (pid %d), data in %s/data",
	            t->proc.pid, t->dir);
	uv_timer_start(&t->timer, on_timer, POLL_MS, POLL_MS);
	return 0;
}

static void
spawn_tor(struct mu_tor *t)
{
	struct mu_why why = {0};

	if (t->proc_open || t->out_open || t->ctl_open) {
		/* the last run's handles are still closing */
		uv_timer_start(&t->timer, on_timer, POLL_MS, 0);
		return;
	}
	if (spawn(t, &why) != 0) {
		mu_node_log(t->node, MU_LOG_ERROR, "tor: %s; retrying in %u s",
		            why.text, t->restart_ms / 1000);
		uv_timer_start(&t->timer, on_timer, t->restart_ms, 0);
		t->restart_ms = t->restart_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS
		                                                   : t->restart_ms * 2;
	}
}

/* "127.0.0.1:PORT" for a wildcard listen address, as tor must dial it. */
static char *
local_target(const char *addr)
{
	char host[MU_NODE_HOST_MAX], out[MU_PEER_ADDR_MAX];
	uint16_t port;

	if (mu_node_addr_split(addr, host, &port, NULL) != 0)
		return NULL;
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(out, sizeof(out), "127.0.0.1:%u", (unsigned)port);
	else if (strcmp(host, "::") == 0)
		snprintf(out, sizeof(out), "[::1]:%u", (unsigned)port);
	else
		snprintf(out, sizeof(out), "%s", addr);
	return strdup(out);
}

int
mu_tor_start(struct mu_node *node, const char *listen, const char *target,
             const char *http, struct mu_why *why)
{
	struct mu_tor *t = calloc(1, sizeof(*t));
	char host[MU_NODE_HOST_MAX];
	int rc;

	if (t == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	t->node = node;
	node->tor = t;
	uv_timer_init(node->loop, &t->timer);
	t->timer.data = t;
	t->ctl.data = t;
	t->restart_ms = RESTART_MIN_MS;
	t->started_ms = uv_now(node->loop);
	if (listen != NULL &&
	    ((t->listen = local_target(target != NULL ? target : listen)) == NULL ||
	     mu_node_addr_split(listen, host, &t->vport, NULL) != 0))
		return mu_fail(why, MU_ENOMEM, "out of memory");
	if (http != NULL && (t->http = local_target(http)) == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	t->dir = mu_home_tor_dirs(node->home, why);
	if (t->dir == NULL)
		return MU_EIO;
	rc = spawn(t, why);
	return rc;
}

void
mu_tor_stop(struct mu_node *node)
{
	struct mu_tor *t = node->tor;

	if (t == NULL || t->stopping)
		return;
	t->stopping = true;
	ctl_close(t);
	if (t->proc_open) {
		uv_process_kill(&t->proc, SIGTERM);
		mu_node_log(node, MU_LOG_INFO, "tor: stopped");
	}
	write_state(t, "stopped");
	uv_timer_stop(&t->timer);
}

void
mu_tor_free(struct mu_node *node)
{
	struct mu_tor *t = node->tor;

	if (t == NULL)
		return;
	free(t->dir);
	free(t->listen);
	free(t->http);
	free(t);
	node->tor = NULL;
}
