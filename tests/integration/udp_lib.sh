# shellcheck shell=bash
# udp_lib.sh - helpers of the UDP scenarios (udp_*.sh), sourced after lib.sh.
#
# UDPX: the udp test tool (tests/tools/udpx.c): $UDPX, else the build dir's.
# udp_fwd NAME LISTEN TARGET : a [forward.NAME] section with protocol = udp
#   (for CONF_EXTRA, so write_gw_conf's other knobs still apply).
# gw_udp_status A|B FIELD : one number of the gateway's "status: udp:" line
#   (SIGUSR1): flows, opened, peer, expired, cap, other, up, down, full,
#   large, noassoc, sockerr, late.

UDPX=${UDPX:-$(dirname "$SCTPGW")/../tests/udpx}
[ -x "$UDPX" ] || fail "no udp test tool at $UDPX (build the tests, or set UDPX)"

udp_fwd() {
    printf '[forward.%s]\nlisten = %s\nprotocol = udp\ntarget = %s\n\n' "$1" "$2" "$3"
}

gw_udp_status() {
    local side=$1 field=$2 line
    log_mark "$side"
    kill -USR1 "${GW_PID[$side]}"
    wait_log "$side" 'status: udp:' 5
    line=$(log_since "$side" | grep -m1 'status: udp:')
    # "status: udp: N flows (udp_max_flows M), O opened here, P opened by the
    # peer, E expired, C refused at udp_max_flows, R refused otherwise;
    # datagrams: U toward targets, D toward clients; dropped: F ..., L too
    # large, X no association, S socket errors, Z late (flow ended)"
    local nums
    nums=$(sed -E 's/.*status: udp: //; s/udp_max_flows [0-9]+//' <<<"$line" | grep -oE '[0-9]+' | tr '\n' ' ')
    local -a v
    read -r -a v <<<"$nums"
    case "$field" in
        flows) echo "${v[0]}" ;; opened) echo "${v[1]}" ;; peer) echo "${v[2]}" ;;
        expired) echo "${v[3]}" ;; cap) echo "${v[4]}" ;; other) echo "${v[5]}" ;;
        up) echo "${v[6]}" ;; down) echo "${v[7]}" ;; full) echo "${v[8]}" ;;
        large) echo "${v[9]}" ;; noassoc) echo "${v[10]}" ;; sockerr) echo "${v[11]}" ;;
        late) echo "${v[12]}" ;;
        *) fail "gw_udp_status: unknown field $field" ;;
    esac
}
