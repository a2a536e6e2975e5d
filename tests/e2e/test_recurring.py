#!/usr/bin/python3
"""A weekly event on Tuesdays at 18:00 in Europe/Berlin across the late-March
change of daylight saving time, with one Tuesday skipped and one cancelled,
shows the same occurrences everywhere: in `event list`, in the JSON API, on
the web page, and in the feed as expanded by two parsers we did not write,
python3-recurring-ical-events (Debian) and ical.js (npm). The expected
instants come from Python's own zone database. `event edit --from` splits
the series without losing or doubling a date, and rules that would never end
or run past a year are refused with the option named.

Both parsers are required: a missing one fails the test, never skips it
(`make test` installs them)."""

import datetime
import html.parser
import json
import os
import re
import shutil
import subprocess
import unittest
import urllib.request
import zoneinfo

import icalendar  # python3-icalendar: required, an ImportError fails the run
import recurring_ical_events  # python3-recurring-ical-events: required

import musterlib
from musterlib import Home

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = datetime.timezone.utc
INTEROP = os.path.join(musterlib.SOURCE_DIR, "tests", "interop")
EXPAND = os.path.join(INTEROP, "ical_expand.mjs")


def tearDownModule():
    musterlib.check_no_secrets()


def last_sunday_of_march(year):
    d = datetime.date(year, 3, 31)
    return d - datetime.timedelta(days=(d.weekday() + 1) % 7)


