#!/usr/bin/python3
"""The HTTP server's deadlines, caps and caching (docs/API.md "Headers and
limits", docs/SECURITY.md "The HTTP server"), against a real `muster serve
--http` on loopback:

- slowloris: 64 connections from four other addresses, each sending a byte
  of a request every 2 s and reopened when closed, are closed by the header
  deadline (5 s from the opening, however many bytes they trickle), and
  honest GETs from 127.0.0.1 are answered meanwhile;
- a connection is closed after 100 requests (Connection: close on the
  100th);
- 800 and 5,000 query arguments get their error at once (400; 414 when
  the request line is over 32 KiB), not after the 10 s timeout;
- a feed carries an ETag; If-None-Match with it gets 304 and no body; a
  new event changes the ETag and the feed.
"""

import http.client
import socket
import threading
import time
import unittest

import httpflood
import musterlib
from musterlib import Home, add_event

SLOW_CLIENTS = 64
HEADER_DEADLINE_S = 5   # node/http/http.c HEADER_DEADLINE_MS
KEEPALIVE_MAX = 100     # node/http/http.c KEEPALIVE_MAX


def tearDownModule():
    musterlib.check_no_secrets()


class Limits(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()
        self.a = Home(self, "a")
        self.a.init("Alpha")
        self.ev = add_event(self.a, "First")
        self.sa = self.a.serve(self.net, http=True)

    def get(self, path, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.sa.http_port, timeout=timeout)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def test_slowloris(self):
        stop = threading.Event()
        lock = threading.Lock()
        lifetimes = []  # seconds each slow connection was kept open

        def slow(i):
            src = httpflood.source(i)
            request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
            while not stop.is_set():
                try:
                    s = httpflood.connect(self.sa.http_port, src, timeout=3)
                except OSError:
                    time.sleep(0.1)
                    continue
                opened, sent = time.monotonic(), 0
                try:
                    while not stop.is_set() and sent < len(request):
                        s.sendall(request[sent:sent + 1])
                        sent += 1
                        try:
                            if s.recv(1) == b"":
                                break  # closed by the server
                        except socket.timeout:
                            pass  # still open: the next byte after 2 s
                        else:
                            break
                except OSError:
                    pass  # reset by the server
                finally:
                    s.close()
                if not stop.is_set():
                    with lock:
                        lifetimes.append(time.monotonic() - opened)

        threads = [threading.Thread(target=slow, args=(i,), daemon=True)
                   for i in range(SLOW_CLIENTS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1)  # every slot taken
            answered, waits = 0, []
            for _ in range(6):
                t = time.monotonic()
                status, _, body = self.get("/api/events", timeout=30)
                self.assertEqual(status, 200, body)
                answered += 1
                waits.append(time.monotonic() - t)
            # Let each slow connection run into the deadline at least once.
            end = time.monotonic() + 30
            while time.monotonic() < end:
                with lock:
                    if len(lifetimes) >= SLOW_CLIENTS:
                        break
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        with lock:
            kept = sorted(lifetimes)
        print("\nhonest GETs answered %d of 6, waits %s s; %d slow connections closed, "
              "open for %.1f-%.1f s"
              % (answered, ["%.1f" % w for w in waits], len(kept), kept[0], kept[-1]))
        self.assertGreaterEqual(len(kept), SLOW_CLIENTS,
                                "slowloris connections closed by the server")
        # 5 s, checked every 0.5 s, plus a loaded machine's delays.
        self.assertLess(kept[-1], HEADER_DEADLINE_S + 5,
                        "a trickling connection outlived the header deadline")
        self.assertTrue(self.sa.running())

    def test_keepalive_cap(self):
        c = http.client.HTTPConnection("127.0.0.1", self.sa.http_port, timeout=10)
        closes = []
        try:
            for i in range(1, KEEPALIVE_MAX + 1):
                c.request("GET", "/api/events")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                if (r.getheader("Connection") or "").lower() == "close":
                    closes.append(i)
            sock = c.sock
        finally:
            c.close()
        self.assertEqual(closes, [KEEPALIVE_MAX])
        self.assertIsNone(sock, "the connection was closed after the last reply")

    def test_many_arguments(self):
        for n, want in ((9, 400), (800, 400), (2000, 400), (5000, 414)):
            query = "&".join("a%d=1" % i for i in range(n))
            t = time.monotonic()
            status, _, body = self.get("/api/events?" + query, timeout=30)
            took = time.monotonic() - t
            self.assertEqual(status, want, (n, body[:200]))
            if want == 400:
                self.assertIn(b"more than 8 query arguments", body)
            self.assertLess(took, 3, "%d arguments answered after %.1f s" % (n, took))

    def test_etag(self):
        status, h, body = self.get("/calendar.ics")
        self.assertEqual(status, 200)
        etag = h.get("ETag")
        self.assertRegex(etag or "", r'^"[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{8}"$')
        self.assertIn(b"SUMMARY:First", body)
        # Unchanged: 304, no body, the same ETag; also in a list, weak or *.
        for inm in (etag, 'W/"x", ' + etag, "W/" + etag, "*"):
            status, h2, body2 = self.get("/calendar.ics", {"If-None-Match": inm})
            self.assertEqual((status, body2), (304, b""), inm)
            self.assertEqual(h2.get("ETag"), etag)
        status, _, _ = self.get("/calendar.ics", {"If-None-Match": '"other"'})
        self.assertEqual(status, 200)
        # Another feed has another ETag.
        key = self.a.key
        status, h3, _ = self.get("/groups/%s/calendar.ics" % key)
        self.assertEqual(status, 200)
        self.assertNotEqual(h3.get("ETag"), etag)
        # A new event, stored by the CLI: a new ETag and the event in the feed.
        add_event(self.a, "Second")
        status, h4, body4 = self.get("/calendar.ics", {"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertNotEqual(h4.get("ETag"), etag)
        self.assertIn(b"SUMMARY:Second", body4)


if __name__ == "__main__":
    musterlib.main()
