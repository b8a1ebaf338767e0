#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_rows.py CSV MIN MAX - a vqbench CSV that a run left behind after a
fault: it ends with a line break, its header names every column, every row
has exactly the header's fields, and it holds MIN..MAX rows (no truncated
or half-written line). Prints the row count."""
import csv
import sys

path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("%s: ends inside a line: %r" % (path, data[-60:]))
rows = list(csv.reader(data.decode().splitlines()))
if not rows or rows[0][0] != "schema_version":
    sys.exit("%s: no header" % path)
for i, r in enumerate(rows[1:], 2):
    if len(r) != len(rows[0]):
        sys.exit("%s: line %d has %d fields, the header %d" % (path, i, len(r), len(rows[0])))
n = len(rows) - 1
if not lo <= n <= hi:
    sys.exit("%s: %d rows, expected %d..%d" % (path, n, lo, hi))
print(n)
