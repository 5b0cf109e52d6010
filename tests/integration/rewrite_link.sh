#!/usr/bin/env bash
# rewrite_link (issue 11, test c): packets altered or forged on the wire
# leave the connection intact.  The WAN link is the emulator
# (tests/tools/wanem.c) with -x: it inverts 4 bytes of user data in every
# Kth packet that carries an SCTP DATA chunk, in both directions, and makes
# the SCTP CRC32c and the UDP checksum right again, as an on-path attacker
# would, so only an authentication can tell; and with -i: of every Jth
# such packet it sends a copy rewritten the same way ahead of the real one
# (a forged packet with the right verification tag and TSN, first).  Through it, a bulk transfer both
# ways (xfer.py: every byte checked, the SHA-256 of the upload compared at
# both ends).  With SCTP-AUTH (docs/SECURITY.md "Packets: SCTP-AUTH") the
# stack drops each rewritten packet before acknowledging it, the sender
# sends it again, and:
#   - the transfer is intact (no connection reset, no byte lost);
#   - both gateways delete RFC 4895's null key 10 s after the handshake;
#   - the association stays up (one 'association up' on each side, no
#     'association down');
#   - the gateways count the dropped packets (status: packets failing
#     SCTP-AUTH; /metrics is the same counter) >= what wanem rewrote
#     toward them, and no sealed message failed to open (the AEAD saw
#     nothing bad: SCTP-AUTH stopped every rewrite before).
# Without SCTP-AUTH (checked with the engine's chunk list left empty) each
# rewritten or forged message passes SCTP, fails the AEAD, and its connection is
# reset: this test fails. Its last part runs A with packet_auth = no and
# checks exactly that (and the warnings on both sides).
#
#   usage: rewrite_link.sh SCTPGW
set -euo pipefail
SCENARIO=rewrite_link
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"

EVERY=${REWRITE_EVERY:-40}
INJECT=${INJECT_EVERY:-70}
WANEM_OPTS="-x $EVERY -i $INJECT" topo_up --wan "1:1:0:0:1000"
xfer_server lan-b "$LAN_B:$SRV_PORT"
pair_up
for s in A B; do
    log_since "$s" | grep -q 'association up: .*protection AES-256-GCM' ||
        fail "gateway $s: association not up authenticated: $(log_since "$s" | grep 'association up')"
done
# Both gateways run SCTP-AUTH with the handshake's key (debug lines).
for s in A B; do
    wait_log "$s" 'SCTP-AUTH key 1: activate' 10
done

# 4 connections, 16 MiB up and 16 MiB down each.
out="$WORK/xfer.out"
rc=0
run_ns lan-a 240 "$out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 16M --down 16M --count 4 --parallel 4 --timeout 60 || rc=$?
cat "$out" >&2
xfer_check "$rc" "$out" "transfer through the rewriting link"
# A grace time (10 s) after the handshake, the null key is gone on both
# sides: only the key derived from the PSK and both nonces is accepted.
for s in A B; do
    wait_log "$s" "SCTP-AUTH: only the handshake's key 1 is accepted now" 15
done

ab=$(wan_counter 1 'a>b' corrupted)
ba=$(wan_counter 1 'b>a' corrupted)
iab=$(wan_counter 1 'a>b' injected)
iba=$(wan_counter 1 'b>a' injected)
log "wanem rewrote $ab packets toward B and $ba toward A (every ${EVERY}th DATA packet), and forged $iab and $iba ahead of real ones"
[ "$ab" -gt 10 ] && [ "$ba" -gt 10 ] || fail "wanem rewrote too few packets ($ab, $ba): the test proves nothing"
[ "$iab" -gt 10 ] && [ "$iba" -gt 10 ] || fail "wanem forged too few packets ($iab, $iba): the test proves nothing"
ab=$((ab + iab))
ba=$((ba + iba))

for s in A B; do
    n=$(log_since "$s" | grep -c 'association up' || true)
    [ "$n" = 1 ] || fail "gateway $s: the association came up $n times (it went down?)"
    log_since "$s" | grep -q 'association down' && fail "gateway $s: the association went down"
done

# The counters: each side dropped at least what wanem rewrote toward it
# (retransmissions of a rewritten packet may be rewritten again); the AEAD
# saw nothing.
for s in A B; do
    log_mark "$s"
    kill -USR1 "${GW_PID[$s]}"
    wait_log "$s" 'packets failing SCTP-AUTH [0-9]+' 5
    wait_log "$s" 'security: pre-shared key' 5
done
got_b=$(log_since B | sed -n 's/.*packets failing SCTP-AUTH \([0-9]*\).*/\1/p' | tail -n1)
got_a=$(log_since A | sed -n 's/.*packets failing SCTP-AUTH \([0-9]*\).*/\1/p' | tail -n1)
log "packets dropped by SCTP-AUTH: $got_b at B (wanem rewrote or forged $ab toward it), $got_a at A ($ba)"
[ "$got_b" -ge "$ab" ] || fail "B dropped $got_b packets for SCTP-AUTH, wanem rewrote $ab toward it"
[ "$got_a" -ge "$ba" ] || fail "A dropped $got_a packets for SCTP-AUTH, wanem rewrote $ba toward it"
for s in A B; do
    log_since "$s" | grep -q ' 0 messages forged or altered, 0 replayed, 0 gaps' ||
        fail "gateway $s: a rewritten message reached the AEAD: $(log_since "$s" | grep 'security:')"
done

# Then A again with packet_auth = no (for links already protected): A warns
# at start, B finds no SCTP-AUTH on the association and says so, and what
# SCTP-AUTH stopped above now reaches the AEAD: the altered messages are
# dropped and counted, and the connections they hit are reset.
gw_stop A || fail "gateway A exit status $?"
log_mark B
CONF_ASSOC="packet_auth = no" write_gw_conf A "$WORK/a-noauth.conf"
gw_start A "$WORK/a-noauth.conf"
assoc_up
log_since A | grep -q 'warn .*packet_auth = no: no SCTP-AUTH' ||
    fail "gateway A: no warning for packet_auth = no"
wait_log B 'no SCTP-AUTH on this association' 5
rc=0
run_ns lan-a 120 "$WORK/noauth.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up 4M --down 4M --count 4 --parallel 4 --timeout 30 || rc=$?
[ "$rc" != 0 ] || fail "with packet_auth = no all 4 connections survived the rewriting link"
forged=0
for s in A B; do
    log_mark "$s"
    kill -USR1 "${GW_PID[$s]}"
    wait_log "$s" 'messages forged or altered' 5
    n=$(log_since "$s" | sed -n 's/.*, \([0-9]*\) messages forged or altered.*/\1/p' | tail -n1)
    forged=$((forged + ${n:-0}))
done
[ "$forged" -gt 0 ] || fail "with packet_auth = no no altered message was counted by the AEAD"
log "packet_auth = no: $forged altered messages dropped by the AEAD, connections reset ($(grep -c . "$WORK/noauth.out") lines of xfer output)"
gw_stop A || fail "gateway A exit status $?"
gw_stop B || fail "gateway B exit status $?"
pass "every ${EVERY}th DATA packet rewritten and every ${INJECT}th forged ahead on the wire ($ab + $ba): dropped by SCTP-AUTH ($got_b + $got_a), 4 x 16 MiB both ways intact, association up throughout; with packet_auth = no $forged caught by the AEAD and connections reset"
