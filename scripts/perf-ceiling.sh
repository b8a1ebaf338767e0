#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-ceiling.sh [VQBENCH] - vqbench's fastest virtqueue path against DPDK's
# rte_ring, in alternating runs on the same two cores: A = vqbench packed ring
# (--in-order on --descs 1 --policy skip --dma identity --batch 32), B =
# --layout rte_ring (an SP/SC rte_ring pair, same batch, same packets, every
# byte verified), A, B, A, B, ... PAIRS pairs, each run its own vqbench
# process. Writes one CSV row per pair: both packet rates, both times per
# packet, the ratio of vqbench's ns/pkt to rte_ring's, and each run's
# core-to-core round trip before and after it (c2c_ns_*) and its
# placement_changed flag (the VM's vCPUs moved during the run: the pair is
# flagged in column placement_changed, never dropped). Before the pairs, the
# exact ratio: scripts/callgrind-counts.py counts both sides' instructions
# per packet with the inline device (vqbench's packet loop; rte_ring's loop
# with its inline device: enqueue a burst, dequeue, verify and return it in
# the same thread, dequeue), once, into every row (columns *_cg_*).
#
# Environment:
#   PAIRS            pairs of runs (5; fewer is a smoke run, not a measurement)
#   SECONDS_PER_RUN  seconds per measured run (2)
#   WARMUP           warmup runs inside each vqbench process, discarded (1)
#   DEVICE           thread (the cross-core case, default) or inline: both
#                    sides then run their device inline on the first core
#                    (columns vqbench_device, rte_ring_device)
#   COUNTS           1: the callgrind counts (default), 0: skip them (the
#                    *_cg_* columns stay empty)
#   CG_PACKETS       SMALL,LARGE packets of the two callgrind runs (2000,12000)
#   CORES            driver and device CPU, both sides (0,1)
#   RESULTS_DIR      where OUT goes by default (results)
#   OUT              the CSV (RESULTS_DIR/perf-ceiling-<UTC>.csv)
# Columns: see the header line below (README, "Performance"). Exit: 0 ok,
# 1 a run failed (its row has empty cells and status 'failed'), 2 bad usage.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "perf-ceiling.sh: too many arguments (usage: scripts/perf-ceiling.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
pairs=${PAIRS:-5}
secs=${SECONDS_PER_RUN:-2}
warmup=${WARMUP:-1}
device=${DEVICE:-thread}
cores=${CORES:-0,1}
counts=${COUNTS:-1}
cg_packets=${CG_PACKETS:-2000,12000}
results=${RESULTS_DIR:-results}
out=${OUT:-$results/perf-ceiling-$(date -u +%Y%m%d-%H%M%S).csv}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "perf-ceiling.sh: PAIRS='$pairs' is not a whole number >= 1" >&2; exit 2; }
if ! [[ $secs =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || ! "$py" -c "import sys; sys.exit(not 0 < float(sys.argv[1]) <= 3600)" "$secs"; then
	echo "perf-ceiling.sh: SECONDS_PER_RUN='$secs' is not a number of seconds > 0 and <= 3600" >&2; exit 2
fi
[[ $warmup =~ ^[0-9]+$ ]] || { echo "perf-ceiling.sh: WARMUP='$warmup' is not a whole number >= 0" >&2; exit 2; }
case "$device" in thread|inline) ;; *) echo "perf-ceiling.sh: DEVICE='$device' (allowed: thread, inline)" >&2; exit 2 ;; esac
case "$counts" in 0|1) ;; *) echo "perf-ceiling.sh: COUNTS='$counts' (allowed: 0, 1)" >&2; exit 2 ;; esac
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-ceiling.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
[ "$counts" = 0 ] || command -v valgrind >/dev/null ||
	{ echo "perf-ceiling.sh: valgrind not found for the callgrind counts (scripts/install-deps.sh, or COUNTS=0)" >&2; exit 2; }
