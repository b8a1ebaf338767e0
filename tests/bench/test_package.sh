#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_package.sh BUILD_DIR - the Debian package end to end:
#   - cpack -G DEB builds vqbench_<version>_<arch>.deb from the build tree;
#   - its control file declares Depends computed by dpkg-shlibdeps (libc6,
#     DPDK's librte-*, libhwloc, libnuma), each satisfied on this machine
#     (what dpkg -i would check), and Recommends for the scripts;
#   - it holds usr/bin/vqbench, the man page, the scripts and the thresholds;
#   - unpacked into a scratch root (dpkg -x): vqbench --version, man -l on
#     the page, a short run, --check against the installed thresholds'
#     exact bounds, and the installed plot script on that run's CSV.
set -u
build=$1
. "$(dirname "$0")/helpers.sh"
for tool in cpack dpkg-deb dpkg-shlibdeps man; do
	command -v "$tool" >/dev/null || { echo "test_package: $tool missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
scratch test_package

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1
rc=$?
check "cpack -G DEB exits 0 (got $rc)" test $rc = 0
deb=$(ls "$tmp"/pkg/vqbench_*.deb 2>/dev/null | head -1)
check "cpack wrote vqbench_<version>_<arch>.deb ($(basename "${deb:-none}"))" test -n "$deb"
[ -n "$deb" ] || { cat "$tmp/cpack.log"; exit 1; }

dpkg-deb -f "$deb" Package Version Architecture Depends Recommends >"$tmp/control"
cat "$tmp/control"
check "Package: vqbench" grep -qx 'Package: vqbench' "$tmp/control"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 librte-eal libhwloc libnuma; do
	check "Depends names $lib" grep -q "$lib" <<<"$depends"
done
check "Recommends python3-matplotlib and valgrind (the scripts)" \
	grep -q 'Recommends: .*python3-matplotlib.*valgrind' "$tmp/control"
# What dpkg -i checks: every dependency (one alternative of each) is installed in a version that fits.
unmet=0
IFS=',' read -ra deps <<<"$depends"
for dep in "${deps[@]}"; do
	ok=0
	IFS='|' read -ra alts <<<"$dep"
	for alt in "${alts[@]}"; do
		read -r name op ver <<<"$(sed -E 's/^ *([^ (]+) *(\(([<>=]+) *([^)]+)\))? *$/\1 \3 \4/' <<<"$alt")"
		have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null | sed -n 's/^install ok installed //p')
		[ -n "$have" ] || continue
		if [ -z "$op" ] || dpkg --compare-versions "$have" "$(sed 's/^>>$/gt/;s/^<<$/lt/;s/^>=$/ge/;s/^<=$/le/;s/^=$/eq/' <<<"$op")" "$ver"; then
			ok=1
		fi
	done
	[ $ok = 1 ] || { echo "unmet dependency: $dep" >&2; unmet=$((unmet + 1)); }
done
check "every Depends entry (${#deps[@]}) is satisfied on this machine" test $unmet = 0

dpkg-deb -c "$deb" | awk '{print $NF}' >"$tmp/files"
for f in ./usr/bin/vqbench ./usr/share/man/man1/vqbench.1.gz ./usr/share/vqbench/scripts/study.sh \
	./usr/share/vqbench/scripts/regress.sh ./usr/share/vqbench/scripts/plot.py \
	./usr/share/vqbench/scripts/study_report.py ./usr/share/vqbench/scripts/callgrind-counts.py \
	./usr/share/vqbench/scripts/derive-thresholds.py; do
	check "the package holds $f" grep -qx "$f" "$tmp/files"
done
check "the package holds one results/thresholds-<UTC>.txt" \
	test "$(grep -cx './usr/share/vqbench/results/thresholds-[0-9]\{8\}-[0-9]\{6\}\.txt' "$tmp/files")" = 1

root=$tmp/root
dpkg -x "$deb" "$root"
check "dpkg -x unpacks it" test -x "$root/usr/bin/vqbench"
ver=$("$root/usr/bin/vqbench" --version | head -1)
check "vqbench --version from the package: $ver" grep -q "^vqbench $(dpkg-deb -f "$deb" Version | sed 's/-.*//') " <<<"$ver"
LC_ALL=C MANWIDTH=100 man -l "$root/usr/share/man/man1/vqbench.1.gz" >"$tmp/man.txt" 2>"$tmp/man.err"
check "man -l renders the installed page" test $? = 0 -a -s "$tmp/man.txt"
check "the page is vqbench(1) and documents --json and --junit" \
	grep -q -- '--junit FILE' "$tmp/man.txt"
check "... with its header" grep -q '^VQBENCH(1)' "$tmp/man.txt"

cd "$tmp" || exit 1
"$root/usr/bin/vqbench" --quiet --device inline --layout split,packed --descs 1,4 \
	--policy full,compact,skip,premapped --dma identity,bounce,iommu --packets 2000 --reps 1 --warmup 0 \
	--csv "$tmp/run.csv" >"$tmp/run.log" 2>&1
rc=$?
check "a short run of the packaged vqbench exits 0 (got $rc)" test $rc = 0
check "... and writes 40 rows (skip refused on bounce and iommu)" test "$(($(wc -l <"$tmp/run.csv") - 1))" = 40
grep -h '^exact' "$root"/usr/share/vqbench/results/thresholds-*.txt >"$tmp/exact.txt"
"$root/usr/bin/vqbench" --check "$tmp/exact.txt" --junit "$tmp/junit.xml" "$tmp/run.csv" >"$tmp/check.log" 2>&1
rc=$?
check "the run holds the installed thresholds' $(wc -l <"$tmp/exact.txt") exact bounds (exit $rc)" test $rc = 0
[ $rc = 0 ] || grep FAIL "$tmp/check.log" | head -5
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-matplotlib (the package recommends it)
if "$py" -c 'import matplotlib' 2>/dev/null; then
	"$py" "$root/usr/share/vqbench/scripts/plot.py" --out "$tmp/plots" --caches 48K,2M,32M "$tmp/run.csv" \
		>"$tmp/plot.log" 2>&1
	rc=$?
	check "the installed plot.py draws the run (exit $rc, $(ls "$tmp"/plots/*.png 2>/dev/null | wc -l) PNGs)" \
		test $rc = 0 -a "$(ls "$tmp"/plots/*.png 2>/dev/null | wc -l)" -ge 1
fi
"$root/usr/share/vqbench/scripts/regress.sh" --baseline --vqbench "$root/usr/bin/vqbench" >/dev/null 2>"$tmp/regress.err"
rc=$?
check "the installed regress.sh refuses --baseline, which rewrites a source tree (exit $rc)" test $rc = 2
[ $fails = 0 ] && echo "test_package: ok"
exit $((fails > 0))
