#!/usr/bin/env bash
# bench/run.sh - sctpgw against its peers on one link, one table.
#
#   sudo bench/run.sh [--quick] [--wan PROFILE[,PROFILE...]] [PATH-TO-sctpgw]
#                                                     (see bench/README.md)
#
# Builds the four-namespace testbed of tests/integration/lib.sh (lan-a |
# gw-a =wan1= gw-b | lan-b, veth MTU 1500) and carries the same client
# traffic from lan-a to servers in lan-b five ways ("columns"):
#   direct  plain kernel routing through gw-a and gw-b (no relay)
#   socat   socat in gw-a -> TCP over wan1 -> socat in gw-b -> server
#   kcptun  kcptun-client in gw-a -> KCP/UDP over wan1 -> kcptun-server in gw-b
#   raw     bench/raw_usrsctp: bytes over one bare usrsctp association
#           gw-a -> gw-b with the engine's settings (the engine's ceiling),
#           at the sctpgw column's path_mtu (from BENCH_SCTP, default 1280;
#           RAW_PATH_MTU overrides) and with SCTP-AUTH as its packet_auth
#           (from BENCH_ASSOC, default yes; RAW_AUTH=0|1 overrides): packets
#           of one size and one cost in both columns
#   sctpgw  gateway A -> one SCTP association over wan1 -> gateway B
# Figures ("rows"): bulk throughput with 1 and 8 connections (iperf3),
# request/response latency p50/p99 (64-byte ping-pong), connections per
# second (open, 32-byte exchange, close), memory per idle connection (RSS of
# the relays before/after opening N idle connections), CPU seconds per GiB
# (utime+stime of the relay processes on both sides over the 1-connection
# bulk run). Every figure is measured for every column in turn, round after
# round, so noise from other work on the machine falls on all columns alike;
# the table shows the median of the rounds and the ratios sctpgw/peer.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_TIME (bulk seconds, 10),
# BENCH_RR_N (10000), BENCH_CPS_TIME (5), BENCH_CPS_CONC (8), BENCH_IDLE
# (10000 idle connections), BENCH_IDLE_SOCAT (1000: socat forks two
# processes per connection), BENCH_COLUMNS ("direct socat kcptun raw
# sctpgw"; add "base" to run a second gateway pair side by side, from
# BENCH_BASELINE=PATH-TO-sctpgw (default: the same binary): the column /base
# is then the before/after ratio of a change), BENCH_GATEWAY and BENCH_SCTP
# (extra "key = value" lines, ';' between them, for the [gateway] and [sctp]
# sections of the sctpgw pair (BENCH_ASSOC, BENCH_BASE_ASSOC: [association]); BENCH_BASE_GATEWAY and BENCH_BASE_SCTP for
# the base pair: a setting measured against another), BENCH_KCPTUN_OPTS
# (more options for both kcptun ends, e.g. "--sndwnd 1024 --rcvwnd 1024"),
# BENCH_FIGURES ("bulk1 bulk8 rr cps mem"), BENCH_TABLE (also
# copy the table to this file), BENCH_KEEP=1 (keep the work dir).
# --quick: 1 round, 3 s bulk, 2000 round trips, 2 s cps, 1000 idle.
#
# --wan PROFILE: wan1 is an emulated WAN link (tests/tools/wanem, lib.sh's
# topo_up --wan) instead of a veth pair; one table per profile:
#   wan50      25 ms each way (50 ms RTT), 200 Mbit/s, queue 1000 packets
#   wan50loss  the same with 1 % random loss each way
#   wan100     50 ms each way (100 ms RTT), 1000 Mbit/s, queue 1000 packets
#   DELAY:RATE:LOSS:QUEUE  any other link (fields as in lib.sh)
# The WAN columns are cubic and bbr (iperf3 straight over the link, direct
# routing, -C cubic / -C bbr), kcptun (windows and buffers sized from the
# path's bandwidth-delay product) and sctpgw (its DEFAULT configuration,
# log_level info for the status lines); the figures bulk1, bulk8 and rev1
# (iperf3 -R: lan-b sends); after each sctpgw run both gateways' SCTP
# counters (SIGUSR1) give the T3 timeouts and retransmitted DATA chunks of
# that run.  Knobs as above (BENCH_TIME defaults to 20, quick 8).
set -euo pipefail
SCENARIO=bench
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"

