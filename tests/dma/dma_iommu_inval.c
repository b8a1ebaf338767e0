/* SPDX-License-Identifier: MIT */
/*
 * dma_iommu_inval: the software IOMMU's invalidation, strict vs lazy, on one
 * scripted sequence with exact numbers.
 *
 * Script (flush_batch 8 for lazy): map 10 one-page buffers, the device reads
 * each (fills its IOTLB), unmap all 10 (the device reads buffers 8 and 9
 * again after the 8th unmap, which is lazy's flush), then the device reads
 * buffer 0 (flushed in lazy) and buffer 9 (still queued in lazy), then one
 * more map.
 *   strict: both reads refused (faults 2, stale 0); 10 invalidations, 10
 *           flushes; the new map reuses buffer 9's IOVA (LIFO cache) and
 *           the device sees the new buffer through it.
 *   lazy:   read 0 refused (the flush wiped the IOTLB and the PTE is clear),
 *           read 9 succeeds through the stale IOTLB entry (stale_hits 1) and
 *           still reaches the old buffer; 0 invalidations, 1 flush; the new
 *           map does not reuse the queued IOVA of buffer 9.
 * Also: access without permission (device write to TO_DEVICE) is refused,
 * an unmap of an unmapped IOVA, with a wrong length or from inside a
 * mapping is -EINVAL, and a multi-page buffer translates across pages.
 */
#include "dma_tcommon.h"

#define N 10
#define U(x) ((unsigned long long)(x))

