# shellcheck shell=bash
# lib.sh - host side of the VM scenarios: boot Debian's cloud kernel in
# qemu (TCG) with an initramfs that holds busybox, sctpgw, sgxfer, ip,
# tcpdump, ethtool, their shared libraries and the kernel modules, and run
# one scenario script (NAME.vm.sh, busybox sh, with vmlib.sh) inside it.
#
# Use from a scenario (bash, set -euo pipefail):
#   . "$(dirname "$0")/lib.sh"; vm_setup "$@"
#   vm_initramfs "$HERE/NAME.vm.sh"; vm_start; vm_wait_exit 120; vm_check
# Every qemu, tcpdump and gateway started here is killed on exit; the work
# dir (console log, pcaps, gateway logs) is kept when the scenario fails.
#
# The kernel comes from fetch_kernel.sh (contrib/deps.sh runs it too).
# With CI=true a scenario that cannot run fails instead of skipping.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_PIDS=()     # qemu and every helper we started
VM_NETNS=()    # host namespaces we created
VM_OK=0
VM_QEMU_PID=""

vlog() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "${SCENARIO:-vm}" "$*" >&2; }

fail() {
    echo "FAIL: ${SCENARIO:-vm}: $*" >&2
    if [ -n "${WORK:-}" ] && [ -f "$WORK/console.log" ]; then
        echo "---- VM console (last 80 lines): $WORK/console.log" >&2
        tr -d '\r' <"$WORK/console.log" | tail -n 80 >&2
    fi
    exit 1
}

pass() {
    VM_OK=1
    echo "PASS: ${SCENARIO:-vm}${1:+: $*}" >&2
    exit 0
}

# cannot_run WHY: skip (77), or fail under CI=true.
cannot_run() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: ${SCENARIO:-vm}: $* (CI=true, so not skipping)" >&2
        exit 1
    fi
    echo "SKIP: ${SCENARIO:-vm}: $*" >&2
    exit 77
}

