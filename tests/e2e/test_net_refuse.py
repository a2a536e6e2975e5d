#!/usr/bin/python3
"""Nodes that must not talk: a peer that proves another group key than the
one we expect, and a node on another network."""

import re
import time
import unittest

import musterlib
from musterlib import Home, add_event, ally, peers

SYNC = 30


def tearDownModule():
    musterlib.check_no_secrets()


class Refuse(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_peer_proving_another_key_is_refused(self):
        a, b, x = Home(self, "a"), Home(self, "b"), Home(self, "x")
        a.init("Alpha")
        b.init("Beta")
        x.init("Someone else")
        ally(a, b)
        eb = add_event(b, "Beta only")
        sb = b.serve(self.net)
        # A expects X's key at B's address: B proves its own.
        a.ok("peer", "add", sb.addr, x.key)
        sa = a.serve(self.net)

        # One clear line: who, which key it proved, which one we expected.
        m = sa.wait_log(r"(?m)^\S+ warn .*%s.*proved group %s but %s was expected.*$"
                        % (re.escape(sb.addr), re.escape(b.key), re.escape(x.key)), SYNC)
        print("\nA logged: %s" % m.group(0))
        time.sleep(1)
        self.assertFalse(a.has(b.key + "/profile"), "nothing of B is stored on A")
        self.assertFalse(a.has(eb))
        self.assertNotEqual(peers(a)[sb.addr]["state"], "connected")
        self.assertEqual(peers(a)[sb.addr]["last_seen"], None)

        # The same through `muster sync`: refused, and it says why.
        res = a.run("sync", sb.addr, x.key, "--network", self.net)
        self.assertNotEqual(res.rc, 0, repr(res))
        self.assertRegex(res.err, r"(?m)^muster: sync with .*did not complete")
        self.assertFalse(a.has(eb))
        # Without KEY, sync takes the one `peer add` gave for the address.
        res = a.run("sync", sb.addr, "--network", self.net)
        self.assertNotEqual(res.rc, 0, repr(res))
        self.assertIn("proved group %s but %s was expected" % (b.key, x.key), res.err)
        self.assertFalse(a.has(eb))
        # The right key works (so the refusal above was about the key).
        res = a.run("sync", sb.addr, b.key, "--network", self.net, "--log-level", "debug")
        self.assertEqual(res.rc, 0, repr(res))
        self.assertTrue(a.has(eb))
        sa.stop()
        sb.stop()

    def test_node_on_another_network_is_refused(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        eb = add_event(b, "Beta only")
        other = musterlib.network_name()
        sb = b.serve(other)
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net)
        # Both ends see the handshake fail.
        m = sa.wait_log(r"(?m)^.*handshake with %s failed.*$" % re.escape(sb.addr), SYNC)
        print("\nA logged: %s" % m.group(0))
        # B answered the first message; A could not read the answer and hung up.
        m = sb.wait_log(r"(?m)^.*closed 127\.0\.0\.1:\d+: .*during the handshake.*$", SYNC)
        print("B logged: %s" % m.group(0))
        time.sleep(1)
        self.assertFalse(a.has(b.key + "/profile"))
        self.assertFalse(a.has(eb))

        res = a.run("sync", sb.addr, b.key, "--network", self.net, "--log-level", "debug")
        self.assertNotEqual(res.rc, 0, repr(res))
        self.assertFalse(a.has(eb))
        # The default network is not B's either.
        res = a.run("sync", sb.addr, b.key)
        self.assertNotEqual(res.rc, 0, repr(res))
        # On B's network it works.
        res = a.run("sync", sb.addr, b.key, "--network", other)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertTrue(a.has(eb))
        sa.stop()
        sb.stop()


if __name__ == "__main__":
    musterlib.main()
