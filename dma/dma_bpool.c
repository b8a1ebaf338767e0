/* SPDX-License-Identifier: MIT */
/*
 * dma_bpool.c - the bounce pool (a swiotlb model), shared by the bounce
 * backend and by identity/pa when they must bounce (mask, alignment, force).
 *
 * A fixed pool, allocated, populated and touched page by page at open
 * (dma_mem_prefault: no first-touch cost left for the packet loop), cut
 * into 2 KiB slots. A mapping takes contiguous slots (at most DMA_BSEG_SLOTS), found next-fit in
 * a bitmap; per-slot metadata remembers the original buffer so unmap and
 * sync know where to copy. Nothing is allocated after init.
 *
 * Copies, as Linux's swiotlb (kernel/dma/swiotlb.c, 6.1 and since): map
 * copies the whole mapping into the slots whatever the direction
 * (swiotlb_tbl_map_single bounces unconditionally, so a partial device
 * write never exposes old pool contents and unwritten bytes survive);
 * unmap copies the whole mapping back when the device may have written
 * (FROM_DEVICE, BIDIRECTIONAL: swiotlb_tbl_unmap_single), not only the
 * bytes it wrote; sync for the device copies in for TO_DEVICE and
 * BIDIRECTIONAL, sync for the CPU copies out for FROM_DEVICE and
 * BIDIRECTIONAL. bytes_copied counts every copy. A pool marked `view` (the
 * noncoherent backend's model of the device's view, not a swiotlb) copies
 * in only what the device reads.
 *
 * Areas (a shared device, params.cpus > 1): the pool is split into areas,
 * one per CPU rounded down to a power of two, each a run of whole bitmap
 * words with its own lock, cursor and use count, as swiotlb splits its pool
 * (swiotlb_adjust_nareas, struct io_tlb_area). A mapping never spans two
 * areas; map searches this CPU's area first, then the others in turn
 * (swiotlb_pool_find_slots over swiotlb_area_find_slots). An area holds at
 * least DMA_BSEG_SLOTS slots (the longest mapping); a pool too small for
 * that gets fewer areas. A device with one queue has one area and takes no
 * lock. Unmap and sync run on the thread that mapped (the queue's), under
 * the lock of the area holding the slots; copies in at map run after the
 * area's lock is dropped (the slots are already this mapping's).
 *
 * The device reaches the pool memory, never this state.
 */
#include <errno.h>
#include <string.h>

#include "dma_mem.h"
#include "dma_pvt.h"

struct dma_bslot {
	void *orig;      /* head slot: original buffer */
	uint32_t len;    /* head slot: mapping length */
	uint32_t nslots; /* head slot: slots the mapping holds (>= len's) */
	uint32_t head;   /* every slot of a mapping: index of its head */
	uint8_t dir;     /* head slot: direction */
	uint8_t is_head; /* 1 on the first slot of a live mapping */
};

