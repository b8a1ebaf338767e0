#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench.sh [VQBENCH OPTIONS] - install what is missing, build, and run
# vqbench (with no options: the default study). The README's first command.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/build.sh" release
exec "$here/build/release/bench/vqbench" "$@"
