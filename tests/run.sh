#!/usr/bin/env bash
# The one test command: install what is needed, build, run every test.
#   unit         cmocka drivers (also built with ASan/UBSan)
#   integration  scenarios in network namespaces (need root; in CI a
#                scenario that cannot run fails instead of skipping)
#   vm           kernel SCTP inside qemu (tests/vm/): Debian's cloud kernel,
#                kernel-engine pairs, failover, kernel <-> user space over UDP
#   deploy       the .deb under systemd in systemd-nspawn, the container
#                image and the Kubernetes sidecar under podman (tests/deploy/)
#   format       clang-format has nothing to change
set -euo pipefail
cd "$(dirname "$0")/.."

bash contrib/deps.sh --test

meson setup build --reconfigure >/dev/null 2>&1 || meson setup build >/dev/null
meson compile -C build

echo "== format"
clang-format --dry-run -Werror src/*.[ch] tests/unit/*.[ch] tests/tools/*.c

echo "== unit tests (AddressSanitizer + UBSan)"
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --reconfigure \
    >/dev/null 2>&1 || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C build-asan >/dev/null
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C build-asan --suite unit --print-errorlogs

echo "== unit tests under valgrind"
# valgrind runs them 20-50 times slower: test_assoc needs about 55 s of CPU
# there, past meson's 30 s timeout even on an idle machine.
meson test -C build --suite unit --print-errorlogs --timeout-multiplier 10 \
    --wrap='valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet'

echo "== unit, integration, VM and deployment tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
# Arguments replace the suite list, e.g. "--suite multihoming".
[ $# -gt 0 ] || set -- --suite unit --suite integration --suite multihoming --suite vm --suite deploy
meson test -C build --print-errorlogs "$@" | tee "$log" || rc=$?
passed=$(awk '/^Ok:/ {print $2}' "$log")
failed=$(awk '/^Fail:/ {f += $2} /^Timeout:/ {f += $2} END {print f + 0}' "$log")
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$rc"
