#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# study.sh - run the whole study and write it up: the sweeps below, the
# callgrind counts, the plots, and results/STUDY.md with every table
# generated from the CSV (scripts/study_report.py).
#
# Usage: scripts/study.sh [--out DIR] [--vqbench PATH] [--quick] [--allow-dirty]
#   --out DIR       where to write (default: results/)
#   --vqbench PATH  the binary (default: build/release/bench/vqbench, built
#                   with scripts/build.sh when missing; installed: vqbench)
#   --quick         shorter runs and fewer points (a smoke test, ~1 min)
#   --allow-dirty   run on a tree with uncommitted changes (refused
#                   otherwise: exit 2); outputs go to DIR/dirty-<UTC>/ with
#                   a DIRTY file naming the revision and the changes
#
# Writes, <UTC> the run's start (YYYYmmdd-HHMMSS): DIR/study-<UTC>.csv (every
# measured row of every sweep), DIR/study-counts-<UTC>.csv (callgrind counts),
# DIR/study-<UTC>-<PLOT>-<DEVICE>.png, DIR/study-sysinfo-<UTC>.txt,
# DIR/study.log and DIR/STUDY.md (whose header names those files and the
# commit). When the run is complete it removes the older study files from
# DIR (dated or not; git keeps them), so DIR holds only the newest of each. Sweeps (policies and backends: every one vqbench lists
# in --help, except vfio, which needs a VFIO container):
#   descs    inline; split, packed x descs 1,2,4,8,13,19 x every policy; q 256
#   queue    inline; split, packed x q 256..32768 x every policy; 4 descs
#   dma      inline; split, packed x every backend x every policy; 1, 4 descs
#   unsafe   inline; --unsafe-skip: skip on every backend, tx and rx
#   iommu    inline; iommu lazy, untrusted, passthrough x every policy (and
#            unsafe_iommu: skip --unsafe-skip on them, tx and rx)
#   late     inline; --late-writes on, rx: identity, iommu strict/lazy/
#            passthrough x full, skip (--unsafe-skip), iova
#   thread   thread device; split, packed x full, skip, premapped x 1, 4 descs
#            x q 256, 4096; plus the rte_ring ceiling
#   counts   callgrind (scripts/callgrind-counts.py): instructions and
#            simulated misses per packet, identity/iommu/bounce
# About 10 minutes on 2 cores. Exit: 0 ok, 1 a sweep failed to produce rows,
# 2 bad usage or a dirty tree without --allow-dirty.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# In a source tree (scripts/ beside CMakeLists.txt) work from its top and
# build vqbench when missing; installed (share/vqbench/scripts, README
# "Install as a package") work in the current directory with the installed
# vqbench.
if [ -f "$here/../CMakeLists.txt" ]; then cd "$here/.."; installed=0; else installed=1; fi

out=results
vqb=
quick=0
allow_dirty=0
while [ $# -gt 0 ]; do
	case "$1" in
		--out) out=$2; shift 2 ;;
		--vqbench) vqb=$2; shift 2 ;;
		--quick) quick=1; shift ;;
		--allow-dirty) allow_dirty=1; shift ;;
		-h|--help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "study.sh: unknown argument '$1' (allowed: --out DIR, --vqbench PATH, --quick, --allow-dirty)" >&2; exit 2 ;;
	esac
done
VQB_DIRTY=0
if [ "$installed" = 0 ]; then
	# Results name a commit: refuse a dirty source tree before building
	# anything (an installed copy names the installed version instead).
	. scripts/provenance.sh
	vqb_provenance study.sh "$allow_dirty"
fi
if [ "$VQB_DIRTY" = 1 ]; then
	out=$out/$VQB_DIRTY_DIR
	vqb_mark_dirty "$out"
fi
if [ -z "$vqb" ] && [ "$installed" = 1 ]; then
	vqb=$(command -v vqbench || echo "$here/../../../bin/vqbench")
elif [ -z "$vqb" ]; then
	scripts/build.sh release
	vqb=build/release/bench/vqbench
fi
[ -x "$vqb" ] || { echo "study.sh: '$vqb' is not an executable" >&2; exit 2; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-matplotlib
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M%S)
csv=$out/study-$stamp.csv counts=$out/study-counts-$stamp.csv sysinfo=$out/study-sysinfo-$stamp.txt
# The study files of earlier runs (dated, or the undated names of before),
# removed once this run is complete.
old=$(cd "$out" && ls -1 study.csv study-counts.csv study-sysinfo.txt study-[a-z]*.png \
	study-[0-9]*-[0-9]*.csv study-counts-[0-9]*.csv study-sysinfo-[0-9]*.txt study-[0-9]*-[0-9]*-*.png 2>/dev/null || true)
# Relative, so the log and the CSVs' option echo name no path of this machine.
work=$out/.study-work
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
log=$out/study.log
: >"$log"

