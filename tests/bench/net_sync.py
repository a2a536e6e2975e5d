#!/usr/bin/python3
"""Catch-up sync (issue 6, item 2): an empty node syncs N records of G groups
from a peer over loopback through the real transport.

Node A imports the records (`muster import`, timed: the ingest figure of the
same run on the same file) and serves them (`muster serve`); node B, empty,
runs `muster sync` against A directly. Both follow every group, so every
record is in both scopes. The sync is timed from the start
of the `muster sync` process to its exit (handshake, reconciliation,
transfer, verification and storage of every record); B must then hold
every record A holds (fewer than N: the stream's edits replace and its
deletes remove some).

The sync runs ROUNDS times, each into a new empty B, with an import into a
new home after each: imports and syncs alternate. The figures take the
fastest sync and the fastest import: other work on a shared machine only
ever adds time, and a burst of it during one sync (or one import) made a
single pair of runs differ by a fifth.

Figures:
  sync_records_per_s    records stored by B per second of sync
  sync_vs_ingest        that rate over `muster import`'s rate (N records over
                        the wall time of the fastest import of the same file
                        into a fresh home)
  sync_cpu_vs_ingest    the same with CPU time: the import's CPU seconds per
                        record over `muster sync`'s (the receiving process;
                        the serving one is not counted), of the same runs
  sync_wire_ratio       TCP payload bytes both ways (handshake, every frame)
                        over the bytes of the records themselves; `muster
                        sync` counts them (its last line)
  sync_recv_cpu_per_rec CPU of the receiving `muster sync` per record
  sync_send_cpu_per_rec CPU of the serving `muster serve` during the sync
                        per record (from /proc/PID/stat)

The byte counts are the node's own, so that no proxy competes for the cores
during the timed sync. --quick checks them: a second sync into a fresh
home runs through a counting TCP proxy, and the node's counts must equal
the proxy's byte for byte both ways.

--quick: 5,000 records of 100 groups.
"""

import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

import msgpack  # noqa: E402  (python3-msgpack)

ROUNDS = 2


def timed(*argv):
    """Runs argv; returns (wall seconds, CPU seconds, CompletedProcess)."""
    def children_cpu():
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    cpu = children_cpu()
    t = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=netlib.env())
    out, err = p.communicate(timeout=900)
    wall = time.monotonic() - t
    # Only this child was reaped meanwhile (the daemon is reaped at its stop).
    cpu = children_cpu() - cpu
    return wall, cpu, subprocess.CompletedProcess(argv, p.returncode, out, err)


def wire_bytes(res):
    """(read, written): the bytes `muster sync` says it moved."""
    m = re.search(rb"; (\d+) bytes read, (\d+) written", res.stderr)
    if m is None:
        sys.exit("muster sync printed no byte counts: %s"
                 % res.stderr.decode(errors="replace")[-500:])
    return int(m.group(1)), int(m.group(2))


def sync(home, network, addr, key):
    """Runs `muster sync`; returns (wall s, CPU s, CompletedProcess)."""
    wall, cpu, res = timed(netlib.BIN, "--home", home, "sync", "--network", network,
                           addr, key)
    if res.returncode != 0:
        sys.exit("muster sync failed (%d): %s" % (res.returncode,
                                                  res.stderr.decode(errors="replace")))
    return wall, cpu, res


def check_counts(work, keys, network, port, a_key):
    """A sync through a counting proxy: the node's counts must be the proxy's."""
    d, _ = netlib.new_home(work, "d")
    netlib.follow(d, keys)
    proxy = netlib.Proxy(port)
    _, _, res = sync(d, network, "127.0.0.1:%d" % proxy.port, a_key)
    # The proxy forwards what it counts: once B has read the last byte, it
    # was counted; give the proxy's threads a moment for B's last write.
    netlib.wait_until(lambda: proxy.up >= wire_bytes(res)[1], 10, "the proxy's count")
    got = wire_bytes(res)
    proxy.close()
    if got != (proxy.down, proxy.up):
        sys.exit("muster sync counted %d bytes read and %d written, the proxy "
                 "%d and %d" % (got[0], got[1], proxy.down, proxy.up))
    log("byte counts checked against the proxy: %d read, %d written", *got)


