#!/usr/bin/env bash
# udp_sizes (issue 9, test e): datagram boundaries.  A client in lan-a
# sends datagrams of every size from 1 to 1,500 bytes, then up to the
# largest UDP datagram (65,507 bytes over IPv4, 65,527 over IPv6) in steps
# of 97, plus 1,200, 1,472, 8,192, the maximum and 200 random sizes, each
# with its own content, through gateway A's UDP forward to an echo server
# in lan-b; each must come back with the same size and bytes (one datagram
# each way: a boundary lost or merged shows as a wrong size).  Gateway A
# must count nothing dropped as too large.
set -euo pipefail
SCENARIO=udp_sizes
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
. "$(dirname "$0")/udp_lib.sh"

topo_up
bg_ns lan-b "$WORK/echo4.out" "$UDPX" echo "$LAN_B:7"
bg_ns lan-b "$WORK/echo6.out" "$UDPX" echo "[$LAN_B6]:7"
CONF_EXTRA="$(udp_fwd echo "$A_LAN:7" "$LAN_B:7"; udp_fwd echo6 "[$A_LAN6]:7" "[$LAN_B6]:7")" \
    write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15

run_ns lan-a 300 "$WORK/sizes4.out" "$UDPX" sizes "$A_LAN:7" 65507 4 ||
    fail "IPv4: $(tail -5 "$WORK/sizes4.out")"
log "IPv4: $(tail -1 "$WORK/sizes4.out")"
run_ns lan-a 300 "$WORK/sizes6.out" "$UDPX" sizes "[$A_LAN6]:7" 65527 6 ||
    fail "IPv6: $(tail -5 "$WORK/sizes6.out")"
log "IPv6: $(tail -1 "$WORK/sizes6.out")"
# One datagram each way per size, whatever its size: no datagram was split.
large=$(gw_udp_status A large)
[ "$large" = 0 ] || fail "gateway A dropped $large datagrams as too large"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "every datagram size up to the maximum came back intact, IPv4 and IPv6"
