#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_man.py VQBENCH PAGE - the man page vqbench(1) says what --help says.

Renders PAGE with `man -l` (C locale, very wide lines so nothing wraps or
hyphenates), collapses blanks in both texts, and checks that every line of
`vqbench --help` is in the page: usage, prose, default study, every group,
option head, help, note and allowed/default line, examples, exit codes. The
two allowed lines that depend on the machine (--cores: this process's CPUs,
--mem-node: its NUMA nodes) are checked for their machine-free form. Then
the other way: every option the page describes is one --help lists.
Exit 0 when all hold; each miss is printed."""
import os
import re
import subprocess
import sys


def collapse(s):
    return " ".join(s.split())


def main():
    vqb, page = sys.argv[1], sys.argv[2]
    env = dict(os.environ, LC_ALL="C", LANG="C", MANWIDTH="2000", MAN_KEEP_FORMATTING="")
    help_text = subprocess.run([vqb, "--help"], capture_output=True, text=True, check=True).stdout
    out = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env, check=True).stdout
    text = re.sub(r".\x08", "", out)  # overstrike bold/underline, if any
    man = collapse(text)
    misses, checked = [], 0
    for raw in help_text.splitlines():
        line = collapse(raw)
        if not line:
            continue
        if line.startswith("Usage: "):
            line = line[len("Usage: "):]
        if re.fullmatch(r"[A-Z][^:]*:", line) and line != "Examples:":
            line = line[:-1]  # a group heading
        if line == "Examples:":
            continue  # the page's EXAMPLES section
        if line.startswith("allowed: auto, or 2..") or line.startswith("allowed: local, "):
            machine_free = {"auto": "of those vqbench may use", "local": "a NUMA node of this machine"}
            key = "auto" if "auto" in line else "local"
            checked += 1
            if machine_free[key] not in man:
                misses.append(f"machine-dependent allowed line ({key}): '{machine_free[key]}' not in the page")
            continue
        checked += 1
        if line not in man:
            misses.append(f"--help line not in the page: {raw.strip()!r}")
    help_opts = set(re.findall(r"^  (?:-\w, )?--([a-z-]+)", help_text, re.M))
    sect = text.split("OPTIONS", 1)[1].split("REFUSED CONFIGURATIONS", 1)[0]
    man_opts = set(re.findall(r"^ {7}(?:-\w, )?--([a-z-]+)", sect, re.M))
    if man_opts != help_opts:
        misses.append(f"options differ: only in the page {sorted(man_opts - help_opts)}, "
                      f"only in --help {sorted(help_opts - man_opts)}")
    if not text.startswith("VQBENCH(1)"):
        misses.append("the page does not start with its VQBENCH(1) header")
    for m in misses:
        print("FAIL:", m)
    if misses or len(help_opts) < 30:
        print(f"FAIL: {len(misses)} of {checked} --help lines missing ({len(help_opts)} options)")
        return 1
    print(f"ok: all {checked} --help lines and the {len(help_opts)} options are in the man page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
