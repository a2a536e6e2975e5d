/*
 * Sync against a real daemon: each test forks a `mu_node_serve()` on
 * 127.0.0.1 with its own home, then speaks to it as a raw client (our own
 * session and wire code over a blocking socket), so that it can send what a
 * well-behaved node never would: records outside the scope, tampered
 * records, malformed and unknown messages. What the daemon stored is read
 * back from its store, which LMDB shares across processes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/node.h"
#include "protocol/negentropy.h"
#include "protocol/session.h"
#include "protocol/wire.h"
#include "rec_util.h"
#include "storage/home.h"
#include "storage/local.h"
#include "storage/store.h"

#define NETWORK  "test-sync"
#define WAIT_MS  5000
#define MSGS_MAX 512

struct world {
	char tmp[64], home[96];
	uint8_t srv[32]; /* the daemon's group */
	uint8_t srv_sk[64];
	struct key cli;   /* the client's group, allied with the daemon's */
	struct key other; /* a stranger */
	int port;
	pid_t pid;
	int64_t now;
};

/* --- records --------------------------------------------------------------- */

static void
hex64(char out[65], const uint8_t *k)
{
	sodium_bin2hex(out, 65, k, 32);
}

static size_t
build(const struct mu_record *tmpl, const uint8_t *sk, int64_t now, uint8_t **out,
      uint8_t id[32])
{
	struct mu_why why;
	size_t len;
	int rc = mu_rec_build(tmpl, sk, now, out, &len, id, &why);

	if (rc != 0)
		fail_msg("build: %s", why.text);
	return len;
}

static void
tmpl_init(struct mu_record *r, enum mu_kind kind, const uint8_t *group, int64_t at)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	memcpy(r->group, group, 32);
	memcpy(r->signer, group, 32);
	r->created_at = at;
}

static size_t
make_cause(const struct world *w, const uint8_t *pk, const uint8_t *sk, int i,
           uint8_t **out, uint8_t id[32])
{
	struct mu_record r;
	char d[32], title[64];

	tmpl_init(&r, MU_KIND_CAUSE, pk, w->now - 1000 + i);
	snprintf(d, sizeof(d), "c-%d", i);
	snprintf(title, sizeof(title), "Cause number %d", i);
	r.d = S(d);
	r.c.cause.title = S(title);
	r.c.cause.status = MU_CAUSE_ACTIVE;
	return build(&r, sk, w->now, out, id);
}

static size_t
make_alliance(const struct world *w, const uint8_t *pk, const uint8_t *sk,
              const uint8_t *with, uint8_t **out, uint8_t id[32])
{
	struct mu_record r;
	char d[65];

	tmpl_init(&r, MU_KIND_ALLIANCE, pk, w->now - 2000);
	hex64(d, with);
	r.d.ptr = d;
	r.d.len = 64;
	memcpy(r.c.alliance.with, with, 32);
	r.c.alliance.status = MU_ALLIANCE_PROPOSED;
	return build(&r, sk, w->now, out, id);
}

static size_t
make_profile(const struct world *w, const uint8_t *pk, const uint8_t *sk,
             const char *name, uint8_t **out, uint8_t id[32])
{
	struct mu_record r;

	tmpl_init(&r, MU_KIND_PROFILE, pk, w->now - 3000);
	r.d = S("");
	r.c.profile.name = S(name);
	return build(&r, sk, w->now, out, id);
}

static struct mu_store *
open_store(const struct world *w)
{
	struct mu_store_opts o = {0, false};
	struct mu_store *st;
	struct mu_why why;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/store", w->home);
	if (mu_store_open(&st, dir, &o, &why) != 0)
		fail_msg("store: %s", why.text);
	return st;
}

static void
put(const struct world *w, const uint8_t *bytes, size_t len)
{
	struct mu_store *st = open_store(w);
	enum mu_put_result res;
	const struct mu_record *p;
	struct mu_record rec;
	struct mu_why why;

	assert_int_equal(mu_rec_parse(&rec, bytes, len, w->now, 0, &why), 0);
	p = &rec;
	assert_int_equal(mu_store_put(st, &p, 1, &res, &why), 0);
	mu_store_close(st);
}

static int
seen(void *ctx, const struct mu_record *rec)
{
	(void)rec;
	(*(int *)ctx)++;
	return 0;
}