class Occurrences(html.parser.HTMLParser):
    """The <li> of each <ul class="occurrences"> of a page: (datetime of its
    <time>, whether the li is marked cancelled)."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.found = []
        self.li_cancelled = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "ul" and a.get("class") == "occurrences":
            self.depth = 1
        elif self.depth and tag == "li":
            self.li_cancelled = "cancelled" in (a.get("class") or "")
        elif self.depth and tag == "time":
            self.found.append((a["datetime"], self.li_cancelled))

    def handle_endtag(self, tag):
        if tag == "ul":
            self.depth = 0


class Recurring(unittest.TestCase):
    def setUp(self):
        self.node = shutil.which("node") or shutil.which("nodejs")
        self.assertIsNotNone(self.node, "node is missing: `make test` installs it")
        self.assertTrue(
            os.path.exists(os.path.join(INTEROP, "node_modules", "ical.js")),
            "ical.js is missing: run `make test` (npm install in tests/interop)",
        )
        self.year = musterlib.future_year()
        change = last_sunday_of_march(self.year)
        # Tuesdays from three weeks before the change to four after.
        first = change - datetime.timedelta(days=(change.weekday() - 1) % 7 + 14)
        self.tuesdays = [first + datetime.timedelta(weeks=k) for k in range(7)]
        self.until = self.tuesdays[-1]
        self.skip = self.tuesdays[1]      # before the change
        self.cancel = self.tuesdays[4]    # after it
        self.home = Home(self, "a")
        self.home.init("Riverside")
        start = "%sT18:00" % self.tuesdays[0]
        self.addr = self.home.line(
            "event", "add", "--title", "Food distribution", "--start", start,
            "--end", "%sT20:00" % self.tuesdays[0], "--tz", "Europe/Berlin",
            "--repeat", "weekly", "--on", "tue", "--until", str(self.until),
            "--skip", str(self.skip))
        self.assertEqual(self.home.line("event", "cancel", self.addr, "--on",
                                        str(self.cancel)), self.addr)

    def expected(self):
        """[(unix start, cancelled)] from Python's zone database."""
        out = []
        for d in self.tuesdays:
            if d == self.skip:
                continue
            t = datetime.datetime(d.year, d.month, d.day, 18, 0, tzinfo=BERLIN)
            out.append((int(t.timestamp()), d == self.cancel))
        offsets = {datetime.datetime.fromtimestamp(t, BERLIN).utcoffset()
                   for t, _ in out}
        self.assertEqual(len(offsets), 2, "the series must cross a DST change")
        return out

    def window(self):
        return ("%d-03-01" % self.year, "%d-05-01" % self.year)

    def from_list(self):
        lo, hi = self.window()
        out = self.home.ok("event", "list", "--from", lo, "--to", hi, "--tz",
                           "Europe/Berlin")
        got = []
        for m in re.finditer(r"^    - \w{3} (\d{4}-\d\d-\d\d) (\d\d:\d\d) (\S+)(  CANCELLED)?$",
                             out, re.M):
            self.assertEqual(m.group(2), "18:00", out)
            self.assertIn(m.group(3), ("CET", "CEST"), out)
            local = datetime.datetime.fromisoformat("%sT18:00" % m.group(1))
            t = int(local.replace(tzinfo=BERLIN).timestamp())
            got.append((t, m.group(4) is not None))
        return got

    def feed(self):
        return self.home.ok("event", "list", "--ics").encode()

    def from_python(self, feed, window=None, uid=None):
        cal = icalendar.Calendar.from_ical(feed)
        lo, hi = (datetime.date.fromisoformat(x) for x in (window or self.window()))
        got = []
        for ev in recurring_ical_events.of(cal).between(lo, hi):
            if uid is not None and str(ev["UID"]) != uid:
                continue
            start = ev["DTSTART"].dt
            self.assertIsNotNone(start.tzinfo, "a DTSTART with a zone")
            got.append((int(start.timestamp()), str(ev.get("STATUS")) == "CANCELLED"))
        return sorted(got)

    def from_icaljs(self, feed, uid=None, local="T18:00:00"):
        res = subprocess.run([self.node, EXPAND], input=feed, capture_output=True,
                             timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        got = []
        for o in json.loads(res.stdout):
            if uid is not None and o["uid"] != uid:
                continue
            self.assertIsNotNone(o["utc"], "ical.js placed %r in a zone" % o)
            self.assertTrue(o["start"].endswith(local), o)
            got.append((o["utc"], o["status"] == "CANCELLED"))
        return sorted(got)

    def test_everywhere_the_same_dates(self):
        want = self.expected()
        self.assertEqual(self.from_list(), want, "event list")
        lo, hi = self.window()
        listed = self.home.json("event", "list", "--from", lo, "--to", hi, "--json")
        self.assertEqual([(int(datetime.datetime.fromisoformat(
            o["start"].replace("Z", "+00:00")).timestamp()), o["cancelled"])
            for o in listed[0]["occurrences"]], want, "event list --json")
        feed = self.feed()
        self.assertIn(b"RRULE:FREQ=WEEKLY;BYDAY=TU;WKST=MO;UNTIL=", feed)
        self.assertIn(b"EXDATE;TZID=Europe/Berlin:", feed)
        self.assertIn(b"RECURRENCE-ID;TZID=Europe/Berlin:", feed)
        self.assertIn(b"BEGIN:VTIMEZONE", feed)
        self.assertEqual(self.from_python(feed), want, "recurring-ical-events")
        self.assertEqual(self.from_icaljs(feed), want, "ical.js")

        srv = self.home.serve(musterlib.network_name(), http=True)
        lo, hi = self.window()
        with urllib.request.urlopen("%s/api/events?from=%s&to=%s"
                                    % (srv.http_url, lo, hi), timeout=30) as r:
            api = json.load(r)
        self.assertEqual(len(api["events"]), 1, api)
        ev = api["events"][0]
        self.assertEqual(ev["content"]["repeat"]["freq"], "weekly", ev)
        got = [(int(datetime.datetime.fromisoformat(o["start"].replace("Z", "+00:00"))
                    .timestamp()), o["cancelled"]) for o in ev["occurrences"]]
        self.assertEqual(got, want, "the JSON API")

        with urllib.request.urlopen(srv.http_url + "/", timeout=30) as r:
            page = r.read().decode()
        p = Occurrences()
        p.feed(page)
        got = [(int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
                    .timestamp()), c) for t, c in p.found]
        self.assertEqual(got, want, "the web page")

    def test_edit_from_splits(self):
        want = self.expected()
        cut = self.tuesdays[3]
        out = self.home.ok("event", "edit", self.addr, "--from", str(cut),
                           "--where", "New hall").splitlines()
        self.assertEqual(len(out), 2, out)
        self.assertEqual(out[0], self.addr)
        self.assertNotEqual(out[1], self.addr)
        old = self.home.json("show", "--json", self.addr)
        self.assertEqual(old["content"]["repeat"]["until"],
                         str(cut - datetime.timedelta(days=1)), old)
        new = self.home.json("show", "--json", out[1])
        self.assertEqual(new["content"]["location"]["name"], "New hall", new)
        # The same dates, each once, the cancelled one still cancelled.
        self.assertEqual(sorted(self.from_list()), want)
        self.assertEqual(self.from_python(self.feed()), want)

    def test_window_after_first_start(self):
        """A window that starts after the series' first start still finds
        it (the store holds a series until its last date), with only the
        occurrences in the window."""
        want = [o for o in self.expected()
                if o[0] >= datetime.datetime.combine(
                    self.tuesdays[3], datetime.time(0), BERLIN).timestamp()]
        out = self.home.ok("event", "list", "--from", str(self.tuesdays[3]),
                           "--tz", "Europe/Berlin")
        self.assertEqual(out.count("\n    - "), len(want), out)
        self.assertIn("%s 18:00" % self.tuesdays[3], out)
        self.assertNotIn("%s 18:00" % self.tuesdays[2], out)

    def test_other_rules_in_both_parsers(self):
        """Monthly on the 31st by count (months without one left out),
        daily every 3 days until a date across the autumn change, and
        weekly on two days every 2 weeks: muster's occurrences are those of
        both parsers."""
        y = self.year
        rules = [
            ("%d-01-31T09:30" % y, ["--repeat", "monthly", "--count", "5"],
             "T09:30:00"),
            ("%d-10-20T07:00" % y, ["--repeat", "daily", "--every", "3", "--until",
                                    "%d-11-10" % y], "T07:00:00"),
            ("%d-06-01T19:00" % y, ["--repeat", "weekly", "--every", "2", "--on",
                                    datetime.date(y, 6, 1).strftime("%a").lower()
                                    + ",sat", "--count", "7"], "T19:00:00"),
        ]
        window = ("%d-01-01" % y, "%d-01-01" % (y + 1))
        made = []
        for start, args, local in rules:
            addr = self.home.line("event", "add", "--title", "Rule " + start,
                                  "--start", start, "--end", start[:11] + "23:00",
                                  "--tz", "Europe/Berlin", *args)
            made.append((addr, local))
        listed = {e["address"]: e for e in self.home.json(
            "event", "list", "--from", window[0], "--to", window[1], "--json")}
        feed = self.feed()
        for addr, local in made:
            key, _, d = addr.split("/")
            uid = "%s@%s" % (d, key)
            want = [(int(datetime.datetime.fromisoformat(
                o["start"].replace("Z", "+00:00")).timestamp()), o["cancelled"])
                for o in listed[addr]["occurrences"]]
            self.assertGreaterEqual(len(want), 5, addr)
            self.assertEqual(self.from_python(feed, window, uid), want, addr)
            self.assertEqual(self.from_icaljs(feed, uid, local), want, addr)
        months = [datetime.datetime.fromtimestamp(t, BERLIN).month
                  for t, _ in self.from_python(feed, window, "%s@%s" % (
                      made[0][0].split("/")[2], made[0][0].split("/")[0]))]
        self.assertEqual(months, [1, 3, 5, 7, 8])

    def test_refused(self):
        start = "%sT18:00" % self.tuesdays[0]
        base = ["event", "add", "--title", "X", "--start", start, "--tz",
                "Europe/Berlin"]
        self.home.fail(*base, "--repeat", "weekly",
                       parts=("--repeat needs --until DATE or --count N",))
        self.home.fail(*base, "--repeat", "daily", "--until",
                       "%d-12-31" % (self.year + 1), parts=("--until", "366 days"))
        self.home.fail(*base, "--repeat", "daily", "--count", "401",
                       parts=("--count", "1 to 400"))
        self.home.fail(*base, "--repeat", "weekly", "--count", "3", "--skip",
                       str(self.tuesdays[0] + datetime.timedelta(days=1)),
                       parts=("--skip", "not a date of the series"))
        self.home.fail("event", "cancel", self.addr, "--on",
                       str(self.tuesdays[0] + datetime.timedelta(days=2)),
                       parts=("--on", "not a date of the series"))
        self.home.fail(*base, "--repeat", "weekly", "--on", "wed,fri", "--count", "3",
                       parts=("--start is on none of the days of --on",))
        # A second cancel of the same date changes nothing and says so.
        res = self.home.run("event", "cancel", self.addr, "--on", str(self.cancel))
        self.assertEqual(res.rc, 0, res)
        self.assertIn("already cancelled on that date", res.err)
        self.assertEqual(self.home.json("show", "--json", self.addr)["rev"], 1)


if __name__ == "__main__":
    musterlib.main()
