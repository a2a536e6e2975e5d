#!/usr/bin/python3
"""Footprint (issue 6, item 5).

1. `muster event list` over E events (generated, every one current and in
   the listed range), a real process, output to a pipe; the best of three
   runs, in milliseconds of wall-clock time (target < 200 ms), and the CPU
   time (user + system) of that run, which a loaded machine inflates less.
2. The peak RSS of `muster serve` holding N records of G groups (it follows
   every group, so all of them are in its scope) with 8 peers: 8 more
   `muster serve` processes that dial it, each following 2 of the groups,
   so each syncs their records (about 2 N / G) from it. Sampled every 50 ms
   from its start until every peer holds its records and 3 s more; VmHWM
   at the end (target < 64 MiB), and the anonymous part of the RSS (heap
   and stacks) apart from the pages of the store's memory map.

3. The peak RSS of a new `muster serve` that follows every group of the
   big node of step 2 and catches up all its N records from it, sampled
   every 50 ms until it holds them (target < 96 MiB at 1M), its peak
   anonymous RSS, and its RSS once it holds them. Its progress goes to
   stderr every 30 s; 180 s without a new record fail the benchmark.

4. `/calendar.ics` over the same E events, from `muster serve --http` on
   that home: the best of three GETs over loopback, in milliseconds from the
   request until the last byte (target < 200 ms, as for the list), and the
   feed must hold one VEVENT per event.

--list-only runs step 1 alone (to iterate on the list without building the
big home of step 2): only the event_list figures. run.py does not pass it;
run this file directly, with the environment run.py would set:
  MUSTER_BIN=build/muster MUSTER_BUILD_DIR=build MUSTER_SOURCE_DIR=. \
  MUSTER_BENCH_CACHE=/tmp/cache /usr/bin/python3 tests/bench/bench_footprint.py --list-only
(a cache directory that outlives the run keeps the imported home for the next).

Figures (full run; --quick uses 2,000 events and 10,000 records of 100
groups, and the names say so: event_list_2k_ms, serve_rss_10k_...):
  event_list_10k_ms         ms
  event_list_10k_cpu_ms     ms
  calendar_ics_10k_ms       ms
  serve_rss_1m_8peers       MiB   peak RSS (VmHWM)
  serve_anon_1m_8peers      MiB   peak anonymous RSS
  receive_rss_1m            MiB   peak RSS (VmHWM) of the catching-up node
  receive_anon_1m           MiB   its peak anonymous RSS
  receive_rss_end_1m        MiB   its RSS once it holds every record
"""

import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

PEERS = 8
STALL_S = 180  # seconds without a new record that fail the receiving node


