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
#     CSV exits 2; --check with no CSV exits 2.
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

echo "test_check_cli: $checks checks, $fails failed"
[ $fails = 0 ]
