#!/usr/bin/env python3
"""xfer.py - integrity-checking TCP test client/server for the sctpgw tests.

Protocol, one per connection:
  client -> server : 24-byte header  !QQQ (upload_len, download_len, seed)
  client -> server : upload_len bytes of content(seed ^ UPLOAD_SALT), then
                     shutdown(SHUT_WR) (half-close)
  server -> client : download_len bytes of content(seed), streamed while the
                     upload is still being read (or after the upload's EOF
                     with `server --after-eof`), then the 32-byte SHA-256 of
                     the upload it received, then close.
The client checks every downloaded byte against the expected content, the
server's digest against the digest of what it sent, and that EOF follows.

content(seed) is a sequence of 1 MiB chunks: chunk k = 16-byte header
(seed, k) followed by a per-seed rotation of a fixed random block.  It is
cheap to produce, yet a flipped, lost, duplicated, reordered or foreign
byte anywhere changes the result.

Commands:
  server --listen ADDR:PORT [--listen ...] [--after-eof] [--timeout T] [-v]
  client --connect ADDR:PORT --up N --down N [--count C] [--parallel P]
         [--random-sizes MAX] [--seed S] [--timeout T]
      prints: ok=C failed=F reset=R bytes_up=.. bytes_down=.. seconds=..
      exit 0 only if every connection succeeded.
  expect-reset --connect ADDR:PORT [--within S] [--min S] [--send N]
      succeeds only if the connection is reset (ECONNRESET/EPIPE), not
      closed cleanly, within S seconds (and not before --min seconds).
IPv6 addresses are written [addr]:port.  Sizes accept K/M/G suffixes
(powers of 1024).
"""

import argparse
import concurrent.futures
import errno
import hashlib
import random
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 20
HDR = struct.Struct("!QQQ")
CHUNK_HDR = struct.Struct("!QQ")
UPLOAD_SALT = 0x5550_4C4F_4144_2121  # "UPLOAD!!": upload and download differ
MASK64 = (1 << 64) - 1
SOCKBUF = 4 << 20

_G = random.Random(0x5C7D_6E77).randbytes(CHUNK)


def parse_size(text):
    text = text.strip().upper()
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if text.endswith(suffix) or text.endswith(suffix + "IB"):
            text = text[: -len(suffix)] if text.endswith(suffix) else text[: -len(suffix) - 2]
            mult = m
            break
    return int(text) * mult


def parse_addr(text):
    """'1.2.3.4:80' or '[2001:2::1]:80' -> (family, host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            raise ValueError("bad address %r (want [v6]:port)" % text)
        return socket.AF_INET6, host, int(rest[1:])
    host, sep, port = text.rpartition(":")
    if not sep or ":" in host:
        raise ValueError("bad address %r (want a.b.c.d:port or [v6]:port)" % text)
    return socket.AF_INET, host, int(port)


class Content:
    """Deterministic content for one seed, produced 1 MiB chunk at a time."""

    def __init__(self, seed):
        self.seed = seed & MASK64
        r = (self.seed * 0x9E37_79B9_7F4A_7C15 >> 17) % CHUNK
        self.buf = bytearray(_G[r:] + _G[:r])
        self.mv = memoryview(self.buf)

    def chunk(self, k):
        """Return the buffer holding chunk k (valid until the next call)."""
        CHUNK_HDR.pack_into(self.buf, 0, self.seed, k)
        return self.buf


def tune(sock):
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKBUF)
        except OSError:
            pass


PACE_PIECE = 16 << 10  # bytes per send when paced (--rate)


def send_content(sock, seed, length, hasher=None, progress=None, rate=0):
    """Send `length` bytes of content(seed). Returns bytes sent; if
    `progress` (a Result) is given its .up follows the bytes sent. `rate`
    (bytes/s, 0: as fast as the socket takes them) paces the sending in
    PACE_PIECE pieces."""
    c = Content(seed)
    sent = 0
    k = 0
    start = time.monotonic()
    while sent < length:
        c.chunk(k)
        n = min(CHUNK, length - sent)
        view = c.mv[:n]
        if hasher is not None:
            hasher.update(view)
        if rate <= 0:
            sock.sendall(view)
        else:
            for off in range(0, n, PACE_PIECE):
                ahead = (sent + off) / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
                sock.sendall(view[off:off + PACE_PIECE])
        sent += n
        k += 1
        if progress is not None:
            progress.up = sent
    return sent


def is_reset(exc):
    return isinstance(exc, (ConnectionResetError, BrokenPipeError)) or (
        isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE)
    )


# ---------------------------------------------------------------- server

def server_conn(conn, peer, args, log):
    up_hash = hashlib.sha256()
    writer_err = []
    writer = None
    try:
        conn.settimeout(args.timeout)
        tune(conn)
        hdr = bytearray()
        while len(hdr) < HDR.size:
            d = conn.recv(HDR.size - len(hdr))
            if not d:
                log("%s: EOF inside header" % (peer,))
                return
            hdr += d
        up_len, down_len, seed = HDR.unpack(hdr)

        def write():
            try:
                send_content(conn, seed, down_len, rate=args.rate)
            except Exception as e:  # noqa: BLE001
                writer_err.append(e)

        if not args.after_eof:
            writer = threading.Thread(target=write, daemon=True)
            writer.start()
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        got = 0
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                break
            up_hash.update(mv[:n])
            got += n
        if got != up_len:
            log("%s: upload length %d, header said %d" % (peer, got, up_len))
        if args.after_eof:
            write()
        else:
            writer.join()
        if writer_err:
            raise writer_err[0]
        conn.sendall(up_hash.digest())
        conn.shutdown(socket.SHUT_WR)
        # wait for the client's close so ours cannot turn into a RST
        conn.settimeout(min(args.timeout, 10))
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
    except Exception as e:  # noqa: BLE001
        log("%s: %s: %s" % (peer, type(e).__name__, e))
    finally:
        try:
            conn.close()
        except OSError:
            pass


def cmd_server(args):
    verbose = args.verbose

    def log(msg):
        if verbose:
            print("xfer server: " + msg, file=sys.stderr, flush=True)

    socks = []
    for spec in args.listen:
        fam, host, port = parse_addr(spec)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        tune(s)
        s.bind((host, port))
        s.listen(4096)
        socks.append(s)
        print("xfer server: listening on %s" % spec, file=sys.stderr, flush=True)

    def accept_loop(s):
        while True:
            try:
                conn, peer = s.accept()
            except OSError as e:
                log("accept: %s" % e)
                time.sleep(0.01)
                continue
            threading.Thread(target=server_conn, args=(conn, peer[:2], args, log),
                             daemon=True).start()

    threads = [threading.Thread(target=accept_loop, args=(s,), daemon=True) for s in socks]
    for t in threads:
        t.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


# ---------------------------------------------------------------- client

class Result:
    __slots__ = ("status", "reason", "up", "down")

    def __init__(self):
        self.status = "ok"
        self.reason = ""
        self.up = 0
        self.down = 0


def patient(call, res, writer):
    """call() a receive, reading the socket timeout as "nothing moved either
    way": while our own upload still makes progress (a slow link carrying a
    big upload before the server's digest), waiting on is fine."""
    while True:
        seen = res.up
        try:
            return call()
        except socket.timeout:
            if not writer.is_alive() or res.up == seen:
                raise