vm_cleanup() {
    local rc=$? p ns
    for p in "${VM_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${VM_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    for ns in "${VM_NETNS[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        if [ "$VM_OK" = 1 ] && [ "$rc" = 0 ]; then
            rm -rf "$WORK"
        else
            echo "(logs kept in $WORK)" >&2
        fi
    fi
}

# vm_setup SCTPGW SGXFER: check what is needed, get the kernel, make WORK.
vm_setup() {
    SCTPGW=${1:-}; SGXFER=${2:-}
    [ -x "$SCTPGW" ] && [ -x "$SGXFER" ] || { echo "usage: $0 SCTPGW SGXFER" >&2; exit 2; }
    SCTPGW=$(readlink -f "$SCTPGW"); SGXFER=$(readlink -f "$SGXFER")
    # The UDP test tool (tests/tools/udpx.c), built beside sgxfer.
    UDPX=${UDPX:-$(dirname "$SGXFER")/udpx}
    [ -x "$UDPX" ] || cannot_run "no udp test tool at $UDPX (build the tests, or set UDPX)"
    SRCDIR=${SCTPGW_SRC:-$(cd "$HERE/../.." && pwd)}
    CACHE=${SCTPGW_VM_CACHE:-$SRCDIR/.cache/vm}
    [ "$(id -u)" = 0 ] || cannot_run "needs root (namespaces, tap)"
    local t
    for t in qemu-system-x86_64 busybox ip tcpdump ethtool apt-get dpkg-deb; do
        command -v "$t" >/dev/null 2>&1 || cannot_run "needs $t (bash contrib/deps.sh --test)"
    done
    ldd "$(command -v busybox)" >/dev/null 2>&1 && cannot_run "busybox is not static (busybox-static)"
    bash "$HERE/fetch_kernel.sh" "$CACHE" || cannot_run "cannot get the Debian cloud kernel"
    PFX="sgvm$$x$(printf '%04x' $((RANDOM)))"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgw-vm-${SCENARIO:-vm}.XXXXXX")
    trap vm_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    vlog "kernel $(cat "$CACHE/version"), work dir $WORK"
}

# Copy BIN and the shared libraries it loads into the staging root ROOT.
_vm_copy_bin() {
    local root=$1 bin=$2 dest=$3 lib
    install -D -m 755 "$bin" "$root$dest"
    for lib in $(ldd "$bin" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]*ld-linux/ {print $1}'); do
        [ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
    done
}

# vm_psk: $WORK/psk, the pre-shared key of this run's gateways (made once).
vm_psk() {
    [ -f "$WORK/psk" ] || (umask 077 && "$SCTPGW" --gen-psk >"$WORK/psk")
}

# vm_initramfs SCENARIO.vm.sh: build $WORK/initrd (uncompressed newc cpio).
vm_initramfs() {
    local root="$WORK/root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/modules" "$root/etc"
    install -m 755 "$(command -v busybox)" "$root/bin/busybox"
    _vm_copy_bin "$root" "$SCTPGW" /usr/local/bin/sctpgw
    # The pair's key (vm_conf's psk_file), shared with a host gateway.
    vm_psk
    install -m 600 "$WORK/psk" "$root/etc/sctpgw.psk"
    _vm_copy_bin "$root" "$SGXFER" /usr/local/bin/sgxfer
    _vm_copy_bin "$root" "$UDPX" /usr/local/bin/udpx
    # Ahead of busybox in PATH (init.sh): the real ones win over the applets.
    _vm_copy_bin "$root" "$(command -v ip)" /usr/local/bin/ip
    _vm_copy_bin "$root" "$(command -v tcpdump)" /usr/local/bin/tcpdump
    _vm_copy_bin "$root" "$(command -v ethtool)" /usr/local/bin/ethtool
    cp "$CACHE"/modules/*.ko "$root/modules/"
    install -m 755 "$HERE/init.sh" "$root/init"
    install -m 644 "$HERE/vmlib.sh" "$root/vmlib.sh"
    install -m 755 "$1" "$root/scenario.sh"
    echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
    echo "tcpdump:x:0:" >"$root/etc/group"
    (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$WORK/initrd"
    vlog "initramfs $(($(stat -c %s "$WORK/initrd") / 1048576)) MiB"
}

# vm_start [QEMU ARGS...]: boot in the background; console in
# $WORK/console.log. With VM_IN_NS set, qemu runs in that host namespace.
# VM_APPEND ("KEY=VALUE ...") reaches the scenario as environment: the
# kernel hands command-line words it does not know to init.
vm_start() {
    local nic=(-nic none)
    [ $# -gt 0 ] && nic=("$@")
    local run=()
    [ -n "${VM_IN_NS:-}" ] && run=(ip netns exec "$VM_IN_NS")
    "${run[@]}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 \
        -nographic -no-reboot -kernel "$CACHE/vmlinuz" -initrd "$WORK/initrd" \
        -append "console=ttyS0 quiet panic=-1 rdinit=/init ${VM_APPEND:-}" "${nic[@]}" \
        </dev/null >"$WORK/console.log" 2>&1 &
    VM_QEMU_PID=$!
    VM_PIDS+=("$VM_QEMU_PID")
    VM_T0=$(date +%s.%N)
    vlog "qemu started (pid $VM_QEMU_PID)"
}

vm_console() { tr -d '\r' <"$WORK/console.log"; }

# vm_wait_mark WORD SECONDS: wait for "VM-MARK WORD" on the console.
vm_wait_mark() {
    local i=0
    until vm_console | grep -q "^VM-MARK $1\$"; do
        kill -0 "$VM_QEMU_PID" 2>/dev/null || fail "VM ended before VM-MARK $1"
        i=$((i + 1))
        [ $i -gt $(($2 * 10)) ] && fail "no VM-MARK $1 within $2 s"
        sleep 0.1
    done
}

# vm_wait_exit SECONDS: wait for qemu to end (the scenario powers off).
vm_wait_exit() {
    local i=0
    while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $(($1 * 10)) ] && fail "the VM did not finish within $1 s"
        sleep 0.1
    done
    wait "$VM_QEMU_PID" 2>/dev/null || true
    vlog "VM done in $(awk -v a="$VM_T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
}

# vm_check: the scenario's verdict from the console.
vm_check() {
    local rc
    rc=$(vm_console | awk '/^VM-EXIT / {print $2}' | tail -n1)
    [ -n "$rc" ] || fail "the VM printed no VM-EXIT (kernel panic or init failure?)"
    [ "$rc" = 0 ] || fail "$(vm_console | grep '^VM-FAIL' | head -n1)"
}

# vm_file NAME OUT: a file the VM printed with vm_send_file.
vm_file() {
    vm_console | awk -v n="$1" '$0 == "VM-BEGIN-FILE " n {on = 1; next}
        /^VM-END-FILE/ {on = 0} on' | base64 -d >"$2" ||
        fail "file $1 from the VM is damaged"
    [ -s "$2" ] || fail "the VM sent no file $1"
}

# assert_handshake_and_data PCAP [TSHARK ARGS...]: tshark decodes SCTP
# INIT, INIT ACK, COOKIE ECHO, COOKIE ACK and DATA chunks in PCAP.
assert_handshake_and_data() {
    local pcap=$1 types t name
    shift
    command -v tshark >/dev/null 2>&1 || cannot_run "needs tshark"
    types=$(tshark -n -r "$pcap" "$@" -Y sctp -T fields -e sctp.chunk_type 2>/dev/null |
        tr ',' '\n' | sort -u | tr '\n' ' ')
    for t in 1:INIT 2:INIT-ACK 10:COOKIE-ECHO 11:COOKIE-ACK 0:DATA 3:SACK; do
        name=${t#*:}
        case " $types " in *" ${t%%:*} "*) ;; *) fail "$pcap: no SCTP $name chunk decoded (chunk types seen: $types)" ;; esac
    done
    vlog "tshark decoded chunk types: $types(INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK, DATA, SACK present)"
}
