#!/usr/bin/env bash
# wan_throughput: on a 50 ms RTT, 200 Mbit/s emulated WAN link (25 ms each
# way, drop-tail queue of 1000 packets, no loss; lib.sh topo_up --wan), one
# TCP connection through the gateway pair with its DEFAULT configuration
# (no timer, buffer or window key) must get at least WAN_TP_MIN_RATIO (0.5)
# of what one TCP cubic connection gets straight over the same link in the
# same run (iperf3, WAN_TP_TIME = 10 s each, same client and server hosts).
# The bound is loose on purpose (a loaded two-core machine); the product's
# target (issue 14) is 0.9x.  Also: neither gateway may count a T3
# (retransmission timer) expiry over the sctpgw run: the link loses nothing
# and SACKs flow all the time, so any expiry is spurious. Unless the
# emulator's bottleneck queue dropped packets in that run (the slow-start
# burst can overflow it; counted): then a drop that fast retransmit did not
# repair may end in one real expiry per side, so at most 1 is allowed (the
# usrsctp timer bug below gave 5 per side in 10 s). Then the association's
# buffers: within their max, which is the peer's TSN span (4000 chunks of
# 1156 bytes at the default path_mtu 1280: 4.62 MB, 4515 KiB; buffer_max's
# 32 MiB is more, bufgrow.h) by default and
# memory_limit / 8 (3 MiB) in a second pair with memory_limit = 24m, which
# then carries one connection for 5 s.
#
# History: failed with the default configuration of main at 1440b99
# (about 0.03-0.15x cubic: the default RTO floor of 200 ms sat below
# delayed SACK + RTT, and the windows and usrsctp's chunk limit capped the
# rate); passes since issue 14 items 2-3 (branch tune: 0.95x in its first
# run, T3 timeouts A +4 B +1 with nothing retransmitted by them).  The T3
# assertion failed at e02225c (A +5 B +5 in 10 s, 0 chunks retransmitted:
# usrsctp's fast SACK path never restarted the timer, engine_usrsctp.c
# "T3 restarts") and passes since (A +0 B +0).
set -euo pipefail
SCENARIO=wan_throughput
. "$(dirname "$0")/lib.sh"
need_root
need_cmd iperf3
setup "$@"
T=${WAN_TP_TIME:-10}
MIN=${WAN_TP_MIN_RATIO:-0.5}

topo_up --wan '1:25:200:0:1000'
# direct: the gateways route between the sites (the relay does not need it)
for ns in "$NS_A" "$NS_B"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done
ip -n "$NS_A" route add 198.18.20.0/24 via "$B_WAN"
ip -n "$NS_B" route add 198.18.10.0/24 via "$A_WAN"
CONF_PROFILE=default CONF_LOG_LEVEL=info pair_up
bg_ns lan-b "$WORK/iperf3-server.log" iperf3 -s -B "$LAN_B" -p "$SRV_PORT"
wait_listen lan-b "$SRV_PORT"

# iperf_mbit HOST:PORT NAME [iperf3 args] : receiver's Mbit/s of one run
iperf_mbit() {
    local hp=$1 name=$2 rc=0; shift 2
    run_ns lan-a $((T + 30)) "$WORK/$name.json" iperf3 -J -c "${hp%:*}" -p "${hp##*:}" -t "$T" "$@" || rc=$?
    [ $rc = 0 ] || fail "iperf3 $name failed ($rc): $(head -c 400 "$WORK/$name.json")"
    python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' \
        "$WORK/$name.json" || fail "iperf3 $name: no result: $(head -c 400 "$WORK/$name.json")"
}

