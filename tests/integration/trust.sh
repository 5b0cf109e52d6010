#!/usr/bin/env bash
# trust: the pre-shared key and the sealing of every message (issue 11),
# with the real user-space engine on a real (veth) WAN link.
#  (a) matching keys: the association comes up authenticated and encrypted
#      and a transfer is intact; mismatched keys: no stream opens, both
#      gateways log the failed authentication, the connect side backs off
#      (a handful of attempts, not a spin) and counts them in its status;
#  (d) a capture of the WAN link during a transfer of a known plaintext
#      holds none of it with encrypt = yes (the default) and holds it with
#      encrypt = no on both gateways (proof that the capture can see it);
#  insecure = yes on both: up, with the warning at start and in the status.
set -euo pipefail
SCENARIO=trust
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tcpdump
need_cmd socat
setup "$@"

topo_up
MARK="sctpgw-known-plaintext-7f3a9c"
python3 -c "import sys; sys.stdout.write(('$MARK ' * 40 + '\n') * 2000)" >"$WORK/plain.txt"
want=$(sha256sum <"$WORK/plain.txt" | cut -d' ' -f1)

# send_plain TAG: the known plaintext from lan-a through A to a sink in
# lan-b while the WAN link of A is captured into $WORK/TAG.pcap; the sink's
# copy must be identical. Prints how many times the marker is in the pcap.
send_plain() {
    local tag=$1 got n
    rm -f "$WORK/recv-$tag.txt"
    bg_ns lan-b "$WORK/sink-$tag.log" socat -u "TCP-LISTEN:$SRV_PORT,reuseaddr" \
        "OPEN:$WORK/recv-$tag.txt,creat"
    wait_listen lan-b "$SRV_PORT"
    bg_ns A "$WORK/tcpdump-$tag.log" tcpdump -Z root -i wan1 -n -s 0 -U -w "$WORK/$tag.pcap" udp
    local cap=$BG_PID
    for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump-$tag.log" && break; sleep 0.1; done
    run_ns lan-a 30 "$WORK/send-$tag.log" socat -u "FILE:$WORK/plain.txt" "TCP:$A_LAN:$FWD_PORT" ||
        fail "$tag: the transfer failed: $(cat "$WORK/send-$tag.log")"
    for _ in $(seq 100); do
        got=$(sha256sum <"$WORK/recv-$tag.txt" 2>/dev/null | cut -d' ' -f1 || true)
        [ "$got" = "$want" ] && break
        sleep 0.1
    done
    [ "$got" = "$want" ] || fail "$tag: the sink got other bytes ($(wc -c <"$WORK/recv-$tag.txt") of $(wc -c <"$WORK/plain.txt"))"
    sleep 0.5
    kill -INT "$cap" 2>/dev/null || true
    wait "$cap" 2>/dev/null || true
    [ -s "$WORK/$tag.pcap" ] || fail "$tag: the capture is empty"
    n=$(grep -a -o "$MARK" "$WORK/$tag.pcap" | wc -l)
    log "$tag: transfer intact (sha256 $want); the capture ($(stat -c %s "$WORK/$tag.pcap") bytes) holds the plaintext $n times"
    echo "$n"
}

# ---- (a), (d): matching keys, encrypted by default
pair_up
for s in A B; do
    log_since "$s" | grep -q 'association up: .*protection AES-256-GCM' ||
        fail "gateway $s: association not up with AES-256-GCM: $(log_since "$s" | grep 'association up')"
done
n=$(send_plain encrypted)
[ "$n" = 0 ] || fail "(d) encrypt = yes: the known plaintext is on the wire $n times"
gw_stop A; gw_stop B

# ---- (d): encrypt = no on both: integrity only, the plaintext is visible
CONF_ASSOC="encrypt = no" pair_up
for s in A B; do
    log_since "$s" | grep -q 'warn .*encrypt = no: messages are authenticated but travel in clear' ||
        fail "gateway $s: no warning for encrypt = no"
    log_since "$s" | grep -q 'association up: .*protection integrity only' ||
        fail "gateway $s: association not in integrity-only mode"
done
n=$(send_plain integrity)
[ "$n" -gt 0 ] || fail "(d) encrypt = no: the capture does not show the plaintext: the capture check proves nothing"
gw_stop A; gw_stop B

# ---- (a): mismatched keys
(umask 077 && "$SCTPGW" --gen-psk >"$WORK/other.psk")
write_gw_conf A "$WORK/a.conf"
CONF_PSK_FILE="$WORK/other.psk" write_gw_conf B "$WORK/b-other.conf"
gw_start B "$WORK/b-other.conf"
gw_start A "$WORK/a.conf"
wait_log A 'authentication of peer .* failed|ended during authentication' 15
wait_log B 'authentication of peer .* failed|ended during authentication' 15
bg_ns lan-b "$WORK/sink-mismatch.log" socat -u "TCP-LISTEN:$SRV_PORT,reuseaddr" \
    "OPEN:$WORK/recv-mismatch.txt,creat"
sink=$BG_PID
wait_listen lan-b "$SRV_PORT"
run_ns lan-a 10 "$WORK/send-mismatch.log" socat -u "FILE:$WORK/plain.txt" "TCP:$A_LAN:$FWD_PORT" || true
sleep 4
for s in A B; do
    log_since "$s" | grep -q 'association up' && fail "gateway $s: association up with mismatched keys"
done
# Nothing crossed: the target never saw a connection, let alone bytes.
[ -e "$WORK/recv-mismatch.txt" ] && fail "a connection reached the target with mismatched keys"
kill "$sink" 2>/dev/null || true
log_since A | grep -E 'no key in common|ended during authentication' | head -n 2 >&2
tries=$(log_since A | grep -cE 'authentication of peer .* failed|ended during authentication')
log "mismatched keys: $tries failed handshakes logged by A in about 5 s"
[ "$tries" -ge 2 ] || fail "the connect side did not retry ($tries attempts)"
[ "$tries" -le 8 ] || fail "the connect side spins: $tries attempts in about 5 s"
log_mark A
kill -USR1 "${GW_PID[A]}"
wait_log A 'security: pre-shared key id [0-9a-f]+; [1-9][0-9]* handshakes failed' 5
log_since B | grep -E 'authentication of peer' | grep -qE ' at 198\.18\.|at \[?2001:2' ||
    fail "gateway B's log does not name the peer's address: $(log_since B | grep -m1 authentication)"
gw_stop A; gw_stop B

# ---- insecure = yes on both: works, warns at start and in the status
CONF_PSK_FILE=none CONF_ASSOC="insecure = yes" pair_up
for s in A B; do
    log_since "$s" | grep -q 'warn .*insecure = yes: the peer is not authenticated' ||
        fail "gateway $s: no insecure warning at start"
done
log_mark A
kill -USR1 "${GW_PID[A]}"
wait_log A 'warn .*insecure = yes' 5
gw_stop A; gw_stop B
pass "matching keys encrypted, encrypt = no visible, mismatched keys refused with back-off, insecure warns"