quick=0
bin=""
wan=""
args=("$@")
while [ $# -gt 0 ]; do
    a=$1; shift
    case "$a" in
        --quick) quick=1 ;;
        --wan) [ $# -gt 0 ] || { echo "--wan needs a profile" >&2; exit 2; }; wan=$1; shift ;;
        --wan=*) wan=${a#--wan=} ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) bin=$a ;;
    esac
done
# several WAN profiles: one run of this script each, tables one after another
if [ "${wan//[^,]/}" != "" ]; then
    rest=()
    skip=0
    for a in "${args[@]}"; do
        if [ $skip = 1 ]; then skip=0; continue; fi
        case "$a" in --wan) skip=1 ;; --wan=*) ;; *) rest+=("$a") ;; esac
    done
    rc=0
    for p in ${wan//,/ }; do "$0" "${rest[@]}" --wan "$p" || rc=$?; done
    exit $rc
fi
# the WAN profile: its lib.sh link spec (DELAY:RATE:LOSS:QUEUE), one-way
# delay, rate and the bandwidth-delay product in bytes (kcptun's windows)
WAN_SPEC=""
case "$wan" in
    '') ;;
    wan50) WAN_SPEC=25:200:0:1000 ;;
    wan50loss) WAN_SPEC=25:200:1:1000 ;;
    wan100) WAN_SPEC=50:1000:0:1000 ;;
    *:*) WAN_SPEC=$wan ;;
    *) echo "unknown WAN profile '$wan' (wan50, wan50loss, wan100 or DELAY:RATE:LOSS:QUEUE)" >&2; exit 2 ;;
esac
need_root
if [ -z "$bin" ] && [ -z "${SCTPGW:-}" ]; then
    # the one-command path: packages, then a build of this tree
    bash "$HERE/../contrib/deps.sh" --bench
    (cd "$HERE/.." && { meson setup build --reconfigure >/dev/null 2>&1 || meson setup build >/dev/null; } &&
        meson compile -C build >/dev/null) || { echo "FAIL: build failed" >&2; exit 1; }
fi
need_cmd iperf3 socat kcptun-client kcptun-server cc pkg-config
if [ -z "$bin" ]; then bin=${SCTPGW:-$HERE/../build/src/sctpgw}; fi
setup "$bin"

if [ "$quick" = 1 ]; then
    ROUNDS=${BENCH_ROUNDS:-1}; BTIME=${BENCH_TIME:-3}; RR_N=${BENCH_RR_N:-2000}
    CPS_T=${BENCH_CPS_TIME:-2}; IDLE=${BENCH_IDLE:-1000}; IDLE_SOCAT=${BENCH_IDLE_SOCAT:-200}
else
    ROUNDS=${BENCH_ROUNDS:-3}; BTIME=${BENCH_TIME:-10}; RR_N=${BENCH_RR_N:-10000}
    CPS_T=${BENCH_CPS_TIME:-5}; IDLE=${BENCH_IDLE:-10000}; IDLE_SOCAT=${BENCH_IDLE_SOCAT:-1000}
fi
CPS_CONC=${BENCH_CPS_CONC:-8}
COLUMNS=${BENCH_COLUMNS:-direct socat kcptun raw sctpgw}
FIGURES=${BENCH_FIGURES:-bulk1 bulk8 rr cps mem}
if [ -n "$WAN_SPEC" ]; then
    COLUMNS=${BENCH_COLUMNS:-cubic bbr kcptun sctpgw}
    FIGURES=${BENCH_FIGURES:-bulk1 bulk8 rev1}
    if [ "$quick" = 1 ]; then BTIME=${BENCH_TIME:-8}; else BTIME=${BENCH_TIME:-20}; fi
    IFS=: read -r WAN_DELAY WAN_RATE _ _ <<<"$WAN_SPEC"
    # the larger direction's value when A2B/B2A is given
    WAN_DELAY=$(tr / '\n' <<<"$WAN_DELAY" | sort -g | tail -n1)
    WAN_RATE=$(tr / '\n' <<<"${WAN_RATE:-0}" | sort -g | tail -n1)
    [ "${WAN_RATE%.*}" -gt 0 ] 2>/dev/null || WAN_RATE=1000
    WAN_BDP=$(awk -v d="$WAN_DELAY" -v r="$WAN_RATE" 'BEGIN { printf "%d", r * 1e6 / 8 * 2 * d / 1000 }')
fi
RES="$WORK/res"
mkdir -p "$RES"
[ "${BENCH_KEEP:-0}" = 1 ] && trap 'rc=$?; log "work dir kept: $WORK"; WORK=""; cleanup; exit $rc' EXIT

# N idle connections need N descriptors in each relay, client and server
# (raising the hard limit needs CAP_SYS_RESOURCE, which containers may lack).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
    fail "BENCH_IDLE=$IDLE needs 'ulimit -n' of at least $((IDLE + 1000)); the limit here is $(ulimit -n)"
fi

# ------------------------------------------------------------ tools
log "building bench/tcpprobe.c and bench/raw_usrsctp.c"
PROBE="$WORK/tcpprobe"
RAW="$WORK/raw_usrsctp"
cc -O2 -std=gnu11 -D_GNU_SOURCE -o "$PROBE" "$HERE/tcpprobe.c" -lpthread
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE $(pkg-config --cflags usrsctp) -I"$HERE/../src" -o "$RAW" \
    "$HERE/raw_usrsctp.c" "$HERE/../src/udp_bufs.c" "$HERE/../src/crc32c.c" \
    "$HERE/../src/sctp_sha1.c" -Wl,-Bstatic -lusrsctp -Wl,-Bdynamic -lcrypto -lpthread

