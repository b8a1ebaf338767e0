#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-kcount.sh - boot Debian 12's 6.1 kernel in QEMU (TCG, q35) with two
# virtio-net PCI devices driven by the kernel's own virtio_net driver, run
# pktgen phases and count the driver's DMA API calls with tracefs kprobes
# (scripts/qemu/kcount-init.sh is the guest's /init).
#
# Usage: scripts/qemu/run-kcount.sh --cache DIR --setup SETUP --log FILE
#            [--timeout S] PHASE...
#   --cache   where the Debian guest kernel is kept (guest-kernel.sh)
#   --setup   the DMA setup (one row group of the cross-check):
#               noap     virtio-net without VIRTIO_F_ACCESS_PLATFORM
#               direct   ACCESS_PLATFORM, no IOMMU (dma-direct)
#               swiotlb  direct + swiotlb=force
#               strict   ACCESS_PLATFORM behind intel-iommu (caching-mode=off),
#                        iommu.strict=1
#               lazy     the same, iommu.strict=0 (flush queue)
#               pt       the same, iommu=pt (identity domain)
#   --log     the guest's serial console (what scripts/kernel_counts.py reads)
#   PHASE     NAME:DIR:FRAGS:PACKETS:PKT_SIZE, e.g. tx4:tx:3:4096:1024;
#             DIR tcp: a TCP transfer of PACKETS KiB from the TX device
#             (10.0.2.15) to 10.0.2.100:9, QEMU's guestfwd sink (FRAGS 0)
# Network: both devices and a user-mode (slirp, restrict=on) backend sit on
# one QEMU hub; the slirp port consumes every frame, so TX never stalls, and
# restrict=on keeps every frame inside QEMU. The TCP sink is a guestfwd
# command (dd of=/dev/null) that QEMU runs: no socket on this machine.
# Exit: 0 ok; 1 the guest reported an error; 2 bad usage; 77 QEMU,
# busybox-static, cpio or the kernel missing; 124 timeout; 125 the guest
# ended without an exit code.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="" setup="" log="" tmo=600
usage() { sed -n '9,25p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift ;;
	--setup) setup=$2; shift ;;
	--log) log=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	-h|--help) sed -n '4,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--*) echo "run-kcount.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
	shift
done
{ [ -n "$cache" ] && [ -n "$setup" ] && [ -n "$log" ] && [ $# -gt 0 ]; } || usage

ap=on iommu="" append=""
case "$setup" in
noap) ap=off ;;
direct) ;;
swiotlb) append="swiotlb=force" ;;
strict) iommu=1 append="intel_iommu=on iommu.strict=1" ;;
lazy) iommu=1 append="intel_iommu=on iommu.strict=0" ;;
pt) iommu=1 append="intel_iommu=on iommu=pt" ;;
*) echo "run-kcount.sh: --setup '$setup' (allowed: noap, direct, swiotlb, strict, lazy, pt)" >&2; exit 2 ;;
esac
phases=()
for p in "$@"; do
	IFS=: read -r name dir frags packets size extra <<<"$p"
	if [ -n "${extra:-}" ] || ! [[ "$name" =~ ^[a-z0-9_]+$ ]] || ! [[ "$dir" =~ ^(tx|rx|tcp)$ ]] ||
		! [[ "$frags" =~ ^[0-9]+$ ]] || [ "$frags" -gt 17 ] || ! [[ "$packets" =~ ^[1-9][0-9]*$ ]] ||
		! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -lt 60 ] || [ "$size" -gt 9000 ]; then
		echo "run-kcount.sh: phase '$p' (allowed: NAME:tx|rx|tcp:FRAGS 0..17:PACKETS >0:PKT_SIZE 60..9000)" >&2
		exit 2
	fi
	phases+=("$name $dir $frags $packets $size")
done

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || { echo "run-kcount.sh: qemu-system-x86_64 not installed (scripts/install-deps.sh installs qemu-system-x86)" >&2; exit 77; }
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || { echo "run-kcount.sh: no static busybox (scripts/install-deps.sh installs busybox-static)" >&2; exit 77; }
command -v cpio >/dev/null || { echo "run-kcount.sh: cpio not installed (scripts/install-deps.sh)" >&2; exit 77; }
"$here/guest-kernel.sh" "$cache" >&2 || exit $?

work=$(mktemp -d "${TMPDIR:-/tmp}/vqb-kcount.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/lib/modules" "$root/kc"
cp "$busybox" "$root/bin/busybox"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net pktgen; do
	cp "$cache/kernel/modules/$m.ko" "$root/lib/modules/"
done
cp "$here/kcount-init.sh" "$root/init"
chmod +x "$root/init"
printf '%s\n' "${phases[@]}" > "$root/kc/phases"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz"

serial=$work/serial.log
# shellcheck disable=SC2054 # commas belong to QEMU's option syntax
dev_opts="disable-legacy=on,iommu_platform=$ap,romfile="
# shellcheck disable=SC2054
qargs=(-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1G -smp 1
	-display none -monitor none -serial "file:$serial" -no-reboot)
# shellcheck disable=SC2054
[ -n "$iommu" ] && qargs+=(-device intel-iommu,intremap=on,caching-mode=off)
# shellcheck disable=SC2054
# one hub (id 0): the TX device, the RX device and slirp (restrict=on)
qargs+=(-netdev hubport,id=p0,hubid=0 -netdev hubport,id=p1,hubid=0
	-netdev "user,id=u0,restrict=on,guestfwd=tcp:10.0.2.100:9-cmd:dd of=/dev/null status=none"
	-netdev hubport,id=p2,hubid=0,netdev=u0
	-device "virtio-net-pci,netdev=p0,mac=52:54:00:00:00:01,$dev_opts"
	-device "virtio-net-pci,netdev=p1,mac=52:54:00:00:00:02,$dev_opts"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-kernel "$cache/kernel/vmlinuz" -initrd "$work/initrd.gz"
	-append "console=ttyS0 panic=-1 quiet no_timer_check $append")
boot() {
	timeout "$tmo" "$qemu" "${qargs[@]}" </dev/null
}
set +e
boot
qrc=$?
if ! grep -q '^KC-PROBE' "$serial" && [ "$qrc" != 124 ]; then
	# the guest died before its init ran (a kernel panic on a loaded host)
	echo "run-kcount.sh: notice: setup $setup: the guest failed before its init ran (QEMU status $qrc); booting once more" >&2
	grep -a -m 3 -i panic "$serial" >&2
	boot
	qrc=$?
fi
set -e
tr -d '\r' < "$serial" > "$log"
code=$(sed -n 's/^KC-EXIT \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ "$qrc" = 124 ]; then
	echo "run-kcount.sh: setup $setup: the guest did not finish within ${tmo}s; serial console:" >&2
	tail -n 30 "$log" >&2
	exit 124
fi
if [ -z "$code" ]; then
	echo "run-kcount.sh: setup $setup: the guest ended (QEMU status $qrc) without an exit code; serial console:" >&2
	tail -n 30 "$log" >&2
	exit 125
fi
grep -a -E '^KC-(ERROR|NOTICE)' "$log" >&2 || true
exit "$code"
