#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perf-queues.sh [VQBENCH] - multi-queue scaling: aggregate and per-queue
# packet rate for N = 1, 2, 4, ... queue pairs (--queues), full and
# premapped tracking on split and packed rings, one interleaved sweep so a
# scaling ratio (N queues over 1) comes from neighbouring runs.
#
# Environment:
#   DEVICE   thread (default when the machine has 4 or more CPUs: one driver
#            and one device thread per queue, on core pairs hwloc picks) or
#            inline (default below 4 CPUs: one thread per queue)
#   QUEUES   the list (default: powers of two up to what the CPUs hold:
#            CPUs / 2 for thread, CPUs for inline)
#   REPS (3), SECONDS_PER_RUN (0.5), OUT (results/perf-queues-<UTC>.csv)
# On a large machine: DEVICE=thread QUEUES=1,2,4,8,16,32 scripts/perf-queues.sh,
# and read the README's "Multi-queue scaling" for what to compare.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
vqb=${1:-build/release/bench/vqbench}
[ -x "$vqb" ] || { echo "perf-queues.sh: no vqbench at '$vqb' (scripts/build.sh, or give its path)" >&2; exit 2; }
cpus=$(nproc)
device=${DEVICE:-$([ "$cpus" -ge 4 ] && echo thread || echo inline)}
case "$device" in thread|inline) ;; *) echo "perf-queues.sh: DEVICE='$device' (allowed: thread, inline)" >&2; exit 2 ;; esac
if [ -z "${QUEUES:-}" ]; then
	max=$([ "$device" = thread ] && echo $((cpus / 2)) || echo "$cpus")
	QUEUES=1 n=2
	while [ "$n" -le "$max" ] && [ "$n" -le 64 ]; do QUEUES="$QUEUES,$n"; n=$((n * 2)); done
fi
out=${OUT:-${RESULTS_DIR:-results}/perf-queues-$(date -u +%Y%m%d-%H%M%S).csv}
mkdir -p "$(dirname "$out")"
echo "perf-queues.sh: $vqb --queues $QUEUES --device $device --layout split,packed --policy full,premapped --descs 1 --reps ${REPS:-3} --seconds ${SECONDS_PER_RUN:-0.5}"
"$vqb" --queues "$QUEUES" --device "$device" --layout split,packed --policy full,premapped --descs 1 \
	--reps "${REPS:-3}" --warmup 1 --seconds "${SECONDS_PER_RUN:-0.5}" --csv "$out"
echo "perf-queues.sh: wrote $out"
