#!/usr/bin/env bash
# ipv6: the association runs over IPv6 path addresses (2001:2:1::1 <->
# 2001:2:1::2); forwards listen on and connect to IPv6 addresses (and one
# mixes families: IPv4 listen -> IPv6 target).  Transfers must be intact.
# Path MTU ([sctp] path_mtu: the IP packet, UDP included): with the default
# (1280, IPv6's minimum link MTU) no packet of the association on the wire
# is longer than 1280 bytes; a pair with path_mtu = 1500, over IPv6 and
# then over IPv4, carries data in packets longer than 1280 and none longer
# than 1500, unfragmented (counted by nftables on both gateways' wan1).
# History: the default part failed before path_mtu (usrsctp's spp_pathmtu
# 1280 is the room for chunks: IPv6 packets of 1340 bytes on the wire).
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

# mtu_count_start MTU: count, on both gateways' wan1 input, the
# association's packets (UDP to the encapsulation port, or a fragment of
# anything) longer than MTU ("over"), longer than 1280 ("big"), within 10
# bytes of MTU ("full": meta length is the whole IP packet), and fragments.
# (Over IPv4, usrsctp's full DATA packets are 20 bytes short of path_mtu:
# it cuts messages as if every path were IPv6; docs/PERFORMANCE.md.)
mtu_count_start() {
    local side
    for side in A B; do
        in_ns "$side" nft delete table inet mtucount 2>/dev/null || true
        in_ns "$side" nft -f - <<NFT
table inet mtucount {
    counter n_over { }
    counter n_big { }
    counter n_full { }
    counter n_frag { }
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "wan1" udp dport $ENCAP_PORT meta length > $1 counter name "n_over"
        iifname "wan1" udp dport $ENCAP_PORT meta length > 1280 counter name "n_big"
        iifname "wan1" udp dport $ENCAP_PORT meta length >= $(($1 - 10)) counter name "n_full"
        iifname "wan1" ip frag-off & 0x3fff != 0 counter name "n_frag"
        iifname "wan1" exthdr frag exists counter name "n_frag"
    }
}
NFT
    done
}
# mtu_count NAME: the counter NAME summed over both gateways
mtu_count() {
    local side n=0 v
    for side in A B; do
        v=$(in_ns "$side" nft list counter inet mtucount "n_$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p')
        n=$((n + ${v:-0}))
    done
    echo "$n"
}

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
mtu_count_start 1280
run_ns lan-a 60 "$WORK/c4.out" python3 "$XFER" client --connect "[$A_LAN6]:$FWD_PORT" \
    --up 1M --down 1M --timeout 20 || fail "v6 transfer (counted) failed: $(cat "$WORK/c4.out")"
read -r v6pk v4pk <<<"$(in_ns B nft list table inet famcount | grep -o 'packets [0-9]*' | awk '{print $2}' | tr '\n' ' ')"
log "packets into B's wan1 during a 1 MiB transfer: IPv6 $v6pk, IPv4 $v4pk"
[ "${v6pk:-0}" -gt 0 ] || fail "nothing arrived over IPv6 on wan1"
[ "${v4pk:-0}" = 0 ] || fail "$v4pk IPv4 packets arrived on wan1 (the path should be IPv6 only)"
log "default path_mtu (1280), IPv6: packets over 1280 bytes $(mtu_count over), within 10 of it $(mtu_count full), fragments $(mtu_count frag)"
[ "$(mtu_count over)" = 0 ] || fail "default path_mtu 1280: $(mtu_count over) packets longer than 1280 bytes on wan1"
[ "$(mtu_count frag)" = 0 ] || fail "default path_mtu 1280: $(mtu_count frag) fragments on wan1"
[ "$(mtu_count full)" -gt 0 ] || fail "default path_mtu 1280: no packet within 10 bytes of 1280 (a 1 MiB transfer fills packets)"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"

# path_mtu = 1500 (the veth links' MTU): over IPv6, then over IPv4
for fam in 6 4; do
    v6=0
    [ $fam = 6 ] && v6=1
    CONF_V6=$v6 CONF_SCTP="path_mtu = 1500" CONF_NO_DEFAULT_FWD=1 write_gw_conf A "$WORK/a$fam.conf" \
        "web6 [$A_LAN6]:$FWD_PORT [$LAN_B6]:$SRV_PORT"
    CONF_V6=$v6 CONF_SCTP="path_mtu = 1500" CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/b$fam.conf" \
        "web6 [$B_LAN6]:$FWD_PORT [$LAN_A6]:$SRV_PORT"
    gw_start B "$WORK/b$fam.conf"
    gw_start A "$WORK/a$fam.conf"
    assoc_up 15
    mtu_count_start 1500
    run_ns lan-a 60 "$WORK/m$fam.out" python3 "$XFER" client --connect "[$A_LAN6]:$FWD_PORT" \
        --up 8M --down 8M --timeout 20 || fail "path_mtu 1500, paths over IPv$fam: transfer failed: $(cat "$WORK/m$fam.out")"
    log "path_mtu 1500, paths over IPv$fam: $(cat "$WORK/m$fam.out"); packets over 1280 bytes $(mtu_count big), within 10 of 1500 $(mtu_count full), over 1500 $(mtu_count over), fragments $(mtu_count frag)"
    [ "$(mtu_count over)" = 0 ] || fail "path_mtu 1500, IPv$fam: $(mtu_count over) packets longer than 1500 bytes on wan1"
    [ "$(mtu_count frag)" = 0 ] || fail "path_mtu 1500, IPv$fam: $(mtu_count frag) fragments on wan1"
    [ "$(mtu_count big)" -gt 1000 ] || fail "path_mtu 1500, IPv$fam: only $(mtu_count big) packets longer than 1280 bytes (the key did not take)"
    gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
    gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
done
pass "association over IPv6, v6 and mixed forwards intact; packets within path_mtu (1280, 1500)"