# Every policy and backend vqbench knows, from its --help.
# (the whole help is read first: awk leaving early would stop vqbench with
# SIGPIPE, and pipefail would end the script)
help=$("$vqb" --help)
allowed() { awk -v opt="--$1" '$1 == opt { f = 1; next } f && /allowed:/ { sub(/.*allowed: /, ""); sub(/;.*/, ""); gsub(/ /, ""); print; exit }' <<<"$help"; }
policies=$(allowed policy)
backends=$(allowed dma | tr ',' '\n' | grep -vx vfio | paste -sd,)

if [ "$quick" = 1 ]; then
	len=(--seconds 0.02 --reps 2 --warmup 0); tlen=(--seconds 0.05 --reps 2 --warmup 0)
	descs=1,4,19; queues=256,4096,32768; cg_packets=600,1600
else
	len=(--seconds 0.1 --reps 3 --warmup 1); tlen=(--seconds 0.2 --reps 5 --warmup 1)
	descs=1,2,4,8,13,19; queues=256,1024,4096,16384,32768; cg_packets=2000,12000
fi

failed=0
sweep() { # name, vqbench options...
	local name=$1; shift
	echo "study.sh: sweep $name: vqbench $*" | tee -a "$log"
	local t0=$SECONDS rc=0
	"$vqb" --quiet --csv "$work/$name.csv" "$@" >>"$log" 2>&1 || rc=$?
	echo "study.sh: sweep $name: exit $rc, $((SECONDS - t0)) s" | tee -a "$log"
	if [ ! -s "$work/$name.csv" ] || [ "$(wc -l <"$work/$name.csv")" -lt 2 ]; then
		echo "study.sh: sweep $name produced no rows (see $log)" >&2
		failed=1
	fi
}

"$vqb" --sysinfo >"$sysinfo" 2>&1 || true
sweep descs --device inline --layout split,packed --descs "$descs" --policy "$policies" "${len[@]}"
sweep queue --device inline --layout split,packed --queue-size "$queues" --descs 4 --policy "$policies" "${len[@]}"
sweep dma --device inline --layout split,packed --dma "$backends" --policy "$policies" --descs 1,4 "${len[@]}"
sweep unsafe --device inline --layout split,packed --dma "$backends" --policy skip --unsafe-skip \
	--dir tx,rx --descs 4 "${len[@]}"
sweep iommu --device inline --layout split,packed --dma iommu --iommu lazy,untrusted,passthrough \
	--policy "$policies" --descs 1,4 "${len[@]}"
sweep unsafe_iommu --device inline --layout split,packed --dma iommu --iommu lazy,untrusted,passthrough \
	--policy skip --unsafe-skip --dir tx,rx --descs 4 "${len[@]}"
sweep late --device inline --layout split --dir rx --late-writes on --dma identity,iommu \
	--iommu strict,lazy,passthrough --policy full,skip,iova --unsafe-skip --descs 2 "${len[@]}"
sweep thread --device thread --layout split,packed --policy full,skip,premapped --descs 1,4 \
	--queue-size 256,4096 "${tlen[@]}"
sweep ceiling --device thread --layout rte_ring --descs 1 --policy full --queue-size 256,4096 "${tlen[@]}"

echo "study.sh: callgrind counts" | tee -a "$log"
"$py" "$here/callgrind-counts.py" --vqbench "$vqb" --packets "$cg_packets" --csv "$counts" \
	-- --layout split,packed --policy "$policies" --descs 1,4 --dma identity,iommu,bounce >>"$log" 2>&1 ||
	{ echo "study.sh: callgrind counts failed (see $log)" >&2; failed=1; }

# One CSV: the header once, then every sweep's rows.
"$py" - "$csv" "$work"/{descs,queue,dma,unsafe,iommu,unsafe_iommu,late,thread,ceiling}.csv <<'EOF'
import csv, os, sys
out, paths = sys.argv[1], [p for p in sys.argv[2:] if os.path.exists(p)]
header, rows = None, []
for p in paths:
    with open(p, newline="") as f:
        r = csv.reader(f)
        h = next(r, None)
        if h is None:
            continue
        header = header or h
        if h != header:
            sys.exit(f"study.sh: {p}: header differs from the first sweep's")
        rows.extend(r)
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
print(f"study.sh: {len(rows)} rows in {out}")
EOF

"$py" "$here/plot.py" --out "$out" --prefix "study-$stamp" --vqbench "$vqb" "$csv" | tee -a "$log"
"$py" "$here/study_report.py" --csv "$csv" --counts "$counts" \
	--sysinfo "$sysinfo" --plots "study-$stamp" --out "$out/STUDY.md"
if [ "$failed" = 0 ]; then
	for f in $old; do rm -f "$out/$f"; done
	[ -z "$old" ] || echo "study.sh: removed the older study files from $out: $(echo $old)"
fi
exit $failed
