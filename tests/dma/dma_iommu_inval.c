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
 * The lazy queue's timer on a test clock (armed, fires at the first unmap
 * at its deadline, a full queue does not disarm it, it flushes an empty
 * queue)
 * and the IOVA allocation and free counts, lazy and strict.
 */
#include "dma_tcommon.h"

#define N 10
#define U(x) ((unsigned long long)(x))

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void run(bool lazy, uint8_t *arena)
{
	const char *l = lazy ? "iommu lazy" : "iommu strict";
	struct dma_params p = TP(.lazy = lazy, .flush_batch = 8);
	struct dma *d;
	int r = dma_open("iommu", &p, &d);
	REQUIRE(r == 0, "%s: open: %s", l, dma_last_error());
	if (lazy) /* the clock stands still: only the full queue flushes */
		REQUIRE(dma_set_clock(d, fake_clock, NULL) == 0, "%s: set_clock", l);
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


/* map and unmap one page-sized buffer */
static void cycle(struct dma *d, uint8_t *arena, unsigned i)
{
	uint64_t iova;
	REQUIRE(dma_map(d, arena + (size_t)i * 4096, 4096, DMA_TO_DEVICE, &iova) == 0, "timer: map %u: %s", i,
		dma_last_error());
	REQUIRE(dma_unmap(d, iova, 4096, DMA_TO_DEVICE) == 0, "timer: unmap %u: %s", i, dma_last_error());
}

/* The lazy flush queue's timer (6.1's fq_timer, fq_flush_timeout) on a
 * clock the test moves: armed by the first queued IOVA, it fires (flush,
 * queue freed) at the first unmap at or after fq_timeout_us; a full queue
 * flushes without disarming it. Strict counts one IOVA alloc and free per
 * mapping. */
static void timer(uint8_t *arena)
{
	struct dma *d;
	struct dma_params p = TP(.lazy = true, .flush_batch = 8, .fq_timeout_us = 1000);
	REQUIRE(dma_open("iommu", &p, &d) == 0, "timer: open: %s", dma_last_error());
	REQUIRE(dma_set_clock(d, fake_clock, NULL) == 0, "timer: set_clock: %s", dma_last_error());
	fake_now = 5000000;
	for (unsigned i = 0; i < 3; i++) /* 3 queued, timer armed at t0 */
		cycle(d, arena, i);
	struct dma_counters c = t_ctr(d);
	CHECK(c.iotlb_flushes == 0 && c.iotlb_timer_flushes == 0 && c.iova_allocs == 3 && c.iova_frees == 0,
	      "timer: 3 unmaps queued, nothing flushed (flushes %llu, allocs %llu, frees %llu)", U(c.iotlb_flushes),
	      U(c.iova_allocs), U(c.iova_frees));
	fake_now += 999999;
	cycle(d, arena, 3); /* 1 ns before the deadline: 4 queued */
	c = t_ctr(d);
	CHECK(c.iotlb_timer_flushes == 0 && c.iova_frees == 0, "timer: not yet at 999.999 us");
	fake_now += 1;
	cycle(d, arena, 4); /* at the deadline: the unmap fires it (4 freed), then queues and re-arms */
	c = t_ctr(d);
	CHECK(c.iotlb_timer_flushes == 1 && c.iotlb_flushes == 1 && c.iova_frees == 4 && c.iova_allocs == 5,
	      "timer: fired at 1000 us: timer flushes %llu, flushes %llu, frees %llu, allocs %llu",
	      U(c.iotlb_timer_flushes), U(c.iotlb_flushes), U(c.iova_frees), U(c.iova_allocs));
	for (unsigned i = 5; i < 12; i++) /* 1 + 7 = 8 queued: the full queue flushes */
		cycle(d, arena, i);
	c = t_ctr(d);
	CHECK(c.iotlb_flushes == 2 && c.iotlb_timer_flushes == 1 && c.iova_frees == 12,
	      "timer: a full queue of 8 flushes (flushes %llu, timer %llu, frees %llu)", U(c.iotlb_flushes),
	      U(c.iotlb_timer_flushes), U(c.iova_frees));
	fake_now += 1000000; /* still armed (since 4's unmap): fires though the queue is empty */
	uint64_t iova;
	REQUIRE(dma_map(d, arena, 4096, DMA_TO_DEVICE, &iova) == 0, "timer: map");
	c = t_ctr(d);
	CHECK(c.iotlb_timer_flushes == 1, "timer: polled at unmaps only: the map does not fire it");
	REQUIRE(dma_unmap(d, iova, 4096, DMA_TO_DEVICE) == 0, "timer: unmap");
	c = t_ctr(d);
	CHECK(c.iotlb_flushes == 3 && c.iotlb_timer_flushes == 2 && c.iova_frees == 12,
	      "timer: an armed timer flushes an empty queue (flushes %llu, timer %llu, frees %llu)",
	      U(c.iotlb_flushes), U(c.iotlb_timer_flushes), U(c.iova_frees));
	printf("iommu lazy timer: flushes %llu (timer %llu), IOVA allocs %llu frees %llu\n", U(c.iotlb_flushes),
	       U(c.iotlb_timer_flushes), U(c.iova_allocs), U(c.iova_frees));
	dma_close(d);
	p = (struct dma_params)TP();
	REQUIRE(dma_open("iommu", &p, &d) == 0, "strict: open");
	for (unsigned i = 0; i < 5; i++)
		cycle(d, arena, i);
	c = t_ctr(d);
	CHECK(c.iova_allocs == 5 && c.iova_frees == 5 && c.iotlb_flushes == 5 && c.iotlb_timer_flushes == 0,
	      "strict: 5 IOVA allocs, 5 frees, 5 flushes, no timer (%llu %llu %llu %llu)", U(c.iova_allocs),
	      U(c.iova_frees), U(c.iotlb_flushes), U(c.iotlb_timer_flushes));
	dma_close(d);
	REQUIRE(dma_open("identity", &p, &d) == 0, "identity: open");
	CHECK(dma_set_clock(d, fake_clock, NULL) == -ENOTSUP, "identity has no timer: -ENOTSUP");
	dma_close(d);
}

int main(void)
{
	uint8_t *arena = t_arena();
	run(false, arena);
	run(true, arena);
	timer(arena);
	t_arena_free(arena);
	return t_done("dma_iommu_inval");
}
