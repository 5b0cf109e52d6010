#!/usr/bin/env bash
# mixed_encap (issue 10, test g): the default configuration on both sides
# (no engine, transport or UDP port key anywhere): engine = auto picks the
# kernel engine in the VM, whose kernel has SCTP and UDP encapsulation,
# and the user-space engine on the host, whose kernel has no SCTP; the
# pair speaks SCTP over UDP (RFC 6951) through a tap link; transfers both
# ways started from either side, SHA-256 equal; each gateway's log says
# which engine it chose and why; datagrams of sizes 1 to 4,000 from the
# VM to an echo server on the host come back intact (the kernel engine's
# send_dgram one way, the user-space engine's the other); the capture on the host side of the tap,
# decoded by tshark as SCTP in UDP, shows the handshake and DATA.
set -euo pipefail
SCENARIO=mixed_encap
. "$(dirname "$0")/lib.sh"
vm_setup "$@"
BULK=${BULK:-8388608}
HNS="$PFX-h"
ip netns add "$HNS"
VM_NETNS+=("$HNS")
ip -n "$HNS" link set lo up
ip -n "$HNS" tuntap add dev tapq mode tap
ip -n "$HNS" addr add 198.18.50.1/24 dev tapq
ip -n "$HNS" link set tapq up

vm_psk
cat >"$WORK/host.ini" <<INI
[gateway]
name = host
log_level = info
drain_timeout_ms = 1000
[association]
role = accept
psk_file = $WORK/psk
[path.tap]
local = 198.18.50.1
remote = 198.18.50.2
[forward.back]
listen = 127.0.0.1:8081
target = 127.0.0.1:9001
[egress]
allow = 127.0.0.0/8
INI
ip netns exec "$HNS" "$SGXFER" server 127.0.0.1 9000 "$BULK" 2 >"$WORK/srv.out" 2>&1 &
VM_PIDS+=($!)
ip netns exec "$HNS" "$UDPX" echo 127.0.0.1:9053 >"$WORK/echo.out" 2>&1 &
VM_PIDS+=($!)
ip netns exec "$HNS" tcpdump -Z root -i tapq -n -s 0 -c 300 -U -w "$WORK/mixed.pcap" \
    udp port 9899 2>"$WORK/tcpdump.err" &
VM_PIDS+=($!)
ip netns exec "$HNS" "$SCTPGW" -c "$WORK/host.ini" >"$WORK/gw-host.log" 2>&1 &
GW=$!
VM_PIDS+=("$GW")
for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.err" && break; sleep 0.1; done

vm_initramfs "$HERE/mixed_encap.vm.sh"
VM_IN_NS=$HNS vm_start -netdev tap,id=n0,ifname=tapq,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,romfile=
vm_wait_mark host-turn "${VM_TIMEOUT:-240}"
sha() { "$SGXFER" gen "$1" "$2" | sha256sum | cut -d' ' -f1; }
want_up=$(sha "$BULK" 1)
# The VM's client is done at the server's half-close, maybe before the
# server here has read all of the upload.
for _ in $(seq 600); do grep -q '^recv ' "$WORK/srv.out" && break; sleep 0.1; done
got=$(grep -c "^recv $BULK $want_up\$" "$WORK/srv.out" || true)
[ "$got" = 1 ] || fail "the VM's upload did not reach the host intact: $(cat "$WORK/srv.out")"
ip netns exec "$HNS" "$SGXFER" client 127.0.0.1 8081 "$BULK" 3 >"$WORK/cli.out" 2>&1 ||
    fail "host->VM client failed: $(cat "$WORK/cli.out")"
grep -q "^recv $BULK $(sha "$BULK" 4)\$" "$WORK/cli.out" ||
    fail "the host's download from the VM differs: $(cat "$WORK/cli.out")"
vlog "from the host: $BULK bytes each way, SHA-256 equal"
vm_wait_exit "${VM_TIMEOUT:-240}"
vm_console | grep -E '^\[vm ' >&2 || true
vm_check
grep -q 'engine auto: the kernel has no SCTP (.*); using the user-space engine, transport udp (usrsctp over UDP port 9899, peer.s 9899)' \
    "$WORK/gw-host.log" || fail "the host gateway did not pick the user-space engine: $(grep 'engine' "$WORK/gw-host.log")"
grep -q 'association up' "$WORK/gw-host.log" || fail "the host gateway saw no association"
# Issue 11 (g): authentication and encryption across the two engines.
grep -q 'association up: .*key id [0-9a-f]\{16\}, protection AES-256-GCM' "$WORK/gw-host.log" ||
    fail "the association is not authenticated and encrypted: $(grep 'association up' "$WORK/gw-host.log")"
# SCTP-AUTH across the engines: both HELLOs said so (the host installs
# the handshake's key only then), and the transfers above went through,
# so the VM's kernel took the same key; the capture shows AUTH chunks.
grep -q "SCTP-AUTH: packets authenticated with the handshake's key 1" "$WORK/gw-host.log" ||
    fail "no SCTP-AUTH between the kernel and the user-space engine: $(grep -i 'SCTP-AUTH' "$WORK/gw-host.log")"
# The one end allowed: the VM's gateway stopping at the end (SHUTDOWN).
grep 'association down:' "$WORK/gw-host.log" | grep -v 'closed gracefully' &&
    fail "the host gateway lost the association"
sleep 0.5
assert_handshake_and_data "$WORK/mixed.pcap" -d udp.port==9899,sctp
n=$(tshark -r "$WORK/mixed.pcap" -d udp.port==9899,sctp -Y 'sctp.chunk_type == 15' 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "the capture holds no SCTP AUTH chunk"
vlog "the capture holds $n packets with an SCTP AUTH chunk"
grep -Eq 'transport|udp_encap' "$WORK/host.ini" && fail "the host's config sets a transport key"
pass "default config: kernel engine (VM, auto) <-> user-space engine (host, auto) over UDP, authenticated and encrypted: both ways from both sides"
