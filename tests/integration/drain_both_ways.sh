#!/usr/bin/env bash
# drain_both_ways (issue 10, test d): SIGTERM to gateway B while 10
# connections run each way (lan-a -> A -> B -> lan-b and lan-b -> B -> A ->
# lan-a).  B sends GOAWAY: A at once resets a new client of lan-a without
# opening a stream (A sent no OPEN after the GOAWAY, B refused none), B's
# own listener is closed; the 20 connections finish within
# drain_timeout_ms, every byte intact; B exits 0 on its own (one SIGTERM),
# after SHUTDOWN.  Then A still takes clients again once a new B is up.
set -euo pipefail
SCENARIO=drain_both_ways
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tc
setup "$@"
RATE=${DRAIN_RATE:-40mbit}

topo_up
CONF_GATEWAY='drain_timeout_ms = 20000' pair_up
xfer_server lan-a "$LAN_A:$SRV_PORT"
xfer_server lan-b "$LAN_B:$SRV_PORT"
for side in A B; do
    in_ns "$side" tc qdisc add dev wan1 root tbf rate "$RATE" burst 64kb latency 300ms
done

log "10 connections each way, 128 KiB up and 1 MiB down each"
log_mark A; log_mark B
run_ns_bg lan-a 120 "$WORK/from-a.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 128K --down 1M --count 10 --parallel 10 --seed 1 --timeout 60
pa=$BG_PID
run_ns_bg lan-b 120 "$WORK/from-b.out" python3 "$XFER" client --connect "$B_LAN:$FWD_PORT" \
    --up 128K --down 1M --count 10 --parallel 10 --seed 2 --timeout 60
pb=$BG_PID
# Open means the exit gateway has connected to the target: a client that
# is only accepted has an OPEN in flight, which may cross B's GOAWAY (and
# is then refused with reason 10, as the protocol says) on a loaded machine.
wait_log_count A 'stream [0-9]+: connected to target ' 10 30
wait_log_count B 'stream [0-9]+: connected to target ' 10 30

log "SIGTERM to B"
log_mark A; log_mark B
kill -TERM "${GW_PID[B]}"
wait_log B 'GOAWAY sent' 5
wait_log A 'peer site-b is draining \(GOAWAY\)' 5
kill -0 "$pa" 2>/dev/null && kill -0 "$pb" 2>/dev/null ||
    fail "the transfers had ended before the drain began (slow the link: DRAIN_RATE)"
# A new client of lan-a: reset at once by A, which opens no stream.
xfer lan-a expect-reset --connect "$A_LAN:$FWD_PORT" --within 2 >"$WORK/late-a.out" ||
    fail "a client of A during B's drain was not reset quickly: $(cat "$WORK/late-a.out")"
# And one of lan-b: B's listener is closed.
xfer lan-b expect-reset --connect "$B_LAN:$FWD_PORT" --within 2 --allow-refused >"$WORK/late-b.out" ||
    fail "a client of B during its drain was not refused: $(cat "$WORK/late-b.out")"
log_since A | grep -aq 'the peer gateway is draining (GOAWAY); resetting client' ||
    fail "A did not log the client it reset for the GOAWAY"
log_since A | grep -aqE 'stream [0-9]+: client .* on forward web$' &&
    fail "A opened a stream toward the draining B: $(log_since A | grep -a ': client ')"
kill -USR1 "${GW_PID[A]}"
wait_log A "status: drain: not draining, peer draining \(GOAWAY\); 1 clients reset for the peer's GOAWAY" 5
log_since B | grep -aq "refusing the peer's OPEN" &&
    fail "B had to refuse an OPEN of A: A did not stop opening at once"

ra=0; rb=0
wait "$pa" || ra=$?
wait "$pb" || rb=$?
xfer_check "$ra" "$WORK/from-a.out" "10 connections lan-a -> lan-b during the drain"
xfer_check "$rb" "$WORK/from-b.out" "10 connections lan-b -> lan-a during the drain"

# B exits by itself: no second signal.
pid=${GW_PID[B]}
end=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "B did not exit within 30 s of SIGTERM"
    sleep 0.1
done
rc=0; wait "$pid" || rc=$?
GW_PID[B]=""
[ "$rc" = 0 ] || fail "B exited with status $rc after its drain (want 0)"
log_since B | grep -aq 'still open after' && fail "B had to reset connections at the drain timeout"
log_since B | grep -aq 'association closed' || fail "B did not close the association (SHUTDOWN)"

log "a new B: the GOAWAY no longer holds"
log_mark A
gw_start B "$WORK/b.conf"
wait_log A 'association up' 30
xfer lan-a client --connect "$A_LAN:$FWD_PORT" --up 64K --down 64K --timeout 30 >"$WORK/after.out" ||
    fail "A did not carry a client to the new B: $(tail -n 3 "$WORK/after.out")"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "drain: the peer stopped opening at once, 20 connections intact, exit 0"
