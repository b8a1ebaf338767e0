#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz.sh [short|long] [HARNESS...] - build the libFuzzer harnesses (fuzz/,
# the `fuzz` CMake preset: clang, ASan + UBSan) and run each one.
#
#   short  a fixed number of executions per harness (seed 1, so a CI run
#          is repeatable), each well under a minute here; what .ci/run runs
#   long   FUZZ_SECONDS per harness (default 600), random seed, all CPUs
#          (-fork=$(nproc)); for a soak of the parsers
#
# Each harness starts from its committed seed corpus (fuzz/corpus/NAME) and
# the inputs of crashes already fixed (fuzz/regress/NAME); new corpus units
# go to build/fuzz/work/NAME/corpus, never into the repository. A crash
# stops with exit 1 and the path of the input: keep it as
# fuzz/regress/NAME/<what-it-is> with the fix, and the CTest
# test_NAME replays it from then on.
# Environment: FUZZ_BUILD (build directory, default build/fuzz),
# FUZZ_SECONDS (long mode), FUZZ_RUNS_SCALE (multiplies short-mode runs).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
shift || true
case $mode in
short | long) ;;
*) echo "usage: scripts/fuzz.sh [short|long] [HARNESS...]" >&2; exit 2 ;;
esac

# short mode: executions per harness (about 20-45 s each on this machine's
# two vCPUs with the sanitizers; the ring driver harness opens a DMA-debug
# backend per input, the vhost-user backend harness a socket connection and
# a thread, and a set-up that succeeds waits DEV_VU_SETTLE_MS)
declare -A runs=(
	[fuzz_check]=300000
	[fuzz_csv]=300000
	[fuzz_opts]=1500000
	[fuzz_ring_dev]=1500000
	[fuzz_ring_drv]=40000
	[fuzz_virtio_pci]=1000000
	[fuzz_vu_backend]=1200
	[fuzz_vu_msg]=300000
)
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	harnesses=($(printf '%s\n' "${!runs[@]}" | sort))
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
scale=${FUZZ_RUNS_SCALE:-1}
status=0
summary=()
for h in "${harnesses[@]}"; do
	bin=$build/fuzz/$h
	if [ ! -x "$bin" ]; then
		echo "fuzz.sh: no harness '$h' (have: ${!runs[*]})" >&2
		exit 2
	fi
	work=$build/work/$h
	mkdir -p "$work/corpus"
	inputs=("$work/corpus" "fuzz/corpus/$h")
	[ -d "fuzz/regress/$h" ] && inputs+=("fuzz/regress/$h")
	common=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$work/" -print_final_stats=1)
	if [ "$mode" = short ]; then
		args=(-runs=$((${runs[$h]} * scale)) -seed=1 -max_total_time=120)
	else
		args=(-max_total_time="${FUZZ_SECONDS:-600}" -fork="$(nproc)" -ignore_crashes=0)
	fi
	echo "=== fuzz.sh $mode: $h"
	t0=$SECONDS
	set +e
	"$bin" "${common[@]}" "${args[@]}" "${inputs[@]}" >"$work/log" 2>&1
	rc=$?
	set -e
	# short: the final stats; long (-fork): the last status line's count
	execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -1 || true)
	[ -n "$execs" ] || execs=$(grep -a -o '^#[0-9]*' "$work/log" | tail -1 | tr -d '#' || true)
	if [ $rc -ne 0 ]; then
		status=1
		grep -a -E 'FUZZ_CHECK|ERROR:|SUMMARY:|Test unit written|Timeout' "$work/log" | head -20 >&2 || true
		echo "fuzz.sh: $h FAILED (exit $rc; log $work/log); keep the input above in fuzz/regress/$h/ with the fix" >&2
		summary+=("$(printf '%-16s %10s execs %4ds  FAILED' "$h" "${execs:-?}" $((SECONDS - t0)))")
	else
		summary+=("$(printf '%-16s %10s execs %4ds  ok' "$h" "${execs:-?}" $((SECONDS - t0)))")
	fi
done
echo
echo "fuzz.sh $mode summary:"
printf '  %s\n' "${summary[@]}"
exit $status
