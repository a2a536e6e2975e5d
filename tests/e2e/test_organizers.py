#!/usr/bin/python3
"""Several organizers per group (issue 16), with real `muster` processes:
homes that join a group with a request code, organizers added, listed and
revoked, the root key moved offline, and a home made before organizers
upgraded in place. The network tests run `muster serve` on 127.0.0.1:
three organizers of one group and an ally each see every edit and who made
it; a lost laptop's key is revoked and its records go everywhere."""

import hashlib
import os
import stat
import time
import unittest
import urllib.request

import msgpack
import nacl.signing

import musterlib
import recbuild
from musterlib import Home, add_event, wait_until

SYNC = 30 * musterlib.SLOWDOWN  # seconds any propagation may take here


def tearDownModule():
    musterlib.check_no_secrets()


def organizers(home):
    """`muster organizer list --json`'s organizers, by name."""
    return {o["name"]: o for o in home.json("organizer", "list", "--json")["organizers"]}


def join(tc, root, label, name):
    """A home that joins root's group as organizer name: (home, code)."""
    h = Home(tc, label)
    res = h.run("init", "--join", root.key, "--organizer", name)
    tc.assertEqual(res.rc, 0, repr(res))
    code = res.out.strip()
    tc.assertRegex(code, r"^mureq1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58,83}$")
    tc.assertIn("muster organizer add", res.err)
    tc.assertIn("muster peer add", res.err)
    h.key = root.key
    return h, code


