#!/usr/bin/env bash
# check_configs: `sctpgw -c FILE --check` on good and broken files.
# A broken file must exit 1 and print, on stderr, lines that name the file,
# the line, the section and the key; a good one must exit 0, print
# "FILE: OK" and nothing on stderr. Needs no root and no network.
#
# usage: check_configs.sh /path/to/sctpgw
set -euo pipefail

SCTPGW=${1:?usage: $0 /path/to/sctpgw}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/sctpgw-check.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
FAILS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# run FILE: runs the check, leaves the status in RC, output in $DIR/out, err.
run() {
    RC=0
    "$SCTPGW" -c "$1" --check >"$DIR/out" 2>"$DIR/err" || RC=$?
}

show() {
    echo "--- stdout:" >&2
    cat "$DIR/out" >&2
    echo "--- stderr:" >&2
    cat "$DIR/err" >&2
}

# expect_bad NAME LINE... < content: the file must be refused, and every LINE
# (with @ standing for the file name) must be a whole line of stderr.
# Feed it with a redirection, never a pipe: a pipe runs it in a subshell,
# whose FAILS count would be lost.
expect_bad() {
    local name=$1 want ok=1
    shift
    local f="$DIR/$name.ini"
    cat >"$f"
    run "$f"
    [ "$RC" = 1 ] || { fail "$name: exit status $RC, expected 1"; ok=0; }
    for want in "$@"; do
        want=${want//@/$f}
        grep -qxF -- "$want" "$DIR/err" || { fail "$name: stderr lacks: $want"; ok=0; }
    done
    [ -s "$DIR/out" ] && { fail "$name: stdout should be empty"; ok=0; }
    if [ "$ok" = 1 ]; then echo "ok: $name"; else show; fi
}

# expect_good NAME FILE: exit 0, "FILE: OK" on stdout, stderr empty.
expect_good() {
    local name=$1 f=$2 ok=1
    run "$f"
    [ "$RC" = 0 ] || { fail "$name: exit status $RC, expected 0"; ok=0; }
    [ "$(cat "$DIR/out")" = "$f: OK" ] || { fail "$name: stdout is not \"$f: OK\""; ok=0; }
    [ -s "$DIR/err" ] && { fail "$name: stderr should be empty"; ok=0; }
    if [ "$ok" = 1 ]; then echo "ok: $name"; else show; fi
}

[ -x "$SCTPGW" ] || { echo "FAIL: $SCTPGW is not an executable" >&2; exit 1; }

# The key every good file names (psk_file = psk: next to the file).
(umask 077 && "$SCTPGW" --gen-psk >"$DIR/psk")

# ---------------------------------------------------------------- good files
cat >"$DIR/good.ini" <<'EOF'
[gateway]
name = site-a
engine = userspace        ; no kernel SCTP needed for a check

[association]
role = accept
psk_file = psk

[path.wan1]
local = 198.18.1.1
remote = 198.18.1.2

[path.wan2]
local = 2001:2:1::1
remote = 2001:2:1::2
priority = 20

[forward.web]
listen = [::1]:8080
target = 192.0.2.10:80
EOF
expect_good good "$DIR/good.ini"

# The "fast" profile of docs/FAILOVER.md, on two paths.
cat >"$DIR/fast.ini" <<'EOF'
[association]
role = connect
psk_file = psk
[sctp]
heartbeat_interval_ms = 200
rto_initial_ms = 200
rto_min_ms = 100
rto_max_ms = 400
path_max_retrans = 2
pf_threshold = 0
assoc_max_retrans = 10
failback_hold_ms = 2000
[path.wan1]
local = 198.18.1.1
remote = 198.18.1.2
priority = 10
[path.wan2]
local = 198.18.2.1
remote = 198.18.2.2
priority = 20
EOF
expect_good fast_profile "$DIR/fast.ini"
cp "$SRCDIR/conf/sctpgw.ini" "$DIR/example.ini" # its psk_file is "psk", beside it
expect_good example "$DIR/example.ini"

# The two-site quick start (README): a pair (psk_file = psk: beside them).
cp "$SRCDIR/conf/site-a.ini" "$SRCDIR/conf/site-b.ini" "$DIR/"
expect_good quickstart_site_a "$DIR/site-a.ini"
expect_good quickstart_site_b "$DIR/site-b.ini"

# ---------------------------------------------------------------- the key (issue 11)
# psk_conf FILE: a config whose psk_file (line 3) is FILE.
psk_conf() {
    printf '[association]\nrole = connect\npsk_file = %s\n[path.a]\nlocal = 198.18.1.1\nremote = 198.18.1.2\n' "$1"
}
"$SCTPGW" --gen-psk >"$DIR/open.psk"
chmod 644 "$DIR/open.psk"
expect_bad psk_readable_by_others \
    "@:3: [association] psk_file: $DIR/open.psk: mode 0644 lets group or others use the key; expected 0600 or 0400 (chmod 600 $DIR/open.psk), or 0440 with the gateway's own group" < <(psk_conf "$DIR/open.psk")
(umask 077 && head -c 16 /dev/urandom | base64 >"$DIR/short.psk")
expect_bad psk_too_short \
    "@:3: [association] psk_file: $DIR/short.psk: line 1: the key has 16 bytes; expected 32 to 64 random bytes (\`sctpgw --gen-psk\`, or \`head -c 32 /dev/urandom | base64\`)" < <(psk_conf "$DIR/short.psk")
(umask 077 && printf 'correct horse battery staple correct horse' | base64 -w0 >"$DIR/words.psk")
expect_bad psk_not_random \
    "@:3: [association] psk_file: $DIR/words.psk: line 1: the key is not random (too few distinct bytes); expected random bytes (\`sctpgw --gen-psk\`)" < <(psk_conf "$DIR/words.psk")
(umask 077 && echo 'not base64 at all!' >"$DIR/text.psk")
expect_bad psk_not_base64 \
    "@:3: [association] psk_file: $DIR/text.psk: line 1: not a base64 key of at most 64 bytes; expected one key a line, as \`sctpgw --gen-psk\` prints" < <(psk_conf "$DIR/text.psk")
expect_bad psk_missing_file \
    "@:3: [association] psk_file: $DIR/missing.psk: cannot read: No such file or directory" < <(psk_conf "$DIR/missing.psk")
expect_bad no_psk_file \
    '@:1: [association] psk_file: missing; expected the file with the key both gateways share (make one with `sctpgw --gen-psk`), or insecure = yes to run without authentication or encryption' <<'EOF'
[association]
role = connect
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF
expect_bad insecure_and_psk_file \
    '@:4: [association] insecure: yes contradicts psk_file (line 3); expected one of them' <<EOF
[association]
role = connect
psk_file = $DIR/psk
insecure = yes
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF
cat >"$DIR/insecure.ini" <<'EOF'
[association]
role = connect
insecure = yes
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF
expect_good insecure "$DIR/insecure.ini"
# Two keys (rotation) and comments: good. --gen-psk: 32 bytes in base64.
(umask 077 && { echo "# current"; "$SCTPGW" --gen-psk; echo "# next"; "$SCTPGW" --gen-psk; } >"$DIR/two.psk")
psk_conf "$DIR/two.psk" >"$DIR/two.ini"
expect_good psk_two_keys "$DIR/two.ini"
[ "$("$SCTPGW" --gen-psk | base64 -d | wc -c)" = 32 ] || fail "--gen-psk does not print 32 bytes in base64"

# ---------------------------------------------------------------- bad files
expect_bad bad_role \
    '@:2: [association] role: "listen" is not valid; expected connect or accept' <<'EOF'
[association]
role = listen
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad unknown_key_and_section \
    '@:3: [gateway] colour: unknown key; expected one of name, engine, udp_encap_port, log_level, connect_timeout_ms, drain_timeout_ms, conn_window, conn_window_max, memory_limit, max_connections, idle_timeout_s, log_connections, tcp_keepalive, tcp_keepalive_idle_s, tcp_keepalive_interval_s, tcp_keepalive_count, admin, udp_lifetime_ms, udp_idle_timeout_ms, udp_max_flows' \
    '@:7: [bogus]: unknown section; expected gateway, association, sctp, path.NAME, forward.NAME or egress' <<'EOF'
[gateway]
name = x
colour = blue
[association]
role = connect

[bogus]
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad missing_target \
    '@:6: [forward.web] target: missing; expected address:port, host name:port or original' <<'EOF'
[association]
role = connect
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
[forward.web]
listen = 127.0.0.1:8080
EOF

expect_bad no_path_no_role \
    '@:0: [association] role: missing; expected connect or accept' \
    '@:0: [path.NAME]: missing; expected at least one [path.NAME] section' <<'EOF'
[gateway]
name = lonely
EOF

expect_bad duplicate_key \
    '@:4: [association] role: duplicate key (first on line 2); expected each key once per section' <<'EOF'
[association]
role = connect
port = 5757
role = accept
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad syntax_error \
    '@:3: syntax error: "this is not ini"; expected [section], key = value or a comment' <<'EOF'
[association]
role = connect
this is not ini
[path.a]  ; the only path
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad numbers \
    '@:4: [sctp] rto_min_ms: 5000 is greater than rto_initial_ms (1000, default); expected rto_min_ms <= rto_initial_ms <= rto_max_ms' \
    '@:5: [sctp] pf_threshold: "two" is not a number; expected an integer from 0 to 100' \
    '@:6: [sctp] path_mtu: "1000" is out of range; expected an integer from 1280 to 9000' \
    '@:8: [gateway] conn_window: "128t" is not a number; expected a size from 4096 to 67108864 bytes (suffix k, m or g for KiB, MiB or GiB)' \
    '@:9: [gateway] udp_encap_port: "0" is out of range; expected an integer from 1 to 65535' <<'EOF'
[association]
role = connect
[sctp]
rto_min_ms = 5000
pf_threshold = two
path_mtu = 1000
[gateway]
conn_window = 128t
udp_encap_port = 0
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad addresses \
    '@:5: [path.a] remote: 2001:2::2 is IPv6 but local 198.18.1.1 (line 4) is IPv4; expected local and remote of the same family' \
    '@:7: [forward.web] listen: "::1:8080" is not a valid address (IPv6 needs brackets: [addr]:port); expected host:port' \
    '@:8: [forward.web] protocol: "sctp" is not valid; expected tcp or udp' \
    '@:9: [forward.web] target: "www.example" has no port; expected address:port, host name:port or original' <<'EOF'
[association]
role = connect
[path.a]
local = 198.18.1.1
remote = 2001:2::2
[forward.web]
listen = ::1:8080
protocol = sctp
target = www.example
EOF

# Transparent capture (issue 9): target = original needs capture = redirect
# or tproxy; a fixed target with capture is fine.
expect_bad capture_original \
    '@:9: [forward.plain] target: original needs a captured connection; expected capture = redirect or tproxy in this section, or a host:port target' \
    '@:13: [forward.bad] capture: "transparent" is not valid; expected none, redirect or tproxy' <<'EOF'
[association]
role = connect
insecure = yes
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
[forward.plain]
listen = 0.0.0.0:15001
target = original
[forward.bad]
listen = 0.0.0.0:15002
target = original
capture = transparent
[forward.ok]
listen = [::]:15003
target = original
capture = tproxy
EOF
cat >"$DIR/capture_good.ini" <<'EOF'
[association]
role = connect
insecure = yes
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
[forward.redirect]
listen = 0.0.0.0:15001
target = original
capture = redirect
[forward.tproxy6]
listen = [::]:15002
target = original
capture = tproxy
[forward.fixed]
listen = 127.0.0.1:15003
target = 198.18.20.2:80
capture = tproxy
EOF
expect_good capture_good "$DIR/capture_good.ini"

# Timers that make failover impossible or absurd: each message names both keys.
expect_bad broken_failover \
    '@:6: [sctp] pf_threshold: 2 is equal to path_max_retrans (2, line 5); expected pf_threshold < path_max_retrans (otherwise a path is never potentially failed and data stays on a dead path until it is declared unreachable)' \
    '@:7: [sctp] assoc_max_retrans: 2 is equal to path_max_retrans (2, line 5); expected assoc_max_retrans > path_max_retrans with 2 or more paths (every timeout on a path also counts for the association, which would give up no later than a dead path is declared unreachable)' \
    '@:8: [sctp] failback_hold_ms: 100 is less than heartbeat_interval_ms (200, line 4); expected failback_hold_ms >= heartbeat_interval_ms, or 0 for no hold (a shorter hold ends before the returning path has answered another heartbeat)' \
    '@:15: [path.wan2] remote: 198.18.1.2 is already the remote address of [path.wan1] (line 11); expected a different remote address for each path' <<'EOF'
[association]
role = connect
[sctp]
heartbeat_interval_ms = 200
path_max_retrans = 2
pf_threshold = 2
assoc_max_retrans = 2
failback_hold_ms = 100
[path.wan1]
local = 198.18.1.1
remote = 198.18.1.2
priority = 10
[path.wan2]
local = 198.18.2.1
remote = 198.18.1.2
priority = 20
EOF
n=$(wc -l <"$DIR/err")
# 4 and the missing psk_file
[ "$n" = 5 ] || { fail "broken_failover: $n lines on stderr, expected 5"; show; }

# The RTO floor leaves half of itself for the peer's SACK delay (usrsctp's
# own is 200 ms): both keys named (docs/PERFORMANCE.md, "WAN paths").
expect_bad sack_vs_floor \
    '@:5: [sctp] delayed_sack_ms: 200 is more than half of rto_min_ms (200, line 4); expected delayed_sack_ms <= rto_min_ms / 2 (a SACK held longer makes retransmission timeouts expire on a clean path)' <<'EOF'
[association]
role = connect
[sctp]
rto_min_ms = 200
delayed_sack_ms = 200
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

expect_bad flow_control \
    '@:3: [gateway] conn_buffer: replaced by conn_window in sctpgw 0.2 (a per-connection credit window instead of a buffer limit that paused the whole association); expected conn_window' \
    '@:5: [gateway] conn_window: 4194304 is greater than memory_limit (2097152, line 4); expected memory_limit >= conn_window (each open connection reserves conn_window bytes of memory_limit)' <<'EOF'
[gateway]
name = x
conn_buffer = 256k
memory_limit = 2m
conn_window = 4m
[association]
role = connect
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

# Every problem in one run, not just the first: six lines for six problems
# (the sixth: no psk_file).
expect_bad all_reported <<'EOF'
[gateway]
engine = fast
log_level = loud
[association]
role = both
max_streams = 1
[path.a]
local = 198.18.1.1
remote = nowhere
EOF
n=$(wc -l <"$DIR/err")
[ "$n" = 6 ] || { fail "all_reported: $n lines on stderr, expected 6"; show; }

# A NUL byte (issue 12, item 8): iniparser's fgets ended the comment line
# there and the next line vanished, so this passed as role = connect.
printf '[association]\n; comment\0\nrole = accept\n[path.a]\nlocal = 198.18.1.1\nremote = 198.18.1.2\n' |
    expect_bad nul_byte \
        "@:2: a NUL byte in column 10; expected UTF-8 text (the loader cannot represent it)"

# ---------------------------------------------------------------- [egress] (issue 9)
# A good allow list in every form the docs show, a host-name target, a
# resolver; an empty allow (no egress) is fine too.
cat >"$DIR/egress.ini" <<'EOF'
[association]
role = accept
psk_file = psk
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
[forward.db]
listen = 127.0.0.1:5432
target = db.internal:5432
[egress]
allow = 10.0.0.0/8, 192.0.2.10:443 [2001:db8::]/32:53, 127.0.0.1:2222,[::1]:80 2001:2::/48 ::1
resolver = 198.18.20.2, [2001:2::53]:5353
EOF
expect_good egress_forms "$DIR/egress.ini"
printf '[association]\nrole = accept\npsk_file = psk\n[path.a]\nlocal = 198.18.1.1\nremote = 198.18.1.2\n[egress]\nallow =\n' >"$DIR/egress_empty.ini"
expect_good egress_empty "$DIR/egress_empty.ini"
expect_bad egress_bad_entries \
    '@:8: [egress] allow: "db.internal" is not an IP address (names are not allowed here: list the addresses they resolve to); expected networks with optional ports, separated by commas or blanks, like 10.0.0.0/8, 192.0.2.10:443, 2001:db8::/32, [2001:db8::]/32:53' \
    '@:9: [egress] resolver: "ns1.example" is not a DNS server address; expected IP addresses with an optional port, like 198.18.0.53, 192.0.2.1:5353, [2001:db8::53]:53' \
    '@:12: [forward.x] target: "db_1.internal:5432" is neither an IP address nor a host name (RFC 1123: labels of letters, digits and hyphens, separated by dots, no final dot)' <<'EOF'
[association]
role = accept
psk_file = psk
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
[egress]
allow = 10.0.0.0/8, db.internal
resolver = ns1.example
[forward.x]
listen = 127.0.0.1:1
target = db_1.internal:5432
EOF
expect_bad egress_host_bits \
    '@:2: [egress] allow: "10.1.0.0/8" has bits set past its /8 prefix; expected 10.0.0.0/8' <<'EOF'
[egress]
allow = 10.1.0.0/8
[association]
role = accept
psk_file = psk
[path.a]
local = 198.18.1.1
remote = 198.18.1.2
EOF

run "$DIR/does-not-exist.ini"
if [ "$RC" = 1 ] &&
    grep -qxF "$DIR/does-not-exist.ini: cannot read: No such file or directory" "$DIR/err"; then
    echo "ok: unreadable"
else
    fail "unreadable: exit status $RC or message wrong"
    show
fi

if [ "$FAILS" != 0 ]; then
    echo "check_configs: $FAILS failure(s)" >&2
    exit 1
fi
echo "check_configs: all passed"
