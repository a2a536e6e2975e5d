"""Taking part through the pages (issue 18, the people side): the RSVP form
of an event page, posted over real HTTP to real `muster serve` daemons;
receipts, their change, withdrawal and personal feed; the abuse limits
(members-only, other origins, form tokens, rates, sizes), each refusal a
page saying what to do; retention; and the privacy of what people enter:
their names, contacts and receipt secrets are in no record, export, log or
other group's API. Some posts come from headless Chromium with JavaScript
on and off (tests/interop/browser_post.mjs)."""

import datetime
import json
import os
import re
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import musterlib as ml


def iso_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def request(url, data=None, headers=None, method=None):
    """(status, body text) of a request; 4xx and 5xx are answers too."""
    body = None
    if data is not None:
        body = data if isinstance(data, bytes) else urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers=dict(headers or {}),
                                 method=method)
    if body is not None and not req.has_header("Content-type"):
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def form_of(page):
    """The first form of a page: (action, {hidden name: value})."""
    m = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    if m is None:
        return None, {}
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                             m.group(2)))
    return m.group(1), hidden


def refusal(tc, status, body, expect_status, *words):
    """A refusal is an HTML page with its status and a sentence that says
    what to do."""
    tc.assertEqual(status, expect_status, body)
    m = re.search(r'<p class="refusal" data-status="(\d+)">([^<]+)</p>', body)
    tc.assertIsNotNone(m, body)
    tc.assertEqual(int(m.group(1)), expect_status)
    for w in words:
        tc.assertIn(w, m.group(2))


class Node:
    """A home serving HTTP, with one event of its own."""

    def __init__(self, tc, name, network, env=None, extra=(), title="Assembly",
                 start=None, capacity=None):
        self.home = ml.Home(tc, name)
        self.home.init(name)
        self.tc = tc
        args = ["event", "add", "--title", title, "--start",
                start or "%d-06-01T18:00Z" % ml.future_year()]
        if capacity is not None:
            args += ["--capacity", str(capacity)]
        if start is not None:
            args += ["--past"]
        self.event = self.home.line(*args) if title else None
        self.server = self.home.serve(network, *extra, http=True, env=env)

    @property
    def url(self):
        return self.server.http_url

    def page(self, path):
        status, body = request(self.url + path)
        self.tc.assertEqual(status, 200, body)
        return body

    def rsvp(self, name, contact, party=1, going="yes", path=None, m=None,
             origin=True):
        """Posts the RSVP form of the event page as a browser would: the
        receipt path, and the reply."""
        path = path or "/events/" + self.event
        page = self.page(path + ("?m=" + m if m else ""))
        action, hidden = form_of(page)
        self.tc.assertIsNotNone(action, "no form on " + path)
        data = dict(hidden, going=going, party=str(party), name=name, contact=contact)
        headers = {"Origin": self.url} if origin else {}
        status, body = request(self.url + action, data, headers)
        self.tc.assertEqual(status, 200, body)
        receipt = re.search(r'href="(/r/[0-9a-f]{32})/calendar.ics"', body).group(1)
        return receipt, body


