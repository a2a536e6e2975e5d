"""The README's walk-throughs, run as written, their shown output compared.

A new user copies the commands of "Quick start" and "Two groups on one
machine" one by one; this test does the same with the real binary and checks
that every line the README shows after a command is what the command prints.

How the README's text is read:
- In a fenced block, a line starting with `$ ` is a command (a trailing `\\`
  continues it); the lines up to the next command are its shown output. A
  command with no shown output only has to succeed.
- `  # ...` at the end of a line is a remark for the reader, not output.
- What a person sees on a terminal is compared: stderr and stdout, in the
  order printed. A time relative to today ("(in 4 years)") matches any
  relative time, since it changes with the day the README is followed.
- `…` in a key stands for the characters left out. A group key or a record
  address in shown output matches any key or address; the README's spelling
  of it then stands for the real one in later commands, and so does any start
  of its d of 4 or more characters (`muster event cancel 91c2`).
- What a reader must supply is supplied: `/tmp/NAME` homes become temporary
  directories, the ports become free ones (and a daemon left on the default
  HTTP address gets a free one too, so that parallel tests never collide),
  `mug1<their key>` and `their-group.muster` come from a second group made
  here, `&` runs a daemon in the background and `kill %1 %2` stops them.
A command that only reads and whose shown output depends on a sync (`event
list` "a second later") is retried until it matches, within a bound.
"""

import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
import unittest

import musterlib as ml

SECTIONS = ("Quick start", "Two groups on one machine, over the network")
KEY_RE = r"mug1[02-9ac-hj-np-z]{58}"
ADDR_TAIL_RE = r"/[a-z]+/[0-9a-f]{16}"
# A key or address as the README spells it: elided with … or written out.
README_REF = re.compile(r"mug1[^\s/]*(?:/[a-z]+/[0-9a-f]{16})?")
RETRY_SECONDS = 15 * ml.SLOWDOWN
READ_ONLY = ("list", "status", "show")
RELATIVE = re.compile(r"\((?:in \d+ [a-z]+|tomorrow|today)\)")


def readme_blocks(text, title):
    """The fenced blocks of the section called title, as lists of lines."""
    m = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(title), text, re.M | re.S)
    if not m:
        raise AssertionError("README.md has no section %r" % title)
    return [b.split("\n") for b in re.findall(r"^```\n(.*?)\n```", m.group(1), re.M | re.S)]


def strip_remark(line):
    return re.sub(r"\s{2,}#.*$", "", line).rstrip()


def steps(block):
    """[(command, [shown output lines])] of one block."""
    out = []
    lines = iter(block)
    for line in lines:
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\"):
                cmd = cmd[:-1] + " " + next(lines).strip()
            out.append([strip_remark(cmd), []])
        elif out:
            out[-1][1].append(strip_remark(line))
    return out


def shown_regex(line):
    """A regex for one shown line; each key or address is a group."""
    parts, refs, pos = [], [], 0
    for m in re.finditer("%s|%s" % (README_REF.pattern, RELATIVE.pattern), line):
        parts.append(re.escape(line[pos:m.start()]))
        if RELATIVE.fullmatch(m.group(0)):
            parts.append(RELATIVE.pattern)
        else:
            tail = ADDR_TAIL_RE if "/" in m.group(0) else ""
            parts.append("(%s%s)" % (KEY_RE, tail))
            refs.append(m.group(0))
        pos = m.end()
    parts.append(re.escape(line[pos:]))
    return re.compile("".join(parts) + r"\Z"), refs


