#!/bin/sh
# sctpgw container health check (HEALTHCHECK, Kubernetes exec probes):
# healthy when every [forward.*] listen port of the config has a listening
# TCP socket in this network namespace. It reads /proc/net/tcp{,6} and
# connects to nothing, so a probe opens no connection through the pair.
# With no forward (an exit-only gateway), the gateway process must exist.
# It works with any config; with [gateway] admin set, `sctpgwctl alive` and
# `sctpgwctl ready` (the admin endpoint's /healthz and /readyz) say more.
#   healthcheck [CONFIG]   (default /etc/sctpgw/sctpgw.ini)
conf=${1:-/etc/sctpgw/sctpgw.ini}
[ -r "$conf" ] || { echo "unhealthy: cannot read $conf"; exit 1; }
ports=$(sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*\([^;#[:space:]]*\).*/\1/p' "$conf" |
        sed 's/.*://')
if [ -z "$ports" ]; then
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = sctpgw ] && { echo "healthy: sctpgw runs"; exit 0; }
    done
    echo "unhealthy: no sctpgw process"
    exit 1
fi
for p in $ports; do
    hex=$(printf '%04X' "$p")
    # local_address is field 2 (ADDR:PORT in hex), st is field 4 (0A = LISTEN)
    if ! awk -v port="$hex" '$4 == "0A" && substr($2, length($2) - 3) == port { found = 1 }
                             END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
        echo "unhealthy: nothing listens on TCP port $p"
        exit 1
    fi
done
echo "healthy: listening on $(echo $ports | tr ' ' ',')"
