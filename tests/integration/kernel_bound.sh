#!/usr/bin/env bash
# kernel_bound (issue 12, item 3): what one connection whose far end never
# reads holds in the gateways' KERNEL socket buffers stays about
# conn_window (here 256 KiB), not megabytes of TCP autotuning.
#   exit side: a target that stops reading; a client uploads 64 MiB. Gateway B's socket to the
#     target may hold (Send-Q, unacknowledged bytes) at most conn_window;
#     gateway A's socket from the client may hold (Recv-Q, bytes A has not
#     read) at most conn_window.
#   entry side: a client that stops reading, of a 64 MiB download:
#     gateway A's Send-Q toward it at most conn_window.
# Queues are read with `ss -tn` after they stopped growing. Each bound is
# conn_window plus 10% for the kernel's accounting. Each far end reads the
# first 16 MiB quickly before it stops, so that TCP autotuning has grown
# the buffers the way a real transfer does.
set -euo pipefail
SCENARIO=kernel_bound
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
WINDOW=262144
BOUND=$((WINDOW + WINDOW / 10))

topo_up
CONF_GATEWAY="conn_window = $WINDOW" write_gw_conf A "$WORK/a.conf" "sink $A_LAN:8090 $LAN_B:9100"
CONF_GATEWAY="conn_window = $WINDOW" write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"
# a target that reads 16 MiB, then stops reading
bg_ns lan-b "$WORK/sink.log" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9100)); s.listen(8); held = []
while True:
    c, _ = s.accept(); held.append(c); got = 0
    while got < 16 << 20:
        got += len(c.recv(1 << 20))' "$LAN_B"
wait_listen lan-b 9100

# queue NS COLUMN FILTER: the largest Recv-Q (1) or Send-Q (2) among the
# sockets matching the ss FILTER.
queue() { in_ns "$1" ss -Htn state established "$3" | awk -v c="$2" 'BEGIN { m = 0 } $c > m { m = $c } END { print m }'; }
# settle NS COLUMN FILTER: wait until the queue stops growing (3 equal reads 0.5 s apart).
settle() {
    local last=-1 same=0 q i
    for i in $(seq 60); do
        q=$(queue "$@")
        if [ "$q" = "$last" ]; then same=$((same + 1)); [ $same -ge 3 ] && break; else same=0; fi
        last=$q
        sleep 0.5
    done
    echo "$q"
}

# exit side: the client uploads into a target that never reads
run_ns_bg lan-a 120 "$WORK/up.out" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 8090)); c.settimeout(60)
block = b"u" * 65536
try:
    for i in range(1024): c.sendall(block)
except OSError as e: print("stopped: %s" % e)' "$A_LAN"
b_send=$(settle B 2 "( dport = :9100 )")
a_recv=$(settle A 1 "( sport = :8090 )")
log "exit side, target never reads: B's Send-Q toward it $b_send bytes; A's Recv-Q from the client $a_recv bytes (bound $BOUND)"

# entry side: a client that reads 16 MiB of its download, then stops
# (xfer.py's protocol: header, no upload), and reads the rest on release
rm -f "$WORK/stall.ready" "$WORK/stall.release"
run_ns_bg lan-a 120 "$WORK/stall.out" python3 -c '
import os, socket, struct, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); c.settimeout(60)
c.sendall(struct.pack("!QQQ", 0, 64 << 20, 7)); got = 0
while got < 16 << 20:
    got += len(c.recv(1 << 20))
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[4]): time.sleep(0.1)
while got < 64 << 20:
    got += len(c.recv(min(1 << 20, (64 << 20) - got)))
c.shutdown(socket.SHUT_WR)
while True:
    d = c.recv(1 << 20)
    if not d: break
    got += len(d)
print("read %d bytes" % got); sys.exit(0 if got == (64 << 20) + 32 else 1)' \
    "$A_LAN" "$FWD_PORT" "$WORK/stall.ready" "$WORK/stall.release"
stall_pid=$BG_PID
for _ in $(seq 100); do [ -e "$WORK/stall.ready" ] && break; sleep 0.1; done
[ -e "$WORK/stall.ready" ] || fail "the stalling client did not get its first 16 MiB"
a_send=$(settle A 2 "( sport = :$FWD_PORT )")
log "entry side, client never reads: A's Send-Q toward it $a_send bytes (bound $BOUND)"

[ "$b_send" -le "$BOUND" ] || fail "exit side: gateway B's kernel holds $b_send bytes toward a target that never reads (bound $BOUND)"
[ "$a_recv" -le "$BOUND" ] || fail "exit side: gateway A's kernel holds $a_recv unread bytes from the client (bound $BOUND)"
[ "$a_send" -le "$BOUND" ] || fail "entry side: gateway A's kernel holds $a_send bytes toward a client that never reads (bound $BOUND)"

# the stalled download is intact once read
touch "$WORK/stall.release"
rc=0; wait "$stall_pid" || rc=$?
[ "$rc" = 0 ] || fail "stalled download not intact after release: $(cat "$WORK/stall.out")"
log "stalled download after release: $(cat "$WORK/stall.out")"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "kernel queues per stalled connection: B send $b_send, A recv $a_recv, A send $a_send bytes (<= $BOUND)"
