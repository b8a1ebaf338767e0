#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_basic.sh VQBENCH [SRC] - --help, --version (and its git revision
# against SRC's), --sysinfo and unknown options.
set -u
vqb=$1
. "$(dirname "$0")/helpers.sh"
out=$("$vqb" --help); rc=$?
check "--help exits 0" test $rc = 0
check "--help documents exit codes" grep -q 'Exit codes' <<<"$out"
check "--help lists --sysinfo" grep -q -- '--sysinfo' <<<"$out"

out=$("$vqb" --version); rc=$?
check "--version exits 0" test $rc = 0
check "--version names vqbench and DPDK" grep -Eq '^vqbench [0-9]+\.[0-9]+\.[0-9]+.*' <<<"$out"
check "--version names DPDK 22.11" grep -q 'DPDK 22.11' <<<"$out"
# the revision is taken at build time, not at configure time: it names the
# tree the binary was built from (a stale one would mislabel every CSV row)
src=${2:-}
if [ -n "$src" ] && git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	want=$(git -C "$src" describe --always --dirty --abbrev=12)
	check "--version names the source tree's revision ($want)" grep -qF "(git $want)" <<<"$out"
fi

out=$("$vqb" --sysinfo 2>&1); rc=$?
check "--sysinfo exits 0" test $rc = 0
check "--sysinfo initialised DPDK's EAL with >= 1 lcore" grep -Eq '^dpdk eal: +DPDK 22\.11[^,]*, [1-9][0-9]* lcore' <<<"$out"
check "--sysinfo read cores from hwloc" grep -Eq '^topology: +[1-9][0-9]* package\(s\), [1-9][0-9]* core' <<<"$out"
check "--sysinfo read NUMA nodes from libnuma" grep -Eq '^numa nodes: +([1-9][0-9]*|not available)' <<<"$out"

err=$("$vqb" --bogus 2>&1 >/dev/null); rc=$?
check "unknown option exits 2" test $rc = 2
check "unknown option is named in the error" grep -q "'--bogus'" <<<"$err"

echo "test_cli_basic: $checks checks, $fails failed"
[ $fails = 0 ]
