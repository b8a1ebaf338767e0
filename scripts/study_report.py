#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""study_report.py - write STUDY.md from the study's CSVs (scripts/study.sh).

Usage: scripts/study_report.py --csv STUDY.csv [--counts COUNTS.csv]
                               [--sysinfo FILE] [--plots PREFIX] --out STUDY.md

Every number in the output comes from the CSV files; the prose around the
tables states no number. Each cell is the median over the repetitions of
one configuration (exact columns such as footprints are equal in every
repetition). Exit: 0 ok, 2 bad usage or unreadable CSV.
"""
import csv
import os
import statistics
import sys
from collections import defaultdict

POLICY_ORDER = ["full", "compact", "readback", "skip", "premapped", "driver-array", "retrieve", "adaptive", "iova"]
DAMAGE = ["errors", "lost_bytes", "leaked_mappings", "unmaintained_lines", "stale_hits"]


def backend(r):
    """The backend with its IOMMU mode where it has one: 'iommu lazy'."""
    return r["dma"] + (" " + r.get("iommu_mode", "strict") if r["dma"] == "iommu" else "")


def plain(r):
    """A row of the main sweeps: strict IOMMU, no late writes."""
    return r.get("iommu_mode", "strict") == "strict" and r.get("late_writes", "0") in ("0", "")


def die(text):
    print(f"study_report.py: {text}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        die(f"cannot read '{path}': {e.strerror}")


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(rows, col):
    v = [num(r[col]) for r in rows if num(r.get(col)) is not None]
    return statistics.median(v) if v else None


def group(rows, keys):
    g = defaultdict(list)
    for r in rows:
        g[tuple(r[k] for k in keys)].append(r)
    return g


def pol_sorted(values):
    return sorted(values, key=lambda p: (POLICY_ORDER.index(p) if p in POLICY_ORDER else 99, p))


def f(v, digits=3):
    if v is None:
        return "–"
    if (abs(v - round(v)) < 1e-9 and abs(v) >= 1) or abs(v) >= 1000:
        return f"{int(round(v)):,}".replace(",", " ")
    return f"{v:.{digits}g}"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def sweep_rows(rows, **fixed):
    return [r for r in rows if all(r[k] == v for k, v in fixed.items())]


def bytes_table(rows, q):
    """Tracking cost in bytes per layout and policy at queue size q, 4 descs."""
    sel = [r for r in rows if r["queue_size"] == q and r["descs"] == "4" and r["device"] == "inline"
           and r["dma"] == "identity" and r["unsafe"] == "0" and r["dir"] == "tx"]
    g = group(sel, ["layout", "policy"])
    lines = []
    for lay in ("split", "packed"):
        full = g.get((lay, "full"))
        ffp = med(full, "footprint_bytes") if full else None
        for pol in pol_sorted({k[1] for k in g if k[0] == lay}):
            rs = g[(lay, pol)]
            fp, tr = med(rs, "footprint_bytes"), med(rs, "tracking_bytes")
            lines.append([lay, pol, f(tr), f(tr / int(q)) if tr is not None else "–", f(fp),
                          f(med(rs, "bytes_per_inflight")),
                          f(fp - ffp) if fp is not None and ffp is not None else "–"])
    return table(["layout", "policy", "tracking bytes", "tracking bytes / descriptor",
                  "footprint bytes", "footprint / queue size", "footprint − full's"], lines)


def pps_table(rows, device, q):
    """Median Mpps per descs x layout x policy, and the ratio to full."""
    sel = [r for r in rows if r["device"] == device and r["queue_size"] == q and r["dma"] == "identity"
           and r["unsafe"] == "0" and r["dir"] == "tx" and r["layout"] in ("split", "packed")]
    g = group(sel, ["descs", "layout", "policy"])
    pols = pol_sorted({k[2] for k in g})
    lines = []
    for d in sorted({k[0] for k in g}, key=lambda x: (not x.isdigit(), int(x) if x.isdigit() else 0)):
        for lay in ("split", "packed"):
            full = med(g.get((d, lay, "full"), []), "mpps")
            cells = []
            for p in pols:
                v = med(g.get((d, lay, p), []), "mpps")
                if v is None:
                    cells.append("refused")
                elif p == "full" or full is None:
                    cells.append(f(v))
                else:
                    cells.append(f"{f(v)} ({v / full:.2f}×)")
            lines.append([d, lay] + cells)
    return table(["descs", "layout"] + [f"{p} Mpps (÷ full)" for p in pols], lines)


def packed_split_table(rows, device, q):
    sel = [r for r in rows if r["device"] == device and r["queue_size"] == q and r["dma"] == "identity"
           and r["unsafe"] == "0" and r["dir"] == "tx"]
    g = group(sel, ["descs", "layout", "policy"])
    pols = pol_sorted({k[2] for k in g if k[1] == "packed"})
    lines = []
    for d in sorted({k[0] for k in g}, key=lambda x: int(x) if x.isdigit() else 99):
        cells = []
        for p in pols:
            s, pk = med(g.get((d, "split", p), []), "mpps"), med(g.get((d, "packed", p), []), "mpps")
            cells.append(f"{pk / s:.2f}" if s and pk else "–")
        lines.append([d] + cells)
    return table(["descs"] + [f"{p}: packed ÷ split" for p in pols], lines)


def queue_table(rows):
    sel = [r for r in rows if r["device"] == "inline" and r["descs"] == "4" and r["dma"] == "identity"
           and r["unsafe"] == "0" and r["dir"] == "tx"]
    g = group(sel, ["queue_size", "layout", "policy"])
    qs = sorted({k[0] for k in g}, key=int)
    if len(qs) < 2:
        return ""
    pols = pol_sorted({k[2] for k in g})
    lines = []
    for q in qs:
        for lay in ("split", "packed"):
            cells = []
            for p in pols:
                rs = g.get((q, lay, p))
                cells.append(f"{f(med(rs, 'mpps'))} / {f(med(rs, 'footprint_bytes') / 1024, 4)}" if rs else "refused")
            lines.append([q, lay] + cells)
    return table(["queue size", "layout"] + [f"{p}: Mpps / footprint KiB" for p in pols], lines)


def dma_table(rows):
    sel = [dict(r, dma=backend(r)) for r in rows if r["device"] == "inline" and r["descs"] == "4"
           and r["queue_size"] == "256" and r["unsafe"] == "0" and r["dir"] == "tx" and r["layout"] == "split"]
    g = group(sel, ["dma", "policy"])
    backends = sorted({k[0] for k in g})
    pols = pol_sorted({k[1] for k in g})
    if len(backends) < 2:
        return ""
    lines = []
    for b in backends:
        full = g.get((b, "full"), [])
        lines.append([b, f(med(full, "maps_per_pkt")), f(med(full, "unmaps_per_pkt")),
                      f(med(full, "syncs_per_pkt")), f(med(full, "bytes_copied_per_pkt")),
                      f(med(full, "mpps"))] +
                     ["runs" if (b, p) in g else "refused" for p in pols])
    return table(["backend", "full: maps/pkt", "unmaps/pkt", "syncs/pkt", "bytes copied/pkt", "full: Mpps"] +
                 [f"{p}" for p in pols], lines)


def unsafe_table(rows):
    sel = [dict(r, dma=backend(r)) for r in rows if r["unsafe"] == "1" and r["policy"] == "skip"
           and r.get("late_writes", "0") in ("0", "")]
    g = group(sel, ["dma", "dir", "layout"])
    lines = []
    for k in sorted(g):
        rs = g[k]
        tot = {c: sum(int(num(r.get(c)) or 0) for r in rs) for c in DAMAGE}
        pk = sum(int(num(r["packets"]) or 0) for r in rs)
        ex = [int(num(r["packets"]) or 0) for r in rs if r["status"] == "exhausted"]
        exh = f"{len(ex)} of {len(rs)}, after {f(min(ex))}" + (f"..{f(max(ex))}" if max(ex) != min(ex) else "") \
            if ex else "–"
        verdict = "**unsafe**" if any(tot.values()) or ex else "no damage measured"
        lines.append(list(k) + [len(rs), f(pk), exh] + [f(tot[c]) if tot[c] else "0" for c in DAMAGE] + [verdict])
    return table(["backend", "dir", "layout", "runs", "packets", "exhausted (runs, packets until then)",
                  "errors (packets)", "lost bytes", "leaked mappings", "cache lines never invalidated",
                  "stale IOTLB hits", "skipping unmap is"], lines), g


def late_table(rows):
    sel = [dict(r, dma=backend(r)) for r in rows if r.get("late_writes") == "1"]
    g = group(sel, ["dma", "policy"])
    lines = []
    for k in sorted(g, key=lambda k: (k[0], POLICY_ORDER.index(k[1]) if k[1] in POLICY_ORDER else 99)):
        rs = g[k]
        tot = {c: sum(int(num(r.get(c)) or 0) for r in rs) for c in
               ("packets", "late_writes_landed", "late_writes_blocked", "late_writes_remapped", "stale_hits")}
        lines.append(list(k) + [len(rs)] + [f(tot[c]) if tot[c] else "0" for c in tot])
    if not lines:
        return ""
    return table(["backend", "policy", "runs", "packets", "late writes landed", "blocked (IOMMU fault)",
                  "reached another buffer (IOVA reused)", "stale IOTLB hits"], lines)


def counts_table(rows):
    g = group(rows, ["dma", "layout", "descs", "policy"])
    lines = []
    for k in sorted(g, key=lambda k: (k[0], k[1], int(k[2]) if k[2].isdigit() else 99,
                                      POLICY_ORDER.index(k[3]) if k[3] in POLICY_ORDER else 99)):
        rs = g[k]
        lines.append(list(k) + [f(med(rs, "cg_instructions_per_pkt"), 5), f(med(rs, "cg_d1_misses_per_pkt")),
                                f(med(rs, "cg_ll_misses_per_pkt")), f(med(rs, "maps_per_pkt")),
                                f(med(rs, "unmaps_per_pkt")), f(med(rs, "links_per_pkt")),
                                f(med(rs, "unlinks_per_pkt"))])
    return table(["backend", "layout", "descs", "policy", "instructions/pkt", "D1 misses/pkt",
                  "LL misses/pkt", "maps/pkt", "unmaps/pkt", "links/pkt", "unlinks/pkt"], lines)


def iova_table(rows):
    """Policy iova per backend beside full: API or fallback, calls, flushes, bytes, rate."""
    sel = [dict(r, dma=backend(r)) for r in rows if r["device"] == "inline" and r["descs"] == "4"
           and r["queue_size"] == "256" and r["unsafe"] == "0" and r["dir"] == "tx" and r["layout"] == "split"
           and r.get("late_writes", "0") in ("0", "") and r["policy"] in ("full", "iova")]
    g = group(sel, ["dma", "policy"])
    lines = []
    for b in sorted({k[0] for k in g}):
        io, full = g.get((b, "iova"), []), g.get((b, "full"), [])
        if not io:
            continue
        api = io[0].get("iova_api", "")
        mode = "range" if api == "iova" else "fallback (" + api.split(": ", 2)[-1] + ")" if api else "–"
        lines.append([b, mode, f(med(io, "links_per_pkt")), f(med(io, "unlinks_per_pkt")),
                      f(med(io, "maps_per_pkt")), f(med(io, "iotlb_flushes_per_pkt")),
                      f(med(full, "iotlb_flushes_per_pkt")), f(med(io, "tracking_bytes")),
                      f(med(full, "tracking_bytes")), f(med(io, "mpps")), f(med(full, "mpps"))])
    if not lines:
        return ""
    return table(["backend", "iova: IOVA API", "links/pkt", "unlinks/pkt", "maps/pkt", "IOTLB flushes/pkt",
                  "full: IOTLB flushes/pkt", "iova: tracking bytes", "full: tracking bytes", "iova: Mpps",
                  "full: Mpps"], lines)


def main(argv):
    args = {"--csv": None, "--counts": None, "--sysinfo": None, "--plots": None, "--out": None}
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a not in args:
            die(f"unknown argument '{a}' (allowed: {', '.join(args)})")
        args[a] = next(it, None)
        if args[a] is None:
            die(f"{a}: missing value")
    if not args["--csv"] or not args["--out"]:
        die("--csv and --out are required")
    all_rows = load(args["--csv"])
    if not all_rows:
        die(f"'{args['--csv']}' has no rows")
    # the IOMMU-mode and late-write sweeps have tables of their own
    rows = [r for r in all_rows if plain(r)] or all_rows
    counts = load(args["--counts"]) if args["--counts"] and os.path.exists(args["--counts"]) else []
    first = rows[0]
    out_dir = os.path.dirname(os.path.abspath(args["--out"]))
    md = []
    md.append("# The study: what DMA-address tracking costs, and when skipping it is unsafe\n")
    md.append("Generated by `scripts/study.sh` (tables by `scripts/study_report.py` from "
              f"`{os.path.basename(args['--csv'])}`"
              + (f", `{os.path.basename(args['--counts'])}`" if counts else "")
              + (f" and `{os.path.basename(args['--sysinfo'])}`"
                 if args["--sysinfo"] and os.path.exists(args["--sysinfo"]) else "")
              + (f"; plots `{args['--plots']}-*.png`" if args["--plots"] else "")
              + "); do not edit by hand, rerun the script. Every cell is the median over the "
              "repetitions of one configuration.\n")
    md.append(f"vqbench {first['vqbench_version']} (git {first['git_rev']}), "
              f"{len(rows)} rows, {first['timestamp']} .. {rows[-1]['timestamp']}, "
              f"CPU {first['cpu_model']}, kernel {first['kernel']}.\n")
    if args["--sysinfo"] and os.path.exists(args["--sysinfo"]):
        with open(args["--sysinfo"]) as fh:
            md.append("The machine (`vqbench --sysinfo`):\n\n```\n" + fh.read().strip() + "\n```\n")
    md.append("Timed figures on this machine are noisy (its vCPUs move between host cores): "
              "compare neighbouring cells of one table, not absolute rates across tables. "
              "Footprints, call counts and callgrind counts are exact.\n")

    md.append("## What tracking costs in bytes\n")
    md.append("Per queue, `--dir tx`, 4 descriptors per packet, identity backend. *Tracking bytes* are "
              "the policy's own records (per descriptor and per chain); the footprint adds the rings, "
              "the driver's private state, indirect tables, the backend's memory and the buffer pool.\n")
    qs = sorted({r["queue_size"] for r in rows if r["descs"] == "4" and r["device"] == "inline"}, key=int)
    for q in [qs[0], qs[-1]] if len(qs) > 1 else qs:
        md.append(f"### Queue size {q}\n")
        md.append(bytes_table(rows, q))

    md.append("## What tracking costs in packets per second, split vs packed\n")
    md.append("Inline device (the device steps in the driver's thread: the rate is the driver's and "
              "the device's work, with no cross-core traffic), queue size 256, identity backend. "
              "In brackets: the rate divided by `full`'s rate on the same layout and descriptor count. "
              "*refused*: the combination cannot run (for example `readback` on packed rings).\n")
    md.append(pps_table(rows, "inline", "256"))
    md.append("Packed ÷ split rate per policy (inline device):\n")
    md.append(packed_split_table(rows, "inline", "256"))
    trows = [r for r in rows if r["device"] == "thread" and r["layout"] != "rte_ring"]
    if trows:
        for q in sorted({r["queue_size"] for r in trows}, key=int):
            md.append(f"Thread device (its own core), queue size {q}:\n")
            md.append(pps_table(rows, "thread", q))
        ceil = [r for r in rows if r["layout"] == "rte_ring"]
        if ceil:
            g = group(ceil, ["queue_size"])
            md.append("The ceiling on the same two cores: DPDK's `rte_ring` (SP/SC) passing the same "
                      "packets, no descriptors or DMA:\n")
            md.append(table(["queue size", "rte_ring Mpps"], [[q, f(med(g[(q,)], "mpps"))]
                                                               for q in sorted((k[0] for k in g), key=int)]))
    qt = queue_table(rows)
    if qt:
        md.append("### Rate and footprint vs queue size\n")
        md.append("Inline device, 4 descriptors per packet, identity backend.\n")
        md.append(qt)
    if counts:
        md.append("## Deterministic counts (callgrind)\n")
        md.append("From `scripts/callgrind-counts.py`: instructions and simulated cache misses per packet "
                  "in the packet loop, inline device, queue size "
                  f"{counts[0]['queue_size']}, the difference of two packet counts so setup cancels. "
                  "These repeat exactly for one binary.\n")
        md.append(counts_table(counts))

    md.append("## DMA backends: the calls tracking exists for\n")
    md.append("Split ring, 4 descriptors per packet, `full` policy (which unmaps every buffer), and "
              "which policies each backend lets run (*refused*: vqbench refuses the combination because "
              "unmap is needed and the policy is `skip`, or `readback` on a packed ring).\n")
    md.append(dma_table(all_rows))

    it = iova_table(all_rows)
    if it:
        md.append("## Upstream's IOVA two-step API (`--policy iova`)\n")
        md.append("Split ring, 4 descriptors per packet, TX, inline device, queue size 256: policy `iova` (one "
                  "IOVA range per queue, each buffer linked per packet, one unlink per direction run of a chain "
                  "with its IOTLB flush) beside `full` (a map and an unmap per buffer). Where the backend has no "
                  "IOVA API the policy maps per buffer, as the kernel's callers do (*fallback*, with the reason "
                  "`dma_iova_try_alloc` gave). Medians over the repetitions.\n")
        md.append(it)

    md.append("## Which backends make skipping unmap unsafe\n")
    md.append("`--policy skip --unsafe-skip` forces skipping where the backend says unmap is needed, and "
              "counts the damage: packets whose payload failed verification, received bytes that never "
              "reached the driver's buffer (a bounce buffer not copied back), mappings still live at "
              "teardown that hold a resource (a bounce slot, an IOVA, a debug entry), cache lines of "
              "received buffers never invalidated (non-coherent), and device accesses through a stale IOTLB "
              "entry (none here: the device touches no buffer after completion in these runs). A run whose "
              "bounce pool or IOVA space runs out stops with status `exhausted`; the table gives the packets "
              "until then. Sums over the repetitions.\n")
    ut, g = unsafe_table(all_rows)
    md.append(ut)
    unsafe_b = sorted({k[0] for k, rs in g.items() if any(int(num(r[c]) or 0) for r in rs for c in DAMAGE)})
    safe_b = sorted({k[0] for k in g} - set(unsafe_b))
    if unsafe_b:
        md.append("Backends where skipping did measurable damage: " + ", ".join(f"`{b}`" for b in unsafe_b)
                  + ". Backends where it did none in these runs: "
                  + (", ".join(f"`{b}`" for b in safe_b) if safe_b else "none") + ".\n")

    lt = late_table(all_rows)
    if lt:
        md.append("## What a device can still do after completion\n")
        md.append("`--late-writes on`: the device writes each received chain's first buffer again after the "
                  "driver reaped it and before it reuses it. *Landed*: the write reached the buffer the driver "
                  "got back; *blocked*: the IOMMU refused it (the translation was gone); *reached another "
                  "buffer*: the IOVA maps something else by then. Sums over the repetitions.\n")
        md.append(lt)

    pngs = sorted(p for p in os.listdir(out_dir) if p.startswith((args["--plots"] or "study") + "-")
                  and p.endswith(".png")) if args["--plots"] else []
    if pngs:
        md.append("## Plots\n")
        for p in pngs:
            md.append(f"![{p}]({p})\n")
    md.append("## Reproduce\n")
    md.append("```sh\nscripts/study.sh            # about 10 minutes on 2 cores; writes results/\n```\n")
    with open(args["--out"], "w") as fh:
        fh.write("\n".join(md))
    print(f"study_report.py: wrote {args['--out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
