#!/usr/bin/python3
"""Reconnect (issue 6, item 3): two nodes that hold the same N records of G
groups reconnect; what does finding the differences cost?

Node A (`muster serve`) and node B hold the same store: the home that
imported the N records (benchlib.imported_home, shared with
bench_footprint.py within a run), copied twice (data.mdb, as `muster
restore` would put it back, without its check of every record). A keeps
the home's group key; B has its own (`muster init`). Both follow the G
groups. B then runs `muster sync` to A over loopback, through the real
transport: the node's own dial, handshake, hellos, reconciliation (B
initiates, A answers in push mode) and transfer, the code a daemon runs
when it dials a peer again (node/dial.c, node/sync.c), ending once B holds
what it lacked. Before each sync, A imports records B lacks: new events of
the same groups (gen_records --events-only --first N ..., so real signed
records with d tags of their own), while it serves:

  none       nothing: the two stores are the same
  one        1 record, newer than every other (created_at just after the
             newest of the N)
  recent     1,000 records newer than that one, at the density of the N
             (about 4 hours of a million records over 180 days): a node
             that was off for a while
  scattered  1,000 records spread evenly over the 180 days of the N

Each case starts from the end of the one before: B received the records of
the earlier cases. In each, B must receive exactly the records A stored for
the case, as new, and send none; a last sync after the cases must find
nothing to receive or send. (Counting a million records with `muster
status` takes tens of seconds: the syncs' own counts are used instead.)

The counts are the node's own, from the last line of `muster sync`:
  reconnect_<case>_round_trips  negentropy round trips (neg-open or neg
                                sent by B, and A's answer)
  reconnect_<case>_bytes        bytes of the messages that find and name
                                the differences: every neg-open, neg and
                                want, both ways, each framed as on the wire
                                (its 2-byte length and 16-byte tag)
  reconnect_<case>_wire_bytes   every byte B read and wrote: the above, the
                                handshake (400), the two hellos (by the
                                digest of the scope: 90 bytes each), the
                                records and their acks
  reconnect_<case>_ms           wall time of `muster sync`, start to exit
  reconnect_<case>_cpu_ms       CPU time of `muster sync` and of A's
                                `muster serve` during it (_cpu_b_ms and
                                _cpu_a_ms: each)
  reconnect_daemon_<case>_*     none and one again between two running
                                daemons, B's dialer reconnecting to A
                                (daemon_reconnect): no process start in
                                the CPU figures, which the targets are
                                judged on

In the "none" case nothing but the handshake, the hellos and the
reconciliation crosses the connection: the benchmark fails unless the
node's counts add up to its byte totals exactly.

--quick: 10,000 records of 100 groups (the same figure names; stderr says
so).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402

import msgpack  # noqa: E402  (python3-msgpack)

BASE = 1735689600  # gen_records' default --base: the N end just before it
SPAN = 180 * 86400  # and its default --span
HANDSHAKE = 400  # the three Noise XX messages with their lengths (PROTOCOL.md 9)
FRAMING = 18  # a frame's 2-byte length and 16-byte tag

DONE = re.compile(r"sync with \S+ done: (\d+) records received \((\d+) new, (\d+) "
                  r"rejected\), (\d+) sent; reconciled in (\d+) round trips, (\d+) "
                  r"bytes of negentropy and (\d+) of wants; (\d+) bytes read, "
                  r"(\d+) written$")


def extras(work, groups, label, first, count, base=BASE, span=SPAN):
    """count new events of the dataset's groups, records first.. of its
    stream, created_at spread over the span before base: a stream file."""
    path = os.path.join(work.path, label + ".muster")
    res = subprocess.run([benchlib.tool("gen_records"), "--events-only", "--records",
                          str(count), "--groups", str(groups), "--first", str(first),
                          "--base", str(base), "--span", str(span), path],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("gen_records failed (%d): %s" % (res.returncode, res.stderr))
    return path


def copy_home(src, dst, fresh):
    """A home holding src's store: src's whole home (its group key too), or,
    with fresh, a new home of its own (`muster init`) given src's data.mdb."""
    if not fresh:
        shutil.copytree(src, dst, symlinks=True)
    else:
        netlib.muster(dst, "init", "--name", os.path.basename(dst))
        shutil.copyfile(os.path.join(src, "store", "data.mdb"),
                        os.path.join(dst, "store", "data.mdb"))
    lock = os.path.join(dst, "store", "lock.mdb")
    if os.path.exists(lock):
        os.unlink(lock)


