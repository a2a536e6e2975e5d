#!/usr/bin/python3
"""The HTTP server of `muster serve --http` (docs/API.md): two allied groups
synced over loopback, one node serving HTTP on a random port. Status codes,
methods, headers, the JSON API's shapes and filters, the feeds' routes, the
pages' escaping, a bind failure, and the page in headless Chromium."""

import datetime
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import unittest
import urllib.request

import musterlib
from musterlib import Home, ally, future_year, shown, wait_until

SYNC = 30  # seconds any propagation may take here
HOSTILE = '<script>window.__pwned=1</script> & "friends"'
YEAR = future_year()


def tearDownModule():
    musterlib.check_no_secrets()


class Coalition:
    """Alpha serves HTTP; Beta is its ally, with a cause, an event for it and
    a cancelled event, all synced to Alpha."""

    def __init__(self):
        self.tc = unittest.TestCase()
        tc = self.tc
        self.net = musterlib.network_name()
        self.a, self.b = Home(tc, "a"), Home(tc, "b")
        self.a.init("Alpha Collective")
        self.b.init("Beta Union")
        self.sa = self.a.serve(self.net, http=True)
        self.sb = self.b.serve(self.net)
        self.a.ok("peer", "add", self.sb.addr, self.b.key)
        ally(self.a, self.b)
        self.cause = self.b.line("cause", "add", "--title", "Clean air",
                                 "--summary", "Breathe <freely>")
        self.ev_a = self.a.line("event", "add", "--title", "Alpha assembly", "--start",
                                "%d-06-01T18:00Z" % YEAR, "--where", "Community hall")
        self.ev_hostile = self.a.line("event", "add", "--title", HOSTILE, "--start",
                                      "%d-06-02T09:00Z" % YEAR)
        self.ev_b = self.b.line("event", "add", "--title", "Beta picnic", "--start",
                                "%d-06-03T12:00Z" % YEAR, "--end",
                                "%d-06-03T15:00Z" % YEAR, "--cause", self.cause,
                                "--online", "https://meet.example/picnic",
                                "--host", self.a.key)
        self.ev_cancel = self.b.line("event", "add", "--title", "Beta march", "--start",
                                     "%d-07-01T10:00Z" % YEAR)
        self.b.line("event", "cancel", self.ev_cancel)
        wait_until(lambda: all(shown(self.a, r) for r in (self.cause, self.ev_b))
                   and (shown(self.a, self.ev_cancel) or {}).get("rev") == 1,
                   SYNC, "Beta's records on Alpha")
        self.events = [self.ev_a, self.ev_hostile, self.ev_b, self.ev_cancel]

    def close(self):
        try:
            # A clean exit after every request of the tests, and no
            # sanitizer report (leaks included) under `make asan`.
            self.sa.stop()
        finally:
            self.tc.doCleanups()


class HttpApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = Coalition()
        cls.port = cls.c.sa.http_port

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def request(self, method, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get(self, path, status=200):
        st, headers, body = self.request("GET", path)
        self.assertEqual(st, status, "GET %s: %r" % (path, body[:300]))
        return headers, body

    def api(self, path, status=200):
        headers, body = self.get(path, status)
        self.assertEqual(headers["content-type"], "application/json; charset=utf-8", path)
        return json.loads(body.decode("utf-8"))

    def api_error(self, path, status, *words):
        v = self.api(path, status)
        self.assertEqual(list(v), ["error"], v)
        for w in words:
            self.assertIn(w, v["error"], path)
        return v["error"]

    def raw(self, data):
        """Sends bytes as they are; returns the status line."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            s.sendall(data)
            reply = b""
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0].decode("latin-1")

    # --- status codes and methods -----------------------------------------

    def test_status_codes(self):
        for path in ("/", "/alliances", "/causes", "/api/events", "/api/causes",
                     "/api/groups", "/api/alliances", "/calendar.ics", "/style.css",
                     "/app.js", "/events/" + self.c.ev_b, "/causes/" + self.c.cause,
                     "/groups/" + self.c.b.key, "/groups/%s/calendar.ics" % self.c.a.key,
                     "/causes/%s/calendar.ics" % self.c.cause):
            self.get(path)
        for path in ("/nope", "/index.html", "/events/%s/event/nothing" % self.c.a.key,
                     "/groups/%s" % Home(self, "x").init(), "/causes/%s/cause/none" % self.c.b.key):
            self.get(path, 404)
        self.api_error("/api/nope", 404, "/api/events")
        self.api_error("/api/events/%s/event/nothing" % self.c.a.key, 404, "no event")
        for path in ("/events/not-an-address", "/groups/mug1nothing",
                     "/groups/nonsense/calendar.ics", "/causes/%s/calendar.ics" % self.c.ev_b):
            self.get(path, 400)
        self.api_error("/api/events/" + self.c.cause, 400, "cause", "event")

    def test_methods(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for path in ("/", "/api/events", "/calendar.ics", "/nope"):
                st, headers, body = self.request(method, path)
                self.assertEqual(st, 405, "%s %s" % (method, path))
                self.assertEqual(headers["allow"], "GET, HEAD")
                self.assertIn(b"only GET and HEAD are served here", body)
        for path in ("/", "/api/events", "/calendar.ics", "/nope"):
            gst, gh, gbody = self.request("GET", path)
            hst, hh, hbody = self.request("HEAD", path)
            self.assertEqual(hst, gst, path)
            self.assertEqual(hbody, b"", "HEAD %s sends no body" % path)
            self.assertEqual(hh["content-type"], gh["content-type"])
            # Feeds and lists that grow with the store are streamed
            # (chunked): no length, for HEAD either.
            self.assertEqual(hh.get("content-length"), gh.get("content-length"), path)
            if path in ("/", "/calendar.ics", "/api/events"):
                self.assertNotIn("content-length", gh)
            else:
                self.assertEqual(int(hh["content-length"]), len(gbody), path)

    def test_malformed_requests(self):
        self.assertIn(" 400 ", self.raw(b"GET / FOO/1.1\r\nHost: x\r\n\r\n"))
        self.assertIn(" 400 ", self.raw(b"GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"))
        self.assertIn(" 400 ", self.raw(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertIn(" 400 ", self.raw(b"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertIn(" 400 ", self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n"
                                        b"Content-Length: many\r\n\r\n"))
        # Without an HTTP version there is no HTTP to answer in: closed.
        self.assertEqual(self.raw(b"GARBAGE\r\n\r\n"), "")
        self.assertIn(" 400 ", self.raw(b"GET / HTTP/1.1\r\n\r\n"))  # no Host
        self.assertIn(" 400 ", self.raw(b"GET / HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n"))
        # Over the per-connection memory: refused, not buffered.
        status = self.raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        self.assertIn(" 431 ", status)
        status = self.raw(b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(" 414 ", status)
        self.api_error("/api/events?from=tomorrow", 400, "from", "YYYY-MM-DD")
        self.api_error("/api/events?to=2026-02-30", 400, "to")
        self.api_error("/api/events?from=2030-01-02&to=2030-01-01", 400, "after")
        self.api_error("/api/events?group=mug1bad", 400, "group")
        self.api_error("/api/events?cause=" + self.c.ev_a, 400, "cause")
        self.api_error("/api/events?colour=red", 400, "colour")
        self.api_error("/api/events?group=%s&group=%s" % (self.c.a.key, self.c.b.key),
                       400, "twice")
        self.api_error("/api/events?" + "&".join("a%d=1" % i for i in range(12)), 400)
        self.api_error("/api/groups?x=1", 400, "x")
        self.api_error("/api/events?from=%FF", 400, "UTF-8")
        self.get("/?x=1", 400)
        # A decoded line feed in the path cannot forge a line of the log.
        self.get("/%0A2000-01-01T00:00:00Z%20error%20forged", 400)
        self.assertNotRegex(self.c.sa.log(), r"(?m)^2000-01-01T00:00:00Z error forged")
        self.assertIn("?2000-01-01T00:00:00Z error forged", self.c.sa.log())
        # Still serving after all of that.
        self.get("/")

    def test_headers(self):
        h, _ = self.get("/")
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        self.assertEqual(h["x-content-type-options"], "nosniff")
        self.assertIn("script-src 'self'", h["content-security-policy"])
        self.assertIn("default-src 'none'", h["content-security-policy"])
        self.assertEqual(h["cache-control"], "no-cache")
        h, _ = self.get("/calendar.ics")
        self.assertEqual(h["content-type"], "text/calendar; charset=utf-8")
        self.assertEqual(h["x-content-type-options"], "nosniff")
        h, _ = self.get("/style.css")
        self.assertEqual(h["content-type"], "text/css; charset=utf-8")
        h, _ = self.get("/app.js")
        self.assertEqual(h["content-type"], "text/javascript; charset=utf-8")

    # --- the JSON API -------------------------------------------------------

    def test_events_are_the_cli_json(self):
        v = self.api("/api/events")
        self.assertEqual(sorted(v), ["events", "from", "to", "truncated"])
        self.assertIsNone(v["to"])
        self.assertFalse(v["truncated"])
        got = {e["address"]: e for e in v["events"]}
        self.assertEqual(sorted(got), sorted(self.c.events))
        for addr in self.c.events:
            cli = shown(self.c.a, addr)
            self.assertEqual(got[addr], cli, "the API's record is `muster show --json`'s")
            self.assertEqual(self.api("/api/events/" + addr), cli)
        starts = [e["content"]["start"] for e in v["events"]]
        self.assertEqual(starts, sorted(starts), "ordered by start")
        self.assertEqual(got[self.c.ev_cancel]["content"]["status"], "cancelled")
        self.assertEqual(got[self.c.ev_hostile]["content"]["title"], HOSTILE)

    def test_event_filters(self):
        def addrs(query):
            return sorted(e["address"] for e in self.api("/api/events?" + query)["events"])

        c = self.c
        self.assertEqual(addrs("group=" + c.b.key), sorted([c.ev_b, c.ev_cancel]))
        # Alpha co-hosts the picnic: a group's events include those it hosts.
        self.assertEqual(addrs("group=" + c.a.key), sorted([c.ev_a, c.ev_hostile, c.ev_b]))
        self.assertEqual(addrs("cause=" + c.cause), [c.ev_b])
        self.assertEqual(addrs("cause=%s&group=%s" % (c.cause, c.b.key)), [c.ev_b])
        self.assertEqual(addrs("from=%d-06-02&to=%d-06-03" % (YEAR, YEAR)), [c.ev_hostile])
        self.assertEqual(addrs("from=%d-06-03T13:00Z&to=%d-06-03T14:00:00Z" % (YEAR, YEAR)),
                         [c.ev_b], "an event overlapping the range")
        self.assertEqual(addrs("from=%d-06-01&to=%d-07-01&group=%s" % (YEAR, YEAR, c.b.key)),
                         [c.ev_b])
        self.assertEqual(addrs("from=%d-01-01" % (YEAR + 1)), [])
        v = self.api("/api/events?from=%d-06-02&to=%d-06-03" % (YEAR, YEAR))
        self.assertEqual((v["from"], v["to"]), ("%d-06-02T00:00:00Z" % YEAR,
                                                "%d-06-03T00:00:00Z" % YEAR))

    def test_causes(self):
        v = self.api("/api/causes")
        self.assertEqual([x["address"] for x in v["causes"]], [self.c.cause])
        self.assertEqual(v["causes"][0], shown(self.c.a, self.c.cause))
        self.assertEqual(self.api("/api/causes?group=" + self.c.a.key)["causes"], [])

    def test_groups(self):
        v = self.api("/api/groups")
        groups = {g["key"]: g for g in v["groups"]}
        self.assertEqual(sorted(groups), sorted([self.c.a.key, self.c.b.key]))
        a, b = groups[self.c.a.key], groups[self.c.b.key]
        for g in (a, b):
            self.assertEqual(sorted(g), ["alliance", "ended_at", "ended_by", "hops",
                                         "in_scope", "key", "last_record", "last_seen",
                                         "name", "profile", "us", "via"])
        self.assertEqual((a["name"], a["us"], a["alliance"], a["in_scope"]),
                         ("Alpha Collective", True, None, True))
        self.assertEqual((b["name"], b["us"], b["alliance"], b["in_scope"]),
                         ("Beta Union", False, "mutual", True))
        self.assertEqual(b["profile"], shown(self.c.a, self.c.b.key + "/profile"))
        self.assertRegex(b["last_seen"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        cancelled = shown(self.c.a, self.c.ev_cancel)
        self.assertGreaterEqual(b["last_record"], cancelled["created_at"])

    def test_alliances(self):
        v = self.api("/api/alliances")
        self.assertEqual(v["us"], self.c.a.key)
        self.assertEqual(len(v["alliances"]), 1, v)
        pair = v["alliances"][0]
        self.assertEqual(sorted(pair["groups"]), sorted([self.c.a.key, self.c.b.key]))
        self.assertEqual(pair["state"], "mutual")
        self.assertEqual(sorted(pair["proposed_by"]), sorted([self.c.a.key, self.c.b.key]))
        self.assertEqual(sorted(r["group"] for r in pair["records"]),
                         sorted([self.c.a.key, self.c.b.key]))
        self.assertTrue(all(r["kind"] == "alliance" for r in pair["records"]))

    # --- feeds and pages ----------------------------------------------------

    def test_feeds(self):
        h, body = self.get("/calendar.ics")
        text = body.decode("utf-8")
        self.assertTrue(text.startswith("BEGIN:VCALENDAR\r\n"), text[:80])
        self.assertEqual(text.count("BEGIN:VEVENT"), 4)
        self.assertEqual(h["content-type"], "text/calendar; charset=utf-8")
        _, body = self.get("/groups/%s/calendar.ics" % self.c.b.key)
        self.assertEqual(body.decode("utf-8").count("BEGIN:VEVENT"), 2)
        _, body = self.get("/causes/%s/calendar.ics" % self.c.cause)
        self.assertEqual(body.decode("utf-8").count("BEGIN:VEVENT"), 1)
        self.assertIn("Beta picnic", body.decode("utf-8"))
        # The feed is what `muster event list --ics` prints (same store).
        cli = self.c.a.run("event", "list", "--ics")
        if cli.rc == 0:
            self.assertEqual(cli.outb.count(b"BEGIN:VEVENT"), 4)

    def test_pages_escape_hostile_fields(self):
        _, body = self.get("/")
        page = body.decode("utf-8")
        self.assertNotIn("<script>window", page)
        self.assertIn("&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; "
                      "&quot;friends&quot;", page)
        self.assertEqual(page.count("<script"), 1, "only the page's own script")
        for title in ("Alpha assembly", "Beta picnic", "Beta march"):
            self.assertIn(title, page)
        self.assertIn('href="webcal://127.0.0.1:%d/calendar.ics"' % self.port, page)
        self.assertIn('href="https://meet.example/picnic"', page)
        self.assertIn('href="/events/%s"' % self.c.ev_b, page)
        self.assertIn('href="/causes/%s"' % self.c.cause, page)
        self.assertIn('class="event cancelled"', page)
        _, body = self.get("/causes/" + self.c.cause)
        self.assertIn("Breathe &lt;freely&gt;", body.decode("utf-8"))
        # A Host header that is not a plain host name is not echoed into links.
        st, _, body = self.request("GET", "/", {"Host": 'evil"><script>x</script>'})
        self.assertEqual(st, 200)
        self.assertNotIn(b"evil", body)
        _, body = self.get("/alliances")
        self.assertIn("Alpha Collective", body.decode("utf-8"))
        self.assertIn("Beta Union", body.decode("utf-8"))

    def test_page_of_an_event(self):
        """Weekday and zone, the end the feed gives (2 h without --end), no
        CONFIRMED badge, revision and JSON link out of the main view, the
        one-event calendar and a share link."""
        _, body = self.get("/")
        page = body.decode("utf-8")
        self.assertNotIn('class="status confirmed"', page)
        self.assertIn('<span class="status cancelled">cancelled</span>', page)
        addr = self.c.ev_a
        _, body = self.get("/events/" + addr)
        page = body.decode("utf-8")
        wd = datetime.date(YEAR, 6, 1).strftime("%a")
        self.assertIn('<time datetime="%d-06-01T18:00:00Z" data-local>%s %d-06-01 18:00'
                      '</time> – <time datetime="%d-06-01T20:00:00Z" data-local>20:00'
                      '</time> <span class="zone">UTC</span>' % (YEAR, wd, YEAR, YEAR), page)
        self.assertNotIn("confirmed", page.lower())
        main, _, details = page.partition('<details class="record">')
        self.assertNotIn("Revision", main)
        self.assertNotIn("As JSON", main)
        self.assertIn("Revision 0, of", details)
        self.assertIn('<a href="/api/events/%s">As JSON</a>' % addr, details)
        self.assertIn('<a class="ics" href="/events/%s/calendar.ics" download>Add to my '
                      'calendar</a>' % addr, page)
        url = "http://127.0.0.1:%d/events/%s" % (self.port, addr)
        self.assertIn('<a class="share" href="%s">%s</a>' % (url, url), page)
        h, body = self.get("/events/%s/calendar.ics" % addr)
        self.assertEqual(h["content-type"], "text/calendar; charset=utf-8")
        self.assertEqual(body.count(b"BEGIN:VEVENT"), 1)
        self.assertIn(b"SUMMARY:Alpha assembly\r\n", body)
        self.assertIn(b"DTEND:%d0601T200000Z\r\n" % YEAR, body)
        # A tentative or cancelled event keeps its badge on its page.
        _, body = self.get("/events/" + self.c.ev_cancel)
        self.assertIn('<span class="status cancelled">cancelled</span>', body.decode())

    def test_page_of_a_group(self):
        """The name first; the 62-character key after the profile."""
        _, body = self.get("/groups/" + self.c.b.key)
        page = body.decode("utf-8")
        main = page[page.index("<main>"):]
        self.assertTrue(main.startswith("<main>\n<article class=\"group\">\n"
                                        "<h1>Beta Union</h1>"), main[:200])
        self.assertLess(main.index("Last seen"), main.index("<dt>Key</dt>"))
        self.assertLess(main.index("Beta Union"), main.index(self.c.b.key))

    def test_read_only(self):
        """Requests never write: the store's bytes are the same after them."""
        before = self.c.a.export_bytes()
        for path in ("/", "/api/events", "/api/groups", "/calendar.ics",
                     "/events/" + self.c.ev_a):
            self.get(path)
            self.request("POST", path)
            self.request("DELETE", path)
        self.assertEqual(self.c.a.export_bytes(), before)

    def test_browser(self):
        """The page in headless Chromium (tests/interop/browser_check.mjs):
        fails, never skips, when node, chromium or playwright-core is missing."""
        node = shutil.which("node") or shutil.which("nodejs")
        self.assertIsNotNone(node, "node is missing: run make test-deps")
        self.assertTrue(os.access("/usr/bin/chromium", os.X_OK),
                        "/usr/bin/chromium is missing: run make deps")
        script = os.path.join(os.environ["MUSTER_SOURCE_DIR"], "tests", "interop",
                              "browser_check.mjs")
        spec = {"titles": ["Alpha assembly", "Beta picnic", "Beta march"],
                "hostile": HOSTILE, "groups": ["Alpha Collective", "Beta Union"],
                "group": {"key": self.c.b.key, "name": "Beta Union"}}
        res = subprocess.run([node, script, self.c.sa.http_url, json.dumps(spec)],
                             capture_output=True, timeout=240)
        out = res.stdout.decode("utf-8", "replace") + res.stderr.decode("utf-8", "replace")
        self.assertEqual(res.returncode, 0, "browser check failed:\n" + out)
        self.assertIn("ok: no console errors", out)


class HttpOption(unittest.TestCase):
    def test_bind_failure_is_one_clear_line(self):
        h = Home(self, "busy")
        h.init("Busy")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            addr = "127.0.0.1:%d" % s.getsockname()[1]
            res = h.run("serve", "--listen", "127.0.0.1:%d" % musterlib.free_port(),
                        "--network", musterlib.network_name(), "--http", addr)
        self.assertEqual(res.rc, 1, repr(res))
        lines = res.err.strip().splitlines()
        self.assertIn(addr, lines[-1])
        self.assertIn("in use", lines[-1])
        self.assertIn("--http", lines[-1])

    def test_bad_value_is_a_usage_error(self):
        h = Home(self, "bad")
        h.init("Bad")
        h.fail("serve", "--http", "nowhere", parts=("--http",))

    def test_public_url_links(self):
        """With --public-url, the subscribe and share links are made from it,
        not from the Host the request named."""
        h = Home(self, "pub")
        key = h.init("Riverside")
        ev = h.line("event", "add", "--title", "Food bank", "--start",
                    "%d-03-04T18:00Z" % YEAR)
        base = "https://calendar.example.org/riverside"
        srv = h.serve(musterlib.network_name(), "--public-url", base + "//", http=True)

        def page(path):
            with urllib.request.urlopen(srv.http_url + path, timeout=20) as r:
                return r.read().decode("utf-8")
        text = page("/")
        self.assertIn('href="webcal://calendar.example.org/riverside/calendar.ics"', text)
        self.assertIn('href="%s/calendar.ics">%s/calendar.ics</a>' % (base, base), text)
        self.assertNotIn("127.0.0.1", text)
        text = page("/groups/" + key)
        self.assertIn('href="%s/groups/%s/calendar.ics"' % (base, key), text)
        text = page("/events/" + ev)
        self.assertIn('<a class="share" href="%s/events/%s">' % (base, ev), text)
        self.assertNotIn("127.0.0.1", text)
        srv.stop()

    def test_off(self):
        h = Home(self, "off")
        h.init("Off")
        port = musterlib.free_port()
        srv = h.serve(musterlib.network_name(), "--http", "off")
        self.assertFalse(musterlib.listening(port))
        self.assertNotIn("http", srv.out().lower().replace("https", ""))
        srv.stop()

    def test_connection_limits(self):
        """Keep-alive, 16 connections per address, idle ones closed (by the
        5 s header deadline) (docs/API.md, "Headers and limits")."""
        h = Home(self, "limits")
        h.init("Limits")
        srv = h.serve(musterlib.network_name(), http=True)
        conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=20)
        for _ in range(3):  # one connection, three requests
            conn.request("GET", "/api/causes")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b'{"causes":[]}\n'))
        conn.close()

        # Before the first connects: no idle timer can start earlier.
        start = time.monotonic()
        idle = [socket.create_connection(("127.0.0.1", srv.http_port), timeout=30)
                for _ in range(20)]
        try:
            # Past 16 from one address, MHD closes the newest at once.
            closed = 0
            for s in idle[16:]:
                try:
                    closed += s.recv(1) == b""
                except (ConnectionResetError, socket.timeout):
                    closed += 1
            self.assertEqual(closed, 4, "connections over the per-address limit")
            # The first 16 are closed once idle for 5 s.
            for s in idle[:16]:
                s.settimeout(max(1, 40 - (time.monotonic() - start)))
                try:
                    self.assertEqual(s.recv(1), b"", "an idle connection is closed")
                except ConnectionResetError:
                    pass
            waited = time.monotonic() - start
            self.assertGreater(waited, 5, "not closed before the timeout")
            self.assertLess(waited, 40)
        finally:
            for s in idle:
                s.close()
        # Serving again once they are gone. The node learns that our side
        # closed them when its loop next reads them, so until then a new
        # connection can still be over the per-address limit and be reset.
        def served():
            conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=20)
            try:
                conn.request("GET", "/")
                return conn.getresponse().status
            except ConnectionResetError:
                return None
            finally:
                conn.close()
        self.assertEqual(wait_until(served, 10, "the node to serve again"), 200)
        srv.stop()

    def test_serves_and_stops_cleanly(self):
        h = Home(self, "on")
        h.init("On")
        srv = h.serve(musterlib.network_name(), http=True)
        self.assertIn("http://127.0.0.1:%d/" % srv.http_port, srv.out())
        conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=20)
        conn.request("GET", "/api/events")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        r.read()
        # Stopping with a kept-alive connection and a half-sent request open.
        half = socket.create_connection(("127.0.0.1", srv.http_port), timeout=20)
        half.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        log = srv.stop()
        conn.close()
        half.close()
        self.assertIn("serving HTTP on http://127.0.0.1:%d/" % srv.http_port, log)
        self.assertFalse(musterlib.listening(srv.http_port))


if __name__ == "__main__":
    musterlib.main()
