#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_results_readme.py - results/README.md describes every file in results/,
and results/ keeps one file per timestamped kind.

Usage: test_results_readme.py SOURCE_DIR

The rows of results/README.md's tables start with a file name or pattern in
backquotes: <UTC> stands for YYYYmmdd-HHMMSS, <DEVICE> and <PLOT> for a
name, * for any characters. A row marked "(kept)" names one older file of a
timestamped kind that a script or report still reads; "(not committed)" a
file scripts write that git does not hold.

Fails (exit 1) when a committed file of results/ matches no row (or only a
"(not committed)" one), when a timestamped kind holds more than its newest
file and the "(kept)" ones, or when a "(kept)" row names a file that is not
there or is the newest of its kind. The files are git's (git ls-files) in a
git checkout, else the directory's. Before checking results/, the checker
runs on scratch directories that break each rule and must fail on each.
"""
import os
import re
import subprocess
import sys
import tempfile

UTC = r"[0-9]{8}-[0-9]{6}"
NAME = r"[a-z0-9_]+"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*(\((kept|not committed)\))?\s*\|")


def rows(readme):
    """[(pattern text, regex, mark)] from the table rows of readme."""
    out = []
    with open(readme, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line)
            if not m:
                continue
            pat = m.group(1)
            rx = ""
            for part in re.split(r"(<UTC>|<DEVICE>|<PLOT>|\*)", pat):
                if part == "<UTC>":
                    rx += "(?P<utc>" + UTC + ")"
                elif part in ("<DEVICE>", "<PLOT>"):
                    rx += "(" + NAME + ")"
                elif part == "*":
                    rx += "[^/]*"
                else:
                    rx += re.escape(part)
            out.append((pat, re.compile(rx + r"\Z"), m.group(3) or ""))
    return out


def check(readme, files):
    """The problems of files (names in results/) against readme, one line each."""
    table = rows(readme)
    errs = []
    if not table:
        return [f"{readme}: no table row naming a file"]
    for f in sorted(files):
        marks = [mark for _, rx, mark in table if rx.match(f)]
        if not marks:
            errs.append(f"results/{f}: not described in results/README.md (add a row: what it is, which script makes it)")
        elif all(m == "not committed" for m in marks):
            errs.append(f"results/{f}: results/README.md says it is not committed, but it is")
    kept = {pat for pat, _, mark in table if mark == "kept"}
    for pat, rx, mark in table:
        if mark or "<UTC>" not in pat:
            continue
        kinds = {}
        for f in files:
            m = rx.match(f)
            if m:  # the kind: the name with its time cut out
                kinds.setdefault(f[:m.start("utc")] + "<UTC>" + f[m.end("utc"):], []).append(f)
        for kind, group in sorted(kinds.items()):
            newest = max(group, key=lambda f: rx.match(f).group("utc"))
            extra = sorted(f for f in group if f != newest and f not in kept)
            if extra:
                errs.append(f"results/: {len(group)} files of kind {kind} ({', '.join(sorted(group))}); keep only the "
                            f"newest ({newest}: history lives in git), or name an older one a script still reads "
                            "in a '(kept)' row of results/README.md")
            if newest in kept:
                errs.append(f"results/{newest}: a '(kept)' row names the newest file of {kind}; describe it by its pattern")
    for k in sorted(kept):
        if k not in files:
            errs.append(f"results/README.md: the '(kept)' row names {k}, which is not in results/")
        elif not any("<UTC>" in pat and not mark and rx.match(k) for pat, rx, mark in table):
            errs.append(f"results/README.md: the '(kept)' file {k} is of no timestamped kind described")
    return errs


def listing(src):
    """The committed files of src/results (git), else the directory's."""
    results = os.path.join(src, "results")
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-z", "--", "results"], capture_output=True,
                             check=True).stdout.decode()
        files = [p[len("results/"):] for p in out.split("\0") if p.startswith("results/")]
        if files:
            return {f for f in files if "/" not in f}, "git ls-files"
    except (OSError, subprocess.CalledProcessError):
        pass
    return {f for f in os.listdir(results) if os.path.isfile(os.path.join(results, f))}, "the directory"


def self_test():
    """The checker fails on each broken rule (a checker that cannot fail is no test)."""
    readme = ("| file | what | by |\n|---|---|---|\n"
              "| `a-<UTC>.csv` | a | x.sh |\n| `a-<UTC>-<PLOT>-<DEVICE>.png` | a | x.sh |\n"
              "| `a-20260101-000000.csv` (kept) | read by y.py | x.sh |\n| `B.md` | b | y.py |\n"
              "| `v-<UTC>.csv` (not committed) | v | vqbench |\n")
    good = {"a-20260101-000000.csv", "a-20260102-000000.csv", "a-20260102-000000-pages-inline.png",
            "a-20260102-000000-queue-inline.png", "B.md"}
    cases = [
        ("a file no row describes", good | {"c.txt"}, "not described"),
        ("a third file of one kind", good | {"a-20251231-000000.csv"}, "files of kind a-<UTC>.csv"),
        ("two plots of one kind", good | {"a-20260101-000000-pages-inline.png"}, "files of kind a-<UTC>-pages-inline.png"),
        ("a kept file missing", good - {"a-20260101-000000.csv"}, "which is not in results/"),
        ("the kept file is the newest", (good - {"a-20260102-000000.csv"}), "names the newest"),
        ("a 'not committed' file committed", good | {"v-20260101-000000.csv"}, "not committed"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "README.md")
        with open(path, "w") as f:
            f.write(readme)
        errs = check(path, good)
        if errs:
            return [f"self-test: a correct directory fails: {errs}"]
        bad = []
        for what, files, expect in cases:
            errs = check(path, files)
            if not any(expect in e for e in errs):
                bad.append(f"self-test: {what}: expected a message with '{expect}', got {errs}")
        return bad


def main(argv):
    if len(argv) != 2:
        print("usage: test_results_readme.py SOURCE_DIR", file=sys.stderr)
        return 2
    errs = self_test()
    if errs:
        print("\n".join(errs), file=sys.stderr)
        return 1
    print("ok: the checker fails on an undescribed file, two files of one kind, a wrong (kept) or (not committed) row")
    src = argv[1]
    readme = os.path.join(src, "results", "README.md")
    if not os.path.exists(readme):
        print(f"FAIL: {readme} does not exist", file=sys.stderr)
        return 1
    files, how = listing(src)
    errs = check(readme, files)
    if errs:
        print("\n".join("FAIL: " + e for e in errs), file=sys.stderr)
        return 1
    print(f"ok: {len(files)} files of results/ ({how}) described by results/README.md, one per timestamped kind")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
