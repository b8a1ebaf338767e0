#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""plot.py - PNG plots from any vqbench CSV (Debian's python3-matplotlib).

Usage: scripts/plot.py [--out DIR] [--caches L1,L2,L3 | --vqbench PATH]
                       [--prefix NAME] CSV [CSV...]

Writes into DIR (default: the first CSV's directory), one figure per
device kind (inline, thread) present in the rows:

  PREFIX-descs-DEVICE.png      packets/s vs descriptors per packet, one line
                               per policy, one panel per layout
  PREFIX-queue-DEVICE.png      packets/s and footprint vs queue size, one
                               line per policy and layout, the L1d/L2/L3
                               sizes marked (footprint panel: the sizes;
                               rate panel: where split+full's footprint
                               outgrows each)
  PREFIX-dma-DEVICE.png        map, unmap and sync calls and bytes copied
                               per packet, per DMA backend and policy
  PREFIX-pages-DEVICE.png      packets/s vs queue size on 4 KiB pages and
                               on 2 MiB hugepages (--pages 4k,2m), one panel
                               per layout, and the working set (footprint)
                               with L1d, L2 and the data-TLB reach of each
                               page size marked (dTLB entries from
                               `vqbench --sysinfo`, CPUID)
  PREFIX-cost-descs-DEVICE.png what tracking costs: each policy's ns per
                               packet minus full's, with a 95% interval
                               (Welch's t on the repetitions), and the
                               ratio to full, vs descriptors per packet,
                               one panel pair per layout
  PREFIX-cost-dma-DEVICE.png   the same per DMA backend (a policy that
                               refuses a backend has no point there)
  PREFIX-footprint-DEVICE.png  tracking state and whole footprint of one
                               queue vs queue size, log-log, per layout,
                               with the kernel's desc_extra (16 B per
                               descriptor) and the 2024 driver array
                               (19 x 16 B per entry, queue size + 1
                               entries) as reference lines; policies with
                               equal values share a line

A figure is drawn only when its axis varies in the rows (two or more
descriptor counts, queue sizes or backends; the cost figures also need
full's rows, which they compare with); the other parameters are held
at their most common value, which the figure's title states. Each point is
the median over the repetitions of one configuration; --unsafe-skip rows
are left out. Cache sizes come from --caches (bytes, K/M/G suffixes) or
from `vqbench --sysinfo` (hwloc) of --vqbench PATH (default:
build/release/bench/vqbench when it exists); without either, no cache
marks are drawn and the title says so.

Exit: 0 ok (prints each PNG written), 2 bad usage or unreadable CSV.
"""
import argparse
import csv
import functools
import math
import os
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402,F401

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = ["layout", "queue_size", "descs", "pkt_bytes", "indirect", "in_order", "event_idx",
          "batch", "dir", "policy", "dma", "device", "mem_node", "pages"]
POLICY_ORDER = ["full", "compact", "readback", "skip", "premapped", "driver-array", "retrieve", "adaptive",
                "iova"]
LAYOUT_STYLE = {"split": "-", "packed": "--", "rte_ring": ":"}


def die(text):
    print(f"plot.py: {text}", file=sys.stderr)
    sys.exit(2)


def size_bytes(text):
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMG]?)(i?B)?\s*", text, re.I)
    if not m:
        raise ValueError(text)
    return int(float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()])


def tlb_from_sysinfo(vqbench):
    """{'dTLB L1 4K': reach bytes, ...} from `vqbench --sysinfo`'s dTLB lines."""
    try:
        out = subprocess.run([vqbench, "--sysinfo"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    reach = {}
    for line in out.splitlines():
        m = re.match(r"dTLB (L\d):\s+(\d+) entries 4 KiB .*?, (\d+) entries 2 MiB", line)
        if m:
            if int(m.group(2)):
                reach[f"dTLB {m.group(1)} 4K"] = int(m.group(2)) * 4096
            if int(m.group(3)):
                reach[f"dTLB {m.group(1)} 2M"] = int(m.group(3)) << 21
    return reach


def caches_from_sysinfo(vqbench):
    try:
        out = subprocess.run([vqbench, "--sysinfo"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    sizes = {}
    for line in out.splitlines():
        m = re.match(r"(L1d|L2|L3):\s+(.+)$", line)
        if m:
            try:
                sizes[m.group(1)] = size_bytes(m.group(2))
            except ValueError:
                pass
    return sizes or None


def read_rows(paths):
    rows = []
    for p in paths:
        try:
            with open(p, newline="") as f:
                for r in csv.DictReader(f):
                    if r.get("unsafe") == "1":
                        continue
                    rows.append(r)
        except OSError as e:
            die(f"cannot read '{p}': {e.strerror}")
        except csv.Error as e:
            die(f"'{p}': not a CSV ({e})")
    if rows and not all(k in rows[0] for k in PARAMS + ["mpps"]):
        die(f"'{paths[0]}': not a vqbench CSV (no layout/policy/mpps columns)")
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def median_by(rows, keys, metric):
    """{key tuple: median of metric} over rows with a value."""
    groups = defaultdict(list)
    for r in rows:
        v = num(r.get(metric))
        if v is not None:
            groups[tuple(r[k] for k in keys)].append(v)
    return {k: statistics.median(v) for k, v in groups.items()}


def hold_fixed(rows, vary):
    """Rows whose parameters outside `vary` equal their most common value;
    and a text naming those values."""
    fixed = {}
    for k in PARAMS:
        if k in vary:
            continue
        c = Counter(r[k] for r in rows)
        if len(c) > 1:
            fixed[k] = c.most_common(1)[0][0]
    kept = [r for r in rows if all(r[k] == v for k, v in fixed.items())]
    one = kept[0] if kept else {}
    desc = []
    for k, fmt in [("queue_size", "q={}"), ("descs", "{} desc/pkt"), ("pkt_bytes", "{} B"),
                   ("dma", "dma {}"), ("dir", "{}"), ("batch", "batch {}"),
                   ("policy", "policy {}"), ("indirect", "indirect={}")]:
        if k not in vary and k in one:
            desc.append(fmt.format(one[k]))
    return kept, ", ".join(desc)


def ordered(values, order):
    return sorted(values, key=lambda v: (order.index(v) if v in order else len(order), v))


def fmt_bytes(b):
    for unit, s in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= s:
            return f"{b / s:g} {unit}"
    return f"{b:g} B"


def plot_descs(rows, device, path):
    rows = [r for r in rows if r["descs"].isdigit() and r["layout"] != "rte_ring"]
    kept, desc = hold_fixed(rows, {"layout", "descs", "policy"})
    if len({r["descs"] for r in kept}) < 2:
        return False
    med = median_by(kept, ["layout", "policy", "descs"], "mpps")
    layouts = [l for l in ("split", "packed") if any(k[0] == l for k in med)]
    fig, axes = plt.subplots(1, len(layouts), figsize=(6 * len(layouts), 4.5), sharey=True, squeeze=False)
    colour = {p: f"C{i % 10}" for i, p in enumerate(ordered({k[1] for k in med}, POLICY_ORDER))}
    for ax, lay in zip(axes[0], layouts):
        for pol in ordered({k[1] for k in med if k[0] == lay}, POLICY_ORDER):
            pts = sorted((int(k[2]), v) for k, v in med.items() if k[0] == lay and k[1] == pol)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=pol, color=colour[pol])
        ax.set_xticks(sorted({int(k[2]) for k in med}))
        ax.set_title(f"{lay} ring")
        ax.set_xlabel("descriptors per packet")
        ax.grid(True, alpha=0.3)
        ax.legend(title="policy")
    axes[0][0].set_ylabel("packet rate (Mpackets/s, median)")
    fig.suptitle(f"Packet rate vs descriptors per packet ({device} device; {desc})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def crossing(points, limit):
    """Queue size where footprint (log-log, linear between points) reaches limit."""
    for (q0, f0), (q1, f1) in zip(points, points[1:]):
        if f0 < limit <= f1:
            import math
            t = (math.log(limit) - math.log(f0)) / (math.log(f1) - math.log(f0))
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    return None


def plot_queue(rows, device, caches, path):
    rows = [r for r in rows if r["layout"] != "rte_ring"]
    kept, desc = hold_fixed(rows, {"layout", "queue_size", "policy"})
    if len({r["queue_size"] for r in kept}) < 2:
        return False
    pps = median_by(kept, ["layout", "policy", "queue_size"], "mpps")
    fp = median_by(kept, ["layout", "policy", "queue_size"], "footprint_bytes")
    tr = {k: v / 1024 for k, v in median_by(kept, ["layout", "policy", "queue_size"], "tracking_bytes").items()}
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(17, 5))
    colour = {p: f"C{i % 10}" for i, p in enumerate(ordered({k[1] for k in pps}, POLICY_ORDER))}
    for key_set, ax in ((pps, a1), (fp, a2), (tr, a3)):
        for lay in ("split", "packed"):
            for pol in ordered({k[1] for k in key_set if k[0] == lay}, POLICY_ORDER):
                pts = sorted((int(k[2]), v) for k, v in key_set.items() if k[0] == lay and k[1] == pol)
                color = colour.get(pol, "black")
                ax.plot([p[0] for p in pts], [p[1] for p in pts], LAYOUT_STYLE[lay], marker="o",
                        markersize=3, color=color, label=f"{lay} {pol}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("queue size (descriptors)")
        ax.grid(True, alpha=0.3)
    a2.set_yscale("log", base=2)
    a3.set_ylim(bottom=0)
    a1.set_ylabel("packet rate (Mpackets/s, median)")
    a2.set_ylabel("footprint of one queue (bytes)")
    a3.set_ylabel("tracking state (KiB)")
    a1.set_title("Packet rate")
    a2.set_title("Footprint (ring, tracking, indirect, DMA, buffers)")
    a3.set_title("Tracking state alone (policy records + per-chain)")
    note = ""
    if caches:
        ref = sorted((int(k[2]), v) for k, v in fp.items() if k[0] == "split" and k[1] == "full")
        for i, (name, size) in enumerate(sorted(caches.items(), key=lambda x: x[1])):
            a2.axhline(size, color="gray", linestyle=":", linewidth=1)
            a2.annotate(f"{name} {fmt_bytes(size)}", (a2.get_xlim()[0], size), xytext=(3, 2),
                        textcoords="offset points", fontsize=8, color="dimgray")
            q = crossing(ref, size)
            if q:
                a1.axvline(q, color="gray", linestyle=":", linewidth=1)
                a1.annotate(f"split+full footprint = {name}", (q, a1.get_ylim()[0]), rotation=90,
                            xytext=(2, 4), textcoords="offset points", va="bottom", fontsize=8,
                            color="dimgray")
    else:
        note = "; cache sizes unknown"
    handles, labels = a1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.suptitle(f"Packet rate and footprint vs queue size ({device} device; {desc}{note}; "
                 "solid split, dashed packed)", fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def plot_pages(rows, device, caches, tlb, path):
    rows = [r for r in rows if r["layout"] != "rte_ring" and r.get("pages")]
    kept, desc = hold_fixed(rows, {"layout", "queue_size", "policy", "pages"})
    if len({r["queue_size"] for r in kept}) < 2 or len({r["pages"] for r in kept}) < 2:
        return False
    keys = ["layout", "policy", "pages", "queue_size"]
    pps = median_by(kept, keys, "mpps")
    fp = median_by(kept, keys, "footprint_bytes")
    layouts = [l for l in ("split", "packed") if any(k[0] == l for k in pps)]
    fig, axes = plt.subplots(1, len(layouts) + 1, figsize=(6 * (len(layouts) + 1), 5))
    colour = {p: f"C{i % 10}" for i, p in enumerate(ordered({k[1] for k in pps}, POLICY_ORDER))}
    style = {"2m": "-", "4k": "--"}
    for ax, lay in zip(axes, layouts):
        for pol in ordered({k[1] for k in pps if k[0] == lay}, POLICY_ORDER):
            for pg in ("2m", "4k"):
                pts = sorted((int(k[3]), v) for k, v in pps.items() if k[:3] == (lay, pol, pg))
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style[pg], marker="o", markersize=3,
                            color=colour[pol], label=f"{pol} {pg}")
        ax.set_title(f"{lay}: packet rate, 2 MiB (solid) vs 4 KiB pages (dashed)")
        ax.set_ylabel("packet rate (Mpackets/s, median)")
    afp = axes[-1]
    for lay in layouts:
        for pol in ordered({k[1] for k in fp if k[0] == lay}, POLICY_ORDER):
            pts = sorted((int(k[3]), v) for k, v in fp.items() if k[:3] == (lay, pol, "2m"))
            afp.plot([p[0] for p in pts], [p[1] for p in pts], LAYOUT_STYLE[lay], marker="o", markersize=3,
                     color=colour[pol], label=f"{lay} {pol}")
    afp.set_yscale("log", base=2)
    afp.set_title("Working set of one queue (ring, tracking, buffers)")
    afp.set_ylabel("footprint (bytes)")
    marks = dict(caches or {})
    marks.update(tlb or {})
    marks.pop("L3", None)
    ref = sorted((int(k[3]), v) for k, v in fp.items() if k[:3] == (layouts[0], "full", "2m")) if layouts else []
    for name, size in sorted(marks.items(), key=lambda x: x[1]):
        afp.axhline(size, color="gray", linestyle=":", linewidth=1)
        afp.annotate(f"{name} {fmt_bytes(size)}", (1, size), xycoords=("axes fraction", "data"),
                     xytext=(-3, 2), textcoords="offset points", ha="right", fontsize=7, color="dimgray")
        q = crossing(ref, size)
        if q:
            for ax in axes[:-1]:
                ax.axvline(q, color="gray", linestyle=":", linewidth=1)
                ax.annotate(name, (q, 0), xycoords=("data", "axes fraction"), rotation=90, xytext=(2, 4),
                            textcoords="offset points", va="bottom", fontsize=7, color="dimgray")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("queue size (descriptors)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    note = "" if marks else "; cache and TLB sizes unknown"
    fig.suptitle(f"4 KiB vs 2 MiB pages ({device} device; {desc}{note}; vertical marks: where "
                 f"{layouts[0] if layouts else ''}+full's working set outgrows each)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


# ---- cost relative to full, footprint with references (the question) ----

@functools.lru_cache(maxsize=None)
def t_quantile(p, df):
    """Student's t quantile for probability p (0.5 < p < 1), df > 0 degrees
    of freedom (fractional for Welch): the CDF integrated with Simpson's
    rule and inverted by bisection; no scipy needed."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(x):
        n = 400
        h = x / n
        f = [c * (1 + (i * h) ** 2 / df) ** (-(df + 1) / 2) for i in range(n + 1)]
        return 0.5 + h / 3 * (f[0] + f[-1] + 4 * sum(f[1:-1:2]) + 2 * sum(f[2:-1:2]))

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def diff_ci(a, b, level=0.95):
    """mean(a) - mean(b) with its Welch t interval: (diff, half width),
    half width None with fewer than 2 values on a side."""
    d = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return d, None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return d, 0.0
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return d, t_quantile(1 - (1 - level) / 2, round(df, 3)) * se


def cost_vs_full(rows, keys):
    """{(key..., policy): (diff ns, half width, ratio, ratio half width, n)}
    of ns_per_pkt against full of the same key; only ok rows."""
    groups = defaultdict(list)
    for r in rows:
        v = num(r.get("ns_per_pkt"))
        if v is not None and r.get("status", "ok") == "ok":
            groups[tuple(r[k] for k in keys) + (r["policy"],)].append(v)
    out = {}
    for k, vals in groups.items():
        base = groups.get(k[:-1] + ("full",))
        if k[-1] == "full" or not base:
            continue
        d, hw = diff_ci(vals, base)
        m = statistics.fmean(base)
        out[k] = (d, hw, 1 + d / m, None if hw is None else hw / m, min(len(vals), len(base)))
    return out


def plot_cost(rows, device, path, axis):
    """ns/packet of each policy minus full's, with a 95% interval, and the
    ratio, against descriptors per packet (axis "descs") or backend ("dma")."""
    rows = [r for r in rows if r["layout"] != "rte_ring" and (axis != "descs" or r["descs"].isdigit())]
    kept, desc = hold_fixed(rows, {"layout", axis, "policy"})
    xs = sorted({r[axis] for r in kept}, key=lambda v: (int(v) if v.isdigit() else 0, v))
    if len(xs) < 2 or not any(r["policy"] == "full" for r in kept):
        return False
    cost = cost_vs_full(kept, ["layout", axis])
    layouts = [l for l in ("split", "packed") if any(k[0] == l for k in cost)]
    if not layouts:
        return False
    pols = ordered({k[2] for k in cost}, POLICY_ORDER)
    colour = {p: f"C{POLICY_ORDER.index(p) % 10 if p in POLICY_ORDER else 9}" for p in pols}
    fig, axes = plt.subplots(2, len(layouts), figsize=(6.5 * len(layouts), 8), sharex=True, squeeze=False)
    width = 0.7 / max(1, len(pols))
    ratios = [c[2] for c in cost.values() if c[2] > 0]
    wide = bool(ratios) and max(ratios) / min(ratios) > 4
    for col, lay in enumerate(layouts):
        top, bottom = axes[0][col], axes[1][col]
        for j, pol in enumerate(pols):
            pts = [(i, cost[(lay, x, pol)]) for i, x in enumerate(xs) if (lay, x, pol) in cost]
            if not pts:
                continue
            px = [i + (j - (len(pols) - 1) / 2) * width for i, _ in pts]
            kw = dict(marker="o", markersize=4, capsize=3, linewidth=1, color=colour[pol], label=pol,
                      linestyle="-" if axis == "descs" else "none")  # backends are categories
            top.errorbar(px, [c[0] for _, c in pts], yerr=[c[1] or 0 for _, c in pts], **kw)
            bottom.errorbar(px, [c[2] for _, c in pts], yerr=[c[3] or 0 for _, c in pts], **kw)
        top.axhline(0, color="black", linewidth=0.8)
        bottom.axhline(1, color="black", linewidth=0.8)
        if wide:  # one policy far off (premapped on debug): log ratio, difference linear near 0
            bottom.set_yscale("log", base=2)
            bottom.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            top.set_yscale("symlog", linthresh=100)
            top.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            lo, hi = top.get_ylim()
            top.set_ylim(lo, hi * 3 if hi > 0 else hi)  # room above the highest marker
        top.set_title(f"{lay} ring: ns/packet minus full's (95% interval)", fontsize=10)
        bottom.set_title(f"{lay} ring: ns/packet relative to full", fontsize=10)
        top.set_ylabel("difference to full (ns per packet)")
        bottom.set_ylabel("ratio to full (1 = same cost)")
        bottom.set_xticks(range(len(xs)))
        bottom.set_xticklabels(xs, rotation=30 if axis == "dma" else 0)
        bottom.set_xlabel("descriptors per packet" if axis == "descs" else "DMA backend")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title="policy", loc="lower center", ncol=min(len(labels), 8), fontsize=8)
    n = sorted({c[4] for c in cost.values()})
    what = "descriptors per packet" if axis == "descs" else "DMA backend"
    missing = "; no point: the policy refuses that backend (or full is missing)" if axis == "dma" else ""
    reps = "-".join(map(str, (n[0], n[-1]))) if len(n) > 1 else str(n[0])
    lines = [f"Tracking cost relative to full by {what} ({device} device; {desc}); below 0 / 1: cheaper than full",
             f"mean of {reps} repetitions per point, Welch 95% interval; ratio interval: the difference's "
             "over full's mean"]
    notes = [t for t in (missing[2:],
                         "log ratio axis; difference axis linear within +-100 ns, log beyond" if wide else "") if t]
    if notes:
        lines.append("; ".join(notes))
    fig.suptitle("\n".join(lines), fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


# Linux's struct vring_desc_extra: addr 8, len 4, flags 2, next 2 bytes.
DESC_EXTRA = 16
# The 2024 driver-array series: (queue size + 1) x 19 (addr, len) pairs of 16 bytes.
DRIVER_ARRAY_PAIRS, DRIVER_ARRAY_PAIR = 19, 16


def same_series(data, lay, pols):
    """[(series, [policies])]: the policies of layout lay whose series
    (queue size, value) are equal, grouped, in policy order."""
    groups = []
    for pol in pols:
        pts = sorted((int(k[2]), v) for k, v in data.items() if k[:2] == (lay, pol))
        if not pts:
            continue
        for g in groups:
            if g[0] == pts:
                g[1].append(pol)
                break
        else:
            groups.append((pts, [pol]))
    return groups


def plot_footprint(rows, device, path):
    """Tracking state and whole footprint of one queue against queue size,
    log-log, with the kernel's desc_extra and the driver array as lines.
    Policies with equal values share one line, labelled with all their names."""
    rows = [r for r in rows if r["layout"] != "rte_ring"]
    kept, desc = hold_fixed(rows, {"layout", "queue_size", "policy"})
    qs = sorted({int(r["queue_size"]) for r in kept})
    if len(qs) < 2:
        return False
    keys = ["layout", "policy", "queue_size"]
    tr, fp = median_by(kept, keys, "tracking_bytes"), median_by(kept, keys, "footprint_bytes")
    layouts = [l for l in ("split", "packed") if any(k[0] == l for k in fp)]
    pols = ordered({k[1] for k in fp}, POLICY_ORDER)
    colour = {p: f"C{POLICY_ORDER.index(p) % 10 if p in POLICY_ORDER else 9}" for p in pols}
    fig, axes = plt.subplots(1, 1 + len(layouts), figsize=(6.2 * (1 + len(layouts)), 6.2))
    refs = [(f"kernel desc_extra: {DESC_EXTRA} B x queue size", [(q, DESC_EXTRA * q) for q in qs], "-"),
            (f"driver array: {DRIVER_ARRAY_PAIRS} x {DRIVER_ARRAY_PAIR} B x (queue size + 1)",
             [(q, DRIVER_ARRAY_PAIRS * DRIVER_ARRAY_PAIR * (q + 1)) for q in qs], "--")]
    zero = set()
    panels = [(axes[0], tr, layouts[0], "Tracking state (policy records + per-chain state)")]
    panels += [(ax, fp, lay, f"Whole footprint, {lay} ring (ring, driver state,\ntracking, DMA, buffers)")
               for ax, lay in zip(axes[1:], layouts)]
    for ax, data, lay, title in panels:
        groups = same_series(data, lay, pols)
        for name, pts, ls in refs:
            same = [p for g, ps in groups for p in ps if g == pts]
            label = name + (f" (= {', '.join(same)})" if same and data is tr else "")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, color="black", linewidth=3, alpha=0.3,
                    label=label, zorder=1)
        for pts, ps in groups:
            if all(v == 0 for _, v in pts):
                zero.update(ps)
                continue
            pts = [(q, v) for q, v in pts if v > 0]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, linewidth=1.2,
                    color=colour[ps[0]], label=" = ".join(ps), zorder=2)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xticks(qs)
        ax.set_xticklabels([str(q) for q in qs])
        ax.set_xlabel("queue size (descriptors)")
        ax.set_ylabel("tracking state of one queue (bytes, log scale)" if data is tr
                      else "footprint of one queue (bytes, log scale)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_bytes(v)))
        ax.legend(fontsize=7, loc="lower right" if data is tr else "upper left")
    lay_note = "" if len(layouts) < 2 or all(
        same_series(tr, layouts[0], pols) == same_series(tr, l, pols) for l in layouts) \
        else f" (tracking panel: {layouts[0]})"
    zero_note = f"no tracking state (0 B, not drawable on a log axis): {', '.join(ordered(zero, POLICY_ORDER))}; " \
        if zero else ""
    fig.suptitle(f"Footprint vs queue size, log-log ({device} device; {desc}){lay_note}\n{zero_note}"
                 "grey lines: the kernel's per-descriptor desc_extra and the 2024 driver array, for scale",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def plot_dma(rows, device, path):
    rows = [r for r in rows if r["layout"] != "rte_ring"]
    kept, desc = hold_fixed(rows, {"dma", "policy"})
    backends = sorted({r["dma"] for r in kept})
    if len(backends) < 2:
        return False
    pols = ordered({r["policy"] for r in kept}, POLICY_ORDER)
    metrics = [("maps_per_pkt", "map calls"), ("unmaps_per_pkt", "unmap calls"),
               ("syncs_per_pkt", "sync calls")]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
    width = 0.8 / max(1, len(pols))
    for ax, (m, label) in zip(axes, metrics + [("bytes_copied_per_pkt", "bytes copied")]):
        med = median_by(kept, ["dma", "policy"], m)
        for j, pol in enumerate(pols):
            xs = [i + (j - (len(pols) - 1) / 2) * width for i in range(len(backends))]
            ys = [med.get((b, pol), 0) for b in backends]
            missing = [(x, b) for x, b in zip(xs, backends) if (b, pol) not in med]
            ax.bar(xs, ys, width=width, label=pol, color=f"C{j}")
            for x, _ in missing:
                ax.annotate("n/a", (x, 0), ha="center", va="bottom", fontsize=6, rotation=90)
        ax.set_xticks(range(len(backends)))
        ax.set_xticklabels(backends, rotation=30, ha="right")
        ax.set_title(f"{label} per packet")
        ax.set_ylabel("bytes per packet" if m.startswith("bytes") else "calls per packet")
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="policy", loc="center right", fontsize=8)
    fig.suptitle(f"DMA work per packet by backend ({device} device; {desc}; n/a: refused combination)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


class Args(argparse.ArgumentParser):
    """argparse with this script's errors: one line naming the option or
    argument, exit 2 (argparse's own usage text is replaced by --help)."""

    def error(self, message):
        die(f"{message} (allowed: --out DIR, --caches L1,L2,L3, --vqbench PATH, --prefix NAME, then CSV files)")


def main(argv):
    ap = Args(prog="plot.py", add_help=False, allow_abbrev=False)
    ap.add_argument("-h", "--help", action="store_true")
    for name in ("--out", "--caches", "--vqbench", "--prefix"):
        ap.add_argument(name)
    ap.add_argument("paths", nargs="*")
    a = ap.parse_intermixed_args(argv)  # CSV files before, between and after the options
    if a.help:
        print(__doc__)
        return 0
    out_dir, prefix, caches_arg, vqbench, paths = a.out, a.prefix, a.caches, a.vqbench, a.paths
    if not paths:
        die("no CSV file given (usage: scripts/plot.py [--out DIR] CSV...)")
    out_dir = out_dir or os.path.dirname(os.path.abspath(paths[0]))
    prefix = prefix or os.path.splitext(os.path.basename(paths[0]))[0]
    caches = None
    tlb = {}
    if caches_arg:
        try:
            caches = dict(zip(["L1d", "L2", "L3"], (size_bytes(x) for x in caches_arg.split(","))))
        except ValueError:
            die(f"--caches: '{caches_arg}' is not sizes L1,L2,L3 (bytes, K/M/G suffixes)")
    else:
        vqbench = vqbench or os.path.join(REPO, "build", "release", "bench", "vqbench")
        if os.access(vqbench, os.X_OK):
            caches = caches_from_sysinfo(vqbench)
            tlb = tlb_from_sysinfo(vqbench)
    rows = read_rows(paths)
    if not rows:
        die(f"no rows in {', '.join(paths)}")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for device in sorted({r["device"] for r in rows}):
        sub = [r for r in rows if r["device"] == device]
        for kind, fn in (("descs", lambda p: plot_descs(sub, device, p)),
                         ("queue", lambda p: plot_queue(sub, device, caches, p)),
                         ("dma", lambda p: plot_dma(sub, device, p)),
                         ("pages", lambda p: plot_pages(sub, device, caches, tlb, p)),
                         ("cost-descs", lambda p: plot_cost(sub, device, p, "descs")),
                         ("cost-dma", lambda p: plot_cost(sub, device, p, "dma")),
                         ("footprint", lambda p: plot_footprint(sub, device, p))):
            path = os.path.join(out_dir, f"{prefix}-{kind}-{device}.png")
            if fn(path):
                written.append(path)
    marks = ", ".join(f"{k} {fmt_bytes(v)}" for k, v in sorted(caches.items(), key=lambda x: x[1])) \
        if caches else "none (sizes unknown)"
    for p in written:
        print(f"plot.py: wrote {p}" + (f" (cache marks: {marks})" if "-queue-" in p else ""))
    if not written:
        print("plot.py: no axis varies enough to plot (need 2+ descs, queue sizes or backends)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
