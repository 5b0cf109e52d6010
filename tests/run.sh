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
#   fuzz         each libFuzzer target (tests/fuzz/, clang, ASan + UBSan)
#                for FUZZ_SECONDS (default 60) from its seed corpus; any
#                crash, leak or sanitizer report fails (docs/FUZZING.md)
#   bad peer     tests/integration/bad_peer.sh against the ASan + UBSan
#                gateway: hostile protocol input with the sanitizers on
set -euo pipefail
cd "$(dirname "$0")/.."

bash contrib/deps.sh --test

meson setup build --reconfigure >/dev/null 2>&1 || meson setup build >/dev/null
meson compile -C build

echo "== format"
clang-format --dry-run -Werror src/*.[ch] src/ctl/*.c tests/unit/*.[ch] tests/tools/*.c tests/fuzz/*.c

echo "== unit tests (AddressSanitizer + UBSan)"
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --reconfigure \
    >/dev/null 2>&1 || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C build-asan >/dev/null
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C build-asan --suite unit --print-errorlogs

echo "== fuzz targets, ${FUZZ_SECONDS:=60} s each (libFuzzer + ASan + UBSan)"
# A separate build directory: the targets need clang; the build fails (and
# so does this command) when clang or its fuzzer runtime is missing.
CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false --reconfigure >/dev/null 2>&1 ||
    CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null
meson compile -C build-fuzz fuzz_frame fuzz_config fuzz_assoc >/dev/null
fuzz_out=$(mktemp -d)
for t in fuzz_frame fuzz_config fuzz_assoc; do
    # A scratch corpus: what a run finds is not written into the tree.
    mkdir -p "$fuzz_out/$t.corpus"
    # -close_fd_mask=2: the gateway's log lines stay off the terminal;
    # sanitizer reports and libFuzzer's own lines still show.
    if ! "build-fuzz/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
        -close_fd_mask=2 -print_final_stats=0 -artifact_prefix="$fuzz_out/$t-" \
        "$fuzz_out/$t.corpus" "tests/fuzz/corpus/$t" >"$fuzz_out/$t.log" 2>&1; then
        tail -n 60 "$fuzz_out/$t.log"
        echo "FAIL: $t (input kept in $fuzz_out; docs/FUZZING.md: how to reproduce)" >&2
        exit 1
    fi
    echo "$t: $(grep -E '^Done [0-9]+ runs' "$fuzz_out/$t.log")"
done
rm -rf "$fuzz_out"

echo "== bad peer against the ASan + UBSan gateway"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    tests/integration/bad_peer.sh build-asan/src/sctpgw build-asan/tests/badpeer

echo "== unit tests under valgrind"
# valgrind runs them 20-50 times slower: tests/meson.build gives the unit
# drivers 900 s instead of meson's default 30 s.
meson test -C build --suite unit --print-errorlogs \
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
