#!/usr/bin/env bash
# flap: two paths (wan1 priority 10, wan2 priority 20), fast profile.  wan1
# flaps (down FLAP_DOWN_S=2 s, up FLAP_UP_S=2 s) for FLAP_TOTAL_S=60 s while
# rounds of 20 concurrent transfers (xfer.py --count 20 --parallel 20, each
# ROUND_BYTES both ways) run back to back until the flapping ends: every
# transfer intact, none reset, the association never goes down, and the
# gateways log the flaps.  FLAP_HOW=drop flaps with the nftables drop
# instead of 'ip link set down'.
# The fast profile's failback_hold_ms (2000) equals the 2 s up time, so the
# traffic does follow wan1 back and forth (the harshest case for the data:
# the hold often ends just as wan1 goes down again).  FLAP_HOLD_MS=5000 (or
# anything longer than the up time) checks the other promise instead: no
# fail-back to wan1 at all while it flaps.
set -euo pipefail
SCENARIO=flap
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
DOWN_S=${FLAP_DOWN_S:-2}
UP_S=${FLAP_UP_S:-2}
TOTAL_S=${FLAP_TOTAL_S:-60}
HOW=${FLAP_HOW:-down}
ROUND_BYTES=${ROUND_BYTES:-8M}
HOLD_MS=${FLAP_HOLD_MS:-2000}

topo_up --links 2
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast CONF_FAILBACK_HOLD_MS=$HOLD_MS \
    write_gw_conf A "$WORK/a.conf"
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast CONF_FAILBACK_HOLD_MS=$HOLD_MS \
    write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"
FWD="$A_LAN:$FWD_PORT"
log_mark A; log_mark B

link_flap wan1 "$DOWN_S" "$UP_S" "$TOTAL_S" "$HOW"
flapper=${_FLAP_PID[wan1]}
round=0 conns=0 bytes=0
while :; do
    round=$((round + 1))
    rc=0
    run_ns lan-a 120 "$WORK/round.out" python3 "$XFER" client --connect "$FWD" \
        --count 20 --parallel 20 --up "$ROUND_BYTES" --down "$ROUND_BYTES" \
        --seed "$round" --timeout 30 || rc=$?
    cp "$WORK/round.out" "$WORK/round-$round.out"
    xfer_check "$rc" "$WORK/round.out" "round $round (20 concurrent transfers while wan1 flaps)"
    line=$(grep '^ok=' "$WORK/round.out" | tail -n1)
    log "round $round: $line"
    conns=$((conns + 20))
    bytes=$((bytes + $(summary_field "$line" bytes_up) + $(summary_field "$line" bytes_down)))
    kill -0 "$flapper" 2>/dev/null || break
done
link_flap_wait wan1
cuts=$(grep -c "link wan1 cut" "$WORK/links.log" || true)
# the flapping ended with the last restore: fail-backs after that are fine
flap_end=$(grep "link wan1 restored" "$WORK/links.log" | tail -n1 | cut -d' ' -f1)
up_ms=$(awk -v s="$UP_S" 'BEGIN { printf "%d", s * 1000 }')

for side in A B; do
    if log_since "$side" | grep -q 'association down'; then
        fail "association went down on $side: $(log_since "$side" | grep -m1 'association down')"
    fi
    nd=$(log_since "$side" | grep -cE 'path wan1: reachable -> (potentially-failed|unreachable) ' || true)
    nu=$(log_since "$side" | grep -cE 'path wan1: [a-z-]+ -> reachable ' || true)
    nf=$(log_since "$side" | grep -c 'primary path: wan1 -> wan2 ' || true)
    nb=$(log_since "$side" | grep -c 'primary path: wan2 -> wan1 ' || true)
    log "gateway $side: wan1 left 'reachable' $nd times, came back $nu times; primary wan1 -> wan2 $nf times, wan2 -> wan1 $nb times ($cuts cuts)"
    [ "$nd" -ge 1 ] || fail "gateway $side never logged wan1 leaving 'reachable' during $cuts cuts"
    [ "$nf" -ge 1 ] || fail "gateway $side never logged 'primary path: wan1 -> wan2' during $cuts cuts"
    if [ "$HOLD_MS" -gt "$up_ms" ]; then
        # wan1 never stayed up for the hold: no fail-back while it flapped
        early=0
        while read -r stamp _; do
            [ -n "$stamp" ] || continue
            t=$(date -u -d "${stamp%Z}" +%s%3N)
            [ "$t" -lt "$flap_end" ] && early=$((early + 1))
        done < <(log_since "$side" | grep 'primary path: wan2 -> wan1 ' || true)
        [ "$early" = 0 ] || fail "gateway $side failed back to wan1 $early times while it flapped (hold $HOLD_MS ms > up time $up_ms ms)"
    fi
done
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$conns transfers in $round rounds of 20 ($bytes bytes) intact while wan1 flapped $cuts times"
