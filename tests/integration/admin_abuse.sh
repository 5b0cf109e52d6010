#!/usr/bin/env bash
# admin_abuse (issue 10, test f): the admin endpoint under load and abuse
# keeps serving, and the data path does not notice.  Gateway A serves
# admin = 127.0.0.1:9464 while a transfer runs through the pair both ways
# (ABUSE_BYTES each way, content checked by xfer.py).  Meanwhile:
#   - 4 slowloris clients (one byte a second): each is closed by the gateway
#     within the connection lifetime (ADMIN_LIFETIME_S = 10 s, admin.h) + 2 s;
#   - 10,000 GET /healthz (one connection each, 4 at a time) beside them:
#     every one answered 200;
#   - malformed requests: each answered 4xx/5xx or closed within the idle
#     timeout, never a hang, /healthz 200 after them;
#   - oversized requests (1 MiB header, 64 KiB URL, 10,000 headers, POST
#     /drain with a 10 MB body): refused (>= 400), and the drain they carried
#     did NOT happen (/readyz stays 200);
#   - 40 idle connections (more than ADMIN_MAX_CONNS): /healthz answers
#     200 again within the idle timeout while they are still held, and the
#     gateway closes every one of them (refused past the limit, or idle);
#   - POST /reload reloads (200, sctpgwctl reload exit 0); with a broken
#     file it answers 500 and the gateway goes on with the old config;
# the transfer ends intact, and `sctpgwctl drain` then stops A with exit 0.
set -euo pipefail
SCENARIO=${SCENARIO:-admin_abuse}
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl
setup "$@"
CTL=${SCTPGWCTL:-$(dirname "$SCTPGW")/sctpgwctl}
[ -x "$CTL" ] || fail "sctpgwctl not found at $CTL (set SCTPGWCTL)"
ABUSE="$SRCDIR/tests/tools/admin_abuse.py"
ADMIN=127.0.0.1:9464
BYTES=${ABUSE_BYTES:-300M}
LIFETIME_S=10   # ADMIN_LIFETIME_S in src/admin.h
IDLE_S=5        # ADMIN_IDLE_S

