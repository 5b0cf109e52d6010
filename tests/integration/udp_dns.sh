#!/usr/bin/env bash
# udp_dns (issue 9, test d): DNS over the gateway pair.  dnsmasq in lan-b
# (behind gateway B, which gateway A cannot route to) holds 1,000 names;
# dig in lan-a asks gateway A's UDP forward (protocol = udp, fixed target
# lan-b:53) for every one of them, in one dig process (dig -f), and every
# answer must be the name's own address.  The same over IPv6.  dig asks
# from a new source port each time, so each query is a flow of its own:
# max_streams leaves room for all of them.  Then the same 1,000 names
# captured with TPROXY (contrib/nftables/udp-tproxy.nft, capture = tproxy,
# target = original): dig in lan-a asks dnsmasq's own addresses in lan-b,
# which lan-a can reach only through gateway A, over IPv4 and IPv6, and the
# answers must come back from those addresses (dig checks the source).
set -euo pipefail
SCENARIO=udp_dns
. "$(dirname "$0")/lib.sh"
need_root
need_cmd dig
need_cmd dnsmasq
setup "$@"
. "$(dirname "$0")/udp_lib.sh"

N=1000
topo_up
hosts=$WORK/hosts
for i in $(seq 0 $((N - 1))); do
    printf '198.18.%d.%d q%d.sg.test\n' $((100 + i / 250)) $((i % 250 + 1)) "$i"
done >"$hosts"
printf '2001:2:99::7 v6only.sg.test\n' >>"$hosts"
bg_ns lan-b "$WORK/dnsmasq.out" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --addn-hosts="$hosts" --listen-address="$LAN_B" --listen-address="$LAN_B6" \
    --bind-interfaces --port 53 --user=root --pid-file="$WORK/dnsmasq.pid" \
    --log-facility="$WORK/dnsmasq.log"

tproxy_fwd() { # NAME LISTEN
    printf '[forward.%s]\nlisten = %s\nprotocol = udp\ncapture = tproxy\ntarget = original\n\n' "$1" "$2"
}
CONF_ASSOC="max_streams = 8192" CONF_EXTRA="$(udp_fwd dns "$A_LAN:53" "$LAN_B:53"
    udp_fwd dns6 "[$A_LAN6]:53" "[$LAN_B6]:53"
    tproxy_fwd cap "$A_LAN:5353"; tproxy_fwd cap6 "[$A_LAN6]:5353")" \
    write_gw_conf A "$WORK/a.conf"
CONF_ASSOC="max_streams = 8192" write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15

# dnsmasq answers directly in lan-b (the server is up)
for i in $(seq 50); do
    in_ns lan-b dig +short +time=1 +tries=1 @"$LAN_B" q0.sg.test A 2>/dev/null | grep -q . && break
    sleep 0.2
done

ask() { # SERVER OUTFILE : every name through SERVER, in one dig process
    local server=$1 out=$2 batch=$WORK/batch.$RANDOM
    for i in $(seq 0 $((N - 1))); do
        printf '@%s q%d.sg.test A +noall +answer +stats +time=2 +tries=3\n' "$server" "$i"
    done >"$batch"
    local t0 t1
    t0=$(date +%s%N)
    run_ns lan-a 300 "$out" dig -f "$batch" || true
    t1=$(date +%s%N)
    local good
    good=$(awk '$4 == "A" { split($1, n, "."); sub("q", "", n[1]); i = n[1];
                want = sprintf("198.18.%d.%d", 100 + int(i / 250), i % 250 + 1);
                if ($5 == want && !(i in seen)) { seen[i] = 1; ok++ } }
                END { print ok + 0 }' "$out")
    log "$server: $good of $N names answered correctly in $(( (t1 - t0) / 1000000 )) ms"
    [ "$good" = "$N" ] || fail "$server: only $good of $N names answered correctly (see $out)"
}
ask "$A_LAN" "$WORK/dig4.out"
ask "$A_LAN6" "$WORK/dig6.out"
in_ns lan-a dig +short @"$A_LAN6" v6only.sg.test AAAA | grep -qx '2001:2:99::7' ||
    fail "AAAA over the IPv6 UDP forward: wrong answer"

# TPROXY: the contrib ruleset (its interface is lan here) and its routing marks
sed 's/"lan0"/"lan"/' "$SRCDIR/contrib/nftables/udp-tproxy.nft" | in_ns A nft -f - ||
    fail "contrib/nftables/udp-tproxy.nft does not load"
in_ns A ip rule add fwmark 0x1 lookup 100
in_ns A ip route add local 0.0.0.0/0 dev lo table 100
in_ns A ip -6 rule add fwmark 0x1 lookup 100
in_ns A ip -6 route add local ::/0 dev lo table 100
# lan-a has no route to lan-b but through gateway A (which does not forward)
in_ns lan-a dig +short +time=1 +tries=1 @"$LAN_B" q7.sg.test A | grep -qx '198.18.100.8' ||
    fail "TPROXY: a first query to $LAN_B through gateway A went unanswered"
ask "$LAN_B" "$WORK/dig-tproxy4.out"
ask "$LAN_B6" "$WORK/dig-tproxy6.out"
grep -q "SERVER: $LAN_B#53" "$WORK/dig-tproxy4.out" || fail "TPROXY: answers did not come from $LAN_B"

# A query sent straight to the TPROXY listener (no rule captured it): its
# "original" destination is the listener itself, and carried it would come
# back here; the loop guard drops it, logs and counts it (IPv4 and IPv6).
for dst in "$A_LAN" "$A_LAN6"; do
    in_ns lan-a dig +time=1 +tries=1 -p 5353 @"$dst" q1.sg.test A >"$WORK/dig-loop.out" 2>&1 &&
        fail "a query straight to the tproxy listener $dst:5353 was answered"
done
wait_log A "forward cap: dropping a datagram from ${LAN_A//./\\.}:[0-9]+: its original destination ${A_LAN//./\\.}:5353 is a listen address of this gateway" 5
wait_log A "forward cap6: dropping a datagram from \\[${LAN_A6}\\]:[0-9]+: its original destination \\[${A_LAN6}\\]:5353 is a listen address of this gateway" 5

# the answers really crossed the pair: gateway A opened flows, carried
# datagrams both ways, and B opened the same flows toward dnsmasq
opened=$(gw_udp_status A opened); up=$(gw_udp_status A up); down=$(gw_udp_status A down)
peer=$(gw_udp_status B peer)
log "gateway A: $opened flows opened, $up datagrams up, $down down; gateway B: $peer flows accepted"
[ "$opened" -ge 2 ] && [ "$peer" = "$opened" ] || fail "flows: A opened $opened, B accepted $peer"
[ "$up" -ge $((4 * N)) ] && [ "$down" -ge $((4 * N)) ] || fail "datagrams: $up up, $down down"

gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "$N DNS queries over IPv4 and IPv6 UDP forwards, fixed and TPROXY, all answered correctly"
