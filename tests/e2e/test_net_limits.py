#!/usr/bin/python3
"""Limits before authentication, against a real `muster serve`: the
handshake deadline, the cap on connections in the handshake from one
address (past it the oldest is evicted), and handshake messages longer
than allowed."""

import os
import select
import socket
import time
import unittest

import musterlib
import noisepeer
from musterlib import Home, wait_until

HANDSHAKE_S = 10  # limits.handshake_ms
PER_IP = 4        # limits.max_handshaking_per_ip


def tearDownModule():
    musterlib.check_no_secrets()


def is_closed(sock):
    """Whether the other side has closed (without waiting). A node sends
    nothing to a connection that has not sent the first handshake message,
    so anything readable is the end of the stream."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def wait_closed(sock, timeout):
    """Seconds until the other side closed, or None if it stayed open."""
    start = time.monotonic()
    readable, _, _ = select.select([sock], [], [], timeout)
    if not readable:
        return None
    try:
        data = sock.recv(1)
    except ConnectionResetError:
        data = b""
    if data:
        raise AssertionError("the node sent %r before any handshake message" % data)
    return time.monotonic() - start


class Limits(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()
        self.home = Home(self, "a")
        self.home.init("Alpha")
        self.server = self.home.serve(self.net)

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        self.addCleanup(s.close)
        return s

    def handshake_works(self):
        with noisepeer.Peer(self.server.port, self.net, os.urandom(32)) as p:
            try:
                p.handshake()
                return True
            except (noisepeer.Closed, ConnectionError):
                return False

    def test_handshake_must_finish_in_10_seconds(self):
        s = self.raw()
        took = wait_closed(s, HANDSHAKE_S + 10)
        self.assertIsNotNone(took, "a silent connection is still open after %d s"
                             % (HANDSHAKE_S + 10))
        print("\nsilent connection closed after %.2f s" % took)
        self.assertGreater(took, HANDSHAKE_S - 1)
        self.assertLess(took, HANDSHAKE_S + 4)
        self.server.wait_log(r"handshake timed out", 5)
        self.server.stop()

    def test_cap_on_connections_in_the_handshake(self):
        held = [self.raw() for _ in range(PER_IP)]
        wait_until(lambda: self.server.log().count("accepted 127.0.0.1") >= PER_IP, 10,
                   "the node accepting %d connections" % PER_IP)
        # One more from the address: it gets in, and the oldest goes.
        extra = self.raw()
        took = wait_closed(held[0], 3)
        self.assertIsNotNone(took, "the oldest of %d connections in the handshake was "
                             "not evicted for a new one" % (PER_IP + 1))
        self.server.wait_log(r"evicted 127\.0\.0\.1:\d+ after [\d.]+ s: too many "
                             r"connections in the handshake from this address", 5)
        for s in held[1:] + [extra]:
            self.assertFalse(is_closed(s), "the %d newest stay open" % PER_IP)
        # An honest handshake gets in even with the address's slots full.
        self.assertTrue(self.handshake_works())
        self.server.stop()

    def test_oversized_handshake_length_is_refused_at_once(self):
        for length in (1025, 0xFFFF):  # PROTOCOL.md 9.2: at most 1024
            s = self.raw()
            s.sendall(length.to_bytes(2, "big"))
            took = wait_closed(s, 3)
            self.assertIsNotNone(took, "a %d-byte handshake message was not refused" % length)
            self.assertLess(took, 3)
        self.server.wait_log(r"handshake with 127\.0\.0\.1:\d+ failed", 5)
        # An honest handshake still works afterwards.
        self.assertTrue(self.handshake_works())
        self.server.stop()


if __name__ == "__main__":
    musterlib.main()
