#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""callgrind_dump.py - reading callgrind's output format, shared by
scripts/callgrind-counts.py (instructions by source file) and
scripts/peer-callgrind.sh (calls into DPDK's virtio PMD).

callgrind compresses names: the first mention of a file, object or function
is "(ID) NAME" and every later one "(ID)" alone. Names resolves both."""
import re

_SPEC = re.compile(r"\((\d+)\)(?: (.*))?$")


class Names:
    """One dump's name table: names(spec) returns the name a spec stands
    for (a spec without an ID is the name itself; an ID never defined gives
    ""), and remembers the ID the spec defines. callgrind numbers each kind
    of name on its own: use one Names per dump and kind (files: fl=, fi=,
    fe=, cfi=, cfl=; objects: ob=, cob=; functions: fn=, cfn=), and pass it
    every spec of that kind, in order, even those the caller does not need:
    a later line may refer back to an ID any of them defines."""

    def __init__(self):
        self.table = {}

    def __call__(self, spec):
        m = _SPEC.match(spec.strip())
        if not m:
            return spec.strip()
        if m.group(2) is not None:
            self.table[m.group(1)] = m.group(2)
        return self.table.get(m.group(1), "")
