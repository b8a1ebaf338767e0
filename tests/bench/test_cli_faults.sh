#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_faults.sh VQBENCH CHECK_ROWS - vqbench facing a bad CSV path, a
# full disk and an exhausted DMA backend:
#   - an unwritable --csv path, and /dev/full: exit 2 before any run, one
#     line naming the path (and /dev/full is not removed);
#   - a disk that fills during the sweep (a 12 KiB tmpfs, as root): exit 1
#     with the path and the cause, the CSV holds whole rows only;
#   - a configuration whose backend runs out (premapped maps more buffers
#     than an untrusted device's bounce pool holds): its row is marked
#     exhausted (a result, issue 19) with a message naming the buffer, the
#     backend and the cause, and the sweep goes on to the next; DMA
#     debugging grows to the same count.
set -u
vq=$1
rows=$2
tmp=$(mktemp -d)
mnt=
cleanup() {
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$vq" --layout split --descs 1 --policy full --device inline --warmup 0 -q "$@" >"$tmp/out" 2>"$tmp/err"; }

# 1. a directory that does not exist
run --packets 1000 --reps 1 --csv "$tmp/no/such/dir/r.csv"
rc=$?
[ $rc -eq 2 ] || bad "unwritable path: exit $rc, want 2"
grep -q "'$tmp/no/such/dir/r.csv'" "$tmp/err" || bad "unwritable path: message does not name it: $(cat "$tmp/err")"
grep -q "sweep:" "$tmp/out" && bad "unwritable path: a run started"
echo "unwritable --csv: $(head -1 "$tmp/err")"

# 2. /dev/full: the header cannot be written, said before any run
run --packets 1000 --reps 1 --csv /dev/full
rc=$?
[ $rc -eq 2 ] || bad "/dev/full: exit $rc, want 2"
grep -q "'/dev/full'.*No space left" "$tmp/err" || bad "/dev/full: message: $(cat "$tmp/err")"
[ -c /dev/full ] || bad "/dev/full was removed"
echo "--csv /dev/full: $(head -1 "$tmp/err")"

# 3. a disk that fills up in the middle of the sweep
if [ "$(id -u)" = 0 ] && mkdir "$tmp/mnt" && mount -t tmpfs -o size=12k tmpfs "$tmp/mnt"; then
	mnt=$tmp/mnt
	run --packets 500 --reps 100 --csv "$mnt/r.csv"
	rc=$?
	[ $rc -eq 1 ] || bad "full tmpfs: exit $rc, want 1"
	grep -q "cannot write the CSV file '$mnt/r.csv': No space left on device" "$tmp/err" ||
		bad "full tmpfs: message: $(cat "$tmp/err")"
	n=$(python3 "$rows" "$mnt/r.csv" 1 99) || bad "full tmpfs: the CSV is not whole rows"
	echo "full disk after $n rows: $(grep -m1 'cannot write' "$tmp/err")"
else
	echo "full-disk case not run: needs root and a tmpfs mount"
	[ -n "${CI:-}" ] && bad "full-disk case skipped in CI"
fi

# 4. premapped on two queues of 1024 indirect slots x 19 buffers maps 38912
# buffers; an untrusted device bounces each into a 4 KiB granule (2 slots)
# and the 64 MiB pool has 32768 slots: that run is exhausted at setup, the next runs
"$vq" --layout split --queue-size 1024 --descs mix --indirect on --dir both --policy premapped,full \
	--dma iommu --iommu untrusted --device inline --packets 20000 --reps 1 --warmup 0 -q --csv "$tmp/x.csv" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || bad "exhausted backend: exit $rc, want 1"
grep -q "premapped: mapping arena buffer [0-9]* of 19456 .*dma backend 'iommu'.*bounce pool exhausted" "$tmp/err" ||
	bad "exhausted backend: message names neither buffer, backend nor cause: $(cat "$tmp/err")"
python3 - "$tmp/x.csv" <<'PY' || bad "exhausted backend: CSV rows"
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))
st = {x["policy"]: (x.get("status"), x["packets"]) for x in r}
assert len(r) == 2, r
assert st["premapped"] == ("exhausted", "0"), st
assert st["full"][0] in (None, "ok") and st["full"][1] == "20000", st
print("exhausted backend: rows", st)
PY
echo "exhausted backend: $(grep -m1 premapped "$tmp/err")"

# 5. DMA debugging never fails a mapping: 38912 live mappings fit its 65536
# preallocated entries (growth past them: tests/dma/dma_debug_grow.c)
"$vq" --layout split --queue-size 1024 --descs mix --indirect on --dir both --policy premapped \
	--dma debug --device inline --packets 2000 --reps 1 --warmup 0 -q --csv "$tmp/y.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || bad "debug growth: exit $rc, want 0: $(cat "$tmp/err")"
grep -q "disabling" "$tmp/err" && bad "debug growth: debugging disabled itself: $(cat "$tmp/err")"
echo "debug growth: premapped with 38912 live mappings on --dma debug: exit $rc"
[ $fail -eq 0 ] && echo "test_cli_faults: ok"
exit $fail
