#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perf-attrib.sh [VQBENCH] - where one packet's instructions go, source file
# by source file, before and after: the revision BEFORE is built from a git
# archive in a scratch directory (release preset: -O2 -g, link-time
# optimisation), then scripts/callgrind-counts.py --by-source counts the
# packet loop of that build and of VQBENCH on the same sweep (TX, 1
# descriptor, --policy full, --dma identity, inline device, split and
# packed: issue 20's instruction target). One CSV holds both sides; the
# report (scripts/perf_report.py) puts them side by side with the parts the
# target names: the payload fill and check (dev/dev_payload.h), the traffic
# loop (bench/), and everything else (ring, tracking, DMA, device).
#
# Environment:
#   BEFORE          revision to compare against (default ad403d7f9289, the main
#                   branch before issue 20's hot-path work)
#   BEFORE_VQBENCH  a vqbench already built from BEFORE (skips the build;
#                   the CSV still names BEFORE as its revision)
#   SWEEP           vqbench sweep options (default: --layout split,packed
#                   --descs 1 --policy full --dma identity --batch 32
#                   --queue-size 256 --pkt-bytes 64 --dir tx)
#   CG_PACKETS      SMALL,LARGE packets of the two callgrind runs (2000,12000)
#   RESULTS_DIR     results
#   OUT             RESULTS_DIR/perf-attrib-<UTC>.csv
# Needs git (a source tree), cmake, a C compiler and valgrind. The build
# takes a few minutes on two CPUs. Exit: 0 ok, 1 the build or a count
# failed, 2 bad usage or missing tools.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "perf-attrib.sh: too many arguments (usage: scripts/perf-attrib.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
before=${BEFORE:-ad403d7f9289}
sweep_txt=${SWEEP:---layout split,packed --descs 1 --policy full --dma identity --batch 32 --queue-size 256 --pkt-bytes 64 --dir tx}
cg_packets=${CG_PACKETS:-2000,12000}
results=${RESULTS_DIR:-results}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$results/perf-attrib-$stamp.csv}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

[ -x "$vqb" ] || { echo "perf-attrib.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "perf-attrib.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
for t in git cmake valgrind; do
	command -v "$t" >/dev/null || { echo "perf-attrib.sh: $t not found (scripts/install-deps.sh)" >&2; exit 2; }
done
git rev-parse --git-dir >/dev/null 2>&1 || { echo "perf-attrib.sh: not in a git source tree (BEFORE is built from git)" >&2; exit 2; }
before_rev=$(git rev-parse --verify --quiet "$before^{commit}") ||
	{ echo "perf-attrib.sh: BEFORE='$before' is not a commit of this repository" >&2; exit 2; }
after_rev=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || after_rev="$after_rev+dirty"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d -t vqb_attrib.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
read -r -a sweep <<<"$sweep_txt"

before_vqb=${BEFORE_VQBENCH:-}
if [ -z "$before_vqb" ]; then
	echo "perf-attrib.sh: building ${before_rev:0:12} (release preset) in a scratch directory"
	mkdir -p "$tmp/src"
	git archive "$before_rev" | tar -x -C "$tmp/src"
	{ cmake --preset release -S "$tmp/src" >"$tmp/build.log" 2>&1 ||
		cmake -S "$tmp/src" -B "$tmp/src/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON \
			-DVQB_WERROR=ON >>"$tmp/build.log" 2>&1; } &&
		nice -n 5 cmake --build "$tmp/src/build/release" -j2 --target vqbench >>"$tmp/build.log" 2>&1 ||
		{ echo "perf-attrib.sh: building ${before_rev:0:12} failed:" >&2; tail -n 20 "$tmp/build.log" >&2; exit 1; }
	before_vqb="$tmp/src/build/release/bench/vqbench"
fi
[ -x "$before_vqb" ] || { echo "perf-attrib.sh: BEFORE_VQBENCH='$before_vqb' is not an executable" >&2; exit 2; }

count() { # count SIDE VQBENCH
	scripts/callgrind-counts.py --vqbench "$2" --packets "$cg_packets" --csv "$tmp/$1.csv" \
		--by-source "$tmp/$1-src.csv" -- "${sweep[@]}" >"$tmp/$1.log" 2>&1 ||
		{ echo "perf-attrib.sh: counting the $1 build failed:" >&2; tail -n 15 "$tmp/$1.log" >&2; exit 1; }
	sed -n 's/^  /perf-attrib.sh: '"$1"': /p' "$tmp/$1.log"
}
count before "$before_vqb"
count after "$vqb"

"$py" - "$tmp" "$out" "$before_rev" "$after_rev" "$cg_packets" "$sweep_txt" <<'EOF'
import csv, sys
tmp, out, before_rev, after_rev, packets, sweep = sys.argv[1:]
cmd = f"BEFORE={before_rev[:12]} scripts/perf-attrib.sh (scripts/callgrind-counts.py --packets {packets} --by-source -- {sweep})"
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["side", "revision", "layout", "policy", "descs", "dma", "dir", "source",
                "instructions_per_pkt", "share", "total_instructions_per_pkt", "command"])
    for side, rev in (("before", before_rev), ("after", after_rev)):
        totals = {}
        for r in csv.DictReader(open(f"{tmp}/{side}.csv")):
            totals[(r["layout"], r["policy"], r["descs"], r["dma"])] = (r["dir"], r["cg_instructions_per_pkt"])
        for r in csv.DictReader(open(f"{tmp}/{side}-src.csv")):
            d, tot = totals[(r["layout"], r["policy"], r["descs"], r["dma"])]
            w.writerow([side, rev, r["layout"], r["policy"], r["descs"], r["dma"], d, r["source"],
                        r["instructions_per_pkt"], r["share"], tot, cmd])
EOF
echo "perf-attrib.sh: wrote $out"
