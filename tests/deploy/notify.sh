#!/usr/bin/env bash
# sd_notify without systemd: a gateway pair in a network namespace of this
# test (one path on its loopback), gateway A with NOTIFY_SOCKET pointing at
# a datagram socket this test reads, and WATCHDOG_USEC=1 s. Check the
# messages a service manager gets: READY=1, STATUS= with the association
# ready and its primary path, then again when the peer goes away, WATCHDOG=1
# about every 0.5 s, and on SIGTERM STOPPING=1 and exit 0. Gateway B runs
# without NOTIFY_SOCKET: the same binary works without a service manager.
# A finds its key in CREDENTIALS_DIRECTORY, as under LoadCredential=.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"
deploy_setup notify python3
SCTPGW=${1:-${SCTPGW_BUILD:-$SRCDIR/build}/src/sctpgw}
[ -x "$SCTPGW" ] || dfail "no binary $SCTPGW"
ns=sgdep$$n
netns_new "$ns"

dump_logs() {
    echo "--- messages"; cat "$WORK/msgs" 2>/dev/null
    echo "--- gateway A"; tail -20 "$WORK/a.log" 2>/dev/null
}

cat >"$WORK/a.ini" <<'INI'
[gateway]
name = site-a
udp_encap_port = 9899
[association]
role = connect
remote_udp_encap_port = 9900
psk_file = psk
[path.loop]
local = 127.0.0.1
remote = 127.0.0.1
[forward.web]
listen = 127.0.0.1:8080
target = 127.0.0.1:80
INI
cat >"$WORK/b.ini" <<'INI'
[gateway]
name = site-b
udp_encap_port = 9900
[association]
role = accept
remote_udp_encap_port = 9899
psk_file = b.psk
[path.loop]
local = 127.0.0.1
remote = 127.0.0.1
[egress]
allow = 127.0.0.1:80
INI

# The key both share: B's next to its file, A's only in the directory a
# service manager's LoadCredential= would make ($CREDENTIALS_DIRECTORY).
mkdir -m 0700 "$WORK/creds"
(umask 077 && "$SCTPGW" --gen-psk >"$WORK/b.psk") || dfail "sctpgw --gen-psk failed"
cp -p "$WORK/b.psk" "$WORK/creds/psk"

# The service manager's end: one line per datagram, newlines as " | ".
python3 - "$WORK/notify.sock" "$WORK/msgs" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
t0 = time.monotonic()
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        m = s.recv(4096).decode()
        out.write("%.3f %s\n" % (time.monotonic() - t0, m.replace("\n", " | ")))
PY
at_exit "kill $!"
for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done

ip netns exec "$ns" "$SCTPGW" -c "$WORK/b.ini" 2>"$WORK/b.log" &
gwb=$!
at_exit "kill $gwb"
ip netns exec "$ns" env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 CREDENTIALS_DIRECTORY="$WORK/creds" \
    "$SCTPGW" -c "$WORK/a.ini" 2>"$WORK/a.log" &
gwa=$!
at_exit "kill $gwa"

ready='STATUS=association ready with site-b, primary path loop'
wait_log "cat $WORK/msgs" "$ready" 10 || dfail "no '$ready' within 10 s"
grep -n 'READY=1' "$WORK/msgs" >/dev/null || dfail "no READY=1"
[ "$(grep -n 'READY=1' "$WORK/msgs" | head -1 | cut -d: -f1)" -lt \
  "$(grep -n "$ready" "$WORK/msgs" | head -1 | cut -d: -f1)" ] || dfail "READY=1 came after the ready status"
dlog "READY=1, then: ${ready}"

sleep 1.6
n=$(grep -c 'WATCHDOG=1' "$WORK/msgs" || true)
[ "$n" -ge 3 ] || dfail "$n WATCHDOG=1 in about 2 s with WATCHDOG_USEC=1 s (expected one per 0.5 s)"
dlog "$n WATCHDOG=1 so far (WATCHDOG_USEC=1 s)"

kill -TERM "$gwb"
wait "$gwb" || dfail "gateway B (no NOTIFY_SOCKET) exited $? on SIGTERM"
wait_log "cat $WORK/msgs" 'STATUS=association \(down\|connecting\)' 10 ||
    dfail "no STATUS= change when the peer went away"
dlog "peer gone: $(grep 'STATUS=association' "$WORK/msgs" | tail -1 | cut -d' ' -f2-)"

kill -TERM "$gwa"
rc=0
wait "$gwa" || rc=$?
[ "$rc" = 0 ] || dfail "gateway A exited $rc on SIGTERM"
grep 'STOPPING=1' "$WORK/msgs" >/dev/null || dfail "no STOPPING=1 on SIGTERM"
dlog "SIGTERM: STOPPING=1, exit 0"
dlog "PASS"
