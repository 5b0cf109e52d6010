#!/usr/bin/env bash
# loud_failures (issue 10, item 5; test e): what makes the tunnel unusable
# is said loudly.
#  1. another program (socat) holds the UDP encapsulation port: the gateway
#     exits 1 within 5 s with an error naming the port (it used to log
#     "running" with a dead tunnel);
#  2. a [path] local address that is not on the host: exit 1 naming the
#     path and the address;
#  3. the peer never started: after 60 s a warning names the role, the
#     peer, the ports and the likely causes (firewall, peer down, port
#     mismatch, both roles the same); with JOURNAL_STREAM naming stderr,
#     as systemd sets it, each line carries its sd-daemon priority ("<4>"
#     for that warning, "<6>" for info lines);
#  4. the peer then comes up and stops: "association down" is a warning
#     ("<4>").
set -euo pipefail
SCENARIO=loud_failures
. "$(dirname "$0")/lib.sh"
need_root
need_cmd socat
setup "$@"
topo_up
write_gw_conf A "$WORK/a.conf"
write_gw_conf B "$WORK/b.conf"

# start_once SIDE CONF LOG: run the gateway in the foreground, at most 10 s;
# prints its exit status and the seconds it took.
start_once() {
    local t0 rc=0
    t0=$(now_ms)
    timeout 10 ip netns exec "$(ns_of "$1")" "$SCTPGW" -c "$2" >"$3" 2>&1 || rc=$?
    echo "$rc $(( $(now_ms) - t0 ))"
}

# 1. the UDP port held by another program.
bg_ns A "$WORK/socat.log" socat -u "UDP4-RECV:$ENCAP_PORT" -
holder=$BG_PID
for _ in $(seq 50); do
    in_ns A ss -Hlun "sport = :$ENCAP_PORT" | grep -q . && break
    sleep 0.1
done
in_ns A ss -Hlun "sport = :$ENCAP_PORT" | grep -q . || fail "socat does not hold UDP $ENCAP_PORT"
read -r rc ms < <(start_once A "$WORK/a.conf" "$WORK/port.log")
[ "$rc" = 1 ] || fail "UDP port $ENCAP_PORT held: exit $rc after $ms ms, want 1: $(cat "$WORK/port.log")"
[ "$ms" -lt 5000 ] || fail "UDP port held: exit 1 only after $ms ms"
grep -q "error site-a: UDP port $ENCAP_PORT (udp_encap_port, IPv4) is in use by another program" \
    "$WORK/port.log" || fail "no error naming UDP port $ENCAP_PORT: $(cat "$WORK/port.log")"
grep -q 'running' "$WORK/port.log" && fail "the gateway said running with its port taken"
log "UDP port held: exit 1 after $ms ms: $(grep -o 'UDP port.*program' "$WORK/port.log")"
kill "$holder"; wait "$holder" 2>/dev/null || true

# 2. a local address that is not on the host (the second path's).
sed 's/^local = .*/local = 198.18.99.1/' "$WORK/a.conf" >"$WORK/a-noaddr.conf"
read -r rc ms < <(start_once A "$WORK/a-noaddr.conf" "$WORK/addr.log")
[ "$rc" = 1 ] || fail "missing local address: exit $rc, want 1: $(cat "$WORK/addr.log")"
grep -q 'error site-a: \[path.wan1\] local = 198.18.99.1 is not an address of this host' \
    "$WORK/addr.log" || fail "no error naming the address: $(cat "$WORK/addr.log")"
log "missing local address: exit 1 after $ms ms"

# 3. the peer never started: the warning after 60 s, with the journal's
# priority prefixes (JOURNAL_STREAM = device:inode of the gateway's stderr).
touch "$WORK/gw-A.log"
export JOURNAL_STREAM
JOURNAL_STREAM=$(stat -L -c '%d:%i' "$WORK/gw-A.log")
gw_start A "$WORK/a.conf"
unset JOURNAL_STREAM
t0=$(now_ms)
wait_log A '^<6>.* info site-a: gateway site-a running' 10
wait_log A 'association not established' 75
waited=$(( $(now_ms) - t0 ))
line=$(log_since A | grep -m1 'association not established')
log "after $waited ms: $line"
[ "$waited" -ge 59000 ] || fail "the warning came after $waited ms, before 60 s"
case "$line" in
    '<4>'*' warn site-a: association not established 60 s after start (role connect, peer '"$B_WAN"', SCTP port '"$SCTP_PORT"', transport udp: UDP port '"$ENCAP_PORT"' here, '"$ENCAP_PORT"' at the peer); last attempt: '*) ;;
    *) fail "the warning does not say what was tried: $line" ;;
esac
for cause in 'the peer gateway is not running' "a firewall drops UDP port $ENCAP_PORT" \
    'the peer uses another port or transport' 'both gateways have role = connect' \
    'next warning in 120 s'; do
    grep -qF -- "$cause" <<<"$line" || fail "the warning does not name '$cause': $line"
done
bad=$(log_since A | grep -v '^<[3467]>' | grep -v '^=== ' || true)
[ -z "$bad" ] || fail "lines without a priority prefix: $bad"

# 4. the peer comes and goes: up, then 'association down' as a warning.
gw_start B "$WORK/b.conf"
assoc_up 20
log_mark A
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
wait_log A '^<4>.* warn site-a: association down: ' 10
log "peer stopped: $(log_since A | grep -m1 'association down:')"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
pass "port in use and missing address: exit 1 naming them; no association: warning at 60 s with causes; journal priorities"
