#!/usr/bin/env bash
# flow_stalled_reader: one connection whose client stops reading must not
# slow down the others (per-connection credit, issue 3).
#
# Four bulk downloads (lan-b server -> B -> A -> lan-a client) are timed
# three times in one run: without a stalled connection (phase 1), while a
# fifth connection's client reads nothing at all (phase 2), and again after
# that client has resumed and finished (phase 3). Phase 2 must keep at
# least STALL_MIN_RATIO of the mean of phases 1 and 3. Without
# per-connection credit phase 2 does not finish at all (the association
# stops reading), so the default minimum, 0.60, is far from both that
# failure and the ~1.0 a working gateway measures, and the noise of two
# cores shared with the rest of the test command (0.79-1.01 seen in one
# hour) does not reach it; a quiet machine may ask for more
# (STALL_MIN_RATIO=0.9).
#
# Meanwhile gateway A, which holds what the stalled client does not read,
# must stay under 5 connections x conn_window + FIXED_MIB (19 MiB: the
# binary and its libraries, usrsctp with its 2 MiB send and receive buffers
# and its pools; an idle gateway is ~13 MiB resident, 2.6 MiB of it
# Debian's libmicrohttpd with GnuTLS, p11-kit, nettle and gmp) of resident
# memory (peak, VmHWM), in every phase; and the stalled download, once
# read, must be intact (SHA-256). The bound is about what a connection
# holds for its client, so the windows are fixed here (conn_window_max =
# conn_window): grown windows (window.h) let each fast download hold up to
# its grown window at A, which the shared cores' scheduling decides (the
# bound was missed at 30 MiB that way); what growth may reserve is bounded
# by memory_limit, which flow_memory_limit tests.
set -euo pipefail
SCENARIO=flow_stalled_reader
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
EACH=${STALL_EACH:-64M}          # per bulk download and phase
STALLED=${STALL_BYTES:-64M}      # what the stalled client asks for
MIN_RATIO=${STALL_MIN_RATIO:-0.60}
FIXED_MIB=19
WINDOW=262144                    # the default conn_window (256k)
FLOW="$SRCDIR/tests/tools/flow.py"

topo_up
CONF_LOG_LEVEL=info CONF_GATEWAY="conn_window_max = $WINDOW" pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
log "gateway A resident at start: $(gw_rss_kib A) KiB"

# phase N: four parallel downloads of EACH; prints bytes per second
phase() {
    local out="$WORK/phase$1.out" rc=0 line
    run_ns lan-a 120 "$out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
        --up 0 --down "$EACH" --count 4 --parallel 4 --seed "$1" --timeout 60 || rc=$?
    xfer_check "$rc" "$out" "phase $1"
    line=$(grep '^ok=' "$out")
    awk -v b="$(summary_field "$line" bytes_down)" -v s="$(summary_field "$line" seconds)" \
        'BEGIN { printf "%.0f\n", b / s }'
}

# round N: phases 1-3 as above with a new stalled connection; prints the
# ratio. Checks the stalled download and gateway A's peak memory.
round() {
    local n=$1 r1 r2 r3 rc=0 hwm ratio
    r1=$(phase "${n}1")
    log "round $n, phase 1 (no stalled connection): $((r1 / 1000000)) MB/s"
    rm -f "$WORK/stall.ready" "$WORK/stall.release"
    log "round $n: a client asks for $STALLED and reads nothing"
    run_ns_bg lan-a 300 "$WORK/stall$n.out" python3 "$FLOW" stall --connect "$A_LAN:$FWD_PORT" \
        --down "$STALLED" --seed "$n" --ready "$WORK/stall.ready" --release "$WORK/stall.release"
    local stall_pid=$BG_PID
    for _ in $(seq 100); do [ -e "$WORK/stall.ready" ] && break; sleep 0.1; done
    [ -e "$WORK/stall.ready" ] || fail "the stalled client never sent its request"
    sleep 2 # its window fills at A; B runs out of credit and stops reading the server

    r2=$(phase "${n}2")
    log "round $n, phase 2 (one connection stalled): $((r2 / 1000000)) MB/s"
    hwm=$(gw_rss_kib A VmHWM)
    echo "gateway A peak resident memory: $hwm KiB (bound: 5 x $((WINDOW / 1024)) KiB + $FIXED_MIB MiB = $BOUND KiB)" >&2
    [ "$hwm" -le "$BOUND" ] || fail "gateway A peaked at $hwm KiB, over the bound of $BOUND KiB"

    touch "$WORK/stall.release"
    wait "$stall_pid" || rc=$?
    cat "$WORK/stall$n.out" >&2
    [ "$rc" = 0 ] || fail "the stalled download was not intact after the client resumed (exit $rc)"
    grep -q '^sha256 ok' "$WORK/stall$n.out" || fail "stalled download: $(cat "$WORK/stall$n.out")"

    r3=$(phase "${n}3")
    log "round $n, phase 3 (stalled connection done): $((r3 / 1000000)) MB/s"
    ratio=$(awk -v a="$r1" -v b="$r2" -v c="$r3" 'BEGIN { printf "%.3f", b / ((a + c) / 2) }')
    echo "round $n: throughput with a stalled connection / without: $ratio" \
        "(phase 1 $((r1 / 1000000)) MB/s, phase 2 $((r2 / 1000000)) MB/s, phase 3 $((r3 / 1000000)) MB/s)" >&2
    echo "$ratio"
}

BOUND=$((5 * WINDOW / 1024 + FIXED_MIB * 1024))
ratio=$(round 1)
echo "throughput with a stalled connection / without: $ratio (minimum $MIN_RATIO)"
awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r >= m) }' ||
    fail "the stalled connection slowed the others: ratio $ratio < $MIN_RATIO"
hwm=$(gw_rss_kib A VmHWM)
echo "gateway A peak resident memory over all phases: $hwm KiB (bound $BOUND KiB)"
[ "$hwm" -le "$BOUND" ] || fail "gateway A peaked at $hwm KiB after phase 3, over the bound of $BOUND KiB"
grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "ratio $ratio >= $MIN_RATIO, peak $hwm KiB <= $BOUND KiB, stalled download intact"