topo_up
CONF_GATEWAY="admin = $ADMIN" write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
http() { in_ns A curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" "http://$ADMIN${URL:-/healthz}" || true; }
healthz_ok() { [ "$(URL=/healthz http)" = 200 ] || fail "/healthz is not 200 after $1"; }
[ "$(URL=/readyz http)" = 200 ] || fail "/readyz not 200 with the association up"

xfer_server lan-b "$LAN_B:$SRV_PORT"
run_ns_bg lan-a 300 "$WORK/client.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up "$BYTES" --down "$BYTES" --timeout 30
pc=$BG_PID

run_ns_bg A 60 "$WORK/slow.out" python3 "$ABUSE" slowloris "$ADMIN" --conns 4 --seconds 20
ps=$BG_PID
sleep 1
in_ns A python3 "$ABUSE" load "$ADMIN" --count 10000 --parallel 4 >"$WORK/load.out" 2>&1 \
    || fail "10,000 requests: not all answered 200: $(cat "$WORK/load.out")"
log "10,000 GET /healthz beside 4 slowloris clients: $(cat "$WORK/load.out")"
kill -0 "$pc" 2>/dev/null || fail "the transfer ended before the abuse did (make ABUSE_BYTES larger)"

in_ns A python3 "$ABUSE" malformed "$ADMIN" >"$WORK/malformed.out" 2>&1 \
    || fail "malformed requests: $(cat "$WORK/malformed.out")"
sed 's/^/    /' "$WORK/malformed.out" >&2
longest=$(sed -n 's/^longest=//p' "$WORK/malformed.out")
awk -v l="$longest" -v t="$IDLE_S" 'BEGIN { exit !(l <= t + 2) }' \
    || fail "a malformed request held its connection for ${longest} s (idle timeout ${IDLE_S} s)"
healthz_ok "the malformed requests"

in_ns A python3 "$ABUSE" oversized "$ADMIN" >"$WORK/oversized.out" 2>&1 \
    || fail "an oversized request was not refused: $(cat "$WORK/oversized.out")"
sed 's/^/    /' "$WORK/oversized.out" >&2
healthz_ok "the oversized requests"
[ "$(URL=/readyz http)" = 200 ] || fail "/readyz not 200 after the oversized POST /drain (it must not drain)"

rc=0; wait "$ps" || rc=$?
sed 's/^/    /' "$WORK/slow.out" >&2
[ "$rc" = 0 ] || fail "slowloris client exit $rc"
longest=$(sed -n 's/^longest=//p' "$WORK/slow.out")
awk -v l="$longest" -v t="$LIFETIME_S" 'BEGIN { exit !(l <= t + 2) }' \
    || fail "a slowloris connection lived ${longest} s (lifetime bound ${LIFETIME_S} s)"

run_ns_bg A 60 "$WORK/idle.out" python3 "$ABUSE" idle "$ADMIN" --conns 40 --seconds $((IDLE_S + 6))
pi=$BG_PID
sleep 1
t0=$(now_ms); served=""
while [ $(( $(now_ms) - t0 )) -lt $(( (IDLE_S + 3) * 1000 )) ]; do
    if [ "$(URL=/healthz http --max-time 1)" = 200 ]; then served=$(( $(now_ms) - t0 )); break; fi
    sleep 0.2
done
kill -0 "$pi" 2>/dev/null || fail "the idle client ended before /healthz was tried"
[ -n "$served" ] || fail "/healthz not served within $((IDLE_S + 3)) s of 40 idle connections"
log "40 idle connections held: /healthz served again $served ms later"
wait "$pi" || true
sed 's/^/    /' "$WORK/idle.out" >&2
grep -q '^idle: 40 of 40 closed by the server' "$WORK/idle.out" \
    || fail "idle connections were not all closed by the gateway within $((IDLE_S + 6)) s"

code=$(URL=/reload http -X POST)
[ "$code" = 200 ] || fail "POST /reload answered $code, want 200"
in_ns A "$CTL" -a "$ADMIN" reload >"$WORK/ctl.out" 2>&1 || fail "sctpgwctl reload: $(cat "$WORK/ctl.out")"
grep -q 'reloaded' "$WORK/ctl.out" || fail "sctpgwctl reload printed: $(cat "$WORK/ctl.out")"
cp "${GW_CONF[A]}" "$WORK/a.good"
printf '[gateway]\nbogus_key = 1\n' >>"${GW_CONF[A]}"
code=$(URL=/reload http -X POST)
[ "$code" = 500 ] || fail "POST /reload of a broken file answered $code, want 500"
in_ns A "$CTL" -a "$ADMIN" reload >"$WORK/ctl.out" 2>&1 && fail "sctpgwctl reload of a broken file exit 0"
cp "$WORK/a.good" "${GW_CONF[A]}"
code=$(URL=/readyz http)
[ "$code" = 200 ] || fail "/readyz answered $code after a refused reload, want 200"

rc=0; wait "$pc" || rc=$?
xfer_check "$rc" "$WORK/client.out" "transfer beside the abused admin endpoint"
log "transfer: $(grep '^ok=' "$WORK/client.out")"

in_ns A "$CTL" -a "$ADMIN" drain >"$WORK/ctl.out" 2>&1 || fail "sctpgwctl drain: exit $?: $(cat "$WORK/ctl.out")"
pid=${GW_PID[A]}
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "gateway A still runs 10 s after sctpgwctl drain"
rc=0; wait "$pid" || rc=$?
GW_PID[A]=""
[ "$rc" = 0 ] || fail "gateway A exit status $rc after sctpgwctl drain (want 0)"
grep -q 'admin: drain requested' "$WORK/gw-A.log" || fail "no 'admin: drain requested' in A's log"
pass "10,000 requests, slowloris, malformed, oversized and idle floods: /healthz kept serving, the transfer stayed intact, drain exited 0"