[[ $cores =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-ceiling.sh: CORES='$cores' is not two CPUs A,B" >&2; exit 2; }
[ -x "$vqb" ] || { echo "perf-ceiling.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
[ "$pairs" -ge 5 ] || echo "perf-ceiling.sh: PAIRS=$pairs: fewer than 5 pairs is a smoke run, not a measurement" >&2
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d -t vqb_ceiling.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

common=(--in-order on --descs 1 --policy skip --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx)
a_args=(--layout packed "${common[@]}" --device "$device")
b_args=(--layout rte_ring "${common[@]}" --device "$device")
run=(--seconds "$secs" --reps 1 --warmup "$warmup" --cores "$cores" --order sequential -q)
# The command as a reader reruns it (no path of this machine).
command="PAIRS=$pairs SECONDS_PER_RUN=$secs WARMUP=$warmup DEVICE=$device CORES=$cores COUNTS=$counts CG_PACKETS=$cg_packets scripts/perf-ceiling.sh"

# The exact side: instructions per packet of each loop (inline device).
cg_a="" cg_b=""
if [ "$counts" = 1 ]; then
	for side in a b; do
		if [ $side = a ]; then lay=packed; else lay=rte_ring; fi
		echo "perf-ceiling.sh: callgrind counts, --layout $lay (--device inline, --packets $cg_packets)"
		"$py" scripts/callgrind-counts.py --vqbench "$vqb" --packets "$cg_packets" --csv "$tmp/cg_$side.csv" \
			-- --layout "$lay" "${common[@]}" >"$tmp/cg_$side.log" 2>&1 ||
			{ cat "$tmp/cg_$side.log" >&2; echo "perf-ceiling.sh: the callgrind count of --layout $lay failed" >&2; exit 1; }
		v=$("$py" -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))["cg_instructions_per_pkt"])' "$tmp/cg_$side.csv")
		if [ $side = a ]; then cg_a=$v; else cg_b=$v; fi
	done
	echo "perf-ceiling.sh: instructions per packet: vqbench $cg_a, rte_ring $cg_b"
fi

"$py" - "$out" header <<'EOF'
import csv, sys
csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n").writerow([
    "pair", "layout", "rte_ring_layout", "in_order", "descs", "policy", "dma", "batch", "queue_size",
    "pkt_bytes", "vqbench_device", "rte_ring_device", "driver_cpu", "device_cpu", "seconds_per_run",
    "vqbench_mpps", "rte_ring_mpps", "vqbench_ns_per_pkt", "rte_ring_ns_per_pkt",
    "ratio_ns_vqbench_over_rte_ring", "vqbench_cg_instructions_per_pkt", "rte_ring_cg_instructions_per_pkt",
    "ratio_cg_instructions_vqbench_over_rte_ring", "cg_packets", "vqbench_kicks_per_pkt", "vqbench_calls_per_pkt",
    "vqbench_c2c_ns_before", "vqbench_c2c_ns_after", "vqbench_placement_changed",
    "rte_ring_c2c_ns_before", "rte_ring_c2c_ns_after", "rte_ring_placement_changed",
    "placement_changed", "status", "host", "cpu_model", "kernel", "git_rev",
    "vqbench_args", "rte_ring_args", "command"])
EOF

one() { # one NAME ARGS... -> NAME.csv (empty on failure), NAME.log
	local name=$1; shift
	rm -f "$tmp/$name.csv"
	"$vqb" "$@" "${run[@]}" --csv "$tmp/$name.csv" >"$tmp/$name.log" 2>&1 || {
		echo "perf-ceiling.sh: vqbench $* failed:" >&2
		tail -5 "$tmp/$name.log" >&2
		rm -f "$tmp/$name.csv"
	}
}

failed=0
for p in $(seq 1 "$pairs"); do
	one a "${a_args[@]}"
	one b "${b_args[@]}"
	line=$("$py" - "$out" "$tmp/a.csv" "$tmp/b.csv" "$p" "$secs" "${a_args[*]}" "${b_args[*]}" "$command" "$cg_a" "$cg_b" "$cg_packets" <<'EOF'
import csv, os, sys
out, fa, fb, pair, secs, a_args, b_args, command, cg_a, cg_b, cg_packets = sys.argv[1:]
cg_ratio = "%.6g" % (float(cg_a) / float(cg_b)) if cg_a and cg_b else ""

def row(path):
    if not os.path.exists(path):
        return {}
    rows = [r for r in csv.DictReader(open(path, newline=""))
            if r.get("status") == "ok" and r.get("errors") == "0"]
    return rows[0] if rows else {}

a, b = row(fa), row(fb)
ok = bool(a) and bool(b)
g = lambda r, k: r.get(k, "")
ratio = "%.6g" % (float(a["ns_per_pkt"]) / float(b["ns_per_pkt"])) if ok else ""
moved = "1" if "1" in (g(a, "placement_changed"), g(b, "placement_changed")) else ("0" if ok else "")
m = a or b
rec = [pair, g(a, "layout") or "packed", g(b, "layout") or "rte_ring", g(m, "in_order"), g(m, "descs"),
       g(m, "policy"), g(m, "dma"), g(m, "batch"), g(m, "queue_size"), g(m, "pkt_bytes"),
       g(a, "device"), g(b, "device"), g(m, "driver_cpu"), g(b, "device_cpu"), secs,
       g(a, "mpps"), g(b, "mpps"), g(a, "ns_per_pkt"), g(b, "ns_per_pkt"), ratio,
       cg_a, cg_b, cg_ratio, cg_packets if cg_a else "",
       g(a, "kicks_per_pkt"), g(a, "calls_per_pkt"),
       g(a, "c2c_ns_before"), g(a, "c2c_ns_after"), g(a, "placement_changed"),
       g(b, "c2c_ns_before"), g(b, "c2c_ns_after"), g(b, "placement_changed"),
       moved, "ok" if ok else "failed", g(m, "host"), g(m, "cpu_model"), g(m, "kernel"), g(m, "git_rev"),
       a_args, b_args, command]
csv.writer(open(out, "a", newline=""), lineterminator="\n").writerow(rec)
print(f"pair {pair}: vqbench {g(a, 'ns_per_pkt')[:6] or '-'} ns/pkt, rte_ring {g(b, 'ns_per_pkt')[:6] or '-'} ns/pkt, "
      f"ratio {ratio or '-'}" + (", placement changed" if moved == "1" else "") + ("" if ok else ", FAILED"))
sys.exit(0 if ok else 1)
EOF
) || failed=1
	echo "perf-ceiling.sh: $line"
done
echo "perf-ceiling.sh: wrote $out"
[ "$failed" = 0 ] || { echo "perf-ceiling.sh: a run failed (rows with status 'failed' in $out)" >&2; exit 1; }