# The raw column's packets are the sctpgw column's size: its path_mtu.
if [ -z "${RAW_PATH_MTU:-}" ]; then
    RAW_PATH_MTU=$(tr ';' '\n' <<<"${BENCH_SCTP:-}" | sed -n 's/^ *path_mtu *= *\([0-9]*\) *$/\1/p' | tail -n 1)
    RAW_PATH_MTU=${RAW_PATH_MTU:-1280}
fi
# ... and its packets carry SCTP-AUTH when the sctpgw column's do.
if [ -z "${RAW_AUTH:-}" ]; then
    RAW_AUTH=1
    tr ';' '\n' <<<"${BENCH_ASSOC:-}" | grep -Eq '^ *packet_auth *= *no *$' && RAW_AUTH=0
fi
export RAW_PATH_MTU RAW_AUTH
log "raw column: path MTU $RAW_PATH_MTU, SCTP-AUTH $RAW_AUTH (sctpgw: ${BENCH_SCTP:-defaults}; ${BENCH_ASSOC:-defaults})"

# ------------------------------------------------------------ testbed
if [ -n "$WAN_SPEC" ]; then
    topo_up --wan "1:$WAN_SPEC"
    log "WAN profile ${wan}: wan1 $WAN_SPEC (delay ms each way:Mbit/s:loss %:queue packets), BDP $WAN_BDP bytes"
else
    topo_up
fi
for ns in "$NS_LAN_A" "$NS_A" "$NS_B" "$NS_LAN_B"; do
    # many short connections: ports and TIME_WAIT reuse; deep accept queues
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" \
        net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
done
# direct: gw-a and gw-b route between the sites (the relays do not need it)
for ns in "$NS_A" "$NS_B"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done
ip -n "$NS_A" route add 198.18.20.0/24 via "$B_WAN"
ip -n "$NS_B" route add 198.18.10.0/24 via "$A_WAN"

BULK_SRV=5201   # iperf3 in lan-b
ECHO_SRV=5202   # tcpprobe echo in lan-b
bg_ns lan-b "$WORK/iperf3-server.log" iperf3 -s -p $BULK_SRV
bg_ns lan-b "$WORK/echo-server.log" "$PROBE" echo "$LAN_B:$ECHO_SRV"
wait_listen lan-b $BULK_SRV
wait_listen lan-b $ECHO_SRV

# addr COLUMN bulk|echo : where the client in lan-a connects
addr() {
    local k=1
    [ "$2" = echo ] && k=2
    case "$1" in
        direct|cubic|bbr) echo "$LAN_B:520$k" ;;
        socat) echo "$A_LAN:610$k" ;;
        kcptun) echo "$A_LAN:620$k" ;;
        sctpgw) echo "$A_LAN:630$k" ;;
        base) echo "$A_LAN:640$k" ;;
    esac
}

declare -A RELAY_PIDS=()   # column -> pids of its relay processes

start_socat() {
    local k pids=""
    for k in 1 2; do
        bg_ns A "$WORK/socat-a$k.log" socat -b 65536 \
            "TCP-LISTEN:610$k,bind=$A_LAN,fork,reuseaddr,backlog=8192,nodelay" "TCP:$B_WAN:710$k,nodelay"
        pids="$pids $BG_PID"
        bg_ns B "$WORK/socat-b$k.log" socat -b 65536 \
            "TCP-LISTEN:710$k,bind=$B_WAN,fork,reuseaddr,backlog=8192,nodelay" "TCP:$LAN_B:520$k,nodelay"
        pids="$pids $BG_PID"
        wait_listen A 610$k; wait_listen B 710$k
    done
    RELAY_PIDS[socat]=$pids
}

start_kcptun() {
    local k pids="" opts=(--crypt none --mode fast3 --nocomp --quiet)
    if [ -n "$WAN_SPEC" ]; then
        # windows for the path: twice its bandwidth-delay product, in KCP
        # segments (MTU 1350) and in bytes for the UDP socket and smux v2's
        # buffers (the defaults, 4 MiB and 2 MiB per stream, cap a long path)
        local wnd buf
        wnd=$(( 2 * WAN_BDP / 1350 )); [ $wnd -lt 1024 ] && wnd=1024
        buf=$(( 2 * WAN_BDP )); [ $buf -lt 4194304 ] && buf=4194304
        opts+=(--sndwnd "$wnd" --rcvwnd "$wnd" --sockbuf "$buf" --smuxver 2 --smuxbuf "$((2 * buf))" --streambuf "$buf")
        log "kcptun for the path: --sndwnd/--rcvwnd $wnd --sockbuf $buf --smuxver 2 --smuxbuf $((2 * buf)) --streambuf $buf"
    fi
    # shellcheck disable=SC2206
    opts+=(${BENCH_KCPTUN_OPTS:-})
    for k in 1 2; do
        bg_ns B "$WORK/kcptun-b$k.log" kcptun-server -l "$B_WAN:2990$k" -t "$LAN_B:520$k" "${opts[@]}"
        pids="$pids $BG_PID"
        bg_ns A "$WORK/kcptun-a$k.log" kcptun-client -l "$A_LAN:620$k" -r "$B_WAN:2990$k" "${opts[@]}"
        pids="$pids $BG_PID"
        wait_listen A 620$k
    done
    RELAY_PIDS[kcptun]=$pids
}

