#!/usr/bin/env bash
# flood_limit (issue 12, item 9; test a): a flood of 20,000 client
# connections (2,000 a second) against a forward limited to
# max_connections = 1000, while a transfer runs on another forward.
#   - the limit holds: the flood's target never sees more than 1000
#     connections (sampled every 0.2 s), and the flood tool ends with at
#     most 1000 admitted and the rest reset;
#   - gateway A's memory (VmHWM) and CPU (over the flood) stay bounded;
#   - the running transfer keeps at least 90% of its rate: the same
#     download measured during the flood and alone, before and after it
#     in this run (the reference is the mean of the two, as the host's
#     other load drifts). The
#     server's link is shaped (tbf, 20 Mbit/s) so that the rate is the
#     link's, not whatever CPU two busy cores leave the gateways.
# The flood generator is tests/tools/flood.c (its path in FLOOD_TOOL).
set -euo pipefail
SCENARIO=flood_limit
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tc
setup "$@"
FLOOD_TOOL=${FLOOD_TOOL:-$(dirname "$SCTPGW")/../tests/flood}
[ -x "$FLOOD_TOOL" ] || fail "flood tool not built at '$FLOOD_TOOL' (set FLOOD_TOOL)"
TOTAL=${FLOOD_TOTAL:-20000}
RATE=${FLOOD_RATE:-2000}
LIMIT=1000
DOWN=${FLOOD_DOWN:-12M}
RSS_GROWTH_MAX_KIB=$((64 * 1024))
CPU_MAX_PCT=${FLOOD_CPU_MAX_PCT:-80}

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((2 * LIMIT + 200)) ] || fail "ulimit -n is $(ulimit -n); need $((2 * LIMIT + 200))"

topo_up
in_ns lan-b tc qdisc add dev eth0 root tbf rate 20mbit burst 64kb latency 50ms
CONF_LOG_LEVEL=info CONF_GATEWAY=$'conn_window = 64k' CONF_EXTRA="max_connections = $LIMIT" \
    write_gw_conf A "$WORK/a.conf" "flood $A_LAN:8090 $LAN_B:9100"
CONF_LOG_LEVEL=info CONF_GATEWAY=$'conn_window = 64k' write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 15
xfer_server lan-b "$LAN_B:$SRV_PORT"
bg_ns lan-b "$WORK/flood-server.log" "$FLOOD_TOOL" serve "$LAN_B:9100"
wait_listen lan-b 9100

