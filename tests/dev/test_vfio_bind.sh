#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_vfio_bind.sh SCRIPT - scripts/vfio-bind.sh's safety, without ever
# touching a real device's binding:
#   - on a fake sysfs tree (VQB_SYSFS): a device whose interface is up is
#     refused (exit 3) and nothing is written; --force binds it; a device
#     whose interface is down is bound: driver_override = vfio-pci, the old
#     driver's unbind and drivers_probe get the address; unbind clears it;
#   - on this machine, --dry-run only: every virtio-net PCI device carrying
#     an interface that is up (this machine's own network) is refused
#     before the script would write anything.
set -uo pipefail
script=${1:?usage: test_vfio_bind.sh scripts/vfio-bind.sh}
work=$(mktemp -d "${TMPDIR:-/tmp}/test_vfio_bind.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0 checks=0
check() { local what=$1; shift; checks=$((checks + 1))
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=$((fail + 1)); fi; }

# fake tree: devices 0000:00:07.0 (eth7 up, under virtio7/net like virtio-net)
# and 0000:00:08.0 (eth8 down), both bound to virtio-pci
fake=$work/sys
mkdir -p "$fake/bus/pci/drivers/virtio-pci" "$fake/bus/pci/drivers/vfio-pci"
: > "$fake/bus/pci/drivers_probe"
: > "$fake/bus/pci/drivers/virtio-pci/unbind"
mk() { # bdf ifname operstate flags
	local d=$fake/bus/pci/devices/$1
	mkdir -p "$d/virtio${1: -3:1}/net/$2"
	echo "$3" > "$d/virtio${1: -3:1}/net/$2/operstate"
	echo "$4" > "$d/virtio${1: -3:1}/net/$2/flags"
	: > "$d/driver_override"
	ln -s ../../drivers/virtio-pci "$d/driver"
}
mk 0000:00:07.0 eth7 up 0x1003
mk 0000:00:08.0 eth8 down 0x1002

out=$(VQB_SYSFS=$fake "$script" bind 0000:00:07.0 2>&1); rc=$?
check "live interface refused with exit 3 (got $rc)" test "$rc" = 3
check "refusal names the interface: $out" grep -q "eth7, which is up" <<<"$out"
check "nothing written on refusal" bash -c "! [ -s '$fake/bus/pci/devices/0000:00:07.0/driver_override' ] && ! [ -s '$fake/bus/pci/drivers_probe' ]"

out=$(VQB_SYSFS=$fake "$script" bind 0000:00:08.0 2>&1); rc=$?
# the fake tree cannot rebind, so the final check reports failure (exit 1)
check "down interface: binds (exit 1 only because a fake tree cannot rebind; got $rc)" test "$rc" = 1
check "driver_override = vfio-pci" grep -qx vfio-pci "$fake/bus/pci/devices/0000:00:08.0/driver_override"
check "old driver unbound" grep -qx 0000:00:08.0 "$fake/bus/pci/drivers/virtio-pci/unbind"
check "drivers_probe written" grep -qx 0000:00:08.0 "$fake/bus/pci/drivers_probe"

: > "$fake/bus/pci/drivers_probe"
out=$(VQB_SYSFS=$fake "$script" --force bind 0000:00:07.0 2>&1); rc=$?
check "--force binds a live device (got $rc): warning given" grep -q "binding anyway (--force)" <<<"$out"
check "--force wrote driver_override" grep -qx vfio-pci "$fake/bus/pci/devices/0000:00:07.0/driver_override"

VQB_SYSFS=$fake "$script" unbind 0000:00:08.0 >/dev/null 2>&1
check "unbind clears driver_override" bash -c "[ -z \"\$(tr -d '\n' < '$fake/bus/pci/devices/0000:00:08.0/driver_override')\" ]"
check "bad address refused (exit 2)" bash -c "VQB_SYSFS='$fake' '$script' bind 00:08 >/dev/null 2>&1; [ \$? = 2 ]"

# this machine: dry run only, never a write
n=0
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1af4 ] || continue
	for ifdir in "$d"/net/* "$d"/*/net/*; do
		[ -e "$ifdir/operstate" ] || continue
		[ "$(cat "$ifdir/operstate")" = up ] || continue
		bdf=$(basename "$d")
		out=$("$script" --dry-run bind "$bdf" 2>&1); rc=$?
		check "this machine's $bdf ($(basename "$ifdir") up) refused in --dry-run (exit $rc)" test "$rc" = 3
		check "no 'would write' before the refusal" bash -c "! grep -q 'would write' <<<'$out'"
		n=$((n + 1))
	done
done
[ $n = 0 ] && echo "note: this machine has no virtio PCI device with an interface up; host dry-run not exercised"
echo "test_vfio_bind: $checks checks, $fail failed"
[ $fail = 0 ]
