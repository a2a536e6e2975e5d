#!/usr/bin/python3
"""A full store: `muster serve` is pushed far more records than fit, once
with a small LMDB map (MUSTER_MAP_SIZE) and once with its files limited in
size (ulimit -f, which fails writes as a full disk does); and a home on a
real small file system (a tmpfs of a few MiB, mounted by the test, which
must run as root) that fills up and gets room again. Writes fail with one clear log line for
the whole condition (not one per message), the node keeps answering and an
honest peer still syncs every stored record from it, nothing stored is
damaged (`muster check`), and with room again it takes records again."""

import os
import re
import resource
import struct
import subprocess
import time
import unittest

import musterlib
import recbuild
from musterlib import Home

MAP_SIZE = 1 << 20  # 1 MiB: about two thousand of these records
FILE_LIMIT = 2 << 20  # ulimit -f of the daemon in the file test
MAP_FULL = re.compile(r" error the store is full \(map size \d+ bytes\): raise "
                      r"MUSTER_MAP_SIZE")
FILE_FULL = re.compile(r" error the store's file at \S+ reached the size limit of "
                       r"this process \(ulimit -f\)")


def tearDownModule():
    musterlib.check_no_secrets()


class StoreFull(unittest.TestCase):
    def serve_small(self, home, net):
        old = os.environ.get("MUSTER_MAP_SIZE")
        os.environ["MUSTER_MAP_SIZE"] = str(MAP_SIZE)
        try:
            return home.serve(net)
        finally:
            if old is None:
                del os.environ["MUSTER_MAP_SIZE"]
            else:
                os.environ["MUSTER_MAP_SIZE"] = old

    def serve_limited(self, home, net):
        """The daemon with its files limited to FILE_LIMIT bytes: writes past
        it fail (EFBIG, or a short write). SIGXFSZ, which the kernel sends
        then, is the daemon's to ignore (subprocess gives it the default,
        death)."""
        old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, old_limit[1]))
        try:
            return home.serve(net)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)

    def push(self, server, seed, records):
        pusher = recbuild.Pusher(server.port, server.network, seed,
                                 [recbuild.group_of(seed)])
        self.addCleanup(pusher.close)
        try:
            pusher.push(records)
        except Exception as e:
            lines = [l for l in server.log().splitlines() if "still full" not in l]
            raise AssertionError("push failed: %r; the node %s; its log:\n%s"
                                 % (e, "runs" if server.running() else
                                    "exited with %r" % server.proc.returncode,
                                    "\n".join(lines[-40:])))
        pusher.close()
        return pusher

    def fill_up(self, serve, full_line):
        """Pushes more records than fit to a node started by serve, checks
        the full condition, then restarts it with room and pushes again."""
        net = musterlib.network_name()
        a, g, b = Home(self, "a"), Home(self, "g"), Home(self, "b")
        a.init("Full")
        g.init("Source")
        b.init("Honest")
        a.ok("follow", g.key)
        b.ok("follow", g.key)
        seed = g.secret()
        pool = recbuild.causes(seed, 8000, pad=300)
        server = serve(a, net)

        # Every message is answered (refused records are acked: their
        # sender keeps them), and the store fills up.
        pusher = self.push(server, seed, pool)
        self.assertEqual(len(pusher.acked), len(pool))
        stored = recbuild.stored_ids(self, a)
        of_g = stored & {rid.hex() for rid, _raw in pool}
        self.assertGreater(len(of_g), 100)
        self.assertLess(len(of_g), len(pool), "the store filled up")
        log = server.log()
        self.assertEqual(len(full_line.findall(log)), 1,
                         "one line for the whole condition:\n%s" % log[-3000:])
        self.assertGreater(log.count("store still full"), 5,
                           "the condition lasted over many messages")

        # Still serving: pushed again, and an honest peer syncs from it.
        self.push(server, seed, pool[:640])
        res = b.run("sync", server.addr, a.key, "--network", net)
        self.assertEqual(res.rc, 0, "sync from the full node: %r" % res)
        got = {musterlib.record_id(raw) for raw in musterlib.export_records(self, b)}
        self.assertTrue(of_g <= got, "%d stored records missing at the peer"
                        % len(of_g - got))
        self.assertTrue(server.running())
        self.assertEqual(len(full_line.findall(server.log())), 1)

        # Nothing stored is damaged.
        res = a.run("check")
        self.assertEqual(res.rc, 0, "check of the full store: %r" % res)
        # Batches are refused whole: a smaller one may still fit later.
        self.assertTrue(stored <= recbuild.stored_ids(self, a), "stored records lost")
        server.stop()

        # With room again (a plain start), the rest comes in.
        server.start()
        self.push(server, seed, pool)
        self.assertTrue({rid.hex() for rid, _raw in pool} <= recbuild.stored_ids(self, a))
        self.assertEqual(a.run("check").rc, 0)
        server.stop()
        return a

    def test_map_full(self):
        self.fill_up(self.serve_small, MAP_FULL)

    def test_file_cannot_grow(self):
        a = self.fill_up(self.serve_limited, FILE_FULL)
        self.assertGreater(os.path.getsize(os.path.join(a.path, "store", "data.mdb")),
                           FILE_LIMIT, "the file grew past the limit once it was lifted")


