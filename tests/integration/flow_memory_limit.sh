#!/usr/bin/env bash
# flow_memory_limit: when memory_limit has no room for another connection's
# window, the next client is reset (not accepted-then-closed), one warning
# line says why, the SIGUSR1 status dump counts it, and the connections
# already open complete intact. Once they are gone, new clients are served.
#
# Gateway A: conn_window 256k, memory_limit 1m: room for exactly 4
# connections. The 4 are downloads whose clients do not read until the
# test says so, so they are surely open when the 5th client arrives.
set -euo pipefail
SCENARIO=flow_memory_limit
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
FLOW="$SRCDIR/tests/tools/flow.py"
HELD=4

topo_up
write_gw_conf B "$WORK/b.conf"
# Fixed windows (conn_window_max = conn_window): this is about the
# reservation of whole windows. With growth, the first held connection may
# grow into a second window before the fourth opens (python's start-up on a
# loaded machine spaces them by 0.5 s), and the fourth is refused as it
# should be; the unit test credit__busy_window__leaves_room_for_a_new_connection
# covers growth against memory_limit.
CONF_GATEWAY=$'conn_window = 256k\nconn_window_max = 256k\nmemory_limit = 1m' write_gw_conf A "$WORK/a.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
wait_log A 'memory_limit 1048576 bytes holds 4 connections' 1
xfer_server lan-b "$LAN_B:$SRV_PORT"

pids=()
for i in $(seq "$HELD"); do
    run_ns_bg lan-a 120 "$WORK/held$i.out" python3 "$FLOW" stall --connect "$A_LAN:$FWD_PORT" \
        --down 64M --seed "$i" --ready "$WORK/held$i.ready" --release "$WORK/release"
    pids+=("$BG_PID")
done
for i in $(seq "$HELD"); do
    for _ in $(seq 100); do [ -e "$WORK/held$i.ready" ] && break; sleep 0.1; done
    [ -e "$WORK/held$i.ready" ] || fail "held connection $i never sent its request"
done
sleep 1 # their OPEN_OKs are back: all 4 windows are reserved at A

log_mark A
out=$(xfer lan-a expect-reset --connect "$A_LAN:$FWD_PORT" --within 5) ||
    fail "the client over memory_limit was not reset: $out"
echo "over the limit: $out"
wait_log A 'memory_limit reached: 4 connections reserve 1048576 of 1048576 bytes; resetting client' 5
kill -USR1 "${GW_PID[A]}"
wait_log A 'windows reserve 1048576 of memory_limit 1048576 bytes, 1 connections refused at memory_limit' 5

touch "$WORK/release"
for i in $(seq "$HELD"); do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    cat "$WORK/held$i.out"
    [ "$rc" = 0 ] || fail "held connection $i was not intact (exit $rc)"
done

# The reservations are released with the connections: served again.
rc=0
run_ns lan-a 60 "$WORK/after.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 1M --down 1M --count "$HELD" --parallel "$HELD" || rc=$?
xfer_check "$rc" "$WORK/after.out" "after the limit"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "5th client reset at memory_limit, $HELD held connections intact, served again after"
