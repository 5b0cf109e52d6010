#!/usr/bin/env bash
# fetch_kernel.sh CACHE: put Debian's cloud kernel and the modules the VM
# scenarios load into CACHE (default .cache/vm in the source tree):
#   CACHE/vmlinuz, CACHE/modules/*.ko, CACHE/version
# Downloads nothing but the Debian package linux-image-cloud-amd64 names
# (apt-get download, from the configured Debian mirror). Idempotent; safe
# to run from several tests at once (flock).
set -euo pipefail
cache=${1:-$(cd "$(dirname "$0")/../.." && pwd)/.cache/vm}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# sctp and what it needs (UDP encapsulation), veth for namespaces inside
# the VM, virtio-net for the tap link; in the order insmod needs them.
MODULES="libcrc32c udp_tunnel ip6_udp_tunnel sctp veth virtio_ring virtio
virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

[ -s "$cache/vmlinuz" ] && [ -s "$cache/modules/virtio_net.ko" ] && exit 0

pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$pkg" ]; then
    echo "fetch_kernel: apt-cache knows no linux-image-cloud-amd64 (run apt-get update)" >&2
    exit 1
fi
tmp=$(mktemp -d "$cache/dl.XXXXXX")
chmod 777 "$tmp" # apt-get download hands the file to user _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
dpkg-deb -x "$tmp"/*.deb "$tmp/x"
mkdir -p "$cache/modules"
cp "$tmp"/x/boot/vmlinuz-* "$cache/vmlinuz"
for m in $MODULES; do
    f=$(find "$tmp/x/lib/modules" -name "$m.ko" | head -n1)
    [ -n "$f" ] || { echo "fetch_kernel: $pkg has no module $m" >&2; exit 1; }
    cp "$f" "$cache/modules/"
done
echo "$MODULES" | tr -s ' \n' ' ' >"$cache/modules/order"
echo "$pkg" >"$cache/version"
echo "fetch_kernel: $pkg ready in $cache" >&2
