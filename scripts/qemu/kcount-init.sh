#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: MIT
#
# kcount-init.sh - /init of the kernel cross-check guest (busybox-static,
# scripts/qemu/run-kcount.sh builds it). Debian's 6.1 kernel drives two
# virtio-net PCI devices with its own virtio_net driver; pktgen sends from
# the first (TX, MAC 52:54:00:00:00:01), the second (RX, ...:02) receives
# through a QEMU hub that no frame leaves. tracefs kprobe events count the
# DMA API calls the driver makes (kprobe_profile hit counts; hist triggers
# split them by direction, IOVA domain or sg count).
#
# /kc/phases holds one phase a line: "NAME DIR FRAGS PACKETS PKT_SIZE"
# (DIR tx: frames to a MAC nobody has, so only the TX device works; rx:
# frames to the RX device's MAC; tcp: PACKETS KiB over TCP from the TX
# device, 10.0.2.15, to QEMU's guestfwd sink 10.0.2.100:9 with busybox nc).
# Output on the serial console:
#   KC-KERNEL <uname -r>, KC-CMDLINE <cmdline>, KC-FEATURES <if> <bits>,
#   KC-PROBE <event> ok|absent, KC-KMALLOC <hist line> (virtio_ring's
#   allocations while the drivers probed), per phase a dump before and
#   after: KC-DUMP <phase> begin|end, KC-NET <if> <tx_packets> <rx_packets>,
#   KC-PROF <kprobe_profile line>, KC-HIST <event> <hist line>,
#   KC-DUMP-END; KC-ERROR <why>; KC-EXIT <code> (isa-debug-exit: 2*code+1).
/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing
T=/sys/kernel/tracing

leave() { # code
	echo "KC-EXIT $1"
	# shellcheck disable=SC2059 # the octal escape is the byte to write
	printf "$(printf '\\%03o' "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	sleep 5
	poweroff -f
}
fail() { echo "KC-ERROR $*"; leave 1; }

echo "KC-KERNEL $(uname -r)"
echo "KC-CMDLINE $(cat /proc/cmdline)"
# what the kernel says it set up: whether an IOMMU is on, its default
# domain and invalidation policy (printed even without an IOMMU), swiotlb
dmesg | grep -E 'DMAR: IOMMU enabled|iommu: (Default domain type|DMA domain TLB invalidation policy)|software IO TLB: mapped' |
	sed -e 's/^\[[^]]*\] */KC-DMESG /' -e 's/ \[mem [^]]*\]//'

[ -d $T/events ] || fail "no tracefs at $T"

# virtio_ring first: the probes below name its symbols
insmod /lib/modules/virtio_ring.ko || fail "insmod virtio_ring failed"

# Probes (name, function, fetch args, hist keys+vals or "" for a plain
# hit count). Registers: x86-64 arguments 1..6 are di si dx cx r8 r9.
add_probe() { # event function args hist
	if echo "p:kc/$1 $2 $3" >> $T/kprobe_events 2>/dev/null; then
		echo "KC-PROBE $1 $2 ok"
		[ -n "$4" ] && echo "hist:$4" > "$T/events/kc/$1/trigger"
		echo 1 > "$T/events/kc/$1/enable"
	else
		echo "KC-PROBE $1 $2 absent"
	fi
}
add_probe map dma_map_page_attrs "size=%cx:u64 dir=%r8:s32" "keys=dir:vals=hitcount,size"
add_probe unmap dma_unmap_page_attrs "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"
add_probe swiotlb_map swiotlb_tbl_map_single "size=%dx:u64 dir=%r9:s32" "keys=dir:vals=hitcount,size"
add_probe swiotlb_unmap swiotlb_tbl_unmap_single "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"
add_probe swiotlb_bounce swiotlb_bounce "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"
add_probe iommu_map iommu_dma_map_page "size=%cx:u64 dir=%r8:s32" "keys=dir:vals=hitcount,size"
add_probe iommu_unmap iommu_dma_unmap_page "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"
add_probe iova_alloc alloc_iova_fast "iovad=%di:x64" "keys=iovad:vals=hitcount"
add_probe iova_free free_iova_fast "iovad=%di:x64" "keys=iovad:vals=hitcount"
add_probe tlb_sync intel_iommu_tlb_sync "domain=%di:x64" "keys=domain:vals=hitcount"
add_probe flush_all intel_flush_iotlb_all "domain=%di:x64" "keys=domain:vals=hitcount"
add_probe flush_psi iommu_flush_iotlb_psi "domain=%si:x64 map=%r9:s32" "keys=domain,map:vals=hitcount"
add_probe fq_timeout fq_flush_timeout "" ""
add_probe add_out virtqueue_add_outbuf "num=%dx:u32" "keys=num:vals=hitcount"
add_probe add_in virtqueue_add_inbuf "num=%dx:u32" "keys=num:vals=hitcount"
add_probe add_in_ctx virtqueue_add_inbuf_ctx "num=%dx:u32" "keys=num:vals=hitcount"
add_probe add_sgs virtqueue_add_sgs "out=%dx:u32 in=%cx:u32" "keys=out,in:vals=hitcount"
add_probe sync_cpu dma_sync_single_for_cpu "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"
add_probe sync_dev dma_sync_single_for_device "size=%dx:u64 dir=%cx:s32" "keys=dir:vals=hitcount,size"

