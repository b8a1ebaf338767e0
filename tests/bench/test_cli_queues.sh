#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_queues.sh VQBENCH - --queues end to end:
#   - the inline device over --queues 1,2,3,4 x split,packed x tx,rx,both:
#     every row ok with 0 errors, packets = N x --packets (per queue), the
#     per-queue list has N rates that sum to the aggregate mpps, the
#     per-queue min/max bound them, cpus_shared = 1 exactly where N queues
#     outnumber this process's CPUs;
#   - the thread device with one queue still runs (one per-queue rate);
#   - the thread device with two queues needs four CPUs: refused (exit 2,
#     naming needed and available) when --cores lists two, and when this
#     process has fewer than four; run and checked when it has them;
#   - vhost-user, vfio and rte_ring refuse more than one queue;
#   - a failure names its queue; bad --queues values exit 2 in one line;
#   - the queues share one device's DMA state (bounce pool, IOVA domain):
#     --queues 1,3 on bounce, iommu and identity with a forced bounce verify
#     every payload and leak nothing, and the DMA work per packet (maps,
#     unmaps, bytes copied) is the same with 3 queues as with 1: the shared
#     device's counters are counted once, not once per queue.
set -u
vqb=$1
. "$(dirname "$0")/helpers.sh"
scratch test_cli_queues
ncpus=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')
per_queue=4000

# 1. inline: 4 queue counts x 2 layouts x 3 directions, every packet verified
"$vqb" --device inline --queues 1,2,3,4 --layout split,packed --dir tx,rx,both --policy full --descs 1,3 \
	--packets $per_queue --reps 1 --warmup 0 --csv "$tmp/q.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "inline --queues 1,2,3,4 sweep exits 0 (rc=$rc)" test $rc = 0
[ $rc = 0 ] || cat "$tmp/out" "$tmp/err" >&2
check "per row: ok, 0 errors, N x $per_queue packets, N per-queue rates summing to mpps" \
	python3 - "$tmp/q.csv" "$per_queue" "$ncpus" <<'PY'
import csv, math, sys
path, per, ncpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.DictReader(open(path, newline="")))
bad = []
seen = set()
for r in rows:
    n = int(r["queues"])
    key = (n, r["layout"], r["dir"], r["descs"])
    seen.add(key)
    rates = [float(x) for x in r["queue_mpps"].split(";")] if r["queue_mpps"] else []
    mpps = float(r["mpps"])
    why = []
    if r["schema_version"] != "5":
        why.append("schema_version " + r["schema_version"])
    if r["status"] != "ok" or r["error"]:
        why.append("status %s (%s)" % (r["status"], r["error"]))
    if int(r["errors"]) != 0:
        why.append("errors " + r["errors"])
    if int(r["packets"]) != n * per:
        why.append("packets %s != %d x %d" % (r["packets"], n, per))
    if r["target_packets"] != str(per):
        why.append("target_packets " + r["target_packets"])
    if len(rates) != n:
        why.append("%d per-queue rates for %d queues" % (len(rates), n))
    elif not math.isclose(sum(rates), mpps, rel_tol=1e-4):
        why.append("per-queue rates sum to %g, mpps %g" % (sum(rates), mpps))
    elif not (math.isclose(min(rates), float(r["queue_mpps_min"]), rel_tol=1e-4) and
              math.isclose(max(rates), float(r["queue_mpps_max"]), rel_tol=1e-4)):
        why.append("queue_mpps_min/max %s/%s vs %s" % (r["queue_mpps_min"], r["queue_mpps_max"], rates))
    if r["cpus_shared"] != ("1" if n > ncpus else "0"):
        why.append("cpus_shared %s with %d queues on %d CPUs" % (r["cpus_shared"], n, ncpus))
    if int(r["leaked_mappings"]) != 0:
        why.append("leaked " + r["leaked_mappings"])
    if why:
        bad.append("%s: %s" % (key, "; ".join(why)))
want = {(n, l, d, k) for n in (1, 2, 3, 4) for l in ("split", "packed") for d in ("tx", "rx", "both")
        for k in ("1", "3")}
if seen != want or len(rows) != len(want):
    bad.append("%d rows, configurations missing: %s" % (len(rows), sorted(want - seen)))
for b in bad:
    print("  " + b)
