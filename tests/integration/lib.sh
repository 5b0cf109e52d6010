# shellcheck shell=bash
# lib.sh - shared helpers for the sctpgw integration scenarios.
#
# Source it from a scenario (bash, set -euo pipefail), then:
#   need_root; setup "$@"; topo_up
# Topology (every name carries a per-run prefix, so runs can overlap):
#
#   ns lan-a            ns gw-a                         ns gw-b             ns lan-b
#   eth0 198.18.10.2 -- lan 198.18.10.1  wan1 198.18.1.1 ==== wan1 198.18.1.2  lan 198.18.20.1 -- eth0 198.18.20.2
#        2001:2:10::2       2001:2:10::1      2001:2:1::1       2001:2:1::2        2001:2:20::1       2001:2:20::2
#
# lan-a/lan-b hold the clients and servers of each site and route by
# default to their gateway; the gateways do not route between the sites.
#
# Multi-homed: `topo_up --links N` (N = 1..4, default 1) joins gw-a and gw-b
# by N independent veth pairs wan1..wanN, MTU 1500, one subnet each:
#   wanK: 198.18.K.1/24 <-> 198.18.K.2/24, 2001:2:K::1/64 <-> 2001:2:K::2/64
# (wan_ip A|B K [4|6] prints an address).  Link faults, always applied on
# gw-a's end of the link (see "links" below): link_cut, link_restore,
# link_flap, link_loss, link_packets.
#
# WAN links: `topo_up --wan 'K:DELAY:RATE:LOSS:QUEUE,...'` makes link wanK an
# emulated WAN link instead of a veth pair: TUN devices named wanK in gw-a
# and gw-b (same addresses, same subnet, MTU 1500, any protocol) joined by
# tests/tools/wanem, a user-space emulator with, per direction, DELAY ms
# one way, RATE Mbit/s (0 = unlimited) through a drop-tail queue of QUEUE
# packets (default 1000), and LOSS % random loss.  Each field is one value
# for both directions or A2B/B2A (e.g. '1:25:200:0/1:1000': 1 % loss from B
# to A only); trailing fields may be left out ('2:30' = 30 ms each way, no
# rate limit, no loss).  `wan_link K DELAY [RATE [LOSS [QUEUE]]]` does the
# same for one link after topo_up, but before any gateway starts (usrsctp
# reads the address list once).  wan_counters K prints the emulator's
# counters (one line per direction: rx fwd fwd_bytes drop_loss drop_queue
# drop_ring max_queue write_err); wan_counter K a>b|b>a FIELD one number.
# The emulator's log is $WORK/wanem-wanK.log; it is stopped (and prints its
# final counters there) with the rest at cleanup.  The link faults below
# work on emulated links as on veth links (ip link down on gw-a's TUN end
# makes the emulator's writes to it fail, as a cut cable).  The emulator
# binary: $WANEM, else tests/wanem of the build dir of $SCTPGW, else compiled
# from tests/tools/wanem.c into $WORK.  $WANEM_OPTS: more options for it
# (e.g. "-x 50": rewrite every 50th SCTP DATA packet, tests/tools/wanem.c).
#
# Variables after setup: SCTPGW, SRCDIR, XFER, WORK, PFX, NS_A, NS_B,
# NS_LAN_A, NS_LAN_B, plus the address constants below; after topo_up
# also TOPO_LINKS.

# ------------------------------------------------------------ constants
A_WAN=198.18.1.1
B_WAN=198.18.1.2
A_WAN6=2001:2:1::1
B_WAN6=2001:2:1::2
A_WAN2=198.18.2.1
B_WAN2=198.18.2.2
A_WAN2_6=2001:2:2::1
B_WAN2_6=2001:2:2::2
A_LAN=198.18.10.1
LAN_A=198.18.10.2
B_LAN=198.18.20.1
LAN_B=198.18.20.2
A_LAN6=2001:2:10::1
LAN_A6=2001:2:10::2
B_LAN6=2001:2:20::1
LAN_B6=2001:2:20::2
FWD_PORT=8080      # the default forward's listen port on each gateway
SRV_PORT=9000      # where the default forward's target server listens
SCTP_PORT=5757
ENCAP_PORT=9899

_LIB_PIDS=()       # every background process we started
_LIB_NS=()         # every namespace we created
_LIB_CLEANED=0
declare -A GW_PID=()
declare -A GW_CONF=()
declare -A LOGMARK=()
declare -A _FLAP_PID=()
declare -A WANEM_PID=()
TOPO_LINKS=0

log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "${SCENARIO:-test}" "$*" >&2; }

# need_root: skip (77, meson's skip code) when we cannot build namespaces;
# under CI=true that is a failure instead.
need_root() {
    local why=""
    if [ "$(id -u)" != 0 ]; then
        why="needs root (network namespaces, veth, nftables)"
    else
        local t
        for t in ip nft python3; do
            command -v "$t" >/dev/null 2>&1 || { why="needs $t"; break; }
        done
        if [ -z "$why" ]; then
            local probe="sgprobe$$"
            if ! ip netns add "$probe" 2>/dev/null; then
                why="cannot create network namespaces"
            else
                ip netns del "$probe" 2>/dev/null || true
            fi
        fi
    fi
    [ -z "$why" ] && return 0
    if [ "${CI:-}" = true ]; then
        echo "FAIL: ${SCENARIO:-scenario} $why (CI=true, so not skipping)" >&2
        exit 1
    fi
    echo "SKIP: ${SCENARIO:-scenario} $why" >&2
    exit 77
}

need_cmd() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        if [ "${CI:-}" = true ]; then echo "FAIL: needs $t (CI=true)" >&2; exit 1; fi
        echo "SKIP: needs $t" >&2; exit 77
    done
}

# setup SCTPGW_PATH: per-run prefix, work dir, cleanup trap.
setup() {
    SCTPGW=${1:-${SCTPGW:-}}
    [ -n "$SCTPGW" ] || { echo "usage: $0 PATH-TO-sctpgw" >&2; exit 2; }
    case "$SCTPGW" in /*) ;; *) SCTPGW="$PWD/$SCTPGW" ;; esac
    [ -x "$SCTPGW" ] || { echo "FAIL: sctpgw binary '$SCTPGW' is not executable" >&2; exit 1; }
    export SCTPGW
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    SRCDIR=${SCTPGW_SRC:-$(cd "$here/../.." && pwd)}
    XFER="$SRCDIR/tests/tools/xfer.py"
    [ -f "$XFER" ] || { echo "FAIL: $XFER missing" >&2; exit 1; }
    # short and unique: pid + random, so parallel runs never clash
    PFX="sg$$x$(printf '%04x' $((RANDOM)))"
    sweep_stale
    NS_A="$PFX-gwa"; NS_B="$PFX-gwb"; NS_LAN_A="$PFX-lana"; NS_LAN_B="$PFX-lanb"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sgw-it-$PFX-${SCENARIO:-test}.XXXXXX")
    export WORK PFX
    : >"$WORK/gw-A.log"; : >"$WORK/gw-B.log"
    # The pair's pre-shared key, new every run (issue 11): the default,
    # authenticated and encrypted path is the one every scenario tests.
    (umask 077 && "$SCTPGW" --gen-psk >"$WORK/psk") || fail "sctpgw --gen-psk failed"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    log "prefix $PFX, work dir $WORK, binary $SCTPGW"
}

# sweep_stale: remove namespaces left by earlier runs that were SIGKILLed
# (names sg<pid>x<hex>-..., creator pid no longer alive).
sweep_stale() {
    local ns pid p
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sg[0-9]+x[0-9a-f]{4}-(gwa|gwb|lana|lanb)$'); do
        pid=${ns#sg}; pid=${pid%%x*}
        kill -0 "$pid" 2>/dev/null && continue
        p=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$p" ] && kill -KILL $p 2>/dev/null
        ip netns del "$ns" 2>/dev/null && log "removed stale namespace $ns (run $pid is gone)"
    done
    local d
    for d in "${TMPDIR:-/tmp}"/sgw-it-sg*x????-*; do
        [ -d "$d" ] || continue
        pid=${d##*/sgw-it-sg}; pid=${pid%%x*}
        case "$pid" in ''|*[!0-9]*) continue ;; esac
        kill -0 "$pid" 2>/dev/null && continue
        rm -rf "$d" && log "removed stale work dir $d"
    done
    return 0
}

