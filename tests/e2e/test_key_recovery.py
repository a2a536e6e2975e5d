#!/usr/bin/python3
"""The group key backed up and brought back: `muster key split` into 2-of-3
shares, `muster key join` with each pair, every wrong share named; a home
rebuilt from its saved key file alone, and one from shares, getting the
group's records back from a peer running `muster serve`; and the home that
holds only its group.key, which says how to rebuild it."""

import hashlib
import os
import shutil
import unittest

import msgpack

import musterlib
import recbuild
from musterlib import Home, add_event, ally, assert_one_line_error, wait_until
from test_independence import (BECH32M_CONST, CHARSET, bech32_hrp_expand,
                               bech32_polymod, bech32m_encode, convertbits)

SYNC = 30 * musterlib.SLOWDOWN  # seconds any propagation may take here
SHARE_LEN = 134


def tearDownModule():
    musterlib.check_no_secrets()


def share_file_text(path):
    """The share line of a file that `key split --out` wrote."""
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    assert len(lines) == 1, lines
    return lines[0]


def own_ids(tc, home, seed):
    """The ids (hex) of the records of the group with that seed that a home
    stores (PROTOCOL.md 2.1: the body's third field is the group)."""
    group = recbuild.group_of(seed)
    out = set()
    for raw in musterlib.export_records(tc, home):
        body = msgpack.unpackb(msgpack.unpackb(raw, raw=True)[0], raw=True)
        if body[2] == group:
            out.add(musterlib.record_id(raw))
    return out


