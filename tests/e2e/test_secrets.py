#!/usr/bin/python3
"""Secrets stay secret. Every command of the CLI runs here (each --json
variant, error paths, `serve` at debug level with a peer, `sync`), and
everything they print or write is searched for both secret keys of every
home (the group key's seed and the node's Noise static key) in every
encoding musterlib.secret_forms() lists, plus bech32m (the form public keys
are printed in): stdout, stderr, the daemons' logs, and every file in the
homes and beside them other than the two key files. The key files are mode
0600 and the home 0700."""

import hashlib
import os
import stat
import unittest

import musterlib
from musterlib import Home, add_event, ally, future_year, peers, wait_until
from test_independence import bech32m_encode

SYNC = 30
CHUNK = 16 << 20  # bytes of a process's memory read at once

# Public keys are printed in bech32m ("mug1..."): a secret must not be.
musterlib.add_secret_encoding(
    lambda key: [bech32m_encode(hrp, key).encode() for hrp in ("mug", "mus", "")])


def tearDownModule():
    musterlib.check_no_secrets()


class Secrets(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()
        self.written = []  # files written outside the homes

    def out_file(self, home, name):
        path = os.path.join(home.tmp, name)
        self.written.append(path)
        return path

    def every_command(self, a, b):
        """Every CLI command of A, with --json where there is one, and the
        error paths that name keys, files or records."""
        ok, run = a.ok, a.run
        y = future_year()
        ok("id")
        ok("status")
        ok("--version")
        ok("--help")
        for cmd in ("init", "id", "status", "profile", "cause", "event", "ally", "show",
                    "delete", "export", "import", "serve", "sync", "peer", "follow",
                    "unfollow", "invite", "join"):
            ok(cmd, "--help")
        ok("profile", "set", "--name", "Alpha", "--about", "We organise",
           "--website", "https://alpha.example")
        cause = a.line("cause", "add", "--title", "Rent", "--summary", "Stop the hike",
                       "--tag", "housing", "--url", "https://rent.example")
        ok("cause", "edit", cause, "--status", "won")
        ok("cause", "list")
        ok("cause", "list", "--json")
        ok("cause", "list", "--group", a.key, "--json")
        ev = a.line("event", "add", "--title", "Assembly", "--start", "%d-05-01T18:00" % y,
                    "--end", "%d-05-01T20:00" % y, "--tz", "Europe/Berlin", "--where",
                    "Hall", "--geo", "52.52,13.405", "--online", "https://meet.example",
                    "--cause", cause, "--tag", "assembly", "--host", b.key)
        ok("event", "edit", ev, "--title", "Assembly (moved)")
        day = a.line("event", "add", "--title", "Day", "--start", "%d-05-02" % y)
        ok("event", "cancel", day)
        ok("event", "list")
        ok("event", "list", "--json")
        ok("event", "list", "--from", "%d-01-01" % y, "--to", "%d-12-31" % y, "--group",
           a.key, "--json")
        ok("ally", "add", b.key, "--terms", "Solidarity", "--cause", cause)
        ok("ally", "list")
        ok("ally", "list", "--json")
        for ref in (ev, cause, a.key + "/profile", musterlib.shown(a, ev)["id"], a.key):
            run("show", ref)
            run("show", ref, "--json")
        ok("delete", day, "--reason", "posted twice", "--yes")
        a.export_bytes()
        path = self.out_file(a, "a.muster")
        ok("export", path)
        ok("import", path)
        with open(path, "rb") as f:
            ok("import", stdin=f.read())
        ok("peer", "add", "127.0.0.1:1", b.key)
        ok("peer", "list")
        ok("peer", "list", "--json")
        ok("peer", "remove", "127.0.0.1:1")
        ok("follow", b.key)
        ok("unfollow", b.key)
        ok("invite", "--address", "127.0.0.1:1", "--ally", "--terms", "Solidarity")
        ok("invite", "list")
        ok("invite", "list", "--json")
        # Error paths: usage, unknown records, bad keys, bad files.
        for args in (["nonsense"], ["cause", "add"], ["event", "add", "--title", "x"],
                     ["show", a.key + "/event/00"], ["show", "mug1qqqq"],
                     ["ally", "add", "mug1notakey"], ["delete", b.key + "/profile"],
                     ["import", "/nonexistent/file"], ["sync", "127.0.0.1:1", b.key],
                     ["sync", "not-an-address"], ["serve", "--listen", "nowhere"],
                     ["peer", "add", "127.0.0.1:99999"], ["follow", a.key + "x"],
                     ["init"], ["join", "muinv1qqqq"], ["invite", "revoke", "00000000"],
                     ["join", a.key]):
            res = run(*args)
            self.assertNotEqual(res.rc, 0, repr(res))
        garbage = self.out_file(a, "garbage.muster")
        with open(garbage, "wb") as f:
            f.write(musterlib.EXPORT_MAGIC + b"\x92\xc4\x01x\xc4\x40" + bytes(64))
        self.assertNotEqual(run("import", garbage).rc, 0)
        return ev

    def key_mode_errors(self, home):
        """A key file others can read is refused, and the error does not
        show the key (the file's mode is restored after)."""
        for name in musterlib.KEY_FILES:
            path = os.path.join(home.path, name)
            os.chmod(path, 0o644)
            try:
                res = home.run("serve", "--listen", "127.0.0.1:%d" % musterlib.free_port(),
                               "--network", self.net)
                self.assertNotEqual(res.rc, 0, repr(res))
                self.assertIn("chmod 600", res.err)
                if name == "group.key":
                    res = home.run("event", "add", "--title", "x", "--start",
                                   "%d-05-01" % future_year())
                    self.assertNotEqual(res.rc, 0, repr(res))
            finally:
                os.chmod(path, 0o600)

    def check_modes(self, home):
        self.assertEqual(stat.S_IMODE(os.stat(home.path).st_mode), 0o700, home.path)
        for name in musterlib.KEY_FILES:
            st = os.stat(os.path.join(home.path, name))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)
            self.assertEqual(st.st_size, 32, name)

    def check_files(self, homes):
        """No secret in any file the homes hold or the commands wrote, other
        than the key files themselves."""
        seen = 0
        paths = list(self.written)
        for home in homes:
            for root, _dirs, files in os.walk(home.tmp):
                for name in files:
                    path = os.path.join(root, name)
                    if os.path.dirname(path) == home.path and name in musterlib.KEY_FILES:
                        continue
                    paths.append(path)
        for path in sorted(set(paths)):
            with open(path, "rb") as f:
                data = f.read()
            seen += 1
            hit = musterlib.find_secret(data)
            self.assertIsNone(hit, "a secret key (%s) is in %s" % (hit and hit[0], path))
        return seen

    def test_no_secret_in_any_output_or_file(self):
        a, b = Home(self, "a"), Home(self, "b")
        a.init("Alpha")
        b.init("Beta")
        ally(a, b)
        eb = add_event(b, "Beta event")
        ev = self.every_command(a, b)

        # Two daemons at debug level, A dialing B; then a one-shot sync.
        sb = b.serve(self.net)
        a.ok("peer", "add", sb.addr, b.key)
        sa = a.serve(self.net, "--announce", "127.0.0.1:7")
        wait_until(lambda: peers(a)[sb.addr]["last_sync"], SYNC, "A synced with B")
        wait_until(lambda: b.has(ev), SYNC, "A's event on B")
        self.assertTrue(a.has(eb))
        a.ok("status")
        b.ok("status")
        live = add_event(a, "Live")
        wait_until(lambda: b.has(live), SYNC, "a live push")
        c = Home(self, "c")
        c.init("Gamma")
        c.ok("follow", a.key)
        res = c.run("sync", sa.addr, a.key, "--network", self.net, "--log-level", "debug")
        self.assertEqual(res.rc, 0, repr(res))
        res = c.run("sync", sa.addr, b.key, "--network", self.net, "--log-level", "debug")
        self.assertNotEqual(res.rc, 0, "the wrong key: %r" % res)
        # A join by an --ally invite: A's daemon reads its organizer key to
        # accept the alliance.
        d = Home(self, "d")
        d.init("Delta")
        code = a.ok("invite", "--ally", "--network", self.net).strip()
        res = d.run("join", code, "--log-level", "debug")
        self.assertEqual(res.rc, 0, repr(res))
        sa.stop()
        sb.stop()
        for home in (a, b, c, d):
            home._learn_secret()
        self.assertEqual(len([p for p in musterlib._keys if p.startswith(a.path)]), 3,
                         "A's three keys (root, organizer, Noise) are known to the check")

        self.key_mode_errors(a)
        for home in (a, b):
            self.check_modes(home)
        musterlib.check_no_secrets()
        n = self.check_files([a, b, c])
        print("\nsearched the output of %d commands and %d files for %d secret keys"
              % (len(musterlib._outputs), n, len(musterlib._keys)))

    def test_daemon_memory_holds_no_group_secret(self):
        """Once serving, the daemon has wiped the group key and the
        organizer key (which signed its node record, and an alliance when a
        group joined by an --ally invite): neither seed nor the halves of its SHA-512 (the signing scalar and nonce
        prefix) are anywhere in its anonymous memory. The Noise key, which
        it needs, is found by the same scan, so the scan does see keys."""
        a = Home(self, "a")
        a.init("Alpha")
        sa = a.serve(self.net, "--announce", "127.0.0.1:7")
        sa.wait_log(r"published our node record", SYNC)
        # An --ally invite redeemed: the daemon read the organizer key
        # again to sign the alliance, and wiped it.
        j = Home(self, "j")
        j.init("Joiner")
        code = a.ok("invite", "--ally", "--network", self.net).strip()
        j.ok("join", code)
        self.assertEqual([x["state"] for x in a.json("ally", "list", "--json")],
                         ["mutual"])
        a._learn_secret()
        seed = a.secret()
        with open(os.path.join(a.path, "noise.key"), "rb") as f:
            noise = f.read()
        with open(os.path.join(a.path, "organizer.key"), "rb") as f:
            organizer = f.read()
        digest = hashlib.sha512(seed).digest()
        odigest = hashlib.sha512(organizer).digest()
        needles = {"the group seed": seed, "the signing nonce prefix": digest[32:],
                   "the signing scalar": digest[1:31], "the Noise key": noise,
                   "the organizer seed": organizer,
                   "the organizer's nonce prefix": odigest[32:],
                   "the organizer's signing scalar": odigest[1:31]}
        found = set()
        regions = 0
        pid = sa.proc.pid
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                # Anonymous memory, the heap and the stacks; not files (the
                # store's map) nor the kernel's pages.
                if "r" not in fields[1] or (len(fields) > 5 and not fields[5].startswith("[")) \
                        or fields[-1] in ("[vvar]", "[vsyscall]"):
                    continue
                # Reservations of a terabyte (sanitizer shadow memory) hold
                # nothing that was ever written.
                if hi - lo > 1 << 30:
                    continue
                regions += 1
                tail = b""
                for at in range(lo, hi, CHUNK):
                    try:
                        mem.seek(at)
                        data = tail + mem.read(min(CHUNK, hi - at))
                    except OSError:
                        tail = b""
                        continue  # a guard page of sodium_malloc()
                    found |= {name for name, v in needles.items() if v in data}
                    tail = data[-64:]
        print("\nscanned %d regions of the daemon's memory" % regions)
        self.assertIn("the Noise key", found, "the scan finds a key the daemon holds")
        self.assertEqual(found, {"the Noise key"}, "the group secret is still in memory")
        sa.stop()


if __name__ == "__main__":
    musterlib.main()