static bool
stored(const struct world *w, const uint8_t id[32])
{
	struct mu_store *st = open_store(w);
	int n = 0, rc = mu_store_get(st, id, seen, &n);

	mu_store_close(st);
	assert_true(rc == 0 || rc == MU_ENOTFOUND);
	return rc == 0;
}

/* --- the daemon ---------------------------------------------------------------- */

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Returns once the daemon accepts connections, so that a test's first dial
 * (mu_node_sync() does not retry) never races the daemon's start. */
static void
wait_listening(const struct world *w)
{
	struct sockaddr_in a;
	int i, fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)w->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 400; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return;
		}
		close(fd);
		usleep(25000);
	}
	fail_msg("the daemon did not listen on port %d within 10 s", w->port);
}

static void
start_daemon(struct world *w)
{
	struct mu_node_opts o;
	struct mu_why why;
	char listen[64];

	w->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", w->port);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		mu_node_opts_default(&o, w->home);
		o.http = NULL; /* tests run side by side: no fixed port */
		o.listen = listen;
		o.network = NETWORK;
		o.log_level = getenv("TEST_SYNC_LOG") ? MU_LOG_DEBUG : MU_LOG_ERROR;
		if (mu_node_serve(&o, &why) != 0) {
			fprintf(stderr, "serve: %s\n", why.text);
			_exit(1);
		}
		_exit(0);
	}
	wait_listening(w);
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct mu_home *home;
	struct mu_why why;
	uint8_t *bytes, id[32];
	size_t len;

	assert_non_null(w);
	w->now = time(NULL);
	snprintf(w->tmp, sizeof(w->tmp), "/tmp/muster-test-sync-XXXXXX");
	assert_non_null(mkdtemp(w->tmp));
	snprintf(w->home, sizeof(w->home), "%s/home", w->tmp);
	if (mu_home_create(w->home, w->srv, &why) != 0)
		fail_msg("home: %s", why.text);
	if (mu_home_open(&home, w->home, true, &why) != 0)
		fail_msg("home: %s", why.text);
	memcpy(w->srv_sk, home->secret, 64);
	mu_home_close(home);
	key_from_byte(&w->cli, 0x11);
	key_from_byte(&w->other, 0x22);

	/* The daemon and the client are mutual allies: both in its scope. */
	len = make_profile(w, w->srv, w->srv_sk, "Server group", &bytes, id);
	put(w, bytes, len);
	free(bytes);
	len = make_alliance(w, w->srv, w->srv_sk, w->cli.pk, &bytes, id);
	put(w, bytes, len);
	free(bytes);
	len = make_alliance(w, w->cli.pk, w->cli.sk, w->srv, &bytes, id);
	put(w, bytes, len);
	free(bytes);
	start_daemon(w);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[160];
	int status;

	kill(w->pid, SIGTERM);
	assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->tmp);
	assert_int_equal(system(cmd), 0);
	/* A clean stop: the daemon handles SIGTERM and exits 0. */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(w);
	return 0;
}

/* --- a raw client ------------------------------------------------------------- */

struct client {
	int fd;
	struct mu_sess *s;
	struct mu_buf out;
	struct mu_buf msgs[MSGS_MAX];
	size_t head, n;
	bool eof;
	bool corked; /* gather frames into one write until uncorked */
};

static int
on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct client *c = ctx;
	struct mu_buf *b;

	assert_true(c->n < MSGS_MAX);
	b = &c->msgs[(c->head + c->n++) % MSGS_MAX];
	b->len = 0;
	assert_int_equal(mu_buf_append(b, msg, len), 0);
	return 0;
}

static void
flush(struct client *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->out.len) {
		n = write(c->fd, c->out.data + off, c->out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			c->eof = true; /* closed by the daemon */
			break;
		}
		off += (size_t)n;
	}
	c->out.len = 0;
}

/* Reads what arrives within ms; false once the daemon closed. */
static bool
pump(struct client *c, int ms)
{
	struct pollfd p = {c->fd, POLLIN, 0};
	uint8_t buf[65536];
	struct mu_why why;
	ssize_t n;

	if (c->eof)
		return false;
	if (poll(&p, 1, ms) <= 0)
		return true;
	n = read(c->fd, buf, sizeof(buf));
	if (n <= 0) {
		c->eof = true;
		return false;
	}
	if (mu_sess_feed(c->s, buf, (size_t)n, &c->out, on_msg, c, &why) != 0)
		fail_msg("feed: %s", why.text);
	flush(c);
	return true;
}