print("%d rows checked, %d bad" % (len(rows), len(bad)))
sys.exit(1 if bad else 0)
PY
check "the table shows the per-queue min..max for several queues" \
	grep -Eq '^split descs=1 tx queues=2 +1 +[0-9.]+ +[0-9.]+\.\.[0-9.]+ ' "$tmp/out"
if [ "$ncpus" -lt 4 ]; then
	check "one notice: queues share CPUs, not a scaling measurement" \
		test "$(grep -c 'queues share CPUs.*not a scaling measurement.*cpus_shared' "$tmp/err")" = 1
fi

# 2. the thread device with one queue
"$vqb" --device thread --queues 1 --layout split,packed --policy full --descs 1 --packets 20000 \
	--reps 1 --warmup 0 -q --csv "$tmp/t1.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "thread device, one queue: exits 0 (rc=$rc)" test $rc = 0
[ $rc = 0 ] || cat "$tmp/err" >&2
check "thread device, one queue: ok rows, 20000 packets, one rate equal to mpps" \
	python3 - "$tmp/t1.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
ok = len(rows) == 2 and all(r["status"] == "ok" and r["errors"] == "0" and r["packets"] == "20000" and
     r["queues"] == "1" and ";" not in r["queue_mpps"] and r["cpus_shared"] == "0" and
     math.isclose(float(r["queue_mpps"]), float(r["mpps"]), rel_tol=1e-4) for r in rows)
print([(r["layout"], r["status"], r["packets"], r["mpps"], r["queue_mpps"]) for r in rows])
sys.exit(0 if ok else 1)
PY

# 3. the thread device with two queues: four CPUs
cpus2=$(python3 -c 'import os; print(",".join(map(str, sorted(os.sched_getaffinity(0))[:2])))')
err=$("$vqb" --device thread --queues 2 --cores "$cpus2" --layout split --policy full --descs 1 \
	--packets 1000 --csv "$tmp/t2.csv" 2>&1 >/dev/null); rc=$?
check "thread, --queues 2 on two listed CPUs: exits 2 (rc=$rc)" test $rc = 2
check "... naming the CPUs needed and listed: $err" \
	grep -q -- "--queues 2 with --device thread: needs 4 CPUs (a driver and a device thread per queue), --cores lists 2" <<<"$err"
check "... and nothing ran (no CSV)" test ! -e "$tmp/t2.csv"
if [ "$ncpus" -lt 4 ]; then
	err=$("$vqb" --device thread --queues 2 --layout split --policy full --descs 1 --packets 1000 \
		--csv "$tmp/t2.csv" 2>&1 >/dev/null); rc=$?
	check "thread, --queues 2 on this $ncpus-CPU process: exits 2 (rc=$rc)" test $rc = 2
	check "... naming needed vs available: $err" \
		grep -q -- "--queues 2 with --device thread: needs 4 CPUs .*, this process may use $ncpus;" <<<"$err"
else
	"$vqb" --device thread --queues 2 --layout split --policy full --descs 1 --packets 20000 --reps 1 \
		--warmup 0 -q --csv "$tmp/t2.csv" >/dev/null 2>"$tmp/err"; rc=$?
	check "thread, --queues 2 on $ncpus CPUs runs (rc=$rc)" test $rc = 0
	check "... 40000 packets, two rates" python3 -c '
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[0]
sys.exit(0 if r["status"] == "ok" and r["packets"] == "40000" and len(r["queue_mpps"].split(";")) == 2 else 1)' "$tmp/t2.csv"
fi

# 4. devices and layouts with one queue pair only
err=$("$vqb" --device vhost-user:"$tmp/none.sock" --queues 2 --layout split --policy full --descs 1 \
	--packets 100 --csv "$tmp/v.csv" 2>&1 >/dev/null); rc=$?
check "vhost-user --queues 2 exits 2, not supported (rc=$rc): $err" \
	bash -c '[ "$0" = 2 ] && grep -q "with --queues 2: not supported" <<<"$1"' "$rc" "$err"
err=$("$vqb" --device vfio:0000:00:1f.7 --dma vfio --queues 3 --layout split --policy full --descs 1 \
	--packets 100 --csv "$tmp/v.csv" 2>&1 >/dev/null); rc=$?
check "vfio --queues 3 exits 2, not supported (rc=$rc): $err" \
	bash -c '[ "$0" = 2 ] && grep -q "vfio:0000:00:1f.7 with --queues 3: not supported" <<<"$1"' "$rc" "$err"
