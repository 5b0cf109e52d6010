#!/bin/busybox sh
# /init of the test VM's initramfs: mount the basics, run /scenario.sh,
# print its exit status as "VM-EXIT N" (the host reads the serial console),
# power off. Nothing here stays: the root file system is the initramfs.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/bin
mkdir -p /proc /sys /dev /tmp /run /var/run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
/usr/local/bin/ip link set lo up
cd /tmp
rc=0
sh /scenario.sh || rc=$?
echo "VM-EXIT $rc"
poweroff -f
