#!/usr/bin/env bash
# admission_spoof (issue 12, item 1; test c): a stranger at an unlisted
# address X that also holds the accept gateway's configured remote address
# Y (on another interface) binds both and connects, so its INIT comes from
# X and lists Y. The accept gateway must refuse it (ABORT), log the
# stranger's address, and never process its OPEN (a target on the
# gateway's own loopback sees no connection). Then the real peer still
# comes up and carries data. The stranger is tests/tools/spoof_peer.c
# (usrsctp, SCTP over UDP); its path comes in SPOOF_PEER.
set -euo pipefail
SCENARIO=admission_spoof
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
SPOOF_PEER=${SPOOF_PEER:-$(dirname "$SCTPGW")/../tests/spoof_peer}
[ -x "$SPOOF_PEER" ] || fail "spoof_peer not built at '$SPOOF_PEER' (set SPOOF_PEER)"

topo_up
# The stranger's namespace: X on a link to gateway B, and gateway A's
# address (B's configured remote) on a dummy interface beside it.
NS_X="$PFX-atk"
X=198.18.30.2
_mkns "$NS_X"
_veth "$NS_B" atk "$NS_X" eth0
ip -n "$NS_B" addr add 198.18.30.1/24 dev atk
# B answers from the address the INIT went to (usrsctp's UDP socket is
# bound to the wildcard, so the kernel's route picks the source).
ip -n "$NS_B" route replace 198.18.30.0/24 dev atk src "$B_WAN"
ip -n "$NS_X" addr add "$X/24" dev eth0
ip -n "$NS_X" link add claimed type veth peer name claimed-peer
ip -n "$NS_X" link set claimed up; ip -n "$NS_X" link set claimed-peer up
ip -n "$NS_X" addr add "$A_WAN/32" dev claimed
ip -n "$NS_X" route add default via 198.18.30.1
_reach "$NS_X" "$B_WAN"

# What the stranger asks for: a service on the accept gateway's loopback.
bg_ns B "$WORK/target.log" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2222)); s.listen(8)
while True:
    c, a = s.accept(); open(sys.argv[1], "a").write("connection from %s:%d\n" % a); c.close()' \
    "$WORK/target.hits"
wait_listen B 2222

write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
wait_log B 'listening on' 10

run_ns "$NS_X" 30 "$WORK/spoof.out" "$SPOOF_PEER" "$ENCAP_PORT" "$ENCAP_PORT" "$SCTP_PORT" \
    "$B_WAN" 127.0.0.1:2222 "$X" "$A_WAN" || true
out=$(cat "$WORK/spoof.out")
log "stranger (INIT from $X listing $A_WAN): $out"
sleep 0.5
[ ! -s "$WORK/target.hits" ] || fail "the stranger's OPEN was processed: target saw $(cat "$WORK/target.hits")"
case "$out" in
    refused:*) ;;
    *) fail "the stranger was not refused: $out" ;;
esac
grep -q 'association up' "$WORK/gw-B.log" && fail "gateway B reported 'association up' for the stranger"
grep -q "association refused: peer address $X" "$WORK/gw-B.log" \
    || fail "gateway B did not log the refusal naming $X"
log "gateway B: $(grep -m1 'association refused' "$WORK/gw-B.log")"

# The real peer is not locked out.
write_gw_conf A "$WORK/a.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"
rc=0
run_ns lan-a 30 "$WORK/x.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" --up 1M --down 1M \
    --timeout 20 || rc=$?
xfer_check "$rc" "$WORK/x.out" "transfer over the real association"
[ ! -s "$WORK/target.hits" ] || fail "target on B's loopback was reached: $(cat "$WORK/target.hits")"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "INIT from unlisted $X listing configured $A_WAN: aborted, logged, OPEN never processed; real peer fine"