err=$("$vqb" --layout rte_ring --device thread --queues 2 --cores "$cpus2" --packets 100 --csv "$tmp/v.csv" \
	2>&1 >/dev/null); rc=$?
check "rte_ring --queues 2 exits 2 (rc=$rc)" \
	bash -c '[ "$0" = 2 ] && grep -q "rte_ring with --queues 2: not supported" <<<"$1"' "$rc" "$err"

# 5. a failure names its queue (an untrusted device's bounce pool, 32768
# slots: premapped maps 2 x 1024 x 19 buffers of 2 slots each per queue pair)
"$vqb" --layout split --queue-size 1024 --descs mix --indirect on --dir both --policy premapped --dma iommu --iommu untrusted \
	--device inline --queues 2 --packets 2000 --reps 1 --warmup 0 -q --csv "$tmp/f.csv" >/dev/null 2>"$tmp/err"
rc=$?
check "a failing queue: exit 1 (rc=$rc)" test $rc = 1
check "... the message names the queue: $(head -1 "$tmp/err")" \
	grep -q "failed: queue [0-9]: exhausted at setup (0 packets): premapped: .*dma backend 'iommu'.*bounce pool exhausted" "$tmp/err"

# 6. bad values: exit 2, one line naming the flag, the value, what is allowed
for v in 0 65 x 2,2 1,; do
	err=$("$vqb" --queues "$v" 2>&1 >/dev/null); rc=$?
	check "--queues '$v' exits 2 with one line: $err" \
		bash -c '[ "$0" = 2 ] && [ "$(wc -l <<<"$1")" = 1 ] && grep -q "^vqbench: --queues: .* (allowed: 1..64)$" <<<"$1"' \
		"$rc" "$err"
done
out=$("$vqb" --help)
check "--help explains --queues and the --cores order" \
	bash -c 'grep -q -- "--queues LIST" <<<"$0" && grep -q "driver,device of queue 0, then of queue 1" <<<"$0"' "$out"

# 7. one device's DMA state shared by the queues
"$vqb" --device inline --queues 1,3 --layout split --dir both --policy full --descs 1,3 \
	--dma bounce,iommu,identity --force-bounce off,on --packets 3000 --reps 1 --warmup 0 -q \
	--csv "$tmp/s.csv" >/dev/null 2>"$tmp/err"
rc=$?
check "shared device: --queues 1,3 x bounce,iommu,identity(+force bounce) exits 0 (rc=$rc)" test $rc = 0
[ $rc = 0 ] || cat "$tmp/err" >&2
check "shared device: every payload verified, nothing leaked, DMA work per packet the same for 1 and 3 queues" \
	python3 - "$tmp/s.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
bad, per = [], {}
for r in rows:
    key = (r["dma"], r["force_bounce"], r["descs"])
    n = int(r["queues"])
    if r["status"] != "ok" or r["errors"] != "0" or r["leaked_mappings"] != "0" or int(r["packets"]) != n * 3000:
        bad.append("%s queues=%d: status %s errors %s leaked %s packets %s" %
                   (key, n, r["status"], r["errors"], r["leaked_mappings"], r["packets"]))
    if not math.isclose(float(r["maps_per_pkt"]), float(r["descs"]), rel_tol=1e-9) or \
       r["maps_per_pkt"] != r["unmaps_per_pkt"]:
        bad.append("%s queues=%d: maps/unmaps per packet %s/%s, want %s" %
                   (key, n, r["maps_per_pkt"], r["unmaps_per_pkt"], r["descs"]))
    per.setdefault(key, {})[n] = float(r["bytes_copied_per_pkt"])
for key, v in per.items():
    if sorted(v) != [1, 3] or not math.isclose(v[1], v[3], rel_tol=1e-9):
        bad.append("%s: bytes copied per packet %s (1 vs 3 queues)" % (key, v))
    bounces = key[0] == "bounce" or (key[0] == "identity" and key[1] == "1")
    if bool(v.get(1)) != bounces:
        bad.append("%s: bytes copied %s, want %s" % (key, v, "some" if bounces else "none"))
for b in bad:
    print("  " + b)
print("%d rows checked, %d bad" % (len(rows), len(bad)))
sys.exit(1 if bad or len(rows) != 2 * 3 * 2 * 2 else 0)
PY

echo "test_cli_queues: $checks checks, $fails failed"
[ $fails = 0 ]
