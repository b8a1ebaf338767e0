#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kernel_report.py - results/KERNEL.md from the kernel cross-check CSVs.

Usage: kernel_report.py CROSSCHECK.csv DESCS.csv [--out FILE]
CROSSCHECK.csv: one row per setup x direction x descriptors x counter with
the 6.1 kernel's value per packet and vqbench's (scripts/kernel-crosscheck.sh
writes it); DESCS.csv: the kernel's descriptors-per-packet histograms.
Every cell where the two differ, or vqbench has no value, must be matched by
an explanation below (RULES); the report names the 6.1 function and says
whether vqbench's model, its CSV or the setup mapping must change.
Exit: 0 written; 1 a difference no rule explains (the report is written,
with the cell marked UNEXPLAINED) or a malformed CSV; 2 bad usage.
"""
import argparse
import csv
import os
import sys

SETUPS = {
    "noap": "virtio-net-pci `iommu_platform=off`: no VIRTIO_F_ACCESS_PLATFORM, no IOMMU",
    "direct": "`iommu_platform=on`, no IOMMU: dma-direct",
    "swiotlb": "`iommu_platform=on`, no IOMMU, kernel `swiotlb=force`",
    "strict": "`iommu_platform=on`, `-device intel-iommu,intremap=on,caching-mode=off`, "
              "kernel `intel_iommu=on iommu.strict=1`",
    "lazy": "as strict, kernel `iommu.strict=0` (flush queue)",
    "pt": "as strict, kernel `iommu=pt`: the device in an identity domain",
    "queue256": "virtio_ring's allocations per 256-entry split queue while the drivers probe",
}
WHY = {
    "noap": "`nodma` hands the device physical addresses and counts no DMA API call, as 6.1's "
            "virtio_ring does when `vring_use_dma_api()` is false; `full` keeps a record per descriptor, as "
            "6.1 still fills `desc_extra` (its unmap paths return before the DMA API)",
    "direct": "IOVA = physical address; 6.1 maps and unmaps every buffer (`full` records them)",
    "swiotlb": "the direct backend with every mapping bounced",
    "strict": "the software IOMMU: IOVA allocator, page table, IOTLB invalidated per unmap",
    "lazy": "the software IOMMU with batched invalidation",
    "pt": "an identity translation (the identity domain makes 6.1 use dma-direct)",
    "queue256": "`full` tracking of a 256-entry split queue",
}
COUNTERS = [
    ("descs", "descs"), ("maps", "maps"), ("unmaps", "unmaps"), ("syncs", "syncs"),
    ("swiotlb_maps", "swiotlb maps"), ("bounce_bytes", "bytes bounced"), ("iommu_maps", "IOMMU maps"),
    ("iommu_unmaps", "IOMMU unmaps"), ("iova_allocs", "IOVA allocs"), ("iova_frees", "IOVA frees"),
    ("iotlb_flushes", "IOTLB flushes"), ("iotlb_timer_flushes", "of those, timer"),
]
PROBES = [
    ("dma_map_page_attrs", "kernel/dma/mapping.c",
     "every streaming mapping; virtio_ring's vring_map_one_sg and vring_map_single (dma_map_single_attrs is "
     "an inline wrapper in include/linux/dma-mapping.h) end here"),
    ("dma_unmap_page_attrs", "kernel/dma/mapping.c", "every unmap (vring_unmap_one_split, _indirect)"),
    ("dma_sync_single_for_cpu, dma_sync_single_for_device", "kernel/dma/mapping.c",
     "syncs of a live mapping (none expected from 6.1's virtio_ring)"),
    ("swiotlb_tbl_map_single, swiotlb_tbl_unmap_single", "kernel/dma/swiotlb.c",
     "a bounce slot taken / released; the size argument gives the bytes copied"),
    ("swiotlb_bounce", "kernel/dma/swiotlb.c", "the copy itself (cross-checks the byte count)"),
    ("iommu_dma_map_page, iommu_dma_unmap_page", "drivers/iommu/dma-iommu.c", "the dma-iommu map/unmap paths"),
    ("alloc_iova_fast, free_iova_fast", "drivers/iommu/iova.c",
     "IOVA allocation and release (queue_iova, the lazy path, is inlined and cannot be probed; its "
     "release shows as free_iova_fast when the flush queue drains)"),
    ("intel_iommu_tlb_sync", "drivers/iommu/intel/iommu.c", "the strict IOTLB flush after each unmap "
     "(iommu_iotlb_sync from __iommu_dma_unmap)"),
    ("intel_flush_iotlb_all", "drivers/iommu/intel/iommu.c", "the lazy flush queue's domain-wide flush "
     "(fq_flush_iotlb, from queue_iova when the queue is full or fq_flush_timeout)"),
    ("iommu_flush_iotlb_psi", "drivers/iommu/intel/iommu.c", "the page-selective invalidation both call "
     "(map=1: a flush at map, which caching-mode=on would add)"),
    ("virtqueue_add_outbuf, virtqueue_add_inbuf, virtqueue_add_inbuf_ctx, virtqueue_add_sgs",
     "drivers/virtio/virtio_ring.c", "hist on the sg count: descriptors per packet (TX, RX, control queue)"),
    ("kmem:kmalloc (tracepoint)", "mm/slab_common.c", "hist by call site while the drivers probe: "
     "vring_alloc_desc_extra and vring_alloc_state_extra_split"),
]


def num(x):
    return None if x in ("", None) else float(x)


def equal(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a))


def opt(row, name):
    """The value of one vqbench option in the row's vqbench_options."""
    parts = row["vqbench_options"].split()
    return parts[parts.index(name) + 1] if name in parts else None


