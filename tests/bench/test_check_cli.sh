#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_check_cli.sh VQBENCH THRESHOLDS - vqbench --check end to end:
#   - a real short run passes the exact bounds of the committed thresholds
#     file (footprints and DMA calls per packet of this code);
#   - the same CSV doctored (one footprint 8 bytes larger) fails: exit 1,
#     one FAIL line naming the metric, the configuration, the expected and
#     the measured value; a ratio bound out of reach fails the same way;
#   - a bad thresholds file exits 2 naming file:line; a missing or foreign
#     CSV exits 2; --check with no CSV exits 2;
#   - with SCRIPTS_DIR (third argument): scripts/derive-thresholds.py
#     derives a ratio bound from each baseline run's median of rep-by-rep
#     ratios (a pair flagged placement_changed left out), min - 2 x
#     (median - min) of its own runs or of the runs pooled over its kind
#     and backend, whichever is lower, capped at median / 2 (and says so);
#     vqbench --check
#     holds a run to those bounds: a numerator 0.6 x its neighbour fails.
set -uo pipefail
vqb=$1
thresholds=$2
. "$(dirname "$0")/helpers.sh"
scratch test_check_cli

"$vqb" --quiet --device inline --layout split,packed --descs 1,4 --policy full,compact,skip,premapped \
	--dma identity,bounce,iommu --packets 5000 --reps 2 --warmup 0 --csv "$tmp/run.csv" >"$tmp/run.log" 2>&1
rc=$?
check "the short run succeeds (exit $rc)" test $rc = 0
[ $rc = 0 ] || { cat "$tmp/run.log"; exit 1; }

grep '^exact' "$thresholds" >"$tmp/exact.txt"
n=$(wc -l <"$tmp/exact.txt")
check "the committed thresholds have exact bounds ($n)" test "$n" -ge 8
"$vqb" --check "$tmp/exact.txt" "$tmp/run.csv" >"$tmp/good.out" 2>&1
rc=$?
check "a fresh run passes all $n committed exact bounds (exit $rc)" test $rc = 0
[ $rc = 0 ] && check "every bound has an ok line" test "$(grep -c '^ok ' "$tmp/good.out")" = "$n"
[ $rc = 0 ] || cat "$tmp/good.out" >&2

# Doctor the first split descs=1 full row: footprint + 8 bytes.
python3 - "$tmp/run.csv" "$tmp/doctored.csv" >"$tmp/doctor.txt" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
for r in rows:
    if (r["layout"], r["descs"], r["policy"]) == ("split", "1", "full"):
        old = int(r["footprint_bytes"])
        r["footprint_bytes"] = str(old + 8)
        print(old, old + 8)
        break
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
EOF
read -r old new <"$tmp/doctor.txt"
"$vqb" --check "$tmp/exact.txt" "$tmp/doctored.csv" >"$tmp/bad.out" 2>&1
rc=$?
check "the doctored CSV fails the check (exit $rc, want 1)" test $rc = 1
line=$(grep '^FAIL' "$tmp/bad.out")
check "exactly one bound fails" test "$(grep -c '^FAIL' "$tmp/bad.out")" = 1
check "the FAIL line names metric and configuration: $line" \
	grep -q '^FAIL exact footprint_bytes where layout=split,descs=1,dma=identity,policy=full:' <<<"$line"
check "the FAIL line names the expected bound and the measured value" \
	grep -q "measured $new, expected == $old" <<<"$line"
check "the summary says 1 bound fell short" grep -q "^check: 1 of $n bounds fell short" "$tmp/bad.out"

printf 'ratio mpps policy=skip / policy=full where layout=split,descs=1 >= 1000\n' >"$tmp/ratio.txt"
"$vqb" --check "$tmp/ratio.txt" "$tmp/run.csv" >"$tmp/ratio.out" 2>&1
rc=$?
check "a ratio out of reach fails (exit $rc, want 1)" test $rc = 1
check "the ratio FAIL line names the expected bound" grep -q '^FAIL ratio mpps .*expected >= 1000' "$tmp/ratio.out"

