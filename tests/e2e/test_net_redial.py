#!/usr/bin/python3
"""Real `muster serve` processes on 127.0.0.1: a dialer whose peer restarts
dials it again soon (node/dial.c, the fast window), not a whole backoff step
later, so that what the peer holds reaches it soon after the restart."""

import time
import unittest

import musterlib
from musterlib import Home, add_event, ally, wait_until

SYNC = 30 * musterlib.SLOWDOWN
# The dialer's first redial delay, made long: before the fast window, a
# peer lost from a session was dialed again exactly this long after the
# session ended; now within a quarter of it.
DIAL_MIN_S = 8 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class Redial(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def test_peer_back_from_a_restart_is_dialed_again_soon(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        sb = b.serve(self.net)
        # Only A knows the other's address: B, back from its restart, can
        # do nothing but wait for A's dial.
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net, env={"MUSTER_LIMITS": "dial_min_ms=%d" % (DIAL_MIN_S * 1000)})
        wait_until(lambda: a.has(b.key + "/profile") and b.has(a.key + "/profile"), SYNC,
                   "the profiles exchanged")
        # A session that ends within a second of its handshake (a peer at
        # its caps) is not a restart: this one has to have lasted.
        time.sleep(1.5)

        stopped = time.monotonic()
        sb.stop()
        ev = add_event(b, "Made while B was down")
        sb.start()
        # The fast window dials every DIAL_MIN_S / 4 at first: B is back
        # after one to three of those; the old schedule waited DIAL_MIN_S.
        wait_until(lambda: a.has(ev), stopped + 0.75 * DIAL_MIN_S - time.monotonic(),
                   "B's event on A within %.1f s of B's stop" % (0.75 * DIAL_MIN_S))
        self.assertRegex(sa.log(), r"%s: dialing again in %d ms" % (sb.addr, DIAL_MIN_S * 250))
        sb.stop()
        sa.stop()


if __name__ == "__main__":
    musterlib.main()
