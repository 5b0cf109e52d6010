#!/usr/bin/env bash
# ipv6: the association runs over IPv6 path addresses (2001:2:1::1 <->
# 2001:2:1::2); forwards listen on and connect to IPv6 addresses (and one
# mixes families: IPv4 listen -> IPv6 target).  Transfers must be intact.
set -euo pipefail
SCENARIO=ipv6
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"

topo_up
CONF_V6=1 CONF_NO_DEFAULT_FWD=1 write_gw_conf A "$WORK/a.conf" \
    "web6 [$A_LAN6]:$FWD_PORT [$LAN_B6]:$SRV_PORT" \
    "mixed $A_LAN:8081 [$LAN_B6]:$SRV_PORT"
CONF_V6=1 CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/b.conf" \
    "web6 [$B_LAN6]:$FWD_PORT [$LAN_A6]:$SRV_PORT"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-a "[$LAN_A6]:$SRV_PORT"
xfer_server lan-b "[$LAN_B6]:$SRV_PORT"

run_ns lan-a 120 "$WORK/c1.out" python3 "$XFER" client --connect "[$A_LAN6]:$FWD_PORT" \
    --up 128M --down 128M --timeout 20 || fail "v6 bulk lan-a -> B side: $(cat "$WORK/c1.out")"
log "v6 bulk: $(cat "$WORK/c1.out")"
run_ns lan-b 120 "$WORK/c2.out" python3 "$XFER" client --connect "[$B_LAN6]:$FWD_PORT" \
    --count 40 --parallel 20 --random-sizes 1M --seed 6 --timeout 20 || fail "v6 concurrent lan-b -> A side: $(cat "$WORK/c2.out")"
log "v6 concurrent: $(cat "$WORK/c2.out")"
run_ns lan-a 60 "$WORK/c3.out" python3 "$XFER" client --connect "$A_LAN:8081" \
    --up 8M --down 8M --count 4 --parallel 4 --timeout 20 || fail "v4 listen -> v6 target: $(cat "$WORK/c3.out")"
log "v4 listen -> v6 target: $(cat "$WORK/c3.out")"

# the association really runs over IPv6: count what arrives on B's wan1
in_ns B nft -f - <<NFT
table inet famcount {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "wan1" meta nfproto ipv6 counter
        iifname "wan1" meta nfproto ipv4 counter
    }
}
NFT
run_ns lan-a 60 "$WORK/c4.out" python3 "$XFER" client --connect "[$A_LAN6]:$FWD_PORT" \
    --up 1M --down 1M --timeout 20 || fail "v6 transfer (counted) failed: $(cat "$WORK/c4.out")"
read -r v6pk v4pk <<<"$(in_ns B nft list table inet famcount | grep -o 'packets [0-9]*' | awk '{print $2}' | tr '\n' ' ')"
log "packets into B's wan1 during a 1 MiB transfer: IPv6 $v6pk, IPv4 $v4pk"
[ "${v6pk:-0}" -gt 0 ] || fail "nothing arrived over IPv6 on wan1"
[ "${v4pk:-0}" = 0 ] || fail "$v4pk IPv4 packets arrived on wan1 (the path should be IPv6 only)"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "association over IPv6, v6 and mixed forwards intact"
