#!/usr/bin/env bash
# bench/udp.sh: UDP through the gateway pair against direct routing and two
# chained socat UDP relays, in one run (ratios side by side).
#
#   sudo bench/udp.sh [build/src/sctpgw]      (about 2 minutes)
#
# Testbed of tests/integration/lib.sh (lan-a | gw-a =wan1= gw-b | lan-b,
# veth), the echo server of tests/tools/udpx.c in lan-b, the client in lan-a:
#   direct  gw-a and gw-b route between the sites (static routes)
#   socat   socat in gw-a (UDP4-LISTEN, fork) -> UDP over wan1 -> socat in
#           gw-b -> echo server
#   sctpgw  gateway A [forward] protocol = udp -> the association -> gateway B
# Figures, each column in turn, for 64- and 1,200-byte datagrams:
#   per_s   echoed datagrams per second, the client sending as fast as its
#           socket takes them for BENCH_SECONDS (5) (udpx stream rate 0)
#   p99     one-way delay (us; the echo server's receive time - the send
#           time, one clock) at 2,000 datagrams/s
# Then sctpgw's one-way delay distribution at 2,000/s with 1 % loss on wan1
# (link_loss, both ways) against the loss-free run.
set -euo pipefail
SCENARIO=bench-udp
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
need_root
bin=${1:-$HERE/../build/src/sctpgw}
setup "$bin"
SECS=${BENCH_SECONDS:-5}
UDPX=${UDPX:-$(dirname "$SCTPGW")/../tests/udpx}
[ -x "$UDPX" ] || fail "no $UDPX: build the tests (meson compile -C build)"
need_cmd socat

topo_up
for ns in "$NS_A" "$NS_B"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done
ip -n "$NS_A" route add 198.18.20.0/24 via "$B_WAN"
ip -n "$NS_B" route add 198.18.10.0/24 via "$A_WAN"
bg_ns lan-b "$WORK/echo.out" "$UDPX" echo "$LAN_B:7"
bg_ns A "$WORK/socat-a.out" socat -b 65536 UDP4-LISTEN:7001,bind="$A_LAN",fork,reuseaddr \
    UDP4:"$B_WAN":7001
bg_ns B "$WORK/socat-b.out" socat -b 65536 UDP4-LISTEN:7001,bind="$B_WAN",fork,reuseaddr \
    UDP4:"$LAN_B":7
CONF_LOG_LEVEL=warn CONF_EXTRA="$(printf '[forward.echo]\nlisten = %s:7002\nprotocol = udp\ntarget = %s:7\n' "$A_LAN" "$LAN_B")" \
    write_gw_conf A "$WORK/a.conf"
CONF_LOG_LEVEL=warn write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
for i in $(seq 150); do
    grep -q 'association up' "$WORK/gw-A.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.5

to() { case "$1" in direct) echo "$LAN_B:7" ;; socat) echo "$A_LAN:7001" ;; sctpgw) echo "$A_LAN:7002" ;; esac; }
declare -A R
run() { # COLUMN SIZE RATE NAME -> the udpx summary line
    run_ns lan-a 60 "$WORK/$4.out" "$UDPX" stream "$(to "$1")" "$3" "$SECS" "$2" "$WORK/$4.txt" ||
        fail "$4: $(cat "$WORK/$4.out")"
    cat "$WORK/$4.out"
}
field() { grep -oE "$2=[0-9]+" <<<"$1" | cut -d= -f2; }
for size in 64 1200; do
    for col in direct socat sctpgw; do
        line=$(run "$col" "$size" 0 "max-$col-$size")
        R[$col,$size,pps]=$(field "$line" per_s)
        line=$(run "$col" "$size" 2000 "lat-$col-$size")
        R[$col,$size,p99]=$(field "$line" p99)
        log "$col $size B: ${R[$col,$size,pps]} echoed/s at full speed; p99 one-way ${R[$col,$size,p99]} us at 2000/s"
    done
done
link_loss wan1 1
lossline=$(run sctpgw 200 2000 loss-sctpgw)
link_loss wan1 0
cleanline=$(run sctpgw 200 2000 clean-sctpgw)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "UDP through the pair (bench/udp.sh, ${SECS} s per run; echoed datagrams/s at full speed, p99 one-way delay in us at 2000/s)"
printf '%-6s %10s %10s %10s %12s %12s\n' size direct socat sctpgw 'sctpgw/dir' 'sctpgw/socat'
for size in 64 1200; do
    printf '%-6s %10s %10s %10s %12s %12s\n' "$size B" "${R[direct,$size,pps]}" "${R[socat,$size,pps]}" \
        "${R[sctpgw,$size,pps]}" "$(ratio "${R[sctpgw,$size,pps]}" "${R[direct,$size,pps]}")" \
        "$(ratio "${R[sctpgw,$size,pps]}" "${R[socat,$size,pps]}")"
    printf '%-6s %10s %10s %10s %12s %12s  (p99 us)\n' "" "${R[direct,$size,p99]}" "${R[socat,$size,p99]}" \
        "${R[sctpgw,$size,p99]}" "$(ratio "${R[sctpgw,$size,p99]}" "${R[direct,$size,p99]}")" \
        "$(ratio "${R[sctpgw,$size,p99]}" "${R[socat,$size,p99]}")"
done
echo "sctpgw, 200 B at 2000/s, one-way delay (us):"
echo "  loss-free: $cleanline"
echo "  1 % loss:  $lossline"
gw_stop A || true
gw_stop B || true