class TakePartTest(unittest.TestCase):

    def test_reply_change_withdraw(self):
        """A reply made through the form shows in `rsvp list` and in the
        receipt; the receipt changes it, its feed follows, and a withdrawal
        ends the receipt and the entry."""
        net = ml.network_name()
        n = Node(self, "Harbour", net)
        receipt, body = n.rsvp("Ada Quill", "ada.quill@example.org", party=3)
        self.assertIn("Thank you", body)
        self.assertIn('class="status confirmed"', body)  # no capacity: a place
        rows = n.home.json("rsvp", "list", n.event, "--json")
        self.assertEqual([(r["position"], r["going"], r["party"], r["name"], r["contact"])
                          for r in rows],
                         [(1, True, 3, "Ada Quill", "ada.quill@example.org")])
        csv = n.home.ok("rsvp", "list", n.event, "--csv").splitlines()
        self.assertEqual(csv[0], "position,going,party,name,contact,created_at")
        self.assertTrue(csv[1].startswith("1,yes,3,Ada Quill,ada.quill@example.org,"))

        feed = request(n.url + receipt + "/calendar.ics")[1]
        self.assertIn("STATUS:CONFIRMED", feed)

        page = n.page(receipt)
        action, hidden = form_of(page)
        self.assertEqual(action, receipt)
        status, body = request(n.url + action, dict(hidden, going="no", party="1",
                                                     name="Ada Quill", contact=""),
                               {"Origin": n.url})
        self.assertEqual(status, 200, body)
        self.assertIn('class="status not-going"', body)
        self.assertIn("STATUS:CANCELLED", request(n.url + receipt + "/calendar.ics")[1])
        self.assertEqual(n.home.json("rsvp", "list", n.event, "--json")[0]["going"], False)

        status, body = request(n.url + receipt + "/withdraw", hidden, {"Origin": n.url})
        self.assertEqual(status, 200, body)
        self.assertIn("withdrawn", body)
        status, body = request(n.url + receipt)
        refusal(self, status, body, 404, "withdrawn")
        self.assertEqual(n.home.json("rsvp", "list", n.event, "--json"), [])
        # An organizer's removal, by position.
        bo, _ = n.rsvp("Bo Reed", "")
        pos = str(n.home.json("rsvp", "list", n.event, "--json")[0]["position"])
        n.home.ok("rsvp", "remove", n.event, pos)
        self.assertEqual(n.home.json("rsvp", "list", n.event, "--json"), [])
        refusal(self, *request(n.url + bo), 404, "removed by the organizers")
        ml.assert_one_line_error(self, n.home.run("rsvp", "remove", n.event, pos),
                                 "no entry at position " + pos)

    def test_abuse(self):
        """Members-only refuses a post without the member token and shows
        no form; a form from another origin, or without its token, is
        refused; rates and sizes are limited; each refusal is a page that
        says what to do."""
        net = ml.network_name()
        n = Node(self, "Harbour", net, env={"MUSTER_LIMITS": "posts_per_min=12"})
        path = "/events/" + n.event
        page = n.page(path)
        action, hidden = form_of(page)
        good = dict(hidden, going="yes", party="1", name="Cy", contact="")

        # Another origin, and "null" (a sandboxed or no-referrer page).
        for origin in ("http://evil.example", "null"):
            status, body = request(n.url + action, good, {"Origin": origin})
            refusal(self, status, body, 403, "another web site")
        # A Referer of another site, without Origin, the same.
        status, body = request(n.url + action, good,
                               {"Referer": "https://evil.example/x"})
        refusal(self, status, body, 403, "another web site")
        # No token, a wrong one, and the token of another page.
        for token in (None, "0" * 32):
            data = dict(good)
            data.pop("token")
            if token:
                data["token"] = token
            status, body = request(n.url + action, data, {"Origin": n.url})
            refusal(self, status, body, 403, "Reload the page")
        self.assertEqual(n.home.json("rsvp", "list", n.event, "--json"), [])

        # Members only: no form, a post refused, the member link works.
        link = n.home.ok("link", n.event, "--require", "--url", n.url).strip()
        self.assertTrue(link.startswith(n.url + path + "?m="), link)
        m = link.split("?m=")[1]
        page = n.page(path)
        self.assertIsNone(form_of(page)[0])
        self.assertIn("member link", page)
        status, body = request(n.url + action, good, {"Origin": n.url})
        refusal(self, status, body, 403, "member link")
        status, body = request(n.url + path + "?m=" + "1" * 32)
        self.assertIsNone(form_of(body)[0])
        receipt, _ = n.rsvp("Di Member", "", m=m)
        self.assertEqual(len(n.home.json("rsvp", "list", n.event, "--json")), 1)
        n.home.ok("link", "--open")
        self.assertIsNotNone(form_of(n.page(path))[0])

        # Sizes: a Content-Length past 8 KiB is refused before its body is
        # read; a chunked body past it too; another content type.
        big = dict(good, name="x" * 9000)
        status, body = request(n.url + action, big, {"Origin": n.url})
        refusal(self, status, body, 413, "too large")
        status, body = request(n.url + action, json.dumps(good).encode(),
                               {"Origin": n.url, "Content-Type": "application/json"})
        refusal(self, status, body, 415, "form")
        # Fields past their bounds.
        status, body = request(n.url + action, dict(good, party="21"), {"Origin": n.url})
        refusal(self, status, body, 400, "1 to 20")
        status, body = request(n.url + action, dict(good, name="n" * 101),
                               {"Origin": n.url})
        refusal(self, status, body, 400, "at most 100 bytes")

        # The rate: 12 posts a minute from one address, all counted (the
        # refused ones above too); the next is refused with a page.
        for _ in range(8):
            status, body = request(n.url + action, good, {"Origin": n.url})
            if status == 429:
                break
        refusal(self, status, body, 429, "Wait a minute")
        # Other methods on a page.
        status, body = request(n.url + path, good, method="PUT")
        self.assertEqual(status, 405)

    def test_retention(self):
        """Entries go --keep-entries days after their event's end (here 0:
        at the end, by the end the event has now), and check stays clean."""
        net = ml.network_name()
        n = Node(self, "Harbour", net, start=iso_in(-3600),
                 env={"MUSTER_LIMITS": "entries_sweep_ms=200"},
                 extra=("--keep-entries", "0"))
        receipt, _ = n.rsvp("Eve Late", "eve.late@example.org")
        n.rsvp("Fay Late", "")
        self.assertEqual(len(n.home.json("rsvp", "list", n.event, "--json")), 2)
        time.sleep(0.5)  # sweeps run meanwhile: the event has not ended
        self.assertEqual(len(n.home.json("rsvp", "list", n.event, "--json")), 2)
        # The event is moved to end in 2 seconds.
        n.home.ok("event", "edit", n.event, "--end", iso_in(2), "--past")
        ml.wait_until(lambda: n.home.json("rsvp", "list", n.event, "--json") == [],
                      15 * ml.SLOWDOWN, "the entries to expire")
        n.server.wait_log("deleted 2 personal entries")
        status, body = request(n.url + receipt)
        refusal(self, status, body, 404, "deleted 0 days after")
        # An ended event takes no reply.
        page = n.page("/events/" + n.event)
        self.assertIsNone(form_of(page)[0])
        n.server.stop()
        res = n.home.run("check")
        self.assertEqual(res.rc, 0, res)

    def test_browser(self):
        """Headless Chromium posts the form with JavaScript on and off and
        lands on its receipt."""
        net = ml.network_name()
        n = Node(self, "Harbour", net)
        script = os.path.join(ml.SOURCE_DIR, "tests", "interop", "browser_post.mjs")
        for js, name in ((True, "Gil Script"), (False, "Hal Plain")):
            res = subprocess.run(
                ["node", script, n.url + "/events/" + n.event,
                 json.dumps({"javascript": js, "name": name, "contact": "",
                             "party": 2})],
                capture_output=True, text=True, timeout=120,
                cwd=os.path.join(ml.SOURCE_DIR, "tests", "interop"))
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            out = json.loads(res.stdout.strip().splitlines()[-1])
            self.assertRegex(out["receipt"], r"/r/[0-9a-f]{32}$")
            self.assertIn("you have a place", out["status"])
        names = [r["name"] for r in n.home.json("rsvp", "list", n.event, "--json")]
        self.assertEqual(names, ["Gil Script", "Hal Plain"])


