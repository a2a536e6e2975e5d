#!/usr/bin/python3
"""An alliance that one side ends, seen from both sides: the ended record
reaches the other group, `ally list`, the API and the /alliances page say
who ended it and when, and each group's terms are shown as its own."""

import json
import re
import unittest

import musterlib
from musterlib import Home, http_get as get, wait_until

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


def entry(home, key):
    for x in home.json("ally", "list", "--json"):
        if x["group"] == key:
            return x
    return None


class AllianceEnd(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_end_reaches_the_other_side_and_both_say_who_ended_it(self):
        r, h = Home(self, "r"), Home(self, "h")
        r.init("Riverside")
        h.init("Harbour")
        r.line("ally", "add", h.key, "--terms", "Riverside acts by its code")
        h.line("ally", "add", r.key, "--terms", "Harbour keeps the peace")
        sr = r.serve(self.net, http=True)
        h.ok("peer", "add", sr.addr, r.key)
        sh = h.serve(self.net, http=True)
        wait_until(lambda: (entry(h, r.key) or {}).get("state") == "mutual"
                   and (entry(r, h.key) or {}).get("state") == "mutual"
                   and h.has(r.key + "/profile") and r.has(h.key + "/profile"),
                   SYNC, "the alliance mutual on both sides")

        r.line("ally", "end", h.key)
        ours = entry(r, h.key)
        self.assertEqual(ours["state"], "ended", ours)
        self.assertEqual(ours["ended_by"], r.key, ours)
        self.assertRegex(ours["ended_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        # The end reaches Harbour, whose ally list says so.
        theirs = wait_until(lambda: (lambda x: x if x and x["state"] == "ended" else None)(
            entry(h, r.key)), SYNC, "Riverside's end on Harbour")
        self.assertEqual(theirs["ended_by"], r.key, theirs)
        self.assertEqual(theirs["theirs"]["content"]["status"], "ended")
        day = ours["ended_at"][:10]

        for home, other_name in ((r, "Harbour"), (h, "Riverside")):
            out = home.ok("ally", "list")
            self.assertNotIn("Proposed to us", out)
            self.assertNotIn("Proposed by us", out)
            self.assertIn("ended by Riverside on %s" % day, out)
            # Terms are their author's, named.
            self.assertIn("Riverside's terms: Riverside acts by its code", out)
            self.assertIn("Harbour's terms: Harbour keeps the peace", out)
            self.assertIn(other_name, out)

        # The page and the API of both nodes.
        for s in (sr, sh):
            page = wait_until(lambda: (lambda p: p if "ended by Riverside" in p else None)(
                get(s, "/alliances")), SYNC, "the end on %s's /alliances" % s.addr)
            self.assertNotRegex(page, r">proposed<")
            self.assertIn("ended by Riverside on %s" % day, page)
            groups = json.loads(get(s, "/api/groups"))
            groups = groups.get("groups", groups) if isinstance(groups, dict) else groups
            other = [g for g in groups if g["key"] in (r.key, h.key) and not g.get("us")]
            self.assertEqual(len(other), 1, groups)
            self.assertEqual(other[0]["alliance"], "ended", other[0])
            self.assertEqual(other[0]["ended_by"], r.key, other[0])
        sh.stop()
        sr.stop()

    def test_a_proposal_after_an_end_is_a_proposal_again(self):
        r, h = Home(self, "r"), Home(self, "h")
        r.init("Riverside")
        h.init("Harbour")
        musterlib.ally(r, h)
        h.line("ally", "end", r.key)
        # Offline: Riverside imports Harbour's records, ended then renewed.
        r.import_file(h.export_file())
        self.assertEqual(entry(r, h.key)["state"], "ended")
        self.assertEqual(entry(r, h.key)["ended_by"], h.key)
        h.line("ally", "add", r.key, "--terms", "Again")
        r.import_file(h.export_file("again.muster"))
        x = entry(r, h.key)
        self.assertEqual(x["state"], "mutual", x)
        self.assertIsNone(x["ended_by"], x)


if __name__ == "__main__":
    musterlib.main()