# ns_of A|B|lan-a|lan-b|full-name
ns_of() {
    case "$1" in
        A|a|gw-a) echo "$NS_A" ;;
        B|b|gw-b) echo "$NS_B" ;;
        lan-a|LAN_A) echo "$NS_LAN_A" ;;
        lan-b|LAN_B) echo "$NS_LAN_B" ;;
        *) echo "$1" ;;
    esac
}

in_ns() { local ns; ns=$(ns_of "$1"); shift; ip netns exec "$ns" "$@"; }

# bg_ns NS LOGFILE cmd... : start in background, track pid, print pid in $BG_PID
bg_ns() {
    local ns log; ns=$(ns_of "$1"); log=$2; shift 2
    ip netns exec "$ns" "$@" >>"$log" 2>&1 &
    BG_PID=$!
    _LIB_PIDS+=("$BG_PID")
}

_mkns() {
    ip netns add "$1"
    _LIB_NS+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.dad_transmits=0 \
        net.ipv6.conf.default.dad_transmits=0 >/dev/null 2>&1 || true
    # link_cut down / link_restore must not lose the IPv6 path addresses
    # (without this, 'ip link set down' deletes them and 'up' does not
    # bring them back).
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 \
        net.ipv6.conf.default.keep_addr_on_down=1 >/dev/null 2>&1 || true
}

# _veth NS1 IF1 NS2 IF2 : create a veth pair straight into the namespaces
_veth() {
    ip -n "$1" link add "$2" mtu 1500 type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

# _reach NS ADDR: ADDR answers from NS (a TCP SYN to a closed port must be
# refused quickly; no ping needed)
_reach() {
    local out
    out=$(in_ns "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) && return 0
    case "$out" in *refused*) return 0 ;; esac
    fail "topology: $2 not reachable from $(ns_of "$1"): ${out:-timeout}"
}

# wan_ip A|B K [4|6] : the address of side A or B on link wanK.
wan_ip() {
    local side=$1 k=$2 fam=${3:-4} host
    case "$side" in A|a) host=1 ;; B|b) host=2 ;; *) fail "wan_ip: side must be A or B, not '$side'" ;; esac
    case "$k" in [1-9]) ;; *) fail "wan_ip: link number must be 1..9, not '$k'" ;; esac
    if [ "$fam" = 6 ]; then echo "2001:2:$k::$host"; else echo "198.18.$k.$host"; fi
}

# topo_up [--links N] [--wan SPEC] : build the namespaces; N wan links
# (1..4, default 1); SPEC makes some of them emulated WAN links (see the
# header).
topo_up() {
    local links=1 ns k wan=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --links) [ $# -ge 2 ] || fail "topo_up: --links needs a number"; links=$2; shift 2 ;;
            --links=*) links=${1#--links=}; shift ;;
            --wan) [ $# -ge 2 ] || fail "topo_up: --wan needs K:DELAY:RATE:LOSS:QUEUE,..."; wan=$2; shift 2 ;;
            --wan=*) wan=${1#--wan=}; shift ;;
            *) fail "topo_up: unknown argument '$1'" ;;
        esac
    done
    case "$links" in [1-4]) ;; *) fail "topo_up: --links must be 1..4, not '$links'" ;; esac
    for ns in "$NS_A" "$NS_B" "$NS_LAN_A" "$NS_LAN_B"; do _mkns "$ns"; done
    for k in $(seq "$links"); do
        _veth "$NS_A" "wan$k" "$NS_B" "wan$k"
        ip -n "$NS_A" addr add "$(wan_ip A "$k")/24" dev "wan$k"
        ip -n "$NS_A" addr add "$(wan_ip A "$k" 6)/64" dev "wan$k" nodad
        ip -n "$NS_B" addr add "$(wan_ip B "$k")/24" dev "wan$k"
        ip -n "$NS_B" addr add "$(wan_ip B "$k" 6)/64" dev "wan$k" nodad
    done
    TOPO_LINKS=$links
    local w f
    for w in ${wan//,/ }; do
        IFS=: read -r -a f <<<"$w"
        case "${f[0]}" in [1-9]) ;; *) fail "topo_up --wan '$w': link number must be 1..$links" ;; esac
        [ "${f[0]}" -le "$links" ] || fail "topo_up --wan '$w': no link wan${f[0]} (--links $links)"
        _wan_link "${f[@]}"
    done
    _veth "$NS_A" lan "$NS_LAN_A" eth0
    _veth "$NS_B" lan "$NS_LAN_B" eth0
    ip -n "$NS_A" addr add "$A_LAN/24" dev lan
    ip -n "$NS_A" addr add "$A_LAN6/64" dev lan nodad
    ip -n "$NS_B" addr add "$B_LAN/24" dev lan
    ip -n "$NS_B" addr add "$B_LAN6/64" dev lan nodad
    ip -n "$NS_LAN_A" addr add "$LAN_A/24" dev eth0
    ip -n "$NS_LAN_A" addr add "$LAN_A6/64" dev eth0 nodad
    ip -n "$NS_LAN_B" addr add "$LAN_B/24" dev eth0
    ip -n "$NS_LAN_B" addr add "$LAN_B6/64" dev eth0 nodad
    ip -n "$NS_LAN_A" route add default via "$A_LAN"
    ip -n "$NS_LAN_A" -6 route add default via "$A_LAN6"
    ip -n "$NS_LAN_B" route add default via "$B_LAN"
    ip -n "$NS_LAN_B" -6 route add default via "$B_LAN6"
    # addresses must be usable before any gateway starts (usrsctp reads the
    # address list once at init): wait until no address is tentative.
    local i
    for i in $(seq 50); do
        local tent=0
        for ns in "$NS_A" "$NS_B" "$NS_LAN_A" "$NS_LAN_B"; do
            [ -n "$(ip -n "$ns" -6 addr show tentative 2>/dev/null)" ] && tent=1
        done
        [ $tent = 0 ] && break
        sleep 0.1
    done
    for k in $(seq "$links"); do
        _reach A "$(wan_ip B "$k")"; _reach A "$(wan_ip B "$k" 6)"
        _reach B "$(wan_ip A "$k")"; _reach B "$(wan_ip A "$k" 6)"
    done
    _reach lan-a "$A_LAN"; _reach lan-a "$A_LAN6"; _reach lan-b "$B_LAN"; _reach lan-b "$B_LAN6"
    local wans="=wan1="
    [ "$links" -gt 1 ] && wans="=wan1..wan$links="
    log "topology up: $NS_LAN_A | $NS_A $wans $NS_B | $NS_LAN_B"
}

