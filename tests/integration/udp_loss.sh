#!/usr/bin/env bash
# udp_loss (issue 9, test f): a lost datagram is never waited for.  Link
# wan1 is an emulated WAN link, 20 ms each way (a loss costs at least a
# round trip, 40 ms, to repair, so datagrams held behind a lost one show).  A
# client in lan-a streams 200 stamped datagrams a second through gateway
# A's UDP forward to an echo server in lan-b (one-way delay = the echo
# server's receive time - the send time, one clock): first on the clean
# link, then with 5 % random loss each way on wan1 (link_loss, nftables).
# With loss, the median one-way delay stays within 15 ms of the clean
# link's: a lost datagram delays only itself, and the delay does not grow
# (the median of the last third of the phase within 15 ms of the first
# third's).  How many datagrams came late, and how many of those sent
# right after a late one, is logged.  (On this shared 2-core machine the
# delays of consecutive datagrams are correlated by the load anyway, so
# the test cannot tell head-of-line blocking apart from load; the unit
# test dgram__out_of_order__accepted_once... shows datagrams are accepted
# out of order, and the engine sends them SCTP_UNORDERED.)
# Then, still with loss, a TCP transfer (2 MiB each way) runs on the same
# association beside the datagram stream: it must be intact (xfer.py
# checks every byte and the SHA-256 both ways), and the datagrams must not
# wait behind it, judged by the tail: at least 75 % of them echoed (5 % loss each way
# leaves ~90 % without retransmission; ~97 % were measured; 15-35 % before), the
# 90th percentile of their one-way delay within udp_lifetime_ms (150 ms,
# the default) + one round trip (40 ms) + what this shared machine's load
# adds (the clean phase's p90 - p50, at least 40 ms), and the 99th within
# 4 x (150 + 40) = 760 ms + the clean phase's p99 - p50.  Why: a datagram
# goes before every queued TCP frame (the engines' priority stream
# scheduler) but after the one being sent, which is at most 8 KiB while
# datagrams flow (assoc_data_max; about 60 ms at the ~1 Mbit/s this link
# gives under 5 % loss), and waits for room in the congestion window
# (about one round trip); a lost datagram is retransmitted only within its
# lifetime, else abandoned (PR-SCTP), so one that arrives at all arrives
# within udp_lifetime_ms + the one-way delay.  The 99th percentile gets
# more room because a retransmission timeout (a retransmission lost again;
# about 14 a run here) stalls every stream of the association for an RTO
# (>= 100 ms, doubling), and this 2-core machine's load stalls the
# gateways too (measured p99 140 to 380 ms).  Before (the default
# round-robin scheduler, 64 KiB TCP frames) the datagrams' queue grew
# behind whole TCP frames: p90 4 s, p99 6.6 s, 15 % echoed; the priority
# scheduler alone: p90 450 ms (docs/ARCHITECTURE.md, "UDP flows beside TCP
# connections").
set -euo pipefail
SCENARIO=udp_loss
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
. "$(dirname "$0")/udp_lib.sh"

SECS=${UDP_LOSS_SECONDS:-9}
topo_up --wan '1:20'
bg_ns lan-b "$WORK/echo.out" "$UDPX" echo "$LAN_B:7"
CONF_EXTRA="$(udp_fwd echo "$A_LAN:7" "$LAN_B:7")" write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"

stream() { # NAME : the datagram stream for SECS seconds
    run_ns lan-a 120 "$WORK/udp-$1.out" "$UDPX" stream "$A_LAN:7" 200 "$SECS" 200 \
        "$WORK/delays-$1.txt" || fail "$1: udpx stream failed: $(cat "$WORK/udp-$1.out")"
    log "$1: datagrams: $(cat "$WORK/udp-$1.out")"
}

# pct NAME Q [FROM TO] : the Q-quantile (0..1) of the one-way delays (us) of
# the datagrams sent between FROM and TO seconds into the phase
pct() {
    awk -v from="${3:-0}" -v to="${4:-1e9}" \
        '$2 >= from * 1e9 && $2 < to * 1e9 { print $3 }' "$WORK/delays-$1.txt" | sort -n |
        awk -v q="$2" '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit }
                        i = int((NR - 1) * q) + 1; print v[i] }'
}

