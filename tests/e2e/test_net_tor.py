#!/usr/bin/python3
"""`muster serve --tor` on a private Tor network on 127.0.0.1 (tornet.py):
two homes that know each other only by onion address sync an event and its
cancellation through Tor, neither node record holds an IP address, tor
forwards to the node's own onion listener (`status` names an inbound onion
peer "via tor #PORT"), `status` shows the onion address and tor's state, a one-shot `sync --tor` reaches
an onion address, and a missing tor is one clear line. Fails, never skips,
when tor is not installed."""

import os
import re
import signal
import socket
import tempfile
import time
import unittest

import msgpack

import musterlib
import tornet
from musterlib import Home, add_event, ally, event_titles, export_records, shown, wait_until

# Bounds, generous for two cores shared with other builds: the network's
# first consensus, a tor child's bootstrap, a sync through onion services.
CONSENSUS = 120
BOOT = 180
SYNC = 240

NET = None


def setUpModule():
    global NET
    tmp = tempfile.mkdtemp(prefix="muster-tornet-")
    NET = tornet.TorNet(tmp)
    took = NET.wait_consensus(CONSENSUS)
    print("private Tor network: consensus after %.1f s" % took, flush=True)


def tearDownModule():
    if NET is not None:
        NET.stop()
    musterlib.check_no_secrets()


def tor_env():
    return {"MUSTER_TOR_EXTRA_CONFIG": NET.config_path,
            "MUSTER_LIMITS": "dial_max_ms=3000"}


def onion_of(home):
    with open(os.path.join(home.path, "tor", "hostname")) as f:
        return f.read().strip()


def node_records(tc, home):
    """(raw, body) of every node record home holds."""
    out = []
    for raw in export_records(tc, home):
        body = msgpack.unpackb(msgpack.unpackb(raw)[0])
        if body[1] == "node":
            out.append((raw, body))
    return out


