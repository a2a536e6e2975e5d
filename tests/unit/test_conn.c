/*
 * The node's transport limits and dialing, against a real daemon: a child
 * process runs mu_node_serve() on 127.0.0.1 and the test talks to it with
 * plain sockets and protocol/session.h.
 *
 *   - a connection that does not finish its handshake in time is closed;
 *   - connections in the handshake are capped, in total and per address:
 *     past a cap the newcomer is let in and the handshake furthest from
 *     sending its first message, the oldest of those, is evicted;
 *   - sessions are capped per group key, per address and in all: past a
 *     cap the quietest session goes, never one that sent more than a hello
 *     before one that did not; a session with nothing but hellos for
 *     idle_ms is closed, one that talks stays;
 *   - refusals and evictions are logged at info level once per
 *     admit_log_ms, with the count of the others;
 *   - the daemon dials its peers while others fill every inbound cap;
 *   - an over-long handshake message ends the connection;
 *   - a handshake with the daemon completes and the session carries its
 *     hello; a one-shot sync completes, and refuses a wrong key and another
 *     network with the log lines that say so;
 *   - a peer that sends invalid records past the limit is banned: its next
 *     connection is refused at once, another address's is not;
 *   - with --tor, peers on the onion listener (all from 127.0.0.1) escape
 *     the per-address cap, and a ban drops one without banning 127.0.0.1;
 *   - backpressure: a peer that does not read stops being read while the
 *     daemon's write queue is over out_high, and is read again once it
 *     drains; one that never reads is dropped after write_stall_ms, one that
 *     reads slowly gets everything it asked for;
 *   - the daemon redials a failing peer with a growing, capped backoff, and
 *     redials at once after a session that got ready;
 *   - SIGTERM stops the daemon with exit status 0 (under the sanitizers,
 *     LeakSanitizer makes a leak a failure of that status).
 */
/* nftw(), to remove the test's directory. */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "protocol/session.h"
#include "protocol/textform.h"
#include "protocol/wire.h"
#include "storage/home.h"
#include "storage/local.h"
#include "storage/store.h"

#include "rm_tree.h"

#define NETWORK "test-conn"

struct fx {
	char tmp[64];
	char home[128];  /* the daemon's */
	char home2[128]; /* a second node's, for mu_node_sync() */
	char log[128];   /* the daemon's stderr */
	uint8_t group[MU_KEY_BYTES];
	uint8_t group2[MU_KEY_BYTES];
	pid_t pid;
	uint16_t port;
	bool tor;          /* start_node(): with --tor, tor a stand-in */
	uint16_t tor_port; /* then the daemon's onion listener */
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct mu_why why = {0};

	assert_non_null(fx);
	strcpy(fx->tmp, "/tmp/mu-conn-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	snprintf(fx->home, sizeof(fx->home), "%s/a", fx->tmp);
	snprintf(fx->home2, sizeof(fx->home2), "%s/b", fx->tmp);
	snprintf(fx->log, sizeof(fx->log), "%s/serve.log", fx->tmp);
	if (mu_home_create(fx->home, fx->group, &why) != 0 ||
	    mu_home_create(fx->home2, fx->group2, &why) != 0)
		fail_msg("home: %s", why.text);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->pid > 0) {
		kill(fx->pid, SIGKILL);
		waitpid(fx->pid, NULL, 0);
	}
	rm_tree(fx->tmp);
	free(fx);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port nobody listens on right now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static char *
read_log(const struct fx *fx)
{
	static char buf[1 << 16];
	FILE *f = fopen(fx->log, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* The end of the daemon's log, for failure messages (cmocka keeps only
 * their first few hundred bytes). */
static const char *
log_tail(const struct fx *fx)
{
	const char *log = read_log(fx);
	size_t n = strlen(log);

	return n > 400 ? log + n - 400 : log;
}

static void
test_limits(struct mu_node_limits *l)
{
	mu_node_limits_default(l);
	l->poll_ms = 50;
}

/* Runs the daemon in a child process with its stderr in fx->log and waits
 * until it serves. */
static void
start_node(struct fx *fx, const struct mu_node_limits *lim)
{
	char listen[32];
	int64_t t0;

	fx->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)fx->port);
	fflush(NULL);
	fx->pid = fork();
	assert_true(fx->pid >= 0);
	if (fx->pid == 0) {
		struct mu_node_opts o;
		struct mu_why why = {0};
		int fd = open(fx->log, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

		dup2(fd, 2);
		close(fd);
		mu_node_opts_default(&o, fx->home);
		o.http = NULL; /* tests run side by side: no fixed port */
		o.listen = listen;
		o.network = NETWORK;
		o.log_level = MU_LOG_DEBUG;
		o.limits = *lim;
		if (fx->tor) {
			/* A tor that never answers: the onion listener
			 * opens all the same, and is all this tests. */
			char bin[160];
			FILE *f;

			snprintf(bin, sizeof(bin), "%s/tor", fx->tmp);
			f = fopen(bin, "w");
			fputs("#!/bin/sh\nexec sleep 60\n", f);
			fclose(f);
			chmod(bin, 0700);
			setenv("MUSTER_TOR", bin, 1);
			o.tor = true;
		}
		rc = mu_node_serve(&o, &why);
		if (rc != 0)
			fprintf(stderr, "serve failed: %s\n", why.text);
		exit(rc == 0 ? 0 : 1); /* exit(), so LeakSanitizer looks */
	}
	for (t0 = now_ms(); strstr(read_log(fx), "serving group") == NULL;) {
		if (now_ms() - t0 > 10000 || strstr(read_log(fx), "serve failed"))
			fail_msg("the daemon did not start:\n%s", read_log(fx));
		usleep(10000);
	}
	if (fx->tor) {
		const char *at =
		    strstr(read_log(fx), "listening for tor on 127.0.0.1:");

		assert_non_null(at);
		fx->tor_port =
		    (uint16_t)atoi(at + strlen("listening for tor on 127.0.0.1:"));
		assert_true(fx->tor_port > 0);
	}
}

/* SIGTERM, then the exit status: 0 after a clean stop. */
static void
stop_node(struct fx *fx)
{
	int status;

	assert_int_equal(kill(fx->pid, SIGTERM), 0);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	fx->pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the daemon did not stop cleanly (status %d):\n%s", status,
		         read_log(fx));
	assert_non_null(strstr(read_log(fx), "SIGTERM received: stopping"));
}

