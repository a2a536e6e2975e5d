#!/usr/bin/python3
"""A full store: `muster serve` is pushed far more records than fit, once
with a small LMDB map (MUSTER_MAP_SIZE) and once with its files limited in
size (ulimit -f, which fails writes as a full disk does, without needing
root to mount a small file system). Writes fail with one clear log line for
the whole condition (not one per message), the node keeps answering and an
honest peer still syncs every stored record from it, nothing stored is
damaged (`muster check`), and with room again it takes records again."""

import os
import re
import resource
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


if __name__ == "__main__":
    musterlib.main()
