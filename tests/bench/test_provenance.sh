#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_provenance.sh SCRIPTS_DIR - the scripts that write results refuse a
# tree with uncommitted changes. In a scratch git repository holding a copy
# of scripts/: with one uncommitted file, study.sh, perf-all.sh, regress.sh,
# regress-repeat.sh and skip-matrix.py exit 2 naming the file and --allow-dirty, before
# building or writing anything; with --allow-dirty they get past the check
# (and stop at the missing vqbench given), writing under OUT/dirty-<UTC>/
# a DIRTY file naming the change; on a clean tree the check passes.
set -uo pipefail
src=$(cd "$1" && pwd)
. "$(dirname "$0")/helpers.sh"
scratch test_provenance
repo=$tmp/repo
mkdir -p "$repo/scripts"
cp "$src"/study.sh "$src"/perf-all.sh "$src"/regress.sh "$src"/regress-repeat.sh "$src"/skip-matrix.py "$src"/provenance.sh "$repo/scripts/"
# a CMakeLists.txt beside scripts/ makes it a source tree (an installed copy
# has none and names the installed version instead of a commit)
: >"$repo/CMakeLists.txt"
git -C "$repo" init -q
git -C "$repo" -c user.name=t -c user.email=t@t add -A
git -C "$repo" -c user.name=t -c user.email=t@t commit -qm base
echo change > "$repo/uncommitted.txt"
nobin=$tmp/no-such-vqbench

refused() { # NAME OUTFILE RC
	[ "$3" = 2 ] && grep -q "refusing to run on a tree with uncommitted changes" "$2" &&
		grep -q "uncommitted.txt" "$2" && grep -q -- "--allow-dirty" "$2"
}
run() { (cd "$repo" && "$@") >"$tmp/out" 2>&1; echo $?; }

rc=$(run bash scripts/study.sh --out "$tmp/s" --vqbench "$nobin")
check "study.sh refuses a dirty tree (exit $rc)" refused study "$tmp/out" "$rc"
check "study.sh wrote nothing" [ ! -e "$tmp/s" ]
rc=$(run bash scripts/perf-all.sh "$nobin")
check "perf-all.sh refuses a dirty tree (exit $rc)" refused perf-all "$tmp/out" "$rc"
rc=$(run bash scripts/regress.sh --vqbench "$nobin" --keep "$tmp/r")
check "regress.sh refuses a dirty tree (exit $rc)" refused regress "$tmp/out" "$rc"
check "regress.sh wrote nothing" [ ! -e "$tmp/r" ]
rc=$(run bash scripts/regress-repeat.sh --vqbench "$nobin" --out "$tmp/rr")
check "regress-repeat.sh refuses a dirty tree (exit $rc)" refused regress-repeat "$tmp/out" "$rc"
check "regress-repeat.sh wrote nothing" [ ! -e "$tmp/rr" ]
rc=$(run python3 scripts/skip-matrix.py --vqbench "$nobin" --out "$tmp/m")
check "skip-matrix.py refuses a dirty tree (exit $rc)" refused skip-matrix "$tmp/out" "$rc"
check "skip-matrix.py wrote nothing" [ ! -e "$tmp/m" ]

dirty_dir() { # OUT: exactly one dirty-YYYYmmdd-HHMMSS dir whose DIRTY names the change
	local d
	d=$(find "$1" -maxdepth 1 -name 'dirty-[0-9]*-[0-9]*' -type d 2>/dev/null)
	[ "$(printf '%s\n' "$d" | grep -c .)" = 1 ] && grep -q "^dirty: made .* with uncommitted changes" "$d/DIRTY" &&
		grep -q "uncommitted.txt" "$d/DIRTY"
}
rc=$(run bash scripts/study.sh --allow-dirty --out "$tmp/s" --vqbench "$nobin")
check "study.sh --allow-dirty passes the check (exit $rc at the missing vqbench)" \
	bash -c "[ $rc = 2 ] && grep -q 'is not an executable' '$tmp/out' && ! grep -q refusing '$tmp/out'"
check "study.sh --allow-dirty marks its output directory" dirty_dir "$tmp/s"
rc=$(run bash scripts/regress.sh --allow-dirty --vqbench "$nobin" --thresholds "$tmp/th.txt" --keep "$tmp/r")
check "regress.sh --allow-dirty passes the check (exit $rc at the benchmark)" \
	bash -c "[ $rc = 1 ] && ! grep -q refusing '$tmp/out'"
check "regress.sh --allow-dirty marks its --keep directory" dirty_dir "$tmp/r"
rc=$(run python3 scripts/skip-matrix.py --allow-dirty --vqbench "$nobin" --out "$tmp/m")
check "skip-matrix.py --allow-dirty passes the check (exit $rc at the missing vqbench)" \
	bash -c "[ $rc = 1 ] && grep -q 'not an executable' '$tmp/out' && ! grep -q refusing '$tmp/out'"
check "skip-matrix.py --allow-dirty marks its output directory" dirty_dir "$tmp/m"
rc=$(run bash scripts/perf-all.sh --allow-dirty "$nobin")
check "perf-all.sh --allow-dirty passes the check (exit $rc at the missing vqbench)" \
	bash -c "[ $rc = 2 ] && grep -q 'no vqbench' '$tmp/out' && ! grep -q refusing '$tmp/out'"

rm "$repo/uncommitted.txt"
rc=$(run bash scripts/study.sh --out "$tmp/c" --vqbench "$nobin")
check "clean tree: study.sh passes the check (exit $rc at the missing vqbench)" \
	bash -c "[ $rc = 2 ] && grep -q 'is not an executable' '$tmp/out' && ! grep -q refusing '$tmp/out'"
echo "test_provenance: $checks checks, $fails failed"
[ $fails = 0 ]
