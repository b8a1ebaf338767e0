#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""perf_report_targets.py - the verdicts of issue 20's five targets at the
top of PERFORMANCE.md (scripts/perf_report.py): one line per target, met or
not met, the measured value against the target, and the CSV it was read
from. Every figure comes from this run's CSVs; a target whose CSV is missing
is "not judged" and names the script that makes the CSV."""
import os
from collections import defaultdict

from perf_report_util import KINDS, f, load, med, num, nums, table

PEER_MIN = 1.0          # target 1: vqbench ÷ DPDK in every cell, at least
PEER_CELLS = 12         # peer-dpdk.sh: tx 2 layouts x 2 in-order x 2 segments + rx 2 x 2
PEER_PAIRS = 5          # alternating pairs per cell, at least (placement changes excluded)
TARGET_TOTAL = 700      # target 2: TX, 1 descriptor, full, identity, inline: the whole loop
TARGET_RING = 400       # the same without the payload fill/check and the traffic loop
TARGET_RX_VHOST = 300   # vqbench's RX loop against the vhost backend
AIM = 2.5               # target 3: vqbench packed in-order skip over rte_ring, at most
HALF_WIDTH = 1.0        # target 5: half-width of the 95% interval on the inline device, ns


def verdict(ok):
    return "**met**" if ok else "**not met**"


def absent(kind):
    return (f"**not judged**: no `{KINDS[kind][0]}` in the results directory (`{KINDS[kind][1]}` "
            "makes it)")


def src(path):
    return f"`{os.path.basename(path)}`"


def attrib_part(source):
    """The part of target 2 a source file counts in."""
    if source == "dev/dev_payload.h":
        return "payload fill and check"
    if source.startswith("bench/"):
        return "traffic loop"
    return "ring + tracking + DMA + device"


def target1(path):
    if not path:
        return absent("peer")
    rows = load(path, need=("dir", "layout", "in_order", "segments", "ratio_vqbench_over_dpdk"))
    has_moved = "placement_changed" in rows[0] if rows else False
    cells = defaultdict(list)
    for r in rows:
        cells[(r["dir"], r["layout"], r["in_order"], r["segments"])].append(r)
    worst, short, below, excluded = None, [], 0, 0
    for k, rs in sorted(cells.items()):
        used = [r for r in rs if r.get("placement_changed") != "1"]
        excluded += len(rs) - len(used)
        rat = nums(used, "ratio_vqbench_over_dpdk")
        name = f"{k[0]} {k[1]} in_order={k[2]} segs={k[3]}"
        if len(rat) < PEER_PAIRS:
            short.append(f"`{name}` {len(rat)}")
        m = med(rat)
        if m is None or m < PEER_MIN:
            below += 1
        if m is not None and (worst is None or m < worst[1]):
            worst = (name, m)
    ok = len(cells) >= PEER_CELLS and not below and not short
    txt = (f"{verdict(ok)}: {len(cells) - below} of {len(cells)} cells at or above {PEER_MIN:g} "
           f"(target: all {PEER_CELLS})")
    if worst:
        txt += f"; lowest median ratio {worst[1]:.3f} (`{worst[0]}`)"
    txt += "; " + (f"cells with fewer than {PEER_PAIRS} usable pairs: {', '.join(short)}" if short
                   else f"every cell has at least {PEER_PAIRS} usable pairs")
    txt += ("; " + (f"{excluded} pair(s) with a placement change excluded" if has_moved
                    else "placement changes not recorded in this CSV (no column placement_changed): none excluded"))
    return txt + f". From {src(path)}."


def target2(attrib_path, peercg_path):
    parts = []
    if not attrib_path:
        parts.append("TX " + absent("attrib"))
        ok = False
    else:
        rows = load(attrib_path, need=("side", "revision", "layout", "policy", "descs", "dma", "dir", "source",
                                       "instructions_per_pkt", "total_instructions_per_pkt"))
        after = [r for r in rows if r["side"] == "after"]
        ok = bool(after)

        def sums(rs):
            total = num(rs[0].get("total_instructions_per_pkt")) if rs else None
            part = sum(num(r["instructions_per_pkt"]) or 0.0 for r in rs
                       if attrib_part(r["source"]) == "ring + tracking + DMA + device")
            return total, part
        for lay in sorted({r["layout"] for r in after}, key=lambda x: (x != "split", x)):
            rs = [r for r in after if r["layout"] == lay]
            total, part = sums(rs)
            brs = [r for r in rows if r["side"] == "before" and r["layout"] == lay and r["policy"] == rs[0]["policy"]]
            btotal, bpart = sums(brs)
            good = total is not None and total <= TARGET_TOTAL and part <= TARGET_RING
            ok = ok and good
            before = (f"; before, at `{brs[0]['revision'][:12]}`: {f(btotal, '%.1f')} and {bpart:.1f}" if brs else "")
            parts.append(f"TX {lay} {rs[0]['policy']}: {f(total, '%.1f')} instructions per packet (≤ {TARGET_TOTAL}), "
                         f"part {part:.1f} (≤ {TARGET_RING}){before}")
        if not after:
            parts.append(f"TX: no 'after' rows in {src(attrib_path)}")
    if not peercg_path:
        parts.append("RX " + absent("peercg"))
        ok = False
    else:
        rows = load(peercg_path, need=("dir", "layout", "in_order", "side", "instructions_per_pkt"))
        rx = [r for r in rows if r["dir"] == "rx" and r["side"] == "vqbench"]
        vals = [(num(r["instructions_per_pkt"]), f"{r['layout']} in_order={r['in_order']}") for r in rx]
        vals = [v for v in vals if v[0] is not None]
        if not vals:
            parts.append(f"RX: no vqbench rx row in {src(peercg_path)}")
            ok = False
        else:
            hi = max(vals)
            ok = ok and hi[0] <= TARGET_RX_VHOST
            parts.append(f"RX against the vhost backend: at most {hi[0]:.1f} instructions per packet "
                         f"(`{hi[1]}`, the highest of {len(vals)} cell{'s' if len(vals) != 1 else ''}; ≤ {TARGET_RX_VHOST})")
    used = ", ".join(src(p) for p in (attrib_path, peercg_path) if p)
    return f"{verdict(ok)}: " + "; ".join(parts) + (f". From {used}." if used else ".")


def target3(path):
    if not path:
        return absent("ceiling")
    rows = load(path, need=("ratio_ns_vqbench_over_rte_ring",))
    cg = [r for r in rows if num(r.get("ratio_cg_instructions_vqbench_over_rte_ring")) is not None]
    timed = med(nums(rows, "ratio_ns_vqbench_over_rte_ring"))
    tail = f"; timed median ratio {f(timed)} over {len(nums(rows, 'ratio_ns_vqbench_over_rte_ring'))} pairs (the verdict is on the count: timed ratios move with the vCPUs' placement)"
    if not cg:
        return (f"**not judged**: no callgrind count in {src(path)} (perf-ceiling.sh ran with COUNTS=0)"
                + tail + ".")
    r = cg[0]
    cr = num(r["ratio_cg_instructions_vqbench_over_rte_ring"])
    return (f"{verdict(cr <= AIM)}: packed in-order skip ÷ rte_ring = {cr:.3f} counted (callgrind: "
            f"{f(num(r.get('vqbench_cg_instructions_per_pkt')), '%.1f')} ÷ "
            f"{f(num(r.get('rte_ring_cg_instructions_per_pkt')), '%.1f')} instructions per packet; ≤ {AIM:g})"
            + tail + f". From {src(path)}.")


def kicks(rows):
    """{(layout, policy): median kicks per packet} over the thread device's ok rounds."""
    out = {}
    for lay in ("split", "packed"):
        rs = [r for r in rows if r.get("device") == "thread" and r.get("layout") == lay and r.get("status") == "ok"]
        for pol in ("full", "skip", "premapped"):
            v = med(nums(rs, pol + "_kicks_per_pkt"))
            if v is not None:
                out[(lay, pol)] = v
    return out


