#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_perf_report.sh PERF_REPORT_PY - scripts/perf_report.py on small
# synthetic CSVs (2 pairs or rounds each) in a temporary results directory:
# the newest CSV of each kind is used, the medians of the per-pair ratios,
# the tracking's paired differences with min/median/max and a bootstrap
# interval (known values give the known interval and half-width; a round
# with a placement change is dropped and counted, a failed one counted; the
# blocks CSV is not taken for the rounds CSV), the
# callgrind deltas against full, the peer cells with their explanations, the
# cache-line budget, the machine and command lines, a generic section for a
# perf-pages CSV, a line naming the script for each missing kind, the same
# output on a second run (fixed seed), and exit 2 for bad usage. Issue 20's
# targets: one verdict line per target from those CSVs (met, not met, or not
# judged naming the script whose CSV is missing), target 1 met on a 12-cell
# peer CSV with placement-changed pairs excluded, and a CSV lacking its
# columns stops the report with a message (exit 2), not a traceback.
set -uo pipefail
report=$1
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
. "$(dirname "$0")/helpers.sh"
scratch test_perf_report
has() { grep -qF -- "$1" "$md"; }

r=$tmp/results
mkdir -p "$r"
m="testhost,Test CPU 9000,6.1.0-test"
cmdc="PAIRS=2 SECONDS_PER_RUN=0.5 WARMUP=0 DEVICE=thread CORES=0,1 scripts/perf-ceiling.sh"
a_args="--layout packed --in-order on --descs 1 --policy skip --dma identity --batch 32 --device thread"
b_args="--layout rte_ring --in-order on --descs 1 --policy skip --dma identity --batch 32 --device thread"
{
	echo "pair,layout,rte_ring_layout,in_order,descs,policy,dma,batch,queue_size,pkt_bytes,vqbench_device,rte_ring_device,driver_cpu,device_cpu,seconds_per_run,vqbench_mpps,rte_ring_mpps,vqbench_ns_per_pkt,rte_ring_ns_per_pkt,ratio_ns_vqbench_over_rte_ring,vqbench_cg_instructions_per_pkt,rte_ring_cg_instructions_per_pkt,ratio_cg_instructions_vqbench_over_rte_ring,cg_packets,vqbench_kicks_per_pkt,vqbench_calls_per_pkt,vqbench_c2c_ns_before,vqbench_c2c_ns_after,vqbench_placement_changed,rte_ring_c2c_ns_before,rte_ring_c2c_ns_after,rte_ring_placement_changed,placement_changed,status,host,cpu_model,kernel,git_rev,vqbench_args,rte_ring_args,command"
	echo "1,packed,rte_ring,1,1,skip,identity,32,256,64,thread,thread,0,1,0.5,5,10,200,100,2.0000,800,200,4.0,\"600,1600\",0.03125,0.03125,300,310,0,290,300,0,0,ok,$m,abc,$a_args,$b_args,\"$cmdc\""
	echo "2,packed,rte_ring,1,1,skip,identity,32,256,64,thread,thread,0,1,0.5,4,12,250,83.3333,3.0000,800,200,4.0,\"600,1600\",0.03125,0.03125,300,900,1,290,300,0,1,ok,$m,abc,$a_args,$b_args,\"$cmdc\""
} >"$r/perf-ceiling-20990101-000000.csv"
cmdt="BLOCKS=2 BLOCK_PACKETS=20000 WARMUP=0 DEVICES=inline CORES=0,1 COUNTS=1 CG_PACKETS=600,1600 scripts/perf-tracking.sh"
cgc="scripts/callgrind-counts.py --packets 600,1600 -- --layout split,packed --descs 1 --policy full,skip,premapped"
{
	echo "round,device,layout,descs,dma,batch,queue_size,pkt_bytes,driver_cpu,device_cpu,block_packets,policy_order,full_ns_per_pkt,skip_ns_per_pkt,premapped_ns_per_pkt,skip_minus_full_ns,premapped_minus_full_ns,premapped_minus_skip_ns,event_idx,full_kicks_per_pkt,skip_kicks_per_pkt,premapped_kicks_per_pkt,c2c_ns_before,c2c_ns_after,placement_changed,status,host,cpu_model,kernel,git_rev,vqbench_args,command,counts_command"
	echo "1,inline,split,1,identity,32,256,64,0,0,20000,full skip premapped,100,96,90,-4.000,-10.000,-6.000,1,0.03125,0.03125,0.03125,,,0,ok,$m,abc,x,\"$cmdt\",\"$cgc\""
	# the constant columns on a device's first row only (perf-tracking.sh)
	echo "1,inline,packed,1,identity,32,256,64,0,0,20000,full skip premapped,110,107,100,-3.000,-10.000,-7.000,1,0.03125,0.03125,0.03125,,,0,ok,,,,,,,"
	echo "2,inline,split,1,identity,32,256,64,0,0,20000,skip premapped full,101,95,89,-6.000,-12.000,-6.000,1,0.03125,0.03125,0.03125,,,0,ok,,,,,,,"
	echo "2,inline,packed,1,identity,32,256,64,0,0,20000,skip premapped full,111,106,100,-5.000,-11.000,-6.000,1,0.03125,0.03125,0.03125,,,1,ok,,,,,,,"
	echo "3,inline,split,1,identity,32,256,64,0,0,20000,premapped full skip,,,,,,,,,,,,,,,failed,,,,,,,"
	# the thread device: kicks per packet, packed below split (target 4)
	echo "1,thread,split,1,identity,32,256,64,0,1,20000,full skip premapped,200,190,180,-10.000,-20.000,-10.000,1,0.03,0.02,0.03,60,61,0,ok,$m,abc,x,\"$cmdt\",\"$cgc\""
	echo "1,thread,packed,1,identity,32,256,64,0,1,20000,full skip premapped,210,200,190,-10.000,-20.000,-10.000,1,0.01,0.02,0.005,60,61,0,ok,,,,,,,"
} >"$r/perf-tracking-20990101-000000.csv"
echo "not,a,rounds,csv" >"$r/perf-tracking-blocks-20991231-000000.csv" # newer, never the rounds CSV
{
	echo "host,cpu_model,kernel,layout,descs,dma,policy,maps_per_pkt,unmaps_per_pkt,cg_instructions_per_pkt,cg_d1_misses_per_pkt,cg_ll_misses_per_pkt"
	echo "$m,split,1,identity,full,1,1,1000,2.5,0.1"
	echo "$m,split,1,identity,skip,1,0,950,2.25,0.1"
	echo "$m,split,1,identity,premapped,0,0,900,2,0.05"
	echo "$m,packed,1,identity,full,1,1,1100,3,0.2"
	echo "$m,packed,1,identity,skip,1,0,1030,3,0.2"
	echo "$m,packed,1,identity,premapped,0,0,1000,2.5,0.2"
} >"$r/perf-tracking-counts-20990101-000000.csv"
peer_head="dir,layout,in_order,segments,vqbench_descs,dpdk_tx_chain,vqbench_policy,pkt_bytes,queue_size,pair,dpdk_mpps,vqbench_mpps,ratio_vqbench_over_dpdk,vqbench_rx_check,seconds_per_run,host,cpu_model,kernel"
{
	echo "$peer_head"
	echo "tx,split,1,1,1,header in headroom (1 desc),premapped,64,1024,1,20,10,0.500,n/a,3,$m"
	echo "tx,split,1,1,1,header in headroom (1 desc),premapped,64,1024,2,20,14,0.700,n/a,3,$m"
	# three pairs: median of ratios 0.6, mean 0.8, ratio of the medians 1.2
	echo "tx,packed,1,4,5,indirect table (1 desc + 5 entries),premapped,64,1024,1,10,5,0.500,n/a,3,$m"
	echo "tx,packed,1,4,5,indirect table (1 desc + 5 entries),premapped,64,1024,2,20,12,0.600,n/a,3,$m"
	echo "tx,packed,1,4,5,indirect table (1 desc + 5 entries),premapped,64,1024,3,10,13,1.300,n/a,3,$m"
	echo "rx,packed,0,1,1,rx: 1 buffer per packet,premapped,64,1024,1,10,12,1.200,length only,3,$m"
	echo "rx,packed,0,1,1,rx: 1 buffer per packet,premapped,64,1024,2,10,8,0.800,length only,3,$m"
} >"$r/peer-dpdk-20990101-000000.csv"
{ # older: must not be used
	echo "$peer_head"
	echo "tx,split,1,1,1,header in headroom (1 desc),premapped,64,1024,1,1,9.9,9.900,n/a,3,$m"
} >"$r/peer-dpdk-20980101-000000.csv"
{ # two repetitions: 2 MiB / 4 KiB = 20/10 and 40/10 -> median 3.000
	echo "layout,policy,queue_size,rep,pages,mpps,footprint_bytes,page_bytes,status"
	echo "split,full,256,0,4k,10,100000,4096,ok"
	echo "split,full,256,0,2m,20,100000,2097152,ok"
	echo "split,full,256,1,4k,10,100000,4096,ok"
	echo "split,full,256,1,2m,40,100000,2097152,ok"
} >"$r/perf-pages-20990101-000000.csv"
printf 'L1d:           48 KiB\nL2:            1 MiB\n' >"$r/perf-pages-20990101-000000.txt"
{
	echo "layout,policy,descs,dma,source,instructions_per_pkt,share,command"
	echo "split,full,1,identity,ring/vq_split.c,200.0,0.5,scripts/callgrind-counts.py"
	echo "split,full,1,identity,ring/vq_track.c,200.0,0.5,scripts/callgrind-counts.py"
	echo "split,premapped,1,identity,ring/vq_split.c,200.0,0.8,scripts/callgrind-counts.py"
	echo "split,premapped,1,identity,ring/vq_track.c,50.0,0.2,scripts/callgrind-counts.py"
} >"$r/perf-annotate-20990101-000000.csv"
ac="BEFORE=0123456789ab scripts/perf-attrib.sh (scripts/callgrind-counts.py --packets 600,1600 --by-source -- --layout split --descs 1 --policy full --dir tx)"
{
	echo "side,revision,layout,policy,descs,dma,dir,source,instructions_per_pkt,share,total_instructions_per_pkt,command"
	echo "before,0123456789abcdef,split,full,1,identity,tx,ring/vq_split.c,300.0,0.3,1000.0,\"$ac\""
	echo "before,0123456789abcdef,split,full,1,identity,tx,dev/dev_payload.h,150.0,0.15,1000.0,\"$ac\""
	echo "before,0123456789abcdef,split,full,1,identity,tx,bench/vqb_traffic.c,100.0,0.1,1000.0,\"$ac\""
	echo "before,0123456789abcdef,split,full,1,identity,tx,dma/dma.c,450.0,0.45,1000.0,\"$ac\""
	echo "after,fedcba9876543210,split,full,1,identity,tx,ring/vq_split.c,250.0,0.5,500.0,\"$ac\""
	echo "after,fedcba9876543210,split,full,1,identity,tx,dev/dev_payload.h,150.0,0.3,500.0,\"$ac\""
	echo "after,fedcba9876543210,split,full,1,identity,tx,bench/vqb_traffic.c,100.0,0.2,500.0,\"$ac\""
} >"$r/perf-attrib-20990101-000000.csv"
pcmd="scripts/callgrind-counts.py --packets 4000,24000 --device vhost-user:SOCKET -- --dir rx"
{
	echo "dir,layout,in_order,side,instructions_per_pkt,packets,instructions,command,polls,idle_polls,idle_instructions_per_poll,idle_exact,partial_pct"
	echo "rx,split,0,vqbench,280.0,,,$pcmd,,,,,"
	echo "rx,split,0,dpdk-testpmd,200.0,1000,200000,testpmd,40,8.8,90.0,1,0"
	echo "rx,packed,0,vqbench,350.0,,,$pcmd,,,,,"
	echo "rx,packed,0,dpdk-testpmd,250.0,1000,250000,testpmd,60,28.8,90.0,0,45"
} >"$r/peer-callgrind-20990101-000000.csv"
echo "dir,layout,in_order,source,instructions_per_pkt,share,command" >"$r/peer-callgrind-annotate-20990101-000000.csv"
cat >"$r/perf-explanations.txt" <<'EOF'
# comment
tx split in_order=1 segs=1: the header rides in the mbuf headroom; {ratio} here ({ratio_min} .. {ratio_max}), {prev_ratio} before
rx packed in_order=0 segs=1:
tx packed in_order=9 segs=1: no such cell
EOF

