#!/usr/bin/python3
"""Loop stalls (issue 19): how long can one turn of a serving node's loop
keep a peer or a request waiting while a client pulls a big feed?

Node A is `muster serve --http` on the home of the footprint benchmark's
E events of 100 groups (10,000; --quick: 2,000), with MUSTER_STALL_LOG set:
the daemon appends, every second, the longest turn of its loop in that
second (node/stalls.c: from one prepare phase to the next, less the time
spent waiting in poll). Two phases of W seconds each (20; --quick: 6), a
pause between them:

1. sync: a peer syncs from A again and again (`muster sync` into a new home
   that follows the 100 groups, so each pulls all E records): the baseline.
2. feed: the same syncs, while a client pulls /calendar.ics in a loop (each
   body must hold E events) and another GETs /api/groups 4 times a second.
3. feed alone: the same HTTP clients without the syncs: what the HTTP side
   holds the loop for by itself.

The wall-clock length of a turn includes the time the loop thread was not
running (on a loaded host, other processes'); the CPU time of the thread in
a turn is what the loop's own work took, and what the host adds to it: on a
virtual machine, time the hypervisor took the core away while the thread
ran counts as the thread's CPU time. A thread of this script measures that
during phase 2: the same small computation, again and again, timed by its
thread's CPU clock (stall_host_noise_ms).

Figures (E in the names: 10k, or 2k with --quick):
  stall_sync_ms           longest turn of phase 1, wall clock
  stall_sync_cpu_ms       most CPU time of the loop thread in one turn of it
  stall_feed_10k_ms       longest turn of phase 2 (target <= 10 ms)
  stall_feed_10k_cpu_ms   most CPU time in one turn of it
  stall_feed_10k_pulls    feeds pulled whole in phase 2
  stall_small_request_ms  slowest GET /api/groups of phase 2, request to
                          last byte
  stall_feed_alone_10k_ms, stall_feed_alone_10k_cpu_ms  phase 3's
  stall_host_noise_ms     phase 2: the most CPU time of this script's
                          thread that a computation of about 0.5 ms (its
                          least) took, less that least: what the host adds
                          to a turn's CPU figure at worst
"""

import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

GROUPS = 100


