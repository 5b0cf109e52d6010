# shellcheck shell=bash
# lib.sh - shared helpers of the deployment tests (meson suite 'deploy').
#
# They prove the deployment files for real: a Debian rootfs made by
# debootstrap from the Debian mirror, booted with systemd in systemd-nspawn
# (systemd.sh), and the same rootfs imported as the podman base image
# (container.sh, kube.sh). Source it, then: deploy_setup NAME TOOL...
#
# Cache: $SCTPGW_SRC/.cache/deploy/ keeps the minbase rootfs, the systemd
# rootfs and nothing else; each is rebuilt when its recipe (package list)
# changes. A fresh CI machine builds them once per run (see docs/DEPLOY.md
# for the time it takes). Tests never write into the cache after it is
# built: a booted rootfs is an overlay on top of it, thrown away at the end.
#
# Variables after deploy_setup: SRCDIR, WORK, SCENARIO, CACHE.
# Never "... | grep -q" under pipefail: grep quits at the first match, the
# writer dies of SIGPIPE and the pipeline fails; grep >/dev/null reads all.

SUITE=${DEPLOY_SUITE:-bookworm}
MIRROR=${DEPLOY_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=localhost/debian:bookworm-slim
# Everything a running gateway needs in the systemd rootfs besides the
# package's own Depends (which apt resolves when the .deb is installed).
SYSTEMD_PKGS="systemd systemd-sysv dbus"

_CLEAN=()    # commands run (in reverse) at exit
_FAILED=0

dlog() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "$SCENARIO" "$*" >&2; }

# dfail MSG: fail the test with MSG (after the logs registered by the test).
dfail() {
    _FAILED=1
    dlog "FAIL: $*"
    [ "$(type -t dump_logs)" = function ] && dump_logs >&2
    exit 1
}

# _cannot REASON: the test cannot run here: skip (77), or fail under CI.
_cannot() {
    if [ "${CI:-}" = true ]; then
        dlog "FAIL (CI=true): cannot run: $*"
        exit 1
    fi
    dlog "SKIP: $*"
    exit 77
}

