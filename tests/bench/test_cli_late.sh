#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_late.sh VQBENCH - the damage a device that keeps access after
# completion does (issue 19, point 8): --late-writes on makes the inline
# device write each received chain's first buffer again after the driver
# reaped it and before it reuses it. Checked per mechanism, 2000 packets:
#   - no IOMMU (identity), even with full unmapping: every write lands;
#   - IOMMU strict with full: every write is blocked (a fault), none lands,
#     and the run is still ok (a blocked write is the protection working);
#   - IOMMU strict with unsafe skip: every write lands (nothing unmapped);
#   - IOMMU lazy with full: writes land through stale IOTLB entries until
#     the flush (stale_hits > 0), the rest are blocked;
#   - --late-writes on with the thread device or --dir tx is refused.
set -u
vq=$1
tmp=$(mktemp -d -t vqb-late.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$vq" --layout split --descs 2 --queue-size 256 --device inline --warmup 0 --reps 1 --packets 2000 \
	--dir rx --late-writes on "$@" >"$tmp/out" 2>"$tmp/err"; }
get() { # CSV -> "status landed blocked remapped stale packets"
	python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1])))[0]
print(r["status"], r["late_writes_landed"], r["late_writes_blocked"], r["late_writes_remapped"], r["stale_hits"], r["packets"])' "$1"
}
expect() { # label, csv, python condition on s, l, b, m, h, p
	read -r s l b m h p <<<"$(get "$2")"
	python3 -c "import sys; s,l,b,m,h,p='$s',$l,$b,$m,$h,$p; sys.exit(0 if ($3) else 1)" ||
		bad "$1: status $s landed $l blocked $b remapped $m stale $h packets $p; want $3"
	echo "$1: status $s, landed $l, blocked $b, remapped $m, stale IOTLB hits $h, packets $p"
}

run --dma identity --policy full --csv "$tmp/a.csv" || bad "identity: exit $?"
expect "no IOMMU, full" "$tmp/a.csv" "s == 'ok' and l == p == 2000 and b == 0"
run --dma iommu --iommu strict --policy full --csv "$tmp/b.csv" || bad "strict: exit $?: $(cat "$tmp/err")"
expect "IOMMU strict, full" "$tmp/b.csv" "s == 'ok' and l == 0 and b == p == 2000"
run --dma iommu --iommu strict --policy skip --unsafe-skip --csv "$tmp/c.csv" || bad "strict skip: exit $?"
expect "IOMMU strict, unsafe skip" "$tmp/c.csv" "l == 2000 and b == 0"
run --dma iommu --iommu lazy --policy full --csv "$tmp/d.csv" || bad "lazy: exit $?"
expect "IOMMU lazy, full" "$tmp/d.csv" "s == 'ok' and 0 < l < 2000 and h >= l and l + b + m == 2000"
"$vq" --device thread --dir rx --late-writes on --packets 100 --csv "$tmp/e.csv" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "late-writes on with --device thread" "$tmp/err" ||
	bad "thread device: exit $rc, $(cat "$tmp/err")"
[ $fail -eq 0 ] && echo "test_cli_late: ok"
exit $fail
