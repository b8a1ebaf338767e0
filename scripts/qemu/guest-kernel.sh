#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# guest-kernel.sh CACHE - fetch Debian 12's current 6.1 kernel image for the
# QEMU test guest into CACHE (a build directory), never installing it:
# apt-get download linux-image-6.1.0-N-amd64 (the one linux-image-amd64
# depends on), dpkg -x, keep vmlinuz, the six vfio modules and, for the
# kernel cross-check (scripts/kernel-crosscheck.sh), the kernel's own
# virtio-net driver stack and pktgen:
#   CACHE/kernel/vmlinuz, CACHE/kernel/modules/{irqbypass,vfio,...}.ko
# Idempotent and locked (several builds may share CACHE).
# Exit codes: 0 ready, 1 failed, 77 no Debian package tools or no network.
set -euo pipefail
cache=${1:?usage: guest-kernel.sh CACHE}
mods="irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci"
mods="$mods virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci"
mods="$mods failover net_failover virtio_net pktgen"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/.lock"
flock 9
have_all() { # a cache made before a module joined the list is fetched again
	[ -f "$cache/kernel/ready" ] || return 1
	for m in $mods; do [ -f "$cache/kernel/modules/$m.ko" ] || return 1; done
}
have_all && exit 0
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
	echo "guest-kernel.sh: needs apt-get and dpkg (Debian) to fetch the guest kernel" >&2
	exit 77
fi

find_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}'
}
pkg=$(find_pkg)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(find_pkg)
fi
[ -n "$pkg" ] || { echo "guest-kernel.sh: no linux-image-6.1.0-*-amd64 in the apt lists (apt-get update?)" >&2; exit 77; }

rm -rf "$cache/dl" "$cache/kernel"
mkdir -p "$cache/dl" "$cache/kernel/modules"
echo "guest-kernel.sh: apt-get download $pkg (unpacked into $cache, not installed)"
if ! (cd "$cache/dl" && apt-get download -q "$pkg" >/dev/null 2>"$cache/dl/err"); then
	cat "$cache/dl/err" >&2
	echo "guest-kernel.sh: cannot download $pkg" >&2
	exit 77
fi
dpkg -x "$cache"/dl/*.deb "$cache/dl/x"
cp "$cache"/dl/x/boot/vmlinuz-* "$cache/kernel/vmlinuz"
for m in $mods; do
	f=$(find "$cache/dl/x/lib/modules" -name "$m.ko" | head -n 1)
	[ -n "$f" ] || { echo "guest-kernel.sh: $pkg has no $m.ko" >&2; exit 1; }
	cp "$f" "$cache/kernel/modules/"
done
cp "$cache"/dl/x/boot/config-* "$cache/kernel/config"
echo "$pkg" > "$cache/kernel/ready"
rm -rf "$cache/dl"
