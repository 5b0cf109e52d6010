#!/usr/bin/env python3
"""admin_abuse: load and abuse for the gateway's admin endpoint (tests/
integration/admin_abuse.sh, bench/admin_load.sh).

  load ADDR --count N [--parallel P] [--path /healthz]   N requests, one
      connection each, P at a time; prints "ok=N other=N failed=N seconds=S";
      exit 1 unless every answer was 200 (--duration S: loop for S seconds
      instead of a count, and never fail: the bench's background load;
      --rate R: at most R requests a second in all).
  slowloris ADDR --conns N --seconds S    N clients each sending one byte of
      a request per second; prints when the server closed each one.
  malformed ADDR      a list of broken requests, one connection each; prints
      the status (or "closed") each got and how long it took.
  oversized ADDR      requests too large (headers, URL, POST bodies).
  idle ADDR --conns N --seconds S   open N connections, send nothing, hold.
"""
import argparse
import socket
import sys
import threading
import time


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def exchange(addr, data, timeout=8.0, chunks=None):
    """Send DATA, read until close; (status or None, seconds)."""
    t0 = time.monotonic()
    s = socket.create_connection(addr, timeout=timeout)
    try:
        try:
            if chunks:
                for c in chunks:
                    s.sendall(c)
            else:
                s.sendall(data)
        except OSError:
            pass  # the server may close before reading everything
        got = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                return "timeout", time.monotonic() - t0
            except OSError:
                break
            if not b:
                break
            got += b
            if b"\r\n\r\n" in got and not got.startswith(b"HTTP/1.1 100"):
                # an answer with a body length we do not track: the
                # server closes HTTP/1.0 connections after it
                pass
        status = None
        if got.startswith(b"HTTP/"):
            status = int(got.split(b" ", 2)[1])
        return status, time.monotonic() - t0
    finally:
        s.close()


def get(addr, path, timeout=5.0):
    req = f"GET {path} HTTP/1.0\r\nHost: a\r\n\r\n".encode()
    return exchange(addr, req, timeout)[0]