class Walkthrough:
    def __init__(self, tc):
        self.tc = tc
        self.tmp = tempfile.mkdtemp(prefix="muster-readme-")
        tc.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))
        self.refs = {}  # README spelling -> the real key or address
        self.paths = {}
        self.ports = {}
        self.daemons = []
        self.env = dict(os.environ, TZ="UTC", MUSTER_HOME=os.path.join(self.tmp, "default"))
        tc.addCleanup(self._stop_all)

    def _stop_all(self):
        for p in self.daemons:
            if p.poll() is None:
                p.kill()
                p.wait()

    def substitute(self, word):
        for spelled, real in self.refs.items():
            d = spelled.rsplit("/", 1)[-1]
            if "/" in spelled and len(word) >= 4 and d.startswith(word) and word != d:
                return real.rsplit("/", 1)[-1][: len(word)]
        m = re.fullmatch(r"/tmp/([a-z]+)", word)
        if m:
            return self.paths.setdefault(word, os.path.join(self.tmp, m.group(1)))
        m = re.fullmatch(r"(127\.0\.0\.1:)(74\d\d)", word)
        if m:
            return m.group(1) + str(self.ports.setdefault(m.group(2), ml.free_port()))
        return word

    def argv(self, cmd):
        for spelled in sorted(self.refs, key=len, reverse=True):
            cmd = cmd.replace(spelled, self.refs[spelled])
        words = [self.substitute(w) for w in shlex.split(cmd)]
        self.tc.assertEqual(words[0], "muster", "a README command that is not muster: %s" % cmd)
        words[0] = ml.BIN
        if "serve" in words and "--http" not in words:
            words += ["--http", "127.0.0.1:%d" % ml.free_port()]
        return words

    def run(self, cmd, shown):
        if cmd.startswith("kill "):
            return self.kill(cmd)
        background = cmd.endswith("&")
        argv = self.argv(cmd.rstrip("&").strip())
        if background:
            return self.start(argv, cmd)
        end = time.monotonic() + RETRY_SECONDS
        while True:
            proc = subprocess.run(argv, cwd=self.tmp, env=self.env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=60)
            out = proc.stdout.decode("utf-8")
            self.tc.assertEqual(proc.returncode, 0, "README command failed: %s\n%s"
                                % (cmd, out))
            problem = self.compare(out.rstrip("\n").split("\n") if out else [], shown)
            if problem is None:
                return
            if time.monotonic() > end or not any(w in argv for w in READ_ONLY):
                self.tc.fail("README command %r: %s\nprinted:\n%s\nREADME shows:\n%s"
                             % (cmd, problem, out, "\n".join(shown)))
            time.sleep(0.2)

    def compare(self, printed, shown):
        """None when printed matches shown (binding refs), else why not."""
        if not shown:
            return None
        if len(printed) != len(shown):
            return "%d lines printed, %d shown" % (len(printed), len(shown))
        bound = {}
        for got, want in zip(printed, shown):
            rx, refs = shown_regex(want)
            m = rx.match(got)
            if not m:
                return "line %r does not match %r" % (got, want)
            for spelled, real in zip(refs, m.groups()):
                known = self.refs.get(spelled, bound.get(spelled))
                if known is not None and known != real:
                    return "%s is %s here but %s before" % (spelled, real, known)
                bound[spelled] = real
        self.refs.update(bound)
        return None

    def start(self, argv, cmd):
        log = open(os.path.join(self.tmp, "daemon-%d.log" % len(self.daemons)), "w+b")
        self.tc.addCleanup(log.close)
        p = subprocess.Popen(argv, cwd=self.tmp, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log)
        p.log = log
        self.daemons.append(p)
        listen = argv[argv.index("--listen") + 1]
        port = int(listen.rsplit(":", 1)[1])
        ml.wait_until(lambda: ml.listening(port) or p.poll() is not None,
                      20 * ml.SLOWDOWN, "%s to listen" % cmd)
        self.tc.assertIsNone(p.poll(), "README daemon exited: %s\n%s" % (cmd, self.log(p)))

    @staticmethod
    def log(p):
        p.log.seek(0)
        return p.log.read().decode("utf-8", "replace")

    def kill(self, cmd):
        for job in re.findall(r"%(\d+)", cmd):
            p = self.daemons[int(job) - 1]
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=20 * ml.SLOWDOWN)
            err = self.log(p)
            self.tc.assertEqual(rc, 0, "%s: daemon %%%s exited %d\n%s" % (cmd, job, rc, err))
            self.tc.assertNotIn("Sanitizer", err)


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ml.SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            self.readme = f.read()

    def walk(self, title, prepare=None):
        w = Walkthrough(self)
        if prepare:
            prepare(w)
        ran = 0
        for block in readme_blocks(self.readme, title):
            for cmd, shown in steps(block):
                with self.subTest(cmd=cmd):
                    w.run(cmd, shown)
                ran += 1
        self.assertGreater(ran, 5, "the section %r lost its commands" % title)
        return w

    def test_quick_start(self):
        def their_group(w):
            # The quick start allies with and imports from a group it
            # assumes the reader knows: make one.
            them = ml.Home(self, "their")
            key = them.init("Harbour Workers")
            them.ok("export", os.path.join(w.tmp, "their-group.muster"))
            w.refs["mug1<their key>"] = key

        self.walk(SECTIONS[0], their_group)

    def test_two_groups_on_one_machine(self):
        self.walk(SECTIONS[1])


def tearDownModule():
    ml.check_no_secrets()


if __name__ == "__main__":
    unittest.main()
