#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kcount_model.py - put vqbench's counters beside the 6.1 kernel's.

Usage: kcount_model.py --vqbench BIN --out CSV --descs-out CSV LOG:SETUP...
Each LOG is a kernel cross-check guest's serial log (run-kcount.sh) for
SETUP. For every phase (setup x direction x descriptors) vqbench runs the
configuration that models the setup (--device inline, one repetition, as
many packets as the kernel phase moved) and one CSV row per counter is
written: the kernel's value per packet and vqbench's. A vqbench value is
empty where vqbench's CSV has no such counter. --descs-out gets the
descriptors-per-packet histograms the kernel produced (virtqueue_add_*'s
sg count, from the hist trigger).
Exit: 0 written, 1 a log or a vqbench run failed, 2 bad usage.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kcount_parse  # noqa: E402

# setup -> (what it is, vqbench options that model it, why)
SETUPS = {
    "noap": ("no VIRTIO_F_ACCESS_PLATFORM (iommu_platform=off)", ["--dma", "nodma", "--policy", "full"],
             "the driver hands the device physical addresses without a DMA API call, and keeps desc_extra"),
    "direct": ("ACCESS_PLATFORM, no IOMMU: dma-direct", ["--dma", "pa", "--policy", "full"],
               "IOVA = physical address; 6.1 maps and unmaps every buffer through the DMA API"),
    "swiotlb": ("ACCESS_PLATFORM, dma-direct, swiotlb=force", ["--dma", "pa", "--force-bounce", "on", "--policy", "full"],
                "every mapping bounces through the swiotlb pool"),
    "strict": ("ACCESS_PLATFORM, intel-iommu (caching-mode=off), iommu.strict=1",
               ["--dma", "iommu", "--iommu", "strict", "--policy", "full"],
               "IOVA allocation, page table, IOTLB invalidated at every unmap"),
    "lazy": ("ACCESS_PLATFORM, intel-iommu (caching-mode=off), iommu.strict=0 (flush queue)",
             ["--dma", "iommu", "--iommu", "lazy", "--policy", "full"],
             "IOTLB invalidations batched; IOVAs freed after the batch flush"),
    "pt": ("ACCESS_PLATFORM, intel-iommu, iommu=pt (identity domain)", ["--dma", "identity", "--policy", "full"],
           "an identity domain: dma-direct, the address as it is"),
}
ORDER = list(SETUPS)
# counter -> (kernel per-packet key(s), vqbench CSV column or None, what the kernel counts)
COUNTERS = [
    ("descs", None, "descs", "descriptors per packet (virtqueue_add_outbuf / virtqueue_add_inbuf_ctx sg count)"),
    ("maps", ("map",), "maps_per_pkt", "dma_map_page_attrs calls"),
    ("unmaps", ("unmap",), "unmaps_per_pkt", "dma_unmap_page_attrs calls"),
    ("syncs", ("sync_cpu", "sync_dev"), "syncs_per_pkt", "dma_sync_single_for_cpu/_for_device calls"),
    ("swiotlb_maps", ("swiotlb_map",), "bounced_per_pkt", "swiotlb_tbl_map_single calls"),
    ("bounce_bytes", ("bounce_bytes",), "bytes_copied_per_pkt",
     "bytes swiotlb copied (swiotlb_tbl_map_single: mapping_size; swiotlb_tbl_unmap_single: mapping_size, from-device)"),
    ("iommu_maps", ("iommu_map",), "@iommu:maps_per_pkt", "iommu_dma_map_page calls"),
    ("iommu_unmaps", ("iommu_unmap",), "@iommu:unmaps_per_pkt", "iommu_dma_unmap_page calls"),
    ("iova_allocs", ("iova_alloc",), "iova_allocs_per_pkt", "alloc_iova_fast calls"),
    ("iova_frees", ("iova_free",), "iova_frees_per_pkt", "free_iova_fast calls"),
    ("iotlb_flushes", ("iotlb_flush",), "iotlb_flushes_per_pkt", "intel_iommu_tlb_sync + intel_flush_iotlb_all calls"),
    ("iotlb_timer_flushes", ("fq_timeout",), "iotlb_timer_flushes_per_pkt",
     "fq_flush_timeout calls (the lazy flush queue's timer)"),
]
FIELDS = ["setup", "dir", "descs", "packets", "counter", "kernel", "vqbench", "vqbench_options", "pkt_bytes",
          "kernel_buffer_bytes", "kernel_unmap_bytes", "unmaps_per_pkt", "kernel_timer_flushes",
          "vqbench_timer_flushes", "kernel_release", "features", "kernel_cmdline", "kernel_mode"]


