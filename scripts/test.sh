#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh [PRESET] - install what is missing, then configure, build and run
# the CTest suite with one workflow preset (default: release; also debug,
# asan, tsan). The README's second command, and what .ci/run calls.
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
exec cmake --workflow --preset "$preset"
