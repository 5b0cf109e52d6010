#!/usr/bin/env bash
# The demo: a gateway pair on this machine carrying a real TCP session.
#
# Installs what is needed, builds, then starts two gateways on loopback, each
# its own process with its own user-space SCTP stack (UDP ports 19899 and
# 19900), joined by one SCTP association. An HTTP server stands in for a
# service at site B; curl at site A downloads a 64 MiB file through
# gateway A -> SCTP -> gateway B -> server, and the SHA-256 of the bytes
# received is compared with the file's. Then both gateways are stopped with
# SIGTERM and must exit 0. No root needed once the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash contrib/deps.sh
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "demo: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
meson setup build >/dev/null 2>&1 || true
meson compile -C build >/dev/null
SCTPGW=${SCTPGW:-build/src/sctpgw}

# The demo's fixed ports must be free, or it would talk to someone else.
for port in 18080 18081; do
    if ss -Hltn "sport = :$port" | grep -q .; then
        echo "demo: TCP port $port on 127.0.0.1 is in use; stop what listens there" >&2; exit 1
    fi
done
for port in 19899 19900; do
    if ss -Hlun "sport = :$port" | grep -q .; then
        echo "demo: UDP port $port is in use; stop what listens there" >&2; exit 1
    fi
done

work=$(mktemp -d /tmp/sctpgw-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The embedded default configuration of both sites.
cat > "$work/site-a.ini" <<'INI'
[gateway]
name = site-a
udp_encap_port = 19899
[association]
role = connect
remote_udp_encap_port = 19900
psk_file = psk                ; the shared key, made below (sctpgw --gen-psk)
[path.loopback]
local = 127.0.0.1
remote = 127.0.0.1
[forward.web]
listen = 127.0.0.1:18080      ; clients at site A connect here
target = 127.0.0.1:18081      ; gateway B connects here
INI
cat > "$work/site-b.ini" <<'INI'
[gateway]
name = site-b
udp_encap_port = 19900
[association]
role = accept
remote_udp_encap_port = 19899
psk_file = psk                ; the shared key, made below (sctpgw --gen-psk)
[path.loopback]
local = 127.0.0.1
remote = 127.0.0.1
[egress]
allow = 127.0.0.1:18081       ; what A may make B connect to: the demo's web server
INI

# Both sites share one key; psk_file is relative to the config's directory.
(umask 077 && "$SCTPGW" --gen-psk > "$work/psk")

mkdir "$work/www"
head -c $((64 << 20)) /dev/urandom > "$work/www/file.bin"
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 18081 >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18081/ && break; sleep 0.1; done

"$SCTPGW" -c "$work/site-b.ini" 2> "$work/b.log" & pids+=($!); gw_b=$!
"$SCTPGW" -c "$work/site-a.ini" 2> "$work/a.log" & pids+=($!); gw_a=$!

echo "demo: waiting for the association..."
for _ in $(seq 50); do
    kill -0 "$gw_a" 2>/dev/null && kill -0 "$gw_b" 2>/dev/null ||
        { echo "demo: a gateway exited:" >&2; cat "$work/a.log" "$work/b.log" >&2; exit 1; }
    curl -s -o /dev/null --max-time 2 http://127.0.0.1:18080/ && break
    sleep 0.2
done

echo "demo: curl http://127.0.0.1:18080/file.bin  (client -> A -> SCTP -> B -> server)"
curl -s --max-time 60 -o "$work/got.bin" -w 'demo: %{size_download} bytes in %{time_total} s\n' \
    http://127.0.0.1:18080/file.bin
want=$(sha256sum < "$work/www/file.bin" | cut -d' ' -f1)
got=$(sha256sum < "$work/got.bin" | cut -d' ' -f1)
echo "demo: sha256 sent     $want"
echo "demo: sha256 received $got"

rc_a=0; rc_b=0
kill -TERM "$gw_a"; wait "$gw_a" || rc_a=$?
kill -TERM "$gw_b"; wait "$gw_b" || rc_b=$?
echo "demo: gateways exited with $rc_a and $rc_b; their logs:"
sed 's/^/  A| /' "$work/a.log"
sed 's/^/  B| /' "$work/b.log"
if [ "$want" = "$got" ] && [ $rc_a -eq 0 ] && [ $rc_b -eq 0 ]; then
    echo "demo: OK - the TCP session crossed the SCTP association intact"
else
    echo "demo: FAILED" >&2
    exit 1
fi
