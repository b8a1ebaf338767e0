#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_plot.sh VQBENCH PLOT_PY - scripts/plot.py on a small real CSV:
# the six figures (descs, queue size with cache marks, DMA backends, cost
# relative to full per descs and per backend, footprint with references) are
# written as PNGs of a real size with real content (many colours, not a
# blank canvas), and a CSV that is not vqbench's is refused with exit 2.
set -uo pipefail
vqb=$1
plot=$2
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-matplotlib
. "$(dirname "$0")/helpers.sh"
scratch test_plot

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
for kind in descs queue dma cost-descs cost-dma footprint; do
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

# The statistics behind the cost figures: Student's t quantiles (tables:
# 12.706, 4.303, 2.228, 1.984 for 1, 2, 10, 100 degrees of freedom) and the
# Welch interval of a difference of means; the footprint references.
"$py" - "$plot" <<'EOF' >"$tmp/stats.out" 2>&1
import importlib.util, math, sys
spec = importlib.util.spec_from_file_location("plot", sys.argv[1])
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)
for df, want in ((1, 12.706), (2, 4.303), (10, 2.228), (100, 1.984)):
    got = plot.t_quantile(0.975, df)
    assert abs(got - want) < 2e-3, (df, got, want)
d, hw = plot.diff_ci([10, 12, 14], [4, 6, 8])  # diff 6, se sqrt(4/3 + 4/3), df 4
assert d == 6 and abs(hw - 2.776 * math.sqrt(8 / 3)) < 5e-3, (d, hw)
assert plot.diff_ci([1], [2]) == (-1, None)
rows = [dict(layout="split", descs="1", policy=p, ns_per_pkt=str(v), status="ok")
        for p, vs in (("full", (100, 102, 98)), ("skip", (80, 82, 78)), ("premapped", (150, 150, 150)))
        for v in vs]
c = plot.cost_vs_full(rows, ["layout", "descs"])
assert set(c) == {("split", "1", "skip"), ("split", "1", "premapped")}, c
assert c[("split", "1", "skip")][0] == -20 and abs(c[("split", "1", "skip")][2] - 0.8) < 1e-12
assert plot.DESC_EXTRA * 256 == 4096 and plot.DRIVER_ARRAY_PAIRS * plot.DRIVER_ARRAY_PAIR * 257 == 78128
print("ok")
EOF
check "t quantiles, the Welch interval, the cost table and the references ($(tail -1 "$tmp/stats.out"))" \
	grep -qx ok "$tmp/stats.out"
# The footprint figure's references match the model: full records 16 B per descriptor (desc_extra).
check "full's tracking_bytes is the kernel's desc_extra (16 B x queue size) in the run" "$py" -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["policy"] == "full"]
assert rows and all(int(r["tracking_bytes"]) == 16 * int(r["queue_size"]) for r in rows)' "$tmp/b.csv"

printf 'a,b\n1,2\n' >"$tmp/foreign.csv"
"$py" "$plot" --out "$tmp/png2" "$tmp/foreign.csv" >"$tmp/foreign.out" 2>&1
rc=$?
check "a CSV that is not vqbench's is refused with exit 2 (got $rc)" test $rc = 2
check "the refusal names the file" grep -q "foreign.csv" "$tmp/foreign.out"

echo "test_plot: $checks checks, $fails failed"
[ $fails = 0 ]
