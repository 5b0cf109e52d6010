#!/usr/bin/env bash
# The Debian package under a real systemd: build the .deb
# (deploy/build-deb.sh), lintian must find no error; install it with apt
# (which resolves its Depends) into a Debian rootfs, boot that with systemd
# in systemd-nspawn, start sctpgw@site-b and sctpgw@site-a (conf/site-*.ini,
# their path addresses on a dummy interface of the container's private
# network), and check: Type=notify readiness and STATUS= with the
# association and primary path, the watchdog pings, the gateway runs as an
# unprivileged user inside the unit's sandbox, a TCP session through the
# pair (both directions, bytes checked), systemctl reload applies the file
# in the same process, systemctl stop drains and exits 0
# without a restart, and a broken config is refused by ExecStartPre.
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
. "$(dirname "$0")/lib.sh"
deploy_setup systemd debootstrap systemd-nspawn nsenter dpkg-buildpackage lintian python3 flock
XFER=$SRCDIR/tests/tools/xfer.py

dump_logs() {
    [ -n "${INIT:-}" ] || return 0
    echo "--- journal of the sctpgw units"
    cex journalctl --no-pager -o short-precise -u 'sctpgw@*' | tail -60 || true
}

build_deb
lintian --fail-on error "$DEB" >"$WORK/lintian.txt" 2>&1 || {
    cat "$WORK/lintian.txt" >&2
    dfail "lintian reports errors on $(basename "$DEB")"
}
dlog "lintian: no errors ($(grep -c '^W:' "$WORK/lintian.txt" || true) warnings)"

lower=$(systemd_rootfs)
overlay "$lower"
root=$ROOT
mkdir -p "$root/var/cache/sctpgw-test"
cp "$DEB" "$root/var/cache/sctpgw-test/"
in_root "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends /var/cache/sctpgw-test/$(basename "$DEB")" \
    >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log" >&2; dfail "apt-get install of the package failed"; }
for f in /usr/bin/sctpgw /lib/systemd/system/sctpgw.service /lib/systemd/system/sctpgw@.service \
    /usr/share/doc/sctpgw/examples/site-a.ini /usr/share/man/man8/sctpgw.8.gz; do
    [ -e "$root$f" ] || dfail "the package did not install $f"
done
[ ! -e "$root/etc/sctpgw/sctpgw.ini" ] || dfail "the package wrote /etc/sctpgw/sctpgw.ini"
[ ! -e "$root/etc/sctpgw/psk" ] || dfail "the package made or shipped /etc/sctpgw/psk"
zgrep -q 'sctpgw --gen-psk > /etc/sctpgw/psk' "$root/usr/share/doc/sctpgw/README.Debian"* ||
    dfail "README.Debian does not say how to make /etc/sctpgw/psk"
grep -q '^ExecStart=/usr/bin/sctpgw -c /etc/sctpgw/%i.ini$' "$root/lib/systemd/system/sctpgw@.service" ||
    dfail "sctpgw@.service: ExecStart does not match the package's prefix"

# The two sites are two network namespaces joined by two veth links, as
# two hosts with two WAN links: site A is the container's own network,
# site B a namespace of this test that sctpgw@site-b joins through a
# drop-in (NetworkNamespacePath=). conf/site-*.ini are used unchanged.
mkdir -p "$root/etc/sctpgw"
install -m 0644 "$SRCDIR/conf/site-a.ini" "$SRCDIR/conf/site-b.ini" "$root/etc/sctpgw/"
# A broken file: an unknown key in [association].
sed 's/^role = accept/role = accept\nrolle = accept/' "$SRCDIR/conf/site-b.ini" >"$root/etc/sctpgw/broken.ini"
chmod 0644 "$root/etc/sctpgw/broken.ini"
# The pre-shared key both sites share, made by the packaged binary, root's
# alone (0600) as README says: the dynamic service user cannot read it and
# gets it from LoadCredential= (the unit) through $CREDENTIALS_DIRECTORY.
(umask 077 && chroot "$root" /usr/bin/sctpgw --gen-psk >"$root/etc/sctpgw/psk") ||
    dfail "sctpgw --gen-psk failed"
