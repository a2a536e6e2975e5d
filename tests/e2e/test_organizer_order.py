#!/usr/bin/python3
"""Records signed by organizer keys, pushed by hand to a real `muster serve`
in the orders PROTOCOL.md 10.6 must survive: a record before its organizer
record is held (not stored, not counted against the sender), then stored
when the organizer record arrives; one before a revocation is dropped; a
revoked key's next record and a backdated one are refused, and its stored
records go but those the revocation keeps. `muster check` stays clean."""

import hashlib
import os
import time
import unittest

import msgpack
import nacl.signing

import musterlib
import noisepeer
from musterlib import Home, wait_until

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


def pk(seed):
    return nacl.signing.SigningKey(seed).verify_key.encode()


def record(signer_seed, group, kind, d, rev, content, created_at=None):
    """(id, raw) of a record of group signed by signer_seed; content's keys
    are given in bytewise order, so the encoding is canonical."""
    t = created_at if created_at is not None else int(time.time()) - 60
    body = msgpack.packb([1, kind, group, pk(signer_seed), t, d, rev, content],
                         use_bin_type=True)
    rid = hashlib.blake2b(body, digest_size=32).digest()
    sig = nacl.signing.SigningKey(signer_seed).sign(noisepeer.RECORD_CONTEXT + rid).signature
    return rid, msgpack.packb([body, sig], use_bin_type=True)


def event(org_seed, group, d, created_at=None):
    start = int(time.time()) + 86400
    return record(org_seed, group, "event", d, 1,
                  {"start": start, "status": "confirmed", "title": "By hand " + d},
                  created_at)


def organizer(root_seed, org_seed, rev, status, keep=(), kinds=()):
    content = {}
    if keep:
        content["keep"] = list(keep)
    content["key"] = pk(org_seed)
    if kinds:
        content["kinds"] = list(kinds)
    content["name"] = "Sam"
    content["status"] = status
    return record(root_seed, pk(root_seed), "organizer", pk(org_seed).hex(), rev,
                  content)


class OrganizerOrder(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()
        self.a = Home(self, "a")
        self.a.init("Alpha")
        self.root = self.a.secret()
        self.g = pk(self.root)
        self.sa = self.a.serve(self.net)
        self.addCleanup(lambda: self.sa.running() and self.sa.stop())
        # A peer of another group pushes A's group's records, as a relay.
        self.p = noisepeer.Peer(self.sa.port, self.net, os.urandom(32), timeout=SYNC)
        self.addCleanup(self.p.close)
        self.p.handshake()
        self.p.hello([self.g])

    def has(self, rec):
        return self.a.has(rec[0].hex())

    def push(self, *recs):
        self.p.push([raw for _rid, raw in recs], timeout=SYNC)

    def test_order_of_arrival(self):
        o1, o2 = os.urandom(32), os.urandom(32)

        # Before its organizer record: held, not stored, not invalid.
        early = event(o1, self.g, "early")
        self.push(early)
        self.assertFalse(self.has(early), "a record of an unknown key is not stored")
        self.push(organizer(self.root, o1, 1, "active"))
        wait_until(lambda: self.has(early), SYNC, "the held record stored")

        # Before a revocation: dropped; the one kept comes in.
        dropped, kept = event(o2, self.g, "dropped"), event(o2, self.g, "kept")
        self.push(dropped, kept)
        self.push(organizer(self.root, o2, 1, "revoked", keep=[kept[0]]))
        wait_until(lambda: self.has(kept), SYNC, "the kept record stored")
        self.assertFalse(self.has(dropped), "a held record of a revoked key is dropped")

        # O1 publishes, then is revoked keeping only `early`.
        later = event(o1, self.g, "later")
        self.push(later)
        self.assertTrue(self.has(later))
        self.push(organizer(self.root, o1, 2, "revoked", keep=[early[0]]))
        wait_until(lambda: not self.has(later), SYNC, "the revoked key's record removed")
        self.assertTrue(self.has(early), "keep stays")

        # Its next record, a backdated one, and many more: refused, and
        # not held against this peer (more than max_invalid of them).
        nxt = event(o1, self.g, "next")
        old = event(o1, self.g, "old", created_at=int(time.time()) - 400 * 86400)
        self.push(nxt, old)
        self.push(*[event(o1, self.g, "n%d" % i) for i in range(24)])
        # An active version with a higher rev cannot undo the revocation.
        self.push(organizer(self.root, o1, 9, "active"))
        again = event(o1, self.g, "again")
        self.push(again)
        for rec in (nxt, old, again):
            self.assertFalse(self.has(rec), "a revoked key's record is refused")

        # A node proving the group with O1's key and its old, active
        # organizer record is refused (PROTOCOL.md 9.1); with O3's it is in.
        o3 = os.urandom(32)
        org3 = organizer(self.root, o3, 1, "active")
        self.push(org3)
        ok = noisepeer.Peer(self.sa.port, self.net, o3, timeout=SYNC,
                            organizer=(self.g, org3[1]))
        self.addCleanup(ok.close)
        self.assertEqual(ok.handshake(), self.g)
        ok.hello([self.g])
        stale = noisepeer.Peer(self.sa.port, self.net, o1, timeout=SYNC,
                               organizer=(self.g, organizer(self.root, o1, 1, "active")[1]))
        self.addCleanup(stale.close)
        stale.handshake()
        self.assertTrue(stale.wait_closed(SYNC), "a revoked organizer key is refused")
        self.sa.wait_log(r"proved group \S+ with organizer key \S+, which the group "
                         r"revoked", SYNC)

        # The peer is still served: a root-signed record goes through.
        root_ev = record(self.root, self.g, "event", "root", 1,
                         {"start": int(time.time()) + 86400, "status": "confirmed",
                          "title": "Root"})
        self.push(root_ev)
        self.assertTrue(self.has(root_ev))
        self.p.close()
        self.sa.stop()
        res = self.a.run("check")
        self.assertEqual(res.rc, 0, repr(res))
        ids = {musterlib.record_id(raw) for raw in musterlib.export_records(self, self.a)}
        self.assertIn(early[0].hex(), ids)
        self.assertIn(kept[0].hex(), ids)
        for rec in (dropped, later, nxt, old, again):
            self.assertNotIn(rec[0].hex(), ids)

    def test_kind_not_allowed_counts_against_the_peer(self):
        """Rule organizer-kind is the sender's fault: past 16 such records
        the peer is dropped, as for any invalid record (PROTOCOL.md 10.6)."""
        o = os.urandom(32)
        self.push(organizer(self.root, o, 1, "active", kinds=["cause"]))
        refused = [event(o, self.g, "k%d" % i) for i in range(17)]
        try:
            self.p.send(["recs", 0, [raw for _rid, raw in refused]])
        except OSError:
            pass
        self.assertTrue(self.p.wait_closed(SYNC), "the peer is dropped")
        self.sa.wait_log(r"organizer-kind: organizer [0-9a-f]{64} may not publish event",
                         SYNC)
        self.sa.wait_log(r"17 invalid records", SYNC)
        for rec in refused[:2]:
            self.assertFalse(self.has(rec))


if __name__ == "__main__":
    musterlib.main()
