#!/usr/bin/env python3
"""flow.py - many-connection and stalled-reader tools for the sctpgw flow
control scenarios.  Speaks the xfer.py protocol (see its docstring), with
one difference on the server side so connections can stay open: the
server sends its SHA-256 of the upload right after the upload's last byte
(it knows the length from the header) instead of waiting for EOF, and
closes only after the client's EOF.  xfer.py clients work against it.

Commands:
  server --listen ADDR:PORT [--listen ...]
      one asyncio thread; thousands of connections at once.
  many --connect ADDR:PORT --count N [--size S] [--parallel-connects P]
       [--ready FILE] [--release FILE] [--timeout T]
      open N connections and keep them ALL open: each sends a header and S
      bytes, reads S bytes of content and the server's digest, and checks
      both.  When every connection has its reply, prints "open=N ..." and
      creates FILE (--ready); waits for the file --release to exist; then
      half-closes every connection and expects the server's EOF.
      Prints: ok=C failed=F reset=R seconds=..  Exit 0 only if all ok.
  stall --connect ADDR:PORT --down N [--seed S] [--rcvbuf B] --ready FILE
        --release FILE
      one connection that asks for N bytes and reads none of them until the
      file --release exists (creates --ready once the request went out);
      its receive buffer is small (16K) so the kernels hold little;
      then reads everything and compares the SHA-256 of what arrived with
      that of what the server sent.  Prints "sha256 ok ..." or "FAIL ...".
IPv6 addresses are written [addr]:port.  Sizes take K/M/G suffixes.
"""

import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xfer import _G, CHUNK, CHUNK_HDR, HDR, MASK64, UPLOAD_SALT, Content, parse_addr, parse_size  # noqa: E402


def content_bytes(seed, length):
    """The first LENGTH (<= 1 MiB) bytes of content(seed), as xfer.Content
    makes them, without building a whole 1 MiB chunk per connection."""
    assert length <= CHUNK
    seed &= MASK64
    r = (seed * 0x9E37_79B9_7F4A_7C15 >> 17) % CHUNK
    start = (r + CHUNK_HDR.size) % CHUNK
    body = _G[start:start + max(0, length - CHUNK_HDR.size)]
    body += _G[: max(0, length - CHUNK_HDR.size - len(body))]
    return (CHUNK_HDR.pack(seed, 0) + body)[:length]


def content_digest(seed, length):
    """SHA-256 of the first LENGTH bytes of content(seed)."""
    c = Content(seed)
    h = hashlib.sha256()
    done = k = 0
    while done < length:
        n = min(CHUNK, length - done)
        c.chunk(k)
        h.update(c.mv[:n])
        done += n
        k += 1
    return h.digest()


def touch(path):
    with open(path, "w"):
        pass


async def wait_for_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError("%s did not appear within %.0f s" % (path, timeout))
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- server

async def serve_conn(reader, writer):
    try:
        up_len, down_len, seed = HDR.unpack(await reader.readexactly(HDR.size))

        async def send():
            if down_len <= CHUNK:
                writer.write(content_bytes(seed, down_len))
                await writer.drain()
                return
            c = Content(seed)
            sent = k = 0
            while sent < down_len:
                n = min(CHUNK, down_len - sent)
                c.chunk(k)
                # a copy: the transport may keep what it cannot send yet
                writer.write(bytes(c.mv[:n]))
                await writer.drain()
                sent += n
                k += 1

        sender = asyncio.ensure_future(send())
        h = hashlib.sha256()
        left = up_len
        while left > 0:
            d = await reader.read(min(left, 1 << 20))
            if not d:
                raise EOFError("EOF %d bytes before the end of the upload" % left)
            h.update(d)
            left -= len(d)
        await sender
        writer.write(h.digest())
        await writer.drain()
        while await reader.read(65536):
            pass
        writer.close()
    except (OSError, EOFError, asyncio.IncompleteReadError):
        writer.transport.abort()


async def cmd_server(args):
    servers = []
    for spec in args.listen:
        fam, host, port = parse_addr(spec)
        servers.append(await asyncio.start_server(serve_conn, host, port, family=fam,
                                                  backlog=4096, reuse_address=True))
        print("flow server: listening on %s" % spec, file=sys.stderr, flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------- many

class Conn:
    __slots__ = ("i", "reader", "writer", "status", "why")

    def __init__(self, i):
        self.i = i
        self.reader = self.writer = None
        self.status = "pending"
        self.why = ""


def fail(conn, exc):
    conn.status = "reset" if isinstance(exc, (ConnectionResetError, BrokenPipeError)) else "failed"
    conn.why = "%s: %s" % (type(exc).__name__, exc)
    if conn.writer is not None:
        conn.writer.transport.abort()


async def exchange(conn, args, fam, host, port, gate):
    size = args.size
    seed = (args.seed * 0x1_0001 + conn.i * 0x9E37_79B1 + 1) & MASK64
    try:
        async with gate:
            conn.reader, conn.writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, family=fam), args.timeout)
        up = content_bytes(seed ^ UPLOAD_SALT, size)
        conn.writer.write(HDR.pack(size, size, seed) + up)
        got = await asyncio.wait_for(conn.reader.readexactly(size + 32), args.timeout)
        if got[:size] != content_bytes(seed, size):
            raise ValueError("reply content differs")
        if got[size:] != hashlib.sha256(up).digest():
            raise ValueError("server's digest of the request differs")
        conn.status = "open"
    except Exception as e:  # noqa: BLE001
        fail(conn, e)
        # said at once, with the local port, to find it in the gateway logs
        port = conn.writer.get_extra_info("sockname")[1] if conn.writer else "-"
        print("flow many: conn %d (local port %s) %s: %s" % (conn.i, port, conn.status, conn.why),
              file=sys.stderr, flush=True)


