#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_plot.sh VQBENCH PLOT_PY - scripts/plot.py on a small real CSV:
# the three figures (descs, queue size with cache marks, DMA backends) are
# written as PNGs of a real size with real content (many colours, not a
# blank canvas), and a CSV that is not vqbench's is refused with exit 2.
set -uo pipefail
vqb=$1
plot=$2
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-matplotlib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0
check() {
	local what=$1; shift
	checks=$((checks + 1))
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

o=(--quiet --device inline --packets 3000 --reps 2 --warmup 0)
"$vqb" "${o[@]}" --descs 1,2,4 --csv "$tmp/a.csv" >/dev/null 2>&1 &&
	"$vqb" "${o[@]}" --descs 4 --queue-size 256,1024,4096 --policy full,skip --csv "$tmp/b.csv" >/dev/null 2>&1 &&
	"$vqb" "${o[@]}" --descs 4 --dma identity,iommu,bounce --policy full,compact --layout split \
		--csv "$tmp/c.csv" >/dev/null 2>&1
rc=$?
check "three small vqbench runs succeed (exit $rc)" test $rc = 0
[ $rc = 0 ] || exit 1

"$py" "$plot" --out "$tmp/png" --prefix t --caches 32K,1M,32M "$tmp/a.csv" "$tmp/b.csv" "$tmp/c.csv" >"$tmp/plot.out" 2>&1
rc=$?
cat "$tmp/plot.out"
check "plot.py exits 0 (got $rc)" test $rc = 0
for kind in descs queue dma; do
	f=$tmp/png/t-$kind-inline.png
	check "$kind figure written" test -f "$f"
	[ -f "$f" ] || continue
	# A PNG, at least 600x300 px, over 10 KB, with more than 50 colours.
	info=$("$py" - "$f" <<'EOF'
import struct, sys
import matplotlib.image as mpimg
data = open(sys.argv[1], "rb").read()
ok_sig = data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
img = mpimg.imread(sys.argv[1])
colours = len({tuple(p) for p in img.reshape(-1, img.shape[-1])[::7].tolist()})
print(int(ok_sig), w, h, len(data), colours)
EOF
)
	read -r sig w h size colours <<<"$info"
	check "$kind: PNG signature" test "$sig" = 1
	check "$kind: ${w}x${h} px is at least 600x300" test "$w" -ge 600 -a "$h" -ge 300
	check "$kind: $size bytes is over 10 KB" test "$size" -gt 10240
	check "$kind: $colours colours, not a blank canvas" test "$colours" -gt 50
done
check "the queue figure marks the given cache sizes" grep -q "t-queue-inline.png (cache marks: L1d 32 KiB, L2 1 MiB, L3 32 MiB)" "$tmp/plot.out"

printf 'a,b\n1,2\n' >"$tmp/foreign.csv"
"$py" "$plot" --out "$tmp/png2" "$tmp/foreign.csv" >"$tmp/foreign.out" 2>&1
rc=$?
check "a CSV that is not vqbench's is refused with exit 2 (got $rc)" test $rc = 2
check "the refusal names the file" grep -q "foreign.csv" "$tmp/foreign.out"

echo "test_plot: $checks checks, $fails failed"
[ $fails = 0 ]