rate_of() { # OUT-FILE -> Mbit/s of the download, from xfer's summary line
    local line b s
    line=$(grep '^ok=' "$1")
    b=$(summary_field "$line" bytes_down); s=$(summary_field "$line" seconds)
    awk -v b="$b" -v s="$s" 'BEGIN { printf "%.1f", b * 8 / s / 1e6 }'
}
download() { # NAME: one download of DOWN on the default forward
    local rc=0
    run_ns lan-a 60 "$WORK/$1.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
        --up 0 --down "$DOWN" --timeout 30 || rc=$?
    xfer_check "$rc" "$WORK/$1.out" "$1 download"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${GW_PID[A]}/stat"; }
HZ=$(getconf CLK_TCK)

download warmup
download alone
r0=$(rate_of "$WORK/alone.out")
rss0=$(gw_rss_kib A VmHWM)
log "alone, before the flood: $DOWN at $r0 Mbit/s; gateway A VmHWM ${rss0} KiB"

# Sample the flood target's connection count while the flood runs.
(
    max=0
    while [ ! -e "$WORK/flood.done" ]; do
        n=$(in_ns lan-b ss -Htn state established '( sport = :9100 )' | wc -l)
        [ "$n" -gt "$max" ] && max=$n
        echo "$max" >"$WORK/max-open"
        sleep 0.2
    done
) &
_LIB_PIDS+=($!)

c0=$(cpu_ticks); t0=$(now_ms)
run_ns_bg lan-a 120 "$WORK/flood.out" "$FLOOD_TOOL" connect "$A_LAN:8090" "$TOTAL" "$RATE" 60
flood_pid=$BG_PID
sleep 1
download during
r2=$(rate_of "$WORK/during.out")
wait "$flood_pid" || fail "flood tool failed: $(cat "$WORK/flood.out")"
c1=$(cpu_ticks); t1=$(now_ms)
touch "$WORK/flood.done"
sleep 0.3
flood=$(cat "$WORK/flood.out")
max_open=$(cat "$WORK/max-open")
pct=$(( (c1 - c0) * 1000 * 100 / HZ / (t1 - t0) ))
rss1=$(gw_rss_kib A VmHWM)
download after
ra=$(rate_of "$WORK/after.out")
r1=$(awk -v a="$r0" -v b="$ra" 'BEGIN { printf "%.1f", (a + b) / 2 }')
log "alone, after the flood: $DOWN at $ra Mbit/s; reference $r1 Mbit/s"
log "flood: $flood"
log "during the flood: $DOWN at $r2 Mbit/s (alone $r1); flood target saw at most $max_open connections"
log "gateway A: CPU $pct% of a core over $((t1 - t0)) ms; VmHWM $rss0 -> $rss1 KiB"

attempts=$(summary_field "$flood" attempts); open=$(summary_field "$flood" open)
reset=$(summary_field "$flood" reset)
[ "$attempts" = "$TOTAL" ] || fail "flood made $attempts of $TOTAL attempts"
[ "$open" -le "$LIMIT" ] || fail "flood: $open connections admitted, limit $LIMIT"
[ "$open" -ge $((LIMIT * 9 / 10)) ] || fail "flood: only $open admitted, expected about $LIMIT"
[ "$reset" -ge $((TOTAL - LIMIT - TOTAL / 20)) ] || fail "flood: only $reset reset of $TOTAL"
[ "$max_open" -le "$LIMIT" ] || fail "the flood's target saw $max_open connections at once (limit $LIMIT)"
[ "$max_open" -ge $((LIMIT * 9 / 10)) ] || fail "the flood's target saw only $max_open connections: sampling broken?"
awk -v a="$r1" -v b="$r2" 'BEGIN { exit !(b >= 0.9 * a) }' \
    || fail "the running transfer fell to $r2 Mbit/s during the flood (alone $r1; want >= 90%)"
[ $((rss1 - rss0)) -le "$RSS_GROWTH_MAX_KIB" ] || fail "gateway A's VmHWM grew by $((rss1 - rss0)) KiB"
[ "$pct" -lt "$CPU_MAX_PCT" ] || fail "gateway A used $pct% of a core during the flood (max $CPU_MAX_PCT%)"

kill -USR1 "${GW_PID[A]}"; sleep 0.3
grep -E 'status: limits: .* [0-9]+ refused at forward limits' "$WORK/gw-A.log" | tail -1 >"$WORK/status"
refused=$(sed -n 's/.*, \([0-9]*\) refused at forward limits.*/\1/p' "$WORK/status")
log "status dump: $(cat "$WORK/status")"
[ "${refused:-0}" -ge $((TOTAL - LIMIT - TOTAL / 20)) ] || fail "status dump counts ${refused:-none} refused at forward limits"
grep -q 'forward flood: max_connections (1000) reached' "$WORK/gw-A.log" || fail "no log line about the forward's limit"
n_lines=$(grep -c 'max_connections (1000) reached' "$WORK/gw-A.log")
[ "$n_lines" -le 30 ] || fail "$n_lines log lines about the limit: not rate-limited"

grep -q 'association down:' "$WORK/gw-A.log" "$WORK/gw-B.log" && fail "association went down"
gw_stop A || fail "gateway A exit status $? after SIGTERM (want 0)"
gw_stop B || fail "gateway B exit status $? after SIGTERM (want 0)"
pass "20000-connection flood vs max_connections 1000: at most $max_open open, transfer $r2 vs $r1 Mbit/s, CPU $pct%"
