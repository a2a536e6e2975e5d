#!/usr/bin/python3
"""A responder forgets a reconciliation that has gone idle (node/sync.c,
mu_sync_tick), and the initiator's next neg then goes on afresh, answered
from the responder's set as any neg is: a dialer that is slow between its
messages (a slow link such as Tor, a busy Raspberry Pi, its queues full of
what it learnt) is not cut off halfway. Real processes on 127.0.0.1; the
slow link is a proxy that delays what the responder sends by longer than
it keeps an idle run."""

import os
import queue
import socket
import subprocess
import threading
import time
import unittest

import musterlib
import recbuild
from musterlib import BIN, Home, status_records
from test_independence import key_text

GEN = os.path.join(os.path.dirname(BIN), "tests", "bench", "gen_records")
# Enough on each side, interleaved in time, that a range splits before it
# is listed: a reconciliation of two round trips, at least.
RECORDS, GROUPS = 800, 10
# A forgets a run idle for reconcile_ms / 2, looking every reconcile_ms.
FORGETFUL = {"MUSTER_LIMITS": "reconcile_ms=200"}
# A's messages reach B this much later: longer than A keeps an idle run,
# looks included.
DELAY_S = 0.4


def tearDownModule():
    musterlib.check_no_secrets()


class SlowLink:
    """Listens on 127.0.0.1 and forwards each connection to port, what
    comes back delayed by DELAY_S (in order), what goes there at once."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            t = socket.create_connection(self.target)
            later = queue.Queue()
            threading.Thread(target=self._pipe, args=(c, t, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(t, c, later), daemon=True).start()
            threading.Thread(target=self._deliver, args=(later, c), daemon=True).start()

    @staticmethod
    def _pipe(src, dst, later):
        try:
            while True:
                data = src.recv(1 << 16)
                if later is not None:
                    later.put((time.monotonic() + DELAY_S, data))
                elif data:
                    dst.sendall(data)
                if not data:
                    break
        except OSError:
            pass
        if later is None:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    @staticmethod
    def _deliver(later, dst):
        try:
            while True:
                due, data = later.get()
                time.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
        except OSError:
            pass

    def close(self):
        self.lsock.close()


class NegIdle(unittest.TestCase):
    def events(self, home, first, keys=None):
        """RECORDS events of the dataset's GROUPS groups, stream records
        first.., over the last day: a stream file."""
        out = os.path.join(home.tmp, "events-%d.muster" % first)
        args = [GEN, "--events-only", "--records", str(RECORDS), "--groups",
                str(GROUPS), "--first", str(first), "--base", str(int(time.time())),
                "--span", "86400"]
        if keys is not None:
            args += ["--keys", keys]
        subprocess.run(args + [out], check=True, stdout=subprocess.DEVNULL)
        return out

    def test_slow_initiator_is_answered(self):
        net = musterlib.network_name()
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Forgetful")
        b.init("Slow")
        keys = os.path.join(a.tmp, "keys")
        # Each holds events the other lacks, interleaved in time.
        mine = self.events(a, 0, keys)
        theirs = self.events(b, RECORDS)
        with open(keys) as f:
            groups = [key_text(recbuild.group_of(bytes.fromhex(l.strip())))
                      for l in f if l.strip()]
        for h, path in ((a, mine), (b, theirs)):
            h.ok("follow", *groups)
            self.assertEqual(h.import_file(path)["rejected"], 0)
        held_a, held_b = status_records(a), status_records(b)
        sa = a.serve(net, env=FORGETFUL)
        link = SlowLink(int(sa.addr.rsplit(":", 1)[1]))
        self.addCleanup(link.close)

        res = b.run("sync", "--network", net, "127.0.0.1:%d" % link.port, a.key,
                    timeout=120 * musterlib.SLOWDOWN)
        self.assertEqual(res.rc, 0, res.err[-2000:])
        self.assertIn("went idle and was forgotten", sa.log(),
                      "A never forgot B's run, so nothing was tested: %s"
                      % res.err.strip()[-300:])
        # Each now holds the other's events too (not its own records).
        self.assertEqual(status_records(b), held_a + held_b - 2)
        musterlib.wait_until(lambda: status_records(a) == held_a + held_b - 2,
                             30 * musterlib.SLOWDOWN, "A holding B's events")


if __name__ == "__main__":
    unittest.main()