/* A connection to the daemon's port, from source address src (127.0.0.x). */
static int
dial_port(uint16_t port, const char *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (src != NULL) {
		assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A connection to the daemon's listen address from src. */
static int
dial(const struct fx *fx, const char *src)
{
	return dial_port(fx->port, src);
}

/* Whether the other end closes fd within ms (anything it sends first is
 * read and dropped). */
static bool
closed_within(int fd, int ms)
{
	int64_t end = now_ms() + ms;
	char buf[512];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
}

/* closed_within(), then closes fd. */
static bool
closes(int fd, int ms)
{
	bool closed = closed_within(fd, ms);

	close(fd);
	return closed;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		assert_true(w > 0);
		b += w;
		n -= (size_t)w;
	}
}

/* --- a node made by hand, with protocol/session.h over a blocking socket */

struct hand {
	int fd;
	struct mu_sess *s;
	struct mu_sess_identity id;
	uint8_t sk[MU_SECRET_BYTES];
	struct mu_buf out;
	uint8_t msg[256]; /* the start of the first message received */
	size_t msg_len;
	unsigned nmsgs;
	unsigned nrecs;    /* records received in recs messages */
	uint64_t last_ack; /* req of the last ack received */
};

static int
hand_on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct hand *h = ctx;

	struct mu_wire_msg m;
	struct mu_why why = {0};

	if (h->nmsgs++ == 0) {
		h->msg_len = len < sizeof(h->msg) ? len : sizeof(h->msg);
		memcpy(h->msg, msg, h->msg_len);
	}
	if (mu_wire_decode(&m, msg, len, &why) != 0)
		fail_msg("the daemon sent a malformed message: %s", why.text);
	if (m.type == MU_WIRE_RECS)
		h->nrecs += (unsigned)m.nrecs;
	else if (m.type == MU_WIRE_ACK)
		h->last_ack = m.req;
	return 0;
}

/* A session on fd as the group of seed (NULL: a new group). */
static void
hand_new_as(struct hand *h, int fd, bool initiator, const char *network,
            const uint8_t *expect, const uint8_t *seed)
{
	uint8_t pk[MU_KEY_BYTES], npub[32], e[32];
	struct mu_why why = {0};

	memset(h, 0, sizeof(*h));
	h->fd = fd;
	if (seed != NULL)
		crypto_sign_seed_keypair(pk, h->sk, seed);
	else
		crypto_sign_keypair(pk, h->sk);
	randombytes_buf(h->id.noise_secret, 32);
	mu_noise_public(npub, h->id.noise_secret);
	memcpy(h->id.group, pk, MU_KEY_BYTES);
	mu_sess_sign_proof(h->id.proof, npub, h->sk);
	randombytes_buf(e, sizeof(e));
	if (mu_sess_new(&h->s, initiator, network, &h->id, expect, e, &h->out, &why) !=
	    0)
		fail_msg("session: %s", why.text);
}

static void
hand_new(struct hand *h, int fd, bool initiator, const char *network,
         const uint8_t *expect)
{
	hand_new_as(h, fd, initiator, network, expect, NULL);
}

static void
hand_flush(struct hand *h)
{
	write_all(h->fd, h->out.data, h->out.len);
	h->out.len = 0;
}

typedef bool (*hand_done_fn)(const struct hand *h, unsigned arg);

static bool
has_msgs(const struct hand *h, unsigned n)
{
	return h->nmsgs >= n;
}

static bool
has_ack(const struct hand *h, unsigned req)
{
	return h->last_ack == req;
}

/* Runs the session until it is ready and done(h, arg): 0, a session error,
 * or MU_EIO when the peer closed or went quiet for ms. */
static int
hand_until(struct hand *h, hand_done_fn done, unsigned arg, int ms)
{
	int64_t end = now_ms() + ms;
	uint8_t buf[4096];
	struct mu_why why = {0};
	int rc;

	for (;;) {
		struct pollfd p = {.fd = h->fd, .events = POLLIN};
		ssize_t n;

		hand_flush(h);
		if (mu_sess_ready(h->s) && done(h, arg))
			return 0;
		if (now_ms() >= end || poll(&p, 1, (int)(end - now_ms())) <= 0)
			return MU_EIO;
		n = read(h->fd, buf, sizeof(buf));
		if (n <= 0)
			return MU_EIO;
		rc = mu_sess_feed(h->s, buf, (size_t)n, &h->out, hand_on_msg, h, &why);
		if (rc != 0)
			return rc;
	}
}

