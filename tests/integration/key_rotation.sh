#!/usr/bin/env bash
# key_rotation: the procedure of docs/SECURITY.md, "Key rotation", step by
# step with a restart of one gateway at a time (key_rotation_live.sh does
# it by reload, on the running association): after each step the
# association comes up on both gateways with the key the procedure says
# (the key id in the "association up" line, computed here independently as
# HMAC-SHA256(key, "sctpgw key id")), and a transfer through it is intact. A key file with the old key only and one
# with the new key only never pair.
set -euo pipefail
SCENARIO=key_rotation
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"

. "$(dirname "$0")/key_lib.sh"
(umask 077 && "$SCTPGW" --gen-psk >"$WORK/k1" && "$SCTPGW" --gen-psk >"$WORK/k2")
ID1=$(keyid "$WORK/k1"); ID2=$(keyid "$WORK/k2")
log "K1 has key id $ID1, K2 $ID2"

topo_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
keyfile A "$WORK/k1"; keyfile B "$WORK/k1"
CONF_PSK_FILE="$WORK/psk-A" write_gw_conf A "$WORK/a.conf"
CONF_PSK_FILE="$WORK/psk-B" write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"

# check STEP ID: both gateways up with key id ID since the last restart, and
# 2 MiB each way intact through the pair
check() {
    assoc_up 20
    for s in A B; do
        log_since "$s" | grep -q "association up: .*key id $2, protection AES-256-GCM" ||
            fail "$1: gateway $s is not up with key id $2: $(log_since "$s" | grep 'association up')"
    done
    local rc=0
    run_ns lan-a 60 "$WORK/x.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
        --up 2M --down 2M --count 4 --parallel 4 --timeout 30 || rc=$?
    xfer_check "$rc" "$WORK/x.out" "$1"
    log "$1: association up with key id $2 on both, transfers intact"
}
check "start, both K1" "$ID1"

# restart SIDE: stop the gateway and start it again with its (new) key file
restart() {
    gw_stop "$1"
    log_mark A; log_mark B
    gw_restart "$1"
}
keyfile B "$WORK/k1" "$WORK/k2"; restart B
check "step 1: B holds K1 then K2" "$ID1"
keyfile A "$WORK/k2" "$WORK/k1"; restart A
check "step 2: A holds K2 then K1" "$ID2"
keyfile B "$WORK/k2"; restart B
check "step 3: B holds K2 only" "$ID2"
keyfile A "$WORK/k2"; restart A
check "step 3: A holds K2 only" "$ID2"

# The old key alone no longer pairs.
keyfile A "$WORK/k1"; restart A
wait_log A 'no key in common|ended during authentication' 15
wait_log B 'no key in common' 15
log_since A | grep -q 'association up' && fail "old key alone: association up"
gw_stop A; gw_stop B
pass "rotation K1 -> K2 in three steps, one gateway restart at a time; the old key alone is refused"
