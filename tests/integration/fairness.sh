#!/usr/bin/env bash
# fairness (issue 14 item 7): FAIR_N (8) bulk TCP connections at once
# (iperf3 -P, one test) through the pair share the association evenly.
# First one way for FAIR_TIME (10 s): the most / the least bytes one
# connection delivered to the far end stays within FAIR_MAX (1.3, room
# for a loaded machine: measured 1.01-1.03, the issue's target is 1.2).
# Then both ways at once (iperf3 --bidir, 8 each way; each gateway then
# sends CREDITs on stream 0 between its data, and each one that empties
# stream 0 restarts usrsctp's turn among the TCP streams at its head,
# engine_prio.h): per direction within FAIR_MAX_BOTH (4x; direct TCP cubic
# between A and B over the same link, FAIR_DIRECT=1, spreads 1.2 to 2.0x
# in 10 s both ways, so no tighter bound holds; a build with strict
# priorities among the TCP streams gave 34x and 5 s without a byte in one
# run of two). In both phases no connection delivers
# nothing for FAIR_STARVE_S (3) 1-second intervals in a row (the receiving
# end's per-interval bytes; iperf3 --get-server-output for the far end),
# and FAIR_PROBES (5) new connections each measure connect -> the first
# byte back from the far end (OPEN, OPEN_OK, a request and its answer:
# iperf3's server answers a second test at once, busy): at most
# FAIR_OPEN_S (3 s).
# The link: FAIR_WAN (1:25:200:0:1000, 50 ms / 200 Mbit/s, a topo_up --wan
# SPEC; "none": the plain veth), FAIR_RATE (none; e.g. 10mbit: tbf on wan1
# both ways as key_rotation_live sets up; FAIR_TBF_LATENCY, 300ms, its
# queue). Figures: docs/PERFORMANCE.md,
# "Fairness of the TCP streams".
set -euo pipefail
SCENARIO=fairness
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tc iperf3 jq
setup "$@"
N=${FAIR_N:-8}
T=${FAIR_TIME:-10}
RATE=${FAIR_RATE:-none}
WAN=${FAIR_WAN:-1:25:200:0:1000}
MAX=${FAIR_MAX:-1.3}
MAX_BOTH=${FAIR_MAX_BOTH:-4}
STARVE=${FAIR_STARVE_S:-3}
PROBES=${FAIR_PROBES:-5}
OPEN_S=${FAIR_OPEN_S:-3}

if [ "$WAN" != none ]; then topo_up --wan "$WAN"; else topo_up; fi
pair_up
if [ "$RATE" != none ]; then
    for s in A B; do
        in_ns "$s" tc qdisc add dev wan1 root tbf rate "$RATE" burst 64kb latency "${FAIR_TBF_LATENCY:-300ms}"
    done
fi
# FAIR_DIRECT=1: the same between A and B over wan1 without the gateways
# (TCP's own share, the reference).
SRV_NS=lan-b SRV=$LAN_B CLI_NS=lan-a CLI=$A_LAN CLI_PORT=$FWD_PORT
if [ "${FAIR_DIRECT:-0}" = 1 ]; then
    SRV_NS=B SRV=$(wan_ip B 1) CLI_NS=A CLI=$SRV CLI_PORT=$SRV_PORT PROBES=0
fi
bg_ns "$SRV_NS" "$WORK/iperf3-server.log" iperf3 -s -J -B "$SRV" -p "$SRV_PORT"
wait_listen "$SRV_NS" "$SRV_PORT"

# The probes: connect, send iperf3's 37-byte cookie, time the first byte back.
cat >"$WORK/probe.py" <<'EOF'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=30)
        s.settimeout(30)
        s.sendall(b"p" * 36 + b"\0")
        b = s.recv(1)
        print("first_byte=%.3f %s" % (time.monotonic() - t0, "ok" if b else "eof"), flush=True)
        s.close()
    except OSError as e:
        print("first_byte=%.3f error %s" % (time.monotonic() - t0, e), flush=True)
    time.sleep(1)