# Explanations: (id, predicate(row, k, v), text, what must change). A
# predicate checks the arithmetic it claims, so a changed model or kernel
# shows up as UNEXPLAINED instead of being explained away.
def _rx_buffers(r, k, v):
    """kernel: whole buffers copied in at map and out at unmap (its map and
    unmap bytes); vqbench: the same rule on buffers of the kernel's mean
    size, so 2 x its buffer; the two differ by the buffers the refill
    window left unposted and by the mean's fraction of a byte"""
    mapped, unmapped = num(r.get("kernel_buffer_bytes")), num(r.get("kernel_unmap_bytes"))
    if r["counter"] != "bounce_bytes" or r["dir"] != "rx" or mapped is None or unmapped is None:
        return False
    buf = int(r["pkt_bytes"]) + 12
    pk = int(r["packets"])
    short = (unmapped - mapped) * pk  # bytes of the buffers not yet reposted
    return (abs(k - (mapped + unmapped)) < 1e-6 and v == 2 * buf and abs(buf - unmapped) <= 0.5
            and 0 <= short <= 32 * 4096)


def _lazy_timer(r, k, v):
    """lazy: timer flushes differ (rate); the queue-full flushes on each side
    are at most one per 256 unmaps"""
    if r["setup"] != "lazy" or v is None:
        return False
    if r["counter"] == "iotlb_timer_flushes":
        return k >= 0 and v >= 0
    if r["counter"] != "iotlb_flushes":
        return False
    kt, vt, unmaps = (num(r.get(c)) for c in ("kernel_timer_flushes", "vqbench_timer_flushes", "unmaps_per_pkt"))
    if kt is None or vt is None or unmaps is None:
        return False
    pk = int(r["packets"])
    bound = unmaps * pk / 256 + 1e-6
    # the kernel's timer count is the fq_flush_timeout probe's, over both
    # devices' domains: an upper bound on this domain's
    return (k - kt) * pk <= bound and 0 <= (v - vt) * pk <= bound


