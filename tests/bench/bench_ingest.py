#!/usr/bin/python3
"""Ingest (issue 6, item 1): `muster import` of N generated records of G
groups into an empty store, a real process, timed from its start to its
exit, against two baselines measured in the same run on the same file
(tests/bench/baselines.c):
  - a plain single-threaded loop of crypto_sign_verify_detached over the
    records' signatures, the physical limit of one core;
  - a plain LMDB batched insert of the same record bytes;
and muster's store alone, fed the same records parsed beforehand.

The verify baseline runs before and after each import, and each import's
ratio is against the mean of its two neighbours, so that a change of load
on the shared machine during the run affects both sides alike.

Figures:
  verify_baseline_rate    rec/s       the verify loop, one core (mean)
  ingest_1core_rate       rec/s       import --threads 1 (one verifying thread)
  ingest_1core_ratio      x_verify    over the verify baseline (target >= 0.85)
  ingest_2core_rate       rec/s       import --threads 2
  ingest_2core_ratio      x_verify    (target >= 1.6)
  verify_2thread_rate     rec/s       the verify loop on two threads, each
                                      over half of the records, right after
                                      the two-thread import
  verify_2thread_ratio    x_verify    that over the verify baseline: what two
                                      cores of this machine give for
                                      verification alone, the ceiling of
                                      ingest_2core_ratio (2 on two real cores)
  ingest_2core_vs_2thread x_two_thread_verify
                                      ingest_2core_rate over verify_2thread_rate
  ingest_cpu_per_rec      us/rec      CPU time of import --threads 2 (all
                                      threads, user + system) per record
  verify_baseline_cpu_per_rec us/rec  CPU time of the verify loop alone per
                                      record (without reading the file and
                                      hashing the records before it starts)
  ingest_2core_cpu_bound  x_verify    2 x that over ingest_cpu_per_rec: the
                                      2-core ratio two idle cores would give,
                                      computed from CPU times, which the load
                                      of a shared machine inflates less
  ingest_disk_per_rec     B/rec       bytes import wrote (write(2) and kin),
                                      the --threads 2 run, per record
  ingest_store_per_rec    B/rec       the store's data.mdb size per record
  store_baseline_rate     rec/s       the plain LMDB insert
  store_baseline_disk_per_rec B/rec   bytes it wrote per record
  ingest_disk_ratio       x_lmdb      ingest_disk_per_rec over that
  ingest_vs_store_baseline x_lmdb     ingest_2core_rate over store_baseline_rate
  store_put_cpu_per_rec   us/rec      muster's store alone (baselines store:
                                      mu_store_put of the records parsed
                                      beforehand): what the storing thread
                                      costs per record; the 2-core target
                                      needs it, with parsing, under a quarter
                                      of verify_baseline_cpu_per_rec
  store_put_disk_per_rec  B/rec       bytes it wrote per record

--quick: 5,000 records of 100 groups, and the figure names say so
(ingest_5k_...).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import netlib  # noqa: E402
from netlib import figure, log  # noqa: E402


def verify_rate(path):
    out = benchlib.measure([benchlib.tool("baselines"), "verify", path]).out
    return float(out.split()[1])


def verify_cpu(path):
    """CPU seconds per record of the verify loop alone (its own clock)."""
    out = benchlib.measure([benchlib.tool("baselines"), "verify", path]).out
    return float(out.splitlines()[1].split()[1]) / 1e6


def import_once(work, path, n, threads):
    home = os.path.join(work.path, "import-%d" % threads)
    os.mkdir(home)
    netlib.muster(home, "init", "--name", "bench")
    run = benchlib.measure([netlib.BIN, "--home", home, "import", "--threads",
                            str(threads), path])
    if not run.out.startswith("new %d," % n):
        raise RuntimeError("import stored other than %d new records: %s" % (n, run.out))
    size = os.path.getsize(os.path.join(home, "store", "data.mdb"))
    log("import --threads %d: %d records in %.2f s (%.2f s of CPU), wrote %d bytes, "
        "store %d bytes", threads, n, run.seconds, run.cpu, run.wchar, size)
    return n / run.seconds, run.wchar / n, size / n, run.cpu / n


def main():
    quick = "--quick" in sys.argv[1:]
    n, groups = (5000, 100) if quick else (100000, 1000)
    pre = "ingest_5k_" if quick else "ingest_"
    path, _ = benchlib.dataset(n, groups)
    with netlib.Workdir("ingest") as work:
        v = [verify_rate(path)]
        r1, _, _, _ = import_once(work, path, n, 1)
        v.append(verify_rate(path))
        r2, disk, store, cpu = import_once(work, path, n, 2)
        v.append(verify_rate(path))
        v2 = float(benchlib.measure([benchlib.tool("baselines"), "verify2",
                                     path]).out.split()[1])
        log("verify baseline runs: %s rec/s; on two threads %.0f rec/s",
            ", ".join("%.0f" % x for x in v), v2)
        lmdb_dir = os.path.join(work.path, "lmdb")
        os.mkdir(lmdb_dir)
        out = benchlib.measure([benchlib.tool("baselines"), "lmdb", path, lmdb_dir]).out
        store_dir = os.path.join(work.path, "store")
        os.mkdir(store_dir)
        out += benchlib.measure([benchlib.tool("baselines"), "store", path,
                                 store_dir]).out
        base = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()}

        figure("verify_baseline_rate", sum(v) / len(v), "rec/s")
        figure(pre + "1core_rate", r1, "rec/s")
        figure(pre + "1core_ratio", r1 / ((v[0] + v[1]) / 2), "x_verify")
        figure(pre + "2core_rate", r2, "rec/s")
        figure(pre + "2core_ratio", r2 / ((v[1] + v[2]) / 2), "x_verify")
        figure("verify_2thread_rate", v2, "rec/s")
        figure("verify_2thread_ratio", v2 / ((v[1] + v[2]) / 2), "x_verify")
        figure(pre + "2core_vs_2thread", r2 / v2, "x_two_thread_verify")
        vcpu = verify_cpu(path)
        figure(pre + "cpu_per_rec", cpu * 1e6, "us/rec")
        figure("verify_baseline_cpu_per_rec", vcpu * 1e6, "us/rec")
        figure(pre + "2core_cpu_bound", 2 * vcpu / cpu, "x_verify")
        figure(pre + "disk_per_rec", disk, "B/rec")
        figure(pre + "store_per_rec", store, "B/rec")
        figure("store_baseline_rate", base["store_baseline_rate"], "rec/s")
        figure("store_baseline_disk_per_rec", base["store_baseline_disk_per_rec"],
               "B/rec")
        figure(pre + "disk_ratio", disk / base["store_baseline_disk_per_rec"], "x_lmdb")
        figure(pre + "vs_store_baseline", r2 / base["store_baseline_rate"], "x_lmdb")
        figure("store_put_cpu_per_rec", base["store_put_cpu_per_rec"], "us/rec")
        figure("store_put_disk_per_rec", base["store_put_disk_per_rec"], "B/rec")
    return 0


if __name__ == "__main__":
    sys.exit(main())
