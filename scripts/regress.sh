#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# regress.sh - the regression check .ci/run runs: a short benchmark, the
# callgrind counts, then `vqbench --check results/thresholds.txt` on both.
# Fails (exit 1) when a bound falls short; each failed bound is one line.
#
# Usage: scripts/regress.sh [--vqbench PATH] [--thresholds FILE] [--keep DIR] [--junit FILE]
#        scripts/regress.sh --baseline [--vqbench PATH]
#   (either form also takes --allow-dirty)
#   --vqbench PATH     the binary (default: build/release/bench/vqbench,
#                      built with scripts/build.sh when missing; installed: vqbench)
#   --thresholds FILE  default: results/thresholds.txt
#   --keep DIR         keep the run's CSVs in DIR
#   --junit FILE       also write the check as JUnit XML (vqbench --junit)
#   --baseline         run the same benchmark and REWRITE results/baseline-run.csv,
#                      results/baseline-counts.csv, results/baseline-machine.txt
#                      and results/thresholds.txt from it (after a deliberate
#                      change of footprints, call counts or instruction counts)
#   --allow-dirty      run on a tree with uncommitted changes (refused
#                      otherwise, exit 2); --baseline and --keep then write
#                      under results/dirty-<UTC>/ and DIR/dirty-<UTC>/, with
#                      a DIRTY file naming the revision and the changes
# About a minute on 2 cores. Exit: 0 all bounds hold, 1 one fell short or a
# run failed, 2 bad usage, thresholds file, or a dirty tree without
# --allow-dirty.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# In a source tree (scripts/ beside CMakeLists.txt) work from its top and
# build vqbench when missing; installed (share/vqbench/scripts, README
# "Install as a package") work in the current directory with the installed
# vqbench.
if [ -f "$here/../CMakeLists.txt" ]; then cd "$here/.."; installed=0; else installed=1; fi

vqb= th= keep= baseline=0 junit= allow_dirty=0
while [ $# -gt 0 ]; do
	case "$1" in
		--vqbench) vqb=$2; shift 2 ;;
		--thresholds) th=$2; shift 2 ;;
		--keep) keep=$2; shift 2 ;;
		--junit) junit=$2; shift 2 ;;
		--baseline) baseline=1; shift ;;
		--allow-dirty) allow_dirty=1; shift ;;
		-h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "regress.sh: unknown argument '$1' (allowed: --vqbench PATH, --thresholds FILE, --keep DIR, --junit FILE, --baseline, --allow-dirty)" >&2; exit 2 ;;
	esac
done
if [ "$baseline" = 1 ] && [ "$installed" = 1 ]; then
	echo "regress.sh: --baseline rewrites a source tree's results/; run it from a clone, not from the installed copy" >&2
	exit 2
fi
res=results
VQB_DIRTY=0
if [ "$installed" = 0 ]; then
	# Results name a commit: refuse a dirty source tree before building
	# anything (an installed copy names the installed version instead).
	. scripts/provenance.sh
	vqb_provenance regress.sh "$allow_dirty"
fi
if [ "$VQB_DIRTY" = 1 ]; then
	res=results/$VQB_DIRTY_DIR
	if [ -n "$keep" ]; then keep=$keep/$VQB_DIRTY_DIR; vqb_mark_dirty "$keep"; fi
	if [ "$baseline" = 1 ]; then vqb_mark_dirty "$res"; fi
fi
if [ -z "$th" ]; then
	th=results/thresholds.txt
	[ "$installed" = 0 ] || th=$here/../results/thresholds.txt
fi
if [ -z "$vqb" ] && [ "$installed" = 1 ]; then
	vqb=$(command -v vqbench || echo "$here/../../../bin/vqbench")
elif [ -z "$vqb" ]; then
	scripts/build.sh release
	vqb=build/release/bench/vqbench
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The benchmark the thresholds are about. Inline device: no cross-core
# traffic, so same-run ratios are steadier; interleaved repetitions.
echo "regress.sh: benchmark (inline device, 16 configurations x 6 runs of 0.1 s)"
"$vqb" --quiet --device inline --layout split,packed --descs 1,4 --policy full,compact,skip,premapped \
	--seconds 0.1 --reps 5 --warmup 1 --csv "$work/run.csv" >"$work/run.log" 2>&1 ||
	{ cat "$work/run.log"; echo "regress.sh: the benchmark failed" >&2; exit 1; }