static bool bit_get(const uint64_t *bm, size_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static void bits_set(uint64_t *bm, size_t i, size_t n, bool v)
{
	for (size_t k = i; k < i + n; k++) {
		if (v)
			bm[k / 64] |= 1ull << (k % 64);
		else
			bm[k / 64] &= ~(1ull << (k % 64));
	}
}

int dma_bpool_init(struct dma *d, struct dma_bpool *bp, size_t bytes,
		   void *hint, bool try_huge)
{
	memset(bp, 0, sizeof(*bp));
	if (bytes < DMA_BSLOT_SIZE || bytes > (1ull << 40))
		return dma_err(d, -EINVAL,
			       "bounce pool of %zu bytes: must be 2 KiB..1 TiB",
			       bytes);
	bytes &= ~(DMA_BSLOT_SIZE - 1);
	const size_t huge = 2ul << 20;
	if (try_huge && bytes % huge == 0)
		bp->base = dma_mmap(d, bytes, hint, true);
	bp->nslots = bytes >> DMA_BSLOT_SHIFT;
	bp->bytes = bytes;
	if (!bp->base)
		bp->base = dma_mmap(d, bytes, hint, false);
	if (!bp->base)
		return dma_err(d, -ENOMEM,
			       "cannot map a bounce pool of %zu bytes at %p",
			       bytes, hint);
	dma_mem_prefault(bp->base, bytes);
	bp->used = dma_zalloc(d, (bp->nslots + 63) / 64 * sizeof(uint64_t));
	bp->meta = dma_zalloc(d, bp->nslots * sizeof(struct dma_bslot));
	/* One area per CPU, a power of two, each of at least the longest
	 * mapping's slots and a whole number of bitmap words. */
	unsigned na = 1;
	while (na * 2 <= d->p.cpus &&
	       (bp->nslots / (na * 2)) / 64 * 64 >= DMA_BSEG_SLOTS)
		na *= 2;
	bp->nareas = (uint16_t)na; /* na <= cpus <= 1024 */
	bp->area_slots = (uint32_t)(na == 1 ? bp->nslots : bp->nslots / na / 64 * 64);
	bp->areas = dma_zalloc(d, na * sizeof(*bp->areas));
	if (!bp->used || !bp->meta || !bp->areas) {
		dma_bpool_fini(d, bp);
		return dma_err(d, -ENOMEM, "cannot allocate bounce pool metadata");
	}
	for (unsigned a = 0; a < na; a++) {
		struct dma_barea *ar = &bp->areas[a];
		pthread_mutex_init(&ar->lock, NULL);
		ar->start = ar->cursor = (size_t)a * bp->area_slots;
		ar->end = a + 1 == na ? bp->nslots : (size_t)(a + 1) * bp->area_slots;
	}
	return 0;
}

size_t dma_bpool_used(const struct dma *d, struct dma_bpool *bp)
{
	size_t n = 0;
	for (unsigned a = 0; a < bp->nareas; a++) {
		dma_lock(d->shared, &bp->areas[a].lock);
		n += bp->areas[a].used_slots;
		dma_unlock(d->shared, &bp->areas[a].lock);
	}
	return n;
}

/* The area holding slot i. */
static struct dma_barea *bpool_area_of(const struct dma_bpool *bp, size_t i)
{
	if (bp->nareas == 1)
		return bp->areas;
	size_t a = i / bp->area_slots;
	return &bp->areas[a < bp->nareas ? a : (size_t)bp->nareas - 1];
}

int dma_bpool_set_break(struct dma *d, struct dma_bpool *bp, size_t slot)
{
	if (!bp->brk)
		bp->brk = dma_zalloc(d, (bp->nslots + 63) / 64 * sizeof(uint64_t));
	if (!bp->brk)
		return dma_err(d, -ENOMEM, "cannot allocate the pool's break map");
	if (slot < bp->nslots)
		bits_set(bp->brk, slot, 1, true);
	return 0;
}

void dma_bpool_fini(struct dma *d, struct dma_bpool *bp)
{
	if (bp->brk)
		dma_free(d, bp->brk, (bp->nslots + 63) / 64 * sizeof(uint64_t));
	dma_free(d, bp->used, (bp->nslots + 63) / 64 * sizeof(uint64_t));
	dma_free(d, bp->meta, bp->nslots * sizeof(struct dma_bslot));
	if (bp->areas) {
		for (unsigned a = 0; a < bp->nareas; a++)
			pthread_mutex_destroy(&bp->areas[a].lock);
		dma_free(d, bp->areas, bp->nareas * sizeof(*bp->areas));
	}
	dma_munmap(d, bp->base, bp->bytes);
	memset(bp, 0, sizeof(*bp));
}

/* Next-fit search for n free contiguous slots starting at a multiple of
 * align in area ar (under its lock); runs do not wrap. Whole used words
 * are skipped 64 slots at a time. */
static long bpool_find(const struct dma_bpool *bp, const struct dma_barea *ar,
		       size_t n, size_t align)
{
	size_t i = ar->cursor, run = 0, scanned = 0, len = ar->end - ar->start;
	while (scanned < len + n) {
		if (i >= ar->end) {
			i = ar->start;
			run = 0;
		}
		if (run == 0 && i % 64 == 0 && i + 64 <= ar->end &&
		    bp->used[i / 64] == ~0ull) {
			i += 64;
			scanned += 64;
			continue;
		}
		if (run == 0 && i % align) { /* a run starts aligned */
			i++;
			scanned++;
			continue;
		}
		if (bp->brk && bit_get(bp->brk, i))
			run = 0; /* a run may start here, not pass through */
		if (bit_get(bp->used, i))
			run = 0;
		else if (++run == n)
			return (long)(i + 1 - n);
		i++;
		scanned++;
	}
	return -1;
}

/* Mappings holding slots now (the error path only: a scan, area by area
 * under each area's lock, as the mappings change under it). */
static size_t bpool_live(const struct dma *d, struct dma_bpool *bp)
{
	size_t n = 0;
	for (unsigned a = 0; a < bp->nareas; a++) {
		struct dma_barea *ar = &bp->areas[a];
		dma_lock(d->shared, &ar->lock);
		for (size_t i = ar->start; i < ar->end; i++)
			n += bp->meta[i].is_head;
		dma_unlock(d->shared, &ar->lock);
	}
	return n;
}

int dma_bpool_map(struct dma *d, struct dma_bpool *bp, void *orig, size_t len,
		  enum dma_dir dir, void **slot)
{
	return dma_bpool_map_aligned(d, bp, orig, len, len, 1, dir, slot);
}

int dma_bpool_map_aligned(struct dma *d, struct dma_bpool *bp, void *orig,
			  size_t len, size_t span, size_t align_slots,
			  enum dma_dir dir, void **slot)
{
	size_t n = ((span > len ? span : len) + DMA_BSLOT_SIZE - 1) >> DMA_BSLOT_SHIFT;
	if (n > DMA_BSEG_SLOTS)
		return dma_err(d, -EINVAL,
			       "bounce: mapping of %zu bytes at %p exceeds the "
			       "longest bounce mapping (%lu bytes)",
			       len, orig, DMA_BSEG_SLOTS * DMA_BSLOT_SIZE);
	/* This CPU's area first, then the others in turn. */
	unsigned a0 = bp->nareas == 1 ? 0 : dma_this_cpu() & (bp->nareas - 1), a = a0;
	long s;
	do {
		struct dma_barea *ar = &bp->areas[a];
		dma_lock(d->shared, &ar->lock);
		s = bpool_find(bp, ar, n, align_slots ? align_slots : 1);
		if (s >= 0) {
			size_t i = (size_t)s;
			bits_set(bp->used, i, n, true);
			for (size_t k = i; k < i + n; k++)
				bp->meta[k].head = (uint32_t)i;
			bp->meta[i].orig = orig;
			bp->meta[i].len = (uint32_t)len;
			bp->meta[i].nslots = (uint32_t)n;
			bp->meta[i].dir = (uint8_t)dir;
			bp->meta[i].is_head = 1;
			ar->cursor = i + n;
			ar->used_slots += n;
		}
		dma_unlock(d->shared, &ar->lock);
		a = (a + 1) & (bp->nareas - 1);
	} while (s < 0 && a != a0);
	if (s < 0) /* the resource, its size and its use, as swiotlb_map() says */
		return dma_err(d, -ENOMEM,
			       "bounce pool exhausted (full): no %zu contiguous free "
			       "slots for %zu bytes at %p; pool %zu bytes = %zu "
			       "slots of %lu bytes, %zu used, %llu mappings "
			       "live, %u area%s of %u%s", n, len, orig, bp->bytes,
			       bp->nslots, DMA_BSLOT_SIZE, dma_bpool_used(d, bp),
			       (unsigned long long)bpool_live(d, bp), bp->nareas,
			       bp->nareas > 1 ? "s" : "", bp->area_slots,
			       bp->brk ? " (runs stop where the pool's frames "
			       "are not physically adjacent)" : "");
	size_t i = (size_t)s;
	dma_dev_set_bounced(d);

	uint8_t *p = bp->base + (i << DMA_BSLOT_SHIFT);
	if (!bp->view || (dir & DMA_TO_DEVICE)) {
		memcpy(p, orig, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	}
	dma_ctr_add(d, DMA_C_bounced, 1);
	dma_ctr_add(d, DMA_C_bounce_live, 1);
	*slot = p;
	return 0;
}

int dma_bpool_unmap(struct dma *d, struct dma_bpool *bp, void *slot,
		    size_t len, enum dma_dir dir, bool copy_back)
{
	size_t off = (size_t)((uint8_t *)slot - bp->base);
	size_t i = off >> DMA_BSLOT_SHIFT;
	struct dma_barea *ar = bpool_area_of(bp, i);
	dma_lock(d->shared, &ar->lock);
	if (off & (DMA_BSLOT_SIZE - 1) || !bit_get(bp->used, i) ||
	    !bp->meta[i].is_head) {
		dma_unlock(d->shared, &ar->lock);
		return dma_err(d, -EINVAL,
			       "unmap of 0x%llx: not the start of a live bounce "
			       "mapping",
			       (unsigned long long)(uintptr_t)slot);
	}
	struct dma_bslot *m = &bp->meta[i];
	if (m->len != len || m->dir != dir) {
		unsigned mlen = m->len;
		enum dma_dir mdir = (enum dma_dir)m->dir;
		dma_unlock(d->shared, &ar->lock);
		return dma_err(d, -EINVAL,
			       "unmap of 0x%llx with len %zu dir %s; mapped "
			       "with len %u dir %s",
			       (unsigned long long)(uintptr_t)slot, len,
			       dma_dir_str(dir), mlen, dma_dir_str(mdir));
	}
	if (copy_back && (dir & DMA_FROM_DEVICE)) {
		memcpy(m->orig, slot, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	}
	size_t n = m->nslots;
	bits_set(bp->used, i, n, false);
	m->is_head = 0;
	m->orig = NULL;
	ar->used_slots -= n;
	dma_unlock(d->shared, &ar->lock);
	dma_ctr_sub(d, DMA_C_bounce_live, 1);
	return 0;
}

int dma_bpool_sync(struct dma *d, struct dma_bpool *bp, void *slot,
		   size_t len, enum dma_dir dir, bool for_cpu)
{
	size_t off = (size_t)((uint8_t *)slot - bp->base);
	size_t i = off >> DMA_BSLOT_SHIFT;
	struct dma_barea *ar = bpool_area_of(bp, i);
	/* The lock covers the checks, which read words other CPUs' mappings
	 * share; the copy runs on this thread's own live mapping. */
	dma_lock(d->shared, &ar->lock);
	if (!bit_get(bp->used, i)) {
		dma_unlock(d->shared, &ar->lock);
		return dma_err(d, -EINVAL, "sync of 0x%llx: no live bounce mapping",
			       (unsigned long long)(uintptr_t)slot);
	}
	struct dma_bslot *m = &bp->meta[bp->meta[i].head];
	uint8_t *hp = bp->base + ((size_t)bp->meta[i].head << DMA_BSLOT_SHIFT);
	size_t delta = (size_t)((uint8_t *)slot - hp);
	unsigned mlen = m->len, mdir = m->dir;
	uint8_t *orig = (uint8_t *)m->orig + delta;
	dma_unlock(d->shared, &ar->lock);
	if (delta + len > mlen)
		return dma_err(d, -EINVAL,
			       "sync of 0x%llx len %zu runs past its mapping "
			       "(len %u)",
			       (unsigned long long)(uintptr_t)slot, len, mlen);
	/* The mapping's direction decides, as in swiotlb: for_cpu copies
	 * what the device may have written, for_device what it will read. */
	if (for_cpu && (mdir & DMA_FROM_DEVICE)) {
		memcpy(orig, slot, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	} else if (!for_cpu && (mdir & DMA_TO_DEVICE)) {
		memcpy(slot, orig, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	}
	(void)dir;
	return 0;
}

/* hint_below_mask (identity): the pool's VAs are device addresses, put
 * them under the mask. Otherwise (pa) hugepages are tried first when the
 * pool size is a multiple of 2 MiB: their frames are adjacent, so
 * multi-slot mappings are not cut at 4 KiB. */
int dma_direct_init(struct dma *d, struct dma_direct *db, bool hint_below_mask)
{
	const struct dma_params *p = &d->p;
	memset(db, 0, sizeof(*db));
	if (p->mask_bits > 64)
		return dma_err(d, -EINVAL, "mask_bits %u: must be 1..64 (0 = 64)",
			       p->mask_bits);
	if (p->min_align & (p->min_align - 1) || p->min_align > DMA_BSLOT_SIZE)
		return dma_err(d, -EINVAL,
			       "min_align %u: must be a power of two up to %lu "
			       "(the bounce slot alignment)",
			       p->min_align, DMA_BSLOT_SIZE);
	db->mask = p->mask_bits == 0 || p->mask_bits == 64
			   ? UINT64_MAX
			   : (1ull << p->mask_bits) - 1;
	db->align = p->min_align ? p->min_align : 1;
	db->force = p->force_bounce;
	db->on = db->force || db->align > 1 || db->mask != UINT64_MAX;
	if (!db->on)
		return 0;

	size_t bytes = p->bounce_pool_bytes & ~(DMA_BSLOT_SIZE - 1);
	if (!hint_below_mask || db->mask == UINT64_MAX)
		return dma_bpool_init(d, &db->bp, bytes, NULL,
				      !hint_below_mask);
	if (bytes > db->mask)
		return dma_err(d, -EINVAL, "bounce pool of %zu bytes does not "
			       "fit under mask_bits %u", bytes, p->mask_bits);
	/* The highest free 2 MiB-aligned place under the mask, searched
	 * downwards a pool size at a time (something may live up there:
	 * the loader, a sanitizer's shadow: ASan's covers 2-4 GiB, so a
	 * 32-bit mask needs over 1,000 steps). A failed try is one refused
	 * mmap; 65536 of them cover 128 GiB of a wide mask. */
	const uint64_t align = 2ull << 20, floor = 1ull << 20;
	uint64_t step = (bytes + align - 1) & ~(align - 1);
	uint64_t top = (db->mask + 1 - bytes) & ~(align - 1);
	for (unsigned tries = 0; tries < 65536 && top >= floor; tries++) {
		if (dma_bpool_init(d, &db->bp, bytes, (void *)(uintptr_t)top,
				   false) == 0)
			return 0;
		if (top < floor + step)
			break;
		top -= step;
	}
	return dma_err(d, -ENOMEM, "no free place for a bounce pool of %zu "
		       "bytes under mask_bits %u", bytes, p->mask_bits);
}

int dma_bpool_unmap_head(struct dma *d, struct dma_bpool *bp, void *slot, bool copy_back)
{
	size_t off = (size_t)((uint8_t *)slot - bp->base);
	size_t i = off >> DMA_BSLOT_SHIFT;
	struct dma_barea *ar = bpool_area_of(bp, i);
	/* read the head's length and direction under its area's lock; the
	 * mapping is this thread's, so they cannot change before the unmap */
	dma_lock(d->shared, &ar->lock);
	bool live = !(off & (DMA_BSLOT_SIZE - 1)) && bit_get(bp->used, i);
	bool head = live && bp->meta[i].is_head;
	size_t len = head ? bp->meta[i].len : 0;
	enum dma_dir dir = head ? (enum dma_dir)bp->meta[i].dir : DMA_TO_DEVICE;
	dma_unlock(d->shared, &ar->lock);
	if (live && !head)
		return 0; /* a later granule of a mapping: its head gives it back */
	if (!head)
		return dma_err(d, -EINVAL, "unlink of bounce slot 0x%llx: not in a live bounce mapping",
			       (unsigned long long)(uintptr_t)slot);
	int r = dma_bpool_unmap(d, bp, slot, len, dir, copy_back);
	return r < 0 ? r : 1;
}
