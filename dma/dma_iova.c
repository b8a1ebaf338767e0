/* SPDX-License-Identifier: MIT */
/*
 * dma_iova.c - IOVA allocator shared by the iommu and vfio backends.
 *
 * Two layers, as in the kernel's IOVA allocator:
 *   - the slow path: a bitmap over the IOVA space (one bit per 4 KiB page),
 *     searched next-fit for 2^order naturally aligned free pages;
 *   - the fast path, a range cache per power-of-two size class (1..32
 *     pages): a loaded and a previous magazine of freed pfns, and a depot of
 *     full magazines. alloc pops from a magazine; free pushes to one; only
 *     when the depot is full does a magazine's worth go back to the bitmap;
 *   - when the bitmap has no room, every cache is flushed back to it and
 *     the search retried once (space may sit in other sizes' magazines).
 * Freed IOVAs are reused LIFO, so a strict map/unmap loop keeps getting the
 * same IOVA back (which is what makes a missing IOTLB invalidation
 * dangerous).
 *
 * Every magazine is allocated at init: no allocation after it. Driver
 * thread only.
 */
#include <errno.h>
#include <string.h>

#include "dma_pvt.h"

#define IOVA_NMAGS (DMA_IOVA_CLASSES * (2 + DMA_IOVA_DEPOT))

static bool iova_bit(const struct dma_iova *a, uint64_t i)
{
	return a->used[i / 64] >> (i % 64) & 1;
}

static void iova_bits(struct dma_iova *a, uint64_t i, uint64_t n, bool v)
{
	for (uint64_t k = i; k < i + n; k++) {
		if (v)
			a->used[k / 64] |= 1ull << (k % 64);
		else
			a->used[k / 64] &= ~(1ull << (k % 64));
	}
}

int dma_iova_init(struct dma *d, struct dma_iova *a, uint64_t base_pfn,
		  uint64_t npages)
{
	memset(a, 0, sizeof(*a));
	if (!npages || npages > (1ull << 30))
		return dma_err(d, -EINVAL, "IOVA space of %llu pages: must be "
			       "1..2^30", (unsigned long long)npages);
	a->base_pfn = base_pfn;
	a->npages = npages;
	a->used = dma_zalloc(d, (npages + 63) / 64 * sizeof(uint64_t));
	a->mags = dma_zalloc(d, IOVA_NMAGS * sizeof(struct dma_iova_mag));
	if (!a->used || !a->mags) {
		dma_iova_fini(d, a);
		return dma_err(d, -ENOMEM, "cannot allocate the IOVA allocator");
	}
	/* Bits past the end read as used, so whole-word scans stay simple. */
	for (uint64_t i = npages; i % 64; i++)
		a->used[i / 64] |= 1ull << (i % 64);
	struct dma_iova_mag *m = a->mags;
	for (unsigned c = 0; c < DMA_IOVA_CLASSES; c++) {
		struct dma_iova_rcache *rc = &a->rc[c];
		rc->loaded = m++;
		rc->prev = m++;
		for (unsigned k = 0; k < DMA_IOVA_DEPOT; k++)
			rc->spare[rc->nspare++] = m++;
	}
	return 0;
}

void dma_iova_fini(struct dma *d, struct dma_iova *a)
{
	dma_free(d, a->used, (a->npages + 63) / 64 * sizeof(uint64_t));
	dma_free(d, a->mags, IOVA_NMAGS * sizeof(struct dma_iova_mag));
	memset(a, 0, sizeof(*a));
}

void dma_iova_reserve(struct dma_iova *a, uint64_t pfn, uint64_t n)
{
	uint64_t lo = pfn < a->base_pfn ? a->base_pfn : pfn;
	uint64_t hi = pfn + n > a->base_pfn + a->npages ? a->base_pfn + a->npages
							 : pfn + n;
	if (lo < hi)
		iova_bits(a, lo - a->base_pfn, hi - lo, true);
}

static bool iova_range_free(const struct dma_iova *a, uint64_t i, uint64_t n)
{
	if (n >= 64) { /* aligned to 64 as well: whole words */
		for (uint64_t w = i / 64; w < (i + n) / 64; w++)
			if (a->used[w])
				return false;
		return true;
	}
	for (uint64_t k = i; k < i + n; k++)
		if (iova_bit(a, k))
			return false;
	return true;
}

