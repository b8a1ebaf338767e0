#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hugepages.sh [N] - make at least N 2 MiB hugepages available (default 512)
# and mount hugetlbfs on /dev/hugepages if it is not mounted. Grows the
# reservation, never shrinks one. Needs root.
set -euo pipefail
want=${1:-512}
case "$want" in ''|*[!0-9]*) echo "hugepages.sh: N must be a whole number of 2 MiB pages, got '$want'" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then
	echo "hugepages.sh: must run as root (reserving hugepages writes /proc/sys/vm/nr_hugepages)" >&2
	exit 2
fi
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
have=$(cat "$nr")
if [ "$have" -lt "$want" ]; then
	echo "$want" > "$nr"
	have=$(cat "$nr")
	echo "hugepages.sh: 2 MiB hugepages reserved: $have (asked for $want)"
	if [ "$have" -lt "$want" ]; then
		echo "hugepages.sh: the kernel gave only $have of $want pages (memory fragmented?)" >&2
		exit 1
	fi
else
	echo "hugepages.sh: $have 2 MiB hugepages already reserved (>= $want)"
fi
if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
	echo "hugepages.sh: mounted hugetlbfs on /dev/hugepages"
fi
