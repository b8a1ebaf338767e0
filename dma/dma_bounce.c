/* SPDX-License-Identifier: MIT */
/*
 * dma_bounce.c - swiotlb: every mapping goes through a fixed bounce pool
 * (params.bounce_pool_bytes, default 64 MiB, 2 KiB slots; dma_bpool.c).
 *
 * IOVA = DMA_BOUNCE_IOVA_BASE + offset in the pool: the device only ever
 * sees pool addresses. map copies a device-readable buffer in; unmap copies
 * a device-writable one back, so skipping unmap loses what the device wrote
 * (and leaks the slots: the pool runs out). sync_for_cpu / sync_for_device
 * copy out / in for a live mapping.
 *
 * translate checks only that the range lies in the pool: like a real
 * swiotlb without an IOMMU, a device can reach every slot, live or not.
 */
#include <errno.h>

#include "dma_pvt.h"

#define DMA_BOUNCE_IOVA_BASE 0x10000000ull

struct dma_bounce {
	struct dma d;
	struct dma_bpool bp;
};

static int bounce_open(struct dma *d)
{
	struct dma_bounce *b = DMA_PRIV(struct dma_bounce, d);
	return dma_bpool_init(d, &b->bp, d->p.bounce_pool_bytes, NULL,
			      false);
}

static void bounce_close(struct dma *d)
{
	struct dma_bounce *b = DMA_PRIV(struct dma_bounce, d);
	dma_bpool_fini(d, &b->bp);
}

/* IOVA -> slot pointer, NULL outside the pool. */
static uint8_t *bounce_slot(const struct dma_bounce *b, uint64_t iova,
			    size_t len)
{
	if (iova < DMA_BOUNCE_IOVA_BASE)
		return NULL;
	uint64_t off = iova - DMA_BOUNCE_IOVA_BASE;
	if (off >= b->bp.bytes || len > b->bp.bytes - off)
		return NULL;
	return b->bp.base + off;
}

static int bounce_map(struct dma *d, void *cpu, size_t len, enum dma_dir dir,
		      uint64_t *iova)
{
	struct dma_bounce *b = DMA_PRIV(struct dma_bounce, d);
	void *slot;
	int r = dma_bpool_map(d, &b->bp, cpu, len, dir, &slot);
	if (r < 0)
		return r;
	*iova = DMA_BOUNCE_IOVA_BASE + (uint64_t)((uint8_t *)slot - b->bp.base);
	return 0;
}

static int bounce_unmap(struct dma *d, uint64_t iova, size_t len,
			enum dma_dir dir)
{
	struct dma_bounce *b = DMA_PRIV(struct dma_bounce, d);
	uint8_t *slot = bounce_slot(b, iova, len);
	if (!slot)
		return dma_err(d, -EINVAL, "unmap of IOVA 0x%llx len %zu: "
			       "outside the bounce pool",
			       (unsigned long long)iova, len);
	return dma_bpool_unmap(d, &b->bp, slot, len, dir, true);
}

static void bounce_sync(struct dma *d, uint64_t iova, size_t len,
			enum dma_dir dir, bool for_cpu)
{
	struct dma_bounce *b = DMA_PRIV(struct dma_bounce, d);
	uint8_t *slot = bounce_slot(b, iova, len);
	if (!slot) {
		dma_err(d, -EINVAL, "sync of IOVA 0x%llx: outside the pool",
			(unsigned long long)iova);
		return;
	}
	dma_bpool_sync(d, &b->bp, slot, len, dir, for_cpu);
}

static void *bounce_translate(struct dma *d, uint64_t iova, size_t len,
			      enum dma_dir access)
{
	(void)access;
	return bounce_slot(DMA_PRIV(struct dma_bounce, d), iova, len);
}

static unsigned bounce_need_unmap(const struct dma *d)
{
	(void)d;
	return DMA_R_BOUNCE;
}

static bool bounce_need_sync(const struct dma *d, uint64_t iova)
{
	(void)d, (void)iova;
	return true;
}

const struct dma_ops dma_bounce_ops = {
	.name = "bounce",
	.size = sizeof(struct dma_bounce),
	.cbits = DMA_CBITS_COMMON | DMA_CBITS_BOUNCE,
	.open = bounce_open,
	.close = bounce_close,
	.map = bounce_map,
	.unmap = bounce_unmap,
	.sync = bounce_sync,
	.translate = bounce_translate,
	.need_unmap = bounce_need_unmap,
	.need_sync = bounce_need_sync,
};
