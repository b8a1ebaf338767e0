#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""skip-matrix.py - who was right about skipping unmap, in which setup.

Runs vqbench over every DMA setup of the 2024 argument x every skip rule
(upstream, rfc, never), policy `skip`, RX and TX on the inline device with
every payload verified; where a rule refuses skip, runs it once more with
--unsafe-skip to show what skipping would have done. Then, per setup,
policy `iova` (upstream's IOVA two-step API): whether it links into a
range or falls back to per-buffer mapping, and its calls per packet. Writes
the rows to results/skip-matrix-<UTC>.csv (<UTC>: the run's start,
YYYYmmdd-HHMMSS) and tables generated from them to results/SKIP_RULES.md,
whose header names the CSV and the commit (nothing in the tables is typed by
hand). When both are written, the older skip-matrix CSVs in the output
directory (dated, or the undated skip-matrix.csv of before) are removed: git
keeps them.

Usage: scripts/skip-matrix.py [--vqbench PATH] [--packets N] [--out DIR]
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time

SETUPS = [
    ("direct coherent", ["--dma", "identity"]),
    ("direct, 30-bit DMA mask some buffers exceed", ["--dma", "identity", "--dma-mask", "30"]),
    ("direct, forced bouncing", ["--dma", "identity", "--force-bounce", "on"]),
    ("direct, --dma-align 64 (not an upstream rule)", ["--dma", "identity", "--dma-align", "64"]),
    ("direct non-coherent; 12-byte RX headers bounce (dma_kmalloc_needs_bounce)",
     ["--dma", "noncoherent", "--nc-model", "on"]),
    ("direct with DMA debugging", ["--dma", "debug"]),
    ("iommu strict", ["--dma", "iommu", "--iommu", "strict"]),
    ("iommu lazy", ["--dma", "iommu", "--iommu", "lazy"]),
    ("iommu, untrusted device; unaligned buffers bounce (iommu_dma_map_page)", ["--dma", "iommu", "--iommu", "untrusted"]),
    ("iommu passthrough (identity domain: dma-direct)", ["--dma", "iommu", "--iommu", "passthrough"]),
    ("vfio (VFIO type1)", ["--dma", "vfio"]),
]
RULES = ["upstream", "rfc", "never"]


def run(vqb, args, packets, unsafe=False, policy="skip"):
    """One vqbench run; returns (exit code, rows, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.csv")
        cmd = [vqb, "--device", "inline", "--layout", "split", "--descs", "2", "--queue-size", "256",
               "--policy", policy, "--dir", "rx,tx", "--packets", str(packets), "--reps", "1",
               "--warmup", "0", "--quiet", "--csv", out] + args + (["--unsafe-skip"] if unsafe else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        rows = list(csv.DictReader(open(out))) if os.path.exists(out) else []
        return p.returncode, rows, p.stderr


def exhausted(r):
    """'bounce pool exhausted after N packets (pool ... used)' from an exhausted row."""
    m = re.search(r"(bounce pool|IOVA space) exhausted[^;]*; (.*?)(?: \(nothing|$)", r["error"])
    what = f"{m.group(1)} exhausted" if m else "a DMA resource exhausted"
    return f"{what} after {int(r['packets'])} packets" + (f" ({m.group(2)})" if m else "")


def verdict(rows, unsafe):
    """What skipping did, from the rows (RX first)."""
    parts = []
    for r in sorted(rows, key=lambda r: r["dir"] != "rx"):
        bits = []
        if r["status"] == "exhausted":
            bits.append(exhausted(r))
        if int(r["lost_bytes"] or 0):
            bits.append(f"{int(r['lost_bytes'])} received bytes lost or stale in {int(r['errors'])} packets")
        if int(r["leaked_mappings"] or 0):
            bits.append(f"{int(r['leaked_mappings'])} mappings leaked")
        if int(r.get("unmaintained_lines") or 0):
            bits.append(f"{int(r['unmaintained_lines'])} cache lines never invalidated")
        if int(r["stale_hits"] or 0):
            bits.append(f"{int(r['stale_hits'])} stale IOTLB hits")
        if r["status"] == "failed" and not bits:
            bits.append("stopped before any loss, " + r["error"].split(": dma backend")[0].replace("policy 'skip' stopped ", ""))
        if not bits:
            bits.append(f"no damage, {int(r['packets'])} packets verified")
        parts.append(f"{r['dir']}: " + "; ".join(bits))
    return "<br>".join(parts) if parts else "no row"


def iova_cell(rows):
    """Policy iova in one setup, from its rows (RX first)."""
    parts = []
    for r in sorted(rows, key=lambda r: r["dir"] != "rx"):
        api = r.get("iova_api", "")
        mode = "links into one range per queue" if api == "iova" else api.replace("fallback: ", "falls back to dma_map per buffer: ")
        calls = (f"{float(r['links_per_pkt']):g} links, {float(r['unlinks_per_pkt']):g} unlinks" if api == "iova"
                 else f"{float(r['maps_per_pkt']):g} maps, {float(r['unmaps_per_pkt']):g} unmaps")
        flush = f", {float(r['iotlb_flushes_per_pkt']):g} IOTLB flushes" if r.get("iotlb_flushes_per_pkt") else ""
        copied = f", {float(r['bytes_copied_per_pkt']):g} bytes copied" if float(r["bytes_copied_per_pkt"] or 0) else ""
        if r["status"] == "ok":
            outcome = f"{int(r['packets'])} packets verified"
        elif r["status"] == "exhausted":
            outcome = exhausted(r)
        else:
            outcome = f"failed: {r['error'][:160]}"
        parts.append(f"{r['dir']}: {mode}; per packet {calls}{flush}{copied}; "
                     f"{int(r['tracking_bytes'])} tracking bytes; {outcome}")
    return "<br>".join(parts) if parts else "no row"


def short_reason(err):
    """The refusal's reason, without the configuration prefix and advice."""
    why = err
    for key in ("refused on dma backend", "refused by", "not available here"):
        if key in err:
            why = err[err.index(key):]
            break
    for cut in ("; skipping it would", " (use --unsafe-skip"):
        why = why.split(cut)[0]
    return why.strip()


def damaged(rows):
    return any(int(r["lost_bytes"] or 0) or int(r["leaked_mappings"] or 0) or r["status"] == "exhausted"
               or int(r.get("unmaintained_lines") or 0) for r in rows)


def provenance(repo, allow_dirty):
    """scripts/provenance.sh's rule: None on a clean tree; exit 2 on a dirty
    one unless allow_dirty; then the dirty-<UTC> subdirectory to write to,
    after writing its DIRTY file."""
    p = subprocess.run(["git", "-C", repo, "status", "--porcelain"], capture_output=True, text=True)
    st = p.stdout.rstrip("\n") if p.returncode == 0 else "(not a git work tree: no revision)"
    if p.returncode == 0 and not st:
        return None
    if not allow_dirty:
        lines = st.splitlines()
        print("skip-matrix.py: refusing to run on a tree with uncommitted changes (results must name a commit):",
              file=sys.stderr)
        for ln in lines[:10]:
            print(f"  {ln}", file=sys.stderr)
        if len(lines) > 10:
            print("  ...", file=sys.stderr)
        print("skip-matrix.py: commit or stash them, or pass --allow-dirty (outputs then go under "
              "<out>/dirty-<UTC time>/, marked dirty)", file=sys.stderr)
        sys.exit(2)
    now = time.gmtime()
    sub = time.strftime("dirty-%Y%m%d-%H%M%S", now)
    print(f"skip-matrix.py: --allow-dirty: the tree has uncommitted changes; every output goes under {sub}/",
          file=sys.stderr)
    return sub, now, st


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--vqbench", default=os.path.join(here, "..", "build", "release", "bench", "vqbench"))
    ap.add_argument("--packets", type=int, default=40000)
    ap.add_argument("--out", default=os.path.join(here, "..", "results"))
    ap.add_argument("--allow-dirty", action="store_true",
                    help="run on a tree with uncommitted changes (refused otherwise, exit 2); "
                         "outputs go to OUT/dirty-<UTC>/ with a DIRTY file naming the revision and changes")
    a = ap.parse_args()
    dirty = provenance(os.path.join(here, ".."), a.allow_dirty)
    if dirty:
        sub, now, st = dirty
        a.out = os.path.join(a.out, sub)
        os.makedirs(a.out, exist_ok=True)
        rev = subprocess.run(["git", "-C", os.path.join(here, ".."), "describe", "--always", "--dirty",
                              "--abbrev=12"], capture_output=True, text=True).stdout.strip() or "no revision"
        with open(os.path.join(a.out, "DIRTY"), "w") as f:
            f.write(f"dirty: made {time.strftime('%Y-%m-%dT%H:%M:%SZ', now)} from {rev} with uncommitted changes:\n")
            f.write("".join(f"  {ln}\n" for ln in st.splitlines()))
    if not os.access(a.vqbench, os.X_OK):
        sys.exit(f"skip-matrix.py: {a.vqbench} is not an executable vqbench (run scripts/build.sh first)")
    os.makedirs(a.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    rev = subprocess.run(["git", "-C", os.path.join(here, ".."), "describe", "--always", "--dirty", "--abbrev=12"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    older = [f for f in os.listdir(a.out)
             if f == "skip-matrix.csv" or re.fullmatch(r"skip-matrix-[0-9]{8}-[0-9]{6}\.csv", f)]
    all_rows, table, iova = [], [], []
    for name, args in SETUPS:
        cells = []
        for rule in RULES:
            rc, rows, err = run(a.vqbench, args + ["--skip-rule", rule], a.packets)
            print(f"skip-matrix: {name} / {rule}: exit {rc}", file=sys.stderr)
            for r in rows:
                r["setup"], r["rule"] = name, rule
            all_rows += rows
            if not rows:  # refused before running: why, and what skipping would do
                line = next((l for l in err.splitlines() if "refused" in l or "not available" in l),
                            err.strip().splitlines()[-1] if err.strip() else "?")
                why = short_reason(line)
                if "not available" in why:
                    cells.append(("not available here", why, "", False))
                    continue
                _, urows, _ = run(a.vqbench, args + ["--skip-rule", rule], a.packets, unsafe=True)
                for r in urows:
                    r["setup"], r["rule"] = name, rule + " (unsafe)"
                all_rows += urows
                cells.append(("refused", why, verdict(urows, True), False))
            else:
                cells.append(("allowed", "", verdict(rows, False), damaged(rows)))
        table.append((name, cells))
        rc, irows, err = run(a.vqbench, args, a.packets, policy="iova")
        print(f"skip-matrix: {name} / policy iova: exit {rc}", file=sys.stderr)
        for r in irows:
            r["setup"], r["rule"] = name, "policy iova"
        all_rows += irows
        if not irows:  # refused before running: why (the setup's own line, as in the skip table)
            line = next((l for l in err.splitlines() if "refused" in l or "not available" in l),
                        err.strip().splitlines()[-1] if err.strip() else "?")
            why = short_reason(line)
            iova.append((name, ("not available here: " if "not available" in why else "refused: ") + why))
        else:
            iova.append((name, iova_cell(irows)))
    csv_name = f"skip-matrix-{stamp}.csv"
    csv_path = os.path.join(a.out, csv_name)
    if all_rows:
        cols = ["setup", "rule"] + [c for c in all_rows[0].keys() if c not in ("setup", "rule")]
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            w.writerows(all_rows)
    md = [
        "# Skip rules: who was right, in which setup",
        "",
        f"Generated by `scripts/skip-matrix.py` from `{csv_name}` (tree at commit {rev}); do not edit by hand.",
        f"Policy `skip` on a split ring (256 entries, 2 descriptors per packet), {a.packets} packets per",
        "direction on the inline device, every payload verified. Where a rule refuses `skip`, the cell",
        "shows what skipping does anyway (`--unsafe-skip`). A mapping leaks only what it holds (a bounce",
        "slot, an IOVA, a debug entry); a run whose bounce pool or IOVA space runs out stops with status",
        "`exhausted`, and the cell gives the packets until then and the resource's size and use. The",
        "alignment rows are upstream's two rules (`dma_kmalloc_needs_bounce()` on a non-coherent device,",
        "`iommu_dma_map_page()` for an untrusted one) and `--dma-align`, which is not an upstream rule.",
        "",
        "| setup | " + " | ".join(f"`{r}`" for r in RULES) + " | verdict |",
        "| --- | " + " | ".join("---" for _ in RULES) + " | --- |",
    ]
    for name, cells in table:
        out = []
        for verdict_word, why, what, _ in cells:
            if verdict_word == "refused":
                out.append(f"**refused**: {why}<br>*if skipped anyway:* {what}")
            elif verdict_word == "not available here":
                out.append(f"not available here: {why}")
            else:
                out.append(f"**allowed**: {what}")
        harm = [RULES[i] for i, c in enumerate(cells) if c[3]]
        if cells[0][0] == "not available here":
            v = "not measured here"
        elif harm:
            v = "skipping allowed by " + ", ".join(f"`{h}`" for h in harm) + " loses data or leaks mappings"
        else:
            v = "no rule that allows skip loses anything"
        out.append(v)
        md.append(f"| {name} | " + " | ".join(out) + " |")
    md += [
        "",
        "## Upstream's other answer: the IOVA two-step API (`--policy iova`)",
        "",
        "The same setups with policy `iova`: one IOVA range per queue (`dma_iova_try_alloc()`), buffers",
        "linked per packet (`dma_iova_link()`), one `dma_iova_sync()` per chain, one `dma_iova_unlink()`",
        "per direction run of a chain, each with its IOTLB flush; where the device has no IOVA API the",
        "kernel's callers map per buffer, and so does the policy (it says why). Tracking bytes: what the",
        "policy keeps per chain (or `full`'s records on the fallback).",
        "",
        "| setup | policy `iova` |",
        "| --- | --- |",
    ] + [f"| {name} | {cell} |" for name, cell in iova]
    md += ["", "Machine: " + subprocess.run([a.vqbench, "--version"], capture_output=True, text=True).stdout.strip()]
    with open(os.path.join(a.out, "SKIP_RULES.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    for f in older:  # only the newest stays; git keeps the older ones
        os.remove(os.path.join(a.out, f))
        print(f"skip-matrix: removed the older {f}")
    print(f"skip-matrix: wrote {csv_path} ({len(all_rows)} rows) and {os.path.join(a.out, 'SKIP_RULES.md')}")


if __name__ == "__main__":
    main()