printf 'exact footprint_bytes == 1\nexact mpps where layout=split == 3\n' >"$tmp/bad.txt"
"$vqb" --check "$tmp/bad.txt" "$tmp/run.csv" >"$tmp/badth.out" 2>&1
rc=$?
check "a bad thresholds file exits 2 (got $rc)" test $rc = 2
check "the message names file:line and the reason" grep -q "bad.txt:2: metric mpps is a rate, too noisy" "$tmp/badth.out"

"$vqb" --check "$tmp/exact.txt" "$tmp/nosuch.csv" >"$tmp/missing.out" 2>&1
rc=$?
check "a missing CSV exits 2 (got $rc)" test $rc = 2
check "the message names the file" grep -q "nosuch.csv" "$tmp/missing.out"
printf 'a,b\n1,2\n' >"$tmp/foreign.csv"
"$vqb" --check "$tmp/exact.txt" "$tmp/foreign.csv" >"$tmp/foreign.out" 2>&1
rc=$?
check "a CSV of another schema exits 2 (got $rc)" test $rc = 2
"$vqb" --check "$tmp/exact.txt" >"$tmp/nocsv.out" 2>&1
rc=$?
check "--check with no CSV exits 2 (got $rc)" test $rc = 2

if [ -n "${3:-}" ]; then
scripts=$3
# A baseline of 5 runs from the short run's rows (split and packed, descs 1,
# identity and bounce, full and premapped, reps 0 and 1): premapped / full pairs at
# 1.20 + 0.01 x run on split and 1.22 in every run on packed, whatever the
# rep's base rate (packed's own spread is 0: its bound comes from the
# spread pooled over the ratios on its backend, split's); in run 1
# rep 1's premapped row is flagged placement_changed and 3x slower (left
# out: else that run's median pair would be 0.81); packed / split at 1.0,
# but on bounce 0.6 in run 4 (spread wide enough for the median / 2 cap of
# every bounce ratio: the pool), and split premapped on bounce 0.3 in run 3
# (below median / 2: no bound).
python3 - "$tmp/run.csv" "$tmp/base.csv" "$tmp/counts.csv" "$tmp/slow.csv" <<'EOF'
import csv, sys
src, base, counts, slow = sys.argv[1:5]
rows = [r for r in csv.DictReader(open(src, newline=""))
        if r["descs"] == "1" and r["dma"] in ("identity", "bounce") and r["policy"] in ("full", "premapped")]
cols = list(rows[0])
out = []
for run in range(5):
    for r in rows:
        r = dict(r, baseline_run=str(run))
        rate = 10.0 if r["rep"] == "0" else 4.0
        if r["layout"] == "packed" and r["dma"] == "bounce":
            rate *= 0.6 if run == 4 else 1.0
        if r["layout"] == "split" and r["dma"] == "bounce" and r["policy"] == "premapped":
            rate *= 0.3 if run == 3 else 1.0
        if r["policy"] == "premapped":
            rate *= 1.20 + 0.01 * run if r["layout"] == "split" else 1.22
            if run == 1 and r["rep"] == "1":
                rate /= 3
                r["placement_changed"] = "1"
        r["mpps"] = repr(rate)
        out.append(r)
with open(base, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols + ["baseline_run"], lineterminator="\n")
    w.writeheader()
    w.writerows(out)
