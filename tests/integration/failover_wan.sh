#!/usr/bin/env bash
# failover_wan: multi-homing over emulated WAN links with unequal round
# trips (lib.sh topo_up --wan): the PREFERRED path is the slower one,
#   wan1 priority 10: 30 ms each way (60 ms RTT), 100 Mbit/s, queue 1000
#   wan2 priority 20: 10 ms each way (20 ms RTT), 100 Mbit/s, queue 1000
# and lib.sh's wanfast profile, the fast timers moved to a WAN: the RTO floor (and initial
# RTO) 400 ms, above usrsctp's delayed-SACK time (200 ms) plus the 60 ms
# round trip, so no T3 timeout is spurious (the LAN floor of 100 ms times out
# on every delayed SACK here: 572 T3s and 13 MB in 90 s), heartbeats every
# 200 ms, pf_threshold 0, path_max_retrans 2, failback_hold_ms 2000.  It
# checks what a sysadmin with two unequal uplinks would:
#  1. each gateway measured the paths as they are (srtt ~60 and ~20 ms) and
#     a transfer runs over wan1, not over the quicker wan2;
#  2. wan1 cut (nftables drop) during a transfer each way: the transfer
#     completes intact, both gateways log 'primary path: wan1 -> wan2' and
#     wan2 carries the rest;
#  3. wan1 restored during transfers: each gateway fails back no earlier
#     than failback_hold_ms after it saw wan1 reachable again, and while
#     both hold-downs run wan1 carries little more than heartbeats (frames
#     counted from stamped samples, as in failback.sh);
#  4. afterwards the data is on wan1 again; the association never went down.
set -euo pipefail
SCENARIO=failover_wan
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
HOLD_MS=2000
LATE_MS=3000

topo_up --links 2 --wan '1:30:100:0:1000,2:10:100:0:1000'
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=wanfast pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
FWD="$A_LAN:$FWD_PORT"

# path_srtt A|B wanK : the srtt (ms) of the gateway's status line for the path
path_srtt() {
    local n
    n=$(grep -c "status: path $2 " "$WORK/gw-$1.log" || true)
    kill -USR1 "${GW_PID[$1]}"
    for _ in $(seq 100); do
        [ "$(grep -c "status: path $2 " "$WORK/gw-$1.log" || true)" -gt "$n" ] && break
        sleep 0.02
    done
    grep "status: path $2 " "$WORK/gw-$1.log" | tail -n1 | sed -n 's/.* srtt \([0-9]*\) ms.*/\1/p'
}

# ---- 1. the preferred (slower) path carries the data
p1=$(link_packets wan1); p2=$(link_packets wan2)
rc=0
run_ns lan-a 90 "$WORK/warm.out" python3 "$XFER" client --connect "$FWD" \
    --up 4M --down 4M --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/warm.out" "transfer on the preferred path"
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
log "4M each way: wan1 (60 ms) +$d1 frames, wan2 (20 ms) +$d2 frames"
[ "$d1" -gt $((5 * d2)) ] || fail "the data did not run over the preferred wan1 (wan1 +$d1, wan2 +$d2 frames)"
for side in A B; do
    s1=$(path_srtt "$side" wan1); s2=$(path_srtt "$side" wan2)
    log "gateway $side: srtt wan1 $s1 ms, wan2 $s2 ms"
    [ -n "$s1" ] && [ -n "$s2" ] || fail "no srtt in gateway $side's status lines"
    [ "$s1" -ge 55 ] && [ "$s1" -le 150 ] || fail "gateway $side measured wan1 at $s1 ms, want ~60"
    [ "$s2" -ge 18 ] && [ "$s2" -le 100 ] || fail "gateway $side measured wan2 at $s2 ms, want ~20"
done

# ---- 2. cut wan1 during a transfer
log_mark A; log_mark B
q1=$(link_packets wan1)
run_ns_bg lan-a 120 "$WORK/cut.out" python3 "$XFER" client --connect "$FWD" \
    --up 8M --down 8M --timeout 30
pc=$BG_PID
for _ in $(seq 100); do
    [ $(( $(link_packets wan1) - q1 )) -gt 2000 ] && break
    sleep 0.1
