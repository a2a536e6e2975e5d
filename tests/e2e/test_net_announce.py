#!/usr/bin/python3
"""Live relay by announce (docs/PROTOCOL.md 10.5), checked with two Python
peers written from the spec (noisepeer.py) against a real `muster serve`:
a record that reaches the node from one peer goes to the other as its id in
an "announce", not whole; a peer that announces an id the node lacks gets a
want for it, once, and what it then sends is stored."""

import hashlib
import time
import unittest

import msgpack
import nacl.signing

import musterlib
import noisepeer
from musterlib import Home, add_event, export_records, shown

SYNC = 30


def tearDownModule():
    musterlib.check_no_secrets()


def group_bytes(home):
    return nacl.signing.SigningKey(home.secret()).verify_key.encode()


def rec_id(raw):
    body = msgpack.unpackb(raw, raw=True)[0]
    return hashlib.blake2b(body, digest_size=32).digest()


class Announce(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def connect(self, server, home, scope):
        p = noisepeer.Peer(server.port, self.net, home.secret())
        self.addCleanup(p.close)
        p.handshake()
        p.hello(scope)
        return p

    def next_of(self, p, kind, timeout=SYNC):
        """The next message of that type (others are skipped)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p.sock.settimeout(max(0.05, end - time.monotonic()))
            msg = p.recv()
            if isinstance(msg, list) and msg and msg[0] == kind:
                return msg
        self.fail("no %s within %d s" % (kind, timeout))

    def source(self, label, title):
        g = Home(self, label)
        g.init("Group " + label)
        ref = add_event(g, title)
        want = shown(g, ref)["id"]
        for raw in export_records(self, g):
            if rec_id(raw).hex() == want:
                return g, raw
        self.fail("the event is not in the export")

    def organizer_records(self, *homes):
        """The organizer records of homes, imported into no one yet: each
        group's event is signed by its organizer key, which a node must
        know (by this record) before it takes the event."""
        out = []
        for g in homes:
            for raw in export_records(self, g):
                body = msgpack.unpackb(msgpack.unpackb(raw)[0])
                if body[1] == "organizer":
                    out.append(raw)
        return out

    def test_relayed_record_is_announced_and_fetched_once(self):
        a = Home(self, "a")
        a.init("Alpha")
        g, raw = self.source("g", "Relayed by announce")
        h, raw2 = self.source("h", "Announced to the node")
        a.ok("follow", g.key, h.key)
        path = a.tmp + "/organizers.muster"
        with open(path, "wb") as f:
            f.write(musterlib.EXPORT_MAGIC + b"".join(self.organizer_records(g, h)))
        self.assertEqual(a.import_file(path)["new"], 2)
        sa = a.serve(self.net)
        scope = sorted([group_bytes(g), group_bytes(h)])
        # P2 is connected first and holds nothing; P1 pushes G's event.
        p2 = self.connect(sa, g, scope)
        p1 = self.connect(sa, g, scope)
        p1.push([raw])
        msg = self.next_of(p2, "announce")
        self.assertEqual(len(msg), 2)
        self.assertEqual(msg[1], [rec_id(raw)], "the id, not the record")

        # The other way: P2 announces a record A lacks, twice; A wants it
        # once, and stores what P2 then sends.
        p2.send(["announce", [rec_id(raw2)]])
        p2.send(["announce", [rec_id(raw2)]])
        want = self.next_of(p2, "want")
        self.assertEqual(want[2], [rec_id(raw2)])
        p2.send(["recs", 0, [raw2]])
        p2.send(["ack", want[1]])
        musterlib.wait_until(lambda: a.has(rec_id(raw2).hex()), SYNC,
                             "A stored the announced record")
        # No second want for it.
        with self.assertRaises((AssertionError, OSError)):
            self.next_of(p2, "want", timeout=1)
        sa.stop()

    def node_with_two_peers(self):
        """A following H, with the organizer record of H's event; two spec
        peers P1, P2 connected; the event (raw) not yet on A."""
        a = Home(self, "a")
        a.init("Alpha")
        h, raw = self.source("h", "Announced by two peers")
        a.ok("follow", h.key)
        path = a.tmp + "/organizers.muster"
        with open(path, "wb") as f:
            f.write(musterlib.EXPORT_MAGIC + b"".join(self.organizer_records(h)))
        self.assertEqual(a.import_file(path)["new"], 1)
        self.organizer = self.organizer_records(h)[0]
        sa = a.serve(self.net)
        scope = [group_bytes(h)]
        return a, sa, raw, self.connect(sa, h, scope), self.connect(sa, h, scope)

    def fetched_from_p2(self, a, p2, raw, what):
        want = self.next_of(p2, "want", timeout=SYNC * musterlib.SLOWDOWN)
        self.assertEqual(want[2], [rec_id(raw)], what)
        p2.send(["recs", 0, [raw]])
        p2.send(["ack", want[1]])
        musterlib.wait_until(lambda: a.has(rec_id(raw).hex()), SYNC,
                             "A stored the record P2 sent")

    def test_asked_peer_gone_the_other_announcer_is_asked(self):
        # P1 announces, gets the want and leaves without answering; P2 had
        # announced the same id meanwhile. Before, A asked no one else
        # until its next reconciliation (a minute; P2's announce was
        # dropped as already asked).
        a, sa, raw, p1, p2 = self.node_with_two_peers()
        p1.send(["announce", [rec_id(raw)]])
        self.assertEqual(self.next_of(p1, "want")[2], [rec_id(raw)])
        p2.send(["announce", [rec_id(raw)]])
        # A takes P2's messages in order: the ack of a record it holds
        # says the announce before it was taken in, before P1 leaves.
        p2.push([self.organizer])
        p1.close()
        self.fetched_from_p2(a, p2, raw, "the want P1 left unanswered, now of P2")
        sa.stop()

    def test_asked_peer_gone_the_next_announce_is_asked(self):
        # P1 leaves without answering before P2 announces: P2's announce
        # is asked at once, not dropped as already asked of P1.
        a, sa, raw, p1, p2 = self.node_with_two_peers()
        p1.send(["announce", [rec_id(raw)]])
        self.assertEqual(self.next_of(p1, "want")[2], [rec_id(raw)])
        port = p1.sock.getsockname()[1]
        p1.close()
        sa.wait_log(r"closed 127\.0\.0\.1:%d:" % port, SYNC)
        p2.send(["announce", [rec_id(raw)]])
        self.fetched_from_p2(a, p2, raw, "P2's announce, asked of P2")
        sa.stop()


if __name__ == "__main__":
    unittest.main()
