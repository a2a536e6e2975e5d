#!/usr/bin/python3
"""The receiving side of a catch-up (node/commit.c, node/verify.c): a new
node syncing thousands of records from a real `muster serve`.

- Its first commit does not wait for a full bulk commit's 4,096 records: the
  first records are stored (and so acknowledged: an ack follows the commit)
  after a few hundred, and the commits then grow while the transfer goes on.
- A catch-up that takes longer than the dialer's limit for an unanswered
  reconciliation (two reconcile periods, shortened here with
  MUSTER_TEST_RECONCILE_MS) completes: the records pushed in answer show
  that the peer is answering.
- A daemon catching up sends none of what it received back to its sender:
  the records of a commit are in the store log before the commit's end
  pushes them on knowing whom they came from, and the log's poll in between
  would send them whole to every peer."""

import os
import re
import unittest

import musterlib
import recbuild
from musterlib import Home, peers, status_records, wait_until

RECORDS = 12000
FIRST = 256          # SYNC_COMMIT_FIRST (node/sync.h)
BULK = 4096          # SYNC_COMMIT_RECS
# What may join a commit before its timer runs: the peer's batches being
# verified (SYNC_BATCHES_MAX of 64 records) and the one that reached the goal.
SLACK = 17 * 64
STORED = re.compile(r"stored (\d+) new records of (\d+)")


def tearDownModule():
    musterlib.check_no_secrets()


class Catchup(unittest.TestCase):
    def source_home(self):
        """A home holding RECORDS causes of its own group."""
        g = Home(self, "g")
        g.init("Source")
        path = os.path.join(g.tmp, "records.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(recbuild.causes(g.secret(), RECORDS)))
        g.import_file(path)
        return g

    def source(self):
        """source_home(), served."""
        g = self.source_home()
        return g, g.serve(musterlib.network_name())

    def test_first_records_stored_before_a_bulk_commit(self):
        g, server = self.source()
        a = Home(self, "a")
        a.init("Newcomer")
        a.ok("follow", g.key)
        res = a.run("sync", server.addr, g.key, "--network", server.network,
                    "--log-level", "debug", timeout=300)
        self.assertEqual(res.rc, 0, res)
        commits = [(int(n), int(m)) for n, m in STORED.findall(res.err)]
        self.assertTrue(commits, "no commit logged: %r" % res)
        # The causes and the source's own records (its profile...).
        self.assertEqual(sum(n for n, _ in commits), status_records(g), commits)
        first = commits[0][1]
        print("commits of %s records" % [m for _, m in commits])
        self.assertLessEqual(first, FIRST + SLACK,
                             "the first commit waited for %d records: %s"
                             % (first, [m for _, m in commits]))
        self.assertLess(first, BULK)
        # Big commits stay big in a bulk transfer: they grow past the first.
        self.assertGreater(max(m for _, m in commits), first + SLACK,
                           [m for _, m in commits])

    def test_catchup_longer_than_the_reconcile_limit(self):
        g, server = self.source()
        a = Home(self, "a")
        a.init("Newcomer")
        a.ok("follow", g.key)
        before = status_records(a)
        # A dialer gives up on a reconciliation unanswered for two periods:
        # 0.4 s here, far less than the transfer of the records takes.
        period = 200 * musterlib.SLOWDOWN
        res = a.run("sync", server.addr, g.key, "--network", server.network,
                    env={"MUSTER_TEST_RECONCILE_MS": str(period)}, timeout=300)
        self.assertEqual(res.rc, 0, res)
        self.assertNotIn("did not answer", res.err)
        # Its own records and every one of the source's.
        self.assertEqual(status_records(a), before + status_records(g))

    def test_daemon_sends_nothing_back(self):
        g = self.source_home()
        a = Home(self, "a")
        a.init("Newcomer")
        a.ok("follow", g.key)
        want = status_records(a) + status_records(g)
        # Polled often, so that polls meet the commits on the pool.
        limits = {"MUSTER_LIMITS": "poll_ms=20"}
        sa = a.serve(musterlib.network_name(), env=limits)
        # The source dials the newcomer and pushes it what it lacks.
        g.ok("peer", "add", sa.addr, a.key)
        sg = g.serve(sa.network, env=limits)
        wait_until(lambda: status_records(a) == want, 120 * musterlib.SLOWDOWN,
                   "the %d records caught up" % RECORDS)
        sg.stop()
        sa.stop()
        got = peers(g)[sa.addr]
        self.assertGreaterEqual(got["sent"], RECORDS)
        # Nothing of a's is for g (it follows only itself), and what a
        # received from g is not sent back.
        self.assertEqual(got["received"], 0)

if __name__ == "__main__":
    unittest.main()
