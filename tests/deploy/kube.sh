#!/usr/bin/env bash
# The Kubernetes sidecar example (deploy/kubernetes/) played by podman:
# site-a.yaml and site-b.yaml as two pods, each an application container
# with sctpgw as its sidecar, config from the ConfigMap, PSK from the
# Secret, non-root, read-only root, no capabilities. The pods' two WAN
# links are two podman bridge networks (198.18.1.0/24 and 198.18.2.0/24,
# the addresses of the ConfigMaps), made inside a network namespace of
# this test, so the bridges and podman's firewall rules never touch the
# host's own network. Check: both ConfigMaps' INI pass sctpgw --check
# (also sidecar-native.yaml's manifest shape); site A's application
# downloads a file from site B's web server through the sidecars (SHA-256
# equal); the probes (sctpgwctl ready/alive: /readyz, /healthz) pass; stopping the pods drains the
# sidecars, which exit 0.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"
deploy_setup kube podman runc catatonit debootstrap busybox python3 flock
KDIR=$SRCDIR/deploy/kubernetes
bb=localhost/sctpgw-test-busybox:$$
host=sgdep$$k

dump_logs() {
    local c
    for c in site-a-sctpgw site-b-sctpgw site-a-app site-b-app; do
        echo "--- podman logs $c"
        pmk logs "$c" 2>&1 | grep -v 'level=error' | tail -20
    done
}

# The ConfigMaps' INI (the block under "sctpgw.ini: |"), each checked by
# the binary the image is built from.
ini_of() { # YAML OUT
    python3 - "$1" "$2" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
out, grab = [], False
for l in lines:
    if l.strip() == "sctpgw.ini: |":
        grab = True
        continue
    if grab:
        if l.startswith("    ") or l.strip() == "":
            out.append(l[4:])
        else:
            break
if not out:
    sys.exit("no sctpgw.ini in " + sys.argv[1])
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
}
build_image
tag=$IMAGE
# The pre-shared key as the kubelet mounts the Secret for this pod
# (defaultMode 0400, fsGroup 10001): root:10001 0440. podman 4.3's kube
# play does not (it mounts a secret 0644 root:root, drops stringData and
# does not decode data), so the test's copies of the manifests mount this
# directory (hostPath) where the Secret's volume would be.
mkdir -m 0755 "$WORK/secret"
pm run --rm --network none "$tag" --gen-psk >"$WORK/secret/psk" || dfail "sctpgw --gen-psk in the image failed"
chown 0:10001 "$WORK/secret/psk"
chmod 0440 "$WORK/secret/psk"
for s in site-a site-b; do
    ini_of "$KDIR/$s.yaml" "$WORK/$s.ini" || dfail "$s.yaml has no ConfigMap INI"
    pm run --rm --network none -v "$WORK/$s.ini:/tmp/$s.ini:ro" -v "$WORK/secret:/run/secrets/sctpgw:ro" \
        "$tag" -c "/tmp/$s.ini" --check \
        >"$WORK/check-$s.txt" 2>&1 || dfail "$s.yaml's ConfigMap INI fails sctpgw --check: $(cat "$WORK/check-$s.txt")"
done
dlog "the ConfigMaps' INI pass sctpgw --check with the key mounted root:10001 0440"
grep -q 'restartPolicy: Always' "$KDIR/sidecar-native.yaml" &&
    grep -q 'initContainers:' "$KDIR/sidecar-native.yaml" ||
    dfail "sidecar-native.yaml is not the native sidecar form"

# The application image: Debian's base with busybox (no registry here).
mkdir "$WORK/bb"
cp "$(command -v busybox)" "$WORK/bb/busybox"
printf 'FROM %s\nCOPY busybox /bin/busybox\n' "$BASE_IMAGE" >"$WORK/bb/Containerfile"
pm build --isolation=chroot -t "$bb" "$WORK/bb" >"$WORK/bb/build.log" 2>&1 ||
    dfail "building the busybox image failed: $(tail -3 "$WORK/bb/build.log")"
at_exit "podman rmi -f '$bb'"
for s in site-a site-b; do
    sed -e "s|localhost/sctpgw:latest|$tag|" -e "s|docker.io/library/busybox:1.36|$bb|" \
        "$KDIR/$s.yaml" >"$WORK/$s.yaml"
    python3 - "$WORK/$s.yaml" "$WORK/secret" <<'PY' || dfail "$s.yaml: no secret volume named psk"
