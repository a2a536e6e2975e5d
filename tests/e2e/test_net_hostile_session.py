#!/usr/bin/python3
"""Hostile peers with a valid session, against a real `muster serve` (A)
that must keep serving honest peers meanwhile (hostile.py): records with bad
signatures, non-canonical records, records of groups outside the scope, a
flood of duplicates, truncated reconciliation messages. Invalid records are
never stored on A nor relayed to B, which would get A's valid records of the
same group. A's peak RSS stays under hostile.RSS_BOUND_MIB. Peers that make
A queue are in test_net_hostile_queues.py."""

import os
import struct

import msgpack

import hostile
import musterlib
import noisepeer
from hostile import wait_closed
from musterlib import Home

MARGIN = 8
MAX_INVALID = 16  # limits.max_invalid


def tearDownModule():
    musterlib.check_no_secrets()


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


class Session(hostile.Attack):
    def push_invalid(self, batches):
        """One session pushes the batches (at most MAX_INVALID records in
        all, so that it is not banned), each acknowledged."""
        with self.session() as p:
            for batch in batches:
                p.push(batch)

    def check_invalid(self, label, bad, rule):
        """bad records are refused (the log names rule), never stored or
        relayed, while honest peers are served."""
        per_session = [bad[i:i + MAX_INVALID] for i in range(0, len(bad), MAX_INVALID)]

        def attack():
            for chunk in per_session:
                # Both paths: a small batch is checked on the loop, a large
                # one (more than 8 records) on the thread pool.
                self.push_invalid([chunk[:4], chunk[4:]])

        self.run_attack(label, attack)
        self.assertRegex(self.sa.log(), r"invalid record refused: .*%s" % rule)
        self.relayed(self.fresh("Valid after %s" % label))
        self.never_stored(bad)

    def test_records_with_bad_signatures(self):
        bad = []
        for i in range(16):
            raw = self.fresh("Bad signature")
            flip = len(raw) - 1 - i  # in the signature, the last 64 bytes
            bad.append(raw[:flip] + bytes([raw[flip] ^ 0x01]) + raw[flip + 1:])
        for i in range(16):  # a changed body: the signature is for another id
            bad.append(self.fresh("Tampered").replace(b"Tampered", b"Tampere%c" % (65 + i)))
        self.check_invalid("records with bad signatures", bad, "signature")

    def non_canonical(self):
        """Records of G, each signed over a body that breaks one rule of
        PROTOCOL.md 2.2 (the signature itself is valid)."""
        seed, out = self.g_seed, []
        for n in range(4):
            f = noisepeer.body_fields(self.fresh("Non-canonical"))
            items = [pack(x) for x in f]
            cr = items[4]
            self.assertEqual(cr[0], 0xCE, "created_at is a uint32")
            # 1. created_at as a uint64 where a uint32 fits.
            wide = b"\xcf" + struct.pack(">Q", f[4])
            out.append(b"\x98" + b"".join(items[:4]) + wide + b"".join(items[5:]))
            # 2. content keys out of order.
            rev = dict(reversed(list(f[7].items())))
            out.append(b"\x98" + b"".join(items[:7]) + pack(rev))
            # 3. a short string in str8 form.
            d = f[5].encode()
            out.append(b"\x98" + b"".join(items[:5]) + b"\xd9" + bytes([len(d)]) + d +
                       b"".join(items[6:]))
            # 4. a byte after the body's value.
            out.append(pack(f) + b"\x00")
            # 5. an array16 where a fixarray fits.
            out.append(b"\xdc\x00\x08" + b"".join(items))
            # 6. a nil where a field is optional.
            c = dict(f[7])
            c["url"] = None
            out.append(b"\x98" + b"".join(items[:7]) + pack(dict(sorted(c.items()))))
        recs = [noisepeer.sign_body(seed, body) for body in out]
        # 7. the record itself: the signature, or the body, in a longer form.
        for _ in range(4):
            body, sig = msgpack.unpackb(self.fresh("Non-canonical"), raw=True)
            self.assertLess(len(body), 256)
            recs.append(b"\x92" + pack(body) + b"\xc5\x00\x40" + sig)
            recs.append(b"\x92\xc5" + struct.pack(">H", len(body)) + body + pack(sig))
        return recs

    def test_non_canonical_records(self):
        self.check_invalid("non-canonical records", self.non_canonical(), "canonical")

    def test_records_of_groups_outside_the_scope(self):
        u = Home(self, "u")
        u.init("Unrelated")
        useed = u.secret()
        template = self.raw_of(u, musterlib.add_event(u, "Not for Alpha"))
        outside = [noisepeer.variant(useed, template, "%016x" % (i + 1), "Outside %d" % i)
                   for i in range(64)]

        def attack():
            # Not invalid: never banned, however many.
            with self.session() as p:
                for _ in range(10):
                    p.push(outside)

        self.run_attack("records outside the scope", attack)
        self.never_stored(outside)
        self.assertNotIn("banned", self.sa.log())

    def test_flood_of_duplicates(self):
        dup = self.fresh("Duplicate")
        self.relayed(dup)

        def attack():
            with self.session() as p:
                for _ in range(150):
                    p.push([dup] * 64, wait_ack=False)
                p.push([dup] * 64, timeout=60)  # all of them were handled

        self.run_attack("a flood of duplicates", attack)
        self.assertNotIn("banned", self.sa.log())
        self.assertEqual(len([r for r in musterlib.export_records(self, self.a)
                              if r == dup]), 1)

    def test_truncated_reconciliation_messages(self):
        # A negentropy v1 message (PROTOCOL.md 10.4): version 0x61, then
        # ranges: an upper bound (timestamp varint, 0 for infinity; id prefix
        # length; prefix), a mode (1 fingerprint, 2 id list), its payload.
        idlist = b"\x61\x00\x00\x02\x01" + os.urandom(32)
        fingerprint = b"\x61\x00\x00\x01" + os.urandom(16)
        bad_neg = [idlist[:k] for k in (2, 3, 4, 5, 20)]
        bad_neg += [fingerprint[:k] for k in (4, 10)]
        bad_neg += [b"\x61\x00\x00\x02\xff\xff\xff\xff\x0f",  # 2^32-1 ids, none there
                    b"\x61\x00\x00\x07",                    # an unknown mode
                    b"\x61\x00\x21" + b"\x00" * 8,          # a prefix longer than an id
                    b"", b"\x10"]
        good = pack(["neg-open", idlist])
        messages = [pack(["neg-open", n]) for n in bad_neg]
        messages += [good[:k] for k in (1, 5, 10, len(good) - 1)]  # cut msgpack
        messages += [pack(["neg", idlist])]  # a neg without neg-open

        def one(msg):
            p = self.session()
            p.send_frame(p.tx.encrypt(b"", msg))
            took = wait_closed(p.sock, MARGIN)
            p.close()
            self.assertIsNotNone(took, "A kept a session after %r" % msg)

        def attack():
            for msg in messages:
                one(msg)

        self.run_attack("truncated reconciliation messages", attack)
        # A valid one is answered, so the above were refused for what they are.
        with self.session() as p:
            p.send(["neg-open", idlist])
            # Records A pushes (PROTOCOL.md 10.4) come before its answer.
            msg = p.recv()
            while msg[0] == "recs":
                msg = p.recv()
            self.assertEqual(msg[0], "neg")


if __name__ == "__main__":
    musterlib.main()