"$py" "$report" --results "$r" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out" "$tmp/err"
check "perf_report.py exits 0 (got $rc)" test $rc = 0
md=$r/PERFORMANCE.md
check "PERFORMANCE.md written into --results" test -s "$md"
[ -s "$md" ] || { echo "test_perf_report: $checks checks, $fails failed"; exit 1; }

for s in "# Performance" "## vqbench against DPDK's rte_ring (the ceiling)" "### Cache lines moved per packet" \
	"## What tracking costs per packet" "### Exact counts (callgrind)" \
	"## DPDK's virtio driver against vqbench" "## Queue size on 4 KiB pages and on 2 MiB hugepages" \
	"## Multi-queue scaling" "## Where the instructions of one packet go, per policy"; do
	check "section '$s'" has "$s"
done
# the ceiling
check "ceiling: median ratio of 2.0 and 3.0 is 2.500" has "**Median ratio 2.500** over 2 pairs (min 2.000, max 3.000)"
check "ceiling: the flagged pair is counted, median of the unflagged" has "1 of them flagged for a placement change; the median of the 1 unflagged is 2.000"
check "ceiling: flagged pair marked in the table" grep -qE '^\| 2 \|.*\| \*\*yes\*\* \| ok \|$' "$md"
check "ceiling: per-pair row 1" grep -qE '^\| 1 \| 5\.000 \| 10\.000 \| 200\.0 \| 100\.0 \| 2\.000 \| 300 → 310 \| 290 → 300 \| no \| ok \|$' "$md"
check "ceiling: the command" has "\`$cmdc\`"
check "ceiling: vqbench side args" has "\`vqbench $a_args\`"
check "ceiling: timed median 2.5 meets issue 20's 2.5x target" has "Issue 20's target (at most 2.5x): met."
check "ceiling: the callgrind ratio 800/200 = 4.000, target not met" has "vqbench 800.0 and rte_ring 200.0 instructions per packet, a ratio of 4.000; issue 20's target (at most 2.5x): not met."
check "ceiling: smoke-run note for 2 pairs" has "Fewer than 5 pairs: a smoke run"
check "budget: packed available descriptors 0.25/pkt" grep -qE '^\| vqbench packed \| available descriptors.*\| 0\.25 \|' "$md"
check "budget: rte_ring head/tail 4/32 = 0.125/pkt" grep -qE '^\| rte_ring \| head/tail lines.*\| 0\.125 \| 4 lines per burst of 32 \|$' "$md"
check "budget: ring lines 0.5 vs 0.375, ratio 1.333" has "packed 0.5, rte_ring 0.375: the layouts alone predict a ratio of 1.333"
check "budget: with payload 2.5 vs 2.375" has "2.5 against 2.375, a ratio of 1.053"
check "budget: residual 2.5 / 1.333 = 1.875" has "leaves a factor of 1.875"
check "budget: names the callgrind count of packed skip" has "1030 instructions per packet"
check "machine line" has "host \`testhost\`, CPU \`Test CPU 9000\`, kernel \`6.1.0-test\`"
# tracking
check "tracking: command" has "\`$cmdt\`"
check "tracking: inline split skip−full -4,-6: interval -6..-4, half-width 1, failed round counted, callgrind Δ" grep -qF "| inline | split | skip − full | 2 | 0 of 2 | 1 | -6.00 | -5.00 | -4.00 | -6.00 .. -4.00 | ±1.00 | 100.5 | -50.0 | -6.00 .. -4.00 |" "$md"
check "tracking: inline split premapped−full median -11" grep -qF "| inline | split | premapped − full | 2 | 0 of 2 | 1 | -12.00 | -11.00 | -10.00 | -12.00 .. -10.00 | ±1.00 | 100.5 | -100.0 | -12.00 .. -10.00 |" "$md"
check "tracking: inline packed premapped−skip, the moved round dropped and counted" grep -qF "| inline | packed | premapped − skip | 1 | 1 of 2 | 0 | -7.00 | -7.00 | -7.00 | – | – | 110.0 | -30.0 | -7.00 .. -6.00 |" "$md"
check "tracking: smoke-run note" has "Only 2 round(s) per layout: a smoke run"
check "counts: command from the tracking CSV of the same stamp" has "\`$cgc\`"
check "counts: split skip -50 instructions, -0.25 D1" grep -qF "| split | 1 | identity | skip | 950.0 | -50.0 | 2.250 | -0.250 | 0.1000 | +0.0000 | 1 | 0 |" "$md"
check "counts: packed premapped -100 instructions" grep -qF "| packed | 1 | identity | premapped | 1000.0 | -100.0 | 2.500 | -0.500 | 0.2000 | +0.0000 | 0 | 0 |" "$md"
check "counts: full has no delta" grep -qF "| split | 1 | identity | full | 1000.0 | – | 2.500 | – | 0.1000 | – | 1 | 1 |" "$md"
# peer
check "peer: newest CSV used, not the older one" has "\`peer-dpdk-20990101-000000.csv\` (7 rows)"
check "peer: the older CSV only in the previous-run column" bash -c "grep -c '9\.900' '$md' | grep -qx 1"
check "peer: previous run named" has "the median ratio of the same cell in \`peer-dpdk-20980101-000000.csv\`"
check "peer: tx split cell: medians, ratio, range, explanation" grep -qF "| \`tx split in_order=1 segs=1\` | header in headroom (1 desc) | 20.000 | 12.000 | 0.600 | 0.500 .. 0.700 | 2 of 2 | 0.500 0.700 | 9.900 | the header rides in the mbuf headroom; 0.600 here (0.500 .. 0.700), 9.900 before |" "$md"
check "peer: rx packed cell, empty explanation" grep -qF "| \`rx packed in_order=0 segs=1\` | rx: 1 buffer per packet | 10.000 | 10.000 | 1.000 | 0.800 .. 1.200 | 2 of 2 | 1.200 0.800 | – |  |" "$md"
check "peer: tx before rx" bash -c "grep -n '^| \`tx split in_order=1' '$md' | cut -d: -f1 | { read a; b=\$(grep -n '^| \`rx packed in_order=0' '$md' | cut -d: -f1); [ \"\$a\" -lt \"\$b\" ]; }"
check "peer: median of per-pair ratios (3 pairs), not mean nor ratio of medians" grep -qF "| \`tx packed in_order=1 segs=4\` | indirect table (1 desc + 5 entries) | 10.000 | 12.000 | 0.600 | 0.500 .. 1.300 | 3 of 3 | 0.500 0.600 1.300 | – |  |" "$md"
check "peer: command rebuilt from the CSV" has "\`PAIRS=3 SECONDS_PER_RUN=3 scripts/peer-dpdk.sh\`"
check "peer: unknown explanation key reported on stderr" grep -qF "no peer cell named 'tx packed in_order=9 segs=1'" "$tmp/err"
# an explanation cites only this run's figures: a number typed by hand stops the report
cp "$r/perf-explanations.txt" "$tmp/ex-ok.txt"
echo "rx packed in_order=0 segs=1: about 0.62-0.66 in an older run" >>"$r/perf-explanations.txt"
"$py" "$report" --results "$r" --out "$tmp/hand.md" >"$tmp/out2" 2>&1
rc=$?
check "explanation with a hand-typed number refused (exit $rc)" test $rc = 2
check "the refusal names the cell and the number" grep -qF "explanation of 'rx packed in_order=0 segs=1' types the number '0.62-0.66'" "$tmp/out2"
check "nothing written on refusal" test ! -e "$tmp/hand.md"
printf 'rx packed in_order=0 segs=1: {speed}\n' >>"$tmp/ex-ok.txt"
"$py" "$report" --results "$r" --explanations "$tmp/ex-ok.txt" --out "$tmp/hand.md" >"$tmp/out2" 2>&1
rc=$?
check "explanation naming an unknown {field} refused (exit $rc)" bash -c "[ $rc = 2 ] && grep -qF 'names {speed}' '$tmp/out2'"
# generic and missing
check "pages: per-repetition ratio, its median and range, the size the footprint leaves" \
	has "| split | full | 256 | 100000 | 10.00 | 30.00 | 3.000 | 2.000 .. 4.000 | 2097152 | L1d |"
