#!/usr/bin/python3
"""Catch-up sync (issue 6, item 2): an empty node syncs N records of G groups
from a peer over loopback through the real transport.

Node A imports the records (`muster import`, timed: the ingest figure of the
same run on the same file) and serves them (`muster serve`); node B, empty,
runs `muster sync` against A through a counting TCP proxy. Both follow every
group, so every record is in both scopes. The sync is timed from the start
of the `muster sync` process to its exit (handshake, reconciliation,
transfer, verification and storage of every record); B must then hold
every record A holds (fewer than N: the stream's edits replace and its
deletes remove some).

Figures:
  sync_records_per_s    records stored by B per second of sync
  sync_vs_ingest        that rate over `muster import`'s rate (N records over
                        the import's wall time)
  sync_wire_ratio       TCP payload bytes both ways (handshake, every frame)
                        over the bytes of the records themselves

--quick: 5,000 records of 100 groups.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

import msgpack  # noqa: E402  (python3-msgpack)


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
        b, _ = netlib.new_home(work, "b")
        netlib.follow(a, keys)
        netlib.follow(b, keys)

        t = time.monotonic()
        netlib.muster(a, "import", path)
        import_s = time.monotonic() - t
        ingest = n / import_s
        log("import: %d records in %.2f s, %.0f records/s", n, import_s, ingest)

        network = "bench-" + os.urandom(4).hex()
        port = netlib.free_port()
        server = netlib.serve(work, a, network, port)
        proxy = netlib.Proxy(port)
        t = time.monotonic()
        res = subprocess.run([netlib.BIN, "--home", b, "sync", "--network", network,
                              "127.0.0.1:%d" % proxy.port, a_key],
                             capture_output=True, env=netlib.env(), timeout=900)
        sync_s = time.monotonic() - t
        time.sleep(0.2)  # the proxy's last bytes
        wire = proxy.total()
        proxy.close()
        netlib.stop(server)
        if res.returncode != 0:
            sys.exit("muster sync failed (%d): %s" % (res.returncode,
                                                      res.stderr.decode(errors="replace")))
        # Each holds its own profile besides the records of the N that were
        # kept (edits replace, deletes remove some of them).
        held, got = count(a) - 1, count(b) - 1
        if got != held:
            sys.exit("B holds %d records after the sync, A %d" % (got, held))
        sent_bytes = held_bytes(work, a, keys)
        log("sync: %d records, %d bytes, in %.2f s; wire bytes up %d down %d",
            held, sent_bytes, sync_s, proxy.up, proxy.down)
        figure("sync_records_per_s", held / sync_s, "records/s")
        figure("sync_vs_ingest", (held / sync_s) / ingest, "ratio")
        figure("sync_wire_ratio", wire / sent_bytes, "ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
