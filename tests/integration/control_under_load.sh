#!/usr/bin/env bash
# control_under_load (issue 14): the association's control frames cross a
# SATURATED link quickly (user-space engine, the one every host without
# kernel SCTP runs). SAT_N (20) transfers, SAT_SIZE (768 KiB) each way
# each, fill wan1 both ways: an emulated link (lib.sh topo_up --wan
# SAT_WAN, default 1:10:10:0:100: 10 ms each way, 10 Mbit/s, a drop-tail
# queue of 100 packets = 120 ms, per direction), about 17 s. While they
# run:
# - a key rotation (REKEY on stream 0: A asks, B answers, A confirms;
#   triggered as key_rotation_live does, by SIGHUP with the next key
#   first): A logs "key rotated" (B's answer came) and B logs it (A's
#   confirmation came) within SAT_REKEY_S (4 s) of A's "rotating to";
# - SAT_PROBES (4) new connections each way (lan-a -> A -> B -> lan-b and
#   lan-b -> B -> A -> lan-a), one started a second, each asking the far
#   xfer server for SAT_PROBE_DOWN (4 KiB), get the first byte back (OPEN,
#   OPEN_OK, the request, the answer: four crossings of the full link)
#   within SAT_FIRST_S (10 s) of connect, and the whole answer intact.
# Then: every transfer intact (xfer.py: every byte, the upload by
# SHA-256), none reset; the transfers were still running when the probes
# and the rotation were over; the emulator's queue filled in both
# directions (the link WAS saturated); one association throughout (one
# "association up" per gateway, no "association down").
# Measured (13 runs: alone, two and three at once on a 2-core machine):
# REKEY answer 0.29-1.13 s, B's switch 0.64-1.65 s, first byte 0.9-4.5 s.
# A build whose user-space engine honours "urgent" sends (a TCP stream at
# priority 0 for its first 16 KiB, then 1: usrsctp does not move a stream
# whose priority changes while it has data queued, and the scheduler's
# wheel, out of order, starves stream 0; fixed in 7f7fd84,
# docs/PERFORMANCE.md "Control frames on a saturated, lossy link") failed
# 8 of 8 (4 alone, 4 two at once): the REKEY answer after 6.1-8.1 s or
# never (the rotation given up after 10 s), in 6 some transfers reset at
# their OPEN deadline. Its probes' first bytes (0.6-4.9 s) were no
# slower: SAT_FIRST_S guards the OPEN path rather than that bug. The
# harness's timers (lib.sh write_gw_conf, rto_min 100 ms) matter: with the
# gateway's defaults the same bug passed one run of two.
set -euo pipefail
SCENARIO=control_under_load
. "$(dirname "$0")/lib.sh"
need_root
setup "$@"
N=${SAT_N:-20}
SIZE=${SAT_SIZE:-768K}
WAN=${SAT_WAN:-1:10:10:0:100}
REKEY_S=${SAT_REKEY_S:-4}
FIRST_S=${SAT_FIRST_S:-10}
PROBES=${SAT_PROBES:-4}
PROBE_DOWN=${SAT_PROBE_DOWN:-4096}

. "$(dirname "$0")/key_lib.sh"
(umask 077 && "$SCTPGW" --gen-psk >"$WORK/k1" && "$SCTPGW" --gen-psk >"$WORK/k2")
ID1=$(keyid "$WORK/k1"); ID2=$(keyid "$WORK/k2")

topo_up --wan "$WAN"
# B already holds K2 (second), so A's reload with K2 first rotates.
keyfile A "$WORK/k1"; keyfile B "$WORK/k1" "$WORK/k2"
CONF_PSK_FILE="$WORK/psk-A" write_gw_conf A "$WORK/a.conf"
CONF_PSK_FILE="$WORK/psk-B" write_gw_conf B "$WORK/b.conf"
gw_start B "$WORK/b.conf"
gw_start A "$WORK/a.conf"
assoc_up 20
for s in A B; do
    log_since "$s" | grep -q "association up: .*key id $ID1" || fail "gateway $s is not up with key id $ID1"
