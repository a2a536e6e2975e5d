"""A private Tor network on 127.0.0.1, for the Tor tests.

TorNet(tmpdir) starts three directory authorities (their v3 keys made by
tor-gencert) and three more relays, every one Debian's `tor` with
TestingTorNetwork and fast voting, so that a consensus exists within
seconds. Nothing uses the public network: there is no default authority,
only the DirAuthority lines of this network, every address is 127.0.0.1,
and no relay is an exit.

client_config() is what a tor client (muster's tor child) needs to join
this network: muster reads it from the file MUSTER_TOR_EXTRA_CONFIG names
(a test-only hook). The test fails, never skips, when tor is missing:
`make test-deps` installs it (the Makefile's PACKAGES).
"""

import os
import shutil
import socket
import subprocess
import time

TOR = shutil.which("tor") or "/usr/sbin/tor"
GENCERT = shutil.which("tor-gencert") or "/usr/bin/tor-gencert"

# What every member of the network shares: the testing switches, the vote
# timing (TestingV3AuthInitialVotingInterval may be as low as 5 s, with
# its vote and distribution delays shorter than the interval), and the
# flags every relay gets at once instead of after days of uptime.
COMMON = """TestingTorNetwork 1
PathsNeededToBuildCircuits 0.67
TestingDirAuthVoteExit *
TestingDirAuthVoteHSDir *
TestingDirAuthVoteGuard *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
"""

AUTHORITY = """AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo auth@test.invalid
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
"""


def need_tor():
    """Raises (failing the test) when tor or tor-gencert is missing."""
    for path, what in ((TOR, "tor"), (GENCERT, "tor-gencert")):
        if not os.access(path, os.X_OK):
            raise RuntimeError(
                "%s is not installed: the Tor tests need Debian's tor package "
                "(make test-deps, or apt-get install tor)" % what
            )


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Relay:
    def __init__(self, base, nick, authority):
        self.nick = nick
        self.authority = authority
        self.dir = os.path.join(base, nick)
        os.makedirs(os.path.join(self.dir, "keys"), mode=0o700)
        os.chmod(self.dir, 0o700)
        self.orport, self.dirport = free_ports(2)
        self.proc = None
        self.fingerprint = None
        self.v3ident = None

    @property
    def torrc(self):
        return os.path.join(self.dir, "torrc")

    def make_keys(self):
        if self.authority:
            keys = os.path.join(self.dir, "keys")
            subprocess.run(
                [
                    GENCERT,
                    "--create-identity-key",
                    "--passphrase-fd",
                    "0",
                    "-i",
                    os.path.join(keys, "authority_identity_key"),
                    "-s",
                    os.path.join(keys, "authority_signing_key"),
                    "-c",
                    os.path.join(keys, "authority_certificate"),
                    "-m",
                    "12",
                    "-a",
                    "127.0.0.1:%d" % self.dirport,
                ],
                input=b"\n",
                check=True,
                capture_output=True,
                timeout=60,
            )
            with open(os.path.join(keys, "authority_certificate")) as f:
                for line in f:
                    if line.startswith("fingerprint "):
                        self.v3ident = line.split()[1]
        out = subprocess.run(
            [
                TOR,
                "--ignore-missing-torrc",
                "-f",
                "/dev/null",
                "--DataDirectory",
                self.dir,
                "--ORPort",
                "1",
                "--list-fingerprint",
            ],
            check=True,
            capture_output=True,
            timeout=60,
            text=True,
        ).stdout
        self.fingerprint = "".join(out.strip().splitlines()[-1].split()[1:])

    def dirauthority_line(self):
        return "DirAuthority %s orport=%d no-v2 v3ident=%s 127.0.0.1:%d %s\n" % (
            self.nick,
            self.orport,
            self.v3ident,
            self.dirport,
            self.fingerprint,
        )

    def write_torrc(self, authorities):
        text = COMMON + authorities
        text += (
            "DataDirectory %s\nNickname %s\nSocksPort 0\nORPort 127.0.0.1:%d\n"
            "DirPort 127.0.0.1:%d\nAddress 127.0.0.1\nExitRelay 0\n"
            "ExitPolicy reject *:*\nLog notice file %s\nSafeLogging 0\n"
            "ShutdownWaitLength 0\nSandbox 0\nRunAsDaemon 0\n"
            # Publish at once instead of after testing our own ORPort
            # through circuits that need a consensus first.
            "AssumeReachable 1\n"
            % (
                self.dir,
                self.nick,
                self.orport,
                self.dirport,
                os.path.join(self.dir, "notice.log"),
            )
        )
        if self.authority:
            text += AUTHORITY
        with open(self.torrc, "w") as f:
            f.write(text)

    def start(self):
        self.proc = subprocess.Popen(
            [TOR, "-f", self.torrc, "--ignore-missing-torrc"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def log(self):
        try:
            with open(os.path.join(self.dir, "notice.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class TorNet:
    """Three authorities and three relays on 127.0.0.1; stop() ends them."""

    def __init__(self, base, authorities=3, relays=3):
        need_tor()
        self.base = base
        self.relays = [Relay(base, "auth%d" % i, True) for i in range(authorities)]
        self.relays += [Relay(base, "relay%d" % i, False) for i in range(relays)]
        for r in self.relays:
            r.make_keys()
        self.authorities = "".join(
            r.dirauthority_line() for r in self.relays if r.authority
        )
        for r in self.relays:
            r.write_torrc(self.authorities)
        self.started = time.monotonic()
        for r in self.relays:
            r.start()
        self.config_path = os.path.join(base, "tor-client.conf")
        with open(self.config_path, "w") as f:
            f.write(self.client_config())

    def client_config(self):
        """torrc lines for a client or onion service of this network."""
        return COMMON + self.authorities + "Sandbox 0\n"

    def wait_consensus(self, timeout):
        """Waits until the authorities published a consensus that lists
        every relay; returns the seconds the network took."""
        deadline = time.monotonic() + timeout
        want = len(self.relays)
        while time.monotonic() < deadline:
            for r in self.relays:
                if r.proc.poll() is not None:
                    raise AssertionError(
                        "tor relay %s exited (%s):\n%s"
                        % (r.nick, r.proc.returncode, r.log()[-3000:])
                    )
            path = os.path.join(self.relays[0].dir, "cached-consensus")
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            if text.count("\nr ") >= want:
                return time.monotonic() - self.started
            time.sleep(0.2)
        raise AssertionError(
            "the private Tor network made no consensus of %d relays in %d s:\n%s"
            % (want, timeout, self.relays[0].log()[-3000:])
        )

    def stop(self):
        for r in self.relays:
            r.stop()