# ------------------------------------------------------------ WAN links
# _wanem_bin : the emulator's path (built or compiled on first use)
_wanem_bin() {
    local b
    for b in "${WANEM:-}" "$(dirname "$SCTPGW")/../tests/wanem" "$(dirname "$SCTPGW")/tests/wanem"; do
        [ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
    done
    b="$WORK/wanem"
    if [ ! -x "$b" ]; then
        ${CC:-cc} -O2 -o "$b" "$SRCDIR/tests/tools/wanem.c" >&2 ||
            fail "cannot build the WAN emulator from $SRCDIR/tests/tools/wanem.c"
    fi
    echo "$b"
}

# _wan_field VALUE WHAT : a number or A2B/B2A numbers
_wan_field() {
    [[ "$1" =~ ^[0-9]+(\.[0-9]+)?(/[0-9]+(\.[0-9]+)?)?$ ]] ||
        fail "WAN link: $2 must be a number or A2B/B2A, not '$1'"
}

# _wan_link K DELAY [RATE [LOSS [QUEUE]]] : link wanK (gw-a <-> gw-b)
# becomes TUN devices joined by the emulator (the veth pair, if any, goes).
_wan_link() {
    local k=$1 delay=${2:-0} rate=${3:-0} loss=${4:-0} queue=${5:-1000} side ns bin i
    case "$k" in [1-9]) ;; *) fail "wan_link: link number must be 1..9, not '$k'" ;; esac
    _wan_field "$delay" DELAY; _wan_field "$rate" RATE; _wan_field "$loss" LOSS
    _wan_field "$queue" QUEUE
    bin=$(_wanem_bin)
    ip -n "$NS_A" link del "wan$k" 2>/dev/null || true
    for side in A B; do
        ns=$(ns_of "$side")
        ip -n "$ns" tuntap add dev "wan$k" mode tun || fail "wan_link $k: cannot make a TUN device in $ns"
        # a long device queue: the emulator's queue is the bottleneck, not this
        ip -n "$ns" link set "wan$k" mtu 1500 txqueuelen 10000 up
        ip -n "$ns" addr add "$(wan_ip "$side" "$k")/24" dev "wan$k"
        ip -n "$ns" addr add "$(wan_ip "$side" "$k" 6)/64" dev "wan$k" nodad
    done
    # shellcheck disable=SC2086 # WANEM_OPTS: more emulator options, split
    "$bin" -n "wan$k" -d "$delay" -r "$rate" -l "$loss" -q "$queue" ${WANEM_OPTS:-} \
        "$NS_A:wan$k" "$NS_B:wan$k" >>"$WORK/wanem-wan$k.log" 2>&1 &
    WANEM_PID[$k]=$!
    _LIB_PIDS+=("$!")
    for i in $(seq 50); do
        grep -q "wanem wan$k: ready" "$WORK/wanem-wan$k.log" && break
        kill -0 "${WANEM_PID[$k]}" 2>/dev/null || fail "wan_link $k: the emulator died: $(cat "$WORK/wanem-wan$k.log")"
        sleep 0.1
    done
    grep -q "wanem wan$k: ready" "$WORK/wanem-wan$k.log" || fail "wan_link $k: emulator not ready in 5 s"
    log "link wan$k emulated: delay ${delay} ms, rate ${rate} Mbit/s, loss ${loss} %, queue ${queue} packets"
}

wan_link() {
    [ "$TOPO_LINKS" -gt 0 ] || fail "wan_link: call topo_up first"
    [ "${1:-0}" -le "$TOPO_LINKS" ] 2>/dev/null || fail "wan_link: no link wan$1 (have wan1..wan$TOPO_LINKS)"
    gw_alive A && fail "wan_link: gateway A already runs (usrsctp would not see the new device)"
    gw_alive B && fail "wan_link: gateway B already runs (usrsctp would not see the new device)"
    _wan_link "$@"
    _reach A "$(wan_ip B "$1")"; _reach A "$(wan_ip B "$1" 6)"
}

# wan_counters K : the emulator's counter lines now (SIGUSR1, then read)
wan_counters() {
    local k=$1 pid=${WANEM_PID[$1]:-} n i
    [ -n "$pid" ] || fail "wan_counters: link wan$k is not emulated"
    n=$(grep -c ': rx=' "$WORK/wanem-wan$k.log" || true)
    kill -USR1 "$pid" 2>/dev/null || fail "wan_counters: the emulator of wan$k is gone"
    for i in $(seq 50); do
        [ "$(grep -c ': rx=' "$WORK/wanem-wan$k.log" || true)" -ge $((n + 2)) ] && break
        sleep 0.02
    done
    grep ': rx=' "$WORK/wanem-wan$k.log" | tail -n 2
}

# wan_counter K a>b|b>a FIELD : one counter of one direction
wan_counter() {
    wan_counters "$1" | awk -v d="$2:" -v f="$3" '$3 == d {
        for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }'
}

# ------------------------------------------------------------ links
# Faults are applied on gw-a's end of link wanK (in gw-a's namespace), so
# both directions of the link are affected:
#   link_cut wanK [down|drop]  down (default): 'ip link set wanK down' on
#                              gw-a's end (gw-b's end loses carrier); drop:
#                              nftables drops every frame entering and
#                              leaving gw-a's wanK (netdev ingress + egress
#                              hooks; ARP/ND included; UDP senders get no
#                              error, as with a cut cable).
#   link_restore wanK          undo link_cut (either kind); loss stays.
#                              Returns once both ends report carrier: after
#                              'down' the kernel takes up to ~1 s (linkwatch)
#                              before frames pass again.
#   link_loss wanK PERCENT     drop PERCENT % (integer) of the frames in each
#                              direction at random; 0 removes the loss.
#   link_flap wanK DOWN_S UP_S TOTAL_S [down|drop]
#                              in the background: cut DOWN_S, restore UP_S,
#                              repeated for TOTAL_S (only whole cycles that
#                              fit; it always ends restored).  link_flap_wait
#                              wanK waits for it, link_flap_stop wanK ends it
#                              early and restores the link.
#   link_packets wanK [rx|tx]  frames through gw-a's wanK so far (rx+tx by
#                              default), from the interface counters (frames
#                              dropped by link_cut drop / link_loss on the
#                              way in are still counted in rx).
#   link_sample_start / link_sample_stop
#                              a sampler in gw-a stamps (epoch ms) the rx/tx
#                              counters of every wanK every 20 ms, so frames
#                              can be counted between two exact moments (e.g.
#                              log stamps) however late the test gets there
#                              on a loaded machine: link_frames FROM_MS TO_MS
#                              wanK rx|tx prints "FRAMES SPAN_MS" over the
#                              samples inside [FROM_MS, TO_MS];
#                              hold_down_quiet uses them after a fail-back.
# Every cut and restore is noted with a timestamp in $WORK/links.log and as
# a "=== ... test: ..." line in both gateway logs.

# _link_check wanK : the link exists in this topology
_link_check() {
    case "$1" in
        wan[1-9]) [ "${1#wan}" -le "$TOPO_LINKS" ] && return 0 ;;
    esac
    fail "no link '$1' in this topology (have wan1..wan$TOPO_LINKS; topo_up --links N)"
}

# _link_note TEXT : timestamped note in links.log and in the gateway logs
_link_note() {
    local t
    t=$(date +%T.%3N)
    echo "$(now_ms) $*" >>"$WORK/links.log"
    echo "=== $t test: $*" >>"$WORK/gw-A.log"
    echo "=== $t test: $*" >>"$WORK/gw-B.log"
    log "$*"
}

