#!/usr/bin/env bash
# admin_metrics (issue 10, test a): the admin endpoint follows what happens.
# Two links (wan1 preferred), the fast timer profile, admin = 127.0.0.1:9464
# in each gateway's namespace.  In order:
#   - the admin port already taken: A exits 1 with an error naming it;
#   - A alone (no peer yet): /healthz 200, /readyz 503, sctpgwctl status 2
#     (down), ready 1, alive 0, sctpgw_association_up 0;
#   - B started, association up: /readyz 200, sctpgwctl status 0 (healthy);
#     the scrape passes `promtool check metrics`;
#   - during a transfer through forward web: the forward's client_to_target
#     byte counter grows between two scrapes while the transfer runs;
#   - wan1 cut during the transfer: wan1's failover counter goes up by 1,
#     wan1 leaves state reachable, wan2 becomes primary, sctpgwctl status
#     says 1 (degraded); the output still passes promtool; the transfer
#     finishes intact and the byte counter covers all of it;
#   - B stopped: A's /readyz 503 and sctpgwctl status 2 within seconds, a
#     loss counted in sctpgw_association_losses_total;
#   - A stopped: sctpgwctl status 3 (cannot reach the gateway).
set -euo pipefail
SCENARIO=${SCENARIO:-admin_metrics}
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl promtool
setup "$@"
CTL=${SCTPGWCTL:-$(dirname "$SCTPGW")/sctpgwctl}
[ -x "$CTL" ] || fail "sctpgwctl not found at $CTL (set SCTPGWCTL)"
ADMIN=127.0.0.1:9464
BYTES=${ADMIN_BYTES:-800M}

topo_up --links 2
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast CONF_GATEWAY="admin = $ADMIN" \
    write_gw_conf A "$WORK/a.conf"
CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=fast CONF_GATEWAY="admin = $ADMIN" \
    write_gw_conf B "$WORK/b.conf"

# http SIDE PATH : the status code of GET PATH on SIDE's admin endpoint
http() { in_ns "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADMIN$2" || true; }
# scrape SIDE FILE : /metrics into FILE (fails the test when it cannot)
scrape() { in_ns "$1" curl -sf --max-time 5 -o "$2" "http://$ADMIN/metrics" || fail "GET /metrics on $1 failed"; }
# metric FILE SERIES : the value of one series (exact name and labels)
metric() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print "none" }' "$1"; }
# ctl SIDE ARGS... : sctpgwctl in SIDE's namespace; prints its exit status
ctl() { local side=$1 rc=0; shift; in_ns "$side" "$CTL" -c "${GW_CONF[$side]}" "$@" >"$WORK/ctl.out" 2>&1 || rc=$?; echo "$rc"; }
# wait_for WHAT TIMEOUT_S CMD... : until CMD succeeds
wait_for() {
    local what=$1 t=$2 i; shift 2
    for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
    fail "$what not within ${t}s"
}
promcheck() {
    promtool check metrics <"$1" >"$WORK/promtool.out" 2>&1 \
        || fail "promtool check metrics on $2: $(cat "$WORK/promtool.out")"
    log "promtool check metrics: $2 passes"
}

# The admin port taken: a start-up failure that says so, exit 1.
bg_ns A "$WORK/squatter.log" python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9464)); s.listen(); time.sleep(60)'
squatter=$BG_PID
for i in $(seq 50); do in_ns A ss -Hltn 'sport = :9464' | grep -q . && break; sleep 0.1; done
gw_start A "$WORK/a.conf"
rc=0; wait "${GW_PID[A]}" || rc=$?
GW_PID[A]=""
[ "$rc" = 1 ] || fail "gateway A with its admin port taken: exit $rc, want 1"
grep -q 'error .*admin: cannot listen on 127.0.0.1:9464: Address already in use' "$WORK/gw-A.log" \
    || fail "no error naming the admin address in use: $(tail -3 "$WORK/gw-A.log")"
