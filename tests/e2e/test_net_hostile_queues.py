#!/usr/bin/python3
"""Hostile peers that make a node queue: peers that never read what they
asked for (one, and as many as the connection limit allows), and a node we
dial that answers our reconciliation with endless differences and never
sends what we ask for. A must bound every queue (docs/SECURITY.md, "Memory")
while it serves honest peers (hostile.py); A's RSS is checked against the
bounds."""

import os
import re
import select
import socket
import struct
import time

import msgpack

import hostile
import musterlib
import noisepeer
from musterlib import Home, record_id


def tearDownModule():
    musterlib.check_no_secrets()


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


class NeverReads(hostile.Attack):
    A_RECORDS = 2000  # wants for about 1,000 of them fill a megabyte

    def a_ids(self):
        return [bytes.fromhex(record_id(r)) for r in musterlib.export_records(self, self.a)]

    @staticmethod
    def wants(p, ids, n):
        """n want frames of 1,024 of A's ids each, ready to send at once."""
        frames = []
        for i in range(n):
            k = i * 1024 % len(ids)
            msg = pack(["want", i + 1, (ids[k:] + ids[:k])[:1024]])
            frames.append(struct.pack(">H", len(msg) + 16) + p.tx.encrypt(b"", msg))
        return b"".join(frames)

    def test_peer_that_never_reads(self):
        a_ids = self.a_ids()

        def attack():
            p = self.session(rcvbuf=4096)
            name = re.escape("%s:%d" % p.sock.getsockname())
            try:
                # Each want asks for about 1,000 records in 32 kB.
                p.send_raw(self.wants(p, a_ids, 40))
            except OSError:
                pass  # A stopped reading us, as it should
            self.sa.wait_log(r"%s: \d+ bytes queued for writing, dropped after \d+ s" % name,
                             30)
            # A drops a peer whose queue stays full (limits.write_stall_ms).
            self.sa.wait_log(r"closed %s: .*stopped reading" % name, 150)
            p.close()

        self.run_attack("a peer that never reads", attack)

    def test_many_peers_that_never_read(self):
        # As many as the connection limit (64) leaves room for, with B and H.
        n = 58
        a_ids = self.a_ids()
        held = []
        for _ in range(n):
            p = self.session(rcvbuf=4096)
            p.sock.settimeout(2)
            try:
                p.send_raw(self.wants(p, a_ids, 16))
            except OSError:
                pass  # A stopped reading us
            held.append(p)
        musterlib.wait_until(
            lambda: self.sa.log().count("bytes queued for writing, dropped after") >= n, 60,
            "every peer's queue past out_low", interval=0.5)
        for i in range(2):
            self.honest_check("%d peers that never read" % n)
        self.check_rss("%d peers that never read" % n,
                       hostile.RSS_BASE_MIB + hostile.RSS_PER_CONN_MIB * n)
        for p in held:
            p.close()
        self.honest_check("after %d peers that never read" % n)


def varint(v):
    """A negentropy varint: base 128, most significant group first."""
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


class HostileResponder(hostile.Attack):
    """X, a node A dials (a known peer), answers every step of A's
    reconciliation with 1800 ids A lacks, a range that covers all of A's
    records (so that A would send them all again) and a wrong fingerprint
    (so that A goes on), and never answers a want: without bounds, A's
    queues of ids to fetch and to send would grow at every round trip."""

    A_RECORDS = 500

    def before_serve(self):
        self.x = Home(self, "x")
        self.x.init("Hostile responder")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(self.listener.close)
        self.listener.bind((hostile.attacker_ip(), 0))
        self.listener.listen(4)
        self.a.ok("peer", "add", "%s:%d" % self.listener.getsockname(), self.x.key)

    def flood(self):
        return pack(["neg", b"\x61" + varint(4_000_000_001) + b"\x00\x02" + varint(1800) +
                     os.urandom(32 * 1800) + b"\x00\x00\x01" + os.urandom(16)])

    def test_responder_claiming_endless_differences(self):
        stats = {"negs": 0, "wants": 0}

        def attack():
            if stats["negs"]:
                time.sleep(0.1)  # once is enough (A redials into our backlog)
                return
            self.listener.settimeout(60)
            sock, _ = self.listener.accept()
            p = noisepeer.Peer.accepted(sock, self.net, self.x.secret())
            self.addCleanup(p.close)
            p.respond()
            p.hello([self.group(self.a), self.group(self.g)])
            end = time.monotonic() + 60
            while time.monotonic() < end:
                if "reconciliation waits" in self.sa.log():
                    break
                # A goes quiet once its reconciliation waits.
                if not select.select([p.sock], [], [], 0.5)[0]:
                    continue
                msg = p.recv()
                if msg[0] in ("neg-open", "neg"):
                    stats["negs"] += 1
                    p.send_frame(p.tx.encrypt(b"", self.flood()))
                elif msg[0] == "want":
                    stats["wants"] += 1  # never answered
            p.close()

        self.run_attack("a responder claiming endless differences", attack)
        print("\n%d reconciliation steps, %d wants" % (stats["negs"], stats["wants"]))
        self.sa.wait_log(r"\d+ ids to fetch, \d+ to send: reconciliation waits", 5)
        self.assertGreater(stats["negs"], 30)


if __name__ == "__main__":
    musterlib.main()
