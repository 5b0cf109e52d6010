#!/usr/bin/env bash
# wan_tune.sh: one emulated WAN link, direct TCP cubic against gateway pairs
# with different settings, side by side in one run (issue 14 items 2-4).
#
#   sudo bench/wan_tune.sh SCTPGW WANSPEC 'LABEL|[sctp] lines|[gateway] lines' ...
#
# WANSPEC is topo_up --wan's ('1:25:200:0:1000' = 50 ms RTT, 200 Mbit/s,
# no loss, 1000-packet queue). Each setting gets a fresh gateway pair
# (CONF_PROFILE=default: only the keys given), and is measured with iperf3
# for T (10) s: 1 connection, 8 connections (-P 8), reverse (-R), the
# receiver's Mbit/s; then the T3 expiries and fast retransmissions of both
# gateways from their SIGUSR1 dumps. Lines inside a setting are separated
# by ';'. ROUNDS (1) repeats everything; FIGS ("1 8 R") picks the
# figures; DIRECT ("cubic") the direct TCP congestion controls (e.g.
# "cubic bbr"). LOGS=DIR keeps the gateways' logs. Output: one line per figure (8 connections: with their
# fairness, most / least bytes per connection).
set -euo pipefail
SCENARIO=wan_tune
. "$(dirname "$0")/../tests/integration/lib.sh"
need_root
need_cmd iperf3 jq
setup "$1"; shift
WAN=$1; shift
T=${T:-10}
ROUNDS=${ROUNDS:-1}
FIGS=${FIGS:-"1 8 R"}
DIRECT=${DIRECT:-cubic}
topo_up --wan "$WAN"
bg_ns B "$WORK/iperf-direct.log" iperf3 -s -p 5201
bg_ns lan-b "$WORK/iperf-pair.log" iperf3 -s -p "$SRV_PORT"
wait_listen B 5201; wait_listen lan-b "$SRV_PORT"

# ip NS HOST PORT ARGS... : receiver Mbit/s of one iperf3 run
ip3() {
    local ns=$1 host=$2 port=$3; shift 3
    local out="$WORK/ip3.json" rc=0
    run_ns "$ns" $((T + 40)) "$out" iperf3 -c "$host" -p "$port" -t "$T" -J "$@" || rc=$?
    if [ $rc -ne 0 ]; then echo "fail"; return 0; fi
    jq -r '.end.sum_received.bits_per_second / 1e5 | floor / 10' "$out" 2>/dev/null || echo "fail"
}

# fairness FIG: for the 8-connection figure, the most / the least bytes
# one connection delivered in the last run (1.00: an even share)
fairness() {
    [ "$1" = 8 ] || return 0
    echo "  fair $(jq -r '[.end.streams[].receiver.bytes] | "\(max) \(min)"' "$WORK/ip3.json" 2>/dev/null |
        awk '$2 > 0 { printf "%.2f", $1 / $2; next } { printf "-" }')"
}

fig_args() { case $1 in 1) ;; 8) echo "-P 8" ;; R) echo "-R" ;; esac; }

counters() { # side: "t3 fast" since start, from a fresh status dump
    local side=$1 line
    kill -USR1 "${GW_PID[$side]}"; sleep 0.5
    line=$(grep 'T3 timeouts' "$WORK/gw-$side.log" | tail -n1)
    echo "t3=$(sed -n 's/.*T3 timeouts \([0-9]*\) (zero-window probes \([0-9]*\)).*/\1(probes \2)/p' <<<"$line") rtx=$(sed -n 's/.*retransmitted \([0-9]*\) (fast \([0-9]*\)).*/\1\/\2/p' <<<"$line") win=$(sed -n 's/.*windows reserve \([0-9]*\) .*/\1/p' <<<"$line") $(sed -n 's/.*primary \(cwnd [0-9]* mtu [0-9]* srtt [0-9]* ms rto [0-9]*\) ms.*/\1/p' <<<"$line" | tr -d ' ') $(sed -n 's/.*buffers send \([0-9]*\) receive \([0-9]*\) KiB.*/buf=\1\/\2KiB/p' <<<"$line")"
}

cpu_s() { # side: CPU seconds of the gateway so far
    awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/${GW_PID[$1]}/stat"
}
# drained: wait (at most 120 s) until both gateways carry no connection,
# so that the next figure does not start beside the previous one's tail
# (at 1% loss 8 connections can take tens of seconds to finish sending)
drained() {
    local side n v deadline=$((SECONDS + 120))
    while [ $SECONDS -lt $deadline ]; do
        n=0
        for side in A B; do
            kill -USR1 "${GW_PID[$side]}" 2>/dev/null || return 0 # gone: nothing to wait for
        done
        sleep 0.5
        for side in A B; do
            v=$(grep -o 'status: association [^,]*, peer [^,]*, engine [^,]*, [0-9]* connections' \
                "$WORK/gw-$side.log" | tail -n1 | sed 's/.* \([0-9]*\) connections/\1/')
            n=$((n + ${v:-1})) # no status line yet: not known to be drained
        done
        [ "$n" -eq 0 ] && return 0
        sleep 1
    done
    echo "  (still $n connections after 120 s; the next figure runs beside them)"
}
qdrops() { # emulator queue drops so far, a>b/b>a
    echo "$(wan_counter 1 'a>b' drop_queue)/$(wan_counter 1 'b>a' drop_queue)"
}

for r in $(seq "$ROUNDS"); do
    for cc in $DIRECT; do
        for f in $FIGS; do
            # shellcheck disable=SC2046
            echo "round $r direct-$cc fig $f: $(ip3 A "$(wan_ip B 1)" 5201 -C "$cc" $(fig_args "$f")) Mbit/s"
        done
    done
    for s in "$@"; do
        IFS='|' read -r label sctp gw <<<"$s"
        CONF_PROFILE=default CONF_LOG_LEVEL=info CONF_SCTP=${sctp//;/$'\n'} \
            CONF_GATEWAY=${gw//;/$'\n'} pair_up
        for f in $FIGS; do
            # shellcheck disable=SC2046
            v=$(ip3 lan-a "$A_LAN" "$FWD_PORT" $(fig_args "$f"))
            echo "round $r $label fig $f: $v Mbit/s$(fairness "$f")  A: $(counters A) cpu=$(cpu_s A)s  B: $(counters B) cpu=$(cpu_s B)s  queue drops $(qdrops)  load $(cut -d' ' -f1 /proc/loadavg)"
            drained
        done
        gw_stop A || true; gw_stop B || true
        # LOGS=DIR keeps each setting's gateway logs there
        if [ -n "${LOGS:-}" ]; then
            cp "$WORK/gw-A.log" "$LOGS/$label-r$r-A.log"; cp "$WORK/gw-B.log" "$LOGS/$label-r$r-B.log"
        fi
    done
done
pass "done"
