#!/usr/bin/python3
"""Real `muster serve` processes on 127.0.0.1 syncing: two allies converge,
a chain A-B-C relays, a node that was down catches up after a restart."""

import unittest

import musterlib
from musterlib import Home, add_event, ally, event_titles, peers, shown, wait_until

SYNC = 30  # seconds any propagation may take here (live push is far faster)


def tearDownModule():
    musterlib.check_no_secrets()


class Sync(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_two_allies_converge_both_ways(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha Collective")
        b.init("Beta Union")
        # The README's order: both daemons run, then the peer link, the
        # alliance and the events, all made with the CLI meanwhile.
        sa = a.serve(self.net)
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        ally(a, b)
        ea = add_event(a, "Alpha assembly")
        eb = add_event(b, "Beta picnic", day="06-02")

        wait_until(lambda: b.has(ea) and a.has(eb), SYNC, "both events on both nodes")
        self.assertEqual(event_titles(a)[eb], "Beta picnic")
        self.assertEqual(event_titles(b)[ea], "Alpha assembly")
        # The alliance is mutual on both sides, and the names came along.
        for home, other, name in ((a, b, "Beta Union"), (b, a, "Alpha Collective")):
            lst = home.json("ally", "list", "--json")
            self.assertEqual([(x["group"], x["state"], x["name"]) for x in lst],
                             [(other.key, "mutual", name)])

        # peer list and status show the link as the daemon sees it.
        p = wait_until(lambda: peers(a).get(sb.addr, {}).get("last_seen") and peers(a)[sb.addr],
                       SYNC, "a last-seen time for B in A's peer list")
        self.assertEqual(p["key"], b.key)
        self.assertEqual(p["name"], "Beta Union")
        self.assertEqual(p["source"], "manual")
        self.assertEqual(p["state"], "connected")
        self.assertRegex(p["last_seen"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        wait_until(lambda: peers(a)[sb.addr]["received"] >= 1, SYNC,
                   "records received from B counted in A's peer list")
        text = a.ok("peer", "list")
        self.assertIn(sb.addr, text)
        self.assertIn(b.key, text)
        status = a.ok("status")
        self.assertIn("daemon:    running, listening on %s" % sa.addr, status)
        self.assertIn(sb.addr, status)
        self.assertIn("Beta Union", status)
        self.assertIn("Alpha Collective", status)

        sa.stop()
        sb.stop()
        self.assertIn("not running", a.ok("status"))

    def test_chain_relays_event_edit_and_cancel(self):
        a, b, c = Home(self, "a"), Home(self, "b"), Home(self, "c")
        a.init("Alpha")
        b.init("Bridge")
        c.init("Gamma")
        ally(a, b)
        ally(b, c)
        # A and C know only B: they never connect to each other.
        sa = a.serve(self.net)
        sb = b.serve(self.net)
        sc = c.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        c.ok("peer", "add", sb.addr, b.key)
        # C wants A once it knows B allies with A (hops 2): A's profile shows it.
        wait_until(lambda: c.has(a.key + "/profile"), SYNC, "A's profile on C, through B")

        ev = add_event(a, "Chain assembly")
        wait_until(lambda: ev in event_titles(c), SYNC, "A's event in C's event list")
        self.assertEqual(event_titles(c)[ev], "Chain assembly")

        a.line("event", "edit", ev, "--title", "Chain assembly, new room")
        wait_until(lambda: (shown(c, ev) or {}).get("rev") == 1, SYNC, "the edit on C")
        self.assertEqual(event_titles(c)[ev], "Chain assembly, new room")

        a.line("event", "cancel", ev)
        wait_until(lambda: (shown(c, ev) or {}).get("content", {}).get("status") == "cancelled",
                   SYNC, "the cancellation on C")
        self.assertIn("CANCELLED", c.ok("event", "list"))

        # They never met: neither has the other as a peer, nor dialed it.
        self.assertEqual(list(peers(a)), [sb.addr])
        self.assertEqual(list(peers(c)), [sb.addr])
        self.assertNotIn(sc.addr, sa.log())
        self.assertNotIn(sa.addr, sc.log())
        for s in (sa, sb, sc):
            s.stop()

    def test_node_that_was_down_catches_up(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        sa = a.serve(self.net)
        b.ok("peer", "add", sa.addr, a.key)
        sb = b.serve(self.net)
        wait_until(lambda: b.has(a.key + "/profile") and a.has(b.key + "/profile"), SYNC,
                   "the profiles exchanged")
        sb.stop()

        ev = add_event(a, "Made while B was down")
        self.assertFalse(b.has(ev))
        sb.start()
        wait_until(lambda: b.has(ev), SYNC, "the event on B after its restart")
        self.assertEqual(event_titles(b)[ev], "Made while B was down")
        sb.stop()
        sa.stop()


if __name__ == "__main__":
    musterlib.main()
