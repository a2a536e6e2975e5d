#!/usr/bin/python3
"""A peer written in Python from docs/PROTOCOL.md (noisepeer.py) against a
real `muster serve`: the handshake interoperates, and what a hostile or
careless peer pushes is checked: tampered records are neither stored nor
relayed, groups outside the scope are not stored (except an alliance that
names us, and its author's profile), too many invalid records get the peer
dropped and banned, too many records in one message close the connection."""

import json
import os
import unittest

import nacl.signing

import musterlib
import noisepeer
from musterlib import (Home, add_event, peers, record_id, shown,
                       wait_until)

SYNC = 30


def tearDownModule():
    musterlib.check_no_secrets()


def group_bytes(home):
    return nacl.signing.SigningKey(home.secret()).verify_key.encode()


class Adversary(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def raw_of(self, home, ref):
        """The raw bytes of one stored record, from the home's export."""
        return musterlib.raw_record(self, home, ref)

    def source(self):
        """G: the group the Python peer speaks for, with one event whose
        title can be tampered with in place."""
        g = Home(self, "g")
        g.init("Gossip source")
        ev = add_event(g, "Original title")
        return g, ev, self.raw_of(g, ev)

    def connect(self, server, home):
        p = noisepeer.Peer(server.port, self.net, home.secret())
        self.addCleanup(p.close)
        return p

    def test_noisepeer_matches_cacophony_vectors(self):
        path = os.path.join(musterlib.SOURCE_DIR, "tests", "vectors", "noise-cacophony.json")
        with open(path) as f:
            vectors = json.load(f)["vectors"]
        self.assertGreaterEqual(noisepeer.test_vectors(vectors), 1)

    def test_handshake_and_hello_with_a_real_node(self):
        a = Home(self, "a")
        a.init("Alpha")
        g, _ev, _raw = self.source()
        a.ok("follow", g.key)
        sa = a.serve(self.net)
        p = self.connect(sa, g)
        self.assertEqual(p.handshake(), group_bytes(a), "A proves its group key")
        scope = p.hello([group_bytes(g)])
        self.assertEqual(scope, sorted(scope), "the hello's scope is sorted")
        self.assertIn(group_bytes(a), scope)
        self.assertIn(group_bytes(g), scope, "a followed group is in the scope")
        self.assertIsInstance(p.peer_hello["agent"], str)
        sa.wait_log(r"handshake done, group %s" % g.key, SYNC)
        p.close()
        sa.stop()

    def test_tampered_record_is_neither_stored_nor_relayed(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        g, ev, raw = self.source()
        bad = raw.replace(b"Original", b"Tampered")
        self.assertNotEqual(bad, raw)
        bad_id = record_id(bad)
        # A and B both want G's records; B is connected to A.
        a.ok("follow", g.key)
        b.ok("follow", g.key)
        sa = a.serve(self.net)
        b.ok("peer", "add", sa.addr, a.key)
        sb = b.serve(self.net)
        wait_until(lambda: peers(b)[sa.addr]["last_sync"], SYNC, "B synced with A")

        p = self.connect(sa, g)
        p.handshake()
        p.hello([group_bytes(g)])
        p.push([bad])
        p.push([raw])
        # The good one is relayed to B; the bad one, sent first, never.
        wait_until(lambda: b.has(ev), SYNC, "G's event relayed to B")
        self.assertTrue(a.has(ev))
        self.assertTrue(a.has(record_id(raw)), "show finds a record by its id")
        self.assertFalse(a.has(bad_id), "the tampered record is not stored")
        self.assertFalse(b.has(bad_id), "the tampered record is not relayed")
        self.assertEqual(shown(b, ev)["content"]["title"], "Original title")
        p.close()
        sa.stop()
        sb.stop()

    def test_group_outside_the_scope_is_not_stored(self):
        a = Home(self, "a")
        a.init("Alpha")
        g, ev, raw = self.source()
        u = Home(self, "u")
        u.init("Unrelated")
        eu = add_event(u, "Not for Alpha")
        v = Home(self, "v")
        v.init("Volunteers")
        v.line("ally", "add", a.key)
        ev_v = add_event(v, "Not for Alpha either")
        a.ok("follow", g.key)
        sa = a.serve(self.net)

        p = self.connect(sa, g)
        p.handshake()
        p.hello([group_bytes(g)])
        # G's own record, U's (no link to A) and V's: its proposal naming A
        # comes after its profile in the batch, which is still accepted.
        batch = [self.raw_of(u, u.key + "/profile"), self.raw_of(u, eu), raw,
                 self.raw_of(v, v.key + "/profile"),
                 self.raw_of(v, v.key + "/alliance/" + group_bytes(a).hex()),
                 self.raw_of(v, ev_v)]
        p.push(batch)
        self.assertTrue(a.has(ev), "G is followed: stored")
        self.assertFalse(a.has(eu), "U is outside the scope: not stored")
        self.assertFalse(a.has(u.key + "/profile"))
        self.assertFalse(a.has(ev_v), "V's event is outside the scope")
        lst = a.json("ally", "list", "--json")
        self.assertEqual([(x["group"], x["state"], x["name"]) for x in lst],
                         [(v.key, "proposed-to-us", "Volunteers")],
                         "an alliance naming us and its author's profile are kept")
        # Out-of-scope records are not invalid: the peer stays connected.
        p.push([raw])
        p.close()
        sa.stop()

    def test_peer_sending_invalid_records_is_dropped_and_banned(self):
        a = Home(self, "a")
        a.init("Alpha")
        g, ev, raw = self.source()
        a.ok("follow", g.key)
        sa = a.serve(self.net)
        bad = [raw.replace(b"Original", b"Tamper%02d" % i) for i in range(17)]
        self.assertEqual(len({record_id(r) for r in bad}), 17)

        p = self.connect(sa, g)
        p.handshake()
        p.hello([group_bytes(g)])
        p.push(bad[:16])  # the limit is 16: acknowledged, still connected
        p.push([raw])
        self.assertTrue(a.has(ev))
        p.send(["recs", 0, bad[16:]])
        self.assertTrue(p.wait_closed(10), "the node drops a peer past 16 invalid records")
        sa.wait_log(r"banned 127\.0\.0\.1", 5)
        for r in bad:
            self.assertFalse(a.has(record_id(r)))

        # Banned: a new connection from the same address gets no handshake.
        q = self.connect(sa, g)
        with self.assertRaises((noisepeer.Closed, ConnectionError)):
            q.handshake()
        sa.stop()

    def test_too_many_records_in_one_message_closes_the_connection(self):
        a = Home(self, "a")
        a.init("Alpha")
        g, ev, raw = self.source()
        a.ok("follow", g.key)
        sa = a.serve(self.net)
        p = self.connect(sa, g)
        p.handshake()
        p.hello([group_bytes(g)])
        p.push([raw] * 64)  # the limit: processed (as duplicates after the first)
        self.assertTrue(a.has(ev))
        p.send(["recs", 1, [raw] * 65])
        self.assertTrue(p.wait_closed(10), "65 records in one message close it")
        sa.stop()


if __name__ == "__main__":
    musterlib.main()
