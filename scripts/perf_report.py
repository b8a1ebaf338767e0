#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""perf_report.py - write results/PERFORMANCE.md from the comparison CSVs.

Usage: scripts/perf_report.py [--results DIR] [--out FILE] [--explanations FILE]
                              [--peer CSV] [--ceiling CSV] [--tracking CSV]
                              [--counts CSV] [--pages CSV] [--queues CSV]
                              [--annotate CSV] [--attrib CSV] [--peercg CSV]

  --results DIR        where the CSVs are (default: $RESULTS_DIR, else results/)
  --out FILE           the markdown to write (default: DIR/PERFORMANCE.md)
  --explanations FILE  one line per peer cell (default: DIR/perf-explanations.txt);
                       it quotes no number: {ratio}, {ratio_min}, {ratio_max},
                       {dpdk_mpps}, {vqbench_mpps}, {prev_ratio} cite this run's
                       figures of the cell, any other digit is refused (exit 2)
  --peer ... --peercg  a CSV to use instead of the newest of its kind in DIR

Per kind it takes the newest CSV in DIR (by the UTC time in its name):
  peer-dpdk-*.csv            scripts/peer-dpdk.sh     DPDK's virtio-user vs vqbench
  perf-ceiling-*.csv         scripts/perf-ceiling.sh  vqbench packed vs rte_ring
  perf-tracking-*.csv        scripts/perf-tracking.sh full vs skip vs premapped
  perf-tracking-counts-*.csv scripts/perf-tracking.sh the same under callgrind
  perf-pages-*.csv           scripts/perf-pages.sh
  perf-queues-*.csv          scripts/perf-queues.sh
  perf-annotate-*.csv        scripts/perf-tracking.sh instructions by source file, per policy
  perf-attrib-*.csv          scripts/perf-attrib.sh   the same before and after (issue 20's targets)
  peer-callgrind-<UTC>.csv   scripts/peer-callgrind.sh vqbench vs testpmd, counted
A kind with no CSV gets one line naming the script that makes it.

Every number in the output comes from the CSVs, or, for the cache-line
budget, is derived from the ring layouts (descriptor and pointer sizes, the
batch and packet size in the ceiling CSV); the prose states no measurement.
Ratios are medians of per-pair ratios (each pair ran back to back). The
bootstrap interval resamples the rounds with a fixed seed, so the same CSV
gives the same file. Exit: 0 ok, 2 bad usage or an unreadable CSV.

Modules beside it: scripts/perf_report_util.py (the CSV kinds, reading,
tables) and scripts/perf_report_tracking.py (the tracking section).
"""
import glob
import math
import os
import random
import re
import sys
from collections import defaultdict

from perf_report_util import (KINDS, REPO, die, f, first, load, machine, med, missing, newest,
                              num, nums, source, table)
from perf_report_targets import AIM, TARGET_RING, TARGET_RX_VHOST, TARGET_TOTAL, attrib_part, targets_section
from perf_report_tracking import BOOT_SEED, tracking_section

ISSUE20_START = "ad403d7f9289"  # scripts/perf-attrib.sh's default BEFORE
LINE = 64           # cache line, bytes
PACKED_DESC = 16    # virtio 1.x packed descriptor: addr 8, len 4, id 2, flags 2
RTE_SLOT = 8        # rte_ring entry: one pointer
NET_HDR = 12        # virtio-net header before the payload (dev/dev_payload.h)
RR_SEQ = 8          # rte_ring run: sequence number before the stream (bench/vqb_rte_ring.c)



# ---- the ceiling: vqbench packed against rte_ring ----

def line_budget(batch, pkt_bytes):
    """Cache lines handed from one core to the other per packet, derived
    from the layouts at full batches (each line written by one side and then
    read by the other counts once). Returns (packed terms, rte_ring terms),
    each a list of (what, lines per packet, how it is derived)."""
    b = batch
    d_per_line = LINE // PACKED_DESC
    s_per_line = LINE // RTE_SLOT
    packed = [
        ("available descriptors: driver writes, device reads", 1 / d_per_line,
         f"1 descriptor of {PACKED_DESC} B per packet, {d_per_line} per {LINE}-byte line"),
        ("used descriptors: device writes back, driver reads", 1 / d_per_line,
         f"1 used descriptor per packet (the software device writes one per chain), {d_per_line} per line"),
        ("ring indices", 0.0, "none: the avail/used flags live in the descriptors"),
    ]
    rr = [
        ("driver→device ring slots: driver writes, device reads", 1 / s_per_line,
         f"1 pointer of {RTE_SLOT} B per packet, {s_per_line} per line"),
        ("device→driver ring slots: device writes, driver reads", 1 / s_per_line,
         f"1 pointer per packet, {s_per_line} per line"),
        ("head/tail lines: 2 rings x (producer's tail to the consumer, consumer's tail to the producer)",
         4 / b, f"4 lines per burst of {b}"),
    ]
    packed_payload = math.ceil((NET_HDR + pkt_bytes) / LINE)
    rr_payload = math.ceil((RR_SEQ + NET_HDR + pkt_bytes) / LINE)
    packed.append(("packet buffer: driver writes, device reads (TX)", float(packed_payload),
                   f"{NET_HDR} B header + {pkt_bytes} B payload, {LINE}-byte aligned"))
    rr.append(("packet buffer: driver writes, device reads (TX)", float(rr_payload),
               f"{RR_SEQ} B sequence + {NET_HDR} B header + {pkt_bytes} B payload, {LINE}-byte aligned"))
    return packed, rr


def ceiling_section(md, path, counts_rows):
    md.append("## vqbench against DPDK's rte_ring (the ceiling)\n")
    if not path:
        missing(md, "ceiling")
        return
    rows = load(path, need=("pair", "vqbench_ns_per_pkt", "rte_ring_ns_per_pkt", "ratio_ns_vqbench_over_rte_ring"))
    source(md, path, rows, KINDS["ceiling"][1])
    md.append(f"Side A, vqbench: `vqbench {first(rows, 'vqbench_args')}`; side B, rte_ring: "
              f"`vqbench {first(rows, 'rte_ring_args')}`; A, B, A, B, ... one process per run, "
              f"CPUs {first(rows, 'driver_cpu')},{first(rows, 'device_cpu')}. The ratio is vqbench's "
              "time per packet over rte_ring's in the same pair (above 1: vqbench is slower).\n")
    devs = {(r.get("vqbench_device"), r.get("rte_ring_device")) for r in rows}
    if any(a != b for a, b in devs):
        md.append("**Not like for like:** the vqbench side ran its device `inline` (one core) while "
                  "rte_ring needs two cores (`thread`); the ratio compares a one-core loop with a "
                  "cross-core pair.\n")
    lines = []
    for r in rows:
        moved = r.get("placement_changed") == "1"
        lines.append([r["pair"], f(num(r.get("vqbench_mpps"))), f(num(r.get("rte_ring_mpps"))),
                      f(num(r.get("vqbench_ns_per_pkt")), "%.1f"), f(num(r.get("rte_ring_ns_per_pkt")), "%.1f"),
                      f(num(r.get("ratio_ns_vqbench_over_rte_ring"))),
                      f"{f(num(r.get('vqbench_c2c_ns_before')), '%.0f')} → {f(num(r.get('vqbench_c2c_ns_after')), '%.0f')}",
                      f"{f(num(r.get('rte_ring_c2c_ns_before')), '%.0f')} → {f(num(r.get('rte_ring_c2c_ns_after')), '%.0f')}",
                      "**yes**" if moved else ("no" if r.get("placement_changed") == "0" else "–"),
                      r.get("status", "")])
    md.append(table(["pair", "vqbench Mpps", "rte_ring Mpps", "vqbench ns/pkt", "rte_ring ns/pkt",
                     "ratio ns vqbench ÷ rte_ring", "vqbench c2c ns before → after",
                     "rte_ring c2c ns before → after", "placement changed", "status"], lines))
    ratios = nums(rows, "ratio_ns_vqbench_over_rte_ring")
    steady = nums([r for r in rows if r.get("placement_changed") == "0"], "ratio_ns_vqbench_over_rte_ring")
    m = med(ratios)
    if m is None:
        md.append("No pair completed: no ratio.\n")
        return
    flagged = len(ratios) - len(steady)
    txt = f"**Median ratio {m:.3f}** over {len(ratios)} pairs (min {min(ratios):.3f}, max {max(ratios):.3f}). "
    if flagged and steady:
        txt += (f"{flagged} of them flagged for a placement change; the median of the {len(steady)} "
                f"unflagged is {med(steady):.3f}. ")
    elif flagged:
        txt += "Every pair is flagged for a placement change. "
    txt += f"Issue 20's target (at most {AIM:g}x): {'met' if m <= AIM else 'not met'}."
    if len(ratios) < 5:
        txt += " Fewer than 5 pairs: a smoke run, not a measurement."
    md.append(txt + "\n")
    cg = [r for r in rows if num(r.get("ratio_cg_instructions_vqbench_over_rte_ring")) is not None]
    if cg:
        r = cg[0]
        cr = num(r["ratio_cg_instructions_vqbench_over_rte_ring"])
        md.append(f"**Counted (callgrind, both loops inline, packets {r.get('cg_packets', '')}):** vqbench "
                  f"{num(r.get('vqbench_cg_instructions_per_pkt')):.1f} and rte_ring "
                  f"{num(r.get('rte_ring_cg_instructions_per_pkt')):.1f} instructions per packet, a ratio "
                  f"of {cr:.3f}; issue 20's target (at most {AIM:g}x): {'met' if cr <= AIM else 'not met'}. "
                  "The count is exact and free of placement; the timed ratio above also carries the "
                  "cross-core cost.\n")

    # Cache-line budget, derived from the layouts.
    batch = int(num(first(rows, "batch")) or 32)
    pkt = int(num(first(rows, "pkt_bytes")) or 64)
    packed, rr = line_budget(batch, pkt)
    md.append("### Cache lines moved per packet: what the layouts predict\n")
    md.append(f"Derived from the ring layouts at full batches of {batch}, not measured: a line written by "
              "one core and then read by the other is counted once (one hand-over: an invalidation "
              "and a transfer). Both sides run TX: the driver fills the packet, the device reads and "
              "verifies it.\n")
    tl = [["vqbench packed", w, f"{v:.4g}", how] for w, v, how in packed]
    tl += [["rte_ring", w, f"{v:.4g}", how] for w, v, how in rr]
    md.append(table(["side", "lines handed over", "per packet", "from"], tl))
    ring_p = sum(v for w, v, _ in packed if not w.startswith("packet buffer"))
    ring_r = sum(v for w, v, _ in rr if not w.startswith("packet buffer"))
    all_p, all_r = sum(v for _, v, _ in packed), sum(v for _, v, _ in rr)
    md.append(f"Ring lines per packet: packed {ring_p:.4g}, rte_ring {ring_r:.4g}: the layouts alone "
              f"predict a ratio of {ring_p / ring_r:.3f}; with the packet's own lines (the same work "
              f"on both sides) {all_p:.4g} against {all_r:.4g}, a ratio of {all_p / all_r:.3f}.\n")
    md.append(
        "Why the counts differ: a packed descriptor is 16 bytes against rte_ring's 8-byte pointer, and "
        "it travels twice (the driver writes it available, the device overwrites it used and the driver "
        "reads it back), where each rte_ring pointer crosses once per direction; rte_ring pays instead "
        "for its separate head/tail lines, one hand-over per ring, side and burst, which larger bursts "
        "amortise. Not counted, on either side: extra hand-overs while one side spins on a line the "
        "other is still writing (at most the line holding a batch's first descriptor, or a tail line, "
        "per batch), notification state (the packed ring's event suppression areas are read-mostly "
        "while both sides poll), and each side's private state, which stays on its core.\n")
    resid = m / (ring_p / ring_r)
    kicks = med(nums(rows, "vqbench_kicks_per_pkt"))
    txt = (f"The measured median ratio {m:.3f} against the {ring_p / ring_r:.3f} the ring lines predict "
           f"leaves a factor of {resid:.3f} ")
    if resid <= 1.0:
        txt += "(at most 1): the line budget covers the measured difference.\n"
    else:
        txt += ("that ring lines moved between the cores do not explain: it is per-packet work on a core "
                "(instructions, tracking and verification), which this comparison does not separate")
        cg = [r for r in counts_rows if r.get("layout") == "packed" and r.get("policy") == "skip"]
        ci = med(nums(cg, "cg_instructions_per_pkt"))
        txt += (f"; the callgrind counts below give vqbench packed with skip (1 descriptor, inline, "
                f"in-order off) {ci:.0f} instructions per packet for driver and device together.\n"
                if ci is not None else ".\n")
    md.append(txt)
    if kicks is not None:
        md.append(f"The vqbench runs recorded a median {kicks:.4g} kicks per packet "
                  "(driver-to-device notifications; each writes a line the device reads).\n")


# ---- peer: DPDK's virtio-user against vqbench ----

def read_explanations(path):
    ex = {}
    if not path or not os.path.exists(path):
        return ex, False
    with open(path) as fh:
        for line in fh:
            s = line.strip()
            if not s or s.startswith("#") or ":" not in s:
                continue
            k, v = s.split(":", 1)
            ex[" ".join(k.split())] = v.strip()
    return ex, True


# The figures an explanation may cite: this run's, filled in per cell.
EXPLAIN_FIELDS = ("ratio", "ratio_min", "ratio_max", "dpdk_mpps", "vqbench_mpps", "prev_ratio")
# Tokens with digits an explanation may hold besides {field}: a cell key's
# parameters (in_order=1, segs=4), not measurements.
EXPLAIN_OK = re.compile(r"\{(" + "|".join(EXPLAIN_FIELDS) + r")\}|\b(?:in_order|segs)=\d+\b")


def render_explanation(key, text, values):
    """The explanation of cell key with its {field}s replaced by this run's
    figures (values: field -> text). A digit anywhere else is a number typed
    by hand, which PERFORMANCE.md must not carry: exit 2 naming the line."""
    rest = EXPLAIN_OK.sub("", text)
    m = re.search(r"[0-9]", rest)
    if m:
        bad = re.search(r"[^\s]*[0-9][^\s]*", rest).group(0)
        die(f"perf-explanations.txt: the explanation of '{key}' types the number '{bad}' by hand; cite this "
            f"run's figures as {{{'}, {'.join(EXPLAIN_FIELDS)}}} or none (results/README.md: a hand-kept "
            "text quotes no number)")
    unknown = sorted(set(re.findall(r"\{([^}]*)\}", EXPLAIN_OK.sub("", text))))
    if unknown:
        die(f"perf-explanations.txt: the explanation of '{key}' names {{{unknown[0]}}} (allowed: "
            f"{', '.join('{' + x + '}' for x in EXPLAIN_FIELDS)})")
    return EXPLAIN_OK.sub(lambda mm: values.get(mm.group(1), "–") if mm.group(1) else mm.group(0), text)


def peer_section(md, path, explanations, prev_path=None):
    md.append("## DPDK's virtio driver against vqbench, one vhost backend\n")
    if not path:
        missing(md, "peer")
        return
    rows = load(path, need=("dir", "layout", "in_order", "segments", "ratio_vqbench_over_dpdk"))
    cmd, note = first(rows, "command"), ""
    if not cmd:
        pairs = max((int(num(r.get("pair")) or 0) for r in rows), default=0)
        secs = first(rows, "seconds_per_run")
        cmd = f"PAIRS={pairs} " + (f"SECONDS_PER_RUN={secs} " if secs else "") + "scripts/peer-dpdk.sh"
        if not secs:
            note = " (SECONDS_PER_RUN is not recorded in this CSV; the script's default is 3)"
    md.append(f"Source: `{os.path.basename(path)}` ({len(rows)} rows), made by `{cmd}`{note} (as root, "
              "hugepages reserved). DPDK's `dpdk-testpmd` with a `net_virtio_user` port and vqbench "
              "`--device vhost-user` (`--policy premapped --dma identity`) against the same DPDK vhost "
              "backend, alternating DPDK, vqbench, ...; ratio = vqbench Mpps ÷ DPDK Mpps in the same "
              "pair (above 1: vqbench is faster).\n")
    md.append(f"Machine: {machine(rows)}.\n")
    ex, have = explanations
    g = defaultdict(list)
    for r in rows:
        g[(r["dir"], r["layout"], r["in_order"], r["segments"])].append(r)
    keyord = lambda k: (k[0] != "tx", k[1] != "split", k[2], int(num(k[3]) or 0))
    prev = {}
    if prev_path:
        for r in load(prev_path):
            prev.setdefault(f"{r['dir']} {r['layout']} in_order={r['in_order']} segs={r['segments']}", []).append(r)
        md.append(f"Column *previous run*: the median ratio of the same cell in `{os.path.basename(prev_path)}`, "
                  "the run before this one (same script; the code may be a few commits older). Two runs that "
                  "disagree mean the host moved the vCPUs during one of them: trust the one whose per-pair "
                  "ratios agree with each other.\n")
    lines, used = [], set()
    for k in sorted(g, key=keyord):
        rs = g[k]
        key = f"{k[0]} {k[1]} in_order={k[2]} segs={k[3]}"
        used.add(key)
        rat = nums(rs, "ratio_vqbench_over_dpdk")
        prat = nums(prev.get(key, []), "ratio_vqbench_over_dpdk")
        lines.append([f"`{key}`", first(rs, "dpdk_tx_chain"), f(med(nums(rs, "dpdk_mpps"))),
                      f(med(nums(rs, "vqbench_mpps"))), f(med(rat)),
                      f"{min(rat):.3f} .. {max(rat):.3f}" if rat else "–",
                      f"{len(rat)} of {len(rs)}", " ".join(f"{x:.3f}" for x in rat) or "–"]
                     + ([f(med(prat)) if prat else "–"] if prev_path else [])
                     + [render_explanation(key, ex.get(key, ""), {
                         "ratio": f(med(rat)) if rat else "–",
                         "ratio_min": f"{min(rat):.3f}" if rat else "–",
                         "ratio_max": f"{max(rat):.3f}" if rat else "–",
                         "dpdk_mpps": f(med(nums(rs, "dpdk_mpps"))),
                         "vqbench_mpps": f(med(nums(rs, "vqbench_mpps"))),
                         "prev_ratio": f(med(prat)) if prat else "–"})])
    md.append(table(["cell", "DPDK's chain", "DPDK Mpps (median)", "vqbench Mpps (median)", "median ratio",
                     "min .. max ratio", "pairs with both rates", "per-pair ratios"]
                    + (["previous run: median ratio"] if prev_path else []) + ["explanation"], lines))
    if not have:
        md.append("(No `perf-explanations.txt`: the explanation column is empty.)\n")
    unknown = sorted(set(ex) - used)
    if unknown:
        print(f"perf_report.py: perf-explanations.txt: no peer cell named {', '.join(repr(u) for u in unknown)}",
              file=sys.stderr)


# ---- where the instructions go, per policy (callgrind, by source file) ----

def pivot(rows, keys, lead=()):
    """Rows of instructions per packet by source file, pivoted: the
    configurations (tuples of keys, in order of first appearance), the
    sources (most instructions first) and val[lead + configuration + (source,)]."""
    configs = list(dict.fromkeys(tuple(r[k] for k in keys) for r in rows))
    ranked = sorted(rows, key=lambda r: -float(r["instructions_per_pkt"]))
    sources = list(dict.fromkeys(r["source"] for r in ranked))
    val = {tuple(r[k] for k in lead + keys) + (r["source"],): float(r["instructions_per_pkt"]) for r in rows}
    return configs, sources, val


def annotate_section(md, path):
    md.append("## Where the instructions of one packet go, per policy (callgrind)\n")
    if not path:
        missing(md, "annotate")
        return
    rows = load(path, need=("layout", "policy", "source", "instructions_per_pkt"))
    cmd = first(rows, "command")
    md.append(f"Source: `{os.path.basename(path)}` ({len(rows)} rows), made by `{cmd or KINDS['annotate'][1]}`.\n")
    md.append("Instructions per packet inside the packet loop (driver, tracking, DMA backend and the inline "
              "device together), attributed to the source file they were compiled from: with link-time "
              "optimisation the ring, tracking and device code is inlined into the loop, so the file names "
              "the module that did the work. Counted under callgrind from two runs of different length "
              "(start-up cancels): the same binary gives the same numbers on any x86-64 host. "
              "`dev/dev_payload.h` is the workload itself (filling and verifying every byte of every packet), "
              "not the ring.\n")
    configs, sources, val = pivot(rows, ("layout", "policy"))
    body = []
    for src in sources:
        body.append([f"`{src}`"] + ["%.1f" % val[(l, p, src)] if (l, p, src) in val else "" for l, p in configs])
    body.append(["**total**"] + ["**%.1f**" % sum(v for (l2, p2, _), v in val.items() if (l2, p2) == (l, p))
                                 for l, p in configs])
    md.append(table(["source"] + [f"{l} {p}" for l, p in configs], body))
    for lay in sorted({l for l, _ in configs}):
        full = {src: val.get((lay, "full", src), 0.0) for src in sources}
        for pol in [p for l, p in configs if l == lay and p != "full"]:
            diff = {src: val.get((lay, pol, src), 0.0) - full[src] for src in sources}
            moved = ", ".join(f"`{s}` {d:+.1f}" for s, d in sorted(diff.items(), key=lambda x: x[1]) if abs(d) >= 0.5)
            if moved:
                md.append(f"{lay}, {pol} against full: {moved} instructions per packet.\n")


# ---- before and after, by source file (perf-attrib.sh) ----

def attrib_section(md, path):
    md.append("## Where one packet's instructions go, before and after (callgrind)\n")
    if not path:
        missing(md, "attrib")
        return
    rows = load(path, need=("side", "revision", "layout", "policy", "descs", "dma", "dir", "source", "instructions_per_pkt",
                             "total_instructions_per_pkt"))
    md.append(f"Source: `{os.path.basename(path)}` ({len(rows)} rows), made by `{first(rows, 'command')}`.\n")
    revs = {r["side"]: r["revision"] for r in rows}
    start = " (perf-attrib.sh's default BEFORE: main before issue 20's hot-path work, the issue's starting point)" \
        if revs.get("before", "").startswith(ISSUE20_START) else ""
    md.append(f"Before: revision `{revs.get('before', '?')[:12]}`{start}; after: `{revs.get('after', '?')[:12]}` "
              "(the tree perf-attrib.sh ran in). Both built with the release preset (-O2, link-time "
              "optimisation) and counted by the same script on the same sweep: instructions per packet inside "
              "the packet loop, by the source file they were compiled from. The parts are issue 20's: "
              "`dev/dev_payload.h` is the payload fill and check (the workload), `bench/` the traffic loop, "
              "everything else the ring, tracking, DMA and the inline device.\n")
    configs, sources, val = pivot(rows, ("layout", "policy", "descs", "dma", "dir"), lead=("side",))
    tot = {(r["side"], r["layout"], r["policy"], r["descs"], r["dma"], r["dir"]):
           num(r.get("total_instructions_per_pkt")) for r in rows}
    head = ["source", "part"]
    for c in configs:
        head += [f"{c[0]} {c[1]} {c[4]}: before", "after", "Δ"]
    body = []
    for src in sources:
        line = [f"`{src}`", attrib_part(src)]
        for c in configs:
            b, a = val.get(("before",) + c + (src,)), val.get(("after",) + c + (src,))
            line += [f(b, "%.1f"), f(a, "%.1f"),
                     "%+.1f" % ((a or 0.0) - (b or 0.0)) if a is not None or b is not None else "–"]
        body.append(line)
    parts = ["ring + tracking + DMA + device", "traffic loop", "payload fill and check"]
    for part in parts:
        line = [f"**{part}**", ""]
        for c in configs:
            b, a = (sum(v for k, v in val.items() if k[:6] == (side,) + c and attrib_part(k[6]) == part)
                    for side in ("before", "after"))
            line += ["**%.1f**" % b, "**%.1f**" % a, "**%+.1f**" % (a - b)]
        body.append(line)
    line = ["**total** (callgrind-counts.py)", ""]
    for c in configs:
        b, a = tot.get(("before",) + c), tot.get(("after",) + c)
        line += [f"**{f(b, '%.1f')}**", f"**{f(a, '%.1f')}**",
                 "**%+.1f**" % (a - b) if a is not None and b is not None else "–"]
    body.append(line)
    md.append(table(head, body))
    for c in configs:
        a = tot.get(("after",) + c)
        ring = sum(v for k, v in val.items() if k[:6] == ("after",) + c and attrib_part(k[6]) == parts[0])
        if a is None:
            continue
        md.append(f"{c[0]} {c[1]} {c[4]}, {c[2]} descriptor(s), {c[3]}: {a:.1f} instructions per packet in all "
                  f"(target {TARGET_TOTAL}: {'met' if a <= TARGET_TOTAL else 'not met'}), {ring:.1f} in the ring, "
                  f"tracking, DMA and device (target {TARGET_RING}: "
                  f"{'met' if ring <= TARGET_RING else 'not met'}).\n")


# ---- vqbench's loop against DPDK testpmd's, counted (peer-callgrind.sh) ----

def peercg_section(md, path):
    md.append("## vqbench against DPDK testpmd, counted (callgrind, vhost backend)\n")
    if not path:
        missing(md, "peercg")
        return
    rows = load(path, need=("dir", "layout", "in_order", "side", "instructions_per_pkt"))
    md.append(f"Source: `{os.path.basename(path)}` ({len(rows)} rows), made by `scripts/peer-callgrind.sh`: "
              "instructions per packet of vqbench's packet loop (`scripts/callgrind-counts.py --device "
              "vhost-user:...`, two run lengths) and of testpmd's forwarding thread (its instructions over the "
              "packets it reports), both against the same DPDK vhost-user backend running natively. Idle "
              "polls are out of both counts (vqbench waits for the backend outside the counted code, "
              "testpmd's empty bursts are subtracted at their cost in an idle run), so both repeat; "
              "the per-burst cost of a poll that finds a whole burst is in them.\n")
    cells, model = {}, {}
    for r in rows:
        cells.setdefault((r["dir"], r["layout"], r["in_order"]), {})[r["side"]] = num(r["instructions_per_pkt"])
        if r["side"] == "dpdk-testpmd" and r.get("idle_exact") == "0":  # partial bursts: the linear model
            model[(r["dir"], r["layout"], r["in_order"])] = r.get("partial_pct") or "?"
    body = []
    for (d, l, io), s in cells.items():
        v, p = s.get("vqbench"), s.get("dpdk-testpmd")
        target = ""
        if d == "rx" and v is not None:
            target = f"≤ {TARGET_RX_VHOST}: " + ("met" if v <= TARGET_RX_VHOST else "not met")
        pm = f" (inexact: {model[(d, l, io)]}% partial bursts)" if (d, l, io) in model else ""
        body.append([d, l, io, f(v, "%.1f"), f(p, "%.1f") + pm,
                     f(v / p, "%.2f") if v is not None and p else "–", target])
    md.append(table(["dir", "layout", "in_order", "vqbench instr/pkt", "testpmd instr/pkt",
                     "vqbench ÷ testpmd", "issue 20 target (vqbench RX)"], body))
    if model:
        md.append("*inexact*: not every testpmd burst was empty or a whole 32 (the backend did not keep up); "
                  "its count takes a partial burst's cost as linear in its packets (`idle_exact` 0, "
                  "`partial_pct` in the CSV; scripts/peer-callgrind.sh --help).\n")


# ---- 4 KiB pages against 2 MiB hugepages ----

def sysinfo_marks(csv_path):
    """{name: bytes} of L1d, L2 and the dTLB reach from the --sysinfo text
    perf-pages.sh saves beside its CSV."""
    txt = csv_path[:-4] + ".txt"
    marks = {}
    try:
        with open(txt) as f:
            for line in f:
                m = re.match(r"(L1d|L2):\s+(\d+) (KiB|MiB)", line)
                if m:
                    marks[m.group(1)] = int(m.group(2)) << (10 if m.group(3) == "KiB" else 20)
                m = re.match(r"dTLB (L\d):\s+(\d+) entries 4 KiB .*?, (\d+) entries 2 MiB", line)
                if m:
                    marks[f"dTLB-{m.group(1)} reach (4 KiB pages)"] = int(m.group(2)) * 4096
                    marks[f"dTLB-{m.group(1)} reach (2 MiB pages)"] = int(m.group(3)) << 21
    except OSError:
        pass
    return marks


def pages_section(md, path):
    md.append("## Queue size on 4 KiB pages and on 2 MiB hugepages\n")
    if not path:
        missing(md, "pages")
        return
    rows = [r for r in load(path) if r.get("status") == "ok"]
    source(md, path, rows, KINDS["pages"][1])
    png = sorted(glob.glob(path[:-4] + "-pages-*.png"))
    if png:
        md.append("Plot: " + ", ".join(f"[`{os.path.basename(p)}`]({os.path.basename(p)})" for p in png)
                  + " (rate per layout and policy, 2 MiB solid and 4 KiB dashed; the working set with "
                  "L1d, L2 and the dTLB reach of each page size marked).\n")
    marks = sysinfo_marks(path)
    if marks:
        md.append("Sizes on this machine (hwloc for caches, CPUID for the data TLB; a hypervisor may report "
                  "TLB sizes other than the silicon's): " + "; ".join(
                      f"{k} {v >> 10} KiB" for k, v in sorted(marks.items(), key=lambda x: x[1])) + ".\n")
    md.append("One interleaved sweep (`--order interleave`): repetition r of every configuration runs before "
              "repetition r + 1, so the 4 KiB and 2 MiB runs of one configuration are neighbours; the ratio "
              "is taken per repetition, then its median. `footprint` is one queue's working set (ring, "
              "driver state, tracking, indirect tables, buffers); `leaves` names the sizes it exceeds.\n")
    groups = {}
    for r in rows:
        groups.setdefault((r["layout"], r["policy"], int(r["queue_size"])), []).append(r)
    body = []
    for (lay, pol, q), rs in sorted(groups.items(), key=lambda x: (x[0][0] != "split", x[0][1], x[0][2])):
        by = {}
        for r in rs:
            by.setdefault(r["rep"], {})[r["pages"]] = r
        ratios = [float(d["2m"]["mpps"]) / float(d["4k"]["mpps"]) for d in by.values()
                  if "2m" in d and "4k" in d and float(d["4k"]["mpps"]) > 0]
        m4 = nums([r for r in rs if r["pages"] == "4k"], "mpps")
        m2 = nums([r for r in rs if r["pages"] == "2m"], "mpps")
        fp = max(int(r["footprint_bytes"]) for r in rs)
        pb = sorted({r.get("page_bytes", "") for r in rs if r["pages"] == "2m"})
        leaves = "; ".join(k for k, v in sorted(marks.items(), key=lambda x: x[1]) if fp > v) or "none"
        body.append([lay, pol, q, fp, "%.2f" % med(m4) if m4 else "", "%.2f" % med(m2) if m2 else "",
                     "%.3f" % med(ratios) if ratios else "",
                     "%.3f .. %.3f" % (min(ratios), max(ratios)) if ratios else "", "/".join(pb), leaves])
    md.append(table(["layout", "policy", "queue size", "footprint (bytes)", "4 KiB Mpps (median)",
                     "2 MiB Mpps (median)", "median ratio 2 MiB ÷ 4 KiB", "min .. max", "2m page_bytes",
                     "leaves"], body))


# ---- multi-queue scaling ----

def queues_section(md, path):
    md.append("## Multi-queue scaling (`--queues N`)\n")
    if not path:
        missing(md, "queues")
        return
    rows = [r for r in load(path) if r.get("status") == "ok"]
    source(md, path, rows, KINDS["queues"][1])
    shared = any(r.get("cpus_shared") == "1" for r in rows)
    md.append("Aggregate rate = every queue's packets over the common run time; per-queue rates sum to it. "
              "Scaling = aggregate at N queues ÷ aggregate at 1 queue in the same repetition of the "
              "interleaved sweep (neighbouring runs). " + (
                  "**Some rows ran more threads than CPUs (`cpus_shared` = 1): those are correctness runs, "
                  "not a scaling measurement.** " if shared else "") +
              "On a machine with many cores, the method is in the README (Multi-queue scaling).\n")
    groups = {}
    for r in rows:
        groups.setdefault((r["layout"], r["policy"], r["device"]), {}).setdefault(r["rep"], {})[int(r["queues"])] = r
    body = []
    for (lay, pol, dev), reps in sorted(groups.items()):
        ns = sorted({n for d in reps.values() for n in d})
        for n in ns:
            agg = [float(d[n]["mpps"]) for d in reps.values() if n in d]
            scale = [float(d[n]["mpps"]) / float(d[1]["mpps"]) for d in reps.values()
                     if n in d and 1 in d and float(d[1]["mpps"]) > 0]
            qmin = nums([d[n] for d in reps.values() if n in d], "queue_mpps_min")
            qmax = nums([d[n] for d in reps.values() if n in d], "queue_mpps_max")
            sh = {d[n].get("cpus_shared", "") for d in reps.values() if n in d}
            body.append([lay, pol, dev, n, "%.2f" % med(agg), "%.2f .. %.2f" % (med(qmin), med(qmax)) if qmin else "",
                         "%.2f" % med(scale) if scale else "", "/".join(sorted(sh))])
    md.append(table(["layout", "policy", "device", "queues", "aggregate Mpps (median)",
                     "per-queue Mpps (median slowest .. fastest)", "scaling vs 1 queue (median)",
                     "cpus_shared"], body))


def main(argv):
    opts = {"--results": None, "--out": None, "--explanations": None, "--peer": None, "--ceiling": None,
            "--tracking": None, "--counts": None, "--pages": None, "--queues": None,
            "--annotate": None, "--attrib": None, "--peercg": None}
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        name, eq, val = a.partition("=")
        if name not in opts:
            die(f"unknown argument '{a}' (allowed: {', '.join(opts)})")
        opts[name] = val if eq else next(it, None)
        if not opts[name]:
            die(f"{name}: missing value")
    results = opts["--results"] or os.environ.get("RESULTS_DIR") or os.path.join(REPO, "results")
    if not os.path.isdir(results):
        die(f"--results: '{results}' is not a directory")
    out = opts["--out"] or os.path.join(results, "PERFORMANCE.md")
    paths = {}
    for kind in KINDS:
        p = opts["--" + kind]
        if p and not os.path.exists(p):
            die(f"--{kind}: '{p}' does not exist")
        paths[kind] = p or newest(results, kind)
    explanations = read_explanations(opts["--explanations"] or os.path.join(results, "perf-explanations.txt"))
    rng = random.Random(BOOT_SEED)

    md = ["# Performance: vqbench against DPDK, and what tracking costs\n",
          "Generated by `scripts/perf_report.py` (run by `scripts/perf-all.sh`) from the CSVs named in "
          "each section; do not edit by hand, rerun the scripts. Ratios are medians of per-pair ratios: "
          "each pair ran back to back on the same two CPUs (`--cores 0,1`).\n",
          "**Placement.** On a VM the two vCPUs move between host placements (same core, sibling "
          "hyperthreads, different cores or sockets) while a comparison runs, and a run's rate moves "
          "with them by more than the differences measured here. Absolute rates are therefore not "
          "comparable between sections or between runs far apart: only ratios from neighbouring runs "
          "are. Runs where vqbench's core-to-core round trip moved by more than 1.5x are flagged "
          "(`placement_changed`), not dropped.\n"]
    def revs(path):
        """The commits (git_rev) a CSV's rows name; the peer and annotate
        CSVs have no such column."""
        if not path:
            return "–"
        rows = load(path)
        v = sorted({r.get("git_rev") or "" for r in rows} - {""})
        return ", ".join(f"`{x}`" for x in v) if v else "not recorded in the CSV"
    md.append("| comparison | CSV | commit (`git_rev` of its rows) |\n|---|---|---|\n" + "".join(
        f"| {KINDS[k][1]} ({k}) | {('`' + os.path.basename(paths[k]) + '`') if paths[k] else 'none'} "
        f"| {revs(paths[k])} |\n" for k in KINDS))
    at = len(md)  # the targets' verdicts go here, once the tracking intervals are known
    summary = {}
    counts_rows = load(paths["counts"]) if paths["counts"] else []
    ceiling_section(md, paths["ceiling"], counts_rows)
    tracking_section(md, paths["tracking"], paths["counts"], rng, summary)
    prev_peer = None
    if paths["peer"] and not opts["--peer"]:
        older = sorted((p for p in glob.glob(os.path.join(results, KINDS["peer"][0]))
                        if os.path.basename(p) < os.path.basename(paths["peer"])), key=os.path.basename)
        prev_peer = older[-1] if older else None
    peer_section(md, paths["peer"], explanations, prev_peer)
    annotate_section(md, paths["annotate"])
    attrib_section(md, paths["attrib"])
    peercg_section(md, paths["peercg"])
    pages_section(md, paths["pages"])
    queues_section(md, paths["queues"])
    md[at:at] = targets_section(paths, summary)
    text = "\n".join(md)
    try:
        with open(out, "w") as fh:
            fh.write(text)
    except OSError as e:
        die(f"--out: cannot write '{out}': {e.strerror}")
    print(f"perf_report.py: wrote {out} from "
          + ", ".join(os.path.basename(p) for p in paths.values() if p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