class Shares(unittest.TestCase):
    def setUp(self):
        self.a = Home(self, "a")
        self.a.init("Alpha Collective")

    def split(self, *extra):
        out = self.a.ok("key", "split", "--shares", "3", "--need", "2", *extra)
        return out.split()

    def test_any_two_of_three(self):
        shares = self.split()
        self.assertEqual(len(shares), 3)
        for s in shares:
            self.assertTrue(s.startswith("mushare1"), s)
            self.assertEqual(len(s), SHARE_LEN, s)
        self.assertEqual(len(set(shares)), 3)
        for i in range(3):
            for j in range(3):
                if i != j:
                    res = musterlib.run(["key", "join", shares[i], shares[j]])
                    self.assertEqual(res.rc, 0, res)
                    self.assertEqual(res.out, self.a.key + "\n")
        # All three agree too; one alone is not enough.
        self.assertEqual(musterlib.run(["key", "join"] + shares).out, self.a.key + "\n")
        assert_one_line_error(self, musterlib.run(["key", "join", shares[1]]),
                              "1 share given", "needs 2", "give 1 more")

    def test_files_and_saved_key(self):
        out = os.path.join(self.a.tmp, "shares")
        paths = self.split("--out", out)
        self.assertEqual(paths, [os.path.join(out, "share-%d.txt" % i) for i in (1, 2, 3)])
        for p in paths:
            self.assertEqual(os.stat(p).st_mode & 0o777, 0o600, p)
            with open(p) as f:
                self.assertIn(self.a.key, f.read())
        # Never over an existing share.
        assert_one_line_error(self, self.a.run("key", "split", "--shares", "3", "--need",
                                               "2", "--out", out),
                              "share-1.txt", "exists")
        # A file and a text mixed; the key saved as a home's key file.
        key = os.path.join(self.a.tmp, "saved.key")
        res = musterlib.run(["key", "join", paths[2], share_file_text(paths[0]),
                             "--out", key])
        self.assertEqual(res.out, self.a.key + "\n", res)
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        with open(key, "rb") as f:
            self.assertEqual(f.read(), self.a.secret())
        assert_one_line_error(self, musterlib.run(["key", "join", paths[0], paths[1],
                                                   "--out", key]),
                              "exists", "never replaced")

    def test_root_key_offline_splits_with_root_key(self):
        root = os.path.join(self.a.tmp, "root.key")
        self.a.ok("key", "offline", root)
        self.a.fail("key", "split", "--shares", "3", "--need", "2",
                    parts=("no root key", "--root-key FILE"))
        shares = self.split("--root-key", root)
        res = musterlib.run(["key", "join", shares[0], shares[2]])
        self.assertEqual(res.out, self.a.key + "\n", res)

    def test_mistyped_share_is_named(self):
        shares = self.split()
        s = shares[1]
        # One character changed, in the middle: the share is named by its
        # place on the command line and the end of its text.
        i = 60
        typo = s[:i] + ("q" if s[i] != "q" else "p") + s[i + 1:]
        line = assert_one_line_error(self, musterlib.run(["key", "join", shares[0], typo]),
                                     "share 2", "is mistyped")
        self.assertIn("mushare1…" + typo[-6:], line)
        self.assertNotIn(self.a.key, line)
        # Cut short, and a group key where a share belongs.
        assert_one_line_error(self, musterlib.run(["key", "join", s[:100], shares[0]]),
                              "share 1", "mistyped", "cut short")
        assert_one_line_error(self, musterlib.run(["key", "join", shares[0], self.a.key]),
                              "share 2", "is a group key")
        # A mistyped start, and a file that is not there.
        assert_one_line_error(self, musterlib.run(["key", "join", shares[0], "x" + s[1:]]),
                              "share 2", "not a key share", "mushare1")
        assert_one_line_error(self, musterlib.run(["key", "join", shares[0],
                                                   os.path.join(self.a.tmp, "gone.txt")]),
                              "gone.txt", "mushare1")
        # The same share twice is not two shares.
        assert_one_line_error(self, musterlib.run(["key", "join", s, s]),
                              "share 2", "is share 1", "again")

    def test_share_of_another_split_or_group(self):
        first = self.split()
        second = self.split()
        assert_one_line_error(self, musterlib.run(["key", "join", first[0], second[1]]),
                              "share 2", "belongs to another split", "share 1")
        b = Home(self, "b")
        b.init("Beta")
        other = b.ok("key", "split", "--shares", "2", "--need", "2").split()
        line = assert_one_line_error(self, musterlib.run(["key", "join", first[0], other[1]]),
                                     "share 2", "another group")
        self.assertIn(b.key, line)

    def test_wrong_share_that_reads_well(self):
        # A share whose value is wrong but whose text is well formed (built
        # here with its checksum and check redone) gives a key that is not
        # the group's: refused, never turned into a wrong key.
        shares = self.split()
        bad = forge(shares[2])
        assert_one_line_error(self, musterlib.run(["key", "join", shares[0], bad]),
                              "not group " + self.a.key, "one of them is wrong")
        # With one more share than needed, the wrong one is named.
        assert_one_line_error(self, musterlib.run(["key", "join", shares[0], shares[1], bad]),
                              "share 3", "is wrong", "does not fit")

    def test_split_needs_sane_numbers(self):
        for args, part in ((["--shares", "3"], "--need"),
                           (["--shares", "3", "--need", "4"], "from 2 to 3"),
                           (["--shares", "1", "--need", "1"], "from 2 to 255"),
                           (["--shares", "300", "--need", "2"], "from 2 to 255")):
            res = self.a.run("key", "split", *args)
            self.assertEqual(res.rc, 2, res)
            assert_one_line_error(self, res, part)


# ---- a share rebuilt by hand, from docs/PROTOCOL.md "Key shares" ----------

def forge(share):
    """The share with one bit of its value flipped and its check and
    checksum made right again, with the bech32m of test_independence (a
    share is longer than its decoder's 90 characters: decoded here)."""
    hrp, _, data = share.rpartition("1")
    values = [CHARSET.index(c) for c in data]
    self_check = bech32_polymod(bech32_hrp_expand(hrp) + values)
    assert hrp == "mushare" and self_check == BECH32M_CONST, share
    b = bytes(convertbits(values[:-6], 5, 8, False))
    assert len(b) == 75, len(b)
    body = bytearray(b[:71])
    body[39] ^= 1  # the first byte of y
    check = hashlib.blake2b(bytes(body), digest_size=32).digest()[:4]
    return bech32m_encode(hrp, bytes(body) + check)