static void
connect_to(struct client *c, const struct world *w, const struct key *k)
{
	struct mu_sess_identity id;
	uint8_t pub[32], e[32];
	struct sockaddr_in a;
	struct mu_why why;
	int i;

	memset(c, 0, sizeof(*c));
	memset(&id, 0, sizeof(id));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)w->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 200; i++) {
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(c->fd);
		c->fd = -1;
		usleep(25000);
	}
	assert_true(c->fd >= 0);
	randombytes_buf(id.noise_secret, 32);
	crypto_scalarmult_base(pub, id.noise_secret);
	memcpy(id.group, k->pk, 32);
	mu_sess_sign_proof(id.proof, pub, k->sk);
	randombytes_buf(e, 32);
	if (mu_sess_new(&c->s, true, NETWORK, &id, w->srv, e, &c->out, &why) != 0)
		fail_msg("session: %s", why.text);
	flush(c);
}

/* Completes the handshake; false when the daemon refused the connection. */
static bool
handshake(struct client *c)
{
	int i;

	for (i = 0; i < WAIT_MS / 10 && !mu_sess_ready(c->s); i++)
		if (!pump(c, 10))
			return false;
	return mu_sess_ready(c->s);
}

static void
disconnect(struct client *c)
{
	size_t i;

	for (i = 0; i < MSGS_MAX; i++)
		mu_buf_free(&c->msgs[i]);
	mu_buf_free(&c->out);
	mu_sess_free(c->s);
	close(c->fd);
}

static void
send_msg(struct client *c, const struct mu_buf *m)
{
	assert_int_equal(mu_sess_send(c->s, m->data, m->len, &c->out), 0);
	if (!c->corked)
		flush(c);
}

/* The next message, decoded into m (borrowing from the client's buffer
 * until the next call); false on timeout or close. */
static bool
next_msg(struct client *c, struct mu_wire_msg *m, int ms)
{
	struct mu_buf *b;
	struct mu_why why;
	int waited = 0;

	while (c->n == 0 && waited < ms) {
		if (!pump(c, 10))
			return false;
		waited += 10;
	}
	if (c->n == 0)
		return false;
	b = &c->msgs[c->head];
	c->head = (c->head + 1) % MSGS_MAX;
	c->n--;
	if (mu_wire_decode(m, b->data, b->len, &why) != 0)
		fail_msg("daemon sent a malformed message: %s", why.text);
	return true;
}

/* Waits for a message of type t, acking the daemon's recs on the way and
 * remembering the ids it pushed. */
struct got {
	uint8_t ids[256][32];
	size_t n;
};

static bool
wait_for(struct client *c, struct mu_wire_msg *m, enum mu_wire_type t, uint64_t req,
         struct got *got, int ms)
{
	struct mu_buf b = MU_BUF_INIT;
	struct mu_record rec;
	struct mu_why why;
	uint64_t until = (uint64_t)time(NULL) * 1000 + (uint64_t)ms;
	size_t i;

	while ((uint64_t)time(NULL) * 1000 <= until + 1000) {
		if (!next_msg(c, m, ms))
			break;
		if (m->type == MU_WIRE_RECS) {
			for (i = 0; got != NULL && i < m->nrecs && got->n < 256; i++) {
				assert_int_equal(mu_rec_parse(&rec, m->recs[i].ptr,
				                              m->recs[i].len,
				                              time(NULL), 0, &why),
				                 0);
				memcpy(got->ids[got->n++], rec.id, 32);
			}
			if (m->req != 0 && t != MU_WIRE_RECS) {
				b.len = 0;
				assert_int_equal(mu_wire_encode_ack(&b, m->req), 0);
				send_msg(c, &b);
			}
		}
		if (m->type == t && (t != MU_WIRE_ACK || m->req == req)) {
			mu_buf_free(&b);
			return true;
		}
	}
	mu_buf_free(&b);
	return false;
}

static bool
got_id(const struct got *g, const uint8_t id[32])
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (memcmp(g->ids[i], id, 32) == 0)
			return true;
	return false;
}

