#!/usr/bin/python3
"""`muster status` and `muster peer list` say how other nodes reach this
one: dial-out only, the addresses the node record announces, an onion
service (HOME/tor/hostname), and a refused port mapping. The mapped case
runs against a real router in tests/e2e/test_netns_portmap.py."""

import os
import unittest

import musterlib
from musterlib import Home

DIAL_OUT = ("reach:     dial-out only: allies reach you only through a node you "
            "both dial")


def tearDownModule():
    musterlib.check_no_secrets()


class ReachStatus(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def reach(self, home):
        """The reach: lines of status, and peer list's first block."""
        status = home.ok("status").splitlines()
        lines = [l for i, l in enumerate(status) if l.startswith("reach:") or (
            l.startswith("           ") and any(
                s.startswith("reach:") for s in status[:i]) and not any(
                s.startswith("peers:") for s in status[:i]))]
        listed = home.ok("peer", "list").split("\n\n")[0].splitlines()
        self.assertEqual(lines, listed, "status and peer list say the same")
        return lines

    def test_dial_out_only(self):
        a = Home(self, "a")
        a.init("Alpha")
        self.assertEqual(self.reach(a), [DIAL_OUT])
        s = a.serve(self.net)
        self.assertEqual(self.reach(a), [DIAL_OUT], "listening is not being reached")
        s.stop()

    def test_announced(self):
        a = Home(self, "a")
        a.init("Alpha")
        s = a.serve(self.net, "--announce", "203.0.113.5:7420", "--announce",
                    "node.example.org:7420")
        s.wait_log(r"published our node record")
        self.assertEqual(self.reach(a), [
            "reach:     announced 203.0.113.5:7420 (in this group's node record, "
            "which allies dial)",
            "           announced node.example.org:7420 (in this group's node "
            "record, which allies dial)"])
        s.stop()
        # The record stays published: allies still dial what it says.
        self.assertIn("announced 203.0.113.5:7420", self.reach(a)[0])

    def test_onion(self):
        a = Home(self, "a")
        a.init("Alpha")
        os.makedirs(os.path.join(a.path, "tor"), exist_ok=True)
        with open(os.path.join(a.path, "tor", "hostname"), "w") as f:
            f.write("a" * 56 + ".onion\n")
        self.assertEqual(self.reach(a), ["reach:     onion %s.onion (Tor)" % ("a" * 56)])

    def test_refused_mapping_is_said_while_serving(self):
        a = Home(self, "a")
        a.init("Alpha")
        s = a.serve(self.net)
        # What the daemon writes when the router is behind another NAT
        # (node/portmap.c); a stopped daemon's file is not believed.
        with open(os.path.join(a.path, "serve.mapped"), "w") as f:
            f.write("refused\tthe router has no public address: it is behind "
                    "another NAT\n")
        self.assertEqual(self.reach(a), [
            DIAL_OUT, "           port mapping refused: the router has no public "
            "address: it is behind another NAT"])
        s.stop()
        self.assertEqual(self.reach(a), [DIAL_OUT])

    def test_announce_auto_needs_map_port(self):
        a = Home(self, "a")
        a.init("Alpha")
        res = a.run("serve", "--announce", "auto")
        musterlib.assert_one_line_error(self, res, "--announce auto", "--map-port")


if __name__ == "__main__":
    musterlib.main()