stream clean
link_loss wan1 5
stream lossy
third=$((SECS / 3))
c50=$(pct clean 0.5); c90=$(pct clean 0.9); c99=$(pct clean 0.99)
l50=$(pct lossy 0.5); l90=$(pct lossy 0.9); l99=$(pct lossy 0.99)
f50=$(pct lossy 0.5 0 "$third"); e50=$(pct lossy 0.5 $((SECS - third)) "$SECS")
nl=$(wc -l <"$WORK/delays-lossy.txt")
# Datagrams late by more than 40 ms (a lost one, repaired after at least a
# round trip), and of the datagrams sent right after a late one, how many
# were late too: about all of them if each waited for its lost predecessor
# (head-of-line blocking), few if a loss delays only its own datagram.
read -r late succ succ_late <<<"$(awk -v lim=$((c50 + 40000)) '
    { d[$1] = $3 } END { for (s in d) if (d[s] > lim) { late++
        if ((s + 1) in d) { n++; if (d[s + 1] > lim) nl++ } }
      print late + 0, n + 0, nl + 0 }' "$WORK/delays-lossy.txt")"
log "one-way delay (us): clean p50 $c50 p90 $c90 p99 $c99; 5% loss p50 $l50 p90 $l90 p99 $l99 ($nl echoed); loss phase median first third $f50, last third $e50; $late late by > 40 ms, of the $succ sent right after those $succ_late late too"
[ "$nl" -gt $((SECS * 200 / 2)) ] || fail "only $nl datagrams echoed under 5% loss"
[ "$l50" -le $((c50 + 15000)) ] || fail "median delay under loss $l50 us > clean median $c50 us + 15 ms"
[ "$late" -gt 0 ] || fail "no datagram was late under 5% loss: did the loss reach the association?"
[ "$e50" -le $((f50 + 15000)) ] || fail "delay grows under loss: median $f50 us first third, $e50 us last third"

# TCP beside the datagrams, on the same association, still with loss
rc=0
run_ns_bg lan-a 300 "$WORK/tcp.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 2M --down 2M --timeout 120
pt=$BG_PID
stream mixed
wait "$pt" || rc=$?
xfer_check "$rc" "$WORK/tcp.out" "TCP 2 MiB each way beside the datagrams with 5% loss"
log "mixed: TCP: $(grep '^ok=' "$WORK/tcp.out" | tail -n1)"
m50=$(pct mixed 0.5); m99=$(pct mixed 0.99); mmax=$(pct mixed 1)
nm=$(wc -l <"$WORK/delays-mixed.txt")
log "mixed: one-way delay (us) p50 $m50 p90 $(pct mixed 0.9) p95 $(pct mixed 0.95) p99 $m99 max $mmax ($nm of $((SECS * 200)) echoed)"
m90=$(pct mixed 0.9)
# The load of this shared machine, measured on the clean link at the start:
# what its p90 and p99 add to its median (at least 40 ms for the p90).
noise90=$((c90 - c50)); [ "$noise90" -ge 40000 ] || noise90=40000
noise99=$((c99 - c50))
bound=$(((150 + 40) * 1000 + noise90)) tail=$((4 * (150 + 40) * 1000 + noise99))
[ "$nm" -ge $((SECS * 200 * 75 / 100)) ] ||
    fail "only $nm of $((SECS * 200)) datagrams echoed beside the TCP transfer (want >= 75 %)"
[ "$m90" -le "$bound" ] ||
    fail "beside the TCP transfer the 90th percentile one-way delay is $m90 us > $bound us (udp_lifetime_ms 150 + RTT 40 + the clean link's p90 - p50): datagrams wait behind TCP data"
[ "$m99" -le "$tail" ] ||
    fail "beside the TCP transfer the 99th percentile one-way delay is $m99 us > $tail us (4 x (udp_lifetime_ms 150 + RTT 40) + the clean link's p99 - p50): datagrams queue behind TCP data"
dropped=$(link_loss_dropped wan1)
link_loss wan1 0
[ "$dropped" -gt 0 ] || fail "the loss rule dropped nothing"
log "$dropped frames dropped on wan1"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "under 5% loss a lost datagram delays only itself; beside a TCP transfer datagrams p90 $((m90 / 1000)) ms (<= $((bound / 1000))), p99 $((m99 / 1000)) ms (<= $((tail / 1000))), the transfer intact"
