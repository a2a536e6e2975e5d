#!/usr/bin/python3
"""Time zones and durations on the command line: the node's own zone (set at
init, asked on a terminal, changed with `profile set --tz`) reads local times
in place of the process's TZ; `event add` and `edit` say in words when they
understood the event to be; `event list` shows times in the node's zone with
the event's own beside them; --duration, and a default length of 2 hours."""

import datetime
import os
import unittest
import zoneinfo

import musterlib
from musterlib import Home


def tearDownModule():
    musterlib.check_no_secrets()


def words_date(d):
    """'Thursday 5 December 2030', as the CLI writes a date."""
    return "%s %d %s" % (d.strftime("%A"), d.day, d.strftime("%B %Y"))


def days_from_today(d, zone):
    """'in 3 days' (then months of 30 days, years of 365) for the future
    date d, counted in zone."""
    n = (d - datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()).days
    if n == 1:
        return "tomorrow"
    return ("in %d days" % n if n < 60 else "in %d months" % (n // 30) if n < 730
            else "in %d years" % (n // 365))


class Zone(unittest.TestCase):
    def setUp(self):
        self.year = musterlib.future_year()
        self.h = Home(self, "zone")

    def event(self, addr):
        return musterlib.shown(self.h, addr)["content"]

    def init(self, *args, env=None):
        res = self.h.run("init", "--name", "Riverside", *args, env=env)
        self.assertEqual(res.rc, 0, repr(res))
        self.h.key = res.out.strip()
        return res

    def test_init_takes_tz_or_the_machines_and_says_which(self):
        res = self.init("--tz", "Asia/Tokyo")
        self.assertEqual(res.out.count("\n"), 1, "stdout keeps the key alone")
        self.assertEqual(res.err, "", "a zone given with --tz needs no note")
        self.assertIn("zone:      Asia/Tokyo\n", self.h.ok("status"))
        other = Home(self, "machine")
        res = other.run("init", env={"TZ": "America/Chicago"})
        self.assertEqual(res.rc, 0, repr(res))
        self.assertIn("time zone is America/Chicago, this machine's", res.err)
        self.assertIn("muster profile set --tz", res.err)
        # The zone kept, not the TZ of a later command, reads local times.
        addr = other.line("event", "add", "--title", "Walk", "--start",
                          "%d-07-01T18:00" % self.year, env={"TZ": "Asia/Tokyo"})
        ev = musterlib.shown(other, addr)["content"]
        self.assertEqual(ev["tz"], "America/Chicago")
        self.assertEqual(ev["start"], "%d-07-01T23:00:00Z" % self.year)
        # A bad zone leaves no home behind.
        bad = Home(self, "bad")
        bad.fail("init", "--tz", "Europe/Nowhere", parts=("--tz", "Europe/Nowhere"))
        self.assertFalse(os.path.exists(bad.path))

    def test_init_asks_on_a_terminal(self):
        # A wrong answer is said and asked again; the right one is kept.
        rc, out, err = musterlib.on_terminal(
            self.h, ["init", "--name", "Riverside"], "Mars/Olympus\nEurope/Paris\n",
            env={"TZ": "Europe/Lisbon"})
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("mug1"), out)
        self.assertEqual(err.count("[Europe/Lisbon]: "), 2, err)
        self.assertIn("unknown time zone 'Mars/Olympus'", err)
        addr = self.h.line("event", "add", "--title", "A", "--start",
                           "%d-07-01T18:00" % self.year)
        self.assertEqual(self.event(addr)["tz"], "Europe/Paris")
        # An empty answer takes the machine's zone, shown in brackets.
        other = Home(self, "enter")
        rc, out, err = musterlib.on_terminal(other, ["init"], "\n",
                                             env={"TZ": "Europe/Lisbon"})
        self.assertEqual(rc, 0, err)
        addr = other.line("event", "add", "--title", "A", "--start",
                          "%d-07-01T18:00" % self.year)
        self.assertEqual(musterlib.shown(other, addr)["content"]["tz"], "Europe/Lisbon")
        # Three wrong answers: nothing is made.
        third = Home(self, "wrong")
        rc, out, err = musterlib.on_terminal(third, ["init"], "a\nb\nc\n")
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertIn("muster: --tz: unknown time zone 'c'", err)
        self.assertFalse(os.path.exists(third.path))

    def test_profile_set_tz(self):
        self.init("--tz", "UTC")
        self.h.fail("profile", "set", "--tz", "Mars/Olympus",
                    parts=("--tz", "unknown time zone", "Europe/Berlin"))
        self.h.fail("profile", "set", "--tz", "../etc/passwd",
                    parts=("--tz", "not a time zone name"))
        rev = musterlib.shown(self.h, self.h.key + "/profile")["rev"]
        self.assertEqual(self.h.line("profile", "set", "--tz", "America/New_York"),
                         "time zone: America/New_York")
        # A setting of this node: the profile record is not touched.
        self.assertEqual(musterlib.shown(self.h, self.h.key + "/profile")["rev"], rev)
        addr = self.h.line("event", "add", "--title", "Night walk", "--start",
                           "%d-07-01T22:00" % self.year, env={"TZ": "Asia/Tokyo"})
        ev = self.event(addr)
        self.assertEqual(ev["tz"], "America/New_York")
        self.assertEqual(ev["start"], "%d-07-02T02:00:00Z" % self.year)
        # An edit of an event without a zone reads its times in ours too.
        utc = self.h.line("event", "add", "--title", "Z", "--start",
                          "%d-07-01T10:00Z" % self.year)
        self.assertNotIn("tz", self.event(utc))
        self.h.line("event", "edit", utc, "--start", "%d-07-01T09:00" % self.year)
        self.assertEqual(self.event(utc)["start"], "%d-07-01T13:00:00Z" % self.year)
        # With fields too: both, the address last.
        out = self.h.ok("profile", "set", "--tz", "Europe/Berlin", "--about", "Tenants")
        self.assertEqual(out, "time zone: Europe/Berlin\n%s/profile\n" % self.h.key)

    def test_add_and_edit_say_the_time_in_words(self):
        self.init("--tz", "Europe/Berlin")
        day = datetime.date(self.year, 12, 5)
        res = self.h.run("event", "add", "--title", "Assembly", "--start",
                         "%d-12-05T19:00" % self.year, "--end", "%d-12-05T21:00" % self.year)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.err, "%s, 19:00–21:00 Europe/Berlin (%s)\n"
                         % (words_date(day), days_from_today(day, "Europe/Berlin")))
        addr = res.out.strip()
        self.assertEqual(res.out, addr + "\n", "stdout: the address alone")
        # In the event's own zone, not ours.
        res = self.h.run("event", "add", "--title", "Picnic", "--start",
                         "%d-12-05T12:00" % self.year, "--duration", "3h",
                         "--tz", "America/New_York")
        self.assertEqual(res.err, "%s, 12:00–15:00 America/New_York (%s)\n"
                         % (words_date(day), days_from_today(day, "America/New_York")))
        # Past midnight both days are named; an edit says it too.
        res = self.h.run("event", "edit", addr, "--end", "%d-12-06T01:30" % self.year)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.out, addr + "\n")
        self.assertEqual(res.err, "%s, 19:00 – %s, 01:30 Europe/Berlin (%s)\n"
                         % (words_date(day), words_date(day + datetime.timedelta(days=1)),
                            days_from_today(day, "Europe/Berlin")))
        # All day, over two days.
        res = self.h.run("event", "add", "--title", "Fair", "--start",
                         "%d-12-05" % self.year, "--end", "%d-12-06" % self.year)
        self.assertEqual(res.err, "%s – %s, all day (%s)\n"
                         % (words_date(day), words_date(day + datetime.timedelta(days=1)),
                            days_from_today(day, "Europe/Berlin")))
        # Soon: in hours.
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5,
                                                                                 minutes=30)
        res = self.h.run("event", "add", "--title", "Soon", "--start",
                         soon.strftime("%Y-%m-%dT%H:%MZ"))
        self.assertIn("Europe/Berlin (in 5 hours)", res.err)

    def test_duration_and_default_end(self):
        self.init("--tz", "Europe/Berlin")
        start = "%d-12-05T19:00" % self.year
        res = self.h.run("event", "add", "--title", "A", "--start", start)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertTrue(res.err.endswith(
            ", 19:00 Europe/Berlin (%s), ends 21:00 (default 2 hours; use --end or "
            "--duration)\n" % days_from_today(datetime.date(self.year, 12, 5),
                                              "Europe/Berlin")), res.err)
        ev = self.event(res.out.strip())
        self.assertEqual((ev["start"], ev["end"]),
                         ("%d-12-05T18:00:00Z" % self.year, "%d-12-05T20:00:00Z" % self.year))
        for text, end in (("90m", "19:30"), ("2h", "20:00"), ("1h30m", "19:30"),
                          ("1d", "%d-12-06T18:00" % self.year)):
            addr = self.h.line("event", "add", "--title", "D", "--start", start,
                               "--duration", text)
            want = end if "T" in end else "%d-12-05T%s" % (self.year, end)
            self.assertEqual(self.event(addr)["end"], want + ":00Z", text)
        # A default that crosses midnight names the day.
        res = self.h.run("event", "add", "--title", "Late", "--start",
                         "%d-12-05T23:00" % self.year)
        self.assertIn(", ends %s 01:00 (default 2 hours"
                      % datetime.date(self.year, 12, 6).strftime("%A"), res.err)
        # An edit's --duration counts from the start it keeps.
        self.h.line("event", "edit", addr, "--duration", "45m")
        self.assertEqual(self.event(addr)["end"], "%d-12-05T18:45:00Z" % self.year)
        before = len(musterlib.split_export(self, self.h.export_bytes()))
        self.h.fail("event", "add", "--title", "B", "--start", start, "--end",
                    "%d-12-05T20:00" % self.year, "--duration", "1h",
                    parts=("--end or --duration, not both",))
        for bad in ("90", "1h 30m", "30m1h", "0m", "an hour"):
            self.h.fail("event", "add", "--title", "B", "--start", start,
                        "--duration", bad, parts=("--duration " + bad, "90m"))
        self.h.fail("event", "add", "--title", "B", "--start", start,
                    "--duration", "367d", parts=("--duration 367d", "366 days"))
        self.h.fail("event", "add", "--title", "B", "--start", "%d-12-05" % self.year,
                    "--duration", "2h", parts=("--duration", "all-day", "--end"))
        self.assertEqual(len(musterlib.split_export(self, self.h.export_bytes())), before)
        # All-day events keep their rule: one day without --end, no end.
        addr = self.h.line("event", "add", "--title", "Day", "--start",
                           "%d-12-07" % self.year)
        self.assertNotIn("end", self.event(addr))

    def test_list_in_the_nodes_zone(self):
        self.init("--tz", "Europe/Berlin")
        y = self.year
        self.h.line("event", "add", "--title", "Berlin", "--start", "%d-12-05T19:00" % y)
        self.h.line("event", "add", "--title", "London", "--start", "%d-12-06T18:00" % y,
                    "--tz", "Europe/London")
        self.h.line("event", "add", "--title", "Paris", "--start", "%d-12-07T19:00" % y,
                    "--tz", "Europe/Paris")
        self.h.line("event", "add", "--title", "Tokyo", "--start", "%d-12-08T07:00" % y,
                    "--tz", "Asia/Tokyo")
        self.h.line("event", "add", "--title", "Bare", "--start", "%d-12-09T10:00Z" % y,
                    "--end", "%d-12-09T11:00Z" % y)
        d = [datetime.date(y, 12, n).strftime("%a %Y-%m-%d") for n in range(4, 10)]
        heads = [p.split("\n")[0] for p in
                 self.h.ok("event", "list", env={"TZ": "Asia/Tokyo"}).split("\n\n")]
        self.assertEqual(heads, [
            "%s 19:00-21:00  Berlin" % d[1],
            "%s 19:00-21:00 (18:00-20:00 Europe/London)  London" % d[2],
            # Paris keeps Berlin's clock: nothing to add.
            "%s 19:00-21:00  Paris" % d[3],
            # Across midnight here, and on another date there.
            "%s 23:00 - %s 01:00 (%s 07:00-09:00 Asia/Tokyo)  Tokyo"
            % (d[3], d[4], datetime.date(y, 12, 8).strftime("%a")),
            "%s 11:00-12:00  Bare" % d[5],
        ])
        text = self.h.ok("event", "list")
        for abbr in ("CET", "GMT", "JST", "UTC"):
            self.assertNotIn(abbr, text)
        heads = [p.split("\n")[0] for p in
                 self.h.ok("event", "list", "--tz", "Europe/London").split("\n\n")]
        self.assertEqual(heads[0], "%s 18:00-20:00 (19:00-21:00 Europe/Berlin)  Berlin"
                         % d[1])
        self.assertEqual(heads[1], "%s 18:00-20:00  London" % d[2])
        self.assertEqual(heads[4], "%s 10:00-11:00  Bare" % d[5])
        # --from and --to in the zone shown: the 5th of Berlin only.
        out = self.h.ok("event", "list", "--from", "%d-12-05" % y, "--to", "%d-12-05" % y)
        self.assertEqual(out.split("\n")[0], "%s 19:00-21:00  Berlin" % d[1])
        self.assertEqual(out.count("\n\n"), 0, out)
        self.h.fail("event", "list", "--tz", "CEST", parts=("--tz", "CEST"))


if __name__ == "__main__":
    musterlib.main()
