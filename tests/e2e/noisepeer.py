"""A muster peer written from docs/PROTOCOL.md alone, for adversarial tests.

It speaks the transport (section 9: Noise_XX_25519_ChaChaPoly_BLAKE2b with
identity payloads, 2-byte length framing) and the wire messages (section 10)
well enough to connect to a real `muster serve` and then misbehave on
purpose: push tampered records, records of groups outside the scope, too
many invalid records. Its Noise code shares nothing with the C code, so it
is also an independent check of our handshake; test_vectors() runs it
against the cacophony vectors.

Primitives come from PyNaCl (libsodium: X25519, Ed25519, ChaCha20-Poly1305
IETF) and Python's hashlib/hmac (BLAKE2b, HMAC-BLAKE2b).
"""

import hashlib
import hmac
import os
import socket
import struct
import threading
import time

import msgpack
import nacl.bindings as nb
import nacl.signing

HASHLEN = 64
PROTOCOL_NAME = b"Noise_XX_25519_ChaChaPoly_BLAKE2b"
PROOF_CONTEXT = b"muster noise key"
HANDSHAKE_MAX = 1024
XX = [["e"], ["e", "ee", "s", "es"], ["s", "se"]]


def _hash(data):
    return hashlib.blake2b(data).digest()


def _hmac(key, data):
    return hmac.new(key, data, hashlib.blake2b).digest()


def _hkdf2(ck, ikm):
    temp = _hmac(ck, ikm)
    out1 = _hmac(temp, b"\x01")
    out2 = _hmac(temp, out1 + b"\x02")
    return out1, out2


def x25519_public(secret):
    return nb.crypto_scalarmult_base(secret)


def _dh(secret, public):
    return nb.crypto_scalarmult(secret, public)


class CipherState:
    def __init__(self, key=None):
        self.k = key
        self.n = 0

    def _nonce(self):
        # ChaChaPoly: 32 bits of zeros, then the 64-bit counter, little-endian.
        return b"\x00" * 4 + struct.pack("<Q", self.n)

    def encrypt(self, ad, plaintext):
        if self.k is None:
            return plaintext
        out = nb.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, ad, self._nonce(), self.k)
        self.n += 1
        return out

    def decrypt(self, ad, ciphertext):
        if self.k is None:
            return ciphertext
        out = nb.crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, ad, self._nonce(), self.k)
        self.n += 1
        return out