def socks_get(socks_port, host, port, path):
    """An HTTP/1.0 GET through a SOCKS5 proxy (RFC 1928, by domain name)."""
    with socket.create_connection(("127.0.0.1", socks_port), timeout=SYNC) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        name = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name
                  + port.to_bytes(2, "big"))
        reply = b""
        while len(reply) < 10:
            chunk = s.recv(10 - len(reply))
            assert chunk, "the SOCKS proxy closed"
            reply += chunk
        assert reply[1] == 0, "SOCKS reply %d" % reply[1]
        s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def gone(pid):
    """Whether the process has exited (a zombie left to init counts)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# An IPv4 address anywhere in the record's bytes; the addresses themselves
# are checked to be onion addresses alone, which rules out IPv6 too.
IPV4 = re.compile(rb"(?<![0-9])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![0-9])")


class Tor(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def serve_tor(self, home, http=False):
        s = home.serve(self.net, "--tor-only", http=http, env=tor_env())
        # muster's line, not tor's own "Bootstrapped 100%" (logged at
        # debug, and matched by wait_log's case-blind search).
        s.wait_log(r"info tor: bootstrapped 100%", timeout=BOOT)
        s.wait_log(r"tor: this node is reachable at [a-z2-7]{56}\.onion:%d" % s.port,
                   timeout=BOOT)
        return s

    def test_two_homes_sync_through_onion_services_only(self):
        started = time.monotonic()
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha Kitchen")
        b.init("Beta Tenants")
        ally(a, b)
        sa = self.serve_tor(a, http=True)
        sb = self.serve_tor(b)
        oa, ob = onion_of(a), onion_of(b)
        self.assertTrue(oa.endswith(".onion") and ob.endswith(".onion"))
        # Each knows the other only by its onion address.
        a.ok("peer", "add", "%s:%d" % (ob, sb.port), b.key)
        b.ok("peer", "add", "%s:%d" % (oa, sa.port), a.key)

        ev = add_event(a, "Rent strike assembly")
        wait_until(lambda: ev in event_titles(b), SYNC, "A's event on B, through Tor")
        a.line("event", "cancel", ev)
        wait_until(lambda: (shown(b, ev) or {}).get("content", {}).get("status")
                   == "cancelled", SYNC, "the cancellation on B, through Tor")

        # Each node record announces its onion address and no IP address,
        # on its own home and on the other.
        for holder in (a, b):
            wait_until(lambda: len(node_records(self, holder)) == 2, SYNC,
                       "both node records on %s" % holder.path)
            for raw, body in node_records(self, holder):
                addrs = body[-1]["addrs"]
                self.assertEqual(len(addrs), 1, addrs)
                self.assertRegex(addrs[0], r"^[a-z2-7]{56}\.onion:[0-9]+$")
                self.assertIsNone(IPV4.search(raw), "an IP address in %r" % raw)
        self.assertIn((oa + ":%d" % sa.port).encode(),
                      b"".join(export_records(self, b)))

        # A's calendar on port 80 of its onion address, as Tor Browser
        # reads it, through B's tor.
        socks = int(sb.wait_log(r"tor: SocksPort 127\.0\.0\.1:(\d+)").group(1))
        page = socks_get(socks, oa, 80, "/calendar.ics")
        self.assertTrue(page.startswith(b"HTTP/1.1 200"), page[:200])
        self.assertIn(b"BEGIN:VCALENDAR", page)

        # Tor forwards the onion port to the node's own onion listener, so
        # an onion peer is named as coming through tor, not 127.0.0.1:PORT.
        for srv in (sa, sb):
            srv.wait_log(r"listening for tor on 127\.0\.0\.1:\d+")
        inbound = re.compile(r"^  (via tor #\d+|\S+)  .*inbound", re.M)
        wait_until(lambda: any(inbound.search(h.ok("status")) for h in (a, b)), SYNC,
                   "an inbound onion peer in status")
        for h in (a, b):
            for name in inbound.findall(h.ok("status")):
                self.assertRegex(name, r"^via tor #\d+$")

        st = a.ok("status")
        self.assertIn("onion:     " + oa, st)
        self.assertIn("tor:       ready", st)

        pids = [int(m) for s in (sa, sb)
                for m in re.findall(r"tor: started \(pid (\d+)\)", s.log())]
        sa.stop()
        sb.stop()
        self.assertEqual(len(pids), 2, "one tor per node, started once")
        for pid in pids:
            wait_until(lambda: gone(pid), 20,
                       "tor (pid %d) gone after the node stopped" % pid)
        self.assertIn("tor:       not running", a.ok("status"))
        # The key stays, private, for the same address next time.
        key = os.path.join(a.path, "tor", "onion_key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.path.getsize(key), 64)
        print("two homes synced through Tor in %.1f s"
              % (time.monotonic() - started), flush=True)

        # The same address after a restart, from the kept key.
        sa2 = self.serve_tor(a)
        self.assertEqual(onion_of(a), oa)
        # A tor that dies is restarted, with the same address.
        pid = int(re.findall(r"tor: started \(pid (\d+)\)", sa2.log())[-1])
        os.kill(pid, signal.SIGKILL)
        sa2.wait_log(r"tor exited \(signal 9\).*; restarting in 1 s", timeout=20)
        wait_until(lambda: len(re.findall(r"info tor: bootstrapped 100%", sa2.log())) == 2,
                   BOOT, "tor bootstrapped again after the restart")
        self.assertEqual(len(re.findall(r"reachable at %s:" % re.escape(oa), sa2.log())), 2)
        self.assertIn("tor:       ready", a.ok("status"))

        # A one-shot sync through a tor child of its own.
        c = Home(self, "c")
        c.init("Gamma")
        res = c.run("sync", "--tor", "--network", self.net,
                    "%s:%d" % (oa, sa2.port), a.key, env=tor_env(), timeout=BOOT + 60)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("sync with %s:%d done" % (oa, sa2.port), res.err)
        sa2.stop()

    def test_tor_only_refuses_other_addresses(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        sb = b.serve(self.net)
        sa = a.serve(self.net, "--tor-only", env=tor_env())
        a.ok("peer", "add", sb.addr, b.key)
        sa.wait_log(r"refusing to dial 127\.0\.0\.1: --tor-only dials only \.onion",
                    timeout=30)
        musterlib.assert_one_line_error(
            self, a.run("serve", "--tor-only", "--listen", "0.0.0.0:7999"),
            "--tor-only", "loopback")
        sa.stop()
        sb.stop()

    def test_missing_tor_is_one_clear_line(self):
        a = Home(self, "a")
        a.init("Alpha")
        env = dict(tor_env(), MUSTER_TOR="/nonexistent/tor")
        port = musterlib.free_port()
        res = a.run("serve", "--tor", "--listen", "127.0.0.1:%d" % port,
                    "--http", "off", "--network", self.net, env=env)
        self.assertNotEqual(res.rc, 0)
        musterlib.assert_one_line_error(self, res, "tor is not installed",
                                        "apt-get install tor")


if __name__ == "__main__":
    musterlib.main()
