"""Issue 18, "Done when": capacity and waitlist, and privacy, on three
allied groups' real nodes.

An event of Harbour with capacity 30. Fifty people reply through real
HTTP posts spread over the three groups' pages (two of them in headless
Chromium, JavaScript on and off): 20 on Harbour's, then 15 on Dock's, then
15 on Mill's. Each node publishes its group's count; Harbour's tally gives
the places in order of arrival: 30 placed, 20 waiting. One of Harbour's
people withdraws, and the first on the waitlist (Dock's 11th) gets the
place: their receipt feed turns CONFIRMED.

Then the privacy check: no name, contact or receipt secret of these
people is in any record, any export, any daemon's log, another group's
store (what sync brought there, decrypted), or another group's pages and
API."""

import glob
import json
import os
import re
import subprocess
import unittest

import musterlib as ml
from test_take_part import form_of, request

CAPACITY = 30
SPLIT = (("Harbour", 20), ("Dock", 15), ("Mill", 15))
LIMITS = "acts_debounce_ms=500,posts_per_min=100,entries_sweep_ms=500"


def status_of(feed):
    m = re.search(r"STATUS:(\w+)", feed)
    return m.group(1) if m else None


class Coalition(unittest.TestCase):

    def setUp(self):
        net = ml.network_name()
        self.homes = {}
        for name, _ in SPLIT:
            h = ml.Home(self, name)
            h.init(name)
            self.homes[name] = h
        names = [n for n, _ in SPLIT]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ml.ally(self.homes[a], self.homes[b])
        self.event = ml.add_event(self.homes["Harbour"], "Assembly for rent caps")
        self.homes["Harbour"].ok("event", "edit", self.event, "--capacity", str(CAPACITY))
        self.servers = {}
        for name in names:
            self.servers[name] = self.homes[name].serve(
                net, http=True, env={"MUSTER_LIMITS": LIMITS})
        for a in names:
            for b in names:
                if a < b:
                    self.homes[a].ok("peer", "add", self.servers[b].addr,
                                     self.homes[b].key)
        for name in names:
            ml.wait_until(lambda: self._page_ok(name), 30 * ml.SLOWDOWN,
                          "the event on %s's page" % name)

    def _page_ok(self, name):
        st, body = request(self.servers[name].http_url + "/events/" + self.event)
        return st == 200 and form_of(body)[0] is not None

    def post(self, name, person, contact):
        url = self.servers[name].http_url
        st, page = request(url + "/events/" + self.event)
        self.assertEqual(st, 200)
        action, hidden = form_of(page)
        st, body = request(url + action, dict(hidden, going="yes", party="1",
                                              name=person, contact=contact),
                           {"Origin": url})
        self.assertEqual(st, 200, body)
        return re.search(r'href="(/r/[0-9a-f]{32})/calendar.ics"', body).group(1)

    def browser_post(self, name, person, js):
        script = os.path.join(ml.SOURCE_DIR, "tests", "interop", "browser_post.mjs")
        res = subprocess.run(
            ["node", script, self.servers[name].http_url + "/events/" + self.event,
             json.dumps({"javascript": js, "name": person, "contact": "", "party": 1})],
            capture_output=True, text=True, timeout=120,
            cwd=os.path.join(ml.SOURCE_DIR, "tests", "interop"))
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        return json.loads(res.stdout.strip().splitlines()[-1])["receipt"]

    def feed_status(self, name, receipt):
        st, feed = request(self.servers[name].http_url + receipt + "/calendar.ics")
        self.assertEqual(st, 200, feed)
        return status_of(feed)

    def statuses(self):
        out = {}
        for (name, person), receipt in self.receipts.items():
            out[(name, person)] = self.feed_status(name, receipt)
        return out

    def test_capacity_waitlist_and_privacy(self):
        self.receipts = {}
        self.people = []
        k = 0
        for name, n in SPLIT:
            for i in range(n):
                k += 1
                person = "Person%02d Quillfeather" % k
                contact = "p%02d.zx@example.org" % k
                self.people.append((person, contact))
                if name == "Mill" and i < 2:
                    receipt = self.browser_post(name, person, js=(i == 0))
                    self.people[-1] = (person, None)
                else:
                    receipt = self.post(name, person, contact)
                self.receipts[(name, person)] = receipt
            # The group's count reaches the host before the next group
            # replies, so that the order of arrival is this one.
            key = self.homes[name].key
            ml.wait_until(lambda: self._host_counts(key) == n, 30 * ml.SLOWDOWN,
                          "Harbour's tally to count %s's %d" % (name, n))

        ml.wait_until(lambda: sorted(self.statuses().values()).count("CONFIRMED") == 30,
                      30 * ml.SLOWDOWN, "30 confirmed places")
        st = self.statuses()
        self.assertEqual(list(st.values()).count("TENTATIVE"), 20)
        # In order of arrival: all of Harbour's, Dock's first 10.
        for (name, person), s in st.items():
            k = int(person[6:8])
            self.assertEqual(s, "CONFIRMED" if k <= 30 else "TENTATIVE", (name, person))
        # Each node's receipt page says the same.
        st_page = request(self.servers["Dock"].http_url
                          + self.receipts[("Dock", "Person31 Quillfeather")])[1]
        self.assertIn('class="status waitlisted"', st_page)

        # Harbour's fifth withdraws: Dock's 11th (Person31) gets the place.
        first_waiting = ("Dock", "Person31 Quillfeather")
        url = self.servers["Harbour"].http_url
        receipt = self.receipts[("Harbour", "Person05 Quillfeather")]
        action, hidden = form_of(request(url + receipt)[1])
        st_w, body = request(url + receipt + "/withdraw", hidden, {"Origin": url})
        self.assertEqual(st_w, 200, body)
        del self.receipts[("Harbour", "Person05 Quillfeather")]
        ml.wait_until(lambda: self.feed_status(*first_waiting[:1],
                                               self.receipts[first_waiting]) == "CONFIRMED",
                      30 * ml.SLOWDOWN, "the first on the waitlist to get the place")
        st = self.statuses()
        self.assertEqual(list(st.values()).count("CONFIRMED"), 30)
        self.assertEqual(list(st.values()).count("TENTATIVE"), 19)
        self.assertEqual(st[("Dock", "Person32 Quillfeather")], "TENTATIVE")
        # Dock's own entries did not change, but its rsvp record's count of
        # waiting people follows the host's tally: 5, then 4.
        ml.wait_until(lambda: self._waitlisted("Dock") == 4, 30 * ml.SLOWDOWN,
                      "Dock's rsvp record to say 4 waiting")

        self.check_privacy()

    def _waitlisted(self, name):
        """The waitlisted count of group name's rsvp record, as Harbour
        holds it."""
        out = self.homes["Harbour"].json("rsvp", self.event, "--json")
        for g in out["acts"]["groups"]:
            if g["group"] == self.homes[name].key:
                return g.get("waitlisted")
        return None

    def _host_counts(self, key):
        """How many people of group key Harbour's stored tally counts."""
        out = self.homes["Harbour"].json("rsvp", self.event, "--json")

        def groups(v):
            if isinstance(v, dict):
                if isinstance(v.get("groups"), list):
                    return v["groups"]
                for x in v.values():
                    g = groups(x)
                    if g is not None:
                        return g
            return None

        for g in groups(out) or []:
            if g.get("group") == key and "placed" in g:
                return g["placed"] + g["tally_waitlisted"]
        return None

    def check_privacy(self):
        secrets = []
        for person, contact in self.people:
            secrets.append(person.encode())
            if contact:
                secrets.append(contact.encode())
                secrets.append(contact.replace("@", "%40").encode())
        receipts = [r[3:].encode() for r in self.receipts.values()]
        everything = secrets + receipts

        for name in self.homes:
            self.servers[name].stop()
        by_group = {name: [p for (g, p) in self.receipts if g == name] for name in self.homes}
        for name, home in self.homes.items():
            # Records and exports: no name, contact or receipt at all.
            export = home.export_bytes()
            for s in everything:
                self.assertNotIn(s, export, "%s's export holds %r" % (name, s))
            # Logs of every run: none either.
            for path in glob.glob(os.path.join(home.tmp, "serve-*")):
                with open(path, "rb") as f:
                    log = f.read()
                for s in everything:
                    self.assertNotIn(s, log, "%s holds %r" % (path, s))
            # Another group's store (what sync brought, decrypted): none
            # of the people who replied on other pages.
            with open(os.path.join(home.path, "store", "data.mdb"), "rb") as f:
                store = f.read()
            for other, persons in by_group.items():
                if other == name:
                    continue
                for p in persons:
                    self.assertNotIn(p.encode(), store,
                                     "%s's store holds %s's %r" % (name, other, p))
            for r in receipts:
                self.assertNotIn(r, store, "%s's store holds a receipt secret" % name)
        # Another group's pages and API, served again.
        for name in self.homes:
            self.servers[name].start()
        for name in self.homes:
            url = self.servers[name].http_url
            for path in ("/api/events", "/api/events/" + self.event,
                         "/events/" + self.event, "/", "/calendar.ics"):
                st, body = request(url + path)
                self.assertEqual(st, 200, path)
                for s in everything:
                    self.assertNotIn(s.decode(), body, "%s%s holds %r" % (name, path, s))


def tearDownModule():
    ml.check_no_secrets()


if __name__ == "__main__":
    ml.main()
