#!/usr/bin/env bash
# engine_choice_host: on this (host) kernel, engine = auto picks what the
# kernel allows and says so, and engine = kernel either runs (the kernel
# has SCTP) or exits 1 naming 'modprobe sctp'. The VM half of the check,
# where the sctp module is known to be absent and then loaded, is in
# kernel_pair. Runs in its own network namespace (the user-space engine
# binds a UDP port).
set -euo pipefail
SCENARIO=engine_choice_host
. "$(dirname "$0")/lib.sh"
SCTPGW=$(readlink -f "${1:?usage: $0 SCTPGW}")
[ "$(id -u)" = 0 ] || cannot_run "needs root (network namespace)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgw-vm-$SCENARIO.XXXXXX")
NS="sgvm$$x$(printf '%04x' $((RANDOM)))-e"
ip netns add "$NS"
VM_NETNS+=("$NS")
trap vm_cleanup EXIT
ip -n "$NS" link set lo up
ip -n "$NS" addr add 127.0.0.2/8 dev lo 2>/dev/null || true

(umask 077 && "$SCTPGW" --gen-psk >"$WORK/psk")
conf() {
    cat >"$WORK/$1.ini" <<INI
[gateway]
engine = $1
[association]
role = accept
psk_file = $WORK/psk
[path.lo]
local = 127.0.0.1
remote = 127.0.0.2
INI
}

# What the kernel says, asked the way the gateway asks it.
kernel_sctp=yes
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()' \
    2>/dev/null || kernel_sctp=no
vlog "this kernel can make SCTP sockets: $kernel_sctp"

conf auto
ip netns exec "$NS" "$SCTPGW" -c "$WORK/auto.ini" >"$WORK/auto.log" 2>&1 &
pid=$!
VM_PIDS+=("$pid")
for _ in $(seq 50); do grep -q 'running' "$WORK/auto.log" && break; sleep 0.1; done
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "engine = auto exited $rc: $(cat "$WORK/auto.log")"
if [ "$kernel_sctp" = no ]; then
    grep -q 'engine auto: the kernel has no SCTP (.*); using the user-space engine' \
        "$WORK/auto.log" || fail "auto without kernel SCTP: $(grep engine "$WORK/auto.log")"
else
    grep -Eq 'engine auto: the kernel has SCTP.*; using (the kernel|the user-space) engine, transport udp' "$WORK/auto.log" ||
        fail "auto with kernel SCTP: $(grep engine "$WORK/auto.log")"
fi
vlog "auto: $(grep -o 'engine auto: .*' "$WORK/auto.log")"

conf kernel
rc=0
timeout 10 ip netns exec "$NS" "$SCTPGW" -c "$WORK/kernel.ini" >"$WORK/kernel.log" 2>&1 || rc=$?
if [ "$kernel_sctp" = no ]; then
    [ "$rc" = 1 ] || fail "engine = kernel on a kernel without SCTP exited $rc, want 1"
    grep -q "error .*engine = kernel, but this kernel cannot make SCTP sockets (.*): load the module with 'modprobe sctp' (in a container, load it on the host" \
        "$WORK/kernel.log" || fail "engine = kernel message: $(cat "$WORK/kernel.log")"
    vlog "kernel: exit 1, $(grep -o 'engine = kernel.*' "$WORK/kernel.log")"
else
    # It runs until stopped: timeout's TERM, then a clean exit (124).
    [ "$rc" = 124 ] || fail "engine = kernel on a kernel with SCTP exited $rc: $(cat "$WORK/kernel.log")"
    grep -q 'engine kernel: as configured' "$WORK/kernel.log" || fail "engine = kernel did not say so"
fi
pass "engine choice on this kernel (SCTP: $kernel_sctp) is what the documentation says"
