#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_blocks.sh VQBENCH - --order blocks: what it refuses (exit 2, one
# line per configuration naming the option and value: --seconds instead of
# --packets, --queues 2, --layout rte_ring, --device vhost-user) and a small
# real run: one row per policy per round, every block exactly --packets
# packets, ok, rep 0..reps-1 per policy, maps/unmaps per packet as each
# policy does them (full 1/1, skip 1/0, premapped 0/0), each engine's
# memory (one footprint per policy, full tracking more than skip), the round's probe in
# c2c_ns_before/after (the same for a round's blocks, each round's
# "before" the previous round's "after"), placement_changed 0 or 1.
set -u
vqb=$1
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
. "$(dirname "$0")/helpers.sh"
scratch test_cli_blocks

refused() { # refused WHAT WANT ARGS...
	local what=$1 want=$2; shift 2
	err=$("$vqb" --order blocks --descs 1 --policy full,skip --cores 0,1 --csv "$tmp/x.csv" "$@" \
		2>&1 >/dev/null); rc=$?
	check "$what: exits 2 (got $rc)" test $rc = 2
	check "$what: says '$want'" grep -qF -- "$want" <<<"$err"
}
refused "--seconds" "--order blocks: give --packets (the block size" --layout split --seconds 0.1
refused "--queues 2" "--order blocks: --queues 2 (allowed: 1)" --layout split --device inline --queues 2 --packets 1000
refused "rte_ring" "--order blocks: --layout rte_ring (allowed: split, packed)" --layout rte_ring --packets 1000
refused "vhost-user" "--order blocks: --device vhost-user (allowed: inline, thread" \
	--layout split --device vhost-user:"$tmp/nosock" --packets 1000
check "--help lists blocks" bash -c '"$0" --help | grep -q "blocks: the policies of one configuration"' "$vqb"

"$vqb" --order blocks --layout split --descs 1 --policy full,skip,premapped --device inline --cores 0,1 \
	--packets 3000 --reps 4 --warmup 1 -q --csv "$tmp/b.csv" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
check "a small block run exits 0 (got $rc)" test $rc = 0
check "rows: 3 policies x 4 rounds, each as asked" "$py" - "$tmp/b.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = []
if len(rows) != 12:
    bad.append(f"{len(rows)} rows, want 12")
want = {"full": (1, 1), "skip": (1, 0), "premapped": (0, 0)}
for p in want:
    reps = sorted(int(r["rep"]) for r in rows if r["policy"] == p)
    if reps != [0, 1, 2, 3]:
        bad.append(f"{p}: reps {reps}")
for r in rows:
    if r["status"] != "ok" or r["packets"] != "3000" or r["errors"] != "0":
        bad.append(f"{r['policy']} rep {r['rep']}: status {r['status']} packets {r['packets']} errors {r['errors']}")
    m, u = want[r["policy"]]
    if abs(float(r["maps_per_pkt"]) - m) > 1e-9 or abs(float(r["unmaps_per_pkt"]) - u) > 1e-9:
        bad.append(f"{r['policy']}: maps {r['maps_per_pkt']} unmaps {r['unmaps_per_pkt']}, want {m}/{u}")
    if not int(r["footprint_bytes"]) > 0 or not int(r["tracking_bytes"]) >= 0:
        bad.append(f"{r['policy']}: footprint {r['footprint_bytes']} tracking {r['tracking_bytes']}")
    if not float(r["ns_per_pkt"]) > 0 or r["placement_changed"] not in ("0", "1"):
        bad.append(f"{r['policy']} rep {r['rep']}: ns {r['ns_per_pkt']} moved {r['placement_changed']}")
trk = {p: {r["tracking_bytes"] for r in rows if r["policy"] == p} for p in want}
if any(len(v) != 1 for v in trk.values()) or not int(min(trk["full"])) > int(min(trk["skip"])):
    bad.append(f"tracking bytes per policy {trk}: one value each, full's above skip's")
by = {}
for r in rows:
    by.setdefault(int(r["rep"]), set()).add((r["c2c_ns_before"], r["c2c_ns_after"]))
for k in sorted(by):
    if len(by[k]) != 1:
        bad.append(f"round {k}: its blocks carry different probes {by[k]}")
    elif k and next(iter(by[k]))[0] != next(iter(by[k - 1]))[1]:
        bad.append(f"round {k}: before {next(iter(by[k]))[0]} is not round {k - 1}'s after")
    elif not float(next(iter(by[k]))[0]) > 0:
        bad.append(f"round {k}: no probe")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
echo "test_cli_blocks: $checks checks, $fails failed"
[ $fails = 0 ]
