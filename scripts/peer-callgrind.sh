#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# peer-callgrind.sh [VQBENCH] - instructions per packet, counted under
# valgrind's callgrind, of vqbench's packet loop and of DPDK testpmd's
# forwarding loop (its virtio PMD through net_virtio_user), against the same
# DPDK vhost-user backend (scripts/vhost-backend.sh, not under valgrind):
# the exact-count companion of scripts/peer-dpdk.sh's timed ratios.
#
# For each direction, layout (split, packed) and in-order (off, on), with
# 1 descriptor per packet, 64-byte packets, queue size 1024, burst 32,
# --policy premapped --dma identity --event-idx off (peer-dpdk.sh's
# vqbench options):
#   rx: the backend generates packets (txonly); vqbench --dir rx and
#       testpmd --forward-mode=rxonly receive them
#   tx: the backend consumes (rxonly); vqbench --dir tx and testpmd
#       --forward-mode=txonly send
# vqbench: scripts/callgrind-counts.py --device vhost-user:SOCKET (its loop,
#   two run lengths, the difference per packet), and from the same dumps the
#   instructions per packet by source file (BY_SOURCE CSV).
# DPDK: dpdk-testpmd under callgrind with --separate-threads=yes and
#   --no-huge (the EAL cannot map hugepages under valgrind), for
#   DPDK_SECONDS; the forwarding lcore's thread (the busiest thread but the
#   main one, whose EAL start-up would dominate) divided by the packets
#   testpmd's final statistics report
#   for the direction. That thread runs only the forwarding loop (rx burst
#   or tx burst, mbuf alloc/free, polling), so its start-up is negligible
#   against millions of packets. Debian's DPDK is stripped: no per-function
#   split on that side.
# Under valgrind both programs run far slower than the native backend, so
# their loops rarely find the ring empty (tx: full); any polling that does
# happen is in the count on both sides.
#
# Environment:
#   DIRS          rx,tx (default rx,tx)
#   LAYOUTS       split,packed (default both)
#   IN_ORDER      off,on (default both)
#   CG_PACKETS    vqbench SMALL,LARGE packets (4000,24000)
#   DPDK_SECONDS  wall seconds testpmd runs under valgrind (60)
#   RESULTS_DIR   results
#   OUT           RESULTS_DIR/peer-callgrind-<UTC>.csv
#   BY_SOURCE     OUT's directory/peer-callgrind-annotate-<UTC>.csv
# Needs root, hugepages for the backend (scripts/hugepages.sh), dpdk-testpmd
# and valgrind. Exit: 0 ok, 1 a run failed, 2 bad usage or missing tools.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,44p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "peer-callgrind.sh: too many arguments (usage: scripts/peer-callgrind.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
dirs=${DIRS:-rx,tx}
layouts=${LAYOUTS:-split,packed}
inorders=${IN_ORDER:-off,on}
cg_packets=${CG_PACKETS:-4000,24000}
dsecs=${DPDK_SECONDS:-60}
results=${RESULTS_DIR:-results}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$results/peer-callgrind-$stamp.csv}
src_out=${BY_SOURCE:-$(dirname "$out")/peer-callgrind-annotate-$stamp.csv}