/* Handshake, the daemon's hello, and ours with scope {srv, cli}. */
static void
session(struct client *c, struct world *w, struct got *greet)
{
	struct mu_scope *s = mu_scope_new();
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_buf b = MU_BUF_INIT;

	assert_non_null(s);
	assert_non_null(m);
	connect_to(c, w, &w->cli);
	assert_true(handshake(c));
	/* The daemon's first message is its hello, with us in its scope. */
	assert_true(next_msg(c, m, WAIT_MS));
	assert_int_equal(m->type, MU_WIRE_HELLO);
	assert_int_equal(m->keys.n, 2);
	mu_scope_add(s, w->srv);
	mu_scope_add(s, w->cli.pk);
	assert_memory_equal(mu_wire_key(&m->keys, 0), s->keys[0], 32);
	assert_memory_equal(mu_wire_key(&m->keys, 1), s->keys[1], 32);
	assert_int_equal(mu_wire_encode_hello(&b, "test", 4, s), 0);
	send_msg(c, &b);
	/* Then its greeting: the alliance naming us and its author's profile,
	 * in a recs to acknowledge. */
	if (greet != NULL)
		assert_true(wait_for(c, m, MU_WIRE_RECS, 0, greet, WAIT_MS));
	mu_buf_free(&b);
	mu_scope_free(s);
	free(m);
}

static void
send_recs(struct client *c, uint64_t req, uint8_t **recs, const size_t *lens, size_t n)
{
	struct mu_wire_blob blobs[MU_WIRE_RECS_MAX + 1];
	struct mu_buf b = MU_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		blobs[i].ptr = recs[i];
		blobs[i].len = lens[i];
	}
	if (n > MU_WIRE_RECS_MAX) {
		/* Beyond what our encoder writes: by hand. */
		struct w *raw = malloc(sizeof(*raw));

		raw->n = 0;
		w_arr(raw, 3);
		w_str(raw, "recs");
		w_uint(raw, req);
		w_arr(raw, (uint32_t)n);
		for (i = 0; i < n; i++)
			w_bin(raw, recs[i], lens[i]);
		assert_int_equal(mu_buf_append(&b, raw->b, raw->n), 0);
		free(raw);
	} else {
		assert_int_equal(mu_wire_encode_recs(&b, req, blobs, n), 0);
	}
	send_msg(c, &b);
	mu_buf_free(&b);
}

/* Whether the daemon closes the connection within ms. */
static bool
closes(struct client *c, int ms)
{
	int waited;

	for (waited = 0; waited < ms; waited += 10)
		if (!pump(c, 10))
			return true;
	return false;
}

/* --- tests ----------------------------------------------------------------------- */

static void
test_hello_first(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg m;
	struct mu_buf b = MU_BUF_INIT;
	struct client c;
	struct got g = {.n = 0};
	uint8_t *bytes, id[32];
	size_t len;

	/* Anything but hello first is malformed: the connection ends. */
	connect_to(&c, w, &w->cli);
	assert_true(handshake(&c));
	assert_true(next_msg(&c, &m, WAIT_MS));
	assert_int_equal(m.type, MU_WIRE_HELLO);
	assert_int_equal(mu_wire_encode_ack(&b, 1), 0);
	send_msg(&c, &b);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);

	/* After hello, the greeting holds our ally's alliance and profile. */
	session(&c, w, &g);
	len = make_alliance(w, w->srv, w->srv_sk, w->cli.pk, &bytes, id);
	assert_true(got_id(&g, id));
	free(bytes);
	len = make_profile(w, w->srv, w->srv_sk, "Server group", &bytes, id);
	assert_true(got_id(&g, id));
	(void)len;
	free(bytes);
	mu_buf_free(&b);
	disconnect(&c);
}

