#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_vfio_qemu.sh VQBENCH CACHE - vqbench drives a real virtio-net PCI
# device through vfio-pci, in a QEMU guest behind an emulated Intel IOMMU
# (scripts/qemu/run-guest.sh), once with a split ring and once with a
# packed ring (packed=on):
#   - every policy runs against real VFIO_IOMMU_MAP_DMA/UNMAP_DMA: full,
#     compact and premapped; skip is refused without --unsafe-skip (split
#     boot) and, with it (packed boot), runs and leaks its mappings;
#   - --dir tx: N frames consumed by the device (every chain comes back);
#   - --dir both: N/2 ARP requests to 10.0.2.2, N/2 replies received and
#     checked byte by byte (they must name the device's MAC and 10.0.2.15);
#   - direct and indirect chains, 1 and 4 descriptors per packet;
#   - no DMAR fault in the guest's kernel log; the device's features are
#     reported (RING_PACKED accepted only on the packed boot).
# Skips (77) only when QEMU, busybox-static or the Debian kernel cannot be
# had (scripts/install-deps.sh installs them; CI must not skip).
set -uo pipefail
vqbench=${1:?usage: test_vfio_qemu.sh VQBENCH CACHE}
cache=${2:?usage: test_vfio_qemu.sh VQBENCH CACHE}
here=$(cd "$(dirname "$0")" && pwd)
runner=$here/../../scripts/qemu/run-guest.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/test_vfio_qemu.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
checks=0
check() { # description, then a command
	local what=$1; shift
	checks=$((checks + 1))
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=$((fail + 1)); fi
}

N=256
common=(--device vfio:@BDF@ --dma vfio --descs 1,4 --indirect off,on --dir tx,both
	--pkt-bytes 64 --batch 16 --queue-size 256 --packets $N --warmup 0 --reps 1 --cores auto)

boot() { # name, runner flags..., -- vqbench args
	local name=$1; shift
	local t0=$SECONDS
	"$runner" --cache "$cache" --vqbench "$vqbench" --out "$work/$name.csv" --log "$work/$name.log" "$@" \
		> "$work/$name.out" 2>&1
	local rc=$?
	echo "--- $name boot: exit $rc after $((SECONDS - t0)) s"
	sed -n 's/^\(VQB-RUN\|vqbench: vfio device\|vqbench: skipping\)/  &/p' "$work/$name.log" | sort -u | head -n 12
	if [ $rc = 77 ]; then
		cat "$work/$name.out"
		echo "SKIP: the QEMU guest cannot run here"
		exit 77
	fi
	return $rc
}

# rows: policy set, every row ok with 0 errors and N packets; leaked as asked
check_csv() { # csv, expected policies (comma list), skip-expected-leaks (0/1)
	python3 - "$1" "$2" "$3" "$N" <<'PY'
import csv, sys
path, pols, skip_leaks, n = sys.argv[1], set(sys.argv[2].split(',')), sys.argv[3] == '1', int(sys.argv[4])
rows = list(csv.DictReader(open(path)))
bad = []
seen = set()
for r in rows:
    seen.add(r['policy'])
    tag = f"{r['layout']} {r['policy']} descs={r['descs']} indirect={r['indirect']} dir={r['dir']}"
    if r['status'] != 'ok' or r['errors'] != '0' or int(r['packets']) != n:
        bad.append(f"{tag}: status {r['status']} errors {r['errors']} packets {r['packets']} ({r['error']})")
    if r['device'].split(':')[0] != 'vfio' or r['dma'] != 'vfio' or r['device_thread'] != 'hardware':
        bad.append(f"{tag}: device {r['device']} dma {r['dma']} thread {r['device_thread']}")
    leaked = int(r['leaked_mappings'] or 0)
    if r['policy'] == 'skip' and skip_leaks:
        if leaked == 0:
            bad.append(f"{tag}: unsafe skip leaked no mapping through the real IOMMU")
    elif leaked:
        bad.append(f"{tag}: {leaked} mappings leaked")
    if r['policy'] in ('full', 'compact') and float(r['maps_per_pkt']) < 1:
        bad.append(f"{tag}: maps/pkt {r['maps_per_pkt']} < 1")
    if r['policy'] == 'premapped' and float(r['maps_per_pkt']) != 0:
        bad.append(f"{tag}: premapped maps/pkt {r['maps_per_pkt']}")
expect = 2 * 2 * 2 * len(pols)  # descs x indirect x dir x policies
if seen != pols:
    bad.append(f"policies {sorted(seen)}, expected {sorted(pols)}")
if len(rows) != expect:
    bad.append(f"{len(rows)} rows, expected {expect}")
for b in bad:
    print("   ", b)
print(f"    {len(rows)} rows checked in {path.rsplit('/', 1)[-1]}")
sys.exit(1 if bad else 0)
PY
}

# 1. split ring; skip must be refused without --unsafe-skip
boot split -- "${common[@]}" --layout split --policy full,compact,skip,premapped
rc=$?
check "split boot: vqbench exit 0 (got $rc)" test "$rc" = 0
check "split: every row verified (full, compact, premapped)" check_csv "$work/split.csv" full,compact,premapped 0
check "split: skip refused without --unsafe-skip" \
	grep -q "skipping configuration .* skip: .*needs unmap\|skipping configuration .* skip:" "$work/split.log"
check "split: features reported, VERSION_1 and ACCESS_PLATFORM accepted, RING_PACKED not" \
	bash -c "grep 'vqbench: vfio device' '$work/split.log' | grep 'VERSION_1' | grep 'ACCESS_PLATFORM' | grep -vq RING_PACKED"
check "split: no DMAR fault in the guest" bash -c "! grep -q '^VQB-DMAR' '$work/split.log'"

# 2. packed ring; skip runs with --unsafe-skip and leaks through the IOMMU
boot packed --packed -- "${common[@]}" --layout packed --policy full,compact,skip,premapped --unsafe-skip
rc=$?
check "packed boot: vqbench exit 0 (got $rc)" test "$rc" = 0
check "packed: every row verified; unsafe skip leaks its mappings" check_csv "$work/packed.csv" full,compact,skip,premapped 1
check "packed: RING_PACKED accepted" bash -c "grep 'vqbench: vfio device' '$work/packed.log' | grep -q RING_PACKED"
check "packed: no DMAR fault in the guest" bash -c "! grep -q '^VQB-DMAR' '$work/packed.log'"

if [ $fail != 0 ]; then
	for f in "$work"/*.log; do echo "=== $f (tail)"; tail -n 25 "$f"; done
fi
echo "test_vfio_qemu: $checks checks, $fail failed"
[ $fail = 0 ]