/* Runs it until it is ready and has received want messages. */
static int
hand_run(struct hand *h, unsigned want, int ms)
{
	return hand_until(h, has_msgs, want, ms);
}

static void
hand_send(struct hand *h, const struct mu_buf *msg)
{
	assert_int_equal(mu_sess_send(h->s, msg->data, msg->len, &h->out), 0);
	hand_flush(h);
}

static void
hand_free(struct hand *h)
{
	mu_sess_free(h->s);
	mu_buf_free(&h->out);
	close(h->fd);
}

/* --- tests ---------------------------------------------------------------- */

static void
test_handshake_timeout(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	int64_t t0;
	int fd;

	test_limits(&lim);
	lim.handshake_ms = 300;
	start_node(fx, &lim);
	fd = dial(fx, NULL);
	t0 = now_ms();
	assert_true(closed_within(fd, 5000));
	assert_true(now_ms() - t0 >= 250);
	close(fd);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "handshake timed out"));
}

static void
test_handshake_eviction(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct hand f;
	int a, b, c, d, e, g, h, i;

	test_limits(&lim);
	lim.max_handshaking = 3;
	lim.max_handshaking_per_ip = 2;
	start_node(fx, &lim);
	a = dial(fx, "127.0.0.1");
	b = dial(fx, "127.0.0.1");
	assert_false(closed_within(a, 200));
	assert_false(closed_within(b, 10));
	/* A third from one address: it gets in, the oldest of that address
	 * goes. */
	c = dial(fx, "127.0.0.1");
	assert_true(closed_within(a, 2000));
	assert_false(closed_within(c, 200));
	assert_false(closed_within(b, 10));
	d = dial(fx, "127.0.0.2");
	assert_false(closed_within(d, 200));
	/* A fourth in all: the oldest of all goes. */
	e = dial(fx, "127.0.0.3");
	assert_true(closed_within(b, 2000));
	assert_false(closed_within(e, 200));
	/* One that sent its first message whole outlasts silent ones, older
	 * or not: c and d go, then g, not f. */
	hand_new(&f, dial(fx, "127.0.0.4"), true, NETWORK, fx->group);
	hand_flush(&f);
	assert_true(closed_within(c, 2000));
	g = dial(fx, "127.0.0.5");
	assert_true(closed_within(d, 2000));
	h = dial(fx, "127.0.0.6");
	assert_true(closed_within(e, 2000));
	i = dial(fx, "127.0.0.7");
	assert_true(closed_within(g, 2000));
	assert_false(closed_within(f.fd, 200));
	assert_false(closed_within(h, 10));
	assert_false(closed_within(i, 10));
	hand_free(&f);
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
	close(g);
	close(h);
	close(i);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "evicted 127.0.0.1:"));
	assert_non_null(strstr(read_log(fx),
	                       "too many connections in the handshake from this "
	                       "address; 127.0.0.1:"));
	assert_non_null(strstr(read_log(fx), "too many connections in the handshake; "
	                                     "127.0.0.3:"));
}

/* A session from src (127.0.0.x) as the group of seed (NULL: a new one),
 * with the hellos exchanged. */
static void
session_from(struct fx *fx, struct hand *h, const char *src, const uint8_t *seed)
{
	struct mu_buf msg = MU_BUF_INIT;
	struct mu_scope *scope = mu_scope_new();

	assert_non_null(scope);
	hand_new_as(h, dial(fx, src), true, NETWORK, fx->group, seed);
	assert_int_equal(hand_run(h, 1, 5000), 0);
	assert_int_equal(mu_wire_encode_hello(&msg, "test", 4, scope), 0);
	hand_send(h, &msg);
	mu_scope_free(scope);
	mu_buf_free(&msg);
}

/* Sends a want of no ids (more than a hello) and waits for its ack. */
static void
talk(struct hand *h, uint64_t req)
{
	struct mu_buf msg = MU_BUF_INIT;
	uint8_t none[1][MU_ID_BYTES];

	assert_int_equal(mu_wire_encode_want(&msg, req, (const uint8_t(*)[32])none, 0),
	                 0);
	hand_send(h, &msg);
	assert_int_equal(hand_until(h, has_ack, (unsigned)req, 5000), 0);
	mu_buf_free(&msg);
}

static void
test_session_caps(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct hand s1, s2, s3, s4, s5, s6;
	uint8_t seed[32];

	test_limits(&lim);
	lim.max_conns = 3;
	lim.max_sessions_per_ip = 2;
	lim.max_sessions_per_key = 2;
	start_node(fx, &lim);
	randombytes_buf(seed, sizeof(seed));

	/* Per address: the third from 127.0.0.1 pushes out the one that only
	 * said hello, not the older one that talks. */
	session_from(fx, &s1, "127.0.0.1", seed);
	talk(&s1, 1);
	session_from(fx, &s2, "127.0.0.1", NULL);
	session_from(fx, &s3, "127.0.0.1", NULL);
	assert_true(closed_within(s2.fd, 2000));
	assert_false(closed_within(s1.fd, 200));
	/* Per key: the third of s1's group, from other addresses. */
	session_from(fx, &s4, "127.0.0.2", seed);
	session_from(fx, &s5, "127.0.0.3", seed);
	assert_true(closed_within(s4.fd, 2000));
	assert_false(closed_within(s1.fd, 200));
	/* In all (s1, s3, s5): the address holding the most goes first, and
	 * of it the quiet one. */
	session_from(fx, &s6, "127.0.0.4", NULL);
	assert_true(closed_within(s3.fd, 2000));
	assert_false(closed_within(s1.fd, 200));
	assert_false(closed_within(s5.fd, 10));
	assert_false(closed_within(s6.fd, 10));
	talk(&s1, 2); /* still served */
	hand_free(&s1);
	hand_free(&s2);
	hand_free(&s3);
	hand_free(&s4);
	hand_free(&s5);
	hand_free(&s6);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "too many sessions from this address"));
	assert_non_null(strstr(read_log(fx), "too many sessions of this group key"));
	assert_non_null(strstr(read_log(fx), "too many sessions; 127.0.0.4:"));
}