_cleanup() {
    local i
    for ((i = ${#_CLEAN[@]} - 1; i >= 0; i--)); do
        eval "${_CLEAN[i]}" >/dev/null 2>&1 || true
    done
    [ -n "${WORK:-}" ] && [ "$_FAILED" = 0 ] && rm -rf "$WORK"
    [ -n "${WORK:-}" ] && [ "$_FAILED" = 1 ] && dlog "kept $WORK"
    return 0
}
at_exit() { _CLEAN+=("$*"); }

# deploy_setup NAME TOOL... : root, the tools, a work directory, cleanup.
deploy_setup() {
    SCENARIO=$1; shift
    SRCDIR=${SCTPGW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    CACHE=$SRCDIR/.cache/deploy
    [ "$(id -u)" = 0 ] || _cannot "needs root (debootstrap, systemd-nspawn, podman)"
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || _cannot "needs $t (contrib/deps.sh --test installs it)"
    done
    mkdir -p "$CACHE"
    WORK=$(mktemp -d "/tmp/sctpgw-$SCENARIO.XXXXXX")
    trap _cleanup EXIT
    trap 'exit 1' INT TERM
}

# _locked FILE cmd... : run cmd holding an exclusive lock on FILE (two test
# runs in different worktrees never share a cache, but two in one may).
_locked() {
    local f=$1; shift
    (
        flock 9
        "$@"
    ) 9>"$f"
}

# minbase_rootfs: print the path of the cached debootstrap minbase rootfs,
# making it first if needed (about 30 s from the mirror).
minbase_rootfs() { _locked "$CACHE/.lock" _minbase >&2; echo "$CACHE/minbase"; }
_minbase() {
    local stamp="$SUITE $MIRROR minbase"
    [ "$(cat "$CACHE/minbase.ok" 2>/dev/null)" = "$stamp" ] && return 0
    dlog "debootstrap --variant=minbase $SUITE from $MIRROR (cached in $CACHE)"
    rm -rf "$CACHE/minbase" "$CACHE/minbase.ok" "$CACHE/systemd" "$CACHE/systemd.ok"
    debootstrap --variant=minbase "$SUITE" "$CACHE/minbase" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || {
        tail -20 "$CACHE/debootstrap.log" >&2
        dfail "debootstrap failed (is $MIRROR reachable?)"
    }
    # Kept small: an image base has no apt lists, no docs.
    rm -rf "$CACHE"/minbase/var/lib/apt/lists/* "$CACHE"/minbase/var/cache/apt/*.bin
    echo "$stamp" >"$CACHE/minbase.ok"
}

# systemd_rootfs: print the path of the cached rootfs with systemd (the
# minbase one plus SYSTEMD_PKGS), making it first if needed.
systemd_rootfs() { minbase_rootfs >/dev/null; _locked "$CACHE/.lock" _systemd >&2; echo "$CACHE/systemd"; }
_systemd() {
    local stamp
    stamp="$(cat "$CACHE/minbase.ok") + $SYSTEMD_PKGS"
    [ "$(cat "$CACHE/systemd.ok" 2>/dev/null)" = "$stamp" ] && return 0
    dlog "making the systemd rootfs: minbase + $SYSTEMD_PKGS"
    rm -rf "$CACHE/systemd" "$CACHE/systemd.ok"
    cp -a "$CACHE/minbase" "$CACHE/systemd"
    # shellcheck disable=SC2086
    in_root "$CACHE/systemd" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $SYSTEMD_PKGS" \
        >"$CACHE/systemd-apt.log" 2>&1 || {
        tail -20 "$CACHE/systemd-apt.log" >&2
        dfail "apt-get install $SYSTEMD_PKGS in the rootfs failed"
    }
    echo "$stamp" >"$CACHE/systemd.ok"
}

# in_root DIR cmd... : run cmd inside DIR with the host's network (apt),
# without booting it.
in_root() {
    local dir=$1; shift
    systemd-nspawn -q --register=no --keep-unit --resolv-conf=copy-host -D "$dir" "$@"
}

# overlay LOWER : ROOT = a writable directory showing LOWER, whose changes
# go to WORK and vanish at exit.
overlay() {
    local lower=$1 d
    d=$(mktemp -d "$WORK/ovl.XXXX")
    mkdir "$d/upper" "$d/work" "$d/root"
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$d/upper,workdir=$d/work" "$d/root" ||
        _cannot "cannot mount an overlay file system on $WORK"
    at_exit "umount -l '$d/root'"
    # shellcheck disable=SC2034 # for the test that sources this file
    ROOT=$d/root
}

# boot DIR [NSPAWN-OPTION...] : boot DIR with systemd in systemd-nspawn on
# a private network (its own loopback, nothing else); sets INIT (the
# container's PID 1 as the host sees it) once systemd is up. cex cmd...
# runs cmd inside, cnet cmd... a host command in its network namespace.
boot() {
    local dir=$1 t state
    shift
    systemd-nspawn -q --register=no --keep-unit --private-network "$@" -D "$dir" -b \
        >"$WORK/console.log" 2>&1 &
    NSPAWN=$!
    at_exit "stop_container"
    INIT=
    for t in $(seq 600); do
        INIT=$(container_init "$NSPAWN")
        [ -n "$INIT" ] && break
        kill -0 "$NSPAWN" 2>/dev/null || dfail "systemd-nspawn exited: $(tail -5 "$WORK/console.log")"
        sleep 0.1
    done
    [ -n "$INIT" ] || dfail "no init process in the container after 60 s"
    for t in $(seq 600); do
        state=$(cex systemctl is-system-running 2>/dev/null || true)
        case "$state" in running | degraded) break ;; esac
        sleep 0.1
    done
    case "$state" in
        running | degraded) dlog "container booted in $((t * 100)) ms ($state)" ;;
        *) dfail "systemd in the container is '$state' after 60 s" ;;
    esac
}
# container_init PID : the descendant of PID that is PID 1 of its own PID
# namespace (a child or grandchild of systemd-nspawn, depending on options).
container_init() {
    local p c
    for p in $(pgrep -P "$1") $(for c in $(pgrep -P "$1"); do pgrep -P "$c"; done); do
        [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$p/status" 2>/dev/null)" = 1 ] && { echo "$p"; return 0; }
    done
    return 0
}
cex() { nsenter -t "$INIT" -a "$@"; }
cnet() { nsenter -t "$INIT" -n "$@"; }
stop_container() {
    [ -n "${NSPAWN:-}" ] || return 0
    kill "$NSPAWN" 2>/dev/null || true
    local i
    for i in $(seq 100); do kill -0 "$NSPAWN" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$NSPAWN" 2>/dev/null || true
}

# netns_new NAME : a network namespace of this run (/run/netns/NAME on
# the host), removed at exit, loopback up.
netns_new() {
    ip netns add "$1" || dfail "cannot create the network namespace $1"
    at_exit "ip netns del '$1'"
    ip -n "$1" link set lo up
}

# site_links A B : the two links of conf/site-*.ini between network
# namespaces A and B (each a name from netns_new or a PID): veth wan1 with
# 198.18.1.1/24 (A) and 198.18.1.2/24 (B), veth wan2 with 198.18.2.1/24
# and 198.18.2.2/24, as two hosts with two links between them would have.
site_links() {
    local a=$1 b=$2 k tag=$$
    for k in 1 2; do
        ip link add "sgd${tag}a$k" type veth peer name "sgd${tag}b$k" ||
            dfail "cannot create a veth pair"
        ip link set "sgd${tag}a$k" netns "$a" name "wan$k"
        ip link set "sgd${tag}b$k" netns "$b" name "wan$k"
    done
    _in "$a" ip link set lo up
    _in "$b" ip link set lo up
    for k in 1 2; do
        _in "$a" ip addr add "198.18.$k.1/24" dev "wan$k"
        _in "$b" ip addr add "198.18.$k.2/24" dev "wan$k"
        _in "$a" ip link set "wan$k" up
        _in "$b" ip link set "wan$k" up
    done
}
# _in NS cmd... : run cmd in network namespace NS (name or PID).
_in() {
    local ns=$1; shift
    case "$ns" in
        *[!0-9]*) ip netns exec "$ns" "$@" ;;
        *) nsenter -t "$ns" -n "$@" ;;
    esac
}

# wait_tcp NS PORT : until something listens on TCP PORT in NS (5 s).
wait_tcp() {
    local _i
    for _i in $(seq 50); do
        _in "$1" ss -Hltn "sport = :$2" | grep . >/dev/null && return 0
        sleep 0.1
    done
    dfail "nothing listens on TCP port $2 after 5 s"
}

# build_deb : build the package (deploy/build-deb.sh) into WORK; DEB=path.
# SCTPGW_TEST_DEB=FILE uses a package built already (while working on a test).
build_deb() {
    local t0=$SECONDS
    if [ -n "${SCTPGW_TEST_DEB:-}" ]; then
        DEB=$SCTPGW_TEST_DEB
        return 0
    fi
    # nocheck: the unit tests run in their own suite of the same test command.
    DEB=$(DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" bash "$SRCDIR/deploy/build-deb.sh" "$WORK/deb") ||
        dfail "deploy/build-deb.sh failed"
    dlog "built $(basename "$DEB") in $((SECONDS - t0)) s"
}

# podman as this host needs it (TESTBED: runc, cgroupfs; builds chrooted),
# and containers' open-file limit sized as the systemd unit's (2 x
# max_streams + 64): podman gives root's containers 1048576 by default,
# more than a test runner's hard limit may be (20000 here: runc fails);
# likewise its process limit (1024 is plenty for one gateway).
pm() {
    if [ ! -f "$WORK/containers.conf" ]; then
        printf '[containers]\ndefault_ulimits = ["nofile=8256:8256", "nproc=1024:1024"]\n' >"$WORK/containers.conf"
    fi
    CONTAINERS_CONF=$WORK/containers.conf podman --runtime runc --cgroup-manager=cgroupfs "$@"
}

# base_image : the podman image BASE_IMAGE, imported from the cached
# minbase rootfs when missing or made from an older one. Slimmed as
# Debian's -slim images are: no man pages, locales, info or .deb cache.
base_image() {
    minbase_rootfs >/dev/null
    _locked "$CACHE/.lock" _base_image >&2
}
_base_image() {
    local stamp
    stamp=$(cat "$CACHE/minbase.ok")
    [ "$(podman image inspect --format '{{index .Labels "sctpgw.rootfs"}}' "$BASE_IMAGE" 2>/dev/null)" = "$stamp" ] &&
        return 0
    dlog "importing $CACHE/minbase as $BASE_IMAGE"
    tar -C "$CACHE/minbase" --exclude='./var/cache/apt/archives/*.deb' \
        --exclude='./usr/share/man/*' --exclude='./usr/share/locale/*' \
        --exclude='./usr/share/info/*' -c . |
        podman import --change "LABEL sctpgw.rootfs=\"$stamp\"" --change 'CMD ["/bin/bash"]' \
            - "$BASE_IMAGE" >/dev/null || dfail "podman import of the rootfs failed"
}

# build_image : IMAGE = the image of deploy/Containerfile for this source
# tree, built with podman from BASE=BASE_IMAGE. Its tag is a hash of the
# build context's files, so the tests of one run build it once; images of
# other source states are removed. SCTPGW_TEST_IMAGE=NAME uses an image
# built already (while working on a test).
build_image() {
    local t0=$SECONDS sum
    if [ -n "${SCTPGW_TEST_IMAGE:-}" ]; then
        IMAGE=$SCTPGW_TEST_IMAGE
        return 0
    fi
    base_image
    sum=$(cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard 2>/dev/null |
        while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
        sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
    IMAGE=localhost/sctpgw-test:${sum:-none}
    if [ "$sum" != "" ] && podman image exists "$IMAGE"; then
        dlog "reusing $IMAGE (built from this source tree already)"
        return 0
    fi
    local old
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/sctpgw-test); do
        podman rmi -f "$old" >/dev/null 2>&1 || true
    done
    # --format docker: the OCI image format has no HEALTHCHECK. --layers=false:
    # no intermediate images left behind (the build stage is 500 MB).
    pm build --isolation=chroot --format docker --layers=false --build-arg "BASE=$BASE_IMAGE" -f "$SRCDIR/deploy/Containerfile" \
        -t "$IMAGE" "$SRCDIR" >"$WORK/build-$SCENARIO.log" 2>&1 || {
        tail -30 "$WORK/build-$SCENARIO.log" >&2
        dfail "podman build of deploy/Containerfile failed"
    }
    dlog "built $IMAGE in $((SECONDS - t0)) s: $(image_mib "$IMAGE") MiB (base $(image_mib "$BASE_IMAGE") MiB)"
}
image_mib() { echo $(($(podman image inspect --format '{{.Size}}' "$1") / 1048576)); }

# wait_log CMD PATTERN SECONDS : until the output of CMD matches PATTERN.
wait_log() {
    local cmd=$1 pat=$2 s=$3 _i
    for _i in $(seq $((s * 10))); do
        eval "$cmd" 2>&1 | grep -- "$pat" >/dev/null && return 0
        sleep 0.1
    done
    return 1
}
