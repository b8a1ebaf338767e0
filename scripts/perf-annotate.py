#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""perf-annotate.py - where the instructions of one packet go, per policy.

Usage: scripts/perf-annotate.py [--vqbench PATH] [--packets SMALL,LARGE]
                                [--csv OUT] [-- VQBENCH SWEEP OPTIONS...]

For each configuration of the sweep (default: --layout split,packed
--policy full,skip,premapped --descs 1 --dma identity, inline device), runs
vqbench twice under valgrind's callgrind (--packets SMALL, then LARGE),
collecting inside the packet loop (vqb_traffic_run_sync) only, and
attributes every instruction to the source file it was compiled from
(callgrind_annotate): with link-time optimisation most of the ring, the
tracking layer and the device are inlined into the loop, so the file says
which module did the work (ring/vq_split.c, ring/vq_track.c, dma/...,
dev/dev_sw.c, dev/dev_payload.h, bench/vqb_traffic.c, ...). Per packet:

    (instructions at LARGE - instructions at SMALL) / (LARGE - SMALL)

so start-up cancels. Counted, not timed: the same binary gives the same
numbers on any x86-64 host, whatever else runs.

OUT (default results/perf-annotate-<UTC>.csv) has one row per
configuration and source file: layout, policy, descs, dma, source,
instructions_per_pkt, share (of the configuration's total), command.
scripts/perf_report.py renders it in results/PERFORMANCE.md.

Exit: 0 ok, 1 a run failed, 2 bad usage.
"""
import csv
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SWEEP = ["--layout", "split,packed", "--policy", "full,skip,premapped", "--descs", "1",
                 "--dma", "identity"]
LINE = re.compile(r"^\s*([0-9,]+)\s+\([ 0-9.]+%\)\s+(.+?):(\S+)(?:\s+\[.*\])?\s*$")


def die(code, text):
    print(f"perf-annotate.py: {text}", file=sys.stderr)
    sys.exit(code)


def hugetlbfs_mounted():
    with open("/proc/mounts") as f:
        return any(len(l.split()) > 2 and l.split()[2] == "hugetlbfs" for l in f)


def by_source(dump):
    """{source file: instructions} of one callgrind dump."""
    p = subprocess.run(["callgrind_annotate", "--threshold=100", dump], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        die(1, f"callgrind_annotate failed on {os.path.basename(dump)}")
    out = {}
    started = False
    for line in p.stdout.splitlines():
        if "file:function" in line:
            started = True
            continue
        m = LINE.match(line) if started else None
        if not m:
            continue
        src = m.group(2)
        if src.startswith("./") or src.startswith("/usr") or src == "???":
            src = "libc / other"
        else:
            src = re.sub(r"^.*?/(ring|dma|dev|bench)/", r"\1/", src)
        out[src] = out.get(src, 0) + int(m.group(1).replace(",", ""))
    return out


def run(vqbench, n, config, tmp, private_ns):
    prefix = os.path.join(tmp, f"cg{n}")
    for f in glob.glob(prefix + ".*"):
        os.unlink(f)
    cmd = ["valgrind", "--tool=callgrind", "--toggle-collect=vqb_traffic_run_sync",
           "--dump-after=vqb_traffic_run_sync", f"--callgrind-out-file={prefix}.%p", vqbench,
           "--device", "inline", "--packets", str(n), "--warmup", "0", "--reps", "1", "--quiet",
           "--csv", os.path.join(tmp, "run.csv"), *config]
    if private_ns:  # the EAL cannot map hugepages under valgrind (see callgrind-counts.py)
        cmd = ["unshare", "-m", "sh", "-c", 'umount -a -t hugetlbfs && exec "$@"', "sh", *cmd]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        die(1, f"vqbench {' '.join(config)} --packets {n} under callgrind exited {p.returncode}:\n"
               + "\n".join(p.stdout.splitlines()[-10:]))
    dumps = [f for f in glob.glob(prefix + ".*.*") if f.rsplit(".", 1)[1].isdigit()]
    if len(dumps) != 1:
        die(1, f"{' '.join(config)}: {len(dumps)} callgrind dumps of the packet loop, expected 1")
    return by_source(dumps[0])


def expand(sweep):
    """The sweep's configurations: every layout x policy (other options as given)."""
    layouts, policies, rest = ["split"], ["full"], []
    it = iter(sweep)
    for a in it:
        if a == "--layout":
            layouts = next(it).split(",")
        elif a == "--policy":
            policies = next(it).split(",")
        else:
            rest.append(a)
    return [(l, p, ["--layout", l, "--policy", p, *rest]) for l in layouts for p in policies]


def main(argv):
    vqbench = os.path.join(REPO, "build", "release", "bench", "vqbench")
    small, large, out, sweep = 20000, 120000, None, DEFAULT_SWEEP
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a == "--":
            sweep = argv[i + 1:] or DEFAULT_SWEEP
            break
        if a not in ("--vqbench", "--packets", "--csv") or i + 1 >= len(argv):
            die(2, f"unknown argument '{a}' (allowed: --vqbench PATH, --packets SMALL,LARGE, --csv OUT, -- OPTIONS)")
        v = argv[i + 1]
        i += 2
        if a == "--vqbench":
            vqbench = v
        elif a == "--csv":
            out = v
        else:
            try:
                small, large = (int(x) for x in v.split(","))
            except ValueError:
                die(2, f"--packets: '{v}' is not SMALL,LARGE (two packet counts)")
            if not 0 < small < large:
                die(2, f"--packets: '{v}': needs 0 < SMALL < LARGE")
    if not os.access(vqbench, os.X_OK):
        die(2, f"--vqbench: '{vqbench}' is not an executable (scripts/build.sh)")
    out = out or os.path.join(REPO, "results", time.strftime("perf-annotate-%Y%m%d-%H%M%S.csv", time.gmtime()))
    private_ns = hugetlbfs_mounted() and os.geteuid() == 0
    cmdline = "scripts/perf-annotate.py --packets %d,%d -- %s" % (small, large, " ".join(sweep))
    rows = []
    with tempfile.TemporaryDirectory(prefix="vqb_annotate.") as tmp:
        for layout, policy, config in expand(sweep):
            a, b = run(vqbench, small, config, tmp, private_ns), run(vqbench, large, config, tmp, private_ns)
            per = {s: (b.get(s, 0) - a.get(s, 0)) / (large - small) for s in set(a) | set(b)}
            per = {s: v for s, v in per.items() if abs(v) >= 0.05}
            total = sum(per.values())
            print(f"perf-annotate.py: {layout} {policy}: {total:.1f} instructions/packet")
            for s, v in sorted(per.items(), key=lambda x: -x[1]):
                rows.append({"layout": layout, "policy": policy, "config": " ".join(config), "source": s,
                             "instructions_per_pkt": "%.1f" % v, "share": "%.3f" % (v / total if total else 0),
                             "command": cmdline})
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    print(f"perf-annotate.py: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