static void run(bool lazy, uint8_t *arena)
{
	const char *l = lazy ? "iommu lazy" : "iommu strict";
	struct dma_params p = TP(.lazy = lazy, .flush_batch = 8);
	struct dma *d;
	int r = dma_open("iommu", &p, &d);
	REQUIRE(r == 0, "%s: open: %s", l, dma_last_error());
	unsigned f0 = (unsigned)t_failures;
	uint64_t iova[N];
	for (unsigned i = 0; i < N; i++) {
		t_fill(arena + i * 4096, 1500, i);
		r = dma_map(d, arena + i * 4096, 1500, DMA_TO_DEVICE, &iova[i]);
		REQUIRE(r == 0, "%s: map %u: %s", l, i, dma_last_error());
		uint8_t *q = dma_translate(d, iova[i], 1500, DMA_TO_DEVICE);
		CHECK(q == arena + i * 4096 && t_check(q, 1500, i),
		      "%s: device reads buffer %u", l, i);
	}
	CHECK(dma_translate(d, iova[0], 16, DMA_FROM_DEVICE) == NULL,
	      "%s: a device write to a TO_DEVICE mapping is refused", l);
	for (unsigned i = 0; i < N; i++) {
		r = dma_unmap(d, iova[i], 1500, DMA_TO_DEVICE);
		CHECK(r == 0, "%s: unmap %u: %s", l, i, dma_last_error());
		if (i != 7)
			continue;
		/* Lazy flushed just now (8th unmap); the device touches the
		 * two buffers still mapped, refilling its IOTLB. */
		for (unsigned k = 8; k < N; k++)
			CHECK(dma_translate(d, iova[k], 1500, DMA_TO_DEVICE) ==
			      arena + k * 4096, "%s: buffer %u still mapped", l, k);
	}
	r = dma_unmap(d, iova[0], 1500, DMA_TO_DEVICE);
	CHECK(r == -EINVAL && strstr(dma_last_error(), "not mapped"),
	      "%s: second unmap of an IOVA is -EINVAL (%d, %s)", l, r,
	      dma_last_error());

	uint8_t *p0 = dma_translate(d, iova[0], 1500, DMA_TO_DEVICE);
	uint8_t *p9 = dma_translate(d, iova[N - 1], 1500, DMA_TO_DEVICE);
	struct dma_counters c = t_ctr(d);
	CHECK(p0 == NULL, "%s: access after unmap of a flushed IOVA refused", l);
	if (!lazy) {
		CHECK(p9 == NULL, "%s: access after unmap refused", l);
		CHECK(c.faults == 3 && c.stale_hits == 0, "%s: faults %llu "
		      "(want 3: permission + 2 after unmap) stale %llu (want 0)",
		      l, U(c.faults), U(c.stale_hits));
		CHECK(c.iotlb_invalidations == N && c.iotlb_flushes == N,
		      "%s: invalidations %llu flushes %llu (want %d, %d)", l,
		      U(c.iotlb_invalidations), U(c.iotlb_flushes), N, N);
	} else {
		CHECK(p9 == arena + (N - 1) * 4096, "%s: a stale IOTLB entry "
		      "still lets the device reach the unmapped buffer", l);
		CHECK(c.faults == 2 && c.stale_hits == 1, "%s: faults %llu "
		      "(want 2) stale %llu (want 1)", l, U(c.faults),
		      U(c.stale_hits));
		CHECK(c.iotlb_invalidations == 0 && c.iotlb_flushes == 1,
		      "%s: invalidations %llu flushes %llu (want 0, 1)", l,
		      U(c.iotlb_invalidations), U(c.iotlb_flushes));
	}

	/* IOVA reuse. */
	uint8_t *nb = arena + 20 * 4096;
	t_fill(nb, 1500, 55);
	uint64_t niova;
	r = dma_map(d, nb, 1500, DMA_TO_DEVICE, &niova);
	REQUIRE(r == 0, "%s: map: %s", l, dma_last_error());
	if (!lazy)
		CHECK(niova >> 12 == iova[N - 1] >> 12, "%s: the freed IOVA is "
		      "reused at once (LIFO cache)", l);
	else
		CHECK(niova >> 12 != iova[N - 1] >> 12, "%s: a queued IOVA is "
		      "not reused before the flush", l);
	uint8_t *q = dma_translate(d, niova, 1500, DMA_TO_DEVICE);
	CHECK(q == nb && t_check(q, 1500, 55), "%s: the device reads the new "
	      "buffer through the new mapping", l);
	CHECK(t_ctr(d).stale_hits == (lazy ? 1u : 0u), "%s: no stale hit on "
	      "the new mapping", l);
	dma_unmap(d, niova, 1500, DMA_TO_DEVICE);

	/* Multi-page: 10000 B at offset 100 spans 3 pages. */
	t_fill(arena + 32 * 4096 + 100, 10000, 3);
	r = dma_map(d, arena + 32 * 4096 + 100, 10000, DMA_BIDIRECTIONAL, &niova);
	REQUIRE(r == 0, "%s: map: %s", l, dma_last_error());
	q = dma_translate(d, niova, 10000, DMA_BIDIRECTIONAL);
	CHECK(q == arena + 32 * 4096 + 100 && t_check(q, 10000, 3),
	      "%s: a 3-page mapping translates as one buffer", l);
	CHECK((niova & 4095) == 100, "%s: the IOVA keeps the page offset", l);
	r = dma_unmap(d, niova, 3000, DMA_BIDIRECTIONAL);
	CHECK(r == -EINVAL && strstr(dma_last_error(), "wrong length"),
	      "%s: unmap with a wrong length is refused: %d \"%s\"", l, r,
	      dma_last_error());
	r = dma_unmap(d, niova + 4096, 4000, DMA_BIDIRECTIONAL);
	CHECK(r == -EINVAL, "%s: unmap from inside a mapping is refused", l);
	r = dma_unmap(d, niova, 10000, DMA_BIDIRECTIONAL);
	CHECK(r == 0, "%s: the right unmap works: %s", l, dma_last_error());
	c = t_ctr(d);
	printf("%-13s faults %llu stale_hits %llu invalidations %llu flushes "
	       "%llu: %s\n", l, U(c.faults), U(c.stale_hits),
	       U(c.iotlb_invalidations), U(c.iotlb_flushes),
	       t_failures == f0 ? "ok" : "FAILED");
	dma_close(d);
}

int main(void)
{
	uint8_t *arena = t_arena();
	run(false, arena);
	run(true, arena);
	t_arena_free(arena);
	return t_done("dma_iommu_inval");
}
