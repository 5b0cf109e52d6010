#!/usr/bin/env bash
# replay_handshake (issue 11, test b): a recorded authentication exchange
# replayed in a new association is rejected.
#  1. A and B authenticate for real while the WAN link is captured
#     (tcpdump); A's HELLO and AUTH are taken from the capture (tshark:
#     the SCTP DATA chunks A sent on stream 0, as any on-path listener
#     sees them, in clear before the sealing starts).
#  2. A stops. From A's own address, badpeer (tests/tools/badpeer.c, case
#     replay, holding no key) opens a new association to the same running
#     B and sends the recorded HELLO and AUTH byte for byte.
#  3. B must abort the association (badpeer sees it end), log the failed
#     authentication naming the peer and its address, count it in its
#     status ('1 handshakes failed'), never report the association up, and
#     go on serving: the real A comes back and authenticates.
# What makes the replay fail is B's fresh nonce for each association: with
# the same nonce as in step 1 the recorded proof would match (checked by
# patching auth_begin to keep its first nonce: this test then fails).
#
#   usage: replay_handshake.sh SCTPGW BADPEER
set -euo pipefail
SCENARIO=replay_handshake
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tcpdump
need_cmd tshark
BADPEER=${2:-}
setup "$@"
case "$BADPEER" in /*) ;; *) BADPEER="$PWD/$BADPEER" ;; esac
[ -x "$BADPEER" ] || fail "badpeer binary '$BADPEER' is not executable (second argument)"

topo_up
write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
wait_log B 'waiting for the peer gateway' 10

# ---- 1. a real handshake, recorded on the wire
bg_ns A "$WORK/tcpdump.log" tcpdump -Z root -i wan1 -n -s 0 -U --immediate-mode -w "$WORK/wan.pcap" udp
cap=$BG_PID
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
gw_start A "$WORK/a.conf"
assoc_up 15
log_since B | grep -q 'association up: .*protection AES-256-GCM' ||
    fail "the first association is not authenticated: $(log_since B | grep 'association up')"
sleep 0.5
kill -INT "$cap" 2>/dev/null || true
wait "$cap" 2>/dev/null || true
gw_stop A || fail "gateway A exit status $? after SIGTERM"
wait_log B 'association (down|closed)' 15

# A's stream-0 messages of PPID "SGW1" (0x53475731), in order, one a line in
# hex: the first HELLO (type 0x01) and the first AUTH (0x02) after it.
tshark -r "$WORK/wan.pcap" -d "udp.port==$ENCAP_PORT,sctp" \
    -Y "ip.src==$(wan_ip A 1) && sctp.data_sid==0 && sctp.data_payload_proto_id==0x53475731" \
    -T fields -e data.data 2>"$WORK/tshark.err" | tr ',' '\n' | tr -d ':' >"$WORK/stream0.hex" ||
    fail "tshark could not read the capture: $(cat "$WORK/tshark.err")"
awk '!h && /^01/ {print; h=1; next} h && /^02/ {print; exit}' "$WORK/stream0.hex" >"$WORK/recorded.hex"
[ "$(wc -l <"$WORK/recorded.hex")" = 2 ] ||
    fail "no HELLO + AUTH of A in the capture ($(wc -l <"$WORK/stream0.hex") stream-0 messages)"
log "recorded A's HELLO ($(( $(head -n1 "$WORK/recorded.hex" | wc -c) / 2 )) bytes) and AUTH ($(( $(tail -n1 "$WORK/recorded.hex" | wc -c) / 2 )) bytes) from the capture"

# ---- 2. the replay, in a new association with the same B, from A's address
log_mark B
out="$WORK/badpeer.out"
rc=0
run_ns A 60 "$out" "$BADPEER" -c "$WORK/a.conf" --target "$LAN_B:9" --bytes 0 --timeout 20 \
    --replay "$WORK/recorded.hex" replay || rc=$?
cat "$out" >&2

# ---- 3. B's reaction
grep -q '^badpeer: replay: sent 2 recorded messages' "$out" || fail "badpeer did not send the recording"
wait_log B 'association (down|closed)' 10
if log_since B | grep -q 'association up'; then
    fail "B accepted the replayed handshake: $(log_since B | grep 'association up')"
fi
grep -q '^badpeer: replay: ok B ended the association' "$out" ||
    fail "B did not end the replayed association (badpeer exit $rc): $(grep '^badpeer:' "$out" | tail -n1)"
name=$(sed -n 's/^name = //p' "$WORK/a.conf" | head -n1)
line=$(log_since B | grep -E "authentication of peer $name at $(wan_ip A 1) failed: its proof does not match" || true)
[ -n "$line" ] || fail "B's log has no failed authentication naming peer $name at $(wan_ip A 1): $(log_since B | grep -E 'error|warn' | head -n 3)"
log "B: ${line#*association: }"
log_mark B
kill -USR1 "${GW_PID[B]}"
wait_log B 'security: pre-shared key id [0-9a-f]+; 1 handshakes failed' 5

# B goes on serving the real A.
log_mark B
gw_start A "$WORK/a.conf"
assoc_up 15
gw_stop A || fail "gateway A exit status $? after SIGTERM"
gw_stop B || fail "gateway B exit status $? after SIGTERM"
pass "a handshake recorded on the wire and replayed in a new association is refused by B (aborted, logged with the peer, counted)"
