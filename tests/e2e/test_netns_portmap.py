#!/usr/bin/python3
"""`muster serve --map-port` against a real router: miniupnpd in a network
namespace, between a "WAN" namespace and a "LAN" one where the node sits
behind NAT (nftables masquerade). A peer in the WAN namespace dials the
mapped external address and syncs; the mapping is gone after the stop. A
router whose external address is private or carrier-grade NAT gets no
mapping, and the node says so. Everything stays inside the machine's
namespaces; it needs root, ip (iproute2), nft and miniupnpd (Debian's
miniupnpd-nftables), and fails without them.

miniupnpd itself refuses to map on an external address in a reserved
range (RFC 1918, CGNAT and the documentation ranges alike), so the "public"
side uses 100.128.x.0/24, the first block above 100.64.0.0/10, which no
route leaves the namespaces with."""

import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import musterlib
from musterlib import Home, add_event, ally

WAIT = 30 * musterlib.SLOWDOWN
IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or "/usr/sbin/nft"
MINIUPNPD = "/usr/sbin/miniupnpd"
LAN_NODE, LAN_ROUTER = "192.168.77.2", "192.168.77.1"
PORT = 7420


def sh(*args, check=True):
    res = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    if check and res.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), res.returncode,
                                                     res.stderr.decode()))
    return res.stdout.decode()


