#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_kernel_report.sh KERNEL_REPORT_PY - scripts/kernel_report.py on small
# synthetic cross-check CSVs: equal cells print the kernel's value alone; a
# difference a rule explains prints both values and a note that names the
# 6.1 function and what must change, with the cells it covers; a cell
# vqbench has no counter for prints '—' and its note; a difference no rule
# explains (or whose arithmetic does not match the rule's) is marked
# UNEXPLAINED and exits 1 naming the cell; the tracking-memory and
# histogram sections; the same output twice; a CSV without a needed column
# exits 1 naming the file and the column; bad usage exits 2.
set -uo pipefail
report=$1
. "$(dirname "$0")/helpers.sh"
scratch test_kernel_report
has() { grep -qF -- "$1" "$md"; }

head="setup,dir,descs,packets,counter,kernel,vqbench,vqbench_options,pkt_bytes,kernel_release,features,kernel_buffer_bytes,kernel_unmap_bytes,unmaps_per_pkt,kernel_timer_flushes,vqbench_timer_flushes"
k="6.1.0-99-amd64,0x10330af8024,,"
opt_r="--dma pa --force-bounce on --policy full --descs 1 --indirect off --dir rx --pkt-bytes 1548"
opt_d="--dma pa --policy full --descs 4 --indirect on --dir tx --pkt-bytes 1024"
opt_s="--dma pa --force-bounce on --policy full --descs 4 --indirect on --dir tx --pkt-bytes 1024"
opt_l="--dma iommu --iommu lazy --policy full --descs 1 --indirect off --dir tx --pkt-bytes 1024"
opt_n="--dma nodma --policy full --descs 1 --indirect off --dir tx --pkt-bytes 1024"
good=$tmp/good.csv
{
	echo "$head"
	echo "direct,tx,4,1000,descs,4,4,$opt_d,1024,$k"
	echo "direct,tx,4,1000,maps,5,5,$opt_d,1024,$k"
	echo "direct,tx,4,1000,unmaps,5,5,$opt_d,1024,$k"
	echo "direct,tx,4,1000,iotlb_flushes,0,0,$opt_d,1024,$k"
	echo "swiotlb,tx,4,1000,maps,5,5,$opt_s,1024,$k"
	echo "swiotlb,tx,4,1000,syncs,0,0,$opt_s,1024,$k"
	echo "swiotlb,tx,4,1000,bounce_bytes,1100,1100,$opt_s,1024,$k"
	echo "noap,tx,1,1000,maps,0,0,$opt_n,1024,$k"
	echo "swiotlb,rx,1,1000,bounce_bytes,3115.5,3120,$opt_r,1548,6.1.0-99-amd64,0x10330af8024,1555.25,1560.25"
	echo "swiotlb,rx,1,1000,maps,0.998,1,$opt_r,1548,6.1.0-99-amd64,0x10330af8024,1555.25,1560.25"
	echo "lazy,tx,1,4096,iotlb_flushes,0.00634765625,0.00390625,$opt_l,1024,${k},1,0.003662109375,0.000244140625"
	echo "lazy,tx,1,4096,iotlb_timer_flushes,0.003662109375,0.000244140625,$opt_l,1024,${k},1,0.003662109375,0.000244140625"
	echo "lazy,tx,1,4096,iova_frees,1,0.950927734,$opt_l,1024,${k},1,0.003662109375,0.000244140625"
	echo "queue256,tx,1,,desc_extra_bytes,4096,4096,$opt_d,1024,$k"
	echo "queue256,tx,4,,desc_extra_bytes,4096,4096,$opt_d --indirect-extra linux-6.1,1024,$k"
	echo "queue256,tx,17,,desc_extra_bytes,4096,4096,$opt_d --indirect-extra linux-6.1,1024,$k"
} >"$good"
descs=$tmp/descs.csv
printf 'setup,dir,phase,descs,count\ndirect,tx,tx4,4,1000\nswiotlb,tx,tx4,4,999\nswiotlb,tx,tx4,5,1\n' >"$descs"

