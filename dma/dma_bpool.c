/* SPDX-License-Identifier: MIT */
/*
 * dma_bpool.c - the bounce pool (a swiotlb model), shared by the bounce
 * backend and by identity/pa when they must bounce (mask, alignment, force).
 *
 * A fixed pool, allocated and populated at open, cut into 2 KiB slots. A
 * mapping takes contiguous slots (at most DMA_BSEG_SLOTS), found next-fit in
 * a bitmap; per-slot metadata remembers the original buffer so unmap and
 * sync know where to copy. Nothing is allocated after init.
 *
 * Copies: map copies the original into the slots when the device reads
 * (TO_DEVICE, BIDIRECTIONAL); unmap copies the slots back when the device
 * writes (FROM_DEVICE, BIDIRECTIONAL). Note: since 2022 Linux's swiotlb also
 * copies in for FROM_DEVICE so a partial device write cannot expose old pool
 * contents; this model follows the classic rule, so bytes_copied is the
 * classic cost and an unwritten tail of a FROM_DEVICE buffer reads back
 * whatever the slot held.
 *
 * Driver thread only: the device reaches the pool memory, never this state.
 */
#include <errno.h>
#include <string.h>

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
	bp->used = dma_zalloc(d, (bp->nslots + 63) / 64 * sizeof(uint64_t));
	bp->meta = dma_zalloc(d, bp->nslots * sizeof(struct dma_bslot));
	if (!bp->used || !bp->meta) {
		dma_bpool_fini(d, bp);
		return dma_err(d, -ENOMEM, "cannot allocate bounce pool metadata");
	}
	return 0;
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
	dma_munmap(d, bp->base, bp->bytes);
	memset(bp, 0, sizeof(*bp));
}

/* Next-fit search for n free contiguous slots starting at a multiple of
 * align; runs do not wrap. Whole used words are skipped 64 slots at a
 * time. */
static long bpool_find(const struct dma_bpool *bp, size_t n, size_t align)
{
	size_t i = bp->cursor, run = 0, scanned = 0;
	while (scanned < bp->nslots + n) {
		if (i >= bp->nslots) {
			i = 0;
			run = 0;
		}
		if (run == 0 && i % 64 == 0 && i + 64 <= bp->nslots &&
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

/* Mappings holding slots now (the error path only: a scan). */
static size_t bpool_live(const struct dma_bpool *bp)
{
	size_t n = 0;
	for (size_t i = 0; i < bp->nslots; i++)
		n += bp->meta[i].is_head;
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
	long s = bpool_find(bp, n, align_slots ? align_slots : 1);
	if (s < 0) /* the resource, its size and its use, as swiotlb_map() says */
		return dma_err(d, -ENOMEM,
			       "bounce pool exhausted (full): no %zu contiguous free "
			       "slots for %zu bytes at %p; pool %zu bytes = %zu "
			       "slots of %lu bytes, %zu used, %llu mappings "
			       "live%s", n, len, orig, bp->bytes, bp->nslots,
			       DMA_BSLOT_SIZE, bp->used_slots,
			       (unsigned long long)bpool_live(bp),
			       bp->brk ? " (runs stop where the pool's frames "
			       "are not physically adjacent)" : "");
	size_t i = (size_t)s;
	bits_set(bp->used, i, n, true);
	for (size_t k = i; k < i + n; k++)
		bp->meta[k].head = (uint32_t)i;
	bp->meta[i].orig = orig;
	bp->meta[i].len = (uint32_t)len;
	bp->meta[i].nslots = (uint32_t)n;
	bp->meta[i].dir = (uint8_t)dir;
	bp->meta[i].is_head = 1;
	bp->cursor = i + n;
	bp->used_slots += n;

	uint8_t *p = bp->base + (i << DMA_BSLOT_SHIFT);
	if (dir & DMA_TO_DEVICE) {
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
	if (off & (DMA_BSLOT_SIZE - 1) || !bit_get(bp->used, i) ||
	    !bp->meta[i].is_head)
		return dma_err(d, -EINVAL,
			       "unmap of 0x%llx: not the start of a live bounce "
			       "mapping",
			       (unsigned long long)(uintptr_t)slot);
	struct dma_bslot *m = &bp->meta[i];
	if (m->len != len || m->dir != dir)
		return dma_err(d, -EINVAL,
			       "unmap of 0x%llx with len %zu dir %s; mapped "
			       "with len %u dir %s",
			       (unsigned long long)(uintptr_t)slot, len,
			       dma_dir_str(dir), m->len,
			       dma_dir_str((enum dma_dir)m->dir));
	if (copy_back && (dir & DMA_FROM_DEVICE)) {
		memcpy(m->orig, slot, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	}
	size_t n = m->nslots;
	bits_set(bp->used, i, n, false);
	m->is_head = 0;
	m->orig = NULL;
	bp->used_slots -= n;
	dma_ctr_sub(d, DMA_C_bounce_live, 1);
	return 0;
}

int dma_bpool_sync(struct dma *d, struct dma_bpool *bp, void *slot,
		   size_t len, enum dma_dir dir, bool for_cpu)
{
	size_t off = (size_t)((uint8_t *)slot - bp->base);
	size_t i = off >> DMA_BSLOT_SHIFT;
	if (!bit_get(bp->used, i))
		return dma_err(d, -EINVAL, "sync of 0x%llx: no live bounce mapping",
			       (unsigned long long)(uintptr_t)slot);
	struct dma_bslot *m = &bp->meta[bp->meta[i].head];
	uint8_t *hp = bp->base + ((size_t)bp->meta[i].head << DMA_BSLOT_SHIFT);
	size_t delta = (size_t)((uint8_t *)slot - hp);
	if (delta + len > m->len)
		return dma_err(d, -EINVAL,
			       "sync of 0x%llx len %zu runs past its mapping "
			       "(len %u)",
			       (unsigned long long)(uintptr_t)slot, len, m->len);
	uint8_t *orig = (uint8_t *)m->orig + delta;
	/* The mapping's direction decides, as in swiotlb: for_cpu copies
	 * what the device may have written, for_device what it will read. */
	if (for_cpu && (m->dir & DMA_FROM_DEVICE)) {
		memcpy(orig, slot, len);
		dma_ctr_add(d, DMA_C_bytes_copied, len);
	} else if (!for_cpu && (m->dir & DMA_TO_DEVICE)) {
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
	 * the loader, a sanitizer's shadow). */
	const uint64_t align = 2ull << 20, floor = 1ull << 20;
	uint64_t step = (bytes + align - 1) & ~(align - 1);
	uint64_t top = (db->mask + 1 - bytes) & ~(align - 1);
	for (unsigned tries = 0; tries < 256 && top >= floor; tries++) {
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
