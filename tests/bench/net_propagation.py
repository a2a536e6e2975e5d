#!/usr/bin/python3
"""Propagation (issue 6, item 4): how fast, and at what cost in bytes, does an
event reach every node of a network?

N real `muster serve` processes on 127.0.0.1 (100; --quick: 8), each
following every other node's group, so every group is in every scope. The
links form a random graph in which every node has 4 neighbours (a random
4-regular graph: every node dials or is dialed by exactly 4 others); every
link goes through a counting TCP proxy in this script.

Once every link is up and its first reconciliation done, E events (100;
--quick: 20) are published one after the other, 0.1 s apart, each with
`muster event add` on a running node chosen at random. Meanwhile 10% of the
nodes (at least 1), chosen at random, are stopped one after the other, at
even intervals over the publishing, each for CHURN_DOWN_S, and started
again (churn). An event counts as published when that command returns (the
record is in the node's store); it has arrived at another node at the
millisecond timestamp of that node's debug log line "new record ID"
(written when the record is committed to its store). Its time to a node is
that arrival less the publication, or less the node's restart when it
restarted after the publication (a stopped node cannot receive; what counts
is how soon it catches up). Its propagation time is the longest of those.

Figures:
  prop_nodes                             N
  prop_p50_ms, prop_p99_ms, prop_max_ms   over the E events
  prop_bytes_ratio   TCP payload bytes all nodes sent from the first
                     publication until every event had arrived everywhere,
                     divided by E x N x the mean event record size: what
                     each node sends per event, as a multiple of the event
"""

import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

import hashlib  # noqa: E402
import json  # noqa: E402
import msgpack  # noqa: E402  (python3-msgpack)

NEW = re.compile(r"^(\S+) debug new record ([0-9a-f]{64}) ")
DEGREE = 4
CHURN = 0.1         # of the nodes, stopped and started again
CHURN_DOWN_S = 1.5  # each stays stopped this long


def regular_graph(n, degree, rng):
    """Edges (i, j) of a random graph where every node has degree
    neighbours, by the pairing method (retried until it is simple)."""
    while True:
        stubs = [i for i in range(n) for _ in range(degree)]
        rng.shuffle(stubs)
        edges = set()
        ok = True
        for a, b in zip(stubs[::2], stubs[1::2]):
            e = (min(a, b), max(a, b))
            if a == b or e in edges:
                ok = False
                break
            edges.add(e)
        if ok:
            return sorted(edges)


def stamp(text):
    """Unix seconds of a log stamp 2026-11-25T21:00:00.123Z."""
    import calendar
    base, frac = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000


def arrivals(home):
    """{id hex: arrival time} from a node's log."""
    out = {}
    with open(home + ".serve.err", errors="replace") as f:
        for line in f:
            m = NEW.match(line)
            if m:
                out.setdefault(m.group(2), stamp(m.group(1)))
    return out


def count(home, pattern):
    with open(home + ".serve.err", errors="replace") as f:
        return len(re.findall(pattern, f.read()))


