#!/usr/bin/python3
"""Where the propagation benchmark's tail goes: reads a work directory that
net_propagation.py kept (NET_BENCH_KEEP=1: the nodes' debug logs and
prop.json) and prints

  - the slowest events, each with the nodes that got it last (after a
    restart or not) and their links (in: the other node dials; *: churned);
  - each churned node: how long it was down, when its links came back after
    its restart (handshakes), and how soon it caught up;
  - the path of the slowest events, node by node ("new record ID from
    CONN" names the peer each node got it from), with each hop's time;
  - hop times over all events: the first hop (the publisher's store-log
    poll, the push, the proxy, the commit) and the relays (announce, want,
    records: three crossings of the proxy, then the commit).

Usage: prop_tail.py WORKDIR [EVENTS]
"""

import calendar
import json
import os
import re
import sys
import time


def stamp(text):
    base, frac = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000


def read_log(home):
    out = []
    with open(home + ".serve.err", errors="replace") as f:
        for line in f:
            m = re.match(r"^(\S+Z) (\w+) (.*)$", line.rstrip())
            if m:
                out.append((stamp(m.group(1)), m.group(3)))
    return out


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    work = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    with open(os.path.join(work, "prop.json")) as f:
        d = json.load(f)
    homes, edges = d["homes"], d["edges"]
    n = len(homes)
    restarts = {int(k): v for k, v in d["restarts"].items()}
    stops = {int(k): v for k, v in d["stops"].items()}
    logs = [read_log(h) for h in homes]

    # Arrivals ({id: (time, connection)}) and each node's connections by
    # the group they reached ("handshake done, group G").
    arr, keys, names = [], {}, []
    for j, lines in enumerate(logs):
        a = {}
        for t, msg in lines:
            m = re.match(r"new record ([0-9a-f]{64}) from (\S+)", msg)
            if m and m.group(1) not in a:
                a[m.group(1)] = (t, m.group(2))
            m = re.match(r"serving group (\S+) on", msg)
            if m:
                keys[m.group(1)] = j
        arr.append(a)
    for lines in logs:
        nm = {}
        for _t, msg in lines:
            m = re.match(r"(?:connected to|connection from) (\S+): handshake done, "
                         r"group (\S+)", msg)
            if m and m.group(2) in keys:
                nm[m.group(1)] = keys[m.group(2)]
        names.append(nm)
    links = {j: [] for j in range(n)}
    for a, b in edges:
        links[a].append("out%02d%s" % (b, "*" if b in stops else ""))
        links[b].append("in%02d%s" % (a, "*" if a in stops else ""))

    res = []
    for rid, (t0, i) in d["ids"].items():
        per = []
        for j in range(n):
            if j == i:
                continue
            at = arr[j][rid][0]
            since = max([t0] + [r for r in restarts.get(j, []) if r <= at])
            per.append((at - since, j, since > t0))
        per.sort(reverse=True)
        res.append((per[0][0], rid, t0, i, per))
    res.sort(reverse=True)
    times = [r[0] * 1000 for r in res]
    print("p50 %.0f  p99 %.0f  max %.0f ms" % (pct(times, 50), pct(times, 99), max(times)))

    for tm, rid, _t0, i, per in res[:top]:
        print("\nevent %s from n%02d: %.0f ms; last nodes:" % (rid[:8], i, tm * 1000))
        for dt, j, after in per[:4]:
            print("  n%02d %5.0f ms%s  links %s" % (j, dt * 1000,
                                                  " (since its restart)" if after else "",
                                                  " ".join(links[j])))

    print("\nchurned nodes (handshakes: ms after the restart was seen listening):")
    for j in sorted(stops):
        r = restarts[j][0]
        hs = ["%.0f %s" % ((t - r) * 1000, "out" if msg.startswith("connected") else "in")
              for t, msg in logs[j] if t >= r - 0.5 and "handshake done" in msg][:4]
        caught = [arr[j][rid][0] - r for rid, (t0, i) in d["ids"].items()
                  if i != j and t0 < r <= arr[j][rid][0]]
        print("  n%02d down %.2f s, %s; caught up within %.0f ms; handshakes %s" % (
            j, r - stops[j], " ".join(links[j]), max(caught) * 1000 if caught else 0,
            ", ".join(hs)))

    print("\npaths of the slowest events (ms since publication [hop]):")
    for _tm, rid, t0, i, per in res[:top]:
        j, path = per[0][1], []
        while j is not None and j != i and len(path) < 50:
            at, via = arr[j][rid]
            path.append((j, at))
            j = names[j].get(via)
        path.append((i, t0))
        path.reverse()
        steps, prev = [], None
        for k, at in path:
            steps.append("n%02d %.0f%s" % (k, (at - t0) * 1000,
                                           "" if prev is None else " [%.0f]" % ((at - prev) * 1000)))
            prev = at
        print("  %s: %s" % (rid[:8], " -> ".join(steps)))

    first, relay, hops = [], [], []
    for _tm, rid, t0, i, per in res:
        for _dt, j, after in per:
            via = names[j].get(arr[j][rid][1])
            if after or via is None:
                continue
            at = arr[j][rid][0]
            (first if via == i else relay).append(
                (at - (t0 if via == i else arr[via][rid][0])) * 1000)
        j, h = per[0][1], 0
        while j is not None and j != i and h < 50:
            j, h = names[j].get(arr[j][rid][1]), h + 1
        hops.append(h)
    for what, v in (("first hops", first), ("relay hops", relay)):
        print("%s: %d, p50 %.0f  p90 %.0f  p99 %.0f  max %.0f ms" % (
            what, len(v), pct(v, 50), pct(v, 90), pct(v, 99), max(v)))
    print("hops to the last node: mean %.1f, max %d" % (sum(hops) / len(hops), max(hops)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
