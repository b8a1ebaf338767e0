#!/bin/sh
# SPDX-License-Identifier: MIT
#
# vfio-bind.sh - bind a PCI device to vfio-pci (or give it back to its
# driver), so vqbench can drive it with --device vfio:BDF.
#
# Usage: scripts/vfio-bind.sh [--dry-run] [--force] bind|unbind DDDD:BB:DD.F
#   bind      load vfio-pci if needed, set driver_override to vfio-pci,
#             unbind the current driver, reprobe; prints the /dev/vfio group
#   unbind    unbind from vfio-pci, clear driver_override, reprobe (the
#             device's own driver takes it back)
#   --dry-run print every sysfs write instead of doing it
#   --force   bind even when the device carries a network interface that is
#             up: that interface (and any SSH session over it) goes away
# Safety: the live-interface check runs before anything is written; it
# reads the operstate and IFF_UP flag of every interface under
# /sys/bus/pci/devices/BDF/net/ and /sys/bus/pci/devices/BDF/*/net/.
# VQB_SYSFS replaces /sys (the tests run it against a fake tree).
# Exit codes: 0 done, 1 failed, 2 usage, 3 refused (live interface).
# POSIX sh + busybox: it also runs inside the QEMU test guest.
set -eu

sysfs=${VQB_SYSFS:-/sys}
dry=0
force=0
usage() { sed -n '5,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--dry-run) dry=1 ;;
	--force) force=1 ;;
	-h|--help) usage; exit 0 ;;
	--*) echo "vfio-bind.sh: unknown option '$1' (allowed: --dry-run, --force)" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
action=$1
bdf=$2
case "$action" in bind|unbind) ;; *) echo "vfio-bind.sh: unknown action '$action' (allowed: bind, unbind)" >&2; exit 2 ;; esac
case "$bdf" in
	[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-1][0-9a-f].[0-7]) ;;
	*) echo "vfio-bind.sh: '$bdf' is not a PCI address DDDD:BB:DD.F (see lspci -D)" >&2; exit 2 ;;
esac
dev=$sysfs/bus/pci/devices/$bdf
[ -e "$dev" ] || { echo "vfio-bind.sh: no PCI device $bdf ($dev missing)" >&2; exit 1; }

drv=""
[ -e "$dev/driver" ] && drv=$(basename "$(readlink "$dev/driver")")

# Refuse before any write: a network interface that is up is in use. It
# sits in net/ of the PCI device, or of a child device (virtio-net: under
# virtioN/net/).
if [ "$action" = bind ]; then
	for ifdir in "$dev"/net/* "$dev"/*/net/*; do
		[ -e "$ifdir" ] || continue
		ifname=$(basename "$ifdir")
		state=$(cat "$ifdir/operstate" 2>/dev/null || echo unknown)
		flags=$(cat "$ifdir/flags" 2>/dev/null || echo 0x0)
		up=$(( flags & 1 ))
		if [ "$state" = up ] || [ "$up" = 1 ]; then
			if [ "$force" = 1 ]; then
				echo "vfio-bind.sh: warning: $bdf carries interface $ifname (operstate $state); binding anyway (--force)" >&2
			else
				echo "vfio-bind.sh: refusing to bind $bdf: it carries network interface $ifname, which is up (operstate $state, flags $flags); take it down first (ip link set $ifname down) or pass --force if you know nothing uses it" >&2
				exit 3
			fi
		fi
	done
fi

write() { # value file
	if [ "$dry" = 1 ]; then
		echo "would write '$1' to $2"
	else
		printf '%s\n' "$1" > "$2"
	fi
}

if [ "$action" = bind ]; then
	if [ "$drv" = vfio-pci ]; then
		echo "vfio-bind.sh: $bdf is already bound to vfio-pci"
	else
		if [ ! -d "$sysfs/bus/pci/drivers/vfio-pci" ]; then
			if [ "$dry" = 1 ]; then
				echo "would run: modprobe vfio-pci"
			else
				modprobe vfio-pci || { echo "vfio-bind.sh: vfio-pci is not loaded and modprobe vfio-pci failed" >&2; exit 1; }
			fi
		fi
		write vfio-pci "$dev/driver_override"
		[ -n "$drv" ] && write "$bdf" "$dev/driver/unbind"
		write "$bdf" "$sysfs/bus/pci/drivers_probe"
	fi
else
	if [ -n "$drv" ]; then write "$bdf" "$dev/driver/unbind"; fi
	write "" "$dev/driver_override"
	write "$bdf" "$sysfs/bus/pci/drivers_probe"
fi
[ "$dry" = 1 ] && exit 0

now=""
[ -e "$dev/driver" ] && now=$(basename "$(readlink "$dev/driver")")
if [ "$action" = bind ]; then
	if [ "$now" != vfio-pci ]; then
		echo "vfio-bind.sh: $bdf is bound to '${now:-no driver}' after the probe, not vfio-pci (an IOMMU group shared with a device in use? see dmesg)" >&2
		exit 1
	fi
	grp=""
	[ -e "$dev/iommu_group" ] && grp=$(basename "$(readlink "$dev/iommu_group")")
	echo "vfio-bind.sh: $bdf bound to vfio-pci (was ${drv:-unbound}); IOMMU group ${grp:-none}: /dev/vfio/$grp"
else
	echo "vfio-bind.sh: $bdf unbound from ${drv:-no driver}; now ${now:-unbound}"
fi
