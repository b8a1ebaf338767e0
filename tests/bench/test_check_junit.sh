#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_check_junit.sh VQBENCH XSD - vqbench --check ... --junit FILE:
#   - thresholds with bounds that hold, three that fall short (exact, count,
#     ratio), one optional that no row matches and one required that no row
#     matches: the XML validates against junit.xsd (xmllint), holds one
#     testcase per bound, 4 failures, 1 skipped, the counts in the
#     attributes; each failure names the bound, the measured value and the
#     CSV rows, and the named row of the CSV holds that value;
#   - all bounds hold: exit 0, failures="0"; --junit -: XML on stdout, the
#     ok/FAIL lines on stderr; an unwritable --junit path: exit 2;
#   - "optional" in the thresholds grammar: a bound without a kind after it
#     is refused naming file:line.
set -u
vqb=$1 xsd=$2
. "$(dirname "$0")/helpers.sh"
command -v xmllint >/dev/null || { echo "xmllint missing: install libxml2-utils (scripts/install-deps.sh)" >&2; exit 1; }
scratch test_check_junit

"$vqb" --quiet --device inline --layout split,packed --descs 1,4 --policy full,skip --packets 5000 --reps 2 \
	--warmup 0 --csv "$tmp/run.csv" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
fp=$(python3 -c '
import csv, sys
r = [r for r in csv.DictReader(open(sys.argv[1])) if (r["layout"], r["descs"], r["policy"]) == ("split", "4", "skip")]
print(r[0]["footprint_bytes"])' "$tmp/run.csv")
cat >"$tmp/th.txt" <<TH
# 3 hold, 3 fall short, 1 optional skipped, 1 required with no row
exact errors == 0
exact maps_per_pkt where layout=split,descs=1,policy=full == 1
ratio maps_per_pkt policy=full / policy=skip where layout=packed,descs=4 >= 1
exact footprint_bytes where layout=split,descs=4,policy=skip == $((fp - 8))
count unmaps_per_pkt where layout=packed,descs=1,policy=full <= 0.5
ratio unmaps_per_pkt policy=skip / policy=full where layout=split,descs=4 >= 1
optional exact footprint_bytes where layout=split,queue_size=1024 == 1
exact footprint_bytes where layout=rte_ring == 1
TH
"$vqb" --check "$tmp/th.txt" --junit "$tmp/out.xml" "$tmp/run.csv" >"$tmp/check.out" 2>&1
rc=$?
check "a check with failing bounds exits 1 (got $rc)" test $rc = 1
check "the text output has a skip line for the optional bound" grep -q '^skip optional exact footprint_bytes' "$tmp/check.out"
xmllint --noout --schema "$xsd" "$tmp/out.xml" 2>"$tmp/lint.err"
check "the JUnit XML validates against junit.xsd ($(tail -1 "$tmp/lint.err"))" test $? = 0
count() { xmllint --xpath "$1" "$tmp/out.xml"; }
check "8 testcases, one per bound" test "$(count 'count(//testcase)')" = 8
check "4 failures" test "$(count 'count(//testcase/failure)')" = 4
check "1 skipped" test "$(count 'count(//testcase/skipped)')" = 1
check "the attributes count them: tests=8 failures=4 skipped=1 errors=0" \
	test "$(count 'concat(//testsuite/@tests," ",//testsuite/@failures," ",//testsuite/@skipped," ",//testsuite/@errors)')" = "8 4 1 0"
check "the skipped testcase is the optional bound" \
	test "$(count 'string(//testcase[skipped]/@line)')" = 8
check "the rte_ring bound (no row, not optional) is a failure" \
	test "$(count 'count(//testcase[@line=9]/failure)')" = 1
# The exact failure: bound, value and rows; the rows hold that value.
msg=$(count 'string(//testcase[@line=5]/failure/@message)')
check "the exact failure's message: measured $fp, expected == $((fp - 8)) ($msg)" \
	test "$msg" = "measured $fp, expected == $((fp - 8))"
text=$(count 'string(//testcase[@line=5]/failure)')
check "the failure text names the bound" grep -q "^bound: exact footprint_bytes where layout=split,descs=4,policy=skip == $((fp - 8))$" <<<"$text"
check "the failure text names the value" grep -q "^value: footprint_bytes $fp$" <<<"$text"
rows=$(sed -n 's/^rows: //p' <<<"$text")
check "the failure text names the CSV rows ($rows)" grep -q "^$tmp/run.csv:[0-9]" <<<"$rows"
check "each named row of the CSV holds the measured value" python3 - "$rows" "$fp" <<'EOF2'
import csv, sys
spec, want = sys.argv[1], sys.argv[2]
path, lines = spec.rsplit(":", 1)
table = list(csv.reader(open(path, newline="")))
col = table[0].index("footprint_bytes")
lines = [int(x) for x in lines.split(",")]
assert len(lines) == 2, lines
for n in lines:
    assert table[n - 1][col] == want, (n, table[n - 1][col], want)
EOF2
check "the count and ratio failures name their values and rows" \
	test "$(count 'count(//failure[starts-with(@message,"measured ") and contains(.,"rows: ") and contains(.,"run.csv:")])')" = 3
check "a holding bound keeps its ok line in system-out" \
	grep -q '^1 == 1 (2 rows)' <<<"$(count 'string(//testcase[@line=3]/system-out)')"

grep -v -e '== 1$' -e '<= 0.5' -e 'skip / policy=full' "$tmp/th.txt" | sed "s/== $((fp - 8))/== $fp/" >"$tmp/good.txt"
"$vqb" --check "$tmp/good.txt" --junit - "$tmp/run.csv" >"$tmp/good.xml" 2>"$tmp/good.err"
rc=$?
check "all bounds hold: exit 0 (got $rc)" test $rc = 0
check "--junit -: stdout is the XML, valid" xmllint --noout --schema "$xsd" "$tmp/good.xml"
check "--junit -: failures=\"0\", tests=\"3\"" grep -q 'tests="3" failures="0" errors="0" skipped="0"' "$tmp/good.xml"
check "--junit -: the ok lines went to stderr" grep -q '^check: 3 of 3 bounds hold' "$tmp/good.err"

"$vqb" --check "$tmp/good.txt" --junit "$tmp/nodir/x.xml" "$tmp/run.csv" >/dev/null 2>"$tmp/nodir.err"
rc=$?
check "an unwritable --junit path exits 2 (got $rc)" test $rc = 2
check "... naming the path" grep -q "vqbench: --junit: cannot write '$tmp/nodir/x.xml'" "$tmp/nodir.err"
printf 'optional footprint_bytes == 1\n' >"$tmp/badopt.txt"
"$vqb" --check "$tmp/badopt.txt" "$tmp/run.csv" >/dev/null 2>"$tmp/badopt.err"
rc=$?
check "'optional' without a kind exits 2 (got $rc)" test $rc = 2
check "... naming file:line" grep -q "badopt.txt:1: 'footprint_bytes' is not a kind of bound" "$tmp/badopt.err"
[ $fails = 0 ] && echo "test_check_junit: ok"
exit $((fails > 0))