def record_sizes(work, home):
    """{id hex: record bytes} of everything home holds."""
    path = os.path.join(work.path, "all.muster")
    netlib.muster(home, "export", path)
    with open(path, "rb") as f:
        data = f.read()
    unpacker = msgpack.Unpacker(raw=True)
    unpacker.feed(data)
    unpacker.unpack()
    pos = unpacker.tell()
    sizes = {}
    for body, _sig in unpacker:
        end = unpacker.tell()
        sizes[hashlib.blake2b(body, digest_size=32).hexdigest()] = end - pos
        pos = end
    return sizes


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    quick = "--quick" in sys.argv[1:]
    n, events = (8, 20) if quick else (100, 100)
    rng = random.Random(6)
    with netlib.Workdir("net-prop") as work:
        homes, keys = [], []
        for i in range(n):
            h, k = netlib.new_home(work, "n%02d" % i)
            homes.append(h)
            keys.append(k)
        for i, h in enumerate(homes):
            netlib.follow(h, [k for j, k in enumerate(keys) if j != i])
        ports = netlib.free_ports(n)
        network = "bench-" + os.urandom(4).hex()
        proxies = [netlib.Proxy(port) for port in ports]
        edges = regular_graph(n, DEGREE, rng)
        for a, b in edges:
            netlib.muster(homes[a], "peer", "add", "127.0.0.1:%d" % proxies[b].port,
                          keys[b])
        t = time.monotonic()
        servers = [netlib.serve(work, h, network, ports[i], log_level="debug")
                   for i, h in enumerate(homes)]
        dialers = {}
        for a, _b in edges:
            dialers[a] = dialers.get(a, 0) + 1
        netlib.wait_until(
            lambda: all(count(homes[a], r"reconciled, ") >= k for a, k in dialers.items()),
            600, "every link to reconcile once", interval=0.5)
        log("%d nodes, %d links up in %.1f s", n, len(edges), time.monotonic() - t)
        time.sleep(1)

        before = sum(p.total() for p in proxies)
        published = {}  # address text -> (time, node)
        churned = rng.sample(range(n), max(1, int(n * CHURN)))
        # Event index at which each churned node stops; None: running.
        stop_at = {e: j for j, e in zip(churned, range(2, events - 2, max(
            1, (events - 4) // len(churned))))}
        down = {}  # node -> when it stopped
        stops = {}  # node -> when its stop began
        restarts = {j: [] for j in range(n)}  # node -> times it started again
        for e in range(events):
            now = time.time()
            for j, t in list(down.items()):
                if now - t >= CHURN_DOWN_S:
                    servers[j] = netlib.serve(work, homes[j], network, ports[j],
                                              log_level="debug")
                    restarts[j].append(time.time())
                    del down[j]
            if e in stop_at:
                j = stop_at[e]
                stops[j] = time.time()
                netlib.stop(servers[j])
                down[j] = time.time()
            i = rng.choice([j for j in range(n) if j not in down])
            out = netlib.muster(homes[i], "event", "add", "--title",
                                "Propagation test %d" % e, "--start",
                                "2031-05-%02dT18:00Z" % (1 + e % 28), "--where",
                                "Hall %d" % e, "--description",
                                "An event to time how fast it spreads. " * 3)
            published[out.strip().split()[-1]] = (time.time(), i)
            time.sleep(0.1)
        for j, t in list(down.items()):
            time.sleep(max(0.0, CHURN_DOWN_S - (time.time() - t)))
            servers[j] = netlib.serve(work, homes[j], network, ports[j],
                                      log_level="debug")
            restarts[j].append(time.time())
        log("churn: %d nodes stopped for %.1f s each during the publishing",
            len(churned), CHURN_DOWN_S)

        ids = {}
        for addr, (t0, i) in published.items():
            shown = netlib.muster(homes[i], "show", addr, "--json")
            m = re.search(r'"id":\s*"([0-9a-f]{64})"', shown)
            if not m:
                sys.exit("cannot find the id of %s" % addr)
            ids[m.group(1)] = (t0, i)

        def all_arrived():
            got = [arrivals(h) for h in homes]
            for rid, (_t0, i) in ids.items():
                for j in range(n):
                    if j != i and rid not in got[j]:
                        return None
            return got

        got = netlib.wait_until(all_arrived, 300, "every event at every node",
                                interval=0.5)
        sent = sum(p.total() for p in proxies) - before
        sizes = record_sizes(work, homes[0])
        for p in proxies:
            p.close()
        for s in servers:
            netlib.stop(s)
        if os.environ.get("NET_BENCH_KEEP"):
            # What a look at the tail needs besides the nodes' logs.
            with open(os.path.join(work.path, "prop.json"), "w") as f:
                json.dump({"edges": edges, "ids": ids, "restarts": restarts,
                           "stops": stops, "homes": homes}, f)
        def since(j, t0, at):
            """When node j could first receive an event published at t0 that
            it stored at at: t0, or its last restart between the two."""
            return max([t0] + [r for r in restarts[j] if r <= at])

        times = []
        for rid, (t0, i) in ids.items():
            last = max(got[j][rid] - since(j, t0, got[j][rid])
                       for j in range(n) if j != i)
            times.append(max(0.0, last) * 1000)
        mean_size = sum(sizes[rid] for rid in ids) / len(ids)
        log("%d events, mean record %.0f bytes; %d bytes sent by all nodes",
            len(ids), mean_size, sent)
        figure("prop_nodes", n, "nodes")
        figure("prop_p50_ms", percentile(times, 50), "ms")
        figure("prop_p99_ms", percentile(times, 99), "ms")
        figure("prop_max_ms", max(times), "ms")
        figure("prop_bytes_ratio", sent / (len(ids) * n * mean_size), "ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
