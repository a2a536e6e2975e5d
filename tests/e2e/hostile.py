"""The set-up the hostile-peer tests share (test_net_hostile_*.py).

Three real nodes on 127.0.0.1 and one attacker:
  A  the node under attack (`muster serve`), following G;
  B  an honest node (`muster serve`) connected to A, following A and G: it
     gets A's records live, and whatever A relays of G's;
  H  an honest home that runs `muster sync` with A (it follows A);
  G  a group whose records the attacker pushes (it holds G's seed, so it can
     sign valid records, tamper with them, or encode them non-canonically).

The attacker connects from other loopback addresses (127.0.x.y, never
127.0.0.1), so that per-address caps and bans that hit it spare B and H.

Attack.run() runs an attack in a thread, over and over, while the main
thread checks that A still serves honest peers: a new event on A reaches B
live and H by `muster sync`. Afterwards A must still run, and its peak RSS
(VmHWM from /proc/PID/status) must be under RSS_BOUND_MIB, the bound
docs/SECURITY.md states.
"""

import itertools
import os
import threading
import time
import traceback
import unittest

import nacl.signing

import musterlib
import noisepeer
from musterlib import Home, add_event, export_records, peers, record_id, wait_until

SYNC = 30
RSS_BOUND_MIB = 64  # docs/SECURITY.md, "Memory": under any one attack
# and, with n connections each holding a full write queue and the answers
# of the wants it may leave unanswered, at most:
RSS_BASE_MIB = 10
RSS_PER_CONN_MIB = 1.75

_ips = itertools.count(0)


