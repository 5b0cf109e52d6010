#!/usr/bin/env bash
# both_links_down: two paths (wan1, wan2), fast profile (give-up about 4 s:
# assoc_max_retrans 10 timeouts of at most rto_max_ms 400).
#  1. Both links cut (nftables drop, so the restore is instant) for
#     SHORT_S=1.5 s, well under the give-up time, during a transfer: the
#     association survives, the transfer resumes and completes intact,
#     nothing is reset.
#  2. Both links down ('ip link set down') for LONG_S=15 s (longer than the
#     give-up time) during a transfer: the client is reset (not hung, not a
#     clean EOF) within
#     RESET_LIMIT s, both gateways log 'association down', and new
#     connections are reset at once while it is down.  Then only wan2 (the
#     non-preferred link) returns: the association comes back ('association
#     up' on both gateways) within RECOVER_LIMIT s and new connections work;
#     then wan1 returns too and is used again.
# The give-up time measured in step 2 (cut -> 'association down') is logged
# next to the estimate sum(min(rto_initial_ms * 2^i, rto_max_ms)) for
# i = 0..assoc_max_retrans.
set -euo pipefail
SCENARIO=both_links_down
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
SHORT_S=${SHORT_S:-1.5}
LONG_S=${LONG_S:-15}
RESET_LIMIT=${RESET_LIMIT:-12}
RECOVER_LIMIT=${RECOVER_LIMIT:-20}

topo_up --links 2
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
FWD="$A_LAN:$FWD_PORT"

check_works() {
    local rc=0
    run_ns lan-a 60 "$WORK/check.out" python3 "$XFER" client --connect "$FWD" \
        --up 4M --down 4M --count 4 --parallel 4 --timeout 20 || rc=$?
    xfer_check "$rc" "$WORK/check.out" "$1"
}

# wait_running PID OUT : wait until the transfer has moved a few MB
wait_running() {
    local p0 i
    p0=$(( $(link_packets wan1) + $(link_packets wan2) ))
    for i in $(seq 50); do
        [ $(( $(link_packets wan1) + $(link_packets wan2) - p0 )) -gt 5000 ] && break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null || fail "transfer ended before both links were cut: $(cat "$2")"
}

# ---- 1. short outage
log "=== both links down for ${SHORT_S}s (less than the give-up time)"
check_works "before the short outage"
log_mark A; log_mark B
run_ns_bg lan-a 120 "$WORK/short.out" python3 "$XFER" client --connect "$FWD" \
    --up 128M --down 128M --timeout 30
pc=$BG_PID
wait_running "$pc" "$WORK/short.out"
link_cut wan1 drop; link_cut wan2 drop
sleep "$SHORT_S"
link_restore wan1; link_restore wan2
rc=0; wait "$pc" || rc=$?
cat "$WORK/short.out" >&2
xfer_check "$rc" "$WORK/short.out" "transfer across a ${SHORT_S}s outage of both links"
for side in A B; do
    if log_since "$side" | grep -q 'association down'; then
        fail "association went down on $side during a ${SHORT_S}s outage: $(log_since "$side" | grep -m1 'association down')"
    fi
done
check_works "after the short outage"
log "short outage survived"

# ---- 2. long outage
log "=== both links down for ${LONG_S}s (longer than the give-up time)"
# wait until both paths are reachable again after the short outage
for side in A B; do
    for p in wan1 wan2; do
        if log_since "$side" | grep -qE "path $p: reachable -> "; then
            wait_log "$side" "path $p: [a-z-]+ -> reachable " 15
        fi
    done
done
log_mark A; log_mark B
run_ns_bg lan-a $((RESET_LIMIT + 30)) "$WORK/long.out" python3 "$XFER" client --connect "$FWD" \
    --up 1T --down 1T --timeout $((RESET_LIMIT + 20))
pc=$BG_PID
wait_running "$pc" "$WORK/long.out"
t0=$(now_ms)
link_cut wan1 down; link_cut wan2 down
rc=0; wait "$pc" || rc=$?
t1=$(now_ms)
out=$(cat "$WORK/long.out")
echo "$out" >&2
[ "$rc" = 124 ] && fail "client hung: no reset within $((RESET_LIMIT + 30))s of cutting both links"
grep -q '^ok=0 failed=0 reset=1 ' <<<"$out" \
    || fail "client did not see a reset after both links were cut (want reset=1): $out"
[ $((t1 - t0)) -le $((RESET_LIMIT * 1000)) ] \
    || fail "client reset took $((t1 - t0)) ms after the cut (limit ${RESET_LIMIT}s)"
log "client reset $((t1 - t0)) ms after both links were cut"
# fast profile: rto_initial 200, rto_max 400, assoc_max_retrans 10
est=$(awk 'BEGIN { r = 200; for (i = 0; i <= 10; i++) { t += (r < 400 ? r : 400); r *= 2 } print t }')
for side in A B; do
    wait_log "$side" 'association down' "$RESET_LIMIT"
    td=$(log_time_ms "$side" 'association down')
    log "gateway $side, $((td - t0)) ms after the cut (estimate $est ms): $(log_since "$side" | grep -m1 'association down')"
done
out=$(xfer lan-a expect-reset --connect "$FWD" --within 1 --send 0 2>&1) \
    || fail "new connection while the association is down: $out"
log "new connection while down: $out"
rest=$(awk -v l="$LONG_S" -v e=$(( $(now_ms) - t0 )) 'BEGIN { r = l - e / 1000; if (r < 0) r = 0; printf "%.3f", r }')
sleep "$rest"

log_mark A; log_mark B
t0=$(now_ms)
link_restore wan2
wait_log A 'association up' "$RECOVER_LIMIT"
wait_log B 'association up' 5
log "association up again $(( $(now_ms) - t0 )) ms after wan2 returned"
for i in $(seq 20); do
    rc=0
    run_ns lan-a 20 "$WORK/retry.out" python3 "$XFER" client --connect "$FWD" \
        --up 1M --down 1M --timeout 5 || rc=$?
    [ "$rc" = 0 ] && break
    [ $(( $(now_ms) - t0 )) -lt $((RECOVER_LIMIT * 1000)) ] \
        || fail "no working connection within ${RECOVER_LIMIT}s of wan2 returning: $(cat "$WORK/retry.out")"
    sleep 0.5
done
log "connections work again $(( $(now_ms) - t0 )) ms after wan2 returned"
check_works "over wan2 after the long outage"

log_mark A; log_mark B
link_restore wan1
for side in A B; do
    wait_log "$side" 'primary path: wan2 -> wan1 ' 20
done
p1=$(link_packets wan1); p2=$(link_packets wan2)
check_works "after wan1 returned"
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
log "after wan1 returned: wan1 +$d1 frames, wan2 +$d2 frames"
[ "$d1" -gt "$d2" ] || fail "wan1 not used after it returned (wan1 +$d1, wan2 +$d2 frames)"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "short outage survived; long outage reset the clients, association back over wan2, then wan1"
