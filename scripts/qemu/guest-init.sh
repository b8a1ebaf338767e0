#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: MIT
#
# guest-init.sh - /init of the QEMU test guest (busybox-static): loads the
# vfio modules, binds the virtio-net device (1af4:1041) to vfio-pci with
# scripts/vfio-bind.sh, runs vqbench with the arguments in /vqb/args (one
# per line) and reports through the serial console:
#   VQB-DEVICE <bdf>, VQB-CSV-BEGIN ... VQB-CSV-END, VQB-DMAR <line>...,
#   VQB-EXIT <vqbench exit code>
# then leaves QEMU through isa-debug-exit (port 0xf4): QEMU's status is
# 2 * code + 1 (code 0 -> 1, 1 -> 3, ...).
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /tmp /run /var/run
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

leave() { # code
	echo "VQB-EXIT $1"
	# shellcheck disable=SC2059 # the octal escape is the byte to write
	printf "$(printf '\\%03o' "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	sleep 5
	poweroff -f
}

for m in irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci; do
	if ! insmod /lib/modules/$m.ko; then
		echo "VQB-ERROR insmod $m failed"
		leave 125
	fi
done
bdf=""
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1041 ]; then
		bdf=$(basename "$d")
	fi
done
[ -n "$bdf" ] || { echo "VQB-ERROR no virtio-net device 1af4:1041"; leave 125; }
echo "VQB-DEVICE $bdf"
/vqb/vfio-bind.sh bind "$bdf" || { echo "VQB-ERROR vfio-bind.sh failed"; leave 125; }

set --
while IFS= read -r a; do
	# @BDF@ stands for the device's address, found above
	[ "$a" = "@BDF@" ] && a=$bdf
	case "$a" in *@BDF@*) a="${a%%@BDF@*}$bdf${a#*@BDF@}" ;; esac
	set -- "$@" "$a"
done < /vqb/args
cd /tmp || leave 125
echo "VQB-RUN vqbench $*"
/vqb/vqbench "$@" --csv /tmp/out.csv > /tmp/stdout 2>&1
rc=$?
cat /tmp/stdout
echo "VQB-CSV-BEGIN"
[ -f /tmp/out.csv ] && cat /tmp/out.csv
echo "VQB-CSV-END"
# IOMMU faults (a DMA through an IOVA that is not mapped)
dmesg | grep -i -e 'DMAR.*fault' -e 'DMA Read' -e 'DMA Write' | sed 's/^/VQB-DMAR /'
leave $rc