[ "$(stat -c '%a %u' "$root/etc/sctpgw/psk")" = "600 0" ] || dfail "/etc/sctpgw/psk is not root's 0600"
nsb=sgdep$$b
netns_new "$nsb"
mkdir -p "$root/etc/systemd/system/sctpgw@site-b.service.d" "$root/var/lib/sctpgw-test"
touch "$root/var/lib/sctpgw-test/netns-b"
cat >"$root/etc/systemd/system/sctpgw@site-b.service.d/netns.conf" <<'INI'
[Service]
NetworkNamespacePath=/var/lib/sctpgw-test/netns-b
INI

# A short watchdog for site A: missing pings would get it killed in 2 s.
mkdir -p "$root/etc/systemd/system/sctpgw@site-a.service.d"
printf '[Service]\nWatchdogSec=2\n' >"$root/etc/systemd/system/sctpgw@site-a.service.d/watchdog.conf"

boot "$root" --bind-ro="/run/netns/$nsb:/var/lib/sctpgw-test/netns-b"
# The addresses must exist before the engines start (they read them once).
site_links "$INIT" "$nsb"

cex systemctl start sctpgw@site-b.service sctpgw@site-a.service ||
    dfail "systemctl start sctpgw@site-b sctpgw@site-a failed"
prop() { cex systemctl show -P "$2" "$1"; }
for u in site-a site-b; do
    [ "$(prop "sctpgw@$u" ActiveState)" = active ] || dfail "sctpgw@$u is not active"
done
dlog "both units active (Type=notify: READY=1 came)"

status=""
for _ in $(seq 100); do
    status=$(prop sctpgw@site-a StatusText)
    [ "$status" = "association ready with site-b, primary path wan1" ] && break
    sleep 0.1
done
[ "$status" = "association ready with site-b, primary path wan1" ] ||
    dfail "sctpgw@site-a StatusText is '$status', expected the ready association on wan1"
dlog "sctpgw@site-a status: $status"

# The sandbox's score (docs/DEPLOY.md reports it; lower is tighter).
score=$(cex systemd-analyze security --no-pager sctpgw@site-a.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for sctpgw@site-a.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || dfail "systemd-analyze security printed no score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || dfail "systemd-analyze security: exposure $score > 2.0"
dlog "systemd-analyze security sctpgw@site-a.service: exposure $score"

pid=$(prop sctpgw@site-a MainPID)
uid=$(cex awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ -n "$uid" ] && [ "$uid" != 0 ] || dfail "the gateway runs as uid '$uid', expected a dynamic user"
caps=$(cex awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
[ "$caps" = 0000000000000400 ] || dfail "effective capabilities $caps, expected CAP_NET_BIND_SERVICE only"
dlog "gateway pid $pid runs as uid $uid with CapEff $caps"
# The key came through the credential: the service user cannot open
# /etc/sctpgw/psk itself, and the association is up under the key's id.
denied=$(cex setpriv --reuid="$uid" --regid="$uid" --clear-groups cat /etc/sctpgw/psk 2>&1 >/dev/null || true)
case $denied in
*"Permission denied"*) ;;
*) dfail "uid $uid reading /etc/sctpgw/psk: '$denied', expected Permission denied" ;;
esac
keyid=$(cex journalctl --no-pager -o cat -u sctpgw@site-a | sed -n 's/^.*association up: .*key id \([^ ,]*\).*$/\1/p' | tail -1)
[ -n "$keyid" ] || dfail "sctpgw@site-a's journal has no 'association up' with a key id"
dlog "the association authenticated with the credential's key (key id $keyid)"

# A server at site B (127.0.0.1:80, the forward's target) and a client at
# site A through 127.0.0.1:8080: 16 MiB each way on 4 connections.
ip netns exec "$nsb" python3 "$XFER" server --listen 127.0.0.1:80 >"$WORK/server.log" 2>&1 &
srv=$!
at_exit "kill $srv"
wait_tcp "$nsb" 80
cnet timeout 60 python3 "$XFER" client --connect 127.0.0.1:8080 --up 4M --down 4M --count 4 \
    --parallel 4 >"$WORK/client.log" 2>&1 || dfail "xfer through the pair: $(tail -3 "$WORK/client.log")"
grep -q '^ok=4 failed=0 reset=0 ' "$WORK/client.log" || dfail "xfer: $(tail -1 "$WORK/client.log")"
dlog "TCP through sctpgw@site-a -> sctpgw@site-b: $(tail -1 "$WORK/client.log")"

