#!/usr/bin/env bash
# kernel_failover: inside the VM two kernel-engine gateways with two paths;
# the preferred path is cut mid-transfer; the data arrives intact over the
# other, with no association loss and no connection reset.
set -euo pipefail
SCENARIO=kernel_failover
. "$(dirname "$0")/lib.sh"
vm_setup "$@"
vm_initramfs "$HERE/kernel_failover.vm.sh"
vm_start
vm_wait_exit "${VM_TIMEOUT:-240}"
vm_console | grep -E '^\[vm |path|primary' >&2 || true
vm_check
pass "preferred path cut mid-transfer on the kernel engine: data intact, association kept"
