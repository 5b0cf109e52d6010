#!/usr/bin/env bash
# egress_allow (issue 9, test b): the exit gateway connects only where its
# [egress] allow says. Gateway B allows lan-b's port 9000 (IPv4 and IPv6);
# a server also listens on lan-b's port 9002, so a refusal there can only
# come from the allow list. Through A:
#   - allowed targets (v4, v6, and a v4-mapped v6 target of an allowed
#     v4 address) carry bytes both ways unchanged (SHA-256 checked);
#   - fixed forwards to targets outside the list (another port v4 and v6,
#     a mapped v6 address of a refused v4 one, B's own loopback) reset the
#     client within 1 s, and no packet reaches port 9002;
#   - each refusal is logged on B with the address and the key to add
#     ("add it to [egress] allow in FILE"), on A with the address, and
#     counted in B's SIGUSR1 status dump;
#   - a UDP flow to a destination outside the list is refused the same way
#     (its datagram is never sent there; both sides log it);
#   - B without an [egress] section says so at start and refuses even the
#     target that worked before.
set -euo pipefail
SCENARIO=egress_allow
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"

topo_up
CONF_EGRESS_ALLOW="$LAN_B:$SRV_PORT, [$LAN_B6]:$SRV_PORT"
write_gw_conf A "$WORK/a.conf" \
    "v6ok $A_LAN:8086 [$LAN_B6]:$SRV_PORT" \
    "mappedok $A_LAN:8087 [::ffff:$LAN_B]:$SRV_PORT" \
    "port4 $A_LAN:8082 $LAN_B:9002" \
    "port6 $A_LAN:8083 [$LAN_B6]:9002" \
    "mapped $A_LAN:8084 [::ffff:$LAN_B]:9002" \
    "self $A_LAN:8085 127.0.0.1:$SRV_PORT" \
    "udp9002 $A_LAN:8088 $LAN_B:9002 protocol=udp"
write_gw_conf B "$WORK/b.conf"
grep -q "^allow = $LAN_B:$SRV_PORT, \[$LAN_B6\]:$SRV_PORT\$" "$WORK/b.conf" ||
    fail "write_gw_conf did not narrow B's [egress] allow: $(grep -A1 '^\[egress\]' "$WORK/b.conf")"
# Count every packet toward port 9002 on lan-b: the allow list must stop
# refused connections before B sends a SYN.
in_ns lan-b nft -f - <<NFT
table inet egress_probe {
    chain in {
        type filter hook input priority 0; policy accept;
        meta l4proto { tcp, udp } th dport 9002 counter
    }
}
NFT
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
wait_log B "egress: the peer may make this gateway connect to $LAN_B:$SRV_PORT, \[$LAN_B6\]:$SRV_PORT \(2 entries" 5
xfer_server lan-b "$LAN_B:$SRV_PORT" --listen "[$LAN_B6]:$SRV_PORT" --listen "$LAN_B:9002" \
    --listen "[$LAN_B6]:9002"

# Allowed: bytes both ways, unchanged.
for port in "$FWD_PORT" 8086 8087; do
    rc=0
    run_ns lan-a 60 "$WORK/ok-$port.out" python3 "$XFER" client --connect "$A_LAN:$port" \
        --up 2M --down 2M --count 4 --parallel 2 --timeout 20 || rc=$?
    xfer_check "$rc" "$WORK/ok-$port.out" "allowed forward on $port"
    log "allowed forward on $port: $(grep '^ok=' "$WORK/ok-$port.out")"
done

# Refused: the client is reset at once, both sides say which address.
log_mark A; log_mark B
declare -A dst=([8082]="$LAN_B:9002" [8083]="[$LAN_B6]:9002" [8084]="$LAN_B:9002"
    [8085]="127.0.0.1:$SRV_PORT")
declare -A said=([8082]="$LAN_B:9002" [8083]="[$LAN_B6]:9002" [8084]="[::ffff:$LAN_B]:9002"
    [8085]="127.0.0.1:$SRV_PORT")
for port in 8082 8083 8084 8085; do
    out=$(xfer lan-a expect-reset --connect "$A_LAN:$port" --within 1 --send 0 2>&1) ||
        fail "target ${dst[$port]} not allowed, but the client on $port was not reset within 1 s: $out"
    log "not allowed ${dst[$port]}: $out"
    d=${dst[$port]//[/\\[}; d=${d//]/\\]}
    wait_log B "destination $d is not in \[egress\] allow; refused \(to permit it, add it to \[egress\] allow in $WORK/b.conf\)" 5
    s=${said[$port]//[/\\[}; s=${s//]/\\]}
    wait_log A "peer site-b refused the target $s: not in its \[egress\] allow" 5
done
# A UDP flow: refused before B opens a socket toward the destination.
bg_ns lan-b "$WORK/echo9002.out" "$UDPX" echo "$LAN_B:9002"
log_mark A; log_mark B
run_ns lan-a 30 "$WORK/udp9002.out" "$UDPX" flows "$A_LAN:8088" 1 &&
    fail "a UDP flow to $LAN_B:9002 (not allowed) was answered: $(cat "$WORK/udp9002.out")"
wait_log B "UDP destination $LAN_B:9002 is not in \[egress\] allow; refused \(to permit it, add it to \[egress\] allow in $WORK/b.conf\)" 5
wait_log A "the peer refused its destination: not in its \[egress\] allow" 5
# udpx sends its datagram again when no answer comes: each try is a new
# flow, refused again (counted below).
nudp=$(log_since B | grep -ac "UDP destination $LAN_B:9002 is not in")
log "not allowed UDP $LAN_B:9002: $nudp flow(s) refused, logged on both sides"
n9002=$(in_ns lan-b nft list table inet egress_probe | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "$n9002" = 0 ] || fail "$n9002 packets reached lan-b port 9002: B connected before checking the allow list"

# Counted where the status dump reads counters.
log_mark B
kill -USR1 "${GW_PID[B]}"
wait_log B "status: egress: $((4 + nudp)) peer OPENs refused by \\[egress\\] allow" 5
log_mark A
kill -USR1 "${GW_PID[A]}"
wait_log A "the peer refused $((4 + nudp)) of ours \\(reason 8\\)" 5

# The association and the allowed forward are untouched.
rc=0
run_ns lan-a 60 "$WORK/after.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 1M --down 1M --count 4 --parallel 4 --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/after.out" "allowed forward after the refusals"
grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down"

# No [egress] section: nothing is allowed, and B says so at start.
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
CONF_EGRESS_ALLOW=none write_gw_conf B "$WORK/b-none.conf"
grep -q '^\[egress\]' "$WORK/b-none.conf" && fail "CONF_EGRESS_ALLOW=none still wrote [egress]"
log_mark A
gw_start B "$WORK/b-none.conf"
wait_log B "egress: no \[egress\] allow in $WORK/b-none.conf: this gateway opens no connection for its peer" 5
wait_log A 'association up' 20
wait_log B 'association up' 5
out=$(xfer lan-a expect-reset --connect "$A_LAN:$FWD_PORT" --within 1 --send 0 2>&1) ||
    fail "B has no [egress] section, but the default forward's client was not reset within 1 s: $out"
wait_log B "destination $LAN_B:$SRV_PORT is not in \[egress\] allow; refused \(to permit it, add it to \[egress\] allow in $WORK/b-none.conf\)" 5
log "no [egress] section: $out"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "allowed targets carry bytes unchanged; 4 TCP targets outside [egress] allow reset < 1 s, a UDP flow refused, logged on both sides, counted; no section = no egress"