static void
test_idle_timeout(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct hand quiet, busy;
	int64_t t0;
	uint64_t req = 1;

	test_limits(&lim);
	lim.idle_ms = 800;
	start_node(fx, &lim);
	session_from(fx, &quiet, "127.0.0.1", NULL);
	session_from(fx, &busy, "127.0.0.2", NULL);
	/* busy talks every 200 ms for three idle times; quiet says nothing
	 * (its hello does not count) and is closed meanwhile. */
	for (t0 = now_ms(); now_ms() - t0 < 2400;) {
		talk(&busy, req++);
		usleep(200000);
	}
	assert_true(closed_within(quiet.fd, 2000));
	assert_false(closed_within(busy.fd, 10));
	talk(&busy, req);
	hand_free(&quiet);
	hand_free(&busy);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), " info closed 127.0.0.1:"));
	assert_non_null(strstr(read_log(fx), "idle, no message but hellos for"));
	assert_null(strstr(read_log(fx), "closed 127.0.0.2: idle"));
}

/* How many lines of log hold both level (" info ") and what. */
static unsigned
count_lines(const char *log, const char *level, const char *what)
{
	unsigned n = 0;

	for (const char *l = log; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, level) != NULL && strstr(line, what) != NULL)
			n++;
		l = end != NULL ? end + 1 : NULL;
	}
	return n;
}

static void
test_admission_log_rate_limited(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	int fds[6];
	int64_t t0;

	test_limits(&lim);
	lim.max_handshaking_per_ip = 1;
	lim.admit_log_ms = 1500;
	start_node(fx, &lim);
	/* Each connection evicts the one before: 5 evictions. */
	for (int i = 0; i < 6; i++) {
		fds[i] = dial(fx, "127.0.0.9");
		if (i > 0)
			assert_true(closed_within(fds[i - 1], 2000));
	}
	/* The first at info, the others at debug, then their count. */
	for (t0 = now_ms(); !strstr(read_log(fx), " info 4 more connections refused, "
	                                          "evicted or closed as idle");)
		if (now_ms() - t0 > 5000)
			fail_msg("no count of the held-back lines:\n%s", read_log(fx));
		else
			usleep(20000);
	assert_int_equal(count_lines(read_log(fx), " info ", "evicted 127.0.0.9:"), 1);
	assert_int_equal(count_lines(read_log(fx), " debug ", "evicted 127.0.0.9:"), 4);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	stop_node(fx);
}

static void add_peer(const struct fx *fx, const char *addr);

/* The daemon's dials do not wait while others hold every handshake slot. */
static void
test_dial_despite_full_caps(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct pollfd p;
	socklen_t len = sizeof(sa);
	int lfd, a, b, fd;
	char addr[32];

	test_limits(&lim);
	lim.max_handshaking = 2;
	start_node(fx, &lim);
	a = dial(fx, "127.0.0.1");
	b = dial(fx, "127.0.0.2");
	assert_false(closed_within(a, 200));
	assert_false(closed_within(b, 10));

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	add_peer(fx, addr); /* the daemon reads the peers table every 2 s */
	p = (struct pollfd){.fd = lfd, .events = POLLIN};
	if (poll(&p, 1, 5000) != 1)
		fail_msg("no dial while the handshake slots were full:\n%s",
		         read_log(fx));
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	/* Both strangers are still in (their deadline is 10 s). */
	assert_false(closed_within(a, 10));
	assert_false(closed_within(b, 10));
	close(fd);
	close(lfd);
	close(a);
	close(b);
	stop_node(fx);
}

static void
test_oversized_handshake_message(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	uint8_t len[2] = {0x04, 0x01}; /* 1025 bytes, one over the limit */
	int fd;

	test_limits(&lim);
	start_node(fx, &lim);
	fd = dial(fx, NULL);
	write_all(fd, len, sizeof(len));
	assert_true(closed_within(fd, 2000));
	close(fd);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "message of 1025 bytes, at most 1024"));
}

static void
test_handshake_and_hello(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	char key[MU_KEY_TEXT_SIZE], line[128];
	struct hand h;

	test_limits(&lim);
	start_node(fx, &lim);
	hand_new(&h, dial(fx, NULL), true, NETWORK, fx->group);
	assert_int_equal(hand_run(&h, 1, 5000), 0);
	assert_memory_equal(mu_sess_peer_group(h.s), fx->group, MU_KEY_BYTES);
	/* The first message is the daemon's hello: ["hello", {...}]. */
	assert_true(h.msg_len > 7);
	assert_memory_equal(h.msg, "\x92\xa5hello", 7);
	hand_free(&h);
	/* The daemon logged the handshake with our group. */
	mu_key_to_text(key, h.id.group);
	snprintf(line, sizeof(line), "handshake done, group %s", key);
	usleep(100000);
	assert_non_null(strstr(read_log(fx), line));
	stop_node(fx);
}

