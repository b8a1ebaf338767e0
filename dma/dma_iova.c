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
 * Per CPU, as the kernel's rcache (alloc_iova_fast / free_iova_fast over
 * iova_rcache_get / iova_rcache_insert): each CPU (dma_this_cpu(), i.e. each
 * queue of a shared device) has its own loaded and previous magazine per
 * size class under its own lock; the depot of full magazines is shared
 * under the depot lock; the bitmap under the bitmap lock. Lock order: CPU,
 * depot, bitmap. A device with one queue has one CPU cache and takes no
 * lock. An exhausted space flushes every CPU's cache and the depot
 * (free_cpu_cached_iovas, free_global_cached_iovas) and retries once.
 *
 * Every magazine is allocated at init: no allocation after it (the empty
 * magazines the kernel allocates on demand wait in a spare list).
 */
#include <errno.h>
#include <string.h>

#include "dma_pvt.h"


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
	a->shared = d->shared;
	a->ncpus = 1;
	while (a->ncpus * 2 <= d->p.cpus)
		a->ncpus *= 2;
	a->nmags = DMA_IOVA_CLASSES * (2 * a->ncpus + DMA_IOVA_DEPOT);
	a->used = dma_zalloc(d, (npages + 63) / 64 * sizeof(uint64_t));
	a->mags = dma_zalloc(d, a->nmags * sizeof(struct dma_iova_mag));
	a->cpu = dma_zalloc(d, a->ncpus * sizeof(*a->cpu));
	if (!a->used || !a->mags || !a->cpu) {
		dma_iova_fini(d, a);
		return dma_err(d, -ENOMEM, "cannot allocate the IOVA allocator");
	}
	/* Bits past the end read as used, so whole-word scans stay simple. */
	for (uint64_t i = npages; i % 64; i++)
		a->used[i / 64] |= 1ull << (i % 64);
	struct dma_iova_mag *m = a->mags;
	for (unsigned c = 0; c < a->ncpus; c++) {
		pthread_mutex_init(&a->cpu[c].lock, NULL);
		for (unsigned k = 0; k < DMA_IOVA_CLASSES; k++) {
			a->cpu[c].loaded[k] = m++;
			a->cpu[c].prev[k] = m++;
		}
	}
	for (unsigned k = 0; k < DMA_IOVA_CLASSES; k++)
		for (unsigned j = 0; j < DMA_IOVA_DEPOT; j++)
			a->rc[k].spare[a->rc[k].nspare++] = m++;
	pthread_mutex_init(&a->depot_lock, NULL);
	pthread_mutex_init(&a->bitmap_lock, NULL);
	return 0;
}