class PetitionPledgeTest(unittest.TestCase):

    def test_petition_and_pledge(self):
        """Signatures on two groups' pages: the total and the names their
        signers chose to show agree on both nodes, and a hidden name and
        every contact stay on the node signed at. A pledge with threshold
        3, pledged over both pages: the pledger's feed is TENTATIVE at 2
        and CONFIRMED at the 3rd."""
        net = ml.network_name()
        env = {"MUSTER_LIMITS": "acts_debounce_ms=300"}
        h = Node(self, "Harbour", net, env=env, title=None)
        d = Node(self, "Dock", net, env=env, title=None)
        ml.ally(h.home, d.home)
        y = ml.future_year()
        pet = h.home.line("petition", "add", "--title", "Rent caps now", "--to",
                          "The council", "--text", "Cap the rents.")
        plg = h.home.line("pledge", "add", "--title", "Rent strike", "--threshold",
                          "3", "--deadline", "%d-05-01" % y, "--start",
                          "%d-05-02T09:00Z" % y)
        h.home.ok("peer", "add", d.server.addr, d.home.key)
        for n in (h, d):
            for path in ("/petitions/" + pet, "/pledges/" + plg):
                ml.wait_until(lambda: form_of(request(n.url + path)[1])[0] is not None,
                              30 * ml.SLOWDOWN, "the form on %s%s" % (n.url, path))

        def sign(n, name, contact, show):
            path = "/petitions/" + pet
            action, hidden = form_of(n.page(path))
            data = dict(hidden, name=name, contact=contact, comment="Yes!\nNow.")
            if show:
                data["show"] = "yes"
            st, body = request(n.url + action, data, {"Origin": n.url})
            self.assertEqual(st, 200, body)
            self.assertIn('class="status signed"', body)
            return re.search(r'action="(/r/[0-9a-f]{32})"', body).group(1)

        sign(h, "Ann Shownname", "ann@example.org", True)
        sign(h, "Ben Hiddenname", "ben@example.org", False)
        cat = sign(d, "Cat Shownname", "cat@example.org", True)
        rows = h.home.json("petition", "signatures", pet, "--json")
        self.assertEqual([(r["name"], r["shown"], r["contact"]) for r in rows],
                         [("Ann Shownname", True, "ann@example.org"),
                          ("Ben Hiddenname", False, "ben@example.org")])
        self.assertEqual(rows[0]["comment"], "Yes!\nNow.")
        csv = h.home.ok("petition", "signatures", pet, "--csv").splitlines()
        self.assertEqual(csv[0], "position,name,shown,contact,comment,created_at")

        def agreed():
            out = []
            for n in (h, d):
                st, body = request(n.url + "/api/petitions/" + pet)
                if st != 200:
                    return False
                out.append(body)
            return all('"total":3' in b and "Ann Shownname" in b and
                       "Cat Shownname" in b for b in out)
        ml.wait_until(agreed, 30 * ml.SLOWDOWN, "3 signatures and 2 names on both nodes")
        for n in (h, d):
            for path in ("/api/petitions/" + pet, "/petitions/" + pet):
                body = request(n.url + path)[1]
                for secret in ("Ben Hiddenname", "ann@example.org", "ben@example.org",
                               "cat@example.org", "Yes!"):
                    self.assertNotIn(secret, body, path)
            export = n.home.export_bytes()
            for secret in (b"Ben Hiddenname", b"@example.org", cat[3:].encode()):
                self.assertNotIn(secret, export)

        def pledge(n, name):
            path = "/pledges/" + plg
            action, hidden = form_of(n.page(path))
            st, body = request(n.url + action, dict(hidden, name=name, contact=""),
                               {"Origin": n.url})
            self.assertEqual(st, 200, body)
            return re.search(r'href="(/r/[0-9a-f]{32})/calendar.ics"', body).group(1)

        first = pledge(h, "Dee Pledger")
        pledge(d, "Eve Pledger")

        def total(n):
            body = request(n.url + "/api/pledges/" + plg)[1]
            m = re.search(r'"total":(\d+)', body)
            return int(m.group(1)) if m else None
        ml.wait_until(lambda: total(h) == 2, 30 * ml.SLOWDOWN, "2 pledged on Harbour")
        feed = request(h.url + first + "/calendar.ics")[1]
        self.assertIn("STATUS:TENTATIVE", feed)
        self.assertIn('class="status below"', request(h.url + first)[1])
        pledge(h, "Fay Pledger")
        ml.wait_until(lambda: "STATUS:CONFIRMED" in request(h.url + first + "/calendar.ics")[1],
                      30 * ml.SLOWDOWN, "the pledge to trigger in the feed")
        self.assertIn('class="status triggered"', request(h.url + first)[1])
        rows = h.home.json("pledge", "list", plg, "--json")
        self.assertEqual([r["name"] for r in rows], ["Dee Pledger", "Fay Pledger"])
        h.home.ok("pledge", "remove", plg, str(rows[0]["position"]))
        self.assertEqual(len(h.home.json("pledge", "list", plg, "--json")), 1)


def tearDownModule():
    ml.check_no_secrets()


if __name__ == "__main__":
    ml.main()
