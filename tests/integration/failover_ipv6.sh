#!/usr/bin/env bash
# failover_ipv6: failover_cut.sh with IPv6 path addresses only
# (wan1 2001:2:1::1 <-> 2001:2:1::2, wan2 2001:2:2::1 <-> 2001:2:2::2) and an
# IPv6 client, forward and server: the preferred link is cut during a
# transfer once with 'ip link set down' and once with an nftables drop; the
# transfers stay intact, nothing is reset, both gateways log the failover,
# and no IPv4 frame crosses the wan links.
set -euo pipefail
export SCENARIO=failover_ipv6 FAILOVER_FAMILY=6
exec "$(dirname "$0")/failover_cut.sh" "$@"
