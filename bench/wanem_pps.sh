#!/usr/bin/env bash
# bench/wanem_pps.sh - how many packets per second the WAN link emulator
# (tests/tools/wanem, lib.sh topo_up --wan) forwards, so that it is known
# never to be the bottleneck of a WAN benchmark.
#
#   sudo bench/wanem_pps.sh [PATH-TO-sctpgw]       (the binary only locates
#                                                   the build's tests/wanem)
#
# For each link setting (WANEM_PPS_LINKS, default "0:0 25:0": DELAY ms each
# way : RATE Mbit/s, 0 = unlimited) iperf3 in gw-a sends UDP datagrams of
# WANEM_PPS_LEN (64) bytes as fast as it can (-b 0) for WANEM_PPS_TIME (5) s
# to gw-b over wan1.  The sender outruns the emulator, so what the emulator
# forwards per second is its capacity (on this machine, while sender and
# receiver share the CPUs with it).  Printed per setting: packets/s the
# emulator forwarded (its own counter), packets/s offered by iperf3, the
# packets the kernel dropped at the full TUN queue before the emulator read
# them, the emulator's CPU seconds and its CPU time per forwarded packet
# (the figure that does not depend on how loaded the machine is: 1e6 / it is
# the packets per second one free core would forward).
set -euo pipefail
SCENARIO=wanem_pps
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
need_root
need_cmd iperf3
setup "${1:-$HERE/../build/src/sctpgw}"
T=${WANEM_PPS_TIME:-5}
LEN=${WANEM_PPS_LEN:-64}
LINKS=${WANEM_PPS_LINKS:-0:0 25:0}
n=0
for l in $LINKS; do n=$((n + 1)); done
spec=""; k=0
for l in $LINKS; do k=$((k + 1)); spec="$spec${spec:+,}$k:${l%%:*}:${l##*:}:0:1000000"; done
topo_up --links "$n" --wan "$spec"
printf '%-26s %10s %10s %13s %7s %11s\n' "link (delay:rate)" "fwd pkt/s" "sent pkt/s" "TUN q. drops" "CPU s" "us CPU/pkt"
k=0
for l in $LINKS; do
    k=$((k + 1))
    bg_ns B "$WORK/iperf3-s$k.log" iperf3 -s -1 -B "$(wan_ip B "$k")" -p $((5300 + k))
    sleep 0.5
    f0=$(wan_counter "$k" 'a>b' fwd)
    d0=$(in_ns A cat "/sys/class/net/wan$k/statistics/tx_dropped")
    c0=$(awk '{ print $14 + $15 }' "/proc/${WANEM_PID[$k]}/stat")
    t0=$(now_ms)
    run_ns A $((T + 20)) "$WORK/udp$k.json" iperf3 -J -c "$(wan_ip B "$k")" -p $((5300 + k)) \
        -u -b 0 -l "$LEN" -t "$T" || fail "iperf3 through wan$k failed: $(tail -n 3 "$WORK/udp$k.json")"
    t1=$(now_ms)
    f1=$(wan_counter "$k" 'a>b' fwd)
    d1=$(in_ns A cat "/sys/class/net/wan$k/statistics/tx_dropped")
    c1=$(awk '{ print $14 + $15 }' "/proc/${WANEM_PID[$k]}/stat")
    sent=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum"]; print(int(e["packets"] / e["seconds"]))' "$WORK/udp$k.json")
    cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { print t / hz }')
    printf '%-26s %10d %10d %13d %7.2f %11.2f\n' "wan$k ${l%%:*} ms, ${l##*:} Mbit/s" \
        $(( (f1 - f0) * 1000 / (t1 - t0) )) "$sent" $((d1 - d0)) "$cpu" \
        "$(awk -v c="$cpu" -v n=$((f1 - f0)) 'BEGIN { print (n > 0 ? c * 1e6 / n : 0) }')"
done