check "annotate: per source and policy, totals" has "| **total** | **400.0** | **250.0** |"
check "annotate: what premapped saves against full, by source" \
	has "split, premapped against full: \`ring/vq_track.c\` -150.0 instructions per packet."
check "attrib: section" has "## Where one packet's instructions go, before and after (callgrind)"
check "attrib: revisions named" has "Before: revision \`0123456789ab\`; after: \`fedcba987654\`"
check "attrib: a source before, after, delta" has "| \`ring/vq_split.c\` | ring + tracking + DMA + device | 300.0 | 250.0 | -50.0 |"
check "attrib: a source gone after" has "| \`dma/dma.c\` | ring + tracking + DMA + device | 450.0 | – | -450.0 |"
check "attrib: the ring part summed" has "| **ring + tracking + DMA + device** |  | **750.0** | **250.0** | **-500.0** |"
check "attrib: the totals from the counts" has "| **total** (callgrind-counts.py) |  | **1000.0** | **500.0** | **-500.0** |"
check "attrib: targets judged" has "500.0 instructions per packet in all (target 700: met), 250.0 in the ring, tracking, DMA and device (target 400: met)."
check "peercg: section, annotate CSV not taken for it" has "Source: \`peer-callgrind-20990101-000000.csv\` (4 rows)"
check "peercg: rx split within 300, ratio" has "| rx | split | 0 | 280.0 | 200.0 | 1.40 | ≤ 300: met |"
check "peercg: rx packed over 300, testpmd's count marked inexact (partial bursts)" \
	has "| rx | packed | 0 | 350.0 | 250.0 (inexact: 45% partial bursts) | 1.40 | ≤ 300: not met |"