link_cut() {
    local dev=$1 how=${2:-down}
    _link_check "$dev"
    case "$how" in
        down)
            ip -n "$NS_A" link set "$dev" down || fail "link_cut $dev down failed" ;;
        drop)
            in_ns A nft -f - <<EOF || fail "link_cut $dev drop: nft failed"
table netdev sgcut_$dev {
    chain in {
        type filter hook ingress device "$dev" priority -500; policy accept;
        counter drop
    }
    chain out {
        type filter hook egress device "$dev" priority -500; policy accept;
        counter drop
    }
}
EOF
            ;;
        *) fail "link_cut: how must be down or drop, not '$how'" ;;
    esac
    _link_note "link $dev cut ($how)"
}

link_restore() {
    local dev=$1 i
    _link_check "$dev"
    in_ns A nft delete table netdev "sgcut_$dev" 2>/dev/null || true
    ip -n "$NS_A" link set "$dev" up || fail "link_restore $dev: ip link set up failed"
    # wait (up to 2 s) for carrier on both ends
    for i in $(seq 20); do
        if [ "$(in_ns A cat "/sys/class/net/$dev/operstate" 2>/dev/null)" = up ] &&
           [ "$(in_ns B cat "/sys/class/net/$dev/operstate" 2>/dev/null)" = up ]; then
            break
        fi
        sleep 0.1
    done
    _link_note "link $dev restored"
}

link_loss() {
    local dev=$1 pct=${2:-}
    _link_check "$dev"
    case "$pct" in ''|*[!0-9]*) fail "link_loss: PERCENT must be an integer 0..100, not '$pct'" ;; esac
    [ "$pct" -le 100 ] || fail "link_loss: PERCENT must be 0..100, not '$pct'"
    in_ns A nft delete table netdev "sgloss_$dev" 2>/dev/null || true
    if [ "$pct" -gt 0 ]; then
        in_ns A nft -f - <<EOF || fail "link_loss $dev $pct: nft failed"
table netdev sgloss_$dev {
    chain in {
        type filter hook ingress device "$dev" priority -400; policy accept;
        numgen random mod 100 < $pct counter drop
    }
    chain out {
        type filter hook egress device "$dev" priority -400; policy accept;
        numgen random mod 100 < $pct counter drop
    }
}
EOF
    fi
    _link_note "link $dev loss $pct%"
}

# link_loss_dropped wanK : frames dropped so far by link_loss (both ways)
link_loss_dropped() {
    in_ns A nft list table netdev "sgloss_$1" 2>/dev/null |
        awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

link_packets() {
    local dev=$1 dir=${2:-both} rx tx
    _link_check "$dev"
    rx=$(in_ns A cat "/sys/class/net/$dev/statistics/rx_packets")
    tx=$(in_ns A cat "/sys/class/net/$dev/statistics/tx_packets")
    case "$dir" in
        rx) echo "$rx" ;;
        tx) echo "$tx" ;;
        *) echo $((rx + tx)) ;;
    esac
}

link_sample_start() {
    bg_ns A "$WORK/link-samples.log" python3 -c '
import sys, time
devs = ["wan%d" % k for k in range(1, int(sys.argv[1]) + 1)]
files = [open("/sys/class/net/%s/statistics/%s_packets" % (d, w)) for d in devs for w in ("rx", "tx")]
while True:
    vals = []
    for f in files:
        f.seek(0)
        vals.append(f.read().strip())
    print(int(time.time() * 1000), " ".join(vals), flush=True)
    time.sleep(0.02)
' "$TOPO_LINKS"
    _SAMPLER_PID=$BG_PID
    local i
    for i in $(seq 50); do [ -s "$WORK/link-samples.log" ] && return 0; sleep 0.05; done
    fail "link_sample_start: the sampler wrote nothing"
}

link_sample_stop() {
    [ -n "${_SAMPLER_PID:-}" ] && kill "$_SAMPLER_PID" 2>/dev/null
    wait "${_SAMPLER_PID:-}" 2>/dev/null || true
    _SAMPLER_PID=""
}