done
kill -0 "$pc" 2>/dev/null || fail "transfer ended before the cut: $(cat "$WORK/cut.out")"
link_cut wan1 drop
tcut=$(now_ms)
c2=$(link_packets wan2)
rc=0; wait "$pc" || rc=$?
cat "$WORK/cut.out" >&2
xfer_check "$rc" "$WORK/cut.out" "transfer with wan1 cut"
log "after the cut: wan2 +$(( $(link_packets wan2) - c2 )) frames; transfer done $(( $(now_ms) - tcut )) ms after the cut"
[ $(( $(link_packets wan2) - c2 )) -gt 2000 ] || fail "wan2 carried only $(( $(link_packets wan2) - c2 )) frames after the cut"
for side in A B; do
    wait_log "$side" 'primary path: wan1 -> wan2 ' 10
    t=$(log_time_ms "$side" 'primary path: wan1 -> wan2 ')
    log "gateway $side: primary wan1 -> wan2 $((t - tcut)) ms after the cut"
done

# ---- 3. restore during transfers: the hold-down holds on unequal paths
# Back-to-back 2M-each-way transfers until both fail-backs are logged, so the
# traffic spans restore + hold-down + fail-back whatever the pair's speed.
log_mark A; log_mark B
: >"$WORK/loop.out"
(
    while [ ! -e "$WORK/loop.stop" ]; do
        rc=0
        ip netns exec "$NS_LAN_A" timeout 60 python3 "$XFER" client --connect "$FWD" \
            --up 2M --down 2M --timeout 30 >>"$WORK/loop.out" 2>&1 || rc=$?
        echo "rc=$rc" >>"$WORK/loop.out"
    done
) &
pc=$!
_LIB_PIDS+=("$pc")
sleep 1
link_sample_start
link_restore wan1
for side in A B; do wait_log "$side" 'path wan1: [a-z-]+ -> reachable ' 15; done
for side in A B; do wait_log "$side" 'primary path: wan2 -> wan1 ' $(( (HOLD_MS + LATE_MS) / 1000 + 5 )); done
link_sample_stop
touch "$WORK/loop.stop"
wait "$pc" || true
nok=$(grep -c '^rc=0$' "$WORK/loop.out" || true); nall=$(grep -c '^rc=' "$WORK/loop.out" || true)
ngood=$(grep -c '^ok=.* failed=0 reset=0 ' "$WORK/loop.out" || true)
log "transfers across the restore and fail-back: $nall, $nok exited 0, $ngood intact"
[ "$nall" -ge 2 ] && [ "$nok" = "$nall" ] && [ "$ngood" = "$nall" ] ||
    fail "a transfer across the restore failed: $(grep -v '^ok=' "$WORK/loop.out" | tail -n 5)"
failback_after_hold "$HOLD_MS" "$LATE_MS"
hold_down_quiet 500

# ---- 4. back on wan1
p1=$(link_packets wan1); p2=$(link_packets wan2)
rc=0
run_ns lan-a 120 "$WORK/later.out" python3 "$XFER" client --connect "$FWD" \
    --up 4M --down 4M --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/later.out" "later transfer"
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
log "later transfer (4M each way): wan1 +$d1 frames, wan2 +$d2 frames"
# T3 retransmissions go to the other path (RFC 9260 6.4), so a few % on wan2
[ "$d2" -le $((d1 / 10 + 100)) ] || fail "later transfer: wan2 still carries traffic (+$d2 frames vs wan1 +$d1)"
for side in A B; do
    if grep -q 'association down' "$WORK/gw-$side.log"; then
        fail "association went down on $side: $(grep -m1 'association down' "$WORK/gw-$side.log")"
    fi
done
for k in 1 2; do wan_counters "$k" >&2; done
log "T3 timeouts: A $(gw_sctp_stat A t3), B $(gw_sctp_stat B t3); DATA retransmitted: A $(gw_sctp_stat A rtx), B $(gw_sctp_stat B rtx)"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "preferred 60 ms path carries the data over a 20 ms one; failover on cut; fail-back after the ${HOLD_MS} ms hold-down"