static void
sync_opts(struct mu_node_opts *o, const struct fx *fx)
{
	mu_node_opts_default(o, fx->home2);
	o->http = NULL; /* tests run side by side: no fixed port */
	o->listen = NULL;
	o->network = NETWORK;
	o->log_level = MU_LOG_ERROR;
	o->limits.handshake_ms = 3000;
}

static void
test_sync_with_daemon(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct mu_node_opts o;
	struct mu_sync_report rep;
	struct mu_why why = {0};
	uint8_t wrong[MU_KEY_BYTES];
	char addr[32], want[MU_KEY_TEXT_SIZE], got[MU_KEY_TEXT_SIZE];
	int rc;

	test_limits(&lim);
	start_node(fx, &lim);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)fx->port);
	sync_opts(&o, fx);

	rc = mu_node_sync(&o, addr, fx->group, &rep, &why);
	if (rc != 0)
		fail_msg("sync: %s", why.text);

	/* The daemon proves its own group, not the one we expect. */
	randombytes_buf(wrong, sizeof(wrong));
	memset(&why, 0, sizeof(why));
	assert_int_not_equal(mu_node_sync(&o, addr, wrong, &rep, &why), 0);
	mu_key_to_text(want, wrong);
	mu_key_to_text(got, fx->group);
	assert_non_null(strstr(why.text, "proved group mug1"));
	assert_non_null(strstr(why.text, got));
	assert_non_null(strstr(why.text, want));
	assert_true(strstr(why.text, got) < strstr(why.text, want));
	assert_non_null(strstr(why.text, "was expected; dropping"));

	/* Another network: the handshake cannot authenticate. */
	o.network = "another-net";
	memset(&why, 0, sizeof(why));
	assert_int_not_equal(mu_node_sync(&o, addr, fx->group, &rep, &why), 0);
	assert_non_null(strstr(why.text, "another network?"));
	assert_non_null(strstr(why.text, "handshake with 127.0.0.1:"));
	/* The line says "handshake" once: the reason comes without its rule. */
	assert_non_null(strstr(why.text, "failed: message does not authenticate"));
	stop_node(fx);
}

/* A valid record of the daemon's group with its signature broken. */
static void
tampered_record(const struct fx *fx, struct mu_buf *out)
{
	struct mu_home *home;
	struct mu_record rec;
	struct mu_why why = {0};
	uint8_t *buf;
	size_t len;
	int64_t now = (int64_t)time(NULL);

	if (mu_home_open(&home, fx->home, true, &why) != 0)
		fail_msg("home: %s", why.text);
	memset(&rec, 0, sizeof(rec));
	rec.kind = MU_KIND_PROFILE;
	memcpy(rec.group, home->group, MU_KEY_BYTES);
	memcpy(rec.signer, home->group, MU_KEY_BYTES);
	rec.created_at = now;
	rec.d.ptr = "";
	rec.c.profile.name.ptr = "Tampered";
	rec.c.profile.name.len = 8;
	if (mu_rec_build(&rec, home->secret, now, &buf, &len, NULL, &why) != 0)
		fail_msg("build: %s", why.text);
	mu_home_close(home);
	buf[len - 1] ^= 1; /* the last byte of the signature */
	assert_int_equal(mu_buf_append(out, buf, len), 0);
	free(buf);
}

/* Over a new connection fd, sends three tampered records (max_invalid is
 * 2) and waits until the daemon drops it. */
static void
send_invalid(struct fx *fx, int fd)
{
	struct mu_buf rec = MU_BUF_INIT, msg = MU_BUF_INIT;
	struct mu_wire_blob blobs[3];
	struct mu_scope *scope = mu_scope_new();
	struct hand h;

	tampered_record(fx, &rec);
	for (size_t i = 0; i < 3; i++)
		blobs[i] = (struct mu_wire_blob){rec.data, rec.len};
	hand_new(&h, fd, true, NETWORK, fx->group);
	assert_int_equal(hand_run(&h, 1, 5000), 0);
	assert_non_null(scope);
	assert_int_equal(mu_scope_add(scope, fx->group), 0);
	assert_int_equal(mu_wire_encode_hello(&msg, "test", 4, scope), 0);
	hand_send(&h, &msg);
	msg.len = 0;
	assert_int_equal(mu_wire_encode_recs(&msg, 0, blobs, 3), 0);
	hand_send(&h, &msg);
	assert_true(closed_within(h.fd, 3000));
	hand_free(&h);
	mu_scope_free(scope);
	mu_buf_free(&rec);
	mu_buf_free(&msg);
}

static void
test_invalid_records_ban(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;

	test_limits(&lim);
	lim.max_invalid = 2;
	start_node(fx, &lim);
	send_invalid(fx, dial(fx, "127.0.0.5"));

	/* Refused from that address now, not from another. */
	assert_true(closes(dial(fx, "127.0.0.5"), 2000));
	assert_false(closes(dial(fx, "127.0.0.6"), 300));
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "banned 127.0.0.5"));
	assert_non_null(strstr(read_log(fx), "refused 127.0.0.5:"));
}