# wait_through PORT : wait (15 s at most) until an echo through the relay
# listening on A_LAN:PORT comes back
wait_through() {
    wait_listen A "$1" 15
    # one echo is 101 round trips (100 warm-up): 5 s at 50 ms
    local t=2
    [ -n "$WAN_SPEC" ] && t=$(( 2 + WAN_DELAY * 2 * 101 / 1000 ))
    for _ in $(seq $((150 * 2 / t))); do
        in_ns lan-a timeout "$t" "$PROBE" rr "$A_LAN:$1" 1 8 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "nothing comes back through $A_LAN:$1 (see $WORK/gw-*.log)"
}

# conf_keys FILE GATEWAY_KEYS SCTP_KEYS [ASSOC_KEYS] : add "key = value"
# lines (';' between them) to the [gateway], [sctp] and [association]
# sections; "insecure = yes" among ASSOC_KEYS also drops the psk_file line
conf_keys() {
    [ -n "$2" ] && sed -i "s/^\[gateway\]$/&\n${2//;/\\n}/" "$1"
    [ -n "$3" ] && sed -i "s/^\[sctp\]$/&\n${3//;/\\n}/" "$1"
    [ -n "${4:-}" ] && sed -i "s/^\[association\]$/&\n${4//;/\\n}/" "$1"
    case "${4:-}" in *"insecure = yes"*) sed -i '/^psk_file = /d' "$1" ;; esac
    return 0
}

start_sctpgw() {
    local streams=$((2 * IDLE + 100)) level=warn
    [ $streams -gt 65535 ] && streams=65535
    # on a WAN: info, for the SIGUSR1 status lines (T3 timeouts per run)
    [ -n "$WAN_SPEC" ] && level=info
    CONF_PROFILE=default CONF_LOG_LEVEL=$level CONF_NO_DEFAULT_FWD=1 \
        write_gw_conf A "$WORK/a.conf" "bulk $A_LAN:6301 $LAN_B:5201" "echo $A_LAN:6302 $LAN_B:5202"
    CONF_PROFILE=default CONF_LOG_LEVEL=$level CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/b.conf"
    if has_fig mem || [ -z "$WAN_SPEC" ]; then
        sed -i "s/^\[association\]$/&\nmax_streams = $streams/" "$WORK/a.conf" "$WORK/b.conf"
        # room for every idle connection at the default conn_window (256k):
        # memory_limit counts reservations, the figure measures what is resident
        sed -i "s/^\[gateway\]$/&\nmemory_limit = $(( (IDLE + 100) / 4 + 1 ))m/" "$WORK/a.conf" "$WORK/b.conf"
    fi
    conf_keys "$WORK/a.conf" "${BENCH_GATEWAY:-}" "${BENCH_SCTP:-}" "${BENCH_ASSOC:-}"
    conf_keys "$WORK/b.conf" "${BENCH_GATEWAY:-}" "${BENCH_SCTP:-}" "${BENCH_ASSOC:-}"
    gw_start B "$WORK/b.conf"
    gw_start A "$WORK/a.conf"
    # log_level warn: no 'association up' line; one echo through says it
    wait_through 6302
    RELAY_PIDS[sctpgw]="${GW_PID[A]} ${GW_PID[B]}"
}

# base: a second gateway pair from BENCH_BASELINE (an older build), on its
# own UDP encapsulation and SCTP ports, to measure a change before/after in
# one run.
start_base() {
    local base=${BENCH_BASELINE:-$SCTPGW}
    [ -x "$base" ] || fail "BENCH_BASELINE '$base' is not an executable"
    # the base pair starts from the sctpgw pair's configuration without its
    # BENCH_GATEWAY/BENCH_SCTP keys, plus BENCH_BASE_GATEWAY/BENCH_BASE_SCTP
    CONF_PROFILE=default CONF_LOG_LEVEL=warn CONF_NO_DEFAULT_FWD=1 write_gw_conf A "$WORK/base0-a.conf" \
        "bulk $A_LAN:6301 $LAN_B:5201" "echo $A_LAN:6302 $LAN_B:5202"
    CONF_PROFILE=default CONF_LOG_LEVEL=warn CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/base0-b.conf"
    local side
    for side in a b; do
        sed -i "s/^\[association\]$/&\n$(grep '^max_streams' "$WORK/a.conf")/" "$WORK/base0-$side.conf"
        sed -i "s/^\[gateway\]$/&\n$(grep '^memory_limit' "$WORK/a.conf")/" "$WORK/base0-$side.conf"
        conf_keys "$WORK/base0-$side.conf" "${BENCH_BASE_GATEWAY:-}" "${BENCH_BASE_SCTP:-}" \
            "${BENCH_BASE_ASSOC:-}"
        sed -e 's/^udp_encap_port = .*/udp_encap_port = 9897/' \
            -e 's/^remote_udp_encap_port = .*/remote_udp_encap_port = 9897/' \
            -e 's/^port = .*/port = 5759/' -e 's/:630\([0-9]\)$/:640\1/' \
            "$WORK/base0-$side.conf" >"$WORK/base-$side.conf"
    done
    bg_ns B "$WORK/base-B.log" "$base" -c "$WORK/base-b.conf"
    local pb=$BG_PID
    bg_ns A "$WORK/base-A.log" "$base" -c "$WORK/base-a.conf"
    RELAY_PIDS[base]="$BG_PID $pb"
    wait_through 6402
}