check "peercg: the inexact mark explained" has "*inexact*: not every testpmd burst was empty or a whole 32"
check "queues: missing, names the script" has "No \`perf-queues-*.csv\` in the results directory: \`scripts/perf-queues.sh\` makes it"
check "VM placement note" has "only ratios from neighbouring runs"
# issue 20's five targets: one verdict line each, from the CSVs above
check "targets: section before the ceiling" bash -c "a=\$(grep -n \"^## Issue 20's targets\" '$md' | cut -d: -f1); b=\$(grep -n '^## vqbench against DPDK.s rte_ring' '$md' | cut -d: -f1); [ -n \"\$a\" ] && [ \"\$a\" -lt \"\$b\" ]"
check "target 1: cells, lowest, pairs short, placement not recorded" has "- **Target 1. DPDK peer, vqbench ÷ DPDK ≥ 1.0 in every cell:** **not met**: 1 of 3 cells at or above 1 (target: all 12); lowest median ratio 0.600 (\`tx packed in_order=1 segs=4\`); cells with fewer than 5 usable pairs: \`rx packed in_order=0 segs=1\` 2, \`tx packed in_order=1 segs=4\` 3, \`tx split in_order=1 segs=1\` 2; placement changes not recorded in this CSV (no column placement_changed): none excluded. From \`peer-dpdk-20990101-000000.csv\`."
check "target 2: TX total and part from perf-attrib, RX from peer-callgrind" has "- **Target 2. Instructions per packet (callgrind):** **not met**: TX split full: 500.0 instructions per packet (≤ 700), part 250.0 (≤ 400); before, at \`0123456789ab\`: 1000.0 and 750.0; RX against the vhost backend: at most 350.0 instructions per packet (\`packed in_order=0\`, the highest of 2 cells; ≤ 300). From \`perf-attrib-20990101-000000.csv\`, \`peer-callgrind-20990101-000000.csv\`."
check "target 3: the counted ratio judged, the timed one shown" has "- **Target 3. rte_ring ceiling ≤ 2.5x:** **not met**: packed in-order skip ÷ rte_ring = 4.000 counted (callgrind: 800.0 ÷ 200.0 instructions per packet; ≤ 2.5); timed median ratio 2.500 over 2 pairs"
check "target 4: thread kicks packed against split" has "- **Target 4. Packed event suppression: kicks per packet packed ≤ split:** **met**: kicks per packet with the thread device, packed against split (median over the ok rounds), full 0.01000 against 0.03000, skip 0.02000 against 0.02000, premapped 0.00500 against 0.03000; event_idx 1."
check "target 4: the kicks table" has "| premapped | 0.03000 | 0.00500 | yes |"
check "target 5: inline intervals next to the callgrind deltas; packed has too few rounds" has "- **Target 5. Tracking difference resolved to ±1 ns:** **not met**: inline device, median paired difference (95% interval half-width ≤ ±1 ns; exact callgrind Δ beside it): split skip − full -5.00 ns (±1.00; -50.0 instructions); split premapped − full -11.00 ns (±1.00; -100.0 instructions); no interval for packed skip − full, packed premapped − full."

