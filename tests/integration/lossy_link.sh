#!/usr/bin/env bash
# lossy_link: two paths (wan1 priority 10, wan2 priority 20), fast profile;
# LOSS_PCT=2 % of the frames on the preferred link wan1 are dropped at
# random in each direction (nftables numgen) during a transfer of
# LOSS_BYTES=256M each way plus 20 concurrent smaller ones: all data intact
# (xfer.py checks content and SHA-256), nothing reset, the association stays
# up.  Reports how much each link carried and what the gateways logged about
# wan1 (with pf_threshold 0, a lost retransmission may take wan1 out for a
# while; that is allowed, losing data is not).
set -euo pipefail
SCENARIO=lossy_link
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
PCT=${LOSS_PCT:-2}
BYTES=${LOSS_BYTES:-256M}

topo_up --links 2
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
FWD="$A_LAN:$FWD_PORT"
log_mark A; log_mark B

link_loss wan1 "$PCT"
p1=$(link_packets wan1); p2=$(link_packets wan2)
run_ns_bg lan-a 170 "$WORK/bulk.out" python3 "$XFER" client --connect "$FWD" \
    --up "$BYTES" --down "$BYTES" --timeout 30
pb=$BG_PID
rc=0
run_ns lan-a 170 "$WORK/many.out" python3 "$XFER" client --connect "$FWD" \
    --count 20 --parallel 20 --random-sizes 8M --seed 3 --timeout 30 || rc=$?
cat "$WORK/many.out" >&2
xfer_check "$rc" "$WORK/many.out" "20 concurrent transfers with ${PCT}% loss on wan1"
rc=0; wait "$pb" || rc=$?
cat "$WORK/bulk.out" >&2
xfer_check "$rc" "$WORK/bulk.out" "$BYTES each way with ${PCT}% loss on wan1"
dropped=$(link_loss_dropped wan1)
d1=$(( $(link_packets wan1) - p1 )); d2=$(( $(link_packets wan2) - p2 ))
link_loss wan1 0
line=$(grep '^ok=' "$WORK/bulk.out" | tail -n1)
log "bulk: $line"
log "wan1 +$d1 frames ($dropped dropped by the loss rule), wan2 +$d2 frames"
[ "$dropped" -gt 0 ] || fail "the loss rule dropped nothing"
for side in A B; do
    if log_since "$side" | grep -q 'association down'; then
        fail "association went down on $side: $(log_since "$side" | grep -m1 'association down')"
    fi
    nd=$(log_since "$side" | grep -cE 'path wan1: reachable -> ' || true)
    nf=$(log_since "$side" | grep -c 'primary path: ' || true)
    log "gateway $side: wan1 left 'reachable' $nd times, $nf primary path changes"
done
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$BYTES each way and 20 concurrent transfers intact with ${PCT}% loss on wan1"
