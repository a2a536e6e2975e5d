"""HTTP clients that flood or starve `muster serve --http`, for the HTTP
tests (test_http_flood.py, test_http_limits.py). Plain sockets, so that
what is sent is exactly what the test says, from other loopback source
addresses (127.0.50.x), 16 clients to an address (the server's per-address
limit).

Run as a program it floods in a process of its own, so that the test's
own measurements do not wait on the flood's threads:

    python3 httpflood.py PORT PATH CLIENTS SECONDS fast|slow

and prints one JSON object of counts when SECONDS are over: requests
started, answers by status, complete feeds, bytes read, connect errors.
"""

import json
import socket
import sys
import threading
import time

PER_ADDRESS = 16


def source(i):
    """The source address of client i: 16 clients to an address."""
    return "127.0.50.%d" % (2 + i // PER_ADDRESS)


def connect(port, src, rcvbuf=None, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def fetch(port, path, src, end, slow=False):
    """One GET of path, read until the server closes or end (a monotonic
    time) passes; returns (status or None, complete, bytes read)."""
    s = connect(port, src, rcvbuf=4096 if slow else None)
    head, n, tail = b"", 0, b""
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  % path.encode())
        while time.monotonic() < end:
            data = s.recv(4096 if slow else 65536)
            if not data:
                break
            n += len(data)
            if len(head) < 64:
                head += data[:64]
            tail = (tail + data)[-64:]
            if slow:
                time.sleep(0.05)
    except OSError:
        pass
    finally:
        s.close()
    status = None
    if head.startswith(b"HTTP/1.1 "):
        status = int(head[9:12])
    # A chunked feed ends with its last line and the empty chunk.
    complete = status == 200 and tail.endswith(b"END:VCALENDAR\r\n\r\n0\r\n\r\n")
    return status, complete, n


def flood(port, path, clients, seconds, slow):
    end = time.monotonic() + seconds
    lock = threading.Lock()
    stats = {"requests": 0, "status": {}, "complete": 0, "bytes": 0,
             "connect_errors": 0}

    def client(i):
        while time.monotonic() < end:
            try:
                status, complete, n = fetch(port, path, source(i), end, slow)
            except OSError:
                with lock:
                    stats["connect_errors"] += 1
                time.sleep(0.05)
                continue
            with lock:
                stats["requests"] += 1
                key = str(status)
                stats["status"][key] = stats["status"].get(key, 0) + 1
                stats["complete"] += complete
                stats["bytes"] += n
            if status == 503:
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return stats


if __name__ == "__main__":
    port, path, clients, seconds, mode = sys.argv[1:6]
    print(json.dumps(flood(int(port), path, int(clients), float(seconds),
                           mode == "slow")))
