#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-tracking.sh [VQBENCH] - what tracking DMA addresses costs per packet:
# --policy full (16 bytes per descriptor, unmap on completion) against skip
# (nothing kept, no unmap) and premapped (buffers mapped once), on split and
# packed rings, 1 descriptor per packet, --dma identity, same two cores.
# The policies run as neighbours in time: one vqbench process per device
# with --order blocks sets the six engines (split and packed x full, skip,
# premapped) up once, then runs BLOCKS rounds; a round is one block of
# BLOCK_PACKETS packets per policy, back to back (a few ms each), the policy
# order rotating by one each round. A core-to-core probe brackets every
# round (placement_changed: it moved by more than 1.5x). Writes the blocks
# (a vqbench CSV, gzip'd: BLOCKS_OUT, not committed) and one row per round x
# device x layout (OUT, the compact file results/ keeps and the report
# reads): the three ns/pkt (the rates are 1000 / ns), the paired differences skip - full,
# premapped - full, premapped - skip (ns) inside the round, and each
# policy's kicks per packet (the device's notifications, EVENT_IDX as
# vqbench negotiates it by default: on). The columns that are the same on
# every row of a device (host, cpu_model, kernel, git_rev, vqbench_args,
# command, counts_command) are filled on its first row only. The report
# (scripts/perf_report.py) drops rounds with a placement change (and counts
# them) and gives the median paired difference with a bootstrap 95% interval
# of the median; from the thread device's rows, kicks per packet packed
# against split (issue 20, target 4).
#
# Then the exact counts, independent of noise: scripts/callgrind-counts.py
# runs the same configurations with --device inline under callgrind and
# writes instructions, D1 and LL misses per packet (a vqbench CSV), and from
# the same dumps the instructions per packet by source file, per policy
# (--by-source: where each policy's instructions go, module by module).
#
# Environment:
#   BLOCKS           measured rounds (1000; fewer than 50 is a smoke run)
#   THREAD_BLOCKS    measured rounds of the thread device (300: its rounds
#                    take ~5x the inline ones, and issue 20's interval
#                    target is the inline device's; its kicks per packet
#                    need no more)
#   BLOCK_PACKETS    packets per block (20000: ~5 ms at 250 ns/pkt)
#   WARMUP           warmup rounds, discarded (5)
#   DEVICES          comma-separated: inline, thread (inline,thread)
#   CORES            driver and device CPU (0,1); inline probes the second
#   COUNTS           1: run the callgrind counts (default), 0: skip them
#   CG_PACKETS       SMALL,LARGE packets of the two callgrind runs (2000,12000)
#   RESULTS_DIR      where the CSVs go by default (results)
#   OUT              the rounds CSV (RESULTS_DIR/perf-tracking-<UTC>.csv)
#   BLOCKS_OUT       the blocks CSV (OUT's directory/perf-tracking-blocks-<UTC>.csv.gz;
#                    gzip'd when the name ends in .gz)
#   COUNTS_OUT       the counts CSV (OUT's directory/perf-tracking-counts-<UTC>.csv)
#   ANNOTATE_OUT     the by-source CSV (OUT's directory/perf-annotate-<UTC>.csv)
# (PAIRS, ROUNDS and SECONDS_PER_RUN, other scripts' settings that
# perf-all.sh passes on, are not used here.)
# Exit: 0 ok, 1 a run or the counts failed, 2 bad usage.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "perf-tracking.sh: too many arguments (usage: scripts/perf-tracking.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
blocks=${BLOCKS:-1000}
thread_blocks=${THREAD_BLOCKS:-300}
block_packets=${BLOCK_PACKETS:-20000}
warmup=${WARMUP:-5}
devices=${DEVICES:-inline,thread}
cores=${CORES:-0,1}
counts=${COUNTS:-1}
cg_packets=${CG_PACKETS:-2000,12000}
results=${RESULTS_DIR:-results}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$results/perf-tracking-$stamp.csv}
ostamp=$(basename "$out" .csv); ostamp=${ostamp#perf-tracking-}
blocks_out=${BLOCKS_OUT:-$(dirname "$out")/perf-tracking-blocks-$ostamp.csv.gz}
counts_out=${COUNTS_OUT:-$(dirname "$out")/perf-tracking-counts-$stamp.csv}
annotate_out=${ANNOTATE_OUT:-$(dirname "$out")/perf-annotate-$stamp.csv}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

[[ $blocks =~ ^[1-9][0-9]*$ ]] && [ "$blocks" -le 100000 ] || { echo "perf-tracking.sh: BLOCKS='$blocks' is not a whole number 1..100000" >&2; exit 2; }
[[ $thread_blocks =~ ^[1-9][0-9]*$ ]] && [ "$thread_blocks" -le 100000 ] || { echo "perf-tracking.sh: THREAD_BLOCKS='$thread_blocks' is not a whole number 1..100000" >&2; exit 2; }
[[ $block_packets =~ ^[1-9][0-9]*$ ]] || { echo "perf-tracking.sh: BLOCK_PACKETS='$block_packets' is not a whole number >= 1" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "perf-tracking.sh: WARMUP='$warmup' is not a whole number >= 0" >&2; exit 2; }
for d in ${devices//,/ }; do
	case "$d" in thread|inline) ;; *) echo "perf-tracking.sh: DEVICES='$devices': '$d' is not a device (allowed: inline, thread)" >&2; exit 2 ;; esac