/* With --tor, peers on the onion listener all come from 127.0.0.1, as tor
 * forwards them: the per-address cap of handshakes does not count them
 * together (five stay where five from one address on the main listener
 * evict the oldest), and one that earns a ban is dropped without banning
 * 127.0.0.1. */
static void
test_onion_listener(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	int on[5], ip[5];

	test_limits(&lim);
	lim.max_invalid = 2;
	assert_int_equal(lim.max_handshaking_per_ip, 4);
	fx->tor = true;
	start_node(fx, &lim);
	for (size_t i = 0; i < 5; i++)
		on[i] = dial_port(fx->tor_port, "127.0.0.1");
	for (size_t i = 0; i < 5; i++)
		assert_false(closed_within(on[i], i == 0 ? 300 : 10));
	for (size_t i = 0; i < 5; i++)
		ip[i] = dial(fx, "127.0.0.1");
	assert_true(closed_within(ip[0], 2000));
	for (size_t i = 1; i < 5; i++)
		assert_false(closed_within(ip[i], 10));
	for (size_t i = 0; i < 5; i++) {
		assert_false(closed_within(on[i], 10));
		close(on[i]);
		close(ip[i]);
	}

	send_invalid(fx, dial_port(fx->tor_port, "127.0.0.1"));
	/* Dropped, not banned: other onion peers and 127.0.0.1 get in. */
	assert_false(closes(dial_port(fx->tor_port, "127.0.0.1"), 300));
	assert_false(closes(dial(fx, "127.0.0.1"), 300));
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "peer via tor #"));
	assert_non_null(strstr(read_log(fx), "invalid records from via tor #"));
	assert_non_null(strstr(read_log(fx), "; dropped"));
	assert_non_null(strstr(read_log(fx), "accepted via tor #"));
	assert_null(strstr(read_log(fx), "banned 127.0.0.1"));
	assert_null(strstr(read_log(fx), "refused 127.0.0.1:"));
}

/* Stores n causes of about 8 KiB each in the daemon's home (before it
 * runs); their ids go to ids. */
static void
seed_causes(const struct fx *fx, size_t n, uint8_t (*ids)[MU_ID_BYTES])
{
	static char desc[8000];
	struct mu_home *home;
	struct mu_store *st;
	struct mu_store_opts so = {0, false};
	struct mu_why why = {0};
	int64_t now = (int64_t)time(NULL);
	char *dir, d[32];

	memset(desc, 'x', sizeof(desc));
	if (mu_home_open(&home, fx->home, true, &why) != 0)
		fail_msg("home: %s", why.text);
	dir = mu_home_store_dir(home);
	if (mu_store_open(&st, dir, &so, &why) != 0)
		fail_msg("store: %s", why.text);
	for (size_t i = 0; i < n; i++) {
		const struct mu_record *one[1];
		struct mu_record rec, built;
		enum mu_put_result res;
		uint8_t *buf;
		size_t len;

		memset(&rec, 0, sizeof(rec));
		rec.kind = MU_KIND_CAUSE;
		memcpy(rec.group, home->group, MU_KEY_BYTES);
		memcpy(rec.signer, home->group, MU_KEY_BYTES);
		rec.created_at = now;
		snprintf(d, sizeof(d), "bp-%03zu", i);
		rec.d = (struct mu_str){d, strlen(d)};
		rec.c.cause.title = (struct mu_str){"Heavy", 5};
		rec.c.cause.description = (struct mu_str){desc, sizeof(desc)};
		rec.c.cause.status = MU_CAUSE_ACTIVE;
		if (mu_rec_build(&rec, home->secret, now, &buf, &len, ids[i], &why) !=
		        0 ||
		    mu_rec_parse(&built, buf, len, now, 0, &why) != 0)
			fail_msg("cause: %s", why.text);
		one[0] = &built;
		if (mu_store_put(st, one, 1, &res, &why) != 0)
			fail_msg("put: %s", why.text);
		free(buf);
	}
	mu_store_close(st);
	free(dir);
	mu_home_close(home);
}

/* Stores n causes (their ids in ids), starts the daemon with small queue
 * marks (and stall_ms to drop a stalled peer), then connects h with a small
 * receive window (so the kernel holds little for it), completes the
 * handshake and sends a hello of the daemon's group (msg is scratch). */
static void
slow_reader(struct fx *fx, size_t n, uint8_t (*ids)[MU_ID_BYTES], unsigned stall_ms,
            struct hand *h, struct mu_buf *msg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct mu_scope *scope = mu_scope_new();
	struct mu_node_limits lim;
	int fd, small = 2048, mss = 536;

	seed_causes(fx, n, ids);
	test_limits(&lim);
	lim.out_high = 16384;
	lim.out_low = 4096;
	lim.write_stall_ms = stall_ms;
	start_node(fx, &lim);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* Small segments keep the daemon's kernel send buffer small too (it
	 * grows with them: 2.3 MB on loopback otherwise, 44 KB with these), so
	 * that its write queue feels how fast this peer reads. */
	setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	sa.sin_port = htons(fx->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	hand_new(h, fd, true, NETWORK, fx->group);
	assert_int_equal(hand_run(h, 1, 5000), 0);
	assert_non_null(scope);
	assert_int_equal(mu_scope_add(scope, fx->group), 0);
	msg->len = 0;
	assert_int_equal(mu_wire_encode_hello(msg, "test", 4, scope), 0);
	hand_send(h, msg);
	mu_scope_free(scope);
}

