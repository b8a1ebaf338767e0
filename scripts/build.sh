#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build.sh [PRESET] - install missing Debian packages, then configure and
# build vqbench with a CMake preset (default: release). Quiet when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
if ! scripts/install-deps.sh --check >/dev/null 2>&1; then
	scripts/install-deps.sh
fi
if [ ! -f "build/$preset/CMakeCache.txt" ]; then
	cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" -j "$(nproc)" -- --no-print-directory >/dev/null