with open(counts, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(dict(r, cg_instructions_per_pkt="100", cg_d1_misses_per_pkt="1"))
# a run whose premapped rows are 0.6 x as fast as their full neighbours
with open(slow, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(dict(r, mpps=repr(5.0 * (0.6 if r["policy"] == "premapped" else 1.0))))
EOF
python3 "$scripts/derive-thresholds.py" --runs "$tmp/base.csv" --counts "$tmp/counts.csv" --out "$tmp/derived.txt" \
	>"$tmp/derive.log" 2>&1
rc=$?
check "derive-thresholds.py on a 5-run baseline (exit $rc)" test $rc = 0
[ $rc = 0 ] || cat "$tmp/derive.log" >&2
check "paired premapped/full bound: min 1.200 - 2 x (1.220 - 1.200) = 1.160 (the flagged pair left out)" \
	grep -q "^ratio mpps policy=premapped / policy=full where layout=split,descs=1,dma=identity >= 1.160  # 5 runs: median 1.220, min 1.200, max 1.240; bound min - 2 x (median - min) = 1.160, or the same from the lowest run / median of every ratio on dma=identity (0.984) = 1.160, whichever is lower; fails a 1.05x slowdown" "$tmp/derived.txt"
check "packed, no spread of its own: the pooled spread sets its bound (1.22 x (0.984 - 2 x 0.016) = 1.160)" \
	grep -q "^ratio mpps policy=premapped / policy=full where layout=packed,descs=1,dma=identity >= 1.160  # 5 runs: median 1.220, min 1.220, max 1.220; bound min - 2 x (median - min) = 1.220, or the same .* = 1.160, whichever is lower" "$tmp/derived.txt"
check "packed/split on bounce, spread 0.6..1.0: capped at median / 2 and says so" \
	grep -q "^ratio mpps layout=packed / layout=split where descs=1,dma=bounce,policy=full >= 0.500  # 5 runs: median 1.000, min 0.600, max 1.000; capped at median / 2 (bound min - 2 x (median - min) = -0.200, .*); fails a 2.00x slowdown" "$tmp/derived.txt"
check "premapped/full on bounce, no spread of its own, capped by its backend's pool" \
	grep -q "^ratio mpps policy=premapped / policy=full where layout=packed,descs=1,dma=bounce >= 0.610  # 5 runs: median 1.220, .*; fails a 2.00x slowdown" "$tmp/derived.txt"
check "split premapped/full on bounce, one run at 0.3 of the rest: no bound, a comment line says why" \
	grep -q "^# no bound: ratio mpps policy=premapped / policy=full where layout=split,descs=1,dma=bounce  # 5 runs: median 1.210, min 0.369, max 1.240; a run of unchanged code fell below median / 2" "$tmp/derived.txt"
check "no bound line for it" bash -c "! grep -q '^ratio mpps policy=premapped / policy=full where layout=split,descs=1,dma=bounce' '$tmp/derived.txt'"
check "packed/split on identity: its pool (lowest 0.984 of median) sets 0.951" \
	grep -q "^ratio mpps layout=packed / layout=split where descs=1,dma=identity,policy=full >= 0.951 " "$tmp/derived.txt"
grep '^ratio' "$tmp/derived.txt" >"$tmp/ratios.txt"
"$vqb" --check "$tmp/ratios.txt" "$tmp/slow.csv" >"$tmp/slow.out" 2>&1
rc=$?
check "vqbench --check: premapped at 0.6 x its full neighbour fails the derived bound (exit $rc)" test $rc = 1
check "the failing line names the bound, the measured paired median and the pairs" \
	grep -q "^FAIL ratio mpps policy=premapped / policy=full where layout=split,descs=1,dma=identity: measured 0.6, expected >= 1.16 (mpps: median of 2 paired ratios" "$tmp/slow.out"
check "packed/split at 1.0 holds its capped bound" \
	grep -q "^ok   ratio mpps layout=packed / layout=split where descs=1,dma=bounce,policy=full: 1 >= 0.5 (mpps: median of 2 paired ratios" "$tmp/slow.out"
[ $fails = 0 ] || cat "$tmp/derived.txt" "$tmp/slow.out" >&2
fi

echo "test_check_cli: $checks checks, $fails failed"
[ $fails = 0 ]