/* A peer that asks for much and does not read: the daemon's write queue
 * passes out_high and it stops reading that peer; once the peer reads, the
 * queue drains, reading resumes and the rest of the answer follows. */
static void
test_backpressure(void **state)
{
	struct fx *fx = *state;
	enum { N = 40 };
	uint8_t ids[N][MU_ID_BYTES], unknown[1][MU_ID_BYTES] = {{0}};
	struct mu_buf msg = MU_BUF_INIT;
	struct hand h;
	int64_t t0;

	slow_reader(fx, N, ids, 0, &h, &msg);
	msg.len = 0;
	assert_int_equal(mu_wire_encode_want(&msg, 1, (const uint8_t(*)[32])ids, N), 0);
	hand_send(&h, &msg);

	/* Not reading: the daemon's queue passes out_high. */
	for (t0 = now_ms(); !strstr(read_log(fx), "not reading until it drains");)
		if (now_ms() - t0 > 5000)
			fail_msg("the daemon never stopped reading:\n%s", read_log(fx));
		else
			usleep(10000);

	/* Reading: everything asked for arrives, then the ack. */
	assert_int_equal(hand_until(&h, has_ack, 1, 10000), 0);
	assert_int_equal(h.nrecs, N);
	/* The daemon reads again: a new want is answered. */
	msg.len = 0;
	assert_int_equal(mu_wire_encode_want(&msg, 2, (const uint8_t(*)[32])unknown, 1),
	                 0);
	hand_send(&h, &msg);
	assert_int_equal(hand_until(&h, has_ack, 2, 5000), 0);
	hand_free(&h);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "write queue drained, reading again"));
	mu_buf_free(&msg);
}

/* A peer that asks for much and never reads: the daemon's write queue stays
 * past out_high, and after write_stall_ms the daemon drops the peer. */
static void
test_write_stall(void **state)
{
	struct fx *fx = *state;
	enum { N = 40, ASK = 1024 };
	uint8_t ids[N][MU_ID_BYTES], (*ask)[MU_ID_BYTES] = calloc(ASK, MU_ID_BYTES);
	struct mu_buf msg = MU_BUF_INIT;
	struct hand h;
	int64_t t0;

	slow_reader(fx, N, ids, 500, &h, &msg);
	/* Each want asks for the same records again and again: megabytes of
	 * answers, more than the kernel's socket buffers take. */
	assert_non_null(ask);
	for (int i = 0; i < ASK; i++)
		memcpy(ask[i], ids[i % N], MU_ID_BYTES);
	for (uint64_t req = 1; req <= 4; req++) {
		msg.len = 0;
		assert_int_equal(
		    mu_wire_encode_want(&msg, req, (const uint8_t(*)[32])ask, ASK), 0);
		hand_send(&h, &msg);
	}

	for (t0 = now_ms(); !strstr(read_log(fx), "the peer stopped reading");)
		if (now_ms() - t0 > 10000)
			fail_msg("the daemon kept a peer that never reads:\n%s",
			         read_log(fx));
		else
			usleep(10000);
	/* Dropped, not merely throttled: the stream ends. */
	assert_true(closed_within(h.fd, 10000));
	hand_free(&h);
	stop_node(fx);
	mu_buf_free(&msg);
	free(ask);
}

/* A peer that reads, but slowly: about 40 KiB/s, so that the daemon's queue
 * (57 KB in one write, behind 44 KB in the kernel) takes longer than
 * write_stall_ms to fall below out_low, while some of it is written every
 * half second. It is not dropped, and gets everything it asked for. */
static void
test_slow_reader_finishes(void **state)
{
	struct fx *fx = *state;
	enum { N = 24 };
	uint8_t ids[N][MU_ID_BYTES], buf[2048];
	struct mu_buf msg = MU_BUF_INIT;
	struct mu_why why = {0};
	struct hand h;
	int64_t t0;
	ssize_t n;

	slow_reader(fx, N, ids, 1500, &h, &msg);
	msg.len = 0;
	assert_int_equal(mu_wire_encode_want(&msg, 1, (const uint8_t(*)[32])ids, N), 0);
	hand_send(&h, &msg);
	for (t0 = now_ms(); !has_ack(&h, 1);) {
		if (now_ms() - t0 > 60000)
			fail_msg("%u of %d records after 60 s", h.nrecs, N);
		n = read(h.fd, buf, sizeof(buf));
		if (n <= 0)
			fail_msg("the daemon dropped a slow reader after %u of %d "
			         "records:\n%s",
			         h.nrecs, N, log_tail(fx));
		assert_int_equal(
		    mu_sess_feed(h.s, buf, (size_t)n, &h.out, hand_on_msg, &h, &why),
		    0);
		hand_flush(&h);
		usleep(50000);
	}
	assert_int_equal(h.nrecs, N);
	hand_free(&h);
	stop_node(fx);
	assert_null(strstr(read_log(fx), "the peer stopped reading"));
	mu_buf_free(&msg);
}

/* Adds addr as a peer of the daemon's home (before it runs, or while it
 * does: it reads the peers table every 2 s). */
