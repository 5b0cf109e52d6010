#!/usr/bin/env bash
# vm_engines: user-space vs kernel SCTP engine, bulk throughput side by side
# in one VM boot (qemu TCG, Debian's cloud kernel, the harness of
# tests/vm/lib.sh). Not part of the test command.
#   sudo bench/vm_engines.sh build/src/sctpgw build/tests/sgxfer
# BULK (bytes each way, default 32 MiB). Prints both rates and their ratio.
# TCG emulates the CPU, so absolute numbers are far below real hardware;
# compare the ratio, measured in one run.
set -euo pipefail
SCENARIO=vm_engines
. "$(dirname "$0")/../tests/vm/lib.sh"
vm_setup "$@"
vm_initramfs "$(dirname "$0")/vm_engines.vm.sh"
VM_APPEND="BULK=${BULK:-33554432}" vm_start
vm_wait_exit "${VM_TIMEOUT:-600}"
vm_check
# A kernel message may share the console line: match BENCH anywhere.
vm_console | awk '/BENCH / {sub(/.*BENCH /, "BENCH "); r[$2] = $4; printf "%-10s %7.2f s  %7.2f MB/s (both directions together)\n", $2, $3, $4}
    END {if (r["userspace"] > 0) printf "kernel / userspace throughput ratio: %.2f\n", r["kernel"] / r["userspace"]}'
VM_OK=1
