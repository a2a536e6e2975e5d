#!/usr/bin/python3
"""`muster check`, `muster backup` and `muster restore` on real homes: a
backup taken while the daemon ingests a large push is consistent (it holds
every record acknowledged before it began, and passes the check), the one
taken after is the store record for record; restore refuses while the
daemon runs and refuses files that are no backup, and otherwise replaces
the store, keeping the previous one aside."""

import fcntl
import glob
import json
import os
import signal
import stat
import subprocess
import threading
import time
import unittest

import musterlib
import recbuild
from musterlib import BIN, Home, assert_one_line_error, wait_until


def tearDownModule():
    musterlib.check_no_secrets()


class Backup(unittest.TestCase):
    def test_check_on_a_fresh_home(self):
        a = Home(self, "a")
        a.init("Alpha")
        out = a.ok("check")
        # The profile and this home's organizer record.
        self.assertRegex(out, r"^2 records and \d+ other entries checked: 0 problems\n$")
        js = a.json("check", "--json")
        self.assertEqual(js["records"], 2)
        self.assertEqual(js["problems"], [])
        b = Home(self, "b")
        b.fail("check", parts=("no muster home", "muster init"))

    def test_check_reports_a_tampered_record(self):
        a = Home(self, "a")
        a.init("Alpha")
        a.line("cause", "add", "--title", "Tamper-me-not")
        data = os.path.join(a.path, "store", "data.mdb")
        with open(data, "r+b") as f:
            raw = f.read()
            at = raw.find(b"Tamper-me-not")
            self.assertGreater(at, 0, "the record's bytes are in the file as signed")
            f.seek(at)
            f.write(b"X")
        res = a.run("check")
        self.assertEqual(res.rc, 1, "check of a tampered store: %r" % res)
        lines = res.out.splitlines()
        self.assertEqual(len(lines), 2, res.out)
        self.assertRegex(lines[0], r"^bodies: the record at sequence number \d+ is invalid: signature")
        self.assertRegex(lines[1], r"^2 records and \d+ other entries checked: 1 problems$")
        assert_one_line_error(self, res, "1 problems", "muster restore")
        js = json.loads(a.run("check", "--json").out)
        self.assertEqual([p["db"] for p in js["problems"]], ["bodies"])

    def test_hot_backup_and_restore(self):
        net = musterlib.network_name()
        a, g = Home(self, "a"), Home(self, "g")
        a.init("Alpha")
        g.init("Source")
        a.ok("follow", g.key)
        seed = g.secret()
        pool = recbuild.causes(seed, 6000, pad=200)
        server = a.serve(net)
        pusher = recbuild.Pusher(server.port, net, seed, [recbuild.group_of(g.secret())])
        self.addCleanup(pusher.close)
        t = threading.Thread(target=pusher.push, args=(pool,), daemon=True)
        t.start()

        # While the daemon ingests.
        wait_until(lambda: len(pusher.acked) >= 500, 60, "500 records acknowledged")
        acked_before = set(pusher.acked)
        hot = os.path.join(a.tmp, "hot.mdb")
        self.assertEqual(a.ok("backup", hot), "")
        self.assertTrue(t.is_alive(), "the backup ran while records came in")
        t.join(120)
        self.assertEqual(len(pusher.acked), len(pool))
        self.assertEqual(stat.S_IMODE(os.stat(hot).st_mode), 0o600)
        a.fail("backup", hot, parts=("already exists", "--force"))

        # After: the backup is the store, record for record.
        full = os.path.join(a.tmp, "full.mdb")
        a.ok("backup", full)
        a.ok("backup", "--force", hot + ".again")
        records_a = musterlib.export_records(self, a)

        # Not while the daemon runs on the home.
        before = a.export_bytes()
        a.fail("restore", full, parts=("muster serve", "stop it"))
        self.assertEqual(a.export_bytes(), before, "a refused restore changes nothing")

        # Into a fresh home: identical records, a clean check.
        f = Home(self, "f")
        f.init("Fresh")
        # A's backup is another group's for F: refused, naming A...
        before_f = f.export_bytes()
        f.fail("restore", full, parts=("another group", "--other-group", "mug1"))
        self.assertEqual(f.export_bytes(), before_f)
        # ... unless F means it.
        res = f.run("restore", "--other-group", full)
        self.assertEqual(res.rc, 0, "restore: %r" % res)
        lines = res.out.splitlines()
        self.assertEqual(lines[0], "restored %d records from %s" % (len(records_a), full))
        prev = lines[1].rsplit(" ", 1)[1]
        self.assertTrue(prev.startswith(os.path.join(f.path, "store.prev-")), lines)
        self.assertTrue(os.path.isfile(os.path.join(prev, "data.mdb")))
        self.assertEqual(musterlib.export_records(self, f), records_a)
        self.assertEqual(f.json("check", "--json")["problems"], [])

        # The hot backup is consistent: clean, and holds what was acked.
        h = Home(self, "h")
        h.init("Hot")
        h.ok("restore", "--other-group", hot)
        self.assertEqual(h.json("check", "--json")["problems"], [])
        self.assertTrue(acked_before <= recbuild.stored_ids(self, h))
        self.assertTrue(recbuild.stored_ids(self, h) <= {musterlib.record_id(r)
                                                         for r in records_a})
        server.stop()

        # With the daemon stopped, A itself can go back to the hot backup.
        a.ok("restore", hot)
        self.assertEqual(recbuild.stored_ids(self, a), recbuild.stored_ids(self, h))
        server.start()
        server.stop()

    @staticmethod
    def is_locked(path):
        """Whether another process holds an flock on path."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def start_until(self, home, args, pattern, locked=False):
        """Starts `muster ARGS` and stops it (SIGSTOP) as soon as it has
        made a file matching pattern (and, with locked, holds its lock);
        returns the process, or None when it finished first."""
        before = set(glob.glob(pattern))
        proc = subprocess.Popen([BIN, "--home", home.path] + args,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        while proc.poll() is None:
            if set(glob.glob(pattern)) - before:
                proc.send_signal(signal.SIGSTOP)
                made = set(glob.glob(pattern)) - before
                if made and (not locked or all(map(self.is_locked, made))):
                    return proc
                proc.send_signal(signal.SIGCONT)
            time.sleep(0.0005)
        return None

    def killed_midway(self, home, args, pattern):
        """Runs `muster ARGS` until it has made a file matching pattern,
        then SIGKILLs it; returns what it left."""
        for _attempt in range(20):
            proc = self.start_until(home, args, pattern)
            if proc is not None:
                proc.kill()
                proc.wait()
                left = glob.glob(pattern)
                self.assertTrue(left)
                return left
            self.assertEqual(glob.glob(pattern), [])
        self.fail("muster %s always finished before it could be killed" % args)

    def test_killed_backup_and_restore_leave_nothing(self):
        a = Home(self, "a")
        a.init("Alpha")
        g = Home(self, "g")
        g.init("Source")
        a.ok("follow", g.key)
        path = os.path.join(a.tmp, "pool.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(recbuild.causes(g.secret(), 12000, pad=900)))
        a.import_file(path)
        dest = os.path.join(a.tmp, "b.mdb")

        # A killed backup's temp file goes at the next backup to that name.
        left = self.killed_midway(a, ["backup", dest], dest + ".tmp-*")
        # ...but not the file of a backup to that name running meanwhile.
        running = self.start_until(a, ["backup", "--force", dest], dest + ".tmp-*",
                                   locked=True)
        self.assertIsNotNone(running)
        held = set(glob.glob(dest + ".tmp-*"))
        self.assertEqual(len(held), 1)
        self.assertFalse(held & set(left))
        a.ok("backup", "--force", dest)
        self.assertEqual(set(glob.glob(dest + ".tmp-*")), held)
        running.send_signal(signal.SIGCONT)
        self.assertEqual(running.wait(60), 0, "the backup that ran meanwhile")
        self.assertEqual(glob.glob(dest + ".tmp-*"), [])

        # A killed restore's copy goes at the next start of serve...
        copies = os.path.join(a.path, "store.restore-*")
        self.killed_midway(a, ["restore", dest], copies)
        server = a.serve(musterlib.network_name())
        self.assertEqual(glob.glob(copies), [])
        server.stop()
        # ...or at the next restore.
        self.killed_midway(a, ["restore", dest], copies)
        a.ok("restore", dest)
        self.assertEqual(glob.glob(copies), [])
        self.assertEqual(a.json("check", "--json")["problems"], [])

    def test_restore_refuses_what_is_no_backup(self):
        a = Home(self, "a")
        a.init("Alpha")
        a.line("cause", "add", "--title", "Kept")
        before = a.export_bytes()
        junk = os.path.join(a.tmp, "junk.mdb")
        with open(junk, "wb") as f:
            f.write(os.urandom(70000))
        msg = a.fail("restore", junk, parts=("not a muster backup", "muster backup`"))
        # In the person's terms: no LMDB code, no temp copy's name.
        self.assertNotIn("MDB", msg)
        self.assertNotIn("store.restore-", msg)
        empty = os.path.join(a.tmp, "empty.mdb")
        open(empty, "wb").close()
        a.fail("restore", empty, parts=("empty",))
        good = os.path.join(a.tmp, "good.mdb")
        a.ok("backup", good)
        with open(good, "rb") as f:
            data = f.read()
        cut = os.path.join(a.tmp, "cut.mdb")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        a.fail("restore", cut, parts=("cut short",))
        a.fail("restore", os.path.join(a.tmp, "missing.mdb"), parts=("cannot open",))
        self.assertEqual(a.export_bytes(), before, "nothing was replaced")
        self.assertEqual(sorted(os.listdir(a.path)),
                         ["group.key", "organizer.key", "serve.lock", "store"],
                         "no copy is left behind")
        # A backup needs a home to go into.
        n = Home(self, "n")
        res = n.run("restore", good)
        assert_one_line_error(self, res, "muster init")


if __name__ == "__main__":
    musterlib.main()
