"""Names and short forms on the command line (issue 14, "Keys and addresses
everywhere"): global options after the command, groups by name or key
prefix, our own events by d prefix, names in `show`, a node's own zone."""

import json
import os
import unittest

import recbuild
from musterlib import Home, main, run, assert_one_line_error, check_no_secrets, future_year


def tearDownModule():
    check_no_secrets()


class GlobalOptionsAfterCommand(unittest.TestCase):
    def setUp(self):
        self.h = Home(self, "glob")
        self.h.init("Riverside")
        self.y = future_year()

    def test_home_after_command(self):
        addr = self.h.line("event", "add", "--title", "Assembly",
                           "--start", "%d-06-01T18:00Z" % self.y)
        # No --home before the command: only the one after it.
        res = run(["event", "list", "--home", self.h.path])
        self.assertEqual(res.rc, 0, res)
        self.assertIn("Assembly", res.out)
        res = run(["event", "list", "--home=" + self.h.path, "--json"])
        self.assertEqual(res.rc, 0, res)
        self.assertEqual([e["address"] for e in json.loads(res.out)], [addr])

    def test_json_before_command(self):
        res = run(["--json", "event", "list", "--home", self.h.path])
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(json.loads(res.out), [])

    def test_home_value_and_after_dashes(self):
        # A title "--home" is written --title=--home; it stays the title.
        addr = self.h.line("event", "add", "--title=--home",
                           "--start", "%d-06-01T18:00Z" % self.y)
        self.assertEqual(json.loads(self.h.ok("show", addr, "--json"))
                         ["content"]["title"], "--home")
        res = run(["id", "--home"])
        assert_one_line_error(self, res, "--home needs a directory")
        self.assertEqual(res.rc, 2)
        res = run(["id", "--home", ""])
        assert_one_line_error(self, res, "--home needs a directory")

    def test_later_home_wins_over_none(self):
        other = Home(self, "glob2")
        other.init("Harbour")
        res = run(["id", "--home", other.path])
        self.assertEqual(res.out.strip(), other.key)


class GroupsByNameOrKeyStart(unittest.TestCase):
    def setUp(self):
        self.a = Home(self, "names-a")
        self.a.init("Riverside")
        self.b = Home(self, "names-b")
        self.b.init("Harbour Union")
        self.c = Home(self, "names-c")
        self.c.init("harbour union")
        for h in (self.b, self.c):
            self.a.import_file(h.export_file())

    def test_by_name(self):
        res = self.a.run("ally", "add", "Harbour Union")
        err = assert_one_line_error(self, res, "fits 2 groups", "give more of the key")
        self.assertIn(self.b.key[:16], err)
        self.assertIn(self.c.key[:16], err)
        # A start of the key picks one.
        self.a.line("ally", "add", self.b.key[:12])
        lst = self.a.json("ally", "list", "--json")
        self.assertIn(self.b.key, json.dumps(lst))
        self.assertNotIn(self.c.key, json.dumps(lst))

    def test_group_filter_by_name(self):
        y = future_year()
        self.b.line("event", "add", "--title", "Harbour meeting",
                    "--start", "%d-06-01T18:00Z" % y)
        self.a.import_file(self.b.export_file("b2.muster"))
        self.c.line("event", "add", "--title", "Other", "--start", "%d-06-02T18:00Z" % y)
        self.a.import_file(self.c.export_file("c2.muster"))
        out = self.a.json("event", "list", "--group", self.b.key[:14], "--json")
        self.assertEqual([e["content"]["title"] for e in out], ["Harbour meeting"])
        out = self.a.json("event", "list", "--group", "RIVERSIDE", "--json")
        self.assertEqual(out, [])
        self.a.fail("event", "list", "--group", "Nobody",
                    parts=("--group", "no group known here is named 'Nobody'"))
        self.a.fail("event", "list", "--group", "mug1zzzzzzzzzz",
                    parts=("not a group key", "no group known here has a key that starts so"))

    def test_follow_and_host_by_name(self):
        self.a.fail("follow", "harbour union", parts=("fits 2 groups",))
        y = future_year()
        addr = self.a.line("event", "add", "--title", "Joint", "--start",
                           "%d-06-03T18:00Z" % y, "--host", "Riverside",
                           "--host", self.c.key[:12])
        hosts = json.loads(self.a.ok("show", addr, "--json"))["content"]["hosts"]
        self.assertEqual(hosts, [self.a.key, self.c.key])


class OwnRecordsByDStart(unittest.TestCase):
    def setUp(self):
        self.h = Home(self, "dstart")
        self.h.init("Riverside")
        self.y = future_year()

    def test_edit_show_cancel_by_d_start(self):
        addr = self.h.line("event", "add", "--title", "Assembly",
                           "--start", "%d-06-01T18:00Z" % self.y)
        d = addr.rsplit("/", 1)[1]
        self.assertEqual(self.h.line("event", "edit", d[:4], "--title", "Plenary"), addr)
        rec = json.loads(self.h.ok("show", d[:6], "--json"))
        self.assertEqual((rec["address"], rec["content"]["title"]), (addr, "Plenary"))
        self.assertEqual(self.h.line("event", "cancel", d[:5]), addr)
        self.h.fail("event", "edit", "zzzz", "--title", "x",
                    parts=("no event of ours", "/zzzz"))
        self.h.fail("show", "zzzz", parts=("no record of ours", "/zzzz"))
        # Too short a start is not taken for one.
        self.h.fail("event", "edit", d[:3], "--title", "x", parts=("not a record address",))

    def test_ambiguous_start_lists_them(self):
        recs = recbuild.causes(self.h.secret(), 2, prefix="abcd")
        path = os.path.join(self.h.tmp, "c.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(recs))
        self.h.import_file(path)
        err = self.h.fail("show", "abcd", parts=("starts 2 of our records",
                                                  "give more of it"))
        self.assertIn("cause/abcd0", err)
        self.assertIn("cause/abcd1", err)
        self.h.fail("delete", "abcd", parts=("starts 2 of our records",))
        self.assertEqual(json.loads(self.h.ok("show", "abcd1", "--json"))["d"], "abcd1")
        self.h.line("cause", "edit", "abcd0", "--title", "Rent")
        self.assertEqual(json.loads(self.h.ok("show", "abcd0", "--json"))
                         ["content"]["title"], "Rent")


if __name__ == "__main__":
    main()