for d in ${dirs//,/ }; do case "$d" in rx|tx) ;; *) echo "peer-callgrind.sh: DIRS='$dirs': '$d' (allowed: rx, tx)" >&2; exit 2 ;; esac; done
for l in ${layouts//,/ }; do case "$l" in split|packed) ;; *) echo "peer-callgrind.sh: LAYOUTS='$layouts': '$l' (allowed: split, packed)" >&2; exit 2 ;; esac; done
for i in ${inorders//,/ }; do case "$i" in off|on) ;; *) echo "peer-callgrind.sh: IN_ORDER='$inorders': '$i' (allowed: off, on)" >&2; exit 2 ;; esac; done
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "peer-callgrind.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
[[ $dsecs =~ ^[1-9][0-9]*$ ]] || { echo "peer-callgrind.sh: DPDK_SECONDS='$dsecs' is not a whole number of seconds >= 1" >&2; exit 2; }
[ -x "$vqb" ] || { echo "peer-callgrind.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
for t in valgrind dpdk-testpmd; do
	command -v "$t" >/dev/null || { echo "peer-callgrind.sh: $t not found (scripts/install-deps.sh)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "peer-callgrind.sh: needs root (the vhost backend's hugepages, a private mount namespace)" >&2; exit 2; }
mkdir -p "$(dirname "$out")" "$(dirname "$src_out")"
tmp=$(mktemp -d -t vqb_peercg.XXXXXX)
sock="$tmp/vhost.sock"
trap 'scripts/vhost-backend.sh stop "$sock" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# dpdk_count DIR PACKED IN_ORDER -> "instructions_per_pkt packets thread_instructions"
dpdk_count() {
	local dir=$1 packed=$2 inorder=$3 mode=rxonly key=RX
	[ "$dir" = tx ] && { mode=txonly; key=TX; }
	rm -f "$tmp"/tp.*
	timeout -s INT "$dsecs" valgrind --tool=callgrind --separate-threads=yes \
		--callgrind-out-file="$tmp/tp.%p" dpdk-testpmd --lcores '0@1,1@0' --no-pci --no-huge -m 512 \
		--single-file-segments --file-prefix="vqbpcg$$" \
		--vdev "net_virtio_user0,path=$sock,queues=1,packed_vq=$packed,in_order=$inorder,queue_size=1024" -- \
		--nb-cores=1 --rxd=1024 --txd=1024 --burst=32 --total-num-mbufs=8192 --forward-mode=$mode \
		--txpkts=64 --stats-period 10 --no-lsc-interrupt </dev/null >"$tmp/dpdk.log" 2>&1 || true
	rm -rf "/var/run/dpdk/vqbpcg$$" 2>/dev/null || true
	python3 - "$tmp" "$key" <<'EOF'
import glob, re, sys
tmp, key = sys.argv[1], sys.argv[2]
log = open(f"{tmp}/dpdk.log", errors="replace").read()
# the accumulated statistics testpmd prints when it stops
m = re.findall(rf"{key}-packets:\s+(\d+)\s+{key}-dropped", log)
threads = []
# one dump per thread (tp.PID-TT); thread 01 is the main lcore (EAL
# start-up, then idle): the forwarding lcore is the busiest of the others
for path in glob.glob(f"{tmp}/tp.*"):
    if path.endswith("-01"):
        continue
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            threads.append(int(line.split()[1]))
            break
if not m or not threads or int(m[-1]) == 0:
    sys.stderr.write("peer-callgrind.sh: testpmd under callgrind gave no packet count or no dump; its log:\n"
                     + "\n".join(log.splitlines()[-15:]) + "\n")
    sys.exit(1)
pk = int(m[-1])
print(f"{max(threads) / pk:.1f} {pk} {max(threads)}")
EOF
}

echo "dir,layout,in_order,side,instructions_per_pkt,packets,instructions,command" >"$out"
first_src=1
for dir in ${dirs//,/ }; do
	scripts/vhost-backend.sh start "$sock" "$([ "$dir" = rx ] && echo txonly || echo rxonly)" 1 >/dev/null
	for layout in ${layouts//,/ }; do
	for inorder in ${inorders//,/ }; do
		packed=$([ "$layout" = packed ] && echo 1 || echo 0)
		io=$([ "$inorder" = on ] && echo 1 || echo 0)
		sweep=(--layout "$layout" --in-order "$inorder" --descs 1 --pkt-bytes 64 --queue-size 1024 --batch 32
		       --event-idx off --dir "$dir" --policy premapped --dma identity)
		scripts/callgrind-counts.py --vqbench "$vqb" --packets "$cg_packets" --device "vhost-user:$sock" \
			--csv "$tmp/vqb.csv" --by-source "$tmp/vqb-src.csv" -- "${sweep[@]}" >"$tmp/vqb.log" 2>&1 ||
			{ echo "peer-callgrind.sh: vqbench $dir $layout in-order=$inorder under callgrind failed:" >&2; tail -n 15 "$tmp/vqb.log" >&2; exit 1; }
		v=$(python3 -c "import csv,sys; r=next(csv.DictReader(open(sys.argv[1]))); print(r['cg_instructions_per_pkt'])" "$tmp/vqb.csv")
		vcmd="scripts/callgrind-counts.py --packets $cg_packets --device vhost-user:SOCKET -- ${sweep[*]}"
		echo "$dir,$layout,$io,vqbench,$v,,,$vcmd" >>"$out"
		python3 - "$tmp/vqb-src.csv" "$src_out" "$dir" "$layout" "$io" "$first_src" <<'EOF'
import csv, sys
src, out, d, layout, io, first = sys.argv[1:]
rows = list(csv.DictReader(open(src)))
with open(out, "w" if first == "1" else "a", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    if first == "1":
        w.writerow(["dir", "layout", "in_order", "source", "instructions_per_pkt", "share", "command"])
    for r in rows:
        w.writerow([d, layout, io, r["source"], r["instructions_per_pkt"], r["share"],
                    r["command"].replace(r["command"].split("--device ")[-1].split()[0], "vhost-user:SOCKET")
                    if "--device " in r["command"] else r["command"]])
EOF
		first_src=0
		read -r dp dpk dins < <(dpdk_count "$dir" "$packed" "$io") ||
			{ echo "peer-callgrind.sh: testpmd $dir $layout in-order=$inorder failed" >&2; exit 1; }
		dcmd="valgrind --tool=callgrind --separate-threads=yes dpdk-testpmd --no-huge ... net_virtio_user0,packed_vq=$packed,in_order=$io,queue_size=1024 -- --forward-mode=$([ "$dir" = rx ] && echo rxonly || echo txonly) --burst=32 --txpkts=64 (${dsecs}s; forwarding thread / packets)"
		echo "$dir,$layout,$io,dpdk-testpmd,$dp,$dpk,$dins,$dcmd" >>"$out"
		echo "peer-callgrind.sh: $dir $layout in-order=$inorder: vqbench $v, dpdk-testpmd $dp instructions/packet ($dpk packets)"
	done
	done
	scripts/vhost-backend.sh stop "$sock" >/dev/null
done
echo "peer-callgrind.sh: wrote $out and $src_out"