link_frames() {
    local from=$1 to=$2 dev=$3 dir=$4 col
    _link_check "$dev"
    col=$(( 2 + 2 * (${dev#wan} - 1) ))
    [ "$dir" = tx ] && col=$((col + 1))
    awk -v a="$from" -v b="$to" -v c="$col" '
        $1 ~ /^[0-9]+$/ && $1 >= a && $1 <= b {
            if (t0 == "") { t0 = $1; v0 = $c }
            t1 = $1; v1 = $c }
        END { if (t0 == "") print "0 0"; else print v1 - v0, t1 - t0 }' "$WORK/link-samples.log"
}

# hold_down_quiet [MIN_WAN2_FRAMES=1000] : after wan1 came back (log_mark
# before the restore, link_sample_start before it, link_sample_stop once
# both gateways logged 'primary path: wan2 -> wan1'), wan1 must have been
# quiet while BOTH gateways held back from it: the frames of each direction
# on wan1 at most 1/20 of that direction's frames on wan2 + 200 (heartbeats,
# their acks).  The window is [the later 'path wan1: ... -> reachable', the
# earlier fail-back - 50 ms] from the gateways' log stamps, counted from the
# sampler's stamped counters, so a script that gets there late on a loaded
# machine still counts exactly it (reading the counters after a sleep used
# to land after a fail-back: issue 14, item 8).  One direction at a time:
# what A sends (tx on A's wanK) follows A's primary, what B sends (rx)
# follows B's; and the intersection of both hold-downs, because SACKs go
# back on the path the DATA came in on (RFC 9260 6.4): once B is back on
# wan1, A's SACKs to B's data are on wan1 too, though A still holds back.
hold_down_quiet() {
    local min=${1:-1000} ra rb fa fb w0 w1 dt1 dt2 dr1 dr2 span
    ra=$(log_time_ms A 'path wan1: [a-z-]+ -> reachable ') || fail "hold_down_quiet: no 'reachable' line on A"
    rb=$(log_time_ms B 'path wan1: [a-z-]+ -> reachable ') || fail "hold_down_quiet: no 'reachable' line on B"
    fa=$(log_time_ms A 'primary path: wan2 -> wan1 ') || fail "hold_down_quiet: no fail-back line on A"
    fb=$(log_time_ms B 'primary path: wan2 -> wan1 ') || fail "hold_down_quiet: no fail-back line on B"
    w0=$((ra > rb ? ra : rb)); w1=$(( (fa < fb ? fa : fb) - 50 ))
    [ $((w1 - w0)) -ge 500 ] || fail "the two hold-downs overlapped only $((w1 - w0)) ms (A reachable $ra, B $rb, fail-backs $fa, $fb)"
    read -r dt1 span <<<"$(link_frames "$w0" "$w1" wan1 tx)"
    read -r dt2 _ <<<"$(link_frames "$w0" "$w1" wan2 tx)"
    read -r dr1 _ <<<"$(link_frames "$w0" "$w1" wan1 rx)"
    read -r dr2 _ <<<"$(link_frames "$w0" "$w1" wan2 rx)"
    log "both hold-downs: $((w1 - w0)) ms ($span ms sampled): A sent wan1 +$dt1 wan2 +$dt2 frames, B sent wan1 +$dr1 wan2 +$dr2"
    [ "$span" -ge $(( (w1 - w0) * 3 / 4 )) ] || fail "the counter sampler covered only $span of $((w1 - w0)) ms"
    [ $((dt2 + dr2)) -gt "$min" ] || fail "wan2 carried only $((dt2 + dr2)) frames in the hold-down window: where is the transfer?"
    [ "$dt1" -le $((dt2 / 20 + 200)) ] \
        || fail "gateway A sent data on wan1 during its hold-down: wan1 +$dt1 frames vs wan2 +$dt2 in $span ms"
    [ "$dr1" -le $((dr2 / 20 + 200)) ] \
        || fail "gateway B sent data on wan1 during its hold-down: wan1 +$dr1 frames vs wan2 +$dr2 in $span ms"
}

# failback_after_hold HOLD_MS LATE_MS : each gateway logged exactly one
# 'primary path: wan2 -> wan1' since its log_mark, no earlier than HOLD_MS
# (- 10 ms: whole-ms stamps) and no later than HOLD_MS + LATE_MS after its
# 'path wan1: ... -> reachable' line.
failback_after_hold() {
    local hold=$1 late=$2 side tr tf n
    for side in A B; do
        tr=$(log_time_ms "$side" 'path wan1: [a-z-]+ -> reachable ')
        tf=$(log_time_ms "$side" 'primary path: wan2 -> wan1 ')
        log "gateway $side: $(log_since "$side" | grep -E -m1 'path wan1: [a-z-]+ -> reachable ')"
        log "gateway $side: $(log_since "$side" | grep -E -m1 'primary path: wan2 -> wan1 ')"
        log "gateway $side: fail-back $((tf - tr)) ms after wan1 became reachable (hold $hold ms)"
        [ $((tf - tr)) -ge $((hold - 10)) ] \
            || fail "gateway $side failed back $((tf - tr)) ms after wan1 became reachable, before failback_hold_ms=$hold"
        [ $((tf - tr)) -le $((hold + late)) ] \
            || fail "gateway $side failed back only $((tf - tr)) ms after wan1 became reachable (hold $hold ms)"
        # no bouncing: exactly one fail-back after the restore
        n=$(log_since "$side" | grep -c 'primary path: ' || true)
        [ "$n" = 1 ] || fail "gateway $side changed its primary path $n times after the restore: $(log_since "$side" | grep 'primary path: ' | tr '\n' '|')"
    done
}

link_flap() {
    local dev=$1 down_s=$2 up_s=$3 total_s=$4 how=${5:-down}
    _link_check "$dev"
    [ -n "$total_s" ] || fail "usage: link_flap wanK DOWN_S UP_S TOTAL_S [down|drop]"
    if [ -n "${_FLAP_PID[$dev]:-}" ] && kill -0 "${_FLAP_PID[$dev]}" 2>/dev/null; then
        fail "link_flap $dev: already flapping"
    fi
    local down_ms up_ms total_ms
    down_ms=$(awk -v s="$down_s" 'BEGIN { printf "%d", s * 1000 }')
    up_ms=$(awk -v s="$up_s" 'BEGIN { printf "%d", s * 1000 }')
    total_ms=$(awk -v s="$total_s" 'BEGIN { printf "%d", s * 1000 }')
    (
        set +e
        trap - EXIT
        sp=""
        trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; link_restore "$dev" >/dev/null 2>&1; exit 0' TERM
        end=$(( $(now_ms) + total_ms ))
        n=0
        while [ $(( $(now_ms) + down_ms + up_ms )) -le "$end" ]; do
            n=$((n + 1))
            link_cut "$dev" "$how"
            sleep "$down_s" & sp=$!; wait "$sp"; sp=""
            link_restore "$dev"
            sleep "$up_s" & sp=$!; wait "$sp"; sp=""
        done
        _link_note "link $dev flapping done ($n cycles)"
    ) &
    _FLAP_PID[$dev]=$!
    _LIB_PIDS+=("$!")
    log "link $dev flapping: ${down_s}s $how, ${up_s}s up, for ${total_s}s (pid $!)"
}

link_flap_wait() {
    local pid=${_FLAP_PID[$1]:-}
    [ -n "$pid" ] || return 0
    wait "$pid" 2>/dev/null || true
    _FLAP_PID[$1]=""
}

link_flap_stop() {
    local dev=$1 pid=${_FLAP_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    _FLAP_PID[$dev]=""
    link_restore "$dev"
}

# ------------------------------------------------------------ configs
# write_gw_conf A|B FILE [FORWARD...]
#   FORWARD = "NAME LISTEN TARGET [KEY=VALUE...]", e.g.
#   "closed 198.18.10.1:8082 198.18.20.2:9002" or, with more keys of the
#   [forward.NAME] section, "cap4 0.0.0.0:15001 original capture=redirect"
# Each gateway gets a default forward "web": A listens on $A_LAN:$FWD_PORT and
# targets $LAN_B:$SRV_PORT; B listens on $B_LAN:$FWD_PORT, targets $LAN_A:$SRV_PORT.
# Knobs (environment): CONF_V6=1 (paths over IPv6), CONF_NO_DEFAULT_FWD=1,
# CONF_CONNECT_TIMEOUT_MS (2000), CONF_LOG_LEVEL (debug), CONF_EXTRA (raw text
# appended at the end).
# Multi-homing knobs:
#   CONF_PATHS="wan1:10 wan2:20"  one [path.wanK] per word, LINK[:PRIORITY[:FAMILY]]
#                   (FAMILY 4 or 6, default from CONF_V6; with FAMILY given
#                   the section is named wanK-v4 / wanK-v6, so one link can
#                   carry a v4 and a v6 path).  Unset: a single [path.wan1]
#                   without a priority line (the single-homed default).
#   CONF_PROFILE    unset: the harness timers (hb 500, rto 300/100/1000,
#                   path_max_retrans 3, assoc_max_retrans 6);
#                   fast: heartbeat_interval_ms=200, rto_initial_ms=200,
#                   rto_min_ms=100, rto_max_ms=400, path_max_retrans=2,
#                   pf_threshold=0, assoc_max_retrans=30, failback_hold_ms=2000;
#                   wanfast: fast moved to a WAN of up to ~100 ms RTT:
#                   rto_initial_ms=400, rto_min_ms=400 (above usrsctp's
#                   200 ms delayed SACK + the RTT, so no T3 is spurious),
#                   rto_max_ms=1000, the rest as fast (failback_hold_ms=2000);
#                   default: no timer keys at all (the gateway's defaults).
#   CONF_FAILBACK_HOLD_MS  failback_hold_ms (overrides the profile's value;
#                   with no profile/default profile the key is written only
#                   when this is set; "none" never writes it).
#   CONF_SCTP       raw "key = value" lines added inside [sctp] (after the
#                   profile's keys; do not repeat a profile key).
# CONF_EGRESS_ALLOW: the [egress] allow list (default: loopback and the test
# ranges, "127.0.0.0/8, ::1, 198.18.0.0/15, 2001:2::/32": the IPv6 hosts
# here are 2001:2:N::/64, inside 2001:2::/32 but not inside the /48 that
# RFC 5180 sets aside); "none" writes no [egress] section (the gateway then
# connects nowhere for its peer).
# CONF_EGRESS: raw "key = value" lines added inside [egress] (resolver = ...).
# CONF_PSK_FILE: psk_file of both gateways (default $WORK/psk, made by
# setup); "none" writes no psk_file (then CONF_ASSOC says insecure = yes).
# CONF_GATEWAY and CONF_ASSOC: raw "key = value" lines added inside
# [gateway] and [association] (not name, udp_encap_port, log_level,
# connect_timeout_ms, role, port, remote_udp_encap_port: those are written).
write_gw_conf() {
    local side=$1 file=$2; shift 2
    local name role listen target peer
    case "$side" in
        A) name=site-a; role=connect; peer=B
           listen="$A_LAN:$FWD_PORT"; target="$LAN_B:$SRV_PORT" ;;
        B) name=site-b; role=accept; peer=A
           listen="$B_LAN:$FWD_PORT"; target="$LAN_A:$SRV_PORT" ;;
        *) fail "write_gw_conf: side must be A or B, not '$side'" ;;
    esac
    local deffam=4
    [ "${CONF_V6:-0}" = 1 ] && deffam=6
    local hold=${CONF_FAILBACK_HOLD_MS:-}
    local timers
    case "${CONF_PROFILE:-}" in
        '') timers='heartbeat_interval_ms = 500
rto_initial_ms = 300
rto_min_ms = 100
rto_max_ms = 1000
path_max_retrans = 3
assoc_max_retrans = 6' ;;
        fast) timers='heartbeat_interval_ms = 200
rto_initial_ms = 200
rto_min_ms = 100
rto_max_ms = 400
path_max_retrans = 2
pf_threshold = 0
assoc_max_retrans = 30'
              hold=${hold:-2000} ;;
        wanfast) timers='heartbeat_interval_ms = 200