def _lazy_drain(r, k, v):
    # lazy IOVA frees: the kernel's window includes the timer's drain after
    # the traffic (frees = unmaps); vqbench's ends with the last packet, with
    # fewer than 256 IOVAs still queued
    unmaps = num(r.get("unmaps_per_pkt"))
    if r["setup"] != "lazy" or r["counter"] != "iova_frees" or unmaps is None or v is None:
        return False
    pk = int(r["packets"])
    left = (unmaps - v) * pk
    return abs(k - unmaps) < 1e-9 and 0 < left < 256 and abs(left - round(left)) < 1e-3


RULES = [
    ("rx-buffers", _rx_buffers,
     "6.1's `swiotlb_tbl_map_single()` (kernel/dma/swiotlb.c) copies the whole mapping in whatever the direction "
     "and `swiotlb_tbl_unmap_single()` copies the whole mapping out for DMA_FROM_DEVICE; vqbench's bounce pool "
     "does the same (kernel bytes = the window's mapped + unmapped RX buffer bytes; vqbench = 2 x its buffer). "
     "The RX buffers are virtio_net's mergeable buffers (`add_recvbuf_mergeable()`, drivers/net/virtio_net.c): "
     "sized by `get_mergeable_buf_len()`, and the last buffer cut from a page fragment takes the fragment's "
     "leftover hole, so their sizes vary; vqbench's RX buffer is their mean (the unmap side) rounded to a byte. "
     "The map side is short by the buffers `virtnet_receive()` had not yet reposted when the window ended "
     "(refill only after half a NAPI budget, note on RX maps).",
     "none: the DMA rule is the same on both sides; the residue is virtio_net's buffer sizing (not a DMA "
     "mapping) and the window boundary"),
    ("rx-refill-lag",
     lambda r, k, v: (r["dir"] == "rx" and r["counter"] in ("maps", "iommu_maps", "iova_allocs", "swiotlb_maps")
                      and v is not None and k < v and 1 <= round((v - k) * int(r["packets"])) <= 32
                      and abs((v - k) * int(r["packets"]) - round((v - k) * int(r["packets"]))) < 1e-6),
     "The window ends with a few RX buffers not yet reposted: 6.1's `virtnet_receive()` "
     "(drivers/net/virtio_net.c) refills the ring (`try_fill_recv()`) only once more than half a NAPI budget "
     "(32) of entries are free, so up to 32 received buffers are unmapped inside the window and their "
     "replacements mapped after it; the unmap-side counters of the same row are exact.",
     "none: a window boundary, not a model difference (the map-side count per posted buffer is exactly one)"),
    ("lazy-timer", _lazy_timer,
     "In lazy mode 6.1 flushes the domain's IOTLB (`intel_flush_iotlb_all()` via `fq_flush_iotlb()`, "
     "drivers/iommu/dma-iommu.c) when a per-CPU flush queue of IOVA_FQ_SIZE (256) entries is full "
     "(`queue_iova()`) and when the queue's timer fires (`fq_flush_timeout()`, IOVA_FQ_TIMEOUT = 10 ms after "
     "`queue_iova()` armed it). vqbench's lazy backend does the same (dma/dma_iommu.c: a full queue of 256, "
     "and a 10 ms timer on CLOCK_MONOTONIC). How many timer flushes fall in a window depends on how many "
     "packets pass in 10 ms: the guest under TCG and vqbench on the host run at different rates. The "
     "queue-full flushes (flushes minus timer flushes) are checked on both sides against the unmaps: at most "
     "one per 256 unmaps. The kernel's timer count comes from a kprobe on `fq_flush_timeout()`, which counts "
     "both devices' domains (during the RX phase the sending device's queue runs its own timer).",
     "none: a timer-driven count depends on the packet rate, not on the DMA model"),
    ("lazy-drain", _lazy_drain,
     "In lazy mode an IOVA is freed when the flush queue holding it is flushed (`fq_ring_free()` from "
     "`queue_iova()` or `fq_flush_timeout()`, drivers/iommu/dma-iommu.c). The guest reads its counters after "
     "the traffic has stopped for longer than IOVA_FQ_TIMEOUT (10 ms), so its timer has drained the queue: "
     "frees = unmaps. vqbench's window ends with its last packet, while up to 255 IOVAs are still queued "
     "(they are freed at teardown, outside the window).",
     "none: a window boundary (the queue's drain after the traffic), not a model difference"),
    ("desc-state",
     lambda r, k, v: r["counter"] == "desc_state_bytes" and v is None,
     "6.1's `vring_alloc_state_extra_split()` keeps a per-entry `vring_desc_state_split` (data token and "
     "indirect table pointer); vqbench keeps its per-chain token in the ring's own state (footprint_bytes), "
     "not in the policy's tracking_bytes.",
     "none: different accounting of the same per-chain state"),
]


