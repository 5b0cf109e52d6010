# shellcheck shell=sh
# vmlib.sh - helpers for the scenarios that run INSIDE the test VM (busybox
# sh). Sourced by each tests/vm/*.vm.sh, which lib.sh installs as
# /scenario.sh with /vmlib.sh beside it.
#
# Output contract with the host (lib.sh reads the serial console):
#   "VM-EXIT N"          the scenario's exit status (init.sh prints it)
#   "VM-FAIL: why"       printed by vm_fail before exiting 1
#   "VM-BEGIN-FILE name" base64 lines "VM-END-FILE": a file for the host
#   "VM-MARK word"       a point the host may wait for
set -u
# Debian's static busybox runs its own applets ahead of PATH: these real
# tools (copied in by lib.sh) are called through functions instead.
# A function run in the background is a subshell whose pid is not the
# tool's: background jobs use "$IP" directly.
IP=/usr/local/bin/ip
ip() { "$IP" "$@"; }
WAN_A=198.18.1.1
WAN_B=198.18.1.2
WAN2_A=198.18.2.1
WAN2_B=198.18.2.2
GW_PIDS=""

vlog() { echo "[vm $(cut -d' ' -f1 /proc/uptime)s] $*"; }

vm_fail() {
    echo "VM-FAIL: $*"
    for f in /tmp/gw-*.log; do
        [ -f "$f" ] || continue
        echo "---- $f (engine, association and path lines; last 10 lines)"
        grep -E 'engine|association|path|primary|error|warn' "$f" | tail -n 30
        echo "...."
        tail -n 10 "$f"
    done
    exit 1
}

# insmod the named modules (in the order given; dependencies first).
vm_insmod() {
    for m in "$@"; do
        grep -q "^$m " /proc/modules && continue
        insmod "/modules/$m.ko" || vm_fail "insmod $m failed"
    done
}

vm_load_sctp() { vm_insmod libcrc32c udp_tunnel ip6_udp_tunnel sctp; }

vm_load_virtio_net() {
    vm_insmod virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
        failover net_failover virtio_net
}

# vm_two_ns N: namespaces a and b joined by N veth links (N = 1 or 2):
# wanK: 198.18.K.1/24 (a) <-> 198.18.K.2/24 (b). Loopback up in both.
vm_two_ns() {
    vm_insmod veth
    ip netns add a || vm_fail "ip netns add a"
    ip netns add b || vm_fail "ip netns add b"
    k=1
    while [ "$k" -le "$1" ]; do
        ip link add "wan$k" netns a type veth peer name "wan$k" netns b ||
            vm_fail "veth wan$k"
        ip -n a addr add "198.18.$k.1/24" dev "wan$k"
        ip -n b addr add "198.18.$k.2/24" dev "wan$k"
        ip -n a link set "wan$k" up
        ip -n b link set "wan$k" up
        k=$((k + 1))
    done
    ip -n a link set lo up
    ip -n b link set lo up
}

# vm_conf FILE ROLE ENGINE LOCAL1 REMOTE1 [LOCAL2 REMOTE2] -- then
# extra lines on stdin go to the end ([forward.*], [sctp] ...), after an
# [egress] section that allows loopback. With VM_TRANSPORT set,
# [association] gets transport = VM_TRANSPORT; without it the file has no
# transport key (the default, udp).
vm_conf() {
    file=$1 role=$2 engine=$3
    {
        printf '[gateway]\nname = %s\nengine = %s\nlog_level = debug\n' \
            "$(basename "$file" .ini)" "$engine"
        printf 'drain_timeout_ms = 1000\n'
        printf '[association]\nrole = %s\npsk_file = /etc/sctpgw.psk\n' "$role"
        if [ -n "${VM_TRANSPORT:-}" ]; then printf 'transport = %s\n' "$VM_TRANSPORT"; fi
        printf '[path.p1]\nlocal = %s\nremote = %s\npriority = 10\n' "$4" "$5"
        if [ $# -ge 7 ]; then
            printf '[path.p2]\nlocal = %s\nremote = %s\npriority = 20\n' "$6" "$7"
        fi
        # Every VM scenario's targets are on loopback ([egress] allow).
        printf '[egress]\nallow = 127.0.0.0/8, ::1\n'
        cat
    } >"$file"
}

# vm_gw NAME NS CONF: start a gateway in namespace NS, log in /tmp/gw-NAME.log.
vm_gw() {
    "$IP" netns exec "$2" sctpgw -c "$3" >"/tmp/gw-$1.log" 2>&1 &
    GW_PIDS="$GW_PIDS $!"
    eval "GW_PID_$1=$!"
}

# vm_wait_log FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN.
vm_wait_log() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt $(($3 * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

# vm_expect_recv FILE COUNT BYTES SHA: FILE holds exactly COUNT lines
# "recv BYTES SHA" (sgxfer's report of each connection). A client is done
# once it has the server's half-close, possibly before the server has read
# all of the upload: wait up to 60 s for COUNT reports first.
vm_expect_recv() {
    i=0
    while [ "$(grep -c '^recv ' "$1" 2>/dev/null || true)" -lt "$2" ] && [ $i -lt 600 ]; do
        i=$((i + 1))
        sleep 0.1
    done
    n=$(grep -c "^recv $3 $4\$" "$1" 2>/dev/null || true)
    total=$(grep -c '^recv ' "$1" 2>/dev/null || true)
    [ "$n" = "$2" ] && [ "$total" = "$2" ] && return 0
    echo "---- $1:"
    sort "$1" | uniq -c | head -n 5
    vm_fail "$1: $n of $2 connections received $3 bytes with SHA-256 $4 ($total reports)"
}

# The SHA-256 of sgxfer's stream, by busybox (not sgxfer's own code).
vm_sha() { sgxfer gen "$1" "$2" | sha256sum | cut -d' ' -f1; }

# vm_send_file NAME PATH: hand a file to the host over the console.
vm_send_file() {
    echo "VM-BEGIN-FILE $1"
    base64 "$2"
    echo "VM-END-FILE"
}

vm_stop_gateways() {
    for p in $GW_PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $GW_PIDS; do wait "$p" 2>/dev/null; done
    GW_PIDS=""
}
