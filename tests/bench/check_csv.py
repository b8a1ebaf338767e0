#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_csv.py CSV SCHEMA ROWS [EMPTY_COLUMN...]

Check a vqbench CSV the way a user loads it: with Python's csv module and,
when it is importable, pandas, with no cleanup. SCHEMA is the output of
`vqbench --list-columns --format csv` (column,type,unit,description). ROWS is
the expected number of data rows; each EMPTY_COLUMN must be empty in every
row (a metric that was not measured). Exit 0 when every check passes."""
import csv
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, schema_path, rows_wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
    empty_cols = sys.argv[4:]
    with open(schema_path, newline="") as f:
        schema = list(csv.DictReader(f))
    names = [c["column"] for c in schema]
    types = {c["column"]: c["type"] for c in schema}
    fails = []

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    if header != names:
        fails.append(f"header differs from the schema: {header} vs {names}")
    if len(data) != rows_wanted:
        fails.append(f"{len(data)} rows, want {rows_wanted}")
    numeric = 0
    for n, row in enumerate(data, start=2):
        if len(row) != len(header):
            fails.append(f"row {n}: {len(row)} fields, header has {len(header)}")
            continue
        for name, value in zip(header, row):
            t = types.get(name)
            try:
                if value == "":
                    pass
                elif t == "int":
                    int(value)
                elif t == "float":
                    float(value)
                elif t == "bool":
                    if value not in ("0", "1"):
                        raise ValueError(value)
                if t in ("int", "float", "bool"):
                    numeric += 1
            except ValueError:
                fails.append(f"row {n}: column {name} ({t}): {value!r} does not parse")
            if name in empty_cols and value != "":
                fails.append(f"row {n}: column {name} should be empty, is {value!r}")
    print(f"csv module: {len(data)} rows x {len(header)} columns, {numeric} numeric cells parse")

    try:
        import pandas as pd
    except ImportError:
        print("pandas: not installed, pandas check not run")
    else:
        df = pd.read_csv(path)
        if list(df.columns) != names:
            fails.append("pandas: columns differ from the schema")
        if len(df) != rows_wanted:
            fails.append(f"pandas: {len(df)} rows, want {rows_wanted}")
        for name in names:
            if types[name] in ("int", "float", "bool") and not pd.api.types.is_numeric_dtype(df[name]):
                fails.append(f"pandas: column {name} ({types[name]}) has dtype {df[name].dtype}")
        for name in empty_cols:
            if not df[name].isna().all():
                fails.append(f"pandas: column {name} should be all NaN")
        print(f"pandas {pd.__version__}: read {len(df)} rows, dtypes of int/float/bool columns checked")

    for msg in fails:
        print("FAIL:", msg, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