has_fig() { case " $FIGURES " in *" $1 "*) return 0 ;; esac; return 1; }

case " $COLUMNS " in *" base "*) case " $COLUMNS " in *" sctpgw "*) ;; *) fail "column 'base' needs column 'sctpgw' too" ;; esac ;; esac
for c in $COLUMNS; do
    case "$c" in
        base) ;;
        socat) start_socat ;;
        kcptun) start_kcptun ;;
        sctpgw) start_sctpgw ;;
        direct|raw|cubic|bbr) ;;
        *) fail "unknown column '$c' (BENCH_COLUMNS)" ;;
    esac
done
case " $COLUMNS " in *" base "*) start_base ;; esac
log "relays up: $COLUMNS"

# ------------------------------------------------------------ measuring
# cpu_ticks PID... : utime+stime(+ reaped children's) in clock ticks
cpu_ticks() {
    local p t=0 f
    for p in "$@"; do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }
        # shellcheck disable=SC2086
        set -- $f
        t=$((t + ${12} + ${13} + ${14} + ${15}))
    done
    echo "$t"
}

# relay_procs COLUMN : every process of the column (socat forks per connection)
relay_procs() {
    case "$1" in
        socat)
            local ns p
            for ns in "$NS_A" "$NS_B"; do
                for p in $(ip netns pids "$ns"); do
                    if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = socat ]; then echo "$p"; fi
                done
            done ;;
        *) echo "${RELAY_PIDS[$1]:-}" | tr ' ' '\n' | grep . || true ;;
    esac
}

# mem_kib COLUMN : VmRSS of the relay processes, summed; for socat the Pss
# (its forked children share most pages with the parent: adding their RSS
# would count the shared pages once per connection).
mem_kib() {
    local p t=0 v
    for p in $(relay_procs "$1"); do
        if [ "$1" = socat ]; then
            v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        else
            v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        fi
        t=$((t + ${v:-0}))
    done
    echo "$t"
}

# record FIGURE COLUMN VALUE
record() { echo "$3" >>"$RES/$1.$2"; }

json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# sctp_counters A|B : "T3 RETRANSMITTED" of the gateway since its start
# (lib.sh gw_sctp_stat: SIGUSR1 status lines, log_level info)
sctp_counters() { echo "$(gw_sctp_stat "$1" t3) $(gw_sctp_stat "$1" rtx)"; }

