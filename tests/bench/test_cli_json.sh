#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_json.sh VQBENCH JSON_VS_CSV - vqbench --json end to end:
#   - a short sweep with --csv and --json: the JSON Lines file equals the
#     CSV field by field (json_vs_csv.py: names, order, types, null for an
#     empty cell), and --list-columns --format json is the CSV's schema;
#   - --json -: stdout holds only JSON lines (the table goes to stderr);
#   - SIGINT mid-sweep: whole lines only, as many as the CSV's rows;
#   - /dev/full: exit 1 naming the JSON file; --json with --check, --junit
#     without --check, --json - with --csv -: exit 2 naming the flag.
set -u
set -m # job control: the background run gets SIGINT
vqb=$1 cmp=$2
. "$(dirname "$0")/helpers.sh"
scratch test_cli_json

"$vqb" --list-columns --format json >"$tmp/schema.json"
check "--list-columns --format json exits 0" test $? = 0
check "the JSON schema parses and lists every CSV column" python3 -c '
import csv, json, sys
d = json.load(open(sys.argv[1]))
names = [r["column"] for r in csv.DictReader(open(sys.argv[2]))]
assert [c["name"] for c in d["columns"]] == names, "column lists differ"
assert d["schema_version"] >= 2
' "$tmp/schema.json" <("$vqb" --list-columns --format csv)

# every null kind: hw_* (not countable here), target_s (a packet-count run),
# mem_node (local), error (ok rows); floats, ints, bools, strings
"$vqb" --quiet --device inline --layout split,packed --descs 1,3-4 --policy full,skip \
	--packets 3000 --reps 2 --warmup 0 --csv "$tmp/run.csv" --json "$tmp/run.jsonl" >"$tmp/out" 2>&1
rc=$?
check "a short sweep with --csv and --json exits 0 (got $rc)" test $rc = 0
[ $rc = 0 ] || cat "$tmp/out"
check "the output names the JSON file and its rows" grep -q "^json: $tmp/run.jsonl (16 rows)" "$tmp/out"
check "JSON Lines equal the CSV field by field" python3 "$cmp" "$tmp/run.jsonl" "$tmp/run.csv" "$tmp/schema.json"

"$vqb" --quiet --device inline --layout split --descs 2 --policy compact --packets 2000 --reps 3 --warmup 0 \
	--csv "$tmp/stdout.csv" --json - >"$tmp/stdout.jsonl" 2>"$tmp/stdout.err"
rc=$?
check "--json - exits 0 (got $rc)" test $rc = 0
check "--json -: stdout is only JSON lines, equal to the CSV" \
	python3 "$cmp" "$tmp/stdout.jsonl" "$tmp/stdout.csv" "$tmp/schema.json"
check "--json -: the table went to stderr" grep -q "^split compact identity  *3 " "$tmp/stdout.err"

# SIGINT in the middle: 12 configurations x 3 repetitions of 0.1 s
"$vqb" --quiet --device inline --layout split,packed --descs 1,2,4 --policy full,skip --seconds 0.1 \
	--reps 3 --warmup 0 --csv "$tmp/int.csv" --json "$tmp/int.jsonl" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 300); do
	[ -f "$tmp/int.jsonl" ] && [ "$(wc -l <"$tmp/int.jsonl")" -ge 3 ] && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT: exit 130 (got $rc)" test $rc = 130
check "SIGINT: the JSON lines are whole and equal the CSV's rows" \
	python3 "$cmp" "$tmp/int.jsonl" "$tmp/int.csv" "$tmp/schema.json"
n=$(wc -l <"$tmp/int.jsonl")
check "SIGINT: some but not all rows ($n of 36)" test "$n" -ge 3 -a "$n" -lt 36

if [ -w /dev/full ]; then
	"$vqb" --quiet --device inline --layout split --descs 1 --policy full --packets 1000 --reps 1 --warmup 0 \
		--csv "$tmp/full.csv" --json /dev/full >/dev/null 2>"$tmp/full.err"
	rc=$?
	check "--json /dev/full exits 1 (got $rc)" test $rc = 1
	check "--json /dev/full: the message names the JSON file" \
		grep -q "cannot write the JSON file '/dev/full'" "$tmp/full.err"
fi
while IFS='|' read -r args want; do
	# shellcheck disable=SC2086
	"$vqb" $args >/dev/null 2>"$tmp/bad.err"
	rc=$?
	check "$args: exit 2 (got $rc)" test $rc = 2
	check "$args: the message says '$want'" grep -q -- "$want" "$tmp/bad.err"
done <<CASES
--check x.txt --json out.jsonl run.csv|--json out.jsonl: --check writes no rows
--junit out.xml --packets 10|--junit out.xml: only with --check
--json - --csv -|--json - and --csv -: both on stdout
--json $tmp/nodir/x.jsonl --packets 10|--json: cannot write '$tmp/nodir/x.jsonl'
CASES
# An unwritable --json is refused after the default CSV was opened: nothing
# ran, so no header-only results/vqbench-*.csv stays behind.
mkdir "$tmp/cwd"
(cd "$tmp/cwd" && "$vqb" --json "$tmp/nodir/x.jsonl" --packets 10 >/dev/null 2>&1)
check "an unwritable --json leaves no default CSV behind ($(ls "$tmp/cwd/results" 2>/dev/null | wc -l) files)" \
	test -z "$(ls "$tmp/cwd/results" 2>/dev/null)"
[ $fails = 0 ] && echo "test_cli_json: ok"
exit $((fails > 0))
