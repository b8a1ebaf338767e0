#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_soak_short.sh VQBENCH SOAK_PY - scripts/soak.py --short:
#   1. about a minute on the thread device (and the vhost-user backend-kill
#      fault where the machine can run DPDK's backend): exit 0, the CSV has
#      a passing SIGINT fault (exit 130) and, with vhost, a passing
#      backend-kill fault and a vhost run after it; 0 payload errors;
#      SOAK.md says pass;
#   2. a vqbench that reports a payload error in every row: the soak exits
#      1 and SOAK.md says FAIL with the errors counted.
# Exit 77 (after part 1 passed without it) only when this machine cannot run
# the vhost-user backend (not root, no dpdk-testpmd, < 64 free hugepages).
set -u
vqb=$1 soak=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vqb_soak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
vhost=1 why=
[ "$(id -u)" = 0 ] || { vhost=0 why="not root"; }
command -v dpdk-testpmd >/dev/null || { vhost=0 why="no dpdk-testpmd (Debian package dpdk)"; }
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 64 ] || { vhost=0 why="$free free 2 MiB hugepages, 64 needed (scripts/hugepages.sh)"; }
novh=()
[ $vhost = 1 ] || novh=(--no-vhost)

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# A sanitizer build keeps freed memory in quarantine (ASan) or grows its
# shadow (TSan): its resident set is no leak signal, so the RSS rule gets
# 1 GiB of slack there; the release build holds the 4 MiB rule. ldd's
# output is read whole first (under pipefail, `ldd | grep -q` can fail).
rss=()
libs=$(ldd "$vqb" 2>/dev/null)
if grep -q 'lib[at]san' <<<"$libs"; then
	rss=(--rss-slack-kib 1048576)
	echo "test_soak_short: sanitizer build: RSS slack 1 GiB (the release build checks 4 MiB)"
fi

# 1. the short soak
mkdir "$tmp/ok"
python3 "$soak" --short --seed 7 --vqbench "$vqb" --dir "$tmp/ok" "${novh[@]}" "${rss[@]}" >"$tmp/ok.log" 2>&1
rc=$?
tail -n 25 "$tmp/ok.log"
[ $rc = 0 ] || fail "short soak exit $rc, expected 0"
csvf=$(ls "$tmp"/ok/soak-*[0-9].csv 2>/dev/null | head -1)
if [ -z "$csvf" ]; then
	fail "no soak CSV written"
else
	python3 - "$csvf" "$vhost" <<'PY' || fail "soak CSV contents"
import csv, sys
procs = list(csv.DictReader(open(sys.argv[1])))
rows = list(csv.DictReader(open(sys.argv[1][:-4] + "-rows.csv")))
want_vhost = sys.argv[2] == "1"
bad = []
f = {p["fault"]: p for p in procs}
if f.get("sigint", {}).get("rc") != "130" or f["sigint"]["result"] != "pass":
    bad.append("no passing SIGINT fault with exit 130")
if want_vhost:
    if f.get("backend-kill", {}).get("rc") != "1" or f["backend-kill"]["result"] != "pass":
        bad.append("no passing backend-kill fault with exit 1")
    if not [p for p in procs if p["kind"] == "vhost" and p["fault"] == "none" and p["result"] == "pass"
            and int(p["packets"]) > 0]:
        bad.append("no passing vhost-user run after the backend kill")
if any(p["result"] != "pass" for p in procs):
    bad.append("a process failed")
if sum(int(p["errors"]) for p in procs) or sum(int(r["errors"] or 0) for r in rows):
    bad.append("payload errors")
if sum(int(p["packets"]) for p in procs) <= 0 or len({r["dma"] for r in rows}) < 2:
    bad.append("no packets, or fewer than 2 DMA backends")
if not [p for p in procs if p["rss_growth_max_kib"] != ""]:
    bad.append("no process compared its RSS over repetitions")
for b in bad:
    print("  " + b, file=sys.stderr)
print("  %d processes, %d rows, %d packets" % (len(procs), len(rows), sum(int(p["packets"]) for p in procs)))
sys.exit(1 if bad else 0)
PY
	grep -q '^| result | \*\*pass\*\*' "$tmp/ok/SOAK.md" || fail "SOAK.md does not say pass"
	# --report regenerates the same file from the CSV
	python3 "$soak" --report "$csvf" --out "$tmp/again.md" >/dev/null || fail "--report exit $?"
	cmp -s "$tmp/again.md" "$tmp/ok/SOAK.md" || fail "--report wrote a different SOAK.md"
fi

# 2. a vqbench whose rows carry a payload error: the soak must fail
"$vqb" --layout split --policy full --dma identity --descs 1 --packets 1000 --reps 1 --warmup 0 -q \
	--csv "$tmp/good.csv" >/dev/null 2>&1 || fail "vqbench run for the template row"
python3 - "$tmp/good.csv" "$tmp/bad.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rows[0]["errors"] = "1"
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]))
w.writeheader()
w.writerows(rows)
PY
cat >"$tmp/fake-vqbench" <<FAKE
#!/usr/bin/env bash
# writes the bad row where --csv points, exit 0
while [ \$# -gt 0 ]; do [ "\$1" = --csv ] && cp "$tmp/bad.csv" "\$2"; shift; done
exit 0
FAKE
chmod +x "$tmp/fake-vqbench"
mkdir "$tmp/bad"
python3 "$soak" --short --seconds 3 --seed 7 --vqbench "$tmp/fake-vqbench" --dir "$tmp/bad" --no-vhost \
	>"$tmp/bad.log" 2>&1
rc=$?
[ $rc = 1 ] || { tail -5 "$tmp/bad.log"; fail "soak over a vqbench with payload errors: exit $rc, expected 1"; }
grep -q '^| result | \*\*FAIL\*\*' "$tmp/bad/SOAK.md" 2>/dev/null || fail "SOAK.md does not say FAIL"
grep -q '^| payload errors | [1-9]' "$tmp/bad/SOAK.md" 2>/dev/null || fail "SOAK.md does not count the payload errors"

[ $fails = 0 ] || { echo "$fails checks failed" >&2; exit 1; }
if [ $vhost = 0 ]; then
	echo "SKIP: the thread-device soak passed, but the vhost-user backend-kill fault needs: $why"
	exit 77
fi
echo "ok"
