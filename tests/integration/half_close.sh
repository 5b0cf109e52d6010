#!/usr/bin/env bash
# half_close: the client sends its request, shuts down its write side, and
# must still receive the whole response, which the server only starts after
# seeing the request's EOF.  Checked with xfer.py (content verified) and with
# socat as an independent real client and server (byte count verified).
# Then the other way round: the server answers and half-closes first, and
# the client's data sent after that FIN must still arrive.
set -euo pipefail
SCENARIO=half_close
. "$(dirname "$0")/lib.sh"
need_root
need_cmd socat
setup "$@"
RESP=${HC_RESPONSE_BYTES:-20971520}
SOCAT_BYTES=5000000

topo_up
# web: A -> lan-b xfer server (responds after EOF)
# hc:  B -> lan-a socat server (reads to EOF, then answers)
# rev: A -> lan-b server that answers and half-closes FIRST, then keeps
#      reading what the client sends afterwards
write_gw_conf A "$WORK/a.conf" "rev $A_LAN:8082 $LAN_B:9002"
write_gw_conf B "$WORK/b.conf" "hc $B_LAN:8081 $LAN_A:9001"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT" --after-eof

# 1. xfer: small request, half-close, 20 MiB response sent only after EOF
log "xfer: 1000-byte request, then half-close, then $RESP-byte response"
run_ns lan-a 60 "$WORK/c1.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 1000 --down "$RESP" --timeout 20 || fail "xfer half-close transfer failed: $(cat "$WORK/c1.out")"
cat "$WORK/c1.out"
# several at once, with empty requests too (FIN right after the header)
run_ns lan-a 60 "$WORK/c2.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 0 --down 1048576 --count 20 --parallel 20 --timeout 20 \
    || fail "xfer half-close with empty requests failed: $(cat "$WORK/c2.out")"
cat "$WORK/c2.out"

# 2. socat: server reads the whole request, then writes SOCAT_BYTES and exits
bg_ns lan-a "$WORK/socat-server.log" socat -t 30 TCP-LISTEN:9001,bind="$LAN_A",reuseaddr,fork \
    SYSTEM:"cat >/dev/null; head -c $SOCAT_BYTES /dev/zero"
wait_listen lan-a 9001
head -c 100000 /dev/urandom >"$WORK/request"
for i in 1 2 3; do
    t0=$(now_ms)
    run_ns lan-b 60 "$WORK/socat-$i.out" socat -t 30 "OPEN:$WORK/request,rdonly!!STDOUT" TCP:"$B_LAN":8081 \
        || fail "socat client run $i failed (exit $?): $(head -c 300 "$WORK/socat-$i.out")"
    dt=$(( $(now_ms) - t0 ))
    n=$(wc -c <"$WORK/socat-$i.out")
    [ "$n" = "$SOCAT_BYTES" ] || fail "socat client run $i received $n bytes, want $SOCAT_BYTES (half-close not carried?)"
    # socat -t 30 ends early only if the server's FIN came through too
    [ $dt -lt 10000 ] || fail "socat client run $i took $dt ms: the server's FIN was not carried"
    log "socat run $i: request sent + half-close, received $n bytes + FIN ($dt ms)"
done

# 3. the other direction: the server sends its answer and shuts down its
#    write side first; the client only starts sending 1 s later, after the
#    FIN has arrived, and everything it sends must still reach the server.
# (socat's SYSTEM cannot close its side first: it sees the child's EOF only
# when the child exits, so the server here is a few lines of python)
bg_ns lan-b "$WORK/rev-server.log" python3 -c '
import socket, sys, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9002)); s.listen(1)
c, _ = s.accept()
c.sendall(bytes(3000000)); c.shutdown(socket.SHUT_WR)
n = 0
while True:
    d = c.recv(1 << 16)
    if not d: break
    n += len(d)
open(sys.argv[2] + ".tmp", "w").write(str(n)); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
c.close()' "$LAN_B" "$WORK/rev-server-got"
wait_listen lan-b 9002
t0=$(now_ms)
run_ns lan-a 60 "$WORK/socat-rev.out" socat -t 30 \
    "SYSTEM:sleep 1; head -c 4000000 /dev/zero,pipes!!OPEN:$WORK/rev-client-got,creat,wronly,trunc" \
    TCP:"$A_LAN":8082 || fail "socat reverse half-close client failed: $(head -c 300 "$WORK/socat-rev.out")"
dt=$(( $(now_ms) - t0 ))
# socat -t 30 only ends early if both directions saw their FIN
[ $dt -lt 10000 ] || fail "server-first half-close: client took $dt ms (a FIN was not carried; socat waited for -t 30)"
for i in $(seq 50); do [ -f "$WORK/rev-server-got" ] && break; sleep 0.1; done
got_c=$(wc -c <"$WORK/rev-client-got")
got_s=$(tr -d ' \n' <"$WORK/rev-server-got" 2>/dev/null || echo missing)
[ "$got_c" = 3000000 ] || fail "server-first half-close: client received $got_c bytes, want 3000000"
[ "$got_s" = 4000000 ] || fail "server-first half-close: server received $got_s bytes after its own FIN, want 4000000"
log "server-first half-close: client got $got_c bytes + FIN, then sent $got_s bytes that all arrived ($dt ms)"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "half-close carried both ways (xfer $RESP bytes, socat $SOCAT_BYTES bytes, server-first 4000000 bytes)"