DISK_SIZE = 16 << 20  # the tmpfs holding the home
BALLAST = 2 << 20  # a file on it, removed to free that much
BIG_PAD = 7800  # a record of about 8 KB: two of LMDB's 4 KiB pages
BIG_BATCH = 6  # such records per recs message (a frame holds 64 KiB)
DISK_FULL = re.compile(r" error the disk holding the store at \S+ is full")


def mount_tmpfs(tc, path, size):
    """Mounts a tmpfs of size bytes at path (made if missing), unmounted at
    the end of the test. Fails, never skips, where mounting is impossible:
    the tests run as root (CI, and `make test` in the dev container)."""
    os.makedirs(path, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % size,
                          "tmpfs", path], capture_output=True, text=True)
    tc.assertEqual(res.returncode, 0, "cannot mount a %d-byte tmpfs at %s (these "
                   "tests need root): %s" % (size, path, res.stderr.strip()))
    tc.addCleanup(subprocess.run, ["umount", "-l", path], capture_output=True)


def free_bytes(path):
    vfs = os.statvfs(path)
    return vfs.f_bavail * vfs.f_frsize


def fill(path, keep=0):
    """Writes the file path until its file system has keep bytes free."""
    chunk = b"\0" * 65536
    with open(path, "wb") as f:
        try:
            while True:
                left = free_bytes(os.path.dirname(path)) - keep
                if left <= 0:
                    break
                f.write(chunk[:min(len(chunk), left)])
                f.flush()
        except OSError:
            pass


def lmdb_used(path):
    """The bytes of an LMDB data file its last commit uses: (last page + 1)
    times the page size, from the newer of the two meta pages (lmdb.h's
    MDB_meta after a 16-byte page header, 64-bit layout: the page size is
    the free list's md_pad at offset 40, mm_last_pg at 136, mm_txnid at
    144)."""
    with open(path, "rb") as f:
        head = f.read(2 * 65536)
    (psize,) = struct.unpack_from("<I", head, 40)
    metas = []
    for off in (0, psize):
        last_pg, txnid = struct.unpack_from("<QQ", head, off + 136)
        metas.append((txnid, last_pg))
    return (max(metas)[1] + 1) * psize


