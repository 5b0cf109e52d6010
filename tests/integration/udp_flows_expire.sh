#!/usr/bin/env bash
# udp_flows_expire (issue 9, test g): idle UDP flows expire and their
# streams are reused.  max_streams = 1024 gives gateway A 511 stream ids of
# its own; 2,000 flows (four rounds of 500 clients, each its own source
# port) are opened through A's UDP forward to an echo server in lan-b and
# left idle.  Each round must be answered in full, still be there shortly
# after (no early expiry), and be gone from both gateways within
# udp_idle_timeout_ms (1.5 s) plus a margin, so the next round can only
# open on reused stream ids.  At the end: 2,000 opened, 2,000 expired, no
# flow refused, no stream left in use.
set -euo pipefail
SCENARIO=udp_flows_expire
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
. "$(dirname "$0")/udp_lib.sh"

ROUNDS=4
PER=500
topo_up
bg_ns lan-b "$WORK/echo.out" "$UDPX" echo "$LAN_B:7"
export CONF_ASSOC="max_streams = 1024"
export CONF_GATEWAY="udp_idle_timeout_ms = 1500"
CONF_EXTRA="$(udp_fwd echo "$A_LAN:7" "$LAN_B:7")" write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15

streams_in_use() { # A|B : from the first status line
    log_mark "$1"
    kill -USR1 "${GW_PID[$1]}"
    wait_log "$1" 'status: association' 5
    log_since "$1" | grep -m1 'status: association' | grep -oE '[0-9]+ streams in use' | grep -oE '^[0-9]+'
}

for r in $(seq "$ROUNDS"); do
    run_ns lan-a 60 "$WORK/flows$r.out" "$UDPX" flows "$A_LAN:7" "$PER" ||
        fail "round $r: $(cat "$WORK/flows$r.out")"
    sleep 0.5
    na=$(gw_udp_status A flows); nb=$(gw_udp_status B flows)
    log "round $r: $(cat "$WORK/flows$r.out"); 0.5 s later A holds $na flows, B $nb"
    [ "$na" = "$PER" ] && [ "$nb" = "$PER" ] || fail "round $r: $na flows on A, $nb on B 0.5 s after (want $PER: none expired early)"
    t0=$(date +%s%N)
    while :; do
        na=$(gw_udp_status A flows); nb=$(gw_udp_status B flows)
        [ "$na" = 0 ] && [ "$nb" = 0 ] && break
        [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 4000 ] ||
            fail "round $r: $na flows on A, $nb on B 4.5 s after (udp_idle_timeout_ms 1500)"
        sleep 0.2
    done
    log "round $r: all flows expired on both gateways $(( ($(date +%s%N) - t0) / 1000000 + 500 )) ms after"
done
opened=$(gw_udp_status A opened); expired=$(gw_udp_status A expired)
other=$(gw_udp_status A other); cap=$(gw_udp_status A cap); peer=$(gw_udp_status B peer)
sa=$(streams_in_use A); sb=$(streams_in_use B)
log "A: $opened opened, $expired expired, $other refused (no stream id), $cap at the cap; B: $peer accepted; streams in use: A $sa, B $sb"
total=$((ROUNDS * PER))
[ "$opened" = "$total" ] && [ "$expired" = "$total" ] && [ "$peer" = "$total" ] ||
    fail "want $total opened, expired and accepted"
[ "$other" = 0 ] && [ "$cap" = 0 ] || fail "flows were refused"
[ "$sa" = 0 ] && [ "$sb" = 0 ] || fail "streams still in use: A $sa, B $sb"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$total idle flows expired; 511 stream ids carried them all"
