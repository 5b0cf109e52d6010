#!/usr/bin/env bash
# bench/profile.sh - where a gateway pair spends its CPU during a bulk transfer.
#
#   sudo bench/profile.sh [PATH-TO-sctpgw]             (see bench/README.md)
#
# Same testbed and gateway configuration as bench/run.sh's sctpgw column.
# One iperf3 transfer lan-a -> lan-b through the pair (PROFILE_TIME s,
# PROFILE_PARALLEL connections) while `perf record` samples both gateways
# (software clock: this machine has no hardware counters), then prints the
# top PROFILE_TOP symbols of each gateway, self time, and the throughput.
# PROFILE_LOAD=cps profiles connection churn instead (bench/tcpprobe.c cps:
# 8 threads open, exchange 32 bytes, close, for PROFILE_TIME s).
# PROFILE_TOOL=callgrind instead runs both gateways under valgrind's
# callgrind (instruction counts, exact but ~50x slower: the transfer is
# slow and only the shares matter) and prints callgrind_annotate's top.
# PROFILE_OUT=DIR keeps perf.data / callgrind.out files there.
set -euo pipefail
SCENARIO=bench-profile
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
need_root
TOOL=${PROFILE_TOOL:-perf}
case "$TOOL" in
    perf) need_cmd perf iperf3 ;;
    callgrind) need_cmd valgrind callgrind_annotate iperf3 ;;
    *) echo "PROFILE_TOOL must be perf or callgrind" >&2; exit 2 ;;
esac
bin=${1:-${SCTPGW:-$HERE/../build/src/sctpgw}}
setup "$bin"
T=${PROFILE_TIME:-10}
PAR=${PROFILE_PARALLEL:-1}
LOAD=${PROFILE_LOAD:-bulk}
case "$LOAD" in bulk|cps) ;; *) echo "PROFILE_LOAD must be bulk or cps" >&2; exit 2 ;; esac
TOP=${PROFILE_TOP:-25}
OUT=${PROFILE_OUT:-$WORK}
mkdir -p "$OUT"

topo_up
bg_ns lan-b "$WORK/iperf3-server.log" iperf3 -s -p 5201
cc -O2 -std=gnu11 -D_GNU_SOURCE -o "$WORK/tcpprobe" "$HERE/tcpprobe.c" -lpthread
bg_ns lan-b "$WORK/echo-server.log" "$WORK/tcpprobe" echo "$LAN_B:5202"
for ns in "$NS_LAN_A" "$NS_A" "$NS_B" "$NS_LAN_B"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
done
wait_listen lan-b 5201

if [ "$TOOL" = callgrind ]; then
    # gw_start runs $SCTPGW -c FILE: point it at a wrapper
    real=$SCTPGW
    SCTPGW="$WORK/sctpgw-callgrind"
    cat >"$SCTPGW" <<EOF
#!/bin/sh
side=\$(basename "\$2" .conf)
exec valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.\$side.out" "$real" "\$@"
EOF
    chmod +x "$SCTPGW"
fi
CONF_PROFILE=default CONF_LOG_LEVEL=info CONF_NO_DEFAULT_FWD=1 \
    write_gw_conf A "$WORK/a.conf" "bulk $A_LAN:6301 $LAN_B:5201" "echo $A_LAN:6302 $LAN_B:5202"
CONF_PROFILE=default CONF_LOG_LEVEL=info CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/b.conf"
# PROFILE_GATEWAY / PROFILE_SCTP: extra "key = value" lines (separated by
# ';') for the [gateway] / [sctp] sections of both gateways, to try a setting
for f in "$WORK/a.conf" "$WORK/b.conf"; do
    [ -n "${PROFILE_GATEWAY:-}" ] && sed -i "s/^\[gateway\]$/&\n${PROFILE_GATEWAY//;/\\n}/" "$f"
    [ -n "${PROFILE_SCTP:-}" ] && sed -i "s/^\[sctp\]$/&\n${PROFILE_SCTP//;/\\n}/" "$f"
done
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
wait_listen A 6301 60
sleep 2

perf_pids=()
if [ "$TOOL" = perf ]; then
    for side in A B; do
        perf record -q -F 1999 -g -o "$OUT/perf.$side.data" -p "${GW_PID[$side]}" \
            >"$WORK/perf-$side.log" 2>&1 &
        perf_pids+=("$!")
        _LIB_PIDS+=("$!")
    done
    sleep 0.5
