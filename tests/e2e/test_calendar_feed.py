#!/usr/bin/python3
"""The iCalendar feed of `muster event list --ics`, from real homes, checked
three ways: at the byte level (CRLF, 75-octet lines, folds that keep UTF-8
characters whole, no HTML), by python3-icalendar (Debian) and by ical.js
(npm, through tests/interop/ical_check.mjs), against what was published:
titles with commas, semicolons, newlines, emoji and long non-ASCII text, an
all-day event, a cancelled one, geo, online links, tags, two host groups and
a cause of another group. SEQUENCE rises with `event edit`, and the group,
cause and time filters pick the right events. Every timed event has a
DTEND (two hours after a start without an end). Over HTTP, `serve
--public-url` gives each VEVENT the URL of its page, and
/events/ADDR/calendar.ics is one event's calendar ("add to my calendar").

Both parsers are required: a missing one fails the test, never skips it
(`make test` installs them)."""

import datetime
import json
import os
import shutil
import subprocess
import unittest
import urllib.error
import urllib.request

import icalendar  # python3-icalendar: required, an ImportError fails the run

import musterlib
from musterlib import Home

UTC = datetime.timezone.utc
INTEROP = os.path.join(musterlib.SOURCE_DIR, "tests", "interop")
CHECK = os.path.join(INTEROP, "ical_check.mjs")

A_NAME = 'Klima-Bündnis Köln; "Nord", Ost: 🌍'
B_NAME = "Mieter*innen Süd, e.V. 🏠"
CAUSE_TITLE = "Bezahlbare Mieten; jetzt, für alle ✊🏽"
TITLE = (
    "Großdemo, Köln; 🌍✊🏽 Straßenfest für Klimagerechtigkeit, bezahlbare "
    "Mieten und öffentlichen Nahverkehr – Übergänge, Brücken & Plätze in Köln"
)
DESCRIPTION = (
    "Treffpunkt: Dom, Südseite.\nBringt Schilder; Trommeln, Fahnen.\n"
    "Ein Backslash \\ bleibt ein Backslash.\n\nÄrger? Ruf an: 0221 / 12 34"
)
WHERE = "Roncalliplatz"
ADDRESS = "Roncalliplatz 1, 50667 Köln"
ONLINE = ["https://meet.example.org/klima", "https://stream.example.org/live?a=1;b=2"]
TAGS = ["klima", "mieten, wohnen", "süd;nord"]
REQUIRED = ("UID", "DTSTAMP", "DTSTART", "SUMMARY", "DESCRIPTION", "SEQUENCE",
            "STATUS", "ORGANIZER")


def tearDownModule():
    musterlib.check_no_secrets()


def uid_of(addr):
    """The UID docs/API.md promises for an event address KEY/event/D."""
    key, kind, d = addr.split("/")
    assert kind == "event"
    return "%s@%s" % (d, key)


