#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh [short|long] [HARNESS...] - build the libFuzzer harnesses (fuzz/,
# the `fuzz` CMake preset: clang, ASan + UBSan) and run each one. A harness
# passes only when it ran every execution asked of it: one stopped by a time
# cap before that fails, as does a crash, a sanitizer report or a hang.
#
#   short  what .ci/run runs: per harness, a fixed number of executions
#          with seed 1 (repeatable), then as many with a fresh seed, printed
#          with the command that reproduces it (FUZZ_SEED sets it); each run
#          is well under a minute here, capped at FUZZ_CAP_SECONDS (900)
#   long   FUZZ_LONG_RUNS executions per harness (10000000) or
#          FUZZ_LONG_SECONDS (3600) where a harness is slower: a run that
#          reaches the executions passes, one stopped by the time cap passes
#          only when the cap is at least an hour. Random seed (FUZZ_SEED
#          sets it), one process per harness (nice it: nice -n 15). After
#          the run the corpus is minimised (libFuzzer -merge=1: the named
#          seeds of fuzz/gen_corpus.py stay, every other unit is kept only
#          if it adds coverage) into fuzz/corpus/NAME, for you to commit;
#          results/fuzz-long-<UTC>.csv gets one row per harness (executions,
#          time, coverage edges and features of the corpus before and after,
#          findings) and results/FUZZ.md is written from every such CSV
#          (scripts/fuzz_report.py). Refuses a tree with uncommitted changes
#          other than its own outputs (fuzz/corpus, results/FUZZ.md) unless
#          FUZZ_ALLOW_DIRTY=1, which marks the rows dirty.
#
# Each harness starts from its committed corpus (fuzz/corpus/NAME) and the
# inputs of crashes already fixed (fuzz/regress/NAME); new units go to
# build/fuzz/work/NAME/corpus (long; kept from run to run) or to an emptied
# build/fuzz/work/NAME/short-SEED (short: a seed reproduces). A crash stops that harness with the path of
# the input: fix the owning code, keep the input as
# fuzz/regress/NAME/<what-it-is>, and the CTest test_NAME replays it.
# Environment: FUZZ_BUILD (build directory, default build/fuzz),
# FUZZ_RUNS_SCALE (multiplies short-mode runs), FUZZ_SEED, FUZZ_CAP_SECONDS,
# FUZZ_LONG_RUNS, FUZZ_LONG_SECONDS, FUZZ_ALLOW_DIRTY.
# Exit: 0 every harness passed, 1 one failed, 2 usage or a missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
shift || true
case $mode in
short | long) ;;
-h | --help) sed -n '3,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: scripts/fuzz.sh [short|long] [HARNESS...] (--help explains)" >&2; exit 2 ;;
esac

# short mode: executions per harness and seed (about 20-45 s each on this
# machine's two vCPUs with the sanitizers; the ring driver harness opens a
# DMA-debug backend per input, the vhost-user backend harness a socket
# connection and a thread: ~600 inputs/s with the machine loaded)
declare -A runs=(
	[fuzz_check]=300000
	[fuzz_csv]=300000
	[fuzz_opts]=1500000
	[fuzz_ring_dev]=1500000
	[fuzz_ring_drv]=40000
	[fuzz_virtio_pci]=1000000
	[fuzz_vu_backend]=12000
	[fuzz_vu_msg]=300000
)
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	harnesses=($(printf '%s\n' "${!runs[@]}" | sort))
fi
for h in "${harnesses[@]}"; do
	[ -n "${runs[$h]:-}" ] || { echo "fuzz.sh: no harness '$h' (have: $(printf '%s\n' "${!runs[@]}" | sort | tr '\n' ' '))" >&2; exit 2; }
done
num() { case $2 in '' | *[!0-9]*) echo "fuzz.sh: $1='$2' is not a whole number" >&2; exit 2 ;; esac; }
long_runs=${FUZZ_LONG_RUNS:-10000000} long_secs=${FUZZ_LONG_SECONDS:-3600} cap=${FUZZ_CAP_SECONDS:-900}
scale=${FUZZ_RUNS_SCALE:-1}
num FUZZ_LONG_RUNS "$long_runs"; num FUZZ_LONG_SECONDS "$long_secs"; num FUZZ_CAP_SECONDS "$cap"
num FUZZ_RUNS_SCALE "$scale"
[ -z "${FUZZ_SEED:-}" ] || num FUZZ_SEED "$FUZZ_SEED"