static void
test_scope_and_ack(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct client c;
	uint8_t *recs[5], ids[5][32];
	size_t lens[5], i;
	struct key third;

	key_from_byte(&third, 0x33);
	session(&c, w, NULL);
	/* In scope: the client's cause. Outside: a stranger's cause, and the
	 * profile of a group with no proposal to the daemon. Excepted: the
	 * stranger's alliance naming the daemon, and so its profile. */
	lens[0] = make_cause(w, w->cli.pk, w->cli.sk, 1, &recs[0], ids[0]);
	lens[1] = make_cause(w, w->other.pk, w->other.sk, 2, &recs[1], ids[1]);
	lens[2] = make_profile(w, third.pk, third.sk, "Third", &recs[2], ids[2]);
	lens[3] = make_profile(w, w->other.pk, w->other.sk, "Other", &recs[3], ids[3]);
	lens[4] = make_alliance(w, w->other.pk, w->other.sk, w->srv, &recs[4], ids[4]);
	send_recs(&c, 7, recs, lens, 5);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 7, NULL, WAIT_MS));
	assert_true(stored(w, ids[0]));
	assert_false(stored(w, ids[1]));
	assert_false(stored(w, ids[2]));
	assert_true(stored(w, ids[3]));
	assert_true(stored(w, ids[4]));
	for (i = 0; i < 5; i++)
		free(recs[i]);

	/* Later, alone: a newer profile of the proposing group is kept (its
	 * alliance is in the store now); one of the third group is not. */
	{
		struct mu_record r;

		tmpl_init(&r, MU_KIND_PROFILE, w->other.pk, w->now - 100);
		r.d = S("");
		r.c.profile.name = S("Other, renamed");
		r.rev = 1;
		lens[0] = build(&r, w->other.sk, w->now, &recs[0], ids[0]);
	}
	lens[1] = make_profile(w, third.pk, third.sk, "Third again", &recs[1], ids[1]);
	send_recs(&c, 8, recs, lens, 1);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 8, NULL, WAIT_MS));
	send_recs(&c, 9, recs + 1, lens + 1, 1);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 9, NULL, WAIT_MS));
	assert_true(stored(w, ids[0]));
	assert_false(stored(w, ids[1]));
	free(recs[0]);
	free(recs[1]);
	disconnect(&c);
	free(m);
}

static void
test_pool_batch(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	uint8_t *recs[64], ids[64][32];
	struct mu_buf b = MU_BUF_INIT;
	size_t lens[64], i;
	struct client c;

	/* 64 records go to the thread pool; one of them is tampered with. */
	session(&c, w, NULL);
	for (i = 0; i < 64; i++)
		lens[i] =
		    make_cause(w, w->cli.pk, w->cli.sk, 100 + (int)i, &recs[i], ids[i]);
	recs[9][lens[9] - 1] ^= 1;
	c.corked = true; /* one write: the daemon reads both at once */
	send_recs(&c, 99, recs, lens, 64);
	/* A want right behind the records is handled after them, in order:
	 * its answer holds the last record of the batch. */
	assert_int_equal(mu_wire_encode_want(&b, 100, (const uint8_t(*)[32])ids[63], 1),
	                 0);
	send_msg(&c, &b);
	c.corked = false;
	flush(&c);
	do {
		assert_true(next_msg(&c, m, WAIT_MS));
	} while (m->type == MU_WIRE_RECS && m->req != 0); /* the greeting */
	assert_int_equal(m->type, MU_WIRE_ACK);
	assert_int_equal(m->req, 99);
	assert_true(next_msg(&c, m, WAIT_MS));
	assert_int_equal(m->type, MU_WIRE_RECS);
	assert_int_equal(m->nrecs, 1);
	assert_int_equal(m->recs[0].len, lens[63]);
	assert_memory_equal(m->recs[0].ptr, recs[63], lens[63]);
	assert_true(next_msg(&c, m, WAIT_MS));
	assert_int_equal(m->type, MU_WIRE_ACK);
	assert_int_equal(m->req, 100);
	for (i = 0; i < 64; i++)
		assert_true(stored(w, ids[i]) == (i != 9));
	for (i = 0; i < 64; i++)
		free(recs[i]);
	disconnect(&c);
	mu_buf_free(&b);
	free(m);
}