# bulk COLUMN PARALLEL FIGURE [-R] : iperf3 (or the raw program) for BTIME s
bulk() {
    local col=$1 par=$2 fig=$3 out="$WORK/$3-$1.json" t0 t1 rc=0 mbit bytes
    local extra=()
    [ "${4:-}" = -R ] && extra+=(-R)
    case "$col" in cubic|bbr) extra+=(-C "$col") ;; esac
    if [ "$col" = raw ]; then
        bulk_raw "$par" "$fig"
        return
    fi
    local c0a="" c0b=""
    if [ -n "$WAN_SPEC" ] && [ "$col" = sctpgw ]; then
        read -r c0a r0a <<<"$(sctp_counters A)"; read -r c0b r0b <<<"$(sctp_counters B)"
    fi
    local pids
    pids=$(relay_procs "$col" | tr '\n' ' ')
    # shellcheck disable=SC2086
    t0=$(cpu_ticks $pids)
    local hp
    hp=$(addr "$col" bulk)
    # the server may still be busy with the previous run's tail (a slow
    # lossy WAN run drains for seconds after its client is done): wait
    local try
    for try in 1 2 3 4 5 6; do
        rc=0
        run_ns lan-a $((BTIME + 30)) "$out" iperf3 -c "${hp%:*}" -p "${hp##*:}" -t "$BTIME" -P "$par" -J "${extra[@]}" || rc=$?
        grep -q 'server is busy' "$out" 2>/dev/null || break
        log "$fig $col: the iperf3 server is still busy (try $try of 6); waiting"
        sleep 5
    done
    # shellcheck disable=SC2086
    t1=$(cpu_ticks $pids)
    if [ $rc != 0 ]; then
        log "$fig $col: iperf3 failed ($rc): $(head -c 300 "$out")"
        record "$fig" "$col" -
        return
    fi
    # iperf3 may exit 0 with no result (e.g. the server still busy with the
    # previous, slow run): a '-' for this round, not the end of the bench
    if ! mbit=$(json_field "$out" '"%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6)' 2>/dev/null) ||
        ! bytes=$(json_field "$out" 'd["end"]["sum_received"]["bytes"]' 2>/dev/null); then
        log "$fig $col: no result from iperf3: $(json_field "$out" 'd.get("error", "?")' 2>/dev/null || head -c 300 "$out")"
        record "$fig" "$col" -
        return
    fi
    record "$fig" "$col" "$mbit"
    if [ -n "$c0a" ]; then
        local c1a c1b r1a r1b t3 rtx
        read -r c1a r1a <<<"$(sctp_counters A)"; read -r c1b r1b <<<"$(sctp_counters B)"
        t3=$(( c1a - c0a + c1b - c0b )); rtx=$(( r1a - r0a + r1b - r0b ))
        record "t3_$fig" sctpgw "$t3"; record "rtx_$fig" sctpgw "$rtx"
        log "$fig sctpgw: T3 timeouts A +$((c1a - c0a)) B +$((c1b - c0b)), DATA retransmitted A +$((r1a - r0a)) B +$((r1b - r0b))"
    fi
    if [ "$par" -gt 1 ]; then
        # fairness: the most / the least bytes one connection delivered
        record fair "$col" "$(json_field "$out" \
            '"%.2f" % (max(b) / min(b)) if min(b := [s["receiver"]["bytes"] for s in d["end"]["streams"]]) > 0 else "-"')"
    fi
    if [ "$fig" = bulk1 ] && [ "$col" != direct ] && [ "$col" != cubic ] && [ "$col" != bbr ]; then
        record cpu "$col" "$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v b="$bytes" \
            'BEGIN { printf "%.2f", t / hz / (b / 1073741824) }')"
    fi
    log "$fig $col: $mbit Mbit/s"
}

bulk_raw() {
    local par=$1 fig=$2 ro="$WORK/raw-recv.out" so="$WORK/raw-send.out" rc=0 line sline
    : >"$ro"
    bg_ns B "$ro" "$RAW" recv "$B_WAN" 9911 9910
    local rpid=$BG_PID
    for _ in $(seq 50); do grep -q listening "$ro" && break; sleep 0.1; done
    run_ns A $((BTIME + 30)) "$so" "$RAW" send "$A_WAN" "$B_WAN" 9910 9911 "$BTIME" "$par" || rc=$?
    for _ in $(seq 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
    kill "$rpid" 2>/dev/null || true
    line=$(grep '^bytes=' "$ro" || true)
    sline=$(grep '^bytes=' "$so" || true)
    if [ $rc != 0 ] || [ -z "$line" ]; then
        log "$fig raw: failed ($rc): $(tail -n 3 "$so" "$ro" | tr '\n' ' ')"
        record "$fig" raw -
        return
    fi
    local mbit
    mbit=$(summary_field "$line" mbit_s)
    record "$fig" raw "$mbit"
    if [ "$fig" = bulk1 ]; then
        record cpu raw "$(awk -v a="$(summary_field "$line" cpu_s)" -v b="$(summary_field "$sline" cpu_s)" \
            -v n="$(summary_field "$line" bytes)" 'BEGIN { printf "%.2f", (a + b) / (n / 1073741824) }')"
    fi
    log "$fig raw: $mbit Mbit/s; sender $(grep -h '^stats' "$so" | cut -c7-); receiver $(grep -h '^stats' "$ro" | cut -c7-)"
}

rr() {
    local col=$1 out="$WORK/rr-$1.out" rc=0
    [ "$col" = raw ] && return 0
    run_ns lan-a 120 "$out" "$PROBE" rr "$(addr "$col" echo)" "$RR_N" 64 || rc=$?
    local line
    line=$(grep '^n=' "$out" || true)
    if [ $rc != 0 ] || [ -z "$line" ]; then
        log "rr $col: failed ($rc): $(tail -n 2 "$out")"
        record p50 "$col" -; record p99 "$col" -
        return
    fi
    record p50 "$col" "$(summary_field "$line" p50_us)"
    record p99 "$col" "$(summary_field "$line" p99_us)"
    log "rr $col: $line"
}

cps() {
    local col=$1 out="$WORK/cps-$1.out" rc=0
    [ "$col" = raw ] && return 0
    run_ns lan-a $((CPS_T + 60)) "$out" "$PROBE" cps "$(addr "$col" echo)" "$CPS_T" "$CPS_CONC" 32 || rc=$?
    local line
    line=$(grep '^ok=' "$out" || true)
    if [ -z "$line" ]; then
        log "cps $col: failed ($rc): $(tail -n 2 "$out")"
        record cps "$col" -
        return
    fi
    # a failed connection is reported, and the figure counts only good ones
    [ $rc != 0 ] && log "cps $col: some connections failed: $line"
    record cps "$col" "$(summary_field "$line" cps)"
    log "cps $col: $line"
    sleep 1 # let the relays finish closing before the next column
}

mem() {
    local col=$1 n=$IDLE before after out="$WORK/hold-$1.out"
    case "$col" in direct|raw|cubic|bbr) return 0 ;; esac
    [ "$col" = socat ] && n=$IDLE_SOCAT
    sleep 1
    before=$(mem_kib "$col")
    : >"$out"
    bg_ns lan-a "$out" "$PROBE" hold "$(addr "$col" echo)" "$n"
    local hpid=$BG_PID
    for _ in $(seq 1800); do
        grep -q '^held' "$out" && break
        kill -0 "$hpid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q "^held $n\$" "$out"; then
        log "mem $col: could not hold $n connections: $(tail -n 2 "$out" | tr '\n' ' ')"
        kill "$hpid" 2>/dev/null || true
        record mem "$col" -
        return
    fi
    sleep 2
    after=$(mem_kib "$col")
    log "mem $col: $(relay_procs "$col" | wc -l) relay processes"
    kill "$hpid" 2>/dev/null || true
    wait "$hpid" 2>/dev/null || true
    local per
    per=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
    record mem "$col" "$per"
    log "mem $col: $n idle connections, relays $before -> $after KiB: $per KiB each"
    # wait for the relays to close them all (socat: until its children are gone)
    if [ "$col" = socat ]; then
        for _ in $(seq 300); do
            [ "$(relay_procs socat | wc -l)" -le 4 ] && break
            sleep 0.1
        done
    fi
    sleep 2
}

