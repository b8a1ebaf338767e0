#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""perf_report_tracking.py - the tracking section of PERFORMANCE.md
(scripts/perf_report.py): full, skip and premapped in paired blocks
(scripts/perf-tracking.sh's rounds CSV), the median paired difference with a
bootstrap 95% interval over the rounds, beside the exact callgrind counts."""
import math
import os
import statistics
from collections import defaultdict

from perf_report_util import KINDS, f, first, load, machine, med, missing, num, nums, source, table

BOOT_N = 10000      # bootstrap resamples
BOOT_SEED = 1       # fixed: the same CSV gives the same interval


def bootstrap_median_ci(values, rng):
    n = len(values)
    if n < 2:
        return None, None
    meds = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(BOOT_N))
    return meds[int(0.025 * BOOT_N)], meds[int(math.ceil(0.975 * BOOT_N)) - 1]


def tracking_table(rows, rng, crow, summary=None):
    """Per device and layout: the paired differences over the rounds that
    are ok and did not move, their median and its bootstrap interval; each
    difference's median, half-width and callgrind delta also go into
    summary[(device, layout, difference)] (the targets' verdicts)."""
    g = defaultdict(list)
    for r in rows:
        g[(r["device"], r["layout"])].append(r)
    pairs = [("skip − full", "skip_minus_full_ns"), ("premapped − full", "premapped_minus_full_ns"),
             ("premapped − skip", "premapped_minus_skip_ns")]
    cg = {(r.get("layout"), r.get("policy")): num(r.get("cg_instructions_per_pkt")) for r in crow or []}

    def cg_delta(lay, name):
        a, b = (x.strip() for x in name.split("−"))
        x, y = cg.get((lay, a)), cg.get((lay, b))
        return f(x - y, "%+.1f") if x is not None and y is not None else "–"
    lines = []
    for dev in sorted({k[0] for k in g}, key=lambda d: (d != "inline", d)):
        for lay in sorted({k[1] for k in g if k[0] == dev}, key=lambda x: (x != "split", x)):
            rs = g[(dev, lay)]
            ok = [r for r in rs if r.get("status") == "ok"]
            used = [r for r in ok if r.get("placement_changed") != "1"]
            full = med(nums(used, "full_ns_per_pkt"))
            for name, col in pairs:
                v = nums(used, col)
                lo, hi = bootstrap_median_ci(v, rng)
                half = (hi - lo) / 2 if lo is not None else None
                if summary is not None:
                    summary[(dev, lay, name)] = {"median": med(v), "half": half, "cg": cg_delta(lay, name)}
                alo, ahi = bootstrap_median_ci(nums(ok, col), rng)
                lines.append([dev, lay, name, str(len(v)), f"{len(ok) - len(used)} of {len(ok)}",
                              str(len(rs) - len(ok)), f(min(v) if v else None, "%+.2f"), f(med(v), "%+.2f"),
                              f(max(v) if v else None, "%+.2f"),
                              f"{lo:+.2f} .. {hi:+.2f}" if lo is not None else "–", f(half, "±%.2f"),
                              f(full, "%.1f"), cg_delta(lay, name),
                              f"{alo:+.2f} .. {ahi:+.2f}" if alo is not None else "–"])
    return table(["device", "layout", "difference", "rounds used", "dropped: placement changed",
                  "failed rounds", "min", "median", "max", "95% interval of the median", "half-width",
                  "full: median ns/pkt", "Δ instructions/pkt (callgrind)",
                  "95% interval, every ok round (none dropped)"], lines)


def tracking_section(md, path, counts_path, rng, summary=None):
    md.append("## What tracking costs per packet: full, skip, premapped\n")
    if not path:
        missing(md, "tracking")
    else:
        rows = load(path, need=("device", "layout", "status", "skip_minus_full_ns", "premapped_minus_full_ns",
                                "premapped_minus_skip_ns", "full_ns_per_pkt"))
        source(md, path, rows, KINDS["tracking"][1])
        md.append("Each device runs one vqbench process with `--order blocks`: the six engines (split and "
                  "packed x full, skip, premapped) are set up once, then each round runs one block of "
                  f"{first(rows, 'block_packets') or '?'} packets per policy back to back (milliseconds "
                  "apart), the policy order rotating by one each round. A difference is paired: taken "
                  "between the blocks of one round; negative: the first policy is faster. Rounds whose "
                  "core-to-core probe moved by more than 1.5x (placement changed) are dropped and counted. "
                  "The interval is a bootstrap 95% interval of the median paired difference "
                  f"({BOOT_N} resamples, fixed seed {BOOT_SEED}); its half-width is what target 5 "
                  "(within ±1 ns on the inline device) is judged on.\n")
        md.append(tracking_table(rows, rng, load(counts_path) if counts_path else None, summary))
        n = max((sum(r.get("status") == "ok" for r in rows if (r["device"], r["layout"]) == k)
                 for k in {(r["device"], r["layout"]) for r in rows}), default=0)
        if n < 50:
            md.append(f"Only {n} round(s) per layout: a smoke run, not a measurement.\n")
    md.append("### Exact counts (callgrind)\n")
    if not counts_path:
        missing(md, "counts")
        return []
    crow = load(counts_path, need=("layout", "policy", "cg_instructions_per_pkt"))
    cmd = ""
    stamp = os.path.basename(counts_path)[len("perf-tracking-counts-"):]
    twin = os.path.join(os.path.dirname(counts_path), "perf-tracking-" + stamp)
    if os.path.exists(twin):
        cmd = first(load(twin), "counts_command")
    md.append(f"Source: `{os.path.basename(counts_path)}` ({len(crow)} rows), made by "
              + (f"`{cmd}`" if cmd else "`scripts/perf-tracking.sh` (its callgrind step)")
              + f". Machine: {machine(crow)}.\n")
    md.append("Counts per packet inside the packet loop (driver and inline device together), from two "
              "runs of different length under valgrind's callgrind with fixed simulated caches: counted, "
              "not timed, so independent of timing noise and of the host's placement. Δ: minus `full` "
              "on the same layout.\n")
    g = defaultdict(dict)
    for r in crow:
        g[(r.get("layout", ""), r.get("descs", ""), r.get("dma", ""))][r.get("policy", "")] = r
    cols = [("cg_instructions_per_pkt", "%.1f"), ("cg_d1_misses_per_pkt", "%.3f"), ("cg_ll_misses_per_pkt", "%.4f")]
    lines = []
    order = ["full", "skip", "premapped"]
    for key in sorted(g, key=lambda k: (k[0] != "split", k)):
        pol = g[key]
        base = pol.get("full")
        for p in sorted(pol, key=lambda p: (order.index(p) if p in order else 9, p)):
            r = pol[p]
            cells = []
            for c, fm in cols:
                v = num(r.get(c))
                b = num(base.get(c)) if base else None
                cells += [f(v, fm), f(v - b, "%+" + fm[1:]) if v is not None and b is not None and p != "full" else "–"]
            lines.append([key[0], key[1], key[2], p] + cells
                         + [f(num(r.get("maps_per_pkt")), "%g"), f(num(r.get("unmaps_per_pkt")), "%g")])
    md.append(table(["layout", "descs", "dma", "policy", "instructions/pkt", "Δ instructions", "D1 misses/pkt",
                     "Δ D1", "LL misses/pkt", "Δ LL", "maps/pkt", "unmaps/pkt"], lines))
    return crow