done
xfer_server lan-b "$LAN_B:$SRV_PORT"
xfer_server lan-a "$LAN_A:$SRV_PORT"

# probe.py HOST PORT N SEED DOWN XFER_PY: N new connections, one started each
# second (each in its own thread, so a slow one does not hold back the
# next), each a download of DOWN bytes from the xfer server (xfer.py's
# protocol, no upload); prints the time from connect to the first byte
# back and to the end, and whether the whole answer came (xfer.py's
# content for the seed, the digest of the empty upload, EOF).
cat >"$WORK/probe.py" <<'EOF'
import hashlib, os, socket, struct, sys, threading, time
sys.path.insert(0, os.path.dirname(sys.argv[6]))
from xfer import Content
host, port, n, seed, DOWN = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
assert DOWN <= 1 << 20
lock = threading.Lock()


def probe(i):
    t0 = time.monotonic()
    first, what = -1.0, ""
    try:
        s = socket.create_connection((host, port), timeout=30)
        s.settimeout(30)
        s.sendall(struct.pack("!QQQ", 0, DOWN, seed + i))
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            d = s.recv(65536)
            if not d:
                break
            if first < 0:
                first = time.monotonic() - t0
            got += d
        s.close()
        ok = (len(got) == DOWN + 32 and got[DOWN:] == hashlib.sha256(b"").digest() and
              got[:DOWN] == Content(seed + i).chunk(0)[:DOWN])
        what = "ok" if ok else "bad answer: %d bytes" % len(got)
    except OSError as e:
        what = "error %s" % e
    with lock:
        print("first_byte=%.3f end=%.3f %s" % (first, time.monotonic() - t0, what), flush=True)


threads = []
for i in range(n):
    threads.append(threading.Thread(target=probe, args=(i,)))
    threads[-1].start()
    time.sleep(1)
for t in threads:
    t.join()
EOF

log_mark A; log_mark B
log "$N transfers, $SIZE each way each, over wan1 ($WAN)"
run_ns_bg lan-a 120 "$WORK/x.out" python3 "$XFER" client --connect "$A_LAN:$FWD_PORT" \
    --up "$SIZE" --down "$SIZE" --count "$N" --parallel "$N" --seed 7 --timeout 60
px=$BG_PID
sleep 3   # the link is full and every transfer has its stream

log "$PROBES new connections each way, one a second; a key rotation"
run_ns_bg lan-a 60 "$WORK/probes-a.out" python3 "$WORK/probe.py" "$A_LAN" "$FWD_PORT" "$PROBES" 100 \
    "$PROBE_DOWN" "$XFER"
pa=$BG_PID
run_ns_bg lan-b 60 "$WORK/probes-b.out" python3 "$WORK/probe.py" "$B_LAN" "$FWD_PORT" "$PROBES" 200 \
    "$PROBE_DOWN" "$XFER"
pb=$BG_PID
sleep 2   # the first probes are under way
keyfile A "$WORK/k2" "$WORK/k1"
kill -HUP "${GW_PID[A]}"
wait_log A "rotating to key id $ID2 on the live association" 10
t_sent=$(log_time_ms A "rotating to key id $ID2 on the live association")
# The rotation ends on A with B's answer (ACK), on B with A's
# confirmation. A gives up after 10 s without an answer (rekey.c); wait
# 15 s for both, then judge.
ROTATED="key rotated on the live association .*key id $ID2 now in use"
end=$((SECONDS + 15))
until log_since A | grep -qE "$ROTATED|rotation .*failed" &&
      log_since B | grep -qE "$ROTATED|rotation .*failed"; do
    [ $SECONDS -lt $end ] || break
    sleep 0.1
done
t_a=$(log_time_ms A "$ROTATED") || t_a=""
t_b=$(log_time_ms B "$ROTATED") || t_b=""
rc=0; wait "$pa" || rc=$?; [ "$rc" = 0 ] || fail "the probes from lan-a: exit $rc"
rc=0; wait "$pb" || rc=$?; [ "$rc" = 0 ] || fail "the probes from lan-b: exit $rc"
busy=1
kill -0 "$px" 2>/dev/null || busy=0
rc=0
wait "$px" || rc=$?