md=$tmp/K.md
python3 "$report" "$good" "$descs" --out "$md" 2>"$tmp/err"
rc=$?
check "explained differences only: exit 0 (got $rc: $(head -c 300 "$tmp/err"))" test $rc = 0
check "kernel release and features named" has "6.1.0-99-amd64"
check "direct row: equal cells show the kernel's value alone" has "| tx | 1000 | 4 | 5 | 5 |"
check "indirect table mapped after writing: swiotlb tx 4 descriptors, 5 maps, 0 syncs, 1100 bytes, all equal" \
	has "| tx | 1000 |  | 5 |  | 0 |  | 1100 |"
check "noap: 0 maps on both sides (nodma counts no DMA API call)" grep -qE "^\\| tx \\| 1000 \\|  \\| 0 \\|" "$md"
check "RX bounce: whole buffers in at map and out at unmap on both sides; the window and the mean buffer size, explained" \
	grep -qE '3115.5000 ≠ 3120 \[[0-9]+\]' "$md"
check "RX refill window: 2 buffers short of 1000 packets, explained" grep -qE '0.9980 ≠ 1 \[[0-9]+\]' "$md"
check "lazy: flushes 26 vs 16 per 4096 (15 and 1 of them the timer's), explained by the timer" \
	grep -qE '0.0063 ≠ 0.0039 \[[0-9]+\] \| 0.0037 ≠ 0.0002 \[[0-9]+\]' "$md"
check "lazy: IOVA frees 1 vs 201 IOVAs still queued at the window's end, explained" grep -qE '1 ≠ 0.9509 \[[0-9]+\]' "$md"
check "the lazy notes name fq_flush_timeout and the drain" bash -c "grep -q 'fq_flush_timeout()' '$md' && grep -q 'up to 255 IOVAs are still queued' '$md'"
check "a note lists its cells" has "swiotlb rx 1d maps: kernel 0.9980, vqbench 1"
# shellcheck disable=SC2016 # the backquotes are markdown
check "tracking memory: 4096 vs 4096 equal with 4 and 17 descriptors (linux-6.1: no record per indirect entry)" \
	bash -c "grep -qE '\| 4 \| .desc_extra.* \| 4096 \| 4096 \|\$' '$md' && grep -qE '\| 17 \| .desc_extra.* \| 4096 \| 4096 \|\$' '$md'"
check "histogram: both descriptor counts of a phase" has "| swiotlb | tx4 | 4: 999, 5: 1 |"
check "no UNEXPLAINED in an explained report" bash -c "! grep -q UNEXPLAINED '$md'"
python3 "$report" "$good" "$descs" >"$tmp/again.md" 2>/dev/null
check "the same output twice (stdout = --out)" cmp -s "$md" "$tmp/again.md"

# differences no rule covers: bytes 1100 vs 1200, a sync of the table, a map without the DMA API
bad=$tmp/bad.csv
{
	echo "$head"
	echo "swiotlb,tx,4,1000,bounce_bytes,1100,1200,$opt_s,1024,$k"
	echo "swiotlb,tx,4,1000,syncs,0,1,$opt_s,1024,$k"
	echo "direct,tx,4,1000,maps,5,6,$opt_d,1024,$k"
	echo "noap,tx,1,1000,maps,0,1,$opt_n,1024,$k"
	echo "direct,tx,1,1000,iova_allocs,0,,$opt_d,1024,$k"
	echo "lazy,tx,1,4096,iotlb_flushes,0.00634765625,0.009765625,$opt_l,1024,${k},1,0.003662109375,0.000244140625"
	echo "lazy,tx,1,4096,iova_frees,1,0.9,$opt_l,1024,${k},1,0.003662109375,0.000244140625"
	echo "swiotlb,rx,1,1000,bounce_bytes,3000,3120,$opt_r,1548,6.1.0-99-amd64,0x10330af8024,1555.25,1560.25"
	echo "swiotlb,rx,2,1000,bounce_bytes,3115.5,1560,$opt_r,1548,6.1.0-99-amd64,0x10330af8024,1555.25,1560.25"
	echo "swiotlb,rx,1,1000,maps,0.95,1,$opt_r,1548,6.1.0-99-amd64,0x10330af8024,1555.25,1560.25"
	echo "queue256,tx,4,,desc_extra_bytes,4096,81920,$opt_d,1024,$k"
} >"$bad"
python3 "$report" "$bad" "$descs" --out "$tmp/bad.md" 2>"$tmp/err"
rc=$?
check "unexplained differences: exit 1 (got $rc)" test $rc = 1
check "the stderr names the unexplained cell" grep -q "UNEXPLAINED difference: direct tx 4 descriptors maps: kernel 5, vqbench 6" "$tmp/err"
check "the report marks it UNEXPLAINED" grep -q "5 ≠ 6 UNEXPLAINED" "$tmp/bad.md"
check "noap: a map counted without the DMA API is a model regression, UNEXPLAINED" \
	grep -q "UNEXPLAINED difference: noap tx 1 descriptors maps: kernel 0, vqbench 1" "$tmp/err"
