#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# regress-repeat.sh - the false-alarm rate of the regression check: run
# scripts/regress.sh N times on unchanged code, one run after the other,
# and record each run's verdict in results/regress-repeat-<UTC>.csv.
#
# Usage: scripts/regress-repeat.sh [--runs N] [--vqbench PATH] [--out DIR] [--counts FILE] [--allow-dirty]
#   --runs N         how many checks (default 20)
#   --counts FILE    give every run these callgrind counts (regress.sh
#                    --counts, e.g. the baseline's results/baseline-counts-
#                    <UTC>.csv) instead of counting afresh: callgrind's
#                    counts repeat exactly for one binary, so this measures
#                    the timed bounds' false alarms in about a third of the
#                    time; the CSV's column counts names the file (empty:
#                    counted afresh every run)
#   --vqbench PATH   the binary (default: build/release/bench/vqbench, built
#                    with scripts/build.sh when missing)
#   --out DIR        where the CSV goes (default: results/); the older
#                    regress-repeat-*.csv there is removed (git keeps it)
#   --allow-dirty    as scripts/regress.sh: on a tree with uncommitted
#                    changes, write under DIR/dirty-<UTC>/ (refused otherwise)
# Each row: run, started (UTC), exit (regress.sh's: 0 all bounds hold, 1 a
# bound fell short), seconds, bounds, failed (bounds that fell short),
# failed_bounds (their lines, ' | ' between them), thresholds, git_rev,
# retried (timed ratios short in a first run that regress.sh re-ran: the
# verdict and failed are the confirming run's), counts (--counts' file, or
# empty). The
# last line printed gives the false alarms: runs with exit 1 out of N. The
# CSV is what README "Regression thresholds" quotes. About N x 2 minutes.
# Exit: 0 written (whatever the verdicts), 1 a run failed for another reason
# than a bound (exit other than 0 and 1), 2 bad usage or a dirty tree.
set -euo pipefail
cd "$(dirname "$0")/.."
n=20 vqb= out=results allow_dirty=0 counts=
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) n=$2; shift 2 ;;
		--vqbench) vqb=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--counts) counts=$2; shift 2 ;;
		--allow-dirty) allow_dirty=1; shift ;;
		-h|--help) sed -n '3,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "regress-repeat.sh: unknown argument '$1' (allowed: --runs N, --vqbench PATH, --out DIR, --counts FILE, --allow-dirty)" >&2; exit 2 ;;
	esac
done
case "$n" in ''|0|*[!0-9]*) echo "regress-repeat.sh: --runs '$n' (allowed: a whole number >= 1)" >&2; exit 2 ;; esac
if [ -n "$counts" ]; then
	[ -f "$counts" ] || { echo "regress-repeat.sh: --counts '$counts' is not a file (allowed: a callgrind counts CSV, e.g. results/baseline-counts-<UTC>.csv)" >&2; exit 2; }
	counts=$(cd "$(dirname "$counts")" && pwd)/$(basename "$counts")
fi
. scripts/provenance.sh
vqb_provenance regress-repeat.sh "$allow_dirty"
dirty=()
if [ "$VQB_DIRTY" = 1 ]; then out=$out/$VQB_DIRTY_DIR; vqb_mark_dirty "$out"; dirty=(--allow-dirty); fi
if [ -z "$vqb" ]; then
	scripts/build.sh release
	vqb=build/release/bench/vqbench
fi
[ -x "$vqb" ] || { echo "regress-repeat.sh: '$vqb' is not an executable" >&2; exit 2; }
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M%S)
old=$(ls -1 "$out"/regress-repeat-[0-9]*-[0-9]*.csv 2>/dev/null || true)
csv=$out/regress-repeat-$stamp.csv
tmpcsv=$csv.tmp
rev=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo "no revision")
log=$(mktemp)
trap 'rm -f "$log" "$log.final" "$tmpcsv"' EXIT
echo "run,started,exit,seconds,bounds,failed,failed_bounds,thresholds,git_rev,retried,counts" >"$tmpcsv"
alarms=0 other=0
for i in $(seq 1 "$n"); do
	t0=$SECONDS started=$(date -u +%Y-%m-%dT%H:%M:%SZ) rc=0
	scripts/regress.sh --vqbench "$vqb" "${dirty[@]}" ${counts:+--counts "$counts"} >"$log" 2>&1 || rc=$?
	secs=$((SECONDS - t0))
	th=$(sed -n 's/^regress.sh: vqbench --check //p' "$log" | xargs -r basename)
	summary=$(grep '^check: ' "$log" | tail -n 1 || true)
	bounds=$(sed -n 's/^check: [0-9]* of \([0-9]*\) bounds.*/\1/p' <<<"$summary")
	# regress.sh re-runs the timed benchmark once when only timed ratios
	# fell short: the verdict is the second check's; the first check's
	# ratios go to column retried
	retried=$(sed -n 's/^regress.sh: only timed ratio bounds fell short (\([0-9]*\)).*/\1/p' "$log")
	final=$log
	if [ -n "$retried" ]; then final=$log.final; sed -n '/^regress.sh: only timed ratio bounds fell short/,$p' "$log" >"$final"; fi
	failed=$(grep -c '^FAIL ' "$final" || true)
	# (grep finds nothing when every bound holds: not an error)
	fl=$({ grep '^FAIL ' "$final" || true; } | sed 's/^FAIL //; s/ \[[^]]*\]$//; s/"/'"'"'/g' | paste -sd'|' | sed 's/|/ | /g')
	echo "$i,$started,$rc,$secs,${bounds:-},$failed,\"$fl\",${th:-},$rev,${retried:-0},$(basename "${counts:-}")" >>"$tmpcsv"
	case "$rc" in
		0) echo "regress-repeat.sh: run $i of $n: all ${bounds:-?} bounds hold ($secs s)${retried:+; the first timed run had $retried ratio(s) short, the confirming run none}" ;;
		1) if [ -n "$summary" ]; then alarms=$((alarms + 1)); else other=$((other + 1)); fi
		   echo "regress-repeat.sh: run $i of $n: $failed bound(s) fell short ($secs s)"
		   grep '^FAIL ' "$final" | sed 's/^/  /' ;;
		*) other=$((other + 1)); echo "regress-repeat.sh: run $i of $n: regress.sh exit $rc ($secs s):"; tail -n 5 "$log" | sed 's/^/  /' ;;
	esac
done
mv "$tmpcsv" "$csv"
for f in $old; do rm -f "$f"; echo "regress-repeat.sh: removed the older $f"; done
echo "regress-repeat.sh: $alarms of $n runs of unchanged code failed a bound (false alarms); $other failed otherwise; $csv"
[ "$other" = 0 ]
