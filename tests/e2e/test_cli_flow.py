#!/usr/bin/python3
"""The command line from init to export, import, edit, cancel, delete and a
mutual alliance between two homes, through the real `muster` binary."""

import datetime
import os
import re
import unittest

import msgpack

import musterlib
import recbuild
from musterlib import Home

TITLE = "Tenants\u2019 assembly \u270a\U0001f3fd \U0001f3e0"


def tearDownModule():
    musterlib.check_no_secrets()


class Flow(unittest.TestCase):
    def setUp(self):
        self.year = musterlib.future_year()

    def add_event(self, home, *extra, title="Assembly", day="12-05"):
        return home.line(
            "event", "add", "--title", title, "--start",
            "%d-%sT18:00Z" % (self.year, day), *extra,
        )

    def test_full_flow(self):
        a = Home(self, "a")
        b = Home(self, "b")
        akey = a.init("Riverside Tenants Union")
        bkey = b.init()
        self.assertNotEqual(akey, bkey)

        # MUSTER_HOME selects the home like --home does.
        res = musterlib.run(["id"], env={"MUSTER_HOME": a.path})
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(res.out, akey + "\n")

        # profile set prints the profile's address: KEY/profile.
        prof = a.line("profile", "set", "--about", "Tenants organising since 1990",
                      "--website", "https://riverside.example/", "--location", "Berlin")
        self.assertEqual(prof, akey + "/profile")
        pj = a.json("show", prof, "--json")
        self.assertEqual(pj["kind"], "profile")
        self.assertEqual(pj["content"]["name"], "Riverside Tenants Union")
        self.assertEqual(pj["content"]["about"], "Tenants organising since 1990")
        self.assertEqual(pj["d"], "")

        cause = a.line("cause", "add", "--title", "Stop the rent hike", "--summary",
                       "No 20% increase", "--description", "Line one\nLine two",
                       "--tag", "housing", "--tag", "rent",
                       "--url", "https://riverside.example/rent")
        self.assertRegex(cause, "^" + re.escape(akey) + r"/cause/[a-z0-9][a-z0-9._-]{0,63}$")
        cj = a.json("show", cause, "--json")
        self.assertEqual(cj["address"], cause)
        self.assertEqual(cj["kind"], "cause")
        self.assertEqual(cj["group"], akey)
        self.assertEqual(cj["signer"], akey)
        self.assertEqual(cj["rev"], 0)
        self.assertRegex(cj["id"], "^[0-9a-f]{64}$")
        self.assertRegex(cj["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        c = cj["content"]
        self.assertEqual(c["title"], "Stop the rent hike")
        self.assertEqual(c["summary"], "No 20% increase")
        self.assertEqual(c["description"], "Line one\nLine two")
        self.assertEqual(c["tags"], ["housing", "rent"])
        self.assertEqual(c["url"], "https://riverside.example/rent")
        self.assertEqual(c["status"], "active")

        # An event with every option; Berlin is UTC+1 in December.
        ev = a.line(
            "event", "add", "--title", TITLE,
            "--start", "%d-12-05T18:00" % self.year,
            "--end", "%d-12-05T20:30" % self.year, "--tz", "Europe/Berlin",
            "--where", "Community hall", "--address", "Hauptstr. 1, Berlin",
            "--geo", "52.5200066,13.404954",
            "--online", "https://meet.example/assembly",
            "--online", "https://stream.example/live",
            "--cause", cause, "--capacity", "120", "--status", "confirmed",
            "--tag", "housing", "--tag", "assembly", "--host", bkey,
        )
        self.assertRegex(ev, "^" + re.escape(akey) + r"/event/[a-z0-9][a-z0-9._-]{0,63}$")
        ej = a.json("show", ev, "--json")
        e = ej["content"]
        self.assertEqual(ej["kind"], "event")
        self.assertEqual(ej["address"], ev)
        self.assertEqual(e["title"], TITLE)
        self.assertEqual(e["start"], "%d-12-05T17:00:00Z" % self.year)
        self.assertEqual(e["end"], "%d-12-05T19:30:00Z" % self.year)
        self.assertEqual(e["tz"], "Europe/Berlin")
        self.assertEqual(e["location"]["name"], "Community hall")
        self.assertEqual(e["location"]["address"], "Hauptstr. 1, Berlin")
        self.assertAlmostEqual(e["location"]["lat"], 52.5200066, places=7)
        self.assertAlmostEqual(e["location"]["lon"], 13.404954, places=7)
        self.assertEqual(e["online"], ["https://meet.example/assembly",
                                       "https://stream.example/live"])
        self.assertEqual(e["cause"], cause)
        self.assertEqual(e["capacity"], 120)
        self.assertEqual(e["status"], "confirmed")
        self.assertEqual(e["tags"], ["housing", "assembly"])
        self.assertEqual(e["hosts"], [bkey])
        self.assertNotIn("all_day", e)

        # An all-day event, earlier in the year: it lists first.
        early = a.line("event", "add", "--title", "Street fair", "--start",
                       "%d-06-01" % self.year, "--where", "Park")
        ej2 = a.json("show", early, "--json")
        self.assertIs(ej2["content"]["all_day"], True)
        self.assertEqual(ej2["content"]["start"], "%d-06-01T00:00:00Z" % self.year)
        self.assertEqual(ej2["content"]["location"], {"name": "Park"})

        # An alliance proposal to B.
        ally = a.line("ally", "add", bkey, "--terms", "We act by the code of ethics.",
                      "--cause", cause)
        aj = a.json("show", ally, "--json")
        self.assertEqual(aj["kind"], "alliance")
        self.assertEqual(aj["content"]["with"], bkey)
        self.assertEqual(aj["content"]["status"], "proposed")
        self.assertEqual(aj["content"]["causes"], [cause])
        self.assertRegex(aj["d"], "^[0-9a-f]{64}$")
        self.assertEqual(ally, akey + "/alliance/" + aj["d"])

        # Lists, as JSON.
        causes = a.json("cause", "list", "--json")
        self.assertEqual([x["id"] for x in causes], [cj["id"]])
        self.assertEqual(causes[0], cj)
        events = a.json("event", "list", "--json")
        self.assertEqual([x["address"] for x in events], [early, ev],
                         "soonest upcoming first")
        self.assertEqual(events[1], ej)
        self.assertEqual(a.json("event", "list", "--group", akey, "--json"), events)
        # --group also finds the events a group co-hosts (B is a host of ev).
        cohosted = a.json("event", "list", "--group", bkey, "--json")
        self.assertEqual([x["address"] for x in cohosted], [ev])
        window = a.json("event", "list", "--from", "%d-11-01T00:00Z" % self.year,
                        "--to", "%d-12-31T00:00Z" % self.year, "--json")
        self.assertEqual([x["address"] for x in window], [ev])
        allies = a.json("ally", "list", "--json")
        self.assertEqual(len(allies), 1)
        self.assertEqual(allies[0]["group"], bkey)
        self.assertEqual(allies[0]["state"], "proposed-by-us")
        self.assertIsNone(allies[0]["theirs"])
        self.assertEqual(allies[0]["ours"], aj)

        # Lists, as text for people.
        text = a.ok("event", "list")
        self.assertIn(TITLE, text)
        self.assertIn("Street fair", text)
        self.assertLess(text.index("Street fair"), text.index(TITLE))
        self.assertNotIn("CANCELLED", text)
        self.assertIn("Stop the rent hike", a.ok("cause", "list"))
        self.assertIn(bkey[:12], a.ok("ally", "list"))
        self.assertIn("Stop the rent hike", a.ok("show", cause))

        # Export to stdout and to a file give the same bytes.
        exp = a.export_bytes()
        path = a.export_file()
        with open(path, "rb") as f:
            self.assertEqual(f.read(), exp)
        recs = musterlib.split_export(self, exp)
        self.assertEqual(len(recs), 5)  # profile, cause, 2 events, alliance

        # Import into a fresh home: same bytes out, same ids.
        c_home = Home(self, "c")
        c_home.init()
        own = musterlib.split_export(self, c_home.export_bytes())
        counts = c_home.import_file(path)
        self.assertEqual(counts, {"new": 5, "duplicate": 0, "superseded": 0,
                                  "deleted": 0, "rejected": 0})
        cexp = c_home.export_bytes()
        if not own:
            self.assertEqual(cexp, exp)
        else:
            # C's own profile is in its export too; the rest is A's, unchanged.
            crecs = musterlib.split_export(self, cexp)
            self.assertEqual([r for r in crecs if r not in own], recs)
        for addr, want in ((cause, cj), (ev, ej), (early, ej2), (ally, aj), (prof, pj)):
            got = c_home.json("show", addr, "--json")
            self.assertEqual(got, want)
            self.assertEqual(c_home.json("show", want["id"], "--json"), want)
        # A second import finds everything already there; stdin works too.
        res = c_home.run("import", stdin=exp)
        self.assertEqual(res.rc, 0, repr(res))
        self.assertEqual(musterlib.parse_summary(self, res),
                         {"new": 0, "duplicate": 5, "superseded": 0, "deleted": 0,
                          "rejected": 0})

        # Edit: a new revision at the same address.
        again = a.line("event", "edit", ev, "--where", "Library, room 2")
        self.assertEqual(again, ev)
        ej3 = a.json("show", ev, "--json")
        self.assertEqual(ej3["address"], ev)
        self.assertEqual(ej3["rev"], ej["rev"] + 1)
        self.assertNotEqual(ej3["id"], ej["id"])
        self.assertEqual(ej3["content"]["location"]["name"], "Library, room 2")
        for kept in ("title", "start", "end", "tz", "online", "cause", "tags", "hosts",
                     "capacity", "status"):
            self.assertEqual(ej3["content"][kept], e[kept], kept)
        self.assertGreaterEqual(ej3["created_at"], ej["created_at"])

        # The newer revision replaces the old one on import (superseded
        # the other way round: the old export is older than what C gets now).
        counts = c_home.import_file(a.export_file("after-edit.muster"))
        self.assertEqual(counts["new"], 1)
        self.assertEqual(c_home.json("show", ev, "--json"), ej3)
        counts = c_home.import_file(path)
        self.assertEqual(counts["superseded"], 1, counts)
        self.assertEqual(c_home.json("show", ev, "--json"), ej3)

        # Cancel: still listed, marked CANCELLED, one more revision.
        self.assertEqual(a.line("event", "cancel", ev), ev)
        ej4 = a.json("show", ev, "--json")
        self.assertEqual(ej4["content"]["status"], "cancelled")
        self.assertEqual(ej4["rev"], ej3["rev"] + 1)
        self.assertEqual(ej4["content"]["title"], TITLE)
        text = a.ok("event", "list")
        # Only the cancelled event (listed second) is marked.
        self.assertEqual(text.count("CANCELLED"), 1, text)
        self.assertIn(TITLE, text)
        self.assertGreater(text.index("CANCELLED"), text.index("Street fair"), text)
        listed = a.json("event", "list", "--json")
        self.assertEqual([x["address"] for x in listed], [early, ev])
        self.assertNotEqual(listed[0]["content"]["status"], "cancelled")
        self.assertEqual(listed[1]["content"]["status"], "cancelled")

        # Delete: the delete's id is printed; the address is gone for good.
        old = a.export_file("before-delete.muster")
        did = a.line("delete", early, "--yes")
        self.assertRegex(did, "^[0-9a-f]{64}$")
        dj = a.json("show", did, "--json")
        self.assertEqual(dj["kind"], "delete")
        self.assertNotIn("address", dj)
        self.assertEqual(dj["content"]["addr"], early)
        self.assertEqual(dj["d"], "")
        self.assertEqual(dj["rev"], 0)
        a.fail("show", early)
        a.fail("show", ej2["id"])
        self.assertEqual([x["address"] for x in a.json("event", "list", "--json")], [ev])
        # Re-importing the export from before the delete keeps it deleted.
        counts = a.import_file(old)
        self.assertEqual(counts["deleted"], 1, counts)
        self.assertEqual(counts["new"], 0, counts)
        self.assertEqual(counts["rejected"], 0, counts)
        a.fail("show", early)
        # A tombstone that arrives after its target removes the target.
        self.assertEqual(c_home.json("show", early, "--json"), ej2)
        counts = c_home.import_file(a.export_file("after-delete.muster"))
        self.assertEqual(counts["new"], 2, counts)  # the cancel and the delete
        c_home.fail("show", early)
        self.assertEqual(c_home.json("show", did, "--json"), dj)
        counts = c_home.import_file(old)
        self.assertEqual(counts["deleted"], 1, counts)
        c_home.fail("show", early)

    def test_mutual_alliance(self):
        a = Home(self, "a")
        b = Home(self, "b")
        akey = a.init("Group A")
        bkey = b.init("Group B")

        a.line("ally", "add", bkey, "--terms", "Solidarity")
        # B has not answered: A proposed, B was proposed to.
        b.import_file(a.export_file())
        [mine] = a.json("ally", "list", "--json")
        self.assertEqual((mine["group"], mine["state"]), (bkey, "proposed-by-us"))
        self.assertIsNone(mine["theirs"])
        [theirs] = b.json("ally", "list", "--json")
        self.assertEqual((theirs["group"], theirs["state"]), (akey, "proposed-to-us"))
        self.assertEqual(theirs["name"], "Group A")
        self.assertIsNone(theirs["ours"])
        self.assertEqual(theirs["theirs"]["content"]["with"], bkey)
        self.assertEqual(theirs["theirs"]["content"]["terms"], "Solidarity")

        # B answers; exports go both ways.
        b.line("ally", "add", akey)
        a.import_file(b.export_file())
        b.import_file(a.export_file("a2.muster"))
        for home, other, name in ((a, bkey, "Group B"), (b, akey, "Group A")):
            [entry] = home.json("ally", "list", "--json")
            self.assertEqual(entry["group"], other)
            self.assertEqual(entry["state"], "mutual")
            self.assertEqual(entry["name"], name)
            self.assertEqual(entry["ours"]["content"]["with"], other)
            self.assertEqual(entry["theirs"]["group"], other)
            self.assertIn("mutual", home.ok("ally", "list").lower())

        # A ends it: no longer mutual on either side once B hears of it.
        a.line("ally", "end", bkey)
        b.import_file(a.export_file("a3.muster"))
        [entry] = a.json("ally", "list", "--json")
        self.assertIn(entry["state"], ("ended", "proposed-to-us"))
        self.assertEqual(entry["ours"]["content"]["status"], "ended")
        [entry] = b.json("ally", "list", "--json")
        self.assertNotEqual(entry["state"], "mutual")
        self.assertEqual(entry["theirs"]["content"]["status"], "ended")

    def test_text_list_shows_zone(self):
        a = Home(self, "z")
        a.init("Zone group")
        a.line("event", "add", "--title", "Night walk", "--start",
               "%d-07-01T22:00" % self.year, "--tz", "America/New_York")
        text = a.ok("event", "list")
        # Shown in the node's zone (UTC here), with the event's own beside.
        day = datetime.date(self.year, 7, 1)
        self.assertIn("%s 02:00-04:00 (%s 22:00-%s 00:00 America/New_York)"
                      % ((day + datetime.timedelta(days=1)).strftime("%a %Y-%m-%d"),
                         day.strftime("%a"),
                         (day + datetime.timedelta(days=1)).strftime("%a")), text)
        text = a.ok("event", "list", "--tz", "America/New_York")
        self.assertIn("22:00", text)
        self.assertNotIn("02:00", text)
        ej = a.json("event", "list", "--json")
        self.assertEqual(ej[0]["content"]["start"], "%d-07-02T02:00:00Z" % self.year)

    def test_text_lists_name_groups(self):
        # The lists print while the store is walked, with the names read
        # before: a group with a profile by its name, one without by its
        # short key, a paragraph each, in order.
        a = Home(self, "n1")
        akey = a.init("Riverside Tenants")
        b = Home(self, "n2")
        bkey = b.init("River Friends")
        self.assertEqual(a.ok("event", "list"),
                         "No events coming up. Publish one with `muster event add`.\n")
        self.assertEqual(a.ok("event", "list", "--from", "2000-01-01"),
                         "No events then. Publish one with `muster event add`.\n")
        self.assertEqual(a.ok("cause", "list"),
                         "No causes. Publish one with `muster cause add --title T`.\n")
        self.assertEqual(a.json("event", "list", "--json"), [])
        mine = self.add_event(a, title="Assembly", day="12-05")
        theirs = self.add_event(b, title="Picnic", day="12-06")
        b.line("cause", "add", "--title", "Clean the river")
        # All of B's records but its profile: A knows B only by its key.
        recs = [r for r in musterlib.export_records(self, b)
                if msgpack.unpackb(msgpack.unpackb(r)[0])[1] != "profile"]
        self.assertEqual(len(recs), 2)
        path = os.path.join(a.tmp, "no-profile.muster")
        with open(path, "wb") as f:
            f.write(recbuild.export_stream((None, r) for r in recs))
        a.import_file(path)
        c = Home(self, "n3")
        c.init("Canal Crew")
        third = self.add_event(c, title="Regatta", day="12-07")
        a.import_file(c.export_file())
        short = "%s\u2026%s" % (bkey[:12], bkey[-4:])
        paras = a.ok("event", "list").rstrip("\n").split("\n\n")
        self.assertEqual(len(paras), 3, paras)
        self.assertIn("Assembly", paras[0])
        self.assertIn("\n    by Riverside Tenants\n", paras[0])
        self.assertTrue(paras[0].endswith("\n    " + mine), paras[0])
        self.assertIn("Picnic", paras[1])
        self.assertIn("\n    by %s\n" % short, paras[1])
        self.assertTrue(paras[1].endswith("\n    " + theirs), paras[1])
        self.assertIn("Regatta", paras[2])
        self.assertIn("\n    by Canal Crew\n", paras[2])
        self.assertTrue(paras[2].endswith("\n    " + third), paras[2])
        self.assertIn("\n    by %s" % short, a.ok("cause", "list"))
        self.assertEqual([x["address"] for x in a.json("event", "list", "--group", bkey,
                                                       "--json")], [theirs])
        self.assertNotIn(akey, a.ok("event", "list", "--group", bkey))

    def test_past_events_hidden_by_default(self):
        a = Home(self, "p")
        a.init()
        past = a.line("event", "add", "--title", "Old rally", "--start",
                      "2001-05-01T10:00Z", "--past")
        fut = self.add_event(a, title="Next rally")
        self.assertEqual([x["address"] for x in a.json("event", "list", "--json")], [fut])
        every = a.json("event", "list", "--from", "2000-01-01T00:00Z", "--json")
        self.assertEqual([x["address"] for x in every], [past, fut])


if __name__ == "__main__":
    musterlib.main()
