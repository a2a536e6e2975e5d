"""Records built in Python from docs/PROTOCOL.md section 2, in bulk, for the
tests that need thousands of them (crash, backup, full store): a cause is
[body, sig] with body = [1, "cause", group, group, created_at, d, 0,
{"status", "title"}], encoded canonically (msgpack-python picks the shortest
forms, and the content keys are given in bytewise order), id =
BLAKE2b-256(body), sig = Ed25519("muster record v1" || id).

Also a pusher: a noisepeer.Peer that keeps several acknowledged "recs"
messages in flight, so that a node ingests at full speed, and remembers
exactly which records the node acknowledged (PROTOCOL.md 10.6: an ack comes
once the records of its message are processed)."""

import hashlib
import time

import msgpack
import nacl.signing

import musterlib
import noisepeer

SIG_CONTEXT = b"muster record v1"
BATCH = 64  # records in one recs message, the protocol's maximum


def group_of(seed):
    """The group key (32 bytes) of a 32-byte Ed25519 seed."""
    return nacl.signing.SigningKey(seed).verify_key.encode()


def causes(seed, n, prefix="c", created_at=None, pad=0):
    """n cause records of the group with that 32-byte seed: a list of (id
    bytes, raw bytes). pad adds that many bytes of description."""
    sk = nacl.signing.SigningKey(seed)
    group = sk.verify_key.encode()
    t = created_at if created_at is not None else int(time.time()) - 3600
    out = []
    for i in range(n):
        content = {}
        if pad:
            content["description"] = "x" * pad
        content["status"] = "active"
        content["title"] = "Cause %s %d" % (prefix, i)
        body = msgpack.packb([1, "cause", group, group, t, "%s%d" % (prefix, i), 0,
                              content], use_bin_type=True)
        rid = hashlib.blake2b(body, digest_size=32).digest()
        sig = sk.sign(SIG_CONTEXT + rid).signature
        out.append((rid, msgpack.packb([body, sig], use_bin_type=True)))
    return out


def export_stream(records):
    """An export stream (PROTOCOL.md 7) of (id, raw) records."""
    return musterlib.EXPORT_MAGIC + b"".join(raw for _rid, raw in records)


def stored_ids(tc, home):
    """The ids (hex) of every record a home stores, from its export."""
    return {musterlib.record_id(raw) for raw in musterlib.export_records(tc, home)}


class Pusher:
    """Pushes records to a node as the group seed, WINDOW acknowledged recs
    messages in flight. acked holds the ids (hex) of every record whose
    message the node acknowledged."""

    WINDOW = 8

    def __init__(self, port, network, seed, scope, batch=BATCH, window=WINDOW):
        self.batch = batch  # records per message: fewer for large records
        self.window = window
        self.peer = noisepeer.Peer(port, network, seed, timeout=30)
        self.peer.handshake()
        self.peer.hello(scope)
        self.acked = set()
        self.error = None

    def close(self):
        self.peer.close()

    def push(self, records):
        """Sends every record, returns once all are acknowledged; raises
        noisepeer.Closed (or OSError) when the node goes away first."""
        inflight = {}  # req -> ids
        req = 0
        pos = 0
        while pos < len(records) or inflight:
            while pos < len(records) and len(inflight) < self.window:
                chunk = records[pos:pos + self.batch]
                pos += len(chunk)
                req += 1
                inflight[req] = [rid.hex() for rid, _raw in chunk]
                self.peer.send(["recs", req, [raw for _rid, raw in chunk]])
            msg = self.peer.recv()
            if isinstance(msg, list) and len(msg) == 2 and msg[0] == "ack":
                ids = inflight.pop(msg[1], None)
                if ids is not None:
                    self.acked.update(ids)
