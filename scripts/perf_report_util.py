#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""perf_report_util.py - what every section of scripts/perf_report.py uses:
the kinds of CSV and the scripts that make them, reading a CSV (exit 2 with
the file's name when it cannot be read), numbers and medians, markdown
tables, and the lines naming a CSV's source, machine or absence."""
import csv
import glob
import math
import os
import statistics
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = {  # kind: (glob, script)
    "peer": ("peer-dpdk-*.csv", "scripts/peer-dpdk.sh"),
    "ceiling": ("perf-ceiling-*.csv", "scripts/perf-ceiling.sh"),
    "tracking": ("perf-tracking-*.csv", "scripts/perf-tracking.sh"),
    "counts": ("perf-tracking-counts-*.csv", "scripts/perf-tracking.sh"),
    "pages": ("perf-pages-*.csv", "scripts/perf-pages.sh"),
    "queues": ("perf-queues-*.csv", "scripts/perf-queues.sh"),
    "annotate": ("perf-annotate-*.csv", "scripts/perf-tracking.sh"),
    "attrib": ("perf-attrib-*.csv", "scripts/perf-attrib.sh"),
    "peercg": ("peer-callgrind-2*.csv", "scripts/peer-callgrind.sh"),
}


def die(text):
    print(f"perf_report.py: {text}", file=sys.stderr)
    sys.exit(2)


def load(path, need=()):
    """The rows of a CSV; exit 2 naming the file when it cannot be read or
    lacks a column of need (a CSV from an older script, or not that kind)."""
    try:
        with open(path, newline="") as f:
            r = csv.DictReader(f)
            rows = list(r)
            head = r.fieldnames or []
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        die(f"cannot read '{path}': {getattr(e, 'strerror', None) or e}")
    lack = [c for c in need if c not in head]
    if lack:
        die(f"'{path}' has no column {', '.join(lack)} (columns: {', '.join(head) or 'none'}): not the CSV "
            "its name says, or written by an older script; rerun the script that makes it")
    return rows


def newest(results, kind):
    pat = KINDS[kind][0]
    files = glob.glob(os.path.join(results, pat))
    if kind == "tracking":  # perf-tracking-*.csv also matches the counts and blocks files
        files = [f for f in files if not os.path.basename(f).startswith(("perf-tracking-counts-",
                                                                          "perf-tracking-blocks-"))]
    return max(files, key=lambda f: os.path.basename(f)) if files else None


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def nums(rows, col):
    return [x for x in (num(r.get(col)) for r in rows) if x is not None]


def med(v):
    return statistics.median(v) if v else None


def f(v, fmt="%.3f"):
    return "–" if v is None else fmt % v


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def machine(rows):
    if not rows or not any(k in rows[0] for k in ("host", "cpu_model", "kernel")):
        return "not recorded in this CSV (no host, cpu_model, kernel columns)"
    seen = []
    for r in rows:
        m = (r.get("host", ""), r.get("cpu_model", ""), r.get("kernel", ""))
        if any(m) and m not in seen:
            seen.append(m)
    if not seen:
        return "not recorded (empty host, cpu_model, kernel cells)"
    return "; ".join(f"host `{h or '?'}`, CPU `{c or '?'}`, kernel `{k or '?'}`" for h, c, k in seen)


def first(rows, col):
    for r in rows:
        if r.get(col):
            return r[col]
    return ""


def source(md, path, rows, script):
    cmd = first(rows, "command")
    md.append(f"Source: `{os.path.basename(path)}` ({len(rows)} rows), made by "
              + (f"`{cmd}`" if cmd else f"`{script}`") + ".\n")
    md.append(f"Machine: {machine(rows)}.\n")


def missing(md, kind):
    script = KINDS[kind][1]
    there = os.path.exists(os.path.join(REPO, script))
    md.append(f"No `{KINDS[kind][0]}` in the results directory: `{script}` makes it"
              + ("" if there else " (that script is not in this tree yet)") + ".\n")