# the same CSVs give the same file (fixed bootstrap seed)
cp "$md" "$tmp/first.md"
"$py" "$report" --results "$r" >/dev/null 2>&1
check "a second run writes the same file" cmp -s "$md" "$tmp/first.md"

# only one kind present: the others name their scripts; --out elsewhere
r2=$tmp/only
mkdir -p "$r2"
cp "$r/perf-ceiling-20990101-000000.csv" "$r2/"
"$py" "$report" --results "$r2" --out "$tmp/only.md" >/dev/null 2>&1
rc=$?
check "one kind only: exit 0 (got $rc)" test $rc = 0
md=$tmp/only.md
check "--out honoured" test -s "$md"
check "missing tracking names perf-tracking.sh" has "No \`perf-tracking-*.csv\` in the results directory: \`scripts/perf-tracking.sh\` makes it"
check "missing counts names perf-tracking.sh" has "No \`perf-tracking-counts-*.csv\` in the results directory: \`scripts/perf-tracking.sh\` makes it"
check "missing peer names peer-dpdk.sh" has "No \`peer-dpdk-*.csv\` in the results directory: \`scripts/peer-dpdk.sh\` makes it"
check "budget without counts: no callgrind claim" bash -c "! grep -q 'the callgrind counts below give' '$md'"
for t in "1. DPDK peer, vqbench ÷ DPDK ≥ 1.0 in every cell:** **not judged**: no \`peer-dpdk-*.csv\` in the results directory (\`scripts/peer-dpdk.sh\` makes it)" \
	"2. Instructions per packet (callgrind):** **not met**: TX **not judged**: no \`perf-attrib-*.csv\`" \
	"3. rte_ring ceiling ≤ 2.5x:** **not met**: packed in-order skip ÷ rte_ring = 4.000" \
	"4. Packed event suppression: kicks per packet packed ≤ split:** **not judged**: no \`perf-tracking-*.csv\`" \
	"5. Tracking difference resolved to ±1 ns:** **not judged**: no \`perf-tracking-*.csv\`"; do
	check "one kind only: target ${t%%.*} has its line" has "- **Target $t"
