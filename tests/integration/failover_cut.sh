#!/usr/bin/env bash
# failover_cut: two links, two paths (wan1 priority 10 preferred, wan2
# priority 20), fast timer profile.  A FO_BYTES (1 GiB) transfer runs through
# the pair and the preferred link is cut in the middle of it, twice:
#   run 1: 'ip link set wan1 down' on gw-a's end, upload   (A sends the data)
#   run 2: nftables drop on wan1 both ways,       download (B sends the data)
# Each time: the transfer completes, xfer.py verifies content and SHA-256,
# no connection is reset, the association stays up, the data moves to wan2,
# and both gateways log wan1 leaving 'reachable' and
# 'primary path: wan1 -> wan2'.  Between the runs wan1 is restored and the
# test waits for the fail-back (primary path: wan2 -> wan1) on both sides.
# One direction per run keeps the script well under 3 minutes (1 GiB one
# way takes about 20 s here); FO_BYTES=256M for a quicker run.
#
# FAILOVER_FAMILY=6 runs the same over IPv6 path addresses only
# (failover_ipv6.sh does that).
set -euo pipefail
SCENARIO=${SCENARIO:-failover_cut}
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
BYTES=${FO_BYTES:-1G}
LIMIT=${FO_TIMEOUT:-120}           # per transfer
FAM=${FAILOVER_FAMILY:-4}
HOLD_MS=2000                       # failback_hold_ms of the fast profile
DETECT_S=10                        # cut -> log lines on both gateways

topo_up --links 2
if [ "$FAM" = 6 ]; then
    # IPv6 everywhere: paths, client -> forward -> server
    CONF_V6=1 CONF_NO_DEFAULT_FWD=1 CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast \
        write_gw_conf A "$WORK/a.conf" "web6 [$A_LAN6]:$FWD_PORT [$LAN_B6]:$SRV_PORT"
    CONF_V6=1 CONF_NO_DEFAULT_FWD=1 CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast \
        write_gw_conf B "$WORK/b.conf" "web6 [$B_LAN6]:$FWD_PORT [$LAN_A6]:$SRV_PORT"
else
    CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast write_gw_conf A "$WORK/a.conf"
    CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast write_gw_conf B "$WORK/b.conf"
fi
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
if [ "$FAM" = 6 ]; then
    xfer_server lan-b "[$LAN_B6]:$SRV_PORT"
    FWD="[$A_LAN6]:$FWD_PORT"
else
    xfer_server lan-b "$LAN_B:$SRV_PORT"
    FWD="$A_LAN:$FWD_PORT"
fi
# With IPv6 paths, count the IPv4 frames on the wan links: there must be none.
if [ "$FAM" = 6 ]; then
    for k in 1 2; do
        in_ns B nft -f - <<NFT
table netdev famcount_wan$k {
    chain in {
        type filter hook ingress device "wan$k" priority 0; policy accept;
        meta protocol ip counter
        meta protocol ip6 counter
    }
}
NFT
    done
fi

# cut_during_transfer HOW DIR(up|down)
cut_during_transfer() {
    local how=$1 dir=$2 out="$WORK/client-$1.out" rc=0 p1 p2 q1 q2 t0 i pc tcut
    log "=== run: cut wan1 ($how) during a $BYTES $dir transfer over IPv$FAM"
    log_mark A; log_mark B
    p1=$(link_packets wan1); p2=$(link_packets wan2)
    run_ns_bg lan-a "$LIMIT" "$out" python3 "$XFER" client --connect "$FWD" \
        --"$dir" "$BYTES" --timeout 30
    pc=$BG_PID
    # cut once the transfer clearly runs over wan1 (or after 5 s at most)
    t0=$(now_ms)
    for i in $(seq 50); do
        [ $(( $(link_packets wan1) - p1 )) -gt 30000 ] && break
        sleep 0.1
    done
    kill -0 "$pc" 2>/dev/null || fail "transfer ended before the cut: $(cat "$out")"
    q1=$(link_packets wan1); q2=$(link_packets wan2)
    log "before the cut ($(( $(now_ms) - t0 )) ms in): wan1 +$((q1 - p1)) frames, wan2 +$((q2 - p2)) frames"
    [ $((q1 - p1)) -gt $(( 10 * (q2 - p2) )) ] \
        || fail "the transfer does not run over wan1 (preferred): wan1 +$((q1 - p1)), wan2 +$((q2 - p2)) frames"
    tcut=$(now_ms)
    link_cut wan1 "$how"
    wait "$pc" || rc=$?
    cat "$out" >&2
    xfer_check "$rc" "$out" "transfer with wan1 cut ($how)"
    p1=$(link_packets wan1); p2=$(link_packets wan2)
    log "after the cut: wan1 +$((p1 - q1)) frames, wan2 +$((p2 - q2)) frames; transfer done $(( $(now_ms) - tcut )) ms after the cut"
    [ $((p2 - q2)) -gt 10000 ] || fail "wan2 carried only $((p2 - q2)) frames after wan1 was cut"
    local side t
    for side in A B; do
        wait_log "$side" 'path wan1: reachable -> (potentially-failed|unreachable) ' "$DETECT_S"
        wait_log "$side" 'primary path: wan1 -> wan2 ' "$DETECT_S"
        t=$(log_time_ms "$side" 'primary path: wan1 -> wan2 ') || t=""
        log "gateway $side: $(log_since "$side" | grep -E -m1 'path wan1: reachable -> ')"
        log "gateway $side: $(log_since "$side" | grep -E -m1 'primary path: wan1 -> wan2 ')${t:+ ($((t - tcut)) ms after the cut)}"
    done
    if log_since A | grep -q 'association down'; then fail "association went down on A: $(log_since A | grep -m1 'association down')"; fi
    if log_since B | grep -q 'association down'; then fail "association went down on B: $(log_since B | grep -m1 'association down')"; fi

    # back to wan1 for the next run
    log_mark A; log_mark B
    link_restore wan1
    for side in A B; do
        wait_log "$side" 'path wan1: [a-z-]+ -> reachable ' 20
        wait_log "$side" 'primary path: wan2 -> wan1 ' $((HOLD_MS / 1000 + 20))
    done
    log "wan1 restored; both gateways failed back to wan1"
}

cut_during_transfer down up
cut_during_transfer drop down

if [ "$FAM" = 6 ]; then
    v4=0
    for k in 1 2; do
        n=$(in_ns B nft list table netdev "famcount_wan$k" | awk '/meta protocol ip counter/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
        m=$(in_ns B nft list table netdev "famcount_wan$k" | awk '/meta protocol ip6 counter/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
        log "frames into B's wan$k: IPv6 ${m:-?}, IPv4 ${n:-?}"
        v4=$((v4 + ${n:-0}))
    done
    [ "$v4" = 0 ] || fail "$v4 IPv4 frames arrived on the wan links (the paths are IPv6 only)"
fi

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$BYTES up with wan1 down and $BYTES down with wan1 dropped (IPv$FAM): intact, no reset, failover logged"
