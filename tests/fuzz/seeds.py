#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

The files are in the repository; run this again only after the wire format
or a target's input layout changed (docs/FUZZING.md). Crashes found later
go into the same directories under their own names, as regressions.
"""
import os
import shutil
import struct

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def name(s):
    return bytes([len(s)]) + s


# --- fuzz_frame: one valid frame of each type --------------------------
HELLO_V2 = bytes([0x01, 0]) + struct.pack(">IBBBIH", 0x53475731, 2, 2, 1, 0, 4096) + name(b"site-a")
# version 4 (the version 3 extension: 32-byte nonce, key id count, 8-byte key ids)
HELLO = (bytes([0x01, 0]) + struct.pack(">IBBBIH", 0x53475731, 4, 4, 1, 0, 4096) + name(b"site-a")
         + bytes(range(32)) + bytes([1]) + bytes.fromhex("0123456789abcdef"))
AUTH = bytes([0x02, 0]) + bytes(range(0x40, 0x60))  # a 32-byte proof
OPEN4 = bytes([0x10, 0]) + struct.pack(">IBH", 262144, 4, 80) + bytes([192, 0, 2, 10]) + name(b"web")
OPEN6 = (bytes([0x10, 0]) + struct.pack(">IBH", 1, 6, 443) + bytes.fromhex("20010db8" + "00" * 11 + "01")
         + name(b""))
# version 4: family 0, a host name the exit gateway resolves
OPEN_HOST = (bytes([0x10, 0]) + struct.pack(">IBH", 65536, 0, 5432) + name(b"db.internal")
             + name(b"db"))
frames = {
    "hello": HELLO,
    "hello_v2": HELLO_V2,
    "auth": AUTH,
    "open4": OPEN4,
    "open6": OPEN6,
    "open_host": OPEN_HOST,
    "open_ok": bytes([0x11, 0]) + struct.pack(">I", 65536),
    "data": bytes([0x12, 0]) + b"hello, world\n",
    "fin": bytes([0x13, 0]),
    "rst": bytes([0x14, 0, 2]),
    "closed": bytes([0x15, 0]),
    "credit": bytes([0x16, 0]) + struct.pack(">I", 16384),
}
for k, v in frames.items():
    put("fuzz_frame", k, v)

# --- fuzz_config: the shipped example and a small accept side ----------
d = os.path.join(here, "corpus", "fuzz_config")
os.makedirs(d, exist_ok=True)
shutil.copy(os.path.join(root, "conf", "sctpgw.ini"), os.path.join(d, "sctpgw.ini"))
put("fuzz_config", "accept.ini", b"""[gateway]
name = site-b
engine = userspace
udp_encap_port = 9899
admin =
conn_window = 64k
memory_limit = 64m

[association]
role = accept
port = 5757
remote_udp_encap_port = 9899

[path.wan1]
local = 198.18.1.2
remote = 198.18.1.1
priority = 10

[path.wan2]
local = 2001:2:0:2::2
remote = 2001:2:0:2::1
priority = 20

[egress]
allow = 192.0.2.0/24, [2001:db8::]:443
""")

# --- fuzz_assoc: whole sessions (layout: tests/fuzz/fuzz_assoc.c) ------
# header: flags (bit 0 accept role, bits 1-3 window index, bits 4-5
# memory_limit in windows - 1, bit 6 connect timeout 0, bit 7 no HELLO),
# then streams - 3.
OP_RAW, OP_HELLO, OP_OPEN, OP_OPEN_OK, OP_DATA, OP_FIN, OP_RST, OP_CLOSED, OP_CREDIT, \
    OP_CLIENT, OP_END, OP_END2, OP_FULL, OP_DOWN, OP_RETRY = range(15)
W64K, W100 = 7, 4  # indexes into take_amount's edges: 65536, 100
WRITE, READ, SHUT, CLOSE, RESET = range(5)

opener = bytes([0x16, 10]) + bytes([
    OP_CLIENT,
    OP_OPEN_OK, 1, W64K,
    OP_END, 0, WRITE,
    OP_DATA, 1, 100,
    OP_CREDIT, 1, W100,
    OP_END, 0, READ,
    OP_FIN, 1,
    OP_END, 0, SHUT,
    OP_CLOSED, 1,
])
put("fuzz_assoc", "opener_session", opener)

exit_side = bytes([0x17, 10]) + bytes([
    OP_OPEN, 1, W64K, 3,          # port 4: connects at once
    OP_END, 0, WRITE,
    OP_DATA, 1, 50,
    OP_CREDIT, 1, W100,
    OP_END, 0, READ,
    OP_FIN, 1,
    OP_END, 0, SHUT,
    OP_OPEN, 3, W64K, 0,          # port 1: connect in progress
    OP_FULL, 1,
    OP_END, 1, WRITE,
    OP_FULL, 0,
    OP_RST, 3, 1,
    OP_DOWN,
])
put("fuzz_assoc", "exit_session", exit_side)

early = bytes([0x97, 10]) + bytes([
    OP_OPEN, 1, W64K, 2,          # port 3: connects once the target reads
    OP_HELLO, 0,
    OP_END, 0, READ,
    OP_RST, 1, 0,
])
put("fuzz_assoc", "open_before_hello", early)

reconnect = bytes([0x16, 10]) + bytes([
    OP_CLIENT,
    OP_OPEN_OK, 1, W64K,
    OP_END, 0, WRITE,
    OP_DOWN,                      # the client is reset with the association
    OP_RETRY,                     # the connect role comes back up
    OP_HELLO, 0,
    OP_CLIENT,
    OP_OPEN_OK, 1, W64K,
    OP_DATA, 1, 20,
    OP_END, 1, READ,
])
put("fuzz_assoc", "reconnect", reconnect)
