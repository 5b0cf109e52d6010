#!/usr/bin/env bash
# fd_exhaustion (issue 12, item 2; test b): a gateway out of file
# descriptors refuses new work cleanly, stays near idle, and serves again
# once descriptors free up. Both roles:
#   entry (gateway A, its clients' sockets): clients beyond the limit are
#     reset at once (reserve descriptor), not left hanging in the backlog;
#   exit (gateway B, its target sockets): an OPEN it cannot connect is
#     refused (RST "resources"), so the client on A is reset.
# While exhausted, with clients still knocking, the gateway's CPU (utime +
# stime from /proc/PID/stat over 3 s) must stay below 10% of a core.
# The descriptor limit is lowered on the running gateway with prlimit.
set -euo pipefail
SCENARIO=fd_exhaustion
. "$(dirname "$0")/lib.sh"
need_root
need_cmd prlimit
setup "$@"
FLOW="$SRCDIR/tests/tools/flow.py"
HOLD=${FD_HOLD:-300}   # clients that try to hold a connection
SPARE=${FD_SPARE:-100} # descriptors left to the gateway above what it uses idle
CPU_MAX_PCT=10

topo_up
CONF_LOG_LEVEL=info CONF_GATEWAY=$'conn_window = 64k' pair_up
bg_ns lan-b "$WORK/flow-server.log" python3 "$FLOW" server --listen "$LAN_B:$SRV_PORT"
wait_listen lan-b "$SRV_PORT"

nfd() { ls "/proc/${GW_PID[$1]}/fd" | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${GW_PID[$1]}/stat"; }
HZ=$(getconf CLK_TCK)

# one_side SIDE WHAT: lower SIDE's limit, hold HOLD clients, check, release.
one_side() {
    local side=$1 what=$2 n lim soft out open reset t0 t1 c0 c1 pct
    n=$(nfd "$side")
    lim=$((n + SPARE))
    # only the soft limit: raising a hard limit again needs CAP_SYS_RESOURCE
    soft=$(prlimit --pid "${GW_PID[$side]}" --nofile --output SOFT --noheadings)
    prlimit --pid "${GW_PID[$side]}" --nofile="$lim:"
    log "$what: gateway $side uses $n descriptors; limit now $lim; $HOLD clients try to hold a connection"
    rm -f "$WORK/ready" "$WORK/release"
    run_ns_bg lan-a 90 "$WORK/hold-$side.out" python3 "$FLOW" many --connect "$A_LAN:$FWD_PORT" \
        --count "$HOLD" --parallel-connects 64 --ready "$WORK/ready" --release "$WORK/release" --timeout 30
    local hold_pid=$BG_PID i
    for i in $(seq 200); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
    [ -e "$WORK/ready" ] || fail "$what: the $HOLD clients were not all answered (open or refused) within 20 s: $(tail -3 "$WORK/hold-$side.out")"
    out=$(grep '^open=' "$WORK/hold-$side.out")
    open=${out#open=}; open=${open%% *}
    log "$what: $out; gateway $side holds $(nfd "$side") descriptors"
    [ "$open" -ge $((SPARE / 4)) ] || fail "$what: only $open connections open below the limit"
    [ "$open" -lt "$HOLD" ] || fail "$what: all $HOLD open: the limit did not bite"

    # Exhausted: clients keep coming; each must be reset, and the
    # gateway must stay near idle meanwhile.
    c0=$(cpu_ticks "$side"); t0=$(now_ms)
    for i in 1 2 3; do
        out=$(xfer lan-a expect-reset --connect "$A_LAN:$FWD_PORT" --within 3 --send 0 2>&1) \
            || fail "$what: a new client while exhausted was not reset: $out"
    done
    sleep 1
    c1=$(cpu_ticks "$side"); t1=$(now_ms)
    pct=$(( (c1 - c0) * 1000 * 100 / HZ / (t1 - t0) ))
    log "$what: while exhausted: 3 new clients reset; gateway $side CPU $pct% of a core over $((t1 - t0)) ms"
    [ "$pct" -lt "$CPU_MAX_PCT" ] || fail "$what: gateway $side used $pct% of a core while exhausted (max $CPU_MAX_PCT%)"
    grep -Eq 'out of descriptors|Too many open files' "$WORK/gw-$side.log" \
        || fail "$what: gateway $side logged nothing about running out of descriptors"

    # Free the descriptors: service resumes.
    touch "$WORK/release"
    wait "$hold_pid" || true
    log "$what: held clients released: $(grep '^ok=' "$WORK/hold-$side.out")"
    prlimit --pid "${GW_PID[$side]}" --nofile="$soft:"
    local rc=0
    run_ns lan-a 30 "$WORK/after-$side.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
        --up 1M --down 1M --count 4 --parallel 4 --timeout 20 || rc=$?
    xfer_check "$rc" "$WORK/after-$side.out" "$what: transfer after the descriptors came back"
    log "$what: service resumed: $(grep '^ok=' "$WORK/after-$side.out")"
}

one_side A "entry"
one_side B "exit"
grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "out of descriptors on entry and exit: new clients reset, CPU < $CPU_MAX_PCT%, service resumes"