done
[ -n "${devices//,/}" ] || { echo "perf-tracking.sh: DEVICES is empty (allowed: inline, thread)" >&2; exit 2; }
[[ $cores =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-tracking.sh: CORES='$cores' is not two CPUs A,B" >&2; exit 2; }
case "$counts" in 0|1) ;; *) echo "perf-tracking.sh: COUNTS='$counts' (allowed: 0, 1)" >&2; exit 2 ;; esac
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-tracking.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
[ -x "$vqb" ] || { echo "perf-tracking.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
[ "$blocks" -ge 50 ] && [ "$thread_blocks" -ge 50 ] || echo "perf-tracking.sh: BLOCKS=$blocks, THREAD_BLOCKS=$thread_blocks: fewer than 50 rounds is a smoke run, not a measurement" >&2
mkdir -p "$(dirname "$out")" "$(dirname "$counts_out")"
tmp=$(mktemp -d -t vqb_tracking.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

policies=(full skip premapped)
# shellcheck disable=SC2054 # option values are comma lists
fixed=(--layout split,packed --descs 1 --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx)
sweep_txt="--layout split,packed --descs 1 --policy full,skip,premapped --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx"
cg_cmd="scripts/callgrind-counts.py --packets $cg_packets -- $sweep_txt"
command="BLOCKS=$blocks THREAD_BLOCKS=$thread_blocks BLOCK_PACKETS=$block_packets WARMUP=$warmup DEVICES=$devices CORES=$cores COUNTS=$counts CG_PACKETS=$cg_packets scripts/perf-tracking.sh"

"$py" - "$out" <<'EOF'
import csv, sys
csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n").writerow([
    "round", "device", "layout", "descs", "dma", "batch", "queue_size", "pkt_bytes", "driver_cpu",
    "device_cpu", "block_packets", "policy_order",
    "full_ns_per_pkt", "skip_ns_per_pkt", "premapped_ns_per_pkt",
    "skip_minus_full_ns", "premapped_minus_full_ns", "premapped_minus_skip_ns",
    "event_idx", "full_kicks_per_pkt", "skip_kicks_per_pkt", "premapped_kicks_per_pkt",
    "c2c_ns_before", "c2c_ns_after", "placement_changed", "status",
    "host", "cpu_model", "kernel", "git_rev", "vqbench_args", "command", "counts_command"])
EOF

