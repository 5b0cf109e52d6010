#!/usr/bin/env bash
# bulk_both_ways: one TCP connection lan-a -> gateway A forward -> SCTP ->
# gateway B -> xfer server in lan-b moving BULK_BYTES (1 GiB) each way at
# once; xfer.py verifies every byte (content + SHA-256 of the upload).
set -euo pipefail
SCENARIO=bulk_both_ways
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
BYTES=${BULK_BYTES:-1073741824}
LIMIT=${BULK_TIMEOUT:-170}

topo_up
pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"

log "moving $BYTES bytes each way through $A_LAN:$FWD_PORT (limit ${LIMIT}s)"
rc=0
run_ns lan-a "$LIMIT" "$WORK/client.out" python3 "$XFER" client \
    --connect "$A_LAN:$FWD_PORT" --up "$BYTES" --down "$BYTES" --timeout 30 || rc=$?
cat "$WORK/client.out"
[ $rc = 124 ] && fail "transfer did not finish within ${LIMIT}s"
[ $rc = 0 ] || fail "transfer failed (xfer exit $rc): $(cat "$WORK/client.out")"
line=$(grep '^ok=' "$WORK/client.out" | tail -n1)
secs=$(summary_field "$line" seconds)
up=$(summary_field "$line" bytes_up)
down=$(summary_field "$line" bytes_down)
rate=$(awk -v u="$up" -v d="$down" -v s="$secs" \
    'BEGIN { printf "up %.1f MB/s, down %.1f MB/s, total %.1f MB/s", u/s/1e6, d/s/1e6, (u+d)/s/1e6 }')
log "throughput: $rate ($secs s)"

grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down during the transfer"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$BYTES bytes each way intact; $rate"
