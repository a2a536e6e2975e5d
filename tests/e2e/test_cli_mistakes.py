#!/usr/bin/python3
"""Mistakes an organizer makes are caught and said, not passed in silence:
a start in the past, a second cancel, an export over a file, a delete
without a question, another group's backup, a cause nobody has here."""

import os
import re
import socket
import unittest

import musterlib
from musterlib import Home


def tearDownModule():
    musterlib.check_no_secrets()


on_terminal = musterlib.on_terminal


class Mistakes(unittest.TestCase):
    def setUp(self):
        self.h = Home(self, "mis")
        self.key = self.h.init("Riverside")
        self.year = musterlib.future_year()

    def count_records(self):
        return len(musterlib.split_export(self, self.h.export_bytes()))

    def test_past_start_refused_without_past(self):
        before = self.count_records()
        msg = self.h.fail("event", "add", "--title", "Old", "--start",
                          "2001-05-01T10:00Z", parts=("in the past", "--past"))
        self.assertIn("2001-05-01T10:00Z", msg)
        self.h.fail("event", "add", "--title", "Old day", "--start", "2001-05-01",
                    parts=("in the past", "--past"))
        self.assertEqual(self.count_records(), before)
        addr = self.h.line("event", "add", "--title", "Old", "--start",
                           "2001-05-01T10:00Z", "--past")
        # The list says what it hid instead of "no events" alone.
        out = self.h.ok("event", "list")
        self.assertIn("No events coming up", out)
        self.assertIn("1 past event; `--from 2001-05-01` shows it", out)
        self.assertIn(addr, self.h.ok("event", "list", "--from", "2001-05-01"))
        # An edit that moves the start into the past is refused too...
        fut = musterlib.add_event(self.h, "Assembly")
        self.h.fail("event", "edit", fut, "--start", "2002-01-01T10:00Z",
                    parts=("in the past", "--past"))
        # ... and an edit of an old event that leaves its start is not.
        self.h.line("event", "edit", addr, "--where", "Town hall")
        self.h.line("event", "edit", fut, "--start", "2002-01-01T10:00Z", "--past")
        out = self.h.ok("event", "list")
        self.assertIn("2 past events; `--from 2001-05-01` shows them", out)

    def test_second_cancel_and_end_change_nothing(self):
        ev = musterlib.add_event(self.h, "Assembly")
        self.assertEqual(self.h.line("event", "cancel", ev), ev)
        rev = musterlib.shown(self.h, ev)["rev"]
        before = self.count_records()
        res = self.h.run("event", "cancel", ev)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.out, ev + "\n")
        self.assertIn("already cancelled", res.err)
        self.assertEqual(res.err.count("\n"), 1, repr(res))
        self.assertEqual(musterlib.shown(self.h, ev)["rev"], rev)
        self.assertEqual(self.count_records(), before)

        other = Home(self, "harbour")
        okey = other.init("Harbour")
        al = self.h.line("ally", "add", okey)
        self.assertEqual(self.h.line("ally", "end", okey), al)
        rev = musterlib.shown(self.h, al)["rev"]
        res = self.h.run("ally", "end", okey)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.out, al + "\n")
        self.assertIn("already ended", res.err)
        self.assertEqual(musterlib.shown(self.h, al)["rev"], rev)

    def test_export_refuses_to_overwrite_without_force(self):
        path = os.path.join(self.h.tmp, "riverside.muster")
        with open(path, "wb") as f:
            f.write(b"my notes")
        self.h.fail("export", path, parts=("already exists", "--force"))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"my notes")
        self.assertEqual([n for n in os.listdir(self.h.tmp) if "tmp" in n], [])
        self.assertEqual(self.h.ok("export", "--force", path), "")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), self.h.export_bytes())
        # backup says the same words.
        self.h.fail("backup", path, parts=("already exists", "--force"))

    def test_delete_asks_on_a_terminal(self):
        ev = musterlib.add_event(self.h, "Posted twice")
        # No terminal, no --yes: refused, naming --yes.
        self.h.fail("delete", ev, parts=("--yes", "terminal"))
        self.assertTrue(self.h.has(ev))
        # On a terminal: asked, and "n" (or nothing) keeps it.
        for answer in ("n\n", "\n"):
            rc, out, err = on_terminal(self.h, ["delete", ev], answer)
            self.assertNotEqual(rc, 0, err)
            self.assertIn("Posted twice", err)
            self.assertIn("[y/N]", err)
            self.assertIn("nothing deleted", err)
            self.assertEqual(out, "")
            self.assertTrue(self.h.has(ev))
        rc, out, err = on_terminal(self.h, ["delete", ev], "y\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.split()), 1, out)
        self.assertFalse(self.h.has(ev))
        # --yes asks nothing.
        ev2 = musterlib.add_event(self.h, "Also twice")
        self.h.line("delete", ev2, "--yes")
        self.assertFalse(self.h.has(ev2))

    def test_serve_binds_before_its_banner(self):
        for taken in ("listen", "http"):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                s.listen()
                port = s.getsockname()[1]
                busy = "127.0.0.1:%d" % port
                free = "127.0.0.1:%d" % musterlib.free_port()
                args = ["serve", "--network", musterlib.network_name(),
                        "--listen", busy if taken == "listen" else free,
                        "--http", busy if taken == "http" else "off"]
                res = self.h.run(*args, timeout=30)
            self.assertNotEqual(res.rc, 0, repr(res))
            # Nothing on stdout: no "listen: ..." for a node that never did.
            self.assertEqual(res.out, "", repr(res))
            self.assertIn("muster: serve: ", res.err)
            self.assertIn(busy, res.err.splitlines()[-1])

    def test_http_needs_host_port(self):
        line = self.h.fail("serve", "--http", "127.0.0.1",
                           parts=("--http needs HOST:PORT", "127.0.0.1:7421", "no port"))
        self.assertNotIn("peer", line, "--http takes no peer")

    def test_show_suggests_commands_that_exist(self):
        stranger = Home(self, "stranger")
        skey = stranger.init()
        refs = ("nothing", self.key + "/event/no-such-event", "ab" * 32,
                skey, skey + "/profile")
        for ref in refs:
            msg = self.h.fail("show", ref)
            # Every command the message suggests exists: its help works.
            for cmd in re.findall(r"`muster ([a-z]+(?: [a-z]+)?)", msg):
                res = self.h.run(*cmd.split(), "--help")
                self.assertEqual(res.rc, 0, "%s suggests %r: %r" % (msg, cmd, res))
        msg = self.h.fail("show", skey, parts=("no profile", "muster status"))

    def test_restore_of_another_groups_backup(self):
        harbour = Home(self, "harbour")
        hkey = harbour.init("Harbour")
        musterlib.add_event(harbour, "Harbour picnic")
        theirs = os.path.join(harbour.tmp, "harbour.mdb")
        harbour.ok("backup", theirs)
        musterlib.add_event(self.h, "Riverside assembly")
        before = self.h.export_bytes()
        self.h.fail("restore", theirs,
                    parts=("another group's backup", "Harbour", hkey, "--other-group"))
        self.assertEqual(self.h.export_bytes(), before, "nothing was replaced")
        # Our own backup is taken without a word.
        ours = os.path.join(self.h.tmp, "ours.mdb")
        self.h.ok("backup", ours)
        self.assertIn("restored", self.h.ok("restore", ours))
        # --other-group takes theirs.
        self.assertIn("restored", self.h.ok("restore", "--other-group", theirs))
        self.assertEqual(self.h.export_bytes(), harbour.export_bytes())

    def test_unknown_cause_is_said(self):
        start = "%d-06-01T18:00Z" % self.year
        nowhere = self.key + "/cause/nobody-has-this"
        res = self.h.run("event", "add", "--title", "March", "--start", start,
                         "--cause", nowhere)
        self.assertEqual(res.rc, 0, repr(res))
        ev = res.out.strip()
        self.assertEqual(res.out.count("\n"), 1, repr(res))
        # The note, then the time it understood (test_cli_zone).
        note, said = res.err.splitlines()
        self.assertIn("not known here yet", note)
        self.assertIn(nowhere, note)
        self.assertIn("(default 2 hours; use --end or --duration)", said)
        self.assertEqual(musterlib.shown(self.h, ev)["content"]["cause"], nowhere)
        # A cause that is here: not a word of it, only the time understood.
        cause = self.h.line("cause", "add", "--title", "Rent freeze")
        res = self.h.run("event", "edit", ev, "--cause", cause)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertNotIn("known", res.err)
        self.assertEqual(res.err.count("\n"), 1, repr(res))
        res = self.h.run("event", "edit", ev, "--cause", nowhere)
        self.assertIn("not known here yet", res.err)


if __name__ == "__main__":
    musterlib.main()