def label(n):
    return "%dm" % (n // 1000000) if n >= 1000000 else "%dk" % (n // 1000)


def event_list(home, events):
    """The best of three runs of `muster event list`: (wall, CPU) seconds."""
    best = None
    for _ in range(3):
        run = benchlib.measure([netlib.BIN, "--home", home, "event", "list", "--from",
                                "2025-01-01"])
        # One line per event plus a blank line between events at least.
        lines = run.out.count("\n")
        if lines < events:
            raise RuntimeError("event list printed %d lines for %d events"
                               % (lines, events))
        if best is None or run.seconds < best[0]:
            best = (run.seconds, run.cpu)
    log("event list of %d events: best %.0f ms, %.0f ms of CPU", events,
        best[0] * 1000, best[1] * 1000)
    return best


def calendar_ics(work, home, events):
    """The best of three GETs of /calendar.ics from the node: seconds."""
    port, http = netlib.free_ports(2)
    node = netlib.serve(work, home, "bench-" + os.urandom(4).hex(), port, "--http",
                        "127.0.0.1:%d" % http)
    best = None
    try:
        for _ in range(3):
            t = time.monotonic()
            with urllib.request.urlopen("http://127.0.0.1:%d/calendar.ics" % http,
                                        timeout=60) as r:
                body = r.read()
            seconds = time.monotonic() - t
            n = body.count(b"BEGIN:VEVENT")
            if n != events:
                raise RuntimeError("/calendar.ics has %d events of %d" % (n, events))
            best = seconds if best is None else min(best, seconds)
    finally:
        netlib.stop(node)
    log("/calendar.ics of %d events (%d bytes): best %.0f ms", events, len(body),
        best * 1000)
    return best


def serve_rss(work, n, groups):
    """Peak (RSS, anonymous RSS) in KiB of the big node with 8 peers."""
    home = benchlib.imported_home(n, groups)
    _, seeds = benchlib.dataset(n, groups)
    keys = benchlib.group_keys(seeds)
    key = netlib.muster(home, "id").strip().split()[-1]
    network = "bench-" + os.urandom(4).hex()
    port = netlib.free_port()
    peers = []
    for i in range(PEERS):
        phome, _ = netlib.new_home(work, "peer%d" % i)
        netlib.follow(phome, keys[2 * i:2 * i + 2])
        netlib.muster(phome, "peer", "add", "127.0.0.1:%d" % port, key)
        peers.append(phome)

    big = netlib.serve(work, home, network, port)
    peak_anon = 0

    def sample():
        nonlocal peak_anon
        peak_anon = max(peak_anon, benchlib.rss_kib(big.pid)[2])

    t0 = time.monotonic()
    procs = [netlib.serve(work, p, network, port)
             for p, port in zip(peers, netlib.free_ports(len(peers)))]
    held = [0] * PEERS
    stable_since = None
    while True:
        for _ in range(20):
            sample()
            time.sleep(0.05)
        now = [benchlib.record_count(p) - 1 for p in peers]  # less their own profile
        if now == held and all(h > 0 for h in now):
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 3:
                break
        else:
            stable_since = None
        held = now
        if time.monotonic() - t0 > 300:
            raise RuntimeError("peers did not finish syncing in 300 s: %s" % held)
        if big.poll() is not None:
            raise RuntimeError("the big node exited %d; see %s.serve.err"
                               % (big.returncode, home))
    rss, hwm, anon = benchlib.rss_kib(big.pid)
    log("serve with %d records and %d peers: RSS %d KiB, peak %d KiB, anon peak %d KiB;"
        " peers hold %s records", n, PEERS, rss, hwm, peak_anon, held)
    for p in procs:
        netlib.stop(p)
    netlib.stop(big)
    return hwm, peak_anon


def receive_rss(work, n, groups):
    """(peak RSS, peak anonymous RSS, RSS at the end) in KiB of a new `muster
    serve` that follows every group of the big node and catches up its N
    records, sampled every 50 ms from its start until it holds them all. It
    fails when the receiver holds no more records for STALL_S (longer than
    the 120 s after which a dialer gives up on an unanswered
    reconciliation): the logs of both nodes say why."""
    home = benchlib.imported_home(n, groups)
    _, seeds = benchlib.dataset(n, groups)
    keys = benchlib.group_keys(seeds)
    key = netlib.muster(home, "id").strip().split()[-1]
    want = benchlib.record_count(home) - 1  # less its own profile
    network = "bench-" + os.urandom(4).hex()
    port, rport = netlib.free_ports(2)
    recv, _ = netlib.new_home(work, "receiver")
    netlib.follow(recv, keys)
    netlib.muster(recv, "peer", "add", "127.0.0.1:%d" % port, key)
    big = netlib.serve(work, home, network, port)
    node = netlib.serve(work, recv, network, rport)
    t0 = time.monotonic()
    peak_anon, held, checked, grew, logged = 0, 0, t0, t0, t0
    while held < want:
        rss, hwm, anon = benchlib.rss_kib(node.pid)
        peak_anon = max(peak_anon, anon)
        time.sleep(0.05)
        now = time.monotonic()
        if now - checked >= 2:
            checked = now
            count = benchlib.record_count(recv) - 1
            if count > held:
                held, grew = count, now
            if now - logged >= 30:
                logged = now
                log("receiver: %d of %d records after %.0f s: RSS %d KiB, peak %d"
                    " KiB, anonymous %d KiB (peak %d)", held, want, now - t0, rss,
                    hwm, anon, peak_anon)
        if now - grew > STALL_S:
            raise RuntimeError("the receiver holds %d records of %d and got none for"
                               " %d s; see %s.serve.err and %s.serve.err"
                               % (held, want, STALL_S, recv, home))
        if node.poll() is not None:
            raise RuntimeError("the receiver exited %d; see %s.serve.err"
                               % (node.returncode, recv))
    seconds = time.monotonic() - t0
    rss, hwm, anon = benchlib.rss_kib(node.pid)
    peak_anon = max(peak_anon, anon)
    log("receiver caught up %d records in %.0f s: RSS %d KiB, peak %d KiB, anon"
        " peak %d KiB", want, seconds, rss, hwm, peak_anon)
    netlib.stop(node)
    netlib.stop(big)
    if held != want:
        raise RuntimeError("the receiver holds %d records of %d" % (held, want))
    return hwm, peak_anon, rss


def main():
    quick = "--quick" in sys.argv[1:]
    list_only = "--list-only" in sys.argv[1:]
    events = 2000 if quick else 10000
    n, groups = (10000, 100) if quick else (1000000, 1000)
    with netlib.Workdir("footprint") as work:
        home = benchlib.imported_home(events, 100, events_only=True)
        wall, cpu = event_list(home, events)
        figure("event_list_%s_ms" % label(events), wall * 1000, "ms")
        figure("event_list_%s_cpu_ms" % label(events), cpu * 1000, "ms")
        if list_only:
            return 0
        ics = calendar_ics(work, home, events)
        figure("calendar_ics_%s_ms" % label(events), ics * 1000, "ms")
        hwm, anon = serve_rss(work, n, groups)
        figure("serve_rss_%s_8peers" % label(n), hwm / 1024.0, "MiB")
        figure("serve_anon_%s_8peers" % label(n), anon / 1024.0, "MiB")
        hwm, anon, end = receive_rss(work, n, groups)
        figure("receive_rss_%s" % label(n), hwm / 1024.0, "MiB")
        figure("receive_anon_%s" % label(n), anon / 1024.0, "MiB")
        figure("receive_rss_end_%s" % label(n), end / 1024.0, "MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