class Local(unittest.TestCase):
    """What needs no network: keys, codes and records in one store."""

    def test_init_makes_an_organizer_that_signs(self):
        a = Home(self, "a")
        res = a.run("init", "--name", "Riverside", "--organizer", "Ana")
        self.assertEqual(res.rc, 0, repr(res))
        a.key = res.out.strip()
        st = os.stat(os.path.join(a.path, "organizer.key"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        orgs = organizers(a)
        self.assertEqual(list(orgs), ["Ana"])
        ana = orgs["Ana"]
        self.assertEqual((ana["status"], ana["kinds"], ana["this_home"]),
                         ("active", None, True))
        self.assertNotEqual(ana["key"], a.key)
        # The organizer record is the root's; the rest is the organizer's.
        prof = a.json("show", a.key + "/profile", "--json")
        self.assertEqual(prof["signer"], ana["key"])
        ev = add_event(a, "Assembly")
        shown = a.json("show", ev, "--json")
        self.assertEqual(shown["signer"], ana["key"])
        # Who edited it, by the organizer's name: show, lists, the page.
        self.assertEqual(shown["edited_by"], "Ana")
        listed = {e["address"]: e for e in a.json("event", "list", "--json")}
        self.assertEqual(listed[ev]["edited_by"], "Ana")
        srv = a.serve(musterlib.network_name(), http=True)
        with urllib.request.urlopen(srv.http_url + "/events/" + ev) as r:
            page = r.read().decode()
        self.assertIn("Last edited by</dt><dd class=\"editor\">Ana</dd>", page)
        srv.stop()
        org = a.json("show", a.key + "/organizer/" + recbuild_hex(a, ana["key"]), "--json")
        self.assertEqual(org["signer"], a.key)
        self.assertIn("0 problems", a.ok("check"))

    def test_join_add_list_and_mistakes(self):
        a = Home(self, "a")
        a.init("Riverside")
        b, code = join(self, a, "b", "Sam")
        self.assertFalse(os.path.exists(b.key_file), "a joined home has no root key")
        self.assertEqual(b.line("id"), a.key)
        # Nothing to publish with until the organizer record comes.
        b.fail("event", "add", "--title", "X", "--start", "2031-01-01T18:00Z",
               "--tz", "UTC", parts=("organizer key is not known here yet",))
        # Only the root adds organizers.
        b.fail("organizer", "add", code,
               parts=("this home has no root key: run it where the root key is, "
                      "or give --root-key file",))
        # A mistyped code is named as such and changes nothing.
        bad = code[:20] + ("q" if code[20] != "q" else "p") + code[21:]
        a.fail("organizer", "add", bad, parts=("request code", "checksum"))
        a.fail("organizer", "add", a.key, parts=('does not start with "mureq1"',))
        before = set(organizers(a))
        addr = a.line("organizer", "add", code, "--name", "Sam Okafor")
        self.assertIn("/organizer/", addr)
        orgs = organizers(a)
        self.assertEqual(set(orgs) - before, {"Sam Okafor"})
        self.assertFalse(orgs["Sam Okafor"]["this_home"])
        self.assertIn("Sam Okafor", a.ok("organizer", "list"))
        a.fail("organizer", "revoke", "Nobody", parts=("no organizer", "nobody"))
        # A second init on either home is refused, and --name with --join.
        a.fail("init", "--join", a.key, parts=("already exists",))
        b.fail("init", parts=("already exists",))
        c = Home(self, "c")
        res = c.run("init", "--join", a.key, "--name", "X")
        self.assertEqual(res.rc, 2, repr(res))
        c.fail("init", "--join", a.key, "--organizer", "A name far too long",
               parts=("16 bytes",))
        self.assertFalse(os.path.exists(c.path), "a refused init creates nothing")

    def test_root_key_offline(self):
        a = Home(self, "a")
        a.init("Riverside")
        out = os.path.join(a.tmp, "root.key")
        res = a.run("key", "offline", out)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertFalse(os.path.exists(a.key_file))
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        self.assertEqual(a.line("id"), a.key)
        # Organizers go on publishing.
        ev = add_event(a, "After the key went")
        self.assertIn(ev, musterlib.event_titles(a))
        a.line("event", "edit", ev, "--title", "Edited without the root")
        # Organizer changes need the root key back.
        b, code = join(self, a, "b", "Sam")
        a.fail("organizer", "add", code, parts=("this home has no root key",))
        a.fail("organizer", "add", code, "--root-key", os.path.join(a.tmp, "nope"),
               parts=("--root-key", "nope"))
        other = Home(self, "other")
        other.init("Another group")
        a.fail("organizer", "add", code, "--root-key", other.key_file,
               parts=("another group",))
        a.line("organizer", "add", code, "--root-key", out)
        self.assertIn("Sam", organizers(a))
        a.fail("key", "offline", out + "2", parts=("no root key",))
        # Never over an existing file.
        c = Home(self, "c")
        c.init("C")
        c.fail("key", "offline", out, parts=("exists already",))
        self.assertTrue(os.path.exists(c.key_file))
        self.assertIn("0 problems", a.ok("check"))

    def test_revocation_by_file(self):
        # Records carried between homes by export files: a revocation
        # removes what the key signed but the kept ids, and refuses its
        # next records, backdated or not.
        a = Home(self, "a")
        a.init("Riverside")
        b, code_b = join(self, a, "b", "Sam")
        c, code_c = join(self, a, "c", "Kim")
        a.line("organizer", "add", code_b)
        a.line("organizer", "add", code_c)
        first = a.export_file("organizers.muster")
        for h in (b, c):
            h.import_file(first)
        sam = add_event(b, "Sam's event")
        kim = add_event(c, "Kim's event", day="06-02")
        kim_old = add_event(c, "Kim's edited event", day="06-03")
        c.line("event", "edit", kim_old, "--title", "Kim's edit")
        for h in (b, c):
            a.import_file(h.export_file("theirs.muster"))
        self.assertTrue(a.has(sam) and a.has(kim) and a.has(kim_old))
        a.line("organizer", "revoke", "Kim", "--keep-current")
        a.line("organizer", "revoke", "Sam")
        orgs = organizers(a)
        self.assertEqual((orgs["Sam"]["status"], orgs["Sam"]["kept"]), ("revoked", 0))
        self.assertEqual((orgs["Kim"]["status"], orgs["Kim"]["kept"]), ("revoked", 2))
        self.assertFalse(a.has(sam))
        self.assertTrue(a.has(kim))
        self.assertEqual(a.json("show", kim_old, "--json")["content"]["title"], "Kim's edit")
        # The revocation reaches Sam's home, which then refuses to sign,
        # and the stolen key's records are refused everywhere.
        b.import_file(a.export_file("after.muster"))
        self.assertFalse(b.has(sam))
        b.fail("event", "add", "--title", "x", "--start", "2031-01-01T18:00Z",
               "--tz", "UTC", parts=("revoked",))
        path = stolen_records(self, a, b)
        for h in (a, b, c):
            if h is c:
                h.import_file(a.export_file("after2.muster"))
            counts = h.import_file(path)
            self.assertEqual(counts["new"], 0, "at %s: %r" % (h.path, counts))
            self.assertFalse(h.has(a.key + "/cause/next"))
            self.assertFalse(h.has(a.key + "/cause/backdated"))
        for h in (a, b, c):
            self.assertIn("0 problems", h.ok("check"))

    def test_old_home_upgrades_in_place(self):
        # A home as versions before organizers left it: group.key, and a
        # store of records all signed by the root.
        # Rebuilt around a bare key (init --restore-key makes no organizer
        # key and publishes nothing), then given root-signed records.
        h = Home(self, "old")
        seed = os.urandom(32)
        saved = os.path.join(h.tmp, "saved.key")
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, seed)
        os.close(fd)
        h.run("init", "--restore-key", saved)
        h._learn_secret()
        recs = recbuild.causes(seed, 3, prefix="old")
        path = os.path.join(h.tmp, "old.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream(recs))
        self.assertEqual(h.import_file(path)["new"], 3)
        self.assertFalse(os.path.exists(os.path.join(h.path, "organizer.key")))
        h.key = h.line("id")
        self.assertEqual(organizers(h), {})

        # First use: an organizer key and its record, and the new record
        # is signed by it; the old ones stay, valid.
        ev = add_event(h, "After the upgrade")
        self.assertTrue(os.path.exists(os.path.join(h.path, "organizer.key")))
        orgs = organizers(h)
        self.assertEqual(len(orgs), 1)
        mine = list(orgs.values())[0]
        self.assertTrue(mine["this_home"])
        self.assertEqual(h.json("show", ev, "--json")["signer"], mine["key"])
        for i in range(3):
            got = h.json("show", "%s/cause/old%d" % (h.key, i), "--json")
            self.assertEqual(got["signer"], h.key)
        self.assertIn("0 problems", h.ok("check"))


class JoinBySync(unittest.TestCase):
    """A joined home gets its organizer record over the network: it proves
    its group with its organizer key alone, which the root's node accepts
    because it holds that key's active record."""

    def test_joined_home_syncs_and_publishes(self):
        net = musterlib.network_name()
        a = Home(self, "ana")
        res = a.run("init", "--name", "Riverside", "--organizer", "Ana")
        self.assertEqual(res.rc, 0, repr(res))
        a.key = res.out.strip()
        before = add_event(a, "Before Sam joined")
        b, code = join(self, a, "sam", "Sam")
        stranger, _ = join(self, a, "stranger", "Lee")  # never added
        a.line("organizer", "add", code)
        sa = a.serve(net)
        b.ok("peer", "add", sa.addr, a.key)
        sb = b.serve(net)
        wait_until(lambda: "Sam" in organizers(b) and b.has(before), SYNC,
                   "Sam's organizer record and the group's event at Sam's home")
        self.assertTrue(organizers(b)["Sam"]["this_home"])
        ev = add_event(b, "Sam's first", day="06-02")
        wait_until(lambda: a.has(ev), SYNC, "Sam's event at the root's home")
        self.assertEqual(musterlib.shown(a, ev)["edited_by"], "Sam")
        # A key the root's node holds no record for proves nothing.
        stranger.ok("peer", "add", sa.addr, a.key)
        res = stranger.run("sync", sa.addr, a.key, "--network", net)
        self.assertNotEqual(res.rc, 0, repr(res))
        sa.wait_log("no organizer record for it is here", SYNC,
                    "the root's node refusing an unknown organizer key")
        self.assertFalse(stranger.has(before))
        # Nor does a revoked one, even from the home that held it.
        sb.stop()
        a.line("organizer", "revoke", "Sam")
        res = b.run("sync", sa.addr, a.key, "--network", net)
        self.assertNotEqual(res.rc, 0, repr(res))
        sa.wait_log("which the group revoked", SYNC,
                    "the root's node refusing a revoked organizer key")
        sa.stop()
        for h in (a, b):
            self.assertIn("0 problems", h.ok("check"))


class Network(unittest.TestCase):
    """Three organizers of one group on three homes, an ally on a fourth,
    all serving on 127.0.0.1 and linked through the root holder's node."""

    def setUp(self):
        self.net = musterlib.network_name()
        a = Home(self, "ana")
        res = a.run("init", "--name", "Riverside", "--organizer", "Ana")
        self.assertEqual(res.rc, 0, repr(res))
        a.key = res.out.strip()
        b, code_b = join(self, a, "sam", "Sam")
        c, code_c = join(self, a, "kim", "Kim")
        a.line("organizer", "add", code_b)
        a.line("organizer", "add", code_c)
        # The new homes get their organizer records by sync, proving
        # their group with their organizer keys alone until then.
        d = Home(self, "ally")
        d.init("Harbour")
        musterlib.ally(a, d)
        self.a, self.b, self.c, self.d = a, b, c, d
        self.sa = a.serve(self.net)
        self.servers = [self.sa]
        for h in (b, c, d):
            h.ok("peer", "add", self.sa.addr, a.key)
            self.servers.append(h.serve(self.net))
        self.homes = (a, b, c, d)
        for h in (b, c):
            wait_until(lambda h=h: len(organizers(h)) == 3, SYNC,
                       "the organizer records at %s" % h.path)

    def edited(self, home, addr):
        got = musterlib.shown(home, addr)
        return got and (got["content"]["title"], got["edited_by"])

    def test_three_organizers_edit_and_every_node_names_them(self):
        a, b, c = self.a, self.b, self.c
        ea = add_event(a, "Ana's assembly")
        eb = add_event(b, "Sam's picnic", day="06-02")
        ec = add_event(c, "Kim's march", day="06-03")
        for h in self.homes:
            for addr, want in ((ea, ("Ana's assembly", "Ana")),
                               (eb, ("Sam's picnic", "Sam")),
                               (ec, ("Kim's march", "Kim"))):
                wait_until(lambda h=h, addr=addr, want=want: self.edited(h, addr) == want,
                           SYNC, "%s at %s" % (want, h.path))
        # Each edits another's event: the edit and its author everywhere.
        b.line("event", "edit", ea, "--title", "Assembly, room 2")
        c.line("event", "edit", eb, "--title", "Picnic by the river")
        a.line("event", "edit", ec, "--title", "March at noon")
        for h in self.homes:
            for addr, want in ((ea, ("Assembly, room 2", "Sam")),
                               (eb, ("Picnic by the river", "Kim")),
                               (ec, ("March at noon", "Ana"))):
                wait_until(lambda h=h, addr=addr, want=want: self.edited(h, addr) == want,
                           SYNC, "%s at %s" % (want, h.path))
            listed = {e["address"]: e["edited_by"] for e in h.json("event", "list", "--json")}
            self.assertEqual((listed[ea], listed[eb], listed[ec]), ("Sam", "Kim", "Ana"))
        for h in self.homes:
            self.assertIn("0 problems", h.ok("check"))

    def test_root_key_offline_node_keeps_serving(self):
        a, b, d = self.a, self.b, self.d
        self.sa.stop()
        a.ok("key", "offline", os.path.join(a.tmp, "root.key"))
        self.sa.start()  # proves its group with its organizer record now
        ev = add_event(a, "Published without the root key")
        eb = add_event(b, "And by Sam", day="06-07")
        for h in self.homes:
            wait_until(lambda h=h: h.has(ev) and h.has(eb), SYNC,
                       "both events at %s" % h.path)
            self.assertEqual(musterlib.shown(h, ev)["edited_by"], "Ana")
        self.assertIn("0 problems", d.ok("check"))

    def test_lost_laptop(self):
        a, b, c = self.a, self.b, self.c
        # Kim leaves on good terms; Sam's laptop is stolen.
        kim_kept = add_event(c, "Kim's kept event")
        sam_1 = add_event(b, "Sam's first", day="06-04")
        sam_2 = add_event(b, "Sam's second", day="06-05")
        for h in self.homes:
            for addr in (kim_kept, sam_1, sam_2):
                wait_until(lambda h=h, addr=addr: h.has(addr), SYNC,
                           "%s at %s" % (addr, h.path))
        a.line("organizer", "revoke", "Kim", "--keep-current")
        a.line("organizer", "revoke", "Sam")
        orgs = organizers(a)
        self.assertEqual((orgs["Sam"]["status"], orgs["Kim"]["status"]),
                         ("revoked", "revoked"))
        self.assertEqual(orgs["Kim"]["kept"], 1)
        for h in self.homes:
            wait_until(lambda h=h: not h.has(sam_1) and not h.has(sam_2), SYNC,
                       "Sam's records gone from %s" % h.path)
            self.assertTrue(h.has(kim_kept), "a kept record stays at %s" % h.path)
        # The stolen key's next record, and a backdated one, go nowhere:
        # Sam's home refuses to sign, and every node refuses them when
        # they come (built here with the stolen key, as a thief would).
        wait_until(lambda: organizers(b)["Sam"]["status"] == "revoked", SYNC,
                   "the revocation at Sam's node")
        b.fail("event", "add", "--title", "x", "--start", "2031-01-01T18:00Z",
               "--tz", "UTC", parts=("revoked",))
        path = stolen_records(self, a, b)
        for h in self.homes:
            counts = h.import_file(path)
            self.assertEqual(counts["new"], 0, "at %s: %r" % (h.path, counts))
            self.assertFalse(h.has(a.key + "/cause/next"))
            self.assertFalse(h.has(a.key + "/cause/backdated"))
        marker = add_event(a, "After the revocation", day="06-06")
        for h in self.homes:
            wait_until(lambda h=h: h.has(marker), SYNC, "a later record at %s" % h.path)
            self.assertFalse(h.has(sam_1))
            self.assertTrue(h.has(kim_kept))
        for h in self.homes:
            self.assertIn("0 problems", h.ok("check"))


def stolen_records(tc, root, thief):
    """An export file of two causes signed with thief's organizer key, one
    dated now and one backdated a month, as a thief would make them."""
    with open(os.path.join(thief.path, "organizer.key"), "rb") as f:
        stolen = f.read()
    now = int(time.time())
    path = os.path.join(root.tmp, "stolen.muster")
    with open(path, "wb") as f:
        f.write(recbuild.export_stream([
            delegated_cause(stolen, root.key, "next", now),
            delegated_cause(stolen, root.key, "backdated", now - 30 * 86400)]))
    return path


def delegated_cause(seed, group_text, d, created_at):
    """A cause of the group signed by the organizer key of seed: (id, raw)."""
    sk = nacl.signing.SigningKey(seed)
    body = msgpack.packb([1, "cause", bytes(bech32_decode(group_text)),
                          sk.verify_key.encode(), created_at, d, 0,
                          {"status": "active", "title": "Stolen " + d}],
                         use_bin_type=True)
    rid = hashlib.blake2b(body, digest_size=32).digest()
    sig = sk.sign(recbuild.SIG_CONTEXT + rid).signature
    return rid, msgpack.packb([body, sig], use_bin_type=True)


def recbuild_hex(home, key_text):
    """The d of an organizer record: the hex of the key (mug1... text)."""
    return bytes(bech32_decode(key_text)).hex()


def bech32_decode(text):
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    values = [charset.index(c) for c in text[text.rindex("1") + 1:-6]]
    acc, bits, out = 0, 0, []
    for v in values:
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return out


if __name__ == "__main__":
    musterlib.main()
