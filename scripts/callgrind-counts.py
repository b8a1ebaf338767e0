#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""callgrind-counts.py - deterministic per-packet counts for vqbench CSVs.

Usage: scripts/callgrind-counts.py [--vqbench PATH] [--packets SMALL,LARGE]
                                   [--device inline|vhost-user:SOCKET]
                                   --csv OUT [--by-source CSV]
                                   [-- VQBENCH SWEEP OPTIONS...]

Runs `vqbench --device inline --packets N --warmup 0 --reps 1` twice under
valgrind's callgrind (N = SMALL, then N = LARGE), collecting only inside
vqb_traffic_run_sync (the packet loop: post, kick, device step, reap, verify),
with one callgrind dump per configuration. For each configuration

    count per packet = (count at LARGE - count at SMALL) / (LARGE - SMALL)

so the loop's own start-up (first touches, ring fill) cancels. It writes OUT,
a vqbench CSV (same schema, readable by `vqbench --check` and the plots):
the LARGE run's rows with

    cg_instructions_per_pkt  instructions executed (callgrind Ir)
    cg_d1_misses_per_pkt     simulated L1d misses, reads + writes (D1mr + D1mw)
    cg_ll_misses_per_pkt     simulated last-level misses, instruction + data
                             (ILmr + DLmr + DLmw)

filled in, and the timing columns (elapsed_s, mpps, gbps, ns_per_pkt,
cycles_per_pkt, hw_*, c2c_*, rss_*) emptied: times under valgrind mean
nothing. The simulated caches are fixed, not read from the machine, so the
counts are the same on any x86-64 host running the same binary:
I1 and D1 32 KiB 8-way, LL 32 MiB 16-way, 64-byte lines.

--by-source CSV also attributes each packet's instructions to the source
file they were compiled from (callgrind_annotate on the same dumps): with
link-time optimisation the ring, tracking, DMA and device code is inlined
into the packet loop, so the file names the module that did the work
(ring/vq_split.c, ring/vq_track.c, dma/..., dev/dev_sw.c,
dev/dev_payload.h, bench/vqb_traffic_loop.c; libc and the loader as
"libc / other"). One row per configuration and source: layout, policy,
descs, dma, source, instructions_per_pkt, share (of the configuration's
total), command. scripts/perf_report.py renders it.

--device vhost-user:SOCKET counts vqbench's loop against a running vhost-user
backend instead (scripts/vhost-backend.sh; scripts/peer-callgrind.sh starts
one): only vqbench's side is counted. vqbench runs with VQB_VU_SETTLE=1:
before each reap the device waits until the backend has consumed every
chain posted (dev/dev_vu_settle.h), inside dev_vu_settle, which a second
--toggle-collect leaves out; so every poll finds a whole burst, idle polls
of a backend that is not ready (descheduled) are not counted, and the
counts repeat. The per-poll cost is still in them.