def hello_bytes(scope):
    """The hello of a node with scope groups and its time (a uint32 until
    2106) on a reconnect, framed as on the wire: the peer has had its list,
    so it gives only the list's digest (PROTOCOL.md 10.2), whatever the
    scope."""
    del scope  # the point: it does not count
    return len(msgpack.packb(["hello", {"agent": "muster", "digest": bytes(32),
                                        "time": 2 ** 31}],
                             use_bin_type=True)) + FRAMING


class Nodes:
    """A serving (restarted around its imports), B syncing with it."""

    def __init__(self, work, a, b, a_key):
        self.work, self.a, self.b, self.a_key = work, a, b, a_key
        self.network = "bench-" + os.urandom(4).hex()
        self.port = netlib.free_port()
        self.server = None

    def serve(self):
        if self.server is None:
            self.server = netlib.serve(self.work, self.a, self.network, self.port)

    def stop(self):
        if self.server is not None:
            netlib.stop(self.server)
            self.server = None

    def sync(self):
        """B's `muster sync` to A: the node's counts, its wall time, its CPU
        time and A's during it (seconds)."""
        self.serve()
        served = cpu_ns(self.server.pid)
        run = benchlib.measure([netlib.BIN, "--home", self.b, "sync", "--network",
                                self.network, "127.0.0.1:%d" % self.port, self.a_key])
        served = (cpu_ns(self.server.pid) - served) / 1e9
        last = run.err.strip().splitlines()[-1] if run.err.strip() else ""
        m = DONE.search(last)
        if m is None:
            sys.exit("muster sync printed no reconciliation counts: %r" % last[-500:])
        names = ("received", "new", "rejected", "sent", "rounds", "neg", "wants",
                 "read", "written")
        return dict(zip(names, (int(v) for v in m.groups()))), run.seconds, run.cpu, served

    def listed(self, on):
        """Both nodes list the records to reconcile (MUSTER_NEG_LISTED), as
        before the fingerprint table: the baseline. A restarts."""
        self.stop()
        if on:
            os.environ["MUSTER_NEG_LISTED"] = "1"
        else:
            os.environ.pop("MUSTER_NEG_LISTED", None)


def check(name, got, lacks):
    """B must have received the lacks records it lacked, all new, and sent
    nothing."""
    if (got["received"], got["new"], got["rejected"], got["sent"]) != (lacks, lacks, 0, 0):
        sys.exit("%s: B lacked %d records and received %d (%d new, %d rejected), "
                 "sent %d" % (name, lacks, got["received"], got["new"],
                              got["rejected"], got["sent"]))


def case(nodes, name, path, lacks, groups, listed=False):
    """One reconnect after A imported path (lacks records): its figures."""
    if path is not None:
        # While A is stopped: a daemon pushes what others store while it
        # runs to its peers at once (its store log), which would race the
        # reconciliation; what was stored before its start is left to
        # reconciliation.
        nodes.stop()
        out = netlib.muster(nodes.a, "import", path)
        if not out.startswith("new %d, " % lacks):
            sys.exit("%s: A imported %r, not %d new records" % (name, out, lacks))
    got, seconds, cpu, served = nodes.sync()
    check(name, got, lacks)
    wire = got["read"] + got["written"]
    if name == "none":
        # Nothing else crossed: the counts must add up exactly. Each
        # scope is the node's own group and the G it follows.
        other = HANDSHAKE + 2 * hello_bytes(groups + 1)
        if got["neg"] + got["wants"] + other != wire:
            sys.exit("none: the node counted %d bytes of negentropy and %d of "
                     "wants; with the handshake and hellos (%d) that is not the "
                     "%d bytes on the wire" % (got["neg"], got["wants"], other, wire))
    log("%s%s: B lacked %d records: %d round trips, %d bytes of negentropy, %d of "
        "wants, %d on the wire; %.0f ms, CPU %.0f ms in B and %.0f ms in A", name,
        " (listed)" if listed else "", lacks, got["rounds"], got["neg"],
        got["wants"], wire, seconds * 1000, cpu * 1000, served * 1000)
    if listed:
        name += "_listed"
    figure("reconnect_%s_round_trips" % name, got["rounds"], "trips")
    figure("reconnect_%s_bytes" % name, got["neg"] + got["wants"], "bytes")
    figure("reconnect_%s_wire_bytes" % name, wire, "bytes")
    figure("reconnect_%s_ms" % name, seconds * 1000, "ms")
    figure("reconnect_%s_cpu_ms" % name, (cpu + served) * 1000, "ms")
    figure("reconnect_%s_cpu_b_ms" % name, cpu * 1000, "ms")
    figure("reconnect_%s_cpu_a_ms" % name, served * 1000, "ms")