static void
test_want(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_buf b = MU_BUF_INIT;
	uint8_t ids[3][32], *bytes;
	struct client c;
	size_t len;
	struct w *raw = malloc(sizeof(*raw));
	unsigned i;

	session(&c, w, NULL);
	len = make_profile(w, w->srv, w->srv_sk, "Server group", &bytes, ids[0]);
	memset(ids[1], 0xee, 32); /* not held: skipped */
	memcpy(ids[2], ids[0], 32);
	assert_int_equal(mu_wire_encode_want(&b, 3, (const uint8_t(*)[32])ids, 3), 0);
	send_msg(&c, &b);
	/* Skip the greeting (req != 0); the answer has req 0, then the ack. */
	do {
		assert_true(next_msg(&c, m, WAIT_MS));
	} while (m->type == MU_WIRE_RECS && m->req != 0);
	assert_int_equal(m->type, MU_WIRE_RECS);
	assert_int_equal(m->req, 0);
	assert_int_equal(m->nrecs, 2);
	assert_int_equal(m->recs[0].len, len);
	assert_memory_equal(m->recs[0].ptr, bytes, len);
	assert_true(next_msg(&c, m, WAIT_MS));
	assert_int_equal(m->type, MU_WIRE_ACK);
	assert_int_equal(m->req, 3);

	/* An unknown message type is ignored: the next want is answered. */
	b.len = 0;
	assert_int_equal(mu_buf_append(&b, "\x92\xa6gossip\x01", 9), 0);
	send_msg(&c, &b);
	b.len = 0;
	assert_int_equal(mu_wire_encode_want(&b, 4, (const uint8_t(*)[32])ids, 0), 0);
	send_msg(&c, &b);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 4, NULL, WAIT_MS));

	/* A want of 1025 ids is malformed. */
	raw->n = 0;
	w_arr(raw, 3);
	w_str(raw, "want");
	w_uint(raw, 5);
	w_arr(raw, 1025);
	for (i = 0; i < 1025; i++)
		w_bin(raw, ids[0], 32);
	b.len = 0;
	assert_int_equal(mu_buf_append(&b, raw->b, raw->n), 0);
	send_msg(&c, &b);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);
	free(bytes);
	free(raw);
	mu_buf_free(&b);
	free(m);
}

static int
add_id(void *ctx, const uint8_t id[32], size_t index)
{
	(void)index;
	struct got *g = ctx;

	assert_true(g->n < 256);
	memcpy(g->ids[g->n++], id, 32);
	return 0;
}

/* Runs one reconciliation as the initiator over items, collecting the ids
 * found (have and need) in ids and those of the records the daemon pushed
 * in place of listing them in pushed; returns the number of round trips. */
static int
reconcile(struct client *c, struct mu_neg_item *items, size_t n, struct got *ids,
          struct got *pushed)
{
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_buf q = MU_BUF_INIT, b = MU_BUF_INIT;
	struct mu_neg *neg;
	struct mu_why why;
	int trips = 0;

	mu_neg_sort(items, n);
	assert_int_equal(mu_neg_new(&neg, items, n, MU_WIRE_NEG_MAX), 0);
	assert_int_equal(mu_neg_initiate(neg, &q), 0);
	assert_int_equal(mu_wire_encode_neg(&b, true, q.data, q.len), 0);
	for (;;) {
		send_msg(c, &b);
		trips++;
		assert_true(wait_for(c, m, MU_WIRE_NEG, 0, pushed, WAIT_MS));
		q.len = 0;
		if (mu_neg_reconcile(neg, m->neg.ptr, m->neg.len, &q, add_id, add_id,
		                     ids, &why) != 0)
			fail_msg("reconcile: %s", why.text);
		if (q.len == 0)
			break;
		b.len = 0;
		assert_int_equal(mu_wire_encode_neg(&b, false, q.data, q.len), 0);
	}
	mu_neg_free(neg);
	mu_buf_free(&q);
	mu_buf_free(&b);
	free(m);
	return trips;
}

