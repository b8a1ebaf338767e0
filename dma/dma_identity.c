/* SPDX-License-Identifier: MIT */
/*
 * dma_identity.c - IOVA is the virtual address (DPDK iova-mode=va, or a
 * coherent device without an IOMMU). Unmap does nothing unless the mapping
 * was bounced: with mask_bits, min_align or force_bounce set, a buffer the
 * device cannot reach as is goes through the shared bounce pool (whose
 * addresses are placed under the mask), and from the first such mapping on
 * need_unmap answers true, as Linux's dma_need_unmap() does.
 *
 * translate: IOVA -> pointer with no check: without an IOMMU a device
 * reaches all memory, so nothing can be refused.
 */
#include "dma_pvt.h"

struct dma_identity {
	struct dma d;
	struct dma_direct db;
};

static int identity_open(struct dma *d)
{
	struct dma_identity *id = DMA_PRIV(struct dma_identity, d);
	int r = dma_direct_init(d, &id->db, true);
	/* nothing can bounce: map is the CPU address, unmap a no-op */
	d->fast_va = r == 0 && !id->db.on;
	d->va_translate = true;
	d->direct_need_unmap = true; /* identity_need_unmap */
	return r;
}

static void identity_close(struct dma *d)
{
	struct dma_identity *id = DMA_PRIV(struct dma_identity, d);
	dma_bpool_fini(d, &id->db.bp);
}

static int identity_map(struct dma *d, void *cpu, size_t len,
			enum dma_dir dir, uint64_t *iova)
{
	struct dma_identity *id = DMA_PRIV(struct dma_identity, d);
	if (!dma_direct_must_bounce(&id->db, (uintptr_t)cpu, len)) {
		*iova = (uintptr_t)cpu;
		return 0;
	}
	void *slot;
	int r = dma_bpool_map(d, &id->db.bp, cpu, len, dir, &slot);
	if (r < 0)
		return r;
	*iova = (uintptr_t)slot;
	return 0;
}

static int identity_unmap(struct dma *d, uint64_t iova, size_t len,
			  enum dma_dir dir)
{
	struct dma_identity *id = DMA_PRIV(struct dma_identity, d);
	if (!dma_bpool_owns(&id->db.bp, (uintptr_t)iova))
		return 0;
	return dma_bpool_unmap(d, &id->db.bp, (void *)(uintptr_t)iova, len,
			       dir, true);
}

static void identity_sync(struct dma *d, uint64_t iova, size_t len,
			  enum dma_dir dir, bool for_cpu)
{
	struct dma_identity *id = DMA_PRIV(struct dma_identity, d);
	if (dma_bpool_owns(&id->db.bp, (uintptr_t)iova))
		dma_bpool_sync(d, &id->db.bp, (void *)(uintptr_t)iova, len,
			       dir, for_cpu);
}

static void *identity_translate(struct dma *d, uint64_t iova, size_t len,
				enum dma_dir access)
{
	(void)d, (void)len, (void)access;
	return (void *)(uintptr_t)iova;
}

/* The device's state, shared by its queues: one bounce on any queue
 * answers for all of them from then on (dma_need_unmap). */
static unsigned identity_need_unmap(const struct dma *d)
{
	return dma_direct_need_unmap(d);
}

/* dma_direct_need_sync(): only an address in the bounce pool (swiotlb's
 * pool lookup); dma_skip_sync is cleared by the first bounce, so nothing is
 * looked up before one. */
static bool identity_need_sync(const struct dma *d, uint64_t iova)
{
	const struct dma_identity *id = DMA_CPRIV(struct dma_identity, d);
	return dma_dev_bounced(d) &&
	       dma_bpool_owns(&id->db.bp, (uintptr_t)iova);
}

const struct dma_ops dma_identity_ops = {
	.name = "identity",
	.size = sizeof(struct dma_identity),
	.cbits = DMA_CBITS_COMMON | DMA_CBITS_BOUNCE,
	.open = identity_open,
	.close = identity_close,
	.map = identity_map,
	.unmap = identity_unmap,
	.sync = identity_sync,
	.translate = identity_translate,
	.need_unmap = identity_need_unmap,
	.need_sync = identity_need_sync,
};
