#!/usr/bin/env bash
# conn_lifecycle (issue 10, items 5 and 7): with [gateway] log_connections
# = yes each gateway logs one line per finished connection (forward,
# client, target, bytes each way, duration, how it ended): a transfer
# (bytes as sent, "FIN both ways") and a refused target ("target
# refused"). TCP keepalive (tcp_keepalive_idle_s 2, interval 1, count 3
# here): ss -o shows the keepalive timer on the client socket (gateway A)
# and on the target socket (gateway B); a client that vanishes without FIN
# or RST (its link taken down) is found dead by the probes, its connection
# reset on both gateways (the target sees a reset) and both summary lines
# say why. KEEPALIVE=no runs the same with tcp_keepalive = no (it must fail).
set -euo pipefail
SCENARIO=conn_lifecycle
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
topo_up
KEEPALIVE=${KEEPALIVE:-yes}
CONF_GATEWAY="log_connections = yes
tcp_keepalive = $KEEPALIVE
tcp_keepalive_idle_s = 2
tcp_keepalive_interval_s = 1
tcp_keepalive_count = 3" write_gw_conf A "$WORK/a.conf" \
    "closed $A_LAN:8082 $LAN_B:9002" "held $A_LAN:8086 $LAN_B:9006"
CONF_GATEWAY="log_connections = yes
tcp_keepalive = $KEEPALIVE
tcp_keepalive_idle_s = 2
tcp_keepalive_interval_s = 1
tcp_keepalive_count = 3" write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"

# A transfer: 24 header bytes + 300000 up, 700000 + a 32-byte digest down.
run_ns lan-a 30 "$WORK/xfer.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 300000 --down 700000 --timeout 20 || fail "transfer: $(cat "$WORK/xfer.out")"
wait_log A 'connection forward web: ' 5
wait_log B 'connection forward web: ' 5
la=$(log_since A | grep -m1 'connection forward web: ')
lb=$(log_since B | grep -m1 'connection forward web: ')
log "A: ${la#* info }"
log "B: ${lb#* info }"
grep -Eq " info site-a: connection forward web: client $LAN_A:[0-9]+, target $LAN_B:$SRV_PORT, 300024 bytes client->target, 700032 bytes target->client, [0-9.]+ s, ended: FIN both ways \(stream [0-9]+\)$" <<<"$la" ||
    fail "gateway A's summary line: $la"
grep -Eq " info site-b: connection forward web: client at the peer gateway, target $LAN_B:$SRV_PORT, 300024 bytes client->target, 700032 bytes target->client, [0-9.]+ s, ended: FIN both ways \(stream [0-9]+\)$" <<<"$lb" ||
    fail "gateway B's summary line: $lb"

# A refused target.
out=$(xfer lan-a expect-reset --connect "$A_LAN:8082" --within 2 --send 0 2>&1) ||
    fail "refused target: $out"
wait_log A 'connection forward closed: .*ended: target refused' 5
wait_log B 'connection forward closed: client at the peer gateway, target '"$LAN_B"':9002, 0 bytes client->target, 0 bytes target->client, [0-9.]+ s, ended: target refused' 5
log "refused: $(log_since A | grep -m1 'connection forward closed')"

# Keepalive: a held connection, idle; the target notes how it ended.
bg_ns lan-b "$WORK/observer.log" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9006)); s.listen(4)
c, _ = s.accept()
try:
    res = "eof" if not c.recv(100) else "data"
except ConnectionResetError:
    res = "reset"
except OSError as e:
    res = "error:%s" % e
open(sys.argv[2], "w").write(res + "\n")' "$LAN_B" "$WORK/observed"
wait_listen lan-b 9006
bg_ns lan-a "$WORK/held-client.log" python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], 8086)); time.sleep(120)' "$A_LAN"
for _ in $(seq 50); do
    in_ns B ss -Htn state established "( dport = :9006 )" | grep -q . && break
    sleep 0.1
done
ssa=$(in_ns A ss -Htno state established "( sport = :8086 )")
ssb=$(in_ns B ss -Htno state established "( dport = :9006 )")
log "gateway A's client socket: $ssa"
log "gateway B's target socket: $ssb"
grep -q 'timer:(keepalive,' <<<"$ssa" || fail "no keepalive timer on gateway A's client socket: $ssa"
grep -q 'timer:(keepalive,' <<<"$ssb" || fail "no keepalive timer on gateway B's target socket: $ssb"

# The client vanishes: no FIN, no RST, its link down.
log_mark A
log_mark B
t0=$(now_ms)
ip -n "$(ns_of lan-a)" link set eth0 down
for _ in $(seq 300); do [ -s "$WORK/observed" ] && break; sleep 0.1; done
dt=$(( $(now_ms) - t0 ))
obs=$(cat "$WORK/observed" 2>/dev/null || echo "nothing (still open after 30 s)")
[ "$obs" = reset ] || fail "the target of the dead client saw '$obs' after $dt ms (want reset)"
log "dead client: the target saw a reset $dt ms after the client's link went down"
[ "$dt" -le 15000 ] || fail "the dead client was found only after $dt ms (keepalive 2 + 3 x 1 s)"
wait_log A 'connection forward held: client '"$LAN_A"':[0-9]+, target '"$LAN_B"':9006, 0 bytes client->target, 0 bytes target->client, [0-9.]+ s, ended: client (timed out|unreachable)' 5
wait_log B 'connection forward held: client at the peer gateway, .*ended: reset by client' 5
log "A: $(log_since A | grep -m1 'connection forward held')"
in_ns A ss -Htn state established "( sport = :8086 )" | grep -q . &&
    fail "gateway A still holds the dead client's socket"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "summary lines for a transfer and a refusal; keepalive on both sockets; a dead client reset on both sides in $dt ms"