static void
test_reconcile_and_push(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_neg_item items[3];
	struct got *ids = calloc(1, sizeof(*ids)), *g = calloc(1, sizeof(*g));
	struct got *pushed = calloc(1, sizeof(*pushed));
	uint8_t *bytes[4], want_ids[3][32];
	size_t lens[4], i;
	struct client c;

	/* The daemon holds 3 records in {srv, cli}: its profile and the two
	 * alliances. We hold none of them and list none: the daemon pushes all
	 * three before its answer, which lists none either (push mode). */
	session(&c, w, NULL);
	lens[0] =
	    make_profile(w, w->srv, w->srv_sk, "Server group", &bytes[0], want_ids[0]);
	lens[1] =
	    make_alliance(w, w->srv, w->srv_sk, w->cli.pk, &bytes[1], want_ids[1]);
	lens[2] =
	    make_alliance(w, w->cli.pk, w->cli.sk, w->srv, &bytes[2], want_ids[2]);
	assert_int_equal(reconcile(&c, items, 0, ids, pushed), 1);
	assert_int_equal(ids->n, 0);
	/* (pushed may also hold live pushes of the same records, req 0) */
	for (i = 0; i < 3; i++)
		assert_true(got_id(pushed, want_ids[i]));

	/* Holding the same three, both sides agree in one round trip. */
	for (i = 0; i < 3; i++) {
		struct mu_record rec;
		struct mu_why why;

		assert_int_equal(mu_rec_parse(&rec, bytes[i], lens[i], w->now, 0, &why),
		                 0);
		items[i].ts = (uint64_t)rec.created_at;
		memcpy(items[i].id, rec.id, 32);
	}
	assert_int_equal(reconcile(&c, items, 3, ids, NULL), 1);
	assert_int_equal(ids->n, 0);

	/* Holding one of them, we list it: the daemon lists it back as held by
	 * both and pushes the other two. */
	pushed->n = 0;
	assert_int_equal(reconcile(&c, items, 1, ids, pushed), 1);
	assert_int_equal(ids->n, 0);
	for (i = 0; i < 3; i++)
		if (memcmp(want_ids[i], items[0].id, 32) != 0)
			assert_true(got_id(pushed, want_ids[i]));

	/* Live push: a record another process stores reaches us within a
	 * second; one we sent ourselves does not come back. */
	lens[3] = make_cause(w, w->cli.pk, w->cli.sk, 500, &bytes[3], want_ids[0]);
	send_recs(&c, 11, &bytes[3], &lens[3], 1);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 11, g, WAIT_MS));
	free(bytes[3]);
	lens[3] = make_cause(w, w->srv, w->srv_sk, 501, &bytes[3], want_ids[1]);
	put(w, bytes[3], lens[3]);
	g->n = 0;
	assert_true(wait_for(&c, m, MU_WIRE_RECS, 0, g, 1000));
	assert_int_equal(m->req, 0);
	assert_true(got_id(g, want_ids[1]));
	assert_false(got_id(g, want_ids[0]));
	for (i = 0; i < 4; i++)
		free(bytes[i]);
	disconnect(&c);
	free(ids);
	free(pushed);
	free(g);
	free(m);
}

/* An announce gets a want for the ids the daemon lacks, and only those,
 * once; what it then receives is stored. */
static void
test_announce(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	struct mu_buf b = MU_BUF_INIT;
	uint8_t *bytes[2], ids[2][32];
	size_t lens[2];
	struct client c;
	uint64_t req;

	session(&c, w, NULL);
	lens[0] = make_cause(w, w->cli.pk, w->cli.sk, 700, &bytes[0], ids[0]);
	lens[1] = make_cause(w, w->cli.pk, w->cli.sk, 701, &bytes[1], ids[1]);
	put(w, bytes[1], lens[1]); /* the daemon holds the second */
	assert_int_equal(mu_wire_encode_announce(&b, (const uint8_t(*)[32])ids, 2), 0);
	send_msg(&c, &b);
	assert_true(wait_for(&c, m, MU_WIRE_WANT, 0, NULL, WAIT_MS));
	assert_int_equal(m->keys.n, 1);
	assert_memory_equal(mu_wire_key(&m->keys, 0), ids[0], 32);
	req = m->req;
	/* The same announce again, before the answer: not asked for twice. */
	send_msg(&c, &b);
	send_recs(&c, 0, &bytes[0], &lens[0], 1);
	b.len = 0;
	assert_int_equal(mu_wire_encode_ack(&b, req), 0);
	send_msg(&c, &b);
	assert_false(wait_for(&c, m, MU_WIRE_WANT, 0, NULL, 500));
	assert_true(stored(w, ids[0]));
	disconnect(&c);
	free(bytes[0]);
	free(bytes[1]);
	mu_buf_free(&b);
	free(m);
}

static void
test_malformed(void **state)
{
	struct world *w = *state;
	uint8_t *recs[65], id[32];
	size_t lens[65], i;
	struct mu_buf b = MU_BUF_INIT;
	struct client c;

	/* 65 records in one recs. */
	session(&c, w, NULL);
	for (i = 0; i < 65; i++)
		lens[i] =
		    make_cause(w, w->cli.pk, w->cli.sk, 200 + (int)i, &recs[i], id);
	send_recs(&c, 1, recs, lens, 65);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);
	assert_false(stored(w, id));

	/* neg without neg-open; neg-open from the wrong side is tested by the
	 * daemon's own dialer role. */
	session(&c, w, NULL);
	assert_int_equal(mu_wire_encode_neg(&b, false, (const uint8_t *)"\x61", 1), 0);
	send_msg(&c, &b);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);

	/* Not msgpack at all. */
	session(&c, w, NULL);
	b.len = 0;
	assert_int_equal(mu_buf_append(&b, "\xc1", 1), 0);
	send_msg(&c, &b);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);
	for (i = 0; i < 65; i++)
		free(recs[i]);
	mu_buf_free(&b);
}

