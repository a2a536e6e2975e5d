#!/usr/bin/python3
"""The serving side of a catch-up (node/gossip.c): a range the peer lacks
whole is pushed as it is listed, sending yields to the loop after
limits.send_turn_us and resumes from the write callbacks, and the dialer
does not give up on a reconciliation whose answer waits behind the records
pushed before it. A dialer that holds what the node it dials lacks pushes
the ranges it lacks whole the same way, rather than listing every record
in the turn that learns of them. Real processes on 127.0.0.1."""

import os
import subprocess
import time
import unittest

import musterlib
import recbuild
from musterlib import BIN, Home, status_records, throttled, wait_until
from test_independence import key_text

GEN = os.path.join(os.path.dirname(BIN), "tests", "bench", "gen_records")
RECORDS, GROUPS = 30000, 30
# Every turn of A's loop sends one message at most; the dialer gives up
# on a reconciliation after 2 * reconcile_ms without progress (1 s here),
# far less than the push of RECORDS takes.
TINY = {"MUSTER_LIMITS": "send_turn_us=1,reconcile_ms=500"}
SYNC = 240 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class SendTurn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(GEN, os.X_OK):
            raise RuntimeError("%s is missing: build the tests first" % GEN)

    def setUp(self):
        self.net = musterlib.network_name()
        self.a = Home(self, "a")
        self.a.init("Serving")
        out, keys = os.path.join(self.a.tmp, "recs.muster"), os.path.join(self.a.tmp, "keys")
        subprocess.run([GEN, "--records", str(RECORDS), "--groups", str(GROUPS), "--seed",
                        "3", "--threads", "1", "--base", str(int(time.time())),
                        "--span", "86400", "--keys", keys, out], check=True,
                       stdout=subprocess.DEVNULL)
        with open(keys) as f:
            seeds = [bytes.fromhex(l.strip()) for l in f if l.strip()]
        self.groups = [key_text(recbuild.group_of(s)) for s in seeds]
        self.a.ok("follow", *self.groups)
        self.assertEqual(self.a.import_file(out)["rejected"], 0)
        self.held = status_records(self.a)
        self.sa = self.a.serve(self.net, env=TINY)

    def follower(self, label, groups):
        h = Home(self, label)
        h.init(label)
        h.ok("follow", *groups)
        return h

    def sync(self, home, env=None):
        res = home.run("sync", "--network", self.net, self.sa.addr, self.a.key, env=env,
                       timeout=SYNC)
        self.assertEqual(res.rc, 0, res.err[-2000:])

    def test_catch_up_with_a_tiny_send_budget(self):
        b = self.follower("b", self.groups)
        self.sync(b, TINY)
        self.assertEqual(status_records(b), self.held)
        self.assertIn("pushed as it is listed", self.sa.log())

    def test_reconciliation_answered_during_a_push(self):
        b = self.follower("b", self.groups)
        c = self.follower("c", self.groups[:1])
        env = dict(os.environ, TZ="UTC", **b.env, **TINY)
        env.pop("MUSTER_HOME", None)
        push = subprocess.Popen([BIN, "--home", b.path, "sync", "--network", self.net,
                                 self.sa.addr, self.a.key], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: push.poll() is None and push.kill())
        wait_until(lambda: "pushed as it is listed" in self.sa.log(), 30 * musterlib.SLOWDOWN,
                   "A pushing B's catch-up")
        # Another peer, one group: its whole session (hello, reconciliation,
        # records, acks) goes on beside the push to B, on the same budget.
        # B reads slowly meanwhile, so that the push lasts past it.
        with throttled(push):
            self.sync(c)
            self.assertIsNone(push.poll(), "B's catch-up ended before C's sync: "
                              "nothing overlapped; make RECORDS larger")
        self.assertGreater(status_records(c), 1)
        _, err = push.communicate(timeout=SYNC)
        self.assertEqual(push.returncode, 0, err.decode(errors="replace")[-2000:])
        self.assertEqual(status_records(b), self.held)

    def test_dialer_pushes_ranges_as_listed(self):
        # B, empty, serves; A, which holds every record, learns B's address
        # and dials it: the initiator of the reconciliation has the records.
        b = self.follower("b", self.groups)
        sb = b.serve(self.net, env=TINY)
        self.a.ok("peer", "add", sb.addr, b.key)
        wait_until(lambda: status_records(b) >= self.held, SYNC, "B holding A's records")
        self.assertIn("pushed as it is listed", self.sa.log())


if __name__ == "__main__":
    unittest.main()
