#!/usr/bin/env bash
# reload_broken (issue 10, test c): SIGHUP with a broken file keeps the
# running config: every error --check reports for the file is in the log
# (file:line [section] key), the association stays up and a transfer still
# works; SIGHUP, however often, never kills the gateway.  Then a file that
# changes a key that needs a restart ([association] port) and a live one
# (log_level): the first is reported "needs a restart", the second applies.
set -euo pipefail
SCENARIO=reload_broken
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"

topo_up
pair_up
xfer_server lan-b "$LAN_B:$SRV_PORT"
cp "$WORK/a.conf" "$WORK/a.good"

log "a broken file: a bad value, an unknown key, a forward without target"
CONF_GATEWAY='conn_window = lots
no_such_key = 1' CONF_EXTRA="[forward.half]
listen = $A_LAN:8090" write_gw_conf A "$WORK/a.conf"
rc=0
"$SCTPGW" -c "$WORK/a.conf" --check >/dev/null 2>"$WORK/check.err" || rc=$?
[ "$rc" = 1 ] || fail "--check of the broken file exited $rc (want 1)"
n=$(grep -c . "$WORK/check.err")
[ "$n" -ge 3 ] || fail "--check found only $n errors: $(cat "$WORK/check.err")"

log_mark A
for i in 1 2 3; do
    kill -HUP "${GW_PID[A]}" || fail "gateway A is gone: SIGHUP number $((i - 1)) killed it"
    sleep 0.3
done
wait_log A "reload: $WORK/a.conf has errors .*the running configuration stays" 10
while IFS= read -r line; do
    case "$line" in
        "$WORK/a.conf:"[0-9]*) ;;
        *) fail "--check printed a line without file:line: $line" ;;
    esac
    log_since A | grep -aqF -- "reload: $line" || fail "the reload did not log: $line"
done <"$WORK/check.err"
[ "$(log_since A | grep -ac 'the running configuration stays')" = 3 ] ||
    fail "three SIGHUPs, not three refused reloads: $(log_since A | grep -a 'reload:')"
gw_alive A || fail "gateway A died of SIGHUP"
log_since A | grep -aq 'association down' && fail "the association went down on a broken reload"
xfer lan-a client --connect "$A_LAN:$FWD_PORT" --up 1M --down 1M --timeout 30 >"$WORK/x1.out" ||
    fail "no transfer after the broken reload: $(tail -n 3 "$WORK/x1.out")"
xfer_check 0 "$WORK/x1.out" "transfer after the broken reload"

log "a file that changes a restart-only key and a live one"
sed -e "s/^port = $SCTP_PORT/port = $((SCTP_PORT + 1))/" -e 's/^log_level = .*/log_level = info/' \
    "$WORK/a.good" >"$WORK/a.conf"
"$SCTPGW" -c "$WORK/a.conf" --check >/dev/null || fail "the changed file does not pass --check"
log_mark A
kill -HUP "${GW_PID[A]}"
wait_log A 'reload: .* applied: .*1 change needs a restart' 10
log_since A | grep -aq 'reload: \[association\] port changed: needs a restart' ||
    fail "the port change was not reported as needing a restart"
log_since A | grep -aq 'reload: log_level debug -> info' || fail "log_level was not applied"
xfer lan-a client --connect "$A_LAN:$FWD_PORT" --up 256K --down 256K --timeout 30 >"$WORK/x2.out" ||
    fail "no transfer after the second reload: $(tail -n 3 "$WORK/x2.out")"
xfer_check 0 "$WORK/x2.out" "transfer after the second reload"
# debug lines stopped: a connection's debug line is no longer written
log_since A | grep -aqE '^[^ ]+ debug ' && fail "log_level = info did not apply (debug lines after the reload)"
grep -aq 'association down' "$WORK/gw-A.log" && fail "the association went down"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "a broken file left the running config in place with every error logged; SIGHUP never killed"
