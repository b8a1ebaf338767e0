#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-guest.sh - run vqbench inside a QEMU guest (TCG, q35, intel-iommu)
# against a real virtio-net PCI device through vfio-pci.
#
# Usage: scripts/qemu/run-guest.sh --cache DIR --vqbench BIN --out CSV
#            [--packed] [--log FILE] [--timeout S] -- VQBENCH-ARGS...
#   --cache    where the Debian guest kernel is kept (guest-kernel.sh)
#   --vqbench  the binary to run; it and its shared libraries (ldd) go into
#              the initramfs, so any build (release, ASan, TSan) runs as is
#   --packed   offer VIRTIO_F_RING_PACKED (virtio-net-pci packed=on)
#   --out      the run's CSV, copied back from the guest's serial console
#   @BDF@ in an argument stands for the device's PCI address in the guest.
# The guest (scripts/qemu/guest-init.sh) loads the vfio modules, binds the
# device with scripts/vfio-bind.sh and runs vqbench; user networking with
# restrict=on keeps every packet inside QEMU (it answers ARP for 10.0.2.2).
# Exit: vqbench's exit code; 77 QEMU, busybox-static or the kernel missing;
# 124 the guest timed out; 125 the guest failed before vqbench ran.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="" bin="" out="" packed="" log="" tmo=240
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift ;;
	--vqbench) bin=$2; shift ;;
	--out) out=$2; shift ;;
	--packed) packed=",packed=on" ;;
	--log) log=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--) shift; break ;;
	*) echo "run-guest.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$cache" ] || [ -z "$bin" ] || [ -z "$out" ]; then sed -n '6,12p' "$0" >&2; exit 2; fi

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || { echo "run-guest.sh: qemu-system-x86_64 not installed (scripts/install-deps.sh installs qemu-system-x86)"; exit 77; }
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || { echo "run-guest.sh: no static busybox (scripts/install-deps.sh installs busybox-static)"; exit 77; }
command -v cpio >/dev/null || { echo "run-guest.sh: cpio not installed (scripts/install-deps.sh)"; exit 77; }
"$here/guest-kernel.sh" "$cache" || exit $?

work=$(mktemp -d "${TMPDIR:-/tmp}/vqb-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/lib/modules" "$root/vqb"
cp "$busybox" "$root/bin/busybox"
cp "$cache"/kernel/modules/*.ko "$root/lib/modules/"
cp "$here/guest-init.sh" "$root/init"
cp "$here/../vfio-bind.sh" "$root/vqb/vfio-bind.sh"
cp "$bin" "$root/vqb/vqbench"
chmod +x "$root/init" "$root/vqb/vfio-bind.sh"
# the binary's shared libraries and loader, at their paths
ldd "$bin" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
printf '%s\n' "$@" > "$root/vqb/args"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz"

serial=$work/serial.log
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# probe can miss its window and panic ("timer doesn't work through
# Interrupt-remapped IO-APIC"); the check is meaningless for a guest.
boot() {
timeout "$tmo" "$qemu" -machine q35,kernel-irqchip=split -accel tcg -cpu max -m 1G -smp 1 \
	-display none -monitor none -serial "file:$serial" -no-reboot \
	-device intel-iommu,intremap=on,caching-mode=on \
	-netdev user,id=n0,restrict=on \
	-device "virtio-net-pci,netdev=n0,disable-legacy=on,iommu_platform=on,romfile=$packed" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$cache/kernel/vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet intel_iommu=on no_timer_check" </dev/null
}
set +e
boot
qrc=$?
if ! grep -q '^VQB-RUN' "$serial" && [ "$qrc" != 124 ]; then
	# the guest died before vqbench started (a kernel panic on a loaded
	# host): boot once more, saying so; a vqbench failure is never retried
	echo "run-guest.sh: notice: the guest failed before vqbench ran (QEMU status $qrc); booting once more" >&2
	grep -m 3 -i -e panic -e 'VQB-ERROR' "$serial" >&2
	boot
	qrc=$?
fi
set -e
tr -d '\r' < "$serial" > "$work/serial.txt"
[ -n "$log" ] && cp "$work/serial.txt" "$log"
sed -n '/^VQB-CSV-BEGIN$/,/^VQB-CSV-END$/p' "$work/serial.txt" | sed '1d;$d' > "$out"
grep -E '^VQB-(DEVICE|RUN|ERROR|DMAR)' "$work/serial.txt" || true
code=$(sed -n 's/^VQB-EXIT \([0-9]*\)$/\1/p' "$work/serial.txt" | tail -n 1)
if [ "$qrc" = 124 ]; then
	echo "run-guest.sh: the guest did not finish within ${tmo}s; serial console:" >&2
	tail -n 40 "$work/serial.txt" >&2
	exit 124
fi
if [ -z "$code" ]; then
	echo "run-guest.sh: the guest ended (QEMU status $qrc) without reporting vqbench's exit code; serial console:" >&2
	tail -n 40 "$work/serial.txt" >&2
	exit 125
fi
if [ $((qrc)) != $((2 * code + 1)) ]; then
	echo "run-guest.sh: QEMU status $qrc does not match the guest's exit code $code (isa-debug-exit gives 2*code+1)" >&2
	exit 125
fi
exit "$code"