def cmd_load(a):
    addr = endpoint(a.addr)
    counts = {"ok": 0, "other": 0, "failed": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + a.duration if a.duration else None
    todo = [a.count]
    errors = []
    start = time.monotonic()
    issued = [0]

    def worker():
        while True:
            with lock:
                if deadline is None:
                    if todo[0] <= 0:
                        return
                    todo[0] -= 1
                elif time.monotonic() >= deadline:
                    return
                issued[0] += 1
                due = start + issued[0] / a.rate if a.rate else 0
            if a.rate and due > time.monotonic():
                time.sleep(due - time.monotonic())
            try:
                st = get(addr, a.path)
                key = "ok" if st == 200 else "other"
                if st != 200 and len(errors) < 5:
                    errors.append(str(st))
            except OSError as e:
                key = "failed"
                if len(errors) < 5:
                    errors.append(repr(e))
            with lock:
                counts[key] += 1

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(a.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    print(f"ok={counts['ok']} other={counts['other']} failed={counts['failed']} "
          f"seconds={dt:.2f} rate={counts['ok'] / dt:.0f}/s"
          + (f" first_errors={','.join(errors)}" if errors else ""))
    if a.duration:
        return 0
    return 0 if counts["ok"] == a.count else 1


def cmd_slowloris(a):
    addr = endpoint(a.addr)
    req = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"x" * 10000
    results = []

    def one(i):
        t0 = time.monotonic()
        s = socket.create_connection(addr, timeout=5)
        sent = 0
        how = "held to the end"
        try:
            while time.monotonic() - t0 < a.seconds:
                try:
                    s.send(req[sent:sent + 1])
                    sent += 1
                except OSError:
                    how = "closed by the server"
                    break
                s.settimeout(1.0)
                try:
                    b = s.recv(4096)
                    if not b:
                        how = "closed by the server"
                        break
                    how = "answered " + b.split(b"\r\n", 1)[0].decode(errors="replace")
                    break
                except socket.timeout:
                    pass
                except OSError:
                    how = "closed by the server"
                    break
        finally:
            s.close()
        results.append((i, how, time.monotonic() - t0, sent))

    ts = [threading.Thread(target=one, args=(i,)) for i in range(a.conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    worst = 0.0
    for i, how, dt, sent in sorted(results):
        print(f"slowloris {i}: {how} after {dt:.1f} s ({sent} bytes sent)")
        if how == "held to the end":
            worst = max(worst, a.seconds + 1)
        else:
            worst = max(worst, dt)
    print(f"longest={worst:.1f}")
    return 0


MALFORMED = [
    ("garbage", b"\x00\x01\x02\xff garbage \r\n\r\n"),
    ("no version", b"GET /healthz\r\n\r\n"),
    ("bad version", b"GET /healthz HTTP/9.9\r\nHost: a\r\n\r\n"),
    ("header without colon", b"GET /healthz HTTP/1.1\r\nHost a\r\n\r\n"),
    ("negative length", b"POST /reload HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n"),
    ("two lengths", b"POST /reload HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
     b"Content-Length: 2\r\n\r\nab"),
    ("bad chunk", b"POST /reload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nhello\r\n0\r\n\r\n"),
    ("unknown method", b"DELETE /drain HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("no host (1.1)", b"GET /healthz HTTP/1.1\r\n\r\n"),
    ("control chars", b"GET /hea\x01lthz HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("bare LF", b"GET /healthz HTTP/1.1\nHost: a\n\n"),
    ("unknown path", b"GET /../../etc/passwd HTTP/1.0\r\n\r\n"),
    ("half request", b"GET /heal"),
]


def cmd_malformed(a):
    addr = endpoint(a.addr)
    worst = 0.0
    for name, data in MALFORMED:
        st, dt = exchange(addr, data, timeout=15)
        worst = max(worst, dt)
        print(f"malformed {name!r}: {st if st else 'closed'} after {dt:.2f} s")
        if st == "timeout":
            print(f"malformed {name!r}: no answer and no close within 15 s")
            return 1
    print(f"longest={worst:.2f}")
    return 0


def cmd_oversized(a):
    addr = endpoint(a.addr)
    cases = [
        ("1 MiB header", b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"y" * (1 << 20)
         + b"\r\n\r\n"),
        ("64 KiB URL", b"GET /" + b"u" * 65536 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("10000 headers", b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + b"X-A: b\r\n" * 10000
         + b"\r\n"),
        ("drain with a 10 MB Content-Length",
         b"POST /drain HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n" + b"z" * 65536),
        ("drain with a 4 KiB chunked body",
         b"POST /drain HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         + (b"400\r\n" + b"c" * 1024 + b"\r\n") * 4 + b"0\r\n\r\n"),
    ]
    bad = 0
    for name, data in cases:
        st, dt = exchange(addr, data, timeout=15)
        print(f"oversized {name}: {st if st else 'closed'} after {dt:.2f} s")
        if st == "timeout" or (isinstance(st, int) and st < 400):
            bad += 1
    return 1 if bad else 0


def cmd_idle(a):
    addr = endpoint(a.addr)
    socks = []
    for _ in range(a.conns):
        try:
            socks.append(socket.create_connection(addr, timeout=2))
        except OSError as e:
            print(f"idle: connect failed: {e}")
    print(f"idle: {len(socks)} connections open", flush=True)
    time.sleep(a.seconds)
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
        s.close()
    print(f"idle: {closed} of {len(socks)} closed by the server within {a.seconds} s")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("load")
    s.add_argument("addr")
    s.add_argument("--count", type=int, default=10000)
    s.add_argument("--parallel", type=int, default=4)
    s.add_argument("--path", default="/healthz")
    s.add_argument("--duration", type=float, default=0)
    s.add_argument("--rate", type=float, default=0)
    s = sub.add_parser("slowloris")
    s.add_argument("addr")
    s.add_argument("--conns", type=int, default=4)
    s.add_argument("--seconds", type=float, default=20)
    for name in ("malformed", "oversized"):
        s = sub.add_parser(name)
        s.add_argument("addr")
    s = sub.add_parser("idle")
    s.add_argument("addr")
    s.add_argument("--conns", type=int, default=40)
    s.add_argument("--seconds", type=float, default=12)
    a = p.parse_args()
    return {"load": cmd_load, "slowloris": cmd_slowloris, "malformed": cmd_malformed,
            "oversized": cmd_oversized, "idle": cmd_idle}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
