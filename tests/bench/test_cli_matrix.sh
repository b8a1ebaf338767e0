#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_matrix.sh VQBENCH - vqbench end to end over the whole policy x
# backend x layout matrix on the inline device (every allowed combination
# runs with every packet verified, every refused one is skipped with a
# notice), the DPDK memory and lcore the runs used, and the rte_ring ceiling.
set -u
vqb=$1
. "$(dirname "$0")/helpers.sh"
scratch test_cli_matrix
py() { python3 - "$@"; }

# 1. the matrix: 2 layouts x 5 policies x 6 backends x 2 descriptor counts
"$vqb" --device inline --layout split,packed --policy full,compact,readback,skip,premapped \
	--dma identity,pa,iommu,bounce,noncoherent,debug --descs 1,19 --packets 2000 --reps 1 --warmup 0 \
	--quiet --csv "$tmp/m.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "matrix run exits 0 (rc=$rc)" test $rc = 0
# refused: readback on packed (6 backends x 2), skip where unmap is needed
# (4 backends x 2 layouts x 2); premapped on bounce/noncoherent runs and syncs
# the buffers whose mapping needs it (asked per buffer after mapping)
n_skip=$(grep -c '^vqbench: skipping configuration' "$tmp/err")
check "28 refused configurations reported (got $n_skip)" test "$n_skip" = 28
check "readback on packed refused with its reason" grep -q "readback.*split layout" "$tmp/err"
check "skip on iommu refused naming backend and reason" grep -q "skip.*iommu.*IOMMU" "$tmp/err"
check "92 rows, every packet verified, no leak" py "$tmp/m.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = [r for r in rows if int(r["packets"]) != 2000 or int(r["errors"]) != 0 or int(r["leaked_mappings"]) != 0]
combos = {(r["layout"], r["policy"], r["dma"], r["descs"]) for r in rows}
print(f"{len(rows)} rows, {len(combos)} combinations, {len(bad)} bad")
sys.exit(0 if len(rows) == 92 and len(combos) == 92 and not bad else 1)
PY

# 2. vfio is refused here with the reason
err=$("$vqb" --dma vfio --policy full --packets 100 --reps 1 --warmup 0 --csv "$tmp/v.csv" 2>&1 >/dev/null)
rc=$?
check "--dma vfio on a machine without VFIO exits 2 (rc=$rc)" test $rc = 2
check "--dma vfio says why it is not available" grep -q "vfio.*not available here because" <<<"$err"

# 3. DPDK memory and the device lcore
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
mounted=$(grep -c ' hugetlbfs ' /proc/mounts)
"$vqb" --device thread,inline --layout split --descs 1 --policy full --packets 20000 --reps 1 --warmup 0 --quiet \
	--csv "$tmp/d.csv" >/dev/null 2>"$tmp/derr"
rc=$?
check "thread and inline runs exit 0 (rc=$rc)" test $rc = 0
if [ "${free:-0}" -ge 64 ] && [ "$mounted" -gt 0 ]; then
	want_mem=hugepages+mempool want_thr=eal-lcore
else
	want_mem=4k-pages want_thr=pthread
fi
check "runs used $want_mem memory and a $want_thr device thread" py "$tmp/d.csv" "$want_mem" "$want_thr" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mem, thr = sys.argv[2], sys.argv[3]
ok = len(rows) == 2 and all(r["memory"] == mem for r in rows)
ok = ok and {r["device"]: r["device_thread"] for r in rows} == {"thread": thr, "inline": ""}
print([(r["device"], r["memory"], r["device_thread"]) for r in rows])
sys.exit(0 if ok else 1)
PY

# 4. the rte_ring ceiling
"$vqb" --layout rte_ring,split --descs 1 --policy skip --packets 20000 --reps 1 --warmup 0 --quiet \
	--csv "$tmp/r.csv" >/dev/null 2>"$tmp/rerr"
rc=$?
check "rte_ring ceiling run exits 0 (rc=$rc)" test $rc = 0
check "rte_ring and split rows both completed 20000 packets, with core-to-core round trips" py "$tmp/r.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = sorted(r["layout"] for r in rows) == ["rte_ring", "split"] and all(int(r["packets"]) == 20000 and float(r["mpps"]) > 0 for r in rows)
# placement: the core-to-core round trip measured before and after each repetition
ok = ok and all(float(r["c2c_ns_before"]) > 0 and float(r["c2c_ns_after"]) > 0 and r["placement_changed"] in ("0", "1")
                for r in rows)
print([(r["layout"], r["packets"], r["mpps"], r["c2c_ns_before"], r["c2c_ns_after"]) for r in rows])
sys.exit(0 if ok else 1)
PY

# 5. the rte_ring ceiling with the inline device (one thread: enqueue, the
# device step dequeues, verifies or fills and returns, dequeue), TX and RX,
# a packet count that ends in a partial burst
"$vqb" --layout rte_ring --device inline --dir tx,rx --policy skip --descs 1 --batch 32 --packets 20001 --reps 1 --warmup 0 --quiet \
	--csv "$tmp/ri.csv" >/dev/null 2>"$tmp/rierr"
rc=$?
check "rte_ring --device inline exits 0 (rc=$rc)" test $rc = 0
check "rte_ring inline: tx and rx rows, 20001 packets each, no errors, device inline" py "$tmp/ri.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = sorted(r["dir"] for r in rows) == ["rx", "tx"] and all(
    r["layout"] == "rte_ring" and r["device"] == "inline" and int(r["packets"]) == 20001
    and r["errors"] == "0" and r["status"] == "ok" and float(r["mpps"]) > 0 for r in rows)
print([(r["dir"], r["device"], r["packets"], r["errors"], r["status"]) for r in rows])
sys.exit(0 if ok else 1)
PY
err=$("$vqb" --layout rte_ring --device vhost-user:/nonexistent.sock --packets 100 --csv "$tmp/rv.csv" 2>&1 >/dev/null)
rc=$?
check "rte_ring --device vhost-user is refused, naming both allowed devices (rc=$rc)" \
	bash -c '[ "$0" = 2 ] && grep -q "device thread) or in the driver.s thread (--device inline)" <<<"$1"' "$rc" "$err"

echo "test_cli_matrix: $checks checks, $fails failed"
[ $fails = 0 ]
