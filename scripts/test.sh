#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh [PRESET] - install what is missing, then configure, build and run
# the CTest suite with one workflow preset (default: release; also debug,
# asan, tsan). The README's second command, and what .ci/run calls.
# Exit: the workflow's status; 1 also when CI=true and a test was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
if ! scripts/install-deps.sh --check >/dev/null 2>&1; then
	scripts/install-deps.sh
fi
# The DPDK paths (hugepage memory, rte_mempool pools) are tested only where
# hugepages exist: reserve some when we may.
if [ "$(id -u)" = 0 ]; then
	scripts/hugepages.sh 1024 || echo "test.sh: notice: could not reserve hugepages; DPDK runs on 4 KiB pages" >&2
fi
# Skipped tests (exit 77: the machine cannot run them) are named with their
# reason after the run (scripts/test-skips.py, from CTest's JUnit file); with
# CI=true (set by CI runners) a skip fails the run.
junit="build/$preset/ctest-junit.xml"
rm -f "$junit"
rc=0
cmake --workflow --preset "$preset" || rc=$?
skip_args=()
[ "${CI:-}" = true ] && skip_args=(--fail-on-skip)
if [ -f "$junit" ]; then
	scripts/test-skips.py "${skip_args[@]}" "$junit" || { [ $rc = 0 ] && rc=1; }
fi
exit $rc