class SymmetricState:
    def __init__(self, name):
        self.h = name.ljust(HASHLEN, b"\x00") if len(name) <= HASHLEN else _hash(name)
        self.ck = self.h
        self.cs = CipherState()

    def mix_hash(self, data):
        self.h = _hash(self.h + data)

    def mix_key(self, ikm):
        self.ck, temp = _hkdf2(self.ck, ikm)
        self.cs = CipherState(temp[:32])

    def encrypt_and_hash(self, plaintext):
        out = self.cs.encrypt(self.h, plaintext)
        self.mix_hash(out)
        return out

    def decrypt_and_hash(self, ciphertext):
        out = self.cs.decrypt(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return out

    def split(self):
        k1, k2 = _hkdf2(self.ck, b"")
        return CipherState(k1[:32]), CipherState(k2[:32])


class HandshakeXX:
    """Noise XX, either role. After three messages, split() gives the
    (send, receive) cipher states of this side."""

    def __init__(self, initiator, prologue, s_secret, e_secret=None):
        self.initiator = initiator
        self.sym = SymmetricState(PROTOCOL_NAME)
        self.sym.mix_hash(prologue)
        self.s = s_secret
        self.s_pub = x25519_public(s_secret)
        self.e = e_secret if e_secret is not None else os.urandom(32)
        self.e_pub = x25519_public(self.e)
        self.re = None
        self.rs = None
        self.step = 0

    def _dh_token(self, tok):
        if tok == "ee":
            self.sym.mix_key(_dh(self.e, self.re))
        elif tok == "es":
            self.sym.mix_key(_dh(self.e, self.rs) if self.initiator else _dh(self.s, self.re))
        elif tok == "se":
            self.sym.mix_key(_dh(self.s, self.re) if self.initiator else _dh(self.e, self.rs))
        else:
            raise ValueError(tok)

    def write(self, payload):
        assert (self.step % 2 == 0) == self.initiator, "not our turn to write"
        out = b""
        for tok in XX[self.step]:
            if tok == "e":
                out += self.e_pub
                self.sym.mix_hash(self.e_pub)
            elif tok == "s":
                out += self.sym.encrypt_and_hash(self.s_pub)
            else:
                self._dh_token(tok)
        out += self.sym.encrypt_and_hash(payload)
        self.step += 1
        return out

    def read(self, msg):
        assert (self.step % 2 == 0) != self.initiator, "not our turn to read"
        for tok in XX[self.step]:
            if tok == "e":
                self.re, msg = msg[:32], msg[32:]
                self.sym.mix_hash(self.re)
            elif tok == "s":
                n = 48 if self.sym.cs.k is not None else 32
                self.rs = self.sym.decrypt_and_hash(msg[:n])
                msg = msg[n:]
            else:
                self._dh_token(tok)
        payload = self.sym.decrypt_and_hash(msg)
        self.step += 1
        return payload

    def done(self):
        return self.step == 3

    def split(self):
        c1, c2 = self.sym.split()
        return (c1, c2) if self.initiator else (c2, c1)


def test_vectors(vectors):
    """Runs both roles against every Noise_XX_25519_ChaChaPoly_BLAKE2b vector
    of a cacophony file's "vectors" list; returns how many were checked.
    Raises AssertionError at the first byte that differs."""
    checked = 0
    for v in vectors:
        if v.get("protocol_name", v.get("name")) != PROTOCOL_NAME.decode():
            continue
        if v.get("init_psks") or v.get("resp_psks"):
            continue
        h = bytes.fromhex
        init = HandshakeXX(True, h(v["init_prologue"]), h(v["init_static"]),
                           h(v["init_ephemeral"]))
        resp = HandshakeXX(False, h(v["resp_prologue"]), h(v["resp_static"]),
                           h(v["resp_ephemeral"]))
        ciphers = None
        for i, m in enumerate(v["messages"]):
            payload, expect = h(m["payload"]), h(m["ciphertext"])
            sender, receiver = (init, resp) if i % 2 == 0 else (resp, init)
            if i < 3:
                ct = sender.write(payload)
                assert ct == expect, "handshake message %d differs" % i
                assert receiver.read(ct) == payload, "message %d payload" % i
                if i == 2:
                    ciphers = {id(init): init.split(), id(resp): resp.split()}
            else:
                ct = ciphers[id(sender)][0].encrypt(b"", payload)
                assert ct == expect, "transport message %d differs" % i
                assert ciphers[id(receiver)][1].decrypt(b"", ct) == payload
        checked += 1
    return checked


# ---- muster identities (PROTOCOL.md 9.1) ----------------------------------


def identity_payload(signing_key, noise_public, organizer=None):
    """[group, proof], or with organizer = (group, raw organizer record)
    and signing_key the organizer's, [group, proof, record]."""
    proof = signing_key.sign(PROOF_CONTEXT + noise_public).signature
    if organizer is not None:
        group, raw = organizer
        return (b"\x93\xc4\x20" + group + b"\xc4\x40" + proof +
                msgpack.packb(raw, use_bin_type=True))
    group = signing_key.verify_key.encode()
    return b"\x92\xc4\x20" + group + b"\xc4\x40" + proof


def check_identity(payload, noise_public):
    """The group key proven by an identity payload; raises on a bad one."""
    if len(payload) != 101 or payload[:3] != b"\x92\xc4\x20" or payload[35:37] != b"\xc4\x40":
        raise ValueError("identity payload is not [bin 32, bin 64]: %r" % payload.hex())
    group, proof = payload[3:35], payload[37:]
    nacl.signing.VerifyKey(group).verify(PROOF_CONTEXT + noise_public, proof)
    return group


# ---- records (PROTOCOL.md 2) ---------------------------------------------

RECORD_CONTEXT = b"muster record v1"


def sign_body(seed, body):
    """A record [body, sig] around body bytes (any encoding: the signature
    covers the bytes as given), signed with the group's 32-byte seed."""
    rid = hashlib.blake2b(body, digest_size=32).digest()
    sig = nacl.signing.SigningKey(seed).sign(RECORD_CONTEXT + rid).signature
    return msgpack.packb([body, sig], use_bin_type=True)


def body_fields(raw):
    """The 8 header fields of a record's body, content as a dict."""
    body, _sig = msgpack.unpackb(raw, raw=False)
    return msgpack.unpackb(body, raw=False)


def variant(seed, raw, d, title=None):
    """Another valid record like raw (an event or cause of seed's group),
    with address tag d and, if given, a new title; canonical because the
    fields keep their order and msgpack-python packs shortest forms."""
    fields = body_fields(raw)
    # Signed by seed's key, whichever key signed raw (an organizer's).
    fields[3] = bytes(nacl.signing.SigningKey(seed).verify_key)
    fields[5] = d
    if title is not None:
        fields[7]["title"] = title
    return sign_body(seed, msgpack.packb(fields, use_bin_type=True))


class Closed(Exception):
    """The other side closed the connection."""


class Peer:
    """One connection to a muster node, as the dialer (Noise initiator), or
    with Peer.accepted() as the side that accepted the node's dial.

    seed is the 32-byte Ed25519 seed of the group this peer claims (a
    muster home's group.key); the Noise static key is fresh per Peer."""

    def __init__(self, port, network, seed, host="127.0.0.1", timeout=10.0,
                 source=None, rcvbuf=None, organizer=None):
        # organizer: (group, raw organizer record), seed then being the
        # organizer key's: the organizer variant of the identity.
        self._keys(network, seed)
        self.organizer = organizer
        # source: another loopback address (127.0.0.2...), so that what
        # the node does to this address (caps, bans) spares the others.
        # rcvbuf: a small receive buffer, for a peer that stops reading.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if source is not None:
                self.sock.bind((source, 0))
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(timeout)
        self._fresh()

    def _keys(self, network, seed):
        self.network = network
        self.signing = nacl.signing.SigningKey(seed)
        self.group = self.signing.verify_key.encode()
        self.noise_secret = os.urandom(32)

    def _fresh(self):
        self.tx = self.rx = None
        self.peer_group = None
        self.peer_hello = None
        self._req = 0

    @classmethod
    def accepted(cls, sock, network, seed, timeout=10.0):
        """A Peer on a socket a listener accepted; call respond() next."""
        self = cls.__new__(cls)
        self._keys(network, seed)
        self.sock = sock
        self.sock.settimeout(timeout)
        self._fresh()
        return self

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- framing --

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, data):
        self.sock.sendall(struct.pack(">H", len(data)) + data)

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("connection closed after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def recv_frame(self):
        (n,) = struct.unpack(">H", self._recv_exact(2))
        return self._recv_exact(n)

    def wait_closed(self, timeout):
        """True if the other side closes within timeout (anything it sends
        meanwhile is read and dropped), False if it stays open."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not data:
                return True

    # -- handshake and messages --

    def handshake(self):
        prologue = b"muster/1 " + self.network.encode("ascii")
        hs = HandshakeXX(True, prologue, self.noise_secret)
        self.send_frame(hs.write(b""))
        msg2 = self.recv_frame()
        if len(msg2) > HANDSHAKE_MAX:
            raise ValueError("handshake message of %d bytes" % len(msg2))
        self.peer_group = check_identity(hs.read(msg2), hs.rs)
        self.send_frame(hs.write(identity_payload(self.signing, hs.s_pub,
                                                  getattr(self, "organizer", None))))
        self.tx, self.rx = hs.split()
        self.handshake_hash = hs.sym.h  # the final h: the channel binding
        return self.peer_group

    def respond(self):
        """The responder's side of handshake(); returns the dialer's group."""
        prologue = b"muster/1 " + self.network.encode("ascii")
        hs = HandshakeXX(False, prologue, self.noise_secret)
        hs.read(self.recv_frame())
        self.send_frame(hs.write(identity_payload(self.signing, hs.s_pub)))
        self.peer_group = check_identity(hs.read(self.recv_frame()), hs.rs)
        self.tx, self.rx = hs.split()
        self.handshake_hash = hs.sym.h
        return self.peer_group

    def send(self, msg):
        data = msgpack.packb(msg, use_bin_type=True)
        self.send_frame(self.tx.encrypt(b"", data))

    def recv(self):
        data = self.rx.decrypt(b"", self.recv_frame())
        return msgpack.unpackb(data, raw=False)

    def hello(self, scope, agent="noisepeer/1"):
        """Sends our hello and waits for theirs; returns their scope."""
        self.send(["hello", {"agent": agent, "scope": sorted(scope)}])
        end = time.monotonic() + 10
        while self.peer_hello is None:
            if time.monotonic() > end:
                raise TimeoutError("no hello within 10 s")
            self._dispatch(self.recv())
        return self.peer_hello["scope"]

    def _dispatch(self, msg):
        if isinstance(msg, list) and msg and msg[0] == "hello":
            self.peer_hello = msg[1]
        return msg

    def push(self, records, wait_ack=True, timeout=10.0):
        """Sends records in one "recs" message; with wait_ack, asks for an
        ack and returns once it arrives (the node processed them all)."""
        req = 0
        if wait_ack:
            self._req += 1
            req = self._req
        self.send(["recs", req, list(records)])
        if not wait_ack:
            return None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            msg = self._dispatch(self.recv())
            if isinstance(msg, list) and len(msg) == 2 and msg[0] == "ack" and msg[1] == req:
                return msg
        raise TimeoutError("no ack %d within %.1f s" % (req, timeout))


def responder(tc, network, seed, on_msg, on_closed=None):
    """A listener on 127.0.0.1 that accepts one dial, completes the
    handshake and hello as the group of seed, then hands every message to
    on_msg(peer, msg); on_closed() runs when the connection ends. Returns
    its "HOST:PORT" and the thread; the listener closes at tc's cleanup."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tc.addCleanup(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve():
        listener.settimeout(60)
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        p = Peer.accepted(sock, network, seed, timeout=60)
        try:
            p.respond()
            p.hello([])
            while True:
                on_msg(p, p.recv())
        except (Closed, OSError):
            if on_closed is not None:
                on_closed()
        finally:
            p.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    return "127.0.0.1:%d" % listener.getsockname()[1], th
