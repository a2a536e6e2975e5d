#!/usr/bin/python3
"""The benchmark harness of issue 6 (docs/BENCHMARKS.md): `make bench` and
`make bench-quick` build muster (RelWithDebInfo) and run this.

    tests/bench/run.py [--quick] [--build DIR] [NAME...]

It builds nothing. It runs, in sorted order of their names, every benchmark
it finds:
  - tests/bench/bench_*.py and tests/bench/net_*.py, with /usr/bin/python3;
  - the programs DIR/tests/bench/bench_* and DIR/tests/bench/net_* (built
    from tests/bench/bench_*.c and net_*.c).
NAME... runs only the benchmarks whose name (without .py) contains one of
them. Each gets --quick when given, and in its environment:
  MUSTER_BIN          DIR/muster
  MUSTER_SOURCE_DIR   the repository
  MUSTER_BUILD_DIR    DIR (gen_records and baselines are in DIR/tests/bench)
  MUSTER_BENCH_CACHE  a directory for data the benchmarks share within this
                      run (benchlib.py: generated streams, imported homes);
                      removed at the end
A benchmark prints figure lines `name value unit` on stdout, diagnostics on
stderr, and exits non-zero on failure. This prints every figure line as it
comes, and on stderr how long each benchmark took. It exits 1 when any
benchmark failed or printed a malformed line, after running the others.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
FIGURE = re.compile(r"^[a-z][a-z0-9_]* -?[0-9][0-9.e+-]* [A-Za-z_/%]+$")


def log(fmt, *args):
    print("run.py: " + (fmt % args if args else fmt), file=sys.stderr, flush=True)


def find(build):
    """(name, argv) of every benchmark, sorted by name."""
    found = {}
    for f in os.listdir(HERE):
        if re.match(r"^(bench|net)_[a-z0-9_]+\.py$", f):
            found[f[:-3]] = ["/usr/bin/python3", os.path.join(HERE, f)]
    bindir = os.path.join(build, "tests", "bench")
    if os.path.isdir(bindir):
        for f in os.listdir(bindir):
            path = os.path.join(bindir, f)
            if (re.match(r"^(bench|net)_[a-z0-9_]+$", f) and os.path.isfile(path)
                    and os.access(path, os.X_OK) and f not in found):
                found[f] = [path]
    return sorted(found.items())


def run_one(name, argv, env, quick):
    """Runs one benchmark; returns its problems (empty when it went well)."""
    problems = []
    t0 = time.monotonic()
    p = subprocess.Popen(argv + (["--quick"] if quick else []), env=env,
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        line = line.rstrip("\n")
        if FIGURE.match(line):
            print(line, flush=True)
        else:
            problems.append("malformed figure line %r" % line)
    rc = p.wait()
    if rc != 0:
        problems.append("exited %d" % rc)
    log("%s: %.1f s%s", name, time.monotonic() - t0,
        "" if not problems else ": " + "; ".join(problems))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small data sets, under a minute: checks that it works")
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"),
                    help="the build directory (default: build/)")
    ap.add_argument("names", nargs="*", help="run only benchmarks matching these")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    needed = [os.path.join(build, "muster"),
              os.path.join(build, "tests", "bench", "gen_records"),
              os.path.join(build, "tests", "bench", "baselines")]
    for path in needed:
        if not os.access(path, os.X_OK):
            log("%s is missing: build first (make bench builds, then runs this)", path)
            return 1
    benches = [(n, a) for n, a in find(build)
               if not args.names or any(s in n for s in args.names)]
    if not benches:
        log("no benchmark matches %s", " ".join(args.names))
        return 1

    cache = tempfile.mkdtemp(prefix="muster-bench-")
    env = dict(os.environ)
    env.pop("MUSTER_HOME", None)
    env.update(MUSTER_BIN=needed[0], MUSTER_SOURCE_DIR=SOURCE, MUSTER_BUILD_DIR=build,
               MUSTER_BENCH_CACHE=cache, PYTHONDONTWRITEBYTECODE="1")
    failed = []
    t0 = time.monotonic()
    log("%s run of %s", "quick" if args.quick else "full",
        ", ".join(n for n, _ in benches))
    try:
        for name, argv in benches:
            if run_one(name, argv, env, args.quick):
                failed.append(name)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    log("done in %.1f s%s", time.monotonic() - t0,
        "" if not failed else "; FAILED: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