class Rebuild(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_rebuilt_homes_get_records_back(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha Collective")
        b.init("Beta Union")
        ally(a, b)
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net)
        ev = add_event(a, "Assembly")
        a.line("cause", "add", "--title", "Rent freeze")
        a.line("event", "edit", ev, "--title", "Assembly, new room")
        want = own_ids(self, a, a.secret())
        self.assertGreaterEqual(len(want), 4)  # profile, alliance, event, cause
        wait_until(lambda: own_ids(self, b, a.secret()) >= want, SYNC,
                   "A's records on B")
        sa.stop()

        # The laptop is gone: what is left is the key file, and shares.
        saved = os.path.join(a.tmp, "saved-group.key")
        shutil.copy(a.key_file, saved)
        shares = a.ok("key", "split", "--shares", "3", "--need", "2").split()

        for label, args in (("from-key", ["--restore-key", saved]),
                            ("from-shares", ["--shares", shares[2], shares[0]])):
            with self.subTest(label):
                r = Home(self, label)
                res = r.run("init", *args)
                self.assertEqual(res.rc, 0, res)
                self.assertEqual(res.out, a.key + "\n")
                self.assertEqual(r.secret(), a.secret())
                self.assertEqual(os.stat(r.key_file).st_mode & 0o777, 0o600)
                # Nothing published: no profile of its own to replace the
                # group's on its peers.
                self.assertEqual(own_ids(self, r, a.secret()), set())
                # Everything of the group's that B keeps: A's records, and
                # what the home rebuilt before this one added.
                want = own_ids(self, b, a.secret())
                res = r.run("sync", sb.addr, b.key, "--network", self.net)
                self.assertEqual(res.rc, 0, res)
                self.assertEqual(own_ids(self, r, a.secret()), want)
                self.assertEqual(musterlib.event_titles(r)[ev], "Assembly, new room")
                self.assertIn("Alpha Collective", r.ok("status"))
                r.ok("check")
                # A rebuilt home publishes for the group again, and its peer
                # takes the new record.
                ev2 = add_event(r, "After the rebuild (%s)" % label, day="06-02")
                res = r.run("sync", sb.addr, b.key, "--network", self.net)
                self.assertEqual(res.rc, 0, res)
                self.assertTrue(b.has(ev2))
        sb.stop()

    def test_key_only_home(self):
        a = Home(self, "a")
        a.init("Alpha")
        ev = add_event(a, "Kept")
        k = Home(self, "k")
        os.makedirs(k.path, mode=0o700)
        shutil.copy(a.key_file, k.key_file)
        os.chmod(k.key_file, 0o600)
        fix = "muster init --restore-key %s" % k.key_file
        for cmd in (["init"], ["status"], ["event", "list"], ["serve"]):
            line = k.fail(*cmd, parts=("holds a group key but no store", fix))
            self.assertNotIn("already exists", line)
        # What the message says works, in place, and keeps the key file.
        self.assertEqual(k.line("init", "--restore-key", k.key_file), a.key)
        self.assertEqual(k.secret(), a.secret())
        self.assertIn(a.key, k.ok("status"))
        self.assertFalse(k.has(ev))
        # Once there is a store, no restore touches the home again.
        k.fail("init", "--restore-key", k.key_file, parts=("store already",))
        k.fail("init", parts=("already exists",))

    def test_restore_refusals(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        # Into a home of another group: its key is never replaced.
        k = Home(self, "k")
        os.makedirs(k.path, mode=0o700)
        shutil.copy(b.key_file, k.key_file)
        os.chmod(k.key_file, 0o600)
        k.fail("init", "--restore-key", a.key_file, parts=("holds another group key",))
        self.assertEqual(k.secret(), b.secret())
        # Not a key file; no such file; both ways at once; a name.
        r = Home(self, "r")
        shares = a.ok("key", "split", "--shares", "2", "--need", "2").split()
        sfile = os.path.join(r.tmp, "share.txt")
        with open(sfile, "w") as f:
            f.write(shares[0] + "\n")
        r.fail("init", "--restore-key", sfile, parts=("not 32", "--shares"))
        r.fail("init", "--restore-key", os.path.join(r.tmp, "nope"), parts=("nope",))
        r.fail("init", "--restore-key", a.key_file, "--shares", shares[0],
               parts=("not both",))
        r.fail("init", "--restore-key", a.key_file, "--name", "X", parts=("--name",))
        r.fail("init", "--shares", shares[0], parts=("needs 2",))
        res = r.run("init", shares[0])
        self.assertEqual(res.rc, 2, res)
        assert_one_line_error(self, res, "takes no arguments", "--shares")
        self.assertFalse(os.path.exists(r.key_file))


if __name__ == "__main__":
    musterlib.main()