def cmdline_tail(info):
    """The setup's part of the kernel command line (after the common options)."""
    return info["cmdline"].split("no_timer_check", 1)[-1].strip()


def features_hex(info):
    """The TX device's negotiated virtio features (sysfs bit string) as hex."""
    bits = next(iter(sorted(info["features"].items())), ("", ""))[1]
    return hex(sum(1 << i for i, c in enumerate(bits) if c == "1")) if bits else ""


def vqbench_run(binary, setup, row, pkt_bytes):
    d = row["descs"]
    opts = SETUPS[setup][1] + ["--descs", str(d), "--indirect", "on" if d > 1 else "off",
                               "--dir", row["dir"], "--pkt-bytes", str(pkt_bytes)]
    # --indirect-extra linux-6.1: the guest's 6.1 keeps no record per indirect
    # entry (detach_buf_split() unmaps them from the table itself)
    common = ["--device", "inline", "--layout", "split", "--queue-size", "256", "--batch", "1",
              "--indirect-extra", "linux-6.1",
              "--packets", str(row["packets"]), "--warmup", "0", "--reps", "1", "-q"]
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "v.csv")
        p = subprocess.run([binary] + opts + common + ["--csv", out], capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"vqbench {' '.join(opts)} failed (exit {p.returncode}): {p.stderr.strip()[-300:]}")
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
    if len(rows) != 1 or rows[0]["status"] != "ok":
        raise RuntimeError(f"vqbench {' '.join(opts)}: expected one ok row, got {[r['status'] for r in rows]}")
    return opts, rows[0]


def fmt(x):
    if x is None or x == "":
        return ""
    v = float(x)
    return str(int(v)) if v == int(v) else f"{v:.10g}"


def rows_for(binary, setup, krow):
    # vqbench's packet: a 12-byte virtio_net_hdr_v1 + --pkt-bytes; the
    # kernel's TX buffers (without the indirect table) carry the same
    # RX: the kernel maps (and swiotlb copies, both ways) whole mergeable
    # buffers, not frames: vqbench's RX buffer (header + --pkt-bytes) is the
    # kernel's mean RX mapping (the unmap side: every buffer the window
    # received), rounded to a byte
    if krow["dir"] == "tx":
        pkt_bytes = int(round(krow["buffer_bytes_per_pkt"] or 0)) - 12
    else:
        unmapped = krow["raw"]["unmap_bytes"] / krow["packets"]
        pkt_bytes = int(round(unmapped)) - 12 if unmapped else 0
    if pkt_bytes <= 0:  # noap maps nothing: take the size the other setups measured
        pkt_bytes = krow["fallback_pkt_bytes"]
    opts, v = vqbench_run(binary, setup, krow, pkt_bytes)
    out = []
    for name, kkeys, vcol, _ in COUNTERS:
        if name == "descs":
            kval, vval = krow["descs"], v["descs_max"]
        else:
            kval = sum(krow["per_pkt"][k] if k in krow["per_pkt"] else krow["raw"].get(k, 0) / krow["packets"]
                       for k in kkeys)
            if vcol is None:
                vval = ""
            elif vcol.startswith("@iommu:"):  # every mapping of the iommu backend is an IOMMU mapping
                vval = v[vcol.split(":")[1]] if v["dma"] == "iommu" else 0
            else:
                vval = v[vcol]
        out.append({"setup": setup, "dir": krow["dir"], "descs": krow["descs"], "packets": krow["packets"],
                    "counter": name, "kernel": fmt(kval), "vqbench": fmt(vval),
                    "vqbench_options": " ".join(opts), "pkt_bytes": pkt_bytes,
                    "kernel_buffer_bytes": fmt(krow["buffer_bytes_per_pkt"]),
                    "kernel_unmap_bytes": fmt(krow["raw"]["unmap_bytes"] / krow["packets"]),
                    "unmaps_per_pkt": fmt(krow["per_pkt"]["unmap"]),
                    "kernel_timer_flushes": fmt(krow["raw"].get("fq_timeout", 0) / krow["packets"]),
                    "vqbench_timer_flushes": fmt(v["iotlb_timer_flushes_per_pkt"])})
    return out


