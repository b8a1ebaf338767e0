#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_exhaust.sh VQBENCH - a DMA resource that runs out is a result,
# never status=ok (issue 19, point 2):
#   - unsafe skip on forced bouncing: the 64 MiB bounce pool (32768 slots of
#     2 KiB) holds 16384 two-buffer packets; the row reads status exhausted,
#     packets 16384, and error names the pool, its size and its use; the
#     table says EXHAUSTED after 16384 packets; exit 0 (a measured result);
#   - skip allowed by --skip-rule rfc on a 30-bit mask (not unsafe): the same
#     status, and exit 1 (a rule let a run exhaust the pool);
#   - premapped whose arena does not fit the bounce pool at setup (two
#     queues of 32768 2 KiB buffers, forced bouncing, a 64 MiB pool): status
#     exhausted (not failed), 0 packets, the error names the pool, its size
#     and use; exit 1;
#   - unsafe skip on a 64-page IOVA space is not reachable from the CLI, so
#     the iommu message is checked by tests/fault/test_fault_map.c.
set -u
vq=$1
tmp=$(mktemp -d -t vqb-exhaust.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$vq" --layout split --descs 2 --queue-size 256 --policy skip --device inline --warmup 0 --reps 1 \
	"$@" >"$tmp/out" 2>"$tmp/err"; }
field() { # CSV, column -> value of the first row
	python3 -c 'import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[0][sys.argv[2]])' "$1" "$2"
}

# 1. forced bouncing, unsafe skip, RX
run --packets 40000 --dir rx --dma identity --force-bounce on --unsafe-skip --csv "$tmp/a.csv"
rc=$?
[ $rc -eq 0 ] || bad "unsafe exhaustion: exit $rc, want 0: $(cat "$tmp/err")"
st=$(field "$tmp/a.csv" status) pk=$(field "$tmp/a.csv" packets) er=$(field "$tmp/a.csv" error)
[ "$st" = exhausted ] || bad "unsafe exhaustion: status '$st', want exhausted"
[ "$pk" = 16384 ] || bad "unsafe exhaustion: packets $pk, want 16384 (32768 slots / 2 per packet)"
case "$er" in
*"exhausted after 16384 packets"*"bounce pool exhausted"*"pool 67108864 bytes = 32768 slots of 2048 bytes, 32768 used"*) ;;
*) bad "unsafe exhaustion: error does not name the pool, its size and use: $er" ;;
esac
grep -q "EXHAUSTED 1 of 1 after 16384 packets" "$tmp/out" || bad "table: no EXHAUSTED cell: $(cat "$tmp/out")"
grep -q "UNSAFE.*exhausted in 1 of them (the first after 16384 packets)" "$tmp/out" ||
	bad "table: the UNSAFE summary does not give the packets until exhaustion"
echo "unsafe skip, forced bouncing: status $st after $pk packets; error: $er"

# 2. the rfc rule allows skip on a 30-bit mask: the bounced half leaks
run --packets 40000 --dir tx --dma identity --dma-mask 30 --skip-rule rfc --csv "$tmp/b.csv"
rc=$?
[ $rc -eq 1 ] || bad "rfc exhaustion: exit $rc, want 1"
st=$(field "$tmp/b.csv" status) pk=$(field "$tmp/b.csv" packets)
[ "$st" = exhausted ] || bad "rfc exhaustion: status '$st', want exhausted"
[ "$pk" -gt 0 ] && [ "$pk" -lt 40000 ] || bad "rfc exhaustion: packets $pk, want 1..39999"
grep -q "exhausted after $pk packets" "$tmp/err" || bad "rfc exhaustion: stderr: $(cat "$tmp/err")"
echo "skip-rule rfc, 30-bit mask: status $st after $pk packets (exit $rc)"

# 3. premapped: the arena exhausts the pool at setup
"$vq" --layout split --descs 1 --pkt-bytes 1500 --queue-size 32768 --policy premapped --device inline --warmup 0 \
	--reps 1 --packets 100 --dir both --dma identity --force-bounce on --csv "$tmp/p.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || bad "premapped setup exhaustion: exit $rc, want 1"
st=$(field "$tmp/p.csv" status) pk=$(field "$tmp/p.csv" packets) er=$(field "$tmp/p.csv" error)
[ "$st" = exhausted ] || bad "premapped setup exhaustion: status '$st', want exhausted"
[ "$pk" = 0 ] || bad "premapped setup exhaustion: packets $pk, want 0"
case "$er" in
*"exhausted at setup (0 packets)"*"premapped: mapping arena buffer"*"bounce pool exhausted"*"pool 67108864 bytes = 32768 slots of 2048 bytes, 32768 used"*) ;;
*) bad "premapped setup exhaustion: error does not name the pool, its size and use: $er" ;;
esac
echo "premapped, arena larger than the pool: status $st at setup; error: $er"

# 4. a run that does not exhaust stays ok
run --dir rx --dma identity --packets 3000 --csv "$tmp/c.csv"
[ "$(field "$tmp/c.csv" status)" = ok ] || bad "identity: status $(field "$tmp/c.csv" status)"
[ $fail -eq 0 ] && echo "test_cli_exhaust: ok"
exit $fail