async def finish(conn, timeout):
    if conn.status != "open":
        return  # its failure was reported already
    try:
        conn.writer.write_eof()
        rest = await asyncio.wait_for(conn.reader.read(), timeout)
        if rest:
            raise ValueError("%d unexpected bytes before EOF" % len(rest))
        conn.status = "ok"
        conn.writer.close()
    except Exception as e:  # noqa: BLE001
        fail(conn, e)


async def cmd_many(args):
    fam, host, port = parse_addr(args.connect)
    conns = [Conn(i) for i in range(args.count)]
    gate = asyncio.Semaphore(args.parallel_connects)
    t0 = time.monotonic()
    await asyncio.gather(*(exchange(c, args, fam, host, port, gate) for c in conns))
    n_open = sum(c.status == "open" for c in conns)
    print("open=%d of %d after %.3f s" % (n_open, args.count, time.monotonic() - t0), flush=True)
    if args.ready:
        touch(args.ready)
    if args.release:
        try:
            await wait_for_file(args.release, args.timeout)
        except TimeoutError as e:
            print("flow many: %s" % e, file=sys.stderr, flush=True)
    await asyncio.gather(*(finish(c, args.timeout) for c in conns))
    counts = {"ok": 0, "failed": 0, "reset": 0}
    for c in conns:
        if c.status == "ok":
            counts["ok"] += 1
        else:
            counts["reset" if c.status == "reset" else "failed"] += 1
    print("ok=%d failed=%d reset=%d seconds=%.3f"
          % (counts["ok"], counts["failed"], counts["reset"], time.monotonic() - t0), flush=True)
    return 0 if counts["ok"] == args.count else 1


# ---------------------------------------------------------------- stall

async def cmd_stall(args):
    fam, host, port = parse_addr(args.connect)
    # A small receive buffer, set before connecting (which turns the
    # kernel's autotuning off): otherwise the kernels on both ends absorb
    # megabytes and the gateway never sees the reader stall.
    sock = socket.socket(fam, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=args.rcvbuf)
    writer.write(HDR.pack(0, args.down, args.seed))
    writer.write_eof()
    await writer.drain()
    touch(args.ready)
    await wait_for_file(args.release, args.timeout)
    h = hashlib.sha256()
    got = 0
    while got < args.down + 32:
        d = await asyncio.wait_for(reader.read(min(1 << 20, args.down + 32 - got)), args.timeout)
        if not d:
            break
        if got < args.down:
            h.update(d[: args.down - got])
        got += len(d)
    want = content_digest(args.seed, args.down)
    ok = got == args.down + 32 and h.digest() == want
    print("sha256 %s got=%s want=%s bytes=%d of %d" % ("ok" if ok else "FAIL", h.hexdigest(),
                                                       want.hex(), min(got, args.down), args.down),
          flush=True)
    writer.close()
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("server")
    ps.add_argument("--listen", action="append", required=True)
    pm = sub.add_parser("many")
    pm.add_argument("--connect", required=True)
    pm.add_argument("--count", type=int, required=True)
    pm.add_argument("--size", type=parse_size, default=100)
    pm.add_argument("--seed", type=int, default=1)
    pm.add_argument("--parallel-connects", type=int, default=256)
    pm.add_argument("--ready")
    pm.add_argument("--release")
    pm.add_argument("--timeout", type=float, default=60.0)
    pt = sub.add_parser("stall")
    pt.add_argument("--connect", required=True)
    pt.add_argument("--down", type=parse_size, required=True)
    pt.add_argument("--seed", type=int, default=7)
    pt.add_argument("--rcvbuf", type=parse_size, default=16384,
                    help="SO_RCVBUF (and read-ahead) while stalled")
    pt.add_argument("--ready", required=True)
    pt.add_argument("--release", required=True)
    pt.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args(argv)
    cmd = {"server": cmd_server, "many": cmd_many, "stall": cmd_stall}[args.cmd]
    try:
        return asyncio.run(cmd(args)) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
