#!/usr/bin/env bash
# Build the Debian package of this source tree with the standard tools:
#   deploy/build-deb.sh [OUTDIR]      (default OUTDIR: build-deb)
# Copies the tracked sources (git ls-files, or the tree without build
# directories) to a temporary sctpgw-VERSION/, puts deploy/debian/ at its
# top, and runs dpkg-buildpackage -b there. The build dependencies are in
# deploy/debian/control (contrib/deps.sh --test installs them). Leaves
# OUTDIR/sctpgw_VERSION_ARCH.deb and prints its path.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build-deb}" && cd "${1:-$src/build-deb}" && pwd)
version=$(dpkg-parsechangelog -l "$src/deploy/debian/changelog" -S Version)

tmp=$(mktemp -d /tmp/sctpgw-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/sctpgw-$version
mkdir "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files plus new ones not ignored: what a commit would hold.
    # (A file deleted but not yet committed is left out.)
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -c) | tar -C "$tree" -x
else
    tar -C "$src" --exclude='./build*' --exclude=./.cache -c . | tar -C "$tree" -x
fi
rm -rf "$tree/debian"
cp -a "$src/deploy/debian" "$tree/debian"

(cd "$tree" && dpkg-buildpackage -us -uc -b --no-sign) >"$tmp/build.log" 2>&1 || {
    tail -40 "$tmp/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (log above)" >&2
    exit 1
}
deb=$(ls "$tmp"/sctpgw_"$version"_*.deb)
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