static void
add_peer(const struct fx *fx, const char *addr)
{
	struct mu_home *home;
	struct mu_store *st;
	struct mu_store_opts so = {0, false};
	struct mu_why why = {0};
	char *dir;

	if (mu_home_open(&home, fx->home, false, &why) != 0)
		fail_msg("home: %s", why.text);
	dir = mu_home_store_dir(home);
	if (mu_store_open(&st, dir, &so, &why) != 0 ||
	    mu_store_peer_add(st, addr, NULL, MU_PEER_MANUAL, (int64_t)time(NULL),
	                      &why) != 0)
		fail_msg("peer add: %s", why.text);
	mu_store_close(st);
	free(dir);
	mu_home_close(home);
}

struct peer_row {
	const char *addr;
	struct mu_peer p;
	bool found;
};

static int
find_row(void *ctx, const struct mu_peer *p)
{
	struct peer_row *r = ctx;

	if (strcmp(p->addr, r->addr) == 0) {
		r->p = *p;
		r->found = true;
	}
	return 0;
}

/* Whether what fd's peer sends first is an HTTP request (peeked, so that a
 * handshake is still there to read). */
static bool
is_http_probe(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char head[4];

	if (poll(&p, 1, 5000) != 1)
		return false;
	return recv(fd, head, sizeof(head), MSG_PEEK | MSG_WAITALL) == 4 &&
	       memcmp(head, "HEAD", 4) == 0;
}

static void
test_redial_backoff(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int64_t t[7];
	int lfd, one = 1;
	char addr[32];
	struct hand h;
	/* Intervals after 1, 2, 3 and 4 failures: the doubled minimum with
	 * half of it random, capped at 800, plus the dialer's tick (100) and
	 * room for a loaded machine. */
	static const int64_t lo[] = {90, 190, 390, 390};
	static const int64_t hi[] = {500, 700, 1100, 1100};

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	{
		socklen_t len = sizeof(sa);

		assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	add_peer(fx, addr);

	test_limits(&lim);
	lim.dial_min_ms = 100;
	lim.dial_max_ms = 800;
	start_node(fx, &lim);
	/* Five dials that fail in the handshake (we hang up), then one that
	 * gets ready, then the next comes after the minimum again. */
	for (int i = 0; i < 7; i++) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 5000) != 1)
			fail_msg("dial %d did not come:\n%s", i, read_log(fx));
		fd = accept(lfd, NULL, NULL);
		assert_true(fd >= 0);
		if (is_http_probe(fd)) {
			/* The node asks once whether a silent peer is a web
			 * server (node/probe.c): not a dial. */
			close(fd);
			i--;
			continue;
		}
		t[i] = now_ms();
		if (i == 5) {
			hand_new(&h, fd, false, NETWORK, NULL);
			assert_int_equal(hand_run(&h, 1, 5000), 0);
			assert_memory_equal(mu_sess_peer_group(h.s), fx->group,
			                    MU_KEY_BYTES);
			hand_free(&h);
		} else {
			close(fd);
		}
	}
	for (int i = 0; i < 4; i++) {
		int64_t dt = t[i + 1] - t[i];

		if (dt < lo[i] || dt > hi[i])
			fail_msg("interval %d after failure %d: %lld ms, not %lld-%lld",
			         i, i + 1, (long long)dt, (long long)lo[i],
			         (long long)hi[i]);
	}
	/* After the ready session: the minimum, not the capped delay. */
	if (t[6] - t[5] >= 390)
		fail_msg("redial after a ready session took %lld ms",
		         (long long)(t[6] - t[5]));
	close(lfd);
	stop_node(fx);
	assert_non_null(strstr(read_log(fx), "dialing again in"));

	/* The peers table says what the daemon saw. */
	{
		struct mu_home *home;
		struct mu_store *st;
		struct mu_store_opts so = {0, false};
		struct mu_why why = {0};
		struct peer_row r;
		char *dir;

		memset(&r, 0, sizeof(r));
		r.addr = addr;
		assert_int_equal(mu_home_open(&home, fx->home, false, &why), 0);
		dir = mu_home_store_dir(home);
		assert_int_equal(mu_store_open(&st, dir, &so, &why), 0);
		assert_int_equal(mu_store_peers(st, find_row, &r), 0);
		assert_true(r.found);
		assert_true(r.p.last_seen > 0);
		assert_string_equal(r.p.state, "idle");
		mu_store_close(st);
		free(dir);
		mu_home_close(home);
	}
}

static void
test_serve_lock_and_bad_listen(void **state)
{
	struct fx *fx = *state;
	struct mu_node_limits lim;
	struct mu_node_opts o;
	struct mu_why why = {0};
	char listen[32];

	test_limits(&lim);
	start_node(fx, &lim);
	/* A second daemon on the same home is refused... */
	mu_node_opts_default(&o, fx->home);
	o.http = NULL; /* tests run side by side: no fixed port */
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)free_port());
	o.listen = listen;
	o.network = NETWORK;
	o.log_level = MU_LOG_ERROR;
	assert_int_not_equal(mu_node_serve(&o, &why), 0);
	assert_true(why.text[0] != '\0');
	/* ...and so is one on another home whose address is taken. */
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)fx->port);
	o.home = fx->home2;
	memset(&why, 0, sizeof(why));
	assert_int_not_equal(mu_node_serve(&o, &why), 0);
	assert_non_null(strstr(why.text, "in use"));
	stop_node(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_eviction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admission_log_rate_limited, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_dial_despite_full_caps, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_handshake_message, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_and_hello, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_with_daemon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_records_ban, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_onion_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_stall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_reader_finishes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redial_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serve_lock_and_bad_listen, setup,
	                                    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