def count(home):
    """The records a home holds, from `muster status`."""
    for line in netlib.muster(home, "status").splitlines():
        if line.startswith("records:"):
            return int(line.split()[1])
    raise RuntimeError("muster status printed no record count")


def held_bytes(work, home, keys):
    """The bytes of the records of those groups that home holds, as signed."""
    path = os.path.join(work.path, "held.muster")
    netlib.muster(home, "export", path)
    wanted = set(keys)
    total = 0
    with open(path, "rb") as f:
        data = f.read()
    unpacker = msgpack.Unpacker(raw=True)
    unpacker.feed(data)
    unpacker.unpack()  # the magic
    pos = unpacker.tell()
    for body, _sig in unpacker:
        end = unpacker.tell()
        if msgpack.unpackb(body, raw=True)[2] in wanted:
            total += end - pos
        pos = end
    return total


def main():
    quick = "--quick" in sys.argv[1:]
    n, groups = (5000, 100) if quick else (100000, 1000)
    with netlib.Workdir("net-sync") as work:
        path, seeds = benchlib.dataset(n, groups)
        keys = benchlib.group_keys(seeds)
        a, a_key = netlib.new_home(work, "a")
        netlib.follow(a, keys)

        imports = [timed(netlib.BIN, "--home", a, "import", path)]

        network = "bench-" + os.urandom(4).hex()
        port = netlib.free_port()
        server = netlib.serve(work, a, network, port)
        syncs = []
        for i in range(ROUNDS):
            b, _ = netlib.new_home(work, "b%d" % i)
            netlib.follow(b, keys)
            send_cpu = benchlib.proc_cpu(server.pid)
            wall, cpu, res = sync(b, network, "127.0.0.1:%d" % port, a_key)
            syncs.append((wall, cpu, benchlib.proc_cpu(server.pid) - send_cpu, res, b))
            # The daemon only waits meanwhile.
            c, _ = netlib.new_home(work, "c%d" % i)
            imports.append(timed(netlib.BIN, "--home", c, "import", path))
        if quick:
            check_counts(work, keys, network, port, a_key)
        netlib.stop(server)
        for im in imports:
            if im[2].returncode != 0:
                sys.exit("muster import failed: %s" % im[2].stderr.decode(errors="replace"))
            log("import: %d records in %.2f s (%.2f s CPU)", n, im[0], im[1])
        best_import = min(imports, key=lambda im: im[0])
        ingest = n / best_import[0]
        ingest_cpu = best_import[1] / n
        # Each holds its own profile besides the records of the N that were
        # kept (edits replace, deletes remove some of them).
        held = count(a) - 1
        for wall, cpu, send, res, b in syncs:
            got = count(b) - 1
            if got != held:
                sys.exit("B holds %d records after the sync, A %d" % (got, held))
            log("sync: %d records in %.2f s (%.2f s CPU receiving, %.2f s sending)",
                held, wall, cpu, send)
        sync_s, sync_cpu, send_cpu, res, _ = min(syncs, key=lambda s: s[0])
        down, up = wire_bytes(res)
        sent_bytes = held_bytes(work, a, keys)
        log("sync: %d records, %d bytes, in %.2f s; wire bytes up %d down %d; "
            "CPU %.2f s receiving, %.2f s sending", held, sent_bytes, sync_s, up,
            down, sync_cpu, send_cpu)
        figure("sync_records_per_s", held / sync_s, "records/s")
        figure("sync_vs_ingest", (held / sync_s) / ingest, "ratio")
        figure("sync_cpu_vs_ingest", ingest_cpu / (sync_cpu / held), "ratio")
        figure("sync_wire_ratio", (up + down) / sent_bytes, "ratio")
        figure("sync_recv_cpu_per_rec", sync_cpu / held * 1e6, "us")
        figure("sync_send_cpu_per_rec", send_cpu / held * 1e6, "us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