rto_initial_ms = 400
rto_min_ms = 400
rto_max_ms = 1000
path_max_retrans = 2
pf_threshold = 0
assoc_max_retrans = 30'
              hold=${hold:-2000} ;;
        default) timers='' ;;
        *) fail "write_gw_conf: CONF_PROFILE must be fast, wanfast or default, not '$CONF_PROFILE'" ;;
    esac
    {
        cat <<EOF
; written by tests/integration/lib.sh for ${SCENARIO:-test} (gateway $side)
[gateway]
name = $name
; the user-space engine even where the kernel has SCTP (tests/vm proves
; the kernel engine); CONF_ENGINE overrides
engine = ${CONF_ENGINE:-userspace}
udp_encap_port = $ENCAP_PORT
log_level = ${CONF_LOG_LEVEL:-debug}
connect_timeout_ms = ${CONF_CONNECT_TIMEOUT_MS:-2000}
${CONF_GATEWAY:-}

[association]
role = $role
port = $SCTP_PORT
remote_udp_encap_port = $ENCAP_PORT
$([ "${CONF_PSK_FILE:-}" = none ] || echo "psk_file = ${CONF_PSK_FILE:-$WORK/psk}")
${CONF_ASSOC:-}

[sctp]
EOF
        [ -n "$timers" ] && printf '%s\n' "$timers"
        [ -n "$hold" ] && [ "$hold" != none ] && printf 'failback_hold_ms = %s\n' "$hold"
        [ -n "${CONF_SCTP:-}" ] && printf '%s\n' "$CONF_SCTP"
        if [ -z "${CONF_PATHS:-}" ]; then
            printf '\n[path.wan1]\nlocal = %s\nremote = %s\n' \
                "$(wan_ip "$side" 1 "$deffam")" "$(wan_ip "$peer" 1 "$deffam")"
        else
            local w link prio fam pname
            for w in $CONF_PATHS; do
                IFS=: read -r link prio fam <<<"$w"
                case "$link" in wan[1-9]) ;; *) fail "write_gw_conf: CONF_PATHS entry '$w': link must be wan1..wan9" ;; esac
                pname=$link
                [ -n "$fam" ] && pname="$link-v$fam"
                fam=${fam:-$deffam}
                case "$fam" in 4|6) ;; *) fail "write_gw_conf: CONF_PATHS entry '$w': family must be 4 or 6" ;; esac
                printf '\n[path.%s]\nlocal = %s\nremote = %s\n' "$pname" \
                    "$(wan_ip "$side" "${link#wan}" "$fam")" "$(wan_ip "$peer" "${link#wan}" "$fam")"
                [ -n "$prio" ] && printf 'priority = %s\n' "$prio"
            done
        fi
        # Before the forwards: CONF_EXTRA lands in the last section.
        if [ "${CONF_EGRESS_ALLOW:-}" != none ]; then
            printf '\n[egress]\nallow = %s\n' \
                "${CONF_EGRESS_ALLOW:-127.0.0.0/8, ::1, 198.18.0.0/15, 2001:2::/32}"
            [ -n "${CONF_EGRESS:-}" ] && printf '%s\n' "$CONF_EGRESS"
        fi
        if [ "${CONF_NO_DEFAULT_FWD:-0}" != 1 ]; then
            printf '\n[forward.web]\nlisten = %s\ntarget = %s\n' "$listen" "$target"
        fi
        local f fname flisten ftarget fkeys kv
        for f in "$@"; do
            read -r fname flisten ftarget fkeys <<<"$f"
            [ -n "$ftarget" ] || fail "write_gw_conf: forward '$f' must be 'NAME LISTEN TARGET [KEY=VALUE...]'"
            printf '\n[forward.%s]\nlisten = %s\ntarget = %s\n' "$fname" "$flisten" "$ftarget"
            for kv in $fkeys; do
                case "$kv" in ?*=?*) ;; *) fail "write_gw_conf: forward '$f': '$kv' is not KEY=VALUE" ;; esac
                printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
            done
        done
        if [ -n "${CONF_EXTRA:-}" ]; then printf '\n%s\n' "$CONF_EXTRA"; fi
    } >"$file"
}

# ------------------------------------------------------------ gateways
# gw_start A|B CONFIGFILE : run "$SCTPGW -c FILE" in the gateway's namespace,
# stderr+stdout appended to $WORK/gw-X.log (restarts append to the same log).
gw_start() {
    local side=$1 conf=$2 ns logf
    ns=$(ns_of "$side"); logf="$WORK/gw-$side.log"
    if [ -n "${GW_PID[$side]:-}" ] && kill -0 "${GW_PID[$side]}" 2>/dev/null; then
        fail "gw_start $side: gateway already running (pid ${GW_PID[$side]})"
    fi
    GW_CONF[$side]=$conf
    LOGMARK[$side]=$(wc -l <"$logf")
    echo "=== $(date +%T.%3N) test: starting gateway $side: $SCTPGW -c $conf" >>"$logf"
    ip netns exec "$ns" "$SCTPGW" -c "$conf" >>"$logf" 2>&1 &
    GW_PID[$side]=$!
    _LIB_PIDS+=("$!")
    log "gateway $side started (pid ${GW_PID[$side]}, log $logf)"
}

gw_alive() { [ -n "${GW_PID[$1]:-}" ] && kill -0 "${GW_PID[$1]}" 2>/dev/null; }