kill "$squatter" 2>/dev/null; wait "$squatter" 2>/dev/null || true
for i in $(seq 50); do in_ns A ss -Hltn 'sport = :9464' | grep -q . || break; sleep 0.1; done
log "admin port taken: exit 1, 'cannot listen on 127.0.0.1:9464: Address already in use'"

gw_start A "$WORK/a.conf"
wait_log A 'admin: serving' 10
[ "$(http A /healthz)" = 200 ] || fail "/healthz on A alone: $(http A /healthz), want 200"
[ "$(http A /readyz)" = 503 ] || fail "/readyz on A without a peer: $(http A /readyz), want 503"
rc=$(ctl A status); [ "$rc" = 2 ] || fail "sctpgwctl status with no association: exit $rc (want 2): $(cat "$WORK/ctl.out")"
rc=$(ctl A ready); [ "$rc" = 1 ] || fail "sctpgwctl ready with no association: exit $rc (want 1)"
rc=$(ctl A alive); [ "$rc" = 0 ] || fail "sctpgwctl alive: exit $rc (want 0)"
scrape A "$WORK/m0"
[ "$(metric "$WORK/m0" sctpgw_association_up)" = 0 ] || fail "sctpgw_association_up is not 0 without a peer"
log "A alone: /healthz 200, /readyz 503, sctpgwctl status 2"

gw_start B "$WORK/b.conf"
assoc_up 15
wait_for "/readyz 200 on A" 5 test "$(http A /readyz)" = 200
rc=$(ctl A ready); [ "$rc" = 0 ] || fail "sctpgwctl ready with the association up: exit $rc (want 0)"
# Both paths confirmed (heartbeats) before "healthy" can be asked for.
wait_for "sctpgwctl status 0 on A" 10 test "$(ctl A status)" = 0
log "association up: /readyz 200, sctpgwctl status 0:"
cat "$WORK/ctl.out" >&2
scrape A "$WORK/m1"
promcheck "$WORK/m1" "A with the association up"
[ "$(metric "$WORK/m1" sctpgw_association_up)" = 1 ] || fail "sctpgw_association_up is not 1"
[ "$(metric "$WORK/m1" 'sctpgw_path_primary{path="wan1"}')" = 1 ] || fail "wan1 is not primary in /metrics"
[ "$(metric "$WORK/m1" 'sctpgw_path_failovers_total{path="wan1"}')" = 0 ] || fail "wan1 failovers not 0 at start"
grep -q '^sctpgw_info{gateway="site-a",.*engine="userspace",transport="udp"' "$WORK/m1" \
    || fail "no sctpgw_info with engine and transport: $(grep sctpgw_info "$WORK/m1")"

xfer_server lan-b "$LAN_B:$SRV_PORT"
run_ns_bg lan-a 120 "$WORK/client.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up "$BYTES" --timeout 30
pc=$BG_PID
UP='sctpgw_forward_bytes_total{forward="web",direction="client_to_target"}'
ACTIVE='sctpgw_forward_connections_active{forward="web"}'
wait_for "the transfer to start moving bytes" 10 \
    bash -c "ip netns exec $NS_A curl -sf http://$ADMIN/metrics | grep -q '^${UP//\"/\\\"} [1-9]'"