def client_conn(fam, host, port, up_len, down_len, seed, timeout, rate=0):
    res = Result()
    up_hash = hashlib.sha256()
    werr = []
    sock = None
    writer = None
    try:
        sock = socket.socket(fam, socket.SOCK_STREAM)
        tune(sock)
        sock.settimeout(timeout)
        sock.connect((host, port))

        def write():
            try:
                sock.sendall(HDR.pack(up_len, down_len, seed))
                send_content(sock, seed ^ UPLOAD_SALT, up_len, up_hash, res, rate)
                sock.shutdown(socket.SHUT_WR)
            except Exception as e:  # noqa: BLE001
                werr.append(e)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()

        exp = Content(seed)
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        k = 0
        got = 0
        while got < down_len:
            want = min(CHUNK, down_len - got)
            fill = 0
            while fill < want:
                n = patient(lambda: sock.recv_into(mv[fill:want]), res, writer)
                if n == 0:
                    raise EOFError("premature EOF after %d of %d download bytes" % (got + fill, down_len))
                fill += n
                res.down = got + fill
            ref = exp.chunk(k)
            same = (buf == ref) if want == CHUNK else (bytes(mv[:want]) == bytes(exp.mv[:want]))
            if not same:
                off = next(i for i in range(want) if buf[i] != ref[i])
                raise ValueError("download content mismatch at byte %d (chunk %d+%d): got %#04x want %#04x"
                                 % (got + off, k, off, buf[off], ref[off]))
            got += want
            k += 1
        digest = bytearray()
        while len(digest) < 32:
            d = patient(lambda: sock.recv(32 - len(digest)), res, writer)
            if not d:
                raise EOFError("premature EOF inside the server's digest (%d of 32 bytes)" % len(digest))
            digest += d
        extra = sock.recv(4096)
        if extra:
            raise ValueError("%d+ unexpected bytes after the digest" % len(extra))
        writer.join(timeout)
        if writer.is_alive():
            raise TimeoutError("upload still running after download finished")
        if werr:
            raise werr[0]
        if bytes(digest) != up_hash.digest():
            raise ValueError("server's upload digest differs: upload corrupted in transit (%d bytes sent)" % res.up)
    except Exception as e:  # noqa: BLE001
        if writer is not None and writer.is_alive() and not is_reset(e):
            writer.join(0.5)
        errs = [e] + werr
        if any(is_reset(x) for x in errs):
            res.status = "reset"
        else:
            res.status = "failed"
        res.reason = "; ".join("%s: %s" % (type(x).__name__, x) for x in errs)
    finally:
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
    return res


