#!/usr/bin/python3
"""Node records: a group that serves with --announce publishes where it can be
reached; its allies learn the address through any node they share and dial it,
so a coalition's nodes find each other once one link exists."""

import unittest

import musterlib
from musterlib import Home, ally, peers, wait_until

SYNC = 30


def tearDownModule():
    musterlib.check_no_secrets()


class Discovery(unittest.TestCase):
    def test_allies_learn_announced_address_and_dial_it(self):
        net = musterlib.network_name()
        a, b, c = Home(self, "a"), Home(self, "b"), Home(self, "c")
        a.init("Alpha")
        b.init("Beta")
        c.init("Gamma")
        # A knows only B's address. C announces its own, and is allied with
        # both; A must learn C's address through B and dial C directly.
        ally(a, b)
        ally(b, c)
        ally(a, c)
        c_port = musterlib.free_port()
        c_addr = "127.0.0.1:%d" % c_port
        sc = c.serve(net, "--announce", c_addr, port=c_port)
        sb = b.serve(net)
        sa = a.serve(net)
        b.ok("peer", "add", c_addr, c.key)
        a.ok("peer", "add", sb.addr, b.key)

        node_addr = c.key + "/node"
        wait_until(lambda: a.has(node_addr), SYNC, "C's node record on A")
        rec = a.json("show", node_addr, "--json")
        self.assertEqual(rec["kind"], "node")
        self.assertEqual(rec["content"]["addrs"], [c_addr])
        self.assertIn(c_addr, a.ok("show", node_addr))

        wait_until(lambda: c_addr in peers(a), SYNC, "C's address learnt by A")
        learnt = peers(a)[c_addr]
        self.assertEqual(learnt["key"], c.key)
        wait_until(lambda: peers(a)[c_addr]["state"] == "connected", SYNC,
                   "A connected to C directly")
        # C was dialed by A and B and has no peers table entry for either:
        # status still lists both live connections, by name.
        status = c.ok("status")
        self.assertIn("daemon:    running", status)
        self.assertRegex(status, r"\n  127\.0\.0\.1:\d+  Alpha \(%s\), inbound \(it dialed "
                         r"this node\)\n" % a.key)
        self.assertRegex(status, r"\n  127\.0\.0\.1:\d+  Beta \(%s\), inbound \(it dialed "
                         r"this node\)\n" % b.key)
        self.assertIn("peers:     0 dialed by this node, 2 inbound", status)
        for s in (sa, sb, sc):
            s.stop()
        self.assertNotIn("connected:", c.ok("status"))


if __name__ == "__main__":
    musterlib.main()