# virtio_ring's own allocations while the devices probe (desc_state,
# desc_extra, ring memory comes from the page allocator, not kmalloc)
echo 'hist:keys=call_site.sym,bytes_req:vals=hitcount,bytes_alloc' > $T/events/kmem/kmalloc/trigger
for m in virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
	insmod /lib/modules/$m.ko || fail "insmod $m failed"
done
echo 'hist:keys=call_site.sym,bytes_req:vals=hitcount,bytes_alloc:pause' >> $T/events/kmem/kmalloc/trigger
grep -E 'vring|virtqueue|virtio' $T/events/kmem/kmalloc/hist | sed 's/^/KC-KMALLOC /'

# no IPv6: the interfaces send nothing of their own
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
txif="" rxif=""
for d in /sys/class/net/*; do
	case "$(cat "$d/address")" in
	52:54:00:00:00:01) txif=$(basename "$d") ;;
	52:54:00:00:00:02) rxif=$(basename "$d") ;;
	esac
done
{ [ -n "$txif" ] && [ -n "$rxif" ]; } || fail "no virtio-net interfaces with MACs 52:54:00:00:00:01/02"
for i in $txif $rxif; do
	echo 1 > "/proc/sys/net/ipv6/conf/$i/disable_ipv6" 2>/dev/null
	ip link set "$i" up || fail "ip link set $i up failed"
	echo "KC-FEATURES $i $(cat "/sys/class/net/$i/device/features")"
done
sleep 1
insmod /lib/modules/pktgen.ko || fail "insmod pktgen failed"
PG=/proc/net/pktgen
pg() { echo "$2" > "$PG/$1" || fail "pktgen: '$2' > $1 refused"; }
pg kpktgend_0 "rem_device_all"
pg kpktgend_0 "add_device $txif"

dump() { # phase begin|end
	echo "KC-DUMP $1 $2"
	for i in $txif $rxif; do
		echo "KC-NET $i $(cat "/sys/class/net/$i/statistics/tx_packets") $(cat "/sys/class/net/$i/statistics/rx_packets")"
	done
	sed 's/^/KC-PROF /' $T/kprobe_profile
	for h in "$T"/events/kc/*/hist; do
		e=$(basename "$(dirname "$h")")
		grep '^{' "$h" | sed "s/^/KC-HIST $e /"
	done
	echo "KC-DUMP-END"
}
hits() { # event: kprobe_profile hit count
	awk -v e="$1" '$1 == e || $1 == "kc/" e {print $2}' $T/kprobe_profile
}
settle() { # until the TX device has unmapped all it mapped (lazy reclaim)
	n=0
	while [ $n -lt 20 ]; do
		sleep 0.5
		m=$(sed -n 's/^{ dir: *1 } hitcount: *\([0-9]*\).*/\1/p' $T/events/kc/map/hist 2>/dev/null)
		u=$(sed -n 's/^{ dir: *1 } hitcount: *\([0-9]*\).*/\1/p' $T/events/kc/unmap/hist 2>/dev/null)
		[ "${m:-0}" = "${u:-0}" ] && [ $n -ge 1 ] && return 0
		n=$((n + 1))
	done
	echo "KC-NOTICE TX maps ${m:-0} != unmaps ${u:-0} after 10 s"
}

settle
while read -r name dir frags packets size; do
	[ -n "$name" ] || continue
	case "$dir" in
	tx) dmac=52:54:00:00:00:99 ;;
	rx) dmac=52:54:00:00:00:02 ;;
	tcp)
		if ! ip addr show dev "$txif" | grep -q 10.0.2.15; then
			ip addr add 10.0.2.15/24 dev "$txif" || fail "ip addr add 10.0.2.15/24 dev $txif failed"
		fi
		dump "$name" begin
		dd if=/dev/zero bs=1024 count="$packets" 2>/dev/null | nc 10.0.2.100 9
		echo "KC-TCP $name nc exit $?"
		settle
		dump "$name" end
		continue ;;
	*) fail "phase $name: direction '$dir' (allowed: tx, rx, tcp)" ;;
	esac
	pg "$txif" "count $packets"
	pg "$txif" "pkt_size $size"
	pg "$txif" "frags $frags"
	pg "$txif" "delay 0"
	pg "$txif" "clone_skb 0"
	pg "$txif" "burst 1"
	pg "$txif" "dst 10.99.0.2"
	pg "$txif" "src_min 10.99.0.1"
	pg "$txif" "src_max 10.99.0.1"
	pg "$txif" "dst_mac $dmac"
	dump "$name" begin
	echo "start" > $PG/pgctrl
	settle
	dump "$name" end
	echo "KC-PKTGEN $name $(grep -E -o 'sofar: [0-9]+' "$PG/$txif" | head -n 1) $(grep -E -o 'errors: [0-9]+' "$PG/$txif" | head -n 1)"
done < /kc/phases
echo "KC-FQ-TIMEOUT $(hits fq_timeout)"
leave 0
