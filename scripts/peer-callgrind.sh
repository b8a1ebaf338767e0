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
# Both sides are counted for whole bursts only, with the idle polls taken
# out, so the counts repeat to within a fraction of a percent run to run
# (under valgrind both loops are far slower than the native backend, which on
# a busy machine still leaves most polls of testpmd empty):
# vqbench: scripts/callgrind-counts.py --device vhost-user:SOCKET (its loop,
#   two run lengths, the difference per packet), with VQB_VU_SETTLE=1: before
#   each reap the device waits for the backend to consume every chain posted,
#   in dev_vu_settle, which callgrind leaves out (dev/dev_vu_settle.h); from
#   the same dumps the instructions per packet by source file (BY_SOURCE CSV).
# DPDK: dpdk-testpmd under callgrind with --separate-threads=yes,
#   --no-huge (the EAL cannot map hugepages under valgrind) and
#   --record-burst-stats, for DPDK_SECONDS; the forwarding lcore's thread
#   (the busiest thread but the main one, whose EAL start-up would dominate).
#   An empty poll (a burst that received, or sent, nothing) costs what one
#   poll costs in an idle run of IDLE_SECONDS against a backend that never
#   lets a burst succeed (rx: it sends nothing; tx: it never empties the
#   ring); a burst of k packets costs that plus k times a per-packet share,
#   so per packet = (thread instructions - (polls - packets / 32) x that
#   cost) / packets: the count of a loop whose every burst is whole. Exact
#   when every burst was empty or whole (testpmd's burst statistics); with
#   partial bursts (a TX ring the backend did not empty in time, on a busy
#   machine) it assumes a partial burst's cost is linear in its packets:
#   idle_exact 0 and partial_pct (the partial bursts' share) say so.
#   That thread runs only the forwarding loop (rx burst or tx burst, mbuf
#   alloc/free, polling), so its start-up is negligible against millions of
#   packets. Debian's DPDK is stripped: no per-function split on that side.
# CSV: dir, layout, in_order, side, instructions_per_pkt, packets,
#   instructions, command, then (testpmd rows) polls, idle_polls (polls -
#   packets / 32), idle_instructions_per_poll, idle_exact (1: every burst
#   empty or whole, no model; 0: the linear model above), partial_pct.
#
# Environment:
#   DIRS          rx,tx (default rx,tx)
#   LAYOUTS       split,packed (default both)
#   IN_ORDER      off,on (default both)
#   CG_PACKETS    vqbench SMALL,LARGE packets (4000,24000)
#   DPDK_SECONDS  wall seconds testpmd runs under valgrind (60)
#   IDLE_SECONDS  wall seconds of testpmd's idle run per cell (20)
#   RESULTS_DIR   results
#   OUT           RESULTS_DIR/peer-callgrind-<UTC>.csv
#   BY_SOURCE     OUT's directory/peer-callgrind-annotate-<UTC>.csv
# Needs root, hugepages for the backend (scripts/hugepages.sh), dpdk-testpmd
# and valgrind. Exit: 0 ok, 1 a run failed, 2 bad usage or missing tools.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '4,60p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "peer-callgrind.sh: too many arguments (usage: scripts/peer-callgrind.sh [VQBENCH])" >&2; exit 2; }
vqb=${1:-build/release/bench/vqbench}
dirs=${DIRS:-rx,tx}
layouts=${LAYOUTS:-split,packed}
inorders=${IN_ORDER:-off,on}
cg_packets=${CG_PACKETS:-4000,24000}
dsecs=${DPDK_SECONDS:-60}
isecs=${IDLE_SECONDS:-20}
results=${RESULTS_DIR:-results}
stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT:-$results/peer-callgrind-$stamp.csv}
src_out=${BY_SOURCE:-$(dirname "$out")/peer-callgrind-annotate-$stamp.csv}