for r in $(seq "$ROUNDS"); do
    log "===== round $r of $ROUNDS"
    for c in $COLUMNS; do has_fig bulk1 && bulk "$c" 1 bulk1; done
    for c in $COLUMNS; do has_fig bulk8 && bulk "$c" 8 bulk8; done
    for c in $COLUMNS; do has_fig rev1 && bulk "$c" 1 rev1 -R; done
    for c in $COLUMNS; do has_fig rev8 && bulk "$c" 8 rev8 -R; done
    for c in $COLUMNS; do has_fig rr && rr "$c"; done
    for c in $COLUMNS; do has_fig cps && cps "$c"; done
done
if has_fig mem; then
    log "===== memory per idle connection"
    for c in $COLUMNS; do mem "$c"; done
fi

# ------------------------------------------------------------ table
# med FIGURE COLUMN : median of the rounds, or '-'
med() {
    local f="$RES/$1.$2"
    [ -s "$f" ] || { echo -; return; }
    # (grep finds nothing when every round failed: not an error here)
    { grep -v '^-$' "$f" || true; } | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%g\n", m }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
        printf "%.2fx\n", a / b }'
}

# targets: ratio, wanted, verdict
check() {
    local name=$1 r=$2 op=$3 want=$4 ok
    if [ "$r" = - ]; then ok="not measured"
    else ok=$(awk -v r="${r%x}" -v w="$want" -v op="$op" 'BEGIN {
        if (op == ">=") print (r >= w ? "met" : "MISSED"); else print (r < w ? "met" : "MISSED") }')
    fi
    printf '%-40s %8s  (want %s %s)  %s\n' "$name" "$r" "$op" "$want" "$ok"
}
TABLE="$WORK/table.txt"
if [ -n "$WAN_SPEC" ]; then
    # the WAN table: ratios against direct cubic, bbr and kcptun; sctpgw's
    # SCTP counters per run; the emulator's drops; the issue 14 targets
    {
        shown="cubic bbr kcptun sctpgw"
        printf '%-34s' figure
        for c in $shown; do printf '%10s' "$c"; done
        printf '  |%9s%9s%9s\n' /cubic /bbr /kcptun
        for row in "bulk1|bulk, 1 conn (Mbit/s)" "bulk8|bulk, 8 conns (Mbit/s)" \
            "rev1|reverse, 1 conn (Mbit/s)" "rev8|reverse, 8 conns (Mbit/s)"; do
            fig=${row%%|*}
            has_fig "$fig" || continue
            printf '%-34s' "${row#*|}"
            declare -A v=()
            for c in $shown; do v[$c]=$(med "$fig" "$c"); printf '%10s' "${v[$c]}"; done
            printf '  |'
            for c in cubic bbr kcptun; do printf '%9s' "$(ratio "${v[sctpgw]}" "${v[$c]}")"; done
            printf '\n'
        done
        for fig in bulk1 bulk8 rev1 rev8; do
            has_fig "$fig" || continue
            printf '%-34s%40s\n' "sctpgw $fig: T3 timeouts (A+B)" "$(med "t3_$fig" sctpgw)"
            printf '%-34s%40s\n' "sctpgw $fig: DATA retransmitted" "$(med "rtx_$fig" sctpgw)"
        done
        echo
        echo "the emulator over the whole run (a>b: gw-a to gw-b):"
        wan_counters 1 | sed 's/^wanem wan1 /  /'
        echo
        echo "targets (issue 14; sctpgw default config / direct cubic, this run):"
        want=0.9
        case "$wan" in wan100) want=0.8 ;; wan50loss) want=1.0 ;; esac
        for fig in bulk1 bulk8 rev1; do
            has_fig "$fig" || continue
            check "$fig vs cubic" "$(ratio "$(med "$fig" sctpgw)" "$(med "$fig" cubic)")" ">=" "$want"
        done
        if [ "$wan" != wan50loss ]; then
            t=$(med t3_bulk1 sctpgw)
            printf '%-40s %8s  (want 0 on a clean path)  %s\n' "T3 timeouts per bulk1 run" "$t" \
                "$(awk -v t="$t" 'BEGIN { if (t == "-") print "not measured"; else print (t == 0 ? "met" : "MISSED") }')"
        fi
    } >"$TABLE"
    echo
    echo "sctpgw WAN benchmark, profile $wan (wan1 $WAN_SPEC: delay ms each way:Mbit/s:loss %:queue packets):" \
        "$(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo '?'), $ROUNDS round(s), bulk ${BTIME}s; medians of the rounds"
    cat "$TABLE"
    [ -n "${BENCH_TABLE:-}" ] && cp "$TABLE" "$BENCH_TABLE"
    exit 0