rev=$(git describe --always --long --abbrev=12 2>/dev/null || echo unknown)
if [ "$mode" = long ]; then
	dirty=$(git status --porcelain --untracked-files=no -- . ':!fuzz/corpus' ':!results/FUZZ.md' 2>/dev/null || true)
	if [ -n "$dirty" ]; then
		if [ "${FUZZ_ALLOW_DIRTY:-0}" != 1 ]; then
			echo "fuzz.sh: uncommitted changes; results/ takes only runs of committed code (commit, or FUZZ_ALLOW_DIRTY=1 to mark the rows dirty):" >&2
			echo "$dirty" >&2
			exit 2
		fi
		rev=$rev-dirty
	fi
fi

build=${FUZZ_BUILD:-build/fuzz}
if ! command -v clang >/dev/null; then
	echo "fuzz.sh: clang not found: install the Debian package 'clang' (scripts/install-deps.sh)" >&2
	exit 2
fi
if [ "$build" = build/fuzz ]; then
	[ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j "$(nproc)" -- --no-print-directory >/dev/null
else
	cmake --build "$build" -j "$(nproc)" --target fuzz_all -- --no-print-directory >/dev/null
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fresh_seed() { # a seed libFuzzer accepts (1..2^31-1), from FUZZ_SEED or the kernel
	if [ -n "${FUZZ_SEED:-}" ]; then echo "$FUZZ_SEED"; else echo $(($(od -An -N4 -tu4 /dev/urandom) % 2147483646 + 1)); fi
}
# cov_of BIN DIR: "edges features" of a corpus (libFuzzer's INITED line)
cov_of() {
	"$1" -runs=0 -timeout=10 -rss_limit_mb=2048 -max_len=8192 "$2" 2>&1 |
		grep -a -o 'INITED cov: [0-9]* ft: [0-9]*' | tail -1 | awk '{print $3, $5}'
}

status=0
summary=()
csv=
if [ "$mode" = long ]; then
	mkdir -p results
	csv=results/fuzz-long-$(date -u +%Y%m%d-%H%M%S).csv
	while [ -e "$csv" ]; do sleep 1; csv=results/fuzz-long-$(date -u +%Y%m%d-%H%M%S).csv; done
	echo "harness,git_rev,seed,target_execs,time_cap_s,execs,seconds,execs_per_s,edges_before,features_before,corpus_before,edges_after,features_after,corpus_after,findings,finding_input,result" >"$csv"
fi

# run_one NAME SEED RUNS CAP: one libFuzzer run; sets rc, execs, secs, log
run_one() {
	local h=$1 seed=$2 want=$3 tcap=$4
	local bin=$build/fuzz/$h work=$build/work/$h new=$build/work/$h/corpus
	# short: new units into an empty directory, so that the same seed over
	# the same committed corpus reproduces the run
	[ "$mode" = short ] && { new=$work/short-$seed; rm -rf "$new"; }
	mkdir -p "$new"
	local inputs=("$new" "fuzz/corpus/$h")
	[ -d "fuzz/regress/$h" ] && inputs+=("fuzz/regress/$h")
	log=$work/log-$seed
	local t0=$SECONDS
	set +e
	"$bin" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$work/" -print_final_stats=1 \
		-runs="$want" -seed="$seed" -max_total_time="$tcap" "${inputs[@]}" >"$log" 2>&1
	rc=$?
	set -e
	secs=$((SECONDS - t0))
	execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
	[ -n "$execs" ] || execs=$(grep -a -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
	execs=${execs:-0}
}

# verdict NAME SEED WANT CAP HOUR_OK: prints the reason and returns 1 when
# the run did not count (crash, or stopped before WANT executions)
verdict() {
	local h=$1 seed=$2 want=$3 tcap=$4 hour_ok=$5
	if [ "$rc" -ne 0 ]; then
		grep -a -E 'FUZZ_CHECK|ERROR:|SUMMARY:|Test unit written|Timeout' "$log" | head -20 >&2 || true
		echo "fuzz.sh: $h seed $seed FAILED (exit $rc after $execs executions; log $log);" \
			"fix it and keep the input above in fuzz/regress/$h/; reproduce: FUZZ_SEED=$seed scripts/fuzz.sh $mode $h" >&2
		why="FAILED (exit $rc)"
		return 1
	fi
	if [ "$execs" -lt "$want" ]; then
		if [ "$hour_ok" = 1 ] && [ "$secs" -ge "$tcap" ]; then
			why="ok (time cap $tcap s)"
			return 0
		fi
		echo "fuzz.sh: $h seed $seed FAILED: stopped after $execs of $want executions (time cap $tcap s; log $log)" >&2
		why="FAILED ($execs of $want executions by the $tcap s cap)"
		return 1
	fi
	why=ok
}

for h in "${harnesses[@]}"; do
	if [ "$mode" = short ]; then
		want=$((${runs[$h]} * scale))
		for seed in 1 "$(fresh_seed)"; do
			[ "$seed" = 1 ] && kind="fixed seed" || kind="fresh seed"
			echo "=== fuzz.sh short: $h, $kind $seed, $want executions (reproduce: FUZZ_SEED=$seed scripts/fuzz.sh short $h)"
			run_one "$h" "$seed" "$want" "$cap"
			verdict "$h" "$seed" "$want" "$cap" 0 || status=1
			summary+=("$(printf '%-16s seed %-10s %10s execs %4ds  %s' "$h" "$seed" "$execs" "$secs" "$why")")
		done
		continue
	fi
	# long
	bin=$build/fuzz/$h
	seed=$(fresh_seed)
	corpus_before=$(find "fuzz/corpus/$h" -type f | wc -l)
	read -r e0 f0 < <(cov_of "$bin" "fuzz/corpus/$h")
	hour_ok=0
	[ "$long_secs" -ge 3600 ] && hour_ok=1
	echo "=== fuzz.sh long: $h, seed $seed, $long_runs executions or $long_secs s (corpus: $corpus_before units, $e0 edges, $f0 features)"
	run_one "$h" "$seed" "$long_runs" "$long_secs"
	findings=0 finding=
	if verdict "$h" "$seed" "$long_runs" "$long_secs" "$hour_ok"; then :; else
		status=1
		if [ "$rc" -ne 0 ]; then
			findings=1
			finding=$(grep -a -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/.*\///' || true)
		fi
	fi
	# minimise: the named seeds stay, every other unit only if it adds coverage
	work=$build/work/$h
	rm -rf "$work/merged" && mkdir -p "$work/merged"
	find "fuzz/corpus/$h" -maxdepth 1 -type f ! -regex '.*/[0-9a-f]\{40\}' -exec cp {} "$work/merged/" \;
	if "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 "$work/merged" "$work/corpus" "fuzz/corpus/$h" \
		>"$work/merge.log" 2>&1; then
		find "fuzz/corpus/$h" -maxdepth 1 -type f -delete
		cp "$work/merged"/* "fuzz/corpus/$h/"
	else
		echo "fuzz.sh: $h: the corpus merge failed (log $work/merge.log); fuzz/corpus/$h left as it was" >&2
		status=1
	fi
	corpus_after=$(find "fuzz/corpus/$h" -type f | wc -l)
	read -r e1 f1 < <(cov_of "$bin" "fuzz/corpus/$h")
	rate=$(awk -v e="$execs" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? e / s : 0) }')
	echo "$h,$rev,$seed,$long_runs,$long_secs,$execs,$secs,$rate,$e0,$f0,$corpus_before,$e1,$f1,$corpus_after,$findings,$finding,$why" >>"$csv"
	summary+=("$(printf '%-16s seed %-10s %10s execs %5ds  edges %s -> %s, features %s -> %s, corpus %s -> %s  %s' \
		"$h" "$seed" "$execs" "$secs" "$e0" "$e1" "$f0" "$f1" "$corpus_before" "$corpus_after" "$why")")
done
echo
echo "fuzz.sh $mode summary:"
printf '  %s\n' "${summary[@]}"
if [ "$mode" = long ]; then
	python3 scripts/fuzz_report.py results >/dev/null && echo "fuzz.sh: wrote $csv and results/FUZZ.md (commit them with fuzz/corpus)"
fi
exit $status