def rfc6868_decode(value):
    """python3-icalendar 4.0.3 (Debian 12) predates RFC 6868 and leaves ^'
    ^n ^^ in parameter values; ical.js decodes them itself."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "^" and i + 1 < len(value) and value[i + 1] in "'n^":
            out.append({"'": '"', "n": "\n", "^": "^"}[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


class Feed(unittest.TestCase):
    def setUp(self):
        self.year = musterlib.future_year()
        self.node = shutil.which("node") or shutil.which("nodejs")
        self.assertIsNotNone(self.node, "node is missing: `make test` installs it")
        self.assertTrue(
            os.path.exists(os.path.join(INTEROP, "node_modules", "ical.js")),
            "ical.js is missing: run `make test` (npm install in tests/interop)",
        )

    def at(self, month_day, hm="18:00"):
        return "%d-%sT%sZ" % (self.year, month_day, hm)

    def build(self):
        """Two groups: B publishes a cause and an event, A follows B, imports
        them and publishes five events of its own, one co-hosted by B for
        B's cause. (Without the follow B is outside A's scope, and a running
        node leaves its events out of the feeds: docs/API.md.)"""
        a, b = Home(self, "a"), Home(self, "b")
        self.akey, self.bkey = a.init(A_NAME), b.init(B_NAME)
        self.cause = b.line("cause", "add", "--title", CAUSE_TITLE)
        self.b_ev = b.line("event", "add", "--title", "Mietenstammtisch",
                           "--start", self.at("12-10", "19:00"))
        a.ok("follow", self.bkey)
        a.import_file(b.export_file())
        self.assertLessEqual(len(TITLE.encode()), 200)
        args = ["event", "add", "--title", TITLE, "--description", DESCRIPTION,
                "--start", self.at("12-05"), "--end", self.at("12-05", "21:30"),
                "--tz", "Europe/Berlin", "--where", WHERE, "--address", ADDRESS,
                "--geo", "50.9413,6.9583", "--host", self.bkey, "--cause",
                self.cause, "--capacity", "500"]
        for url in ONLINE:
            args += ["--online", url]
        for tag in TAGS:
            args += ["--tag", tag]
        self.rich = a.line(*args)
        self.all_day = a.line("event", "add", "--title", "Weihnachtsaktion: Suppenküche",
                              "--start", "%d-12-24" % self.year,
                              "--end", "%d-12-26" % self.year)
        self.cancelled = a.line("event", "add", "--title", "Plenum, 2. Teil",
                                "--start", self.at("12-07"))
        a.line("event", "cancel", self.cancelled)
        self.edited = a.line("event", "add", "--title", "Plenum",
                             "--start", self.at("12-08"), "--end", self.at("12-08", "20:00"))
        self.tentative = a.line("event", "add", "--title", "Vielleicht: Kiezspaziergang",
                                "--start", self.at("12-09", "10:00"), "--status", "tentative",
                                "--geo", "-33.8688,-0.05", "--where", "Opera")
        return a, b

    # --- the three ways of reading a feed -----------------------------------

    def check_bytes(self, feed):
        """CRLF after every line and nowhere else; at most 75 octets a line;
        every line valid UTF-8 on its own (no split character); no HTML."""
        self.assertTrue(feed.endswith(b"\r\n"), "the feed ends with CRLF")
        lines = feed[:-2].split(b"\r\n")
        folds = 0
        for n, line in enumerate(lines, 1):
            self.assertNotIn(b"\n", line, "bare LF in line %d" % n)
            self.assertNotIn(b"\r", line, "bare CR in line %d" % n)
            self.assertLessEqual(len(line), 75, "line %d: %r" % (n, line))
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail("line %d is not UTF-8 on its own, a fold split a "
                          "character: %s: %r" % (n, e, line))
            folds += line.startswith(b" ")
        self.assertGreater(folds, 0, "long lines are folded")
        self.assertEqual(lines[0], b"BEGIN:VCALENDAR")
        self.assertEqual(lines[-1], b"END:VCALENDAR")
        self.assertNotIn(b"<", feed, "no HTML in the feed")
        self.assertNotIn(b"X-ALT-DESC", feed)
        logical = feed.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
        for prop in ("VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                     "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"):
            self.assertIn(prop, logical)
        for prefix in ("PRODID:", "X-WR-CALNAME:", "NAME:"):
            self.assertTrue(any(x.startswith(prefix) for x in logical), prefix)
        return logical

    def parse_py(self, feed):
        cal = icalendar.Calendar.from_ical(feed)
        for comp in cal.walk():
            self.assertEqual(comp.errors, [], "python3-icalendar: %s" % comp.name)
        self.assertEqual(str(cal["VERSION"]), "2.0")
        self.assertEqual(str(cal["METHOD"]), "PUBLISH")
        events = {}
        for ev in cal.walk("VEVENT"):
            for prop in REQUIRED:
                self.assertIn(prop, ev, "python3-icalendar: %s missing" % prop)
            uid = str(ev["UID"])
            self.assertNotIn(uid, events, "UIDs are unique")
            events[uid] = ev
        return cal, events

    def parse_js(self, feed):
        res = subprocess.run([self.node, CHECK], input=feed, capture_output=True,
                             timeout=60)
        self.assertEqual(res.returncode, 0, "ical.js: %s" % res.stderr.decode())
        out = json.loads(res.stdout)
        events = {}
        for ev in out["events"]:
            for prop in REQUIRED:
                self.assertIn(prop.lower(), ev["properties"], "ical.js: %s missing" % prop)
            events[ev["uid"]] = ev
        return out, events

    def feed(self, home, *args):
        res = home.run("event", "list", "--ics", *args)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.err, "")
        return res.outb

    # --- the tests ------------------------------------------------------------

    def test_feed(self):
        a, b = self.build()
        before = self.feed(a)
        self.assertEqual(before, self.feed(a), "the same store gives the same bytes")
        a.line("event", "edit", self.edited, "--title", "Plenum (verlegt)",
               "--where", "Bürgerhaus, Saal 2")
        feed = self.feed(a)
        self.logical = self.check_bytes(feed)
        cal, py = self.parse_py(feed)
        js_cal, js = self.parse_js(feed)
        name = "%s: coalition calendar" % A_NAME
        self.assertEqual(str(cal["X-WR-CALNAME"]), name)
        self.assertEqual(js_cal["name"], name)
        self.assertEqual(js_cal["xWrCalname"], name)
        self.assertEqual(js_cal["method"], "PUBLISH")

        want = {uid_of(x) for x in (self.rich, self.all_day, self.cancelled,
                                    self.edited, self.tentative, self.b_ev)}
        self.assertEqual(set(py), want)
        self.assertEqual(set(js), want)

        # Every event: DTSTAMP is its current revision's created_at, UTC.
        for addr in (self.rich, self.all_day, self.cancelled, self.edited):
            rec = a.json("show", "--json", addr)
            stamp = datetime.datetime.strptime(rec["created_at"], "%Y-%m-%dT%H:%M:%SZ")
            uid = uid_of(addr)
            self.assertEqual(py[uid].decoded("DTSTAMP"), stamp.replace(tzinfo=UTC))
            self.assertEqual(int(py[uid]["SEQUENCE"]), rec["rev"])
            self.assertEqual(js[uid]["sequence"], rec["rev"])
            self.assertTrue(js[uid]["dtstamp"]["utc"])

        self.check_rich(py[uid_of(self.rich)], js[uid_of(self.rich)])
        self.check_others(py, js)

        # The edit: same UID, SEQUENCE up by one, the new title.
        _, old = self.parse_py(before)
        uid = uid_of(self.edited)
        self.assertEqual(int(old[uid]["SEQUENCE"]), 0)
        self.assertEqual(int(py[uid]["SEQUENCE"]), 1)
        self.assertEqual(js[uid]["sequence"], 1)
        self.assertEqual(str(old[uid]["SUMMARY"]), "Plenum")
        self.assertEqual(str(py[uid]["SUMMARY"]), "Plenum (verlegt)")
        self.assertEqual(js[uid]["location"], "Bürgerhaus, Saal 2")
        self.assertGreaterEqual(py[uid].decoded("DTSTAMP"), old[uid].decoded("DTSTAMP"))

    def check_rich(self, py, js):
        for ev in (str(py["SUMMARY"]), js["summary"]):
            self.assertEqual(ev, TITLE)
        footer = ("\n\nHosted by: %s, %s\nCause: %s\nOnline: %s\nOnline: %s\n"
                  "Capacity: 500" % (A_NAME, B_NAME, CAUSE_TITLE, ONLINE[0], ONLINE[1]))
        self.assertEqual(str(py["DESCRIPTION"]), DESCRIPTION + footer)
        self.assertEqual(js["description"], DESCRIPTION + footer)
        self.assertEqual(str(py["LOCATION"]), "%s, %s" % (WHERE, ADDRESS))
        self.assertEqual(js["location"], "%s, %s" % (WHERE, ADDRESS))
        self.assertEqual((py["GEO"].latitude, py["GEO"].longitude), (50.9413, 6.9583))
        self.assertEqual(js["geo"], [50.9413, 6.9583])
        self.assertEqual(str(py["URL"]), ONLINE[0])
        self.assertEqual(js["url"], ONLINE[0])
        self.assertEqual([str(x) for x in py["CONFERENCE"]], ONLINE)
        self.assertEqual(js["conference"], ONLINE)
        self.assertEqual(str(py["STATUS"]), "CONFIRMED")
        start = datetime.datetime(self.year, 12, 5, 18, 0, tzinfo=UTC)
        self.assertEqual(py.decoded("DTSTART"), start)
        self.assertEqual(py.decoded("DTEND"), start + datetime.timedelta(hours=3, minutes=30))
        self.assertEqual(js["dtstart"], {"value": "%d-12-05T18:00:00Z" % self.year,
                                         "isDate": False, "utc": True})
        # ical.js splits CATEGORIES at unescaped commas only, as RFC 5545
        # says. python3-icalendar 4.0.3 unescapes first and then splits at
        # every comma (collective/icalendar#127, fixed upstream in 2025), so
        # it sees "mieten" and "wohnen" apart.
        self.assertEqual(js["categories"], TAGS)
        self.assertEqual([str(c) for c in py["CATEGORIES"].cats],
                         [p for t in TAGS for p in t.split(",")])
        self.assertEqual(js["organizer"], {"cn": A_NAME,
                                           "value": "urn:muster:%s" % self.akey})
        self.assertEqual(rfc6868_decode(py["ORGANIZER"].params["CN"]), A_NAME)

    def check_others(self, py, js):
        uid = uid_of(self.all_day)
        self.assertEqual(py[uid].decoded("DTSTART"), datetime.date(self.year, 12, 24))
        # DTEND is the day after the last day, as RFC 5545 counts.
        self.assertEqual(py[uid].decoded("DTEND"), datetime.date(self.year, 12, 27))
        self.assertTrue(js[uid]["dtstart"]["isDate"])
        self.assertEqual(js[uid]["dtend"]["value"], "%d-12-27" % self.year)

        uid = uid_of(self.cancelled)
        self.assertEqual(str(py[uid]["STATUS"]), "CANCELLED")
        self.assertEqual(js[uid]["status"], "CANCELLED")
        self.assertEqual(js[uid]["summary"], "Plenum, 2. Teil")

        uid = uid_of(self.tentative)
        self.assertEqual(str(py[uid]["STATUS"]), "TENTATIVE")
        # Added without --end: two hours, event add's default.
        self.assertEqual(py[uid].decoded("DTEND"),
                         datetime.datetime(self.year, 12, 9, 12, 0, tzinfo=UTC))
        self.assertEqual(js[uid]["dtend"]["value"], "%d-12-09T12:00:00Z" % self.year)
        self.assertEqual(js[uid]["description"], "Hosted by: %s" % A_NAME)
        # South and west are negative, with exact decimals.
        self.assertEqual((py[uid]["GEO"].latitude, py[uid]["GEO"].longitude),
                         (-33.8688, -0.05))
        self.assertEqual(js[uid]["geo"], [-33.8688, -0.05])
        self.assertIn("GEO:-33.8688000;-0.0500000", self.logical)
        self.assertEqual(str(py[uid]["LOCATION"]), "Opera")

        uid = uid_of(self.b_ev)
        self.assertEqual(js[uid]["organizer"]["cn"], B_NAME)
        self.assertEqual(str(py[uid]["DESCRIPTION"]), "Hosted by: %s" % B_NAME)

        # Every event has a DTEND, after its DTSTART, in both parsers.
        for uid, ev in py.items():
            self.assertIn("DTEND", ev, uid)
            self.assertGreater(ev.decoded("DTEND"), ev.decoded("DTSTART"), uid)
            self.assertIsNotNone(js[uid]["dtend"], uid)

    def get(self, srv, path, status=200):
        try:
            with urllib.request.urlopen(srv.http_url + path, timeout=20) as r:
                got, body, ctype = r.status, r.read(), r.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            got, body, ctype = e.code, e.read(), e.headers["Content-Type"]
        self.assertEqual(got, status, "GET %s: %r" % (path, body[:300]))
        return body, ctype

    def test_http_public_url_and_one_event(self):
        """--public-url: URL of each VEVENT is its page (without it, the
        first online link); /events/ADDR/calendar.ics holds that one event,
        as both parsers read it."""
        a, _ = self.build()
        base = "https://calendar.example.org/buendnis"
        srv = a.serve(musterlib.network_name(), "--public-url", base + "/", http=True)
        self.assertIn("public:   %s/" % base, srv.out())
        feed, ctype = self.get(srv, "/calendar.ics")
        self.assertEqual(ctype, "text/calendar; charset=utf-8")
        self.check_bytes(feed)
        _, py = self.parse_py(feed)
        _, js = self.parse_js(feed)
        for addr in (self.rich, self.all_day, self.cancelled, self.edited,
                     self.tentative, self.b_ev):
            uid = uid_of(addr)
            # The trailing '/' of the option is dropped: one '/' before events.
            self.assertEqual(str(py[uid]["URL"]), "%s/events/%s" % (base, addr))
            self.assertEqual(js[uid]["url"], "%s/events/%s" % (base, addr))
        # The online links are still there, as CONFERENCE.
        self.assertEqual(js[uid_of(self.rich)]["conference"], ONLINE)

        for addr, title in ((self.rich, TITLE), (self.tentative,
                                                 "Vielleicht: Kiezspaziergang")):
            one, ctype = self.get(srv, "/events/%s/calendar.ics" % addr)
            self.assertEqual(ctype, "text/calendar; charset=utf-8")
            self.check_bytes(one)
            cal, py1 = self.parse_py(one)
            js_cal, js1 = self.parse_js(one)
            self.assertEqual(list(py1), [uid_of(addr)])
            self.assertEqual(list(js1), [uid_of(addr)])
            self.assertEqual(str(cal["X-WR-CALNAME"]), title)
            self.assertEqual(js_cal["name"], title)
            # The same VEVENT as in the feed.
            self.assertEqual(js1[uid_of(addr)], js[uid_of(addr)])
            self.assertEqual(py1[uid_of(addr)].to_ical(), py[uid_of(addr)].to_ical())
        start = datetime.datetime(self.year, 12, 9, 10, 0, tzinfo=UTC)
        self.assertEqual(py1[uid_of(self.tentative)].decoded("DTEND"),
                         start + datetime.timedelta(hours=2))
        key = self.rich.split("/")[0]
        body, _ = self.get(srv, "/events/%s/event/nosuch/calendar.ics" % key, 404)
        self.assertIn(b"no event", body)
        self.get(srv, "/events/%s/cause/x/calendar.ics" % key, 400)
        srv.stop()

        # Without --public-url the URL stays the first online link, and
        # events without one have none.
        srv = a.serve(musterlib.network_name(), http=True)
        feed, _ = self.get(srv, "/calendar.ics")
        _, py = self.parse_py(feed)
        self.assertEqual(str(py[uid_of(self.rich)]["URL"]), ONLINE[0])
        self.assertNotIn("URL", py[uid_of(self.tentative)])
        srv.stop()

    def test_public_url_is_checked(self):
        a = Home(self, "p")
        a.init("P")
        # Were one taken, the daemon would run on these ports until the
        # run's timeout, which fails the test as well.
        where = ["--listen", "127.0.0.1:%d" % musterlib.free_port(), "--http",
                 "127.0.0.1:%d" % musterlib.free_port(), "--network",
                 musterlib.network_name()]
        scheme = "not an http:// or https:// URL"
        chars = "percent-encode"
        for bad, why in (("calendar.example.org", scheme), ("ftp://x.org", scheme),
                         ("https://", scheme), ("https:///x", scheme),
                         ("https://x.org/a b", chars), ("https://x.org/?q=1", chars),
                         ("https://x.org/\"x", chars),
                         ("https://x.org/ü", chars),
                         ("https://" + "x" * 200 + ".org", "at most 200")):
            with self.subTest(url=bad):
                musterlib.assert_one_line_error(
                    self, a.run("serve", *where, "--public-url", bad, timeout=20),
                    "--public-url", why)
        musterlib.assert_one_line_error(
            self, a.run("serve", "--http", "off", "--public-url", "https://x.org"),
            "--public-url", "does not go with --http off")

    def test_filters(self):
        a, _ = self.build()
        ours = {uid_of(x) for x in (self.rich, self.all_day, self.cancelled,
                                    self.edited, self.tentative)}
        cases = [
            ((), ours | {uid_of(self.b_ev)}),
            (("--group", self.akey), ours),
            # B publishes one event and co-hosts the rich one.
            (("--group", self.bkey), {uid_of(self.rich), uid_of(self.b_ev)}),
            (("--cause", self.cause), {uid_of(self.rich)}),
            (("--cause", self.cause, "--group", self.akey), {uid_of(self.rich)}),
            (("--from", "%d-12-20" % self.year), {uid_of(self.all_day)}),
            (("--from", self.at("12-08", "00:00"), "--to", "%d-12-09" % self.year),
             {uid_of(self.edited), uid_of(self.tentative)}),
            (("--to", "%d-01-01" % self.year), set()),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                feed = self.feed(a, *args)
                self.assertEqual(feed.count(b"BEGIN:VEVENT"), len(want))
                _, py = self.parse_py(feed)
                _, js = self.parse_js(feed)
                self.assertEqual(set(py), want)
                self.assertEqual(set(js), want)
        # Named as the node's feeds are: a group's feed after the group, a
        # cause's after the cause.
        for args, name in ((("--group", self.bkey), B_NAME),
                           (("--cause", self.cause), CAUSE_TITLE),
                           ((), "%s: coalition calendar" % A_NAME)):
            cal, _ = self.parse_py(self.feed(a, *args))
            self.assertEqual(str(cal["X-WR-CALNAME"]), name)
        # The text list takes the same group and cause filters.
        out = a.ok("event", "list", "--group", self.bkey)
        self.assertIn("Mietenstammtisch", out)
        self.assertIn("Großdemo", out)
        self.assertNotIn("Plenum", out)
        musterlib.assert_one_line_error(
            self, a.run("event", "list", "--ics", "--json"), "--json or --ics")


if __name__ == "__main__":
    musterlib.main()