# What a user checks: the rotation and the new connections were quick.
bad=""
ms_a=never; [ -n "$t_a" ] && ms_a="$((t_a - t_sent)) ms"
ms_b=never; [ -n "$t_b" ] && ms_b="$((t_b - t_sent)) ms"
log "REKEY sent by A: A had the answer after $ms_a, B the confirmation after $ms_b (bound ${REKEY_S} s)"
if [ -z "$t_a" ] || [ $((t_a - t_sent)) -gt $((REKEY_S * 1000)) ]; then
    bad+=" the REKEY answer reached A after $ms_a;"
fi
if [ -z "$t_b" ] || [ $((t_b - t_sent)) -gt $((REKEY_S * 1000)) ]; then
    bad+=" the confirmation reached B after $ms_b;"
fi
for s in A B; do
    ! grep -qE 'rotation .*failed' "$WORK/gw-$s.log" ||
        bad+=" $s: $(grep -E 'rotation .*failed' "$WORK/gw-$s.log" | cut -d' ' -f4-);"
done
for side in a b; do
    f="$WORK/probes-$side.out"
    log "probes from lan-$side (connect to first byte / to end): $(sed -n 's/^first_byte=\([-0-9.]*\) end=\([0-9.]*\) .*/\1\/\2/p' "$f" | tr '\n' ' ')s"
    [ "$(grep -c ' ok$' "$f")" = "$PROBES" ] || bad+=" probes from lan-$side failed: $(grep -v ' ok$' "$f" | tr '\n' ' ');"
    worst=$(sed -n 's/^first_byte=\([0-9.]*\) .*/\1/p' "$f" | sort -g | tail -n1)
    awk -v w="${worst:-999}" -v m="$FIRST_S" 'BEGIN { exit !(w <= m) }' ||
        bad+=" a new connection from lan-$side got its first byte after ${worst:-never} s;"
done
[ "$rc" = 0 ] || bad+=" transfers: $(grep -m3 -E '^ok=|xfer client: ' "$WORK/x.out" | tr '\n' ' ');"
[ -z "$bad" ] || fail "under saturation:$bad"

xfer_check "$rc" "$WORK/x.out" "$N transfers under the rotation and the probes"
grep -q "^ok=$N " "$WORK/x.out" || fail "not $N transfers ok: $(grep '^ok=' "$WORK/x.out")"
log "transfers: $(grep '^ok=' "$WORK/x.out")"
# ... under load: the transfers ran on after the rotation and the probes,
# and the link was saturated (the emulator's queue filled both ways).
[ "$busy" = 1 ] ||
    fail "the transfers had ended before the probes and the rotation did (more data: SAT_SIZE)"
QUEUE=$(cut -s -d: -f5 <<<"$WAN"); QUEUE=${QUEUE%%[/,]*}; QUEUE=${QUEUE:-1000}
for d in 'a>b' 'b>a'; do
    q=$(wan_counter 1 "$d" drop_queue); m=$(wan_counter 1 "$d" max_queue)
    log "wan1 $d: the queue held up to $m of $QUEUE packets, dropped $q when full"
    [ "${m:-0}" -ge $((QUEUE * 9 / 10)) ] ||
        fail "wan1 $d: the queue never filled, the link was not saturated: $(wan_counters 1 | tr '\n' ' ')"
done

for s in A B; do
    n=$(grep -c 'association up' "$WORK/gw-$s.log")
    [ "$n" = 1 ] || fail "gateway $s: $n \"association up\" lines; expected the one association"
    ! grep -q 'association down' "$WORK/gw-$s.log" || fail "gateway $s: association down"
done
gw_stop A; gw_stop B
pass "REKEY answered in $ms_a, new connections' first byte within ${FIRST_S} s beside $N transfers filling $WAN both ways; all intact, one association"
