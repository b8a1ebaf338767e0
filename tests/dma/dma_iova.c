/* SPDX-License-Identifier: MIT */
/*
 * dma_iova: the IOVA allocator the iommu and vfio backends share. Blocks of
 * 2^order pages never overlap, are naturally aligned and stay inside the
 * space; reserved pages are never handed out; freed blocks of cached sizes
 * (1..32 pages) come back from the magazines without touching the bitmap
 * (LIFO), and a full depot spills to the bitmap; larger blocks always use
 * the bitmap; a full space is -ENOMEM; after freeing everything the whole
 * space can be allocated again in another size (the caches are flushed
 * when the bitmap runs out).
 */
#include "dma_pvt.h"
#include "dma_tcommon.h"

#define BASE 0x100u
#define NPAGES 8192u

static uint8_t owner[NPAGES]; /* 1 + index of the block holding a page */

static bool take(int64_t pfn, unsigned order)
{
	if (pfn < BASE || pfn + (1 << order) > BASE + NPAGES ||
	    (pfn - BASE) % (1 << order))
		return false;
	for (unsigned i = 0; i < 1u << order; i++) {
		if (owner[pfn - BASE + i])
			return false;
		owner[pfn - BASE + i] = 1;
	}
	return true;
}

static void give(int64_t pfn, unsigned order)
{
	memset(&owner[pfn - BASE], 0, 1u << order);
}

int main(void)
{
	struct dma *d; /* accounting owner for the allocator's memory */
	struct dma_params p = TP();
	REQUIRE(dma_open("identity", &p, &d) == 0, "open");
	struct dma_iova a;
	int r = dma_iova_init(d, &a, BASE, NPAGES);
	REQUIRE(r == 0, "init: %s", dma_last_error());
	dma_iova_reserve(&a, BASE + 100, 28); /* a hole at pages 100..127 */
	for (unsigned i = 100; i < 128; i++)
		owner[i] = 2;

	/* 1. Mixed orders until full: disjoint, aligned, outside the hole. */
	static int64_t pfn[NPAGES];
	static unsigned ord[NPAGES];
	unsigned n = 0, bad = 0;
	for (unsigned k = 0;; k++) {
		unsigned o = (k * 7) % 8; /* 1..128 pages */
		int64_t f = dma_iova_alloc(&a, o);
		if (f < 0) {
			/* Fill the rest with single pages. */
			while ((f = dma_iova_alloc(&a, 0)) >= 0) {
				bad += !take(f, 0);
				pfn[n] = f;
				ord[n++] = 0;
			}
			break;
		}
		bad += !take(f, o);
		pfn[n] = f;
		ord[n++] = o;
	}
	unsigned used = 0;
	for (unsigned i = 0; i < NPAGES; i++)
		used += owner[i] != 0;
	CHECK(bad == 0, "%u blocks overlapped, were misaligned or out of range",
	      bad);
	CHECK(used == NPAGES, "the space is full: %u of %u pages", used, NPAGES);
	CHECK(dma_iova_alloc(&a, 0) == -ENOMEM, "a full space is -ENOMEM");
	printf("filled %u pages with %u blocks of 1..128 pages: disjoint, "
	       "aligned, hole kept\n", NPAGES, n);

	/* 2. LIFO reuse from the magazines, no bitmap work. */
	uint64_t slow = a.slow_allocs;
	for (unsigned i = 0; i < n && i < 200; i++)
		if (ord[i] == 2) {
			dma_iova_free(&a, (uint64_t)pfn[i], 2);
			int64_t f = dma_iova_alloc(&a, 2);
			CHECK(f == pfn[i], "a freed 4-page block comes back first");
		}
	CHECK(a.slow_allocs == slow, "cached sizes reuse without the bitmap");

	/* 3. Free everything; cached sizes land in magazines (and spill when
	 * the depot is full), 64/128-page blocks go to the bitmap. */
	uint64_t frees = a.slow_frees;
	for (unsigned i = 0; i < n; i++) {
		dma_iova_free(&a, (uint64_t)pfn[i], ord[i]);
		give(pfn[i], ord[i]);
	}
	unsigned big = 0, single = 0;
	for (unsigned i = 0; i < n; i++) {
		big += ord[i] >= DMA_IOVA_CLASSES;
		single += ord[i] == 0;
	}
	unsigned cap = DMA_IOVA_MAG * (2 + DMA_IOVA_DEPOT);
	unsigned spilled = single > cap ? ((single - cap + DMA_IOVA_MAG - 1) /
					   DMA_IOVA_MAG) * DMA_IOVA_MAG : 0;
	CHECK(a.slow_frees - frees == big + spilled, "bitmap frees %llu: want "
	      "%u large blocks + %u spilled single pages",
	      (unsigned long long)(a.slow_frees - frees), big, spilled);
	printf("freed all: %u large blocks to the bitmap, %u of %u single "
	       "pages spilled from a full depot\n", big, spilled, single);

	/* 4. After freeing, the whole space can be allocated again. */
	for (unsigned i = 100; i < 128; i++)
		owner[i] = 2;
	unsigned again = 0;
	bad = 0;
	for (int64_t f; (f = dma_iova_alloc(&a, 0)) >= 0; again++) {
		bad += !take(f, 0);
		pfn[again] = f;
	}
	CHECK(bad == 0 && again == NPAGES - 28, "all %u free pages allocate "
	      "again as single pages (%u, %u bad)", NPAGES - 28, again, bad);

	/* 5. Freeing them all fills the single-page cache (2 magazines + a
	 * depot of full ones), then spills a magazine at a time. */
	frees = a.slow_frees;
	for (unsigned i = 0; i < again; i++)
		dma_iova_free(&a, (uint64_t)pfn[i], 0);
	spilled = again > cap ? ((again - cap + DMA_IOVA_MAG - 1) /
				 DMA_IOVA_MAG) * DMA_IOVA_MAG : 0;
	CHECK(spilled > 0 && a.slow_frees - frees == spilled, "freeing %u "
	      "single pages spills %llu to the bitmap, want %u", again,
	      (unsigned long long)(a.slow_frees - frees), spilled);
	printf("re-allocated %u single pages; freeing them cached %u and "
	       "spilled %u\n", again, again - spilled, spilled);
	uint64_t mem = t_ctr(d).mem_bytes;
	dma_iova_fini(d, &a);
	CHECK(t_ctr(d).mem_bytes < mem, "fini returns the allocator's memory");
	dma_close(d);
	return t_done("dma_iova");
}
