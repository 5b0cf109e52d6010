#!/usr/bin/env bash
# bench/admin_load.sh - does hammering the admin endpoint slow the data path?
#
#   sudo bench/admin_load.sh [PATH-TO-sctpgw]          (see bench/README.md)
#
# The testbed of tests/integration/lib.sh (lan-a | gw-a =wan1= gw-b |
# lan-b), one gateway pair with admin = 127.0.0.1:9464 on gateway A, and
# bulk TCP throughput (iperf3, one connection, lan-a -> lan-b through the
# pair) measured in alternating rounds: "quiet" (nobody asks the endpoint)
# and "hammered" (tests/tools/admin_abuse.py load: 4 clients in gw-a
# asking GET /metrics, the largest answer, back to back for the whole
# round, one connection per request), and "paced" (the same clients held
# to ADMIN_BENCH_RATE requests a second in all: still far above any
# scraper, which asks once every few seconds). The medians of the rounds
# and the ratios to quiet are printed side by side; the issue's goal is a
# drop of less than 5 % (ratio > 0.95). On a 2-core machine the load
# generator (Python) takes CPU time from the gateway too: "hammered" is an
# upper bound of the endpoint's own cost. Because throughput on a shared
# machine varies more than 5 % from round to round, the script also prints
# the figure noise does not move: gateway A's CPU time (utime + stime of
# the process, all its threads) per request, over ADMIN_BENCH_COST
# requests with no traffic, and what share of one core that makes at the
# paced rate.
#
# Knobs: ADMIN_BENCH_ROUNDS (5), ADMIN_BENCH_TIME (seconds a round, 10),
# ADMIN_BENCH_PATH (/metrics), ADMIN_BENCH_CLIENTS (4), ADMIN_BENCH_RATE (200).
set -euo pipefail
SCENARIO=admin_bench
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
need_root
need_cmd iperf3
bin=${1:-$HERE/../build/src/sctpgw}
setup "$bin"
ROUNDS=${ADMIN_BENCH_ROUNDS:-5}
T=${ADMIN_BENCH_TIME:-10}
URL=${ADMIN_BENCH_PATH:-/metrics}
CLIENTS=${ADMIN_BENCH_CLIENTS:-4}
RATE=${ADMIN_BENCH_RATE:-200}
COST_N=${ADMIN_BENCH_COST:-20000}
ADMIN=127.0.0.1:9464
ABUSE="$SRCDIR/tests/tools/admin_abuse.py"

topo_up
CONF_PROFILE=default CONF_LOG_LEVEL=warn CONF_NO_DEFAULT_FWD=1 CONF_GATEWAY="admin = $ADMIN" \
    write_gw_conf A "$WORK/a.conf" "bulk $A_LAN:6301 $LAN_B:5201"
CONF_PROFILE=default CONF_LOG_LEVEL=warn CONF_NO_DEFAULT_FWD=1 write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
for i in $(seq 100); do
    [ "$(in_ns A curl -s -o /dev/null -w '%{http_code}' "http://$ADMIN/readyz" || true)" = 200 ] && break
    [ "$i" = 100 ] && fail "the association did not come up in 10 s"
    sleep 0.1
done
bg_ns lan-b "$WORK/iperf3-server.log" iperf3 -s -p 5201
wait_listen lan-b 5201

mbit() { python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$1"; }
round() { # quiet|hammered|paced N
    local out="$WORK/iperf-$1-$2.json" lp="" rate=0
    [ "$1" = paced ] && rate=$RATE
    if [ "$1" != quiet ]; then
        in_ns A python3 "$ABUSE" load "$ADMIN" --duration "$((T + 1))" --parallel "$CLIENTS" \
            --path "$URL" --rate "$rate" >"$WORK/load-$1-$2.out" 2>&1 &
        lp=$!
        sleep 0.5
    fi
    run_ns lan-a $((T + 30)) "$out" iperf3 -c "$A_LAN" -p 6301 -t "$T" -J || fail "iperf3 failed: $(head -c 300 "$out")"
    [ -n "$lp" ] && wait "$lp"
    mbit "$out" >>"$WORK/$1"
    log "round $2 $1: $(mbit "$out") Mbit/s${lp:+; endpoint: $(cat "$WORK/load-$1-$2.out")}"
}
for r in $(seq "$ROUNDS"); do
    # alternate the order, so a trend in the machine's load falls on both
    if [ $((r % 2)) = 1 ]; then round quiet "$r"; round paced "$r"; round hammered "$r"
    else round hammered "$r"; round paced "$r"; round quiet "$r"; fi
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
rate_of() { sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p' "$WORK"/load-"$1"-*.out | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
q=$(med "$WORK/quiet"); p=$(med "$WORK/paced"); h=$(med "$WORK/hammered")
ratio() { awk -v q="$q" -v x="$1" 'BEGIN { printf "%.3f", x / q }'; }
printf '\nbulk throughput through the pair, 1 connection, %s rounds of %s s (median)\n' "$ROUNDS" "$T"
printf '%-10s %-14s %-7s %s\n' round throughput ratio "endpoint load (GET $URL, $CLIENTS clients)"
printf '%-10s %-14s %-7s %s\n' quiet "$q Mbit/s" 1.000 "none (rounds: $(sort -n "$WORK/quiet" | head -1) to $(sort -n "$WORK/quiet" | tail -1) Mbit/s)"
printf '%-10s %-14s %-7s %s\n' paced "$p Mbit/s" "$(ratio "$p")" "$(rate_of paced) requests/s"
printf '%-10s %-14s %-7s %s\n' hammered "$h Mbit/s" "$(ratio "$h")" "$(rate_of hammered) requests/s (as fast as they are answered)"

# The endpoint's own cost: gateway A's CPU ticks over COST_N requests.
ticks() { awk '{ print $14 + $15 }' "/proc/${GW_PID[A]}/stat"; }
t0=$(ticks)
in_ns A python3 "$ABUSE" load "$ADMIN" --count "$COST_N" --parallel "$CLIENTS" --path "$URL" \
    >"$WORK/cost.out" 2>&1 || log "cost run: $(cat "$WORK/cost.out")"
t1=$(ticks)
secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' "$WORK/cost.out")
t2=$(ticks); sleep "$secs"; t3=$(ticks)   # the same time without requests
awk -v d=$((t1 - t0 - (t3 - t2))) -v n="$COST_N" -v hz="$(getconf CLK_TCK)" -v r="$RATE" -v u="$URL" 'BEGIN {
    us = d / hz / n * 1e6
    printf "gateway CPU per GET %s: %.0f us (%d requests); at %d requests/s: %.2f %% of one core\n", u, us, n, r, us * r / 1e4 }'
gw_stop A >/dev/null || true
gw_stop B >/dev/null || true
