#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vhost-backend.sh - DPDK's vhost-user backend (dpdk-testpmd with a
# net_vhost vdev) for vqbench's vhost-user device and for DPDK's own driver.
#
# Usage:
#   scripts/vhost-backend.sh start SOCKET [MODE [CPU]]
#   scripts/vhost-backend.sh stop SOCKET
#
#   MODE  io      (default) every packet the driver sends comes back on its
#                 RX queue unchanged (--forward-mode=io, --port-topology=loop):
#                 vqbench --dir both verifies every payload end to end;
#         rxonly  the backend consumes TX and frees it (a TX sink);
#         txonly  the backend generates 64-byte packets into RX (RX source;
#                 set VHOST_TXPKTS to change --txpkts).
#   CPU   the CPU of the forwarding lcore (default 1); the main lcore, which
#         only prints stats once a second, shares the other CPU.
#
# start returns once the socket exists (at most 20 s), leaving testpmd in the
# background; its pid and log sit beside the socket (SOCKET.pid, SOCKET.log).
# stop sends SIGTERM (SIGKILL after 5 s), then removes the socket, the pid
# file and the process's hugepage files. Needs hugepages
# (scripts/hugepages.sh) and root. Exit: 0 ok, 1 failed, 2 usage.
set -euo pipefail

usage() { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 sock=$2 mode=${3:-io} cpu=${4:-1}
prefix="vqbvh$(printf '%s' "$sock" | cksum | cut -d' ' -f1)"
pidf="$sock.pid" log="$sock.log"

cleanup_files() {
	rm -f "$sock" "$pidf"
	rm -f /dev/hugepages/"$prefix"map_* 2>/dev/null || true
	rm -rf "/var/run/dpdk/$prefix" 2>/dev/null || true
}

case "$cmd" in
start)
	case "$mode" in
	io) fwd=(--forward-mode=io --port-topology=loop) ;;
	rxonly) fwd=(--forward-mode=rxonly) ;;
	txonly) fwd=(--forward-mode=txonly "--txpkts=${VHOST_TXPKTS:-64}") ;;
	*) echo "vhost-backend.sh: MODE '$mode' is not io, rxonly or txonly" >&2; exit 2 ;;
	esac
	case "$cpu" in ''|*[!0-9]*) echo "vhost-backend.sh: CPU '$cpu' is not a CPU number" >&2; exit 2 ;; esac
	command -v dpdk-testpmd >/dev/null || { echo "vhost-backend.sh: dpdk-testpmd not found (Debian package 'dpdk'; scripts/install-deps.sh)" >&2; exit 1; }
	if [ -e "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		echo "vhost-backend.sh: a backend already serves $sock (pid $(cat "$pidf"))" >&2; exit 1
	fi
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	if [ "${free:-0}" -lt 64 ]; then
		echo "vhost-backend.sh: needs 64 free 2 MiB hugepages, $free free (scripts/hugepages.sh)" >&2; exit 1
	fi
	main_cpu=$(( cpu == 0 ? 1 : 0 ))
	[ "$(nproc)" -gt 1 ] || main_cpu=$cpu
	cleanup_files
	# stdin from /dev/null: with --stats-period testpmd runs until SIGTERM.
	# --no-flush-rx: testpmd waits for the link (up when the first front
	# end has set up its vrings), then starts forwarding by draining its RX
	# queues, i.e. dequeuing and freeing what the driver has already put on
	# its TX ring: a front end that sent first would lose those packets
	# (an echo then stalls, every RX buffer waiting for a packet dropped).
	setsid dpdk-testpmd --lcores "0@$main_cpu,1@$cpu" --no-pci --file-prefix="$prefix" \
		--socket-mem 128 \
		--vdev "net_vhost0,iface=$sock,queues=1" -- \
		--nb-cores=1 --rxq=1 --txq=1 --rxd=1024 --txd=1024 --total-num-mbufs=8192 \
		--stats-period 1 --no-lsc-interrupt --no-flush-rx "${fwd[@]}" </dev/null >"$log" 2>&1 &
	echo $! >"$pidf"
	for _ in $(seq 200); do
		[ -S "$sock" ] && { echo "vhost-backend.sh: testpmd (pid $(cat "$pidf"), $mode) serves $sock"; exit 0; }
		kill -0 "$(cat "$pidf")" 2>/dev/null || break
		sleep 0.1
	done
	echo "vhost-backend.sh: testpmd did not create $sock; its log ($log):" >&2
	tail -n 20 "$log" >&2 || true
	"$0" stop "$sock" >/dev/null 2>&1 || true
	exit 1
	;;
stop)
	if [ -e "$pidf" ]; then
		pid=$(cat "$pidf")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	cleanup_files
	;;
*) usage ;;
esac
