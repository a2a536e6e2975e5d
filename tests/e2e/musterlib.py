"""Helpers for the end-to-end tests: they drive the real `muster` binary.

Environment (set by ctest, see tests/CMakeLists.txt):
  MUSTER_BIN         the built `muster` binary
  MUSTER_SOURCE_DIR  the repository, for docs/PROTOCOL.md

Network tests start real daemons with Home.serve() (class Server): `muster
serve` on 127.0.0.1 and a free random port, on a network of the test's own
(network_name()), logging at debug level to a file; Server.stop() sends
SIGTERM and checks a clean exit without any sanitizer report. Every wait is
bounded (wait_until()).

Every command's stdout and stderr are kept, and checked against the secret
keys of every home these tests created (the group key's seed, and the Noise
static key a daemon makes): a secret must never be printed, in any encoding.
Each test module calls check_no_secrets() from its tearDownModule(), which
makes the run fail if one leaked.
"""

import base64
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

# Required, never optional: an import error here fails the test run.
import msgpack  # noqa: F401  (python3-msgpack)
import nacl.signing  # noqa: F401  (python3-nacl)

EXPORT_MAGIC = bytes.fromhex("af6d75737465722d6578706f72742f31")


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            "%s is not set: run these tests through ctest, or set it by hand" % name
        )
    return value


BIN = _required_env("MUSTER_BIN")
SOURCE_DIR = _required_env("MUSTER_SOURCE_DIR")
if not os.access(BIN, os.X_OK):
    raise RuntimeError("MUSTER_BIN=%s is not an executable file" % BIN)