def cmd_client(args):
    fam, host, port = parse_addr(args.connect)
    up = parse_size(args.up)
    down = parse_size(args.down)
    maxr = parse_size(args.random_sizes) if args.random_sizes else None
    base = args.seed

    def job(i):
        seed = (base * 0x1_0001 + i * 0x9E37_79B1 + 1) & MASK64
        u, d = up, down
        if maxr is not None:
            r = random.Random(base * 1_000_003 + i)
            u, d = r.randint(0, maxr), r.randint(0, maxr)
        return i, u, d, client_conn(fam, host, port, u, d, seed, args.timeout, args.rate)

    t0 = time.monotonic()
    ok = failed = reset = bup = bdown = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(args.parallel, args.count))) as ex:
        for fut in concurrent.futures.as_completed([ex.submit(job, i) for i in range(args.count)]):
            i, u, d, res = fut.result()
            bup += res.up
            bdown += res.down
            if res.status == "ok":
                ok += 1
            else:
                if res.status == "reset":
                    reset += 1
                else:
                    failed += 1
                print("xfer client: conn %d (up=%d down=%d) %s: %s" % (i, u, d, res.status, res.reason),
                      file=sys.stderr, flush=True)
    secs = time.monotonic() - t0
    print("ok=%d failed=%d reset=%d bytes_up=%d bytes_down=%d seconds=%.3f"
          % (ok, failed, reset, bup, bdown, secs), flush=True)
    return 0 if ok == args.count else 1


# ---------------------------------------------------------------- expect-reset

def cmd_expect_reset(args):
    fam, host, port = parse_addr(args.connect)
    s = socket.socket(fam, socket.SOCK_STREAM)
    t0 = time.monotonic()
    deadline = t0 + args.within

    def verdict(ok, what):
        dt = time.monotonic() - t0
        if ok and dt < args.min:
            ok = False
            what += " (earlier than --min %.3fs)" % args.min
        print("reset_after=%.3f %s: %s" % (dt, "ok" if ok else "FAIL", what), flush=True)
        return 0 if ok else 1

    try:
        s.settimeout(max(0.1, args.within))
        s.connect((host, port))
    except ConnectionRefusedError:
        return verdict(args.allow_refused, "connection refused at connect (nobody listening?)")
    except Exception as e:  # noqa: BLE001
        if is_reset(e):
            return verdict(True, "reset during connect")
        return verdict(False, "connect failed: %s" % e)
    received = 0
    try:
        if args.send:
            s.sendall(b"x" * args.send)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return verdict(False, "no reset within %.3fs (connection still open, %d bytes received)"
                               % (args.within, received))
            s.settimeout(left)
            d = s.recv(65536)
            if not d:
                return verdict(False, "clean EOF (FIN), not a reset (%d bytes received)" % received)
            received += len(d)
    except socket.timeout:
        return verdict(False, "no reset within %.3fs (connection still open, %d bytes received)"
                       % (args.within, received))
    except Exception as e:  # noqa: BLE001
        if is_reset(e):
            return verdict(True, "%s (%d bytes received)" % (type(e).__name__, received))
        return verdict(False, "unexpected error %s: %s" % (type(e).__name__, e))
    finally:
        s.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    ps = sub.add_parser("server")
    ps.add_argument("--listen", action="append", required=True)
    ps.add_argument("--after-eof", action="store_true",
                    help="send the download only after the upload's EOF")
    ps.add_argument("--timeout", type=float, default=120.0, help="idle timeout per socket operation")
    ps.add_argument("--rate", type=parse_size, default=0,
                    help="pace each download at this many bytes/s (default: unpaced)")
    ps.add_argument("-v", "--verbose", action="store_true")

    pc = sub.add_parser("client")
    pc.add_argument("--connect", required=True)
    pc.add_argument("--up", default="0")
    pc.add_argument("--down", default="0")
    pc.add_argument("--count", type=int, default=1)
    pc.add_argument("--parallel", type=int, default=1)
    pc.add_argument("--rate", type=parse_size, default=0,
                    help="pace each upload at this many bytes/s (default: unpaced)")
    pc.add_argument("--random-sizes", metavar="MAX",
                    help="each connection's up/down sizes uniform in [0, MAX]")
    pc.add_argument("--seed", type=int, default=1)
    pc.add_argument("--timeout", type=float, default=60.0,
                    help="idle timeout per socket operation (seconds)")

    pr = sub.add_parser("expect-reset")
    pr.add_argument("--connect", required=True)
    pr.add_argument("--within", type=float, default=5.0)
    pr.add_argument("--min", type=float, default=0.0)
    pr.add_argument("--send", type=int, default=100)
    pr.add_argument("--allow-refused", action="store_true",
                    help="count ECONNREFUSED at connect as success")

    args = p.parse_args(argv)
    try:
        if args.cmd == "server":
            return cmd_server(args)
        if args.cmd == "client":
            return cmd_client(args)
        return cmd_expect_reset(args)
    except KeyboardInterrupt:
        return 130
    except ValueError as e:
        print("xfer: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
