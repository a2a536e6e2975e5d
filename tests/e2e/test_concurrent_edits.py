#!/usr/bin/python3
"""Two homes of one group edit one event while apart (no peer link), then
connect: with real `muster serve` processes, fields each changed both end up
in the event on both nodes, as the same record; a field both changed keeps
one value, and `muster show` and `muster status` name the conflict."""

import os
import shutil
import unittest

import musterlib
from musterlib import Home, add_event, shown, wait_until

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


def second_home(tc, a, label):
    """A home holding a copy of a's root key and store, without a's
    organizer key: its first command makes an organizer key of its own and
    publishes its organizer record, so the two homes are two organizers
    (its own Noise key comes with its first `muster serve`)."""
    b = Home(tc, label)
    shutil.copytree(a.path, b.path)
    for name in ("noise.key", "organizer.key", os.path.join("store", "lock.mdb")):
        try:
            os.unlink(os.path.join(b.path, name))
        except FileNotFoundError:
            pass
    b.key = a.key
    return b


def content(home, addr):
    rec = shown(home, addr)
    return rec["content"] if rec else None


class ConcurrentEdits(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_edits_made_apart_merge_on_both_nodes(self):
        a = Home(self, "a")
        a.init("Harbour Tenants")
        ev = add_event(a, "Assembly")
        a.ok("event", "edit", ev, "--where", "Community hall")
        same = add_event(a, "Picnic", day="06-02")
        b = second_home(self, a, "b")

        # Apart: each organizer edits the revision both hold.
        a.ok("event", "edit", ev, "--title", "Assembly on rents")
        b.ok("event", "edit", ev, "--where", "Library", "--capacity", "80")
        a.ok("event", "edit", same, "--title", "Picnic in the park")
        b.ok("event", "edit", same, "--title", "Picnic at the beach")
        self.assertEqual(content(a, ev)["location"], {"name": "Community hall"})
        self.assertEqual(content(b, ev)["title"], "Assembly")

        sa = a.serve(self.net)
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr)

        def merged(home):
            c = content(home, ev)
            return (c is not None and c["title"] == "Assembly on rents"
                    and c["location"] == {"name": "Library"} and c.get("capacity") == 80)

        wait_until(lambda: merged(a) and merged(b), SYNC,
                   "both edits in the event on both nodes")
        # The same merge everywhere, whichever node published it first.
        wait_until(lambda: shown(a, ev)["id"] == shown(b, ev)["id"], SYNC,
                   "one current revision of the event on both nodes")
        self.assertEqual(shown(a, ev)["rev"], 3)
        # The node that merged says so, in its log, `show` and `show --json`.
        # (A node that never held the other side, superseded at its peer
        # before it was sent, gets the merge without the story.)
        merger = [h for h, s in ((a, sa), (b, sb))
                  if "published the merge of concurrent edits of" in s.logs()]
        self.assertTrue(merger, "no node published the merge")
        for home in merger:
            text = home.ok("show", ev)
            self.assertIn("conflict:    two edits of rev 1 made apart; resolved by rev 3",
                          text)
            self.assertRegex(text, r"merged:    (title|capacity, location), from the edit by "
                                   r"mug1[02-9ac-hj-np-z]{58} \(")
            self.assertNotIn("kept:", text)
            conflict = shown(home, ev)["conflict"]
            self.assertTrue(conflict["resolved"])
            self.assertEqual(sorted(conflict["winner"]["changed"] + conflict["loser"]["changed"]),
                             ["capacity", "location", "title"])
            self.assertEqual(conflict["kept"], [])

        # Both changed the title of the other event: one value stays, the
        # same on both nodes. The node whose edit lost holds both edits, and
        # its `show` and `status` say which value was kept and whose it was.
        wait_until(lambda: shown(a, same)["id"] == shown(b, same)["id"], SYNC,
                   "one current revision of the second event on both nodes")
        kept = content(a, same)["title"]
        self.assertIn(kept, ("Picnic in the park", "Picnic at the beach"))
        lost = ({"Picnic in the park", "Picnic at the beach"} - {kept}).pop()
        loser = b if kept == "Picnic in the park" else a
        text = loser.ok("show", same)
        self.assertIn("conflict:    two edits of rev 0 made apart; nothing to merge", text)
        self.assertRegex(text, r'kept:      title "%s", of the edit by mug1[02-9ac-hj-np-z]{58} '
                         r'\([^)]*\); "%s" was not kept' % (kept, lost))
        conflict = shown(loser, same)["conflict"]
        self.assertEqual(conflict["kept"], ["title"])
        self.assertFalse(conflict["resolved"])
        status = loser.ok("status")
        self.assertIn("conflicts: concurrent edits", status)
        self.assertIn("%s  edits by" % same, status)
        self.assertIn("both changed title", status)
        sa.stop()
        sb.stop()
        for home in (a, b):
            home.ok("check")


if __name__ == "__main__":
    unittest.main()
