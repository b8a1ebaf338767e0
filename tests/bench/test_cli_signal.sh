#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_signal.sh VQBENCH CHECK_ROWS - SIGINT and SIGTERM in the middle of
# a sweep (inline and two-thread devices): vqbench stops within a second,
# says "interrupted by SIG...", exits 128 + the signal (130, 143), and its
# CSV holds only complete rows (the interrupted run dropped, nothing cut).
# A vqbench without the handler dies by the signal: no message, the check
# fails.
set -u
set -m # job control: a background job gets SIGINT (else the shell ignores it for the job)
vq=$1
rows=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for case in "INT 130 inline" "TERM 143 thread"; do
	set -- $case
	sig=$1 want=$2 dev=$3
	csv=$tmp/$sig.csv
	# 16 configurations x 3 repetitions of 0.15 s: about 7 s in all
	"$vq" --layout split,packed --descs 1,2,3,4 --policy full,compact --device "$dev" --seconds 0.15 \
		--reps 3 --warmup 0 -q --csv "$csv" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 1 300); do
		[ -f "$csv" ] && [ "$(wc -l <"$csv")" -ge 4 ] && break
		sleep 0.05
	done
	t0=$(date +%s%N)
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "SIG$sig ($dev): exit $rc after ${ms} ms"
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: SIG$sig: exit $rc, want $want"; cat "$tmp/err"; fail=1
	fi
	if ! grep -q "interrupted by SIG$sig" "$tmp/err"; then
		echo "FAIL: SIG$sig: no 'interrupted by SIG$sig' message"; cat "$tmp/err"; fail=1
	fi
	if [ "$ms" -gt 2000 ]; then
		echo "FAIL: SIG$sig: took $ms ms to stop"; fail=1
	fi
	if ! n=$(python3 "$rows" "$csv" 3 47); then
		echo "FAIL: SIG$sig: the CSV is not whole rows"; fail=1
	else
		echo "SIG$sig: $n complete rows kept"
		if ! grep -q "$n complete rows written" "$tmp/err"; then
			echo "FAIL: SIG$sig: the message does not give the $n rows"; cat "$tmp/err"; fail=1
		fi
	fi
done
[ $fail -eq 0 ] && echo "test_cli_signal: ok"
exit $fail