# Built with AddressSanitizer (make asan): everything runs several times
# slower, so bounds on time that a test states for the real build are
# scaled by SLOWDOWN there.
with open(BIN, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()
SLOWDOWN = 4 if SANITIZED else 1

# Every (command, stdout, stderr) of this process, and every known secret.
_outputs = []
_secrets = {}  # key file path -> list of byte strings that must not appear
_keys = {}  # key file path -> the key's bytes

# The key files of a home: the group's root key seed and the home's
# organizer key seed (Ed25519), and the node's Noise static key (X25519),
# each 32 raw bytes.
KEY_FILES = ("group.key", "organizer.key", "noise.key")


def _b64_forms(data):
    forms = []
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        text = enc(data)
        forms.append(text)
        forms.append(text.rstrip(b"="))
    return forms


def secret_forms(key):
    """The encodings a leaked 32-byte secret could take in output."""
    forms = [key, key.hex().encode(), key.hex().upper().encode()]
    forms += _b64_forms(key)
    # libsodium's 64-byte Ed25519 secret key is the seed, then the public
    # key: its base64 does not start with the seed's.
    public = nacl.signing.SigningKey(key).verify_key.encode()
    forms += _b64_forms(key + public)
    # The scalar both keys are used as, derived as libsodium derives it.
    scalar = bytearray(hashlib.sha512(key).digest()[:32])
    scalar[0] &= 248
    scalar[31] &= 127
    scalar[31] |= 64
    forms += [bytes(scalar), bytes(scalar).hex().encode()]
    # Bytes as decimal numbers, as a JSON array or a C initialiser would.
    for sep in (b",", b", "):
        forms.append(sep.join(b"%d" % x for x in key))
    # Also any 16-byte half, in case a secret is printed in parts.
    for half in (key[:16], key[16:]):
        forms.append(half.hex().encode())
        forms.append(half.hex().upper().encode())
    return forms


_extra_forms = []  # functions key -> list of forms, added by test modules


def add_secret_encoding(fn):
    """Adds an encoding (fn(key) -> list of byte strings) to look for, for
    keys known already and keys learnt from now on."""
    _extra_forms.append(fn)
    for path, key in _keys.items():
        _secrets[path] = _secrets[path] + list(fn(key))


def _leaks(data, secrets):
    for path, forms in secrets.items():
        for form in forms:
            if form and form in data:
                return path, form
    return None


def find_secret(data):
    """(key file, form) of the first secret found in data, else None."""
    return _leaks(data, _secrets)


def check_no_secrets():
    """Fails if any secret seen so far appears in any output seen so far."""
    for cmd, out, err in _outputs:
        for data, stream in ((out, "stdout"), (err, "stderr")):
            hit = _leaks(data, _secrets)
            if hit:
                raise AssertionError(
                    "the secret key %s appears on %s of %r" % (hit[0], stream, cmd)
                )


class Result:
    def __init__(self, cmd, rc, out, err):
        self.cmd = cmd
        self.rc = rc
        self.outb = out
        self.errb = err

    # Text output must be valid UTF-8; export writes bytes (use outb).
    @property
    def out(self):
        return self.outb.decode("utf-8")

    @property
    def err(self):
        return self.errb.decode("utf-8")

    def __repr__(self):
        return "muster %s -> rc %d\nstdout: %r\nstderr: %r" % (
            " ".join(self.cmd),
            self.rc,
            self.outb[:2000],
            self.errb[:2000],
        )


def run(args, home=None, stdin=None, env=None, timeout=60):
    """Runs muster [--home HOME] ARGS; returns a Result. Never raises on rc."""
    cmd = [BIN]
    if home is not None:
        cmd += ["--home", home]
    cmd += list(args)
    full_env = dict(os.environ)
    full_env.setdefault("TZ", "UTC")
    full_env.pop("MUSTER_HOME", None)
    if env:
        full_env.update(env)
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    proc = subprocess.run(
        cmd,
        input=stdin if stdin is not None else b"",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        timeout=timeout,
    )
    _outputs.append((cmd, proc.stdout, proc.stderr))
    hit = _leaks(proc.stdout + b"\n" + proc.stderr, _secrets)
    if hit:
        raise AssertionError("muster %r printed the secret key %s" % (args, hit[0]))
    return Result(list(args), proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(tc, res, *parts):
    """rc != 0 and stderr is exactly one line 'muster: ...' containing parts."""
    tc.assertNotEqual(res.rc, 0, "expected a failure: %r" % res)
    tc.assertTrue(res.err.endswith("\n"), "stderr must end with a newline: %r" % res)
    lines = res.err.split("\n")[:-1]
    tc.assertEqual(len(lines), 1, "stderr must be exactly one line: %r" % res)
    tc.assertTrue(lines[0].startswith("muster: "), "error must start 'muster: ': %r" % res)
    tc.assertGreater(len(lines[0]), len("muster: ") + 10, "error too short: %r" % res)
    low = lines[0].lower()
    for part in parts:
        if isinstance(part, (tuple, list)):
            tc.assertTrue(
                any(p.lower() in low for p in part),
                "error should mention one of %r: %r" % (part, res),
            )
        else:
            tc.assertIn(part.lower(), low, "error should mention %r: %r" % (part, res))
    return lines[0]


class Home:
    """A muster home in its own temporary directory."""

    def __init__(self, tc, label="home"):
        self.tc = tc
        self.tmp = tempfile.mkdtemp(prefix="muster-e2e-%s-" % label)
        self.path = os.path.join(self.tmp, "home")
        self.key = None
        # Variables for every command and daemon of this home, such as the
        # test knobs of docs/API.md (MUSTER_TEST_CLOCK_SKEW...).
        self.env = {}
        tc.addCleanup(self._cleanup)

    def _cleanup(self):
        self._learn_secret()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def key_file(self):
        return os.path.join(self.path, "group.key")

    def _learn_secret(self):
        learnt = False
        for name in KEY_FILES:
            path = os.path.join(self.path, name)
            if path in _secrets:
                continue
            try:
                with open(path, "rb") as f:
                    key = f.read()
            except OSError:
                continue
            forms = secret_forms(key)
            for fn in _extra_forms:
                forms += list(fn(key))
            _secrets[path] = forms
            _keys[path] = key
            learnt = True
        if learnt:
            check_no_secrets()

    def secret(self):
        with open(self.key_file, "rb") as f:
            return f.read()

    def run(self, *args, stdin=None, env=None, timeout=60):
        res = run(args, home=self.path, stdin=stdin, env=dict(self.env, **(env or {})),
                  timeout=timeout)
        self._learn_secret()
        return res

    def ok(self, *args, stdin=None, env=None):
        """Runs a command that must succeed; returns its stdout as text."""
        res = self.run(*args, stdin=stdin, env=env)
        self.tc.assertEqual(res.rc, 0, "command failed: %r" % res)
        return res.out

    def line(self, *args, **kw):
        """Runs a command that must succeed and print exactly one line."""
        out = self.ok(*args, **kw)
        self.tc.assertTrue(out.endswith("\n"), "no newline after %r" % out)
        self.tc.assertEqual(out.count("\n"), 1, "expected one line on stdout: %r" % out)
        return out[:-1]

    def json(self, *args):
        out = self.ok(*args)
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError("muster %r printed invalid JSON (%s): %r" % (args, e, out))

    def fail(self, *args, parts=(), stdin=None, env=None):
        res = self.run(*args, stdin=stdin, env=env)
        return assert_one_line_error(self.tc, res, *parts)

    def init(self, name=None):
        args = ["init"] + (["--name", name] if name else [])
        self.key = self.line(*args)
        self.tc.assertTrue(self.key.startswith("mug1"), self.key)
        self.tc.assertEqual(len(self.key), 62, self.key)
        self.tc.assertEqual(self.line("id"), self.key)
        st = os.stat(self.key_file)
        self.tc.assertEqual(st.st_mode & 0o777, 0o600, "key file mode")
        self.tc.assertEqual(st.st_size, 32, "key file holds the 32-byte seed")
        return self.key

    def export_bytes(self):
        res = self.run("export")
        self.tc.assertEqual(res.rc, 0, "export failed: %r" % res)
        self.tc.assertTrue(res.outb.startswith(EXPORT_MAGIC), "export magic")
        return res.outb

    def export_file(self, name="export.muster"):
        path = os.path.join(self.tmp, name)
        res = self.run("export", path)
        self.tc.assertEqual(res.rc, 0, "export failed: %r" % res)
        self.tc.assertEqual(res.out, "", "export FILE prints nothing on stdout")
        return path

    def has(self, ref):
        """Whether `muster show REF` finds the record (an address or an id)."""
        return self.run("show", ref).rc == 0

    def serve(self, network, *extra, port=None, http=False, env=None):
        """Starts `muster serve` on 127.0.0.1 for this home; see Server."""
        return Server(self, network, extra, port=port, http=http, env=env)

    def import_file(self, path, expect_rc=0):
        """Imports path; returns the summary as a dict of counts."""
        res = self.run("import", path)
        self.tc.assertEqual(res.rc, expect_rc, "import: %r" % res)
        return parse_summary(self.tc, res)


def parse_summary(tc, res):
    lines = res.out.splitlines()
    tc.assertEqual(len(lines), 1, "import prints one summary line: %r" % res)
    counts = {}
    for part in lines[0].split(", "):
        word, _, num = part.partition(" ")
        tc.assertTrue(num.isdigit(), "summary part %r in %r" % (part, res))
        counts[word] = int(num)
    tc.assertEqual(
        list(counts),
        ["new", "duplicate", "superseded", "deleted", "rejected"],
        "summary line: %r" % res,
    )
    return counts


def split_export(tc, data):
    """Cuts an export stream into the raw bytes of its records (PROTOCOL 7)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=True)
    unpacker.feed(data)
    magic = unpacker.unpack()
    tc.assertEqual(magic, "muster-export/1")
    tc.assertEqual(data[: unpacker.tell()], EXPORT_MAGIC)
    out = []
    pos = unpacker.tell()
    for _ in unpacker:
        end = unpacker.tell()
        out.append(data[pos:end])
        pos = end
    tc.assertEqual(pos, len(data), "the stream ends after its last record")
    return out


# ---- the network daemon ----------------------------------------------------

SANITIZER_REPORT = re.compile(r"(Sanitizer|runtime error:)")


def network_name():
    """A network of its own per test, so that no stray node can join it."""
    return "test-" + os.urandom(6).hex()


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1 (Server retries if
    another process takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether something listens on 127.0.0.1:port, read from /proc/net/tcp so
    that asking does not open a connection (which the node would count as a
    handshake in progress)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == want and fields[3] == "0A":
            return True
    return False


def wait_until(pred, timeout, what, interval=0.05):
    """Calls pred() until it returns a true value, which it returns; fails the
    test after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


@contextlib.contextmanager
def throttled(proc, run_s=0.005, stop_s=0.045):
    """Lets proc run for run_s, stopped (SIGSTOP) for stop_s, again and
    again (by default a tenth of the time, so that what it does lasts ten
    times as long whatever the machine's speed); it runs freely again on
    leaving."""
    done = threading.Event()

    def toggle():
        while not done.is_set() and proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
            done.wait(stop_s)
            proc.send_signal(signal.SIGCONT)
            done.wait(run_s)

    t = threading.Thread(target=toggle, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)


class Server:
    """`muster serve --listen 127.0.0.1:PORT --network NETWORK --log-level
    debug` for a home, with stdout and stderr in files next to the home. It
    is stopped at the end of the test (SIGKILL if still running then); call
    stop() to check a clean exit. HTTP is off (`--http off`, so that parallel
    tests do not contend for the default port) unless http is true: then it
    serves on 127.0.0.1:http_port, a random port, and http_url is its base.
    env adds environment variables (MUSTER_LIMITS, for shorter timeouts)."""

    START_TIMEOUT = 20

    def __init__(self, home, network, extra=(), port=None, http=False, env=None):
        self.home = home
        self.env = dict(env or {})
        self.http = http
        self.http_port = None
        self.tc = home.tc
        self.network = network
        self.extra = list(extra)
        self.fixed_port = port
        self.port = None
        self.proc = None
        self.runs = 0
        self.start()
        self.tc.addCleanup(self._kill)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    @property
    def http_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def _paths(self):
        base = os.path.join(self.home.tmp, "serve-%d" % self.runs)
        return base + ".out", base + ".err"

    def start(self):
        """Starts the daemon (again, on the same port after a stop())."""
        assert self.proc is None, "already running"
        for _attempt in range(5):
            self.port = self.fixed_port or self.port or free_port()
            self.runs += 1
            out_path, err_path = self._paths()
            cmd = [BIN, "--home", self.home.path, "serve", "--listen", self.addr,
                   "--network", self.network, "--log-level", "debug"] + self.extra
            if self.http:
                self.http_port = self.http_port or free_port()
                cmd += ["--http", "127.0.0.1:%d" % self.http_port]
            elif "--http" not in self.extra:
                cmd += ["--http", "off"]
            env = dict(os.environ)
            env.setdefault("TZ", "UTC")
            env.pop("MUSTER_HOME", None)
            env.update(self.home.env)
            env.update(self.env)
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=err, env=env)
            self.cmd = cmd
            end = time.monotonic() + self.START_TIMEOUT
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                if listening(self.port) and (not self.http or listening(self.http_port)):
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:
                self._kill()
                raise AssertionError("muster serve did not listen on %s within %d s:\n%s"
                                     % (self.addr, self.START_TIMEOUT, self.log()))
            rc = self.proc.returncode
            self.proc = None
            self._record()
            log = self.log()
            if "in use" in log and self.fixed_port is None:
                self.port = None  # taken meanwhile by another test: try another
                self.http_port = None
                continue
            raise AssertionError("muster serve exited with %d at start:\n%s" % (rc, log))
        raise AssertionError("no free port for muster serve after 5 attempts")

    def out(self):
        with open(self._paths()[0], "rb") as f:
            return f.read().decode("utf-8")

    def log(self):
        with open(self._paths()[1], "rb") as f:
            return f.read().decode("utf-8", "replace")

    def logs(self):
        """The stderr of every run so far, oldest first."""
        parts = []
        for run_no in range(1, self.runs + 1):
            path = os.path.join(self.home.tmp, "serve-%d.err" % run_no)
            try:
                with open(path, "rb") as f:
                    parts.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(parts)

    def wait_log(self, pattern, timeout=10, what=None):
        """Waits for a stderr line matching the regex; returns the match."""
        rx = re.compile(pattern, re.I)
        return wait_until(lambda: rx.search(self.log()), timeout,
                          what or "a log line matching %r from %s" % (pattern, self.addr))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _record(self):
        try:
            with open(self._paths()[0], "rb") as f:
                outb = f.read()
            with open(self._paths()[1], "rb") as f:
                errb = f.read()
        except OSError:
            return
        _outputs.append((self.cmd, outb, errb))
        self.home._learn_secret()  # the daemon made the Noise key

    def stop(self, timeout=20):
        """SIGTERM; the daemon must exit 0 within timeout, without any
        sanitizer report. Returns its stderr."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError("muster serve on %s did not stop within %d s of "
                                 "SIGTERM:\n%s" % (self.addr, timeout, self.log()))
        self.proc = None
        self._record()
        log = self.log()
        self.tc.assertEqual(rc, 0, "muster serve on %s exited with %d after SIGTERM:\n%s"
                            % (self.addr, rc, log[-4000:]))
        self.tc.assertIsNone(SANITIZER_REPORT.search(log),
                             "sanitizer report from muster serve:\n%s" % log[-8000:])
        return log

    def kill(self):
        """SIGKILL: the daemon dies as in a crash, with no chance to clean
        up. start() brings it back on the same port."""
        assert self.proc is not None, "not running"
        self._kill()

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        self._record()


def ally(a, b):
    """A mutual alliance between two homes (both propose)."""
    a.line("ally", "add", b.key)
    b.line("ally", "add", a.key)


def add_event(home, title, day="06-01"):
    """Creates an event in a future year; returns its address."""
    return home.line("event", "add", "--title", title, "--start",
                     "%d-%sT18:00Z" % (future_year(), day))


def event_titles(home):
    """The titles in `muster event list` (from now on), by address."""
    return {e["address"]: e["content"]["title"] for e in home.json("event", "list", "--json")}


def shown(home, ref):
    """`muster show REF --json` as a dict, or None when it is not stored."""
    res = home.run("show", ref, "--json")
    return json.loads(res.out) if res.rc == 0 else None


def http_get(server, path):
    """The body of GET path from a Server started with http=True, as text."""
    with urllib.request.urlopen(server.http_url + path, timeout=10) as r:
        return r.read().decode("utf-8")


def status_records(home):
    """The records a home stores, from `muster status`."""
    for line in home.ok("status").splitlines():
        if line.startswith("records:"):
            return int(line.split()[1])
    raise AssertionError("muster status printed no record count")


def peers(home):
    """`muster peer list --json`, by address."""
    return {p["address"]: p for p in home.json("peer", "list", "--json")}


def export_records(tc, home):
    """The raw records of a home, byte for byte as signed."""
    return split_export(tc, home.export_bytes())


def record_id(raw):
    """The id of a raw record: BLAKE2b-256 of its body (PROTOCOL.md 2.3)."""
    body, _sig = msgpack.unpackb(raw, raw=True)
    return hashlib.blake2b(body, digest_size=32).hexdigest()


def raw_record(tc, home, ref):
    """The raw bytes of one record a home stores, from its export."""
    want = shown(home, ref)["id"]
    for raw in export_records(tc, home):
        if record_id(raw) == want:
            return raw
    tc.fail("%s is not in the export" % ref)


def organizer_raw(tc, home):
    """The raw bytes of the home's own organizer record: what makes the
    records its organizer key signs valid, sent before them by hand."""
    mine = [raw for raw in export_records(tc, home)
            if msgpack.unpackb(msgpack.unpackb(raw)[0])[1] == "organizer"]
    tc.assertEqual(len(mine), 1, "one organizer record in the export")
    return mine[0]


def group_bytes(home):
    """A home's group key as the 32 bytes the wire carries."""
    return nacl.signing.SigningKey(home.secret()).verify_key.encode()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def on_terminal(home, args, answer, env=None):
    """Runs muster with stdin on a pseudo-terminal that types answer;
    returns (rc, stdout, stderr) as text."""
    master, slave = os.openpty()
    full_env = dict(os.environ, TZ="UTC")
    full_env.pop("MUSTER_HOME", None)
    full_env.update(env or {})
    try:
        proc = subprocess.Popen([BIN, "--home", home.path] + list(args),
                                stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=full_env)
        os.close(slave)
        slave = None
        os.write(master, answer.encode())
        out, err = proc.communicate(timeout=60)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    _outputs.append(([BIN] + list(args), out, err))
    return proc.returncode, out.decode(), err.decode()


def future_year():
    return datetime.datetime.now(datetime.timezone.utc).year + 2


def main():
    """unittest.main() that exits non-zero on any failure, error or no test."""
    prog = unittest.main(exit=False, verbosity=2)
    result = prog.result
    if not result.wasSuccessful() or result.testsRun == 0:
        sys.exit(1)
    if result.skipped:
        print("tests were skipped: that is a failure here", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
