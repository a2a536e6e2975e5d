#!/usr/bin/python3
"""Live push of records created with the CLI, `muster sync` once, an
alliance proposal reaching the group it names, and `muster serve`'s own
output and options."""

import os
import re
import sys
import time
import unittest

import musterlib
from musterlib import Home, add_event, ally, wait_until

# The benchmarks' counting TCP proxy.
sys.path.insert(0, os.path.join(os.environ["MUSTER_SOURCE_DIR"], "tests", "bench"))
from netlib import Proxy  # noqa: E402

SYNC = 30


def tearDownModule():
    musterlib.check_no_secrets()


class Gossip(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_cli_record_reaches_connected_peer_within_a_second(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net)
        wait_until(lambda: b.has(a.key + "/profile") and a.has(b.key + "/profile"), SYNC,
                   "the profiles exchanged")
        # The first event also waits out the initial reconciliation.
        first = add_event(a, "Warm-up")
        wait_until(lambda: b.has(first), SYNC, "the warm-up event on B")

        figures = []
        for i in range(3):
            ev = add_event(a, "Live %d" % i)
            stored = time.monotonic()  # `event add` has returned: it is stored
            wait_until(lambda: b.has(ev), 10, "event %d on B" % i, interval=0.01)
            figures.append(time.monotonic() - stored)
        print("\nCLI record to a connected peer: %s s (the check itself adds a "
              "`muster show` run)" % ", ".join("%.3f" % f for f in figures))
        # The issue asks for one second; a loaded test machine gets some slack.
        self.assertLess(min(figures), 1.5, figures)
        self.assertLess(sorted(figures)[1], 1.5, figures)
        sa.stop()
        sb.stop()

    def test_sync_once_exits_0_when_complete(self):
        a, c = Home(self, "a"), Home(self, "c")
        a.init("Alpha")
        c.init("Charlie")
        ea = add_event(a, "Alpha meeting")
        ec = add_event(c, "Charlie meeting")
        # Each wants the other's records: C follows A, A follows C.
        c.ok("follow", a.key)
        a.ok("follow", c.key)
        sa = a.serve(self.net)

        # Through a counting proxy: the bytes `muster sync` says it read and
        # wrote (handshake and framing included) are the proxy's, exactly.
        proxy = Proxy(int(sa.addr.rsplit(":", 1)[1]))
        res = c.run("sync", "127.0.0.1:%d" % proxy.port, a.key, "--network", self.net)
        self.assertEqual(res.rc, 0, repr(res))
        m = re.search(r"; (\d+) bytes read, (\d+) written$", res.err.strip())
        self.assertIsNotNone(m, "byte counts in the summary: %r" % res)
        read, written = map(int, m.groups())
        wait_until(lambda: proxy.up >= written, 10, "the proxy's count")
        self.assertEqual((read, written), (proxy.down, proxy.up))
        proxy.close()
        # Completed means: what C lacked arrived, and what it sent was stored.
        self.assertTrue(c.has(ea), "A's event is on C once sync returns")
        self.assertTrue(a.has(ec), "C's event is on A once sync returns")
        m = re.search(r"(\d+) records received \((\d+) new, (\d+) rejected\), (\d+) sent",
                      res.err)
        self.assertIsNotNone(m, "a received/sent summary on stderr: %r" % res)
        received, new, rejected, sent = map(int, m.groups())
        self.assertGreaterEqual(new, 2, res.err)  # A's profile and event at least
        self.assertEqual(rejected, 0)
        self.assertGreaterEqual(sent, 2, res.err)
        self.assertGreaterEqual(received, new)

        # Again: nothing left to move, still a complete sync, in one
        # negentropy round trip. Nothing but the handshake (400 bytes), the
        # two hellos and the reconciliation crosses, so the node's count of
        # negentropy bytes makes up the rest of its byte totals exactly.
        # Each side has had the other's scope in full, so each hello now
        # gives only its digest (PROTOCOL.md 10.2): 10.1's example of a
        # hello by digest, 57 bytes, with the agent "muster" (5 more) and a
        # time (10: the key "time" and a uint32), framed (18), whatever
        # the scope's size.
        res = c.run("sync", sa.addr, "--network", self.net)
        self.assertEqual(res.rc, 0, repr(res))
        m = re.search(r"(\d+) records received \((\d+) new", res.err)
        self.assertIsNotNone(m, res.err)
        self.assertEqual(int(m.group(2)), 0, res.err)
        m = re.search(r"; reconciled in (\d+) round trips, (\d+) bytes of negentropy "
                      r"and (\d+) of wants; (\d+) bytes read, (\d+) written$",
                      res.err.strip())
        self.assertIsNotNone(m, "reconciliation counts in the summary: %r" % res)
        rounds, neg, wants, read, written = map(int, m.groups())
        self.assertEqual((rounds, wants), (1, 0), res.err)
        self.assertIn("2 groups in scope (by digest)", res.err)
        self.assertEqual(400 + 2 * (57 + 5 + 10 + 18) + neg, read + written,
                         res.err)

        # Against a port where nothing listens: non-zero, one error line.
        closed = musterlib.free_port()
        res = c.run("sync", "127.0.0.1:%d" % closed, a.key, "--network", self.net)
        self.assertNotEqual(res.rc, 0, repr(res))
        self.assertRegex(res.err, r"(?m)^muster: sync with 127\.0\.0\.1:%d did not complete" % closed)
        # A bad address is a usage error.
        res = c.run("sync", "127.0.0.1", "--network", self.net)
        self.assertEqual(res.rc, 2, repr(res))
        sa.stop()

    def test_alliance_proposal_naming_us_is_seen(self):
        a, p = Home(self, "a"), Home(self, "p")
        a.init("Alpha")
        p.init("Proposers")
        p.line("ally", "add", a.key, "--terms", "Mutual aid")
        other = add_event(p, "Not for Alpha")
        sa = a.serve(self.net)
        p.ok("peer", "add", sa.addr, a.key)
        sp = p.serve(self.net)

        def proposed():
            for x in a.json("ally", "list", "--json"):
                if x["group"] == p.key and x["state"] == "proposed-to-us":
                    return x
            return None

        x = wait_until(proposed, SYNC, "P's proposal in A's ally list")
        # The proposer's profile came with it, so A sees a name.
        self.assertEqual(x["name"], "Proposers")
        self.assertEqual(x["theirs"]["content"]["terms"], "Mutual aid")
        self.assertIn("Proposed to us", a.ok("ally", "list"))
        # P is not in A's scope: its other records stay out.
        self.assertFalse(a.has(other))

        # A accepts: now mutual on both sides, and P's event comes over.
        a.line("ally", "add", p.key)
        wait_until(lambda: a.has(other), SYNC, "P's event on A once allied")
        wait_until(lambda: [y["state"] for y in p.json("ally", "list", "--json")] == ["mutual"],
                   SYNC, "the alliance mutual on P")
        sp.stop()
        sa.stop()

    def test_serve_prints_key_listen_address_and_how_to_add_it(self):
        a = Home(self, "a")
        a.init("Alpha")
        sa = a.serve(self.net)
        out = wait_until(lambda: "muster peer add" in sa.out() and sa.out(), 10,
                         "serve's banner")
        self.assertIn("key:      %s\n" % a.key, out)
        self.assertIn("listen:   %s\n" % sa.addr, out)
        self.assertIn("muster peer add %s %s\n" % (sa.addr, a.key), out)
        self.assertIn("running, listening on %s" % sa.addr, a.ok("status"))

        # One daemon per home.
        res = a.run("serve", "--listen", "127.0.0.1:%d" % musterlib.free_port(),
                    "--network", self.net)
        self.assertEqual(res.rc, 1, repr(res))
        self.assertIn("already runs", res.err)
        sa.stop()

        # Bad options are usage errors, before anything starts.
        for args, part in ((["--listen", "nowhere"], "--listen"),
                           (["--announce", "1.2.3.4:0"], "--announce"),
                           (["--network", "has space"], "--network"),
                           (["--network", ""], "--network"),
                           (["--hops", "-1"], "--hops"),
                           (["--hops", "x"], "--hops"),
                           (["--log-level", "loud"], "log-level")):
            line = a.fail("serve", *args, parts=(part,))
            self.assertTrue(line, args)
        self.assertIn("muster serve --listen", a.ok("serve", "--help"))
        self.assertIn("Example:", a.ok("sync", "--help"))


if __name__ == "__main__":
    musterlib.main()
