#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kcount_parse.py - turn the serial log of a kernel cross-check guest
(scripts/qemu/run-kcount.sh, scripts/qemu/kcount-init.sh) into per-packet
counts of the 6.1 kernel's DMA API calls.

Usage: kcount_parse.py LOG SETUP [--json]
Prints one JSON object per phase (setup, phase, dir, frags, packets,
descs histogram, per-packet counters, raw window counts) and, with the
first object, the kernel's virtio_ring allocations (kmalloc call sites).

Attribution. Both devices share the DMA API, so each probe's hist trigger
splits its hits: dma_map_page_attrs, dma_unmap_page_attrs, the swiotlb and
dma-iommu map/unmap paths by the mapping direction (TX buffers are
DMA_TO_DEVICE = 1, RX buffers DMA_FROM_DEVICE = 2); the IOVA allocator and
the IOTLB flushes by IOVA domain / IOMMU domain (the TX device's are the
ones that counted during the tx phases, when the RX device saw no frame).
Bytes bounced follow 6.1's kernel/dma/swiotlb.c: swiotlb_tbl_map_single
copies mapping_size whatever the direction, swiotlb_tbl_unmap_single
copies mapping_size back for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL.
Exit: 0, 1 malformed or incomplete log, 2 bad usage.
"""
import json
import re
import sys

HIST = re.compile(r"^KC-HIST (\w+) \{ (.*?) \} hitcount: *(\d+)(?: +size: *(\d+))?")
PROF = re.compile(r"^KC-PROF +(?:kc/)?(\w+) +(\d+) +(\d+)")
KEYVAL = re.compile(r"(\w+): *(\w+)")
KMALLOC = re.compile(r"^KC-KMALLOC \{ call_site: \[\w+\] (\w+) \[(\w+)\] *, bytes_req: *(\d+) \} "
                     r"hitcount: *(\d+) +bytes_alloc: *(\d+)")
DIR_TX, DIR_RX = 1, 2


class LogError(Exception):
    pass


def parse_dump(lines):
    """One dump: net counters, kprobe_profile hits, hist entries."""
    d = {"net": {}, "prof": {}, "hist": {}}
    for ln in lines:
        if ln.startswith("KC-NET "):
            _, ifn, tx, rx = ln.split()
            d["net"][ifn] = (int(tx), int(rx))
        elif (m := PROF.match(ln)):
            d["prof"][m.group(1)] = int(m.group(2))
        elif (m := HIST.match(ln)):
            # x64 keys print in decimal in 6.1's hist output; accept hex too
            key = tuple((k, int(v) if v.isdigit() else int(v, 16)) for k, v in KEYVAL.findall(m.group(2)))
            d["hist"].setdefault(m.group(1), {})[key] = (int(m.group(3)), int(m.group(4) or 0))
    return d


def parse_log(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [ln.rstrip("\n") for ln in f]
    info = {"kmalloc": [], "probes": {}, "features": {}, "pktgen": {}, "cmdline": "", "kernel": "", "mode": []}
    dumps, cur, order = {}, None, []
    for ln in lines:
        if cur is not None:
            if ln == "KC-DUMP-END":
                dumps[cur[0]][cur[1]] = parse_dump(cur[2])
                cur = None
            else:
                cur[2].append(ln)
            continue
        if ln.startswith("KC-DUMP "):
            _, phase, when = ln.split()
            dumps.setdefault(phase, {})
            if phase not in order:
                order.append(phase)
            cur = (phase, when, [])
        elif ln.startswith("KC-PROBE "):
            _, ev, fn, state = ln.split()
            info["probes"][ev] = (fn, state)
        elif ln.startswith("KC-FEATURES "):
            _, ifn, bits = ln.split()
            info["features"][ifn] = bits
        elif ln.startswith("KC-PKTGEN "):
            m = re.match(r"KC-PKTGEN (\w+) sofar: (\d+) errors: (\d+)", ln)
            if m:
                info["pktgen"][m.group(1)] = (int(m.group(2)), int(m.group(3)))
        elif ln.startswith("KC-CMDLINE "):
            info["cmdline"] = ln[len("KC-CMDLINE "):].strip()
        elif ln.startswith("KC-DMESG "):
            info["mode"].append(ln[len("KC-DMESG "):].replace("iommu: ", "").strip())
        elif ln.startswith("KC-KERNEL "):
            info["kernel"] = ln.split()[1]
        elif (m := KMALLOC.match(ln)):
            info["kmalloc"].append({"site": m.group(1), "module": m.group(2), "bytes_req": int(m.group(3)),
                                    "count": int(m.group(4)), "bytes_alloc": int(m.group(5))})
        elif ln.startswith("KC-ERROR"):
            raise LogError(f"{path}: the guest reported: {ln}")
    if not any(ln.startswith("KC-EXIT 0") for ln in lines):
        raise LogError(f"{path}: no 'KC-EXIT 0' line: the guest did not finish")
    return info, dumps, order


def delta(b, e, ev):
    """Per-key (hits, size) difference of one hist between two dumps."""
    hb, he = b["hist"].get(ev, {}), e["hist"].get(ev, {})
    out = {}
    for k, (h, s) in he.items():
        h0, s0 = hb.get(k, (0, 0))
        if h - h0 or s - s0:
            out[k] = (h - h0, s - s0)
    return out


def by_dir(d, want):
    h = s = 0
    for k, (hh, ss) in d.items():
        if dict(k).get("dir") == want:
            h += hh
            s += ss
    return h, s


def by_keys(d, name, keys, include):
    """Hits whose key `name` is (include=True) or is not in keys."""
    return sum(h for k, (h, _) in d.items() if (dict(k).get(name) in keys) == include)


def phase_rows(setup, info, dumps, order):
    """Every phase's counters; the TX device's IOVA/IOMMU domains from the tx phases."""
    tx_iovad, tx_domain = set(), set()
    for ph in order:
        if not ph.startswith("tx"):
            continue
        b, e = dumps[ph]["begin"], dumps[ph]["end"]
        tx_iovad |= {dict(k)["iovad"] for k in delta(b, e, "iova_alloc")}
        tx_iovad |= {dict(k)["iovad"] for k in delta(b, e, "iova_free")}
        for ev in ("tlb_sync", "flush_all", "flush_psi"):
            tx_domain |= {dict(k)["domain"] for k in delta(b, e, ev)}
    rows = []
    for ph in order:
        if "begin" not in dumps[ph] or "end" not in dumps[ph]:
            raise LogError(f"setup {setup}: phase {ph} has no begin or end dump")
        b, e = dumps[ph]["begin"], dumps[ph]["end"]
        # tcp: a TCP transfer from the TX device (its ACKs come back to it,
        # so only its DMA_TO_DEVICE counters and sg counts describe the TX)
        kind = "tcp" if ph.startswith("tcp") else ("tx" if ph.startswith("tx") else "rx")
        tx = kind != "rx"
        want = DIR_TX if tx else DIR_RX
        ifs = sorted(e["net"])
        # the TX device is the one whose tx_packets grew
        txif = max(ifs, key=lambda i: e["net"][i][0] - b["net"][i][0])
        rxif = [i for i in ifs if i != txif][0]
        sent = e["net"][txif][0] - b["net"][txif][0]
        received = e["net"][rxif][1] - b["net"][rxif][1]
        stray = (e["net"][rxif][0] - b["net"][rxif][0]) + (e["net"][txif][1] - b["net"][txif][1])
        pk = sent if tx else received
        if pk <= 0:
            raise LogError(f"setup {setup}: phase {ph} moved no packets (sent {sent}, received {received})")
        if kind == "tx" and received:  # (a tcp phase's ARP broadcast reaches the RX device)
            raise LogError(f"setup {setup}: tx phase {ph}: the RX device received {received} frames")
        raw = {}
        for ev in ("map", "unmap", "swiotlb_map", "swiotlb_unmap", "iommu_map", "iommu_unmap",
                   "sync_cpu", "sync_dev"):
            h, s = by_dir(delta(b, e, ev), want)
            raw[ev] = h
            raw[ev + "_bytes"] = s
        bounce_bytes = raw["swiotlb_map_bytes"] + (0 if tx else raw["swiotlb_unmap_bytes"])
        # the rule above against swiotlb_bounce itself, both devices together
        copied = sum(sz for _, (_, sz) in delta(b, e, "swiotlb_bounce").items())
        rule = (sum(sz for _, (_, sz) in delta(b, e, "swiotlb_map").items())
                + sum(sz for k, (_, sz) in delta(b, e, "swiotlb_unmap").items() if dict(k).get("dir") in (2, 3)))
        if "swiotlb_bounce" in e["hist"] and copied != rule:
            raise LogError(f"setup {setup}: phase {ph}: swiotlb_bounce copied {copied} bytes, "
                           f"the map/unmap rule gives {rule}")
        ia, ifr = delta(b, e, "iova_alloc"), delta(b, e, "iova_free")
        raw["iova_alloc"] = by_keys(ia, "iovad", tx_iovad, tx)
        raw["iova_free"] = by_keys(ifr, "iovad", tx_iovad, tx)
        fl = 0
        for ev in ("tlb_sync", "flush_all"):
            fl += by_keys(delta(b, e, ev), "domain", tx_domain, tx)
        raw["iotlb_flush"] = fl
        raw["flush_psi_unmap"] = sum(h for k, (h, _) in delta(b, e, "flush_psi").items()
                                     if (dict(k)["domain"] in tx_domain) == tx and dict(k)["map"] == 0)
        raw["flush_psi_map"] = sum(h for k, (h, _) in delta(b, e, "flush_psi").items()
                                   if (dict(k)["domain"] in tx_domain) == tx and dict(k)["map"] != 0)
        adds = delta(b, e, "add_out" if tx else "add_in_ctx")
        hist = {str(dict(k)["num"]): h for k, (h, _) in sorted(adds.items())}
        nadds = sum(hist.values())
        raw["adds"] = nadds
        if kind == "rx" and raw["map"] and raw["map"] != nadds:
            raise LogError(f"setup {setup}: phase {ph}: {raw['map']} RX maps for {nadds} posted buffers "
                           "(6.1's mergeable RX maps one sg per buffer)")
        raw["bounce_bytes"] = bounce_bytes
        raw["fq_timeout"] = e["prof"].get("fq_timeout", 0) - b["prof"].get("fq_timeout", 0)
        descs = max((int(n) for n in hist), default=0) if tx else 1
        per = {k: raw[k] / pk for k in ("map", "unmap", "swiotlb_map", "swiotlb_unmap", "iommu_map",
                                        "iommu_unmap", "iova_alloc", "iova_free", "iotlb_flush",
                                        "flush_psi_unmap", "flush_psi_map", "sync_cpu", "sync_dev",
                                        "bounce_bytes", "map_bytes")}
        # bytes of the packet's own buffers: the indirect table (descs x 16
        # bytes, DMA_TO_DEVICE, one per chain of more than one descriptor)
        # is a mapping of its own
        table = 16 * descs if (tx and descs > 1) else 0
        rows.append({"setup": setup, "phase": ph, "dir": kind, "packets": pk,
                     "stray_frames": stray, "descs": descs, "descs_hist": hist,
                     "pktgen": info["pktgen"].get(ph), "buffer_bytes_per_pkt":
                     (raw["map_bytes"] - table * nadds) / pk if raw["map"] else None,
                     "raw": raw, "per_pkt": per})
    return rows


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        info, dumps, order = parse_log(argv[1])
        rows = phase_rows(argv[2], info, dumps, order)
    except (LogError, OSError, ValueError, KeyError, IndexError) as e:
        print(f"kcount_parse.py: {e}", file=sys.stderr)
        return 1
    meta = {"setup": argv[2], "kernel": info["kernel"], "cmdline": info["cmdline"], "mode": info["mode"],
            "features": info["features"], "probes": info["probes"], "kmalloc": info["kmalloc"]}
    print(json.dumps({"meta": meta}))
    for r in rows:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