void dma_iova_fini(struct dma *d, struct dma_iova *a)
{
	if (a->cpu) {
		for (unsigned c = 0; c < a->ncpus; c++)
			pthread_mutex_destroy(&a->cpu[c].lock);
		pthread_mutex_destroy(&a->depot_lock);
		pthread_mutex_destroy(&a->bitmap_lock);
	}
	dma_free(d, a->used, (a->npages + 63) / 64 * sizeof(uint64_t));
	dma_free(d, a->mags, a->nmags * sizeof(struct dma_iova_mag));
	dma_free(d, a->cpu, a->ncpus * sizeof(*a->cpu));
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

/* A magazine's blocks back to the bitmap (under the bitmap lock). */
static void iova_mag_to_bitmap(struct dma_iova *a, struct dma_iova_mag *m,
			       unsigned order)
{
	for (unsigned i = 0; i < m->n; i++)
		iova_bitmap_free(a, m->pfn[i], order);
	m->n = 0;
}

/* Every cached block back to the bitmap: every CPU's magazines, then the
 * depot (all sizes). */
static void iova_flush_rcache(struct dma_iova *a)
{
	for (unsigned c = 0; c < a->ncpus; c++) {
		struct dma_iova_cpu *cc = &a->cpu[c];
		dma_lock(a->shared, &cc->lock);
		dma_lock(a->shared, &a->bitmap_lock);
		for (unsigned k = 0; k < DMA_IOVA_CLASSES; k++) {
			iova_mag_to_bitmap(a, cc->loaded[k], k);
			iova_mag_to_bitmap(a, cc->prev[k], k);
		}
		dma_unlock(a->shared, &a->bitmap_lock);
		dma_unlock(a->shared, &cc->lock);
	}
	dma_lock(a->shared, &a->depot_lock);
	dma_lock(a->shared, &a->bitmap_lock);
	for (unsigned k = 0; k < DMA_IOVA_CLASSES; k++) {
		struct dma_iova_rcache *rc = &a->rc[k];
		while (rc->ndepot) {
			struct dma_iova_mag *m = rc->depot[--rc->ndepot];
			iova_mag_to_bitmap(a, m, k);
			rc->spare[rc->nspare++] = m;
		}
	}
	dma_unlock(a->shared, &a->bitmap_lock);
	dma_unlock(a->shared, &a->depot_lock);
}

static struct dma_iova_cpu *iova_this_cpu(struct dma_iova *a)
{
	/* one queue: one cache, no CPU lookup on its fast path */
	return a->ncpus == 1 ? a->cpu : &a->cpu[dma_this_cpu() & (a->ncpus - 1)];
}

/* This CPU's cache (locked): loaded, else prev, else a full magazine from
 * the depot in exchange for the empty loaded one. -1 when all are empty. */
static int64_t iova_rcache_get(struct dma_iova *a, struct dma_iova_cpu *c,
			       unsigned order)
{
	if (!c->loaded[order]->n) {
		if (c->prev[order]->n) {
			struct dma_iova_mag *t = c->loaded[order];
			c->loaded[order] = c->prev[order];
			c->prev[order] = t;
		} else {
			struct dma_iova_rcache *rc = &a->rc[order];
			dma_lock(a->shared, &a->depot_lock);
			if (rc->ndepot) {
				rc->spare[rc->nspare++] = c->loaded[order];
				c->loaded[order] = rc->depot[--rc->ndepot];
			}
			dma_unlock(a->shared, &a->depot_lock);
		}
	}
	struct dma_iova_mag *m = c->loaded[order];
	return m->n ? (int64_t)m->pfn[--m->n] : -1;
}

int64_t dma_iova_alloc(struct dma_iova *a, unsigned order)
{
	if (order < DMA_IOVA_CLASSES) {
		struct dma_iova_cpu *c = iova_this_cpu(a);
		dma_lock(a->shared, &c->lock);
		int64_t pfn = iova_rcache_get(a, c, order);
		dma_unlock(a->shared, &c->lock);
		if (pfn >= 0)
			return pfn;
	}
	dma_lock(a->shared, &a->bitmap_lock);
	int64_t pfn = iova_bitmap_alloc(a, order);
	dma_unlock(a->shared, &a->bitmap_lock);
	if (pfn == -ENOMEM) {
		/* Space held in caches (any CPU's, any size): give it all
		 * back and try once more (the slow path of a full space). */
		iova_flush_rcache(a);
		dma_lock(a->shared, &a->bitmap_lock);
		pfn = iova_bitmap_alloc(a, order);
		dma_unlock(a->shared, &a->bitmap_lock);
	}
	return pfn;
}

/* Pages the bitmap hands out now, read under its lock (error messages of a
 * shared device: other queues allocate meanwhile). */
uint64_t dma_iova_allocated(struct dma_iova *a)
{
	dma_lock(a->shared, &a->bitmap_lock);
	uint64_t n = a->bitmap_pages;
	dma_unlock(a->shared, &a->bitmap_lock);
	return n;
}

void dma_iova_free(struct dma_iova *a, uint64_t pfn, unsigned order)
{
	if (order >= DMA_IOVA_CLASSES) {
		dma_lock(a->shared, &a->bitmap_lock);
		iova_bitmap_free(a, pfn, order);
		dma_unlock(a->shared, &a->bitmap_lock);
		return;
	}
	struct dma_iova_cpu *c = iova_this_cpu(a);
	dma_lock(a->shared, &c->lock);
	if (c->loaded[order]->n == DMA_IOVA_MAG) {
		if (c->prev[order]->n < DMA_IOVA_MAG) {
			struct dma_iova_mag *t = c->loaded[order];
			c->loaded[order] = c->prev[order];
			c->prev[order] = t;
		} else {
			struct dma_iova_rcache *rc = &a->rc[order];
			dma_lock(a->shared, &a->depot_lock);
			bool stored = rc->ndepot < DMA_IOVA_DEPOT;
			if (stored) {
				/* every CPU holds two magazines, the depot
				 * and the spares the rest: a spare exists */
				rc->depot[rc->ndepot++] = c->loaded[order];
				c->loaded[order] = rc->spare[--rc->nspare];
			}
			dma_unlock(a->shared, &a->depot_lock);
			if (!stored) { /* everything full: give a magazine back */
				dma_lock(a->shared, &a->bitmap_lock);
				iova_mag_to_bitmap(a, c->loaded[order], order);
				dma_unlock(a->shared, &a->bitmap_lock);
			}
		}
	}
	struct dma_iova_mag *m = c->loaded[order];
	m->pfn[m->n++] = pfn;
	dma_unlock(a->shared, &c->lock);
}