def explain(r):
    k, v = num(r["kernel"]), num(r["vqbench"])
    if equal(k, v):
        return None
    for rid, pred, _, _ in RULES:
        try:
            if pred(r, k, v):
                return rid
        except (TypeError, ValueError):
            continue
    return "UNEXPLAINED"


def load(path, need):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    missing = [c for c in need if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return rows


def fmt(x):
    v = num(x)
    if v is None:
        return "—"
    return str(int(v)) if v == int(v) else f"{v:.4f}"


def build(rows, hists, names=("kernel-crosscheck.csv", "kernel-descs.csv"), rev=None):
    notes, order = {}, []

    def mark(rid):
        if rid not in notes:
            order.append(rid)
            notes[rid] = len(order)
        return notes[rid]

    out = []
    rel = sorted({r["kernel_release"] for r in rows if r.get("kernel_release")})
    feats = sorted({r["features"] for r in rows if r.get("features")})
    w = out.append
    w("# Kernel cross-check: vqbench's DMA model against Linux 6.1's own virtio-net")
    w("")
    w(f"Generated by `scripts/kernel_report.py` from `results/{names[0]}` and "
      f"`results/{names[1]}`, which `scripts/kernel-crosscheck.sh` writes"
      + (f" (tree at commit {rev})" if rev else "") + ". Guest kernel: "
      f"Debian {', '.join(rel) or '?'} in QEMU (TCG), its own `virtio_net` driver, pktgen traffic. "
      "Every figure is a count per packet (tracefs kprobe hit counts and hist triggers; exact); TCG "
      "timings are not reported. Negotiated virtio features (per boot): "
      f"{', '.join(f'`{x}`' for x in feats) or '?'}; no CSUM/TSO/UFO offloads are offered by QEMU's "
      "hub/slirp backend, so pktgen's `frags` alone makes the skbs non-linear.")
    w("")
    w("## Setups and the vqbench options that model them")
    w("")
    w("| setup | guest | the guest kernel's log | vqbench (besides --descs/--indirect/--dir/--pkt-bytes) | why |")
    w("| --- | --- | --- | --- | --- |")
    seen = []
    for r in rows:
        if r["setup"] not in seen:
            seen.append(r["setup"])
    for s in seen:
        o = next(r["vqbench_options"] for r in rows if r["setup"] == s)
        parts = o.split()
        keep = []
        i = 0
        while i < len(parts):
            if parts[i] in ("--descs", "--indirect", "--dir", "--pkt-bytes"):
                i += 2
                continue
            keep.append(parts[i])
            i += 1
        mode = "" if s == "queue256" else next((r.get("kernel_mode") or "" for r in rows if r["setup"] == s), "")
        w(f"| {s} | {SETUPS.get(s, '?')} | {mode or '—'} | `{' '.join(keep)}` | {WHY.get(s, '')} |")
    w("")
    w("The log column quotes the guest kernel's boot messages: 6.1 prints its default domain type and "
      "invalidation policy even when no IOMMU exists; `DMAR: IOMMU enabled` says that one is on.")
    w("")
    w("Common vqbench options: `--device inline --layout split --queue-size 256 --batch 1 --reps 1 "
      "--indirect-extra linux-6.1`, "
      "`--packets` as many as the kernel phase moved; `--indirect on` exactly when a packet has more than "
      "one descriptor, because 6.1's `virtqueue_use_indirect()` uses an indirect table only for more than one "
      "sg (vqbench's `--indirect on` would also put a one-descriptor chain in a table); `--pkt-bytes` = the "
      "bytes the kernel mapped per packet for its buffers minus vqbench's 12-byte header. "
      "`--indirect-extra linux-6.1` because the guest is 6.1: it keeps no record per indirect entry and "
      "unmaps them from the table itself (`detach_buf_split()`, `vring_unmap_one_split_indirect()`, "
      "drivers/virtio/virtio_ring.c); vqbench's default, `upstream`, allocates a record per entry with "
      "each table, as Linux does since 6.13 (`alloc_indirect_split()`).")
    w("")
    w("## What is probed (Debian's 6.1 source)")
    w("")
    w("| function | 6.1 source file | why |")
    w("| --- | --- | --- |")
    for fn, src, why in PROBES:
        w(f"| `{fn}` | {src} | {why} |")
    w("")
    w("TX packets are pktgen's (`frags` 0, 3, 16) from the first device; the second device, on the same QEMU "
      "hub, receives the RX phase's frames (mergeable RX buffers). The two devices share the DMA API, so "
      "hist triggers split the hits by mapping direction (TX buffers DMA_TO_DEVICE, RX buffers "
      "DMA_FROM_DEVICE) and the IOVA/IOMMU counters by domain. A cell reads `kernel` where vqbench "
      "agrees, `kernel ≠ vqbench [n]` where not, `kernel / — [n]` where vqbench has no such counter; "
      "[n] is the explanation below.")
    w("")
    w("## Counts per packet")
    unexplained = []
    for s in seen:
        if s == "queue256":
            continue
        w("")
        w(f"### {s}: {SETUPS.get(s, '?')}")
        w("")
        w("| dir | packets | " + " | ".join(lbl for _, lbl in COUNTERS) + " |")
        w("| --- | --- | " + " | ".join("---" for _ in COUNTERS) + " |")
        keys = []
        for r in rows:
            if r["setup"] == s and (r["dir"], r["descs"]) not in keys:
                keys.append((r["dir"], r["descs"]))
        for d, n in keys:
            cells = []
            pk = ""
            for c, _ in COUNTERS:
                r = next((x for x in rows if x["setup"] == s and x["dir"] == d and x["descs"] == n
                          and x["counter"] == c), None)
                if r is None:
                    cells.append("")
                    continue
                pk = r["packets"]
                rid = explain(r)
                if rid is None:
                    cells.append(fmt(r["kernel"]))
                elif rid == "UNEXPLAINED":
                    unexplained.append(r)
                    cells.append(f"{fmt(r['kernel'])} ≠ {fmt(r['vqbench'])} UNEXPLAINED")
                elif num(r["vqbench"]) is None:
                    cells.append(f"{fmt(r['kernel'])} / — [{mark(rid)}]")
                else:
                    cells.append(f"{fmt(r['kernel'])} ≠ {fmt(r['vqbench'])} [{mark(rid)}]")
            w(f"| {d} | {pk} | " + " | ".join(cells) + " |")
    q = [r for r in rows if r["setup"] == "queue256"]
    if q:
        w("")
        w("## Tracking memory per queue (256 entries, split)")
        w("")
        w("| descs | what | kernel bytes (kmalloc bytes_req) | vqbench `full` tracking_bytes |")
        w("| --- | --- | --- | --- |")
        for r in q:
            rid = explain(r)
            if rid == "UNEXPLAINED":
                unexplained.append(r)
            note = "" if rid is None else (" UNEXPLAINED" if rid == "UNEXPLAINED" else f" [{mark(rid)}]")
            what = {"desc_extra_bytes": "`desc_extra` (vring_alloc_desc_extra)",
                    "desc_state_bytes": "`desc_state` (vring_alloc_state_extra_split)"}.get(r["counter"], r["counter"])
            w(f"| {r['descs']} | {what} | {fmt(r['kernel'])} | {fmt(r['vqbench'])}{note} |")
    if hists:
        w("")
        w("## Descriptors per packet the kernel used (hist on the sg count)")
        w("")
        w("Phases: `tx1`, `tx4`, `tx17` are pktgen with `frags` 0, 3, 16 (`virtqueue_add_outbuf`); `rx1` counts "
          "the RX buffers the driver posted during the RX phase (`virtqueue_add_inbuf_ctx`: one sg per mergeable "
          "buffer); `tcp` is a TCP transfer from the guest's stack to QEMU's guestfwd sink. Offloads: the device "
          "offered no VIRTIO_NET_F_CSUM (the features above), so 6.1's `virtnet_probe()` "
          "(drivers/net/virtio_net.c) sets neither NETIF_F_HW_CSUM nor NETIF_F_SG and the stack hands the driver "
          "linear skbs; only pktgen, which calls the driver's xmit directly, makes non-linear ones.")
        w("")
        w("| setup | phase | descriptors: packets |")
        w("| --- | --- | --- |")
        by = {}
        for h in hists:
            by.setdefault((h["setup"], h["phase"]), []).append(f"{h['descs']}: {h['count']}")
        for (s, p), v in by.items():
            w(f"| {s} | {p} | {', '.join(v)} |")
    w("")
    w("## Differences and what must change")
    w("")
    if not order and not unexplained:
        w("Every cell is equal.")
    for rid in order:
        _, _, text, change = next(x for x in RULES if x[0] == rid)
        cells = [r for r in rows if explain(r) == rid]
        where = "; ".join(f"{r['setup']} {r['dir']} {r['descs']}d {r['counter']}: kernel {fmt(r['kernel'])}, "
                          f"vqbench {fmt(r['vqbench'])}" for r in cells[:6])
        more = f" (and {len(cells) - 6} more cells)" if len(cells) > 6 else ""
        w(f"{notes[rid]}. {text} **Change:** {change}. Cells: {where}{more}.")
        w("")
    for r in unexplained:
        w(f"- UNEXPLAINED: {r['setup']} {r['dir']} {r['descs']} descriptors, {r['counter']}: kernel "
          f"{fmt(r['kernel'])}, vqbench {fmt(r['vqbench'])}")
    return "\n".join(out).rstrip() + "\n", unexplained


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("crosscheck")
    ap.add_argument("descs")
    ap.add_argument("--out", default="-")
    ap.add_argument("--rev", default=None, help="the commit the CSVs were made at, for the header")
    a = ap.parse_args(argv[1:])
    try:
        rows = load(a.crosscheck, ["setup", "dir", "descs", "packets", "counter", "kernel", "vqbench",
                                   "vqbench_options", "kernel_release", "features"])
        hists = load(a.descs, ["setup", "dir", "phase", "descs", "count"])
        for r in rows:
            for c in ("kernel", "vqbench"):
                num(r[c])
        text, unexplained = build(rows, hists, (os.path.basename(a.crosscheck), os.path.basename(a.descs)), a.rev)
    except (OSError, ValueError) as e:
        print(f"kernel_report.py: {e}", file=sys.stderr)
        return 1
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)
    for r in unexplained:
        print(f"kernel_report.py: UNEXPLAINED difference: {r['setup']} {r['dir']} {r['descs']} descriptors "
              f"{r['counter']}: kernel {r['kernel']}, vqbench {r['vqbench'] or '(none)'}", file=sys.stderr)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