echo "regress.sh: callgrind counts"
"$py" "$here/callgrind-counts.py" --vqbench "$vqb" --csv "$work/counts.csv" -- \
	--layout split,packed --descs 1,4 --policy full,skip,premapped >"$work/counts.log" 2>&1 ||
	{ cat "$work/counts.log"; echo "regress.sh: the callgrind counts failed" >&2; exit 1; }
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	cp "$work/run.csv" "$work/counts.csv" "$keep/"
fi

if [ "$baseline" = 1 ]; then
	cp "$work/run.csv" "$res"/baseline-run.csv
	cp "$work/counts.csv" "$res"/baseline-counts.csv
	"$vqb" --sysinfo >"$res"/baseline-machine.txt 2>&1 || true
	"$py" - "$res"/baseline-run.csv "$res"/baseline-counts.csv >"$res"/thresholds.txt <<'EOF'
import csv, statistics, sys
from collections import defaultdict
run = list(csv.DictReader(open(sys.argv[1])))
counts = list(csv.DictReader(open(sys.argv[2])))
def cfg(r):
    return f"layout={r['layout']},descs={r['descs']},policy={r['policy']}"
def groups(rows):
    g = defaultdict(list)
    for r in rows:
        g[cfg(r)].append(r)
    return g
def med(rs, c):
    return statistics.median(float(r[c]) for r in rs)
print("""# Regression thresholds for vqbench (vqbench --check, format: README
# "Regression thresholds"). Derived by scripts/regress.sh --baseline from
# results/baseline-run.csv and results/baseline-counts.csv, measured on the
# machine in results/baseline-machine.txt. Checked by .ci/run.
#
# exact: footprints and DMA calls per packet are exact by construction.
# count: callgrind instructions per packet within 3% above the baseline,
#        simulated D1 misses per packet within 25% + 0.5 above it.
# ratio: same-run rate ratios, at least 0.35 x the baseline ratio (loose:
#        this machine's vCPUs move between host cores; see FACTS noise).
""")
print("exact errors where device=inline == 0")
print("exact leaked_mappings where device=inline == 0")
g = groups(run)
for k, rs in g.items():
    print(f"exact footprint_bytes where {k} == {int(med(rs, 'footprint_bytes'))}")
    print(f"exact tracking_bytes where {k} == {int(med(rs, 'tracking_bytes'))}")
    for c in ("maps_per_pkt", "unmaps_per_pkt"):
        print(f"exact {c} where {k} == {med(rs, c):g}")
for k, rs in groups(counts).items():
    print(f"count cg_instructions_per_pkt where {k} <= {med(rs, 'cg_instructions_per_pkt'):.1f} tol 3%")
    d1 = med(rs, "cg_d1_misses_per_pkt")
    print(f"count cg_d1_misses_per_pkt where {k} <= {d1 * 1.25 + 0.5:.2f}")
def mpps(layout, descs, policy):
    return med(g[f"layout={layout},descs={descs},policy={policy}"], "mpps")
for layout in ("split", "packed"):
    for descs in ("1", "4"):
        for pol in ("compact", "skip", "premapped"):
            r = mpps(layout, descs, pol) / mpps(layout, descs, "full")
            print(f"ratio mpps policy={pol} / policy=full where layout={layout},descs={descs} >= {0.35 * r:.2f}"
                  f"  # baseline {r:.2f}")
for descs in ("1", "4"):
    r = mpps("packed", descs, "full") / mpps("split", descs, "full")
    print(f"ratio mpps layout=packed / layout=split where descs={descs},policy=full >= {0.35 * r:.2f}"
          f"  # baseline {r:.2f}")
EOF
	echo "regress.sh: wrote $res/baseline-run.csv, $res/baseline-counts.csv, $res/baseline-machine.txt, $res/thresholds.txt ($(grep -vc '^#\|^$' "$res"/thresholds.txt) bounds)"
	th=$res/thresholds.txt
fi
echo "regress.sh: vqbench --check $th"
"$vqb" --check "$th" ${junit:+--junit "$junit"} "$work/run.csv" "$work/counts.csv"
