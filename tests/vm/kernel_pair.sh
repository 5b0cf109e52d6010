#!/usr/bin/env bash
# kernel_pair: two kernel-engine gateways inside the VM (transport = sctp, two
# namespaces): bulk both ways from each side and 50 concurrent connections,
# SHA-256 equal; engine = auto picks the kernel there, and before the sctp
# module is loaded it falls back while engine = kernel exits 1 naming
# 'modprobe sctp'; a second gateway on the SCTP port in use exits 1
# naming it; tshark decodes the handshake and DATA from the VM's capture.
set -euo pipefail
SCENARIO=kernel_pair
. "$(dirname "$0")/lib.sh"
vm_setup "$@"
vm_initramfs "$HERE/kernel_pair.vm.sh"
vm_start
vm_wait_exit "${VM_TIMEOUT:-240}"
vm_console | grep -E '^\[vm ' >&2 || true
vm_check
vm_file kernel_pair.pcap "$WORK/kernel_pair.pcap"
assert_handshake_and_data "$WORK/kernel_pair.pcap"
pass "kernel engine pair: bulk both ways, 50 concurrent, SHA-256 equal; handshake and DATA on the wire"