class DiskFull(unittest.TestCase):
    def home_on_disk(self, label):
        """A home whose directory is a DISK_SIZE tmpfs, with BALLAST
        bytes of it taken by a file that the test removes to make room."""
        home = Home(self, label)
        mount_tmpfs(self, home.path, DISK_SIZE)
        home.init(label)
        ballast = os.path.join(home.path, "ballast")
        with open(ballast, "wb") as f:
            f.write(b"\0" * BALLAST)
        return home, ballast

    def data_mdb(self, home):
        return os.path.join(home.path, "store", "data.mdb")

    def assert_no_tail(self, home, when):
        """data.mdb holds no pages past the committed ones: what a failed
        write took was given back."""
        path = self.data_mdb(home)
        self.assertEqual(os.path.getsize(path), lmdb_used(path),
                         "data.mdb keeps the pages of failed writes %s" % when)

    def test_room_again_while_serving(self):
        """The disk fills up under a daemon; once 2 MiB are freed, records
        arrive again from a peer's catch-up, whose commits are far larger
        than that."""
        net = musterlib.network_name()
        a, ballast = self.home_on_disk("a")
        g = Home(self, "g")
        g.init("Source")
        a.ok("follow", g.key)
        seed = g.secret()
        pool = recbuild.causes(seed, 2400, pad=BIG_PAD)
        server = a.serve(net)

        # 19 MB offered to a disk with 14 MiB free: it fills up.
        p = recbuild.Pusher(server.port, server.network, seed,
                            [recbuild.group_of(seed)], batch=BIG_BATCH, window=128)
        self.addCleanup(p.close)
        p.push(pool)
        p.close()
        self.assertEqual(len(DISK_FULL.findall(server.log())), 1, server.log()[-3000:])
        stored = recbuild.stored_ids(self, a)
        full = len(stored)
        missing = [r for r in pool if r[0].hex() not in stored]
        self.assertGreater(len(missing), 500)
        self.assertLess(len(missing), 1024)  # what a peer sends unacked
        self.assert_no_tail(a, "on the full disk")

        # What the store left free taken too, connections come and go:
        # serve.conns cannot be written, which is said once.
        filler = os.path.join(a.path, "filler")
        fill(filler)
        for _ in range(4):
            recbuild.Pusher(server.port, server.network, seed,
                            [recbuild.group_of(seed)]).close()
        server.wait_log(r"cannot record connections for status: .*No space left")
        time.sleep(0.2)  # not a timing check: the last close's line, if any
        self.assertEqual(server.log().count(" warn cannot record connections"), 1,
                         "\n".join(l for l in server.log().splitlines()
                                   if "connections" in l or "full" in l))

        # 2 MiB freed. A peer holding them all is added: the daemon dials
        # it and reconciles, and the peer sends the missing records as a
        # catch-up does, in commits far larger than 2 MiB.
        os.unlink(ballast)
        os.unlink(filler)
        path = os.path.join(g.tmp, "pool.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(pool))
        g.import_file(path)
        sg = g.serve(net)
        a.ok("peer", "add", sg.addr, g.key)
        # 64 records of 8 KB: a quarter of what was freed.
        musterlib.wait_until(lambda: len(recbuild.stored_ids(self, a)) >= full + 64,
                             30, "records stored after 2 MiB were freed")
        self.assertIn("connections recorded for status again", server.log())
        self.assertTrue(server.running())
        server.stop()
        self.assert_no_tail(a, "after the disk filled again")
        self.assertEqual(a.run("check").rc, 0)

    def test_failed_import_gives_space_back(self):
        """An import that does not fit fails with one clear line and leaves
        data.mdb, and the disk's free space, as they were."""
        a, ballast = self.home_on_disk("a")
        g = Home(self, "g")
        g.init("Source")
        a.ok("follow", g.key)
        small = recbuild.causes(g.secret(), 2, prefix="s")
        path = os.path.join(a.tmp, "small.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(small))
        a.import_file(path)
        # 1 MiB left for 24 MB of records.
        os.unlink(ballast)
        fill(os.path.join(a.path, "filler"), keep=1 << 20)
        before = os.path.getsize(self.data_mdb(a))
        room = free_bytes(a.path)
        big = recbuild.causes(g.secret(), 3000, prefix="b", pad=BIG_PAD)
        path = os.path.join(a.tmp, "big.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(big))
        musterlib.assert_one_line_error(self, a.run("import", path), "full",
                                        "free disk space")
        self.assertEqual(os.path.getsize(self.data_mdb(a)), before)
        self.assertGreaterEqual(free_bytes(a.path), room)
        stored = recbuild.stored_ids(self, a)
        self.assertTrue({rid.hex() for rid, _ in small} <= stored)
        self.assertFalse({rid.hex() for rid, _ in big} & stored)
        self.assertEqual(a.run("check").rc, 0)


if __name__ == "__main__":
    musterlib.main()
