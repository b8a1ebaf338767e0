#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-tracking.sh [VQBENCH] - what tracking DMA addresses costs per packet:
# --policy full (16 bytes per descriptor, unmap on completion) against skip
# (nothing kept, no unmap) and premapped (buffers mapped once), on split and
# packed rings, 1 descriptor per packet, --dma identity, same two cores.
# The policies run interleaved in rounds: each round is one vqbench process
# per device (--order interleave: split full, skip, premapped, then packed),
# the policy order rotating by one each round (full skip premapped, skip
# premapped full, premapped full skip, ...) so none always runs first.
# Writes one CSV row per round x device x layout: the three ns/pkt and the
# differences skip - full, premapped - full, premapped - skip (ns); the
# report (scripts/perf_report.py) gives min/median/max over the rounds and a
# bootstrap 95% interval of the median difference.
#
# Then the exact counts, independent of noise: scripts/callgrind-counts.py
# runs the same configurations with --device inline under callgrind and
# writes instructions, D1 and LL misses per packet (a vqbench CSV), and from
# the same dumps the instructions per packet by source file, per policy
# (--by-source: where each policy's instructions go, module by module).
#
# Environment:
#   ROUNDS           rounds (PAIRS if set, else 5; fewer than 5 is a smoke run)
#   SECONDS_PER_RUN  seconds per measured run (1)
#   WARMUP           warmup runs of each configuration per process (1)
#   DEVICES          comma-separated: inline, thread (inline,thread)
#   CORES            driver and device CPU (0,1)
#   COUNTS           1: run the callgrind counts (default), 0: skip them
#   CG_PACKETS       SMALL,LARGE packets of the two callgrind runs (2000,12000)
#   RESULTS_DIR      where the CSVs go by default (results)
#   OUT              the CSV (RESULTS_DIR/perf-tracking-<UTC>.csv)
#   COUNTS_OUT       the counts CSV (OUT's directory/perf-tracking-counts-<UTC>.csv)
#   ANNOTATE_OUT     the by-source CSV (OUT's directory/perf-annotate-<UTC>.csv)
# Exit: 0 ok, 1 a run or the counts failed, 2 bad usage.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "perf-tracking.sh: too many arguments (usage: scripts/perf-tracking.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
rounds=${ROUNDS:-${PAIRS:-5}}
secs=${SECONDS_PER_RUN:-1}
warmup=${WARMUP:-1}
devices=${DEVICES:-inline,thread}
cores=${CORES:-0,1}
counts=${COUNTS:-1}
cg_packets=${CG_PACKETS:-2000,12000}
results=${RESULTS_DIR:-results}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$results/perf-tracking-$stamp.csv}
counts_out=${COUNTS_OUT:-$(dirname "$out")/perf-tracking-counts-$stamp.csv}
annotate_out=${ANNOTATE_OUT:-$(dirname "$out")/perf-annotate-$stamp.csv}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "perf-tracking.sh: ROUNDS='$rounds' is not a whole number >= 1" >&2; exit 2; }
if ! [[ $secs =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || ! "$py" -c "import sys; sys.exit(not 0 < float(sys.argv[1]) <= 3600)" "$secs"; then
	echo "perf-tracking.sh: SECONDS_PER_RUN='$secs' is not a number of seconds > 0 and <= 3600" >&2; exit 2
fi
[[ $warmup =~ ^[0-9]+$ ]] || { echo "perf-tracking.sh: WARMUP='$warmup' is not a whole number >= 0" >&2; exit 2; }
for d in ${devices//,/ }; do
	case "$d" in thread|inline) ;; *) echo "perf-tracking.sh: DEVICES='$devices': '$d' is not a device (allowed: inline, thread)" >&2; exit 2 ;; esac
done
[ -n "${devices//,/}" ] || { echo "perf-tracking.sh: DEVICES is empty (allowed: inline, thread)" >&2; exit 2; }
[[ $cores =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-tracking.sh: CORES='$cores' is not two CPUs A,B" >&2; exit 2; }
case "$counts" in 0|1) ;; *) echo "perf-tracking.sh: COUNTS='$counts' (allowed: 0, 1)" >&2; exit 2 ;; esac
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-tracking.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
[ -x "$vqb" ] || { echo "perf-tracking.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
[ "$rounds" -ge 5 ] || echo "perf-tracking.sh: ROUNDS=$rounds: fewer than 5 rounds is a smoke run, not a measurement" >&2
mkdir -p "$(dirname "$out")" "$(dirname "$counts_out")"
tmp=$(mktemp -d -t vqb_tracking.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

policies=(full skip premapped)
# shellcheck disable=SC2054 # option values are comma lists
fixed=(--layout split,packed --descs 1 --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx)
sweep_txt="--layout split,packed --descs 1 --policy full,skip,premapped --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx"
cg_cmd="scripts/callgrind-counts.py --packets $cg_packets -- $sweep_txt"
command="ROUNDS=$rounds SECONDS_PER_RUN=$secs WARMUP=$warmup DEVICES=$devices CORES=$cores COUNTS=$counts CG_PACKETS=$cg_packets scripts/perf-tracking.sh"

"$py" - "$out" <<'EOF'
import csv, sys
csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n").writerow([
    "round", "device", "layout", "descs", "dma", "batch", "queue_size", "pkt_bytes", "driver_cpu",
    "device_cpu", "seconds_per_run", "policy_order",
    "full_mpps", "skip_mpps", "premapped_mpps",
    "full_ns_per_pkt", "skip_ns_per_pkt", "premapped_ns_per_pkt",
    "skip_minus_full_ns", "premapped_minus_full_ns", "premapped_minus_skip_ns",
    "c2c_ns_before", "c2c_ns_after", "placement_changed", "status",
    "host", "cpu_model", "kernel", "git_rev", "vqbench_args", "command", "counts_command"])
EOF

failed=0
for r in $(seq 1 "$rounds"); do
	k=$(((r - 1) % 3))
	order=("${policies[@]:$k}" "${policies[@]:0:$k}")
	order_csv=$(IFS=,; echo "${order[*]}")
	for dev in ${devices//,/ }; do
		rm -f "$tmp/r.csv"
		args=("${fixed[@]}" --policy "$order_csv" --device "$dev")
		"$vqb" "${args[@]}" --seconds "$secs" --reps 1 --warmup "$warmup" --order interleave --cores "$cores" -q \
			--csv "$tmp/r.csv" >"$tmp/r.log" 2>&1 || {
			echo "perf-tracking.sh: vqbench ${args[*]} failed:" >&2
			tail -5 "$tmp/r.log" >&2
			failed=1
		}
		"$py" - "$out" "$tmp/r.csv" "$r" "$dev" "$secs" "${order[*]}" "$sweep_txt --device $dev" "$command" \
			"$([ "$counts" = 1 ] && echo "$cg_cmd")" <<'EOF' || failed=1
import csv, os, sys
out, path, rnd, dev, secs, order, vargs, command, cg_cmd = sys.argv[1:]
rows = list(csv.DictReader(open(path, newline=""))) if os.path.exists(path) else []
bad = 0
for lay in ("split", "packed"):
    got = {r["policy"]: r for r in rows if r["layout"] == lay}
    runs = [got[p] for p in order.split() if p in got]
    ok = all(p in got and got[p]["status"] == "ok" and got[p]["errors"] == "0" for p in order.split())
    ns = {p: float(got[p]["ns_per_pkt"]) for p in got if ok}
    g = lambda p, k: got[p][k] if p in got else ""
    d = lambda a, b: "%.3f" % (ns[a] - ns[b]) if ok else ""
    m = runs[0] if runs else {}
    moved = "1" if any(x.get("placement_changed") == "1" for x in runs) else ("0" if ok else "")
    csv.writer(open(out, "a", newline=""), lineterminator="\n").writerow([
        rnd, dev, lay, m.get("descs", ""), m.get("dma", ""), m.get("batch", ""), m.get("queue_size", ""),
        m.get("pkt_bytes", ""), m.get("driver_cpu", ""), m.get("device_cpu", ""), secs, order,
        g("full", "mpps"), g("skip", "mpps"), g("premapped", "mpps"),
        g("full", "ns_per_pkt"), g("skip", "ns_per_pkt"), g("premapped", "ns_per_pkt"),
        d("skip", "full"), d("premapped", "full"), d("premapped", "skip"),
        runs[0].get("c2c_ns_before", "") if runs else "", runs[-1].get("c2c_ns_after", "") if runs else "",
        moved, "ok" if ok else "failed", m.get("host", ""), m.get("cpu_model", ""), m.get("kernel", ""),
        m.get("git_rev", ""), vargs, command, cg_cmd])
    print(f"perf-tracking.sh: round {rnd} {dev} {lay} ({order}): skip - full {d('skip', 'full') or '-'} ns, "
          f"premapped - full {d('premapped', 'full') or '-'} ns" + (", placement changed" if moved == "1" else "")
          + ("" if ok else ", FAILED"))
    bad |= not ok
sys.exit(1 if bad else 0)
EOF
	done
done
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