# gw_stop A|B [TIMEOUT=10] : SIGTERM, wait; returns the gateway's exit status
# (SIGKILLs it and returns 124 if it does not exit in time).
gw_stop() {
    local side=$1 t=${2:-10} pid i rc=0
    pid=${GW_PID[$side]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq $((t * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        GW_PID[$side]=""
        echo "=== $(date +%T.%3N) test: gateway $side did not exit ${t}s after SIGTERM; SIGKILLed" >>"$WORK/gw-$side.log"
        log "gateway $side did not exit within ${t}s of SIGTERM"
        return 124
    fi
    wait "$pid" 2>/dev/null || rc=$?
    GW_PID[$side]=""
    echo "=== $(date +%T.%3N) test: gateway $side exited with status $rc after SIGTERM" >>"$WORK/gw-$side.log"
    log "gateway $side stopped, exit status $rc"
    return $rc
}

# gw_kill A|B : SIGKILL, no grace.
gw_kill() {
    local side=$1 pid
    pid=${GW_PID[$side]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    GW_PID[$side]=""
    echo "=== $(date +%T.%3N) test: gateway $side SIGKILLed" >>"$WORK/gw-$side.log"
    log "gateway $side SIGKILLed"
}

gw_restart() { gw_start "$1" "${GW_CONF[$1]}"; }

# log_mark A|B : later wait_log calls only look at lines written after this.
log_mark() { LOGMARK[$1]=$(wc -l <"$WORK/gw-$1.log"); }

# wait_log A|B PATTERN TIMEOUT_S : wait for an (extended regex) line in the
# gateway's log written after the last log_mark/gw_start.  Fails the test if
# it does not appear in time or the gateway dies meanwhile.
wait_log() {
    local side=$1 pat=$2 t=${3:-10} mark end
    mark=${LOGMARK[$side]:-0}
    end=$(( $(date +%s%N) + t * 1000000000 ))
    while :; do
        if tail -n +"$((mark + 1))" "$WORK/gw-$side.log" | grep -Eq -- "$pat"; then
            return 0
        fi
        if [ -n "${GW_PID[$side]:-}" ] && ! kill -0 "${GW_PID[$side]}" 2>/dev/null; then
            fail "gateway $side exited while waiting for '$pat' in its log"
        fi
        [ "$(date +%s%N)" -lt "$end" ] || fail "no '$pat' in gateway $side's log within ${t}s"
        sleep 0.1
    done
}

# log_since A|B : the gateway's log lines written after the last log_mark.
log_since() { tail -n +"$((${LOGMARK[$1]:-0} + 1))" "$WORK/gw-$1.log"; }

# log_time_ms A|B PATTERN [first|last] : the time (epoch ms) stamped on the
# first (or last) line after the last log_mark that matches PATTERN (extended
# regex); prints nothing and returns 1 when there is none.
log_time_ms() {
    local line stamp
    if [ "${3:-first}" = last ]; then
        line=$(log_since "$1" | grep -E -- "$2" | tail -n1)
    else
        line=$(log_since "$1" | grep -E -m1 -- "$2")
    fi
    stamp=${line%% *}
    case "$stamp" in
        [0-9][0-9][0-9][0-9]-*T*Z) date -u -d "${stamp%Z}" +%s%3N ;;
        *) return 1 ;;
    esac
}

# wait_log_count SIDE ERE N SECONDS: until SIDE's log since its mark has N
# lines matching ERE (fails after SECONDS).
wait_log_count() {
    local side=$1 re=$2 n=$3 end=$((SECONDS + $4))
    while [ "$(log_since "$side" | grep -acE "$re")" -lt "$n" ]; do
        [ $SECONDS -lt "$end" ] || fail "gateway $side: fewer than $n log lines like '$re' within $4 s"
        sleep 0.1
    done
}

# assoc_up [TIMEOUT] : wait for 'association up' on both gateways.
assoc_up() {
    wait_log A 'association up' "${1:-15}"
    wait_log B 'association up' "${1:-15}"
}

# pair_up : the usual start of a scenario: both configs written by
# write_gw_conf (its CONF_* knobs apply to both), B (accept) started before
# A (connect), and the association up on both within 15 s.
pair_up() {
    write_gw_conf A "$WORK/a.conf"
    write_gw_conf B "$WORK/b.conf"
    gw_start B "$WORK/b.conf"
    gw_start A "$WORK/a.conf"
    assoc_up 15
}

# ------------------------------------------------------------ helpers
# wait_listen NS PORT [TIMEOUT] : wait for a TCP listener on PORT inside NS.
wait_listen() {
    local ns port=$2 t=${3:-10} i
    ns=$(ns_of "$1")
    for i in $(seq $((t * 10))); do
        if ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
        sleep 0.1
    done
    fail "nothing listening on port $port in $ns after ${t}s"
}

# xfer_server NS ADDR:PORT [more args] : start an xfer.py server, wait for it.
xfer_server() {
    local ns=$1 addr=$2; shift 2
    bg_ns "$ns" "$WORK/xfer-server-$(ns_of "$ns").log" python3 "$XFER" server --listen "$addr" "$@"
    wait_listen "$ns" "${addr##*:}"
}

# run_ns NS LIMIT_S OUTFILE cmd... : run cmd in NS, stdout+stderr to OUTFILE,
# killed after LIMIT_S (status 124).  Runs in the background and is waited
# for, so a signal to the scenario runs cleanup at once.
run_ns() {
    local ns t=$2 out=$3 pid rc=0
    ns=$(ns_of "$1"); shift 3
    timeout "$t" ip netns exec "$ns" "$@" >"$out" 2>&1 &
    pid=$!
    _LIB_PIDS+=("$pid")
    wait "$pid" || rc=$?
    return $rc
}

# run_ns_bg NS LIMIT_S OUTFILE cmd... : run_ns in the background; its pid
# in BG_PID (wait for it to get the status).
run_ns_bg() {
    run_ns "$@" &
    BG_PID=$!
    _LIB_PIDS+=("$BG_PID")
}

# xfer_check RC OUTFILE WHAT : fail unless an xfer client run ended with
# status 0 and every connection ok (no failure, no reset).
xfer_check() {
    local rc=$1 out=$2 what=$3 line
    line=$(grep '^ok=' "$out" | tail -n1 || true)
    [ "$rc" = 124 ] && fail "$what: did not finish in time (killed): $(tail -n 5 "$out")"
    [ "$rc" = 0 ] || fail "$what: xfer exit $rc: $(tail -n 5 "$out")"
    case "$line" in
        *' failed=0 reset=0 '*) ;;
        *) fail "$what: $line" ;;
    esac
}

# xfer NS ARGS... : run a short xfer.py command in NS (foreground)
xfer() { local ns=$1; shift; in_ns "$ns" python3 "$XFER" "$@"; }

# wan_cut [PATH=wan1] / wan_restore [PATH=wan1] : drop everything arriving on
# the path's interface in both gateway namespaces (nothing is rejected, so the
# senders see silence, as with a cut cable).
wan_cut() {
    local dev=${1:-wan1} side
    for side in A B; do
        in_ns "$side" nft -f - <<EOF
table inet sgcut_$dev {
    chain in {
        type filter hook input priority -10; policy accept;
        iifname "$dev" drop
    }
}
EOF
    done
    log "path $dev cut (nft drop)"
}

wan_restore() {
    local dev=${1:-wan1} side
    for side in A B; do
        in_ns "$side" nft delete table inet "sgcut_$dev" 2>/dev/null || true
    done
    log "path $dev restored"
}

# gw_sctp_stat A|B NAME : one of the engine's counters since the gateway
# started, from a fresh SIGUSR1 status line (needs log_level info or
# debug; user-space engine).  NAME: t3 (T3 timeouts), rtx (DATA chunks
# retransmitted), fast (of which fast retransmits), out, in (packets).
gw_sctp_stat() {
    local side=$1 n i line
    gw_alive "$side" || fail "gw_sctp_stat: gateway $side is not running"
    n=$(grep -c 'since start: ' "$WORK/gw-$side.log" || true)
    kill -USR1 "${GW_PID[$side]}"
    for i in $(seq 100); do
        [ "$(grep -c 'since start: ' "$WORK/gw-$side.log" || true)" -gt "$n" ] && break
        sleep 0.02
    done
    line=$(grep 'since start: ' "$WORK/gw-$side.log" | tail -n1)
    [ -n "$line" ] || fail "gw_sctp_stat: no engine status line from gateway $side (log_level?)"
    case "$2" in
        t3) sed -n 's/.*T3 timeouts \([0-9]*\).*/\1/p' <<<"$line" ;;
        rtx) sed -n 's/.*DATA chunks retransmitted \([0-9]*\).*/\1/p' <<<"$line" ;;
        fast) sed -n 's/.*retransmitted [0-9]* (fast \([0-9]*\)).*/\1/p' <<<"$line" ;;
        out) sed -n 's/.*packets out \([0-9]*\).*/\1/p' <<<"$line" ;;
        in) sed -n 's/.*packets out [0-9]* in \([0-9]*\).*/\1/p' <<<"$line" ;;
        # the association's buffers now and the most they may grow to, KiB
        sndbuf) sed -n 's/.*buffers send \([0-9]*\) receive .*/\1/p' <<<"$line" ;;
        rcvbuf) sed -n 's/.*buffers send [0-9]* receive \([0-9]*\) KiB.*/\1/p' <<<"$line" ;;
        sndmax) sed -n 's/.* KiB (max \([0-9]*\), [0-9]*).*/\1/p' <<<"$line" ;;
        rcvmax) sed -n 's/.* KiB (max [0-9]*, \([0-9]*\)).*/\1/p' <<<"$line" ;;
        *) fail "gw_sctp_stat: unknown counter '$2'" ;;
    esac
}

