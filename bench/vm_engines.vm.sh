# vm_engines (inside the VM): the same bulk transfer through a gateway pair
# on the user-space engine, then on the kernel engine, in one boot; prints
# one "BENCH engine seconds MB/s" line each.
. /vmlib.sh
BULK=${BULK:-33554432}

vm_load_sctp
vm_two_ns 1
"$IP" netns exec b sgxfer server 127.0.0.1 9000 "$BULK" 2 >/tmp/srv.out 2>&1 &
for engine in userspace kernel; do
    # The kernel engine as measured before transport existed: plain SCTP.
    transport=udp
    [ "$engine" = kernel ] && transport=sctp
    printf '[forward.out]\nlisten = 127.0.0.1:8080\ntarget = 127.0.0.1:9000\n' |
        VM_TRANSPORT=$transport vm_conf /tmp/a.ini connect "$engine" "$WAN_A" "$WAN_B"
    VM_TRANSPORT=$transport vm_conf /tmp/b.ini accept "$engine" "$WAN_B" "$WAN_A" </dev/null
    sed -i 's/^log_level = debug/log_level = info/' /tmp/a.ini /tmp/b.ini
    rm -f /tmp/gw-A.log /tmp/gw-B.log
    vm_gw B b /tmp/b.ini
    vm_gw A a /tmp/a.ini
    vm_wait_log /tmp/gw-A.log 'association up' 30 || vm_fail "$engine: no association"
    t0=$(cut -d' ' -f1 /proc/uptime)
    "$IP" netns exec a sgxfer client 127.0.0.1 8080 "$BULK" 1 >/tmp/cli.out ||
        vm_fail "$engine: transfer failed"
    t1=$(cut -d' ' -f1 /proc/uptime)
    vm_expect_recv /tmp/cli.out 1 "$BULK" "$(vm_sha "$BULK" 2)"
    awk -v e="$engine" -v a="$t0" -v b="$t1" -v n="$BULK" \
        'BEGIN {printf "BENCH %s %.2f %.2f\n", e, b - a, 2 * n / (b - a) / 1e6}'
    vm_stop_gateways
    : >/tmp/srv.out
done
exit 0
