#!/usr/bin/env bash
# The container image: podman build deploy/Containerfile (BASE = a Debian
# rootfs made by debootstrap and imported, no registry needed), run two
# containers as a pair, each in its own network namespace (two sites
# joined by two veth links, the addresses of conf/site-*.ini), with the
# config and the PSK as read-only mounted files, read-only root, every
# capability dropped, as the image's non-root user. Check: the health
# check passes, a TCP session through the pair (both ways, bytes checked),
# podman stop drains and both exit 0.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"
deploy_setup container podman runc debootstrap python3 flock
XFER=$SRCDIR/tests/tools/xfer.py
ca=sgdep$$-a cb=sgdep$$-b

dump_logs() {
    local c
    for c in "$ca" "$cb"; do echo "--- podman logs $c"; podman logs "$c" 2>&1 | tail -30; done
}

build_image
tag=$IMAGE
[ "$(podman image inspect --format '{{.Config.User}}' "$tag")" = 10001:10001 ] ||
    dfail "the image does not run as the non-root user 10001"
[ "$(podman image inspect --format '{{.Config.StopSignal}}' "$tag")" = SIGTERM ] ||
    dfail "the image's stop signal is not SIGTERM"

netns_new "$ca"
netns_new "$cb"
site_links "$ca" "$cb"
# The key, made by the image itself, owned by the image's user 10001 and
# readable by it alone (docs/DEPLOY.md): the gateway refuses any other mode.
pm run --rm "$tag" --gen-psk >"$WORK/psk" 2>>"$WORK/podman.log" || dfail "podman run $tag --gen-psk failed"
chown 10001:10001 "$WORK/psk"
chmod 0400 "$WORK/psk"
cp -p "$WORK/psk" "$WORK/psk-open"
chmod 0644 "$WORK/psk-open"
if pm run --rm -v "$SRCDIR/conf/site-a.ini:/etc/sctpgw/sctpgw.ini:ro" -v "$WORK/psk-open:/etc/sctpgw/psk:ro" \
    "$tag" -c /etc/sctpgw/sctpgw.ini --check >"$WORK/check-open.log" 2>&1; then
    dfail "--check accepted a key file readable by others"
fi
grep -q 'psk_file: /etc/sctpgw/psk: mode 0644' "$WORK/check-open.log" ||
    dfail "--check with a 0644 key: $(tail -2 "$WORK/check-open.log")"
pm run --rm -v "$SRCDIR/conf/site-a.ini:/etc/sctpgw/sctpgw.ini:ro" -v "$WORK/psk:/etc/sctpgw/psk:ro" \
    "$tag" -c /etc/sctpgw/sctpgw.ini --check >"$WORK/check.log" 2>&1 ||
    dfail "--check with the 10001-owned 0400 key: $(tail -2 "$WORK/check.log")"
dlog "the key mounted 10001:10001 0400 passes --check; a 0644 one is refused"
run_gw() { # NAME INI
    pm run -d --name "$1" --network "ns:/run/netns/$1" --read-only --cap-drop=all \
        -v "$SRCDIR/conf/$2:/etc/sctpgw/sctpgw.ini:ro" -v "$WORK/psk:/etc/sctpgw/psk:ro" \
        "$tag" >/dev/null 2>>"$WORK/podman.log" || dfail "podman run $1 failed: $(tail -3 "$WORK/podman.log")"
    at_exit "podman rm -f '$1'"
}
run_gw "$cb" site-b.ini
run_gw "$ca" site-a.ini
wait_log "podman logs $ca" 'association up: peer site-b' 15 ||
    dfail "no association between the two containers in 15 s"
dlog "association up between $ca and $cb"

uid=$(podman top "$ca" huser user | tail -n1)
dlog "gateway process user in the container: $uid"
pm healthcheck run "$ca" >/dev/null || dfail "the health check of $ca fails while it listens"
pm healthcheck run "$cb" >/dev/null || dfail "the health check of $cb fails"
# ... and it does fail where a forward's port does not listen (site A's
# forward in site B's container).
if pm exec "$cb" /usr/lib/sctpgw/healthcheck /usr/share/doc/sctpgw/examples/site-a.ini >/dev/null; then
    dfail "the health check passes where nothing listens"
fi
dlog "health checks pass (and fail where nothing listens)"

ip netns exec "$cb" python3 "$XFER" server --listen 127.0.0.1:80 >"$WORK/server.log" 2>&1 &
at_exit "kill $!"
wait_tcp "$cb" 80
ip netns exec "$ca" timeout 60 python3 "$XFER" client --connect 127.0.0.1:8080 --up 4M --down 4M \
    --count 4 --parallel 4 >"$WORK/client.log" 2>&1 || dfail "xfer: $(tail -3 "$WORK/client.log")"
grep -q '^ok=4 failed=0 reset=0 ' "$WORK/client.log" || dfail "xfer: $(tail -1 "$WORK/client.log")"
dlog "TCP through the two containers: $(tail -1 "$WORK/client.log")"

pm stop -t 15 "$ca" "$cb" >/dev/null 2>>"$WORK/podman.log"
for c in "$ca" "$cb"; do
    code=$(podman inspect --format '{{.State.ExitCode}}' "$c")
    [ "$code" = 0 ] || dfail "$c exited with $code after podman stop"
done
podman logs "$ca" 2>&1 | grep 'draining' >/dev/null || dfail "$ca did not drain on SIGTERM"
dlog "podman stop: both drained and exited 0"
dlog "PASS"
