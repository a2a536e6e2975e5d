#!/usr/bin/python3
"""Connections the other side dialed count: a hub that two nodes dial lists
them in `peer list` (marked inbound, with their group), says when it last
saw their groups on its pages and API, and counts them in `status`."""

import json
import re
import unittest

import musterlib
from musterlib import Home, http_get as get, wait_until

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class Inbound(unittest.TestCase):
    def test_hub_counts_the_nodes_that_dialed_it(self):
        net = musterlib.network_name()
        hub, a, b = Home(self, "hub"), Home(self, "a"), Home(self, "b")
        hub.init("Hub")
        a.init("Alpha")
        b.init("Beta")
        musterlib.ally(hub, a)
        musterlib.ally(hub, b)
        sh = hub.serve(net, http=True)
        for x in (a, b):
            x.ok("peer", "add", sh.addr, hub.key)
        sa, sb = a.serve(net), b.serve(net)
        wait_until(lambda: hub.has(a.key + "/profile") and hub.has(b.key + "/profile"),
                   SYNC, "both profiles on the hub")

        def inbound():
            got = {p["key"]: p for p in hub.json("peer", "list", "--json")
                   if p["source"] == "inbound"}
            return got if len(got) == 2 else None

        got = wait_until(inbound, SYNC, "two inbound peers on the hub")
        self.assertEqual(got[a.key]["name"], "Alpha")
        self.assertEqual(got[b.key]["state"], "connected")
        self.assertRegex(got[a.key]["address"], r"^127\.0\.0\.1:\d+$")
        self.assertIsNotNone(got[a.key]["last_seen"])
        self.assertIsNone(got[a.key]["sent"])

        text = hub.ok("peer", "list")
        self.assertNotIn("No peers", text)
        self.assertEqual(len(re.findall(r"connected  \(inbound: it dialed this node\)",
                                        text)), 2, text)
        self.assertIn("Alpha", text)
        self.assertIn("Beta", text)

        status = hub.ok("status")
        self.assertIn("peers:     0 dialed by this node, 2 inbound", status)

        # The group page and the API: seen now, not "never".
        groups = {g["key"]: g for g in json.loads(get(sh, "/api/groups"))["groups"]}
        self.assertIsNotNone(groups[a.key]["last_seen"], groups[a.key])
        self.assertIsNotNone(groups[b.key]["last_seen"], groups[b.key])
        page = get(sh, "/groups/" + a.key)
        m = re.search(r"<dt>Last seen</dt><dd>(.*?)</dd>", page)
        self.assertIsNotNone(m, page)
        self.assertNotIn("never", m.group(1))

        # After Alpha leaves, the hub still knows when it last saw it.
        sa.stop()
        wait_until(lambda: inbound() is None, SYNC, "Alpha gone from the hub's list")
        groups = {g["key"]: g for g in json.loads(get(sh, "/api/groups"))["groups"]}
        self.assertIsNotNone(groups[a.key]["last_seen"], groups[a.key])
        sb.stop()
        sh.stop()


if __name__ == "__main__":
    musterlib.main()