EOF

# phase BIDIR MAX : one iperf3 test (both ways if BIDIR=1) with the probes
# beside it; adds to $bad what is unfair.
bad=""
phase() {
    local bidir_on=$1 max=$2 dir="one way" args=() pc rc=0 what side most least n streak ratio
    [ "$bidir_on" = 1 ] && { args=(--bidir); dir="each way"; }
    log "$N connections $dir for ${T}s, wan link $WAN, rate $RATE"
    run_ns_bg "$CLI_NS" $((T + 60)) "$WORK/ip3.json" iperf3 -c "$CLI" -p "$CLI_PORT" -P "$N" \
        -t "$T" -J --get-server-output "${args[@]}"
    pc=$BG_PID
    sleep 3
    run_ns "$CLI_NS" 60 "$WORK/probes.out" python3 "$WORK/probe.py" "$CLI" "$CLI_PORT" "$PROBES" || true
    wait "$pc" || rc=$?
    [ "$rc" = 0 ] || fail "iperf3 exit $rc: $(head -c 600 "$WORK/ip3.json")"
    firsts=$(sed -n 's/^first_byte=\([0-9.]*\) ok$/\1/p' "$WORK/probes.out" | tr '\n' ' ')
    log "connect to first byte back, $PROBES new connections beside the $N: ${firsts:-none} s"
    [ "$(grep -c ' ok$' "$WORK/probes.out")" = "$PROBES" ] ||
        fail "probes failed: $(tr '\n' ' ' <"$WORK/probes.out")"
    worst=$(tr ' ' '\n' <<<"$firsts" | sort -g | tail -n1)
    awk -v w="$worst" -v m="$OPEN_S" 'BEGIN { exit !(w <= m) }' ||
        fail "a new connection's first byte took ${worst}s beside $N busy ones (bound ${OPEN_S}s)"
    # Per direction, the receiving end's view (its receiving streams carry
    # sender=false): bytes per connection, and the longest run of empty 1 s
    # intervals per connection after the first.
    for what in "lan-a -> lan-b" "lan-b -> lan-a"; do
        [ "$what" = "lan-b -> lan-a" ] && [ "$bidir_on" != 1 ] && continue
        if [ "$what" = "lan-a -> lan-b" ]; then side=.server_output_json; else side=""; fi
        read -r most least n <<<"$(jq -r "[$side.end.streams[] | .receiver | select(.sender == false)
             | .bytes] | \"\\(max) \\(min) \\(length)\"" "$WORK/ip3.json")"
        streak=$(jq -r "[$side.intervals[1:][] | [.streams[] | select(.sender == false) | .bytes]]
             | transpose | map(reduce .[] as \$b ({c: 0, m: 0};
                 if \$b == 0 then {c: (.c + 1), m: ([.m, .c + 1] | max)} else {c: 0, m: .m} end)
             | .m) | max" "$WORK/ip3.json")
        ratio=$(awk -v a="$most" -v b="$least" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
        log "$what ($dir): $n connections, most $most bytes, least $least: most/least $ratio; longest run of empty 1 s intervals $streak"
        [ "$n" = "$N" ] || bad+=" $what ($dir): $n connections in the report, not $N;"
        awk -v r="$ratio" -v m="$max" 'BEGIN { exit !(r != "inf" && r <= m) }' ||
            bad+=" $what ($dir): most/least bytes $ratio > $max;"
        [ "$streak" -lt "$STARVE" ] ||
            bad+=" $what ($dir): a connection delivered nothing for $streak s;"
    done
}
phase 0 "$MAX"
[ "${FAIR_BIDIR:-1}" = 1 ] && phase 1 "$MAX_BOTH"
[ -z "$bad" ] || fail "unfair:$bad"
pass "$N connections within ${MAX}x of each other's bytes one way, ${MAX_BOTH}x both ways, none starved"