# systemctl reload: ExecReload= checks the file, then SIGHUP; the same
# process applies it (no restart) and the pair still carries a session.
pid=$(prop sctpgw@site-a MainPID)
cex systemctl reload sctpgw@site-a.service || dfail "systemctl reload sctpgw@site-a failed"
for _ in $(seq 50); do
    cex journalctl --no-pager -o cat -u sctpgw@site-a | grep -q 'reload: .* applied' && break
    sleep 0.1
done
cex journalctl --no-pager -o cat -u sctpgw@site-a | grep -q 'reload: .* applied' ||
    dfail "sctpgw@site-a did not log an applied reload after systemctl reload"
[ "$(prop sctpgw@site-a MainPID)" = "$pid" ] && [ "$(prop sctpgw@site-a NRestarts)" = 0 ] ||
    dfail "systemctl reload restarted sctpgw@site-a"
cnet timeout 60 python3 "$XFER" client --connect 127.0.0.1:8080 --up 1M --down 1M \
    >"$WORK/client2.log" 2>&1 || dfail "xfer after the reload: $(tail -3 "$WORK/client2.log")"
dlog "systemctl reload: applied by the same process ($pid), a session still goes through"

t1=$(prop sctpgw@site-a WatchdogTimestampMonotonic)
sleep 2.5
t2=$(prop sctpgw@site-a WatchdogTimestampMonotonic)
[ "$t2" != "$t1" ] || dfail "no WATCHDOG=1 from sctpgw@site-a in 2.5 s (WatchdogSec=2)"
[ "$(prop sctpgw@site-a NRestarts)" = 0 ] && [ "$(prop sctpgw@site-a ActiveState)" = active ] ||
    dfail "sctpgw@site-a was restarted (watchdog?)"
dlog "watchdog pings arrive (WatchdogSec=2; the last ping moved by $(((t2 - t1) / 1000)) ms in 2.5 s)"

cex systemctl stop sctpgw@site-a.service sctpgw@site-b.service
for u in site-a site-b; do
    st=$(prop "sctpgw@$u" ExecMainStatus)
    res=$(prop "sctpgw@$u" Result)
    n=$(prop "sctpgw@$u" NRestarts)
    [ "$st" = 0 ] && [ "$res" = success ] || dfail "sctpgw@$u stopped with status $st, result $res"
    [ "$n" = 0 ] || dfail "sctpgw@$u restarted $n times"
done
sleep 3 # RestartSec=2: a restart would have begun by now
for u in site-a site-b; do
    [ "$(prop "sctpgw@$u" ActiveState)" = inactive ] || dfail "sctpgw@$u came back after stop"
done
cex journalctl --no-pager -u sctpgw@site-a | grep 'draining' >/dev/null ||
    dfail "sctpgw@site-a did not log its drain on stop"
dlog "systemctl stop: both exit 0, result success, no restart"

if cex systemctl start sctpgw@broken.service 2>/dev/null; then
    dfail "sctpgw@broken started with an unknown key in its config"
fi
cex journalctl --no-pager -u sctpgw@broken | grep 'broken.ini:[0-9]*: \[association\] rolle' >/dev/null ||
    dfail "the journal does not name broken.ini's line and key"
[ "$(prop sctpgw@broken ExecMainStartTimestampMonotonic)" = 0 ] ||
    dfail "sctpgw@broken: the gateway itself was started despite the failed check"
dlog "broken config refused by ExecStartPre: $(cex journalctl --no-pager -o cat -u sctpgw@broken | grep -m1 'broken.ini:')"
# Restart=on-failure tries again every 2 s; StartLimitBurst ends that: the
# unit must settle in 'failed' after at most 5 starts, and stay there.
for _ in $(seq 200); do
    [ "$(prop sctpgw@broken ActiveState)" = failed ] && break
    sleep 0.1
done
[ "$(prop sctpgw@broken ActiveState)" = failed ] ||
    dfail "sctpgw@broken is not failed 20 s after start ($(prop sctpgw@broken ActiveState))"
n=$(prop sctpgw@broken NRestarts)
[ "$n" -le 5 ] || dfail "sctpgw@broken restarted $n times (StartLimitBurst=5)"
sleep 3
[ "$(prop sctpgw@broken ActiveState)" = failed ] && [ "$(prop sctpgw@broken NRestarts)" = "$n" ] ||
    dfail "sctpgw@broken started again after its start limit"
dlog "sctpgw@broken: $n restarts, then failed ($(prop sctpgw@broken Result)), no loop"
dlog "PASS"