cubic=$(iperf_mbit "$LAN_B:$SRV_PORT" direct -C cubic)
log "direct TCP cubic over the link: $cubic Mbit/s"
# packets the emulator's queue (or ring) dropped so far, both directions
wan_drops() {
    wan_counters 1 | awk '{ for (i = 4; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "drop_queue" || kv[1] == "drop_ring") n += kv[2] } } END { print n + 0 }'
}
drops=$(wan_drops)
t3a=$(gw_sctp_stat A t3); t3b=$(gw_sctp_stat B t3); rxa=$(gw_sctp_stat A rtx); rxb=$(gw_sctp_stat B rtx)
sg=$(iperf_mbit "$A_LAN:$FWD_PORT" sctpgw)
drops=$(( $(wan_drops) - drops ))
t3a=$(( $(gw_sctp_stat A t3) - t3a )); t3b=$(( $(gw_sctp_stat B t3) - t3b ))
rxa=$(( $(gw_sctp_stat A rtx) - rxa )); rxb=$(( $(gw_sctp_stat B rtx) - rxb ))
log "sctpgw (default configuration), 1 connection: $sg Mbit/s; T3 timeouts A +$t3a B +$t3b, DATA retransmitted A +$rxa B +$rxb; the emulator's queue dropped $drops packets"
wan_counters 1 >&2
ratio=$(awk -v s="$sg" -v c="$cubic" 'BEGIN { printf "%.2f", (c > 0 ? s / c : 0) }')
awk -v c="$cubic" 'BEGIN { exit !(c >= 50) }' || fail "direct cubic got only $cubic Mbit/s on a 200 Mbit/s link: the testbed is too loaded to judge"
awk -v r="$ratio" -v m="$MIN" 'BEGIN { exit !(r >= m) }' ||
    fail "sctpgw (default config) got $sg Mbit/s = ${ratio}x direct cubic ($cubic Mbit/s) on 50 ms / 200 Mbit/s; want >= ${MIN}x"
t3max=0
[ "$drops" -gt 0 ] && t3max=1
[ "$t3a" -le "$t3max" ] && [ "$t3b" -le "$t3max" ] ||
    fail "spurious T3 timeouts on a clean 50 ms link: A +$t3a B +$t3b in $T s (DATA retransmitted A +$rxa B +$rxb; $drops packets dropped at the bottleneck queue, at most $t3max allowed per side)"
# The association's buffers (bufgrow.h): each within its max, the max
# buffer_max (32 MiB) within memory_limit / 8 (1 GiB by default) and the
# peer's TSN span (4.62 MB at path_mtu 1280).
check_buffers() { # WANT_MAX_KIB: both gateways' buffers now and their max
    local side v
    for side in A B; do
        for v in sndmax rcvmax; do
            [ "$(gw_sctp_stat "$side" $v)" = "$1" ] ||
                fail "gateway $side: buffer max ($v) $(gw_sctp_stat "$side" $v) KiB, want $1 KiB"
        done
        for v in sndbuf rcvbuf; do
            [ "$(gw_sctp_stat "$side" $v)" -le "$1" ] ||
                fail "gateway $side: $v $(gw_sctp_stat "$side" $v) KiB, above its max $1 KiB"
        done
    done
    log "buffers (KiB, send/receive): A $(gw_sctp_stat A sndbuf)/$(gw_sctp_stat A rcvbuf) B $(gw_sctp_stat B sndbuf)/$(gw_sctp_stat B rcvbuf), max $1"
}
check_buffers 4515
# memory_limit = 24m: each buffer at most 3 MiB, whatever the path asks.
gw_stop A; gw_stop B
CONF_PROFILE=default CONF_LOG_LEVEL=info CONF_GATEWAY="memory_limit = 24m" pair_up
small=$(iperf_mbit "$A_LAN:$FWD_PORT" small-memory -t 5)
log "sctpgw with memory_limit = 24m: $small Mbit/s"
check_buffers 3072
pass "T3 timeouts A +$t3a B +$t3b (at most $t3max: $drops queue drops); sctpgw $sg Mbit/s = ${ratio}x direct cubic $cubic Mbit/s on 50 ms / 200 Mbit/s (want >= ${MIN}x)"