fi
{
    shown="direct socat kcptun raw sctpgw"
    case " $COLUMNS " in *" base "*) shown="$shown base" ;; esac
    printf '%-28s' figure
    for c in $shown; do printf '%10s' "$c"; done
    printf '  |%9s%9s%9s%9s' /direct /socat /kcptun /raw
    case " $COLUMNS " in *" base "*) printf '%9s' /base ;; esac
    printf '\n'
    for row in "bulk1|bulk, 1 conn (Mbit/s)" "bulk8|bulk, 8 conns (Mbit/s)" \
        "fair|8 conns most/least (lower better)" \
        "p50|rr p50 (us, lower better)" "p99|rr p99 (us, lower better)" \
        "cps|connections/s" "mem|KiB/idle conn (lower better)" \
        "cpu|CPU s/GiB (lower better)"; do
        fig=${row%%|*}
        printf '%-28s' "${row#*|}"
        declare -A v=()
        for c in $shown; do v[$c]=$(med "$fig" "$c"); printf '%10s' "${v[$c]}"; done
        printf '  |'
        for c in direct socat kcptun raw; do printf '%9s' "$(ratio "${v[sctpgw]}" "${v[$c]}")"; done
        case " $COLUMNS " in *" base "*) printf '%9s' "$(ratio "${v[sctpgw]}" "${v[base]}")" ;; esac
        printf '\n'
    done
} >"$TABLE"

v_b1_s=$(med bulk1 sctpgw); v_b1_r=$(med bulk1 raw); v_b1_k=$(med bulk1 kcptun)
{
    echo
    echo "targets (sctpgw/peer, measured in this run):"
    check "bulk 1 conn vs raw usrsctp" "$(ratio "$v_b1_s" "$v_b1_r")" ">=" 1.0
    check "bulk 1 conn vs kcptun" "$(ratio "$v_b1_s" "$v_b1_k")" ">=" 2.0
    check "bulk 8 conns vs 1 conn (sctpgw)" "$(ratio "$(med bulk8 sctpgw)" "$v_b1_s")" ">=" 1.0
    check "8 conns: most/least bytes (sctpgw)" "$(med fair sctpgw | sed "s/^[0-9.]*$/&x/")" "<" 1.2
    check "connections/s vs kcptun" "$(ratio "$(med cps sctpgw)" "$(med cps kcptun)")" ">=" 1.0
    check "rr p99 vs kcptun" "$(ratio "$(med p99 sctpgw)" "$(med p99 kcptun)")" "<" 1.0
    m=$(med mem sctpgw)
    printf '%-40s %8s  (want <= 16 KiB)  %s\n' "memory per idle connection (KiB)" "$m" \
        "$(awk -v m="$m" 'BEGIN { if (m == "-") print "not measured"; else print (m <= 16 ? "met" : "MISSED") }')"
} >>"$TABLE"

echo
echo "sctpgw benchmark: $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo '?'), $ROUNDS round(s), bulk ${BTIME}s," \
    "rr $RR_N x 64 B, cps ${CPS_T}s x $CPS_CONC threads, idle $IDLE (socat $IDLE_SOCAT); medians of the rounds"
cat "$TABLE"
[ -n "${BENCH_TABLE:-}" ] && cp "$TABLE" "$BENCH_TABLE"
exit 0
