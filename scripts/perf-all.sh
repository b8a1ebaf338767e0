#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-all.sh [--allow-dirty] [VQBENCH] - every performance comparison, one after the other,
# then results/PERFORMANCE.md from their CSVs. Run it on a quiet machine:
# nothing else should use the two CPUs (--cores 0,1) while it runs.
#
#   step                          what                             writes                  ~minutes
#   1. scripts/perf-ceiling.sh    vqbench packed vs rte_ring,      perf-ceiling-<UTC>.csv       1.5
#                                 5 pairs + callgrind ratio
#   2. scripts/perf-tracking.sh   full vs skip vs premapped,       perf-tracking-<UTC>.csv,     2-4
#                                 1000 rounds of paired blocks     perf-tracking-counts-,
#                                 inline, 300 thread + callgrind   perf-annotate-<UTC>.csv
#   3. scripts/perf-attrib.sh     instructions by source file,     perf-attrib-<UTC>.csv         3
#                                 BEFORE built from git, and now
#   4. scripts/peer-dpdk.sh       DPDK virtio-user vs vqbench,     peer-dpdk-<UTC>.csv          16
#                                 12 cells x PEER_PAIRS pairs
#      scripts/peer-callgrind.sh  the same loops counted, rx and   peer-callgrind-<UTC>.csv      9
#                                 tx x 2 layouts x in-order off/on
#                                 (root, hugepages, dpdk-testpmd; PEER=0 skips both)
#   5. scripts/perf-pages.sh, scripts/perf-queues.sh,  perf-pages-, perf-queues-<UTC>.csv  1+1
#                                 when present
#   6. scripts/perf_report.py     RESULTS_DIR/PERFORMANCE.md: issue 20's five targets       0.5
#                                 first, one verdict each, then every section
#   About 35 minutes in all on the 2-vCPU VM (FACTS.md), most of it the DPDK
#   peer; the minutes are printed before the run and each step's own after it.
#
# Environment: RESULTS_DIR (results), PEER (1; 0: skip step 4), and each
# script's own (see their --help), passed on, except these, which perf-all.sh
# sets for one step so that the shared names do not collide:
#   PEER_PAIRS        peer-dpdk.sh's PAIRS (6: target 1 needs 5 usable pairs
#                     per cell after the pairs with a placement change are
#                     excluded); PAIRS itself stays perf-ceiling.sh's (5)
#   PEER_DPDK_SECONDS peer-callgrind.sh's DPDK_SECONDS (30: tens of millions
#                     of packets under valgrind; its own default is 60)
#   PEER_IDLE_SECONDS peer-callgrind.sh's IDLE_SECONDS (15; its own 20)
# With PEER=1 the DPDK steps' needs (root, dpdk-testpmd, valgrind) are
# checked before step 1, and scripts/hugepages.sh reserves 512 2 MiB pages
# (it grows a reservation, never shrinks one).
# VQBENCH defaults to build/release/bench/vqbench, built with
# scripts/build.sh when missing. A tree with uncommitted changes is refused
# (exit 2) unless --allow-dirty, which writes everything to
# RESULTS_DIR/dirty-<UTC>/ with a DIRTY file naming the revision and changes.
# Exit: 0 ok, 1 a comparison failed (the report is still written from the
# newest CSVs; a failed run is a row with status failed), 2 bad usage.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
allow_dirty=0
[ "${1:-}" = --allow-dirty ] && { allow_dirty=1; shift; }
[ $# -le 1 ] || { echo "perf-all.sh: too many arguments (usage: scripts/perf-all.sh [--allow-dirty] [VQBENCH])" >&2; exit 2; }
. scripts/provenance.sh
vqb_provenance perf-all.sh "$allow_dirty"
[ "$VQB_DIRTY" = 1 ] && RESULTS_DIR=${RESULTS_DIR:-results}/$VQB_DIRTY_DIR
peer=${PEER:-1}
case "$peer" in 0|1) ;; *) echo "perf-all.sh: PEER='$peer' (allowed: 0, 1)" >&2; exit 2 ;; esac
vqb=${1:-}
if [ -z "$vqb" ]; then
	[ -x build/release/bench/vqbench ] || scripts/build.sh release
	vqb=build/release/bench/vqbench
