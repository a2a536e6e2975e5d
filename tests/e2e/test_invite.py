#!/usr/bin/python3
"""Invite codes between real daemons on 127.0.0.1: two homes join by a code
alone and sync both ways; --ally accepts at once, otherwise the proposal
waits in `ally list`; a one-time code works once and `--uses 2` twice; an
expired, revoked or mistyped code, a code made on a copy of the inviter's
home (from its backup) and an unreachable node each give one line saying
so."""

import os
import shutil
import time
import unittest

import nacl.signing

import musterlib
import noisepeer
from musterlib import Home, add_event, event_titles, peers, wait_until
from test_independence import decode_invite, encode_invite

SYNC = 30 * musterlib.SLOWDOWN
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def tearDownModule():
    musterlib.check_no_secrets()


def seed_of(code):
    """The one-time secret in a code (docs/PROTOCOL.md, "Invite codes")."""
    return decode_invite(code)["seed"]


class Invite(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def inviter(self, name="Alpha", env=None):
        a = Home(self, "inviter")
        a.init(name)
        return a, a.serve(self.net, env=env)

    def joiner(self, name):
        h = Home(self, name.lower())
        h.init(name)
        return h

    def invite(self, home, *args):
        res = home.run("invite", "--network", self.net, *args)
        self.assertEqual(res.rc, 0, "invite: %r" % res)
        code = res.out.strip()
        self.assertEqual(res.out.count("\n"), 1, "one code on stdout: %r" % res)
        self.assertTrue(code.startswith("muinv1"), code)
        return code

    def test_join_by_code_alone_syncs_both_ways(self):
        a, sa = self.inviter()
        b = self.joiner("Beta")
        ev_a = add_event(a, "Alpha assembly")
        ev_b = add_event(b, "Beta picnic", day="06-02")
        code = self.invite(a, "--ally", "--terms", "Mutual aid")
        # Nothing but the code: B knows neither A's key nor its address.
        self.assertEqual(peers(b), {})
        out = b.ok("join", code)
        self.assertIn("joined Alpha (%s) at %s" % (a.key, sa.addr), out)
        self.assertIn("alliance: mutual", out)
        # Both ways: each holds the other's event.
        self.assertIn(ev_b, event_titles(a))
        self.assertIn(ev_a, event_titles(b))
        # B dials A from now on, expecting A's key.
        self.assertEqual(peers(b)[sa.addr]["key"], a.key)
        # The alliance A's daemon accepted carries the invite's terms.
        mine = [x for x in a.json("ally", "list", "--json") if x["group"] == b.key]
        self.assertEqual(mine[0]["state"], "mutual")
        self.assertEqual(mine[0]["ours"]["content"]["terms"], "Mutual aid")
        # A sees who joined, with the name B gave.
        inv = a.json("invite", "list", "--json")
        self.assertEqual(len(inv), 1)
        self.assertEqual((inv[0]["joined"], inv[0]["name"], inv[0]["left"]),
                         (b.key, "Beta", 0))
        sa.wait_log(r"invite %s from %s .*: ok" % (inv[0]["id"][:8], b.key))
        # A new event of A reaches B through B's own daemon, which dials A.
        sb = b.serve(self.net)
        later = add_event(a, "Alpha march", day="06-03")
        wait_until(lambda: later in event_titles(b), SYNC, "A's new event on B")
        sb.stop()

    def test_without_ally_the_proposal_waits_in_ally_list(self):
        a, _sa = self.inviter()
        b = self.joiner("Beta")
        code = self.invite(a)
        out = b.ok("join", code, "--name", "Beta Collective")
        self.assertIn("alliance: proposed", out)
        allies = {x["group"]: x for x in a.json("ally", "list", "--json")}
        self.assertEqual(allies[b.key]["state"], "proposed-to-us")
        self.assertIsNone(allies[b.key]["ours"], "A proposed nothing itself")
        text = a.ok("ally", "list")
        self.assertIn("Proposed to us", text)
        self.assertIn("Beta", text)
        inv = a.json("invite", "list", "--json")[0]
        self.assertEqual(inv["name"], "Beta Collective")

    def test_one_time_code_works_once(self):
        a, _sa = self.inviter()
        b, c = self.joiner("Beta"), self.joiner("Gamma")
        code = self.invite(a)
        b.ok("join", code)
        c.fail("join", code, parts=("already used", "new one"))
        self.assertEqual(peers(c), {}, "a refused join adds no peer")
        self.assertEqual(c.json("ally", "list", "--json"), [])
        self.assertEqual(a.json("invite", "list", "--json")[0]["state"], "used")

    def test_uses_2(self):
        a, _sa = self.inviter()
        b, c, d = self.joiner("Beta"), self.joiner("Gamma"), self.joiner("Delta")
        code = self.invite(a, "--uses", "2")
        b.ok("join", code)
        self.assertEqual(a.json("invite", "list", "--json")[0]["left"], 1)
        c.ok("join", code)
        d.fail("join", code, parts=("already used",))
        groups = {x["group"] for x in a.json("ally", "list", "--json")}
        self.assertEqual(groups, {b.key, c.key})

    def test_mistyped_code(self):
        a, _sa = self.inviter()
        b = self.joiner("Beta")
        code = self.invite(a)
        i = len(code) // 2
        bad = code[:i] + CHARSET[(CHARSET.index(code[i]) + 1) % 32] + code[i + 1:]
        b.fail("join", bad, parts=("mistyped", "copy it whole"))
        b.fail("join", code[:-3], parts=("mistyped",))
        b.fail("join", a.key, parts=("group key", "not an invite code"))
        # The code itself still works: nothing was used up.
        b.ok("join", code)

    def test_revoked_code(self):
        a, _sa = self.inviter()
        b = self.joiner("Beta")
        code = self.invite(a)
        ident = a.json("invite", "list", "--json")[0]["id"][:8]
        self.assertIn("revoked invite %s" % ident, a.ok("invite", "revoke", ident))
        b.fail("join", code, parts=("revoked", "new one"))
        self.assertEqual(a.json("invite", "list", "--json")[0]["state"], "revoked")
        a.fail("invite", "revoke", "00000000", parts=("no invite has id",))

    def test_expired_code(self):
        b = self.joiner("Beta")
        # The joiner sees the expiry in the code itself...
        a, _sa = self.inviter()
        code = self.invite(a, "--expires", "1m")
        b.fail("join", code, parts=("expired",), env={"MUSTER_TEST_CLOCK_SKEW": "120"})
        # ...and the inviter's node checks it too, by its own clock: here
        # two minutes ahead of the joiner's.
        a2, _sa2 = self.inviter("Alpha2", env={"MUSTER_TEST_CLOCK_SKEW": "120"})
        code2 = self.invite(a2, "--expires", "1m")
        # (--log-level error: the node would warn that the clocks differ.)
        b.fail("join", code2, "--log-level", "error", parts=("has expired", "new one"))
        self.assertEqual(a2.json("invite", "list", "--json")[0]["left"], 1)

    def test_code_from_a_stolen_backup_is_refused(self):
        a, sa = self.inviter()
        b = self.joiner("Beta")
        real = self.invite(a)
        backup = os.path.join(a.tmp, "stolen.backup")
        a.ok("backup", backup)
        with open(backup, "rb") as f:
            stolen = f.read()
        # The backup holds the invite's public key, never its secret.
        seed = seed_of(real)
        pub = bytes(nacl.signing.SigningKey(seed).verify_key)
        self.assertIn(pub, stolen)
        self.assertNotIn(seed, stolen)
        # A thief with the home's keys and the backup mints a code on the
        # copy: well formed, A's group, A's address; A's node refuses it.
        t = Home(self, "thief")
        shutil.copytree(a.path, t.path,
                        ignore=shutil.ignore_patterns("store", "serve.*"))
        t.key = a.key
        t.ok("restore", backup)
        forged = self.invite(t, "--address", sa.addr)
        b.fail("join", forged, parts=("does not know this invite code",
                                      "copy or backup"))
        # Nor does the public key the backup holds make a code: put in as
        # the secret, it proves another key, which A's node does not know.
        inv = decode_invite(real)
        forged = encode_invite(inv["group"], pub, inv["expires"], inv["network"],
                               inv["addrs"])
        b.fail("join", forged, parts=("does not know this invite code",))
        # The real code still has its use.
        self.assertEqual(a.json("invite", "list", "--json")[0]["left"], 1)
        b.ok("join", real)

    def test_unreachable_node_lists_what_was_tried(self):
        a = self.joiner("Alpha")
        b = self.joiner("Beta")
        os.makedirs(os.path.join(a.path, "tor"))
        onion = "a" * 56 + ".onion"
        with open(os.path.join(a.path, "tor", "hostname"), "w") as f:
            f.write(onion + "\n")
        port = musterlib.free_port()
        code = self.invite(a, "--address", "127.0.0.1:%d" % port)
        line = b.fail("join", code, parts=("cannot reach", "127.0.0.1:%d" % port,
                                           onion + ":7420", "tor"))
        # In the order of the code: the given address first, then the onion.
        self.assertLess(line.index("127.0.0.1:%d" % port), line.index(onion))
        # Not serving and nothing announced: no address to put in a code.
        c = self.joiner("Gamma")
        c.fail("invite", "--network", self.net, parts=("no address", "muster serve"))


class InviteOnTheWire(unittest.TestCase):
    """The exchange of PROTOCOL.md 10.8 against peers written from the
    document (tests/e2e/noisepeer.py)."""

    def setUp(self):
        self.net = musterlib.network_name()

    def redeem(self, addr, group_seed, pub, proof):
        """A session of an independent joiner that sends this invite;
        returns the inviter's verdict."""
        port = int(addr.rsplit(":", 1)[1])
        with noisepeer.Peer(port, self.net, group_seed) as p:
            p.handshake()
            p.hello([])
            p.send(["invite", pub, proof, "Indie"])
            end = time.monotonic() + 10 * musterlib.SLOWDOWN
            while time.monotonic() < end:
                msg = p.recv()
                if msg[0] == "invited":
                    return msg[1], p.handshake_hash, p.group
        raise AssertionError("no invited message")

    def test_independent_joiner_and_a_replayed_proof(self):
        a = Home(self, "inviter")
        a.init("Alpha")
        sa = a.serve(self.net)
        res = a.run("invite", "--network", self.net, "--uses", "2")
        self.assertEqual(res.rc, 0, "invite: %r" % res)
        inv = decode_invite(res.out)
        key = nacl.signing.SigningKey(inv["seed"])
        pub = key.verify_key.encode()
        joiner = os.urandom(32)
        group = nacl.signing.SigningKey(joiner).verify_key.encode()
        # The proof over a session's hash is known only once it is done:
        # sign on a first session whose hash we take from the handshake.
        port = int(sa.addr.rsplit(":", 1)[1])
        with noisepeer.Peer(port, self.net, joiner) as p:
            p.handshake()
            p.hello([])
            proof = key.sign(b"muster invite v1" + p.handshake_hash + group).signature
            p.send(["invite", pub, proof, "Indie"])
            verdict = None
            while verdict is None:
                msg = p.recv()
                if msg[0] == "invited":
                    verdict = msg[1]
        self.assertEqual(verdict, "ok")
        self.assertEqual(a.json("invite", "list", "--json")[0]["left"], 1)
        # The same proof on another session is refused, and takes no use.
        verdict, _h, _g = self.redeem(sa.addr, joiner, pub, proof)
        self.assertEqual(verdict, "bad-proof")
        self.assertEqual(a.json("invite", "list", "--json")[0]["left"], 1)

    def test_join_gives_up_on_a_node_that_ignores_invites(self):
        """A node of an older muster ignores the invite message (10.1): the
        join gives up after two periods instead of waiting for ever."""
        b = Home(self, "joiner")
        b.init("Beta")
        seed = os.urandom(32)

        def on_msg(p, msg):
            if msg[0] in ("neg-open", "neg"):
                p.send(["neg", b"\x61"])  # nothing differs: done

        listen, th = noisepeer.responder(self, self.net, seed, on_msg)
        group = nacl.signing.SigningKey(seed).verify_key.encode()
        addr = listen
        code = encode_invite(group, os.urandom(32), int(time.time()) + 3600, self.net,
                             [addr])
        start = time.monotonic()
        b.fail("join", code, "--log-level", "error", parts=("cannot reach", addr,
                                                            "our invite"),
               env={"MUSTER_TEST_RECONCILE_MS": "500"})
        self.assertLess(time.monotonic() - start, 20 * musterlib.SLOWDOWN)
        th.join(10)


if __name__ == "__main__":
    musterlib.main()
