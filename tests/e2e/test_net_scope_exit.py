#!/usr/bin/python3
"""Records of a group that left the scope (issue 14, "frozen events"): A
allies B, B publishes an event, A ends the alliance, B cancels it. A's
lists, API, page and feed no longer show the event as current; --all and
?all=1 show it marked "not updated since"; A relays it to no third node and
leaves it out of its export; after limits.outside_keep_s it is pruned,
while a group A follows again is kept; `muster check` stays clean."""

import datetime
import json
import unittest
import urllib.request

import musterlib
from musterlib import (Home, add_event, ally, group_bytes, record_id, shown, split_export,
                       wait_until)

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


def get(server, path):
    with urllib.request.urlopen(server.http_url + path, timeout=10) as r:
        return r.read().decode("utf-8")


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


class ScopeExit(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def titles(self, home, *extra):
        return {e["content"]["title"]: e
                for e in home.json("event", "list", "--json", *extra)}

    def test_ended_ally_events_are_frozen_not_current(self):
        a, b, d = Home(self, "a"), Home(self, "b"), Home(self, "d")
        c = Home(self, "c")
        a.init("Riverside")
        b.init("Harbour")
        d.init("Docks")
        c.init("Canal")
        ally(a, b)
        ally(a, d)
        # B also proposes to C, which A holds while B is in its scope.
        b.line("ally", "add", c.key)
        b_to_c = b.key + "/alliance/" + group_bytes(c).hex()
        eb = add_event(b, "Harbour picnic")
        ed = add_event(d, "Docks meeting")
        sb = b.serve(self.net)
        sd = d.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        a.ok("peer", "add", sd.addr, d.key)
        sa = a.serve(self.net, http=True)
        wait_until(lambda: a.has(eb) and a.has(ed) and a.has(b_to_c), SYNC,
                   "B's and D's events on A")
        self.assertIn("Harbour picnic", self.titles(a))
        self.assertIn("Harbour picnic", get(sa, "/calendar.ics"))

        # A ends both alliances; B then cancels, which A no longer gets.
        a.line("ally", "end", b.key)
        a.line("ally", "end", d.key)
        wait_until(lambda: "Harbour picnic" not in self.titles(a), SYNC,
                   "B's event hidden from A's list")
        b.ok("event", "cancel", eb)
        self.assertEqual(shown(b, eb)["content"]["status"], "cancelled")

        # The list says what it hid; --all shows it, marked.
        out = a.ok("event", "list")
        self.assertNotIn("Harbour picnic", out)
        self.assertIn("of groups outside this node's scope not shown", out)
        out = a.ok("event", "list", "--all")
        self.assertIn("Harbour picnic", out)
        self.assertNotIn("CANCELLED", out)
        self.assertIn("not updated since %s: Harbour left this node's scope" % today(),
                      out)
        marked = self.titles(a, "--all")["Harbour picnic"]
        self.assertTrue(marked["not_updated_since"].startswith(today()), marked)
        # Shown on its own, it is marked too.
        self.assertIn("not updated since %s: Harbour left this node's scope" % today(),
                      a.ok("show", eb))
        self.assertTrue(a.json("show", eb, "--json")["not_updated_since"].startswith(today()))

        # The API, the page and the feed.
        api = json.loads(get(sa, "/api/events"))
        self.assertNotIn("Harbour picnic", [e["content"]["title"] for e in api["events"]])
        api = json.loads(get(sa, "/api/events?all=1"))
        marked = [e for e in api["events"] if e["content"]["title"] == "Harbour picnic"]
        self.assertEqual(len(marked), 1)
        self.assertTrue(marked[0]["not_updated_since"].startswith(today()))
        self.assertNotIn("Harbour picnic", get(sa, "/"))
        page = get(sa, "/?all=1")
        self.assertIn("Harbour picnic", page)
        self.assertIn("Not updated since %s" % today(), page)
        self.assertNotIn("Harbour picnic", get(sa, "/calendar.ics"))
        one = json.loads(get(sa, "/api/events/" + eb))
        self.assertTrue(one["not_updated_since"].startswith(today()),
                        "asked for by address, it is shown marked")

        # Not exported: an import elsewhere would take it for current.
        res = a.run("export")
        self.assertEqual(res.rc, 0, repr(res))
        ids = {record_id(r) for r in split_export(self, res.outb)}
        self.assertNotIn(shown(a, eb)["id"], ids)
        self.assertIn("outside this node's scope left out", res.err)

        # Not relayed: C follows B and syncs with A, and gets nothing of B,
        # not even B's proposal to C, which a session's greeting would send
        # (B may have ended it since).
        c.ok("follow", b.key)
        res = c.run("sync", sa.addr, a.key, "--network", self.net)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertFalse(c.has(eb), "A relayed B's frozen event to C")
        self.assertFalse(c.has(b_to_c), "A relayed B's frozen proposal to C")

        # A follows D again: D is back in the scope, its event current.
        a.ok("follow", d.key)
        wait_until(lambda: "Docks meeting" in self.titles(a), SYNC,
                   "D's event current again once followed")
        sa.stop()
        sb.stop()
        sd.stop()

        # Past outside_keep_s, B's records go; D's (followed) stay.
        self.assertTrue(a.has(eb))
        sa = a.serve(self.net, env={"MUSTER_LIMITS": "outside_keep_s=0"})
        wait_until(lambda: not a.has(eb), SYNC, "B's frozen event pruned")
        self.assertTrue(a.has(ed), "a followed group is never pruned")
        # B's proposal naming A stays, with B's profile: an exception to the
        # scope, which `ally list` shows.
        self.assertTrue(a.has(b.key + "/profile"))
        sa.wait_log(r"records of groups outside it for 0 s or more dropped", 10)
        sa.stop()
        res = a.run("check")
        self.assertEqual(res.rc, 0, repr(res))
        self.assertIn(" 0 problems", res.out)
        self.assertNotIn("Harbour picnic", a.ok("event", "list", "--all"))


if __name__ == "__main__":
    unittest.main()
