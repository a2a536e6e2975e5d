#!/usr/bin/python3
"""SIGKILL while ingesting: `muster serve` is killed at random moments while
a peer pushes it a large sync, over and over, on the same store. A Python
peer (noisepeer.py, via recbuild.Pusher) keeps several acknowledged recs
messages in flight and notes each ack, so "acknowledged" is exact: the node
acks a message only after the transaction holding its records committed.
After every kill the store must open, `muster check` must find nothing
wrong (no index entry without its record), every record acknowledged before
the kill must be there, and the next sync must complete. At the end a real
`muster sync` from the records' own group completes against the store.

SIGKILL keeps what the kernel already has (the page cache); a power cut
also loses that, and only LMDB's fsync at commit covers it (README.md)."""

import os
import random
import threading
import time
import unittest

import musterlib
import noisepeer
import recbuild
from musterlib import Home, wait_until

KILLS = 20        # kills that land while the node ingests
MAX_ROUNDS = 40   # a push may finish before its kill: that round does not count
PER_ROUND = 1200  # records each round pushes


def tearDownModule():
    musterlib.check_no_secrets()


class CrashKill(unittest.TestCase):
    def push_in_thread(self, server, seed, scope, records):
        pusher = recbuild.Pusher(server.port, server.network, seed, scope)
        self.addCleanup(pusher.close)
        state = {"done": False, "error": None}

        def run():
            try:
                pusher.push(records)
                state["done"] = True
            except (noisepeer.Closed, OSError) as e:
                state["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return pusher, t, state

    def test_sigkill_while_ingesting(self):
        net = musterlib.network_name()
        a, g = Home(self, "a"), Home(self, "g")
        a.init("Target")
        g.init("Source")
        a.ok("follow", g.key)
        seed, gpk = g.secret(), recbuild.group_of(g.secret())
        pool = recbuild.causes(seed, MAX_ROUNDS * PER_ROUND)
        rng_seed = int.from_bytes(os.urandom(4), "big")
        rng = random.Random(rng_seed)
        print("random seed %d" % rng_seed)
        server = a.serve(net)
        acked = set()
        mid_ingest = rounds = 0
        for r in range(MAX_ROUNDS):
            if mid_ingest == KILLS:
                break
            rounds += 1
            chunk = pool[r * PER_ROUND:(r + 1) * PER_ROUND]
            pusher, t, state = self.push_in_thread(server, seed, [gpk], chunk)
            # A random point of the transfer, then a random instant more.
            target = rng.randrange(0, PER_ROUND // 3)
            wait_until(lambda: len(pusher.acked) >= target or state["error"], 60,
                       "round %d: %d records acknowledged" % (r, target))
            time.sleep(rng.uniform(0, 0.02))
            server.kill()
            t.join(30)
            self.assertFalse(t.is_alive(), "the pusher noticed the kill")
            if not state["done"]:
                mid_ingest += 1
            acked |= pusher.acked
            pusher.close()

            # The store opens and is sound.
            res = a.run("check")
            self.assertEqual(res.rc, 0, "round %d: muster check after SIGKILL: %r"
                             % (r, res))
            stored = recbuild.stored_ids(self, a)
            lost = acked - stored
            self.assertFalse(lost, "round %d: %d acknowledged records lost"
                             % (r, len(lost)))

            # The next sync completes, on the same store.
            server.start()
            again, t2, state2 = self.push_in_thread(server, seed, [gpk], chunk)
            t2.join(120)
            self.assertTrue(state2["done"], "round %d: the sync after the restart "
                            "did not complete: %r" % (r, state2["error"]))
            self.assertEqual(len(again.acked), len(chunk))
            again.close()
            acked |= again.acked
        self.assertEqual(mid_ingest, KILLS, "%d of %d rounds killed the node while it "
                         "was ingesting" % (mid_ingest, rounds))
        pool = pool[:rounds * PER_ROUND]
        stored = recbuild.stored_ids(self, a)
        self.assertTrue({rid.hex() for rid, _raw in pool} <= stored)

        # A real node of the records' group syncs with it to the end.
        path = os.path.join(g.tmp, "pool.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(pool))
        counts = g.import_file(path)
        self.assertEqual(counts["new"], len(pool))
        res = g.run("sync", server.addr, a.key, "--network", net)
        self.assertEqual(res.rc, 0, "muster sync after the kills: %r" % res)
        mine = {musterlib.record_id(raw) for raw in musterlib.export_records(self, g)}
        self.assertTrue(mine <= recbuild.stored_ids(self, a),
                        "A holds every record of G after the sync")
        self.assertEqual(a.run("check").rc, 0)
        server.stop()


if __name__ == "__main__":
    musterlib.main()