scrape A "$WORK/m2"; sleep 1; scrape A "$WORK/m3"
b2=$(metric "$WORK/m2" "$UP"); b3=$(metric "$WORK/m3" "$UP")
log "during the transfer: $UP $b2 -> $b3 one second later"
kill -0 "$pc" 2>/dev/null || fail "the transfer ended before the second scrape (make ADMIN_BYTES larger)"
[ "$b3" -gt "$b2" ] || fail "the byte counter did not grow during the transfer ($b2 -> $b3)"
[ "$(metric "$WORK/m3" "$ACTIVE")" = 1 ] || fail "$ACTIVE is $(metric "$WORK/m3" "$ACTIVE") during the transfer, want 1"
# The fast profile can fail a path for a moment under load on a busy
# machine (and fail back after the 2 s hold-down): cut while wan1 carries
# the data, and count the cut's failover from there.
wan1_primary() { scrape A "$WORK/mp"; [ "$(metric "$WORK/mp" 'sctpgw_path_primary{path="wan1"}')" = 1 ]; }
wait_for "wan1 primary before the cut" 10 wan1_primary
fo0=$(metric "$WORK/mp" 'sctpgw_path_failovers_total{path="wan1"}')
kill -0 "$pc" 2>/dev/null || fail "the transfer ended before the cut (make ADMIN_BYTES larger)"

log_mark A
link_cut wan1 down
wait_log A 'primary path: wan1 -> wan2 ' 10
scrape A "$WORK/m4"
promcheck "$WORK/m4" "A with wan1 cut"
fo=$(metric "$WORK/m4" 'sctpgw_path_failovers_total{path="wan1"}')
st=$(metric "$WORK/m4" 'sctpgw_path_state{path="wan1",state="reachable"}')
p2=$(metric "$WORK/m4" 'sctpgw_path_primary{path="wan2"}')
log "wan1 cut: wan1 failovers $fo0 -> $fo, wan1 reachable $st, wan2 primary $p2"
[ "$fo" = $((fo0 + 1)) ] || fail "sctpgw_path_failovers_total{path=\"wan1\"} went $fo0 -> $fo with the cut, want +1"
[ "$st" = 0 ] || fail "wan1 still reachable in /metrics after the cut"
[ "$p2" = 1 ] || fail "wan2 is not primary in /metrics after the cut"
rc=$(ctl A status); [ "$rc" = 1 ] || fail "sctpgwctl status with wan1 cut: exit $rc (want 1): $(cat "$WORK/ctl.out")"
log "sctpgwctl status with wan1 cut (exit 1):"
cat "$WORK/ctl.out" >&2
rc=0; wait "$pc" || rc=$?
xfer_check "$rc" "$WORK/client.out" "transfer with wan1 cut"
scrape A "$WORK/m5"
want=$(numfmt --from=iec "$BYTES")
b5=$(metric "$WORK/m5" "$UP")
[ "$b5" -ge "$want" ] || fail "$UP is $b5 after a $BYTES ($want bytes) upload"
[ "$(metric "$WORK/m5" "$ACTIVE")" = 0 ] || fail "$ACTIVE is not 0 after the transfer"
[ "$(metric "$WORK/m5" 'sctpgw_forward_connections_accepted_total{forward="web"}')" = 1 ] \
    || fail "accepted_total of web is not 1 after one connection"
log "after the transfer: $UP $b5 (sent $want)"

link_restore wan1
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
wait_for "/readyz 503 on A after B stopped" 10 test "$(http A /readyz)" = 503
rc=$(ctl A status); [ "$rc" = 2 ] || fail "sctpgwctl status after B stopped: exit $rc (want 2): $(cat "$WORK/ctl.out")"
scrape A "$WORK/m6"
promcheck "$WORK/m6" "A after B stopped"
losses=$(awk '/^sctpgw_association_losses_total/ { n += $2 } END { print n + 0 }' "$WORK/m6")
[ "$losses" -ge 1 ] || fail "no association loss counted after B stopped"
log "B stopped: /readyz 503, sctpgwctl status 2, $(grep '^sctpgw_association_losses_total' "$WORK/m6" | tr '\n' ' ')"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
rc=$(ctl A status); [ "$rc" = 3 ] || fail "sctpgwctl status with A stopped: exit $rc (want 3): $(cat "$WORK/ctl.out")"
pass "/healthz, /readyz, /metrics (promtool-clean) and sctpgwctl status 0/1/2/3 follow the association, a transfer and a failover"
