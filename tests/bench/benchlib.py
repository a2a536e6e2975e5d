"""Data and measurements the benchmarks share, on top of netlib.py (homes,
servers, figures).

Generated export streams are kept in BUILD/bench-data/ across runs (see
dataset()); homes that imported them are kept in MUSTER_BENCH_CACHE (set by
run.py for one run), so a later benchmark reuses what an earlier one made:
generating and importing a million records takes minutes. Without
MUSTER_BENCH_CACHE, a private temporary directory is used.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlib  # noqa: E402
from netlib import log  # noqa: E402

BUILD = os.environ.get("MUSTER_BUILD_DIR") or os.path.dirname(netlib.BIN)
TOOLS = os.path.join(BUILD, "tests", "bench")
CACHE = os.environ.get("MUSTER_BENCH_CACHE") or tempfile.mkdtemp(prefix="muster-bench-")


def tool(name):
    path = os.path.join(TOOLS, name)
    if not os.access(path, os.X_OK):
        sys.exit("%s is missing: build the benchmarks first (make bench)" % path)
    return path


def _generator_version():
    """A digest of the gen_records binary: streams it made are reused only
    while it is the same program."""
    import hashlib

    with open(tool("gen_records"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def dataset(n, groups, events_only=False, seed=1):
    """The export stream of gen_records for these arguments; returns (path,
    seeds_path) where seeds_path lists each group's Ed25519 seed in hex, one
    per line. The output depends only on the arguments, so streams are kept
    across runs in BUILD/bench-data/, per version of the generator (a
    million records take minutes to sign on a busy machine); delete the
    directory to reclaim the space."""
    store = os.path.join(BUILD, "bench-data", _generator_version())
    os.makedirs(store, exist_ok=True)
    label = "records-%d-%d-%d%s" % (n, groups, seed, "-events" if events_only else "")
    path = os.path.join(store, label + ".muster")
    seeds = os.path.join(store, label + ".seeds")
    if not os.path.exists(path):
        t = time.monotonic()
        cmd = [tool("gen_records"), "--records", str(n), "--groups", str(groups),
               "--seed", str(seed), "--keys", seeds, path + ".tmp"]
        if events_only:
            cmd.insert(1, "--events-only")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        os.rename(path + ".tmp", path)  # seeds first, then the stream: complete
        log("generated %s in %.1f s", label, time.monotonic() - t)
    return path, seeds


def group_keys(seeds_path):
    """The 32-byte public keys of the groups of a dataset."""
    import nacl.signing  # python3-nacl

    with open(seeds_path) as f:
        return [nacl.signing.SigningKey(bytes.fromhex(line.strip())).verify_key.encode()
                for line in f if line.strip()]


def imported_home(n, groups, events_only=False):
    """A home (made once per run) that imported dataset(n, groups) and follows
    every group of it. Later benchmarks of the run may use it again: leave
    its records as they are. Returns its path."""
    path, seeds = dataset(n, groups, events_only)
    home = os.path.join(CACHE, os.path.basename(path)[:-len(".muster")] + ".home")
    if not os.path.exists(home):
        tmp = home + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.mkdir(tmp)
        netlib.muster(tmp, "init", "--name", "bench")
        netlib.follow(tmp, group_keys(seeds))
        t = time.monotonic()
        netlib.muster(tmp, "import", path, timeout=1800)
        log("imported %s in %.1f s", os.path.basename(path), time.monotonic() - t)
        os.rename(tmp, home)
    return home


def record_count(home):
    """The records a home holds, from `muster status`."""
    for line in netlib.muster(home, "status").splitlines():
        if line.startswith("records:"):
            return int(line.split()[1])
    raise RuntimeError("muster status printed no record count")


class Exited:
    """What a finished process left: wall time, CPU time (user + system, all
    its threads), the bytes it handed to write(2) and its kin, and its
    stdout and stderr."""

    def __init__(self, seconds, cpu, wchar, out, err):
        self.seconds = seconds
        self.cpu = cpu
        self.wchar = wchar
        self.out = out
        self.err = err


def _proc_field(pid, name, key):
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(argv):
    """Runs argv to its end, its output in temporary files, and measures it.
    The process is read from /proc after it exits and before it is reaped
    (waitid WNOWAIT), so its I/O counters are complete. Raises when it
    fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.monotonic()
        p = subprocess.Popen(argv, env=netlib.env(), stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err)
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.monotonic() - t
        wchar = _proc_field(p.pid, "io", "wchar")
        _, status, ru = os.wait4(p.pid, 0)
        rc = p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if rc != 0:
            raise RuntimeError("%s exited %d: %s" % (" ".join(argv[:4]), rc,
                                                     err.read().decode(errors="replace")[-2000:]))
        return Exited(seconds, ru.ru_utime + ru.ru_stime, wchar,
                      out.read().decode(errors="replace"),
                      err.read().decode(errors="replace"))


def proc_cpu(pid):
    """User + system CPU seconds of a running process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    """(current RSS, peak RSS, anonymous RSS) of a live process, in KiB."""
    return (_proc_field(pid, "status", "VmRSS"), _proc_field(pid, "status", "VmHWM"),
            _proc_field(pid, "status", "RssAnon"))
