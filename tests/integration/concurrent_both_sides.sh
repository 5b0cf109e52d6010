#!/usr/bin/env bash
# concurrent_both_sides: 2 x CONC_COUNT (100) concurrent connections of random
# sizes (0..2 MiB each way), opened from both sites at once: lan-a through
# A's forward to a server in lan-b, and lan-b through B's forward to a
# server in lan-a.  Both gateways open streams simultaneously; every
# connection must be intact.
set -euo pipefail
SCENARIO=concurrent_both_sides
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
COUNT=${CONC_COUNT:-100}
MAX=${CONC_MAX:-2097152}
LIMIT=${CONC_TIMEOUT:-150}

topo_up
pair_up
xfer_server lan-a "$LAN_A:$SRV_PORT"
xfer_server lan-b "$LAN_B:$SRV_PORT"

log "$COUNT connections from each side at once, sizes 0..$MAX each way"
run_ns lan-a "$LIMIT" "$WORK/from-a.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --count "$COUNT" --parallel "$COUNT" --random-sizes "$MAX" --seed 11 --timeout 60 &
pa=$!
run_ns lan-b "$LIMIT" "$WORK/from-b.out" python3 "$XFER" client --connect "$B_LAN:$FWD_PORT" \
    --count "$COUNT" --parallel "$COUNT" --random-sizes "$MAX" --seed 22 --timeout 60 &
pb=$!
_LIB_PIDS+=("$pa" "$pb")
ra=0; rb=0
wait $pa || ra=$?
wait $pb || rb=$?
echo "from lan-a via A: $(grep '^ok=' "$WORK/from-a.out" || true)"
echo "from lan-b via B: $(grep '^ok=' "$WORK/from-b.out" || true)"
if [ $ra != 0 ] || [ $rb != 0 ]; then
    echo "--- client output from lan-a (exit $ra) ---" >&2; tail -n 20 "$WORK/from-a.out" >&2
    echo "--- client output from lan-b (exit $rb) ---" >&2; tail -n 20 "$WORK/from-b.out" >&2
    fail "not every connection was intact (exit codes: from lan-a $ra, from lan-b $rb; 124 = timed out after ${LIMIT}s)"
fi

# the association must have survived all of it
gw_alive A || fail "gateway A died"
gw_alive B || fail "gateway B died"
if grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log"; then
    fail "association went down during the test"
fi
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "2 x $COUNT concurrent connections intact"
