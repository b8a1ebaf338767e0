#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_structure: the size rules of scripts/check-structure.py hold on this
tree, and the checker itself catches what it must (a scratch tree with a
long file, long functions, a stale exception, and braces it must ignore).

usage: tests/test_structure.py SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile

FAILS = 0


def check(cond, what):
    global FAILS
    if not cond:
        FAILS += 1
        print(f"FAIL: {what}")


def run(script, root, *extra):
    p = subprocess.run([sys.executable, script, "--root", root, *extra],
                       capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def body(n):
    return "".join(f"\tx += {i};\n" for i in range(n))


def self_test(script):
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "bench"))
        os.makedirs(os.path.join(root, "tests"))
        os.makedirs(os.path.join(root, "scripts"))
        with open(os.path.join(root, "bench", "a.c"), "w") as f:
            f.write("static int x;\n"
                    # 81 body lines: over 80
                    "__attribute__((cold)) static void too_long(int a,\n\t\tint b)\n{\n"
                    + body(81) + "}\n"
                    # attributes after the parameter list
                    "static int attr_after(void) __attribute__((unused));\n"
                    "static int attr_after(void) __attribute__((unused))\n{\n" + body(82) + "\treturn 0;\n}\n"
                    # exactly 80: allowed
                    "void just_fits(void)\n{\n" + body(80) + "}\n"
                    # braces in comments, strings and macros, an initializer
                    "/* void in_comment(void)\n{\n" + body(90) + "} */\n"
                    "static const char *s = \"{ void in_string(void) {\";\n"
                    "#define M(x) { \\\n" + "\tx; \\\n" * 90 + "}\n"
                    "static const int tab[] = {\n" + "\t1,\n" * 90 + "};\n"
                    "struct big {\n" + "\tint f;\n" * 90 + "};\n")
        with open(os.path.join(root, "bench", "big.h"), "w") as f:
            f.write("/* filler */\n" * 801)
        with open(os.path.join(root, "tests", "t.c"), "w") as f:
            f.write("int main(void)\n{\n" + body(120) + "}\n"       # tests: limit 150
                    "static void long_test(void)\n{\n" + body(151) + "}\n")
        with open(os.path.join(root, "scripts", "structure-exceptions.txt"), "w") as f:
            f.write("# comment\nbench/a.c just_fits it was long once, now it is not\n")
        rc, out = run(script, root, "--list")
        check(rc == 1, f"scratch tree: exit 1, got {rc}\n{out}")
        check("bench/a.c:2: too_long: body 81 lines, limit 80" in out,
              f"names the function, its line and length:\n{out}")
        check("bench/big.h: 801 lines, limit 800" in out, f"names the long file:\n{out}")
        check("attr_after: body 83 lines, limit 80" in out,
              f"a function with attributes after its parameters:\n{out}")
        check("tests/t.c:" in out and "long_test: body 151 lines, limit 150" in out,
              f"tests/ limit 150:\n{out}")
        check(" main:" not in out, f"a 120-line test main is allowed:\n{out}")
        for name in ("in_comment", "in_string", " M:", "tab", "big:"):
            check(name not in out, f"{name.strip()} is no function:\n{out}")
        check("bench/a.c just_fits is no longer over its limit" in out,
              f"a stale exception fails:\n{out}")
        # an exception with a reason covers the function; one without is refused
        with open(os.path.join(root, "scripts", "structure-exceptions.txt"), "w") as f:
            f.write("bench/a.c too_long generated table walker, one case a line\n"
                    "tests/t.c long_test\n")
        os.remove(os.path.join(root, "bench", "big.h"))
        rc, out = run(script, root)
        check(rc == 1 and "needs 'PATH FUNCTION REASON'" in out,
              f"an exception without a reason is refused:\n{out}")
        check("too_long" not in out.replace("excepted", ""),
              f"an excepted function is no error:\n{out}")
        with open(os.path.join(root, "scripts", "structure-exceptions.txt"), "w") as f:
            f.write("bench/a.c too_long generated table walker, one case a line\n"
                    "bench/a.c attr_after a second generated walker, one case a line\n"
                    "tests/t.c long_test a scenario table, kept in one piece here\n")
        rc, out = run(script, root)
        check(rc == 0, f"every long function excepted with a reason: exit 0, got {rc}\n{out}")


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    script = os.path.join(src, "scripts", "check-structure.py")
    self_test(script)
    rc, out = run(script, src, "--list")
    print(out, end="")
    check(rc == 0, f"the tree breaks the size rules (exit {rc}): see above")
    print("test_structure:", "FAIL" if FAILS else "PASS")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
