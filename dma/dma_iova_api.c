/* SPDX-License-Identifier: MIT */
/*
 * dma_iova_api.c - the IOVA two-step API's public wrappers (dma.h):
 * argument checks, the counters every backend shares, and the fallback
 * answer for a device without the API. The backend hooks do the work
 * (dma_iommu.c: the only backend with a DMA-translating domain).
 *
 * Kernel functions followed (drivers/iommu/dma-iommu.c, kernel/dma/
 * mapping.c): dma_iova_try_alloc (false unless the device uses dma-iommu;
 * false too when the IOVA allocation fails), dma_iova_free (here
 * dma_iova_range_free), dma_iova_link
 * (iommu_map without sync; swiotlb for an untrusted device's unaligned
 * buffer), dma_iova_sync (iommu_sync_map), dma_iova_unlink (unmap, then
 * iommu_iotlb_sync: never queued), dma_iova_destroy (unlink and free; a
 * flush-queue domain queues the IOVA).
 */
#include <errno.h>
#include <string.h>

#include "dma_pvt.h"

int dma_iova_try_alloc(struct dma *d, struct dma_iova_state *st, size_t size)
{
	memset(st, 0, sizeof(*st));
	if (!size)
		return dma_err(d, -EINVAL, "dma_iova_try_alloc of 0 bytes");
	struct dma_props pr;
	dma_get_props(d, &pr);
	if (pr.direct)
		return dma_err(d, -EOPNOTSUPP, "no IOVA API: the device is on dma-direct (%s)",
			       d->ops == &dma_iommu_ops ? "IOMMU passthrough: identity domain" : "no IOMMU translation");
	if (!d->ops->iova_alloc)
		return dma_err(d, -EOPNOTSUPP, "no IOVA API on backend '%s' (%s)", d->ops->name,
			       d->ops == &dma_vfio_ops ? "VFIO type1 maps from user space, outside the kernel's DMA API"
			       : d->ops == &dma_debug_ops ? "the debug model checks per-buffer mappings only"
			       : "not modelled");
	int r = d->ops->iova_alloc(d, st, (size + DMA_PAGE_MASK) & ~DMA_PAGE_MASK);
	if (r < 0)
		memset(st, 0, sizeof(*st));
	return r;
}

void dma_iova_range_free(struct dma *d, struct dma_iova_state *st)
{
	if (!dma_use_iova(st))
		return;
	d->ops->iova_free(d, st);
	memset(st, 0, sizeof(*st));
}

int dma_iova_link(struct dma *d, struct dma_iova_state *st, void *cpu, size_t offset,
		  size_t len, enum dma_dir dir, uint64_t *dev_addr)
{
	if (!dma_use_iova(st) || !cpu || !len || !dma_dir_valid(dir) || (offset & DMA_PAGE_MASK) ||
	    offset >= st->size || (uintptr_t)cpu + len - 1 < (uintptr_t)cpu)
		return dma_err(d, -EINVAL, "dma_iova_link of %zu bytes at %p, offset %zu, dir %d: need a live range, "
			       "a granule-aligned offset inside it (range %llu bytes) and a valid buffer",
			       len, cpu, offset, (int)dir, (unsigned long long)st->size);
	int r = d->ops->iova_link(d, st, cpu, offset, len, dir, dev_addr);
	if (r < 0)
		dma_ctr_add(d, DMA_C_map_errors, 1);
	return r;
}

int dma_iova_sync(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len)
{
	if (!dma_use_iova(st) || offset + len > st->size)
		return dma_err(d, -EINVAL, "dma_iova_sync of [%zu, +%zu): outside the range (%llu bytes)", offset,
			       len, (unsigned long long)st->size);
	d->ops->iova_sync(d, st, offset, len);
	return 0;
}

void dma_iova_unlink(struct dma *d, struct dma_iova_state *st, size_t offset, size_t len,
		     enum dma_dir dir)
{
	if (!dma_use_iova(st) || !len || (offset & DMA_PAGE_MASK) || offset + len > st->size)
		return;
	d->ops->iova_unlink(d, st, offset, (len + DMA_PAGE_MASK) & ~DMA_PAGE_MASK, dir, false);
}

void dma_iova_destroy(struct dma *d, struct dma_iova_state *st, size_t mapped_len,
		      enum dma_dir dir)
{
	if (!dma_use_iova(st))
		return;
	if (mapped_len && mapped_len <= st->size) {
		/* a flush-queue domain queues the range and its invalidation
		 * for the next global flush; a strict one flushes now */
		d->ops->iova_unlink(d, st, 0, (mapped_len + DMA_PAGE_MASK) & ~DMA_PAGE_MASK, dir, true);
	} else {
		d->ops->iova_free(d, st);
	}
	memset(st, 0, sizeof(*st));
}
