#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# install-deps.sh - install everything vqbench needs to build, test,
# benchmark and plot, from Debian 12 packages. Idempotent: installs only
# what is missing and says what it installs.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is.
# Exit codes: 0 ok, 1 missing (--check) or install failed, 2 wrong platform
# (not root, no apt-get).
set -euo pipefail

# One package a line: package  why
PACKAGES=(
	"build-essential   compiler toolchain (gcc, make, libc headers)"
	"clang             second compiler, libFuzzer"
	"cmake             build system (>= 3.25)"
	"pkg-config        finds DPDK, hwloc and libnuma"
	"libdpdk-dev       DPDK 22.11 (EAL, rte_ring, mempool, vhost)"
	"dpdk              dpdk-testpmd, the DPDK comparison peer"
	"dpdk-dev          DPDK tools (hugepage and device binding helpers)"
	"libnuma-dev       NUMA memory binding"
	"libhwloc-dev      CPU and cache topology"
	"valgrind          cachegrind/callgrind: deterministic instruction counts"
	"python3           plots, CSV checks"
	"python3-matplotlib plots"
	"python3-pandas    tests load vqbench's CSV with pandas as users do (test_csv, test_cli_run)"
	"git               revision recorded in every CSV row"
	"qemu-system-x86   the vfio-pci test guest (test_vfio_qemu: TCG, q35, intel-iommu)"
	"busybox-static    the test guest's userland (its initramfs)"
	"cpio              packs the test guest's initramfs"
	"libxml2-utils     xmllint: test_check_junit validates vqbench --junit's XML"
	"man-db            man -l: test_man renders the generated vqbench(1) page"
	"dpkg-dev          dpkg-shlibdeps: the Depends of cpack's .deb (test_package)"
	"file              cpack's DEB generator finds the binaries to scan with it"
)

check_only=0
case "${1:-}" in
	--check) check_only=1 ;;
	"") ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps.sh: unknown argument '$1' (allowed: --check, --help)" >&2; exit 2 ;;
esac

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps.sh: this script needs a Debian-based system with apt-get and dpkg (Debian 12 is the tested one); install by hand:" >&2
	printf '  %s\n' "${PACKAGES[@]}" >&2
	exit 2
fi

missing=()
for line in "${PACKAGES[@]}"; do
	pkg=${line%% *}
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$line")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "install-deps.sh: missing packages:"
printf '  %s\n' "${missing[@]}"
if [ "$check_only" = 1 ]; then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: must run as root to install packages (try: sudo $0)" >&2
	exit 2
fi

names=()
for line in "${missing[@]}"; do names+=("${line%% *}"); done
export DEBIAN_FRONTEND=noninteractive
echo "install-deps.sh: apt-get update"
apt-get update -qq
echo "install-deps.sh: apt-get install ${names[*]}"
apt-get install -y -qq --no-install-recommends "${names[@]}"
echo "install-deps.sh: done"