done

# target 1 met: 12 cells x 6 pairs at 1.1, one pair per cell flagged and excluded
r3=$tmp/peer12
mkdir -p "$r3"
"$py" - "$r3/peer-dpdk-20990101-000000.csv" <<'EOF'
import csv, sys
w = csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n")
w.writerow(["dir", "layout", "in_order", "segments", "pair", "dpdk_mpps", "vqbench_mpps", "ratio_vqbench_over_dpdk",
            "placement_changed"])
cells = [("tx", l, i, s) for l in ("split", "packed") for i in (0, 1) for s in (1, 4)] + \
        [("rx", l, i, 1) for l in ("split", "packed") for i in (0, 1)]
for c in cells:
    for p in range(1, 7):
        w.writerow(list(c) + [p, 10, 11 if p < 6 else 5, "1.100" if p < 6 else "0.500", 1 if p == 6 else 0])
EOF
"$py" "$report" --results "$r3" --out "$tmp/peer12.md" >/dev/null 2>&1
md=$tmp/peer12.md
check "target 1 met: 12 cells, 5 usable pairs each, 12 flagged pairs excluded" has "**met**: 12 of 12 cells at or above 1 (target: all 12); lowest median ratio 1.100"
check "target 1 met: the exclusions counted" has "every cell has at least 5 usable pairs; 12 pair(s) with a placement change excluded."

