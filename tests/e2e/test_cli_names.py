"""Names and short forms on the command line (issue 14, "Keys and addresses
everywhere"): global options after the command, groups by name or key
prefix, our own events by d prefix, names in `show`, a node's own zone."""

import json
import os
import unittest

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


if __name__ == "__main__":
    main()