static void
test_invalid_ban(void **state)
{
	struct world *w = *state;
	struct mu_wire_msg *m = malloc(sizeof(*m));
	uint8_t *recs[17], ids[17][32];
	size_t lens[17], i;
	struct client c;

	/* 16 invalid records are tolerated... */
	session(&c, w, NULL);
	for (i = 0; i < 17; i++) {
		lens[i] =
		    make_cause(w, w->cli.pk, w->cli.sk, 300 + (int)i, &recs[i], ids[i]);
		recs[i][lens[i] - 1] ^= 0x80;
	}
	send_recs(&c, 1, recs, lens, 8);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 1, NULL, WAIT_MS));
	send_recs(&c, 2, recs + 8, lens + 8, 8);
	assert_true(wait_for(&c, m, MU_WIRE_ACK, 2, NULL, WAIT_MS));
	/* ...the 17th ends the connection, and the address is refused. */
	send_recs(&c, 3, recs + 16, lens + 16, 1);
	assert_true(closes(&c, WAIT_MS));
	disconnect(&c);
	for (i = 0; i < 17; i++) {
		assert_false(stored(w, ids[i]));
		free(recs[i]);
	}
	connect_to(&c, w, &w->cli);
	assert_false(handshake(&c));
	disconnect(&c);
	free(m);
}

static void
test_once(void **state)
{
	struct world *w = *state;
	struct mu_store_opts so = {0, false};
	struct mu_sync_report rep;
	struct mu_node_opts o;
	const struct mu_record *p;
	enum mu_put_result res;
	struct mu_record r;
	struct mu_store *st;
	struct mu_why why;
	char home[128], dir[160], addr[64];
	uint8_t mine[32], *bytes, id[32];
	size_t len;

	/* A second home that follows the daemon's group and its ally, and
	 * holds a cause of the ally that the daemon lacks. */
	snprintf(home, sizeof(home), "%s/two", w->tmp);
	assert_int_equal(mu_home_create(home, mine, &why), 0);
	snprintf(dir, sizeof(dir), "%s/store", home);
	assert_int_equal(mu_store_open(&st, dir, &so, &why), 0);
	len = make_cause(w, w->cli.pk, w->cli.sk, 900, &bytes, id);
	assert_int_equal(mu_rec_parse(&r, bytes, len, w->now, 0, &why), 0);
	p = &r;
	assert_int_equal(mu_store_put(st, &p, 1, &res, &why), 0);
	assert_int_equal(mu_store_follow(st, w->srv, true), 0);
	assert_int_equal(mu_store_follow(st, w->cli.pk, true), 0);
	mu_store_close(st);

	mu_node_opts_default(&o, home);
	o.http = NULL; /* tests run side by side: no fixed port */
	o.network = NETWORK;
	o.listen = NULL;
	o.log_level = MU_LOG_ERROR;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", w->port);
	if (mu_node_sync(&o, addr, w->srv, &rep, &why) != 0)
		fail_msg("sync: %s", why.text);
	/* The daemon's three records came in; our cause went out and was
	 * acknowledged, so it is stored there. */
	assert_int_equal(rep.stored, 3);
	assert_int_equal(rep.rejected, 0);
	assert_int_equal(rep.sent, 1);
	assert_true(stored(w, id));
	free(bytes);

	/* Again: nothing new either way, and still a completed sync. What
	 * goes out is the greeting: the ally's alliance naming the daemon,
	 * which we hold now. */
	if (mu_node_sync(&o, addr, w->srv, &rep, &why) != 0)
		fail_msg("sync: %s", why.text);
	assert_int_equal(rep.received, 0);
	assert_int_equal(rep.stored, 0);
	assert_int_equal(rep.sent, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_and_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pool_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_want, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconcile_and_push, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_announce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_ban, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_once, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