# gw_rss_kib A|B [VmRSS|VmHWM] : the gateway's resident memory in KiB
# (VmHWM: the peak since it started).
gw_rss_kib() {
    local pid=${GW_PID[$1]:-}
    [ -n "$pid" ] || fail "gw_rss_kib: gateway $1 is not running"
    awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$pid/status"
}

# now_ms : monotonic-enough wall clock in milliseconds
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# summary_field LINE KEY : extract KEY=value from an xfer summary line
summary_field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

# ------------------------------------------------------------ capture
# nft_load NS FILE [NAME=VALUE...] : load the nftables ruleset FILE (e.g.
# one of contrib/nftables/) in NS, each "define NAME = ..." line of it
# given VALUE instead (nft -D cannot redefine what a file defines). A NAME
# the file does not define fails the test, so a renamed define cannot be
# silently left at its example value.  The loaded copy stays in $WORK.
nft_load() {
    local ns=$1 file=$2 out kv name; shift 2
    [ -f "$file" ] || fail "nft_load: no file $file"
    out="$WORK/$(basename "$file")"
    cp "$file" "$out"
    for kv in "$@"; do
        name=${kv%%=*}
        grep -qE "^define $name = " "$out" || fail "nft_load: $file defines no $name"
        # the value, then the define's own comment (if any) dropped
        VALUE=${kv#*=} NAME=$name perl -i -pe 's/^define \Q$ENV{NAME}\E = .*/define $ENV{NAME} = $ENV{VALUE}/' "$out"
    done
    in_ns "$ns" nft -f "$out" || fail "nft_load: nft -f $out failed in $(ns_of "$ns")"
    log "loaded $(basename "$file") in $(ns_of "$ns")${*:+ ($*)}"
}

# tproxy_routing NS [MARK=1] [TABLE=100] : what TPROXY needs besides its
# nftables rule: packets with the fwmark MARK are delivered locally (IPv4
# and IPv6), whatever their destination (see contrib/nftables/tcp-tproxy.nft).
tproxy_routing() {
    local ns mark=${2:-1} table=${3:-100}
    ns=$(ns_of "$1")
    ip -n "$ns" rule add fwmark "$mark" lookup "$table"
    ip -n "$ns" route add local 0.0.0.0/0 dev lo table "$table"
    ip -n "$ns" -6 rule add fwmark "$mark" lookup "$table"
    ip -n "$ns" -6 route add local ::/0 dev lo table "$table"
}

# nginx_start NS DOCROOT LISTEN... : a private nginx (nginx-light) in NS
# serving DOCROOT on each LISTEN ("198.18.20.2:80", "[2001:2:20::2]:80");
# config, pid, temp files and logs in $WORK/nginx-NS/. Its access log,
# one line per request "REMOTE_ADDR METHOD URI STATUS BYTES", is
# $NGINX_ACCESS_LOG. Waits for the ports.
nginx_start() {
    local ns dir root=$2 l listens="" port; ns=$(ns_of "$1"); shift 2
    need_cmd nginx
    dir="$WORK/nginx-$ns"
    mkdir -p "$dir/tmp"
    for l in "$@"; do listens+="        listen $l;"$'\n'; done
    cat >"$dir/nginx.conf" <<EOF
# written by tests/integration/lib.sh nginx_start for ${SCENARIO:-test}
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
daemon off;
events { worker_connections 256; }
http {
    log_format sgw '\$remote_addr \$request_method \$request_uri \$status \$body_bytes_sent';
    access_log $dir/access.log sgw;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    sendfile on;
    server {
$listens        root $root;
    }
}
EOF
    : >"$dir/access.log"
    NGINX_ACCESS_LOG="$dir/access.log"
    bg_ns "$ns" "$dir/stderr.log" nginx -c "$dir/nginx.conf" -p "$dir"
    for l in "$@"; do
        port=${l##*:}
        wait_listen "$ns" "$port"
    done
    log "nginx serving $root in $ns on $*"
}

# ------------------------------------------------------------ results
_dump_logs() {
    local side f
    for side in A B; do
        f="$WORK/gw-$side.log"
        [ -f "$f" ] || continue
        # The cause is often a warning or error far above the last lines
        # (40 connections closing push it out): those come first.
        echo "----- last 30 warnings and errors of gateway $side ($f) -----" >&2
        grep -aE ' (warn|error) ' "$f" | tail -n 30 >&2 || true
        echo "----- last 40 lines of gateway $side log ($f) -----" >&2
        tail -n 40 "$f" >&2
    done
    for f in "$WORK"/xfer-server-*.log; do
        [ -s "$f" ] || continue
        echo "----- last 10 lines of $(basename "$f") -----" >&2
        tail -n 10 "$f" >&2
    done
}

fail() {
    echo "FAIL: ${SCENARIO:-scenario}: $*" >&2
    # Ask the running gateways for a status line (SIGUSR1) for the logs.
    local side sent=0
    for side in A B; do
        gw_alive "$side" && kill -USR1 "${GW_PID[$side]}" 2>/dev/null && sent=1
    done
    [ "$sent" = 1 ] && sleep 0.3
    if [ -n "${WORK:-}" ]; then _dump_logs; fi
    exit 1
}

pass() {
    echo "PASS: ${SCENARIO:-scenario}${1:+: $*}" >&2
    exit 0
}

# cleanup: kill everything we started and everything living in our
# namespaces, delete the namespaces and the work dir.  Safe to run twice.
cleanup() {
    local rc=$? pid ns pids i
    trap - EXIT
    set +e
    if [ "$_LIB_CLEANED" = 1 ]; then return "$rc"; fi
    _LIB_CLEANED=1
    for pid in "${_LIB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for ns in "${_LIB_NS[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
    done
    for i in $(seq 20); do
        local alive=0
        for pid in "${_LIB_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        for ns in "${_LIB_NS[@]}"; do [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${_LIB_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for ns in "${_LIB_NS[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    done
    for pid in "${_LIB_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${_LIB_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    _LIB_NS=()
    _LIB_PIDS=()
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "${KEEP_LOGS_ON_FAIL:-}" ]; then
            # Renamed so that the next run's sweep_stale leaves it alone.
            local kept="${WORK/sgw-it-/sgw-kept-}"
            mv "$WORK" "$kept" && log "keeping $kept (KEEP_LOGS_ON_FAIL)"
        else
            rm -rf "$WORK"
        fi
    fi
    return "$rc"
}
