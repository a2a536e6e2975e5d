#!/usr/bin/python3
"""Why a dial failed shows in `muster peer list`, not only in the daemon's
log: a peer that proves another key than the one given, a node on another
network, and an address that is an HTTP port."""

import re
import unittest

import musterlib
from musterlib import Home, ally, peers

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class PeerReasons(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def reason_of(self, home, addr, pattern):
        """Waits until the peer's JSON reason matches pattern, then checks
        the text listing says the same; returns the reason."""
        rx = re.compile(pattern)
        last = []

        def reason():
            last[:] = [(peers(home).get(addr) or {}).get("reason")]
            return last[0] if last[0] and rx.search(last[0]) else None
        got = musterlib.wait_until(
            reason, SYNC, "a failure reason for %s matching %r in peer list "
            "--json" % (addr, pattern))
        text = home.ok("peer", "list")
        self.assertIn("last dial failed: %s" % got, text)
        print("\npeer list says: %s" % got)
        return got

    def test_wrong_key(self):
        a, b, x = Home(self, "a"), Home(self, "b"), Home(self, "x")
        a.init("Alpha")
        b.init("Beta")
        x.init("Someone else")
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr, x.key)
        a.serve(self.net)
        got = self.reason_of(a, sb.addr, r"^wrong key: ")
        self.assertIn(b.key, got, "it names the key the peer proved")
        # Given the right key, the next dial succeeds and the reason goes.
        a.ok("peer", "add", sb.addr, b.key)
        musterlib.wait_until(lambda: peers(a)[sb.addr]["state"] == "connected"
                             and peers(a)[sb.addr]["reason"] is None, SYNC * 2,
                             "a connected peer without a failure reason")
        self.assertNotIn("last dial failed", a.ok("peer", "list"))

    def test_wrong_network(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        sb = b.serve(musterlib.network_name())
        a.ok("peer", "add", sb.addr, b.key)
        a.serve(self.net)
        self.reason_of(a, sb.addr, r"^wrong network: .*--network")

    def test_http_port(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        sb = b.serve(self.net, http=True)
        http_addr = "127.0.0.1:%d" % sb.http_port
        a.ok("peer", "add", http_addr, b.key)
        a.serve(self.net)
        self.reason_of(a, http_addr, r"^an HTTP port: .*not a muster node")


if __name__ == "__main__":
    musterlib.main()
