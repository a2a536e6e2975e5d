#!/usr/bin/python3
"""A command that stores records wakes the home's running daemon
(HOME/serve.wake, storage/README.md), which pushes them at once rather than
at its next store-log poll; a socket left by a killed daemon neither fails
nor slows a command."""

import os
import stat
import time
import unittest

import musterlib
from musterlib import Home, add_event, ally, wait_until

SYNC = 30
# Far beyond every wait below: a record that arrives came with a wake.
SLOW_POLL = {"MUSTER_LIMITS": "poll_ms=60000"}
ARRIVE = 10 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


def wake_path(home):
    return os.path.join(home.path, "serve.wake")


class Wake(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def pair(self, a, b):
        """A and B allied, both serving with the slow poll, A dialing B,
        their first reconciliation done."""
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        sb = b.serve(self.net, env=SLOW_POLL)
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net, env=SLOW_POLL)
        wait_until(lambda: b.has(a.key + "/profile") and a.has(b.key + "/profile"), SYNC,
                   "the profiles exchanged")
        return sa, sb

    def reaches(self, a, b, title):
        ev = add_event(a, title)
        wait_until(lambda: b.has(ev), ARRIVE,
                   "%r on B without a store-log poll of A" % title, interval=0.02)

    def test_command_wakes_the_daemon(self):
        a, b = Home(self, "a"), Home(self, "b")
        sa, sb = self.pair(a, b)
        for i in range(3):
            self.reaches(a, b, "Woken %d" % i)
        st = os.lstat(wake_path(a))
        self.assertTrue(stat.S_ISSOCK(st.st_mode), oct(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        sa.stop()
        self.assertFalse(os.path.lexists(wake_path(a)), "serve.wake left after a stop")
        sb.stop()

    def test_killed_daemons_socket(self):
        a, b = Home(self, "a"), Home(self, "b")
        sa, sb = self.pair(a, b)
        sa.kill()
        self.assertTrue(os.path.lexists(wake_path(a)), "a killed daemon leaves serve.wake")
        t0 = time.monotonic()
        res = a.run("event", "add", "--title", "Nobody listening", "--start",
                    "%d-07-01T18:00Z" % musterlib.future_year())
        took = time.monotonic() - t0
        self.assertEqual(res.rc, 0, repr(res))
        # Only the event's summary, as always.
        self.assertEqual(len(res.err.splitlines()), 1, repr(res))
        self.assertNotRegex(res.err, "(?i)cannot|wake|refused", repr(res))
        # A command run takes a few ms; a wait on the socket would be seconds.
        self.assertLess(took, 5 * musterlib.SLOWDOWN, "event add took %.2f s" % took)
        # The next daemon replaces the stale socket and is woken through it,
        # once its session with B is up (the event above comes with it).
        stale = res.out.strip()
        sa.start()
        wait_until(lambda: b.has(stale), SYNC, "the event stored while A was down")
        self.reaches(a, b, "After the restart")
        sa.stop()
        sb.stop()

    def test_home_path_longer_than_a_socket_address(self):
        # sun_path holds 107 bytes: such a home is named through its
        # directory's descriptor.
        a, b = Home(self, "a"), Home(self, "b")
        a.path = os.path.join(a.tmp, "d" * 60, "e" * 60, "home")
        os.makedirs(os.path.dirname(a.path))
        self.assertGreater(len(wake_path(a)), 108)
        sa, sb = self.pair(a, b)
        self.reaches(a, b, "From a deep home")
        sa.stop()
        self.assertFalse(os.path.lexists(wake_path(a)), "serve.wake left after a stop")
        sb.stop()


if __name__ == "__main__":
    musterlib.main()
