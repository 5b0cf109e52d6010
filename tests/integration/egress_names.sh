#!/usr/bin/env bash
# egress_names (issue 9, test c): host-name targets, resolved by the EXIT
# gateway through a real DNS server: dnsmasq on lan-b (198.18.20.2:53,
# authoritative for egress.test, NXDOMAIN for anything else there), named
# in gateway B's [egress] resolver. Gateway A's forwards name:
#   v4.egress.test      -> 198.18.20.2 only             bytes both ways
#   v6.egress.test      -> 2001:2:20::2 only            bytes both ways
#   fallback.egress.test -> 2001:2:20::3 (nothing listens: refused at once)
#                        and 198.18.20.2: B tries the IPv6 address first
#                        (RFC 6724), then the IPv4 one, within
#                        connect_timeout_ms                bytes both ways
#   nx.egress.test      (no such name)  client reset quickly, RST reason 9,
#                        a line on both gateways naming the name
#   denied.egress.test  -> 198.18.20.9, outside B's [egress] allow: client
#                        reset, RST reason 8, a line on both gateways
# and the counters of B's SIGUSR1 dump say 1 refused, 1 unresolved.
set -euo pipefail
SCENARIO=egress_names
. "$(dirname "$0")/lib.sh"
need_root
need_cmd dnsmasq
setup "$@"

topo_up
ip -n "$NS_LAN_B" addr add 2001:2:20::3/64 dev eth0 nodad
D=egress.test
bg_ns lan-b "$WORK/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --log-queries \
    --conf-file=/dev/null --no-resolv --no-hosts --pid-file= --user=root \
    --listen-address="$LAN_B" --bind-interfaces --port=53 --local="/$D/" \
    --host-record="v4.$D,$LAN_B" --host-record="v6.$D,$LAN_B6" \
    --host-record="fallback.$D,$LAN_B,2001:2:20::3" --host-record="denied.$D,198.18.20.9"
for _ in $(seq 50); do
    in_ns lan-b ss -Hlun "sport = :53" | grep -q . && break
    sleep 0.1
done
in_ns lan-b ss -Hlun "sport = :53" | grep -q . || fail "dnsmasq is not listening: $(cat "$WORK/dnsmasq.log")"

CONF_EGRESS_ALLOW="$LAN_B:$SRV_PORT, [2001:2:20::]/64:$SRV_PORT"
CONF_EGRESS="resolver = $LAN_B"
CONF_CONNECT_TIMEOUT_MS=3000
write_gw_conf A "$WORK/a.conf" \
    "v4 $A_LAN:8091 v4.$D:$SRV_PORT" \
    "v6 $A_LAN:8092 v6.$D:$SRV_PORT" \
    "fallback $A_LAN:8093 fallback.$D:$SRV_PORT" \
    "nx $A_LAN:8094 nx.$D:$SRV_PORT" \
    "denied $A_LAN:8095 denied.$D:$SRV_PORT"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
wait_log B "egress: host names resolved per connection with c-ares [0-9.]+, servers $LAN_B:53" 5
xfer_server lan-b "$LAN_B:$SRV_PORT" --listen "[$LAN_B6]:$SRV_PORT"

# Resolved, allowed: bytes both ways, unchanged; B connected to the
# address the name has.
for f in v4:8091:"$LAN_B:$SRV_PORT" v6:8092:"[$LAN_B6]:$SRV_PORT" fallback:8093:"$LAN_B:$SRV_PORT"; do
    name=${f%%:*}; rest=${f#*:}; port=${rest%%:*}; want=${rest#*:}
    log_mark B
    rc=0
    run_ns lan-a 60 "$WORK/$name.out" python3 "$XFER" client --connect "$A_LAN:$port" \
        --up 1M --down 1M --count 3 --parallel 1 --timeout 20 || rc=$?
    xfer_check "$rc" "$WORK/$name.out" "host-name target $name.$D"
    w=${want//[/\\[}; w=${w//]/\\]}
    wait_log B "connected to target $w" 5
    log "$name.$D: $(grep '^ok=' "$WORK/$name.out")"
done
grep -q "query\[AAAA\] v6.$D" "$WORK/dnsmasq.log" ||
    fail "dnsmasq saw no AAAA query for v6.$D: $(tail -n 5 "$WORK/dnsmasq.log")"
# Every connection asks again (no cache in the gateway): 3 connections, 3 queries.
n=$(grep -c "query\[A\] v4.$D" "$WORK/dnsmasq.log" || true)
[ "$n" -ge 3 ] || fail "v4.$D was looked up $n times for 3 connections (want one lookup each)"
# fallback: the IPv6 address came first and refused; the IPv4 one carried it.
grep -q "stream [0-9]*: \[2001:2:20::3\]:$SRV_PORT: Connection refused; trying the next address" \
    "$WORK/gw-B.log" || fail "B did not try fallback.$D's IPv6 address first and then the next"

# No such name: reset quickly, reason 9, a line on both sides.
log_mark A; log_mark B
out=$(xfer lan-a expect-reset --connect "$A_LAN:8094" --within 2 --send 0 2>&1) ||
    fail "nx.$D: client not reset within 2 s: $out"
log "nx.$D: $out"
wait_log B "forward nx: host name nx.$D:$SRV_PORT did not resolve \(.*\); refused" 5
wait_log A "peer site-b could not resolve the target nx.$D:$SRV_PORT; client reset" 5

# A name whose only address is not allowed: reason 8, both sides.
out=$(xfer lan-a expect-reset --connect "$A_LAN:8095" --within 2 --send 0 2>&1) ||
    fail "denied.$D: client not reset within 2 s: $out"
log "denied.$D: $out"
wait_log B "forward denied: destination denied.$D:$SRV_PORT \(198.18.20.9:$SRV_PORT\) is not in \[egress\] allow; refused \(to permit it, add it to \[egress\] allow in $WORK/b.conf\)" 5
wait_log A "peer site-b refused the target denied.$D:$SRV_PORT: not in its \[egress\] allow" 5

log_mark B
kill -USR1 "${GW_PID[B]}"
wait_log B 'status: egress: 1 peer OPENs refused by \[egress\] allow, 1 host names that did not resolve' 5

grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "names resolved by B via dnsmasq: v4-only, v6-only and v6-then-v4 carry bytes; a missing name is reason 9, a name outside [egress] allow reason 8, both logged on both sides"
