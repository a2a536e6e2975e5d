"""What the network benchmarks (net_*.py) share: homes, real `muster serve`
processes on 127.0.0.1, a counting TCP proxy, key texts, figures.

Environment (set by the harness, tests/bench/run.py):
  MUSTER_BIN         the built `muster` binary
  MUSTER_SOURCE_DIR  the repository

Figures go to stdout as `name value unit`, one per line; everything else
goes to stderr.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("MUSTER_BIN", "")
SOURCE_DIR = os.environ.get("MUSTER_SOURCE_DIR", "")
if not BIN or not os.access(BIN, os.X_OK):
    sys.exit("MUSTER_BIN must name the built muster binary (got %r)" % BIN)
if not SOURCE_DIR or not os.path.isdir(SOURCE_DIR):
    sys.exit("MUSTER_SOURCE_DIR must name the repository (got %r)" % SOURCE_DIR)


def log(fmt, *args):
    print(fmt % args if args else fmt, file=sys.stderr, flush=True)


def figure(name, value, unit):
    if isinstance(value, float):
        value = ("%.3f" % value) if abs(value) < 100 else ("%.0f" % value)
    print("%s %s %s" % (name, value, unit), flush=True)


# The end-to-end tests' helpers: waiting, ports, and the mug1 key text
# (their bech32m encoder is written from PROTOCOL.md section 6).
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
import musterlib  # noqa: E402
from musterlib import listening  # noqa: E402,F401
from test_independence import key_text  # noqa: E402,F401


def wait_until(pred, timeout, what, interval=0.02):
    """musterlib.wait_until, polling faster by default."""
    return musterlib.wait_until(pred, timeout, what, interval)


# --- processes ------------------------------------------------------------------


class Workdir:
    """A temporary directory removed at exit (kept with NET_BENCH_KEEP=1)."""

    def __init__(self, label):
        self.path = tempfile.mkdtemp(prefix="muster-%s-" % label)
        self.procs = []

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("NET_BENCH_KEEP"):
            log("kept %s", self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def env():
    e = dict(os.environ)
    e.pop("MUSTER_HOME", None)
    e.setdefault("TZ", "UTC")
    return e


def muster(home, *args, check=True, stdin=None, timeout=600):
    """Runs `muster --home HOME ARGS`; returns stdout (text)."""
    cmd = [BIN, "--home", home] + list(args)
    res = subprocess.run(cmd, stdin=stdin, capture_output=True, env=env(),
                         timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd[:4]), res.returncode,
                                                 res.stderr.decode(errors="replace")))
    return res.stdout.decode()


def new_home(work, label, name=None):
    home = os.path.join(work.path, label)
    os.mkdir(home)
    muster(home, "init", "--name", name or label)
    key = muster(home, "id").strip().split()[-1]
    return home, key


def follow(home, keys):
    """Follows every group of keys (32-byte keys or mug1 texts), 1000 per
    command; one per command with a muster that takes only one (to measure
    the figures of an older build)."""
    texts = [k if isinstance(k, str) else key_text(k) for k in keys]
    for i in range(0, len(texts), 1000):
        try:
            muster(home, "follow", *texts[i:i + 1000])
        except RuntimeError as e:
            if "too many arguments" not in str(e):
                raise
            for t in texts[i:i + 1000]:
                muster(home, "follow", t)


def _since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _ephemeral_low():
    """The lowest port the kernel gives to outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n):
    """n distinct TCP ports that were free a moment ago on 127.0.0.1: each
    socket stays bound until all are, so that no two are the same. They are
    below the kernel's range for outgoing connections: daemons started one
    after the other dial their peers as they start, and a port picked from
    that range (as bind to port 0 picks) could be taken by one of those
    connections before the daemon meant to listen on it starts (a
    net_propagation run failed so, 10:31 on 2026-11-26)."""
    rng = random.Random()
    high = min(_ephemeral_low(), 65536)
    socks, tried = [], 0
    try:
        while len(socks) < n:
            tried += 1
            if tried > 100 * n + 1000:
                raise RuntimeError("no free TCP port below %d" % high)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", rng.randrange(max(1024, high - 12000), high)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    """One port as free_ports gives them."""
    return free_ports(1)[0]


def serve(work, home, network, port, *extra, log_level="info"):
    """Starts `muster serve` listening on 127.0.0.1:port; waits until it
    listens. stderr goes to HOME.serve.err."""
    err = open(home + ".serve.err", "ab")
    start = err.tell()
    cmd = [BIN, "--home", home, "serve", "--listen", "127.0.0.1:%d" % port,
           "--network", network, "--log-level", log_level] + list(extra)
    # Many daemons run at once: none takes the default HTTP port unless asked.
    if "--http" not in extra:
        cmd += ["--http", "off"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=err, env=env())
    err.close()
    work.procs.append(p)
    # Its own line, not only a listener on the port: another process may
    # have taken the port, and then this one exits.
    said = "on 127.0.0.1:%d (network" % port
    wait_until(lambda: p.poll() is not None or (listening(port) and said in _since(
        home + ".serve.err", start)), 30, "muster serve on port %d" % port)
    if p.poll() is not None:
        raise RuntimeError("muster serve exited %d; see %s.serve.err"
                           % (p.returncode, home))
    return p


def stop(p, timeout=30):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise RuntimeError("muster serve did not stop within %d s" % timeout)


# --- a counting TCP proxy ---------------------------------------------------------


class Proxy:
    """Listens on 127.0.0.1:port and forwards every connection to target,
    counting the TCP payload bytes in each direction (up: client to target,
    down: target to client). Threads, one per direction per connection."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.up = 0
        self.down = 0
        self.lock = threading.Lock()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                t = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            for s in (c, t):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(c, t, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(t, c, False), daemon=True).start()

    def _pipe(self, src, dst, up):
        try:
            while True:
                data = src.recv(1 << 20)
                if not data:
                    break
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def total(self):
        with self.lock:
            return self.up + self.down

    def close(self):
        self.closing = True
        self.lsock.close()
