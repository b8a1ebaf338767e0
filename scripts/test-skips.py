#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test-skips.py - name every skipped CTest test and why, from CTest's JUnit file.

Usage: scripts/test-skips.py [--fail-on-skip] JUNIT.xml [MORE.xml...]

The test presets write JUnit to build/PRESET/ctest-junit.xml (CMakePresets.json,
outputJUnitFile). A test skips by exiting 77 (SKIP_RETURN_CODE) when the
machine truly cannot run it; its reason is the last output line that says
SKIP (or skip), else its last output line.

Prints one line per skipped test: "skipped: NAME: REASON", then a summary.
Exit: 0 no skips, or skips without --fail-on-skip; 1 skips with
--fail-on-skip (scripts/test.sh passes it when CI=true: a skip fails CI);
2 bad usage or an unreadable / missing JUnit file (the tests did not run).
"""
import sys
import xml.etree.ElementTree as ET


def reason(case):
    out = case.findtext("system-out") or ""
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "skip" in ln.lower():
            return ln
    if lines:
        return lines[-1]
    sk = case.find("skipped")
    msg = sk.get("message", "") if sk is not None else ""
    return f"no output ({msg})" if msg else "no output"


def main(argv):
    fail = False
    files = []
    for a in argv:
        if a == "--fail-on-skip":
            fail = True
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif a.startswith("-"):
            print(f"test-skips.py: unknown option '{a}' (allowed: --fail-on-skip, --help)", file=sys.stderr)
            return 2
        else:
            files.append(a)
    if not files:
        print("test-skips.py: no JUnit file given (usage: test-skips.py [--fail-on-skip] JUNIT.xml...)",
              file=sys.stderr)
        return 2
    skipped, total = [], 0
    for f in files:
        try:
            root = ET.parse(f).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"test-skips.py: {f}: cannot read CTest's JUnit output ({e}); did the tests run?",
                  file=sys.stderr)
            return 2
        for case in root.iter("testcase"):
            total += 1
            if case.get("status") == "notrun" or case.find("skipped") is not None:
                skipped.append((case.get("name", "?"), reason(case)))
    for name, why in skipped:
        print(f"skipped: {name}: {why}")
    if not skipped:
        print(f"test-skips.py: 0 of {total} tests skipped")
        return 0
    if fail:
        print(f"test-skips.py: {len(skipped)} of {total} tests skipped; in CI a skip is a failure "
              "(set the machine up: scripts/install-deps.sh, scripts/hugepages.sh, and the reasons above)",
              file=sys.stderr)
        return 1
    print(f"test-skips.py: {len(skipped)} of {total} tests skipped (a failure when CI=true)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
