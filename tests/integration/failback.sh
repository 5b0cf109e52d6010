#!/usr/bin/env bash
# failback: two paths (wan1 priority 10, wan2 priority 20), fast profile,
# failback_hold_ms 2000.  wan1 is cut (both gateways move to wan2), then
# restored while a transfer runs both ways:
#  - while wan1 is reachable again but the hold-down runs, the data stays on
#    wan2 (wan1 carries little more than heartbeats);
#  - each gateway logs 'primary path: wan2 -> wan1' no earlier than
#    failback_hold_ms after its 'path wan1: ... -> reachable' line (and not
#    absurdly later);
#  - afterwards the data is back on wan1: during a later transfer wan1's
#    frame count grows while wan2's stays nearly flat;
#  - every transfer intact, nothing reset, the association never goes down.
set -euo pipefail
SCENARIO=failback
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
HOLD_MS=2000          # failback_hold_ms of the fast profile
LATE_MS=3000          # fail-back may come at most this long after the hold

topo_up --links 2
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
FWD="$A_LAN:$FWD_PORT"

# a short warm-up transfer: must run over wan1
p1=$(link_packets wan1); p2=$(link_packets wan2)
rc=0
run_ns lan-a 60 "$WORK/warm.out" python3 "$XFER" client --connect "$FWD" \
    --up 32M --down 32M --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/warm.out" "warm-up transfer"
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
log "warm-up: wan1 +$d1 frames, wan2 +$d2 frames"
[ "$d1" -gt $((10 * d2)) ] || fail "warm-up did not run over wan1 (wan1 +$d1, wan2 +$d2 frames)"

# cut wan1, both sides move to wan2
log_mark A; log_mark B
link_cut wan1 down
for side in A B; do wait_log "$side" 'primary path: wan1 -> wan2 ' 10; done
log "both gateways on wan2"

# a transfer that outlives restore + hold-down + a while (~25 s here)
log_mark A; log_mark B
run_ns_bg lan-a 150 "$WORK/long.out" python3 "$XFER" client --connect "$FWD" \
    --up 512M --down 512M --timeout 30
pc=$BG_PID
sleep 1
kill -0 "$pc" 2>/dev/null || fail "transfer ended too early: $(cat "$WORK/long.out")"
link_sample_start
link_restore wan1
for side in A B; do wait_log "$side" 'path wan1: [a-z-]+ -> reachable ' 10; done
for side in A B; do wait_log "$side" 'primary path: wan2 -> wan1 ' $(( (HOLD_MS + LATE_MS) / 1000 + 5 )); done
link_sample_stop
kill -0 "$pc" 2>/dev/null || fail "the transfer ended before the fail-back: $(cat "$WORK/long.out")"
hold_down_quiet 1000
failback_after_hold "$HOLD_MS" "$LATE_MS"
# the rest of the running transfer: on wan1 now
sleep 0.5
if kill -0 "$pc" 2>/dev/null; then
    a1=$(link_packets wan1); a2=$(link_packets wan2)
    sleep 2
    b1=$(link_packets wan1); b2=$(link_packets wan2)
    log "after fail-back (2 s, same transfer): wan1 +$((b1 - a1)) frames, wan2 +$((b2 - a2)) frames"
fi
rc=0; wait "$pc" || rc=$?
cat "$WORK/long.out" >&2
xfer_check "$rc" "$WORK/long.out" "transfer across the restore and fail-back"

# a later transfer: wan1 grows, wan2 nearly flat (heartbeats only)
p1=$(link_packets wan1); p2=$(link_packets wan2)
rc=0
run_ns lan-a 60 "$WORK/later.out" python3 "$XFER" client --connect "$FWD" \
    --up 64M --down 64M --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/later.out" "later transfer"
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
log "later transfer (64M each way): wan1 +$d1 frames, wan2 +$d2 frames"
[ "$d1" -gt 20000 ] || fail "later transfer: wan1 carried only $d1 frames"
[ "$d2" -le $((d1 / 50 + 100)) ] || fail "later transfer: wan2 still carries traffic (+$d2 frames vs wan1 +$d1)"

for side in A B; do
    if grep -q 'association down' "$WORK/gw-$side.log"; then
        fail "association went down on $side: $(grep -m1 'association down' "$WORK/gw-$side.log")"
    fi
done
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "fail-back to wan1 after the ${HOLD_MS} ms hold-down on both gateways; later traffic on wan1"