RECONCILED = re.compile(r"peer \S+: reconciled, (\d+) records to send, (\d+) to "
                        r"fetch; (\d+) round trips, (\d+) bytes")


def cpu_ns(pid):
    """CPU time of a running process, all its threads, in nanoseconds: the
    scheduler's own count (/proc/PID/task/*/schedstat), finer than the 10 ms
    ticks of /proc/PID/stat."""
    total = 0
    task = "/proc/%d/task" % pid
    for tid in os.listdir(task):
        try:
            with open(os.path.join(task, tid, "schedstat")) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total


def quiet(pid, what):
    """Waits until the process used no CPU for 0.2 s: a daemon done with
    its start (the store's open, the scope)."""
    last = [cpu_ns(pid)]

    def still():
        time.sleep(0.2)
        now = cpu_ns(pid)
        done = now - last[0] < 2000000  # under 1%: its timers only
        last[0] = now
        return done

    netlib.wait_until(still, 60, what, interval=0)


def daemon_reconnect(nodes, name, lacks, same=None):
    """B as a running daemon learns A's address (`muster peer add`, which a
    running daemon reads within 2 s) and dials it, as its dialer does when
    it reconnects: no process starts in the figure. B must receive lacks
    records (fetched, or pushed by A in its answers) and send none; with same (`muster sync`'s counts for the same
    two stores), its round trips and bytes must be those. The CPU of both
    daemons from the peer's addition to B's line of the reconciliation:
    reconnect_daemon_<name>_cpu_b_ms (up to 2 s of an idle daemon's timers
    before its dial included) and reconnect_daemon_<name>_cpu_a_ms. With
    lacks, B must then count them received (`muster peer list`, saved at
    its next tick) before it stops; the CPU until then is logged."""
    nodes.serve()
    err = nodes.b + ".serve.err"
    start = os.path.getsize(err) if os.path.exists(err) else 0
    b = netlib.serve(nodes.work, nodes.b, nodes.network, netlib.free_port())
    quiet(b.pid, "B's daemon settling after its start")
    quiet(nodes.server.pid, "A's daemon settling")
    # An idle daemon's own timers, for the log: what B's figure carries.
    t, b0 = time.monotonic(), cpu_ns(b.pid)
    time.sleep(2)
    idle = (cpu_ns(b.pid) - b0) / 1e6 / (time.monotonic() - t)
    t, a0, b0 = time.monotonic(), cpu_ns(nodes.server.pid), cpu_ns(b.pid)
    netlib.muster(nodes.b, "peer", "add", "127.0.0.1:%d" % nodes.port, nodes.a_key)

    def reconciled():
        with open(err) as f:
            f.seek(start)
            return RECONCILED.search(f.read())

    def received():
        # The daemon saves its peers' counts every tick and at the end.
        out = netlib.muster(nodes.b, "peer", "list", "--json")
        return any(p.get("address") == "127.0.0.1:%d" % nodes.port and
                   (p.get("received") or 0) >= lacks for p in json.loads(out))

    m = netlib.wait_until(reconciled, 120, "B's daemon reconciling with A")
    a1, b1 = cpu_ns(nodes.server.pid), cpu_ns(b.pid)
    log("%s: B's daemon idle used %.2f ms a second; %.1f s from the peer's "
        "addition to its reconciliation", name, idle, time.monotonic() - t)
    if lacks > 0:
        netlib.wait_until(received, 120, "B's daemon receiving what it lacked")
        log("%s: CPU until B's count of records received said %d: %.1f ms in B, "
            "%.1f ms in A (a tick of both daemons included)", name, lacks,
            (cpu_ns(b.pid) - b0) / 1e6, (cpu_ns(nodes.server.pid) - a0) / 1e6)
    netlib.stop(b)
    netlib.muster(nodes.b, "peer", "remove", "127.0.0.1:%d" % nodes.port)
    got = tuple(int(v) for v in m.groups())
    # What B lacked comes as its wants or pushed by A, in A's answers.
    if got[0] != 0 or got[1] > lacks or (same is not None and
                                         got[1:] != (0, same["rounds"], same["neg"])):
        sys.exit("B's daemon reconciled with A: %d to send, %d to fetch, %d round "
                 "trips, %d bytes; it lacked %d%s" % (
                     got + (lacks, "" if same is None else
                            "; muster sync: %d round trips, %d bytes"
                            % (same["rounds"], same["neg"]))))
    log("%s: B's daemon dialing A: %d wanted, %d round trips, %d bytes; CPU "
        "%.1f ms in B, %.1f ms in A", name, got[1], got[2], got[3],
        (b1 - b0) / 1e6, (a1 - a0) / 1e6)
    figure("reconnect_daemon_%s_round_trips" % name, got[2], "trips")
    figure("reconnect_daemon_%s_cpu_b_ms" % name, (b1 - b0) / 1e6, "ms")
    figure("reconnect_daemon_%s_cpu_a_ms" % name, (a1 - a0) / 1e6, "ms")


