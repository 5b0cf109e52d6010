#!/usr/bin/env bash
# Install what sctpgw needs to build, test and demo, from Debian packages.
# Runs apt-get only when something is missing (or always when CI=true).
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config gcc python3 curl iproute2 libev-dev libiniparser-dev libusrsctp-dev
            libsctp-dev libcmocka-dev libsystemd-dev libssl-dev
            libmicrohttpd-dev  # the admin endpoint (issue 10)
            libc-ares-dev)     # host-name targets, resolved without blocking (issue 9)
test_pkgs=(socat iproute2 nftables procps valgrind clang-format iperf3 jq iputils-ping
           qemu-system-x86 busybox-static ethtool tcpdump tshark
           clang libclang-rt-dev  # tests/fuzz: libFuzzer, ASan, UBSan
           debootstrap systemd-container podman runc catatonit containernetworking-plugins iptables
           debhelper dpkg-dev lintian
           prometheus  # promtool check metrics
           nginx-light dnsmasq-base bind9-dnsutils)  # capture, DNS and host-name scenarios
# bench/run.sh and bench/profile.sh: the peers and the load, the profiler
bench_pkgs=(iproute2 procps python3 gcc pkg-config socat iperf3 kcptun linux-perf valgrind)

want=("${build_pkgs[@]}")
case "${1:-}" in
    --test) want+=("${test_pkgs[@]}") ;;
    --bench) want+=("${bench_pkgs[@]}") ;;
    '') ;;
    *) echo "usage: $0 [--test|--bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The VM scenarios' kernel: the Debian package linux-image-cloud-amd64
# names, downloaded (not installed) into .cache/vm (tests/vm/fetch_kernel.sh).
fetch_kernel() {
    [ "${1:-}" = "--test" ] || return 0
    bash "$(dirname "$0")/../tests/vm/fetch_kernel.sh" ||
        echo "deps: could not fetch the VM kernel (the vm suite will fail and say why)" >&2
}

if [ "${CI:-}" != "true" ] && [ ${#missing[@]} -eq 0 ]; then
    fetch_kernel "${1:-}"
    exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]:-${want[*]}}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fetch_kernel "${1:-}"