def target4(path, md_tables):
    if not path:
        return absent("tracking")
    rows = load(path, need=("device", "layout", "status"))
    k = kicks(rows)
    if not k:
        return (f"**not judged**: {src(path)} has no kicks per packet of the thread device (columns "
                "*_kicks_per_pkt, rounds with device thread: rerun scripts/perf-tracking.sh with DEVICES "
                "including thread)")
    ev = sorted({r.get("event_idx", "") for r in rows if r.get("device") == "thread"} - {""})
    pols = [p for p in ("full", "skip", "premapped") if ("split", p) in k and ("packed", p) in k]
    ok = bool(pols) and all(k[("packed", p)] <= k[("split", p)] for p in pols)
    md_tables.append(table(["thread device: median kicks per packet", "split", "packed", "packed ≤ split"],
                           [[p, "%.5f" % k[("split", p)], "%.5f" % k[("packed", p)],
                             "yes" if k[("packed", p)] <= k[("split", p)] else "**no**"] for p in pols]))
    return (f"{verdict(ok)}: kicks per packet with the thread device, packed against split (median over the "
            f"ok rounds), " + ", ".join(f"{p} {k[('packed', p)]:.5f} against {k[('split', p)]:.5f}" for p in pols)
            + f"; event_idx {'/'.join(ev) or 'not recorded'}. From {src(path)}.")