# a CSV without the columns its kind needs: exit 2 and a message naming the file and the column, no traceback
r4=$tmp/badcols
mkdir -p "$r4"
printf 'side,layout\nafter,split\n' >"$r4/perf-attrib-20990101-000000.csv"
"$py" "$report" --results "$r4" --out "$tmp/bad.md" >/dev/null 2>"$tmp/e4"; rc=$?
check "attrib CSV without its columns exits 2 (got $rc)" test $rc = 2
check "the message names the file and the missing column" grep -qF "perf-attrib-20990101-000000.csv' has no column revision, policy, descs, dma, dir, source" "$tmp/e4"
check "no Python traceback" bash -c "! grep -q Traceback '$tmp/e4'"

# bad usage: exit 2 with a line naming the argument
"$py" "$report" --bogus >/dev/null 2>"$tmp/e1"; rc=$?
check "unknown argument exits 2 (got $rc)" test $rc = 2
check "unknown argument named" grep -q "unknown argument '--bogus'" "$tmp/e1"
"$py" "$report" --results "$tmp/nope" >/dev/null 2>"$tmp/e2"; rc=$?
check "missing --results directory exits 2 (got $rc)" test $rc = 2
check "missing directory named" grep -q "nope" "$tmp/e2"
"$py" "$report" --results "$r" --ceiling "$tmp/none.csv" >/dev/null 2>"$tmp/e3"; rc=$?
check "missing --ceiling file exits 2 (got $rc)" test $rc = 2

# callgrind_dump.Names, the name-compression reader callgrind-counts.py and peer-callgrind.sh share
check "callgrind_dump.Names: '(ID) NAME' defines, '(ID)' refers back, a plain name is itself, an unknown ID is empty" \
	"$py" -c "import sys; sys.path.insert(0, sys.argv[1]); from callgrind_dump import Names
n, m = Names(), Names()
assert n('(3) /usr/lib/librte_net_virtio.so.23') == '/usr/lib/librte_net_virtio.so.23'
assert n(' (3) ') == '/usr/lib/librte_net_virtio.so.23' and m('(3)') == '' and n('plain') == 'plain' and n('(9)') == ''" \
	"$(dirname "$report")"
echo "test_perf_report: $checks checks, $fails failed"
[ $fails = 0 ]