fi
# udp_drops : datagrams the kernel dropped at a full UDP receive buffer in
# the two gateway namespaces (lost SCTP packets: retransmissions follow)
udp_drops() {
    local side n t=0
    for side in A B; do
        n=$(in_ns "$side" cat /proc/net/snmp | awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }')
        t=$((t + n))
    done
    echo "$t"
}
drops0=$(udp_drops)
# thread_cpu PID : "name ticks switches" for each thread of PID (utime+stime,
# voluntary+involuntary context switches), in /proc's order
thread_cpu() {
    local t f sw
    for t in /proc/"$1"/task/*; do
        f=$(cat "$t/stat" 2>/dev/null) || continue
        sw=$(awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' "$t/status" 2>/dev/null)
        local name=${f#*(}; name=${name%%)*}
        f=${f##*) }
        # shellcheck disable=SC2086
        set -- $f
        printf '%s %s %s\n' "${name// /_}" $(( ${12} + ${13} )) "$sw"
    done
}
for side in A B; do thread_cpu "${GW_PID[$side]}" >"$WORK/threads0.$side"; done
t_start=$(date +%s%N)
if [ "$LOAD" = cps ]; then
    run_ns lan-a $((T * 3 + 60)) "$WORK/cps.out" "$WORK/tcpprobe" cps "$A_LAN:6302" "$T" 8 32 ||
        fail "tcpprobe cps failed: $(cat "$WORK/cps.out")"
    what="connection churn, 8 threads: $(cat "$WORK/cps.out")"
else
    run_ns lan-a $((T * 3 + 60)) "$WORK/iperf3.json" iperf3 -c "$A_LAN" -p 6301 -t "$T" -P "$PAR" -J ||
        fail "iperf3 failed: $(head -c 400 "$WORK/iperf3.json")"
fi
for side in A B; do thread_cpu "${GW_PID[$side]}" >"$WORK/threads1.$side"; done
t_wall=$(( ($(date +%s%N) - t_start) / 1000000 ))
if [ "$LOAD" = bulk ]; then
    intervals=$(python3 -c 'import json,sys; print(" ".join("%.0f" % (i["sum"]["bits_per_second"] / 1e6) for i in json.load(open(sys.argv[1]))["intervals"]))' "$WORK/iperf3.json")
    mbit=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$WORK/iperf3.json")
    what="bulk ($PAR conn, $mbit Mbit/s)"
fi

if [ "$TOOL" = perf ]; then
    for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${perf_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for side in A B; do
        echo
        echo "=== gateway $side: top $TOP symbols (self, % of samples) during $T s of $what"
        perf report -q -g none -i "$OUT/perf.$side.data" --no-children --sort dso,symbol 2>/dev/null |
            awk '/^ +[0-9]/ { printf "%8s  %-16s %s\n", $1, $2, $4 }' | head -n "$TOP" || true
        echo "--- by thread (usrsctp's threads: the UDP receive thread and the timer)"
        perf report -q -g none -i "$OUT/perf.$side.data" --no-children --sort pid 2>/dev/null |
            awk '/^ +[0-9]/' | head -n 6 || true
    done
else
    gw_stop A 120 || true
    gw_stop B 120 || true
    for side in a b; do
        echo
        echo "=== gateway ${side^^}: callgrind top $TOP functions (Ir) during $T s of $what, under valgrind"
        callgrind_annotate "$OUT/callgrind.$side.out" 2>/dev/null | sed -n '/^Ir/,$p' | head -n $((TOP + 2))
    done
fi
echo
# the SCTP stack's own counters (SIGUSR1 status line of each gateway)
for side in A B; do
    [ "$TOOL" = perf ] && kill -USR1 "${GW_PID[$side]}" 2>/dev/null
done
sleep 0.5
for side in A B; do
    echo "gateway $side SCTP counters: $(grep -h 'since start' "$WORK/gw-$side.log" | tail -n1 | sed 's/.*since start: //')"
done
hz=$(getconf CLK_TCK)
for side in A B; do
    echo "gateway $side by thread over the transfer (${t_wall} ms wall; CPU seconds, context switches):"
    paste -d' ' "$WORK/threads0.$side" "$WORK/threads1.$side" |
        awk -v hz="$hz" '$5 - $2 > 0 || $6 - $3 > 10 { printf "    %-16s %6.2f s %8d switches\n", $1, ($5 - $2) / hz, $6 - $3 }'
done
if [ "$LOAD" = bulk ]; then
    echo "throughput during the profile: $mbit Mbit/s ($PAR connection(s), $T s; each second: $intervals)"
else
    echo "load during the profile: $what"
fi
echo "UDP datagrams dropped at a full receive buffer in the gateways: $(( $(udp_drops) - drops0 ))"