def tracking_rows(binary, kmalloc):
    """virtio_ring's per-queue tracking allocations (kmem:kmalloc by call
    site while the drivers probed) beside vqbench's full policy, queue 256."""
    def site(name):
        sizes = {k["bytes_req"] for k in kmalloc if k["site"] == name}
        if not sizes:
            raise RuntimeError(f"no kmalloc from {name} in the guest log (did virtio_ring's allocation change?)")
        return max(sizes)  # the 256-entry data queues (the control queue has 64)
    extra, state = site("vring_alloc_desc_extra"), site("vring_alloc_state_extra_split")
    out = []
    for d in (1, 4, 17):
        r = {"dir": "tx", "descs": d, "packets": 1024}
        opts, v = vqbench_run(binary, "direct", r, 1024)
        for name, kval, vval in (("desc_extra_bytes", extra, v["tracking_bytes"]),
                                 ("desc_state_bytes", state, "")):
            out.append({"setup": "queue256", "dir": "tx", "descs": d, "packets": "", "counter": name,
                        "kernel": fmt(kval), "vqbench": fmt(vval), "vqbench_options": " ".join(opts),
                        "pkt_bytes": 1024})
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--vqbench", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--descs-out", required=True)
    ap.add_argument("logs", nargs="+", metavar="LOG:SETUP")
    a = ap.parse_args(argv[1:])
    parsed = []
    for spec in a.logs:
        log, _, setup = spec.rpartition(":")
        if setup not in SETUPS or not log:
            print(f"kcount_model.py: '{spec}': expected LOG:SETUP with SETUP one of {', '.join(ORDER)}",
                  file=sys.stderr)
            return 2
        try:
            info, dumps, order = kcount_parse.parse_log(log)
            parsed.append((setup, info, kcount_parse.phase_rows(setup, info, dumps, order)))
        except (kcount_parse.LogError, OSError, ValueError, KeyError, IndexError) as e:
            print(f"kcount_model.py: {log}: {e}", file=sys.stderr)
            return 1
    # sizes: TX buffer bytes per packet by descriptor count, and the RX
    # buffer, from any setup that maps
    tx_bytes, rx_buf = {}, None
    for _, _, rows in parsed:
        for r in rows:
            if r["dir"] == "tx" and r["buffer_bytes_per_pkt"]:
                tx_bytes.setdefault(r["descs"], int(round(r["buffer_bytes_per_pkt"])) - 12)
            if r["dir"] == "rx" and r["raw"]["unmap_bytes"] and rx_buf is None:
                rx_buf = int(round(r["raw"]["unmap_bytes"] / r["packets"])) - 12
    rx_frame = tx_bytes.get(1, 1024)
    out, hists = [], []
    try:
        for setup, info, rows in sorted(parsed, key=lambda p: ORDER.index(p[0])):
            for r in rows:
                for n, c in r["descs_hist"].items():
                    hists.append({"setup": setup, "dir": r["dir"], "phase": r["phase"], "descs": n, "count": c})
                if r["dir"] == "tcp":  # a measured distribution only: no single vqbench configuration
                    continue
                r["fallback_pkt_bytes"] = (tx_bytes.get(r["descs"], rx_frame) if r["dir"] == "tx"
                                           else rx_buf or rx_frame)
                for o in rows_for(a.vqbench, setup, r):
                    o.update(kernel_release=info["kernel"], features=features_hex(info),
                             kernel_cmdline=cmdline_tail(info), kernel_mode="; ".join(info["mode"]))
                    out.append(o)
                print(f"kcount_model.py: {setup} {r['dir']} descs={r['descs']}: {r['packets']} packets",
                      file=sys.stderr)
        for o in tracking_rows(a.vqbench, parsed[0][1]["kmalloc"]):
            o.update(kernel_release=parsed[0][1]["kernel"], features=features_hex(parsed[0][1]),
                     kernel_cmdline=cmdline_tail(parsed[0][1]), kernel_mode="; ".join(parsed[0][1]["mode"]))
            out.append(o)
    except RuntimeError as e:
        print(f"kcount_model.py: {e}", file=sys.stderr)
        return 1
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    with open(a.descs_out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["setup", "dir", "phase", "descs", "count"], lineterminator="\n")
        w.writeheader()
        w.writerows(hists)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
