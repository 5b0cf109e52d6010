#!/usr/bin/env bash
# wanem: the WAN link emulator of lib.sh (tests/tools/wanem.c) does what the
# bench and the WAN scenarios rely on, measured from the hosts' side:
#   wan1 25 ms each way:             ping RTT 50 ms (48..65), IPv4 and IPv6
#   wan2 10 % loss A to B only:      1000 pings lose 6..14 %; the emulator
#                                    counted its drops in a>b only
#   wan3 20 Mbit/s, queue 50:        UDP sent at 40 Mbit/s arrives at
#                                    0.85..1.02 x 20 Mbit/s, the queue filled
#                                    to 50 and no further, drops counted
#   wan1 again with 50 Mbit/s:       TCP (cubic) through 25+25 ms gets >= 0.6x
#                                    the rate (a second emulator, on wan4)
# No gateway runs: this checks the testbed, not sctpgw.
set -euo pipefail
SCENARIO=wanem
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ping iperf3
setup "$@"

topo_up --links 4 --wan '1:25,2:0:0:10/0,3:0:20:0:50,4:25:50:0:1000'

# ---- delay
rtt() { # NS ADDR: the average RTT of 20 pings, in ms
    in_ns "$1" ping -n -q -c 20 -i 0.05 -W 2 "$2" |
        awk -F/ '/^rtt|^round-trip/ { printf "%.1f\n", $5 }'
}
r4=$(rtt A "$(wan_ip B 1)"); r6=$(rtt A "$(wan_ip B 1 6)")
log "wan1 (25 ms each way): ping RTT IPv4 $r4 ms, IPv6 $r6 ms"
for r in "$r4" "$r6"; do
    [ -n "$r" ] || fail "no ping reply through wan1"
    awk -v r="$r" 'BEGIN { exit !(r >= 48 && r <= 65) }' || fail "wan1 RTT $r ms, want 50 (48..65)"
done
r0=$(rtt A "$(wan_ip B 3)")
log "wan3 (no delay): ping RTT $r0 ms"
awk -v r="$r0" 'BEGIN { exit !(r < 10) }' || fail "wan3 (0 ms) RTT $r0 ms, want < 10"

# ---- loss
out=$(in_ns A ping -n -q -c 1000 -i 0.002 -W 1 "$(wan_ip B 2)" || true)
lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
dab=$(wan_counter 2 'a>b' drop_loss); dba=$(wan_counter 2 'b>a' drop_loss)
rab=$(wan_counter 2 'a>b' rx)
log "wan2 (10 % loss A to B): ping lost $lost %; emulator dropped $dab of $rab a>b, $dba b>a"
[ -n "$lost" ] || fail "no ping summary through wan2: $out"
awk -v l="$lost" 'BEGIN { exit !(l >= 6 && l <= 14) }' || fail "wan2 lost $lost % of the pings, want 10 (6..14)"
[ "$dba" = 0 ] || fail "wan2 dropped $dba packets B to A, where the loss is 0"
[ "$dab" -ge 60 ] || fail "wan2's emulator counted $dab drops a>b, want ~100"

# ---- rate and queue
bg_ns B "$WORK/iperf3-s3.log" iperf3 -s -1 -B "$(wan_ip B 3)" -p 5203
sleep 0.5
run_ns A 30 "$WORK/udp3.json" iperf3 -J -c "$(wan_ip B 3)" -p 5203 -u -b 40M -t 4 ||
    fail "iperf3 UDP through wan3 failed: $(tail -n 5 "$WORK/udp3.json")"
got=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6, 2))' "$WORK/udp3.json")
# iperf3 counts UDP payload: 1448 of the 1476 bytes on the wire
want=$(awk 'BEGIN { printf "%.2f", 20 * 1448 / 1476 }')
mq=$(wan_counter 3 'a>b' max_queue); dq=$(wan_counter 3 'a>b' drop_queue)
log "wan3 (20 Mbit/s, queue 50): UDP at 40 Mbit/s arrived at $got Mbit/s (payload; $want at full rate), max queue $mq, $dq dropped by the queue"
awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= 0.85 * w && g <= 1.02 * w) }' ||
    fail "wan3 delivered $got Mbit/s, want $want (0.85..1.02x)"
[ "$mq" = 50 ] || fail "wan3's queue peaked at $mq packets, want exactly its bound 50"
[ "$dq" -gt 0 ] || fail "wan3 dropped nothing at the queue with twice its rate offered"

# ---- TCP through delay and rate
bg_ns B "$WORK/iperf3-s4.log" iperf3 -s -1 -B "$(wan_ip B 4)" -p 5204
sleep 0.5
run_ns A 40 "$WORK/tcp4.json" iperf3 -J -c "$(wan_ip B 4)" -p 5204 -C cubic -t 8 ||
    fail "iperf3 TCP through wan4 failed: $(tail -n 5 "$WORK/tcp4.json")"
tcp=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6, 1))' "$WORK/tcp4.json")
log "wan4 (25 ms each way, 50 Mbit/s): TCP cubic $tcp Mbit/s"
awk -v t="$tcp" 'BEGIN { exit !(t >= 30 && t <= 50) }' || fail "TCP through wan4 got $tcp Mbit/s, want 30..50"
for k in 1 2 3 4; do wan_counters "$k" >&2; done
pass "delay, loss, rate and queue of the WAN emulator within bounds"