def attacker_ip():
    """A fresh loopback source address other than 127.0.0.1."""
    n = next(_ips)
    return "127.0.%d.%d" % (1 + n // 250 % 250, 2 + n % 250)


def rss_kib(pid):
    """(VmRSS, VmHWM) of a process, in KiB."""
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                vals[key] = int(rest.split()[0])
    return vals["VmRSS"], vals["VmHWM"]


def asan(pid):
    """Whether the process runs with AddressSanitizer."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


class Attack(unittest.TestCase):
    """Base class: setUp starts A and B and makes H; see the module doc."""

    A_RECORDS = 0  # G records imported into A before it starts

    def setUp(self):
        self.net = musterlib.network_name()
        self.a, self.b, self.h, self.g = (Home(self, x) for x in "abhg")
        self.a.init("Alpha")
        self.b.init("Beta")
        self.h.init("Honest")
        self.g.init("Gossip source")
        ev = add_event(self.g, "Original title")
        self.g_raw = self.raw_of(self.g, ev)
        self.g_seed = self.g.secret()
        self.a.ok("follow", self.g.key)
        if self.A_RECORDS:
            self.import_into(self.a, [self.fresh() for _ in range(self.A_RECORDS)])
        self.before_serve()
        self.sa = self.a.serve(self.net)
        self.b.ok("follow", self.a.key)
        self.b.ok("follow", self.g.key)
        self.b.ok("peer", "add", self.sa.addr, self.a.key)
        self.sb = self.b.serve(self.net)
        self.h.ok("follow", self.a.key)
        wait_until(lambda: peers(self.b)[self.sa.addr]["last_sync"], SYNC,
                   "B synced with A")
        self.honest_rounds = 0

    def before_serve(self):
        """Runs just before A starts: for set-up A must see at start."""

    # -- records --

    def raw_of(self, home, ref):
        return musterlib.raw_record(self, home, ref)

    _d = itertools.count(1)

    def fresh(self, title="Fresh"):
        """A new valid event of G, never seen by anyone."""
        n = next(self._d)
        return noisepeer.variant(self.g_seed, self.g_raw, "%016x" % (0xF000000 + n),
                                 "%s %d" % (title, n))

    def import_into(self, home, records):
        path = os.path.join(home.tmp, "in-%d.muster" % next(self._d))
        with open(path, "wb") as f:
            f.write(musterlib.EXPORT_MAGIC + b"".join(records))
        counts = home.import_file(path)
        self.assertEqual(counts["new"], len(records), counts)

    def peer(self, seed=None, **kw):
        """A noisepeer connection to A from a fresh attacker address."""
        p = noisepeer.Peer(self.sa.port, self.net, seed or os.urandom(32),
                           source=attacker_ip(), **kw)
        self.addCleanup(p.close)
        return p

    def session(self, scope=None, **kw):
        """An authenticated peer after hellos; scope defaults to [A, G]."""
        p = self.peer(**kw)
        p.handshake()
        if scope is None:
            scope = [self.group(self.a), self.group(self.g)]
        p.hello(scope)
        return p

    @staticmethod
    def group(home):
        return nacl.signing.SigningKey(home.secret()).verify_key.encode()

    # -- what must hold --

    def honest_check(self, label):
        """A new event on A reaches B live and H by `muster sync`."""
        self.honest_rounds += 1
        ev = add_event(self.a, "Honest %s %d" % (label, self.honest_rounds))
        wait_until(lambda: self.b.has(ev), SYNC, "A's event live on B during %s" % label)
        res = self.h.run("sync", self.sa.addr, self.a.key, "--network", self.net)
        self.assertEqual(res.rc, 0, "honest sync during %s: %r" % (label, res))
        self.assertTrue(self.h.has(ev), "H got A's event by sync during %s" % label)

    def never_stored(self, records):
        """None of records is on A or on B (which A would have relayed to)."""
        ids = [record_id(r) for r in records]
        for home in (self.a, self.b):
            held = {record_id(r) for r in export_records(self, home)}
            for rid in ids:
                self.assertNotIn(rid, held, "an invalid record reached %s" % home.path)

    def relayed(self, raw):
        """Pushes a valid new record through a fresh session and waits until
        B has it: A relays what is valid, so what B lacks was not relayed."""
        with self.session() as p:
            p.push([raw])
        wait_until(lambda: self.b.has(record_id(raw)), SYNC, "A relaying to B")

    def check_rss(self, label, bound_mib=RSS_BOUND_MIB):
        self.assertTrue(self.sa.running(), "A died during %s:\n%s"
                        % (label, self.sa.log()[-4000:]))
        rss, hwm = rss_kib(self.sa.proc.pid)
        print("\nRSS of A under %s: peak %.1f MiB, now %.1f MiB (bound %g MiB)"
              % (label, hwm / 1024, rss / 1024, bound_mib))
        if asan(self.sa.proc.pid):
            # AddressSanitizer's shadow memory and quarantine multiply the
            # RSS: the bound is for the product, checked by the normal
            # build of `make test`; here the attacks check memory errors.
            print("(AddressSanitizer build: the bound is checked without it)")
            return
        self.assertLess(hwm, bound_mib * 1024,
                        "A's peak RSS under %s is over %g MiB" % (label, bound_mib))

    def run_attack(self, label, attack, honest=2, min_rounds=1, timeout=120):
        """Runs attack() in a loop in a thread while honest_check() runs
        `honest` times; then lets the round in progress finish. attack
        raises AssertionError when the node does something wrong."""
        stop = threading.Event()
        errors = []
        rounds = [0]

        def loop():
            try:
                while True:
                    attack()
                    rounds[0] += 1
                    if stop.is_set() and rounds[0] >= min_rounds:
                        return
            except BaseException:  # reported in the main thread
                errors.append(traceback.format_exc())

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        try:
            for _ in range(honest):
                self.honest_check(label)
        finally:
            stop.set()
            t.join(timeout)
        self.assertFalse(t.is_alive(), "the attack %s did not end" % label)
        self.assertEqual(errors, [], "the attack %s failed:\n%s" % (label, "".join(errors)))
        print("\n%s: %d rounds of attack, %d honest checks" % (label, rounds[0], honest))
        self.check_rss(label)
        # Still serving after the attack, and stopping cleanly.
        self.honest_check(label + " (after)")

    def tearDown(self):
        if self.sa.running():
            self.sa.stop()
        if self.sb.running():
            self.sb.stop()


def wait_closed(sock, timeout):
    """Seconds until the node closed sock (what it sends meanwhile is read
    and dropped), or None if it stayed open."""
    start = time.monotonic()
    end = start + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return None
        except OSError:
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start
