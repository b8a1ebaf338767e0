#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# kernel-crosscheck.sh - hold vqbench's DMA model against Linux's own
# virtio-net driver. For every DMA setup, boot Debian 12's 6.1 kernel in QEMU
# (TCG; scripts/qemu/run-kcount.sh), send pktgen traffic through the kernel's
# virtio_net driver and count its DMA API calls per packet with tracefs
# kprobes; then run vqbench with the options that model the setup
# (scripts/qemu/kcount_model.py) and write both side by side, and the report
# (scripts/kernel_report.py). Counts only: TCG timings are never reported.
#
# Usage: scripts/kernel-crosscheck.sh [options]
#   --setups LIST   comma-separated, of noap,direct,swiotlb,strict,lazy,pt (all)
#   --frags LIST    pktgen frags of the TX phases (0,3,16: 1, 4 and 17 descriptors)
#   --rx on|off     the RX phase: frames to the second device (on)
#   --tcp KIB       a TCP transfer of KIB KiB from the guest to QEMU's
#                   guestfwd sink, for its descriptors-per-packet histogram
#                   (1024; 0: none)
#   --packets N     packets per phase (4096: 16 x the 256-entry ring)
#   --out-dir DIR   where the CSVs and KERNEL.md go (results)
#   --vqbench BIN   (build/release/bench/vqbench)
#   --cache DIR     the guest kernel cache (build/qemu-cache)
#   --logs DIR      keep the guests' serial logs there (default: discarded;
#                   results/kernel-logs holds the committed report's)
#   --from-logs DIR boot no guest: read SETUP.log for every setup from DIR
#                   (logs an earlier run kept with --logs: the kernel's
#                   counts do not depend on vqbench, so a model change is
#                   re-checked in seconds); the phases are the logs'
# Writes DIR/kernel-crosscheck-<UTC>.csv (one row per setup x direction x
# descriptors x counter: kernel and vqbench per packet), DIR/kernel-descs-<UTC>.csv
# (the kernel's descriptors-per-packet histograms; <UTC>: the run's start,
# YYYYmmdd-HHMMSS) and DIR/KERNEL.md, whose header names both and the commit;
# then removes the older kernel-crosscheck and kernel-descs CSVs from DIR
# (dated, or the undated names of before; git keeps them).
# Exit: 0 written; 1 a guest, vqbench or the report failed; 2 bad usage;
# 77 QEMU, busybox-static or the Debian kernel cannot be had.
set -euo pipefail
stamp=$(date -u +%Y%m%d-%H%M%S) # names this run's CSVs
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
setups=noap,direct,swiotlb,strict,lazy,pt frags=0,3,16 rx=on packets=4096 tcp=1024
out=$top/results vqbench=$top/build/release/bench/vqbench cache=$top/build/qemu-cache logs="" from=""
die() { echo "kernel-crosscheck.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--setups) setups=${2:?}; shift ;;
	--frags) frags=${2:?}; shift ;;
	--rx) rx=${2:?}; shift ;;
	--tcp) tcp=${2:?}; shift ;;
	--packets) packets=${2:?}; shift ;;
	--out-dir) out=${2:?}; shift ;;
	--vqbench) vqbench=${2:?}; shift ;;
	--cache) cache=${2:?}; shift ;;
	--logs) logs=${2:?}; shift ;;
	--from-logs) from=${2:?}; shift ;;
	-h|--help) sed -n '4,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
for s in ${setups//,/ }; do
	case "$s" in noap|direct|swiotlb|strict|lazy|pt) ;; *) die "--setups: '$s' (allowed: noap, direct, swiotlb, strict, lazy, pt)" ;; esac
done
for f in ${frags//,/ }; do
	{ [[ "$f" =~ ^[0-9]+$ ]] && [ "$f" -le 17 ]; } || die "--frags: '$f' (allowed: 0..17, the kernel's MAX_SKB_FRAGS)"
done
[[ "$rx" =~ ^(on|off)$ ]] || die "--rx: '$rx' (allowed: on, off)"
[[ "$tcp" =~ ^(0|[1-9][0-9]{0,6})$ ]] || die "--tcp: '$tcp' (allowed: 0 (none) or KiB up to 9999999)"
{ [[ "$packets" =~ ^[1-9][0-9]*$ ]] && [ "$packets" -ge 512 ]; } ||
	die "--packets: '$packets' (allowed: 512 or more, twice the ring at least: TX buffers are reclaimed late)"
[ -x "$vqbench" ] || die "--vqbench: '$vqbench' is not an executable (build it: cmake --preset release && cmake --build --preset release)"

phases=()
for f in ${frags//,/ }; do phases+=("tx$((f + 1)):tx:$f:$packets:1024"); done
[ "$rx" = on ] && phases+=("rx1:rx:0:$packets:1024")
[ "$tcp" != 0 ] && phases+=("tcp:tcp:0:$tcp:1024")
work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-crosscheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
specs=()
n=0 total=$(echo "${setups//,/ }" | wc -w)
for s in ${setups//,/ }; do
	n=$((n + 1))
	if [ -n "$from" ]; then
		[ -r "$from/$s.log" ] || die "--from-logs: no readable $from/$s.log (keep logs with --logs DIR)"
		echo "kernel-crosscheck.sh: [$n/$total] setup $s: the kernel's counts from $from/$s.log (no guest booted)" >&2
		specs+=("$from/$s.log:$s")
		continue
	fi
	echo "kernel-crosscheck.sh: [$n/$total] setup $s: booting the guest (phases ${phases[*]%%:*})" >&2
	t0=$SECONDS
	rc=0
	"$here/qemu/run-kcount.sh" --cache "$cache" --setup "$s" --log "$work/$s.log" "${phases[@]}" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "kernel-crosscheck.sh: setup $s: the guest run failed (exit $rc)" >&2
		[ "$rc" = 77 ] && exit 77
		exit 1
	fi
	echo "kernel-crosscheck.sh: [$n/$total] setup $s: done in $((SECONDS - t0)) s (TCG wall time, not a measurement)" >&2
	if [ -n "$logs" ]; then mkdir -p "$logs" && cp "$work/$s.log" "$logs/"; fi
	specs+=("$work/$s.log:$s")
done
mkdir -p "$out"
old=$(cd "$out" && ls -1 kernel-crosscheck.csv kernel-descs.csv kernel-crosscheck-[0-9]*-[0-9]*.csv \
	kernel-descs-[0-9]*-[0-9]*.csv 2>/dev/null || true)
kc=$out/kernel-crosscheck-$stamp.csv kd=$out/kernel-descs-$stamp.csv
python3 "$here/qemu/kcount_model.py" --vqbench "$vqbench" --out "$kc" --descs-out "$kd" "${specs[@]}"
python3 "$here/kernel_report.py" "$kc" "$kd" --out "$out/KERNEL.md" \
	--rev "$(git -C "$top" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
for f in $old; do rm -f "$out/$f"; done
echo "kernel-crosscheck.sh: wrote $kc, $kd, $out/KERNEL.md${old:+; removed the older $(echo $old)}" >&2
