#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_kernel_crosscheck.sh VQBENCH CACHE SCRIPTS - a reduced kernel
# cross-check end to end (scripts/kernel-crosscheck.sh): Debian's 6.1
# kernel boots twice in QEMU (dma-direct, then swiotlb=force), pktgen sends
# 4-descriptor packets (frags 3) through the kernel's own virtio_net, and the
# counts are checked cell for cell against vqbench:
#   - the kernel used exactly 4 descriptors for every packet (hist), and an
#     indirect table: 5 dma_map_page_attrs and 5 dma_unmap_page_attrs per
#     packet, none of them a sync; vqbench's maps and unmaps are equal;
#   - dma-direct bounces nothing; swiotlb=force bounces all 5 mappings and
#     copies the packet's bytes plus the 64-byte table once
#     (swiotlb_tbl_map_single), and vqbench copies exactly as much with no
#     sync (it maps the indirect table after writing it, as
#     virtqueue_add_split does);
#   - every other cell is equal or carries an explanation (kernel_report.py
#     exits 0).
# Skips (77) only when QEMU, busybox-static or the Debian kernel cannot be
# had (scripts/install-deps.sh installs them; CI must not skip).
set -uo pipefail
vqbench=${1:?usage: test_kernel_crosscheck.sh VQBENCH CACHE SCRIPTS}
cache=${2:?usage: test_kernel_crosscheck.sh VQBENCH CACHE SCRIPTS}
scripts=${3:?usage: test_kernel_crosscheck.sh VQBENCH CACHE SCRIPTS}
tmp=$(mktemp -d -t vqb_test_kernel_crosscheck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
t0=$SECONDS
bash "$scripts/kernel-crosscheck.sh" --setups direct,swiotlb --frags 3 --rx off --tcp 0 --packets 512 \
	--out-dir "$tmp/out" --vqbench "$vqbench" --cache "$cache" --logs "$tmp/logs" >"$tmp/run.out" 2>&1
rc=$?
echo "kernel-crosscheck.sh: exit $rc after $((SECONDS - t0)) s (TCG wall time)"
if [ $rc = 77 ]; then
	cat "$tmp/run.out"
	echo "SKIP: the QEMU guest cannot run here"
	exit 77
fi
if [ $rc != 0 ]; then
	cat "$tmp/run.out"
	echo "FAIL: kernel-crosscheck.sh exited $rc"
	exit 1
fi
python3 - "$tmp"/out/kernel-crosscheck-[0-9]*.csv "$tmp"/out/kernel-descs-[0-9]*.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
hists = list(csv.DictReader(open(sys.argv[2])))
fails = checks = 0
def check(what, ok):
    global fails, checks
    checks += 1
    print(("ok: " if ok else "FAIL: ") + what)
    fails += not ok
def cell(setup, counter):
    r = [x for x in rows if x["setup"] == setup and x["dir"] == "tx" and x["descs"] == "4" and x["counter"] == counter]
    if len(r) != 1:
        return None, None
    f = lambda s: None if s == "" else float(s)
    return f(r[0]["kernel"]), f(r[0]["vqbench"])
for s in ("direct", "swiotlb"):
    h = [x for x in hists if x["setup"] == s and x["phase"] == "tx4"]
    check(f"{s}: the kernel's sg-count hist is 4 descriptors for all 512 packets ({[(x['descs'], x['count']) for x in h]})",
          [(x["descs"], x["count"]) for x in h] == [("4", "512")])
    pk = {x["packets"] for x in rows if x["setup"] == s and x["dir"] == "tx"}
    check(f"{s}: 512 packets per phase ({pk})", pk == {"512"})
    for c in ("descs", "maps", "unmaps"):
        k, v = cell(s, c)
        want = 4 if c == "descs" else 5
        check(f"{s} {c}: kernel {k} == {want} == vqbench {v}", k == want and v == want)
    k, v = cell(s, "syncs")
    check(f"{s} syncs: kernel {k} == 0 == vqbench {v} (both map the indirect table after writing it)",
          k == 0 and v == 0)
k, v = cell("direct", "swiotlb_maps")
check(f"direct: no swiotlb mapping (kernel {k}, vqbench {v})", k == 0 and v == 0)
k, v = cell("direct", "bounce_bytes")
check(f"direct: no bytes bounced (kernel {k}, vqbench {v})", k == 0 and v == 0)
k, v = cell("swiotlb", "swiotlb_maps")
check(f"swiotlb=force: every mapping bounces (kernel {k} swiotlb_tbl_map_single per packet == 5 == vqbench {v} bounced)",
      k == 5 and v == 5)
for s in ("direct", "swiotlb"):
    for c in ("iova_allocs", "iova_frees", "iotlb_flushes"):
        k, v = cell(s, c)
        check(f"{s} {c}: no IOMMU, kernel {k} == vqbench {v} == 0", k == 0 and v == 0)
k, v = cell("swiotlb", "bounce_bytes")
check(f"swiotlb=force: bytes bounced = 1024 + 12 header + 4 x 16 table, copied once (kernel {k}) == vqbench {v}",
      k == 1100 and v == 1100)
k, v = cell("direct", "iommu_maps")
check(f"no IOMMU: no dma-iommu call (kernel {k}, vqbench {v})", k == 0 and v == 0)
print(f"{checks} checks, {fails} failed")
sys.exit(1 if fails else 0)
PY
rc=$?
if ! grep -q '^## Differences and what must change' "$tmp/out/KERNEL.md"; then
	echo "FAIL: KERNEL.md has no differences section"
	rc=1
fi
if grep -q UNEXPLAINED "$tmp/out/KERNEL.md"; then
	echo "FAIL: KERNEL.md has an UNEXPLAINED cell:"
	grep UNEXPLAINED "$tmp/out/KERNEL.md"
	rc=1
fi
if [ $rc != 0 ]; then
	echo "--- kernel-crosscheck.sh output"
	cat "$tmp/run.out"
fi
exit $rc
