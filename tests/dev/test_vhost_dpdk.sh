#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_vhost_dpdk.sh VQBENCH VHOST_BACKEND_SH - vqbench's vhost-user device
# against DPDK's vhost backend (dpdk-testpmd, net_vhost vdev):
#   0. the first echo run on a freshly started backend, sending right after
#      the set-up, gets every packet back (split, packed); a bad
#      VQB_VU_START_MS is refused;
#   1. echo (--forward-mode=io, loop): N packets sent and N received on split
#      and packed, in-order off/on, 1 and 4 descriptors, event-idx off/on;
#      every payload is verified when it comes back (CSV: packets, errors);
#   2. RX from a generator (txonly): N packets of the right length;
#   3. a missing socket: exit 1, the message names the path; bad values
#      (no path, --dma iommu): exit 2;
#   4. the backend killed (SIGKILL) mid-run: vqbench exits 1 within 10 s
#      naming the socket, no hang;
#   5. clean-up: socket, pid file and the backend's hugepage files removed,
#      even when a check fails (trap).
set -u
vqb=$1 backend=$2
N=${VQB_VHOST_PACKETS:-100000}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (hugepages for dpdk-testpmd)"; exit 77; }
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd missing (Debian package dpdk)"; exit 77; }
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 64 ] || { echo "SKIP: needs 64 free 2 MiB hugepages, $free free (scripts/hugepages.sh)"; exit 77; }

