#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_skip_report.sh SCRIPTS_DIR - scripts/test-skips.py on CTest JUnit
# files: a skipped test is named with its reason (its last SKIP line, else
# its last line); without --fail-on-skip it exits 0, with it (CI) 1; no skip
# exits 0 and says 0 skipped; a missing or broken file exits 2.
set -uo pipefail
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
tool="$1/test-skips.py"
. "$(dirname "$0")/helpers.sh"
scratch test_skip_report
cat > "$tmp/skips.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="x" tests="3" failures="0" skipped="2">
	<testcase name="test_a" classname="test_a" status="notrun">
		<skipped message="SKIP_RETURN_CODE=77"/>
		<system-out>booting
SKIP: needs 64 free 2 MiB hugepages, 0 free (scripts/hugepages.sh)
</system-out>
	</testcase>
	<testcase name="test_b" classname="test_b" status="notrun">
		<skipped message="SKIP_RETURN_CODE=77"/>
		<system-out>vqbench cannot run here (exit 3)
</system-out>
	</testcase>
	<testcase name="test_c" classname="test_c" status="run"><system-out>SKIP is only a word here</system-out></testcase>
</testsuite>
XML
sed -e '/notrun/,/<\/testcase>/d' "$tmp/skips.xml" > "$tmp/none.xml"
"$py" "$tool" "$tmp/skips.xml" > "$tmp/out" 2>&1; rc=$?
check "skips outside CI: exit 0 (got $rc)" [ $rc = 0 ]
check "names test_a and its SKIP line" grep -qx 'skipped: test_a: SKIP: needs 64 free 2 MiB hugepages, 0 free (scripts/hugepages.sh)' "$tmp/out"
check "names test_b and its last line" grep -qx 'skipped: test_b: vqbench cannot run here (exit 3)' "$tmp/out"
check "a test that ran is not listed" bash -c "! grep -q test_c '$tmp/out'"
check "counts 2 of 3" grep -q '2 of 3 tests skipped' "$tmp/out"
"$py" "$tool" --fail-on-skip "$tmp/skips.xml" > "$tmp/out" 2>&1; rc=$?
check "skips in CI (--fail-on-skip): exit 1 (got $rc)" [ $rc = 1 ]
check "CI failure still names test_a" grep -q '^skipped: test_a: SKIP: needs 64' "$tmp/out"
"$py" "$tool" --fail-on-skip "$tmp/none.xml" > "$tmp/out" 2>&1; rc=$?
check "no skips in CI: exit 0 (got $rc)" [ $rc = 0 ]
check "says 0 of 1 skipped" grep -q '0 of 1 tests skipped' "$tmp/out"
"$py" "$tool" "$tmp/missing.xml" > "$tmp/out" 2>&1; rc=$?
check "missing JUnit file: exit 2 (got $rc)" [ $rc = 2 ]
echo '<testsuite><testcase' > "$tmp/bad.xml"
"$py" "$tool" "$tmp/bad.xml" > "$tmp/out" 2>&1; rc=$?
check "broken JUnit file: exit 2 naming it (got $rc)" bash -c "[ $rc = 2 ] && grep -q bad.xml '$tmp/out'"
echo "test_skip_report: $checks checks, $fails failed"
[ $fails = 0 ]
