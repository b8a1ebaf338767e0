#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""derive-thresholds.py - the bounds `vqbench --check` holds a run to,
derived from a baseline (scripts/regress.sh --baseline runs it).

Usage: scripts/derive-thresholds.py --runs RUNS.csv --counts COUNTS.csv
                                    [--tol PCT] [--note TEXT] [--out FILE]

  --runs RUNS.csv      N timed runs of the regression benchmark in one CSV:
                       vqbench's columns plus `baseline_run` (1..N), the run
                       each row belongs to (N >= 5)
  --counts COUNTS.csv  its configurations under callgrind
                       (scripts/callgrind-counts.py)
  (without --runs: only the errors and count bounds, from COUNTS.csv)
  --tol PCT            allowed growth of callgrind instructions per packet
                       (default 2: a 10% regression fails by a wide margin,
                       and the counts of one binary repeat exactly)
  --note TEXT          a line for the header (the inputs' names, the commit)
  --out FILE           default: standard output

Bounds written (format: README "Regression thresholds"):
  exact  errors and leaked mappings 0; footprint and tracking bytes, maps
         and unmaps per packet per configuration (equal in every run, else
         an error: they are exact by construction)
  count  callgrind instructions per packet per configuration <= the
         baseline's, tol PCT%; simulated D1 misses <= 2 x + 4 (they
         depend on where the buffers land, which varies between runs: in
         three count sweeps of one binary a configuration's D1 misses per
         packet moved by more than two; a bound against a gross change only)
  ratio  paired rate ratios: each policy / policy=full, and packed /
         split, for every (layout, descs, dma) of the runs. Each run gives
         one ratio as --check computes it: repetition r of the numerator
         over repetition r of the denominator (same run, same rep; a pair
         with placement_changed = 1 left out), the median of those pairs.
         Over the N runs the bound is min - 2 x (median - min): the lowest
         ratio seen, lowered by twice the spread seen below the median
         (this shared machine's tail is longer than N runs show); and since
         N runs of one ratio are a small sample, the same rule is applied
         to the lowest run / median pooled over every ratio (policy / full
         and packed / split) on its backend, and the lower
         of the two bounds is kept; never
         below median / 2: a bound that lets a 2x slowdown of the
         numerator pass catches nothing a reader would call a regression
         (such a bound says "capped" in its comment); and a ratio whose
         own lowest run fell below median / 2 gets no bound (a comment line
         "# no bound: ..." says so and why): unchanged code already failed
         any bound that would catch a 2x slowdown. The comment after
         each bound records N, the median, min and max of the runs, and
         the slowdown of the numerator alone that the bound catches
         (median / bound).

Exit: 0 written, 1 the inputs disagree or lack rows, 2 bad usage.
"""
import argparse
import csv
import statistics
import sys
from collections import defaultdict

CFG = ("layout", "descs", "dma", "policy")


def die(code, text):
    print(f"derive-thresholds.py: {text}", file=sys.stderr)
    sys.exit(code)


def sel(r, keys=CFG):
    return ",".join(f"{k}={r[k]}" for k in keys)


def med(rows, col):
    return statistics.median(float(r[col]) for r in rows)


def derive(runs, counts, tol, note):
    out = []
    w = out.append
    w("# Regression thresholds for vqbench (vqbench --check, format: README")
    w("# \"Regression thresholds\"), written by scripts/derive-thresholds.py, run by")
    w("# scripts/regress.sh --baseline. Checked by .ci/run (scripts/regress.sh).")
    if note:
        w(f"# {note}")
    w("#")
    w("# exact: footprints and DMA calls per packet are exact by construction.")
    w(f"# count: callgrind instructions per packet at most {tol:g}% above the baseline")
    w("#        (the counts repeat exactly for one binary; a 10% regression in one")
    w("#        configuration fails its bound); simulated D1 misses <= 2 x + 4 (they")
    w("#        depend on where buffers land, which varies: gross changes only).")
    w("# ratio: paired rate ratios (rep r of one configuration over rep r of the")
    w("#        other, one CSV file: vqbench --check); bound = min - 2 x (median - min)")
    w("#        over the baseline's runs of each run's median pair, or over the runs of")
    w("#        every ratio on its backend (relative), the lower; at least median / 2")
    w("#        (see each line's comment): from measured spread. A ratio cannot see a")
    w("#        slowdown both sides share (every policy at once): the count bounds do.")
    w("")
    by_run = defaultdict(list)
    for r in runs:
        by_run[r["baseline_run"]].append(r)
    if runs and len(by_run) < 5:
        die(1, f"--runs: {len(by_run)} runs (baseline_run values); the ratio bounds need at least 5")
    w("exact errors where device=inline == 0")
    w("exact leaked_mappings where device=inline == 0")
    cfgs = defaultdict(list)
    for r in runs:
        if r["status"] != "ok":
            die(1, f"--runs: run {r['baseline_run']}, {sel(r)}: status {r['status']} ({r['error']})")
        cfgs[sel(r)].append(r)
    for k, rs in cfgs.items():
        for c in ("footprint_bytes", "tracking_bytes", "maps_per_pkt", "unmaps_per_pkt"):
            vals = sorted({float(x[c]) for x in rs})
            if len(vals) != 1:
                die(1, f"--runs: {c} where {k} differs between rows ({vals}); it is exact by construction")
            v = vals[0]  # every digit: a footprint of 67948606 bytes is not 6.79486e+07
            w(f"exact {c} where {k} == {int(v) if v.is_integer() else repr(v)}")
    cg = defaultdict(list)
    for r in counts:
        cg[sel(r)].append(r)
    if not cg:
        die(1, "--counts: no rows")
    for k, rs in cg.items():
        w(f"count cg_instructions_per_pkt where {k} <= {med(rs, 'cg_instructions_per_pkt'):.1f} tol {tol:g}%")
        d1 = med(rs, "cg_d1_misses_per_pkt")
        w(f"count cg_d1_misses_per_pkt where {k} <= {d1 * 2 + 4:.2f}")

    def moved(r):
        return r.get("placement_changed", "") not in ("", "0")

    def ratio(rows, num, den):
        """The median of the paired ratios (rep r of num / rep r of den) of
        one run, as vqbench --check pairs them; None: no rows."""
        n = {r["rep"]: r for r in rows if all(r[a] == b for a, b in num.items())}
        d = {r["rep"]: r for r in rows if all(r[a] == b for a, b in den.items())}
        if not n or not d:
            return None
        q = [float(n[k]["mpps"]) / float(d[k]["mpps"]) for k in n
             if k in d and not moved(n[k]) and not moved(d[k]) and float(d[k]["mpps"]) != 0]
        return statistics.median(q) if q else None

    # Every bound's runs first: the spread of one ratio over N runs is a
    # small sample, so each bound also takes the spread pooled over every
    # ratio (policy / full and packed / split) on its backend.
    ratio_rows = []  # (label, runs' ratios, pool)

    def collect(label, num, den, pool):
        rs = [ratio(rows, num, den) for rows in by_run.values()]
        if all(x is None for x in rs):
            return  # a combination vqbench refuses (skip on bounce): no rows in any run
        if any(x is None for x in rs):
            die(1, f"--runs: a run lacks usable pairs of {label}")
        ratio_rows.append((label, rs, pool))

    keys = sorted({(r["layout"], r["descs"], r["dma"]) for r in runs})
    pols = sorted({r["policy"] for r in runs} - {"full"})
    for layout, descs, dma in keys:
        base = {"layout": layout, "descs": descs, "dma": dma}
        for p in pols:
            collect(f"ratio mpps policy={p} / policy=full where layout={layout},descs={descs},dma={dma}",
                    dict(base, policy=p), dict(base, policy="full"), dma)
    layouts = {r["layout"] for r in runs}
    if {"split", "packed"} <= layouts:
        for descs, dma in sorted({(r["descs"], r["dma"]) for r in runs}):
            base = {"descs": descs, "dma": dma, "policy": "full"}
            collect(f"ratio mpps layout=packed / layout=split where descs={descs},dma={dma},policy=full",
                    dict(base, layout="packed"), dict(base, layout="split"), dma)
    # the lowest run / median seen among a pool's ratios
    pooled = defaultdict(lambda: 1.0)
    for _, rs, pool in ratio_rows:
        m = statistics.median(rs)
        pooled[pool] = min(pooled[pool], min(rs) / m)
    for label, rs, pool in ratio_rows:
        m, lo, hi = statistics.median(rs), min(rs), max(rs)
        p = pooled[pool]
        own, pl = lo - 2 * (m - lo), m * (p - 2 * (1 - p))
        b = min(own, pl)
        how = (f"bound min - 2 x (median - min) = {own:.3f}, or the same from the lowest run / median of "
               f"every ratio on dma={pool} ({p:.3f}) = {pl:.3f}, whichever is lower")
        if lo < m / 2:
            w(f"# no bound: {label}  # {len(rs)} runs: median {m:.3f}, min {lo:.3f}, max {hi:.3f}; a run of "
              "unchanged code fell below median / 2, so no bound can both hold unchanged code and catch a 2x "
              "slowdown of the numerator: left to the instruction bounds")
            continue
        if b < m / 2:
            b, how = m / 2, f"capped at median / 2 ({how})"
        w(f"{label} >= {b:.3f}  # {len(rs)} runs: median {m:.3f}, min {lo:.3f}, max {hi:.3f}; "
          f"{how}; fails a {m / b:.2f}x slowdown of the numerator alone")
    return "\n".join(out) + "\n"


ALLOWED = "allowed: --runs CSV, --counts CSV, --tol PCT, --note TEXT, --out FILE"


class Args(argparse.ArgumentParser):
    """argparse with this script's errors: one line naming the flag or the
    argument, exit 2 (argparse's own usage text is replaced by --help)."""

    def error(self, message):
        die(2, f"{message} ({ALLOWED})")


def parse(argv):
    ap = Args(prog="derive-thresholds.py", add_help=False, allow_abbrev=False)
    ap.add_argument("-h", "--help", action="store_true")
    for name, default in (("--runs", None), ("--counts", None), ("--tol", "2"), ("--note", ""), ("--out", None)):
        ap.add_argument(name, default=default)
    return ap.parse_args(argv)


def main(argv):
    a = parse(argv)
    if a.help:
        print(__doc__)
        return 0
    if not a.counts:
        die(2, "--counts is required (--runs may be left out: then only the count bounds)")
    try:
        tol = float(a.tol)
    except ValueError:
        die(2, f"--tol: '{a.tol}' is not a number (a percentage, e.g. 2)")
    if not 0 <= tol < 10:
        die(2, f"--tol: {tol:g}% (allowed: 0 <= PCT < 10; the bound must catch a 10% regression)")
    def rows(flag, path):
        try:
            with open(path, newline="") as fh:
                return list(csv.DictReader(fh))
        except OSError as e:
            die(2, f"{flag}: cannot read '{path}': {e.strerror}")
    runs = rows("--runs", a.runs) if a.runs else []
    counts = rows("--counts", a.counts)
    if runs and "baseline_run" not in runs[0]:
        die(1, f"--runs: {a.runs} has no baseline_run column (scripts/regress.sh --baseline writes it)")
    text = derive(runs, counts, tol, a.note)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
