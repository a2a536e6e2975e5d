#!/usr/bin/python3
"""The network commands without a network: peer add/remove/list, follow and
unfollow, status, and the help texts."""

import unittest

import msgpack

import musterlib
from musterlib import Home, peers


def tearDownModule():
    musterlib.check_no_secrets()


class NetCli(unittest.TestCase):
    def test_peers(self):
        a, b, c = Home(self, "a"), Home(self, "b"), Home(self, "c")
        a.init("Alpha")
        b.init("Beta")
        c.init("Gamma")
        self.assertIn("No peers", a.ok("peer", "list"))
        self.assertEqual(a.json("peer", "list", "--json"), [])

        out = a.line("peer", "add", "192.0.2.10:7420", b.key)
        self.assertIn("192.0.2.10:7420", out)
        self.assertIn(b.key, out)
        a.line("peer", "add", "[2001:db8::1]:7420")
        a.line("peer", "add", "node.example.org:9000", c.key)
        p = peers(a)
        self.assertEqual(sorted(p), ["192.0.2.10:7420", "[2001:db8::1]:7420",
                                     "node.example.org:9000"])
        q = p["192.0.2.10:7420"]
        self.assertEqual(q["key"], b.key)
        self.assertEqual(q["name"], None, "B's profile is not stored on A")
        self.assertEqual(q["source"], "manual")
        self.assertIsInstance(q["state"], str)
        self.assertIsNone(q["last_seen"])
        self.assertIsNone(q["last_sync"])
        self.assertEqual((q["sent"], q["received"]), (0, 0))
        self.assertRegex(q["added_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(p["[2001:db8::1]:7420"]["key"])

        # Adding again changes the key.
        a.line("peer", "add", "192.0.2.10:7420", c.key)
        self.assertEqual(peers(a)["192.0.2.10:7420"]["key"], c.key)

        text = a.ok("peer", "list")
        self.assertIn("192.0.2.10:7420", text)
        self.assertIn("never", text)
        self.assertIn("any (no key given)", text)
        self.assertIn("not running", text)

        a.line("peer", "remove", "192.0.2.10:7420")
        self.assertNotIn("192.0.2.10:7420", peers(a))
        a.fail("peer", "remove", "192.0.2.10:7420", parts=("no peer", "peer list"))

        for bad in ("192.0.2.10", "192.0.2.10:0", "192.0.2.10:70000", ":7420",
                    "2001:db8::1:7420", "a b:7420"):
            res = a.run("peer", "add", bad)
            self.assertEqual(res.rc, 2, repr(res))
            musterlib.assert_one_line_error(self, res, "HOST:PORT")
        a.fail("peer", "add", "192.0.2.11:7420", "mug1nonsense", parts=("not a group key",))
        a.fail("peer", "frobnicate", parts=("peer frobnicate",))

    def test_follow_and_status(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        status = a.ok("status")
        self.assertIn("daemon:    not running", status)
        self.assertIn("peers:     0", status)
        self.assertIn("follows:   0", status)
        self.assertIn("by group:  1", status)
        # The profile and this home's organizer record.
        self.assertIn("Alpha (this group)  2", status)

        self.assertEqual(a.line("follow", b.key), "following %s" % b.key)
        self.assertIn(b.key, a.ok("status"))
        a.fail("follow", a.key, parts=("your own",))
        a.fail("follow", "mug1nonsense", parts=("not a group key",))
        # Following twice is harmless.
        a.line("follow", b.key)
        self.assertIn("follows:   1", a.ok("status"))
        self.assertEqual(a.line("unfollow", b.key), "no longer following %s" % b.key)
        a.fail("unfollow", b.key, parts=("do not follow",))
        self.assertIn("follows:   0", a.ok("status"))

        # Records of another group are counted under its name.
        a.import_file(b.export_file())
        status = a.ok("status")
        self.assertIn("by group:  2", status)
        self.assertIn("  Beta  2", status)

    def test_status_counts(self):
        """The counts of status, after edits, deletes and another group's
        records, against the records that export hands out."""
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        year = musterlib.future_year()

        def event(home, day):
            return home.line("event", "add", "--title", "Meeting",
                             "--start", "%d-12-%02dT18:00Z" % (year, day))

        rent = a.line("cause", "add", "--title", "Rent")
        a.line("cause", "edit", rent, "--title", "Rent freeze")
        gone = a.line("cause", "add", "--title", "Park")
        a.line("delete", gone, "--yes")
        ev = event(a, 5)
        a.line("event", "cancel", ev)
        a.line("delete", event(a, 6), "--yes")
        event(a, 7)
        a.line("ally", "add", b.key)
        b.line("cause", "add", "--title", "Transit")
        b.line("delete", event(b, 8), "--yes")
        a.import_file(b.export_file())

        def tally(home):
            kinds, groups = {}, {}
            for raw in musterlib.export_records(self, home):
                body, _sig = msgpack.unpackb(raw, raw=False)
                _v, kind, group = msgpack.unpackb(body, raw=False)[:3]
                kinds[kind] = kinds.get(kind, 0) + 1
                groups[group] = groups.get(group, 0) + 1
            return kinds, groups

        kinds, groups = tally(a)
        # Each home's organizer record too.
        self.assertEqual(kinds, {"profile": 2, "cause": 2, "event": 2,
                                 "alliance": 1, "delete": 3, "organizer": 2})
        (bgroup,) = tally(b)[1]
        (agroup,) = set(groups) - {bgroup}
        status = a.ok("status")
        counts = status[status.index("records:"):]
        self.assertEqual(counts, "".join((
            "records:   %d\n" % sum(kinds.values()),
            "".join("  %-9s %d\n" % (label, kinds.get(kind, 0)) for label, kind in (
                ("profiles", "profile"), ("causes", "cause"), ("events", "event"),
                ("alliances", "alliance"), ("deletes", "delete"))),
            "by group:  2\n",
            "  Alpha (this group)  %d\n" % groups[agroup],
            "  Beta  %d\n" % groups[bgroup],
        )))

    def test_help(self):
        top = musterlib.run(["--help"])
        self.assertEqual(top.rc, 0)
        for word in ("serve", "sync HOST:PORT", "peer add", "follow KEY", "--network"):
            self.assertIn(word, top.out)
        for cmd in (["serve"], ["sync"], ["peer"], ["peer", "add"], ["peer", "remove"],
                    ["peer", "list"], ["follow"], ["unfollow"], ["status"]):
            res = musterlib.run(cmd + ["--help"])
            self.assertEqual(res.rc, 0, repr(res))
            self.assertIn("Usage: muster %s" % cmd[0], res.out)
            self.assertIn("Example:\n  muster %s" % cmd[0], res.out)
        h = musterlib.run(["serve", "--help"]).out
        for opt in ("--listen", "--announce", "--network", "--hops", "--log-level", "7420"):
            self.assertIn(opt, h)
        self.assertIn("--network", musterlib.run(["sync", "--help"]).out)

    def test_commands_need_a_home(self):
        a = Home(self, "a")
        b = Home(self, "b")
        b.init("Beta")
        for cmd in (["serve"], ["sync", "127.0.0.1:1"], ["peer", "list"],
                    ["peer", "add", "127.0.0.1:1"], ["follow", b.key], ["status"]):
            musterlib.assert_one_line_error(self, a.run(*cmd), "muster init")


if __name__ == "__main__":
    musterlib.main()
