#!/usr/bin/python3
"""Bad input gives exactly one line on stderr that starts "muster: ", says
what is wrong, and exits non-zero; nothing is changed by a failed command."""

import json
import os
import unittest

import musterlib
from musterlib import Home

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def tearDownModule():
    musterlib.check_no_secrets()


class Errors(unittest.TestCase):
    def setUp(self):
        self.h = Home(self, "err")
        self.key = self.h.init("Error group")
        self.other = Home(self, "other")
        self.okey = self.other.init()
        self.year = musterlib.future_year()
        self.start = "%d-09-10T10:00Z" % self.year

    def count_records(self):
        return len(musterlib.split_export(self, self.h.export_bytes()))

    def test_mistyped_key_in_ally_add(self):
        before = self.count_records()
        # Change one data character to another of the alphabet: only the
        # checksum can tell.
        for pos in (4, 30, 61):
            c = self.okey[pos]
            sub = CHARSET[(CHARSET.index(c) + 1) % 32]
            bad = self.okey[:pos] + sub + self.okey[pos + 1:]
            self.h.fail("ally", "add", bad, parts=("checksum", "muster id"))
        # Truncated, and a different prefix.
        self.h.fail("ally", "add", self.okey[:-1], parts=("truncated",))
        self.h.fail("ally", "add", "npub1" + self.okey[5:], parts=("mug1",))
        # Mixed case.
        self.h.fail("ally", "add", self.okey[:10].upper() + self.okey[10:],
                    parts=("case",))
        self.assertEqual(self.count_records(), before)
        # The right key works, upper case too.
        self.h.line("ally", "add", self.okey.upper())

    def test_bad_when(self):
        for when in ("tomorrow", "2026-13-01T10:00Z", "2026-02-30T10:00Z",
                     "10:00", "2026-06-01T25:00Z", ""):
            self.h.fail("event", "add", "--title", "X", "--start", when)
        self.h.fail("event", "list", "--from", "next week")

    def refused(self, *args, said, rule, field):
        """A command whose record the protocol refuses: the one line on
        stderr says it in the person's terms (the options they typed, no
        rule name); with --json the rule and field path are on stdout."""
        msg = self.h.fail(*args, parts=said)
        self.assertNotIn(rule + ":", msg)
        self.assertNotIn(field, msg)
        res = self.h.run(*(args + ("--json",)))
        musterlib.assert_one_line_error(self, res, *said)
        out = json.loads(res.out)
        self.assertEqual(out["rule"], rule, res)
        self.assertEqual(out["field"], field, res)
        self.assertEqual(out["error"], msg[len("muster: "):].split(": ", 1)[1])
        self.assertTrue(out["detail"].startswith(field), res)
        return msg

    def test_end_before_start(self):
        y = self.year
        self.refused("event", "add", "--title", "X", "--start", "%d-12-05T19:00" % y,
                     "--end", "%d-12-05T17:00" % y, "--tz", "Europe/Berlin",
                     said=("--end %d-12-05 17:00 is before --start %d-12-05 19:00"
                           % (y, y),),
                     rule="end-before-start", field="event.end")
        # Given in UTC, said in UTC.
        self.refused("event", "add", "--title", "X", "--start", self.start,
                     "--end", "%d-09-10T09:00Z" % y,
                     said=("--end %d-09-10 09:00 UTC is before --start %d-09-10 10:00 UTC"
                           % (y, y),),
                     rule="end-before-start", field="event.end")
        # Over 366 days.
        self.refused("event", "add", "--title", "X", "--start", self.start,
                     "--end", "%d-09-12T10:00Z" % (y + 1),
                     said=("--end %d-09-12 10:00 UTC is more than 366 days after "
                           "--start %d-09-10 10:00 UTC" % (y + 1, y),),
                     rule="event-span", field="event.end")
        # The profile and this home's organizer record alone.
        self.assertEqual(self.count_records(), 2)

    def test_geo_out_of_range(self):
        for geo in ("91,0", "-90.0000001,0", "0,180.5", "0,-181"):
            self.h.fail("event", "add", "--title", "X", "--start", self.start,
                        "--where", "Somewhere", "--geo", geo,
                        parts=(("latitude", "longitude"), "--geo " + geo))
        self.h.fail("event", "add", "--title", "X", "--start", self.start,
                    "--where", "Somewhere", "--geo", "north")
        # The edges are fine.
        self.h.line("event", "add", "--title", "Pole", "--start", self.start,
                    "--where", "South pole", "--geo", "-90,-180")

    def test_unknown_command_and_option(self):
        res = musterlib.run(["frobnicate"], home=self.h.path)
        musterlib.assert_one_line_error(self, res, "frobnicate")
        res = musterlib.run(["event", "frobnicate"], home=self.h.path)
        musterlib.assert_one_line_error(self, res, "frobnicate")
        self.h.fail("cause", "add", "--title", "X", "--colour", "red", parts=("colour",))
        self.h.fail("cause", "add", "--title", parts=("title",))

    def test_missing_title(self):
        self.h.fail("cause", "add", "--summary", "no title", parts=("--title",))
        self.h.fail("event", "add", "--start", self.start, parts=("--title",))
        self.h.fail("event", "add", "--title", "No start", parts=("--start",))

    def test_show_unknown(self):
        self.h.fail("show", "ab" * 32)
        self.h.fail("show", self.key + "/event/no-such-event")
        self.h.fail("show", "not-an-id-or-address")
        self.h.fail("show", "ab" * 31 + "zz", parts=("hex",))
        self.h.fail("event", "edit", self.key + "/event/no-such-event", "--title", "Y")
        # Someone else's event cannot be edited or deleted here.
        self.h.fail("event", "cancel", self.okey + "/event/theirs")
        self.h.fail("delete", self.okey + "/event/theirs")
        self.h.fail("show", self.key + "/delete/x", parts=("delete",))

    def test_import_of_non_export_file(self):
        path = os.path.join(self.h.tmp, "notes.txt")
        with open(path, "w") as f:
            f.write("these are my meeting notes\n")
        res = self.h.run("import", path)
        musterlib.assert_one_line_error(self, res)
        self.h.fail("import", os.path.join(self.h.tmp, "missing.muster"))
        # Empty input is not an export either.
        res = self.h.run("import", stdin=b"")
        musterlib.assert_one_line_error(self, res)

    def test_truncated_import(self):
        self.h.line("cause", "add", "--title", "First")
        self.h.line("cause", "add", "--title", "Second")
        data = self.h.export_bytes()
        recs = musterlib.split_export(self, data)
        fresh = Home(self, "fresh")
        fresh.init()
        res = fresh.run("import", stdin=data[:-20])
        self.assertEqual(res.rc, 1, repr(res))
        counts = musterlib.parse_summary(self, res)
        self.assertEqual(counts["new"], len(recs) - 1, repr(res))
        self.assertTrue(res.err.startswith("muster: "), repr(res))
        self.assertIn("trunc", res.err.lower())

    def test_key_file_readable_by_others(self):
        os.chmod(self.h.key_file, 0o644)
        try:
            msg = self.h.fail("cause", "add", "--title", "X",
                              parts=(("chmod 600", "chmod 0600"),))
            self.assertIn(self.h.key_file, msg)
        finally:
            os.chmod(self.h.key_file, 0o600)
        self.h.line("cause", "add", "--title", "Now it works")

    def test_init_twice(self):
        with open(self.h.key_file, "rb") as f:
            before = f.read()
        self.h.fail("init")
        self.h.fail("init", "--name", "Another")
        with open(self.h.key_file, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.h.line("id"), self.key)

    def test_no_home(self):
        nowhere = Home(self, "none")
        nowhere.fail("id", parts=("muster init",))
        nowhere.fail("event", "list", parts=("muster init",))

    def test_event_fields_said(self):
        add = ("event", "add", "--title", "X", "--start", self.start)
        self.refused("event", "add", "--title", "X" * 201, "--start", self.start,
                     said=("--title " + "X" * 40 + "…", "is 201 bytes, at most 200"),
                     rule="field-length", field="event.title")
        self.refused(*add, "--online", "https://ok.example", "--online", "ftp://x",
                     said=("--online ftp://x must start with http:// or https://",),
                     rule="url", field="event.online[1]")
        self.refused(*add, "--tag", "t" * 33,
                     said=("--tag " + "t" * 33 + " is 33 bytes, at most 32",),
                     rule="field-length", field="event.tags[0]")
        self.refused(*add, "--where", "Hall\x1b[2J",
                     said=("--where Hall?[2J has control character 0x1b",),
                     rule="control-char", field="event.location.name")
        self.refused(*add, "--address", "x" * 301,
                     said=("--address " + "x" * 40 + "…", "at most 300"),
                     rule="field-length", field="event.location.address")
        self.refused(*add, "--geo", "52.5,13.4",
                     said=("--geo needs --where or --address too",),
                     rule="required", field="event.location")
        self.refused(*add, "--description", "a\x01b",
                     said=("--description has control character 0x01",),
                     rule="control-char", field="event.description")
        # An edit that empties a required field.
        addr = self.h.line(*add)
        self.refused("event", "edit", addr, "--title", "",
                     said=("--title is missing: give the event a title with --title",),
                     rule="required", field="event.title")
        # Checked by the command itself, before any record: the option,
        # and no rule's name either.
        for args, said in ((("--capacity", "0"), "--capacity 0 must be from 1"),
                           (("--geo", "91,0", "--where", "Pole"), "latitude in --geo 91,0"),
                           (("--host",) * 1 + (self.okey,) + ("--host", self.okey) * 16,
                            "--host given 17 times")):
            msg = self.h.fail(*add, *args, parts=(said,))
            self.assertTrue(msg.startswith("muster: " + said), msg)
        msg = self.h.fail("event", "add", "--title", "X", "--start", "%d-12-05" % self.year,
                          "--end", "%d-12-03" % self.year,
                          parts=("--end %d-12-03, is before the first day" % self.year,))
        self.assertNotIn("end-before-start", msg)
        self.h.fail(*add, "--tz", "Mars/Olympus_Mons", parts=("Mars/Olympus_Mons",))
        self.h.fail(*add, "--cause", self.key + "/event/not-a-cause", parts=("--cause",))

    def test_cause_fields_said(self):
        self.refused("cause", "add", "--title", "X" * 201,
                     said=("--title " + "X" * 40 + "…", "at most 200"),
                     rule="field-length", field="cause.title")
        self.refused("cause", "add", "--title", "X", "--url", "ftp://x",
                     said=("--url ftp://x must start with http:// or https://",),
                     rule="url", field="cause.url")
        self.refused("cause", "add", "--title", "X", "--summary", "line\x07",
                     said=("--summary line? has control character 0x07",),
                     rule="control-char", field="cause.summary")
        addr = self.h.line("cause", "add", "--title", "Rent")
        self.refused("cause", "edit", addr, "--title", "",
                     said=("--title is missing: give the cause a title with --title",),
                     rule="required", field="cause.title")

    def test_profile_fields_said(self):
        self.refused("profile", "set", "--website", "riverside.example",
                     said=("--website riverside.example must start with http:// "
                           "or https://",),
                     rule="url", field="profile.website")
        self.refused("profile", "set", "--name", "",
                     said=("--name is missing: give the group a name with --name",),
                     rule="required", field="profile.name")
        self.refused("profile", "set", "--contact", "c" * 201,
                     said=("--contact " + "c" * 40 + "…", "at most 200"),
                     rule="field-length", field="profile.contact")

    def test_alliance_fields_said(self):
        self.refused("ally", "add", self.okey, "--terms", "t\x02",
                     said=("--terms has control character 0x02",),
                     rule="control-char", field="alliance.terms")
        msg = self.h.fail("ally", "add", self.key, parts=("your own group",))
        self.assertNotIn("self-alliance", msg)

    def test_published_address_as_json(self):
        res = self.h.run("cause", "add", "--title", "Rent", "--json")
        self.assertEqual(res.rc, 0, res)
        addr = json.loads(res.out)["address"]
        self.assertIn("/cause/", addr)
        self.assertIn("Rent", self.h.ok("show", addr))

    def test_secret_never_printed(self):
        """Runs the commands that touch the key most, then checks output."""
        self.h.ok("id")
        self.h.export_bytes()
        self.h.ok("show", self.key + "/profile", "--json")
        self.h.ok("--help")
        musterlib.check_no_secrets()
        # The check itself works: a fake output holding the secret fails it.
        seed = self.h.secret()
        musterlib._outputs.append((["fake"], b"x" + seed.hex().encode() + b"y", b""))
        try:
            with self.assertRaises(AssertionError):
                musterlib.check_no_secrets()
        finally:
            musterlib._outputs.pop()


if __name__ == "__main__":
    musterlib.main()