failed=0
first=1
for dev in ${devices//,/ }; do
	rm -f "$tmp/b.csv"
	args=("${fixed[@]}" --policy full,skip,premapped --device "$dev")
	n=$blocks
	[ "$dev" = thread ] && n=$thread_blocks
	echo "perf-tracking.sh: $dev: $n rounds (+$warmup warmup) of 6 blocks (split, packed x 3 policies) of $block_packets packets, started $(date -u +%H:%M:%S) UTC"
	t0=$SECONDS
	"$vqb" "${args[@]}" --order blocks --packets "$block_packets" --reps "$n" --warmup "$warmup" \
		--cores "$cores" -q --csv "$tmp/b.csv" >"$tmp/b.log" 2>&1 || {
		echo "perf-tracking.sh: vqbench ${args[*]} --order blocks failed:" >&2
		tail -5 "$tmp/b.log" >&2
		failed=1
	}
	"$py" - "$out" "$tmp/b.csv" "$blocks_out" "$first" "$dev" "$block_packets" "$warmup" "$sweep_txt --device $dev" \
		"$command" "$([ "$counts" = 1 ] && echo "$cg_cmd")" <<'EOF' || failed=1
import csv, gzip, os, sys
from collections import defaultdict
out, path, bout, first, dev, bp, warm, vargs, command, cg_cmd = sys.argv[1:]
rows = list(csv.DictReader(open(path, newline=""))) if os.path.exists(path) else []
opener = (lambda p, m: gzip.open(p, m + "t", newline="")) if bout.endswith(".gz") else \
    (lambda p, m: open(p, m, newline=""))
if rows:  # the blocks: every device's rows in one vqbench CSV (gzip: appended members)
    with opener(bout, "w" if first == "1" else "a") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        if first == "1":
            w.writeheader()
        w.writerows(rows)
pols = ["full", "skip", "premapped"]
g = defaultdict(dict)
for r in rows:
    g[(r["layout"], int(r["rep"]))][r["policy"]] = r
bad = 0
w = csv.writer(open(out, "a", newline=""), lineterminator="\n")
meta = True  # the device's constant columns: on its first row only
for lay in ("split", "packed"):
    reps = sorted(k[1] for k in g if k[0] == lay)
    nok = nmoved = 0
    for rep in reps:
        got = g[(lay, rep)]
        k = (int(warm) + rep) % 3  # vqb_run_blocks: round r runs members (r + j) % n
        order = [pols[(k + j) % 3] for j in range(3)]
        ok = all(p in got and got[p]["status"] == "ok" and got[p]["errors"] == "0" for p in pols)
        ns = {p: float(got[p]["ns_per_pkt"]) for p in pols} if ok else {}
        d = lambda a, b: "%.3f" % (ns[a] - ns[b]) if ok else ""
        m = got.get("full") or next(iter(got.values()))
        gv = lambda p, c: got[p][c] if p in got else ""
        c2c = lambda k: "%.1f" % float(m[k]) if m.get(k) else ""
        ns3 = lambda p: "%.3f" % float(got[p]["ns_per_pkt"]) if p in got and got[p]["ns_per_pkt"] else ""
        moved = m.get("placement_changed", "")
        w.writerow([rep + 1, dev, lay, m.get("descs", ""), m.get("dma", ""), m.get("batch", ""),
                    m.get("queue_size", ""), m.get("pkt_bytes", ""), m.get("driver_cpu", ""), m.get("device_cpu", ""),
                    bp, " ".join(order), ns3("full"), ns3("skip"), ns3("premapped"),
                    d("skip", "full"), d("premapped", "full"), d("premapped", "skip"),
                    m.get("event_idx", ""), gv("full", "kicks_per_pkt"), gv("skip", "kicks_per_pkt"),
                    gv("premapped", "kicks_per_pkt"),
                    c2c("c2c_ns_before"), c2c("c2c_ns_after"), moved, "ok" if ok else "failed"]
                   + ([m.get("host", ""), m.get("cpu_model", ""), m.get("kernel", ""), m.get("git_rev", ""),
                       vargs, command, cg_cmd] if meta else [""] * 7))
        meta = False
        nok += ok
        nmoved += moved == "1"
        bad |= not ok
    print(f"perf-tracking.sh: {dev} {lay}: {len(reps)} rounds, {nok} ok, {nmoved} with a placement change")
    bad |= not reps
sys.exit(1 if bad else 0)
EOF
	first=0
	echo "perf-tracking.sh: $dev: done in $((SECONDS - t0)) s"
done
echo "perf-tracking.sh: wrote $blocks_out"
echo "perf-tracking.sh: wrote $out"

if [ "$counts" = 1 ]; then
	echo "perf-tracking.sh: callgrind counts (--device inline, --packets $cg_packets)"
	# shellcheck disable=SC2086 # the sweep is words
	if "$py" scripts/callgrind-counts.py --vqbench "$vqb" --packets "$cg_packets" --csv "$counts_out" \
		--by-source "$annotate_out" -- \
		$sweep_txt >"$tmp/cg.log" 2>&1; then
		sed -n '2,$p' "$tmp/cg.log"
		echo "perf-tracking.sh: wrote $counts_out and $annotate_out"
	else
		cat "$tmp/cg.log" >&2
		echo "perf-tracking.sh: the callgrind counts failed" >&2
		failed=1
	fi
fi
[ "$failed" = 0 ] || { echo "perf-tracking.sh: a run failed (rows with status 'failed' in $out)" >&2; exit 1; }