for d in ${dirs//,/ }; do case "$d" in rx|tx) ;; *) echo "peer-callgrind.sh: DIRS='$dirs': '$d' (allowed: rx, tx)" >&2; exit 2 ;; esac; done
for l in ${layouts//,/ }; do case "$l" in split|packed) ;; *) echo "peer-callgrind.sh: LAYOUTS='$layouts': '$l' (allowed: split, packed)" >&2; exit 2 ;; esac; done
for i in ${inorders//,/ }; do case "$i" in off|on) ;; *) echo "peer-callgrind.sh: IN_ORDER='$inorders': '$i' (allowed: off, on)" >&2; exit 2 ;; esac; done
[[ $cg_packets =~ ^[0-9]+,[0-9]+$ ]] || { echo "peer-callgrind.sh: CG_PACKETS='$cg_packets' is not SMALL,LARGE" >&2; exit 2; }
[[ $dsecs =~ ^[1-9][0-9]*$ ]] || { echo "peer-callgrind.sh: DPDK_SECONDS='$dsecs' is not a whole number of seconds >= 1" >&2; exit 2; }
[[ $isecs =~ ^[1-9][0-9]*$ ]] || { echo "peer-callgrind.sh: IDLE_SECONDS='$isecs' is not a whole number of seconds >= 1" >&2; exit 2; }
[ -x "$vqb" ] || { echo "peer-callgrind.sh: no vqbench at '$vqb' (build it: scripts/build.sh, or give its path)" >&2; exit 2; }
for t in valgrind dpdk-testpmd; do
	command -v "$t" >/dev/null || { echo "peer-callgrind.sh: $t not found (scripts/install-deps.sh)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "peer-callgrind.sh: needs root (the vhost backend's hugepages, a private mount namespace)" >&2; exit 2; }
mkdir -p "$(dirname "$out")" "$(dirname "$src_out")"
tmp=$(mktemp -d -t vqb_peercg.XXXXXX)
sock="$tmp/vhost.sock"
trap 'scripts/vhost-backend.sh stop "$sock" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# dpdk_run DIR PACKED IN_ORDER SECONDS TAG: testpmd under callgrind for
# SECONDS against the backend at $sock, with --record-burst-stats; its log
# and its dumps (one per thread) go to $tmp/TAG/
dpdk_run() {
	local dir=$1 packed=$2 inorder=$3 secs=$4 tag=$5 mode=rxonly
	[ "$dir" = tx ] && mode=txonly
	rm -rf "${tmp:?}/$tag" && mkdir -p "$tmp/$tag"
	timeout -s INT "$secs" valgrind --tool=callgrind --separate-threads=yes \
		--callgrind-out-file="$tmp/$tag/tp.%p" dpdk-testpmd --lcores '0@1,1@0' --no-pci --no-huge -m 512 \
		--single-file-segments --file-prefix="vqbpcg$$" \
		--vdev "net_virtio_user0,path=$sock,queues=1,packed_vq=$packed,in_order=$inorder,queue_size=1024" -- \
		--nb-cores=1 --rxd=1024 --txd=1024 --burst=32 --total-num-mbufs=8192 --forward-mode=$mode \
		--txpkts=64 --stats-period 10 --no-lsc-interrupt --record-burst-stats </dev/null >"$tmp/$tag/log" 2>&1 || true
	rm -rf "/var/run/dpdk/vqbpcg$$" 2>/dev/null || true
}

# dpdk_count DIR RUN_TAG IDLE_TAG -> "instructions_per_pkt packets
# thread_instructions polls idle_polls idle_instructions_per_poll exact
# partial_pct"
dpdk_count() {
	python3 - "$tmp" "$@" <<'EOF'
import glob, re, sys
sys.path.insert(0, "scripts")  # the repository's top (peer-callgrind.sh runs there)
from callgrind_dump import Names
tmp, d, run_tag, idle_tag = sys.argv[1:]
key = "RX" if d == "rx" else "TX"

def polls_in(path):
    """The most calls of one call record from outside DPDK's virtio PMD
    into it in a dump: its rx or tx burst function, called once per poll
    (the library is stripped, so it is found by its object, not its name;
    the loaded run checks the count against testpmd's burst statistics)."""
    name, ob, cob, best = Names(), "", None, 0
    for line in open(path):
        if line.startswith("ob="):
            ob, cob = name(line[3:]), None
        elif line.startswith("fn="):
            cob = None
        elif line.startswith("cob="):
            cob = name(line[4:])
        elif line.startswith("calls="):
            # a call into the PMD from outside it (testpmd's loop)
            if cob is not None and "librte_net_virtio" in cob and "librte_net_virtio" not in ob:
                best = max(best, int(line.split()[0][6:]))
            cob = None
    return best


def read(tag, idle):
    log = open(f"{tmp}/{tag}/log", errors="replace").read()
    # the accumulated statistics testpmd prints when it stops (an idle RX
    # run prints no stream statistics: nothing was received)
    pk = re.findall(rf"{key}-packets:\s+(\d+)\s+{key}-dropped", log)
    bl = re.findall(rf"{key}-bursts : (\d+) \[([^\]]*)\]", log)
    threads = []
    # one dump per thread (tp.PID-TT); thread 01 is the main lcore (EAL
    # start-up, then idle): the forwarding lcore is the busiest of the others
    for path in glob.glob(f"{tmp}/{tag}/tp.*"):
        if path.endswith("-01"):
            continue
        for line in open(path):
            if line.startswith(("summary:", "totals:")):
                threads.append((int(line.split()[1]), path))
                break
    if not pk or (not bl and not idle) or not threads:
        sys.stderr.write(f"peer-callgrind.sh: testpmd under callgrind ({tag}) gave no {key} statistics, "
                         "no burst statistics or no dump (on a busy machine its start-up under valgrind can "
                         "take the whole run: raise DPDK_SECONDS or IDLE_SECONDS); its log:\n"
                         + "\n".join(log.splitlines()[-15:]) + "\n")
        sys.exit(1)
    t, path = max(threads)
    n = polls_in(path)
    if bl and int(bl[-1][0]) != n:
        sys.stderr.write(f"peer-callgrind.sh: testpmd ({tag}): {bl[-1][0]} bursts in its statistics, "
                         f"{n} calls into the PMD's burst function in the dump\n")
        sys.exit(1)
    spread = {int(c): int(p) for p, c in re.findall(r"(\d+)% of (\d+) pkts", bl[-1][1])} if bl else {}
    return int(pk[-1]), n, spread, bool(bl) and "others" in bl[-1][1], t


p, n, spread, others, t = read(run_tag, False)
ip, idle_n, _, _, idle_t = read(idle_tag, True)
# tx: the idle run first fills the ring it never sees emptied (up to the
# queue size, 1024); rx: it receives nothing
if p == 0 or idle_n == 0 or ip > (1024 if d == "tx" else 0):
    sys.stderr.write(f"peer-callgrind.sh: testpmd {d}: {p} packets in the loaded run, {ip} packets and "
                     f"{idle_n} bursts in the idle run (need > 0, {'<= 1024' if d == 'tx' else '0'} and > 0)\n")
    sys.exit(1)
e = idle_t / idle_n
# A burst that moves k of 32 packets costs e + k * c (e: an empty burst,
# from the idle run; c: each packet's share), so the n bursts cost
# n * e + p * c and a whole burst costs e + 32 * c: per packet
# (t - (n - p / 32) * e) / p, as if n - p / 32 bursts had been empty and the
# rest whole. When every burst was empty or a whole 32 that is exactly what
# happened (idle_exact 1, no model); otherwise (a backend that could not keep
# up: a TX ring full, an RX ring partly filled) it rests on the cost of a
# partial burst being linear in its packets (idle_exact 0; partial_pct says
# how many bursts were partial, in testpmd's whole percent).
exact = not others and set(spread) <= {0, 32} and p % 32 == 0
idle = n - p / 32
partial = 100 - spread.get(0, 0) - spread.get(32, 0) if spread else 0
print(f"{(t - idle * e) / p:.1f} {p} {t} {n} {idle:.1f} {e:.1f} {int(exact)} {partial}")
EOF
}

echo "dir,layout,in_order,side,instructions_per_pkt,packets,instructions,command,polls,idle_polls,idle_instructions_per_poll,idle_exact,partial_pct" >"$out"
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
		echo "$dir,$layout,$io,vqbench,$v,,,\"$vcmd\",,,,," >>"$out"
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
		dpdk_run "$dir" "$packed" "$io" "$dsecs" "run-$layout-$io"
		echo "peer-callgrind.sh: $dir $layout in-order=$inorder: vqbench $v instructions/packet; testpmd's loaded run done"
	done
	done
	scripts/vhost-backend.sh stop "$sock" >/dev/null
	# The idle runs: a backend that never fills the RX ring (rxonly) or
	# never empties the TX ring (txonly) makes every burst of testpmd's
	# loop an empty one, which gives the cost of one empty poll.
	scripts/vhost-backend.sh start "$sock" "$([ "$dir" = rx ] && echo rxonly || echo txonly)" 1 >/dev/null
	for layout in ${layouts//,/ }; do
	for inorder in ${inorders//,/ }; do
		packed=$([ "$layout" = packed ] && echo 1 || echo 0)
		io=$([ "$inorder" = on ] && echo 1 || echo 0)
		dpdk_run "$dir" "$packed" "$io" "$isecs" "idle-$layout-$io"
		read -r dp dpk dins dn didle de dex dpart < <(dpdk_count "$dir" "run-$layout-$io" "idle-$layout-$io") ||
			{ echo "peer-callgrind.sh: testpmd $dir $layout in-order=$inorder failed" >&2; exit 1; }
		dcmd="valgrind --tool=callgrind --separate-threads=yes dpdk-testpmd --no-huge ... net_virtio_user0,packed_vq=$packed,in_order=$io,queue_size=1024 -- --forward-mode=$([ "$dir" = rx ] && echo rxonly || echo txonly) --burst=32 --txpkts=64 --record-burst-stats (${dsecs}s; the forwarding thread's instructions minus its empty polls at their cost in a ${isecs}s idle run; over the packets)"
		echo "$dir,$layout,$io,dpdk-testpmd,$dp,$dpk,$dins,\"$dcmd\",$dn,$didle,$de,$dex,$dpart" >>"$out"
		echo "peer-callgrind.sh: $dir $layout in-order=$inorder: dpdk-testpmd $dp instructions/packet ($dpk packets in $dn polls, as if $didle were empty at $de instructions each; $([ "$dex" = 1 ] && echo "exact: every burst empty or whole" || echo "linear model: ${dpart}% of bursts partial"))"
	done
	done
	scripts/vhost-backend.sh stop "$sock" >/dev/null
done
echo "peer-callgrind.sh: wrote $out and $src_out"
