#!/usr/bin/env bash
# bench/failover.sh - failover time of a gateway pair with two links.
#
#   bench/failover.sh [PATH-TO-sctpgw]        (root; see bench/README.md)
#
# Builds the two-link testbed of tests/integration/lib.sh (wan1 priority
# 10, wan2 priority 20), runs one long TCP connection through the pair that
# carries a paced record stream in each direction (BENCH_RATE bytes/s each
# way), and cuts wan1 BENCH_CUTS times per timer profile.  For each cut and
# direction the failover time is
#     (arrival time of the first record sent after the cut) - (cut time)
# where the cut time is taken when the cut command (nftables drop, or
# 'ip link set down' with BENCH_HOW=down) has returned.  Every record
# carries its sequence number and send time, so a lost, duplicated or
# reordered byte is counted, and the connection must survive every cut.
# Between cuts wan1 is restored and the bench waits until both gateways log
# 'primary path: wan2 -> wan1' (the fail-back after failback_hold_ms).
# Profiles: "default" (no timer keys: the gateway's defaults) and "fast"
# (the fast profile of lib.sh).  Prints min/median/max per profile and
# direction.
#
# Knobs: BENCH_CUTS (20), BENCH_PROFILES ("default fast"), BENCH_RATE
# (8000000), BENCH_HOW (drop|down, default drop), BENCH_SETTLE_S (1: pause
# after the fail-back), BENCH_FAILBACK_WAIT=log|SECONDS (log: wait for the
# fail-back log lines; a number: just sleep that long, for gateways that do
# not log fail-backs), BENCH_TABLE (also write the table to this file),
# BENCH_WAN (emulated WAN links instead of veth pairs, lib.sh's topo_up
# --wan spec, e.g. '1:10:200:0:1000,2:30:200:0:1000'; "unequal" is that
# one: wan1 20 ms RTT, wan2 60 ms RTT, 200 Mbit/s each, 1000-packet queues;
# then BENCH_RATE defaults to 1000000 and BENCH_PROFILES to "default
# wanfast", lib.sh's fast timers with the RTO floor above delayed SACK + RTT).
set -euo pipefail
SCENARIO=bench-failover
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/integration/lib.sh"
need_root
bin=${1:-${SCTPGW:-}}
if [ -z "$bin" ]; then
    for c in "$HERE/../build/src/sctpgw" "$HERE/../build-mh/src/sctpgw"; do
        [ -x "$c" ] && { bin=$c; break; }
    done
fi
setup "$bin"
CUTS=${BENCH_CUTS:-20}
PROFILES=${BENCH_PROFILES:-default fast}
RATE=${BENCH_RATE:-8000000}
# on WAN links: a stream the pair carries today without a standing backlog
# (a backlog would be counted as failover time), and the WAN timer profile
if [ -n "${BENCH_WAN:-}" ]; then
    RATE=${BENCH_RATE:-1000000}
    PROFILES=${BENCH_PROFILES:-default wanfast}
fi
HOW=${BENCH_HOW:-drop}
SETTLE=${BENCH_SETTLE_S:-1}
FBWAIT=${BENCH_FAILBACK_WAIT:-log}
STREAM_PORT=9100

# ------------------------------------------------------------ stream tool
cat >"$WORK/fostream.py" <<'PY'
#!/usr/bin/env python3
"""Paced record stream in both directions over one TCP connection.
Records: 1024 bytes, header !4sQQ (magic, seq, send time ns, CLOCK_REALTIME).
Control lines on --ctl (a FIFO): 'cut TC_NS ID' -> when the first record
sent at or after TC_NS arrives, print 'result ID MS'; 'stop' -> finish.
Output lines: ready, result ID MS, summary ..., lost ... (connection)."""
import collections, os, socket, struct, sys, threading, time

REC = 1024
HDR = struct.Struct("!4sQQ")
MAGIC = b"FOB1"
out_lock = threading.Lock()


def say(out, text):
    with out_lock:
        out.write(text + "\n")
        out.flush()


def addr(text):
    if text.startswith("["):
        h, _, p = text[1:].partition("]:")
        return socket.AF_INET6, h, int(p)
    h, _, p = text.rpartition(":")
    return socket.AF_INET, h, int(p)


