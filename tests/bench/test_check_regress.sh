#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_check_regress.sh CONTROL INJECT_PREMAPPED INJECT_ALL SCRIPTS_DIR -
# vqbench --check catches a real regression (issue 21).
#
# CONTROL is vqbench linked as the variants are (tests/bench/CMakeLists.txt);
# INJECT_PREMAPPED and INJECT_ALL add extra per-buffer work on the map path
# (ring/vq_inject.h): of policy premapped only, and of every policy. Over
# split and packed x full, compact, skip, premapped x identity, bounce,
# iommu (1 descriptor; skip runs on identity only, the skip rule refuses it
# on the other two: 20 configurations), the test
#   1. counts CONTROL under callgrind and derives count bounds from it with
#      scripts/derive-thresholds.py (the tolerance regress.sh uses);
#   2. counts CONTROL again: --check passes (the counts repeat);
#   3. counts INJECT_PREMAPPED: --check fails, on exactly the six
#      policy=premapped instruction bounds (both layouts, every backend),
#      and no other bound;
#   4. counts INJECT_ALL: --check fails on every instruction bound.
# Each failing cell is printed with its growth over the baseline. Exit 77
# (skip) only without valgrind; about 3-5 minutes on 2 loaded cores.
set -uo pipefail
vqb=$1 inj_pm=$2 inj_all=$3 scripts=$4
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed (scripts/install-deps.sh)"; exit 77; }
tmp=$(mktemp -d -t vqb_test_check_regress.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
sweep=(--layout split,packed --policy full,compact,skip,premapped --dma identity,bounce,iommu --descs 1)
packets=600,1600
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
counts() { # BINARY OUT
	local t0=$SECONDS
	if ! "$py" "$scripts/callgrind-counts.py" --vqbench "$1" --packets "$packets" --csv "$2" -- "${sweep[@]}" \
		>"$2.log" 2>&1; then
		cat "$2.log" >&2
		echo "FAIL: callgrind-counts.py on $(basename "$1")" >&2
		exit 1
	fi
	echo "counted $(basename "$1") under callgrind: $(($(wc -l <"$2") - 1)) configurations, $((SECONDS - t0)) s"
}
check() { # CSV -> $tmp/check.out, returns vqbench's exit code
	"$vqb" --check "$tmp/th.txt" "$1" >"$tmp/check.out" 2>&1
}
# The instruction bounds that failed, as "layout=..,descs=..,dma=..,policy=.." (sorted).
failed_cells() {
	grep '^FAIL count cg_instructions_per_pkt where ' "$tmp/check.out" |
		sed 's/^FAIL count cg_instructions_per_pkt where \([^ :]*\)[ :].*/\1/' | sort
}
growth() { # BASE.csv VARIANT.csv: each configuration's instructions per packet, base -> variant
	"$py" - "$1" "$2" <<'PY'
import csv, sys
key = lambda r: f"{r['layout']} {r['policy']} {r['dma']} descs={r['descs']}"
b = {key(r): float(r["cg_instructions_per_pkt"]) for r in csv.DictReader(open(sys.argv[1]))}
for r in csv.DictReader(open(sys.argv[2])):
    v = float(r["cg_instructions_per_pkt"])
    k = key(r)
    print(f"  {k:<36} {b[k]:8.1f} -> {v:8.1f} instructions/packet ({(v / b[k] - 1) * 100:+5.1f}%)")
PY
}

counts "$vqb" "$tmp/base.csv"
"$py" "$scripts/derive-thresholds.py" --counts "$tmp/base.csv" --out "$tmp/th.txt" ||
	{ echo "FAIL: derive-thresholds.py" >&2; exit 1; }
nb=$(grep -c '^count cg_instructions_per_pkt' "$tmp/th.txt")
tol=$(sed -n 's/^count cg_instructions_per_pkt .* tol \([0-9.]*\)%$/\1/p' "$tmp/th.txt" | sort -u)
[ "$nb" = 20 ] && ok "20 instruction bounds derived (tolerance ${tol}%)" || bad "$nb instruction bounds, expected 20"

counts "$vqb" "$tmp/again.csv"
if check "$tmp/again.csv"; then ok "unchanged vqbench: --check passes ($(tail -n 1 "$tmp/check.out"))"
else cat "$tmp/check.out" >&2; bad "unchanged vqbench: --check failed"; fi
"$py" - "$tmp/base.csv" "$tmp/again.csv" <<'PY'
import csv, sys
cols = ("cg_instructions_per_pkt", "cg_d1_misses_per_pkt")
a, b = ([[r[c] for c in cols] for r in csv.DictReader(open(p))] for p in sys.argv[1:3])
same = sum(x == y for x, y in zip(a, b))
print(f"  the second count equals the first exactly in {same} of {len(a)} configurations")
PY

counts "$inj_pm" "$tmp/pm.csv"
growth "$tmp/base.csv" "$tmp/pm.csv"
if check "$tmp/pm.csv"; then cat "$tmp/check.out" >&2; bad "policy premapped +work: --check passed"
else
	got=$(failed_cells)
	want=$(for l in split packed; do for d in identity bounce iommu; do
		echo "layout=$l,descs=1,dma=$d,policy=premapped"; done; done | sort)
	grep '^FAIL' "$tmp/check.out" | sed 's/^/  /'
	if [ "$got" = "$want" ] && [ "$(grep -c '^FAIL' "$tmp/check.out")" = 6 ]; then
		ok "policy premapped +work: --check fails on exactly the 6 premapped cells (split, packed x identity, bounce, iommu)"
	else
		bad "policy premapped +work: --check failed on [$(echo $got)], expected exactly [$(echo $want)]"
	fi
fi

counts "$inj_all" "$tmp/all.csv"
growth "$tmp/base.csv" "$tmp/all.csv"
if check "$tmp/all.csv"; then cat "$tmp/check.out" >&2; bad "every policy +work: --check passed"
else
	n=$(failed_cells | wc -l)
	grep '^FAIL' "$tmp/check.out" | sed 's/^/  /'
	[ "$n" = "$nb" ] && ok "every policy +work: --check fails on all $nb instruction bounds" ||
		bad "every policy +work: --check failed on $n instruction bounds, expected $nb"
fi
echo "test_check_regress: $fails failed"
[ $fails = 0 ]
