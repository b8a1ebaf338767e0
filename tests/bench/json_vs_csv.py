#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""json_vs_csv.py JSONL CSV SCHEMA_JSON - a vqbench --json file against the
CSV of the same run, field by field: every line is one JSON object (Python's
json module), whose members are the CSV header's columns in the same order,
as many objects as CSV rows; an empty CSV cell is null; an int column holds
a JSON integer equal to the cell, a float column a JSON number equal to the
cell's float, a bool column true/false for 1/0, a string column the cell's
text. SCHEMA_JSON is `vqbench --list-columns --format json`; its column names,
types and json_types must agree with the CSV header. Prints what it checked;
exit 0 when every check passes."""
import csv
import json
import sys

JSON_TYPE = {"int": "number", "float": "number", "string": "string", "bool": "boolean"}


def same(col, typ, cell, val, where):
    if cell == "":
        return None if val is None else f"{where}: CSV cell empty, JSON {val!r} (want null)"
    if val is None:
        return f"{where}: CSV '{cell}', JSON null"
    if typ == "bool":
        ok = isinstance(val, bool) and val == (cell == "1") and cell in ("0", "1")
    elif typ == "int":
        ok = isinstance(val, int) and not isinstance(val, bool) and val == int(cell)
    elif typ == "float":
        ok = isinstance(val, (int, float)) and not isinstance(val, bool) and float(val) == float(cell)
    else:
        ok = isinstance(val, str) and val == cell
    return None if ok else f"{where}: {typ} column: CSV '{cell}', JSON {val!r}"


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    jpath, cpath, spath = sys.argv[1:]
    schema = json.load(open(spath))
    types = {c["name"]: c["type"] for c in schema["columns"]}
    fails = []
    for c in schema["columns"]:
        if JSON_TYPE.get(c["type"]) != c["json_type"]:
            fails.append(f"schema: {c['name']}: type {c['type']} but json_type {c['json_type']}")
    with open(cpath, newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    if header != [c["name"] for c in schema["columns"]]:
        fails.append("the CSV header is not the JSON schema's column list")
    raw = open(jpath, "rb").read()
    if raw and not raw.endswith(b"\n"):
        fails.append(f"{jpath}: ends inside a line")
    lines = raw.decode().splitlines()
    if len(lines) != len(data):
        fails.append(f"{len(lines)} JSON lines, {len(data)} CSV rows")
    fields = nulls = 0
    for n, (line, row) in enumerate(zip(lines, data), start=1):
        obj = json.loads(line)
        if not isinstance(obj, dict) or list(obj) != header:
            fails.append(f"line {n}: members {list(obj)[:5]}... are not the CSV header in order")
            continue
        for name, cell in zip(header, row):
            err = same(name, types.get(name, "string"), cell, obj[name], f"line {n} {name}")
            if err:
                fails.append(err)
            fields += 1
            nulls += obj[name] is None
    for f_ in fails[:20]:
        print("FAIL:", f_, file=sys.stderr)
    if fails:
        return 1
    print(f"ok: {len(lines)} JSON lines equal the CSV rows field by field ({fields} fields, {nulls} null)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
