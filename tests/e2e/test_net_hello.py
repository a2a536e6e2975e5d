#!/usr/bin/python3
"""Hellos by digest (docs/PROTOCOL.md 10.1, 10.2), with real processes:

- the second `muster sync` between two nodes sends hellos of constant size
  (the digest of the scope, not the list), and still syncs; a node whose
  scope changed sends its full list again, once;
- a node that lost what it knew of a peer (here: `muster peer remove`)
  asks for the full list with rehello, gets it, and the sync completes;
- against a daemon, a Python peer written from PROTOCOL.md: one speaking
  the earlier hello format (no digest) always gets full hellos; one that
  reads digests gets a rehello for a digest the daemon never saw the list
  of, a hello by digest once it has had the daemon's list, a full hello
  when it asks, and a full one when the daemon's scope changes.

Byte counts are the node's own (the last line of `muster sync`), which
test_net_gossip.py checks against a counting proxy."""

import hashlib
import re
import time

import musterlib
import noisepeer
import recbuild
from musterlib import Home, add_event, wait_until

HANDSHAKE = 400  # PROTOCOL.md 9: the three handshake messages, framed
FRAMING = 18
BY_DIGEST = 57 + 5 + 10 + FRAMING  # 10.1's example, agent "muster", a time
RECEIVED = re.compile(r" done: (\d+) records received")
SUMMARY = re.compile(r"; reconciled in (\d+) round trips, (\d+) bytes of negentropy "
                     r"and (\d+) of wants; (\d+) bytes read, (\d+) written$")


def tearDownModule():
    musterlib.check_no_secrets()


def full_hello(groups):
    """A full hello with its digest: 10.1's 23-byte example less its empty
    scope (7), the agent "muster" (5 more), "digest" (41), "scope" with
    groups keys (7 + 34 each, up to 15), a time (10), framed."""
    return 23 + 5 + 41 + 34 * groups + 10 + FRAMING


def digest(scope):
    return hashlib.blake2b(b"muster scope v1" + b"".join(sorted(scope)),
                           digest_size=32).digest()


