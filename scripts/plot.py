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

A figure is drawn only when its axis varies in the rows (two or more
descriptor counts, queue sizes or backends); the other parameters are held
at their most common value, which the figure's title states. Each point is
the median over the repetitions of one configuration; --unsafe-skip rows
are left out. Cache sizes come from --caches (bytes, K/M/G suffixes) or
from `vqbench --sysinfo` (hwloc) of --vqbench PATH (default:
build/release/bench/vqbench when it exists); without either, no cache
marks are drawn and the title says so.

Exit: 0 ok (prints each PNG written), 2 bad usage or unreadable CSV.
"""
import csv
import os
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = ["layout", "queue_size", "descs", "pkt_bytes", "indirect", "in_order", "event_idx",
          "batch", "dir", "policy", "dma", "device", "mem_node", "pages"]
POLICY_ORDER = ["full", "compact", "readback", "skip", "premapped"]
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


def main(argv):
    out_dir = prefix = caches_arg = vqbench = None
    paths = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a in ("--out", "--caches", "--vqbench", "--prefix"):
            if i + 1 >= len(argv):
                die(f"{a}: missing value")
            v = argv[i + 1]
            if a == "--out":
                out_dir = v
            elif a == "--caches":
                caches_arg = v
            elif a == "--vqbench":
                vqbench = v
            else:
                prefix = v
            i += 2
            continue
        if a.startswith("-"):
            die(f"unknown option '{a}' (allowed: --out DIR, --caches L1,L2,L3, --vqbench PATH, --prefix NAME)")
        paths.append(a)
        i += 1
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
                         ("pages", lambda p: plot_pages(sub, device, caches, tlb, p))):
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
