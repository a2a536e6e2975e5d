#!/usr/bin/python3
"""`muster block` (issue 14): a blocked group's records are dropped in one
step, leave the scope even when followed, are refused from a peer that
relays them without the peer being blamed or banned, and are refused by
import; `muster unblock` and `muster block --list`."""

import os
import unittest

import musterlib
import noisepeer
from musterlib import Home, add_event, group_bytes, record_id

SYNC = 30 * musterlib.SLOWDOWN


def tearDownModule():
    musterlib.check_no_secrets()


class Block(unittest.TestCase):
    def setUp(self):
        self.net = musterlib.network_name()

    def raw_of(self, home, ref):
        return musterlib.raw_record(self, home, ref)

    def test_block_drops_refuses_and_spares_the_relaying_peer(self):
        a, g, x = Home(self, "a"), Home(self, "g"), Home(self, "x")
        a.init("Alpha")
        g.init("Go-between")
        x.init("Spam Collective")
        ex = add_event(x, "Buy our stuff")
        eg = add_event(g, "Go-between meeting")
        raw = self.raw_of(x, ex)
        path = x.export_file()
        a.ok("follow", g.key)
        a.ok("follow", x.key)
        self.assertEqual(a.import_file(path)["new"], 2)
        self.assertTrue(a.has(ex))

        # By name, as known here: both records go, in one step.
        out = a.line("block", "Spam Collective")
        self.assertEqual(out, "blocked Spam Collective: 2 records dropped; its "
                              "records are refused from now on")
        self.assertFalse(a.has(ex))
        self.assertFalse(a.has(x.key + "/profile"))
        res = a.run("check")
        self.assertEqual(res.rc, 0, repr(res))
        self.assertIn(" 0 problems", res.out)
        lst = a.json("block", "--list", "--json")
        self.assertEqual([b["key"] for b in lst], [x.key])
        a.fail("block", a.key, parts=("your own group",))

        # Import refuses them, saying so; the valid count stays 0.
        res = a.run("import", path)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertTrue(res.out.startswith("new 0,"), res.out)
        self.assertIn("2 records of blocked groups not stored", res.err)

        # Followed but blocked: out of the scope A states.
        sa = a.serve(self.net)
        p = noisepeer.Peer(sa.port, self.net, g.secret())
        self.addCleanup(p.close)
        p.handshake()
        scope = p.hello([group_bytes(g)])
        self.assertIn(group_bytes(g), scope)
        self.assertNotIn(group_bytes(x), scope, "a blocked group leaves the scope")

        # G relays X's records, more than the 16 invalid ones that get a
        # peer banned: refused, and G is neither dropped nor banned.
        spam = [noisepeer.variant(x.secret(), raw, "spam%02d" % i, "Spam %d" % i)
                for i in range(20)]
        # X's proposal to A would pass as an exception to the scope
        # (PROTOCOL.md 10.3): blocked, it is refused all the same.
        x.line("ally", "add", a.key)
        spam.append(self.raw_of(x, x.key + "/alliance/" + group_bytes(a).hex()))
        p.push(spam[:10])
        p.push(spam[10:])
        p.push([self.raw_of(g, eg)])
        self.assertTrue(a.has(eg), "the relaying peer's own record is stored")
        for r in spam:
            self.assertFalse(a.has(record_id(r)), "a blocked group's record stored")
        self.assertFalse(p.wait_closed(1), "the relaying peer was dropped")
        with open(os.path.join(a.tmp, "serve-1.err")) as f:
            log = f.read()
        self.assertNotIn("invalid record", log)
        self.assertNotIn("banned", log)
        p.close()
        sa.stop()

        # Unblocked: the same file imports again.
        self.assertEqual(a.line("unblock", x.key), "no longer blocking %s" % x.key)
        self.assertEqual(a.line("block", "--list"), "No group is blocked.")
        a.fail("unblock", x.key, parts=("is not blocked",))
        self.assertEqual(a.import_file(path)["new"], 2)


if __name__ == "__main__":
    unittest.main()
