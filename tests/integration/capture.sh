#!/usr/bin/env bash
# capture (issue 9 test a): transparent capture of TCP. A client in lan-a,
# routed by default through gateway A, runs curl to nginx in lan-b as if
# no gateway existed (http://198.18.20.2:80, http://[2001:2:20::2]:80).
# Gateway A cannot reach lan-b itself (the gateways do not route between
# the sites: asserted first, with no capture rule loaded); it captures the
# connections with contrib/nftables/tcp-redirect.nft (REDIRECT), then with
# contrib/nftables/tcp-tproxy.nft (TPROXY, with its routing marks), IPv4
# and IPv6, and carries them with target = original to gateway B, which
# connects to the original destination. Asserted: the bytes (sha256 of an
# 8 MiB file and of a small page), the capture mode and original
# destination in A's log, and nginx's access log: every request came from
# gateway B's LAN address. Also: a client connecting straight to a
# capturing listener is reset (no original destination; a loop to the
# gateway's own listen address), with log lines; capture = tproxy without
# CAP_NET_ADMIN fails to start with a message that names it.
set -euo pipefail
SCENARIO=capture
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl nginx setpriv perl
setup "$@"
NFT_DIR="$SRCDIR/contrib/nftables"

topo_up

mkdir -p "$WORK/www"
printf '<html><body>sctpgw capture test %s</body></html>\n' "$PFX" >"$WORK/www/index.html"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$WORK/www/big.bin"
nginx_start lan-b "$WORK/www" "$LAN_B:80" "[$LAN_B6]:80"

# curl_get NS URL OUT : one GET; curl's status is returned.
curl_get() {
    local rc=0
    run_ns "$1" 60 "$WORK/curl.err" curl -gsS --max-time 30 -o "$3" "$2" || rc=$?
    return $rc
}
# fetch_check URL FILE WHAT : lan-a fetches URL; bytes must equal www/FILE.
fetch_check() {
    local url=$1 file=$2 what=$3 rc=0 want got
    rm -f "$WORK/got"
    curl_get lan-a "$url" "$WORK/got" || rc=$?
    [ "$rc" = 0 ] || fail "$what: curl $url exit $rc: $(cat "$WORK/curl.err")"
    want=$(sha256sum <"$WORK/www/$file" | cut -d' ' -f1)
    got=$(sha256sum <"$WORK/got" | cut -d' ' -f1)
    [ "$want" = "$got" ] || fail "$what: $url: sha256 $got, expected $want ($(stat -c %s "$WORK/got") bytes)"
    log "$what: $url: $(stat -c %s "$WORK/got") bytes, sha256 equal"
}
# refused_check URL WHAT PATTERN : lan-a's GET of URL must fail (reset by
# gateway A) and A must log PATTERN.
refused_check() {
    local url=$1 what=$2 pat=$3 rc=0
    log_mark A
    curl_get lan-a "$url" "$WORK/got" || rc=$?
    [ "$rc" != 0 ] || fail "$what: curl $url succeeded; expected the gateway to reset it"
    wait_log A "$pat" 5
    log "$what: curl exit $rc ($(head -c 200 "$WORK/curl.err")); A logged it"
}

# The server answers on its own site...
rc=0; curl_get lan-b "http://$LAN_B/index.html" "$WORK/got" || rc=$?
[ "$rc" = 0 ] || fail "nginx does not answer in lan-b: $(cat "$WORK/curl.err")"
: >"$NGINX_ACCESS_LOG" # from here on, only what came through the gateways

# ... and lan-a cannot reach it without capture: gateway A does not route.
for url in "http://$LAN_B/index.html" "http://[$LAN_B6]/index.html"; do
    rc=0; run_ns lan-a 10 "$WORK/curl.err" curl -gsS --max-time 3 -o /dev/null "$url" || rc=$?
    [ "$rc" != 0 ] || fail "lan-a reached $url without any capture: gateway A routes between the sites"
    log "without capture, $url from lan-a fails (curl exit $rc), as it should"
done

CONF_NO_DEFAULT_FWD=1
write_gw_conf A "$WORK/a.conf" \
    "redirect4 0.0.0.0:15001 original capture=redirect" \
    "redirect6 [::]:15001 original capture=redirect" \
    "tproxy4 0.0.0.0:15002 original capture=tproxy" \
    "tproxy6 [::]:15002 original capture=tproxy"
write_gw_conf B "$WORK/b.conf"

# capture = tproxy needs CAP_NET_ADMIN (the kernel also takes CAP_NET_RAW):
# without them (root, but both out of the bounding set), A must refuse to
# start and say so.
rc=0
in_ns A timeout 10 setpriv --bounding-set=-net_admin,-net_raw "$SCTPGW" -c "$WORK/a.conf" \
    >"$WORK/nocap.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "without CAP_NET_ADMIN: exit $rc, expected 1: $(tail -n 3 "$WORK/nocap.log")"