fails=0 checks=0
check() { # check DESCRIPTION COMMAND...
	checks=$((checks + 1))
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vqb_vhost.XXXXXX")
sock=$tmp/vh.sock
prefix="vqbvh$(printf '%s' "$sock" | cksum | cut -d' ' -f1)"
vqb_pid=
cleanup() {
	[ -n "$vqb_pid" ] && kill -0 "$vqb_pid" 2>/dev/null && kill -KILL "$vqb_pid"
	"$backend" stop "$sock" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# rows_ok CSV ROWS PACKETS: ROWS rows, each status ok, PACKETS packets, 0 errors
rows_ok() {
	python3 - "$@" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
want_rows, want_pkts = int(sys.argv[2]), int(sys.argv[3])
bad = [r for r in rows if r["status"] != "ok" or int(r["packets"]) != want_pkts or int(r["errors"]) != 0
       or int(r["lost_bytes"]) != 0]
for r in bad:
    print("  bad row:", r["layout"], r["descs"], r["in_order"], r["event_idx"], r["status"], r["error"],
          r["packets"], r["errors"], file=sys.stderr)
print("  %d rows, %s packets each" % (len(rows), ",".join(sorted({r["packets"] for r in rows}))))
sys.exit(0 if len(rows) == want_rows and not bad else 1)
EOF
}

# 0. the first run against a freshly started backend, sending at once
#    (VQB_VU_START_MS=0: no pause after the set-up): testpmd starts forwarding
#    only once the link is up, i.e. after this set-up, and without
#    --no-flush-rx it first drains (drops) what the driver already sent; the
#    echo then stalls with every RX buffer waiting
check "backend (io) starts" "$backend" start "$sock" io
for l in split packed; do
	VQB_VU_START_MS=0 "$vqb" --device "vhost-user:$sock" --layout $l --descs 1 --dir both --policy full \
		--queue-size 256 --packets 20000 --reps 1 --warmup 0 -q --csv "$tmp/first.csv" >"$tmp/first.out" 2>&1
	check "echo at once on a fresh backend ($l): 10000 packets out and 10000 back" rows_ok "$tmp/first.csv" 1 20000 \
		|| cat "$tmp/first.out" >&2
	"$backend" stop "$sock" >/dev/null
	check "backend (io) starts again" "$backend" start "$sock" io
done
err=$(VQB_VU_START_MS=1x "$vqb" --device "vhost-user:$sock" --layout split --descs 1 --packets 10 --reps 1 \
	--warmup 0 -q --csv /dev/null 2>&1 >/dev/null); rc=$?
check "VQB_VU_START_MS=1x is refused (exit 1), naming the variable, the value and the range" \
	bash -c '[ $0 = 1 ] && grep -q "VQB_VU_START_MS=.1x. (allowed: 0..60000 milliseconds)" <<<"$1"' "$rc" "$err"

# 1. echo: every TX packet comes back on RX and is verified there
"$vqb" --device "vhost-user:$sock" --layout split,packed --in-order off,on --descs 1,4 --event-idx off,on \
	--dir both --policy full --queue-size 256 --packets $((2 * N)) --reps 1 --warmup 0 -q \
	--csv "$tmp/echo.csv" >"$tmp/echo.out" 2>&1
rc=$?
check "echo sweep exits 0" test $rc = 0 || cat "$tmp/echo.out" >&2
check "echo: 16 configurations, each $N packets out and $N back, every payload verified" \
	rows_ok "$tmp/echo.csv" 16 $((2 * N))
"$vqb" --device "vhost-user:$sock" --layout packed --descs 1-6 --dir both --policy premapped \
	--queue-size 1024 --pkt-bytes 1500 --packets $((2 * N)) --reps 1 --warmup 0 -q \
	--csv "$tmp/echo2.csv" >"$tmp/echo2.out" 2>&1
check "echo: 1500-byte packets over 1..6 descriptors, premapped, queue 1024" rows_ok "$tmp/echo2.csv" 1 $((2 * N))
"$vqb" --device "vhost-user:$sock" --layout split,packed --indirect on --descs 4 --dir both --policy full,compact \
	--queue-size 256 --packets $((2 * N)) --reps 1 --warmup 0 -q --csv "$tmp/echo3.csv" >"$tmp/echo3.out" 2>&1
check "echo: indirect tables in the shared regions, split and packed, full and compact" \
	rows_ok "$tmp/echo3.csv" 4 $((2 * N))
"$vqb" --device "vhost-user:$sock" --layout split --descs 2 --dir both --policy full --pages 4k,2m \
	--queue-size 256 --packets $((2 * N)) --reps 1 --warmup 0 -q --csv "$tmp/pages.csv" >"$tmp/pages.out" 2>&1
check "echo: --pages 4k and 2m (hugetlbfs memfds), every payload verified" rows_ok "$tmp/pages.csv" 2 $((2 * N))
check "echo: page_bytes 4096 and 2097152 in the CSV" python3 -c '
import csv, sys
got = {r["pages"]: r["page_bytes"] for r in csv.DictReader(open(sys.argv[1]))}
sys.exit(0 if got == {"4k": "4096", "2m": "2097152"} else print(got) or 1)' "$tmp/pages.csv"
"$backend" stop "$sock" >/dev/null

# 2. RX from a generator: lengths checked
check "backend (txonly) starts" "$backend" start "$sock" txonly
"$vqb" --device "vhost-user:$sock" --layout split,packed --descs 1,4 --dir rx --policy full \
	--queue-size 256 --packets "$N" --reps 1 --warmup 0 -q --csv "$tmp/rx.csv" >"$tmp/rx.out" 2>&1
check "rx from txonly exits 0" test $? = 0 || cat "$tmp/rx.out" >&2
check "rx: 4 configurations, $N packets each of 12 + 64 bytes" rows_ok "$tmp/rx.csv" 4 "$N"
"$backend" stop "$sock" >/dev/null

# 3. no socket
err=$("$vqb" --device "vhost-user:$tmp/none.sock" --layout split --descs 1 --policy full --packets 1000 \
	--reps 1 --warmup 0 -q --csv /dev/null 2>&1 >/dev/null); rc=$?
check "missing socket exits 1" test $rc = 1
check "missing socket: the message names the path" grep -q "'$tmp/none.sock': no such socket" <<<"$err"

err=$("$vqb" --device vhost-user 2>&1 >/dev/null); rc=$?
check "--device vhost-user without a path exits 2 naming flag and value" \
	bash -c '[ $0 = 2 ] && grep -q -- "--device: .vhost-user. needs a socket path" <<<"$1"' "$rc" "$err"
err=$("$vqb" --device "vhost-user:$sock" --dma iommu --packets 10 2>&1 >/dev/null); rc=$?
check "vhost-user with --dma iommu is refused (exit 2), saying why" \
	bash -c '[ $0 = 2 ] && grep -q "needs --dma identity" <<<"$1"' "$rc" "$err"

# 4. the backend dies mid-run
check "backend (io) starts again" "$backend" start "$sock" io
start=$SECONDS
"$vqb" --device "vhost-user:$sock" --layout split --descs 1 --dir both --policy full --seconds 60 \
	--reps 1 --warmup 0 -q --csv /dev/null >"$tmp/kill.out" 2>&1 &
vqb_pid=$!
sleep 3
kill -KILL "$(cat "$sock.pid")"
wait "$vqb_pid"; rc=$?
vqb_pid=
took=$((SECONDS - start))
check "killed backend: vqbench exits 1 (got $rc)" test $rc = 1
check "killed backend: reported after ${took}s (< 10 s)" test $took -lt 10
check "killed backend: the message names the socket" grep -q "'$sock': the backend closed the connection" "$tmp/kill.out" \
	|| cat "$tmp/kill.out" >&2

# 5. clean-up leaves nothing behind
"$backend" stop "$sock" >/dev/null
check "stop removes the socket and pid file" test ! -e "$sock" -a ! -e "$sock.pid"
check "stop removes the backend's hugepage files" bash -c "! ls /dev/hugepages/${prefix}* >/dev/null 2>&1"

echo "test_vhost_dpdk: $((checks - fails)) passed, $fails failed"
[ $fails = 0 ]