import re, sys
y = open(sys.argv[1]).read()
vol = re.compile(r"  - name: psk\n    secret:\n(      .*\n)+")
if not vol.search(y):
    sys.exit(1)
y = vol.sub("  - name: psk\n    hostPath:\n      path: %s\n      type: Directory\n" % sys.argv[2], y)
open(sys.argv[1], "w").write(y)
PY
done

# podman, its bridges and firewall rules inside the test's namespace (nsenter,
# not ip netns exec, which would hide /sys/fs/cgroup from podman).
netns_new "$host"
pmk() { nsenter --net="/run/netns/$host" env CONTAINERS_CONF="$WORK/containers.conf" podman --runtime runc \
        --cgroup-manager=cgroupfs "$@"; }
pm info >/dev/null 2>&1 # writes containers.conf
for k in 1 2; do
    pmk network create --disable-dns --subnet "198.18.$k.0/24" --gateway "198.18.$k.254" \
        "$host-wan$k" >/dev/null || dfail "podman network create $host-wan$k failed"
    at_exit "podman network rm -f '$host-wan$k'"
done
play() { # SITE WAN1-IP WAN2-IP
    at_exit "podman secret rm sctpgw-psk-${1#site-}"
    at_exit "nsenter --net=/run/netns/$host podman kube down '$WORK/$1.yaml'"
    pmk kube play --network "$host-wan1:ip=$2" --network "$host-wan2:ip=$3" "$WORK/$1.yaml" \
        >"$WORK/play-$1.log" 2>&1 || dfail "podman kube play $1.yaml failed: $(grep -v level=error "$WORK/play-$1.log" | tail -3)"
}
play site-b 198.18.1.2 198.18.2.2
play site-a 198.18.1.1 198.18.2.1
wait_log "pmk logs site-a-sctpgw" 'association up: peer site-b' 20 ||
    dfail "no association between the two pods' sidecars in 20 s"
dlog "pods up; the sidecars' association is up"

pmk exec site-b-app busybox sh -c 'head -c 8388608 /dev/urandom >/www/file' ||
    dfail "cannot write the web server's file"
want=$(pmk exec site-b-app busybox sha256sum /www/file | cut -d' ' -f1)
got=$(pmk exec site-a-app busybox wget -q -O - http://127.0.0.1:8080/file | sha256sum | cut -d' ' -f1)
[ -n "$want" ] && [ "$got" = "$want" ] ||
    dfail "site A's app got sha256 $got through the sidecars, the file at site B is $want"
dlog "site A's app fetched 8 MiB from site B's web server through the sidecars: sha256 equal"

for s in site-a site-b; do
    for probe in ready alive; do
        pmk exec "$s-sctpgw" /usr/bin/sctpgwctl -c /etc/sctpgw/sctpgw.ini "$probe" >/dev/null ||
            dfail "the $probe probe (sctpgwctl $probe: the admin endpoint) fails in $s's sidecar"
    done
    [ "$(pmk exec "$s-sctpgw" id -u)" = 10001 ] || dfail "$s's sidecar does not run as 10001"
    m=$(pmk exec "$s-sctpgw" stat -L -c '%a %u %g' /run/secrets/sctpgw/psk)
    [ "$m" = "440 0 10001" ] || dfail "$s's sidecar sees its key as '$m', expected '440 0 10001'"
    if pmk exec "$s-sctpgw" touch /x 2>/dev/null; then dfail "$s's sidecar root is writable"; fi
done
dlog "probes pass; sidecars run as 10001 on a read-only root, key root:10001 0440"

pmk pod stop -t 30 site-a site-b >/dev/null 2>&1 || dfail "podman pod stop failed"
for s in site-a site-b; do
    code=$(pmk inspect --format '{{.State.ExitCode}}' "$s-sctpgw")
    [ "$code" = 0 ] || dfail "$s's sidecar exited $code on stop"
done
pmk logs site-a-sctpgw 2>&1 | grep 'draining' >/dev/null || dfail "site A's sidecar did not drain"
dlog "pod stop: both sidecars drained and exited 0"
dlog "PASS"