fi
[ -x "$vqb" ] || { echo "perf-all.sh: no vqbench at '$vqb'" >&2; exit 2; }
peer_pairs=${PEER_PAIRS:-6}
peer_dsecs=${PEER_DPDK_SECONDS:-30}
peer_isecs=${PEER_IDLE_SECONDS:-15}
[[ $peer_pairs =~ ^[1-9][0-9]*$ ]] || { echo "perf-all.sh: PEER_PAIRS='$peer_pairs' is not a whole number >= 1" >&2; exit 2; }
[[ $peer_dsecs =~ ^[1-9][0-9]*$ ]] || { echo "perf-all.sh: PEER_DPDK_SECONDS='$peer_dsecs' is not a whole number of seconds >= 1" >&2; exit 2; }
[[ $peer_isecs =~ ^[1-9][0-9]*$ ]] || { echo "perf-all.sh: PEER_IDLE_SECONDS='$peer_isecs' is not a whole number of seconds >= 1" >&2; exit 2; }
if [ "$peer" = 1 ]; then # fail now, not after the first steps
	[ "$(id -u)" = 0 ] || { echo "perf-all.sh: the DPDK peer steps need root (hugepages); run as root or with PEER=0" >&2; exit 2; }
	for t in dpdk-testpmd valgrind; do
		command -v "$t" >/dev/null || { echo "perf-all.sh: $t not found for the DPDK peer steps (scripts/install-deps.sh, or PEER=0)" >&2; exit 2; }
	done
	scripts/hugepages.sh 512 || { echo "perf-all.sh: no hugepages for the DPDK peer steps (PEER=0 skips them)" >&2; exit 2; }
fi
export RESULTS_DIR=${RESULTS_DIR:-results}
unset OUT COUNTS_OUT BLOCKS_OUT ANNOTATE_OUT BY_SOURCE # each script names its own file in RESULTS_DIR
mkdir -p "$RESULTS_DIR"
[ "$VQB_DIRTY" = 1 ] && vqb_mark_dirty "$RESULTS_DIR"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

failed=()
n=0
pq=() # perf-pages.sh and perf-queues.sh, when present
for extra in perf-pages.sh perf-queues.sh; do if [ -x "scripts/$extra" ]; then pq+=("$extra"); fi; done
total=$((4 + ${#pq[@]})) plan="1.5+3+3"
[ "$peer" = 1 ] && { total=$((total + 2)); plan="$plan+16+9"; }
for _ in "${pq[@]}"; do plan="$plan+1"; done
plan="$plan+0.5"
echo "perf-all.sh: $total steps, about $plan = $(echo "$plan" | tr + '\n' | awk '{s += $1} END {print s}') minutes with the defaults on the 2-vCPU VM; started $(date -u +%H:%M:%S) UTC"
step() { # step NAME EXPECTED_MINUTES COMMAND...
	n=$((n + 1))
	echo "perf-all.sh: [$n/$total] $1 (about $2 min), at $(date -u +%H:%M:%S) UTC, $((SECONDS / 60)) min into the run"
	local t0=$SECONDS rc=0
	"${@:3}" || rc=$?
	echo "perf-all.sh: [$n/$total] $1: exit $rc, $((SECONDS - t0)) s"
	[ "$rc" = 0 ] || failed+=("$1 (exit $rc)")
}

step perf-ceiling.sh 1.5 scripts/perf-ceiling.sh "$vqb"
step perf-tracking.sh 3 scripts/perf-tracking.sh "$vqb"
step perf-attrib.sh 3 scripts/perf-attrib.sh "$vqb"
if [ "$peer" = 1 ]; then
	step peer-dpdk.sh 16 env PAIRS="$peer_pairs" scripts/peer-dpdk.sh "$vqb"
	step peer-callgrind.sh 9 env DIRS="${DIRS:-rx,tx}" DPDK_SECONDS="$peer_dsecs" IDLE_SECONDS="$peer_isecs" \
		scripts/peer-callgrind.sh "$vqb"
else
	echo "perf-all.sh: peer-dpdk.sh and peer-callgrind.sh skipped (PEER=0); the report takes the newest CSVs there are"
fi
for extra in "${pq[@]}"; do step "$extra" 1 "scripts/$extra" "$vqb"; done
step perf_report.py 0.5 "$py" scripts/perf_report.py --results "$RESULTS_DIR"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'perf-all.sh: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "perf-all.sh: done; $RESULTS_DIR/PERFORMANCE.md"