def target5(path, summary):
    if not path:
        return absent("tracking")
    want = [(lay, name) for lay in ("split", "packed") for name in ("skip − full", "premapped − full")]
    got = [(lay, name, summary.get(("inline", lay, name))) for lay, name in want]
    have = [(lay, name, s) for lay, name, s in got if s and s["half"] is not None]
    if not have:
        return (f"**not judged**: no interval for the inline device in {src(path)} (fewer than 2 usable "
                "rounds, or DEVICES without inline)")
    ok = len(have) == len(want) and all(s["half"] <= HALF_WIDTH for _, _, s in have)
    cells = [f"{lay} {name} {s['median']:+.2f} ns (±{s['half']:.2f}; {s['cg']} instructions)"
             for lay, name, s in have]
    miss = [f"{lay} {name}" for lay, name, s in got if not (s and s["half"] is not None)]
    return (f"{verdict(ok)}: inline device, median paired difference (95% interval half-width ≤ ±{HALF_WIDTH:g} ns; "
            "exact callgrind Δ beside it): " + "; ".join(cells)
            + (f"; no interval for {', '.join(miss)}" if miss else "") + f". From {src(path)}.")


def targets_section(paths, summary):
    """The section's markdown lines; summary is the tracking section's
    {(device, layout, difference): {median, half, cg}}."""
    extra = []
    lines = [
        ("1. DPDK peer, vqbench ÷ DPDK ≥ 1.0 in every cell", target1(paths["peer"])),
        ("2. Instructions per packet (callgrind)", target2(paths["attrib"], paths["peercg"])),
        ("3. rte_ring ceiling ≤ 2.5x", target3(paths["ceiling"])),
        ("4. Packed event suppression: kicks per packet packed ≤ split", target4(paths["tracking"], extra)),
        ("5. Tracking difference resolved to ±1 ns", target5(paths["tracking"], summary)),
    ]
    md = ["## Issue 20's targets\n",
          "One verdict per target, from the CSVs of this run named in each line (the sections below give "
          "the detail). Part (target 2): the total minus the payload fill and check (`dev/dev_payload.h`) and "
          "the traffic loop (`bench/`).\n"]
    md += [f"- **Target {t}:** {v}" for t, v in lines]
    md.append("")
    md += extra
    return md
