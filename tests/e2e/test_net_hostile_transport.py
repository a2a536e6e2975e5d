#!/usr/bin/python3
"""Hostile peers at the transport level, against a real `muster serve` (A)
that must keep serving honest peers meanwhile (hostile.py): random bytes
before and after the handshake, handshakes that stall halfway (slowloris),
500 connections at once, oversized frames and frames or messages that
declare huge lengths. A's peak RSS stays under hostile.RSS_BOUND_MIB."""

import os
import socket
import struct
import threading
import time

import hostile
import musterlib
import noisepeer
from hostile import attacker_ip, wait_closed

HANDSHAKE_S = 10  # limits.handshake_ms
PER_IP = 4        # limits.max_handshaking_per_ip
MARGIN = 8        # seconds of slack on a loaded machine


def tearDownModule():
    musterlib.check_no_secrets()


def raw_socket(port, source, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def send_quietly(sock, data):
    """Sends data; the node may close before it has all of it."""
    try:
        sock.sendall(data)
    except OSError:
        pass


def parallel(fns):
    """Runs the callables in threads; re-raises the first failure."""
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: B902 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn,), daemon=True) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]


class Transport(hostile.Attack):
    def expect_closed(self, sock, timeout, what):
        took = wait_closed(sock, timeout)
        sock.close()
        if took is None:
            raise AssertionError("A kept open %s for %d s" % (what, timeout))
        return took

    def test_random_bytes_before_the_handshake(self):
        port = self.sa.port

        def one(n):
            s = raw_socket(port, attacker_ip())
            send_quietly(s, os.urandom(n))
            # A too-long length ends it at once, a garbled message fails the
            # handshake, and a short one runs into the deadline.
            self.expect_closed(s, HANDSHAKE_S + MARGIN, "%d random bytes" % n)

        def attack():
            parallel([lambda n=n: one(n) for n in (1, 2, 3, 34, 100, 257, 4096, 70000)])

        self.run_attack("random bytes before the handshake", attack)

    def test_random_bytes_after_the_handshake(self):
        def framed(n):
            p = self.session()
            p.send_frame(os.urandom(n))  # fails authentication, or too short
            self.expect_closed(p.sock, MARGIN, "a random frame of %d bytes" % n)

        def stream(n):
            p = self.session()
            send_quietly(p.sock, os.urandom(n))
            self.expect_closed(p.sock, MARGIN, "%d random bytes" % n)

        def attack():
            fns = [lambda n=n: framed(n) for n in (0, 5, 15, 16, 17, 100, 65535)]
            fns += [lambda: stream(70000)]
            parallel(fns)

        self.run_attack("random bytes after the handshake", attack)

    def test_handshake_without_identity(self):
        """The third handshake message must carry the dialer's identity
        (PROTOCOL.md 9.1): one with an empty payload ends the connection
        before A sends anything in the session, and proves no group."""
        def one():
            p = self.peer()
            prologue = b"muster/1 " + self.net.encode("ascii")
            hs = noisepeer.HandshakeXX(True, prologue, p.noise_secret)
            p.send_frame(hs.write(b""))
            noisepeer.check_identity(hs.read(p.recv_frame()), hs.rs)
            p.send_frame(hs.write(b""))
            try:
                frame = p.recv_frame()
            except socket.timeout:
                raise AssertionError("A kept a handshake without identity "
                                     "open, silent") from None
            except (noisepeer.Closed, OSError):
                return
            raise AssertionError("A accepted a handshake without identity and "
                                 "sent a frame of %d bytes" % len(frame))

        self.run_attack("a handshake without identity", lambda: parallel([one] * 4))

    def stall(self, ip, halfway):
        """One slowloris connection: halfway, it sends the first handshake
        message and reads the answer, then says nothing; otherwise it
        trickles the first message a byte every half second. A must close
        it at the handshake deadline."""
        p = noisepeer.Peer(self.sa.port, self.net, os.urandom(32), source=ip)
        start = time.monotonic()
        hs = noisepeer.HandshakeXX(True, b"muster/1 " + self.net.encode(), p.noise_secret)
        msg1 = hs.write(b"")
        try:
            if halfway:
                p.send_frame(msg1)
                p.recv_frame()
            else:
                for byte in struct.pack(">H", len(msg1)) + msg1:
                    p.send_raw(bytes([byte]))
                    time.sleep(0.5)
                    if time.monotonic() - start > HANDSHAKE_S + MARGIN:
                        break
        except (OSError, noisepeer.Closed):
            pass  # closed meanwhile: checked below
        took = wait_closed(p.sock, HANDSHAKE_S + MARGIN)
        total = time.monotonic() - start
        p.close()
        if took is None:
            raise AssertionError("a stalled handshake from %s was kept %.1f s" % (ip, total))
        if total < HANDSHAKE_S - 1:
            raise AssertionError("a stalled handshake was closed after %.1f s, before "
                                 "the deadline" % total)

    def test_slowloris(self):
        def attack():
            ips = [attacker_ip() for _ in range(3)]
            parallel([lambda ip=ip, h=i % 2 == 0: self.stall(ip, h)
                      for ip in ips for i in range(PER_IP)])

        self.run_attack("slowloris (12 stalled handshakes at a time)", attack)
        self.assertGreaterEqual(self.sa.log().count("handshake timed out"), 12)

    def test_slowloris_over_the_cap_evicts_the_oldest(self):
        """More stalled handshakes from one address than it may hold: each
        newcomer gets in and the oldest of the address goes, so the address
        never holds more than PER_IP, and honest peers go on connecting."""
        def attack():
            ip = attacker_ip()
            socks = [raw_socket(self.sa.port, ip) for _ in range(PER_IP)]
            time.sleep(0.3)
            for _ in range(5):
                socks.append(raw_socket(self.sa.port, ip))
                self.expect_closed(socks.pop(0), MARGIN,
                                   "the oldest stalled handshake of an address over "
                                   "the cap")
            for s in socks:
                if wait_closed(s, 0.05) is not None:
                    raise AssertionError("a newer stalled handshake was evicted "
                                         "before the oldest")
                s.close()

        self.run_attack("stalled handshakes over the per-address cap", attack)
        self.assertIn("too many connections in the handshake from this address",
                      self.sa.log())

    def test_500_connections_at_once(self):
        port = self.sa.port

        def attack():
            ips = [attacker_ip() for _ in range(3)]
            socks = []
            try:
                for i in range(500):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    socks.append(s)
                    s.bind((ips[i % 3], 0))
                    s.setblocking(False)
                    s.connect_ex(("127.0.0.1", port))
                # A accepts them all and closes every one over the caps:
                # at most PER_IP per address stay, waiting for a handshake.
                def still_open():
                    n = 0
                    for s in socks:
                        try:
                            data = s.recv(1, socket.MSG_PEEK)
                        except BlockingIOError:
                            n += 1
                            continue
                        except OSError:
                            continue
                        if data:
                            raise AssertionError("A sent %r before any handshake" % data)
                    return n

                musterlib.wait_until(lambda: still_open() <= 3 * PER_IP, 60,
                                     "A refusing connections over the caps")
            finally:
                for s in socks:
                    s.close()

        self.run_attack("500 connections at once", attack)

    def test_oversized_frames_and_huge_declared_lengths(self):
        huge = [
            b"\x93\xa4recs\x01\xdd\xff\xff\xff\xff",          # recs: array32 of 2^32-1
            b"\x93\xa4want\x01\xdd\xff\xff\xff\xff",          # want: the same
            b"\x92\xa5hello\xdf\xff\xff\xff\xff",             # hello: map32 of 2^32-1
            b"\x92\xa8neg-open\xc6\xff\xff\xff\xf0",          # neg-open: bin32 of 4 GiB
            b"\x93\xa4recs\x01\x91\xc6\x7f\xff\xff\xff",      # one record of 2 GiB
            b"\x92\xa5hello\x83\xa5agent\xa1x\xa5scope\x90\xa2zz" + b"\x91" * 4000 + b"\x00",
            b"\xdd\xff\xff\xff\xff",                          # the message itself
        ]

        def declared(msg):
            p = self.session()
            p.send_frame(p.tx.encrypt(b"", msg))
            self.expect_closed(p.sock, MARGIN, "a message declaring %r" % msg[:12])

        def oversized():
            p = self.session()
            p.send_raw(b"\xff\xff" + os.urandom(65535))
            self.expect_closed(p.sock, MARGIN, "a frame of 65535 random bytes")

        def partial(hold):
            # A frame declaring 65535 bytes, of which only a few come: A
            # buffers at most one frame per connection.
            p = self.session()
            p.send_raw(b"\xff\xff" + os.urandom(100))
            hold.append(p)

        def attack():
            hold = []
            try:
                parallel([lambda m=m: declared(m) for m in huge] + [oversized])
                # One after the other: together they would pass the cap on
                # connections in the handshake.
                for _ in range(30):
                    partial(hold)
                time.sleep(1)
                for p in hold:
                    self.assertIsNone(wait_closed(p.sock, 0.01),
                                      "a partial frame is waited for, not refused")
            finally:
                for p in hold:
                    p.close()

        self.run_attack("oversized frames and huge lengths", attack)


if __name__ == "__main__":
    musterlib.main()
