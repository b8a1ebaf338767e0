#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the size rules of the C sources (README "Code structure").

Every .c and .h file under ring/ dma/ dev/ bench/ tests/ fuzz/:
  - a file has at most --max-file-lines lines (800);
  - a function body (the lines between the line of its opening brace and
    the line of its closing brace) has at most --max-body-lines lines (80)
    in ring/ dma/ dev/ bench/ fuzz/, and --max-test-body-lines (150) in
    tests/, where one function is often one table-driven scenario whose
    steps read best in a row.

A function over its limit may stay only if scripts/structure-exceptions.txt
names it with a reason. An exception that no longer matches (the function
shrank, was renamed or is gone) is an error too, so the list cannot rot.

Prints one line per violation, "path:line: what, how long, the limit", and
exits 1 if there is any; --list prints every function over the limit,
excepted or not. Only the standard library: it reads C as text, skipping
comments, strings, character constants and preprocessor lines, and takes
as a function every brace at file scope whose opening follows a ')'.

usage: scripts/check-structure.py [--root DIR] [--list]
"""
import argparse
import os
import re
import sys

DIRS = ("ring", "dma", "dev", "bench", "tests", "fuzz")
ATTRIBUTES = ("__attribute__", "__attribute", "__declspec", "__asm__", "asm")
EXCEPTIONS = "scripts/structure-exceptions.txt"


def strip_code(text):
    """text with comments, strings, character constants and preprocessor
    lines blanked out (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            # a preprocessor line, with its backslash continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        line_start = False
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + c)
            i = j + 1
            continue
        if c == "\n":
            line_start = True
        out.append(c)
        i += 1
    return "".join(out)


def functions(text):
    """(name, first line of the definition, body lines) per function."""
    code = strip_code(text)
    found = []
    depth = 0
    paren = 0
    last_close = -1      # offset of the last ')' closing a group at paren depth 0
    group_open = {}      # offset of ')' -> offset of its '('
    stack = []
    sig_start = 0        # where the current file-scope declaration began
    open_at = None
    for i, c in enumerate(code):
        if depth == 0:
            if c == "(":
                stack.append(i)
                paren += 1
            elif c == ")":
                paren -= 1
                start = stack.pop() if stack else i
                if paren == 0:
                    group_open[i] = start
                    last_close = i
            elif c == ";" and paren == 0:
                sig_start = i + 1
                last_close = -1
            elif c == "{" and paren == 0:
                between = code[last_close + 1:i] if last_close >= 0 else None
                # a function: '{' right after the parameter list's ')'
                if between is not None and between.strip() == "":
                    close = last_close
                    head = code[sig_start:group_open[close]]
                    m = re.search(r"([A-Za-z_]\w*)\s*$", head)
                    # attributes after the parameter list: the list is the
                    # group before them
                    while m and m.group(1) in ATTRIBUTES:
                        prev = code.rfind(")", sig_start, sig_start + m.start(1))
                        if prev < 0 or prev not in group_open:
                            m = None
                            break
                        close = prev
                        head = code[sig_start:group_open[close]]
                        m = re.search(r"([A-Za-z_]\w*)\s*$", head)
                    if m and "=" not in code[sig_start:i]:
                        open_at = (m.group(1), code.count("\n", 0, sig_start + m.start(1)) + 1, i)
                    else:
                        open_at = None
                else:
                    open_at = None
                depth = 1
                continue
        if depth > 0:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    if open_at:
                        name, first, ob = open_at
                        body = code.count("\n", ob, i) - 1
                        found.append((name, first, max(body, 0)))
                    open_at = None
                    sig_start = i + 1
                    last_close = -1
    return found


def load_exceptions(root):
    """{(path, function): reason} from the exceptions file."""
    ex = {}
    path = os.path.join(root, EXCEPTIONS)
    if not os.path.exists(path):
        return ex, []
    errors = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or len(parts[2]) < 10:
                errors.append(f"{EXCEPTIONS}:{no}: needs 'PATH FUNCTION REASON' "
                              f"with a reason, got {line!r}")
                continue
            ex[(parts[0], parts[1])] = parts[2]
    return ex, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--max-file-lines", type=int, default=800)
    ap.add_argument("--max-body-lines", type=int, default=80)
    ap.add_argument("--max-test-body-lines", type=int, default=150)
    ap.add_argument("--list", action="store_true",
                    help="print every function over its limit, excepted ones too")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    exceptions, errors = load_exceptions(root)
    used = set()
    listed = []
    nfiles = nfuncs = 0
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, fn)
                rel = os.path.relpath(full, root)
                with open(full, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                nfiles += 1
                nlines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
                if nlines > a.max_file_lines:
                    errors.append(f"{rel}: {nlines} lines, limit {a.max_file_lines}: "
                                  "split it by responsibility")
                limit = a.max_test_body_lines if d == "tests" else a.max_body_lines
                for name, line, body in functions(text):
                    nfuncs += 1
                    if body <= limit:
                        continue
                    why = exceptions.get((rel, name))
                    msg = f"{rel}:{line}: {name}: body {body} lines, limit {limit}"
                    if why:
                        used.add((rel, name))
                        listed.append(f"{msg} (excepted: {why})")
                    else:
                        errors.append(msg + ": cut it into named steps")
                        listed.append(msg)
    for key in sorted(set(exceptions) - used):
        errors.append(f"{EXCEPTIONS}: {key[0]} {key[1]} is no longer over its limit "
                      "(or gone): remove the exception")
    if a.list:
        for m in listed:
            print(m)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"check-structure: {nfiles} files, {nfuncs} functions, {len(used)} excepted, "
          f"{len(errors)} error(s)", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