The counts repeat exactly for one binary; they change with the compiler,
flags and code, which is what a `count` bound in a thresholds file is for.
SMALL should be at least twice the largest --queue-size so both runs are
in steady state. --layout rte_ring (DPDK's ring, the ceiling) is counted
inside its own loop, vqb_rte_ring_drive in bench/vqb_rte_ring.c: enqueue a
burst, the inline device dequeues, verifies and returns it, dequeue; there
is no ring/tracking/DMA split for it. callgrind honours one collection
function per run, so --layout rte_ring is counted in a sweep of its own
(mixed with split or packed it is refused).

DPDK's EAL cannot map hugepages under valgrind: when hugetlbfs is mounted,
vqbench runs in a private mount namespace (unshare -m, root only) where it
is unmounted, so the EAL falls back to --no-huge (4 KiB pages). Footprint and
call counts are the same either way.

Exit: 0 ok, 1 a run failed or the dumps do not match the rows, 2 bad usage
or the machine lacks valgrind / cannot hide hugepages.
"""
import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from callgrind_dump import Names

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=33554432,16,64"]
BLANK = ["elapsed_s", "mpps", "gbps", "ns_per_pkt", "cycles_per_pkt", "hw_cycles_per_pkt",
         "hw_instructions_per_pkt", "hw_l1d_misses_per_pkt", "hw_llc_misses_per_pkt",
         "hw_dtlb_misses_per_pkt", "c2c_ns_before", "c2c_ns_after", "rss_bytes",
         "rss_delta_bytes"]
FORCED = ["--device", "--packets", "--seconds", "--warmup", "--reps", "--csv", "--order",
          "--quiet", "-q"]
DEFAULT_SWEEP = ["--layout", "split,packed", "--descs", "1,4",
                 "--policy", "full,compact,skip,premapped"]
PARAMS = ["layout", "queue_size", "descs", "pkt_bytes", "indirect", "in_order", "event_idx",
          "batch", "dir", "policy", "dma", "device", "mem_node", "unsafe"]


def die(code, text):
    print(f"callgrind-counts.py: {text}", file=sys.stderr)
    sys.exit(code)


def usage():
    print(__doc__.split("\n\n")[0] + "\n\nSee the top of scripts/callgrind-counts.py.")
    sys.exit(0)


def hugetlbfs_mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[2] == "hugetlbfs" for line in f if len(line.split()) > 2)


def dump_files(prefix):
    """The dumps prefix.PID.K, ordered by K (one per configuration)."""
    files = [f for f in glob.glob(prefix + ".*.*") if f.rsplit(".", 1)[1].isdigit()]
    return sorted(files, key=lambda f: int(f.rsplit(".", 1)[1]))


def source_name(path):
    """A source path as the table names it: ring/..., dma/..., dev/...,
    bench/... inside the project; libc, the loader and unknown code
    together as "libc / other"."""
    m = re.search(r"(?:^|/)((?:ring|dma|dev|bench)/[^/]+)$", path)
    return m.group(1) if m and not path.startswith("/usr") else "libc / other"


def by_source(dump):
    """{source file: instructions} of one dump: the self cost (Ir) of each
    cost line, under the file that fl=/fi=/fe= last named (fi/fe: code
    inlined from another file). The cost line after calls= is the callee's
    inclusive cost and is skipped, so nothing counts twice. Read from the
    dump itself: callgrind_annotate credits the callers still on the stack
    with the whole dump from the second --dump-after dump on."""
    resolve, cur, skip, out = Names(), "libc / other", False, {}
    with open(dump) as f:
        for line in f:
            c = line[:1]
            if c in "0123456789+-*":
                if skip:
                    skip = False
                    continue
                costs = line.split()
                if len(costs) > 1:
                    out[cur] = out.get(cur, 0) + int(costs[1])
            elif line.startswith(("fl=", "fi=", "fe=")):
                cur = source_name(resolve(line[3:]))
            elif line.startswith(("cfi=", "cfl=")):
                resolve(line[4:])  # may define a name used later
            elif line.startswith("calls="):
                skip = True
    return out


def read_dumps(prefix, sources=False):
    """Totals of each dump (a list of dicts, configuration order); with
    sources, each dict also holds {'by_source': by_source(dump)}."""
    out = []
    for path in dump_files(prefix):
        events = totals = None
        with open(path) as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("totals:"):
                    totals = [int(x) for x in line.split()[1:]]
        if events is None or totals is None:
            die(1, f"callgrind dump {os.path.basename(path)} has no events/totals line")
        totals += [0] * (len(events) - len(totals))  # callgrind omits trailing zeros
        d = dict(zip(events, totals))
        if sources:
            d["by_source"] = by_source(path)
        out.append(d)
    return out


def loop_function(sweep):
    """The function whose calls are counted: the virtqueue packet loop, or
    rte_ring's (bench/vqb_rte_ring.c) when the sweep's layout is rte_ring.
    callgrind takes one collection function per run, so the two never mix."""
    layouts = []
    for i, a in enumerate(sweep):
        if a == "--layout" and i + 1 < len(sweep):
            layouts += sweep[i + 1].split(",")
        elif a.startswith("--layout="):
            layouts += a.split("=", 1)[1].split(",")
    if "rte_ring" not in layouts:
        return "vqb_traffic_run_sync"
    if set(layouts) != {"rte_ring"}:
        die(2, f"--layout {','.join(layouts)}: count rte_ring in a sweep of its own "
               "(callgrind collects inside one loop function per run)")
    return "vqb_rte_ring_drive"


def run(vqbench, n, sweep, tmp, private_ns, sources=False, device="inline"):
    prefix = os.path.join(tmp, f"cg{n}")
    out_csv = os.path.join(tmp, f"run{n}.csv")
    loop = loop_function(sweep)
    # vhost-user: the device waits for the backend to catch up before each
    # reap (VQB_VU_SETTLE=1, dev/dev_vu_settle.h), in dev_vu_settle, which a
    # second toggle leaves out of the count: idle polls and partial bursts
    # drop out, so the counts repeat
    settle = [] if device == "inline" else ["--toggle-collect=dev_vu_settle*"]
    cmd = ["valgrind", "--tool=callgrind", f"--toggle-collect={loop}", *settle,
           f"--dump-after={loop}", "--cache-sim=yes", *CACHES,
           f"--callgrind-out-file={prefix}.%p", vqbench, "--device", device,
           "--packets", str(n), "--warmup", "0", "--reps", "1", "--order", "sequential",
           "--quiet", "--csv", out_csv, *sweep]
    if private_ns:
        # A private mount namespace where hugetlbfs is unmounted: the EAL
        # then takes --no-huge (it cannot map hugepages under valgrind).
        cmd = ["unshare", "-m", "sh", "-c", 'umount -a -t hugetlbfs && exec "$@"', "sh", *cmd]
    env = dict(os.environ, VQB_VU_SETTLE="1") if settle else None
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if p.returncode != 0:
        tail = "\n".join(p.stdout.splitlines()[-15:])
        die(1, f"vqbench --packets {n} under callgrind exited {p.returncode}:\n{tail}")
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    dumps = read_dumps(prefix, sources)
    if len(dumps) != len(rows):
        die(1, f"--packets {n}: {len(dumps)} callgrind dumps for {len(rows)} CSV rows "
               "(a run failed or was refused; see vqbench's output without this script)")
    return rows, dumps


def main(argv):
    vqbench = os.path.join(REPO, "build", "release", "bench", "vqbench")
    small, large, out, src_out, device = 2000, 12000, None, None, "inline"
    sweep = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            usage()
        elif a == "--":
            sweep = argv[i + 1:]
            break
        elif a in ("--vqbench", "--packets", "--csv", "--by-source", "--device") and i + 1 < len(argv):
            v = argv[i + 1]
            i += 1
            if a == "--vqbench":
                vqbench = v
            elif a == "--device":
                if v != "inline" and not (v.startswith("vhost-user:") and len(v) > len("vhost-user:")):
                    die(2, f"--device: '{v}' (allowed: inline, vhost-user:SOCKET)")
                device = v
            elif a == "--csv":
                out = v
            elif a == "--by-source":
                src_out = v
            else:
                try:
                    small, large = (int(x) for x in v.split(","))
                except ValueError:
                    die(2, f"--packets: '{v}' is not SMALL,LARGE (two whole numbers)")
                if not 0 < small < large:
                    die(2, f"--packets: '{v}' needs 0 < SMALL < LARGE")
        else:
            die(2, f"unknown argument '{a}' (allowed: --vqbench PATH, --packets SMALL,LARGE, "
                   "--device inline|vhost-user:SOCKET, --csv OUT, --by-source CSV, -- vqbench options)")
        i += 1
    if not out:
        die(2, "--csv OUT is required (the CSV to write)")
    for a in sweep:
        if a.split("=", 1)[0] in FORCED:
            die(2, f"'{a}' is set by this script (inline device, --packets, one repetition); "
                   "give only sweep options after --")
    if not sweep:
        sweep = DEFAULT_SWEEP
    if not os.access(vqbench, os.X_OK):
        die(2, f"--vqbench: '{vqbench}' is not an executable (build with scripts/build.sh)")
    if not shutil.which("valgrind"):
        die(2, "valgrind not found (scripts/install-deps.sh installs it)")
    private_ns = hugetlbfs_mounted()
    if private_ns and (os.geteuid() != 0 or not shutil.which("unshare")):
        die(2, "hugetlbfs is mounted and the EAL cannot use hugepages under valgrind; hiding it "
               "needs root and unshare (run as root, or unmount hugetlbfs)")

    with tempfile.TemporaryDirectory(prefix="vqb-cg-") as tmp:
        rows_s, dumps_s = run(vqbench, small, sweep, tmp, private_ns, src_out is not None, device)
        rows_l, dumps_l = run(vqbench, large, sweep, tmp, private_ns, src_out is not None, device)
    if len(rows_s) != len(rows_l):
        die(1, f"{len(rows_s)} rows at --packets {small}, {len(rows_l)} at {large}")
    dn = large - small
    out_rows, src_rows = [], []
    dev_arg = "" if device == "inline" else f" --device {device}"
    cmdline = f"scripts/callgrind-counts.py --packets {small},{large}{dev_arg} -- {' '.join(sweep)}"
    for rs, rl, ds, dl in zip(rows_s, rows_l, dumps_s, dumps_l):
        if [rs[k] for k in PARAMS] != [rl[k] for k in PARAMS]:
            die(1, "the two runs' configurations differ in order")
        if int(rs["packets"]) != small or int(rl["packets"]) != large:
            die(1, f"configuration {rl['config']}: {rs['packets']} and {rl['packets']} packets "
                   f"completed, asked {small} and {large}")

        def per(keys):
            return sum(dl.get(k, 0) - ds.get(k, 0) for k in keys) / dn
        r = dict(rl)
        r["cg_instructions_per_pkt"] = f"{per(['Ir']):.6g}"
        r["cg_d1_misses_per_pkt"] = f"{per(['D1mr', 'D1mw']):.6g}"
        r["cg_ll_misses_per_pkt"] = f"{per(['ILmr', 'DLmr', 'DLmw']):.6g}"
        for k in BLANK:
            r[k] = ""
        out_rows.append(r)
        if src_out is not None:
            a, b = ds["by_source"], dl["by_source"]
            per_src = {k: (b.get(k, 0) - a.get(k, 0)) / dn for k in set(a) | set(b)}
            per_src = {k: v for k, v in per_src.items() if abs(v) >= 0.05}
            total = sum(per_src.values())
            for k, v in sorted(per_src.items(), key=lambda x: -x[1]):
                src_rows.append({"layout": rl["layout"], "policy": rl["policy"], "descs": rl["descs"],
                                 "dma": rl["dma"], "source": k, "instructions_per_pkt": f"{v:.1f}",
                                 "share": f"{v / total if total else 0:.3f}", "command": cmdline})
    fields = list(rows_l[0].keys()) if rows_l else []
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(out_rows)
    if src_out is not None:
        with open(src_out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["layout", "policy", "descs", "dma", "source",
                                              "instructions_per_pkt", "share", "command"],
                               lineterminator="\n")
            w.writeheader()
            w.writerows(src_rows)
        print(f"callgrind-counts.py: instructions per packet by source file written to {src_out}")
    print(f"callgrind-counts.py: {len(out_rows)} configurations, counts per packet from "
          f"--packets {large} minus {small}, written to {out}")
    for r in out_rows:
        label = " ".join(r[k] for k in ["layout", "policy", "dma", "dir"]) + f" q={r['queue_size']} descs={r['descs']}"
        print(f"  {label:<44} {float(r['cg_instructions_per_pkt']):9.1f} instr  "
              f"{float(r['cg_d1_misses_per_pkt']):7.2f} D1 miss  {float(r['cg_ll_misses_per_pkt']):7.3f} LL miss")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