/* Slow path: next-fit over the bitmap, stepping by the alignment; a fully
 * used word is skipped whole. */
static int64_t iova_bitmap_alloc(struct dma_iova *a, unsigned order)
{
	uint64_t n = 1ull << order;
	if (n > a->npages)
		return -ENOMEM;
	uint64_t slots = a->npages / n; /* aligned candidates */
	uint64_t c = (a->cursor / n) % slots;
	for (uint64_t tried = 0; tried < slots; tried++, c = (c + 1) % slots) {
		uint64_t i = c * n;
		if (n < 64 && a->used[i / 64] == ~0ull) {
			uint64_t skip = (64 - i % 64) / n; /* rest of the word */
			tried += skip - 1;
			c = (c + skip - 1) % slots;
			continue;
		}
		if (iova_range_free(a, i, n)) {
			iova_bits(a, i, n, true);
			a->cursor = i + n;
			a->slow_allocs++;
			a->bitmap_pages += n;
			return (int64_t)(a->base_pfn + i);
		}
	}
	return -ENOMEM;
}

static void iova_bitmap_free(struct dma_iova *a, uint64_t pfn, unsigned order)
{
	iova_bits(a, pfn - a->base_pfn, 1ull << order, false);
	a->slow_frees++;
	a->bitmap_pages -= 1ull << order;
}

/* Every cached block back to the bitmap (all sizes, depot included). */
static void iova_flush_rcache(struct dma_iova *a)
{
	for (unsigned c = 0; c < DMA_IOVA_CLASSES; c++) {
		struct dma_iova_rcache *rc = &a->rc[c];
		struct dma_iova_mag *m[2 + DMA_IOVA_DEPOT];
		unsigned nm = 0;
		m[nm++] = rc->loaded;
		m[nm++] = rc->prev;
		while (rc->ndepot) {
			m[nm] = rc->depot[--rc->ndepot];
			rc->spare[rc->nspare++] = m[nm++];
		}
		for (unsigned k = 0; k < nm; k++) {
			for (unsigned i = 0; i < m[k]->n; i++)
				iova_bitmap_free(a, m[k]->pfn[i], c);
			m[k]->n = 0;
		}
	}
}

int64_t dma_iova_alloc(struct dma_iova *a, unsigned order)
{
	if (order < DMA_IOVA_CLASSES) {
		struct dma_iova_rcache *rc = &a->rc[order];
		if (!rc->loaded->n) {
			if (rc->prev->n) {
				struct dma_iova_mag *t = rc->loaded;
				rc->loaded = rc->prev;
				rc->prev = t;
			} else if (rc->ndepot) {
				rc->spare[rc->nspare++] = rc->loaded;
				rc->loaded = rc->depot[--rc->ndepot];
			}
		}
		if (rc->loaded->n)
			return (int64_t)rc->loaded->pfn[--rc->loaded->n];
	}
	int64_t pfn = iova_bitmap_alloc(a, order);
	if (pfn == -ENOMEM) {
		/* Space held in other sizes' caches: give it all back and
		 * try once more (the slow path of a full space). */
		iova_flush_rcache(a);
		pfn = iova_bitmap_alloc(a, order);
	}
	return pfn;
}

void dma_iova_free(struct dma_iova *a, uint64_t pfn, unsigned order)
{
	if (order >= DMA_IOVA_CLASSES) {
		iova_bitmap_free(a, pfn, order);
		return;
	}
	struct dma_iova_rcache *rc = &a->rc[order];
	if (rc->loaded->n == DMA_IOVA_MAG) {
		if (rc->prev->n < DMA_IOVA_MAG) {
			struct dma_iova_mag *t = rc->loaded;
			rc->loaded = rc->prev;
			rc->prev = t;
		} else if (rc->ndepot < DMA_IOVA_DEPOT) {
			/* loaded + prev full and the depot not: a spare
			 * (empty) magazine exists. */
			rc->depot[rc->ndepot++] = rc->loaded;
			rc->loaded = rc->spare[--rc->nspare];
		} else {
			/* Everything full: give a magazine back. */
			for (unsigned k = 0; k < rc->loaded->n; k++)
				iova_bitmap_free(a, rc->loaded->pfn[k], order);
			rc->loaded->n = 0;
		}
	}
	rc->loaded->pfn[rc->loaded->n++] = pfn;
}
