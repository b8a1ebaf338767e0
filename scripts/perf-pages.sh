#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perf-pages.sh [VQBENCH] - packet rate and footprint vs queue size (256 to
# 32768) with ring and buffer memory on 4 KiB pages and on 2 MiB hugepages,
# for full and skip tracking on split and packed rings: where the ring, its
# tracking state and the buffers leave L1d, L2 and the data-TLB reach.
#
# One vqbench sweep, interleaved (repetition r of every configuration, then
# r + 1), so a 4k/2m ratio comes from neighbouring runs; inline device
# (driver and device on one core: cache and TLB effects without the
# cross-core noise of this VM). Writes OUT (results/perf-pages-<UTC>.csv),
# the machine's --sysinfo beside it (.txt: cache and dTLB sizes) and the
# plot (results/perf-pages-<UTC>-pages-inline.png, scripts/plot.py).
#
# Environment: REPS (3), SECONDS_PER_RUN (0.3), QUEUES (256,1024,4096,16384,
# 32768), DEVICE (inline), OUT. Needs hugepages for the 2m rows (otherwise
# they run on 4 KiB pages with a notice and column page_bytes says so).
set -euo pipefail
cd "$(dirname "$0")/.."
vqb=${1:-build/release/bench/vqbench}
[ -x "$vqb" ] || { echo "perf-pages.sh: no vqbench at '$vqb' (scripts/build.sh, or give its path)" >&2; exit 2; }
reps=${REPS:-3}
secs=${SECONDS_PER_RUN:-0.3}
queues=${QUEUES:-256,1024,4096,16384,32768}
device=${DEVICE:-inline}
out=${OUT:-${RESULTS_DIR:-results}/perf-pages-$(date -u +%Y%m%d-%H%M%S).csv}
mkdir -p "$(dirname "$out")"
"$vqb" --sysinfo >"${out%.csv}.txt" 2>&1 || true
echo "perf-pages.sh: $vqb --layout split,packed --policy full,skip --queue-size $queues --pages 4k,2m --descs 1 --device $device --reps $reps --seconds $secs"
"$vqb" --layout split,packed --policy full,skip --queue-size "$queues" --pages 4k,2m --descs 1 \
	--device "$device" --reps "$reps" --warmup 1 --seconds "$secs" --csv "$out"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-matplotlib
if "$py" -c 'import matplotlib' 2>/dev/null; then
	"$py" scripts/plot.py --vqbench "$vqb" --out "$(dirname "$out")" "$out" | grep -- "-pages-" || true
else
	echo "perf-pages.sh: python3-matplotlib missing: no plot (scripts/install-deps.sh)"
fi
echo "perf-pages.sh: wrote $out"