grep -qE 'forward tproxy4: capture = tproxy needs CAP_NET_ADMIN \(or CAP_NET_RAW\) for IP_TRANSPARENT.*AmbientCapabilities=CAP_NET_ADMIN' "$WORK/nocap.log" \
    || fail "without CAP_NET_ADMIN: no clear message: $(cat "$WORK/nocap.log")"
log "without CAP_NET_ADMIN: $(grep -o 'forward tproxy4: capture.*' "$WORK/nocap.log")"

gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
wait_log A 'forward tproxy6: listening on \[::\]:15002, capture tproxy, peer connects to each client.s original destination' 5

# Still no capture rule: the gateway running changes nothing for lan-a ...
rc=0; run_ns lan-a 10 "$WORK/curl.err" curl -gsS --max-time 3 -o /dev/null "http://$LAN_B/" || rc=$?
[ "$rc" != 0 ] || fail "lan-a reached $LAN_B with the gateway up but no capture rule"
# ... and a client that connects to a capturing listener itself (not
# redirected: no NAT in this namespace yet) has no original destination.
refused_check "http://$A_LAN:15001/index.html" "direct client of the redirect listener" \
    'forward redirect4: resetting client 198\.18\.10\.2:[0-9]+: no original destination \(not redirected by netfilter\)'

# capture_round MODE FILE PORT : with MODE's ruleset (FILE) loaded, lan-a
# fetches the page and the 8 MiB file from both of nginx's addresses; each
# must arrive whole, and A must have logged each as captured by MODE, on
# forward MODE4 / MODE6, with nginx's address as original destination.
capture_round() {
    local mode=$1 file=$2 port=$3 fam n4 n6
    shift 3
    nft_load A "$NFT_DIR/$file" LAN_IF='"lan"' REMOTE_V4="$LAN_B/32" \
        REMOTE_V6="$LAN_B6/128" TCP_PORTS='{ 80 }' GW_PORT="$port" "$@"
    log_mark A
    for fam in 4 6; do
        local host=$LAN_B
        [ $fam = 6 ] && host="[$LAN_B6]"
        fetch_check "http://$host/index.html" index.html "$mode, IPv$fam, page"
        fetch_check "http://$host/big.bin" big.bin "$mode, IPv$fam, 8 MiB"
    done
    n4=$(log_since A | grep -cE "forward ${mode}4: client 198\.18\.10\.2:[0-9]+ captured \($mode\), original destination 198\.18\.20\.2:80\$" || true)
    n6=$(log_since A | grep -cE "forward ${mode}6: client \[2001:2:10::2\]:[0-9]+ captured \($mode\), original destination \[2001:2:20::2\]:80\$" || true)
    [ "$n4" = 2 ] && [ "$n6" = 2 ] || fail "$mode: A logged $n4 IPv4 and $n6 IPv6 captured connections, expected 2 and 2"
}

# ---- REDIRECT
capture_round redirect tcp-redirect.nft 15001
# With conntrack now running, a direct client's "original" destination is
# the listener itself: the loop guard resets it.
refused_check "http://$A_LAN:15001/index.html" "direct client under REDIRECT" \
    'forward redirect4: resetting client 198\.18\.10\.2:[0-9]+: its original destination 198\.18\.10\.1:15001 is a listen address of this gateway'
in_ns A nft delete table inet sctpgw_tcp_redirect

# ---- TPROXY (its own routing: marked packets are delivered locally)
tproxy_routing A 1 100
capture_round tproxy tcp-tproxy.nft 15002 MARK=1
refused_check "http://[$A_LAN6]:15002/index.html" "direct client of the tproxy listener" \
    'forward tproxy6: resetting client \[2001:2:10::2\]:[0-9]+: its original destination \[2001:2:10::1\]:15002 is a listen address of this gateway'

# ---- nginx saw 8 GETs, each from gateway B (not from the client in lan-a)
cat "$NGINX_ACCESS_LOG" >&2
total=$(grep -c ' GET ' "$NGINX_ACCESS_LOG" || true)
fromb4=$(grep -cE "^$B_LAN GET /(index\.html|big\.bin) 200 " "$NGINX_ACCESS_LOG" || true)
fromb6=$(grep -cE "^$B_LAN6 GET /(index\.html|big\.bin) 200 " "$NGINX_ACCESS_LOG" || true)
[ "$total" = 8 ] && [ "$fromb4" = 4 ] && [ "$fromb6" = 4 ] \
    || fail "nginx access log: $total GETs, $fromb4 from $B_LAN and $fromb6 from $B_LAN6; expected 8, 4 and 4"

gw_stop A || fail "gateway A did not stop cleanly"
gw_stop B || fail "gateway B did not stop cleanly"
pass "REDIRECT and TPROXY, IPv4 and IPv6: curl through the pair to nginx, bytes equal, nginx saw gateway B"
