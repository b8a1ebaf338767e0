#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# peer-dpdk.sh [VQBENCH] - DPDK's own virtio driver (dpdk-testpmd with a
# net_virtio_user vdev) and vqbench's vhost-user device, against the same
# DPDK vhost backend (scripts/vhost-backend.sh), same layout, queue size,
# in-order setting and segments per packet, in alternating runs (DPDK,
# vqbench, DPDK, vqbench, ... PAIRS pairs). Writes one CSV row per pair:
# both packet rates and their ratio.
#
#   TX (backend in rxonly): split/packed x in-order off/on x 1 and 4 segments
#   RX (backend in txonly): split/packed x in-order off/on x 1 segment
#   64-byte packets, queue 1024, burst/batch 32, EVENT_IDX off (DPDK's virtio
#   PMD does not negotiate it).
#
# Segments: DPDK's txonly with --txpkts 64 (1) or 16,16,16,16 (4 mbuf
# segments). With 1 segment DPDK pushes the 12-byte header into the mbuf
# headroom: one descriptor, as vqbench --descs 1. With 4 it needs the header
# plus 4 segments: vqbench --descs 5 (header + 4 x 16 bytes) is that chain;
# DPDK writes it as a direct chain on split in-order and into an indirect
# table otherwise (INDIRECT_DESC negotiated), and vqbench does the same
# (--indirect on in those cells); columns dpdk_tx_chain and vqbench_tx_chain
# say which. Columns dpdk_features and vqbench_features are the virtio
# features the backend logged as negotiated with each side in that pair
# (same configuration: they must be equal; a pair where they differ is
# reported on stderr).
# No placement column: a core-to-core probe on the two vCPUs means nothing
# while the backend busy-polls on one of them (tried: consecutive probes
# between pairs read 0.6 to 20 us), so no pair is left out for placement.
# vqbench runs --policy premapped (DPDK's model: buffers mapped once) with
# --dma identity; its RX against a generator checks lengths only.
#
# Environment: PAIRS (5), SECONDS_PER_RUN (3), RESULTS_DIR (results),
# OUT (RESULTS_DIR/peer-dpdk-<UTC>.csv). The last columns record the run
# length and the machine (host, cpu_model, kernel from vqbench's CSV) for
# scripts/perf_report.py.
# Testpmd's first stats print has no interval and the second covers a
# partial one: both are discarded; the rate is the median of the rest.
# Needs root, hugepages (scripts/hugepages.sh), dpdk-testpmd.
set -euo pipefail
cd "$(dirname "$0")/.."
vqb=${1:-build/release/bench/vqbench}
pairs=${PAIRS:-5}
secs=${SECONDS_PER_RUN:-3}
out=${OUT:-${RESULTS_DIR:-results}/peer-dpdk-$(date -u +%Y%m%d-%H%M%S).csv}
[ -x "$vqb" ] || { echo "peer-dpdk.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "peer-dpdk.sh: must run as root (hugepages)" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vqb_peer.XXXXXX")
sock=$tmp/vh.sock
cleanup() {
	scripts/vhost-backend.sh stop "$sock" >/dev/null 2>&1 || true
	rm -f /dev/hugepages/vqbpeer* 2>/dev/null || true
	rm -rf "$tmp" /var/run/dpdk/vqbpeer 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# median rate of port 0's "Rx-pps"/"Tx-pps" prints, first two discarded
rate() { # rate LOG Rx|Tx
	python3 - "$1" "$2" <<'EOF'
import re, statistics, sys
v = [int(m.group(1)) for m in re.finditer(sys.argv[2] + r"-pps:\s+(\d+)", open(sys.argv[1]).read())]
v = v[2:]
print("%.4f" % (statistics.median(v) / 1e6) if v else "")
EOF
}

dpdk_run() { # dpdk_run DIR PACKED IN_ORDER SEGS -> Mpps
	local dir=$1 packed=$2 inorder=$3 segs=$4 txpkts=64 mode=txonly key=Tx
	[ "$segs" = 4 ] && txpkts=16,16,16,16
	[ "$dir" = rx ] && { mode=rxonly; key=Rx; }
	timeout -s INT $((secs + 4)) dpdk-testpmd --lcores '0@1,1@0' --no-pci --file-prefix=vqbpeer \
		--single-file-segments --socket-mem 128 \
		--vdev "net_virtio_user0,path=$sock,queues=1,packed_vq=$packed,in_order=$inorder,queue_size=1024" -- \
		--nb-cores=1 --rxd=1024 --txd=1024 --burst=32 --forward-mode=$mode --txpkts=$txpkts \
		--stats-period 1 --no-lsc-interrupt </dev/null >"$tmp/dpdk.log" 2>&1 || true
	rate "$tmp/dpdk.log" $key
}

# features N: the virtio features (hex) the backend logged as negotiated
# after its first N such lines (the newest connection's), "" if none since
features() {
	{ grep -o "negotiated Virtio features: 0x[0-9a-f]*" "$sock.log" || true; } | tail -n +$(($1 + 1)) | tail -n 1 | sed 's/.* //'
}
nfeatures() { grep -c "negotiated Virtio features" "$sock.log" || true; }

vqb_run() { # vqb_run DIR LAYOUT IN_ORDER DESCS INDIRECT -> Mpps
	"$vqb" --device "vhost-user:$sock" --layout "$2" --in-order "$3" --descs "$4" --indirect "$5" --pkt-bytes 64 \
		--queue-size 1024 --batch 32 --event-idx off --dir "$1" --policy premapped --dma identity \
		--seconds "$secs" --reps 1 --warmup 0 --cores 0,1 -q --csv "$tmp/vqb.csv" >"$tmp/vqb.out" 2>&1 || true
	python3 - "$tmp/vqb.csv" "$tmp/machine" <<'EOF'
import csv, os, sys
all_rows = list(csv.DictReader(open(sys.argv[1]))) if os.path.exists(sys.argv[1]) else []
rows = [r for r in all_rows if r.get("status", "ok") == "ok" and r["errors"] == "0"]
if all_rows:  # host,cpu_model,kernel for the CSV's last columns, commas dropped
    open(sys.argv[2], "w").write(",".join(all_rows[0].get(k, "").replace(",", " ")
                                          for k in ("host", "cpu_model", "kernel")))
print("%.4f" % float(rows[0]["mpps"]) if rows else "")
EOF
}

machine() { if [ -s "$tmp/machine" ]; then cat "$tmp/machine"; else echo ",,"; fi; }
echo "dir,layout,in_order,segments,vqbench_descs,dpdk_tx_chain,vqbench_tx_chain,vqbench_policy,pkt_bytes,queue_size,pair,dpdk_mpps,vqbench_mpps,ratio_vqbench_over_dpdk,vqbench_rx_check,dpdk_features,vqbench_features,seconds_per_run,host,cpu_model,kernel" >"$out"
for dir in tx rx; do
	scripts/vhost-backend.sh start "$sock" "$([ $dir = tx ] && echo rxonly || echo txonly)" 1 >/dev/null
	for layout in split packed; do
	for inorder in off on; do
	for segs in 1 4; do
		[ $dir = rx ] && [ $segs = 4 ] && continue # DPDK posts one buffer per RX packet
		packed=$([ $layout = packed ] && echo 1 || echo 0)
		io=$([ $inorder = on ] && echo 1 || echo 0)
		descs=$([ $segs = 4 ] && echo 5 || echo 1)
		chain="header in headroom (1 desc)" vchain="header and payload in one buffer (1 desc)" ind=off
		[ $dir = rx ] && chain="rx: 1 buffer per packet" vchain=$chain
		if [ $dir = tx ] && [ $segs = 4 ]; then
			chain="indirect table (1 desc + 5 entries)" vchain=$chain ind=on
			[ $layout = split ] && [ $inorder = on ] && chain="direct chain (5 descs)" vchain=$chain ind=off
		fi
		check=$([ $dir = rx ] && echo "length only (foreign payload)" || echo "n/a (backend consumes)")
		for p in $(seq 1 "$pairs"); do
			n0=$(nfeatures)
			d=$(dpdk_run $dir $packed $io $segs)
			dfeat=$(features "$n0")
			n0=$(nfeatures)
			v=$(vqb_run $dir $layout $inorder $descs $ind)
			vfeat=$(features "$n0")
			[ "$dfeat" = "$vfeat" ] || echo "peer-dpdk.sh: $dir $layout in-order=$inorder segs=$segs pair $p: the backend negotiated features ${dfeat:-?} with DPDK, ${vfeat:-?} with vqbench: not the same configuration" >&2
			ratio=$(python3 -c "import sys; a,b=sys.argv[1:]; print('%.3f' % (float(b)/float(a)) if a and b else '')" "$d" "$v")
			echo "$dir,$layout,$io,$segs,$descs,$chain,$vchain,premapped,64,1024,$p,$d,$v,$ratio,$check,$dfeat,$vfeat,$secs,$(machine)" >>"$out"
			echo "peer-dpdk.sh: $dir $layout in-order=$inorder segs=$segs pair $p: dpdk $d Mpps, vqbench $v Mpps, ratio $ratio"
		done
	done
	done
	done
	scripts/vhost-backend.sh stop "$sock" >/dev/null
done
echo "peer-dpdk.sh: wrote $out"
