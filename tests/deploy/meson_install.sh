#!/usr/bin/env bash
# meson install of this build (into a DESTDIR): the binary under the
# prefix, both units in systemd's unit directory (pkg-config systemd, else
# /lib/systemd/system) with ExecStart and the config path following the
# prefix, the example configs and docs under share/doc/sctpgw, the man
# pages, and nothing at all under sysconfdir: an operator's
# /etc/sctpgw/*.ini is never overwritten by a (re)install.
set -euo pipefail
SRCDIR=${SCTPGW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SCTPGW_BUILD:-$SRCDIR/build}
fail() { echo "FAIL: $*" >&2; exit 1; }
dest=$(mktemp -d /tmp/sctpgw-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

opt() { meson introspect --buildoptions "$BUILD" |
        python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='$1'][0])"; }
prefix=$(opt prefix)
bindir=$(opt bindir)
sysconfdir=$(opt sysconfdir)
unitdir=$(opt systemdsystemunitdir)
if [ -z "$unitdir" ]; then
    unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
fi
case "$sysconfdir" in /*) ;; *) sysconfdir=$prefix/$sysconfdir ;; esac

# An operator's file that a reinstall must leave alone.
mkdir -p "$dest$sysconfdir/sctpgw"
echo "; the operator's own" >"$dest$sysconfdir/sctpgw/sctpgw.ini"
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$dest" >/dev/null ||
    fail "meson install failed"
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$dest" >/dev/null ||
    fail "meson install (again) failed"

[ -x "$dest$prefix/$bindir/sctpgw" ] || fail "no $prefix/$bindir/sctpgw"
for u in sctpgw.service sctpgw@.service; do
    [ -f "$dest$unitdir/$u" ] || fail "no $unitdir/$u"
done
grep -qx "ExecStart=$prefix/$bindir/sctpgw -c $sysconfdir/sctpgw/%i.ini" "$dest$unitdir/sctpgw@.service" ||
    fail "sctpgw@.service: $(grep ^ExecStart= "$dest$unitdir/sctpgw@.service") does not follow prefix $prefix"
grep -qx "ExecStart=$prefix/$bindir/sctpgw -c $sysconfdir/sctpgw/sctpgw.ini" "$dest$unitdir/sctpgw.service" ||
    fail "sctpgw.service: $(grep ^ExecStart= "$dest$unitdir/sctpgw.service") does not follow prefix $prefix"
grep -q 'RestrictAddressFamilies=.*AF_NETLINK' "$dest$unitdir/sctpgw@.service" ||
    fail "sctpgw@.service leaves out AF_NETLINK, which the user-space engine needs"
for f in examples/sctpgw.ini examples/site-a.ini examples/site-b.ini DEPLOY.md; do
    [ -f "$dest$prefix/share/doc/sctpgw/$f" ] || fail "no $prefix/share/doc/sctpgw/$f"
done
[ -f "$dest$prefix/share/man/man8/sctpgw.8" ] || fail "no sctpgw.8"
[ "$(cat "$dest$sysconfdir/sctpgw/sctpgw.ini")" = "; the operator's own" ] ||
    fail "meson install overwrote $sysconfdir/sctpgw/sctpgw.ini"
[ "$(find "$dest$sysconfdir" -type f | wc -l)" = 1 ] ||
    fail "meson install put files under $sysconfdir: $(find "$dest$sysconfdir" -type f)"
echo "PASS: installed under $prefix, units in $unitdir, nothing in $sysconfdir"
