#!/usr/bin/python3
"""`muster show` names what it points at (issue 14, "Keys and addresses
everywhere"): the known name next to every group key (group, hosts, the
allied group) and the title next to every cause address; one address line,
the record's own."""

import unittest

import musterlib
from musterlib import Home, future_year


def tearDownModule():
    musterlib.check_no_secrets()


def lines(out, label):
    return [l[len(label):].strip() for l in out.splitlines() if l.startswith(label)]


class ShowNames(unittest.TestCase):
    def setUp(self):
        self.a = Home(self, "show-a")
        self.a.init("Riverside")
        self.b = Home(self, "show-b")
        self.b.init("Harbour Tenants")
        self.stranger = Home(self, "show-c")
        self.stranger.init("Unknown here")
        self.cause = self.b.line("cause", "add", "--title", "Rent strike")
        self.a.import_file(self.b.export_file())
        self.y = future_year()

    def test_event(self):
        addr = self.a.line("event", "add", "--title", "Assembly",
                           "--start", "%d-06-01T18:00Z" % self.y,
                           "--where", "Hall", "--address", "1 Dock Road",
                           "--host", self.b.key, "--host", self.stranger.key,
                           "--cause", self.cause)
        out = self.a.ok("show", addr)
        self.assertEqual(lines(out, "group:"), ["%s (Riverside)" % self.a.key])
        self.assertEqual(lines(out, "host:"), ["%s (Harbour Tenants)" % self.b.key,
                                               self.stranger.key])
        self.assertEqual(lines(out, "cause:"),
                         ["%s (Rent strike, by Harbour Tenants)" % self.cause])
        # One address line, the record's; the place's street is its own.
        self.assertEqual(lines(out, "address:"), [addr])
        self.assertEqual(lines(out, "street:"), ["1 Dock Road"])
        self.assertEqual(lines(out, "where:"), ["Hall"])

    def test_alliance_and_profile(self):
        addr = self.a.line("ally", "add", self.b.key, "--cause", self.cause)
        out = self.a.ok("show", addr)
        self.assertEqual(lines(out, "with:"), ["%s (Harbour Tenants)" % self.b.key])
        self.assertEqual(lines(out, "cause:"),
                         ["%s (Rent strike, by Harbour Tenants)" % self.cause])
        out = self.a.ok("show", self.b.key)
        self.assertEqual(lines(out, "group:"), ["%s (Harbour Tenants)" % self.b.key])
        self.assertEqual(lines(out, "address:"), [self.b.key + "/profile"])


if __name__ == "__main__":
    musterlib.main()