class Hello(musterlib.unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def sync(self, home, server):
        """`muster sync` of home with server: (stderr, wire bytes, neg bytes)."""
        res = home.run("sync", server.addr, "--network", self.net)
        self.assertEqual(res.rc, 0, repr(res))
        m = SUMMARY.search(res.err.strip())
        self.assertIsNotNone(m, res.err)
        rounds, neg, wants, read, written = map(int, m.groups())
        return res.err, read + written, neg, wants

    def sync_quiet(self, home, server):
        """sync() until one receives no record: a record the CLI stored in
        the server's home reaches its daemon's log at its next poll, and
        is then pushed live to the peers connected, even to one that got
        it by reconciliation (a few hundred bytes more on the wire)."""
        for _ in range(5):
            got = self.sync(home, server)
            if RECEIVED.search(got[0]).group(1) == "0":
                return got
        self.fail("every sync received a record: %s" % got[0])

    def test_second_sync_by_digest_changed_scope_and_lost_cache(self):
        a, c = Home(self, "a"), Home(self, "c")
        a.init("Alpha")
        c.init("Charlie")
        c.ok("follow", a.key)
        a.ok("follow", c.key)
        sa = a.serve(self.net)

        # First contact: both lists, each with its digest.
        err, wire, neg, wants = self.sync(c, sa)
        self.assertNotIn("(by digest)", err)

        # Again: each has the other's list; the hellos are digests.
        ev = add_event(a, "After the first sync")
        err, wire, neg, wants = self.sync(c, sa)
        self.assertIn("2 groups in scope (by digest)", err)
        self.assertTrue(c.has(ev), "the sync by digest still brings records")
        err, wire, neg, wants = self.sync_quiet(c, sa)
        self.assertEqual((wire, wants), (HANDSHAKE + 2 * BY_DIGEST + neg, 0), err)
        small = wire - neg

        # C's scope grows by 3 groups: C sends its full list (5 groups)
        # once, A still its digest; then both digests again, of the same
        # size as with 2 groups.
        for label in ("x", "y", "z"):
            h = Home(self, label)
            h.init(label.upper())
            c.ok("follow", h.key)
        err, wire, neg, wants = self.sync(c, sa)
        self.assertIn("2 groups in scope (by digest)", err)
        self.assertEqual(wire, HANDSHAKE + full_hello(5) + BY_DIGEST + neg, err)
        wait_until(lambda: "5 groups in scope\n" in sa.log(), 10, "C's full list on A")
        err, wire, neg, wants = self.sync(c, sa)
        self.assertEqual(wire - neg, small, "hellos of constant size: %s" % err)

        # C forgets A (a peer added with A's key, then removed): A's hello
        # by digest stands for nothing C holds, so C asks for the list.
        # C's own hello is full: it no longer knows A reads digests.
        c.ok("peer", "add", sa.addr, a.key)
        c.ok("peer", "remove", sa.addr)
        ev = add_event(a, "After the cache was lost")
        err, wire, neg, wants = self.sync(c, sa)
        self.assertIn("scope by a digest we do not hold: asked for it", err)
        self.assertIn("2 groups in scope\n", err)
        self.assertTrue(c.has(ev), "the sync after a rehello completes")
        err, wire, neg, wants = self.sync_quiet(c, sa)
        self.assertIn("2 groups in scope (by digest)", err)
        self.assertEqual(wire - neg, small, err)


class Peer(musterlib.unittest.TestCase):
    """A daemon A that follows G; G is a Python peer (noisepeer)."""

    def setUp(self):
        self.net = musterlib.network_name()
        self.a = Home(self, "a")
        self.a.init("Alpha")
        self.g = Home(self, "g")
        self.g.init("Gamma")
        self.a.ok("follow", self.g.key)
        self.sa = self.a.serve(self.net)
        self.seed = self.g.secret()
        self.scope = [recbuild.group_of(self.seed)]

    def connect(self):
        p = noisepeer.Peer(self.sa.port, self.net, self.seed)
        self.addCleanup(p.close)
        p.handshake()
        return p

    def until(self, p, pred, what, timeout=10):
        """Messages from p until one matches pred: all of them."""
        seen, end = [], time.monotonic() + timeout * musterlib.SLOWDOWN
        while True:
            left = end - time.monotonic()
            if left <= 0:
                self.fail("no %s within %d s; got %r" % (what, timeout, seen))
            p.sock.settimeout(left)
            msg = p.recv()
            seen.append(msg)
            if pred(msg):
                return seen

    def hello_of(self, p):
        return self.until(p, lambda m: m[0] == "hello", "hello")[-1][1]

    def alive(self, p, req):
        """An empty recs with req, and everything A sent before its ack."""
        p.send(["recs", req, []])
        return self.until(p, lambda m: m == ["ack", req], "ack %d" % req)

    def test_old_format_always_gets_the_list(self):
        for attempt in range(3):
            p = self.connect()
            theirs = p.hello(self.scope)
            self.assertIn("scope", p.peer_hello, "A's hello %d" % attempt)
            self.assertEqual(len(theirs), 2)
            self.assertFalse(any(m[0] == "rehello" for m in self.alive(p, 1)))
            p.close()
        self.assertNotIn("(by digest)", self.sa.log())

    def test_digests(self):
        d = digest(self.scope)
        # A has never had G's list: a hello by digest gets a rehello; the
        # full hello then lets the session go on.
        p = self.connect()
        first = self.hello_of(p)
        self.assertIn("scope", first, "A does not know yet that G reads digests")
        self.assertEqual(first["digest"], digest(first["scope"]))
        p.send(["hello", {"agent": "py", "digest": d}])
        self.until(p, lambda m: m == ["rehello"], "rehello")
        p.send(["hello", {"agent": "py", "digest": d, "scope": self.scope}])
        self.alive(p, 1)
        p.close()
        wait_until(lambda: "1 groups in scope" in self.sa.log(), 10, "G's list on A")

        # Next session: A's hello is by digest (G had its list and reads
        # digests), and G's by digest is understood without a rehello.
        p = self.connect()
        second = self.hello_of(p)
        self.assertNotIn("scope", second)
        self.assertEqual(second["digest"], first["digest"])
        p.send(["hello", {"agent": "py", "digest": d}])
        self.assertFalse(any(m[0] == "rehello" for m in self.alive(p, 1)))
        wait_until(lambda: "1 groups in scope (by digest)" in self.sa.log(), 10,
                   "G's scope by digest on A")

        # G asks: the full list, once.
        p.send(["rehello"])
        again = self.hello_of(p)
        self.assertEqual(again["scope"], first["scope"])
        p.send(["rehello"])  # after a full hello: ignored
        self.assertFalse(any(m[0] == "hello" for m in self.alive(p, 2)))

        # A's scope changes (it follows one more group): its new list.
        h = Home(self, "h")
        h.init("Eta")
        self.a.ok("follow", h.key)
        changed = self.until(p, lambda m: m[0] == "hello", "A's new hello", 30)[-1][1]
        self.assertEqual(len(changed["scope"]), 3)
        self.assertEqual(changed["digest"], digest(changed["scope"]))


if __name__ == "__main__":
    musterlib.main()
