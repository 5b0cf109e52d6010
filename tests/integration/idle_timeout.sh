#!/usr/bin/env bash
# idle_timeout (issue 12, item 9): with [gateway] idle_timeout_s = 2 on
# gateway A, a connection that moves no byte is reset (the client sees a
# reset) between 2 and 3.5 s after it opened, while a connection that sends
# one byte every 0.5 s for 5 s is left alone; the status dump counts the
# reset. The target is tests/tools/flood.c's holding server.
set -euo pipefail
SCENARIO=idle_timeout
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
FLOOD_TOOL=${FLOOD_TOOL:-$(dirname "$SCTPGW")/../tests/flood}
[ -x "$FLOOD_TOOL" ] || fail "flood tool not built at '$FLOOD_TOOL' (set FLOOD_TOOL)"

topo_up
CONF_GATEWAY='idle_timeout_s = 2' write_gw_conf A "$WORK/a.conf" "hold $A_LAN:8090 $LAN_B:9100"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
bg_ns lan-b "$WORK/hold-server.log" "$FLOOD_TOOL" serve "$LAN_B:9100"
wait_listen lan-b 9100

run_ns_bg lan-a 30 "$WORK/active.out" python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], 8090))
try:
    for i in range(10):
        c.sendall(b"x"); time.sleep(0.5)
    c.sendall(b"x"); time.sleep(0.2); c.sendall(b"x")
    print("alive after 5.5 s")
except OSError as e:
    print("FAIL: %s" % e); sys.exit(1)' "$A_LAN"
active=$BG_PID
out=$(xfer lan-a expect-reset --connect "$A_LAN:8090" --within 3.5 --min 2 --send 0 2>&1) \
    || fail "idle connection not reset between 2 and 3.5 s: $out"
log "idle connection: $out"
wait "$active" || fail "active connection: $(cat "$WORK/active.out")"
log "active connection: $(cat "$WORK/active.out")"
kill -USR1 "${GW_PID[A]}"
wait_log A 'reset by idle_timeout_s 2' 5
grep -q ' 1 reset by idle_timeout_s 2' "$WORK/gw-A.log" || fail "status dump does not count 1 idle reset: $(grep 'status: limits' "$WORK/gw-A.log")"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "idle connection reset after idle_timeout_s, active one kept"