def label(n):
    return "%dk" % (n // 1000)


def longest(path, start, end):
    """The longest turn (ms), the turns, and the most CPU time of a turn
    (ms) in the stall log's lines between byte offsets start and end."""
    with open(path) as f:
        f.seek(start)
        lines = f.read(end - start).splitlines()
    worst, turns, cpu = 0.0, 0, 0.0
    for line in lines:
        _, ms, n, c = line.split()
        worst = max(worst, float(ms))
        turns += int(n)
        cpu = max(cpu, float(c))
    return worst, turns, cpu


class Noise(threading.Thread):
    """The same computation of about 0.5 ms of CPU, every 10 ms, timed by
    the thread's CPU clock: the least and the most it took."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stopping = False
        self.least, self.most = float("inf"), 0.0

    def run(self):
        while not self.stopping:
            t = time.thread_time()
            sum(i * i for i in range(20000))
            d = time.thread_time() - t
            self.least, self.most = min(self.least, d), max(self.most, d)
            time.sleep(0.01)

    def finish(self):
        self.stopping = True
        self.join(60)
        return (self.most - self.least) * 1000


def size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


class Loop(threading.Thread):
    """Calls fn again and again until stopped; counts the calls and keeps
    the first error."""

    def __init__(self, fn, pause=0.0):
        super().__init__(daemon=True)
        self.fn, self.pause = fn, pause
        self.stopping = False
        self.calls = 0
        self.error = None

    def run(self):
        while not self.stopping:
            try:
                self.fn()
            except Exception as e:  # noqa: BLE001  (reported by the main thread)
                self.error = e
                return
            self.calls += 1
            if self.pause:
                time.sleep(self.pause)

    def finish(self):
        self.stopping = True
        self.join(600)
        if self.error is not None:
            raise RuntimeError("%s" % self.error)
        return self.calls


def main():
    quick = "--quick" in sys.argv[1:]
    events = 2000 if quick else 10000
    window = 6 if quick else 20
    home = benchlib.imported_home(events, GROUPS, events_only=True)
    _, seeds = benchlib.dataset(events, GROUPS, events_only=True)
    keys = benchlib.group_keys(seeds)
    a_key = netlib.muster(home, "id").strip().split()[-1]
    held = benchlib.record_count(home) - 1  # less its own profile
    with netlib.Workdir("stalls") as work:
        stall_log = os.path.join(work.path, "stalls.log")
        os.environ["MUSTER_STALL_LOG"] = stall_log
        try:
            port, http = netlib.free_ports(2)
            network = "bench-" + os.urandom(4).hex()
            node = netlib.serve(work, home, network, port, "--http",
                                "127.0.0.1:%d" % http)
        finally:
            del os.environ["MUSTER_STALL_LOG"]
        base = "http://127.0.0.1:%d" % http
        rounds = [0]

        def sync():
            rounds[0] += 1
            b, _ = netlib.new_home(work, "b%d" % rounds[0])
            netlib.follow(b, keys)
            netlib.muster(b, "sync", "--network", network, "127.0.0.1:%d" % port,
                          a_key)
            got = benchlib.record_count(b) - 1
            if got != held:
                raise RuntimeError("a sync left %d records of %d" % (got, held))

        def feed():
            with urllib.request.urlopen(base + "/calendar.ics", timeout=120) as r:
                body = r.read()
            n = body.count(b"BEGIN:VEVENT")
            if n != events:
                raise RuntimeError("/calendar.ics has %d events of %d" % (n, events))

        slowest = [0.0]

        def small():
            t = time.monotonic()
            with urllib.request.urlopen(base + "/api/groups", timeout=60) as r:
                r.read()
            slowest[0] = max(slowest[0], time.monotonic() - t)

        def phase(loops):
            time.sleep(1.5)  # the last line of what came before is written
            start = size(stall_log)
            for t in loops:
                t.start()
            time.sleep(window)
            calls = [t.finish() for t in loops]
            time.sleep(1.5)
            worst, turns, cpu = longest(stall_log, start, size(stall_log))
            return worst, turns, cpu, calls

        try:
            s_worst, s_turns, s_cpu, (s_syncs,) = phase([Loop(sync)])
            log("sync alone: %d syncs of %d records, %d turns, longest %.1f ms"
                " (%.1f ms of CPU at most)", s_syncs, held, s_turns, s_worst, s_cpu)
            noise = Noise()
            noise.start()
            f_worst, f_turns, f_cpu, (f_syncs, pulls, smalls) = phase(
                [Loop(sync), Loop(feed), Loop(small, 0.25)])
            host = noise.finish()
            log("host: a computation of %.2f ms of CPU took up to %.2f ms",
                noise.least * 1000, noise.most * 1000)
            log("sync and feed: %d syncs, %d feeds of %d events, %d small requests"
                " (slowest %.1f ms), %d turns, longest %.1f ms (%.1f ms of CPU at"
                " most)", f_syncs, pulls, events, smalls, slowest[0] * 1000,
                f_turns, f_worst, f_cpu)
            a_worst, a_turns, a_cpu, (a_pulls, _) = phase(
                [Loop(feed), Loop(small, 0.25)])
            log("feed alone: %d feeds, %d turns, longest %.1f ms (%.1f ms of CPU"
                " at most)", a_pulls, a_turns, a_worst, a_cpu)
            if s_syncs == 0 or f_syncs == 0 or pulls == 0 or a_pulls == 0:
                raise RuntimeError("a phase finished no sync or no feed")
        finally:
            netlib.stop(node)
    figure("stall_sync_ms", s_worst, "ms")
    figure("stall_sync_cpu_ms", s_cpu, "ms")
    figure("stall_feed_%s_ms" % label(events), f_worst, "ms")
    figure("stall_feed_%s_cpu_ms" % label(events), f_cpu, "ms")
    figure("stall_feed_%s_pulls" % label(events), pulls, "feeds")
    figure("stall_small_request_ms", slowest[0] * 1000, "ms")
    figure("stall_feed_alone_%s_ms" % label(events), a_worst, "ms")
    figure("stall_feed_alone_%s_cpu_ms" % label(events), a_cpu, "ms")
    figure("stall_host_noise_ms", host, "ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
