#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-all.sh [--allow-dirty] [VQBENCH] - every performance comparison, one after the other,
# then results/PERFORMANCE.md from their CSVs. Run it on a quiet machine:
# nothing else should use the two CPUs (--cores 0,1) while it runs.
#
#   1. scripts/perf-ceiling.sh   vqbench packed vs rte_ring      perf-ceiling-<UTC>.csv
#   2. scripts/perf-tracking.sh  full vs skip vs premapped       perf-tracking-<UTC>.csv,
#                                + callgrind counts              perf-tracking-counts-<UTC>.csv
#                                + the same by source file       perf-annotate-<UTC>.csv
#   3. scripts/perf-attrib.sh    instructions by source file,     perf-attrib-<UTC>.csv
#                                before (BEFORE, built) and after
#   4. scripts/peer-dpdk.sh      DPDK virtio-user vs vqbench     peer-dpdk-<UTC>.csv
#      scripts/peer-callgrind.sh the same loops counted (DIRS,   peer-callgrind-<UTC>.csv
#                                default rx,tx)
#                                (root, hugepages, dpdk-testpmd; PEER=0 skips both)
#   5. scripts/perf-pages.sh, scripts/perf-queues.sh, when present
#   6. scripts/perf_report.py    RESULTS_DIR/PERFORMANCE.md
#
# Environment: RESULTS_DIR (results), PEER (1; 0: skip step 4), and each
# script's own (PAIRS, SECONDS_PER_RUN, ...; see their --help), passed on.
# VQBENCH defaults to build/release/bench/vqbench, built with
# scripts/build.sh when missing. About 35 minutes with the defaults, most
# of it the DPDK peer comparisons and the BEFORE build. A tree with
# uncommitted changes is refused (exit 2) unless --allow-dirty, which
# writes everything to RESULTS_DIR/dirty-<UTC>/ with a DIRTY file naming
# the revision and changes.
# Exit: 0 ok, 1 a comparison failed (the report is still written from the
# newest CSVs; a failed run is a row with status failed), 2 bad usage.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
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
export RESULTS_DIR=${RESULTS_DIR:-results}
unset OUT COUNTS_OUT # each script names its own file in RESULTS_DIR
mkdir -p "$RESULTS_DIR"
[ "$VQB_DIRTY" = 1 ] && vqb_mark_dirty "$RESULTS_DIR"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

failed=()
step() { # step NAME COMMAND...
	echo "perf-all.sh: $1"
	local t0=$SECONDS rc=0
	"${@:2}" || rc=$?
	echo "perf-all.sh: $1: exit $rc, $((SECONDS - t0)) s"
	[ "$rc" = 0 ] || failed+=("$1 (exit $rc)")
}

step perf-ceiling.sh scripts/perf-ceiling.sh "$vqb"
step perf-tracking.sh scripts/perf-tracking.sh "$vqb"
step perf-attrib.sh scripts/perf-attrib.sh "$vqb"
if [ "$peer" = 1 ]; then
	step peer-dpdk.sh scripts/peer-dpdk.sh "$vqb"
	step peer-callgrind.sh env DIRS="${DIRS:-rx,tx}" scripts/peer-callgrind.sh "$vqb"
else
	echo "perf-all.sh: peer-dpdk.sh and peer-callgrind.sh skipped (PEER=0); the report takes the newest CSVs there are"
fi
for extra in perf-pages.sh perf-queues.sh; do
	if [ -x "scripts/$extra" ]; then step "$extra" "scripts/$extra" "$vqb"; fi
done
step perf_report.py "$py" scripts/perf_report.py --results "$RESULTS_DIR"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'perf-all.sh: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "perf-all.sh: done; $RESULTS_DIR/PERFORMANCE.md"