class Router:
    """Three namespaces: wan (the outside peer at EXT.2), rtr (miniupnpd,
    EXT.1 outside, LAN_ROUTER inside, masquerading) and lan (the node at
    LAN_NODE). Removed at the end of the test."""

    def __init__(self, tc, ext, natpmp, upnp):
        self.tc = tc
        self.ext = ext
        tag = "%x%x" % (os.getpid() & 0xffff, int(time.monotonic() * 1000) & 0xfff)
        self.ns = {n: "mu%s-%s" % (tag, n) for n in ("wan", "rtr", "lan")}
        tc.addCleanup(self.remove)
        for ns in self.ns.values():
            sh(IP, "netns", "add", ns)
            sh(IP, "-n", ns, "link", "set", "lo", "up")
        w0, w1, l0, l1 = ("w0" + tag, "w1" + tag, "l0" + tag, "l1" + tag)
        self.ext_if = w1
        sh(IP, "link", "add", w0, "netns", self.ns["wan"], "type", "veth", "peer",
           "name", w1, "netns", self.ns["rtr"])
        sh(IP, "link", "add", l0, "netns", self.ns["lan"], "type", "veth", "peer",
           "name", l1, "netns", self.ns["rtr"])
        prefix = ext.rsplit(".", 1)[0]
        self.wan_ip = prefix + ".2"
        for ns, dev, addr in ((self.ns["wan"], w0, self.wan_ip + "/24"),
                              (self.ns["rtr"], w1, ext + "/24"),
                              (self.ns["rtr"], l1, LAN_ROUTER + "/24"),
                              (self.ns["lan"], l0, LAN_NODE + "/24")):
            sh(IP, "-n", ns, "addr", "add", addr, "dev", dev)
            sh(IP, "-n", ns, "link", "set", dev, "up")
        sh(IP, "-n", self.ns["lan"], "route", "add", "default", "via", LAN_ROUTER)
        self.exec("rtr", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        rules = """table inet muster_upnp {
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept;
                     jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept;
                      oifname "%s" masquerade; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
""" % w1
        res = subprocess.run([IP, "netns", "exec", self.ns["rtr"], NFT, "-f", "-"],
                             input=rules.encode(), stderr=subprocess.PIPE, timeout=30)
        tc.assertEqual(res.returncode, 0, res.stderr.decode())
        self.dir = Home(tc, "router").tmp
        conf = os.path.join(self.dir, "miniupnpd.conf")
        with open(conf, "w") as f:
            f.write("ext_ifname=%s\nlistening_ip=%s\nport=0\n"
                    "enable_natpmp=%s\nenable_upnp=%s\nsecure_mode=yes\n"
                    "system_uptime=no\nupnp_table_name=muster_upnp\n"
                    "upnp_nat_table_name=muster_upnp\n"
                    "allow 1024-65535 %s/24 1024-65535\n"
                    "deny 0-65535 0.0.0.0/0 0-65535\n"
                    % (w1, l1, "yes" if natpmp else "no", "yes" if upnp else "no",
                       LAN_NODE.rsplit(".", 1)[0] + ".0"))
        self.log_path = os.path.join(self.dir, "miniupnpd.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [IP, "netns", "exec", self.ns["rtr"], MINIUPNPD, "-d", "-f", conf,
             "-P", os.path.join(self.dir, "miniupnpd.pid")],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        musterlib.wait_until(lambda: b"Listening for NAT-PMP" in self.read_log()
                             or b"HTTP listening" in self.read_log(), WAIT,
                             "miniupnpd to start:\n%s" % self.log_path)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def exec(self, ns, *args):
        return sh(IP, "netns", "exec", self.ns[ns], *args)

    def dnat_rules(self):
        """The port forwards miniupnpd holds: its nftables rules."""
        return [l.strip() for l in self.exec("rtr", NFT, "list", "ruleset").splitlines()
                if "dnat" in l]

    def remove(self):
        if getattr(self, "proc", None) is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()
        for ns in self.ns.values():
            subprocess.run([IP, "netns", "del", ns], stderr=subprocess.DEVNULL)


class NsServe:
    """`muster serve` for a home inside a namespace; its pid is muster's
    (ip netns exec execs it)."""

    def __init__(self, tc, router, ns, home, network, *extra):
        self.tc, self.home = tc, home
        self.err_path = os.path.join(home.tmp, "ns-serve.err")
        self.out_path = os.path.join(home.tmp, "ns-serve.out")
        env = dict(os.environ)
        env.setdefault("TZ", "UTC")
        env.pop("MUSTER_HOME", None)
        env.update(home.env)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [IP, "netns", "exec", router.ns[ns], musterlib.BIN, "--home",
                 home.path, "serve", "--network", network, "--http", "off",
                 "--log-level", "debug"] + list(extra),
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        tc.addCleanup(self.kill)

    def log(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern):
        rx = re.compile(pattern)
        return musterlib.wait_until(lambda: rx.search(self.log()), WAIT,
                                    "a log line matching %r" % pattern)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=WAIT)
        log = self.log()
        self.tc.assertEqual(rc, 0, log[-3000:])
        self.tc.assertIsNone(musterlib.SANITIZER_REPORT.search(log),
                             "sanitizer report from muster serve:\n%s" % log[-8000:])
        return log

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PortMap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Fails, never skips: the set-up (make test-deps) installs them.
        missing = [p for p in (IP, NFT, MINIUPNPD) if not os.access(p, os.X_OK)]
        if missing:
            raise AssertionError("missing %s: install iproute2, nftables and "
                                 "miniupnpd-nftables (make deps)" % ", ".join(missing))
        if os.geteuid() != 0:
            raise AssertionError("the port mapping test makes network namespaces: "
                                 "run it as root")

    def setUp(self):
        self.net = musterlib.network_name()

    def mapped_sync(self, ext, natpmp, how, announce):
        router = Router(self, ext, natpmp=natpmp, upnp=not natpmp)
        lan, wan = Home(self, "lan"), Home(self, "wan")
        lan.init("Behind NAT")
        wan.init("Outside")
        ally(lan, wan)
        ev = add_event(lan, "Mapped assembly")
        self.assertIn("dial-out only: allies reach you only through a node you both "
                      "dial", lan.ok("status"))

        # A short lease, to see it renewed before it ends (at half).
        lan.env["MUSTER_LIMITS"] = "map_lease_s=4"
        node = NsServe(self, router, "lan", lan, self.net, "--listen",
                       "0.0.0.0:%d" % PORT, "--map-port",
                       *(("--announce", "auto") if announce else ()))
        m = node.wait_log(r"(?m)^.* info mapped port %d on the router to %s:%d \(%s, "
                          r"lease \d+ s\)$" % (PORT, re.escape(ext), PORT, how))
        print("\nnode logged: %s" % m.group(0))
        m = node.wait_log(r"(?m)^.* info renewed the mapping %s:%d \(%s, lease \d+ s\)$"
                          % (re.escape(ext), PORT, how))
        print("node logged: %s" % m.group(0))
        if announce:
            node.wait_log(r"published our node record, rev \d+, with 1 address")
        rules = router.dnat_rules()
        self.assertTrue(any("dnat ip to %s:%d" % (LAN_NODE, PORT) in r for r in rules),
                        rules)
        status = lan.ok("status")
        print(status)
        self.assertIn("reach:     mapped %s:%d on the home router (%s)" % (ext, PORT, how),
                      status)
        if announce:
            self.assertIn("announced %s:%d" % (ext, PORT), status)
        else:
            self.assertNotIn("announced", status, "--map-port alone announces "
                             "nothing")
        self.assertIn("mapped %s:%d" % (ext, PORT), lan.ok("peer", "list"))

        # The peer outside knows only the external address, and dials it
        # from the WAN namespace: through the router's mapping.
        res = subprocess.run([IP, "netns", "exec", router.ns["wan"], musterlib.BIN,
                              "--home", wan.path, "sync", "%s:%d" % (ext, PORT),
                              lan.key, "--network", self.net],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        self.assertTrue(wan.has(ev), "the event came through the mapping")
        # The node record the peer got names the mapped address.
        node_rec = musterlib.shown(wan, lan.key + "/node")
        if announce:
            self.assertEqual(node_rec["content"]["addrs"], ["%s:%d" % (ext, PORT)])
        else:
            self.assertIsNone(node_rec, "no node record without --announce auto")
        self.assertIn("connection from %s" % ext.rsplit(".", 1)[0], node.log(),
                      "the dial arrived from the WAN side")

        log = node.stop()
        self.assertRegex(log, r"removed the mapping %s:%d from the router"
                         % (re.escape(ext), PORT))
        self.assertEqual([r for r in router.dnat_rules() if LAN_NODE in r], [],
                         "the mapping is removed on stop")
        self.assertNotIn("mapped %s" % ext, lan.ok("status"))

    def test_natpmp_mapping(self):
        self.mapped_sync("100.128.7.1", natpmp=True, how="NAT-PMP", announce=True)

    def test_upnp_mapping(self):
        # Without --announce auto: mapped, and the address told to no one.
        self.mapped_sync("100.128.9.1", natpmp=False, how="UPnP-IGD", announce=False)

    def test_private_external_address_refused(self):
        for ext, natpmp in (("10.9.0.1", True), ("100.100.0.1", False)):
            with self.subTest(ext=ext):
                router = Router(self, ext, natpmp=natpmp, upnp=True)
                lan = Home(self, "lan")
                lan.init("Behind two NATs")
                node = NsServe(self, router, "lan", lan, self.net, "--listen",
                               "0.0.0.0:%d" % PORT, "--map-port", "--announce", "auto")
                m = node.wait_log(r"(?m)^\S+ error --map-port: .*$")
                line = m.group(0)
                print("\nnode logged: %s" % line)
                self.assertIn("no public address", line)
                self.assertIn("no mapping made", line)
                self.assertIn("--tor", line)
                self.assertEqual(router.dnat_rules(), [])
                status = lan.ok("status")
                self.assertIn("reach:     dial-out only: allies reach you only "
                              "through a node you both dial", status)
                self.assertIn("port mapping refused: the router has no public "
                              "address", status)
                self.assertIsNone(musterlib.shown(lan, lan.key + "/node"),
                                  "nothing announced")
                node.stop()


if __name__ == "__main__":
    musterlib.main()
