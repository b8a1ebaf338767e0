#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_perf_scripts.sh VQBENCH SCRIPTS_DIR - scripts/perf-ceiling.sh and
# scripts/perf-tracking.sh for real, short (one pair of 0.1 s; two rounds of blocks, the
# inline device), into a temporary directory (OUT, RESULTS_DIR): exit 0,
# the CSV header exactly as documented, one ok row per pair / round x layout
# with numeric rates and a ratio (or differences) that agrees with its ns
# columns, and the callgrind counts CSV when valgrind can run here; then
# perf_report.py on those CSVs; bad environment values exit 2 naming the
# variable; nothing is written into results/. A few seconds (plus callgrind).
set -uo pipefail
vqb=$1
scripts=$2
src=$(cd "$scripts/.." && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
. "$(dirname "$0")/helpers.sh"
scratch test_perf_scripts

# Can this machine run vqbench at all (EAL, topology)? Exit 3: skip.
"$vqb" --quiet --device inline --packets 1000 --reps 1 --warmup 0 --layout split --descs 1 --policy full \
	--csv "$tmp/probe.csv" >"$tmp/probe.log" 2>&1
rc=$?
[ $rc = 3 ] && { cat "$tmp/probe.log"; echo "test_perf_scripts: vqbench cannot run here (exit 3): skipped"; exit 77; }

# csvcheck FILE KIND EXPECTED_ROWS: header, row count, numbers, ratio.
csvcheck() {
	"$py" - "$@" "$tmp" "$src" <<'EOF'
import csv, math, sys
path, kind, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
forbidden = [x for x in sys.argv[4:] if x]
HEAD = {
    "ceiling": ["pair", "layout", "rte_ring_layout", "in_order", "descs", "policy", "dma", "batch", "queue_size",
                "pkt_bytes", "vqbench_device", "rte_ring_device", "driver_cpu", "device_cpu", "seconds_per_run",
                "vqbench_mpps", "rte_ring_mpps", "vqbench_ns_per_pkt", "rte_ring_ns_per_pkt",
                "ratio_ns_vqbench_over_rte_ring", "vqbench_cg_instructions_per_pkt",
                "rte_ring_cg_instructions_per_pkt", "ratio_cg_instructions_vqbench_over_rte_ring", "cg_packets",
                "vqbench_kicks_per_pkt", "vqbench_calls_per_pkt",
                "vqbench_c2c_ns_before", "vqbench_c2c_ns_after", "vqbench_placement_changed",
                "rte_ring_c2c_ns_before", "rte_ring_c2c_ns_after", "rte_ring_placement_changed",
                "placement_changed", "status", "host", "cpu_model", "kernel", "git_rev",
                "vqbench_args", "rte_ring_args", "command"],
    "tracking": ["round", "device", "layout", "descs", "dma", "batch", "queue_size", "pkt_bytes", "driver_cpu",
                 "device_cpu", "block_packets", "policy_order",
                 "full_ns_per_pkt", "skip_ns_per_pkt", "premapped_ns_per_pkt", "skip_minus_full_ns",
                 "premapped_minus_full_ns", "premapped_minus_skip_ns", "event_idx", "full_kicks_per_pkt",
                 "skip_kicks_per_pkt", "premapped_kicks_per_pkt", "c2c_ns_before", "c2c_ns_after",
                 "placement_changed", "status", "host", "cpu_model", "kernel", "git_rev", "vqbench_args",
                 "command", "counts_command"],
}
bad = []
with open(path, newline="") as f:
    r = csv.reader(f)
    head = next(r)
    rows = [dict(zip(head, x)) for x in r]
if head != HEAD[kind]:
    bad.append(f"header differs: {head}")
if len(rows) != want:
    bad.append(f"{len(rows)} rows, expected {want}")

def pos(r, k):
    try:
        v = float(r[k])
    except (KeyError, ValueError):
        bad.append(f"{k}={r.get(k)!r} is not a number")
        return None
    if not (math.isfinite(v) and v > 0):
        bad.append(f"{k}={v} is not a positive number")
        return None
    return v

for r in rows:
    if r.get("status") != "ok":
        bad.append(f"status {r.get('status')!r}")
    if any(x in ",".join(r.values()) for x in forbidden):
        bad.append("a path of this machine (the temporary or the source directory) in the row")
    if kind == "ceiling":
        a, b, q = pos(r, "vqbench_ns_per_pkt"), pos(r, "rte_ring_ns_per_pkt"), pos(r, "ratio_ns_vqbench_over_rte_ring")
        pos(r, "vqbench_mpps"), pos(r, "rte_ring_mpps")
        if None not in (a, b, q) and abs(q - a / b) > 1e-3 * q:
            bad.append(f"ratio {q} is not {a}/{b}")
        if r["cg_packets"]:  # the callgrind counts ran (COUNTS=1)
            ca, cb = pos(r, "vqbench_cg_instructions_per_pkt"), pos(r, "rte_ring_cg_instructions_per_pkt")
            cq = pos(r, "ratio_cg_instructions_vqbench_over_rte_ring")
            if None not in (ca, cb, cq) and abs(cq - ca / cb) > 1e-3 * cq:
                bad.append(f"instruction ratio {cq} is not {ca}/{cb}")
            if None not in (ca, cb) and not ca > cb:
                bad.append(f"vqbench's loop ({ca} instructions) is not above rte_ring's ({cb})")
        elif any(r[k] for k in ("vqbench_cg_instructions_per_pkt", "rte_ring_cg_instructions_per_pkt",
                                "ratio_cg_instructions_vqbench_over_rte_ring")):
            bad.append("instruction counts without cg_packets")
        if r["layout"] != "packed" or r["rte_ring_layout"] != "rte_ring" or r["in_order"] != "1" \
                or r["policy"] != "skip" or r["dma"] != "identity" or r["batch"] != "32" or r["descs"] != "1":
            bad.append(f"configuration {r['layout']} {r['in_order']} {r['policy']} {r['dma']} {r['batch']}")
        if r["placement_changed"] not in ("0", "1"):
            bad.append(f"placement_changed {r['placement_changed']!r}")
    else:
        ns = {p: pos(r, p + "_ns_per_pkt") for p in ("full", "skip", "premapped")}
        for p in ("full", "skip", "premapped"):
            pos(r, p + "_kicks_per_pkt")
        for a, b in (("skip", "full"), ("premapped", "full"), ("premapped", "skip")):
            try:
                d = float(r[f"{a}_minus_{b}_ns"])
            except ValueError:
                bad.append(f"{a}_minus_{b}_ns={r[f'{a}_minus_{b}_ns']!r} is not a number")
                continue
            if None not in (ns[a], ns[b]) and abs(d - (ns[a] - ns[b])) > 0.01:
                bad.append(f"{a}_minus_{b}_ns {d} is not {ns[a]} - {ns[b]}")
if kind == "tracking":  # the constant columns: on each device's first row only
    for i, r in enumerate(rows):
        lead = i == 0 or rows[i - 1]["device"] != r["device"]
        if bool(r["command"]) != lead or bool(r["host"]) != lead:
            bad.append(f"row {i + 1}: command/host {'missing on' if lead else 'repeated after'} the device's first row")
for b in bad:
    print(f"{path}: {b}")
sys.exit(1 if bad else 0)
EOF
}

# Can callgrind count here (not a sanitizer build; hugepages hideable)?
counts=0
# ldd's output taken whole first: under pipefail, `ldd | grep -q` fails
# whenever grep exits before ldd has written everything (SIGPIPE), which
# ran callgrind on a sanitizer build now and then
libs=$(ldd "$vqb" 2>/dev/null)
if command -v valgrind >/dev/null && ! grep -q 'lib[at]san' <<<"$libs" &&
	{ [ "$(id -u)" = 0 ] || ! grep -q ' hugetlbfs ' /proc/mounts; }; then
	counts=1
fi
# perf-ceiling.sh: one pair, both sides inline, with the callgrind counts if possible
PAIRS=1 SECONDS_PER_RUN=0.1 WARMUP=0 DEVICE=inline COUNTS=$counts CG_PACKETS=600,1600 \
	OUT="$tmp/r/perf-ceiling-20990101-000000.csv" bash "$scripts/perf-ceiling.sh" "$vqb" >"$tmp/ceil.log" 2>&1
rc=$?
cat "$tmp/ceil.log"
check "perf-ceiling.sh PAIRS=1 DEVICE=inline exits 0 (got $rc)" test $rc = 0
check "perf-ceiling.sh: CSV header, 1 ok row, numeric ratios = vqbench / rte_ring (ns and instructions)" \
	csvcheck "$tmp/r/perf-ceiling-20990101-000000.csv" ceiling 1
check "perf-ceiling.sh: devices recorded (inline on both sides)" \
	grep -q ',inline,inline,' "$tmp/r/perf-ceiling-20990101-000000.csv"
if [ "$counts" = 1 ]; then
	check "perf-ceiling.sh: the instruction counts ran (cg_packets 600,1600)" \
		grep -q ',"600,1600",' "$tmp/r/perf-ceiling-20990101-000000.csv"
fi

# perf-tracking.sh: two rounds of blocks, inline, with the callgrind counts if possible
BLOCKS=2 BLOCK_PACKETS=2000 WARMUP=0 DEVICES=inline COUNTS=$counts CG_PACKETS=600,1600 \
	OUT="$tmp/r/perf-tracking-20990101-000000.csv" bash "$scripts/perf-tracking.sh" "$vqb" >"$tmp/track.log" 2>&1
rc=$?
cat "$tmp/track.log"
check "perf-tracking.sh BLOCKS=2 DEVICES=inline exits 0 (got $rc)" test $rc = 0
check "perf-tracking.sh: CSV header, 4 ok rows (split, packed x 2 rounds), differences = ns columns" \
	csvcheck "$tmp/r/perf-tracking-20990101-000000.csv" tracking 4
check "perf-tracking.sh: the blocks CSV next to OUT, gzip'd, 12 blocks of 2000 packets" "$py" - \
	"$tmp/r/perf-tracking-blocks-20990101-000000.csv.gz" <<'EOF'
import csv, gzip, sys
rows = list(csv.DictReader(gzip.open(sys.argv[1], "rt", newline="")))
sys.exit(0 if len(rows) == 12 and all(r["packets"] == "2000" and r["status"] == "ok" for r in rows) else 1)
EOF
if [ $counts = 1 ]; then
	cf=$(ls "$tmp"/r/perf-tracking-counts-*.csv 2>/dev/null | head -1)
	check "perf-tracking.sh: counts CSV next to OUT" test -n "$cf"
	check "counts: 6 configurations with positive instruction counts" "$py" - "${cf:-/nonexistent}" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = len(rows) == 6 and {(r["layout"], r["policy"]) for r in rows} == \
    {(l, p) for l in ("split", "packed") for p in ("full", "skip", "premapped")} and \
    all(float(r["cg_instructions_per_pkt"]) > 0 for r in rows)
sys.exit(0 if ok else 1)
EOF
	# --by-source, from the same dumps: per source file, per policy; totals equal the counts
	af=$(ls "$tmp"/r/perf-annotate-*.csv 2>/dev/null | head -1)
	check "perf-tracking.sh: by-source CSV next to OUT" test -n "$af"
	check "by source: ring, tracking and payload sources; shares sum to 1; totals = the counts" \
		"$py" - "${af:-/nonexistent}" "${cf:-/nonexistent}" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
tot = {}
for r in rows:
    tot.setdefault((r["layout"], r["policy"]), {})[r["source"]] = float(r["instructions_per_pkt"])
assert set(tot) == {(l, p) for l in ("split", "packed") for p in ("full", "skip", "premapped")}, tot.keys()
for (lay, pol), by in tot.items():
    assert {"ring/vq_%s.c" % lay, "ring/vq_track.c", "dev/dev_payload.h"} <= set(by), (lay, pol, sorted(by))
    share = sum(float(r["share"]) for r in rows if (r["layout"], r["policy"]) == (lay, pol))
    assert abs(share - 1) < 0.01, (lay, pol, share)
counts = {(r["layout"], r["policy"]): float(r["cg_instructions_per_pkt"]) for r in csv.DictReader(open(sys.argv[2]))}
for k, by in tot.items():
    assert abs(sum(by.values()) - counts[k]) < 2, (k, sum(by.values()), counts[k])
def track(lay, pol):  # tracking is ring/vq_track.c and the files split from it (vq_track_used.c, ...)
    return sum(v for src, v in tot[(lay, pol)].items() if src.startswith("ring/vq_track"))
for lay in ("split", "packed"):
    assert track(lay, "full") > track(lay, "premapped"), (lay, track(lay, "full"), track(lay, "premapped"))
EOF
	# perf-attrib.sh with a prebuilt BEFORE (this binary: both sides count the same)
	if git -C "$scripts" rev-parse --git-dir >/dev/null 2>&1; then
		BEFORE=HEAD BEFORE_VQBENCH="$vqb" CG_PACKETS=600,1600 \
			SWEEP="--layout split --descs 1 --policy full --dma identity --dir tx" \
			OUT="$tmp/r/perf-attrib-20990101-000000.csv" bash "$scripts/perf-attrib.sh" "$vqb" >"$tmp/attrib.log" 2>&1
		rc=$?
		cat "$tmp/attrib.log"
		check "perf-attrib.sh with BEFORE_VQBENCH exits 0 (got $rc)" test $rc = 0
		check "perf-attrib: before and after rows, equal totals (one binary), sources sum to the total" \
			"$py" - "$tmp/r/perf-attrib-20990101-000000.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sides = {r["side"] for r in rows}
assert sides == {"before", "after"}, sides
tot = {r["side"]: float(r["total_instructions_per_pkt"]) for r in rows}
assert tot["before"] == tot["after"] > 0, tot
for s in sides:
    by = sum(float(r["instructions_per_pkt"]) for r in rows if r["side"] == s)
    assert abs(by - tot[s]) < 2, (s, by, tot[s])
assert all(r["layout"] == "split" and r["policy"] == "full" and r["dir"] == "tx" for r in rows)
EOF
	fi
else
	echo "note: callgrind counts not run (no valgrind, a sanitizer build, or hugepages without root)"
fi

# the report on what the scripts wrote
"$py" "$scripts/perf_report.py" --results "$tmp/r" >"$tmp/rep.log" 2>&1
rc=$?
check "perf_report.py on the scripts' CSVs exits 0 (got $rc)" test $rc = 0
ratio=$("$py" -c "import csv,sys; print('%.3f' % float(next(csv.DictReader(open(sys.argv[1])))['ratio_ns_vqbench_over_rte_ring']))" \
	"$tmp/r/perf-ceiling-20990101-000000.csv" 2>/dev/null)
check "report: the ceiling's median ratio is the one pair's ($ratio)" grep -qF "**Median ratio $ratio** over 1 pairs" "$tmp/r/PERFORMANCE.md"
check "report: both sides inline, so no \"not like for like\" note" bash -c '! grep -qF "Not like for like" "$0"' "$tmp/r/PERFORMANCE.md"
check "report: tracking rows for inline split and packed" \
	bash -c "grep -q '^| inline | split | skip − full |' '$tmp/r/PERFORMANCE.md' && grep -q '^| inline | packed | premapped − full |' '$tmp/r/PERFORMANCE.md'"

# bad values: exit 2, one line naming the variable and the value
while read -r script var value; do
	env "$var=$value" OUT="$tmp/bad.csv" bash "$scripts/$script" "$vqb" >"$tmp/bad.out" 2>&1
	rc=$?
	check "$script $var='$value' exits 2 (got $rc)" test $rc = 2
	check "$script $var='$value': the message names it" grep -qF "$var='$value'" "$tmp/bad.out"
done <<'CASES'
perf-ceiling.sh PAIRS 0
perf-ceiling.sh SECONDS_PER_RUN -1
perf-ceiling.sh DEVICE vfio
perf-tracking.sh BLOCKS x
perf-tracking.sh BLOCK_PACKETS 0
perf-tracking.sh THREAD_BLOCKS 0
perf-tracking.sh DEVICES inline,foo
perf-tracking.sh COUNTS 2
perf-attrib.sh CG_PACKETS x
perf-attrib.sh BEFORE no-such-revision
CASES
check "no CSV written for bad values" test ! -e "$tmp/bad.csv"
bash "$scripts/perf-ceiling.sh" "$tmp/no-vqbench" >"$tmp/nov.out" 2>&1
rc=$?
check "perf-ceiling.sh with a missing vqbench exits 2 naming it (got $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'no-vqbench' '$tmp/nov.out'"

echo "test_perf_scripts: $checks checks, $fails failed"
[ $fails = 0 ]
