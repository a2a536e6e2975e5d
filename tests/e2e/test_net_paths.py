#!/usr/bin/python3
"""A group reached through an ally's alliance, which this group never
vetted, is labelled with its path ("ally of Harbour") in `event list`, on
the pages and in the API (via, hops)."""

import json
import unittest

import musterlib
from musterlib import Home, http_get as get, add_event, wait_until

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class Paths(unittest.TestCase):
    def test_ally_of_an_ally_is_labelled_with_its_path(self):
        net = musterlib.network_name()
        r, h, e = Home(self, "r"), Home(self, "h"), Home(self, "e")
        r.init("Riverside")
        h.init("Harbour")
        e.init("Eastside")
        musterlib.ally(r, h)
        musterlib.ally(h, e)
        ev_e = add_event(e, "Eastside rally")
        ev_h = add_event(h, "Harbour meeting")
        # Harbour's node relays Eastside's records to Riverside.
        sh = h.serve(net)
        e.ok("peer", "add", sh.addr, h.key)
        se = e.serve(net)
        wait_until(lambda: h.has(ev_e), SYNC, "Eastside's event on Harbour")
        r.ok("peer", "add", sh.addr, h.key)
        sr = r.serve(net, http=True)
        wait_until(lambda: r.has(ev_e) and r.has(e.key + "/profile"), SYNC,
                   "Eastside's event and profile on Riverside")

        out = r.ok("event", "list")
        para = [p for p in out.split("\n\n") if "Eastside rally" in p]
        self.assertEqual(len(para), 1, out)
        self.assertIn("Eastside (ally of Harbour)", para[0])
        para = [p for p in out.split("\n\n") if "Harbour meeting" in p]
        self.assertEqual(len(para), 1, out)
        self.assertNotIn("ally of", para[0])

        groups = {g["key"]: g for g in json.loads(get(sr, "/api/groups"))["groups"]}
        self.assertEqual(groups[e.key]["via"], h.key, groups[e.key])
        self.assertEqual(groups[e.key]["hops"], 2)
        self.assertIsNone(groups[h.key]["via"])
        self.assertEqual(groups[h.key]["hops"], 1)
        self.assertEqual(groups[r.key]["hops"], 0)

        page = get(sr, "/")
        self.assertIn("Eastside</a> <span class=\"via\">(ally of <a href=\"/groups/%s\">"
                      "Harbour</a>)</span>" % h.key, page)
        for s in (sr, se, sh):
            s.stop()


if __name__ == "__main__":
    musterlib.main()
