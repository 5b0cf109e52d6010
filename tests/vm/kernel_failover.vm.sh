# kernel_failover (inside the VM): two kernel-engine gateways joined by two
# veth links (transport = sctp, plain SCTP); a bulk transfer runs over wan1 (priority 10) when wan1 is
# cut; the data must arrive intact over wan2 with no association loss and
# no connection reset.
. /vmlib.sh
BULK=${BULK:-25165824}

vm_load_sctp
vm_two_ns 2
sctp_fast() {
    # Failover within a few seconds (docs/FAILOVER.md's fast profile).
    printf '[sctp]\nheartbeat_interval_ms = 500\nrto_initial_ms = 300\nrto_min_ms = 100\n'
    printf 'rto_max_ms = 1000\npath_max_retrans = 3\npf_threshold = 1\n'
    printf 'assoc_max_retrans = 30\nfailback_hold_ms = 2000\n'
}
{ sctp_fast; printf '[forward.out]\nlisten = 127.0.0.1:8080\ntarget = 127.0.0.1:9000\n'; } |
    VM_TRANSPORT=sctp vm_conf /tmp/a.ini connect kernel "$WAN_A" "$WAN_B" "$WAN2_A" "$WAN2_B"
sctp_fast | VM_TRANSPORT=sctp vm_conf /tmp/b.ini accept kernel "$WAN_B" "$WAN_A" "$WAN2_B" "$WAN2_A"
"$IP" netns exec b sgxfer server 127.0.0.1 9000 "$BULK" 2 >/tmp/srv.out 2>&1 &
vm_gw B b /tmp/b.ini
vm_gw A a /tmp/a.ini
vm_wait_log /tmp/gw-A.log 'association up' 20 || vm_fail "association did not come up"
vm_wait_log /tmp/gw-A.log 'engine kernel' 1 || vm_fail "gateway A is not on the kernel engine"

# Both paths confirmed by heartbeats before the cut.
sleep 2
"$IP" netns exec a sgxfer client 127.0.0.1 8080 "$BULK" 1 >/tmp/cli.out 2>&1 &
CLI=$!
# Cut when a quarter of the data has crossed wan1.
want=$((BULK / 4))
i=0
while :; do
    rx=$(cat /sys/class/net/wan1/statistics/rx_bytes 2>/dev/null ||
        ip netns exec b cat /sys/class/net/wan1/statistics/rx_bytes)
    [ "$rx" -gt "$want" ] && break
    i=$((i + 1))
    [ $i -gt 600 ] && vm_fail "wan1 carried only $rx bytes in 60 s"
    sleep 0.1
done
ip -n a link set wan1 down
vlog "wan1 cut after $rx bytes on it"
wait $CLI || vm_fail "client failed after the cut: $(cat /tmp/cli.out)"
vm_expect_recv /tmp/srv.out 1 "$BULK" "$(vm_sha "$BULK" 1)"
vm_expect_recv /tmp/cli.out 1 "$BULK" "$(vm_sha "$BULK" 2)"
grep -q 'association down:' /tmp/gw-A.log /tmp/gw-B.log && vm_fail "the association went down"
grep -E 'path|primary' /tmp/gw-A.log | grep -v debug | tail -n 5
grep -q 'p2' /tmp/gw-A.log || vm_fail "gateway A never logged a move to path p2"
vlog "$BULK bytes each way intact across the cut of wan1"
vm_stop_gateways
exit 0