def run(sock, rate, ctl, out):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    state = {"stop": False, "pending": [], "errors": 0, "records": 0, "maxlat": 0,
             "recent": collections.deque(), "sent": 0}
    lock = threading.Lock()

    def sender():
        seq = 0
        t0 = time.monotonic()
        sent = 0
        try:
            while not state["stop"]:
                now = time.monotonic()
                due = int((now - t0) * rate)
                if due - sent > rate // 10:          # blocked for a while: no burst
                    t0 = now - sent / rate
                    due = sent
                n = (due - sent) // REC
                if n <= 0:
                    time.sleep(0.0005)
                    continue
                buf = bytearray(n * REC)
                for k in range(n):
                    HDR.pack_into(buf, k * REC, MAGIC, seq, time.time_ns())
                    seq += 1
                sock.sendall(buf)
                sent += n * REC
            state["sent"] = seq
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            say(out, "lost sender %s" % e)

    def control():
        fd = os.open(ctl, os.O_RDWR)
        f = os.fdopen(fd, "r")
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "stop":
                state["stop"] = True
                return
            if w[0] == "cut":
                tc, cid = int(w[1]), w[2]
                with lock:
                    hit = next((r for s, r in state["recent"] if s >= tc), None)
                    if hit is not None:
                        say(out, "result %s %.3f" % (cid, (hit - tc) / 1e6))
                    else:
                        state["pending"].append((tc, cid))

    st = threading.Thread(target=sender, daemon=True)
    st.start()
    threading.Thread(target=control, daemon=True).start()
    buf = bytearray()
    expect = 0
    ready = False
    while True:
        try:
            d = sock.recv(262144)
        except OSError as e:
            say(out, "lost receiver %s after %d records" % (e, expect))
            return 1
        rn = time.time_ns()
        if not d:
            break
        buf += d
        nrec = len(buf) // REC
        if not nrec:
            continue
        last = 0
        for k in range(nrec):
            m, seq, sn = HDR.unpack_from(buf, k * REC)
            if m != MAGIC or seq != expect:
                state["errors"] += 1
                say(out, "lost stream: record %d has seq %d magic %r" % (expect, seq, m))
                return 1
            expect += 1
            last = sn
            lat = rn - sn
            if lat > state["maxlat"]:
                state["maxlat"] = lat
        del buf[: nrec * REC]
        if not ready:
            ready = True
            say(out, "ready")
        with lock:
            rec = state["recent"]
            rec.append((last, rn))
            while rec and rn - rec[0][1] > 5_000_000_000:
                rec.popleft()
            keep = []
            for tc, cid in state["pending"]:
                if last >= tc:
                    say(out, "result %s %.3f" % (cid, (rn - tc) / 1e6))
                else:
                    keep.append((tc, cid))
            state["pending"] = keep
    # the peer stopped sending (FIN after whole records); our own sender
    # runs until our 'stop'
    st.join(60)
    clean = not buf
    say(out, "summary records=%d leftover_bytes=%d errors=%d max_latency_ms=%.1f eof=%s"
        % (expect, len(buf), state["errors"], state["maxlat"] / 1e6, "clean" if clean else "PARTIAL-RECORD"))
    return 0 if clean else 1


def main():
    role, ep, rate, ctl, outp = sys.argv[1:6]
    out = open(outp, "a")
    fam, host, port = addr(ep)
    if role == "server":
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, port))
        ls.listen(1)
        say(out, "listening")
        sock, _ = ls.accept()
        ls.close()
    else:
        sock = socket.create_connection((host, port), timeout=10)
        sock.settimeout(None)
    sys.exit(run(sock, int(rate), ctl, out))


main()
PY

# ------------------------------------------------------------ helpers
# ctl FIFO LINE : hand a control line to a stream process (never blocks long)
ctl() { timeout 5 sh -c 'printf "%s\n" "$1" >"$2"' _ "$2" "$1" || fail "control fifo $1 not read"; }

# wait_line FILE PATTERN TIMEOUT_S : wait for a line; prints it
wait_line() {
    local end=$(( $(now_ms) + $3 * 1000 )) l
    while :; do
        l=$(grep -E -m1 -- "$2" "$1" 2>/dev/null || true)
        [ -n "$l" ] && { echo "$l"; return 0; }
        if grep -q '^lost' "$1" 2>/dev/null; then echo "LOST: $(grep -m1 '^lost' "$1")"; return 1; fi
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.02
    done
}