def main():
    quick = "--quick" in sys.argv[1:]
    n, groups = (10000, 100) if quick else (1000000, 1000)
    if quick:
        log("net_reconnect: quick mode, %d records (a full run has 1,000,000)", n)
    step = SPAN // n  # seconds between two records of the N
    with netlib.Workdir("net-reconnect") as work:
        src = benchlib.imported_home(n, groups)
        t0 = time.monotonic()
        a, b = os.path.join(work.path, "a"), os.path.join(work.path, "b")
        copy_home(src, a, fresh=False)
        copy_home(src, b, fresh=True)
        nodes = Nodes(work, a, b, netlib.muster(a, "id").strip().split()[-1])
        log("two homes holding the %d records of %d groups, in %.1f s", n, groups,
            time.monotonic() - t0)
        one_at = BASE + step  # created_at of "one": BASE, after the N's newest
        # First contact: each node has the other's scope in full once; the
        # cases are reconnects, with hellos by digest.
        check("first contact", nodes.sync()[0], 0)
        case(nodes, "none", None, 0, groups)
        case(nodes, "one", extras(work, groups, "one", n, 1, one_at, step), 1, groups)
        case(nodes, "recent", extras(work, groups, "recent", n + 1, 1000,
                                     one_at + 1000 * step, 1000 * step), 1000, groups)
        case(nodes, "scattered", extras(work, groups, "scattered", n + 1001, 1000),
             1000, groups)
        # B must now hold what A holds: nothing left to reconcile.
        same = nodes.sync()[0]
        check("after the cases", same, 0)
        daemon_reconnect(nodes, "none", 0, same)
        # A new record that A stores while it runs, with no peer connected
        # to push it to: left to the next reconciliation.
        path = extras(work, groups, "daemon_one", n + 3001, 1,
                      one_at + 1500 * step, step)
        out = netlib.muster(nodes.a, "import", path)
        if not out.startswith("new 1, "):
            sys.exit("daemon one: A imported %r, not 1 new record" % out)
        daemon_reconnect(nodes, "one", 1)
        # The baseline, in the same run: the records listed, as before
        # the fingerprint table.
        nodes.listed(True)
        # `peer remove` in daemon_reconnect() made B forget A's scope
        # (its hellos entry): a first contact again, then reconnects.
        check("first contact, listed", nodes.sync()[0], 0)
        case(nodes, "none", None, 0, groups, listed=True)
        case(nodes, "one", extras(work, groups, "one_listed", n + 2001, 1,
                                  one_at + 2000 * step, step), 1, groups,
             listed=True)
        nodes.listed(False)
        nodes.stop()
        log("net_reconnect: %.1f s after the import", time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
