#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""soak.py - run vqbench on the two-thread software device for a given time
across layouts, tracking policies and DMA backends, with faults injected in
the middle, every payload verified; write a CSV and results/SOAK.md from it.

What runs, in turn, until the time is up:
  sweep   one long-lived vqbench process: --layout split,packed x every
          --policy x every --dma backend (pa only as root), with knobs drawn
          from the seed (queue size, descriptors per packet, packet size,
          batch, direction, indirect, in-order, event idx), several
          repetitions interleaved; its resident set (the CSV's rss_bytes)
          is compared between the first and the last repetition of each
          configuration: it must stay flat (growth <= --rss-slack-kib)
  random  a handful of one-configuration runs with every knob drawn,
          including the backend knobs (iommu strict/lazy, forced bouncing,
          DMA alignment, the non-coherent cache model)
Faults, once each, in the middle of the soak:
  sigint        SIGINT to a running sweep after it wrote a row: vqbench must
                exit 130 and leave only whole rows, every one of them ok
  backend-kill  vqbench on --device vhost-user against DPDK's vhost backend
                (scripts/vhost-backend.sh, io mode, --dir both: every payload
                comes back and is verified); the backend is killed (SIGKILL)
                mid-run: vqbench must exit 1 within 10 s naming the socket,
                its rows whole; then a new backend starts and a vhost-user
                sweep over every policy must pass (the backend's resident
                set is read at that run's start and end)
A process still running when the time is up gets SIGINT (fault 'deadline').

vqbench checks every byte of every packet and exits 1 on a lost or
corrupted packet, a broken queue, a leaked mapping, a device fault or a
DMA-debug report. A run counts as an error when its exit status is not the
expected one, a row is not ok, a row has payload errors, lost bytes or
leaked mappings, or its resident set grew.

  scripts/soak.py --minutes 30                  # results/soak-<UTC>.csv, results/SOAK.md
  scripts/soak.py --short --dir /tmp/s          # about a minute (the CTest test_soak_short)
  scripts/soak.py --report results/soak-20261204-230000.csv   # SOAK.md again from the CSV

Writing into results/ needs a clean git tree (--allow-dirty writes anyway
and marks the CSV's git_rev '-dirty'). The vhost-user fault needs root,
dpdk-testpmd and 64 free 2 MiB hugepages (scripts/hugepages.sh); without
them the soak stops with exit 2 naming what is missing, unless --no-vhost.
Exit status: 0 every check passed, 1 an error, 2 bad usage or a missing
prerequisite, 130 interrupted (the CSV and report hold what finished).
The same --seed replays the same sequence of configurations.
"""
import argparse
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICIES = ["full", "compact", "readback", "skip", "premapped", "driver-array", "retrieve", "adaptive"]
PROC_COLS = ["proc", "kind", "fault", "device", "t_start_s", "seconds", "rc", "expected_rc", "rows", "rows_ok",
             "skipped_configs", "packets", "errors", "lost_bytes", "leaked", "rss_start_kib", "rss_end_kib",
             "rss_growth_max_kib", "rss_slack_kib", "backend_rss_start_kib", "backend_rss_end_kib", "result", "note", "args"]
ROW_COLS = ["proc", "layout", "policy", "dma", "dir", "queue_size", "descs", "pkt_bytes", "config", "rep",
            "status", "packets", "errors", "lost_bytes", "leaked_mappings", "rss_bytes"]


def draw(rng, is_root):
    """One configuration vqbench accepts, as a list of arguments."""
    layout = rng.choice(["split", "packed"])
    if layout == "split":
        qs = rng.choice([4, 8, 16, 64, 256, 1024, 4096])
    else:
        qs = rng.choice([rng.randint(2, 64), rng.randint(65, 4096), 256, 1024])
    indirect = rng.random() < 0.3
    kind = rng.random()
    if kind < 0.15:
        descs, hi = "mix", 19
    elif kind < 0.4:
        lo = rng.randint(1, 10)
        hi = rng.randint(lo, 19)
        descs = "%d-%d" % (lo, hi)
    else:
        hi = rng.choice([1, 1, 2, 3, 4, 4, 8, 19, rng.randint(1, 19)])
        descs = str(hi)
    if not indirect and hi > qs:
        hi = qs
        descs = str(hi)
    # at most 4000 bytes: larger single-buffer packets need a DPDK mempool
    # arena over 2 MiB, which vqbench cannot get yet (see the issue 12 note)
    pkt = rng.choice([8, 64, 64, 256, 1500, 4000, rng.randint(8, 4000)])
    pkt = max(pkt, hi - 1, 8)
    # keep each queue's buffer pool within 32 MiB: vqbench's DPDK heap is
    # 256 MiB (--socket-mem) and other processes may share the hugepages
    chains = qs if indirect else qs // (1 if descs == "mix" else int(descs.split("-")[0]))
    while pkt > 64 and chains * hi * max(64, 1 << (pkt + 12 - 1).bit_length()) > (32 << 20):
        pkt //= 2
    batch = rng.randint(1, min(qs, 64))
    direction = rng.choice(["tx", "rx", "both"])
    dma = rng.choice(["identity", "identity", "iommu", "bounce", "noncoherent", "debug"] +
                     (["pa"] if is_root else []))
    extra = []
    bouncing = False
    if dma == "iommu":
        extra += ["--iommu", rng.choice(["strict", "lazy"])]
    elif dma == "noncoherent":
        extra += ["--nc-model", rng.choice(["on", "off"])]
    elif dma in ("identity", "pa") and rng.random() < 0.25:
        bouncing = True
        if rng.random() < 0.5:
            extra += ["--force-bounce", "on"]
        else:
            extra += ["--dma-align", str(rng.choice([64, 256, 2048]))]
    needs_unmap = dma not in ("identity", "pa") or bouncing
    needs_sync = dma in ("bounce", "noncoherent") or (bouncing and "--force-bounce" in extra)
    pols = [p for p in POLICIES
            if not (p == "readback" and layout == "packed")
            and not (p == "skip" and needs_unmap)
            and not (p == "premapped" and (needs_sync or bouncing))
            # debug tracks at most 32767 live mappings; premapped maps its
            # whole arena (both queues with --dir both)
            and not (p == "premapped" and dma == "debug" and 2 * chains * hi > 32000)]
    policy = rng.choice(pols)
    return ["--layout", layout, "--queue-size", str(qs), "--descs", descs, "--pkt-bytes", str(pkt),
            "--batch", str(batch), "--dir", direction, "--policy", policy, "--dma", dma,
            "--indirect", "on" if indirect else "off",
            "--in-order", rng.choice(["on", "off"]), "--event-idx", rng.choice(["on", "off"])] + extra


def draw_sweep_knobs(rng):
    """Knobs for a sweep over every layout, policy and backend: sizes every
    combination accepts (premapped on debug stays under its 32767 live
    mappings, pools stay small), so a refusal is only a policy rule."""
    qs = rng.choice([64, 128, 256, 512])
    descs = rng.choice(["1", "2", "4", "1-4", "mix"])
    hi = 19 if descs == "mix" else int(descs.split("-")[-1])
    pkt = max(rng.choice([64, 64, 256, 1500, rng.randint(19, 2048)]), hi)
    return ["--queue-size", str(qs), "--descs", descs, "--pkt-bytes", str(pkt),
            "--batch", str(rng.randint(1, min(qs, 64))), "--dir", rng.choice(["tx", "rx", "both"]),
            "--indirect", rng.choice(["on", "off"]), "--in-order", rng.choice(["on", "off"]),
            "--event-idx", rng.choice(["on", "off"])]


def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def read_rows(path):
    """(rows, problem): the vqbench CSV's rows, and what is wrong with the
    file if a line is half written or has the wrong number of fields."""
    if not os.path.exists(path):
        return [], None
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        return [], "the CSV ends inside a line"
    lines = list(csv.reader(data.decode(errors="replace").splitlines()))
    if not lines:
        return [], None
    head = lines[0]
    for i, r in enumerate(lines[1:], 2):
        if len(r) != len(head):
            return [], "CSV line %d has %d fields, the header %d" % (i, len(r), len(head))
    return [dict(zip(head, r)) for r in lines[1:]], None


class Soak:
    def __init__(self, o, outdir, stem, rev):
        self.o, self.outdir, self.stem, self.rev = o, outdir, stem, rev
        self.rng = random.Random(o.seed)
        self.is_root = os.geteuid() == 0
        self.nproc = 0
        self.t0 = time.monotonic()
        self.deadline = self.t0 + o.total_s
        self.work = tempfile.mkdtemp(prefix="vqb-soak-")
        self.procs_f = open(os.path.join(outdir, stem + ".csv"), "w", newline="")
        self.procs = csv.DictWriter(self.procs_f, ["soak_seed", "git_rev"] + PROC_COLS)
        self.procs.writeheader()
        self.rows_f = open(os.path.join(outdir, stem + "-rows.csv"), "w", newline="")
        self.rows = csv.DictWriter(self.rows_f, ROW_COLS)
        self.rows.writeheader()
        self.failures = 0
        self.child = None
        self.backend_pid = None

    def now(self):
        return time.monotonic() - self.t0

    def log(self, msg):
        print("soak [%5.0f s] %s" % (self.now(), msg), flush=True)

    def run(self, kind, args, expect=0, fault="none", device="thread", sigint_at=None, on_start=None,
            backend_pid=None, kill_backend_at=None):
        """One vqbench process; returns the dict written to the CSV."""
        self.nproc += 1
        pid_n = self.nproc
        csv_path = os.path.join(self.work, "p%d.csv" % pid_n)
        err_path = os.path.join(self.work, "p%d.err" % pid_n)
        dev = ["--device", device]
        cmd = [self.o.vqbench] + args + dev + ["--warmup", "0", "-q", "--csv", csv_path]
        t_start = self.now()
        errf = open(err_path, "w")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
        self.child = p
        if on_start:
            on_start(p)
        sent = None
        killed_at = None
        rows_at_kill = 0
        hung = False
        be_rss = [None, None]
        while p.poll() is None:
            time.sleep(0.2)
            if backend_pid:
                r = vm_rss_kib(backend_pid)
                if r is not None:
                    be_rss[1] = r
                    be_rss[0] = be_rss[0] or r
            nrows = len(read_rows(csv_path)[0]) if (sigint_at or kill_backend_at) and not sent else 0
            if sent is None and sigint_at is not None and self.now() >= sigint_at and nrows >= 1:
                p.send_signal(signal.SIGINT)
                sent = self.now()
                self.log("fault sigint: SIGINT to vqbench (pid %d) after %d rows" % (p.pid, nrows))
            if sent is None and kill_backend_at is not None and self.now() >= kill_backend_at and nrows >= 1:
                os.kill(self.backend_pid, signal.SIGKILL)
                sent = killed_at = self.now()
                rows_at_kill = nrows
                self.log("fault backend-kill: SIGKILL to the vhost backend after %d rows" % nrows)
            if sent is None and time.monotonic() >= self.deadline and fault == "none":
                p.send_signal(signal.SIGINT)
                sent = self.now()
                fault, expect = "deadline", 130
                self.log("time is up: SIGINT to vqbench (pid %d)" % p.pid)
            if killed_at is not None and self.now() - killed_at > 10:
                p.kill()
                break
            if sent is not None and fault in ("sigint", "deadline") and self.now() - sent > 30:
                p.kill()
                hung = True
                break
        rc = p.wait()
        self.child = None
        self.backend_pid = None
        errf.close()
        err = open(err_path, errors="replace").read()
        rows, problem = read_rows(csv_path)
        notes = []
        if problem:
            notes.append(problem)
        if killed_at is not None and self.now() - killed_at > 10:
            notes.append("vqbench did not exit within 10 s of the backend's death")
        if fault == "backend-kill" and killed_at is None:
            notes.append("the backend was not killed (no row written before vqbench ended)")
        if fault == "backend-kill" and self.o.sock not in err:
            notes.append("vqbench's message does not name the socket")
        if hung:
            notes.append("vqbench did not exit within 30 s of SIGINT (SIGKILLed)")
        if fault == "sigint" and sent is None:
            notes.append("no SIGINT sent (the sweep ended before a row was written)")
        # at the deadline the last row may have been written as SIGINT came
        rc_expected = rc == expect or (fault == "deadline" and rc == 0)
        if not rc_expected:
            notes.append("exit %d, expected %d" % (rc, expect))
        rec = {"proc": pid_n, "kind": kind, "fault": fault, "device": device.split(":")[0],
               "t_start_s": "%.0f" % t_start, "seconds": "%.1f" % (self.now() - t_start), "rc": rc,
               "expected_rc": expect, "rows": len(rows),
               "skipped_configs": err.count("vqbench: skipping configuration"),
               "backend_rss_start_kib": be_rss[0] if be_rss[0] is not None else "",
               "backend_rss_end_kib": be_rss[1] if be_rss[1] is not None else "",
               "rss_slack_kib": self.o.rss_slack_kib, "args": " ".join(args + dev).replace(self.o.sock, "SOCK")}
        tot = {"ok": 0, "packets": 0, "errors": 0, "lost": 0, "leaked": 0}
        first, last, reps = {}, {}, {}
        for r in rows:
            self.rows.writerow({k: (pid_n if k == "proc" else r.get(k, "")) for k in ROW_COLS})
            ok = r["status"] == "ok"
            tot["ok"] += ok
            tot["packets"] += int(r["packets"] or 0)
            tot["errors"] += int(r["errors"] or 0)
            tot["lost"] += int(r["lost_bytes"] or 0)
            tot["leaked"] += int(r["leaked_mappings"] or 0)
            if ok and r["rss_bytes"]:
                first.setdefault(r["config"], int(r["rss_bytes"]))
                last[r["config"]] = int(r["rss_bytes"])
                reps[r["config"]] = reps.get(r["config"], 0) + 1
        if fault == "backend-kill":
            # the runs after the kill fail, each with a row naming the socket
            bad = [r for r in rows if r["status"] != "ok"]
            if tot["ok"] < rows_at_kill:
                notes.append("%d rows ok, %d were written before the kill" % (tot["ok"], rows_at_kill))
            if not bad:
                notes.append("no run failed after the backend's death")
            if any(self.o.sock not in r["error"] for r in bad):
                notes.append("a failed row's error does not name the socket")
        elif tot["ok"] != len(rows):
            notes.append("%d rows not ok" % (len(rows) - tot["ok"]))
        if tot["errors"] or tot["lost"] or tot["leaked"]:
            notes.append("%d payload errors, %d bytes lost, %d leaked mappings" %
                         (tot["errors"], tot["lost"], tot["leaked"]))
        if fault == "none" and not rows:
            notes.append("no rows")
        # a configuration's RSS after its first and its last repetition
        again = [c for c in first if reps[c] > 1]
        growth = [(last[c] - first[c]) // 1024 for c in again]
        if again:
            rec["rss_start_kib"], rec["rss_end_kib"] = first[again[0]] // 1024, last[again[0]] // 1024
        gmax = max(growth) if growth else 0
        rec["rss_growth_max_kib"] = gmax if growth else ""
        if gmax > self.o.rss_slack_kib:
            notes.append("resident set grew %d KiB between the first and last repetition" % gmax)
        if be_rss[0] is not None and be_rss[1] - be_rss[0] > self.o.rss_slack_kib:
            notes.append("the backend's resident set grew %d KiB" % (be_rss[1] - be_rss[0]))
        rec.update({"rows_ok": tot["ok"], "packets": tot["packets"], "errors": tot["errors"],
                    "lost_bytes": tot["lost"], "leaked": tot["leaked"],
                    "result": "FAIL" if notes else "pass", "note": "; ".join(notes)})
        self.procs.writerow(dict(rec, soak_seed=self.o.seed, git_rev=self.rev))
        self.procs_f.flush()
        self.rows_f.flush()
        if notes:
            self.failures += 1
            self.log("FAIL %s %s: %s\n  %s\n  stderr: %s" % (kind, fault, "; ".join(notes), " ".join(cmd),
                                                              err.strip()[-2000:]))
        elif fault == "backend-kill":
            self.log("pass vhost (backend-kill): %d rows ok before and %d failed after the kill, exit %d" %
                     (tot["ok"], len(rows) - tot["ok"], rc))
        else:
            self.log("pass %s%s: %d rows, %d packets, RSS growth max %s KiB (%.0f s)" %
                     (kind, "" if fault == "none" else " (" + fault + ")", len(rows), tot["packets"],
                      rec["rss_growth_max_kib"], float(rec["seconds"])))
        return rec

    def sweep_args(self, knobs):
        dmas = ["identity", "iommu", "bounce", "noncoherent", "debug"] + (["pa"] if self.is_root else [])
        pols = POLICIES
        if self.o.short:
            dmas = sorted(self.rng.sample(dmas, 2))
            pols = sorted(self.rng.sample(POLICIES, 2))
        return (["--layout", "split,packed", "--policy", ",".join(pols), "--dma", ",".join(dmas)] + knobs +
                ["--packets", str(self.o.sweep_packets), "--reps", str(self.o.sweep_reps), "--order", "interleave"])

    def vhost(self, kill):
        """A vhost-user sweep against a fresh DPDK backend; kill: SIGKILL the
        backend after the first row (vqbench must notice and exit 1)."""
        sock = self.o.sock
        be = os.path.join(ROOT, "scripts", "vhost-backend.sh")
        p = subprocess.run([be, "start", sock, "io", "1"], capture_output=True, text=True)
        if p.returncode != 0:
            self.failures += 1
            self.log("FAIL: the vhost backend did not start: %s" % (p.stdout + p.stderr).strip())
            return
        try:
            pid = int(open(sock + ".pid").read())
            self.backend_pid = pid
            pols = POLICIES if not self.o.short else ["full", "premapped"]
            args = ["--layout", "split,packed", "--policy", ",".join(pols), "--dma", "identity", "--dir", "both",
                    "--queue-size", "256", "--descs", self.rng.choice(["1", "2", "4"]),
                    "--in-order", self.rng.choice(["on", "off"]), "--packets", str(2 * self.o.sweep_packets),
                    "--reps", "1" if kill else str(self.o.sweep_reps)]
            if kill:
                self.run("vhost", args, expect=1, fault="backend-kill", device="vhost-user:" + sock,
                         kill_backend_at=self.now() + self.rng.uniform(0, 2))
            else:
                self.run("vhost", args, device="vhost-user:" + sock, backend_pid=pid)
        finally:
            subprocess.run([be, "stop", sock], capture_output=True)

    def main_loop(self):
        T = self.o.total_s
        # short: the faults first, the time left for random runs
        t_vhost = 0 if self.o.short else 0.25 * T
        t_sigint = 0.5 * T
        vhost_done = self.o.no_vhost
        sigint_done = False
        turn = 0
        while self.now() < T or not sigint_done:
            if not vhost_done and self.now() >= t_vhost:
                vhost_done = True
                self.vhost(kill=True)
                self.vhost(kill=False)
                continue
            if turn % 2 == 0:
                knobs = draw_sweep_knobs(self.rng)
                if not sigint_done and (self.o.short or self.now() >= 0.8 * t_sigint):
                    sigint_done = True
                    # timed repetitions (not a packet count): the sweep runs for
                    # seconds however fast the machine is, so the SIGINT after
                    # its first row always lands mid-sweep (a quiet machine
                    # finished a packet-count sweep before its first poll)
                    args = self.sweep_args(knobs)
                    i = args.index("--packets")
                    args[i:i + 2] = ["--seconds", "0.5"]
                    self.run("sweep", args, expect=130, fault="sigint",
                             sigint_at=self.now() if self.o.short else max(t_sigint, self.now() + 1))
                else:
                    self.run("sweep", self.sweep_args(knobs))
            else:
                for _ in range(self.o.random_runs):
                    if self.now() >= T:
                        break
                    n = self.rng.randint(*self.o.packets)
                    self.run("random", draw(self.rng, self.is_root) + ["--packets", str(n), "--reps", "1"])
            turn += 1


def git_rev(allow_dirty, writes_results):
    try:
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--long", "--abbrev=12"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if dirty:
        if writes_results and not allow_dirty:
            print("soak.py: the git tree has uncommitted changes; results/ takes only runs of committed code "
                  "(commit first, or --allow-dirty to mark the outputs dirty):\n" + dirty, file=sys.stderr)
            sys.exit(2)
        rev += "-dirty"
    return rev


def report(csv_path, out):
    """SOAK.md from a soak CSV and its -rows.csv."""
    procs = list(csv.DictReader(open(csv_path)))
    rows = list(csv.DictReader(open(csv_path[:-4] + "-rows.csv")))
    if not procs:
        sys.exit("soak.py: %s has no runs" % csv_path)
    name = os.path.basename(csv_path)
    n = lambda k: sum(int(p[k] or 0) for p in procs)
    fails = [p for p in procs if p["result"] != "pass"]
    secs = max(float(p["t_start_s"]) + float(p["seconds"]) for p in procs)
    L = ["# Soak", "",
         "Generated by `scripts/soak.py` from `%s` and `%s` (seed %s, git %s); "
         "regenerate with `scripts/soak.py --report results/%s`." %
         (name, name[:-4] + "-rows.csv", procs[0]["soak_seed"], procs[0]["git_rev"], name), "",
         "| | |", "| --- | --- |",
         "| duration | %.0f s |" % secs,
         "| vqbench processes | %d (%d failed) |" % (len(procs), len(fails)),
         "| rows (runs) | %d: %d ok, %d failed as the backend-kill fault requires |" %
         (n("rows"), n("rows_ok"), sum(int(p["rows"]) - int(p["rows_ok"]) for p in procs
                                       if p["fault"] == "backend-kill" and p["result"] == "pass")),
         "| packets verified | %d |" % n("packets"),
         "| payload errors | %d |" % n("errors"),
         "| bytes lost | %d |" % n("lost_bytes"),
         "| leaked mappings | %d |" % n("leaked"),
         "| configurations vqbench refused (its policy rules) | %d |" % n("skipped_configs"),
         "| result | %s |" % ("**pass**: every run as expected, 0 errors" if not fails else
                                "**FAIL**: %d processes" % len(fails)), ""]
    L += ["## Coverage", "", "Rows and packets by layout, policy and DMA backend (rows of every process).", ""]
    for key in ("layout", "policy", "dma"):
        agg = {}
        for r in rows:
            a = agg.setdefault(r[key], [0, 0])
            a[0] += 1
            a[1] += int(r["packets"] or 0)
        L.append("- %s: %s" % (key, ", ".join("%s %d rows / %d packets" % (k, v[0], v[1])
                                              for k, v in sorted(agg.items()))))
    dev = {}
    for p in procs:
        dev[p["device"]] = dev.get(p["device"], 0) + int(p["packets"] or 0)
    L.append("- device: %s" % ", ".join("%s %d packets" % kv for kv in sorted(dev.items())))
    L += ["", "## Faults", "",
          "| process | fault | started at s | exit (expected) | rows (ok) | result | what was checked |",
          "| --- | --- | --- | --- | --- | --- | --- |"]
    what = {"sigint": "SIGINT mid-sweep: exit 130, only whole rows left, each ok",
            "backend-kill": ("vhost backend SIGKILLed mid-run: rows before it ok, every run after it failed with a row naming "
                             "the socket, exit 1 within 10 s, rows whole"),
            "deadline": "SIGINT when the soak's time was up: exit 130 (or 0 if it had just finished), rows whole"}
    for p in procs:
        if p["fault"] != "none":
            L.append("| %s | %s | %s | %s (%s) | %s (%s) | %s | %s |" %
                     (p["proc"], p["fault"], p["t_start_s"], p["rc"], p["expected_rc"], p["rows"], p["rows_ok"],
                      p["result"], what.get(p["fault"], "")))
    after = [p for p in procs if p["kind"] == "vhost" and p["fault"] == "none"]
    for p in after:
        L.append("")
        L.append("After the backend kill, a new backend served process %s: %s rows, %s packets, exit %s, %s; "
                 "the backend's resident set %s KiB at the start, %s KiB at the end." %
                 (p["proc"], p["rows"], p["packets"], p["rc"], p["result"], p["backend_rss_start_kib"] or "?",
                  p["backend_rss_end_kib"] or "?"))
    # per process and configuration, rss_bytes (KiB) of each ok repetition
    reps = {}
    for r in rows:
        if r["status"] == "ok" and r["rss_bytes"]:
            reps.setdefault(r["proc"], {}).setdefault(r["config"], []).append(int(r["rss_bytes"]) // 1024)

    def after_warmup(proc):
        """largest and median growth from the 2nd to the last repetition"""
        g = sorted(v[-1] - v[1] for v in reps.get(proc, {}).values() if len(v) > 2)
        return ("%d / %d" % (g[-1], g[len(g) // 2])) if g else ""
    L += ["", "## Resident set", "",
          "Per long-lived process: `rss_bytes` (KiB) of its first configuration at the first and the last "
          "repetition, the largest growth between the first and last repetition of any one configuration "
          "(allowed: %s KiB, --rss-slack-kib), and the largest / median growth from the second to the last "
          "repetition (after the first pass has warmed the allocator)." % procs[0]["rss_slack_kib"], "",
          "| process | kind | fault | seconds | rows | packets | RSS start | RSS end | max growth | "
          "after warm-up: max / median | result |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in procs:
        if p["kind"] != "random":
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" %
                     (p["proc"], p["kind"], p["fault"], p["seconds"], p["rows"], p["packets"], p["rss_start_kib"],
                      p["rss_end_kib"], p["rss_growth_max_kib"], after_warmup(p["proc"]), p["result"]))
    if fails:
        L += ["", "## Failures", ""] + ["- process %s (%s, %s): %s; `%s`" %
                                        (p["proc"], p["kind"], p["fault"], p["note"], p["args"]) for p in fails]
    L += ["", "Arguments of every process are in the CSV's `args` column.", ""]
    with open(out, "w") as f:
        f.write("\n".join(L))
    return not fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--minutes", type=float, help="how long to soak (default 30)")
    g.add_argument("--seconds", type=float, help="how long to soak, in seconds")
    ap.add_argument("--short", action="store_true",
                    help="small sweeps (2 policies x 2 backends), the faults first, 40 s unless --seconds "
                         "(about a minute in all; the CTest test_soak_short)")
    g.add_argument("--report", metavar="CSV", help="only write SOAK.md from a soak CSV (see --out)")
    ap.add_argument("--seed", type=int, default=None, help="PRNG seed (default: time)")
    ap.add_argument("--vqbench", default=os.path.join(ROOT, "build/release/bench/vqbench"),
                    help="the vqbench binary (default build/release/bench/vqbench)")
    ap.add_argument("--packets", default="5000-100000", help="packets per random run, A-B (default 5000-100000)")
    ap.add_argument("--sweep-packets", type=int, default=None, help="packets per sweep run (default 20000; short 2000)")
    ap.add_argument("--sweep-reps", type=int, default=3, help="repetitions per sweep configuration (default 3)")
    ap.add_argument("--random-runs", type=int, default=None, help="random runs between sweeps (default 8; short 3)")
    ap.add_argument("--rss-slack-kib", type=int, default=4096,
                    help="largest allowed growth of a configuration's RSS, first to last repetition (4096)")
    ap.add_argument("--no-vhost", action="store_true", help="leave out the vhost-user backend-kill fault")
    ap.add_argument("--dir", default=None, help="where the CSVs and SOAK.md go (default results/)")
    ap.add_argument("--out", default=None, help="with --report: the Markdown file (default SOAK.md beside the CSV)")
    ap.add_argument("--allow-dirty", action="store_true", help="write into results/ from an uncommitted tree")
    o = ap.parse_args()
    if o.report:
        if not o.report.endswith(".csv") or not os.path.exists(o.report):
            ap.error("--report %s: expected an existing soak CSV" % o.report)
        out = o.out or os.path.join(os.path.dirname(o.report), "SOAK.md")
        ok = report(o.report, out)
        print("soak.py: wrote %s" % out)
        return 0 if ok else 1
    o.total_s = o.seconds if o.seconds is not None else 60 * o.minutes if o.minutes else 40 if o.short else 1800
    if o.total_s < 20 and not o.short:
        ap.error("a soak of %.0f s is too short for its faults (at least 20 s; --short runs them first)" % o.total_s)
    o.sweep_packets = o.sweep_packets or (2000 if o.short else 20000)
    o.random_runs = o.random_runs if o.random_runs is not None else (3 if o.short else 8)
    if o.short:
        o.sweep_reps = 2
        o.packets = "2000-20000" if o.packets == ap.get_default("packets") else o.packets
    o.seed = o.seed if o.seed is not None else int(time.time())
    try:
        o.packets = tuple(int(x) for x in o.packets.split("-"))
        if len(o.packets) != 2 or not 0 < o.packets[0] <= o.packets[1]:
            raise ValueError
    except ValueError:
        ap.error("--packets %s: expected A-B with 0 < A <= B" % o.packets)
    if o.sweep_reps < 2:
        ap.error("--sweep-reps %d: at least 2 (the RSS check compares the first and last repetition)" % o.sweep_reps)
    if not os.access(o.vqbench, os.X_OK):
        print("soak.py: no vqbench at %s (build it: scripts/build.sh)" % o.vqbench, file=sys.stderr)
        return 2
    if not o.no_vhost:
        missing = []
        if os.geteuid() != 0:
            missing.append("root")
        if not shutil.which("dpdk-testpmd"):
            missing.append("dpdk-testpmd (Debian package dpdk)")
        free = 0
        for line in open("/proc/meminfo"):
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
        if free < 64:
            missing.append("64 free 2 MiB hugepages (%d free; scripts/hugepages.sh)" % free)
        if missing:
            print("soak.py: the vhost-user backend-kill fault needs %s; --no-vhost leaves it out"
                  % ", ".join(missing), file=sys.stderr)
            return 2
    # SIGINT as a terminal's Ctrl-C: KeyboardInterrupt here, the default in
    # every vqbench (exec resets a handler, but not SIG_IGN, which a shell
    # gives to background jobs and vqbench then keeps, so the faults would
    # find SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    writes_results = o.dir is None
    outdir = o.dir or os.path.join(ROOT, "results")
    os.makedirs(outdir, exist_ok=True)
    rev = git_rev(o.allow_dirty, writes_results)
    stem = "soak-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    s = Soak(o, outdir, stem, rev)
    o.sock = os.path.join(s.work, "vh.sock")
    s.log("seed %d, %.0f s, vqbench %s, git %s, output %s/%s.csv" % (o.seed, o.total_s, o.vqbench, rev, outdir, stem))
    status = 0
    try:
        s.main_loop()
    except KeyboardInterrupt:
        if s.child and s.child.poll() is None:
            s.child.send_signal(signal.SIGINT)
            s.child.wait()
        print("soak.py: interrupted; what finished is in %s" % s.procs_f.name, file=sys.stderr)
        status = 130
    finally:
        s.procs_f.close()
        s.rows_f.close()
        shutil.rmtree(s.work, ignore_errors=True)
    md = os.path.join(outdir, "SOAK.md")
    ok = report(s.procs_f.name, md)
    procs = list(csv.DictReader(open(s.procs_f.name)))
    print("soak: %d processes, %d rows, %d packets verified, %d payload errors, %d leaked mappings, %d failed" %
          (len(procs), sum(int(p["rows"]) for p in procs), sum(int(p["packets"]) for p in procs),
           sum(int(p["errors"]) for p in procs), sum(int(p["leaked"]) for p in procs), s.failures))
    print("soak: wrote %s and %s; seed %d (replay: --seed %d)" % (s.procs_f.name, md, o.seed, o.seed))
    if status:
        return status
    return 0 if ok and not s.failures else 1


if __name__ == "__main__":
    sys.exit(main())