# log_wait_quiet A|B PATTERN TIMEOUT_S : like wait_log, but returns 1 on
# timeout instead of failing
log_wait_quiet() {
    local end=$(( $(now_ms) + $3 * 1000 ))
    while :; do
        log_since "$1" | grep -Eq -- "$2" && return 0
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# stats FILE : min median max n of the numbers in FILE
stats() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.0f %.0f %.0f %d\n", v[1], m, v[NR], NR }'
}

WAN=${BENCH_WAN:-}
[ "$WAN" = unequal ] && WAN='1:10:200:0:1000,2:30:200:0:1000'
if [ -n "$WAN" ]; then topo_up --links 2 --wan "$WAN"; else topo_up --links 2; fi
TABLE="$WORK/table.txt"
printf '%-8s %-9s %5s %7s %10s %7s %6s %5s  %s\n' profile direction cuts min_ms median_ms max_ms missed lost note >"$TABLE"

run_profile() {
    local prof=$1 i tc r line c1 c2 ms d hold
    log "===== profile $prof: $CUTS cuts of wan1 ($HOW), stream $RATE B/s each way"
    CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=$prof CONF_LOG_LEVEL=info \
        write_gw_conf A "$WORK/a-$prof.conf" "stream $A_LAN:$STREAM_PORT $LAN_B:$STREAM_PORT"
    CONF_PATHS="wan1:10 wan2:20" CONF_PROFILE=$prof CONF_LOG_LEVEL=info \
        write_gw_conf B "$WORK/b-$prof.conf"
    hold=$(sed -n 's/^failback_hold_ms = //p' "$WORK/a-$prof.conf"); hold=${hold:-5000}
    log_mark A; log_mark B
    gw_start B "$WORK/b-$prof.conf"
    gw_start A "$WORK/a-$prof.conf"
    assoc_up 15
    local so="$WORK/srv-$prof.out" co="$WORK/cli-$prof.out" sf="$WORK/srv-$prof.ctl" cf="$WORK/cli-$prof.ctl"
    rm -f "$sf" "$cf"; mkfifo "$sf" "$cf"; : >"$so"; : >"$co"
    bg_ns lan-b "$WORK/srv-$prof.err" python3 "$WORK/fostream.py" server "$LAN_B:$STREAM_PORT" "$RATE" "$sf" "$so"
    local spid=$BG_PID
    wait_line "$so" '^listening' 10 >/dev/null || fail "stream server did not start: $(cat "$WORK/srv-$prof.err")"
    bg_ns lan-a "$WORK/cli-$prof.err" python3 "$WORK/fostream.py" client "$A_LAN:$STREAM_PORT" "$RATE" "$cf" "$co"
    local cpid=$BG_PID
    wait_line "$so" '^ready' 10 >/dev/null || fail "stream A->B not flowing: $(cat "$WORK/cli-$prof.err" "$WORK/srv-$prof.err")"
    wait_line "$co" '^ready' 10 >/dev/null || fail "stream B->A not flowing: $(cat "$WORK/cli-$prof.err" "$WORK/srv-$prof.err")"
    sleep 1
    : >"$WORK/ab-$prof.ms"; : >"$WORK/ba-$prof.ms"
    local missed_ab=0 missed_ba=0 offwan1=0 lost=0
    for i in $(seq "$CUTS"); do
        # the stream must be on wan1 before the cut
        c1=$(link_packets wan1); c2=$(link_packets wan2); sleep 0.3
        c1=$(( $(link_packets wan1) - c1 )); c2=$(( $(link_packets wan2) - c2 ))
        [ "$c1" -gt "$c2" ] || { offwan1=$((offwan1 + 1)); log "cut $i: stream not on wan1 before the cut (wan1 +$c1, wan2 +$c2 frames)"; }
        log_mark A; log_mark B
        link_cut wan1 "$HOW" >/dev/null 2>&1
        tc=$(date +%s%N)
        ctl "$sf" "cut $tc $i"; ctl "$cf" "cut $tc $i"
        r=""
        for d in ab ba; do
            if [ $d = ab ]; then line=$(wait_line "$so" "^result $i " 60) || line=""
            else line=$(wait_line "$co" "^result $i " 60) || line=""; fi
            ms=""
            case "$line" in "result $i "*) ms=${line##* } ;; esac
            if [ -n "$ms" ]; then echo "$ms" >>"$WORK/$d-$prof.ms"; r="$r $d=${ms%.*}ms"
            else
                r="$r $d=none"
                if [ $d = ab ]; then missed_ab=$((missed_ab + 1)); else missed_ba=$((missed_ba + 1)); fi
            fi
        done
        if grep -q '^lost' "$so" "$co"; then lost=1; log "cut $i: stream lost: $(grep -h '^lost' "$so" "$co" | head -n1)"; fi
        [ "$lost" = 1 ] && { log "cut $i/$CUTS ($prof):$r"; break; }
        # leave wan1 cut until both gateways have declared it unreachable and
        # moved their primary (a link that stays down), at most 30 s
        local fb=""
        if [ "$FBWAIT" = log ]; then
            for d in A B; do
                if log_wait_quiet "$d" 'primary path: wan1 -> wan2 ' 30; then fb="$fb $d"
                else r="$r ($d: no primary change)"; fi
            done
        fi
        log "cut $i/$CUTS ($prof):$r"
        log_mark A; log_mark B
        link_restore wan1 >/dev/null 2>&1
        if [ "$FBWAIT" = log ]; then
            for d in $fb; do
                log_wait_quiet "$d" 'primary path: wan2 -> wan1 ' $((hold / 1000 + 30)) \
                    || fail "cut $i: gateway $d did not fail back to wan1 within $((hold / 1000 + 30)) s"
            done
            # Keep wan1 up for another hold-down before the next cut: a path
            # that fails within twice its hold-down of coming back counts as
            # flapping and its hold-down doubles (docs/FAILOVER.md), which
            # would slow every later cut of this bench.
            sleep "$(awk -v h="$hold" 'BEGIN { printf "%.3f", h / 1000 }')"
        else
            sleep "$FBWAIT"
        fi
        sleep "$SETTLE"
    done
    ctl "$sf" stop 2>/dev/null || true; ctl "$cf" stop 2>/dev/null || true
    wait_line "$so" '^summary' 15 >/dev/null || true
    wait_line "$co" '^summary' 15 >/dev/null || true
    log "A->B receiver: $(grep -h '^summary\|^lost' "$so" | tr '\n' ' ')"
    log "B->A receiver: $(grep -h '^summary\|^lost' "$co" | tr '\n' ' ')"
    local lab=0 lba=0
    grep -q '^summary .*errors=0 .*eof=clean' "$so" || lab=1
    grep -q '^summary .*errors=0 .*eof=clean' "$co" || lba=1
    local note=""
    [ "$offwan1" -gt 0 ] && note="$offwan1 cuts began off wan1"
    local mn md mx n
    read -r mn md mx n <<<"$(stats "$WORK/ab-$prof.ms")"
    printf '%-8s %-9s %5s %7s %10s %7s %6s %5s  %s\n' "$prof" "A->B" "$n" "$mn" "$md" "$mx" "$missed_ab" "$lab" "$note" >>"$TABLE"
    read -r mn md mx n <<<"$(stats "$WORK/ba-$prof.ms")"
    printf '%-8s %-9s %5s %7s %10s %7s %6s %5s  %s\n' "$prof" "B->A" "$n" "$mn" "$md" "$mx" "$missed_ba" "$lba" "$note" >>"$TABLE"
    kill "$spid" "$cpid" 2>/dev/null || true
    gw_stop A || true
    gw_stop B || true
}

for p in $PROFILES; do run_profile "$p"; done
echo
echo "failover time: cut of wan1 ($HOW) -> first record sent after the cut arrives; $CUTS cuts per profile, $RATE B/s each way${WAN:+; WAN links $WAN (K:delay ms each way:Mbit/s:loss %:queue)}"
echo "(missed: no record arrived within 60 s; lost: 1 if the connection broke or a record was lost, duplicated or reordered)"
cat "$TABLE"
[ -n "${BENCH_TABLE:-}" ] && cp "$TABLE" "$BENCH_TABLE"
exit 0