check "a counter vqbench does not write (empty cell) is UNEXPLAINED: every kernel counter has a column" \
	grep -q "UNEXPLAINED difference: direct tx 1 descriptors iova_allocs: kernel 0, vqbench (none)" "$tmp/err"
check "a lazy backend flushing its queue more than once per 256 unmaps is UNEXPLAINED" \
	grep -q "UNEXPLAINED difference: lazy tx 1 descriptors iotlb_flushes" "$tmp/err"
check "lazy IOVA frees short by more than a queue (256) are UNEXPLAINED" \
	grep -q "UNEXPLAINED difference: lazy tx 1 descriptors iova_frees: kernel 1, vqbench 0.9" "$tmp/err"
check "records preallocated for indirect entries (81920 bytes) beside 6.1's 4096 are a model regression, UNEXPLAINED" \
	grep -q "UNEXPLAINED difference: queue256 tx 4 descriptors desc_extra_bytes: kernel 4096, vqbench 81920" "$tmp/err"
check "a near miss of a rule stays UNEXPLAINED" grep -q "1100 ≠ 1200 UNEXPLAINED" "$tmp/bad.md"
check "a sync of the indirect table (mapped before writing it) is a model regression, UNEXPLAINED" \
	grep -q "UNEXPLAINED difference: swiotlb tx 4 descriptors syncs: kernel 0, vqbench 1" "$tmp/err"
check "RX bounce bytes that are not mapped + unmapped stay UNEXPLAINED" grep -q "3000 ≠ 3120 UNEXPLAINED" "$tmp/bad.md"
check "an RX bounce copied once (no copy in at map, the pre-6.1 rule) is a model regression, UNEXPLAINED" \
	grep -q "3115.5000 ≠ 1560 UNEXPLAINED" "$tmp/bad.md"
check "an RX map shortfall beyond the 32-buffer refill window stays UNEXPLAINED" grep -q "0.9500 ≠ 1 UNEXPLAINED" "$tmp/bad.md"

# all equal
eq=$tmp/eq.csv
{ echo "$head"; echo "direct,tx,4,1000,maps,5,5,$opt_d,1024,$k"; } >"$eq"
python3 "$report" "$eq" "$descs" --out "$tmp/eq.md" 2>/dev/null
rc=$?
check "all equal: exit 0 and says so" bash -c "[ $rc = 0 ] && grep -q 'Every cell is equal.' '$tmp/eq.md'"

# malformed input
cut -d, -f1-6 "$good" >"$tmp/short.csv"
python3 "$report" "$tmp/short.csv" "$descs" --out "$tmp/x.md" 2>"$tmp/err"
rc=$?
check "missing columns: exit 1 naming the file and a column (got $rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'short.csv: missing column(s) vqbench' '$tmp/err'"
python3 "$report" "$tmp/nosuch.csv" "$descs" 2>"$tmp/err"
rc=$?
check "a missing file: exit 1 naming it (got $rc)" bash -c "[ $rc = 1 ] && grep -q nosuch.csv '$tmp/err'"
python3 "$report" >/dev/null 2>&1
rc=$?
check "no arguments: exit 2 (got $rc)" test $rc = 2

echo "$checks checks, $fails failed"
[ $fails = 0 ]
