#!/usr/bin/env bash
# peer_restart: SIGKILL one gateway in the middle of a transfer.
#  - the client on the surviving side must see a RESET (not a clean EOF,
#    not a hang) within RESET_LIMIT s (timers: hb 500 ms, rto_max 1 s,
#    assoc_max_retrans 6);
#  - while the association is down, new client connections are reset at once;
#  - after the killed gateway restarts, new connections work again within
#    RECOVER_LIMIT s without restarting the survivor.
# Done once killing B (accept side) and once killing A (connect side).
set -euo pipefail
SCENARIO=peer_restart
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
RESET_LIMIT=${RESET_LIMIT:-15}
RECOVER_LIMIT=${RECOVER_LIMIT:-20}

topo_up
pair_up
xfer_server lan-a "$LAN_A:$SRV_PORT"
xfer_server lan-b "$LAN_B:$SRV_PORT"

# check_works: a few transfers both ways through both forwards
check_works() {
    run_ns lan-a 60 "$WORK/check.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
        --up 4M --down 4M --count 4 --parallel 4 --timeout 20 || fail "$1: lan-a -> A forward: $(cat "$WORK/check.out")"
    run_ns lan-b 60 "$WORK/check.out" python3 "$XFER" client --connect "$B_LAN:$FWD_PORT" \
        --up 4M --down 4M --count 4 --parallel 4 --timeout 20 || fail "$1: lan-b -> B forward: $(cat "$WORK/check.out")"
}

# kill_and_restart VICTIM SURVIVOR CLIENT_NS FWD_ADDR
kill_and_restart() {
    local victim=$1 surv=$2 cns=$3 fwd=$4 out rc t0 t1 pc i
    log "=== kill $victim during a transfer from $cns through $surv ($fwd)"
    check_works "before killing $victim"
    # a transfer far longer than the test: it can only end by the kill
    run_ns "$cns" $((RESET_LIMIT + 30)) "$WORK/long-$victim.out" python3 "$XFER" client \
        --connect "$fwd" --up 1T --down 1T --timeout $((RESET_LIMIT + 20)) &
    pc=$!
    _LIB_PIDS+=("$pc")
    sleep 2
    kill -0 $pc 2>/dev/null || fail "long transfer ended before the kill: $(cat "$WORK/long-$victim.out")"
    log_mark "$surv"
    t0=$(now_ms)
    gw_kill "$victim"
    rc=0; wait $pc || rc=$?
    t1=$(now_ms)
    out=$(cat "$WORK/long-$victim.out")
    echo "$out"
    [ $rc = 124 ] && fail "client hung: no reset within $((RESET_LIMIT + 30))s of killing $victim"
    grep -q '^ok=0 failed=0 reset=1 ' <<<"$out" \
        || fail "client through $surv did not see a reset after $victim was killed (want reset=1): $out"
    [ $((t1 - t0)) -le $((RESET_LIMIT * 1000)) ] \
        || fail "client reset took $((t1 - t0)) ms after killing $victim (limit ${RESET_LIMIT}s)"
    log "client reset $((t1 - t0)) ms after SIGKILL of $victim"

    wait_log "$surv" 'association down:' "$RESET_LIMIT"
    log "survivor $surv: $(tail -n +"$((LOGMARK[$surv] + 1))" "$WORK/gw-$surv.log" | grep -m1 'association down:')"
    # association down: a new connection is reset at once
    out=$(xfer "$cns" expect-reset --connect "$fwd" --within 1 --send 0 2>&1) \
        || fail "new connection while the association is down: $out"
    log "new connection while down: $out"

    log_mark "$surv"
    t0=$(now_ms)
    gw_restart "$victim"
    wait_log "$surv" 'association up' "$RECOVER_LIMIT"
    wait_log "$victim" 'association up' 5
    # retry for the remainder of RECOVER_LIMIT: "works within 20 s"
    for i in $(seq 20); do
        run_ns "$cns" 20 "$WORK/retry.out" python3 "$XFER" client --connect "$fwd" \
            --up 1M --down 1M --timeout 5 && break
        out=$(cat "$WORK/retry.out")
        [ $(( $(now_ms) - t0 )) -lt $((RECOVER_LIMIT * 1000)) ] \
            || fail "no working connection through $surv within ${RECOVER_LIMIT}s of restarting $victim: $out"
        sleep 0.5
    done
    log "connections through $surv work again $(( $(now_ms) - t0 )) ms after restarting $victim"
    gw_alive "$surv" || fail "survivor $surv died"
    check_works "after restarting $victim"
}

kill_and_restart B A lan-a "$A_LAN:$FWD_PORT"
kill_and_restart A B lan-b "$B_LAN:$FWD_PORT"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "resets on peer loss, recovery after restart of either side"
