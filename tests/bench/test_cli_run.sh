#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_run.sh VQBENCH CHECK_CSV_PY - the vqbench pipeline end to end:
# exit code 2 and one line for bad values (before any run), an unwritable
# --csv, a sweep whose every configuration is refused; a small real sweep
# (refused configurations skipped, one CSV row per repetition, the table on
# stdout, no progress off a terminal) whose CSV Python loads as is; --csv -.
set -u
vqb=$1 check_csv=$2
. "$(dirname "$0")/helpers.sh"
scratch test_cli_run

# Bad values: exit 2, nothing on stdout, one line naming flag, value, allowed.
while read -r flag value; do
	out=$("$vqb" "$flag" "$value" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	check "$flag '$value' exits 2" test $rc = 2
	check "$flag '$value': one line naming flag, value and allowed" \
		grep -qx "vqbench: $flag: '$value' .* (allowed: .*)" <<<"$err"
	check "$flag '$value': nothing on stdout" test -z "$out"
done <<'CASES'
--layout ring
--queue-size 3x
--descs 20
--pkt-bytes 0
--indirect yes
--batch 0
--dir up
--policy fast
--dma nommu
--device qemu
--queues 0
--queues 65
--mem-node 4096
--packets -5
--seconds 0
--pages 1g
--warmup x
--reps 0
--cores 0,0
--order random
--format yaml
CASES
err=$("$vqb" --foo 2>&1 >/dev/null); rc=$?
check "unknown option exits 2" test $rc = 2
check "unknown option is named" test "$err" = "vqbench: unknown option '--foo' (see vqbench --help)"
err=$("$vqb" --packets 10 --seconds 1 2>&1 >/dev/null); rc=$?
check "--packets with --seconds exits 2 naming both" \
	bash -c '[ $0 = 2 ] && grep -q -- "--packets" <<<"$1" && grep -q -- "--seconds" <<<"$1"' "$rc" "$err"

# An unwritable CSV path is refused before any run.
err=$("$vqb" --csv "$tmp/no/such/dir/x.csv" --packets 1000 2>&1 >/dev/null); rc=$?
check "unwritable --csv exits 2" test $rc = 2
check "unwritable --csv names the path" grep -q "'$tmp/no/such/dir/x.csv'" <<<"$err"
check "unwritable --csv: refused before the EAL or a run" bash -c '! grep -q -e "driver on CPU" -e notice <<<"$0"' "$err"

# Every configuration refused: exit 2 naming the value.
err=$("$vqb" --layout split --queue-size 100 --policy full --descs 1 --csv "$tmp/r.csv" 2>&1 >/dev/null); rc=$?
check "a refused single configuration exits 2" test $rc = 2
check "the refusal names --queue-size 100" grep -q -- "--queue-size 100" <<<"$err"
check "no CSV is written for a refused sweep" test ! -e "$tmp/r.csv"

# A small real sweep: split is refused (queue size 96 is not a power of
# two) and skipped; packed runs 2 policies x 2 repetitions.
"$vqb" --layout split,packed --queue-size 96 --descs 1,2-3 --policy full,skip --packets 20000 \
	--reps 2 --warmup 1 --csv "$tmp/out.csv" >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out" "$tmp/err"
check "the sweep exits 0" test $rc = 0
check "refused configurations are skipped with a notice each" \
	test "$(grep -c '^vqbench: skipping configuration split' "$tmp/err")" = 4
check "the sweep is counted before running" grep -q '^sweep: 4 configurations x 2 repetitions (+1 warmup) = 12 runs' "$tmp/out"
check "the table has a row per configuration" test "$(grep -cE '^packed descs=(1|2-3) (full|skip) +2 ' "$tmp/out")" = 4
check "no progress line off a terminal" bash -c '! grep -q $'"'"'\r'"'"' "$0"' "$tmp/err"
"$vqb" --list-columns --format csv >"$tmp/schema.csv"
check "--list-columns --format csv exits 0" test $? = 0
check "the CSV has a header and 8 rows (warmups not written)" test "$(wc -l <"$tmp/out.csv")" = 9
check "Python loads the CSV (csv module, pandas when installed)" \
	python3 "$check_csv" "$tmp/out.csv" "$tmp/schema.csv" 8

# --csv -: CSV on stdout, the table on stderr.
"$vqb" --layout packed --descs 1 --policy full --packets 5000 --reps 1 --warmup 0 --csv - -q \
	>"$tmp/stdout.csv" 2>"$tmp/err"; rc=$?
check "--csv - exits 0" test $rc = 0
check "--csv - puts the header first on stdout" bash -c 'head -1 "$0" | grep -q "^schema_version,vqbench_version,"' "$tmp/stdout.csv"
check "--csv - puts one row on stdout" test "$(wc -l <"$tmp/stdout.csv")" = 2
check "--csv - puts the table on stderr" grep -q '^config ' "$tmp/err"

# --pages: 4k is anonymous 4 KiB pages (transparent hugepages refused), 2m
# DPDK's hugepage memory (scripts/test.sh reserves hugepages; without any
# the run falls back with a notice, which a machine with none must show).
"$vqb" --device inline --layout split --descs 1 --policy full --pages 4k,2m --packets 20000 --reps 1 \
	--warmup 0 --csv "$tmp/pages.csv" >/dev/null 2>"$tmp/err"; rc=$?
check "--pages 4k,2m exits 0" test $rc = 0
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
want2m=2097152
[ "${free:-0}" -ge 64 ] || want2m=4096
check "--pages: page_bytes 4096 for 4k and $want2m for 2m, every packet verified" python3 - "$tmp/pages.csv" "$want2m" <<'PY'
import csv, sys
rows = {r["pages"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert set(rows) == {"4k", "2m"}, rows.keys()
assert rows["4k"]["page_bytes"] == "4096", rows["4k"]["page_bytes"]
assert rows["2m"]["page_bytes"] == sys.argv[2], rows["2m"]["page_bytes"]
assert rows["4k"]["memory"] == "4k-pages", rows["4k"]["memory"]
for r in rows.values():
    assert r["status"] == "ok" and r["errors"] == "0" and int(r["packets"]) >= 20000, r
PY
if [ "$want2m" = 4096 ]; then
	check "--pages 2m without hugepages: a notice names the fallback" grep -q "notice: --pages 2m" "$tmp/err"
fi

echo "test_cli_run: $checks checks, $fails failed"
[ $fails = 0 ]
